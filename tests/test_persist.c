/* SPDX-License-Identifier: MIT */
/*
 * Persistence (src/persist.c, docs/FORMAT.md): pv_serialize, pv_load and
 * pv_verify.
 *
 *   - Round trips for every metric x storage, in the shapes that stress the
 *     format (tombstones, compacted, empty, all deleted, one vector, dim 1 and
 *     17, m 2 and 128): the loaded index answers byte for byte as the saved
 *     one, then goes on issuing the same ids and building the same graph, so
 *     after the same writes both serialize to the same bytes.
 *   - The load modes: COPY (the buffer is freed at once), BORROW (the buffer
 *     is never written, however the index changes), TAKE (the index frees
 *     the buffer: ASan and a counting allocator catch a leak or double free)
 *     and a misaligned buffer.
 *   - Streaming: the pieces add up to pv_serialize_to's bytes, a writer that
 *     stops gives PV_ERROR and an unchanged index, a small buffer PV_FULL;
 *     an export (pv_export_*) gives the same bytes in chunks in any order.
 *   - Hostile bytes: every single-bit flip and every truncation of a small
 *     file, trailing bytes, a newer version, and crafted files whose
 *     checksums are right but whose content is not. The test computes
 *     CRC-32C itself (bit by bit, from the definition in FORMAT.md) to
 *     rewrite the checksums of the crafted files.
 *   - Fault injection: pv_load with the Nth allocation failing, and the
 *     writes that copy borrowed blocks (PV_NOMEM must leave the index as it
 *     was, byte for byte).
 */
#include <stdlib.h>

#include "pvfile.h"
#include "test.h"

static const char *const METRIC_NAME[] = {"cosine", "l2", "dot"};
static const char *const STORAGE_NAME[] = {"F32", "SQ8", "binary", "binary-F32"};
static const char *const MODE_NAME[] = {"COPY", "BORROW", "TAKE"};

/* ======================================================================== */
/* The file layout (fields and checksums: pvfile.h)                         */
/* ======================================================================== */

enum { K_VEC = 1, K_L0, K_UP, K_SQ8, K_IDS, K_LEV, K_DEL, K_DOCS, K_TEXT, K_TWINS, K_CENTRE, K_WALK, K_END };

/* Where things are in a valid file (read from its header and table). */
typedef struct fview {
  uint32_t dim, metric, storage, m, n, live, next_id, entry, count;
  int32_t max_level;
  uint64_t file_size, toff;
  uint64_t off[K_END], len[K_END]; /* by kind */
  uint32_t ent[K_END];             /* table entry of each kind */
} fview;

static void fview_read(const uint8_t *b, fview *f) {
  memset(f, 0, sizeof *f);
  f->file_size = rd64(b + 16);
  f->dim = rd32(b + 24);
  f->metric = rd32(b + 28);
  f->storage = rd32(b + 32);
  f->m = rd32(b + 36);
  f->n = rd32(b + 60);
  f->live = rd32(b + 64);
  f->next_id = rd32(b + 68);
  f->entry = rd32(b + 72);
  f->max_level = (int32_t)rd32(b + 76);
  f->toff = rd64(b + 88);
  f->count = rd32(b + 96);
  for (uint32_t i = 0; i < f->count && i < K_END; i++) {
    const uint8_t *e = b + f->toff + 32 * (size_t)i;
    uint32_t k = rd32(e);
    if (k > 0 && k < K_END) {
      f->off[k] = rd64(e + 8);
      f->len[k] = rd64(e + 16);
      f->ent[k] = i;
    }
  }
}

static uint8_t *table_entry(uint8_t *b, const fview *f, uint32_t i) { return b + f->toff + 32 * (size_t)i; }
/* Layer-0 list of slot s: count, then 2m words. */
static uint8_t *list0(uint8_t *b, const fview *f, uint32_t s) {
  return b + f->off[K_L0] + 4 * (size_t)s * (1 + 2 * (size_t)f->m);
}
static unsigned level_of(const uint8_t *b, const fview *f, uint32_t s) { return b[f->off[K_LEV] + s]; }
/* List of slot s on level l >= 1: count, then m words. */
static uint8_t *list_up(uint8_t *b, const fview *f, uint32_t s, unsigned l) {
  size_t o = f->off[K_UP], w = 1 + (size_t)f->m;
  for (uint32_t t = 0; t < s; t++) o += 4 * w * level_of(b, f, t);
  return b + o + 4 * w * (l - 1);
}
#define WORD(list, i) ((list) + 4 * (size_t)(i))

/* A message a user can act on: present, and not the success text. */
static int msg_ok(const char *m) { return m && m[0] && strcmp(m, "not an error") != 0; }

static uint8_t *dup_bytes(const uint8_t *b, size_t len) {
  uint8_t *c = tu_xmalloc(len);
  if (len) memcpy(c, b, len);
  return c;
}

/* ======================================================================== */
/* Indexes to save                                                          */
/* ======================================================================== */

typedef struct spec {
  const char *name;
  pv_metric metric;
  pv_storage storage;
  uint32_t dim, m, ef_c, n, ndel;
  int compact;     /* pv_compact after the deletes */
  float threshold; /* compact_threshold */
} spec;

/* n random vectors (half as one batch, half one by one), then ndel deletes
 * (all of them in order when ndel >= n), then pv_compact if asked. */
static pv_index *make_index(const spec *sp, uint64_t seed) {
  pv_options o = tu_opts(sp->dim, sp->metric, sp->storage);
  o.m = sp->m;
  o.ef_construction = sp->ef_c;
  o.ef_search = 20;
  o.compact_threshold = sp->threshold;
  o.seed = seed * 1000003u + 17;
  pv_index *idx = NULL;
  int rc = pv_new(&o, &idx);
  if (rc != PV_OK) {
    tu_fail(__FILE__, __LINE__, "%s: pv_new: %d %s", sp->name, rc, pv_errmsg(NULL));
    return NULL;
  }
  size_t dim = sp->dim;
  float *v = tu_xmalloc(sizeof(float) * dim * (sp->n ? sp->n : 1));
  uint64_t s = seed;
  tu_rand_vec(&s, v, dim * sp->n);
  uint32_t half = sp->n / 2;
  rc = pv_add_batch(idx, v, half, NULL);
  for (uint32_t i = half; rc == PV_OK && i < sp->n; i++) rc = pv_add(idx, v + i * dim, NULL);
  for (uint32_t i = 0; rc == PV_OK && i < sp->ndel && pv_count(idx); i++) {
    uint32_t id = i;
    if (sp->ndel < sp->n)
      do id = tu_below(&s, sp->n); while (!pv_contains(idx, id));
    rc = pv_delete(idx, id);
  }
  if (rc == PV_OK && sp->compact) rc = pv_compact(idx);
  free(v);
  if (rc != PV_OK) {
    tu_fail(__FILE__, __LINE__, "%s: building: %d %s", sp->name, rc, pv_errmsg(idx));
    pv_free(idx);
    return NULL;
  }
  return idx;
}

/* The serialized bytes of idx (malloc'd, caller frees). */
static uint8_t *ser(pv_index *idx, size_t *len) {
  size_t need = pv_serialized_size(idx), got = 0;
  uint8_t *b = tu_xmalloc(need);
  int rc = pv_serialize_to(idx, b, need, &got);
  if (rc != PV_OK || got != need)
    tu_fail(__FILE__, __LINE__, "pv_serialize_to: %d (%s), %zu of %zu bytes", rc, pv_errmsg(idx),
            got, need);
  *len = need;
  return b;
}

/* ======================================================================== */
/* Comparing two indexes                                                    */
/* ======================================================================== */

/* Same options (capacity aside: a hint the file does not keep), counts, live
 * ids, stored vectors (bit for bit, and the same answer for deleted and
 * unknown ids), graph and exact search results for several k and ef (ids
 * and distances, memcmp), pv_check on both, and the same serialized bytes.
 * Records failures at file:line; returns 1 if all held. */
static int same_index_at(const char *file, int line, const char *what, pv_index *a, pv_index *b) {
  int fails = tu_failures;
#define SAME(cond, ...)                           \
  do {                                            \
    if (!(cond)) tu_fail(file, line, __VA_ARGS__); \
  } while (0)
  pv_options oa, ob;
  pv_get_options(a, &oa);
  pv_get_options(b, &ob);
  SAME(oa.dim == ob.dim && oa.metric == ob.metric && oa.storage == ob.storage && oa.m == ob.m &&
           oa.ef_construction == ob.ef_construction && oa.ef_search == ob.ef_search &&
           oa.seed == ob.seed &&
           memcmp(&oa.compact_threshold, &ob.compact_threshold, sizeof(float)) == 0,
       "%s: options differ (dim %u/%u metric %d/%d storage %d/%d m %u/%u ef_construction %u/%u "
       "ef_search %u/%u seed %s threshold %g/%g)",
       what, oa.dim, ob.dim, (int)oa.metric, (int)ob.metric, (int)oa.storage, (int)ob.storage,
       oa.m, ob.m, oa.ef_construction, ob.ef_construction, oa.ef_search, ob.ef_search,
       oa.seed == ob.seed ? "same" : "differs", (double)oa.compact_threshold,
       (double)ob.compact_threshold);
  size_t n = pv_count(a);
  SAME(n == pv_count(b) && pv_deleted_count(a) == pv_deleted_count(b),
       "%s: counts differ: %zu/%zu live, %zu/%zu deleted", what, n, pv_count(b),
       pv_deleted_count(a), pv_deleted_count(b));
  if (tu_failures != fails) return 0;
  size_t dim = oa.dim;
  uint32_t *ia = tu_xmalloc(sizeof(uint32_t) * (n + 1)), *ib = tu_xmalloc(sizeof(uint32_t) * (n + 1));
  SAME(pv_list_ids(a, ia, n) == n && pv_list_ids(b, ib, n) == n &&
           memcmp(ia, ib, sizeof(uint32_t) * n) == 0,
       "%s: live ids differ", what);
  uint32_t top = n ? ia[n - 1] + 8 : 64;
  float *va = tu_xmalloc(sizeof(float) * dim), *vb = tu_xmalloc(sizeof(float) * dim);
  for (uint32_t id = 0; id <= top; id++) {
    int ra = pv_get(a, id, va), rb = pv_get(b, id, vb);
    if (ra != rb || (ra == PV_OK && memcmp(va, vb, sizeof(float) * dim) != 0)) {
      tu_fail(file, line, "%s: pv_get(%u) differs (%d / %d)", what, id, ra, rb);
      break;
    }
    SAME(pv_contains(a, id) == pv_contains(b, id), "%s: pv_contains(%u) differs", what, id);
  }
  size_t kmax = n + 3;
  pv_hit *ha = tu_xmalloc(sizeof(pv_hit) * kmax), *hb = tu_xmalloc(sizeof(pv_hit) * kmax);
  uint64_t s = 4242;
  for (int qi = 0; qi < 5 && tu_failures == fails; qi++) {
    tu_rand_vec(&s, va, dim);
    const size_t ks[3] = {1, 7, kmax}, efs[4] = {0, 1, 25, 1000};
    for (int ki = 0; ki < 3; ki++) {
      for (int ei = 0; ei < 4; ei++) {
        size_t na = 99, nb = 98;
        int ra = pv_search(a, va, ks[ki], efs[ei], ha, &na);
        int rb = pv_search(b, va, ks[ki], efs[ei], hb, &nb);
        SAME(ra == PV_OK && rb == PV_OK && na == nb &&
                 (na == 0 || memcmp(ha, hb, sizeof(pv_hit) * na) == 0),
             "%s: pv_search k %zu ef %zu differs: rc %d/%d, %zu/%zu hits", what, ks[ki], efs[ei],
             ra, rb, na, nb);
      }
      size_t na = 99, nb = 98;
      int ra = pv_search_exact(a, va, ks[ki], 0, ha, &na);
      int rb = pv_search_exact(b, va, ks[ki], 0, hb, &nb);
      SAME(ra == PV_OK && rb == PV_OK && na == nb && na == (ks[ki] < n ? ks[ki] : n) &&
               (na == 0 || memcmp(ha, hb, sizeof(pv_hit) * na) == 0),
           "%s: pv_search_exact k %zu differs: rc %d/%d, %zu/%zu hits", what, ks[ki], ra, rb, na,
           nb);
    }
  }
  int ca_ = pv_check(a), cb = pv_check(b);
  SAME(ca_ == PV_OK && cb == PV_OK, "%s: pv_check %d (%s) / %d (%s)", what, ca_, pv_errmsg(a), cb,
       pv_errmsg(b));
  size_t la, lb;
  uint8_t *sa = ser(a, &la), *sb = ser(b, &lb);
  SAME(la == lb && memcmp(sa, sb, la) == 0, "%s: serialized bytes differ (%zu / %zu bytes)", what,
       la, lb);
  free(sa);
  free(sb);
  free(ia);
  free(ib);
  free(va);
  free(vb);
  free(ha);
  free(hb);
#undef SAME
  return tu_failures == fails;
}
#define same_index(what, a, b) same_index_at(__FILE__, __LINE__, what, a, b)

/* The same writes on any index, and a log of every result (status codes,
 * ids, counts): identical indexes give identical logs. Adds 25 as a batch
 * and 5 one by one, deletes every third live id (auto compaction may run),
 * compacts, adds 10, deletes 2. */
