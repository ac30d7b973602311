// Vanilla RNN over one direction of one layer: h' = act(W x + b + R h + r), act = tanh or relu.
import { relu4, tanh4 } from '../activations';
import { gemmPacked, gemmTransA } from '../gemm/gemm';
import { at, copyFloats, loadLanes, rowAt, rowsAt, storeLanes, zeroFloats } from '../lanes';
import { CELL_RNN_RELU, LayerDesc } from './layer';
import { scratchFloats, scratchSize } from './scratch';
import { columnSums, copyOrZero, dYRow, inputGradients, projectInputs, writeOutputRows } from './sequence';
import { Workspace } from './workspace';

// Units [j, j + n) of one row: h = act(pre)
@inline function rnnCellForward(h: usize, pre: usize, useRelu: bool, j: i32, n: i32): void {
  const p = loadLanes(at(pre, j), n);
  storeLanes(at(h, j), useRelu ? relu4(p) : tanh4(p), n);
}

// Units [j, j + n) of one row, backward: dG = (dh + dy) ⊙ act'(pre), both derivatives read off the
// output h: tanh' = 1 − h², relu' = [h > 0]. dy is 0 when there is no output gradient.
@inline function rnnCellBackward(dG: usize, dh: usize, dy: usize, h: usize, useRelu: bool, j: i32, n: i32): void {
  let d = loadLanes(at(dh, j), n);
  if (dy != 0) d = f32x4.add(d, loadLanes(at(dy, j), n));
  const hv = loadLanes(at(h, j), n);
  const g = useRelu
    ? v128.and(d, f32x4.gt(hv, f32x4.splat(0)))
    : f32x4.mul(d, f32x4.sub(f32x4.splat(1), f32x4.mul(hv, hv)));
  storeLanes(at(dG, j), g, n);
}

// y [T, B, H] (rows ldy apart), hN [B, H], ws; x [T, B, I] (in ws), h0 [B, H] (or 0)
export function rnnLayerForward(y: usize, ldy: i32, hN: usize, ws: Workspace, h0: usize, d: LayerDesc): void {
  const H = d.hiddenSize;
  const B = ws.B;
  const useRelu = d.cell == CELL_RNN_RELU;

  projectInputs(ws.gates, ws.x, ws.rows, d);
  copyOrZero(rowsAt(ws.h, ws.firstSlot, B, H), h0, B * H);
  for (let step = 0; step < ws.T; step++) {
    const t = ws.timeAt(step);
    const hPrev = rowsAt(ws.h, ws.slotBefore(t), B, H);
    const hNew = rowsAt(ws.h, ws.slotAfter(t), B, H);
    const pre = rowsAt(ws.gates, t, B, H);
    gemmPacked(B, hPrev, <usize>H, d.wHhT, pre, <usize>H, true);
    for (let b = 0; b < B; b++) {
      const hRow = rowAt(hNew, b, H);
      if (!ws.active(t, b)) {
        copyFloats(hRow, rowAt(hPrev, b, H), H);
        continue;
      }
      const preRow = rowAt(pre, b, H);
      let j = 0;
      for (; j + 4 <= H; j += 4) rnnCellForward(hRow, preRow, useRelu, j, 4);
      if (j < H) rnnCellForward(hRow, preRow, useRelu, j, H - j);
    }
    writeOutputRows(y, ldy, ws, t, hNew, H);
  }
  copyFloats(hN, rowsAt(ws.h, ws.finalSlot, B, H), B * H);
}

export function rnnBackwardScratch(d: LayerDesc, T: i32, B: i32): u64 {
  const H = <u64>d.hiddenSize;
  return scratchSize(<u64>T * <u64>B * H) + 2 * scratchSize(<u64>B * H);
}

// dX [T, B, I], dh0 [B, H], grads (written); dY [T, B, H] (rows ldDY apart), dhN [B, H] (or 0), ws
export function rnnLayerBackward(dX: usize, dh0: usize, grads: usize, dY: usize, ldDY: i32, dhN: usize, ws: Workspace, d: LayerDesc): void {
  const H = d.hiddenSize;
  const B = ws.B;
  const rows = ws.rows;
  const useRelu = d.cell == CELL_RNN_RELU;

  const dG = scratchFloats(rows * H);
  let dh = scratchFloats(B * H);
  let dhBefore = scratchFloats(B * H);
  copyOrZero(dh, dhN, B * H);

  for (let step = ws.T - 1; step >= 0; step--) {
    const t = ws.timeAt(step);
    const hNew = rowsAt(ws.h, ws.slotAfter(t), B, H);
    const dGt = rowsAt(dG, t, B, H);
    for (let b = 0; b < B; b++) {
      const dGrow = rowAt(dGt, b, H);
      if (!ws.active(t, b)) {
        zeroFloats(dGrow, H);
        copyFloats(rowAt(dhBefore, b, H), rowAt(dh, b, H), H);
        continue;
      }
      const dhRow = rowAt(dh, b, H);
      const dy = dYRow(dY, ldDY, ws, t, b);
      const hRow = rowAt(hNew, b, H);
      let j = 0;
      for (; j + 4 <= H; j += 4) rnnCellBackward(dGrow, dhRow, dy, hRow, useRelu, j, 4);
      if (j < H) rnnCellBackward(dGrow, dhRow, dy, hRow, useRelu, j, H - j);
      zeroFloats(rowAt(dhBefore, b, H), H);
    }
    gemmPacked(B, dGt, <usize>H, d.wHhB, dhBefore, <usize>H, true);
    const dhNext = dh;
    dh = dhBefore;
    dhBefore = dhNext;
  }
  copyFloats(dh0, dh, B * H);

  inputGradients(dX, d.gradOf(grads, d.wIh), d.gradOf(grads, d.bIh), dG, ws, d);
  const hPrevAll = rowsAt(ws.h, ws.firstSlotBefore, B, H);
  gemmTransA(H, H, rows, dG, <usize>H, hPrevAll, <usize>H, d.gradOf(grads, d.wHh), <usize>H);
  if (d.bias) columnSums(d.gradOf(grads, d.bHh), dG, rows, H, H);
}
