// How the wasm backend cuts a call's batch rows (src/backend/wasm-rows.ts): evaluation slices are
// whole 4-row tiles, never thinner than 8 rows while a thread would not go idle for it, and they
// cover every row once, in order.
import { MIN_PIECE_FLOPS, type RowRange, evaluationSlices, piecesFor, trainingGroups } from '../src/backend/wasm-rows';

const sizes = (slices: RowRange[]) => slices.map((s) => s.rows);

function expectCover(slices: RowRange[], B: number): void {
  let next = 0;
  for (const s of slices) {
    expect(s.b0).toBe(next);
    expect(s.rows).toBeGreaterThan(0);
    next += s.rows;
  }
  expect(next).toBe(B);
}

describe('evaluationSlices', () => {
  test.each([
    // B, pieces asked, threads, slice rows
    [16, 4, 2, [8, 8]], // W1: 4-row slices would stream the weights twice as often
    [64, 4, 2, [16, 16, 16, 16]],
    [64, 8, 2, Array(8).fill(8)], // S3 on two threads: four slices each, of 8 rows
    [40, 8, 2, [12, 8, 12, 8]], // five 8-row slices would leave one thread a slice behind
    [56, 8, 2, [8, 12, 8, 8, 12, 8]],
    [8, 2, 2, [4, 4]], // fewer rows than two 8-row slices: both threads still work
    [24, 6, 3, [8, 8, 8]],
    [20, 4, 2, [12, 8]], // whole tiles, as even as they allow
    [3, 4, 2, [3]], // one tile: one slice
    [40, 1, 2, [40]], // a call too small to cut stays whole
  ])('B=%i, %i pieces on %i threads: slices of %j rows', (B, pieces, threads, want) => {
    const slices = evaluationSlices(B, pieces, threads);
    expectCover(slices, B);
    expect(sizes(slices)).toEqual(want);
  });

  test('every B from 1 to 200 is covered, on 1 to 4 threads', () => {
    for (let B = 1; B <= 200; B++) {
      for (let threads = 1; threads <= 4; threads++) expectCover(evaluationSlices(B, 2 * threads, threads), B);
    }
  });
});

describe('piecesFor', () => {
  const piece = MIN_PIECE_FLOPS;
  test.each([
    // work in pieces' worth, threads, pieces
    [1e6, 1, 1], // one thread: never cut
    [1.9, 2, 1], // less than two pieces' worth stays whole
    [2, 2, 2],
    [3, 4, 3], // fewer pieces' worth than threads: one piece each
    [3, 2, 2], // not three: one thread would run two of them, the other one
    [5, 2, 4],
    [1e6, 2, 8], // four per thread
    [1e6, 3, 12],
  ])('%d pieces of work on %i threads: %i pieces', (work, threads, want) => {
    expect(piecesFor(work * piece, threads)).toBe(want);
  });
});

describe('trainingGroups depend on B alone', () => {
  test.each([
    [16, [8, 8]],
    [13, [8, 5]],
    [256, Array(16).fill(16)],
  ])('B=%i: groups of %j rows', (B, want) => {
    const groups = trainingGroups(B);
    expectCover(groups, B);
    expect(sizes(groups)).toEqual(want);
  });
});
