// Tests of the float64 reference forward (test/reference/rnn64.ts) and the finite-difference helper
// against the golden fixtures (SPEC §6): forward values, and central differences vs PyTorch gradients.
import { Mode, RefConfig, RefInputs, RefOutputs, refForward, refLoss } from './reference/rnn64';
import { centralDifference, centralDifferenceAt } from './reference/finiteDifference';
import { GRAD_TOL, OUTPUT_TOL, fixtureFiles as listFixtures, loadFixture as loadGolden, mismatch } from './helpers/fixtures';
import type { Tensor } from '../src/tensor';

const fixtureFiles = listFixtures();

// One fixture as a reference case. Layer fixtures map one to one; cell fixtures (SPEC §6, mode
// LSTMCell | GRUCell | RNNCell_*) are run as a one-layer, one-step sequence, whose hN/cN are the
// cell's h/c and whose parameters carry the `_l0` suffix.
interface Case {
  name: string;
  raw: Record<string, unknown>; // __metadata__.config as stored
  cfg: RefConfig;
  T: number;
  B: number;
  hasGradients: boolean;
  tensors: Map<string, Tensor>;
  isCell: boolean;
}

const CELL_MODES: Record<string, Mode> = { LSTMCell: 'LSTM', GRUCell: 'GRU', RNNCell_TANH: 'RNN_TANH', RNNCell_RELU: 'RNN_RELU' };

// a fixture's config carries one of the variants of SPEC §3a (then it was computed in evaluation mode)
function isVariantConfig(raw: Record<string, unknown>): boolean {
  return 'residual' in raw || 'zoneout' in raw || raw.tape === true;
}

// fixture file name -> reference case (config + tensors); throws when the file is missing
function loadCase(file: string): Case {
  const { config: c, tensors } = loadGolden(file);
  const raw = JSON.parse(tensors.metadata.config) as Record<string, unknown>;
  const cellMode = CELL_MODES[c.mode as string];
  const isCell = cellMode !== undefined;
  const cfg: RefConfig = {
    mode: isCell ? cellMode : (c.mode as Mode),
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    numLayers: isCell ? 1 : c.numLayers,
    bidirectional: isCell ? false : c.bidirectional,
    batchFirst: isCell ? false : c.batchFirst,
    bias: c.bias,
    projSize: c.projSize,
    peepholes: c.peepholes,
    linearBeforeReset: c.linearBeforeReset,
  };
  // the variants; dropout / recurrentDropout / weightDropout are training-only and ignored here (SPEC §6)
  if ('residual' in raw) cfg.residual = raw.residual === true;
  if ('zoneout' in raw) {
    const z = raw.zoneout as { hidden: number; cell: number };
    cfg.zoneout = { hidden: z.hidden, cell: z.cell };
  }
  return {
    name: file, raw, cfg, T: isCell ? 1 : c.seqLen, B: c.batch, hasGradients: c.hasGradients, tensors, isCell,
  };
}

function f64(t: Tensor | undefined): Float64Array | undefined {
  return t ? Float64Array.from(t.data) : undefined;
}

// reference parameter name -> the fixture's name for it (cells have no `_l0` suffix)
function fixtureName(fx: Case, refName: string): string {
  return fx.isCell ? refName.replace(/_l0$/, '') : refName;
}

// fixture -> float64 parameter map by reference names (every weight_* / bias_* tensor)
function paramsOf(fx: Case): Map<string, Float64Array> {
  const m = new Map<string, Float64Array>();
  for (const [name, t] of fx.tensors) {
    if (name.startsWith('weight_') || name.startsWith('bias_')) m.set(fx.isCell ? `${name}_l0` : name, Float64Array.from(t.data));
  }
  return m;
}

// fixture -> float64 reference inputs (a cell's [B, I] input and [B, H] states are [1, B, ·] as they lie)
function inputsOf(fx: Case): RefInputs {
  return {
    input: f64(fx.tensors.get('input'))!,
    T: fx.T,
    B: fx.B,
    h0: f64(fx.tensors.get('h0')),
    c0: f64(fx.tensors.get('c0')),
    lengths: fx.tensors.get('lengths')?.data,
  };
}

// fixture -> the expected results by reference result name, and the loss weights by reference name
function expectedOf(fx: Case): { output?: Tensor; hN?: Tensor; cN?: Tensor } {
  if (fx.isCell) return { output: fx.tensors.get('h'), hN: fx.tensors.get('h'), cN: fx.tensors.get('c') };
  return { output: fx.tensors.get('output'), hN: fx.tensors.get('hN'), cN: fx.tensors.get('cN') };
}
function lossWeightsOf(fx: Case): { dOutput?: Float64Array; dhN?: Float64Array; dcN?: Float64Array } {
  if (fx.isCell) return { dhN: f64(fx.tensors.get('dh')), dcN: f64(fx.tensors.get('dc')) };
  return { dOutput: f64(fx.tensors.get('dOutput')), dhN: f64(fx.tensors.get('dhN')), dcN: f64(fx.tensors.get('dcN')) };
}

