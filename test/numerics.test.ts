// Extreme values: a NaN or an infinity in one batch row stays in that row (and never takes the
// process down), and huge inputs saturate the gates instead of overflowing into NaN.
import { GRU, LSTM, RNN, type RecurrentLayer, Tensor } from '../src';
import { Rng } from '../src/random';
import { backendRows, selectBackend } from './helpers/backends';

const T = 6;
const B = 5;

function input(layer: RecurrentLayer, fill: (t: number, b: number, i: number) => number): Tensor {
  const x = new Float32Array(T * B * layer.inputSize);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < layer.inputSize; i++) x[(t * B + b) * layer.inputSize + i] = fill(t, b, i);
    }
  }
  return new Tensor(x, [T, B, layer.inputSize]);
}

/** Row b of [T or states, B, n] data. */
function rowValues(data: Float32Array | Int32Array, b: number, n: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < data.length / (B * n); s++) out.push(...data.subarray((s * B + b) * n, (s * B + b + 1) * n));
  return out;
}

const layers: [string, () => RecurrentLayer][] = [
  ['LSTM', () => new LSTM({ inputSize: 12, hiddenSize: 80, seed: 1 })],
  ['LSTM with projection and peepholes', () => new LSTM({ inputSize: 12, hiddenSize: 80, projSize: 24, peepholes: true, seed: 1 })],
  ['GRU', () => new GRU({ inputSize: 12, hiddenSize: 80, seed: 1 })],
  ['GRU, reset before linear', () => new GRU({ inputSize: 12, hiddenSize: 80, linearBeforeReset: false, seed: 1 })],
  ['RNN tanh', () => new RNN({ inputSize: 12, hiddenSize: 80, seed: 1 })],
  ['RNN relu', () => new RNN({ inputSize: 12, hiddenSize: 80, nonlinearity: 'relu', seed: 1 })],
];

describe.each(backendRows())('extreme values on %s', (backend) => {
  beforeAll(() => selectBackend(backend));

  test.each(layers)('%s: NaN and Inf in one row stay in that row, forward and backward', (_, make) => {
    const layer = make();
    const rng = new Rng(3);
    const base = new Float32Array(T * B * layer.inputSize);
    rng.fillUniform(base, -1, 1);
    const poisoned = new Map([
      [1, Number.NaN],
      [3, Number.POSITIVE_INFINITY],
    ]);
    const x = input(layer, (t, b, i) => (t === 2 && i === 0 && poisoned.has(b) ? poisoned.get(b)! : base[(t * B + b) * layer.inputSize + i]));
    const clean = input(layer, (t, b, i) => base[(t * B + b) * layer.inputSize + i]);
    const W = layer.outputSize;

    const f = layer.forward(x, { training: true });
    const ref = layer.forward(clean);
    for (let b = 0; b < B; b++) {
      const got = rowValues(f.output.data, b, W);
      if (b === 1) {
        // NaN propagates from its step on.
        expect(got.slice(2 * W).every(Number.isNaN)).toBe(true);
        expect(got.slice(0, 2 * W)).toEqual(rowValues(ref.output.data, b, W).slice(0, 2 * W));
      } else if (b === 3) {
        // An infinity drives that step's gates into saturation (or relu to infinity): the row
        // changes from there on.
        expect(got.slice(2 * W)).not.toEqual(rowValues(ref.output.data, b, W).slice(2 * W));
      } else {
        expect(got).toEqual(rowValues(ref.output.data, b, W));
      }
    }
    const dOutput = new Tensor(new Float32Array(T * B * W).fill(0.5), [T, B, W]);
    const g = layer.backward(f.tape!, { dOutput });
    const I = layer.inputSize;
    for (let b = 0; b < B; b++) {
      const dx = rowValues(g.dInput.data, b, I);
      if (!poisoned.has(b)) expect(dx.every(Number.isFinite)).toBe(true);
    }
  });

  test.each(layers)('%s: inputs of ±1e30 saturate the gates, with no NaN', (_, make) => {
    const layer = make();
    const x = input(layer, (t, b, i) => ((t + b + i) % 2 === 0 ? 1e30 : -1e30) * (b === 0 ? 1 : 1e-3));
    const f = layer.forward(x, { training: true });
    const isRelu = layer instanceof RNN && layer.nonlinearity === 'relu';
    for (const v of f.output.data) {
      if (isRelu) {
        // relu does not saturate: an overflow to +Inf is the honest result, never NaN.
        expect(Number.isNaN(v)).toBe(false);
      } else {
        expect(Number.isFinite(v)).toBe(true);
        expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-6);
      }
    }
    if (!isRelu) {
      const g = layer.backward(f.tape!, { dOutput: new Tensor(new Float32Array(f.output.data.length).fill(1), f.output.shape) });
      for (const v of g.dInput.data) expect(Number.isNaN(v)).toBe(false);
    }
  });
});
