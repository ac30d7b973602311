// Tests of the float64 reference forward (test/reference/rnn64.ts) and the finite-difference helper
// against the golden fixtures (SPEC §6): forward values, and central differences vs PyTorch gradients.
import { Mode, RefConfig, RefInputs, refForward, refLoss } from './reference/rnn64';
import { centralDifference, centralDifferenceAt } from './reference/finiteDifference';
import { GRAD_TOL, OUTPUT_TOL, fixtureFiles as listFixtures, loadFixture as loadGolden, mismatch } from './helpers/fixtures';
import type { Tensor } from '../src/tensor';

const fixtureFiles = listFixtures();

interface Fixture {
  name: string;
  cfg: RefConfig;
  T: number;
  B: number;
  hasGradients: boolean;
  tensors: Map<string, Tensor>;
}

// fixture file name -> reference config + tensors
function loadFixture(file: string): Fixture {
  const { config: c, tensors } = loadGolden(file);
  const cfg: RefConfig = {
    mode: c.mode as Mode,
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    bidirectional: c.bidirectional,
    batchFirst: c.batchFirst,
    bias: c.bias,
    projSize: c.projSize,
    peepholes: c.peepholes,
    linearBeforeReset: c.linearBeforeReset,
  };
  return { name: file, cfg, T: c.seqLen, B: c.batch, hasGradients: c.hasGradients, tensors };
}

function f64(t: Tensor | undefined): Float64Array | undefined {
  return t ? Float64Array.from(t.data) : undefined;
}

// fixture -> float64 parameter map (every weight_* / bias_* tensor)
function paramsOf(fx: Fixture): Map<string, Float64Array> {
  const m = new Map<string, Float64Array>();
  for (const [name, t] of fx.tensors) {
    if (name.startsWith('weight_') || name.startsWith('bias_')) m.set(name, Float64Array.from(t.data));
  }
  return m;
}

// fixture -> float64 reference inputs
function inputsOf(fx: Fixture): RefInputs {
  return {
    input: f64(fx.tensors.get('input'))!,
    T: fx.T,
    B: fx.B,
    h0: f64(fx.tensors.get('h0')),
    c0: f64(fx.tensors.get('c0')),
    lengths: fx.tensors.get('lengths')?.data,
  };
}

// FD costs two forwards per element: by default check at most this many evenly spread elements per
// tensor (every gate block and both ends are hit); CELLSCAN_REF_FULL_FD=1 checks every element.
const FD_SAMPLES = process.env.CELLSCAN_REF_FULL_FD === '1' ? Infinity : 48;

// tensor size n -> sorted distinct indices spread over 0..n-1 (all of them when n ≤ FD_SAMPLES)
function sampleIndices(n: number): number[] {
  if (n <= FD_SAMPLES) return Array.from({ length: n }, (_, e) => e);
  const picked = new Set<number>();
  for (let j = 0; j < FD_SAMPLES; j++) picked.add(Math.floor((j * (n - 1)) / (FD_SAMPLES - 1)));
  return [...picked].sort((a, b) => a - b);
}

