/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the test files: a seeded PRNG, reference distances in
 * double precision, SQ8 error bounds and index snapshots.
 */
#include <stdlib.h>

#include "test.h"

/* ------------------------------------------------------------------------ */
/* Random numbers                                                           */
/* ------------------------------------------------------------------------ */

uint64_t tu_rand(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double tu_unif(uint64_t *s) { return (double)(tu_rand(s) >> 11) * (1.0 / 9007199254740992.0); }

uint32_t tu_below(uint64_t *s, uint32_t n) { return (uint32_t)(tu_rand(s) % n); }

void tu_rand_vec(uint64_t *s, float *v, size_t dim) {
  for (size_t i = 0; i < dim; i++) v[i] = (float)(tu_unif(s) * 2.0 - 1.0);
}

void tu_rand_unit(uint64_t *s, float *v, size_t dim) {
  double norm;
  do {
    tu_rand_vec(s, v, dim);
    norm = 0.0;
    for (size_t i = 0; i < dim; i++) norm += (double)v[i] * v[i];
  } while (norm < 1e-6);
  norm = sqrt(norm);
  for (size_t i = 0; i < dim; i++) v[i] = (float)(v[i] / norm);
}

void *tu_xmalloc(size_t size) {
  void *p = malloc(size ? size : 1);
  if (!p) {
    fprintf(stderr, "test: out of memory (%zu bytes)\n", size);
    abort();
  }
  return p;
}

void *tu_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) {
    fprintf(stderr, "test: out of memory (%zu x %zu bytes)\n", n, size);
    abort();
  }
  return p;
}

pv_options tu_opts(uint32_t dim, pv_metric metric, pv_storage storage) {
  pv_options o = pv_options_default();
  o.dim = dim;
  o.metric = metric;
  o.storage = storage;
  o.seed = 12345;
  return o;
}

/* ------------------------------------------------------------------------ */
/* Reference distances                                                      */
/* ------------------------------------------------------------------------ */

double tu_ref_dist(pv_metric metric, const float *a, const float *b, size_t dim) {
  double dot = 0.0, na = 0.0, nb = 0.0, l2 = 0.0;
  for (size_t i = 0; i < dim; i++) {
    double x = a[i], y = b[i];
    dot += x * y;
    na += x * x;
    nb += y * y;
    l2 += (x - y) * (x - y);
  }
  switch (metric) {
    case PV_COSINE: return 1.0 - dot / (sqrt(na) * sqrt(nb));
    case PV_L2: return l2;
    case PV_DOT: return -dot;
  }
  return NAN;
}

void tu_ref_stored(pv_metric metric, const float *v, double *out, size_t dim) {
  double norm = 0.0;
  for (size_t i = 0; i < dim; i++) norm += (double)v[i] * v[i];
  norm = sqrt(norm);
  for (size_t i = 0; i < dim; i++)
    out[i] = metric == PV_COSINE ? (double)v[i] / norm : (double)v[i];
}

double tu_stored_dist(pv_metric metric, const double *q, const double *v,
                      size_t dim) {
  double dot = 0.0, l2 = 0.0;
  for (size_t i = 0; i < dim; i++) {
    dot += q[i] * v[i];
    l2 += (q[i] - v[i]) * (q[i] - v[i]);
  }
  switch (metric) {
    case PV_COSINE: return 1.0 - dot;
    case PV_L2: return l2;
    case PV_DOT: return -dot;
  }
  return NAN;
}

double tu_sq8_step_d(const double *x, size_t dim) {
  double lo = x[0], hi = x[0];
  for (size_t i = 1; i < dim; i++) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
  }
  return (hi - lo) / 255.0;
}

double tu_sq8_dist_bound(pv_metric metric, const double *q, const double *v,
                         size_t dim) {
  double sq = tu_sq8_step_d(q, dim), sv = tu_sq8_step_d(v, dim);
  double b = 0.0;
  for (size_t i = 0; i < dim; i++) {
    if (metric == PV_L2) {
      double s = sq + sv;
      b += (2.0 * fabs(q[i] - v[i]) + s) * s;
    } else {
      b += fabs(q[i]) * sv + fabs(v[i]) * sq + sq * sv;
    }
  }
  return b;
}

