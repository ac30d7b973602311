// exportONNX (SPEC §9) against the layer it came from: the exported bytes run in onnxruntime-node
// and must give what layer.forward gives (evaluation mode) within the fixtures' output tolerance,
// for every kind of layer ONNX's recurrent operators can express, with and without lengths and
// initial states. Runs on whichever backend is current (CELLSCAN_BACKEND picks one).
import * as vm from 'vm';
import { onnx } from 'onnx-proto';
import { GRU, LSTM, LSTMCell, RNN, Tensor, currentBackend, exportONNX } from '../src';
import { Rng } from '../src/random';
import { OUTPUT_TOL, mismatch } from './helpers/fixtures';

// Jest's realm has its own typed-array constructors; onnxruntime-node checks tensor data against
// the process's and refuses the realm's. Both are swapped for the process's before onnxruntime
// loads (in beforeAll), as test/bench-peers.test.ts does.
globalThis.Float32Array = vm.runInThisContext('Float32Array') as Float32ArrayConstructor;
globalThis.Int32Array = vm.runInThisContext('Int32Array') as Int32ArrayConstructor;

type Ort = typeof import('onnxruntime-node');
let ort: Ort;
beforeAll(async () => {
  ort = await import('onnxruntime-node');
});

type Layer = LSTM | GRU | RNN;

const T = 5;
const B = 4;
const I = 3;
const H = 4;

/** Largest |ONNX − cellscan| over every comparison, reported at the end. */
let maxAbsDiff = 0;
afterAll(() => {
  console.log(`exportONNX (${currentBackend()} backend): max |onnxruntime − cellscan| over all comparisons: ${maxAbsDiff}`);
});

function random(shape: number[], seed: number): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  new Rng(seed).fillUniform(data, -1, 1);
  return new Tensor(data, shape);
}

interface RunOptions {
  h0?: Tensor;
  c0?: Tensor;
  lengths?: number[];
}

async function runOnnx(bytes: Uint8Array, feeds: Record<string, Tensor | Int32Array>) {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  try {
    const ortFeeds: Record<string, InstanceType<Ort['Tensor']>> = {};
    for (const [name, v] of Object.entries(feeds)) {
      ortFeeds[name] = v instanceof Tensor
        ? new ort.Tensor('float32', Float32Array.from(v.data), [...v.shape])
        : new ort.Tensor('int32', v, [v.length]);
    }
    const r = await session.run(ortFeeds);
    const out: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
    for (const [name, t] of Object.entries(r)) out[name] = { data: t.data as Float32Array, dims: t.dims };
    return out;
  } finally {
    await session.release();
  }
}

/**
 * The layer's forward and the exported model's run on the same input and state; '' when every
 * output agrees within OUTPUT_TOL, else what differs. Absent h0/c0/lengths are fed to ONNX as
 * cellscan's defaults (zeros, T).
 */
async function compare(layer: Layer, x: Tensor, o: RunOptions = {}, opset?: number): Promise<string> {
  const ours = layer.forward(x, { h0: o.h0, c0: o.c0, lengths: o.lengths });
  const D = layer.bidirectional ? 2 : 1;
  const states = [layer.numLayers * D, B, layer.hiddenSize];
  const feeds: Record<string, Tensor | Int32Array> = {
    input: x,
    h0: o.h0 ?? Tensor.zeros(states),
    lengths: Int32Array.from(o.lengths ?? Array(B).fill(T)),
  };
  if (layer instanceof LSTM) feeds.c0 = o.c0 ?? Tensor.zeros(states);
  const theirs = await runOnnx(exportONNX(layer, opset === undefined ? undefined : { opset }), feeds);
  const problems: string[] = [];
  const check = (name: string, ourTensor: Tensor | undefined) => {
    const t = theirs[name];
    if (!ourTensor || !t) return problems.push(`${name}: ours ${!!ourTensor}, onnx ${!!t}`);
    if (t.dims.join() !== ourTensor.shape.join()) return problems.push(`${name}: onnx dims [${t.dims}], ours [${ourTensor.shape}]`);
    for (let i = 0; i < t.data.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(t.data[i] - ourTensor.data[i]));
    const m = mismatch(name, t.data, ourTensor.data, OUTPUT_TOL);
    if (m) problems.push(m);
  };
  check('output', ours.output);
  check('hN', ours.hN);
  if (layer instanceof LSTM) check('cN', ours.cN);
  return problems.join('; ');
}

