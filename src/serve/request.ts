// One request's checks, made at run() time so a bad request rejects alone and never reaches a batch.
import { rangeError, typeError } from '../errors';
import { checkOptionKeys } from '../layers/arguments';
import { GRU } from '../layers/gru';
import { LSTM } from '../layers/lstm';
import type { RecurrentLayer } from '../layers/recurrent';
import { Tensor } from '../tensor';

export interface BatcherRunOptions {
  /** [numLayers * D, Hout]; absent: zeros. */
  h0?: Tensor;
  /** [numLayers * D, hiddenSize] (LSTM only); absent: zeros. */
  c0?: Tensor;
  /** Aborting rejects the request with the signal's reason, wherever it is (queued or in its batch). */
  signal?: AbortSignal;
}

export interface BatcherResult {
  /** [T, D * Hout] */
  output: Tensor;
  /** [numLayers * D, Hout] */
  hN: Tensor;
  /** [numLayers * D, hiddenSize] (LSTM only) */
  cN?: Tensor;
}

/** What the Batcher needs to know of its layer, read once. */
export interface LayerShape {
  kind: 'LSTM' | 'GRU' | 'RNN';
  inputSize: number;
  hiddenSize: number;
  /** Hout: projSize or hiddenSize. */
  outputSize: number;
  /** numLayers * D: rows of h0/hN. */
  states: number;
  /** D * Hout: features of an output step. */
  width: number;
  batchFirst: boolean;
  hasCellState: boolean;
}

/** One sequence, as the caller gave it; its data is read when its batch is built. */
export interface Sequence {
  T: number;
  x: Float32Array; // [T, inputSize]
  h0?: Float32Array;
  c0?: Float32Array;
}

export function layerShape(layer: RecurrentLayer): LayerShape {
  const kind = layer instanceof LSTM ? 'LSTM' : layer instanceof GRU ? 'GRU' : 'RNN';
  return {
    kind,
    inputSize: layer.inputSize,
    hiddenSize: layer.hiddenSize,
    outputSize: layer.outputSize,
    states: layer.numLayers * layer.directions,
    width: layer.directions * layer.outputSize,
    batchFirst: layer.batchFirst,
    hasCellState: kind === 'LSTM',
  };
}

const where = 'Batcher.run';
const runKeys = ['h0', 'c0', 'signal'];

function checkState(arg: string, t: unknown, rows: number, cols: number): Float32Array {
  const expected = `a float32 Tensor of shape [${rows}, ${cols}]`;
  if (!(t instanceof Tensor) || t.dtype !== 'float32') throw typeError(where, arg, expected, t);
  if (t.shape.length !== 2 || t.shape[0] !== rows || t.shape[1] !== cols) throw rangeError(where, arg, expected, t);
  return t.data as Float32Array;
}

/** The request's sequence and signal, or a TypeError/RangeError in the library's message form. */
export function checkRequest(shape: LayerShape, input: unknown, options: unknown): { seq: Sequence; signal?: AbortSignal } {
  const o = checkOptionKeys(where, 'options', options, runKeys);
  const expected = `a float32 Tensor of shape [T, ${shape.inputSize}]`;
  if (!(input instanceof Tensor) || input.dtype !== 'float32') throw typeError(where, 'input', expected, input);
  if (input.shape.length !== 2 || input.shape[1] !== shape.inputSize) throw rangeError(where, 'input', expected, input);
  const seq: Sequence = { T: input.shape[0], x: input.data as Float32Array };
  if (o.h0 !== undefined) seq.h0 = checkState('h0', o.h0, shape.states, shape.outputSize);
  if (shape.hasCellState) {
    if (o.c0 !== undefined) seq.c0 = checkState('c0', o.c0, shape.states, shape.hiddenSize);
  } else if (o.c0 !== undefined) {
    throw typeError(where, 'c0', `undefined (${shape.kind} has no cell state)`, o.c0);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw typeError(where, 'signal', 'an AbortSignal', o.signal);
  return { seq, signal: o.signal as AbortSignal | undefined };
}

/**
 * A T = 0 request's answer, without a batch: what a batch row of length 0 gives (SPEC §3), an empty
 * output and the state handed back unchanged (zeros when absent).
 */
export function emptyResult(shape: LayerShape, seq: Sequence): BatcherResult {
  const result: BatcherResult = {
    output: Tensor.zeros([0, shape.width]),
    hN: new Tensor(seq.h0 ? seq.h0.slice() : new Float32Array(shape.states * shape.outputSize), [shape.states, shape.outputSize]),
  };
  if (shape.hasCellState) {
    result.cN = new Tensor(seq.c0 ? seq.c0.slice() : new Float32Array(shape.states * shape.hiddenSize), [shape.states, shape.hiddenSize]);
  }
  return result;
}
