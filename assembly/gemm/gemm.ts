// Matrix products in the BLIS manner: a kc × nc block of op(B) packed into NR-column panels, an
// mc × kc block of op(A) packed into panels of 5 rows (6 or 4 at its end, tileRows), and the microkernels
// swept over every tile with one B panel held in L1 while the A panels stream from L2. The blocking
// is fixed, so every output element is always summed in the same order.
import { MR, MR_WIDE, NR, f32_gemm_4x8__wasmsimd, f32_gemm_5x8__wasmsimd, f32_gemm_6x8__wasmsimd, tileRows } from './microkernel';
import { packPanelsA, packPanelsB } from './pack';

const KC = 512;
// Whole tiles (5 × 24 + 6 + 6); a shorter block pads a panel only when it has 1-3 or 7 rows, and
// then to at most 8, so every block's panels end within MC · KC floats.
const MC = 132;
const NC = 1024; // a multiple of NR

// Packing buffers, placed once by the host (useGemmScratch) and reused by every product.
let packedA: usize = 0;
let packedB: usize = 0;

export function gemmScratchBytes(): usize {
  return <usize>(MC * KC + KC * NC) << 2;
}

export function useGemmScratch(region: usize): void {
  packedA = region;
  packedB = region + (<usize>(MC * KC) << 2);
}

@inline function roundUp(x: i32, to: i32): i32 {
  return (x + to - 1) / to * to;
}

// A right-hand operand op(B) [k, n] packed once, for weights reused by every step and every call.
// The block for K rows [pc, pc + kc) starts at pc · nPadded floats and holds its NR-wide panels in order.
@unmanaged export class PackedMatrix {
  panels: usize;
  k: i32;
  n: i32;
  nPadded: i32;
}

export function packedMatrixBytes(k: i32, n: i32): u64 {
  return (<u64>k * <u64>roundUp(n, NR)) << 2;
}

// p = op(B) [k, n] packed into `panels` (packedMatrixBytes(k, n) bytes)
export function packMatrix(p: PackedMatrix, panels: usize, k: i32, n: i32, b: usize, ldb: usize, transB: bool): void {
  p.panels = panels;
  p.k = k;
  p.n = n;
  p.nPadded = roundUp(n, NR);
  for (let pc = 0; pc < k; pc += KC) {
    packPanelsB(panels + ((<usize>pc * <usize>p.nPadded) << 2), b, ldb, transB, pc, min(KC, k - pc), 0, n);
  }
}

// Every tile of one (mc × kc) block of A panels against (kc × nc) B panels: each B panel in turn
// against all A panels.
function multiplyBlock(mc: i32, nc: i32, kc: i32, aPanels: usize, bPanels: usize, c: usize, ldc: usize, accumulate: bool): void {
  for (let j = 0; j < nc; j += NR) {
    const bPanel = bPanels + ((<usize>j * <usize>kc) << 2);
    const nr = min(NR, nc - j);
    for (let i = 0; i < mc; ) {
      const h = tileRows(mc - i);
      const mr = min(h, mc - i);
      const aPanel = aPanels + ((<usize>i * <usize>kc) << 2);
      const cTile = c + ((<usize>i * ldc + <usize>j) << 2);
      if (h == MR) f32_gemm_5x8__wasmsimd(kc, aPanel, bPanel, cTile, ldc, mr, nr, accumulate);
      else if (h == MR_WIDE) f32_gemm_6x8__wasmsimd(kc, aPanel, bPanel, cTile, ldc, mr, nr, accumulate);
      else f32_gemm_4x8__wasmsimd(kc, aPanel, bPanel, cTile, ldc, mr, nr, accumulate);
      i += mr;
    }
  }
}

function zeroRows(m: i32, n: i32, c: usize, ldc: usize): void {
  for (let i = 0; i < m; i++) memory.fill(c + ((<usize>i * ldc) << 2), 0, <usize>n << 2);
}

// The loop nest both entry points share; B comes from `packed` when it is not 0, else from (b, ldb, transB)
// packed block by block.
function gemmDriver(m: i32, n: i32, k: i32, a: usize, lda: usize, transA: bool, b: usize, ldb: usize, transB: bool,
  packed: usize, c: usize, ldc: usize, accumulate: bool): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) zeroRows(m, n, c, ldc);
    return;
  }
  const pm = changetype<PackedMatrix>(packed);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      let bBlock = packedB;
      if (packed != 0) {
        bBlock = pm.panels + ((<usize>pc * <usize>pm.nPadded + <usize>jc * <usize>kc) << 2);
      } else {
        packPanelsB(packedB, b, ldb, transB, pc, kc, jc, nc);
      }
      const acc = accumulate || pc > 0;
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packPanelsA(packedA, a, lda, transA, ic, mc, pc, kc);
        multiplyBlock(mc, nc, kc, packedA, bBlock, c + ((<usize>ic * ldc + <usize>jc) << 2), ldc, acc);
      }
    }
  }
}

// c[m, n] = (accumulate ? c : 0) + a[m, k] · op(B) with op(B) packed; rows of a lda apart, of c ldc apart
export function gemmPacked(m: i32, a: usize, lda: usize, b: PackedMatrix, c: usize, ldc: usize, accumulate: bool): void {
  gemmDriver(m, b.n, b.k, a, lda, false, 0, 0, false, changetype<usize>(b), c, ldc, accumulate);
}

// c[m, n] = a[k, m]ᵀ · b[k, n]: the weight-gradient products, summing over all T·B rows
export function gemmTransA(m: i32, n: i32, k: i32, a: usize, lda: usize, b: usize, ldb: usize, c: usize, ldc: usize): void {
  gemmDriver(m, n, k, a, lda, true, b, ldb, false, 0, c, ldc, false);
}

// c[m, n] = (accumulate ? c : 0) + op(a)[m, k] · op(b)[k, n], every matrix dense and row-major
// (op(X) = Xᵀ when trans is set): the products of layers outside the recurrent kernels (Linear).
export function gemm(m: i32, n: i32, k: i32, a: usize, transA: bool, b: usize, transB: bool, c: usize, accumulate: bool): void {
  gemmDriver(m, n, k, a, transA ? <usize>m : <usize>k, transA, b, transB ? <usize>k : <usize>n, transB, 0, c, <usize>n, accumulate);
}
