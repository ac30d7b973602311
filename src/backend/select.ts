// Which backend serves: loading each at most once per process, honouring CELLSCAN_BACKEND and
// CELLSCAN_NUM_THREADS, reporting why a backend is unavailable, and, for `auto` with more than one
// loaded, keeping the one a short measured probe finds faster.
import { rangeError, typeError } from '../errors';
import { gateCount } from './layer-shape';
import { loadNativeBackend, nativeBinary } from './native';
import type { Backend, BackendInfo, BackendName } from './types';
import { loadWasmBackend } from './wasm';

const loaders: Partial<Record<BackendName, () => Backend>> = {
  native: loadNativeBackend,
  wasm: loadWasmBackend,
};
/** The order `auto` tries them in, and the winner of a tie. */
const order: BackendName[] = ['native', 'wasm'];
const choices = ['native', 'wasm', 'auto'] as const;
type Choice = (typeof choices)[number];

type LoadResult = { backend: Backend } | { reason: string };
const loaded = new Map<BackendName, LoadResult>();
let choice: Choice | undefined;
let active: Backend | undefined;
let threads: number | undefined;

function load(name: BackendName): LoadResult {
  let result = loaded.get(name);
  if (result) return result;
  const loader = loaders[name];
  if (!loader) {
    result = { reason: `the ${name} backend is not part of this build` };
  } else {
    try {
      const backend = loader();
      if (threads !== undefined) backend.setNumThreads(threads);
      result = { backend };
    } catch (e) {
      result = { reason: (e as Error).message };
    }
  }
  loaded.set(name, result);
  return result;
}

function checkChoice(where: string, arg: string, name: unknown): Choice {
  if (typeof name !== 'string') throw typeError(where, arg, `one of ${choices.map((c) => `"${c}"`).join(', ')}`, name);
  if (!(choices as readonly string[]).includes(name)) {
    throw rangeError(where, arg, `one of ${choices.map((c) => `"${c}"`).join(', ')}`, name);
  }
  return name as Choice;
}

function checkThreads(where: string, arg: string, n: unknown): number {
  if (typeof n !== 'number') throw typeError(where, arg, 'an integer in 1..256', n);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw rangeError(where, arg, 'an integer in 1..256', n);
  return n;
}

// The probe: an LSTM forward of about 17 MFLOP (enough that throughput, not call overhead, decides)
// on each backend; a few calls to warm up (WebAssembly starts in V8's baseline tier and moves to
// optimized code as it runs), then timed calls alternating between the backends, so that load from
// elsewhere on the machine falls on both alike, keeping each one's best. Milliseconds, once per process.
const probeShape = { T: 4, B: 16, inputSize: 128, hiddenSize: 128 };
const probeWarmUps = 3;
const probeRuns = 6;
let probeResult: Partial<Record<BackendName, number>> | undefined;

function probeData(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (((i * 7919 + seed) % 201) - 100) / 1000;
  return a;
}

/** Best times in milliseconds of the probe forward on each backend. */
function probe(candidates: Backend[]): Partial<Record<BackendName, number>> {
  const { T, B, inputSize: I, hiddenSize: H } = probeShape;
  const G = gateCount('lstm') * H;
  const spec = { cell: 'lstm', inputSize: I, hiddenSize: H, projSize: 0, bias: true, peepholes: false, linearBeforeReset: true, reverse: false } as const;
  const params = { wIh: probeData(G * I, 1), wHh: probeData(G * H, 2), bIh: probeData(G, 3), bHh: probeData(G, 4) };
  const args = {
    T, B, x: probeData(T * B * I, 5), y: new Float32Array(T * B * H), yStride: H,
    hN: new Float32Array(B * H), cN: new Float32Array(B * H), training: false,
  };
  const layers = candidates.map((b) => b.createLayer(spec, params));
  for (const layer of layers) for (let i = 0; i < probeWarmUps; i++) layer.forward(args);
  const best = candidates.map(() => Infinity);
  for (let run = 0; run < probeRuns; run++) {
    layers.forEach((layer, i) => {
      const start = performance.now();
      layer.forward(args);
      best[i] = Math.min(best[i], performance.now() - start);
    });
  }
  const times: Partial<Record<BackendName, number>> = {};
  candidates.forEach((b, i) => (times[b.name] = best[i]));
  return times;
}

function fastest(candidates: Backend[]): Backend {
  if (candidates.length === 1) return candidates[0];
  probeResult ??= probe(candidates);
  const times = probeResult;
  // Ties go to the earlier in `order`.
  return candidates.reduce((best, b) => ((times[b.name] ?? Infinity) < (times[best.name] ?? Infinity) ? b : best));
}

/** The probe's times in milliseconds, once `auto` has chosen between two loaded backends. */
export function autoProbe(): Readonly<Partial<Record<BackendName, number>>> | undefined {
  return probeResult;
}

/** No backend that was asked for (or none at all) can be used: the message says why and what to run. */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

function resolve(c: Choice): Backend {
  if (c !== 'auto') {
    const r = load(c);
    if ('backend' in r) return r.backend;
    throw new BackendUnavailableError(`cellscan: the ${c} backend was requested but cannot be used: ${r.reason}`);
  }
  const usable: Backend[] = [];
  const reasons: string[] = [];
  for (const name of order) {
    const r = load(name);
    if ('backend' in r) usable.push(r.backend);
    else reasons.push(`${name}: ${r.reason}`);
  }
  if (usable.length === 0) throw new BackendUnavailableError(`cellscan: no backend can be used (${reasons.join('; ')})`);
  return fastest(usable);
}

function defaultThreads(): void {
  if (threads !== undefined) return;
  const env = process.env.CELLSCAN_NUM_THREADS;
  if (env === undefined || env === '') return;
  // An environment variable is always a string: anything but digits is out of range, not mistyped.
  if (!/^\d+$/.test(env.trim())) throw rangeError('CELLSCAN_NUM_THREADS', 'value', 'an integer in 1..256', env);
  threads = checkThreads('CELLSCAN_NUM_THREADS', 'value', Number(env));
}

/** The backend that computes now; chosen on first use. */
export function activeBackend(): Backend {
  if (active) return active;
  defaultThreads();
  if (choice === undefined) {
    const env = process.env.CELLSCAN_BACKEND;
    choice = env === undefined || env === '' ? 'auto' : checkChoice('CELLSCAN_BACKEND', 'value', env);
  }
  active = resolve(choice);
  return active;
}

export function useBackend(name: 'native' | 'wasm' | 'auto'): void {
  const c = checkChoice('useBackend', 'name', name);
  defaultThreads();
  active = resolve(c);
  choice = c;
}

export function currentBackend(): BackendName {
  return activeBackend().name;
}

export function backends(): BackendInfo[] {
  defaultThreads();
  return (['native', 'wasm'] as BackendName[]).map((name) => {
    const r = load(name);
    if ('backend' in r) {
      const info: BackendInfo = { name, available: true, features: r.backend.features, threads: r.backend.numThreads() };
      if (name === 'native') info.binary = nativeBinary();
      return info;
    }
    return { name, available: false, reason: r.reason, features: [], threads: 0 };
  });
}

export function setNumThreads(n: number): void {
  threads = checkThreads('setNumThreads', 'n', n);
  for (const r of loaded.values()) if ('backend' in r) r.backend.setNumThreads(threads);
}
