#pragma once
#include <string>
#include <vector>

namespace cellscan {

// What the CPU and OS together allow (AVX state must be enabled by the OS, not just the CPU).
struct CpuFeatures {
  bool sse2 = false;
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool neon = false;
};

const CpuFeatures& cpuFeatures();
std::vector<std::string> cpuFeatureNames();

}  // namespace cellscan
