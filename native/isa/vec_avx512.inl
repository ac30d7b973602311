// Sixteen floats in a zmm register. Only for translation units compiled with -mavx512f, and only
// inside their anonymous namespace (see kernel_table.h).

struct VecAvx512 {
  static constexpr int width = 16;
  __m512 v;

  static VecAvx512 load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static VecAvx512 set1(float x) { return {_mm512_set1_ps(x)}; }
  // Sixteen bytes (0..255) as floats.
  static VecAvx512 fromBytes(const uint8_t* p) {
    return {_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))))};
  }
  void store(float* p) const { _mm512_storeu_ps(p, v); }

  friend VecAvx512 operator+(VecAvx512 a, VecAvx512 b) { return {_mm512_add_ps(a.v, b.v)}; }
  friend VecAvx512 operator-(VecAvx512 a, VecAvx512 b) { return {_mm512_sub_ps(a.v, b.v)}; }
  friend VecAvx512 operator*(VecAvx512 a, VecAvx512 b) { return {_mm512_mul_ps(a.v, b.v)}; }
  friend VecAvx512 operator/(VecAvx512 a, VecAvx512 b) { return {_mm512_div_ps(a.v, b.v)}; }
  static VecAvx512 fmadd(VecAvx512 a, VecAvx512 b, VecAvx512 c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  // max/min return the second operand when either is NaN: x second lets NaN through.
  static VecAvx512 atLeast(VecAvx512 lo, VecAvx512 x) { return {_mm512_max_ps(lo.v, x.v)}; }
  static VecAvx512 atMost(VecAvx512 hi, VecAvx512 x) { return {_mm512_min_ps(hi.v, x.v)}; }
  static VecAvx512 wherePositive(VecAvx512 mask, VecAvx512 x) {
    return {_mm512_maskz_mov_ps(_mm512_cmp_ps_mask(mask.v, _mm512_setzero_ps(), _CMP_GT_OQ), x.v)};
  }
  static VecAvx512 roundNearest(VecAvx512 x) {
    return {_mm512_roundscale_ps(x.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
  }
  static VecAvx512 pow2(VecAvx512 n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n.v), _mm512_set1_epi32(127));
    return {_mm512_castsi512_ps(_mm512_slli_epi32(e, 23))};
  }
};
