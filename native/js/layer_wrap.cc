#include "layer_wrap.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "async_job.h"
#include "layer_args.h"
#include "workspace_wrap.h"

namespace cellscan::js {
namespace {

const napi_type_tag kLayerTag = {0x5b7e0c2d91a4f386ULL, 0xe2c4a1970d3b5f68ULL};

// An async forward's own copies of what it reads and buffers for what it writes, so that JS may not
// touch memory the worker thread uses, and where the results go once it is done: the caller's y,
// hN and cN. A stage's output that the next stage reads stays in the job (`inside`): that call
// writes there and nothing goes back to its y, and a call reading it copies no input.
struct ForwardCopies {
  std::vector<float> x, h0, c0, y, hN, cN, recurrentMask;
  std::vector<int> lengths;
  std::vector<uint8_t> zoneoutHMask, zoneoutCMask;
  std::vector<Destination> outs;
  std::vector<float*> open;
  long yStride = 0;
  bool yBack = true;

  struct Inside {
    const float* x = nullptr;  // the previous stage's output, when this call reads it
    float* y = nullptr;        // where this call's output goes, when the next stage reads it
  };

  // Points io at the copies.
  ForwardCopies(ForwardIO& io, const ForwardArgs& a, const ForwardValues& f, int hout, Inside inside)
      : yStride(a.yStride), yBack(inside.y == nullptr) {
    io.x = inside.x ? inside.x : keep(x, a.x.data, a.x.length);
    io.h0 = keep(h0, a.h0.data, a.h0.length);
    io.c0 = keep(c0, a.c0.data, a.c0.length);
    io.lengths = keep(lengths, a.lengths.data, a.lengths.length);
    io.recurrentMask = keep(recurrentMask, a.recurrentMask.data, a.recurrentMask.length);
    io.zoneoutH.mask = keep(zoneoutHMask, a.zoneoutHMask.data, a.zoneoutHMask.length);
    io.zoneoutC.mask = keep(zoneoutCMask, a.zoneoutCMask.data, a.zoneoutCMask.length);
    if (yBack) {
      y.resize(static_cast<size_t>(a.T) * a.B * hout);
      io.y = y.data();
      io.ldy = hout;
      outs.push_back(destination(f[kY], "y", a.y.length));
    } else {
      io.y = inside.y;
      io.ldy = a.yStride;
    }
    hN.resize(a.hN.length);
    cN.resize(a.cN.length);
    io.hN = hN.data();
    io.cN = a.cN.data ? cN.data() : nullptr;
    outs.push_back(destination(f[kHN], "hN", a.hN.length));
    if (a.cN.data) outs.push_back(destination(f[kCN], "cN", a.cN.length));
  }
  void reopen(const char* where) {
    open.clear();
    for (Destination& d : outs) open.push_back(js::reopen(d, where));
  }
  void write(int hout) const {
    size_t k = 0;
    if (yBack) copyRows(open[k++], yStride, y.data(), hout, static_cast<long>(y.size() / hout), hout);
    std::memcpy(open[k++], hN.data(), hN.size() * sizeof(float));
    if (k < open.size()) std::memcpy(open[k], cN.data(), cN.size() * sizeof(float));
  }
};

// The forwards of one call, in stages (ForwardArgs::stage). The job holds its layers, so releasing
// one while an async call runs leaves the weights in place.
struct ForwardJob {
  std::vector<std::shared_ptr<const Layer>> layers;
  std::vector<ForwardCall> calls;
  std::vector<ForwardCopies> copies;           // async calls only
  std::vector<size_t> stageStarts;             // each stage's first call, then calls.size()
  std::vector<std::vector<float>> stageOutputs;  // async: outputs read by the next stage, per stage

