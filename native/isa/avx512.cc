// Kernels for x86-64 with AVX-512F. This file alone is compiled with -mavx512f; everything in it
// but avx512Kernels() has internal linkage (see kernel_table.h).
//
// A zmm register holds one packed panel row (kNr = 16 floats), so the GEMM tile spans two adjacent
// panels: up to 12 rows x 32 columns in 24 zmm accumulators, over the B panel layout every ISA
// shares. Twelve rows (not six) halve how often a B panel is loaded per FLOP: recurrent weights too
// big for L2 stream from L3 once per step, and a batch of 16 takes two tiles instead of three.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "../gemm/microkernel.h"
#include "kernel_table.h"

namespace cellscan {
namespace {

#include "vec_scalar.inl"
#include "vec_avx512.inl"
#include "vec_math.inl"
#include "cell_kernels.inl"

constexpr int kRows = 12;  // A panel height: 24 accumulators + 2 B rows + a broadcast in 32 zmm
// K block. A 12 x 32 tile does 24 FMAs per 128 bytes of B, so its two B panels can stream from L2
// (1024 x 32 floats, 128 KiB) rather than sit in L1; a long K block means one pass over C where
// K ≤ 1024 (docs/PERFORMANCE.md compares block lengths).
constexpr int kKc = 1024;

// Columns [p * 16, p * 16 + count) of one row of c: all 16 directly, fewer through a lane mask
// (masked lanes are neither read nor written).
inline void storeRow(float* c, __m512 v, int count, bool accumulate) {
  if (count >= kNr) {
    if (accumulate) v = _mm512_add_ps(v, _mm512_loadu_ps(c));
    _mm512_storeu_ps(c, v);
  } else if (count > 0) {
    const __mmask16 m = static_cast<__mmask16>((1u << count) - 1);
    if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, c));
    _mm512_mask_storeu_ps(c, m, v);
  }
}

// c[Rows, nr] (+)= a-panel · (Panels adjacent b-panels), nr ≤ Panels · 16. Each output element is
// summed over k by `Split` interleaved accumulators added at the end (Split = 1: one FMA chain in k
// order, what every tile of a product of 4 rows or more uses); products of 1-3 rows get Split > 1
// so that at least 8 independent chains keep both FMA pipes busy. The sum order never depends on
// Panels, so a column gives the same bits whether a tile took it alone or with its neighbour.

template <int Rows, int Split, int Panels>
void tile(int kc, const float* a, const float* b, float* c, long ldc, int nr, bool accumulate) {
  __m512 acc[Split][Rows][Panels];
#pragma GCC unroll 8
  for (int s = 0; s < Split; s++) {
#pragma GCC unroll 12
    for (int i = 0; i < Rows; i++) {
#pragma GCC unroll 2
      for (int p = 0; p < Panels; p++) acc[s][i][p] = _mm512_setzero_ps();
    }
  }
  // Accumulating tiles (the recurrent product onto the precomputed input projection, later K
  // blocks) read c only after the K loop; a cold c row there stalls on memory latency. Fetching
  // it now hides that behind the loop.
  if (accumulate) {
#pragma GCC unroll 12
    for (int i = 0; i < Rows; i++) {
#pragma GCC unroll 2
      for (int p = 0; p < Panels; p++) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + p * kNr), _MM_HINT_T0);
    }
  }
  const long panelStride = static_cast<long>(kc) * kNr;
  const int whole = kc - kc % Split;
  for (int k = 0; k < whole; k += Split) {
#pragma GCC unroll 8
    for (int s = 0; s < Split; s++) {
      __m512 bk[Panels];
#pragma GCC unroll 2
      for (int p = 0; p < Panels; p++) bk[p] = _mm512_load_ps(b + p * panelStride + (k + s) * kNr);
#pragma GCC unroll 12
      for (int i = 0; i < Rows; i++) {
        const __m512 ai = _mm512_set1_ps(a[(k + s) * kRows + i]);
#pragma GCC unroll 2
        for (int p = 0; p < Panels; p++) acc[s][i][p] = _mm512_fmadd_ps(ai, bk[p], acc[s][i][p]);
      }
    }
  }
  for (int k = whole; k < kc; k++) {
    __m512 bk[Panels];
#pragma GCC unroll 2
    for (int p = 0; p < Panels; p++) bk[p] = _mm512_load_ps(b + p * panelStride + k * kNr);
#pragma GCC unroll 12
    for (int i = 0; i < Rows; i++) {
      const __m512 ai = _mm512_set1_ps(a[k * kRows + i]);
#pragma GCC unroll 2
      for (int p = 0; p < Panels; p++) acc[0][i][p] = _mm512_fmadd_ps(ai, bk[p], acc[0][i][p]);
    }
  }
