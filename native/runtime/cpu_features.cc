#include "cpu_features.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define CELLSCAN_X86 1
#include <cpuid.h>
#endif

namespace cellscan {
namespace {

#ifdef CELLSCAN_X86
// xgetbv without requiring -mxsave on the compile line.
unsigned long long readXcr0() {
  unsigned int eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#ifdef CELLSCAN_X86
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  f.sse2 = (edx >> 26) & 1;
  const bool osxsave = (ecx >> 27) & 1;
  const bool cpuAvx = (ecx >> 28) & 1;
  const bool cpuFma = (ecx >> 12) & 1;
  const unsigned long long xcr0 = osxsave ? readXcr0() : 0;
  const bool osYmm = (xcr0 & 0x6) == 0x6;      // SSE and AVX state saved on context switch
  const bool osZmm = (xcr0 & 0xe6) == 0xe6;    // plus opmask and upper ZMM state
  f.avx = cpuAvx && osYmm;
  f.fma = cpuFma && osYmm;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
    f.avx2 = ((ebx >> 5) & 1) && osYmm;
    f.avx512f = ((ebx >> 16) & 1) && osZmm;
  }
#elif defined(__aarch64__)
  f.neon = true;
#endif
  return f;
}

}  // namespace

const CpuFeatures& cpuFeatures() {
  static const CpuFeatures features = detect();
  return features;
}

std::vector<std::string> cpuFeatureNames() {
  const CpuFeatures& f = cpuFeatures();
  std::vector<std::string> names;
  if (f.sse2) names.push_back("sse2");
  if (f.avx) names.push_back("avx");
  if (f.avx2) names.push_back("avx2");
  if (f.fma) names.push_back("fma");
  if (f.avx512f) names.push_back("avx512f");
  if (f.neon) names.push_back("neon");
  return names;
}

}  // namespace cellscan
