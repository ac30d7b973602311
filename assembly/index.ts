// The module's whole surface. The host (src/backend/wasm*.ts) owns the linear memory and allocates
// every region; these functions only size regions, lay them out and compute in them. One call of
// layerForward or layerBackward runs one layer direction over the whole sequence.
import { CELL_GRU, CELL_LSTM, LayerDesc } from './cells/layer';
import { gruBackwardScratch, gruForwardScratch, gruLayerBackward, gruLayerForward } from './cells/gru';
import { lstmBackwardScratch, lstmForwardScratch, lstmLayerBackward, lstmLayerForward } from './cells/lstm';
import { rnnBackwardScratch, rnnForwardScratch, rnnLayerBackward, rnnLayerForward } from './cells/rnn';
import { beginScratch } from './cells/scratch';
import { VARIANT_RECURRENT_MASK, Workspace, workspaceInit } from './cells/workspace';
import { sigmoid4, tanh4 } from './activations';
import { at, loadLanes, storeLanes } from './lanes';

export { MR as GEMM_MR, NR as GEMM_NR } from './gemm/microkernel';
export { gemm, gemmScratchBytes, useGemmScratch } from './gemm/gemm';
export {
  CELL_GRU, CELL_LSTM, CELL_RNN_RELU, CELL_RNN_TANH, FLAG_BIAS, FLAG_LINEAR_BEFORE_RESET, FLAG_PEEPHOLES, FLAG_REVERSE,
  layerBackwardBytes, layerBytes, layerInit, layerPack, layerPackBackward, layerParam, layerParamsBytes,
} from './cells/layer';
export {
  VARIANT_RECURRENT_MASK, VARIANT_ZONEOUT_CELL, VARIANT_ZONEOUT_CELL_MASK, VARIANT_ZONEOUT_HIDDEN_MASK, workspaceBytes,
} from './cells/workspace';
// Addresses in the layouts above, so that the host never computes an offset into them.
export { layerGradient, workspaceInput } from './cells/host-addresses';

// Where the host's heap may begin: everything below holds this module's static data.
export function heapBase(): usize {
  return __heap_base;
}

export function forwardScratchBytes(d: LayerDesc, B: i32): f64 {
  if (d.cell == CELL_LSTM) return <f64>lstmForwardScratch(d, B);
  if (d.cell == CELL_GRU) return <f64>gruForwardScratch(d, B);
  return <f64>rnnForwardScratch(d, B);
}

// `variants` as the workspace of the forward whose backward this is (VARIANT_* bits).
export function backwardScratchBytes(d: LayerDesc, T: i32, B: i32, variants: i32): f64 {
  const masked = (variants & VARIANT_RECURRENT_MASK) != 0;
  if (d.cell == CELL_LSTM) return <f64>lstmBackwardScratch(d, T, B, masked);
  if (d.cell == CELL_GRU) return <f64>gruBackwardScratch(d, T, B, masked);
  return <f64>rnnBackwardScratch(d, T, B, masked);
}

// ws: a workspaceBytes(d, T, B, variants) region whose input slot (workspaceInput(ws)) holds
// x [T, B, I]. Writes y [T, B, Hout] (contiguous), hN [B, Hout], cN [B, H] (LSTM); h0, c0, lengths
// may be 0, and so may the variants' masks that `variants` does not name (SPEC §3a: recurrent
// dropout's [B, Hout] f32, zoneout's [T, B, Hout] and [T, B, H] bytes; zoneout p where no mask).
export function layerForward(d: LayerDesc, ws: Workspace, scratch: usize, scratchBytes: usize, T: i32, B: i32,
  lengths: usize, h0: usize, c0: usize, y: usize, hN: usize, cN: usize, variants: i32, recurrentMask: usize,
  zoneoutHidden: f32, zoneoutHiddenMask: usize, zoneoutCell: f32, zoneoutCellMask: usize): void {
  workspaceInit(ws, d, T, B, variants, lengths, recurrentMask, zoneoutHidden, zoneoutHiddenMask, zoneoutCell, zoneoutCellMask);
  beginScratch(scratch, scratchBytes);
  if (d.cell == CELL_LSTM) {
    lstmLayerForward(y, d.outSize, hN, cN, ws, h0, c0, d);
  } else if (d.cell == CELL_GRU) {
    gruLayerForward(y, d.outSize, hN, ws, h0, d);
  } else {
    rnnLayerForward(y, d.outSize, hN, ws, h0, d);
  }
}

// ws: a workspace a training forward of this layer filled (layerPackBackward done). Writes dX, dh0,
// dc0 (LSTM) and the parameter gradients into `grads`, laid out like the parameters (layerParam);
// dY [T, B, Hout] (contiguous), dhN, dcN may be 0.
export function layerBackward(d: LayerDesc, ws: Workspace, scratch: usize, scratchBytes: usize, dY: usize, dhN: usize,
  dcN: usize, dX: usize, dh0: usize, dc0: usize, grads: usize): void {
  beginScratch(scratch, scratchBytes);
  if (d.cell == CELL_LSTM) {
    lstmLayerBackward(dX, dh0, dc0, grads, dY, d.outSize, dhN, dcN, ws, d);
  } else if (d.cell == CELL_GRU) {
    gruLayerBackward(dX, dh0, grads, dY, d.outSize, dhN, ws, d);
  } else {
    rnnLayerBackward(dX, dh0, grads, dY, d.outSize, dhN, ws, d);
  }
}

// dst[n] = σ(src) and tanh(src): the kernels' own activations, exported so tests can hold them to account.
export function sigmoidFloats(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) storeLanes(at(dst, i), sigmoid4(loadLanes(at(src, i), n - i)), n - i);
}

export function tanhFloats(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) storeLanes(at(dst, i), tanh4(loadLanes(at(src, i), n - i)), n - i);
}
