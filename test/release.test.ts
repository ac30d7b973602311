// Prepared weights are released when they go stale, not at garbage collection: finalizers wait for
// the event loop, so a synchronous training loop, whose optimizer changes the weights every step,
// used to hold every step's layers until it returned (about 14 MB a step for a 2-layer LSTM 256).
// A released backend layer takes no new forward, while the workspaces of its earlier forwards still
// run their backward on the weights they were made with.
import { LSTM, Tensor, useBackend } from '../src';
import { loadWasmKernels, wasmBackend } from '../src/backend/wasm';
import type { Backend, BackendLayer, ForwardArgs } from '../src/backend/types';
import { activeBackend } from '../src/backend/select';
import { Rng } from '../src/random';
import { backendRows } from './helpers/backends';
import { type RecurrentTapeRecord, tapeRecord } from '../src/layers/tape';

const I = 5;
const H = 6;
const T = 4;
const B = 3;

function random(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  rng.fillUniform(a, -1, 1);
  return a;
}

function makeLayer(backend: Backend): BackendLayer {
  const rng = new Rng(5);
  const spec = { cell: 'lstm' as const, inputSize: I, hiddenSize: H, projSize: 0, bias: true, peepholes: false, linearBeforeReset: true, reverse: false };
  return backend.createLayer(spec, {
    wIh: random(rng, 4 * H * I),
    wHh: random(rng, 4 * H * H),
    bIh: random(rng, 4 * H),
    bHh: random(rng, 4 * H),
  });
}

function forwardArgs(training: boolean): ForwardArgs {
  const rng = new Rng(9);
  return {
    T, B, x: random(rng, T * B * I), y: new Float32Array(T * B * H), yStride: H, hN: new Float32Array(B * H),
    cN: new Float32Array(B * H), training,
  };
}

/** One backward of `layer` from `workspace`: dX and the weight_hh gradient. */
function backward(layer: BackendLayer, workspace: NonNullable<ReturnType<BackendLayer['forward']>>) {
  const grads = { wIh: new Float32Array(4 * H * I), wHh: new Float32Array(4 * H * H), bIh: new Float32Array(4 * H), bHh: new Float32Array(4 * H) };
  const dX = new Float32Array(T * B * I);
  layer.backward({
    workspace, dY: new Float32Array(T * B * H).fill(0.5), dYStride: H, dX, dh0: new Float32Array(B * H), dc0: new Float32Array(B * H), grads,
  });
  return { dX, wHh: grads.wHh };
}

describe.each(backendRows())('released backend layers on %s', (name) => {
  beforeAll(() => useBackend(name));
  afterAll(() => useBackend('auto'));

  test('a released layer refuses a new forward, and the message says so', () => {
    const layer = makeLayer(activeBackend());
    layer.release();
    expect(() => layer.forward(forwardArgs(false))).toThrow(/the layer was released; create a new one for new calls$/);
  });

  test("a workspace from before the release still runs backward, on the weights it was made with", () => {
    const backend = activeBackend();
    const twin = makeLayer(backend);
    const expected = backward(twin, twin.forward(forwardArgs(true))!);
    const layer = makeLayer(backend);
    const workspace = layer.forward(forwardArgs(true))!;
    layer.release();
    const got = backward(layer, workspace);
    expect(got.dX).toEqual(expected.dX);
    expect(got.wHh).toEqual(expected.wHh);
    expect(expected.wHh.some((v) => v !== 0)).toBe(true);
  });

  test('a synchronous training loop keeps its memory: the stale layers of every step are released', () => {
    // 2 layers of LSTM 512 on 256 inputs: ~6 MB of weights a layer, packed forward and backward
    // besides; held until the loop returned, 60 steps took over 2 GB.
    const lstm = new LSTM({ inputSize: 256, hiddenSize: 512, numLayers: 2, seed: 3 });
    const x = new Tensor(new Float32Array(4 * 2 * 256).fill(0.1), [4, 2, 256]);
    const dOutput = new Tensor(new Float32Array(4 * 2 * 512).fill(1e-3), [4, 2, 512]);
    // What an optimizer's step does to the layer (its arithmetic left out: it is slow under jest).
    const step = () => {
      const { tape } = lstm.forward(x, { training: true });
      lstm.backward(tape!, { dOutput });
      lstm.parametersChanged();
    };
    for (let i = 0; i < 10; i++) step();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 60; i++) step();
    const grown = (process.memoryUsage().rss - before) / 2 ** 20;
    expect(grown).toBeLessThan(400);
  });

  test("weight dropout's layers of one call are released once the call is done (and backward still runs)", () => {
    const lstm = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, weightDropout: 0.3, seed: 4 });
    const x = new Tensor(random(new Rng(2), T * B * I), [T, B, I]);
    const { tape } = lstm.forward(x, { training: true });
    const dOutput = new Tensor(new Float32Array(T * B * H).fill(1), [T, B, H]);
    expect(lstm.backward(tape!, { dOutput }).dInput.data.some((v) => v !== 0)).toBe(true);
    for (const layer of tapeRecord<RecurrentTapeRecord>(tape!).layers) {
      expect(() => layer.forward(forwardArgs(false))).toThrow(/the layer was released/);
    }
    // Without a tape nothing needs them even for a moment.
    const { tape: none } = lstm.forward(x, { training: true, tape: false });
    expect(none).toBeUndefined();
  });

  test('weights changed during an async forward: the call finishes on the weights it started with', async () => {
    const lstm = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, seed: 4 });
    const x = new Tensor(random(new Rng(2), T * B * I), [T, B, I]);
    const expected = lstm.forward(x).output.data.slice();
    const pending = lstm.forwardAsync(x);
    for (const p of lstm.parameters().values()) p.data.fill(0);
    lstm.parametersChanged();
    expect((await pending).output.data).toEqual(expected);
    expect(lstm.forward(x).output.data).not.toEqual(expected);
  });
});

test('wasm: the linear memory of a released layer returns to the heap once its last workspace is released', () => {
  const kernels = loadWasmKernels();
  const backend = wasmBackend(kernels);
  const baseline = kernels.heap.bytesInUse;
  const layer = makeLayer(backend);
  const workspace = layer.forward(forwardArgs(true))!;
  layer.release();
  expect(kernels.heap.bytesInUse).toBeGreaterThan(baseline); // the workspace's backward still needs it
  backward(layer, workspace);
  workspace.release!();
  expect(kernels.heap.bytesInUse).toBe(baseline);
  const unused = makeLayer(backend);
  unused.release();
  expect(kernels.heap.bytesInUse).toBe(baseline);
});
