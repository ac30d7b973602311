// exp, sigmoid and tanh over any vector type V of vec_scalar.h / vec_avx2.h. Included inside an
// ISA translation unit's anonymous namespace, after the vector types.
//
// exp: x = n·ln2 + r with |r| ≤ ln2/2, exp(r) by a degree-6 polynomial (relative error ~2e-7),
// times 2^n built in the exponent field. The input is clamped to where 2^n stays a normal float;
// NaN passes through the clamps and poisons the result, as IEEE arithmetic would.
template <class V>
inline V vexp(V x) {
  x = V::atMost(V::set1(88.0f), V::atLeast(V::set1(-87.0f), x));
  const V n = V::roundNearest(x * V::set1(1.44269504088896341f));
  // ln2 split in two so that n·ln2 is subtracted without rounding error.
  V r = V::fmadd(n, V::set1(-0.693359375f), x);
  r = V::fmadd(n, V::set1(2.12194440e-4f), r);
  V p = V::set1(1.0f / 720.0f);
  p = V::fmadd(p, r, V::set1(1.0f / 120.0f));
  p = V::fmadd(p, r, V::set1(1.0f / 24.0f));
  p = V::fmadd(p, r, V::set1(1.0f / 6.0f));
  p = V::fmadd(p, r, V::set1(0.5f));
  p = V::fmadd(p, r, V::set1(1.0f));
  p = V::fmadd(p, r, V::set1(1.0f));
  return p * V::pow2(n);
}

template <class V>
inline V vsigmoid(V x) {
  const V one = V::set1(1.0f);
  return one / (one + vexp(V::set1(0.0f) - x));
}

// tanh(x) = 2σ(2x) − 1: absolute error ~1e-7 near 0, where the relative error grows; the
// fixtures' tolerance (2e-5 absolute) is far above it.
template <class V>
inline V vtanh(V x) {
  const V one = V::set1(1.0f);
  const V two = V::set1(2.0f);
  return two / (one + vexp(V::set1(-2.0f) * x)) - one;
}