/* ------------------------------------------------------------------------ */
/* Hits                                                                     */
/* ------------------------------------------------------------------------ */

int tu_hits_sorted(const pv_hit *hits, size_t n) {
  for (size_t i = 1; i < n; i++) {
    if (hits[i - 1].distance > hits[i].distance) return 0;
    if (hits[i - 1].distance == hits[i].distance && hits[i - 1].id >= hits[i].id)
      return 0;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (hits[i].id == hits[j].id) return 0;
  return 1;
}

int tu_hits_have(const pv_hit *hits, size_t n, uint32_t id) {
  for (size_t i = 0; i < n; i++)
    if (hits[i].id == id) return 1;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Snapshots                                                                */
/* ------------------------------------------------------------------------ */

void tu_snap_take(pv_index *idx, const float *q, tu_snap *s) {
  memset(s, 0, sizeof *s);
  s->count = pv_count(idx);
  s->deleted = pv_deleted_count(idx);
  pv_list_ids(idx, s->ids, 64);
  if (pv_search(idx, q, 8, 0, s->hits, &s->nhits) != PV_OK) s->nhits = (size_t)-1;
  if (pv_search_exact(idx, q, 8, 0, s->exact, &s->nexact) != PV_OK)
    s->nexact = (size_t)-1;
}

static int tu_same_hits(const pv_hit *a, const pv_hit *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (a[i].id != b[i].id || a[i].distance != b[i].distance) return 0;
  return 1;
}

int tu_snap_same_at(const char *file, int line, pv_index *idx, const float *q,
                    const tu_snap *s) {
  tu_snap now;
  tu_snap_take(idx, q, &now);
  int ok = 1;
  if (now.count != s->count || now.deleted != s->deleted) {
    tu_fail(file, line, "index changed: count %zu -> %zu, deleted %zu -> %zu",
            s->count, now.count, s->deleted, now.deleted);
    ok = 0;
  }
  size_t nid = s->count < 64 ? s->count : 64;
  if (ok && memcmp(now.ids, s->ids, nid * sizeof(uint32_t)) != 0) {
    tu_fail(file, line, "index changed: live ids differ");
    ok = 0;
  }
  if (now.nhits != s->nhits ||
      (s->nhits != (size_t)-1 && !tu_same_hits(now.hits, s->hits, s->nhits))) {
    tu_fail(file, line, "index changed: search result differs (%zu hits, was %zu)",
            now.nhits, s->nhits);
    ok = 0;
  }
  if (now.nexact != s->nexact ||
      (s->nexact != (size_t)-1 && !tu_same_hits(now.exact, s->exact, s->nexact))) {
    tu_fail(file, line, "index changed: exact result differs (%zu hits, was %zu)",
            now.nexact, s->nexact);
    ok = 0;
  }
  int rc = pv_check(idx);
  if (rc != PV_OK) {
    tu_fail(file, line, "pv_check: %d %s", rc, pv_errmsg(idx));
    ok = 0;
  }
  return ok;
}

/* ------------------------------------------------------------------------ */
/* Brute force                                                              */
/* ------------------------------------------------------------------------ */

size_t tu_brute_topk(pv_metric metric, const double *stored, const unsigned char *live,
                     size_t n, size_t dim, const double *q, size_t k, uint32_t *ids,
                     double *dists) {
  size_t have = 0;
  if (k == 0) return 0;
  for (size_t i = 0; i < n; i++) {
    if (live && !live[i]) continue;
    double d = tu_stored_dist(metric, q, stored + i * dim, dim);
    if (have == k && d >= dists[k - 1]) continue;
    size_t p = have < k ? have++ : k - 1;
    while (p > 0 && dists[p - 1] > d) {
      dists[p] = dists[p - 1];
      ids[p] = ids[p - 1];
      p--;
    }
    dists[p] = d;
    ids[p] = (uint32_t)i;
  }
  return have;
}

int tu_check_topk_at(const char *file, int line, pv_metric metric,
                     const double *stored, const unsigned char *live, size_t n,
                     size_t dim, const double *q, size_t k, const pv_hit *hits,
                     size_t nhits, double tol) {
  uint32_t *ids = tu_xmalloc(sizeof(uint32_t) * (k + 1));
  double *dists = tu_xmalloc(sizeof(double) * (k + 1));
  size_t want = tu_brute_topk(metric, stored, live, n, dim, q, k + 1, ids, dists);
  size_t more = want > k; /* one beyond the k-th, to see a tie at the edge */
  if (more) want = k;
  int ok = 1;
  if (nhits != want) {
    tu_fail(file, line, "%zu hits, expected %zu", nhits, want);
    ok = 0;
  }
  if (!tu_hits_sorted(hits, nhits)) {
    tu_fail(file, line, "hits not sorted by (distance, id) or repeated");
    ok = 0;
  }
  for (size_t i = 0; ok && i < nhits; i++) {
    uint32_t id = hits[i].id;
    double d = hits[i].distance;
    if (id >= n || (live && !live[id])) {
      tu_fail(file, line, "hit %zu: id %u is not live", i, id);
      ok = 0;
      break;
    }
    double truth = tu_stored_dist(metric, q, stored + (size_t)id * dim, dim);
    if (fabs(d - truth) > tol * (1.0 + fabs(truth))) {
      tu_fail(file, line, "hit %zu: id %u distance %.9g, true %.9g", i, id, d, truth);
      ok = 0;
      break;
    }
    if (fabs(d - dists[i]) > tol * (1.0 + fabs(dists[i]))) {
      tu_fail(file, line, "rank %zu: distance %.9g (id %u), true rank-%zu distance %.9g (id %u)",
              i, d, id, i, dists[i], ids[i]);
      ok = 0;
      break;
    }
    double gap = 2.0 * tol * (1.0 + fabs(dists[i]));
    int clear = (i == 0 || dists[i] - dists[i - 1] > gap) &&
                ((i + 1 >= want && !more) || dists[i + 1] - dists[i] > gap);
    if (clear && id != ids[i]) {
      tu_fail(file, line, "rank %zu: id %u, expected id %u (distance %.9g)", i, id,
              ids[i], dists[i]);
      ok = 0;
      break;
    }
  }
  free(ids);
  free(dists);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* The counting allocator                                                   */
/* ------------------------------------------------------------------------ */

#define TU_ALLOC_MAGIC 0x5EC7EDu
#define TU_ALLOC_DEAD 0xDEADu

/* Before every block: its size and a magic word that tells our blocks
 * (and blocks freed twice) from anything else. */
typedef union tu_alloc_hdr {
  max_align_t align;
  struct {
    size_t size;
    uint32_t magic;
  } h;
} tu_alloc_hdr;

static int tu_alloc_fail_now(tu_alloc *a) {
  if (a->paused) return 0;
  a->calls++;
  if (a->fail_at > 0 && (a->calls == a->fail_at || (a->persistent && a->calls > a->fail_at))) {
    a->failures++;
    return 1;
  }
  return 0;
}

static tu_alloc_hdr *tu_alloc_header(tu_alloc *a, void *p) {
  tu_alloc_hdr *h = (tu_alloc_hdr *)p - 1;
  if (h->h.magic != TU_ALLOC_MAGIC) {
    a->bad_ptrs++;
    return NULL;
  }
  return h;
}

static void tu_alloc_grew(tu_alloc *a, size_t old, size_t size) {
  a->bytes = a->bytes - old + size;
  if (a->bytes > a->peak) a->peak = a->bytes;
}

static void *tu_alloc_malloc_cb(void *ctx, size_t size) {
  tu_alloc *a = ctx;
  if (tu_alloc_fail_now(a)) return NULL;
  tu_alloc_hdr *h = malloc(sizeof(tu_alloc_hdr) + (size ? size : 1));
  if (!h) return NULL;
  h->h.size = size;
  h->h.magic = TU_ALLOC_MAGIC;
  a->live++;
  tu_alloc_grew(a, 0, size);
  return h + 1;
}

static void *tu_alloc_realloc_cb(void *ctx, void *ptr, size_t size) {
  tu_alloc *a = ctx;
  if (!ptr) return tu_alloc_malloc_cb(ctx, size);
  tu_alloc_hdr *h = tu_alloc_header(a, ptr);
  if (!h) return NULL;
  if (tu_alloc_fail_now(a)) return NULL; /* the old block stays valid */
  size_t old = h->h.size;
  tu_alloc_hdr *n = realloc(h, sizeof(tu_alloc_hdr) + (size ? size : 1));
  if (!n) return NULL;
  n->h.size = size;
  tu_alloc_grew(a, old, size);
  return n + 1;
}

static void tu_alloc_free_cb(void *ctx, void *ptr) {
  tu_alloc *a = ctx;
  if (!ptr) return;
  tu_alloc_hdr *h = tu_alloc_header(a, ptr);
  if (!h) return;
  h->h.magic = TU_ALLOC_DEAD;
  a->live--;
  a->bytes -= h->h.size;
  free(h);
}

pv_allocator tu_alloc_allocator(tu_alloc *a) {
  pv_allocator al;
  al.malloc = tu_alloc_malloc_cb;
  al.realloc = tu_alloc_realloc_cb;
  al.free = tu_alloc_free_cb;
  al.ctx = a;
  return al;
}

void tu_alloc_use(tu_alloc *a) {
  pv_allocator al = tu_alloc_allocator(a);
  pv_set_allocator(&al);
}

void tu_alloc_free(tu_alloc *a, void *ptr) { tu_alloc_free_cb(a, ptr); }

uint8_t *tu_alloc_dup(tu_alloc *a, const void *b, size_t len) {
  long fail_at = a->fail_at;
  int paused = a->paused;
  a->fail_at = 0;
  a->paused = 1;
  uint8_t *p = tu_alloc_malloc_cb(a, len);
  a->fail_at = fail_at;
  a->paused = paused;
  if (!p) abort();
  if (len) memcpy(p, b, len);
  return p;
}

void tu_fault_loop(void (*work)(tu_alloc *a, long *nomems), const char *file, int line) {
  long n, nomems = 0;
  for (n = 1; n < 20000; n++) {
    tu_alloc a;
    memset(&a, 0, sizeof a);
    a.fail_at = n;
    int before = tu_failures;
    work(&a, &nomems);
    if (a.live || a.bad_ptrs)
      tu_fail(file, line, "fail at %ld: %ld allocations leaked, %ld bad pointers freed", n, a.live,
              a.bad_ptrs);
    if (tu_failures != before) {
      tu_fail(file, line, "  ... in the run failing allocation %ld", n);
      return;
    }
    if (a.failures == 0) break;
  }
  if (!(n < 20000 && nomems > 20))
    tu_fail(file, line, "fault loop: %ld runs, %ld NOMEM seen", n, nomems);
}

void tu_fault_reload(pv_index *idx, const pv_allocator *al, long *nomems) {
  size_t len = pv_serialized_size(idx);
  uint8_t *buf = malloc(len);
  if (buf && pv_serialize_to(idx, buf, len, &len) == PV_OK) {
    pv_index *copy = NULL;
    int rc = pv_load_with_allocator(buf, len, PV_LOAD_COPY, al, &copy);
    CHECK_MSG(rc == PV_OK || rc == PV_NOMEM, "load: %d %s", rc, pv_errmsg(NULL));
    if (rc == PV_NOMEM) (*nomems)++;
    if (copy) CHECK_OK(pv_check(copy));
    pv_free(copy);
  }
  free(buf);
}
