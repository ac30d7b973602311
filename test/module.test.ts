// Parameters, gradients and state dicts behave as a PyTorch user expects.
import { GRU, LSTM, RNN, Tensor } from '../src';
import { backendRows, selectBackend } from './helpers/backends';

const shapes = (m: { parameters(): Map<string, Tensor> }) =>
  Object.fromEntries([...m.parameters()].map(([n, t]) => [n, t.shape]));

test('parameter names and shapes are PyTorch\'s', () => {
  expect(shapes(new LSTM({ inputSize: 5, hiddenSize: 8, numLayers: 2, bidirectional: true, projSize: 3 }))).toEqual({
    weight_ih_l0: [32, 5], weight_hh_l0: [32, 3], bias_ih_l0: [32], bias_hh_l0: [32], weight_hr_l0: [3, 8],
    weight_ih_l0_reverse: [32, 5], weight_hh_l0_reverse: [32, 3], bias_ih_l0_reverse: [32], bias_hh_l0_reverse: [32], weight_hr_l0_reverse: [3, 8],
    weight_ih_l1: [32, 6], weight_hh_l1: [32, 3], bias_ih_l1: [32], bias_hh_l1: [32], weight_hr_l1: [3, 8],
    weight_ih_l1_reverse: [32, 6], weight_hh_l1_reverse: [32, 3], bias_ih_l1_reverse: [32], bias_hh_l1_reverse: [32], weight_hr_l1_reverse: [3, 8],
  });
  expect(shapes(new GRU({ inputSize: 4, hiddenSize: 6, bias: false }))).toEqual({ weight_ih_l0: [18, 4], weight_hh_l0: [18, 6] });
  expect(shapes(new RNN({ inputSize: 4, hiddenSize: 6 }))).toEqual({ weight_ih_l0: [6, 4], weight_hh_l0: [6, 6], bias_ih_l0: [6], bias_hh_l0: [6] });
  expect(Object.keys(shapes(new LSTM({ inputSize: 4, hiddenSize: 6, peepholes: true })))).toContain('weight_peephole_l0');
  expect(shapes(new LSTM({ inputSize: 4, hiddenSize: 6, peepholes: true })).weight_peephole_l0).toEqual([3, 6]);
});

test('default init is uniform(-1/sqrt(H), 1/sqrt(H)), repeatable, and changes with the seed', () => {
  const a = new LSTM({ inputSize: 7, hiddenSize: 16 });
  const b = new LSTM({ inputSize: 7, hiddenSize: 16 });
  const c = new LSTM({ inputSize: 7, hiddenSize: 16, seed: 42 });
  const w = a.parameters().get('weight_hh_l0')!.data;
  expect(Math.max(...w)).toBeLessThan(0.25);
  expect(Math.min(...w)).toBeGreaterThanOrEqual(-0.25);
  expect(Math.max(...w)).toBeGreaterThan(0.2); // 1024 draws reach near the bound
  expect(b.parameters().get('weight_hh_l0')!.data).toEqual(w);
  expect(c.parameters().get('weight_hh_l0')!.data).not.toEqual(w);
});

test('stateDict copies; gradients mirror parameters; zeroGrad clears', () => {
  const m = new GRU({ inputSize: 3, hiddenSize: 4 });
  const sd = m.stateDict();
  sd.get('weight_ih_l0')!.data[0] = 123;
  expect(m.parameters().get('weight_ih_l0')!.data[0]).not.toBe(123);
  expect(shapes({ parameters: () => m.gradients() })).toEqual(shapes(m));
  m.gradients().get('bias_hh_l0')!.data.fill(3);
  m.zeroGrad();
  expect([...m.gradients().get('bias_hh_l0')!.data].every((v) => v === 0)).toBe(true);
});

