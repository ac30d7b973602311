// The addon is reachable on its own (require() of its binary), so it checks every
// argument again: wrong sizes and types are JS errors, never reads past a buffer or a crash. That
// includes the seed's variant arguments (masks and zoneout probabilities), and masks holding values
// no caller should send.
import { forwardLayersArguments, loadNativeAddon } from '../src/backend/native';
import { loadedBackends } from './helpers/backends';
import { tinyLstmForwardArgs, tinyLstmSpec, tinyLstmWeights } from './helpers/tiny-lstm';
import {
  gruVariantArgumentCases, lstmVariantArgumentCases, numberSpellingCases, runHostileMasks, tinyGruWeights,
} from './helpers/variant-arguments';

const hasNative = loadedBackends().includes('native');

// The addon creates its errors in Node's own realm; jest runs tests in a sandbox realm whose
// RangeError is another function, so the class is checked by name.
function thrownName(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).name;
  }
  return 'nothing thrown';
}

function thrownMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return 'nothing thrown';
}

if (hasNative || (process.env.CELLSCAN_REQUIRE_BACKENDS ?? '').split(',').includes('native')) {
  test('the native backend is loaded', () => expect(hasNative).toBe(true));
} else {
  test.skip('native addon boundary: the addon did not load here (backends() says why)', () => {});
}

const describeNative = hasNative ? describe : describe.skip;

