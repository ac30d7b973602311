#include "pack.h"

#include <algorithm>

#include "microkernel.h"

namespace cellscan {
namespace {

// One panel of `width` lanes (valid of them filled, the rest zero) from op(X) rows/cols.
// Reading along the contiguous direction of the source keeps the packing loads sequential.
template <int Width>
void packPanel(float* dst, MatrixRef x, int lane0, int valid, int k0, int kc, bool lanesAreRows) {
  // op(X)[lane, k] when lanes are rows of op(X) (A operand), op(X)[k, lane] for columns (B operand).
  const bool lanesContiguous = lanesAreRows ? x.trans : !x.trans;
  if (lanesContiguous) {
    for (int k = 0; k < kc; k++) {
      const float* src = x.data + static_cast<long>(k0 + k) * x.ld + lane0;
      float* d = dst + k * Width;
      int l = 0;
      for (; l < valid; l++) d[l] = src[l];
      for (; l < Width; l++) d[l] = 0.0f;
    }
  } else {
    for (int l = 0; l < valid; l++) {
      const float* src = x.data + static_cast<long>(lane0 + l) * x.ld + k0;
      for (int k = 0; k < kc; k++) dst[k * Width + l] = src[k];
    }
    for (int l = valid; l < Width; l++) {
      for (int k = 0; k < kc; k++) dst[k * Width + l] = 0.0f;
    }
  }
}

}  // namespace

void packPanelsA(float* dst, MatrixRef a, int r0, int rows, int k0, int kc) {
  for (int p = 0; p < rows; p += kMr) {
    packPanel<kMr>(dst, a, r0 + p, std::min(kMr, rows - p), k0, kc, true);
    dst += static_cast<long>(kc) * kMr;
  }
}

void packPanelsB(float* dst, MatrixRef b, int k0, int kc, int c0, int cols) {
  for (int p = 0; p < cols; p += kNr) {
    packPanel<kNr>(dst, b, c0 + p, std::min(kNr, cols - p), k0, kc, false);
    dst += static_cast<long>(kc) * kNr;
  }
}

}  // namespace cellscan
