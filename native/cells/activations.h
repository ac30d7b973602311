#pragma once
#include <cmath>

namespace cellscan {

// Written so that huge |x| saturates cleanly: exp(-x) overflows to inf and 1/inf is 0.
inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float tanhf32(float x) { return std::tanh(x); }
inline float relu(float x) { return x > 0.0f ? x : 0.0f; }

}  // namespace cellscan
