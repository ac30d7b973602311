// npm run bench:serve [-- --duration 10 --connections 1,16,64 --warmup 30 --body raw|json --out bench/RESULTS.md]
// The example service's load test, on 127.0.0.1 only: the service as a child process (a 2-layer
// LSTM 256 on 64 inputs, random weights), with and without the Batcher, under autocannon at each
// number of concurrent clients for a fixed time. Writes the "Serving" section of RESULTS.md (the
// rest of the file kept) and prints it. Every case is bounded in time: about 2.5 minutes in all by default.
// The warm-up runs at the most clients: under that load the Batcher's service climbs in RSS for
// 20-30 s, then levels off (its V8 heap and external memory stay flat meanwhile: native memory,
// most likely the addon's per-thread scratch and buffer pool growing to the largest batches), so
// RSS is judged after it.
import { type ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import autocannon from 'autocannon';
import { LSTM, saveSafetensors } from 'cellscan';
import { describeMachine } from './machine';
import { SECTION_OUT_FLAG } from './options';
import { placeSection } from './sections';
import { type ServeCase, type ServeRun, renderServing } from './serve-report';

const MAIN = path.resolve(__dirname, '..', 'examples', 'serve', 'main.js');
const INPUT = 64;
const HIDDEN = 256;
const LAYERS = 2;
const MAX_T = 48;
const POOL = 256;

interface Options {
  seconds: number;
  warmup: number;
  connections: number[];
  body: 'raw' | 'json';
  out: string;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '30' },
      connections: { type: 'string', default: '1,16,64' },
      body: { type: 'string', default: 'raw' },
      out: SECTION_OUT_FLAG,
    },
  });
  const seconds = Number(values.duration);
  const warmup = Number(values.warmup);
  const connections = values.connections.split(',').map(Number);
  if (!(seconds > 0 && seconds <= 60)) throw new Error(`--duration must be seconds in (0, 60], got ${values.duration}`);
  if (!(warmup >= 0 && warmup <= 120)) throw new Error(`--warmup must be seconds in [0, 120], got ${values.warmup}`);
  if (!connections.every((c) => Number.isInteger(c) && c >= 1 && c <= 1024)) throw new Error(`--connections must be integers in 1..1024, got ${values.connections}`);
  if (values.body !== 'raw' && values.body !== 'json') throw new Error(`--body must be raw or json, got ${values.body}`);
  return { seconds, warmup, connections, body: values.body, out: values.out };
}

/** Request bodies with T uniform in 1..MAX_T, from a fixed seed so every run sends the same ones. */
function bodies(kind: 'raw' | 'json'): Buffer[] {
  let s = 12345;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: POOL }, () => {
    const T = 1 + Math.floor(next() * MAX_T);
    const x = Float32Array.from({ length: T * INPUT }, () => 2 * next() - 1);
    if (kind === 'raw') return Buffer.from(x.buffer);
    const rows = Array.from({ length: T }, (_, t) => Array.from(x.subarray(t * INPUT, (t + 1) * INPUT)));
    return Buffer.from(JSON.stringify({ input: rows }));
  });
}

function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  return kb / 1024;
}

interface Child {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

function startService(model: string, batcher: boolean): Promise<Child> {
  const args = [MAIN, '--model', model, '--port', '0', '--host', '127.0.0.1', ...(batcher ? [] : ['--no-batcher'])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ proc, url: m[1], exited });
    });
    void exited.then((code) => reject(new Error(`the service exited (${code}) before listening: ${out}`)));
  });
}

/** Sequences per forward call so far (the service's batch-size histogram): [sum, count]. */
async function batchTotals(url: string): Promise<[number, number]> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return [read('cellscan_forward_batch_size_sum'), read('cellscan_forward_batch_size_count')];
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function load(url: string, connections: number, seconds: number, pool: Buffer[], kind: 'raw' | 'json') {
  let i = 0;
  const latencies: number[] = [];
  const run = autocannon({
    url: `${url}/v1/forward`,
    connections,
    duration: seconds,
    timeout: 10,
    method: 'POST',
    headers: { 'content-type': kind === 'raw' ? 'application/octet-stream' : 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: pool[i++ % pool.length] }) }],
  });
  // autocannon's own histogram keeps whole milliseconds; these are the float times of every answer.
  run.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  const result = await run;
  const sorted = Float64Array.from(latencies).sort();
  return { result, sorted };
}

/** One service under test, started and warmed up, its RSS watched from then on. */
interface Subject {
  batcher: boolean;
  child: Child;
  pid: number;
  health: { backend: string; threads: number };
  rssFresh: number;
  rssStart: number;
  rssMax: number;
  sampler: NodeJS.Timeout;
}

