/* SPDX-License-Identifier: MIT */
/*
 * The WebAssembly export layer: thin glue between the JS package (js/) and
 * include/pocketvec.h. Nothing here knows the index's internals.
 *
 * Why glue at all, when most of the C API could be exported as is:
 *   - JS knows the length of every array it passes and C does not, so each
 *     call that takes a vector takes its length too and runs pv_check_dim
 *     first: a wrong dimension becomes PV_DIM with the library's message,
 *     never an out-of-bounds read.
 *   - pv_options is a struct whose layout JS would have to mirror, with
 *     enums whose values JS would have to copy. JS sets options by name
 *     instead (pvw_option_set), metric and storage by the names of their
 *     values, on options that start from pv_options_default(), so the
 *     defaults live in one place (the core); it reads back what an Index
 *     shows, metric and storage again by name. Only the status codes cross
 *     as numbers: they are the public ABI. Rejected: one call taking every
 *     field as a positional argument plus a bitmask of those given, which
 *     tied JS to C's enum values and to the order of the arguments; and
 *     messages for rejected options here, which would need a message
 *     buffer in the glue (0.3 KB gzip) to say what JS, which checks every
 *     value before C sees it, already says.
 *   - JS passes strings as UTF-8 bytes and their length, never
 *     NUL-terminated, so no call scans memory JS did not write.
 * The functions that already have scalar arguments (pv_free, pv_errmsg,
 * pv_count, pv_delete, ...) are exported unchanged by the linker, as are
 * libc's malloc and free, which JS uses for its buffers in WASM memory.
 *
 * Every call that can fail returns a status code or NULL like the C API;
 * the message is then pv_errmsg(idx), or pv_errmsg(NULL) for pvw_new_from
 * and pvw_load.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pocketvec.h"

#define PVW_EXPORT(name) __attribute__((export_name(#name), visibility("default")))

/* ---- options by name ------------------------------------------------------ */

/* The names of the enums' values, as the JS API spells them: index =
 * value. Only C maps between the two. */
static const char *const METRIC_NAMES[] = {[PV_COSINE] = "cosine", [PV_L2] = "l2", [PV_DOT] = "dot"};
static const char *const STORAGE_NAMES[] = {[PV_F32] = "f32", [PV_SQ8] = "sq8", [PV_BINARY] = "binary",
                                            [PV_BINARY_F32] = "binary-f32"};
#define COUNT(a) (sizeof(a) / sizeof *(a))

/* Whether the len bytes at s spell want (NUL-terminated). */
static int is(const char *s, size_t len, const char *want) {
  for (size_t i = 0; i < len; i++)
    if (s[i] != want[i] || !want[i]) return 0;
  return want[len] == '\0';
}

/* The index in names[] (n of them) of the len bytes at s, or -1. */
static int lookup(const char *const *names, size_t n, const char *s, size_t len) {
  for (size_t i = 0; i < n; i++)
    if (is(s, len, names[i])) return (int)i;
  return -1;
}

/* New options holding pv_options_default(), for pvw_option_set and then
 * pvw_new_from, which frees them (or free() them to give up). NULL when
 * out of memory. */
PVW_EXPORT(pvw_options_new)
pv_options *pvw_options_new(void) {
  pv_options *o = malloc(sizeof *o);
  if (o) *o = pv_options_default();
  return o;
}

/* Set option name (name_len bytes; C's names, as in pv_options) of o.
 * The integers take u and compact_threshold takes f: numbers cross as the
 * field's own type, so the engine converts JS's number (never undefined
 * behaviour), and JS, which checks it first, writes the messages. metric
 * and storage take text (text_len bytes), the name of their value ("l2",
 * "sq8"); seed takes text too, one or more decimal digits, since no JS
 * number holds every 64-bit seed. PV_INVALID for another name, or text
 * that names no value; o is then unchanged. Ranges are pv_new's to check,
 * so its messages are the same from C and JS. */
