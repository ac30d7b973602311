// The single-step cells (SPEC §2: LSTMCell, GRUCell, RNNCell), on every backend that loads:
// - a cell is one step of the corresponding layer: with the same weights (named _l0 there) its
//   forward and backward equal the one-step layer's bit for bit;
// - its gradients agree with central differences of the float64 reference run as a T = 1 layer;
// - a decoding loop of cells over a sequence equals the layer over that sequence, forward and
//   backward (the loop's backward chains each step's dh0/dc0 into the step before);
// - tapes: when a forward gives one, and every way of misusing one;
// - every bad argument is the TypeError/RangeError of SPEC §5 with its exact message;
// - parameters have PyTorch's names and shapes; stateDict/loadStateDict use them.
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell, type Tape, Tensor } from '../src';
import type { RecurrentCell } from '../src/layers/cells';
import type { RecurrentLayer } from '../src/layers/recurrent';
import { Rng } from '../src/random';
import { backendRows, selectBackend } from './helpers/backends';
import { GRAD_TOL, OUTPUT_TOL, mismatch } from './helpers/fixtures';
import { bitsProblem, randomTensor, refConfig } from './helpers/variants';
import { centralDifference } from './reference/finiteDifference';
import { type Mode, refForward, refLoss } from './reference/rnn64';

const noProblems = (problems: string[]) => expect(problems.filter((p) => p !== '')).toEqual([]);

interface Kind {
  name: string;
  mode: Mode;
  linearBeforeReset?: boolean;
  cell: (o: { inputSize: number; hiddenSize: number; bias?: boolean; seed?: number }) => RecurrentCell;
  layer: (o: { inputSize: number; hiddenSize: number; bias?: boolean }) => RecurrentLayer;
}

const kinds: Kind[] = [
  { name: 'LSTMCell', mode: 'LSTM', cell: (o) => new LSTMCell(o), layer: (o) => new LSTM(o) },
  { name: 'GRUCell', mode: 'GRU', cell: (o) => new GRUCell(o), layer: (o) => new GRU(o) },
  {
    name: 'GRUCell reset-before-linear',
    mode: 'GRU',
    linearBeforeReset: false,
    cell: (o) => new GRUCell({ ...o, linearBeforeReset: false }),
    layer: (o) => new GRU({ ...o, linearBeforeReset: false }),
  },
  { name: 'RNNCell tanh', mode: 'RNN_TANH', cell: (o) => new RNNCell(o), layer: (o) => new RNN(o) },
  {
    name: 'RNNCell relu',
    mode: 'RNN_RELU',
    cell: (o) => new RNNCell({ ...o, nonlinearity: 'relu' }),
    layer: (o) => new RNN({ ...o, nonlinearity: 'relu' }),
  },
];
const rows = kinds.flatMap((k) => [true, false].map((bias) => ({ ...k, bias })));

const I = 5;
const H = 6;
const B = 3;

/** A cell and a one-layer, one-direction layer holding the same weights (cell names + _l0). */
function pair(k: Kind, bias: boolean): { cell: RecurrentCell; layer: RecurrentLayer } {
  const cell = k.cell({ inputSize: I, hiddenSize: H, bias, seed: 11 });
  const layer = k.layer({ inputSize: I, hiddenSize: H, bias });
  layer.loadStateDict(new Map([...cell.stateDict()].map(([n, t]) => [`${n}_l0`, t])));
  return { cell, layer };
}

/** [B, n] as [1, B, n] (one step, or one state slab), sharing nothing. */
const asStep = (t: Tensor) => new Tensor(t.data.slice(), [1, ...t.shape]);

