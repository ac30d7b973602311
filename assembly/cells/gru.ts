// GRU over one direction of one layer, PyTorch's gate order (r, z, n). Two candidate forms:
// linear-before-reset (PyTorch, Keras reset_after): n = tanh(Wn x + bn + r ⊙ (Rn h + rn));
// reset-before-linear (ONNX default, Cho et al.):   n = tanh(Wn x + bn + Rn (r ⊙ h) + rn).
import { sigmoid4, tanh4 } from '../activations';
import { gemmPacked, gemmTransA } from '../gemm/gemm';
import { at, loadLanes, multiplyFloats, rowAt, rowsAt, storeLanes } from '../lanes';
import { backwardLoopScratch, beginBackward } from './backward-loop';
import { CellStep } from './cell-step';
import { forwardLoopScratch, runForward } from './forward-loop';
import { LayerDesc } from './layer';
import { scratchFloats, scratchSize } from './scratch';
import { zeroPaddedRows } from './sequence';
import { Workspace } from './workspace';

@inline function oneMinus(v: v128): v128 {
  return f32x4.sub(f32x4.splat(1), v);
}

// h' = (1 − z) ⊙ n + z ⊙ h
@inline function blend(z: v128, n: v128, hPrev: v128): v128 {
  return f32x4.add(f32x4.mul(oneMinus(z), n), f32x4.mul(z, hPrev));
}

// Units [j0, j1) of one row, forward, linear before reset. gates [3H]: in, r and z holding their x-
// and h-side sums, n only its x side (with bn); out, activated r z n. h [H]; ghn [H] in, Rn h; out,
// Rn h + rn (bhn [H], or 0 without bias); hPrev [H]
@inline function gruCellForwardLbr(gates: usize, h: usize, ghn: usize, bhn: usize, hPrev: usize, H: i32, j0: i32,
  j1: i32): void {
  for (let j = j0; j < j1; j += 4) {
    const n = j1 - j;
    const r = sigmoid4(loadLanes(at(gates, j), n));
    const z = sigmoid4(loadLanes(at(gates, H + j), n));
    let hn = loadLanes(at(ghn, j), n);
    if (bhn != 0) hn = f32x4.add(hn, loadLanes(at(bhn, j), n));
    const cand = tanh4(f32x4.add(loadLanes(at(gates, 2 * H + j), n), f32x4.mul(r, hn)));
    storeLanes(at(gates, j), r, n);
    storeLanes(at(gates, H + j), z, n);
    storeLanes(at(gates, 2 * H + j), cand, n);
    storeLanes(at(ghn, j), hn, n);
    storeLanes(at(h, j), blend(z, cand, loadLanes(at(hPrev, j), n)), n);
  }
}

// Units [j0, j1) of one row, reset before linear, first half: r and z activated in place (their
// pre-activations already hold R_rz h), rh = r ⊙ hPrev, the input of the candidate's recurrent product
@inline function gruCellForwardRzRbl(gates: usize, rh: usize, hPrev: usize, H: i32, j0: i32, j1: i32): void {
  for (let j = j0; j < j1; j += 4) {
    const n = j1 - j;
    const r = sigmoid4(loadLanes(at(gates, j), n));
    storeLanes(at(gates, j), r, n);
    storeLanes(at(gates, H + j), sigmoid4(loadLanes(at(gates, H + j), n)), n);
    storeLanes(at(rh, j), f32x4.mul(r, loadLanes(at(hPrev, j), n)), n);
  }
}

// Second half, once the candidate's pre-activation holds Rn (r ⊙ h): n activated in place and h'
@inline function gruCellForwardNRbl(gates: usize, h: usize, hPrev: usize, H: i32, j0: i32, j1: i32): void {
  for (let j = j0; j < j1; j += 4) {
    const n = j1 - j;
    const cand = tanh4(loadLanes(at(gates, 2 * H + j), n));
    storeLanes(at(gates, 2 * H + j), cand, n);
    storeLanes(at(h, j), blend(loadLanes(at(gates, H + j), n), cand, loadLanes(at(hPrev, j), n)), n);
  }
}