typedef struct oplog {
  uint32_t v[512];
  size_t n;
} oplog;

static void logv(oplog *L, uint32_t x) {
  if (L->n < sizeof L->v / sizeof L->v[0]) L->v[L->n++] = x;
}

static void apply_ops(pv_index *idx, uint64_t seed, oplog *L) {
  memset(L, 0, sizeof *L);
  pv_options o;
  pv_get_options(idx, &o);
  size_t dim = o.dim;
  float *v = tu_xmalloc(sizeof(float) * dim * 40);
  uint64_t s = seed;
  tu_rand_vec(&s, v, dim * 40);
  uint32_t ids[25];
  memset(ids, 0xff, sizeof ids);
  logv(L, (uint32_t)pv_add_batch(idx, v, 25, ids));
  for (int i = 0; i < 25; i++) logv(L, ids[i]);
  for (int i = 0; i < 5; i++) {
    uint32_t id = 0xffffffffu;
    logv(L, (uint32_t)pv_add(idx, v + (25 + i) * dim, &id));
    logv(L, id);
  }
  size_t nl = pv_list_ids(idx, NULL, 0);
  uint32_t *live = tu_xmalloc(sizeof(uint32_t) * (nl + 1));
  pv_list_ids(idx, live, nl);
  for (size_t i = 0; i < nl; i += 3) logv(L, (uint32_t)pv_delete(idx, live[i]));
  logv(L, (uint32_t)pv_count(idx));
  logv(L, (uint32_t)pv_deleted_count(idx));
  logv(L, (uint32_t)pv_compact(idx));
  uint32_t more[10];
  logv(L, (uint32_t)pv_add_batch(idx, v + 30 * dim, 10, more));
  for (int i = 0; i < 10; i++) logv(L, more[i]);
  nl = pv_list_ids(idx, live, nl);
  for (size_t i = 0; i < 2 && i < nl; i++) logv(L, (uint32_t)pv_delete(idx, live[i]));
  logv(L, (uint32_t)pv_count(idx));
  logv(L, (uint32_t)pv_deleted_count(idx));
  free(live);
  free(v);
}

/* ======================================================================== */
/* Round trips                                                              */
/* ======================================================================== */

/* Save sp's index, load it in each mode (COPY from a copy that is scribbled
 * over and freed at once; BORROW from the buffer, which must stay
 * unchanged; TAKE from a malloc'd copy the index then owns), compare; run
 * the same writes on all four, compare again. */
static void roundtrip(const spec *sp, uint64_t seed) {
  char what[200];
  pv_index *orig = make_index(sp, seed);
  if (!orig) return;
  size_t len;
  uint8_t *buf = ser(orig, &len);
  CHECK_EQ_INT(pv_serialized_size(orig), len);
  uint8_t *saved = dup_bytes(buf, len);
  pv_index *ld[3] = {NULL, NULL, NULL};
  int rc[3];
  uint8_t *c = dup_bytes(buf, len);
  rc[0] = pv_load(c, len, PV_LOAD_COPY, &ld[0]);
  memset(c, 0xA5, len);
  free(c);
  rc[1] = pv_load(buf, len, PV_LOAD_BORROW, &ld[1]);
  uint8_t *t = dup_bytes(buf, len);
  rc[2] = pv_load(t, len, PV_LOAD_TAKE, &ld[2]);
  if (rc[2] != PV_OK) free(t);
  oplog lo, lm;
  apply_ops(orig, seed + 1, &lo);
  for (int m = 0; m < 3; m++) {
    snprintf(what, sizeof what, "%s %s %s, %s", METRIC_NAME[sp->metric],
             STORAGE_NAME[sp->storage], sp->name, MODE_NAME[m]);
    CHECK_MSG(rc[m] == PV_OK, "%s: pv_load: %d (%s)", what, rc[m], pv_errmsg(NULL));
    if (rc[m] != PV_OK) continue;
    /* compared with a fresh load of the original bytes: orig has moved on */
    pv_index *ref = NULL;
    CHECK_OK(pv_load(saved, len, PV_LOAD_COPY, &ref));
    if (ref) same_index(what, ref, ld[m]);
    pv_free(ref);
    apply_ops(ld[m], seed + 1, &lm);
    CHECK_MSG(lo.n == lm.n && memcmp(lo.v, lm.v, sizeof(uint32_t) * lo.n) == 0,
              "%s: the same writes gave different ids or results", what);
    snprintf(what, sizeof what, "%s %s %s, %s, after the same writes", METRIC_NAME[sp->metric],
             STORAGE_NAME[sp->storage], sp->name, MODE_NAME[m]);
    same_index(what, orig, ld[m]);
    pv_free(ld[m]);
  }
  CHECK_MSG(memcmp(buf, saved, len) == 0, "%s %s %s: the BORROW buffer was written",
            METRIC_NAME[sp->metric], STORAGE_NAME[sp->storage], sp->name);
  free(saved);
  free(buf);
  pv_free(orig);
}

/* The shapes of the round trips. threshold below the deleted fraction keeps
 * the tombstones; the later writes may then compact automatically. */
static const spec SHAPES[] = {
    {"with tombstones", 0, 0, 12, 6, 30, 300, 50, 0, 0.45f},
    {"compacted", 0, 0, 12, 6, 30, 300, 50, 1, 0.45f},
    {"empty", 0, 0, 12, 6, 30, 0, 0, 0, 0.3f},
    {"all deleted (tombstones only)", 0, 0, 12, 6, 30, 40, 40, 0, 0.0f},
    {"all deleted, compacted", 0, 0, 12, 6, 30, 40, 40, 1, 0.0f},
    {"single vector", 0, 0, 12, 6, 30, 1, 0, 0, 0.3f},
    {"dim 1", 0, 0, 1, 6, 30, 120, 15, 0, 0.0f},
    {"dim 17", 0, 0, 17, 6, 30, 200, 30, 0, 0.5f},
    {"m 2", 0, 0, 12, 2, 10, 300, 40, 0, 0.0f},
    {"m 128", 0, 0, 12, 128, 32, 200, 30, 0, 0.0f},
    {"ef_construction below m", 0, 0, 12, 8, 3, 100, 10, 0, 1.0f},
};

static void roundtrip_all(pv_storage storage) {
  for (int met = 0; met < 3; met++) {
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
      spec sp = SHAPES[i];
      sp.metric = (pv_metric)met;
      sp.storage = storage;
      roundtrip(&sp, 100 + 10 * (uint64_t)met + i);
    }
  }
}

void test_persist_roundtrip_f32(void) { roundtrip_all(PV_F32); }
void test_persist_roundtrip_sq8(void) { roundtrip_all(PV_SQ8); }
void test_persist_roundtrip_binary(void) {
  roundtrip_all(PV_BINARY);
  roundtrip_all(PV_BINARY_F32);
}

/* The writer follows FORMAT.md: header fields, section order, lengths,
 * alignment, zero reserved bytes, ids, levels and the deleted list. */
void test_persist_format_layout(void) {
  for (int st = 0; st < 2; st++) {
    spec sp = {"layout", PV_DOT, (pv_storage)st, 9, 5, 20, 90, 20, 0, 0.0f};
    pv_index *idx = make_index(&sp, 77);
    REQUIRE(idx);
    size_t len;
    uint8_t *b = ser(idx, &len);
    fview f;
    fview_read(b, &f);
    static const uint8_t magic[8] = {0x89, 'P', 'V', 'E', 'C', '\r', '\n', 0x1a};
    CHECK(memcmp(b, magic, 8) == 0);
    CHECK_EQ_INT(rd32(b + 8), 2);
    CHECK_EQ_INT(rd32(b + 8), PV_FORMAT_VERSION);
    CHECK_EQ_INT(rd32(b + 12), 128);
    CHECK_EQ_INT(f.file_size, len);
    pv_options o;
    pv_get_options(idx, &o);
    CHECK_EQ_INT(f.dim, 9);
    CHECK_EQ_INT(f.metric, PV_DOT);
    CHECK_EQ_INT(f.storage, st);
    CHECK_EQ_INT(f.m, 5);
    CHECK_EQ_INT(rd32(b + 40), o.ef_construction);
    CHECK_EQ_INT(rd32(b + 44), o.ef_search);
    CHECK(rd64(b + 48) == o.seed);
    float thr;
    uint32_t tb = rd32(b + 56);
    memcpy(&thr, &tb, 4);
    CHECK(thr == o.compact_threshold);
    CHECK_EQ_INT(f.n, 90);
    CHECK_EQ_INT(f.live, 70);
    CHECK_EQ_INT(f.next_id, 90);
    CHECK(f.entry < f.n);
    CHECK(f.max_level >= 1);
    CHECK_EQ_INT(f.toff % 64, 0);
    CHECK_EQ_INT(f.count, st ? 7 : 6);
    CHECK_EQ_INT(f.toff + 32 * f.count + 4, len);
    for (int i = 100; i < 124; i++) CHECK_MSG(b[i] == 0, "reserved header byte %d is %u", i, b[i]);
    CHECK_EQ_INT(rd32(b + 124), crc32c(b, 124));
    uint64_t prev_end = 128;
    uint32_t prev_kind = 0;
    for (uint32_t i = 0; i < f.count; i++) {
      const uint8_t *e = table_entry(b, &f, i);
      uint32_t kind = rd32(e);
      CHECK_MSG(kind > prev_kind, "section %u has kind %u after kind %u", i, kind, prev_kind);
      prev_kind = kind;
      CHECK(rd32(e + 4) == 1 && rd32(e + 28) == 0); /* every section this version writes is required */
      uint64_t off = rd64(e + 8), sl = rd64(e + 16);
      CHECK_MSG(off % 64 == 0 && off >= prev_end, "section %u at %llu", i, (unsigned long long)off);
      for (uint64_t p = prev_end; p < off; p++) CHECK_MSG(b[p] == 0, "padding byte %llu", (unsigned long long)p);
      CHECK_EQ_INT(rd32(e + 24), pvsum(b + off, (size_t)sl));
      prev_end = off + sl;
    }
    CHECK_EQ_INT(rd32(b + f.toff + 32 * f.count), pvsum(b + f.toff, 32 * f.count));
    size_t vb = st ? 9 : 36;
    CHECK_EQ_INT(f.len[K_VEC], 90 * vb);
    CHECK_EQ_INT(f.len[K_L0], 90 * (1 + 2 * 5) * 4);
    CHECK_EQ_INT(f.len[K_SQ8], st ? 90 * 16 : 0);
    CHECK_EQ_INT(f.len[K_IDS], 90 * 4);
    CHECK_EQ_INT(f.len[K_LEV], 90);
    CHECK_EQ_INT(f.len[K_DEL], 20 * 4);
    uint64_t upw = 0;
    for (uint32_t s = 0; s < 90; s++) {
      CHECK_EQ_INT(rd32(b + f.off[K_IDS] + 4 * s), s); /* no compaction: slot = id */
      CHECK((int)level_of(b, &f, s) <= f.max_level);
      upw += level_of(b, &f, s) * (1 + 5);
    }
    CHECK_EQ_INT(level_of(b, &f, f.entry), f.max_level);
    CHECK_EQ_INT(f.len[K_UP], upw * 4);
    /* the deleted list: ascending, exactly the ids pv_contains denies */
    uint32_t j = 0;
    for (uint32_t s = 0; s < 90; s++) {
      if (pv_contains(idx, s)) continue;
      CHECK_EQ_INT(rd32(b + f.off[K_DEL] + 4 * j), s);
      j++;
    }
    CHECK_EQ_INT(j, 20);
    free(b);
    pv_free(idx);
  }
}

/* ======================================================================== */
/* Load modes                                                               */
/* ======================================================================== */

/* Indexes of several blocks: a block holds at most 1 MB of vectors, so 150
 * vectors of 16 KB are three blocks of 64, 64 and 22 slots. */
static const spec MULTI[2] = {
    {"multi-block F32", PV_L2, PV_F32, 4096, 4, 16, 150, 0, 0, 0.0f},
    {"multi-block SQ8", PV_COSINE, PV_SQ8, 16384, 4, 16, 150, 0, 0, 0.0f},
};

/* COPY: the buffer is scribbled over and freed right after loading. */
void test_persist_load_copy(void) {
  for (int st = 0; st < 2; st++) {
    pv_index *orig = make_index(&MULTI[st], 300 + st);
    REQUIRE(orig);
    size_t len;
    uint8_t *buf = ser(orig, &len);
    pv_index *x = NULL;
    CHECK_OK(pv_load(buf, len, PV_LOAD_COPY, &x));
    memset(buf, 0x5A, len);
    free(buf);
    if (x) {
      size_t vec_bytes = (size_t)150 * (st ? 16384 : 4096 * 4);
      CHECK_MSG(pv_memory_usage(x) >= vec_bytes, "COPY holds %zu bytes, the vectors alone are %zu",
                pv_memory_usage(x), vec_bytes);
      same_index(MULTI[st].name, orig, x);
      oplog a, b;
      apply_ops(orig, 7, &a);
      apply_ops(x, 7, &b);
      CHECK(a.n == b.n && memcmp(a.v, b.v, sizeof(uint32_t) * a.n) == 0);
      same_index(MULTI[st].name, orig, x);
    }
    pv_free(x);
    pv_free(orig);
  }
}

