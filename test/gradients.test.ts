// Gradients checked against central differences of the float64 reference forward in test/reference:
// the configurations no fixture covers (peepholes, GRU without linear-before-reset, inter-layer
// dropout, mixed lengths / reverse / batchFirst / projection / stacking), and the seed's variants
// (SPEC §3a) in training mode, where the reference is handed the very masks the forward drew
// (zoneout of h and c, recurrent dropout, weight dropout, residual, alone and combined), and in the
// evaluation-mode function (`tape: true`: zoneout's expectation p, the other regularizers ignored).
// Every training case also asserts that its masks are genuine draws, so a facade that stopped
// drawing (or applying) them fails here rather than passing against an unmasked reference.
import type { Tensor } from '../src';
import { type RecurrentMasks, tapeMasks } from '../src/layers/tape';
import { Rng } from '../src/random';
import { backendRows, selectBackend } from './helpers/backends';
import { GRAD_TOL, OUTPUT_TOL, mismatch } from './helpers/fixtures';
import { type VariantOptions, buildLayer, dropoutValues, maskProblem, randomTensor, refConfig, refMasks } from './helpers/variants';
import { centralDifferenceAt } from './reference/finiteDifference';
import { type RefConfig, type RefInputs, refForward, refLoss } from './reference/rnn64';

interface Case {
  name: string;
  cfg: RefConfig;
  T: number;
  B: number;
  lengths?: number[];
  /** Variant options the layer is built with (cfg.residual is read from cfg). */
  variants?: VariantOptions;
  /** The evaluation-mode function: forward(x, { tape: true }), the reference with cfg.zoneout. */
  evaluation?: boolean;
}

const base = refConfig();

const plainCases: Case[] = [
  { name: 'LSTM peepholes', cfg: { ...base, peepholes: true }, T: 5, B: 3 },
  {
    name: 'LSTM peepholes, bidirectional, lengths, projection',
    cfg: { ...base, peepholes: true, bidirectional: true, projSize: 2, hiddenSize: 5 },
    T: 5,
    B: 3,
    lengths: [5, 2, 0],
  },
  { name: 'GRU reset-before-linear', cfg: { ...base, mode: 'GRU', linearBeforeReset: false }, T: 5, B: 3 },
  {
    name: 'GRU reset-before-linear, stacked bidirectional, lengths, batchFirst',
    cfg: { ...base, mode: 'GRU', linearBeforeReset: false, numLayers: 2, bidirectional: true, batchFirst: true },
    T: 4,
    B: 3,
    lengths: [1, 4, 3],
  },
  {
    name: 'LSTM dropout 0.4, 3 layers bidirectional',
    cfg: { ...base, numLayers: 3, bidirectional: true },
    T: 4,
    B: 2,
    variants: { dropout: 0.4 },
  },
  { name: 'GRU dropout 0.3, 2 layers', cfg: { ...base, mode: 'GRU', numLayers: 2 }, T: 4, B: 3, variants: { dropout: 0.3 } },
  {
    name: 'RNN relu dropout 0.5, lengths, no bias',
    cfg: { ...base, mode: 'RNN_RELU', numLayers: 2, bias: false, bidirectional: true },
    T: 5,
    B: 2,
    lengths: [3, 5],
    variants: { dropout: 0.5 },
  },
  {
    name: 'RNN tanh reverse-heavy lengths, batchFirst',
    cfg: { ...base, mode: 'RNN_TANH', bidirectional: true, batchFirst: true },
    T: 6,
    B: 4,
    lengths: [6, 0, 1, 3],
  },
];

