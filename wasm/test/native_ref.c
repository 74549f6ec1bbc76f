/* SPDX-License-Identifier: MIT */
/*
 * Native reference for js/test/native.test.mjs: runs one scenario with the
 * native library and writes the results, so the test can check that the
 * WASM build returns the same ids and distances for the same seed and data.
 *
 * Input on stdin, little-endian:
 *   u32 dim, metric, storage, m, ef_construction, ef_search, seed_lo,
 *       seed_hi, n, nq, k, ef, ndel, compact
 *   f32 base[n * dim], queries[nq * dim]
 *   u32 del[ndel]          ids deleted after the inserts, in order
 * Steps: pv_add_batch of the base, the deletes, pv_compact if compact != 0,
 * then per query pv_search(k, ef) and pv_search_exact(k).
 * Output on stdout: u32 ids[n]; then per query and per search: u32 count,
 * then count * (u32 id, f32 distance); then u32 live, u32 deleted.
 * Any failure: the library's message on stderr and exit status 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pocketvec.h"

static void die(const char *what, const char *msg) {
  fprintf(stderr, "native_ref: %s: %s\n", what, msg);
  exit(1);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die("malloc", "out of memory");
  return p;
}

static void get(void *p, size_t size) {
  if (size && fread(p, 1, size, stdin) != size) die("stdin", "input is short");
}

static void put(const void *p, size_t size) {
  if (size && fwrite(p, 1, size, stdout) != size) die("stdout", "write failed");
}

static void put_hits(const pv_hit *hits, size_t n) {
  uint32_t c = (uint32_t)n;
  put(&c, 4);
  for (size_t i = 0; i < n; i++) {
    put(&hits[i].id, 4);
    put(&hits[i].distance, 4);
  }
}

int main(void) {
  uint32_t h[14];
  get(h, sizeof h);
  pv_options o = pv_options_default();
  o.dim = h[0];
  o.metric = (pv_metric)h[1];
  o.storage = (pv_storage)h[2];
  o.m = h[3];
  o.ef_construction = h[4];
  o.ef_search = h[5];
  o.seed = (uint64_t)h[7] << 32 | h[6];
  size_t n = h[8], nq = h[9], k = h[10], ef = h[11], ndel = h[12];
  float *base = xmalloc(sizeof(float) * n * o.dim);
  float *queries = xmalloc(sizeof(float) * nq * o.dim);
  uint32_t *del = xmalloc(sizeof(uint32_t) * ndel);
  uint32_t *ids = xmalloc(sizeof(uint32_t) * n);
  pv_hit *hits = xmalloc(sizeof(pv_hit) * (k ? k : 1));
  get(base, sizeof(float) * n * o.dim);
  get(queries, sizeof(float) * nq * o.dim);
  get(del, sizeof(uint32_t) * ndel);

  pv_index *idx;
  if (pv_new(&o, &idx)) die("pv_new", pv_errmsg(NULL));
  if (pv_add_batch(idx, base, n, ids)) die("pv_add_batch", pv_errmsg(idx));
  put(ids, sizeof(uint32_t) * n);
  for (size_t i = 0; i < ndel; i++)
    if (pv_delete(idx, del[i])) die("pv_delete", pv_errmsg(idx));
  if (h[13] && pv_compact(idx)) die("pv_compact", pv_errmsg(idx));
  if (pv_check(idx)) die("pv_check", pv_errmsg(idx));
  for (size_t q = 0; q < nq; q++) {
    size_t got;
    if (pv_search(idx, queries + q * o.dim, k, ef, hits, &got)) die("pv_search", pv_errmsg(idx));
    put_hits(hits, got);
    if (pv_search_exact(idx, queries + q * o.dim, k, 0, hits, &got))
      die("pv_search_exact", pv_errmsg(idx));
    put_hits(hits, got);
  }
  uint32_t tail[2] = {(uint32_t)pv_count(idx), (uint32_t)pv_deleted_count(idx)};
  put(tail, sizeof tail);
  fprintf(stderr, "native_ref: kernels %s\n", pv_kernels_name());
  pv_free(idx);
  free(base);
  free(queries);
  free(del);
  free(ids);
  free(hits);
  return 0;
}
