// Operands rearranged into the panels the microkernel reads. A panel holds kc groups of `width` lanes:
// the rows of op(A) one tile covers (5, 6 or 4, tileRows), or NR columns of op(B). Lanes past the matrix
// edge are zero, so the kernel always reads whole panels and never memory outside them.
import { NR, tileRows } from './microkernel';

// op(X) is X or Xᵀ of a row-major X with rows ld floats apart. A lane is a row of op(A) or a column of
// op(B); when consecutive lanes sit side by side in X (for a fixed k) a group copies as one run,
// otherwise each lane is gathered along its own contiguous run of k.
function packPanel(dst: usize, x: usize, ld: usize, lanesContiguous: bool, lane0: i32, valid: i32, k0: i32, kc: i32, width: i32): void {
  const groupBytes = <usize>width << 2;
  if (lanesContiguous) {
    for (let k = 0; k < kc; k++) {
      const src = x + ((<usize>(k0 + k) * ld + <usize>lane0) << 2);
      const d = dst + <usize>k * groupBytes;
      let l = 0;
      for (; l + 4 <= valid; l += 4) v128.store(d + (<usize>l << 2), v128.load(src + (<usize>l << 2)));
      for (; l < valid; l++) store<f32>(d + (<usize>l << 2), load<f32>(src + (<usize>l << 2)));
      for (; l < width; l++) store<f32>(d + (<usize>l << 2), 0);
    }
    return;
  }
  for (let l = 0; l < valid; l++) {
    const src = x + ((<usize>(lane0 + l) * ld + <usize>k0) << 2);
    const d = dst + (<usize>l << 2);
    for (let k = 0; k < kc; k++) store<f32>(d + <usize>k * groupBytes, load<f32>(src + (<usize>k << 2)));
  }
  for (let l = valid; l < width; l++) {
    const d = dst + (<usize>l << 2);
    for (let k = 0; k < kc; k++) store<f32>(d + <usize>k * groupBytes, 0);
  }
}

// Rows [r0, r0 + rows) × K range [k0, k0 + kc) of op(A), as consecutive panels as high as the
// tiles that read them (tileRows): the panel of rows from p starts p · kc floats in.
export function packPanelsA(dst: usize, a: usize, lda: usize, transA: bool, r0: i32, rows: i32, k0: i32, kc: i32): void {
  for (let p = 0; p < rows; ) {
    const h = tileRows(rows - p);
    const valid = min(h, rows - p);
    packPanel(dst + ((<usize>p * <usize>kc) << 2), a, lda, transA, r0 + p, valid, k0, kc, h);
    p += valid;
  }
}

// K range [k0, k0 + kc) × columns [c0, c0 + cols) of op(B), as consecutive NR-column panels.
export function packPanelsB(dst: usize, b: usize, ldb: usize, transB: bool, k0: i32, kc: i32, c0: i32, cols: i32): void {
  for (let p = 0; p < cols; p += NR) {
    packPanel(dst, b, ldb, !transB, c0 + p, min(NR, cols - p), k0, kc, NR);
    dst += (<usize>kc * NR) << 2;
  }
}
