// Which backend serves: loading each at most once per process, honouring CELLSCAN_BACKEND and
// CELLSCAN_NUM_THREADS, and reporting why a backend is unavailable.
import { rangeError, typeError } from '../errors';
import { loadNativeBackend } from './native';
import type { Backend, BackendInfo, BackendName } from './types';

const loaders: Partial<Record<BackendName, () => Backend>> = {
  native: loadNativeBackend,
};
const order: BackendName[] = ['native'];
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

function resolve(c: Choice): Backend {
  if (c !== 'auto') {
    const r = load(c);
    if ('backend' in r) return r.backend;
    throw new Error(`cellscan: the ${c} backend was requested but cannot be used: ${r.reason}`);
  }
  const reasons: string[] = [];
  for (const name of order) {
    const r = load(name);
    if ('backend' in r) return r.backend;
    reasons.push(`${name}: ${r.reason}`);
  }
  throw new Error(`cellscan: no backend can be used (${reasons.join('; ')})`);
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
      return { name, available: true, features: r.backend.features, threads: r.backend.numThreads() };
    }
    return { name, available: false, reason: r.reason, features: [], threads: 0 };
  });
}

export function setNumThreads(n: number): void {
  threads = checkThreads('setNumThreads', 'n', n);
  for (const r of loaded.values()) if ('backend' in r) r.backend.setNumThreads(threads);
}

/** Backends that load on this machine, for tests and benchmarks that run each one. */
export function availableBackends(): Backend[] {
  const out: Backend[] = [];
  for (const name of order) {
    const r = load(name);
    if ('backend' in r) out.push(r.backend);
  }
  return out;
}
