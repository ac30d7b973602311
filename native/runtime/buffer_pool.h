#pragma once
#include <cstddef>
#include <utility>

namespace cellscan {

// Large buffers go back here instead of to the OS when freed, and the next request of a similar
// size takes them. A training loop allocates the same workspaces every step; fresh mappings would
// cost a page fault per 4 KiB touched, a large share of a training step (docs/PERFORMANCE.md).
//
// Thread-safe. Blocks are 64-byte aligned. The pool keeps at most kMaxRetainedBytes; beyond that,
// freed blocks go back to the OS.
class BufferPool {
 public:
  static constexpr size_t kMinPooledBytes = 256 * 1024;
  static constexpr size_t kMaxRetainedBytes = size_t(1) << 30;

  // A block of at least `bytes`; *granted receives its real size (what give() must be told).
  static void* take(size_t bytes, size_t* granted);
  static void give(void* block, size_t bytes);
};

// One block taken from the pool and given back when its owner goes: moves, never copies.
class PoolBlock {
 public:
  PoolBlock() = default;
  PoolBlock(const PoolBlock&) = delete;
  PoolBlock& operator=(const PoolBlock&) = delete;
  PoolBlock(PoolBlock&& o) noexcept : data_(std::exchange(o.data_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  PoolBlock& operator=(PoolBlock&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~PoolBlock() { BufferPool::give(data_, bytes_); }

  // Room for at least `bytes`; a larger block replaces this one without its contents.
  void* reserve(size_t bytes) {
    if (bytes > bytes_) {
      size_t granted = 0;
      void* block = BufferPool::take(bytes, &granted);
      BufferPool::give(data_, bytes_);
      data_ = block;
      bytes_ = granted;
    }
    return data_;
  }
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace cellscan
