#include "malloc_tuning.h"

#include <cstdlib>  // defines __GLIBC__ where the C library is glibc
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace cellscan {

void tuneMallocForLargeBuffers() {
  static std::once_flag once;
  std::call_once(once, [] {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
  });
}

}  // namespace cellscan
