// SPEC §5: every bad input is a TypeError or RangeError naming the argument, what was expected and
// what was given. Each case asserts the class and the message. (The cells' errors are in
// test/cells.test.ts; the backends' own checks in test/native-boundary.test.ts and test/wasm-boundary.test.ts.)
import { GRU, LSTM, RNN, Tensor, setNumThreads, useBackend } from '../src';
import { backendRows, selectBackend } from './helpers/backends';

type Ctor = typeof TypeError | typeof RangeError;
const t3 = (T: number, B: number, F: number) => Tensor.zeros([T, B, F]);

describe('layer options', () => {
  const cases: [string, () => unknown, Ctor, RegExp][] = [
    ['inputSize 0', () => new LSTM({ inputSize: 0, hiddenSize: 4 }), RangeError, /^LSTM: inputSize must be a positive integer, got 0$/],
    ['inputSize 2.5', () => new GRU({ inputSize: 2.5, hiddenSize: 4 }), RangeError, /^GRU: inputSize must be a positive integer, got 2.5$/],
    ['inputSize string', () => new RNN({ inputSize: '3' as any, hiddenSize: 4 }), TypeError, /^RNN: inputSize must be a positive integer, got "3"$/],
    ['hiddenSize missing', () => new LSTM({ inputSize: 3 } as any), TypeError, /^LSTM: hiddenSize must be a positive integer, got undefined$/],
    ['hiddenSize -1', () => new LSTM({ inputSize: 3, hiddenSize: -1 }), RangeError, /hiddenSize must be a positive integer, got -1$/],
    ['numLayers 0', () => new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 0 }), RangeError, /^GRU: numLayers must be a positive integer, got 0$/],
    ['numLayers NaN', () => new GRU({ inputSize: 3, hiddenSize: 4, numLayers: NaN }), RangeError, /numLayers must be a positive integer, got NaN$/],
    ['projSize -2', () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: -2 }), RangeError, /^LSTM: projSize must be an integer in 0..3 \(0: none; below hiddenSize = 4\), got -2$/],
    ['projSize 1.5', () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 1.5 }), RangeError, /projSize must be an integer in 0..3 \(0: none; below hiddenSize = 4\), got 1.5$/],
    ['projSize = hiddenSize', () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 4 }), RangeError, /^LSTM: projSize must be an integer in 0..3 \(0: none; below hiddenSize = 4\), got 4$/],
    ['projSize string', () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: '2' as any }), TypeError, /^LSTM: projSize must be an integer in 0..3 \(0: none; below hiddenSize = 4\), got "2"$/],
    ['projSize > hiddenSize', () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 9 }), RangeError, /projSize must be an integer in 0..3 .*got 9$/],
    ['dropout 1', () => new LSTM({ inputSize: 3, hiddenSize: 4, dropout: 1 }), RangeError, /^LSTM: dropout must be a number in \[0, 1\), got 1$/],
    ['dropout -0.1', () => new GRU({ inputSize: 3, hiddenSize: 4, dropout: -0.1 }), RangeError, /dropout must be a number in \[0, 1\), got -0.1$/],
    ['dropout string', () => new GRU({ inputSize: 3, hiddenSize: 4, dropout: '0.1' as any }), TypeError, /dropout must be a number in \[0, 1\), got "0.1"$/],
    ['nonlinearity sigmoid', () => new RNN({ inputSize: 3, hiddenSize: 4, nonlinearity: 'sigmoid' as any }), RangeError, /^RNN: nonlinearity must be "tanh" or "relu", got "sigmoid"$/],
    ['nonlinearity number', () => new RNN({ inputSize: 3, hiddenSize: 4, nonlinearity: 1 as any }), TypeError, /nonlinearity must be "tanh" or "relu", got 1$/],
    ['bias not boolean', () => new RNN({ inputSize: 3, hiddenSize: 4, bias: 1 as any }), TypeError, /^RNN: bias must be a boolean, got 1$/],
    ['unknown option', () => new LSTM({ inputSize: 3, hiddenSize: 4, hidden_size: 4 } as any), TypeError, /^LSTM: unknown option "hidden_size"; the options are inputSize, hiddenSize/],
    ['GRU option on LSTM', () => new LSTM({ inputSize: 3, hiddenSize: 4, linearBeforeReset: false } as any), TypeError, /unknown option "linearBeforeReset"/],
    ['options missing', () => new LSTM(undefined as any), TypeError, /^LSTM: options must be an object with inputSize and hiddenSize, got undefined$/],
    ['seed fractional', () => new LSTM({ inputSize: 3, hiddenSize: 4, seed: 0.5 }), RangeError, /^LSTM: seed must be an integer, got 0.5$/],
    // The seed's variants (SPEC §3a): probabilities in [0, 1], 1 included.
    ['zoneout above 1', () => new LSTM({ inputSize: 3, hiddenSize: 4, zoneout: 1.5 }), RangeError, /^LSTM: zoneout must be a number in \[0, 1\], got 1.5$/],
    ['zoneout negative', () => new GRU({ inputSize: 3, hiddenSize: 4, zoneout: -0.1 }), RangeError, /^GRU: zoneout must be a number in \[0, 1\], got -0.1$/],
    ['zoneout NaN', () => new RNN({ inputSize: 3, hiddenSize: 4, zoneout: NaN }), RangeError, /^RNN: zoneout must be a number in \[0, 1\], got NaN$/],
    ['zoneout string', () => new LSTM({ inputSize: 3, hiddenSize: 4, zoneout: '0.1' as any }), TypeError, /^LSTM: zoneout must be a number in \[0, 1\] or an object \{ hidden, cell \}, got "0.1"$/],
    ['zoneout null', () => new GRU({ inputSize: 3, hiddenSize: 4, zoneout: null as any }), TypeError, /^GRU: zoneout must be a number in \[0, 1\] or an object \{ hidden \}, got null$/],
    ['zoneout array', () => new LSTM({ inputSize: 3, hiddenSize: 4, zoneout: [0.1, 0.2] as any }), TypeError, /^LSTM: zoneout must be a number in \[0, 1\] or an object \{ hidden, cell \}, got \[0.1, 0.2\]$/],
    ['zoneout unknown key', () => new LSTM({ inputSize: 3, hiddenSize: 4, zoneout: { hiden: 0.1 } as any }), TypeError, /^LSTM: unknown zoneout key "hiden"; expected hidden or cell$/],
    ['zoneout.cell on GRU', () => new GRU({ inputSize: 3, hiddenSize: 4, zoneout: { hidden: 0.1, cell: 0.1 } as any }), TypeError, /^GRU: unknown zoneout key "cell" \(only LSTM has a cell state\); expected hidden$/],
    ['zoneout.cell 0 on RNN', () => new RNN({ inputSize: 3, hiddenSize: 4, zoneout: { cell: 0 } as any }), TypeError, /^RNN: unknown zoneout key "cell" \(only LSTM has a cell state\); expected hidden$/],
    ['zoneout.hidden above 1', () => new LSTM({ inputSize: 3, hiddenSize: 4, zoneout: { hidden: 2 } }), RangeError, /^LSTM: zoneout.hidden must be a number in \[0, 1\], got 2$/],
    ['zoneout.cell negative', () => new LSTM({ inputSize: 3, hiddenSize: 4, zoneout: { cell: -0.5 } }), RangeError, /^LSTM: zoneout.cell must be a number in \[0, 1\], got -0.5$/],
    ['zoneout.cell string', () => new LSTM({ inputSize: 3, hiddenSize: 4, zoneout: { cell: '0.5' as any } }), TypeError, /^LSTM: zoneout.cell must be a number in \[0, 1\], got "0.5"$/],
    ['zoneout.hidden NaN', () => new GRU({ inputSize: 3, hiddenSize: 4, zoneout: { hidden: NaN } }), RangeError, /^GRU: zoneout.hidden must be a number in \[0, 1\], got NaN$/],
    ['recurrentDropout above 1', () => new LSTM({ inputSize: 3, hiddenSize: 4, recurrentDropout: 1.01 }), RangeError, /^LSTM: recurrentDropout must be a number in \[0, 1\], got 1.01$/],
    ['recurrentDropout negative', () => new GRU({ inputSize: 3, hiddenSize: 4, recurrentDropout: -1 }), RangeError, /^GRU: recurrentDropout must be a number in \[0, 1\], got -1$/],
    ['recurrentDropout Infinity', () => new RNN({ inputSize: 3, hiddenSize: 4, recurrentDropout: Infinity }), RangeError, /^RNN: recurrentDropout must be a number in \[0, 1\], got Infinity$/],
    ['recurrentDropout boolean', () => new LSTM({ inputSize: 3, hiddenSize: 4, recurrentDropout: true as any }), TypeError, /^LSTM: recurrentDropout must be a number in \[0, 1\], got true$/],
    ['weightDropout above 1', () => new RNN({ inputSize: 3, hiddenSize: 4, weightDropout: 2 }), RangeError, /^RNN: weightDropout must be a number in \[0, 1\], got 2$/],
    ['weightDropout NaN', () => new LSTM({ inputSize: 3, hiddenSize: 4, weightDropout: NaN }), RangeError, /^LSTM: weightDropout must be a number in \[0, 1\], got NaN$/],
    ['weightDropout string', () => new GRU({ inputSize: 3, hiddenSize: 4, weightDropout: '0.5' as any }), TypeError, /^GRU: weightDropout must be a number in \[0, 1\], got "0.5"$/],
    ['residual not boolean', () => new LSTM({ inputSize: 3, hiddenSize: 4, residual: 1 as any }), TypeError, /^LSTM: residual must be a boolean, got 1$/],
    ['residual string', () => new GRU({ inputSize: 3, hiddenSize: 4, residual: 'true' as any }), TypeError, /^GRU: residual must be a boolean, got "true"$/],
  ];
  test.each(cases)('%s', (_name, fn, ctor, message) => {
    expect(fn).toThrow(ctor);
    expect(fn).toThrow(message);
  });

  test('the variants accept every probability in [0, 1], both ends included', () => {
    for (const p of [0, 0.5, 1]) {
      expect(() => new LSTM({ inputSize: 3, hiddenSize: 4, zoneout: p, recurrentDropout: p, weightDropout: p })).not.toThrow();
      expect(() => new LSTM({ inputSize: 3, hiddenSize: 4, zoneout: { hidden: p, cell: p } })).not.toThrow();
      expect(() => new GRU({ inputSize: 3, hiddenSize: 4, zoneout: { hidden: p } })).not.toThrow();
      expect(() => new RNN({ inputSize: 3, hiddenSize: 4, zoneout: p, residual: true })).not.toThrow();
    }
    // A number sets both probabilities of an LSTM, only h's of a GRU/RNN; an object's missing key is 0.
    expect(new LSTM({ inputSize: 3, hiddenSize: 4, zoneout: 0.25 }).zoneout).toEqual({ hidden: 0.25, cell: 0.25 });
    expect(new GRU({ inputSize: 3, hiddenSize: 4, zoneout: 0.25 }).zoneout).toEqual({ hidden: 0.25, cell: 0 });
    expect(new LSTM({ inputSize: 3, hiddenSize: 4, zoneout: { cell: 0.5 } }).zoneout).toEqual({ hidden: 0, cell: 0.5 });
  });
});

