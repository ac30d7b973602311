// Property-based: generated bad arguments to every public constructor and plain function (SPEC §5).
// Each case starts from a valid call and breaks one argument; the call must throw a TypeError or
// RangeError whose message starts with the function's name and names that argument. Calls that
// carry tensors into a backend are in test/fuzz-calls.test.ts.
import fc from 'fast-check';
import {
  Adam, Batcher, Embedding, GRU, GRUCell, LSTM, LSTMCell, Linear, RNN, RNNCell, SGD, Tensor, clipGradNorm,
  crossEntropy, exportONNX, mseLoss, setNumThreads, useBackend,
} from '../src';
import { currentBackend } from '../src/backend/select';
import { expectRefused, notASize, runs, wrongType } from './helpers/fuzz';

type Options = Record<string, unknown>;
type Breakage = { key: string; value: unknown; named: string };

const optionalWrong = () => wrongType().filter((v) => v !== undefined);
const notABoolean = () => optionalWrong().filter((v) => typeof v !== 'boolean');
const notANumber = () => optionalWrong().filter((v) => typeof v !== 'number');
const outside01 = () => fc.oneof(fc.constantFrom(NaN, Infinity, -Infinity, -1e-9, 1 + 1e-9), fc.double({ min: 1.0001, max: 1e9 }), fc.double({ min: -1e9, max: -0.0001 }));
// Sizes past what a backend indexes (2^24) or a typed array holds.
const tooLarge = () => fc.oneof(fc.constantFrom(2 ** 24 + 1, 2 ** 31, 2 ** 40, 2 ** 53 - 1), fc.integer({ min: 2 ** 24 + 1, max: 2 ** 31 }));

/** One broken option of a recurrent layer's constructor, named as the message names it. */
function brokenRecurrentOption(kind: 'LSTM' | 'GRU' | 'RNN', hiddenSize: number): fc.Arbitrary<Breakage> {
  const size = (key: string, required: boolean) =>
    fc.oneof(notASize(), required ? wrongType() : optionalWrong(), tooLarge()).map((value) => ({ key, value, named: key }));
  const flag = (key: string) => notABoolean().map((value) => ({ key, value, named: key }));
  const probability = (key: string) => fc.oneof(outside01(), notANumber()).map((value) => ({ key, value, named: key }));
  const cases: fc.Arbitrary<Breakage>[] = [
    size('inputSize', true),
    size('hiddenSize', true),
    size('numLayers', false),
    flag('bias'),
    flag('batchFirst'),
    flag('bidirectional'),
    flag('residual'),
    fc.oneof(outside01(), fc.constant(1), notANumber()).map((value) => ({ key: 'dropout', value, named: 'dropout' })),
    probability('recurrentDropout'),
    probability('weightDropout'),
    fc.oneof(notANumber(), fc.constantFrom(0.5, -3, 2 ** 53, NaN)).filter((v) => !Number.isSafeInteger(v)).map((value) => ({ key: 'seed', value, named: 'seed' })),
    fc.oneof(
      outside01(),
      optionalWrong().filter((v) => typeof v !== 'number' && !(v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v))),
      fc.record({ hidden: outside01() }),
      fc.record({ hidden: notANumber() }),
      fc.string({ minLength: 1, maxLength: 5 }).filter((k) => k !== 'hidden' && k !== 'cell').map((k) => ({ [k]: 0.1 })),
      kind === 'LSTM' ? fc.record({ cell: outside01() }) : fc.record({ cell: fc.double({ min: 0, max: 1, noNaN: true }) }),
    ).map((value) => ({ key: 'zoneout', value, named: 'zoneout' })),
    fc.string({ minLength: 1, maxLength: 8 })
      .filter((k) => !['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'dropout', 'seed', 'residual', 'zoneout',
        'recurrentDropout', 'weightDropout', 'projSize', 'peepholes', 'linearBeforeReset', 'nonlinearity'].includes(k))
      .map((key) => ({ key, value: 1, named: JSON.stringify(key) })),
  ];
  if (kind === 'LSTM') {
    cases.push(
      fc.oneof(fc.integer({ min: hiddenSize, max: hiddenSize + 5 }), fc.constantFrom(-1, 0.5, NaN), optionalWrong(), tooLarge())
        .map((value) => ({ key: 'projSize', value, named: 'projSize' })),
      flag('peepholes'),
    );
  }
  if (kind === 'GRU') cases.push(flag('linearBeforeReset'));
  if (kind === 'RNN') {
    cases.push(fc.oneof(fc.string({ maxLength: 6 }).filter((s) => s !== 'tanh' && s !== 'relu'), optionalWrong())
      .map((value) => ({ key: 'nonlinearity', value, named: 'nonlinearity' })));
  }
  return fc.oneof(...cases);
}

