// Shared pieces of the suites that check the seed's variants (SPEC §3a): building a layer from the
// float64 reference's config plus variant options, handing a tape's masks to the reference, random
// tensors, and bitwise comparison.
import { GRU, LSTM, RNN, Tensor } from '../../src';
import type { ForwardOptions, RecurrentLayer } from '../../src/layers/recurrent';
import { type RecurrentMasks, tapeMasks } from '../../src/layers/tape';
import { Rng } from '../../src/random';
import type { RefConfig, RefInputs } from '../reference/rnn64';

/** The options a layer is built with beyond what RefConfig says (RefConfig's residual is read too). */
export interface VariantOptions {
  dropout?: number;
  zoneout?: number | { hidden?: number; cell?: number };
  recurrentDropout?: number;
  weightDropout?: number;
}

/** A layer with the shape and kind of `cfg`, its residual flag, the variant options and `seed`. */
export function buildLayer(cfg: RefConfig, v: VariantOptions = {}, seed = 17): RecurrentLayer {
  const common = {
    inputSize: cfg.inputSize,
    hiddenSize: cfg.hiddenSize,
    numLayers: cfg.numLayers,
    bias: cfg.bias,
    batchFirst: cfg.batchFirst,
    bidirectional: cfg.bidirectional,
    residual: cfg.residual ?? false,
    seed,
    ...v,
  };
  switch (cfg.mode) {
    case 'LSTM':
      return new LSTM({ ...common, projSize: cfg.projSize, peepholes: cfg.peepholes });
    case 'GRU':
      return new GRU({ ...common, linearBeforeReset: cfg.linearBeforeReset });
    default:
      return new RNN({ ...common, nonlinearity: cfg.mode === 'RNN_RELU' ? 'relu' : 'tanh' });
  }
}

/** A reference config with every option at its default; `over` replaces any of them. */
export function refConfig(over: Partial<RefConfig> = {}): RefConfig {
  return {
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
    ...over,
  };
}

export function randomTensor(rng: Rng, shape: readonly number[]): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  rng.fillUniform(data, -1, 1);
  return new Tensor(data, shape);
}

const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

/** The masks one training forward drew, in the reference's form (RefInputs' mask fields). */
export function refMasks(masks: RecurrentMasks, cfg: RefConfig): Pick<RefInputs, 'dropoutMasks' | 'zoneoutMasks' | 'recurrentMasks' | 'weightMasks'> {
  const D = cfg.bidirectional ? 2 : 1;
  const S = cfg.numLayers * D;
  const states = Array.from({ length: S }, (_, s) => s);
  const weightMasks = new Map<string, Float64Array>();
  for (const s of states) {
    const m = masks.weight[s];
    if (m) weightMasks.set(`weight_hh_l${Math.floor(s / D)}${s % D === 1 ? '_reverse' : ''}`, f64(m));
  }
  return {
    dropoutMasks: masks.dropout.map(f64),
    zoneoutMasks: states.map((s) => ({
      hidden: masks.zoneoutHidden[s] && f64(masks.zoneoutHidden[s]!),
      cell: masks.zoneoutCell[s] && f64(masks.zoneoutCell[s]!),
    })),
    // An undefined entry means no mask for that layer direction.
    recurrentMasks: states.map((s) => masks.recurrent[s] && f64(masks.recurrent[s]!)) as Float64Array[],
    weightMasks,
  };
}

/** Counts of each distinct value in `a`, keyed by the value (fast while the values are few). */
export function valueCounts(a: ArrayLike<number>): Map<number, number> {
  const values: number[] = [];
  const counts: number[] = [];
  let last = Number.NaN;
  let slot = -1;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v !== last || slot < 0) {
      slot = v === v ? values.indexOf(v) : values.findIndex((w) => w !== w); // NaN too
      if (slot < 0) {
        slot = values.length;
        values.push(v);
        counts.push(0);
      }
      last = v;
    }
    counts[slot]++;
  }
  return new Map(values.map((v, i) => [v, counts[i]]));
}

/** The two values a dropout mask of probability p may hold: 0 and 1/(1 − p) rounded to float32. */
export function dropoutValues(p: number): number[] {
  return [0, Math.fround(1 / (1 - p))];
}

/**
 * '' when `mask` is a genuine Bernoulli draw: its values are exactly `values` (each one present), so a
 * mask that keeps or drops everything, or holds unscaled values, is reported.
 */
