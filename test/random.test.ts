// The seeded generator behind weight init and every dropout and zoneout mask. Masks must be the same
// on every machine and whichever way they are written, and a Bernoulli(p) draw must hit with
// probability p (a 32-bit comparison, the rare ties on the first byte settled by 24 bits more).
import { Rng } from '../src/random';

/** fillBernoulli into `n` bytes at byte offset `offset` of a fresh buffer (1 = hit). */
function bytes(seed: number, p: number, n: number, offset: number): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(n + offset), offset, n);
  new Rng(seed).fillBernoulli(out, p, 1, 0);
  return out;
}

test('bytes of 0 and 1 are the same whether written four at a time or one by one', () => {
  for (const n of [1, 3, 4, 7, 64, 1001]) {
    const words = bytes(11, 0.3, n, 0); // aligned: whole words
    const single = bytes(11, 0.3, n, 1); // unaligned: one byte at a time
    const f32 = new Float32Array(n);
    new Rng(11).fillBernoulli(f32, 0.3, 1, 0);
    expect([n, Array.from(single)]).toEqual([n, Array.from(words)]);
    expect([n, Array.from(f32)]).toEqual([n, Array.from(words)]);
  }
});

test('every element of every length is drawn, with the values asked for', () => {
  for (let n = 1; n <= 9; n++) {
    const out = new Float32Array(n).fill(Number.NaN);
    new Rng(n).fillBernoulli(out, 0.5, -2, 3);
    expect(out.every((v) => v === -2 || v === 3)).toBe(true);
  }
});

test('p = 0 never hits and p = 1 always does; the hit rate is p within 4σ', () => {
  expect(bytes(1, 0, 100, 0).every((v) => v === 0)).toBe(true);
  expect(bytes(1, 1, 100, 0).every((v) => v === 1)).toBe(true);
  const n = 1 << 20;
  // p with its first byte equal to many draws' first byte (0x1a = 26 of 256): ties are common.
  for (const p of [0.1, 26 / 256 + 1e-6, 0.5, 0.999]) {
    const hits = bytes(5, p, n, 0).reduce((s, v) => s + v, 0);
    const sigma = Math.sqrt(n * p * (1 - p));
    expect(Math.abs(hits - n * p)).toBeLessThan(4 * sigma);
  }
});

test('a tie on the first byte is decided by the next bits: p just above and just below a byte boundary differ', () => {
  // Every draw whose first byte is 26 ties with both; p = 26/256 + ε hits on some of them, 26/256 − ε on none.
  const n = 1 << 18;
  const above = bytes(9, 26 / 256 + 1e-3, n, 0).reduce((s, v) => s + v, 0);
  const below = bytes(9, 26 / 256 - 1e-3, n, 0).reduce((s, v) => s + v, 0);
  const edge = bytes(9, 26 / 256, n, 0).reduce((s, v) => s + v, 0);
  expect(below).toBeLessThan(edge);
  expect(edge).toBeLessThan(above);
});

test('the stream repeats for a seed and moves on between calls', () => {
  const r = new Rng(42);
  const a = new Uint8Array(256);
  const b = new Uint8Array(256);
  r.fillBernoulli(a, 0.5, 1, 0);
  r.fillBernoulli(b, 0.5, 1, 0);
  expect(Array.from(a)).not.toEqual(Array.from(b));
  expect(Array.from(bytes(42, 0.5, 256, 0))).toEqual(Array.from(a));
});
