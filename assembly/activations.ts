// The cell nonlinearities on f32x4, built on one exp. Accurate to a few 1e-7 relative (the tests hold
// them to 1e-6 against float64), saturating cleanly, and propagating NaN as IEEE arithmetic does.

// x = n·ln2 + r: ln2 in two parts so that n·LN2_HI is exact for the n that occur here (|n| ≤ 126).
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const LOG2_E: f32 = 1.44269504;
// Below this exp(x) would need a denormal 2^n; exp(-87.3) ≈ 1e-38 is as good as 0 to every caller.
const EXP_FLOOR: f32 = -87.3;
// Where tanh switches from (1 − e)/(1 + e), which loses digits to cancellation near 0, to its series.
const TANH_SERIES_BELOW: f32 = 0.3;

// exp(x) for x ≤ 0. Range reduction to |r| ≤ ln2/2, where the Taylor polynomial of degree 6 is within
// 1.2e-7 of exp(r), then the power of two goes straight into the exponent bits.
@inline function expNonPositive(x: v128): v128 {
  x = f32x4.max(x, f32x4.splat(EXP_FLOOR));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2_E)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(<f32>(1.0 / 720.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 120.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 24.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 6.0)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0));
  // n ∈ [-126, 0], so n + 127 is a valid biased exponent of a normal float.
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

// σ(x) from e = exp(−|x|) ≤ 1, which never overflows: 1/(1 + e) for x ≥ 0, e/(1 + e) below, so
// neither side subtracts nearly equal numbers.
@inline export function sigmoid4(x: v128): v128 {
  const e = expNonPositive(f32x4.neg(f32x4.abs(x)));
  const numerator = v128.bitselect(e, f32x4.splat(1), f32x4.lt(x, f32x4.splat(0)));
  return f32x4.div(numerator, f32x4.add(f32x4.splat(1), e));
}

// tanh(|x|) = (1 − e)/(1 + e) with e = exp(−2|x|), or its odd series to x⁹ near 0 (the next term is
// below 2e-8 relative there); the sign of x goes back on at the end.
@inline export function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const e = expNonPositive(f32x4.mul(ax, f32x4.splat(-2)));
  const far = f32x4.div(f32x4.sub(f32x4.splat(1), e), f32x4.add(f32x4.splat(1), e));
  const x2 = f32x4.mul(ax, ax);
  let s = f32x4.splat(<f32>(62.0 / 2835.0));
  s = f32x4.add(f32x4.mul(s, x2), f32x4.splat(<f32>(-17.0 / 315.0)));
  s = f32x4.add(f32x4.mul(s, x2), f32x4.splat(<f32>(2.0 / 15.0)));
  s = f32x4.add(f32x4.mul(s, x2), f32x4.splat(<f32>(-1.0 / 3.0)));
  s = f32x4.add(f32x4.mul(s, x2), f32x4.splat(1));
  const near = f32x4.mul(s, ax);
  const magnitude = v128.bitselect(near, far, f32x4.lt(ax, f32x4.splat(TANH_SERIES_BELOW)));
  const sign = v128.and(x, f32x4.splat(-0.0));
  return v128.or(magnitude, sign);
}

// max(x, 0), with NaN staying NaN.
@inline export function relu4(x: v128): v128 {
  return f32x4.max(x, f32x4.splat(0));
}

