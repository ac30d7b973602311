#include "thread_pool.h"

#include <algorithm>
#include <chrono>

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

}  // namespace

ThreadPool& ThreadPool::instance() {
  static ThreadPool pool;
  return pool;
}

ThreadPool::ThreadPool() {
  const unsigned cores = std::thread::hardware_concurrency();
  threads_ = static_cast<int>(std::clamp(cores == 0 ? 1u : cores, 1u, 256u));
  startWorkers(threads_);
}

ThreadPool::~ThreadPool() { stopWorkers(); }

void ThreadPool::setThreads(int n) {
  std::lock_guard<std::mutex> session(session_);
  if (n == threads_) return;
  stopWorkers();
  threads_ = n;
  startWorkers(n);
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

void ThreadPool::run(JobRef job, int workers) {
  const int count = std::clamp(workers, 1, threads_);
  if (count == 1) {
    job(0, 1);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(m_);
    job_ = &job;
    jobWorkers_ = count;
    pending_ = count - 1;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  job(0, count);
  std::unique_lock<std::mutex> lock(m_);
  done_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
}

void ThreadPool::workerLoop(int index, unsigned long seen) {
  flushDenormalsOnThisThread();
  for (;;) {
    // Poll first: a layer call issues jobs microseconds apart.
    const auto until = std::chrono::steady_clock::now() + kSpinBeforeSleep;
    while (generation_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < until) {
      for (int i = 0; i < 64; i++) CELLSCAN_PAUSE();
    }
    const JobRef* job;
    int count;
    {
      std::unique_lock<std::mutex> lock(m_);
      wake_.wait(lock, [&] { return stopping_ || generation_.load() != seen; });
      if (stopping_) return;
      seen = generation_.load();
      job = job_;
      count = jobWorkers_;
    }
    if (index >= count) continue;
    (*job)(index, count);
    {
      std::lock_guard<std::mutex> lock(m_);
      if (--pending_ == 0) done_.notify_one();
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
