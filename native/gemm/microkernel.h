#pragma once

namespace cellscan {

// Every GEMM tile kernel (isa/kernel_table.h) computes up to `tileRows` x (tilePanels · kNr) outputs
// from packed panels. B panels are kNr columns wide for every ISA, so weights packed once stay valid
// whichever kernel runs; A is packed on every call, so its panel height is the kernel table's own
// (more rows per tile where there are registers for them).
//
// c[mr, nr] = (accumulate ? c : 0) + a-panel · b-panels, where the a-panel holds kc groups of
// tileRows floats (tileRows rows of op(A), interleaved) and each b-panel kc groups of kNr floats.
// Only the first mr (≤ tileRows) rows and nr columns of c are read or written.
constexpr int kNr = 16;
constexpr int kMaxTileRows = 12;

}  // namespace cellscan
