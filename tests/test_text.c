/* SPDX-License-Identifier: MIT */
/*
 * Full-text search against a model: documents' text, upserts, deletes,
 * replacements and compaction, with BM25 computed here from the tokens
 * alone (the formula of docs/TEXT.md, nothing of the index's), compared
 * with both the pruned search and the exhaustive one; prefix queries,
 * filters, hybrid fusion against its formulas, errors, and persistence.
 */
#include <stdlib.h>

#include "pvfile.h"
#include "test.h"
#include "text/token.h"

#define VOCAB 300
#define MAXDOCS 3000
#define DIM 8
#define NONE UINT32_MAX

typedef struct mdoc {
  int live;
  uint32_t id;
  uint32_t dl;
  int g; /* attribute "g", 0..9 */
  uint8_t tf[VOCAB];
} mdoc;

typedef struct model {
  mdoc *d; /* by id */
  uint32_t n;
} model;

/* A word of the vocabulary, skewed towards the first ones (Zipf-like):
 * common terms with long posting lists, rare ones with short. */
static uint32_t word(uint64_t *s) {
  double u = tu_unif(s);
  return (uint32_t)(VOCAB * u * u * u);
}

/* Text of len words, in random case, separated by spaces and punctuation,
 * and its term counts. */
static void make_text(uint64_t *s, uint32_t len, char *text, uint8_t *tf) {
  static const char *const SEP[] = {" ", ", ", ". ", " - ", "\n", "; "};
  memset(tf, 0, VOCAB);
  char *o = text;
  for (uint32_t i = 0; i < len; i++) {
    uint32_t w = word(s);
    if (tf[w] < 255) tf[w]++;
    else w = 0, tf[0]++;
    o += sprintf(o, "%s%c%u", i ? SEP[tu_below(s, 6)] : "", tu_below(s, 4) ? 'w' : 'W', w);
  }
  *o = '\0';
}

/* BM25 of doc d for the query's distinct terms q (nq). */
static double model_score(const model *m, const mdoc *d, const int *q, int nq, double k1,
                          double b) {
  double N = 0, total = 0;
  for (uint32_t i = 0; i < m->n; i++)
    if (m->d[i].live && m->d[i].dl) N++, total += m->d[i].dl;
  double avgdl = total / N, s = 0;
  for (int j = 0; j < nq; j++) {
    if (!d->tf[q[j]]) continue;
    double df = 0;
    for (uint32_t i = 0; i < m->n; i++) df += m->d[i].live && m->d[i].tf[q[j]];
    double idf = log(1.0 + (N - df + 0.5) / (df + 0.5)), tf = d->tf[q[j]];
    s += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * d->dl / avgdl));
  }
  return s;
}

