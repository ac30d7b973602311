// node dist/bench/queue.js [--redis URL] [--rounds 3] [--sequences 1600] [--hidden 128,512] [--out bench/RESULTS.md]
//
// InferenceQueue past one process (SPEC §10, issue 13) on the issue's workload: 1600 sequences,
// T 1..40, inputSize 128, a 2-layer LSTM (hidden 128; more sizes with --hidden), shards of 64,
// real `cellscan worker` processes of 1 thread each on a redis-server of the benchmark's own (or
// --redis), the producer on the same machine.
//   - throughput with one worker and with two, in alternating phases (a slow spell of the machine
//     falls on both), beside the same shards forwarded in this process on 1 thread, with the CPU
//     time each process spent per run (where the cores went);
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
import { positive, SECTION_OUT_FLAG } from './options';
import { RedisServer } from './redis-server';
import { placeSection } from './sections';

const HEADING = '## Past one machine: InferenceQueue on BullMQ/Redis';
const CLI = path.resolve(__dirname, '..', 'cli.js');
const I = 128;
const SHARD = 64;

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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU time (user + system, ms) a process has used so far (Linux /proc), or NaN elsewhere. */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

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

interface Throughput {
  hidden: number;
  localMs: number;
  times: Record<1 | 2, number[]>;
  /** CPU ms per run: this process (the producer), redis-server, the workers together. */
  cpu: Record<1 | 2, { producer: number; redis: number; workers: number }>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      redis: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      sequences: { type: 'string', default: '1600' },
      hidden: { type: 'string', default: '128' },
      out: SECTION_OUT_FLAG,
    },
  });
  const rounds = positive('rounds', values.rounds!, true);
  const n = positive('sequences', values.sequences!, true);
  const hiddens = values.hidden!.split(',').map((h) => positive('hidden', h, true));
  const own = values.redis ? undefined : await RedisServer.start();
  const url = values.redis ?? own!.url;
  const queue = `bench-${process.pid}`;
  const inputs = sequences(n);
  const q = new InferenceQueue({ connection: url, name: queue });
  const started: Worker[] = [];
  const start = async () => {
    const w = await Worker.start(url, queue);
    started.push(w);
    return w;
  };
  setNumThreads(1);
  const order = inputs.map((_, k) => k).sort((a, b) => inputs[b].shape[0] - inputs[a].shape[0]);

  /** The shards as the queue makes them, one batched forward each, in this process on 1 thread. */
  const local = async (layer: LSTM) => {
    const t0 = performance.now();
    for (let s = 0; s < n; s += SHARD) {
      const ids = order.slice(s, s + SHARD);
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

  /** One worker and two, alternating; each phase warms up (the model load) before its timed runs. */
  const throughput = async (hidden: number): Promise<Throughput> => {
    const layer = new LSTM({ inputSize: I, hiddenSize: hidden, numLayers: 2, seed: 1 });
    await local(layer);
    const localMs = median([await local(layer), await local(layer), await local(layer)]);
    const workers = [await start()];
    const times: Record<1 | 2, number[]> = { 1: [], 2: [] };
    const spent: Record<1 | 2, number[][]> = { 1: [], 2: [] };
    for (let r = 0; r < rounds; r++) {
      for (const count of r % 2 === 0 ? ([1, 2] as const) : ([2, 1] as const)) {
        if (count === 2 && workers.length === 1) workers.push(await start());
        if (count === 1 && workers.length === 2) await workers.pop()!.stop();
        await q.run(layer, inputs);
        for (let k = 0; k < 2; k++) {
          const pids = [process.pid, own?.pid, ...workers.map((w) => w.proc.pid)];
          const before = pids.map(cpuMs);
          const t0 = performance.now();
          await q.run(layer, inputs);
          times[count].push(performance.now() - t0);
          spent[count].push(pids.map((p, i) => cpuMs(p) - before[i]));
        }
        console.log(`hidden ${hidden}, round ${r + 1}, ${count} worker(s): ${times[count].slice(-2).map((t) => t.toFixed(0)).join(', ')} ms`);
      }
    }
    await Promise.all(workers.map((w) => w.stop()));
    const cpu = (count: 1 | 2) => {
      const runs = spent[count];
      const mean = (f: (s: number[]) => number) => runs.reduce((a, s) => a + f(s), 0) / runs.length;
      return { producer: mean((s) => s[0]), redis: mean((s) => s[1]), workers: mean((s) => s.slice(2).reduce((a, b) => a + b, 0)) };
    };
    return { hidden, localMs, times, cpu: { 1: cpu(1), 2: cpu(2) } };
  };

  try {
    const measured: Throughput[] = [];
    for (const hidden of hiddens) measured.push(await throughput(hidden));

    // Two workers, one killed mid-shard at a quarter of the shards: frozen at the start of its
    // next shard, checked to hold it still (its job unfinished), then SIGKILLed.
    const layer = new LSTM({ inputSize: I, hiddenSize: hiddens[0], numLayers: 2, seed: 1 });
    const [a, b] = [await start(), await start()];
    await q.run(layer, inputs);
    const probe = new Redis(url);
    const shards = Math.ceil(n / SHARD);
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
    for (let i = 0; i < 150 && !b.lines.some(redoLine); i++) await sleep(100);
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
    const settle = () => sleep(4500);
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
    const perS = (ms: number) => (n / (ms / 1000)).toFixed(0);
    const c = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(0));
    const lines = [
      HEADING,
      '',
      `Measured ${machine.date} by \`node dist/bench/queue.js --rounds ${rounds} --sequences ${n} --hidden ${hiddens.join(',')}\`: ${n} sequences ` +
        `(T 1..40, inputSize ${I}), 2-layer LSTMs, shards of ${SHARD}, \`cellscan worker --threads 1\` processes (backend ${currentBackend()} in this ` +
        `process) on a redis-server of the benchmark's own (loopback, persistence off); the producer on the same cores. Each phase of one or ` +
        `two workers warms up with a run, then times ${2} runs; phases alternate over ${rounds} rounds. CPU: what each process used per run ` +
        `(user + system), from /proc.`,
      '',
      `- CPU: ${machine.cpu}, ${machine.cores} logical cores; avx512f ${machine.cpuFlags.includes('avx512f') ? 'present' : 'absent'}; Node ${machine.node}; ` +
        `load average (1 min) at the start ${machine.loadAverage.toFixed(2)} (other work on the same cores)`,
      '',
      '| hidden | in this process, 1 thread | 1 worker | 2 workers | 2 over 1 | CPU per run, 1 worker: producer / Redis / worker | 2 workers: producer / Redis / workers |',
      '| ---: | ---: | ---: | ---: | ---: | --- | --- |',
    ];
    for (const m of measured) {
      const one = median(m.times[1]);
      const two = median(m.times[2]);
      lines.push(
        `| ${m.hidden} | ${m.localMs.toFixed(0)} ms (${perS(m.localMs)} seq/s) | ${one.toFixed(0)} ms (${perS(one)} seq/s) | ${two.toFixed(0)} ms (${perS(two)} seq/s) | ` +
          `**${(one / two).toFixed(2)}x** | ${c(m.cpu[1].producer)} / ${c(m.cpu[1].redis)} / ${c(m.cpu[1].workers)} ms | ` +
          `${c(m.cpu[2].producer)} / ${c(m.cpu[2].redis)} / ${c(m.cpu[2].workers)} ms |`,
      );
    }
    // How much of the machine the queue's processes had: on a shared machine, two workers can
    // only be faster than one if the cores are there for them.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const cores = (m: Throughput) => (m.cpu[2].producer + m.cpu[2].redis + m.cpu[2].workers) / mean(m.times[2]);
    lines.push(
      '',
      `Cores the producer, Redis and the workers used together while two workers ran: ${measured.map((m) => `${cores(m).toFixed(2)} (hidden ${m.hidden})`).join(', ')} ` +
        `of the machine's ${machine.cores}; the rest went to other work on the same cores.`,
    );
    lines.push(
      '',
      `Each run's times, ms: ${measured.map((m) => `hidden ${m.hidden}: 1 worker ${m.times[1].map((t) => t.toFixed(0)).join(', ')}; 2 workers ${m.times[2].map((t) => t.toFixed(0)).join(', ')}`).join('; ')}.`,
      '',
      `One of two workers SIGKILLed mid-shard at ${Math.ceil(shards / 4)} of ${shards} shards (hidden ${hiddens[0]}): its shard was started again by the other ` +
        `${redoneAt === undefined ? '(never: see the log)' : `${((redoneAt - killed!.at) / 1000).toFixed(1)} s`} after the kill (target: within 10 s; ` +
        `locks of 4 s, stalled checks every 2 s); the run took ${(killRunMs / 1000).toFixed(1)} s; ${results.filter(Boolean).length} of ${n} results back, ` +
        `the largest difference from a local forward of each sequence alone ${worst.toExponential(2)} (target 1e-4).`,
      '',
      `Redis keys before and after 100 more runs (16 sequences in shards of 8; BullMQ's stalled-check lock left out): ` +
        `${keysBefore.length} and ${keysAfter.length}${keysAfter.join() === keysBefore.join() ? ', the same keys' : ''}.`,
    );
    const section = lines.join('\n') + '\n';
    console.log('\n' + section);
    const out = values.out!;
    const before = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '# cellscan benchmark results\n';
    fs.writeFileSync(out, placeSection(before, section));
    console.log(`wrote the "${HEADING.slice(3)}" section of ${out}`);
  } finally {
    await q.close();
    await Promise.all(started.map((w) => w.stop()));
    await own?.stop();
  }
}

main().catch((e) => {
  console.error(`bench/queue: ${(e as Error).message}`);
  process.exit(1);
});
