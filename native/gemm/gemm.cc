#include "gemm.h"

#include <algorithm>

#include "../isa/kernel_table.h"
#include "../runtime/block_claims.h"
#include "../runtime/compute_session.h"
#include "../runtime/thread_pool.h"
#include "microkernel.h"
#include "pack.h"

namespace cellscan {
namespace {

// Up to this many rows a product against packed weights is a stream of the weights.
constexpr int kFewRows = 8;

// Cache blocking in the BLIS manner: a kc x nc block of B stays in L3, an mc x kc block of A in L2,
// and the kc x (tile width) panels of B one tile reads stay close (L1, or L2 for the AVX-512 tile)
// while the kernel sweeps the A panels. The K blocking comes with the kernel table and never from
// the thread count, so every output is summed in the same order.
constexpr int kMc = 120;   // multiple of every table's tileRows
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

// One worker's share of the product: rows [rows.begin, rows.end) against column tiles
// [tiles.begin, tiles.end) of the current (kc x nc) B block, packing its own A rows in kMc chunks.
// With a bias (first K block only), each c tile starts as the bias rows and the tile adds onto
// them while they are in L1, instead of a separate pass over all of c.
void multiplyShare(F32GemmTile tile, MatrixRef a, int pc, int kc, Range rows, Range tiles, int nc,
                   const float* bBlock, float* c, long ldc, bool accumulate, const float* bias, float* aPanels) {
  const CpuKernels& k = cpuKernels();
  const int tileCols = k.tilePanels * kNr;
  const int mr = k.tileRows;
  for (int ic = rows.begin; ic < rows.end; ic += kMc) {
    const int mc = std::min(kMc, rows.end - ic);
    packPanelsA(aPanels, a, ic, mc, pc, kc, mr);
    // Each tile of B stays in L1 while every A panel of the chunk passes over it.
    for (int jt = tiles.begin; jt < tiles.end; jt++) {
      const int j = jt * tileCols;
      const int nr = std::min(tileCols, nc - j);
      for (int i = 0; i < mc; i += mr) {
        float* cTile = c + (ic + i) * ldc + j;
        const int rowsHere = std::min(mr, mc - i);
        if (bias) {
          for (int r = 0; r < rowsHere; r++) std::copy(bias + j, bias + j + nr, cTile + r * ldc);
        }
        tile(kc, aPanels + static_cast<long>(i) * kc, bBlock + static_cast<long>(j) * kc, cTile, ldc, rowsHere, nr,
             accumulate || bias);
      }
    }
  }
}

// The loop nest, run by every worker at once. With enough rows, workers claim chunks of kMc rows
// (BlockClaims: each its own range first, then the others' last chunks), each packing only its own
// A; with few, they split the column tiles and each packs all the rows. A B block that needs
// packing is packed by all of them together, between two barriers, and its chunks are claimed
// anew. Already packed B in one K block needs no barrier: a claimed chunk runs through every column
// block itself. Packed B in several K blocks goes block by block like unpacked B, minus the
// packing, so that all chunks read one block while it is in L3.
// Either way an output element is summed in the same K order, whoever computes it.
//
// Claiming rather than halving: on a shared machine one core often runs slower than the other for
// seconds at a time, and with fixed halves the faster one then idles at the end of every product.
void gemmDriver(int m, int n, int k, MatrixRef a, MatrixRef b, const PackedMatrix* packedB, float* c, long ldc,
                bool accumulate, const float* bias = nullptr) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (bias) {
      for (int i = 0; i < m; i++) std::copy(bias, bias + n, c + i * ldc);
    } else if (!accumulate) {
      zeroRows(m, n, c, ldc);
    }
    return;
  }
  const CpuKernels& kernels = cpuKernels();
  const int kKc = kernels.kc;
  const int tileCols = kernels.tilePanels * kNr;
  const F32GemmTile tile = kernels.tileFor(m);
  ThreadPool& pool = ThreadPool::instance();
  const int workers = gemmWorkers(m, n, k, packedB != nullptr);
  // Rows are claimed in chunks of kMc, so splitting them needs a few chunks per worker; below that
  // the columns are split and every worker packs all of A (a projection of 50 rows is one chunk,
  // which would leave all but one worker idle).
  const int rowChunks = (m + kMc - 1) / kMc;
  const bool splitRows = rowChunks >= 2 * workers;
  // A few rows against packed B (a streaming step): tiles of columns are claimed, each through every
  // K block.
  const bool claimTiles = packedB && !splitRows && m <= kFewRows;
  const int chunks = splitRows ? rowChunks : claimTiles ? (n + tileCols - 1) / tileCols : 0;
  const auto chunkRows = [m](int i) { return Range{i * kMc, std::min(m, (i + 1) * kMc)}; };
  float* bPanels = packedB ? nullptr : scratchB().grow(static_cast<size_t>(kKc) * kNc);
  SpinBarrier barrier(workers);
  BlockClaims claims(workers, chunks);
  pool.run(
      [&](int w, int nw) {
        float* aPanels = scratchA().grow(static_cast<size_t>(kMc) * kKc);
        // Every B block of columns [jc, jc + nc) and K rows [pc, pc + kc), in order.
        const auto forBlocks = [&](auto&& body) {
          for (int jc = 0; jc < n; jc += kNc) {
            for (int pc = 0; pc < k; pc += kKc) body(jc, std::min(kNc, n - jc), pc, std::min(kKc, k - pc));
          }
        };
        const auto multiply = [&](int jc, int nc, int pc, int kc, const float* bBlock, Range rows, Range tiles) {
          multiplyShare(tile, a, pc, kc, rows, tiles, nc, bBlock, c + jc, ldc, accumulate || pc > 0,
                        bias && pc == 0 ? bias + jc : nullptr, aPanels);
        };
        const auto tileCount = [tileCols](int nc) { return (nc + tileCols - 1) / tileCols; };
        if (packedB && !(splitRows && k > kKc)) {  // one K block, or columns split: no barriers
          if (splitRows) {
            claims.forEach(w, 0, [&](int i) {
              forBlocks([&](int jc, int nc, int pc, int kc) {
                multiply(jc, nc, pc, kc, packedB->block(pc, kc, 0, jc), chunkRows(i), {0, tileCount(nc)});
              });
            });
          } else if (claimTiles) {
            // A is packed once per worker for every K block (one row is read as it is, by the gemv
            // kernel), not once per tile: padding one row to a full tile of rows per tile cost more
            // than the product.
            const float* aPacked = packRows(m, a, *packedB);
            claims.forEach(w, 0, [&](int i) {
              const int j0 = i * tileCols;
              const int j1 = std::min(j0 + tileCols, n);
              if (bias) {
                for (int r = 0; r < m; r++) std::copy(bias + j0, bias + j1, c + r * ldc + j0);
              }
              const GroupOutput out{c, ldc, accumulate || bias != nullptr};
              gemmGroupColumnsPacked(m, aPacked, *packedB, Range{0, m}, j0, j1, &out);
            });
          } else {
            forBlocks([&](int jc, int nc, int pc, int kc) {
              multiply(jc, nc, pc, kc, packedB->block(pc, kc, 0, jc), {0, m}, blockRange(w, nw, tileCount(nc), 1));
            });
          }
          return;
        }
        int phase = 0;
        forBlocks([&](int jc, int nc, int pc, int kc) {
          const float* bBlock = packedB ? packedB->block(pc, kc, 0, jc) : bPanels;
          if (!packedB) {
            const int panels = (nc + kNr - 1) / kNr;
            const Range mine = blockRange(w, nw, panels, 1);
            if (mine.begin < mine.end) {
              packPanelsB(bPanels + static_cast<long>(mine.begin) * kNr * kc, b, pc, kc, jc + mine.begin * kNr,
                          std::min(nc, mine.end * kNr) - mine.begin * kNr);
            }
            barrier.wait();  // the whole block is packed
          }
          if (splitRows) {
            claims.forEach(w, phase++, [&](int i) { multiply(jc, nc, pc, kc, bBlock, chunkRows(i), {0, tileCount(nc)}); });
          } else {
            multiply(jc, nc, pc, kc, bBlock, {0, m}, blockRange(w, nw, tileCount(nc), 1));
          }
          barrier.wait();  // nobody still reads the block the next one repacks, nor claims its chunks
        });
      },
      workers, claimTiles || (packedB && splitRows && k <= kKc) ? ThreadPool::Joining::AsAvailable : ThreadPool::Joining::All);
}

}  // namespace