interface Case {
  name: string;
  make: () => Layer;
}

const base = { inputSize: I, hiddenSize: H, seed: 7 };
const cases: Case[] = [
  { name: 'LSTM', make: () => new LSTM(base) },
  { name: 'LSTM, 3 layers', make: () => new LSTM({ ...base, numLayers: 3 }) },
  { name: 'LSTM, 3 layers, residual', make: () => new LSTM({ ...base, numLayers: 3, residual: true }) },
  { name: 'LSTM bidirectional', make: () => new LSTM({ ...base, bidirectional: true }) },
  { name: 'LSTM bidirectional, 2 layers, residual', make: () => new LSTM({ ...base, bidirectional: true, numLayers: 2, residual: true }) },
  { name: 'LSTM peepholes', make: () => new LSTM({ ...base, peepholes: true }) },
  { name: 'LSTM peepholes bidirectional, 2 layers', make: () => new LSTM({ ...base, peepholes: true, bidirectional: true, numLayers: 2 }) },
  { name: 'LSTM batchFirst', make: () => new LSTM({ ...base, batchFirst: true }) },
  { name: 'LSTM bias false', make: () => new LSTM({ ...base, bias: false }) },
  {
    name: 'LSTM everything: 2 layers, bidirectional, residual, peepholes, batchFirst, bias false',
    make: () => new LSTM({ ...base, numLayers: 2, bidirectional: true, residual: true, peepholes: true, batchFirst: true, bias: false }),
  },
  { name: 'GRU linearBeforeReset true', make: () => new GRU({ ...base, linearBeforeReset: true }) },
  { name: 'GRU linearBeforeReset false', make: () => new GRU({ ...base, linearBeforeReset: false }) },
  { name: 'GRU linearBeforeReset false, bidirectional, 2 layers, residual', make: () => new GRU({ ...base, linearBeforeReset: false, bidirectional: true, numLayers: 2, residual: true }) },
  { name: 'GRU batchFirst, bias false', make: () => new GRU({ ...base, batchFirst: true, bias: false }) },
  { name: 'RNN tanh', make: () => new RNN({ ...base, nonlinearity: 'tanh' }) },
  { name: 'RNN relu', make: () => new RNN({ ...base, nonlinearity: 'relu' }) },
  { name: 'RNN relu bidirectional, 2 layers, batchFirst', make: () => new RNN({ ...base, nonlinearity: 'relu', bidirectional: true, numLayers: 2, batchFirst: true }) },
];

function inputFor(layer: Layer, seed: number): Tensor {
  return random(layer.batchFirst ? [B, T, I] : [T, B, I], seed);
}

function statesFor(layer: Layer, seed: number): RunOptions {
  const shape = [layer.numLayers * (layer.bidirectional ? 2 : 1), B, H];
  return { h0: random(shape, seed), c0: layer instanceof LSTM ? random(shape, seed + 1) : undefined };
}

describe.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  test('defaults: zero states, full lengths', async () => {
    const layer = c.make();
    expect(await compare(layer, inputFor(layer, 1))).toBe('');
  });

  test('nonzero h0/c0', async () => {
    const layer = c.make();
    expect(await compare(layer, inputFor(layer, 2), statesFor(layer, 3))).toBe('');
  });

  test('lengths (T, shorter ones and 0) with nonzero h0/c0', async () => {
    const layer = c.make();
    expect(await compare(layer, inputFor(layer, 4), { ...statesFor(layer, 5), lengths: [T, 2, 0, 1] })).toBe('');
  });
});

