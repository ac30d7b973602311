// Property-based: generated bad calls to forward/backward of the layers and cells, and to Linear
// and Embedding, on every backend that loads. Each starts from a valid call on a small random layer
// and breaks one argument (rank, sizes, dtype, lengths out of range, a tape reused, crossed or from
// another kind of layer); it must throw (sync) or reject (async) with a TypeError or RangeError
// naming that argument. The unbroken call must succeed, so the generators stay honest.
import fc from 'fast-check';
import { Embedding, GRU, GRUCell, LSTM, LSTMCell, Linear, RNN, RNNCell, Tensor } from '../src';
import { backendRows, selectBackend } from './helpers/backends';
import { expectRefused, expectRefusedAsync, notASize, runs, wrongType } from './helpers/fuzz';

type Kind = 'LSTM' | 'GRU' | 'RNN';
interface Config {
  kind: Kind;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  batchFirst: boolean;
  projSize: number;
  T: number;
  B: number;
}

const configArb: fc.Arbitrary<Config> = fc
  .record({
    kind: fc.constantFrom<Kind>('LSTM', 'GRU', 'RNN'),
    inputSize: fc.integer({ min: 1, max: 3 }),
    hiddenSize: fc.integer({ min: 2, max: 4 }),
    numLayers: fc.integer({ min: 1, max: 2 }),
    bidirectional: fc.boolean(),
    batchFirst: fc.boolean(),
    proj: fc.nat(),
    T: fc.integer({ min: 1, max: 3 }),
    B: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ proj, ...c }) => ({ ...c, projSize: c.kind === 'LSTM' ? proj % c.hiddenSize : 0 }));

function build(c: Config) {
  const common = { inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, bidirectional: c.bidirectional, batchFirst: c.batchFirst };
  return c.kind === 'LSTM' ? new LSTM({ ...common, projSize: c.projSize }) : c.kind === 'GRU' ? new GRU(common) : new RNN(common);
}

const shapes = (c: Config) => {
  const D = c.bidirectional ? 2 : 1;
  const hout = c.projSize || c.hiddenSize;
  return {
    input: c.batchFirst ? [c.B, c.T, c.inputSize] : [c.T, c.B, c.inputSize],
    output: c.batchFirst ? [c.B, c.T, D * hout] : [c.T, c.B, D * hout],
    h: [c.numLayers * D, c.B, hout],
    c: [c.numLayers * D, c.B, c.hiddenSize],
  };
};

/** A shape like `s` but not equal to it: one dimension moved, or one added or dropped. */
const otherShape = (s: number[]): fc.Arbitrary<number[]> =>
  fc.oneof(
    fc.tuple(fc.nat({ max: s.length - 1 }), fc.integer({ min: 1, max: 3 }), fc.boolean()).map(([i, by, up]) =>
      s.map((d, j) => (j === i ? (up || d - by < 0 ? d + by : d - by) : d))),
    fc.constant<number[]>([...s, 1]),
    fc.constant<number[]>(s.slice(1)),
  );
const zerosOf = (shape: number[]) => Tensor.zeros(shape);
const int32Of = (shape: number[]) => new Tensor(new Int32Array(shape.reduce((a, b) => a * b, 1)), shape);
const notATensor = () => fc.oneof(wrongType().filter((v) => v !== undefined && v !== null), fc.constant(new Float32Array(4)));

interface Call {
  input: unknown;
  options: unknown;
  named: string;
}

/** A forward call with exactly one argument broken. */
function brokenForward(c: Config): fc.Arbitrary<Call> {
  const s = shapes(c);
  const input = zerosOf(s.input);
  const withOption = (key: string, value: unknown, named = key): Call => ({ input, options: { [key]: value }, named });
  const cases: fc.Arbitrary<Call>[] = [
    fc.oneof(
      // (T and B come from the input: only its rank and feature size can be wrong.)
      otherShape(s.input).filter((x) => x.length !== 3 || x[2] !== c.inputSize).map(zerosOf),
      fc.constant(int32Of(s.input)),
      notATensor(),
      fc.constant(zerosOf(c.batchFirst ? [0, c.T, c.inputSize] : [c.T, 0, c.inputSize])),
    ).map((v) => ({ input: v, options: undefined, named: 'input' })),
    fc.oneof(otherShape(s.h).map(zerosOf), fc.constant(int32Of(s.h)), notATensor()).map((v) => withOption('h0', v)),
    c.kind === 'LSTM'
      ? fc.oneof(otherShape(s.c).map(zerosOf), fc.constant(int32Of(s.c)), notATensor()).map((v) => withOption('c0', v))
      : fc.oneof(fc.constant(zerosOf(s.c)), notATensor()).map((v) => withOption('c0', v)),
    fc.oneof(
      fc.integer({ min: 0, max: 5 }).filter((n) => n !== c.B).map((n) => new Array(n).fill(1)),
      fc.tuple(fc.nat({ max: c.B - 1 }), fc.oneof(fc.integer({ min: c.T + 1, max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 31), max: -1 }), notASize().filter((d) => d !== 0), fc.constantFrom('1', null, true)))
        .map(([b, bad]) => Array.from({ length: c.B }, (_, i) => (i === b ? bad : c.T))),
      fc.constantFrom(3, true, {}, new Float64Array([NaN])),
    ).map((v) => withOption('lengths', v)),
    // (null, like undefined, means the default.)
    wrongType().filter((v) => typeof v !== 'boolean' && v !== undefined && v !== null).map((v) => withOption('training', v)),
    wrongType().filter((v) => typeof v !== 'boolean' && v !== undefined && v !== null).map((v) => withOption('tape', v)),
    fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !['h0', 'c0', 'lengths', 'training', 'tape'].includes(k)).map((k) => withOption(k, 1, JSON.stringify(k))),
    fc.constantFrom(null, 3, 'o', [1], new Float32Array(1)).map((v) => ({ input, options: v, named: 'options' })),
  ];
  return fc.oneof(...cases);
}

