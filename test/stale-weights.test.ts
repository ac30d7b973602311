// In-place edits of parameter data without parametersChanged() take effect on the next call (issue
// 15, "stale weights"), on every backend, for evaluation and training calls, layers and cells; and
// tapes show nothing of what they keep. Each result is compared bit for bit with a twin layer that
// got the same edit and was told of it with parametersChanged().
import { Adam, Embedding, GRU, LSTM, LSTMCell, Linear, RNN, SGD, Tensor, exportONNX } from '../src';
import { WeightWatch } from '../src/layers/weight-watch';
import { encodeModelOnce } from '../src/queue/model-blob';
import type { RecurrentLayer } from '../src/layers/recurrent';
import { Rng } from '../src/random';
import { backendRows, selectBackend } from './helpers/backends';

const T = 4;
const B = 3;
const I = 5;
const H = 6;

function random(rng: Rng, shape: number[]): Tensor {
  const data = new Float32Array(shape.reduce((n, d) => n * d, 1));
  rng.fillUniform(data, -1, 1);
  return new Tensor(data, shape);
}

function sameBits(a: Float32Array | Int32Array, b: Float32Array | Int32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

type Make = () => RecurrentLayer;
const layers: [string, Make][] = [
  ['LSTM', () => new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, seed: 3 })],
  ['GRU', () => new GRU({ inputSize: I, hiddenSize: H, seed: 3 })],
  ['RNN', () => new RNN({ inputSize: I, hiddenSize: H, seed: 3 })],
];

/** Adds `delta` to element `at` of parameter `name` of both layers; only the twin hears of it. */
function edit(layer: RecurrentLayer, twin: RecurrentLayer, name: string, at: number, delta: number): void {
  layer.parameters().get(name)!.data[at] += delta;
  twin.parameters().get(name)!.data[at] += delta;
  twin.parametersChanged();
}

describe.each(backendRows())('in-place parameter edits on %s', (backend) => {
  beforeEach(() => selectBackend(backend));
  const x = random(new Rng(7), [T, B, I]);

  test.each(layers)('%s: forward after an edit computes with the edited weights', (_, make) => {
    const layer = make();
    const twin = make();
    layer.forward(x);
    for (const name of ['weight_ih_l0', 'weight_hh_l0', 'bias_hh_l0']) {
      edit(layer, twin, name, 2, 0.75);
      const got = layer.forward(x);
      const want = twin.forward(x);
      expect(sameBits(got.output.data, want.output.data)).toBe(true);
      expect(sameBits(got.hN.data, want.hN.data)).toBe(true);
    }
  });

  test('a write through an array held since before the last call is seen (an optimizer keeps its arrays)', () => {
    const layer = layers[0][1]();
    const twin = layers[0][1]();
    const held = layer.parameters().get('weight_hh_l1_reverse')!.data;
    const before = layer.forward(x).output.data.slice();
    layer.forward(x);
    held[held.length - 1] -= 0.5;
    twin.parameters().get('weight_hh_l1_reverse')!.data[held.length - 1] -= 0.5;
    twin.parametersChanged();
    const after = layer.forward(x).output.data;
    expect(sameBits(after, twin.forward(x).output.data)).toBe(true);
    expect(sameBits(after, before)).toBe(false);
  });

  test('a training call (forward with training, then backward) after an edit uses the edited weights', () => {
    const layer = layers[0][1]();
    const twin = layers[0][1]();
    const dOutput = random(new Rng(8), [T, B, 2 * H]);
    layer.backward(layer.forward(x, { training: true }).tape!, { dOutput });
    edit(layer, twin, 'weight_ih_l1', 5, -0.25);
    layer.zeroGrad();
    const got = layer.forward(x, { training: true });
    const gotBack = layer.backward(got.tape!, { dOutput });
    const want = twin.forward(x, { training: true });
    const wantBack = twin.backward(want.tape!, { dOutput });
    expect(sameBits(got.output.data, want.output.data)).toBe(true);
    expect(sameBits(gotBack.dInput.data, wantBack.dInput.data)).toBe(true);
    for (const [name, g] of layer.gradients()) expect([name, sameBits(g.data, twin.gradients().get(name)!.data)]).toEqual([name, true]);
  });

  test('forwardAsync after an edit uses the edited weights', async () => {
    const layer = layers[1][1]();
    const twin = layers[1][1]();
    await layer.forwardAsync(x);
    edit(layer, twin, 'weight_hh_l0', 0, 1.5);
    const got = await layer.forwardAsync(x);
    expect(sameBits(got.output.data, (await twin.forwardAsync(x)).output.data)).toBe(true);
  });

  test('a cell: forward after an edit uses the edited weights', () => {
    const cell = new LSTMCell({ inputSize: I, hiddenSize: H, seed: 4 });
    const twin = new LSTMCell({ inputSize: I, hiddenSize: H, seed: 4 });
    const input = random(new Rng(9), [B, I]);
    // weight_hh meets h0 only: with zero state an edit of it would change nothing.
    const h0 = random(new Rng(12), [B, H]);
    const before = cell.forward(input, { h0 }).h.data;
    cell.parameters().get('weight_hh')!.data[7] = 3;
    twin.parameters().get('weight_hh')!.data[7] = 3;
    twin.parametersChanged();
    const after = cell.forward(input, { h0 }).h.data;
    expect(sameBits(after, twin.forward(input, { h0 }).h.data)).toBe(true);
    expect(sameBits(after, before)).toBe(false);
  });

  test('backward differentiates the forward its tape recorded, even when the weights changed in between', () => {
    const layer = layers[2][1]();
    const twin = layers[2][1]();
    const dOutput = random(new Rng(10), [T, B, H]);
    const f = layer.forward(x, { training: true });
    layer.parameters().get('weight_hh_l0')!.data[1] += 2;
    const got = layer.backward(f.tape!, { dOutput });
    const want = twin.backward(twin.forward(x, { training: true }).tape!, { dOutput });
    expect(sameBits(got.dInput.data, want.dInput.data)).toBe(true);
  });
});