int gemmWorkers(int m, int n, int k, bool packedB) {
  // Below ~4 MFLOP the pool's wake-up and barriers cost more than they save, unless the product
  // is a few rows against large packed weights: then its time is the weights' stream from L3, which
  // two cores' shares halve (and each share may stay in its core's L2 from call to call).
  const double flops = 2.0 * m * n * k;
  const bool streamsWeights = packedB && m <= kFewRows && 4.0 * n * k >= kStreamedWeightBytes;
  return flops < 4e6 && !streamsWeights ? 1 : ThreadPool::instance().threads();
}

PackedMatrix::PackedMatrix(int k, int n, MatrixRef b, int groups)
    : k_(k), n_(n), groups_(groups), groupCols_(n / groups), groupPadded_(roundUp(n / groups, kNr)) {
  nPadded_ = groups_ * groupPadded_;
  kc_ = cpuKernels().kc;
  panels_.grow(static_cast<size_t>(k) * nPadded_ + 1);
  // K block [pc, pc + kc) starts at pc * nPadded_; in it, group g's panels start at g * groupPadded_ * kc.
  for (int pc = 0; pc < k; pc += kc_) {
    const int kc = std::min(kc_, k - pc);
    for (int g = 0; g < groups_; g++) {
      float* dst = panels_.data() + static_cast<long>(pc) * nPadded_ + static_cast<long>(g) * groupPadded_ * kc;
      packPanelsB(dst, b, pc, kc, g * groupCols_, groupCols_);
    }
  }
}

