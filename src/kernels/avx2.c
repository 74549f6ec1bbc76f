/* SPDX-License-Identifier: MIT */
/*
 * AVX2 kernels. This file alone is compiled with -mavx2 -mfma, and its
 * kernels are only reached through pv_kernels_best() after pv_avx2_usable().
 *
 * f32: four 8-wide accumulators are the 32 canonical lanes of scalar.c
 * (acc[j] holds lanes 8j .. 8j+7); multiply then add, never FMA, so results
 * are bit-identical to the scalar reference. A tail shorter than 32 adds
 * to the lanes it reaches what a zero-padded block would (see KERNEL).
 *
 * u8: vpmaddubsw would be the obvious instruction but it multiplies an
 * unsigned byte by a signed one and saturates, wrong for 0..255 codes; and
 * widening bytes with vpmovzxbw costs a shuffle per 16 bytes, which made
 * the shuffle port the bottleneck. Instead each 16-bit lane is split into
 * its even byte (AND 0x00ff) and odd byte (shift right 8), and the halves
 * go through vpmaddwd: exact, and no shuffles. Each int32 lane gains at
 * most 4 * 255 * 255 per 32 bytes, so for n <= 65536 it stays below 2^31;
 * the lanes are summed in 64 bits.
 *
 * Binary codes: AVX2 has no population count on vectors; the popcnt
 * instruction (every AVX2 CPU has it, and pv_avx2_usable checks) counts a
 * word a cycle, one independent chain per plane. Codes are a few hundred
 * bytes: a nibble-table count (vpshufb + vpsadbw) would not pay for its
 * setup there.
 *
 * CRC-32C: SSE4.2's crc32 instruction (every AVX2 CPU has SSE4.2, and
 * -mavx2 enables it), 8 bytes a step.
 */
#include "kernels.h"

#include <immintrin.h>
#include <string.h>

int pv_avx2_usable(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("popcnt");
}

/* The canonical fold of scalar.c, in registers: lanes j and j+16 (a0 + a2,
 * a1 + a3), j+8, j+4 (the two halves), then (0+2) + (1+3). */
static inline float fold(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  __m256 r8 = _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a1, a3));
  __m128 r4 = _mm_add_ps(_mm256_castps256_ps128(r8), _mm256_extractf128_ps(r8, 1));
  __m128 r2 = _mm_add_ps(r4, _mm_movehl_ps(r4, r4));
  __m128 r1 = _mm_add_ss(r2, _mm_movehdup_ps(r2));
  return _mm_cvtss_f32(r1);
}

static inline __m256 dot_term(__m256 x, __m256 y) { return _mm256_mul_ps(x, y); }

static inline __m256 l2_term(__m256 x, __m256 y) {
  __m256 d = _mm256_sub_ps(x, y);
  return _mm256_mul_ps(d, d);
}

/* Both kernels: whole 32-float blocks into the four accumulators, then the
 * tail (under 32 floats) eight at a time into the accumulators its lanes
 * belong to, each group through a masked load that reads only the floats
 * that are there and gives +0 for the rest. Lanes past the end get +0 * +0
 * (or (+0 - +0)^2) = +0 added, which changes nothing: a lane starts at +0
 * and a round-to-nearest sum is only -0 when both addends are, so it is
 * never -0. (Until 2026-12 the tail went through a zero-padded copy of a
 * whole block: at 100 dimensions that copy cost a fifth of a search.)
 * TERM(x, y) is the per-lane term of two vectors. */
#define STEP(s, j, TERM) \
  s = _mm256_add_ps(s, TERM(_mm256_loadu_ps(a + i + 8 * (j)), _mm256_loadu_ps(b + i + 8 * (j))))
#define TAIL(s, j, TERM)                                                                   \
  if (8 * (j) < r) {                                                                       \
    __m256i m = _mm256_cmpgt_epi32(rv, _mm256_add_epi32(iota, _mm256_set1_epi32(8 * (j)))); \
    s = _mm256_add_ps(s, TERM(_mm256_maskload_ps(a + i + 8 * (j), m),                       \
                              _mm256_maskload_ps(b + i + 8 * (j), m)));                     \
  }
#define KERNEL(TERM)                                                                 \
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;                        \
  size_t i = 0;                                                                      \
  for (; i + 32 <= n; i += 32) {                                                     \
    STEP(s0, 0, TERM);                                                               \
    STEP(s1, 1, TERM);                                                               \
    STEP(s2, 2, TERM);                                                               \
    STEP(s3, 3, TERM);                                                               \
  }                                                                                  \
  if (i < n) {                                                                       \
    const int r = (int)(n - i);                                                      \
    const __m256i rv = _mm256_set1_epi32(r), iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); \
    TAIL(s0, 0, TERM) TAIL(s1, 1, TERM) TAIL(s2, 2, TERM) TAIL(s3, 3, TERM)          \
  }                                                                                  \
  return fold(s0, s1, s2, s3)

