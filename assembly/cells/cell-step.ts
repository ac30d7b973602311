// What a cell's step reads of its call: the layer, the workspace and their sizes. The loop that runs
// the cell sets them once (begin), so that no step works them out again.
import { LayerDesc } from './layer';
import { Workspace } from './workspace';

@unmanaged export class CellStep {
  ws: Workspace;
  d: LayerDesc;
  B: i32;
  H: i32; // hidden units
  G: i32; // gates x H

  begin(ws: Workspace, d: LayerDesc): void {
    this.ws = ws;
    this.d = d;
    this.B = ws.B;
    this.H = d.hiddenSize;
    this.G = d.gateSize;
  }
}
