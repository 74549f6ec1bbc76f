/* SPDX-License-Identifier: MIT */
/*
 * Documents and filters: keys, attributes, upsert, attribute edits,
 * filtered search against a brute-force model, persistence, and every
 * allocation failing in turn.
 */
#include <stdlib.h>

#include "test.h"

#define DIM 8

static pv_index *mk(pv_metric metric, pv_storage storage) {
  pv_options o = tu_opts(DIM, metric, storage);
  o.m = 8;
  o.ef_construction = 64;
  pv_index *idx = NULL;
  if (pv_new(&o, &idx) != PV_OK) return NULL;
  return idx;
}

static int up(pv_index *idx, const char *key, const float *v, const char *attrs, uint32_t *id) {
  pv_doc d = {key, key ? strlen(key) : 0, v, attrs, attrs ? strlen(attrs) : 0, 0, NULL, 0};
  return pv_upsert(idx, &d, id);
}

static pv_filter *compile(const char *text) {
  pv_filter *f = NULL;
  int rc = pv_filter_compile(NULL, text, strlen(text), &f);
  CHECK_MSG(rc == PV_OK, "compile %s: %s", text, pv_errmsg(NULL));
  return f;
}

/* The attributes of id as a NUL-terminated string in buf. */
static const char *attrs_of(pv_index *idx, uint32_t id, char *buf, size_t cap) {
  size_t len = 0;
  if (pv_get_attributes(idx, id, buf, cap - 1, &len) != PV_OK) return "(error)";
  buf[len] = '\0';
  return buf;
}

void test_docs_keys_basics(void) {
  pv_index *idx = mk(PV_L2, PV_F32);
  REQUIRE(idx);
  float a[DIM] = {1, 0, 0, 0, 0, 0, 0, 0}, b[DIM] = {0, 1, 0, 0, 0, 0, 0, 0};
  uint32_t id1, id2, id3, got;
  REQUIRE_OK(up(idx, "note-1", a, "{\"x\":1,\"s\":\"h\\u00e9\"}", &id1));
  REQUIRE_OK(pv_lookup(idx, "note-1", 6, &got));
  CHECK_EQ_INT(got, id1);
  const char *k;
  size_t kl;
  REQUIRE_OK(pv_get_key(idx, id1, &k, &kl));
  CHECK(kl == 6 && !memcmp(k, "note-1", 6));
  char buf[256];
  CHECK_STR_HAS(attrs_of(idx, id1, buf, sizeof buf), "\"x\":1");
  CHECK_STR_HAS(attrs_of(idx, id1, buf, sizeof buf), "\"s\":\"h\xc3\xa9\"");

  /* a replaced document gets a new id and the old one leaves at once */
  REQUIRE_OK(up(idx, "note-1", b, NULL, &id2));
  CHECK(id2 != id1);
  CHECK(!pv_contains(idx, id1));
  REQUIRE_OK(pv_lookup(idx, "note-1", 6, &got));
  CHECK_EQ_INT(got, id2);
  CHECK_STR_HAS(attrs_of(idx, id2, buf, sizeof buf), "{}");
  pv_hit h[4];
  size_t nh;
  REQUIRE_OK(pv_search(idx, a, 4, 0, h, &nh));
  CHECK_EQ_INT(nh, 1);
  CHECK_EQ_INT(h[0].id, id2);

  /* a vector without a key */
  REQUIRE_OK(pv_add(idx, a, &id3));
  REQUIRE_OK(pv_get_key(idx, id3, &k, &kl));
  CHECK(k == NULL && kl == 0);
  CHECK_STR_HAS(attrs_of(idx, id3, buf, sizeof buf), "{}");
  CHECK_EQ_INT(pv_count(idx), 2);

  CHECK_OK(pv_delete_key(idx, "note-1", 6));
  CHECK_RC(pv_lookup(idx, "note-1", 6, &got), PV_NOTFOUND);
  CHECK_RC(pv_delete_key(idx, "note-1", 6), PV_NOTFOUND);
  CHECK_RC(pv_get_key(idx, id2, &k, &kl), PV_NOTFOUND);
  /* the key is free again, and ids are never reused */
  uint32_t id4;
  REQUIRE_OK(up(idx, "note-1", a, "{}", &id4));
  CHECK(id4 > id3);
  CHECK_OK(pv_check(idx));
  pv_free(idx);
}

