/* SPDX-License-Identifier: MIT */
/*
 * Edge cases: empty and tiny indexes, k and ef at their limits, the largest
 * dimensions, many duplicate vectors, and a long insert/delete churn that
 * only auto-compaction keeps bounded.
 */
#include <stdlib.h>

#include "pvfile.h"
#include "test.h"

void test_edge_empty_index(void) {
  for (int met = 0; met < 3; met++) {
    for (int st = 0; st < 2; st++) {
      pv_options o = tu_opts(6, (pv_metric)met, (pv_storage)st);
      pv_index *idx = NULL;
      REQUIRE_OK(pv_new(&o, &idx));
      const float q[6] = {1, 2, 3, 4, 5, 6};
      float v[6];
      pv_hit h[4];
      size_t n = 99;
      CHECK_OK(pv_search(idx, q, 4, 0, h, &n));
      CHECK_EQ_INT(n, 0);
      n = 99;
      CHECK_OK(pv_search_exact(idx, q, 4, 0, h, &n));
      CHECK_EQ_INT(n, 0);
      CHECK_EQ_INT(pv_count(idx), 0);
      CHECK_EQ_INT(pv_deleted_count(idx), 0);
      uint32_t ids[2];
      CHECK_EQ_INT(pv_list_ids(idx, ids, 2), 0);
      CHECK(!pv_contains(idx, 0));
      CHECK_RC(pv_get(idx, 0, v), PV_NOTFOUND);
      CHECK_RC(pv_delete(idx, 0), PV_NOTFOUND);
      CHECK_OK(pv_compact(idx));
      CHECK_OK(pv_check(idx));
      /* a bad query is still rejected on an empty index */
      float bad[6] = {1, 2, NAN, 4, 5, 6};
      CHECK_RC(pv_search(idx, bad, 4, 0, h, &n), PV_INVALID);
      pv_free(idx);
    }
  }
}

void test_edge_single_vector(void) {
  for (int met = 0; met < 3; met++) {
    for (int st = 0; st < 2; st++) {
      pv_options o = tu_opts(5, (pv_metric)met, (pv_storage)st);
      pv_index *idx = NULL;
      REQUIRE_OK(pv_new(&o, &idx));
      const float v[5] = {0.5f, -1, 2, 0.25f, 1};
      const float q[5] = {1, 1, 1, 1, 1};
      uint32_t id = 7;
      REQUIRE_OK(pv_add(idx, v, &id));
      CHECK_EQ_INT(id, 0);
      CHECK_OK(pv_check(idx));
      pv_hit h[5];
      size_t n = 0;
      CHECK_OK(pv_search(idx, q, 5, 0, h, &n));
      CHECK_EQ_INT(n, 1);
      CHECK_EQ_INT(h[0].id, 0);
      CHECK_NEAR(h[0].distance, tu_ref_dist((pv_metric)met, q, v, 5), st == PV_F32 ? 1e-5 : 0.05);
      CHECK_OK(pv_search_exact(idx, q, 5, 0, h, &n));
      CHECK_EQ_INT(n, 1);
      CHECK_EQ_INT(h[0].id, 0);
      CHECK_OK(pv_search(idx, v, 1, 0, h, &n));
      CHECK_EQ_INT(n, 1);
      CHECK_OK(pv_delete(idx, 0));
      CHECK_EQ_INT(pv_count(idx), 0);
      CHECK_OK(pv_search(idx, q, 5, 0, h, &n));
      CHECK_EQ_INT(n, 0);
      CHECK_OK(pv_check(idx));
      REQUIRE_OK(pv_add(idx, q, &id));
      CHECK_EQ_INT(id, 1);
      CHECK_OK(pv_search(idx, q, 5, 0, h, &n));
      CHECK_EQ_INT(n, 1);
      CHECK_EQ_INT(h[0].id, 1);
      CHECK_OK(pv_check(idx));
      pv_free(idx);
    }
  }
}

static pv_index *random_index(pv_metric metric, pv_storage storage, uint32_t dim,
                              size_t n, uint64_t seed, float threshold) {
  pv_options o = tu_opts(dim, metric, storage);
  o.compact_threshold = threshold;
  o.ef_construction = 100;
  pv_index *idx = NULL;
  if (pv_new(&o, &idx) != PV_OK) return NULL;
  float *v = tu_xmalloc(sizeof(float) * dim);
  for (size_t i = 0; i < n; i++) {
    tu_rand_vec(&seed, v, dim);
    if (pv_add(idx, v, NULL) != PV_OK) {
      pv_free(idx);
      idx = NULL;
      break;
    }
  }
  free(v);
  return idx;
}

void test_edge_k_zero(void) {
  pv_index *idx = random_index(PV_L2, PV_F32, 8, 50, 1, 0.3f);
  REQUIRE(idx);
  float q[8] = {0};
  pv_hit h[1];
  size_t n = 99;
  CHECK_OK(pv_search(idx, q, 0, 0, h, &n));
  CHECK_EQ_INT(n, 0);
  n = 99;
  CHECK_OK(pv_search(idx, q, 0, 10, h, &n));
  CHECK_EQ_INT(n, 0);
  n = 99;
  CHECK_OK(pv_search_exact(idx, q, 0, 0, h, &n));
  CHECK_EQ_INT(n, 0);
  pv_free(idx);
}