// Units [j0, j1) of one row, backward, linear before reset. dG [3H] on the x-side pre-activations,
// dGh [3H] on the recurrent side (they differ in n: r scales Rn h + rn), dhBefore [H] += the direct part;
// gates [3H] activated, ghn [H], hPrev [H], dh [H] total gradient on this step's h
@inline function gruCellBackwardLbr(dG: usize, dGh: usize, dhBefore: usize, gates: usize, ghn: usize, hPrev: usize,
  dh: usize, H: i32, j0: i32, j1: i32): void {
  for (let j = j0; j < j1; j += 4) {
    const n = j1 - j;
    const r = loadLanes(at(gates, j), n);
    const z = loadLanes(at(gates, H + j), n);
    const cand = loadLanes(at(gates, 2 * H + j), n);
    const dhv = loadLanes(at(dh, j), n);
    const dpn = f32x4.mul(f32x4.mul(dhv, oneMinus(z)), oneMinus(f32x4.mul(cand, cand)));
    const dpz = f32x4.mul(f32x4.mul(f32x4.mul(dhv, f32x4.sub(loadLanes(at(hPrev, j), n), cand)), z), oneMinus(z));
    const dpr = f32x4.mul(f32x4.mul(f32x4.mul(dpn, loadLanes(at(ghn, j), n)), r), oneMinus(r));
    storeLanes(at(dG, j), dpr, n);
    storeLanes(at(dG, H + j), dpz, n);
    storeLanes(at(dG, 2 * H + j), dpn, n);
    storeLanes(at(dGh, j), dpr, n);
    storeLanes(at(dGh, H + j), dpz, n);
    storeLanes(at(dGh, 2 * H + j), f32x4.mul(dpn, r), n);
    storeLanes(at(dhBefore, j), f32x4.add(loadLanes(at(dhBefore, j), n), f32x4.mul(dhv, z)), n);
  }
}

// Reset before linear, backward, first half: z and n pre-activation gradients into dG [3H], and the direct
// part added to dhBefore [H]; gates [3H] activated, hPrev [H], dh [H] total gradient on this step's h
@inline function gruCellBackwardZnRbl(dG: usize, dhBefore: usize, gates: usize, hPrev: usize, dh: usize, H: i32, j0: i32, j1: i32): void {
  for (let j = j0; j < j1; j += 4) {
    const n = j1 - j;
    const z = loadLanes(at(gates, H + j), n);
    const cand = loadLanes(at(gates, 2 * H + j), n);
    const dhv = loadLanes(at(dh, j), n);
    storeLanes(at(dG, H + j), f32x4.mul(f32x4.mul(f32x4.mul(dhv, f32x4.sub(loadLanes(at(hPrev, j), n), cand)), z), oneMinus(z)), n);
    storeLanes(at(dG, 2 * H + j), f32x4.mul(f32x4.mul(dhv, oneMinus(z)), oneMinus(f32x4.mul(cand, cand))), n);
    storeLanes(at(dhBefore, j), f32x4.add(loadLanes(at(dhBefore, j), n), f32x4.mul(dhv, z)), n);
  }
}

// Second half, once dRh = d(r ⊙ h) = dn_pre · Rn is known: r's pre-activation gradient, and r's share of dhBefore
@inline function gruCellBackwardRRbl(dG: usize, dhBefore: usize, gates: usize, hPrev: usize, dRh: usize, H: i32, j0: i32,
  j1: i32): void {
  for (let j = j0; j < j1; j += 4) {
    const n = j1 - j;
    const r = loadLanes(at(gates, j), n);
    const drh = loadLanes(at(dRh, j), n);
    storeLanes(at(dG, j), f32x4.mul(f32x4.mul(f32x4.mul(drh, loadLanes(at(hPrev, j), n)), r), oneMinus(r)), n);
    storeLanes(at(dhBefore, j), f32x4.add(loadLanes(at(dhBefore, j), n), f32x4.mul(drh, r)), n);
  }
}

