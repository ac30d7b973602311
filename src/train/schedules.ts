// Learning-rate schedules driven the way PyTorch's torch.optim.lr_scheduler drives them: the
// constructor sets the optimizer's lr for step 0, each step() after an optimizer step moves to the
// next, and the rate is a closed formula of the step count and the base rate (the optimizer's lr
// when the schedule was made). A formula, rather than PyTorch's chained "multiply the current lr",
// makes a resumed run land on exactly the rate it would have had: stateDict() holds only the step
// count and base rate, and loadStateDict() sets the optimizer's lr from them.
import { checkPositiveInteger, rangeError, typeError } from '../errors';
import { Optimizer } from './optimizers';
import { checkNonNegative } from './non-negative';

/** What a schedule saves (JSON-safe: every number survives JSON.stringify exactly). */
export interface ScheduleState {
  /** step() calls made since the schedule started (PyTorch's last_epoch). */
  lastEpoch: number;
  /** The optimizer's lr when the schedule started (PyTorch's base_lrs[0]). */
  baseLr: number;
}

function checkObject(where: string, arg: string, o: unknown): Record<string, unknown> {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw typeError(where, arg, 'an object', o);
  return o as Record<string, unknown>;
}

export abstract class LRSchedule {
  readonly optimizer: Optimizer;
  private epoch = 0;
  private base: number;
  private last = 0;

  protected constructor(
    private readonly where: string,
    optimizer: Optimizer,
  ) {
    if (!(optimizer instanceof Optimizer)) throw typeError(where, 'optimizer', 'an optimizer (SGD or Adam)', optimizer);
    this.optimizer = optimizer;
    this.base = optimizer.lr;
  }

  /** The rate the schedule last gave the optimizer (PyTorch's get_last_lr()[0]). */
  get lastLr(): number {
    return this.last;
  }

  /** step() calls since the schedule started (PyTorch's last_epoch). */
  get lastEpoch(): number {
    return this.epoch;
  }

  /** The optimizer's lr when the schedule started, which the formula scales. */
  get baseLr(): number {
    return this.base;
  }

  /** Moves to the next step's rate; call it after optimizer.step(), as in PyTorch. */
  step(): void {
    this.epoch++;
    this.apply();
  }

  stateDict(): ScheduleState {
    return { lastEpoch: this.epoch, baseLr: this.base };
  }

  /**
   * Continues from a saved state: the optimizer's lr becomes that of the saved step at once. The
   * schedule's own options stay those it was made with (as the optimizers' hyperparameters do).
   */
  loadStateDict(state: ScheduleState): void {
    const where = `${this.where}.loadStateDict`;
    const s = checkObject(where, 'state', state);
    const { lastEpoch, baseLr } = s;
    if (typeof lastEpoch !== 'number') throw typeError(where, 'state.lastEpoch', 'a non-negative integer', lastEpoch);
    if (!Number.isSafeInteger(lastEpoch) || lastEpoch < 0) {
      throw rangeError(where, 'state.lastEpoch', 'a non-negative integer', lastEpoch);
    }
    const base = checkNonNegative(where, 'state.baseLr', baseLr);
    this.checkBase(where, 'state.baseLr', base);
    this.epoch = lastEpoch;
    this.base = base;
    this.apply();
  }

  /** The rate at step `epoch` for base rate `baseLr`. */
  protected abstract lrAt(epoch: number, baseLr: number): number;

  /** Refuses a base rate the schedule's options cannot work with (none by default). */
  protected checkBase(_where: string, _arg: string, _baseLr: number): void {}

  /** Sets step 0's rate; subclasses call it once their options are in place. */
  protected start(): void {
    this.apply();
  }

  private apply(): void {
    const lr = this.lrAt(this.epoch, this.base);
    this.optimizer.lr = lr;
    this.last = lr;
  }
}

export interface StepLROptions {
  stepSize: number;
  /** 0.1, as PyTorch. */
  gamma?: number;
}

/** PyTorch's StepLR: lr = baseLr · gamma^floor(step / stepSize). */
export class StepLR extends LRSchedule {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer, o: StepLROptions) {
    super('StepLR', optimizer);
    const options = checkObject('StepLR', 'options', o);
    this.stepSize = checkPositiveInteger('StepLR', 'stepSize', options.stepSize);
    const gamma = options.gamma ?? 0.1;
    if (typeof gamma !== 'number') throw typeError('StepLR', 'gamma', 'a finite number > 0', gamma);
    if (!(gamma > 0) || !Number.isFinite(gamma)) throw rangeError('StepLR', 'gamma', 'a finite number > 0', gamma);
    this.gamma = gamma;
    this.start();
  }

  protected lrAt(epoch: number, baseLr: number): number {
    return baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }
}

export interface CosineWithWarmupOptions {
  /** Steps of linear warm-up from 0 to the base rate; 0 for none. */
  warmupSteps: number;
  /** The step at which the cosine reaches minLr; the rate stays there after it. */
  totalSteps: number;
  /** 0 by default; at most the base rate. */
  minLr?: number;
}

/**
 * Linear warm-up then cosine decay, the LambdaLR schedule of Hugging Face's
 * get_cosine_with_min_lr_schedule_with_warmup (half a cosine): with W warm-up and N total steps,
 * lr = baseLr · s / W for s < W, then lr = minLr + (baseLr − minLr) · (1 + cos(π·p)) / 2 with
 * p = (s − W) / max(1, N − W). Past N it holds minLr (p stops at 1) where theirs would climb back
 * up the cosine: a run that goes on past its planned end should not speed up again.
 */
export class CosineWithWarmup extends LRSchedule {
  readonly warmupSteps: number;
  readonly totalSteps: number;
  readonly minLr: number;

  constructor(optimizer: Optimizer, o: CosineWithWarmupOptions) {
    const where = 'CosineWithWarmup';
    super(where, optimizer);
    const options = checkObject(where, 'options', o);
    const warmup = options.warmupSteps;
    if (typeof warmup !== 'number') throw typeError(where, 'warmupSteps', 'a non-negative integer', warmup);
    if (!Number.isSafeInteger(warmup) || warmup < 0) throw rangeError(where, 'warmupSteps', 'a non-negative integer', warmup);
    this.totalSteps = checkPositiveInteger(where, 'totalSteps', options.totalSteps);
    if (warmup > this.totalSteps) {
      throw rangeError(where, 'warmupSteps', `at most totalSteps (${this.totalSteps})`, warmup);
    }
    this.warmupSteps = warmup;
    this.minLr = options.minLr === undefined ? 0 : checkNonNegative(where, 'minLr', options.minLr);
    if (this.minLr > this.baseLr) throw rangeError(where, 'minLr', `at most the optimizer's lr (${this.baseLr})`, this.minLr);
    this.start();
  }

  protected override checkBase(where: string, arg: string, baseLr: number): void {
    // The decay runs from the base rate down to minLr; a base below minLr would make it a rise.
    if (baseLr < this.minLr) throw rangeError(where, arg, `at least minLr (${this.minLr})`, baseLr);
  }

  protected lrAt(epoch: number, baseLr: number): number {
    const W = this.warmupSteps;
    if (epoch < W) return (baseLr * epoch) / W;
    const p = Math.min(1, (epoch - W) / Math.max(1, this.totalSteps - W));
    return this.minLr + (baseLr - this.minLr) * 0.5 * (1 + Math.cos(Math.PI * p));
  }
}