static int by_score(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

/* Check hits (n) against the model: the count, each hit's score equal to
 * the model's for its document, the scores those of the model's top k,
 * best first. g_below: only documents with g < g_below match (10: all). */
static void check_against_model(const model *m, const int *q, int nq, double k1, double b,
                                int g_below, size_t k, const pv_match *h, size_t n) {
  double *all = tu_xmalloc(sizeof(double) * (m->n + 1));
  size_t na = 0;
  for (uint32_t i = 0; i < m->n; i++) {
    const mdoc *d = &m->d[i];
    if (!d->live || d->g >= g_below) continue;
    double s = model_score(m, d, q, nq, k1, b);
    if (s > 0) all[na++] = s;
  }
  qsort(all, na, sizeof(double), by_score);
  CHECK_MSG(n == (na < k ? na : k), "%zu hits; the model has %zu matching, k %zu", n, na, k);
  for (size_t i = 0; i < n && i < na; i++) {
    REQUIRE_MSG(h[i].id < m->n && m->d[h[i].id].live, "hit %zu: id %u is not live", i, h[i].id);
    const mdoc *d = &m->d[h[i].id];
    double s = model_score(m, d, q, nq, k1, b);
    CHECK_MSG(d->g < g_below, "hit %u does not match the filter", h[i].id);
    CHECK_MSG(fabs(h[i].score - s) <= 1e-4 * fmax(1, s), "hit %u: score %.7f, model %.7f",
              h[i].id, h[i].score, s);
    CHECK_MSG(fabs(h[i].score - all[i]) <= 1e-4 * fmax(1, all[i]),
              "rank %zu: score %.7f, the model's %.7f", i, h[i].score, all[i]);
    if (i) CHECK(h[i - 1].score > h[i].score || (h[i - 1].score == h[i].score && h[i - 1].id < h[i].id));
  }
  free(all);
}

static void doc_of(model *m, uint32_t id, uint64_t *s, char *text, char *attrs, pv_doc *doc,
                   const float *v) {
  uint32_t len = tu_below(s, 8) == 0 ? 0 : 1 + tu_below(s, 60);
  uint8_t tf[VOCAB];
  make_text(s, len, text, tf);
  int g = (int)tu_below(s, 10);
  sprintf(attrs, "{\"g\":%d}", g);
  if (id >= m->n) m->n = id + 1;
  mdoc *d = &m->d[id];
  d->live = 1;
  d->id = id;
  d->dl = len;
  d->g = g;
  memcpy(d->tf, tf, VOCAB);
  memset(doc, 0, sizeof *doc);
  doc->vector = v;
  doc->attributes = attrs;
  doc->attributes_len = strlen(attrs);
  /* A document without words: sometimes no text at all, sometimes only
   * separators. */
  if (len || tu_below(s, 2)) {
    if (!len) strcpy(text, " ,.; ");
    doc->text = text;
    doc->text_len = strlen(text);
  }
}

/* A random query of 1-4 vocabulary words (and sometimes one the index
 * never saw), as text, and its distinct terms. */
static void make_query(uint64_t *s, char *text, int *q, int *nq) {
  int n = 1 + (int)tu_below(s, 4);
  char *o = text;
  *nq = 0;
  for (int i = 0; i < n; i++) {
    int w = (int)(tu_below(s, 3) ? word(s) : tu_below(s, VOCAB));
    o += sprintf(o, "%sw%d", i ? " " : "", w);
    int j = 0;
    while (j < *nq && q[j] != w) j++;
    if (j == *nq) q[(*nq)++] = w;
  }
  if (tu_below(s, 5) == 0) o += sprintf(o, " nosuchword");
}

static void run_queries(pv_index *idx, model *m, uint64_t *s, int count, const char *when) {
  char text[256];
  int q[8], nq;
  pv_match h[64], e[64];
  for (int i = 0; i < count; i++) {
    make_query(s, text, q, &nq);
    pv_query pq = pv_query_default();
    pq.text = text;
    pq.text_len = strlen(text);
    /* Most k keep the k best in a sorted array, k above 32 in a heap
     * (bm25.c): both, against the model. */
    pq.k = tu_below(s, 4) ? 1 + tu_below(s, 20) : 33 + tu_below(s, 31);
    int g_below = 10;
    pv_filter *f = NULL;
    if (tu_below(s, 3) == 0) {
      g_below = 1 + (int)tu_below(s, 9);
      char ft[32];
      sprintf(ft, "g < %d", g_below);
      REQUIRE_OK(pv_filter_compile(idx, ft, strlen(ft), &f));
      pq.filter = f;
    }
    if (tu_below(s, 4) == 0) {
      pq.k1 = (float)(tu_unif(s) * 3);
      pq.b = (float)tu_unif(s);
    }
    size_t n = 0, ne = 0;
    REQUIRE_OK(pv_query_run(idx, &pq, h, &n));
    pq.exact = 1;
    REQUIRE_OK(pv_query_run(idx, &pq, e, &ne));
    check_against_model(m, q, nq, pq.k1, pq.b, g_below, pq.k, e, ne);
    /* The pruned search finds exactly what the exhaustive one does. */
    CHECK_MSG(n == ne, "%s, query \"%s\": %zu hits pruned, %zu exhaustive", when, text, n, ne);
    for (size_t j = 0; j < n && j < ne; j++)
      CHECK_MSG(h[j].id == e[j].id && h[j].score == e[j].score,
                "%s, query \"%s\" k %zu: hit %zu is %u (%.7f) pruned, %u (%.7f) exhaustive", when,
                text, pq.k, j, h[j].id, h[j].score, e[j].id, e[j].score);
    pv_filter_free(f);
  }
}

static char *key_of(uint32_t i) {
  static char k[32];
  sprintf(k, "doc-%u", i);
  return k;
}

void test_text_bm25_model(void) {
  pv_options o = tu_opts(DIM, PV_L2, PV_F32);
  o.compact_threshold = 0; /* compaction when the test says */
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  model m = {tu_xcalloc(MAXDOCS + 600, sizeof(mdoc)), 0};
  uint32_t *id_of_key = tu_xcalloc(1000, sizeof(uint32_t));
  uint64_t s = 7;
  static char texts[1000][60 * 8];
  static char attrs[1000][16];
  static float vecs[1000][DIM];
  pv_doc *docs = tu_xcalloc(1000, sizeof(pv_doc));
  uint32_t *ids = tu_xcalloc(1000, sizeof(uint32_t));

  /* 1000 documents keyed doc-0 .. doc-999, in one batch. */
  for (uint32_t i = 0; i < 1000; i++) {
    tu_rand_vec(&s, vecs[i], DIM);
    doc_of(&m, i, &s, texts[i], attrs[i], &docs[i], vecs[i]);
    docs[i].key = key_of(i);
    docs[i].key = strcpy(tu_xmalloc(16), docs[i].key);
    docs[i].key_len = strlen(docs[i].key);
  }
  REQUIRE_OK(pv_upsert_batch(idx, docs, 1000, ids));
  for (uint32_t i = 0; i < 1000; i++) {
    CHECK_EQ_INT(ids[i], i);
    id_of_key[i] = ids[i];
  }
  CHECK_MSG(pv_check(idx) == PV_OK, "%s", pv_errmsg(idx));
  run_queries(idx, &m, &s, 150, "after the batch");

  /* Rounds of replacements (upserts of existing keys), deletes and new
   * documents one by one, then a compaction. */
  for (int round = 0; round < 3; round++) {
    for (int op = 0; op < 150; op++) {
      uint32_t kx = tu_below(&s, 1000);
      uint32_t old = id_of_key[kx];
      if (tu_below(&s, 3) == 0) {
        if (old == NONE) continue;
        CHECK_OK(pv_delete_key(idx, key_of(kx), strlen(key_of(kx))));
        m.d[old].live = 0;
        id_of_key[kx] = NONE;
      } else {
        uint32_t id = m.n;
        REQUIRE(id < MAXDOCS + 600);
        pv_doc d;
        doc_of(&m, id, &s, texts[kx], attrs[kx], &d, vecs[kx]);
        d.key = key_of(kx);
        d.key_len = strlen(d.key);
        uint32_t got = NONE;
        REQUIRE_OK(pv_upsert(idx, &d, &got));
        CHECK_EQ_INT(got, id);
        if (old != NONE) m.d[old].live = 0;
        id_of_key[kx] = id;
      }
    }
    CHECK_OK(pv_check(idx));
    run_queries(idx, &m, &s, 60, "after replacements and deletes");
    CHECK_OK(pv_compact(idx));
    CHECK_OK(pv_check(idx));
    run_queries(idx, &m, &s, 60, "after compaction");
  }
  for (uint32_t i = 0; i < 1000; i++) free((void *)docs[i].key);
  free(docs);
  free(ids);
  free(id_of_key);
  free(m.d);
  pv_free(idx);
}

/* The last word of a prefix query also matches the longer terms it
 * begins; the others only themselves. */
void test_text_prefix(void) {
  pv_options o = tu_opts(DIM, PV_L2, PV_F32);
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  model m = {tu_xcalloc(1000, sizeof(mdoc)), 0};
  uint64_t s = 99;
  static char text[60 * 8], attrs[16];
  float v[DIM];
  for (uint32_t i = 0; i < 1000; i++) {
    pv_doc d;
    tu_rand_vec(&s, v, DIM);
    doc_of(&m, i, &s, text, attrs, &d, v);
    REQUIRE_OK(pv_upsert(idx, &d, NULL));
  }
  static const char *const QUERIES[] = {"w5 w29", "w29", "w1 w2 w19", "W7 w28"};
  for (size_t qi = 0; qi < sizeof QUERIES / sizeof QUERIES[0]; qi++) {
    /* The model's terms: the words, and for the last one every vocabulary
     * word it begins that some live document holds. */
    int q[40], nq = 0;
    char buf[64];
    strcpy(buf, QUERIES[qi]);
    char *last = strrchr(buf, ' ');
    last = last ? last + 1 : buf;
    for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) {
      if (w == last) break;
      q[nq++] = atoi(w + 1);
    }
    for (int w = 0; w < VOCAB; w++) {
      char ws[16];
      sprintf(ws, "%d", w);
      if (strncmp(ws, last + 1, strlen(last + 1))) continue;
      int j = 0;
      while (j < nq && q[j] != w) j++;
      if (j == nq) q[nq++] = w;
    }
    for (int exact = 0; exact < 2; exact++) {
      pv_query pq = pv_query_default();
      pq.text = QUERIES[qi];
      pq.text_len = strlen(pq.text);
      pq.prefix = 1;
      pq.exact = exact;
      pq.k = 15;
      pv_match h[15];
      size_t n = 0;
      REQUIRE_OK(pv_query_run(idx, &pq, h, &n));
      check_against_model(&m, q, nq, 1.2, 0.75, 10, 15, h, n);
    }
  }
  free(m.d);
  pv_free(idx);
}

