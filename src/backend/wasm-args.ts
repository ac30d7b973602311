// Argument checks at the WebAssembly boundary. A BackendLayer is reachable on its own (backends
// are exported), and the kernels trust every size they are given, so every buffer is checked here
// against the spec, T and B before anything is copied into linear memory. The checks and messages
// mirror the addon's (native/js/args.cc): "<where>: <arg> must be <expected>, got <given>".
import { rangeError, typeError } from '../errors';
import { hasCellState, outputSize, paramFields, paramShapes } from './layer-shape';
import type { CellKind, LayerParams, LayerSpec } from './types';

/** Sizes above this would overflow the int-indexed products in the kernels (as in the addon). */
export const MAX_SIZE = 2 ** 24;
export const MAX_ROWS = 2 ** 31 - 1;

type Bag = Record<string, unknown>;
const cells: CellKind[] = ['lstm', 'gru', 'rnn_tanh', 'rnn_relu'];

// The typed-array kind from the engine's own slot, so arrays from another realm (a vm context, a
// worker's structured clone) are recognised as the addon recognises them.
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), Symbol.toStringTag)!.get!;

function isTypedArray<T>(v: unknown, kind: 'Float32Array' | 'Int32Array' | 'Uint8Array'): v is T {
  return ArrayBuffer.isView(v) && typedArrayTag.call(v) === kind;
}

export function isAbsent(v: unknown): boolean {
  return v === undefined || v === null;
}

/**
 * `o`'s values for `keys`, each property read once and all of them before any is checked: a getter
 * runs JavaScript, which could detach or shrink an array already checked (it would then be copied
 * in short, silently) if reads and checks took turns. The addon reads its arguments the same way.
 */
export function snapshot(o: Bag, keys: readonly string[]): Bag {
  const values: Bag = {};
  for (const key of keys) values[key] = o[key];
  return values;
}

const forwardKeys = [
  'T', 'B', 'x', 'h0', 'c0', 'lengths', 'y', 'yStride', 'hN', 'cN', 'training',
  'recurrentMask', 'zoneoutHidden', 'zoneoutHiddenMask', 'zoneoutCell', 'zoneoutCellMask',
] as const;
const backwardKeys = ['dYStride', 'dY', 'dhN', 'dcN', 'dX', 'dh0', 'dc0', 'grads'] as const;

function isGradsObject(g: unknown): g is Bag {
  return g !== null && typeof g === 'object' && !Array.isArray(g) && !ArrayBuffer.isView(g);
}

export function requireObject(where: string, arg: string, v: unknown): Bag {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) {
    throw typeError(where, arg, 'an object', v);
  }
  return v as Bag;
}

export function integer(where: string, o: Bag, key: string, min: number, max: number, fallback?: number): number {
  const v = o[key];
  if (fallback !== undefined && isAbsent(v)) return fallback;
  const range = `an integer in ${min}..${max}`;
  if (typeof v !== 'number') throw typeError(where, key, range, v);
  if (!Number.isInteger(v) || v < min || v > max) throw rangeError(where, key, range, v);
  return v;
}

export function boolean(where: string, o: Bag, key: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw typeError(where, key, 'a boolean', v);
  return v;
}

interface Float32Options {
  optional?: boolean;
  /** y and dY: strided rows may leave room past the last one. */
  atLeast?: boolean;
}

export function float32(where: string, o: Bag, key: string, length: number, opts: Float32Options = {}): Float32Array | undefined {
  const v = o[key];
  if (opts.optional && isAbsent(v)) return undefined;
  const expected = `a Float32Array of ${opts.atLeast ? 'at least ' : ''}${length} elements`;
  if (!isTypedArray<Float32Array>(v, 'Float32Array')) throw typeError(where, key, opts.optional ? `${expected} or undefined` : expected, v);
  if (opts.atLeast ? v.length < length : v.length !== length) throw rangeError(where, key, expected, v);
  return v;
}

/** A number in [min, max] (NaN refused), or the fallback when absent. */
export function numberIn(where: string, o: Bag, key: string, min: number, max: number, fallback: number): number {
  const v = o[key];
  if (isAbsent(v)) return fallback;
  const range = `a number in [${min}, ${max}]`;
  if (typeof v !== 'number') throw typeError(where, key, range, v);
  if (!(v >= min && v <= max)) throw rangeError(where, key, range, v);
  return v;
}

