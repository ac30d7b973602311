#pragma once
// The JS Layer: the weights of one layer direction, and its forward and backward calls.
#include <napi.h>

#include <memory>
#include <vector>

#include "../cells/layer.h"
#include "layer_args.h"

namespace cellscan::js {

class LayerWrap : public Napi::ObjectWrap<LayerWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // forwardLayers(layers, args) and its async twin: the forwards of independent layers (a
  // bidirectional layer's directions) in one call, side by side where that is faster.
  static Napi::Value ForwardLayers(const Napi::CallbackInfo& info);
  static Napi::Value ForwardLayersAsync(const Napi::CallbackInfo& info);
  static constexpr uint32_t kMaxLayersPerCall = kMaxForwardCalls;
  explicit LayerWrap(const Napi::CallbackInfo& info);
  void Finalize(Napi::Env env) override;

 private:
  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value ForwardAsync(const Napi::CallbackInfo& info);
  Napi::Value Backward(const Napi::CallbackInfo& info);
  Napi::Value BackwardAsync(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  static Napi::Value forwardLayersCall(const Napi::CallbackInfo& info, const char* where, bool async);
  // The weights, or a thrown Error once released.
  const std::shared_ptr<const Layer>& live(Napi::Env env, const char* where) const;
  std::shared_ptr<const Layer> layer_;  // null once released
  std::weak_ptr<const Layer> self_;     // which workspaces are this layer's, released or not
  // Bytes reported to V8, so that layers made per call (weight dropout) or per optimizer step are
  // collected as their memory, not their small JS wrappers, demands.
  int64_t accounted_ = 0;
};

}  // namespace cellscan::js
