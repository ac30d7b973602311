// Batch inference past one process (SPEC §10): the layer stored once in Redis under its content
// hash, the inputs queued in shards of binary float32 as BullMQ jobs, and every result back in
// input order, whichever `cellscan worker` processes (on whichever machines) compute them.
import { randomBytes } from 'crypto';
import { checkPositiveInteger, rangeError, typeError } from '../errors';
import { checkOptionKeys } from '../layers/arguments';
import type { GRU } from '../layers/gru';
import type { LSTM } from '../layers/lstm';
import { RecurrentLayer } from '../layers/recurrent';
import type { RNN } from '../layers/rnn';
import type { BatcherResult, Sequence } from '../serve/request';
import { Tensor } from '../tensor';
import { type ConnectionSpec, type RedisTarget, readConnection } from './connection';
import { QueueConnectionError } from './errors';
import { FORWARD } from './jobs';
import { checkQueueName, DEFAULT_QUEUE } from './keys';
import { encodeModelOnce } from './model-blob';
import type { QueueProducer } from './producer';
import type { RunJob } from './run';
import { KEY_TTL_MS, REDIS_TIMEOUT_MS } from './settings';
import { decodeResults, inputPieces } from './shard-codec';

export interface InferenceQueueOptions {
  /** redis://host:port[/db], or { host, port }. */
  connection: ConnectionSpec;
  /** The BullMQ queue (and the workers' --queue); default 'cellscan'. */
  name?: string;
  /** How long Redis may stay unreachable before a run rejects (default 30 000 ms). */
  redisTimeoutMs?: number;
}

export interface InferenceRunOptions {
  /** Sequences per job: each is one batched forward on a worker (default 64). */
  shardSize?: number;
  /** Called as shards come back, with the sequences done so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

export type InferenceResult = BatcherResult;

const WHERE = 'InferenceQueue';
const constructorKeys = ['connection', 'name', 'redisTimeoutMs'];
const runKeys = ['shardSize', 'onProgress'];

export class InferenceQueue {
  private readonly target: RedisTarget;
  private readonly name: string;
  private readonly redisTimeoutMs: number;
  /** Made on the first run: BullMQ and ioredis load then (most of a second), not with the package. */
  private producer?: Promise<QueueProducer>;
  private closed = false;

  constructor(options: InferenceQueueOptions) {
    if (options === null || typeof options !== 'object') throw typeError(WHERE, 'options', 'an object with connection', options);
    const o = checkOptionKeys(WHERE, 'options', options, constructorKeys);
    this.target = readConnection(WHERE, o.connection);
    this.name = o.name === undefined ? DEFAULT_QUEUE : checkQueueName(WHERE, o.name);
    this.redisTimeoutMs = o.redisTimeoutMs === undefined ? REDIS_TIMEOUT_MS : checkPositiveInteger(WHERE, 'redisTimeoutMs', o.redisTimeoutMs);
  }

  /**
   * Every sequence's output, hN (and cN) in input order: each equals `layer.forward` of that
   * sequence alone (evaluation mode) within float tolerance. The layer's weights are read now;
   * changing them while the run is out changes nothing in it. The inputs are sent to Redis
   * straight from their tensors as their shards are stored, so they must stay unchanged until
   * the run settles. The results of one shard share one buffer.
   */
  async run(layer: LSTM | GRU | RNN, inputs: Tensor[], options?: InferenceRunOptions): Promise<InferenceResult[]> {
    const where = `${WHERE}.run`;
    if (!(layer instanceof RecurrentLayer)) throw typeError(where, 'layer', 'an LSTM, GRU or RNN', layer);
    if (!Array.isArray(inputs)) throw typeError(where, 'inputs', `an array of float32 Tensors [T, ${layer.inputSize}]`, inputs);
    const o = checkOptionKeys(where, 'options', options, runKeys);
    const shardSize = o.shardSize === undefined ? 64 : checkPositiveInteger(where, 'shardSize', o.shardSize);
    if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw typeError(where, 'onProgress', 'a function', o.onProgress);
    const onProgress = o.onProgress as InferenceRunOptions['onProgress'];
    const seqs = inputs.map((t, k): Sequence => {
      const arg = `inputs[${k}]`;
      const expected = `a float32 Tensor of shape [T, ${layer.inputSize}]`;
      if (!(t instanceof Tensor) || t.dtype !== 'float32') throw typeError(where, arg, expected, t);
      if (t.shape.length !== 2 || t.shape[1] !== layer.inputSize) throw rangeError(where, arg, expected, t);
      return { T: t.shape[0], x: t.data as Float32Array };
    });
    if (this.closed) throw new QueueConnectionError(`${where}: the queue is closed`);
    if (seqs.length === 0) return [];

    this.producer ??= import('./producer').then((m) => new m.QueueProducer(this.target, this.name, this.redisTimeoutMs, WHERE));
    const p = await this.producer;
    const { runJobs } = await import('./run');
    await p.start();
    const model = encodeModelOnce(layer);
    const run = randomBytes(8).toString('hex');
    await p.whileReachable(p.blobs.hold(model.hash, run, KEY_TTL_MS, model.bytes), 'storing the model');

    // Shards of similar lengths, longest first: little padding in any batch, and the longest
    // shards are taken first, so no long one is left for the end while the other workers idle.
    const order = seqs.map((_, k) => k).sort((a, b) => seqs[b].T - seqs[a].T || a - b);
    const members: number[][] = [];
    const jobs: RunJob[] = [];
    for (let start = 0; start < seqs.length; start += shardSize) {
      const ids = order.slice(start, start + shardSize);
      jobs.push({ name: FORWARD, data: { model: model.hash, shard: members.length }, input: inputPieces(ids.map((k) => seqs[k]), layer.inputSize) });
      members.push(ids);
    }
    const results: InferenceResult[] = new Array(seqs.length);
    let done = 0;
    await runJobs(
      p,
      run,
      jobs,
      {
        output: (shard, bytes) => {
          const ids = members[shard];
          // The results stay views of the reply. ioredis's parser (redis-parser) hands out a bulk
          // reply either as a slice of one socket read (a new buffer per read) or, when it spans
          // reads, as a slice of its own pool, which it never writes again: later replies go past
          // every slice handed out, and a shrunk or new pool starts past them too.
          const rows = decodeResults(bytes);
          if (rows.length !== ids.length) throw new Error(`${where}: shard ${shard} came back with ${rows.length} results, expected ${ids.length}`);
          rows.forEach((r, k) => {
            const T = seqs[ids[k]].T;
            if (r.output.shape[0] !== T) throw new Error(`${where}: shard ${shard} row ${k} came back with ${r.output.shape[0]} steps, expected ${T}`);
            results[ids[k]] = r;
          });
          done += ids.length;
          onProgress?.(done, seqs.length);
        },
      },
      [model.hash],
    );
    return results;
  }

  /** Closes the connections; a run still out rejects. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.producer) await (await this.producer).close();
  }
}
