#include "kernel_table.h"

#include <cstdlib>
#include <cstring>

#include "../runtime/cpu_features.h"

namespace cellscan {

// The best table this CPU runs; CELLSCAN_KERNELS=portable|avx2_fma|avx512f picks a lower one (to
// test or measure every table on one machine), never one the CPU lacks.
const CpuKernels& cpuKernels() {
  static const CpuKernels& chosen = []() -> const CpuKernels& {
    // The highest level allowed: 2 = avx512f, 1 = avx2_fma, 0 = portable.
    int cap = 2;
    if (const char* wanted = std::getenv("CELLSCAN_KERNELS")) {
      if (std::strcmp(wanted, "portable") == 0) cap = 0;
      if (std::strcmp(wanted, "avx2_fma") == 0) cap = 1;
    }
#if defined(CELLSCAN_HAVE_AVX2)
    const CpuFeatures& f = cpuFeatures();
    if (cap >= 2 && f.avx512f) return avx512Kernels();
    if (cap >= 1 && f.avx2 && f.fma) return avx2Kernels();
#endif
    return portableKernels();
  }();
  return chosen;
}

}  // namespace cellscan
