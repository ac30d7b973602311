// SPEC §9's Batcher on every backend that loads here: results
// equal to each sequence run alone, batching that happens, errors that stay with their request,
// backpressure, aborts, close and a batched forward that fails.
import { Batcher, BatcherClosedError, GRU, LSTM, QueueFullError, RNN, Tensor, useBackend } from '../src';
import type { BatcherResult, ForwardOptions, ForwardResult } from '../src';
import type { FloatLender } from '../src/layers/recurrent';
import { pickOldest, pickSimilarLengths } from '../src/serve/pick';
import { Rng } from '../src/random';
import { backendRows, selectBackend } from './helpers/backends';

type Layer = LSTM | GRU | RNN;
const TOL = 1e-4;

/** Seeded numbers in [0, 1) from the library's generator (the layers' own streams are not touched). */
function seeded(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.nextFloat();
}

function randomTensor(rand: () => number, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float32Array.from({ length: n }, () => rand() * 2 - 1), shape);
}

function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

function states(layer: Layer): number {
  return layer.numLayers * layer.directions;
}

interface Request {
  input: Tensor;
  h0?: Tensor;
  c0?: Tensor;
}

/** The sequence run alone: one batch row, in the layer's layout, reshaped to the Batcher's. */
function alone(layer: Layer, r: Request): BatcherResult {
  const T = r.input.shape[0];
  const x = new Tensor(r.input.data, layer.batchFirst ? [1, T, layer.inputSize] : [T, 1, layer.inputSize]);
  const o: ForwardOptions = {};
  if (r.h0) o.h0 = new Tensor(r.h0.data, [states(layer), 1, layer.outputSize]);
  if (r.c0) o.c0 = new Tensor(r.c0.data, [states(layer), 1, layer.hiddenSize]);
  const y = layer.forward(x, o);
  const out: BatcherResult = {
    output: new Tensor(y.output.data, [T, layer.directions * layer.outputSize]),
    hN: new Tensor(y.hN.data, [states(layer), layer.outputSize]),
  };
  if (y.cN) out.cN = new Tensor(y.cN.data, [states(layer), layer.hiddenSize]);
  return out;
}

function expectClose(got: BatcherResult, want: BatcherResult): void {
  expect(maxDiff(got.output, want.output)).toBeLessThanOrEqual(TOL);
  expect(maxDiff(got.hN, want.hN)).toBeLessThanOrEqual(TOL);
  if (want.cN) expect(maxDiff(got.cN!, want.cN)).toBeLessThanOrEqual(TOL);
  else expect(got.cN).toBeUndefined();
}

/** Requests of lengths 1..maxT, every other one with a state (h0, and c0 on an LSTM). */
function requests(layer: Layer, n: number, maxT: number, seed: number): Request[] {
  const rand = seeded(seed);
  return Array.from({ length: n }, (_, i) => {
    const T = 1 + Math.floor(rand() * maxT);
    const r: Request = { input: randomTensor(rand, [T, layer.inputSize]) };
    if (i % 2 === 1) {
      r.h0 = randomTensor(rand, [states(layer), layer.outputSize]);
      if (layer instanceof LSTM) r.c0 = randomTensor(rand, [states(layer), layer.hiddenSize]);
    }
    return r;
  });
}

function runAll(b: Batcher, rs: Request[]): Promise<BatcherResult[]> {
  return Promise.all(rs.map((r) => b.run(r.input, { h0: r.h0, c0: r.c0 })));
}

/** The layer's batched forward (forwardAsyncInto, what the Batcher calls) held at a gate the test opens, or made to fail: batches in flight on demand. */
class GatedLSTM extends LSTM {
  calls = 0;
  failWith?: Error;
  private gate?: Promise<void>;
  private open?: () => void;
  private entered?: () => void;

  /** The next batched forward waits for the returned function; `started` resolves when it is waiting. */
  hold(): { started: Promise<void>; release: () => void } {
    this.gate = new Promise((r) => (this.open = r));
    const started = new Promise<void>((r) => (this.entered = r));
    return { started, release: () => this.open!() };
  }