void test_docs_bad_input(void) {
  pv_index *idx = mk(PV_COSINE, PV_SQ8);
  REQUIRE(idx);
  float v[DIM] = {1, 2, 3, 4, 5, 6, 7, 8}, nan[DIM] = {1, 2, 3, 4, 5, 6, 7, 8};
  nan[3] = NAN;
  uint32_t id;
  REQUIRE_OK(up(idx, "keep", v, "{\"a\":[1,2,{\"b\":null}]}", &id));
  tu_snap snap;
  tu_snap_take(idx, v, &snap);

  pv_doc d = {"", 0, v, NULL, 0, 0, NULL, 0};
  CHECK_RC(pv_upsert(idx, &d, NULL), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(idx), "empty");
  static char longkey[PV_MAX_KEY_BYTES + 2];
  memset(longkey, 'k', sizeof longkey - 1);
  d.key = longkey;
  d.key_len = PV_MAX_KEY_BYTES + 1;
  CHECK_RC(pv_upsert(idx, &d, NULL), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(idx), "1025 bytes");
  d.key_len = PV_MAX_KEY_BYTES; /* the longest key is fine */
  CHECK_OK(pv_upsert(idx, &d, &id));
  CHECK_OK(pv_delete(idx, id));
  tu_snap_take(idx, v, &snap);
  d.key = "\xff\xfe";
  d.key_len = 2;
  CHECK_RC(pv_upsert(idx, &d, NULL), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(idx), "UTF-8");
  CHECK_RC(up(idx, "n", nan, NULL, NULL), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(idx), "document \"n\"");
  CHECK_STR_HAS(pv_errmsg(idx), "NaN");
  CHECK_RC(up(idx, "n", NULL, NULL, NULL), PV_INVALID);
  CHECK_RC(up(idx, "j", v, "[1]", NULL), PV_INVALID);
  CHECK_RC(up(idx, "j", v, "{\"x\":}", NULL), PV_INVALID);
  pv_error_info info;
  pv_errinfo(idx, &info);
  CHECK_EQ_INT(info.offset, 5);
  CHECK_STR_HAS(pv_errmsg(idx), "document \"j\"");

  /* a batch fails as a whole and names the bad document */
  pv_doc batch[3] = {{"a", 1, v, NULL, 0, 0, NULL, 0}, {"b", 1, nan, NULL, 0, 0, NULL, 0}, {"c", 1, v, NULL, 0, 0, NULL, 0}};
  uint32_t ids[3];
  CHECK_RC(pv_upsert_batch(idx, batch, 3, ids), PV_INVALID);
  pv_errinfo(idx, &info);
  CHECK_EQ_INT(info.item, 1);
  CHECK_EQ_INT(info.element, 3);
  CHECK_STR_HAS(pv_errmsg(idx), "document \"b\"");
  batch[1].vector = v;
  batch[2].attributes = "{\"x\":1,\"x\":2}";
  batch[2].attributes_len = strlen(batch[2].attributes);
  CHECK_RC(pv_upsert_batch(idx, batch, 3, ids), PV_INVALID);
  pv_errinfo(idx, &info);
  CHECK_EQ_INT(info.item, 2);
  CHECK(tu_snap_same(idx, v, &snap));
  CHECK_RC(pv_lookup(idx, "a", 1, &id), PV_NOTFOUND);

  /* reads and edits of what does not exist */
  char buf[8];
  size_t len;
  REQUIRE_OK(pv_lookup(idx, "keep", 4, &id));
  CHECK_RC(pv_get_attributes(idx, id, buf, 4, &len), PV_RANGE);
  pv_errinfo(idx, &info);
  CHECK(len > 4 && info.need == len);
  CHECK_RC(pv_get_attributes(idx, 999, buf, sizeof buf, &len), PV_NOTFOUND);
  CHECK_RC(pv_set_attributes(idx, 999, "{}", 2, PV_ATTR_REPLACE), PV_NOTFOUND);
  CHECK_RC(pv_set_attributes(idx, id, "{}", 2, 7), PV_INVALID);
  CHECK_RC(pv_set_attributes(idx, id, "{\"a\":1e999}", 11, PV_ATTR_MERGE), PV_INVALID);
  CHECK_RC(pv_lookup(idx, "", 0, &id), PV_INVALID);
  CHECK(tu_snap_same(idx, v, &snap));
  CHECK_OK(pv_check(idx));
  pv_free(idx);
}

void test_docs_batch_last_wins(void) {
  pv_index *idx = mk(PV_L2, PV_F32);
  REQUIRE(idx);
  float v[3][DIM] = {{1}, {0, 1}, {0, 0, 1}};
  pv_doc batch[4] = {{"a", 1, v[0], "{\"n\":1}", 7, 0, NULL, 0},
                     {"b", 1, v[1], NULL, 0, 0, NULL, 0},
                     {NULL, 0, v[1], "{\"n\":3}", 7, 0, NULL, 0},
                     {"a", 1, v[2], "{\"n\":2}", 7, 0, NULL, 0}};
  uint32_t ids[4];
  REQUIRE_OK(pv_upsert_batch(idx, batch, 4, ids));
  CHECK_EQ_INT(pv_count(idx), 3);
  CHECK_EQ_INT(ids[0], ids[3]);
  CHECK(ids[1] != ids[3] && ids[2] != ids[3] && ids[1] != ids[2]);
  uint32_t a;
  REQUIRE_OK(pv_lookup(idx, "a", 1, &a));
  CHECK_EQ_INT(a, ids[3]);
  char buf[64];
  CHECK_STR_HAS(attrs_of(idx, a, buf, sizeof buf), "\"n\":2");
  float got[DIM];
  REQUIRE_OK(pv_get(idx, a, got));
  CHECK(got[2] == 1);
  CHECK_OK(pv_check(idx));
  pv_free(idx);
}

void test_docs_set_attributes(void) {
  pv_index *idx = mk(PV_L2, PV_F32);
  REQUIRE(idx);
  float v[DIM] = {1};
  uint32_t id, id2;
  REQUIRE_OK(up(idx, "k", v, "{\"a\":1,\"b\":\"x\"}", &id));
  REQUIRE_OK(pv_set_attributes(idx, id, "{\"b\":\"y\",\"c\":true}", 18, PV_ATTR_MERGE));
  char buf[128];
  CHECK_STR_HAS(attrs_of(idx, id, buf, sizeof buf), "\"a\":1");
  CHECK_STR_HAS(attrs_of(idx, id, buf, sizeof buf), "\"b\":\"y\"");
  CHECK_STR_HAS(attrs_of(idx, id, buf, sizeof buf), "\"c\":true");
  REQUIRE_OK(pv_lookup(idx, "k", 1, &id2));
  CHECK_EQ_INT(id2, id);
  pv_filter *fy = compile("b == \"y\""), *fx = compile("b == \"x\""), *fa = compile("exists(a)");
  size_t n;
  CHECK_OK(pv_find(idx, fy, NULL, 0, &n));
  CHECK_EQ_INT(n, 1);
  CHECK_OK(pv_find(idx, fx, NULL, 0, &n));
  CHECK_EQ_INT(n, 0);
  pv_hit h[2];
  CHECK_OK(pv_search_filter(idx, v, 2, 0, fx, h, &n));
  CHECK_EQ_INT(n, 0);
  CHECK_OK(pv_search_filter(idx, v, 2, 0, fy, h, &n));
  CHECK_EQ_INT(n, 1);
  REQUIRE_OK(pv_set_attributes(idx, id, "{\"z\":0}", 7, PV_ATTR_REPLACE));
  CHECK_STR_HAS(attrs_of(idx, id, buf, sizeof buf), "{\"z\":0}");
  CHECK_OK(pv_search_filter(idx, v, 2, 0, fa, h, &n));
  CHECK_EQ_INT(n, 0);
  REQUIRE_OK(pv_set_attributes(idx, id, NULL, 0, PV_ATTR_REPLACE));
  CHECK_STR_HAS(attrs_of(idx, id, buf, sizeof buf), "{}");
  REQUIRE_OK(pv_lookup(idx, "k", 1, &id2)); /* the key survives */
  CHECK_OK(pv_check(idx));
  pv_filter_free(fy);
  pv_filter_free(fx);
  pv_filter_free(fa);
  pv_free(idx);
}

