#pragma once
// Flush-to-zero and denormals-are-zero while cellscan computes. Saturated sigmoid gates produce
// denormals that cost ~100 cycles each on x86; their contribution is far below float32 rounding
// of the results anyway. The caller's thread (Node's main thread or a libuv worker) gets its mode
// back when the scope ends, so JavaScript arithmetic never runs with FTZ on.
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <xmmintrin.h>

namespace cellscan {

constexpr unsigned kFlushDenormals = 0x8040;  // MXCSR FTZ (bit 15) | DAZ (bit 6)

inline void flushDenormalsOnThisThread() { _mm_setcsr(_mm_getcsr() | kFlushDenormals); }

class ScopedFlushDenormals {
 public:
  ScopedFlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushDenormals); }
  ~ScopedFlushDenormals() { _mm_setcsr(saved_); }
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

 private:
  unsigned saved_;
};

}  // namespace cellscan
#else
namespace cellscan {
inline void flushDenormalsOnThisThread() {}
class ScopedFlushDenormals {};
}  // namespace cellscan
#endif
