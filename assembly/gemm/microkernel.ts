// The GEMM microkernel: one MR × NR tile of C from a packed panel of A and one of B, on f32x4, named
// as XNNPACK names its kernels and native/gemm/microkernel.h the native ones (type, op, tile, ISA).
// Per k: two vectors of B, four broadcasts of A, eight multiplies and eight adds (WebAssembly SIMD
// has no fused multiply-add). Eight accumulators plus three operands fit the sixteen vector registers
// V8 has on x86-64 and arm64, so the k loop runs without spills.

export const MR = 4;
export const NR = 8;

// Edge tiles are finished here and only their valid part is copied out: C is never touched past mr × nr.
const edgeTile = memory.data(MR * NR * 4);

@inline function storeRow(c: usize, lo: v128, hi: v128, accumulate: bool): void {
  if (accumulate) {
    lo = f32x4.add(v128.load(c), lo);
    hi = f32x4.add(v128.load(c, 16), hi);
  }
  v128.store(c, lo);
  v128.store(c, hi, 16);
}

// c[mr, nr] = (accumulate ? c : 0) + a[kc, MR]ᵀ · b[kc, NR]; a, b: packed panels; c rows ldc floats apart
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
    a += MR * 4;
    b += NR * 4;
  }
  const rowBytes = ldc << 2;
  if (mr == MR && nr == NR) {
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
