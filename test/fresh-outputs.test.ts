// Results are allocated without zero fill (src/uninitialized.ts), so every backend must write each
// of their elements. Here that memory starts as NaN (all bits set): every result of a training step
// and of an inference forward must come out bit for bit as it does from zeroed memory.
import { useBackend } from '../src';
import { backendRows } from './helpers/backends';
import { type Case, fixedCases, inputsFor, layerFor, randomCases, trainStep } from './helpers/training-cases';

function results(c: Case): Map<string, ArrayLike<number>> {
  const layer = layerFor(c);
  const x = inputsFor(c);
  const out = trainStep(layer, c, x);
  const inference = layer.forward(x.input, { h0: x.h0, c0: x.c0, lengths: c.lengths });
  out.set('inference output', inference.output.data);
  out.set('inference hN', inference.hN.data);
  if (inference.cN) out.set('inference cN', inference.cN.data);
  return out;
}

function bits(values: ArrayLike<number>): number[] {
  return Array.from(new Uint32Array(Float32Array.from(values).buffer));
}

describe.each(backendRows())('%s writes every element of its results', (backend) => {
  beforeAll(() => useBackend(backend));
  afterAll(() => useBackend('auto'));
  afterEach(() => jest.restoreAllMocks());

  test.each([...fixedCases, ...randomCases(12, 77)])('$name', (c) => {
    const zeroed = jest.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation((size) => Buffer.alloc(size));
    const expected = results(c);
    expect(zeroed).toHaveBeenCalled();
    zeroed.mockRestore();

    jest.spyOn(Buffer, 'allocUnsafeSlow').mockImplementation((size) => Buffer.alloc(size, 0xff));
    const poisoned = results(c);
    expect([...poisoned.keys()]).toEqual([...expected.keys()]);
    for (const [name, values] of expected) {
      expect({ name, bits: bits(poisoned.get(name)!) }).toEqual({ name, bits: bits(values) });
    }
  });
});
