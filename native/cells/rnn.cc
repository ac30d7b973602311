// Vanilla RNN over one direction of one layer: h' = act(W x + b + R h + r), act = tanh or relu.
#include <algorithm>
#include <cstring>

#include "activations.h"
#include "sequence_ops.h"

namespace cellscan {

// y [T, B, H] (rows ldy apart), hN [B, H], ws; x [T, B, I], h0 [B, H]
void rnnLayerForward(const ForwardIO& io, Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const int H = s.hiddenSize;
  const int B = io.B;
  const bool useRelu = s.cell == CellKind::RnnRelu;
  const SequenceIndex seq{io.T, B, s.reverse, io.lengths};

  projectInputs(ws.gates.data(), io.x, static_cast<long>(io.T) * B, layer);
  copyOrZero(rowsAt(ws.h.data(), seq.firstSlot(), B, H), io.h0, static_cast<long>(B) * H);
  for (int step = 0; step < io.T; step++) {
    const int t = seq.timeAt(step);
    const float* hPrev = rowsAt(ws.h.data(), seq.slotBefore(t), B, H);
    float* hNew = rowsAt(ws.h.data(), seq.slotAfter(t), B, H);
    float* pre = rowsAt(ws.gates.data(), t, B, H);
    sgemm(B, MatrixRef{hPrev, H, false}, layer.recurrentWeightsT(), pre, H, true);
    for (int b = 0; b < B; b++) {
      const long r = static_cast<long>(b) * H;
      if (!seq.active(t, b)) {
        std::memcpy(hNew + r, hPrev + r, H * sizeof(float));
      } else if (useRelu) {
        for (int j = 0; j < H; j++) hNew[r + j] = relu(pre[r + j]);
      } else {
        for (int j = 0; j < H; j++) hNew[r + j] = tanhf32(pre[r + j]);
      }
    }
    writeOutputRows(io, seq, t, hNew, H);
  }
  std::memcpy(io.hN, rowsAt(ws.h.data(), seq.finalSlot(), B, H), static_cast<size_t>(B) * H * sizeof(float));
}

// dX [T, B, I], dh0 [B, H], grads; dY [T, B, H] (rows ldDY apart), dhN [B, H], ws
void rnnLayerBackward(const BackwardIO& io, const Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const int H = s.hiddenSize;
  const int T = ws.T;
  const int B = ws.B;
  const long rows = static_cast<long>(T) * B;
  const bool useRelu = s.cell == CellKind::RnnRelu;
  const SequenceIndex seq{T, B, s.reverse, ws.lengths.empty() ? nullptr : ws.lengths.data()};
  const Layer::BackwardWeights& bw = layer.backwardWeights();

  AlignedBuffer dG(rows * H);
  AlignedBuffer dh(static_cast<size_t>(B) * H), dhBefore(static_cast<size_t>(B) * H);
  copyOrZero(dh.data(), io.dhN, static_cast<long>(B) * H);

  for (int step = T - 1; step >= 0; step--) {
    const int t = seq.timeAt(step);
    const float* hNew = rowsAt(ws.h.data(), seq.slotAfter(t), B, H);
    float* dGt = rowsAt(dG.data(), t, B, H);
    for (int b = 0; b < B; b++) {
      const long r = static_cast<long>(b) * H;
      if (!seq.active(t, b)) {
        std::fill(dGt + r, dGt + r + H, 0.0f);
        std::memcpy(dhBefore.data() + r, dh.data() + r, H * sizeof(float));
        continue;
      }
      const float* dy = io.dY ? io.dY + (static_cast<long>(t) * B + b) * io.ldDY : nullptr;
      for (int j = 0; j < H; j++) {
        const float d = dh.data()[r + j] + (dy ? dy[j] : 0.0f);
        const float h = hNew[r + j];
        // Both derivatives read off the output: tanh' = 1 - h², relu' = [h > 0].
        dGt[r + j] = useRelu ? (h > 0.0f ? d : 0.0f) : d * (1.0f - h * h);
      }
      std::fill(dhBefore.data() + r, dhBefore.data() + r + H, 0.0f);
    }
    sgemm(B, MatrixRef{dGt, H, false}, bw.wHh, dhBefore.data(), H, true);
    std::swap(dh, dhBefore);
  }
  std::memcpy(io.dh0, dh.data(), static_cast<size_t>(B) * H * sizeof(float));

  inputGradients(io, ws, dG.data(), layer);
  const float* hPrevAll = rowsAt(ws.h.data(), seq.firstSlotBefore(), B, H);
  sgemm(H, H, static_cast<int>(rows), MatrixRef{dG.data(), H, true}, MatrixRef{hPrevAll, H, false},
        io.grads.wHh, H, false);
  if (s.bias) columnSums(io.grads.bHh, dG.data(), rows, H, H);
}

}  // namespace cellscan