describe('tapes keep their record out of sight', () => {
  const x = random(new Rng(11), [T, B, I]);

  test('a recurrent layer, a cell, Linear and Embedding hand back tapes with no properties', () => {
    const tapes = [
      new LSTM({ inputSize: I, hiddenSize: H }).forward(x, { training: true }).tape!,
      new LSTM({ inputSize: I, hiddenSize: H }).forward(x, { tape: true }).tape!,
      new LSTMCell({ inputSize: I, hiddenSize: H }).forward(random(new Rng(1), [B, I]), { training: true }).tape!,
      new Linear({ inFeatures: I, outFeatures: 2 }).forward(x, { training: true }).tape!,
      new Embedding({ numEmbeddings: 4, embeddingDim: 3 }).forward(new Tensor(new Int32Array([0, 3]), [2]), { training: true }).tape!,
    ];
    for (const tape of tapes) {
      expect(Object.keys(tape)).toEqual([]);
      expect(Reflect.ownKeys(tape)).toEqual([]);
    }
  });

  test('a tape built by hand is refused by backward', () => {
    const layer = new GRU({ inputSize: I, hiddenSize: H });
    const { tape } = layer.forward(x, { training: true });
    const forged = new (tape!.constructor as new () => object)();
    expect(() => layer.backward(forged, {})).toThrow(/^GRU\.backward: tape must be the Tape of a forward with training: true or tape: true, got a RecurrentTape$/);
  });
});

describe("the library's own readers hand no parameter out", () => {
  // A handed-out array is compared before every later call (+70 µs on an S9 step): the optimizers,
  // which announce their writes, and exportONNX, which only reads, must not cause that.
  let watched: jest.SpyInstance;
  beforeEach(() => (watched = jest.spyOn(WeightWatch.prototype, 'watch')));
  afterEach(() => watched.mockRestore());

  test('Adam and SGD steps, stateDict, size/clone/toArray, exportONNX and the queue\'s model blob watch nothing; reading data watches that array', () => {
    const layer = new LSTM({ inputSize: I, hiddenSize: H, seed: 4 });
    const x = random(new Rng(9), [T, B, I]);
    for (const opt of [new Adam([layer], { lr: 1e-3 }), new SGD([layer], { lr: 1e-2, momentum: 0.9 })]) {
      const { output, tape } = layer.forward(x, { training: true });
      layer.backward(tape!, { dOutput: new Tensor(output.data.slice(), output.shape) });
      opt.step();
    }
    layer.stateDict();
    // A tensor's own methods read its array without handing it out: size, a copy, nested arrays.
    const w = layer.parameters().get('weight_hh_l0')!;
    expect(w.size).toBe(4 * H * H);
    expect(w.clone().shape).toEqual([4 * H, H]);
    expect((w.toArray() as number[][]).length).toBe(4 * H);
    exportONNX(layer);
    encodeModelOnce(layer);
    encodeModelOnce(layer);
    layer.forward(x);
    expect(watched).not.toHaveBeenCalled();
    const array = layer.parameters().get('weight_hh_l0')!.data;
    layer.forward(x);
    expect(watched).toHaveBeenCalledTimes(1);
    expect(watched.mock.calls[0][0]).toBe(array);
  });
});
