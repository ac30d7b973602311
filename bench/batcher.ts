// node dist/bench/batcher.js [--requests 512 --rounds 5 --threads 2 --backend native]
// SPEC §9's Batcher against serving one request at a time: `requests` concurrent single sequences
// (T uniform in 1..48, seeded) through a 2-layer LSTM (inputSize 64, hiddenSize 256). The baseline
// awaits forwardAsync with B = 1 for each request in turn; the Batcher gets them all at once, as a
// service under load would. Target: >= 4x the baseline's requests/s, results equal within 1e-4.
import { parseArgs } from 'util';
import { Batcher, LSTM, Tensor, setNumThreads, useBackend } from 'cellscan';
import { positive } from './options';
import { sgemmGflops } from './roofline';

interface Result {
  output: Tensor;
  hN: Tensor;
  cN?: Tensor;
}

const TARGET = 4;
const TOL = 1e-4;
const MAX_T = 48;

function options(): { requests: number; rounds: number; threads: number; backend: 'native' | 'wasm' } {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '512' },
      rounds: { type: 'string', default: '5' },
      threads: { type: 'string', default: '2' },
      backend: { type: 'string', default: 'native' },
    },
  });
  const int = (name: string, v: string) => positive(name, v, true);
  if (values.backend !== 'native' && values.backend !== 'wasm') {
    throw new RangeError(`--backend must be native or wasm, got ${JSON.stringify(values.backend)}`);
  }
  return { requests: int('requests', values.requests), rounds: int('rounds', values.rounds), threads: int('threads', values.threads), backend: values.backend };
}

/** mulberry32: the request mix repeats from run to run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function maxDiff(a: Tensor, b: Tensor): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return a.data.length === b.data.length ? m : Infinity;
}

async function oneAtATime(layer: LSTM, inputs: Tensor[]): Promise<Result[]> {
  const out: Result[] = [];
  for (const x of inputs) {
    const r = await layer.forwardAsync(new Tensor(x.data, [x.shape[0], 1, layer.inputSize]));
    out.push({ output: r.output, hN: r.hN, cN: r.cN });
  }
  return out;
}

async function batched(layer: LSTM, inputs: Tensor[]): Promise<{ results: Result[]; batches: number; meanBatch: number }> {
  const batcher = new Batcher(layer);
  const results = await Promise.all(inputs.map((x) => batcher.run(x)));
  await batcher.close();
  const { batches, meanBatch } = batcher.stats();
  return { results, batches, meanBatch };
}

/**
 * All the requests in one forwardAsync, packed beforehand (longest first, time-major, with lengths):
 * no queueing, packing or splitting, but one batch of every length at once.
 */
function packAll(layer: LSTM, inputs: Tensor[]): { x: Tensor; lengths: Int32Array } {
  const I = layer.inputSize;
  const sorted = [...inputs].sort((a, b) => b.shape[0] - a.shape[0]);
  const B = sorted.length;
  const T = sorted[0].shape[0];
  const x = new Float32Array(T * B * I);
  sorted.forEach((seq, b) => {
    for (let t = 0; t < seq.shape[0]; t++) x.set(seq.data.subarray(t * I, (t + 1) * I) as Float32Array, (t * B + b) * I);
  });
  return { x: new Tensor(x, [T, B, I]), lengths: Int32Array.from(sorted, (s) => s.shape[0]) };
}

/** FLOPs of one step of one sequence: 2 per weight of the products (SPEC §7's count). */
function flopsPerStep(layer: LSTM): number {
  let weights = 0;
  for (let l = 0; l < layer.numLayers; l++) {
    const I = l === 0 ? layer.inputSize : layer.hiddenSize;
    weights += 4 * layer.hiddenSize * (I + layer.hiddenSize);
  }
  return 2 * weights;
}

