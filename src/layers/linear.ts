// y = x · Wᵀ + b over any leading dimensions, PyTorch's Linear: weight [out, in], bias [out],
// both initialised uniform(−1/√in, 1/√in). The products run on the selected backend.
import { activeBackend } from '../backend/select';
import type { Backend } from '../backend/types';
import { checkBoolean, checkPositiveInteger, rangeError, shapeText, shown, typeError } from '../errors';
import { MAX_ELEMENTS, checkAtMost, checkParameterSize } from '../limits';
import { Rng } from '../random';
import { Tensor } from '../tensor';
import { checkConstructorOptions, checkOptionKeys, checkSeed } from './arguments';
import { Module } from './module';
import { DEFAULT_SEED } from './options';
import { Tape, issueTape, openTape } from './tape';

export interface LinearOptions {
  inFeatures: number;
  outFeatures: number;
  /** Default true. */
  bias?: boolean;
  /** Seeds the init (default: fixed). */
  seed?: number;
}

/** A Linear layer's tape. */
export class LinearTape extends Tape {}

/** What Linear's backward reads from its forward: the input and weight it multiplied. */
interface LinearTapeRecord {
  backend: Backend;
  input: Float32Array;
  inShape: readonly number[];
  weight: Float32Array;
}

export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias: boolean;

  constructor(o: LinearOptions) {
    super('Linear');
    checkConstructorOptions('Linear', o, 'inFeatures and outFeatures', ['inFeatures', 'outFeatures', 'bias', 'seed']);
    this.inFeatures = checkAtMost('Linear', 'inFeatures', checkPositiveInteger('Linear', 'inFeatures', o.inFeatures), MAX_ELEMENTS);
    this.outFeatures = checkAtMost('Linear', 'outFeatures', checkPositiveInteger('Linear', 'outFeatures', o.outFeatures), MAX_ELEMENTS);
    checkParameterSize('Linear', 'inFeatures and outFeatures', 'weight', [this.outFeatures, this.inFeatures]);
    this.bias = o.bias === undefined ? true : checkBoolean('Linear', 'bias', o.bias);
    const seed = checkSeed('Linear', o.seed ?? DEFAULT_SEED);
    const rng = new Rng(seed);
    const bound = 1 / Math.sqrt(this.inFeatures);
    const weight = new Float32Array(this.outFeatures * this.inFeatures);
    rng.fillUniform(weight, -bound, bound);
    this.addParameter('weight', new Tensor(weight, [this.outFeatures, this.inFeatures]));
    if (this.bias) {
      const bias = new Float32Array(this.outFeatures);
      rng.fillUniform(bias, -bound, bound);
      this.addParameter('bias', new Tensor(bias, [this.outFeatures]));
    }
  }

  /** input [..., inFeatures] → output [..., outFeatures]. */
  forward(input: Tensor, o: { training?: boolean } = {}): { output: Tensor; tape?: LinearTape } {
    const where = 'Linear.forward';
    if (!(input instanceof Tensor) || input.dtype !== 'float32') {
      throw typeError(where, 'input', `a float32 Tensor [..., ${this.inFeatures}]`, input);
    }
    const shape = input.shape;
    if (shape.length < 1 || shape[shape.length - 1] !== this.inFeatures) {
      throw rangeError(where, 'input', `a Tensor [..., ${this.inFeatures}]`, shown(`shape ${shapeText(shape)}`));
    }
    const training = checkOptionKeys(where, 'options', o, ['training']).training ?? false;
    if (typeof training !== 'boolean') throw typeError(where, 'training', 'a boolean', training);
    const rows = input.size / this.inFeatures;
    const backend = activeBackend();
    const weight = this.parameter('weight').data as Float32Array;
    const out = new Float32Array(rows * this.outFeatures);
    if (this.bias) {
      const b = this.parameter('bias').data as Float32Array;
      for (let r = 0; r < rows; r++) out.set(b, r * this.outFeatures);
    }
    backend.gemm({
      m: rows,
      n: this.outFeatures,
      k: this.inFeatures,
      a: input.data as Float32Array,
      b: weight,
      transB: true,
      c: out,
      accumulate: this.bias,
    });
    const output = new Tensor(out, [...shape.slice(0, -1), this.outFeatures]);
    if (!training) return { output };
    // The tape keeps copies: backward must see the input and weight this forward used.
    const tape = issueTape<LinearTape, LinearTapeRecord>(LinearTape, this,
      { backend, input: (input.data as Float32Array).slice(), inShape: shape, weight: weight.slice() });
    return { output, tape };
  }

  /** dInput = dOutput · W; weight and bias gradients add dOutputᵀ · input and Σ dOutput. */
  backward(tape: Tape, g: { dOutput: Tensor }): { dInput: Tensor } {
    const where = 'Linear.backward';
    const opened = openTape<LinearTapeRecord>(where, tape, this, 'Linear', LinearTape);
    const t = opened.record;
    if (g === null || typeof g !== 'object') throw typeError(where, 'gradients', 'an object with dOutput', g);
    const outShape = [...t.inShape.slice(0, -1), this.outFeatures];
    const d = g.dOutput;
    if (!(d instanceof Tensor) || d.dtype !== 'float32') throw typeError(where, 'dOutput', `a float32 Tensor of shape ${shapeText(outShape)}`, d);
    if (d.shape.length !== outShape.length || d.shape.some((v, i) => v !== outShape[i])) {
      throw rangeError(where, 'dOutput', `of shape ${shapeText(outShape)}`, shown(`shape ${shapeText(d.shape)}`));
    }
    opened.markUsed();
    const rows = t.input.length / this.inFeatures;
    const dOut = d.data as Float32Array;
    const dInput = new Float32Array(t.input.length);
    t.backend.gemm({ m: rows, n: this.inFeatures, k: this.outFeatures, a: dOut, b: t.weight, c: dInput });
    t.backend.gemm({
      m: this.outFeatures,
      n: this.inFeatures,
      k: rows,
      a: dOut,
      transA: true,
      b: t.input,
      c: this.gradient('weight').data as Float32Array,
      accumulate: true,
    });
    if (this.bias) {
      const gb = this.gradient('bias').data as Float32Array;
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < this.outFeatures; j++) gb[j] += dOut[r * this.outFeatures + j];
      }
    }
    return { dInput: new Tensor(dInput, t.inShape) };
  }

  protected onParametersChanged(): void {
    // Nothing is prepared from the weights: every forward passes them to the backend as they are.
  }
}
