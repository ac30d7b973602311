// Addresses inside regions whose layout this module owns, for the host. The host copies a call's
// input into a workspace and reads gradients out of a gradient block; it asks here where they sit
// rather than adding offsets of its own, so the layouts live only in workspace.ts and layer.ts.
import { LayerDesc, layerParam } from './layer';
import { WORKSPACE_INPUT_OFFSET } from './workspace';

// Where the input x [T, B, I] of a forward goes inside its workspace region `ws`.
export function workspaceInput(ws: usize): usize {
  return ws + WORKSPACE_INPUT_OFFSET;
}

// Where the gradient of parameter i (layerParam's numbering) sits in `grads`, a layerParamsBytes(d)
// block layerBackward filled; 0 when layer d has no such parameter.
export function layerGradient(d: LayerDesc, grads: usize, i: i32): usize {
  return d.gradOf(grads, layerParam(d, i));
}