/* Every query of a set gives the same hits (ids and scores, bit for bit)
 * on a and on b. */
static void same_answers(pv_index *a, pv_index *b, uint64_t seed, const char *when) {
  char text[256];
  int q[8], nq;
  pv_match x[10], y[10];
  for (int i = 0; i < 80; i++) {
    make_query(&seed, text, q, &nq);
    pv_query pq = pv_query_default();
    pq.text = text;
    pq.text_len = strlen(text);
    pq.prefix = i % 3 == 0;
    size_t nx = 0, ny = 0;
    REQUIRE_OK(pv_query_run(a, &pq, x, &nx));
    REQUIRE_OK(pv_query_run(b, &pq, y, &ny));
    CHECK_MSG(nx == ny, "%s: \"%s\": %zu hits, then %zu", when, text, nx, ny);
    for (size_t j = 0; j < nx && j < ny; j++)
      CHECK_MSG(x[j].id == y[j].id && x[j].score == y[j].score, "%s: \"%s\": hit %zu differs",
                when, text, j);
  }
}

static uint8_t *save(pv_index *idx, size_t *len) {
  *len = pv_serialized_size(idx);
  uint8_t *buf = tu_xmalloc(*len);
  size_t got = 0;
  CHECK_OK(pv_serialize_to(idx, buf, *len, &got));
  CHECK_EQ_INT(got, *len);
  return buf;
}