describe('evaluation mode', () => {
  test('dropout, recurrentDropout and weightDropout vanish from the exported function', async () => {
    const layer = new LSTM({ ...base, numLayers: 2, dropout: 0.5, recurrentDropout: 0.3, weightDropout: 0.4 });
    const x = inputFor(layer, 6);
    // The regularizers do act in training, so agreeing with the evaluation forward means something.
    const trained = layer.forward(x, { training: true }).output;
    expect(mismatch('output', trained.data, layer.forward(x).output.data, OUTPUT_TOL)).not.toBe('');
    expect(await compare(layer, x, { ...statesFor(layer, 7), lengths: [3, T, 0, 4] })).toBe('');
  });

  test('the model holds the weights at export time', async () => {
    const layer = new GRU(base);
    const x = inputFor(layer, 8);
    const bytes = exportONNX(layer);
    const before = layer.forward(x).output;
    for (const t of layer.parameters().values()) t.data.fill(0.5);
    layer.parametersChanged();
    const out = await runOnnx(bytes, { input: x, h0: Tensor.zeros([1, B, H]), lengths: Int32Array.from([T, T, T, T]) });
    expect(mismatch('output', out.output.data, before.data, OUTPUT_TOL)).toBe('');
  });
});

describe('the model', () => {
  function decode(bytes: Uint8Array): onnx.ModelProto {
    return onnx.ModelProto.decode(bytes);
  }
  const dims = (v: onnx.IValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));

  test('one recurrent node per layer, cellscan\'s input and output names, symbolic T and B', () => {
    const m = decode(exportONNX(new LSTM({ ...base, numLayers: 3, bidirectional: true, batchFirst: true })));
    const g = m.graph!;
    expect(g.node!.filter((n) => ['LSTM', 'GRU', 'RNN'].includes(n.opType!)).map((n) => n.opType)).toEqual(['LSTM', 'LSTM', 'LSTM']);
    expect(g.input!.map((v) => [v.name, dims(v)])).toEqual([
      ['input', ['B', 'T', I]],
      ['h0', [6, 'B', H]],
      ['c0', [6, 'B', H]],
      ['lengths', ['B']],
    ]);
    expect(g.input![3].type!.tensorType!.elemType).toBe(onnx.TensorProto.DataType.INT32);
    expect(g.output!.map((v) => [v.name, dims(v)])).toEqual([
      ['output', ['B', 'T', 2 * H]],
      ['hN', [6, 'B', H]],
      ['cN', [6, 'B', H]],
    ]);
    // Required inputs: none has an initializer standing in for it.
    const initializers = new Set(g.initializer!.map((t) => t.name));
    expect(['input', 'h0', 'c0', 'lengths'].filter((n) => initializers.has(n))).toEqual([]);
  });

  test('h0, c0 and lengths are required inputs: onnxruntime refuses a run without them', async () => {
    const layer = new LSTM(base);
    const session = await ort.InferenceSession.create(exportONNX(layer), { logSeverityLevel: 3 });
    try {
      expect(session.inputNames).toEqual(['input', 'h0', 'c0', 'lengths']);
      const x = inputFor(layer, 11);
      const zeros = new ort.Tensor('float32', new Float32Array(B * H), [1, B, H]);
      await expect(session.run({ input: new ort.Tensor('float32', Float32Array.from(x.data), [T, B, I]), h0: zeros, c0: zeros }))
        .rejects.toThrow(/lengths/);
    } finally {
      await session.release();
    }
  });

  test('GRU and RNN have no c0 or cN; residual layers are Add nodes', () => {
    const gru = decode(exportONNX(new GRU({ ...base, numLayers: 3, residual: true }))).graph!;
    expect(gru.input!.map((v) => v.name)).toEqual(['input', 'h0', 'lengths']);
    expect(gru.output!.map((v) => v.name)).toEqual(['output', 'hN']);
    expect(gru.node!.filter((n) => n.opType === 'Add').length).toBe(2);
    const rnn = decode(exportONNX(new RNN({ ...base, nonlinearity: 'relu' }))).graph!;
    expect(rnn.node!.map((n) => n.opType)).toContain('RNN');
    expect(rnn.input!.map((v) => v.name)).toEqual(['input', 'h0', 'lengths']);
  });

  test('opset: default 9 (IR 4); 9 through 22 each stamp their IR version and run', async () => {
    const layer = new LSTM({ ...base, bidirectional: true, numLayers: 2 });
    const m = decode(exportONNX(layer));
    expect(m.opsetImport!.map((o) => [o.domain, Number(o.version)])).toEqual([['', 9]]);
    expect(Number(m.irVersion)).toBe(4);
    const ir: Record<number, number> = { 9: 4, 10: 5, 11: 6, 14: 7, 15: 8, 18: 8, 19: 9, 21: 10, 22: 10 };
    for (const [opset, irVersion] of Object.entries(ir)) {
      const mo = decode(exportONNX(layer, { opset: Number(opset) }));
      expect([Number(mo.opsetImport![0].version), Number(mo.irVersion)]).toEqual([Number(opset), irVersion]);
    }
    for (const opset of [9, 14, 22]) {
      expect(await compare(layer, inputFor(layer, 9), { ...statesFor(layer, 10), lengths: [2, 0, T, 3] }, opset)).toBe('');
    }
  });
});

