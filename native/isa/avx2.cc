// Kernels for x86-64 with AVX2 and FMA. This file alone is compiled with -mavx2 -mfma; everything
// in it but avx2Kernels() has internal linkage (see kernel_table.h).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "../gemm/microkernel.h"
#include "kernel_table.h"

namespace cellscan {
namespace {

#include "vec_scalar.inl"
#include "vec_avx2.inl"
#include "vec_math.inl"
#include "cell_kernels.inl"

constexpr int kRows = 6;  // A panel height: 12 accumulators of 16 ymm registers

// Writes a finished kRows x kNr accumulator tile to c: all of it, or the mr x nr valid part.
void storeTile(const __m256 (&acc)[kRows][2], float* c, long ldc, int mr, int nr, bool accumulate) {
  if (nr == kNr) {
    for (int i = 0; i < mr; i++) {
      float* ci = c + i * ldc;
      __m256 lo = acc[i][0], hi = acc[i][1];
      if (accumulate) {
        lo = _mm256_add_ps(lo, _mm256_loadu_ps(ci));
        hi = _mm256_add_ps(hi, _mm256_loadu_ps(ci + 8));
      }
      _mm256_storeu_ps(ci, lo);
      _mm256_storeu_ps(ci + 8, hi);
    }
    return;
  }
  // Edge tile: through a buffer, touching only the mr x nr valid outputs.
  alignas(32) float tmp[kRows][kNr];
  for (int i = 0; i < mr; i++) {
    _mm256_store_ps(tmp[i], acc[i][0]);
    _mm256_store_ps(tmp[i] + 8, acc[i][1]);
  }
  for (int i = 0; i < mr; i++) {
    float* ci = c + i * ldc;
    for (int j = 0; j < nr; j++) ci[j] = accumulate ? ci[j] + tmp[i][j] : tmp[i][j];
  }
}

// c[Rows, nr] (+)= a-panel · b-panel, nr ≤ 16, over 2 x Rows ymm accumulators (12 of the 16
// registers at six rows: per k, two loads of b, six broadcasts of a, twelve FMAs). Each output
// element is summed over k by `Split` interleaved accumulators added at the end; Split = 1 is one
// FMA chain in k order, which is what every tile of a product of 4 rows or more uses, so its
// results never depend on how its rows were cut into tiles or shared among threads.
//
// C is fetched before the K loop: an accumulating tile (the recurrent product onto the input
// projection, later K blocks) would otherwise stall on a cold C row after it.
template <int Rows, int Split>
void tile(int kc, const float* a, const float* b, float* c, long ldc, int nr, bool accumulate) {
#pragma GCC unroll 6
  for (int i = 0; i < Rows; i++) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + kNr - 1), _MM_HINT_T0);
  }
  __m256 acc[Split][Rows][2];
#pragma GCC unroll 4
  for (int s = 0; s < Split; s++) {
#pragma GCC unroll 6
    for (int i = 0; i < Rows; i++) acc[s][i][0] = acc[s][i][1] = _mm256_setzero_ps();
  }
  const int whole = kc - kc % Split;
  for (int k = 0; k < whole; k += Split) {
#pragma GCC unroll 4
    for (int s = 0; s < Split; s++) {
      const float* bk = b + (k + s) * kNr;
      const __m256 b0 = _mm256_load_ps(bk);
      const __m256 b1 = _mm256_load_ps(bk + 8);
#pragma GCC unroll 6
      for (int i = 0; i < Rows; i++) {
        const __m256 ai = _mm256_broadcast_ss(a + (k + s) * kRows + i);
        acc[s][i][0] = _mm256_fmadd_ps(ai, b0, acc[s][i][0]);
        acc[s][i][1] = _mm256_fmadd_ps(ai, b1, acc[s][i][1]);
      }
    }
  }
  for (int k = whole; k < kc; k++) {
    const __m256 b0 = _mm256_load_ps(b + k * kNr);
    const __m256 b1 = _mm256_load_ps(b + k * kNr + 8);
#pragma GCC unroll 6
    for (int i = 0; i < Rows; i++) {
      const __m256 ai = _mm256_broadcast_ss(a + k * kRows + i);
      acc[0][i][0] = _mm256_fmadd_ps(ai, b0, acc[0][i][0]);
      acc[0][i][1] = _mm256_fmadd_ps(ai, b1, acc[0][i][1]);
    }
  }
  __m256 sum[kRows][2];
