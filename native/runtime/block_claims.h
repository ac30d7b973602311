#pragma once
#include <atomic>
#include <cstdint>

#include "thread_pool.h"

namespace cellscan {

// Hands out the blocks of one phase of a time step (the hidden-unit blocks of a cell update) to
// the workers meeting at its barrier. Each worker owns a contiguous range, the same every step so
// that its weights stay in its own L2, and takes it front to back; a worker done with its own
// takes the last untaken block of another. A core slowed for a while by the machine (another
// tenant, an interrupt) then costs the step a block or two instead of making every other worker
// wait at the barrier. Which worker computes a block never changes what it computes, so results
// stay bitwise the same for any thread count.
//
// Claims of phase p live in parity p & 1. An owner refills its range for phase p + 1 when it has
// nothing left to claim in phase p: no one can claim from that parity then, because the barrier
// closing phase p - 1 is behind every worker and the one closing phase p ahead of all of them.
class BlockClaims {
 public:
  static constexpr int kMaxWorkers = 64;

  // Worker w owns a contiguous range of the blocks.
  BlockClaims(int workers, int blocks) : workers_(workers), blocks_(blocks) {
    for (int w = 0; w < workers_; w++) slots_[0][w].range.store(pack(owned(w)), std::memory_order_relaxed);
  }

  // Runs body(block) for every block worker w claims in phase p, its own first, then returns.
  // Odd phases walk the owned range backwards: the blocks a worker finished with are the ones it
  // starts the next phase on, while some of their weights are still in its L2 (a range of weights
  // larger than L2 read in the same order every step misses on every line).
  template <class Body>
  void forEach(int w, int p, Body&& body) {
    Slot* slots = slots_[p & 1];
    const bool backwards = p & 1;
    for (int b; (b = backwards ? takeBack(slots[w]) : takeFront(slots[w])) >= 0;) body(b);
    for (int i = 1; i < workers_; i++) {
      Slot& victim = slots[(w + i) % workers_];
      for (int b; (b = backwards ? takeFront(victim) : takeBack(victim)) >= 0;) body(b);
    }
    slots_[(p + 1) & 1][w].range.store(pack(owned(w)), std::memory_order_relaxed);
  }

 private:
  struct alignas(64) Slot {
    std::atomic<uint64_t> range{0};  // untaken blocks [front, back): front in the high half
  };

  Range owned(int w) const { return blockRange(w, workers_, blocks_, 1); }
  static uint64_t pack(Range r) { return static_cast<uint64_t>(r.begin) << 32 | static_cast<uint32_t>(r.end); }

  static int takeFront(Slot& s) {
    uint64_t v = s.range.load(std::memory_order_relaxed);
    for (;;) {
      const int front = static_cast<int>(v >> 32), back = static_cast<int>(v & 0xffffffffu);
      if (front >= back) return -1;
      if (s.range.compare_exchange_weak(v, pack({front + 1, back}), std::memory_order_relaxed)) return front;
    }
  }
  static int takeBack(Slot& s) {
    uint64_t v = s.range.load(std::memory_order_relaxed);
    for (;;) {
      const int front = static_cast<int>(v >> 32), back = static_cast<int>(v & 0xffffffffu);
      if (front >= back) return -1;
      if (s.range.compare_exchange_weak(v, pack({front, back - 1}), std::memory_order_relaxed)) return back - 1;
    }
  }

  int workers_;
  int blocks_;
  Slot slots_[2][kMaxWorkers];
};

}  // namespace cellscan
