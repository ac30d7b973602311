#pragma once
// What the addon keeps per JavaScript environment (the main thread and each worker thread).
#include <napi.h>

#include <unordered_map>

namespace cellscan::js {

struct AddonData {
  Napi::FunctionReference layerClass;
  Napi::FunctionReference workspaceClass;
  // Property keys as V8 strings, made once: a key given as a C string is converted and looked up
  // in V8's string table on every read, which was a tenth of a streaming step's binding time.
  // (Node-API before version 10 holds references to objects only: the names live in an array.)
  Napi::ObjectReference keyStrings;
  std::unordered_map<const char*, uint32_t> keyIndex;
};

// o[key] for a key that is a string literal (its address identifies it).
inline Napi::Value property(const Napi::Object& o, const char* key) {
  Napi::Env env = o.Env();
  auto* data = env.GetInstanceData<AddonData>();
  if (data == nullptr) return o.Get(key);
  if (data->keyStrings.IsEmpty()) data->keyStrings = Napi::Persistent(Napi::Array::New(env).As<Napi::Object>());
  Napi::Object strings = data->keyStrings.Value();
  auto it = data->keyIndex.find(key);
  if (it == data->keyIndex.end()) {
    const auto index = static_cast<uint32_t>(data->keyIndex.size());
    // The name as V8 keeps property names (internalized), so a read finds it without a string-table lookup.
    Napi::Object holder = Napi::Object::New(env);
    holder.Set(key, true);
    strings.Set(index, holder.GetPropertyNames().Get(0u));
    it = data->keyIndex.emplace(key, index).first;
  }
  return o.Get(strings.Get(it->second));
}

}  // namespace cellscan::js