/* ---- the model ------------------------------------------------------------ */
#define MN 1600 /* ids the model can issue */
#define NCAT 40

typedef struct mdoc {
  int has, cat, rank, t1, t2, flag, opt;
} mdoc;

typedef struct model {
  float v[MN][DIM];
  double stored[MN * DIM];
  unsigned char live[MN], mask[MN];
  mdoc d[MN];
  int key_of[MN]; /* the key number of an id, or -1 */
  int id_of_key[MN];
  uint32_t next;
} model;

static void random_doc(uint64_t *s, mdoc *d) {
  double u = tu_unif(s);
  d->has = tu_below(s, 20) != 0;
  d->cat = (int)(NCAT * u * u * u); /* skewed: c0 is common, c39 rare */
  d->rank = (int)tu_below(s, 1000);
  d->t1 = (int)tu_below(s, 12);
  d->t2 = (int)tu_below(s, 12);
  d->flag = (int)tu_below(s, 3) == 0;
  d->opt = (int)tu_below(s, 10) == 0;
}

static void doc_json(const mdoc *d, char *buf, size_t cap) {
  if (!d->has) {
    buf[0] = '\0';
    return;
  }
  snprintf(buf, cap, "{\"cat\":\"c%d\",\"rank\":%d,\"tags\":[\"t%d\",\"t%d\"],\"flag\":%s%s}",
           d->cat, d->rank, d->t1, d->t2, d->flag ? "true" : "false", d->opt ? ",\"opt\":null" : "");
}

/* The filter templates, as text and as the model evaluates them. */
enum { F_CAT, F_RANK, F_TAG, F_CAT_RANK, F_NOT_FLAG, F_IN, F_OPT, F_OR, F_NE, F_COUNT };

static void filter_text(int kind, int a, int b, char *buf, size_t cap) {
  switch (kind) {
  case F_CAT: snprintf(buf, cap, "cat == \"c%d\"", a); break;
  case F_RANK: snprintf(buf, cap, "rank < %d", b); break;
  case F_TAG: snprintf(buf, cap, "tags contains \"t%d\"", a % 12); break;
  case F_CAT_RANK: snprintf(buf, cap, "cat == \"c%d\" and rank >= %d", a, b); break;
  case F_NOT_FLAG: snprintf(buf, cap, "not (flag == true)"); break;
  case F_IN: snprintf(buf, cap, "cat in [\"c%d\", \"c%d\"]", a, (a + 7) % NCAT); break;
  case F_OPT: snprintf(buf, cap, "exists(opt)"); break;
  case F_OR: snprintf(buf, cap, "rank >= %d or cat == \"c%d\"", 900 + b / 10, a); break;
  default: snprintf(buf, cap, "cat != \"c%d\"", a); break;
  }
}

static int filter_model(int kind, int a, int b, const mdoc *d) {
  if (!d->has) return kind == F_NOT_FLAG;
  switch (kind) {
  case F_CAT: return d->cat == a;
  case F_RANK: return d->rank < b;
  case F_TAG: return d->t1 == a % 12 || d->t2 == a % 12;
  case F_CAT_RANK: return d->cat == a && d->rank >= b;
  case F_NOT_FLAG: return !d->flag;
  case F_IN: return d->cat == a || d->cat == (a + 7) % NCAT;
  case F_OPT: return d->opt;
  case F_OR: return d->rank >= 900 + b / 10 || d->cat == a;
  default: return d->cat != a;
  }
}

static void model_upsert(pv_index *idx, model *m, uint64_t *s, int key) {
  if (m->next >= MN) return;
  uint32_t id = m->next;
  tu_rand_vec(s, m->v[id], DIM);
  random_doc(s, &m->d[id]);
  char json[256], name[16];
  doc_json(&m->d[id], json, sizeof json);
  snprintf(name, sizeof name, "key-%d", key);
  uint32_t got;
  int rc = up(idx, name, m->v[id], json[0] ? json : NULL, &got);
  CHECK_MSG(rc == PV_OK && got == id, "upsert %s: %d %s, id %u for %u", name, rc, pv_errmsg(idx),
            got, id);
  if (rc) return;
  int old = m->id_of_key[key];
  if (old >= 0) m->live[old] = 0;
  m->id_of_key[key] = (int)id;
  m->key_of[id] = key;
  m->live[id] = 1;
  tu_ref_stored(PV_L2, m->v[id], m->stored + (size_t)id * DIM, DIM);
  m->next++;
}

