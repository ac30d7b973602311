// Vanilla RNN over one direction of one layer: h' = act(W x + b + R h + r), act = tanh or relu.
// Threads share the time loops as in lstm.cc.
#include <algorithm>
#include <cstring>

#include "../isa/kernel_table.h"
#include "backward_loop.h"
#include "forward_loop.h"

namespace cellscan {

// y [T, B, H] (rows ldy apart), hN [B, H], ws; x [T, B, I], h0 [B, H]
void rnnLayerForward(const ForwardIO& io, Workspace& ws, const Layer& layer) {
  const CpuKernels& k = cpuKernels();
  const int H = layer.spec().hiddenSize;
  const bool relu = layer.spec().cell == CellKind::RnnRelu;
  const ForwardLoop loop(io, ws, layer);
  const SequenceIndex& seq = loop.seq;

  // With zoneout the cell's own new state replaces its pre-activation (backward reads act' off it).
  const auto piece = [&](const ForwardPiece& p) {
    float* pre = rowsAt(ws.gates.data(), p.t, loop.B, H);
    const GroupOutput toPre{pre + static_cast<long>(p.run.begin) * H, H, true};
    stepProduct(layer.recurrentWeightsT(), p.packed, p.run, p.units, &toPre);
    float* cand = io.zoneoutH.on() ? pre : loop.hAfter(p.t);
    for (int b = p.run.begin; b < p.run.end; b++) {
      const long r = static_cast<long>(b) * H;
      if (seq.active(p.t, b)) k.rnnCellForward(cand + r, pre + r, relu, p.units.begin, p.units.end);
    }
    loop.finishState(p.t, cand, p.units, p.rows);
  };
  loop.run(1, [&](int t, int, Range run) { return loop.packState(t, run, layer.recurrentWeightsT()); }, piece);
}

// dX [T, B, I], dh0 [B, H], grads; dY [T, B, H] (rows ldDY apart), dhN [B, H], ws
void rnnLayerBackward(const BackwardIO& io, const Workspace& ws, const Layer& layer) {
  const LayerSpec& s = layer.spec();
  const CpuKernels& k = cpuKernels();
  const int H = s.hiddenSize;
  const bool relu = s.cell == CellKind::RnnRelu;
  BackwardLoop loop(io, ws, layer, false);
  const SequenceIndex& seq = loop.seq;

  // Each step in two phases over units u of rows r: the gradient on the pre-activations; then
  // (the loop's) dhBefore += dG · R, which reads every unit's dG.
  const auto cellPhase = [&](const BackwardPiece& p) {
    const Range u = p.share.units;
    // The cell's own new state, whose value gives act'.
    const float* hNew = ws.zoneoutH.on() ? rowsAt(ws.gates.data(), p.t, loop.B, H)
                                         : rowsAt(ws.h.data(), seq.slotAfter(p.t), loop.B, H);
    float* dGt = loop.dG(p.t);
    for (int b = p.rows.begin; b < p.rows.end; b++) {
      const long q = static_cast<long>(b) * H;
      if (seq.active(p.t, b)) {
        k.rnnCellBackward(dGt + q, hNew + q, p.dht + q, relu, u.begin, u.end);
      } else {
        std::fill(dGt + q + u.begin, dGt + q + u.end, 0.0f);
      }
    }
  };
  const int workers = stepWorkers(s, loop.T, loop.B);
  loop.run(BatchSplit(s, loop.B, workers), workers, 2, loop.dG(0), [](int, int, Range) { return nullptr; }, cellPhase);
  loop.weightGradients(loop.dG(0), H);
}

}  // namespace cellscan