#pragma GCC unroll 6
  for (int i = 0; i < Rows; i++) {
    for (int h = 0; h < 2; h++) {
      __m256 v = acc[0][i][h];
#pragma GCC unroll 4
      for (int s = 1; s < Split; s++) v = _mm256_add_ps(v, acc[s][i][h]);
      sum[i][h] = v;
    }
  }
  storeTile(sum, c, ldc, Rows, nr, accumulate);
}

// The table's tile entries (see kernel_table.h): one FMA chain per element at any row count, or,
// for products of fewer than 4 rows, each row over k interleaved: 8 independent chains, none wasted
// on padding rows.
void f32_gemm_6x16__avx2_fma(int kc, const float* a, const float* b, float* c, long ldc, int mr, int nr,
                             bool accumulate) {
  switch (mr) {
    case 1: return tile<1, 1>(kc, a, b, c, ldc, nr, accumulate);
    case 2: return tile<2, 1>(kc, a, b, c, ldc, nr, accumulate);
    case 3: return tile<3, 1>(kc, a, b, c, ldc, nr, accumulate);
    case 4: return tile<4, 1>(kc, a, b, c, ldc, nr, accumulate);
    case 5: return tile<5, 1>(kc, a, b, c, ldc, nr, accumulate);
    default: return tile<6, 1>(kc, a, b, c, ldc, nr, accumulate);
  }
}
void f32_gemm_3x16_splitk__avx2_fma(int kc, const float* a, const float* b, float* c, long ldc, int mr, int nr,
                                    bool accumulate) {
  switch (mr) {
    case 1: return tile<1, 4>(kc, a, b, c, ldc, nr, accumulate);
    case 2: return tile<2, 2>(kc, a, b, c, ldc, nr, accumulate);
    default: return tile<3, 2>(kc, a, b, c, ldc, nr, accumulate);
  }
}

// See CpuKernels::gemv: a panel row is two ymm registers, so four k-interleaved accumulator pairs
// make the eight independent FMA chains; the prefetch runs 1 KiB ahead in the stream.
void f32_gemv_16__avx2_fma(int kc, const float* a, const float* b, float* y, int n, bool accumulate) {
  constexpr int kSplit = 4;
  constexpr int kAhead = 16 * kNr;
  const int whole = kc - kc % kSplit;
  for (int j = 0; j < n; j += kNr, b += static_cast<long>(kc) * kNr) {
    __m256 acc[kSplit][2];
    for (int s = 0; s < kSplit; s++) acc[s][0] = acc[s][1] = _mm256_setzero_ps();
    for (int k = 0; k < whole; k += kSplit) {
      for (int s = 0; s < kSplit; s++) {
        const float* row = b + (k + s) * kNr;
        _mm_prefetch(reinterpret_cast<const char*>(row + kAhead), _MM_HINT_T0);
        const __m256 ak = _mm256_broadcast_ss(a + k + s);
        acc[s][0] = _mm256_fmadd_ps(ak, _mm256_load_ps(row), acc[s][0]);
        acc[s][1] = _mm256_fmadd_ps(ak, _mm256_load_ps(row + 8), acc[s][1]);
      }
    }
    for (int k = whole; k < kc; k++) {
      const __m256 ak = _mm256_broadcast_ss(a + k);
      acc[0][0] = _mm256_fmadd_ps(ak, _mm256_load_ps(b + k * kNr), acc[0][0]);
      acc[0][1] = _mm256_fmadd_ps(ak, _mm256_load_ps(b + k * kNr + 8), acc[0][1]);
    }
    __m256 sum[kRows][2];
    for (int h = 0; h < 2; h++) {
      sum[0][h] = _mm256_add_ps(_mm256_add_ps(acc[0][h], acc[1][h]), _mm256_add_ps(acc[2][h], acc[3][h]));
    }
    storeTile(sum, y + j, 0, 1, n - j < kNr ? n - j : kNr, accumulate);
  }
}

}  // namespace

const CpuKernels& avx2Kernels() {
  static const CpuKernels kernels =
      makeKernels<VecAvx2>("avx2_fma", f32_gemm_6x16__avx2_fma, f32_gemm_3x16_splitk__avx2_fma, f32_gemv_16__avx2_fma, kRows, 1, 256);
  return kernels;
}

}  // namespace cellscan
