// Command-line values the bench commands share: positive numbers and shape lists.
import { SHAPES, type Shape } from './shapes';

/** `--name v` as a positive number (an integer when `integer`), or a RangeError naming the flag. */
export function positive(name: string, v: string, integer: boolean): number {
  const n = Number(v);
  if (!(n > 0) || (integer && !Number.isInteger(n))) {
    throw new RangeError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** A comma-separated list of shape ids (any case), each one of SHAPES. */
export function shapesOf(ids: string[]): Shape[] {
  return ids.map((id) => {
    const s = SHAPES.find((x) => x.id.toLowerCase() === id.trim().toLowerCase());
    if (!s) throw new RangeError(`--shapes: unknown shape ${JSON.stringify(id)}; known: ${SHAPES.map((x) => x.id).join(', ')}`);
    return s;
  });
}
