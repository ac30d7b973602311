// SGD and Adam with PyTorch's update rules, and gradient-norm clipping. They work on anything that
// exposes parameters() and gradients() with the same names (every layer here), and tell each
// module parametersChanged() after updating it in place.
import { rangeError, typeError } from '../errors';
import { parameterArray } from '../layers/module';
import { Tensor } from '../tensor';
import { checkNonNegative } from './non-negative';
import { float32Entry, quoteList, stateEntries } from './state-dict';

export interface Trainable {
  parameters(): Map<string, Tensor>;
  gradients(): Map<string, Tensor>;
  zeroGrad(): void;
  parametersChanged(): void;
}

interface Slot {
  param: Float32Array;
  grad: Float32Array;
  shape: readonly number[];
}

function checkModules(where: string, modules: Trainable | Trainable[]): Trainable[] {
  const list = Array.isArray(modules) ? modules : [modules];
  list.forEach((m, i) => {
    if (!m || typeof m.parameters !== 'function' || typeof m.gradients !== 'function') {
      throw typeError(where, `modules[${i}]`, 'a layer with parameters() and gradients()', m);
    }
  });
  return list;
}

function slotsOf(modules: Trainable[]): Slot[] {
  const slots: Slot[] = [];
  for (const m of modules) {
    const grads = m.gradients();
    for (const [name, p] of m.parameters()) {
      slots.push({ param: parameterArray(p), grad: grads.get(name)!.data as Float32Array, shape: p.shape });
    }
  }
  return slots;
}

function optionalNonNegative(where: string, arg: string, v: unknown, fallback: number): number {
  return v === undefined ? fallback : checkNonNegative(where, arg, v);
}

/** What SGD and Adam share, and what a learning-rate schedule (schedules.ts) drives. */
export abstract class Optimizer {
  protected readonly modules: Trainable[];
  protected readonly slots: Slot[];
  private rate = 0;

  protected constructor(
    private readonly where: string,
    modules: Trainable | Trainable[],
  ) {
    this.modules = checkModules(where, modules);
    this.slots = slotsOf(this.modules);
  }

  /**
   * The learning rate the next step() uses. Settable, as PyTorch's param_groups[0]['lr'], so a
   * schedule or a training loop can change it between steps; 0 is allowed (a warm-up starts there).
   */
  get lr(): number {
    return this.rate;
  }

  set lr(value: number) {
    this.rate = checkNonNegative(this.where, 'lr', value);
  }

  /** Applies one update from the gradients, then lets every module drop its prepared weights. */
  step(): void {
    this.update();
    for (const m of this.modules) m.parametersChanged();
  }

  zeroGrad(): void {
    for (const m of this.modules) m.zeroGrad();
  }

  protected abstract update(): void;
}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
}

