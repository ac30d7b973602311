// The shared body of LSTM, GRU and RNN: parameters with PyTorch's names, stacking, directions,
// dropout between layers, batchFirst, lengths, and tapes. Backends see one layer direction at a time.
import { gateCount, hasCellState, outputSize, paramShapes } from '../backend/layer-shape';
import { activeBackend } from '../backend/select';
import type { Backend, BackendLayer, ForwardArgs, LayerForward, LayerParams, LayerSpec, Workspace } from '../backend/types';
import { rangeError, shapeText, shown, typeError } from '../errors';
import { MAX_FORWARD_CALLS } from '../limits';
import { Rng } from '../random';
import { Tensor, numel } from '../tensor';
import { uninitializedBytes, uninitializedFloat32 } from '../uninitialized';
import { checkOptionKeys } from './arguments';
import { LayerSet } from './layer-set';
import { PreparedModule } from './prepared-module';
import { swapLeadingAxes } from './layout';
import { readRecurrentOptions, type RecurrentConfig } from './options';
import { runAsync, runSync, type Walk } from './schedule';
import { type RecurrentMasks, RecurrentTape, type RecurrentTapeRecord, type Tape, issueTape, openTape } from './tape';

export interface ForwardOptions {
  /** [numLayers * D, B, Hout]; absent: zeros. */
  h0?: Tensor;
  /** [numLayers * D, B, hiddenSize] (LSTM only); absent: zeros. */
  c0?: Tensor;
  /** Valid steps per batch row (0..T), PyTorch packed-sequence semantics without packing. */
  lengths?: ArrayLike<number> | Tensor;
  /** Training mode: draws the dropout, zoneout and weight masks (default false). */
  training?: boolean;
  /** Keep what backward needs and return a tape (default: training). With training false, the
   * tape belongs to the evaluation-mode function: no masks, zoneout's expectation. */
  tape?: boolean;
}

export interface ForwardResult {
  output: Tensor;
  hN: Tensor;
  cN?: Tensor;
  tape?: RecurrentTape;
}

export interface BackwardGradients {
  dOutput?: Tensor;
  dhN?: Tensor;
  dcN?: Tensor;
}

export interface BackwardResult {
  dInput: Tensor;
  dh0: Tensor;
  dc0?: Tensor;
}

const forwardKeys = ['h0', 'c0', 'lengths', 'training', 'tape'];
const backwardKeys = ['dOutput', 'dhN', 'dcN'];

// PyTorch's parameter name (before its layer suffix) of each backend field.
const baseNames: Record<keyof LayerParams, string> = {
  wIh: 'weight_ih',
  wHh: 'weight_hh',
  bIh: 'bias_ih',
  bHh: 'bias_hh',
  wHr: 'weight_hr',
  wPeep: 'weight_peephole',
};

interface ForwardPlan {
  backend: Backend;
  /** One per layer direction: the prepared layers, or this call's with masked weight_hh (in use). */
  layers: LayerSet;
  T: number;
  B: number;
  x: Float32Array; // time-major
  h0?: Float32Array;
  c0?: Float32Array;
  lengths?: Int32Array;
  /** Training mode's masks; absent in evaluation mode. */
  masks?: RecurrentMasks;
  keepTape: boolean;
  /** Where the results and the outputs between layers go: fresh arrays, or a caller's lent ones. */
  floats: FloatLender;
}

/** Float arrays for a forward's results, by slot ('hN', 'cN', 'y0', 'y1', ...). */
export type FloatLender = (n: number, slot: string) => Float32Array;

const freshFloats: FloatLender = (n) => uninitializedFloat32(n);

interface BackwardPlan {
  tape: RecurrentTapeRecord;
  dY?: Float32Array; // time-major
  dhN?: Float32Array;
  dcN?: Float32Array;
}

function checkTensor(where: string, arg: string, t: unknown, shape: number[]): Float32Array {
  if (!(t instanceof Tensor)) throw typeError(where, arg, `a float32 Tensor of shape ${shapeText(shape)}`, t);
  if (t.dtype !== 'float32') throw typeError(where, arg, `a float32 Tensor of shape ${shapeText(shape)}`, t);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw rangeError(where, arg, `of shape ${shapeText(shape)}`, shown(`shape ${shapeText(t.shape)}`));
  }
  return t.data as Float32Array;
}

