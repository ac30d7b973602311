// Linear and the backends' gemm: products against a plain float64 product, gradients against
// finite differences, on every backend that loads.
import { Linear, Tensor } from '../src';
import { activeBackend } from '../src/backend/select';
import { Rng } from '../src/random';
import { backendRows, selectBackend } from './helpers/backends';
import { GRAD_TOL, OUTPUT_TOL, mismatch } from './helpers/fixtures';
import { centralDifference } from './reference/finiteDifference';

function random(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  rng.fillUniform(a, -1, 1);
  return a;
}

// op(a)[m, k] · op(b)[k, n] in float64, the obvious way.
function product(m: number, n: number, k: number, a: ArrayLike<number>, transA: boolean, b: ArrayLike<number>, transB: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  }
  return c;
}

describe.each(backendRows())('gemm and Linear on %s', (backend) => {
  beforeAll(() => selectBackend(backend));

  test.each([
    [1, 1, 1],
    [7, 13, 5],
    [33, 17, 300],
    [130, 9, 37],
  ])('gemm m=%d n=%d k=%d, every transpose, with and without accumulate', (m, n, k) => {
    const rng = new Rng(m * 1000 + n);
    const a = random(rng, m * k);
    const b = random(rng, k * n);
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const c0 = random(rng, m * n);
        const c = c0.slice();
        activeBackend().gemm({ m, n, k, a, transA, b, transB, c, accumulate: true });
        const want = product(m, n, k, a, transA, b, transB).map((v, i) => v + c0[i]);
        expect(mismatch(`c (transA ${transA}, transB ${transB})`, c, want, OUTPUT_TOL)).toBe('');
        activeBackend().gemm({ m, n, k, a, transA, b, transB, c });
        expect(mismatch('c overwritten', c, product(m, n, k, a, transA, b, transB), OUTPUT_TOL)).toBe('');
      }
    }
  });

  test('gemm checks its operands', () => {
    const g = (o: object) => () => activeBackend().gemm(o as never);
    expect(g({ m: 2, n: 2, k: 2, a: new Float32Array(3), b: new Float32Array(4), c: new Float32Array(4) })).toThrow(
      /gemm: a must be a Float32Array of 4 elements, got Float32Array\(3\)$/,
    );
    expect(g({ m: -1, n: 2, k: 2, a: new Float32Array(0), b: new Float32Array(4), c: new Float32Array(0) })).toThrow(/gemm: m must be an integer in 0..2147483647, got -1$/);
  });

  test('Linear forward matches x·Wᵀ + b over leading dimensions; gradients match finite differences', () => {
    const layer = new Linear({ inFeatures: 5, outFeatures: 3, seed: 2 });
    const rng = new Rng(9);
    const x = new Tensor(random(rng, 2 * 4 * 5), [2, 4, 5]);
    const dOutput = new Tensor(random(rng, 2 * 4 * 3), [2, 4, 3]);
    const { output, tape } = layer.forward(x, { training: true });
    expect(output.shape).toEqual([2, 4, 3]);
    const w = Float64Array.from(layer.parameters().get('weight')!.data);
    const b = Float64Array.from(layer.parameters().get('bias')!.data);
    const xs = Float64Array.from(x.data);
    const forward64 = () => product(8, 3, 5, xs, false, w, true).map((v, i) => v + b[i % 3]);
    expect(mismatch('output', output.data, forward64(), OUTPUT_TOL)).toBe('');
    const { dInput } = layer.backward(tape!, { dOutput });
    const loss = () => forward64().reduce((s, v, i) => s + v * dOutput.data[i], 0);
    expect(mismatch('dInput', dInput.data, centralDifference(loss, xs), GRAD_TOL)).toBe('');
    expect(mismatch('dWeight', layer.gradients().get('weight')!.data, centralDifference(loss, w), GRAD_TOL)).toBe('');
    expect(mismatch('dBias', layer.gradients().get('bias')!.data, centralDifference(loss, b), GRAD_TOL)).toBe('');
  });

  test('Linear without bias, and its errors', () => {
    const layer = new Linear({ inFeatures: 2, outFeatures: 2, bias: false });
    expect([...layer.parameters().keys()]).toEqual(['weight']);
    expect(() => layer.forward(Tensor.zeros([3, 4]))).toThrow(/^Linear.forward: input must be a Tensor \[..., 2\], got shape \[3, 4\]$/);
    const { tape } = layer.forward(Tensor.zeros([3, 2]), { training: true });
    expect(() => layer.backward(tape!, { dOutput: Tensor.zeros([2, 2]) })).toThrow(
      /^Linear.backward: dOutput must be of shape \[3, 2\], got shape \[2, 2\]$/,
    );
    layer.backward(tape!, { dOutput: Tensor.zeros([3, 2]) });
    expect(() => layer.backward(tape!, { dOutput: Tensor.zeros([3, 2]) })).toThrow(/tape must be a Tape not yet used/);
    expect(() => new Linear({ inFeatures: 0, outFeatures: 2 })).toThrow(/^Linear: inFeatures must be a positive integer, got 0$/);
  });
});
