#pragma once
// Steps every cell shares: the input projection before the time loop, moving states in and out of
// the workspace slots, the split of a time loop among threads, and the products deferred until
// after the backward time loop.
#include <algorithm>

#include "../gemm/microkernel.h"
#include "../isa/kernel_table.h"
#include "../runtime/block_claims.h"
#include "../runtime/owner_claims.h"
#include "../runtime/thread_pool.h"
#include "layer.h"

namespace cellscan {

// The rows among `rows` that step t's products compute: with seq.sorted, those still running and
// none once all of them have ended; otherwise every one. Never fewer than CpuKernels::kFewRowsBelow
// while any runs (unless `rows` has fewer): a product of that many rows or more sums each element the
// same way in any tile, so skipping ended rows changes no bit of the others.
Range productRows(const SequenceIndex& seq, int t, Range rows);

// gates[T, B, G*H] = x[T, B, I] · W_ihᵀ + folded biases, on the rows productRows computes (the
// others are left as they were: nothing reads a row's gates at a step it does not run).
void projectInputs(float* gates, const float* x, const SequenceIndex& seq, const Layer& layer);

// dst[n] = src ? src : 0.
void copyOrZero(float* dst, const float* src, long n);

// out[cols] = Σ_rows src[r, c] (rows ld apart), summed in row order so results never depend on threads.
void columnSums(float* out, const float* src, long rows, int cols, long ld);

// After the backward time loop, from dG[T*B, G*H] (the gradient of the pre-activations fed by x):
// dW_ih = dGᵀ · x, db_ih = Σ dG, dX = dG · W_ih.
void inputGradients(const BackwardIO& io, const Workspace& ws, const float* dG, const Layer& layer);

// Workspace rows of step t (or slot s), for tensors laid out [T or T+1, B, n].
inline float* rowsAt(float* base, int index, int B, int n) { return base + static_cast<long>(index) * B * n; }
inline const float* rowsAt(const float* base, int index, int B, int n) {
  return base + static_cast<long>(index) * B * n;
}

// How many threads a layer's time loop uses: all of them, unless a step is so small that meeting
// at a barrier would cost more than the work (results are the same either way).
int stepWorkers(const LayerSpec& s, int T, int B);

// A streaming step of one row projects its input inside the step: each piece computes its own
// units' columns of every gate, so the step is one job and each worker reads the same slice of
// both weight matrices call after call (instead of a one-row product before the time loop).
inline bool projectsInSteps(int T, int B) { return T == 1 && B == 1; }

// Columns of units u of every gate of a one-row step: gates = input bias + x · W_ihᵀ ([1, G*H]).
void projectStepInput(float* gates, const float* x, Range u, const Layer& layer);

// Whether a time loop splits batch rows among its workers instead of hidden units. Each worker
// then runs its rows through every step with no barrier and no exchange of h between cores, at
// the price of every worker streaming all the recurrent weights each step, which its tiles outrun
// once it has a full tile of rows. Every row comes out bit for bit as on one thread, since a
// product of 4 rows or more sums each element the same way in any tile (CpuKernels::gemmTile).
//
// A step's hidden units come in a few wide blocks that OwnerClaims hands out, so a worker ahead
// can take over part of a slower one's step.
class BatchSplit {
 public:
  BatchSplit(const LayerSpec& s, int B, int workers);
  explicit operator bool() const { return on_; }
  // Worker w's rows.
  Range rows(int w) const { return {bounds_[w], bounds_[w + 1]}; }
  int unitBlocks() const { return (H_ + unitWidth_ - 1) / unitWidth_; }
  Range units(int block) const { return {block * unitWidth_, std::min(H_, (block + 1) * unitWidth_)}; }

