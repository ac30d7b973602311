// Recurrent layer configurations and one training step over them, shared by the suites that run
// the same cases on several backends or allocators (parity, fresh-outputs).
import { GRU, LSTM, RNN, Tensor } from '../../src';
import type { RecurrentLayer } from '../../src/layers/recurrent';
import { Rng } from '../../src/random';

export type Mode = 'LSTM' | 'GRU' | 'RNN_TANH' | 'RNN_RELU';

export interface Case {
  name: string;
  mode: Mode;
  inputSize: number;
  hiddenSize: number;
  T: number;
  B: number;
  numLayers?: number;
  bidirectional?: boolean;
  batchFirst?: boolean;
  bias?: boolean;
  projSize?: number;
  peepholes?: boolean;
  linearBeforeReset?: boolean;
  lengths?: number[];
  /** h0 / c0 given (default true); otherwise the zeros of a missing initial state. */
  initialState?: boolean;
  /** dOutput given (default true); dhN / dcN are always given. */
  outputGradient?: boolean;
}

export const fixedCases: Case[] = [
  { name: 'LSTM H=1 I=1 B=1', mode: 'LSTM', inputSize: 1, hiddenSize: 1, T: 3, B: 1 },
  { name: 'LSTM H=3 I=6 B=7 lengths with zeros', mode: 'LSTM', inputSize: 6, hiddenSize: 3, T: 5, B: 7, lengths: [5, 0, 3, 1, 0, 5, 2] },
  { name: 'LSTM H=5 I=10 bidirectional stacked batchFirst', mode: 'LSTM', inputSize: 10, hiddenSize: 5, T: 4, B: 3, numLayers: 2, bidirectional: true, batchFirst: true },
  { name: 'LSTM H=7 projection 3', mode: 'LSTM', inputSize: 13, hiddenSize: 7, projSize: 3, T: 6, B: 7 },
  { name: 'LSTM H=9 peepholes', mode: 'LSTM', inputSize: 3, hiddenSize: 9, peepholes: true, T: 5, B: 1 },
  {
    name: 'LSTM H=17 peepholes projection bidirectional lengths no bias',
    mode: 'LSTM', inputSize: 6, hiddenSize: 17, projSize: 5, peepholes: true, bias: false, bidirectional: true,
    T: 6, B: 7, lengths: [6, 1, 0, 4, 6, 3, 2],
  },
  { name: 'LSTM no initial state, no dOutput', mode: 'LSTM', inputSize: 5, hiddenSize: 9, T: 4, B: 3, initialState: false, outputGradient: false },
  { name: 'GRU linear-before-reset H=1 B=1', mode: 'GRU', inputSize: 3, hiddenSize: 1, T: 4, B: 1 },
  { name: 'GRU linear-before-reset H=17 B=7 lengths', mode: 'GRU', inputSize: 13, hiddenSize: 17, T: 5, B: 7, lengths: [0, 5, 2, 5, 1, 3, 4] },
  { name: 'GRU reset-before-linear H=5 bidirectional stacked', mode: 'GRU', inputSize: 6, hiddenSize: 5, linearBeforeReset: false, T: 4, B: 7, numLayers: 2, bidirectional: true },
  {
    name: 'GRU reset-before-linear H=9 lengths batchFirst no bias',
    mode: 'GRU', inputSize: 10, hiddenSize: 9, linearBeforeReset: false, bias: false, batchFirst: true,
    T: 5, B: 3, lengths: [2, 0, 5],
  },
  { name: 'RNN tanh H=3 B=1', mode: 'RNN_TANH', inputSize: 1, hiddenSize: 3, T: 7, B: 1 },
  { name: 'RNN tanh H=17 bidirectional lengths', mode: 'RNN_TANH', inputSize: 10, hiddenSize: 17, bidirectional: true, T: 5, B: 7, lengths: [5, 4, 0, 1, 2, 3, 5] },
  { name: 'RNN relu H=7 stacked no bias', mode: 'RNN_RELU', inputSize: 13, hiddenSize: 7, bias: false, numLayers: 3, T: 4, B: 3 },
  { name: 'RNN relu H=9 batchFirst reverse lengths', mode: 'RNN_RELU', inputSize: 3, hiddenSize: 9, bidirectional: true, batchFirst: true, T: 6, B: 7, lengths: [6, 5, 4, 3, 2, 1, 0] },
  // The GEMM's blocks: K = 300 > 256 in the input projection, T·B = 140 > 128 rows, 4·H = 2080 > 2048 columns.
  { name: 'LSTM I=300 T·B=140 (K and M past one block)', mode: 'LSTM', inputSize: 300, hiddenSize: 33, T: 20, B: 7 },
  { name: 'LSTM H=520 (N past one block, K past one block in the recurrent product)', mode: 'LSTM', inputSize: 9, hiddenSize: 520, T: 2, B: 3 },
  { name: 'GRU reset-before-linear H=300', mode: 'GRU', inputSize: 7, hiddenSize: 300, linearBeforeReset: false, T: 3, B: 5 },
  // Streaming steps of wide layers: the products claim tiles of columns, the step its pieces of units.
  { name: 'LSTM streaming step I=H=256 B=1', mode: 'LSTM', inputSize: 256, hiddenSize: 256, T: 1, B: 1 },
  { name: 'LSTM streaming steps I=H=256 B=3 bidirectional', mode: 'LSTM', inputSize: 256, hiddenSize: 256, T: 1, B: 3, bidirectional: true },
  { name: 'GRU reset-before-linear streaming step H=260', mode: 'GRU', inputSize: 70, hiddenSize: 260, linearBeforeReset: false, T: 1, B: 1 },
  { name: 'RNN tanh streaming steps I=600 H=300 B=2', mode: 'RNN_TANH', inputSize: 600, hiddenSize: 300, T: 1, B: 2 },
  { name: 'RNN relu streaming step I=600 H=300 B=1', mode: 'RNN_RELU', inputSize: 600, hiddenSize: 300, T: 1, B: 1 },
  { name: 'GRU linear-before-reset streaming step bidirectional I=H=256', mode: 'GRU', inputSize: 256, hiddenSize: 256, bidirectional: true, T: 1, B: 1 },
  { name: 'LSTM streaming step H=1040 (columns past one block)', mode: 'LSTM', inputSize: 20, hiddenSize: 1040, projSize: 100, T: 1, B: 1 },
];

function randomInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng.nextFloat() * (hi - lo + 1));
}

/** Random shapes and options, from a fixed seed so a failure repeats. */
export function randomCases(count: number, seed: number): Case[] {
  const rng = new Rng(seed);
  const modes: Mode[] = ['LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU'];
  const flip = () => rng.nextFloat() < 0.5;
  return Array.from({ length: count }, (_, i) => {
    const mode = modes[randomInt(rng, 0, 3)];
    const hiddenSize = randomInt(rng, 1, 40);
    const T = randomInt(rng, 1, 9);
    const B = randomInt(rng, 1, 9);
    const c: Case = {
      name: '',
      mode,
      inputSize: randomInt(rng, 1, 40),
      hiddenSize,
      T,
      B,
      numLayers: randomInt(rng, 1, 3),
      bidirectional: flip(),
      batchFirst: flip(),
      bias: flip(),
      initialState: flip(),
      outputGradient: rng.nextFloat() < 0.8,
    };
    if (mode === 'LSTM') {
      c.peepholes = flip();
      if (hiddenSize > 1 && flip()) c.projSize = randomInt(rng, 1, hiddenSize - 1);
    }
    if (mode === 'GRU') c.linearBeforeReset = flip();
    if (flip()) c.lengths = Array.from({ length: B }, () => randomInt(rng, 0, T));
    const options = Object.entries(c)
      .filter(([k, v]) => !['name', 'mode', 'inputSize', 'hiddenSize', 'T', 'B'].includes(k) && v !== undefined && v !== false)
      .map(([k, v]) => (v === true ? k : `${k}=${JSON.stringify(v)}`));
    c.name = `random ${i}: ${mode} I=${c.inputSize} H=${hiddenSize} T=${T} B=${B} ${options.join(' ')}`;
    return c;
  });
}

export function layerFor(c: Case): RecurrentLayer {
  const common = {
    inputSize: c.inputSize,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers ?? 1,
    bias: c.bias ?? true,
    batchFirst: c.batchFirst ?? false,
    bidirectional: c.bidirectional ?? false,
    seed: 5,
  };
  switch (c.mode) {
    case 'LSTM':
      return new LSTM({ ...common, projSize: c.projSize ?? 0, peepholes: c.peepholes ?? false });
    case 'GRU':
      return new GRU({ ...common, linearBeforeReset: c.linearBeforeReset ?? true });
    default:
      return new RNN({ ...common, nonlinearity: c.mode === 'RNN_RELU' ? 'relu' : 'tanh' });
  }
}

function randomTensor(rng: Rng, shape: number[]): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  rng.fillUniform(data, -1, 1);
  return new Tensor(data, shape);
}

export interface Inputs {
  input: Tensor;
  h0?: Tensor;
  c0?: Tensor;
  dOutput?: Tensor;
  dhN: Tensor;
  dcN?: Tensor;
}

export function inputsFor(c: Case): Inputs {
  const rng = new Rng(31);
  const D = c.bidirectional ? 2 : 1;
  const states = (c.numLayers ?? 1) * D;
  const hout = c.projSize || c.hiddenSize;
  const lstm = c.mode === 'LSTM';
  const initial = c.initialState ?? true;
  return {
    input: randomTensor(rng, c.batchFirst ? [c.B, c.T, c.inputSize] : [c.T, c.B, c.inputSize]),
    h0: initial ? randomTensor(rng, [states, c.B, hout]) : undefined,
    c0: initial && lstm ? randomTensor(rng, [states, c.B, c.hiddenSize]) : undefined,
    dOutput: (c.outputGradient ?? true) ? randomTensor(rng, c.batchFirst ? [c.B, c.T, D * hout] : [c.T, c.B, D * hout]) : undefined,
    dhN: randomTensor(rng, [states, c.B, hout]),
    dcN: lstm ? randomTensor(rng, [states, c.B, c.hiddenSize]) : undefined,
  };
}

/** Every result of one training step, by name. */
export function trainStep(layer: RecurrentLayer, c: Case, x: Inputs): Map<string, ArrayLike<number>> {
  layer.zeroGrad();
  const f = layer.forward(x.input, { h0: x.h0, c0: x.c0, lengths: c.lengths, training: true });
  const g = layer.backward(f.tape!, { dOutput: x.dOutput, dhN: x.dhN, dcN: x.dcN });
  const out = new Map<string, ArrayLike<number>>([
    ['output', f.output.data],
    ['hN', f.hN.data],
    ['dInput', g.dInput.data],
    ['dh0', g.dh0.data],
  ]);
  if (f.cN) out.set('cN', f.cN.data);
  if (g.dc0) out.set('dc0', g.dc0.data);
  for (const [name, t] of layer.gradients()) out.set(`grad.${name}`, t.data.slice());
  return out;
}
