// The one check of the training settings that take any finite number from 0 up: a learning rate
// wherever one is given (an optimizer's constructor and its lr setter, a schedule's minLr and a
// restored baseLr), momentum, eps and weight decay. 0 is a rate (a warm-up starts there, and
// PyTorch's optimizers take it), so every path accepts it and refuses the same values.
import { rangeError, typeError } from '../errors';

export function checkNonNegative(where: string, arg: string, v: unknown): number {
  if (typeof v !== 'number') throw typeError(where, arg, 'a finite number >= 0', v);
  if (!(v >= 0) || !Number.isFinite(v)) throw rangeError(where, arg, 'a finite number >= 0', v);
  return v;
}
