// A model built only from the exported API learns a next-token task whose answer depends on the
// two previous tokens (target_t = (x_{t−1} + 2·x_{t−2}) mod 8) to held-out accuracy ≥ 0.99 in 300
// Adam steps, with LSTM and with GRU, on every backend.
import { Adam, Embedding, GRU, LSTM, Linear, Tensor, clipGradNorm, crossEntropy } from '../src';
import { Rng } from '../src/random';
import { backendRows, selectBackend } from './helpers/backends';

const V = 8;
const T = 20;

function batch(rng: Rng, B: number): { x: Tensor; y: Tensor } {
  const ids = new Int32Array(T * B);
  const targets = new Int32Array(T * B);
  for (let i = 0; i < ids.length; i++) ids[i] = Math.floor(rng.nextFloat() * V);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      targets[t * B + b] = t < 2 ? -100 : (ids[(t - 1) * B + b] + 2 * ids[(t - 2) * B + b]) % V;
    }
  }
  return { x: new Tensor(ids, [T, B]), y: new Tensor(targets, [T, B]) };
}

describe.each(backendRows())('next-token task on %s', (backend) => {
  beforeAll(() => selectBackend(backend));

  test.each(['LSTM', 'GRU'] as const)('%s reaches held-out accuracy ≥ 0.99 in 300 Adam steps', (cell) => {
    const embedding = new Embedding({ numEmbeddings: V, embeddingDim: 16, seed: 1 });
    const rnn = cell === 'LSTM' ? new LSTM({ inputSize: 16, hiddenSize: 64, seed: 2 }) : new GRU({ inputSize: 16, hiddenSize: 64, seed: 2 });
    const head = new Linear({ inFeatures: 64, outFeatures: V, seed: 3 });
    const modules = [embedding, rnn, head];
    const optimizer = new Adam(modules, { lr: 1e-2 });
    const rng = new Rng(5);
    let firstLoss = 0;
    for (let step = 1; step <= 300; step++) {
      const { x, y } = batch(rng, 32);
      optimizer.zeroGrad();
      const e = embedding.forward(x, { training: true });
      const r = rnn.forward(e.output, { training: true });
      const h = head.forward(r.output, { training: true });
      const { loss, dLogits } = crossEntropy(h.output, y);
      if (step === 1) firstLoss = loss;
      const { dInput: dHidden } = head.backward(h.tape!, { dOutput: dLogits });
      const { dInput: dEmbedded } = rnn.backward(r.tape!, { dOutput: dHidden });
      embedding.backward(e.tape!, { dOutput: dEmbedded });
      clipGradNorm(modules, 1);
      optimizer.step();
    }
    // Chance is 1/8 (loss ln 8 ≈ 2.08) before training.
    expect(firstLoss).toBeGreaterThan(1.8);
    const test = batch(new Rng(99), 256);
    const logits = head.forward(rnn.forward(embedding.forward(test.x).output).output).output.data;
    let correct = 0;
    let counted = 0;
    for (let i = 0; i < test.y.size; i++) {
      const target = test.y.data[i];
      if (target < 0) continue;
      let best = 0;
      for (let k = 1; k < V; k++) if (logits[i * V + k] > logits[i * V + best]) best = k;
      counted++;
      if (best === target) correct++;
    }
    expect(correct / counted).toBeGreaterThanOrEqual(0.99);
  });
});