// FD costs two forwards per element: by default check at most this many evenly spread elements per
// tensor (every gate block and both ends are hit); CELLSCAN_REF_FULL_FD=1 checks every element.
const FULL_FD = process.env.CELLSCAN_REF_FULL_FD === '1';
const FD_SAMPLES = FULL_FD ? Infinity : 48;
const FD_SAMPLES_VARIANTS = FULL_FD ? Infinity : 40;

// (tensor size n, sample count) -> sorted distinct indices spread over 0..n-1 (all of them when n ≤ samples)
function sampleIndices(n: number, samples = FD_SAMPLES): number[] {
  if (n <= samples) return Array.from({ length: n }, (_, e) => e);
  const picked = new Set<number>();
  for (let j = 0; j < samples; j++) picked.add(Math.floor((j * (n - 1)) / (samples - 1)));
  return [...picked].sort((a, b) => a - b);
}

// reference forward vs the fixture's output, hN, cN: -> list of problems ('' entries removed)
function forwardProblems(fx: Case, cfg: RefConfig = fx.cfg): string[] {
  const res = refForward(cfg, paramsOf(fx), inputsOf(fx));
  const want = expectedOf(fx);
  const problems: string[] = [];
  if (!want.output || !want.hN) problems.push('fixture lacks its output / hN');
  if (cfg.mode === 'LSTM' && !want.cN) problems.push('LSTM fixture lacks cN');
  const check = (name: string, got: Float64Array | undefined, w: Tensor | undefined) => {
    if (!w) return;
    if (!got) problems.push(`${name}: missing from the reference result`);
    else problems.push(mismatch(name, got, w.data, OUTPUT_TOL));
  };
  check('output', res.output, want.output);
  check('hN', res.hN, want.hN);
  check('cN', res.cN, want.cN);
  return problems.filter((p) => p !== '');
}

// central differences of the reference loss vs every grad.* of the fixture: -> list of problems
function gradientProblems(fx: Case, samples: number): string[] {
  const params = paramsOf(fx);
  const inputs = inputsOf(fx);
  const { dOutput, dhN, dcN } = lossWeightsOf(fx);
  const problems: string[] = [];
  if (!fx.isCell && !dOutput) problems.push('fixture lacks dOutput');
  const loss = () => refLoss(refForward(fx.cfg, params, inputs), dOutput, dhN, dcN);

  const targets: [string, Float64Array][] = [['input', inputs.input]];
  if (inputs.h0) targets.push(['h0', inputs.h0]);
  if (inputs.c0) targets.push(['c0', inputs.c0]);
  for (const [name, p] of params) targets.push([fixtureName(fx, name), p]);

  for (const [name, x] of targets) {
    const want = fx.tensors.get(`grad.${name}`);
    if (!want) {
      problems.push(`grad.${name}: missing from the fixture`);
      continue;
    }
    const before = Float64Array.from(x);
    const idx = sampleIndices(x.length, samples);
    const fd = centralDifferenceAt(loss, x, idx, 1e-6);
    const expected = idx.map((e) => want.data[e]);
    const msg = mismatch(`grad.${name}`, fd, expected, GRAD_TOL);
    // report the worst element by its index in the full tensor
    problems.push(msg.replace(/\[(\d+)\] got/, (_, j) => `[${idx[Number(j)]}] got`));
    if (mismatch(`${name} restored`, x, before, { atol: 0, rtol: 0 }) !== '') problems.push(`${name}: not restored after FD`);
  }
  return problems.filter((p) => p !== '');
}

// The variant cases of SPEC §6 by name: each must exist (a missing file fails its tests, never skips).
// Any other file whose config names a variant is checked the same way.
const NAMED_VARIANT_FIXTURES = [
  'lstm_residual_stacked.safetensors',
  'gru_residual.safetensors',
  'lstm_zoneout_eval.safetensors',
  'gru_zoneout_eval_lengths.safetensors',
  'lstm_proj_zoneout_residual.safetensors',
  'lstm_eval_regularizers_off.safetensors',
];
const variantFiles = new Set<string>(NAMED_VARIANT_FIXTURES);
for (const file of fixtureFiles) {
  try {
    if (isVariantConfig(loadCase(file).raw)) variantFiles.add(file);
  } catch {
    // an unreadable file fails in the plain section below
  }
}

