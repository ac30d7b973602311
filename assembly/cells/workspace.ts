// One sequence through one layer direction: its time order, which batch rows take part in each step,
// and what forward keeps for backward. A workspace is one relocatable region (the header holds
// offsets, not addresses): the host copies it out after a training forward and back in for backward.
import { LayerDesc, CELL_GRU, CELL_LSTM } from './layer';
import { alignUp, floatBytes } from './layout';

// Which of the variants' buffers a workspace holds (the host passes these bits with the call).
export const VARIANT_RECURRENT_MASK = 1; // recurrent dropout's mask [B, Hout]
export const VARIANT_ZONEOUT_HIDDEN_MASK = 2; // zoneout's per-step mask of h [T, B, Hout] (bytes)
export const VARIANT_ZONEOUT_CELL_MASK = 4; // and of c [T, B, H] (bytes)
export const VARIANT_ZONEOUT_CELL = 8; // c is zoned out (mask or probability): c̃ is kept apart

@unmanaged export class Workspace {
  T: i32;
  B: i32;
  reverse: bool;
  hasLengths: bool;
  // Byte offsets from the header; 0 for a buffer this cell does not use.
  hAt: usize; // [T + 1, B, Hout] states in time-indexed slots (see slotBefore / slotAfter)
  cAt: usize; // [T + 1, B, H] LSTM cell states
  gatesAt: usize; // [T, B, G*H] activated gates (LSTM i f g o; GRU r z n; RNN pre-activation scratch)
  mAt: usize; // [T, B, H] LSTM with projection: o ⊙ tanh(c) before W_hr
  ghnAt: usize; // [T, B, H] GRU with linear-before-reset: Rn h + rn
  lengthsAt: usize; // [B] i32
  // The variants: masks copied in by workspaceInit, and zoneout's probabilities for evaluation.
  recurrentMaskAt: usize; // [B, Hout] f32
  zoneoutHiddenMaskAt: usize; // [T, B, Hout] u8
  zoneoutCellMaskAt: usize; // [T, B, H] u8
  cCandAt: usize; // [T, B, H] LSTM with cell zoneout: the cell's own new state c̃
  zoneoutHidden: f32;
  zoneoutCell: f32;

  // The input [T, B, I] comes first, right after the header, so the host can copy it straight in.
  @inline get x(): usize {
    return changetype<usize>(this) + WORKSPACE_INPUT_OFFSET;
  }
  @inline get h(): usize {
    return changetype<usize>(this) + this.hAt;
  }
  @inline get c(): usize {
    return changetype<usize>(this) + this.cAt;
  }
  @inline get gates(): usize {
    return changetype<usize>(this) + this.gatesAt;
  }
  @inline get m(): usize {
    return changetype<usize>(this) + this.mAt;
  }
  @inline get ghn(): usize {
    return changetype<usize>(this) + this.ghnAt;
  }
  @inline get lengths(): usize {
    return changetype<usize>(this) + this.lengthsAt;
  }
  // 0 where the variant is off.
  @inline get recurrentMask(): usize {
    return this.recurrentMaskAt == 0 ? 0 : changetype<usize>(this) + this.recurrentMaskAt;
  }
  @inline get zoneoutHiddenMask(): usize {
    return this.zoneoutHiddenMaskAt == 0 ? 0 : changetype<usize>(this) + this.zoneoutHiddenMaskAt;
  }
  @inline get zoneoutCellMask(): usize {
    return this.zoneoutCellMaskAt == 0 ? 0 : changetype<usize>(this) + this.zoneoutCellMaskAt;
  }
  @inline get cCand(): usize {
    return changetype<usize>(this) + this.cCandAt;
  }
  @inline get zonesHidden(): bool {
    return this.zoneoutHiddenMaskAt != 0 || this.zoneoutHidden != 0;
  }
  @inline get zonesCell(): bool {
    return this.zoneoutCellMaskAt != 0 || this.zoneoutCell != 0;
  }
  @inline get rows(): i32 {
    return this.T * this.B;
  }

  // The time step taken at position `step` of the direction's order.
  @inline timeAt(step: i32): i32 {
    return this.reverse ? this.T - 1 - step : step;
  }
  // States live in T + 1 slots so that the state entering time t and the one leaving it are adjacent
  // whichever way the direction runs.
  @inline slotBefore(t: i32): i32 {
    return this.reverse ? t + 1 : t;
  }
  @inline slotAfter(t: i32): i32 {
    return this.reverse ? t : t + 1;
  }
  @inline get firstSlot(): i32 {
    return this.reverse ? this.T : 0;
  }
  @inline get finalSlot(): i32 {
    return this.reverse ? 0 : this.T;
  }
  // The slots entering t = 0..T-1, in order, are contiguous from here.
  @inline get firstSlotBefore(): i32 {
    return this.reverse ? 1 : 0;
  }
  // Row b takes part in time t (PyTorch's packed-sequence semantics).
  @inline active(t: i32, b: i32): bool {
    return !this.hasLengths || t < load<i32>(this.lengths + (<usize>b << 2));
  }
}

