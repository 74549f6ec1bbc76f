/* SPDX-License-Identifier: MIT */
/*
 * Compatibility with format version 1: the files in tests/fixtures/v1/ were
 * written by pocketvec 0.1.0 (format 1) and must load and answer exactly as
 * that code answered, whatever format the library writes now. Each NAME.pv
 * has a NAME.expect beside it (tests/fixtures/make_v1.c describes its
 * format; tests/fixtures/README.md says which commit wrote them) holding the
 * options, counts, next id, live ids, some pv_get results and, for ten
 * queries, the top 10 of pv_search (ef 0 and ef 10) and pv_search_exact,
 * every float as its bits. The comparisons are bit for bit.
 *
 *   - compat_v1_header: pv_read_header says version 1 and the header's
 *     counts and settings; pv_verify accepts the file.
 *   - compat_v1_load: pv_load in each mode (COPY from a buffer scribbled
 *     over and freed at once, BORROW from a 64-byte-aligned buffer that must
 *     stay unchanged, TAKE), pv_check, every expected answer, then one
 *     pv_add that must get the expected next id.
 *   - compat_v1_resave: the loaded index saved again with pv_serialize (in
 *     whatever format the library writes now: the bytes are not compared
 *     with the v1 file) and loaded again answers the same and issues the
 *     same next id.
 *
 * Public API only, so the test outlives any change inside the library. The
 * fixtures are found next to this source file (tests/fixtures/v1 when, as
 * `make test` does, the compiler is given tests/test_compat.c and the
 * binary runs from the repository root), or in $PV_TEST_FIXTURES.
 */
#include <stdlib.h>

#include "test.h"

/* The fixtures, by name; each is NAME.pv and NAME.expect. */
static const char *const FIXTURES[] = {
    "f32_cosine_d17", "sq8_l2_d33", "f32_dot_d8_m4", "empty_d5", "sq8_cosine_d24", "f32_l2_alldel_d3",
};
#define NFIXTURES (sizeof FIXTURES / sizeof FIXTURES[0])

#define K 10         /* every recorded search asks for 10 hits */
#define MAX_SEARCH 4 /* pv_search lines per query */

static const char *const MODE_NAME[] = {"COPY", "BORROW", "TAKE"};

/* ======================================================================== */
/* Reading the fixtures                                                     */
/* ======================================================================== */

/* The directory of the fixtures: $PV_TEST_FIXTURES, else tests/fixtures/v1
 * beside this source file. */
static void fixture_path(char *out, size_t cap, const char *name, const char *ext) {
  const char *env = getenv("PV_TEST_FIXTURES");
  if (env && env[0]) {
    snprintf(out, cap, "%s/%s.%s", env, name, ext);
    return;
  }
  const char *file = __FILE__, *slash = strrchr(file, '/');
  int dirlen = slash ? (int)(slash - file + 1) : 0;
  snprintf(out, cap, "%.*sfixtures/v1/%s.%s", dirlen, file, name, ext);
}

/* The whole file, NUL-terminated (malloc'd, caller frees), or NULL after
 * recording a failure. */
