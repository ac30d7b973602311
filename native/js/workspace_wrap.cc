#include "workspace_wrap.h"

#include "addon_data.h"

namespace cellscan::js {
namespace {

const napi_type_tag kWorkspaceTag = {0x9c1e5a7d3b2f4e61ULL, 0xa4d8c0b7e3f21965ULL};

}  // namespace

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

}  // namespace cellscan::js
