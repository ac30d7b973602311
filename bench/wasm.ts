// The wasm backend in the benchmark (issue 12): how many threads a call really ran on, and the
// ceiling a WebAssembly GEMM reaches today, XNNPACK's matMul inside TensorFlow.js's wasm backend,
// beside cellscan's own WebAssembly GEMM and a one-thread forward whose input projection is that
// very product.
import * as os from 'os';
import * as path from 'path';
import { type RecurrentLayer, type Tensor, setNumThreads, useBackend } from 'cellscan';
import { type Task, timeTogether } from './measure';
import { checkProduct, filled } from './roofline';
import { type Shape, forwardFlops } from './shapes';

/** The thread count the wasm rows run at besides 1: every core, as the backend's default. */
export const ALL_THREADS = os.availableParallelism();

interface RowRange {
  b0: number;
  rows: number;
}

interface WasmRows {
  piecesFor(flops: number, threads: number): number;
  evaluationSlices(B: number, pieces: number, threads: number): RowRange[];
  trainingGroups(B: number): RowRange[];
  spreadGroups(groups: RowRange[], pieces: number): [number, number][];
}

function libraryFile(...parts: string[]): string {
  return path.join(path.dirname(require.resolve('cellscan/package.json')), 'dist', 'backend', ...parts);
}

/**
 * Threads a forwardAsync and a training step (forwardAsync + backwardAsync) of this shape occupy at
 * `threads`: the library's own rule (src/backend/wasm-rows.ts, which also reads
 * CELLSCAN_WASM_MIN_PIECE_FLOPS in this process) cuts a call into at most that many pieces, fewer
 * when it is too small to gain; each direction of a bidirectional layer is cut on its own and all
 * pieces share the pool.
 */
export function wasmThreadsUsed(s: Shape, threads: number): { forward: number; train: number } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const rows = require(libraryFile('wasm-rows.js')) as WasmRows;
  const D = s.bidirectional ? 2 : 1;
  const perDirection = forwardFlops(s) / D;
  const forward = rows.evaluationSlices(s.B, rows.piecesFor(perDirection, threads), threads).length;
  const groups = rows.trainingGroups(s.B);
  const trainForward = rows.spreadGroups(groups, rows.piecesFor(perDirection, threads)).length;
  // Backward costs about twice the forward, and the library cuts it by that (wasm-layer.ts).
  const backward = rows.spreadGroups(groups, rows.piecesFor(2 * perDirection, threads)).length;
  return { forward: Math.min(threads, D * forward), train: Math.min(threads, D * Math.max(trainForward, backward)) };
}

/** The thread count last set (setNumThreads is process-wide): a task changes it only when it differs. */
let threadsNow: number | undefined;

/** Sets the library's thread count; true when that changed it (the wasm pool then ended or will start workers). */
export function useThreads(n: number): boolean {
  if (threadsNow === n) return false;
  setNumThreads(n);
  threadsNow = n;
  return true;
}

/**
 * A cellscan wasm call timed at `threads`: the set-up selects wasm and sets the thread count, and
 * after a change it makes one untimed call, since a resize ends the pool's extra workers and a
 * larger one starts them on the next call, each loading the layer before it computes.
 */
export function wasmTask(threads: number, fn: () => Promise<unknown>): Task {
  return {
    isAsync: true,
    fn: () => {
      useBackend('wasm');
      return fn();
    },
    setUp: async () => {
      useBackend('wasm');
      if (useThreads(threads)) await fn();
    },
  };
}

/** The GEMM of the ceiling: S2's input projection, [T·B × I] · [I × 4H] = 800 × 512 × 2048 (SPEC §7 quotes XNNPACK there). */
export const CEILING_GEMM = { m: 50 * 16, k: 512, n: 4 * 512 };

export interface GemmTiming {
  ms: number;
  gflops: number;
  runs: number;
}

