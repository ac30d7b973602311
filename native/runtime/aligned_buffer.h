#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace cellscan {

// A float buffer aligned to a cache line, so vector loads never split lines. Grows, never shrinks;
// contents are not preserved across grow().
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) { grow(n); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  ~AlignedBuffer() { std::free(data_); }

  // Ensures room for n floats; returns the data pointer.
  float* grow(size_t n) {
    if (n <= size_) return data_;
    const size_t bytes = ((n * sizeof(float) + kAlign - 1) / kAlign) * kAlign;
    void* p = std::aligned_alloc(kAlign, bytes);
    if (p == nullptr) throw std::bad_alloc();
    std::free(data_);
    data_ = static_cast<float*>(p);
    size_ = n;
    return data_;
  }
  void zero() {
    if (size_) std::memset(data_, 0, size_ * sizeof(float));
  }

  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  static constexpr size_t kAlign = 64;
  float* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace cellscan
