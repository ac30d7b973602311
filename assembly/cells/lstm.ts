// LSTM over one direction of one layer: PyTorch's gate order (i, f, g, o), optional peepholes
// (ONNX's definition: i and f see the previous cell state, o the new one) and projection (PyTorch's
// proj_size). The cell updates run four hidden units at a time on f32x4.
import { sigmoid4, tanh4 } from '../activations';
import { gemmPacked, gemmTransA } from '../gemm/gemm';
import { at, copyFloats, loadLanes, rowAt, rowsAt, storeLanes, zeroFloats } from '../lanes';
import { backwardLoopScratch, beginBackward } from './backward-loop';
import { CellStep } from './cell-step';
import { forwardLoopScratch, runForward } from './forward-loop';
import { LayerDesc } from './layer';
import { scratchFloats, scratchSize } from './scratch';
import { carryPaddedRows, copyOrZero, zeroPaddedRows, zoneoutLanes, zoneoutRow } from './sequence';
import { Workspace } from './workspace';

@inline function oneMinus(v: v128): v128 {
  return f32x4.sub(f32x4.splat(1), v);
}

// Units [j0, j1) of one row, forward. gates [4H]: in, pre-activations; out, activated i f g o.
// cCand [H] the cell's own new state c̃, m [H] = o ⊙ tanh(c̃); cPrev [H], peep [3H] or 0. With cell
// zoneout (zoned; zMask the row's mask bytes or 0, zP its p), cNew [H] = d ⊙ cPrev + (1 − d) ⊙ c̃,
// mixed while c̃ is in registers.
@inline function lstmCellForward(gates: usize, cCand: usize, cNew: usize, m: usize, cPrev: usize, peep: usize,
  zoned: bool, zMask: usize, zP: f32, H: i32, j0: i32, j1: i32): void {
  for (let j = j0; j < j1; j += 4) {
    const n = j1 - j;
    const cp = loadLanes(at(cPrev, j), n);
    let pi = loadLanes(at(gates, j), n);
    let pf = loadLanes(at(gates, H + j), n);
    let po = loadLanes(at(gates, 3 * H + j), n);
    if (peep != 0) {
      pi = f32x4.add(pi, f32x4.mul(loadLanes(at(peep, j), n), cp));
      pf = f32x4.add(pf, f32x4.mul(loadLanes(at(peep, H + j), n), cp));
    }
    const i = sigmoid4(pi);
    const f = sigmoid4(pf);
    const g = tanh4(loadLanes(at(gates, 2 * H + j), n));
    const c = f32x4.add(f32x4.mul(f, cp), f32x4.mul(i, g));
    if (peep != 0) po = f32x4.add(po, f32x4.mul(loadLanes(at(peep, 2 * H + j), n), c));
    const o = sigmoid4(po);
    storeLanes(at(gates, j), i, n);
    storeLanes(at(gates, H + j), f, n);
    storeLanes(at(gates, 2 * H + j), g, n);
    storeLanes(at(gates, 3 * H + j), o, n);
    storeLanes(at(cCand, j), c, n);
    if (zoned) {
      const d = zoneoutLanes(zMask, zP, j, n);
      storeLanes(at(cNew, j), f32x4.add(f32x4.mul(d, cp), f32x4.mul(oneMinus(d), c)), n);
    }
    storeLanes(at(m, j), f32x4.mul(o, tanh4(c)), n);
  }
}