// One step forward and one back, over the rows that take part in step t. Forward, r and z gain R_rz h
// in place; linear before reset keeps n's Rn h apart for r to scale, reset before linear adds
// Rn (r ⊙ h), whose left operand needs r first. Backward, linear before reset: the cell's gradients
// on every gate, and the recurrent side's apart (dGh: they differ in n, which r scales); reset before
// linear: z and n first, then r from d(r ⊙ h) = dn_pre · Rn.
@unmanaged class GruSteps extends CellStep {
  rh: usize; // [B, H] reset before linear: r ⊙ h, the candidate product's input
  dGh: usize; // linear before reset: [T, B, 3H] the recurrent side's gradients; otherwise [B, H] d(r ⊙ h)

  forwardStep(t: i32, hIn: usize, hPrev: usize, hNew: usize): usize {
    const ws = this.ws;
    const d = this.d;
    const B = this.B;
    const H = this.H;
    const G = this.G;
    const gates = rowsAt(ws.gates, t, B, G);
    gemmPacked(B, hIn, <usize>H, d.wHhT, gates, <usize>G, true);
    if (d.linearBeforeReset) {
      const bhn = d.bias ? at(d.bHh, 2 * H) : 0;
      const ghn = rowsAt(ws.ghn, t, B, H);
      gemmPacked(B, hIn, <usize>H, d.wHnT, ghn, <usize>H, false);
      for (let b = 0; b < B; b++) {
        if (!ws.active(t, b)) continue;
        gruCellForwardLbr(rowAt(gates, b, G), rowAt(hNew, b, H), rowAt(ghn, b, H), bhn, rowAt(hPrev, b, H), H, 0, H);
      }
      return hNew;
    }
    const rh = this.rh;
    const mask = ws.recurrentMask;
    for (let b = 0; b < B; b++) gruCellForwardRzRbl(rowAt(gates, b, G), rowAt(rh, b, H), rowAt(hPrev, b, H), H, 0, H);
    // With recurrent dropout n's product sees r ⊙ m ⊙ h.
    if (mask != 0) multiplyFloats(rh, rh, mask, B * H);
    gemmPacked(B, rh, <usize>H, d.wHnT, at(gates, 2 * H), <usize>G, true);
    for (let b = 0; b < B; b++) {
      if (ws.active(t, b)) gruCellForwardNRbl(rowAt(gates, b, G), rowAt(hNew, b, H), rowAt(hPrev, b, H), H, 0, H);
    }
    return hNew;
  }

  backwardStep(t: i32, dG: usize, dht: usize, dhBefore: usize): void {
    const ws = this.ws;
    const B = this.B;
    const H = this.H;
    const G = this.G;
    const hPrev = rowsAt(ws.h, ws.slotBefore(t), B, H);
    const gates = rowsAt(ws.gates, t, B, G);
    if (this.d.linearBeforeReset) {
      const ghn = rowsAt(ws.ghn, t, B, H);
      const dGht = rowsAt(this.dGh, t, B, G);
      zeroPaddedRows(dGht, ws, t, G);
      for (let b = 0; b < B; b++) {
        if (!ws.active(t, b)) continue;
        gruCellBackwardLbr(rowAt(dG, b, G), rowAt(dGht, b, G), rowAt(dhBefore, b, H), rowAt(gates, b, G), rowAt(ghn, b, H),
          rowAt(hPrev, b, H), rowAt(dht, b, H), H, 0, H);
      }
      return;
    }
    for (let b = 0; b < B; b++) {
      if (!ws.active(t, b)) continue;
      gruCellBackwardZnRbl(rowAt(dG, b, G), rowAt(dhBefore, b, H), rowAt(gates, b, G), rowAt(hPrev, b, H), rowAt(dht, b, H), H,
        0, H);
    }
    const dRh = this.dGh;
    const mask = ws.recurrentMask;
    gemmPacked(B, at(dG, 2 * H), <usize>G, this.d.wHnB, dRh, <usize>H, false);
    // With recurrent dropout n's product saw r ⊙ m ⊙ h: scaled by m, d(r ⊙ h) gives both r's
    // gradient (against the true h) and h's.
    if (mask != 0) multiplyFloats(dRh, dRh, mask, B * H);
    for (let b = 0; b < B; b++) {
      if (!ws.active(t, b)) continue;
      gruCellBackwardRRbl(rowAt(dG, b, G), rowAt(dhBefore, b, H), rowAt(gates, b, G), rowAt(hPrev, b, H), rowAt(dRh, b, H), H,
        0, H);
    }
  }
}