describe('Tensor', () => {
  const cases: [string, () => unknown, Ctor, RegExp][] = [
    ['shape disagrees with data', () => new Tensor(new Float32Array(5), [2, 3]), RangeError, /^Tensor: shape \[2, 3\] holds 6 elements but data has 5 \(Float32Array\(5\)\)$/],
    ['negative dimension', () => new Tensor(new Float32Array(0), [2, -1]), RangeError, /^Tensor: shape\[1\] must be a non-negative integer, got -1$/],
    ['a dimension that is not a number', () => new Tensor(new Float32Array(5), ['5' as any]), TypeError, /^Tensor: shape\[0\] must be a non-negative integer, got "5"$/],
    ['fractional dimension', () => new Tensor(new Float32Array(3), [1.5, 2]), RangeError, /shape\[0\] must be a non-negative integer, got 1.5$/],
    ['Float64Array data', () => new Tensor(new Float64Array(4) as any, [4]), TypeError, /^Tensor: data must be a Float32Array or Int32Array, got Float64Array\(4\)$/],
    ['plain array data', () => new Tensor([1, 2] as any, [2]), TypeError, /data must be a Float32Array or Int32Array, got \[1, 2\]$/],
    ['shape not an array', () => new Tensor(new Float32Array(2), 2 as any), TypeError, /^Tensor: shape must be an array of non-negative integers, got 2$/],
    ['zeros with a negative dimension', () => Tensor.zeros([-3]), RangeError, /^Tensor.zeros: shape\[0\] must be a non-negative integer, got -3$/],
    ['an ArrayBuffer as data (the article fits the word)', () => new Tensor(new ArrayBuffer(8) as any, [2]), TypeError, /data must be a Float32Array or Int32Array, got an ArrayBuffer$/],
    ['a Map as data', () => new Tensor(new Map() as any, [2]), TypeError, /data must be a Float32Array or Int32Array, got a Map$/],
  ];
  test.each(cases)('%s', (_name, fn, ctor, message) => {
    expect(fn).toThrow(ctor);
    expect(fn).toThrow(message);
  });
});