export abstract class RecurrentLayer extends PreparedModule {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly bidirectional: boolean;
  readonly dropout: number;
  readonly residual: boolean;
  readonly zoneout: Readonly<{ hidden: number; cell: number }>;
  readonly recurrentDropout: number;
  readonly weightDropout: number;
  protected readonly config: RecurrentConfig;
  private readonly dropoutRng: Rng;

  protected constructor(kind: 'LSTM' | 'GRU' | 'RNN', options: unknown) {
    super(kind);
    const c = readRecurrentOptions(kind, options);
    this.config = c;
    this.inputSize = c.inputSize;
    this.hiddenSize = c.hiddenSize;
    this.numLayers = c.numLayers;
    this.bias = c.bias;
    this.batchFirst = c.batchFirst;
    this.bidirectional = c.bidirectional;
    this.dropout = c.dropout;
    this.residual = c.residual;
    this.zoneout = Object.freeze({ ...c.zoneout });
    this.recurrentDropout = c.recurrentDropout;
    this.weightDropout = c.weightDropout;
    // Two streams from one seed: drawing dropout masks never changes the initial weights.
    const init = new Rng(c.seed);
    this.dropoutRng = new Rng(c.seed ^ 0x2545f491);
    const bound = 1 / Math.sqrt(c.hiddenSize);
    for (let k = 0; k < c.numLayers; k++) {
      for (let d = 0; d < this.directions; d++) {
        for (const [name, shape] of this.layerParameterShapes(k, d)) {
          const data = new Float32Array(numel(shape));
          init.fillUniform(data, -bound, bound);
          this.addParameter(name, new Tensor(data, shape));
        }
      }
    }
  }

  get directions(): number {
    return this.config.bidirectional ? 2 : 1;
  }

  /** Size of h: projSize when projecting, else hiddenSize. */
  get outputSize(): number {
    return outputSize(this.config);
  }

  private get hasCellState(): boolean {
    return hasCellState(this.config.cell);
  }

  private layerInputSize(k: number): number {
    return k === 0 ? this.config.inputSize : this.directions * this.outputSize;
  }

  private suffix(k: number, d: number): string {
    return `_l${k}${d === 1 ? '_reverse' : ''}`;
  }

  private layerParameterShapes(k: number, d: number): [string, number[]][] {
    return paramShapes(this.layerSpec(k, d)).map(([field, shape]) => [baseNames[field] + this.suffix(k, d), shape]);
  }

  /** The backend's view of parameters (or gradients) of one layer direction. */
  private layerArrays(k: number, d: number, get: (name: string) => Float32Array): LayerParams {
    const out: Partial<LayerParams> = {};
    for (const [field] of paramShapes(this.layerSpec(k, d))) out[field] = get(baseNames[field] + this.suffix(k, d));
    return out as LayerParams;
  }

  private layerSpec(k: number, d: number): LayerSpec {
    const c = this.config;
    return {
      cell: c.cell,
      inputSize: this.layerInputSize(k),
      hiddenSize: c.hiddenSize,
      projSize: c.projSize,
      bias: c.bias,
      peepholes: c.peepholes,
      linearBeforeReset: c.linearBeforeReset,
      reverse: d === 1,
    };
  }

  /** Backend layers built from the current parameters, kept until they change or the backend does. */
  private backendLayers(backend: Backend): LayerSet {
    return this.prepared.layersFor(backend, () => {
      const layers: BackendLayer[] = [];
      for (let k = 0; k < this.config.numLayers; k++) {
        for (let d = 0; d < this.directions; d++) layers.push(backend.createLayer(this.layerSpec(k, d), this.layerArrays(k, d, (n) => this.parameterData(n))));
      }
      return layers;
    });
  }

  // ---------------------------------------------------------------------------------------------
  // forward

