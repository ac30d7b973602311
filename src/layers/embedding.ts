// Lookup table: int32 ids of any shape in, [..., embeddingDim] out; backward adds each output row's
// gradient into the row of the weight it came from.
import { checkPositiveInteger, rangeError, shapeText, shown, typeError } from '../errors';
import { MAX_ELEMENTS, checkAtMost, checkParameterSize } from '../limits';
import { Rng } from '../random';
import { Tensor } from '../tensor';
import { checkConstructorOptions, checkOptionKeys, checkSeed } from './arguments';
import { Module } from './module';
import { DEFAULT_SEED } from './options';
import { Tape, issueTape, openTape } from './tape';

export interface EmbeddingOptions {
  numEmbeddings: number;
  embeddingDim: number;
  /** Seeds the N(0, 1) init, as PyTorch's (default: fixed). */
  seed?: number;
}

/** An Embedding's tape. */
export class EmbeddingTape extends Tape {}

/** What Embedding's backward reads from its forward: the ids it looked up. */
interface EmbeddingTapeRecord {
  ids: Int32Array;
  outShape: readonly number[];
}

export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;

  constructor(o: EmbeddingOptions) {
    super('Embedding');
    checkConstructorOptions('Embedding', o, 'numEmbeddings and embeddingDim', ['numEmbeddings', 'embeddingDim', 'seed']);
    this.numEmbeddings = checkAtMost('Embedding', 'numEmbeddings', checkPositiveInteger('Embedding', 'numEmbeddings', o.numEmbeddings), MAX_ELEMENTS);
    this.embeddingDim = checkAtMost('Embedding', 'embeddingDim', checkPositiveInteger('Embedding', 'embeddingDim', o.embeddingDim), MAX_ELEMENTS);
    checkParameterSize('Embedding', 'numEmbeddings and embeddingDim', 'weight', [this.numEmbeddings, this.embeddingDim]);
    const seed = checkSeed('Embedding', o.seed ?? DEFAULT_SEED);
    const weight = new Float32Array(this.numEmbeddings * this.embeddingDim);
    new Rng(seed).fillNormal(weight);
    this.addParameter('weight', new Tensor(weight, [this.numEmbeddings, this.embeddingDim]));
  }

  forward(ids: Tensor, o: { training?: boolean } = {}): { output: Tensor; tape?: EmbeddingTape } {
    const where = 'Embedding.forward';
    if (!(ids instanceof Tensor) || ids.dtype !== 'int32') throw typeError(where, 'ids', 'an int32 Tensor', ids);
    const training = checkOptionKeys(where, 'options', o, ['training']).training ?? false;
    if (typeof training !== 'boolean') throw typeError(where, 'training', 'a boolean', training);
    const data = ids.data as Int32Array;
    const dim = this.embeddingDim;
    const weight = this.parameter('weight').data as Float32Array;
    const out = new Float32Array(data.length * dim);
    for (let i = 0; i < data.length; i++) {
      const id = data[i];
      if (id < 0 || id >= this.numEmbeddings) {
        throw rangeError(where, `ids[${i}]`, `an integer in 0..${this.numEmbeddings - 1}`, id);
      }
      out.set(weight.subarray(id * dim, (id + 1) * dim), i * dim);
    }
    const outShape = [...ids.shape, dim];
    const output = new Tensor(out, outShape);
    return training ? { output, tape: issueTape<EmbeddingTape, EmbeddingTapeRecord>(EmbeddingTape, this, { ids: data.slice(), outShape }) } : { output };
  }

  /** Ids have no gradient: the result is empty; the weight's gradient gains dOutput's rows. */
  backward(tape: Tape, g: { dOutput: Tensor }): Record<string, never> {
    const where = 'Embedding.backward';
    const opened = openTape<EmbeddingTapeRecord>(where, tape, this, 'Embedding', EmbeddingTape);
    const t = opened.record;
    if (g === null || typeof g !== 'object') throw typeError(where, 'gradients', 'an object with dOutput', g);
    const d = g.dOutput;
    if (!(d instanceof Tensor) || d.dtype !== 'float32') throw typeError(where, 'dOutput', `a float32 Tensor of shape ${shapeText(t.outShape)}`, d);
    if (d.shape.length !== t.outShape.length || d.shape.some((v, i) => v !== t.outShape[i])) {
      throw rangeError(where, 'dOutput', `of shape ${shapeText(t.outShape)}`, shown(`shape ${shapeText(d.shape)}`));
    }
    opened.markUsed();
    const dim = this.embeddingDim;
    const grad = this.gradient('weight').data as Float32Array;
    const dOut = d.data as Float32Array;
    for (let i = 0; i < t.ids.length; i++) {
      const row = t.ids[i] * dim;
      for (let j = 0; j < dim; j++) grad[row + j] += dOut[i * dim + j];
    }
    return {};
  }

  protected onParametersChanged(): void {
    // Nothing is prepared from the weights: forward reads them directly.
  }
}
