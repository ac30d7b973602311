#pragma once
// The JS Workspace: what a training forward keeps for backward, opaque to JS.
#include <napi.h>

#include <memory>

#include "../cells/layer.h"

namespace cellscan::js {

class WorkspaceWrap : public Napi::ObjectWrap<WorkspaceWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Create(Napi::Env env, std::shared_ptr<Workspace> ws, std::shared_ptr<const Layer> owner);
  // The wrapped workspace behind a JS value, or null when the value is not a genuine Workspace.
  static WorkspaceWrap* From(const Napi::Value& v);

  explicit WorkspaceWrap(const Napi::CallbackInfo& info);
  void Finalize(Napi::Env env) override;

  const std::shared_ptr<Workspace>& workspace() const { return ws_; }
  const std::shared_ptr<const Layer>& owner() const { return owner_; }

 private:
  Napi::Value ByteLength(const Napi::CallbackInfo& info);
  Napi::Value Release(const Napi::CallbackInfo& info);
  std::shared_ptr<Workspace> ws_;
  std::shared_ptr<const Layer> owner_;
  int64_t accounted_ = 0;
};

}  // namespace cellscan::js
