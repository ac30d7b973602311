// A shard's sequences and results as bytes: a few uint32 of header, then raw little-endian float32,
// so a shard crosses Redis as one binary string (JSON would spell every float out in decimal).
//
//   inputs:  "CSI1" count I  T[count]                     x_0 .. x_{count-1}          (x_k: T_k × I)
//   results: "CSR1" count W states Hout Hcell T[count]    (y_k, hN_k, cN_k) per row    (y_k: T_k × W)
//
// Hcell is 0 for a GRU/RNN (no cN). Every size is checked against the byte length before a read.
// Buffers are allocated unpooled (offset 0), so the header and floats can be written through views.
import * as os from 'os';
import type { ForwardResult } from '../layers/recurrent';
import type { BatcherResult, Sequence } from '../serve/request';
import { Tensor } from '../tensor';

const INPUTS = 0x31495343; // "CSI1" read as a little-endian uint32
const RESULTS = 0x31525343; // "CSR1"

if (os.endianness() !== 'LE') throw new Error('cellscan queue: shards are little-endian float32; this host is big-endian');

/** The floats of `bytes` from `offset`, copied when the buffer's own alignment forbids a view. */
function floats(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const at = bytes.byteOffset + offset;
  if (at % 4 === 0) return new Float32Array(bytes.buffer, at, count);
  return new Float32Array(bytes.buffer.slice(at, at + 4 * count));
}

