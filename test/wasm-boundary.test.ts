// The WebAssembly backend at its boundary. Its layers are reachable on their own (backends() and
// createLayer are public), so they check every argument as the addon does (the seed's variant
// arguments included, with the addon's messages, and hostile masks never crash); its memory is managed on
// this side (allocation, growth, release); and its kernels are held to account where things go wrong:
// the edges of rows, the bytes just past each region, the activations' accuracy.
import { spawnSync } from 'child_process';
import * as path from 'path';
import type { BackendLayer } from '../src/backend/types';
import { loadWasmKernels, wasmBackend } from '../src/backend/wasm';
import { WASM_MAX_BYTES, WasmHeap } from '../src/backend/wasm-heap';
import { webAssembly } from '../src/backend/wasm-js-api';
import { loadedBackends } from './helpers/backends';
import { tinyLstmForwardArgs, tinyLstmSpec, tinyLstmWeights } from './helpers/tiny-lstm';
import {
  gruVariantArgumentCases, lstmVariantArgumentCases, numberSpellingCases, runHostileMasks, tinyGruWeights,
} from './helpers/variant-arguments';

const root = path.resolve(__dirname, '..');
const hasWasm = loadedBackends().includes('wasm');

if (hasWasm || (process.env.CELLSCAN_REQUIRE_BACKENDS ?? '').split(',').includes('wasm')) {
  test('the wasm backend is loaded', () => expect(hasWasm).toBe(true));
} else {
  test.skip('wasm boundary: the module did not load here (backends() says why)', () => {});
}

describe('WasmHeap', () => {
  const PAGE = 65536;
  const fresh = () => new WasmHeap(new webAssembly!.Memory({ initial: 1, maximum: 64 }), 1000);

  test('blocks start on 64-byte boundaries above the static data and never overlap', () => {
    const heap = fresh();
    const blocks = [1, 100, 64, 3000, 17].map((n) => [heap.allocate(n, 'test'), n] as const);
    for (const [ptr] of blocks) {
      expect(ptr % 64).toBe(0);
      expect(ptr).toBeGreaterThanOrEqual(1000);
    }
    const sorted = [...blocks].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i][0]).toBeGreaterThanOrEqual(sorted[i - 1][0] + sorted[i - 1][1]);
    expect(heap.bytesInUse).toBe(64 + 128 + 64 + 3008 + 64);
  });

  test('released neighbours merge, so their space serves a larger request', () => {
    const heap = fresh();
    const a = heap.allocate(1024, 'test');
    const b = heap.allocate(1024, 'test');
    const c = heap.allocate(1024, 'test');
    heap.release(a);
    heap.release(b);
    expect(heap.allocate(2048, 'test')).toBe(a);
    heap.release(a);
    heap.release(c);
    expect(heap.bytesInUse).toBe(0);
    // All of it is one block again: the largest request that fits without growing lands at the start.
    const whole = heap.byteLength - a;
    expect(heap.allocate(whole, 'test')).toBe(a);
    expect(heap.byteLength).toBe(PAGE);
  });

  test('grows only when nothing free fits, and by what the request lacks', () => {
    const heap = fresh();
    const small = heap.allocate(PAGE / 2, 'test');
    expect(heap.byteLength).toBe(PAGE);
    // The free tail counts toward the new block: 3 pages wanted, about half a page free at the end.
    const big = heap.allocate(3 * PAGE, 'test');
    expect(big).toBe(small + PAGE / 2);
    expect(heap.byteLength).toBe(4 * PAGE);
    heap.release(big);
    heap.allocate(3 * PAGE, 'test');
    expect(heap.byteLength).toBe(4 * PAGE);
  });

  test('asking for more than 4 GiB of memory is a RangeError naming the caller', () => {
    const heap = fresh();
    expect(() => heap.allocate(WASM_MAX_BYTES, 'WasmLayer.forward')).toThrow(RangeError);
    expect(() => heap.allocate(WASM_MAX_BYTES, 'WasmLayer.forward')).toThrow(
      /^WasmLayer.forward: cannot allocate 4.0 GiB: WebAssembly memory would outgrow the 4 GiB a 32-bit module can address \(0 bytes in use\)$/,
    );
  });

  test('a memory that refuses to grow is reported, not a crash', () => {
    const heap = fresh();
    expect(() => heap.allocate(100 * PAGE, 'new WasmLayer')).toThrow(RangeError);
    expect(() => heap.allocate(100 * PAGE, 'new WasmLayer')).toThrow(/^new WasmLayer: cannot allocate 6.3 MiB: WebAssembly memory could not grow: /);
  });

  test('releasing something not allocated is a bug, and says so', () => {
    expect(() => fresh().release(4096)).toThrow(/not an allocated block/);
  });
});

