// A character-level language model built only from the exported layers: Embedding → stacked
// LSTM/GRU → Linear over the vocabulary, trained with Adam on random windows of a text, saved as
// .safetensors (weights and optimizer state, the configuration in the metadata), and sampled one
// character at a time (a streaming forward of one step, batch 1).
import { GRU } from '../layers/gru';
import { Embedding } from '../layers/embedding';
import { Linear } from '../layers/linear';
import { LSTM } from '../layers/lstm';
import type { RecurrentLayer } from '../layers/recurrent';
import { loadSafetensors, saveSafetensors } from '../io/safetensors';
import { Rng } from '../random';
import { Tensor } from '../tensor';
import { crossEntropy } from '../train/losses';
import { Adam, type Trainable, clipGradNorm } from '../train/optimizers';

export interface CharModelConfig {
  cell: 'lstm' | 'gru';
  /** The characters, in id order. */
  vocab: string;
  embed: number;
  hidden: number;
  layers: number;
}

export const CHECKPOINT_FORMAT = 'cellscan-charlm-1';

export class CharModel {
  readonly embedding: Embedding;
  readonly rnn: RecurrentLayer;
  readonly head: Linear;
  private readonly index: Map<string, number>;

  constructor(
    readonly config: CharModelConfig,
    seed: number,
  ) {
    const V = [...config.vocab].length;
    this.embedding = new Embedding({ numEmbeddings: V, embeddingDim: config.embed, seed });
    const o = { inputSize: config.embed, hiddenSize: config.hidden, numLayers: config.layers, seed: seed + 1 };
    this.rnn = config.cell === 'lstm' ? new LSTM(o) : new GRU(o);
    this.head = new Linear({ inFeatures: config.hidden, outFeatures: V, seed: seed + 2 });
    this.index = new Map([...config.vocab].map((ch, i) => [ch, i]));
  }

  get modules(): Trainable[] {
    return [this.embedding, this.rnn, this.head];
  }

  /** Character ids of `text`; a character outside the vocabulary is a RangeError naming it. */
  encode(text: string): Int32Array {
    const chars = [...text];
    return Int32Array.from(chars, (ch, i) => {
      const id = this.index.get(ch);
      if (id === undefined) throw new RangeError(`text[${i}] must be a character of the model's vocabulary, got ${JSON.stringify(ch)}`);
      return id;
    });
  }

  /** Mean cross-entropy of predicting ids[t + 1] from ids[..t] over a [T + 1, B] batch; gradients add into the modules. */
  lossAndGradients(batch: Tensor): number {
    const [T1, B] = batch.shape;
    const T = T1 - 1;
    const ids = batch.data as Int32Array;
    const inputs = new Tensor(ids.slice(0, T * B), [T, B]);
    const targets = new Tensor(ids.slice(B), [T, B]);
    const e = this.embedding.forward(inputs, { training: true });
    const r = this.rnn.forward(e.output, { training: true });
    const h = this.head.forward(r.output, { training: true });
    const { loss, dLogits } = crossEntropy(h.output, targets);
    const { dInput: dHidden } = this.head.backward(h.tape!, { dOutput: dLogits });
    const { dInput: dEmbedded } = this.rnn.backward(r.tape!, { dOutput: dHidden });
    this.embedding.backward(e.tape!, { dOutput: dEmbedded });
    return loss;
  }

