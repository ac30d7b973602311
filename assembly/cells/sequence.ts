// Steps every cell shares: the input projection before the time loop, states in and out of the
// workspace slots, outputs of a step, and the products deferred until after the backward time loop.
import { PackedMatrix, gemmPacked, gemmTransA } from '../gemm/gemm';
import { addFloats, at, copyFloats, multiplyFloats, rowAt, rowsAt, zeroFloats } from '../lanes';
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

// Padded rows of step t keep what they held before it: dst[b] = src[b] for the rows that sit t out
// ([B, n] each). Forward carries a state, backward a gradient, across the steps a row does not run.
export function carryPaddedRows(dst: usize, src: usize, ws: Workspace, t: i32, n: i32): void {
  if (!ws.hasLengths) return;
  for (let b = 0; b < ws.B; b++) {
    if (!ws.active(t, b)) copyFloats(rowAt(dst, b, n), rowAt(src, b, n), n);
  }
}

// Zeros on the rows of [B, n] that sit step t out: their pre-activations have no gradient.
export function zeroPaddedRows(dst: usize, ws: Workspace, t: i32, n: i32): void {
  if (!ws.hasLengths) return;
  for (let b = 0; b < ws.B; b++) {
    if (!ws.active(t, b)) zeroFloats(rowAt(dst, b, n), n);
  }
}

// Row b of step t's dY (rows ldDY apart), or 0 when there is no dY
@inline function dYRow(dY: usize, ldDY: i32, ws: Workspace, t: i32, b: i32): usize {
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

// --- the variants --------------------------------------------------------------------------------

// Zoneout's d for element i of a [T, B, n] state: the step's mask (0 or 1) when there is one, else p.
@inline function zoneoutFactor(mask: usize, p: f32, i: i32): f32 {
  return mask != 0 ? <f32>load<u8>(mask + <usize>i) : p;
}

// Row b of step t of a [T, B, n] zoneout mask, or 0 where there is no mask.
@inline export function zoneoutRow(mask: usize, ws: Workspace, t: i32, b: i32, n: i32): usize {
  return mask == 0 ? 0 : mask + <usize>((t * ws.B + b) * n);
}

// Zoneout's d for lanes [j, j + n) of one row (n ≥ 4: four lanes): the row's mask bytes (0 or 1), or p
// where there is no mask. Lanes past the row read nothing.
@inline export function zoneoutLanes(maskRow: usize, p: f32, j: i32, n: i32): v128 {
  if (maskRow == 0) return f32x4.splat(p);
  const m = maskRow + <usize>j;
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, <f32>load<u8>(m));
  if (n > 1) v = f32x4.replace_lane(v, 1, <f32>load<u8>(m, 1));
  if (n > 2) v = f32x4.replace_lane(v, 2, <f32>load<u8>(m, 2));
  if (n > 3) v = f32x4.replace_lane(v, 3, <f32>load<u8>(m, 3));
  return v;
}

// Zoneout of step t's new state on its active rows: state = d·prev + (1 − d)·cand, exactly prev at
// d = 1 and cand at d = 0 ([B, n] each; state may be cand). Nothing when zoneout is off.
export function zoneoutRows(state: usize, prev: usize, cand: usize, mask: usize, p: f32, ws: Workspace, t: i32, n: i32): void {
  if (mask == 0 && p == 0) return;
  const B = ws.B;
  for (let b = 0; b < B; b++) {
    if (!ws.active(t, b)) continue;
    const r = b * n;
    const d0 = (t * B + b) * n;
    for (let j = 0; j < n; j++) {
      const d = zoneoutFactor(mask, p, d0 + j);
      store<f32>(at(state, r + j), d * load<f32>(at(prev, r + j)) + (1 - d) * load<f32>(at(cand, r + j)));
    }
  }
}

// Starts the gradient on the state before step t, which the cell and the recurrent product then add
// to: padded rows carry dh; active rows take zoneout's direct path d·dht (0 without zoneout), and
// dht keeps (1 − d)·dht, the part that reaches the cell's own new state.
export function beginPreviousGradient(dPrev: usize, dht: usize, dh: usize, mask: usize, p: f32, ws: Workspace, t: i32, n: i32): void {
  const B = ws.B;
  const zoned = mask != 0 || p != 0;
  for (let b = 0; b < B; b++) {
    const r = b * n;
    if (!ws.active(t, b)) {
      copyFloats(rowAt(dPrev, b, n), rowAt(dh, b, n), n);
    } else if (!zoned) {
      zeroFloats(rowAt(dPrev, b, n), n);
    } else {
      const d0 = (t * B + b) * n;
      for (let j = 0; j < n; j++) {
        const d = zoneoutFactor(mask, p, d0 + j);
        const g = load<f32>(at(dht, r + j));
        store<f32>(at(dPrev, r + j), d * g);
        store<f32>(at(dht, r + j), (1 - d) * g);
      }
    }
  }
}

// The recurrent product's share of the gradient on the state before a step: dhBefore [B, n] +=
// dG · W (dG rows ldG apart), or with recurrent dropout (the product saw mask ⊙ h) += mask ⊙ (dG · W),
// the product first landing in `product` [B, n].
export function addRecurrentGradient(dhBefore: usize, dG: usize, ldG: i32, w: PackedMatrix, product: usize, mask: usize,
  B: i32, n: i32): void {
  if (mask == 0) {
    gemmPacked(B, dG, <usize>ldG, w, dhBefore, <usize>n, true);
    return;
  }
  gemmPacked(B, dG, <usize>ldG, w, product, <usize>n, false);
  for (let i = 0; i < B * n; i++) {
    store<f32>(at(dhBefore, i), load<f32>(at(dhBefore, i)) + load<f32>(at(mask, i)) * load<f32>(at(product, i)));
  }
}

// The state entering a recurrent product: h itself, or mask ⊙ h in `scratch` (B·n floats).
export function recurrentInput(scratch: usize, h: usize, mask: usize, count: i32): usize {
  if (mask == 0) return h;
  multiplyFloats(scratch, h, mask, count);
  return scratch;
}

// The states that entered every step's recurrent product, in time order (for the weight gradient
// after the loop): the workspace's slots, or mask ⊙ them in `scratch` (T·B·n floats).
export function recurrentInputs(scratch: usize, ws: Workspace, n: i32): usize {
  const h = rowsAt(ws.h, ws.firstSlotBefore, ws.B, n);
  const mask = ws.recurrentMask;
  if (mask == 0) return h;
  const perStep = ws.B * n;
  for (let t = 0; t < ws.T; t++) multiplyFloats(at(scratch, t * perStep), at(h, t * perStep), mask, perStep);
  return scratch;
}
