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
   * serves four elements, a byte each, compared with the top byte of p·2³²; the elements that tie
   * (1 in 256) are decided afterwards, in order, by 24 bits more each. That equals one 32-bit
   * comparison per element at a quarter of the numbers, and picking the value by the comparison's
   * sign bit leaves no branch to mispredict: a mask over every step of a sequence is drawn as fast as
   * the kernels use it (docs/PERFORMANCE.md).
   */
  fillBernoulli(out: Uint8Array | Float32Array, p: number, hit: number, miss: number): void {
    const n = out.length;
    if (!(p > 0)) return void out.fill(miss);
    if (p >= 1) return void out.fill(hit);
    const threshold = Math.floor(p * 4294967296);
    const hi = threshold >>> 24;
    const lo = threshold & 0xffffff;
    const ties: number[] = [];
    const whole = n - (n % 4);
    // Bytes of 0 and 1 are written four at a time (on a little-endian machine, so the bytes land in
    // the order the table path writes them); other values through a table indexed by the bit.
    const words = LITTLE_ENDIAN && out instanceof Uint8Array && hit === 1 && miss === 0 && out.byteOffset % 4 === 0;
    if (words) {
      this.bernoulliWords(new Uint32Array(out.buffer, out.byteOffset, whole / 4), hi, ties);
    } else {
      this.bernoulliTable(out, whole, hi, out instanceof Float32Array ? Float32Array.of(miss, hit) : Uint8Array.of(miss, hit), ties);
    }
    if (whole < n) {
      const bits = this.nextUint32();
      for (let i = whole; i < n; i++) {
        const u = (bits >>> (24 - 8 * (i - whole))) & 0xff;
        out[i] = u < hi ? hit : miss;
        if (u === hi) ties.push(i);
      }
    }
    for (const i of ties) out[i] = this.nextUint32() >>> 8 < lo ? hit : miss;
  }

  // The generator's step is written out on locals in these loops, where through nextUint32 every
  // draw would load and store the state's fields. Both record in `ties` the elements whose byte
  // equals hi. They stay two loops: one loop choosing its target on every pass (same step, same
  // ties) took 15-30% longer on each path (1.64 M elements, plain Node, docs/PERFORMANCE.md's loop).

  /** words[j]'s bytes, lowest first, are 1 where a byte of the j-th number is below hi. */
  private bernoulliWords(words: Uint32Array, hi: number, ties: number[]): void {
    let { a, b, c, d } = this;
    for (let j = 0; j < words.length; j++) {
      const bits = times(rotl(times(b, 5), 7), 9);
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
      const u0 = bits >>> 24;
      const u1 = (bits >>> 16) & 0xff;
      const u2 = (bits >>> 8) & 0xff;
      const u3 = bits & 0xff;
      words[j] = ((u0 - hi) >>> 31) | (((u1 - hi) >>> 31) << 8) | (((u2 - hi) >>> 31) << 16) | (((u3 - hi) >>> 31) << 24);
      if (u0 === hi || u1 === hi || u2 === hi || u3 === hi) {
        if (u0 === hi) ties.push(4 * j);
        if (u1 === hi) ties.push(4 * j + 1);
        if (u2 === hi) ties.push(4 * j + 2);
        if (u3 === hi) ties.push(4 * j + 3);
      }
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /** out[0, count) (count a multiple of 4) from values[1] where a byte is below hi, else values[0]. */
  private bernoulliTable(out: Uint8Array | Float32Array, count: number, hi: number, values: Uint8Array | Float32Array, ties: number[]): void {
    let { a, b, c, d } = this;
    for (let i = 0; i < count; i += 4) {
      const bits = times(rotl(times(b, 5), 7), 9);
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11);
      const u0 = bits >>> 24;
      const u1 = (bits >>> 16) & 0xff;
      const u2 = (bits >>> 8) & 0xff;
      const u3 = bits & 0xff;
      out[i] = values[(u0 - hi) >>> 31];
      out[i + 1] = values[(u1 - hi) >>> 31];
      out[i + 2] = values[(u2 - hi) >>> 31];
      out[i + 3] = values[(u3 - hi) >>> 31];
      if (u0 === hi || u1 === hi || u2 === hi || u3 === hi) {
        if (u0 === hi) ties.push(i);
        if (u1 === hi) ties.push(i + 1);
        if (u2 === hi) ties.push(i + 2);
        if (u3 === hi) ties.push(i + 3);
      }
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /** Fills `out` with uniform values in [lo, hi). */
  fillUniform(out: Float32Array, lo: number, hi: number): void {
    const span = hi - lo;
    for (let i = 0; i < out.length; i++) out[i] = lo + span * this.nextFloat();
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

// x · k mod 2³² as an int32, for a small constant k: the product of a 32-bit integer and k < 2²¹
// is exact in a double, so |0 keeps its low bits as Math.imul would. Math.imul itself is not
// inlined when called from a vm context (as under jest), where the masks of a test took seconds.
function times(x: number, k: number): number {
  return (x * k) | 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
