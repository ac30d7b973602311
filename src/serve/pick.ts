// Which queued requests make the next batch. The backends run every row of a batch for all of the
// batch's T steps (padded rows still pass through the recurrent GEMM), so a batch costs about its
// longest sequence times its rows: mixing T = 2 with T = 48 wastes most of the short row's share.

/** The first `maxBatch` in arrival order. */
export function pickOldest(lengths: readonly number[], maxBatch: number): number[] {
  return Array.from({ length: Math.min(maxBatch, lengths.length) }, (_, i) => i);
}

/**
 * With more than `maxBatch` waiting: the oldest request (so none waits forever) and the `maxBatch - 1`
 * others that pad it least, i.e. the window of the length-sorted queue around the oldest with the
 * least padding. Indexes come back in arrival order.
 */
export function pickSimilarLengths(lengths: readonly number[], maxBatch: number): number[] {
  const n = lengths.length;
  if (n <= maxBatch) return pickOldest(lengths, maxBatch);
  // Ties keep arrival order, so among equal lengths the older ones go first.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const sums = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) sums[i + 1] = sums[i] + lengths[order[i]];
  const oldestAt = order.indexOf(0);
  let best = -1;
  let bestPadding = Infinity;
  for (let start = Math.max(0, oldestAt - maxBatch + 1); start <= Math.min(oldestAt, n - maxBatch); start++) {
    const end = start + maxBatch;
    const padding = maxBatch * lengths[order[end - 1]] - (sums[end] - sums[start]);
    if (padding < bestPadding) {
      bestPadding = padding;
      best = start;
    }
  }
  return order.slice(best, best + maxBatch).sort((a, b) => a - b);
}