const describeWasm = hasWasm ? describe : describe.skip;

describeWasm('wasm layer arguments', () => {
  const kernels = hasWasm ? loadWasmKernels() : undefined!;
  const backend = hasWasm ? wasmBackend(kernels) : undefined!;
  const spec = tinyLstmSpec;
  const weights = tinyLstmWeights;
  const fwdArgs = tinyLstmForwardArgs;

  const create = (s: unknown, w: unknown) => backend.createLayer(s as never, w as never);
  const forward = (layer: BackendLayer, args: unknown) => layer.forward(args as never);

  test('forwardLayers checks its calls as the addon does: an array of 1..64 distinct WasmLayers, each with args', async () => {
    const a = create(spec, weights());
    const cases: [unknown, typeof TypeError | typeof RangeError, string][] = [
      [undefined, TypeError, 'calls must be an array of { layer, args }, got undefined'],
      [[], RangeError, 'calls.length must be an integer in 1..64, got 0'],
      [[null], TypeError, 'calls[0] must be an object { layer, args }, got null'],
      [[{ layer: {}, args: fwdArgs() }], TypeError, 'calls[0].layer must be a WasmLayer, got an object'],
      [[{ layer: a, args: fwdArgs() }, { layer: a, args: fwdArgs() }], RangeError, 'calls[1].layer must be a layer not already in the call, got one already in it'],
      [[{ layer: a }], TypeError, 'calls[0].args must be an object, got undefined'],
      [[{ layer: a, args: fwdArgs(), stage: 1 }], RangeError, 'calls[0].stage must be 0 (stages run in order, none skipped), got 1'],
      [[{ layer: a, args: fwdArgs() }, { layer: create(spec, weights()), args: fwdArgs(), stage: 2 }], RangeError,
        'calls[1].stage must be 0 or 1 (stages run in order, none skipped), got 2'],
    ];
    for (const [calls, ctor, message] of cases) {
      expect(() => backend.forwardLayers(calls as never)).toThrow(new ctor(`forwardLayers: ${message}`));
      await expect(backend.forwardLayersAsync(calls as never)).rejects.toThrow(new ctor(`forwardLayersAsync: ${message}`));
    }
    expect(backend.forwardLayers([{ layer: a, args: fwdArgs() }])).toEqual([undefined]);
  });

  test('forwardLayers runs its calls in stages, a stage reading the output of the one before', async () => {
    const vary = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 0.4);
    const weightsOf = (I: number, seed: number) => ({ wIh: vary(16 * I, seed), wHh: vary(16 * 4, seed + 1), bIh: vary(16, seed + 2), bHh: vary(16, seed + 3) });
    const bottom = create(spec, weightsOf(3, 0));
    const top = create({ ...spec, inputSize: 4 }, weightsOf(4, 20));
    const x = vary(30, 5);
    const outputs = () => ({ y0: new Float32Array(40), h0: new Float32Array(8), c0: new Float32Array(8), y1: new Float32Array(40), h1: new Float32Array(8), c1: new Float32Array(8) });
    const calls = (o: ReturnType<typeof outputs>) => [
      { layer: bottom, args: fwdArgs({ x, y: o.y0, hN: o.h0, cN: o.c0 }), stage: 0 },
      { layer: top, args: fwdArgs({ x: o.y0, y: o.y1, hN: o.h1, cN: o.c1 }), stage: 1 },
    ];
    const ref = outputs();
    for (const c of calls(ref)) forward(c.layer, c.args);
    expect(ref.y1.some((v) => v !== 0)).toBe(true);
    const sync = outputs();
    backend.forwardLayers(calls(sync));
    const async = outputs();
    await backend.forwardLayersAsync(calls(async));
    expect([sync, async]).toEqual([ref, ref]);
  });

  test('createLayer checks spec and weights', () => {
    const cases: [() => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      [() => create({ ...spec, cell: 'lsmt' }, weights()), RangeError, /^new WasmLayer: cell must be one of "lstm", "gru", "rnn_tanh", "rnn_relu", got "lsmt"$/],
      [() => create({ ...spec, cell: 4 }, weights()), TypeError, /^new WasmLayer: cell must be a string, got 4$/],
      [() => create({ ...spec, hiddenSize: 0 }, weights()), RangeError, /^new WasmLayer: hiddenSize must be an integer in 1..16777216, got 0$/],
      [() => create({ ...spec, inputSize: 2.5 }, weights()), RangeError, /^new WasmLayer: inputSize must be an integer in 1..16777216, got 2.5$/],
      [() => create({ ...spec, projSize: 4 }, weights()), RangeError, /^new WasmLayer: projSize must be an integer in 0..3, got 4$/],
      [() => create({ ...spec, cell: 'gru', peepholes: true }, weights()), RangeError, /^new WasmLayer: peepholes must be false \(only LSTM has peepholes\), got true$/],
      [() => create(spec, { ...weights(), wIh: new Float32Array(47) }), RangeError, /^new WasmLayer: wIh must be a Float32Array of 48 elements, got Float32Array\(47\)$/],
      [() => create(spec, { ...weights(), wHh: new Float64Array(64) }), TypeError, /^new WasmLayer: wHh must be a Float32Array of 64 elements, got Float64Array\(64\)$/],
      [() => create(spec, { ...weights(), bHh: undefined }), TypeError, /^new WasmLayer: bHh must be a Float32Array of 16 elements, got undefined$/],
      [() => create({ ...spec, bias: false }, weights()), TypeError, /^new WasmLayer: bIh must be undefined \(the layer has no bias\), got Float32Array\(16\)$/],
      [() => create({ ...spec, bias: 'yes' }, weights()), TypeError, /^new WasmLayer: bias must be a boolean, got "yes"$/],
      [() => create(spec, undefined), TypeError, /^new WasmLayer: weights must be an object, got undefined$/],
      [() => create(null, weights()), TypeError, /^new WasmLayer: spec must be an object, got null$/],
    ];
    for (const [fn, ctor, message] of cases) {
      expect(fn).toThrow(ctor);
      expect(fn).toThrow(message);
    }
  });

  test('forward checks every buffer against T, B and the layer sizes', () => {
    const layer = create(spec, weights());
    const gru = create({ ...spec, cell: 'gru' }, { wIh: new Float32Array(36), wHh: new Float32Array(48), bIh: new Float32Array(12), bHh: new Float32Array(12) });
    const cases: [() => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      [() => forward(layer, fwdArgs({ x: new Float32Array(29) })), RangeError, /^WasmLayer.forward: x must be a Float32Array of 30 elements, got Float32Array\(29\)$/],
      [() => forward(layer, fwdArgs({ x: [0.5] })), TypeError, /^WasmLayer.forward: x must be a Float32Array of 30 elements, got \[0.5\]$/],
      [() => forward(layer, fwdArgs({ y: new Float32Array(39) })), RangeError, /^WasmLayer.forward: y must be a Float32Array of at least 40 elements, got Float32Array\(39\)$/],
      [() => forward(layer, fwdArgs({ yStride: 8 })), RangeError, /^WasmLayer.forward: y must be a Float32Array of at least 76 elements, got Float32Array\(40\)$/],
      [() => forward(layer, fwdArgs({ yStride: 3 })), RangeError, /^WasmLayer.forward: yStride must be an integer in 4..2147483647, got 3$/],
      [() => forward(layer, fwdArgs({ lengths: new Int32Array([5, 6]) })), RangeError, /^WasmLayer.forward: lengths\[1\] must be an integer in 0..5, got 6$/],
      [() => forward(layer, fwdArgs({ lengths: new Int32Array([-1, 2]) })), RangeError, /^WasmLayer.forward: lengths\[0\] must be an integer in 0..5, got -1$/],
      [() => forward(layer, fwdArgs({ lengths: new Int32Array(3) })), RangeError, /^WasmLayer.forward: lengths must be an Int32Array of 2 elements, got Int32Array\(3\)$/],
      [() => forward(layer, fwdArgs({ lengths: [5, 5] })), TypeError, /^WasmLayer.forward: lengths must be an Int32Array of 2 elements or undefined, got \[5, 5\]$/],
      [() => forward(layer, fwdArgs({ T: 0 })), RangeError, /^WasmLayer.forward: T must be an integer in 1..2147483647, got 0$/],
      [() => forward(layer, fwdArgs({ B: '2' })), TypeError, /^WasmLayer.forward: B must be an integer in 1..2147483647, got "2"$/],
      [() => forward(layer, fwdArgs({ T: 65536, B: 65536 })), RangeError, /^WasmLayer.forward: T \* B must be at most 2147483647, got 4294967296$/],
      [() => forward(layer, fwdArgs({ cN: undefined })), TypeError, /^WasmLayer.forward: cN must be a Float32Array of 8 elements, got undefined$/],
      [() => forward(layer, fwdArgs({ h0: new Float32Array(9) })), RangeError, /^WasmLayer.forward: h0 must be a Float32Array of 8 elements, got Float32Array\(9\)$/],
      [() => forward(layer, fwdArgs({ c0: new Int32Array(8) })), TypeError, /^WasmLayer.forward: c0 must be a Float32Array of 8 elements or undefined, got Int32Array\(8\)$/],
      [() => forward(layer, fwdArgs({ training: 1 })), TypeError, /^WasmLayer.forward: training must be a boolean, got 1$/],
      [() => forward(layer, 42), TypeError, /^WasmLayer.forward: arguments must be an object, got 42$/],
      [() => forward(gru, fwdArgs()), TypeError, /^WasmLayer.forward: cN must be undefined \(only LSTM has a cell state\), got Float32Array\(8\)$/],
    ];
    for (const [fn, ctor, message] of cases) {
      expect(fn).toThrow(ctor);
      expect(fn).toThrow(message);
    }
  });

  test.each([
    ...lstmVariantArgumentCases.map((c) => ({ ...c, cell: 'lstm' })),
    ...gruVariantArgumentCases.map((c) => ({ ...c, cell: 'gru' })),
    ...numberSpellingCases.map((c) => ({ ...c, cell: 'lstm' })),
  ])('forward checks the variants\' arguments: $name', ({ cell, over, error, message }) => {
    const layer = cell === 'lstm' ? create(spec, weights()) : create({ ...spec, cell }, tinyGruWeights());
    const args = fwdArgs({ ...over, ...(cell === 'lstm' ? {} : { cN: undefined }), training: true });
    const inUse = kernels.heap.bytesInUse;
    expect(() => forward(layer, args)).toThrow(error === 'TypeError' ? TypeError : RangeError);
    expect(() => forward(layer, args)).toThrow(new Error(`WasmLayer.forward: ${message}`));
    // Refused before anything is copied in: nothing written, nothing held.
    expect(args.y.every((v) => v === 0)).toBe(true);
    expect(kernels.heap.bytesInUse).toBe(inUse);
  });

  test('in-range variant arguments are accepted, 0 and 1 included', () => {
    const layer = create(spec, weights());
    for (const p of [0, -0, 1, 0.5]) expect(() => forward(layer, fwdArgs({ zoneoutHidden: p, zoneoutCell: p }))).not.toThrow();
    const masks = { recurrentMask: new Float32Array(8).fill(2), zoneoutHiddenMask: new Uint8Array(40).fill(1), zoneoutCellMask: new Uint8Array(40) };
    expect(() => forward(layer, fwdArgs({ ...masks, training: true }))).not.toThrow();
    expect(() => forward(layer, fwdArgs({ recurrentMask: null, zoneoutHiddenMask: null, zoneoutHidden: null }))).not.toThrow();
  });

  test('hostile masks never crash a forward or backward, sync or async, and leak nothing', async () => {
    // A module instance of its own: the shared one also holds the other tests' layers, which
    // finalizers may free during the awaits below and so change the heap's count.
    const own = loadWasmKernels();
    const ownBackend = wasmBackend(own);
    // Every layer stays referenced and unreleased to the end: a released one is freed once the
    // finalizers of its forwards' workspaces run, and an unreferenced one by its own finalizer,
    // either of which could land inside a later cell kind's count.
    const kept: BackendLayer[] = [];
    await runHostileMasks((cell, w) => ownBackend.createLayer({ ...spec, cell } as never, w as never), {
      prepare(layer, lstm, w) {
        kept.push(layer);
        // The first backward packs the layer's backward weights, which it keeps: measure after one.
        const warmUp = fwdArgs({ training: true, ...(lstm ? {} : { cN: undefined }) });
        const workspace = forward(layer, warmUp)!;
        layer.backward({ workspace, dX: new Float32Array(30), dh0: new Float32Array(8), dc0: lstm ? new Float32Array(8) : undefined, grads: w() } as never);
        // Freed now, not by a finalizer that could run in the middle of the measurement.
        workspace.release!();
        const inUse = own.heap.bytesInUse;
        return () => expect(own.heap.bytesInUse).toBe(inUse);
      },
    });
    for (const layer of kept) layer.release();
  });

  test('a rejected call writes nothing and leaks nothing', () => {
    const layer = create(spec, weights());
    const inUse = kernels.heap.bytesInUse;
    const args = fwdArgs({ lengths: new Int32Array([5, 9]) });
    expect(() => forward(layer, args)).toThrow(RangeError);
    expect(args.y.every((v) => v === 0)).toBe(true);
    expect(kernels.heap.bytesInUse).toBe(inUse);
  });

  test('backward accepts only live workspaces of the same layer, and checks its buffers', () => {
    const layer = create(spec, weights());
    const other = create(spec, weights());
    const ws = forward(layer, fwdArgs({ training: true }))!;
    expect(ws.byteLength).toBeGreaterThan(0);
    const bwd = (over: Record<string, unknown> = {}) =>
      ({ workspace: ws, dYStride: 4, dX: new Float32Array(30), dh0: new Float32Array(8), dc0: new Float32Array(8), grads: weights(), ...over }) as never;
    expect(() => layer.backward(bwd())).not.toThrow();
    // A workspace serves any number of backwards until it is released (the facade allows one per tape).
    expect(() => layer.backward(bwd())).not.toThrow();
    const cases: [() => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      [() => other.backward(bwd()), TypeError, /^WasmLayer.backward: workspace must come from a forward of this layer, got one from another layer$/],
      [() => layer.backward(bwd({ workspace: {} })), TypeError, /^WasmLayer.backward: workspace must be a Workspace returned by forward with training: true, got an object$/],
      [() => layer.backward(bwd({ workspace: new (ws.constructor as new () => object)() })), TypeError, /workspace must be a Workspace returned by forward with training: true/],
      [() => layer.backward(bwd({ workspace: undefined })), TypeError, /^WasmLayer.backward: workspace must be a Workspace returned by forward with training: true, got undefined$/],
      [() => layer.backward(bwd({ dX: new Float32Array(31) })), RangeError, /^WasmLayer.backward: dX must be a Float32Array of 30 elements, got Float32Array\(31\)$/],
      [() => layer.backward(bwd({ dY: new Float32Array(39) })), RangeError, /^WasmLayer.backward: dY must be a Float32Array of at least 40 elements, got Float32Array\(39\)$/],
      [() => layer.backward(bwd({ dcN: new Float32Array(7) })), RangeError, /^WasmLayer.backward: dcN must be a Float32Array of 8 elements, got Float32Array\(7\)$/],
      [() => layer.backward(bwd({ grads: { ...weights(), wHh: new Float32Array(63) } })), RangeError, /^WasmLayer.backward grads: wHh must be a Float32Array of 64 elements, got Float32Array\(63\)$/],
      [() => layer.backward(bwd({ grads: null })), TypeError, /^WasmLayer.backward: grads must be an object of Float32Arrays \(wIh, wHh, ...\), got null$/],
      [() => layer.backward(null as never), TypeError, /^WasmLayer.backward: arguments must be an object, got null$/],
    ];
    for (const [fn, ctor, message] of cases) {
      expect(fn).toThrow(ctor);
      expect(fn).toThrow(message);
    }
    ws.release!();
    expect(ws.byteLength).toBe(0);
    expect(() => layer.backward(bwd())).toThrow(/^WasmLayer.backward: workspace must be a Workspace returned by forward with training: true/);
  });

  test('async variants reject with the same checks and resolve to the same numbers', async () => {
    const layer = create(spec, weights());
    await expect(layer.forwardAsync(fwdArgs({ x: new Float32Array(3) }) as never)).rejects.toThrow(
      /^WasmLayer.forwardAsync: x must be a Float32Array of 30 elements, got Float32Array\(3\)$/,
    );
    await expect(layer.backwardAsync({ workspace: {} } as never)).rejects.toThrow(/^WasmLayer.backwardAsync: workspace must be/);
    const sync = fwdArgs({ lengths: new Int32Array([5, 3]), training: true });
    const wsSync = forward(layer, sync)!;
    const async = fwdArgs({ lengths: new Int32Array([5, 3]), training: true });
    const wsAsync = (await layer.forwardAsync(async as never))!;
    expect(async.y).toEqual(sync.y);
    expect(async.hN).toEqual(sync.hN);
    expect(async.cN).toEqual(sync.cN);
    const bwd = (workspace: unknown) => ({ workspace, dY: new Float32Array(40).fill(0.25), dYStride: 4, dX: new Float32Array(30), dh0: new Float32Array(8), dc0: new Float32Array(8), grads: weights() });
    const a = bwd(wsSync);
    const b = bwd(wsAsync);
    layer.backward(a as never);
    await layer.backwardAsync(b as never);
    expect(b.dX).toEqual(a.dX);
    expect(b.grads).toEqual(a.grads);
  });

  test('strided y and dY: rows land yStride apart and nothing between them is touched', () => {
    const layer = create(spec, weights());
    const packed = fwdArgs({ training: true });
    const wsPacked = forward(layer, packed)!;
    // Rows 6 apart with two sentinels between them, as a bidirectional output's halves are.
    const strided = fwdArgs({ training: true, yStride: 6, y: new Float32Array(9 * 6 + 4).fill(7) });
    const wsStrided = forward(layer, strided)!;
    for (let r = 0; r < 10; r++) {
      expect(Array.from(strided.y.subarray(r * 6, r * 6 + 4))).toEqual(Array.from(packed.y.subarray(r * 4, r * 4 + 4)));
      if (r < 9) expect(Array.from(strided.y.subarray(r * 6 + 4, r * 6 + 6))).toEqual([7, 7]);
    }
    const dYPacked = new Float32Array(40).map((_, i) => Math.sin(i));
    const dYStrided = new Float32Array(9 * 6 + 4).fill(Number.NaN);
    for (let r = 0; r < 10; r++) dYStrided.set(dYPacked.subarray(r * 4, r * 4 + 4), r * 6);
    const bwd = (workspace: unknown, dY: Float32Array, dYStride: number) => ({ workspace, dY, dYStride, dX: new Float32Array(30), dh0: new Float32Array(8), dc0: new Float32Array(8), grads: weights() });
    const a = bwd(wsPacked, dYPacked, 4);
    const b = bwd(wsStrided, dYStrided, 6);
    layer.backward(a as never);
    layer.backward(b as never);
    expect(b.dX).toEqual(a.dX);
    expect(b.grads).toEqual(a.grads);
  });

  test('parameter gradients add into what the arrays hold', () => {
    const layer = create(spec, weights());
    const ws = forward(layer, fwdArgs({ training: true }))!;
    const once = { workspace: ws, dY: new Float32Array(40).fill(1), dYStride: 4, dX: new Float32Array(30), dh0: new Float32Array(8), dc0: new Float32Array(8), grads: weights() };
    const start = weights();
    layer.backward(once as never);
    const twice = { ...once, grads: weights() };
    layer.backward(twice as never);
    layer.backward(twice as never);
    for (const key of ['wIh', 'wHh', 'bIh', 'bHh'] as const) {
      const delta = once.grads[key].map((v, i) => v - start[key][i]);
      const doubled = twice.grads[key].map((v, i) => v - start[key][i]);
      expect(delta.some((v) => v !== 0)).toBe(true);
      doubled.forEach((v, i) => expect(v).toBeCloseTo(2 * delta[i], 5));
    }
  });
});