describe('golden fixtures', () => {
  test('fixture folder holds safetensors files', () => {
    // fail, never skip, when the fixtures are missing
    expect(fixtureFiles.length).toBeGreaterThan(0);
  });

  for (const file of fixtureFiles) {
    describe(file, () => {
      const fx = loadFixture(file);

      test('reference forward matches output, hN, cN', () => {
        const res = refForward(fx.cfg, paramsOf(fx), inputsOf(fx));
        const problems: string[] = [];
        const check = (name: string, got: Float64Array | undefined) => {
          const want = fx.tensors.get(name);
          if (!want) return;
          if (!got) problems.push(`${name}: missing from the reference result`);
          else problems.push(mismatch(name, got, want.data, OUTPUT_TOL));
        };
        expect(fx.tensors.has('output') && fx.tensors.has('hN')).toBe(true);
        check('output', res.output);
        check('hN', res.hN);
        check('cN', res.cN);
        if (fx.cfg.mode === 'LSTM') expect(fx.tensors.has('cN')).toBe(true);
        expect(problems.filter((p) => p !== '')).toEqual([]);
      });

      if (fx.hasGradients) {
        test('central differences of the reference loss match the fixture gradients', () => {
          const params = paramsOf(fx);
          const inputs = inputsOf(fx);
          const dOutput = f64(fx.tensors.get('dOutput'));
          const dhN = f64(fx.tensors.get('dhN'));
          const dcN = f64(fx.tensors.get('dcN'));
          expect(dOutput).toBeDefined();
          const loss = () => refLoss(refForward(fx.cfg, params, inputs), dOutput, dhN, dcN);

          const targets: [string, Float64Array][] = [['input', inputs.input]];
          if (inputs.h0) targets.push(['h0', inputs.h0]);
          if (inputs.c0) targets.push(['c0', inputs.c0]);
          for (const [name, p] of params) targets.push([name, p]);

          const problems: string[] = [];
          for (const [name, x] of targets) {
            const want = fx.tensors.get(`grad.${name}`);
            if (!want) {
              problems.push(`grad.${name}: missing from the fixture`);
              continue;
            }
            const before = Float64Array.from(x);
            const idx = sampleIndices(x.length);
            const fd = centralDifferenceAt(loss, x, idx, 1e-6);
            const expected = idx.map((e) => want.data[e]);
            const msg = mismatch(`grad.${name}`, fd, expected, GRAD_TOL);
            // report the worst element by its index in the full tensor
            problems.push(msg.replace(/\[(\d+)\] got/, (_, j) => `[${idx[Number(j)]}] got`));
            if (mismatch(`${name} restored`, x, before, { atol: 0, rtol: 0 }) !== '') problems.push(`${name}: not restored after FD`);
          }
          expect(problems.filter((p) => p !== '')).toEqual([]);
        });
      }
    });
  }
});

// deterministic pseudo-random numbers in [-1, 1)
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

// config + rng -> random parameter map with PyTorch names and shapes
function randomParams(cfg: RefConfig, rnd: () => number): Map<string, Float64Array> {
  const G = cfg.mode === 'LSTM' ? 4 : cfg.mode === 'GRU' ? 3 : 1;
  const H = cfg.hiddenSize;
  const Hout = cfg.projSize || H;
  const D = cfg.bidirectional ? 2 : 1;
  const fill = (n: number) => Float64Array.from({ length: n }, () => rnd() * 0.6);
  const m = new Map<string, Float64Array>();
  for (let k = 0; k < cfg.numLayers; k++) {
    for (let d = 0; d < D; d++) {
      const sfx = `_l${k}${d === 1 ? '_reverse' : ''}`;
      const Iin = k === 0 ? cfg.inputSize : D * Hout;
      m.set(`weight_ih${sfx}`, fill(G * H * Iin));
      m.set(`weight_hh${sfx}`, fill(G * H * Hout));
      if (cfg.bias) {
        m.set(`bias_ih${sfx}`, fill(G * H));
        m.set(`bias_hh${sfx}`, fill(G * H));
      }
      if (cfg.projSize > 0) m.set(`weight_hr${sfx}`, fill(Hout * H));
      if (cfg.peepholes) m.set(`weight_peephole${sfx}`, fill(3 * H));
    }
  }
  return m;
}

const baseCfg: RefConfig = {
  mode: 'LSTM', inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, batchFirst: false,
  bias: true, projSize: 0, peepholes: false, linearBeforeReset: true,
};