function header(bytes: Uint8Array, magic: number, words: number, what: string): Uint32Array {
  if (bytes.byteLength < 8) throw new Error(`${what}: ${bytes.byteLength} bytes, too short for a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== magic) throw new Error(`${what}: wrong magic number`);
  const count = view.getUint32(4, true);
  const n = words + count;
  if (bytes.byteLength < 4 * n) throw new Error(`${what}: ${bytes.byteLength} bytes, too short for ${count} rows`);
  const h = new Uint32Array(n);
  for (let i = 0; i < n; i++) h[i] = view.getUint32(4 * i, true);
  return h;
}

/**
 * A shard's inputs as the pieces of its bytes: the header, then each sequence's own floats (views,
 * not copies), for a write that sends them as they are (pieces-set.ts).
 */
export function inputPieces(seqs: readonly Sequence[], inputSize: number): Uint8Array[] {
  const head = new Uint32Array(3 + seqs.length);
  head[0] = INPUTS;
  head[1] = seqs.length;
  head[2] = inputSize;
  seqs.forEach((s, k) => (head[3 + k] = s.T));
  const pieces: Uint8Array[] = [new Uint8Array(head.buffer)];
  for (const s of seqs) pieces.push(new Uint8Array(s.x.buffer, s.x.byteOffset, 4 * s.T * inputSize));
  return pieces;
}

export function decodeInputs(bytes: Uint8Array): { inputSize: number; seqs: Sequence[] } {
  const what = 'shard inputs';
  const h = header(bytes, INPUTS, 3, what);
  const count = h[1];
  const inputSize = h[2];
  let total = 0;
  for (let k = 0; k < count; k++) total += h[3 + k] * inputSize;
  const start = 4 * (3 + count);
  if (bytes.byteLength !== start + 4 * total) throw new Error(`${what}: ${bytes.byteLength} bytes, expected ${start + 4 * total}`);
  const all = floats(bytes, start, total);
  const seqs: Sequence[] = [];
  let at = 0;
  for (let k = 0; k < count; k++) {
    const T = h[3 + k];
    seqs.push({ T, x: all.subarray(at, at + T * inputSize) });
    at += T * inputSize;
  }
  return { inputSize, seqs };
}

export interface ResultLayout {
  width: number;
  states: number;
  outputSize: number;
  /** cN's columns (hiddenSize) for an LSTM, 0 without cN. */
  cellSize: number;
}

export function encodeResults(results: readonly BatcherResult[], layout: ResultLayout): Buffer {
  const head = 6 + results.length;
  const perState = layout.states * (layout.outputSize + layout.cellSize);
  let total = 0;
  for (const r of results) total += r.output.shape[0] * layout.width + perState;
  const out = Buffer.allocUnsafeSlow(4 * (head + total));
  const h = new Uint32Array(out.buffer, out.byteOffset, head);
  h.set([RESULTS, results.length, layout.width, layout.states, layout.outputSize, layout.cellSize]);
  results.forEach((r, k) => (h[6 + k] = r.output.shape[0]));
  const f = new Float32Array(out.buffer, out.byteOffset + 4 * head, total);
  let at = 0;
  const put = (t: Tensor | undefined) => {
    if (!t) return;
    f.set(t.data as Float32Array, at);
    at += t.data.length;
  };
  for (const r of results) {
    put(r.output);
    put(r.hN);
    if (layout.cellSize > 0) put(r.cN);
  }
  return out;
}

/**
 * The results of a batched forward (the layer's own layout: [T, B, W], or [B, T, W] with
 * batchFirst; states [states, B, cols]) written straight into the results format: shard row k is
 * batch row `batchRow[k]`, `steps[k]` steps long. One copy of each float, none per row on the way.
 * `alloc` gives the bytes: at offset 0 of their buffer, so the header and floats are views of it.
 */
export function encodeBatchResults(
  r: ForwardResult,
  batchRow: readonly number[],
  steps: readonly number[],
  layout: ResultLayout,
  batchFirst: boolean,
  alloc: (bytes: number) => Buffer = Buffer.allocUnsafeSlow,
): Buffer {
  const count = batchRow.length;
  const { width: W, states, outputSize, cellSize } = layout;
  const head = 6 + count;
  const perState = states * (outputSize + cellSize);
  let total = 0;
  for (let k = 0; k < count; k++) total += steps[k] * W + perState;
  const out = alloc(4 * (head + total));
  const h = new Uint32Array(out.buffer, out.byteOffset, head);
  h.set([RESULTS, count, W, states, outputSize, cellSize]);
  h.set(steps, 6);
  const f = new Float32Array(out.buffer, out.byteOffset + 4 * head, total);
  const y = r.output.data as Float32Array;
  const B = r.output.shape[batchFirst ? 0 : 1];
  const Tb = r.output.shape[batchFirst ? 1 : 0];
  const hN = r.hN.data as Float32Array;
  const cN = cellSize > 0 ? (r.cN!.data as Float32Array) : undefined;
  let at = 0;
  for (let k = 0; k < count; k++) {
    const b = batchRow[k];
    const T = steps[k];
    if (batchFirst) {
      f.set(y.subarray(b * Tb * W, (b * Tb + T) * W), at);
    } else {
      for (let t = 0; t < T; t++) f.set(y.subarray((t * B + b) * W, (t * B + b + 1) * W), at + t * W);
    }
    at += T * W;
    for (let s = 0; s < states; s++, at += outputSize) f.set(hN.subarray((s * B + b) * outputSize, (s * B + b + 1) * outputSize), at);
    if (cN) for (let s = 0; s < states; s++, at += cellSize) f.set(cN.subarray((s * B + b) * cellSize, (s * B + b + 1) * cellSize), at);
  }
  return out;
}

/**
 * Each row's tensors, views of `bytes` (copied only when misaligned for float32): the producer
 * receives every result byte of a run, and a copy of them all was a large share of its work. The
 * caller must own the bytes for good: the Redis client's replies do (inference-queue.ts says why),
 * a buffer that will be written again does not. A result kept alone keeps its shard's bytes alive.
 */
export function decodeResults(bytes: Uint8Array): BatcherResult[] {
  const what = 'shard results';
  const h = header(bytes, RESULTS, 6, what);
  const [, count, width, states, outputSize, cellSize] = h;
  const perState = states * (outputSize + cellSize);
  let total = 0;
  for (let k = 0; k < count; k++) total += h[6 + k] * width + perState;
  const start = 4 * (6 + count);
  if (bytes.byteLength !== start + 4 * total) throw new Error(`${what}: ${bytes.byteLength} bytes, expected ${start + 4 * total}`);
  const all = floats(bytes, start, total);
  const results: BatcherResult[] = [];
  let at = 0;
  const take = (shape: number[]) => {
    const n = shape[0] * shape[1];
    const t = new Tensor(all.subarray(at, at + n), shape);
    at += n;
    return t;
  };
  for (let k = 0; k < count; k++) {
    const r: BatcherResult = { output: take([h[6 + k], width]), hN: take([states, outputSize]) };
    if (cellSize > 0) r.cN = take([states, cellSize]);
    results.push(r);
  }
  return results;
}
