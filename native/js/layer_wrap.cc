#include "layer_wrap.h"

#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "../runtime/thread_pool.h"
#include "args.h"

namespace cellscan::js {
namespace {

// Larger sizes would overflow the int-indexed products inside the kernels.
constexpr long kMaxSize = 1L << 24;
constexpr long kMaxRows = INT_MAX;

const napi_type_tag kWorkspaceTag = {0x9c1e5a7d3b2f4e61ULL, 0xa4d8c0b7e3f21965ULL};
const napi_type_tag kLayerTag = {0x5b7e0c2d91a4f386ULL, 0xe2c4a1970d3b5f68ULL};

struct ParamSpans {
  Span<float> wIh, wHh, bIh, bHh, wHr, wPeep;
};

// The arrays of a weights or grads object, each property read once and every one of them before
// any is checked: a getter runs JavaScript, which could detach or shrink (a resizable buffer) an
// array already checked, leaving its pointer to freed or unmapped memory, if reads and checks took
// turns.
enum ParamField { kWIh, kWHh, kBIh, kBHh, kWHr, kWPeep, kParamFields };
constexpr const char* kParamFieldNames[kParamFields] = {"wIh", "wHh", "bIh", "bHh", "wHr", "wPeep"};

struct ParamValues {
  Napi::Value v[kParamFields];
};

ParamValues paramValuesOf(const Napi::Object& o) {
  ParamValues p;
  for (int i = 0; i < kParamFields; i++) p.v[i] = property(o, kParamFieldNames[i]);
  return p;
}

// Exactly the arrays this layer has, each of its exact size; the others must be absent.
ParamSpans readParams(const ParamValues& v, const LayerSpec& s, const char* where) {
  const size_t gh = s.gateSize();
  const size_t h = s.hiddenSize;
  const size_t hout = s.outSize();
  const auto name = [](ParamField f) { return kParamFieldNames[f]; };
  ParamSpans p;
  p.wIh = getFloat32(v.v[kWIh], name(kWIh), where, gh * s.inputSize, false);
  p.wHh = getFloat32(v.v[kWHh], name(kWHh), where, gh * hout, false);
  if (s.bias) {
    p.bIh = getFloat32(v.v[kBIh], name(kBIh), where, gh, false);
    p.bHh = getFloat32(v.v[kBHh], name(kBHh), where, gh, false);
  } else {
    requireAbsent(v.v[kBIh], name(kBIh), where, "the layer has no bias");
    requireAbsent(v.v[kBHh], name(kBHh), where, "the layer has no bias");
  }
  if (s.projSize > 0) {
    p.wHr = getFloat32(v.v[kWHr], name(kWHr), where, hout * h, false);
  } else {
    requireAbsent(v.v[kWHr], name(kWHr), where, "the layer has no projection");
  }
  if (s.peepholes) {
    p.wPeep = getFloat32(v.v[kWPeep], name(kWPeep), where, 3 * h, false);
  } else {
    requireAbsent(v.v[kWPeep], name(kWPeep), where, "the layer has no peepholes");
  }
  return p;
}

std::vector<float> copyOf(const Span<float>& s) { return std::vector<float>(s.data, s.data + s.length); }

LayerSpec readSpec(const Napi::Object& o, const char* where) {
  Napi::Env env = o.Env();
  LayerSpec s;
  const std::string cell = getString(o, "cell", where);
  if (cell == "lstm") {
    s.cell = CellKind::Lstm;
  } else if (cell == "gru") {
    s.cell = CellKind::Gru;
  } else if (cell == "rnn_tanh") {
    s.cell = CellKind::RnnTanh;
  } else if (cell == "rnn_relu") {
    s.cell = CellKind::RnnRelu;
  } else {
    throwRangeError(env, where, "cell", "one of \"lstm\", \"gru\", \"rnn_tanh\", \"rnn_relu\"", "\"" + cell + "\"");
  }
  s.inputSize = static_cast<int>(getInteger(o, "inputSize", where, 1, kMaxSize));
  s.hiddenSize = static_cast<int>(getInteger(o, "hiddenSize", where, 1, kMaxSize));
  s.bias = getBoolean(o, "bias", where, true);
  s.reverse = getBoolean(o, "reverse", where, false);
  // Options of other cells may be present at their neutral values, so one spec shape serves all cells.
  const bool lstm = s.cell == CellKind::Lstm;
  s.projSize = static_cast<int>(getInteger(o, "projSize", where, 0, lstm ? s.hiddenSize - 1 : 0, 0));
  s.peepholes = getBoolean(o, "peepholes", where, false);
  if (s.peepholes && !lstm) throwRangeError(env, where, "peepholes", "false (only LSTM has peepholes)", "true");
  s.linearBeforeReset = getBoolean(o, "linearBeforeReset", where, true);
  return s;
}

// Copies a span into owned storage and returns a pointer to it (null stays null).
template <class T>
const T* keep(std::vector<T>& store, const Span<T>& s) {
  if (s.data == nullptr) return nullptr;
  store.assign(s.data, s.data + s.length);
  return store.data();
}

// The JS arrays an async call writes back into once it is done, and how many elements each needs.
struct Destination {
  Napi::Reference<Napi::Float32Array> ref;
  size_t length = 0;
  const char* name = "";
};

Destination destination(const Napi::Value& v, const char* key, size_t length) {
  Destination d;
  d.ref = Napi::Persistent(v.As<Napi::Float32Array>());
  d.length = length;
  d.name = key;
  return d;
}

// The array behind a destination, re-checked: it may have been detached while the work ran.
float* reopen(Destination& d, const char* where) {
  Napi::Float32Array a = d.ref.Value();
  if (a.ElementLength() < d.length) {
    throw Napi::Error::New(d.ref.Env(), std::string(where) + ": " + d.name +
                                            " was detached or resized while the call ran; nothing was written to it");
  }
  return a.Data();
}

void copyRows(float* dst, long ldDst, const float* src, long ldSrc, long rows, int width) {
  for (long r = 0; r < rows; r++) std::memcpy(dst + r * ldDst, src + r * ldSrc, width * sizeof(float));
}

void addInto(float* dst, const float* src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

// Runs job.run() on Node's worker pool, then `finish(env, job)` on the main thread, whose value
// resolves the promise; a C++ error in either place rejects it. The worker touches no JS values.
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

// ---------------------------------------------------------------------------------------------
// Forward

struct ForwardJob {
  std::shared_ptr<const Layer> layer;
  std::shared_ptr<Workspace> ws;  // training only: what backward will read
  bool training = false;
  ForwardIO io;
  // Async calls work on copies so that JS may not touch memory the worker thread uses.
  std::vector<float> x, h0, c0, y, hN, cN, recurrentMask;
  std::vector<int> lengths;
  std::vector<uint8_t> zoneoutHMask, zoneoutCMask;

  // Inference reuses the layer's workspace (the session lock makes that safe): a streaming call
  // allocates nothing here.
  LayerForward prepare() {
    if (training) ws = std::make_shared<Workspace>();
    Workspace& w = training ? *ws : layer->inferenceWorkspace();
    layer->allocateWorkspace(w, io, training);
    return {layer.get(), &io, &w};
  }
};

// The forwards of one call (a layer's directions), run under one session.
struct ForwardJobs {
  std::vector<std::unique_ptr<ForwardJob>> jobs;

  void run() {
    std::lock_guard<std::mutex> session(ThreadPool::instance().sessionMutex());
    std::vector<LayerForward> calls;
    calls.reserve(jobs.size());
    for (auto& job : jobs) calls.push_back(job->prepare());
    forwardLayers(calls.data(), static_cast<int>(calls.size()));
  }
};

// A forward's arguments, as Layer.forward takes them (an object's properties) or forwardLayers
// (positional, in this order after each layer: no property lookups on a streaming step's path).
enum ForwardField {
  kT, kB, kX, kH0, kC0, kLengths, kY, kYStride, kHN, kCN, kTraining,
  kRecurrentMask, kZoneoutHidden, kZoneoutHiddenMask, kZoneoutCell, kZoneoutCellMask, kForwardFields
};
constexpr const char* kForwardFieldNames[kForwardFields] = {
    "T", "B", "x", "h0", "c0", "lengths", "y", "yStride", "hN", "cN", "training",
    "recurrentMask", "zoneoutHidden", "zoneoutHiddenMask", "zoneoutCell", "zoneoutCellMask"};

struct ForwardValues {
  Napi::Value v[kForwardFields];
  const Napi::Value& operator[](ForwardField f) const { return v[f]; }
};

ForwardValues fieldsOf(const Napi::Object& o) {
  ForwardValues f;
  for (int i = 0; i < kForwardFields; i++) f.v[i] = property(o, kForwardFieldNames[i]);
  return f;
}

ForwardValues fieldsAt(const Napi::CallbackInfo& info, size_t first) {
  ForwardValues f;
  for (int i = 0; i < kForwardFields; i++) f.v[i] = info[first + i];
  return f;
}

struct ForwardArgs {
  Span<float> x, h0, c0, y, hN, cN, recurrentMask;
  Span<int32_t> lengths;
  Span<uint8_t> zoneoutHMask, zoneoutCMask;
  float zoneoutH = 0, zoneoutC = 0;
  int T = 0, B = 0;
  long yStride = 0;
  bool training = false;
};

ForwardArgs readForwardArgs(const ForwardValues& f, const LayerSpec& s, const char* where) {
  Napi::Env env = f[kT].Env();
  const auto name = [](ForwardField k) { return kForwardFieldNames[k]; };
  ForwardArgs a;
  a.T = static_cast<int>(getInteger(f[kT], name(kT), where, 1, kMaxRows));
  a.B = static_cast<int>(getInteger(f[kB], name(kB), where, 1, kMaxRows));
  const size_t rows = static_cast<size_t>(a.T) * a.B;
  if (rows > static_cast<size_t>(kMaxRows)) {
    throwRangeError(env, where, "T * B", "at most " + std::to_string(kMaxRows), std::to_string(rows));
  }
  const size_t hout = s.outSize();
  const size_t h = s.hiddenSize;
  a.x = getFloat32(f[kX], name(kX), where, rows * s.inputSize, false);
  a.h0 = getFloat32(f[kH0], name(kH0), where, a.B * hout, true);
  a.hN = getFloat32(f[kHN], name(kHN), where, a.B * hout, false);
  if (s.hasCellState()) {
    a.c0 = getFloat32(f[kC0], name(kC0), where, a.B * h, true);
    a.cN = getFloat32(f[kCN], name(kCN), where, a.B * h, false);
  } else {
    requireAbsent(f[kC0], name(kC0), where, "only LSTM has a cell state");
    requireAbsent(f[kCN], name(kCN), where, "only LSTM has a cell state");
  }
  a.lengths = getInt32(f[kLengths], name(kLengths), where, a.B, true);
  for (size_t b = 0; b < a.lengths.length; b++) {
    const int len = a.lengths.data[b];
    if (len < 0 || len > a.T) {
      throwRangeError(env, where, "lengths[" + std::to_string(b) + "]", "an integer in 0.." + std::to_string(a.T),
                      std::to_string(len));
    }
  }
  a.yStride = getInteger(f[kYStride], name(kYStride), where, static_cast<long>(hout), kMaxRows, static_cast<long>(hout));
  a.y = getFloat32(f[kY], name(kY), where, (rows - 1) * a.yStride + hout, false, true);
  a.training = getBoolean(f[kTraining], name(kTraining), where, false);
  // The variants: masks drawn by the caller, zoneout's probabilities for evaluation.
  a.recurrentMask = getFloat32(f[kRecurrentMask], name(kRecurrentMask), where, a.B * hout, true);
  a.zoneoutH = static_cast<float>(getNumber(f[kZoneoutHidden], name(kZoneoutHidden), where, 0, 1, 0));
  a.zoneoutHMask = getMask(f[kZoneoutHiddenMask], name(kZoneoutHiddenMask), where, rows * hout);
  if (s.hasCellState()) {
    a.zoneoutC = static_cast<float>(getNumber(f[kZoneoutCell], name(kZoneoutCell), where, 0, 1, 0));
    a.zoneoutCMask = getMask(f[kZoneoutCellMask], name(kZoneoutCellMask), where, rows * h);
  } else {
    requireAbsent(f[kZoneoutCell], name(kZoneoutCell), where, "only LSTM has a cell state");
    requireAbsent(f[kZoneoutCellMask], name(kZoneoutCellMask), where, "only LSTM has a cell state");
  }
  return a;
}

// Where an async forward's results go once it is done: the caller's y, hN and cN.
struct ForwardResults {
  std::vector<Destination> outs;
  std::vector<float*> open;
  long yStride = 0;

  void reopen(const char* where) {
    open.clear();
    for (Destination& d : outs) open.push_back(cellscan::js::reopen(d, where));
  }
  void write(const ForwardJob& job) const {
    const int hout = job.layer->spec().outSize();
    copyRows(open[0], yStride, job.y.data(), hout, static_cast<long>(job.io.T) * job.io.B, hout);
    std::memcpy(open[1], job.hN.data(), job.hN.size() * sizeof(float));
    if (open.size() > 2) std::memcpy(open[2], job.cN.data(), job.cN.size() * sizeof(float));
  }
};

ForwardIO forwardIO(const ForwardArgs& a);

// Points the job at copies of its inputs and at outputs of its own, and returns where those go.
ForwardResults keepForAsync(ForwardJob& job, const ForwardArgs& a, const ForwardValues& f) {
  ForwardIO& io = job.io;
  io.x = keep(job.x, a.x);
  io.h0 = keep(job.h0, a.h0);
  io.c0 = keep(job.c0, a.c0);
  io.lengths = keep(job.lengths, a.lengths);
  io.recurrentMask = keep(job.recurrentMask, a.recurrentMask);
  io.zoneoutH.mask = keep(job.zoneoutHMask, a.zoneoutHMask);
  io.zoneoutC.mask = keep(job.zoneoutCMask, a.zoneoutCMask);
  const int hout = job.layer->spec().outSize();
  job.y.resize(static_cast<size_t>(a.T) * a.B * hout);
  job.hN.resize(a.hN.length);
  job.cN.resize(a.cN.length);
  io.y = job.y.data();
  io.ldy = hout;
  io.hN = job.hN.data();
  io.cN = a.cN.data ? job.cN.data() : nullptr;
  ForwardResults r;
  r.yStride = a.yStride;
  r.outs.push_back(destination(f[kY], "y", a.y.length));
  r.outs.push_back(destination(f[kHN], "hN", a.hN.length));
  if (a.cN.data) r.outs.push_back(destination(f[kCN], "cN", a.cN.length));
  return r;
}

ForwardIO forwardIO(const ForwardArgs& a) {
  ForwardIO io;
  io.T = a.T;
  io.B = a.B;
  io.x = a.x.data;
  io.h0 = a.h0.data;
  io.c0 = a.c0.data;
  io.lengths = a.lengths.data;
  io.y = a.y.data;
  io.ldy = a.yStride;
  io.hN = a.hN.data;
  io.cN = a.cN.data;
  io.recurrentMask = a.recurrentMask.data;
  io.zoneoutH = Zoneout{a.zoneoutHMask.data, a.zoneoutH};
  io.zoneoutC = Zoneout{a.zoneoutCMask.data, a.zoneoutC};
  return io;
}

// The forwards of one call: every layer's fields read and checked before any runs (a bad one runs
// none). Sync calls compute into the caller's arrays; async ones into copies written back after.
Napi::Value runForwards(Napi::Env env, const std::vector<std::shared_ptr<const Layer>>& layers,
                        const std::vector<ForwardValues>& fields, const std::vector<std::string>& wheres, bool async,
                        bool asArray) {
  auto jobs = std::make_unique<ForwardJobs>();
  std::vector<ForwardResults> results(async ? layers.size() : 0);
  for (size_t i = 0; i < layers.size(); i++) {
    const ForwardArgs a = readForwardArgs(fields[i], layers[i]->spec(), wheres[i].c_str());
    auto job = std::make_unique<ForwardJob>();
    job->layer = layers[i];
    job->training = a.training;
    job->io = forwardIO(a);
    if (async) results[i] = keepForAsync(*job, a, fields[i]);
    jobs->jobs.push_back(std::move(job));
  }
  const auto values = [asArray](Napi::Env env, ForwardJobs& done) -> Napi::Value {
    const auto one = [&](const ForwardJob& job) -> Napi::Value {
      return job.training ? Napi::Value(WorkspaceWrap::Create(env, job.ws, job.layer)) : env.Undefined();
    };
    if (!asArray) return one(*done.jobs[0]);
    Napi::Array out = Napi::Array::New(env, done.jobs.size());
    for (size_t i = 0; i < done.jobs.size(); i++) out.Set(static_cast<uint32_t>(i), one(*done.jobs[i]));
    return out;
  };
  if (!async) {
    jobs->run();
    return values(env, *jobs);
  }
  const std::string where = wheres[0];
  return queue(env, "cellscan.forward", std::move(jobs),
               [results = std::move(results), values, where](Napi::Env env, ForwardJobs& done) mutable -> Napi::Value {
                 // Check every destination before writing any, so a failure writes nothing.
                 for (ForwardResults& r : results) r.reopen(where.c_str());
                 for (size_t i = 0; i < results.size(); i++) results[i].write(*done.jobs[i]);
                 return values(env, done);
               });
}

// ---------------------------------------------------------------------------------------------
// Backward

struct BackwardJob {
  std::shared_ptr<const Layer> layer;
  std::shared_ptr<const Workspace> ws;
  BackwardIO io;
  std::vector<float> dY, dhN, dcN, dX, dh0, dc0;
  // This call's parameter gradients, added into the caller's arrays afterwards: the same sums
  // whether the call was sync or async.
  std::vector<float> gWIh, gWHh, gBIh, gBHh, gWHr, gWPeep;

  void allocateGrads(const LayerSpec& s) {
    const size_t gh = s.gateSize();
    gWIh.resize(gh * s.inputSize);
    gWHh.resize(gh * s.outSize());
    io.grads.wIh = gWIh.data();
    io.grads.wHh = gWHh.data();
    if (s.bias) {
      gBIh.resize(gh);
      gBHh.resize(gh);
      io.grads.bIh = gBIh.data();
      io.grads.bHh = gBHh.data();
    }
    if (s.projSize > 0) {
      gWHr.resize(static_cast<size_t>(s.outSize()) * s.hiddenSize);
      io.grads.wHr = gWHr.data();
    }
    if (s.peepholes) {
      gWPeep.resize(3 * static_cast<size_t>(s.hiddenSize));
      io.grads.wPeep = gWPeep.data();
    }
  }

  void run() {
    std::lock_guard<std::mutex> session(ThreadPool::instance().sessionMutex());
    layer->backward(io, *ws);
  }
};

struct BackwardArgs {
  WorkspaceWrap* ws = nullptr;
  std::shared_ptr<const Layer> layer;  // the workspace's: alive even once its wrapper released it
  Span<float> dY, dhN, dcN, dX, dh0, dc0;
  long dYStride = 0;
  ParamSpans grads;
  // The arrays an async backward writes into once done, as they were read and checked: reading them
  // again could run a getter that answers with other arrays.
  Napi::Value dXValue, dh0Value, dc0Value;
  ParamValues gradValues;
};

enum BackwardField { kWorkspace, kDYStride, kDY, kDhN, kDcN, kDX, kDh0, kDc0, kGrads, kBackwardFields };
constexpr const char* kBackwardFieldNames[kBackwardFields] = {"workspace", "dYStride", "dY", "dhN", "dcN",
                                                              "dX", "dh0", "dc0", "grads"};

bool isGradsObject(const Napi::Value& g) { return g.IsObject() && !g.IsArray() && !g.IsTypedArray(); }

// `self`: the layer of the wrapper called (possibly released), which the workspace must come from.
// Every property (the grads' too) is read before anything is checked, as for the weights: a getter
// could otherwise detach an array already checked or release the workspace being read.
BackwardArgs readBackwardArgs(const Napi::CallbackInfo& info, const std::weak_ptr<const Layer>& self,
                              const char* where) {
  Napi::Env env = info.Env();
  Napi::Object o = requireObject(info, 0, where, "arguments");
  Napi::Value f[kBackwardFields];
  for (int i = 0; i < kBackwardFields; i++) f[i] = property(o, kBackwardFieldNames[i]);
  BackwardArgs a;
  if (isGradsObject(f[kGrads])) a.gradValues = paramValuesOf(f[kGrads].As<Napi::Object>());
  // No JavaScript runs from here on.
  const auto name = [](BackwardField k) { return kBackwardFieldNames[k]; };
  a.ws = WorkspaceWrap::From(f[kWorkspace]);
  if (a.ws == nullptr) {
    throwTypeError(env, where, name(kWorkspace), "a Workspace returned by forward with training: true", f[kWorkspace]);
  }
  a.layer = a.ws->owner();
  if (a.layer.owner_before(self) || self.owner_before(a.layer)) {
    throw Napi::TypeError::New(env, std::string(where) +
                                        ": workspace must come from a forward of this layer, got one from another layer");
  }
  const LayerSpec& s = a.layer->spec();
  const Workspace& ws = *a.ws->workspace();
  const size_t rows = static_cast<size_t>(ws.T) * ws.B;
  const size_t hout = s.outSize();
  const size_t h = s.hiddenSize;
  a.dYStride = getInteger(f[kDYStride], name(kDYStride), where, static_cast<long>(hout), kMaxRows, static_cast<long>(hout));
  a.dY = getFloat32(f[kDY], name(kDY), where, (rows - 1) * a.dYStride + hout, true, true);
  a.dhN = getFloat32(f[kDhN], name(kDhN), where, ws.B * hout, true);
  a.dX = getFloat32(f[kDX], name(kDX), where, rows * s.inputSize, false);
  a.dh0 = getFloat32(f[kDh0], name(kDh0), where, ws.B * hout, false);
  if (s.hasCellState()) {
    a.dcN = getFloat32(f[kDcN], name(kDcN), where, ws.B * h, true);
    a.dc0 = getFloat32(f[kDc0], name(kDc0), where, ws.B * h, false);
  } else {
    requireAbsent(f[kDcN], name(kDcN), where, "only LSTM has a cell state");
    requireAbsent(f[kDc0], name(kDc0), where, "only LSTM has a cell state");
  }
  if (!isGradsObject(f[kGrads])) {
    throwTypeError(env, where, name(kGrads), "an object of Float32Arrays (wIh, wHh, ...)", f[kGrads]);
  }
  const std::string gradsWhere = std::string(where) + " grads";
  a.grads = readParams(a.gradValues, s, gradsWhere.c_str());
  a.dXValue = f[kDX];
  a.dh0Value = f[kDh0];
  a.dc0Value = f[kDc0];
  return a;
}

void addGrads(const BackwardJob& job, const ParamSpans& into) {
  addInto(into.wIh.data, job.gWIh.data(), job.gWIh.size());
  addInto(into.wHh.data, job.gWHh.data(), job.gWHh.size());
  if (into.bIh.data) addInto(into.bIh.data, job.gBIh.data(), job.gBIh.size());
  if (into.bHh.data) addInto(into.bHh.data, job.gBHh.data(), job.gBHh.size());
  if (into.wHr.data) addInto(into.wHr.data, job.gWHr.data(), job.gWHr.size());
  if (into.wPeep.data) addInto(into.wPeep.data, job.gWPeep.data(), job.gWPeep.size());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Workspace

Napi::Function WorkspaceWrap::Define(Napi::Env env) {
  return DefineClass(env, "Workspace",
                     {InstanceAccessor<&WorkspaceWrap::ByteLength>("byteLength"),
                      InstanceMethod<&WorkspaceWrap::Release>("release")});
}

Napi::Object WorkspaceWrap::Create(Napi::Env env, std::shared_ptr<Workspace> ws, std::shared_ptr<const Layer> owner) {
  auto* data = env.GetInstanceData<AddonData>();
  struct Payload {
    std::shared_ptr<Workspace> ws;
    std::shared_ptr<const Layer> owner;
  } payload{std::move(ws), std::move(owner)};
  Napi::Object obj = data->workspaceClass.New({Napi::External<Payload>::New(env, &payload)});
  obj.TypeTag(&kWorkspaceTag);
  WorkspaceWrap* self = Unwrap(obj);
  self->ws_ = std::move(payload.ws);
  self->owner_ = std::move(payload.owner);
  self->accounted_ = static_cast<int64_t>(self->ws_->bytes());
  Napi::MemoryManagement::AdjustExternalMemory(env, self->accounted_);
  return obj;
}

WorkspaceWrap* WorkspaceWrap::From(const Napi::Value& v) {
  if (!v.IsObject()) return nullptr;
  Napi::Object o = v.As<Napi::Object>();
  if (!o.CheckTypeTag(&kWorkspaceTag)) return nullptr;
  WorkspaceWrap* w = Unwrap(o);
  return w != nullptr && w->ws_ ? w : nullptr;
}

WorkspaceWrap::WorkspaceWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<WorkspaceWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw Napi::TypeError::New(info.Env(), "Workspace: cannot be constructed from JavaScript; "
                                           "it is returned by Layer.forward with training: true");
  }
}

void WorkspaceWrap::Finalize(Napi::Env env) {
  if (accounted_) Napi::MemoryManagement::AdjustExternalMemory(env, -accounted_);
}

// Gives the memory back now instead of at garbage collection (a tape serves one backward; the
// next training step then reuses these pages). An async backward still running keeps its own
// reference, so releasing never pulls memory from under it.
Napi::Value WorkspaceWrap::Release(const Napi::CallbackInfo& info) {
  ws_.reset();
  owner_.reset();  // a released layer's weights go with its last workspace
  if (accounted_) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -accounted_);
  accounted_ = 0;
  return info.Env().Undefined();
}

Napi::Value WorkspaceWrap::ByteLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(ws_ ? ws_->bytes() : 0));
}

