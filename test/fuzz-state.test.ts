// Property-based: state dicts with missing, extra and misshaped entries, on every kind of module
// that has one. A model says what loadStateDict must do with each generated dict: load it, or throw
// a TypeError/RangeError naming the dict or the entry; a refused dict changes no parameter.
import fc from 'fast-check';
import { Embedding, GRU, GRUCell, LSTM, LSTMCell, Linear, RNN, Tensor } from '../src';
import { expectRefused, runs, wrongType } from './helpers/fuzz';

const modules = {
  lstm: () => new LSTM({ inputSize: 2, hiddenSize: 3, numLayers: 2, projSize: 2, bidirectional: true }),
  gru: () => new GRU({ inputSize: 2, hiddenSize: 3, bias: false }),
  rnn: () => new RNN({ inputSize: 1, hiddenSize: 2, numLayers: 2 }),
  lstmCell: () => new LSTMCell({ inputSize: 2, hiddenSize: 2 }),
  gruCell: () => new GRUCell({ inputSize: 1, hiddenSize: 3 }),
  linear: () => new Linear({ inFeatures: 3, outFeatures: 2 }),
  embedding: () => new Embedding({ numEmbeddings: 4, embeddingDim: 2 }),
};
type Name = keyof typeof modules;
const names = Object.keys(modules) as Name[];
const whereOf: Record<Name, string> = {
  lstm: 'LSTM', gru: 'GRU', rnn: 'RNN', lstmCell: 'LSTMCell', gruCell: 'GRUCell', linear: 'Linear', embedding: 'Embedding',
};

type Edit =
  | { kind: 'drop'; at: number }
  | { kind: 'extra'; key: string }
  | { kind: 'reshape'; at: number; by: number }
  | { kind: 'int32'; at: number }
  | { kind: 'notTensor'; at: number; value: unknown };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('extra' as const), key: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('weight_ih_l9', 'bias', '__proto__', 'constructor')) }),
  fc.record({ kind: fc.constant('reshape' as const), at: fc.nat(), by: fc.constantFrom(-1, 1, 2) }),
  fc.record({ kind: fc.constant('int32' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('notTensor' as const), at: fc.nat(), value: fc.oneof(wrongType(), fc.constant(new Float32Array(2))) }),
);

describe('loadStateDict', () => {
  test('edited state dicts: loaded, or refused naming the dict or the entry, changing nothing', () => {
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.array(edit, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.boolean(), fc.boolean(),
        (name, edits, strict, asMap, withPrefix) => {
          const m = modules[name]();
          const where = `${whereOf[name]}.loadStateDict`;
          const keys = [...m.parameters().keys()];
          const d = new Map<string, unknown>([...m.stateDict()].map(([k, t]) => [k, new Tensor((t.data as Float32Array).map(() => 0.5), t.shape)]));
          let missing = false;
          let unexpected = false;
          const misshaped = new Set<string>();
          for (const e of edits) {
            const key = keys[('at' in e ? e.at : 0) % keys.length];
            if (e.kind === 'drop') {
              if (d.delete(key)) missing = true;
              misshaped.delete(key);
            } else if (e.kind === 'extra') {
              if (!keys.includes(e.key) && !d.has(e.key)) {
                d.set(e.key, Tensor.zeros([1]));
                unexpected = true;
              }
            } else if (d.has(key)) {
              const shape = [...m.parameters().get(key)!.shape];
              if (e.kind === 'reshape') {
                shape[0] = Math.max(0, shape[0] + e.by);
                d.set(key, Tensor.zeros(shape));
              } else if (e.kind === 'int32') {
                d.set(key, new Tensor(new Int32Array(shape.reduce((a, b) => a * b, 1)), shape));
              } else {
                d.set(key, e.value);
              }
              misshaped.add(key);
            }
          }
          const prefix = withPrefix ? 'model.rnn.' : '';
          const entries = [...d].map(([k, v]) => [prefix + k, v] as [string, unknown]);
          const given = asMap ? new Map(entries) : Object.fromEntries(entries);
          const before = [...m.parameters()].map(([k, t]) => [k, (t.data as Float32Array).slice()] as const);
          const call = () => m.loadStateDict(given as never, { strict, prefix });
          if (misshaped.size > 0 || (strict && (missing || unexpected))) {
            expectRefused(call, where, ['d']);
            for (const [k, data] of before) expect(m.parameters().get(k)!.data).toEqual(data);
          } else {
            call();
            for (const [k, t] of m.parameters()) {
              if (d.has(k)) expect(Array.from(t.data as Float32Array).every((v) => v === 0.5)).toBe(true);
            }
          }
        }),
      runs(300),
    );
  });

  test('a dict or options that are no object, and options of the wrong type, are named', () => {
    const m = modules.gru();
    const sd = m.stateDict();
    const broken = fc.oneof(
      wrongType().filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((d) => ({ args: [d], named: 'd' })),
      fc.constantFrom(Tensor.zeros([1])).map((d) => ({ args: [d], named: 'd' })),
      wrongType().filter((v) => v !== undefined && (v === null || typeof v !== 'object')).map((o) => ({ args: [sd, o], named: 'options' })),
      wrongType().filter((v) => v !== undefined && v !== null && typeof v !== 'boolean').map((strict) => ({ args: [sd, { strict }], named: 'strict' })),
      wrongType().filter((v) => v !== undefined && v !== null && typeof v !== 'string').map((prefix) => ({ args: [sd, { prefix }], named: 'prefix' })),
      fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== 'strict' && k !== 'prefix').map((k) => ({ args: [sd, { [k]: false }], named: JSON.stringify(k) })),
    );
    fc.assert(fc.property(broken, ({ args, named }) => expectRefused(() => m.loadStateDict(...(args as [never])), 'GRU.loadStateDict', [named])), runs(150));
  });
});

// The counterexample the properties above found, kept as a fixed case.
test('a misspelt option is refused rather than ignored (it loaded strictly without a word)', () => {
  const m = modules.gru();
  expectRefused(() => m.loadStateDict(m.stateDict(), { stict: false } as never), 'GRU.loadStateDict', ['unknown options key "stict"']);
});
