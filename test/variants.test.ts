// The seed's variants (SPEC §3a) through the public API, on every backend that loads:
// - the exact checks that need no randomness: zoneout 1 freezes the state (per layer in a stack),
//   recurrentDropout 1 and weightDropout 1 each equal the same layer with weight_hh = 0;
// - the masks are genuine draws: the values and rates their probabilities say, none in evaluation,
//   a zoneout mask per step and a recurrent mask per call, new masks every call, and the same masks
//   from the same seed whatever weights the layer holds;
// - native and wasm agree on variant layers within SPEC §6's tolerances;
// - forwardAsync/backwardAsync equal forward/backward bit for bit, overlapping calls included;
// - residual: the skip path reaches the input gradient, hN/cN stay the recurrent states.
// (The variants' gradients against finite differences are in test/gradients.test.ts.)
import { LSTM, type RecurrentLayer, Tensor, useBackend } from '../src';
import { type RecurrentMasks, tapeMasks } from '../src/layers/tape';
import { backendRows, loadedBackends, selectBackend } from './helpers/backends';
import { GRAD_TOL, OUTPUT_TOL, mismatch } from './helpers/fixtures';
import {
  type VariantOptions,
  bitsProblem,
  buildLayer,
  dropoutValues,
  maskProblem,
  refConfig,
  runStep,
  runStepAsync,
  stepInputs,
  valueCounts,
} from './helpers/variants';
import type { RefConfig } from './reference/rnn64';

const noProblems = (problems: string[]) => expect(problems.filter((p) => p !== '')).toEqual([]);

/** Row b, step t of a time-major or batch-first [T, B, F] / [B, T, F] tensor. */
function stepRow(t: Tensor, batchFirst: boolean, step: number, b: number): number[] {
  const [T, B, F] = batchFirst ? [t.shape[1], t.shape[0], t.shape[2]] : [t.shape[0], t.shape[1], t.shape[2]];
  const row = batchFirst ? b * T + step : step * B + b;
  return Array.from(t.data.subarray(row * F, (row + 1) * F));
}

/** Slab s, row b of a state tensor [L·D, B, n]. */
function stateRow(t: Tensor, s: number, b: number): number[] {
  const [, B, n] = t.shape;
  return Array.from(t.data.subarray((s * B + b) * n, (s * B + b + 1) * n));
}

/** The layer's parameters with every weight_hh zeroed: what recurrentDropout 1 and weightDropout 1 must compute. */
function withZeroRecurrentWeights(cfg: RefConfig, source: RecurrentLayer): RecurrentLayer {
  const layer = buildLayer(cfg);
  const sd = source.stateDict();
  for (const [name, t] of sd) if (name.startsWith('weight_hh')) t.data.fill(0);
  layer.loadStateDict(sd);
  return layer;
}

