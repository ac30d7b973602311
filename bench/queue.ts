// node dist/bench/queue.js [--redis URL] [--rounds 3] [--sequences 1600] [--out bench/RESULTS.md]
//
// InferenceQueue past one process (SPEC §10, issue 13) on the issue's workload: 1600 sequences,
// T 1..40, a 2-layer LSTM 128 (inputSize 128), shards of 64, real `cellscan worker` processes of
// 1 thread each on a redis-server of the benchmark's own (or --redis).
//   - throughput with one worker and with two, in alternating phases (a slow spell of the machine
//     falls on both), beside the same shards forwarded in this process on 1 thread;
//   - two workers, one SIGKILLed mid-shard at 25% of the shards: how long until the other takes
//     the shard up, the run's time, and every result against a local forward;
//   - the key count before and after 100 small runs.
import { type ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createInterface } from 'readline';
import { parseArgs } from 'util';
import Redis from 'ioredis';
import { currentBackend, InferenceQueue, LSTM, setNumThreads, Tensor } from 'cellscan';
import { describeMachine } from './machine';
import { positive } from './options';
import { startRedis } from './redis-server';
import { placeSection } from './sections';

const HEADING = '## Past one machine: InferenceQueue on BullMQ/Redis';
const CLI = path.resolve(__dirname, '..', 'cli.js');
const I = 128;

