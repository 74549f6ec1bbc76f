/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the API as a whole: the input bytes are decoded
 * into an index's settings and then a sequence of calls (adds and batches
 * of ordinary, duplicate and extreme vectors, deletes, searches, exact
 * searches, gets, compactions, save-and-load round trips, invalid
 * arguments, upserts by key, attribute edits and filtered searches), run
 * against a model of what the index must hold: the live ids, the next id,
 * the documents' keys and one attribute.
 *
 * The target aborts (a finding) when, beyond what ASan and UBSan catch:
 *   - a call returns a status its contract does not allow, or a failure
 *     leaves no message, or changes the index (count, ids, next id);
 *   - the live ids differ from the model's, or an id is issued twice;
 *   - a search returns other than min(k, live) hits, a hit that is not
 *     live, a NaN or infinite distance, or hits out of (distance, id)
 *     order; pv_search_exact disagrees with itself on a smaller k;
 *   - pv_check fails after any call;
 *   - an index saved and loaded answers an exact search differently.
 *
 * Build and run: see fuzz/fuzz.mk (`make fuzz-ops-run`).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pocketvec.h"

#define FINDING(...)                                              \
  do {                                                            \
    fprintf(stderr, "fuzz_ops: %s:%d: ", __FILE__, __LINE__);     \
    fprintf(stderr, __VA_ARGS__);                                 \
    fprintf(stderr, "\n");                                        \
    abort();                                                      \
  } while (0)

#define MAX_DIM 8
#define MAX_IDS 512 /* ids the model tracks; more adds are skipped */
#define MAX_K 40

/* The bytes, read from the front; zeros once they run out. */
typedef struct {
  const uint8_t *p;
  size_t n;
} input;

static uint8_t byte(input *in) {
  if (!in->n) return 0;
  in->n--;
  return *in->p++;
}

/* The model: which ids are live, and the next id. */
typedef struct {
  uint8_t live[MAX_IDS];
  uint32_t next_id, count;
  int8_t c[MAX_IDS];   /* attribute c of a document, -1: none */
  int key_id[8];       /* id of key "k0".."k7", -1: none */
} model;

/* The filters of the document steps, and what they mean for attribute c
 * (-1: the document has no attributes). */
static const char *const FILTERS[] = {"c == 2", "c < 2", "not (c < 2)", "t contains \"x\"",
                                      "exists(t) and c != 1", "c in [0, 3] or c == 1"};
static int filter_holds(int f, int c) {
  switch (f) {
    case 0: return c == 2;
    case 1: return c >= 0 && c < 2;
    case 2: return !(c >= 0 && c < 2);
    case 3: return c >= 0 && c % 2 == 0;
    case 4: return c >= 0 && c != 1;
    default: return c == 0 || c == 3 || c == 1;
  }
}
/* Attributes with c = v: even ones carry the tag "x". */
static int attrs_json(int v, char *buf, size_t cap) {
  return snprintf(buf, cap, "{\"c\":%d,\"t\":[%s\"y\"],\"o\":{\"n\":null}}", v,
                  v % 2 == 0 ? "\"x\"," : "");
}

/* One element: mostly small integers (so duplicates are common), some
 * fractions, and now and then an extreme or invalid value. */
static float element(input *in) {
  uint8_t b = byte(in);
  switch (b >> 5) {
    case 0: return (float)(b & 3);             /* few distinct: duplicates */
    case 1: return (float)((int)(b & 31) - 16);
    case 2: return (float)(b & 31) / 7.0f;
    case 3: return -(float)(b & 31) / 3.0f;
    case 4: return (float)(b & 7);
    case 5: {
      static const float big[8] = {1e10f, -1e15f, 1e17f, 3e18f, 1e19f, 1e20f, -3e38f, 1e-30f};
      return big[b & 7];
    }
    case 6: return (b & 1) ? NAN : ((b & 2) ? INFINITY : -INFINITY);
    default: return 0.0f;
  }
}

static void vec(input *in, float *v, uint32_t dim) {
  for (uint32_t d = 0; d < dim; d++) v[d] = element(in);
}

static void need_msg(const pv_index *idx, const char *call) {
  const char *m = pv_errmsg(idx);
  if (!m || !m[0] || strcmp(m, "not an error") == 0) FINDING("%s failed without a message", call);
}

