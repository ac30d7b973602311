#include "pack.h"

#include <algorithm>

#include "microkernel.h"

namespace cellscan {
namespace {

// One panel of Width lanes (valid of them filled, the rest zero) from op(X) rows/cols. Width is a
// template argument so the per-k copy of the contiguous case compiles to a few vector moves.
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

template <int Width>
void packRowPanels(float* dst, MatrixRef a, int r0, int rows, int k0, int kc) {
  for (int p = 0; p < rows; p += Width) {
    packPanel<Width>(dst, a, r0 + p, std::min(Width, rows - p), k0, kc, true);
    dst += static_cast<long>(kc) * Width;
  }
}

}  // namespace

void packPanelsA(float* dst, MatrixRef a, int r0, int rows, int k0, int kc, int panelRows) {
  static_assert(kMaxTileRows == 12, "packPanelsA instantiates every table's panel height");
  if (panelRows == 12) {
    packRowPanels<12>(dst, a, r0, rows, k0, kc);
  } else {
    packRowPanels<6>(dst, a, r0, rows, k0, kc);
  }
}

void packPanelsB(float* dst, MatrixRef b, int k0, int kc, int c0, int cols) {
  for (int p = 0; p < cols; p += kNr) {
    packPanel<kNr>(dst, b, c0 + p, std::min(kNr, cols - p), k0, kc, false);
    dst += static_cast<long>(kc) * kNr;
  }
}

}  // namespace cellscan