// Units [j0, j1) of one row, backward. dG [4H] pre-activation gradients, dcPrev [H], dPeep [3H] (+=);
// gates [4H] activated, c [H] the cell's own c̃, cPrev [H], dm [H] gradient on o ⊙ tanh(c), dc [H]
// gradient on the carried c from later steps: with cell zoneout (1 − d) ⊙ dc reaches c̃ and d ⊙ dc
// goes straight to dcPrev.
@inline function lstmCellBackward(dG: usize, dcPrev: usize, dPeep: usize, gates: usize, c: usize, cPrev: usize,
  dm: usize, dc: usize, peep: usize, zoned: bool, zMask: usize, zP: f32, H: i32, j0: i32, j1: i32): void {
  for (let j = j0; j < j1; j += 4) {
    const n = j1 - j;
    const i = loadLanes(at(gates, j), n);
    const f = loadLanes(at(gates, H + j), n);
    const g = loadLanes(at(gates, 2 * H + j), n);
    const o = loadLanes(at(gates, 3 * H + j), n);
    const cv = loadLanes(at(c, j), n);
    const cp = loadLanes(at(cPrev, j), n);
    const dmv = loadLanes(at(dm, j), n);
    const tc = tanh4(cv);
    const dpo = f32x4.mul(f32x4.mul(f32x4.mul(dmv, tc), o), oneMinus(o));
    const dcv = loadLanes(at(dc, j), n);
    const d = zoned ? zoneoutLanes(zMask, zP, j, n) : f32x4.splat(0);
    const dcCand = zoned ? f32x4.mul(oneMinus(d), dcv) : dcv;
    let dcTotal = f32x4.add(dcCand, f32x4.mul(f32x4.mul(dmv, o), oneMinus(f32x4.mul(tc, tc))));
    if (peep != 0) dcTotal = f32x4.add(dcTotal, f32x4.mul(dpo, loadLanes(at(peep, 2 * H + j), n)));
    const dpi = f32x4.mul(f32x4.mul(f32x4.mul(dcTotal, g), i), oneMinus(i));
    const dpf = f32x4.mul(f32x4.mul(f32x4.mul(dcTotal, cp), f), oneMinus(f));
    const dpg = f32x4.mul(f32x4.mul(dcTotal, i), oneMinus(f32x4.mul(g, g)));
    let dcp = f32x4.mul(dcTotal, f);
    if (peep != 0) {
      const throughPeepholes = f32x4.add(f32x4.mul(dpi, loadLanes(at(peep, j), n)), f32x4.mul(dpf, loadLanes(at(peep, H + j), n)));
      dcp = f32x4.add(dcp, throughPeepholes);
      storeLanes(at(dPeep, j), f32x4.add(loadLanes(at(dPeep, j), n), f32x4.mul(dpi, cp)), n);
      storeLanes(at(dPeep, H + j), f32x4.add(loadLanes(at(dPeep, H + j), n), f32x4.mul(dpf, cp)), n);
      storeLanes(at(dPeep, 2 * H + j), f32x4.add(loadLanes(at(dPeep, 2 * H + j), n), f32x4.mul(dpo, cv)), n);
    }
    storeLanes(at(dG, j), dpi, n);
    storeLanes(at(dG, H + j), dpf, n);
    storeLanes(at(dG, 2 * H + j), dpg, n);
    storeLanes(at(dG, 3 * H + j), dpo, n);
    storeLanes(at(dcPrev, j), zoned ? f32x4.add(dcp, f32x4.mul(d, dcv)) : dcp, n);
  }
}

// One step forward and one back, over the rows that take part in step t. Without projection the cell
// output m is the new hidden state itself; with it, m is kept for dW_hr. Backward, dc swaps as the
// loop's dh does: dc is the gradient arriving at a step, dcBefore the one leaving it.
@unmanaged class LstmSteps extends CellStep {
  dPeep: usize; // [3H] (+=), or 0
  dm: usize; // [B, H] with projection: dht · W_hr
  dc: usize; // [B, H]
  dcBefore: usize; // [B, H]

  forwardStep(t: i32, hIn: usize, hPrev: usize, hNew: usize): usize {
    const ws = this.ws;
    const d = this.d;
    const B = this.B;
    const H = this.H;
    const G = this.G;
    const hout = d.outSize;
    const proj = d.projSize > 0;
    const peep = d.peepholes ? d.wPeep : 0;
    const zonesCell = ws.zonesCell;
    const cPrev = rowsAt(ws.c, ws.slotBefore(t), B, H);
    const cNew = rowsAt(ws.c, ws.slotAfter(t), B, H);
    // With cell zoneout the cell's own new state c̃ is kept apart from the state carried on.
    const cCand = zonesCell ? rowsAt(ws.cCand, t, B, H) : cNew;
    const gates = rowsAt(ws.gates, t, B, G);
    const m = proj ? rowsAt(ws.m, t, B, H) : hNew;
    gemmPacked(B, hIn, <usize>hout, d.wHhT, gates, <usize>G, true);
    for (let b = 0; b < B; b++) {
      if (!ws.active(t, b)) continue;
      lstmCellForward(rowAt(gates, b, G), rowAt(cCand, b, H), rowAt(cNew, b, H), rowAt(m, b, H), rowAt(cPrev, b, H), peep,
        zonesCell, zoneoutRow(ws.zoneoutCellMask, ws, t, b, H), ws.zoneoutCell, H, 0, H);
    }
    carryPaddedRows(cNew, cPrev, ws, t, H);
    if (!proj) return hNew;
    // dW_hr sums over every row of m: a padded row must hold zeros, not stale memory.
    zeroPaddedRows(m, ws, t, H);
    gemmPacked(B, m, <usize>H, d.wHrT, hNew, <usize>hout, false);
    return hNew;
  }

