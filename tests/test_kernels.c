/* SPDX-License-Identifier: MIT */
/*
 * Distance kernels against a double-precision reference computed here.
 *
 * Every kernel set this build and CPU can run (scalar always, AVX2 when the
 * CPU has it) is checked on the odd and the usual dimensions, with pointers
 * both aligned and one element off, because SIMD loops go wrong at the tail
 * and on unaligned loads. Float kernels may only differ from the exact sum
 * by rounding: 1e-5 * sum |terms| + 1e-6. The u8 kernel must be exact.
 */
#include <stdlib.h>

#include "kernels/kernels.h"
#include "core/core.h"
#include "pvfile.h"
#include "test.h"

static const size_t kdims[] = {1, 3, 17, 383, 384, 768, 4096};
#define NKDIMS (sizeof kdims / sizeof kdims[0])

/* The kernel sets to test, NULL-terminated. */
static size_t kernel_sets(const pv_kernels **out) {
  size_t n = 0;
  out[n++] = &pv_kernels_scalar;
#ifdef PV_HAVE_AVX2
  if (pv_avx2_usable()) out[n++] = &pv_kernels_avx2;
#endif
  out[n] = NULL;
  return n;
}

static size_t trials_for(size_t dim) { return dim <= 17 ? 50 : dim <= 768 ? 10 : 4; }

void test_kernels_available(void) {
  const pv_kernels *sets[4];
  size_t n = kernel_sets(sets);
  CHECK(n >= 1);
  CHECK(strcmp(pv_kernels_scalar.name, "scalar") == 0);
#ifdef PV_HAVE_AVX2
  CHECK(strcmp(pv_kernels_avx2.name, "avx2") == 0);
#endif
  for (size_t i = 0; i < n; i++) {
    CHECK(sets[i]->name != NULL);
    CHECK(sets[i]->dot_f32 && sets[i]->l2_f32 && sets[i]->dot_u8 && sets[i]->dot_u8_4);
  }
  const pv_kernels *best = pv_kernels_best();
  REQUIRE(best != NULL);
  int known = best == &pv_kernels_scalar;
#ifdef PV_HAVE_AVX2
  known = known || best == &pv_kernels_avx2;
  /* "The best set this build and CPU support." */
  if (pv_avx2_usable()) CHECK(best == &pv_kernels_avx2);
  else CHECK(best == &pv_kernels_scalar);
#endif
  CHECK(known);
  CHECK(pv_kernels_best() == best); /* pure */
  REQUIRE(pv_kernels_name() != NULL);
  CHECK_MSG(strcmp(pv_kernels_name(), best->name) == 0,
            "pv_kernels_name() \"%s\" != best \"%s\"", pv_kernels_name(), best->name);
}

void test_kernels_dot_f32(void) {
  const pv_kernels *sets[4];
  kernel_sets(sets);
  uint64_t seed = 101;
  float *a = tu_xmalloc(sizeof(float) * 4097);
  float *b = tu_xmalloc(sizeof(float) * 4097);
  for (size_t s = 0; sets[s]; s++) {
    for (size_t di = 0; di < NKDIMS; di++) {
      size_t dim = kdims[di];
      for (size_t t = 0; t < trials_for(dim); t++) {
        size_t off = t & 1; /* every other trial on unaligned pointers */
        float scale = (t % 3 == 2) ? 1000.0f : 1.0f;
        tu_rand_vec(&seed, a, dim + 1);
        tu_rand_vec(&seed, b, dim + 1);
        for (size_t i = 0; i < dim + 1; i++) a[i] *= scale;
        const float *x = a + off, *y = b + off;
        double ref = 0.0, mag = 0.0;
        for (size_t i = 0; i < dim; i++) {
          ref += (double)x[i] * y[i];
          mag += fabs((double)x[i] * y[i]);
        }
        float got = sets[s]->dot_f32(x, y, dim);
        double tol = 1e-5 * mag + 1e-6;
        CHECK_MSG(fabs(got - ref) <= tol, "%s dot_f32 dim %zu trial %zu: %.9g vs %.9g",
                  sets[s]->name, dim, t, (double)got, ref);
      }
    }
  }
  free(a);
  free(b);
}