/* One write on every index of ix[0..k): the same status and ids. */
static void add_all(pv_index **ix, int k, const float *v, size_t n) {
  uint32_t *want = tu_xmalloc(sizeof(uint32_t) * n), *got = tu_xmalloc(sizeof(uint32_t) * n);
  for (int i = 0; i < k; i++) {
    int rc = pv_add_batch(ix[i], v, n, i ? got : want);
    CHECK_MSG(rc == PV_OK, "index %d: pv_add_batch: %d %s", i, rc, pv_errmsg(ix[i]));
    if (i) CHECK_MSG(memcmp(want, got, sizeof(uint32_t) * n) == 0, "index %d: other ids", i);
  }
  free(want);
  free(got);
}
static void delete_all(pv_index **ix, int k, uint32_t id) {
  for (int i = 0; i < k; i++) CHECK_MSG(pv_delete(ix[i], id) == PV_OK, "index %d: pv_delete(%u)", i, id);
}
static void compact_all(pv_index **ix, int k) {
  for (int i = 0; i < k; i++) CHECK_MSG(pv_compact(ix[i]) == PV_OK, "index %d: pv_compact", i);
}

/* BORROW: the vectors are read in place (the index holds about their size
 * less than a COPY), and no write (an add into the borrowed last block, adds
 * of whole new blocks, compactions from a tombstone in the last, middle or
 * first block) ever writes the buffer, nor does pv_free. */
void test_persist_load_borrow(void) {
  for (int st = 0; st < 2; st++) {
    const spec *sp = &MULTI[st];
    size_t dim = sp->dim, vbytes = st ? dim : 4 * dim;
    pv_index *orig = make_index(sp, 310 + st);
    REQUIRE(orig);
    size_t len;
    uint8_t *buf = ser(orig, &len);
    uint8_t *saved = dup_bytes(buf, len);
    pv_index *x = NULL, *cp = NULL;
    CHECK_OK(pv_load(buf, len, PV_LOAD_BORROW, &x));
    CHECK_OK(pv_load(saved, len, PV_LOAD_COPY, &cp));
    if (!x || !cp) {
      pv_free(x);
      pv_free(cp);
      pv_free(orig);
      free(buf);
      free(saved);
      return;
    }
#define BUF_SAME(when) \
  CHECK_MSG(memcmp(buf, saved, len) == 0, "%s: %s wrote into the borrowed buffer", sp->name, when)
#define STILL_BORROWS(slots, when)                                                           \
  CHECK_MSG(pv_memory_usage(x) + (slots) * vbytes * 9 / 10 <= pv_memory_usage(cp),          \
            "%s, %s: BORROW holds %zu bytes, COPY %zu: %d slots' vectors should be borrowed", \
            sp->name, when, pv_memory_usage(x), pv_memory_usage(cp), (int)(slots))
    STILL_BORROWS(150, "after loading");
    same_index(sp->name, orig, x);
    pv_index *all[3] = {orig, x, cp};
    float *v = tu_xmalloc(sizeof(float) * dim * 100);
    uint64_t s = 320;
    tu_rand_vec(&s, v, dim * 100);
    add_all(all, 3, v, 1); /* into the last block, which is borrowed */
    BUF_SAME("pv_add");
    add_all(all, 3, v + dim, 99); /* fills it and adds a block */
    BUF_SAME("pv_add_batch");
    same_index(sp->name, orig, x);
    for (uint32_t id = 140; id < 146; id++) delete_all(all, 3, id);
    BUF_SAME("pv_delete");
    compact_all(all, 3); /* slots move from block 2 on */
    BUF_SAME("pv_compact of the third block");
    same_index(sp->name, orig, x);
    delete_all(all, 3, 70);
    compact_all(all, 3);
    BUF_SAME("pv_compact of the second block");
    delete_all(all, 3, 3);
    compact_all(all, 3);
    BUF_SAME("pv_compact of every block");
    same_index(sp->name, orig, x);
    oplog a, b;
    apply_ops(orig, 9, &a);
    apply_ops(x, 9, &b);
    CHECK(a.n == b.n && memcmp(a.v, b.v, sizeof(uint32_t) * a.n) == 0);
    BUF_SAME("the writes of apply_ops");
    same_index(sp->name, orig, x);
    pv_free(x);
    BUF_SAME("pv_free");
#undef STILL_BORROWS
#undef BUF_SAME
    free(v);
    pv_free(cp);
    pv_free(orig);
    free(buf);
    free(saved);
  }
}

/* TAKE: the index owns the buffer from a successful return and frees it
 * with its allocator (counted here: nothing left, no foreign pointer; and
 * with malloc, for ASan's leak and double-free checks). pv_memory_usage
 * counts the buffer it holds. An empty index needs no buffer and frees it
 * at once. On failure the caller still owns it. */
void test_persist_load_take(void) {
  for (int st = 0; st < 2; st++) {
    const spec *sp = &MULTI[st];
    pv_index *orig = make_index(sp, 330 + st);
    REQUIRE(orig);
    size_t len;
    uint8_t *buf = ser(orig, &len);
    /* counting allocator */
    tu_alloc a;
    memset(&a, 0, sizeof a);
    tu_alloc_use(&a);
    uint8_t *t = tu_alloc_dup(&a, buf, len);
    pv_index *x = NULL;
    int rc = pv_load(t, len, PV_LOAD_TAKE, &x);
    pv_set_allocator(NULL);
    CHECK_OK(rc);
    if (rc != PV_OK) tu_alloc_free(&a, t);
    if (x) {
      CHECK_MSG(pv_memory_usage(x) == a.bytes, "%s: pv_memory_usage %zu, allocator %zu", sp->name,
                pv_memory_usage(x), a.bytes);
      CHECK(pv_memory_usage(x) > len);
      same_index(sp->name, orig, x);
      oplog lo, lx;
      apply_ops(orig, 11, &lo);
      apply_ops(x, 11, &lx);
      CHECK(lo.n == lx.n && memcmp(lo.v, lx.v, sizeof(uint32_t) * lo.n) == 0);
      same_index(sp->name, orig, x);
      CHECK_MSG(pv_memory_usage(x) == a.bytes, "%s: after writes, pv_memory_usage %zu, allocator %zu",
                sp->name, pv_memory_usage(x), a.bytes);
      pv_free(x);
    }
    CHECK_EQ_INT(a.live, 0);
    CHECK_EQ_INT(a.bytes, 0);
    CHECK_EQ_INT(a.bad_ptrs, 0);

    /* malloc'd, default allocator: ASan reports a leak or a double free */
    t = dup_bytes(buf, len);
    x = NULL;
    rc = pv_load(t, len, PV_LOAD_TAKE, &x);
    CHECK_OK(rc);
    if (rc != PV_OK) free(t);
    if (x) {
      CHECK_OK(pv_compact(x));
      pv_free(x);
    }

    /* failure: the caller keeps the buffer */
    memset(&a, 0, sizeof a);
    tu_alloc_use(&a);
    t = tu_alloc_dup(&a, buf, len);
    t[len / 2] ^= 1;
    x = NULL;
    rc = pv_load(t, len, PV_LOAD_TAKE, &x);
    pv_set_allocator(NULL);
    CHECK_RC(rc, PV_CORRUPT);
    CHECK(x == NULL);
    CHECK_MSG(a.live == 1, "after a failed TAKE, %ld blocks live (the buffer should be the one)",
              a.live);
    tu_alloc_free(&a, t);
    CHECK_EQ_INT(a.live, 0);
    free(buf);
    pv_free(orig);

    /* an empty index: the buffer is released during the load */
    spec e = {"empty", PV_L2, (pv_storage)st, 8, 4, 16, 0, 0, 0, 0.3f};
    orig = make_index(&e, 5);
    REQUIRE(orig);
    buf = ser(orig, &len);
    memset(&a, 0, sizeof a);
    tu_alloc_use(&a);
    t = tu_alloc_dup(&a, buf, len);
    x = NULL;
    rc = pv_load(t, len, PV_LOAD_TAKE, &x);
    pv_set_allocator(NULL);
    CHECK_OK(rc);
    if (rc != PV_OK) tu_alloc_free(&a, t);
    if (x) {
      CHECK_MSG(pv_memory_usage(x) == a.bytes, "empty: pv_memory_usage %zu, allocator %zu",
                pv_memory_usage(x), a.bytes);
      same_index("empty, TAKE", orig, x);
      pv_free(x);
    }
    CHECK_EQ_INT(a.live, 0);
    CHECK_EQ_INT(a.bad_ptrs, 0);
    free(buf);
    pv_free(orig);
  }
}

/* A buffer at an odd address: BORROW cannot read floats in place there, so
 * an F32 index copies them (it then holds exactly what a COPY holds); SQ8
 * codes are bytes and may stay in place. Either way it works and the
 * buffer is never written. COPY works at any address too. */
void test_persist_load_misaligned(void) {
  for (int st = 0; st < 2; st++) {
    const spec *sp = &MULTI[st];
    pv_index *orig = make_index(sp, 340 + st);
    REQUIRE(orig);
    size_t len;
    uint8_t *buf = ser(orig, &len);
    pv_index *cp = NULL;
    CHECK_OK(pv_load(buf, len, PV_LOAD_COPY, &cp));
    uint8_t *raw = tu_xmalloc(len + 8);
    const size_t offs[] = {1, 2, 3, 5};
    for (size_t oi = 0; oi < sizeof offs / sizeof offs[0]; oi++) {
      uint8_t *b = raw + offs[oi];
      memcpy(b, buf, len);
      char what[80];
      snprintf(what, sizeof what, "%s at address + %zu", sp->name, offs[oi]);
      for (unsigned mode = PV_LOAD_COPY; mode <= PV_LOAD_BORROW; mode++) {
        pv_index *x = NULL;
        int rc = pv_load(b, len, mode, &x);
        CHECK_MSG(rc == PV_OK, "%s, %s: %d %s", what, MODE_NAME[mode], rc, pv_errmsg(NULL));
        if (!x) continue;
        if (st == PV_F32 && cp)
          CHECK_MSG(pv_memory_usage(x) == pv_memory_usage(cp),
                    "%s, %s: holds %zu bytes, a COPY %zu: the floats were not copied", what,
                    MODE_NAME[mode], pv_memory_usage(x), pv_memory_usage(cp));
        same_index(what, orig, x);
        uint64_t s = 350;
        float *v = tu_xmalloc(sizeof(float) * sp->dim);
        tu_rand_vec(&s, v, sp->dim);
        CHECK_OK(pv_add(x, v, NULL));
        CHECK_OK(pv_delete(x, 1));
        CHECK_OK(pv_compact(x));
        CHECK_OK(pv_check(x));
        CHECK_MSG(memcmp(b, buf, len) == 0, "%s, %s: the buffer was written", what, MODE_NAME[mode]);
        free(v);
        pv_free(x);
      }
    }
    free(raw);
    free(buf);
    pv_free(cp);
    pv_free(orig);
  }
}

/* ======================================================================== */
/* Streaming                                                                */
/* ======================================================================== */

/* The small indexes of the hostile-input tests: 60 vectors of dim 8, m 4
 * (so about a quarter of the nodes have upper levels), 12 tombstones. */
static const spec SMALL[2] = {
    {"small F32", PV_L2, PV_F32, 8, 4, 16, 60, 12, 0, 0.0f},
    {"small SQ8", PV_COSINE, PV_SQ8, 8, 4, 16, 60, 12, 0, 0.0f},
};

/* A writer that keeps what it gets and refuses the piece that would take it
 * past `limit` bytes (and every call after that). */
typedef struct rec {
  uint8_t *buf;
  size_t len, cap, limit;
  size_t calls, calls_after_refusal;
  int refused;
} rec;

static int rec_write(void *ctx, const void *data, size_t n) {
  rec *r = ctx;
  if (r->refused) {
    r->calls_after_refusal++;
    return 1;
  }
  r->calls++;
  if (n > r->limit - r->len) {
    r->refused = 1;
    return 1;
  }
  if (r->len + n > r->cap) {
    size_t nc = (r->len + n) * 2;
    uint8_t *p = realloc(r->buf, nc);
    if (!p) abort();
    r->buf = p;
    r->cap = nc;
  }
  memcpy(r->buf + r->len, data, n);
  r->len += n;
  return 0;
}

/* pv_serialize's pieces add up to pv_serialize_to's bytes and to
 * pv_serialized_size; it streams (more than one piece) and allocates
 * nothing; it changes nothing in the index. */
void test_persist_stream_pieces(void) {
  for (int st = 0; st < 2; st++) {
    for (int big = 0; big < 2; big++) {
      const spec *sp = big ? &MULTI[st] : &SMALL[st];
      tu_alloc a;
      memset(&a, 0, sizeof a);
      tu_alloc_use(&a);
      pv_index *idx = make_index(sp, 360 + st);
      pv_set_allocator(NULL);
      REQUIRE(idx);
      size_t len;
      uint8_t *b = ser(idx, &len);
      rec r;
      memset(&r, 0, sizeof r);
      r.limit = (size_t)-1;
      long calls = a.calls;
      CHECK_OK(pv_serialize(idx, rec_write, &r));
      CHECK_MSG(a.calls == calls, "%s: pv_serialize made %ld allocations", sp->name, a.calls - calls);
      CHECK_EQ_INT(r.len, len);
      CHECK_EQ_INT(pv_serialized_size(idx), len);
      CHECK_MSG(r.len == len && memcmp(r.buf, b, len) == 0, "%s: streamed bytes differ", sp->name);
      CHECK_MSG(r.calls > 7, "%s: %zu pieces", sp->name, r.calls);
      /* a second time: the same bytes (nothing changed) */
      r.len = 0;
      r.calls = 0;
      CHECK_OK(pv_serialize(idx, rec_write, &r));
      CHECK(r.len == len && memcmp(r.buf, b, len) == 0);
      free(r.buf);
      free(b);
      pv_free(idx);
      CHECK_EQ_INT(a.live, 0);
    }
  }
}

