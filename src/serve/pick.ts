// Which queued requests make the next batch. A batch runs its longest sequence's T steps: the wasm
// backend runs every row through all of them (padded rows still pass through the products), and
// the native one, which skips ended rows, still pays each step's fixed costs and narrower products.
// Mixing T = 2 with T = 48 wastes most of the short row's share.

/** The first `maxBatch` in arrival order. */
export function pickOldest(lengths: readonly number[], maxBatch: number): number[] {
  return Array.from({ length: Math.min(maxBatch, lengths.length) }, (_, i) => i);
}

/**
 * With more than `maxBatch` waiting: the length-sorted queue cut into the fewest batches that hold it,
 * of equal sizes (within one), and the batch holding the oldest request taken (so none waits
 * forever). Equal sizes rather than full batches and a remainder: two half batches of similar
 * lengths cost less than a full one padded to the longest plus a lone one. Indexes come back in
 * arrival order.
 */
export function pickSimilarLengths(lengths: readonly number[], maxBatch: number): number[] {
  const n = lengths.length;
  if (n <= maxBatch) return pickOldest(lengths, maxBatch);
  // Ties keep arrival order, so among equal lengths the older ones go first.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const groups = Math.ceil(n / maxBatch);
  const oldestAt = order.indexOf(0);
  const start = (g: number) => Math.floor((g * n) / groups);
  let g = 0;
  while (start(g + 1) <= oldestAt) g++;
  return order.slice(start(g), start(g + 1)).sort((a, b) => a - b);
}
