// Lengths in non-increasing order (as the Batcher sends them) let the native products skip rows
// whose sequences have ended (SequenceIndex::sorted). Skipping may change no bit of any row: the
// same rows in an order that is not sorted run every product on every row, and each row's output,
// final states and input gradient must come out identical; weight gradients sum rows in another
// order, so they agree to rounding. The lengths end in runs of 1-3 rows still going, the case where
// a product is kept at 4 rows so the tile kernel does not change.
import { GRU, LSTM, RNN, type RecurrentLayer, Tensor, setNumThreads } from '../src';
import { Rng } from '../src/random';
import { backendRows, selectBackend } from './helpers/backends';

const T = 12;
const B = 24;
// Sorted longest first; three rows outlast the rest by several steps.
const sorted = [12, 12, 11, 9, 9, 9, 8, 8, 7, 7, 7, 6, 6, 5, 5, 5, 4, 4, 3, 3, 2, 1, 1, 0];
// Row b of the shuffled batch is row order[b] of the sorted one.
const order = Array.from({ length: B }, (_, b) => (b * 7) % B);

function random(rng: Rng, shape: number[]): Float32Array {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  rng.fillUniform(data, -1, 1);
  return data;
}

/** [T, B, n] with rows reordered so that row b holds row order[b]. */
function shuffleRows(data: Float32Array, steps: number, n: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let t = 0; t < steps; t++) {
    for (let b = 0; b < B; b++) out.set(data.subarray((t * B + order[b]) * n, (t * B + order[b] + 1) * n), (t * B + b) * n);
  }
  return out;
}

function run(layer: RecurrentLayer, x: Float32Array, dY: Float32Array, lengths: number[], h0: Float32Array) {
  const states = layer.directions * layer.numLayers;
  layer.zeroGrad();
  const f = layer.forward(new Tensor(x, [T, B, layer.inputSize]), {
    lengths,
    h0: new Tensor(h0, [states, B, layer.outputSize]),
    training: true,
  });
  const g = layer.backward(f.tape!, { dOutput: new Tensor(dY, [T, B, layer.directions * layer.outputSize]) });
  return {
    output: f.output.data as Float32Array,
    hN: f.hN.data as Float32Array,
    cN: f.cN?.data as Float32Array | undefined,
    dInput: g.dInput.data as Float32Array,
    dh0: g.dh0.data as Float32Array,
    grads: [...layer.gradients().values()].map((t) => (t.data as Float32Array).slice()),
  };
}

function maxRelativeDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i])));
  return m;
}

const layers: [string, () => RecurrentLayer][] = [
  ['LSTM', () => new LSTM({ inputSize: 40, hiddenSize: 96, seed: 1 })],
  ['bidirectional 2-layer LSTM', () => new LSTM({ inputSize: 40, hiddenSize: 64, numLayers: 2, bidirectional: true, seed: 1 })],
  ['LSTM with projection and peepholes', () => new LSTM({ inputSize: 40, hiddenSize: 96, projSize: 48, peepholes: true, seed: 1 })],
  ['wide LSTM (blocks of units claimed across rows)', () => new LSTM({ inputSize: 16, hiddenSize: 512, seed: 1 })],
  ['GRU', () => new GRU({ inputSize: 40, hiddenSize: 96, seed: 1 })],
  ['GRU, reset before linear', () => new GRU({ inputSize: 40, hiddenSize: 96, linearBeforeReset: false, seed: 1 })],
  ['RNN relu', () => new RNN({ inputSize: 40, hiddenSize: 160, nonlinearity: 'relu', seed: 1 })],
];

describe.each(backendRows())('sorted lengths on %s', (backend) => {
  beforeAll(() => selectBackend(backend));
  afterAll(() => setNumThreads(2));

  test.each(layers)('%s: each row as in an unsorted batch, on 1, 2 and 3 threads', (_, make) => {
    const layer = make();
    const rng = new Rng(5);
    const D = layer.directions;
    const states = D * layer.numLayers;
    const x = random(rng, [T, B, layer.inputSize]);
    const dY = random(rng, [T, B, D * layer.outputSize]);
    const h0 = random(rng, [states, B, layer.outputSize]);
    const shuffledLengths = order.map((b) => sorted[b]);
    expect(shuffledLengths).not.toEqual([...shuffledLengths].sort((a, b) => b - a));

    setNumThreads(2);
    const plain = run(layer, shuffleRows(x, T, layer.inputSize), shuffleRows(dY, T, D * layer.outputSize), shuffledLengths, shuffleRows(h0, states, layer.outputSize));
    for (const threads of [1, 2, 3]) {
      setNumThreads(threads);
      const skipping = run(layer, x, dY, sorted, h0);
      expect(shuffleRows(skipping.output, T, D * layer.outputSize)).toEqual(plain.output);
      expect(shuffleRows(skipping.hN, states, layer.outputSize)).toEqual(plain.hN);
      if (plain.cN) expect(shuffleRows(skipping.cN!, states, (layer as LSTM).hiddenSize)).toEqual(plain.cN);
      expect(shuffleRows(skipping.dInput, T, layer.inputSize)).toEqual(plain.dInput);
      expect(shuffleRows(skipping.dh0, states, layer.outputSize)).toEqual(plain.dh0);
      skipping.grads.forEach((g, i) => expect(maxRelativeDiff(g, plain.grads[i])).toBeLessThan(1e-5));
    }
  });
});