void test_kernels_l2_f32(void) {
  const pv_kernels *sets[4];
  kernel_sets(sets);
  uint64_t seed = 202;
  float *a = tu_xmalloc(sizeof(float) * 4097);
  float *b = tu_xmalloc(sizeof(float) * 4097);
  for (size_t s = 0; sets[s]; s++) {
    for (size_t di = 0; di < NKDIMS; di++) {
      size_t dim = kdims[di];
      for (size_t t = 0; t < trials_for(dim); t++) {
        size_t off = t & 1;
        tu_rand_vec(&seed, a, dim + 1);
        tu_rand_vec(&seed, b, dim + 1);
        if (t % 3 == 2) memcpy(b, a, sizeof(float) * (dim + 1)); /* distance 0 */
        const float *x = a + off, *y = b + off;
        double ref = 0.0;
        for (size_t i = 0; i < dim; i++) {
          double d = (double)x[i] - y[i];
          ref += d * d;
        }
        float got = sets[s]->l2_f32(x, y, dim);
        double tol = 1e-5 * ref + 1e-6;
        CHECK_MSG(fabs(got - ref) <= tol, "%s l2_f32 dim %zu trial %zu: %.9g vs %.9g",
                  sets[s]->name, dim, t, (double)got, ref);
        if (t % 3 == 2) CHECK_MSG(got == 0.0f, "%s l2_f32(a, a) = %g", sets[s]->name, (double)got);
      }
    }
  }
  free(a);
  free(b);
}

void test_kernels_dot_u8_exact(void) {
  const pv_kernels *sets[4];
  kernel_sets(sets);
  uint64_t seed = 303;
  uint8_t *a = tu_xmalloc(4097), *b = tu_xmalloc(4097);
  for (size_t s = 0; sets[s]; s++) {
    for (size_t di = 0; di < NKDIMS; di++) {
      size_t dim = kdims[di];
      for (size_t t = 0; t < trials_for(dim); t++) {
        size_t off = t & 1;
        for (size_t i = 0; i < dim + 1; i++) {
          a[i] = (uint8_t)tu_below(&seed, 256);
          /* some trials at the top of the range, where sign bugs show */
          b[i] = (t % 3 == 2) ? (uint8_t)(255 - tu_below(&seed, 4)) : (uint8_t)tu_below(&seed, 256);
        }
        uint64_t ref = 0;
        for (size_t i = 0; i < dim; i++) ref += (uint64_t)a[i + off] * b[i + off];
        uint32_t got = sets[s]->dot_u8(a + off, b + off, dim);
        CHECK_MSG(got == ref, "%s dot_u8 dim %zu trial %zu: %u vs %llu", sets[s]->name,
                  dim, t, got, (unsigned long long)ref);
      }
    }
  }
  free(a);
  free(b);
}

void test_kernels_dot_u8_no_overflow(void) {
  const pv_kernels *sets[4];
  kernel_sets(sets);
  size_t n = 65536;
  uint8_t *a = tu_xmalloc(n + 1), *b = tu_xmalloc(n + 1);
  memset(a, 255, n + 1);
  memset(b, 255, n + 1);
  uint64_t want = (uint64_t)65536 * 255 * 255;
  uint64_t seed = 404;
  for (size_t s = 0; sets[s]; s++) {
    CHECK_MSG(sets[s]->dot_u8(a, b, n) == want, "%s: all-255 at 65536 = %u, want %llu",
              sets[s]->name, sets[s]->dot_u8(a, b, n), (unsigned long long)want);
    CHECK_MSG(sets[s]->dot_u8(a + 1, b + 1, n) == want, "%s: unaligned all-255",
              sets[s]->name);
  }
  /* random codes at the largest dimension */
  for (size_t i = 0; i < n; i++) {
    a[i] = (uint8_t)(128 + tu_below(&seed, 128));
    b[i] = (uint8_t)(128 + tu_below(&seed, 128));
  }
  uint64_t ref = 0;
  for (size_t i = 0; i < n; i++) ref += (uint64_t)a[i] * b[i];
  for (size_t s = 0; sets[s]; s++)
    CHECK_MSG(sets[s]->dot_u8(a, b, n) == ref, "%s: random codes at 65536", sets[s]->name);
  free(a);
  free(b);
}