/* A saved text index loads with the same answers, the same tokenizer
 * options, and saves again to the same bytes; upserts after the load go
 * on from the same state. Damaged text sections are refused. */
void test_text_persist(void) {
  pv_options o = tu_opts(DIM, PV_COSINE, PV_SQ8);
  o.text = PV_TEXT_STOPWORDS;
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  model m = {tu_xcalloc(800, sizeof(mdoc)), 0};
  uint64_t s = 5;
  static char text[60 * 8], attrs[16];
  float v[DIM];
  for (uint32_t i = 0; i < 700; i++) {
    pv_doc d;
    tu_rand_vec(&s, v, DIM);
    doc_of(&m, i, &s, text, attrs, &d, v);
    REQUIRE_OK(pv_upsert(idx, &d, NULL));
  }
  for (uint32_t id = 0; id < 700; id += 7) CHECK_OK(pv_delete(idx, id)); /* postings stay */
  size_t len = 0, len2 = 0;
  uint8_t *buf = save(idx, &len);
  pv_index *back = NULL;
  REQUIRE_OK(pv_load(buf, len, 0, &back));
  CHECK_OK(pv_check(back));
  pv_options ob;
  pv_get_options(back, &ob);
  CHECK_EQ_INT(ob.text, PV_TEXT_STOPWORDS); /* the loader keeps the option, as pv_new did */
  same_answers(idx, back, 11, "loaded");
  uint8_t *buf2 = save(back, &len2);
  CHECK(len == len2 && memcmp(buf, buf2, len) == 0);
  free(buf2);
  /* The same next write on both. */
  for (uint32_t i = 0; i < 30; i++) {
    pv_doc d;
    tu_rand_vec(&s, v, DIM);
    doc_of(&m, 700 + i, &s, text, attrs, &d, v);
    uint32_t ia = 0, ib = 0;
    REQUIRE_OK(pv_upsert(idx, &d, &ia));
    REQUIRE_OK(pv_upsert(back, &d, &ib));
    CHECK_EQ_INT(ia, ib);
  }
  CHECK_OK(pv_compact(back));
  CHECK_OK(pv_check(back));
  same_answers(idx, back, 12, "written after the load");
  /* The stopword option came back with the index: "the" is not a term. */
  pv_doc d = {NULL, 0, v, NULL, 0, 0, "the", 3};
  uint32_t id = 0;
  REQUIRE_OK(pv_upsert(back, &d, &id));
  pv_query pq = pv_query_default();
  pq.text = "the";
  pq.text_len = 3;
  pv_match h[10];
  size_t n = 9;
  CHECK_OK(pv_query_run(back, &pq, h, &n));
  CHECK_EQ_INT(n, 0);
  pv_free(back);

  /* Every byte of the text section flipped, one at a time: refused or
   * loaded whole (a flip the checksum misses cannot happen: each section
   * has its own). Truncations are refused. */
  int refused = 0;
  for (size_t at = 0; at < len; at += 1 + at / 64) {
    buf[at] ^= 0x40;
    pv_index *x = NULL;
    int rc = pv_load(buf, len, 0, &x);
    if (rc == PV_OK) CHECK_OK(pv_check(x));
    else refused++;
    pv_free(x);
    buf[at] ^= 0x40;
  }
  CHECK(refused > 0);
  free(buf);
  free(m.d);
  pv_free(idx);
}