const float* PackedMatrix::block(int k0, int kc, int g, int c0) const {
  return panels_.data() + static_cast<long>(k0) * nPadded_ + (static_cast<long>(g) * groupPadded_ + c0) * kc;
}

void runGemm(int m, int n, int k, MatrixRef a, MatrixRef b, float* c, long ldc, bool accumulate) {
  ComputeSession session;
  sgemm(m, n, k, a, b, c, ldc, accumulate);
}

void sgemm(int m, int n, int k, MatrixRef a, MatrixRef b, float* c, long ldc, bool accumulate) {
  gemmDriver(m, n, k, a, b, nullptr, c, ldc, accumulate);
}

void sgemm(int m, MatrixRef a, const PackedMatrix& b, float* c, long ldc, bool accumulate) {
  gemmDriver(m, b.cols(), b.rows(), a, MatrixRef{nullptr, 0, false}, &b, c, ldc, accumulate);
}

void sgemmBias(int m, MatrixRef a, const PackedMatrix& b, const float* bias, float* c, long ldc) {
  gemmDriver(m, b.cols(), b.rows(), a, MatrixRef{nullptr, 0, false}, &b, c, ldc, false, bias);
}

// Packed A for the group products: every K block of op(A) in turn, block pc at pc * mPadded, each
// as tileRows-high panels. One row is kept as the plain row instead: the gemv kernel reads it.
const float* packRows(int m, MatrixRef a, const PackedMatrix& b) {
  const CpuKernels& kernels = cpuKernels();
  const int k = b.rows();
  if (m == 1) {
    if (!a.trans) return a.data;
    float* row = scratchA().grow(static_cast<size_t>(k));
    for (int i = 0; i < k; i++) row[i] = a.data[static_cast<long>(i) * a.ld];
    return row;
  }
  const int mPadded = roundUp(m, kernels.tileRows);
  float* panels = scratchA().grow(static_cast<size_t>(mPadded) * k);
  for (int pc = 0; pc < k; pc += kernels.kc) {
    packPanelsA(panels + static_cast<long>(pc) * mPadded, a, 0, m, pc, std::min(kernels.kc, k - pc), kernels.tileRows);
  }
  return panels;
}

