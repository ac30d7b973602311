#include "layer.h"

#include <atomic>
#include <cstring>

#include "../runtime/compute_session.h"
#include "../runtime/thread_pool.h"
#include "sequence_ops.h"

namespace cellscan {

Layer::Layer(const LayerSpec& spec, LayerParams params) : spec_(spec), params_(std::move(params)) {
  const int h = spec_.hiddenSize;
  const int gh = spec_.gateSize();
  // Biases that sit outside any gate product fold into the input projection once.
  inputBias_.assign(gh, 0.0f);
  if (spec_.bias) {
    const bool keepCandidateRecurrentBias = spec_.cell == CellKind::Gru && spec_.linearBeforeReset;
    for (int j = 0; j < gh; j++) {
      const bool inside = keepCandidateRecurrentBias && j >= 2 * h;
      inputBias_[j] = params_.bIh[j] + (inside ? 0.0f : params_.bHh[j]);
    }
  }
}

const Layer::ForwardWeights& Layer::forwardWeights() const {
  std::call_once(forwardOnce_, [this] {
    const int h = spec_.hiddenSize;
    const int gh = spec_.gateSize();
    const int hout = spec_.outSize();
    const int in = spec_.inputSize;
    forward_.wIhT = PackedMatrix(in, gh, MatrixRef{params_.wIh.data(), in, true});
    const bool splitCandidate = spec_.cell == CellKind::Gru && !spec_.linearBeforeReset;
    // Without linear-before-reset the candidate's recurrent product needs r first: Rn gets its own pack.
    const int recurrentCols = splitCandidate ? 2 * h : gh;
    forward_.wHhT = PackedMatrix(hout, recurrentCols, MatrixRef{params_.wHh.data(), hout, true}, recurrentCols / h);
    if (splitCandidate) {
      forward_.wHnT = PackedMatrix(h, h, MatrixRef{params_.wHh.data() + static_cast<long>(2) * h * h, h, true});
    }
    if (spec_.projSize > 0) forward_.wHrT = PackedMatrix(h, hout, MatrixRef{params_.wHr.data(), h, true});
  });
  return forward_;
}

size_t Layer::bytes() const {
  const LayerParams& p = params_;
  const size_t weights = (p.wIh.size() + p.wHh.size() + p.wHr.size()) * sizeof(float);
  const size_t params = weights + (p.bIh.size() + p.bHh.size() + p.wPeep.size()) * sizeof(float);
  // Forward panels hold about the weights again (padded to whole panels), backward as much once
  // more, a streaming step W_ih's panels once more: all of them packed on first use.
  return params + 2 * weights + p.wIh.size() * sizeof(float);
}

const PackedMatrix& Layer::stepInputWeightsT() const {
  std::call_once(stepInputOnce_, [this] {
    stepInputT_ = PackedMatrix(spec_.inputSize, spec_.gateSize(), MatrixRef{params_.wIh.data(), spec_.inputSize, true},
                               spec_.gates());
  });
  return stepInputT_;
}

const Layer::BackwardWeights& Layer::backwardWeights() const {
  std::call_once(backwardOnce_, [this] {
    const int h = spec_.hiddenSize;
    const int gh = spec_.gateSize();
    const int hout = spec_.outSize();
    const int in = spec_.inputSize;
    backward_.wIh = PackedMatrix(gh, in, MatrixRef{params_.wIh.data(), in, false});
    const bool splitCandidate = spec_.cell == CellKind::Gru && !spec_.linearBeforeReset;
    backward_.wHh = PackedMatrix(splitCandidate ? 2 * h : gh, hout, MatrixRef{params_.wHh.data(), hout, false});
    if (splitCandidate) {
      backward_.wHn = PackedMatrix(h, h, MatrixRef{params_.wHh.data() + static_cast<long>(2) * h * h, h, false});
    }
    if (spec_.projSize > 0) backward_.wHr = PackedMatrix(hout, h, MatrixRef{params_.wHr.data(), h, false});
  });
  return backward_;
}

void Layer::allocateWorkspace(Workspace& ws, const ForwardIO& io, bool keepInput) const {
  const int T = io.T;
  const int B = io.B;
  const size_t tb = static_cast<size_t>(T) * B;
  const size_t h = spec_.hiddenSize;
  const size_t hout = spec_.outSize();
  ws.T = T;
  ws.B = B;
  ws.keepsInput = keepInput;
  if (keepInput) ws.x.grow(tb * spec_.inputSize);
  // States in y need only the slot h0 is copied into.
  ws.h.grow((statesInOutput(io, static_cast<int>(hout), keepInput, spec_.reverse) ? 0 : tb) * hout + B * hout);
  ws.gates.grow(tb * spec_.gateSize());
  if (spec_.cell == CellKind::Lstm) {
    ws.c.grow((tb + B) * h);
    if (spec_.projSize > 0) ws.m.grow(tb * h);
    if (io.zoneoutC.on()) ws.cCand.grow(tb * h);
  }
  if (spec_.cell == CellKind::Gru && spec_.linearBeforeReset) ws.ghn.grow(tb * h);
  if (spec_.cell == CellKind::Gru && !spec_.linearBeforeReset) ws.scratch.grow(static_cast<size_t>(B) * h);
  if (!keepInput) return;
  ws.hasRecurrentMask = io.recurrentMask != nullptr;
  if (io.recurrentMask) {
    std::memcpy(ws.recurrentMask.grow(B * hout), io.recurrentMask, B * hout * sizeof(float));
  }
  // Masks are copied into pooled blocks: a fresh mapping per training call would fault in every page.
  const auto keepZoneout = [&](AlignedBuffer& store, const Zoneout& z, size_t n) {
    if (!z.mask) return Zoneout{nullptr, z.p};
    auto* bytes = reinterpret_cast<uint8_t*>(store.grow((tb * n + 3) / 4));
    std::memcpy(bytes, z.mask, tb * n);
    return Zoneout{bytes, z.p};
  };
  ws.zoneoutH = keepZoneout(ws.zoneoutHMask, io.zoneoutH, hout);
  ws.zoneoutC = keepZoneout(ws.zoneoutCMask, io.zoneoutC, h);
}

void Layer::forward(const ForwardIO& io, Workspace& ws) const {
  if (ws.keepsInput) {
    std::memcpy(ws.x.data(), io.x, static_cast<size_t>(io.T) * io.B * spec_.inputSize * sizeof(float));
    if (io.lengths) ws.lengths.assign(io.lengths, io.lengths + io.B);
  }
  switch (spec_.cell) {
    case CellKind::Lstm: return lstmLayerForward(io, ws, *this);
    case CellKind::Gru: return gruLayerForward(io, ws, *this);
    case CellKind::RnnTanh:
    case CellKind::RnnRelu: return rnnLayerForward(io, ws, *this);
  }
}

// Independent forwards side by side, one per worker, when each would run on one thread anyway, else
// one after another on every worker. Same results either way.
void Layer::runForwards(ForwardCall* calls, int n) {
  ComputeSession session;
  for (int i = 0; i < n; i++) {
    ForwardCall& c = calls[i];
    if (c.training) c.workspace = std::make_shared<Workspace>();
    c.layer->allocateWorkspace(c.training ? *c.workspace : c.layer->inference_, c.io, c.training);
  }
  // Packed here, on the thread that runs the call, before its workers need the panels.
  for (int i = 0; i < n; i++) calls[i].layer->forwardWeights();
  const auto run = [calls](int i) {
    const ForwardCall& c = calls[i];
    c.layer->forward(c.io, c.training ? *c.workspace : c.layer->inference_);
  };
  ThreadPool& pool = ThreadPool::instance();
  // A forward that splits its own products or time loop keeps every worker busy already, and a tiny
  // one is over before a worker would join. Two calls on one layer's inference workspace run one
  // after the other.
  bool alone = pool.threads() > 1 && n > 1;
  for (int i = 0; i < n && alone; i++) {
    const LayerSpec& s = calls[i].layer->spec();
    const ForwardIO& io = calls[i].io;
    // Below ~0.2 MFLOP a call (a few microseconds) handing one to a worker costs what it saves.
    const double flops = 2.0 * io.T * io.B * s.gateSize() * (s.inputSize + s.outSize());
    alone = flops >= 2e5 && stepWorkers(s, io.T, io.B) == 1 &&
            gemmWorkers(io.T * io.B, s.gateSize(), s.inputSize, true) == 1;
    for (int j = 0; j < i && alone; j++) alone = calls[j].layer != calls[i].layer;
  }
  if (!alone) {
    for (int i = 0; i < n; i++) run(i);
    return;
  }
  // Claimed, not assigned: a worker the OS has not scheduled yet leaves its call to the others.
  std::atomic<int> next{0};
  pool.run(
      [&](int, int) {
        for (int i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) run(i);
      },
      n, ThreadPool::Joining::AsAvailable);
}

void Layer::runBackward(const BackwardIO& io, const Workspace& ws) const {
  ComputeSession session;
  backward(io, ws);
}

void Layer::backward(const BackwardIO& io, const Workspace& ws) const {
  switch (spec_.cell) {
    case CellKind::Lstm: return lstmLayerBackward(io, ws, *this);
    case CellKind::Gru: return gruLayerBackward(io, ws, *this);
    case CellKind::RnnTanh:
    case CellKind::RnnRelu: return rnnLayerBackward(io, ws, *this);
  }
}

}  // namespace cellscan
