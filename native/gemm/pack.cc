#include "pack.h"

#include <algorithm>
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

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
  if (lanesContiguous && valid == Width) {
    // Whole panels: a fixed-length copy per k, which the compiler turns into vector moves.
    for (int k = 0; k < kc; k++) {
      const float* src = x.data + static_cast<long>(k0 + k) * x.ld + lane0;
      float* d = dst + k * Width;
      for (int l = 0; l < Width; l++) d[l] = src[l];
    }
  } else if (lanesContiguous) {
    for (int k = 0; k < kc; k++) {
      const float* src = x.data + static_cast<long>(k0 + k) * x.ld + lane0;
      float* d = dst + k * Width;
      int l = 0;
      for (; l < valid; l++) d[l] = src[l];
      for (; l < Width; l++) d[l] = 0.0f;
    }
  } else {
    int l = 0;
#if defined(__SSE2__)
    // Four lanes at a time through a 4 x 4 transpose: four loads and four stores per 16 values
    // instead of sixteen scalar stores Width floats apart. (Every step packs h this way.)
    for (; l + 4 <= valid; l += 4) {
      const float* s0 = x.data + static_cast<long>(lane0 + l) * x.ld + k0;
      const float* s1 = s0 + x.ld;
      const float* s2 = s1 + x.ld;
      const float* s3 = s2 + x.ld;
      int k = 0;
      for (; k + 4 <= kc; k += 4) {
        __m128 r0 = _mm_loadu_ps(s0 + k), r1 = _mm_loadu_ps(s1 + k);
        __m128 r2 = _mm_loadu_ps(s2 + k), r3 = _mm_loadu_ps(s3 + k);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_storeu_ps(dst + k * Width + l, r0);
        _mm_storeu_ps(dst + (k + 1) * Width + l, r1);
        _mm_storeu_ps(dst + (k + 2) * Width + l, r2);
        _mm_storeu_ps(dst + (k + 3) * Width + l, r3);
      }
      for (; k < kc; k++) {
        float* d = dst + k * Width + l;
        d[0] = s0[k];
        d[1] = s1[k];
        d[2] = s2[k];
        d[3] = s3[k];
      }
    }
#endif
    for (; l < valid; l++) {
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
