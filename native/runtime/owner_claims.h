#pragma once
#include <atomic>
#include <cstdint>

#include "thread_pool.h"

namespace cellscan {

// Hands out the blocks of batch-split time loops (cells/sequence_ops.h, BatchSplit). Each worker
// owns some batch rows and runs them through every phase (a time step, or a part of one) with no
// barrier: a phase's blocks (hidden units) are claimed front to back by their owner. A worker
// done with its own phase takes the last untaken block of an owner that has fallen behind it (or
// of anyone, once it has no phases left), and the owner enters its next phase only when every
// block of the current one is finished, by whomever. A core slowed by the machine then hands
// blocks to the others instead of holding up the end of the loop. Owners at the same phase never
// take from each other: the taker would make the owner wait for a block it just started.
//
// Which worker computes a block never changes what it computes, so results are bitwise the same.
class OwnerClaims {
 public:
  static constexpr int kMaxWorkers = 64;

  OwnerClaims(int workers, int blocks) : workers_(workers), blocks_(blocks) {}

  // Owner w enters `phase` (counting from 0, one higher each time). Everything its blocks read
  // must be written before: this publishes it to the takers.
  void open(int w, uint32_t phase) {
    Slot& s = slots_[w];
    s.finished.store(0, std::memory_order_relaxed);
    s.claims.store(pack(phase, 0, blocks_), std::memory_order_release);
  }

  // Runs own(block) for each block of w's open phase it claims, then body(owner, phase, block) for
  // blocks it takes from others while waiting for the rest of its own to be finished.
  template <class Own, class Other>
  void run(int w, Own&& own, Other&& other) {
    Slot& s = slots_[w];
    const uint32_t phase = phaseOf(s.claims.load(std::memory_order_relaxed));
    int done = 0;
    for (int b; (b = take(s, phase, true)) >= 0; done++) own(b);
    s.finished.fetch_add(done, std::memory_order_acq_rel);
    for (Backoff backoff; s.finished.load(std::memory_order_acquire) < blocks_;) {
      if (!helpOnce(w, phase, other)) backoff.pause();
    }
  }

  // w has no phases left: it takes others' blocks until every owner has finished.
  template <class Other>
  void retire(int w, Other&& other) {
    retired_.fetch_add(1, std::memory_order_acq_rel);
    for (Backoff backoff; retired_.load(std::memory_order_acquire) < workers_;) {
      if (!helpOnce(w, UINT32_MAX, other)) backoff.pause();
    }
  }

 private:
  struct alignas(64) Slot {
    std::atomic<uint64_t> claims{0};  // phase (high 32 bits), untaken blocks [front, back) (16 bits each)
    std::atomic<int> finished{0};     // blocks of the open phase finished
  };

  static uint64_t pack(uint32_t phase, int front, int back) {
    return static_cast<uint64_t>(phase) << 32 | static_cast<uint64_t>(front) << 16 | static_cast<uint64_t>(back);
  }
  static uint32_t phaseOf(uint64_t v) { return static_cast<uint32_t>(v >> 32); }

  // The front (owner) or back (taker) block of s's phase `phase`, or -1 when none is left.
  static int take(Slot& s, uint32_t phase, bool front) {
    uint64_t v = s.claims.load(std::memory_order_acquire);
    for (;;) {
      const int f = static_cast<int>(v >> 16 & 0xffff), b = static_cast<int>(v & 0xffff);
      if (phaseOf(v) != phase || f >= b) return -1;
      const uint64_t next = front ? pack(phase, f + 1, b) : pack(phase, f, b - 1);
      if (s.claims.compare_exchange_weak(v, next, std::memory_order_acq_rel)) return front ? f : b - 1;
    }
  }

  // Takes and runs one block of an owner whose open phase is below `mine`; false if none was left.
  template <class Other>
  bool helpOnce(int w, uint32_t mine, Other&& other) {
    for (int i = 1; i < workers_; i++) {
      const int v = (w + i) % workers_;
      Slot& s = slots_[v];
      const uint32_t phase = phaseOf(s.claims.load(std::memory_order_acquire));
      if (phase >= mine) continue;
      const int b = take(s, phase, false);
      if (b < 0) continue;
      other(v, phase, b);
      s.finished.fetch_add(1, std::memory_order_acq_rel);
      return true;
    }
    return false;
  }

  int workers_;
  int blocks_;
  std::atomic<int> retired_{0};
  Slot slots_[kMaxWorkers];
};

}  // namespace cellscan