describe.each(backendRows())('exact checks of SPEC §3a on %s', (backend) => {
  beforeAll(() => selectBackend(backend));

  const freezeCases: { name: string; cfg: RefConfig; variants: VariantOptions; T: number; B: number; lengths?: number[] }[] = [
    {
      name: 'LSTM projection peepholes bidirectional, lengths with 0',
      cfg: refConfig({ hiddenSize: 5, projSize: 3, peepholes: true, bidirectional: true }),
      variants: { zoneout: 1 },
      T: 5,
      B: 4,
      lengths: [5, 0, 2, 4],
    },
    { name: 'GRU reset-before-linear batchFirst', cfg: refConfig({ mode: 'GRU', linearBeforeReset: false, batchFirst: true }), variants: { zoneout: { hidden: 1 } }, T: 4, B: 3 },
    { name: 'GRU linear-before-reset, recurrentDropout 0.5', cfg: refConfig({ mode: 'GRU' }), variants: { zoneout: 1, recurrentDropout: 0.5 }, T: 4, B: 3 },
    { name: 'RNN relu bidirectional, lengths', cfg: refConfig({ mode: 'RNN_RELU', bidirectional: true }), variants: { zoneout: 1 }, T: 5, B: 3, lengths: [1, 5, 3] },
    { name: 'RNN tanh, weightDropout 0.5', cfg: refConfig({ mode: 'RNN_TANH' }), variants: { zoneout: 1, weightDropout: 0.5 }, T: 5, B: 2 },
  ];

  test.each(freezeCases)('zoneout 1 freezes the state in training: $name', ({ cfg, variants, T, B, lengths }) => {
    const layer = buildLayer(cfg, variants);
    const x = stepInputs(layer, T, B);
    const { output, hN, cN, tape } = layer.forward(x.input, { h0: x.h0, c0: x.c0, lengths, training: true });
    const D = layer.directions;
    const problems: string[] = [];
    const expectRow = (what: string, got: number[], want: number[]) =>
      problems.push(JSON.stringify(got) === JSON.stringify(want) ? '' : `${what}: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    for (let b = 0; b < B; b++) {
      const len = lengths?.[b] ?? T;
      // Every valid step outputs h0 (both directions side by side); a padded step outputs 0.
      const h0Row = Array.from({ length: D }, (_, d) => stateRow(x.h0, d, b)).flat();
      for (let t = 0; t < T; t++) {
        expectRow(`output[t=${t}, b=${b}]`, stepRow(output, cfg.batchFirst, t, b), t < len ? h0Row : h0Row.map(() => 0));
      }
      for (let s = 0; s < D; s++) {
        expectRow(`hN[${s}, ${b}]`, stateRow(hN, s, b), stateRow(x.h0, s, b));
        if (cN) expectRow(`cN[${s}, ${b}]`, stateRow(cN, s, b), stateRow(x.c0!, s, b));
      }
    }
    // Nothing flows through the frozen cell: no input gradient, no parameter gradient; h0 and c0
    // receive dhN, dcN and (h0) every valid step's output gradient.
    const g = layer.backward(tape!, { dOutput: x.dOutput, dhN: x.dhN, dcN: x.dcN });
    const zeros = (what: string, a: ArrayLike<number>) => problems.push(Array.prototype.every.call(a, (v: number) => v === 0) ? '' : `${what} is not all 0`);
    zeros('dInput', g.dInput.data);
    for (const [name, t] of layer.gradients()) zeros(`grad.${name}`, t.data);
    const wantDh0 = Float64Array.from(x.dhN.data);
    const hout = layer.outputSize;
    for (let d = 0; d < D; d++) {
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < (lengths?.[b] ?? T); t++) {
          const row = stepRow(x.dOutput, cfg.batchFirst, t, b);
          for (let q = 0; q < hout; q++) wantDh0[(d * B + b) * hout + q] += row[d * hout + q];
        }
      }
    }
    problems.push(mismatch('dh0', g.dh0.data, wantDh0, GRAD_TOL));
    if (g.dc0) problems.push(bitsProblem('dc0', g.dc0.data, x.dcN!.data));
    noProblems(problems);
  });

  test.each([false, true])('zoneout 1 freezes every layer of a stack (residual %s): layer k outputs its own h0', (residual) => {
    // Three bidirectional layers with dropout between them. Frozen, layer k's recurrent output y_k is
    // its own h0 at every step, whatever its input: the stack outputs y_2, or with residual
    // y_2 + u_2 where u_{k+1} = m_k ⊙ (y_k + u_k) (u_0 = 0: layer 0 adds nothing), in float32 as the
    // facade sums; every layer's hN and cN are its h0 and c0.
    const cfg = refConfig({ numLayers: 3, bidirectional: true, residual });
    const layer = buildLayer(cfg, { zoneout: 1, dropout: 0.3 });
    const T = 4;
    const B = 3;
    const x = stepInputs(layer, T, B);
    const { output, hN, cN, tape } = layer.forward(x.input, { h0: x.h0, c0: x.c0, training: true });
    const dropout = tapeMasks(tape!).dropout;
    const width = 2 * layer.outputSize;
    const recurrentOutput = (k: number, b: number) => [...stateRow(x.h0, 2 * k, b), ...stateRow(x.h0, 2 * k + 1, b)];
    const problems: string[] = [];
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        let out = recurrentOutput(0, b);
        for (let k = 1; k < 3; k++) {
          const mask = dropout[k - 1].subarray((t * B + b) * width, (t * B + b + 1) * width);
          const u = out.map((v, i) => Math.fround(v * mask[i]));
          out = residual ? recurrentOutput(k, b).map((v, i) => Math.fround(v + u[i])) : recurrentOutput(k, b);
        }
        const got = stepRow(output, false, t, b);
        problems.push(JSON.stringify(got) === JSON.stringify(out) ? '' : `output[t=${t}, b=${b}] ${JSON.stringify(got)}, expected ${JSON.stringify(out)}`);
      }
    }
    problems.push(bitsProblem('hN', hN.data, x.h0.data), bitsProblem('cN', cN!.data, x.c0!.data));
    noProblems(problems);
  });

  const zeroWeightCases: { name: string; cfg: RefConfig; T: number; B: number; lengths?: number[] }[] = [
    {
      name: 'LSTM projection peepholes, 2 layers bidirectional batchFirst, lengths with 0',
      cfg: refConfig({ hiddenSize: 5, projSize: 3, peepholes: true, numLayers: 2, bidirectional: true, batchFirst: true }),
      T: 5,
      B: 3,
      lengths: [5, 0, 3],
    },
    { name: 'GRU linear-before-reset, 2 layers', cfg: refConfig({ mode: 'GRU', numLayers: 2 }), T: 4, B: 3 },
    { name: 'GRU reset-before-linear bidirectional', cfg: refConfig({ mode: 'GRU', linearBeforeReset: false, bidirectional: true }), T: 4, B: 3, lengths: [4, 2, 1] },
    { name: 'RNN tanh residual 2 layers', cfg: refConfig({ mode: 'RNN_TANH', numLayers: 2, residual: true }), T: 4, B: 2 },
    { name: 'RNN relu, no bias', cfg: refConfig({ mode: 'RNN_RELU', bias: false }), T: 5, B: 3 },
  ];
  const dropAll: [string, VariantOptions][] = [
    ['recurrentDropout 1', { recurrentDropout: 1 }],
    ['weightDropout 1', { weightDropout: 1 }],
  ];
  const zeroWeightRows = dropAll.flatMap(([what, variants]) => zeroWeightCases.map((c) => ({ ...c, what, variants })));

  test.each(zeroWeightRows)('$what equals weight_hh = 0 in training: $name', ({ cfg, variants, T, B, lengths }) => {
    const dropped = buildLayer(cfg, variants);
    const zeroed = withZeroRecurrentWeights(cfg, dropped);
    const x = stepInputs(dropped, T, B);
    const got = runStep(dropped, x, { lengths, training: true }).values;
    const want = runStep(zeroed, x, { lengths, training: true }).values;
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    const problems: string[] = [];
    for (const [name, values] of got) {
      if (name.startsWith('grad.weight_hh')) {
        // Its gradient is that of the masked weight times a mask of zeros.
        problems.push(values.every((v) => v === 0) ? '' : `${name} is not all 0`);
      } else {
        problems.push(bitsProblem(name, values, want.get(name)));
      }
    }
    noProblems(problems);
  });
});

// The masks are drawn in TypeScript before any backend call (SPEC §3a), so their statistics are
// checked once, on whichever backend is in use.
describe('mask statistics', () => {
  /** '' when `hits` of `n` Bernoulli(q) draws lie within 3σ of n·q. */
  function rateProblem(what: string, hits: number, n: number, q: number): string {
    const sigma = Math.sqrt(n * q * (1 - q));
    const gap = Math.abs(hits - n * q);
    return gap <= 3 * sigma ? '' : `${what}: ${hits}/${n} hits, expected ${n * q} ± ${3 * sigma}`;
  }

  /** Pools the masks of one kind over every layer direction: values must be `values`, hits the rate q. */
  function pooled(what: string, masks: (ArrayLike<number> | undefined)[], values: number[], hit: number, q: number): { n: number; problems: string[] } {
    const present = masks.filter((m): m is ArrayLike<number> => m !== undefined);
    if (present.length === 0) return { n: 0, problems: [`${what}: no masks`] };
    let n = 0;
    let hits = 0;
    const problems: string[] = [];
    present.forEach((m, i) => {
      const counts = valueCounts(m);
      const seen = [...counts.keys()].sort((a, b) => a - b);
      if (seen.join() !== [...values].sort((a, b) => a - b).join()) problems.push(`${what}[${i}]: values ${seen.join(', ')}`);
      n += m.length;
      hits += counts.get(hit) ?? 0;
    });
    problems.push(rateProblem(what, hits, n, q));
    return { n, problems };
  }

  test('values and rates over more than a million mask elements', () => {
    const p = { hidden: 0.3, cell: 0.65, recurrent: 0.25, dropout: 0.4, weight: 0.55 };
    // One step of many rows: the masks are large ([B, units] per layer direction), the compute small.
    const layer = new LSTM({
      inputSize: 1, hiddenSize: 64, numLayers: 2, bidirectional: true, seed: 3,
      zoneout: { hidden: p.hidden, cell: p.cell }, recurrentDropout: p.recurrent, dropout: p.dropout, weightDropout: p.weight,
    });
    const m = tapeMasks(layer.forward(Tensor.zeros([1, 4096, 1]), { training: true }).tape!);
    const kept = (q: number) => dropoutValues(q)[1];
    const kinds = [
      // Zoneout: 1 (keep the previous state) with probability p.
      pooled('zoneoutHidden', m.zoneoutHidden, [0, 1], 1, p.hidden),
      pooled('zoneoutCell', m.zoneoutCell, [0, 1], 1, p.cell),
      // Dropout masks: 1/(1 − p) (kept) with probability 1 − p.
      pooled('recurrent', m.recurrent, dropoutValues(p.recurrent), kept(p.recurrent), 1 - p.recurrent),
      pooled('dropout', m.dropout, dropoutValues(p.dropout), kept(p.dropout), 1 - p.dropout),
      pooled('weight', m.weight, dropoutValues(p.weight), kept(p.weight), 1 - p.weight),
    ];
    const total = kinds.reduce((sum, k) => sum + k.n, 0);
    noProblems([...kinds.flatMap((k) => k.problems), total >= 1e6 ? '' : `only ${total} mask elements drawn`]);
  });

  test('p = 1 drops everything: recurrent and weight masks all 0, zoneout masks all 1', () => {
    const layer = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 3, zoneout: 1, recurrentDropout: 1, weightDropout: 1 });
    const m = tapeMasks(layer.forward(Tensor.zeros([4, 2, 2]), { training: true }).tape!);
    noProblems([
      maskProblem('zoneoutHidden', m.zoneoutHidden[0], [1]),
      maskProblem('zoneoutCell', m.zoneoutCell[0], [1]),
      maskProblem('recurrent', m.recurrent[0], [0]),
      maskProblem('weight', m.weight[0], [0]),
    ]);
  });
});

describe.each(backendRows())('masks on %s', (backend) => {
  beforeAll(() => selectBackend(backend));

  const cfg = refConfig({ mode: 'LSTM', hiddenSize: 5, projSize: 3, numLayers: 2, bidirectional: true });
  const variants: VariantOptions = { dropout: 0.3, zoneout: { hidden: 0.4, cell: 0.3 }, recurrentDropout: 0.35, weightDropout: 0.25 };
  const T = 6;
  const B = 4;
  const maskLists = (m: RecurrentMasks) =>
    Object.entries(m).flatMap(([kind, list]: [string, (ArrayLike<number> | undefined)[]]) => list.map((a, s) => [`${kind}[${s}]`, a] as const));

  test('evaluation draws no masks, and its output is deterministic with or without a tape', () => {
    const layer = buildLayer(cfg, variants);
    const x = stepInputs(layer, T, B);
    const plain = layer.forward(x.input, { h0: x.h0, c0: x.c0 });
    const taped = [layer.forward(x.input, { h0: x.h0, c0: x.c0, tape: true }), layer.forward(x.input, { h0: x.h0, c0: x.c0, training: false, tape: true })];
    const problems: string[] = [];
    for (const [i, f] of taped.entries()) {
      const m = tapeMasks(f.tape!);
      problems.push(maskLists(m).every(([, a]) => a === undefined) ? '' : `evaluation ${i} drew masks`);
      problems.push(tapeMasks(f.tape!).dropout.length === 0 ? '' : `evaluation ${i} has dropout masks`);
      for (const key of ['output', 'hN', 'cN'] as const) problems.push(bitsProblem(`${key} ${i}`, f[key]!.data, plain[key]!.data));
    }
    expect(plain.tape).toBeUndefined();
    noProblems(problems);
  });

  test('shapes: a zoneout mask per step, row and unit; a recurrent mask per row and unit, fixed over time', () => {
    const layer = buildLayer(cfg, variants);
    const x = stepInputs(layer, T, B);
    const m = tapeMasks(layer.forward(x.input, { h0: x.h0, c0: x.c0, training: true }).tape!);
    const hout = layer.outputSize;
    const H = layer.hiddenSize;
    const S = layer.numLayers * layer.directions;
    for (const list of [m.zoneoutHidden, m.zoneoutCell, m.recurrent, m.weight]) expect(list).toHaveLength(S);
    expect(m.dropout).toHaveLength(layer.numLayers - 1);
    const problems: string[] = [];
    for (let s = 0; s < S; s++) {
      expect(m.zoneoutHidden[s]).toBeInstanceOf(Uint8Array);
      expect(m.zoneoutHidden[s]).toHaveLength(T * B * hout);
      expect(m.zoneoutCell[s]).toHaveLength(T * B * H);
      expect(m.recurrent[s]).toBeInstanceOf(Float32Array);
      expect(m.recurrent[s]).toHaveLength(B * hout);
      expect(m.weight[s]).toHaveLength(4 * H * hout);
      // Each step draws its own zoneout mask: no two steps of a layer direction hold the same one.
      for (const [what, mask, n] of [['zoneoutHidden', m.zoneoutHidden[s]!, B * hout], ['zoneoutCell', m.zoneoutCell[s]!, B * H]] as const) {
        const steps = new Set(Array.from({ length: T }, (_, t) => mask.subarray(t * n, (t + 1) * n).join()));
        problems.push(steps.size === T ? '' : `${what}[${s}]: only ${steps.size} distinct masks over ${T} steps`);
      }
    }
    for (let k = 0; k < layer.numLayers - 1; k++) expect(m.dropout[k]).toHaveLength(T * B * layer.directions * hout);
    noProblems(problems);
  });

  test('consecutive training calls draw different masks', () => {
    const layer = buildLayer(cfg, variants);
    const x = stepInputs(layer, T, B);
    const first = maskLists(tapeMasks(layer.forward(x.input, { training: true }).tape!));
    const second = maskLists(tapeMasks(layer.forward(x.input, { training: true }).tape!));
    expect(second.map(([what]) => what)).toEqual(first.map(([what]) => what));
    const same = first.filter(([, a], i) => a !== undefined && Array.from(a).join() === Array.from(second[i][1]!).join()).map(([what]) => what);
    expect(same).toEqual([]);
  });

  test('the same seed draws the same masks on the k-th training call, whatever weights are loaded', () => {
    const a = buildLayer(cfg, variants, 7);
    const b = buildLayer(cfg, variants, 7);
    b.loadStateDict(buildLayer(cfg, variants, 8).stateDict());
    expect(b.parameters().get('weight_hh_l0')!.data).not.toEqual(a.parameters().get('weight_hh_l0')!.data);
    const x = stepInputs(a, T, B);
    const draw = (layer: RecurrentLayer) => maskLists(tapeMasks(layer.forward(x.input, { training: true }).tape!));
    const a1 = draw(a);
    // Evaluation calls in between draw nothing, so they do not shift the stream.
    a.forward(x.input);
    a.forward(x.input, { tape: true });
    const a2 = draw(a);
    const b1 = draw(b);
    const b2 = draw(b);
    const differ = (p: ReturnType<typeof draw>, q: ReturnType<typeof draw>) =>
      p.filter(([, m], i) => bitsProblem('', m, q[i][1]) !== '').map(([what]) => what);
    expect(differ(a1, b1)).toEqual([]);
    expect(differ(a2, b2)).toEqual([]);
    // Another seed, other masks.
    const c1 = draw(buildLayer(cfg, variants, 9));
    expect(differ(a1, c1)).toHaveLength(a1.filter(([, m]) => m !== undefined).length);
  });
});

const variantConfigs: { name: string; cfg: RefConfig; variants: VariantOptions; T: number; B: number; lengths?: number[] }[] = [
  {
    name: 'LSTM projection peepholes, zoneout h/c, recurrentDropout, weightDropout, bidirectional, lengths with 0',
    cfg: refConfig({ inputSize: 7, hiddenSize: 9, projSize: 5, peepholes: true, bidirectional: true }),
    variants: { zoneout: { hidden: 0.3, cell: 0.2 }, recurrentDropout: 0.25, weightDropout: 0.3 },
    T: 6,
    B: 5,
    lengths: [6, 0, 3, 1, 6],
  },
  {
    name: 'LSTM residual 3 layers, dropout, zoneout, recurrentDropout, batchFirst',
    cfg: refConfig({ inputSize: 5, hiddenSize: 13, numLayers: 3, residual: true, batchFirst: true }),
    variants: { dropout: 0.2, zoneout: 0.15, recurrentDropout: 0.3 },
    T: 5,
    B: 7,
  },
  {
    name: 'GRU linear-before-reset, zoneout, weightDropout, residual 2 layers bidirectional',
    cfg: refConfig({ mode: 'GRU', inputSize: 6, hiddenSize: 10, numLayers: 2, bidirectional: true, residual: true }),
    variants: { zoneout: 0.3, weightDropout: 0.4 },
    T: 5,
    B: 3,
    lengths: [5, 2, 4],
  },
  {
    name: 'GRU reset-before-linear, zoneout, recurrentDropout, dropout, 2 layers',
    cfg: refConfig({ mode: 'GRU', linearBeforeReset: false, inputSize: 9, hiddenSize: 17, numLayers: 2 }),
    variants: { zoneout: 0.2, recurrentDropout: 0.4, dropout: 0.3 },
    T: 4,
    B: 6,
  },
  {
    name: 'RNN tanh, zoneout, recurrentDropout, weightDropout, lengths',
    cfg: refConfig({ mode: 'RNN_TANH', inputSize: 4, hiddenSize: 11 }),
    variants: { zoneout: 0.35, recurrentDropout: 0.2, weightDropout: 0.2 },
    T: 7,
    B: 5,
    lengths: [7, 3, 0, 5, 1],
  },
  {
    name: 'RNN relu residual 2 layers bidirectional, zoneout, dropout',
    cfg: refConfig({ mode: 'RNN_RELU', inputSize: 3, hiddenSize: 6, numLayers: 2, bidirectional: true, residual: true }),
    variants: { zoneout: 0.25, dropout: 0.4 },
    T: 5,
    B: 4,
  },
];

const hasBoth = ['native', 'wasm'].every((b) => loadedBackends().includes(b as 'native' | 'wasm'));
const describeBoth = hasBoth ? describe : describe.skip;

describeBoth('native and wasm agree on variant layers (same seed, same masks)', () => {
  afterAll(() => useBackend('auto'));
  const forwardResults = new Set(['output', 'hN', 'cN']);

  test.each(variantConfigs)('$name', ({ cfg, variants, T, B, lengths }) => {
    const results = (['native', 'wasm'] as const).map((name) => {
      useBackend(name);
      const layer = buildLayer(cfg, variants, 21);
      const x = stepInputs(layer, T, B);
      // The second call: masks drawn from a stream that has moved on agree too.
      runStep(layer, x, { lengths, training: true });
      return runStep(layer, x, { lengths, training: true });
    });
    const [native, wasm] = results;
    expect(bitsProblem('masks', maskBits(wasm.masks), maskBits(native.masks))).toBe('');
    expect([...wasm.values.keys()].sort()).toEqual([...native.values.keys()].sort());
    noProblems([...native.values].map(([name, want]) => mismatch(name, wasm.values.get(name)!, want, forwardResults.has(name) ? OUTPUT_TOL : GRAD_TOL)));
  });
});

/** Every mask of a call, concatenated (kind by kind, layer direction by layer direction). */
function maskBits(m: RecurrentMasks): Float32Array {
  const parts = [m.dropout, m.zoneoutHidden, m.zoneoutCell, m.recurrent, m.weight].flat().filter((a) => a !== undefined);
  return Float32Array.from(parts.flatMap((a) => Array.from(a!)));
}

describe.each(backendRows())('async twins and residual on %s', (backend) => {
  beforeAll(() => selectBackend(backend));

  test.each(variantConfigs)('forwardAsync/backwardAsync equal forward/backward bit for bit: $name', async ({ cfg, variants, T, B, lengths }) => {
    const sync = buildLayer(cfg, variants, 4);
    const async = buildLayer(cfg, variants, 4);
    const x = stepInputs(sync, T, B);
    const problems: string[] = [];
    const compare = (call: string, a: Map<string, Float32Array>, b: Map<string, Float32Array>) => {
      problems.push([...a.keys()].sort().join() === [...b.keys()].sort().join() ? '' : `${call}: different results`);
      for (const [name, values] of a) problems.push(bitsProblem(`${call} ${name}`, b.get(name), values));
    };
    for (const call of ['first call', 'second call']) {
      const s = runStep(sync, x, { lengths, training: true });
      const a = await runStepAsync(async, x, { lengths, training: true });
      problems.push(bitsProblem(`${call} masks`, maskBits(a.masks), maskBits(s.masks)));
      compare(call, s.values, a.values);
    }
    // The evaluation-mode function with a tape, too.
    compare('evaluation', runStep(sync, x, { lengths, tape: true }).values, (await runStepAsync(async, x, { lengths, tape: true })).values);
    noProblems(problems);
  });

  test('overlapping async training calls draw their masks in call order', async () => {
    const { cfg, variants, T, B } = variantConfigs[0];
    const sync = buildLayer(cfg, variants, 4);
    const async = buildLayer(cfg, variants, 4);
    const x = stepInputs(sync, T, B);
    const first = sync.forward(x.input, { training: true });
    const second = sync.forward(x.input, { training: true });
    const [a1, a2] = await Promise.all([async.forwardAsync(x.input, { training: true }), async.forwardAsync(x.input, { training: true })]);
    noProblems([
      bitsProblem('first masks', maskBits(tapeMasks(a1.tape!)), maskBits(tapeMasks(first.tape!))),
      bitsProblem('second masks', maskBits(tapeMasks(a2.tape!)), maskBits(tapeMasks(second.tape!))),
      bitsProblem('first output', a1.output.data, first.output.data),
      bitsProblem('second output', a2.output.data, second.output.data),
    ]);
  });

  test('residual: output = y_1 + y_0, the input gradient takes the skip path, hN/cN are the recurrent states', () => {
    // A two-layer residual LSTM against its layers run one by one (layer 1 renamed to _l0): the
    // facade must do exactly the sum the spec names, forward and backward.
    const T = 5;
    const B = 3;
    const lengths = [5, 2, 0];
    const cfg = refConfig({ inputSize: 4, hiddenSize: 6, projSize: 3, numLayers: 2, bidirectional: true, residual: true });
    const stack = buildLayer(cfg);
    const single = (inputSize: number) => buildLayer({ ...cfg, inputSize, numLayers: 1, residual: false });
    const lower = single(cfg.inputSize);
    const upper = single(2 * 3);
    const sd = stack.stateDict();
    const pick = (k: number) => new Map([...sd].filter(([n]) => n.includes(`_l${k}`)).map(([n, t]) => [n.replace(`_l${k}`, '_l0'), t]));
    lower.loadStateDict(pick(0));
    upper.loadStateDict(pick(1));
    const x = stepInputs(stack, T, B);
    const half = (t: Tensor, k: number) => new Tensor(t.data.slice(k * t.size / 2, (k + 1) * t.size / 2), [2, ...t.shape.slice(1)]);

    const whole = stack.forward(x.input, { h0: x.h0, c0: x.c0, lengths, training: true });
    const f0 = lower.forward(x.input, { h0: half(x.h0, 0), c0: half(x.c0!, 0), lengths, training: true });
    const f1 = upper.forward(f0.output, { h0: half(x.h0, 1), c0: half(x.c0!, 1), lengths, training: true });
    const sum = f1.output.data.map((v, i) => v + f0.output.data[i]);
    const problems = [
      bitsProblem('output', whole.output.data, sum),
      bitsProblem('hN', whole.hN.data, [...f0.hN.data, ...f1.hN.data]),
      bitsProblem('cN', whole.cN!.data, [...f0.cN!.data, ...f1.cN!.data]),
    ];
    // Padded steps stay 0: both terms are 0 there.
    const padded = stepRow(whole.output, false, 3, 1).concat(stepRow(whole.output, false, 0, 2));
    problems.push(padded.every((v) => v === 0) ? '' : 'padded steps are not 0');

    const g = stack.backward(whole.tape!, { dOutput: x.dOutput, dhN: x.dhN, dcN: x.dcN });
    const g1 = upper.backward(f1.tape!, { dOutput: x.dOutput, dhN: half(x.dhN, 1), dcN: half(x.dcN!, 1) });
    // The skip path: layer 0's output gradient is layer 1's input gradient plus the output gradient.
    const dU = new Tensor(g1.dInput.data.map((v, i) => v + x.dOutput.data[i]), g1.dInput.shape);
    const g0 = lower.backward(f0.tape!, { dOutput: dU, dhN: half(x.dhN, 0), dcN: half(x.dcN!, 0) });
    problems.push(
      bitsProblem('dInput', g.dInput.data, g0.dInput.data),
      bitsProblem('dh0', g.dh0.data, [...g0.dh0.data, ...g1.dh0.data]),
      bitsProblem('dc0', g.dc0!.data, [...g0.dc0!.data, ...g1.dc0!.data]),
    );
    const grads = stack.gradients();
    for (const [k, part] of [[0, lower], [1, upper]] as const) {
      for (const [name, t] of part.gradients()) problems.push(bitsProblem(`grad ${name} of layer ${k}`, grads.get(name.replace('_l0', `_l${k}`))!.data, t.data));
    }
    noProblems(problems);
  });
});