describeWasm('wasm memory across calls', () => {
  const kernels = hasWasm ? loadWasmKernels() : undefined!;
  const backend = hasWasm ? wasmBackend(kernels) : undefined!;
  const H = 24;
  const I = 13;
  const layer = hasWasm
    ? backend.createLayer(
        { cell: 'gru', inputSize: I, hiddenSize: H, projSize: 0, bias: true, peepholes: false, linearBeforeReset: true, reverse: true },
        { wIh: new Float32Array(3 * H * I).fill(0.01), wHh: new Float32Array(3 * H * H).fill(0.02), bIh: new Float32Array(3 * H), bHh: new Float32Array(3 * H) },
      )
    : undefined!;
  const step = (T: number, B: number) => {
    const ws = layer.forward({ T, B, x: new Float32Array(T * B * I).fill(0.3), y: new Float32Array(T * B * H), yStride: H, hN: new Float32Array(B * H), training: true })!;
    layer.backward({
      workspace: ws, dY: new Float32Array(T * B * H).fill(0.1), dYStride: H, dX: new Float32Array(T * B * I), dh0: new Float32Array(B * H),
      grads: { wIh: new Float32Array(3 * H * I), wHh: new Float32Array(3 * H * H), bIh: new Float32Array(3 * H), bHh: new Float32Array(3 * H) },
    });
    return ws;
  };

  test('a repeated call grows memory once, then reuses it; calls give back everything they took', () => {
    step(30, 9);
    const size = kernels.heap.byteLength;
    const inUse = kernels.heap.bytesInUse;
    for (let i = 0; i < 20; i++) step(30, 9);
    // Smaller calls fit in what the larger one left free.
    for (let i = 0; i < 5; i++) step(7, 3);
    expect(kernels.heap.byteLength).toBe(size);
    expect(kernels.heap.bytesInUse).toBe(inUse);
  });

  test('live workspaces are copies outside linear memory', () => {
    const inUse = kernels.heap.bytesInUse;
    const kept = Array.from({ length: 10 }, () => step(30, 9));
    expect(kernels.heap.bytesInUse).toBe(inUse);
    expect(kept.every((ws) => ws.byteLength > 0)).toBe(true);
  });

  test('a layer that is garbage collected gives its memory back', () => {
    // Fresh process: gc() is exposed there and no other test holds layers.
    const code = `
const { loadWasmKernels, wasmBackend } = require('./dist/backend/wasm');
const kernels = loadWasmKernels();
const backend = wasmBackend(kernels);
const base = kernels.heap.bytesInUse;
const H = 64, I = 32;
const spec = { cell: 'lstm', inputSize: I, hiddenSize: H, projSize: 0, bias: true, peepholes: false, linearBeforeReset: true, reverse: false };
// The calling thread packs a layer into its own instance on its first synchronous call.
const make = () => {
  const layer = backend.createLayer(spec, { wIh: new Float32Array(4 * H * I), wHh: new Float32Array(4 * H * H), bIh: new Float32Array(4 * H), bHh: new Float32Array(4 * H) });
  layer.forward({ T: 1, B: 1, x: new Float32Array(I), y: new Float32Array(H), yStride: H, hN: new Float32Array(H), cN: new Float32Array(H), training: false });
  return layer;
};
(() => { for (let i = 0; i < 10; i++) make(); })();
const held = kernels.heap.bytesInUse;
const kept = make();
(async () => {
  for (let i = 0; i < 10 && kernels.heap.bytesInUse > base + (held - base) / 10; i++) {
    global.gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  console.log(JSON.stringify({ base, held, after: kernels.heap.bytesInUse, one: (held - base) / 10, kept: typeof kept }));
})();`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', code], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const { base, held, after, one } = JSON.parse(r.stdout);
    expect(held - base).toBeGreaterThan(0);
    expect(after).toBe(base + one);
  });
});

