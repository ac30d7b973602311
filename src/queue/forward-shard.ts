// A worker's shard: its sequences as one batched forwardAsync with lengths (the Batcher's own
// packing), its results copied once, from the batch's output into the bytes of one binary key.
import { UnrecoverableError } from 'bullmq';
import type Redis from 'ioredis';
import { packBatch } from '../serve/batch';
import { emptyResult } from '../serve/request';
import { writeGuarded } from './guarded-write';
import type { ComputeSlots } from './compute-slots';
import type { ForwardJob } from './jobs';
import type { ModelCache } from './model-cache';
import type { ResultBuffers } from './result-buffers';
import type { JobReturn } from './run';
import { decodeInputs, encodeBatchResults, encodeResults } from './shard-codec';

export interface ShardReport extends JobReturn {
  sequences: number;
  longest: number;
}

export interface ShardContext {
  redis: Redis;
  models: ModelCache;
  slots: ComputeSlots;
  buffers: ResultBuffers;
}

export async function runForwardShard({ redis, models, slots, buffers }: ShardContext, job: ForwardJob): Promise<ShardReport> {
  for (const key of ['input', 'output', 'guard', 'model'] as const) {
    if (typeof job[key] !== 'string') throw new UnrecoverableError(`a forward job needs ${key} (a string), got ${JSON.stringify(job[key])}`);
  }
  const bytes = await redis.getBuffer(job.input);
  // Delivered already (another worker redid it first) or its run is over: nothing to do.
  if (bytes === null) return { written: false, sequences: 0, longest: 0 };
  const { layer, shape } = await models.get(job.model);
  let decoded;
  try {
    decoded = decodeInputs(bytes);
  } catch (e) {
    throw new UnrecoverableError(`shard ${job.shard}: ${(e as Error).message}`);
  }
  if (decoded.inputSize !== shape.inputSize) {
    throw new UnrecoverableError(`shard ${job.shard}: its sequences have ${decoded.inputSize} features, the model's inputSize is ${shape.inputSize}`);
  }
  const seqs = decoded.seqs;
  const longest = Math.max(0, ...seqs.map((s) => s.T));
  const layout = { width: shape.width, states: shape.states, outputSize: shape.outputSize, cellSize: shape.hasCellState ? shape.hiddenSize : 0 };
  let out: Buffer;
  if (longest === 0) {
    out = encodeResults(seqs.map((s) => emptyResult(shape, s)), layout);
  } else {
    // Longest first, as the Batcher sends them: the rows still running at any step are then the
    // first ones, and the native backend's products skip the rest.
    const order = seqs.map((_, k) => k).sort((a, b) => seqs[b].T - seqs[a].T || a - b);
    const batch = packBatch(shape, order.map((k) => seqs[k]));
    const r = await slots.run(() => layer.forwardAsync(batch.input, batch.options));
    const batchRow = new Array<number>(seqs.length);
    order.forEach((k, b) => (batchRow[k] = b));
    out = encodeBatchResults(r, batchRow, seqs.map((s) => s.T), layout, shape.batchFirst, (n) => buffers.take(n));
  }
  const written = await writeGuarded(redis, job.guard, job.output, out);
  buffers.give(out);
  return { written, sequences: seqs.length, longest };
}
