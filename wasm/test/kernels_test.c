/* SPDX-License-Identifier: MIT */
/*
 * Test-only WASM entry points: each kernel of a set, callable from JS, so
 * js/test/kernels.test.mjs can compare the simd128 kernels with the scalar
 * reference inside the same WebAssembly build (same compiler, same flags).
 * Linked into build-wasm/kernels_test.wasm only, never into dist/.
 *
 * set 0 is the scalar reference, set 1 the kernels pv_kernels_best() picks
 * (simd128 in this build; JS checks the name).
 */
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"

#define PVT_EXPORT(name) __attribute__((export_name(#name), visibility("default")))

static const pv_kernels *set_of(int set) {
  return set == 0 ? &pv_kernels_scalar : pv_kernels_best();
}

PVT_EXPORT(pvt_name)
const char *pvt_name(int set) { return set_of(set)->name; }

PVT_EXPORT(pvt_dot_f32)
float pvt_dot_f32(int set, const float *a, const float *b, size_t n) {
  return set_of(set)->dot_f32(a, b, n);
}

PVT_EXPORT(pvt_l2_f32)
float pvt_l2_f32(int set, const float *a, const float *b, size_t n) {
  return set_of(set)->l2_f32(a, b, n);
}

PVT_EXPORT(pvt_dot_u8)
uint32_t pvt_dot_u8(int set, const uint8_t *a, const uint8_t *b, size_t n) {
  return set_of(set)->dot_u8(a, b, n);
}

/* dot_u8_4 of a against b + off[j] for j = 0..3; writes the four to out. */
PVT_EXPORT(pvt_dot_u8_4)
void pvt_dot_u8_4(int set, const uint8_t *a, const uint8_t *b, const uint32_t *off, size_t n,
                  uint32_t *out) {
  const uint8_t *v[4] = {b + off[0], b + off[1], b + off[2], b + off[3]};
  set_of(set)->dot_u8_4(a, v, n, out);
}

PVT_EXPORT(pvt_bits_dot4)
uint32_t pvt_bits_dot4(int set, const uint64_t *q, const uint64_t *b, size_t words) {
  return set_of(set)->bits_dot4(q, b, words);
}

/* The version-2 checksum's lane step: updates the 16 lanes at `lane`. */
PVT_EXPORT(pvt_sum_lanes)
void pvt_sum_lanes(int set, uint32_t *lane, const uint8_t *p, size_t stripes) {
  set_of(set)->sum_lanes(lane, p, stripes);
}
