#pragma once

namespace cellscan {

// Every GEMM tile kernel (isa/kernel_table.h) computes kMr x kNr outputs from packed panels, so one
// packed layout serves every ISA and weights packed once stay valid whichever kernel runs.
//
// c[mr, nr] = (accumulate ? c : 0) + a-panel · b-panel, where the a-panel holds kc groups of kMr
// floats (kMr rows of op(A), interleaved) and the b-panel kc groups of kNr floats. Only the first
// mr (≤ kMr) rows and nr (≤ kNr) columns of c are read or written.
constexpr int kMr = 6;
constexpr int kNr = 16;

}  // namespace cellscan
