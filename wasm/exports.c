/*
 * The WebAssembly export layer: thin glue between the JS package (js/) and
 * include/pocketvec.h. Nothing here knows the index's internals.
 *
 * Why glue at all, when most of the C API could be exported as is:
 *   - JS knows the length of every array it passes and C does not, so each
 *     call that takes a vector takes its length too and runs pv_check_dim
 *     first: a wrong dimension becomes PV_DIM with the library's message,
 *     never an out-of-bounds read.
 *   - pv_options is a struct whose layout JS would have to mirror; pvw_new
 *     takes its fields as arguments instead, starting from
 *     pv_options_default() so the defaults live in one place (the core).
 *   - 64-bit values cross as two 32-bit halves, which every JS engine
 *     handles without BigInt.
 * The functions that already have scalar arguments (pv_free, pv_errmsg,
 * pv_count, pv_delete, ...) are exported unchanged by the linker, as are
 * libc's malloc and free, which JS uses for its buffers in WASM memory.
 *
 * Every function returns a status code like the C API; the message is then
 * pv_errmsg(idx), or pv_errmsg(NULL) for pvw_new.
 */
#include <stddef.h>
#include <stdint.h>

#include "pocketvec.h"

#define PVW_EXPORT(name) __attribute__((export_name(#name), visibility("default")))

/* Which optional fields of pvw_new the caller set; the others keep the
 * defaults of pv_options_default(). */
enum {
  PVW_METRIC = 1 << 0,
  PVW_STORAGE = 1 << 1,
  PVW_M = 1 << 2,
  PVW_EF_CONSTRUCTION = 1 << 3,
  PVW_EF_SEARCH = 1 << 4,
  PVW_SEED = 1 << 5,
  PVW_CAPACITY = 1 << 6,
  PVW_COMPACT_THRESHOLD = 1 << 7
};

/* Create an index. Returns it (free with pv_free), or NULL with the reason
 * in pv_errcode(NULL) / pv_errmsg(NULL). */
PVW_EXPORT(pvw_new)
pv_index *pvw_new(uint32_t given, uint32_t dim, uint32_t metric, uint32_t storage, uint32_t m,
                  uint32_t ef_construction, uint32_t ef_search, uint32_t seed_lo,
                  uint32_t seed_hi, uint32_t capacity, float compact_threshold) {
  pv_options o = pv_options_default();
  o.dim = dim;
  if (given & PVW_METRIC) o.metric = (pv_metric)metric;
  if (given & PVW_STORAGE) o.storage = (pv_storage)storage;
  if (given & PVW_M) o.m = m;
  if (given & PVW_EF_CONSTRUCTION) o.ef_construction = ef_construction;
  if (given & PVW_EF_SEARCH) o.ef_search = ef_search;
  if (given & PVW_SEED) o.seed = (uint64_t)seed_hi << 32 | seed_lo;
  if (given & PVW_CAPACITY) o.capacity = capacity;
  if (given & PVW_COMPACT_THRESHOLD) o.compact_threshold = compact_threshold;
  pv_index *idx = NULL;
  pv_new(&o, &idx);
  return idx;
}

/* Add one vector of len floats (caller owns v); its id goes to *id_out. */
PVW_EXPORT(pvw_add)
int pvw_add(pv_index *idx, const float *v, size_t len, uint32_t *id_out) {
  int rc = pv_check_dim(idx, len);
  return rc ? rc : pv_add(idx, v, id_out);
}

/* Add n vectors of len floats each, back to back in v; n ids to ids_out.
 * All or nothing, as pv_add_batch. */
PVW_EXPORT(pvw_add_batch)
int pvw_add_batch(pv_index *idx, const float *v, size_t len, size_t n, uint32_t *ids_out) {
  int rc = pv_check_dim(idx, len);
  return rc ? rc : pv_add_batch(idx, v, n, ids_out);
}

/* Search for the k nearest to q (len floats): graph search, or brute force
 * when exact is non-zero. Hits go to out (room for min(k, live) hits: the
 * search never returns more than the live count), their number to *n_out. */
PVW_EXPORT(pvw_search)
int pvw_search(pv_index *idx, const float *q, size_t len, size_t k, size_t ef, int exact,
               pv_hit *out, size_t *n_out) {
  *n_out = 0;
  int rc = pv_check_dim(idx, len);
  if (rc) return rc;
  return exact ? pv_search_exact(idx, q, k, ef, out, n_out)
               : pv_search(idx, q, k, ef, out, n_out);
}

/* Copy the vector of id into out (room for len floats). */
PVW_EXPORT(pvw_get)
int pvw_get(pv_index *idx, uint32_t id, float *out, size_t len) {
  int rc = pv_check_dim(idx, len);
  return rc ? rc : pv_get(idx, id, out);
}

/* ---- persistence ---------------------------------------------------------- */

/* Load an index from len bytes at buf, which JS allocated with malloc: on
 * success the index owns buf (PV_LOAD_TAKE: the vectors are used in place);
 * on failure NULL, JS still owns buf, and pv_errmsg(NULL) says why. */
PVW_EXPORT(pvw_load)
pv_index *pvw_load(void *buf, size_t len) {
  pv_index *idx = NULL;
  pv_load(buf, len, PV_LOAD_TAKE, &idx);
  return idx;
}

/* The settings JS needs to describe a loaded index: out gets dim, metric,
 * storage, m, ef_construction, ef_search. */
PVW_EXPORT(pvw_options)
void pvw_options(const pv_index *idx, uint32_t *out) {
  pv_options o;
  pv_get_options(idx, &o);
  out[0] = o.dim;
  out[1] = (uint32_t)o.metric;
  out[2] = (uint32_t)o.storage;
  out[3] = o.m;
  out[4] = o.ef_construction;
  out[5] = o.ef_search;
}

/* Begin an export; NULL on failure (message in pv_errmsg(idx)). */
PVW_EXPORT(pvw_export_begin)
pv_export *pvw_export_begin(pv_index *idx) {
  pv_export *e = NULL;
  pv_export_begin(idx, &e);
  return e;
}

/* The export's size. An index in wasm32 memory serializes to under 4 GiB. */
PVW_EXPORT(pvw_export_size)
uint32_t pvw_export_size(const pv_export *e) {
  uint64_t n = pv_export_size(e);
  return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* Bytes [offset, offset + len) of the export into buf. */
PVW_EXPORT(pvw_export_read)
int pvw_export_read(pv_export *e, uint32_t offset, void *buf, size_t len) {
  return pv_export_read(e, offset, buf, len);
}

PVW_EXPORT(pvw_export_end)
void pvw_export_end(pv_export *e) { pv_export_end(e); }
