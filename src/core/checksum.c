/* SPDX-License-Identifier: MIT */
/*
 * CRC-32C (Castagnoli), the checksum of format version 1: with the CPU's
 * instruction where the kernel set has one (pv_kernels.crc32c), else
 * slice-by-16 tables. The tables (16 KB) are built for each use in memory
 * from the caller's allocator: not on the stack, which is 64 KB in
 * WebAssembly, and not as 16 KB of incompressible constants in the module.
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
   * eight bytes a step. */
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

int pv__crc32c_tables(uint32_t state, const void *data, size_t n, uint32_t *out) {
  pv_crc c;
  pv_allocator a = pv__default_allocator();
  if (pv__crc_open(&c, &a, 0) != PV_OK) return PV_NOMEM;
  *out = pv__crc_update(&c, state, data, n);
  pv__crc_close(&c);
  return PV_OK;
}
