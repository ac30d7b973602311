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

// c[mr, nr] (+)= a-panel · b-panel with 6 x 16 accumulators in 12 ymm registers: per k, two loads
// of b, six broadcasts of a, twelve FMAs. See gemm/microkernel.h for the panel layout.
void gemmTile6x16Avx2(int kc, const float* a, const float* b, float* c, long ldc, int mr, int nr, bool accumulate) {
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
    a += kMr;
    b += kNr;
  }
  const __m256 acc[kMr][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
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
  alignas(32) float tmp[kMr][kNr];
  for (int i = 0; i < kMr; i++) {
    _mm256_store_ps(tmp[i], acc[i][0]);
    _mm256_store_ps(tmp[i] + 8, acc[i][1]);
  }
  for (int i = 0; i < mr; i++) {
    float* ci = c + i * ldc;
    for (int j = 0; j < nr; j++) ci[j] = accumulate ? ci[j] + tmp[i][j] : tmp[i][j];
  }
}

}  // namespace

const CpuKernels& avx2Kernels() {
  static const CpuKernels kernels = makeKernels<VecAvx2>("avx2_fma", gemmTile6x16Avx2);
  return kernels;
}

}  // namespace cellscan
