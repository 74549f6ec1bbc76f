/* SPDX-License-Identifier: MIT */
/*
 * Model test: thousands of seeded random steps on an index and, in
 * parallel, on a brute-force model (id -> vector as stored, live flag,
 * tombstone count). After every step the index must agree with the model:
 * the ids it issues, its counts, the vectors it returns, exact search equal
 * to the model's brute force (F32), every search hit live with its correct
 * distance, auto-compaction exactly when the threshold is exceeded, and
 * pv_check every few steps, and every live vector reachable after each
 * compaction. The duplicate-heavy runs draw most vectors from a handful of
 * distinct ones.
 */
#include <stdlib.h>

#include "test.h"

#define MAX_LIVE 400
#define MAX_K 24

typedef struct mcfg {
  pv_metric metric;
  pv_storage storage;
  uint32_t dim, m, efc, capacity;
  float thr;
  int steps;
  uint64_t seed;
  uint32_t dups; /* > 0: most vectors are exact copies of one of this many */
} mcfg;

typedef struct model {
  const mcfg *c;
  pv_index *idx;
  uint64_t rng;
  size_t n, cap;        /* ids issued so far; room in the arrays */
  double *vec;          /* cap * dim: each vector as the index should hold it */
  float *raw;           /* cap * dim: as given to pv_add */
  unsigned char *live;  /* cap */
  size_t nlive, ntomb;
  int step;
} model;

static void m_grow(model *m, size_t need) {
  if (need <= m->cap) return;
  size_t cap = m->cap ? m->cap * 2 : 256;
  while (cap < need) cap *= 2;
  uint32_t dim = m->c->dim;
  double *vec = tu_xmalloc(sizeof(double) * cap * dim);
  float *raw = tu_xmalloc(sizeof(float) * cap * dim);
  unsigned char *live = tu_xcalloc(cap, 1);
  if (m->n) {
    memcpy(vec, m->vec, sizeof(double) * m->n * dim);
    memcpy(raw, m->raw, sizeof(float) * m->n * dim);
    memcpy(live, m->live, m->n);
  }
  free(m->vec);
  free(m->raw);
  free(m->live);
  m->vec = vec;
  m->raw = raw;
  m->live = live;
  m->cap = cap;
}

/* A vector for the model: mostly uniform, sometimes a near copy of a stored
 * one, sometimes with a wider range (to vary SQ8 steps). */
static void m_vector(model *m, float *v) {
  uint32_t dim = m->c->dim;
  uint32_t r = tu_below(&m->rng, 10);
  tu_rand_vec(&m->rng, v, dim);
  if (m->c->dups && r < 8) {
    /* the pool: the same seeds give the same vectors every time */
    uint64_t s = 1000 + tu_below(&m->rng, m->c->dups);
    tu_rand_vec(&s, v, dim);
  } else if (r == 0 && m->n > 0) {
    const float *src = m->raw + (size_t)tu_below(&m->rng, (uint32_t)m->n) * dim;
    for (uint32_t d = 0; d < dim; d++) v[d] = src[d] + v[d] * 0.01f;
  } else if (r == 1) {
    for (uint32_t d = 0; d < dim; d++) v[d] *= 5.0f;
  }
}

static void m_record(model *m, const float *v) {
  uint32_t dim = m->c->dim;
  m_grow(m, m->n + 1);
  memcpy(m->raw + m->n * dim, v, sizeof(float) * dim);
  tu_ref_stored(m->c->metric, v, m->vec + m->n * dim, dim);
  m->live[m->n] = 1;
  m->n++;
  m->nlive++;
}

