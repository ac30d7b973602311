#pragma once
#include <cstddef>
#include <cstring>
#include <utility>

#include "buffer_pool.h"

namespace cellscan {

// A float buffer aligned to a cache line, so vector loads never split lines. Grows, never shrinks;
// contents are not preserved across grow(). Large blocks come from and return to BufferPool.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) { grow(n); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), bytes_(std::exchange(o.bytes_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~AlignedBuffer() { BufferPool::give(data_, bytes_); }

  // Ensures room for n floats; returns the data pointer.
  float* grow(size_t n) {
    if (n <= size_) return data_;
    size_t granted = 0;
    void* p = BufferPool::take(n * sizeof(float), &granted);
    BufferPool::give(data_, bytes_);
    data_ = static_cast<float*>(p);
    bytes_ = granted;
    size_ = granted / sizeof(float);
    return data_;
  }
  void zero() {
    if (size_) std::memset(data_, 0, size_ * sizeof(float));
  }

  float* data() { return data_; }
  const float* data() const { return data_; }
  // Capacity in floats (at least what grow() asked for).
  size_t size() const { return size_; }

 private:
  float* data_ = nullptr;
  size_t size_ = 0;
  size_t bytes_ = 0;
};

}  // namespace cellscan