 private:
  int B_, H_;
  int bounds_[OwnerClaims::kMaxWorkers + 1] = {};
  int unitWidth_ = 0;
  bool on_ = false;
};

// Runs a batch-split time loop of `phases` phases (time steps, or parts of them) on `workers`
// threads. The owner of rows `rows` enters each phase with pack(rows, phase), which returns the
// packed left operand its blocks read; block(rows, phase, packed, units) then runs for every unit
// block of the phase, on whichever worker claims it (OwnerClaims), and leave(rows, phase) on the
// owner once all of them are done.
template <class Pack, class Block, class Leave>
void runBatchSplit(const BatchSplit& split, int workers, int phases, Pack&& pack, Block&& block, Leave&& leave) {
  OwnerClaims claims(workers, split.unitBlocks());
  const float* packed[OwnerClaims::kMaxWorkers];  // published by open(), read by the takers
  ThreadPool::instance().run(
      [&](int w, int n) {
        const auto other = [&](int v, uint32_t phase, int b) {
          block(split.rows(v), static_cast<int>(phase), packed[v], split.units(b));
        };
        const Range rows = split.rows(w);
        for (int phase = 0; phase < phases; phase++) {
          packed[w] = pack(rows, phase);
          claims.open(w, static_cast<uint32_t>(phase));
          claims.run(w, [&](int b) { block(rows, phase, packed[w], split.units(b)); }, other);
          leave(rows, phase);
        }
        claims.retire(w, other);
      },
      workers);
}
template <class Pack, class Block>
void runBatchSplit(const BatchSplit& split, int workers, int phases, Pack&& pack, Block&& block) {
  runBatchSplit(split, workers, phases, pack, block, [](Range, int) {});
}

// The pieces a forward step hands out (BlockClaims): every batch row by a few tile widths of
// hidden units, in every gate, so that each panel of weights a piece reads serves all rows while
// it is in L1.
struct StepPiece {
  Range rows;
  Range units;
};
class StepPieces {
 public:
  StepPieces(const LayerSpec& s, int B);
  int count() const { return (H_ + unitWidth_ - 1) / unitWidth_; }
  StepPiece at(int i) const {
    const int u = i * unitWidth_;
    return {{0, B_}, {u, u + unitWidth_ < H_ ? u + unitWidth_ : H_}};
  }