void test_docs_filtered_model(void) {
  static model m;
  memset(&m, 0, sizeof m);
  for (int i = 0; i < MN; i++) m.id_of_key[i] = m.key_of[i] = -1;
  pv_index *idx = mk(PV_L2, PV_F32);
  REQUIRE(idx);
  uint64_t s = 1207;
  double found = 0, want = 0;
  long searches = 0, tiny = 0;
  for (int round = 0; round < 60 && m.next < MN; round++) {
    /* writes: new keys, replaced keys, deletes, attribute edits */
    for (int w = 0; w < 40; w++) {
      uint32_t r = tu_below(&s, 100);
      if (r < 60) {
        model_upsert(idx, &m, &s, (int)tu_below(&s, 900));
      } else if (r < 75) {
        uint32_t id = tu_below(&s, m.next ? m.next : 1);
        if (id < m.next && m.live[id]) {
          char name[16];
          snprintf(name, sizeof name, "key-%d", m.key_of[id]);
          CHECK_OK(pv_delete_key(idx, name, strlen(name)));
          m.live[id] = 0;
          m.id_of_key[m.key_of[id]] = -1;
        }
      } else {
        uint32_t id = tu_below(&s, m.next ? m.next : 1);
        if (id < m.next && m.live[id]) {
          mdoc *d = &m.d[id];
          char json[256];
          if (d->has && r < 90) { /* merge a new rank and category */
            d->rank = (int)tu_below(&s, 1000);
            d->cat = (int)tu_below(&s, NCAT);
            snprintf(json, sizeof json, "{\"rank\":%d,\"cat\":\"c%d\"}", d->rank, d->cat);
            CHECK_OK(pv_set_attributes(idx, id, json, strlen(json), PV_ATTR_MERGE));
          } else {
            random_doc(&s, d);
            doc_json(d, json, sizeof json);
            CHECK_OK(pv_set_attributes(idx, id, json[0] ? json : NULL, strlen(json),
                                       PV_ATTR_REPLACE));
          }
        }
      }
    }
    if (round % 7 == 6) CHECK_OK(pv_compact(idx));
    REQUIRE_MSG(pv_check(idx) == PV_OK, "round %d: %s", round, pv_errmsg(idx));

    /* reads: every template, exact and approximate, against the model */
    for (int kind = 0; kind < F_COUNT; kind++) {
      int a = (int)tu_below(&s, NCAT), b = (int)tu_below(&s, 1000);
      char text[128];
      filter_text(kind, a, b, text, sizeof text);
      pv_filter *f = compile(text);
      REQUIRE(f);
      size_t nmatch = 0;
      for (uint32_t id = 0; id < m.next; id++) {
        m.mask[id] = m.live[id] && filter_model(kind, a, b, &m.d[id]);
        nmatch += m.mask[id];
      }
      size_t count;
      CHECK_OK(pv_find(idx, f, NULL, 0, &count));
      CHECK_MSG(count == nmatch, "%s: pv_find counts %zu, the model %zu", text, count, nmatch);
      float *q = m.v[tu_below(&s, m.next)];
      double qs[DIM];
      tu_ref_stored(PV_L2, q, qs, DIM);
      size_t k = 1 + tu_below(&s, 12);
      pv_hit h[16];
      size_t nh;
      REQUIRE_OK(pv_search_exact_filter(idx, q, k, 0, f, h, &nh));
      tu_check_topk(PV_L2, m.stored, m.mask, m.next, DIM, qs, k, h, nh, 1e-5);
      pv_hit e[16];
      size_t ne = nh;
      memcpy(e, h, sizeof(pv_hit) * nh);
      REQUIRE_OK(pv_search_filter(idx, q, k, 24, f, h, &nh));
      CHECK_MSG(nh == (k < nmatch ? k : nmatch), "%s: %zu hits, %zu match, k %zu", text, nh,
                nmatch, k);
      CHECK(tu_hits_sorted(h, nh));
      for (size_t i = 0; i < nh; i++) {
        CHECK_MSG(h[i].id < m.next && m.mask[h[i].id], "%s: hit %u does not match", text,
                  h[i].id);
        found += tu_hits_have(e, ne, h[i].id);
      }
      want += (double)ne;
      searches++;
      tiny += nmatch < 20;
      pv_filter_free(f);
    }
  }
  CHECK_MSG(found >= 0.95 * want, "filtered recall %.3f over %ld searches", found / want,
            searches);
  CHECK_MSG(tiny > 10, "only %ld searches with fewer than 20 matches", tiny);

  /* a save and a load answer identically */
  size_t len = pv_serialized_size(idx);
  uint8_t *buf = tu_xmalloc(len);
  REQUIRE_OK(pv_serialize_to(idx, buf, len, &len));
  pv_index *copy = NULL;
  REQUIRE_OK(pv_load(buf, len, PV_LOAD_COPY, &copy));
  CHECK_OK(pv_check(copy));
  for (int kind = 0; kind < F_COUNT; kind++) {
    char text[128];
    filter_text(kind, kind * 3, 500, text, sizeof text);
    pv_filter *f = compile(text);
    pv_hit h1[10], h2[10];
    size_t n1, n2;
    CHECK_OK(pv_search_filter(idx, m.v[kind], 10, 0, f, h1, &n1));
    CHECK_OK(pv_search_filter(copy, m.v[kind], 10, 0, f, h2, &n2));
    CHECK_MSG(n1 == n2 && !memcmp(h1, h2, sizeof(pv_hit) * n1), "%s differs after a load", text);
    pv_filter_free(f);
  }
  for (uint32_t id = 0; id < m.next; id++) {
    if (!m.live[id]) continue;
    char name[16], a1[256], a2[256];
    snprintf(name, sizeof name, "key-%d", m.key_of[id]);
    uint32_t got;
    CHECK_MSG(pv_lookup(copy, name, strlen(name), &got) == PV_OK && got == id, "%s after a load",
              name);
    CHECK(!strcmp(attrs_of(idx, id, a1, sizeof a1), attrs_of(copy, id, a2, sizeof a2)));
  }
  /* the next ids and keys go on as in the original */
  float v[DIM] = {0.5f};
  uint32_t i1, i2;
  CHECK_OK(up(idx, "key-0", v, NULL, &i1));
  CHECK_OK(up(copy, "key-0", v, NULL, &i2));
  CHECK_EQ_INT(i1, i2);
  free(buf);
  pv_free(copy);
  pv_free(idx);
}

