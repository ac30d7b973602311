#pragma once
// One direction of one recurrent layer over a whole sequence: the unit of work a backend computes.
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "../gemm/gemm.h"
#include "../runtime/aligned_buffer.h"
#include "../runtime/pooled_array.h"

namespace cellscan {

enum class CellKind { Lstm, Gru, RnnTanh, RnnRelu };

struct LayerSpec {
  CellKind cell = CellKind::Lstm;
  int inputSize = 0;
  int hiddenSize = 0;
  int projSize = 0;  // 0: no projection (LSTM only)
  bool bias = true;
  bool peepholes = false;         // LSTM only
  bool linearBeforeReset = true;  // GRU only
  bool reverse = false;

  int gates() const { return cell == CellKind::Lstm ? 4 : cell == CellKind::Gru ? 3 : 1; }
  int gateSize() const { return gates() * hiddenSize; }
  int outSize() const { return projSize > 0 ? projSize : hiddenSize; }
  bool hasCellState() const { return cell == CellKind::Lstm; }
};

// Parameters as PyTorch stores them (row-major, gates stacked in PyTorch order).
// Pooled: a training loop prepares a new layer from the optimizer's weights every step.
struct LayerParams {
  PooledArray<float> wIh;    // [G*H, I]
  PooledArray<float> wHh;    // [G*H, Hout]
  PooledArray<float> bIh;    // [G*H] (empty without bias)
  PooledArray<float> bHh;    // [G*H]
  PooledArray<float> wHr;    // [Hout, H] (projection)
  PooledArray<float> wPeep;  // [3, H] rows i, f, o (peepholes)
};

// Parameter gradients of one call, written (not accumulated): the caller adds them where it wants.
struct ParamGrads {
  float* wIh = nullptr;
  float* wHh = nullptr;
  float* bIh = nullptr;
  float* bHh = nullptr;
  float* wHr = nullptr;
  float* wPeep = nullptr;
};

// Zoneout of one state (Krueger et al. 2016): the state after a step is d ⊙ previous + (1 − d) ⊙ the
// cell's new one, with d = mask[t, b, j] (0 or 1, drawn per step in training) or p everywhere (its
// expectation, in evaluation). Off when there is neither.
struct Zoneout {
  const uint8_t* mask = nullptr;  // [T, B, n] or null
  float p = 0.0f;
  bool on() const { return mask != nullptr || p != 0.0f; }
};

// What forward keeps for backward. States live in T + 1 time-indexed slots so that the state before
// step t and the state after it are adjacent whichever way the direction runs (see SequenceIndex).
struct Workspace {
  int T = 0;
  int B = 0;
  bool keepsInput = false;   // training: x is kept for the weight gradient
  std::vector<int> lengths;  // empty: every row runs all T steps
  AlignedBuffer x;           // [T, B, I] copy of the input (training only)
  AlignedBuffer h;           // [T + 1, B, Hout]
  AlignedBuffer c;           // [T + 1, B, H] (LSTM)
  AlignedBuffer gates;       // [T, B, G*H] activated gates (LSTM i f g o; GRU r z n; RNN: scratch)
  AlignedBuffer m;           // [T, B, H] LSTM output before projection, o ⊙ tanh(c)
  AlignedBuffer ghn;         // [T, B, H] GRU (linear before reset): Rn h + rn
  AlignedBuffer scratch;     // [B, H] per-step scratch (GRU reset before linear: r ⊙ h)
  AlignedBuffer cCand;       // [T, B, H] LSTM with cell zoneout: the cell's own new state c̃
  // The variants' masks, copied for backward (training only).
  AlignedBuffer recurrentMask;  // [B, Hout] recurrent dropout, when hasRecurrentMask
  bool hasRecurrentMask = false;
  AlignedBuffer zoneoutHMask, zoneoutCMask;  // bytes, held in float-sized blocks from the pool
  Zoneout zoneoutH, zoneoutC;  // views of the masks above, or p
  const float* recurrentMaskOrNull() const { return hasRecurrentMask ? recurrentMask.data() : nullptr; }
  size_t bytes() const {
    return (x.size() + h.size() + c.size() + gates.size() + m.size() + ghn.size() + scratch.size() + cCand.size() +
            recurrentMask.size() + zoneoutHMask.size() + zoneoutCMask.size()) * sizeof(float) +
           lengths.size() * sizeof(int);
  }
};

struct ForwardIO {
  int T = 0;
  int B = 0;
  const float* x = nullptr;      // [T, B, I]
  const float* h0 = nullptr;     // [B, Hout] or null for zeros
  const float* c0 = nullptr;     // [B, H] or null for zeros
  const int* lengths = nullptr;  // [B] or null for all T
  float* y = nullptr;            // T*B rows of Hout, ldy apart
  long ldy = 0;
  float* hN = nullptr;  // [B, Hout]
  float* cN = nullptr;  // [B, H] (LSTM)
  // Variants: recurrent dropout's mask [B, Hout] on the state entering the recurrent product, or
  // null; zoneout of h ([T, B, Hout]) and c ([T, B, H], LSTM).
  const float* recurrentMask = nullptr;
  Zoneout zoneoutH, zoneoutC;
};

struct BackwardIO {
  const float* dY = nullptr;  // T*B rows of Hout, ldDY apart, or null for zeros
  long ldDY = 0;
  const float* dhN = nullptr;  // [B, Hout] or null
  const float* dcN = nullptr;  // [B, H] or null
  float* dX = nullptr;         // [T, B, I] written
  float* dh0 = nullptr;        // [B, Hout] written
  float* dc0 = nullptr;        // [B, H] written (LSTM)
  ParamGrads grads;
};

// The time order of one direction, and which rows take part in each step.
struct SequenceIndex {
  SequenceIndex(int T, int B, bool reverse, const int* lengths);
  int T;
  int B;
  bool reverse;
  const int* lengths;
  // Lengths in non-increasing order (as the Batcher sends them and PyTorch's packed sequences hold
  // them): the rows running at any time t are then the first activeRows(t).
  bool sorted;