const kinds = { LSTM, GRU, RNN } as const;

describe('recurrent layer options', () => {
  test.each(['LSTM', 'GRU', 'RNN'] as const)('%s: one broken option is refused and named', (kind) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 2, max: 6 }).chain((H) => fc.tuple(fc.constant(H), brokenRecurrentOption(kind, H))),
        (inputSize, [hiddenSize, b]) => {
          const o: Options = { inputSize, hiddenSize, [b.key]: b.value };
          expectRefused(() => new kinds[kind](o as never), kind, [b.named]);
        },
      ),
      runs(300),
    );
  });

  test('options that are no object are refused', () => {
    fc.assert(
      fc.property(fc.constantFrom('LSTM', 'GRU', 'RNN'), wrongType().filter((v) => !(v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v))), (kind, o) => {
        // (A DataView is an object: it is read as options without inputSize.)
        expectRefused(() => new kinds[kind as keyof typeof kinds](o as never), kind, ['options', 'inputSize']);
      }),
      runs(60),
    );
  });
});

describe('cell options', () => {
  const cells = { LSTMCell, GRUCell, RNNCell } as const;
  test.each(['LSTMCell', 'GRUCell', 'RNNCell'] as const)('%s: one broken option is refused and named', (kind) => {
    const extra: fc.Arbitrary<Breakage>[] =
      kind === 'GRUCell' ? [notABoolean().map((value) => ({ key: 'linearBeforeReset', value, named: 'linearBeforeReset' }))]
        : kind === 'RNNCell' ? [fc.string({ maxLength: 5 }).filter((s) => s !== 'tanh' && s !== 'relu').map((value) => ({ key: 'nonlinearity', value, named: 'nonlinearity' }))]
          : [];
    const broken = fc.oneof(
      fc.oneof(notASize(), wrongType(), tooLarge()).map((value) => ({ key: 'inputSize', value, named: 'inputSize' })),
      fc.oneof(notASize(), wrongType(), tooLarge()).map((value) => ({ key: 'hiddenSize', value, named: 'hiddenSize' })),
      notABoolean().map((value) => ({ key: 'bias', value, named: 'bias' })),
      fc.constantFrom('numLayers', 'dropout', 'bidirectional', 'zoneout', 'projSize').map((key) => ({ key, value: 1, named: JSON.stringify(key) })),
      ...extra,
    );
    fc.assert(
      fc.property(broken, (b) => {
        expectRefused(() => new cells[kind]({ inputSize: 3, hiddenSize: 4, [b.key]: b.value } as never), kind, [b.named]);
      }),
      runs(150),
    );
  });
});

