// The character model behind `cellscan train` / `sample`: checkpoints restore the same outputs and
// optimizer state, sampling is seeded, and bad inputs are named.
import { CharModel, loadCheckpoint, randomWindows, saveCheckpoint, trainStep, vocabularyOf } from '../src/demo/charlm';
import { Adam, saveSafetensors } from '../src';
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
    const probe = randomWindows(ids, 12, 3, new Rng(7));
    const same = (m: CharModel) => m.sample('the ', 40, 0.5, new Rng(11));
    expect(same(restored.model)).toBe(same(model));
    // One more step from either side lands on the same loss and parameters (optimizer state restored).
    const a = trainStep(model, optimizer, ids, 12, 4, 5, new Rng(21));
    const b = trainStep(restored.model, restored.optimizer, ids, 12, 4, 5, new Rng(21));
    expect(b).toBe(a);
    for (const [name, t] of model.stateDict()) expect([name, restored.model.stateDict().get(name)!.data]).toEqual([name, t.data]);
    expect(probe.shape).toEqual([13, 3]);
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
});
