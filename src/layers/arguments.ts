// Checks of the option bags every layer's calls take.
import { rangeError, typeError } from '../errors';
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

/**
 * A constructor's options: an object (`holding` says what it must hold) with no key outside
 * `known`, since a misspelt option would otherwise be dropped without a word.
 */
export function checkConstructorOptions(where: string, options: unknown, holding: string, known: readonly string[]): Record<string, unknown> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw typeError(where, 'options', `an object with ${holding}`, options);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`${where}: unknown option ${JSON.stringify(key)}; the options are ${known.join(', ')}`);
  }
  return options as Record<string, unknown>;
}

/** A seed of the weights' generator: an integer a double holds exactly. */
export function checkSeed(where: string, v: unknown): number {
  if (typeof v !== 'number') throw typeError(where, 'seed', 'an integer', v);
  if (!Number.isSafeInteger(v)) throw rangeError(where, 'seed', 'an integer', v);
  return v;
}
