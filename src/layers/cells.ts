// PyTorch's single-step cells (LSTMCell, GRUCell, RNNCell) for custom loops, decoders and streaming:
// one time step of a layer direction, on the same backend kernels (a sequence of length 1), with the
// cells' own parameter names (weight_ih, weight_hh, bias_ih, bias_hh, no _l0 suffix).
import { hasCellState, paramShapes } from '../backend/layer-shape';
import { activeBackend } from '../backend/select';
import type { Backend, BackendLayer, BackwardArgs, ForwardArgs, LayerParams, LayerSpec, Workspace } from '../backend/types';
import { rangeError, shapeText, shown, typeError } from '../errors';
import { Rng } from '../random';
import { Tensor, numel } from '../tensor';
import { uninitializedFloat32 } from '../uninitialized';
import { checkOptionKeys } from './arguments';
import type { LayerSet } from './layer-set';
import { PreparedModule } from './prepared-module';
import { type CellClass, type CellConfig, type CellOptions, type GRUCellOptions, type RNNCellOptions, readCellOptions } from './options';
import { Tape, issueTape, openTape } from './tape';

export interface CellForwardOptions {
  /** [B, hiddenSize]; absent: zeros. */
  h0?: Tensor;
  /** [B, hiddenSize] (LSTMCell only); absent: zeros. */
  c0?: Tensor;
  /** A cell has no dropout of its own: training only decides the default of tape. */
  training?: boolean;
  /** Keep what backward needs and return a tape (default: training). */
  tape?: boolean;
}

export interface CellForwardResult {
  h: Tensor;
  c?: Tensor;
  tape?: CellTape;
}

export interface CellBackwardGradients {
  dh?: Tensor;
  dc?: Tensor;
}

export interface CellBackwardResult {
  dInput: Tensor;
  dh0: Tensor;
  dc0?: Tensor;
}

/** A cell's tape. */
export class CellTape extends Tape {}

/** What a cell's backward reads from its forward. */
interface CellTapeRecord {
  layer: BackendLayer;
  workspace: Workspace;
  B: number;
}

const forwardKeys = ['h0', 'c0', 'training', 'tape'];
const backwardKeys = ['dh', 'dc'];
// A cell's parameter name for each backend field it can have.
const names: Partial<Record<keyof LayerParams, string>> = {
  wIh: 'weight_ih',
  wHh: 'weight_hh',
  bIh: 'bias_ih',
  bHh: 'bias_hh',
};

function checkState(where: string, arg: string, t: unknown, B: number, H: number): Float32Array {
  const expected = `a float32 Tensor [B, hiddenSize] = [${B}, ${H}]`;
  if (!(t instanceof Tensor) || t.dtype !== 'float32') throw typeError(where, arg, expected, t);
  if (t.shape.length !== 2 || t.shape[0] !== B || t.shape[1] !== H) {
    throw rangeError(where, arg, expected, shown(`shape ${shapeText(t.shape)}`));
  }
  return t.data as Float32Array;
}

interface CellCall {
  layers: LayerSet; // in use by the call
  args: ForwardArgs;
  B: number;
}

export abstract class RecurrentCell extends PreparedModule {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly bias: boolean;
  protected readonly config: CellConfig;
  /** A cell is a one-direction layer without projection or peepholes. */
  private readonly spec: LayerSpec;

  protected constructor(kind: CellClass, options: unknown) {
    super(kind);
    const c = readCellOptions(kind, options);
    this.config = c;
    this.inputSize = c.inputSize;
    this.hiddenSize = c.hiddenSize;
    this.bias = c.bias;
    this.spec = {
      cell: c.cell,
      inputSize: c.inputSize,
      hiddenSize: c.hiddenSize,
      projSize: 0,
      bias: c.bias,
      peepholes: false,
      linearBeforeReset: c.linearBeforeReset,
      reverse: false,
    };
    // PyTorch's init: every parameter uniform(−1/√H, 1/√H).
    const rng = new Rng(c.seed);
    const bound = 1 / Math.sqrt(c.hiddenSize);
    for (const [field, shape] of paramShapes(this.spec)) {
      const data = new Float32Array(numel(shape));
      rng.fillUniform(data, -bound, bound);
      this.addParameter(names[field]!, new Tensor(data, shape));
    }
  }

  private get hasCellState(): boolean {
    return hasCellState(this.config.cell);
  }

  /** The backend's layer for these weights, kept until they change or the backend does. */
  private backendLayer(backend: Backend): LayerSet {
    return this.prepared.layersFor(backend, () => [backend.createLayer(this.spec, this.arrays((n) => this.parameterData(n)))]);
  }

  private arrays(get: (name: string) => Float32Array): LayerParams {
    const out: Partial<LayerParams> = {};
    for (const [field] of paramShapes(this.spec)) out[field] = get(names[field]!);
    return out as LayerParams;
  }

  forward(input: Tensor, o?: CellForwardOptions): CellForwardResult {
    const call = this.planForward(`${this.className}.forward`, input, o);
    try {
      return this.forwardResult(call, call.layers.layers[0].forward(call.args));
    } finally {
      call.layers.done();
    }
  }

  async forwardAsync(input: Tensor, o?: CellForwardOptions): Promise<CellForwardResult> {
    const call = this.planForward(`${this.className}.forwardAsync`, input, o);
    try {
      return this.forwardResult(call, await call.layers.layers[0].forwardAsync(call.args));
    } finally {
      call.layers.done();
    }
  }

