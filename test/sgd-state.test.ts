// SGD.stateDict / loadStateDict: the momentum buffers (PyTorch's momentum_buffer), so a run saved
// and resumed takes the same steps as one never interrupted; a bad dict is refused in full, named.
import { SGD, Tensor, loadSafetensors, saveSafetensors } from '../src';
import { toyModule } from './helpers/toy-module';

const shapes: [number[], number[]][] = [
  [[2, 2], [1, -2, 0.5, 3]],
  [[3], [0.25, -1, 2]],
];
const gradsAt = (t: number) => [
  [0.5 - t, 0.25 * t, -1, 0.125],
  [t, -0.5, 0.75 * t],
];
const options = { lr: 0.1, momentum: 0.9, weightDecay: 0.01 };

function stepWith(opt: SGD, m: ReturnType<typeof toyModule>, t: number): void {
  gradsAt(t).forEach((g, i) => m.grads[i].data.set(g));
  opt.step();
}

const bits = (ts: Tensor[]) => ts.map((t) => [...new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)]);

test('the buffers after one step are g + weightDecay · p, in the parameters\' shapes', () => {
  const m = toyModule(shapes);
  const opt = new SGD(m, options);
  expect(opt.stateDict().size).toBe(0); // none before the first step, as PyTorch's None
  const p0 = shapes.map(([, v]) => v);
  stepWith(opt, m, 1);
  const s = opt.stateDict();
  expect([...s.keys()]).toEqual(['momentum_buffer.0', 'momentum_buffer.1']);
  expect(s.get('momentum_buffer.0')!.shape).toEqual([2, 2]);
  expect(s.get('momentum_buffer.1')!.shape).toEqual([3]);
  gradsAt(1).forEach((g, i) => {
    const data = s.get(`momentum_buffer.${i}`)!.data;
    g.forEach((gj, j) => expect(data[j]).toBeCloseTo(gj + 0.01 * p0[i][j], 6));
  });
});

test('without momentum there is nothing to save', () => {
  const m = toyModule(shapes);
  const opt = new SGD(m, { lr: 0.1 });
  stepWith(opt, m, 1);
  expect(opt.stateDict().size).toBe(0);
});

test('a resumed run (through a safetensors file) takes the same steps, bit for bit', () => {
  const straight = toyModule(shapes);
  const a = new SGD(straight, options);
  for (let t = 1; t <= 5; t++) stepWith(a, straight, t);

  const first = toyModule(shapes);
  const b = new SGD(first, options);
  for (let t = 1; t <= 3; t++) stepWith(b, first, t);
  const saved = loadSafetensors(saveSafetensors(b.stateDict()));

  const resumed = toyModule(first.params.map((p) => [[...p.shape], [...p.data]]));
  const c = new SGD(resumed, options);
  c.loadStateDict(saved);
  for (let t = 4; t <= 5; t++) stepWith(c, resumed, t);
  expect(bits(resumed.params)).toEqual(bits(straight.params));

  // Without the buffers the resumed run would restart momentum and land elsewhere.
  const forgetful = toyModule(first.params.map((p) => [[...p.shape], [...p.data]]));
  const d = new SGD(forgetful, options);
  for (let t = 4; t <= 5; t++) stepWith(d, forgetful, t);
  expect(bits(forgetful.params)).not.toEqual(bits(straight.params));
});

test('stateDict holds copies; an object of Tensors loads too; an empty dict is the state before the first step', () => {
  const m = toyModule(shapes);
  const opt = new SGD(m, options);
  stepWith(opt, m, 1);
  const s = opt.stateDict();
  s.get('momentum_buffer.0')!.data.fill(7);
  expect(opt.stateDict().get('momentum_buffer.0')!.data[0]).not.toBe(7);

  opt.loadStateDict(Object.fromEntries(s));
  expect([...opt.stateDict().get('momentum_buffer.0')!.data]).toEqual([7, 7, 7, 7]);

  opt.loadStateDict(new Map());
  expect(opt.stateDict().size).toBe(0);
  // The next step starts the buffers afresh: v = g + weightDecay · p.
  const p = [...m.params[1].data];
  stepWith(opt, m, 2);
  expect(opt.stateDict().get('momentum_buffer.1')!.data[0]).toBeCloseTo(gradsAt(2)[1][0] + 0.01 * p[0], 6);
});

