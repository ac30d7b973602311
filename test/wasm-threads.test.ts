// The wasm backend's worker threads (SPEC §4, issue 12): asynchronous calls run off the main thread
// and never block it; with n threads a large call is cut along batch rows and gives the same bits
// as one thread and as the synchronous path, training included; errors come back as the
// synchronous path throws them; changed weights reach the workers; idle workers let the process end.
// These tests need the wasm backend: where it does not load they fail (useBackend throws), never skip.
// The worker script runs from dist/: `npm test` builds it first (run `npm run build` before jest alone).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PerformanceObserver } from 'perf_hooks';
import { GRU, LSTM, RNN, type RecurrentLayer, Tensor, setNumThreads, useBackend } from '../src';
import { activeBackend } from '../src/backend/select';
import type { Backend, BackendLayer, LayerSpec } from '../src/backend/types';
import { wasmThreadsOf } from '../src/backend/wasm';
import { MIN_PIECE_FLOPS } from '../src/backend/wasm-rows';
import { Rng } from '../src/random';
import { tinyLstmForwardArgs, tinyLstmSpec, tinyLstmWeights } from './helpers/tiny-lstm';

const root = path.resolve(__dirname, '..');

let wasm: Backend;
beforeAll(() => {
  useBackend('wasm');
  wasm = activeBackend();
});
afterAll(() => setNumThreads(2));

function random(rng: Rng, shape: number[]): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  rng.fillUniform(data, -1, 1);
  return new Tensor(data, shape);
}

/** Where two float arrays differ in any bit (so -0 against 0 and NaN payloads count), or ''. */
function bitsProblem(what: string, got: Float32Array | undefined, want: Float32Array | undefined): string {
  if (!got || !want) return got === want ? '' : `${what}: one is missing`;
  if (got.length !== want.length) return `${what}: ${got.length} elements, want ${want.length}`;
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `${what}[${i}]: ${got[i]}, want ${want[i]}`;
  return '';
}

function noProblems(problems: string[]): void {
  expect(problems.filter(Boolean)).toEqual([]);
}

type Run = Map<string, Float32Array>;

interface Case {
  name: string;
  make: () => RecurrentLayer;
  T: number;
  B: number;
}

// Shapes large enough that three threads each take a piece of every layer direction (checked
// below against the threshold), with batches whose rows do not divide evenly into tiles, groups or
// threads, and lengths that leave some rows short (one empty).
const I = 48;
const cases: Case[] = [
  { name: 'LSTM, bidirectional, 2 layers', make: () => new LSTM({ inputSize: I, hiddenSize: 64, bidirectional: true, numLayers: 2, seed: 1 }), T: 12, B: 37 },
  { name: 'LSTM with projection and peepholes', make: () => new LSTM({ inputSize: I, hiddenSize: 80, projSize: 40, peepholes: true, seed: 1 }), T: 12, B: 37 },
  { name: 'GRU, bidirectional, 2 layers', make: () => new GRU({ inputSize: I, hiddenSize: 80, bidirectional: true, numLayers: 2, seed: 1 }), T: 12, B: 37 },
  { name: 'GRU, reset before the product', make: () => new GRU({ inputSize: I, hiddenSize: 80, linearBeforeReset: false, numLayers: 2, seed: 1 }), T: 14, B: 29 },
  { name: 'RNN tanh, bidirectional', make: () => new RNN({ inputSize: I, hiddenSize: 160, bidirectional: true, seed: 1 }), T: 12, B: 37 },
  { name: 'RNN relu, 2 layers', make: () => new RNN({ inputSize: I, hiddenSize: 160, nonlinearity: 'relu', numLayers: 2, seed: 1 }), T: 12, B: 37 },
];

/** 2 × multiply-adds of the first layer direction's forward: the smallest of the layer's calls. */
function firstDirectionFlops(l: RecurrentLayer, T: number, B: number): number {
  const G = l instanceof LSTM ? 4 : l instanceof GRU ? 3 : 1;
  const H = l.hiddenSize;
  const hout = l.outputSize;
  return 2 * T * B * (G * H * (l.inputSize + hout) + (hout !== H ? H * hout : 0));
}

function lengthsFor(T: number, B: number): number[] {
  return Array.from({ length: B }, (_, b) => (b === 5 ? 0 : T - (b % 4)));
}