describe('Tensor', () => {
  const dataArb = fc.oneof(
    fc.integer({ min: 0, max: 24 }).map((n) => new Float32Array(n)),
    fc.integer({ min: 0, max: 24 }).map((n) => new Int32Array(n)),
    wrongType(),
    fc.integer({ min: 0, max: 8 }).map((n) => new Float64Array(n)),
  );
  const dim = fc.oneof(fc.integer({ min: 0, max: 5 }), notASize(), wrongType(), fc.constantFrom(2 ** 32, 2 ** 53));
  const shapeArb = fc.oneof(fc.array(dim, { maxLength: 4 }), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }), wrongType());

  test('a Tensor is made exactly when its data and shape agree; otherwise the error names which', () => {
    fc.assert(
      fc.property(dataArb, shapeArb, (data, shape) => {
        const typed = data instanceof Float32Array || data instanceof Int32Array;
        const dimsOk = Array.isArray(shape) && shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0);
        const agree = typed && dimsOk && (shape as number[]).reduce((n, d) => n * d, 1) === (data as Float32Array).length;
        if (agree) {
          const t = new Tensor(data as Float32Array, shape as number[]);
          expect(t.shape).toEqual(shape);
        } else {
          expectRefused(() => new Tensor(data as never, shape as never), 'Tensor', [typed ? 'shape' : 'data']);
        }
      }),
      runs(400),
    );
  });

  test('Tensor.zeros refuses any shape it cannot make, naming the shape', () => {
    const bad = fc.oneof(
      fc.array(fc.oneof(notASize().filter((d) => d !== 0 && !Object.is(d, -0)), wrongType()), { minLength: 1, maxLength: 3 }),
      wrongType().filter((v) => !Array.isArray(v)),
      // Shapes of more elements than a typed array holds.
      fc.array(fc.integer({ min: 2 ** 16, max: 2 ** 30 }), { minLength: 3, maxLength: 4 }),
      fc.constantFrom([2 ** 33], [2 ** 40, 1], [2 ** 53 - 1]),
    );
    fc.assert(fc.property(bad, (shape) => expectRefused(() => Tensor.zeros(shape as never), 'Tensor.zeros', ['shape'])), runs(150));
  });
});

// Linear and Embedding take any size a typed array indexes with an int, their product included.
const pastElements = () => fc.oneof(fc.constantFrom(2 ** 31, 2 ** 40, 2 ** 53 - 1), fc.integer({ min: 2 ** 31, max: 2 ** 45 }));
const productPastElements = () => fc.tuple(fc.integer({ min: 2 ** 16, max: 2 ** 20 }), fc.integer({ min: 2 ** 16, max: 2 ** 20 }));

describe('Linear and Embedding options', () => {
  test('Linear: one broken option is refused and named', () => {
    const broken = fc.oneof(
      fc.oneof(notASize(), wrongType(), pastElements()).map((value) => ({ key: 'inFeatures', value, named: 'inFeatures' })),
      fc.oneof(notASize(), wrongType(), pastElements()).map((value) => ({ key: 'outFeatures', value, named: 'outFeatures' })),
      notABoolean().map((value) => ({ key: 'bias', value, named: 'bias' })),
      fc.oneof(fc.constantFrom(0.5, NaN, Infinity, 2 ** 60), notANumber().filter((v) => v !== null)).map((value) => ({ key: 'seed', value, named: 'seed' })),
      fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !['inFeatures', 'outFeatures', 'bias', 'seed'].includes(k)).map((key) => ({ key, value: 1, named: JSON.stringify(key) })),
    );
    fc.assert(
      fc.property(broken, (b) => expectRefused(() => new Linear({ inFeatures: 3, outFeatures: 2, [b.key]: b.value } as never), 'Linear', [b.named])),
      runs(200),
    );
    fc.assert(
      fc.property(productPastElements(), ([inFeatures, outFeatures]) =>
        expectRefused(() => new Linear({ inFeatures, outFeatures }), 'Linear', ['inFeatures and outFeatures'])),
      runs(30),
    );
  });

  test('Embedding: one broken option is refused and named', () => {
    const broken = fc.oneof(
      fc.oneof(notASize(), wrongType(), pastElements()).map((value) => ({ key: 'numEmbeddings', value, named: 'numEmbeddings' })),
      fc.oneof(notASize(), wrongType(), pastElements()).map((value) => ({ key: 'embeddingDim', value, named: 'embeddingDim' })),
      fc.oneof(fc.constantFrom(0.5, NaN, Infinity, 2 ** 60), notANumber().filter((v) => v !== null)).map((value) => ({ key: 'seed', value, named: 'seed' })),
      fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !['numEmbeddings', 'embeddingDim', 'seed'].includes(k)).map((key) => ({ key, value: 1, named: JSON.stringify(key) })),
    );
    fc.assert(
      fc.property(broken, (b) => expectRefused(() => new Embedding({ numEmbeddings: 5, embeddingDim: 2, [b.key]: b.value } as never), 'Embedding', [b.named])),
      runs(200),
    );
    fc.assert(
      fc.property(productPastElements(), ([numEmbeddings, embeddingDim]) =>
        expectRefused(() => new Embedding({ numEmbeddings, embeddingDim }), 'Embedding', ['numEmbeddings and embeddingDim'])),
      runs(30),
    );
  });
});

