// Vanilla RNN over one direction of one layer: h' = act(W x + b + R h + r), act = tanh or relu.
// Threads share the time loops as in lstm.cc.
#include <algorithm>
#include <cstring>

#include "../isa/kernel_table.h"
#include "sequence_ops.h"

namespace cellscan {

// y [T, B, H] (rows ldy apart), hN [B, H], ws; x [T, B, I], h0 [B, H]
void rnnLayerForward(const ForwardIO& io, Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const CpuKernels& k = cpuKernels();
  const int H = s.hiddenSize;
  const int B = io.B;
  const bool relu = s.cell == CellKind::RnnRelu;
  const SequenceIndex seq{io.T, B, s.reverse, io.lengths};

  const bool inSteps = projectsInSteps(io.T, B);
  if (!inSteps) projectInputs(ws.gates.data(), io.x, seq, layer);
  copyOrZero(rowsAt(ws.h.data(), seq.firstSlot(), B, H), io.h0, static_cast<long>(B) * H);
  const auto hBefore = [&](int t) { return rowsAt(ws.h.data(), seq.slotBefore(t), B, H); };
  const auto hAfter = [&](int t) { return rowsAt(ws.h.data(), seq.slotAfter(t), B, H); };
  const auto operand = [&](int step, int, Range rows) -> const float* {
    const Range run = productRows(seq, seq.timeAt(step), rows);
    if (run.end == run.begin) return nullptr;
    const long r0 = run.begin;
    return packRecurrentInput(run.end - run.begin, hBefore(seq.timeAt(step)) + r0 * H,
                              io.recurrentMask ? io.recurrentMask + r0 * H : nullptr, H, layer.recurrentWeightsT());
  };
  // Rows x units of a step; `h` holds the productRows of `rows` of the state entering the product,
  // packed. With zoneout the cell's own new state replaces its pre-activation (backward reads act'
  // off it).
  const auto piece = [&](int step, int, Range rows, const float* h, Range u) {
    const int t = seq.timeAt(step);
    float* pre = rowsAt(ws.gates.data(), t, B, H);
    if (inSteps) projectStepInput(pre, io.x, u, layer);
    const Range run = productRows(seq, t, rows);
    const GroupOutput toPre{pre + static_cast<long>(run.begin) * H, H, true};
    if (run.end > run.begin) {
      gemmGroupColumnsPacked(run.end - run.begin, h, layer.recurrentWeightsT(), {0, run.end - run.begin}, u.begin,
                             u.end, &toPre);
    }
    float* hNew = hAfter(t);
    float* cand = io.zoneoutH.on() ? pre : hNew;
    for (int b = run.begin; b < run.end; b++) {
      const long r = static_cast<long>(b) * H;
      if (seq.active(t, b)) k.rnnForward(cand + r, pre + r, relu, u.begin, u.end);
    }
    zoneoutRows(hNew, hBefore(t), cand, io.zoneoutH, seq, t, H, u, rows);
    carryPaddedRows(hNew, hBefore(t), seq, t, H, u, rows);
    writeOutputRows(io, seq, t, hNew, H, u, rows);
  };

  const int workers = stepWorkers(s, io.T, B);
  runForwardSteps(BatchSplit(s, B, workers), s, workers, B, io.T, 1, operand, piece);
  std::memcpy(io.hN, rowsAt(ws.h.data(), seq.finalSlot(), B, H), static_cast<size_t>(B) * H * sizeof(float));
}

// dX [T, B, I], dh0 [B, H], grads; dY [T, B, H] (rows ldDY apart), dhN [B, H], ws
void rnnLayerBackward(const BackwardIO& io, const Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const CpuKernels& k = cpuKernels();
  const int H = s.hiddenSize;
  const int T = ws.T;
  const int B = ws.B;
  const long rows = static_cast<long>(T) * B;
  const bool relu = s.cell == CellKind::RnnRelu;
  const SequenceIndex seq{T, B, s.reverse, ws.lengths.empty() ? nullptr : ws.lengths.data()};
  const Layer::BackwardWeights& bw = layer.backwardWeights();

  AlignedBuffer dG(rows * H);
  AlignedBuffer dht(static_cast<size_t>(B) * H);
  AlignedBuffer dhA(static_cast<size_t>(B) * H), dhB(static_cast<size_t>(B) * H);
  copyOrZero(dhA.data(), io.dhN, static_cast<long>(B) * H);
  const Zoneout& zh = ws.zoneoutH;
  const float* mask = ws.recurrentMaskOrNull();
  RecurrentGradient recurrentGradient(mask, B, H);

  // Step i from the end (the gradients arriving at it are in A when i is even) in two phases over
  // units u of rows r: the gradient on the pre-activations, with dhBefore started (carried on padded
  // rows, zoneout's direct path on active ones); then dhBefore += dG · R, which reads every unit's dG.
  const auto operand = [&](int i, int phase, Range r) -> const float* {
    if (phase == 0) return nullptr;
    const float* dGt = rowsAt(dG.data(), seq.timeAt(T - 1 - i), B, H);
    return packRows(r.end - r.begin, MatrixRef{dGt + static_cast<long>(r.begin) * H, H, false}, bw.wHh);
  };
  const auto stepPhase = [&](int i, int phase, Range r, const float* dGPacked, const Share& share) {
    const Range u = share.units;
    const int t = seq.timeAt(T - 1 - i);
    const float* dh = (i % 2 == 0 ? dhA : dhB).data();
    float* dhBefore = (i % 2 == 0 ? dhB : dhA).data();
    if (phase == 1) {
      recurrentGradient.add(dhBefore, dGPacked, bw.wHh, r, u);
      return;
    }
    // The cell's own new state, whose value gives act'.
    const float* hNew = zh.on() ? rowsAt(ws.gates.data(), t, B, H) : rowsAt(ws.h.data(), seq.slotAfter(t), B, H);
    float* dGt = rowsAt(dG.data(), t, B, H);
    stepGradient(dht.data(), dh, io, seq, t, H, u, r);
    beginPreviousGradient(dhBefore, dht.data(), dh, zh, seq, t, H, u, r);
    for (int b = r.begin; b < r.end; b++) {
      const long q = static_cast<long>(b) * H;
      if (seq.active(t, b)) {
        k.rnnBackward(dGt + q, hNew + q, dht.data() + q, relu, u.begin, u.end);
      } else {
        std::fill(dGt + q + u.begin, dGt + q + u.end, 0.0f);
      }
    }
  };
  const int workers = stepWorkers(s, T, B);
  runStepPhases(BatchSplit(s, B, workers), s, workers, B, T, 2, operand, stepPhase);
  std::memcpy(io.dh0, (T % 2 == 0 ? dhA : dhB).data(), static_cast<size_t>(B) * H * sizeof(float));

  inputGradients(io, ws, dG.data(), layer);
  AlignedBuffer maskedStates;
  const float* hPrevAll = recurrentInputs(maskedStates, ws, seq, H);
  sgemm(H, H, static_cast<int>(rows), MatrixRef{dG.data(), H, true}, MatrixRef{hPrevAll, H, false},
        io.grads.wHh, H, false);
  if (s.bias) columnSums(io.grads.bHh, dG.data(), rows, H, H);
}

}  // namespace cellscan
