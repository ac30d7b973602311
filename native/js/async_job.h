#pragma once
// An async call as sharp makes one: the main thread copies what the work reads into a plain C++
// job, a Node worker runs it touching no JS values, and the main thread writes the results back
// into the caller's arrays once it is done. Errors travel back as rejected promises.
#include <napi.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../runtime/pooled_array.h"

namespace cellscan::js {

// Runs job.run() on Node's worker pool, then `finish(env, job)` on the main thread, whose value
// resolves the promise; a C++ error in either place rejects it.
template <class Job, class Finish>
class JobWorker : public Napi::AsyncWorker {
 public:
  JobWorker(Napi::Env env, const char* name, std::unique_ptr<Job> job, Finish finish)
      : Napi::AsyncWorker(env, name),
        job_(std::move(job)),
        finish_(std::move(finish)),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override { job_->run(); }
  void OnOK() override {
    try {
      deferred_.Resolve(finish_(Env(), *job_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::unique_ptr<Job> job_;
  Finish finish_;
  Napi::Promise::Deferred deferred_;
};

template <class Job, class Finish>
Napi::Promise queue(Napi::Env env, const char* name, std::unique_ptr<Job> job, Finish finish) {
  auto* worker = new JobWorker<Job, Finish>(env, name, std::move(job), std::move(finish));
  Napi::Promise promise = worker->promise();
  worker->Queue();  // the worker deletes itself when done
  return promise;
}

// A JS array an async call writes back into once it is done, and how many elements it needs.
struct Destination {
  Napi::Reference<Napi::Float32Array> ref;
  size_t length = 0;
  const char* name = "";
};

inline Destination destination(const Napi::Value& v, const char* key, size_t length) {
  return Destination{Napi::Persistent(v.As<Napi::Float32Array>()), length, key};
}

// The array behind a destination, checked again: it may have been detached while the work ran.
inline float* reopen(Destination& d, const char* where) {
  Napi::Float32Array a = d.ref.Value();
  if (a.ElementLength() < d.length) {
    throw Napi::Error::New(d.ref.Env(), std::string(where) + ": " + d.name +
                                            " was detached or resized while the call ran; nothing was written to it");
  }
  return a.Data();
}

// The job's own copy of an input (null stays null), so JS may change the original while it runs.
template <class T>
const T* keep(std::vector<T>& store, const T* data, size_t length) {
  if (data == nullptr) return nullptr;
  store.assign(data, data + length);
  return store.data();
}
template <class T>
const T* keep(PooledArray<T>& store, const T* data, size_t length) {
  if (data == nullptr) return nullptr;
  return store.assign(data, length);
}

inline void copyRows(float* dst, long ldDst, const float* src, long ldSrc, long rows, int width) {
  for (long r = 0; r < rows; r++) std::memcpy(dst + r * ldDst, src + r * ldSrc, width * sizeof(float));
}

inline void addInto(float* dst, const float* src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

}  // namespace cellscan::js