/* A writer that stops after N bytes, for every N: PV_ERROR, a message that
 * says how far it got, no call to the writer after it said stop, and the
 * index unchanged. */
void test_persist_stream_writer_fails(void) {
  for (int st = 0; st < 2; st++) {
    pv_index *idx = make_index(&SMALL[st], 370 + st);
    REQUIRE(idx);
    size_t len;
    uint8_t *b = ser(idx, &len);
    float q[8] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f, 0.7f, -0.8f};
    tu_snap snap;
    tu_snap_take(idx, q, &snap);
    int shown = 0;
    for (size_t limit = 0; limit <= len; limit++) {
      rec r;
      memset(&r, 0, sizeof r);
      r.limit = limit;
      int rc = pv_serialize(idx, rec_write, &r);
      if (limit == len) {
        CHECK_OK(rc);
        CHECK(r.len == len && memcmp(r.buf, b, len) == 0);
      } else {
        char want[80];
        snprintf(want, sizeof want, "stopped after %zu of %zu bytes", r.len, len);
        const char *msg = pv_errmsg(idx);
        if ((rc != PV_ABORT || pv_errcode(idx) != PV_ABORT || !strstr(msg, want) ||
             r.calls_after_refusal || (r.len && memcmp(r.buf, b, r.len) != 0)) &&
            shown++ < 5)
          tu_fail(__FILE__, __LINE__,
                  "%s, writer stops at %zu: rc %d, \"%s\" (want \"%s\"), %zu calls after stop",
                  SMALL[st].name, limit, rc, msg, want, r.calls_after_refusal);
      }
      free(r.buf);
      if (limit % 257 == 0) tu_snap_same(idx, q, &snap);
    }
    tu_snap_same(idx, q, &snap);
    size_t len2;
    uint8_t *b2 = ser(idx, &len2);
    CHECK(len2 == len && memcmp(b, b2, len) == 0);
    free(b2);
    free(b);
    pv_free(idx);
  }
}

/* pv_export_*: the bytes of pv_serialize, read in chunks of any size, in
 * any order, as often as wanted, from an index or a BORROWED copy of it; a
 * read past the end, or after a write to the index, is PV_INVALID (a search
 * or a failed write is not a write); an export takes one allocation, and
 * PV_NOMEM there leaves *out NULL; pv_export_end is safe after pv_free. */
void test_persist_export(void) {
  for (int st = 0; st < 2; st++) {
    for (int big = 0; big < 2; big++) {
      const spec *sp = big ? &MULTI[st] : &SMALL[st];
      pv_index *orig = make_index(sp, 390 + st);
      REQUIRE(orig);
      size_t len;
      uint8_t *want = ser(orig, &len);
      pv_index *bor = NULL;
      CHECK_OK(pv_load(want, len, PV_LOAD_BORROW, &bor));
      pv_index *both[2] = {orig, bor};
      for (int w = 0; w < 2 && both[w]; w++) {
        pv_index *idx = both[w];
        pv_export *e = NULL;
        int rc = pv_export_begin(idx, &e);
        CHECK_OK(rc);
        if (rc != PV_OK) continue;
        CHECK_EQ_INT(pv_export_size(e), len);
        /* chunks of 1 .. 4096 bytes, read in a shuffled order */
        size_t nch = 0, cap = len + 1;
        size_t *off = tu_xmalloc(sizeof(size_t) * (cap + 1));
        uint64_t s = 395;
        for (size_t o = 0; o < len; nch++) {
          off[nch] = o;
          size_t step = 1 + tu_below(&s, (uint32_t)(nch % 7 == 0 ? 4096 : 97));
          o = o + step < len ? o + step : len;
        }
        off[nch] = len;
        uint32_t *order = tu_xmalloc(sizeof(uint32_t) * (nch + 1));
        for (uint32_t i = 0; i < nch; i++) order[i] = i;
        for (size_t i = nch; i > 1; i--) {
          size_t j = tu_below(&s, (uint32_t)i);
          uint32_t t = order[i - 1];
          order[i - 1] = order[j];
          order[j] = t;
        }
        uint8_t *got = tu_xcalloc(len, 1);
        for (size_t i = 0; i < nch; i++) {
          uint32_t c = order[i];
          rc = pv_export_read(e, off[c], got + off[c], off[c + 1] - off[c]);
          if (rc != PV_OK) {
            tu_fail(__FILE__, __LINE__, "%s: read of [%zu, %zu): %d %s", sp->name, off[c],
                    off[c + 1], rc, pv_errmsg(idx));
            break;
          }
        }
        CHECK_MSG(memcmp(got, want, len) == 0, "%s%s: exported chunks differ from pv_serialize",
                  sp->name, w ? " (BORROW)" : "");
        memset(got, 0, len);
        CHECK_OK(pv_export_read(e, 0, got, len));
        CHECK(memcmp(got, want, len) == 0);
        CHECK_OK(pv_export_read(e, 0, got, 0));
        CHECK_OK(pv_export_read(e, len, got, 0));
        CHECK_RC(pv_export_read(e, len - 1, got, 2), PV_RANGE);
        CHECK_RC(pv_export_read(e, len + 1, got, 0), PV_RANGE);
        CHECK_RC(pv_export_read(e, UINT64_MAX, got, 1), PV_RANGE);
        CHECK_RC(pv_export_read(e, 1, got, SIZE_MAX), PV_RANGE);
        /* a search and a failed add change nothing */
        float *q = tu_xmalloc(sizeof(float) * sp->dim);
        tu_rand_vec(&s, q, sp->dim);
        pv_hit h[5];
        size_t nh;
        CHECK_OK(pv_search(idx, q, 5, 0, h, &nh));
        float keep = q[0];
        q[0] = NAN;
        CHECK_RC(pv_add(idx, q, NULL), PV_INVALID);
        q[0] = keep;
        CHECK_OK(pv_export_read(e, len / 3, got, len / 3));
        CHECK(memcmp(got, want + len / 3, len / 3) == 0);
        /* a write does */
        CHECK_OK(pv_add(idx, q, NULL));
        CHECK_RC(pv_export_read(e, 0, got, 16), PV_MISUSE);
        CHECK(msg_ok(pv_errmsg(idx)));
        pv_export *e2 = NULL;
        CHECK_OK(pv_export_begin(idx, &e2));
        if (e2) {
          size_t l2;
          uint8_t *now = ser(idx, &l2);
          CHECK_EQ_INT(pv_export_size(e2), l2);
          uint8_t *g2 = tu_xmalloc(l2);
          CHECK_OK(pv_export_read(e2, 0, g2, l2));
          CHECK(memcmp(g2, now, l2) == 0);
          free(g2);
          free(now);
        }
        if (w == 1) {
          pv_free(bor); /* the exports outlive their index: ending them is safe */
          bor = NULL;
        }
        pv_export_end(e2);
        pv_export_end(e);
        free(q);
        free(got);
        free(order);
        free(off);
      }
      pv_export_end(NULL);
      /* PV_NOMEM */
      tu_alloc a;
      memset(&a, 0, sizeof a);
      tu_alloc_use(&a);
      pv_index *x = NULL;
      int rc = pv_load(want, len, PV_LOAD_COPY, &x);
      pv_set_allocator(NULL);
      CHECK_OK(rc);
      if (x) {
        pv_export *e = (pv_export *)(void *)&a;
        a.fail_at = a.calls + 1;
        CHECK_RC(pv_export_begin(x, &e), PV_NOMEM);
        CHECK(e == NULL);
        a.fail_at = 0;
        CHECK_OK(pv_export_begin(x, &e));
        pv_free(x);
        pv_export_end(e);
      }
      CHECK_EQ_INT(a.live, 0);
      pv_free(bor);
      free(want);
      pv_free(orig);
    }
  }
}

/* pv_serialize_to: PV_FULL with the needed size when the buffer is short
 * (or NULL, to ask the size), the index fine afterwards; a NULL writer is
 * PV_INVALID. */
void test_persist_serialize_to_small(void) {
  for (int st = 0; st < 2; st++) {
    pv_index *idx = make_index(&SMALL[st], 380 + st);
    REQUIRE(idx);
    size_t len = pv_serialized_size(idx), got = 0;
    uint8_t *b = tu_xmalloc(len + 100);
    CHECK_RC(pv_serialize_to(idx, NULL, 0, &got), PV_RANGE);
    CHECK_EQ_INT(got, len);
    const char *msg = pv_errmsg(idx);
    CHECK(msg && msg[0] && strcmp(msg, "not an error") != 0);
    const size_t caps[] = {0, 1, 127, 128, len / 2, len - 4, len - 1};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
      got = 0;
      CHECK_RC(pv_serialize_to(idx, b, caps[i], &got), PV_RANGE);
      CHECK_EQ_INT(got, len);
      CHECK_EQ_INT(pv_errcode(idx), PV_RANGE);
      pv_error_info info;
      CHECK_EQ_INT(pv_errinfo(idx, &info), PV_RANGE);
      CHECK_EQ_INT(info.need, len);
    }
    CHECK_RC(pv_serialize_to(idx, b, len - 1, NULL), PV_RANGE);
    got = 0;
    CHECK_OK(pv_serialize_to(idx, b, len, &got));
    CHECK_EQ_INT(got, len);
    CHECK_OK(pv_verify(b, len));
    uint8_t *b2 = tu_xmalloc(len + 100);
    got = 0;
    CHECK_OK(pv_serialize_to(idx, b2, len + 100, &got));
    CHECK_EQ_INT(got, len);
    CHECK(memcmp(b, b2, len) == 0);
    CHECK_OK(pv_serialize_to(idx, b2, len, NULL));
    CHECK_RC(pv_serialize(idx, NULL, NULL), PV_INVALID);
    CHECK_OK(pv_check(idx));
    free(b);
    free(b2);
    pv_free(idx);
  }
}

/* ======================================================================== */
/* Hostile input                                                            */
/* ======================================================================== */

/* The saved bytes of SMALL[st], checked to have tombstones and upper levels. */
static uint8_t *small_file(int st, size_t *len) {
  pv_index *idx = make_index(&SMALL[st], 400 + st);
  if (!idx) return NULL;
  uint8_t *b = ser(idx, len);
  pv_free(idx);
  fview f;
  fview_read(b, &f);
  CHECK_MSG(f.n > f.live && f.len[K_UP] > 0 && f.max_level >= 1,
            "%s: the sample should have tombstones and upper levels (n %u live %u top %d)",
            SMALL[st].name, f.n, f.live, f.max_level);
  return b;
}

/* pv_verify and pv_load in every mode must reject b[0..len) with `code`
 * (and a message; *out NULL; no block left allocated; a TAKE buffer left to
 * the caller). Runs with a counting allocator and returns the peak of bytes
 * allocated at once. With `crafted` set, the message must not blame a
 * checksum: the case is meant to get past them. */
static size_t reject_at(const char *file, int line, const char *what, const uint8_t *b, size_t len,
                        int code, int crafted) {
  tu_alloc a;
  memset(&a, 0, sizeof a);
  tu_alloc_use(&a);
  int fails = tu_failures;
  static char sentinel;
  for (int mode = -1; mode <= 2 && tu_failures == fails; mode++) {
    pv_index *x = (pv_index *)(void *)&sentinel;
    uint8_t *t = mode == 2 ? tu_alloc_dup(&a, b, len) : NULL;
    long live_before = a.live;
    int rc = mode < 0 ? pv_verify(b, len) : pv_load(t ? t : b, len, (unsigned)mode, &x);
    const char *m = pv_errmsg(NULL);
    const char *who = mode < 0 ? "pv_verify" : MODE_NAME[mode];
    if (rc != code || pv_errcode(NULL) != code || !msg_ok(m) || (crafted && strstr(m, "checksum")))
      tu_fail(file, line, "%s: %s gave %d (%s) \"%s\", expected %d (%s)", what, who, rc,
              pv_errstr(rc), m, code, pv_errstr(code));
    if (mode >= 0 && x != NULL) {
      tu_fail(file, line, "%s: %s left *out %s", what, who, x == (void *)&sentinel ? "unset" : "set");
      if (x != (void *)&sentinel) {
        pv_free(x);
        if (rc == PV_OK) t = NULL; /* the index owned it */
      }
    }
    if (a.live != live_before || a.bad_ptrs)
      tu_fail(file, line, "%s: %s: %ld blocks live after it (%ld before), %ld bad pointers", what,
              who, a.live, live_before, a.bad_ptrs);
    if (t) tu_alloc_free(&a, t);
  }
  pv_set_allocator(NULL);
  return a.peak;
}
#define REJECT(b, len, what, code) reject_at(__FILE__, __LINE__, what, b, len, code, 0)

