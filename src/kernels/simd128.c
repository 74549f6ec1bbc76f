/* SPDX-License-Identifier: MIT */
/*
 * WebAssembly simd128 kernels. Only the WASM build compiles this file (with
 * -msimd128); pv_kernels_best() picks it at build time there.
 *
 * f32: eight 4-wide accumulators are the 32 canonical lanes of scalar.c
 * (s[j] holds lanes 4j .. 4j+3); multiply then add (simd128 has no fused
 * multiply-add, and -ffp-contract=off keeps the compiler from inventing
 * one), then the fold tree of pv_fold32 done on vectors. So results are
 * bit-identical to the scalar reference. Past the last whole block, the
 * lanes that the rest of the vector does not reach get nothing, which is
 * what a zero-padded block would give them: +0 added to a lane that is
 * never -0 (it starts at +0, and a round-to-nearest sum is only -0 when
 * both addends are) changes nothing.
 *
 * u8: as in avx2.c, each 16-bit lane is split into its even byte
 * (AND 0x00ff) and its odd byte (shift right 8); both halves are 0..255, so
 * they are valid signed i16 inputs for i32x4.dot_i16x8_s, which multiplies
 * and adds pairs exactly. Each i32 lane gains at most 2 * 255 * 255 per 16
 * bytes in each of the two accumulators, so for n <= 65536 a lane stays
 * below 4096 * 130050, and the two accumulators added lane by lane below
 * 2^31. Their four lanes and the tail are summed in 32 bits, where the
 * total (<= 65536 * 255 * 255 < 2^32) cannot wrap.
 *
 * Alternatives rejected: widening bytes with extend_low/high + extmul costs
 * four extends per 16 bytes instead of two ANDs and two shifts, and gives
 * the same exact answer.
 */
#if defined(__wasm_simd128__)

#include "kernels.h"

#include <string.h>
#include <wasm_simd128.h>

/* The canonical fold of scalar.c on the eight accumulators: lanes j and
 * j+16 (s[k] + s[k+4]), j+8, j+4, then (0+2) + (1+3). */
static inline float fold(const v128_t *s) {
  v128_t b[4];
  for (int k = 0; k < 4; k++) b[k] = wasm_f32x4_add(s[k], s[k + 4]);
  v128_t r4 = wasm_f32x4_add(wasm_f32x4_add(b[0], b[2]), wasm_f32x4_add(b[1], b[3]));
  v128_t r2 = wasm_f32x4_add(r4, wasm_i32x4_shuffle(r4, r4, 2, 3, 2, 3));
  return wasm_f32x4_extract_lane(r2, 0) + wasm_f32x4_extract_lane(r2, 1);
}

static inline v128_t dot_term(v128_t x, v128_t y) { return wasm_f32x4_mul(x, y); }

static inline v128_t l2_term(v128_t x, v128_t y) {
  v128_t d = wasm_f32x4_sub(x, y);
  return wasm_f32x4_mul(d, d);
}

/* The m < 4 floats at p, then +0s. Out of line: at most one call per
 * distance, and sixteen inlined copies cost 0.5 KB of module. */
__attribute__((noinline)) static v128_t load_part(const float *p, size_t m) {
  float t[4] = {0};
  memcpy(t, p, sizeof(float) * m);
  return wasm_v128_load(t);
}

/* Both kernels: whole 32-float blocks into the eight accumulators, then
 * the tail (under 32 floats) four at a time into the accumulators its lanes
 * belong to, a last partial group through a zero-padded copy of at most
 * three floats. The lanes past the end get nothing added, where a
 * zero-padded block would add +0: the same bits (see above). The tail's
 * steps are written out, one test each, so that the accumulators stay
 * locals (an array indexed at run time would live in memory). TERM(x, y)
 * is the per-lane term of two vectors. */
#define STEP(j, TERM)                                                         \
  s[j] = wasm_f32x4_add(s[j], TERM(wasm_v128_load(a + i + 4 * (j)),           \
                                   wasm_v128_load(b + i + 4 * (j))))
#define TAIL(j, TERM)                                                         \
  if (4 * (j) < r) {                                                          \
    const float *x = a + i + 4 * (j), *y = b + i + 4 * (j);                   \
    size_t m = r - 4 * (j);                                                   \
    s[j] = wasm_f32x4_add(s[j], m >= 4 ? TERM(wasm_v128_load(x), wasm_v128_load(y)) \
                                       : TERM(load_part(x, m), load_part(y, m))); \
  }
