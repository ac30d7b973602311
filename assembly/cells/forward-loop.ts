// What every cell's forward does around its own update: the input projection before the loop, h0
// into the first state slot, the state entering each recurrent product (with recurrent dropout, mask
// ⊙ h), each step's new state finished (padded rows carry the state before, zoneout, y), and hN after
// the loop. A cell supplies its step; the loop hands it the time index and the states. The same split
// as native/cells/forward_loop.h, on one thread.
import { copyFloats, rowsAt } from '../lanes';
import { CellStep } from './cell-step';
import { LayerDesc } from './layer';
import { scratchFloats, scratchSize } from './scratch';
import { carryPaddedRows, copyOrZero, projectInputs, recurrentInput, writeOutputRows, zoneoutRows } from './sequence';
import { Workspace } from './workspace';

// What runForward takes of the scratch: mask ⊙ h for recurrent dropout.
export function forwardLoopScratch(d: LayerDesc, B: i32): u64 {
  return scratchSize(<u64>B * <u64>d.outSize);
}

// A cell is a CellStep with
//   forwardStep(t: i32, hIn: usize, hPrev: usize, hNew: usize): usize
// which computes step t's new state on the rows that take part in it, from hIn (the state entering
// the recurrent product, [B, Hout]) and hPrev, writes it to hNew, and returns where its own new state
// is: hNew, or a buffer of its own that zoneout then mixes with hPrev into hNew. Rows that sit the step
// out are the loop's. Being a type parameter, the call is direct, as a lambda's is in native code.

// y [T, B, Hout] (rows ldy apart), hN [B, Hout], ws; x [T, B, I] (in ws), h0 [B, Hout] (or 0)
export function runForward<Cell extends CellStep>(cell: Cell, y: usize, ldy: i32, hN: usize, ws: Workspace, h0: usize,
  d: LayerDesc): void {
  cell.begin(ws, d);
  const n = d.outSize;
  const B = ws.B;
  const hMasked = scratchFloats(B * n);
  projectInputs(ws.gates, ws.x, ws.rows, d);
  copyOrZero(rowsAt(ws.h, ws.firstSlot, B, n), h0, B * n);
  for (let step = 0; step < ws.T; step++) {
    const t = ws.timeAt(step);
    const hPrev = rowsAt(ws.h, ws.slotBefore(t), B, n);
    const hNew = rowsAt(ws.h, ws.slotAfter(t), B, n);
    const cand = cell.forwardStep(t, recurrentInput(hMasked, hPrev, ws.recurrentMask, B * n), hPrev, hNew);
    carryPaddedRows(hNew, hPrev, ws, t, n);
    zoneoutRows(hNew, hPrev, cand, ws.zoneoutHiddenMask, ws.zoneoutHidden, ws, t, n);
    writeOutputRows(y, ldy, ws, t, hNew, n);
  }
  copyFloats(hN, rowsAt(ws.h, ws.finalSlot, B, n), B * n);
}
