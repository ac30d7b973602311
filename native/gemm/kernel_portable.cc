#include "microkernel.h"

namespace cellscan {

// Plain loops the compiler turns into whatever vectors the baseline ISA has; the fallback for CPUs
// without AVX2+FMA and the reference the ISA-specific kernels are tested against.
void gemmTile6x16Portable(int kc, const float* a, const float* b, float* c, long ldc, int mr, int nr,
                          bool accumulate) {
  float acc[kMr][kNr] = {};
  for (int k = 0; k < kc; k++) {
    const float* ak = a + k * kMr;
    const float* bk = b + k * kNr;
    for (int i = 0; i < kMr; i++) {
      const float ai = ak[i];
      for (int j = 0; j < kNr; j++) acc[i][j] += ai * bk[j];
    }
  }
  for (int i = 0; i < mr; i++) {
    float* ci = c + i * ldc;
    if (accumulate) {
      for (int j = 0; j < nr; j++) ci[j] += acc[i][j];
    } else {
      for (int j = 0; j < nr; j++) ci[j] = acc[i][j];
    }
  }
}

const GemmKernel& gemmKernel() {
  static const GemmKernel portable{"f32_gemm_6x16__portable", gemmTile6x16Portable};
  return portable;
}

}  // namespace cellscan
