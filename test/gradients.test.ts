// Gradients of the variants no fixture covers (peepholes, GRU without linear-before-reset, dropout)
// and of mixed configurations (lengths, reverse, batchFirst, projection, stacking), checked against
// central differences of the float64 reference forward in test/reference.
import { GRU, LSTM, RNN, Tensor } from '../src';
import type { RecurrentLayer } from '../src/layers/recurrent';
import { Rng } from '../src/random';
import { backendRows, selectBackend } from './helpers/backends';
import { GRAD_TOL, OUTPUT_TOL, mismatch } from './helpers/fixtures';
import { centralDifferenceAt } from './reference/finiteDifference';
import { type RefConfig, refForward, refLoss } from './reference/rnn64';

interface Case {
  name: string;
  cfg: RefConfig;
  T: number;
  B: number;
  lengths?: number[];
  dropout?: number;
}

const base: RefConfig = {
  mode: 'LSTM',
  inputSize: 3,
  hiddenSize: 4,
  numLayers: 1,
  bidirectional: false,
  batchFirst: false,
  bias: true,
  projSize: 0,
  peepholes: false,
  linearBeforeReset: true,
};

const cases: Case[] = [
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
    dropout: 0.4,
  },
  { name: 'GRU dropout 0.3, 2 layers', cfg: { ...base, mode: 'GRU', numLayers: 2 }, T: 4, B: 3, dropout: 0.3 },
  {
    name: 'RNN relu dropout 0.5, lengths, no bias',
    cfg: { ...base, mode: 'RNN_RELU', numLayers: 2, bias: false, bidirectional: true },
    T: 5,
    B: 2,
    lengths: [3, 5],
    dropout: 0.5,
  },
  {
    name: 'RNN tanh reverse-heavy lengths, batchFirst',
    cfg: { ...base, mode: 'RNN_TANH', bidirectional: true, batchFirst: true },
    T: 6,
    B: 4,
    lengths: [6, 0, 1, 3],
  },
];

function layerFor(c: Case): RecurrentLayer {
  const common = {
    inputSize: c.cfg.inputSize,
    hiddenSize: c.cfg.hiddenSize,
    numLayers: c.cfg.numLayers,
    bias: c.cfg.bias,
    batchFirst: c.cfg.batchFirst,
    bidirectional: c.cfg.bidirectional,
    dropout: c.dropout ?? 0,
    seed: 17,
  };
  switch (c.cfg.mode) {
    case 'LSTM':
      return new LSTM({ ...common, projSize: c.cfg.projSize, peepholes: c.cfg.peepholes });
    case 'GRU':
      return new GRU({ ...common, linearBeforeReset: c.cfg.linearBeforeReset });
    default:
      return new RNN({ ...common, nonlinearity: c.cfg.mode === 'RNN_RELU' ? 'relu' : 'tanh' });
  }
}

function randomTensor(rng: Rng, shape: number[]): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  rng.fillUniform(data, -1, 1);
  return new Tensor(data, shape);
}

// At most this many evenly spread elements per tensor: two float64 forwards each.
const SAMPLES = 40;
function sample(n: number): number[] {
  if (n <= SAMPLES) return Array.from({ length: n }, (_, i) => i);
  return [...new Set(Array.from({ length: SAMPLES }, (_, j) => Math.floor((j * (n - 1)) / (SAMPLES - 1))))];
}

describe.each(backendRows())('gradients against finite differences on %s', (backend) => {
  beforeAll(() => selectBackend(backend));

  test.each(cases)('$name', (c) => {
    const layer = layerFor(c);
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

    const fwd = layer.forward(input, { h0, c0, lengths: c.lengths, training: true });
    if (c.dropout) expect(fwd.tape!.dropoutMasks).toHaveLength(cfg.numLayers - 1);
    const grads = layer.backward(fwd.tape!, { dOutput, dhN, dcN });

    // The reference sees the same parameters, inputs and dropout masks, in float64.
    const params = new Map<string, Float64Array>();
    for (const [name, t] of layer.parameters()) params.set(name, Float64Array.from(t.data));
    const x = {
      input: Float64Array.from(input.data),
      T,
      B,
      h0: Float64Array.from(h0.data),
      c0: c0 && Float64Array.from(c0.data),
      lengths: c.lengths,
      dropoutMasks: fwd.tape!.dropoutMasks.map((m) => Float64Array.from(m)),
    };
    const ref = refForward(cfg, params, x);
    const problems = [
      mismatch('output', fwd.output.data, ref.output, OUTPUT_TOL),
      mismatch('hN', fwd.hN.data, ref.hN, OUTPUT_TOL),
    ];
    if (c0) problems.push(mismatch('cN', fwd.cN!.data, ref.cN!, OUTPUT_TOL));

    const d64 = (t?: Tensor) => t && Float64Array.from(t.data);
    const loss = () => refLoss(refForward(cfg, params, x), d64(dOutput), d64(dhN), d64(dcN));
    const targets: [string, Float64Array, ArrayLike<number>][] = [
      ['input', x.input, grads.dInput.data],
      ['h0', x.h0, grads.dh0.data],
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
