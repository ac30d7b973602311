// Vanilla RNN over one direction of one layer: h' = act(W x + b + R h + r), act = tanh or relu.
import { relu4, tanh4 } from '../activations';
import { gemmPacked } from '../gemm/gemm';
import { at, loadLanes, rowAt, rowsAt, storeLanes } from '../lanes';
import { backwardLoopScratch, beginBackward } from './backward-loop';
import { CellStep } from './cell-step';
import { forwardLoopScratch, runForward } from './forward-loop';
import { CELL_RNN_RELU, LayerDesc } from './layer';
import { Workspace } from './workspace';

// Units [j0, j1) of one row: h = act(pre)
@inline function rnnCellForward(h: usize, pre: usize, useRelu: bool, j0: i32, j1: i32): void {
  for (let j = j0; j < j1; j += 4) {
    const n = j1 - j;
    const p = loadLanes(at(pre, j), n);
    storeLanes(at(h, j), useRelu ? relu4(p) : tanh4(p), n);
  }
}

// Units [j0, j1) of one row, backward: dPre = dh ⊙ act'(pre) for the total gradient dh on the cell's
// new state h, both derivatives read off h: tanh' = 1 − h², relu' = [h > 0].
@inline function rnnCellBackward(dPre: usize, h: usize, dh: usize, useRelu: bool, j0: i32, j1: i32): void {
  for (let j = j0; j < j1; j += 4) {
    const n = j1 - j;
    const d = loadLanes(at(dh, j), n);
    const hv = loadLanes(at(h, j), n);
    const g = useRelu
      ? v128.and(d, f32x4.gt(hv, f32x4.splat(0)))
      : f32x4.mul(d, f32x4.sub(f32x4.splat(1), f32x4.mul(hv, hv)));
    storeLanes(at(dPre, j), g, n);
  }
}

// The cell's own new state, whose value gives act': with zoneout h holds the mix, so the state
// takes the pre-activation's place in gates instead.
@inline function cellState(ws: Workspace, t: i32, H: i32): usize {
  return ws.zonesHidden ? rowsAt(ws.gates, t, ws.B, H) : rowsAt(ws.h, ws.slotAfter(t), ws.B, H);
}

// One step forward and one back, over the rows that take part in step t.
@unmanaged class RnnSteps extends CellStep {
  forwardStep(t: i32, hIn: usize, hPrev: usize, hNew: usize): usize {
    const ws = this.ws;
    const H = this.H;
    const useRelu = this.d.cell == CELL_RNN_RELU;
    const pre = rowsAt(ws.gates, t, this.B, H);
    const cand = cellState(ws, t, H);
    gemmPacked(this.B, hIn, <usize>H, this.d.wHhT, pre, <usize>H, true);
    for (let b = 0; b < this.B; b++) {
      if (ws.active(t, b)) rnnCellForward(rowAt(cand, b, H), rowAt(pre, b, H), useRelu, 0, H);
    }
    return cand;
  }

  backwardStep(t: i32, dG: usize, dht: usize, dhBefore: usize): void {
    const ws = this.ws;
    const H = this.H;
    const useRelu = this.d.cell == CELL_RNN_RELU;
    const h = cellState(ws, t, H);
    for (let b = 0; b < this.B; b++) {
      if (ws.active(t, b)) rnnCellBackward(rowAt(dG, b, H), rowAt(h, b, H), rowAt(dht, b, H), useRelu, 0, H);
    }
  }
}

const rnn = changetype<RnnSteps>(memory.data(<i32>offsetof<RnnSteps>()));

export function rnnForwardScratch(d: LayerDesc, B: i32): u64 {
  return forwardLoopScratch(d, B);
}

// y [T, B, H] (rows ldy apart), hN [B, H], ws; x [T, B, I] (in ws), h0 [B, H] (or 0)
export function rnnLayerForward(y: usize, ldy: i32, hN: usize, ws: Workspace, h0: usize, d: LayerDesc): void {
  runForward(rnn, y, ldy, hN, ws, h0, d);
}

export function rnnBackwardScratch(d: LayerDesc, T: i32, B: i32, recurrentMask: bool): u64 {
  return backwardLoopScratch(d, T, B, recurrentMask, false);
}

// dX [T, B, I], dh0 [B, H], grads (written); dY [T, B, H] (rows ldDY apart), dhN [B, H] (or 0), ws
export function rnnLayerBackward(dX: usize, dh0: usize, grads: usize, dY: usize, ldDY: i32, dhN: usize, ws: Workspace, d: LayerDesc): void {
  const loop = beginBackward(ws, d, dY, ldDY, dhN, false);
  loop.run(rnn, loop.dG, dh0);
  loop.weightGradients(loop.dG, d.hiddenSize, dX, grads);
}
