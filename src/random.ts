// A small seeded generator (xoshiro128**, seeded through splitmix32) so weight init and dropout
// masks repeat exactly from run to run and from machine to machine.

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const st = { s: seed | 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = times(rotl(times(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1) with 24 random bits: exactly representable in float32. */
  nextFloat(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** Fills `out` with normal values (Box–Muller on two uniforms per pair). */
  fillNormal(out: Float32Array, mean = 0, std = 1): void {
    for (let i = 0; i < out.length; i += 2) {
      // 1 − u keeps the logarithm's argument in (0, 1].
      const r = Math.sqrt(-2 * Math.log(1 - this.nextFloat()));
      const theta = 2 * Math.PI * this.nextFloat();
      out[i] = mean + std * r * Math.cos(theta);
      if (i + 1 < out.length) out[i + 1] = mean + std * r * Math.sin(theta);
    }
  }

  /**
   * Fills `out` with Bernoulli(p) draws: `hit` with probability p, else `miss`. Each 32-bit number
   * serves two elements, 16 bits each, compared with the top 16 bits of p·2³²; the elements that tie
   * (1 in 65536) are decided afterwards, in order, by 16 bits more each. That equals one 32-bit
   * comparison per element at half the numbers: masks over every step of a sequence are drawn fast
   * enough to keep up with the kernels.
   */
  fillBernoulli(out: Uint8Array | Float32Array, p: number, hit: number, miss: number): void {
    const n = out.length;
    if (!(p > 0)) return void out.fill(miss);
    if (p >= 1) return void out.fill(hit);
    const threshold = Math.floor(p * 4294967296);
    const hi = threshold >>> 16;
    const lo = threshold & 0xffff;
    const ties: number[] = [];
    // The generator's step on locals: through nextUint32 (state in fields) this loop ran 3x slower.
    let { a, b, c, d } = this;
    for (let i = 0; i < n; i += 2) {
      const bits = times(rotl(times(b, 5), 7), 9);
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
      const u = bits >>> 16;
      out[i] = u < hi ? hit : miss;
      if (u === hi) ties.push(i);
      if (i + 1 < n) {
        const v = bits & 0xffff;
        out[i + 1] = v < hi ? hit : miss;
        if (v === hi) ties.push(i + 1);
      }
    }
    Object.assign(this, { a, b, c, d });
    for (const i of ties) out[i] = this.nextUint32() >>> 16 < lo ? hit : miss;
  }

  /** Fills `out` with uniform values in [lo, hi). */
  fillUniform(out: Float32Array, lo: number, hi: number): void {
    const span = hi - lo;
    for (let i = 0; i < out.length; i++) out[i] = lo + span * this.nextFloat();
  }
}

// x · k mod 2³² as an int32, for a small constant k: the product of a 32-bit integer and k < 2²¹
// is exact in a double, so |0 keeps its low bits as Math.imul would. Math.imul itself, called from a
// vm context (as under jest), ran 20x slower than this.
function times(x: number, k: number): number {
  return (x * k) | 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