/** fn throws exactly this class of error with exactly this message. */
function expectError(fn: () => unknown, cls: typeof RangeError | typeof TypeError, message: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(cls);
  expect((thrown as Error).message).toBe(message);
}

describe('errors', () => {
  test('projSize: ONNX\'s LSTM has no projection', () => {
    const layer = new LSTM({ inputSize: 3, hiddenSize: 16, projSize: 8 });
    expectError(() => exportONNX(layer), RangeError, "exportONNX: projSize must be 0 (ONNX's LSTM has no projection), got 8");
  });

  test('zoneout: not one ONNX node\'s math', () => {
    const cases: [Layer, string][] = [
      [new LSTM({ ...base, zoneout: 0.1 }), "exportONNX: zoneout must be 0 (ONNX's LSTM has no zoneout), got 0.1"],
      [new LSTM({ ...base, zoneout: { cell: 0.2 } }), "exportONNX: zoneout.cell must be 0 (ONNX's LSTM has no zoneout), got 0.2"],
      [new LSTM({ ...base, zoneout: { hidden: 0.3, cell: 0.2 } }), "exportONNX: zoneout.hidden must be 0 (ONNX's LSTM has no zoneout), got 0.3"],
      [new GRU({ ...base, zoneout: 0.25 }), "exportONNX: zoneout must be 0 (ONNX's GRU has no zoneout), got 0.25"],
      [new RNN({ ...base, zoneout: { hidden: 0.5 } }), "exportONNX: zoneout must be 0 (ONNX's RNN has no zoneout), got 0.5"],
    ];
    for (const [layer, message] of cases) expectError(() => exportONNX(layer), RangeError, message);
  });

  test('opset outside 9..22, not an integer, or not a number', () => {
    const layer = new RNN(base);
    for (const [opset, given] of [[8, '8'], [23, '23'], [14.5, '14.5'], [NaN, 'NaN']] as const) {
      expectError(() => exportONNX(layer, { opset }), RangeError, `exportONNX: opset must be an integer in 9..22, got ${given}`);
    }
    expectError(() => exportONNX(layer, { opset: '14' as unknown as number }), TypeError, 'exportONNX: opset must be an integer in 9..22, got "14"');
  });

  test('options: an object holding only opset', () => {
    const layer = new RNN(base);
    expectError(() => exportONNX(layer, { opst: 14 } as never), TypeError, 'exportONNX: unknown options key "opst"; expected opset');
    expectError(() => exportONNX(layer, 14 as never), TypeError, 'exportONNX: options must be an object with some of opset, got 14');
  });

  test('a non-layer argument', () => {
    const messages: [unknown, string][] = [
      [undefined, 'undefined'],
      [{}, 'an object'],
      [new LSTMCell({ inputSize: 3, hiddenSize: 4 }), 'a LSTMCell'],
      [new Uint8Array(4), 'Uint8Array(4)'],
    ];
    for (const [value, given] of messages) {
      expectError(() => exportONNX(value as Layer), TypeError, `exportONNX: layer must be an LSTM, GRU or RNN, got ${given}`);
    }
  });
});