  forward(input: Tensor, o?: ForwardOptions): ForwardResult {
    const plan = this.planForward(`${this.className}.forward`, input, o);
    try {
      return runSync(this.forwardWalk(plan));
    } finally {
      plan.layers.done();
    }
  }

  async forwardAsync(input: Tensor, o?: ForwardOptions): Promise<ForwardResult> {
    return this.runForwardAsync(input, o, undefined);
  }

  /**
   * forwardAsync with its results (and the outputs between layers) in arrays from `floats`, which
   * the caller reuses: the Batcher, whose batch results are copied out before its next batch starts.
   * Fresh arrays from the allocator cost a page fault per 4 KiB on their first write, which on small
   * VMs took longer than a batch's compute. Internal to the package.
   */
  async forwardAsyncInto(input: Tensor, o: ForwardOptions, floats: FloatLender): Promise<ForwardResult> {
    return this.runForwardAsync(input, o, floats);
  }

  // Not one public method through the other: the Batcher's tests and examples/serve/instrument.ts
  // replace forwardAsyncInto on an instance, which must not reach forwardAsync's own calls.
  private async runForwardAsync(input: Tensor, o: ForwardOptions | undefined, floats: FloatLender | undefined): Promise<ForwardResult> {
    const plan = this.planForward(`${this.className}.forwardAsync`, input, o);
    // A tape keeps the outputs between layers for backward: they must not be lent memory.
    if (floats !== undefined && !plan.keepTape) plan.floats = floats;
    try {
      return await runAsync(this.forwardWalk(plan));
    } finally {
      plan.layers.done();
    }
  }

  private planForward(where: string, input: Tensor, options: ForwardOptions | undefined): ForwardPlan {
    const c = this.config;
    const o = checkOptionKeys(where, 'options', options, forwardKeys);
    const layout = c.batchFirst ? '[B, T, inputSize]' : '[T, B, inputSize]';
    if (!(input instanceof Tensor) || input.dtype !== 'float32') {
      throw typeError(where, 'input', `a float32 Tensor ${layout}`, input);
    }
    if (input.shape.length !== 3) {
      throw rangeError(where, 'input', `a 3-D Tensor ${layout}`, shown(`shape ${shapeText(input.shape)}`));
    }
    if (input.shape[2] !== c.inputSize) {
      throw rangeError(where, 'input', `a Tensor with inputSize = ${c.inputSize} features in its last dimension`,
        shown(`shape ${shapeText(input.shape)}`));
    }
    const [T, B] = c.batchFirst ? [input.shape[1], input.shape[0]] : [input.shape[0], input.shape[1]];
    if (T < 1 || B < 1) {
      throw rangeError(where, 'input', 'a Tensor with at least one time step and one batch row', shown(`shape ${shapeText(input.shape)}`));
    }
    const states = c.numLayers * this.directions;
    const h0 = o.h0 === undefined ? undefined : checkTensor(where, 'h0', o.h0, [states, B, this.outputSize]);
    let c0: Float32Array | undefined;
    if (this.hasCellState) {
      c0 = o.c0 === undefined ? undefined : checkTensor(where, 'c0', o.c0, [states, B, c.hiddenSize]);
    } else if (o.c0 !== undefined) {
      throw typeError(where, 'c0', `undefined (${this.className} has no cell state)`, o.c0);
    }
    const lengths = o.lengths === undefined ? undefined : this.checkLengths(where, o.lengths, T, B);
    const training = o.training ?? false;
    if (typeof training !== 'boolean') throw typeError(where, 'training', 'a boolean', training);
    const keepTape = o.tape ?? training;
    if (typeof keepTape !== 'boolean') throw typeError(where, 'tape', 'a boolean', keepTape);
    const backend = activeBackend();
    // Every mask of the call is drawn here, before any backend call: overlapping async calls then
    // still draw in call order, and the k-th training call draws the same masks every run.
    const masks = training ? this.drawMasks(T, B) : undefined;
    return {
      backend,
      layers: masks?.weight.some((m) => m) ? this.maskedLayers(backend, masks) : this.backendLayers(backend).use(),
      T,
      B,
      x: c.batchFirst ? swapLeadingAxes(input.data as Float32Array, B, T, c.inputSize) : (input.data as Float32Array),
      h0,
      c0,
      lengths,
      masks,
      keepTape,
      floats: freshFloats,
    };
  }