  override async forwardAsyncInto(input: Tensor, o: ForwardOptions, floats: FloatLender): Promise<ForwardResult> {
    this.calls++;
    const gate = this.gate;
    this.gate = undefined;
    if (gate) {
      this.entered!();
      await gate;
    }
    const failure = this.failWith;
    this.failWith = undefined;
    if (failure) throw failure;
    return super.forwardAsyncInto(input, o, floats);
  }
}

/** Settled or not after the microtasks queued so far have run (no timer fires meanwhile). */
async function settledFlags(ps: Promise<unknown>[]): Promise<('fulfilled' | 'rejected' | 'pending')[]> {
  const flags = ps.map(() => 'pending' as 'fulfilled' | 'rejected' | 'pending');
  ps.forEach((p, i) => p.then(() => (flags[i] = 'fulfilled'), () => (flags[i] = 'rejected')));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return flags;
}

describe.each(backendRows())('Batcher on %s', (backend) => {
  beforeAll(() => selectBackend(backend));
  afterAll(() => useBackend('auto'));
  describe('results equal each sequence run alone (1e-4)', () => {
    const cases: [string, () => Layer][] = [
      ['LSTM, 2 layers, bidirectional', () => new LSTM({ inputSize: 5, hiddenSize: 8, numLayers: 2, bidirectional: true, seed: 1 })],
      ['LSTM with projSize, 2 layers', () => new LSTM({ inputSize: 4, hiddenSize: 9, projSize: 5, numLayers: 2, seed: 2 })],
      ['LSTM, peepholes, batchFirst', () => new LSTM({ inputSize: 6, hiddenSize: 7, peepholes: true, batchFirst: true, seed: 3 })],
      ['GRU, bidirectional, batchFirst', () => new GRU({ inputSize: 5, hiddenSize: 8, bidirectional: true, batchFirst: true, seed: 4 })],
      ['GRU, linearBeforeReset false, 3 layers', () => new GRU({ inputSize: 3, hiddenSize: 6, numLayers: 3, linearBeforeReset: false, seed: 5 })],
      ['RNN relu, 2 layers, bidirectional', () => new RNN({ inputSize: 4, hiddenSize: 8, numLayers: 2, bidirectional: true, nonlinearity: 'relu', seed: 6 })],
      ['RNN tanh, batchFirst, residual', () => new RNN({ inputSize: 8, hiddenSize: 8, numLayers: 2, residual: true, batchFirst: true, seed: 7 })],
    ];
    test.each(cases)('%s, T in 1..48', async (_name, make) => {
      const layer = make();
      const b = new Batcher(layer, { maxBatch: 8, maxDelayMs: 5 });
      const rs = requests(layer, 30, 48, 100);
      const got = await runAll(b, rs);
      rs.forEach((r, i) => expectClose(got[i], alone(layer, r)));
      const s = b.stats();
      expect(s.requests).toBe(30);
      expect(s.batches).toBeLessThan(s.requests);
      expect(s.batches).toBeGreaterThanOrEqual(4); // maxBatch 8 caps a batch
      expect(s.meanBatch).toBeCloseTo(30 / s.batches, 12);
      expect(s.queued).toBe(0);
      await b.close();
    });

    test.each([false, true])('streaming: T = 1 steps with the previous hN/cN (bidirectional %s) equal one whole forward', async (bidirectional) => {
      // Bidirectional streaming is step by step on both directions: each step is its own sequence.
      const layer = new LSTM({ inputSize: 3, hiddenSize: 6, numLayers: 2, bidirectional, seed: 8 });
      const b = new Batcher(layer, { maxDelayMs: 1 });
      const rand = seeded(9);
      const streams = [5, 9, 1, 7].map((T) => randomTensor(rand, [T, 3]));
      const stepOf = (x: Tensor, t: number) => new Tensor(x.data.slice(t * 3, (t + 1) * 3), [1, 3]);
      await Promise.all(
        streams.map(async (x) => {
          let state: BatcherResult | undefined;
          const outs: Float32Array[] = [];
          for (let t = 0; t < x.shape[0]; t++) {
            const input = stepOf(x, t);
            const want = alone(layer, { input, h0: state?.hN, c0: state?.cN });
            state = await b.run(input, { h0: state?.hN, c0: state?.cN });
            expectClose(state, want);
            outs.push(state.output.data as Float32Array);
          }
          if (!bidirectional) {
            const whole = alone(layer, { input: x });
            const stepped = new Tensor(Float32Array.from(outs.flatMap((o) => [...o])), whole.output.shape);
            expect(maxDiff(stepped, whole.output)).toBeLessThanOrEqual(TOL);
            expect(maxDiff(state!.hN, whole.hN)).toBeLessThanOrEqual(TOL);
            expect(maxDiff(state!.cN!, whole.cN!)).toBeLessThanOrEqual(TOL);
          }
        }),
      );
      // The four streams' steps share batches.
      expect(b.stats().batches).toBeLessThan(b.stats().requests);
      await b.close();
    });

    test('more queued than maxBatch: batches of similar lengths, every request answered', async () => {
      const layer = new GRU({ inputSize: 4, hiddenSize: 5, seed: 10 });
      const gated = new Batcher(layer, { maxBatch: 4, maxDelayMs: 0 });
      const rs = requests(layer, 23, 40, 11);
      const got = await runAll(gated, rs);
      rs.forEach((r, i) => expectClose(got[i], alone(layer, r)));
      expect(gated.stats()).toEqual({ requests: 23, batches: 6, meanBatch: 23 / 6, queued: 0 });
    });

    test('T = 0 resolves at once with an empty output and the state handed back', async () => {
      const layer = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 12 });
      const b = new Batcher(layer);
      const h0 = randomTensor(seeded(13), [4, 4]);
      const c0 = randomTensor(seeded(14), [4, 4]);
      const r = await b.run(Tensor.zeros([0, 3]), { h0, c0 });
      expect(r.output.shape).toEqual([0, 8]);
      expect(r.hN.data).toEqual(h0.data);
      expect(r.hN.data).not.toBe(h0.data);
      expect(r.cN!.data).toEqual(c0.data);
      const z = await b.run(Tensor.zeros([0, 3]));
      expect(z.hN.data).toEqual(new Float32Array(16));
      expect(z.cN!.data).toEqual(new Float32Array(16));
      const g = await new Batcher(new GRU({ inputSize: 3, hiddenSize: 4 })).run(Tensor.zeros([0, 3]));
      expect(g.cN).toBeUndefined();
      expect(b.stats()).toEqual({ requests: 0, batches: 0, meanBatch: 0, queued: 0 });
    });
  });

  describe('which requests make a batch', () => {
    test('up to maxBatch waiting: all of them, in arrival order', () => {
      expect(pickSimilarLengths([9, 1, 5], 4)).toEqual([0, 1, 2]);
      expect(pickOldest([9, 1, 5, 3, 2], 2)).toEqual([0, 1]);
    });

    test('more: the equal-size group of similar lengths that holds the oldest', () => {
      const lengths = [40, 1, 41, 2, 42, 3, 43, 4];
      expect(pickSimilarLengths(lengths, 4)).toEqual([0, 2, 4, 6]);
      expect(pickSimilarLengths([1, 40, 2, 41, 3, 42, 4, 43], 4)).toEqual([0, 2, 4, 6]);
      expect(pickSimilarLengths(lengths.slice(1), 4)).toEqual([0, 2, 4]); // 7 waiting: groups of 3 and 4
      // 9 waiting, maxBatch 8: two groups of 4 and 5, not 8 padded to the longest and a lone one.
      expect(pickSimilarLengths([5, 30, 31, 6, 32, 7, 33, 8, 34], 8)).toEqual([0, 3, 5, 7]);
      expect(pickSimilarLengths([30, 5, 31, 6, 32, 7, 33, 8, 34], 8)).toEqual([0, 2, 4, 6, 8]);
    });

    test('the oldest is always taken, whatever its length (nobody waits forever)', () => {
      const rand = seeded(70);
      for (let trial = 0; trial < 200; trial++) {
        const n = 1 + Math.floor(rand() * 100);
        const maxBatch = 1 + Math.floor(rand() * 16);
        const lengths = Array.from({ length: n }, () => 1 + Math.floor(rand() * 48));
        const picked = pickSimilarLengths(lengths, maxBatch);
        expect(picked[0]).toBe(0);
        expect(picked.length).toBeLessThanOrEqual(maxBatch);
        expect(picked.length).toBeGreaterThanOrEqual(Math.min(n, Math.floor(n / Math.ceil(n / maxBatch))));
        expect([...picked].sort((a, b) => a - b)).toEqual(picked);
        expect(new Set(picked).size).toBe(picked.length);
      }
    });
  });

  describe('a bad request rejects alone', () => {
    const lstm = new LSTM({ inputSize: 4, hiddenSize: 3, numLayers: 2, seed: 20 });
    const gru = new GRU({ inputSize: 4, hiddenSize: 3, seed: 21 });
    type Case = [string, Layer, () => [unknown, unknown], typeof TypeError | typeof RangeError, RegExp];
    const cases: Case[] = [
      ['input not a Tensor', lstm, () => [[1, 2, 3, 4], undefined], TypeError, /^Batcher\.run: input must be a float32 Tensor of shape \[T, 4\], got \[1, 2, 3, 4\]$/],
      ['input int32', lstm, () => [Tensor.zeros([2, 4], 'int32'), undefined], TypeError, /^Batcher\.run: input must be a float32 Tensor of shape \[T, 4\], got an int32 Tensor of shape \[2, 4\]$/],
      ['input 3-D', lstm, () => [Tensor.zeros([2, 1, 4]), undefined], RangeError, /^Batcher\.run: input must be a float32 Tensor of shape \[T, 4\], got a float32 Tensor of shape \[2, 1, 4\]$/],
      ['input feature size', lstm, () => [Tensor.zeros([2, 5]), undefined], RangeError, /^Batcher\.run: input must be a float32 Tensor of shape \[T, 4\], got a float32 Tensor of shape \[2, 5\]$/],
      ['h0 shape', lstm, () => [Tensor.zeros([2, 4]), { h0: Tensor.zeros([2, 1, 3]) }], RangeError, /^Batcher\.run: h0 must be a float32 Tensor of shape \[2, 3\], got a float32 Tensor of shape \[2, 1, 3\]$/],
      ['h0 not a Tensor', lstm, () => [Tensor.zeros([2, 4]), { h0: new Float32Array(6) }], TypeError, /^Batcher\.run: h0 must be a float32 Tensor of shape \[2, 3\], got Float32Array\(6\)$/],
      ['c0 shape', lstm, () => [Tensor.zeros([2, 4]), { c0: Tensor.zeros([1, 3]) }], RangeError, /^Batcher\.run: c0 must be a float32 Tensor of shape \[2, 3\], got a float32 Tensor of shape \[1, 3\]$/],
      ['c0 on a GRU', gru, () => [Tensor.zeros([2, 4]), { c0: Tensor.zeros([1, 3]) }], TypeError, /^Batcher\.run: c0 must be undefined \(GRU has no cell state\), got a float32 Tensor of shape \[1, 3\]$/],
      ['signal not an AbortSignal', lstm, () => [Tensor.zeros([2, 4]), { signal: { aborted: false } }], TypeError, /^Batcher\.run: signal must be an AbortSignal, got an object$/],
      ['unknown option', lstm, () => [Tensor.zeros([2, 4]), { lengths: [2] }], TypeError, /^Batcher\.run: unknown options key "lengths"; expected h0, c0, signal$/],
      ['options not an object', lstm, () => [Tensor.zeros([2, 4]), 3], TypeError, /^Batcher\.run: options must be an object with some of h0, c0, signal, got 3$/],
    ];
    test.each(cases)('%s', async (_name, layer, args, ctor, message) => {
      const b = new Batcher(layer, { maxDelayMs: 20 });
      const good = requests(layer, 4, 10, 22);
      const goodRuns = runAll(b, good.slice(0, 2));
      const [input, options] = args();
      const bad = b.run(input as Tensor, options as never);
      const rest = runAll(b, good.slice(2));
      // Rejected before any batch ran, never queued.
      expect(await settledFlags([bad])).toEqual(['rejected']);
      expect(b.stats().queued).toBe(4);
      await expect(bad).rejects.toThrow(ctor);
      await expect(bad).rejects.toThrow(message);
      const got = [...(await goodRuns), ...(await rest)];
      good.forEach((r, i) => expectClose(got[i], alone(layer, r)));
      expect(b.stats()).toMatchObject({ requests: 4, batches: 1 });
    });
  });

  describe('constructor', () => {
    const layer = new RNN({ inputSize: 2, hiddenSize: 2 });
    const cases: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      ['layer missing', () => new Batcher(undefined as never), TypeError, /^Batcher: layer must be an LSTM, GRU or RNN, got undefined$/],
      ['layer a cell-less object', () => new Batcher({ forwardAsync() {} } as never), TypeError, /^Batcher: layer must be an LSTM, GRU or RNN, got an object$/],
      ['maxBatch 0', () => new Batcher(layer, { maxBatch: 0 }), RangeError, /^Batcher: maxBatch must be a positive integer, got 0$/],
      ['maxBatch 2.5', () => new Batcher(layer, { maxBatch: 2.5 }), RangeError, /^Batcher: maxBatch must be a positive integer, got 2.5$/],
      ['maxBatch string', () => new Batcher(layer, { maxBatch: '8' as never }), TypeError, /^Batcher: maxBatch must be a positive integer, got "8"$/],
      ['maxQueue -1', () => new Batcher(layer, { maxQueue: -1 }), RangeError, /^Batcher: maxQueue must be a positive integer, got -1$/],
      ['maxDelayMs -1', () => new Batcher(layer, { maxDelayMs: -1 }), RangeError, /^Batcher: maxDelayMs must be a finite number ≥ 0, got -1$/],
      ['maxDelayMs Infinity', () => new Batcher(layer, { maxDelayMs: Infinity }), RangeError, /^Batcher: maxDelayMs must be a finite number ≥ 0, got Infinity$/],
      ['maxDelayMs NaN', () => new Batcher(layer, { maxDelayMs: NaN }), RangeError, /^Batcher: maxDelayMs must be a finite number ≥ 0, got NaN$/],
      ['maxDelayMs null', () => new Batcher(layer, { maxDelayMs: null as never }), TypeError, /^Batcher: maxDelayMs must be a finite number ≥ 0, got null$/],
      ['unknown option', () => new Batcher(layer, { maxBatchSize: 8 } as never), TypeError, /^Batcher: unknown options key "maxBatchSize"; expected maxBatch, maxDelayMs, maxQueue$/],
      ['options an array', () => new Batcher(layer, [] as never), TypeError, /^Batcher: options must be an object with some of maxBatch, maxDelayMs, maxQueue, got \[\]$/],
    ];
    test.each(cases)('%s', (_name, fn, ctor, message) => {
      expect(fn).toThrow(ctor);
      expect(fn).toThrow(message);
    });

    test('maxDelayMs 0 is allowed: what is queued in one tick still shares a batch', async () => {
      const l = new RNN({ inputSize: 2, hiddenSize: 3, seed: 23 });
      const b = new Batcher(l, { maxDelayMs: 0 });
      const rs = requests(l, 5, 6, 24);
      const got = await runAll(b, rs);
      rs.forEach((r, i) => expectClose(got[i], alone(l, r)));
      expect(b.stats()).toEqual({ requests: 5, batches: 1, meanBatch: 5, queued: 0 });
    });
  });

  describe('backpressure', () => {
    test('maxQueue 4: of 10 runs in one tick, 6 reject at once with QueueFullError', async () => {
      const layer = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 30 });
      const b = new Batcher(layer, { maxQueue: 4, maxDelayMs: 60_000 });
      const rs = requests(layer, 10, 12, 31);
      const runs = rs.map((r) => b.run(r.input, { h0: r.h0, c0: r.c0 }));
      expect(await settledFlags(runs)).toEqual([...Array(4).fill('pending'), ...Array(6).fill('rejected')]);
      for (const p of runs.slice(4)) {
        const e = await p.then(() => undefined, (err: unknown) => err);
        expect(e).toBeInstanceOf(QueueFullError);
        expect(e).toBeInstanceOf(Error);
        expect(e).not.toBeInstanceOf(RangeError);
        expect((e as QueueFullError).name).toBe('QueueFullError');
        expect((e as QueueFullError).maxQueue).toBe(4);
        expect((e as Error).message).toMatch(/^Batcher\.run: the queue is full \(maxQueue = 4 requests waiting\)/);
      }
      expect(b.stats().queued).toBe(4);
      // close() does not wait out the 60 s delay.
      await b.close();
      const got = await Promise.all(runs.slice(0, 4));
      rs.slice(0, 4).forEach((r, i) => expectClose(got[i], alone(layer, r)));
    });

    test('the batch in flight does not count: the queue takes maxQueue more', async () => {
      const layer = new GatedLSTM({ inputSize: 2, hiddenSize: 2, seed: 32 });
      const b = new Batcher(layer, { maxQueue: 2, maxDelayMs: 0 });
      const gate = layer.hold();
      const first = [b.run(Tensor.zeros([1, 2])), b.run(Tensor.zeros([2, 2]))];
      await gate.started;
      const next = [b.run(Tensor.zeros([1, 2])), b.run(Tensor.zeros([3, 2])), b.run(Tensor.zeros([1, 2]))];
      expect(await settledFlags(next)).toEqual(['pending', 'pending', 'rejected']);
      gate.release();
      await Promise.all([...first, ...next.slice(0, 2)]);
      expect(b.stats()).toEqual({ requests: 4, batches: 2, meanBatch: 2, queued: 0 });
    });
  });

  describe('abort', () => {
    test('aborted before run: rejects at once with the reason (an AbortError DOMException when none)', async () => {
      const layer = new GRU({ inputSize: 2, hiddenSize: 2 });
      const b = new Batcher(layer);
      const plain = new AbortController();
      plain.abort();
      const p = b.run(Tensor.zeros([3, 2]), { signal: plain.signal });
      expect(await settledFlags([p])).toEqual(['rejected']);
      const e = await p.then(() => undefined, (err: unknown) => err);
      expect(e).toBeInstanceOf(DOMException);
      expect((e as DOMException).name).toBe('AbortError');
      const reason = new Error('client went away');
      const withReason = new AbortController();
      withReason.abort(reason);
      await expect(b.run(Tensor.zeros([3, 2]), { signal: withReason.signal })).rejects.toBe(reason);
      // Even T = 0, which needs no batch.
      await expect(b.run(Tensor.zeros([0, 2]), { signal: withReason.signal })).rejects.toBe(reason);
      expect(b.stats()).toEqual({ requests: 0, batches: 0, meanBatch: 0, queued: 0 });
    });

    test('aborted while queued: leaves the queue and rejects; the others run', async () => {
      const layer = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 40 });
      const b = new Batcher(layer, { maxDelayMs: 60_000 });
      const rs = requests(layer, 3, 8, 41);
      const ac = new AbortController();
      const runs = rs.map((r, i) => b.run(r.input, { h0: r.h0, c0: r.c0, signal: i === 1 ? ac.signal : undefined }));
      expect(b.stats().queued).toBe(3);
      const reason = new Error('gone');
      ac.abort(reason);
      await expect(runs[1]).rejects.toBe(reason);
      expect(b.stats().queued).toBe(2);
      await b.close();
      expectClose(await runs[0], alone(layer, rs[0]));
      expectClose(await runs[2], alone(layer, rs[2]));
      expect(b.stats()).toEqual({ requests: 2, batches: 1, meanBatch: 2, queued: 0 });
    });

    test('every queued request aborted: the timer goes, nothing runs', async () => {
      const layer = new GatedLSTM({ inputSize: 2, hiddenSize: 2 });
      const b = new Batcher(layer, { maxDelayMs: 10 });
      const ac = new AbortController();
      const runs = [b.run(Tensor.zeros([2, 2]), { signal: ac.signal }), b.run(Tensor.zeros([1, 2]), { signal: ac.signal })];
      ac.abort();
      await Promise.allSettled(runs);
      await new Promise((r) => setTimeout(r, 30));
      expect(layer.calls).toBe(0);
      expect(b.stats()).toEqual({ requests: 0, batches: 0, meanBatch: 0, queued: 0 });
    });

    test('aborted while its batch runs: rejects promptly; batch-mates unaffected', async () => {
      const layer = new GatedLSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 42 });
      const b = new Batcher(layer, { maxDelayMs: 0 });
      const rs = requests(layer, 3, 8, 43);
      const ac = new AbortController();
      const gate = layer.hold();
      const runs = rs.map((r, i) => b.run(r.input, { h0: r.h0, c0: r.c0, signal: i === 0 ? ac.signal : undefined }));
      await gate.started;
      expect(b.stats()).toEqual({ requests: 3, batches: 1, meanBatch: 3, queued: 0 });
      ac.abort();
      // Settled while the batch is still held at the gate.
      expect(await settledFlags(runs)).toEqual(['rejected', 'pending', 'pending']);
      await expect(runs[0]).rejects.toMatchObject({ name: 'AbortError' });
      gate.release();
      expectClose(await runs[1], alone(layer, rs[1]));
      expectClose(await runs[2], alone(layer, rs[2]));
      await b.close();
    });
  });

  describe('close', () => {
    test('finishes the queued and in-flight requests, then rejects new runs; idempotent', async () => {
      const layer = new GatedLSTM({ inputSize: 3, hiddenSize: 4, bidirectional: true, seed: 50 });
      const b = new Batcher(layer, { maxBatch: 2, maxDelayMs: 60_000 });
      const rs = requests(layer, 5, 10, 51);
      const gate = layer.hold();
      // 5 requests, maxBatch 2: a full queue dispatches at once (1 or 2 of similar lengths), the rest wait.
      const runs = runAll(b, rs);
      await gate.started;
      expect(b.stats().batches).toBe(1);
      expect(b.stats().queued).toBe(5 - b.stats().requests);
      expect(b.stats().queued).toBeGreaterThanOrEqual(3);
      let closed = false;
      const closing = b.close().then(() => (closed = true));
      expect(b.close()).toBe(b.close());
      await expect(b.run(rs[0].input)).rejects.toThrow(BatcherClosedError);
      await expect(b.run(rs[0].input)).rejects.toThrow(/^Batcher\.run: the Batcher is closed$/);
      await new Promise((r) => setTimeout(r, 10));
      expect(closed).toBe(false);
      gate.release();
      await closing;
      const s = b.stats();
      expect(s).toEqual({ requests: 5, batches: 3, meanBatch: 5 / 3, queued: 0 });
      const got = await runs;
      rs.forEach((r, i) => expectClose(got[i], alone(layer, r)));
      await b.close();
      const e = await b.run(rs[0].input).then(() => undefined, (err: unknown) => err);
      expect(e).toBeInstanceOf(BatcherClosedError);
      expect(e).not.toBeInstanceOf(RangeError);
    });

    test('close does not wait out maxDelayMs and clears the timer it armed', async () => {
      const layer = new RNN({ inputSize: 2, hiddenSize: 2 });
      // The Batcher's own timer is followed: counting the process's active timers raced with the
      // test runner's, which come and go.
      const set = jest.spyOn(global, 'setTimeout');
      const clear = jest.spyOn(global, 'clearTimeout');
      try {
        const b = new Batcher(layer, { maxDelayMs: 60_000 });
        const p = b.run(Tensor.zeros([2, 2]));
        const armed = set.mock.calls.flatMap((c, i) => (typeof c[1] === 'number' && c[1] > 59_000 ? [i] : []));
        expect(armed).toHaveLength(1);
        const timer = set.mock.results[armed[0]].value as NodeJS.Timeout;
        expect(timer.hasRef()).toBe(true);
        await b.close();
        await p;
        expect(clear).toHaveBeenCalledWith(timer);
      } finally {
        set.mockRestore();
        clear.mockRestore();
      }
      await new Batcher(layer).close();
    });
  });

  describe('the batched forward throws', () => {
    test('every request of that batch rejects with its error; the Batcher keeps working', async () => {
      const layer = new GatedLSTM({ inputSize: 3, hiddenSize: 4, seed: 60 });
      const b = new Batcher(layer, { maxDelayMs: 0 });
      const rs = requests(layer, 3, 6, 61);
      const failure = new Error('backend failed');
      layer.failWith = failure;
      const runs = rs.map((r) => b.run(r.input, { h0: r.h0, c0: r.c0 }));
      for (const p of runs) await expect(p).rejects.toBe(failure);
      const got = await runAll(b, rs);
      rs.forEach((r, i) => expectClose(got[i], alone(layer, r)));
      expect(b.stats()).toEqual({ requests: 6, batches: 2, meanBatch: 3, queued: 0 });
      await b.close();
    });
  });
});
