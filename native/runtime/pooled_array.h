#pragma once
#include <cstddef>
#include <cstring>
#include <utility>

#include "buffer_pool.h"

namespace cellscan {

// An array of a backward call (its gradients before they are added into the caller's, an async
// backward's copies) or of a layer's weights. Its block comes from BufferPool, so a training loop
// takes the same pages back call after call: glibc's heap handed these fresh pages often enough
// that their first touches took a third of a backward (docs/PERFORMANCE.md, "Per-call arrays").
template <class T>
class PooledArray {
 public:
  PooledArray() = default;
  PooledArray(const PooledArray&) = delete;
  PooledArray& operator=(const PooledArray&) = delete;
  PooledArray(PooledArray&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), bytes_(std::exchange(o.bytes_, 0)) {}
  PooledArray& operator=(PooledArray&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~PooledArray() { BufferPool::give(data_, bytes_); }

  // Room for n elements, contents unspecified (null for none).
  T* resize(size_t n) {
    if (n * sizeof(T) > bytes_) {
      size_t granted = 0;
      void* block = BufferPool::take(n * sizeof(T), &granted);
      BufferPool::give(data_, bytes_);
      data_ = static_cast<T*>(block);
      bytes_ = granted;
    }
    size_ = n;
    return n ? data_ : nullptr;
  }
  T* assign(const T* src, size_t n) {
    T* p = resize(n);
    if (n) std::memcpy(p, src, n * sizeof(T));
    return p;
  }

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t bytes_ = 0;
};

}  // namespace cellscan