describe.each(backendRows())('cells on %s', (backend) => {
  beforeAll(() => selectBackend(backend));

  test.each(rows)('$name (bias $bias) equals the one-step layer bit for bit, forward and backward', (k) => {
    const { cell, layer } = pair(k, k.bias);
    const lstm = k.mode === 'LSTM';
    const rng = new Rng(5);
    const x = randomTensor(rng, [B, I]);
    const h0 = randomTensor(rng, [B, H]);
    const c0 = lstm ? randomTensor(rng, [B, H]) : undefined;
    const dh = randomTensor(rng, [B, H]);
    const dc = lstm ? randomTensor(rng, [B, H]) : undefined;

    const fc = cell.forward(x, { h0, c0, training: true });
    const fl = layer.forward(asStep(x), { h0: asStep(h0), c0: c0 && asStep(c0), training: true });
    const problems = [bitsProblem('h = output', fc.h.data, fl.output.data), bitsProblem('h = hN', fc.h.data, fl.hN.data)];
    problems.push(lstm ? bitsProblem('c = cN', fc.c!.data, fl.cN!.data) : fc.c === undefined ? '' : 'c from a cell without cell state');
    expect(fc.h.shape).toEqual([B, H]);

    const gc = cell.backward(fc.tape!, { dh, dc });
    const gl = layer.backward(fl.tape!, { dhN: asStep(dh), dcN: dc && asStep(dc) });
    problems.push(bitsProblem('dInput', gc.dInput.data, gl.dInput.data), bitsProblem('dh0', gc.dh0.data, gl.dh0.data));
    problems.push(lstm ? bitsProblem('dc0', gc.dc0!.data, gl.dc0!.data) : gc.dc0 === undefined ? '' : 'dc0 from a cell without cell state');
    expect(gc.dInput.shape).toEqual([B, I]);
    const layerGrads = layer.gradients();
    for (const [name, g] of cell.gradients()) problems.push(bitsProblem(`grad.${name}`, g.data, layerGrads.get(`${name}_l0`)!.data));
    // A missing state is zeros, as for the layer.
    problems.push(bitsProblem('h without h0', cell.forward(x).h.data, layer.forward(asStep(x)).hN.data));
    noProblems(problems);
  });

  test.each(rows)('$name (bias $bias) gradients against finite differences of the float64 reference', (k) => {
    const cell = k.cell({ inputSize: I, hiddenSize: H, bias: k.bias, seed: 12 });
    const lstm = k.mode === 'LSTM';
    const rng = new Rng(6);
    const x = randomTensor(rng, [B, I]);
    const h0 = randomTensor(rng, [B, H]);
    const c0 = lstm ? randomTensor(rng, [B, H]) : undefined;
    const dh = randomTensor(rng, [B, H]);
    const dc = lstm ? randomTensor(rng, [B, H]) : undefined;
    const { h, c, tape } = cell.forward(x, { h0, c0, training: true });
    const g = cell.backward(tape!, { dh, dc });

    // The cell as a layer of one step: its hN and cN are the cell's h and c.
    const cfg = refConfig({ mode: k.mode, inputSize: I, hiddenSize: H, bias: k.bias, linearBeforeReset: k.linearBeforeReset ?? true });
    const params = new Map([...cell.parameters()].map(([n, t]) => [`${n}_l0`, Float64Array.from(t.data)]));
    const inputs = { input: Float64Array.from(x.data), T: 1, B, h0: Float64Array.from(h0.data), c0: c0 && Float64Array.from(c0.data) };
    const ref = refForward(cfg, params, inputs);
    const problems = [mismatch('h', h.data, ref.hN, OUTPUT_TOL)];
    if (lstm) problems.push(mismatch('c', c!.data, ref.cN!, OUTPUT_TOL));
    const loss = () => refLoss(refForward(cfg, params, inputs), undefined, Float64Array.from(dh.data), dc && Float64Array.from(dc.data));
    const targets: [string, Float64Array, ArrayLike<number>][] = [
      ['input', inputs.input, g.dInput.data],
      ['h0', inputs.h0, g.dh0.data],
    ];
    if (inputs.c0) targets.push(['c0', inputs.c0, g.dc0!.data]);
    for (const [name, t] of cell.gradients()) targets.push([name, params.get(`${name}_l0`)!, t.data]);
    for (const [name, values, analytic] of targets) problems.push(mismatch(`d${name}`, analytic, centralDifference(loss, values), GRAD_TOL));
    noProblems(problems);
  });

  test.each(kinds)('a decoding loop of $name over 6 steps equals the layer over the sequence', (k) => {
    const { cell, layer } = pair(k, true);
    const lstm = k.mode === 'LSTM';
    const T = 6;
    const rng = new Rng(7);
    const x = randomTensor(rng, [T, B, I]);
    const h0 = randomTensor(rng, [1, B, H]);
    const c0 = lstm ? randomTensor(rng, [1, B, H]) : undefined;
    const dOutput = randomTensor(rng, [T, B, H]);
    const dhN = randomTensor(rng, [1, B, H]);
    const dcN = lstm ? randomTensor(rng, [1, B, H]) : undefined;
    const slab = (t: Tensor, i: number) => new Tensor(t.data.slice(i * B * t.shape[2], (i + 1) * B * t.shape[2]), [B, t.shape[2]]);

    // Forward: feed each step's state into the next.
    let h = slab(h0, 0);
    let c = c0 && slab(c0, 0);
    const tapes: Tape[] = [];
    const outs: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const f = cell.forward(slab(x, t), { h0: h, c0: c, training: true });
      tapes.push(f.tape!);
      outs.push(f.h);
      h = f.h;
      c = f.c;
    }
    const whole = layer.forward(x, { h0, c0, training: true });
    const problems = [
      mismatch('output', outs.flatMap((o) => Array.from(o.data)), whole.output.data, OUTPUT_TOL),
      mismatch('hN', h.data, whole.hN.data, OUTPUT_TOL),
    ];
    if (lstm) problems.push(mismatch('cN', c!.data, whole.cN!.data, OUTPUT_TOL));

    // Backward: step t receives its output gradient plus what step t + 1 sent to its initial state.
    let dh = slab(dhN, 0);
    let dc = dcN && slab(dcN, 0);
    const dInput: number[][] = [];
    for (let t = T - 1; t >= 0; t--) {
      const dStep = new Tensor(slab(dOutput, t).data.map((v, i) => v + dh.data[i]), [B, H]);
      const g = cell.backward(tapes[t], { dh: dStep, dc });
      dInput[t] = Array.from(g.dInput.data);
      dh = g.dh0;
      dc = g.dc0;
    }
    const gw = layer.backward(whole.tape!, { dOutput, dhN, dcN });
    problems.push(mismatch('dInput', dInput.flat(), gw.dInput.data, GRAD_TOL), mismatch('dh0', dh.data, gw.dh0.data, GRAD_TOL));
    if (lstm) problems.push(mismatch('dc0', dc!.data, gw.dc0!.data, GRAD_TOL));
    const layerGrads = layer.gradients();
    for (const [name, g] of cell.gradients()) problems.push(mismatch(`grad.${name}`, g.data, layerGrads.get(`${name}_l0`)!.data, GRAD_TOL));
    noProblems(problems);
  });

  test('a tape comes from training: true or tape: true, not from inference', () => {
    const cell = new LSTMCell({ inputSize: I, hiddenSize: H });
    const x = Tensor.zeros([B, I]);
    expect(cell.forward(x).tape).toBeUndefined();
    expect(cell.forward(x, { training: false }).tape).toBeUndefined();
    expect(cell.forward(x, { training: true, tape: false }).tape).toBeUndefined();
    expect(cell.forward(x, { training: true }).tape).toBeDefined();
    // A cell has no dropout: the evaluation-mode tape gives the same numbers as training.
    const a = cell.forward(x, { tape: true });
    const b = cell.forward(x, { training: true });
    expect(bitsProblem('h', a.h.data, b.h.data)).toBe('');
    const dh = new Tensor(new Float32Array(B * H).fill(0.5), [B, H]);
    expect(bitsProblem('dInput', cell.backward(a.tape!, { dh }).dInput.data, cell.backward(b.tape!, { dh }).dInput.data)).toBe('');
  });
});