void test_docs_sections(void) {
  pv_index *idx = mk(PV_L2, PV_F32);
  REQUIRE(idx);
  float v[DIM] = {1};
  REQUIRE_OK(pv_add(idx, v, NULL));
  uint8_t buf[8192];
  size_t len, count;
  pv_section_info sec[16];
  REQUIRE_OK(pv_serialize_to(idx, buf, sizeof buf, &len));
  REQUIRE_OK(pv_read_sections(buf, len, sec, 16, &count));
  size_t plain = count;
  for (size_t i = 0; i < count; i++) CHECK(strcmp(sec[i].name, "documents"));
  /* a plain index's file does not change with this feature: no section */
  float v2[DIM] = {2}; /* not a copy of v: copies would add their own section */
  REQUIRE_OK(up(idx, "k", v2, "{\"a\":\"b\"}", NULL));
  REQUIRE_OK(pv_serialize_to(idx, buf, sizeof buf, &len));
  REQUIRE_OK(pv_read_sections(buf, len, sec, 16, &count));
  CHECK_EQ_INT(count, plain + 1);
  int seen = 0;
  for (size_t i = 0; i < count; i++)
    if (!strcmp(sec[i].name, "documents")) seen = sec[i].required && sec[i].checksum_ok;
  CHECK(seen);
  pv_free(idx);
}

/* ---- every allocation failing in turn ------------------------------------ */
typedef struct dsnap {
  size_t count;
  uint32_t id_k3;
  char attrs[256];
  size_t nfound;
} dsnap;

static void dsnap_take(pv_index *idx, pv_filter *f, dsnap *s) {
  memset(s, 0, sizeof *s);
  s->count = pv_count(idx);
  s->id_k3 = UINT32_MAX;
  pv_lookup(idx, "k3", 2, &s->id_k3);
  if (s->id_k3 != UINT32_MAX) attrs_of(idx, s->id_k3, s->attrs, sizeof s->attrs);
  pv_find(idx, f, NULL, 0, &s->nfound);
}

/* Returns 1 if rc is PV_OK; on PV_NOMEM checks that nothing changed. */
static int fault_rc(pv_index *idx, pv_filter *f, const dsnap *before, int rc, const char *what,
                    long *nomems) {
  if (rc == PV_OK) return 1;
  CHECK_MSG(rc == PV_NOMEM, "%s: %d (%s)", what, rc, pv_errmsg(idx));
  (*nomems)++;
  dsnap after;
  dsnap_take(idx, f, &after);
  CHECK_MSG(!memcmp(before, &after, sizeof after), "%s: PV_NOMEM changed the index", what);
  CHECK_MSG(pv_check(idx) == PV_OK, "%s: %s", what, pv_errmsg(idx));
  return 0;
}

static void docs_workload(tu_alloc *a, long *nomems) {
  static float v[64][DIM];
  uint64_t s = 31;
  tu_rand_vec(&s, &v[0][0], 64 * DIM);
  pv_allocator al = tu_alloc_allocator(a);
  pv_options o = tu_opts(DIM, PV_L2, PV_SQ8);
  o.m = 4;
  o.ef_construction = 16;
  o.allocator = &al;
  pv_index *idx = NULL;
  if (pv_new(&o, &idx) != PV_OK) return;
  pv_filter *f = NULL;
  const char *ft = "cat == \"c1\" or (rank < 20 and tags contains \"x\")";
  al = tu_alloc_allocator(a);
  if (pv_filter_compile(idx, ft, strlen(ft), &f) != PV_OK) {
    CHECK_EQ_INT(pv_errcode(idx), PV_NOMEM);
    pv_free(idx);
    return;
  }
  dsnap snap;
  dsnap_take(idx, f, &snap);
  pv_doc d[40];
  char keys[40][8], json[40][96];
  for (int i = 0; i < 40; i++) {
    snprintf(keys[i], sizeof keys[i], "k%d", i % 30);
    snprintf(json[i], sizeof json[i], "{\"cat\":\"c%d\",\"rank\":%d,\"tags\":[\"x\",%d]}", i % 3,
             i, i);
    pv_doc x = {keys[i], strlen(keys[i]), v[i], json[i], strlen(json[i]), 0, NULL, 0};
    d[i] = x;
  }
  for (int step = 0; step < 2; step++) {
    for (int attempt = 0; attempt < 2; attempt++) {
      dsnap_take(idx, f, &snap);
      if (fault_rc(idx, f, &snap, pv_upsert_batch(idx, d + 20 * step, 20, NULL), "upsert", nomems))
        break;
    }
  }
  pv_hit h[8];
  size_t nh;
  dsnap_take(idx, f, &snap);
  for (int attempt = 0; attempt < 2; attempt++)
    if (fault_rc(idx, f, &snap, pv_search_filter(idx, v[5], 8, 0, f, h, &nh), "search", nomems))
      break;
  for (int attempt = 0; attempt < 2 && snap.id_k3 != UINT32_MAX; attempt++) {
    dsnap_take(idx, f, &snap);
    if (fault_rc(idx, f, &snap,
                 pv_set_attributes(idx, snap.id_k3, "{\"rank\":1,\"new\":[1,2]}", 22, PV_ATTR_MERGE),
                 "set_attributes", nomems))
      break;
  }
  for (int attempt = 0; attempt < 2; attempt++) {
    dsnap_take(idx, f, &snap);
    if (fault_rc(idx, f, &snap, pv_search_filter(idx, v[9], 8, 40, f, h, &nh), "search", nomems))
      break;
  }
  size_t fl;
  char fb[512];
  dsnap_take(idx, f, &snap);
  int rc = pv_fields(idx, fb, sizeof fb, &fl);
  fault_rc(idx, f, &snap, rc, "fields", nomems);
  for (int i = 0; i < 12; i++) pv_delete_key(idx, keys[i], strlen(keys[i])); /* auto compaction */
  dsnap_take(idx, f, &snap);
  fault_rc(idx, f, &snap, pv_compact(idx), "compact", nomems);
  tu_fault_reload(idx, &al, nomems);
  CHECK_OK(pv_check(idx));
  pv_filter_free(f);
  pv_free(idx);
}

