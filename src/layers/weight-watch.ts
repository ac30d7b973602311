// Sees in-place writes into parameter arrays that nobody announced with parametersChanged(). The
// backends compute with their own packed copy of the weights, and a Float32Array gives no sign
// when it is written to: the only sure way to know it is unchanged is to read all of it. So the
// arrays are compared, byte for byte (memcmp, through Buffer.equals), with a copy of what the
// backend was given; but only the arrays that have left the module (Module.onParameterExposed), as
// nothing else can have written to the others. A layer whose weights came in by its constructor or
// loadStateDict and were never handed out pays nothing per call; one whose arrays were handed out
// pays a comparison per call (docs/PERFORMANCE.md, "Stale weights", measures both).

/** Off only for measuring what the check costs (npm run bench:stale); read once. */
const checking = process.env.CELLSCAN_BENCH_NO_WEIGHT_CHECK !== '1';

interface Watched {
  /** The parameter's array, as bytes. */
  live: Buffer;
  /** What the backend's copy was made from. */
  given: Buffer;
}

function bytesOf(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

export class WeightWatch {
  private readonly watched: Watched[] = [];

  /** `array` has been handed out; it holds what the backend was last given (or will be). */
  watch(array: Float32Array): void {
    const live = bytesOf(array);
    this.watched.push({ live, given: Buffer.from(live) });
  }

  /** The backend has just copied the arrays as they are now. */
  given(): void {
    for (const w of this.watched) w.given.set(w.live);
  }

  /** Whether a handed-out array no longer holds what the backend was given. */
  changed(): boolean {
    if (!checking) return false;
    for (const w of this.watched) if (!w.live.equals(w.given)) return true;
    return false;
  }
}
