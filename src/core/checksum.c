/* SPDX-License-Identifier: MIT */
/*
 * Checksums. CRC-32C (Castagnoli), the checksum of format version 1: with
 * the CPU's instruction where the kernel set has one (pv_kernels.crc32c),
 * else slice-by-16 tables. The tables (16 KB) are built for each use in
 * memory from the caller's allocator: not on the stack, which is 64 KB in
 * WebAssembly, and not as incompressible constants in the module. Then the
 * checksum of format version 2, below.
 */
#include <string.h>

#include "core.h"
#include "kernels/kernels.h"

int pv__crc_open(pv_crc *c, const pv_allocator *alloc, int use_hw) {
  memset(c, 0, sizeof *c);
  c->alloc = *alloc;
  c->hw = use_hw ? pv_kernels_best()->crc32c : NULL;
  if (c->hw) return PV_OK;
  c->t = alloc->malloc(alloc->ctx, sizeof(uint32_t) * 16 * 256);
  if (!c->t) return PV_NOMEM;
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t r = i;
    for (int k = 0; k < 8; k++) r = (r & 1) ? (r >> 1) ^ 0x82F63B78u : r >> 1;
    c->t[0][i] = r;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int k = 1; k < 16; k++) c->t[k][i] = (c->t[k - 1][i] >> 8) ^ c->t[0][c->t[k - 1][i] & 0xff];
  return PV_OK;
}

void pv__crc_close(pv_crc *c) {
  if (c->t) c->alloc.free(c->alloc.ctx, c->t);
  c->t = NULL;
}