#pragma GCC unroll 12
  for (int i = 0; i < Rows; i++) {
#pragma GCC unroll 2
    for (int p = 0; p < Panels; p++) {
      __m512 v = acc[0][i][p];
#pragma GCC unroll 8
      for (int s = 1; s < Split; s++) v = _mm512_add_ps(v, acc[s][i][p]);
      storeRow(c + i * ldc + p * kNr, v, nr - p * kNr, accumulate);
    }
  }
}

template <int Panels>
void tileRows(int kc, const float* a, const float* b, float* c, long ldc, int mr, int nr, bool accumulate) {
  switch (mr) {
    case 1: return tile<1, 1, Panels>(kc, a, b, c, ldc, nr, accumulate);
    case 2: return tile<2, 1, Panels>(kc, a, b, c, ldc, nr, accumulate);
    case 3: return tile<3, 1, Panels>(kc, a, b, c, ldc, nr, accumulate);
    case 4: return tile<4, 1, Panels>(kc, a, b, c, ldc, nr, accumulate);
    case 5: return tile<5, 1, Panels>(kc, a, b, c, ldc, nr, accumulate);
    case 6: return tile<6, 1, Panels>(kc, a, b, c, ldc, nr, accumulate);
    case 7: return tile<7, 1, Panels>(kc, a, b, c, ldc, nr, accumulate);
    case 8: return tile<8, 1, Panels>(kc, a, b, c, ldc, nr, accumulate);
    case 9: return tile<9, 1, Panels>(kc, a, b, c, ldc, nr, accumulate);
    case 10: return tile<10, 1, Panels>(kc, a, b, c, ldc, nr, accumulate);
    case 11: return tile<11, 1, Panels>(kc, a, b, c, ldc, nr, accumulate);
    default: return tile<12, 1, Panels>(kc, a, b, c, ldc, nr, accumulate);
  }
}

template <int Panels>
void fewRows(int kc, const float* a, const float* b, float* c, long ldc, int mr, int nr, bool accumulate) {
  switch (mr) {
    case 1: return tile<1, 4, Panels>(kc, a, b, c, ldc, nr, accumulate);
    case 2: return tile<2, 2, Panels>(kc, a, b, c, ldc, nr, accumulate);
    default: return tile<3, 2, Panels>(kc, a, b, c, ldc, nr, accumulate);
  }
}

// The table's tile entries (kernel_table.h): up to two panels (nr ≤ 32); the second is read only
// when nr > 16.
void f32_gemm_12x32__avx512f(int kc, const float* a, const float* b, float* c, long ldc, int mr, int nr, bool accumulate) {
  if (nr > kNr) {
    tileRows<2>(kc, a, b, c, ldc, mr, nr, accumulate);
  } else {
    tileRows<1>(kc, a, b, c, ldc, mr, nr, accumulate);
  }
}
void f32_gemm_3x32_splitk__avx512f(int kc, const float* a, const float* b, float* c, long ldc, int mr, int nr,
                                   bool accumulate) {
  if (nr > kNr) {
    fewRows<2>(kc, a, b, c, ldc, mr, nr, accumulate);
  } else {
    fewRows<1>(kc, a, b, c, ldc, mr, nr, accumulate);
  }
}