 private:
  int B_, H_;
  int unitWidth_;
};

// Threads split hidden units in whole GEMM panels, so each owns the same units in every gate.
constexpr int kShareBlock = kNr;

// A backward time loop's per-thread share, and the forward's for the projection: hidden units
// (cell updates, gate products) and output columns (projection, dh products), in whole GEMM panels.
struct Share {
  Range units;
  Range outs;
};
inline Share shareOf(int w, int n, const LayerSpec& s) {
  return {blockRange(w, n, s.hiddenSize, kShareBlock), blockRange(w, n, s.outSize(), kShareBlock)};
}

// A backward time loop of `steps` steps in `phasesPerStep` phases: batch-split when `split` is on,
// else every worker on all B rows and its share of hidden units, meeting at a barrier between
// phases (not between steps: a step's first phase reads only the columns of dh the worker's own
// last phase wrote). operand(i, phase, rows) packs what the phase's product reads (or returns
// null); body(i, phase, rows, packed, share) runs the phase for step i from the end over the
// share's hidden units and output columns (a batch-split block is both: it needs outSize = H).
template <class Operand, class Body>
void runStepPhases(const BatchSplit& split, const LayerSpec& s, int workers, int B, int steps, int phasesPerStep,
                   Operand&& operand, Body&& body) {
  if (split) {
    runBatchSplit(
        split, workers, steps * phasesPerStep,
        [&](Range r, int p) { return operand(p / phasesPerStep, p % phasesPerStep, r); },
        [&](Range r, int p, const float* a, Range u) { body(p / phasesPerStep, p % phasesPerStep, r, a, Share{u, u}); });
    return;
  }
  SpinBarrier barrier(workers);
  ThreadPool::instance().run(
      [&](int w, int n) {
        const Share share = shareOf(w, n, s);
        for (int i = 0; i < steps; i++) {
          for (int phase = 0; phase < phasesPerStep; phase++) {
            if (phase > 0) barrier.wait();  // the phase before, on every unit
            body(i, phase, Range{0, B}, operand(i, phase, Range{0, B}), share);
          }
        }
      },
      workers);
}

// A forward time loop of `steps` steps in `phasesPerStep` phases (GRU without linear-before-reset
// needs r before n's product), run on `workers` threads: batch-split (runBatchSplit) when `split`
// is on, else StepPieces of every phase handed out by BlockClaims, with a barrier after each phase.
// operand(step, phase, rows) packs the left operand of the phase's product for those rows;
// piece(step, phase, rows, packed, units) computes the phase on units of those rows. With
// `finishes`, finish(step, rows, outs) then ends each step on output columns `outs`: all of them for
// the owner's rows when batch-split, else each worker's share of them over all rows, after a barrier
// (LSTM's projection, which reads every unit of m).
template <class Operand, class Piece, class Finish>
void runForwardSteps(const BatchSplit& split, const LayerSpec& s, int workers, int B, int steps, int phasesPerStep,
                     Operand&& operand, Piece&& piece, bool finishes, Finish&& finish) {
  if (split) {
    runBatchSplit(
        split, workers, steps * phasesPerStep,
        [&](Range rows, int p) { return operand(p / phasesPerStep, p % phasesPerStep, rows); },
        [&](Range rows, int p, const float* a, Range u) { piece(p / phasesPerStep, p % phasesPerStep, rows, a, u); },
        [&](Range rows, int p) {
          if (finishes && p % phasesPerStep == phasesPerStep - 1) finish(p / phasesPerStep, rows, Range{0, s.outSize()});
        });
    return;
  }
  SpinBarrier barrier(workers);
  const StepPieces pieces(s, B);
  BlockClaims claims(workers, pieces.count());
  // One phase of one step (a streaming step) has no barrier: its pieces are only claimed.
  const bool onePhase = steps * phasesPerStep == 1 && !finishes;
  ThreadPool::instance().run(
      [&](int w, int n) {
        const Range all{0, B};
        const Range outs = shareOf(w, n, s).outs;
        for (int step = 0; step < steps; step++) {
          for (int phase = 0; phase < phasesPerStep; phase++) {
            const float* a = operand(step, phase, all);
            claims.forEach(w, step * phasesPerStep + phase, [&](int i) { piece(step, phase, all, a, pieces.at(i).units); });
            // Every unit of the phase, before the next phase or step reads them.
            if (!onePhase) barrier.wait();
          }
          if (finishes) {
            finish(step, all, outs);
            barrier.wait();
          }
        }
      },
      workers, onePhase ? ThreadPool::Joining::AsAvailable : ThreadPool::Joining::All);
}
template <class Operand, class Piece>
void runForwardSteps(const BatchSplit& split, const LayerSpec& s, int workers, int B, int steps, int phasesPerStep,
                     Operand&& operand, Piece&& piece) {
  runForwardSteps(split, s, workers, B, steps, phasesPerStep, operand, piece, false, [](int, Range, Range) {});
}

// --- per-row helpers over a column range [c.begin, c.end) -------------------------------------

// y rows of step t: the new state for active rows, 0 for padded ones (PyTorch's packed semantics).
// Batch rows `rows` only.
void writeOutputRows(const ForwardIO& io, const SequenceIndex& seq, int t, const float* hNew, int n, Range c,
                     Range rows);

// Total gradient on h for step t: dh (from later steps) + dY for active rows, 0 for padded rows
// (batch rows `rows` only).
void stepGradient(float* dht, const float* dh, const BackwardIO& io, const SequenceIndex& seq, int t, int n, Range c,
                  Range rows);

// Padded rows of step t (among `rows`) take `carry`; active rows are left alone.
void carryPaddedRows(float* dst, const float* carry, const SequenceIndex& seq, int t, int n, Range c, Range rows);

// Padded rows of step t (among `rows`) take zeros; active rows are left alone.
void zeroPaddedRows(float* dst, const SequenceIndex& seq, int t, int n, Range c, Range rows);

// Whether a forward keeps each step's new state in y itself rather than in the workspace: an
// inference call in time order whose y rows are contiguous. The state y holds is then the one the
// next step reads, and the copy of every step's state into y is gone. Padded rows hold y's zeros
// instead of their carried state, which no later step of such a call reads (a row, once padded,
// stays padded), and hN takes each row's state from y at its own last step. Training keeps the
// workspace's states for backward (y is the caller's to change); a reverse direction carries h0
// through its padded steps.
inline bool statesInOutput(const ForwardIO& io, int n, bool training, bool reverse) {
  return !training && !reverse && io.ldy == n;
}

// --- the variants ------------------------------------------------------------------------------

// The inline halves below keep the variants-off path of a step (a streaming step is microseconds)
// to a test and the call it made before.

// rows x n of the state entering a recurrent product (h, rows n apart), packed for `w`; with
// recurrent dropout each element times mask (same layout as h) first. Valid until this thread's
// next packRows or GEMM.
const float* packMaskedRows(int rows, const float* h, const float* mask, int n, const PackedMatrix& w);
inline const float* packRecurrentInput(int rows, const float* h, const float* mask, int n, const PackedMatrix& w) {
  return mask ? packMaskedRows(rows, h, mask, n, w) : packRows(rows, MatrixRef{h, n, false}, w);
}

// Row b of step t of a zoneout, as the kernels take it.
inline ZoneRow zoneoutRow(const Zoneout& z, const SequenceIndex& seq, int t, int b, int n) {
  return {z.mask ? z.mask + (static_cast<long>(t) * seq.B + b) * n : nullptr, z.p};
}

// Zoneout of step t's new state on the active rows among `rows`, columns c: state = d ⊙ prev +
// (1 − d) ⊙ cand, for d = 1 exactly prev and for d = 0 exactly cand ([B, n] each; state may be cand).
void zoneRows(float* state, const float* prev, const float* cand, const Zoneout& z, const SequenceIndex& seq, int t,
              int n, Range c, Range rows);
inline void zoneoutRows(float* state, const float* prev, const float* cand, const Zoneout& z, const SequenceIndex& seq,
                        int t, int n, Range c, Range rows) {
  if (z.on()) zoneRows(state, prev, cand, z, seq, t, n, c, rows);
}

// Starts the gradient on the state before step t, which the cell and the recurrent product then
// add to: padded rows carry dh; active rows take zoneout's direct path d ⊙ dht (0 without zoneout),
// and dht keeps (1 − d) ⊙ dht, what reaches the cell's own new state.
void beginPreviousGradient(float* dPrev, float* dht, const float* dh, const Zoneout& z, const SequenceIndex& seq,
                           int t, int n, Range c, Range rows);

// The recurrent product's share of the gradient on the state before a step: dhBefore += dG · W, or
// with recurrent dropout (the product saw mask ⊙ h) dhBefore += mask ⊙ (dG · W). [B, n] each.
class RecurrentGradient {
 public:
  RecurrentGradient(const float* mask, int B, int n) : mask_(mask), n_(n), product_(mask ? static_cast<size_t>(B) * n : 0) {}
  // Rows r (those `packed` holds, from r.begin), output columns c.
  void add(float* dhBefore, const float* packed, const PackedMatrix& w, Range r, Range c);

 private:
  const float* mask_;
  int n_;
  AlignedBuffer product_;  // dG · W before the mask scales it
};

// The states that entered every step's recurrent product, in time order: the workspace's own slots,
// or with recurrent dropout mask ⊙ them in `store`. For the weight gradient after the loop.
const float* recurrentInputs(AlignedBuffer& store, const Workspace& ws, const SequenceIndex& seq, int n);

}  // namespace cellscan