#define KERNEL(TERM)                                                          \
  v128_t s[8];                                                                \
  for (int j = 0; j < 8; j++) s[j] = wasm_f32x4_splat(0.0f);                  \
  size_t i = 0;                                                               \
  for (; i + 32 <= n; i += 32) {                                              \
    STEP(0, TERM); STEP(1, TERM); STEP(2, TERM); STEP(3, TERM);               \
    STEP(4, TERM); STEP(5, TERM); STEP(6, TERM); STEP(7, TERM);               \
  }                                                                           \
  size_t r = n - i;                                                           \
  TAIL(0, TERM); TAIL(1, TERM); TAIL(2, TERM); TAIL(3, TERM);                 \
  TAIL(4, TERM); TAIL(5, TERM); TAIL(6, TERM); TAIL(7, TERM);                 \
  return fold(s)

static float dot_f32_simd128(const float *a, const float *b, size_t n) { KERNEL(dot_term); }

static float l2_f32_simd128(const float *a, const float *b, size_t n) { KERNEL(l2_term); }

static uint32_t dot_u8_simd128(const uint8_t *a, const uint8_t *b, size_t n) {
  const v128_t lo = wasm_i16x8_splat(0x00ff);
  v128_t even = wasm_i32x4_splat(0), odd = even;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t va = wasm_v128_load(a + i), vb = wasm_v128_load(b + i);
    even = wasm_i32x4_add(even, wasm_i32x4_dot_i16x8(wasm_v128_and(va, lo),
                                                     wasm_v128_and(vb, lo)));
    odd = wasm_i32x4_add(odd, wasm_i32x4_dot_i16x8(wasm_u16x8_shr(va, 8),
                                                   wasm_u16x8_shr(vb, 8)));
  }
  v128_t t = wasm_i32x4_add(even, odd);
  uint32_t s = (uint32_t)wasm_i32x4_extract_lane(t, 0) + (uint32_t)wasm_i32x4_extract_lane(t, 1) +
               (uint32_t)wasm_i32x4_extract_lane(t, 2) + (uint32_t)wasm_i32x4_extract_lane(t, 3);
#pragma clang loop vectorize(disable) unroll(disable)
  for (; i < n; i++) s += (uint32_t)a[i] * b[i];
  return s;
}

/* Four dot products in one pass. a's 16 bytes are loaded and split once for
 * all four; the four vectors' loads do not depend on each other, so their
 * cache misses are in flight together: without a prefetch instruction, this
 * is how a search over vectors that do not fit in cache keeps the memory
 * busy. Exact: each accumulator lane gains at most 4 * 255 * 255 per 16
 * bytes (even and odd halves summed at once), so for n <= 65536 it stays
 * below 4096 * 260100 < 2^31; the lanes and the tail are summed in 32 bits
 * as in dot_u8_simd128. */
static void dot_u8_4_simd128(const uint8_t *a, const uint8_t *const b[4], size_t n,
                             uint32_t out[4]) {
  const v128_t lo = wasm_i16x8_splat(0x00ff);
  const uint8_t *b0 = b[0], *b1 = b[1], *b2 = b[2], *b3 = b[3];
  v128_t s0 = wasm_i32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
#define PV_STEP(s, p)                                                            \
  do {                                                                           \
    v128_t v = wasm_v128_load((p) + i);                                          \
    s = wasm_i32x4_add(s, wasm_i32x4_add(wasm_i32x4_dot_i16x8(ae, wasm_v128_and(v, lo)), \
                                         wasm_i32x4_dot_i16x8(ao, wasm_u16x8_shr(v, 8)))); \
  } while (0)
  /* Not unrolled: four streams already give the loop enough independent
   * work, and unrolling would only grow the module. */
#pragma clang loop unroll(disable)
  for (; i + 16 <= n; i += 16) {
    v128_t va = wasm_v128_load(a + i);
    v128_t ae = wasm_v128_and(va, lo), ao = wasm_u16x8_shr(va, 8);
    PV_STEP(s0, b0);
    PV_STEP(s1, b1);
    PV_STEP(s2, b2);
    PV_STEP(s3, b3);
  }
#undef PV_STEP
  v128_t s[4] = {s0, s1, s2, s3};
  for (int j = 0; j < 4; j++) {
    uint32_t t = (uint32_t)wasm_i32x4_extract_lane(s[j], 0) + (uint32_t)wasm_i32x4_extract_lane(s[j], 1) +
                 (uint32_t)wasm_i32x4_extract_lane(s[j], 2) + (uint32_t)wasm_i32x4_extract_lane(s[j], 3);
    /* Fewer than 16 bytes: plain code (the auto-vectoriser would add a
     * kilobyte per tail for no gain). */
#pragma clang loop vectorize(disable) unroll(disable)
    for (size_t r = i; r < n; r++) t += (uint32_t)a[r] * b[j][r];
    out[j] = t;
  }
}

