// The check of a numeric flag, for every command (`worker` and `sweep` included), so that one
// flag is refused in one wording whichever command takes it.
import { UsageError } from './usage-error';

/** `--key` as a positive number (an integer unless `integer` is false), or `fallback` when absent. */
export function positiveFlag(values: Record<string, unknown>, key: string, fallback: number, integer = true): number {
  const v = values[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n <= 0) {
    throw new UsageError(`--${key} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`);
  }
  return n;
}