describe('optimizers and losses', () => {
  const model = new Linear({ inFeatures: 2, outFeatures: 2 });

  test('SGD and Adam: one broken option is refused and named', () => {
    const positive = (key: string) => fc.oneof(fc.constantFrom(0, -1, NaN, Infinity, -Infinity), notANumber()).map((value) => ({ key, value, named: key }));
    const nonNegative = (key: string) => fc.oneof(fc.constantFrom(-1e-9, NaN, Infinity, -Infinity), notANumber()).map((value) => ({ key, value, named: key }));
    // lr 0 is a rate (the setter's and PyTorch's): only below 0 is refused.
    const sgd = fc.oneof(nonNegative('lr'), nonNegative('momentum'), nonNegative('weightDecay'));
    const adam = fc.oneof(
      nonNegative('lr').filter((b) => b.value !== null),
      nonNegative('weightDecay'),
      // (null, like undefined, stands for the default.)
      fc.oneof(fc.constantFrom([1, 0.9], [0.9], [0.9, -0.1], [NaN, 0.5], 0.9, 'x'), fc.tuple(outside01(), fc.double({ min: 0, max: 0.99 }))).map((value) => ({ key: 'betas', value, named: 'betas' })),
      positive('eps').filter((b) => b.value !== 0),
    );
    fc.assert(fc.property(sgd, (b) => expectRefused(() => new SGD(model, { lr: 0.1, [b.key]: b.value } as never), 'SGD', [b.named])), runs(100));
    fc.assert(fc.property(adam, (b) => expectRefused(() => new Adam(model, { [b.key]: b.value } as never), 'Adam', [b.named])), runs(100));
  });

  test('optimizers and clipGradNorm refuse what is no module, and clipGradNorm a bad maxNorm', () => {
    // (An empty list is accepted: an optimizer over no parameters does nothing.)
    const notModules = fc.oneof(wrongType().filter((v) => v !== undefined && !(Array.isArray(v) && v.length === 0)), fc.constant([model, 3]), fc.constant([{}]));
    fc.assert(
      fc.property(notModules, (m) => {
        expectRefused(() => new SGD(m as never, { lr: 0.1 }), 'SGD', ['modules']);
        expectRefused(() => new Adam(m as never), 'Adam', ['modules']);
        expectRefused(() => clipGradNorm(m as never, 1), 'clipGradNorm', ['modules']);
      }),
      runs(60),
    );
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(0, -1, NaN, -Infinity), notANumber()), (maxNorm) => expectRefused(() => clipGradNorm(model, maxNorm as never), 'clipGradNorm', ['maxNorm'])),
      runs(60),
    );
  });

  test('crossEntropy and mseLoss name the argument that is wrong', () => {
    const logits = new Tensor(new Float32Array(6), [2, 3]);
    const targets = new Tensor(new Int32Array([0, 2]), [2]);
    const brokenCE = fc.oneof(
      fc.oneof(wrongType(), fc.constant(targets)).map((v) => ({ args: [v, targets, undefined], named: 'logits' })),
      fc.oneof(wrongType(), fc.constant(logits), fc.constant(new Tensor(new Int32Array(3), [3])), fc.constant(new Tensor(new Int32Array(2), [1, 2])))
        .map((v) => ({ args: [logits, v, undefined], named: 'targets' })),
      fc.integer({ min: 3, max: 100 }).map((id) => ({ args: [logits, new Tensor(new Int32Array([0, id]), [2]), undefined], named: 'targets[1]' })),
      fc.integer({ min: -100, max: -1 }).filter((id) => id !== -100).map((id) => ({ args: [logits, new Tensor(new Int32Array([id, 0]), [2]), undefined], named: 'targets[0]' })),
      fc.oneof(fc.constantFrom(0.5, NaN, '1', [], 1n), fc.constant(Infinity)).map((v) => ({ args: [logits, targets, { ignoreIndex: v }], named: 'ignoreIndex' })),
      fc.constantFrom(null, 3, 'o', [1]).map((v) => ({ args: [logits, targets, v], named: 'options' })),
    );
    fc.assert(fc.property(brokenCE, ({ args, named }) => expectRefused(() => crossEntropy(...(args as [Tensor, Tensor])), 'crossEntropy', [named])), runs(150));

    const pred = new Tensor(new Float32Array(6), [2, 3]);
    const brokenMse = fc.oneof(
      wrongType().map((v) => ({ args: [v, pred], named: 'pred' })),
      fc.oneof(wrongType(), fc.constant(new Tensor(new Float32Array(6), [3, 2])), fc.constant(new Tensor(new Int32Array(6), [2, 3])))
        .map((v) => ({ args: [pred, v], named: 'target' })),
    );
    fc.assert(fc.property(brokenMse, ({ args, named }) => expectRefused(() => mseLoss(...(args as [Tensor, Tensor])), 'mseLoss', [named])), runs(100));
  });
});