// ---------------------------------------------------------------------------------------------
// Layer

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
  LayerParams params;
  params.wIh = copyOf(w.wIh);
  params.wHh = copyOf(w.wHh);
  params.bIh = copyOf(w.bIh);
  params.bHh = copyOf(w.bHh);
  params.wHr = copyOf(w.wHr);
  params.wPeep = copyOf(w.wPeep);
  layer_ = std::make_shared<const Layer>(spec, std::move(params));
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
  Napi::Env env = info.Env();
  const BackwardArgs a = readBackwardArgs(info, self_, "Layer.backward");
  BackwardJob job;
  job.layer = a.layer;
  job.ws = a.ws->workspace();
  job.io.dY = a.dY.data;
  job.io.ldDY = a.dYStride;
  job.io.dhN = a.dhN.data;
  job.io.dcN = a.dcN.data;
  job.io.dX = a.dX.data;
  job.io.dh0 = a.dh0.data;
  job.io.dc0 = a.dc0.data;
  job.allocateGrads(a.layer->spec());
  job.run();
  addGrads(job, a.grads);
  return env.Undefined();
}

Napi::Value LayerWrap::BackwardAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const BackwardArgs a = readBackwardArgs(info, self_, "Layer.backwardAsync");
  const LayerSpec& s = a.layer->spec();
  auto job = std::make_unique<BackwardJob>();
  job->layer = a.layer;
  job->ws = a.ws->workspace();
  const Workspace& ws = *job->ws;
  const size_t rows = static_cast<size_t>(ws.T) * ws.B;
  const int hout = s.outSize();
  // dY is compacted to contiguous rows so the copy is no larger than the rows the kernel reads.
  if (a.dY.data) {
    job->dY.resize(rows * hout);
    copyRows(job->dY.data(), hout, a.dY.data, a.dYStride, static_cast<long>(rows), hout);
    job->io.dY = job->dY.data();
    job->io.ldDY = hout;
  }
  job->io.dhN = keep(job->dhN, a.dhN);
  job->io.dcN = keep(job->dcN, a.dcN);
  job->dX.resize(a.dX.length);
  job->dh0.resize(a.dh0.length);
  job->dc0.resize(a.dc0.length);
  job->io.dX = job->dX.data();
  job->io.dh0 = job->dh0.data();
  job->io.dc0 = a.dc0.data ? job->dc0.data() : nullptr;
  job->allocateGrads(s);

  std::vector<Destination> outs;
  outs.push_back(destination(a.dXValue, "dX", a.dX.length));
  outs.push_back(destination(a.dh0Value, "dh0", a.dh0.length));
  if (a.dc0.data) outs.push_back(destination(a.dc0Value, "dc0", a.dc0.length));
  const Span<float>* grads[kParamFields] = {&a.grads.wIh, &a.grads.wHh, &a.grads.bIh, &a.grads.bHh, &a.grads.wHr, &a.grads.wPeep};
  for (int i = 0; i < kParamFields; i++) {
    if (grads[i]->data) outs.push_back(destination(a.gradValues.v[i], kParamFieldNames[i], grads[i]->length));
  }
  return queue(env, "cellscan.backward", std::move(job),
               [outs = std::move(outs)](Napi::Env env, BackwardJob& job) mutable -> Napi::Value {
                 std::vector<float*> dst;
                 for (Destination& d : outs) dst.push_back(reopen(d, "Layer.backwardAsync"));
                 // Same order as outs: dX, dh0, [dc0], then the gradients this layer has.
                 size_t k = 0;
                 std::memcpy(dst[k++], job.dX.data(), job.dX.size() * sizeof(float));
                 std::memcpy(dst[k++], job.dh0.data(), job.dh0.size() * sizeof(float));
                 if (job.io.dc0) std::memcpy(dst[k++], job.dc0.data(), job.dc0.size() * sizeof(float));
                 for (const std::vector<float>* g : {&job.gWIh, &job.gWHh, &job.gBIh, &job.gBHh, &job.gWHr, &job.gWPeep}) {
                   if (!g->empty()) addInto(dst[k++], g->data(), g->size());
                 }
                 return env.Undefined();
               });
}

}  // namespace cellscan::js
