// An independent cross-check of cellscan's forward against ONNX Runtime and TensorFlow.js, through
// the same conversions the benchmark uses (bench/onnx-model.ts, bench/peers/*): tiny LSTM, GRU and
// RNN layers, one-directional and bidirectional, built from cellscan's weights. It also proves the
// benchmark's check bites: a model with the gates in the wrong order must be caught.
import * as vm from 'vm';
import { onnx } from 'onnx-proto';
import { GRU, LSTM, RNN, Tensor } from '../src';
import { Rng } from '../src/random';
import { onnxOutputToOurs, onnxRecurrentModel } from '../bench/onnx-model';
import type * as OnnxPeer from '../bench/peers/onnxruntime';
import { PeerMismatch, type PeerCase } from '../bench/peers/peer';
import { type LoadedTfjs, loadTfjsWasm, tfjsForward, tfjsRecurrentModel } from '../bench/peers/tfjs';
import type { Mode, Shape } from '../bench/shapes';
import { type RecurrentWeights, compareClose, describeMismatch, weightsOf } from '../bench/weights';
import { backendRows, selectBackend } from './helpers/backends';

// Jest runs this file in its own realm, whose Float32Array is not the one native addons create
// arrays with; onnxruntime-node wraps its outputs in a Tensor that checks them against the
// Float32Array it saw when it loaded, and throws ("A float32 tensor's data must be type of function
// Float32Array()"). So this realm uses the process's own Float32Array, and onnxruntime-node is
// loaded only after that (in beforeAll below): both sides then agree, as they do outside jest.
globalThis.Float32Array = vm.runInThisContext('Float32Array') as Float32ArrayConstructor;

interface Case {
  name: string;
  mode: Mode;
  bidirectional: boolean;
  linearBeforeReset?: boolean;
  nonlinearity?: 'tanh' | 'relu';
}

const T = 7;
const B = 3;
const I = 5;
const H = 6;

const cases: Case[] = [
  { name: 'LSTM', mode: 'LSTM', bidirectional: false },
  { name: 'LSTM bidirectional', mode: 'LSTM', bidirectional: true },
  { name: 'GRU (linear before reset, PyTorch)', mode: 'GRU', bidirectional: false, linearBeforeReset: true },
  { name: 'GRU bidirectional (linear before reset)', mode: 'GRU', bidirectional: true, linearBeforeReset: true },
  { name: 'GRU (reset before linear, Cho et al.)', mode: 'GRU', bidirectional: false, linearBeforeReset: false },
  { name: 'GRU bidirectional (reset before linear)', mode: 'GRU', bidirectional: true, linearBeforeReset: false },
  { name: 'RNN tanh', mode: 'RNN', bidirectional: false, nonlinearity: 'tanh' },
  { name: 'RNN tanh bidirectional', mode: 'RNN', bidirectional: true, nonlinearity: 'tanh' },
  { name: 'RNN relu', mode: 'RNN', bidirectional: false, nonlinearity: 'relu' },
];

function layerFor(c: Case) {
  const o = { inputSize: I, hiddenSize: H, bidirectional: c.bidirectional, seed: 11 };
  if (c.mode === 'LSTM') return new LSTM(o);
  if (c.mode === 'GRU') return new GRU({ ...o, linearBeforeReset: c.linearBeforeReset ?? true });
  return new RNN({ ...o, nonlinearity: c.nonlinearity ?? 'tanh' });
}

function input(): Tensor {
  const data = new Float32Array(T * B * I);
  new Rng(5).fillUniform(data, -1, 1);
  return new Tensor(data, [T, B, I]);
}

/** cellscan's forward and the weights it ran with, in the converters' plain form. */
function cellscan(c: Case) {
  const layer = layerFor(c);
  const x = input();
  const f = layer.forward(x);
  const weights = weightsOf(layer.parameters(), {
    mode: c.mode,
    inputSize: I,
    hiddenSize: H,
    bidirectional: c.bidirectional,
    linearBeforeReset: c.linearBeforeReset,
    nonlinearity: c.nonlinearity,
  });
  return {
    x: x.data as Float32Array,
    weights,
    output: f.output.data as Float32Array,
    hN: f.hN.data as Float32Array,
    cN: f.cN?.data as Float32Array | undefined,
  };
}

/** A failure message naming the worst element, or undefined when all are within tolerance. */
function mismatch(what: string, theirs: Float32Array, ours: Float32Array): string | undefined {
  const m = compareClose(theirs, ours);
  return m && describeMismatch(what, m, ours.length);
}

const shapeOf = (c: Case): Shape => ({ id: 'tiny', mode: c.mode, T, B, I, H, bidirectional: c.bidirectional, why: 'test' });

