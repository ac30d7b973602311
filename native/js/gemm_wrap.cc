#include "gemm_wrap.h"

#include <climits>

#include "../gemm/gemm.h"
#include "args.h"

namespace cellscan::js {

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  const char* where = "gemm";
  Napi::Object o = requireObject(info, 0, where, "arguments");
  // Every property is read before any is checked: a getter run between the check of `a` and the
  // product could detach or shrink it, leaving its pointer to freed or unmapped memory.
  const char* const keys[] = {"m", "n", "k", "transA", "transB", "accumulate", "a", "b", "c"};
  Napi::Value v[9];
  for (int i = 0; i < 9; i++) v[i] = property(o, keys[i]);
  const long m = getInteger(v[0], keys[0], where, 0, INT_MAX);
  const long n = getInteger(v[1], keys[1], where, 0, INT_MAX);
  const long k = getInteger(v[2], keys[2], where, 0, INT_MAX);
  const bool transA = getBoolean(v[3], keys[3], where, false);
  const bool transB = getBoolean(v[4], keys[4], where, false);
  const bool accumulate = getBoolean(v[5], keys[5], where, false);
  const Span<float> a = getFloat32(v[6], keys[6], where, static_cast<size_t>(m) * k, false);
  const Span<float> b = getFloat32(v[7], keys[7], where, static_cast<size_t>(k) * n, false);
  const Span<float> c = getFloat32(v[8], keys[8], where, static_cast<size_t>(m) * n, false);
  runGemm(static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), MatrixRef{a.data, transA ? m : k, transA},
          MatrixRef{b.data, transB ? k : n, transB}, c.data, n, accumulate);
  return info.Env().Undefined();
}

}  // namespace cellscan::js