void test_edge_k_above_count(void) {
  for (int st = 0; st < 2; st++) {
    pv_index *idx = random_index(PV_COSINE, (pv_storage)st, 8, 7, 2, 0.0f);
    REQUIRE(idx);
    float q[8];
    uint64_t seed = 3;
    tu_rand_vec(&seed, q, 8);
    pv_hit h[20];
    size_t n = 0;
    CHECK_OK(pv_search(idx, q, 20, 0, h, &n));
    CHECK_EQ_INT(n, 7);
    CHECK(tu_hits_sorted(h, n));
    CHECK_OK(pv_search_exact(idx, q, 20, 0, h, &n));
    CHECK_EQ_INT(n, 7);
    CHECK(tu_hits_sorted(h, n));
    /* with tombstones: still exactly the live ones */
    CHECK_OK(pv_delete(idx, 1));
    CHECK_OK(pv_delete(idx, 4));
    CHECK_EQ_INT(pv_deleted_count(idx), 2);
    CHECK_OK(pv_search(idx, q, 20, 0, h, &n));
    CHECK_EQ_INT(n, 5);
    CHECK(!tu_hits_have(h, n, 1) && !tu_hits_have(h, n, 4));
    CHECK_OK(pv_search_exact(idx, q, 20, 0, h, &n));
    CHECK_EQ_INT(n, 5);
    CHECK(!tu_hits_have(h, n, 1) && !tu_hits_have(h, n, 4));
    /* a larger index, k well above count */
    pv_free(idx);
    idx = random_index(PV_L2, (pv_storage)st, 8, 150, 4, 0.3f);
    REQUIRE(idx);
    pv_hit *big = tu_xmalloc(sizeof(pv_hit) * 400);
    CHECK_OK(pv_search(idx, q, 400, 0, big, &n));
    CHECK_EQ_INT(n, 150);
    CHECK(tu_hits_sorted(big, n));
    CHECK_OK(pv_search_exact(idx, q, 400, 0, big, &n));
    CHECK_EQ_INT(n, 150);
    free(big);
    CHECK_OK(pv_check(idx));
    pv_free(idx);
  }
}

void test_edge_all_deleted(void) {
  const float thresholds[] = {0.0f, 0.3f, 1.0f};
  for (int t = 0; t < 3; t++) {
    for (int st = 0; st < 2; st++) {
      pv_index *idx = random_index(PV_L2, (pv_storage)st, 8, 50, 5, thresholds[t]);
      REQUIRE(idx);
      for (uint32_t id = 0; id < 50; id++) {
        CHECK_OK(pv_delete(idx, (id * 7) % 50)); /* scattered order */
        if (id % 10 == 0) CHECK_OK(pv_check(idx));
      }
      CHECK_EQ_INT(pv_count(idx), 0);
      float q[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f};
      pv_hit h[10];
      size_t n = 99;
      CHECK_OK(pv_search(idx, q, 10, 0, h, &n));
      CHECK_EQ_INT(n, 0);
      n = 99;
      CHECK_OK(pv_search_exact(idx, q, 10, 0, h, &n));
      CHECK_EQ_INT(n, 0);
      CHECK_OK(pv_check(idx));
      uint32_t id;
      REQUIRE_OK(pv_add(idx, q, &id));
      CHECK_EQ_INT(id, 50);
      CHECK_OK(pv_search(idx, q, 10, 0, h, &n));
      CHECK_EQ_INT(n, 1);
      CHECK_EQ_INT(h[0].id, 50);
      CHECK_OK(pv_compact(idx));
      CHECK_EQ_INT(pv_count(idx), 1);
      CHECK_EQ_INT(pv_deleted_count(idx), 0);
      CHECK_OK(pv_check(idx));
      pv_free(idx);
    }
  }
}

void test_edge_ef_below_k_is_raised(void) {
  for (int st = 0; st < 2; st++) {
    pv_index *idx = random_index(PV_L2, (pv_storage)st, 8, 100, 6, 0.3f);
    REQUIRE(idx);
    uint64_t seed = 7;
    float q[8];
    pv_hit h[100], e[100];
    for (int t = 0; t < 20; t++) {
      tu_rand_vec(&seed, q, 8);
      size_t n = 0, ne = 0;
      CHECK_OK(pv_search(idx, q, 10, 1, h, &n));
      CHECK_EQ_INT(n, 10);
      CHECK(tu_hits_sorted(h, n));
      /* k = count with ef 1: ef becomes k, which covers every vector */
      CHECK_OK(pv_search(idx, q, 100, 1, h, &n));
      CHECK_EQ_INT(n, 100);
      CHECK_OK(pv_search_exact(idx, q, 100, 0, e, &ne));
      CHECK_EQ_INT(ne, 100);
      for (size_t i = 0; i < n && i < ne; i++)
        CHECK_MSG(h[i].id == e[i].id, "rank %zu: %u vs exact %u", i, h[i].id, e[i].id);
    }
    pv_free(idx);
  }
}

