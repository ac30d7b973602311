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

// Few rows (batch 1 or 2, the streaming case): the full tile would spend most FMAs on padding and
// leave each accumulator one dependent FMA per k. Instead every row gets `Split` accumulator pairs
// over interleaved k, summed at the end: 8 independent FMA chains, none wasted.
template <int Rows, int Split>
void gemmTileFewRows(int kc, const float* a, const float* b, float* c, long ldc, int nr, bool accumulate) {
  __m256 acc[Split][Rows][2];
  for (int s = 0; s < Split; s++) {
    for (int i = 0; i < Rows; i++) acc[s][i][0] = acc[s][i][1] = _mm256_setzero_ps();
  }
  int k = 0;
  for (; k + Split <= kc; k += Split) {
    for (int s = 0; s < Split; s++) {
      const float* bk = b + (k + s) * kNr;
      const __m256 b0 = _mm256_load_ps(bk);
      const __m256 b1 = _mm256_load_ps(bk + 8);
      for (int i = 0; i < Rows; i++) {
        const __m256 ai = _mm256_broadcast_ss(a + (k + s) * kRows + i);
        acc[s][i][0] = _mm256_fmadd_ps(ai, b0, acc[s][i][0]);
        acc[s][i][1] = _mm256_fmadd_ps(ai, b1, acc[s][i][1]);
      }
    }
  }
  for (; k < kc; k++) {
    const __m256 b0 = _mm256_load_ps(b + k * kNr);
    const __m256 b1 = _mm256_load_ps(b + k * kNr + 8);
    for (int i = 0; i < Rows; i++) {
      const __m256 ai = _mm256_broadcast_ss(a + k * kRows + i);
      acc[0][i][0] = _mm256_fmadd_ps(ai, b0, acc[0][i][0]);
      acc[0][i][1] = _mm256_fmadd_ps(ai, b1, acc[0][i][1]);
    }
  }
  __m256 sum[kRows][2];
  for (int i = 0; i < Rows; i++) {
    for (int h = 0; h < 2; h++) {
      __m256 v = acc[0][i][h];
      for (int s = 1; s < Split; s++) v = _mm256_add_ps(v, acc[s][i][h]);
      sum[i][h] = v;
    }
  }
  storeTile(sum, c, ldc, Rows, nr, accumulate);
}

// c[mr, nr] (+)= a-panel · b-panel with 6 x 16 accumulators in 12 ymm registers: per k, two loads
// of b, six broadcasts of a, twelve FMAs. See gemm/microkernel.h for the panel layout.
void gemmTile6x16Avx2(int kc, const float* a, const float* b, float* c, long ldc, int mr, int nr, bool accumulate) {
  for (int i = 0; i < mr; i++) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + kNr - 1), _MM_HINT_T0);
  }
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
    __m256 ai = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(ai, b0, c00);
    c01 = _mm256_fmadd_ps(ai, b1, c01);
    ai = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ai, b0, c10);
    c11 = _mm256_fmadd_ps(ai, b1, c11);
    ai = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ai, b0, c20);
    c21 = _mm256_fmadd_ps(ai, b1, c21);
    ai = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ai, b0, c30);
    c31 = _mm256_fmadd_ps(ai, b1, c31);
    ai = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(ai, b0, c40);
    c41 = _mm256_fmadd_ps(ai, b1, c41);
    ai = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(ai, b0, c50);
    c51 = _mm256_fmadd_ps(ai, b1, c51);
    a += kRows;
    b += kNr;
  }
  const __m256 acc[kRows][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  storeTile(acc, c, ldc, mr, nr, accumulate);
}

// The table's tile entry: the row count picks the kernel, so a given output element is always
// summed the same way whatever the thread count.
void gemmTileAvx2(int kc, const float* a, const float* b, float* c, long ldc, int mr, int nr, bool accumulate) {
  switch (mr) {
    case 1: return gemmTileFewRows<1, 4>(kc, a, b, c, ldc, nr, accumulate);
    case 2: return gemmTileFewRows<2, 2>(kc, a, b, c, ldc, nr, accumulate);
    case 3: return gemmTileFewRows<3, 2>(kc, a, b, c, ldc, nr, accumulate);
    default: return gemmTile6x16Avx2(kc, a, b, c, ldc, mr, nr, accumulate);
  }
}

// See CpuKernels::gemv: a panel row is two ymm registers, so four k-interleaved accumulator pairs
// make the eight independent FMA chains; the prefetch runs 1 KiB ahead in the stream.
void gemvAvx2(int kc, const float* a, const float* b, float* y, int n, bool accumulate) {
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
  static const CpuKernels kernels = makeKernels<VecAvx2>("avx2_fma", gemmTileAvx2, gemvAvx2, kRows, 1, 256);
  return kernels;
}

}  // namespace cellscan