describe('backend selection and threads', () => {
  test('setNumThreads takes exactly the integers 1..256', () => {
    const before = currentBackend();
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -300, max: 600 }), notASize(), wrongType()), (n) => {
        if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 256) {
          setNumThreads(n);
        } else {
          expectRefused(() => setNumThreads(n as never), 'setNumThreads', ['n']);
        }
      }),
      runs(200),
    );
    setNumThreads(2);
    expect(currentBackend()).toBe(before);
  });

  test('useBackend refuses every other name', () => {
    const before = currentBackend();
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 8 }), wrongType()).filter((v) => !['native', 'wasm', 'auto'].includes(v as string)), (name) => {
        expectRefused(() => useBackend(name as never), 'useBackend', ['name']);
      }),
      runs(150),
    );
    expect(currentBackend()).toBe(before);
  });
});

describe('Batcher and exportONNX options', () => {
  const layer = new GRU({ inputSize: 2, hiddenSize: 3 });

  test('Batcher: a broken option or layer is refused and named', () => {
    const broken = fc.oneof(
      // (Any positive integer is a bound, however large.)
      fc.oneof(notASize().filter((v) => !(v > 0 && Number.isInteger(v))), optionalWrong()).map((value) => ({ key: 'maxBatch', value, named: 'maxBatch' })),
      fc.oneof(notASize().filter((v) => !(v > 0 && Number.isInteger(v))), optionalWrong()).map((value) => ({ key: 'maxQueue', value, named: 'maxQueue' })),
      fc.oneof(fc.constantFrom(-1, NaN, Infinity, -Infinity), notANumber()).map((value) => ({ key: 'maxDelayMs', value, named: 'maxDelayMs' })),
      fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !['maxBatch', 'maxDelayMs', 'maxQueue'].includes(k)).map((key) => ({ key, value: 1, named: JSON.stringify(key) })),
    );
    fc.assert(fc.property(broken, (b) => expectRefused(() => new Batcher(layer, { [b.key]: b.value } as never), 'Batcher', [b.named])), runs(150));
    fc.assert(
      fc.property(fc.oneof(wrongType(), fc.constant(new Linear({ inFeatures: 1, outFeatures: 1 })), fc.constant(new LSTMCell({ inputSize: 1, hiddenSize: 1 }))), (l) =>
        expectRefused(() => new Batcher(l as never), 'Batcher', ['layer'])),
      runs(40),
    );
  });

  test('exportONNX: a broken opset, options or layer is refused and named', () => {
    const broken = fc.oneof(
      fc.oneof(fc.integer({ min: -5, max: 6 }), fc.integer({ min: 10000, max: 2 ** 40 }), notASize(), optionalWrong()).map((v) => ({ o: { opset: v }, named: 'opset' })),
      fc.constantFrom(null, 3, 'x', [1]).map((v) => ({ o: v, named: 'options' })),
      fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== 'opset').map((k) => ({ o: { [k]: 1 }, named: JSON.stringify(k) })),
    );
    fc.assert(fc.property(broken, ({ o, named }) => expectRefused(() => exportONNX(layer, o as never), 'exportONNX', [named])), runs(100));
    fc.assert(fc.property(fc.oneof(wrongType(), fc.constant(new GRUCell({ inputSize: 1, hiddenSize: 1 }))), (l) => expectRefused(() => exportONNX(l as never), 'exportONNX', ['layer'])), runs(40));
  });
});