void test_docs_fault(void) {
  tu_fault_loop(docs_workload, __FILE__, __LINE__);
}

void test_docs_fields(void) {
  pv_index *idx = mk(PV_L2, PV_F32);
  REQUIRE(idx);
  float v[DIM] = {1};
  REQUIRE_OK(up(idx, "1", v, "{\"a.b\":\"s\",\"and\":1,\"x\":[1,\"t\"]}", NULL));
  REQUIRE_OK(up(idx, "2", v, "{\"a\":{\"b\":1},\"x\":{\"y`z\":null}}", NULL));
  char buf[512];
  size_t len;
  REQUIRE_OK(pv_fields(idx, buf, sizeof buf - 1, &len));
  buf[len] = '\0';
  /* one member named a.b and the path a -> b are two fields, each named as
   * a filter names it */
  CHECK_STR_HAS(buf, "{\"path\":\"`a.b`\",\"types\":[\"string\"],\"count\":1}");
  CHECK_STR_HAS(buf, "{\"path\":\"a.b\",\"types\":[\"number\"],\"count\":1}");
  CHECK_STR_HAS(buf, "{\"path\":\"`and`\",\"types\":[\"number\"],\"count\":1}");
  CHECK_STR_HAS(buf, "{\"path\":\"x\",\"types\":[\"number\",\"string\",\"array\",\"object\"],\"count\":2}");
  CHECK_STR_HAS(buf, "{\"path\":\"x.`y``z`\",\"types\":[\"null\"],\"count\":1}");
  pv_filter *f = compile("`a.b` == \"s\" and not exists(a.b)");
  size_t n;
  CHECK_OK(pv_find(idx, f, NULL, 0, &n));
  CHECK_EQ_INT(n, 1);
  pv_filter_free(f);
  CHECK_RC(pv_fields(idx, buf, 4, &len), PV_RANGE);
  pv_free(idx);
}

/* A batch large enough that the field indexes are sorted once at its end
 * (PV_FIDX_TAIL and more), then one replacing half of it. */
void test_docs_bulk(void) {
  pv_index *idx = mk(PV_L2, PV_SQ8);
  REQUIRE(idx);
  enum { N = 700 };
  static float v[N][DIM];
  static char keys[N][16], json[N][48];
  static pv_doc d[N];
  uint64_t s = 5;
  tu_rand_vec(&s, &v[0][0], N * DIM);
  for (int round = 0; round < 2; round++) {
    int n = round ? N / 2 : N;
    for (int i = 0; i < n; i++) {
      snprintf(keys[i], sizeof keys[i], "k%d", i);
      snprintf(json[i], sizeof json[i], "{\"n\":%d,\"r\":%d}", round ? N - 1 - i : i, round);
      pv_doc x = {keys[i], strlen(keys[i]), v[i], json[i], strlen(json[i]), 0, NULL, 0};
      d[i] = x;
    }
    REQUIRE_OK(pv_upsert_batch(idx, d, (size_t)n, NULL));
  }
  CHECK_EQ_INT(pv_count(idx), N);
  /* round 0 set n = i for all; round 1 replaced k0..k349 with n = 699 - i,
   * so every n from 350 to 699 is held twice, by k(n) and k(699 - n) */
  const char *texts[] = {"n < 400", "n == 355", "r == 1", "n >= 350 and r == 0", "n in [0, 699]",
                         "n < 350"};
  const size_t want[] = {100, 2, 350, 350, 2, 0};
  for (int t = 0; t < 6; t++) {
    pv_filter *f = compile(texts[t]);
    size_t count;
    CHECK_OK(pv_find(idx, f, NULL, 0, &count));
    CHECK_MSG(count == want[t], "%s: %zu, want %zu", texts[t], count, want[t]);
    pv_hit h[8];
    size_t nh;
    CHECK_OK(pv_search_filter(idx, v[0], 8, 0, f, h, &nh));
    CHECK_EQ_INT(nh, want[t] < 8 ? want[t] : 8);
    pv_filter_free(f);
  }
  CHECK_OK(pv_check(idx));
  pv_free(idx);
}

/* Attributes in the encoding (PV_ATTR_ENCODED): what JSON text gives is
 * taken back encoded, byte for byte; encoded input is checked as a file's
 * is, but the error is the caller's (PV_INVALID, with the offset), and
 * changes nothing. */