async function main(): Promise<void> {
  const o = options();
  useBackend(o.backend);
  setNumThreads(o.threads);
  const layer = new LSTM({ inputSize: 64, hiddenSize: 256, numLayers: 2, seed: 1 });
  const rand = seeded(42);
  const inputs = Array.from({ length: o.requests }, () => {
    const T = 1 + Math.floor(rand() * MAX_T);
    return new Tensor(Float32Array.from({ length: T * 64 }, () => rand() * 2 - 1), [T, 64]);
  });
  const steps = inputs.reduce((n, x) => n + x.shape[0], 0);
  console.log(`Batcher vs one request at a time: ${o.requests} requests, T uniform 1..${MAX_T} (${steps} steps), ` +
    `2-layer LSTM 64 -> 256, ${o.backend}, ${o.threads} threads, ${o.rounds} rounds`);

  // Warm-up, a whole untimed round of each: prepared layers, pools and worker threads exist, and
  // the heap has grown to what a round holds (first touches of fresh pages cost ~10 us per 4 KiB
  // here, so a round that grows it pays for result arrays the steady state reuses).
  await oneAtATime(layer, inputs);
  await batched(layer, inputs);

  const packed = packAll(layer, inputs);
  await layer.forwardAsync(packed.x, { lengths: packed.lengths });
  const single: number[] = [];
  const batch: number[] = [];
  const ceiling: number[] = [];
  // CPU time as well as wall time: on a shared machine a call spread over threads that wait for each
  // other loses more wall time to neighbours than a one-thread B = 1 call, and CPU time shows the work.
  const singleCpu: number[] = [];
  const batchCpu: number[] = [];
  let worst = 0;
  for (let round = 0; round < o.rounds; round++) {
    // Alternating which goes first, so neither always follows the other's heat or the neighbours' quiet.
    const order = round % 2 === 0 ? ['single', 'batch'] : ['batch', 'single'];
    let alone: Result[] = [];
    let merged: Result[] = [];
    let stats = { batches: 0, meanBatch: 0 };
    for (const which of order) {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const cpuMs = () => {
        const c = process.cpuUsage(cpu0);
        return (c.user + c.system) / 1000;
      };
      if (which === 'single') {
        alone = await oneAtATime(layer, inputs);
        single.push((o.requests * 1000) / (performance.now() - t0));
        singleCpu.push(cpuMs());
      } else {
        const r = await batched(layer, inputs);
        batch.push((o.requests * 1000) / (performance.now() - t0));
        batchCpu.push(cpuMs());
        merged = r.results;
        stats = r;
      }
    }
    const t0 = performance.now();
    await layer.forwardAsync(packed.x, { lengths: packed.lengths });
    ceiling.push((o.requests * 1000) / (performance.now() - t0));
    for (let i = 0; i < o.requests; i++) {
      worst = Math.max(worst, maxDiff(merged[i].output, alone[i].output), maxDiff(merged[i].hN, alone[i].hN), maxDiff(merged[i].cN!, alone[i].cN!));
    }
    console.log(`  round ${round + 1}: one at a time ${single[round].toFixed(0)} req/s, Batcher ${batch[round].toFixed(0)} req/s ` +
      `(${(batch[round] / single[round]).toFixed(2)}x; ${stats.batches} batches, mean ${stats.meanBatch.toFixed(1)}); ` +
      `CPU ${singleCpu[round].toFixed(0)} vs ${batchCpu[round].toFixed(0)} ms; all in one call ${ceiling[round].toFixed(0)} req/s`);
  }
  const gflops = (reqPerS: number) => ((reqPerS / o.requests) * steps * flopsPerStep(layer)) / 1e9;
  const ratio = median(batch) / median(single);
  console.log(`median: one at a time ${median(single).toFixed(0)} req/s, Batcher ${median(batch).toFixed(0)} req/s, ` +
    `ratio ${ratio.toFixed(2)}x (target >= ${TARGET}x: ${ratio >= TARGET ? 'met' : 'NOT met'})`);
  console.log(`all ${o.requests} requests packed beforehand into one forwardAsync: ${median(ceiling).toFixed(0)} req/s ` +
    `= ${(median(ceiling) / median(single)).toFixed(2)}x one at a time`);
  // The bound on any batching: the requests' FLOPs at the rate of a large square SGEMM on the same threads.
  const sgemm = o.backend === 'native' ? await sgemmGflops(2048, 2000) : { unavailable: 'n/a on wasm' };
  const bound = 'gflops' in sgemm ? `${((sgemm.gflops * 1e9) / (steps * flopsPerStep(layer) / o.requests)).toFixed(0)} req/s` : sgemm.unavailable;
  console.log(`GFLOP/s (${((steps * flopsPerStep(layer)) / 1e9).toFixed(1)} GFLOP in all): one at a time ${gflops(median(single)).toFixed(0)}, ` +
    `Batcher ${gflops(median(batch)).toFixed(0)}, one call ${gflops(median(ceiling)).toFixed(0)}; ` +
    ('gflops' in sgemm ? `SGEMM 2048³ ${sgemm.gflops.toFixed(0)}, so no batching passes ${bound} ` +
      `= ${((sgemm.gflops / gflops(median(single)))).toFixed(2)}x one at a time` : `SGEMM ${bound}`));
  console.log(`median CPU time: one at a time ${median(singleCpu).toFixed(0)} ms, Batcher ${median(batchCpu).toFixed(0)} ms ` +
    `(${(median(singleCpu) / median(batchCpu)).toFixed(2)}x less work)`);
  console.log(`largest difference from one at a time: ${worst.toExponential(2)} (within ${TOL}: ${worst <= TOL ? 'yes' : 'NO'})`);
  if (worst > TOL) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
