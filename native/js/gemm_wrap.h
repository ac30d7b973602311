#pragma once
#include <napi.h>

namespace cellscan::js {

// gemm({ m, n, k, a, transA, b, transB, c, accumulate }): c[m, n] (+)= op(a)[m, k] · op(b)[k, n],
// row-major, a and b dense (op(X) = Xᵀ when trans is set). For layers outside the recurrent
// kernels (Linear) and for measuring the GEMM itself.
Napi::Value Gemm(const Napi::CallbackInfo& info);

}  // namespace cellscan::js