describe.each(backendRows())('forward and backward arguments on %s', (backend) => {
  beforeAll(() => selectBackend(backend));
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2 });
  const gru = new GRU({ inputSize: 3, hiddenSize: 4, bidirectional: true, batchFirst: true });
  const x = t3(5, 2, 3);

  const cases: [string, () => unknown, Ctor, RegExp][] = [
    ['input rank 2', () => lstm.forward(Tensor.zeros([5, 3])), RangeError, /^LSTM.forward: input must be a 3-D Tensor \[T, B, inputSize\], got shape \[5, 3\]$/],
    ['input features', () => lstm.forward(t3(5, 2, 4)), RangeError, /^LSTM.forward: input must be a Tensor with inputSize = 3 features in its last dimension, got shape \[5, 2, 4\]$/],
    ['input int32', () => lstm.forward(new Tensor(new Int32Array(30), [5, 2, 3])), TypeError, /^LSTM.forward: input must be a float32 Tensor \[T, B, inputSize\], got an int32 Tensor of shape \[5, 2, 3\]$/],
    ['input not a Tensor', () => lstm.forward(new Float32Array(30) as any), TypeError, /input must be a float32 Tensor \[T, B, inputSize\], got Float32Array\(30\)$/],
    ['input with no steps', () => lstm.forward(t3(0, 2, 3)), RangeError, /input must be a Tensor with at least one time step and one batch row, got shape \[0, 2, 3\]$/],
    ['batchFirst layout named', () => gru.forward(Tensor.zeros([2, 5])), RangeError, /^GRU.forward: input must be a 3-D Tensor \[B, T, inputSize\], got shape \[2, 5\]$/],
    ['h0 shape', () => lstm.forward(x, { h0: Tensor.zeros([1, 2, 4]) }), RangeError, /^LSTM.forward: h0 must be of shape \[2, 2, 4\], got shape \[1, 2, 4\]$/],
    ['c0 shape', () => lstm.forward(x, { c0: Tensor.zeros([2, 3, 4]) }), RangeError, /^LSTM.forward: c0 must be of shape \[2, 2, 4\], got shape \[2, 3, 4\]$/],
    ['h0 shape, bidirectional', () => gru.forward(t3(2, 5, 3), { h0: Tensor.zeros([1, 2, 4]) }), RangeError, /^GRU.forward: h0 must be of shape \[2, 2, 4\], got shape \[1, 2, 4\]$/],
    ['h0 not a Tensor', () => lstm.forward(x, { h0: new Float32Array(16) as any }), TypeError, /h0 must be a float32 Tensor of shape \[2, 2, 4\], got Float32Array\(16\)$/],
    ['c0 given to GRU', () => gru.forward(t3(2, 5, 3), { c0: Tensor.zeros([2, 2, 4]) } as any), TypeError, /^GRU.forward: c0 must be undefined \(GRU has no cell state\), got a float32 Tensor of shape \[2, 2, 4\]$/],
    ['c0 given to RNN', () => new RNN({ inputSize: 3, hiddenSize: 4 }).forward(x, { c0: Tensor.zeros([1, 2, 4]) }), TypeError, /^RNN.forward: c0 must be undefined \(RNN has no cell state\)/],
    ['lengths count', () => lstm.forward(x, { lengths: [5] }), RangeError, /^LSTM.forward: lengths must be 2 entries \(one per batch row\), got 1 entries$/],
    ['lengths above T', () => lstm.forward(x, { lengths: [5, 6] }), RangeError, /^LSTM.forward: lengths\[1\] must be an integer in 0..5, got 6$/],
    ['lengths negative', () => lstm.forward(x, { lengths: [-1, 2] }), RangeError, /lengths\[0\] must be an integer in 0..5, got -1$/],
    ['lengths fractional', () => lstm.forward(x, { lengths: [2.5, 2] }), RangeError, /lengths\[0\] must be an integer in 0..5, got 2.5$/],
    ['lengths not array-like', () => lstm.forward(x, { lengths: 3 as any }), TypeError, /lengths must be an array of 2 integers in 0..5, got 3$/],
    ['training not boolean', () => lstm.forward(x, { training: 'yes' as any }), TypeError, /^LSTM.forward: training must be a boolean, got "yes"$/],
    ['tape not boolean', () => lstm.forward(x, { tape: 1 as any }), TypeError, /^LSTM.forward: tape must be a boolean, got 1$/],
    ['tape not boolean, training', () => gru.forward(t3(2, 5, 3), { training: true, tape: 'no' as any }), TypeError, /^GRU.forward: tape must be a boolean, got "no"$/],
    ['unknown forward option', () => lstm.forward(x, { h_0: Tensor.zeros([2, 2, 4]) } as any), TypeError, /^LSTM.forward: unknown options key "h_0"; expected h0, c0, lengths, training, tape$/],
  ];
  test.each(cases)('%s', (_name, fn, ctor, message) => {
    expect(fn).toThrow(ctor);
    expect(fn).toThrow(message);
  });

  test('gradients of the wrong shape', () => {
    const { tape } = lstm.forward(x, { training: true });
    expect(() => lstm.backward(tape!, { dOutput: t3(5, 2, 3) })).toThrow(
      /^LSTM.backward: dOutput must be of shape \[5, 2, 4\], got shape \[5, 2, 3\]$/,
    );
    expect(() => lstm.backward(tape!, { dhN: Tensor.zeros([1, 2, 4]) })).toThrow(RangeError);
    expect(() => lstm.backward(tape!, { dhN: Tensor.zeros([1, 2, 4]) })).toThrow(/dhN must be of shape \[2, 2, 4\], got shape \[1, 2, 4\]$/);
    expect(() => lstm.backward(tape!, { dcN: Tensor.zeros([2, 2, 5]) })).toThrow(/dcN must be of shape \[2, 2, 4\], got shape \[2, 2, 5\]$/);
    expect(() => lstm.backward(tape!, { dOut: t3(5, 2, 4) } as any)).toThrow(/^LSTM.backward: unknown gradients key "dOut"; expected dOutput, dhN, dcN$/);
    const g = gru.forward(t3(2, 5, 3), { training: true });
    expect(() => gru.backward(g.tape!, { dcN: Tensor.zeros([2, 2, 4]) } as any)).toThrow(TypeError);
    expect(() => gru.backward(g.tape!, { dcN: Tensor.zeros([2, 2, 4]) } as any)).toThrow(/^GRU.backward: dcN must be undefined \(GRU has no cell state\)/);
    // A rejected backward leaves the tape usable.
    expect(() => lstm.backward(tape!, {})).not.toThrow();
  });

  test('tapes: used twice, from another layer, missing', () => {
    const { tape } = lstm.forward(x, { training: true });
    lstm.backward(tape!, {});
    expect(() => lstm.backward(tape!, {})).toThrow(TypeError);
    expect(() => lstm.backward(tape!, {})).toThrow(/^LSTM.backward: tape must be a Tape not yet used \(each serves one backward\), got a Tape already used$/);
    const other = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2 });
    const t2 = other.forward(x, { training: true }).tape!;
    expect(() => lstm.backward(t2, {})).toThrow(/^LSTM.backward: tape must be a Tape from this LSTM's forward, got a Tape from another layer$/);
    // Without training, forward returns no tape; passing that along is named as such.
    const inference = lstm.forward(x);
    expect(inference.tape).toBeUndefined();
    expect(() => lstm.backward(inference.tape!, {})).toThrow(/^LSTM.backward: tape must be the Tape of a forward with training: true or tape: true, got undefined$/);
    // Training without a tape keeps nothing either.
    const untaped = lstm.forward(x, { training: true, tape: false });
    expect(untaped.tape).toBeUndefined();
    expect(() => lstm.backward(untaped.tape!, {})).toThrow(/^LSTM.backward: tape must be the Tape of a forward with training: true or tape: true, got undefined$/);
  });

  test('async variants reject with the same errors', async () => {
    await expect(lstm.forwardAsync(t3(5, 2, 4))).rejects.toThrow(/^LSTM.forwardAsync: input must be a Tensor with inputSize = 3/);
    const { tape } = await lstm.forwardAsync(x, { training: true });
    await lstm.backwardAsync(tape!, {});
    await expect(lstm.backwardAsync(tape!, {})).rejects.toThrow(/^LSTM.backwardAsync: tape must be a Tape not yet used/);
  });
});

