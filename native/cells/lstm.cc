// LSTM over one direction of one layer, PyTorch's gate order (i, f, g, o), optional peepholes
// (ONNX's definition) and projection (PyTorch's proj_size).
//
// The time loops run on all step workers at once (runForwardSteps, runStepPhases). With enough batch
// rows each worker runs its own rows through every step and the others may finish blocks of its
// hidden units; otherwise, forward, blocks of hidden units over all batch rows (their columns of
// every gate and their cell updates) are handed out, each worker's own first, and backward and the
// projection give each worker a fixed range. They meet at a barrier wherever the next phase reads
// what every worker wrote. The variants (zoneout, recurrent dropout) act on the rows and units a
// piece owns, so they change no schedule.
#include <algorithm>
#include <cstring>

#include "../isa/kernel_table.h"
#include "backward_loop.h"
#include "forward_loop.h"

namespace cellscan {

// y [T, B, Hout] (rows ldy apart), hN [B, Hout], cN [B, H], ws; x [T, B, I], h0 [B, Hout], c0 [B, H]
void lstmLayerForward(const ForwardIO& io, Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const CpuKernels& k = cpuKernels();
  const int H = s.hiddenSize;
  const int G = 4 * H;
  const int hout = s.outSize();
  const bool proj = s.projSize > 0;
  const float* peep = s.peepholes ? layer.params().wPeep.data() : nullptr;
  const ForwardLoop loop(io, ws, layer);
  const SequenceIndex& seq = loop.seq;
  const int B = loop.B;
  copyOrZero(rowsAt(ws.c.data(), seq.firstSlot(), B, H), io.c0, static_cast<long>(B) * H);

  // Without projection the cell output m is the new hidden state itself.
  const auto mAt = [&](int t) { return proj ? rowsAt(ws.m.data(), t, B, H) : loop.hAfter(t); };
  // With cell zoneout the cell's own new state c̃ is kept apart from the state carried on.
  const auto cCandAt = [&](int t) {
    return io.zoneoutC.on() ? rowsAt(ws.cCand.data(), t, B, H) : rowsAt(ws.c.data(), seq.slotAfter(t), B, H);
  };

  // Rows x units of a step: the recurrent product onto the gates, then the cell update, which mixes
  // in cell zoneout while a unit's values are in registers.
  const auto piece = [&](const ForwardPiece& p) {
    const int t = p.t;
    const Range u = p.units;
    float* gates = rowsAt(ws.gates.data(), t, B, G);
    float* gatesR0 = gates + static_cast<long>(p.run.begin) * G;
    const GroupOutput toGates[4] = {{gatesR0, G, true}, {gatesR0 + H, G, true}, {gatesR0 + 2 * H, G, true},
                                    {gatesR0 + 3 * H, G, true}};
    stepProduct(layer.recurrentWeightsT(), p.packed, p.run, u, toGates);
    const float* cPrev = rowsAt(ws.c.data(), seq.slotBefore(t), B, H);
    float* cNew = rowsAt(ws.c.data(), seq.slotAfter(t), B, H);
    float* cCand = cCandAt(t);
    float* m = mAt(t);
    for (int b = p.run.begin; b < p.run.end; b++) {
      const long r = b;
      if (!seq.active(t, b)) continue;
      k.lstmCellForward(gates + r * G, cCand + r * H, cNew + r * H, m + r * H, cPrev + r * H, peep,
                    zoneoutRow(io.zoneoutC, seq, t, b, H), H, u.begin, u.end);
    }
    carryPaddedRows(cNew, cPrev, seq, t, H, u, p.rows);
    if (!proj) return loop.finishState(t, m, u, p.rows);
    // dW_hr sums over every row of m: a padded row must hold zeros, not stale memory.
    for (int b = p.rows.begin; b < p.rows.end; b++) {
      if (!seq.active(t, b)) std::fill(m + b * H + u.begin, m + b * H + u.end, 0.0f);
    }
  };
  // With projection, output columns o of rows: h = m · W_hrᵀ, which reads every unit of m.
  const auto project = [&](int t, Range rows, Range run, Range o) {
    const long r0 = run.begin;
    const GroupOutput toH{loop.hAfter(t) + r0 * hout, hout, false};
    if (run.end > run.begin) {
      gemmGroupColumns(run.end - run.begin, MatrixRef{mAt(t) + r0 * H, H, false}, layer.projectionWeightsT(), o.begin,
                       o.end, &toH);
    }
    loop.finishState(t, loop.hAfter(t), o, rows);
  };
  loop.run(1, [&](int t, int, Range run) { return loop.packState(t, run, layer.recurrentWeightsT()); }, piece, proj,
           project);
  std::memcpy(io.cN, rowsAt(ws.c.data(), seq.finalSlot(), B, H), static_cast<size_t>(B) * H * sizeof(float));
}

// dX [T, B, I], dh0 [B, Hout], dc0 [B, H], grads; dY [T, B, Hout] (rows ldDY apart), dhN, dcN, ws
void lstmLayerBackward(const BackwardIO& io, const Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const bool proj = s.projSize > 0;
  // With projection, the gradient reaching each step's h is kept for dW_hr after the loop.
  BackwardLoop loop(io, ws, layer, proj);
  const CpuKernels& k = cpuKernels();
  const int H = s.hiddenSize;
  const int G = loop.G;
  const int hout = loop.n;
  const float* peep = s.peepholes ? layer.params().wPeep.data() : nullptr;
  const SequenceIndex& seq = loop.seq;
  const int T = loop.T;
  const int B = loop.B;
  const Layer::BackwardWeights& bw = layer.backwardWeights();
  AlignedBuffer dm(static_cast<size_t>(B) * H);
  AlignedBuffer dcA(static_cast<size_t>(B) * H), dcB(static_cast<size_t>(B) * H);
  const Zoneout& zc = ws.zoneoutC;
  copyOrZero(dcA.data(), io.dcN, static_cast<long>(B) * H);
  if (peep) std::fill(io.grads.wPeep, io.grads.wPeep + 3 * H, 0.0f);

  // Each step in phases: the total gradient on h and the start of dhBefore (output columns, the
  // loop's); with projection, dm = dh · W_hr, which reads every output column; the cell's gradients
  // (units); last (the loop's), dhBefore += dG · W_hh (output columns), which reads every unit's dG.
  const int phasesPerStep = proj ? 3 : 2;
  const auto operand = [&](int t, int phase, Range r) -> const float* {
    if (!proj || phase != 1) return nullptr;
    return packRows(r.end - r.begin, MatrixRef{loop.dht(t) + static_cast<long>(r.begin) * hout, hout, false}, bw.wHr);
  };
  const auto cellPhase = [&](const BackwardPiece& p) {
    if (proj && p.phase == 0) return;
    const int t = p.t;
    const Range r = p.rows;
    const Range u = p.share.units;
    const long r0 = r.begin;
    const float* dmt = p.dht;
    if (proj) {
      const GroupOutput toDm{dm.data() + r0 * H, H, false};
      gemmGroupColumnsPacked(r.end - r.begin, p.packed, bw.wHr, {0, r.end - r.begin}, u.begin, u.end, &toDm);
      dmt = dm.data();
    }
    // dc swaps as the loop's dh does: the gradient arriving at a step is in A when fromEnd is even.
    const float* dc = (p.fromEnd % 2 == 0 ? dcA : dcB).data();
    float* dcBefore = (p.fromEnd % 2 == 0 ? dcB : dcA).data();
    const float* cPrev = rowsAt(ws.c.data(), seq.slotBefore(t), B, H);
    // The cell's own new state c̃, which tanh and the o peephole saw.
    const float* cCand = zc.on() ? rowsAt(ws.cCand.data(), t, B, H) : rowsAt(ws.c.data(), seq.slotAfter(t), B, H);
    const float* gates = rowsAt(ws.gates.data(), t, B, G);
    float* dGt = loop.dG(t);
    for (int b = r.begin; b < r.end; b++) {
      const long q = b;
      if (seq.active(t, b)) {
        k.lstmCellBackward(dGt + q * G, dcBefore + q * H, io.grads.wPeep, gates + q * G, cCand + q * H, cPrev + q * H,
                           dmt + q * H, dc + q * H, peep, zoneoutRow(zc, seq, t, b, H), H, u.begin, u.end);
      } else {
        for (int g = 0; g < 4; g++) std::fill(dGt + q * G + g * H + u.begin, dGt + q * G + g * H + u.end, 0.0f);
      }
    }
    carryPaddedRows(dcBefore, dc, seq, t, H, u, r);
  };

  const int workers = stepWorkers(s, T, B);
  // With projection or peepholes, gradients of different batch rows meet inside the time loop (dm's
  // product, dW_peep), so the rows cannot go to different workers.
  loop.run(BatchSplit(s, B, proj || peep ? 1 : workers), workers, phasesPerStep, loop.dG(0), operand, cellPhase);
  std::memcpy(io.dc0, (T % 2 == 0 ? dcA : dcB).data(), static_cast<size_t>(B) * H * sizeof(float));
  loop.weightGradients(loop.dG(0), G);
  if (proj) {
    sgemm(hout, H, static_cast<int>(static_cast<long>(T) * B), MatrixRef{loop.dht(0), hout, true},
          MatrixRef{ws.m.data(), H, false}, io.grads.wHr, H, false);
  }
}

}  // namespace cellscan