/* Two words of b a step: each is ANDed with its four plane words (two
 * vectors of q per word), i8x16.popcnt counts bytes (0..8), and pairs of
 * counts go into 16-bit lanes, planes 2 and 3 shifted left by 2. A lane
 * gains at most 32 + 4 * 32 = 160 a step, so after at most 128 steps
 * (below 2^15) the lanes are added into 32 bits. A last odd word goes
 * through i64.popcnt. */
static uint32_t bits_dot4_simd128(const uint64_t *q, const uint64_t *b, size_t words) {
  uint32_t s = 0;
  size_t i = 0;
  while (i + 2 <= words) {
    v128_t acc = wasm_i16x8_splat(0);
    size_t end = i + 2 * 128 < words ? i + 2 * 128 : words;
    for (; i + 2 <= end; i += 2) {
      v128_t b0 = wasm_i64x2_splat((int64_t)b[i]), b1 = wasm_i64x2_splat((int64_t)b[i + 1]);
      /* planes 0,1 and 2,3 of word i, then of word i + 1 */
      v128_t c01 = wasm_i8x16_popcnt(wasm_v128_and(b0, wasm_v128_load(q + 4 * i)));
      v128_t c23 = wasm_i8x16_popcnt(wasm_v128_and(b0, wasm_v128_load(q + 4 * i + 2)));
      v128_t d01 = wasm_i8x16_popcnt(wasm_v128_and(b1, wasm_v128_load(q + 4 * i + 4)));
      v128_t d23 = wasm_i8x16_popcnt(wasm_v128_and(b1, wasm_v128_load(q + 4 * i + 6)));
      /* bytes 0-7 hold plane 0 (or 2), bytes 8-15 plane 1 (or 3) */
      v128_t lo = wasm_u16x8_extadd_pairwise_u8x16(wasm_i8x16_add(c01, d01));
      v128_t hi = wasm_u16x8_extadd_pairwise_u8x16(wasm_i8x16_add(c23, d23));
      acc = wasm_i16x8_add(acc, wasm_i16x8_add(lo, wasm_i16x8_shl(hi, 2)));
    }
    /* lanes 0-3: plane 0 (or 2 times 4); lanes 4-7: plane 1 (or 3 times 4) */
    v128_t w = wasm_u32x4_extadd_pairwise_u16x8(acc);
    s += (uint32_t)wasm_i32x4_extract_lane(w, 0) + (uint32_t)wasm_i32x4_extract_lane(w, 1) +
         2 * ((uint32_t)wasm_i32x4_extract_lane(w, 2) + (uint32_t)wasm_i32x4_extract_lane(w, 3));
  }
  for (; i < words; i++)
    for (int j = 0; j < 4; j++) s += (uint32_t)__builtin_popcountll(b[i] & q[4 * i + j]) << j;
  return s;
}

/* Four registers of four lanes. WebAssembly is little-endian: a load gives
 * the words. */
static void sum_lanes_simd128(uint32_t lane[16], const uint8_t *p, size_t stripes) {
  v128_t a[4];
  for (int r = 0; r < 4; r++) a[r] = wasm_v128_load(lane + 4 * r);
  const v128_t p1 = wasm_i32x4_splat((int32_t)PV_SUM_P1), p2 = wasm_i32x4_splat((int32_t)PV_SUM_P2);
  for (; stripes; stripes--, p += 64) {
    /* Not unrolled further: four registers already hide the multiplies'
     * latency, and the copies cost 0.2 KB of module for no measured speed. */
#pragma clang loop unroll(disable)
    for (int r = 0; r < 4; r++) {
      v128_t x = wasm_i32x4_add(a[r], wasm_i32x4_mul(wasm_v128_load(p + 16 * r), p1));
      x = wasm_v128_or(wasm_i32x4_shl(x, 13), wasm_u32x4_shr(x, 19));
      a[r] = wasm_i32x4_mul(x, p2);
    }
  }
  for (int r = 0; r < 4; r++) wasm_v128_store(lane + 4 * r, a[r]);
}

const pv_kernels pv_kernels_simd128 = {"simd128",          dot_f32_simd128,  l2_f32_simd128,
                                       dot_u8_simd128,     dot_u8_4_simd128, bits_dot4_simd128,
                                       NULL,               sum_lanes_simd128};

#endif /* __wasm_simd128__ */
