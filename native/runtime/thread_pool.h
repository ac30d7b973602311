#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <type_traits>
#include <mutex>
#include <thread>
#include <vector>

#include "range.h"

namespace cellscan {

// A non-owning reference to a callable void(int worker, int workers), alive for the run() call it
// is passed to. Unlike std::function it never allocates, so a small call (a streaming step) costs
// no heap traffic for its job.
class JobRef {
 public:
  template <class F>
  JobRef(F&& f)  // NOLINT: implicit on purpose, lambdas are passed directly
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, int w, int n) { (*static_cast<std::remove_reference_t<F>*>(o))(w, n); }) {}
  void operator()(int w, int n) const { call_(object_, w, n); }

 private:
  void* object_;
  void (*call_)(void*, int, int);
};

// A persistent pool: workers stay alive between jobs, spin briefly after one (a layer call runs
// several back to back) and then sleep. The calling thread takes part as worker 0, so one thread
// means no synchronisation at all. Workers flush denormals to zero for their whole life.
//
// A session (ComputeSession, which holds sessionMutex) owns the pool for a whole call from outside;
// jobs from concurrent async calls therefore run one after another instead of fighting over the
// same cores.
class ThreadPool {
 public:
  static ThreadPool& instance();

  // The threads a job may use: as many as asked for, but no more than the process has cores.
  int threads() const { return threads_; }
  // What setThreads last asked for.
  int requested() const { return requested_; }
  // Takes the session lock itself: never call while holding it.
  void setThreads(int n);
  std::mutex& sessionMutex() { return session_; }

  // Who must take part in a job. All: every worker of it (fixed shares, barriers). AsAvailable: the
  // job's workers claim its parts (BlockClaims, an atomic counter) and meet at no barrier, so the
  // caller does whatever is left and a worker not yet running when it is done (descheduled on a
  // busy machine) skips the job instead of being waited for.
  enum class Joining { All, AsAvailable };

  // Runs job(worker, workers) on the first `workers` threads (at most threads()) and returns when
  // all that joined have finished. Call only while holding the session lock. Called from inside a
  // job, it runs job(0, 1) on the calling thread.
  void run(JobRef job, int workers, Joining joining = Joining::All);
  void run(JobRef job) { run(job, threads_); }

  ~ThreadPool();

 private:
  ThreadPool();
  void startWorkers(int n);
  void stopWorkers();
  void workerLoop(int index, unsigned long seen);
  bool takeSeat(unsigned long seen);

  std::mutex session_;
  std::mutex m_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;
  std::atomic<const JobRef*> job_{nullptr};
  std::atomic<unsigned long> generation_{0};
  std::atomic<int> jobWorkers_{0};
  std::atomic<int> pending_{0};
  // The running job's generation (high half) and its seats not yet taken by a worker (low half).
  std::atomic<uint64_t> seats_{0};
  int threads_ = 1;
  int requested_ = 1;
  bool stopping_ = false;
};

// Splits [0, n) into contiguous chunks, one per worker: body(begin, end). Each index is handled by
// exactly one worker, so results never depend on the thread count.
template <class Body>
void parallelFor(int n, Body&& body) {
  ThreadPool& pool = ThreadPool::instance();
  const int workers = pool.threads() < n ? pool.threads() : n;
  if (workers <= 1) {
    if (n > 0) body(0, n);
    return;
  }
  pool.run(
      [&](int w, int count) {
        const long begin = static_cast<long>(n) * w / count;
        const long end = static_cast<long>(n) * (w + 1) / count;
        if (begin < end) body(static_cast<int>(begin), static_cast<int>(end));
      },
      workers);
}

// How a worker waits for another inside a job: spin a few microseconds (the others are normally
// that close), then yield on every check: on a busy machine the thread it waits for may be
// waiting for this very core. (Sleeping on a futex instead cost streaming calls 1.5-2x under load:
// docs/PERFORMANCE.md.)
class Backoff {
 public:
  void pause();

 private:
  int spins_ = 0;
};

// Where the workers of one ThreadPool::run job meet between the steps of a time loop.
class SpinBarrier {
 public:
  explicit SpinBarrier(int count) : count_(count) {}
  void wait();

 private:
  const int count_;
  alignas(64) std::atomic<int> arrived_{0};
  alignas(64) std::atomic<unsigned> phase_{0};
};

}  // namespace cellscan
