// Learning-rate schedules against their formulas, worked out by hand here: PyTorch's StepLR
// (lr = base · gamma^floor(step / stepSize)) and the linear warm-up + cosine decay of Hugging Face's
// get_cosine_with_min_lr_schedule_with_warmup, held at minLr past totalSteps. Like PyTorch, the
// constructor sets step 0's rate and each step() the next one; a saved state resumes the curve.
import { Adam, CosineWithWarmup, SGD, StepLR } from '../src';
import { toyModule } from './helpers/toy-module';

const sgd = (lr: number) => new SGD(toyModule([[[2], [1, -1]]]), { lr });

/** The rates a schedule gives over `steps` calls of step(), step 0's (the constructor's) first. */
function curve(schedule: StepLR | CosineWithWarmup, steps: number): number[] {
  const out = [schedule.optimizer.lr];
  for (let s = 0; s < steps; s++) {
    schedule.step();
    expect(schedule.optimizer.lr).toBe(schedule.lastLr);
    out.push(schedule.lastLr);
  }
  return out;
}

function expectCloseAll(got: number[], want: number[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    if (Math.abs(g - want[i]) > 1e-12) throw new Error(`step ${i}: got ${g}, want ${want[i]}`);
  });
}

describe('StepLR', () => {
  test('decays by gamma every stepSize steps, from the optimizer\'s lr', () => {
    const opt = sgd(0.05);
    const s = new StepLR(opt, { stepSize: 3, gamma: 0.5 });
    expect([s.lastEpoch, s.lastLr, s.baseLr, opt.lr]).toEqual([0, 0.05, 0.05, 0.05]);
    // by hand: 0.05 for steps 0-2, 0.025 for 3-5, 0.0125 for 6-8, 0.00625 for 9-10
    expectCloseAll(curve(s, 10), [0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125, 0.00625, 0.00625]);
    expect(s.lastEpoch).toBe(10);
  });

  test('PyTorch\'s documented example: lr 0.05, stepSize 30, gamma 0.1 (the default)', () => {
    const s = new StepLR(sgd(0.05), { stepSize: 30 });
    const lr = curve(s, 90);
    expectCloseAll([lr[0], lr[29], lr[30], lr[59], lr[60], lr[89], lr[90]], [0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005, 0.00005]);
  });

  test('the optimizer steps at the scheduled rate (SGD: p -= lr · g)', () => {
    const m = toyModule([[[1], [1]]]);
    const opt = new SGD(m, { lr: 0.1 });
    const s = new StepLR(opt, { stepSize: 1, gamma: 0.5 });
    m.grads[0].data[0] = 1;
    for (let i = 0; i < 3; i++) {
      opt.step();
      s.step();
    }
    expect(m.params[0].data[0]).toBeCloseTo(1 - 0.1 - 0.05 - 0.025, 6);
  });
});

describe('CosineWithWarmup', () => {
  // base 0.1, 4 warm-up steps, 12 in all, minLr 0.01: lr = 0.1 · s / 4 for s < 4, then
  // 0.01 + 0.09 · (1 + cos(π (s − 4) / 8)) / 2, then 0.01 from s = 12 on.
  const byHand = [
    0, 0.025, 0.05, 0.075, // warm-up
    0.1, 0.096574578963, 0.086819805153, 0.072220754456, 0.055, 0.037779245544, 0.023180194847, 0.013425421037,
    0.01, 0.01, 0.01, // held at minLr
  ];

  test('linear warm-up from 0, cosine down to minLr, then minLr', () => {
    const opt = sgd(0.1);
    const s = new CosineWithWarmup(opt, { warmupSteps: 4, totalSteps: 12, minLr: 0.01 });
    expect([s.lastEpoch, s.lastLr, s.baseLr, opt.lr]).toEqual([0, 0, 0.1, 0]);
    const got = curve(s, 14);
    got.forEach((g, i) => expect(g).toBeCloseTo(byHand[i], 11));
    // The formula at every step, and its end points exactly.
    const formula = (step: number) =>
      step < 4 ? (0.1 * step) / 4 : 0.01 + 0.09 * 0.5 * (1 + Math.cos((Math.PI * Math.min(step - 4, 8)) / 8));
    expectCloseAll(got, got.map((_, i) => formula(i)));
    // (cos(π/2) is 6e-17 in doubles, so the midpoint is only close; the ends are exact.)
    expect([got[4], got[12], got[14]]).toEqual([0.1, 0.01, 0.01]);
  });

  test('without warm-up it starts at the base rate; minLr defaults to 0', () => {
    const s = new CosineWithWarmup(sgd(0.2), { warmupSteps: 0, totalSteps: 4 });
    // 0.2 · (1 + cos(π s / 4)) / 2: 0.2, 0.170710678, 0.1, 0.029289322, 0
    const got = curve(s, 5);
    [0.2, 0.170710678119, 0.1, 0.029289321881, 0, 0].forEach((w, i) => expect(got[i]).toBeCloseTo(w, 11));
    expect(got[4]).toBe(0);
  });

  test('warmupSteps equal to totalSteps: the warm-up, then minLr', () => {
    const s = new CosineWithWarmup(sgd(0.1), { warmupSteps: 2, totalSteps: 2, minLr: 0.05 });
    expectCloseAll(curve(s, 4), [0, 0.05, 0.1, 0.05, 0.05]);
  });

  test('drives Adam too', () => {
    const opt = new Adam(toyModule([[[1], [1]]]), { lr: 0.01 });
    const s = new CosineWithWarmup(opt, { warmupSteps: 2, totalSteps: 10 });
    s.step();
    expect(opt.lr).toBeCloseTo(0.005, 15);
  });
});

