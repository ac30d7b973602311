// The seed's variant arguments of a backend forward (ForwardArgs: recurrentMask, zoneoutHidden,
// zoneoutHiddenMask, zoneoutCell, zoneoutCellMask), wrong in every way the boundaries must refuse,
// for the tiny LSTM / GRU of test/helpers/tiny-lstm.ts (T = 5, B = 2, H = 4: masks of 8 and 40).
// Both boundaries (the addon and the WASM layer) must give these exact messages after `where`.
import { tinyLstmForwardArgs, tinyLstmWeights } from './tiny-lstm';

export interface ArgumentCase {
  name: string;
  /** Replaces forward arguments of the tiny layer. */
  over: Record<string, unknown>;
  /** Error class name (the addon's errors come from another realm than jest's). */
  error: 'TypeError' | 'RangeError';
  /** The message after "<where>: ". */
  message: string;
}

const maskOf40 = 'a Uint8Array of 40 elements (0 or 1 each)';

export const lstmVariantArgumentCases: ArgumentCase[] = [
  { name: 'recurrentMask Float64Array', over: { recurrentMask: new Float64Array(8) }, error: 'TypeError', message: 'recurrentMask must be a Float32Array of 8 elements or undefined, got Float64Array(8)' },
  { name: 'recurrentMask short', over: { recurrentMask: new Float32Array(7) }, error: 'RangeError', message: 'recurrentMask must be a Float32Array of 8 elements, got Float32Array(7)' },
  { name: 'recurrentMask long', over: { recurrentMask: new Float32Array(9) }, error: 'RangeError', message: 'recurrentMask must be a Float32Array of 8 elements, got Float32Array(9)' },
  { name: 'zoneoutHidden above 1', over: { zoneoutHidden: 1.5 }, error: 'RangeError', message: 'zoneoutHidden must be a number in [0, 1], got 1.5' },
  { name: 'zoneoutHidden negative', over: { zoneoutHidden: -0.1 }, error: 'RangeError', message: 'zoneoutHidden must be a number in [0, 1], got -0.1' },
  { name: 'zoneoutHidden a string', over: { zoneoutHidden: '0.5' }, error: 'TypeError', message: 'zoneoutHidden must be a number in [0, 1], got "0.5"' },
  { name: 'zoneoutHidden a boolean', over: { zoneoutHidden: true }, error: 'TypeError', message: 'zoneoutHidden must be a number in [0, 1], got true' },
  { name: 'zoneoutCell above 1', over: { zoneoutCell: 2 }, error: 'RangeError', message: 'zoneoutCell must be a number in [0, 1], got 2' },
  { name: 'zoneoutCell negative', over: { zoneoutCell: -1 }, error: 'RangeError', message: 'zoneoutCell must be a number in [0, 1], got -1' },
  { name: 'zoneoutHiddenMask Float32Array', over: { zoneoutHiddenMask: new Float32Array(40) }, error: 'TypeError', message: `zoneoutHiddenMask must be ${maskOf40} or undefined, got Float32Array(40)` },
  { name: 'zoneoutHiddenMask Uint8ClampedArray', over: { zoneoutHiddenMask: new Uint8ClampedArray(40) }, error: 'TypeError', message: `zoneoutHiddenMask must be ${maskOf40} or undefined, got Uint8ClampedArray(40)` },
  { name: 'zoneoutHiddenMask short', over: { zoneoutHiddenMask: new Uint8Array(39) }, error: 'RangeError', message: `zoneoutHiddenMask must be ${maskOf40}, got Uint8Array(39)` },
  { name: 'zoneoutCellMask Int8Array', over: { zoneoutCellMask: new Int8Array(40) }, error: 'TypeError', message: `zoneoutCellMask must be ${maskOf40} or undefined, got Int8Array(40)` },
  { name: 'zoneoutCellMask long', over: { zoneoutCellMask: new Uint8Array(41) }, error: 'RangeError', message: `zoneoutCellMask must be ${maskOf40}, got Uint8Array(41)` },
];

/** On a GRU (or RNN) the cell's zoneout arguments must be absent, whatever their value. */
export const gruVariantArgumentCases: ArgumentCase[] = [
  { name: 'zoneoutCell on a GRU', over: { zoneoutCell: 0.5 }, error: 'TypeError', message: 'zoneoutCell must be undefined (only LSTM has a cell state), got 0.5' },
  { name: 'zoneoutCell 0 on a GRU', over: { zoneoutCell: 0 }, error: 'TypeError', message: 'zoneoutCell must be undefined (only LSTM has a cell state), got 0' },
  { name: 'zoneoutCellMask on a GRU', over: { zoneoutCellMask: new Uint8Array(40) }, error: 'TypeError', message: 'zoneoutCellMask must be undefined (only LSTM has a cell state), got Uint8Array(40)' },
];

