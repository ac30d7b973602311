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
  PooledArray(PooledArray&& o) noexcept : block_(std::move(o.block_)), size_(std::exchange(o.size_, 0)) {}
  PooledArray& operator=(PooledArray&& o) noexcept {
    block_ = std::move(o.block_);
    std::swap(size_, o.size_);
    return *this;
  }

  // Room for n elements, contents unspecified (null for none).
  T* resize(size_t n) {
    size_ = n;
    return n ? static_cast<T*>(block_.reserve(n * sizeof(T))) : nullptr;
  }
  T* assign(const T* src, size_t n) {
    T* p = resize(n);
    if (n) std::memcpy(p, src, n * sizeof(T));
    return p;
  }

  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  T* data() { return static_cast<T*>(block_.data()); }
  const T* data() const { return static_cast<const T*>(block_.data()); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  PoolBlock block_;
  size_t size_ = 0;
};

}  // namespace cellscan
