// Which ONNX opsets an exported graph may be stamped with, and the IR version that goes with each.
//
// The graph uses LSTM/GRU/RNN-7, Transpose-1, Reshape-5, Gather-1, Concat-4, Add-7, Cast-6 and
// Where-9; every later version of these only adds element types or attributes whose defaults keep
// the old meaning (LSTM-14's `layout` among them: onnxruntime refuses layout = 1, so batchFirst is
// served by Transposes instead). Where, which gives a row of length 0 its initial state back, is
// the newest, so opset 9 is the lowest that expresses the layer. 22 holds the newest versions of
// the recurrent operators.
import { rangeError, typeError } from '../errors';

export const MIN_OPSET = 9;
export const MAX_OPSET = 22;
export const DEFAULT_OPSET = MIN_OPSET;

/** The IR version of the ONNX release that introduced each opset: older runtimes read older models. */
export function irVersionFor(opset: number): number {
  if (opset <= 9) return 4;
  if (opset === 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

export function checkOpset(where: string, v: unknown): number {
  const expected = `an integer in ${MIN_OPSET}..${MAX_OPSET}`;
  if (typeof v !== 'number') throw typeError(where, 'opset', expected, v);
  if (!Number.isInteger(v) || v < MIN_OPSET || v > MAX_OPSET) throw rangeError(where, 'opset', expected, v);
  return v;
}