uint32_t pv__crc_update(const pv_crc *c, uint32_t crc, const void *data, size_t n) {
  const uint8_t *p = data;
  if (c->hw) return c->hw(crc, p, n);
  uint32_t(*t)[256] = c->t;
  /* Sixteen bytes a step: sixteen independent lookups, and the chain from
   * one step to the next (the XOR into the first word) half as often as
   * eight bytes a step. Format 1 files are read this way until they are
   * saved again; four bytes a step made loading one in WebAssembly 1.8x
   * slower (100k x 768 SQ8: 53 -> 95 ms) for 0.1 KB of module. */
  while (n >= 16) {
    uint32_t w0, w1, w2, w3;
    memcpy(&w0, p, 4);
    memcpy(&w1, p + 4, 4);
    memcpy(&w2, p + 8, 4);
    memcpy(&w3, p + 12, 4);
    w0 ^= crc;
    /* Written out: the WebAssembly build compiles this file at -Oz, which
     * would keep a loop over the words a loop. */
    crc = t[15][w0 & 0xff] ^ t[14][(w0 >> 8) & 0xff] ^ t[13][(w0 >> 16) & 0xff] ^
          t[12][w0 >> 24] ^ t[11][w1 & 0xff] ^ t[10][(w1 >> 8) & 0xff] ^
          t[9][(w1 >> 16) & 0xff] ^ t[8][w1 >> 24] ^ t[7][w2 & 0xff] ^
          t[6][(w2 >> 8) & 0xff] ^ t[5][(w2 >> 16) & 0xff] ^ t[4][w2 >> 24] ^
          t[3][w3 & 0xff] ^ t[2][(w3 >> 8) & 0xff] ^ t[1][(w3 >> 16) & 0xff] ^ t[0][w3 >> 24];
    p += 16;
    n -= 16;
  }
  while (n--) crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

uint32_t pv__crc32c_bitwise(const void *data, size_t n) {
  const uint8_t *p = data;
  uint32_t crc = 0xffffffffu;
  while (n--) {
    crc ^= *p++;
    for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return ~crc;
}

int pv__crc32c_tables(uint32_t state, const void *data, size_t n, uint32_t *out) {
  pv_crc c;
  pv_allocator a = pv__default_allocator();
  if (pv__crc_open(&c, &a, 0) != PV_OK) return PV_NOMEM;
  *out = pv__crc_update(&c, state, data, n);
  pv__crc_close(&c);
  return PV_OK;
}

/* ======================================================================== */
/* The checksum of format version 2                                          */
/* ======================================================================== */
/*
 * Defined here, once (docs/FORMAT.md repeats it). Of n bytes:
 *   1. sixteen u32 lanes start at lane[j] = P2 * (j + 1);
 *   2. the bytes are taken in stripes of 64, the last one padded with zero
 *      bytes (none when n is a multiple of 64; n = 0 has no stripe); each
 *      stripe updates every lane j with its j-th little-endian word w:
 *        lane[j] = rotl32(lane[j] + w * P1, 13) * P2;
 *   3. h = (n mod 2^32) ^ (n >> 32); for j = 0..15:
 *        h = rotl32(h ^ lane[j], 17) * P2;
 *      then h ^= h >> 15; h *= P1; h ^= h >> 13. The checksum is h.
 * (P1 = 0x85EBCA77, P2 = 0x9E3779B1: odd, so every multiply is invertible.)
 *
 * Why not CRC-32C: in WebAssembly, which has no CRC instruction, the table
 * CRC ran at about a byte a cycle and was 60 % of loading a file. These
 * sixteen independent chains run four or eight to a SIMD register.
 *
 * What it guarantees: a change to any one 32-bit word of the data (so any
 * single flipped bit) always changes the checksum. Each update is a
 * bijection of its lane for a fixed word and of the word for a fixed lane,
 * so the changed lane stays changed to the end; in step 3 each round is a
 * bijection of h for a fixed lane and of the lane for a fixed h, and the
 * final mix is a bijection. Other damage goes unnoticed with probability
 * about 2^-32, as with any 32-bit checksum.
 */

void pv__sum_init(pv_sum *s, const pv_kernels *k) {
  for (uint32_t j = 0; j < 16; j++) s->lane[j] = PV_SUM_P2 * (j + 1);
  s->nbuf = 0;
  s->total = 0;
  s->k = k;
}

void pv__sum_update(pv_sum *s, const void *data, size_t n) {
  const uint8_t *p = data;
  s->total += n;
  if (s->nbuf) {
    size_t take = 64 - s->nbuf < n ? 64 - s->nbuf : n;
    memcpy(s->buf + s->nbuf, p, take);
    s->nbuf += (uint32_t)take;
    p += take;
    n -= take;
    if (s->nbuf < 64) return;
    s->k->sum_lanes(s->lane, s->buf, 1);
    s->nbuf = 0;
  }
  /* In steps of 64 KB: a WebAssembly engine runs a function's first calls
   * in a baseline tier and swaps in optimised code only at a later call,
   * so one call over a whole section (the first load in a page) would run
   * all of it in the slower tier. */
  while (n >= 64) {
    size_t stripes = n / 64 < 1024 ? n / 64 : 1024;
    s->k->sum_lanes(s->lane, p, stripes);
    p += stripes * 64;
    n -= stripes * 64;
  }
  memcpy(s->buf, p, n);
  s->nbuf = (uint32_t)n;
}

static uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

uint32_t pv__sum_final(const pv_sum *s) {
  uint32_t lane[16];
  memcpy(lane, s->lane, sizeof lane);
  if (s->nbuf) {
    uint8_t last[64] = {0};
    memcpy(last, s->buf, s->nbuf);
    s->k->sum_lanes(lane, last, 1);
  }
  uint32_t h = (uint32_t)s->total ^ (uint32_t)(s->total >> 32);
  for (int j = 0; j < 16; j++) h = rotl32(h ^ lane[j], 17) * PV_SUM_P2;
  h ^= h >> 15;
  h *= PV_SUM_P1;
  h ^= h >> 13;
  return h;
}

uint32_t pv__sum_of(const pv_kernels *k, const void *data, size_t n) {
  pv_sum s;
  pv__sum_init(&s, k);
  pv__sum_update(&s, data, n);
  return pv__sum_final(&s);
}
