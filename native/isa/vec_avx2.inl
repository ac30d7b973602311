// Eight floats in a ymm register. Only for translation units compiled with -mavx2 -mfma, and only
// inside their anonymous namespace (see kernel_table.h).

struct VecAvx2 {
  static constexpr int width = 8;
  __m256 v;

  static VecAvx2 load(const float* p) { return {_mm256_loadu_ps(p)}; }
  static VecAvx2 set1(float x) { return {_mm256_set1_ps(x)}; }
  // Eight bytes (0..255) as floats.
  static VecAvx2 fromBytes(const uint8_t* p) {
    return {_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))))};
  }
  void store(float* p) const { _mm256_storeu_ps(p, v); }

  friend VecAvx2 operator+(VecAvx2 a, VecAvx2 b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend VecAvx2 operator-(VecAvx2 a, VecAvx2 b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend VecAvx2 operator*(VecAvx2 a, VecAvx2 b) { return {_mm256_mul_ps(a.v, b.v)}; }
  friend VecAvx2 operator/(VecAvx2 a, VecAvx2 b) { return {_mm256_div_ps(a.v, b.v)}; }
  static VecAvx2 fmadd(VecAvx2 a, VecAvx2 b, VecAvx2 c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  // max/min return the second operand when either is NaN: x second lets NaN through.
  static VecAvx2 atLeast(VecAvx2 lo, VecAvx2 x) { return {_mm256_max_ps(lo.v, x.v)}; }
  static VecAvx2 atMost(VecAvx2 hi, VecAvx2 x) { return {_mm256_min_ps(hi.v, x.v)}; }
  static VecAvx2 wherePositive(VecAvx2 mask, VecAvx2 x) {
    return {_mm256_and_ps(_mm256_cmp_ps(mask.v, _mm256_setzero_ps(), _CMP_GT_OQ), x.v)};
  }
  static VecAvx2 roundNearest(VecAvx2 x) { return {_mm256_round_ps(x.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
  static VecAvx2 pow2(VecAvx2 n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127));
    return {_mm256_castsi256_ps(_mm256_slli_epi32(e, 23))};
  }
};
