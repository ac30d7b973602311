// GRU over one direction of one layer, PyTorch's gate order (r, z, n). Two candidate forms:
// linear-before-reset (PyTorch, Keras reset_after): n = tanh(Wn x + bn + r ⊙ (Rn h + rn));
// reset-before-linear (ONNX default, Cho et al.):   n = tanh(Wn x + bn + Rn (r ⊙ h) + rn).
// Threads share the time loops as in lstm.cc.
#include <algorithm>
#include <cstring>

#include "../isa/kernel_table.h"
#include "backward_loop.h"
#include "forward_loop.h"

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
  const bool lbr = s.linearBeforeReset;
  const float* bhn = s.bias && lbr ? layer.params().bHh.data() + 2 * H : nullptr;
  const ForwardLoop loop(io, ws, layer);
  const SequenceIndex& seq = loop.seq;
  const int B = loop.B;
  const auto gatesAt = [&](int t) { return rowsAt(ws.gates.data(), t, B, G); };
  float* rh = ws.scratch.data();  // r ⊙ h, reset before linear only
  const float* mask = io.recurrentMask;

  // Reset before linear takes two phases a step: r and z from h, then n from r ⊙ h, whose product
  // has r ⊙ h as its left operand.
  const auto operand = [&](int t, int phase, Range run) -> const float* {
    if (phase == 0) return loop.packState(t, run, layer.recurrentWeightsT());
    return packRows(run.end - run.begin, MatrixRef{rh + static_cast<long>(run.begin) * H, H, false},
                    layer.candidateWeightsT());
  };
  // Linear before reset: r and z gain R h in place; n's recurrent part stays apart, r scales it.
  const auto lbrPiece = [&](const ForwardPiece& p) {
    float* gates = gatesAt(p.t);
    float* ghn = rowsAt(ws.ghn.data(), p.t, B, H);
    const long o = p.run.begin;
    const GroupOutput outs[3] = {{gates + o * G, G, true}, {gates + o * G + H, G, true}, {ghn + o * H, H, false}};
    stepProduct(layer.recurrentWeightsT(), p.packed, p.run, p.units, outs);
    for (int b = p.run.begin; b < p.run.end; b++) {
      const long r = b;
      if (seq.active(p.t, b)) {
        k.gruCellForwardLbr(gates + r * G, loop.hAfter(p.t) + r * H, ghn + r * H, bhn, loop.hBefore(p.t) + r * H, H,
                        p.units.begin, p.units.end);
      }
    }
    loop.finishState(p.t, loop.hAfter(p.t), p.units, p.rows);
  };
  // Reset before linear, first r and z, and r ⊙ h (with recurrent dropout r ⊙ m ⊙ h).
  const auto rzPiece = [&](const ForwardPiece& p) {
    float* gates = gatesAt(p.t);
    const long o = p.run.begin;
    const GroupOutput rz[2] = {{gates + o * G, G, true}, {gates + o * G + H, G, true}};
    stepProduct(layer.recurrentWeightsT(), p.packed, p.run, p.units, rz);
    for (int b = p.run.begin; b < p.run.end; b++) {
      const long r = static_cast<long>(b) * H;
      k.gruCellForwardRzRbl(gates + b * static_cast<long>(G), rh + r, loop.hBefore(p.t) + r, H, p.units.begin,
                            p.units.end);
      if (mask) {
        for (int j = p.units.begin; j < p.units.end; j++) rh[r + j] *= mask[r + j];
      }
    }
  };
  const auto candidatePiece = [&](const ForwardPiece& p) {
    float* gates = gatesAt(p.t);
    const GroupOutput toN{gates + static_cast<long>(p.run.begin) * G + 2 * H, G, true};
    stepProduct(layer.candidateWeightsT(), p.packed, p.run, p.units, &toN);
    for (int b = p.run.begin; b < p.run.end; b++) {
      const long r = b;
      if (seq.active(p.t, b)) {
        k.gruCellForwardNRbl(gates + r * G, loop.hAfter(p.t) + r * H, loop.hBefore(p.t) + r * H, H, p.units.begin,
                             p.units.end);
      }
    }
    loop.finishState(p.t, loop.hAfter(p.t), p.units, p.rows);
  };
  loop.run(lbr ? 1 : 2, operand, [&](const ForwardPiece& p) {
    if (lbr) {
      lbrPiece(p);
    } else if (p.phase == 0) {
      rzPiece(p);
    } else {
      candidatePiece(p);
    }
  });
}