/** A training step (forward with a tape, backward) and an evaluation forward, synchronous or asynchronous. */
async function step(c: Case, mode: 'sync' | 'async'): Promise<Run> {
  const layer = c.make();
  const rng = new Rng(7);
  const x = random(rng, [c.T, c.B, layer.inputSize]);
  const states = layer.numLayers * layer.directions;
  const h0 = random(rng, [states, c.B, layer.outputSize]);
  const c0 = layer instanceof LSTM ? random(rng, [states, c.B, layer.hiddenSize]) : undefined;
  const dOutput = random(rng, [c.T, c.B, layer.directions * layer.outputSize]);
  const dhN = random(rng, [states, c.B, layer.outputSize]);
  const dcN = c0 ? random(rng, [states, c.B, layer.hiddenSize]) : undefined;
  const lengths = lengthsFor(c.T, c.B);
  const options = { h0, c0, lengths, training: true };
  const f = mode === 'sync' ? layer.forward(x, options) : await layer.forwardAsync(x, options);
  const gradients = { dOutput, dhN, dcN };
  const g = mode === 'sync' ? layer.backward(f.tape!, gradients) : await layer.backwardAsync(f.tape!, gradients);
  const e = mode === 'sync' ? layer.forward(x, { h0, c0, lengths }) : await layer.forwardAsync(x, { h0, c0, lengths });
  const run: Run = new Map([
    ['output', f.output.data as Float32Array],
    ['hN', f.hN.data as Float32Array],
    ['dInput', g.dInput.data as Float32Array],
    ['dh0', g.dh0.data as Float32Array],
    ['evaluation output', e.output.data as Float32Array],
    ['evaluation hN', e.hN.data as Float32Array],
  ]);
  if (f.cN) run.set('cN', f.cN.data as Float32Array);
  if (g.dc0) run.set('dc0', g.dc0.data as Float32Array);
  for (const [name, t] of layer.gradients()) run.set(`grad ${name}`, t.data as Float32Array);
  return run;
}

describe('threads 1, 2 and 3 give the bits of the synchronous path', () => {
  test.each(cases)('$name', async (c) => {
    expect(firstDirectionFlops(c.make(), c.T, c.B)).toBeGreaterThanOrEqual(3 * MIN_PIECE_FLOPS);
    const want = await step(c, 'sync');
    const problems: string[] = [];
    for (const threads of [1, 2, 3]) {
      setNumThreads(threads);
      const got = await step(c, 'async');
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [name, values] of want) problems.push(bitsProblem(`${threads} threads: ${name}`, got.get(name), values));
      // Every thread was put to work.
      expect(wasmThreadsOf(wasm)!.pool.started).toBe(threads);
    }
    noProblems(problems);
  });

  test('a tape from forwardAsync serves backward, and one from forward serves backwardAsync', async () => {
    setNumThreads(2);
    const c = cases[0];
    const make = () => {
      const layer = c.make();
      const x = random(new Rng(3), [c.T, c.B, I]);
      const dOutput = random(new Rng(4), [c.T, c.B, 2 * layer.outputSize]);
      return { layer, x, dOutput };
    };
    const a = make();
    const b = make();
    const ga = a.layer.backward((await a.layer.forwardAsync(a.x, { training: true })).tape!, { dOutput: a.dOutput });
    const gb = await b.layer.backwardAsync(b.layer.forward(b.x, { training: true }).tape!, { dOutput: b.dOutput });
    const problems = [bitsProblem('dInput', gb.dInput.data as Float32Array, ga.dInput.data as Float32Array)];
    for (const [name, t] of a.layer.gradients()) problems.push(bitsProblem(name, b.layer.gradients().get(name)!.data as Float32Array, t.data as Float32Array));
    noProblems(problems);
  });
});

