#pragma once
// The GEMM microkernels' contract: one signature for every ISA and the packed panels they read.
// Each ISA file (isa/avx2.cc, avx512.cc, portable.cc) names its kernels as XNNPACK does, by data
// type, operation, tile and ISA: f32_gemm_6x16__avx2_fma is six rows by sixteen columns.
namespace cellscan {

// B panels are kNr columns wide for every ISA, so weights packed once stay valid whichever kernel
// runs; A is packed on every call, so its panel height is the kernel table's own (more rows per tile
// where there are registers for them), at most kMaxTileRows.
constexpr int kNr = 16;
constexpr int kMaxTileRows = 12;

// c[mr, nr] = (accumulate ? c : 0) + a-panel · b-panels, where the a-panel holds kc groups of
// tileRows floats (tileRows rows of op(A), interleaved) and each b-panel kc groups of kNr floats,
// panels kc·kNr floats apart. Only the first mr (≤ tileRows) rows and nr columns of c are read or
// written; a kernel reads a b-panel only when nr reaches into it.
using F32GemmTile = void (*)(int kc, const float* a, const float* b, float* c, long ldc, int mr, int nr, bool accumulate);

// One row of A against packed panels: y[n] (+)= a[kc] · the ceil(n / kNr) panels that start at b
// (contiguous, kc x kNr each).
using F32Gemv = void (*)(int kc, const float* a, const float* b, float* y, int n, bool accumulate);

}  // namespace cellscan