  backwardStep(t: i32, dG: usize, dht: usize, dhBefore: usize): void {
    const ws = this.ws;
    const d = this.d;
    const B = this.B;
    const H = this.H;
    const G = this.G;
    const peep = d.peepholes ? d.wPeep : 0;
    const zonesCell = ws.zonesCell;
    const dc = this.dc;
    const dcBefore = this.dcBefore;
    const dPeep = this.dPeep;
    const cPrev = rowsAt(ws.c, ws.slotBefore(t), B, H);
    // The cell's own new state c̃, which tanh and the o peephole saw.
    const cCand = zonesCell ? rowsAt(ws.cCand, t, B, H) : rowsAt(ws.c, ws.slotAfter(t), B, H);
    const gates = rowsAt(ws.gates, t, B, G);
    let dm = dht;
    if (d.projSize > 0) {
      dm = this.dm;
      gemmPacked(B, dht, <usize>d.outSize, d.wHrB, dm, <usize>H, false);
    }
    for (let b = 0; b < B; b++) {
      if (!ws.active(t, b)) continue;
      lstmCellBackward(rowAt(dG, b, G), rowAt(dcBefore, b, H), dPeep, rowAt(gates, b, G), rowAt(cCand, b, H), rowAt(cPrev, b, H),
        rowAt(dm, b, H), rowAt(dc, b, H), peep, zonesCell, zoneoutRow(ws.zoneoutCellMask, ws, t, b, H), ws.zoneoutCell, H, 0, H);
    }
    carryPaddedRows(dcBefore, dc, ws, t, H);
    this.dc = dcBefore;
    this.dcBefore = dc;
  }
}

const lstm = changetype<LstmSteps>(memory.data(<i32>offsetof<LstmSteps>()));

export function lstmForwardScratch(d: LayerDesc, B: i32): u64 {
  return forwardLoopScratch(d, B);
}

// y [T, B, Hout] (rows ldy apart), hN [B, Hout], cN [B, H], ws; x [T, B, I] (in ws), h0 [B, Hout], c0 [B, H] (or 0)
export function lstmLayerForward(y: usize, ldy: i32, hN: usize, cN: usize, ws: Workspace, h0: usize, c0: usize, d: LayerDesc): void {
  const H = d.hiddenSize;
  copyOrZero(rowsAt(ws.c, ws.firstSlot, ws.B, H), c0, ws.B * H);
  runForward(lstm, y, ldy, hN, ws, h0, d);
  copyFloats(cN, rowsAt(ws.c, ws.finalSlot, ws.B, H), ws.B * H);
}

export function lstmBackwardScratch(d: LayerDesc, T: i32, B: i32, recurrentMask: bool): u64 {
  return backwardLoopScratch(d, T, B, recurrentMask, d.projSize > 0) + 3 * scratchSize(<u64>B * <u64>d.hiddenSize);
}

// dX [T, B, I], dh0 [B, Hout], dc0 [B, H], grads (written); dY [T, B, Hout] (rows ldDY apart), dhN, dcN (or 0), ws
export function lstmLayerBackward(dX: usize, dh0: usize, dc0: usize, grads: usize, dY: usize, ldDY: i32, dhN: usize,
  dcN: usize, ws: Workspace, d: LayerDesc): void {
  const H = d.hiddenSize;
  const B = ws.B;
  const proj = d.projSize > 0;
  // With projection, the gradient reaching each step's h is kept for dW_hr after the loop.
  const loop = beginBackward(ws, d, dY, ldDY, dhN, proj);
  lstm.dPeep = d.gradOf(grads, d.wPeep);
  lstm.dm = scratchFloats(B * H);
  lstm.dc = scratchFloats(B * H);
  lstm.dcBefore = scratchFloats(B * H);
  copyOrZero(lstm.dc, dcN, B * H);
  if (lstm.dPeep != 0) zeroFloats(lstm.dPeep, 3 * H);
  loop.run(lstm, loop.dG, dh0);
  copyFloats(dc0, lstm.dc, B * H);
  loop.weightGradients(loop.dG, 4 * H, dX, grads);
  if (proj) gemmTransA(d.outSize, H, ws.rows, loop.dHt, <usize>d.outSize, ws.m, <usize>H, d.gradOf(grads, d.wHr), <usize>H);
}