/* Every single-bit flip: PV_CORRUPT (a flip in the version field breaks the
 * header checksum, which is checked first: damage, not a newer version). */
void test_persist_bit_flips(void) {
  for (int st = 0; st < 2; st++) {
    size_t len;
    uint8_t *b = small_file(st, &len);
    REQUIRE(b);
    static char sentinel;
    int shown = 0;
    for (size_t i = 0; i < len; i++) {
      for (int bit = 0; bit < 8; bit++) {
        b[i] ^= (uint8_t)(1u << bit);
        int rv = pv_verify(b, len);
        int okv = rv == PV_CORRUPT && msg_ok(pv_errmsg(NULL));
        unsigned mode = (unsigned)((i * 8 + (size_t)bit) % 3);
        pv_index *x = (pv_index *)(void *)&sentinel;
        uint8_t *t = mode == PV_LOAD_TAKE ? dup_bytes(b, len) : NULL;
        int rl = pv_load(t ? t : b, len, mode, &x);
        int okl = rl == PV_CORRUPT && msg_ok(pv_errmsg(NULL)) && x == NULL;
        if (rl != PV_OK) free(t);
        if ((!okv || !okl) && shown++ < 10)
          tu_fail(__FILE__, __LINE__, "%s: bit %d of byte %zu: pv_verify %d, pv_load %s %d (%s)",
                  SMALL[st].name, bit, i, rv, MODE_NAME[mode], rl, pv_errmsg(NULL));
        if (rl == PV_OK && x && x != (void *)&sentinel) pv_free(x);
        b[i] ^= (uint8_t)(1u << bit);
      }
    }
    CHECK_OK(pv_verify(b, len));
    free(b);
  }
}

/* Every truncation, each in a buffer of exactly that length (so ASan sees
 * a read past it), and extra bytes after a valid file. */
void test_persist_truncation(void) {
  for (int st = 0; st < 2; st++) {
    size_t len;
    uint8_t *b = small_file(st, &len);
    REQUIRE(b);
    static char sentinel;
    int shown = 0;
    for (size_t n = 0; n < len; n++) {
      uint8_t *t = dup_bytes(b, n);
      int rv = pv_verify(t, n);
      int okv = rv == PV_CORRUPT && msg_ok(pv_errmsg(NULL));
      pv_index *x = (pv_index *)(void *)&sentinel;
      unsigned mode = (unsigned)(n % 2);
      int rl = pv_load(t, n, mode, &x);
      int okl = rl == PV_CORRUPT && msg_ok(pv_errmsg(NULL)) && x == NULL;
      if ((!okv || !okl) && shown++ < 10)
        tu_fail(__FILE__, __LINE__, "%s: %zu of %zu bytes: pv_verify %d, pv_load %d (%s)",
                SMALL[st].name, n, len, rv, rl, pv_errmsg(NULL));
      if (rl == PV_OK && x && x != (void *)&sentinel) pv_free(x);
      free(t);
    }
    /* trailing bytes */
    const size_t extra[] = {1, 3, 4, 64, 1000};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
      for (int fill = 0; fill < 2; fill++) {
        uint8_t *t = tu_xcalloc(len + extra[i], 1);
        memcpy(t, b, len);
        if (fill) memset(t + len, 0x77, extra[i]);
        char what[80];
        snprintf(what, sizeof what, "%s + %zu %s bytes", SMALL[st].name, extra[i],
                 fill ? "0x77" : "zero");
        REJECT(t, len + extra[i], what, PV_CORRUPT);
        CHECK_STR_HAS(pv_errmsg(NULL), "extra");
        free(t);
      }
    }
    free(b);
  }
}

/* Version 3 with a correct header checksum: PV_VERSION, naming the version;
 * also with a larger header (a newer header always ends with its checksum). A
 * version 0, or the current version with another header size, is damage. */
void test_persist_version(void) {
  for (int st = 0; st < 2; st++) {
    size_t len;
    uint8_t *orig = small_file(st, &len);
    REQUIRE(orig);
    uint8_t *b = dup_bytes(orig, len);
    wr32(b + 8, 3);
    wr32(b + 124, crc32c(b, 124));
    REJECT(b, len, "version 3", PV_VERSION);
    CHECK_STR_HAS(pv_errmsg(NULL), "version 3");
    CHECK_STR_HAS(pv_errmsg(NULL), "upgrade");
    memcpy(b, orig, len);
    wr32(b + 8, 0xFFFFFFFFu);
    wr32(b + 124, crc32c(b, 124));
    REJECT(b, len, "version 4294967295", PV_VERSION);
    CHECK_STR_HAS(pv_errmsg(NULL), "4294967295");
    /* a version 3 header of 256 bytes, CRC at 252 */
    memcpy(b, orig, len);
    wr32(b + 8, 3);
    wr32(b + 12, 256);
    wr32(b + 252, crc32c(b, 252));
    REJECT(b, len, "version 3, 256-byte header", PV_VERSION);
    CHECK_STR_HAS(pv_errmsg(NULL), "version 3");
    /* version 3 whose header CRC was not updated: damage */
    memcpy(b, orig, len);
    wr32(b + 8, 3);
    REJECT(b, len, "version 3, old header CRC", PV_CORRUPT);
    memcpy(b, orig, len);
    wr32(b + 8, 0);
    wr32(b + 124, crc32c(b, 124));
    REJECT(b, len, "version 0", PV_CORRUPT);
    memcpy(b, orig, len);
    wr32(b + 12, 132);
    wr32(b + 128, crc32c(b, 128));
    REJECT(b, len, "version 1, 132-byte header", PV_CORRUPT);
    memcpy(b, orig, len);
    wr32(b + 12, 64);
    REJECT(b, len, "a 64-byte header", PV_CORRUPT);
    memcpy(b, orig, len);
    wr32(b + 12, 0xFFFFFFFCu);
    REJECT(b, len, "a 4 GB header", PV_CORRUPT);
    free(b);
    free(orig);
  }
}

/* Crafted files, checksums rewritten: every inconsistency behind the
 * checksums is PV_CORRUPT. */
