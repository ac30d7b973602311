#pragma once
// Steps every cell shares: the input projection before the time loop, moving states in and out of
// the workspace slots, and the products deferred until after the backward time loop.
#include "layer.h"

namespace cellscan {

// gates[T*B, G*H] = x[T*B, I] · W_ihᵀ + folded biases.
void projectInputs(float* gates, const float* x, long rows, const Layer& layer);

// dst[n] = src ? src : 0.
void copyOrZero(float* dst, const float* src, long n);

// out[cols] = Σ_rows src[r, c] (rows ld apart), summed in row order so results never depend on threads.
void columnSums(float* out, const float* src, long rows, int cols, long ld);

// After the backward time loop, from dG[T*B, G*H] (the gradient of the pre-activations fed by x):
// dW_ih = dGᵀ · x, db_ih = Σ dG, dX = dG · W_ih.
void inputGradients(const BackwardIO& io, const Workspace& ws, const float* dG, const Layer& layer);

// dst[B, n] = active rows ? src : carry, for the rows of one time step.
void copyActiveRows(float* dst, const float* src, const float* carry, const SequenceIndex& seq, int t, int n);

}  // namespace cellscan

namespace cellscan {

// y rows of step t: the new state for active rows, 0 for padded ones (PyTorch's packed semantics).
void writeOutputRows(const ForwardIO& io, const SequenceIndex& seq, int t, const float* hNew, int hout);

// Workspace rows of step t and slot s, for tensors laid out [T or T+1, B, n].
inline float* rowsAt(float* base, int index, int B, int n) { return base + static_cast<long>(index) * B * n; }
inline const float* rowsAt(const float* base, int index, int B, int n) {
  return base + static_cast<long>(index) * B * n;
}

}  // namespace cellscan
