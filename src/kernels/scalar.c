/* SPDX-License-Identifier: MIT */
/*
 * Scalar reference kernels and the one place that chooses a kernel set.
 *
 * The f32 kernels have a canonical order of operations, and every SIMD
 * kernel reproduces it exactly: element i is accumulated into lane i % 32
 * (multiply, then add: never a fused multiply-add), and the 32 lanes are
 * folded by the fixed tree in pv_fold32. So scalar, AVX2 and WASM simd128
 * give bit-identical distances, and the same seed and inserts build the same
 * graph on every platform. The cost is small: 32 lanes are four AVX2 or
 * eight simd128 accumulators, enough independent chains to hide the latency
 * of the adds while the loads set the pace, and FMA would save a rounding,
 * not time, in a kernel bound by memory. Why 32 and not 64 (the order until
 * 2026-12): sixteen simd128 accumulators do not fit the sixteen vector
 * registers of an x86-64 host, and at 100 dimensions a 64-lane kernel spent
 * more on its tail and its fold than on the products (README, "F32 in
 * WebAssembly"). The u8 kernel is exact integer arithmetic.
 */
#include "kernels.h"

float pv_fold32(const float *l) {
  float r16[16], r8[8], r4[4];
  for (int j = 0; j < 16; j++) r16[j] = l[j] + l[j + 16];
  for (int j = 0; j < 8; j++) r8[j] = r16[j] + r16[j + 8];
  for (int j = 0; j < 4; j++) r4[j] = r8[j] + r8[j + 4];
  float r2a = r4[0] + r4[2], r2b = r4[1] + r4[3];
  return r2a + r2b;
}

static float dot_f32_scalar(const float *a, const float *b, size_t n) {
  float l[32] = {0};
  for (size_t i = 0; i < n; i++) {
    float p = a[i] * b[i];
    l[i % 32] += p;
  }
  return pv_fold32(l);
}

static float l2_f32_scalar(const float *a, const float *b, size_t n) {
  float l[32] = {0};
  for (size_t i = 0; i < n; i++) {
    float d = a[i] - b[i];
    float p = d * d;
    l[i % 32] += p;
  }
  return pv_fold32(l);
}

static uint32_t dot_u8_scalar(const uint8_t *a, const uint8_t *b, size_t n) {
  uint32_t s = 0;
  for (size_t i = 0; i < n; i++) s += (uint32_t)a[i] * b[i];
  return s;
}

static void dot_u8_4_scalar(const uint8_t *a, const uint8_t *const b[4], size_t n,
                            uint32_t out[4]) {
  for (int j = 0; j < 4; j++) out[j] = dot_u8_scalar(a, b[j], n);
}

/* A population count by halves, quarters and bytes (no instruction
 * assumed): the definition the SIMD kernels are tested against. */
static uint32_t pop64(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return (uint32_t)((x * 0x0101010101010101ull) >> 56);
}

static uint32_t bits_dot4_scalar(const uint64_t *q, const uint64_t *b, size_t words) {
  uint32_t s = 0;
  for (size_t i = 0; i < words; i++)
    for (int j = 0; j < 4; j++) s += pop64(b[i] & q[4 * i + j]) << j;
  return s;
}

static void sum_lanes_scalar(uint32_t lane[16], const uint8_t *p, size_t stripes) {
  for (; stripes; stripes--, p += 64)
    for (int j = 0; j < 16; j++) {
      const uint8_t *q = p + 4 * j;
      uint32_t w = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
      uint32_t x = lane[j] + w * PV_SUM_P1;
      lane[j] = ((x << 13) | (x >> 19)) * PV_SUM_P2;
    }
}

const pv_kernels pv_kernels_scalar = {"scalar",        dot_f32_scalar,  l2_f32_scalar,
                                      dot_u8_scalar,   dot_u8_4_scalar, bits_dot4_scalar,
                                      NULL,            sum_lanes_scalar};

/* Chosen at build time for WASM (simd128 is a compile-time feature there),
 * by a CPU check natively. The check is cheap and pure, and pv_new caches
 * the result in each index, so no global pointer is ever written. */
const pv_kernels *pv_kernels_best(void) {
#if defined(PV_HAVE_SIMD128)
  return &pv_kernels_simd128;
#else
#if defined(PV_HAVE_AVX2)
  if (pv_avx2_usable()) return &pv_kernels_avx2;
#endif
  return &pv_kernels_scalar;
#endif
}
