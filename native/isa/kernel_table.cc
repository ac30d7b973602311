#include "kernel_table.h"

#include "../runtime/cpu_features.h"

namespace cellscan {

const CpuKernels& cpuKernels() {
  static const CpuKernels& chosen = [] () -> const CpuKernels& {
#if defined(CELLSCAN_HAVE_AVX2)
    const CpuFeatures& f = cpuFeatures();
    if (f.avx2 && f.fma) return avx2Kernels();
#endif
    return portableKernels();
  }();
  return chosen;
}

}  // namespace cellscan
