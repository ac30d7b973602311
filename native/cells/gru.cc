// GRU over one direction of one layer, PyTorch's gate order (r, z, n). Two candidate forms:
// linear-before-reset (PyTorch, Keras reset_after): n = tanh(Wn x + bn + r ⊙ (Rn h + rn));
// reset-before-linear (ONNX default, Cho et al.):   n = tanh(Wn x + bn + Rn (r ⊙ h) + rn).
// Threads share the time loops as in lstm.cc.
#include <algorithm>
#include <cstring>

#include "../isa/kernel_table.h"
#include "sequence_ops.h"

namespace cellscan {
namespace {

// Padded rows among `rows`: their gradients, gate columns u, are zero.
void zeroGateColumns(float* dG, int G, int H, int gates, Range u, const SequenceIndex& seq, int t, Range rows) {
  for (int b = rows.begin; b < rows.end; b++) {
    if (seq.active(t, b)) continue;
    for (int g = 0; g < gates; g++) {
      float* d = dG + static_cast<long>(b) * G + g * H;
      std::fill(d + u.begin, d + u.end, 0.0f);
    }
  }
}

}  // namespace

// y [T, B, H] (rows ldy apart), hN [B, H], ws; x [T, B, I], h0 [B, H]
void gruLayerForward(const ForwardIO& io, Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const CpuKernels& k = cpuKernels();
  const int H = s.hiddenSize;
  const int G = 3 * H;
  const int B = io.B;
  const bool lbr = s.linearBeforeReset;
  const float* bhn = s.bias && lbr ? layer.params().bHh.data() + 2 * H : nullptr;
  const SequenceIndex seq{io.T, B, s.reverse, io.lengths};

  const bool inSteps = projectsInSteps(io.T, B);
  if (!inSteps) projectInputs(ws.gates.data(), io.x, seq, layer);
  copyOrZero(rowsAt(ws.h.data(), seq.firstSlot(), B, H), io.h0, static_cast<long>(B) * H);

  const auto hBefore = [&](int t) { return rowsAt(ws.h.data(), seq.slotBefore(t), B, H); };
  const auto hAfter = [&](int t) { return rowsAt(ws.h.data(), seq.slotAfter(t), B, H); };
  const auto gatesAt = [&](int t) { return rowsAt(ws.gates.data(), t, B, G); };
  float* rh = ws.scratch.data();  // r ⊙ h, reset before linear only
  const float* mask = io.recurrentMask;
  // Reset before linear takes two phases a step: r and z from h, then n from r ⊙ h.
  const int phasesPerStep = lbr ? 1 : 2;

  // The left operand of a phase's product for the productRows of `rows`: the state entering the
  // step, or r ⊙ h.
  const auto operand = [&](int step, int phase, Range rows) -> const float* {
    const Range run = productRows(seq, seq.timeAt(step), rows);
    const long r0 = run.begin;
    const int count = run.end - run.begin;
    if (count == 0) return nullptr;
    if (phase == 1) return packRows(count, MatrixRef{rh + r0 * H, H, false}, layer.candidateWeightsT());
    return packRecurrentInput(count, hBefore(seq.timeAt(step)) + r0 * H, mask ? mask + r0 * H : nullptr, H,
                              layer.recurrentWeightsT());
  };
  // Pieces of step t (rows x units); `a` holds `run` (the step's productRows) of the product's left
  // operand, packed.
  const auto product = [&](const PackedMatrix& w, const float* a, Range run, Range u, const GroupOutput* outs) {
    if (run.end > run.begin) gemmGroupColumnsPacked(run.end - run.begin, a, w, {0, run.end - run.begin}, u.begin, u.end, outs);
  };
  const auto finish = [&](int t, Range rows, Range u) {
    zoneoutRows(hAfter(t), hBefore(t), hAfter(t), io.zoneoutH, seq, t, H, u, rows);
    carryPaddedRows(hAfter(t), hBefore(t), seq, t, H, u, rows);
    writeOutputRows(io, seq, t, hAfter(t), H, u, rows);
  };
  // Linear before reset: r and z gain R h in place; n's recurrent part stays apart, r scales it.
  const auto lbrPiece = [&](int t, const float* h, Range rows, Range u) {
    float* gates = gatesAt(t);
    float* ghn = rowsAt(ws.ghn.data(), t, B, H);
    const Range run = productRows(seq, t, rows);
    const long o = run.begin;
    const GroupOutput outs[3] = {{gates + o * G, G, true}, {gates + o * G + H, G, true}, {ghn + o * H, H, false}};
    product(layer.recurrentWeightsT(), h, run, u, outs);
    for (int b = run.begin; b < run.end; b++) {
      const long r = b;
      if (seq.active(t, b)) {
        k.gruForwardLbr(gates + r * G, hAfter(t) + r * H, ghn + r * H, bhn, hBefore(t) + r * H, H, u.begin, u.end);
      }
    }
    finish(t, rows, u);
  };
  // Reset before linear, first r and z, and r ⊙ h (with recurrent dropout r ⊙ m ⊙ h).
  const auto rzPiece = [&](int t, const float* h, Range rows, Range u) {
    float* gates = gatesAt(t);
    const Range run = productRows(seq, t, rows);
    const long o = run.begin;
    const GroupOutput rz[2] = {{gates + o * G, G, true}, {gates + o * G + H, G, true}};
    product(layer.recurrentWeightsT(), h, run, u, rz);
    for (int b = run.begin; b < run.end; b++) {
      const long r = static_cast<long>(b) * H;
      k.gruGatesRz(gates + b * static_cast<long>(G), rh + r, hBefore(t) + r, H, u.begin, u.end);
      if (mask) {
        for (int j = u.begin; j < u.end; j++) rh[r + j] *= mask[r + j];
      }
    }
  };
  const auto candidatePiece = [&](int t, const float* rhPacked, Range rows, Range u) {
    float* gates = gatesAt(t);
    const Range run = productRows(seq, t, rows);
    const GroupOutput toN{gates + static_cast<long>(run.begin) * G + 2 * H, G, true};
    product(layer.candidateWeightsT(), rhPacked, run, u, &toN);
    for (int b = run.begin; b < run.end; b++) {
      const long r = b;
      if (seq.active(t, b)) k.gruCandidate(gates + r * G, hAfter(t) + r * H, hBefore(t) + r * H, H, u.begin, u.end);
    }
    finish(t, rows, u);
  };
  const auto piece = [&](int step, int phase, Range rows, const float* a, Range u) {
    const int t = seq.timeAt(step);
    if (inSteps && phase == 0) projectStepInput(gatesAt(t), io.x, u, layer);
    if (lbr) {
      lbrPiece(t, a, rows, u);
    } else if (phase == 0) {
      rzPiece(t, a, rows, u);
    } else {
      candidatePiece(t, a, rows, u);
    }
  };

  const int workers = stepWorkers(s, io.T, B);
  runForwardSteps(BatchSplit(s, B, workers), s, workers, B, io.T, phasesPerStep, operand, piece);
  std::memcpy(io.hN, rowsAt(ws.h.data(), seq.finalSlot(), B, H), static_cast<size_t>(B) * H * sizeof(float));
}

// dX [T, B, I], dh0 [B, H], grads; dY [T, B, H] (rows ldDY apart), dhN [B, H], ws
void gruLayerBackward(const BackwardIO& io, const Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const CpuKernels& k = cpuKernels();
  const int H = s.hiddenSize;
  const int G = 3 * H;
  const int T = ws.T;
  const int B = ws.B;
  const long rows = static_cast<long>(T) * B;
  const bool lbr = s.linearBeforeReset;
  const SequenceIndex seq{T, B, s.reverse, ws.lengths.empty() ? nullptr : ws.lengths.data()};
  const Layer::BackwardWeights& bw = layer.backwardWeights();

  AlignedBuffer dG(rows * G);
  // lbr: the recurrent-side gradients differ from dG in n; otherwise only d(r ⊙ h) per step is needed.
  AlignedBuffer dGh(lbr ? rows * G : static_cast<size_t>(B) * H);
  AlignedBuffer dht(static_cast<size_t>(B) * H);
  AlignedBuffer dhA(static_cast<size_t>(B) * H), dhB(static_cast<size_t>(B) * H);
  copyOrZero(dhA.data(), io.dhN, static_cast<long>(B) * H);
  const float* mask = ws.recurrentMaskOrNull();
  RecurrentGradient recurrentGradient(mask, B, H);

  // Step i from the end (the gradients arriving at it are in A when i is even) in phases, each
  // over units u of rows r: the cell's gradients (linear before reset: every gate; otherwise z and
  // n), with dhBefore carried from dh on padded rows; reset before linear only, d(r ⊙ h) = dn_pre ·
  // Rn and then r's gradient; last, dhBefore += (the h-side gradients) · R. The products read every
  // unit of the phase before, packed for rows r by `operand`.
  const int phasesPerStep = lbr ? 2 : 3;
  const auto operand = [&](int i, int phase, Range r) -> const float* {
    const int t = seq.timeAt(T - 1 - i);
    const long r0 = r.begin;
    const int count = r.end - r.begin;
    float* dGt = rowsAt(dG.data(), t, B, G);
    if (phase == 0) return nullptr;
    if (lbr) return packRows(count, MatrixRef{rowsAt(dGh.data(), t, B, G) + r0 * G, G, false}, bw.wHh);
    if (phase == 1) return packRows(count, MatrixRef{dGt + r0 * G + 2 * H, G, false}, bw.wHn);
    return packRows(count, MatrixRef{dGt + r0 * G, G, false}, bw.wHh);
  };
  const auto stepPhase = [&](int i, int phase, Range r, const float* a, const Share& share) {
    const Range u = share.units;
    const int t = seq.timeAt(T - 1 - i);
    const float* dh = (i % 2 == 0 ? dhA : dhB).data();
    float* dhBefore = (i % 2 == 0 ? dhB : dhA).data();
    const float* hPrev = rowsAt(ws.h.data(), seq.slotBefore(t), B, H);
    const float* gates = rowsAt(ws.gates.data(), t, B, G);
    float* dGt = rowsAt(dG.data(), t, B, G);
    const Range aRows{0, r.end - r.begin};
    const long r0 = r.begin;
    if (phase == phasesPerStep - 1) {
      recurrentGradient.add(dhBefore, a, bw.wHh, r, u);
      return;
    }
    if (phase == 0) {
      stepGradient(dht.data(), dh, io, seq, t, H, u, r);
      beginPreviousGradient(dhBefore, dht.data(), dh, ws.zoneoutH, seq, t, H, u, r);
      float* dGht = lbr ? rowsAt(dGh.data(), t, B, G) : nullptr;
      for (int b = r.begin; b < r.end; b++) {
        const long q = b;
        if (!seq.active(t, b)) continue;
        if (lbr) {
          k.gruBackwardLbr(dGt + q * G, dGht + q * G, dhBefore + q * H, gates + q * G,
                           rowsAt(ws.ghn.data(), t, B, H) + q * H, hPrev + q * H, dht.data() + q * H, H, u.begin, u.end);
        } else {
          k.gruBackwardZn(dGt + q * G, dhBefore + q * H, gates + q * G, hPrev + q * H, dht.data() + q * H, H, u.begin,
                          u.end);
        }
      }
      zeroGateColumns(dGt, G, H, 3, u, seq, t, r);
      if (lbr) zeroGateColumns(dGht, G, H, 3, u, seq, t, r);
      return;
    }
    float* dRh = dGh.data();
    const GroupOutput toDRh{dRh + r0 * H, H, false};
    gemmGroupColumnsPacked(r.end - r.begin, a, bw.wHn, aRows, u.begin, u.end, &toDRh);
    for (int b = r.begin; b < r.end; b++) {
      const long q = b;
      // With recurrent dropout n's product saw r ⊙ m ⊙ h: scaled by m, d(r ⊙ h) gives both r's
      // gradient (against the true h) and h's.
      if (mask) {
        for (int j = u.begin; j < u.end; j++) dRh[q * H + j] *= mask[q * H + j];
      }
      if (seq.active(t, b)) {
        k.gruBackwardR(dGt + q * G, dhBefore + q * H, gates + q * G, hPrev + q * H, dRh + q * H, H, u.begin, u.end);
      }
    }
  };

  const int workers = stepWorkers(s, T, B);
  runStepPhases(BatchSplit(s, B, workers), s, workers, B, T, phasesPerStep, operand, stepPhase);
  std::memcpy(io.dh0, (T % 2 == 0 ? dhA : dhB).data(), static_cast<size_t>(B) * H * sizeof(float));

  inputGradients(io, ws, dG.data(), layer);
  AlignedBuffer maskedStates;
  const float* hPrevAll = recurrentInputs(maskedStates, ws, seq, H);
  if (lbr) {
    sgemm(G, H, static_cast<int>(rows), MatrixRef{dGh.data(), G, true}, MatrixRef{hPrevAll, H, false},
          io.grads.wHh, H, false);
    if (s.bias) columnSums(io.grads.bHh, dGh.data(), rows, G, G);
  } else {
    sgemm(2 * H, H, static_cast<int>(rows), MatrixRef{dG.data(), G, true}, MatrixRef{hPrevAll, H, false},
          io.grads.wHh, H, false);
    // The candidate's recurrent weights saw r ⊙ h_prev, rebuilt here from the stored r.
    AlignedBuffer rh(rows * H);
    for (int t = 0; t < T; t++) {
      const float* hp = rowsAt(hPrevAll, t, B, H);
      const float* g = rowsAt(ws.gates.data(), t, B, G);
      float* out = rowsAt(rh.data(), t, B, H);
      // A row's gates at a step it does not run hold whatever the forward left there (its dG is 0).
      for (int b = 0; b < B; b++) {
        if (!seq.active(t, b)) {
          std::fill(out + b * H, out + (b + 1) * H, 0.0f);
          continue;
        }
        for (int j = 0; j < H; j++) out[b * H + j] = g[static_cast<long>(b) * G + j] * hp[b * H + j];
      }
    }
    sgemm(H, H, static_cast<int>(rows), MatrixRef{dG.data() + 2 * H, G, true}, MatrixRef{rh.data(), H, false},
          io.grads.wHh + static_cast<long>(2) * H * H, H, false);
    if (s.bias) columnSums(io.grads.bHh, dG.data(), rows, G, G);
  }
}

}  // namespace cellscan
