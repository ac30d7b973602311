#pragma once
#include "gemm.h"

namespace cellscan {

// Packs rows [r0, r0 + rows) x K range [k0, k0 + kc) of op(A) into panels of panelRows rows:
// panel p holds kc groups of panelRows values; rows past the end are zero so kernels need no edge
// loads.
void packPanelsA(float* dst, MatrixRef a, int r0, int rows, int k0, int kc, int panelRows);

// Packs K range [k0, k0 + kc) x columns [c0, c0 + cols) of op(B) into panels of kNr columns.
void packPanelsB(float* dst, MatrixRef b, int k0, int kc, int c0, int cols);

}  // namespace cellscan
