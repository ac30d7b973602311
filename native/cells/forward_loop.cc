#include "forward_loop.h"

namespace cellscan {

ForwardLoop::ForwardLoop(const ForwardIO& io, Workspace& ws, const Layer& layer)
    : io(io),
      seq{io.T, io.B, layer.spec().reverse, io.lengths},
      B(io.B),
      n(layer.spec().outSize()),
      ws_(ws),
      layer_(layer),
      inSteps_(projectsInSteps(io.T, io.B)) {
  if (!inSteps_) projectInputs(ws.gates.data(), io.x, seq, layer);
  copyOrZero(rowsAt(ws.h.data(), seq.firstSlot(), B, n), io.h0, static_cast<long>(B) * n);
}

const float* ForwardLoop::packState(int t, Range run, const PackedMatrix& w) const {
  const long r0 = run.begin;
  const float* mask = io.recurrentMask ? io.recurrentMask + r0 * n : nullptr;
  return packRecurrentInput(run.end - run.begin, hBefore(t) + r0 * n, mask, n, w);
}

void ForwardLoop::finishState(int t, const float* cand, Range c, Range rows) const {
  zoneoutRows(hAfter(t), hBefore(t), cand, io.zoneoutH, seq, t, n, c, rows);
  carryPaddedRows(hAfter(t), hBefore(t), seq, t, n, c, rows);
  writeOutputRows(io, seq, t, hAfter(t), n, c, rows);
}

}  // namespace cellscan
