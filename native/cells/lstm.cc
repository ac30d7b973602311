// LSTM over one direction of one layer, PyTorch's gate order (i, f, g, o), optional peepholes
// (ONNX's definition) and projection (PyTorch's proj_size).
#include <algorithm>
#include <cstring>

#include "activations.h"
#include "sequence_ops.h"

namespace cellscan {
namespace {

// One row, forward. gates [4H]: in, pre-activations; out, activated i f g o. cNew [H], m [H] = o ⊙ tanh(c)
void lstmCellForward(float* gates, float* cNew, float* m, const float* cPrev, const float* peep, int H) {
  for (int j = 0; j < H; j++) {
    float pi = gates[j];
    float pf = gates[H + j];
    float po = gates[3 * H + j];
    if (peep) {
      pi += peep[j] * cPrev[j];
      pf += peep[H + j] * cPrev[j];
    }
    const float i = sigmoid(pi);
    const float f = sigmoid(pf);
    const float g = tanhf32(gates[2 * H + j]);
    const float c = f * cPrev[j] + i * g;
    if (peep) po += peep[2 * H + j] * c;
    const float o = sigmoid(po);
    gates[j] = i;
    gates[H + j] = f;
    gates[2 * H + j] = g;
    gates[3 * H + j] = o;
    cNew[j] = c;
    m[j] = o * tanhf32(c);
  }
}

// One row, backward. dG [4H] pre-activation gradients, dcPrev [H], dPeep [3H] (+=);
// gates [4H] activated, c / cPrev [H], dm [H] gradient on o ⊙ tanh(c), dc [H] gradient on c from later steps
void lstmCellBackward(float* dG, float* dcPrev, float* dPeep, const float* gates, const float* c,
                      const float* cPrev, const float* dm, const float* dc, const float* peep, int H) {
  for (int j = 0; j < H; j++) {
    const float i = gates[j];
    const float f = gates[H + j];
    const float g = gates[2 * H + j];
    const float o = gates[3 * H + j];
    const float tc = tanhf32(c[j]);
    const float dpo = dm[j] * tc * o * (1.0f - o);
    float dcTotal = dc[j] + dm[j] * o * (1.0f - tc * tc);
    if (peep) dcTotal += dpo * peep[2 * H + j];
    const float dpi = dcTotal * g * i * (1.0f - i);
    const float dpf = dcTotal * cPrev[j] * f * (1.0f - f);
    const float dpg = dcTotal * i * (1.0f - g * g);
    float dcp = dcTotal * f;
    if (peep) {
      dcp += dpi * peep[j] + dpf * peep[H + j];
      dPeep[j] += dpi * cPrev[j];
      dPeep[H + j] += dpf * cPrev[j];
      dPeep[2 * H + j] += dpo * c[j];
    }
    dG[j] = dpi;
    dG[H + j] = dpf;
    dG[2 * H + j] = dpg;
    dG[3 * H + j] = dpo;
    dcPrev[j] = dcp;
  }
}

}  // namespace

// y [T, B, Hout] (rows ldy apart), hN [B, Hout], cN [B, H], ws; x [T, B, I], h0 [B, Hout], c0 [B, H]
void lstmLayerForward(const ForwardIO& io, Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const int H = s.hiddenSize;
  const int G = 4 * H;
  const int hout = s.outSize();
  const int B = io.B;
  const bool proj = s.projSize > 0;
  const float* peep = s.peepholes ? layer.params().wPeep.data() : nullptr;
  const SequenceIndex seq{io.T, B, s.reverse, io.lengths};

  projectInputs(ws.gates.data(), io.x, static_cast<long>(io.T) * B, layer);
  copyOrZero(rowsAt(ws.h.data(), seq.firstSlot(), B, hout), io.h0, static_cast<long>(B) * hout);
  copyOrZero(rowsAt(ws.c.data(), seq.firstSlot(), B, H), io.c0, static_cast<long>(B) * H);

  for (int step = 0; step < io.T; step++) {
    const int t = seq.timeAt(step);
    const float* hPrev = rowsAt(ws.h.data(), seq.slotBefore(t), B, hout);
    float* hNew = rowsAt(ws.h.data(), seq.slotAfter(t), B, hout);
    const float* cPrev = rowsAt(ws.c.data(), seq.slotBefore(t), B, H);
    float* cNew = rowsAt(ws.c.data(), seq.slotAfter(t), B, H);
    float* gates = rowsAt(ws.gates.data(), t, B, G);
    // Without projection the cell output is the new hidden state itself.
    float* m = proj ? rowsAt(ws.m.data(), t, B, H) : hNew;

    sgemm(B, MatrixRef{hPrev, hout, false}, layer.recurrentWeightsT(), gates, G, true);
    for (int b = 0; b < B; b++) {
      const long r = b;
      if (seq.active(t, b)) {
        lstmCellForward(gates + r * G, cNew + r * H, m + r * H, cPrev + r * H, peep, H);
      } else {
        std::memcpy(cNew + r * H, cPrev + r * H, H * sizeof(float));
        if (proj) {
          // dW_hr sums over every row of m; a padded row must hold numbers, not stale memory.
          std::fill(m + r * H, m + (r + 1) * H, 0.0f);
        } else {
          std::memcpy(hNew + r * H, hPrev + r * H, H * sizeof(float));
        }
      }
    }
    if (proj) {
      sgemm(B, MatrixRef{m, H, false}, layer.projectionWeightsT(), hNew, hout, false);
      for (int b = 0; b < B; b++) {
        if (!seq.active(t, b)) std::memcpy(hNew + static_cast<long>(b) * hout, hPrev + static_cast<long>(b) * hout, hout * sizeof(float));
      }
    }
    writeOutputRows(io, seq, t, hNew, hout);
  }
  std::memcpy(io.hN, rowsAt(ws.h.data(), seq.finalSlot(), B, hout), static_cast<size_t>(B) * hout * sizeof(float));
  std::memcpy(io.cN, rowsAt(ws.c.data(), seq.finalSlot(), B, H), static_cast<size_t>(B) * H * sizeof(float));
}

// dX [T, B, I], dh0 [B, Hout], dc0 [B, H], grads; dY [T, B, Hout] (rows ldDY apart), dhN, dcN, ws
void lstmLayerBackward(const BackwardIO& io, const Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
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
  AlignedBuffer dh(static_cast<size_t>(B) * hout), dhBefore(static_cast<size_t>(B) * hout);
  AlignedBuffer dc(static_cast<size_t>(B) * H), dcBefore(static_cast<size_t>(B) * H);
  copyOrZero(dh.data(), io.dhN, static_cast<long>(B) * hout);
  copyOrZero(dc.data(), io.dcN, static_cast<long>(B) * H);
  if (peep) std::fill(io.grads.wPeep, io.grads.wPeep + 3 * H, 0.0f);

  for (int step = T - 1; step >= 0; step--) {
    const int t = seq.timeAt(step);
    const float* cPrev = rowsAt(ws.c.data(), seq.slotBefore(t), B, H);
    const float* cNew = rowsAt(ws.c.data(), seq.slotAfter(t), B, H);
    const float* gates = rowsAt(ws.gates.data(), t, B, G);
    float* dGt = rowsAt(dG.data(), t, B, G);
    float* dht = proj ? rowsAt(dHt.data(), t, B, hout) : dHt.data();

    // Gradient on this step's h: from the steps after it and from the output (padded rows get neither).
    for (int b = 0; b < B; b++) {
      float* d = dht + static_cast<long>(b) * hout;
      const float* carried = dh.data() + static_cast<long>(b) * hout;
      if (!seq.active(t, b)) {
        std::fill(d, d + hout, 0.0f);
        continue;
      }
      const float* dy = io.dY ? io.dY + (static_cast<long>(t) * B + b) * io.ldDY : nullptr;
      for (int j = 0; j < hout; j++) d[j] = carried[j] + (dy ? dy[j] : 0.0f);
    }
    const float* dmt = dht;
    if (proj) {
      sgemm(B, MatrixRef{dht, hout, false}, bw.wHr, dm.data(), H, false);
      dmt = dm.data();
    }

    for (int b = 0; b < B; b++) {
      const long r = b;
      if (seq.active(t, b)) {
        lstmCellBackward(dGt + r * G, dcBefore.data() + r * H, io.grads.wPeep, gates + r * G, cNew + r * H,
                         cPrev + r * H, dmt + r * H, dc.data() + r * H, peep, H);
        std::fill(dhBefore.data() + r * hout, dhBefore.data() + (r + 1) * hout, 0.0f);
      } else {
        std::fill(dGt + r * G, dGt + (r + 1) * G, 0.0f);
        std::memcpy(dcBefore.data() + r * H, dc.data() + r * H, H * sizeof(float));
        std::memcpy(dhBefore.data() + r * hout, dh.data() + r * hout, hout * sizeof(float));
      }
    }
    sgemm(B, MatrixRef{dGt, G, false}, bw.wHh, dhBefore.data(), hout, true);
    std::swap(dh, dhBefore);
    std::swap(dc, dcBefore);
  }
  std::memcpy(io.dh0, dh.data(), static_cast<size_t>(B) * hout * sizeof(float));
  std::memcpy(io.dc0, dc.data(), static_cast<size_t>(B) * H * sizeof(float));

  inputGradients(io, ws, dG.data(), layer);
  const float* hPrevAll = rowsAt(ws.h.data(), seq.firstSlotBefore(), B, hout);
  sgemm(G, hout, static_cast<int>(rows), MatrixRef{dG.data(), G, true}, MatrixRef{hPrevAll, hout, false},
        io.grads.wHh, hout, false);
  if (s.bias) columnSums(io.grads.bHh, dG.data(), rows, G, G);
  if (proj) {
    sgemm(hout, H, static_cast<int>(rows), MatrixRef{dHt.data(), hout, true}, MatrixRef{ws.m.data(), H, false},
          io.grads.wHr, H, false);
  }
}

}  // namespace cellscan