static float dot_f32_avx2(const float *a, const float *b, size_t n) { KERNEL(dot_term); }

static float l2_f32_avx2(const float *a, const float *b, size_t n) { KERNEL(l2_term); }

static uint32_t dot_u8_avx2(const uint8_t *a, const uint8_t *b, size_t n) {
  const __m256i lo = _mm256_set1_epi16(0x00ff);
  __m256i acc0 = _mm256_setzero_si256(), acc1 = acc0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i va = _mm256_loadu_si256((const __m256i *)(a + i));
    __m256i vb = _mm256_loadu_si256((const __m256i *)(b + i));
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_and_si256(va, lo),
                                                    _mm256_and_si256(vb, lo)));
    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_srli_epi16(va, 8),
                                                    _mm256_srli_epi16(vb, 8)));
  }
  uint32_t lanes[16];
  _mm256_storeu_si256((__m256i *)lanes, acc0);
  _mm256_storeu_si256((__m256i *)(lanes + 8), acc1);
  uint64_t s = 0;
  for (int j = 0; j < 16; j++) s += lanes[j];
  for (; i < n; i++) s += (uint32_t)a[i] * b[i];
  return (uint32_t)s;
}

/* Natively the search prefetches the four vectors before scoring them, so
 * their fetches already overlap: one vector at a time is as fast here. */
static void dot_u8_4_avx2(const uint8_t *a, const uint8_t *const b[4], size_t n,
                          uint32_t out[4]) {
  for (int j = 0; j < 4; j++) out[j] = dot_u8_avx2(a, b[j], n);
}

/* Four chains, one per plane, weighted once at the end. */
__attribute__((target("popcnt"))) static uint32_t bits_dot4_avx2(const uint64_t *q,
                                                                  const uint64_t *b,
                                                                  size_t words) {
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (size_t i = 0; i < words; i++, q += 4) {
    uint64_t x = b[i];
    s0 += (uint64_t)_mm_popcnt_u64(x & q[0]);
    s1 += (uint64_t)_mm_popcnt_u64(x & q[1]);
    s2 += (uint64_t)_mm_popcnt_u64(x & q[2]);
    s3 += (uint64_t)_mm_popcnt_u64(x & q[3]);
  }
  return (uint32_t)(s0 + 2 * s1 + 4 * s2 + 8 * s3);
}

/* One dependent chain of 8-byte steps: about 3 cycles per 8 bytes, four
 * times the tables' speed; three interleaved chains would go further but
 * need a combine step, and this already makes the check a small part of a
 * load. */
static uint32_t crc32c_sse42(uint32_t state, const uint8_t *p, size_t n) {
  uint64_t c = state;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
  }
  uint32_t c32 = (uint32_t)c;
  for (; n; n--) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}

/* Lanes 0-7 and 8-15 in two registers; the host is little-endian, so a
 * load gives the words. */
static void sum_lanes_avx2(uint32_t lane[16], const uint8_t *p, size_t stripes) {
  __m256i a = _mm256_loadu_si256((const __m256i *)lane);
  __m256i b = _mm256_loadu_si256((const __m256i *)(lane + 8));
  const __m256i p1 = _mm256_set1_epi32((int)PV_SUM_P1), p2 = _mm256_set1_epi32((int)PV_SUM_P2);
  for (; stripes; stripes--, p += 64) {
    __m256i x = _mm256_add_epi32(a, _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)p), p1));
    __m256i y =
        _mm256_add_epi32(b, _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i *)(p + 32)), p1));
    x = _mm256_or_si256(_mm256_slli_epi32(x, 13), _mm256_srli_epi32(x, 19));
    y = _mm256_or_si256(_mm256_slli_epi32(y, 13), _mm256_srli_epi32(y, 19));
    a = _mm256_mullo_epi32(x, p2);
    b = _mm256_mullo_epi32(y, p2);
  }
  _mm256_storeu_si256((__m256i *)lane, a);
  _mm256_storeu_si256((__m256i *)(lane + 8), b);
}

const pv_kernels pv_kernels_avx2 = {"avx2",        dot_f32_avx2, l2_f32_avx2,
                                    dot_u8_avx2,   dot_u8_4_avx2, bits_dot4_avx2,
                                    crc32c_sse42,  sum_lanes_avx2};