  /** Every parameter, prefixed by the module it belongs to. */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [prefix, m] of [['embedding.', this.embedding], ['rnn.', this.rnn], ['head.', this.head]] as const) {
      for (const [name, t] of m.stateDict()) out.set(prefix + name, t);
    }
    return out;
  }

  loadStateDict(d: Map<string, Tensor>): void {
    this.embedding.loadStateDict(d, { prefix: 'embedding.' });
    this.rnn.loadStateDict(d, { prefix: 'rnn.' });
    this.head.loadStateDict(d, { prefix: 'head.' });
  }

  /**
   * Continues `prime` by `length` characters, sampling from softmax(logits / temperature).
   * The prime runs through the network once; then each new character is one forward step.
   */
  sample(prime: string, length: number, temperature: number, rng: Rng): string {
    const V = [...this.config.vocab].length;
    const primeIds = this.encode(prime);
    let state = this.rnn.forward(this.embedding.forward(new Tensor(primeIds, [primeIds.length, 1])).output);
    let out = '';
    const chars = [...this.config.vocab];
    for (let i = 0; i < length; i++) {
      const last = state.output.data.subarray(state.output.size - this.config.hidden);
      const logits = this.head.forward(new Tensor(Float32Array.from(last), [1, this.config.hidden])).output.data;
      const id = sampleSoftmax(logits, V, temperature, rng);
      out += chars[id];
      const x = this.embedding.forward(new Tensor(Int32Array.of(id), [1, 1])).output;
      state = this.rnn.forward(x, { h0: state.hN, c0: state.cN });
    }
    return out;
  }
}

function sampleSoftmax(logits: ArrayLike<number>, V: number, temperature: number, rng: Rng): number {
  let max = -Infinity;
  for (let i = 0; i < V; i++) max = Math.max(max, logits[i] / temperature);
  const p = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) sum += p[i] = Math.exp(logits[i] / temperature - max);
  let u = rng.nextFloat() * sum;
  for (let i = 0; i < V; i++) {
    u -= p[i];
    if (u <= 0) return i;
  }
  return V - 1;
}

/** Sorted distinct characters of a text. */
export function vocabularyOf(text: string): string {
  return [...new Set(text)].sort().join('');
}

/** B random windows of T + 1 characters, time-major [T + 1, B]. */
export function randomWindows(ids: Int32Array, T: number, B: number, rng: Rng): Tensor {
  const out = new Int32Array((T + 1) * B);
  for (let b = 0; b < B; b++) {
    const start = Math.floor(rng.nextFloat() * (ids.length - T - 1));
    for (let t = 0; t <= T; t++) out[t * B + b] = ids[start + t];
  }
  return new Tensor(out, [T + 1, B]);
}

export interface Checkpoint {
  model: CharModel;
  optimizer: Adam;
  step: number;
}

export function saveCheckpoint(c: Checkpoint, lr: number): Uint8Array {
  const tensors = c.model.stateDict();
  for (const [name, t] of c.optimizer.stateDict()) tensors.set(`optimizer.${name}`, t);
  return saveSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(c.model.config),
    step: String(c.step),
    lr: String(lr),
  });
}

/** A model (and its optimizer, ready to resume) from a checkpoint's bytes. */
export function loadCheckpoint(bytes: Uint8Array, lr?: number): Checkpoint & { lr: number } {
  const tensors = loadSafetensors(bytes);
  const meta = tensors.metadata;
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new TypeError(`checkpoint must be a cellscan character model (format ${CHECKPOINT_FORMAT}), got format ${JSON.stringify(meta.format)}`);
  }
  const config = JSON.parse(meta.config) as CharModelConfig;
  const model = new CharModel(config, 0);
  model.loadStateDict(new Map([...tensors].filter(([k]) => !k.startsWith('optimizer.'))));
  const rate = lr ?? Number(meta.lr);
  const optimizer = new Adam(model.modules, { lr: rate });
  optimizer.loadStateDict(new Map([...tensors].filter(([k]) => k.startsWith('optimizer.')).map(([k, t]) => [k.slice(10), t])));
  return { model, optimizer, step: Number(meta.step), lr: rate };
}

export interface TrainStepReport {
  step: number;
  loss: number;
}

/** One Adam step on a random batch; returns the batch loss. */
export function trainStep(model: CharModel, optimizer: Adam, ids: Int32Array, T: number, B: number, clip: number, rng: Rng): number {
  optimizer.zeroGrad();
  const loss = model.lossAndGradients(randomWindows(ids, T, B, rng));
  clipGradNorm(model.modules, clip);
  optimizer.step();
  return loss;
}