describeNative('native addon boundary', () => {
  // The raw module, as require() gives it: no TypeScript in front of its checks.
  const addon = hasNative ? (loadNativeAddon().addon as any) : undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  const spec = tinyLstmSpec;
  const weights = tinyLstmWeights;
  const fwdArgs = tinyLstmForwardArgs;

  test('constructor checks spec and weights', () => {
    expect(thrownName(() => new addon.Layer({ ...spec, cell: 'lsmt' }, weights()))).toBe('RangeError');
    expect(() => new addon.Layer({ ...spec, cell: 'lsmt' }, weights())).toThrow(
      /^new Layer: cell must be one of "lstm", "gru", "rnn_tanh", "rnn_relu", got "lsmt"$/,
    );
    expect(() => new addon.Layer({ ...spec, hiddenSize: 0 }, weights())).toThrow(/^new Layer: hiddenSize must be an integer in 1..16777216, got 0$/);
    expect(() => new addon.Layer({ ...spec, projSize: 4 }, weights())).toThrow(/^new Layer: projSize must be an integer in 0..3, got 4$/);
    expect(thrownName(() => new addon.Layer({ ...spec, cell: 'gru', peepholes: true }, weights()))).toBe('RangeError');
    expect(() => new addon.Layer(spec, { ...weights(), wIh: new Float32Array(47) })).toThrow(
      /^new Layer: wIh must be a Float32Array of 48 elements, got Float32Array\(47\)$/,
    );
    expect(thrownName(() => new addon.Layer(spec, { ...weights(), wHh: new Float64Array(64) }))).toBe('TypeError');
    expect(() => new addon.Layer(spec, { ...weights(), bHh: undefined })).toThrow(/^new Layer: bHh must be a Float32Array of 16 elements, got undefined$/);
    expect(() => new addon.Layer({ ...spec, bias: false }, weights())).toThrow(/^new Layer: bIh must be undefined \(the layer has no bias\), got Float32Array\(16\)$/);
    expect(() => new addon.Layer(spec)).toThrow(/^new Layer: weights must be an object, got undefined$/);
    expect(thrownName(() => addon.Layer(spec, weights()))).toBe('TypeError');
  });

  test('forward checks every buffer against T, B and the layer sizes', () => {
    const layer = new addon.Layer(spec, weights());
    expect(() => layer.forward(fwdArgs({ x: new Float32Array(29) }))).toThrow(/^Layer.forward: x must be a Float32Array of 30 elements, got Float32Array\(29\)$/);
    expect(thrownName(() => layer.forward(fwdArgs({ y: new Float32Array(39) })))).toBe('RangeError');
    expect(() => layer.forward(fwdArgs({ yStride: 8, y: new Float32Array(40) }))).toThrow(
      /^Layer.forward: y must be a Float32Array of at least 76 elements, got Float32Array\(40\)$/,
    );
    expect(() => layer.forward(fwdArgs({ yStride: 3 }))).toThrow(/^Layer.forward: yStride must be an integer in 4..2147483647, got 3$/);
    expect(() => layer.forward(fwdArgs({ lengths: new Int32Array([5, 6]) }))).toThrow(/^Layer.forward: lengths\[1\] must be an integer in 0..5, got 6$/);
    expect(() => layer.forward(fwdArgs({ lengths: [5, 5] }))).toThrow(/^Layer.forward: lengths must be an Int32Array of 2 elements or undefined, got an array$/);
    expect(() => layer.forward(fwdArgs({ T: 0 }))).toThrow(/^Layer.forward: T must be an integer in 1..2147483647, got 0$/);
    expect(() => layer.forward(fwdArgs({ T: 65536, B: 65536 }))).toThrow(/^Layer.forward: T \* B must be at most 2147483647, got 4294967296$/);
    expect(() => layer.forward(fwdArgs({ cN: undefined }))).toThrow(/^Layer.forward: cN must be a Float32Array of 8 elements, got undefined$/);
    expect(() => layer.forward(fwdArgs({ h0: new Float32Array(9) }))).toThrow(/^Layer.forward: h0 must be a Float32Array of 8 elements, got Float32Array\(9\)$/);
    expect(() => layer.forward(fwdArgs({ training: 1 }))).toThrow(/^Layer.forward: training must be a boolean, got 1$/);
    expect(() => layer.forward(42)).toThrow(/^Layer.forward: arguments must be an object, got 42$/);
    const gru = new addon.Layer({ ...spec, cell: 'gru' }, { wIh: new Float32Array(36), wHh: new Float32Array(48), bIh: new Float32Array(12), bHh: new Float32Array(12) });
    expect(() => gru.forward(fwdArgs())).toThrow(/^Layer.forward: cN must be undefined \(only LSTM has a cell state\), got Float32Array\(8\)$/);
  });

  test('forwardLayers runs several layers in one call, each as Layer.forward would, and checks each one', async () => {
    const reverse = { ...spec, reverse: true };
    const [a, b] = [new addon.Layer(spec, weights()), new addon.Layer(reverse, weights())];
    const [alone0, alone1] = [fwdArgs(), fwdArgs()];
    a.forward(alone0);
    new addon.Layer(reverse, weights()).forward(alone1);
    const [args0, args1] = [fwdArgs(), fwdArgs()];
    expect(addon.forwardLayers(...forwardLayersArguments([{ layer: a, args: args0 }, { layer: b, args: args1 }]))).toEqual([undefined, undefined]);
    expect([args0.y, args0.hN, args1.y, args1.hN]).toEqual([alone0.y, alone0.hN, alone1.y, alone1.hN]);
    const [async0, async1] = [fwdArgs(), fwdArgs({ training: true })];
    const done = await addon.forwardLayersAsync(...forwardLayersArguments([{ layer: a, args: async0 }, { layer: b, args: async1 }]));
    expect(done[0]).toBeUndefined();
    expect(done[1].byteLength).toBeGreaterThan(0);
    expect([async0.y, async1.cN]).toEqual([alone0.y, alone1.cN]);

    const call = (...calls: { layer: unknown; args: Record<string, unknown> }[]) => () =>
      addon.forwardLayers(...forwardLayersArguments(calls as never));
    // Each field is checked under its own name: the positions on both sides agree.
    expect(call({ layer: a, args: fwdArgs() }, { layer: b, args: fwdArgs({ x: new Float32Array(29) }) })).toThrow(
      /^forwardLayers \(layer 1\): x must be a Float32Array of 30 elements, got Float32Array\(29\)$/,
    );
    for (const [field, bad, message] of [
      ['T', 0, /T must be an integer in 1\.\.2147483647, got 0$/],
      ['B', 3, /x must be a Float32Array of 45 elements, got Float32Array\(30\)$/],
      ['h0', new Float32Array(7), /h0 must be a Float32Array of 8 elements, got Float32Array\(7\)$/],
      ['c0', new Float32Array(7), /c0 must be a Float32Array of 8 elements, got Float32Array\(7\)$/],
      ['lengths', new Int32Array([6, 0]), /lengths\[0\] must be an integer in 0\.\.5, got 6$/],
      ['y', new Float32Array(39), /y must be a Float32Array of at least 40 elements, got Float32Array\(39\)$/],
      ['yStride', 3, /yStride must be an integer in 4\.\.2147483647, got 3$/],
      ['hN', new Float32Array(7), /hN must be a Float32Array of 8 elements, got Float32Array\(7\)$/],
      ['cN', new Float32Array(7), /cN must be a Float32Array of 8 elements, got Float32Array\(7\)$/],
      ['training', 1, /training must be a boolean, got 1$/],
      ['recurrentMask', new Float32Array(7), /recurrentMask must be a Float32Array of 8 elements, got Float32Array\(7\)$/],
      ['zoneoutHidden', 2, /zoneoutHidden must be a number in \[0, 1\], got 2$/],
      ['zoneoutHiddenMask', new Uint8Array(7), /zoneoutHiddenMask must be a Uint8Array of 40 elements \(0 or 1 each\), got Uint8Array\(7\)$/],
      ['zoneoutCell', -1, /zoneoutCell must be a number in \[0, 1\], got -1$/],
      ['zoneoutCellMask', new Uint8Array(7), /zoneoutCellMask must be a Uint8Array of 40 elements \(0 or 1 each\), got Uint8Array\(7\)$/],
    ] as const) {
      expect([field, thrownMessage(call({ layer: a, args: fwdArgs({ [field]: bad }) }))]).toEqual([field, expect.stringMatching(message)]);
    }
    expect(call({ layer: a, args: fwdArgs() }, { layer: a, args: fwdArgs() })).toThrow(
      /^forwardLayers: layer 1 must be a Layer not already in the call, got layer 0 again$/,
    );
    expect(call({ layer: {}, args: fwdArgs() })).toThrow(/^forwardLayers: layer 0 must be a Layer, got an object$/);
    expect(() => addon.forwardLayers(0)).toThrow(/^forwardLayers: n must be an integer in 1\.\.64, got 0$/);
    expect(() => addon.forwardLayers(2, a, ...forwardLayersArguments([{ layer: b, args: fwdArgs() }]).slice(2))).toThrow(
      /^forwardLayers: arguments must be n, then each layer and its 17 fields \(37 in all\), got 19$/,
    );
    const released = new addon.Layer(spec, weights());
    released.release();
    expect(call({ layer: released, args: fwdArgs() })).toThrow(/^forwardLayers: the layer was released; create a new one for new calls$/);
    // Nothing ran: a bad second layer leaves the first one's outputs untouched.
    const untouched = fwdArgs({ y: new Float32Array(40).fill(7) });
    expect(call({ layer: a, args: untouched }, { layer: b, args: fwdArgs({ hN: undefined }) })).toThrow(/layer 1\): hN must be/);
    expect(untouched.y.every((v) => v === 7)).toBe(true);
  });

  test('forwardLayers runs its calls in stages, each reading the one before; async keeps that output inside', async () => {
    const vary = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 0.4);
    const weightsOf = (I: number, seed: number) => ({ wIh: vary(16 * I, seed), wHh: vary(16 * 4, seed + 1), bIh: vary(16, seed + 2), bHh: vary(16, seed + 3) });
    // Stage 0 a bidirectional layer (both directions into one y, 8 wide), stage 1 a layer reading it.
    const fwd = new addon.Layer(spec, weightsOf(3, 0));
    const rev = new addon.Layer({ ...spec, reverse: true }, weightsOf(3, 10));
    const top = new addon.Layer({ ...spec, inputSize: 8 }, weightsOf(8, 20));
    const x = vary(30, 5);
    const lengths = new Int32Array([5, 3]);
    const outputs = () => ({ fwdH: new Float32Array(8), fwdC: new Float32Array(8), revH: new Float32Array(8), revC: new Float32Array(8), topY: new Float32Array(40), topH: new Float32Array(8), topC: new Float32Array(8) });
    const calls = (y0: Float32Array, o: ReturnType<typeof outputs>) => [
      { layer: fwd, args: fwdArgs({ x, lengths, y: y0, yStride: 8, hN: o.fwdH, cN: o.fwdC }), stage: 0 },
      { layer: rev, args: fwdArgs({ x, lengths, y: y0.subarray(4), yStride: 8, hN: o.revH, cN: o.revC }), stage: 0 },
      { layer: top, args: fwdArgs({ x: y0, lengths, y: o.topY, hN: o.topH, cN: o.topC }), stage: 1 },
    ];
    // The reference: the three calls one at a time.
    const ref0 = new Float32Array(80);
    const ref = outputs();
    for (const c of calls(ref0, ref)) addon.forwardLayers(...forwardLayersArguments([{ ...c, stage: 0 }] as never));
    expect(ref.topY.some((v) => v !== 0)).toBe(true);
    for (const async of [false, true]) {
      const y0 = new Float32Array(80).fill(7);
      const o = outputs();
      const args = forwardLayersArguments(calls(y0, o) as never);
      await (async ? addon.forwardLayersAsync(...args) : addon.forwardLayers(...args));
      expect([async, o]).toEqual([async, ref]);
      // Written by a sync call, which runs in the caller's arrays; an async one never sends it back.
      expect([async, Array.from(y0)]).toEqual([async, async ? Array(80).fill(7) : Array.from(ref0)]);
    }
    // A later stage's call with an input of its own reads that, async too.
    const own = vary(80, 30);
    const alone = { y: new Float32Array(40), hN: new Float32Array(8), cN: new Float32Array(8) };
    addon.forwardLayers(...forwardLayersArguments([{ layer: top, args: fwdArgs({ x: own, lengths, ...alone }) }] as never));
    const staged = { y: new Float32Array(40), hN: new Float32Array(8), cN: new Float32Array(8) };
    await addon.forwardLayersAsync(...forwardLayersArguments([...calls(new Float32Array(80), outputs()).slice(0, 2), { layer: top, args: fwdArgs({ x: own, lengths, ...staged }), stage: 1 }] as never));
    expect(staged).toEqual(alone);

    const call = (...stages: number[]) => () =>
      addon.forwardLayers(...forwardLayersArguments(stages.map((stage, i) => ({ layer: [fwd, rev, top][i], args: fwdArgs(i === 2 ? { x: new Float32Array(80) } : {}), stage })) as never));
    expect(call(1)).toThrow(/^forwardLayers \(layer 0\): stage must be 0 \(stages run in order, none skipped\), got 1$/);
    expect(call(0, 2)).toThrow(/^forwardLayers \(layer 1\): stage must be 0 or 1 \(stages run in order, none skipped\), got 2$/);
    expect(call(0, 1, 0)).toThrow(/^forwardLayers \(layer 2\): stage must be 1 or 2 \(stages run in order, none skipped\), got 0$/);
    expect(call(0, -1)).toThrow(/^forwardLayers \(layer 1\): stage must be an integer in 0\.\.63, got -1$/);
  });

  test('backward accepts only genuine workspaces of the same layer', () => {
    const layer = new addon.Layer(spec, weights());
    const other = new addon.Layer(spec, weights());
    const ws = layer.forward(fwdArgs({ training: true }));
    expect(ws.byteLength).toBeGreaterThan(0);
    const bwd = (over: Record<string, unknown> = {}) => ({
      workspace: ws,
      dX: new Float32Array(30),
      dh0: new Float32Array(8),
      dc0: new Float32Array(8),
      grads: weights(),
      ...over,
    });
    expect(() => layer.backward(bwd())).not.toThrow();
    expect(() => other.backward(bwd())).toThrow(/^Layer.backward: workspace must come from a forward of this layer, got one from another layer$/);
    expect(() => layer.backward(bwd({ workspace: {} }))).toThrow(/^Layer.backward: workspace must be a Workspace returned by forward with training: true, got an object$/);
    expect(thrownName(() => layer.backward(bwd({ workspace: Object.create(Object.getPrototypeOf(ws)) })))).toBe('TypeError');
    expect(() => new ws.constructor()).toThrow(/^Workspace: cannot be constructed from JavaScript/);
    expect(() => layer.backward(bwd({ dX: new Float32Array(31) }))).toThrow(/^Layer.backward: dX must be a Float32Array of 30 elements, got Float32Array\(31\)$/);
    expect(() => layer.backward(bwd({ dY: new Float32Array(39) }))).toThrow(/^Layer.backward: dY must be a Float32Array of at least 40 elements, got Float32Array\(39\)$/);
    expect(() => layer.backward(bwd({ grads: { ...weights(), wHh: new Float32Array(63) } }))).toThrow(
      /^Layer.backward grads: wHh must be a Float32Array of 64 elements, got Float32Array\(63\)$/,
    );
    expect(() => layer.backward(bwd({ grads: null }))).toThrow(/^Layer.backward: grads must be an object of Float32Arrays \(wIh, wHh, ...\), got null$/);
  });

  test.each([
    ...lstmVariantArgumentCases.map((c) => ({ ...c, cell: 'lstm' })),
    ...gruVariantArgumentCases.map((c) => ({ ...c, cell: 'gru' })),
  ])('forward checks the variants\' arguments: $name', ({ cell, over, error, message }) => {
    const layer = cell === 'lstm' ? new addon.Layer(spec, weights()) : new addon.Layer({ ...spec, cell }, tinyGruWeights());
    const args = fwdArgs({ ...over, ...(cell === 'lstm' ? {} : { cN: undefined }), training: true });
    expect(thrownName(() => layer.forward(args))).toBe(error);
    expect(thrownMessage(() => layer.forward(args))).toBe(`Layer.forward: ${message}`);
  });

  test.each(numberSpellingCases)('a refused number is named as JavaScript writes it: $name', ({ over, error, message }) => {
    const layer = new addon.Layer(spec, weights());
    expect(thrownName(() => layer.forward(fwdArgs(over)))).toBe(error);
    expect(thrownMessage(() => layer.forward(fwdArgs(over)))).toBe(`Layer.forward: ${message}`);
  });

  test('in-range variant arguments are accepted, 0 and 1 included', () => {
    const layer = new addon.Layer(spec, weights());
    for (const p of [0, -0, 1, 0.5]) {
      expect(() => layer.forward(fwdArgs({ zoneoutHidden: p, zoneoutCell: p }))).not.toThrow();
    }
    const masks = { recurrentMask: new Float32Array(8).fill(2), zoneoutHiddenMask: new Uint8Array(40).fill(1), zoneoutCellMask: new Uint8Array(40) };
    expect(() => layer.forward(fwdArgs({ ...masks, training: true }))).not.toThrow();
    // null counts as absent, as for every optional argument.
    expect(() => layer.forward(fwdArgs({ recurrentMask: null, zoneoutHiddenMask: null, zoneoutHidden: null }))).not.toThrow();
  });

  test('hostile masks never crash a forward or backward, sync or async, nor write past y', async () => {
    await runHostileMasks((cell, w) => new addon.Layer({ ...spec, cell }, w));
  });

  test('methods called on a foreign receiver throw instead of crashing', () => {
    const layer = new addon.Layer(spec, weights());
    expect(() => layer.forward.call({}, fwdArgs())).toThrow();
    expect(() => addon.Layer.prototype.backward.call(Object.create(addon.Layer.prototype), {})).toThrow();
  });

  test('async results match sync, and a buffer detached mid-call rejects without writing', async () => {
    const layer = new addon.Layer(spec, weights());
    const sync = fwdArgs({ lengths: new Int32Array([5, 3]) });
    layer.forward(sync);
    const async = fwdArgs({ lengths: new Int32Array([5, 3]) });
    const pending = layer.forwardAsync(async);
    // Inputs are copied before the call returns: changing them now cannot change the result.
    (async.x as Float32Array).fill(9);
    await pending;
    expect(async.y).toEqual(sync.y);
    expect(async.hN).toEqual(sync.hN);

    const detached = fwdArgs();
    const p = layer.forwardAsync(detached);
    const buffer = (detached.y as Float32Array).buffer as ArrayBuffer;
    structuredClone(buffer, { transfer: [buffer] });
    await expect(p).rejects.toThrow(/^Layer.forwardAsync: y was detached or resized while the call ran; nothing was written to it$/);
  });
});
