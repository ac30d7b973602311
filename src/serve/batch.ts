// Many single sequences <-> one padded batch in the layer's own layout ([T, B, I], or [B, T, I] with
// batchFirst), with lengths so every row runs exactly its own steps.
import type { FloatLender, ForwardOptions, ForwardResult } from '../layers/recurrent';
import { Tensor } from '../tensor';
import type { BatcherResult, LayerShape, Sequence } from './request';

export interface PackedBatch {
  input: Tensor;
  options: ForwardOptions;
  /** The longest sequence: the batch's T. */
  T: number;
}

/** Rows of every state for row b: [states, rows, cols] gets seq's [states, cols] at b; absent: zeros. */
function packStates(seqs: Sequence[], states: number, cols: number, pick: (s: Sequence) => Float32Array | undefined): Tensor | undefined {
  if (!seqs.some((s) => pick(s) !== undefined)) return undefined;
  const B = seqs.length;
  const out = new Float32Array(states * B * cols);
  seqs.forEach((seq, b) => {
    const src = pick(seq);
    if (!src) return;
    for (let s = 0; s < states; s++) out.set(src.subarray(s * cols, (s + 1) * cols), (s * B + b) * cols);
  });
  return new Tensor(out, [states, B, cols]);
}

/** `floats`: where the packed input goes (a Batcher's reused memory); fresh memory without it. */
export function packBatch(shape: LayerShape, seqs: Sequence[], floats?: FloatLender): PackedBatch {
  const B = seqs.length;
  const I = shape.inputSize;
  let T = 0;
  for (const s of seqs) T = Math.max(T, s.T);
  // Zeroed: padded steps still pass through the input GEMM, and stale memory there could hold NaNs.
  const x = floats ? floats(T * B * I, 'x').fill(0) : new Float32Array(T * B * I);
  seqs.forEach((seq, b) => {
    if (shape.batchFirst) {
      x.set(seq.x.subarray(0, seq.T * I), b * T * I);
    } else {
      for (let t = 0; t < seq.T; t++) x.set(seq.x.subarray(t * I, (t + 1) * I), (t * B + b) * I);
    }
  });
  const options: ForwardOptions = { lengths: Int32Array.from(seqs, (s) => s.T) };
  const h0 = packStates(seqs, shape.states, shape.outputSize, (s) => s.h0);
  if (h0) options.h0 = h0;
  const c0 = shape.hasCellState ? packStates(seqs, shape.states, shape.hiddenSize, (s) => s.c0) : undefined;
  if (c0) options.c0 = c0;
  return { input: new Tensor(x, shape.batchFirst ? [B, T, I] : [T, B, I]), options, T };
}

function unpackState(src: Float32Array, b: number, B: number, states: number, cols: number): Tensor {
  const out = new Float32Array(states * cols);
  for (let s = 0; s < states; s++) out.set(src.subarray((s * B + b) * cols, (s * B + b + 1) * cols), s * cols);
  return new Tensor(out, [states, cols]);
}

/** Row b's own result, copied out (a view would keep the whole batch's buffers alive). */
export function unpackRow(shape: LayerShape, r: ForwardResult, batch: PackedBatch, b: number, seqT: number): BatcherResult {
  const B = batch.input.shape[shape.batchFirst ? 0 : 1];
  const W = shape.width;
  const y = r.output.data as Float32Array;
  let output: Float32Array;
  if (shape.batchFirst) {
    output = y.slice(b * batch.T * W, (b * batch.T + seqT) * W);
  } else {
    output = new Float32Array(seqT * W);
    for (let t = 0; t < seqT; t++) output.set(y.subarray((t * B + b) * W, (t * B + b + 1) * W), t * W);
  }
  const result: BatcherResult = {
    output: new Tensor(output, [seqT, W]),
    hN: unpackState(r.hN.data as Float32Array, b, B, shape.states, shape.outputSize),
  };
  if (r.cN) result.cN = unpackState(r.cN.data as Float32Array, b, B, shape.states, shape.hiddenSize);
  return result;
}
