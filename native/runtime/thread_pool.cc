#include "thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__linux__)
#include <sched.h>
#endif

#include "denormals.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define CELLSCAN_PAUSE() _mm_pause()
#else
#define CELLSCAN_PAUSE() std::this_thread::yield()
#endif

namespace cellscan {
namespace {

// How long an idle worker keeps polling for the next job before it sleeps: long enough to bridge
// the gaps inside one layer call, short enough not to burn a core between calls.
constexpr auto kSpinBeforeSleep = std::chrono::microseconds(200);
// How long the caller of a job polls for the others to finish before it sleeps.
constexpr auto kSpinForWorkers = std::chrono::microseconds(50);

// The cores this process may run on (its affinity mask, which containers and taskset narrow).
int cores() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
#endif
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

// Set on the pool's workers, and on the caller while it takes part in a job: a product or time loop
// started inside a job (the directions of a layer run side by side) then runs on that thread alone.
thread_local bool tlsInsideJob = false;

}  // namespace

ThreadPool& ThreadPool::instance() {
  static ThreadPool pool;
  return pool;
}

ThreadPool::ThreadPool() {
  requested_ = threads_ = std::clamp(cores(), 1, 256);
  startWorkers(threads_);
}

ThreadPool::~ThreadPool() { stopWorkers(); }

void ThreadPool::setThreads(int n) {
  std::lock_guard<std::mutex> session(session_);
  requested_ = n;
  // Threads beyond the cores would only take turns on them: every barrier of a time loop would
  // wait for each to be scheduled (docs/PERFORMANCE.md). Results do not depend on the count.
  const int width = std::min(n, cores());
  if (width == threads_) return;
  stopWorkers();
  threads_ = width;
  startWorkers(width);
}

void ThreadPool::startWorkers(int n) {
  stopping_ = false;
  // New workers must wait for the next job, not mistake the last one's generation for a new one.
  const unsigned long current = generation_.load();
  for (int i = 1; i < n; i++) workers_.emplace_back([this, i, current] { workerLoop(i, current); });
}

void ThreadPool::stopWorkers() {
  {
    std::lock_guard<std::mutex> lock(m_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::run(JobRef job, int workers, Joining joining) {
  const int count = tlsInsideJob ? 1 : std::clamp(workers, 1, threads_);
  if (count == 1) {
    job(0, 1);
    return;
  }
  uint64_t tag;
  {
    std::lock_guard<std::mutex> lock(m_);
    job_.store(&job, std::memory_order_relaxed);
    jobWorkers_.store(count, std::memory_order_relaxed);
    pending_.store(count - 1, std::memory_order_relaxed);
    tag = (generation_.load(std::memory_order_relaxed) + 1) << 32;
    seats_.store(tag | static_cast<uint64_t>(count - 1), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  {
    struct Inside {
      Inside() { tlsInsideJob = true; }
      ~Inside() { tlsInsideJob = false; }
    } inside;
    job(0, count);
  }
  if (joining == Joining::AsAvailable) {
    // The caller has done all the work nobody else claimed: seats still free go unused.
    const uint64_t left = seats_.exchange(tag, std::memory_order_acq_rel) & 0xffffffffu;
    pending_.fetch_sub(static_cast<int>(left), std::memory_order_acq_rel);
  }
  // The others are normally microseconds behind: poll before sleeping on the condition variable.
  const auto until = std::chrono::steady_clock::now() + kSpinForWorkers;
  while (pending_.load(std::memory_order_acquire) > 0 && std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 16; i++) CELLSCAN_PAUSE();
  }
  // Done: no need for the mutex, which the last worker may still hold to notify (blocking on it
  // cost a futex sleep and wake-up, microseconds).
  if (pending_.load(std::memory_order_acquire) == 0) return;
  std::unique_lock<std::mutex> lock(m_);
  done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
}

// A worker takes part in generation `seen`'s job only while it has a free seat.
bool ThreadPool::takeSeat(unsigned long seen) {
  const uint64_t tag = static_cast<uint64_t>(seen) << 32;
  uint64_t s = seats_.load(std::memory_order_acquire);
  while ((s & ~uint64_t{0xffffffffu}) == tag && (s & 0xffffffffu) > 0) {
    if (seats_.compare_exchange_weak(s, s - 1, std::memory_order_acq_rel)) return true;
  }
  return false;
}

void ThreadPool::workerLoop(int index, unsigned long seen) {
  flushDenormalsOnThisThread();
  tlsInsideJob = true;
  for (;;) {
    // Poll first: a layer call issues jobs microseconds apart, and a streaming step's whole job is
    // a few microseconds, so a new one must be seen within a fraction of one (a pause is ~20 ns;
    // the clock is read only now and then).
    const auto until = std::chrono::steady_clock::now() + kSpinBeforeSleep;
    for (int polls = 1; generation_.load(std::memory_order_acquire) == seen; polls++) {
      for (int i = 0; i < 4; i++) CELLSCAN_PAUSE();
      if (polls % 64 == 0 && std::chrono::steady_clock::now() >= until) break;
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(m_);
      wake_.wait(lock, [&] { return stopping_ || generation_.load() != seen; });
      if (stopping_) return;
    }
    seen = generation_.load(std::memory_order_acquire);
    // Published before the generation. A later job may have replaced them already; then this
    // generation's seats are closed and takeSeat refuses, so a stale pointer is never called.
    const JobRef* job = job_.load(std::memory_order_acquire);
    const int count = jobWorkers_.load(std::memory_order_acquire);
    if (index >= count || !takeSeat(seen)) continue;
    (*job)(index, count);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(m_);
      done_.notify_one();
    }
  }
}

void SpinBarrier::wait() {
  if (count_ <= 1) return;
  const unsigned phase = phase_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) == count_ - 1) {
    arrived_.store(0, std::memory_order_relaxed);
    phase_.store(phase + 1, std::memory_order_release);
    return;
  }
  for (Backoff backoff; phase_.load(std::memory_order_acquire) == phase;) backoff.pause();
}

void Backoff::pause() {
  if (spins_ < 256) {
    spins_++;
    CELLSCAN_PAUSE();
  } else {
    std::this_thread::yield();
  }
}

}  // namespace cellscan