describe('errors from asynchronous calls are those of the synchronous ones', () => {
  const layer = () => wasm.createLayer(tinyLstmSpec, tinyLstmWeights());

  async function sameError(run: (l: BackendLayer, mode: 'sync' | 'async') => unknown, l = layer()): Promise<void> {
    let thrown: unknown;
    try {
      run(l, 'sync');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(Error);
    const sync = thrown as Error;
    const async = await Promise.resolve()
      .then(() => run(l, 'async'))
      .then(() => undefined, (e: unknown) => e as Error);
    expect(async).toBeInstanceOf(sync.constructor);
    expect(async!.constructor).toBe(sync.constructor);
    expect(async!.message).toBe(sync.message.replace(/^WasmLayer\.(forward|backward)\b/, 'WasmLayer.$1Async'));
  }

  const forward = (over: Record<string, unknown>) => (l: BackendLayer, mode: 'sync' | 'async') =>
    mode === 'sync' ? l.forward(tinyLstmForwardArgs(over) as never) : l.forwardAsync(tinyLstmForwardArgs(over) as never);

  test.each([
    ['x of the wrong length', { x: new Float32Array(29) }],
    ['x not a Float32Array', { x: new Float64Array(30) }],
    ['a length past T', { lengths: Int32Array.of(5, 6) }],
    ['h0 of the wrong length', { h0: new Float32Array(7) }],
    ['a zoneout probability above 1', { zoneoutHidden: 1.5 }],
  ])('forward: %s', async (_, over) => {
    await sameError(forward(over));
  });

  test('backward: a workspace from another layer, and something that is no workspace', async () => {
    const other = layer().forward(tinyLstmForwardArgs({ training: true }) as never)!;
    const backwardArgs = (workspace: unknown) => ({
      workspace, dYStride: 4, dX: new Float32Array(30), dh0: new Float32Array(8), dc0: new Float32Array(8),
      grads: { wIh: new Float32Array(48), wHh: new Float32Array(64), bIh: new Float32Array(16), bHh: new Float32Array(16) },
    });
    for (const workspace of [other, {}]) {
      await sameError((l, mode) => (mode === 'sync' ? l.backward(backwardArgs(workspace) as never) : l.backwardAsync(backwardArgs(workspace) as never)));
    }
  });

  test('a tape used on the wrong layer', async () => {
    const a = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    const b = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    const x = Tensor.zeros([5, 2, 3]);
    const syncTape = a.forward(x, { training: true }).tape!;
    const asyncTape = (await a.forwardAsync(x, { training: true })).tape!;
    expect(() => b.backward(syncTape, {})).toThrow(TypeError);
    expect(() => b.backward(syncTape, {})).toThrow(/^LSTM.backward: tape must be a Tape from this LSTM's forward, got a Tape from another layer$/);
    await expect(b.backwardAsync(asyncTape, {})).rejects.toThrow(TypeError);
    await expect(b.backwardAsync(asyncTape, {})).rejects.toThrow(/^LSTM.backwardAsync: tape must be a Tape from this LSTM's forward, got a Tape from another layer$/);
  });

  test('an error inside a worker: memory the module cannot address', async () => {
    // Arguments that pass every check but whose workspace (about 5 GiB, mostly gates) no 32-bit
    // module can hold: the worker's heap refuses it as the main thread's does.
    const spec: LayerSpec = { ...tinyLstmSpec, inputSize: 1, hiddenSize: 4096, projSize: 1 };
    const weights = {
      wIh: new Float32Array(4 * 4096), wHh: new Float32Array(4 * 4096), bIh: new Float32Array(4 * 4096), bHh: new Float32Array(4 * 4096),
      wHr: new Float32Array(4096),
    };
    const T = 60000;
    const args = () => ({ T, B: 1, x: new Float32Array(T), y: new Float32Array(T), yStride: 1, hN: new Float32Array(1), cN: new Float32Array(4096), training: false });
    setNumThreads(1);
    const withoutUse = (m: string) => m.replace(/ \([^()]* in use\)$/, '');
    const l = wasm.createLayer(spec, weights);
    let sync: Error | undefined;
    try {
      l.forward(args());
    } catch (e) {
      sync = e as Error;
    }
    expect(sync).toBeInstanceOf(RangeError);
    expect(sync!.message).toMatch(/^WasmLayer.forward: cannot allocate [\d.]+ GiB: WebAssembly memory would outgrow the 4 GiB/);
    const async = await l.forwardAsync(args()).then(() => undefined, (e: unknown) => e as Error);
    expect(async).toBeInstanceOf(RangeError);
    expect(withoutUse(async!.message)).toBe(withoutUse(sync!.message).replace('WasmLayer.forward:', 'WasmLayer.forwardAsync:'));
    // The worker carries on.
    await expect(layer().forwardAsync(tinyLstmForwardArgs() as never)).resolves.toBeUndefined();
    l.release();
  });

  test('an output detached while the threads run: nothing is written, and the call says which', async () => {
    const args = tinyLstmForwardArgs() as { y: Float32Array };
    const pending = layer().forwardAsync(args as never);
    structuredClone(args.y.buffer, { transfer: [args.y.buffer as ArrayBuffer] });
    await expect(pending).rejects.toThrow(/^WasmLayer.forwardAsync: y was detached or resized while the call ran; nothing was written to it$/);
  });
});

describe('changed weights reach the workers', () => {
  const c = cases[0];
  const x = random(new Rng(11), [c.T, c.B, I]);

  test.each([1, 2])('parametersChanged between calls, %i thread(s)', async (threads) => {
    setNumThreads(threads);
    const layer = c.make();
    const before = (await layer.forwardAsync(x)).output.data.slice();
    for (const [name, p] of layer.parameters()) if (name.startsWith('weight_hh')) for (let i = 0; i < p.data.length; i++) p.data[i] *= -0.5;
    layer.parametersChanged();
    const after = (await layer.forwardAsync(x)).output.data;
    expect(bitsProblem('changed', after as Float32Array, before as Float32Array)).not.toBe('');
    noProblems([bitsProblem('after the change', after as Float32Array, layer.forward(x).output.data as Float32Array)]);
  });

  test('loadStateDict between training calls', async () => {
    setNumThreads(2);
    const source = new LSTM({ inputSize: I, hiddenSize: 64, bidirectional: true, numLayers: 2, seed: 99 });
    const asyncLayer = c.make();
    const syncLayer = c.make();
    const dOutput = random(new Rng(12), [c.T, c.B, 128]);
    await asyncLayer.backwardAsync((await asyncLayer.forwardAsync(x, { training: true })).tape!, { dOutput });
    asyncLayer.loadStateDict(source.stateDict());
    syncLayer.loadStateDict(source.stateDict());
    asyncLayer.zeroGrad();
    const fa = await asyncLayer.forwardAsync(x, { training: true });
    const ga = await asyncLayer.backwardAsync(fa.tape!, { dOutput });
    const fs = syncLayer.forward(x, { training: true });
    const gs = syncLayer.backward(fs.tape!, { dOutput });
    const problems = [bitsProblem('output', fa.output.data as Float32Array, fs.output.data as Float32Array),
      bitsProblem('dInput', ga.dInput.data as Float32Array, gs.dInput.data as Float32Array)];
    for (const [name, t] of syncLayer.gradients()) problems.push(bitsProblem(name, asyncLayer.gradients().get(name)!.data as Float32Array, t.data as Float32Array));
    noProblems(problems);
  });
});

/** CPU time (user + system) of the calling thread so far, in ms, at the kernel's 10 ms tick. */
function mainThreadCpuMs(): number {
  const fields = fs.readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

describe('the event loop and the process', () => {
  test('a forwardAsync of over a second never holds a 10 ms interval back 100 ms', async () => {
    setNumThreads(2);
    // Wide, so the second passes in compute rather than in the memory a long sequence needs.
    const layer = new LSTM({ inputSize: 512, hiddenSize: 512, seed: 1 });
    // A gap is charged only with the CPU time the main thread itself used in it, less the garbage
    // collector's pauses in it: on a machine with more runnable threads than cores the thread also
    // waits for a core, and with other suites beside it the collector pauses longer; neither is a
    // block by the library (a call computing on the main thread shows in full).
    let gaps: { from: number; to: number; busy: number }[] = [];
    const pauses: { from: number; to: number }[] = [];
    const gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) pauses.push({ from: e.startTime, to: e.startTime + e.duration });
    });
    gc.observe({ entryTypes: ['gc'] });
    let last = performance.now();
    let lastCpu = mainThreadCpuMs();
    const timer = setInterval(() => {
      const now = performance.now();
      const cpu = mainThreadCpuMs();
      gaps.push({ from: last, to: now, busy: cpu - lastCpu });
      last = now;
      lastCpu = cpu;
    }, 10);
    try {
      // Longer sequences until one call takes over a second on this machine, however busy it is.
      let elapsed = 0;
      for (let T = 25; elapsed < 1000; T *= 2) {
        const x = random(new Rng(T), [T, 32, 512]);
        last = performance.now();
        lastCpu = mainThreadCpuMs();
        gaps = [];
        const start = performance.now();
        await layer.forwardAsync(x);
        elapsed = performance.now() - start;
        // Let the timer run once more, so a call that held the thread shows as a gap even if it resolved at once.
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      await new Promise((resolve) => setTimeout(resolve, 50)); // the last pauses' entries arrive
      const own = gaps.map((g) => {
        let collecting = 0;
        for (const p of pauses) collecting += Math.max(0, Math.min(g.to, p.to) - Math.max(g.from, p.from));
        return { ...g, wall: g.to - g.from, collecting, own: g.busy - collecting };
      });
      const worst = own.reduce((a, b) => (b.own > a.own ? b : a), { own: 0, wall: 0, busy: 0, collecting: 0 });
      expect(elapsed).toBeGreaterThan(1000);
      const text = `gap ${worst.wall.toFixed(0)} ms: the main thread's CPU ${worst.busy} ms, the collector's pauses ${worst.collecting.toFixed(0)} ms`;
      // Under 100 ms of the thread's own work in any gap; the message says where a failing gap went.
      expect(`${Math.max(0, Math.round(worst.own))} ms of its own; ${text}`).toMatch(/^\d{1,2} ms of its own;/);
    } finally {
      clearInterval(timer);
      gc.disconnect();
    }
  });

  test('a smaller thread count ends the workers past it', async () => {
    setNumThreads(3);
    const c = cases[0];
    await c.make().forwardAsync(random(new Rng(1), [c.T, c.B, I]));
    expect(wasmThreadsOf(wasm)!.pool.started).toBe(3);
    setNumThreads(1);
    expect(wasmThreadsOf(wasm)!.pool.started).toBe(1);
    expect(wasm.numThreads()).toBe(1);
  });

  test('the shared memory of a tape dropped without its backward goes back for reuse', () => {
    // Fresh process: gc() is exposed there.
    const code = `
      const { loadWasmKernels, wasmBackend, wasmThreadsOf } = require('./dist/backend/wasm');
      const backend = wasmBackend(loadWasmKernels());
      const { stash } = wasmThreadsOf(backend);
      const spec = { cell: 'gru', inputSize: 8, hiddenSize: 16, projSize: 0, bias: true, peepholes: false, linearBeforeReset: true, reverse: false };
      const layer = backend.createLayer(spec, { wIh: new Float32Array(48 * 8), wHh: new Float32Array(48 * 16), bIh: new Float32Array(48), bHh: new Float32Array(48) });
      const T = 30, B = 20;
      const run = () => layer.forward({ T, B, x: new Float32Array(T * B * 8), y: new Float32Array(T * B * 16), yStride: 16, hN: new Float32Array(B * 16), training: true });
      (() => { run(); })();
      const before = stash.bytesHeld;
      (async () => {
        for (let i = 0; i < 20 && stash.bytesHeld === before; i++) { global.gc(); await new Promise((r) => setTimeout(r, 10)); }
        console.log(JSON.stringify({ before, after: stash.bytesHeld }));
      })();`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', code], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const { before, after } = JSON.parse(r.stdout);
    // B = 20 is three groups, each a workspace of its own.
    expect(after).toBeGreaterThan(before);
  });

  test('idle workers do not keep the process alive', () => {
    const code = `
      const c = require('./dist');
      c.useBackend('wasm');
      c.setNumThreads(2);
      const lstm = new c.LSTM({ inputSize: 48, hiddenSize: 64, seed: 1 });
      lstm.forwardAsync(c.Tensor.zeros([12, 37, 48])).then((r) => console.log('done', r.output.shape.join('x')));`;
    const started = Date.now();
    const r = spawnSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8', timeout: 60000 });
    expect({ status: r.status, signal: r.signal, out: r.stdout.trim(), err: r.stderr.trim() }).toEqual({ status: 0, signal: null, out: 'done 12x37x64', err: '' });
    expect(Date.now() - started).toBeLessThan(30000);
  });
});
