// InferenceQueue against a real Redis and real `cellscan worker` processes (SPEC §10): results
// equal to a local forward, a worker SIGKILLed mid-shard loses nothing and duplicates nothing, a
// SIGTERMed one finishes its shard first, and repeated runs leave Redis as they found it.
import Redis from 'ioredis';
import { GRU, InferenceQueue, LSTM, RNN, Tensor } from '../src';
import type { RecurrentLayer } from '../src/layers/recurrent';
import type { InferenceResult } from '../src/queue/inference-queue';
import { Rng } from '../src/random';
import { describeWithRedis, suiteRedis, uniqueQueue } from './helpers/redis';
import { WorkerProcess } from './helpers/workers';

/** `n` sequences of `I` features, T cycling through 1..maxT (0..maxT with `withEmpty`). */
function sequences(n: number, I: number, seed: number, maxT = 40, withEmpty = false): Tensor[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, k) => {
    const T = withEmpty ? k % (maxT + 1) : 1 + (k % maxT);
    const x = new Float32Array(T * I);
    rng.fillUniform(x, -1, 1);
    return new Tensor(x, [T, I]);
  });
}

function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

/** The largest difference between each result and a forward of its sequence alone, here. */
function worstAgainstLocal(layer: RecurrentLayer, inputs: Tensor[], results: InferenceResult[]): number {
  expect(results).toHaveLength(inputs.length);
  let worst = 0;
  inputs.forEach((x, k) => {
    const [T, I] = x.shape;
    const r = results[k];
    if (T === 0) {
      expect(r.output.shape[0]).toBe(0);
      return;
    }
    const local = layer.forward(new Tensor(x.data, layer.batchFirst ? [1, T, I] : [T, 1, I]));
    const states = local.hN.shape[0];
    worst = Math.max(worst, maxDiff(r.output, new Tensor(local.output.data, [T, local.output.shape[2]])));
    worst = Math.max(worst, maxDiff(r.hN, new Tensor(local.hN.data, [states, local.hN.shape[2]])));
    if (local.cN) worst = Math.max(worst, maxDiff(r.cN!, new Tensor(local.cN.data, [states, local.cN.shape[2]])));
  });
  return worst;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The shards a worker has taken and not finished, by what it printed, oldest first (a worker holds
 * one more than it computes: the next shard's input is fetched while one computes).
 */
function shardsInHand(w: WorkerProcess): string[] {
  const held: string[] = [];
  for (const { text } of w.out) {
    const m = / (start|done|skipped) forward ([^\s:]+)/.exec(text);
    if (!m) continue;
    if (m[1] === 'start') held.push(m[2]);
    else if (held.includes(m[2])) held.splice(held.indexOf(m[2]), 1);
  }
  return held;
}

/** BullMQ's key of a job: present until the job completes (completed jobs are removed at once). */
const jobKey = (queue: string, job: string) => `bull:${queue}:${job}`;

describeWithRedis('InferenceQueue with cellscan worker processes', () => {
  let redis: { url: string; release(): Promise<void> };
  let probe: Redis;
  const workers: WorkerProcess[] = [];
  const queues: InferenceQueue[] = [];
  const startWorker = async (url: string, queue: string) => {
    const w = await WorkerProcess.start(url, queue);
    workers.push(w);
    return w;
  };
  const open = (url: string, name: string) => {
    const q = new InferenceQueue({ connection: url, name });
    queues.push(q);
    return q;
  };

  beforeAll(async () => {
    redis = await suiteRedis();
    probe = new Redis(redis.url);
  });
  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await Promise.all(workers.map((w) => w.stop()));
    probe?.disconnect();
    await redis?.release();
  });

  test('1600 sequences through two workers, one SIGKILLed mid-shard after its second: every result once, each equal to a local forward', async () => {
    const queue = uniqueQueue('kill');
    const [a, b] = await Promise.all([startWorker(redis.url, queue), startWorker(redis.url, queue)]);
    const layer = new LSTM({ inputSize: 128, hiddenSize: 128, numLayers: 2, seed: 11 });
    const inputs = sequences(1600, 128, 5);
    const q = open(redis.url, queue);

    // Once A has finished two shards, it is frozen at whatever it is doing and its stdout read to the end. If
    // it is inside a shard (started, not done, its job still unfinished in BullMQ) it is killed
    // there; if it is between shards it runs on for a moment and is frozen again. Acting on the
    // "start" line instead lost the race on fast machines: short shards ended before the signal.
    let killed: { job: string; at: number } | undefined;
    const killMidShard = async () => {
      const deadline = Date.now() + 30_000;
      // What each look found, for the message if none catches A inside a shard.
      let looks = 0;
      let heldButFinished = 0;
      while (Date.now() < deadline) {
        looks++;
        a.signal('SIGSTOP');
        await sleep(15);
        // Then through a poll phase, which reads every line A wrote before the stop: on a loaded
        // machine the timer above can fire late, before the pipe is read, and the text is then stale
        // (CI beside other suites saw only shards A had already finished, every time, for 30 s).
        await new Promise((resolve) => setImmediate(resolve));
        for (const job of shardsInHand(a)) {
          if ((await probe.exists(jobKey(queue, job))) !== 1) {
            heldButFinished++;
            continue;
          }
          a.signal('SIGKILL');
          killed = { job, at: Date.now() };
          return;
        }
        a.signal('SIGCONT');
        await sleep(3);
      }
      throw new Error(`worker A was never caught inside a shard in ${looks} looks (${heldButFinished} shards in hand already finished in BullMQ); stdout:\n${a.text()}`);
    };
    // Started by A's own lines, not by the producer's progress: on a loaded machine the results
    // reached the producer so late that A had finished all its shards before a quarter was counted.
    const killer = (async () => {
      while (a.out.filter((l) => / done forward /.test(l.text)).length < 2) await sleep(2);
      await killMidShard();
    })();
    const progress: number[] = [];
    const results = await q.run(layer, inputs, { shardSize: 32, onProgress: (done) => progress.push(done) });
    await killer;

    expect(killed).toBeDefined();
    expect((await a.exited).signal).toBe('SIGKILL');
    expect(a.text()).not.toContain(`done forward ${killed!.job}`);
    // Taken up by B within 10 s of the kill, and delivered once: progress counts every sequence once.
    const redone = await b.waitFor(new RegExp(`start forward ${killed!.job}$`), 15_000);
    expect(redone.at - killed!.at).toBeLessThan(10_000);
    expect(progress[progress.length - 1]).toBe(1600);
    expect(progress.every((d, i) => i === 0 || d > progress[i - 1])).toBe(true);
    expect(worstAgainstLocal(layer, inputs, results)).toBeLessThanOrEqual(1e-4);
    // eslint-disable-next-line no-console
    console.log(`killed mid-shard ${killed!.job}; redone by the other worker ${redone.at - killed!.at} ms later`);
  }, 120_000);

  test('a SIGTERMed worker finishes the shard in hand, delivers it and exits 0', async () => {
    const queue = uniqueQueue('term');
    const w = await startWorker(redis.url, queue);
    // One shard of about 10 GFLOP: long enough on any machine to be frozen inside.
    const layer = new LSTM({ inputSize: 256, hiddenSize: 256, numLayers: 2, seed: 2 });
    const inputs = sequences(256, 256, 9, 40);
    const q = open(redis.url, queue);
    const running = q.run(layer, inputs, { shardSize: 256 });
    const line = await w.waitForNext(/ start forward \S+$/, 30_000);
    const job = line.text.split(' ').pop()!;
    // Frozen mid-shard (its job still unfinished), told to stop, then let go: the signal waits for it.
    w.signal('SIGSTOP');
    expect(await probe.exists(jobKey(queue, job))).toBe(1);
    w.signal('SIGTERM');
    w.signal('SIGCONT');
    const results = await running;
    expect(await w.exited).toEqual({ code: 0, signal: null });
    const text = w.text();
    expect(text.indexOf(`done forward ${job}`)).toBeGreaterThan(text.indexOf('SIGTERM: finishing'));
    expect(text).toMatch(/stopped$/);
    expect(worstAgainstLocal(layer, inputs, results)).toBeLessThanOrEqual(1e-4);
  }, 60_000);

  test('one worker pool serves models of every kind, with empty sequences and batchFirst', async () => {
    const queue = uniqueQueue('kinds');
    await Promise.all([startWorker(redis.url, queue), startWorker(redis.url, queue)]);
    const q = open(redis.url, queue);
    const layers: RecurrentLayer[] = [
      new LSTM({ inputSize: 6, hiddenSize: 8, numLayers: 2, bidirectional: true, projSize: 5, seed: 1 }),
      new GRU({ inputSize: 6, hiddenSize: 7, batchFirst: true, linearBeforeReset: false, seed: 2 }),
      new RNN({ inputSize: 6, hiddenSize: 5, nonlinearity: 'relu', numLayers: 3, residual: true, seed: 3 }),
      new LSTM({ inputSize: 6, hiddenSize: 8, peepholes: true, zoneout: { hidden: 0.2, cell: 0.1 }, seed: 4 }),
    ];
    const inputs = sequences(50, 6, 4, 12, true);
    const all = await Promise.all(layers.map((l) => q.run(l as LSTM, inputs, { shardSize: 16 })));
    layers.forEach((l, i) => expect(worstAgainstLocal(l, inputs, all[i])).toBeLessThanOrEqual(1e-4));
  }, 60_000);

  test('100 runs leave the key count where it started', async () => {
    // A database of its own, so its size counts this queue's keys alone.
    const url = `${redis.url}/9`;
    const queue = uniqueQueue('keys');
    await startWorker(url, queue);
    const q = open(url, queue);
    const db = new Redis(url);
    // BullMQ's own bookkeeping comes and goes between runs, and is no key of any run: the stalled
    // check's lock (every STALLED_INTERVAL_MS), its set of the jobs active at a check (gone at the
    // next check) and the marker that wakes workers (gone when an idle worker pops it). Counted
    // once the last two are gone; the lock is left out.
    const keys = async () => {
      const transient = async () => (await db.exists(`bull:${queue}:stalled`, `bull:${queue}:marker`)) > 0;
      for (let i = 0; i < 80 && (await transient()); i++) await new Promise((r) => setTimeout(r, 100));
      return (await db.keys('*')).filter((k) => !k.endsWith(':stalled-check')).sort();
    };
    try {
      const models = [new LSTM({ inputSize: 4, hiddenSize: 6, seed: 1 }), new GRU({ inputSize: 4, hiddenSize: 5, seed: 2 })];
      const inputs = sequences(8, 4, 3, 5);
      await q.run(models[0], inputs, { shardSize: 4 }); // BullMQ makes its queue's fixed keys here
      const before = await keys();
      for (let i = 0; i < 100; i++) await q.run(models[i % 2], inputs, { shardSize: 4 });
      const after = await keys();
      expect(after).toEqual(before);
      expect(after.filter((k) => k.startsWith('cellscan:'))).toEqual([]);
    } finally {
      db.disconnect();
    }
  }, 120_000);
});
