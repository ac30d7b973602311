// Vanilla RNN over one direction of one layer: h' = act(W x + b + R h + r), act = tanh or relu.
import { relu4, tanh4 } from '../activations';
import { gemmPacked, gemmTransA } from '../gemm/gemm';
import { at, copyFloats, loadLanes, rowAt, rowsAt, storeLanes, zeroFloats } from '../lanes';
import { CELL_RNN_RELU, LayerDesc } from './layer';
import { scratchFloats, scratchSize } from './scratch';
import {
  addRecurrentGradient, beginPreviousGradient, columnSums, copyOrZero, inputGradients, projectInputs, recurrentInput,
  recurrentInputs, stepGradient, writeOutputRows, zoneoutRows,
} from './sequence';
import { Workspace } from './workspace';

// Units [j, j + n) of one row: h = act(pre)
@inline function rnnCellForward(h: usize, pre: usize, useRelu: bool, j: i32, n: i32): void {
  const p = loadLanes(at(pre, j), n);
  storeLanes(at(h, j), useRelu ? relu4(p) : tanh4(p), n);
}

// Units [j, j + n) of one row, backward: dG = dh ⊙ act'(pre) for the total gradient dh on the cell's
// new state, both derivatives read off that state h: tanh' = 1 − h², relu' = [h > 0].
@inline function rnnCellBackward(dG: usize, dh: usize, h: usize, useRelu: bool, j: i32, n: i32): void {
  const d = loadLanes(at(dh, j), n);
  const hv = loadLanes(at(h, j), n);
  const g = useRelu
    ? v128.and(d, f32x4.gt(hv, f32x4.splat(0)))
    : f32x4.mul(d, f32x4.sub(f32x4.splat(1), f32x4.mul(hv, hv)));
  storeLanes(at(dG, j), g, n);
}

export function rnnForwardScratch(d: LayerDesc, B: i32): u64 {
  return scratchSize(<u64>B * <u64>d.hiddenSize);
}

// y [T, B, H] (rows ldy apart), hN [B, H], ws; x [T, B, I] (in ws), h0 [B, H] (or 0)
export function rnnLayerForward(y: usize, ldy: i32, hN: usize, ws: Workspace, h0: usize, d: LayerDesc): void {
  const H = d.hiddenSize;
  const B = ws.B;
  const useRelu = d.cell == CELL_RNN_RELU;
  const hMasked = scratchFloats(B * H); // recurrent dropout: mask ⊙ h

  projectInputs(ws.gates, ws.x, ws.rows, d);
  copyOrZero(rowsAt(ws.h, ws.firstSlot, B, H), h0, B * H);
  for (let step = 0; step < ws.T; step++) {
    const t = ws.timeAt(step);
    const hPrev = rowsAt(ws.h, ws.slotBefore(t), B, H);
    const hNew = rowsAt(ws.h, ws.slotAfter(t), B, H);
    const pre = rowsAt(ws.gates, t, B, H);
    // With zoneout the cell's own new state replaces its pre-activation (backward reads act' off it).
    const cand = ws.zonesHidden ? pre : hNew;
    gemmPacked(B, recurrentInput(hMasked, hPrev, ws.recurrentMask, B * H), <usize>H, d.wHhT, pre, <usize>H, true);
    for (let b = 0; b < B; b++) {
      if (!ws.active(t, b)) {
        copyFloats(rowAt(hNew, b, H), rowAt(hPrev, b, H), H);
        continue;
      }
      const hRow = rowAt(cand, b, H);
      const preRow = rowAt(pre, b, H);
      for (let j = 0; j < H; j += 4) rnnCellForward(hRow, preRow, useRelu, j, H - j);
    }
    zoneoutRows(hNew, hPrev, cand, ws.zoneoutHiddenMask, ws.zoneoutHidden, ws, t, H);
    writeOutputRows(y, ldy, ws, t, hNew, H);
  }
  copyFloats(hN, rowsAt(ws.h, ws.finalSlot, B, H), B * H);
}

export function rnnBackwardScratch(d: LayerDesc, T: i32, B: i32, recurrentMask: bool): u64 {
  const H = <u64>d.hiddenSize;
  const rows = <u64>T * <u64>B;
  const masked = recurrentMask ? scratchSize(<u64>B * H) + scratchSize(rows * H) : 0;
  return scratchSize(rows * H) + 3 * scratchSize(<u64>B * H) + masked;
}

// dX [T, B, I], dh0 [B, H], grads (written); dY [T, B, H] (rows ldDY apart), dhN [B, H] (or 0), ws
export function rnnLayerBackward(dX: usize, dh0: usize, grads: usize, dY: usize, ldDY: i32, dhN: usize, ws: Workspace, d: LayerDesc): void {
  const H = d.hiddenSize;
  const B = ws.B;
  const rows = ws.rows;
  const useRelu = d.cell == CELL_RNN_RELU;
  const mask = ws.recurrentMask;

  const dG = scratchFloats(rows * H);
  const dht = scratchFloats(B * H);
  let dh = scratchFloats(B * H);
  let dhBefore = scratchFloats(B * H);
  const dhRecurrent = mask != 0 ? scratchFloats(B * H) : 0; // dh's recurrent part, before the mask
  copyOrZero(dh, dhN, B * H);

  for (let step = ws.T - 1; step >= 0; step--) {
    const t = ws.timeAt(step);
    // The cell's own new state, whose value gives act'.
    const hNew = ws.zonesHidden ? rowsAt(ws.gates, t, B, H) : rowsAt(ws.h, ws.slotAfter(t), B, H);
    const dGt = rowsAt(dG, t, B, H);
    stepGradient(dht, dh, dY, ldDY, ws, t, H);
    beginPreviousGradient(dhBefore, dht, dh, ws.zoneoutHiddenMask, ws.zoneoutHidden, ws, t, H);
    for (let b = 0; b < B; b++) {
      const dGrow = rowAt(dGt, b, H);
      if (!ws.active(t, b)) {
        zeroFloats(dGrow, H);
        continue;
      }
      const dhRow = rowAt(dht, b, H);
      const hRow = rowAt(hNew, b, H);
      for (let j = 0; j < H; j += 4) rnnCellBackward(dGrow, dhRow, hRow, useRelu, j, H - j);
    }
    addRecurrentGradient(dhBefore, dGt, H, d.wHhB, dhRecurrent, mask, B, H);
    const dhNext = dh;
    dh = dhBefore;
    dhBefore = dhNext;
  }
  copyFloats(dh0, dh, B * H);

  inputGradients(dX, d.gradOf(grads, d.wIh), d.gradOf(grads, d.bIh), dG, ws, d);
  const hPrevAll = recurrentInputs(mask != 0 ? scratchFloats(rows * H) : 0, ws, H);
  gemmTransA(H, H, rows, dG, <usize>H, hPrevAll, <usize>H, d.gradOf(grads, d.wHh), <usize>H);
  if (d.bias) columnSums(d.gradOf(grads, d.bHh), dG, rows, H, H);
}
