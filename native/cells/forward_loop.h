#pragma once
// What every cell's forward does around its own update: the input projection (before the loop, or
// inside a streaming step), h0 into the first state slot, the state entering each recurrent product
// packed, each step's new state finished (zoneout, padded rows, y), and hN after the loop. A cell
// supplies the pieces of its steps (runForwardSteps); the loop hands them time indices and rows.
#include <cstring>

#include "sequence_ops.h"

namespace cellscan {

// One piece of a forward step: batch rows x hidden units of one phase.
struct ForwardPiece {
  int t;                // time index
  int phase;
  Range rows;           // the batch rows it covers
  Range run;            // the productRows of `rows`: the rows its products and cell updates compute
  const float* packed;  // the phase's left operand for `run`, packed (null when no row runs)
  Range units;
};

class ForwardLoop {
 public:
  ForwardLoop(const ForwardIO& io, Workspace& ws, const Layer& layer);

  // The hidden state before and after step t, [B, Hout]: y's rows of steps t - 1 and t when the
  // states live in y (statesInOutput), else the workspace's slots.
  float* hBefore(int t) const { return inY_ && t > 0 ? yRows(t - 1) : rowsAt(ws_.h.data(), seq.slotBefore(t), B, n); }
  float* hAfter(int t) const { return inY_ ? yRows(t) : rowsAt(ws_.h.data(), seq.slotAfter(t), B, n); }

  // The state entering step t's recurrent product on rows `run` (with recurrent dropout, times its
  // mask), packed for w.
  const float* packState(int t, Range run, const PackedMatrix& w) const;

  // Columns c of rows `rows` of step t's new state, once the cell has written it (cand: the cell's
  // own new state, which zoneout mixes with the state before): padded rows carry the state before,
  // and y takes the result.
  void finishState(int t, const float* cand, Range c, Range rows) const;

  // The time loop in `phasesPerStep` phases: operand(t, phase, run) packs a phase's left operand
  // for a run of rows; piece(ForwardPiece) computes one piece; with `finishes`, finish(t, rows, run,
  // outs) ends each step on output columns `outs` (see runForwardSteps). Then hN.
  template <class Operand, class Piece, class Finish>
  void run(int phasesPerStep, Operand&& operand, Piece&& piece, bool finishes, Finish&& finish) const {
    const LayerSpec& s = layer_.spec();
    const int workers = stepWorkers(s, io.T, B);
    runForwardSteps(
        BatchSplit(s, B, workers), s, workers, B, io.T, phasesPerStep,
        [&](int step, int phase, Range rows) -> const float* {
          const int t = seq.timeAt(step);
          const Range run = productRows(seq, t, rows);
          return run.end > run.begin ? operand(t, phase, run) : nullptr;
        },
        [&](int step, int phase, Range rows, const float* packed, Range u) {
          const int t = seq.timeAt(step);
          if (inSteps_ && phase == 0) projectStepInput(rowsAt(ws_.gates.data(), t, B, s.gateSize()), io.x, u, layer_);
          piece(ForwardPiece{t, phase, rows, productRows(seq, t, rows), packed, u});
        },
        finishes,
        [&](int step, Range rows, Range outs) {
          const int t = seq.timeAt(step);
          finish(t, rows, productRows(seq, t, rows), outs);
        });
    writeFinalStates();
  }
  template <class Operand, class Piece>
  void run(int phasesPerStep, Operand&& operand, Piece&& piece) const {
    run(phasesPerStep, operand, piece, false, [](int, Range, Range, Range) {});
  }

  const ForwardIO& io;
  const SequenceIndex seq;
  const int B;
  const int n;  // the hidden state's width, Hout

 private:
  float* yRows(int t) const { return io.y + static_cast<long>(t) * B * n; }
  void writeFinalStates() const;

  Workspace& ws_;
  const Layer& layer_;
  const bool inSteps_;  // a streaming step projects its input inside the step
  const bool inY_;      // statesInOutput
};

// Units u of a step's product on its rows `run` (those `packed` holds) into outs, whose pointers
// are at row run.begin.
inline void stepProduct(const PackedMatrix& w, const float* packed, Range run, Range u, const GroupOutput* outs) {
  if (run.end > run.begin) gemmGroupColumnsPacked(run.end - run.begin, packed, w, {0, run.end - run.begin}, u.begin, u.end, outs);
}

}  // namespace cellscan
