// Kernels for any CPU: plain loops the compiler vectorizes with whatever the baseline ISA has.
#include <cstdint>
#include <cstring>

#include "../gemm/microkernel.h"
#include "kernel_table.h"

namespace cellscan {
namespace {

#include "vec_scalar.inl"
#include "vec_math.inl"
#include "cell_kernels.inl"

constexpr int kRows = 6;

// c[mr, nr] (+)= a-panel · b-panel; see gemm/microkernel.h. One chain per element at any row
// count, so it is also the table's few-rows tile.
void f32_gemm_6x16__portable(int kc, const float* a, const float* b, float* c, long ldc, int mr, int nr,
                          bool accumulate) {
  float acc[kRows][kNr] = {};
  for (int k = 0; k < kc; k++) {
    const float* ak = a + k * kRows;
    const float* bk = b + k * kNr;
    for (int i = 0; i < kRows; i++) {
      const float ai = ak[i];
      for (int j = 0; j < kNr; j++) acc[i][j] += ai * bk[j];
    }
  }
  for (int i = 0; i < mr; i++) {
    float* ci = c + i * ldc;
    for (int j = 0; j < nr; j++) ci[j] = accumulate ? ci[j] + acc[i][j] : acc[i][j];
  }
}

// See CpuKernels::gemv; one accumulator row per panel, in k order.
void f32_gemv_16__portable(int kc, const float* a, const float* b, float* y, int n, bool accumulate) {
  for (int j = 0; j < n; j += kNr, b += static_cast<long>(kc) * kNr) {
    float acc[kNr] = {};
    for (int k = 0; k < kc; k++) {
      for (int l = 0; l < kNr; l++) acc[l] += a[k] * b[k * kNr + l];
    }
    const int valid = n - j < kNr ? n - j : kNr;
    for (int l = 0; l < valid; l++) y[j + l] = accumulate ? y[j + l] + acc[l] : acc[l];
  }
}

}  // namespace

const CpuKernels& portableKernels() {
  static const CpuKernels kernels =
      makeKernels<VecScalar>("portable", f32_gemm_6x16__portable, f32_gemm_6x16__portable, f32_gemv_16__portable, kRows, 1, 256);
  return kernels;
}

}  // namespace cellscan
