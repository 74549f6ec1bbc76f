/*
 * AVX2 kernels. This file alone is compiled with -mavx2 -mfma, and its
 * kernels are only reached through pv_kernels_best() after pv_avx2_usable().
 *
 * f32: four 8-wide accumulators are the 32 canonical lanes of distance.c
 * (acc0 = lanes 0-7, acc1 = 8-15, acc2 = 16-23, acc3 = 24-31); multiply then
 * add, never FMA, so the result is bit-identical to the scalar reference. A
 * tail shorter than 32 is copied into a zero-padded block: zeros add nothing.
 * u8: codes are widened to 16 bits and multiplied-and-paired with
 * _mm256_madd_epi16 (exact: 2 * 255 * 255 fits an int32). vpmaddubsw would be
 * faster but treats one side as signed and saturates, which is wrong for
 * 0..255 codes. Each int32 lane gathers at most n/16 pair sums, so no lane
 * overflows for n <= 65536; the lanes are summed in 64 bits.
 */
#include "distance.h"

#include <immintrin.h>
#include <string.h>

int pv_avx2_usable(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* The canonical fold of distance.c, in registers. */
static float fold(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  __m256 r8 = _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3));
  __m128 r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps(r8, 1));
  __m128 r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
  __m128 r1 = _mm_add_ss(r2, _mm_movehdup_ps(r2));
  return _mm_cvtss_f32(r1);
}

#define DOT_STEP(pa, pb, acc, off) \
  acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_loadu_ps((pa) + (off)), _mm256_loadu_ps((pb) + (off))))

static float dot_f32_avx2(const float *a, const float *b, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    DOT_STEP(a + i, b + i, s0, 0);
    DOT_STEP(a + i, b + i, s1, 8);
    DOT_STEP(a + i, b + i, s2, 16);
    DOT_STEP(a + i, b + i, s3, 24);
  }
  if (i < n) {
    float ta[32] = {0}, tb[32] = {0};
    memcpy(ta, a + i, sizeof(float) * (n - i));
    memcpy(tb, b + i, sizeof(float) * (n - i));
    DOT_STEP(ta, tb, s0, 0);
    DOT_STEP(ta, tb, s1, 8);
    DOT_STEP(ta, tb, s2, 16);
    DOT_STEP(ta, tb, s3, 24);
  }
  return fold(s0, s1, s2, s3);
}

#define L2_STEP(pa, pb, acc, off)                                                  \
  do {                                                                             \
    __m256 d_ = _mm256_sub_ps(_mm256_loadu_ps((pa) + (off)), _mm256_loadu_ps((pb) + (off))); \
    acc = _mm256_add_ps(acc, _mm256_mul_ps(d_, d_));                               \
  } while (0)

static float l2_f32_avx2(const float *a, const float *b, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    L2_STEP(a + i, b + i, s0, 0);
    L2_STEP(a + i, b + i, s1, 8);
    L2_STEP(a + i, b + i, s2, 16);
    L2_STEP(a + i, b + i, s3, 24);
  }
  if (i < n) {
    float ta[32] = {0}, tb[32] = {0};
    memcpy(ta, a + i, sizeof(float) * (n - i));
    memcpy(tb, b + i, sizeof(float) * (n - i));
    L2_STEP(ta, tb, s0, 0);
    L2_STEP(ta, tb, s1, 8);
    L2_STEP(ta, tb, s2, 16);
    L2_STEP(ta, tb, s3, 24);
  }
  return fold(s0, s1, s2, s3);
}

static uint32_t dot_u8_avx2(const uint8_t *a, const uint8_t *b, size_t n) {
  __m256i acc0 = _mm256_setzero_si256(), acc1 = acc0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i va = _mm256_loadu_si256((const __m256i *)(a + i));
    __m256i vb = _mm256_loadu_si256((const __m256i *)(b + i));
    __m256i a0 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(va));
    __m256i b0 = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(vb));
    __m256i a1 = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(va, 1));
    __m256i b1 = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(vb, 1));
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(a0, b0));
    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(a1, b1));
  }
  uint32_t lanes[16];
  _mm256_storeu_si256((__m256i *)lanes, acc0);
  _mm256_storeu_si256((__m256i *)(lanes + 8), acc1);
  uint64_t s = 0;
  for (int j = 0; j < 16; j++) s += lanes[j];
  for (; i < n; i++) s += (uint32_t)a[i] * b[i];
  return (uint32_t)s;
}

const pv_kernels pv_kernels_avx2 = {
    "avx2", dot_f32_avx2, l2_f32_avx2, dot_u8_avx2};
