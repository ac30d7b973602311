// PyTorch's (and so cellscan's) gate blocks against ONNX's: the same gates in another order.
// LSTM (i, f, g, o) -> (i, o, f, c); GRU (r, z, n) -> (z, r, h); RNN has one block.
import type { CellKind } from '../backend/types';

export type RecurrentKind = 'LSTM' | 'GRU' | 'RNN';

/** The cell an ONNX kind names, to ask backend/layer-shape (the one place gate counts live) about it. */
export function cellOf(kind: RecurrentKind, nonlinearity: 'tanh' | 'relu' = 'tanh'): CellKind {
  return kind === 'LSTM' ? 'lstm' : kind === 'GRU' ? 'gru' : `rnn_${nonlinearity}`;
}

/** For each gate block of ONNX's order, its index in PyTorch's. */
export function onnxGateOrder(kind: RecurrentKind): readonly number[] {
  return kind === 'LSTM' ? [0, 3, 1, 2] : kind === 'GRU' ? [1, 0, 2] : [0];
}

/** cellscan's weight_peephole rows are (i, f, o); ONNX's P is (i, o, f). */
export const ONNX_PEEPHOLE_ORDER: readonly number[] = [0, 2, 1];

/**
 * Reorders the gate blocks of a [G*H, cols] matrix (or a [G*H] vector with cols = 1):
 * block j of the result is block order[j] of m.
 */
export function reorderGates(m: Float32Array, H: number, cols: number, order: readonly number[]): Float32Array {
  const block = H * cols;
  const out = new Float32Array(order.length * block);
  order.forEach((from, to) => out.set(m.subarray(from * block, (from + 1) * block), to * block));
  return out;
}
