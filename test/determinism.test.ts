// SPEC §3: results are bitwise identical from run to run and for any thread count on one backend,
// plain layers and (SPEC §3a) layers with zoneout, recurrent dropout and weight dropout in training,
// where a fresh layer with the same seed per run draws the same masks.
import { GRU, LSTM, RNN, type RecurrentLayer, Tensor, setNumThreads } from '../src';
import { Rng } from '../src/random';
import { backendRows, selectBackend } from './helpers/backends';

function random(rng: Rng, shape: number[]): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  rng.fillUniform(data, -1, 1);
  return new Tensor(data, shape);
}

// Big enough that every product is split among threads (the pool only engages above a size).
// Batches of 24, 13 and 1 reach the full GEMM tile, a one-row tail tile and the one-row kernel.
// Batch 24 makes forward time loops split rows among workers (BatchSplit); batch 25 must not,
// since its last row is a one-row tile on one thread but not in every split; wider layers split
// hidden units, and workers take pieces from each other whenever one falls behind
// (native/runtime/block_claims.h). Three threads run as three workers where there are three cores
// (the pool uses no more threads than cores). None of it may change a bit.
function trainStep(layer: RecurrentLayer, threads: number, T: number, B: number) {
  setNumThreads(threads);
  const rng = new Rng(3);
  const x = random(rng, [T, B, layer.inputSize]);
  const dOutput = random(rng, [T, B, layer.directions * layer.outputSize]);
  layer.zeroGrad();
  const f = layer.forward(x, { lengths: Array.from({ length: B }, (_, b) => T - (b % 4)), training: true });
  const g = layer.backward(f.tape!, { dOutput });
  return {
    output: f.output.data,
    hN: f.hN.data,
    dInput: g.dInput.data,
    grads: [...layer.gradients().values()].map((t) => t.data.slice()),
  };
}

/** Each of `others` gave `one`'s outputs and gradients bit for bit. */
function expectSameBits(one: ReturnType<typeof trainStep>, others: ReturnType<typeof trainStep>[]): void {
  const same = (a: Float32Array | ArrayBufferView, b: Float32Array | ArrayBufferView) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
  for (const other of others) {
    expect(same(other.output, one.output)).toBe(true);
    expect(same(other.hN, one.hN)).toBe(true);
    expect(same(other.dInput, one.dInput)).toBe(true);
    other.grads.forEach((g, i) => expect(same(g, one.grads[i])).toBe(true));
  }
}

