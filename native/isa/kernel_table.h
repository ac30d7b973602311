#pragma once
// The CPU-specific kernels, one table per instruction set, picked once by CPU features.
//
// Each ISA has one translation unit (portable.cc, avx2.cc) compiled with its own flags. That unit
// includes vec_*.inl, vec_math.inl and cell_kernels.inl inside an anonymous namespace, so every
// function compiled with AVX2 enabled has internal linkage: the linker can never hand an AVX2
// copy of an inline function to code that runs on an older CPU.

#include <cstdint>

#include "../gemm/microkernel.h"

namespace cellscan {

// Zoneout of one row's units (cells/layer.h Zoneout, at one step and batch row): d = mask[j] (0 or 1)
// or p where mask is null; off when neither.
struct ZoneRow {
  const uint8_t* mask;
  float p;
  bool on() const { return mask != nullptr || p != 0.0f; }
};

struct CpuKernels {
  const char* name;  // "avx512f", "avx2_fma", "portable"

  // GEMM tile (gemm/microkernel.h) over `tilePanels` adjacent packed panels: nr ≤ tilePanels·kNr.
  // Every output element is one FMA chain over k in order, so a product's results never depend on
  // how its rows are cut into tiles or shared among threads.
  F32GemmTile gemmTile;
  // The tile for products of fewer than 4 rows in all: each row's sum is split over interleaved k
  // into several accumulators, for enough independent FMA chains. Used for every tile of such a
  // product or for none, so that it too is the same on any thread count. See tileFor.
  F32GemmTile gemmTileFewRows;
  // The recurrent product of batch 1. Reads b as one sequential stream with split accumulators;
  // weights too big for L2 then arrive at L3's streaming rate.
  F32Gemv gemv;
  int tileRows;  // 6 or 12 (gemm/pack.cc)
  int tilePanels;
  // K block of every product: the kc x tilePanels panels of b one tile sweeps stay in cache (L1, or
  // L2 for a tile with enough FMAs per byte of b) while the A panels pass over them.
  int kc;

  // Elementwise cell updates over hidden units [j0, j1) of one batch row (H = hidden size; gate
  // blocks of H stacked in PyTorch's order). Forward "gates" arrive as pre-activations and leave
  // activated; backward writes pre-activation gradients dG.

  // LSTM: gates [4H] i f g o, cCand the cell's own new state c̃ and m = o ⊙ tanh(c̃) [H]; cPrev [H];
  // peep [3H] or null (o's sees c̃). With zc on, cNew = d ⊙ cPrev + (1 − d) ⊙ c̃ (off: cNew is cCand,
  // not written). Zoneout of h comes after, on the finished state, as for every cell.
  void (*lstmCellForward)(float* gates, float* cCand, float* cNew, float* m, const float* cPrev, const float* peep,
                      ZoneRow zc, int H, int j0, int j1);
  // dG [4H], dcPrev [H], dPeep [3H] (+=, when peep); c is c̃; dm: gradient on m, dc: on the carried c
  // from later steps (with zc, (1 − d) ⊙ dc reaches c̃ and d ⊙ dc goes straight to dcPrev).
  void (*lstmCellBackward)(float* dG, float* dcPrev, float* dPeep, const float* gates, const float* c, const float* cPrev,
                       const float* dm, const float* dc, const float* peep, ZoneRow zc, int H, int j0, int j1);

  // GRU, linear before reset: gates [3H] with r, z holding x- and h-side sums and n only the x side;
  // ghn [H] in: Rn h, out: Rn h + bn (bhn may be null). Writes h [H].
  void (*gruCellForwardLbr)(float* gates, float* h, float* ghn, const float* bhn, const float* hPrev, int H, int j0, int j1);
  // dG [3H] x-side gradients, dGh [3H] h-side (n scaled by r), dhBefore [H] += dh ⊙ z.
  void (*gruCellBackwardLbr)(float* dG, float* dGh, float* dhBefore, const float* gates, const float* ghn,
                         const float* hPrev, const float* dh, int H, int j0, int j1);

  // GRU, reset before linear: r and z activated in place, rh = r ⊙ hPrev [H].
  void (*gruCellForwardRzRbl)(float* gates, float* rh, const float* hPrev, int H, int j0, int j1);
  // n = tanh(gates_n) in place (x side and Rn (r ⊙ h) already summed), h = (1 − z) n + z hPrev.
  void (*gruCellForwardNRbl)(float* gates, float* h, const float* hPrev, int H, int j0, int j1);
  // dG's z and n parts, dhBefore [H] += dh ⊙ z.
  void (*gruCellBackwardZnRbl)(float* dG, float* dhBefore, const float* gates, const float* hPrev, const float* dh, int H,
                        int j0, int j1);
  // dG's r part from dRh = d(r ⊙ hPrev); dhBefore += dRh ⊙ r.
  void (*gruCellBackwardRRbl)(float* dG, float* dhBefore, const float* gates, const float* hPrev, const float* dRh, int H,
                       int j0, int j1);

  // RNN: h = act(pre); dPre = dh ⊙ act'(pre), read off h.
  void (*rnnCellForward)(float* h, const float* pre, bool relu, int j0, int j1);
  void (*rnnCellBackward)(float* dPre, const float* h, const float* dh, bool relu, int j0, int j1);

  // Zoneout over units [j0, j1) of one row: forward state = d ⊙ prev + (1 − d) ⊙ cand (state may be
  // cand); backward, the gradient g on a zoned-out state splits into dPrev = d ⊙ g and g ← (1 − d) ⊙ g.
  void (*zoneoutMix)(float* state, const float* prev, const float* cand, ZoneRow z, int j0, int j1);
  void (*zoneoutSplit)(float* dPrev, float* g, ZoneRow z, int j0, int j1);

  // The tile kernel for a product of m rows in all: gemmTileFewRows below kFewRowsBelow.
  static constexpr int kFewRowsBelow = 4;
  F32GemmTile tileFor(int m) const { return m < kFewRowsBelow ? gemmTileFewRows : gemmTile; }
};

const CpuKernels& portableKernels();
const CpuKernels& avx2Kernels();    // only call when the CPU has AVX2 and FMA
const CpuKernels& avx512Kernels();  // only call when the CPU has AVX-512F

// The best table this CPU runs, chosen once.
const CpuKernels& cpuKernels();

}  // namespace cellscan