export function maskProblem(what: string, mask: ArrayLike<number> | undefined, values: number[]): string {
  if (!mask) return `${what}: no mask`;
  const seen = [...valueCounts(mask).keys()].sort((a, b) => a - b);
  const want = [...values].sort((a, b) => a - b);
  return JSON.stringify(seen) === JSON.stringify(want) ? '' : `${what}: values ${JSON.stringify(seen)}, expected ${JSON.stringify(want)}`;
}

/** '' when a and b hold the same float bits (so NaNs and signed zeros count too), else where they differ first. */
export function bitsProblem(what: string, a: ArrayLike<number> | undefined, b: ArrayLike<number> | undefined): string {
  if (!a || !b) return a === b ? '' : `${what}: ${a ? 'present' : 'absent'} vs ${b ? 'present' : 'absent'}`;
  if (a.length !== b.length) return `${what}: length ${a.length} vs ${b.length}`;
  const x = Float32Array.from(a);
  const y = Float32Array.from(b);
  const xi = new Uint32Array(x.buffer);
  const yi = new Uint32Array(y.buffer);
  let bad = 0;
  let first = -1;
  let worst = 0;
  for (let i = 0; i < xi.length; i++) {
    if (xi[i] !== yi[i]) {
      bad++;
      if (first < 0) first = i;
      worst = Math.max(worst, Math.abs(x[i] - y[i]));
    }
  }
  return bad === 0 ? '' : `${what}: ${bad}/${xi.length} differ; first [${first}] ${x[first]} vs ${y[first]}; largest gap ${worst}`;
}

/** What one forward/backward pair is given. */
export interface StepInputs {
  input: Tensor;
  h0: Tensor;
  c0?: Tensor;
  dOutput: Tensor;
  dhN: Tensor;
  dcN?: Tensor;
}

/** Random inputs, initial state and gradients of every shape `layer` takes for T steps of B rows. */
export function stepInputs(layer: RecurrentLayer, T: number, B: number, seed = 31): StepInputs {
  const rng = new Rng(seed);
  const states = layer.numLayers * layer.directions;
  const out = layer.directions * layer.outputSize;
  const lstm = layer instanceof LSTM;
  return {
    input: randomTensor(rng, layer.batchFirst ? [B, T, layer.inputSize] : [T, B, layer.inputSize]),
    h0: randomTensor(rng, [states, B, layer.outputSize]),
    c0: lstm ? randomTensor(rng, [states, B, layer.hiddenSize]) : undefined,
    dOutput: randomTensor(rng, layer.batchFirst ? [B, T, out] : [T, B, out]),
    dhN: randomTensor(rng, [states, B, layer.outputSize]),
    dcN: lstm ? randomTensor(rng, [states, B, layer.hiddenSize]) : undefined,
  };
}

export interface StepResult {
  /** output, hN, cN, dInput, dh0, dc0 and grad.<parameter>, each present where the layer has it. */
  values: Map<string, Float32Array>;
  masks: RecurrentMasks;
}

type StepMode = Pick<ForwardOptions, 'lengths' | 'training' | 'tape'>;

function collect(layer: RecurrentLayer, f: { output: Tensor; hN: Tensor; cN?: Tensor }, g: { dInput: Tensor; dh0: Tensor; dc0?: Tensor }): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  const put = (name: string, t?: Tensor) => t && values.set(name, t.data as Float32Array);
  put('output', f.output);
  put('hN', f.hN);
  put('cN', f.cN);
  put('dInput', g.dInput);
  put('dh0', g.dh0);
  put('dc0', g.dc0);
  for (const [name, t] of layer.gradients()) values.set(`grad.${name}`, (t.data as Float32Array).slice());
  return values;
}

/** zeroGrad, forward with a tape (training unless `mode` says otherwise), backward: every result. */
export function runStep(layer: RecurrentLayer, x: StepInputs, mode: StepMode = { training: true }): StepResult {
  layer.zeroGrad();
  const f = layer.forward(x.input, { h0: x.h0, c0: x.c0, ...mode });
  const g = layer.backward(f.tape!, { dOutput: x.dOutput, dhN: x.dhN, dcN: x.dcN });
  return { values: collect(layer, f, g), masks: tapeMasks(f.tape!) };
}

/** runStep through forwardAsync and backwardAsync. */
export async function runStepAsync(layer: RecurrentLayer, x: StepInputs, mode: StepMode = { training: true }): Promise<StepResult> {
  layer.zeroGrad();
  const f = await layer.forwardAsync(x.input, { h0: x.h0, c0: x.c0, ...mode });
  const g = await layer.backwardAsync(f.tape!, { dOutput: x.dOutput, dhN: x.dhN, dcN: x.dcN });
  return { values: collect(layer, f, g), masks: tapeMasks(f.tape!) };
}