/** A zoneout mask: a Uint8Array of `length` elements (0 or 1: used as given, any byte is memory-safe), or absent. */
function mask(where: string, o: Bag, key: string, length: number): Uint8Array | undefined {
  const v = o[key];
  if (isAbsent(v)) return undefined;
  const expected = `a Uint8Array of ${length} elements (0 or 1 each)`;
  if (!isTypedArray<Uint8Array>(v, 'Uint8Array')) throw typeError(where, key, `${expected} or undefined`, v);
  if (v.length !== length) throw rangeError(where, key, expected, v);
  return v;
}

function requireAbsent(where: string, o: Bag, key: string, because: string): void {
  if (!isAbsent(o[key])) throw typeError(where, key, `undefined (${because})`, o[key]);
}

/** Why a layer of some spec must not be given a parameter field it lacks. */
const lackedBecause: Record<keyof LayerParams, string> = {
  wIh: '', wHh: '',
  bIh: 'the layer has no bias', bHh: 'the layer has no bias',
  wHr: 'the layer has no projection',
  wPeep: 'the layer has no peepholes',
};

/** An LSTM's cell-state pair, one read (optional) and one written, `length` floats each; other cells take neither. */
function cellStates(where: string, o: Bag, spec: LayerSpec, read: string, written: string, length: number): [Float32Array | undefined, Float32Array | undefined] {
  if (hasCellState(spec.cell)) return [float32(where, o, read, length, { optional: true }), float32(where, o, written, length)];
  requireAbsent(where, o, read, 'only LSTM has a cell state');
  requireAbsent(where, o, written, 'only LSTM has a cell state');
  return [undefined, undefined];
}

export function readSpec(where: string, v: unknown): LayerSpec {
  const o = requireObject(where, 'spec', v);
  const cell = o.cell;
  if (typeof cell !== 'string') throw typeError(where, 'cell', 'a string', cell);
  if (!(cells as string[]).includes(cell)) {
    throw rangeError(where, 'cell', `one of ${cells.map((c) => `"${c}"`).join(', ')}`, cell);
  }
  const inputSize = integer(where, o, 'inputSize', 1, MAX_SIZE);
  const hiddenSize = integer(where, o, 'hiddenSize', 1, MAX_SIZE);
  const bias = boolean(where, o, 'bias', true);
  const reverse = boolean(where, o, 'reverse', false);
  // Options of other cells may be present at their neutral values, so one spec shape serves all cells.
  const lstm = cell === 'lstm';
  const projSize = integer(where, o, 'projSize', 0, lstm ? hiddenSize - 1 : 0, 0);
  const peepholes = boolean(where, o, 'peepholes', false);
  if (peepholes && !lstm) throw rangeError(where, 'peepholes', 'false (only LSTM has peepholes)', true);
  const linearBeforeReset = boolean(where, o, 'linearBeforeReset', true);
  return { cell: cell as CellKind, inputSize, hiddenSize, projSize, bias, peepholes, linearBeforeReset, reverse };
}

/** Exactly the arrays this layer has, each of its exact size; the others must be absent. */
export function readParams(where: string, v: unknown, spec: LayerSpec, arg = 'weights'): LayerParams {
  const o = snapshot(requireObject(where, arg, v), paramFields);
  const lengths = new Map(paramShapes(spec).map(([field, shape]) => [field, shape.reduce((n, d) => n * d, 1)]));
  const p: Partial<LayerParams> = {};
  for (const field of paramFields) {
    const length = lengths.get(field);
    if (length === undefined) requireAbsent(where, o, field, lackedBecause[field]);
    else p[field] = float32(where, o, field, length);
  }
  return p as LayerParams;
}

export interface CheckedForward {
  T: number;
  B: number;
  x: Float32Array;
  h0?: Float32Array;
  c0?: Float32Array;
  lengths?: Int32Array;
  y: Float32Array;
  yStride: number;
  hN: Float32Array;
  cN?: Float32Array;
  training: boolean;
  recurrentMask?: Float32Array;
  zoneoutHidden: number;
  zoneoutHiddenMask?: Uint8Array;
  zoneoutCell: number;
  zoneoutCellMask?: Uint8Array;
}

