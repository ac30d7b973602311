#include "forward_loop.h"

namespace cellscan {

ForwardLoop::ForwardLoop(const ForwardIO& io, Workspace& ws, const Layer& layer)
    : io(io),
      seq{io.T, io.B, layer.spec().reverse, io.lengths},
      B(io.B),
      n(layer.spec().outSize()),
      ws_(ws),
      layer_(layer),
      inSteps_(projectsInSteps(io.T, io.B)),
      inY_(statesInOutput(io, n, ws.keepsInput, seq.reverse)) {
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
  if (inY_) return zeroPaddedRows(hAfter(t), seq, t, n, c, rows);
  carryPaddedRows(hAfter(t), hBefore(t), seq, t, n, c, rows);
  writeOutputRows(io, seq, t, hAfter(t), n, c, rows);
}

void ForwardLoop::writeFinalStates() const {
  const size_t bytes = static_cast<size_t>(n) * sizeof(float);
  if (!inY_) return (void)std::memcpy(io.hN, rowsAt(ws_.h.data(), seq.finalSlot(), B, n), B * bytes);
  // Each row's state after its own last step (h0's copy for a row of length 0).
  for (int b = 0; b < B; b++) {
    const int steps = io.lengths ? io.lengths[b] : io.T;
    const float* h = steps > 0 ? yRows(steps - 1) : rowsAt(ws_.h.data(), seq.firstSlot(), B, n);
    std::memcpy(io.hN + static_cast<long>(b) * n, h + static_cast<long>(b) * n, bytes);
  }
}

}  // namespace cellscan