/* Bad input is a clear error and changes nothing. */
void test_text_errors(void) {
  pv_options o = tu_opts(DIM, PV_L2, PV_F32);
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  float v[DIM] = {1};
  pv_doc good = {"a", 1, v, NULL, 0, 0, "hello world", 11};
  REQUIRE_OK(pv_upsert(idx, &good, NULL));
  /* Invalid UTF-8 in a batch: nothing of the batch goes in. */
  pv_doc batch[2] = {{"b", 1, v, NULL, 0, 0, "fine text", 9},
                     {"c", 1, v, NULL, 0, 0, "bad \xff byte", 10}};
  CHECK_RC(pv_upsert_batch(idx, batch, 2, NULL), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(idx), "not valid UTF-8");
  CHECK_STR_HAS(pv_errmsg(idx), "\"c\"");
  pv_error_info info;
  pv_errinfo(idx, &info);
  CHECK_EQ_INT(info.item, 1);
  CHECK_EQ_INT(info.offset, 4);
  CHECK_EQ_INT(pv_count(idx), 1);
  pv_doc nul = {"d", 1, v, NULL, 0, 0, NULL, 5};
  CHECK_RC(pv_upsert(idx, &nul, NULL), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(idx), "no text");
  CHECK_OK(pv_check(idx));

  pv_match h[4];
  size_t n = 7;
  pv_query q = pv_query_default();
  CHECK_RC(pv_query_run(idx, &q, h, &n), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(idx), "neither a vector nor text");
  CHECK_EQ_INT(n, 0);
  q.text = "hello";
  q.text_len = 5;
  q.k = 0;
  CHECK_RC(pv_query_run(idx, &q, h, &n), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(idx), "k is 0");
  q.k = 4;
  q.b = 1.5f;
  CHECK_RC(pv_query_run(idx, &q, h, &n), PV_INVALID);
  q.b = 0.75f;
  q.k1 = NAN;
  CHECK_RC(pv_query_run(idx, &q, h, &n), PV_INVALID);
  q.k1 = 1.2f;
  q.fusion = (pv_fusion)7;
  CHECK_RC(pv_query_run(idx, &q, h, &n), PV_INVALID);
  q.fusion = PV_FUSE_WEIGHTED;
  q.w_vector = q.w_text = 0;
  CHECK_RC(pv_query_run(idx, &q, h, &n), PV_INVALID);
  q = pv_query_default();
  q.k = 4;
  q.text = "caf\xc3";
  q.text_len = 4;
  CHECK_RC(pv_query_run(idx, &q, h, &n), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(idx), "not valid UTF-8");
  pv_errinfo(idx, &info);
  CHECK_EQ_INT(info.offset, 3);
  /* Too many distinct terms. */
  char *big = tu_xmalloc(300 * 8);
  char *w = big;
  for (int i = 0; i < 300; i++) w += sprintf(w, "t%d ", i);
  q.text = big;
  q.text_len = strlen(big);
  CHECK_RC(pv_query_run(idx, &q, h, &n), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(idx), "more than 256 distinct terms");
  free(big);
  /* Still answers. */
  q.text = "HELLO";
  q.text_len = 5;
  CHECK_OK(pv_query_run(idx, &q, h, &n));
  CHECK_EQ_INT(n, 1);
  /* Unknown text flags. */
  o.text = 8;
  pv_index *x = NULL;
  CHECK_RC(pv_new(&o, &x), PV_INVALID);
  pv_free(idx);
}

/* Hybrid: both sides run under the filter and fuse by the formulas. */
void test_text_hybrid(void) {
  pv_options o = tu_opts(DIM, PV_L2, PV_F32);
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  model m = {tu_xcalloc(600, sizeof(mdoc)), 0};
  uint64_t s = 3;
  static char text[60 * 8], attrs[16];
  static float v[500][DIM];
  for (uint32_t i = 0; i < 500; i++) {
    pv_doc d;
    tu_rand_vec(&s, v[i], DIM);
    doc_of(&m, i, &s, text, attrs, &d, v[i]);
    REQUIRE_OK(pv_upsert(idx, &d, NULL));
  }
  pv_filter *f = NULL;
  REQUIRE_OK(pv_filter_compile(idx, "g < 5", 5, &f));
  for (int round = 0; round < 40; round++) {
    char qt[256];
    int qw[8], nq;
    make_query(&s, qt, qw, &nq);
    pv_query q = pv_query_default();
    q.vector = v[tu_below(&s, 500)];
    q.text = qt;
    q.text_len = strlen(qt);
    q.k = 1 + tu_below(&s, 10);
    q.window = q.k + tu_below(&s, 30);
    q.exact = 1;
    q.filter = round % 2 ? f : NULL;
    if (round % 3 == 0) {
      q.fusion = PV_FUSE_WEIGHTED;
      q.w_vector = (float)tu_unif(&s);
      q.w_text = 1 - q.w_vector;
    }
    pv_match got[40], th[64];
    pv_hit vh[64];
    size_t n = 0, tn = 0, vn = 0;
    REQUIRE_OK(pv_query_run(idx, &q, got, &n));
    /* The two sides alone, through the API. */
    pv_query t = q;
    t.vector = NULL;
    t.k = q.window;
    REQUIRE_OK(pv_query_run(idx, &t, th, &tn));
    REQUIRE_OK(pv_search_exact_filter(idx, q.vector, q.window, 0, q.filter, vh, &vn));
    /* Fuse here: every id of either list, its fused score by the formula. */
    for (size_t i = 0; i < n; i++) {
      double want = 0, dist = NAN, ts = 0;
      for (size_t j = 0; j < vn; j++) {
        if (vh[j].id != got[i].id) continue;
        dist = vh[j].distance;
        want += q.fusion == PV_FUSE_RRF ? 1.0 / (60.0 + (double)(j + 1))
                : q.w_vector * (vh[vn - 1].distance > vh[0].distance
                                    ? (vh[vn - 1].distance - vh[j].distance) /
                                          (vh[vn - 1].distance - vh[0].distance)
                                    : 1.0);
      }
      for (size_t j = 0; j < tn; j++) {
        if (th[j].id != got[i].id) continue;
        ts = th[j].score;
        want += q.fusion == PV_FUSE_RRF ? 1.0 / (60.0 + (double)(j + 1))
                : q.w_text * (th[0].score > th[tn - 1].score
                                  ? (th[j].score - th[tn - 1].score) / (th[0].score - th[tn - 1].score)
                                  : 1.0);
      }
      CHECK_MSG(want > 0, "hit %u is in neither list", got[i].id);
      CHECK_MSG(fabs(got[i].score - want) <= 1e-5 * fmax(1, want), "hit %u: fused %.7f, formula %.7f",
                got[i].id, got[i].score, want);
      CHECK(isnan(dist) ? isnan(got[i].distance) : got[i].distance == (float)dist);
      CHECK(got[i].text_score == (float)ts);
      if (q.filter) CHECK(m.d[got[i].id].g < 5);
      if (i) CHECK(got[i - 1].score >= got[i].score);
    }
    /* Nothing better was left out: the count is min(k, the union). */
    size_t uni = vn;
    for (size_t j = 0; j < tn; j++) {
      int dup = 0;
      for (size_t i = 0; i < vn; i++) dup |= vh[i].id == th[j].id;
      uni += !dup;
    }
    CHECK_EQ_INT(n, uni < q.k ? uni : q.k);
  }
  /* Vector only through pv_query_run: pv_search's hits, score = -distance. */
  pv_query q = pv_query_default();
  q.vector = v[0];
  q.k = 5;
  pv_match got[5];
  pv_hit vh[5];
  size_t n = 0, vn = 0;
  REQUIRE_OK(pv_query_run(idx, &q, got, &n));
  REQUIRE_OK(pv_search(idx, v[0], 5, 0, vh, &vn));
  CHECK_EQ_INT(n, vn);
  for (size_t i = 0; i < n && i < vn; i++)
    CHECK(got[i].id == vh[i].id && got[i].distance == vh[i].distance && got[i].score == -vh[i].distance);
  pv_filter_free(f);
  free(m.d);
  pv_free(idx);
}