void test_edge_ef_zero_uses_default(void) {
  uint64_t seed = 8;
  /* a small ef_search: ef 0 behaves exactly as ef = ef_search */
  pv_options o = tu_opts(16, PV_L2, PV_F32);
  o.ef_search = 12;
  o.ef_construction = 40;
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  float *data = tu_xmalloc(sizeof(float) * 300 * 16);
  tu_rand_vec(&seed, data, 300 * 16);
  REQUIRE_OK(pv_add_batch(idx, data, 300, NULL));
  float q[16];
  pv_hit a[10], b[10];
  for (int t = 0; t < 50; t++) {
    tu_rand_vec(&seed, q, 16);
    size_t na = 0, nb = 0;
    CHECK_OK(pv_search(idx, q, 10, 0, a, &na));
    CHECK_OK(pv_search(idx, q, 10, 12, b, &nb));
    CHECK_EQ_INT(na, nb);
    CHECK(na == nb && memcmp(a, b, na * sizeof(pv_hit)) == 0);
  }
  pv_free(idx);
  /* an ef_search covering the whole index: ef 0 gives the exact answer */
  o.ef_search = 400;
  REQUIRE_OK(pv_new(&o, &idx));
  REQUIRE_OK(pv_add_batch(idx, data, 300, NULL));
  for (int t = 0; t < 50; t++) {
    tu_rand_vec(&seed, q, 16);
    size_t na = 0, nb = 0;
    CHECK_OK(pv_search(idx, q, 10, 0, a, &na));
    CHECK_OK(pv_search_exact(idx, q, 10, 0, b, &nb));
    CHECK_EQ_INT(na, 10);
    CHECK(na == nb && memcmp(a, b, na * sizeof(pv_hit)) == 0);
  }
  pv_free(idx);
  free(data);
}

void test_edge_ef_max(void) {
  pv_index *idx = random_index(PV_COSINE, PV_F32, 8, 200, 9, 0.3f);
  REQUIRE(idx);
  uint64_t seed = 10;
  float q[8];
  pv_hit a[10], b[10];
  for (int t = 0; t < 5; t++) {
    tu_rand_vec(&seed, q, 8);
    size_t na = 0, nb = 0;
    CHECK_OK(pv_search(idx, q, 10, PV_MAX_EF, a, &na));
    CHECK_OK(pv_search_exact(idx, q, 10, 0, b, &nb));
    CHECK_EQ_INT(na, 10);
    CHECK(na == nb && memcmp(a, b, na * sizeof(pv_hit)) == 0);
  }
  CHECK_OK(pv_check(idx));
  pv_free(idx);
}

/* A few hundred vectors of dim 4096: every one finds itself. */
void test_edge_dim_4096(void) {
  const uint32_t dim = 4096;
  for (int st = 0; st < 2; st++) {
    size_t n = st == PV_F32 ? 300 : 200;
    pv_metric metric = st == PV_F32 ? PV_COSINE : PV_L2;
    uint64_t seed = 11;
    float *data = tu_xmalloc(sizeof(float) * n * dim);
    tu_rand_vec(&seed, data, n * dim);
    pv_options o = tu_opts(dim, metric, (pv_storage)st);
    o.ef_construction = 64;
    pv_index *idx = NULL;
    REQUIRE_OK(pv_new(&o, &idx));
    REQUIRE_OK(pv_add_batch(idx, data, n / 2, NULL));
    for (size_t i = n / 2; i < n; i++) REQUIRE_OK(pv_add(idx, data + i * dim, NULL));
    CHECK_EQ_INT(pv_count(idx), n);
    CHECK_OK(pv_check(idx));
    size_t self = 0;
    pv_hit h[5];
    for (size_t i = 0; i < n; i++) {
      size_t nh = 0;
      CHECK_OK(pv_search(idx, data + i * dim, 5, 0, h, &nh));
      CHECK_EQ_INT(nh, 5);
      if (nh && h[0].id == i) self++;
      if (nh) {
        double truth = tu_ref_dist(metric, data + i * dim, data + (size_t)h[nh - 1].id * dim, dim);
        double tol = st == PV_F32 ? 1e-4 * (1 + fabs(truth)) : 0.02 * (1 + fabs(truth));
        CHECK_NEAR(h[nh - 1].distance, truth, tol);
      }
    }
    CHECK_MSG(self == n, "%zu of %zu found themselves", self, n);
    float *got = tu_xmalloc(sizeof(float) * dim);
    double *want = tu_xmalloc(sizeof(double) * dim);
    CHECK_OK(pv_get(idx, (uint32_t)(n - 1), got));
    tu_ref_stored(metric, data + (n - 1) * dim, want, dim);
    double err = 0.0, tol = st == PV_F32 ? 1e-6 : tu_sq8_step_d(want, dim) * 1.0001 + 1e-6;
    for (uint32_t d = 0; d < dim; d++)
      if (fabs(got[d] - want[d]) > err) err = fabs(got[d] - want[d]);
    CHECK_MSG(err <= tol, "pv_get error %.3g > %.3g", err, tol);
    free(want);
    free(got);
    pv_free(idx);
    free(data);
  }
}

/* PV_MAX_DIM is accepted and its integer SQ8 dot products do not overflow:
 * codes near 255 in all 65536 elements. */
