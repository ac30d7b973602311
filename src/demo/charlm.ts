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
  // The recurrent layer's regularization (SPEC §3a), all off by default; checkpoints written before
  // these existed have none of the keys and load as the plain model they were.
  /** Layers 1.. add their input to their output. */
  residual?: boolean;
  /** Zoneout probability of h and c, or each (GRU: hidden only). */
  zoneout?: number | { hidden: number; cell?: number };
  /** Variational dropout on the state entering the recurrent product. */
  recurrentDropout?: number;
  /** DropConnect on every weight_hh. */
  weightDropout?: number;
  /** Dropout between the recurrent layers. */
  dropout?: number;
}

/** A configuration with every key present (what a checkpoint records). */
export type FullCharModelConfig = Required<CharModelConfig>;

export function fullConfig(c: CharModelConfig): FullCharModelConfig {
  return {
    cell: c.cell,
    vocab: c.vocab,
    embed: c.embed,
    hidden: c.hidden,
    layers: c.layers,
    residual: c.residual ?? false,
    zoneout: c.zoneout ?? 0,
    recurrentDropout: c.recurrentDropout ?? 0,
    weightDropout: c.weightDropout ?? 0,
    dropout: c.dropout ?? 0,
  };
}

/** "plain", or the regularization a configuration turns on, for logs and tables. */
export function describeRegularization(c: CharModelConfig): string {
  const f = fullConfig(c);
  const parts: string[] = [];
  if (f.residual) parts.push('residual');
  const z = typeof f.zoneout === 'number' ? f.zoneout : `${f.zoneout.hidden},${f.zoneout.cell ?? 0}`;
  if (z !== 0) parts.push(`zoneout ${z}`);
  if (f.recurrentDropout) parts.push(`recurrent dropout ${f.recurrentDropout}`);
  if (f.weightDropout) parts.push(`weight dropout ${f.weightDropout}`);
  if (f.dropout) parts.push(`dropout ${f.dropout}`);
  return parts.length === 0 ? 'plain' : parts.join(', ');
}

export const CHECKPOINT_FORMAT = 'cellscan-charlm-1';

export class CharModel {
  readonly embedding: Embedding;
  readonly rnn: RecurrentLayer;
  readonly head: Linear;
  readonly config: FullCharModelConfig;
  private readonly index: Map<string, number>;

