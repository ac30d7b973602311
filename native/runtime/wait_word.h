#pragma once
// A 32-bit word that threads of one job wait on until another thread changes it (a barrier's
// phase, a count of finished blocks). Waiting spins first, since the thread waited for is normally
// microseconds behind, then sleeps in the kernel: with more runnable threads than cores (more pool
// threads than cores, or a busy neighbour) a spinning waiter would hold the very core the thread it
// waits for needs. Every change goes through store()/add(), which wake the sleepers.
#include <atomic>
#include <cstdint>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#else
#include <chrono>
#include <thread>
#endif

namespace cellscan {

class WaitWord {
 public:
  uint32_t load(std::memory_order order = std::memory_order_acquire) const { return value_.load(order); }
  // Sequentially consistent with the sleepers' count: a sleeper either is counted before the
  // change, and woken, or reads the changed word in the kernel and does not sleep.
  void store(uint32_t v) {
    value_.store(v, std::memory_order_seq_cst);
    wake();
  }
  // Returns the new value.
  uint32_t add(uint32_t v) {
    const uint32_t now = value_.fetch_add(v, std::memory_order_seq_cst) + v;
    wake();
    return now;
  }

  // Sleeps while the word holds `seen`, at most about a millisecond (a guard, not a poll: the
  // wake-up normally comes from the change).
  void sleepWhile(uint32_t seen) {
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
#if defined(__linux__)
    const timespec guard{0, 1000000};
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&value_), FUTEX_WAIT_PRIVATE, seen, &guard, nullptr, 0);
#else
    if (value_.load(std::memory_order_seq_cst) == seen) std::this_thread::sleep_for(std::chrono::microseconds(50));
#endif
    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  }

 private:
  void wake() {
#if defined(__linux__)
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      syscall(SYS_futex, reinterpret_cast<uint32_t*>(&value_), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr, nullptr, 0);
    }
#endif
  }

  static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "the kernel reads the word itself");
  std::atomic<uint32_t> value_{0};
  std::atomic<int> sleepers_{0};
};

}  // namespace cellscan