// Training mode with the variants: the reference replays the tape's masks.
const trainingVariantCases: Case[] = [
  {
    name: 'LSTM projection peepholes, zoneout h 0.3 c 0.4, bidirectional, lengths with 0',
    cfg: { ...base, hiddenSize: 5, projSize: 3, peepholes: true, bidirectional: true },
    T: 5,
    B: 3,
    lengths: [5, 0, 3],
    variants: { zoneout: { hidden: 0.3, cell: 0.4 } },
  },
  {
    name: 'LSTM zoneout c only 0.5, recurrentDropout 0.4 (projection: mask over Hout)',
    cfg: { ...base, hiddenSize: 5, projSize: 2 },
    T: 5,
    B: 3,
    variants: { zoneout: { cell: 0.5 }, recurrentDropout: 0.4 },
  },
  {
    name: 'GRU linear-before-reset, zoneout 0.4, recurrentDropout 0.3, lengths with 0',
    cfg: { ...base, mode: 'GRU' },
    T: 5,
    B: 3,
    lengths: [2, 5, 0],
    variants: { zoneout: 0.4, recurrentDropout: 0.3 },
  },
  {
    name: 'GRU reset-before-linear, zoneout 0.35, recurrentDropout 0.5, weightDropout 0.3, stacked bidirectional batchFirst',
    cfg: { ...base, mode: 'GRU', linearBeforeReset: false, numLayers: 2, bidirectional: true, batchFirst: true },
    T: 4,
    B: 3,
    lengths: [4, 1, 3],
    variants: { zoneout: 0.35, recurrentDropout: 0.5, weightDropout: 0.3 },
  },
  {
    name: 'RNN tanh zoneout 0.5, recurrentDropout 0.4',
    cfg: { ...base, mode: 'RNN_TANH', hiddenSize: 5 },
    T: 6,
    B: 3,
    variants: { zoneout: 0.5, recurrentDropout: 0.4 },
  },
  {
    name: 'RNN relu zoneout 0.3, weightDropout 0.5, reverse lengths',
    cfg: { ...base, mode: 'RNN_RELU', bidirectional: true },
    T: 5,
    B: 3,
    lengths: [5, 3, 0],
    variants: { zoneout: 0.3, weightDropout: 0.5 },
  },
  {
    name: 'LSTM weightDropout 0.5, peepholes, 2 layers',
    cfg: { ...base, peepholes: true, numLayers: 2 },
    T: 4,
    B: 2,
    variants: { weightDropout: 0.5 },
  },
  {
    name: 'LSTM residual, 3 layers bidirectional, dropout 0.3, zoneout 0.2',
    cfg: { ...base, numLayers: 3, bidirectional: true, residual: true },
    T: 4,
    B: 2,
    variants: { dropout: 0.3, zoneout: 0.2 },
  },
  {
    name: 'GRU residual, 2 layers, weightDropout 0.4, lengths with 0, batchFirst',
    cfg: { ...base, mode: 'GRU', numLayers: 2, residual: true, batchFirst: true },
    T: 5,
    B: 3,
    lengths: [0, 5, 2],
    variants: { weightDropout: 0.4 },
  },
  {
    name: 'RNN relu residual, 3 layers bidirectional, recurrentDropout 0.3, dropout 0.5, lengths',
    cfg: { ...base, mode: 'RNN_RELU', numLayers: 3, bidirectional: true, residual: true },
    T: 4,
    B: 3,
    lengths: [4, 2, 3],
    variants: { recurrentDropout: 0.3, dropout: 0.5 },
  },
  {
    name: 'LSTM everything: projection peepholes residual 2 layers bidirectional batchFirst, all regularizers, lengths with 0',
    cfg: { ...base, hiddenSize: 5, projSize: 2, peepholes: true, numLayers: 2, bidirectional: true, batchFirst: true, residual: true },
    T: 4,
    B: 3,
    lengths: [3, 0, 4],
    variants: { dropout: 0.4, zoneout: { hidden: 0.25, cell: 0.35 }, recurrentDropout: 0.3, weightDropout: 0.2 },
  },
];

// The evaluation-mode function with a tape: zoneout's expectation; dropout, recurrentDropout and
// weightDropout set on the layer must change nothing (the reference never sees them).
const ignored = { dropout: 0.5, recurrentDropout: 0.5, weightDropout: 0.5 };
const evaluationCases: Case[] = [
  {
    name: 'evaluation: GRU reset-before-linear, zoneout 0.35, lengths with 0, stacked bidirectional residual',
    cfg: { ...base, mode: 'GRU', linearBeforeReset: false, numLayers: 2, bidirectional: true, residual: true, zoneout: { hidden: 0.35, cell: 0 } },
    T: 5,
    B: 3,
    lengths: [5, 0, 3],
    evaluation: true,
    variants: { zoneout: 0.35, ...ignored },
  },
  {
    name: 'evaluation: LSTM projection peepholes, zoneout h 0.3 c 0.6, batchFirst',
    cfg: { ...base, hiddenSize: 5, projSize: 3, peepholes: true, batchFirst: true, zoneout: { hidden: 0.3, cell: 0.6 } },
    T: 5,
    B: 2,
    evaluation: true,
    variants: { zoneout: { hidden: 0.3, cell: 0.6 }, ...ignored },
  },
  {
    name: 'evaluation: RNN relu zoneout 0.45, bidirectional, lengths',
    cfg: { ...base, mode: 'RNN_RELU', bidirectional: true, zoneout: { hidden: 0.45, cell: 0 } },
    T: 5,
    B: 3,
    lengths: [2, 5, 4],
    evaluation: true,
    variants: { zoneout: 0.45, ...ignored },
  },
];

// At most this many evenly spread elements per tensor: two float64 forwards each.
const SAMPLES = 40;
function sample(n: number): number[] {
  if (n <= SAMPLES) return Array.from({ length: n }, (_, i) => i);
  return [...new Set(Array.from({ length: SAMPLES }, (_, j) => Math.floor((j * (n - 1)) / (SAMPLES - 1))))];
}

function zoneoutProbabilities(v: VariantOptions['zoneout'], mode: RefConfig['mode']): { hidden: number; cell: number } {
  if (v === undefined) return { hidden: 0, cell: 0 };
  if (typeof v === 'number') return { hidden: v, cell: mode === 'LSTM' ? v : 0 };
  return { hidden: v.hidden ?? 0, cell: v.cell ?? 0 };
}

