#include "gemm.h"

#include <algorithm>

#include "../isa/kernel_table.h"
#include "../runtime/thread_pool.h"
#include "microkernel.h"
#include "pack.h"

namespace cellscan {
namespace {

// Cache blocking in the BLIS manner: a kc x nc block of B stays in L3, an mc x kc block of A in L2,
// and one kc x kNr panel of B in L1 while the kernel sweeps the A panels. The K blocking is fixed
// (never derived from the thread count) so every output is summed in the same order.
constexpr int kKc = 256;
constexpr int kMc = 120;   // multiple of kMr
constexpr int kNc = 4096;  // multiple of kNr

int roundUp(int x, int to) { return (x + to - 1) / to * to; }

// Per-thread scratch for packed panels: reused across calls instead of allocated per product.
AlignedBuffer& scratchA() {
  thread_local AlignedBuffer buffer;
  return buffer;
}
AlignedBuffer& scratchB() {
  thread_local AlignedBuffer buffer;
  return buffer;
}

void zeroRows(int m, int n, float* c, long ldc) {
  for (int i = 0; i < m; i++) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
}

// Every tile of one (mc x kc) A block against (kc x nc) B panels, split among the pool's workers
// in contiguous runs; each tile belongs to exactly one worker.
void multiplyBlock(int mc, int nc, int kc, const float* aPanels, const float* bPanels, float* c, long ldc,
                   bool accumulate) {
  const auto tile = cpuKernels().gemmTile;
  const int mPanels = (mc + kMr - 1) / kMr;
  const int nPanels = (nc + kNr - 1) / kNr;
  const long tiles = static_cast<long>(mPanels) * nPanels;
  auto run = [&](int begin, int end) {
    for (int t = begin; t < end; t++) {
      const int jp = t / mPanels;
      const int ip = t % mPanels;
      const int i = ip * kMr;
      const int j = jp * kNr;
      tile(kc, aPanels + static_cast<long>(ip) * kc * kMr, bPanels + static_cast<long>(jp) * kc * kNr,
           c + i * ldc + j, ldc, std::min(kMr, mc - i), std::min(kNr, nc - j), accumulate);
    }
  };
  // Below ~1 MFLOP the pool's wake-up costs more than it saves.
  if (static_cast<long>(mc) * nc * kc >= 512L * 1024) {
    parallelFor(static_cast<int>(tiles), run);
  } else {
    run(0, static_cast<int>(tiles));
  }
}

// The shared loop nest; `packedB` is null when B must be packed block by block here.
void gemmDriver(int m, int n, int k, MatrixRef a, MatrixRef b, const PackedMatrix* packedB, float* c, long ldc,
                bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) zeroRows(m, n, c, ldc);
    return;
  }
  float* aPanels = scratchA().grow(static_cast<size_t>(kMc) * kKc);
  float* bPanels = packedB ? nullptr : scratchB().grow(static_cast<size_t>(kKc) * kNc);
  for (int jc = 0; jc < n; jc += kNc) {
    const int nc = std::min(kNc, n - jc);
    for (int pc = 0; pc < k; pc += kKc) {
      const int kc = std::min(kKc, k - pc);
      const float* bBlock;
      if (packedB) {
        bBlock = packedB->block(pc, kc, 0, jc);
      } else {
        packPanelsB(bPanels, b, pc, kc, jc, nc);
        bBlock = bPanels;
      }
      const bool acc = accumulate || pc > 0;
      for (int ic = 0; ic < m; ic += kMc) {
        const int mc = std::min(kMc, m - ic);
        packPanelsA(aPanels, a, ic, mc, pc, kc);
        multiplyBlock(mc, nc, kc, aPanels, bBlock, c + ic * ldc + jc, ldc, acc);
      }
    }
  }
}

}  // namespace

PackedMatrix::PackedMatrix(int k, int n, MatrixRef b, int groups)
    : k_(k), n_(n), groups_(groups), groupCols_(n / groups), groupPadded_(roundUp(n / groups, kNr)) {
  nPadded_ = groups_ * groupPadded_;
  panels_.grow(static_cast<size_t>(k) * nPadded_ + 1);
  // K block [pc, pc + kc) starts at pc * nPadded_; in it, group g's panels start at g * groupPadded_ * kc.
  for (int pc = 0; pc < k; pc += kKc) {
    const int kc = std::min(kKc, k - pc);
    for (int g = 0; g < groups_; g++) {
      float* dst = panels_.data() + static_cast<long>(pc) * nPadded_ + static_cast<long>(g) * groupPadded_ * kc;
      packPanelsB(dst, b, pc, kc, g * groupCols_, groupCols_);
    }
  }
}

const float* PackedMatrix::block(int k0, int kc, int g, int c0) const {
  return panels_.data() + static_cast<long>(k0) * nPadded_ + (static_cast<long>(g) * groupPadded_ + c0) * kc;
}

void sgemm(int m, int n, int k, MatrixRef a, MatrixRef b, float* c, long ldc, bool accumulate) {
  gemmDriver(m, n, k, a, b, nullptr, c, ldc, accumulate);
}

void sgemm(int m, MatrixRef a, const PackedMatrix& b, float* c, long ldc, bool accumulate) {
  gemmDriver(m, b.cols(), b.rows(), a, MatrixRef{nullptr, 0, false}, &b, c, ldc, accumulate);
}

void gemmGroupColumns(int m, MatrixRef a, const PackedMatrix& b, int j0, int j1, const GroupOutput* outs) {
  if (m <= 0 || j0 >= j1) return;
  const int k = b.rows();
  const auto tile = cpuKernels().gemmTile;
  if (k <= 0) {
    for (int g = 0; g < b.groups(); g++) {
      if (!outs[g].accumulate) zeroRows(m, j1 - j0, outs[g].c + j0, outs[g].ldc);
    }
    return;
  }
  const int mPadded = roundUp(m, kMr);
  float* aPanels = scratchA().grow(static_cast<size_t>(mPadded) * std::min(k, kKc));
  for (int pc = 0; pc < k; pc += kKc) {
    const int kc = std::min(kKc, k - pc);
    packPanelsA(aPanels, a, 0, m, pc, kc);
    for (int g = 0; g < b.groups(); g++) {
      const GroupOutput& out = outs[g];
      const bool acc = out.accumulate || pc > 0;
      for (int j = j0; j < j1; j += kNr) {
        const float* panel = b.block(pc, kc, g, j);
        const int nr = std::min(kNr, j1 - j);
        for (int i = 0; i < m; i += kMr) {
          tile(kc, aPanels + static_cast<long>(i) * kc, panel, out.c + i * out.ldc + j, out.ldc, std::min(kMr, m - i),
               nr, acc);
        }
      }
    }
  }
}

}  // namespace cellscan
