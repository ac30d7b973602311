// What every cell's backward does around its own gradient step: the carried gradient on h from the
// last step back (dhN in, dh0 out), each step's total gradient on h and the start of the gradient on
// the state before it, zeros for the pre-activations of padded rows, the recurrent product's share of
// the state before, and after the loop the products over all T·B rows: dX, dW_ih, db_ih, dW_hh, db_hh.
// A cell supplies its step; the same split as native/cells/backward_loop.h, on one thread.
import { gemmTransA } from '../gemm/gemm';
import { copyFloats, rowsAt } from '../lanes';
import { CellStep } from './cell-step';
import { LayerDesc } from './layer';
import { scratchFloats, scratchSize } from './scratch';
import {
  addRecurrentGradient, beginPreviousGradient, columnSums, copyOrZero, inputGradients, recurrentInputs, stepGradient,
  zeroPaddedRows,
} from './sequence';
import { Workspace } from './workspace';

// What beginBackward and the loop take of the scratch; keepStepGradients: dht of every step, not
// only the current one's.
export function backwardLoopScratch(d: LayerDesc, T: i32, B: i32, recurrentMask: bool, keepStepGradients: bool): u64 {
  const rows = <u64>T * <u64>B;
  const n = <u64>d.outSize;
  const masked = recurrentMask ? scratchSize(<u64>B * n) + scratchSize(rows * n) : 0;
  return scratchSize(rows * <u64>d.gateSize) + scratchSize(keepStepGradients ? rows * n : <u64>B * n) +
    2 * scratchSize(<u64>B * n) + masked;
}

// A cell is a CellStep with
//   backwardStep(t: i32, dG: usize, dht: usize, dhBefore: usize): void
// which writes step t's pre-activation gradients dG [B, G] on the rows that take part in t (the
// loop has zeroed the others) from dht [B, Hout], the total gradient on the step's h ((1 − d) ⊙ it
// with zoneout), and adds its direct share of the gradient on the state before to dhBefore [B, Hout].
// Being a type parameter, the call is direct, as a lambda's is in native code.

@unmanaged export class BackwardLoop {
  ws: Workspace;
  d: LayerDesc;
  dY: usize; // [T, B, Hout] rows ldDY apart, or 0
  ldDY: i32;
  n: i32; // Hout
  G: i32; // gates x H
  keepsSteps: bool;
  dG: usize; // [T, B, G]
  dHt: usize; // [B, Hout], or [T, B, Hout] when kept
  dh: usize; // [B, Hout] the gradient carried into a step from the later ones
  dhBefore: usize; // [B, Hout] the gradient on the state before a step, being summed
  dhRecurrent: usize; // [B, Hout] recurrent dropout: the recurrent product before the mask scales it

  // The pre-activation gradients of step t, [B, G].
  @inline dGAt(t: i32): usize {
    return rowsAt(this.dG, t, this.ws.B, this.G);
  }
  // The total gradient on step t's h, [B, Hout] (one buffer for every step unless kept).
  @inline dht(t: i32): usize {
    return this.keepsSteps ? rowsAt(this.dHt, t, this.ws.B, this.n) : this.dHt;
  }

  // The time loop, last step first. recurrent [T, B, G]: the h-side gradients whose product with
  // W_hh (d.wHhB) reaches the state before each step (dG for every cell but GRU with
  // linear-before-reset). Writes dh0 [B, Hout].
  run<Cell extends CellStep>(cell: Cell, recurrent: usize, dh0: usize): void {
    const ws = this.ws;
    cell.begin(ws, this.d);
    const B = ws.B;
    const n = this.n;
    const G = this.G;
    for (let step = ws.T - 1; step >= 0; step--) {
      const t = ws.timeAt(step);
      const dht = this.dht(t);
      const dGt = this.dGAt(t);
      stepGradient(dht, this.dh, this.dY, this.ldDY, ws, t, n);
      beginPreviousGradient(this.dhBefore, dht, this.dh, ws.zoneoutHiddenMask, ws.zoneoutHidden, ws, t, n);
      zeroPaddedRows(dGt, ws, t, G);
      cell.backwardStep(t, dGt, dht, this.dhBefore);
      addRecurrentGradient(this.dhBefore, rowsAt(recurrent, t, B, G), G, this.d.wHhB, this.dhRecurrent, ws.recurrentMask, B, n);
      const dhNext = this.dh;
      this.dh = this.dhBefore;
      this.dhBefore = dhNext;
    }
    copyFloats(dh0, this.dh, B * n);
  }

  // After the loop: dX, dW_ih and db_ih from dG into grads (laid out like the parameters); the first
  // gateRows rows of dW_hh = recurrentᵀ · the states that entered the recurrent products, and
  // db_hh = Σ recurrent. Returns those states ([T, B, Hout], in the scratch or the workspace).
  weightGradients(recurrent: usize, gateRows: i32, dX: usize, grads: usize): usize {
    const ws = this.ws;
    const d = this.d;
    const n = this.n;
    const G = this.G;
    const rows = ws.rows;
    inputGradients(dX, d.gradOf(grads, d.wIh), d.gradOf(grads, d.bIh), this.dG, ws, d);
    const states = recurrentInputs(ws.recurrentMask != 0 ? scratchFloats(rows * n) : 0, ws, n);
    gemmTransA(gateRows, n, rows, recurrent, <usize>G, states, <usize>n, d.gradOf(grads, d.wHh), <usize>n);
    if (d.bias) columnSums(d.gradOf(grads, d.bHh), recurrent, rows, G, G);
    return states;
  }
}

// One call at a time runs in an instance, so one loop serves them all.
const loop = changetype<BackwardLoop>(memory.data(<i32>offsetof<BackwardLoop>()));

// The loop of one backward through ws: dY [T, B, Hout] (rows ldDY apart) and dhN [B, Hout] may be 0.
export function beginBackward(ws: Workspace, d: LayerDesc, dY: usize, ldDY: i32, dhN: usize,
  keepStepGradients: bool): BackwardLoop {
  const rows = ws.rows;
  const B = ws.B;
  const n = d.outSize;
  loop.ws = ws;
  loop.d = d;
  loop.dY = dY;
  loop.ldDY = ldDY;
  loop.n = n;
  loop.G = d.gateSize;
  loop.keepsSteps = keepStepGradients;
  loop.dG = scratchFloats(rows * d.gateSize);
  loop.dHt = scratchFloats(keepStepGradients ? rows * n : B * n);
  loop.dh = scratchFloats(B * n);
  loop.dhBefore = scratchFloats(B * n);
  loop.dhRecurrent = ws.recurrentMask != 0 ? scratchFloats(B * n) : 0;
  copyOrZero(loop.dh, dhN, B * n);
  return loop;
}