  /**
   * The masks of one training call, from the layer's own stream in a fixed order: per layer k, per
   * direction, weight_hh's, h's and c's zoneout, the recurrent one; then layer k's dropout.
   */
  private drawMasks(T: number, B: number): RecurrentMasks {
    const c = this.config;
    const D = this.directions;
    const hout = this.outputSize;
    const rng = this.dropoutRng;
    const masks: RecurrentMasks = { dropout: [], zoneoutHidden: [], zoneoutCell: [], recurrent: [], weight: [] };
    // fillBernoulli writes every element: the masks skip the zero fill.
    const dropMask = (n: number, p: number): Float32Array => {
      const m = uninitializedFloat32(n);
      // 1/(1 − p) is Infinity at p = 1, where every element is dropped anyway.
      rng.fillBernoulli(m, p, 0, p < 1 ? Math.fround(1 / (1 - p)) : 0);
      return m;
    };
    const zoneMask = (n: number, p: number): Uint8Array => {
      const m = uninitializedBytes(n);
      rng.fillBernoulli(m, p, 1, 0);
      return m;
    };
    for (let k = 0; k < c.numLayers; k++) {
      for (let d = 0; d < D; d++) {
        const s = k * D + d;
        const w = c.weightDropout > 0 ? dropMask(gateCount(c.cell) * c.hiddenSize * hout, c.weightDropout) : undefined;
        masks.weight[s] = w;
        masks.zoneoutHidden[s] = c.zoneout.hidden > 0 ? zoneMask(T * B * hout, c.zoneout.hidden) : undefined;
        masks.zoneoutCell[s] = c.zoneout.cell > 0 ? zoneMask(T * B * c.hiddenSize, c.zoneout.cell) : undefined;
        masks.recurrent[s] = c.recurrentDropout > 0 ? dropMask(B * hout, c.recurrentDropout) : undefined;
      }
      if (c.dropout > 0 && k < c.numLayers - 1) masks.dropout.push(dropMask(T * B * D * hout, c.dropout));
    }
    return masks;
  }

  /** This call's backend layers, weight_hh masked by DropConnect, in use: released once the call is done with them. */
  private maskedLayers(backend: Backend, masks: RecurrentMasks): LayerSet {
    const layers: BackendLayer[] = [];
    for (let k = 0; k < this.config.numLayers; k++) {
      for (let d = 0; d < this.directions; d++) {
        const mask = masks.weight[k * this.directions + d]!;
        const params = this.layerArrays(k, d, (n) => this.parameterData(n));
        const wHh = new Float32Array(mask.length);
        for (let i = 0; i < wHh.length; i++) wHh[i] = params.wHh[i] * mask[i];
        layers.push(backend.createLayer(this.layerSpec(k, d), { ...params, wHh }));
      }
    }
    const set = new LayerSet(backend, layers).use();
    set.retire();
    return set;
  }

