// Batch inference inside a service (SPEC §9): concurrent single-sequence requests merged into one
// batched forwardAsync with lengths, the results split back.
import { checkPositiveInteger, rangeError, typeError } from '../errors';
import { checkOptionKeys } from '../layers/arguments';
import type { GRU } from '../layers/gru';
import type { LSTM } from '../layers/lstm';
import { type ForwardResult, RecurrentLayer } from '../layers/recurrent';
import type { RNN } from '../layers/rnn';
import type { Tensor } from '../tensor';
import { type PackedBatch, packBatch, unpackRow } from './batch';
import { BatcherClosedError, QueueFullError } from './errors';
import { LentFloats } from './lent-floats';
import { pickSimilarLengths } from './pick';
import { type BatcherResult, type BatcherRunOptions, type LayerShape, type Sequence, checkRequest, emptyResult, layerShape } from './request';

export interface BatcherOptions {
  /** Most requests in one batched forward (default 64). */
  maxBatch?: number;
  /** How long the first queued request waits for company, in ms (default 2; 0: only what is queued in the same tick). */
  maxDelayMs?: number;
  /** Most requests waiting (not counting the batch in flight) before run rejects with QueueFullError (default 4096). */
  maxQueue?: number;
}

export interface BatcherStats {
  /** Requests dispatched to a batch (those later aborted in flight included; rejected or aborted-while-queued ones not). */
  requests: number;
  /** Batched forward calls dispatched. */
  batches: number;
  /** requests / batches (0 before the first batch). */
  meanBatch: number;
  /** Requests waiting now, not counting the batch in flight. */
  queued: number;
}

interface Pending {
  seq: Sequence;
  signal?: AbortSignal;
  onAbort?: () => void;
  /** performance.now() at run(): the delay counts from the oldest one's. */
  since: number;
  settled: boolean;
  resolve(r: BatcherResult): void;
  reject(e: unknown): void;
}

const optionKeys = ['maxBatch', 'maxDelayMs', 'maxQueue'];

function delay(v: unknown): number {
  if (v === undefined) return 2;
  if (typeof v !== 'number') throw typeError('Batcher', 'maxDelayMs', 'a finite number ≥ 0', v);
  if (!Number.isFinite(v) || v < 0) throw rangeError('Batcher', 'maxDelayMs', 'a finite number ≥ 0', v);
  return v;
}

export class Batcher {
  private readonly layer: RecurrentLayer;
  private readonly shape: LayerShape;
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private readonly maxQueue: number;
  private queue: Pending[] = [];
  /** One batch at a time: the backend already spreads one call over every thread, and the next batch fills meanwhile. */
  private inFlight = false;
  private timer?: NodeJS.Timeout;
  private dispatchQueued = false;
  private closing?: Promise<void>;
  private drained?: () => void;
  private requests = 0;
  private batches = 0;
  /** The batch's input and results: copied out before the next batch, so reused from batch to batch. */
  private readonly lent = new LentFloats();

  constructor(layer: LSTM | GRU | RNN, options?: BatcherOptions) {
    if (!(layer instanceof RecurrentLayer)) throw typeError('Batcher', 'layer', 'an LSTM, GRU or RNN', layer);
    const o = checkOptionKeys('Batcher', 'options', options, optionKeys);
    this.layer = layer;
    this.shape = layerShape(layer);
    this.maxBatch = o.maxBatch === undefined ? 64 : checkPositiveInteger('Batcher', 'maxBatch', o.maxBatch);
    this.maxDelayMs = delay(o.maxDelayMs);
    this.maxQueue = o.maxQueue === undefined ? 4096 : checkPositiveInteger('Batcher', 'maxQueue', o.maxQueue);
  }

