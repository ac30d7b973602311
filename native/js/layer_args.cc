#include "layer_args.h"

#include <climits>
#include <string>
#include <vector>

#include "workspace_wrap.h"

namespace cellscan::js {
namespace {

// Larger sizes would overflow the int-indexed products inside the kernels.
constexpr long kMaxSize = 1L << 24;
constexpr long kMaxRows = INT_MAX;

constexpr const char* kForwardFieldNames[kForwardFields] = {
    "T", "B", "x", "h0", "c0", "lengths", "y", "yStride", "hN", "cN", "training",
    "recurrentMask", "zoneoutHidden", "zoneoutHiddenMask", "zoneoutCell", "zoneoutCellMask", "stage"};

enum BackwardField { kWorkspace, kDYStride, kDY, kDhN, kDcN, kDX, kDh0, kDc0, kGrads, kBackwardFields };
constexpr const char* kBackwardFieldNames[kBackwardFields] = {"workspace", "dYStride", "dY", "dhN", "dcN",
                                                              "dX", "dh0", "dc0", "grads"};

bool isGradsObject(const Napi::Value& g) { return g.IsObject() && !g.IsArray() && !g.IsTypedArray(); }

PooledArray<float> copyOf(const Span<float>& s) {
  PooledArray<float> a;
  a.assign(s.data, s.length);
  return a;
}

// LSTM's pair of cell-state arrays, [B, H] each: the state in and out, or the gradients on the state
// out and in. The first may be absent. Other cells have no cell state: both must be absent.
void readCellStates(const Napi::Value& v0, const char* name0, Span<float>& first, const Napi::Value& v1,
                    const char* name1, Span<float>& second, const LayerSpec& s, size_t B, const char* where) {
  if (s.hasCellState()) {
    first = getFloat32(v0, name0, where, B * s.hiddenSize, true);
    second = getFloat32(v1, name1, where, B * s.hiddenSize, false);
  } else {
    requireAbsent(v0, name0, where, "only LSTM has a cell state");
    requireAbsent(v1, name1, where, "only LSTM has a cell state");
  }
}

}  // namespace

const char* const kParamFieldNames[kParamFields] = {"wIh", "wHh", "bIh", "bHh", "wHr", "wPeep"};

ParamValues paramValuesOf(const Napi::Object& o) {
  ParamValues p;
  for (int i = 0; i < kParamFields; i++) p.v[i] = property(o, kParamFieldNames[i]);
  return p;
}

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

LayerParams copyParams(const ParamSpans& w) {
  LayerParams params;
  params.wIh = copyOf(w.wIh);
  params.wHh = copyOf(w.wHh);
  params.bIh = copyOf(w.bIh);
  params.bHh = copyOf(w.bHh);
  params.wHr = copyOf(w.wHr);
  params.wPeep = copyOf(w.wPeep);
  return params;
}

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
  readCellStates(f[kC0], name(kC0), a.c0, f[kCN], name(kCN), a.cN, s, a.B, where);
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
  a.stage = static_cast<int>(getInteger(f[kStage], name(kStage), where, 0, kMaxForwardCalls - 1, 0));
  return a;
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

// The grads' properties are read with the others, before anything is checked: a getter could also
// release the workspace being read.
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
  a.dYStride = getInteger(f[kDYStride], name(kDYStride), where, static_cast<long>(hout), kMaxRows, static_cast<long>(hout));
  a.dY = getFloat32(f[kDY], name(kDY), where, (rows - 1) * a.dYStride + hout, true, true);
  a.dhN = getFloat32(f[kDhN], name(kDhN), where, ws.B * hout, true);
  a.dX = getFloat32(f[kDX], name(kDX), where, rows * s.inputSize, false);
  a.dh0 = getFloat32(f[kDh0], name(kDh0), where, ws.B * hout, false);
  readCellStates(f[kDcN], name(kDcN), a.dcN, f[kDc0], name(kDc0), a.dc0, s, ws.B, where);
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

}  // namespace cellscan::js