static void crafted(int st) {
  size_t len;
  uint8_t *orig = small_file(st, &len);
  REQUIRE(orig);
  fview f;
  fview_read(orig, &f);
  uint8_t *b = tu_xmalloc(len);
  char what[120];
  const char *nm = SMALL[st].name;
#define FRESH() memcpy(b, orig, len)
#define BAD_AS(code, ...)                                                \
  do {                                                                   \
    snprintf(what, sizeof what, __VA_ARGS__);                            \
    fix_crcs(b, len, 0);                                                    \
    size_t peak_ = reject_at(__FILE__, __LINE__, what, b, len, code, 1); \
    CHECK_MSG(peak_ < ((size_t)1 << 20), "%s: %zu bytes allocated at once", what, peak_); \
  } while (0)
#define BAD(...) BAD_AS(PV_CORRUPT, __VA_ARGS__)

  /* the helper itself: rewriting the checksums of a valid file changes nothing */
  FRESH();
  fix_crcs(b, len, 0);
  REQUIRE_MSG(memcmp(b, orig, len) == 0, "%s: the test's CRC-32C differs from the file's", nm);
  REQUIRE_OK(pv_verify(b, len));

  /* the slots to aim at */
  uint32_t s2 = f.n, sroom = f.n, su = f.n, sl0 = f.n, sdup = f.n;
  for (uint32_t s = 0; s < f.n; s++) {
    uint32_t c = rd32(list0(orig, &f, s));
    if (c >= 2 && s2 == f.n) s2 = s;
    if (c >= 1 && c < 2 * f.m && sroom == f.n) sroom = s;
    if (level_of(orig, &f, s) == 0 && sl0 == f.n && s != f.entry) sl0 = s;
    if (level_of(orig, &f, s) >= 1 && su == f.n && rd32(list_up(orig, &f, s, 1)) >= 1 &&
        rd32(list_up(orig, &f, s, 1)) < f.m)
      su = s;
    if (level_of(orig, &f, s) >= 1 && sdup == f.n && rd32(list_up(orig, &f, s, 1)) >= 2) sdup = s;
  }
  REQUIRE_MSG(s2 < f.n && sroom < f.n && su < f.n && sl0 < f.n && sdup < f.n,
              "%s: no slot for a crafted case (%u %u %u %u %u)", nm, s2, sroom, su, sl0, sdup);

  /* ---- layer-0 links ---- */
  uint8_t *l;
  FRESH(); l = list0(b, &f, s2); wr32(WORD(l, 1), s2);
  BAD("%s: slot %u links to itself on layer 0", nm, s2);
  CHECK_STR_HAS(pv_errmsg(NULL), "itself");
  FRESH(); l = list0(b, &f, s2); wr32(WORD(l, 1), f.n);
  BAD("%s: a layer-0 link to slot n", nm);
  FRESH(); l = list0(b, &f, s2); wr32(WORD(l, 2), f.n + 1000);
  BAD("%s: a layer-0 link to slot n + 1000", nm);
  FRESH(); l = list0(b, &f, s2); wr32(WORD(l, 1), 0xFFFFFFFFu);
  BAD("%s: a layer-0 link to slot 0xFFFFFFFF", nm);
  FRESH(); l = list0(b, &f, s2); wr32(WORD(l, 2), rd32(WORD(l, 1)));
  BAD("%s: a duplicate layer-0 link", nm);
  CHECK_STR_HAS(pv_errmsg(NULL), "links twice");
  FRESH(); l = list0(b, &f, s2); wr32(l, 2 * f.m + 1);
  BAD("%s: a layer-0 count of 2m + 1", nm);
  FRESH(); l = list0(b, &f, s2); wr32(l, 0xFFFFFFFFu);
  BAD("%s: a layer-0 count of 0xFFFFFFFF", nm);
  FRESH(); l = list0(b, &f, sroom); wr32(WORD(l, 1 + rd32(l)), (sroom + 1) % f.n);
  BAD("%s: a word after the layer-0 links is not zero", nm);
  CHECK_STR_HAS(pv_errmsg(NULL), "data after");
  FRESH(); l = list0(b, &f, sroom); wr32(WORD(l, 2 * f.m), 1);
  BAD("%s: the last word of a layer-0 list is not zero", nm);
  CHECK_STR_HAS(pv_errmsg(NULL), "data after");
  /* ---- upper links ---- */
  FRESH(); l = list_up(b, &f, su, 1); wr32(WORD(l, 1), su);
  BAD("%s: slot %u links to itself on layer 1", nm, su);
  FRESH(); l = list_up(b, &f, su, 1); wr32(WORD(l, 1), sl0);
  BAD("%s: a layer-1 link to slot %u, which is on layer 0", nm, sl0);
  FRESH(); l = list_up(b, &f, su, 1); wr32(WORD(l, 1), f.n);
  BAD("%s: a layer-1 link to slot n", nm);
  FRESH(); l = list_up(b, &f, sdup, 1); wr32(WORD(l, 2), rd32(WORD(l, 1)));
  BAD("%s: a duplicate layer-1 link", nm);
  CHECK_STR_HAS(pv_errmsg(NULL), "links twice");
  FRESH(); l = list_up(b, &f, su, 1); wr32(l, f.m + 1);
  BAD("%s: a layer-1 count of m + 1", nm);
  FRESH(); l = list_up(b, &f, su, 1); wr32(WORD(l, 1 + rd32(l)), f.entry == su ? 0 : f.entry);
  BAD("%s: a word after the layer-1 links is not zero", nm);

  /* ---- header counts ---- */
  FRESH(); wr32(b + 64, f.n + 1);
  BAD("%s: n_live > n_slots", nm);
  FRESH(); wr32(b + 64, f.live + 1);
  BAD("%s: n_live one more (the deleted list too short)", nm);
  FRESH(); wr32(b + 60, f.n + 1);
  BAD("%s: n_slots one more", nm);
  FRESH(); wr32(b + 60, 0);
  BAD("%s: n_slots 0 in a non-empty file", nm);
  FRESH(); wr32(b + 60, 0xFFFFFFFFu);
  BAD("%s: n_slots 0xFFFFFFFF", nm);
  /* huge counts that agree with each other, and no room in the buffer:
   * rejected before anything is allocated for them */
  const uint32_t huge[] = {0x7FFFFFFFu, 0xFFFFFFFEu, 1000000u};
  for (int i = 0; i < 3; i++) {
    FRESH();
    wr32(b + 60, huge[i]);
    wr32(b + 64, huge[i] - (f.n - f.live));
    wr32(b + 68, huge[i]);
    BAD("%s: n_slots %u with no room for them", nm, huge[i]);
    FRESH();
    wr32(b + 60, huge[i]);
    wr32(b + 64, huge[i]);
    wr32(b + 68, 0xFFFFFFFEu);
    for (uint32_t e = 0; e < f.count; e++) wr64(table_entry(b, &f, e) + 16, (uint64_t)huge[i] * 64);
    BAD("%s: n_slots %u, section lengths to match", nm, huge[i]);
  }
  FRESH(); wr32(b + 68, f.n - 1);
  BAD("%s: next_id below n_slots", nm);
  FRESH(); wr32(b + 72, f.n);
  BAD("%s: entry = n_slots", nm);
  FRESH(); wr32(b + 72, 0xFFFFFFFFu);
  BAD("%s: no entry point in a non-empty index", nm);
  FRESH(); wr32(b + 72, sl0);
  BAD("%s: the entry point on layer 0, below the top", nm);
  FRESH(); wr32(b + 76, (uint32_t)(f.max_level + 1));
  BAD("%s: max_level above the entry point's level", nm);
  FRESH(); wr32(b + 76, (uint32_t)(f.max_level - 1));
  BAD("%s: max_level below the levels in use", nm);
  FRESH(); wr32(b + 76, 0xFFFFFFFFu);
  BAD("%s: max_level -1 in a non-empty index", nm);
  FRESH(); wr32(b + 76, 0xFFFFFFFEu);
  BAD("%s: max_level -2", nm);
  FRESH(); wr32(b + 76, 16);
  BAD("%s: max_level 16", nm);
  FRESH(); wr32(b + 76, 0x80000000u);
  BAD("%s: max_level INT32_MIN", nm);

  /* ---- ids ---- */
  FRESH();
  {
    uint8_t *ids = b + f.off[K_IDS];
    uint32_t t = rd32(ids + 12);
    wr32(ids + 12, rd32(ids + 16));
    wr32(ids + 16, t);
  }
  BAD("%s: ids not ascending (two swapped)", nm);
  CHECK_STR_HAS(pv_errmsg(NULL), "ascending");
  FRESH(); wr32(b + f.off[K_IDS] + 16, rd32(b + f.off[K_IDS] + 12));
  BAD("%s: a repeated id", nm);
  FRESH(); wr32(b + f.off[K_IDS] + 4 * (f.n - 1), f.next_id);
  BAD("%s: an id equal to next_id (never issued)", nm);
  FRESH(); wr32(b + f.off[K_IDS] + 4 * (f.n - 1), 0xFFFFFFFFu);
  BAD("%s: id 0xFFFFFFFF", nm);

  /* ---- the deleted list ---- */
  uint8_t *d;
  uint32_t nd = f.n - f.live;
  FRESH(); d = b + f.off[K_DEL];
  {
    uint32_t t = rd32(d);
    wr32(d, rd32(d + 4));
    wr32(d + 4, t);
  }
  BAD("%s: the deleted list out of order", nm);
  FRESH(); d = b + f.off[K_DEL]; wr32(d + 4, rd32(d));
  BAD("%s: a slot twice in the deleted list", nm);
  FRESH(); d = b + f.off[K_DEL]; wr32(d + 4 * (nd - 1), f.n);
  BAD("%s: a deleted slot = n_slots", nm);
  FRESH(); d = b + f.off[K_DEL]; wr32(d + 4 * (nd - 1), 0xFFFFFFFFu);
  BAD("%s: a deleted slot 0xFFFFFFFF", nm);

  /* ---- levels ---- */
  FRESH(); b[f.off[K_LEV] + sl0] = (uint8_t)(f.max_level + 1);
  BAD("%s: a level above max_level", nm);
  FRESH(); b[f.off[K_LEV] + sl0] = 200;
  BAD("%s: level 200", nm);
  FRESH(); b[f.off[K_LEV] + su] = 0;
  BAD("%s: a level lowered (upper links left over)", nm);

  /* ---- padding ---- */
  int padded = 0;
  for (uint32_t k = 1; k < K_END; k++) {
    if (!f.off[k]) continue;
    uint64_t end = f.off[k] + f.len[k], next = f.toff;
    for (uint32_t j = 1; j < K_END; j++)
      if (f.off[j] >= end && f.off[j] < next && j != k && f.off[j]) next = f.off[j];
    if (end >= next) continue;
    padded++;
    FRESH(); b[end] = 1;
    BAD("%s: the first padding byte after section %u is not zero", nm, k);
    FRESH(); b[next - 1] = 0x80;
    BAD("%s: the last padding byte after section %u is not zero", nm, k);
    CHECK_STR_HAS(pv_errmsg(NULL), "padding");
  }
  CHECK_MSG(padded >= 2, "%s: only %d sections followed by padding", nm, padded);

  /* ---- the section table ---- */
  /* A required section of a kind this version does not know: written by a
   * newer pocketvec (PV_VERSION); kind 0 is never written: damage. */
  const uint32_t bad_kinds[] = {0, K_END, 100, 0xFFFFFFFFu};
  for (int i = 0; i < 4; i++) {
    int code = bad_kinds[i] ? PV_VERSION : PV_CORRUPT;
    FRESH(); wr32(table_entry(b, &f, 0), bad_kinds[i]);
    BAD_AS(code, "%s: section kind %u", nm, bad_kinds[i]);
    FRESH(); wr32(table_entry(b, &f, f.count - 1), bad_kinds[i]);
    BAD_AS(code, "%s: last section kind %u", nm, bad_kinds[i]);
  }
  FRESH(); wr32(table_entry(b, &f, 1), rd32(table_entry(b, &f, 0)));
  BAD("%s: a repeated section kind", nm);
  if (st == PV_F32) {
    FRESH(); wr32(table_entry(b, &f, f.ent[K_IDS]), K_SQ8);
    BAD("%s: an sq8 section in an F32 file", nm);
  }
  FRESH();
  {
    uint8_t t[32];
    memcpy(t, table_entry(b, &f, 0), 32);
    memcpy(table_entry(b, &f, 0), table_entry(b, &f, 1), 32);
    memcpy(table_entry(b, &f, 1), t, 32);
  }
  BAD("%s: two table entries swapped", nm);
  for (uint32_t e = 0; e < f.count; e++) {
    /* The flags: a known section not marked required, or unknown flags. */
    FRESH(); table_entry(b, &f, e)[4] = 0;
    BAD("%s: table entry %u not marked required", nm, e);
    for (int r = 4; r < 8; r++) {
      FRESH(); table_entry(b, &f, e)[r] |= 2;
      BAD("%s: unknown flag in byte %d of table entry %u", nm, r, e);
    }
    for (int r = 28; r < 32; r++) {
      FRESH(); table_entry(b, &f, e)[r] = 0x40;
      BAD("%s: reserved byte %d of table entry %u", nm, r, e);
    }
    uint8_t *en;
    FRESH(); en = table_entry(b, &f, e); wr64(en + 8, rd64(en + 8) + 1);
    BAD("%s: section %u offset misaligned", nm, e);
    FRESH(); en = table_entry(b, &f, e); wr64(en + 8, rd64(en + 8) + 64);
    BAD("%s: section %u offset + 64", nm, e);
    FRESH(); en = table_entry(b, &f, e); wr64(en + 8, 64);
    BAD("%s: section %u at offset 64, inside the header", nm, e);
    FRESH(); en = table_entry(b, &f, e); wr64(en + 8, f.toff);
    BAD("%s: section %u at the table's offset", nm, e);
    FRESH(); en = table_entry(b, &f, e); wr64(en + 8, (uint64_t)1 << 63);
    BAD("%s: section %u at offset 2^63", nm, e);
    FRESH(); en = table_entry(b, &f, e); wr64(en + 16, rd64(en + 16) + 4);
    BAD("%s: section %u 4 bytes longer", nm, e);
    FRESH(); en = table_entry(b, &f, e); wr64(en + 16, 0xFFFFFFFFFFFFFFC0ull);
    BAD("%s: section %u of length 2^64 - 64", nm, e);
    FRESH(); en = table_entry(b, &f, e); wr64(en + 8, 128); wr64(en + 16, 0xFFFFFFFFFFFFFF80ull);
    BAD("%s: section %u at 128, of length 2^64 - 128", nm, e);
  }

  /* ---- header fields ---- */
  for (int i = 100; i < 124; i++) {
    FRESH(); b[i] = (uint8_t)(1u << (i % 8));
    BAD("%s: reserved header byte %d", nm, i);
  }
  const uint64_t toffs[] = {f.toff + 64, f.toff - 64, 0, 64, 128, f.toff + 1, (uint64_t)1 << 63,
                            ~(uint64_t)63};
  for (int i = 0; i < 8; i++) {
    FRESH(); wr64(b + 88, toffs[i]);
    BAD("%s: table offset %llu", nm, (unsigned long long)toffs[i]);
  }
  const uint32_t counts[] = {0, 1, 5, 8, 64, 0xFFFFFFFFu};
  for (int i = 0; i < 6; i++) {
    if (counts[i] == f.count) continue;
    FRESH(); wr32(b + 96, counts[i]);
    BAD("%s: section count %u", nm, counts[i]);
  }
  const uint64_t sizes[] = {len + 1, len - 1, 0, (uint64_t)len << 32};
  for (int i = 0; i < 4; i++) {
    FRESH(); wr64(b + 16, sizes[i]);
    BAD("%s: file_size %llu", nm, (unsigned long long)sizes[i]);
  }

  /* ---- settings: the message names the setting that is out of range
   * (those that stay in range but disagree with the sections' lengths are
   * caught there) ---- */
  struct { int off; uint32_t v; const char *name, *needle; } set[] = {
      {24, 0, "dim 0", "dim"}, {24, 65537, "dim 65537", "dim"},
      {24, f.dim / 2, "dim halved", NULL}, {24, f.dim + 1, "dim + 1", NULL},
      {28, 3, "metric 3", "metric"}, {28, 0xFFFFFFFFu, "metric 0xFFFFFFFF", "metric"},
      {32, 4, "storage 4", "storage"}, {32, 0x80000000u, "storage 0x80000000", "storage"},
      {32, st ? 0u : 1u, "the other storage", NULL},
      {36, 0, "m 0", "m is"}, {36, 1, "m 1", "m is"}, {36, 129, "m 129", "m is"},
      {36, f.m + 1, "m + 1", NULL}, {36, f.m - 1, "m - 1", NULL},
      {40, 0, "ef_construction 0", "ef_construction"},
      {40, 65537, "ef_construction 65537", "ef_construction"},
      {44, 0, "ef_search 0", "ef_search"}, {44, 65537, "ef_search 65537", "ef_search"},
      {56, 0x7FC00000u, "compact_threshold NaN", "compact_threshold"},
      {56, 0xBF000000u, "compact_threshold -0.5", "compact_threshold"},
      {56, 0x3FC00000u, "compact_threshold 1.5", "compact_threshold"},
      {56, 0x7F800000u, "compact_threshold inf", "compact_threshold"},
  };
  for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
    FRESH(); wr32(b + set[i].off, set[i].v);
    BAD("%s: %s", nm, set[i].name);
    if (set[i].needle)
      CHECK_MSG(strstr(pv_errmsg(NULL), set[i].needle),
                "%s: the message \"%s\" does not name the setting (\"%s\")", what,
                pv_errmsg(NULL), set[i].needle);
  }
#undef BAD
#undef FRESH
  free(b);
  free(orig);
}

void test_persist_crafted_f32(void) { crafted(PV_F32); }
void test_persist_crafted_sq8(void) { crafted(PV_SQ8); }

/* The checksums as FORMAT.md defines them: CRC-32C's check value, the
 * version-2 checksum's check values, and the library's checksums are
 * exactly the test's own reading of the definition (rewriting them changes
 * no byte). */
/* The check values FORMAT.md gives: they freeze the definition. */
#define PVSUM_EMPTY 0xfb4357a3u
#define PVSUM_123456789 0x0b34bfddu

void test_persist_crc32c(void) {
  CHECK_EQ_INT(crc32c((const uint8_t *)"123456789", 9), 0xE3069283u);
  CHECK_EQ_INT(crc32c((const uint8_t *)"", 0), 0);
  CHECK_EQ_INT(pvsum((const uint8_t *)"", 0), PVSUM_EMPTY);
  CHECK_EQ_INT(pvsum((const uint8_t *)"123456789", 9), PVSUM_123456789);
  for (int st = 0; st < 2; st++) {
    size_t len;
    uint8_t *b = small_file(st, &len);
    REQUIRE(b);
    uint8_t *c = dup_bytes(b, len);
    memset(c + 124, 0, 4);
    fview f;
    fview_read(c, &f);
    for (uint32_t e = 0; e < f.count; e++) memset(table_entry(c, &f, e) + 24, 0, 4);
    memset(c + f.toff + 32 * f.count, 0, 4);
    fix_crcs(c, len, 0);
    CHECK_MSG(memcmp(b, c, len) == 0, "%s: the library's checksums are not FORMAT.md's", SMALL[st].name);
    free(c);
    free(b);
  }
}

/* "Vectors' values are not checked": NaN and infinity in a vector, or in
 * SQ8 parameters, load, and every call stays memory-safe. */