/** Numbers outside [0, 1] that print differently in C++ than in JavaScript: the message must show the JS value. */
export const numberSpellingCases: ArgumentCase[] = [
  { name: 'zoneoutHidden NaN', over: { zoneoutHidden: Number.NaN }, error: 'RangeError', message: 'zoneoutHidden must be a number in [0, 1], got NaN' },
  { name: 'zoneoutCell Infinity', over: { zoneoutCell: Number.POSITIVE_INFINITY }, error: 'RangeError', message: 'zoneoutCell must be a number in [0, 1], got Infinity' },
  { name: 'zoneoutHidden just above 1', over: { zoneoutHidden: 1.0000001 }, error: 'RangeError', message: 'zoneoutHidden must be a number in [0, 1], got 1.0000001' },
];

/** GRU weights for the tiny layer's sizes (I = 3, H = 4). */
export function tinyGruWeights() {
  return { wIh: new Float32Array(36).fill(0.1), wHh: new Float32Array(48).fill(0.1), bIh: new Float32Array(12), bHh: new Float32Array(12) };
}

export function tinyRnnWeights() {
  return { wIh: new Float32Array(12).fill(0.1), wHh: new Float32Array(16).fill(0.1), bIh: new Float32Array(4), bHh: new Float32Array(4) };
}

/** What runHostileMasks calls on a backend's layer (the addon's Layer or the WASM backend's). */
export interface TinyLayerCalls {
  forward(args: never): unknown;
  forwardAsync(args: never): Promise<unknown>;
  backward(args: never): void;
  backwardAsync(args: never): Promise<void>;
}

/**
 * The tiny LSTM, GRU and ReLU RNN, each through every hostileMasks() set in a training forward and
 * a backward, sync and async: y's 8 sentinels past its 40 elements must survive and dX keep its
 * size. `create` builds the backend's layer; `prepare` readies it and returns the check of what
 * that backend also owes after the masks (the WASM heap's bytes in use).
 */
export async function runHostileMasks<L extends TinyLayerCalls>(
  create: (cell: string, weights: Record<string, Float32Array>) => L,
  hooks: { prepare?(layer: L, lstm: boolean, grads: () => Record<string, Float32Array>): () => void } = {},
): Promise<void> {
  const cells = [
    { cell: 'lstm', weights: tinyLstmWeights as () => Record<string, Float32Array> },
    { cell: 'gru', weights: tinyGruWeights },
    { cell: 'rnn_relu', weights: tinyRnnWeights },
  ];
  for (const { cell, weights: w } of cells) {
    const layer = create(cell, w());
    const lstm = cell === 'lstm';
    const done = hooks.prepare?.(layer, lstm, w);
    for (const masks of hostileMasks()) {
      const over: Record<string, unknown> = { ...masks };
      if (!lstm) {
        delete over.zoneoutCellMask;
        over.cN = undefined;
      }
      for (const run of ['sync', 'async'] as const) {
        // y has 8 sentinels past the 40 elements the call may write.
        const args = tinyLstmForwardArgs({ ...over, training: true, y: new Float32Array(48).fill(7) });
        const ws = run === 'sync' ? layer.forward(args as never) : await layer.forwardAsync(args as never);
        expect(Array.from(args.y.subarray(40))).toEqual(new Array(8).fill(7));
        const bwd = { workspace: ws, dY: new Float32Array(40).fill(0.5), dX: new Float32Array(30), dh0: new Float32Array(8), dc0: lstm ? new Float32Array(8) : undefined, grads: w() };
        if (run === 'sync') layer.backward(bwd as never);
        else await layer.backwardAsync(bwd as never);
        expect(bwd.dX).toHaveLength(30);
      }
    }
    done?.();
  }
}

/**
 * Masks no caller should send: zoneout bytes other than 0 and 1, recurrent masks of NaN, ±Infinity
 * and huge values, views at an offset into larger buffers. They may give any numbers, never a crash.
 */
export function hostileMasks(): Record<string, unknown>[] {
  const bytes = (n: number, f: (i: number) => number) => Uint8Array.from({ length: n }, (_, i) => f(i));
  const floats = (values: number[]) => Float32Array.from({ length: 8 }, (_, i) => values[i % values.length]);
  const offsetBytes = new Uint8Array(40 + 16).fill(255).subarray(8, 48);
  return [
    { zoneoutHiddenMask: bytes(40, () => 255), zoneoutCellMask: bytes(40, () => 255) },
    { zoneoutHiddenMask: bytes(40, (i) => (i * 37) & 255), zoneoutCellMask: bytes(40, (i) => (i * 91) & 255), recurrentMask: floats([Number.NaN, 1]) },
    { recurrentMask: floats([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 3e38, -0]) },
    { zoneoutHiddenMask: offsetBytes, zoneoutCellMask: bytes(40, (i) => i % 3), recurrentMask: floats([1e30, -1e30]) },
  ];
}
