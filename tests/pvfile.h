/* SPDX-License-Identifier: MIT */
/*
 * Reading and patching pocketvec files byte by byte, for the tests
 * (test_persist.c) and the loader's fuzzer (fuzz/fuzz_load.c): little-endian
 * fields, CRC-32C, and rewriting every checksum of a file so that a crafted
 * change gets past them and meets the checks behind them.
 *
 * Written from docs/FORMAT.md, not from src/persist/: the CRC here is a
 * byte table built from the polynomial, the library's is slice-by-16 or the
 * CPU's instruction; the version-2 checksum here is a byte-at-a-time
 * reading of the definition, the library's a SIMD kernel; each checks the
 * other. Header-only (static inline): the fuzzer is built
 * on its own, outside the test binary.
 */
#ifndef PV_TESTS_PVFILE_H
#define PV_TESTS_PVFILE_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static inline void wr32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void wr64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* CRC-32C: reflected polynomial 0x82F63B78, initial value and final XOR
 * 0xFFFFFFFF. The table is filled on first use (single-threaded callers). */
static inline uint32_t crc32c(const uint8_t *p, size_t n) {
  static uint32_t table[256];
  static int ready;
  if (!ready) {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t r = i;
      for (int k = 0; k < 8; k++) r = (r & 1) ? (r >> 1) ^ 0x82F63B78u : r >> 1;
      table[i] = r;
    }
    ready = 1;
  }
  uint32_t c = 0xFFFFFFFFu;
  while (n--) c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

/* The checksum of format version 2 (docs/FORMAT.md), straight from its
 * definition: sixteen lanes over 64-byte stripes, the last zero-padded. */
static inline uint32_t pvsum_rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
static inline uint32_t pvsum(const uint8_t *p, size_t n) {
  const uint32_t P1 = 0x85EBCA77u, P2 = 0x9E3779B1u;
  uint32_t lane[16];
  for (uint32_t j = 0; j < 16; j++) lane[j] = P2 * (j + 1);
  for (size_t off = 0; off < n; off += 64) {
    for (int j = 0; j < 16; j++) {
      uint32_t w = 0;
      for (int b = 3; b >= 0; b--) {
        size_t at = off + 4 * (size_t)j + (size_t)b;
        w = (w << 8) | (at < n ? p[at] : 0);
      }
      lane[j] = pvsum_rotl(lane[j] + w * P1, 13) * P2;
    }
  }
  uint64_t n64 = n;
  uint32_t h = (uint32_t)n64 ^ (uint32_t)(n64 >> 32);
  for (int j = 0; j < 16; j++) h = pvsum_rotl(h ^ lane[j], 17) * P2;
  h ^= h >> 15;
  h *= P1;
  h ^= h >> 13;
  return h;
}

/* The checksum a file of the version at b + 8 uses for its sections and
 * table (its header's is CRC-32C in every version). */
static inline uint32_t file_sum(const uint8_t *b, const uint8_t *p, size_t n) {
  return rd32(b + 8) == 1 ? crc32c(p, n) : pvsum(p, n);
}

/* Rewrite every checksum of the len bytes at b (by the checksum of its
 * version) from the file's own table:
 * each section's CRC (at the offset and length its entry gives), the
 * table's CRC, then the header's at 124. Entries or a table outside the
 * buffer are left alone. With `layout`, first make the header's file_size
 * (at 16) and table offset (at 88) agree with len, so that a file with
 * bytes inserted or removed is judged on its content too. */
static inline void fix_crcs(uint8_t *b, size_t len, int layout) {
  if (len < 128) return;
  uint32_t count = rd32(b + 96);
  if (layout) {
    wr64(b + 16, len);
    if (count <= 64 && len >= 128 + (uint64_t)count * 32 + 4)
      wr64(b + 88, len - ((uint64_t)count * 32 + 4));
  }
  uint64_t toff = rd64(b + 88);
  if (count <= 64 && toff <= len && len - toff >= (uint64_t)count * 32 + 4) {
    uint8_t *t = b + toff;
    for (uint32_t i = 0; i < count; i++) {
      uint8_t *e = t + 32 * (size_t)i;
      uint64_t off = rd64(e + 8), sl = rd64(e + 16);
      if (off <= len && sl <= len - off) wr32(e + 24, file_sum(b, b + off, (size_t)sl));
    }
    wr32(t + 32 * (size_t)count, file_sum(b, t, 32 * (size_t)count));
  }
  wr32(b + 124, crc32c(b, 124)); /* the header: CRC-32C in every version */
}

#endif /* PV_TESTS_PVFILE_H */