describe.each(backendRows())('bitwise determinism on %s', (backend) => {
  beforeAll(() => selectBackend(backend));
  afterAll(() => setNumThreads(2));

  const lstm = () => new LSTM({ inputSize: 96, hiddenSize: 80, bidirectional: true, numLayers: 2, seed: 1 });
  const gru = () => new GRU({ inputSize: 96, hiddenSize: 80, bidirectional: true, numLayers: 2, seed: 1 });
  const gruResetFirst = () =>
    new GRU({ inputSize: 96, hiddenSize: 80, bidirectional: true, numLayers: 2, linearBeforeReset: false, seed: 1 });
  const rnn = () => new RNN({ inputSize: 96, hiddenSize: 160, bidirectional: true, numLayers: 2, seed: 1 });
  // Batch 1 splits its steps among threads only from about H = 360 on.
  const wideLstm = () => new LSTM({ inputSize: 32, hiddenSize: 400, seed: 1 });
  // From H = 512 a batch-split step comes in several blocks of units, and a worker that is ahead
  // finishes blocks of the others' steps (native/runtime/owner_claims.h).
  const wideBatchLstm = () => new LSTM({ inputSize: 16, hiddenSize: 512, seed: 1 });
  const wideBatchGru = () => new GRU({ inputSize: 16, hiddenSize: 512, linearBeforeReset: false, seed: 1 });
  // Projection and peepholes keep backward off the batch split: three phases a step, at barriers.
  const projLstm = () => new LSTM({ inputSize: 48, hiddenSize: 160, projSize: 64, peepholes: true, seed: 1 });
  // A streaming step of a wide layer splits its products among threads (they stream the weights)
  // and claims its pieces with no barrier; a small bidirectional layer (and each layer of the GRU
  // at T=40 B=1 above) runs its two directions side by side, one per thread.
  const streamLstm = () => new LSTM({ inputSize: 256, hiddenSize: 256, seed: 1 });
  const streamGru = () => new GRU({ inputSize: 256, hiddenSize: 256, linearBeforeReset: false, seed: 1 });
  const smallBidirectional = () => new LSTM({ inputSize: 24, hiddenSize: 32, bidirectional: true, seed: 1 });
  test.each([
    ['LSTM I=H=256', 1, 1, streamLstm],
    ['LSTM I=H=256', 1, 2, streamLstm],
    ['GRU I=H=256 (reset before linear)', 1, 1, streamGru],
    ['LSTM bidirectional I=24 H=32', 63, 1, smallBidirectional],
    ['LSTM', 7, 24, lstm],
    ['GRU', 7, 24, gru],
    ['GRU (reset before linear)', 7, 24, gruResetFirst],
    ['RNN', 7, 24, rnn],
    ['LSTM', 9, 13, lstm],
    ['LSTM', 5, 25, lstm],
    ['GRU', 40, 1, gru],
    ['LSTM H=400', 12, 1, wideLstm],
    ['LSTM H=512', 12, 24, wideBatchLstm],
    ['GRU H=512 (reset before linear)', 12, 24, wideBatchGru],
    // Batches whose even halves would end in a 1-3 row tile on 6-row (AVX2) tiles: split 6 + 10
    // and 30 + 34 rows instead.
    ['LSTM H=512', 6, 16, wideBatchLstm],
    ['LSTM H=512', 6, 64, wideBatchLstm],
    ['LSTM projection peepholes', 9, 24, projLstm],
  ] as const)('%s T=%d B=%d: 1, 2 and 3 threads, and a repeated run, agree bit for bit', (_name, T, B, make) => {
    const layer = make();
    const one = trainStep(layer, 1, T, B);
    const two = trainStep(layer, 2, T, B);
    const three = trainStep(layer, 3, T, B);
    const again = trainStep(layer, 2, T, B);
    expectSameBits(one, [two, three, again]);
  });
});

describe.each(backendRows())('bitwise determinism of the variants on %s', (backend) => {
  beforeAll(() => selectBackend(backend));
  afterAll(() => setNumThreads(2));

  // Every layer direction draws zoneout masks for h (and c), a recurrent mask and a weight mask.
  const variants = { zoneout: 0.25, recurrentDropout: 0.3, weightDropout: 0.2, seed: 1 };
  const lstm = () => new LSTM({ inputSize: 96, hiddenSize: 80, bidirectional: true, numLayers: 2, dropout: 0.2, ...variants });
  const gruResetFirst = () =>
    new GRU({ inputSize: 96, hiddenSize: 80, bidirectional: true, numLayers: 2, linearBeforeReset: false, residual: true, ...variants });
  const rnn = () => new RNN({ inputSize: 96, hiddenSize: 160, bidirectional: true, numLayers: 2, ...variants });
  const wideLstm = () => new LSTM({ inputSize: 32, hiddenSize: 400, ...variants });
  const wideBatchGru = () => new GRU({ inputSize: 16, hiddenSize: 512, ...variants });
  const projLstm = () => new LSTM({ inputSize: 48, hiddenSize: 160, projSize: 64, peepholes: true, ...variants });
  test.each([
    // Batch-split time loops (batch 24), a one-row tail tile (13), unit splits (batch 1, H = 400),
    // blocks of units in a batch split (H = 512), and the three-phase backward of projection/peepholes.
    ['LSTM', 7, 24, lstm],
    ['LSTM', 9, 13, lstm],
    ['GRU (reset before linear, residual)', 7, 24, gruResetFirst],
    ['RNN', 7, 24, rnn],
    ['LSTM H=400', 8, 1, wideLstm],
    ['GRU H=512', 6, 24, wideBatchGru],
    ['LSTM projection peepholes', 9, 24, projLstm],
  ] as const)('%s T=%d B=%d with zoneout, recurrentDropout, weightDropout: 1, 2 and 3 threads agree bit for bit', (_name, T, B, make) => {
    // A fresh layer per run: the same seed draws the same masks on its first training call.
    const one = trainStep(make(), 1, T, B);
    const two = trainStep(make(), 2, T, B);
    const three = trainStep(make(), 3, T, B);
    expectSameBits(one, [two, three]);
  });
});