void test_edge_dim_max_sq8(void) {
  const uint32_t dim = PV_MAX_DIM;
  float *v = tu_xmalloc(sizeof(float) * dim * 3);
  for (int st = 0; st < 2; st++) {
    pv_options o = tu_opts(dim, PV_DOT, (pv_storage)st);
    pv_index *idx = NULL;
    REQUIRE_OK(pv_new(&o, &idx));
    /* a: all 1 but a[0] = 0; b: all 1 but b[1] = 0; range [0, 1] each */
    for (uint32_t d = 0; d < dim; d++) v[d] = v[dim + d] = 1.0f;
    v[0] = 0.0f;
    v[dim + 1] = 0.0f;
    REQUIRE_OK(pv_add_batch(idx, v, 2, NULL));
    pv_hit h[3];
    size_t n = 0;
    CHECK_OK(pv_search_exact(idx, v, 2, 0, h, &n));
    REQUIRE(n == 2);
    CHECK_EQ_INT(h[0].id, 0);
    CHECK_NEAR(h[0].distance, -65535.0, 0.5);
    CHECK_EQ_INT(h[1].id, 1);
    CHECK_NEAR(h[1].distance, -65534.0, 0.5);
    CHECK_OK(pv_search(idx, v + dim, 2, 0, h, &n));
    REQUIRE(n == 2);
    CHECK_EQ_INT(h[0].id, 1);
    CHECK_NEAR(h[0].distance, -65535.0, 0.5);
    CHECK_OK(pv_check(idx));
    pv_free(idx);

    /* l2 at the largest dimension: random vectors find themselves */
    o = tu_opts(dim, PV_L2, (pv_storage)st);
    REQUIRE_OK(pv_new(&o, &idx));
    uint64_t seed = 12;
    tu_rand_vec(&seed, v, (size_t)dim * 3);
    REQUIRE_OK(pv_add_batch(idx, v, 3, NULL));
    for (uint32_t i = 0; i < 3; i++) {
      CHECK_OK(pv_search(idx, v + (size_t)i * dim, 3, 0, h, &n));
      REQUIRE(n == 3);
      CHECK_EQ_INT(h[0].id, i);
      CHECK_NEAR(h[0].distance, 0.0, st == PV_F32 ? 1e-3 : 2.0);
      /* two random vectors in [-1,1]^65536: about 2/3 * 65536 apart */
      double truth = tu_ref_dist(PV_L2, v + (size_t)i * dim, v + (size_t)h[1].id * dim, dim);
      CHECK_NEAR(h[1].distance, truth, st == PV_F32 ? 1e-4 * truth : 0.01 * truth);
    }
    pv_free(idx);
  }
  free(v);
}

/* 500 copies of one vector and 500 random ones. */
void test_edge_duplicates(void) {
  const uint32_t dim = 16;
  for (int cfg = 0; cfg < 4; cfg++) {
    pv_metric metric = cfg & 1 ? PV_L2 : PV_COSINE;
    pv_storage storage = cfg & 2 ? PV_SQ8 : PV_F32;
    uint64_t seed = 13;
    float *data = tu_xmalloc(sizeof(float) * 1000 * dim);
    tu_rand_vec(&seed, data, dim);
    for (size_t i = 1; i < 500; i++) memcpy(data + i * dim, data, sizeof(float) * dim);
    tu_rand_vec(&seed, data + 500 * dim, 500 * dim);
    pv_options o = tu_opts(dim, metric, storage);
    o.ef_construction = 100;
    pv_index *idx = NULL;
    REQUIRE_OK(pv_new(&o, &idx));
    /* the copies one by one, then the random vectors in a batch */
    for (size_t i = 0; i < 500; i++) REQUIRE_OK(pv_add(idx, data + i * dim, NULL));
    REQUIRE_OK(pv_add_batch(idx, data + 500 * dim, 500, NULL));
    CHECK_OK(pv_check(idx));
    pv_hit h[10];
    size_t n = 0;
    CHECK_OK(pv_search(idx, data, 10, 0, h, &n));
    CHECK_EQ_INT(n, 10);
    for (size_t i = 0; i < n; i++) {
      CHECK_MSG(h[i].id < 500, "hit %zu is id %u, not a copy", i, h[i].id);
      CHECK_NEAR(h[i].distance, 0.0, 1e-5);
    }
    CHECK_OK(pv_search_exact(idx, data, 10, 0, h, &n));
    CHECK_EQ_INT(n, 10);
    for (size_t i = 0; i < n; i++) CHECK_EQ_INT(h[i].id, i); /* tie: by id */
    size_t self = 0;
    for (size_t i = 500; i < 1000; i++) {
      CHECK_OK(pv_search(idx, data + i * dim, 10, 0, h, &n));
      if (n && h[0].id == i) self++;
    }
    CHECK_MSG(self >= 450, "metric %d storage %d: %zu of 500 random vectors found themselves",
              metric, storage, self);

    /* delete all copies but the last; compaction runs on the way */
    for (uint32_t id = 0; id < 499; id++) REQUIRE_OK(pv_delete(idx, id));
    CHECK_EQ_INT(pv_count(idx), 501);
    CHECK_OK(pv_check(idx));
    CHECK_OK(pv_search(idx, data, 3, 0, h, &n));
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(h[0].id, 499);
    self = 0;
    for (size_t i = 500; i < 1000; i++) {
      CHECK_OK(pv_search(idx, data + i * dim, 10, 0, h, &n));
      if (n && h[0].id == i) self++;
    }
    CHECK_MSG(self >= 450, "after deletes: %zu of 500 found themselves", self);
    pv_free(idx);
    free(data);
  }
}