/* ---- fault injection -------------------------------------------------------- */

typedef struct tsnap {
  size_t n[4];
  pv_match h[4][8];
  size_t count;
} tsnap;

static const char *const SNAPQ[4] = {"w1 w2", "w0", "w5 w17 w40", "w3"};

static void tsnap_take(pv_index *idx, tu_alloc *a, tsnap *s) {
  a->paused = 1;
  for (int i = 0; i < 4; i++) {
    pv_query q = pv_query_default();
    q.text = SNAPQ[i];
    q.text_len = strlen(q.text);
    q.k = 8;
    q.exact = 1;
    s->n[i] = 0;
    CHECK_OK(pv_query_run(idx, &q, s->h[i], &s->n[i]));
  }
  s->count = pv_count(idx);
  a->paused = 0;
}

/* After a call returned rc: PV_OK, or PV_NOMEM with the index as before. */
static void tfault_rc(pv_index *idx, tu_alloc *a, const tsnap *before, int rc, const char *what,
                      long *nomems) {
  CHECK_MSG(rc == PV_OK || rc == PV_NOMEM, "%s: %d %s", what, rc, pv_errmsg(idx));
  a->paused = 1;
  CHECK_MSG(pv_check(idx) == PV_OK, "%s (alloc %ld): %s", what, a->fail_at, pv_errmsg(idx));
  a->paused = 0;
  if (rc != PV_NOMEM) return;
  (*nomems)++;
  tsnap now;
  tsnap_take(idx, a, &now);
  CHECK_MSG(now.count == before->count, "%s failed but the count changed", what);
  for (int i = 0; i < 4; i++) {
    CHECK_MSG(now.n[i] == before->n[i], "%s failed but query %d changed", what, i);
    for (size_t j = 0; j < now.n[i] && j < before->n[i]; j++)
      CHECK(now.h[i][j].id == before->h[i][j].id && now.h[i][j].score == before->h[i][j].score);
  }
}