/** p −= lr · v, v = momentum · v + (g + weightDecay · p) (first step: v = g + weightDecay · p). */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly weightDecay: number;
  private velocity: Float32Array[] | undefined;

  constructor(modules: Trainable | Trainable[], o: SGDOptions) {
    super('SGD', modules);
    if (o === null || typeof o !== 'object') throw typeError('SGD', 'options', 'an object with lr', o);
    // Through the setter: the constructor and `opt.lr = x` take the same rates.
    this.lr = o.lr;
    this.momentum = optionalNonNegative('SGD', 'momentum', o.momentum, 0);
    this.weightDecay = optionalNonNegative('SGD', 'weightDecay', o.weightDecay, 0);
  }

  /**
   * The momentum buffers, PyTorch's momentum_buffer, to save with a checkpoint: `momentum_buffer.<i>`
   * per parameter in order, of its shape. Empty before the first step and without momentum.
   */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.velocity?.forEach((v, i) => out.set(`momentum_buffer.${i}`, new Tensor(v.slice(), this.slots[i].shape)));
    return out;
  }

  /**
   * Restores what stateDict() saved for the same parameters: every buffer, or none (the state
   * before the first step). Checked in full before anything changes; other keys are refused, since
   * a misspelt one would otherwise silently restart momentum from zero.
   */
  loadStateDict(d: Map<string, Tensor> | Record<string, Tensor>): void {
    const where = 'SGD.loadStateDict';
    const given = stateEntries(where, d);
    const keys = this.slots.map((_, i) => `momentum_buffer.${i}`);
    const unexpected = [...given.keys()].filter((k) => !keys.includes(k));
    if (unexpected.length) {
      throw new RangeError(`${where}: d must hold only ${keys.length ? `momentum_buffer.0 … momentum_buffer.${keys.length - 1}` : 'nothing (no parameters)'}, got unexpected ${quoteList(unexpected)}`);
    }
    if (given.size === 0) {
      this.velocity = undefined;
      return;
    }
    const missing = keys.filter((k) => !given.has(k));
    if (missing.length) throw new RangeError(`${where}: d must hold every momentum buffer or none, missing ${quoteList(missing)}`);
    const buffers = keys.map((k, i) => float32Entry(where, given, k, this.slots[i].shape).slice());
    this.velocity = buffers;
  }

  protected update(): void {
    const { lr, momentum, weightDecay } = this;
    const first = this.velocity === undefined;
    if (momentum > 0 && first) this.velocity = this.slots.map((s) => new Float32Array(s.param.length));
    this.slots.forEach((s, k) => {
      const { param, grad } = s;
      const v = this.velocity?.[k];
      for (let i = 0; i < param.length; i++) {
        let d = grad[i] + weightDecay * param[i];
        if (v) {
          v[i] = first ? d : momentum * v[i] + d;
          d = v[i];
        }
        param[i] -= lr * d;
      }
    });
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/**
 * PyTorch's Adam (weight decay added to the gradient, not decoupled):
 * m = β1 m + (1 − β1) g, v = β2 v + (1 − β2) g², p −= (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps).
 */
export class Adam extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private t = 0;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];

  constructor(modules: Trainable | Trainable[], o: AdamOptions = {}) {
    super('Adam', modules);
    if (o === null || typeof o !== 'object') throw typeError('Adam', 'options', 'an object', o);
    this.lr = o.lr ?? 1e-3;
    const betas = o.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw typeError('Adam', 'betas', 'a pair of numbers in [0, 1)', betas);
    for (const b of betas) {
      if (typeof b !== 'number' || !(b >= 0 && b < 1)) throw rangeError('Adam', 'betas', 'a pair of numbers in [0, 1)', betas);
    }
    this.betas = [betas[0], betas[1]];
    this.eps = optionalNonNegative('Adam', 'eps', o.eps, 1e-8);
    this.weightDecay = optionalNonNegative('Adam', 'weightDecay', o.weightDecay, 0);
    this.m = this.slots.map((s) => new Float32Array(s.param.length));
    this.v = this.slots.map((s) => new Float32Array(s.param.length));
  }

  /** Step count and moments, to save with a checkpoint: `step` [1], `m.<i>`, `v.<i>` per parameter in order. */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>([['step', new Tensor(Float32Array.of(this.t), [1])]]);
    this.m.forEach((m, i) => out.set(`m.${i}`, new Tensor(m.slice(), [m.length])));
    this.v.forEach((v, i) => out.set(`v.${i}`, new Tensor(v.slice(), [v.length])));
    return out;
  }

  /** Restores what stateDict() saved for the same parameters; checked in full before anything changes. */
  loadStateDict(d: Map<string, Tensor> | Record<string, Tensor>): void {
    const where = 'Adam.loadStateDict';
    const given = stateEntries(where, d) as Map<string, Tensor | undefined>;
    const step = given.get('step');
    if (!step || step.size !== 1 || !Number.isInteger(step.data[0]) || step.data[0] < 0) {
      throw typeError(where, 'd["step"]', 'a one-element Tensor holding the step count', step);
    }
    const moments: [Float32Array, Float32Array][] = this.m.map((m, i) => {
      const pair = [given.get(`m.${i}`), given.get(`v.${i}`)];
      for (const [k, t] of pair.entries()) {
        const key = `${k === 0 ? 'm' : 'v'}.${i}`;
        if (!t || t.dtype !== 'float32') throw typeError(where, `d["${key}"]`, `a float32 Tensor of ${m.length} elements`, t);
        if (t.size !== m.length) throw rangeError(where, `d["${key}"]`, `a Tensor of ${m.length} elements`, t);
      }
      return [pair[0]!.data as Float32Array, pair[1]!.data as Float32Array];
    });
    this.t = step.data[0];
    moments.forEach(([m, v], i) => {
      this.m[i].set(m);
      this.v[i].set(v);
    });
  }

  protected update(): void {
    this.t++;
    const [b1, b2] = this.betas;
    const { lr, eps, weightDecay } = this;
    const stepSize = lr / (1 - b1 ** this.t);
    const rootCorrection2 = Math.sqrt(1 - b2 ** this.t);
    this.slots.forEach((s, k) => {
      const { param, grad } = s;
      const m = this.m[k];
      const v = this.v[k];
      for (let i = 0; i < param.length; i++) {
        const g = grad[i] + weightDecay * param[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        param[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / rootCorrection2 + eps);
      }
    });
  }
}

/**
 * Scales all gradients together so their global L2 norm is at most maxNorm (as PyTorch's
 * clip_grad_norm_: factor maxNorm / (norm + 1e-6) when below 1). Returns the norm before clipping.
 */
export function clipGradNorm(modules: Trainable | Trainable[], maxNorm: number): number {
  const where = 'clipGradNorm';
  const list = checkModules(where, modules);
  if (typeof maxNorm !== 'number') throw typeError(where, 'maxNorm', 'a positive number', maxNorm);
  if (!(maxNorm > 0)) throw rangeError(where, 'maxNorm', 'a positive number', maxNorm);
  const grads = list.flatMap((m) => [...m.gradients().values()].map((g) => g.data as Float32Array));
  let sum = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  const norm = Math.sqrt(sum);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return norm;
}
