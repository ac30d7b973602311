// GRU over one direction of one layer, PyTorch's gate order (r, z, n). Two candidate forms:
// linear-before-reset (PyTorch, Keras reset_after): n = tanh(Wn x + bn + r ⊙ (Rn h + rn));
// reset-before-linear (ONNX default, Cho et al.):   n = tanh(Wn x + bn + Rn (r ⊙ h) + rn).
#include <algorithm>
#include <cstring>

#include "activations.h"
#include "sequence_ops.h"

namespace cellscan {
namespace {

// One row, forward, linear before reset. gates [3H]: in, x-projections (r, z with both biases, n with
// bn only); out, activated r z n. h [H], ghn [H] = Rn h + rn; rec [3H] = R h, bhn [H] or null
void gruCellForwardLbr(float* gates, float* h, float* ghn, const float* rec, const float* bhn,
                       const float* hPrev, int H) {
  for (int j = 0; j < H; j++) {
    const float r = sigmoid(gates[j] + rec[j]);
    const float z = sigmoid(gates[H + j] + rec[H + j]);
    const float hn = rec[2 * H + j] + (bhn ? bhn[j] : 0.0f);
    const float n = tanhf32(gates[2 * H + j] + r * hn);
    gates[j] = r;
    gates[H + j] = z;
    gates[2 * H + j] = n;
    ghn[j] = hn;
    h[j] = (1.0f - z) * n + z * hPrev[j];
  }
}

// One row, backward, linear before reset. dG [3H] on the x-side pre-activations, dGh [3H] on the
// recurrent-side ones (they differ in n: r scales Rn h + rn), dhBefore [H] the direct part;
// gates [3H] activated, ghn [H], hPrev [H], dh [H] total gradient on this step's h
void gruCellBackwardLbr(float* dG, float* dGh, float* dhBefore, const float* gates, const float* ghn,
                        const float* hPrev, const float* dh, int H) {
  for (int j = 0; j < H; j++) {
    const float r = gates[j];
    const float z = gates[H + j];
    const float n = gates[2 * H + j];
    const float dpn = dh[j] * (1.0f - z) * (1.0f - n * n);
    const float dpz = dh[j] * (hPrev[j] - n) * z * (1.0f - z);
    const float dpr = dpn * ghn[j] * r * (1.0f - r);
    dG[j] = dpr;
    dG[H + j] = dpz;
    dG[2 * H + j] = dpn;
    dGh[j] = dpr;
    dGh[H + j] = dpz;
    dGh[2 * H + j] = dpn * r;
    dhBefore[j] = dh[j] * z;
  }
}

// Total gradient on h for the active rows of step t (dh from later steps plus dY), 0 for padded rows.
void stepGradient(float* dht, const float* dh, const BackwardIO& io, const SequenceIndex& seq, int t, int H) {
  for (int b = 0; b < seq.B; b++) {
    float* d = dht + static_cast<long>(b) * H;
    if (!seq.active(t, b)) {
      std::fill(d, d + H, 0.0f);
      continue;
    }
    const float* carried = dh + static_cast<long>(b) * H;
    const float* dy = io.dY ? io.dY + (static_cast<long>(t) * seq.B + b) * io.ldDY : nullptr;
    for (int j = 0; j < H; j++) d[j] = carried[j] + (dy ? dy[j] : 0.0f);
  }
}

}  // namespace

// y [T, B, H] (rows ldy apart), hN [B, H], ws; x [T, B, I], h0 [B, H]
void gruLayerForward(const ForwardIO& io, Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const int H = s.hiddenSize;
  const int G = 3 * H;
  const int B = io.B;
  const bool lbr = s.linearBeforeReset;
  const float* bhn = s.bias && lbr ? layer.params().bHh.data() + 2 * H : nullptr;
  const SequenceIndex seq{io.T, B, s.reverse, io.lengths};

  projectInputs(ws.gates.data(), io.x, static_cast<long>(io.T) * B, layer);
  copyOrZero(rowsAt(ws.h.data(), seq.firstSlot(), B, H), io.h0, static_cast<long>(B) * H);
  // lbr: R h for all three gates; otherwise r ⊙ h, the input of the candidate's recurrent product.
  AlignedBuffer scratch(static_cast<size_t>(B) * (lbr ? G : H));

  for (int step = 0; step < io.T; step++) {
    const int t = seq.timeAt(step);
    const float* hPrev = rowsAt(ws.h.data(), seq.slotBefore(t), B, H);
    float* hNew = rowsAt(ws.h.data(), seq.slotAfter(t), B, H);
    float* gates = rowsAt(ws.gates.data(), t, B, G);

    if (lbr) {
      float* rec = scratch.data();
      float* ghn = rowsAt(ws.ghn.data(), t, B, H);
      sgemm(B, MatrixRef{hPrev, H, false}, layer.recurrentWeightsT(), rec, G, false);
      for (int b = 0; b < B; b++) {
        const long r = b;
        if (seq.active(t, b)) {
          gruCellForwardLbr(gates + r * G, hNew + r * H, ghn + r * H, rec + r * G, bhn, hPrev + r * H, H);
        } else {
          std::memcpy(hNew + r * H, hPrev + r * H, H * sizeof(float));
        }
      }
    } else {
      float* rh = scratch.data();
      // r and z pre-activations gain R_rz h in place; n's gains Rn (r ⊙ h) once r is known.
      sgemm(B, MatrixRef{hPrev, H, false}, layer.recurrentWeightsT(), gates, G, true);
      for (int b = 0; b < B; b++) {
        float* g = gates + static_cast<long>(b) * G;
        const float* hp = hPrev + static_cast<long>(b) * H;
        for (int j = 0; j < H; j++) {
          g[j] = sigmoid(g[j]);
          g[H + j] = sigmoid(g[H + j]);
          rh[static_cast<long>(b) * H + j] = g[j] * hp[j];
        }
      }
      sgemm(B, MatrixRef{rh, H, false}, layer.candidateWeightsT(), gates + 2 * H, G, true);
      for (int b = 0; b < B; b++) {
        const long r = b;
        if (!seq.active(t, b)) {
          std::memcpy(hNew + r * H, hPrev + r * H, H * sizeof(float));
          continue;
        }
        float* g = gates + r * G;
        for (int j = 0; j < H; j++) {
          const float n = tanhf32(g[2 * H + j]);
          const float z = g[H + j];
          g[2 * H + j] = n;
          hNew[r * H + j] = (1.0f - z) * n + z * hPrev[r * H + j];
        }
      }
    }
    writeOutputRows(io, seq, t, hNew, H);
  }
  std::memcpy(io.hN, rowsAt(ws.h.data(), seq.finalSlot(), B, H), static_cast<size_t>(B) * H * sizeof(float));
}

// dX [T, B, I], dh0 [B, H], grads; dY [T, B, H] (rows ldDY apart), dhN [B, H], ws
void gruLayerBackward(const BackwardIO& io, const Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
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
  AlignedBuffer dh(static_cast<size_t>(B) * H), dhBefore(static_cast<size_t>(B) * H);
  copyOrZero(dh.data(), io.dhN, static_cast<long>(B) * H);

  for (int step = T - 1; step >= 0; step--) {
    const int t = seq.timeAt(step);
    const float* hPrev = rowsAt(ws.h.data(), seq.slotBefore(t), B, H);
    const float* gates = rowsAt(ws.gates.data(), t, B, G);
    float* dGt = rowsAt(dG.data(), t, B, G);
    stepGradient(dht.data(), dh.data(), io, seq, t, H);

    if (lbr) {
      const float* ghn = rowsAt(ws.ghn.data(), t, B, H);
      float* dGht = rowsAt(dGh.data(), t, B, G);
      for (int b = 0; b < B; b++) {
        const long r = b;
        if (seq.active(t, b)) {
          gruCellBackwardLbr(dGt + r * G, dGht + r * G, dhBefore.data() + r * H, gates + r * G, ghn + r * H,
                             hPrev + r * H, dht.data() + r * H, H);
        } else {
          std::fill(dGt + r * G, dGt + (r + 1) * G, 0.0f);
          std::fill(dGht + r * G, dGht + (r + 1) * G, 0.0f);
          std::memcpy(dhBefore.data() + r * H, dh.data() + r * H, H * sizeof(float));
        }
      }
      sgemm(B, MatrixRef{dGht, G, false}, bw.wHh, dhBefore.data(), H, true);
    } else {
      // z and n first; r needs d(r ⊙ h) = dn_pre · Rn.
      for (int b = 0; b < B; b++) {
        const long r = b;
        float* d = dGt + r * G;
        if (!seq.active(t, b)) {
          std::fill(d, d + G, 0.0f);
          std::memcpy(dhBefore.data() + r * H, dh.data() + r * H, H * sizeof(float));
          continue;
        }
        const float* g = gates + r * G;
        const float* hp = hPrev + r * H;
        const float* dhr = dht.data() + r * H;
        for (int j = 0; j < H; j++) {
          const float z = g[H + j];
          const float n = g[2 * H + j];
          d[H + j] = dhr[j] * (hp[j] - n) * z * (1.0f - z);
          d[2 * H + j] = dhr[j] * (1.0f - z) * (1.0f - n * n);
          dhBefore.data()[r * H + j] = dhr[j] * z;
        }
      }
      float* dRh = dGh.data();
      sgemm(B, MatrixRef{dGt + 2 * H, G, false}, bw.wHn, dRh, H, false);
      for (int b = 0; b < B; b++) {
        if (!seq.active(t, b)) continue;
        const long r = b;
        const float* g = gates + r * G;
        const float* hp = hPrev + r * H;
        for (int j = 0; j < H; j++) {
          const float rg = g[j];
          dGt[r * G + j] = dRh[r * H + j] * hp[j] * rg * (1.0f - rg);
          dhBefore.data()[r * H + j] += dRh[r * H + j] * rg;
        }
      }
      sgemm(B, MatrixRef{dGt, G, false}, bw.wHh, dhBefore.data(), H, true);
    }
    std::swap(dh, dhBefore);
  }
  std::memcpy(io.dh0, dh.data(), static_cast<size_t>(B) * H * sizeof(float));

  inputGradients(io, ws, dG.data(), layer);
  const float* hPrevAll = rowsAt(ws.h.data(), seq.firstSlotBefore(), B, H);
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
      const float* hp = rowsAt(ws.h.data(), seq.slotBefore(t), B, H);
      const float* g = rowsAt(ws.gates.data(), t, B, G);
      float* out = rowsAt(rh.data(), t, B, H);
      for (int b = 0; b < B; b++) {
        for (int j = 0; j < H; j++) out[b * H + j] = g[static_cast<long>(b) * G + j] * hp[b * H + j];
      }
    }
    sgemm(H, H, static_cast<int>(rows), MatrixRef{dG.data() + 2 * H, G, true}, MatrixRef{rh.data(), H, false},
          io.grads.wHh + static_cast<long>(2) * H * H, H, false);
    if (s.bias) columnSums(io.grads.bHh, dG.data(), rows, G, G);
  }
}

}  // namespace cellscan