export const WORKSPACE_INPUT_OFFSET: usize = (offsetof<Workspace>() + 15) & ~15;

const sizing = changetype<Workspace>(memory.data(<i32>offsetof<Workspace>()));

// Fills the header for a sequence of T steps and B rows; returns the workspace's size in bytes.
function layoutWorkspace(ws: Workspace, d: LayerDesc, T: i32, B: i32, hasLengths: bool, variants: i32): u64 {
  const rows = <u64>T * <u64>B;
  const slots = rows + <u64>B;
  const h = <u64>d.hiddenSize;
  const lstm = d.cell == CELL_LSTM;
  ws.T = T;
  ws.B = B;
  ws.reverse = d.reverse;
  ws.hasLengths = hasLengths;
  let end = <u64>WORKSPACE_INPUT_OFFSET + floatBytes(rows * <u64>d.inputSize);
  ws.hAt = <usize>end;
  end += floatBytes(slots * <u64>d.outSize);
  ws.cAt = lstm ? <usize>end : 0;
  if (lstm) end += floatBytes(slots * h);
  ws.gatesAt = <usize>end;
  end += floatBytes(rows * <u64>d.gateSize);
  const keepsM = lstm && d.projSize > 0;
  ws.mAt = keepsM ? <usize>end : 0;
  if (keepsM) end += floatBytes(rows * h);
  const keepsGhn = d.cell == CELL_GRU && d.linearBeforeReset;
  ws.ghnAt = keepsGhn ? <usize>end : 0;
  if (keepsGhn) end += floatBytes(rows * h);
  ws.lengthsAt = <usize>end;
  end += alignUp(<u64>B << 2);
  const hout = <u64>d.outSize;
  ws.recurrentMaskAt = (variants & VARIANT_RECURRENT_MASK) != 0 ? <usize>end : 0;
  if (ws.recurrentMaskAt != 0) end += floatBytes(<u64>B * hout);
  ws.zoneoutHiddenMaskAt = (variants & VARIANT_ZONEOUT_HIDDEN_MASK) != 0 ? <usize>end : 0;
  if (ws.zoneoutHiddenMaskAt != 0) end += alignUp(rows * hout);
  ws.zoneoutCellMaskAt = lstm && (variants & VARIANT_ZONEOUT_CELL_MASK) != 0 ? <usize>end : 0;
  if (ws.zoneoutCellMaskAt != 0) end += alignUp(rows * h);
  ws.cCandAt = lstm && (variants & VARIANT_ZONEOUT_CELL) != 0 ? <usize>end : 0;
  if (ws.cCandAt != 0) end += floatBytes(rows * h);
  return end;
}

export function workspaceBytes(d: LayerDesc, T: i32, B: i32, variants: i32): f64 {
  return <f64>layoutWorkspace(sizing, d, T, B, false, variants);
}

// The header of a new workspace; lengths (B i32, or 0 for all T) and the variants' masks (each 0
// when absent, as `variants` says) are copied inside it.
export function workspaceInit(ws: Workspace, d: LayerDesc, T: i32, B: i32, variants: i32, lengths: usize,
  recurrentMask: usize, zoneoutHidden: f32, zoneoutHiddenMask: usize, zoneoutCell: f32, zoneoutCellMask: usize): void {
  // Buffers the layout left out must not be asked for: a mask without its bit, or zoneout of c
  // (which keeps c̃ apart) without VARIANT_ZONEOUT_CELL, would run past the region.
  const lstm = d.cell == CELL_LSTM;
  const zonesCell = lstm && (zoneoutCellMask != 0 || zoneoutCell != 0);
  if (((variants & VARIANT_RECURRENT_MASK) != 0) != (recurrentMask != 0)) unreachable();
  if (((variants & VARIANT_ZONEOUT_HIDDEN_MASK) != 0) != (zoneoutHiddenMask != 0)) unreachable();
  if (lstm && ((variants & VARIANT_ZONEOUT_CELL_MASK) != 0) != (zoneoutCellMask != 0)) unreachable();
  if (lstm && ((variants & VARIANT_ZONEOUT_CELL) != 0) != zonesCell) unreachable();
  layoutWorkspace(ws, d, T, B, lengths != 0, variants);
  const rows = <usize>T * <usize>B;
  if (lengths != 0) memory.copy(ws.lengths, lengths, <usize>B << 2);
  if (ws.recurrentMaskAt != 0) memory.copy(ws.recurrentMask, recurrentMask, (<usize>B * <usize>d.outSize) << 2);
  if (ws.zoneoutHiddenMaskAt != 0) memory.copy(ws.zoneoutHiddenMask, zoneoutHiddenMask, rows * <usize>d.outSize);
  if (ws.zoneoutCellMaskAt != 0) memory.copy(ws.zoneoutCellMask, zoneoutCellMask, rows * <usize>d.hiddenSize);
  ws.zoneoutHidden = zoneoutHidden;
  ws.zoneoutCell = lstm ? zoneoutCell : 0;
}