void test_persist_values_not_checked(void) {
  for (int st = 0; st < 2; st++) {
    size_t len;
    uint8_t *b = small_file(st, &len);
    REQUIRE(b);
    fview f;
    fview_read(b, &f);
    for (int c = 0; c < 3; c++) {
      uint8_t *x = dup_bytes(b, len);
      static const uint32_t bits[3] = {0x7FC00000u, 0x7F800000u, 0xFF800000u};
      if (st == PV_F32)
        for (uint32_t s = 0; s < f.n; s += 3) wr32(x + f.off[K_VEC] + 32 * s + 4 * (s % 8), bits[c]);
      else
        for (uint32_t s = 0; s < f.n; s += 3) wr32(x + f.off[K_SQ8] + 16 * s + 4 * (s % 4), bits[c]);
      fix_crcs(x, len, 0);
      pv_index *idx = NULL;
      CHECK_OK(pv_verify(x, len));
      CHECK_OK(pv_load(x, len, PV_LOAD_BORROW, &idx));
      if (idx) {
        float q[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        pv_hit h[100];
        size_t nh;
        CHECK_OK(pv_search(idx, q, 10, 0, h, &nh));
        CHECK_OK(pv_search(idx, q, 100, 100, h, &nh));
        CHECK_OK(pv_search_exact(idx, q, 10, 0, h, &nh));
        for (int i = 0; i < 30; i++) {
          CHECK_OK(pv_add(idx, q, NULL));
          q[i % 8] += 0.5f;
        }
        CHECK_OK(pv_compact(idx));
        CHECK_OK(pv_check(idx));
        size_t l2;
        uint8_t *y = ser(idx, &l2);
        CHECK_OK(pv_verify(y, l2));
        free(y);
        pv_free(idx);
      }
      free(x);
    }
    free(b);
  }
}

/* The header's table offset is a u64: an offset near 2^64 must not wrap
 * around into "the table ends where the data ends". A 132-byte file (F32,
 * 6 sections: table 196 bytes) whose table_offset is 2^64 - 64 passes
 * table_offset + 196 == 132 modulo 2^64. The file is placed 64 bytes into a
 * larger block, so a read before its start stays inside the block (no ASan
 * report); the bytes before it decide whether such a read would see a
 * valid table checksum. The answer must not depend on them. */
void test_persist_table_offset_wraps(void) {
  for (int st = 0; st < 2; st++) {
    uint32_t count = st ? 7 : 6;
    size_t tsize = 32 * (size_t)count + 4;
    size_t len = tsize - 64; /* so len - tsize = 2^64 - 64 (mod 2^64) */
    char msg[2][256];
    int rc[2];
    for (int v = 0; v < 2; v++) {
      uint8_t *block = tu_xcalloc(64 + len + 64, 1);
      uint8_t *b = block + 64;
      static const uint8_t magic[8] = {0x89, 'P', 'V', 'E', 'C', '\r', '\n', 0x1a};
      memcpy(b, magic, 8);
      wr32(b + 8, 1);
      wr32(b + 12, 128);
      wr64(b + 16, len);
      wr32(b + 24, 4);
      wr32(b + 28, PV_L2);
      wr32(b + 32, (uint32_t)st);
      wr32(b + 36, 4);
      wr32(b + 40, 16);
      wr32(b + 44, 16);
      wr32(b + 60, 0);                 /* empty */
      wr32(b + 72, 0xFFFFFFFFu);       /* no entry */
      wr32(b + 76, 0xFFFFFFFFu);       /* max_level -1 */
      wr64(b + 88, ~(uint64_t)63);     /* 2^64 - 64 */
      wr32(b + 96, count);
      wr32(b + 124, crc32c(b, 124));
      /* bytes 128.. of the file: what a wrapped read would take for the
       * table's CRC, which covers block[0 .. 32 * count) */
      memset(block, v ? 0 : 0x11, 64);
      wr32(b + 32 * count - 64, crc32c(block, 32 * (size_t)count) ^ (v ? 0 : 1));
      pv_index *x = NULL;
      rc[v] = pv_load(b, len, PV_LOAD_COPY, &x);
      snprintf(msg[v], sizeof msg[v], "%s", pv_errmsg(NULL));
      CHECK_MSG(rc[v] == PV_CORRUPT && x == NULL, "%s, table offset 2^64 - 64: %d \"%s\"",
                STORAGE_NAME[st], rc[v], msg[v]);
      pv_free(x);
      free(block);
    }
    CHECK_MSG(strcmp(msg[0], msg[1]) == 0,
              "%s: pv_load of a %zu-byte file read the 64 bytes before it (table offset 2^64 - 64): "
              "\"%s\" vs \"%s\"",
              STORAGE_NAME[st], len, msg[0], msg[1]);
  }
}

/* pv_verify: "every check of pv_load, by loading in place and freeing the
 * result": it allocates only what a load in place needs (the index's
 * scratch and small per-vector arrays, never a copy of the vectors or the
 * links), so its peak stays below pv_new's with the same settings plus 64
 * bytes a vector, and it frees everything. */
void test_persist_verify_allocates_nothing(void) {
  for (int st = 0; st < 2; st++) {
    size_t len;
    uint8_t *b = small_file(st, &len);
    REQUIRE(b);
    pv_index *idx = NULL;
    REQUIRE_OK(pv_load(b, len, PV_LOAD_COPY, &idx));
    pv_options o;
    pv_get_options(idx, &o);
    size_t n = pv_count(idx) + pv_deleted_count(idx);
    pv_free(idx);
    tu_alloc a;
    memset(&a, 0, sizeof a);
    tu_alloc_use(&a);
    pv_index *fresh = NULL;
    int rc = pv_new(&o, &fresh);
    pv_free(fresh);
    size_t new_peak = a.peak;
    memset(&a, 0, sizeof a);
    rc |= pv_verify(b, len);
    pv_set_allocator(NULL);
    CHECK_OK(rc);
    CHECK_MSG(a.peak <= new_peak + 64 * n,
              "%s: pv_verify of a %zu-byte file (%zu slots) peaked at %zu bytes; pv_new takes %zu",
              SMALL[st].name, len, n, a.peak, new_peak);
    CHECK_MSG(a.live == 0 && a.bytes == 0, "%s: pv_verify left %ld blocks allocated", SMALL[st].name,
              a.live);
    free(b);
  }
}

/* The allocations a small file can cause: an empty index with the largest
 * settings (dim 65536, ef_construction 65536) is a 324-byte file; loading
 * it costs what pv_new with those options costs, and no more. */
void test_persist_small_file_large_settings(void) {
  pv_options o = tu_opts(PV_MAX_DIM, PV_L2, PV_SQ8);
  o.ef_construction = PV_MAX_EF;
  o.ef_search = PV_MAX_EF;
  o.m = PV_MAX_M;
  tu_alloc a;
  memset(&a, 0, sizeof a);
  tu_alloc_use(&a);
  pv_index *idx = NULL;
  int rc = pv_new(&o, &idx);
  pv_set_allocator(NULL);
  REQUIRE(rc == PV_OK);
  size_t new_peak = a.peak;
  size_t len;
  uint8_t *b = ser(idx, &len);
  pv_free(idx);
  memset(&a, 0, sizeof a);
  tu_alloc_use(&a);
  idx = NULL;
  rc = pv_load(b, len, PV_LOAD_COPY, &idx);
  pv_set_allocator(NULL);
  CHECK_OK(rc);
  CHECK_MSG(a.peak <= new_peak + 4096, "a %zu-byte file: pv_load peaked at %zu bytes, pv_new at %zu",
            len, a.peak, new_peak);
  pv_free(idx);
  CHECK_EQ_INT(a.live, 0);
  free(b);
}

/* ======================================================================== */
/* Fault injection                                                          */
/* ======================================================================== */

/* Indexes of two blocks (64 + 16 slots), few allocations to walk through. */
static const spec FAULTY[2] = {
    {"two-block F32", PV_L2, PV_F32, 4096, 8, 16, 80, 0, 0, 0.0f},
    {"two-block SQ8", PV_DOT, PV_SQ8, 16384, 8, 16, 80, 0, 0, 0.0f},
};

/* pv_load with the Nth allocation failing, for every N until it succeeds:
 * PV_NOMEM with a message and *out NULL, nothing left allocated (a TAKE
 * buffer stays the caller's); then the load that succeeds equals the
 * original. */
void test_persist_fault_load(void) {
  for (int st = 0; st < 2; st++) {
    spec sp = FAULTY[st];
    sp.ndel = 9;
    pv_index *orig = make_index(&sp, 500 + st);
    REQUIRE(orig);
    size_t len;
    uint8_t *buf = ser(orig, &len);
    for (unsigned mode = 0; mode <= PV_LOAD_TAKE; mode++) {
      long n, nomems = 0;
      for (n = 1; n < 1000; n++) {
        tu_alloc a;
        memset(&a, 0, sizeof a);
        a.fail_at = n;
        tu_alloc_use(&a);
        uint8_t *t = mode == PV_LOAD_TAKE ? tu_alloc_dup(&a, buf, len) : NULL;
        static char sentinel;
        pv_index *x = (pv_index *)(void *)&sentinel;
        int rc = pv_load(t ? t : buf, len, mode, &x);
        pv_set_allocator(NULL);
        long injected = a.failures;
        a.fail_at = 0; /* the checks below allocate too */
        char what[100];
        snprintf(what, sizeof what, "%s, %s, allocation %ld failing", sp.name, MODE_NAME[mode], n);
        if (rc == PV_NOMEM) {
          nomems++;
          CHECK_MSG(x == NULL, "%s: *out not NULL", what);
          CHECK_MSG(pv_errcode(NULL) == PV_NOMEM && msg_ok(pv_errmsg(NULL)), "%s: message \"%s\"",
                    what, pv_errmsg(NULL));
          CHECK_MSG(a.live == (t ? 1 : 0), "%s: %ld blocks left (%zu bytes)", what, a.live, a.bytes);
          if (t) tu_alloc_free(&a, t);
        } else {
          CHECK_MSG(rc == PV_OK, "%s: %d (%s)", what, rc, pv_errmsg(NULL));
          if (rc == PV_OK) {
            CHECK_MSG(pv_memory_usage(x) == a.bytes, "%s: pv_memory_usage %zu, allocator %zu",
                      what, pv_memory_usage(x), a.bytes);
            same_index(what, orig, x);
            pv_free(x);
          } else if (t) {
            tu_alloc_free(&a, t);
          }
        }
        CHECK_MSG(a.live == 0 && a.bad_ptrs == 0, "%s: %ld blocks leaked, %ld bad pointers", what,
                  a.live, a.bad_ptrs);
        if (tu_failures) break;
        if (injected == 0) break; /* the load never reached allocation n */
      }
      CHECK_MSG(nomems >= 10, "%s, %s: only %ld allocations failed", sp.name, MODE_NAME[mode],
                nomems);
    }
    free(buf);
    pv_free(orig);
  }
}

typedef int (*write_op)(pv_index *idx, const float *v, size_t dim);
static int op_compact(pv_index *idx, const float *v, size_t dim) {
  (void)v;
  (void)dim;
  return pv_compact(idx);
}
static int op_add(pv_index *idx, const float *v, size_t dim) {
  (void)dim;
  return pv_add(idx, v, NULL);
}
static int op_add_batch(pv_index *idx, const float *v, size_t dim) {
  (void)dim;
  return pv_add_batch(idx, v, 60, NULL);
}
/* a delete that compacts automatically (threshold 0.01), then an explicit
 * compaction (in case the automatic one ran out of memory) */
static int op_delete(pv_index *idx, const float *v, size_t dim) {
  (void)v;
  (void)dim;
  size_t before = pv_deleted_count(idx);
  int rc = pv_delete(idx, 2);
  if (rc != PV_OK) return rc == PV_NOMEM ? PV_ERROR : rc; /* a delete never fails for memory */
  size_t after = pv_deleted_count(idx);
  if (after != 0 && after != before + 1) return PV_ERROR;
  return PV_OK;
}

/* Writes to a BORROWED (or TAKEN) index copy blocks out of the buffer
 * before they write them. With the Nth allocation failing, for every N: the
 * call returns PV_NOMEM and the index serializes to the very same bytes as
 * before the call, passes pv_check and searches as before; the buffer is
 * never written; once memory is back the write succeeds and gives what it
 * gives on a COPY. */
static void fault_write(int st, const char *opname, write_op op, float threshold, unsigned mode) {
  spec sp = FAULTY[st];
  sp.threshold = threshold;
  pv_index *orig = make_index(&sp, 520 + st);
  REQUIRE(orig);
  if (op == op_compact) {
    CHECK_OK(pv_delete(orig, 5));
    CHECK_OK(pv_delete(orig, 70));
  }
  size_t len, dim = sp.dim;
  uint8_t *buf = ser(orig, &len);
  uint8_t *saved = dup_bytes(buf, len);
  float *v = tu_xmalloc(sizeof(float) * dim * 60);
  uint64_t s = 530;
  tu_rand_vec(&s, v, dim * 60);
  /* what the write gives on a COPY, with memory enough */
  pv_index *ref = NULL;
  REQUIRE_OK(pv_load(buf, len, PV_LOAD_COPY, &ref));
  CHECK_OK(op(ref, v, dim));
  CHECK_OK(pv_compact(ref));
  size_t rlen;
  uint8_t *want = ser(ref, &rlen);
  pv_free(ref);
  float q[16384];
  memcpy(q, v + dim, sizeof(float) * dim);
  long n, nomems = 0;
  for (n = 1; n < 1000; n++) {
    tu_alloc a;
    memset(&a, 0, sizeof a);
    tu_alloc_use(&a);
    uint8_t *t = mode == PV_LOAD_TAKE ? tu_alloc_dup(&a, buf, len) : NULL;
    pv_index *x = NULL;
    int rc = pv_load(t ? t : buf, len, mode, &x);
    pv_set_allocator(NULL);
    if (rc != PV_OK) {
      tu_fail(__FILE__, __LINE__, "%s: pv_load: %d %s", sp.name, rc, pv_errmsg(NULL));
      if (t) tu_alloc_free(&a, t);
      break;
    }
    char what[120];
    snprintf(what, sizeof what, "%s, %s, %s with allocation %ld failing", sp.name, MODE_NAME[mode],
             opname, n);
    size_t blen;
    uint8_t *before = ser(x, &blen);
    tu_snap snap;
    tu_snap_take(x, q, &snap);
    a.fail_at = a.calls + n;
    rc = op(x, v, dim);
    long injected = a.failures;
    a.fail_at = 0;
    if (rc == PV_NOMEM) {
      nomems++;
      CHECK_MSG(pv_errcode(x) == PV_NOMEM && msg_ok(pv_errmsg(x)), "%s: message \"%s\"", what,
                pv_errmsg(x));
      size_t alen;
      uint8_t *after = ser(x, &alen);
      CHECK_MSG(alen == blen && memcmp(before, after, blen) == 0, "%s: the index changed", what);
      free(after);
      tu_snap_same(x, q, &snap);
      rc = op(x, v, dim); /* memory is back */
      CHECK_MSG(rc == PV_OK, "%s: the retry: %d %s", what, rc, pv_errmsg(x));
    } else {
      CHECK_MSG(rc == PV_OK, "%s: %d (%s)", what, rc, pv_errmsg(x));
    }
    CHECK_MSG(pv_memory_usage(x) == a.bytes, "%s: pv_memory_usage %zu, allocator %zu", what,
              pv_memory_usage(x), a.bytes);
    CHECK_OK(pv_compact(x));
    size_t glen;
    uint8_t *got = ser(x, &glen);
    CHECK_MSG(glen == rlen && memcmp(got, want, rlen) == 0, "%s: the result differs from a COPY's",
              what);
    CHECK_MSG(memcmp(buf, saved, len) == 0, "%s: the borrowed buffer was written", what);
    free(got);
    free(before);
    pv_free(x);
    CHECK_MSG(a.live == 0 && a.bad_ptrs == 0, "%s: %ld blocks leaked, %ld bad pointers", what,
              a.live, a.bad_ptrs);
    if (tu_failures) break;
    if (!injected) break;
  }
  CHECK_MSG(n < 1000, "%s: never completed", opname);
  CHECK_MSG(nomems >= 1 || op == op_delete, "%s, %s, %s: no allocation failed", sp.name,
            MODE_NAME[mode], opname);
  free(want);
  free(v);
  free(saved);
  free(buf);
  pv_free(orig);
}

void test_persist_fault_borrowed_writes(void) {
  for (int st = 0; st < 2; st++) {
    fault_write(st, "pv_compact", op_compact, 0.0f, PV_LOAD_BORROW);
    fault_write(st, "pv_compact", op_compact, 0.0f, PV_LOAD_TAKE);
    fault_write(st, "pv_add", op_add, 0.0f, PV_LOAD_BORROW);
    fault_write(st, "pv_add_batch", op_add_batch, 0.0f, PV_LOAD_BORROW);
    fault_write(st, "pv_delete", op_delete, 0.01f, PV_LOAD_BORROW);
  }
}

/* ======================================================================== */
/* Arguments                                                                */
/* ======================================================================== */

void test_persist_load_args(void) {
  pv_index *idx = make_index(&SMALL[0], 600);
  REQUIRE(idx);
  size_t len;
  uint8_t *b = ser(idx, &len);
  static char sentinel;
  pv_index *x;
  CHECK_RC(pv_load(b, len, PV_LOAD_COPY, NULL), PV_INVALID);
  CHECK(msg_ok(pv_errmsg(NULL)));
  x = (pv_index *)(void *)&sentinel;
  CHECK_RC(pv_load(NULL, len, PV_LOAD_COPY, &x), PV_INVALID);
  CHECK(x == NULL);
  CHECK(msg_ok(pv_errmsg(NULL)));
  x = (pv_index *)(void *)&sentinel;
  CHECK_RC(pv_load(NULL, 0, PV_LOAD_BORROW, &x), PV_INVALID);
  CHECK(x == NULL);
  const unsigned flags[] = {3, 4, 8, 0x100, 0x80000000u, 0xFFFFFFFFu};
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    x = (pv_index *)(void *)&sentinel;
    CHECK_RC(pv_load(b, len, flags[i], &x), PV_INVALID);
    CHECK(x == NULL);
    CHECK_EQ_INT(pv_errcode(NULL), PV_INVALID);
    CHECK_STR_HAS(pv_errmsg(NULL), "flags");
  }
  CHECK_RC(pv_verify(NULL, 0), PV_INVALID);
  CHECK_RC(pv_verify(NULL, len), PV_INVALID);
  CHECK_RC(pv_verify(b, 0), PV_CORRUPT);
  /* after all that, the valid file loads, and the last message resets */
  x = NULL;
  CHECK_OK(pv_load(b, len, PV_LOAD_COPY, &x));
  CHECK_EQ_INT(pv_errcode(NULL), PV_OK);
  CHECK_STR_HAS(pv_errmsg(NULL), "not an error");
  pv_free(x);
  free(b);
  pv_free(idx);
}