void test_docs_encoded(void) {
  pv_index *idx = mk(PV_L2, PV_F32);
  REQUIRE(idx);
  float v[DIM] = {1};
  uint32_t a, b, c;
  REQUIRE_OK(up(idx, "a", v, "{\"n\":1.5,\"s\":\"x\",\"l\":[true,null]}", &a));
  const void *enc;
  size_t elen;
  REQUIRE_OK(pv_get_attributes_encoded(idx, a, &enc, &elen));
  REQUIRE(elen > 0);
  uint8_t copy[128];
  const size_t clen = elen;
  REQUIRE(clen <= sizeof copy);
  memcpy(copy, enc, clen);

  /* upsert and set take it encoded, and JSON reads it back the same */
  pv_doc d = {"b", 1, v, (const char *)copy, clen, PV_ATTR_ENCODED, NULL, 0};
  REQUIRE_OK(pv_upsert(idx, &d, &b));
  char x[128], y[128];
  CHECK(strcmp(attrs_of(idx, a, x, sizeof x), attrs_of(idx, b, y, sizeof y)) == 0);
  REQUIRE_OK(up(idx, "c", v, NULL, &c));
  REQUIRE_OK(pv_get_attributes_encoded(idx, c, &enc, &elen));
  CHECK(elen == 0 && enc == NULL); /* no attributes: no bytes */
  REQUIRE_OK(pv_set_attributes(idx, c, (const char *)copy, 0, PV_ATTR_ENCODED));
  REQUIRE_OK(pv_set_attributes(idx, c, (const char *)copy, clen, PV_ATTR_ENCODED));
  CHECK_STR_HAS(attrs_of(idx, c, x, sizeof x), "\"l\":[true,null]");
  /* a merge of encoded attributes: { "n": 2 } is 6 (object) 12 (bytes
   * after this varint) 1 (member) 1 "n" 3 (number) and 8 bytes of 2.0 */
  const uint8_t two[] = {6, 12, 1, 1, 'n', 3, 0, 0, 0, 0, 0, 0, 0, 0x40};
  REQUIRE_OK(pv_set_attributes(idx, c, (const char *)two, sizeof two, PV_ATTR_MERGE | PV_ATTR_ENCODED));
  CHECK_STR_HAS(attrs_of(idx, c, x, sizeof x), "{\"n\":2,\"s\":\"x\"");
  pv_filter *f = compile("n == 2");
  size_t n;
  uint32_t hit;
  CHECK_OK(pv_find(idx, f, &hit, 1, &n));
  CHECK(n == 1 && hit == c);
  pv_filter_free(f);

  /* bad encodings: PV_INVALID naming the problem and its byte; nothing
   * changes */
  tu_snap snap;
  tu_snap_take(idx, v, &snap);
  static const struct {
    uint8_t b[16];
    size_t n;
    const char *msg;
    int64_t at;
  } bad[] = {
      {{6, 1, 0}, 3, "an empty root object", 0},
      {{4, 1, 'x'}, 3, "the root is not an object", 0},
      {{6, 9, 1, 1, 'a', 0}, 6, "container longer than its parent", 0},
      {{6, 7, 2, 1, 'a', 0, 1, 'a', 0}, 9, "duplicate name at byte 6", 6},
      {{6, 4, 1, 1, 'a', 9}, 6, "unknown type tag at byte 5", 5},
      {{6, 6, 1, 1, 'a', 4, 1, 0xff}, 8, "string not UTF-8", 5},
      {{6, 0x84, 0, 1, 1, 'a', 0}, 7, "bad container length", 0},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    d.attributes = (const char *)bad[i].b;
    d.attributes_len = bad[i].n;
    CHECK_RC(pv_upsert(idx, &d, NULL), PV_INVALID);
    CHECK_STR_HAS(pv_errmsg(idx), "the encoded attributes of document \"b\": ");
    CHECK_STR_HAS(pv_errmsg(idx), bad[i].msg);
    pv_error_info info;
    pv_errinfo(idx, &info);
    CHECK_EQ_INT(info.offset, bad[i].at);
    CHECK_RC(pv_set_attributes(idx, c, (const char *)bad[i].b, bad[i].n, PV_ATTR_ENCODED), PV_INVALID);
    CHECK_STR_HAS(pv_errmsg(idx), "the encoded attributes: ");
    CHECK_STR_HAS(pv_errmsg(idx), bad[i].msg);
  }
  static uint8_t huge[PV_MAX_ATTR_BYTES + 1];
  CHECK_RC(pv_set_attributes(idx, c, (const char *)huge, sizeof huge, PV_ATTR_ENCODED), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(idx), "65537 bytes, more than the 65536 allowed");
  /* JSON text where the encoding is announced is just a bad encoding */
  CHECK_RC(pv_set_attributes(idx, c, "{\"a\":1}", 7, PV_ATTR_ENCODED), PV_INVALID);
  CHECK_RC(pv_set_attributes(idx, c, "{}", 2, 4), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(idx), "flags 4 are unknown");
  d.attributes = NULL;
  d.flags = 8;
  CHECK_RC(pv_upsert(idx, &d, NULL), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(idx), "document \"b\" has flags 8; use 0 or PV_ATTR_ENCODED");
  CHECK(tu_snap_same(idx, v, &snap));
  CHECK_RC(pv_get_attributes_encoded(idx, 999, &enc, &elen), PV_NOTFOUND);
  CHECK_RC(pv_get_attributes_encoded(idx, c, NULL, &elen), PV_INVALID);
  CHECK_OK(pv_check(idx));
  pv_free(idx);
}

/* A condition with few candidates is answered from a list of its index
 * entries (query/plan.c: under 1/512 of the ids, so N is large enough for
 * 11 documents with "x" to qualify): an array holding the value twice lists its
 * document twice, deleted documents stay listed until compaction, and
 * after compaction ids no longer equal slots. Each hit must still come
 * once, live and matching, exactly as the ground truth says. */
void test_docs_listed(void) {
  pv_index *idx = mk(PV_L2, PV_F32);
  REQUIRE(idx);
  enum { N = 12000, EVERY = 1100 };
  static float v[N][DIM];
  uint64_t s = 77;
  tu_rand_vec(&s, &v[0][0], N * DIM);
  uint32_t ids[N];
  for (int i = 0; i < N; i++) {
    char key[16], json[64];
    snprintf(key, sizeof key, "k%d", i);
    /* 1 in EVERY has "x", twice; every one has a number n = i */
    snprintf(json, sizeof json, i % EVERY ? "{\"tags\":[\"y\"],\"n\":%d}" : "{\"tags\":[\"x\",\"x\"],\"n\":%d}", i);
    REQUIRE_OK(up(idx, key, v[i], json, &ids[i]));
  }
  const char *texts[] = {"tags contains \"x\"", "n < 7", "n >= 11990", "n in [3, 50, 51]", "exists(n)"};
  for (int phase = 0; phase < 3; phase++) {
    if (phase == 1) /* delete a third, among them x documents; not compacted yet */
      for (int i = 0; i < N; i += 3) CHECK_OK(pv_delete(idx, ids[i]));
    if (phase == 2) CHECK_OK(pv_compact(idx));
    for (size_t t = 0; t < sizeof texts / sizeof *texts; t++) {
      pv_filter *f = compile(texts[t]);
      REQUIRE(f);
      size_t match;
      CHECK_OK(pv_find(idx, f, NULL, 0, &match));
      for (int q = 0; q < 4; q++) {
        pv_hit h[12], e[12];
        size_t nh, ne;
        CHECK_OK(pv_search_exact_filter(idx, v[q * 2999], 12, 0, f, e, &ne));
        CHECK_OK(pv_search_filter(idx, v[q * 2999], 12, 0, f, h, &nh));
        CHECK_MSG(nh == (match < 12 ? match : 12), "%s, phase %d: %zu hits, %zu match", texts[t],
                  phase, nh, match);
        CHECK(tu_hits_sorted(h, nh));
        for (size_t i = 0; i < nh; i++) {
          CHECK_MSG(pv_contains(idx, h[i].id), "%s: hit %u is deleted", texts[t], h[i].id);
          for (size_t j = 0; j < i; j++) CHECK_MSG(h[j].id != h[i].id, "%s: hit %u twice", texts[t], h[i].id);
        }
        /* Few candidates are scored exactly: the ground truth itself. */
        if (match <= 12)
          for (size_t i = 0; i < nh && i < ne; i++) CHECK(h[i].id == e[i].id);
      }
      pv_filter_free(f);
    }
  }
  CHECK_OK(pv_check(idx));
  pv_free(idx);
}

