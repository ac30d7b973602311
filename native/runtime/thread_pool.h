#pragma once
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cellscan {

// A persistent pool: workers sleep between jobs instead of being created per call. The calling
// thread takes part as worker 0, so one thread means no synchronisation at all.
//
// A "session" (holding sessionMutex) owns the pool for a whole layer call; jobs from concurrent
// async calls therefore run one after another instead of fighting over the same cores.
class ThreadPool {
 public:
  static ThreadPool& instance();

  int threads() const { return threads_; }
  // Takes the session lock itself: never call while holding it.
  void setThreads(int n);
  std::mutex& sessionMutex() { return session_; }

  // Runs job(worker, workers) on every worker and returns when all have finished.
  // Call only while holding the session lock.
  void run(const std::function<void(int worker, int workers)>& job);

  ~ThreadPool();

 private:
  ThreadPool();
  void startWorkers(int n);
  void stopWorkers();
  void workerLoop(int index, unsigned long seen);

  std::mutex session_;
  std::mutex m_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  unsigned long generation_ = 0;
  int pending_ = 0;
  int threads_ = 1;
  bool stopping_ = false;
};

// Splits [0, n) into contiguous chunks, one per worker: body(begin, end). Each index is handled by
// exactly one worker, so results never depend on the thread count.
template <class Body>
void parallelFor(int n, Body&& body) {
  ThreadPool& pool = ThreadPool::instance();
  const int workers = pool.threads();
  if (workers <= 1 || n <= 1) {
    if (n > 0) body(0, n);
    return;
  }
  const std::function<void(int, int)> job = [&](int w, int count) {
    const long begin = static_cast<long>(n) * w / count;
    const long end = static_cast<long>(n) * (w + 1) / count;
    if (begin < end) body(static_cast<int>(begin), static_cast<int>(end));
  };
  pool.run(job);
}

}  // namespace cellscan
