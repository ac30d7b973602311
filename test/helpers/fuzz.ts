// What the property-based suites (test/fuzz-*.test.ts) share: one seed per run, and the one
// assertion they all make about a refused call.
//
// The seed is fixed unless CELLSCAN_FUZZ_SEED gives another, so CI checks the same inputs every
// time and a failure reproduces; fast-check's failure message carries the seed and the path of the
// shrunk counterexample. CELLSCAN_FUZZ_RUNS scales every property's number of runs (e.g. 10 for a
// longer hunt by hand).
import fc from 'fast-check';

export const fuzzSeed = Number(process.env.CELLSCAN_FUZZ_SEED ?? 0x5eed14);
const scale = Number(process.env.CELLSCAN_FUZZ_RUNS ?? 1);

fc.configureGlobal({ seed: fuzzSeed, numRuns: 100, endOnFailure: false });

/** Runs for one property: `n` at the default scale. */
export function runs(n: number): { numRuns: number } {
  return { numRuns: Math.max(1, Math.round(n * scale)) };
}

function describeThrown(e: unknown): string {
  if (e instanceof Error || (e !== null && typeof e === 'object' && 'message' in e)) {
    const err = e as Error;
    return `${err.name}: ${err.message}`;
  }
  return `a thrown ${typeof e} ${String(e)}`;
}

/**
 * `e` is a TypeError or RangeError (by name: the addon makes its errors in Node's own realm, which is
 * not jest's) whose message starts with `where: ` and names one of `args`.
 */
export function expectArgumentError(e: unknown, where: string, args: readonly string[]): void {
  const err = e as Error;
  const ok =
    e !== null &&
    typeof e === 'object' &&
    (err.name === 'TypeError' || err.name === 'RangeError') &&
    typeof err.message === 'string' &&
    err.message.startsWith(`${where}`) &&
    args.some((a) => err.message.includes(a));
  if (!ok) {
    throw new Error(`expected a TypeError or RangeError from ${where} naming ${args.join(' or ')}, got ${describeThrown(e)}`);
  }
}

/** Calls fn, which must throw as expectArgumentError says. */
export function expectRefused(fn: () => unknown, where: string, args: readonly string[]): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) throw new Error(`expected ${where} to refuse the call (naming ${args.join(' or ')}), but it returned`);
  expectArgumentError(thrown, where, args);
}

/** As expectRefused, for a call that may throw at once or return a promise that must reject. */
export async function expectRefusedAsync(fn: () => unknown, where: string, args: readonly string[]): Promise<void> {
  let thrown: unknown;
  try {
    await fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) throw new Error(`expected ${where} to refuse the call (naming ${args.join(' or ')}), but it resolved`);
  expectArgumentError(thrown, where, args);
}

/** Values of the wrong JavaScript type for a number, an array, an object or a typed array. */
export const wrongType = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constantFrom(undefined, null, true, false, '', '3', 'NaN', [], {}, () => 1, Symbol('x'), 3n),
    fc.string({ maxLength: 6 }),
    fc.array(fc.integer({ min: -2, max: 8 }), { maxLength: 4 }),
    fc.constantFrom(new Float64Array(4), new Uint8Array(4), new Int16Array(2), new DataView(new ArrayBuffer(4))),
  );

/** Numbers that are no size: zero, negative, fractional, not finite, past 2^53. */
export const notASize = (): fc.Arbitrary<number> =>
  fc.oneof(
    fc.constantFrom(0, -0, -1, NaN, Infinity, -Infinity, 0.5, 1.5, 2 ** 53 + 2, -(2 ** 31)),
    fc.integer({ min: -1000, max: -1 }),
    fc.double({ min: 0.01, max: 1000, noNaN: true }).filter((d) => !Number.isInteger(d)),
  );
