// One float as a "vector" of width 1: the portable kernels, and the tails of the wide ones.
// Included only inside an ISA translation unit's anonymous namespace (see kernel_table.h).

struct VecScalar {
  static constexpr int width = 1;
  float v;

  static VecScalar load(const float* p) { return {*p}; }
  static VecScalar set1(float x) { return {x}; }
  static VecScalar fromBytes(const uint8_t* p) { return {static_cast<float>(*p)}; }
  void store(float* p) const { *p = v; }

  friend VecScalar operator+(VecScalar a, VecScalar b) { return {a.v + b.v}; }
  friend VecScalar operator-(VecScalar a, VecScalar b) { return {a.v - b.v}; }
  friend VecScalar operator*(VecScalar a, VecScalar b) { return {a.v * b.v}; }
  friend VecScalar operator/(VecScalar a, VecScalar b) { return {a.v / b.v}; }
  // a * b + c; contracted or not as the compiler sees fit for this ISA.
  static VecScalar fmadd(VecScalar a, VecScalar b, VecScalar c) { return {a.v * b.v + c.v}; }
  // Clamps that let NaN through (the comparison is false for NaN, so x is returned).
  static VecScalar atLeast(VecScalar lo, VecScalar x) { return {lo.v > x.v ? lo.v : x.v}; }
  static VecScalar atMost(VecScalar hi, VecScalar x) { return {hi.v < x.v ? hi.v : x.v}; }
  // x where mask > 0, else 0.
  static VecScalar wherePositive(VecScalar mask, VecScalar x) { return {mask.v > 0.0f ? x.v : 0.0f}; }
  // Round to nearest for |x| < 2^22, without libm: adding 1.5·2^23 drops the fraction bits (IEEE
  // arithmetic keeps (x + c) - c as written; the build never enables -ffast-math).
  static VecScalar roundNearest(VecScalar x) { return {(x.v + 12582912.0f) - 12582912.0f}; }
  // 2^n for an integer-valued n in [-126, 127], built in the exponent field. A NaN n (vexp of NaN)
  // becomes 0 first: converting NaN to int is undefined in C++, and the result is NaN anyway, since
  // vexp multiplies it by a NaN polynomial.
  static VecScalar pow2(VecScalar n) {
    const float e = n.v == n.v ? n.v : 0.0f;
    const int32_t bits = (static_cast<int32_t>(e) + 127) << 23;
    float out;
    std::memcpy(&out, &bits, sizeof out);
    return {out};
  }
};