/* 10,000 rounds of "insert one, delete one" around 100 live vectors. Each
 * delete must leave deleted/(live+deleted) at or below the threshold (auto
 * compaction), and memory must stay bounded. */
static void churn(pv_metric metric, pv_storage storage, int fifo) {
  const uint32_t dim = 8, live_target = 100, rounds = 10000;
  uint64_t seed = 14 + (uint64_t)fifo;
  pv_options o = tu_opts(dim, metric, storage);
  o.m = 8;
  o.ef_construction = 64;
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  float thr = o.compact_threshold;
  uint32_t *live = tu_xmalloc(sizeof(uint32_t) * (live_target + 1));
  size_t nlive = 0;
  float v[8];
  uint32_t next = 0;
  for (uint32_t i = 0; i < live_target; i++) {
    tu_rand_vec(&seed, v, dim);
    uint32_t id;
    REQUIRE_OK(pv_add(idx, v, &id));
    live[nlive++] = id;
    next++;
  }
  size_t early_max = 0, late_max = 0;
  for (uint32_t r = 1; r <= rounds; r++) {
    tu_rand_vec(&seed, v, dim);
    uint32_t id;
    int rc = pv_add(idx, v, &id);
    REQUIRE_MSG(rc == PV_OK, "round %u: add returned %d", r, rc);
    REQUIRE_MSG(id == next, "round %u: id %u, expected %u", r, id, next);
    next++;
    live[nlive++] = id;
    size_t victim = fifo ? 0 : tu_below(&seed, (uint32_t)nlive);
    rc = pv_delete(idx, live[victim]);
    REQUIRE_MSG(rc == PV_OK, "round %u: delete %u returned %d", r, live[victim], rc);
    memmove(live + victim, live + victim + 1, sizeof(uint32_t) * (nlive - victim - 1));
    nlive--;
    size_t cnt = pv_count(idx), del = pv_deleted_count(idx);
    REQUIRE_MSG(cnt == live_target, "round %u: count %zu", r, cnt);
    REQUIRE_MSG(!((double)del > (double)thr * (double)(cnt + del)),
                "round %u: %zu deleted of %zu slots exceeds the threshold", r, del, cnt + del);
    size_t mem = pv_memory_usage(idx);
    if (r >= 500 && r <= 1000 && mem > early_max) early_max = mem;
    if (r >= 9500 && mem > late_max) late_max = mem;
    if (r % 500 == 0) {
      int crc = pv_check(idx);
      REQUIRE_MSG(crc == PV_OK, "round %u: pv_check %d: %s", r, crc, pv_errmsg(idx));
      pv_hit h[3];
      size_t n = 0;
      CHECK_OK(pv_search(idx, v, 3, 0, h, &n));
      CHECK_MSG(n == 3 && h[0].id == id, "round %u: newest vector not found first", r);
    }
  }
  CHECK_MSG((double)late_max <= 1.5 * (double)early_max + 4096,
            "memory grows: max %zu bytes in rounds 500-1000, %zu in 9500-10000", early_max,
            late_max);
  /* after ~230 auto compactions the graph still reaches everything */
  size_t self = 0;
  for (size_t i = 0; i < nlive; i++) {
    pv_hit h[3];
    size_t n = 0;
    float got[8];
    CHECK_OK(pv_get(idx, live[i], got));
    CHECK_OK(pv_search(idx, got, 3, 16, h, &n));
    if (n && h[0].id == live[i]) self++;
  }
  CHECK_MSG(self >= 97, "after churn %zu of 100 live vectors found themselves at ef 16", self);
  uint32_t ids[101];
  CHECK_EQ_INT(pv_list_ids(idx, ids, 101), live_target);
  for (size_t i = 0; i + 1 < nlive; i++) CHECK(live[i] < live[i + 1]);
  CHECK(memcmp(ids, live, sizeof(uint32_t) * live_target) == 0);
  CHECK_OK(pv_check(idx));
  free(live);
  pv_free(idx);
}

void test_edge_insert_delete_churn(void) {
  churn(PV_L2, PV_F32, 1);
  churn(PV_COSINE, PV_SQ8, 0);
}

/* Delete every vector with auto-compaction off (threshold 0, or 1 which
 * can never be exceeded), then add new ones: the new vectors must be linked
 * into a graph that searches reach, although every node they could meet on
 * the way in is a tombstone. */
