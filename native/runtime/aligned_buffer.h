#pragma once
#include <cstddef>
#include <cstring>

#include "buffer_pool.h"

namespace cellscan {

// A float buffer aligned to a cache line, so vector loads never split lines. Grows, never shrinks;
// contents are not preserved across grow(). Large blocks come from and return to BufferPool.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) { grow(n); }

  // Ensures room for n floats; returns the data pointer.
  float* grow(size_t n) { return static_cast<float*>(block_.reserve(n * sizeof(float))); }
  void zero() {
    if (size()) std::memset(data(), 0, size() * sizeof(float));
  }

  float* data() { return static_cast<float*>(block_.data()); }
  const float* data() const { return static_cast<const float*>(block_.data()); }
  // Capacity in floats (at least what grow() asked for).
  size_t size() const { return block_.bytes() / sizeof(float); }

 private:
  PoolBlock block_;
};

}  // namespace cellscan