  void run() {
    for (size_t s = 0; s + 1 < stageStarts.size(); s++) {
      Layer::runForwards(calls.data() + stageStarts[s], static_cast<int>(stageStarts[s + 1] - stageStarts[s]));
    }
  }
};

// Whether call `a` reads as its input exactly what stage `from` writes: the array holding the
// first call's y, all T·B rows of it, as wide as the stage's rows are.
bool readsStage(const ForwardArgs& a, const LayerSpec& s, const std::vector<ForwardArgs>& all, size_t from) {
  const ForwardArgs& first = all[from];
  return a.x.data == first.y.data && a.T == first.T && a.B == first.B && s.inputSize == first.yStride;
}

// The forwards of one call: every layer's fields read and checked before any runs (a bad one runs
// none). Sync calls compute into the caller's arrays; async ones into copies written back after,
// except a stage's output that the next stage reads, which never leaves the job.
Napi::Value runForwards(Napi::Env env, const std::vector<std::shared_ptr<const Layer>>& layers,
                        const std::vector<ForwardValues>& fields, const std::vector<std::string>& wheres, bool async,
                        bool asArray) {
  auto job = std::make_unique<ForwardJob>();
  job->layers = layers;
  std::vector<ForwardArgs> args;
  args.reserve(layers.size());
  for (size_t i = 0; i < layers.size(); i++) {
    args.push_back(readForwardArgs(fields[i], layers[i]->spec(), wheres[i].c_str()));
    const int stage = args[i].stage;
    const int previous = i == 0 ? -1 : args[i - 1].stage;
    if (stage != previous && stage != previous + 1) {
      const std::string expected = i == 0 ? "0" : std::to_string(previous) + " or " + std::to_string(previous + 1);
      throwRangeError(env, wheres[i].c_str(), "stage", expected + " (stages run in order, none skipped)", std::to_string(stage));
    }
    if (stage != previous) job->stageStarts.push_back(i);
  }
  job->stageStarts.push_back(layers.size());
  const size_t stages = job->stageStarts.size() - 1;
  // Async: a stage whose output a call of the next stage reads keeps it in a buffer of the job,
  // laid out as the caller's array (each call at its own columns, rows yStride apart).
  std::vector<bool> readOn(stages, false);
  if (async) {
    job->stageOutputs.resize(stages);
    for (size_t s = 1; s < stages; s++) {
      const size_t from = job->stageStarts[s - 1];
      for (size_t i = job->stageStarts[s]; i < job->stageStarts[s + 1]; i++) {
        if (readsStage(args[i], layers[i]->spec(), args, from)) readOn[s - 1] = true;
      }
      if (readOn[s - 1]) job->stageOutputs[s - 1].resize(static_cast<size_t>(args[from].T) * args[from].B * args[from].yStride);
    }
  }
  job->calls.reserve(layers.size());
  job->copies.reserve(async ? layers.size() : 0);
  for (size_t s = 0; s < stages; s++) {
    for (size_t i = job->stageStarts[s]; i < job->stageStarts[s + 1]; i++) {
      const ForwardArgs& a = args[i];
      ForwardCall call;
      call.layer = layers[i].get();
      call.training = a.training;
      call.io = forwardIO(a);
      if (async) {
        ForwardCopies::Inside inside;
        // Within the array: the first call's y is its start and every call's y lies in one row of it
        // (addresses compared as integers: the two may be unrelated arrays).
        const ForwardArgs& first = args[job->stageStarts[s]];
        const uintptr_t at = reinterpret_cast<uintptr_t>(a.y.data), start = reinterpret_cast<uintptr_t>(first.y.data);
        const uintptr_t offset = (at - start) / sizeof(float);
        if (readOn[s] && at >= start && (at - start) % sizeof(float) == 0 && a.yStride == first.yStride &&
            a.T == first.T && a.B == first.B && offset + layers[i]->spec().outSize() <= static_cast<uintptr_t>(a.yStride)) {
          inside.y = job->stageOutputs[s].data() + offset;
        }
        if (s > 0 && readOn[s - 1] && readsStage(a, layers[i]->spec(), args, job->stageStarts[s - 1])) {
          inside.x = job->stageOutputs[s - 1].data();
        }
        job->copies.emplace_back(call.io, a, fields[i], layers[i]->spec().outSize(), inside);
      }
      job->calls.push_back(std::move(call));
    }
  }
  const auto values = [asArray](Napi::Env env, ForwardJob& done) -> Napi::Value {
    const auto one = [&](size_t i) -> Napi::Value {
      const ForwardCall& call = done.calls[i];
      return call.training ? Napi::Value(WorkspaceWrap::Create(env, call.workspace, done.layers[i])) : env.Undefined();
    };
    if (!asArray) return one(0);
    Napi::Array out = Napi::Array::New(env, done.calls.size());
    for (size_t i = 0; i < done.calls.size(); i++) out.Set(static_cast<uint32_t>(i), one(i));
    return out;
  };
  if (!async) {
    job->run();
    return values(env, *job);
  }
  const std::string where = wheres[0];
  return queue(env, "cellscan.forward", std::move(job), [values, where](Napi::Env env, ForwardJob& done) -> Napi::Value {
    // Check every destination before writing any, so a failure writes nothing.
    for (ForwardCopies& c : done.copies) c.reopen(where.c_str());
    for (size_t i = 0; i < done.copies.size(); i++) done.copies[i].write(done.layers[i]->spec().outSize());
    return values(env, done);
  });
}

struct BackwardJob {
  std::shared_ptr<const Layer> layer;
  std::shared_ptr<const Workspace> ws;
  BackwardIO io;
  PooledArray<float> dY, dhN, dcN, dX, dh0, dc0;
  // This call's parameter gradients (ParamField order), added into the caller's arrays afterwards:
  // the same sums whether the call was sync or async. Not zeroed: the backward writes every element.
  PooledArray<float> grads[kParamFields];