/** '' for each mask the case's options call for when it is a genuine draw, and for each one they rule out when it is absent. */
function maskProblems(c: Case, masks: RecurrentMasks): string[] {
  const v = c.variants ?? {};
  const D = c.cfg.bidirectional ? 2 : 1;
  const S = c.cfg.numLayers * D;
  const zoneout = zoneoutProbabilities(v.zoneout, c.cfg.mode);
  const problems: string[] = [];
  const expectMask = (what: string, m: ArrayLike<number> | undefined, p: number, values: number[]) =>
    problems.push(p > 0 ? maskProblem(what, m, values) : m === undefined ? '' : `${what}: a mask although p = 0`);
  for (let s = 0; s < S; s++) {
    expectMask(`zoneoutHidden[${s}]`, masks.zoneoutHidden[s], zoneout.hidden, [0, 1]);
    expectMask(`zoneoutCell[${s}]`, masks.zoneoutCell[s], zoneout.cell, [0, 1]);
    expectMask(`recurrent[${s}]`, masks.recurrent[s], v.recurrentDropout ?? 0, dropoutValues(v.recurrentDropout ?? 0));
    expectMask(`weight[${s}]`, masks.weight[s], v.weightDropout ?? 0, dropoutValues(v.weightDropout ?? 0));
  }
  const dropout = v.dropout ?? 0;
  if (masks.dropout.length !== (dropout > 0 ? c.cfg.numLayers - 1 : 0)) problems.push(`dropout: ${masks.dropout.length} masks`);
  masks.dropout.forEach((m, k) => problems.push(maskProblem(`dropout[${k}]`, m, dropoutValues(dropout))));
  return problems;
}

describe.each(backendRows())('gradients against finite differences on %s', (backend) => {
  beforeAll(() => selectBackend(backend));

  test.each([...plainCases, ...trainingVariantCases, ...evaluationCases])('$name', (c) => {
    const layer = buildLayer(c.cfg, c.variants);
    const rng = new Rng(99);
    const { cfg, T, B } = c;
    const D = cfg.bidirectional ? 2 : 1;
    const hout = cfg.projSize || cfg.hiddenSize;
    const states = cfg.numLayers * D;
    const input = randomTensor(rng, cfg.batchFirst ? [B, T, cfg.inputSize] : [T, B, cfg.inputSize]);
    const h0 = randomTensor(rng, [states, B, hout]);
    const c0 = cfg.mode === 'LSTM' ? randomTensor(rng, [states, B, cfg.hiddenSize]) : undefined;
    const outShape = cfg.batchFirst ? [B, T, D * hout] : [T, B, D * hout];
    const dOutput = randomTensor(rng, outShape);
    const dhN = randomTensor(rng, [states, B, hout]);
    const dcN = c0 ? randomTensor(rng, [states, B, cfg.hiddenSize]) : undefined;

    const mode = c.evaluation ? { tape: true } : { training: true };
    const fwd = layer.forward(input, { h0, c0, lengths: c.lengths, ...mode });
    const masks = tapeMasks(fwd.tape!);
    const problems = c.evaluation
      ? [JSON.stringify(masks) === JSON.stringify({ dropout: [], zoneoutHidden: [], zoneoutCell: [], recurrent: [], weight: [] }) ? '' : 'evaluation drew masks']
      : maskProblems(c, masks);
    const grads = layer.backward(fwd.tape!, { dOutput, dhN, dcN });

    // The reference sees the same parameters, inputs and masks, in float64.
    const params = new Map<string, Float64Array>();
    for (const [name, t] of layer.parameters()) params.set(name, Float64Array.from(t.data));
    const x: RefInputs = {
      input: Float64Array.from(input.data),
      T,
      B,
      h0: Float64Array.from(h0.data),
      c0: c0 && Float64Array.from(c0.data),
      lengths: c.lengths,
      ...(c.evaluation ? {} : refMasks(masks, cfg)),
    };
    const ref = refForward(cfg, params, x);
    problems.push(mismatch('output', fwd.output.data, ref.output, OUTPUT_TOL), mismatch('hN', fwd.hN.data, ref.hN, OUTPUT_TOL));
    if (c0) problems.push(mismatch('cN', fwd.cN!.data, ref.cN!, OUTPUT_TOL));

    const d64 = (t?: Tensor) => t && Float64Array.from(t.data);
    const loss = () => refLoss(refForward(cfg, params, x), d64(dOutput), d64(dhN), d64(dcN));
    const targets: [string, Float64Array, ArrayLike<number>][] = [
      ['input', x.input, grads.dInput.data],
      ['h0', x.h0!, grads.dh0.data],
    ];
    if (x.c0) targets.push(['c0', x.c0, grads.dc0!.data]);
    for (const [name, g] of layer.gradients()) targets.push([name, params.get(name)!, g.data]);
    for (const [name, values, analytic] of targets) {
      const idx = sample(values.length);
      const fd = centralDifferenceAt(loss, values, idx, 1e-6);
      problems.push(mismatch(`d${name}`, idx.map((i) => analytic[i]), fd, GRAD_TOL));
    }
    expect(problems.filter((p) => p !== '')).toEqual([]);
  });
});
