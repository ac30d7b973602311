// The roofline for S7: a large square SGEMM with cellscan's own kernel on the same threads.
// It needs the addon to export one of
//   sgemm(m, n, k, a, b, c)                     C[m×n] = A[m×k]·B[k×n]
//   gemm({ m, n, k, a, b, c, transA, transB, accumulate })   the same with transA = transB = accumulate = false
// (row-major Float32Arrays, C overwritten, synchronous, on the addon's thread pool with the same
// packing and microkernel as the layers). Until it does, sgemmGflops() says so instead of a figure.
import * as path from 'path';
import { timeTask } from './measure';

type Sgemm = (m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array) => void;

export type SgemmResult = { size: number; ms: number; gflops: number; runs: number } | { unavailable: string };

const NO_SGEMM_EXPORT = 'n/a (addon has no sgemm export yet)';

interface AddonGemmExports {
  sgemm?: unknown;
  gemm?: unknown;
}

/** The addon's SGEMM, found the way the library finds the addon; undefined when it exports none. */
export function addonSgemm(): Sgemm | undefined {
  let addon: AddonGemmExports;
  try {
    const root = path.dirname(require.resolve('cellscan/package.json'));
    // The library's own loader: the binary the native backend would run.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { loadNativeAddon } = require(path.join(root, 'dist', 'backend', 'native.js')) as { loadNativeAddon: () => { addon: AddonGemmExports } };
    addon = loadNativeAddon().addon;
  } catch {
    return undefined;
  }
  if (typeof addon.sgemm === 'function') return addon.sgemm as Sgemm;
  if (typeof addon.gemm === 'function') {
    const gemm = addon.gemm as (o: object) => void;
    return (m, n, k, a, b, c) => gemm({ m, n, k, a, b, c, transA: false, transB: false, accumulate: false });
  }
  return undefined;
}

/** n seeded values in [-0.5, 0.5): operands that repeat from run to run. */
export function filled(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

/** The first entry of C (m×n, row-major) that disagrees with a double-precision A·B, or undefined. */
export function checkProduct(c: Float32Array, a: Float32Array, b: Float32Array, m: number, k: number, n: number): string | undefined {
  for (let probe = 0; probe < 16; probe++) {
    const i = (probe * 7919) % m;
    const j = (probe * 104729 + 13) % n;
    let want = 0;
    let scale = 0;
    for (let p = 0; p < k; p++) {
      want += a[i * k + p] * b[p * n + j];
      scale += Math.abs(a[i * k + p] * b[p * n + j]);
    }
    if (!(Math.abs(c[i * n + j] - want) <= 1e-4 * scale + 1e-6)) return `C[${i}][${j}] = ${c[i * n + j]}, expected ${want.toPrecision(7)}`;
  }
  return undefined;
}

/**
 * GFLOP/s (2·n³ per call) of an n×n×n SGEMM, median of timed runs, after checking a few entries
 * of C against a double-precision dot product so that a wrong kernel cannot post a figure.
 * The thread count is whatever the library was set to (setNumThreads) before the call.
 */
export async function sgemmGflops(size: number, budgetMs: number): Promise<SgemmResult> {
  const sgemm = addonSgemm();
  if (!sgemm) return { unavailable: NO_SGEMM_EXPORT };
  const n = size;
  const a = filled(n * n, 1);
  const b = filled(n * n, 2);
  const c = new Float32Array(n * n);
  sgemm(n, n, n, a, b, c);
  const bad = checkProduct(c, a, b, n, n, n);
  if (bad) return { unavailable: `n/a (the addon's sgemm gave ${bad})` };
  const t = await timeTask(() => sgemm(n, n, n, a, b, c), false, { budgetMs });
  return { size: n, ms: t.medianMs, gflops: (2 * n ** 3) / t.medianMs / 1e6, runs: t.runs };
}