namespace {

// All of every group's columns, panels without padding between groups, outputs side by side with
// the same accumulation: one product of groups x (j1 - j0) columns.
bool mergesGroups(const PackedMatrix& b, const GroupOutput* outs, int j0, int j1) {
  if (b.groups() < 2 || j0 != 0 || j1 != b.groupCols() || b.groupCols() % kNr != 0) return false;
  for (int g = 1; g < b.groups(); g++) {
    if (outs[g].c != outs[0].c + static_cast<long>(g) * j1 || outs[g].accumulate != outs[0].accumulate) return false;
  }
  return true;
}

}  // namespace

void gemmGroupColumnsPacked(int m, const float* aPacked, const PackedMatrix& b, Range rows, int j0, int j1,
                            const GroupOutput* outs) {
  if (rows.begin >= rows.end || j0 >= j1) return;
  const int k = b.rows();
  const CpuKernels& kernels = cpuKernels();
  if (k <= 0) {
    for (int g = 0; g < b.groups(); g++) {
      const GroupOutput& out = outs[g];
      if (!out.accumulate) zeroRows(rows.end - rows.begin, j1 - j0, out.c + rows.begin * out.ldc + j0, out.ldc);
    }
    return;
  }
  const int kKc = kernels.kc;
  const int mr = kernels.tileRows;
  const int mPadded = roundUp(m, mr);
  const int tileCols = kernels.tilePanels * kNr;
  const F32GemmTile tile = kernels.tileFor(m);
  for (int pc = 0; pc < k; pc += kKc) {
    const int kc = std::min(kKc, k - pc);
    for (int g = 0; g < b.groups(); g++) {
      const GroupOutput& out = outs[g];
      const bool acc = out.accumulate || pc > 0;
      if (m == 1) {
        // Batch 1: each group's panels of [j0, j1) read as one stream; every group's whole width in
        // one stream when they lie back to back, in the panels and in the output (a small layer).
        if (g == 0 && mergesGroups(b, outs, j0, j1)) {
          kernels.gemv(kc, aPacked + pc, b.block(pc, kc, 0, 0), out.c, b.groups() * (j1 - j0), acc);
          break;
        }
        kernels.gemv(kc, aPacked + pc, b.block(pc, kc, g, j0), out.c + j0, j1 - j0, acc);
        continue;
      }
      const float* aBlock = aPacked + static_cast<long>(pc) * mPadded;
      for (int j = j0; j < j1; j += tileCols) {
        const float* panels = b.block(pc, kc, g, j);
        const int nr = std::min(tileCols, j1 - j);
        for (int i = rows.begin; i < rows.end; i += mr) {
          tile(kc, aBlock + static_cast<long>(i) * kc, panels, out.c + i * out.ldc + j, out.ldc,
               std::min(mr, rows.end - i), nr, acc);
        }
      }
    }
  }
}

void gemmGroupColumns(int m, MatrixRef a, const PackedMatrix& b, int j0, int j1, const GroupOutput* outs) {
  if (m <= 0 || j0 >= j1) return;
  gemmGroupColumnsPacked(m, packRows(m, a, b), b, Range{0, m}, j0, j1, outs);
}

}  // namespace cellscan
