// Checks shared by the optimizers' loadStateDict: what a state dict may be, and one entry of it.
// Every check runs before an optimizer changes anything, so a refused dict leaves it as it was.
import { rangeError, shapeText, shown, typeError } from '../errors';
import { Tensor } from '../tensor';

/**
 * A Map or plain object of entries, as the layers' loadStateDict takes, as a Map. A Map's keys
 * that are not strings become strings, so a caller that refuses unknown keys names them too.
 */
export function stateEntries(where: string, d: unknown): Map<string, unknown> {
  if (d instanceof Map) return new Map([...d].map(([k, v]) => [String(k), v]));
  if (d !== null && typeof d === 'object' && !Array.isArray(d) && !(d instanceof Tensor)) {
    return new Map(Object.entries(d));
  }
  throw typeError(where, 'd', 'a Map or object of Tensors', d);
}

/** Names for a message: the first ten, quoted, and how many there are in all. */
export function quoteList(names: string[]): string {
  const first = names.slice(0, 10).map((n) => JSON.stringify(n));
  return first.join(', ') + (names.length > 10 ? `, … (${names.length} in all)` : '');
}

/** The data of d[key], which must be a float32 Tensor of `shape`. */
export function float32Entry(where: string, d: Map<string, unknown>, key: string, shape: readonly number[]): Float32Array {
  const arg = `d[${JSON.stringify(key)}]`;
  const v = d.get(key);
  const expected = `a float32 Tensor of shape ${shapeText(shape)}`;
  if (!(v instanceof Tensor)) throw typeError(where, arg, expected, v);
  if (v.dtype !== 'float32') throw typeError(where, arg, expected, v);
  if (v.shape.length !== shape.length || v.shape.some((n, i) => n !== shape[i])) {
    throw rangeError(where, arg, expected, shown(`shape ${shapeText(v.shape)}`));
  }
  return v.data as Float32Array;
}