/* dot_u8_4 gives each of its four vectors exactly dot_u8's answer: vectors
 * at different offsets (so each has its own alignment and tail), the same
 * vector twice, and all-255 codes at the largest dimension. */
void test_kernels_dot_u8_4(void) {
  const pv_kernels *sets[4];
  kernel_sets(sets);
  uint64_t seed = 505;
  size_t cap = 65536 + 8;
  uint8_t *a = tu_xmalloc(cap), *b = tu_xmalloc(4 * cap);
  for (size_t s = 0; sets[s]; s++) {
    for (size_t di = 0; di < NKDIMS + 1; di++) {
      size_t dim = di < NKDIMS ? kdims[di] : 65536;
      for (size_t t = 0; t < (dim > 4096 ? 2 : trials_for(dim)); t++) {
        int full = dim > 4096 && t == 0; /* all-255: the overflow bound */
        for (size_t i = 0; i < cap; i++) a[i] = full ? 255 : (uint8_t)tu_below(&seed, 256);
        for (size_t i = 0; i < 4 * cap; i++) b[i] = full ? 255 : (uint8_t)tu_below(&seed, 256);
        size_t off = t & 3;
        const uint8_t *v[4] = {b + off, b + cap + 1, b + 2 * cap + 3, (t % 2) ? b + off : b + 3 * cap + 2};
        uint32_t out[4] = {0, 0, 0, 0};
        sets[s]->dot_u8_4(a + off, v, dim, out);
        for (int j = 0; j < 4; j++) {
          uint64_t ref = 0;
          for (size_t i = 0; i < dim; i++) ref += (uint64_t)a[off + i] * v[j][i];
          CHECK_MSG(out[j] == ref, "%s dot_u8_4 dim %zu trial %zu vector %d: %u vs %llu",
                    sets[s]->name, dim, t, j, out[j], (unsigned long long)ref);
          CHECK(out[j] == sets[s]->dot_u8(a + off, v[j], dim));
        }
      }
    }
  }
  free(a);
  free(b);
}

/* bits_dot4 is exact: every set against a sum bit by bit here, on the
 * codes of the usual dimensions (words of 64 bits, the padding bits of
 * the last one zero, as the binary codec writes them), random words, all
 * bits set in both (the largest sum), and codes one word off alignment. */
void test_kernels_bits_dot4(void) {
  const pv_kernels *sets[4];
  kernel_sets(sets);
  uint64_t seed = 606;
  size_t cap = 65536 / 64 + 2;
  uint64_t *q = tu_xmalloc(8 * 4 * cap), *b = tu_xmalloc(8 * cap);
  for (size_t s = 0; sets[s]; s++)
    for (size_t di = 0; di < NKDIMS + 1; di++) {
      size_t dim = di < NKDIMS ? kdims[di] : 65536, words = (dim + 63) / 64;
      for (size_t t = 0; t < trials_for(dim); t++) {
        int full = t == 0;
        size_t off = t & 1;
        uint64_t keep = dim % 64 ? (1ull << (dim % 64)) - 1 : ~0ull;
        for (size_t i = 0; i < words; i++) {
          uint64_t m = i + 1 == words ? keep : ~0ull; /* padding bits zero */
          b[off + i] = (full ? ~0ull : tu_rand(&seed)) & m;
          for (int j = 0; j < 4; j++) q[4 * (off + i) + j] = (full ? ~0ull : tu_rand(&seed)) & m;
        }
        uint32_t ref = 0;
        for (size_t d = 0; d < dim; d++) {
          size_t w = off + d / 64;
          if (!(b[w] >> (d % 64) & 1)) continue;
          for (int j = 0; j < 4; j++) ref += (uint32_t)(q[4 * w + j] >> (d % 64) & 1) << j;
        }
        if (full) CHECK(ref == 15 * dim);
        uint32_t got = sets[s]->bits_dot4(q + 4 * off, b + off, words);
        CHECK_MSG(got == ref, "%s bits_dot4 dim %zu trial %zu: %u vs %u", sets[s]->name, dim, t,
                  got, ref);
      }
    }
  free(q);
  free(b);
}

