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
#include "sequence_ops.h"

namespace cellscan {

// y [T, B, Hout] (rows ldy apart), hN [B, Hout], cN [B, H], ws; x [T, B, I], h0 [B, Hout], c0 [B, H]
void lstmLayerForward(const ForwardIO& io, Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const CpuKernels& k = cpuKernels();
  const int H = s.hiddenSize;
  const int G = 4 * H;
  const int hout = s.outSize();
  const int B = io.B;
  const bool proj = s.projSize > 0;
  const float* peep = s.peepholes ? layer.params().wPeep.data() : nullptr;
  const SequenceIndex seq{io.T, B, s.reverse, io.lengths};

  const bool inSteps = projectsInSteps(io.T, B);
  if (!inSteps) projectInputs(ws.gates.data(), io.x, seq, layer);
  copyOrZero(rowsAt(ws.h.data(), seq.firstSlot(), B, hout), io.h0, static_cast<long>(B) * hout);
  copyOrZero(rowsAt(ws.c.data(), seq.firstSlot(), B, H), io.c0, static_cast<long>(B) * H);

  // Step t's buffers: the states before and after it, its gates and (with projection) its m.
  const auto hBefore = [&](int t) { return rowsAt(ws.h.data(), seq.slotBefore(t), B, hout); };
  const auto hAfter = [&](int t) { return rowsAt(ws.h.data(), seq.slotAfter(t), B, hout); };
  const auto gatesAt = [&](int t) { return rowsAt(ws.gates.data(), t, B, G); };
  // Without projection the cell output is the new hidden state itself.
  const auto mAt = [&](int t) { return proj ? rowsAt(ws.m.data(), t, B, H) : hAfter(t); };
  // With cell zoneout the cell's own new state c̃ is kept apart from the state carried on.
  const auto cCandAt = [&](int t) {
    return io.zoneoutC.on() ? rowsAt(ws.cCand.data(), t, B, H) : rowsAt(ws.c.data(), seq.slotAfter(t), B, H);
  };

  // The state entering step t's recurrent product, its productRows among `rows`, packed.
  const auto operand = [&](int step, int, Range rows) -> const float* {
    const Range run = productRows(seq, seq.timeAt(step), rows);
    if (run.end == run.begin) return nullptr;
    const long r0 = run.begin;
    return packRecurrentInput(run.end - run.begin, hBefore(seq.timeAt(step)) + r0 * hout,
                              io.recurrentMask ? io.recurrentMask + r0 * hout : nullptr, hout, layer.recurrentWeightsT());
  };
  // Rows x units of a step: the recurrent product onto the gates, then the cell update. `h` holds
  // the productRows of `rows` of the state entering the product, packed.
  const auto piece = [&](int step, int, Range rows, const float* h, Range u) {
    const int t = seq.timeAt(step);
    float* gates = gatesAt(t);
    if (inSteps) projectStepInput(gates, io.x, u, layer);
    const Range run = productRows(seq, t, rows);
    float* gatesR0 = gates + static_cast<long>(run.begin) * G;
    const GroupOutput toGates[4] = {{gatesR0, G, true}, {gatesR0 + H, G, true}, {gatesR0 + 2 * H, G, true},
                                    {gatesR0 + 3 * H, G, true}};
    if (run.end > run.begin) {
      gemmGroupColumnsPacked(run.end - run.begin, h, layer.recurrentWeightsT(), {0, run.end - run.begin}, u.begin,
                             u.end, toGates);
    }
    const float* cPrev = rowsAt(ws.c.data(), seq.slotBefore(t), B, H);
    float* cNew = rowsAt(ws.c.data(), seq.slotAfter(t), B, H);
    float* cCand = cCandAt(t);
    float* m = mAt(t);
    // Zoneout mixes in the cell kernel, while a unit's values are in registers: c always, h when m is
    // h (with projection, h is mixed after its product, in project).
    const float* hPrev = proj ? nullptr : hBefore(t);
    for (int b = run.begin; b < run.end; b++) {
      const long r = b;
      if (!seq.active(t, b)) continue;
      const ZoneRow zh = proj ? ZoneRow{nullptr, 0.0f} : zoneRow(io.zoneoutH, seq, t, b, H);
      k.lstmForward(gates + r * G, cCand + r * H, cNew + r * H, m + r * H, cPrev + r * H, hPrev ? hPrev + r * H : nullptr,
                    peep, zoneRow(io.zoneoutC, seq, t, b, H), zh, H, u.begin, u.end);
    }
    carryPaddedRows(cNew, cPrev, seq, t, H, u, rows);
    if (proj) {
      // dW_hr sums over every row of m: a padded row must hold zeros, not stale memory.
      for (int b = rows.begin; b < rows.end; b++) {
        if (!seq.active(t, b)) std::fill(m + b * H + u.begin, m + b * H + u.end, 0.0f);
      }
    } else {
      carryPaddedRows(hAfter(t), hBefore(t), seq, t, H, u, rows);
      writeOutputRows(io, seq, t, hAfter(t), hout, u, rows);
    }
  };
  // With projection, output columns o of rows: h = m · W_hrᵀ.
  const auto project = [&](int step, Range rows, Range o) {
    const int t = seq.timeAt(step);
    const Range run = productRows(seq, t, rows);
    const long r0 = run.begin;
    const GroupOutput toH{hAfter(t) + r0 * hout, hout, false};
    if (run.end > run.begin) {
      gemmGroupColumns(run.end - run.begin, MatrixRef{mAt(t) + r0 * H, H, false}, layer.projectionWeightsT(), o.begin,
                       o.end, &toH);
    }
    zoneoutRows(hAfter(t), hBefore(t), hAfter(t), io.zoneoutH, seq, t, hout, o, rows);
    carryPaddedRows(hAfter(t), hBefore(t), seq, t, hout, o, rows);
    writeOutputRows(io, seq, t, hAfter(t), hout, o, rows);
  };

  const int workers = stepWorkers(s, io.T, B);
  runForwardSteps(BatchSplit(s, B, workers), s, workers, B, io.T, 1, operand, piece, proj, project);
  std::memcpy(io.hN, rowsAt(ws.h.data(), seq.finalSlot(), B, hout), static_cast<size_t>(B) * hout * sizeof(float));
  std::memcpy(io.cN, rowsAt(ws.c.data(), seq.finalSlot(), B, H), static_cast<size_t>(B) * H * sizeof(float));
}

// dX [T, B, I], dh0 [B, Hout], dc0 [B, H], grads; dY [T, B, Hout] (rows ldDY apart), dhN, dcN, ws
void lstmLayerBackward(const BackwardIO& io, const Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const CpuKernels& k = cpuKernels();
  const int H = s.hiddenSize;
  const int G = 4 * H;
  const int hout = s.outSize();
  const int T = ws.T;
  const int B = ws.B;
  const long rows = static_cast<long>(T) * B;
  const bool proj = s.projSize > 0;
  const float* peep = s.peepholes ? layer.params().wPeep.data() : nullptr;
  const SequenceIndex seq{T, B, s.reverse, ws.lengths.empty() ? nullptr : ws.lengths.data()};
  const Layer::BackwardWeights& bw = layer.backwardWeights();

  AlignedBuffer dG(rows * G);
  // With projection, the gradient reaching each step's h is kept for dW_hr after the loop.
  AlignedBuffer dHt(proj ? rows * hout : static_cast<size_t>(B) * hout);
  AlignedBuffer dm(static_cast<size_t>(B) * H);
  AlignedBuffer dhA(static_cast<size_t>(B) * hout), dhB(static_cast<size_t>(B) * hout);
  AlignedBuffer dcA(static_cast<size_t>(B) * H), dcB(static_cast<size_t>(B) * H);
  const Zoneout& zh = ws.zoneoutH;
  const Zoneout& zc = ws.zoneoutC;
  const float* recurrentMask = ws.recurrentMaskOrNull();
  RecurrentGradient recurrentGradient(recurrentMask, B, hout);
  copyOrZero(dhA.data(), io.dhN, static_cast<long>(B) * hout);
  copyOrZero(dcA.data(), io.dcN, static_cast<long>(B) * H);
  if (peep) std::fill(io.grads.wPeep, io.grads.wPeep + 3 * H, 0.0f);

  // Step i from the end (the gradients arriving at it are in A when i is even) in phases: the total
  // gradient on h and the start of dhBefore (output columns); with projection, dm = dh · W_hr, which
  // reads every output column; the cell's gradients (units); last, dhBefore += dG · W_hh (output
  // columns), which reads every unit's dG.
  const int phasesPerStep = proj ? 3 : 2;
  const auto dhtAt = [&](int t) { return proj ? rowsAt(dHt.data(), t, B, hout) : dHt.data(); };
  const auto operand = [&](int i, int phase, Range r) -> const float* {
    const int t = seq.timeAt(T - 1 - i);
    const long r0 = r.begin;
    if (phase == phasesPerStep - 1) {
      return packRows(r.end - r.begin, MatrixRef{rowsAt(dG.data(), t, B, G) + r0 * G, G, false}, bw.wHh);
    }
    if (proj && phase == 1) return packRows(r.end - r.begin, MatrixRef{dhtAt(t) + r0 * hout, hout, false}, bw.wHr);
    return nullptr;
  };
  const auto stepPhase = [&](int i, int phase, Range r, const float* a, const Share& share) {
    const int t = seq.timeAt(T - 1 - i);
    const float* dh = (i % 2 == 0 ? dhA : dhB).data();
    float* dhBefore = (i % 2 == 0 ? dhB : dhA).data();
    const long r0 = r.begin;
    const Range aRows{0, r.end - r.begin};
    const Range u = share.units;
    if (phase == phasesPerStep - 1) {
      recurrentGradient.add(dhBefore, a, bw.wHh, r, share.outs);
      return;
    }
    float* dht = dhtAt(t);
    if (phase == 0) {
      stepGradient(dht, dh, io, seq, t, hout, share.outs, r);
      beginPreviousGradient(dhBefore, dht, dh, zh, seq, t, hout, share.outs, r);
      if (proj) return;
    }
    const float* dmt = dht;
    if (proj) {
      const GroupOutput toDm{dm.data() + r0 * H, H, false};
      gemmGroupColumnsPacked(r.end - r.begin, a, bw.wHr, aRows, u.begin, u.end, &toDm);
      dmt = dm.data();
    }
    const float* dc = (i % 2 == 0 ? dcA : dcB).data();
    float* dcBefore = (i % 2 == 0 ? dcB : dcA).data();
    const float* cPrev = rowsAt(ws.c.data(), seq.slotBefore(t), B, H);
    // The cell's own new state c̃, which tanh and the o peephole saw.
    const float* cCand = zc.on() ? rowsAt(ws.cCand.data(), t, B, H) : rowsAt(ws.c.data(), seq.slotAfter(t), B, H);
    const float* gates = rowsAt(ws.gates.data(), t, B, G);
    float* dGt = rowsAt(dG.data(), t, B, G);
    for (int b = r.begin; b < r.end; b++) {
      const long q = b;
      if (seq.active(t, b)) {
        k.lstmBackward(dGt + q * G, dcBefore + q * H, io.grads.wPeep, gates + q * G, cCand + q * H, cPrev + q * H,
                       dmt + q * H, dc + q * H, peep, zoneRow(zc, seq, t, b, H), H, u.begin, u.end);
      } else {
        for (int g = 0; g < 4; g++) std::fill(dGt + q * G + g * H + u.begin, dGt + q * G + g * H + u.end, 0.0f);
      }
    }
    carryPaddedRows(dcBefore, dc, seq, t, H, u, r);
  };

  const int workers = stepWorkers(s, T, B);
  // With projection or peepholes, gradients of different batch rows meet inside the time loop (dm's
  // product, dW_peep), so the rows cannot go to different workers.
  const BatchSplit split(s, B, proj || peep ? 1 : workers);
  runStepPhases(split, s, workers, B, T, phasesPerStep, operand, stepPhase);

  // After T swaps the final gradients sit in A when T is even, in B when odd.
  const float* dh = (T % 2 == 0 ? dhA : dhB).data();
  const float* dc = (T % 2 == 0 ? dcA : dcB).data();
  std::memcpy(io.dh0, dh, static_cast<size_t>(B) * hout * sizeof(float));
  std::memcpy(io.dc0, dc, static_cast<size_t>(B) * H * sizeof(float));

  inputGradients(io, ws, dG.data(), layer);
  AlignedBuffer maskedStates;
  const float* hPrevAll = recurrentInputs(maskedStates, ws, seq, hout);
  sgemm(G, hout, static_cast<int>(rows), MatrixRef{dG.data(), G, true}, MatrixRef{hPrevAll, hout, false},
        io.grads.wHh, hout, false);
  if (s.bias) columnSums(io.grads.bHh, dG.data(), rows, G, G);
  if (proj) {
    sgemm(hout, H, static_cast<int>(rows), MatrixRef{dHt.data(), hout, true}, MatrixRef{ws.m.data(), H, false},
          io.grads.wHr, H, false);
  }
}

}  // namespace cellscan