describe('a resumed run continues the curve', () => {
  const makers: [string, (lr: number) => StepLR | CosineWithWarmup][] = [
    ['StepLR', (lr) => new StepLR(sgd(lr), { stepSize: 4, gamma: 0.3 })],
    ['CosineWithWarmup', (lr) => new CosineWithWarmup(sgd(lr), { warmupSteps: 3, totalSteps: 20, minLr: 1e-4 })],
  ];
  test.each(makers)('%s', (_name, make) => {
    const straight = curve(make(3e-3), 25);

    const first = make(3e-3);
    for (let i = 0; i < 9; i++) first.step();
    const saved = JSON.parse(JSON.stringify(first.stateDict()));
    expect(saved).toEqual({ lastEpoch: 9, baseLr: 3e-3 });

    // The new optimizer's own lr does not matter: the state carries the base rate.
    const resumed = make(1e-3);
    resumed.loadStateDict(saved);
    expect(resumed.optimizer.lr).toBe(straight[9]);
    expect([resumed.lastEpoch, resumed.lastLr, resumed.baseLr]).toEqual([9, straight[9], 3e-3]);
    expect(curve(resumed, 16)).toEqual(straight.slice(9));
  });
});

describe('bad arguments are refused, naming them', () => {
  const cases: [string, () => unknown, ErrorConstructor, RegExp][] = [
    ['StepLR without an optimizer', () => new StepLR({ lr: 0.1 } as never, { stepSize: 1 }), TypeError,
      /^StepLR: optimizer must be an optimizer \(SGD or Adam\), got an object$/],
    ['StepLR without options', () => new StepLR(sgd(0.1), undefined as never), TypeError, /^StepLR: options must be an object, got undefined$/],
    ['stepSize 0', () => new StepLR(sgd(0.1), { stepSize: 0 }), RangeError, /^StepLR: stepSize must be a positive integer, got 0$/],
    ['stepSize 2.5', () => new StepLR(sgd(0.1), { stepSize: 2.5 }), RangeError, /^StepLR: stepSize must be a positive integer, got 2\.5$/],
    ['stepSize missing', () => new StepLR(sgd(0.1), {} as never), TypeError, /^StepLR: stepSize must be a positive integer, got undefined$/],
    ['gamma 0', () => new StepLR(sgd(0.1), { stepSize: 1, gamma: 0 }), RangeError, /^StepLR: gamma must be a finite number > 0, got 0$/],
    ['gamma NaN', () => new StepLR(sgd(0.1), { stepSize: 1, gamma: NaN }), RangeError, /^StepLR: gamma must be a finite number > 0, got NaN$/],
    ['gamma "0.5"', () => new StepLR(sgd(0.1), { stepSize: 1, gamma: '0.5' as never }), TypeError, /^StepLR: gamma must be a finite number > 0, got "0\.5"$/],
    ['cosine without an optimizer', () => new CosineWithWarmup(null as never, { warmupSteps: 0, totalSteps: 1 }), TypeError,
      /^CosineWithWarmup: optimizer must be an optimizer \(SGD or Adam\), got null$/],
    ['warmupSteps -1', () => new CosineWithWarmup(sgd(0.1), { warmupSteps: -1, totalSteps: 10 }), RangeError,
      /^CosineWithWarmup: warmupSteps must be a non-negative integer, got -1$/],
    ['warmupSteps missing', () => new CosineWithWarmup(sgd(0.1), { totalSteps: 10 } as never), TypeError,
      /^CosineWithWarmup: warmupSteps must be a non-negative integer, got undefined$/],
    ['warmupSteps past totalSteps', () => new CosineWithWarmup(sgd(0.1), { warmupSteps: 11, totalSteps: 10 }), RangeError,
      /^CosineWithWarmup: warmupSteps must be at most totalSteps \(10\), got 11$/],
    ['totalSteps 0', () => new CosineWithWarmup(sgd(0.1), { warmupSteps: 0, totalSteps: 0 }), RangeError,
      /^CosineWithWarmup: totalSteps must be a positive integer, got 0$/],
    ['minLr -1e-9', () => new CosineWithWarmup(sgd(0.1), { warmupSteps: 0, totalSteps: 5, minLr: -1e-9 }), RangeError,
      /^CosineWithWarmup: minLr must be a finite number >= 0, got -1e-9$/],
    ['minLr above the base rate', () => new CosineWithWarmup(sgd(0.1), { warmupSteps: 0, totalSteps: 5, minLr: 0.2 }), RangeError,
      /^CosineWithWarmup: minLr must be at most the optimizer's lr \(0\.1\), got 0\.2$/],
  ];
  test.each(cases)('%s', (_name, call, type, message) => {
    expect(call).toThrow(type);
    expect(call).toThrow(message);
  });
});

describe('a bad state is refused in full, naming the entry, and nothing changes', () => {
  const cases: [string, unknown, ErrorConstructor, RegExp][] = [
    ['no object', 9, TypeError, /^CosineWithWarmup\.loadStateDict: state must be an object, got 9$/],
    ['lastEpoch missing', { baseLr: 0.1 }, TypeError, /^CosineWithWarmup\.loadStateDict: state\.lastEpoch must be a non-negative integer, got undefined$/],
    ['lastEpoch -1', { lastEpoch: -1, baseLr: 0.1 }, RangeError, /state\.lastEpoch must be a non-negative integer, got -1$/],
    ['lastEpoch 2.5', { lastEpoch: 2.5, baseLr: 0.1 }, RangeError, /state\.lastEpoch must be a non-negative integer, got 2\.5$/],
    ['lastEpoch as a string', { lastEpoch: '3', baseLr: 0.1 }, TypeError, /state\.lastEpoch must be a non-negative integer, got "3"$/],
    ['baseLr missing', { lastEpoch: 3 }, TypeError, /^CosineWithWarmup\.loadStateDict: state\.baseLr must be a finite number >= 0, got undefined$/],
    ['baseLr Infinity', { lastEpoch: 3, baseLr: Infinity }, RangeError, /state\.baseLr must be a finite number >= 0, got Infinity$/],
    ['baseLr below minLr', { lastEpoch: 3, baseLr: 0.001 }, RangeError,
      /^CosineWithWarmup\.loadStateDict: state\.baseLr must be at least minLr \(0\.01\), got 0\.001$/],
  ];
  test.each(cases)('%s', (_name, state, type, message) => {
    const opt = sgd(0.1);
    const s = new CosineWithWarmup(opt, { warmupSteps: 2, totalSteps: 10, minLr: 0.01 });
    s.step();
    const load = () => s.loadStateDict(state as never);
    expect(load).toThrow(type);
    expect(load).toThrow(message);
    expect([s.lastEpoch, s.baseLr, s.lastLr, opt.lr]).toEqual([1, 0.1, 0.05, 0.05]);
  });

  test('StepLR names itself', () => {
    expect(() => new StepLR(sgd(0.1), { stepSize: 2 }).loadStateDict({ lastEpoch: 1 } as never)).toThrow(
      /^StepLR\.loadStateDict: state\.baseLr must be a finite number >= 0, got undefined$/,
    );
  });
});