PVW_EXPORT(pvw_option_set)
int pvw_option_set(pv_options *o, const char *name, size_t name_len, const char *text,
                   size_t text_len, uint32_t u, float f) {
  int i;
  if (is(name, name_len, "dim")) o->dim = u;
  else if (is(name, name_len, "m")) o->m = u;
  else if (is(name, name_len, "ef_construction")) o->ef_construction = u;
  else if (is(name, name_len, "ef_search")) o->ef_search = u;
  else if (is(name, name_len, "capacity")) o->capacity = u;
  else if (is(name, name_len, "text")) o->text = u;
  else if (is(name, name_len, "compact_threshold")) o->compact_threshold = f;
  else if (is(name, name_len, "metric")) {
    if ((i = lookup(METRIC_NAMES, COUNT(METRIC_NAMES), text, text_len)) < 0) return PV_INVALID;
    o->metric = (pv_metric)i;
  } else if (is(name, name_len, "storage")) {
    if ((i = lookup(STORAGE_NAMES, COUNT(STORAGE_NAMES), text, text_len)) < 0) return PV_INVALID;
    o->storage = (pv_storage)i;
  } else if (is(name, name_len, "seed") && text_len) {
    uint64_t seed = 0;
    for (size_t k = 0; k < text_len; k++) {
      unsigned d = (unsigned char)text[k] - '0';
      if (d > 9 || seed > (UINT64_MAX - d) / 10) return PV_INVALID;
      seed = seed * 10 + d;
    }
    o->seed = seed;
  } else {
    return PV_INVALID;
  }
  return PV_OK;
}

/* Create an index from o, and free o either way. Returns the index (free
 * with pv_free), or NULL with the reason in pv_errcode(NULL) /
 * pv_errmsg(NULL). */
PVW_EXPORT(pvw_new_from)
pv_index *pvw_new_from(pv_options *o) {
  pv_index *idx = NULL;
  pv_new(o, &idx);
  free(o);
  return idx;
}

/* The settings an Index shows: dim, and the names of the metric and the
 * storage ("l2", "sq8"; static strings). JS reads them back from C, so the
 * defaults live in C alone, and a loaded index brings its own. */
PVW_EXPORT(pvw_dim)
uint32_t pvw_dim(const pv_index *idx) {
  pv_options o;
  pv_get_options(idx, &o);
  return o.dim;
}

PVW_EXPORT(pvw_metric)
const char *pvw_metric(const pv_index *idx) {
  pv_options o;
  pv_get_options(idx, &o);
  return METRIC_NAMES[o.metric];
}

PVW_EXPORT(pvw_storage)
const char *pvw_storage(const pv_index *idx) {
  pv_options o;
  pv_get_options(idx, &o);
  return STORAGE_NAMES[o.storage];
}

/* ---- vectors and search --------------------------------------------------- */

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

/* Search for the k nearest to q (len floats) among the live documents
 * that match f (NULL: all): graph search, or brute force when exact is
 * non-zero. Hits go to out (room for min(k, live) hits: the search never
 * returns more than the live count), their number to *n_out. */
PVW_EXPORT(pvw_search)
int pvw_search(pv_index *idx, const float *q, size_t len, size_t k, size_t ef, int exact,
               const pv_filter *f, pv_hit *out, size_t *n_out) {
  *n_out = 0;
  int rc = pv_check_dim(idx, len);
  if (rc) return rc;
  return exact ? pv_search_exact_filter(idx, q, k, ef, f, out, n_out)
               : pv_search_filter(idx, q, k, ef, f, out, n_out);
}

/* Copy the vector of id into out (room for len floats). */
PVW_EXPORT(pvw_get)
int pvw_get(pv_index *idx, uint32_t id, float *out, size_t len) {
  int rc = pv_check_dim(idx, len);
  return rc ? rc : pv_get(idx, id, out);
}

/* ---- documents ------------------------------------------------------------ */

/* JS's upsert and upsertBatch go through a batch (pv_batch_*), one
 * document at a time, so that no more than one document's text is in this
 * memory at once (a large import's texts would otherwise all be, beside
 * the index they become). */
PVW_EXPORT(pvw_batch_new)
pv_batch *pvw_batch_new(pv_index *idx) {
  pv_batch *b = NULL;
  pv_batch_new(idx, &b);
  return b;
}

/* pv_batch_add of a document: its vector of len floats at v (borrowed
 * until the commit), its key's UTF-8 bytes (NULL: no key), its attributes
 * in the encoding (PV_ATTR_ENCODED; NULL: none) and its text's UTF-8 bytes
 * (NULL: none), each with its length. The caller owns all. */
PVW_EXPORT(pvw_batch_add)
int pvw_batch_add(pv_batch *b, pv_index *idx, const float *v, size_t len, const char *key,
                  size_t key_len, const char *at, size_t at_len, const char *tx, size_t tx_len) {
  int rc = pv_check_dim(idx, len);
  if (rc) return rc;
  pv_doc d = {key, key_len, v, at, at_len, PV_ATTR_ENCODED, tx, tx_len};
  return pv_batch_add(b, &d);
}