/* The index agrees with the model, and passes its checker. */
static void agree(pv_index *idx, const model *mo, const char *after) {
  if (pv_count(idx) != mo->count)
    FINDING("after %s: %zu live, the model has %u", after, pv_count(idx), mo->count);
  uint32_t ids[MAX_IDS];
  size_t n = pv_list_ids(idx, ids, MAX_IDS);
  if (n != mo->count) FINDING("after %s: pv_list_ids gives %zu, the model %u", after, n, mo->count);
  for (size_t i = 0; i < n; i++)
    if (ids[i] >= MAX_IDS || !mo->live[ids[i]] || (i && ids[i] <= ids[i - 1]))
      FINDING("after %s: id %u listed but not live in the model", after, ids[i]);
  int rc = pv_check(idx);
  if (rc != PV_OK) FINDING("after %s: pv_check %d: %s", after, rc, pv_errmsg(idx));
}

/* The hits of a search are min(k, live), live, finite and in order. */
static void hits_ok(const model *mo, const pv_hit *h, size_t n, size_t k, const char *what) {
  size_t want = k < mo->count ? k : mo->count;
  if (n != want) FINDING("%s: %zu hits for k %zu with %u live", what, n, k, mo->count);
  for (size_t i = 0; i < n; i++) {
    if (h[i].id >= MAX_IDS || !mo->live[h[i].id]) FINDING("%s: hit %u is not live", what, h[i].id);
    if (!isfinite(h[i].distance)) FINDING("%s: hit %zu has distance %g", what, i, (double)h[i].distance);
    if (i && (h[i].distance < h[i - 1].distance ||
              (h[i].distance == h[i - 1].distance && h[i].id <= h[i - 1].id)))
      FINDING("%s: hits %zu and %zu out of order", what, i - 1, i);
  }
}

typedef struct {
  uint8_t *buf;
  size_t len, cap;
} sink;

static int sink_write(void *ctx, const void *data, size_t len) {
  sink *s = ctx;
  if (s->len + len > s->cap) {
    size_t cap = (s->len + len) * 2;
    uint8_t *b = realloc(s->buf, cap);
    if (!b) return 1;
    s->buf = b;
    s->cap = cap;
  }
  memcpy(s->buf + s->len, data, len);
  s->len += len;
  return 0;
}