export function readForwardArgs(where: string, v: unknown, spec: LayerSpec): CheckedForward {
  const o = snapshot(requireObject(where, 'arguments', v), forwardKeys);
  const T = integer(where, o, 'T', 1, MAX_ROWS);
  const B = integer(where, o, 'B', 1, MAX_ROWS);
  const rows = T * B;
  if (rows > MAX_ROWS) throw rangeError(where, 'T * B', `at most ${MAX_ROWS}`, rows);
  const hout = outputSize(spec);
  const H = spec.hiddenSize;
  const a: CheckedForward = {
    T,
    B,
    x: float32(where, o, 'x', rows * spec.inputSize)!,
    h0: float32(where, o, 'h0', B * hout, { optional: true }),
    hN: float32(where, o, 'hN', B * hout)!,
    y: new Float32Array(0),
    yStride: hout,
    training: false,
    zoneoutHidden: 0,
    zoneoutCell: 0,
  };
  [a.c0, a.cN] = cellStates(where, o, spec, 'c0', 'cN', B * H);
  const lengths = o.lengths;
  if (!isAbsent(lengths)) {
    const expected = `an Int32Array of ${B} elements`;
    if (!isTypedArray<Int32Array>(lengths, 'Int32Array')) throw typeError(where, 'lengths', `${expected} or undefined`, lengths);
    if (lengths.length !== B) throw rangeError(where, 'lengths', expected, lengths);
    for (let b = 0; b < B; b++) {
      if (lengths[b] < 0 || lengths[b] > T) throw rangeError(where, `lengths[${b}]`, `an integer in 0..${T}`, lengths[b]);
    }
    a.lengths = lengths;
  }
  a.yStride = integer(where, o, 'yStride', hout, MAX_ROWS, hout);
  a.y = float32(where, o, 'y', (rows - 1) * a.yStride + hout, { atLeast: true })!;
  a.training = boolean(where, o, 'training', false);
  // The variants: masks drawn by the caller, zoneout's probabilities for evaluation.
  a.recurrentMask = float32(where, o, 'recurrentMask', B * hout, { optional: true });
  a.zoneoutHidden = numberIn(where, o, 'zoneoutHidden', 0, 1, 0);
  a.zoneoutHiddenMask = mask(where, o, 'zoneoutHiddenMask', rows * hout);
  if (hasCellState(spec.cell)) {
    a.zoneoutCell = numberIn(where, o, 'zoneoutCell', 0, 1, 0);
    a.zoneoutCellMask = mask(where, o, 'zoneoutCellMask', rows * H);
  } else {
    requireAbsent(where, o, 'zoneoutCell', 'only LSTM has a cell state');
    requireAbsent(where, o, 'zoneoutCellMask', 'only LSTM has a cell state');
  }
  return a;
}

export interface CheckedBackward {
  dY?: Float32Array;
  dYStride: number;
  dhN?: Float32Array;
  dcN?: Float32Array;
  dX: Float32Array;
  dh0: Float32Array;
  dc0?: Float32Array;
  grads: LayerParams;
}

/** Everything but the workspace, which the caller has already resolved to its T and B. */
export function readBackwardArgs(where: string, args: Bag, spec: LayerSpec, T: number, B: number): CheckedBackward {
  const o = snapshot(args, backwardKeys);
  if (isGradsObject(o.grads)) o.grads = snapshot(o.grads, paramFields);
  const rows = T * B;
  const hout = outputSize(spec);
  const H = spec.hiddenSize;
  const dYStride = integer(where, o, 'dYStride', hout, MAX_ROWS, hout);
  const a: CheckedBackward = {
    dYStride,
    dY: float32(where, o, 'dY', (rows - 1) * dYStride + hout, { optional: true, atLeast: true }),
    dhN: float32(where, o, 'dhN', B * hout, { optional: true }),
    dX: float32(where, o, 'dX', rows * spec.inputSize)!,
    dh0: float32(where, o, 'dh0', B * hout)!,
    grads: { wIh: new Float32Array(0), wHh: new Float32Array(0) },
  };
  [a.dcN, a.dc0] = cellStates(where, o, spec, 'dcN', 'dc0', B * H);
  const g = o.grads;
  if (!isGradsObject(g)) {
    throw typeError(where, 'grads', 'an object of Float32Arrays (wIh, wHh, ...)', g);
  }
  a.grads = readParams(`${where} grads`, g, spec, 'grads');
  return a;
}