export type WasmCeiling =
  | {
      m: number;
      k: number;
      n: number;
      /** XNNPACK's matMul: the threads asked of TF.js (setThreadsCount) and the ones it reports using. */
      xnnpack: GemmTiming & { threadsAsked: number; threads: number };
      /** cellscan's WebAssembly GEMM export, one thread (the module on this thread). */
      cellscan: GemmTiming;
      /** A one-thread wasm forward of `shape`, whose input projection is this product. */
      forward: GemmTiming & { shape: Shape };
    }
  | { unavailable: string };

interface RawGemm {
  gemm(m: number, n: number, k: number, a: number, transA: boolean, b: number, transB: boolean, c: number, accumulate: boolean): void;
}

interface Kernels {
  exports: RawGemm;
  heap: { allocate(bytes: number, where: string): number; release(ptr: number): void; f32(ptr: number, length: number): Float32Array };
}

const timing = (flops: number, t: { medianMs: number; runs: number }): GemmTiming => ({
  ms: t.medianMs,
  gflops: flops / t.medianMs / 1e6,
  runs: t.runs,
});

/**
 * XNNPACK's matMul, cellscan's WebAssembly GEMM (both with their operands already in their module's
 * memory and the product left there: the kernels alone, as a layer calls them) and a one-thread
 * forward of `shape`, timed in alternating rounds. Each product is checked before it is timed.
 */
export async function wasmCeiling(layer: RecurrentLayer, x: Tensor, shape: Shape, budgetMs: number): Promise<WasmCeiling> {
  const { m, k, n } = CEILING_GEMM;
  const flops = 2 * m * k * n;
  let tfjs;
  try {
    tfjs = await (await import('./peers/tfjs')).loadTfjsWasm(ALL_THREADS);
  } catch (e) {
    return { unavailable: `TensorFlow.js's wasm backend could not be loaded: ${(e as Error).message}` };
  }
  const { tf } = tfjs;
  // A module of its own, as the backend's main-thread instance is: the library's loader and build.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadWasmKernels } = require(libraryFile('wasm.js')) as { loadWasmKernels: () => Kernels };
  const kernels = loadWasmKernels();
  const a = filled(m * k, 1);
  const b = filled(k * n, 2);
  const pa = kernels.heap.allocate(a.byteLength, 'bench');
  const pb = kernels.heap.allocate(b.byteLength, 'bench');
  const pc = kernels.heap.allocate(m * n * 4, 'bench');
  const ta = tf.tensor2d(a, [m, k]);
  const tb = tf.tensor2d(b, [k, n]);
  try {
    kernels.heap.f32(pa, a.length).set(a);
    kernels.heap.f32(pb, b.length).set(b);
    const ours = () => kernels.exports.gemm(m, n, k, pa, false, pb, false, pc, false);
    ours();
    const bad = checkProduct(kernels.heap.f32(pc, m * n), a, b, m, k, n);
    if (bad) return { unavailable: `cellscan's wasm gemm gave ${bad}` };
    const theirs = tf.matMul(ta, tb);
    const badTf = checkProduct(theirs.dataSync() as Float32Array, a, b, m, k, n);
    theirs.dispose();
    if (badTf) return { unavailable: `TF.js matMul gave ${badTf}` };
    // The wasm backend computes a kernel when it is called: the product is done when matMul returns.
    const xnnpack = () => tf.matMul(ta, tb).dispose();
    const tasks: Task[] = [
      { fn: xnnpack, isAsync: false },
      { fn: ours, isAsync: false },
      wasmTask(1, () => layer.forwardAsync(x)),
    ];
    const [tx, tc, tf1] = await timeTogether(tasks, { budgetMs });
    return {
      m,
      k,
      n,
      xnnpack: { ...timing(flops, tx), threadsAsked: ALL_THREADS, threads: tfjs.threads },
      cellscan: timing(flops, tc),
      forward: { ...timing(forwardFlops(shape), tf1), shape },
    };
  } finally {
    ta.dispose();
    tb.dispose();
    for (const p of [pa, pb, pc]) kernels.heap.release(p);
  }
}
