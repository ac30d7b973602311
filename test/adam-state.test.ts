// Adam.loadStateDict takes what the layers' loadStateDict takes (a Map or an object of Tensors)
// and refuses anything else by name, instead of failing inside on a missing d.get.
import { Adam } from '../src';
import { toyModule } from './helpers/toy-module';

test('an object of Tensors restores the step count and moments', () => {
  const m = toyModule([[[2], [1, 2]]]);
  const opt = new Adam(m, { lr: 0.1 });
  m.grads[0].data.set([0.5, -0.5]);
  opt.step();
  const saved = opt.stateDict();
  const other = new Adam(toyModule([[[2], [1, 2]]]), { lr: 0.1 });
  other.loadStateDict(Object.fromEntries(saved));
  expect([...other.stateDict()].map(([k, t]) => [k, [...t.data]])).toEqual([...saved].map(([k, t]) => [k, [...t.data]]));
});

test('what is no dict is a TypeError naming d', () => {
  const opt = new Adam(toyModule([[[1], [1]]]));
  for (const [d, given] of [[3, '3'], [null, 'null'], [[1], '[1]'], ['x', '"x"']] as const) {
    expect(() => opt.loadStateDict(d as never)).toThrow(TypeError);
    expect(() => opt.loadStateDict(d as never)).toThrow(`Adam.loadStateDict: d must be a Map or object of Tensors, got ${given}`);
  }
});