describe('reference self-consistency', () => {
  test('centralDifference matches an analytic gradient and restores x', () => {
    const x64 = Float64Array.from([0.3, -1.2, 2.5, 0.01]);
    const x32 = Float32Array.from(x64);
    for (const x of [x64, x32]) {
      const before = Array.from(x);
      const f = () => x[0] ** 3 + Math.sin(x[1]) + x[2] * x[3];
      const g = centralDifference(f, x, 1e-4);
      const want = [3 * x[0] ** 2, Math.cos(x[1]), x[3], x[2]];
      expect(mismatch('fd', g, want, { atol: 1e-6, rtol: 1e-6 })).toBe('');
      expect(Array.from(x)).toEqual(before);
      const some = centralDifferenceAt(f, x, [3, 0], 1e-4);
      expect(mismatch('fdAt', some, [want[3], want[0]], { atol: 1e-6, rtol: 1e-6 })).toBe('');
      expect(Array.from(x)).toEqual(before);
    }
  });

  test('batchFirst is a transpose of the time-major result', () => {
    const rnd = lcg(7);
    const T = 4, B = 3;
    const params = randomParams(baseCfg, rnd);
    const input = Float64Array.from({ length: T * B * 3 }, rnd);
    const tm = refForward(baseCfg, params, { input, T, B, lengths: [4, 2, 0] });
    const inputBF = new Float64Array(input.length);
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let i = 0; i < 3; i++) inputBF[(b * T + t) * 3 + i] = input[(t * B + b) * 3 + i];
    const bf = refForward({ ...baseCfg, batchFirst: true }, params, { input: inputBF, T, B, lengths: [4, 2, 0] });
    const F = 2 * 4;
    for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let q = 0; q < F; q++) {
      expect(bf.output[(b * T + t) * F + q]).toBe(tm.output[(t * B + b) * F + q]);
    }
    expect(Array.from(bf.hN)).toEqual(Array.from(tm.hN));
    expect(Array.from(bf.cN!)).toEqual(Array.from(tm.cN!));
  });

  test('lengths equal running each row alone on its truncated sequence (reverse starts at len−1)', () => {
    for (const mode of ['LSTM', 'GRU', 'RNN_TANH'] as Mode[]) {
      const cfg = { ...baseCfg, mode };
      const rnd = lcg(11);
      const T = 5, B = 3, L = 2, D = 2, H = 4;
      const lengths = [5, 3, 0];
      const params = randomParams(cfg, rnd);
      const input = Float64Array.from({ length: T * B * 3 }, rnd);
      const h0 = Float64Array.from({ length: L * D * B * H }, rnd);
      const c0 = mode === 'LSTM' ? Float64Array.from({ length: L * D * B * H }, rnd) : undefined;
      const all = refForward(cfg, params, { input, T, B, h0, c0, lengths });
      for (let b = 0; b < B; b++) {
        const len = lengths[b];
        const xs = new Float64Array(len * 3);
        for (let t = 0; t < len; t++) for (let i = 0; i < 3; i++) xs[t * 3 + i] = input[(t * B + b) * 3 + i];
        const pick = (s: Float64Array, n: number) => {
          const r = new Float64Array(L * D * n);
          for (let sd = 0; sd < L * D; sd++) for (let j = 0; j < n; j++) r[sd * n + j] = s[(sd * B + b) * n + j];
          return r;
        };
        const one = refForward(cfg, params, { input: xs, T: len, B: 1, h0: pick(h0, H), c0: c0 && pick(c0, H) });
        for (let t = 0; t < T; t++) for (let q = 0; q < D * H; q++) {
          const got = all.output[(t * B + b) * D * H + q];
          expect(got).toBe(t < len ? one.output[t * D * H + q] : 0);
        }
        expect(Array.from(pick(all.hN, H))).toEqual(Array.from(one.hN));
        if (c0) expect(Array.from(pick(all.cN!, H))).toEqual(Array.from(one.cN!));
      }
    }
  });

  test('dropout masks multiply the output of every layer but the last', () => {
    const rnd = lcg(3);
    const T = 3, B = 2, F = 2 * 4;
    const params = randomParams(baseCfg, rnd);
    const input = Float64Array.from({ length: T * B * 3 }, rnd);
    const plain = refForward(baseCfg, params, { input, T, B });
    const ones = refForward(baseCfg, params, { input, T, B, dropoutMasks: [new Float64Array(T * B * F).fill(1)] });
    expect(Array.from(ones.output)).toEqual(Array.from(plain.output));
    // a zero mask feeds zeros to layer 1, which then behaves as a lone layer on a zero input
    const zeroed = refForward(baseCfg, params, { input, T, B, dropoutMasks: [new Float64Array(T * B * F)] });
    const lone = new Map<string, Float64Array>();
    for (const [name, p] of params) if (name.includes('_l1')) lone.set(name.replace('_l1', '_l0'), p);
    const single = refForward({ ...baseCfg, numLayers: 1, inputSize: F }, lone, { input: new Float64Array(T * B * F), T, B });
    expect(Array.from(zeroed.output)).toEqual(Array.from(single.output));
    expect(Array.from(zeroed.hN.subarray(2 * B * 4))).toEqual(Array.from(single.hN));
  });
});
