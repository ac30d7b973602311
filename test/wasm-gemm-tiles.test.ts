// The wasm GEMM's tiles (assembly/gemm): 5-row tiles, 6- and 4-row ones at the end of a block of A
// (tileRows), blocks of 132 rows and 512 of K. A row of C must come out the same bits whichever tile
// and block it fell in (the thread-count checks in wasm-threads.test.ts rely on it), match a
// double-precision product, and nothing past C may be written.
import { loadWasmKernels } from '../src/backend/wasm';
import { loadedBackends } from './helpers/backends';

const hasWasm = loadedBackends().includes('wasm');
const describeWasm = hasWasm ? describe : describe.skip;

function filled(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

describeWasm('wasm gemm tiles', () => {
  const kernels = hasWasm ? loadWasmKernels() : undefined!;
  const { heap } = kernels;

  /** C = (accumulate ? C0 : 0) + op(A) · op(B) with the gemm export; a guard of 64 floats after C. */
  function gemm(m: number, n: number, k: number, a: Float32Array, transA: boolean, b: Float32Array, transB: boolean, c0: Float32Array, accumulate: boolean): Float32Array {
    const pa = heap.allocate(a.byteLength, 'test');
    const pb = heap.allocate(b.byteLength, 'test');
    const pc = heap.allocate((m * n + 64) * 4, 'test');
    try {
      heap.f32(pa, a.length).set(a);
      heap.f32(pb, b.length).set(b);
      heap.f32(pc, m * n).set(c0.subarray(0, m * n));
      heap.f32(pc + m * n * 4, 64).fill(7);
      kernels.exports.gemm(m, n, k, pa, transA, pb, transB, pc, accumulate);
      const guard = heap.f32(pc + m * n * 4, 64);
      expect(guard.every((v) => v === 7)).toBe(true);
      return heap.f32(pc, m * n).slice();
    } finally {
      for (const p of [pa, pb, pc]) heap.release(p);
    }
  }

  // Row counts around every tile and block split: 4-row tiles alone (1-4, 8), 3 rows in a 4-row tile
  // after 4 (7), 5 + 4, 5 + 6 (11), 6 + 6 (12), 5 + 4 + 4 (13), 5 + 5 + 6 (16), a block of 132
  // (5 × 24 + 6 + 6) and the rows after it.
  const rowCounts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 20, 131, 132, 133, 138, 140];

  test.each([
    [37, 3],
    [19, 513],
  ])('every row of a %i-column product with K = %i has the same bits whatever rows it is computed with', (n, k) => {
    const M = 140;
    for (const [transA, transB, accumulate] of [[false, false, false], [true, false, true], [false, true, true]]) {
      const a = filled(M * k, 3);
      const b = filled(k * n, 5);
      const c0 = filled(M * n, 11);
      const whole = gemm(M, n, k, a, transA, b, transB, c0, accumulate);
      // Double-precision reference for the whole product.
      let worst = 0;
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < n; j++) {
          let s = accumulate ? c0[i * n + j] : 0;
          for (let q = 0; q < k; q++) s += (transA ? a[q * M + i] : a[i * k + q]) * (transB ? b[j * k + q] : b[q * n + j]);
          worst = Math.max(worst, Math.abs(s - whole[i * n + j]));
        }
      }
      expect(worst).toBeLessThan(1e-4 * k);
      for (const m of rowCounts) {
        // The m rows from r0 on, as a product of their own (A's rows, or A's columns when transposed).
        for (const r0 of [0, M - m, Math.floor((M - m) / 2)]) {
          const sub = new Float32Array(m * k);
          for (let i = 0; i < m; i++) for (let q = 0; q < k; q++) sub[transA ? q * m + i : i * k + q] = transA ? a[q * M + r0 + i] : a[(r0 + i) * k + q];
          const part = gemm(m, n, k, sub, transA, b, transB, c0.subarray(r0 * n), accumulate);
          expect(Buffer.from(part.buffer).equals(Buffer.from(whole.slice(r0 * n, (r0 + m) * n).buffer))).toBe(true);
        }
      }
    }
  });
});