// See CpuKernels::gemv. Four panels at a time, each summed by two accumulators over alternate k:
// eight independent FMA chains for any kc (a small layer's kc = 32 left one panel's eight chains of
// four FMAs mostly waiting on their own sums). No software prefetch there: four sequential streams
// are the hardware prefetcher's job, and two prefetches per panel and k pair made the loop
// load-bound. Fewer than four panels left: one at a time, eight accumulators over k mod 8, the
// prefetch 16 panel rows ahead.
void f32_gemv_64__avx512f(int kc, const float* a, const float* b, float* y, int n, bool accumulate) {
  constexpr int kPanels = 4;
  constexpr int kAhead = 16 * kNr;
  const long panel = static_cast<long>(kc) * kNr;
  int j = 0;
  for (; n - j > (kPanels - 1) * kNr; j += kPanels * kNr, b += kPanels * panel) {
    __m512 acc[kPanels][2];
#pragma GCC unroll 4
    for (int p = 0; p < kPanels; p++) acc[p][0] = acc[p][1] = _mm512_setzero_ps();
    int k = 0;
    for (; k + 1 < kc; k += 2) {
      const __m512 a0 = _mm512_set1_ps(a[k]);
      const __m512 a1 = _mm512_set1_ps(a[k + 1]);
#pragma GCC unroll 4
      for (int p = 0; p < kPanels; p++) {
        const float* row = b + p * panel + static_cast<long>(k) * kNr;
        acc[p][0] = _mm512_fmadd_ps(a0, _mm512_load_ps(row), acc[p][0]);
        acc[p][1] = _mm512_fmadd_ps(a1, _mm512_load_ps(row + kNr), acc[p][1]);
      }
    }
    if (k < kc) {
      const __m512 a0 = _mm512_set1_ps(a[k]);
      for (int p = 0; p < kPanels; p++) {
        acc[p][0] = _mm512_fmadd_ps(a0, _mm512_load_ps(b + p * panel + static_cast<long>(k) * kNr), acc[p][0]);
      }
    }
    for (int p = 0; p < kPanels; p++) storeRow(y + j + p * kNr, _mm512_add_ps(acc[p][0], acc[p][1]), n - j - p * kNr, accumulate);
  }
  constexpr int kSplit = 8;
  const int whole = kc - kc % kSplit;
  for (; j < n; j += kNr, b += panel) {
    __m512 acc[kSplit];
#pragma GCC unroll 8
    for (int s = 0; s < kSplit; s++) acc[s] = _mm512_setzero_ps();
    for (int k = 0; k < whole; k += kSplit) {
#pragma GCC unroll 8
      for (int s = 0; s < kSplit; s++) {
        const float* row = b + (k + s) * kNr;
        _mm_prefetch(reinterpret_cast<const char*>(row + kAhead), _MM_HINT_T0);
        acc[s] = _mm512_fmadd_ps(_mm512_set1_ps(a[k + s]), _mm512_load_ps(row), acc[s]);
      }
    }
    for (int k = whole; k < kc; k++) acc[0] = _mm512_fmadd_ps(_mm512_set1_ps(a[k]), _mm512_load_ps(b + k * kNr), acc[0]);
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])),
                                     _mm512_add_ps(_mm512_add_ps(acc[4], acc[5]), _mm512_add_ps(acc[6], acc[7])));
    storeRow(y + j, sum, n - j, accumulate);
  }
}

}  // namespace

const CpuKernels& avx512Kernels() {
  static const CpuKernels kernels =
      makeKernels<VecAvx512>("avx512f", f32_gemm_12x32__avx512f, f32_gemm_3x32_splitk__avx512f, f32_gemv_64__avx512f, kRows, 2, kKc);
  return kernels;
}

}  // namespace cellscan