void test_edge_readd_after_deleting_all(void) {
  const uint32_t dim = 8;
  const size_t olds[] = {1, 100, 1000};
  const float thrs[] = {0.0f, 1.0f};
  for (size_t oi = 0; oi < 3; oi++) {
    for (int t = 0; t < 2; t++) {
      size_t nold = olds[oi], nnew = 1000;
      uint64_t seed = 15 + oi;
      float *data = tu_xmalloc(sizeof(float) * (nold + nnew) * dim);
      tu_rand_vec(&seed, data, (nold + nnew) * dim);
      pv_options o = tu_opts(dim, PV_L2, PV_F32);
      o.compact_threshold = thrs[t];
      pv_index *idx = NULL;
      REQUIRE_OK(pv_new(&o, &idx));
      REQUIRE_OK(pv_add_batch(idx, data, nold, NULL));
      for (uint32_t id = 0; id < nold; id++) REQUIRE_OK(pv_delete(idx, id));
      CHECK_EQ_INT(pv_count(idx), 0);
      CHECK_EQ_INT(pv_deleted_count(idx), nold);
      REQUIRE_OK(pv_add_batch(idx, data + nold * dim, nnew, NULL));
      CHECK_OK(pv_check(idx));
      for (int pass = 0; pass < 2; pass++) {
        size_t self = 0, hits = 0;
        for (size_t i = 0; i < nnew; i++) {
          pv_hit h[10];
          size_t nh = 0;
          CHECK_OK(pv_search(idx, data + (nold + i) * dim, 10, 0, h, &nh));
          hits += nh;
          if (nh && h[0].id == nold + i) self++;
        }
        CHECK_MSG(hits == nnew * 10 && self * 100 >= nnew * 99,
                  "%zu old vectors deleted (threshold %g), %zu added%s: %zu of %zu found "
                  "themselves, %zu of %zu hits returned",
                  nold, (double)thrs[t], nnew, pass ? ", then compacted" : "", self, nnew, hits,
                  nnew * 10);
        if (pass == 0) {
          REQUIRE_OK(pv_compact(idx));
          CHECK_OK(pv_check(idx));
        }
      }
      pv_free(idx);
      free(data);
    }
  }
}

/* Searches mark visited nodes with a per-search epoch; run enough searches
 * for any small epoch counter to wrap, and check that the same queries give
 * the same answers before and after. Then the sharp case for a 16-bit
 * counter: nodes near query A are visited once, then 65534 or 65535
 * searches near a far-away point B never touch them, then A again, when a
 * counter that wrapped without clearing would take A's old marks for fresh
 * ones. */
void test_edge_many_searches(void) {
  const uint32_t dim = 4, n = 300;
  uint64_t seed = 16;
  float *data = tu_xmalloc(sizeof(float) * n * dim);
  tu_rand_vec(&seed, data, (size_t)n * dim);
  pv_options o = tu_opts(dim, PV_L2, PV_F32);
  o.ef_search = 8;
  o.m = 4;
  o.ef_construction = 16;
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  REQUIRE_OK(pv_add_batch(idx, data, n, NULL));
  pv_hit *first = tu_xmalloc(sizeof(pv_hit) * n * 3);
  size_t differ = 0, total = 0;
  for (int round = 0; round < 5; round++) {
    /* a full pass over the stored vectors, compared with the first pass */
    for (uint32_t i = 0; i < n; i++) {
      pv_hit h[3];
      size_t nh = 0;
      CHECK_OK(pv_search(idx, data + (size_t)i * dim, 3, 0, h, &nh));
      CHECK_EQ_INT(nh, 3);
      if (round == 0) memcpy(first + (size_t)i * 3, h, sizeof h);
      else if (memcmp(first + (size_t)i * 3, h, sizeof h) != 0) differ++;
    }
    /* then 20,000 more searches (100,000 in all) */
    for (int j = 0; j < 20000; j++) {
      pv_hit h[1];
      size_t nh = 0;
      if (pv_search(idx, data + (size_t)(j % n) * dim, 1, 0, h, &nh) != PV_OK || nh != 1)
        total++;
    }
  }
  CHECK_MSG(differ == 0, "%zu repeated searches gave different results", differ);
  CHECK_MSG(total == 0, "%zu searches failed", total);
  CHECK_OK(pv_check(idx));
  free(first);
  free(data);
  pv_free(idx);

  /* two far-apart clusters: A around +5, B around -5 */
  data = tu_xmalloc(sizeof(float) * n * dim);
  tu_rand_vec(&seed, data, (size_t)n * dim);
  for (size_t i = 0; i < (size_t)n * dim; i++) data[i] += (i / dim) % 2 ? -5.0f : 5.0f;
  REQUIRE_OK(pv_new(&o, &idx));
  REQUIRE_OK(pv_add_batch(idx, data, n, NULL));
  const float *qa = data, *qb = data + dim; /* ids 0 (in A) and 1 (in B) */
  for (long gap = 65534; gap <= 65535; gap++) {
    pv_hit a1[5], a2[5], h[5];
    size_t n1 = 0, n2 = 0, nh = 0;
    CHECK_OK(pv_search(idx, qa, 5, 0, a1, &n1));
    for (long j = 0; j < gap; j++) pv_search(idx, qb, 5, 0, h, &nh);
    CHECK_OK(pv_search(idx, qa, 5, 0, a2, &n2));
    CHECK_MSG(n1 == 5 && n1 == n2 && memcmp(a1, a2, sizeof a1) == 0,
              "query A after %ld searches elsewhere: %zu hits (first %u), before: %zu hits "
              "(first %u)", gap, n2, n2 ? a2[0].id : 0, n1, n1 ? a1[0].id : 0);
  }
  free(data);
  pv_free(idx);
}

/* Large finite values (issue 16): under dot and l2 an element whose square
 * or product could overflow a float is refused at the door, naming the
 * element; the largest accepted magnitudes give finite, ordered distances,
 * and k = 1 agrees with k = 4. Cosine normalises first and takes any
 * finite value. */
