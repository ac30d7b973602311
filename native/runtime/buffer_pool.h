#pragma once
#include <cstddef>

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

}  // namespace cellscan
