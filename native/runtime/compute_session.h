#pragma once
// What every call from outside (a layer's forward or backward, a GEMM) holds for its whole length.
#include <mutex>

#include "denormals.h"
#include "thread_pool.h"

namespace cellscan {

// The thread pool to itself, so that concurrent async calls run one after another instead of
// fighting over the same cores; and flush-to-zero on the calling thread (the pool's workers keep it
// for life). This is the one place a call sets the floating-point mode: kernels never do.
class ComputeSession {
 public:
  ComputeSession() : pool_(ThreadPool::instance().sessionMutex()) {}
  ComputeSession(const ComputeSession&) = delete;
  ComputeSession& operator=(const ComputeSession&) = delete;

 private:
  std::lock_guard<std::mutex> pool_;
  ScopedFlushDenormals flush_;
};

}  // namespace cellscan