  /**
   * One sequence [T, inputSize] through the layer (evaluation mode), batched with whatever else is
   * queued. T = 0 resolves at once without a batch: an empty output and hN/cN equal to h0/c0 (zeros
   * when absent), as a batch row of length 0 would give. Input and states are read when the batch
   * is built: do not write into them until the promise settles.
   */
  run(input: Tensor, options?: BatcherRunOptions): Promise<BatcherResult> {
    let request: ReturnType<typeof checkRequest>;
    try {
      if (this.closing) throw new BatcherClosedError();
      request = checkRequest(this.shape, input, options);
    } catch (e) {
      return Promise.reject(e);
    }
    const { seq, signal } = request;
    // As fetch does: the signal's reason, which Node makes an AbortError DOMException when abort() got none.
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (seq.T === 0) return Promise.resolve(emptyResult(this.shape, seq));
    if (this.queue.length >= this.maxQueue) return Promise.reject(new QueueFullError(this.maxQueue));
    return new Promise<BatcherResult>((resolve, reject) => {
      const p: Pending = { seq, signal, since: performance.now(), settled: false, resolve, reject };
      if (signal) {
        p.onAbort = () => this.abort(p);
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.queue.push(p);
      this.wake();
    });
  }

  /** Takes no new request; resolves once every queued and in-flight one has settled. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = new Promise<void>((resolve) => (this.drained = resolve));
      this.wake();
      this.checkDrained();
    }
    return this.closing;
  }

  stats(): BatcherStats {
    return {
      requests: this.requests,
      batches: this.batches,
      meanBatch: this.batches === 0 ? 0 : this.requests / this.batches,
      queued: this.queue.length,
    };
  }

  private settle(p: Pending): boolean {
    if (p.settled) return false;
    p.settled = true;
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    return true;
  }

  private abort(p: Pending): void {
    if (!this.settle(p)) return;
    // Queued: it leaves the queue. In flight: its row still computes; the result is dropped.
    const at = this.queue.indexOf(p);
    if (at >= 0) this.queue.splice(at, 1);
    p.reject(p.signal!.reason);
    if (this.queue.length === 0) this.clearTimer();
    this.checkDrained();
  }

  /** Dispatches now, or arms the timer for the oldest request's deadline. */
  private wake(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const now = performance.now();
    const full = this.queue.length >= this.maxBatch || this.closing !== undefined;
    const due = full ? now : this.queue[0].since + this.maxDelayMs;
    if (due > now) {
      // Ref'd on purpose: a queued request is pending work, and close() clears it.
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.dispatch();
      }, due - now);
      return;
    }
    this.clearTimer();
    // A microtask, not a synchronous call: a burst of run() calls in one tick is all queued before
    // the batch is chosen, so the batch can group similar lengths.
    if (!this.dispatchQueued) {
      this.dispatchQueued = true;
      queueMicrotask(() => {
        this.dispatchQueued = false;
        this.dispatch();
      });
    }
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private dispatch(): void {
    if (this.inFlight || this.queue.length === 0) return;
    this.clearTimer();
    const picked = new Set(pickSimilarLengths(this.queue.map((p) => p.seq.T), this.maxBatch));
    // Longest first: the rows still running at any step are then the first ones, and the native
    // backend's products skip the rest (SequenceIndex::sorted).
    const batch = this.queue.filter((_, i) => picked.has(i)).sort((a, b) => b.seq.T - a.seq.T);
    this.queue = this.queue.filter((_, i) => !picked.has(i));
    this.inFlight = true;
    this.requests += batch.length;
    this.batches++;
    void this.runBatch(batch).finally(() => {
      this.inFlight = false;
      this.wake();
      this.checkDrained();
    });
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    let packed: PackedBatch;
    let r: ForwardResult;
    try {
      packed = packBatch(this.shape, batch.map((p) => p.seq), this.lent.take);
      r = await this.layer.forwardAsyncInto(packed.input, packed.options, this.lent.take);
    } catch (e) {
      for (const p of batch) if (this.settle(p)) p.reject(e);
      return;
    }
    batch.forEach((p, b) => {
      // An aborted row computed all the same; its result is dropped.
      if (p.settled) return;
      let result: BatcherResult;
      try {
        result = unpackRow(this.shape, r, packed, b, p.seq.T);
      } catch (e) {
        this.settle(p);
        p.reject(e);
        return;
      }
      this.settle(p);
      p.resolve(result);
    });
  }

  private checkDrained(): void {
    if (this.drained && !this.inFlight && this.queue.length === 0) this.drained();
  }
}