  /** `seed` seeds the initial weights and the stream the training masks are drawn from. */
  constructor(config: CharModelConfig, seed: number) {
    const c = fullConfig(config);
    this.config = c;
    const V = [...c.vocab].length;
    this.embedding = new Embedding({ numEmbeddings: V, embeddingDim: c.embed, seed });
    // A GRU has no cell state: its zoneout object may hold only `hidden` (a cell share of 0 is dropped).
    const zoneout = typeof c.zoneout === 'object' && c.cell === 'gru' && !c.zoneout.cell ? { hidden: c.zoneout.hidden } : c.zoneout;
    const o = {
      inputSize: c.embed,
      hiddenSize: c.hidden,
      numLayers: c.layers,
      seed: seed + 1,
      residual: c.residual,
      zoneout,
      recurrentDropout: c.recurrentDropout,
      weightDropout: c.weightDropout,
      dropout: c.dropout,
    };
    this.rnn = c.cell === 'lstm' ? new LSTM(o) : new GRU(o);
    this.head = new Linear({ inFeatures: c.hidden, outFeatures: V, seed: seed + 2 });
    this.index = new Map([...c.vocab].map((ch, i) => [ch, i]));
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

  /**
   * Mean cross-entropy (nats per character) of predicting every character of `ids` but the first
   * from those before it, in evaluation mode (no masks; zoneout's expectation): the text is cut
   * into consecutive windows of `window` predictions, each starting from a zero state as the
   * training windows do, `batch` windows per forward call. Deterministic: no randomness at all.
   */
  evaluate(ids: Int32Array, window: number, batch = 64): number {
    const V = [...this.config.vocab].length;
    const starts: number[] = [];
    for (let s = 0; s + 1 < ids.length; s += window) starts.push(s);
    let total = 0;
    let count = 0;
    for (let first = 0; first < starts.length; first += batch) {
      const rows = starts.slice(first, first + batch);
      const B = rows.length;
      const inputs = new Int32Array(window * B);
      const targets = new Int32Array(window * B).fill(-1);
      rows.forEach((s, b) => {
        for (let t = 0; t < window && s + t + 1 < ids.length; t++) {
          inputs[t * B + b] = ids[s + t];
          targets[t * B + b] = ids[s + t + 1];
        }
      });
      // Padding after a short last window runs through the network but is never scored (the
      // model is causal: it cannot change the scored steps before it).
      const e = this.embedding.forward(new Tensor(inputs, [window, B]));
      const r = this.rnn.forward(e.output);
      const logits = this.head.forward(r.output).output.data as Float32Array;
      for (let i = 0; i < targets.length; i++) {
        if (targets[i] < 0) continue;
        const row = logits.subarray(i * V, (i + 1) * V);
        let max = -Infinity;
        for (let v = 0; v < V; v++) max = Math.max(max, row[v]);
        let sum = 0;
        for (let v = 0; v < V; v++) sum += Math.exp(row[v] - max);
        total += Math.log(sum) + max - row[targets[i]];
        count++;
      }
    }
    return total / count;
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

/** One checkpoint's point of the learning curve. */
export interface CurvePoint {
  step: number;
  /** Mean training loss (masks drawn, as trained) of the steps since the previous point. */
  trainLoss: number;
  /** Mean loss on the held-out text in evaluation mode; null without a held-out split. */
  validLoss: number | null;
  /** Wall-clock seconds of training (and evaluating) so far, over every resumed run. */
  seconds: number;
}

/** How `cellscan train` was run: what a resumed run keeps unless told otherwise. */
export interface TrainSettings {
  seq: number;
  batch: number;
  /** The held-out fraction at the end of the text (0: none). */
  valid: number;
}

export interface Checkpoint {
  model: CharModel;
  optimizer: Adam;
  step: number;
  /** Absent in checkpoints written before there were curves. */
  curve?: CurvePoint[];
  settings?: TrainSettings;
}

export function saveCheckpoint(c: Checkpoint, lr: number): Uint8Array {
  const tensors = c.model.stateDict();
  for (const [name, t] of c.optimizer.stateDict()) tensors.set(`optimizer.${name}`, t);
  const meta: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(c.model.config),
    step: String(c.step),
    lr: String(lr),
  };
  if (c.curve) meta.curve = JSON.stringify(c.curve);
  if (c.settings) meta.settings = JSON.stringify(c.settings);
  return saveSafetensors(tensors, meta);
}

/** The best (lowest) held-out loss of a curve and its step; undefined without held-out points. */
export function bestValid(curve: readonly CurvePoint[]): { step: number; validLoss: number } | undefined {
  let best: { step: number; validLoss: number } | undefined;
  for (const p of curve) {
    if (p.validLoss !== null && (best === undefined || p.validLoss < best.validLoss)) best = { step: p.step, validLoss: p.validLoss };
  }
  return best;
}

/**
 * A model (and its optimizer, ready to resume) from a checkpoint's bytes. The weights are the
 * checkpoint's; `seed` plus the checkpoint's step seeds the stream the model draws its training
 * masks from, so a resumed run does not replay the masks of the run's first steps.
 */
export function loadCheckpoint(bytes: Uint8Array, lr?: number, seed = 0): Checkpoint & { lr: number } {
  const tensors = loadSafetensors(bytes);
  const meta = tensors.metadata;
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new TypeError(`checkpoint must be a cellscan character model (format ${CHECKPOINT_FORMAT}), got format ${JSON.stringify(meta.format)}`);
  }
  const config = JSON.parse(meta.config) as CharModelConfig;
  const model = new CharModel(config, seed + Number(meta.step));
  model.loadStateDict(new Map([...tensors].filter(([k]) => !k.startsWith('optimizer.'))));
  const rate = lr ?? Number(meta.lr);
  const optimizer = new Adam(model.modules, { lr: rate });
  optimizer.loadStateDict(new Map([...tensors].filter(([k]) => k.startsWith('optimizer.')).map(([k, t]) => [k.slice(10), t])));
  const out: Checkpoint & { lr: number } = { model, optimizer, step: Number(meta.step), lr: rate };
  if (meta.curve !== undefined) out.curve = JSON.parse(meta.curve) as CurvePoint[];
  if (meta.settings !== undefined) out.settings = JSON.parse(meta.settings) as TrainSettings;
  return out;
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