static void text_workload(tu_alloc *a, long *nomems) {
  pv_allocator al = tu_alloc_allocator(a);
  pv_options o = tu_opts(DIM, PV_L2, PV_F32);
  o.allocator = &al;
  o.compact_threshold = 0;
  pv_index *idx = NULL;
  if (pv_new(&o, &idx) != PV_OK) return;
  model m = {tu_xcalloc(200, sizeof(mdoc)), 0};
  uint64_t s = 21;
  static char texts[60][60 * 8], attrs[60][16], keys[60][8];
  static float v[60][DIM];
  pv_doc d[60];
  for (int i = 0; i < 60; i++) {
    tu_rand_vec(&s, v[i], DIM);
    doc_of(&m, (uint32_t)i, &s, texts[i], attrs[i], &d[i], v[i]);
    sprintf(keys[i], "k%d", i % 40);
    d[i].key = keys[i];
    d[i].key_len = strlen(keys[i]);
  }
  tsnap snap;
  tsnap_take(idx, a, &snap);
  tfault_rc(idx, a, &snap, pv_upsert_batch(idx, d, 30, NULL), "batch", nomems);
  /* The same through a batch given a document at a time: an add that
   * fails leaves the batch, a commit that fails leaves the index. */
  tsnap_take(idx, a, &snap);
  pv_batch *bt = NULL;
  int brc = pv_batch_new(idx, &bt);
  for (int i = 30; i < 45 && brc == PV_OK; i++) {
    brc = pv_batch_add(bt, &d[i]);
    CHECK_EQ_INT(pv_batch_count(bt), (size_t)(i - 30 + (brc == PV_OK)));
  }
  if (!brc) {
    brc = pv_batch_commit(bt, NULL);
    CHECK_EQ_INT(pv_batch_count(bt), brc ? 15 : 0); /* kept when the commit fails */
  }
  pv_batch_free(bt);
  tfault_rc(idx, a, &snap, brc, "pv_batch", nomems);
  for (int i = 45; i < 60; i++) {
    tsnap_take(idx, a, &snap);
    tfault_rc(idx, a, &snap, pv_upsert(idx, &d[i], NULL), "upsert", nomems);
  }
  tsnap_take(idx, a, &snap);
  CHECK_OK(pv_delete_key(idx, "k3", 2));
  CHECK_OK(pv_check(idx));
  pv_match h[8];
  size_t n = 0;
  pv_query q = pv_query_default();
  q.text = "w1 w2 w3";
  q.text_len = strlen(q.text);
  q.vector = v[0];
  q.k = 8;
  q.prefix = 1;
  int rc = pv_query_run(idx, &q, h, &n);
  CHECK_MSG(rc == PV_OK || rc == PV_NOMEM, "hybrid: %d", rc);
  tsnap_take(idx, a, &snap);
  tfault_rc(idx, a, &snap, pv_compact(idx), "compact", nomems);
  tu_fault_reload(idx, &al, nomems);
  free(m.d);
  pv_free(idx);
}

void test_text_fault(void) {
  tu_fault_loop(text_workload, __FILE__, __LINE__);
}

/* CJK text through the index: a run of characters is indexed as the pairs
 * of neighbours, so a query of a word matches where that word stands and
 * not where its characters merely occur; a one-character query finds a
 * character standing alone, and as a prefix also the pairs it begins. */
static uint32_t cjk_query(pv_index *idx, const char *text, int prefix, uint32_t *ids) {
  pv_query q = pv_query_default();
  q.text = text;
  q.text_len = strlen(text);
  q.prefix = prefix;
  pv_match m[8];
  size_t n = 0;
  CHECK_OK(pv_query_run(idx, &q, m, &n));
  for (size_t i = 0; i < n; i++) ids[i] = m[i].id;
  /* ascending, to compare as sets */
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
      uint32_t x = ids[j];
      ids[j] = ids[j - 1];
      ids[j - 1] = x;
    }
  return (uint32_t)n;
}

void test_text_cjk(void) {
  pv_options o = tu_opts(DIM, PV_L2, PV_F32);
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  static const char *const TEXT[] = {
      "\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd\xe3\x81\xab\xe4\xbd\x8f\xe3\x82\x80", /* 0 東京都に住む */
      "\xe4\xba\xac\xe9\x83\xbd\xe3\x81\xae\xe5\xaf\xba",                         /* 1 京都の寺 */
      "\xe6\x9d\xb1 \xe3\x81\xa8 \xe8\xa5\xbf",                                   /* 2 東 と 西 */
      "Tokyo \xe6\x9d\xb1\xe4\xba\xac",                                           /* 3 Tokyo 東京 */
  };
  float v[DIM] = {0};
  for (int i = 0; i < 4; i++) {
    pv_doc d = {NULL, 0, v, NULL, 0, 0, TEXT[i], strlen(TEXT[i])};
    REQUIRE_OK(pv_upsert(idx, &d, NULL));
  }
  uint32_t ids[8];
  /* 東京: documents 0 and 3, not 1 (京都) nor 2 (東 alone). */
  CHECK_EQ_INT(cjk_query(idx, "\xe6\x9d\xb1\xe4\xba\xac", 0, ids), 2);
  CHECK_EQ_INT(ids[0], 0);
  CHECK_EQ_INT(ids[1], 3);
  /* 京都: 0 and 1. */
  CHECK_EQ_INT(cjk_query(idx, "\xe4\xba\xac\xe9\x83\xbd", 0, ids), 2);
  CHECK_EQ_INT(ids[0], 0);
  CHECK_EQ_INT(ids[1], 1);
  /* 東 alone: only where it stands alone; as a prefix, also 東京. */
  CHECK_EQ_INT(cjk_query(idx, "\xe6\x9d\xb1", 0, ids), 1);
  CHECK_EQ_INT(ids[0], 2);
  CHECK_EQ_INT(cjk_query(idx, "\xe6\x9d\xb1", 1, ids), 3);
  CHECK_EQ_INT(ids[0], 0);
  CHECK_EQ_INT(ids[1], 2);
  CHECK_EQ_INT(ids[2], 3);
  /* Mixed scripts: the Latin word is a word of its own. */
  CHECK_EQ_INT(cjk_query(idx, "tokyo", 0, ids), 1);
  CHECK_EQ_INT(ids[0], 3);
  CHECK_OK(pv_check(idx));
  pv_free(idx);
}

