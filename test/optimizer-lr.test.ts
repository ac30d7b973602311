// optimizer.lr is a settable property (PyTorch's param_groups[0]['lr']): the next step uses the
// new rate, 0 included, and a rate that is not a finite number >= 0 is refused, leaving the old one.
// The constructors take exactly the rates the setter takes, with the same message.
import { Adam, SGD } from '../src';
import { toyModule } from './helpers/toy-module';

test('SGD: the step after a change uses the new rate', () => {
  const m = toyModule([[[2], [1, -2]]]);
  const opt = new SGD(m, { lr: 0.1 });
  expect(opt.lr).toBe(0.1);
  m.grads[0].data.set([0.5, 0.25]);
  opt.step(); // p -= 0.1 g
  opt.lr = 0.02;
  expect(opt.lr).toBe(0.02);
  opt.step(); // p -= 0.02 g
  const expected = [1 - 0.1 * 0.5 - 0.02 * 0.5, -2 - 0.1 * 0.25 - 0.02 * 0.25];
  expect(m.params[0].data[0]).toBeCloseTo(expected[0], 6);
  expect(m.params[0].data[1]).toBeCloseTo(expected[1], 6);
});

test('lr 0 freezes the parameters (a warm-up starts there)', () => {
  const m = toyModule([[[3], [1, 2, 3]]]);
  m.grads[0].data.set([1, 1, 1]);
  for (const opt of [new SGD(m, { lr: 0.5, momentum: 0.9 }), new Adam(m, { lr: 0.5 })]) {
    opt.lr = 0;
    opt.step();
    opt.step();
    expect([...m.params[0].data]).toEqual([1, 2, 3]);
  }
});

test('Adam: the step after a change uses the new rate, moments carry on', () => {
  const m = toyModule([[[1], [0.5]]]);
  const opt = new Adam(m, { lr: 0.01, betas: [0.9, 0.99], eps: 1e-8 });
  const grads = [0.2, -0.4];
  const rates = [0.01, 0.003];
  let p = 0.5;
  let mom = 0;
  let vel = 0;
  for (let t = 1; t <= 2; t++) {
    opt.lr = rates[t - 1];
    m.grads[0].data[0] = grads[t - 1];
    opt.step();
    mom = 0.9 * mom + 0.1 * grads[t - 1];
    vel = 0.99 * vel + 0.01 * grads[t - 1] ** 2;
    p -= (rates[t - 1] * (mom / (1 - 0.9 ** t))) / (Math.sqrt(vel / (1 - 0.99 ** t)) + 1e-8);
  }
  expect(m.params[0].data[0]).toBeCloseTo(p, 6);
});

describe('a bad rate is refused and the old one kept', () => {
  const cases: [unknown, ErrorConstructor, string][] = [
    [-0.1, RangeError, 'got -0.1'],
    [NaN, RangeError, 'got NaN'],
    [Infinity, RangeError, 'got Infinity'],
    [-Infinity, RangeError, 'got -Infinity'],
    ['0.1', TypeError, 'got "0.1"'],
    [undefined, TypeError, 'got undefined'],
    [null, TypeError, 'got null'],
  ];
  test.each(cases)('%p', (value, type, given) => {
    const m = toyModule([[[1], [1]]]);
    for (const [name, opt] of [['SGD', new SGD(m, { lr: 0.1 })], ['Adam', new Adam(m, { lr: 0.1 })]] as const) {
      const set = () => {
        opt.lr = value as number;
      };
      expect(set).toThrow(type);
      expect(set).toThrow(`${name}: lr must be a finite number >= 0, ${given}`);
      expect(opt.lr).toBe(0.1);
    }
  });
});

describe('the constructors refuse the rates the setter refuses, in the same words', () => {
  const cases: [unknown, ErrorConstructor, string][] = [
    [-0.1, RangeError, 'got -0.1'],
    [NaN, RangeError, 'got NaN'],
    [Infinity, RangeError, 'got Infinity'],
    ['0.1', TypeError, 'got "0.1"'],
  ];
  test.each(cases)('%p', (value, type, given) => {
    const m = toyModule([[[1], [1]]]);
    const make = { SGD: () => new SGD(m, { lr: value as number }), Adam: () => new Adam(m, { lr: value as number }) };
    for (const [name, build] of Object.entries(make)) {
      expect(build).toThrow(type);
      expect(build).toThrow(`${name}: lr must be a finite number >= 0, ${given}`);
    }
    expect(() => new SGD(m, {} as never)).toThrow('SGD: lr must be a finite number >= 0, got undefined');
  });

  test('lr 0 is taken by the constructors as by the setter', () => {
    const m = toyModule([[[1], [1]]]);
    expect(new SGD(m, { lr: 0 }).lr).toBe(0);
    expect(new Adam(m, { lr: 0 }).lr).toBe(0);
  });
});