describe('state dicts', () => {
  const make = () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 2 });
  test('missing, unexpected and misshaped entries', () => {
    const layer = make();
    const sd = layer.stateDict();
    const missing = new Map(sd);
    missing.delete('weight_hr_l0');
    expect(() => layer.loadStateDict(missing)).toThrow(RangeError);
    expect(() => layer.loadStateDict(missing)).toThrow(/^LSTM.loadStateDict: d must hold every parameter \(strict\), missing "weight_hr_l0"$/);
    expect(() => layer.loadStateDict(missing, { strict: false })).not.toThrow();

    const extra = new Map(sd).set('weight_ih_l1', Tensor.zeros([16, 2]));
    expect(() => layer.loadStateDict(extra)).toThrow(/^LSTM.loadStateDict: d must hold only this layer's parameters \(strict\), got unexpected "weight_ih_l1"$/);
    expect(() => layer.loadStateDict(extra, { strict: false })).not.toThrow();

    const misshaped = new Map(sd).set('weight_hh_l0', Tensor.zeros([16, 4]));
    expect(() => layer.loadStateDict(misshaped, { strict: false })).toThrow(RangeError);
    expect(() => layer.loadStateDict(misshaped)).toThrow(/^LSTM.loadStateDict: d\["weight_hh_l0"\] must be of shape \[16, 2\], got shape \[16, 4\]$/);

    const wrongType = { ...Object.fromEntries(sd), bias_ih_l0: new Float32Array(16) as any };
    expect(() => layer.loadStateDict(wrongType)).toThrow(/^LSTM.loadStateDict: d\["bias_ih_l0"\] must be a Tensor, got Float32Array\(16\)$/);
    const intTensor = new Map(sd).set('bias_ih_l0', new Tensor(new Int32Array(16), [16]));
    expect(() => layer.loadStateDict(intTensor)).toThrow(/^LSTM.loadStateDict: d\["bias_ih_l0"\] must be a float32 Tensor, got an int32 Tensor$/);
    expect(() => layer.loadStateDict(42 as any)).toThrow(/^LSTM.loadStateDict: d must be a Map or object of Tensors, got 42$/);
  });

  test('a rejected state dict changes nothing', () => {
    const layer = make();
    const before = layer.stateDict();
    const bad = new Map<string, Tensor>();
    for (const [name, t] of before) bad.set(name, new Tensor(new Float32Array(t.size).fill(7), t.shape));
    bad.set('weight_hr_l0', Tensor.zeros([3, 3]));
    expect(() => layer.loadStateDict(bad)).toThrow(RangeError);
    for (const [name, t] of layer.parameters()) expect(t.data).toEqual(before.get(name)!.data);
  });

  test('prefix selects keys and strict checks only under it', () => {
    const layer = make();
    const donor = new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 2, seed: 5 });
    const d = new Map<string, Tensor>();
    for (const [name, t] of donor.stateDict()) d.set(`encoder.rnn.${name}`, t);
    d.set('decoder.weight', Tensor.zeros([2, 2]));
    layer.loadStateDict(d, { prefix: 'encoder.rnn.' });
    for (const [name, t] of layer.parameters()) expect(t.data).toEqual(donor.parameters().get(name)!.data);
    expect(() => layer.loadStateDict(d, { prefix: 'decoder.' })).toThrow(/missing "decoder.weight_ih_l0"/);
  });
});

describe('backend selection arguments', () => {
  test('useBackend with an unknown name', () => {
    expect(() => useBackend('gpu' as any)).toThrow(RangeError);
    expect(() => useBackend('gpu' as any)).toThrow(/^useBackend: name must be one of "native", "wasm", "auto", got "gpu"$/);
    expect(() => useBackend(1 as any)).toThrow(TypeError);
  });
  test('setNumThreads outside 1..256', () => {
    for (const n of [0, 257, 1.5, -1, NaN]) {
      expect(() => setNumThreads(n)).toThrow(RangeError);
      expect(() => setNumThreads(n)).toThrow(new RegExp(`^setNumThreads: n must be an integer in 1..256, got ${n}$`));
    }
    expect(() => setNumThreads('2' as any)).toThrow(TypeError);
  });
});