// Counterexamples the properties above found, kept as fixed cases (each was accepted, or refused
// with V8's own message, before its fix).
describe('regressions found by fuzzing', () => {
  const cases: [string, () => unknown, string, string][] = [
    ['inputSize past 2^24 was accepted', () => new LSTM({ inputSize: 2 ** 24 + 1, hiddenSize: 5 }), 'LSTM', 'inputSize must be at most 16777216, got 16777217'],
    ['hiddenSize past 2^24 failed in a typed-array allocation', () => new GRU({ inputSize: 1, hiddenSize: 2 ** 24 + 1 }), 'GRU', 'hiddenSize must be at most 16777216'],
    ['numLayers 2^31 built layers until the heap ran out (a fatal error)', () => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2 ** 31 }), 'LSTM', 'numLayers must be at most 1024'],
    ['weights past 2^31 - 1 elements', () => new LSTM({ inputSize: 2 ** 20, hiddenSize: 2 ** 10 }), 'LSTM', 'inputSize and hiddenSize must be sizes that keep weight_ih_l0 within 2147483647 elements'],
    ['a DataView passed as zoneout 0', () => new GRU({ inputSize: 1, hiddenSize: 6, zoneout: new DataView(new ArrayBuffer(4)) as never }), 'GRU', 'zoneout must be'],
    ['crossEntropy options null', () => crossEntropy(Tensor.zeros([2, 3]), new Tensor(new Int32Array(2), [2]), null as never), 'crossEntropy', 'options must be'],
    ['Linear outFeatures 2^24 + 1 allocated 200 MB', () => new Linear({ inFeatures: 2 ** 16, outFeatures: 2 ** 16 }), 'Linear', 'inFeatures and outFeatures must be'],
    ['Tensor.zeros past what a typed array holds', () => Tensor.zeros([2 ** 33]), 'Tensor.zeros', 'shape must be a shape whose elements can be allocated'],
  ];
  test.each(cases)('%s', (_name, fn, where, message) => {
    expectRefused(fn, where, [message]);
  });

  test('Linear.forward and Embedding.forward name options that are no object', () => {
    expectRefused(() => new Linear({ inFeatures: 2, outFeatures: 1 }).forward(Tensor.zeros([1, 2]), null as never), 'Linear.forward', ['options must be']);
    expectRefused(() => new Embedding({ numEmbeddings: 2, embeddingDim: 1 }).forward(new Tensor(new Int32Array(1), [1]), null as never), 'Embedding.forward', ['options must be']);
  });
});