async function launch(model: string, batcher: boolean, o: Options, pool: Buffer[]): Promise<Subject> {
  const child = await startService(model, batcher);
  const pid = child.proc.pid!;
  const health = (await (await fetch(`${child.url}/healthz`)).json()) as Subject['health'];
  console.error(`${batcher ? 'Batcher' : 'no Batcher'}: service ${pid} at ${child.url}, warm-up ${o.warmup} s`);
  const rssFresh = rssMiB(pid);
  if (o.warmup > 0) await load(child.url, Math.max(...o.connections), o.warmup, pool, o.body);
  const rssStart = rssMiB(pid);
  const s: Subject = { batcher, child, pid, health, rssFresh, rssStart, rssMax: rssStart, sampler: undefined! };
  s.sampler = setInterval(() => (s.rssMax = Math.max(s.rssMax, rssMiB(pid))), 250);
  return s;
}

async function measureCase(s: Subject, connections: number, o: Options, pool: Buffer[]): Promise<ServeCase> {
  const before = await batchTotals(s.child.url);
  const rssStart = rssMiB(s.pid);
  const { result, sorted } = await load(s.child.url, connections, o.seconds, pool, o.body);
  const after = await batchTotals(s.child.url);
  const c: ServeCase = {
    batcher: s.batcher,
    connections,
    seconds: result.duration,
    requests: sorted.length,
    perSecond: sorted.length / result.duration,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    meanBatch: (after[0] - before[0]) / Math.max(1, after[1] - before[1]),
    rssStartMiB: rssStart,
    rssEndMiB: rssMiB(s.pid),
  };
  console.error(`  ${s.batcher ? 'Batcher' : 'no Batcher'}, ${connections} clients: ${c.perSecond.toFixed(0)} req/s, p50 ${c.p50.toFixed(2)} ms, ` +
    `p99 ${c.p99.toFixed(2)} ms, ${c.errors + c.timeouts} errors, ${c.non2xx} non-2xx, mean batch ${c.meanBatch.toFixed(1)}, RSS ${c.rssEndMiB.toFixed(0)} MiB`);
  return c;
}

/** SIGTERM (the service drains) and what its RSS did. */
async function finish(s: Subject): Promise<ServeRun['modes'][number]> {
  clearInterval(s.sampler);
  const rssEnd = rssMiB(s.pid);
  s.child.proc.kill('SIGTERM');
  const exitCode = await s.child.exited;
  return { batcher: s.batcher, rssFreshMiB: s.rssFresh, rssStartMiB: s.rssStart, rssEndMiB: rssEnd, rssMaxMiB: Math.max(s.rssMax, rssEnd), exitCode };
}

async function main(): Promise<void> {
  const o = readOptions();
  if (!fs.existsSync(MAIN)) throw new Error(`the example service is not built (${MAIN}); run \`npm run build\``);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cellscan-bench-serve-'));
  try {
    const model = path.join(dir, 'lstm.safetensors');
    fs.writeFileSync(model, saveSafetensors(new LSTM({ inputSize: INPUT, hiddenSize: HIDDEN, numLayers: LAYERS, seed: 1 }).stateDict()));
    const pool = bodies(o.body);
    const machine = describeMachine();
    // Both services stay up and take turns, case by case: a slow spell of the shared machine then
    // falls on both alike rather than on whichever mode ran in it. The idle one only holds memory.
    const subjects = [await launch(model, true, o, pool), await launch(model, false, o, pool)];
    const cases: ServeCase[] = [];
    for (const connections of o.connections) {
      for (const s of subjects) cases.push(await measureCase(s, connections, o, pool));
    }
    const modes = [];
    for (const s of subjects) modes.push(await finish(s));
    const run: ServeRun = {
      machine,
      backend: subjects[0].health.backend,
      threads: subjects[0].health.threads,
      model: `LSTM, ${LAYERS} layers, hidden ${HIDDEN}, input ${INPUT}`,
      body: o.body,
      maxSteps: MAX_T,
      seconds: o.seconds,
      warmupSeconds: o.warmup,
      cases,
      modes,
    };
    const section = renderServing(run);
    const before = fs.existsSync(o.out) ? fs.readFileSync(o.out, 'utf8') : '# cellscan benchmark results\n';
    fs.writeFileSync(o.out, placeSection(before, section));
    console.log(section);
    console.log(`(written into ${path.resolve(o.out)})`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench:serve: ${(e as Error).message}`);
  process.exitCode = 1;
});