describe('golden fixtures', () => {
  test('fixture folder holds safetensors files', () => {
    // fail, never skip, when the fixtures are missing
    expect(fixtureFiles.length).toBeGreaterThan(0);
  });

  for (const file of fixtureFiles.filter((f) => !variantFiles.has(f))) {
    describe(file, () => {
      const fx = loadCase(file);

      test('reference forward matches output, hN, cN', () => {
        expect(forwardProblems(fx)).toEqual([]);
      });

      if (fx.hasGradients) {
        test('central differences of the reference loss match the fixture gradients', () => {
          expect(gradientProblems(fx, FD_SAMPLES)).toEqual([]);
        });
      }
    });
  }
});

describe('golden fixtures with variants (SPEC §3a, evaluation form: tape: true)', () => {
  const cache = new Map<string, Case>();
  // loaded inside the tests, so a missing file is a failing test
  const get = (file: string): Case => {
    if (!cache.has(file)) cache.set(file, loadCase(file));
    return cache.get(file)!;
  };

  test('every named variant fixture is in the folder', () => {
    expect(NAMED_VARIANT_FIXTURES.filter((f) => !fixtureFiles.includes(f))).toEqual([]);
  });

  for (const file of [...variantFiles].sort()) {
    describe(file, () => {
      test('config: evaluation mode with a tape, zoneout as {hidden, cell}, residual a boolean', () => {
        const fx = get(file);
        expect(fx.raw.tape).toBe(true);
        expect(fx.isCell).toBe(false);
        if ('zoneout' in fx.raw) {
          const z = fx.raw.zoneout as Record<string, unknown>;
          expect(Object.keys(z).sort()).toEqual(['cell', 'hidden']);
          expect(typeof z.hidden).toBe('number');
          expect(typeof z.cell).toBe('number');
        }
        if ('residual' in fx.raw) expect(typeof fx.raw.residual).toBe('boolean');
        expect(fx.hasGradients).toBe(true);
      });

      test('reference forward matches output, hN, cN', () => {
        expect(forwardProblems(get(file))).toEqual([]);
      });

      test('the case exercises its variants: the reference without them does not match', () => {
        const fx = get(file);
        const active = fx.cfg.residual === true || (fx.cfg.zoneout !== undefined && (fx.cfg.zoneout.hidden > 0 || fx.cfg.zoneout.cell > 0));
        const plain: RefConfig = { ...fx.cfg, residual: false, zoneout: undefined };
        if (active) expect(forwardProblems(fx, plain)).not.toEqual([]);
        else expect(forwardProblems(fx, plain)).toEqual([]); // e.g. regularizers_off: evaluation ignores them
      });

      test(`central differences of the reference loss match the fixture gradients (≤ ${FD_SAMPLES_VARIANTS} per tensor)`, () => {
        expect(gradientProblems(get(file), FD_SAMPLES_VARIANTS)).toEqual([]);
      });
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

// ---- the variants of SPEC §3a, checked by identities that need no fixture ----

// a and b equal element for element (+0 and −0 count equal): -> '' or the worst difference
function exact(what: string, a: ArrayLike<number> | undefined, b: ArrayLike<number> | undefined): string {
  if (!a || !b) return a === b ? '' : `${what}: present on one side only`;
  return mismatch(what, a, b, { atol: 0, rtol: 0 });
}

// both results equal exactly: output, hN, cN -> list of problems
function sameResult(a: RefOutputs, b: RefOutputs, what = ''): string[] {
  return [exact(`${what}output`, a.output, b.output), exact(`${what}hN`, a.hN, b.hN), exact(`${what}cN`, a.cN, b.cN)].filter((p) => p !== '');
}

const VARIANT_CFGS: [string, RefConfig][] = [
  ['LSTM projection + peepholes', { ...baseCfg, hiddenSize: 5, projSize: 3, peepholes: true }],
  ['LSTM', { ...baseCfg }],
  ['GRU linear-before-reset', { ...baseCfg, mode: 'GRU', linearBeforeReset: true }],
  ['GRU reset-before-linear', { ...baseCfg, mode: 'GRU', linearBeforeReset: false }],
  ['RNN tanh', { ...baseCfg, mode: 'RNN_TANH' }],
  ['RNN relu', { ...baseCfg, mode: 'RNN_RELU' }],
];

// sizes of a config: -> { H, Hout, D, S = L*D }
function sizes(cfg: RefConfig) {
  const H = cfg.hiddenSize;
  const Hout = cfg.projSize || H;
  const D = cfg.bidirectional ? 2 : 1;
  return { H, Hout, D, S: cfg.numLayers * D };
}

// a random case for cfg: input [T,B,I], h0 [S,B,Hout], c0 [S,B,H] (LSTM), params
function randomCase(cfg: RefConfig, T: number, B: number, seed: number) {
  const rnd = lcg(seed);
  const { H, Hout, S } = sizes(cfg);
  const params = randomParams(cfg, rnd);
  const input = Float64Array.from({ length: T * B * cfg.inputSize }, rnd);
  const h0 = Float64Array.from({ length: S * B * Hout }, rnd);
  const c0 = cfg.mode === 'LSTM' ? Float64Array.from({ length: S * B * H }, rnd) : undefined;
  return { rnd, params, inputs: { input, T, B, h0, c0 } as RefInputs };
}

// params with every weight_hh (or only `only`) replaced by f(old) -> new map
function mapWhh(params: Map<string, Float64Array>, f: (w: Float64Array, name: string) => Float64Array, only?: string): Map<string, Float64Array> {
  const m = new Map<string, Float64Array>();
  for (const [name, p] of params) m.set(name, name.startsWith('weight_hh') && (only === undefined || name === only) ? f(p, name) : p);
  return m;
}

// zoneout masks for every layer direction, filled with v: -> [S] of { hidden [T,B,Hout], cell [T,B,H] (LSTM) }
function zoneoutFilled(cfg: RefConfig, T: number, B: number, v: number): RefInputs['zoneoutMasks'] {
  const { H, Hout, S } = sizes(cfg);
  return Array.from({ length: S }, () => ({
    hidden: new Float64Array(T * B * Hout).fill(v),
    cell: cfg.mode === 'LSTM' ? new Float64Array(T * B * H).fill(v) : undefined,
  }));
}

// recurrent masks for every layer direction filled with v: -> [S] of [B, Hout]
function recurrentFilled(cfg: RefConfig, B: number, v: number): Float64Array[] {
  const { Hout, S } = sizes(cfg);
  return Array.from({ length: S }, () => new Float64Array(B * Hout).fill(v));
}

// weight masks for every weight_hh filled with v: -> name -> [G*H, Hout]
function weightFilled(params: Map<string, Float64Array>, v: number): Map<string, Float64Array> {
  const m = new Map<string, Float64Array>();
  for (const [name, p] of params) if (name.startsWith('weight_hh')) m.set(name, new Float64Array(p.length).fill(v));
  return m;
}

// row b of a time-major [T, B, C] tensor, first len steps: -> [len, 1, C]
function rowSteps(a: Float64Array, T: number, B: number, C: number, b: number, len: number): Float64Array {
  const r = new Float64Array(len * C);
  for (let t = 0; t < len; t++) for (let c = 0; c < C; c++) r[t * C + c] = a[(t * B + b) * C + c];
  return r;
}

// row b of a [N, B, C] tensor (states, per-direction masks): -> [N, 1, C]
function rowOf(a: Float64Array, N: number, B: number, C: number, b: number): Float64Array {
  return rowSteps(a, N, B, C, b, N);
}

describe('reference variants: zoneout (SPEC §3a)', () => {
  const T = 4, B = 3;
  const lengths = [4, 2, 0];

  for (const [label, cfg] of VARIANT_CFGS) {
    test(`${label}: zoneout masks of all 1, and evaluation p = 1, freeze the state (outputs h0, hN = h0, cN = c0)`, () => {
      const { params, inputs } = randomCase(cfg, T, B, 21);
      const { Hout, D } = sizes(cfg);
      const zo = cfg.mode === 'LSTM' ? { hidden: 1, cell: 1 } : { hidden: 1, cell: 0 };
      const byMask = refForward(cfg, params, { ...inputs, lengths, zoneoutMasks: zoneoutFilled(cfg, T, B, 1) });
      const byP = refForward({ ...cfg, zoneout: zo }, params, { ...inputs, lengths });
      for (const res of [byMask, byP]) {
        const problems: string[] = [];
        // the last layer's output steps are its own h0 (per direction), 0 at padded steps
        const want = new Float64Array(res.output.length);
        const last = cfg.numLayers - 1;
        for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) for (let d = 0; d < D; d++) for (let q = 0; q < Hout; q++) {
          want[(t * B + b) * D * Hout + d * Hout + q] = t < lengths[b] ? inputs.h0![((last * D + d) * B + b) * Hout + q] : 0;
        }
        problems.push(exact('output', res.output, want), exact('hN', res.hN, inputs.h0), exact('cN', res.cN, inputs.c0));
        expect(problems.filter((p) => p !== '')).toEqual([]);
      }
    });

    test(`${label}: zoneout masks of all 0 equal no zoneout, even with p set (a mask replaces p)`, () => {
      const { params, inputs } = randomCase(cfg, T, B, 22);
      const plain = refForward(cfg, params, { ...inputs, lengths });
      const zo = { hidden: 0.4, cell: cfg.mode === 'LSTM' ? 0.3 : 0 };
      const masked = refForward({ ...cfg, zoneout: zo }, params, { ...inputs, lengths, zoneoutMasks: zoneoutFilled(cfg, T, B, 0) });
      expect(sameResult(masked, plain)).toEqual([]);
      // and p itself does change the result
      expect(sameResult(refForward({ ...cfg, zoneout: zo }, params, { ...inputs, lengths }), plain)).not.toEqual([]);
    });

    test(`${label}: a zoneout mask filled with p equals evaluation zoneout p`, () => {
      const { params, inputs } = randomCase(cfg, T, B, 23);
      const p = 0.35;
      const zo = { hidden: p, cell: cfg.mode === 'LSTM' ? p : 0 };
      const evalForm = refForward({ ...cfg, zoneout: zo }, params, { ...inputs, lengths });
      const maskForm = refForward(cfg, params, { ...inputs, lengths, zoneoutMasks: zoneoutFilled(cfg, T, B, p) });
      expect(sameResult(maskForm, evalForm)).toEqual([]);
    });
  }

  for (const [label, cfg0] of VARIANT_CFGS) {
    test(`${label}: one step of evaluation zoneout is h = p_h·h0 + (1−p_h)·h̃, c = p_c·c0 + (1−p_c)·c̃, h̃ from c̃`, () => {
      const cfg = { ...cfg0, numLayers: 1, bidirectional: false };
      const { params, inputs } = randomCase(cfg, 1, B, 24);
      const plain = refForward(cfg, params, inputs); // h̃ = plain.hN, c̃ = plain.cN
      const isLSTM = cfg.mode === 'LSTM';
      const ph = 0.3, pc = isLSTM ? 0.6 : 0;
      const zoned = refForward({ ...cfg, zoneout: { hidden: ph, cell: pc } }, params, inputs);
      const wantH = plain.hN.map((v, e) => ph * inputs.h0![e] + (1 - ph) * v);
      const problems = [exact('hN', zoned.hN, wantH), exact('output', zoned.output, wantH)];
      if (isLSTM) {
        problems.push(exact('cN', zoned.cN, plain.cN!.map((v, e) => pc * inputs.c0![e] + (1 - pc) * v)));
        // cell zoneout alone leaves this step's h alone: h̃ = o(c̃)⊙tanh(c̃), never the zoned-out c
        const cellOnly = refForward({ ...cfg, zoneout: { hidden: 0, cell: pc } }, params, inputs);
        problems.push(exact('h with cell zoneout only', cellOnly.hN, plain.hN));
        problems.push(exact('c with cell zoneout only', cellOnly.cN, zoned.cN));
      }
      expect(problems.filter((p) => p !== '')).toEqual([]);
    });
  }

  test('a zoneout mask entry acts at its own time step t, unit and direction only (not by step order)', () => {
    for (const which of ['hidden', 'cell'] as const) {
      const cfg: RefConfig = { ...baseCfg, numLayers: 1, hiddenSize: 4 }; // bidirectional LSTM
      const B2 = 2, lens = [4, 2];
      const { params, inputs } = randomCase(cfg, T, B2, 25);
      const H = 4, F = 2 * H;
      const plain = refForward(cfg, params, { ...inputs, lengths: lens });
      // keep unit 1 of the reverse direction (s = 1) at time step 3: the reverse direction's first step for
      // row 0 (length 4), a padded step for row 1 (length 2)
      const mask = new Float64Array(T * B2 * H);
      for (let b = 0; b < B2; b++) mask[(3 * B2 + b) * H + 1] = 1;
      const zoneoutMasks = [{}, which === 'hidden' ? { hidden: mask } : { cell: mask }];
      const res = refForward(cfg, params, { ...inputs, lengths: lens, zoneoutMasks });
      const at = (o: Float64Array, t: number, b: number, q: number) => o[(t * B2 + b) * F + q];
      const problems: string[] = [];
      for (let t = 0; t < T; t++) for (let b = 0; b < B2; b++) for (let q = 0; q < F; q++) {
        const changed = at(res.output, t, b, q) !== at(plain.output, t, b, q);
        const isHiddenTarget = which === 'hidden' && t === 3 && b === 0 && q === H + 1;
        if (isHiddenTarget) {
          if (at(res.output, t, b, q) !== inputs.h0![(1 * B2 + 0) * H + 1]) problems.push('kept unit is not the reverse h0');
        } else if (changed && (q < H || b === 1 || t === 3)) {
          // forward half, the padded row and the other units of the masked step are untouched
          problems.push(`output [${t}, ${b}, ${q}] changed`);
        }
      }
      // the keep changes the reverse direction's later steps of row 0 (t < 3)
      let later = 0;
      for (let t = 0; t < 3; t++) for (let q = H; q < F; q++) if (at(res.output, t, 0, q) !== at(plain.output, t, 0, q)) later++;
      if (later === 0) problems.push('the keep did not reach later steps');
      // row 1 keeps its hN/cN; the forward direction's hN/cN are untouched
      for (const [name, a, b, C] of [['hN', res.hN, plain.hN, H], ['cN', res.cN!, plain.cN!, H]] as const) {
        problems.push(exact(`${name} forward`, a.subarray(0, B2 * C), b.subarray(0, B2 * C)));
        problems.push(exact(`${name} reverse row 1`, a.subarray((B2 + 1) * C, (B2 + 2) * C), b.subarray((B2 + 1) * C, (B2 + 2) * C)));
      }
      if (which === 'cell') {
        // at the masked step itself h̃ uses c̃, so h there is unchanged; the kept c is c0's unit 1
        if (at(res.output, 3, 0, H + 1) !== at(plain.output, 3, 0, H + 1)) problems.push('cell keep changed h at its own step');
      }
      expect(problems.filter((p) => p !== '')).toEqual([]);
    }
  });
});

describe('reference variants: recurrent dropout and weight dropout (SPEC §3a)', () => {
  const T = 4, B = 3;
  const lengths = [4, 3, 1];

  for (const [label, cfg] of VARIANT_CFGS) {
    test(`${label}: recurrent masks of all 0, and weight masks of all 0, equal weight_hh = 0`, () => {
      const { params, inputs } = randomCase(cfg, T, B, 31);
      const noRecurrence = refForward(cfg, mapWhh(params, (w) => new Float64Array(w.length)), { ...inputs, lengths });
      const byRecurrent = refForward(cfg, params, { ...inputs, lengths, recurrentMasks: recurrentFilled(cfg, B, 0) });
      const byWeight = refForward(cfg, params, { ...inputs, lengths, weightMasks: weightFilled(params, 0) });
      expect([...sameResult(byRecurrent, noRecurrence, 'recurrent '), ...sameResult(byWeight, noRecurrence, 'weight ')]).toEqual([]);
      // and weight_hh matters here at all
      expect(sameResult(refForward(cfg, params, { ...inputs, lengths }), noRecurrence)).not.toEqual([]);
    });

    test(`${label}: recurrent and weight masks of all 1 change nothing`, () => {
      const { params, inputs } = randomCase(cfg, T, B, 32);
      const plain = refForward(cfg, params, { ...inputs, lengths });
      const ones = refForward(cfg, params, {
        ...inputs, lengths, recurrentMasks: recurrentFilled(cfg, B, 1), weightMasks: weightFilled(params, 1),
      });
      expect(sameResult(ones, plain)).toEqual([]);
    });

    test(`${label}: a {0, 2} recurrent mask equals, row by row, weight_hh with columns scaled by that row's mask`, () => {
      // m ⊙ h enters only the recurrent products: Σ_k W[j,k]·(m_k·h_k) = Σ_k (W[j,k]·m_k)·h_k exactly for m in {0, 2},
      // while GRU's z⊙h, zoneout and the carried state keep the true h in both
      const { rnd, params, inputs } = randomCase(cfg, T, B, 33);
      const { H, Hout, D, S } = sizes(cfg);
      const recurrentMasks = Array.from({ length: S }, () => Float64Array.from({ length: B * Hout }, () => (rnd() < 0 ? 0 : 2)));
      const zo = { hidden: 0.25, cell: cfg.mode === 'LSTM' ? 0.2 : 0 };
      const cfgZ = { ...cfg, zoneout: zo };
      const all = refForward(cfgZ, params, { ...inputs, lengths, recurrentMasks });
      const problems: string[] = [];
      for (let b = 0; b < B; b++) {
        const scaled = mapWhh(params, (w, name) => {
          const m = /_l(\d+)(_reverse)?$/.exec(name)!;
          const s = Number(m[1]) * D + (m[2] ? 1 : 0);
          return w.map((v, e) => v * recurrentMasks[s][b * Hout + (e % Hout)]);
        });
        const len = lengths[b];
        const one = refForward(cfgZ, scaled, {
          input: rowSteps(inputs.input, T, B, cfg.inputSize, b, len), T: len, B: 1,
          h0: rowOf(inputs.h0!, S, B, Hout, b), c0: inputs.c0 && rowOf(inputs.c0, S, B, H, b),
        });
        problems.push(exact(`row ${b} output`, rowSteps(all.output, T, B, D * Hout, b, len), one.output));
        problems.push(exact(`row ${b} hN`, rowOf(all.hN, S, B, Hout, b), one.hN));
        if (one.cN) problems.push(exact(`row ${b} cN`, rowOf(all.cN!, S, B, H, b), one.cN));
      }
      expect(problems.filter((p) => p !== '')).toEqual([]);
    });

    test(`${label}: a weight mask applies to its own weight_hh only, as W_hh ⊙ M`, () => {
      const { rnd, params, inputs } = randomCase(cfg, T, B, 34);
      const target = 'weight_hh_l1_reverse';
      const M = Float64Array.from(params.get(target)!, () => (rnd() < 0 ? 0 : 2));
      const masked = refForward(cfg, params, { ...inputs, lengths, weightMasks: new Map([[target, M]]) });
      const product = refForward(cfg, mapWhh(params, (w) => w.map((v, e) => v * M[e]), target), { ...inputs, lengths });
      expect(sameResult(masked, product)).toEqual([]);
      // layer 1's forward direction never sees that mask
      const { Hout, D, S } = sizes(cfg);
      const plain = refForward(cfg, params, { ...inputs, lengths });
      expect(exact('hN l1 forward', masked.hN.subarray((S - 2) * B * Hout, (S - 1) * B * Hout), plain.hN.subarray((S - 2) * B * Hout, (S - 1) * B * Hout))).toBe('');
      expect(D).toBe(2);
      expect(sameResult(masked, plain)).not.toEqual([]);
    });
  }
});

describe('reference variants: residual (SPEC §3a)', () => {
  const T = 4, B = 3;
  const lengths = [4, 2, 0];

  for (const [label, cfg0] of VARIANT_CFGS) {
    test(`${label}: residual with one layer changes nothing (layer 0 never adds its input)`, () => {
      const { Hout, D } = sizes(cfg0);
      const cfg = { ...cfg0, numLayers: 1, inputSize: D * Hout }; // sizes agree, so a layer-0 residual would be finite
      const { params, inputs } = randomCase(cfg, T, B, 41);
      const plain = refForward(cfg, params, { ...inputs, lengths });
      const res = refForward({ ...cfg, residual: true }, params, { ...inputs, lengths });
      expect(sameResult(res, plain)).toEqual([]);
    });

    test(`${label}: residual over 3 layers with dropout: out_k = y_k + u_k, u_k the masked out_{k−1}, hN/cN untouched`, () => {
      const cfg = { ...cfg0, numLayers: 3, residual: true };
      const { rnd, params, inputs } = randomCase(cfg, T, B, 42);
      const { H, Hout, D } = sizes(cfg);
      const F = D * Hout;
      const dropoutMasks = [0, 1].map(() => Float64Array.from({ length: T * B * F }, () => (rnd() < -0.3 ? 0 : 1 / 0.65)));
      const zo = { hidden: 0.2, cell: cfg.mode === 'LSTM' ? 0.1 : 0 };
      const all = refForward({ ...cfg, zoneout: zo }, params, { ...inputs, lengths, dropoutMasks });

      // layer by layer: y_k from a lone one-layer run on u_k
      let u: Float64Array = inputs.input;
      let out: Float64Array = new Float64Array(0);
      const hN: number[] = [], cN: number[] = [];
      for (let k = 0; k < 3; k++) {
        const lone = new Map<string, Float64Array>();
        for (const [name, p] of params) {
          const m = /_l(\d+)(_reverse)?$/.exec(name)!;
          if (Number(m[1]) === k) lone.set(name.replace(`_l${k}`, '_l0'), p);
        }
        const slots = (a: Float64Array, C: number) => a.subarray(k * D * B * C, (k + 1) * D * B * C);
        const y = refForward({ ...cfg, numLayers: 1, residual: false, zoneout: zo, inputSize: k === 0 ? cfg.inputSize : F }, lone, {
          input: u, T, B, lengths, h0: slots(inputs.h0!, Hout), c0: inputs.c0 && slots(inputs.c0, H),
        });
        out = k === 0 ? y.output : y.output.map((v, e) => v + u[e]);
        hN.push(...y.hN);
        if (y.cN) cN.push(...y.cN);
        if (k < 2) u = out.map((v, e) => v * dropoutMasks[k][e]);
      }
      const problems = [exact('output', all.output, out), exact('hN', all.hN, hN), exact('cN', all.cN, inputs.c0 ? cN : undefined)];
      expect(problems.filter((p) => p !== '')).toEqual([]);
      // and the residual matters: without it the output differs
      const noRes = refForward({ ...cfg, residual: false, zoneout: zo }, params, { ...inputs, lengths, dropoutMasks });
      expect(exact('output', noRes.output, all.output)).not.toBe('');
    });
  }
});

describe('reference variants with lengths', () => {
  test('every variant at once with lengths equals each row alone on its truncated sequence', () => {
    for (const [label, cfg0] of VARIANT_CFGS) {
      const cfg = { ...cfg0, residual: true, zoneout: { hidden: 0.3, cell: cfg0.mode === 'LSTM' ? 0.25 : 0 } };
      const T = 5, B = 3;
      const lens = [5, 3, 0];
      const { rnd, params, inputs } = randomCase(cfg, T, B, 51);
      const { H, Hout, D, S } = sizes(cfg);
      const F = D * Hout;
      const bits = (n: number, one: number) => Float64Array.from({ length: n }, () => (rnd() < 0 ? 0 : one));
      const dropoutMasks = [bits(T * B * F, 2)];
      const recurrentMasks = Array.from({ length: S }, () => bits(B * Hout, 2));
      // training-form zoneout for layer 0's directions, evaluation form (p) for layer 1's
      const zoneoutMasks: NonNullable<RefInputs['zoneoutMasks']> = Array.from({ length: S }, (_, s) =>
        s < D ? { hidden: bits(T * B * Hout, 1), cell: cfg.mode === 'LSTM' ? bits(T * B * H, 1) : undefined } : {});
      const weightMasks = weightFilled(params, 0);
      for (const m of weightMasks.values()) m.set(bits(m.length, 2));
      const all = refForward(cfg, params, { ...inputs, lengths: lens, dropoutMasks, recurrentMasks, zoneoutMasks, weightMasks });
      for (let b = 0; b < B; b++) {
        const len = lens[b];
        const one = refForward(cfg, params, {
          input: rowSteps(inputs.input, T, B, cfg.inputSize, b, len), T: len, B: 1,
          h0: rowOf(inputs.h0!, S, B, Hout, b), c0: inputs.c0 && rowOf(inputs.c0, S, B, H, b),
          dropoutMasks: [rowSteps(dropoutMasks[0], T, B, F, b, len)],
          recurrentMasks: recurrentMasks.map((m) => rowOf(m, 1, B, Hout, b)),
          zoneoutMasks: zoneoutMasks.map((z) => ({
            hidden: z.hidden && rowSteps(z.hidden, T, B, Hout, b, len),
            cell: z.cell && rowSteps(z.cell, T, B, H, b, len),
          })),
          weightMasks,
        });
        const problems: string[] = [];
        for (let t = 0; t < T; t++) for (let q = 0; q < F; q++) {
          const got = all.output[(t * B + b) * F + q];
          const want = t < len ? one.output[t * F + q] : 0;
          if (got !== want) problems.push(`${label} row ${b} output [${t}, ${q}]: ${got} vs ${want}`);
        }
        problems.push(exact(`${label} row ${b} hN`, rowOf(all.hN, S, B, Hout, b), one.hN));
        if (one.cN) problems.push(exact(`${label} row ${b} cN`, rowOf(all.cN!, S, B, H, b), one.cN));
        expect(problems.filter((p) => p !== '')).toEqual([]);
      }
    }
  });

  test('the reference rejects misshaped masks, unknown weight mask names and bad zoneout', () => {
    const cfg = { ...baseCfg };
    const { params, inputs } = randomCase(cfg, 3, 2, 61);
    const run = (c: RefConfig, x: Partial<RefInputs>) => () => refForward(c, params, { ...inputs, ...x });
    expect(run(cfg, { recurrentMasks: [new Float64Array(8)] })).toThrow(/recurrentMasks has 1 entries/);
    expect(run(cfg, { recurrentMasks: recurrentFilled(cfg, 3, 1) })).toThrow(/recurrentMasks\[0\]/);
    expect(run(cfg, { zoneoutMasks: zoneoutFilled({ ...cfg, numLayers: 1 }, 3, 2, 0) })).toThrow(/zoneoutMasks has 2 entries/);
    expect(run(cfg, { zoneoutMasks: zoneoutFilled(cfg, 2, 2, 0) })).toThrow(/zoneoutMasks\[0\]\.hidden/);
    expect(run(cfg, { weightMasks: new Map([['weight_hh_l2', new Float64Array(64)]]) })).toThrow(/weight_hh_l2/);
    expect(run(cfg, { weightMasks: new Map([['weight_ih_l0', new Float64Array(48)]]) })).toThrow(/weight_ih_l0/);
    expect(run(cfg, { weightMasks: new Map([['weight_hh_l0', new Float64Array(63)]]) })).toThrow(/weightMasks weight_hh_l0/);
    expect(run({ ...cfg, zoneout: { hidden: 1.5, cell: 0 } }, {})).toThrow(/zoneout.hidden/);
    const gru: RefConfig = { ...cfg, mode: 'GRU' };
    expect(() => refForward(gru, randomParams(gru, lcg(1)), { input: inputs.input, T: 3, B: 2, zoneoutMasks: zoneoutFilled(cfg, 3, 2, 0) })).toThrow(/cell given to a non-LSTM/);
    expect(() => refForward({ ...gru, zoneout: { hidden: 0, cell: 0.5 } }, randomParams(gru, lcg(1)), { input: inputs.input, T: 3, B: 2 })).toThrow(/zoneout.cell/);
  });
});
