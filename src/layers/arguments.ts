// Checks of the option bags every layer's calls take.
import { typeError } from '../errors';
import { Tensor } from '../tensor';

/** `o` as a record holding only `keys` (absent: empty); anything else is a TypeError naming `arg`. */
export function checkOptionKeys(where: string, arg: string, o: unknown, keys: string[]): Record<string, unknown> {
  if (o === undefined) return {};
  if (o === null || typeof o !== 'object' || Array.isArray(o) || o instanceof Tensor) {
    throw typeError(where, arg, `an object with some of ${keys.join(', ')}`, o);
  }
  for (const key of Object.keys(o)) {
    if (!keys.includes(key)) throw new TypeError(`${where}: unknown ${arg} key ${JSON.stringify(key)}; expected ${keys.join(', ')}`);
  }
  return o as Record<string, unknown>;
}
