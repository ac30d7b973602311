#pragma once

namespace cellscan {

// Every microkernel computes a tile of kMr x kNr outputs from packed panels, so one packed layout
// serves every ISA and weights packed once stay valid whichever kernel runs.
constexpr int kMr = 6;
constexpr int kNr = 16;

// c[mr, nr] = (accumulate ? c : 0) + a[kc, kMr]ᵀ-panel · b[kc, kNr]-panel.
// a: kc groups of kMr floats (rows of op(A) interleaved); b: kc groups of kNr floats.
// Only the first mr (≤ kMr) rows and nr (≤ kNr) columns of c are read or written.
using MicroKernel = void (*)(int kc, const float* a, const float* b, float* c, long ldc, int mr, int nr,
                             bool accumulate);

struct GemmKernel {
  const char* name;
  MicroKernel tile;
};

void gemmTile6x16Portable(int kc, const float* a, const float* b, float* c, long ldc, int mr, int nr,
                          bool accumulate);

// The kernel chosen for this CPU, once.
const GemmKernel& gemmKernel();

}  // namespace cellscan
