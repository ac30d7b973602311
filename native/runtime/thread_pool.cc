#include "thread_pool.h"

#include <algorithm>

namespace cellscan {

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
  const unsigned long current = generation_;
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

void ThreadPool::run(const std::function<void(int, int)>& job) {
  const int count = threads_;
  {
    std::lock_guard<std::mutex> lock(m_);
    job_ = &job;
    pending_ = count - 1;
    generation_++;
  }
  wake_.notify_all();
  job(0, count);
  std::unique_lock<std::mutex> lock(m_);
  done_.wait(lock, [this] { return pending_ == 0; });
  job_ = nullptr;
}

void ThreadPool::workerLoop(int index, unsigned long seen) {
  for (;;) {
    const std::function<void(int, int)>* job;
    int count;
    {
      std::unique_lock<std::mutex> lock(m_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      job = job_;
      count = threads_;
    }
    (*job)(index, count);
    {
      std::lock_guard<std::mutex> lock(m_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
}

}  // namespace cellscan