const gru = changetype<GruSteps>(memory.data(<i32>offsetof<GruSteps>()));

export function gruForwardScratch(d: LayerDesc, B: i32): u64 {
  return forwardLoopScratch(d, B) + (d.linearBeforeReset ? 0 : scratchSize(<u64>B * <u64>d.hiddenSize));
}

// y [T, B, H] (rows ldy apart), hN [B, H], ws; x [T, B, I] (in ws), h0 [B, H] (or 0)
export function gruLayerForward(y: usize, ldy: i32, hN: usize, ws: Workspace, h0: usize, d: LayerDesc): void {
  gru.rh = d.linearBeforeReset ? 0 : scratchFloats(ws.B * d.hiddenSize);
  runForward(gru, y, ldy, hN, ws, h0, d);
}

export function gruBackwardScratch(d: LayerDesc, T: i32, B: i32, recurrentMask: bool): u64 {
  const rows = <u64>T * <u64>B;
  const H = <u64>d.hiddenSize;
  const lbr = d.linearBeforeReset;
  const candidateInput = lbr ? 0 : scratchSize(rows * H);
  return backwardLoopScratch(d, T, B, recurrentMask, false) + scratchSize(lbr ? rows * 3 * H : <u64>B * H) + candidateInput;
}

// dX [T, B, I], dh0 [B, H], grads (written); dY [T, B, H] (rows ldDY apart), dhN [B, H] (or 0), ws
export function gruLayerBackward(dX: usize, dh0: usize, grads: usize, dY: usize, ldDY: i32, dhN: usize, ws: Workspace, d: LayerDesc): void {
  const H = d.hiddenSize;
  const G = 3 * H;
  const B = ws.B;
  const rows = ws.rows;
  const lbr = d.linearBeforeReset;
  const loop = beginBackward(ws, d, dY, ldDY, dhN, false);
  gru.dGh = scratchFloats(lbr ? rows * G : B * H);
  const recurrent = lbr ? gru.dGh : loop.dG;
  loop.run(gru, recurrent, dh0);
  const hPrevAll = loop.weightGradients(recurrent, lbr ? G : 2 * H, dX, grads);
  if (lbr) return;
  // The candidate's recurrent weights saw r ⊙ h_prev (with recurrent dropout, the masked h),
  // rebuilt here from the stored r.
  const rh = scratchFloats(rows * H);
  for (let t = 0; t < ws.T; t++) {
    const hp = rowsAt(hPrevAll, t, B, H);
    const g = rowsAt(ws.gates, t, B, G);
    const out = rowsAt(rh, t, B, H);
    for (let b = 0; b < B; b++) multiplyFloats(rowAt(out, b, H), rowAt(g, b, G), rowAt(hp, b, H), H);
  }
  gemmTransA(H, H, rows, at(loop.dG, 2 * H), <usize>G, rh, <usize>H, at(d.gradOf(grads, d.wHh), 2 * H * H), <usize>H);
}
