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

const BACKENDS = ['auto', 'native', 'wasm'] as const;

/** --backend as a name useBackend takes, or undefined when absent. */
export function backendFlag(values: Record<string, unknown>): (typeof BACKENDS)[number] | undefined {
  const v = values.backend;
  if (v === undefined) return undefined;
  if (!BACKENDS.includes(v as never)) throw new UsageError(`--backend must be auto, native or wasm, got ${JSON.stringify(v)}`);
  return v as (typeof BACKENDS)[number];
}

/** --threads as a count setNumThreads takes (1..256), or undefined when absent. */
export function threadsFlag(values: Record<string, unknown>): number | undefined {
  const v = values.threads;
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 1 && n <= 256)) throw new UsageError(`--threads must be an integer in 1..256, got ${JSON.stringify(v)}`);
  return n;
}
