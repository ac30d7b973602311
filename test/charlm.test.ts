// The character model behind `cellscan train` / `sample`: checkpoints restore the same outputs and
// optimizer state, sampling is seeded, and bad inputs are named.
import { CharModel, loadCheckpoint, randomWindows, saveCheckpoint, trainStep, vocabularyOf } from '../src/demo/charlm';
import { Adam, crossEntropy, loadSafetensors, saveSafetensors, Tensor } from '../src';
import { Rng } from '../src/random';
import { backendRows, selectBackend } from './helpers/backends';

const text = 'the quick brown fox jumps over the lazy dog. '.repeat(20);

describe.each(backendRows())('character model on %s', (backend) => {
  beforeAll(() => selectBackend(backend));

  test('checkpoint save → load gives the same predictions, and training resumes identically', () => {
    const model = new CharModel({ cell: 'gru', vocab: vocabularyOf(text), embed: 8, hidden: 16, layers: 2 }, 3);
    const optimizer = new Adam(model.modules, { lr: 5e-3 });
    const ids = model.encode(text);
    const rng = new Rng(1);
    for (let i = 0; i < 5; i++) trainStep(model, optimizer, ids, 12, 4, 5, rng);
    const bytes = saveCheckpoint({ model, optimizer, step: 5 }, 5e-3);
    const restored = loadCheckpoint(bytes);
    expect(restored.step).toBe(5);
    expect(restored.model.config).toEqual(model.config);
    // The same function: the held-out loss bit for bit, and the same samples.
    expect(restored.model.evaluate(ids, 12)).toBe(model.evaluate(ids, 12));
    const same = (m: CharModel) => m.sample('the ', 40, 0.5, new Rng(11));
    expect(same(restored.model)).toBe(same(model));
    // One more step from either side lands on the same loss and parameters (optimizer state restored).
    const a = trainStep(model, optimizer, ids, 12, 4, 5, new Rng(21));
    const b = trainStep(restored.model, restored.optimizer, ids, 12, 4, 5, new Rng(21));
    expect(b).toBe(a);
    for (const [name, t] of model.stateDict()) expect([name, restored.model.stateDict().get(name)!.data]).toEqual([name, t.data]);
  });

  test('loss falls on a repetitive text and sampling continues it', () => {
    const model = new CharModel({ cell: 'lstm', vocab: vocabularyOf(text), embed: 16, hidden: 64, layers: 1 }, 2);
    const optimizer = new Adam(model.modules, { lr: 1e-2 });
    const ids = model.encode(text);
    const rng = new Rng(4);
    const first = trainStep(model, optimizer, ids, 24, 8, 5, rng);
    let last = first;
    for (let i = 0; i < 150; i++) last = trainStep(model, optimizer, ids, 24, 8, 5, rng);
    expect(first).toBeGreaterThan(2.5);
    expect(last).toBeLessThan(0.5);
    expect(model.sample('the quick ', 10, 0.1, new Rng(1))).toBe('brown fox ');
  });

  test('characters outside the vocabulary and foreign checkpoints are errors', () => {
    const model = new CharModel({ cell: 'gru', vocab: 'ab', embed: 2, hidden: 4, layers: 1 }, 1);
    expect(() => model.encode('abc')).toThrow(/^text\[2\] must be a character of the model's vocabulary, got "c"$/);
    expect(() => loadCheckpoint(new Uint8Array(16))).toThrow(/^loadSafetensors: header must be UTF-8 JSON/);
    const foreign = saveSafetensors(new Map(), { format: 'something-else' });
    expect(() => loadCheckpoint(foreign)).toThrow(
      /^checkpoint must be a cellscan character model \(format cellscan-charlm-1\), got format "something-else"$/,
    );
  });

  test('a regularized model: its checkpoint records the options, an old checkpoint without them loads as the plain model', () => {
    const vocab = vocabularyOf(text);
    const options = { residual: true, zoneout: { hidden: 0.2, cell: 0.1 }, recurrentDropout: 0.3, weightDropout: 0.2, dropout: 0.1 };
    const model = new CharModel({ cell: 'lstm', vocab, embed: 8, hidden: 16, layers: 2, ...options }, 3);
    expect(model.rnn).toMatchObject(options);
    const optimizer = new Adam(model.modules, { lr: 5e-3 });
    const ids = model.encode(text);
    trainStep(model, optimizer, ids, 12, 4, 5, new Rng(1));
    const restored = loadCheckpoint(saveCheckpoint({ model, optimizer, step: 1 }, 5e-3));
    expect(restored.model.config).toEqual(model.config);
    expect(restored.model.rnn).toMatchObject(options);
    expect(restored.model.evaluate(ids, 16)).toBe(model.evaluate(ids, 16));

    // A checkpoint from before the options: its config has none of the keys, and no curve.
    const plain = new CharModel({ cell: 'gru', vocab, embed: 8, hidden: 16, layers: 2 }, 4);
    const saved = loadSafetensors(saveCheckpoint({ model: plain, optimizer: new Adam(plain.modules), step: 7 }, 1e-3));
    const old = saveSafetensors(saved, {
      format: 'cellscan-charlm-1',
      config: JSON.stringify({ cell: 'gru', vocab, embed: 8, hidden: 16, layers: 2 }),
      step: '7',
      lr: '0.001',
    });
    const loaded = loadCheckpoint(old);
    expect(loaded.step).toBe(7);
    expect(loaded.curve).toBeUndefined();
    expect(loaded.model.config).toEqual({
      cell: 'gru', vocab, embed: 8, hidden: 16, layers: 2, residual: false, zoneout: 0, recurrentDropout: 0, weightDropout: 0, dropout: 0,
    });
    expect(loaded.model.rnn).toMatchObject({ residual: false, zoneout: { hidden: 0, cell: 0 }, recurrentDropout: 0, weightDropout: 0, dropout: 0 });
    expect(loaded.model.evaluate(ids, 16)).toBe(plain.evaluate(ids, 16));
  });

  test('evaluate is the mean cross-entropy of every next character in evaluation mode, whatever masks training drew', () => {
    const model = new CharModel(
      { cell: 'lstm', vocab: vocabularyOf(text), embed: 8, hidden: 16, layers: 2, zoneout: 0.3, recurrentDropout: 0.5, dropout: 0.5 },
      5,
    );
    const ids = model.encode(text).subarray(0, 101); // 100 predictions: windows of 30, 30, 30 and 10
    const before = model.evaluate(ids, 30, 2);
    // The same as crossEntropy over each window from a zero state, evaluation mode, weighted by its length.
    let total = 0;
    for (let s = 0; s < 100; s += 30) {
      const T = Math.min(30, 100 - s);
      const x = model.embedding.forward(new Tensor(ids.slice(s, s + T), [T, 1])).output;
      const logits = model.head.forward(model.rnn.forward(x).output).output;
      total += T * crossEntropy(logits, new Tensor(ids.slice(s + 1, s + T + 1), [T, 1])).loss;
    }
    expect(before).toBeCloseTo(total / 100, 5);
    expect(model.evaluate(ids, 30, 64)).toBeCloseTo(before, 5);
    // Training calls draw masks (and change nothing evaluate depends on, without an optimizer step).
    const drawn = model.lossAndGradients(randomWindows(ids, 20, 3, new Rng(2)));
    expect(model.lossAndGradients(randomWindows(ids, 20, 3, new Rng(2)))).not.toBe(drawn);
    expect(model.evaluate(ids, 30, 2)).toBe(before);
  });
});

