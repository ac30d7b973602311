#pragma once
// What every cell's backward does around its own gradient step: the carried gradient on h from the
// last step back (dhN in, dh0 out), each step's total gradient on h and the start of the gradient on
// the state before it, the recurrent product's share of that, and after the loop the products over
// all T·B rows: dX, dW_ih, db_ih, dW_hh, db_hh. A cell supplies the phases between (runStepPhases).
#include <cstring>

#include "sequence_ops.h"

namespace cellscan {

// One piece of a backward step: batch rows x a share of units and output columns, of one phase.
struct BackwardPiece {
  int t;         // time index
  int fromEnd;   // 0 for the step backward starts at: its parity picks a cell's own swapped buffers
  int phase;
  Range rows;
  const float* packed;  // the phase's left operand for `rows`, packed (or null)
  Share share;
  float* dht;           // [B, Hout]: the total gradient on this step's h, (1 − d) ⊙ it with zoneout
  float* dhBefore;      // [B, Hout]: the gradient on the state before the step, being summed
  const float* dh;      // [B, Hout]: the gradient carried into this step from the later ones
};

class BackwardLoop {
 public:
  // keepStepGradients: dht for every step ([T, B, Hout]), not just the current one's.
  BackwardLoop(const BackwardIO& io, const Workspace& ws, const Layer& layer, bool keepStepGradients);

  // The pre-activation gradients of step t, [B, G] (dG(0): all of them, [T, B, G]).
  float* dG(int t) { return rowsAt(dG_.data(), t, B, G); }
  float* dht(int t) { return keepsSteps_ ? rowsAt(dht_.data(), t, B, n) : dht_.data(); }

  // The loop in `phasesPerStep` phases on `workers` threads (`split` of batch rows or none). Phase
  // 0 begins on output columns: dht = dh + dY, dhBefore starts (BackwardPiece). The last phase is
  // the loop's own: dhBefore += recurrent[t] · W_hh, recurrent [T, B, G] being the h-side gradients
  // (dG for every cell but GRU with linear-before-reset). operand(t, phase, rows) packs what a phase
  // of the cell's reads; body(BackwardPiece) does the cell's part of every other phase.
  template <class Operand, class Body>
  void run(const BatchSplit& split, int workers, int phasesPerStep, const float* recurrent, Operand&& operand,
           Body&& body) {
    const LayerSpec& s = layer_.spec();
    const Layer::BackwardWeights& bw = layer_.backwardWeights();
    const int last = phasesPerStep - 1;
    runStepPhases(
        split, s, workers, B, T, phasesPerStep,
        [&](int i, int phase, Range r) -> const float* {
          const int t = seq.timeAt(T - 1 - i);
          if (phase < last) return operand(t, phase, r);
          const float* rows = rowsAt(recurrent, t, B, G) + static_cast<long>(r.begin) * G;
          return packRows(r.end - r.begin, MatrixRef{rows, G, false}, bw.wHh);
        },
        [&](int i, int phase, Range r, const float* packed, const Share& share) {
          const int t = seq.timeAt(T - 1 - i);
          float* dhBefore = (i % 2 == 0 ? dhB_ : dhA_).data();
          if (phase == last) return recurrentGradient_.add(dhBefore, packed, bw.wHh, r, share.outs);
          const float* dh = (i % 2 == 0 ? dhA_ : dhB_).data();
          if (phase == 0) {
            stepGradient(dht(t), dh, io, seq, t, n, share.outs, r);
            beginPreviousGradient(dhBefore, dht(t), dh, ws.zoneoutH, seq, t, n, share.outs, r);
          }
          body(BackwardPiece{t, i, phase, r, packed, share, dht(t), dhBefore, dh});
        });
    // After T swaps the final gradient sits in A when T is even, in B when odd.
    std::memcpy(io.dh0, (T % 2 == 0 ? dhA_ : dhB_).data(), static_cast<size_t>(B) * n * sizeof(float));
  }

  // After the loop: dX, dW_ih and db_ih from dG; the first gateRows rows of dW_hh = recurrentᵀ · the
  // states that entered the recurrent products, and db_hh = Σ recurrent. Returns those states
  // ([T, B, Hout], valid while the loop lives).
  const float* weightGradients(const float* recurrent, int gateRows);

  const BackwardIO& io;
  const Workspace& ws;
  const SequenceIndex seq;
  const int T, B;
  const int n;  // Hout
  const int G;  // gates x H

 private:
  const Layer& layer_;
  const bool keepsSteps_;
  AlignedBuffer dG_, dht_, dhA_, dhB_, maskedStates_;
  RecurrentGradient recurrentGradient_;
};

}  // namespace cellscan