type Ctor = typeof TypeError | typeof RangeError;

describe('cell errors (SPEC §5)', () => {
  const lstm = new LSTMCell({ inputSize: 3, hiddenSize: 4 });
  const gru = new GRUCell({ inputSize: 3, hiddenSize: 4 });
  const rnn = new RNNCell({ inputSize: 3, hiddenSize: 4 });
  const x = Tensor.zeros([2, 3]);
  const state = Tensor.zeros([2, 4]);

  const construction: [string, () => unknown, Ctor, RegExp][] = [
    ['hiddenSize 0', () => new LSTMCell({ inputSize: 3, hiddenSize: 0 }), RangeError, /^LSTMCell: hiddenSize must be a positive integer, got 0$/],
    ['inputSize string', () => new GRUCell({ inputSize: '3' as any, hiddenSize: 4 }), TypeError, /^GRUCell: inputSize must be a positive integer, got "3"$/],
    ['options missing', () => new RNNCell(undefined as any), TypeError, /^RNNCell: options must be an object with inputSize and hiddenSize, got undefined$/],
    ['a layer option', () => new LSTMCell({ inputSize: 3, hiddenSize: 4, numLayers: 2 } as any), TypeError, /^LSTMCell: unknown option "numLayers"; the options are inputSize, hiddenSize, bias, seed$/],
    ['a variant', () => new LSTMCell({ inputSize: 3, hiddenSize: 4, zoneout: 0.1 } as any), TypeError, /^LSTMCell: unknown option "zoneout"; the options are inputSize, hiddenSize, bias, seed$/],
    ['projSize', () => new LSTMCell({ inputSize: 3, hiddenSize: 4, projSize: 2 } as any), TypeError, /^LSTMCell: unknown option "projSize"/],
    ['GRU option on RNNCell', () => new RNNCell({ inputSize: 3, hiddenSize: 4, linearBeforeReset: false } as any), TypeError, /^RNNCell: unknown option "linearBeforeReset"; the options are inputSize, hiddenSize, bias, seed, nonlinearity$/],
    ['nonlinearity', () => new RNNCell({ inputSize: 3, hiddenSize: 4, nonlinearity: 'gelu' as any }), RangeError, /^RNNCell: nonlinearity must be "tanh" or "relu", got "gelu"$/],
    ['bias not boolean', () => new GRUCell({ inputSize: 3, hiddenSize: 4, bias: 0 as any }), TypeError, /^GRUCell: bias must be a boolean, got 0$/],
  ];
  const forward: [string, () => unknown, Ctor, RegExp][] = [
    ['input rank 3', () => lstm.forward(Tensor.zeros([1, 2, 3])), RangeError, /^LSTMCell.forward: input must be a Tensor \[B, inputSize\] with inputSize = 3 and B ≥ 1, got shape \[1, 2, 3\]$/],
    ['input features', () => gru.forward(Tensor.zeros([2, 4])), RangeError, /^GRUCell.forward: input must be a Tensor \[B, inputSize\] with inputSize = 3 and B ≥ 1, got shape \[2, 4\]$/],
    ['input with no rows', () => rnn.forward(Tensor.zeros([0, 3])), RangeError, /^RNNCell.forward: input must be a Tensor \[B, inputSize\] with inputSize = 3 and B ≥ 1, got shape \[0, 3\]$/],
    ['input int32', () => lstm.forward(new Tensor(new Int32Array(6), [2, 3])), TypeError, /^LSTMCell.forward: input must be a float32 Tensor \[B, inputSize\], got an int32 Tensor of shape \[2, 3\]$/],
    ['input not a Tensor', () => lstm.forward(new Float32Array(6) as any), TypeError, /^LSTMCell.forward: input must be a float32 Tensor \[B, inputSize\], got Float32Array\(6\)$/],
    ['h0 of a layer\'s shape', () => lstm.forward(x, { h0: Tensor.zeros([1, 2, 4]) }), RangeError, /^LSTMCell.forward: h0 must be a float32 Tensor \[B, hiddenSize\] = \[2, 4\], got shape \[1, 2, 4\]$/],
    ['h0 of another batch', () => gru.forward(x, { h0: Tensor.zeros([3, 4]) }), RangeError, /^GRUCell.forward: h0 must be a float32 Tensor \[B, hiddenSize\] = \[2, 4\], got shape \[3, 4\]$/],
    ['h0 transposed', () => lstm.forward(x, { h0: Tensor.zeros([4, 2]) }), RangeError, /^LSTMCell.forward: h0 must be a float32 Tensor \[B, hiddenSize\] = \[2, 4\], got shape \[4, 2\]$/],
    ['c0 wrong width', () => lstm.forward(x, { c0: Tensor.zeros([2, 5]) }), RangeError, /^LSTMCell.forward: c0 must be a float32 Tensor \[B, hiddenSize\] = \[2, 4\], got shape \[2, 5\]$/],
    ['h0 not a Tensor', () => rnn.forward(x, { h0: new Float32Array(8) as any }), TypeError, /^RNNCell.forward: h0 must be a float32 Tensor \[B, hiddenSize\] = \[2, 4\], got Float32Array\(8\)$/],
    ['c0 on GRUCell', () => gru.forward(x, { c0: state }), TypeError, /^GRUCell.forward: c0 must be undefined \(GRUCell has no cell state\), got a float32 Tensor of shape \[2, 4\]$/],
    ['c0 on RNNCell', () => rnn.forward(x, { c0: state }), TypeError, /^RNNCell.forward: c0 must be undefined \(RNNCell has no cell state\), got a float32 Tensor of shape \[2, 4\]$/],
    ['a layer\'s forward option', () => lstm.forward(x, { lengths: [1, 1] } as any), TypeError, /^LSTMCell.forward: unknown options key "lengths"; expected h0, c0, training, tape$/],
    ['training not boolean', () => lstm.forward(x, { training: 1 as any }), TypeError, /^LSTMCell.forward: training must be a boolean, got 1$/],
    ['tape not boolean', () => gru.forward(x, { tape: 'yes' as any }), TypeError, /^GRUCell.forward: tape must be a boolean, got "yes"$/],
  ];
  test.each([...construction, ...forward])('%s', (_name, fn, ctor, message) => {
    expect(fn).toThrow(ctor);
    expect(fn).toThrow(message);
  });

  test('backward gradients: shapes, dc on cells without cell state, unknown keys', () => {
    const l = lstm.forward(x, { training: true }).tape!;
    const g = gru.forward(x, { training: true }).tape!;
    const r = rnn.forward(x, { training: true }).tape!;
    const cases: [() => unknown, Ctor, RegExp][] = [
      [() => lstm.backward(l, { dh: Tensor.zeros([2, 5]) }), RangeError, /^LSTMCell.backward: dh must be a float32 Tensor \[B, hiddenSize\] = \[2, 4\], got shape \[2, 5\]$/],
      [() => lstm.backward(l, { dc: Tensor.zeros([1, 2, 4]) }), RangeError, /^LSTMCell.backward: dc must be a float32 Tensor \[B, hiddenSize\] = \[2, 4\], got shape \[1, 2, 4\]$/],
      [() => gru.backward(g, { dc: state }), TypeError, /^GRUCell.backward: dc must be undefined \(GRUCell has no cell state\), got a float32 Tensor of shape \[2, 4\]$/],
      [() => rnn.backward(r, { dc: state }), TypeError, /^RNNCell.backward: dc must be undefined \(RNNCell has no cell state\), got a float32 Tensor of shape \[2, 4\]$/],
      [() => lstm.backward(l, { dhN: state } as any), TypeError, /^LSTMCell.backward: unknown gradients key "dhN"; expected dh, dc$/],
    ];
    for (const [fn, ctor, message] of cases) {
      expect(fn).toThrow(ctor);
      expect(fn).toThrow(message);
    }
    // A rejected backward leaves the tape usable.
    for (const [cell, tape] of [[lstm, l], [gru, g], [rnn, r]] as const) expect(() => cell.backward(tape, { dh: state })).not.toThrow();
  });

  test('tapes: used twice, from another cell, from a layer, from a forward without training or tape', async () => {
    const tape = lstm.forward(x, { training: true }).tape!;
    lstm.backward(tape, {});
    expect(() => lstm.backward(tape, {})).toThrow(TypeError);
    expect(() => lstm.backward(tape, {})).toThrow(/^LSTMCell.backward: tape must be a Tape not yet used \(each serves one backward\), got a Tape already used$/);
    const other = new LSTMCell({ inputSize: 3, hiddenSize: 4 }).forward(x, { training: true }).tape!;
    expect(() => lstm.backward(other, {})).toThrow(TypeError);
    expect(() => lstm.backward(other, {})).toThrow(/^LSTMCell.backward: tape must be a Tape from this LSTMCell's forward, got a Tape from another layer$/);
    const layerTape = new LSTM({ inputSize: 3, hiddenSize: 4 }).forward(Tensor.zeros([1, 2, 3]), { training: true }).tape!;
    expect(() => lstm.backward(layerTape, {})).toThrow(/^LSTMCell.backward: tape must be the Tape of a forward with training: true or tape: true, got a RecurrentTape$/);
    const inference = lstm.forward(x);
    expect(() => lstm.backward(inference.tape!, {})).toThrow(TypeError);
    expect(() => lstm.backward(inference.tape!, {})).toThrow(/^LSTMCell.backward: tape must be the Tape of a forward with training: true or tape: true, got undefined$/);
    // And a cell's tape is no layer's.
    const layer = new LSTM({ inputSize: 3, hiddenSize: 4 });
    expect(() => layer.backward(lstm.forward(x, { training: true }).tape!, {})).toThrow(/^LSTM.backward: tape must be the Tape of a forward with training: true or tape: true, got a CellTape$/);
    // The async twins reject alike.
    const used = (await lstm.forwardAsync(x, { training: true })).tape!;
    await lstm.backwardAsync(used, {});
    await expect(lstm.backwardAsync(used, {})).rejects.toThrow(/^LSTMCell.backwardAsync: tape must be a Tape not yet used/);
    await expect(lstm.forwardAsync(Tensor.zeros([2, 4]))).rejects.toThrow(/^LSTMCell.forwardAsync: input must be a Tensor \[B, inputSize\]/);
  });
});

describe('cell parameters and state dicts', () => {
  const shapes = (m: { parameters(): Map<string, Tensor> }) => Object.fromEntries([...m.parameters()].map(([n, t]) => [n, t.shape]));

  test('PyTorch\'s names and shapes, without the _l0 suffix', () => {
    expect(shapes(new LSTMCell({ inputSize: 3, hiddenSize: 4 }))).toEqual({ weight_ih: [16, 3], weight_hh: [16, 4], bias_ih: [16], bias_hh: [16] });
    expect(shapes(new GRUCell({ inputSize: 5, hiddenSize: 2, bias: false }))).toEqual({ weight_ih: [6, 5], weight_hh: [6, 2] });
    expect(shapes(new RNNCell({ inputSize: 1, hiddenSize: 7, nonlinearity: 'relu' }))).toEqual({ weight_ih: [7, 1], weight_hh: [7, 7], bias_ih: [7], bias_hh: [7] });
    const cell = new GRUCell({ inputSize: 5, hiddenSize: 2 });
    expect(shapes({ parameters: () => cell.gradients() })).toEqual(shapes(cell));
  });

  test('default init is uniform(-1/sqrt(H), 1/sqrt(H)) and follows the seed', () => {
    const bound = 1 / Math.sqrt(16);
    const values = [...new LSTMCell({ inputSize: 8, hiddenSize: 16 }).parameters().values()].flatMap((t) => Array.from(t.data));
    expect(Math.max(...values)).toBeLessThan(bound);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-bound);
    expect(Math.max(...values)).toBeGreaterThan(0.9 * bound);
    const w = (seed?: number) => new LSTMCell({ inputSize: 8, hiddenSize: 16, seed }).parameters().get('weight_hh')!.data;
    expect(w()).toEqual(w());
    expect(w(1)).not.toEqual(w(2));
  });

  test('stateDict copies under PyTorch names; loadStateDict takes them, prefixed too, and rejects a layer\'s', () => {
    const source = new GRUCell({ inputSize: 3, hiddenSize: 4, seed: 1 });
    const target = new GRUCell({ inputSize: 3, hiddenSize: 4, seed: 2 });
    const x = new Tensor(Float32Array.from({ length: 6 }, (_, i) => Math.sin(i)), [2, 3]);
    const sd = source.stateDict();
    expect([...sd.keys()]).toEqual(['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']);
    sd.get('weight_ih')!.data[0] = 99;
    expect(source.parameters().get('weight_ih')!.data[0]).not.toBe(99);

    const before = target.forward(x).h.data;
    target.loadStateDict(new Map([...source.stateDict()].map(([n, t]) => [`decoder.cell.${n}`, t])), { prefix: 'decoder.cell.' });
    expect(target.forward(x).h.data).not.toEqual(before);
    expect(target.forward(x).h.data).toEqual(source.forward(x).h.data);

    const layerDict = new GRU({ inputSize: 3, hiddenSize: 4 }).stateDict();
    expect(() => target.loadStateDict(layerDict)).toThrow(RangeError);
    expect(() => target.loadStateDict(layerDict)).toThrow(/^GRUCell.loadStateDict: d must hold every parameter \(strict\), missing "weight_ih", "weight_hh", "bias_ih", "bias_hh"$/);
    const misshaped = new Map(source.stateDict()).set('weight_hh', Tensor.zeros([12, 3]));
    expect(() => target.loadStateDict(misshaped)).toThrow(/^GRUCell.loadStateDict: d\["weight_hh"\] must be of shape \[12, 4\], got shape \[12, 3\]$/);
  });

  test('in-place edits are visible at the next call, announced by parametersChanged or not', () => {
    const cell = new RNNCell({ inputSize: 3, hiddenSize: 4 });
    const x = new Tensor(Float32Array.from([1, 2, 3]), [1, 3]);
    const before = cell.forward(x).h.data;
    cell.parameters().get('weight_ih')!.data.fill(0.25);
    const unannounced = cell.forward(x).h.data;
    expect(unannounced).not.toEqual(before);
    cell.parametersChanged();
    expect(cell.forward(x).h.data).toEqual(unannounced);
  });
});
