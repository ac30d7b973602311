// Batch rows of a sequence call, and how a call is cut along them. Every row of a recurrent layer is
// computed on its own (each output element of a product is summed over its own row in a fixed
// order), so any cut of a forward gives the same bits. Weight gradients are the exception: they sum
// over rows. Training therefore works in fixed groups of rows that depend on B alone, each group one
// kernel call whose gradients come out whole, summed into one another in group order: the bits are
// the same however the groups are spread over threads, or run one after another on one.

export interface RowRange {
  /** The first batch row. */
  b0: number;
  rows: number;
}

/** A training call's groups never have fewer rows than this (bar the last): a smaller product loses more to its edges. */
const MIN_GROUP_ROWS = 8;
/** Nor more groups than this: each costs one pass over the layer's gradients when they are summed. */
const MAX_GROUPS = 16;
/**
 * Groups come in multiples of this many rows: the gemm cuts any multiple of 4 into whole 5-, 6- and
 * 4-row tiles (assembly/gemm, tileRows: 8 rows as 4 + 4, 12 as 6 + 6, 16 as 5 + 5 + 6), so none is wasted.
 */
const TILE_ROWS = 4;

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/**
 * Work (2 × multiply-adds) below which a piece of a call costs more on a thread of its own than it
 * saves: posting it, waking a worker and collecting it take tens of microseconds. Measured
 * (docs/PERFORMANCE.md) with CELLSCAN_WASM_MIN_PIECE_FLOPS=0, which measurements use to split every call.
 */
export const MIN_PIECE_FLOPS = minPieceFlops(process.env.CELLSCAN_WASM_MIN_PIECE_FLOPS, 8e6);

function minPieceFlops(env: string | undefined, fallback: number): number {
  if (env === undefined || env.trim() === '') return fallback;
  const n = Number(env);
  if (!(n >= 0)) throw new RangeError(`CELLSCAN_WASM_MIN_PIECE_FLOPS: value must be a number >= 0, got ${JSON.stringify(env)}`);
  return n;
}

/**
 * Pieces per thread of a call that several threads share: the threads take them first come, so one
 * that the machine's other work slows down takes fewer instead of holding the call up. On shared
 * VMs one core often runs at two thirds of the other's speed for seconds at a time
 * (docs/PERFORMANCE.md, "Four pieces per thread").
 */
const PIECES_PER_THREAD = 4;

/**
 * How many pieces a call of this much work is cut into (1: it runs whole, on one thread): a whole
 * number of pieces per thread once there are more than threads, so that equal threads end together.
 */
export function piecesFor(flops: number, threads: number): number {
  const byWork = MIN_PIECE_FLOPS === 0 ? Infinity : Math.floor(flops / MIN_PIECE_FLOPS);
  if (threads === 1 || byWork < 2) return 1;
  if (byWork <= threads) return byWork;
  return threads * Math.min(PIECES_PER_THREAD, Math.floor(byWork / threads));
}

/** Cuts rows 0..B into ranges of `size` rows, the last taking what is left. */
function cut(B: number, size: number): RowRange[] {
  const out: RowRange[] = [];
  for (let b0 = 0; b0 < B; b0 += size) out.push({ b0, rows: Math.min(size, B - b0) });
  return out;
}

/** The fixed groups of a training call with B rows: a function of B alone (never of the thread count). */
export function trainingGroups(B: number): RowRange[] {
  return cut(B, Math.max(MIN_GROUP_ROWS, roundUp(Math.ceil(B / MAX_GROUPS), TILE_ROWS)));
}

/**
 * Rows an evaluation slice keeps unless that would leave a thread idle: every slice streams all of
 * the weights once per step, so thin slices multiply that traffic (docs/PERFORMANCE.md, W1).
 */
const MIN_SLICE_ROWS = 8;

/**
 * B rows in `pieces` slices of whole tiles, as even as tiles allow: fewer when B is small, no more
 * than `threads` of them once slices would fall below MIN_SLICE_ROWS, and past that a whole number
 * per thread (five equal slices on two equal threads end at 3/5 of the call, two at 1/2).
 */
export function evaluationSlices(B: number, pieces: number, threads: number): RowRange[] {
  const tiles = Math.ceil(B / TILE_ROWS);
  const most = Math.min(pieces, tiles);
  const thick = Math.min(most, Math.floor(B / MIN_SLICE_ROWS));
  const n = Math.max(1, Math.min(most, threads), threads * Math.floor(thick / threads));
  const out: RowRange[] = [];
  let b0 = 0;
  for (let i = 0; i < n; i++) {
    const end = Math.min(B, Math.round((tiles * (i + 1)) / n) * TILE_ROWS);
    out.push({ b0, rows: end - b0 });
    b0 = end;
  }
  return out;
}

/** Consecutive runs of `groups` for at most `pieces` threads, balanced by rows: [first, end) group indices. */
export function spreadGroups(groups: RowRange[], pieces: number): [first: number, end: number][] {
  const n = Math.max(1, Math.min(pieces, groups.length));
  const last = groups[groups.length - 1];
  const total = last.b0 + last.rows;
  const out: [number, number][] = [];
  groups.forEach((g, i) => {
    // Each group goes to the piece its middle row falls in; runs stay consecutive and none is empty.
    const piece = Math.min(n - 1, Math.floor(((g.b0 + g.rows / 2) * n) / total));
    if (out.length <= piece) out.push([i, i + 1]);
    else out[out.length - 1][1] = i + 1;
  });
  return out;
}

/**
 * Rows [b0, b0 + rows) of each of T blocks of B rows (a batch slice of a [T, B, width] array whose
 * rows sit `stride` elements apart), gathered into dst as [T, rows, width].
 */
export function gatherBatchRows<A extends Float32Array | Uint8Array>(dst: A, src: A, T: number, B: number, r: RowRange,
  width: number, stride = width): void {
  const { b0, rows } = r;
  if (stride === width && rows === B) {
    dst.set(src.subarray(0, T * B * width));
    return;
  }
  if (stride === width) {
    for (let t = 0; t < T; t++) {
      const from = (t * B + b0) * width;
      dst.set(src.subarray(from, from + rows * width), t * rows * width);
    }
    return;
  }
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < rows; i++) {
      const from = (t * B + b0 + i) * stride;
      dst.set(src.subarray(from, from + width), (t * rows + i) * width);
    }
  }
}

/** The inverse of gatherBatchRows: src [T, rows, width] into rows [b0, b0 + rows) of each block of dst. */
export function scatterBatchRows(dst: Float32Array, src: Float32Array, T: number, B: number, r: RowRange, width: number,
  stride = width): void {
  const { b0, rows } = r;
  if (stride === width && rows === B) {
    dst.set(src.subarray(0, T * B * width));
    return;
  }
  if (stride === width) {
    for (let t = 0; t < T; t++) dst.set(src.subarray(t * rows * width, (t + 1) * rows * width), (t * B + b0) * width);
    return;
  }
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < rows; i++) {
      const from = (t * rows + i) * width;
      dst.set(src.subarray(from, from + width), (t * B + b0 + i) * stride);
    }
  }
}