// dX [T, B, I], dh0 [B, H], grads; dY [T, B, H] (rows ldDY apart), dhN [B, H], ws
void gruLayerBackward(const BackwardIO& io, const Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const CpuKernels& k = cpuKernels();
  const int H = s.hiddenSize;
  const int G = 3 * H;
  const bool lbr = s.linearBeforeReset;
  BackwardLoop loop(io, ws, layer, false);
  const SequenceIndex& seq = loop.seq;
  const int T = loop.T;
  const int B = loop.B;
  const long rows = static_cast<long>(T) * B;
  const Layer::BackwardWeights& bw = layer.backwardWeights();
  // lbr: the recurrent-side gradients differ from dG in n; otherwise only d(r ⊙ h) per step is needed.
  AlignedBuffer dGh(lbr ? rows * G : static_cast<size_t>(B) * H);
  const float* mask = ws.recurrentMaskOrNull();

  // Each step in phases over units u of rows r: the cell's gradients (linear before reset: every
  // gate; otherwise z and n), with dhBefore carried from dh on padded rows; reset before linear
  // only, d(r ⊙ h) = dn_pre · Rn and then r's gradient; last (the loop's), dhBefore += (the h-side
  // gradients) · R. The products read every unit of the phase before, packed for rows r by `operand`.
  const auto operand = [&](int t, int phase, Range r) -> const float* {
    if (phase == 0) return nullptr;
    return packRows(r.end - r.begin, MatrixRef{loop.dG(t) + static_cast<long>(r.begin) * G + 2 * H, G, false}, bw.wHn);
  };
  const auto cellPhase = [&](const BackwardPiece& p) {
    const int t = p.t;
    const Range u = p.share.units;
    const Range r = p.rows;
    const float* hPrev = rowsAt(ws.h.data(), seq.slotBefore(t), B, H);
    const float* gates = rowsAt(ws.gates.data(), t, B, G);
    float* dGt = loop.dG(t);
    if (p.phase == 0) {
      float* dGht = lbr ? rowsAt(dGh.data(), t, B, G) : nullptr;
      for (int b = r.begin; b < r.end; b++) {
        const long q = b;
        if (!seq.active(t, b)) continue;
        if (lbr) {
          k.gruCellBackwardLbr(dGt + q * G, dGht + q * G, p.dhBefore + q * H, gates + q * G,
                               rowsAt(ws.ghn.data(), t, B, H) + q * H, hPrev + q * H, p.dht + q * H, H, u.begin, u.end);
        } else {
          k.gruCellBackwardZnRbl(dGt + q * G, p.dhBefore + q * H, gates + q * G, hPrev + q * H, p.dht + q * H, H,
                                 u.begin, u.end);
        }
      }
      zeroGateColumns(dGt, G, H, 3, u, seq, t, r);
      if (lbr) zeroGateColumns(dGht, G, H, 3, u, seq, t, r);
      return;
    }
    float* dRh = dGh.data();
    const long r0 = r.begin;
    const GroupOutput toDRh{dRh + r0 * H, H, false};
    gemmGroupColumnsPacked(r.end - r.begin, p.packed, bw.wHn, {0, r.end - r.begin}, u.begin, u.end, &toDRh);
    for (int b = r.begin; b < r.end; b++) {
      const long q = b;
      // With recurrent dropout n's product saw r ⊙ m ⊙ h: scaled by m, d(r ⊙ h) gives both r's
      // gradient (against the true h) and h's.
      if (mask) {
        for (int j = u.begin; j < u.end; j++) dRh[q * H + j] *= mask[q * H + j];
      }
      if (seq.active(t, b)) {
        k.gruCellBackwardRRbl(dGt + q * G, p.dhBefore + q * H, gates + q * G, hPrev + q * H, dRh + q * H, H, u.begin,
                              u.end);
      }
    }
  };

  const int workers = stepWorkers(s, T, B);
  const float* recurrent = lbr ? dGh.data() : loop.dG(0);
  loop.run(BatchSplit(s, B, workers), workers, lbr ? 2 : 3, recurrent, operand, cellPhase);
  const float* hPrevAll = loop.weightGradients(recurrent, lbr ? G : 2 * H);
  if (lbr) return;
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
  sgemm(H, H, static_cast<int>(rows), MatrixRef{loop.dG(0) + 2 * H, G, true}, MatrixRef{rh.data(), H, false},
        io.grads.wHh + static_cast<long>(2) * H * H, H, false);
}

}  // namespace cellscan