  BackwardJob(const BackwardArgs& a) : layer(a.layer), ws(a.ws->workspace()) {
    const LayerSpec& s = layer->spec();
    const size_t gh = s.gateSize();
    const size_t h = s.hiddenSize;
    const size_t hout = s.outSize();
    const auto grad = [this](ParamField f, size_t n) { return grads[f].resize(n); };
    io.grads.wIh = grad(kWIh, gh * s.inputSize);
    io.grads.wHh = grad(kWHh, gh * hout);
    if (s.bias) {
      io.grads.bIh = grad(kBIh, gh);
      io.grads.bHh = grad(kBHh, gh);
    }
    if (s.projSize > 0) io.grads.wHr = grad(kWHr, hout * h);
    if (s.peepholes) io.grads.wPeep = grad(kWPeep, 3 * h);
  }

  void run() { layer->runBackward(io, *ws); }
};

// The caller's gradient arrays in ParamField order, null where the layer has none.
void paramArrays(const ParamSpans& p, const Span<float>* (&out)[kParamFields]) {
  const Span<float>* all[kParamFields] = {&p.wIh, &p.wHh, &p.bIh, &p.bHh, &p.wHr, &p.wPeep};
  for (int f = 0; f < kParamFields; f++) out[f] = all[f]->data ? all[f] : nullptr;
}

}  // namespace

Napi::Function LayerWrap::Define(Napi::Env env) {
  return DefineClass(env, "Layer",
                     {InstanceMethod<&LayerWrap::Forward>("forward"),
                      InstanceMethod<&LayerWrap::ForwardAsync>("forwardAsync"),
                      InstanceMethod<&LayerWrap::Backward>("backward"),
                      InstanceMethod<&LayerWrap::BackwardAsync>("backwardAsync"),
                      InstanceMethod<&LayerWrap::Release>("release")});
}

LayerWrap::LayerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LayerWrap>(info) {
  const char* where = "new Layer";
  if (!info.IsConstructCall()) throw Napi::TypeError::New(info.Env(), "Layer: must be called with new");
  const LayerSpec spec = readSpec(requireObject(info, 0, where, "spec"), where);
  const ParamSpans w = readParams(paramValuesOf(requireObject(info, 1, where, "weights")), spec, where);
  layer_ = std::make_shared<const Layer>(spec, copyParams(w));
  self_ = layer_;
  info.This().As<Napi::Object>().TypeTag(&kLayerTag);
  accounted_ = static_cast<int64_t>(layer_->bytes());
  Napi::MemoryManagement::AdjustExternalMemory(info.Env(), accounted_);
}

void LayerWrap::Finalize(Napi::Env env) {
  if (accounted_) Napi::MemoryManagement::AdjustExternalMemory(env, -accounted_);
}

const std::shared_ptr<const Layer>& LayerWrap::live(Napi::Env env, const char* where) const {
  if (!layer_) {
    throw Napi::Error::New(env, std::string(where) + ": the layer was released; create a new one for new calls");
  }
  return layer_;
}

// Drops this wrapper's hold on the weights now rather than at garbage collection, whose finalizers
// wait for the event loop (a synchronous training loop would hold every step's layers until it
// returns). Workspaces of its forwards keep the weights alive for their backward.
Napi::Value LayerWrap::Release(const Napi::CallbackInfo& info) {
  layer_.reset();
  if (accounted_) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -accounted_);
  accounted_ = 0;
  return info.Env().Undefined();
}

Napi::Value LayerWrap::Forward(const Napi::CallbackInfo& info) {
  const char* where = "Layer.forward";
  return runForwards(info.Env(), {live(info.Env(), where)}, {fieldsOf(requireObject(info, 0, where, "arguments"))},
                     {where}, false, false);
}

Napi::Value LayerWrap::ForwardAsync(const Napi::CallbackInfo& info) {
  const char* where = "Layer.forwardAsync";
  return runForwards(info.Env(), {live(info.Env(), where)}, {fieldsOf(requireObject(info, 0, where, "arguments"))},
                     {where}, true, false);
}

Napi::Value LayerWrap::ForwardLayers(const Napi::CallbackInfo& info) { return forwardLayersCall(info, "forwardLayers", false); }

Napi::Value LayerWrap::ForwardLayersAsync(const Napi::CallbackInfo& info) {
  return forwardLayersCall(info, "forwardLayersAsync", true);
}

