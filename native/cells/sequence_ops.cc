#include "sequence_ops.h"

#include <algorithm>
#include <cstring>

namespace cellscan {

void projectInputs(float* gates, const float* x, long rows, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const int gh = s.gateSize();
  sgemm(static_cast<int>(rows), MatrixRef{x, s.inputSize, false}, layer.inputWeightsT(), gates, gh, false);
  if (!s.bias) return;
  const float* bias = layer.inputBias();
  for (long r = 0; r < rows; r++) {
    float* g = gates + r * gh;
    for (int j = 0; j < gh; j++) g[j] += bias[j];
  }
}

void copyOrZero(float* dst, const float* src, long n) {
  if (src) {
    std::memcpy(dst, src, n * sizeof(float));
  } else {
    std::fill(dst, dst + n, 0.0f);
  }
}

void columnSums(float* out, const float* src, long rows, int cols, long ld) {
  std::fill(out, out + cols, 0.0f);
  for (long r = 0; r < rows; r++) {
    const float* row = src + r * ld;
    for (int c = 0; c < cols; c++) out[c] += row[c];
  }
}

void inputGradients(const BackwardIO& io, const Workspace& ws, const float* dG, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const int gh = s.gateSize();
  const int in = s.inputSize;
  const long rows = static_cast<long>(ws.T) * ws.B;
  sgemm(gh, in, static_cast<int>(rows), MatrixRef{dG, gh, true}, MatrixRef{ws.x.data(), in, false},
        io.grads.wIh, in, false);
  if (s.bias) columnSums(io.grads.bIh, dG, rows, gh, gh);
  sgemm(static_cast<int>(rows), MatrixRef{dG, gh, false}, layer.backwardWeights().wIh, io.dX, in, false);
}

void copyActiveRows(float* dst, const float* src, const float* carry, const SequenceIndex& seq, int t, int n) {
  for (int b = 0; b < seq.B; b++) {
    const float* from = seq.active(t, b) ? src : carry;
    std::memcpy(dst + static_cast<long>(b) * n, from + static_cast<long>(b) * n, n * sizeof(float));
  }
}

}  // namespace cellscan

namespace cellscan {

void writeOutputRows(const ForwardIO& io, const SequenceIndex& seq, int t, const float* hNew, int hout) {
  for (int b = 0; b < seq.B; b++) {
    float* y = io.y + (static_cast<long>(t) * seq.B + b) * io.ldy;
    if (seq.active(t, b)) {
      std::memcpy(y, hNew + static_cast<long>(b) * hout, hout * sizeof(float));
    } else {
      std::fill(y, y + hout, 0.0f);
    }
  }
}

}  // namespace cellscan
