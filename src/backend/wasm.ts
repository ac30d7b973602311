// The WebAssembly SIMD backend: finds the module the build compiled from assembly/, checks that this
// engine can run it, and instantiates it once per process behind the Backend interface, with a pool
// of worker threads (each with its own instance) for the asynchronous calls.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { rangeError, shown, typeError } from '../errors';
import { MAX_FORWARD_CALLS } from '../limits';
import type { Backend, LayerForward, Workspace } from './types';
import { integer } from './wasm-args';
import { wasmGemm } from './wasm-gemm';
import { WasmLayer, type WasmThreads } from './wasm-layer';
import { webAssembly } from './wasm-js-api';
import { type Kernels, instantiateKernels } from './wasm-module';
import { WasmPool } from './wasm-pool';
import { SharedStash } from './wasm-stash';

/** Where `npm run build:wasm` leaves the module, from the package root (this file sits two levels below it). */
export const wasmModulePath = path.join(__dirname, '..', '..', 'dist', 'wasm', 'cellscan.wasm');

// The smallest module that uses a v128 instruction: (func (result v128) (v128.const i32x4 0 0 0 0)).
const simdProbe = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: () -> v128
  0x03, 0x02, 0x01, 0x00, // functions: one of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Array(16).fill(0), 0x0b, // code: v128.const 0, end
]);

/** Instantiates the module; throws an Error whose message says why it is unavailable and what to do. */
export function loadWasmKernels(): Kernels {
  if (!webAssembly) throw new Error('this JavaScript engine has no WebAssembly');
  if (!webAssembly.validate(simdProbe)) {
    throw new Error('this JavaScript engine lacks WebAssembly SIMD (wasm-simd128), which Node has from 16.4 on');
  }
  if (!fs.existsSync(wasmModulePath)) {
    throw new Error(`the WebAssembly module was not built (${wasmModulePath} is missing); run \`npm run build:wasm\``);
  }
  try {
    return instantiateKernels(webAssembly, fs.readFileSync(wasmModulePath));
  } catch (e) {
    throw new Error(`the WebAssembly module failed to load: ${(e as Error).message}; rebuild it with \`npm run build:wasm\``);
  }
}

/**
 * forwardLayers' calls, checked as the addon checks its own: 1 to MAX_FORWARD_CALLS of them, each a WasmLayer not
 * already in the call with an args object (the layer checks the args).
 */
function readLayerCalls(where: string, calls: unknown): LayerForward[] {
  if (!Array.isArray(calls)) throw typeError(where, 'calls', 'an array of { layer, args }', calls);
  if (calls.length < 1 || calls.length > MAX_FORWARD_CALLS) {
    throw rangeError(where, 'calls.length', `an integer in 1..${MAX_FORWARD_CALLS}`, calls.length);
  }
  const seen = new Set<unknown>();
  calls.forEach((c: unknown, i) => {
    if (c === null || typeof c !== 'object') throw typeError(where, `calls[${i}]`, 'an object { layer, args }', c);
    const { layer, args } = c as Partial<LayerForward>;
    if (!(layer instanceof WasmLayer)) throw typeError(where, `calls[${i}].layer`, 'a WasmLayer', layer);
    if (seen.has(layer)) throw rangeError(where, `calls[${i}].layer`, 'a layer not already in the call', shown('one already in it'));
    seen.add(layer);
    if (args === null || typeof args !== 'object') throw typeError(where, `calls[${i}].args`, 'an object', args);
  });
  let previous = -1;
  calls.forEach((c: LayerForward, i) => {
    const stage = c.stage ?? 0;
    if (stage !== previous && stage !== previous + 1) {
      throw rangeError(where, `calls[${i}].stage`, `${i === 0 ? '0' : `${previous} or ${previous + 1}`} (stages run in order, none skipped)`, stage);
    }
    previous = stage;
  });
  return calls as LayerForward[];
}

/** Calls grouped by stage, in order. */
function stagesOf(calls: LayerForward[]): LayerForward[][] {
  const out: LayerForward[][] = [];
  for (const c of calls) {
    if ((c.stage ?? 0) === out.length) out.push([]);
    out[out.length - 1].push(c);
  }
  return out;
}

/**
 * Shared memory kept for reuse by the calls on the worker threads (wasm-stash.ts); past this, what
 * a call gives back is left to the garbage collector.
 */
const STASH_BYTES = 1 << 30;

const backendThreads = new WeakMap<Backend, WasmThreads>();

/** The worker pool and shared memory behind a wasm Backend, for tests and measurements. */
export function wasmThreadsOf(backend: Backend): WasmThreads | undefined {
  return backendThreads.get(backend);
}

/** The Backend over one instance of the module (synchronous calls) and a pool of worker threads (asynchronous ones). */
export function wasmBackend(kernels: Kernels): Backend {
  const [mr, nr] = kernels.constants.gemmTile;
  // As many threads as cores by default, as the native backend; setNumThreads (or CELLSCAN_NUM_THREADS) changes it.
  const pool = new WasmPool(kernels.module, os.availableParallelism());
  const threads: WasmThreads = { pool, stash: new SharedStash(STASH_BYTES) };
  const backend: Backend = {
    name: 'wasm',
    features: ['wasm-simd128', `gemm:f32_gemm_${mr}x${nr}__wasmsimd`, 'worker_threads'],
    createLayer: (spec, params) => new WasmLayer(kernels, threads, spec, params),
    // The calling thread's instance runs one call at a time: the layers go one after another.
    forwardLayers: (calls) => readLayerCalls('forwardLayers', calls).map((c) => c.layer.forward(c.args)),
    // On the pool the directions' pieces queue together and run side by side.
    // A stage's calls go together (the pool runs their pieces side by side); the next stage's calls
    // are sent once it is done, reading its outputs.
    forwardLayersAsync: async (calls) => {
      const results: (Workspace | undefined)[] = [];
      for (const stage of stagesOf(readLayerCalls('forwardLayersAsync', calls))) {
        const settled = await Promise.allSettled(stage.map((c) => c.layer.forwardAsync(c.args)));
        const failed = settled.find((s) => s.status === 'rejected');
        if (failed) throw (failed as PromiseRejectedResult).reason;
        results.push(...settled.map((s) => (s as PromiseFulfilledResult<Workspace | undefined>).value));
      }
      return results;
    },
    gemm: (args) => wasmGemm(kernels, args),
    setNumThreads: (n) => pool.resize(integer('setNumThreads', { n }, 'n', 1, 256)),
    numThreads: () => pool.numThreads,
  };
  backendThreads.set(backend, threads);
  return backend;
}

export function loadWasmBackend(): Backend {
  return wasmBackend(loadWasmKernels());
}
