#include "backward_loop.h"

namespace cellscan {

BackwardLoop::BackwardLoop(const BackwardIO& io, const Workspace& ws, const Layer& layer, bool keepStepGradients)
    : io(io),
      ws(ws),
      seq{ws.T, ws.B, layer.spec().reverse, ws.lengths.empty() ? nullptr : ws.lengths.data()},
      T(ws.T),
      B(ws.B),
      n(layer.spec().outSize()),
      G(layer.spec().gateSize()),
      layer_(layer),
      keepsSteps_(keepStepGradients),
      dG_(static_cast<size_t>(T) * B * G),
      dht_(static_cast<size_t>(keepStepGradients ? T : 1) * B * n),
      dhA_(static_cast<size_t>(B) * n),
      dhB_(static_cast<size_t>(B) * n),
      recurrentGradient_(ws.recurrentMaskOrNull(), B, n) {
  copyOrZero(dhA_.data(), io.dhN, static_cast<long>(B) * n);
}

const float* BackwardLoop::weightGradients(const float* recurrent, int gateRows) {
  const long rows = static_cast<long>(T) * B;
  inputGradients(io, ws, dG_.data(), layer_);
  const float* states = recurrentInputs(maskedStates_, ws, seq, n);
  sgemm(gateRows, n, static_cast<int>(rows), MatrixRef{recurrent, G, true}, MatrixRef{states, n, false}, io.grads.wHh,
        n, false);
  if (layer_.spec().bias) columnSums(io.grads.bHh, recurrent, rows, G, G);
  return states;
}

}  // namespace cellscan
