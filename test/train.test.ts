// Training building blocks: loss gradients against finite differences, optimizer steps against
// their formulas written out here, clipping, and Embedding's gradient.
import { Adam, Embedding, SGD, Tensor, clipGradNorm, crossEntropy, mseLoss } from '../src';
import { Rng } from '../src/random';
import { GRAD_TOL, mismatch } from './helpers/fixtures';
import { centralDifference } from './reference/finiteDifference';

function random(rng: Rng, shape: number[], lo = -1, hi = 1): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  rng.fillUniform(data, lo, hi);
  return new Tensor(data, shape);
}

// The losses recomputed in float64 for finite differences.
function crossEntropy64(x: Float64Array, ids: Int32Array, C: number, ignore: number): number {
  let total = 0;
  let n = 0;
  for (let r = 0; r < ids.length; r++) {
    if (ids[r] === ignore) continue;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(x[r * C + c]);
    total += Math.log(sum) - x[r * C + ids[r]];
    n++;
  }
  return total / n;
}

describe('crossEntropy', () => {
  test('loss and dLogits match float64 finite differences, ignoring ignoreIndex rows', () => {
    const rng = new Rng(1);
    const logits = random(rng, [2, 3, 5], -3, 3);
    const targets = new Tensor(Int32Array.from([4, 0, -100, 2, 2, 1]), [2, 3]);
    const { loss, dLogits } = crossEntropy(logits, targets);
    const x = Float64Array.from(logits.data);
    const f = () => crossEntropy64(x, targets.data as Int32Array, 5, -100);
    expect(Math.abs(loss - f())).toBeLessThan(1e-6);
    expect(mismatch('dLogits', dLogits.data, centralDifference(f, x), GRAD_TOL)).toBe('');
    expect([...dLogits.data.subarray(10, 15)]).toEqual([0, 0, 0, 0, 0]);
  });

  test('is stable for huge logits and follows PyTorch when every target is ignored', () => {
    const logits = new Tensor(Float32Array.from([1000, -1000, 0, 2000]), [2, 2]);
    const { loss, dLogits } = crossEntropy(logits, new Tensor(Int32Array.from([0, 1]), [2]));
    expect(loss).toBeCloseTo(0, 6);
    expect([...dLogits.data].every(Number.isFinite)).toBe(true);
    const none = crossEntropy(logits, new Tensor(Int32Array.from([7, 7]), [2]), { ignoreIndex: 7 });
    expect(none.loss).toBeNaN();
    expect([...none.dLogits.data]).toEqual([0, 0, 0, 0]);
  });

  test('rejects bad targets', () => {
    const logits = Tensor.zeros([2, 3]);
    expect(() => crossEntropy(logits, new Tensor(Int32Array.from([0, 3]), [2]))).toThrow(
      /^crossEntropy: targets\[1\] must be a class id in 0..2 or ignoreIndex \(-100\), got 3$/,
    );
    expect(() => crossEntropy(logits, new Tensor(Int32Array.from([0, 1, 2]), [3]))).toThrow(
      /^crossEntropy: targets must be of shape \[2\] \(logits without the class axis\), got shape \[3\]$/,
    );
    expect(() => crossEntropy(logits, Tensor.zeros([2]))).toThrow(TypeError);
  });
});

test('mseLoss value and gradient', () => {
  const rng = new Rng(2);
  const pred = random(rng, [3, 4]);
  const target = random(rng, [3, 4]);
  const { loss, dPred } = mseLoss(pred, target);
  const p = Float64Array.from(pred.data);
  const f = () => p.reduce((s, v, i) => s + (v - target.data[i]) ** 2, 0) / p.length;
  expect(Math.abs(loss - f())).toBeLessThan(1e-6);
  expect(mismatch('dPred', dPred.data, centralDifference(f, p), GRAD_TOL)).toBe('');
  expect(() => mseLoss(pred, Tensor.zeros([4, 3]))).toThrow(/^mseLoss: target must be of shape \[3, 4\] \(as pred\), got shape \[4, 3\]$/);
});

// A stand-in module with one parameter and a settable gradient.
function toy(values: number[], grads: number[]) {
  const p = new Tensor(Float32Array.from(values), [values.length]);
  const g = new Tensor(Float32Array.from(grads), [grads.length]);
  let changed = 0;
  return {
    p,
    g,
    changed: () => changed,
    parameters: () => new Map([['w', p]]),
    gradients: () => new Map([['w', g]]),
    zeroGrad: () => g.data.fill(0),
    parametersChanged: () => void changed++,
  };
}