void test_edge_no_overflow(void) {
  const pv_metric metrics[2] = {PV_DOT, PV_L2};
  for (int mi = 0; mi < 2; mi++)
    for (int st = 0; st < 2; st++) {
      pv_options o = pv_options_default();
      o.dim = 2;
      o.metric = metrics[mi];
      o.storage = (pv_storage)st;
      pv_index *idx;
      REQUIRE_OK(pv_new(&o, &idx));
      float big[2] = {1e20f, -1e20f};
      CHECK_RC(pv_add(idx, big, NULL), PV_INVALID);
      CHECK_STR_HAS(pv_errmsg(idx), "element 0");
      CHECK_STR_HAS(pv_errmsg(idx), "too large");
      pv_error_info e;
      pv_errinfo(idx, &e);
      CHECK(e.item == -1 && e.element == 0);
      CHECK_EQ_INT(pv_count(idx), 0);
      /* the limit for dim 2: sqrt(FLT_MAX / 32) = 3.26e18 */
      float lim = 3.2e18f;
      float v[4][2] = {{1, 1}, {lim, -lim}, {2, 2}, {-lim, lim}};
      REQUIRE_OK(pv_add_batch(idx, &v[0][0], 4, NULL));
      float q[2] = {lim, lim}, far[2] = {4e18f, 0};
      CHECK_RC(pv_search(idx, far, 1, 0, NULL, NULL), PV_INVALID);
      pv_hit h4[4], h1[1];
      size_t n4, n1;
      CHECK_OK(pv_search_exact(idx, q, 4, 0, h4, &n4));
      CHECK_OK(pv_search_exact(idx, q, 1, 0, h1, &n1));
      REQUIRE(n4 == 4 && n1 == 1);
      for (int i = 0; i < 4; i++) {
        CHECK_MSG(isfinite(h4[i].distance), "metric %d st %d: hit %d distance not finite", mi, st, i);
        if (i) CHECK(h4[i - 1].distance <= h4[i].distance);
      }
      CHECK_EQ_INT(h1[0].id, h4[0].id);
      CHECK_OK(pv_check(idx));
      pv_free(idx);
    }
  pv_options o = pv_options_default();
  o.dim = 2;
  pv_index *idx;
  REQUIRE_OK(pv_new(&o, &idx));
  float huge[2] = {3e38f, -3e38f};
  CHECK_OK(pv_add(idx, huge, NULL));
  pv_hit h[1];
  size_t n;
  CHECK_OK(pv_search(idx, huge, 1, 0, h, &n));
  CHECK(n == 1 && isfinite(h[0].distance));
  pv_free(idx);
}

/* An l2 index (m 4) of n vectors of dim d, each a copy of a (a[i] = i +
 * shift) or of b = -a: b at every `every`-th slot from slot 0, a elsewhere. */
static pv_index *copies(uint32_t d, uint32_t n, uint32_t every, float shift, uint64_t seed,
                        float *a, float *b) {
  pv_options o = pv_options_default();
  o.dim = d;
  o.metric = PV_L2;
  o.m = 4;
  o.seed = seed;
  pv_index *idx = NULL;
  CHECK_OK(pv_new(&o, &idx));
  for (uint32_t i = 0; i < d; i++) a[i] = (float)i + shift, b[i] = -a[i];
  float *v = tu_xmalloc(sizeof(float) * d * n);
  for (uint32_t i = 0; i < n; i++) memcpy(v + (size_t)d * i, i % every ? a : b, sizeof(float) * d);
  CHECK_OK(idx ? pv_add_batch(idx, v, n, NULL) : PV_NOMEM);
  free(v);
  return idx; /* NULL if pv_new failed (reported) */
}

/* Exact duplicates (issue 16, point 1): 500 vectors made of 2 distinct
 * ones (l2, dim 16, m 4) left most nodes unreachable from the entry point
 * (searches reached 14 of 500). Copies now join rings that the walks
 * follow, so every node is reachable (pv_check_reachable), before and
 * after deletes and compaction; after deleting the hits of a wide search,
 * the next search (it was empty with 487 of 500 live) matches brute force,
 * and so does one for the other vector. */
void test_edge_duplicates_return_k(void) {
  float a[16], b[16];
  pv_index *idx = copies(16, 500, 2, 0.0f, 1, a, b);
  REQUIRE(idx);
  size_t unreachable = 1;
  CHECK_OK(pv_check_reachable(idx, &unreachable));
  CHECK_EQ_INT(unreachable, 0);
  pv_hit h[50], e[50];
  size_t n = 0, ne = 0;
  CHECK_OK(pv_search(idx, a, 50, 400, h, &n));
  CHECK_EQ_INT(n, 50);
  for (size_t i = 0; i < n; i++) CHECK_OK(pv_delete(idx, h[i].id));
  CHECK_OK(pv_search(idx, a, 20, 400, h, &n));
  CHECK_OK(pv_search_exact(idx, a, 20, 0, e, &ne));
  CHECK_EQ_INT(n, 20);
  CHECK_EQ_INT(ne, 20);
  for (size_t i = 0; i < n && i < ne; i++) CHECK(h[i].id == e[i].id && h[i].distance == e[i].distance);
  unreachable = 1;
  CHECK_OK(pv_check_reachable(idx, &unreachable));
  CHECK_EQ_INT(unreachable, 0);
  CHECK_OK(pv_compact(idx));
  CHECK_OK(pv_check(idx));
  unreachable = 1;
  CHECK_OK(pv_check_reachable(idx, &unreachable));
  CHECK_EQ_INT(unreachable, 0);
  CHECK_OK(pv_search(idx, b, 30, 0, h, &n));
  CHECK_OK(pv_search_exact(idx, b, 30, 0, e, &ne));
  CHECK_EQ_INT(n, 30);
  for (size_t i = 0; i < n; i++) CHECK(h[i].id == e[i].id && h[i].distance == e[i].distance);
  pv_free(idx);
}

