// The N-API surface: classes and functions only; kernels know nothing of JS.
#include <napi.h>

#include "isa/kernel_table.h"
#include "js/args.h"
#include "js/gemm_wrap.h"
#include "js/layer_wrap.h"
#include "js/workspace_wrap.h"
#include "runtime/cpu_features.h"
#include "runtime/malloc_tuning.h"
#include "runtime/thread_pool.h"

namespace cellscan::js {
namespace {

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Napi::Value v = info[0];
  const char* where = "setNumThreads";
  if (!v.IsNumber()) throwTypeError(info.Env(), where, "n", "an integer in 1..256", v);
  const double n = v.As<Napi::Number>().DoubleValue();
  if (!(n >= 1 && n <= 256) || static_cast<double>(static_cast<int>(n)) != n) {
    throwRangeError(info.Env(), where, "n", "an integer in 1..256", describe(v));
  }
  ThreadPool::instance().setThreads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value NumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), ThreadPool::instance().requested());
}

Napi::Value CpuFeatureList(const Napi::CallbackInfo& info) {
  const std::vector<std::string> names = cpuFeatureNames();
  Napi::Array out = Napi::Array::New(info.Env(), names.size());
  for (size_t i = 0; i < names.size(); i++) out.Set(static_cast<uint32_t>(i), names[i]);
  return out;
}

Napi::Value KernelSetName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), cpuKernels().name);
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneMallocForLargeBuffers();
  auto* data = new AddonData();
  Napi::Function layer = LayerWrap::Define(env);
  Napi::Function workspace = WorkspaceWrap::Define(env);
  data->layerClass = Napi::Persistent(layer);
  data->workspaceClass = Napi::Persistent(workspace);
  env.SetInstanceData<AddonData>(data);
  exports.Set("Layer", layer);
  exports.Set("forwardLayers", Napi::Function::New<LayerWrap::ForwardLayers>(env, "forwardLayers"));
  exports.Set("forwardLayersAsync", Napi::Function::New<LayerWrap::ForwardLayersAsync>(env, "forwardLayersAsync"));
  exports.Set("gemm", Napi::Function::New<Gemm>(env, "gemm"));
  exports.Set("setNumThreads", Napi::Function::New<SetNumThreads>(env, "setNumThreads"));
  exports.Set("numThreads", Napi::Function::New<NumThreads>(env, "numThreads"));
  exports.Set("cpuFeatures", Napi::Function::New<CpuFeatureList>(env, "cpuFeatures"));
  exports.Set("kernels", Napi::Function::New<KernelSetName>(env, "kernels"));
  return exports;
}

}  // namespace cellscan::js

static Napi::Object InitCellscan(Napi::Env env, Napi::Object exports) { return cellscan::js::Init(env, exports); }
NODE_API_MODULE(cellscan, InitCellscan)