static void run(input *in) {
  pv_options o = pv_options_default();
  uint8_t h = byte(in);
  o.dim = 1 + (h & 7);
  o.metric = (pv_metric)((h >> 3) % 3);
  o.storage = (pv_storage)((h >> 5) & 3); /* f32, sq8, binary, binary-f32 */
  h = byte(in);
  o.m = 2 + (h & 7);
  o.ef_construction = 1 + (h >> 3);
  o.compact_threshold = (h & 0x80) ? 0.0f : 0.3f;
  o.seed = byte(in);
  pv_index *idx;
  if (pv_new(&o, &idx) != PV_OK) FINDING("pv_new: %s", pv_errmsg(NULL));
  model mo;
  memset(&mo, 0, sizeof mo);
  memset(mo.c, -1, sizeof mo.c);
  for (int i = 0; i < 8; i++) mo.key_id[i] = -1;
  uint32_t dim = o.dim;
  float v[MAX_DIM * 16], q[MAX_DIM];
  pv_hit hits[MAX_K], more[MAX_K];
  size_t n, nm;

  for (int step = 0; step < 200 && in->n; step++) {
    uint8_t op = byte(in);
    switch (op % 12) {
      case 0:
      case 1: { /* add one, or a batch of up to 16 (all or nothing) */
        size_t cnt = op % 9 == 0 ? 1 : 1 + (byte(in) & 15);
        if (mo.next_id + cnt > MAX_IDS) break;
        for (size_t i = 0; i < cnt; i++) vec(in, v + i * dim, dim);
        uint32_t ids[16];
        int rc = pv_add_batch(idx, v, cnt, ids);
        if (rc == PV_OK) {
          for (size_t i = 0; i < cnt; i++) {
            if (ids[i] != mo.next_id + i) FINDING("add: id %u, expected %zu", ids[i], mo.next_id + i);
            mo.live[ids[i]] = 1;
          }
          mo.next_id += (uint32_t)cnt;
          mo.count += (uint32_t)cnt;
        } else if (rc == PV_INVALID) {
          need_msg(idx, "pv_add_batch");
          pv_error_info e;
          pv_errinfo(idx, &e);
          if (e.element >= (int64_t)dim) FINDING("add: errinfo element %lld", (long long)e.element);
        } else {
          FINDING("pv_add_batch: %d %s", rc, pv_errmsg(idx));
        }
        agree(idx, &mo, "add");
        break;
      }
      case 2: { /* delete an id: live, deleted, or never issued */
        uint32_t id = byte(in) % (mo.next_id + 2);
        int rc = pv_delete(idx, id);
        int was = id < MAX_IDS && mo.live[id];
        if (was && rc != PV_OK) FINDING("delete %u: %d %s", id, rc, pv_errmsg(idx));
        if (!was && rc != PV_NOTFOUND) FINDING("delete of dead %u: %d", id, rc);
        if (!was) need_msg(idx, "pv_delete");
        if (was) mo.live[id] = 0, mo.count--;
        for (int kk = 0; was && kk < 8; kk++)
          if (mo.key_id[kk] == (int)id) mo.key_id[kk] = -1; /* its key is free again */
        agree(idx, &mo, "delete");
        break;
      }
      case 3:
      case 4: { /* search: approximate, then exact with the same and a smaller k */
        vec(in, q, dim);
        size_t k = byte(in) % (MAX_K + 1), ef = byte(in);
        int rc = pv_search(idx, q, k, ef, hits, &n);
        if (rc == PV_INVALID) {
          need_msg(idx, "pv_search");
          break;
        }
        if (rc != PV_OK) FINDING("pv_search: %d %s", rc, pv_errmsg(idx));
        hits_ok(&mo, hits, n, k, "pv_search");
        if (pv_search_exact(idx, q, k, 0, hits, &n) != PV_OK) FINDING("pv_search_exact failed");
        hits_ok(&mo, hits, n, k, "pv_search_exact");
        if (k > 1) {
          size_t k2 = k / 2;
          if (pv_search_exact(idx, q, k2, 0, more, &nm) != PV_OK) FINDING("pv_search_exact failed");
          for (size_t i = 0; i < nm; i++)
            if (more[i].id != hits[i].id || more[i].distance != hits[i].distance)
              FINDING("exact k %zu and k %zu disagree at %zu", k, k2, i);
        }
        break;
      }
      case 5: { /* get: live ids answer, others are NOTFOUND */
        uint32_t id = byte(in) % (mo.next_id + 2);
        int rc = pv_get(idx, id, q);
        int was = id < MAX_IDS && mo.live[id];
        if (was != (rc == PV_OK)) FINDING("get %u: %d, live %d", id, rc, was);
        for (uint32_t d = 0; rc == PV_OK && d < dim; d++)
          if (!isfinite(q[d])) FINDING("get %u: element %u is not finite", id, d);
        break;
      }
      case 6: {
        if (pv_compact(idx) != PV_OK) FINDING("pv_compact: %s", pv_errmsg(idx));
        agree(idx, &mo, "compact");
        size_t lost = 0; /* compaction leaves every live vector reachable */
        if (pv_check_reachable(idx, &lost) != PV_OK || lost)
          FINDING("after compact: %zu live vectors unreachable", lost);
        break;
      }
      case 7: { /* save and load: the copy answers exact searches alike */
        sink s = {NULL, 0, 0};
        if (pv_serialize(idx, sink_write, &s) != PV_OK) FINDING("pv_serialize: %s", pv_errmsg(idx));
        pv_index *y;
        if (pv_load(s.buf, s.len, PV_LOAD_COPY, &y) != PV_OK) FINDING("reload: %s", pv_errmsg(NULL));
        agree(y, &mo, "reload");
        vec(in, q, dim);
        int r1 = pv_search_exact(idx, q, MAX_K, 0, hits, &n);
        int r2 = pv_search_exact(y, q, MAX_K, 0, more, &nm);
        if (r1 != r2) FINDING("reload: exact search %d vs %d", r1, r2);
        for (size_t i = 0; r1 == PV_OK && i < n; i++)
          if (n != nm || hits[i].id != more[i].id || hits[i].distance != more[i].distance)
            FINDING("reload: exact search differs at %zu", i);
        pv_free(idx);
        idx = y; /* go on with the loaded copy */
        free(s.buf);
        break;
      }
      case 9: { /* upsert by key: a replaced document's id dies, a new one is issued */
        if (mo.next_id + 1 > MAX_IDS) break;
        uint8_t b = byte(in);
        int key = b & 7, cval = (b >> 3) & 3, with = !(b & 0x20);
        char name[4] = {'k', (char)('0' + key), 0, 0}, json[96];
        int jl = attrs_json(cval, json, sizeof json);
        vec(in, v, dim);
        pv_doc d = {name, 2, v, with ? json : NULL, with ? (size_t)jl : 0, 0, NULL, 0};
        uint32_t id;
        int rc;
        if (b & 0x40) {
          /* Through a batch (pv_batch_*): a rejected add leaves it as it
           * was, and the commit is the upsert. */
          pv_batch *bt;
          if (pv_batch_new(idx, &bt) != PV_OK) FINDING("pv_batch_new: %s", pv_errmsg(idx));
          rc = pv_batch_add(bt, &d);
          if (pv_batch_count(bt) != (rc == PV_OK)) FINDING("pv_batch_add %d: count %zu", rc, pv_batch_count(bt));
          if (rc == PV_OK) rc = pv_batch_commit(bt, &id);
          if (rc == PV_OK && pv_batch_count(bt)) FINDING("a committed batch is not empty");
          pv_batch_free(bt);
        } else {
          rc = pv_upsert(idx, &d, &id);
        }
        if (rc == PV_INVALID) {
          need_msg(idx, "pv_upsert");
          break;
        }
        if (rc != PV_OK) FINDING("pv_upsert: %d %s", rc, pv_errmsg(idx));
        if (id != mo.next_id) FINDING("upsert: id %u, expected %u", id, mo.next_id);
        if (mo.key_id[key] >= 0) mo.live[mo.key_id[key]] = 0, mo.count--;
        mo.key_id[key] = (int)id;
        mo.live[id] = 1;
        mo.c[id] = (int8_t)(with ? cval : -1);
        mo.next_id++;
        mo.count++;
        agree(idx, &mo, "upsert");
        break;
      }
      case 10: { /* filtered searches: min(k, matches) hits, all matching */
        vec(in, q, dim);
        uint8_t b = byte(in);
        int fi = b % 6;
        size_t k = byte(in) % (MAX_K + 1), ef = byte(in);
        pv_filter *f;
        if (pv_filter_compile(idx, FILTERS[fi], strlen(FILTERS[fi]), &f) != PV_OK)
          FINDING("compile %s: %s", FILTERS[fi], pv_errmsg(idx));
        uint32_t match = 0;
        for (uint32_t id = 0; id < mo.next_id; id++) match += mo.live[id] && filter_holds(fi, mo.c[id]);
        size_t cnt;
        if (pv_find(idx, f, NULL, 0, &cnt) != PV_OK || cnt != match)
          FINDING("%s: pv_find %zu, the model %u", FILTERS[fi], cnt, match);
        for (int exact = 0; exact < 2; exact++) {
          int rc = exact ? pv_search_exact_filter(idx, q, k, ef, f, hits, &n)
                         : pv_search_filter(idx, q, k, ef, f, hits, &n);
          if (rc == PV_INVALID) {
            need_msg(idx, "pv_search_filter");
            break;
          }
          if (rc != PV_OK) FINDING("pv_search_filter: %d %s", rc, pv_errmsg(idx));
          size_t want = k < match ? k : match;
          if (n != want) FINDING("%s: %zu hits, want %zu (exact %d)", FILTERS[fi], n, want, exact);
          for (size_t i = 0; i < n; i++)
            if (hits[i].id >= MAX_IDS || !mo.live[hits[i].id] ||
                !filter_holds(fi, mo.c[hits[i].id]))
              FINDING("%s: hit %u does not match (exact %d)", FILTERS[fi], hits[i].id, exact);
        }
        pv_filter_free(f);
        break;
      }
      case 11: { /* attributes replaced or merged; a key deleted */
        uint8_t b = byte(in);
        uint32_t id = byte(in) % (mo.next_id + 2);
        int live = id < MAX_IDS && mo.live[id];
        if (b & 1) {
          int key = (b >> 1) & 7;
          char name[3] = {'k', (char)('0' + key), 0};
          int rc = pv_delete_key(idx, name, 2);
          int had = mo.key_id[key] >= 0;
          if (had != (rc == PV_OK)) FINDING("delete_key %s: %d, model %d", name, rc, had);
          if (had) mo.live[mo.key_id[key]] = 0, mo.count--, mo.key_id[key] = -1;
        } else {
          char json[96];
          int cval = (b >> 1) & 3, jl = attrs_json(cval, json, sizeof json);
          unsigned flags = (b >> 3) & 1 ? PV_ATTR_MERGE : PV_ATTR_REPLACE;
          int rc = pv_set_attributes(idx, id, json, (size_t)jl, flags);
          if (live != (rc == PV_OK)) FINDING("set_attributes %u: %d, live %d", id, rc, live);
          if (live) mo.c[id] = (int8_t)cval;
        }
        agree(idx, &mo, "attributes");
        break;
      }
      default: { /* invalid arguments change nothing */
        size_t before = pv_count(idx);
        if (pv_search(idx, q, 1, PV_MAX_EF + 1u, hits, &n) != PV_INVALID) FINDING("ef too large");
        need_msg(idx, "pv_search");
        if (pv_search(idx, q, 1, 0, NULL, NULL) != PV_INVALID) FINDING("n_out NULL");
        if (pv_add(idx, NULL, NULL) != PV_INVALID) FINDING("add NULL");
        if (pv_count(idx) != before) FINDING("an invalid call changed the count");
        break;
      }
    }
  }
  agree(idx, &mo, "the end");
  pv_free(idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  input in = {data, size};
  run(&in);
  return 0;
}