describeWasm('wasm kernels', () => {
  const kernels = hasWasm ? loadWasmKernels() : undefined!;
  const { exports, heap, constants } = kernels ?? ({} as never);

  /** Runs an activation export on `values` (placed at a 4-byte offset, so loads are unaligned too). */
  const activate = (fn: 'sigmoidFloats' | 'tanhFloats', values: Float32Array) => {
    const src = heap.allocate(values.length * 4 + 4, 'test') + 4;
    const dst = heap.allocate(values.length * 4 + 4, 'test') + 4;
    heap.f32(src, values.length).set(values);
    exports[fn](dst, src, values.length);
    const out = heap.f32(dst, values.length).slice();
    heap.release(src - 4);
    heap.release(dst - 4);
    return out;
  };

  const xs = new Float32Array([
    ...Array.from({ length: 16001 }, (_, i) => -80 + i * 0.01),
    0, -0, 1e-30, -1e-30, 1e-7, -3e-5, 0.29999, 0.3, 0.30001, -0.3, 87, -87, 88.5, -88.5, 200, -200,
  ]);

  test('sigmoid and tanh are within 1e-6 of float64, relative', () => {
    const sig = activate('sigmoidFloats', xs);
    const tanh = activate('tanhFloats', xs);
    let worstSig = 0;
    let worstTanh = 0;
    xs.forEach((x, i) => {
      const s = 1 / (1 + Math.exp(-x));
      const t = Math.tanh(x);
      if (x > -80) worstSig = Math.max(worstSig, Math.abs(sig[i] - s) / s);
      else expect(Math.abs(sig[i] - s)).toBeLessThan(1e-34);
      worstTanh = Math.max(worstTanh, t === 0 ? Math.abs(tanh[i]) : Math.abs(tanh[i] - t) / Math.abs(t));
    });
    expect(worstSig).toBeLessThan(1e-6);
    expect(worstTanh).toBeLessThan(1e-6);
  });

  test('they saturate, keep signs and propagate NaN', () => {
    const special = new Float32Array([Infinity, -Infinity, NaN, -0, 1e4, -1e4]);
    expect(Array.from(activate('sigmoidFloats', special).slice(0, 3))).toEqual([1, expect.any(Number), NaN]);
    expect(activate('sigmoidFloats', special)[1]).toBeLessThan(1e-37);
    expect(Array.from(activate('tanhFloats', special))).toEqual([1, -1, NaN, -0, 1, -1]);
  });

  test('a value gets the same bits in the body of a row and in its tail', () => {
    const values = new Float32Array(Array.from({ length: 39 }, (_, i) => Math.sin(i * 1.7) * 6));
    for (const fn of ['sigmoidFloats', 'tanhFloats'] as const) {
      const whole = activate(fn, values);
      for (let n = 1; n <= 3; n++) {
        for (let start = 0; start + n <= values.length; start += 5) {
          expect(Array.from(activate(fn, values.slice(start, start + n)))).toEqual(Array.from(whole.slice(start, start + n)));
        }
      }
    }
  });

  /** A region of `bytes` followed by 64 guard bytes; check() says whether the guard is intact. */
  const GUARD = 64;
  const guarded = (bytes: number) => {
    const ptr = heap.allocate(bytes + GUARD, 'test');
    heap.u8(ptr + bytes, GUARD).fill(0xa5);
    return { ptr, check: () => heap.u8(ptr + bytes, GUARD).every((v) => v === 0xa5), release: () => heap.release(ptr) };
  };

  type Flag = 'bias' | 'peepholes' | 'linearBeforeReset' | 'reverse';
  const variants: { cell: 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu'; I: number; H: number; P: number; set: Flag[] }[] = [
    { cell: 'lstm', I: 5, H: 7, P: 3, set: ['bias', 'peepholes'] },
    { cell: 'lstm', I: 3, H: 1, P: 0, set: ['reverse'] },
    { cell: 'gru', I: 6, H: 5, P: 0, set: ['bias', 'linearBeforeReset', 'reverse'] },
    { cell: 'gru', I: 9, H: 3, P: 0, set: ['bias'] },
    { cell: 'rnn_tanh', I: 1, H: 9, P: 0, set: ['bias'] },
    { cell: 'rnn_relu', I: 2, H: 2, P: 0, set: [] },
  ];

  // Each configuration bare, and with the seed's variants: every mask and zoneout on c kept apart.
  const cases = variants.flatMap((v) => [
    { ...v, seed: 'bare' },
    { ...v, seed: 'with masks' },
  ]);
  test.each(cases)('$cell I=$I H=$H $set $seed: forward and backward write nothing past the regions they are given', ({ cell, I, H, P, set, seed }) => {
    const flags = set.reduce((f, name) => f | constants.flags[name], 0);
    const T = 3;
    const B = 7;
    const hout = P || H;
    const code = constants.cells[cell];
    const lstm = cell === 'lstm';
    const regions: { ptr: number; check: () => boolean; release: () => void }[] = [];
    const region = (bytes: number) => {
      const r = guarded(bytes);
      regions.push(r);
      return r.ptr;
    };
    const d = region(exports.layerBytes(code, I, H, P, flags));
    exports.layerInit(d, code, I, H, P, flags);
    for (let i = 0; i < 6; i++) {
      const p = kernels.layerParam(d, i);
      if (p) heap.f32(p, 3).fill(0.1);
    }
    exports.layerPack(d);
    const bits = constants.variants;
    const masked = seed === 'with masks';
    const variantBits = masked
      ? bits.recurrentMask | bits.zoneoutHiddenMask | (lstm ? bits.zoneoutCellMask | bits.zoneoutCell : 0)
      : 0;
    const wsBytes = exports.workspaceBytes(d, T, B, variantBits);
    const ws = region(wsBytes);
    heap.f32(kernels.workspaceInput(ws), T * B * I).fill(0.5);
    const fScratch = exports.forwardScratchBytes(d, B);
    const lengths = region(B * 4);
    new Int32Array(heap.memory.buffer, lengths, B).set([3, 0, 1, 2, 3, 1, 0]);
    const maskRegion = (bytes: number, fill: (ptr: number) => void) => {
      if (!masked) return 0;
      const ptr = region(bytes);
      fill(ptr);
      return ptr;
    };
    const recurrentMask = maskRegion(B * hout * 4, (ptr) => heap.f32(ptr, B * hout).fill(2));
    const hiddenMask = maskRegion(T * B * hout, (ptr) => heap.u8(ptr, T * B * hout).forEach((_, i, a) => (a[i] = i % 2)));
    const cellMask = lstm ? maskRegion(T * B * H, (ptr) => heap.u8(ptr, T * B * H).fill(1)) : 0;
    exports.layerForward(d, ws, region(fScratch), fScratch, T, B, lengths, 0, 0, region(T * B * hout * 4), region(B * hout * 4),
      lstm ? region(B * H * 4) : 0, variantBits, recurrentMask, 0, hiddenMask, 0, cellMask);
    const back = region(exports.layerBackwardBytes(d));
    exports.layerPackBackward(d, back);
    const bScratch = exports.backwardScratchBytes(d, T, B, variantBits);
    const dY = region(T * B * hout * 4);
    heap.f32(dY, T * B * hout).fill(0.2);
    exports.layerBackward(d, ws, region(bScratch), bScratch, dY, 0, 0, region(T * B * I * 4), region(B * hout * 4), lstm ? region(B * H * 4) : 0, region(kernels.layerParamsBytes(d)));
    expect(regions.map((r) => r.check())).toEqual(regions.map(() => true));
    for (const r of regions) r.release();
  });
});