  int timeAt(int step) const { return reverse ? T - 1 - step : step; }
  // State slots: the state entering time t and the one leaving it.
  int slotBefore(int t) const { return reverse ? t + 1 : t; }
  int slotAfter(int t) const { return reverse ? t : t + 1; }
  int firstSlot() const { return reverse ? T : 0; }
  int finalSlot() const { return reverse ? 0 : T; }
  // The slots entering every time step, t = 0..T-1 in order, are contiguous from here.
  int firstSlotBefore() const { return reverse ? 1 : 0; }
  bool active(int t, int b) const { return lengths == nullptr || t < lengths[b]; }
  // How many rows run at time t when `sorted`, else B.
  int activeRows(int t) const;
};

class Layer;

// One forward as a caller asks for it. A training forward gets a workspace of its own, which backward
// reads later; inference reuses the layer's, so a streaming call allocates nothing.
struct ForwardCall {
  const Layer* layer = nullptr;
  ForwardIO io;
  bool training = false;
  std::shared_ptr<Workspace> workspace;  // set by Layer::runForwards for a training call
};

// The weights of one layer direction, packed once for the products forward and backward need.
class Layer {
 public:
  Layer(const LayerSpec& spec, LayerParams params);
  const LayerSpec& spec() const { return spec_; }
  const LayerParams& params() const { return params_; }
  // Memory held: the parameters, the forward panels, and as much again for the backward panels a
  // training layer packs on first use (what the JS heap should count this object as).
  size_t bytes() const;

  // The entries a caller from outside uses, each in one ComputeSession (runtime/compute_session.h).
  // runForwards: independent forwards (a bidirectional layer's directions), no layer twice.
  static void runForwards(ForwardCall* calls, int n);
  // ws: a training forward's workspace of this layer.
  void runBackward(const BackwardIO& io, const Workspace& ws) const;

  // Forward products: op(B) = Wᵀ, packed by the first call that computes (on the worker thread of
  // an async one: the constructor only copies, so creating a layer keeps the event loop short).
  struct ForwardWeights {
    PackedMatrix wIhT;  // [I, G*H]
    // [Hout, G*H], one column group per gate (GRU without LBR: r, z only), so a thread owns its
    // hidden units in every gate.
    PackedMatrix wHhT;
    PackedMatrix wHnT;  // [H, H] GRU without LBR: Rnᵀ
    PackedMatrix wHrT;  // [H, Hout]
  };
  const ForwardWeights& forwardWeights() const;
  const PackedMatrix& inputWeightsT() const { return forwardWeights().wIhT; }
  const PackedMatrix& recurrentWeightsT() const { return forwardWeights().wHhT; }
  const PackedMatrix& candidateWeightsT() const { return forwardWeights().wHnT; }
  const PackedMatrix& projectionWeightsT() const { return forwardWeights().wHrT; }
  const float* inputBias() const { return inputBias_.data(); }       // folded biases added to X·W_ihᵀ
  // [I, G*H] again, one column group per gate, for a streaming step's pieces (projectStepInput);
  // packed on first use.
  const PackedMatrix& stepInputWeightsT() const;
  // Backward products: op(B) = W, packed on first use (inference never pays for them).
  struct BackwardWeights {
    PackedMatrix wIh;  // [G*H, I]
    PackedMatrix wHh;  // [G*H, Hout] (GRU without LBR: r, z rows only)
    PackedMatrix wHn;  // [H, H] GRU without LBR: Rn
    PackedMatrix wHr;  // [Hout, H]
  };
  const BackwardWeights& backwardWeights() const;

 private:
  // Workspace sizes depend only on the spec and the sequence shape.
  // keepInput: a training forward, whose inputs and masks backward reads again.
  void allocateWorkspace(Workspace& ws, const ForwardIO& io, bool keepInput) const;
  void forward(const ForwardIO& io, Workspace& ws) const;
  void backward(const BackwardIO& io, const Workspace& ws) const;

  LayerSpec spec_;
  LayerParams params_;
  std::vector<float> inputBias_;
  mutable std::once_flag forwardOnce_;
  mutable ForwardWeights forward_;
  mutable std::once_flag backwardOnce_;
  mutable std::once_flag stepInputOnce_;
  mutable PackedMatrix stepInputT_;
  mutable BackwardWeights backward_;
  // The workspace of inference calls, safe to share because every call holds the ComputeSession.
  mutable Workspace inference_;
};

// Per-cell kernels over one direction (defined in lstm.cc, gru.cc, rnn.cc).
void lstmLayerForward(const ForwardIO& io, Workspace& ws, const Layer& layer);
void lstmLayerBackward(const BackwardIO& io, const Workspace& ws, const Layer& layer);
void gruLayerForward(const ForwardIO& io, Workspace& ws, const Layer& layer);
void gruLayerBackward(const BackwardIO& io, const Workspace& ws, const Layer& layer);
void rnnLayerForward(const ForwardIO& io, Workspace& ws, const Layer& layer);
void rnnLayerBackward(const BackwardIO& io, const Workspace& ws, const Layer& layer);

}  // namespace cellscan
