// The adding problem (Hochreiter & Schmidhuber 1997): a sequence of (value, marker) pairs, one
// marker in each half; the answer is the sum of the two marked values. Information must survive
// across the whole sequence: gated cells learn it, a vanilla RNN stays at the mean.
import { type RecurrentLayer } from '../layers/recurrent';
import { GRU } from '../layers/gru';
import { Linear } from '../layers/linear';
import { LSTM } from '../layers/lstm';
import { RNN } from '../layers/rnn';
import { Rng } from '../random';
import { Tensor } from '../tensor';
import { mseLoss } from '../train/losses';
import { Adam, clipGradNorm } from '../train/optimizers';

export type Cell = 'lstm' | 'gru' | 'rnn';

export interface AddingConfig {
  cell: Cell;
  length: number;
  hidden: number;
  batch: number;
  steps: number;
  lr: number;
  clip: number;
  seed: number;
  /** Evaluate on the held-out set every this many steps (and after the last). */
  evalEvery: number;
  evalSize: number;
}

/** A point of a learning curve: held-out MSE and the share of answers within `TOLERANCE`. */
export interface EvalPoint {
  step: number;
  mse: number;
  accuracy: number;
}

export interface AddingResult {
  cell: Cell;
  curve: EvalPoint[];
  final: EvalPoint;
  /** First evaluated step with accuracy ≥ SOLVED_ACCURACY, or undefined. */
  solvedAt?: number;
  stepsPerSecond: number;
}

export const TOLERANCE = 0.04;
export const SOLVED_ACCURACY = 0.9;

/** x [T, B, 2] (value, marker), y [B, 1]. */
export function addingBatch(rng: Rng, T: number, B: number): { x: Tensor; y: Tensor } {
  const x = new Float32Array(T * B * 2);
  const y = new Float32Array(B);
  const half = Math.floor(T / 2);
  for (let b = 0; b < B; b++) {
    const first = Math.floor(rng.nextFloat() * half);
    const second = half + Math.floor(rng.nextFloat() * (T - half));
    for (let t = 0; t < T; t++) {
      const v = rng.nextFloat();
      x[(t * B + b) * 2] = v;
      if (t === first || t === second) {
        x[(t * B + b) * 2 + 1] = 1;
        y[b] += v;
      }
    }
  }
  return { x: new Tensor(x, [T, B, 2]), y: new Tensor(y, [B, 1]) };
}

function makeCell(cell: Cell, hidden: number, seed: number): RecurrentLayer {
  const o = { inputSize: 2, hiddenSize: hidden, seed };
  return cell === 'lstm' ? new LSTM(o) : cell === 'gru' ? new GRU(o) : new RNN(o);
}

/** The model: recurrent layer, its last hidden state, a linear read-out. */
export class AddingModel {
  readonly rnn: RecurrentLayer;
  readonly head: Linear;

  constructor(cell: Cell, hidden: number, seed: number) {
    this.rnn = makeCell(cell, hidden, seed);
    this.head = new Linear({ inFeatures: hidden, outFeatures: 1, seed: seed + 1 });
  }

  predict(x: Tensor): Tensor {
    const { hN } = this.rnn.forward(x);
    return this.head.forward(lastLayerState(hN)).output;
  }

  /** One gradient computation; returns the batch MSE. Gradients add into both modules. */
  lossAndGradients(x: Tensor, y: Tensor): number {
    const f = this.rnn.forward(x, { training: true });
    const h = this.head.forward(lastLayerState(f.hN), { training: true });
    const { loss, dPred } = mseLoss(h.output, y);
    const { dInput } = this.head.backward(h.tape!, { dOutput: dPred });
    this.rnn.backward(f.tape!, { dhN: new Tensor(dInput.data as Float32Array, f.hN.shape) });
    return loss;
  }
}

// hN is [1, B, H] for one unidirectional layer: the read-out sees it as [B, H].
function lastLayerState(hN: Tensor): Tensor {
  return new Tensor(hN.data as Float32Array, [hN.shape[1], hN.shape[2]]);
}

export function evaluate(model: AddingModel, x: Tensor, y: Tensor, step: number): EvalPoint {
  const pred = model.predict(x).data;
  let se = 0;
  let within = 0;
  for (let i = 0; i < pred.length; i++) {
    const err = pred[i] - y.data[i];
    se += err * err;
    if (Math.abs(err) < TOLERANCE) within++;
  }
  return { step, mse: se / pred.length, accuracy: within / pred.length };
}

/** Trains one cell; `onStep` sees every step's training loss and each evaluation. */
export function trainAdding(
  c: AddingConfig,
  onStep: (step: number, loss: number, evaluation?: EvalPoint) => void = () => {},
): AddingResult {
  const rng = new Rng(c.seed);
  const held = addingBatch(new Rng(c.seed ^ 0x7e57), c.length, c.evalSize);
  const model = new AddingModel(c.cell, c.hidden, c.seed);
  const modules = [model.rnn, model.head];
  const opt = new Adam(modules, { lr: c.lr });
  const curve: EvalPoint[] = [evaluate(model, held.x, held.y, 0)];
  let solvedAt: number | undefined;
  const started = process.hrtime.bigint();
  for (let step = 1; step <= c.steps; step++) {
    const { x, y } = addingBatch(rng, c.length, c.batch);
    opt.zeroGrad();
    const loss = model.lossAndGradients(x, y);
    clipGradNorm(modules, c.clip);
    opt.step();
    let evaluation: EvalPoint | undefined;
    if (step % c.evalEvery === 0 || step === c.steps) {
      evaluation = evaluate(model, held.x, held.y, step);
      curve.push(evaluation);
      if (solvedAt === undefined && evaluation.accuracy >= SOLVED_ACCURACY) solvedAt = step;
    }
    onStep(step, loss, evaluation);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { cell: c.cell, curve, final: curve[curve.length - 1], solvedAt, stepsPerSecond: c.steps / seconds };
}