/* Ids are never reused, so the ids of an index can be far apart: years of
 * upserts, or a file that says so. The text index's memory follows its
 * documents, not the highest id: a file whose next id is near 2^32 loads
 * in a few megabytes (a bitmap over every id would be 512 MB), and its new
 * documents, with ids up there, are found next to the old ones. */
void test_text_sparse_ids(void) {
  pv_options o = tu_opts(DIM, PV_L2, PV_F32);
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  static const char *const TEXT[] = {"red apple", "green pear", "yellow banana"};
  float v[DIM] = {0};
  for (int i = 0; i < 3; i++) {
    v[0] = (float)i;
    pv_doc d = {NULL, 0, v, NULL, 0, 0, TEXT[i], strlen(TEXT[i])};
    REQUIRE_OK(pv_upsert(idx, &d, NULL));
  }
  size_t len = 0;
  uint8_t *b = save(idx, &len);
  pv_free(idx);
  const uint32_t next = 0xFFFFFF00u;
  wr32(b + 68, next); /* the header's next id */
  fix_crcs(b, len, 0);
  pv_index *x = NULL;
  REQUIRE_OK(pv_load(b, len, 0, &x));
  CHECK_OK(pv_check(x));
  CHECK_MSG(pv_memory_usage(x) < 4u << 20, "%zu bytes for 3 documents", pv_memory_usage(x));
  uint32_t ids[8];
  pv_doc d = {NULL, 0, v, NULL, 0, 0, "banana split", 12};
  uint32_t id = 0;
  REQUIRE_OK(pv_upsert(x, &d, &id));
  CHECK_EQ_INT(id, next);
  CHECK_EQ_INT(cjk_query(x, "banana", 0, ids), 2);
  CHECK_EQ_INT(ids[0], 2);
  CHECK_EQ_INT(ids[1], next);
  CHECK_OK(pv_delete(x, 2));
  CHECK_EQ_INT(cjk_query(x, "banana", 0, ids), 1);
  CHECK_EQ_INT(ids[0], next);
  CHECK_EQ_INT(cjk_query(x, "apple", 0, ids), 1);
  CHECK_EQ_INT(ids[0], 0);
  CHECK_OK(pv_check(x));
  CHECK(pv_memory_usage(x) < 4u << 20);
  /* Saved and loaded again: the same. */
  size_t len2 = 0;
  uint8_t *b2 = save(x, &len2);
  pv_index *y = NULL;
  REQUIRE_OK(pv_load(b2, len2, 0, &y));
  CHECK_OK(pv_check(y));
  CHECK_EQ_INT(cjk_query(y, "banana", 0, ids), 1);
  CHECK_EQ_INT(ids[0], next);
  pv_free(y);
  free(b2);
  pv_free(x);
  free(b);
}

/* A slot that compaction emptied is filled by the next insert: it must not
 * keep the text record of the document that moved down from it (found by
 * the change log's model test: pv_check failed, then a double free). */
void test_text_slot_reused_after_compaction(void) {
  pv_options o = tu_opts(4, PV_L2, PV_SQ8);
  o.compact_threshold = 0.3f;
  pv_index *idx;
  REQUIRE_OK(pv_new(&o, &idx));
  float v[4] = {1, 2, 3, 4}, w[4] = {4, 3, 2, 1};
  pv_doc d = {"doc", 3, v, NULL, 0, 0, "some words", 10};
  CHECK_OK(pv_upsert(idx, &d, NULL));
  CHECK_OK(pv_add(idx, w, NULL));
  d.vector = w;
  CHECK_OK(pv_upsert(idx, &d, NULL)); /* replaces slot 0: compaction moves the rest down */
  CHECK_EQ_INT(pv_deleted_count(idx), 0);
  CHECK_OK(pv_add(idx, v, NULL)); /* takes the slot the text record moved from */
  CHECK_OK(pv_check(idx));
  pv_doc plain = {"plain", 5, v, NULL, 0, 0, NULL, 0};
  CHECK_OK(pv_upsert(idx, &plain, NULL));
  CHECK_OK(pv_check(idx));
  pv_free(idx);
}