describe.each(backendRows())('layer state on %s', (backend) => {
  beforeAll(() => selectBackend(backend));

  test('in-place edits are visible at the next call, announced by parametersChanged or not', () => {
    const m = new RNN({ inputSize: 2, hiddenSize: 3 });
    const x = new Tensor(Float32Array.from([1, 2, 3, 4]), [2, 1, 2]);
    const before = m.forward(x).output.data;
    m.parameters().get('weight_ih_l0')!.data.fill(0.5);
    const unannounced = m.forward(x).output.data;
    expect(unannounced).not.toEqual(before);
    m.parametersChanged();
    const after = m.forward(x).output.data;
    expect(after).toEqual(unannounced);
    const fresh = new RNN({ inputSize: 2, hiddenSize: 3 });
    fresh.loadStateDict(m.stateDict());
    expect(fresh.forward(x).output.data).toEqual(after);
  });

  test('backward adds into gradients: two backwards give twice one', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 4, bidirectional: true });
    const x = new Tensor(Float32Array.from({ length: 18 }, (_, i) => Math.sin(i)), [3, 2, 3]);
    const dOutput = new Tensor(new Float32Array(48).fill(0.25), [3, 2, 8]);
    m.backward(m.forward(x, { training: true }).tape!, { dOutput });
    const once = [...m.gradients().values()].map((g) => g.data.slice());
    m.backward(m.forward(x, { training: true }).tape!, { dOutput });
    [...m.gradients().values()].forEach((g, i) => {
      for (let j = 0; j < g.size; j++) expect(g.data[j]).toBeCloseTo(2 * once[i][j], 6);
    });
  });

  test.each([
    ['GRU', () => new GRU({ inputSize: 2, hiddenSize: 3, seed: 3 })],
    // DropConnect builds this call's own masked weight_hh: the tape must keep that too.
    ['LSTM with weightDropout', () => new LSTM({ inputSize: 2, hiddenSize: 3, weightDropout: 0.5, seed: 3 })],
  ] as const)('a tape keeps the weights its forward used: %s', (_name, make) => {
    // Backward after the parameters changed (and parametersChanged) must still differentiate the
    // function its forward computed: with nonzero gradients, every result depends on the old weights.
    const x = new Tensor(Float32Array.from({ length: 3 * 2 * 2 }, (_, i) => Math.sin(i + 1)), [3, 2, 2]);
    const dOutput = new Tensor(Float32Array.from({ length: 3 * 2 * 3 }, (_, i) => Math.cos(i)), [3, 2, 3]);
    const dhN = new Tensor(Float32Array.from({ length: 2 * 3 }, (_, i) => 0.5 - i / 6), [1, 2, 3]);
    const step = (layer: LSTM | GRU, changeBeforeBackward?: Map<string, Tensor>) => {
      const { tape } = layer.forward(x, { training: true });
      if (changeBeforeBackward) layer.loadStateDict(changeBeforeBackward); // calls parametersChanged
      const g = layer.backward(tape!, { dOutput, dhN });
      return [g.dInput.data, g.dh0.data, ...[...layer.gradients().values()].map((t) => t.data)];
    };
    const newWeights = make().stateDict();
    for (const t of newWeights.values()) t.data.forEach((v, i, a) => (a[i] = -0.7 * v + 0.05));
    const expected = step(make());
    const got = step(make(), newWeights);
    const withNewWeights = make();
    withNewWeights.loadStateDict(newWeights);
    const other = step(withNewWeights);
    // The old and the new weights give other gradients, so the comparison below can tell them apart.
    expect(other[0]).not.toEqual(expected[0]);
    got.forEach((values, i) => expect(Buffer.from(values.buffer).equals(Buffer.from(expected[i].buffer))).toBe(true));
  });

  test('padded steps give zero outputs and zero input gradients', () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true, batchFirst: true });
    const x = new Tensor(Float32Array.from({ length: 2 * 4 * 2 }, (_, i) => Math.cos(i)), [2, 4, 2]);
    const { output, tape } = m.forward(x, { lengths: [4, 2], training: true });
    const dOutput = new Tensor(new Float32Array(2 * 4 * 6).fill(1), [2, 4, 6]);
    const { dInput } = m.backward(tape!, { dOutput });
    for (const t of [2, 3]) {
      expect([...output.data.subarray((4 + t) * 6, (4 + t + 1) * 6)]).toEqual([0, 0, 0, 0, 0, 0]);
      expect([...dInput.data.subarray((4 + t) * 2, (4 + t + 1) * 2)]).toEqual([0, 0]);
    }
  });
});
