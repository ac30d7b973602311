#include "gemm_wrap.h"

#include <climits>
#include <mutex>

#include "../gemm/gemm.h"
#include "../runtime/denormals.h"
#include "../runtime/thread_pool.h"
#include "args.h"

namespace cellscan::js {

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  const char* where = "gemm";
  Napi::Object o = requireObject(info, 0, where, "arguments");
  const long m = getInteger(o, "m", where, 0, INT_MAX);
  const long n = getInteger(o, "n", where, 0, INT_MAX);
  const long k = getInteger(o, "k", where, 0, INT_MAX);
  const bool transA = getBoolean(o, "transA", where, false);
  const bool transB = getBoolean(o, "transB", where, false);
  const bool accumulate = getBoolean(o, "accumulate", where, false);
  const Span<float> a = getFloat32(o, "a", where, static_cast<size_t>(m) * k, false);
  const Span<float> b = getFloat32(o, "b", where, static_cast<size_t>(k) * n, false);
  const Span<float> c = getFloat32(o, "c", where, static_cast<size_t>(m) * n, false);
  {
    std::lock_guard<std::mutex> session(ThreadPool::instance().sessionMutex());
    ScopedFlushDenormals flush;
    sgemm(static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), MatrixRef{a.data, transA ? m : k, transA},
          MatrixRef{b.data, transB ? k : n, transB}, c.data, n, accumulate);
  }
  return info.Env().Undefined();
}

}  // namespace cellscan::js