  private planForward(where: string, input: Tensor, options: CellForwardOptions | undefined): CellCall {
    const c = this.config;
    const o = checkOptionKeys(where, 'options', options, forwardKeys);
    if (!(input instanceof Tensor) || input.dtype !== 'float32') {
      throw typeError(where, 'input', 'a float32 Tensor [B, inputSize]', input);
    }
    if (input.shape.length !== 2 || input.shape[1] !== c.inputSize || input.shape[0] < 1) {
      throw rangeError(where, 'input', `a Tensor [B, inputSize] with inputSize = ${c.inputSize} and B ≥ 1`,
        shown(`shape ${shapeText(input.shape)}`));
    }
    const B = input.shape[0];
    const H = c.hiddenSize;
    const [h0, c0] = this.checkStates(where, ['h0', 'c0'], o.h0, o.c0, B);
    const training = o.training ?? false;
    if (typeof training !== 'boolean') throw typeError(where, 'training', 'a boolean', training);
    const keep = o.tape ?? training;
    if (typeof keep !== 'boolean') throw typeError(where, 'tape', 'a boolean', keep);
    const args: ForwardArgs = {
      T: 1,
      B,
      x: input.data as Float32Array,
      h0,
      c0,
      y: uninitializedFloat32(B * H),
      yStride: H,
      hN: uninitializedFloat32(B * H),
      cN: this.hasCellState ? uninitializedFloat32(B * H) : undefined,
      training: keep,
    };
    return { layers: this.backendLayer(activeBackend()).use(), args, B };
  }

  private forwardResult(call: CellCall, workspace: Workspace | undefined): CellForwardResult {
    const H = this.config.hiddenSize;
    const { B, args } = call;
    const result: CellForwardResult = { h: new Tensor(args.hN, [B, H]) };
    if (args.cN) result.c = new Tensor(args.cN, [B, H]);
    if (workspace) result.tape = issueTape(CellTape, this, { layer: call.layers.layers[0], workspace, B });
    return result;
  }

  backward(tape: Tape, g: CellBackwardGradients): CellBackwardResult {
    const { tape: t, args, result } = this.planBackward(`${this.className}.backward`, tape, g);
    t.layer.backward(args);
    t.workspace.release?.();
    return result;
  }

  async backwardAsync(tape: Tape, g: CellBackwardGradients): Promise<CellBackwardResult> {
    const { tape: t, args, result } = this.planBackward(`${this.className}.backwardAsync`, tape, g);
    await t.layer.backwardAsync(args);
    t.workspace.release?.();
    return result;
  }

  /** An optional [B, H] pair of h and c (states or their gradients); c only where the cell has one. */
  private checkStates(where: string, [hName, cName]: [string, string], h: unknown, c: unknown, B: number): [Float32Array | undefined, Float32Array | undefined] {
    const H = this.config.hiddenSize;
    const hs = h === undefined ? undefined : checkState(where, hName, h, B, H);
    if (!this.hasCellState && c !== undefined) throw typeError(where, cName, `undefined (${this.className} has no cell state)`, c);
    return [hs, c === undefined ? undefined : checkState(where, cName, c, B, H)];
  }

  private planBackward(where: string, tape: Tape, grads: CellBackwardGradients): { tape: CellTapeRecord; args: BackwardArgs; result: CellBackwardResult } {
    const opened = openTape<CellTapeRecord>(where, tape, this, this.className, CellTape);
    const t = opened.record;
    const g = checkOptionKeys(where, 'gradients', grads, backwardKeys);
    const { B } = t;
    const H = this.config.hiddenSize;
    const [dh, dc] = this.checkStates(where, ['dh', 'dc'], g.dh, g.dc, B);
    opened.markUsed();
    const dInput = uninitializedFloat32(B * this.config.inputSize);
    const dh0 = uninitializedFloat32(B * H);
    const dc0 = this.hasCellState ? uninitializedFloat32(B * H) : undefined;
    const result: CellBackwardResult = { dInput: new Tensor(dInput, [B, this.config.inputSize]), dh0: new Tensor(dh0, [B, H]) };
    if (dc0) result.dc0 = new Tensor(dc0, [B, H]);
    // The step's output is its new state: the gradient on h arrives as the final state's.
    const args: BackwardArgs = {
      workspace: t.workspace,
      dYStride: H,
      dhN: dh,
      dcN: dc,
      dX: dInput,
      dh0,
      dc0,
      grads: this.arrays((n) => this.gradient(n).data as Float32Array),
    };
    return { tape: t, args, result };
  }
}

/** PyTorch's nn.LSTMCell: one step of an LSTM, gates (i, f, g, o). */
export class LSTMCell extends RecurrentCell {
  constructor(options: CellOptions) {
    super('LSTMCell', options);
  }
}

/** PyTorch's nn.GRUCell: one step of a GRU, gates (r, z, n). */
export class GRUCell extends RecurrentCell {
  readonly linearBeforeReset: boolean;

  constructor(options: GRUCellOptions) {
    super('GRUCell', options);
    this.linearBeforeReset = this.config.linearBeforeReset;
  }
}

/** PyTorch's nn.RNNCell: h' = tanh(W x + b + R h + r), or relu. */
export class RNNCell extends RecurrentCell {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(options: RNNCellOptions) {
    super('RNNCell', options);
    this.nonlinearity = this.config.cell === 'rnn_relu' ? 'relu' : 'tanh';
  }
}
