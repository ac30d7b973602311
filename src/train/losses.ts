// Losses that return their gradient with the value, in the explicit forward/backward style of the
// layers: { loss, dLogits } / { loss, dPred }. Sums run in float64.
import { rangeError, shapeText, shown, typeError } from '../errors';
import { checkOptionKeys } from '../layers/arguments';
import { Tensor } from '../tensor';

export interface CrossEntropyOptions {
  /** Targets equal to this contribute nothing (default -100, as PyTorch). */
  ignoreIndex?: number;
}

function checkFloat(where: string, arg: string, t: unknown): Tensor {
  if (!(t instanceof Tensor) || t.dtype !== 'float32') throw typeError(where, arg, 'a float32 Tensor', t);
  return t;
}

/**
 * Mean cross-entropy of softmax(logits) against class ids, over the targets not equal to
 * ignoreIndex. logits [..., C], targets int32 [...] (the leading shape of logits). When every
 * target is ignored the mean has no terms: loss is NaN (as PyTorch) and dLogits is zero.
 */
export function crossEntropy(
  logits: Tensor,
  targets: Tensor,
  o: CrossEntropyOptions = {},
): { loss: number; dLogits: Tensor } {
  const where = 'crossEntropy';
  checkFloat(where, 'logits', logits);
  if (logits.shape.length < 1 || logits.shape[logits.shape.length - 1] < 1) {
    throw rangeError(where, 'logits', 'a Tensor [..., C] with C ≥ 1', shown(`shape ${shapeText(logits.shape)}`));
  }
  if (!(targets instanceof Tensor) || targets.dtype !== 'int32') {
    throw typeError(where, 'targets', 'an int32 Tensor of class ids', targets);
  }
  const lead = logits.shape.slice(0, -1);
  if (targets.shape.length !== lead.length || targets.shape.some((d, i) => d !== lead[i])) {
    throw rangeError(where, 'targets', `of shape ${shapeText(lead)} (logits without the class axis)`,
      shown(`shape ${shapeText(targets.shape)}`));
  }
  const options = checkOptionKeys(where, 'options', o, ['ignoreIndex']);
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) throw typeError(where, 'ignoreIndex', 'an integer', ignoreIndex);

  const C = logits.shape[logits.shape.length - 1];
  const rows = targets.size;
  const x = logits.data as Float32Array;
  const ids = targets.data as Int32Array;
  const dLogits = new Float32Array(x.length);
  let counted = 0;
  for (let r = 0; r < rows; r++) {
    const id = ids[r];
    if (id === ignoreIndex) continue;
    if (id < 0 || id >= C) throw rangeError(where, `targets[${r}]`, `a class id in 0..${C - 1} or ignoreIndex (${ignoreIndex})`, id);
    counted++;
  }
  if (counted === 0) return { loss: NaN, dLogits: new Tensor(dLogits, logits.shape) };

  let total = 0;
  const scale = 1 / counted;
  for (let r = 0; r < rows; r++) {
    const id = ids[r];
    if (id === ignoreIndex) continue;
    const row = r * C;
    // log-sum-exp around the row maximum: exp never overflows.
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (x[row + c] > max) max = x[row + c];
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(x[row + c] - max);
    const logSum = Math.log(sum) + max;
    total += logSum - x[row + id];
    for (let c = 0; c < C; c++) dLogits[row + c] = (Math.exp(x[row + c] - logSum) - (c === id ? 1 : 0)) * scale;
  }
  return { loss: total / counted, dLogits: new Tensor(dLogits, logits.shape) };
}

/** Mean squared error over every element: loss = mean((pred − target)²), dPred = 2 (pred − target) / n. */
export function mseLoss(pred: Tensor, target: Tensor): { loss: number; dPred: Tensor } {
  const where = 'mseLoss';
  checkFloat(where, 'pred', pred);
  checkFloat(where, 'target', target);
  if (pred.shape.length !== target.shape.length || pred.shape.some((d, i) => d !== target.shape[i])) {
    throw rangeError(where, 'target', `of shape ${shapeText(pred.shape)} (as pred)`, shown(`shape ${shapeText(target.shape)}`));
  }
  const n = pred.size;
  const p = pred.data as Float32Array;
  const t = target.data as Float32Array;
  const dPred = new Float32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = p[i] - t[i];
    total += d * d;
    dPred[i] = (2 * d) / n;
  }
  return { loss: n ? total / n : NaN, dPred: new Tensor(dPred, pred.shape) };
}