/* pv_read_header: the header as written, trusted or not, without loading. */
void test_persist_read_header(void) {
  for (int st = 0; st < 2; st++) {
    size_t len;
    uint8_t *b = small_file(st, &len);
    REQUIRE(b);
    pv_index *idx = NULL;
    REQUIRE_OK(pv_load(b, len, PV_LOAD_COPY, &idx));
    pv_options o;
    pv_get_options(idx, &o);
    pv_header h;
    CHECK_OK(pv_read_header(b, len, &h));
    CHECK(h.header_ok == 1);
    CHECK_EQ_INT(h.version, PV_FORMAT_VERSION);
    CHECK_EQ_INT(h.file_size, len);
    CHECK_EQ_INT(h.options.dim, o.dim);
    CHECK_EQ_INT(h.options.metric, o.metric);
    CHECK_EQ_INT(h.options.storage, o.storage);
    CHECK_EQ_INT(h.options.m, o.m);
    CHECK_EQ_INT(h.options.ef_construction, o.ef_construction);
    CHECK(h.options.seed == o.seed && h.options.compact_threshold == o.compact_threshold);
    CHECK_EQ_INT(h.live, pv_count(idx));
    CHECK_EQ_INT(h.slots, pv_count(idx) + pv_deleted_count(idx));
    pv_free(idx);
    /* A damaged header is still read, and says so. */
    b[30] ^= 1;
    CHECK_OK(pv_read_header(b, len, &h));
    CHECK(h.header_ok == 0);
    b[30] ^= 1;
    CHECK_RC(pv_read_header(b, 127, &h), PV_CORRUPT);
    CHECK_STR_HAS(pv_errmsg(NULL), "truncated");
    b[0] ^= 0xff;
    CHECK_RC(pv_read_header(b, len, &h), PV_CORRUPT);
    CHECK_STR_HAS(pv_errmsg(NULL), "magic");
    CHECK_RC(pv_read_header(NULL, len, &h), PV_INVALID);
    free(b);
  }
}

/* The file with one more section, of `kind` and `flags`, holding plen
 * bytes of payload, put after the last section (the table follows it);
 * every field and checksum that covers it is rewritten, as a newer
 * pocketvec would write it. */
static uint8_t *with_section(const uint8_t *b, size_t len, uint32_t kind, uint32_t flags,
                             const uint8_t *payload, size_t plen, size_t *out_len) {
  uint64_t toff = rd64(b + 88);
  uint32_t count = rd32(b + 96);
  if (toff + 32 * (uint64_t)count + 4 != len) return NULL; /* not a well-formed file */
  size_t at = (size_t)toff, tab = (at + plen + 63) & ~(size_t)63;
  size_t n = tab + 32 * ((size_t)count + 1) + 4;
  uint8_t *o = tu_xcalloc(n, 1);
  memcpy(o, b, at);
  memcpy(o + at, payload, plen);
  memcpy(o + tab, b + toff, 32 * (size_t)count);
  uint8_t *e = o + tab + 32 * (size_t)count;
  wr32(e, kind);
  wr32(e + 4, flags);
  wr64(e + 8, at);
  wr64(e + 16, plen);
  wr32(o + 96, count + 1);
  wr64(o + 88, tab);
  wr64(o + 16, n);
  fix_crcs(o, n, 0);
  *out_len = n;
  return o;
}

/* Format version 2 can grow: an optional section of a kind this version
 * does not know is checked (its checksum) and skipped, and the index loads
 * and answers as without it; the same section marked required is
 * PV_VERSION naming its kind; saving the loaded index drops it (it belongs
 * to a newer writer). A damaged optional section is still damage. */
void test_persist_optional_sections(void) {
  for (int st = 0; st < 2; st++) {
    pv_index *idx = make_index(&SMALL[st], 900 + st);
    REQUIRE(idx);
    size_t len;
    uint8_t *b = ser(idx, &len);
    uint8_t payload[100];
    for (int i = 0; i < 100; i++) payload[i] = (uint8_t)(i * 7 + 1);
    size_t len2;
    uint8_t *opt = with_section(b, len, 1000, 0, payload, sizeof payload, &len2);
    REQUIRE(opt);
    pv_index *x = NULL;
    CHECK_OK(pv_load(opt, len2, PV_LOAD_COPY, &x));
    if (x) {
      CHECK_OK(pv_check(x));
      CHECK_EQ_INT(pv_count(x), pv_count(idx));
      size_t l3;
      uint8_t *again = ser(x, &l3);
      CHECK_MSG(l3 == len && memcmp(again, b, len) == 0,
                "%s: the loaded index does not save as the original", SMALL[st].name);
      free(again);
      pv_free(x);
    }
    pv_section_info info[16];
    size_t count = 0;
    CHECK_OK(pv_read_sections(opt, len2, info, 16, &count));
    CHECK_EQ_INT(count, rd32(b + 96) + 1);
    if (count >= 1 && count <= 16) {
      CHECK_EQ_INT(info[count - 1].kind, 1000);
      CHECK_EQ_INT(info[count - 1].required, 0);
      CHECK(info[count - 1].checksum_ok);
      CHECK(strcmp(info[count - 1].name, "unknown") == 0);
      CHECK(strcmp(info[0].name, "vectors") == 0 && info[0].required);
    }
    opt[rd64(opt + 88) - 64 + 1] ^= 0x10; /* inside the payload */
    REJECT(opt, len2, "a damaged optional section", PV_CORRUPT);
    free(opt);
    uint8_t *req = with_section(b, len, 1000, 1, payload, sizeof payload, &len2);
    REQUIRE(req);
    REJECT(req, len2, "an unknown required section", PV_VERSION);
    CHECK_STR_HAS(pv_errmsg(NULL), "kind 1000");
    CHECK_STR_HAS(pv_errmsg(NULL), "upgrade");
    free(req);
    uint8_t *known = with_section(b, len, 5, 0, payload, sizeof payload, &len2);
    REQUIRE(known);
    REJECT(known, len2, "a known kind again, optional", PV_CORRUPT);
    free(known);
    free(b);
    pv_free(idx);
  }
}

/* Reachability, proven by the library's checker: a file whose graph is
 * valid link by link but where no list points to one level-0 node loads
 * (the loader checks structure, not reachability), passes pv_check, and
 * pv_check_reachable counts that node (and any reached only through it);
 * the untouched file counts none. */
void test_persist_unreachable_counted(void) {
  for (int st = 0; st < 2; st++) {
    pv_index *idx = make_index(&SMALL[st], 930 + st);
    REQUIRE(idx);
    size_t len, unreachable = 99;
    CHECK_OK(pv_check_reachable(idx, &unreachable));
    CHECK_EQ_INT(unreachable, 0);
    uint8_t *b = ser(idx, &len);
    fview f;
    fview_read(b, &f);
    /* a live level-0 node other than the entry point */
    const uint8_t *del = b + f.off[K_DEL];
    uint32_t x = f.n;
    for (uint32_t s = 0; s < f.n && x == f.n; s++) {
      int dead = 0;
      for (uint32_t i = 0; i < f.n - f.live; i++) dead |= rd32(del + 4 * i) == s;
      if (!dead && s != f.entry && level_of(b, &f, s) == 0) x = s;
    }
    REQUIRE(x < f.n);
    int removed = 0;
    for (uint32_t s = 0; s < f.n; s++) {
      uint8_t *l = list0(b, &f, s);
      uint32_t c = rd32(l), w = 0;
      for (uint32_t i = 1; i <= c; i++) {
        uint32_t t = rd32(WORD(l, i));
        if (t == x) removed++;
        else wr32(WORD(l, 1 + w++), t);
      }
      for (uint32_t i = w; i < c; i++) wr32(WORD(l, 1 + i), 0);
      wr32(l, w);
    }
    REQUIRE(removed > 0);
    fix_crcs(b, len, 0);
    pv_index *y = NULL;
    CHECK_OK(pv_load(b, len, PV_LOAD_COPY, &y));
    if (y) {
      CHECK_OK(pv_check(y));
      CHECK_OK(pv_check_reachable(y, &unreachable));
      CHECK_MSG(unreachable >= 1, "%s: node %u has no in-links, yet %zu unreachable",
                SMALL[st].name, x, unreachable);
      pv_free(y);
    }
    free(b);
    pv_free(idx);
  }
}
