// Constructor options of the recurrent layers: defaults, validation, and the normalized config.
import { gateCount, outputSize } from '../backend/layer-shape';
import type { CellKind } from '../backend/types';
import { checkBoolean, checkPositiveInteger, rangeError, typeError } from '../errors';
import { MAX_FEATURES, MAX_LAYERS, checkAtMost, checkParameterSize } from '../limits';
import { checkConstructorOptions, checkSeed } from './arguments';

export interface RecurrentOptions {
  inputSize: number;
  hiddenSize: number;
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Default true. */
  bias?: boolean;
  /** false: input [T, B, I]; true: [B, T, I] (default false). */
  batchFirst?: boolean;
  /** Default false. */
  bidirectional?: boolean;
  /** Dropout on the outputs of every layer but the last, in training only (default 0). */
  dropout?: number;
  /** Seeds weight init and dropout masks (default: fixed, so runs repeat). */
  seed?: number;
  // The seed's variants (SPEC §3a).
  /** Layers 1..numLayers−1 add their input to their output (default false). */
  residual?: boolean;
  /** Zoneout probability of h and c; a number sets both (c: LSTM only). Default 0. */
  zoneout?: number | { hidden?: number; cell?: number };
  /** Variational dropout on the state entering the recurrent product, one mask per call (default 0). */
  recurrentDropout?: number;
  /** DropConnect on every weight_hh, one mask per call (default 0). */
  weightDropout?: number;
}

export interface LSTMOptions extends RecurrentOptions {
  /** Projects h to this size (PyTorch proj_size); 0 = none (default). */
  projSize?: number;
  /** Peephole connections, ONNX's definition (default false). */
  peepholes?: boolean;
}

export interface GRUOptions extends RecurrentOptions {
  /** true: r multiplies (Rn h + rn), as PyTorch (default); false: Rn (r ⊙ h), as ONNX's default. */
  linearBeforeReset?: boolean;
}

export interface RNNOptions extends RecurrentOptions {
  nonlinearity?: 'tanh' | 'relu';
}

/** Everything a recurrent layer needs to know about itself, validated and defaulted. */
export interface RecurrentConfig {
  cell: CellKind;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bias: boolean;
  batchFirst: boolean;
  bidirectional: boolean;
  dropout: number;
  seed: number;
  residual: boolean;
  zoneout: { hidden: number; cell: number };
  recurrentDropout: number;
  weightDropout: number;
  projSize: number;
  peepholes: boolean;
  linearBeforeReset: boolean;
}

export const DEFAULT_SEED = 0x5eed;

const commonKeys = [
  'inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'dropout', 'seed',
  'residual', 'zoneout', 'recurrentDropout', 'weightDropout',
];
const extraKeys: Record<'LSTM' | 'GRU' | 'RNN', string[]> = {
  LSTM: ['projSize', 'peepholes'],
  GRU: ['linearBeforeReset'],
  RNN: ['nonlinearity'],
};

function optional<T>(o: Record<string, unknown>, key: string, fallback: T, check: (v: unknown) => T): T {
  return o[key] === undefined ? fallback : check(o[key]);
}

/** A probability in [0, 1] (1 included: zoneout 1 freezes the state, dropout 1 drops everything). */
function probability(where: string, arg: string, v: unknown): number {
  if (typeof v !== 'number') throw typeError(where, arg, 'a number in [0, 1]', v);
  if (!(v >= 0 && v <= 1)) throw rangeError(where, arg, 'a number in [0, 1]', v);
  return v;
}

function readZoneout(where: string, v: unknown, hasCell: boolean): { hidden: number; cell: number } {
  if (typeof v === 'number') {
    const p = probability(where, 'zoneout', v);
    return { hidden: p, cell: hasCell ? p : 0 };
  }
  // (A typed array or DataView has no keys of its own to refuse: it would pass as zoneout 0.)
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) {
    throw typeError(where, 'zoneout', `a number in [0, 1] or an object { hidden${hasCell ? ', cell' : ''} }`, v);
  }
  const keys = hasCell ? ['hidden', 'cell'] : ['hidden'];
  for (const key of Object.keys(v)) {
    if (!keys.includes(key)) {
      const why = key === 'cell' ? ' (only LSTM has a cell state)' : '';
      throw new TypeError(`${where}: unknown zoneout key ${JSON.stringify(key)}${why}; expected ${keys.join(' or ')}`);
    }
  }
  const o = v as { hidden?: unknown; cell?: unknown };
  return {
    hidden: o.hidden === undefined ? 0 : probability(where, 'zoneout.hidden', o.hidden),
    cell: o.cell === undefined ? 0 : probability(where, 'zoneout.cell', o.cell),
  };
}

let dropoutWarned = false;

/**
 * As PyTorch warns: dropout acts between stacked layers, so with one layer it does nothing. Once per
 * process, as Python shows a warning once per place.
 */
function warnDropoutUnused(where: string, dropout: number): void {
  if (dropoutWarned) return;
  dropoutWarned = true;
  process.emitWarning(
    `${where}: dropout = ${dropout} has no effect with numLayers = 1: it is applied to the outputs of every layer but the last`,
    { type: 'CellscanWarning', code: 'CELLSCAN_DROPOUT_ONE_LAYER' },
  );
}