/* The fast kernels against the scalar reference directly (the header's
 * promise: same value, only the order of additions differs). */
void test_kernels_agree_with_each_other(void) {
  const pv_kernels *sets[4];
  size_t nsets = kernel_sets(sets);
  uint64_t seed = 505;
  float a[1031], b[1031];
  for (size_t dim = 1; dim <= 1030; dim += (dim < 70 ? 1 : 37)) {
    tu_rand_vec(&seed, a, dim);
    tu_rand_vec(&seed, b, dim);
    float d0 = pv_kernels_scalar.dot_f32(a, b, dim);
    float l0 = pv_kernels_scalar.l2_f32(a, b, dim);
    double mag = 0.0, l2 = 0.0;
    for (size_t i = 0; i < dim; i++) {
      mag += fabs((double)a[i] * b[i]);
      l2 += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    }
    for (size_t s = 1; s < nsets; s++) {
      CHECK_MSG(fabs(sets[s]->dot_f32(a, b, dim) - d0) <= 2e-5 * mag + 2e-6,
                "%s dot vs scalar at dim %zu", sets[s]->name, dim);
      CHECK_MSG(fabs(sets[s]->l2_f32(a, b, dim) - l0) <= 2e-5 * l2 + 2e-6,
                "%s l2 vs scalar at dim %zu", sets[s]->name, dim);
    }
  }
}

/* scalar.c fixes the order of the float operations (32 lanes, multiply
 * then add, a fixed folding tree) so that every kernel set returns the
 * scalar result bit for bit, and the same seed builds the same graph on
 * every platform. */
void test_kernels_bit_identical(void) {
  const pv_kernels *sets[4];
  size_t nsets = kernel_sets(sets);
  uint64_t seed = 606;
  float *a = tu_xmalloc(sizeof(float) * 4097), *b = tu_xmalloc(sizeof(float) * 4097);
  size_t mismatches = 0, tried = 0;
  for (size_t s = 1; s < nsets; s++) {
    for (size_t dim = 1; dim <= 4096; dim = dim < 200 ? dim + 1 : dim * 2 - 1) {
      for (size_t off = 0; off < 2; off++) {
        tu_rand_vec(&seed, a, dim + 1);
        tu_rand_vec(&seed, b, dim + 1);
        tried++;
        float d0 = pv_kernels_scalar.dot_f32(a + off, b + off, dim);
        float d1 = sets[s]->dot_f32(a + off, b + off, dim);
        float l0 = pv_kernels_scalar.l2_f32(a + off, b + off, dim);
        float l1 = sets[s]->l2_f32(a + off, b + off, dim);
        if (memcmp(&d0, &d1, sizeof d0) != 0 || memcmp(&l0, &l1, sizeof l0) != 0) {
          mismatches++;
          CHECK_MSG(0, "%s vs scalar at dim %zu: dot %.9g / %.9g, l2 %.9g / %.9g",
                    sets[s]->name, dim, (double)d1, (double)d0, (double)l1, (double)l0);
        }
      }
    }
  }
  CHECK_MSG(mismatches == 0, "%zu of %zu differ", mismatches, tried);
  free(a);
  free(b);
}

/* One CRC-32C implementation (state in, state out) against the table CRC
 * of pvfile.h (written from the definition, a byte at a time): the check
 * value of the definition, every length from 0 to 300 at every alignment
 * mod 8 (the 16-byte steps and their tails), and buf[0, big) fed in two
 * uneven pieces, which checks that the state carries from one call to the
 * next. */
static void check_crc(const char *name, uint32_t (*crc)(uint32_t, const uint8_t *, size_t),
                      const uint8_t *buf, size_t big) {
  const uint8_t nine[] = "123456789";
  CHECK_EQ_INT(~crc(0xffffffffu, nine, 9), 0xE3069283u);
  for (size_t len = 0; len <= 300; len++)
    for (size_t off = 0; off < 8; off++) {
      uint32_t want = crc32c(buf + off, len), got = ~crc(0xffffffffu, buf + off, len);
      CHECK_MSG(got == want, "%s: length %zu at offset %zu: %08x, want %08x", name, len, off,
                (unsigned)got, (unsigned)want);
    }
  size_t cut = 333333;
  uint32_t st = crc(0xffffffffu, buf + 3, cut);
  st = crc(st, buf + 3 + cut, big - 3 - cut);
  CHECK_EQ_INT(~st, crc32c(buf + 3, big - 3));
}