/* The rings of exact copies are saved (section 10, optional, only when
 * there are some): a loaded index reaches every copy, answers as the saved
 * one did, and goes on adding copies to the same rings. A twins section
 * that links two different vectors, makes a slot the next copy of two, or
 * names a slot past the end is CORRUPT. */
void test_edge_duplicates_saved(void) {
  float a[8], b[8];
  pv_index *idx = copies(8, 300, 3, 1.0f, 3, a, b);
  REQUIRE(idx);
  size_t len = pv_serialized_size(idx), got = 0;
  uint8_t *buf = tu_xmalloc(len);
  REQUIRE_OK(pv_serialize_to(idx, buf, len, &got));
  pv_section_info sec[16];
  size_t count = 0;
  REQUIRE_OK(pv_read_sections(buf, len, sec, 16, &count));
  int seen = 0;
  for (size_t i = 0; i < count; i++) seen |= !strcmp(sec[i].name, "twins") && !sec[i].required;
  CHECK(seen);
  pv_index *back;
  REQUIRE_OK(pv_load(buf, len, 0, &back));
  size_t unreachable = 1;
  CHECK_OK(pv_check_reachable(back, &unreachable));
  CHECK_EQ_INT(unreachable, 0);
  pv_hit h[200], e[200];
  size_t n = 0, ne = 0;
  CHECK_OK(pv_search(back, a, 200, 250, h, &n));
  CHECK_OK(pv_search_exact(back, a, 200, 0, e, &ne));
  CHECK_EQ_INT(n, 200);
  CHECK(n == ne && memcmp(h, e, sizeof(pv_hit) * n) == 0);
  uint32_t ia = 0, ib = 0;
  CHECK_OK(pv_add(idx, b, &ia));
  CHECK_OK(pv_add(back, b, &ib));
  CHECK_EQ_INT(ia, ib);
  size_t len2 = pv_serialized_size(idx), len3 = pv_serialized_size(back);
  uint8_t *b2 = tu_xmalloc(len2), *b3 = tu_xmalloc(len3);
  CHECK_OK(pv_serialize_to(idx, b2, len2, &got));
  CHECK_OK(pv_serialize_to(back, b3, len3, &got));
  CHECK(len2 == len3 && memcmp(b2, b3, len2) == 0); /* the same rings */
  pv_free(back);
  /* Damage: the twins section found through the table (kind 10). */
  uint64_t toff = rd64(buf + 88), off = 0;
  for (uint32_t i = 0; i < rd32(buf + 96); i++)
    if (rd32(buf + toff + 32 * (size_t)i) == 10) off = rd64(buf + toff + 32 * (size_t)i + 8);
  REQUIRE(off != 0);
  /* slot 0 holds b, slot 1 holds a: make 0's next copy an a */
  uint8_t *x = tu_xmalloc(len);
  memcpy(x, buf, len);
  wr32(x + off, 1 + 1);
  fix_crcs(x, len, 0);
  CHECK_RC(pv_load(x, len, 0, &back), PV_CORRUPT);
  CHECK_STR_HAS(pv_errmsg(NULL), "different vectors");
  /* slot 3 (a b) points where slot 0 points: one slot, two predecessors */
  memcpy(x, buf, len);
  memcpy(x + off + 4 * 3, x + off, 4);
  fix_crcs(x, len, 0);
  CHECK_RC(pv_load(x, len, 0, &back), PV_CORRUPT);
  /* a slot past the end */
  memcpy(x, buf, len);
  wr32(x + off + 4 * 5, 100000);
  fix_crcs(x, len, 0);
  CHECK_RC(pv_load(x, len, 0, &back), PV_CORRUPT);
  free(x);
  free(b2);
  free(b3);
  free(buf);
  pv_free(idx);
}

/* Under dot a vector's copy is not its nearest neighbour (a longer vector
 * in the same direction is nearer), and the copy must still find its
 * ring: under every metric, (1, 1.1) added twice after (2, 2.2) makes a
 * ring, which the file shows as section 10. */
void test_edge_duplicates_every_metric(void) {
  for (int metric = 0; metric < 3; metric++) {
    pv_options o = pv_options_default();
    o.dim = 2;
    o.metric = (pv_metric)metric;
    pv_index *idx = NULL;
    REQUIRE_OK(pv_new(&o, &idx));
    const float v[3][2] = {{2.0f, 2.2f}, {1.0f, 1.1f}, {1.0f, 1.1f}};
    for (int i = 0; i < 3; i++) REQUIRE_OK(pv_add(idx, v[i], NULL));
    uint8_t buf[4096];
    size_t len = 0, count = 0;
    REQUIRE_OK(pv_serialize_to(idx, buf, sizeof buf, &len));
    pv_section_info sec[16];
    REQUIRE_OK(pv_read_sections(buf, len, sec, 16, &count));
    int rings = 0;
    for (size_t i = 0; i < count; i++) rings |= sec[i].kind == 10;
    CHECK_MSG(rings, "metric %d: the two copies are in no ring", metric);
    pv_free(idx);
  }
}
