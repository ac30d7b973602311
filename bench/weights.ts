// The parameters of a one-layer recurrent net read out of a cellscan layer (PyTorch's names and
// layout), and the rearrangements the peers need: ONNX's and Keras's gate orders, transposes.
// Plain data in, plain data out, so the ONNX and TF.js builders never load cellscan themselves.
import type { Mode } from './shapes';

/** What a Tensor looks like from here: only its data and shape are read. */
export interface TensorLike {
  readonly data: Float32Array | Int32Array;
  readonly shape: readonly number[];
}

/** One direction, PyTorch layout and gate order: wIh [G*H, I], wHh [G*H, H], biases [G*H]. */
export interface DirectionWeights {
  wIh: Float32Array;
  wHh: Float32Array;
  bIh: Float32Array;
  bHh: Float32Array;
}

export interface RecurrentWeights {
  mode: Mode;
  inputSize: number;
  hiddenSize: number;
  /** [forward] or [forward, reverse]. */
  directions: DirectionWeights[];
  /** GRU only: PyTorch's n = tanh(Wn x + bn + r⊙(Rn h + rn)) when true, Cho et al.'s when false. */
  linearBeforeReset: boolean;
  /** RNN only. */
  nonlinearity: 'tanh' | 'relu';
}

export interface WeightsOptions {
  mode: Mode;
  inputSize: number;
  hiddenSize: number;
  bidirectional: boolean;
  linearBeforeReset?: boolean;
  nonlinearity?: 'tanh' | 'relu';
}

export function gatesOf(mode: Mode): number {
  return mode === 'LSTM' ? 4 : mode === 'GRU' ? 3 : 1;
}

function take(params: ReadonlyMap<string, TensorLike>, name: string, shape: number[]): Float32Array {
  const t = params.get(name);
  if (!t) throw new Error(`parameter ${name} is missing (have: ${[...params.keys()].join(', ')})`);
  if (!(t.data instanceof Float32Array)) throw new TypeError(`parameter ${name} must be float32`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new RangeError(`parameter ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  return t.data;
}

/**
 * Reads the weights of a one-layer LSTM/GRU/RNN with biases from its `parameters()`. A layer with
 * more layers, a projection or peepholes has no one-node ONNX or one-layer Keras equivalent here.
 */
export function weightsOf(params: ReadonlyMap<string, TensorLike>, o: WeightsOptions): RecurrentWeights {
  const extra = [...params.keys()].filter((k) => /_l[1-9]|weight_hr|weight_peephole/.test(k));
  if (extra.length > 0) throw new RangeError(`only one-layer nets without projection or peepholes are supported; got ${extra.join(', ')}`);
  const G = gatesOf(o.mode);
  const { inputSize: I, hiddenSize: H } = o;
  const suffixes = o.bidirectional ? ['', '_reverse'] : [''];
  return {
    mode: o.mode,
    inputSize: I,
    hiddenSize: H,
    linearBeforeReset: o.linearBeforeReset ?? true,
    nonlinearity: o.nonlinearity ?? 'tanh',
    directions: suffixes.map((s) => ({
      wIh: take(params, `weight_ih_l0${s}`, [G * H, I]),
      wHh: take(params, `weight_hh_l0${s}`, [G * H, H]),
      bIh: take(params, `bias_ih_l0${s}`, [G * H]),
      bHh: take(params, `bias_hh_l0${s}`, [G * H]),
    })),
  };
}

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

/** [rows, cols] row-major to [cols, rows]. */
export function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  }
  return out;
}

/** [A, B, F] to [B, A, F]: time-major to batch-major and back. */
export function swapLeading(x: Float32Array, A: number, B: number, F: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) out.set(x.subarray((a * B + b) * F, (a * B + b + 1) * F), (b * A + a) * F);
  }
  return out;
}

// PyTorch's gate order is LSTM (i, f, g, o), GRU (r, z, n). Each order below lists, for each gate
// of the target, its index in PyTorch's order.

/** ONNX: LSTM (i, o, f, c), GRU (z, r, h). */
export function onnxGateOrder(mode: Mode): number[] {
  return mode === 'LSTM' ? [0, 3, 1, 2] : mode === 'GRU' ? [1, 0, 2] : [0];
}

/** Keras / TF.js: LSTM (i, f, c, o), GRU (z, r, h). */
export function kerasGateOrder(mode: Mode): number[] {
  return mode === 'LSTM' ? [0, 1, 2, 3] : mode === 'GRU' ? [1, 0, 2] : [0];
}

export interface Mismatch {
  count: number;
  worstIndex: number;
  worstA: number;
  worstB: number;
  maxAbs: number;
}

/**
 * Element-wise |a − b| ≤ atol + rtol·|b| (b the reference). Returns undefined when every element
 * passes, else how many failed and the worst one (by excess over its tolerance).
 */
export function compareClose(a: ArrayLike<number>, b: ArrayLike<number>, atol = 1e-4, rtol = 1e-3): Mismatch | undefined {
  if (a.length !== b.length) throw new RangeError(`cannot compare ${a.length} values with ${b.length}`);
  let count = 0;
  let worstIndex = -1;
  let worstExcess = -Infinity;
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    // A NaN on either side is a failure worse than any finite one.
    const excess = Number.isNaN(d) ? Infinity : d - (atol + rtol * Math.abs(b[i]));
    if (d > maxAbs) maxAbs = d;
    if (excess > 0) {
      count++;
      if (excess > worstExcess) {
        worstExcess = excess;
        worstIndex = i;
      }
    }
  }
  if (count === 0) return undefined;
  return { count, worstIndex, worstA: a[worstIndex], worstB: b[worstIndex], maxAbs };
}

export function describeMismatch(what: string, m: Mismatch, total: number): string {
  return (
    `${what}: ${m.count} of ${total} values outside |a−b| ≤ 1e-4 + 1e-3·|b| ` +
    `(worst at index ${m.worstIndex}: ${m.worstA} vs cellscan ${m.worstB}; max |a−b| ${m.maxAbs})`
  );
}
