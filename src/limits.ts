// Bounds on the sizes a layer is built with, checked before anything is allocated. The kernels of
// both backends index with 32-bit ints and refuse a feature size above 2^24, so no parameter may
// hold more than 2^31 − 1 elements. Checking here names the argument, where a typed-array
// allocation would fail with V8's own message ("Invalid typed array length: …"), and a numLayers in
// the billions would build layer objects until the JavaScript heap ran out, which ends the process.
import { rangeError, shapeText, shown } from './errors';

/** inputSize, hiddenSize, projSize: the backends' limit (native/js/layer_args.cc kMaxSize). */
export const MAX_FEATURES = 2 ** 24;
/** Elements of one parameter array: the backends' int-indexed limit. */
export const MAX_ELEMENTS = 2 ** 31 - 1;
/** A deeper stack is a typo; each layer costs objects on the JavaScript heap. */
export const MAX_LAYERS = 1024;

/** `v`, already a positive integer, at most `max`. */
export function checkAtMost(where: string, arg: string, v: number, max: number): number {
  if (v > max) throw rangeError(where, arg, `at most ${max}`, v);
  return v;
}

/** Each parameter of `shape` must fit MAX_ELEMENTS; `args` names the options that set its size. */
export function checkParameterSize(where: string, args: string, name: string, shape: readonly number[]): void {
  const n = shape.reduce((a, d) => a * d, 1);
  if (n > MAX_ELEMENTS) {
    throw rangeError(where, args, `sizes that keep ${name} within ${MAX_ELEMENTS} elements`, shown(`${name} of shape ${shapeText(shape)} (${n} elements)`));
  }
}

/** Layer calls in one Backend.forwardLayers, at most (the addon's kMaxForwardCalls). */
export const MAX_FORWARD_CALLS = 64;