static uint32_t crc_tables_u8(uint32_t state, const uint8_t *p, size_t n) {
  uint32_t out = 0;
  if (pv__crc32c_tables(state, p, n, &out) != PV_OK) return ~0u; /* NOMEM: fails the check */
  return out;
}

/* Every CRC-32C the library has: a kernel set's instruction, and the
 * tables that serve everywhere else (WebAssembly, CPUs without AVX2). The
 * check value of the definition pins the reference: CRC-32C("123456789")
 * is 0xE3069283. */
void test_kernels_crc32c(void) {
  const uint8_t nine[] = "123456789";
  CHECK_EQ_INT(crc32c(nine, 9), 0xE3069283u);
  size_t big = (1u << 20) + 8;
  uint8_t *buf = tu_xmalloc(big);
  uint64_t rng = 77;
  for (size_t i = 0; i < big; i++) buf[i] = (uint8_t)tu_rand(&rng);
  check_crc("tables", crc_tables_u8, buf, big);
  const pv_kernels *sets[4];
  size_t nsets = kernel_sets(sets);
  int tested = 0;
  for (size_t k = 0; k < nsets; k++) {
    if (!sets[k]->crc32c) continue;
    tested++;
    check_crc(sets[k]->name, sets[k]->crc32c, buf, big);
  }
#ifdef PV_HAVE_AVX2
  /* The AVX2 set is the one with an instruction for it. */
  if (pv_avx2_usable()) CHECK(tested == 1);
#endif
  (void)tested;
  free(buf);
}

/* The lane step of the version-2 checksum: every set's kernel against the
 * scalar reference, from random lane states, for 0 .. 70 stripes at every
 * alignment of the input; and the whole checksum (core/checksum.c's
 * streaming of pieces of any size) against pvfile.h's independent reading
 * of FORMAT.md, pieces split at every offset of a short buffer. */
void test_kernels_sum_lanes(void) {
  size_t big = 64 * 70 + 64;
  uint8_t *buf = tu_xmalloc(big);
  uint64_t rng = 91;
  for (size_t i = 0; i < big; i++) buf[i] = (uint8_t)tu_rand(&rng);
  const pv_kernels *sets[4];
  size_t nsets = kernel_sets(sets);
  for (size_t k = 0; k < nsets; k++) {
    REQUIRE(sets[k]->sum_lanes != NULL);
    for (size_t stripes = 0; stripes <= 70; stripes += stripes < 5 ? 1 : 13)
      for (size_t off = 0; off < 64; off += 7) {
        if (off + 64 * stripes > big) continue;
        uint32_t want[16], got[16];
        for (int j = 0; j < 16; j++) want[j] = got[j] = (uint32_t)tu_rand(&rng);
        pv_kernels_scalar.sum_lanes(want, buf + off, stripes);
        sets[k]->sum_lanes(got, buf + off, stripes);
        CHECK_MSG(memcmp(want, got, sizeof want) == 0, "%s: %zu stripes at offset %zu differ",
                  sets[k]->name, stripes, off);
      }
  }
  for (size_t n = 0; n <= 200; n += n < 130 ? 1 : 35) {
    uint32_t want = pvsum(buf, n);
    CHECK_EQ_INT(pv__sum_of(pv_kernels_best(), buf, n), want);
    for (size_t cut = 0; cut <= n; cut += 1 + cut / 9) {
      pv_sum s;
      pv__sum_init(&s, &pv_kernels_scalar);
      pv__sum_update(&s, buf, cut);
      pv__sum_update(&s, buf + cut, n - cut);
      CHECK_MSG(pv__sum_final(&s) == want, "%zu bytes cut at %zu: %08x, want %08x", n, cut,
                (unsigned)pv__sum_final(&s), (unsigned)want);
    }
  }
  free(buf);
}
