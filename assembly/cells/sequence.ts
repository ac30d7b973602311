// Steps every cell shares: the input projection before the time loop, states in and out of the
// workspace slots, outputs of a step, and the products deferred until after the backward time loop.
import { gemmPacked, gemmTransA } from '../gemm/gemm';
import { addFloats, copyFloats, rowAt, zeroFloats } from '../lanes';
import { LayerDesc } from './layer';
import { Workspace } from './workspace';

// gates[rows, G*H] = x[rows, I] · W_ihᵀ + folded biases
export function projectInputs(gates: usize, x: usize, rows: i32, d: LayerDesc): void {
  const gh = d.gateSize;
  gemmPacked(rows, x, <usize>d.inputSize, d.wIhT, gates, <usize>gh, false);
  if (!d.bias) return;
  for (let r = 0; r < rows; r++) {
    const g = rowAt(gates, r, gh);
    addFloats(g, g, d.inputBias, gh);
  }
}

// dst[n] = src, or zeros when src is 0 (an absent initial state or gradient)
export function copyOrZero(dst: usize, src: usize, n: i32): void {
  if (src != 0) {
    copyFloats(dst, src, n);
  } else {
    zeroFloats(dst, n);
  }
}

// out[cols] = Σ_rows src[r, c], rows ld floats apart, summed in row order
export function columnSums(out: usize, src: usize, rows: i32, cols: i32, ld: i32): void {
  zeroFloats(out, cols);
  for (let r = 0; r < rows; r++) {
    addFloats(out, out, rowAt(src, r, ld), cols);
  }
}

// gWIh = dGᵀ · x, gBIh = Σ dG, dX = dG · W_ih, after the backward time loop; dG [T*B, G*H] is the
// gradient of the pre-activations the input feeds
export function inputGradients(dX: usize, gWIh: usize, gBIh: usize, dG: usize, ws: Workspace, d: LayerDesc): void {
  const gh = d.gateSize;
  const inSize = d.inputSize;
  const rows = ws.rows;
  gemmTransA(gh, inSize, rows, dG, <usize>gh, ws.x, <usize>inSize, gWIh, <usize>inSize);
  if (d.bias) columnSums(gBIh, dG, rows, gh, gh);
  gemmPacked(rows, dG, <usize>gh, d.wIhB, dX, <usize>inSize, false);
}

// y rows of step t (ldy floats apart): the new state for active rows, zeros for padded ones
export function writeOutputRows(y: usize, ldy: i32, ws: Workspace, t: i32, hNew: usize, hout: i32): void {
  const B = ws.B;
  for (let b = 0; b < B; b++) {
    const row = rowAt(y, t * B + b, ldy);
    if (ws.active(t, b)) {
      copyFloats(row, rowAt(hNew, b, hout), hout);
    } else {
      zeroFloats(row, hout);
    }
  }
}

// Row b of step t's dY (rows ldDY apart), or 0 when there is no dY
@inline export function dYRow(dY: usize, ldDY: i32, ws: Workspace, t: i32, b: i32): usize {
  return dY == 0 ? 0 : rowAt(dY, t * ws.B + b, ldDY);
}

// d[B, n] = carried + dY for the active rows of step t, zeros for padded rows: the total gradient
// reaching this step's state
export function stepGradient(d: usize, carried: usize, dY: usize, ldDY: i32, ws: Workspace, t: i32, n: i32): void {
  for (let b = 0; b < ws.B; b++) {
    const dRow = rowAt(d, b, n);
    if (!ws.active(t, b)) {
      zeroFloats(dRow, n);
      continue;
    }
    const cRow = rowAt(carried, b, n);
    const yRow = dYRow(dY, ldDY, ws, t, b);
    if (yRow == 0) {
      copyFloats(dRow, cRow, n);
    } else {
      addFloats(dRow, cRow, yRow, n);
    }
  }
}