static uint8_t *read_fixture(const char *name, const char *ext, size_t *len) {
  char path[1024];
  fixture_path(path, sizeof path, name, ext);
  FILE *f = fopen(path, "rb");
  if (!f) {
    tu_fail(__FILE__, __LINE__,
            "cannot open %s: run the tests from the repository root (as make test does) or "
            "set PV_TEST_FIXTURES to the fixtures' directory",
            path);
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  uint8_t *b = tu_xmalloc(cap + 1);
  size_t got;
  while ((got = fread(b + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      uint8_t *c = realloc(b, 2 * cap + 1);
      if (!c) abort();
      b = c;
      cap *= 2;
    }
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    tu_fail(__FILE__, __LINE__, "cannot read %s", path);
    free(b);
    return NULL;
  }
  b[n] = 0;
  *len = n;
  return b;
}

/* ======================================================================== */
/* The .expect file                                                         */
/* ======================================================================== */

typedef struct xhit {
  uint32_t id, bits; /* distance as float bits */
} xhit;

typedef struct xsearch {
  size_t ef, n;
  xhit hit[K];
} xsearch;

typedef struct xquery {
  float *q; /* dim floats */
  size_t nsearch;
  xsearch search[MAX_SEARCH];
  xsearch exact; /* ef unused */
} xquery;

typedef struct xget {
  uint32_t id;
  int rc;
  uint32_t *bits; /* dim float bits when rc is PV_OK */
} xget;

typedef struct expect {
  const char *name;
  uint64_t bytes;
  uint32_t version;
  pv_options opt; /* capacity unused */
  uint32_t threshold_bits;
  uint64_t count, deleted;
  uint32_t next_id;
  uint32_t *ids;
  size_t nids;
  xget *gets;
  size_t ngets;
  xquery *queries;
  size_t nqueries;
} expect;

static void expect_free(expect *x) {
  for (size_t i = 0; i < x->ngets; i++) free(x->gets[i].bits);
  for (size_t i = 0; i < x->nqueries; i++) free(x->queries[i].q);
  free(x->gets);
  free(x->queries);
  free(x->ids);
  memset(x, 0, sizeof *x);
}

/* A cursor over the text: whitespace-separated tokens, '#' starts a
 * comment that runs to the end of the line. The first error is kept. */
typedef struct cursor {
  const char *p, *start, *name;
  int bad;
} cursor;

static void cur_fail(cursor *c, const char *what) {
  if (!c->bad)
    tu_fail(__FILE__, __LINE__, "%s.expect, byte %ld: %s", c->name, (long)(c->p - c->start), what);
  c->bad = 1;
}

static void cur_skip(cursor *c) {
  for (;;) {
    while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r') c->p++;
    if (*c->p != '#') return;
    while (*c->p && *c->p != '\n') c->p++;
  }
}

/* The next token is word: consume it, else fail. */
static void cur_word(cursor *c, const char *word) {
  if (c->bad) return;
  cur_skip(c);
  size_t n = strlen(word);
  if (strncmp(c->p, word, n) != 0 || (c->p[n] && !strchr(" \t\r\n", c->p[n]))) {
    char msg[96];
    snprintf(msg, sizeof msg, "expected \"%s\"", word);
    cur_fail(c, msg);
    return;
  }
  c->p += n;
}

/* 1 if the next token is word (not consumed). */
static int cur_peek(cursor *c, const char *word) {
  if (c->bad) return 0;
  cur_skip(c);
  size_t n = strlen(word);
  return strncmp(c->p, word, n) == 0 && (!c->p[n] || strchr(" \t\r\n", c->p[n]));
}

/* An unsigned number (decimal, or hex with 0x) at most max; `stop` is the
 * character that may end it besides whitespace (':' in a hit), or 0. */
static uint64_t cur_num(cursor *c, uint64_t max, char stop) {
  if (c->bad) return 0;
  cur_skip(c);
  if (*c->p < '0' || *c->p > '9') {
    cur_fail(c, "expected a number");
    return 0;
  }
  char *end; /* decimal, or hex after 0x (never octal) */
  int hex = c->p[0] == '0' && (c->p[1] == 'x' || c->p[1] == 'X');
  unsigned long long v = strtoull(c->p, &end, hex ? 16 : 10);
  if (v > max || (*end && !strchr(" \t\r\n", *end) && *end != stop)) {
    cur_fail(c, "a number out of range or malformed");
    return 0;
  }
  c->p = end;
  return v;
}

static uint64_t cur_field(cursor *c, const char *word, uint64_t max) {
  cur_word(c, word);
  return cur_num(c, max, 0);
}

/* A name from names[0..n): its index. */
static int cur_name(cursor *c, const char *const *names, int n) {
  if (c->bad) return 0;
  cur_skip(c);
  for (int i = 0; i < n; i++)
    if (cur_peek(c, names[i])) {
      c->p += strlen(names[i]);
      return i;
    }
  cur_fail(c, "an unknown name");
  return 0;
}

static float bits_float(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

/* " N id:bits ..." into s. */
static void cur_hits(cursor *c, xsearch *s) {
  s->n = (size_t)cur_num(c, K, 0);
  for (size_t i = 0; i < s->n && !c->bad; i++) {
    s->hit[i].id = (uint32_t)cur_num(c, UINT32_MAX, ':');
    if (!c->bad && *c->p != ':') cur_fail(c, "expected id:distance-bits");
    if (!c->bad) c->p++;
    s->hit[i].bits = (uint32_t)cur_num(c, UINT32_MAX, 0);
  }
}

/* Parse name's .expect text into *x. 1 on success; on failure records it
 * and returns 0 (x is then freed). */
static int parse_expect(const char *name, const char *text, expect *x) {
  static const char *const METRICS[] = {"cosine", "l2", "dot"};
  static const char *const STORAGES[] = {"f32", "sq8"};
  memset(x, 0, sizeof *x);
  x->name = name;
  cursor c = {text, text, name, 0};
  cur_word(&c, "fixture");
  cur_word(&c, name);
  x->bytes = cur_field(&c, "bytes", UINT64_MAX);
  x->version = (uint32_t)cur_field(&c, "version", UINT32_MAX);
  x->opt.dim = (uint32_t)cur_field(&c, "dim", PV_MAX_DIM);
  cur_word(&c, "metric");
  x->opt.metric = (pv_metric)cur_name(&c, METRICS, 3);
  cur_word(&c, "storage");
  x->opt.storage = (pv_storage)cur_name(&c, STORAGES, 2);
  x->opt.m = (uint32_t)cur_field(&c, "m", PV_MAX_M);
  x->opt.ef_construction = (uint32_t)cur_field(&c, "ef_construction", PV_MAX_EF);
  x->opt.ef_search = (uint32_t)cur_field(&c, "ef_search", PV_MAX_EF);
  x->opt.seed = cur_field(&c, "seed", UINT64_MAX);
  x->threshold_bits = (uint32_t)cur_field(&c, "compact_threshold", UINT32_MAX);
  x->count = cur_field(&c, "count", UINT32_MAX);
  x->deleted = cur_field(&c, "deleted", UINT32_MAX);
  x->next_id = (uint32_t)cur_field(&c, "next_id", UINT32_MAX);
  if (c.bad) goto bad;
  size_t dim = x->opt.dim;

  x->nids = (size_t)cur_field(&c, "ids", 1u << 20);
  x->ids = tu_xmalloc(sizeof(uint32_t) * (x->nids + 1));
  for (size_t i = 0; i < x->nids; i++) x->ids[i] = (uint32_t)cur_num(&c, UINT32_MAX, 0);

  size_t ngets = (size_t)cur_field(&c, "gets", 64);
  x->gets = tu_xcalloc(ngets + 1, sizeof(xget));
  for (x->ngets = 0; x->ngets < ngets && !c.bad; x->ngets++) {
    xget *g = &x->gets[x->ngets];
    g->id = (uint32_t)cur_num(&c, UINT32_MAX, 0);
    g->rc = (int)cur_num(&c, 100, 0);
    if (g->rc != PV_OK) continue;
    g->bits = tu_xmalloc(sizeof(uint32_t) * dim);
    for (size_t d = 0; d < dim; d++) g->bits[d] = (uint32_t)cur_num(&c, UINT32_MAX, 0);
  }

  size_t nq = (size_t)cur_field(&c, "queries", 64);
  if (nq == 0) cur_fail(&c, "no queries (the next-id check adds query 0's vector)");
  x->queries = tu_xcalloc(nq + 1, sizeof(xquery));
  for (x->nqueries = 0; x->nqueries < nq && !c.bad; x->nqueries++) {
    xquery *q = &x->queries[x->nqueries];
    if (cur_field(&c, "query", nq) != x->nqueries) cur_fail(&c, "queries out of order");
    q->q = tu_xmalloc(sizeof(float) * dim);
    for (size_t d = 0; d < dim; d++) q->q[d] = bits_float((uint32_t)cur_num(&c, UINT32_MAX, 0));
    while (cur_peek(&c, "search")) {
      if (q->nsearch == MAX_SEARCH) cur_fail(&c, "too many searches for one query");
      if (c.bad) break;
      xsearch *s = &q->search[q->nsearch++];
      if (cur_field(&c, "search", nq) != x->nqueries) cur_fail(&c, "a search of another query");
      s->ef = (size_t)cur_num(&c, PV_MAX_EF, 0);
      cur_hits(&c, s);
    }
    if (q->nsearch == 0) cur_fail(&c, "a query without a search");
    if (cur_field(&c, "exact", nq) != x->nqueries) cur_fail(&c, "an exact search of another query");
    cur_hits(&c, &q->exact);
  }
  cur_word(&c, "end");
  if (!c.bad) {
    cur_skip(&c);
    if (*c.p) cur_fail(&c, "text after \"end\"");
  }
  if (c.bad) goto bad;
  if (x->nids != x->count) {
    tu_fail(__FILE__, __LINE__, "%s.expect: %zu ids, count %llu", name, x->nids,
            (unsigned long long)x->count);
    goto bad;
  }
  return 1;
bad:
  expect_free(x);
  return 0;
}

/* Both files of fixture i: the .pv bytes (malloc'd, caller frees) and the
 * parsed .expect. NULL after recording a failure. */
static uint8_t *load_fixture(size_t i, size_t *len, expect *x) {
  size_t tlen;
  uint8_t *t = read_fixture(FIXTURES[i], "expect", &tlen);
  if (!t) return NULL;
  int ok = parse_expect(FIXTURES[i], (const char *)t, x);
  free(t);
  if (!ok) return NULL;
  uint8_t *b = read_fixture(FIXTURES[i], "pv", len);
  if (b && *len != x->bytes) {
    tu_fail(__FILE__, __LINE__, "%s.pv has %zu bytes, its .expect says %llu", FIXTURES[i], *len,
            (unsigned long long)x->bytes);
    free(b);
    b = NULL;
  }
  if (!b) expect_free(x);
  return b;
}

/* ======================================================================== */
/* Comparing an index with the expectations                                 */
/* ======================================================================== */

/* The hits of one search against the expected ones: same number, then the
 * same id and distance bits at every rank. Reports the first difference. */
static void same_hits(const char *what, size_t qi, const char *call, const xsearch *want,
                      const pv_hit *got, size_t n) {
  if (n != want->n) {
    tu_fail(__FILE__, __LINE__, "%s: query %zu, %s: %zu hits, expected %zu", what, qi, call, n,
            want->n);
    return;
  }
  for (size_t r = 0; r < n; r++) {
    if (got[r].id != want->hit[r].id || float_bits(got[r].distance) != want->hit[r].bits) {
      tu_fail(__FILE__, __LINE__, "%s: query %zu, %s, rank %zu: %u:0x%08x (%.9g), expected "
              "%u:0x%08x (%.9g)", what, qi, call, r, (unsigned)got[r].id,
              (unsigned)float_bits(got[r].distance), (double)got[r].distance,
              (unsigned)want->hit[r].id, (unsigned)want->hit[r].bits,
              (double)bits_float(want->hit[r].bits));
      return;
    }
  }
}

/* Everything x records, asked of idx: options, counts, live ids, the gets,
 * and every search, bit for bit; and pv_check. */
static void same_answers(pv_index *idx, const expect *x, const char *what) {
  CHECK_MSG(pv_check(idx) == PV_OK, "%s: pv_check: %s", what, pv_errmsg(idx));
  pv_options o;
  pv_get_options(idx, &o);
  CHECK_MSG(o.dim == x->opt.dim && o.metric == x->opt.metric && o.storage == x->opt.storage &&
                o.m == x->opt.m && o.ef_construction == x->opt.ef_construction &&
                o.ef_search == x->opt.ef_search && o.seed == x->opt.seed &&
                float_bits(o.compact_threshold) == x->threshold_bits,
            "%s: options dim %u metric %d storage %d m %u ef_construction %u ef_search %u seed "
            "0x%llx threshold 0x%08x; expected %u %d %d %u %u %u 0x%llx 0x%08x",
            what, (unsigned)o.dim, (int)o.metric, (int)o.storage, (unsigned)o.m,
            (unsigned)o.ef_construction, (unsigned)o.ef_search, (unsigned long long)o.seed,
            (unsigned)float_bits(o.compact_threshold), (unsigned)x->opt.dim, (int)x->opt.metric,
            (int)x->opt.storage, (unsigned)x->opt.m, (unsigned)x->opt.ef_construction,
            (unsigned)x->opt.ef_search, (unsigned long long)x->opt.seed,
            (unsigned)x->threshold_bits);
  if (o.dim != x->opt.dim) return; /* the vectors below have x's dim */
  CHECK_MSG(pv_count(idx) == x->count && pv_deleted_count(idx) == x->deleted,
            "%s: %zu live and %zu deleted, expected %llu and %llu", what, pv_count(idx),
            pv_deleted_count(idx), (unsigned long long)x->count, (unsigned long long)x->deleted);

  uint32_t *ids = tu_xmalloc(sizeof(uint32_t) * (x->nids + 1));
  size_t n = pv_list_ids(idx, ids, x->nids);
  CHECK_MSG(n == x->nids, "%s: pv_list_ids: %zu ids, expected %zu", what, n, x->nids);
  for (size_t i = 0; i < x->nids && i < n; i++) {
    if (ids[i] != x->ids[i]) {
      tu_fail(__FILE__, __LINE__, "%s: live id %zu is %u, expected %u", what, i,
              (unsigned)ids[i], (unsigned)x->ids[i]);
      break;
    }
  }
  for (size_t i = 0; i < x->nids; i++)
    if (!pv_contains(idx, x->ids[i])) {
      tu_fail(__FILE__, __LINE__, "%s: pv_contains(%u) is 0", what, (unsigned)x->ids[i]);
      break;
    }
  free(ids);

  float *v = tu_xmalloc(sizeof(float) * x->opt.dim);
  for (size_t g = 0; g < x->ngets; g++) {
    const xget *e = &x->gets[g];
    int rc = pv_get(idx, e->id, v);
    if (rc != e->rc) {
      tu_fail(__FILE__, __LINE__, "%s: pv_get(%u) returned %d (%s), expected %d", what,
              (unsigned)e->id, rc, pv_errstr(rc), e->rc);
      continue;
    }
    CHECK_MSG(pv_contains(idx, e->id) == (rc == PV_OK), "%s: pv_contains(%u) disagrees with pv_get",
              what, (unsigned)e->id);
    for (size_t d = 0; rc == PV_OK && d < x->opt.dim; d++) {
      if (float_bits(v[d]) != e->bits[d]) {
        tu_fail(__FILE__, __LINE__, "%s: pv_get(%u)[%zu] is 0x%08x (%.9g), expected 0x%08x (%.9g)",
                what, (unsigned)e->id, d, (unsigned)float_bits(v[d]), (double)v[d],
                (unsigned)e->bits[d], (double)bits_float(e->bits[d]));
        break;
      }
    }
  }
  free(v);

  pv_hit h[K];
  char call[64];
  for (size_t qi = 0; qi < x->nqueries; qi++) {
    const xquery *q = &x->queries[qi];
    for (size_t s = 0; s < q->nsearch; s++) {
      size_t nh = 0;
      snprintf(call, sizeof call, "pv_search ef %zu", q->search[s].ef);
      int rc = pv_search(idx, q->q, K, q->search[s].ef, h, &nh);
      if (rc != PV_OK)
        tu_fail(__FILE__, __LINE__, "%s: query %zu, %s: %s", what, qi, call, pv_errmsg(idx));
      else
        same_hits(what, qi, call, &q->search[s], h, nh);
    }
    size_t nh = 0;
    int rc = pv_search_exact(idx, q->q, K, 0, h, &nh);
    if (rc != PV_OK)
      tu_fail(__FILE__, __LINE__, "%s: query %zu, pv_search_exact: %s", what, qi, pv_errmsg(idx));
    else
      same_hits(what, qi, "pv_search_exact", &q->exact, h, nh);
  }
}

/* Add query 0's vector: it must get the expected next id, and the index
 * must stay consistent. */
static void add_gets_next_id(pv_index *idx, const expect *x, const char *what) {
  uint32_t id = UINT32_MAX;
  int rc = pv_add(idx, x->queries[0].q, &id);
  CHECK_MSG(rc == PV_OK, "%s: pv_add: %s", what, pv_errmsg(idx));
  if (rc != PV_OK) return;
  CHECK_MSG(id == x->next_id, "%s: pv_add gave id %u, expected %u", what, (unsigned)id,
            (unsigned)x->next_id);
  CHECK_MSG(pv_count(idx) == x->count + 1 && pv_contains(idx, id), "%s: after pv_add: %zu live",
            what, pv_count(idx));
  CHECK_MSG(pv_check(idx) == PV_OK, "%s: pv_check after pv_add: %s", what, pv_errmsg(idx));
}

/* ======================================================================== */
/* The tests                                                                */
/* ======================================================================== */

void test_compat_v1_header(void) {
  for (size_t i = 0; i < NFIXTURES; i++) {
    const char *name = FIXTURES[i];
    expect x;
    size_t len;
    uint8_t *b = load_fixture(i, &len, &x);
    if (!b) continue;
    pv_header h;
    int rc = pv_read_header(b, len, &h);
    CHECK_MSG(rc == PV_OK, "%s: pv_read_header: %s", name, pv_errmsg(NULL));
    if (rc == PV_OK) {
      CHECK_MSG(h.version == 1 && x.version == 1, "%s: version %u (.expect: %u), expected 1",
                name, (unsigned)h.version, (unsigned)x.version);
      CHECK_MSG(h.header_ok == 1, "%s: header checksum not ok", name);
      CHECK_MSG(h.file_size == len, "%s: header says %llu bytes, the file has %zu", name,
                (unsigned long long)h.file_size, len);
      CHECK_MSG(h.options.dim == x.opt.dim && h.options.metric == x.opt.metric &&
                    h.options.storage == x.opt.storage && h.options.m == x.opt.m &&
                    h.options.ef_construction == x.opt.ef_construction &&
                    h.options.ef_search == x.opt.ef_search && h.options.seed == x.opt.seed &&
                    float_bits(h.options.compact_threshold) == x.threshold_bits,
                "%s: the header's options differ from the .expect's", name);
      CHECK_MSG(h.slots == x.count + x.deleted && h.live == x.count && h.next_id == x.next_id,
                "%s: header slots %u live %u next_id %u; expected %llu %llu %u", name,
                (unsigned)h.slots, (unsigned)h.live, (unsigned)h.next_id,
                (unsigned long long)(x.count + x.deleted), (unsigned long long)x.count,
                (unsigned)x.next_id);
    }
    rc = pv_verify(b, len);
    CHECK_MSG(rc == PV_OK, "%s: pv_verify: %d (%s)", name, rc, pv_errmsg(NULL));
    free(b);
    expect_free(&x);
  }
}

void test_compat_v1_load(void) {
  for (size_t i = 0; i < NFIXTURES; i++) {
    expect x;
    size_t len;
    uint8_t *b = load_fixture(i, &len, &x);
    if (!b) continue;
    for (int mode = 0; mode < 3; mode++) {
      char what[96];
      snprintf(what, sizeof what, "%s (%s)", FIXTURES[i], MODE_NAME[mode]);
      pv_index *idx = NULL;
      uint8_t *buf = NULL;
      int rc;
      if (mode == 0) { /* COPY: nothing may point into the buffer afterwards */
        buf = tu_xmalloc(len);
        memcpy(buf, b, len);
        rc = pv_load(buf, len, PV_LOAD_COPY, &idx);
        memset(buf, 0xA5, len);
        free(buf);
        buf = NULL;
      } else if (mode == 1) { /* BORROW: aligned, so it is read in place */
        buf = aligned_alloc(64, (len + 63) / 64 * 64);
        REQUIRE(buf);
        memcpy(buf, b, len);
        rc = pv_load(buf, len, PV_LOAD_BORROW, &idx);
      } else { /* TAKE: the index owns the buffer from a success on */
        uint8_t *t = tu_xmalloc(len);
        memcpy(t, b, len);
        rc = pv_load(t, len, PV_LOAD_TAKE, &idx);
        if (rc != PV_OK) free(t);
      }
      CHECK_MSG(rc == PV_OK, "%s: pv_load: %d (%s)", what, rc, pv_errmsg(NULL));
      if (rc == PV_OK) {
        same_answers(idx, &x, what);
        add_gets_next_id(idx, &x, what);
      }
      pv_free(idx);
      if (buf) {
        CHECK_MSG(memcmp(buf, b, len) == 0, "%s: the borrowed buffer was written", what);
        free(buf);
      }
    }
    free(b);
    expect_free(&x);
  }
}

/* pv_serialize's writer: appends to a growing buffer. */
typedef struct sink {
  uint8_t *p;
  size_t len, cap;
} sink;

static int sink_write(void *ctx, const void *data, size_t len) {
  sink *s = ctx;
  if (s->cap - s->len < len) {
    size_t cap = 2 * (s->len + len);
    uint8_t *p = realloc(s->p, cap);
    if (!p) return 1;
    s->p = p;
    s->cap = cap;
  }
  memcpy(s->p + s->len, data, len);
  s->len += len;
  return 0;
}

void test_compat_v1_resave(void) {
  for (size_t i = 0; i < NFIXTURES; i++) {
    const char *name = FIXTURES[i];
    char what[96];
    snprintf(what, sizeof what, "%s (saved again, loaded)", name);
    expect x;
    size_t len;
    uint8_t *b = load_fixture(i, &len, &x);
    if (!b) continue;
    pv_index *idx = NULL, *again = NULL;
    int rc = pv_load(b, len, PV_LOAD_COPY, &idx);
    CHECK_MSG(rc == PV_OK, "%s: pv_load: %d (%s)", name, rc, pv_errmsg(NULL));
    sink s = {NULL, 0, 0};
    if (rc == PV_OK) {
      rc = pv_serialize(idx, sink_write, &s);
      CHECK_MSG(rc == PV_OK, "%s: pv_serialize: %d (%s)", name, rc, pv_errmsg(idx));
    }
    if (rc == PV_OK) {
      CHECK_MSG(s.len == pv_serialized_size(idx), "%s: pv_serialize wrote %zu bytes, "
                "pv_serialized_size says %zu", name, s.len, pv_serialized_size(idx));
      pv_header h;
      CHECK_MSG(pv_read_header(s.p, s.len, &h) == PV_OK && h.version == PV_FORMAT_VERSION,
                "%s: saved again, the header does not say format %d", name, PV_FORMAT_VERSION);
      rc = pv_load(s.p, s.len, PV_LOAD_COPY, &again);
      CHECK_MSG(rc == PV_OK, "%s: pv_load: %d (%s)", what, rc, pv_errmsg(NULL));
    }
    if (rc == PV_OK) {
      same_answers(again, &x, what);
      add_gets_next_id(again, &x, what);
    }
    pv_free(again);
    pv_free(idx);
    free(s.p);
    free(b);
    expect_free(&x);
  }
}