describe.each(backendRows())('cellscan %s against peers', (backend) => {
  beforeAll(() => selectBackend(backend));

  describe('onnxruntime-node', () => {
    let createOnnxSession: typeof OnnxPeer.createOnnxSession;
    let onnxRuntimeForward: typeof OnnxPeer.onnxRuntimeForward;
    let onnxRuntimePeer: typeof OnnxPeer.onnxRuntimePeer;
    beforeAll(async () => {
      ({ createOnnxSession, onnxRuntimeForward, onnxRuntimePeer } = await import('../bench/peers/onnxruntime'));
    });

    test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const ours = cellscan(c);
      const session = await createOnnxSession(ours.weights, { threads: 1 });
      try {
        const theirs = await onnxRuntimeForward(session, ours.x, T, B, ours.weights);
        expect(mismatch('output', theirs.output, ours.output)).toBeUndefined();
        expect(mismatch('hN', theirs.hN, ours.hN)).toBeUndefined();
        if (c.mode === 'LSTM') expect(mismatch('cN', theirs.cN!, ours.cN!)).toBeUndefined();
      } finally {
        await session.release();
      }
    });

    test('the check catches a model whose LSTM gates are in the wrong order', async () => {
      const ours = cellscan(cases[0]);
      // PyTorch's forget and output gates swapped: a plausible conversion bug.
      const swap = (m: Float32Array, cols: number) => {
        const out = m.slice();
        out.set(m.subarray(1 * H * cols, 2 * H * cols), 3 * H * cols);
        out.set(m.subarray(3 * H * cols, 4 * H * cols), 1 * H * cols);
        return out;
      };
      const d = ours.weights.directions[0];
      const wrong: RecurrentWeights = {
        ...ours.weights,
        directions: [{ wIh: swap(d.wIh, I), wHh: swap(d.wHh, H), bIh: swap(d.bIh, 1), bHh: swap(d.bHh, 1) }],
      };
      const session = await createOnnxSession(wrong, { threads: 1 });
      try {
        const theirs = await onnxRuntimeForward(session, ours.x, T, B, wrong);
        expect(mismatch('output', theirs.output, ours.output)).toMatch(/^output: \d+ of 126 values outside/);
      } finally {
        await session.release();
      }
    });

    test("the benchmark peer refuses to time a model that disagrees with cellscan's output", async () => {
      const c = cases[1];
      const ours = cellscan(c);
      const peer = onnxRuntimePeer(1);
      const base: PeerCase = { shape: shapeOf(c), weights: ours.weights, x: ours.x, output: ours.output, hN: ours.hN, threads: 1 };
      const good = await peer.prepare(base, { trainBudgetMs: 0 });
      await good.release();
      const off = ours.output.slice();
      off[17] += 0.01;
      await expect(peer.prepare({ ...base, output: off }, { trainBudgetMs: 0 })).rejects.toThrow(PeerMismatch);
      await expect(peer.prepare({ ...base, output: off }, { trainBudgetMs: 0 })).rejects.toThrow(
        /onnxruntime disagrees with cellscan on tiny output: 1 of 252 values outside .*worst at index 17/,
      );
    });
  });

  describe('TensorFlow.js (wasm backend, layers API)', () => {
    let tfjs: LoadedTfjs;
    beforeAll(async () => {
      tfjs = await loadTfjsWasm();
    });

    // TF.js's GRU has no reset_after, so PyTorch's GRU (linear before reset) has no exact TF.js
    // counterpart; every other case does.
    const matched = cases.filter((c) => !(c.mode === 'GRU' && c.linearBeforeReset !== false));
    test.each(matched.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      expect(tfjs.tf.getBackend()).toBe('wasm');
      const ours = cellscan(c);
      const model = tfjsRecurrentModel(tfjs.tf, ours.weights, T);
      try {
        const theirs = tfjsForward(tfjs.tf, model, ours.x, T, B, I);
        expect(mismatch('output', theirs, ours.output)).toBeUndefined();
      } finally {
        model.dispose();
      }
    });

    test('PyTorch\'s GRU is refused rather than computed with other math', () => {
      const ours = cellscan(cases[2]);
      expect(() => tfjsRecurrentModel(tfjs.tf, ours.weights, T)).toThrow(/TF.js has no GRU with reset_after/);
    });
  });
});

test('ONNX output layout [T, D, B, H] becomes ours [T, B, D*H]', () => {
  // Y[t][d][b][h] = 1000t + 100d + 10b + h.
  const [t_, d_, b_, h_] = [2, 2, 3, 4];
  const y = new Float32Array(t_ * d_ * b_ * h_);
  for (let t = 0; t < t_; t++)
    for (let d = 0; d < d_; d++)
      for (let b = 0; b < b_; b++) for (let h = 0; h < h_; h++) y[((t * d_ + d) * b_ + b) * h_ + h] = 1000 * t + 100 * d + 10 * b + h;
  const ours = onnxOutputToOurs(y, t_, d_, b_, h_);
  expect(Array.from(ours.subarray((1 * b_ + 2) * d_ * h_, (1 * b_ + 3) * d_ * h_))).toEqual([
    1020, 1021, 1022, 1023, 1120, 1121, 1122, 1123,
  ]);
});

test('the ONNX model is a valid protobuf with one node and three initializers', () => {
  const layer = new LSTM({ inputSize: I, hiddenSize: H, seed: 1 });
  const w = weightsOf(layer.parameters(), { mode: 'LSTM', inputSize: I, hiddenSize: H, bidirectional: false });
  const m = onnx.ModelProto.decode(onnxRecurrentModel(w));
  expect(m.graph?.node?.map((n) => n.opType)).toEqual(['LSTM']);
  expect(m.graph?.initializer?.map((t) => [t.name, t.dims?.map(Number)])).toEqual([
    ['W', [1, 4 * H, I]],
    ['R', [1, 4 * H, H]],
    ['B', [1, 8 * H]],
  ]);
});