/** `where` names the class in messages (a cell reads its options through its layer's checks). */
export function readRecurrentOptions(kind: 'LSTM' | 'GRU' | 'RNN', options: unknown, where: string = kind): RecurrentConfig {
  const o = checkConstructorOptions(where, options, 'inputSize and hiddenSize', [...commonKeys, ...extraKeys[kind]]);
  const inputSize = checkAtMost(where, 'inputSize', checkPositiveInteger(where, 'inputSize', o.inputSize), MAX_FEATURES);
  const hiddenSize = checkAtMost(where, 'hiddenSize', checkPositiveInteger(where, 'hiddenSize', o.hiddenSize), MAX_FEATURES);
  const numLayers = optional(o, 'numLayers', 1, (v) => checkAtMost(where, 'numLayers', checkPositiveInteger(where, 'numLayers', v), MAX_LAYERS));
  const bias = optional(o, 'bias', true, (v) => checkBoolean(where, 'bias', v));
  const batchFirst = optional(o, 'batchFirst', false, (v) => checkBoolean(where, 'batchFirst', v));
  const bidirectional = optional(o, 'bidirectional', false, (v) => checkBoolean(where, 'bidirectional', v));
  const dropout = optional(o, 'dropout', 0, (v) => {
    if (typeof v !== 'number') throw typeError(where, 'dropout', 'a number in [0, 1)', v);
    if (!(v >= 0 && v < 1)) throw rangeError(where, 'dropout', 'a number in [0, 1)', v);
    return v;
  });
  if (dropout > 0 && numLayers === 1) warnDropoutUnused(where, dropout);
  const seed = optional(o, 'seed', DEFAULT_SEED, (v) => checkSeed(where, v));

  const residual = optional(o, 'residual', false, (v) => checkBoolean(where, 'residual', v));
  const zoneout = optional(o, 'zoneout', { hidden: 0, cell: 0 }, (v) => readZoneout(where, v, kind === 'LSTM'));
  const recurrentDropout = optional(o, 'recurrentDropout', 0, (v) => probability(where, 'recurrentDropout', v));
  const weightDropout = optional(o, 'weightDropout', 0, (v) => probability(where, 'weightDropout', v));

  let cell: CellKind = kind === 'LSTM' ? 'lstm' : kind === 'GRU' ? 'gru' : 'rnn_tanh';
  let projSize = 0;
  let peepholes = false;
  let linearBeforeReset = true;
  if (kind === 'LSTM') {
    projSize = optional(o, 'projSize', 0, (v) => {
      // 0 (no projection) is valid too, so every refusal states the whole range.
      const expected = `an integer in 0..${hiddenSize - 1} (0: none; below hiddenSize = ${hiddenSize})`;
      if (typeof v !== 'number') throw typeError(where, 'projSize', expected, v);
      if (!Number.isInteger(v) || v < 0 || v >= hiddenSize) throw rangeError(where, 'projSize', expected, v);
      return v;
    });
    peepholes = optional(o, 'peepholes', false, (v) => checkBoolean(where, 'peepholes', v));
  } else if (kind === 'GRU') {
    linearBeforeReset = optional(o, 'linearBeforeReset', true, (v) => checkBoolean(where, 'linearBeforeReset', v));
  } else {
    const nl = optional(o, 'nonlinearity', 'tanh', (v) => {
      if (v !== 'tanh' && v !== 'relu') {
        const err = typeof v === 'string' ? rangeError : typeError;
        throw err(where, 'nonlinearity', '"tanh" or "relu"', v);
      }
      return v;
    });
    cell = nl === 'relu' ? 'rnn_relu' : 'rnn_tanh';
  }
  const gh = gateCount(cell) * hiddenSize;
  const hout = outputSize({ hiddenSize, projSize });
  checkParameterSize(where, 'inputSize and hiddenSize', 'weight_ih_l0', [gh, inputSize]);
  checkParameterSize(where, 'hiddenSize', 'weight_hh_l0', [gh, hout]);
  if (numLayers > 1) checkParameterSize(where, 'hiddenSize', 'weight_ih_l1', [gh, (bidirectional ? 2 : 1) * hout]);
  return {
    cell,
    inputSize,
    hiddenSize,
    numLayers,
    bias,
    batchFirst,
    bidirectional,
    dropout,
    seed,
    residual,
    zoneout,
    recurrentDropout,
    weightDropout,
    projSize,
    peepholes,
    linearBeforeReset,
  };
}

// ---------------------------------------------------------------------------------------------
// Single-step cells (PyTorch's LSTMCell, GRUCell, RNNCell)

export interface CellOptions {
  inputSize: number;
  hiddenSize: number;
  /** Default true. */
  bias?: boolean;
  /** Seeds the weight init (default: fixed, so runs repeat). */
  seed?: number;
}

export interface GRUCellOptions extends CellOptions {
  /** true: r multiplies (Rn h + rn), as PyTorch (default); false: Rn (r ⊙ h), as ONNX's default. */
  linearBeforeReset?: boolean;
}

export interface RNNCellOptions extends CellOptions {
  nonlinearity?: 'tanh' | 'relu';
}

export interface CellConfig {
  cell: CellKind;
  inputSize: number;
  hiddenSize: number;
  bias: boolean;
  seed: number;
  linearBeforeReset: boolean;
}

export type CellClass = 'LSTMCell' | 'GRUCell' | 'RNNCell';

export function readCellOptions(kind: CellClass, options: unknown): CellConfig {
  const where = kind;
  const extra = kind === 'GRUCell' ? ['linearBeforeReset'] : kind === 'RNNCell' ? ['nonlinearity'] : [];
  const o = checkConstructorOptions(where, options, 'inputSize and hiddenSize', ['inputSize', 'hiddenSize', 'bias', 'seed', ...extra]);
  // The layer's checks, for the options the two share.
  const c = readRecurrentOptions(kind === 'LSTMCell' ? 'LSTM' : kind === 'GRUCell' ? 'GRU' : 'RNN', o, where);
  return {
    cell: c.cell,
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    bias: c.bias,
    seed: c.seed,
    linearBeforeReset: c.linearBeforeReset,
  };
}