/* pv_query_run with the query's fields as arguments: q (len floats; NULL:
 * no vector), text (text_len bytes; NULL: none), flags 1: prefix, 2:
 * exact. Hits to out (room for k pv_match), their number to *n_out. */
PVW_EXPORT(pvw_query)
int pvw_query(pv_index *idx, const float *q, size_t len, const char *text, size_t text_len,
              size_t k, size_t ef, const pv_filter *f, unsigned flags, int fusion, float k1,
              float b, float rrf_k, float w_vector, float w_text, size_t window, pv_match *out,
              size_t *n_out) {
  *n_out = 0;
  if (q) {
    int rc = pv_check_dim(idx, len);
    if (rc) return rc;
  }
  pv_query x = {q, text, text_len, k, ef, f, (int)(flags & 1), (int)(flags >> 1 & 1), k1, b,
                (pv_fusion)fusion, rrf_k, w_vector, w_text, window};
  return pv_query_run(idx, &x, out, n_out);
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

/* A buffer that is always there, for exports at the memory limit: when
 * not even a chunk buffer can be allocated, the glue reads the export
 * through this, PVW_RESERVE bytes at a time, so an index that can no
 * longer grow can still be saved. Zero-filled static data costs no bytes
 * in the module (it is not in a data segment). JS is single-threaded and
 * copies each piece out before it reads the next, so one is enough. */
#define PVW_RESERVE (64 * 1024)
static uint8_t reserve[PVW_RESERVE] __attribute__((aligned(16)));

PVW_EXPORT(pvw_reserve)
void *pvw_reserve(void) { return reserve; }

/* Bytes [offset, offset + len) of the export into buf. */
PVW_EXPORT(pvw_export_read)
int pvw_export_read(pv_export *e, uint32_t offset, void *buf, size_t len) {
  return pv_export_read(e, offset, buf, len);
}

PVW_EXPORT(pvw_export_end)
void pvw_export_end(pv_export *e) { pv_export_end(e); }

/* ---- incremental saves: the change log ------------------------------------- */
/* 64-bit counts cross as doubles (exact below 2^53: positions and sizes in
 * bytes, microseconds); the base tag, which JS only hands back, as two u32. */

/* The tag of the export's file into out[0] (low) and out[1] (high). */
PVW_EXPORT(pvw_export_tag)
int pvw_export_tag(pv_export *e, uint32_t *out) {
  uint64_t tag = 0;
  int rc = pv_export_tag(e, &tag);
  out[0] = (uint32_t)tag;
  out[1] = (uint32_t)(tag >> 32);
  return rc;
}

/* pv_log_state as ten doubles: next_seq, end, records, cost_us, mark,
 * pending_ops, pending_bytes, changes, recording, whether there is a base. */
PVW_EXPORT(pvw_log_state)
void pvw_log_state(const pv_index *idx, double *out) {
  pv_log_info li;
  pv_log_state(idx, &li);
  double v[10] = {(double)li.next_seq, (double)li.end, (double)li.records, (double)li.cost_us,
                  (double)li.mark, (double)li.pending_ops, (double)li.pending_bytes,
                  (double)li.changes, li.recording, li.base_tag != 0};
  for (int i = 0; i < 10; i++) out[i] = v[i];
}

PVW_EXPORT(pvw_log_record)
int pvw_log_record(pv_index *idx, double mark, double cost_us, void *buf, size_t cap,
                   size_t *len_out) {
  return pv_log_record(idx, (uint64_t)mark, (uint64_t)cost_us, buf, cap, len_out);
}

PVW_EXPORT(pvw_log_worth)
int pvw_log_worth(const pv_index *idx, double mark, double pending_us, double load_us,
                  double record_us, double ratio) {
  return pv_log_worth(idx, (uint64_t)mark, pending_us, load_us, record_us, ratio);
}

PVW_EXPORT(pvw_log_appended)
int pvw_log_appended(pv_index *idx, double mark, double len, double cost_us) {
  return pv_log_appended(idx, (uint64_t)mark, (uint64_t)len, (uint64_t)cost_us);
}

PVW_EXPORT(pvw_log_rebase)
int pvw_log_rebase(pv_index *idx, double mark, double changes, uint32_t tag_lo, uint32_t tag_hi,
                   double size) {
  return pv_log_rebase(idx, (uint64_t)mark, (uint64_t)changes,
                       (uint64_t)tag_lo | (uint64_t)tag_hi << 32, (uint64_t)size);
}