/** Deterministic sequences, T cycling through 1..40. */
function sequences(n: number): Tensor[] {
  let state = 12345;
  return Array.from({ length: n }, (_, k) => {
    const T = 1 + (k % 40);
    const x = new Float32Array(T * I);
    for (let i = 0; i < x.length; i++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      x[i] = state / 2 ** 31 - 1;
    }
    return new Tensor(x, [T, I]);
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

class Worker {
  readonly proc: ChildProcess;
  readonly lines: { at: number; text: string }[] = [];
  private listeners: ((text: string) => void)[] = [];

  constructor(url: string, queue: string) {
    this.proc = spawn(process.execPath, [CLI, 'worker', '--redis', url, '--queue', queue, '--threads', '1', '--verbose'], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: this.proc.stdout! }).on('line', (text) => {
      this.lines.push({ at: Date.now(), text });
      for (const l of this.listeners) l(text);
    });
  }

  next(re: RegExp): Promise<string> {
    return new Promise((resolve) => {
      const l = (text: string) => {
        if (!re.test(text)) return;
        this.listeners = this.listeners.filter((x) => x !== l);
        resolve(text);
      };
      this.listeners.push(l);
    });
  }

  static async start(url: string, queue: string): Promise<Worker> {
    const w = new Worker(url, queue);
    await w.next(/serving queue/);
    return w;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      redis: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      sequences: { type: 'string', default: '1600' },
      out: { type: 'string', default: path.join('bench', 'RESULTS.md') },
    },
  });
  const rounds = positive('rounds', values.rounds!, true);
  const n = positive('sequences', values.sequences!, true);
  const own = values.redis ? undefined : await startRedis();
  const url = values.redis ?? own!.url;
  const queue = `bench-${process.pid}`;
  const layer = new LSTM({ inputSize: I, hiddenSize: 128, numLayers: 2, seed: 1 });
  const inputs = sequences(n);
  const q = new InferenceQueue({ connection: url, name: queue });
  const started: Worker[] = [];
  const start = async () => {
    const w = await Worker.start(url, queue);
    started.push(w);
    return w;
  };
  try {
    // In this process, 1 thread: the shards as the queue makes them, one batched forward each.
    setNumThreads(1);
    const order = inputs.map((_, k) => k).sort((a, b) => inputs[b].shape[0] - inputs[a].shape[0]);
    const local = async () => {
      const t0 = performance.now();
      for (let s = 0; s < n; s += 64) {
        const ids = order.slice(s, s + 64);
        const T = inputs[ids[0]].shape[0];
        const x = new Float32Array(T * ids.length * I);
        ids.forEach((k, b) => {
          const d = inputs[k].data as Float32Array;
          for (let t = 0; t < inputs[k].shape[0]; t++) x.set(d.subarray(t * I, (t + 1) * I), (t * ids.length + b) * I);
        });
        await layer.forwardAsync(new Tensor(x, [T, ids.length, I]), { lengths: ids.map((k) => inputs[k].shape[0]) });
      }
      return performance.now() - t0;
    };
    await local();
    const localMs = median([await local(), await local(), await local()]);

    // One worker and two, alternating; each phase warms up (the model load) before its timed runs.
    const a = await start();
    let b: Worker | undefined;
    const times: Record<1 | 2, number[]> = { 1: [], 2: [] };
    for (let r = 0; r < rounds; r++) {
      for (const count of r % 2 === 0 ? ([1, 2] as const) : ([2, 1] as const)) {
        if (count === 2 && !b) b = await start();
        if (count === 1 && b) {
          await b.stop();
          b = undefined;
        }
        await q.run(layer, inputs);
        for (let k = 0; k < 2; k++) {
          const t0 = performance.now();
          await q.run(layer, inputs);
          times[count].push(performance.now() - t0);
        }
        console.log(`round ${r + 1}, ${count} worker(s): ${times[count].slice(-2).map((t) => t.toFixed(0)).join(', ')} ms`);
      }
    }
    if (!b) b = await start();

    // Two workers, one killed mid-shard at a quarter of the shards: frozen at the start of its
    // next shard, checked to hold it still (its job unfinished), then SIGKILLed.
    const probe = new Redis(url);
    const shards = Math.ceil(n / 64);
    let killed: { job: string; at: number } | undefined;
    let killer: Promise<void> | undefined;
    const killMidShard = async () => {
      for (;;) {
        const job = (await a.next(/ start forward \S+$/)).split(' ').pop()!;
        a.proc.kill('SIGSTOP');
        if ((await probe.exists(`bull:${queue}:${job}`)) === 1) {
          a.proc.kill('SIGKILL');
          killed = { job, at: Date.now() };
          return;
        }
        a.proc.kill('SIGCONT');
      }
    };
    let shardsDone = 0;
    const t0 = performance.now();
    const results = await q.run(layer, inputs, {
      onProgress: () => {
        shardsDone++;
        if (!killer && shardsDone >= shards / 4) killer = killMidShard();
      },
    });
    const killRunMs = performance.now() - t0;
    await killer;
    // The other worker starts the shard again once the lock lapses, even when the run already has
    // its result (written before the kill, and found by the run's own poll): wait for that too.
    const redoLine = (l: { text: string }) => l.text.endsWith(`start forward ${killed!.job}`);
    for (let i = 0; i < 150 && !b.lines.some(redoLine); i++) await new Promise((r) => setTimeout(r, 100));
    const redoneAt = b.lines.find(redoLine)?.at;
    let worst = 0;
    inputs.forEach((x, k) => {
      const T = x.shape[0];
      const ref = layer.forward(new Tensor(x.data, [T, 1, I]));
      const pairs: [Tensor, Tensor][] = [[results[k].output, ref.output], [results[k].hN, ref.hN], [results[k].cN!, ref.cN!]];
      for (const [got, want] of pairs) for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i] - want.data[i]));
    });

    if (redoneAt === undefined) console.log(`the killed shard ${killed!.job} was not seen again; the other worker's last lines:\n${b.lines.slice(-8).map((l) => l.text).join('\n')}`);

    // 100 small runs against a Redis key count. BullMQ's own bookkeeping comes and goes (the stalled
    // check's lock with its 2 s expiry, its set of the jobs active at a check, gone at the next one,
    // and the marker that wakes workers, gone when an idle one pops it): counted after a pause that
    // outlasts the last two, with the lock left out.
    const settle = () => new Promise((r) => setTimeout(r, 4500));
    const keys = async () => (await probe.keys('*')).filter((k) => !k.endsWith(':stalled-check')).sort();
    const small = inputs.slice(0, 16);
    await q.run(layer, small, { shardSize: 8 });
    await settle();
    const keysBefore = await keys();
    for (let i = 0; i < 100; i++) await q.run(layer, small, { shardSize: 8 });
    await settle();
    const keysAfter = await keys();
    if (keysAfter.join() !== keysBefore.join()) console.log(`keys before: ${keysBefore.join(' ')}\nkeys after: ${keysAfter.join(' ')}`);
    probe.disconnect();

    const machine = describeMachine();
    const seqPerS = (ms: number) => (n / (ms / 1000)).toFixed(0);
    const one = median(times[1]);
    const two = median(times[2]);
    const lines = [
      HEADING,
      '',
      `Measured ${machine.date} by \`node dist/bench/queue.js --rounds ${rounds} --sequences ${n}\`: ${n} sequences (T 1..40, ` +
        `inputSize 128), a 2-layer LSTM 128, shards of 64, \`cellscan worker --threads 1\` processes (backend ${currentBackend()} in this process) ` +
        `on a redis-server of the benchmark's own (loopback, persistence off); the producer in the same machine.`,
      '',
      `- CPU: ${machine.cpu}, ${machine.cores} logical cores; avx512f ${machine.cpuFlags.includes('avx512f') ? 'present' : 'absent'}; Node ${machine.node}; load average (1 min) at the start ${machine.loadAverage.toFixed(2)}`,
      '',
      '| | median of a run | sequences/s | per run, ms |',
      '| --- | ---: | ---: | --- |',
      `| these shards in this process, 1 thread | ${localMs.toFixed(0)} ms | ${seqPerS(localMs)} | |`,
      `| 1 worker | ${one.toFixed(0)} ms | ${seqPerS(one)} | ${times[1].map((t) => t.toFixed(0)).join(', ')} |`,
      `| 2 workers | ${two.toFixed(0)} ms | ${seqPerS(two)} | ${times[2].map((t) => t.toFixed(0)).join(', ')} |`,
      '',
      `Two workers over one: **${(one / two).toFixed(2)}x** (target 1.6x).`,
      '',
      `One of two workers SIGKILLed mid-shard at ${Math.ceil(shards / 4)} of ${shards} shards: its shard was started again by the other ` +
        `${redoneAt === undefined ? '(never: see the log)' : `${((redoneAt - killed!.at) / 1000).toFixed(1)} s`} after the kill (target: within 10 s; ` +
        `locks of 4 s, stalled checks every 2 s); the run took ${(killRunMs / 1000).toFixed(1)} s; ${results.filter(Boolean).length} of ${n} results back, ` +
        `the largest difference from a local forward of each sequence alone ${worst.toExponential(2)} (target 1e-4).`,
      '',
      `Redis keys before and after 100 more runs (16 sequences in shards of 8; BullMQ's stalled-check lock left out): ` +
        `${keysBefore.length} and ${keysAfter.length}${keysAfter.join() === keysBefore.join() ? ', the same keys' : ''}.`,
    ];
    const section = lines.join('\n') + '\n';
    console.log('\n' + section);
    const out = values.out!;
    const before = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '# cellscan benchmark results\n';
    fs.writeFileSync(out, placeSection(before, section));
    console.log(`wrote the "${HEADING.slice(3)}" section of ${out}`);
  } finally {
    await q.close();
    await Promise.all(started.map((w) => w.stop()));
    own?.stop();
  }
}

main().catch((e) => {
  console.error(`bench/queue: ${(e as Error).message}`);
  process.exit(1);
});