// forwardLayers(n, layer0, ...layer 0's fields, layer1, ...): n distinct layers, each followed by
// its forward's fields in ForwardField order.
Napi::Value LayerWrap::forwardLayersCall(const Napi::CallbackInfo& info, const char* where, bool async) {
  Napi::Env env = info.Env();
  const long n = getInteger(info[0], "n", where, 1, kMaxLayersPerCall);
  const size_t stride = 1 + kForwardFields;
  if (info.Length() != 1 + n * stride) {
    throwRangeError(env, where, "arguments", "n, then each layer and its " + std::to_string(kForwardFields) + " fields (" +
                    std::to_string(1 + n * stride) + " in all)", std::to_string(info.Length()));
  }
  std::vector<std::shared_ptr<const Layer>> live;
  std::vector<ForwardValues> fields;
  std::vector<std::string> wheres;
  for (long i = 0; i < n; i++) {
    const size_t at = 1 + i * stride;
    const std::string name = "layer " + std::to_string(i);
    Napi::Value v = info[at];
    if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kLayerTag)) throwTypeError(env, where, name, "a Layer", v);
    live.push_back(Unwrap(v.As<Napi::Object>())->live(env, where));
    for (long j = 0; j < i; j++) {
      // One inference workspace per layer: a layer twice in one call would share it.
      if (live[j] == live[i]) {
        throw Napi::TypeError::New(env, std::string(where) + ": " + name + " must be a Layer not already in the call, got layer " +
                                            std::to_string(j) + " again");
      }
    }
    fields.push_back(fieldsAt(info, at + 1));
    wheres.push_back(std::string(where) + " (layer " + std::to_string(i) + ")");
  }
  return runForwards(env, live, fields, wheres, async, true);
}

Napi::Value LayerWrap::Backward(const Napi::CallbackInfo& info) {
  const BackwardArgs a = readBackwardArgs(info, self_, "Layer.backward");
  BackwardJob job(a);
  job.io.dY = a.dY.data;
  job.io.ldDY = a.dYStride;
  job.io.dhN = a.dhN.data;
  job.io.dcN = a.dcN.data;
  job.io.dX = a.dX.data;
  job.io.dh0 = a.dh0.data;
  job.io.dc0 = a.dc0.data;
  job.run();
  const Span<float>* into[kParamFields];
  paramArrays(a.grads, into);
  for (int f = 0; f < kParamFields; f++) {
    if (into[f]) addInto(into[f]->data, job.grads[f].data(), job.grads[f].size());
  }
  return info.Env().Undefined();
}

Napi::Value LayerWrap::BackwardAsync(const Napi::CallbackInfo& info) {
  const char* where = "Layer.backwardAsync";
  const BackwardArgs a = readBackwardArgs(info, self_, where);
  auto job = std::make_unique<BackwardJob>(a);
  const size_t rows = static_cast<size_t>(job->ws->T) * job->ws->B;
  const int hout = a.layer->spec().outSize();
  // dY is compacted to contiguous rows so the copy is no larger than the rows the kernel reads.
  if (a.dY.data) {
    copyRows(job->dY.resize(rows * hout), hout, a.dY.data, a.dYStride, static_cast<long>(rows), hout);
    job->io.dY = job->dY.data();
    job->io.ldDY = hout;
  }
  job->io.dhN = keep(job->dhN, a.dhN.data, a.dhN.length);
  job->io.dcN = keep(job->dcN, a.dcN.data, a.dcN.length);
  job->io.dX = job->dX.resize(a.dX.length);
  job->io.dh0 = job->dh0.resize(a.dh0.length);
  job->io.dc0 = a.dc0.data ? job->dc0.resize(a.dc0.length) : nullptr;

  // Written back in this order: dX, dh0, [dc0], then the gradients this layer has.
  std::vector<Destination> outs;
  outs.push_back(destination(a.dXValue, "dX", a.dX.length));
  outs.push_back(destination(a.dh0Value, "dh0", a.dh0.length));
  if (a.dc0.data) outs.push_back(destination(a.dc0Value, "dc0", a.dc0.length));
  const Span<float>* into[kParamFields];
  paramArrays(a.grads, into);
  for (int f = 0; f < kParamFields; f++) {
    if (into[f]) outs.push_back(destination(a.gradValues.v[f], kParamFieldNames[f], into[f]->length));
  }
  return queue(info.Env(), "cellscan.backward", std::move(job),
               [outs = std::move(outs), where](Napi::Env env, BackwardJob& job) mutable -> Napi::Value {
                 std::vector<float*> dst;
                 for (Destination& d : outs) dst.push_back(reopen(d, where));
                 size_t k = 0;
                 std::memcpy(dst[k++], job.dX.data(), job.dX.size() * sizeof(float));
                 std::memcpy(dst[k++], job.dh0.data(), job.dh0.size() * sizeof(float));
                 if (job.io.dc0) std::memcpy(dst[k++], job.dc0.data(), job.dc0.size() * sizeof(float));
                 for (const PooledArray<float>& g : job.grads) {
                   if (!g.empty()) addInto(dst[k++], g.data(), g.size());
                 }
                 return env.Undefined();
               });
}

}  // namespace cellscan::js