interface Gradients {
  g: unknown;
  named: string;
}

function brokenGradients(c: Config): fc.Arbitrary<Gradients> {
  const s = shapes(c);
  const cases: fc.Arbitrary<Gradients>[] = [
    fc.oneof(otherShape(s.output).map(zerosOf), fc.constant(int32Of(s.output)), notATensor()).map((v) => ({ g: { dOutput: v }, named: 'dOutput' })),
    fc.oneof(otherShape(s.h).map(zerosOf), notATensor()).map((v) => ({ g: { dhN: v }, named: 'dhN' })),
    c.kind === 'LSTM'
      ? fc.oneof(otherShape(s.c).map(zerosOf), notATensor()).map((v) => ({ g: { dcN: v }, named: 'dcN' }))
      : fc.constant({ g: { dcN: zerosOf(s.c) }, named: 'dcN' }),
    fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !['dOutput', 'dhN', 'dcN'].includes(k)).map((k) => ({ g: { [k]: 1 }, named: JSON.stringify(k) })),
    fc.constantFrom(null, 3, 'g', [1]).map((g) => ({ g, named: 'gradients' })),
  ];
  return fc.oneof(...cases);
}

describe.each(backendRows())('generated bad calls on %s', (backend) => {
  beforeAll(() => selectBackend(backend));

  test('forward and forwardAsync name the one broken argument; the unbroken call succeeds', async () => {
    await fc.assert(
      fc.asyncProperty(configArb.chain((c) => fc.tuple(fc.constant(c), brokenForward(c))), async ([c, call]) => {
        const layer = build(c);
        const out = layer.forward(zerosOf(shapes(c).input));
        expect(out.output.shape).toEqual(shapes(c).output);
        expectRefused(() => layer.forward(call.input as Tensor, call.options as never), `${c.kind}.forward`, [call.named]);
        await expectRefusedAsync(() => layer.forwardAsync(call.input as Tensor, call.options as never), `${c.kind}.forwardAsync`, [call.named]);
      }),
      runs(120),
    );
  });

  test('backward and backwardAsync name the one broken gradient, and the tape stays usable', async () => {
    await fc.assert(
      fc.asyncProperty(configArb.chain((c) => fc.tuple(fc.constant(c), brokenGradients(c))), async ([c, { g, named }]) => {
        const layer = build(c);
        const { tape } = layer.forward(zerosOf(shapes(c).input), { training: true });
        expectRefused(() => layer.backward(tape!, g as never), `${c.kind}.backward`, [named]);
        await expectRefusedAsync(() => layer.backwardAsync(tape!, g as never), `${c.kind}.backwardAsync`, [named]);
        // A refused backward used nothing up.
        expect(() => layer.backward(tape!, {})).not.toThrow();
      }),
      runs(80),
    );
  });

  // A model of tapes: each serves one backward of the layer that made it; anything else names the tape.
  test('tapes reused, crossed between layers or of another kind are refused; every valid one works', () => {
    type Op = { kind: 'forward'; layer: number; training: boolean } | { kind: 'backward'; layer: number; tape: number } | { kind: 'foreign'; layer: number; which: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('forward' as const), layer: fc.nat({ max: 2 }), training: fc.boolean() }),
      fc.record({ kind: fc.constant('backward' as const), layer: fc.nat({ max: 2 }), tape: fc.nat({ max: 7 }) }),
      fc.record({ kind: fc.constant('foreign' as const), layer: fc.nat({ max: 2 }), which: fc.nat({ max: 3 }) }),
    );
    const linear = new Linear({ inFeatures: 2, outFeatures: 2 });
    const cell = new GRUCell({ inputSize: 2, hiddenSize: 3 });
    const embedding = new Embedding({ numEmbeddings: 3, embeddingDim: 2 });
    const foreign = () => [
      linear.forward(Tensor.zeros([1, 2]), { training: true }).tape,
      cell.forward(Tensor.zeros([1, 2]), { training: true }).tape,
      embedding.forward(new Tensor(new Int32Array(1), [1]), { training: true }).tape,
      { used: false },
    ];
    fc.assert(
      fc.property(fc.constantFrom<Kind>('LSTM', 'GRU', 'RNN'), fc.array(op, { maxLength: 24 }), (kind, ops) => {
        const c: Config = { kind, inputSize: 2, hiddenSize: 3, numLayers: 1, bidirectional: false, batchFirst: false, projSize: 0, T: 2, B: 1 };
        const layers = [build(c), build(c), build(c)];
        const tapes: { tape: unknown; owner: number; used: boolean }[] = [];
        for (const o of ops) {
          const layer = layers[o.layer];
          if (o.kind === 'forward') {
            const r = layer.forward(zerosOf(shapes(c).input), { training: o.training });
            tapes.push({ tape: r.tape, owner: o.layer, used: r.tape === undefined });
          } else if (o.kind === 'foreign') {
            expectRefused(() => layer.backward(foreign()[o.which] as never, {}), `${kind}.backward`, ['tape']);
          } else if (o.tape < tapes.length) {
            const t = tapes[o.tape];
            if (t.owner === o.layer && !t.used) {
              layer.backward(t.tape as never, {});
              t.used = true;
            } else {
              expectRefused(() => layer.backward(t.tape as never, {}), `${kind}.backward`, ['tape']);
            }
          }
        }
      }),
      runs(60),
    );
  });

  test('cells name a broken input, state or gradient', () => {
    const cells = { LSTMCell, GRUCell, RNNCell } as const;
    const arb = fc.record({
      kind: fc.constantFrom<keyof typeof cells>('LSTMCell', 'GRUCell', 'RNNCell'),
      I: fc.integer({ min: 1, max: 3 }),
      H: fc.integer({ min: 1, max: 3 }),
      B: fc.integer({ min: 1, max: 3 }),
    }).chain((c) => {
      const lstm = c.kind === 'LSTMCell';
      const state = [c.B, c.H];
      const call = fc.oneof(
        // (The batch comes from the input: only its rank and feature size can be wrong.)
        fc.oneof(otherShape([c.B, c.I]).filter((s) => s.length !== 2 || s[1] !== c.I).map(zerosOf), fc.constant(int32Of([c.B, c.I])), notATensor())
          .map((v) => ({ input: v, o: {}, g: undefined, named: 'input' })),
        fc.oneof(otherShape(state).map(zerosOf), notATensor()).map((v) => ({ input: zerosOf([c.B, c.I]), o: { h0: v }, g: undefined, named: 'h0' })),
        (lstm ? fc.oneof(otherShape(state).map(zerosOf), notATensor()) : fc.constant(zerosOf(state))).map((v) => ({ input: zerosOf([c.B, c.I]), o: { c0: v }, g: undefined, named: 'c0' })),
        fc.oneof(otherShape(state).map(zerosOf), notATensor()).map((v) => ({ input: zerosOf([c.B, c.I]), o: {}, g: { dh: v }, named: 'dh' })),
        (lstm ? fc.oneof(otherShape(state).map(zerosOf), notATensor()) : fc.constant(zerosOf(state))).map((v) => ({ input: zerosOf([c.B, c.I]), o: {}, g: { dc: v }, named: 'dc' })),
      );
      return fc.tuple(fc.constant(c), call);
    });
    fc.assert(
      fc.property(arb, ([c, call]) => {
        const cell = new cells[c.kind]({ inputSize: c.I, hiddenSize: c.H });
        if (call.g === undefined) {
          expectRefused(() => cell.forward(call.input as Tensor, call.o as never), `${c.kind}.forward`, [call.named]);
        } else {
          const { tape } = cell.forward(call.input as Tensor, { training: true });
          expectRefused(() => cell.backward(tape!, call.g as never), `${c.kind}.backward`, [call.named]);
        }
      }),
      runs(120),
    );
  });

  test('Linear and Embedding name a broken input or gradient', () => {
    const linear = new Linear({ inFeatures: 3, outFeatures: 2 });
    const embedding = new Embedding({ numEmbeddings: 4, embeddingDim: 2 });
    fc.assert(
      fc.property(fc.oneof(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }).filter((s) => s[s.length - 1] !== 3).map(zerosOf), fc.constant(int32Of([2, 3])), notATensor()), (input) => {
        expectRefused(() => linear.forward(input as Tensor), 'Linear.forward', ['input']);
      }),
      runs(60),
    );
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3, max: 8 }), { minLength: 1, maxLength: 4 }).filter((ids) => ids.some((i) => i < 0 || i >= 4)), (ids) => {
        expectRefused(() => embedding.forward(new Tensor(Int32Array.from(ids), [ids.length])), 'Embedding.forward', ['ids']);
      }),
      runs(60),
    );
    fc.assert(
      fc.property(fc.oneof(otherShape([2, 2]).map(zerosOf), fc.constant(int32Of([2, 2])), notATensor()), (dOutput) => {
        const { tape } = linear.forward(zerosOf([2, 3]), { training: true });
        expectRefused(() => linear.backward(tape!, { dOutput: dOutput as Tensor }), 'Linear.backward', ['dOutput']);
        const e = embedding.forward(new Tensor(new Int32Array(2), [2]), { training: true });
        expectRefused(() => embedding.backward(e.tape!, { dOutput: dOutput as Tensor }), 'Embedding.backward', ['dOutput']);
      }),
      runs(60),
    );
  });
});
