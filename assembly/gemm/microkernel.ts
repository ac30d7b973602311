// The GEMM microkernels: one tile of C from a packed panel of A and one of B, on f32x4, named as
// XNNPACK names its kernels and native/gemm/microkernel.h the native ones (type, op, tile, ISA).
// WebAssembly SIMD has no fused multiply-add, so each k is a multiply and an add per accumulator.
//
// The main tile is 5 × 8: ten accumulators, two vectors of B, one broadcast of a[k, i] shared by
// its row's two multiplies and the product being added, fourteen of the sixteen vector registers V8
// has on x86-64 (the sixteenth is its scratch register). Per k that is seven loads for twenty
// vector operations. XNNPACK's x86 wasmsimd tile, 6 × 8, has twelve accumulators but no register
// left for a shared broadcast (V8 then spills an accumulator through the stack every k), so each
// of its multiplies loads its own copy through a second pointer to the same panel that neither
// binaryen nor V8 can prove equal to the first: fourteen loads for twenty-four operations, and
// slower (docs/PERFORMANCE.md). It still takes the 6- and 12-row ends of a block, and the 4 × 8
// kernel the ends that 5 and 6 cannot cover (tileRows). All of them sum every element of C over k
// in the same order with one accumulator, so a row's result does not depend on its tile.

export const MR = 5;
export const NR = 8;
/** The rows of the wide tile (6 × 8). */
export const MR_WIDE = 6;
/** The rows of the narrow tile: an A panel with this many valid rows or fewer is packed this wide. */
export const MR_NARROW = 4;

// Edge tiles are finished here and only their valid part is copied out: C is never touched past mr × nr.
const edgeTile = memory.data(MR_WIDE * NR * 4);

@inline function storeRow(c: usize, lo: v128, hi: v128, accumulate: bool): void {
  if (accumulate) {
    lo = f32x4.add(v128.load(c), lo);
    hi = f32x4.add(v128.load(c, 16), hi);
  }
  v128.store(c, lo);
  v128.store(c, hi, 16);
}

// The valid mr × nr corner of the finished tile in edgeTile, into (or onto) c.
function copyEdge(c: usize, ldc: usize, mr: i32, nr: i32, accumulate: bool): void {
  const rowBytes = ldc << 2;
  for (let i = 0; i < mr; i++) {
    const ci = c + <usize>i * rowBytes;
    const ti = edgeTile + <usize>(i * NR * 4);
    for (let j = 0; j < nr; j++) {
      const v = load<f32>(ti + (<usize>j << 2));
      const p = ci + (<usize>j << 2);
      store<f32>(p, accumulate ? load<f32>(p) + v : v);
    }
  }
}

// c[mr, nr] = (accumulate ? c : 0) + a[kc, 6]ᵀ · b[kc, NR]; a, b: packed panels; c rows ldc floats apart
export function f32_gemm_6x8__wasmsimd(kc: i32, a: usize, b: usize, c: usize, ldc: usize, mr: i32, nr: i32, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  // The same panel as a (kc > 0, so kc >>> 31 is 0), for the broadcasts that multiply b1.
  let a2 = a + (<usize>kc >>> 31);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    c00 = f32x4.add(c00, f32x4.mul(v128.load32_splat(a, 0), b0));
    c01 = f32x4.add(c01, f32x4.mul(v128.load32_splat(a2, 0), b1));
    c10 = f32x4.add(c10, f32x4.mul(v128.load32_splat(a, 4), b0));
    c11 = f32x4.add(c11, f32x4.mul(v128.load32_splat(a2, 4), b1));
    c20 = f32x4.add(c20, f32x4.mul(v128.load32_splat(a, 8), b0));
    c21 = f32x4.add(c21, f32x4.mul(v128.load32_splat(a2, 8), b1));
    c30 = f32x4.add(c30, f32x4.mul(v128.load32_splat(a, 12), b0));
    c31 = f32x4.add(c31, f32x4.mul(v128.load32_splat(a2, 12), b1));
    c40 = f32x4.add(c40, f32x4.mul(v128.load32_splat(a, 16), b0));
    c41 = f32x4.add(c41, f32x4.mul(v128.load32_splat(a2, 16), b1));
    c50 = f32x4.add(c50, f32x4.mul(v128.load32_splat(a, 20), b0));
    c51 = f32x4.add(c51, f32x4.mul(v128.load32_splat(a2, 20), b1));
    a += 6 * 4;
    a2 += 6 * 4;
    b += NR * 4;
  }
  const rowBytes = ldc << 2;
  if (mr == 6 && nr == NR) {
    storeRow(c, c00, c01, accumulate);
    storeRow(c + rowBytes, c10, c11, accumulate);
    storeRow(c + 2 * rowBytes, c20, c21, accumulate);
    storeRow(c + 3 * rowBytes, c30, c31, accumulate);
    storeRow(c + 4 * rowBytes, c40, c41, accumulate);
    storeRow(c + 5 * rowBytes, c50, c51, accumulate);
    return;
  }
  storeRow(edgeTile, c00, c01, false);
  storeRow(edgeTile + NR * 4, c10, c11, false);
  storeRow(edgeTile + 2 * NR * 4, c20, c21, false);
  storeRow(edgeTile + 3 * NR * 4, c30, c31, false);
  storeRow(edgeTile + 4 * NR * 4, c40, c41, false);
  storeRow(edgeTile + 5 * NR * 4, c50, c51, false);
  copyEdge(c, ldc, mr, nr, accumulate);
}