describe('a bad dict is refused, naming the entry, and nothing changes', () => {
  const good = () => {
    const m = toyModule(shapes);
    const opt = new SGD(m, options);
    stepWith(opt, m, 1);
    return opt;
  };
  const buffer0 = () => new Tensor(new Float32Array(4), [2, 2]);
  const buffer1 = () => new Tensor(new Float32Array(3), [3]);
  const cases: [string, unknown, ErrorConstructor, RegExp][] = [
    ['a number', 3, TypeError, /^SGD\.loadStateDict: d must be a Map or object of Tensors, got 3$/],
    ['null', null, TypeError, /^SGD\.loadStateDict: d must be a Map or object of Tensors, got null$/],
    ['a Tensor', buffer1(), TypeError, /^SGD\.loadStateDict: d must be a Map or object of Tensors, got a float32 Tensor of shape \[3\]$/],
    ['an unexpected key', new Map<string, Tensor>([['momentum_buffer.0', buffer0()], ['momentum_buffer.1', buffer1()], ['momentum_buffer.2', buffer1()]]), RangeError,
      /^SGD\.loadStateDict: d must hold only momentum_buffer\.0 … momentum_buffer\.1, got unexpected "momentum_buffer\.2"$/],
    ['a misspelt key', { momentum_bufer0: buffer0() }, RangeError, /d must hold only .*got unexpected "momentum_bufer0"$/],
    ['a number key', new Map<unknown, Tensor>([[0, buffer0()]]), RangeError, /d must hold only .*got unexpected "0"$/],
    ['Adam\'s state', { step: new Tensor(Float32Array.of(1), [1]) }, RangeError, /got unexpected "step"$/],
    ['a missing buffer', { 'momentum_buffer.0': buffer0() }, RangeError,
      /^SGD\.loadStateDict: d must hold every momentum buffer or none, missing "momentum_buffer\.1"$/],
    ['a misshaped buffer', { 'momentum_buffer.0': buffer0(), 'momentum_buffer.1': new Tensor(new Float32Array(4), [4]) }, RangeError,
      /^SGD\.loadStateDict: d\["momentum_buffer\.1"\] must be a float32 Tensor of shape \[3\], got shape \[4\]$/],
    ['a flattened buffer', { 'momentum_buffer.0': new Tensor(new Float32Array(4), [4]), 'momentum_buffer.1': buffer1() }, RangeError,
      /^SGD\.loadStateDict: d\["momentum_buffer\.0"\] must be a float32 Tensor of shape \[2, 2\], got shape \[4\]$/],
    ['an int32 buffer', { 'momentum_buffer.0': buffer0(), 'momentum_buffer.1': new Tensor(new Int32Array(3), [3]) }, TypeError,
      /^SGD\.loadStateDict: d\["momentum_buffer\.1"\] must be a float32 Tensor of shape \[3\], got an int32 Tensor of shape \[3\]$/],
    ['no Tensor', { 'momentum_buffer.0': buffer0(), 'momentum_buffer.1': [0, 0, 0] }, TypeError,
      /^SGD\.loadStateDict: d\["momentum_buffer\.1"\] must be a float32 Tensor of shape \[3\], got \[0, 0, 0\]$/],
  ];
  test.each(cases)('%s', (_name, d, type, message) => {
    const opt = good();
    const before = bits([...opt.stateDict().values()]);
    const load = () => opt.loadStateDict(d as never);
    expect(load).toThrow(type);
    expect(load).toThrow(message);
    expect(bits([...opt.stateDict().values()])).toEqual(before);
  });
});