  private checkLengths(where: string, lengths: unknown, T: number, B: number): Int32Array {
    const values = lengths instanceof Tensor ? lengths.data : lengths;
    if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<number>).length !== 'number') {
      throw typeError(where, 'lengths', `an array of ${B} integers in 0..${T}`, lengths);
    }
    const arr = values as ArrayLike<unknown>;
    if (arr.length !== B) {
      throw rangeError(where, 'lengths', `${B} entries (one per batch row)`, shown(`${arr.length} entries`));
    }
    const out = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const v = arr[b];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > T) {
        throw rangeError(where, `lengths[${b}]`, `an integer in 0..${T}`, v);
      }
      out[b] = v;
    }
    return out;
  }

  private *forwardWalk(p: ForwardPlan): Walk<ForwardResult> {
    const c = this.config;
    const { T, B, masks } = p;
    const D = this.directions;
    const hout = this.outputSize;
    const H = c.hiddenSize;
    const states = c.numLayers * D;
    const hN = p.floats(states * B * hout, 'hN');
    const cN = this.hasCellState ? p.floats(states * B * H, 'cN') : undefined;
    const workspaces: Workspace[] = [];
    // Nothing between the layers (no residual sum, no dropout, no tape to keep): the whole stack goes
    // as one backend call in stages, each reading the one before, and an async one stays on its
    // threads from the first layer to the last.
    const stacked = !c.residual && !masks && !p.keepTape;
    let stack: LayerForward[] = [];
    let x = p.x;
    for (let k = 0; k < c.numLayers; k++) {
      if (stack.length + D > MAX_FORWARD_CALLS) {
        yield { backend: p.backend, forward: stack };
        stack = [];
      }
      const stage = stack.length / D;
      const y = p.floats(T * B * D * hout, `y${k}`);
      const calls: LayerForward[] = [];
      for (let d = 0; d < D; d++) {
        const s = k * D + d;
        const args: ForwardArgs = {
          T,
          B,
          x,
          h0: p.h0?.subarray(s * B * hout, (s + 1) * B * hout),
          c0: p.c0?.subarray(s * B * H, (s + 1) * B * H),
          lengths: p.lengths,
          y: y.subarray(d * hout),
          yStride: D * hout,
          hN: hN.subarray(s * B * hout, (s + 1) * B * hout),
          cN: cN?.subarray(s * B * H, (s + 1) * B * H),
          training: p.keepTape,
        };
        // Training draws per step (masks); evaluation uses zoneout's expectation.
        if (masks) {
          args.recurrentMask = masks.recurrent[s];
          args.zoneoutHiddenMask = masks.zoneoutHidden[s];
          if (this.hasCellState) args.zoneoutCellMask = masks.zoneoutCell[s];
        } else {
          args.zoneoutHidden = c.zoneout.hidden;
          if (this.hasCellState) args.zoneoutCell = c.zoneout.cell;
        }
        calls.push({ layer: p.layers.layers[s], args, stage });
      }
      if (stacked) {
        stack.push(...calls);
        x = y;
        continue;
      }
      const ws = yield { backend: p.backend, forward: calls };
      if (p.keepTape) workspaces.push(...(ws as Workspace[]));
      if (c.residual && k > 0) for (let i = 0; i < y.length; i++) y[i] += x[i];
      const mask = masks?.dropout[k];
      if (mask) for (let i = 0; i < y.length; i++) y[i] *= mask[i];
      x = y;
    }
    if (stack.length > 0) yield { backend: p.backend, forward: stack };
    const outShape = c.batchFirst ? [B, T, D * hout] : [T, B, D * hout];
    const result: ForwardResult = {
      output: new Tensor(c.batchFirst ? swapLeadingAxes(x, T, B, D * hout) : x, outShape),
      hN: new Tensor(hN, [states, B, hout]),
    };
    if (cN) result.cN = new Tensor(cN, [states, B, H]);
    if (p.keepTape) {
      const none: RecurrentMasks = { dropout: [], zoneoutHidden: [], zoneoutCell: [], recurrent: [], weight: [] };
      result.tape = issueTape(RecurrentTape, this, { backend: p.backend, T, B, layers: p.layers.layers, workspaces, masks: masks ?? none });
    }
    return result;
  }

  // ---------------------------------------------------------------------------------------------
  // backward

  backward(tape: Tape, g: BackwardGradients): BackwardResult {
    return runSync(this.backwardWalk(this.planBackward(`${this.className}.backward`, tape, g)));
  }

  async backwardAsync(tape: Tape, g: BackwardGradients): Promise<BackwardResult> {
    return runAsync(this.backwardWalk(this.planBackward(`${this.className}.backwardAsync`, tape, g)));
  }

  private planBackward(where: string, tape: Tape, grads: BackwardGradients): BackwardPlan {
    const opened = openTape<RecurrentTapeRecord>(where, tape, this, this.className, RecurrentTape);
    const t = opened.record;
    const c = this.config;
    const g = checkOptionKeys(where, 'gradients', grads, backwardKeys);
    const { T, B } = t;
    const D = this.directions;
    const hout = this.outputSize;
    const states = c.numLayers * D;
    const outShape = c.batchFirst ? [B, T, D * hout] : [T, B, D * hout];
    const dOutput = g.dOutput === undefined ? undefined : checkTensor(where, 'dOutput', g.dOutput, outShape);
    const dhN = g.dhN === undefined ? undefined : checkTensor(where, 'dhN', g.dhN, [states, B, hout]);
    let dcN: Float32Array | undefined;
    if (this.hasCellState) {
      dcN = g.dcN === undefined ? undefined : checkTensor(where, 'dcN', g.dcN, [states, B, c.hiddenSize]);
    } else if (g.dcN !== undefined) {
      throw typeError(where, 'dcN', `undefined (${this.className} has no cell state)`, g.dcN);
    }
    opened.markUsed();
    const dY = dOutput && c.batchFirst ? swapLeadingAxes(dOutput, B, T, D * hout) : dOutput;
    return { tape: t, dY, dhN, dcN };
  }

  private *backwardWalk(p: BackwardPlan): Walk<BackwardResult> {
    const c = this.config;
    const { T, B, masks } = p.tape;
    const D = this.directions;
    const hout = this.outputSize;
    const H = c.hiddenSize;
    const states = c.numLayers * D;
    const dh0 = uninitializedFloat32(states * B * hout);
    const dc0 = this.hasCellState ? uninitializedFloat32(states * B * H) : undefined;
    let dY = p.dY;
    let dX = new Float32Array(0);
    for (let k = c.numLayers - 1; k >= 0; k--) {
      const inSize = this.layerInputSize(k);
      dX = uninitializedFloat32(T * B * inSize);
      // Both directions read the same input, so the reverse one's input gradient is added on.
      const dXReverse = D > 1 ? uninitializedFloat32(T * B * inSize) : dX;
      for (let d = 0; d < D; d++) {
        const s = k * D + d;
        const grads = this.layerArrays(k, d, (n) => this.gradient(n).data as Float32Array);
        // DropConnect: the backend's gradient is that of the masked weight; the mask scales it in.
        const weightMask = masks.weight[s];
        const dMaskedWeight = weightMask && new Float32Array(weightMask.length);
        yield {
          layer: p.tape.layers[s],
          backward: {
            workspace: p.tape.workspaces[s],
            dY: dY?.subarray(d * hout),
            dYStride: D * hout,
            dhN: p.dhN?.subarray(s * B * hout, (s + 1) * B * hout),
            dcN: p.dcN?.subarray(s * B * H, (s + 1) * B * H),
            dX: d === 0 ? dX : dXReverse,
            dh0: dh0.subarray(s * B * hout, (s + 1) * B * hout),
            dc0: dc0?.subarray(s * B * H, (s + 1) * B * H),
            grads: dMaskedWeight ? { ...grads, wHh: dMaskedWeight } : grads,
          },
        };
        if (weightMask) for (let i = 0; i < weightMask.length; i++) grads.wHh[i] += weightMask[i] * dMaskedWeight![i];
        // A tape serves one backward: its memory can go back to the backend at once.
        p.tape.workspaces[s].release?.();
        if (d === 1) for (let i = 0; i < dX.length; i++) dX[i] += dXReverse[i];
      }
      // Residual: the layer's output gradient reaches its input directly too (sizes agree, k ≥ 1).
      if (c.residual && k > 0 && dY) for (let i = 0; i < dX.length; i++) dX[i] += dY[i];
      if (k > 0) {
        const mask = masks.dropout[k - 1];
        if (mask) for (let i = 0; i < dX.length; i++) dX[i] *= mask[i];
        dY = dX;
      }
    }
    const inShape = c.batchFirst ? [B, T, c.inputSize] : [T, B, c.inputSize];
    const result: BackwardResult = {
      dInput: new Tensor(c.batchFirst ? swapLeadingAxes(dX, T, B, c.inputSize) : dX, inShape),
      dh0: new Tensor(dh0, [states, B, hout]),
    };
    if (dc0) result.dc0 = new Tensor(dc0, [states, B, H]);
    return result;
  }
}