// c[mr, nr] = (accumulate ? c : 0) + a[kc, 5]ᵀ · b[kc, NR]; a, b: packed panels; c rows ldc floats apart
export function f32_gemm_5x8__wasmsimd(kc: i32, a: usize, b: usize, c: usize, ldc: usize, mr: i32, nr: i32, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0));
    c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    const a1 = v128.load32_splat(a, 4);
    c10 = f32x4.add(c10, f32x4.mul(a1, b0));
    c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    const a2 = v128.load32_splat(a, 8);
    c20 = f32x4.add(c20, f32x4.mul(a2, b0));
    c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    const a3 = v128.load32_splat(a, 12);
    c30 = f32x4.add(c30, f32x4.mul(a3, b0));
    c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    const a4 = v128.load32_splat(a, 16);
    c40 = f32x4.add(c40, f32x4.mul(a4, b0));
    c41 = f32x4.add(c41, f32x4.mul(a4, b1));
    a += 5 * 4;
    b += NR * 4;
  }
  const rowBytes = ldc << 2;
  if (mr == 5 && nr == NR) {
    storeRow(c, c00, c01, accumulate);
    storeRow(c + rowBytes, c10, c11, accumulate);
    storeRow(c + 2 * rowBytes, c20, c21, accumulate);
    storeRow(c + 3 * rowBytes, c30, c31, accumulate);
    storeRow(c + 4 * rowBytes, c40, c41, accumulate);
    return;
  }
  storeRow(edgeTile, c00, c01, false);
  storeRow(edgeTile + NR * 4, c10, c11, false);
  storeRow(edgeTile + 2 * NR * 4, c20, c21, false);
  storeRow(edgeTile + 3 * NR * 4, c30, c31, false);
  storeRow(edgeTile + 4 * NR * 4, c40, c41, false);
  copyEdge(c, ldc, mr, nr, accumulate);
}

// c[mr, nr] = (accumulate ? c : 0) + a[kc, 4]ᵀ · b[kc, NR]; a, b: packed panels; c rows ldc floats apart
export function f32_gemm_4x8__wasmsimd(kc: i32, a: usize, b: usize, c: usize, ldc: usize, mr: i32, nr: i32, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0));
    c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    const a1 = v128.load32_splat(a, 4);
    c10 = f32x4.add(c10, f32x4.mul(a1, b0));
    c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    const a2 = v128.load32_splat(a, 8);
    c20 = f32x4.add(c20, f32x4.mul(a2, b0));
    c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    const a3 = v128.load32_splat(a, 12);
    c30 = f32x4.add(c30, f32x4.mul(a3, b0));
    c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    a += 4 * 4;
    b += NR * 4;
  }
  const rowBytes = ldc << 2;
  if (mr == 4 && nr == NR) {
    storeRow(c, c00, c01, accumulate);
    storeRow(c + rowBytes, c10, c11, accumulate);
    storeRow(c + 2 * rowBytes, c20, c21, accumulate);
    storeRow(c + 3 * rowBytes, c30, c31, accumulate);
    return;
  }
  storeRow(edgeTile, c00, c01, false);
  storeRow(edgeTile + NR * 4, c10, c11, false);
  storeRow(edgeTile + 2 * NR * 4, c20, c21, false);
  storeRow(edgeTile + 3 * NR * 4, c30, c31, false);
  copyEdge(c, ldc, mr, nr, accumulate);
}

/**
 * The height of the tile that starts `rest` rows before the end of a block of A: 5 (MR), except
 * where the rows after it could not be whole tiles: 6 for the last 6 or 12 rows, and 4 for the last
 * 7 or 8 (4 + 3, 4 + 4) or 4 and fewer. Every count from 8 on is then whole tiles (16 rows: 5 + 5 + 6;
 * 8: 4 + 4), and only a block of 1-3 or 7 rows pads a panel. The packing and the sweep both follow
 * it, and the panel of the tile at row i starts i · kc floats in.
 */
@inline export function tileRows(rest: i32): i32 {
  if (rest <= MR_NARROW || rest == 7 || rest == 8) return MR_NARROW;
  return rest == 6 || rest == 12 ? MR_WIDE : MR;
}