static uint32_t m_random_live(model *m) {
  uint32_t k = tu_below(&m->rng, (uint32_t)m->nlive);
  for (size_t i = 0; i < m->n; i++)
    if (m->live[i] && k-- == 0) return (uint32_t)i;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                   */
/* ------------------------------------------------------------------------ */

static void m_check_all(model *m) {
  pv_index *idx = m->idx;
  int rc = pv_check(idx);
  CHECK_MSG(rc == PV_OK, "step %d: pv_check %d: %s", m->step, rc, pv_errmsg(idx));
  CHECK_MSG(pv_count(idx) == m->nlive, "step %d: count %zu, model %zu", m->step, pv_count(idx),
            m->nlive);
  CHECK_MSG(pv_deleted_count(idx) == m->ntomb, "step %d: deleted %zu, model %zu", m->step,
            pv_deleted_count(idx), m->ntomb);
  uint32_t *ids = tu_xmalloc(sizeof(uint32_t) * (m->nlive + 1));
  size_t nl = pv_list_ids(idx, ids, m->nlive + 1);
  CHECK_MSG(nl == m->nlive, "step %d: list_ids %zu, model %zu", m->step, nl, m->nlive);
  size_t j = 0;
  int ok = nl == m->nlive;
  for (size_t i = 0; ok && i < m->n; i++)
    if (m->live[i]) ok = ids[j++] == i;
  CHECK_MSG(ok, "step %d: live ids differ from the model", m->step);
  free(ids);
}

static void m_check_get(model *m, uint32_t id) {
  uint32_t dim = m->c->dim;
  float got[64];
  int rc = pv_get(m->idx, id, got);
  if (id >= m->n || !m->live[id]) {
    CHECK_MSG(rc == PV_NOTFOUND, "step %d: pv_get(%u) of a dead id: %d", m->step, id, rc);
    CHECK(!pv_contains(m->idx, id));
    return;
  }
  CHECK_MSG(rc == PV_OK, "step %d: pv_get(%u): %d", m->step, id, rc);
  CHECK(pv_contains(m->idx, id));
  const double *want = m->vec + (size_t)id * dim;
  double tol = tu_fine(m->c->storage) == PV_SQ8 ? tu_sq8_step_d(want, dim) * 1.0001 + 1e-6
               : m->c->metric == PV_COSINE ? 1e-6 : 0.0;
  for (uint32_t d = 0; d < dim; d++)
    CHECK_MSG(fabs(got[d] - want[d]) <= tol, "step %d: pv_get(%u)[%u] = %.9g, model %.9g",
              m->step, id, d, (double)got[d], want[d]);
}

/* Every hit live, distinct, sorted, with the distance the model computes
 * (F32) or within the quantization bound of it (SQ8). */
static void m_check_hits(model *m, const double *qs, const pv_hit *h, size_t nh,
                         const char *what) {
  uint32_t dim = m->c->dim;
  CHECK_MSG(tu_hits_sorted(h, nh), "step %d: %s hits not sorted", m->step, what);
  for (size_t i = 0; i < nh; i++) {
    uint32_t id = h[i].id;
    if (id >= m->n || !m->live[id]) {
      tu_fail(__FILE__, __LINE__, "step %d: %s returned dead id %u", m->step, what, id);
      return;
    }
    const double *v = m->vec + (size_t)id * dim;
    double truth = tu_stored_dist(m->c->metric, qs, v, dim);
    double tol = tu_fine(m->c->storage) == PV_F32
                     ? 1e-4 * (1.0 + fabs(truth))
                     : 2.0 * tu_sq8_dist_bound(m->c->metric, qs, v, dim) + 1e-4;
    CHECK_MSG(fabs(h[i].distance - truth) <= tol,
              "step %d: %s hit %u distance %.9g, model %.9g (tol %.3g)", m->step, what, id,
              (double)h[i].distance, truth, tol);
  }
}

static void m_query(model *m, float *q) {
  uint32_t dim = m->c->dim;
  if (m->n > 0 && tu_below(&m->rng, 2) == 0) {
    uint32_t id = tu_below(&m->rng, (uint32_t)m->n); /* live or dead */
    memcpy(q, m->raw + (size_t)id * dim, sizeof(float) * dim);
    if (tu_below(&m->rng, 2)) q[tu_below(&m->rng, dim)] += 0.05f;
  } else {
    m_vector(m, q);
  }
}

/* pv_search_exact: F32 equals the model's brute force; SQ8 is a prefix of
 * the full quantized ranking and close to the model's distances. */
static void m_step_exact(model *m) {
  uint32_t dim = m->c->dim;
  float q[64];
  double qs[64];
  m_query(m, q);
  tu_ref_stored(m->c->metric, q, qs, dim);
  size_t k = 1 + tu_below(&m->rng, MAX_K);
  pv_hit h[MAX_K];
  size_t nh = 0;
  int rc = pv_search_exact(m->idx, q, k, 0, h, &nh);
  CHECK_MSG(rc == PV_OK, "step %d: exact search: %d", m->step, rc);
  if (rc != PV_OK) return;
  size_t want = k < m->nlive ? k : m->nlive;
  CHECK_MSG(nh == want, "step %d: exact gave %zu hits, expected %zu", m->step, nh, want);
  if (tu_fine(m->c->storage) == PV_F32) {
    if (!tu_check_topk(m->c->metric, m->vec, m->live, m->n, dim, qs, k, h, nh, 1e-5))
      tu_fail(__FILE__, __LINE__, "  (step %d, k %zu)", m->step, k);
  } else {
    m_check_hits(m, qs, h, nh, "exact");
    pv_hit *all = tu_xmalloc(sizeof(pv_hit) * (m->nlive + 1));
    size_t na = 0;
    CHECK_OK(pv_search_exact(m->idx, q, m->nlive + 1, 0, all, &na));
    CHECK_EQ_INT(na, m->nlive);
    CHECK_MSG(na >= nh && memcmp(all, h, nh * sizeof(pv_hit)) == 0,
              "step %d: exact top-%zu is not the prefix of the full ranking", m->step, k);
    free(all);
  }
}

static void m_step_search(model *m, int full_ef) {
  uint32_t dim = m->c->dim;
  float q[64];
  double qs[64];
  m_query(m, q);
  tu_ref_stored(m->c->metric, q, qs, dim);
  size_t k = 1 + tu_below(&m->rng, MAX_K);
  /* full_ef 1: ef covers every slot (live and tombstone); 2: every live
   * vector, which the header also promises to be exact */
  size_t ef = full_ef == 1   ? m->nlive + m->ntomb
              : full_ef == 2 ? (m->nlive ? m->nlive : 1)
              : tu_below(&m->rng, 3) == 0 ? 0
                                          : tu_below(&m->rng, 80);
  pv_hit h[MAX_K];
  size_t nh = 0;
  int rc = pv_search(m->idx, q, k, ef, h, &nh);
  CHECK_MSG(rc == PV_OK, "step %d: search: %d", m->step, rc);
  if (rc != PV_OK) return;
  size_t want = k < m->nlive ? k : m->nlive;
  CHECK_MSG(nh == want, "step %d: search k %zu ef %zu gave %zu hits, expected %zu", m->step, k,
            ef, nh, want);
  m_check_hits(m, qs, h, nh, "search");
  /* the same ids have the same distances in the exact ranking */
  pv_hit *all = tu_xmalloc(sizeof(pv_hit) * (m->nlive + 1));
  size_t na = 0;
  CHECK_OK(pv_search_exact(m->idx, q, m->nlive + 1, 0, all, &na));
  for (size_t i = 0; i < nh; i++) {
    size_t j = 0;
    while (j < na && all[j].id != h[i].id) j++;
    if (j == na) continue; /* reported by m_check_hits */
    double d = all[j].distance;
    CHECK_MSG(fabs(h[i].distance - d) <= 1e-5 * (1.0 + fabs(d)),
              "step %d: search distance of %u %.9g, exact %.9g", m->step, h[i].id,
              (double)h[i].distance, d);
  }
  if (full_ef) {
    /* ef covering every vector: the exact answer */
    CHECK_MSG(nh <= na && memcmp(h, all, nh * sizeof(pv_hit)) == 0,
              "step %d: search with ef %zu (covering every vector) differs from exact", m->step, ef);
  }
  free(all);
}

/* ------------------------------------------------------------------------ */
/* Steps                                                                    */
/* ------------------------------------------------------------------------ */

static void m_step_add(model *m) {
  float v[64];
  m_vector(m, v);
  uint32_t id = UINT32_MAX;
  int rc = pv_add(m->idx, v, &id);
  CHECK_MSG(rc == PV_OK, "step %d: add: %d %s", m->step, rc, pv_errmsg(m->idx));
  if (rc != PV_OK) return;
  CHECK_MSG(id == m->n, "step %d: add gave id %u, expected %zu", m->step, id, m->n);
  m_record(m, v);
}

static void m_step_batch(model *m) {
  uint32_t dim = m->c->dim;
  size_t n = tu_below(&m->rng, 12);
  float *v = tu_xmalloc(sizeof(float) * (n + 1) * dim);
  uint32_t ids[12];
  for (size_t i = 0; i < n; i++) m_vector(m, v + i * dim);
  int rc = pv_add_batch(m->idx, v, n, ids);
  CHECK_MSG(rc == PV_OK, "step %d: add_batch(%zu): %d %s", m->step, n, rc, pv_errmsg(m->idx));
  if (rc == PV_OK) {
    for (size_t i = 0; i < n; i++) {
      CHECK_MSG(ids[i] == m->n, "step %d: batch id %u, expected %zu", m->step, ids[i], m->n);
      m_record(m, v + i * dim);
    }
  }
  free(v);
}

static void m_step_bad_add(model *m) {
  uint32_t dim = m->c->dim;
  float v[3 * 64];
  for (int i = 0; i < 3; i++) m_vector(m, v + i * dim);
  uint32_t which = tu_below(&m->rng, 3), at = tu_below(&m->rng, dim);
  uint32_t kind = tu_below(&m->rng, m->c->metric == PV_COSINE ? 4 : 3);
  float bad = kind == 0 ? NAN : kind == 1 ? INFINITY : -INFINITY;
  if (kind == 3) memset(v + which * dim, 0, sizeof(float) * dim);
  else v[which * dim + at] = bad;
  int rc = tu_below(&m->rng, 2) ? pv_add(m->idx, v + which * dim, NULL)
                                : pv_add_batch(m->idx, v, 3, NULL);
  CHECK_MSG(rc == PV_INVALID, "step %d: bad vector accepted: %d", m->step, rc);
}

static void m_after_delete(model *m) {
  m->nlive--;
  m->ntomb++;
  if (m->c->thr > 0.0f && (double)m->ntomb > (double)m->c->thr * (double)(m->nlive + m->ntomb))
    m->ntomb = 0; /* auto compaction */
  CHECK_MSG(pv_deleted_count(m->idx) == m->ntomb, "step %d: deleted %zu, model %zu", m->step,
            pv_deleted_count(m->idx), m->ntomb);
}

static void m_step_delete(model *m) {
  if (m->nlive == 0) return;
  uint32_t id = m_random_live(m);
  int rc = pv_delete(m->idx, id);
  CHECK_MSG(rc == PV_OK, "step %d: delete(%u): %d", m->step, id, rc);
  if (rc != PV_OK) return;
  m->live[id] = 0;
  m_after_delete(m);
  CHECK(!pv_contains(m->idx, id));
}

static void m_step_delete_bad(model *m) {
  uint32_t id;
  if (m->nlive < m->n && tu_below(&m->rng, 2)) {
    do id = tu_below(&m->rng, (uint32_t)m->n);
    while (m->live[id]);
  } else {
    id = (uint32_t)m->n + tu_below(&m->rng, 1000);
  }
  CHECK_MSG(pv_delete(m->idx, id) == PV_NOTFOUND, "step %d: delete(%u) of a dead id", m->step, id);
}

static void run_model(const mcfg *c) {
  model m;
  memset(&m, 0, sizeof m);
  m.c = c;
  m.rng = c->seed;
  pv_options o = tu_opts(c->dim, c->metric, c->storage);
  o.m = c->m;
  o.ef_construction = c->efc;
  o.compact_threshold = c->thr;
  o.capacity = c->capacity;
  o.seed = c->seed * 7 + 1;
  REQUIRE_OK(pv_new(&o, &m.idx));
  int failures_before = tu_failures;
  for (m.step = 0; m.step < c->steps; m.step++) {
    uint32_t r = tu_below(&m.rng, 100);
    if (m.nlive >= MAX_LIVE && r < 40) r = 40 + tu_below(&m.rng, 20); /* delete instead */
    if (r < 30) m_step_add(&m);
    else if (r < 38) m_step_batch(&m);
    else if (r < 40) m_step_bad_add(&m);
    else if (r < 60) m_step_delete(&m);
    else if (r < 63) m_step_delete_bad(&m);
    else if (r < 78) m_step_search(&m, 0);
    else if (r < 88) m_step_exact(&m);
    else if (r < 94) {
      uint32_t id = m.n ? tu_below(&m.rng, (uint32_t)m.n + 3) : 0;
      m_check_get(&m, id);
    } else if (r < 95) {
      int rc = pv_compact(m.idx);
      CHECK_MSG(rc == PV_OK, "step %d: compact: %d", m.step, rc);
      if (rc == PV_OK) m.ntomb = 0;
      /* a compacted index is reachable whole */
      size_t unreachable = 1;
      CHECK_OK(pv_check_reachable(m.idx, &unreachable));
      CHECK_MSG(unreachable == 0, "step %d: %zu live vectors unreachable after compaction",
                m.step, unreachable);
    } else if (r < 97) {
      m_step_search(&m, r == 95 ? 1 : 2);
    } else {
      m_check_all(&m);
    }
    if (m.step % 50 == 49) m_check_all(&m);
    if (tu_failures - failures_before > TU_MAX_MESSAGES) break; /* enough said */
  }
  m_check_all(&m);
  for (size_t id = 0; id < m.n; id++) m_check_get(&m, (uint32_t)id);
  pv_free(m.idx);
  free(m.vec);
  free(m.raw);
  free(m.live);
}

void test_model_cosine_f32(void) {
  const mcfg c = {PV_COSINE, PV_F32, 8, 4, 32, 0, 0.3f, 3000, 1, 0};
  run_model(&c);
}
void test_model_l2_f32(void) {
  const mcfg c = {PV_L2, PV_F32, 16, 8, 64, 0, 0.0f, 3000, 2, 0}; /* manual compaction only */
  run_model(&c);
}
void test_model_dot_f32(void) {
  const mcfg c = {PV_DOT, PV_F32, 12, 6, 40, 64, 0.5f, 3000, 3, 0};
  run_model(&c);
}
void test_model_l2_f32_m2(void) {
  const mcfg c = {PV_L2, PV_F32, 4, 2, 8, 0, 0.2f, 2000, 4, 0};
  run_model(&c);
}
void test_model_cosine_sq8(void) {
  const mcfg c = {PV_COSINE, PV_SQ8, 16, 8, 50, 0, 0.3f, 3000, 5, 0};
  run_model(&c);
}
void test_model_l2_sq8(void) {
  const mcfg c = {PV_L2, PV_SQ8, 8, 5, 30, 500, 0.15f, 2500, 6, 0};
  run_model(&c);
}
void test_model_l2_f32_dups(void) {
  const mcfg c = {PV_L2, PV_F32, 16, 4, 40, 0, 0.3f, 3000, 8, 3};
  run_model(&c);
}
void test_model_cosine_sq8_dups(void) {
  const mcfg c = {PV_COSINE, PV_SQ8, 8, 8, 60, 0, 0.0f, 2500, 9, 2};
  run_model(&c);
}
void test_model_dot_sq8(void) {
  const mcfg c = {PV_DOT, PV_SQ8, 16, 12, 100, 0, 0.0f, 2500, 7, 0};
  run_model(&c);
}
void test_model_cosine_binary(void) {
  const mcfg c = {PV_COSINE, PV_BINARY, 16, 8, 50, 0, 0.3f, 3000, 10, 0};
  run_model(&c);
}
void test_model_l2_binary_f32_dups(void) {
  const mcfg c = {PV_L2, PV_BINARY_F32, 16, 4, 40, 0, 0.3f, 3000, 11, 3};
  run_model(&c);
}
