/* SPDX-License-Identifier: MIT */
/*
 * Distance kernels. scalar.c holds the scalar reference and the one place
 * that picks a kernel set; each instruction set has its own file. The index
 * reads the chosen set once, at pv_new, and keeps the pointer.
 *
 * Every kernel returns bit-for-bit what the reference returns: the f32
 * kernels follow one canonical order of operations (see scalar.c), the u8
 * kernel is exact integer arithmetic. Tests compare them with ==.
 */
#ifndef PV_KERNELS_H
#define PV_KERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef struct pv_kernels {
  const char *name;
  /* sum of a[i] * b[i] */
  float (*dot_f32)(const float *a, const float *b, size_t n);
  /* sum of (a[i] - b[i])^2 */
  float (*l2_f32)(const float *a, const float *b, size_t n);
  /* sum of a[i] * b[i] on u8 codes, exact. n <= 65536 keeps it below 2^32
   * (65536 * 255 * 255 < 2^32), which is why PV_MAX_DIM is 65536. */
  uint32_t (*dot_u8)(const uint8_t *a, const uint8_t *b, size_t n);
  /* out[j] = dot_u8(a, b[j], n) for j = 0..3, exactly. One pass over a for
   * four vectors: a search scores a node's neighbours four at a time, so
   * their memory fetches overlap (WebAssembly has no prefetch). */
  void (*dot_u8_4)(const uint8_t *a, const uint8_t *const b[4], size_t n, uint32_t out[4]);
  /* sum over words i and planes j < 4 of 2^j * popcount(b[i] & q[4i + j]):
   * the dot product of a binary code b with a query of 4-bit values
   * whose bit planes are interleaved a word at a time (codec/binary.c).
   * Exact: at most 15 * 65536. */
  uint32_t (*bits_dot4)(const uint64_t *q, const uint64_t *b, size_t words);
  /* CRC-32C of n bytes at p continued from state (start from 0xffffffff,
   * finish with ~state), with the CPU's own instruction. NULL where there is
   * none (the scalar and simd128 sets): core/checksum.c then uses its
   * tables, the reference. Format version 1's checksum. */
  uint32_t (*crc32c)(uint32_t state, const uint8_t *p, size_t n);
  /* The lane step of format version 2's checksum (core/checksum.c has the
   * whole definition): for each of `stripes` stripes of 64 bytes at p, and
   * each lane j < 16, with w the j-th little-endian u32 of the stripe,
   *   lane[j] = rotl32(lane[j] + w * PV_SUM_P1, 13) * PV_SUM_P2  (mod 2^32).
   * Sixteen independent chains of multiplies: SIMD-wide, so checking a
   * file runs at memory speed where a table CRC ran at a byte a cycle. */
  void (*sum_lanes)(uint32_t lane[16], const uint8_t *p, size_t stripes);
} pv_kernels;

#define PV_SUM_P1 0x85EBCA77u
#define PV_SUM_P2 0x9E3779B1u

/* Fold 32 partial sums by the canonical tree (lanes j and j+16, then j and
 * j+8, j+4, then (0+2) + (1+3)). Every f32 kernel ends here or in a SIMD
 * sequence that performs exactly these additions. */
float pv_fold32(const float *lanes);

/* The scalar reference: plain loops, the definition of every kernel. */
extern const pv_kernels pv_kernels_scalar;

#if defined(__x86_64__) || defined(__i386__)
#define PV_HAVE_AVX2 1
/* AVX2 + FMA kernels (avx2.c); only call them when
 * pv_avx2_usable() says the CPU has both. */
extern const pv_kernels pv_kernels_avx2;
int pv_avx2_usable(void);
#endif

#if defined(__wasm_simd128__)
#define PV_HAVE_SIMD128 1
extern const pv_kernels pv_kernels_simd128;
#endif

/* The best set this build and CPU support. Pure: the answer never changes
 * during a run, so callers may cache it. */
const pv_kernels *pv_kernels_best(void);

#endif /* PV_KERNELS_H */