test('SGD with momentum and weight decay follows PyTorch', () => {
  const m = toy([1, -2], [0.5, 0.25]);
  const opt = new SGD([m], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
  // by hand: v1 = g + wd p; p1 = p - lr v1; v2 = 0.9 v1 + (g + wd p1); p2 = p1 - lr v2
  const p0 = [1, -2];
  const g = [0.5, 0.25];
  const v1 = p0.map((p, i) => g[i] + 0.01 * p);
  const p1 = p0.map((p, i) => p - 0.1 * v1[i]);
  const v2 = p1.map((p, i) => 0.9 * v1[i] + g[i] + 0.01 * p);
  const p2 = p1.map((p, i) => p - 0.1 * v2[i]);
  opt.step();
  opt.step();
  expect(m.p.data[0]).toBeCloseTo(p2[0], 6);
  expect(m.p.data[1]).toBeCloseTo(p2[1], 6);
  expect(m.changed()).toBe(2);
  opt.zeroGrad();
  expect([...m.g.data]).toEqual([0, 0]);
});

test('Adam follows PyTorch over three steps', () => {
  const m = toy([0.3, -0.7, 1.5], [0.1, -0.2, 0.05]);
  const opt = new Adam([m], { lr: 0.01, betas: [0.8, 0.9], eps: 1e-6, weightDecay: 0.1 });
  const p = [0.3, -0.7, 1.5];
  const mom = [0, 0, 0];
  const vel = [0, 0, 0];
  const grads = [
    [0.1, -0.2, 0.05],
    [-0.3, 0.1, 0.2],
    [0.05, 0.05, -0.4],
  ];
  for (let t = 1; t <= 3; t++) {
    m.g.data.set(grads[t - 1]);
    opt.step();
    for (let i = 0; i < 3; i++) {
      const g = grads[t - 1][i] + 0.1 * p[i];
      mom[i] = 0.8 * mom[i] + 0.2 * g;
      vel[i] = 0.9 * vel[i] + 0.1 * g * g;
      const mHat = mom[i] / (1 - 0.8 ** t);
      const vHat = vel[i] / (1 - 0.9 ** t);
      p[i] -= (0.01 * mHat) / (Math.sqrt(vHat) + 1e-6);
    }
  }
  for (let i = 0; i < 3; i++) expect(m.p.data[i]).toBeCloseTo(p[i], 5);
});

test('clipGradNorm scales all gradients together and returns the norm before clipping', () => {
  const a = toy([0, 0], [3, 0]);
  const b = toy([0], [4]);
  expect(clipGradNorm([a, b], 1)).toBeCloseTo(5, 6);
  expect(a.g.data[0]).toBeCloseTo(0.6, 5);
  expect(b.g.data[0]).toBeCloseTo(0.8, 5);
  expect(clipGradNorm([a, b], 10)).toBeCloseTo(1, 5);
  expect(b.g.data[0]).toBeCloseTo(0.8, 5);
  expect(() => clipGradNorm([a], 0)).toThrow(/^clipGradNorm: maxNorm must be a positive number, got 0$/);
});

describe('Embedding', () => {
  test('looks up rows and adds gradients into the rows it used', () => {
    const e = new Embedding({ numEmbeddings: 5, embeddingDim: 3, seed: 4 });
    const w = e.parameters().get('weight')!.data;
    const ids = new Tensor(Int32Array.from([2, 0, 2, 4]), [2, 2]);
    const { output, tape } = e.forward(ids, { training: true });
    expect(output.shape).toEqual([2, 2, 3]);
    expect([...output.data.subarray(0, 3)]).toEqual([...w.subarray(6, 9)]);
    const dOutput = new Tensor(Float32Array.from({ length: 12 }, (_, i) => i), [2, 2, 3]);
    expect(e.backward(tape!, { dOutput })).toEqual({});
    const g = e.gradients().get('weight')!.data;
    expect([...g.subarray(6, 9)]).toEqual([0 + 6, 1 + 7, 2 + 8]);
    expect([...g.subarray(3, 6)]).toEqual([0, 0, 0]);
    expect([...g.subarray(12, 15)]).toEqual([9, 10, 11]);
  });

  test('init is N(0, 1) and ids out of range are RangeErrors', () => {
    const e = new Embedding({ numEmbeddings: 200, embeddingDim: 50 });
    const w = e.parameters().get('weight')!.data as Float32Array;
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const variance = w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    expect(() => e.forward(new Tensor(Int32Array.from([1, 200]), [2]))).toThrow(RangeError);
    expect(() => e.forward(new Tensor(Int32Array.from([1, 200]), [2]))).toThrow(/^Embedding.forward: ids\[1\] must be an integer in 0..199, got 200$/);
    expect(() => e.forward(Tensor.zeros([2]))).toThrow(/^Embedding.forward: ids must be an int32 Tensor, got a float32 Tensor of shape \[2\]$/);
  });
});
