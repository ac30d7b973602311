#pragma once
// The Layer class's arguments read into plain C++ values: its spec and weights, a forward's and a
// backward's. Every property is read before any is checked: a getter runs JavaScript, which could
// detach or shrink (a resizable buffer) an array already checked, leaving its pointer to freed or
// unmapped memory, if reads and checks took turns.
#include <napi.h>

#include <memory>

#include "../cells/layer.h"
#include "args.h"

namespace cellscan::js {

class WorkspaceWrap;

// The arrays of a weights or grads object.
enum ParamField { kWIh, kWHh, kBIh, kBHh, kWHr, kWPeep, kParamFields };
extern const char* const kParamFieldNames[kParamFields];

struct ParamValues {
  Napi::Value v[kParamFields];
};
ParamValues paramValuesOf(const Napi::Object& o);

struct ParamSpans {
  Span<float> wIh, wHh, bIh, bHh, wHr, wPeep;
};
// Exactly the arrays this layer has, each of its exact size; the others must be absent.
ParamSpans readParams(const ParamValues& v, const LayerSpec& s, const char* where);
LayerParams copyParams(const ParamSpans& w);

LayerSpec readSpec(const Napi::Object& o, const char* where);

// A forward's arguments, as Layer.forward takes them (an object's properties) or forwardLayers
// (positional, in this order after each layer: no property lookups on a streaming step's path).
// Calls in one forwardLayers, at most (so stages are 0..kMaxForwardCalls - 1).
constexpr int kMaxForwardCalls = 64;

enum ForwardField {
  kT, kB, kX, kH0, kC0, kLengths, kY, kYStride, kHN, kCN, kTraining,
  kRecurrentMask, kZoneoutHidden, kZoneoutHiddenMask, kZoneoutCell, kZoneoutCellMask, kStage, kForwardFields
};

struct ForwardValues {
  Napi::Value v[kForwardFields];
  const Napi::Value& operator[](ForwardField f) const { return v[f]; }
};
ForwardValues fieldsOf(const Napi::Object& o);
ForwardValues fieldsAt(const Napi::CallbackInfo& info, size_t first);

struct ForwardArgs {
  Span<float> x, h0, c0, y, hN, cN, recurrentMask;
  Span<int32_t> lengths;
  Span<uint8_t> zoneoutHMask, zoneoutCMask;
  float zoneoutH = 0, zoneoutC = 0;
  int T = 0, B = 0;
  long yStride = 0;
  bool training = false;
  // Calls of one forwardLayers run in stages, in order: stage s + 1 may read stage s's output as
  // its input (a stack of layers in one call). The calls of a stage are independent.
  int stage = 0;
};
ForwardArgs readForwardArgs(const ForwardValues& f, const LayerSpec& s, const char* where);
// The arguments as the kernels take them, pointing at the caller's arrays.
ForwardIO forwardIO(const ForwardArgs& a);

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
// `self`: the layer of the wrapper called (possibly released), which the workspace must come from.
BackwardArgs readBackwardArgs(const Napi::CallbackInfo& info, const std::weak_ptr<const Layer>& self,
                              const char* where);

}  // namespace cellscan::js