/* The bytes an index saves to (caller frees). */
static uint8_t *saved(pv_index *idx, size_t *len) {
  size_t n = pv_serialized_size(idx);
  uint8_t *b = tu_xmalloc(n);
  if (pv_serialize_to(idx, b, n, len) != PV_OK) abort();
  return b;
}

/* A batch given one document at a time (pv_batch_*) makes the index that
 * pv_upsert_batch makes of the same documents, byte for byte, though each
 * document's key, attributes and text sat in one buffer overwritten after
 * every add; a rejected document leaves the batch as it was; the batch
 * empties on commit and takes more; freeing an uncommitted one changes
 * nothing. */
void test_docs_batch_streamed(void) {
  pv_index *a = mk(PV_COSINE, PV_SQ8), *b = mk(PV_COSINE, PV_SQ8);
  REQUIRE(a && b);
  enum { N = 40 };
  static float v[N][DIM];
  static char key[N][16], attr[N][48], text[N][64];
  pv_doc d[N];
  uint64_t s = 5;
  for (int i = 0; i < N; i++) {
    tu_rand_vec(&s, v[i], DIM);
    snprintf(key[i], sizeof key[i], "doc-%d", i % 31); /* some keys twice */
    snprintf(attr[i], sizeof attr[i], "{\"n\":%d,\"tags\":[\"t%d\"]}", i, i % 3);
    snprintf(text[i], sizeof text[i], "word%d shared text number %d", i % 5, i);
    d[i] = (pv_doc){key[i], strlen(key[i]), v[i], attr[i], strlen(attr[i]), 0, text[i],
                    i % 7 ? strlen(text[i]) : 0};
    if (i % 7 == 0) d[i].text = NULL;
    if (i % 11 == 0) d[i].key = NULL, d[i].key_len = 0;
  }
  uint32_t ia[N], ib[N];
  REQUIRE_OK(pv_upsert_batch(a, d, N, ia));

  pv_batch *bt = NULL;
  REQUIRE_OK(pv_batch_new(b, &bt));
  CHECK_OK(pv_batch_commit(bt, NULL)); /* empty: a no-op */
  char scratch[256];
  for (int i = 0; i < N; i++) {
    /* Key, attributes and text from a buffer the next document overwrites. */
    pv_doc one = d[i];
    size_t at = 0;
    if (one.key) memcpy(scratch + at, one.key, one.key_len), one.key = scratch + at, at += one.key_len;
    memcpy(scratch + at, one.attributes, one.attributes_len), one.attributes = scratch + at;
    at += one.attributes_len;
    if (one.text) memcpy(scratch + at, one.text, one.text_len), one.text = scratch + at;
    REQUIRE_OK(pv_batch_add(bt, &one));
    memset(scratch, 'x', sizeof scratch);
    if (i == 9) {
      float nan[DIM] = {0};
      nan[2] = NAN;
      pv_doc bad = {"bad", 3, nan, NULL, 0, 0, NULL, 0};
      CHECK_RC(pv_batch_add(bt, &bad), PV_INVALID);
      pv_error_info info;
      pv_errinfo(b, &info);
      CHECK_EQ_INT(info.item, 10);
      CHECK_STR_HAS(pv_errmsg(b), "document \"bad\"");
      CHECK_EQ_INT(pv_batch_count(bt), 10);
    }
  }
  CHECK_EQ_INT(pv_count(b), 0); /* nothing applied before the commit */
  REQUIRE_OK(pv_batch_commit(bt, ib));
  CHECK_EQ_INT(pv_batch_count(bt), 0);
  for (int i = 0; i < N; i++) CHECK_EQ_INT(ia[i], ib[i]);
  size_t la, lb;
  uint8_t *sa = saved(a, &la), *sb = saved(b, &lb);
  CHECK_MSG(la == lb && !memcmp(sa, sb, la), "a streamed batch saves differently");
  free(sa);
  free(sb);
  CHECK_OK(pv_check(b));

  /* It takes more; freed uncommitted, nothing changes. */
  REQUIRE_OK(pv_batch_add(bt, &d[1]));
  REQUIRE_OK(pv_batch_commit(bt, ib));
  CHECK_EQ_INT(pv_count(b), pv_count(a));
  uint32_t id;
  REQUIRE_OK(pv_lookup(b, "doc-1", 5, &id));
  CHECK_EQ_INT(id, ib[0]);
  uint8_t *before = saved(b, &lb);
  REQUIRE_OK(pv_batch_add(bt, &d[2]));
  pv_batch_free(bt);
  size_t lc;
  uint8_t *after = saved(b, &lc);
  CHECK_MSG(lb == lc && !memcmp(before, after, lb), "freeing an uncommitted batch changed the index");
  free(before);
  free(after);
  CHECK_RC(pv_batch_add(NULL, &d[0]), PV_INVALID);
  CHECK_RC(pv_batch_new(b, NULL), PV_INVALID);
  pv_free(a);
  pv_free(b);
}
