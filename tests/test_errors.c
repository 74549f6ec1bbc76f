/* SPDX-License-Identifier: MIT */
/*
 * Errors: every rejected call returns its code with a message a user can
 * act on, and leaves the index exactly as it was and usable (count, ids, a
 * search and an exact search, pv_check, and the next id issued).
 */
#include <stdlib.h>

#include "test.h"

static int is_error_message(const char *m) {
  return m && m[0] != '\0' && strcmp(m, "not an error") != 0;
}

/* An index of n random vectors (ids 0 .. n-1). */
static pv_index *filled(uint32_t dim, pv_metric metric, pv_storage storage, size_t n,
                        uint64_t seed) {
  pv_options o = tu_opts(dim, metric, storage);
  o.ef_construction = 64;
  pv_index *idx = NULL;
  if (pv_new(&o, &idx) != PV_OK) return NULL;
  float *v = tu_xmalloc(sizeof(float) * dim * n);
  tu_rand_vec(&seed, v, (size_t)dim * n);
  if (pv_add_batch(idx, v, n, NULL) != PV_OK) {
    pv_free(idx);
    idx = NULL;
  }
  free(v);
  return idx;
}

/* After the failures, the next add still gets the next id in sequence. */
static void check_next_id(pv_index *idx, uint32_t dim, uint32_t want) {
  float *v = tu_xmalloc(sizeof(float) * dim);
  uint64_t seed = want;
  tu_rand_vec(&seed, v, dim);
  uint32_t id = 0;
  CHECK_OK(pv_add(idx, v, &id));
  CHECK_MSG(id == want, "next id %u, expected %u", id, want);
  CHECK_OK(pv_check(idx));
  free(v);
}

void test_errors_nan_inf_in_add(void) {
  for (int st = 0; st < 2; st++) {
    for (int met = 0; met < 3; met++) {
      const uint32_t dim = 8;
      pv_index *idx = filled(dim, (pv_metric)met, (pv_storage)st, 20, 1);
      REQUIRE(idx);
      const float q[8] = {0.3f, -0.2f, 0.1f, 0.9f, -0.5f, 0.4f, 0.2f, -0.1f};
      tu_snap snap;
      tu_snap_take(idx, q, &snap);
      struct {
        size_t at;
        float val;
        const char *want;
      } cases[] = {{5, NAN, "element 5"}, {0, INFINITY, "element 0"}, {7, -INFINITY, "element 7"}};
      for (size_t c = 0; c < 3; c++) {
        float v[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f};
        v[cases[c].at] = cases[c].val;
        uint32_t id = 1234;
        CHECK_RC(pv_add(idx, v, &id), PV_INVALID);
        CHECK_EQ_INT(pv_errcode(idx), PV_INVALID);
        CHECK(is_error_message(pv_errmsg(idx)));
        CHECK_STR_HAS(pv_errmsg(idx), cases[c].want);
        tu_snap_same(idx, q, &snap);
      }
      check_next_id(idx, dim, 20);
      pv_free(idx);
    }
  }
}

void test_errors_nan_inf_in_batch(void) {
  for (int st = 0; st < 2; st++) {
    const uint32_t dim = 32;
    pv_index *idx = filled(dim, PV_COSINE, (pv_storage)st, 30, 2);
    REQUIRE(idx);
    float q[32];
    uint64_t seed = 3;
    tu_rand_vec(&seed, q, dim);
    tu_snap snap;
    tu_snap_take(idx, q, &snap);
    struct {
      size_t vec, at;
      float val;
      const char *want_vec, *want_el;
    } cases[] = {
        {3, 17, NAN, "vector 3", "element 17"},
        {0, 0, INFINITY, "vector 0", "element 0"},
        {4, 31, -INFINITY, "vector 4", "element 31"},
        {2, 9, 0.0f, "vector 2", NULL}, /* vector 2 all zero: cosine rejects it */
    };
    float *batch = tu_xmalloc(sizeof(float) * 5 * dim);
    for (size_t c = 0; c < 4; c++) {
      tu_rand_vec(&seed, batch, 5 * dim);
      if (cases[c].want_el) batch[cases[c].vec * dim + cases[c].at] = cases[c].val;
      else memset(batch + cases[c].vec * dim, 0, sizeof(float) * dim);
      uint32_t ids[5];
      CHECK_RC(pv_add_batch(idx, batch, 5, ids), PV_INVALID);
      CHECK_EQ_INT(pv_errcode(idx), PV_INVALID);
      CHECK_STR_HAS(pv_errmsg(idx), cases[c].want_vec);
      if (cases[c].want_el) CHECK_STR_HAS(pv_errmsg(idx), cases[c].want_el);
      /* nothing from the batch: not even the good vectors before the bad one */
      tu_snap_same(idx, q, &snap);
      for (size_t i = 0; i < 5; i++) {
        pv_hit h[1];
        size_t n = 0;
        if (i == cases[c].vec) continue;
        CHECK_OK(pv_search_exact(idx, batch + i * dim, 1, 0, h, &n));
        CHECK_MSG(n == 1 && h[0].id < 30, "a vector of the failed batch was added (id %u)",
                  n ? h[0].id : 0);
      }
    }
    free(batch);
    check_next_id(idx, dim, 30);
    pv_free(idx);
  }
}

void test_errors_bad_query(void) {
  for (int st = 0; st < 2; st++) {
    for (int met = 0; met < 3; met++) {
      const uint32_t dim = 8;
      pv_index *idx = filled(dim, (pv_metric)met, (pv_storage)st, 40, 4);
      REQUIRE(idx);
      const float q[8] = {0.3f, -0.2f, 0.1f, 0.9f, -0.5f, 0.4f, 0.2f, -0.1f};
      tu_snap snap;
      tu_snap_take(idx, q, &snap);
      const float bads[] = {NAN, INFINITY, -INFINITY};
      for (size_t b = 0; b < 3; b++) {
        for (size_t at = 0; at < dim; at += 7) {
          float bad[8];
          memcpy(bad, q, sizeof bad);
          bad[at] = bads[b];
          pv_hit h[5];
          size_t n = 0;
          CHECK_RC(pv_search(idx, bad, 5, 0, h, &n), PV_INVALID);
          CHECK(is_error_message(pv_errmsg(idx)));
          CHECK_RC(pv_search(idx, bad, 5, 100, h, &n), PV_INVALID);
          CHECK_RC(pv_search_exact(idx, bad, 5, 0, h, &n), PV_INVALID);
          CHECK_EQ_INT(pv_errcode(idx), PV_INVALID);
          CHECK(is_error_message(pv_errmsg(idx)));
          tu_snap_same(idx, q, &snap);
        }
      }
      check_next_id(idx, dim, 40);
      pv_free(idx);
    }
  }
}

void test_errors_zero_vector_cosine(void) {
  for (int st = 0; st < 2; st++) {
    const uint32_t dim = 8;
    pv_index *idx = filled(dim, PV_COSINE, (pv_storage)st, 25, 5);
    REQUIRE(idx);
    const float q[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const float zero[8] = {0};
    float nz[8] = {0};
    nz[3] = -0.0f; /* negative zero is still zero */
    tu_snap snap;
    tu_snap_take(idx, q, &snap);
    pv_hit h[5];
    size_t n = 0;
    CHECK_RC(pv_add(idx, zero, NULL), PV_INVALID);
    CHECK(is_error_message(pv_errmsg(idx)));
    tu_snap_same(idx, q, &snap);
    CHECK_RC(pv_add(idx, nz, NULL), PV_INVALID);
    tu_snap_same(idx, q, &snap);
    CHECK_RC(pv_search(idx, zero, 5, 0, h, &n), PV_INVALID);
    CHECK(is_error_message(pv_errmsg(idx)));
    CHECK_RC(pv_search_exact(idx, zero, 5, 0, h, &n), PV_INVALID);
    tu_snap_same(idx, q, &snap);
    float batch[16];
    memcpy(batch, q, sizeof q);
    memset(batch + 8, 0, sizeof(float) * 8);
    CHECK_RC(pv_add_batch(idx, batch, 2, NULL), PV_INVALID);
    CHECK_STR_HAS(pv_errmsg(idx), "vector 1");
    tu_snap_same(idx, q, &snap);

    /* Tiny and huge (but finite, non-zero) vectors: whatever the library
     * decides, it must never store a non-finite or non-unit vector. */
    const float scales[] = {1e-30f, 1e-42f, 1e30f, 3e38f};
    for (size_t s = 0; s < 4; s++) {
      float v[8];
      for (uint32_t d = 0; d < dim; d++) v[d] = (float)(d % 3) * scales[s] - scales[s];
      size_t before = pv_count(idx);
      uint32_t id = 0;
      int rc = pv_add(idx, v, &id);
      CHECK_MSG(rc == PV_OK || rc == PV_INVALID, "scale %g: rc %d", (double)scales[s], rc);
      if (rc == PV_OK) {
        float got[8];
        CHECK_OK(pv_get(idx, id, got));
        double norm = 0.0;
        for (uint32_t d = 0; d < dim; d++) {
          CHECK_MSG(isfinite(got[d]), "scale %g: stored element %u is %g", (double)scales[s], d,
                    (double)got[d]);
          norm += (double)got[d] * got[d];
        }
        CHECK_MSG(fabs(norm - 1.0) <= (st == PV_F32 ? 1e-5 : 0.05),
                  "scale %g: stored norm^2 %.9g", (double)scales[s], norm);
        CHECK_OK(pv_search(idx, v, 1, 0, h, &n));
        CHECK_MSG(n == 1 && isfinite(h[0].distance) && h[0].distance < 1e-3f,
                  "scale %g: not found by itself", (double)scales[s]);
        CHECK_OK(pv_delete(idx, id));
      } else {
        CHECK_EQ_INT(pv_count(idx), before);
      }
      CHECK_OK(pv_check(idx));
      /* tiny/huge queries likewise: OK with finite distances, or INVALID */
      rc = pv_search(idx, v, 5, 0, h, &n);
      CHECK(rc == PV_OK || rc == PV_INVALID);
      if (rc == PV_OK) {
        CHECK_EQ_INT(n, 5);
        for (size_t i = 0; i < n; i++) CHECK(isfinite(h[i].distance));
      }
    }
    pv_free(idx);
  }
}

/* Zero (and constant) vectors are fine under l2 and dot, F32 and SQ8. */
void test_errors_zero_vector_l2_dot(void) {
  for (int st = 0; st < 2; st++) {
    for (int met = 1; met < 3; met++) {
      const uint32_t dim = 8;
      pv_metric metric = (pv_metric)met;
      pv_index *idx = filled(dim, metric, (pv_storage)st, 30, 6);
      REQUIRE(idx);
      const float zero[8] = {0};
      const float half[8] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
      uint32_t zid = 0, hid = 0;
      CHECK_OK(pv_add(idx, zero, &zid));
      CHECK_EQ_INT(zid, 30);
      CHECK_OK(pv_add(idx, half, &hid));
      CHECK_EQ_INT(hid, 31);
      float got[8];
      CHECK_OK(pv_get(idx, zid, got));
      for (uint32_t d = 0; d < dim; d++) CHECK_MSG(got[d] == 0.0f, "zero[%u] = %g", d, (double)got[d]);
      CHECK_OK(pv_get(idx, hid, got));
      for (uint32_t d = 0; d < dim; d++)
        CHECK_MSG(fabs(got[d] - 0.5f) <= 1e-6, "half[%u] = %g", d, (double)got[d]);
      pv_hit h[40];
      size_t n = 0;
      CHECK_OK(pv_search_exact(idx, zero, 40, 0, h, &n));
      CHECK_EQ_INT(n, 32);
      for (size_t i = 0; i < n; i++) CHECK(isfinite(h[i].distance));
      if (metric == PV_L2) {
        CHECK_EQ_INT(h[0].id, zid);
        CHECK_NEAR(h[0].distance, 0.0, 1e-6);
      } else {
        for (size_t i = 0; i < n; i++) CHECK_NEAR(h[i].distance, 0.0, 1e-6);
      }
      CHECK_OK(pv_search(idx, zero, 5, 0, h, &n));
      CHECK_EQ_INT(n, 5);
      CHECK_OK(pv_search(idx, half, 5, 0, h, &n));
      CHECK_EQ_INT(n, 5);
      for (size_t i = 0; i < n; i++) CHECK(isfinite(h[i].distance));
      if (metric == PV_L2) {
        CHECK_EQ_INT(h[0].id, hid);
        CHECK_NEAR(h[0].distance, 0.0, 1e-5);
      }
      CHECK_OK(pv_check(idx));
      pv_free(idx);
    }
  }
}

void test_errors_check_dim(void) {
  pv_index *idx = filled(384, PV_COSINE, PV_F32, 10, 7);
  REQUIRE(idx);
  float q[384];
  uint64_t seed = 8;
  tu_rand_vec(&seed, q, 384);
  tu_snap snap;
  tu_snap_take(idx, q, &snap);
  CHECK_RC(pv_check_dim(idx, 383), PV_DIM);
  CHECK_EQ_INT(pv_errcode(idx), PV_DIM);
  CHECK_STR_HAS(pv_errmsg(idx), "383");
  CHECK_STR_HAS(pv_errmsg(idx), "384");
  tu_snap_same(idx, q, &snap);
  CHECK_RC(pv_check_dim(idx, 385), PV_DIM);
  CHECK_STR_HAS(pv_errmsg(idx), "385");
  CHECK_STR_HAS(pv_errmsg(idx), "384");
  CHECK_RC(pv_check_dim(idx, 0), PV_DIM);
  CHECK_RC(pv_check_dim(idx, 768), PV_DIM);
  CHECK_STR_HAS(pv_errmsg(idx), "768");
  CHECK_RC(pv_check_dim(idx, (size_t)1 << 40), PV_DIM);
  tu_snap_same(idx, q, &snap);
  CHECK_OK(pv_check_dim(idx, 384));
  CHECK_EQ_INT(pv_errcode(idx), PV_OK);
  CHECK(strcmp(pv_errmsg(idx), "not an error") == 0);
  pv_free(idx);
}

typedef void (*opt_edit)(pv_options *o);
static void o_dim0(pv_options *o) { o->dim = 0; }
static void o_dim_big(pv_options *o) { o->dim = PV_MAX_DIM + 1; }
static void o_dim_huge(pv_options *o) { o->dim = UINT32_MAX; }
static void o_m1(pv_options *o) { o->m = 1; }
static void o_m0(pv_options *o) { o->m = 0; }
static void o_m129(pv_options *o) { o->m = PV_MAX_M + 1; }
static void o_efc0(pv_options *o) { o->ef_construction = 0; }
static void o_efc_big(pv_options *o) { o->ef_construction = PV_MAX_EF + 1; }
static void o_efs0(pv_options *o) { o->ef_search = 0; }
static void o_efs_big(pv_options *o) { o->ef_search = PV_MAX_EF + 1; }
static void o_thr_neg(pv_options *o) { o->compact_threshold = -0.1f; }
static void o_thr_big(pv_options *o) { o->compact_threshold = 1.5f; }
static void o_thr_nan(pv_options *o) { o->compact_threshold = NAN; }
static void o_thr_inf(pv_options *o) { o->compact_threshold = INFINITY; }
static void o_metric(pv_options *o) { o->metric = (pv_metric)3; }
static void o_metric_neg(pv_options *o) { o->metric = (pv_metric)-1; }
static void o_storage(pv_options *o) { o->storage = (pv_storage)4; }

void test_errors_new_bad_options(void) {
  struct {
    const char *what;
    opt_edit edit;
  } cases[] = {
      {"dim 0", o_dim0},          {"dim 65537", o_dim_big},     {"dim UINT32_MAX", o_dim_huge},
      {"m 0", o_m0},              {"m 1", o_m1},                {"m 129", o_m129},
      {"ef_construction 0", o_efc0}, {"ef_construction > max", o_efc_big},
      {"ef_search 0", o_efs0},    {"ef_search > max", o_efs_big},
      {"threshold -0.1", o_thr_neg}, {"threshold 1.5", o_thr_big}, {"threshold NaN", o_thr_nan},
      {"threshold Inf", o_thr_inf}, {"metric 3", o_metric},      {"metric -1", o_metric_neg},
      {"storage 4", o_storage},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    pv_options o = tu_opts(16, PV_COSINE, PV_F32);
    cases[c].edit(&o);
    pv_index *idx = (pv_index *)&o; /* not NULL: pv_new must clear it */
    int rc = pv_new(&o, &idx);
    CHECK_MSG(rc == PV_INVALID, "%s: pv_new returned %d (%s)", cases[c].what, rc, pv_errstr(rc));
    CHECK_MSG(idx == NULL, "%s: *out not NULL", cases[c].what);
    CHECK_MSG(pv_errcode(NULL) == PV_INVALID, "%s: pv_errcode(NULL) = %d", cases[c].what,
              pv_errcode(NULL));
    CHECK_MSG(is_error_message(pv_errmsg(NULL)), "%s: pv_errmsg(NULL) = \"%s\"", cases[c].what,
              pv_errmsg(NULL) ? pv_errmsg(NULL) : "(null)");
    if (rc == PV_OK && idx != (pv_index *)&o) pv_free(idx);
  }
}

typedef struct limit_case {
  const char *what;
  uint32_t dim, m, efc, efs;
  float thr;
} limit_case;

void test_errors_new_limits_accepted(void) {
  const limit_case cases[] = {
      {"dim 1", 1, 16, 200, 64, 0.3f},
      {"dim max", PV_MAX_DIM, 16, 200, 64, 0.3f},
      {"m 2", 8, 2, 200, 64, 0.3f},
      {"m max", 8, PV_MAX_M, 200, 64, 0.3f},
      {"ef_construction 1", 8, 16, 1, 64, 0.3f},
      {"ef_construction max", 8, 16, PV_MAX_EF, 64, 0.3f},
      {"ef_search 1", 8, 16, 200, 1, 0.3f},
      {"ef_search max", 8, 16, 200, PV_MAX_EF, 0.3f},
      {"threshold 0", 8, 16, 200, 64, 0.0f},
      {"threshold 1", 8, 16, 200, 64, 1.0f},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    for (int st = 0; st < 2; st++) {
      pv_options o = tu_opts(cases[c].dim, PV_COSINE, (pv_storage)st);
      o.m = cases[c].m;
      o.ef_construction = cases[c].efc;
      o.ef_search = cases[c].efs;
      o.compact_threshold = cases[c].thr;
      pv_index *idx = NULL;
      int rc = pv_new(&o, &idx);
      CHECK_MSG(rc == PV_OK && idx != NULL, "%s: pv_new returned %d (%s)", cases[c].what, rc,
                pv_errmsg(NULL));
      if (!idx) continue;
      /* a few vectors and a search work with these limits */
      size_t dim = cases[c].dim, n = dim > 1000 ? 3 : 40;
      float *v = tu_xmalloc(sizeof(float) * dim * n);
      uint64_t seed = c + 1;
      tu_rand_vec(&seed, v, dim * n);
      CHECK_OK(pv_add_batch(idx, v, n, NULL));
      pv_hit h[3];
      size_t nh = 0;
      CHECK_OK(pv_search(idx, v + dim, 3, 0, h, &nh));
      CHECK_EQ_INT(nh, 3);
      if (dim > 1) CHECK(nh > 0 && h[0].id == 1);
      else CHECK(nh > 0 && h[0].distance <= 1e-5f); /* dim 1: direction only */
      CHECK_OK(pv_check(idx));
      free(v);
      pv_free(idx);
    }
  }
}

void test_errors_notfound(void) {
  for (int st = 0; st < 2; st++) {
    const uint32_t dim = 8;
    pv_options o = tu_opts(dim, PV_L2, (pv_storage)st);
    o.compact_threshold = 0.0f;
    pv_index *idx = NULL;
    REQUIRE_OK(pv_new(&o, &idx));
    float v[8 * 10];
    uint64_t seed = 9;
    tu_rand_vec(&seed, v, sizeof v / sizeof v[0]);
    REQUIRE_OK(pv_add_batch(idx, v, 10, NULL));
    const float *q = v + 2 * dim;
    tu_snap snap;
    tu_snap_take(idx, q, &snap);
    float got[8];
    const uint32_t unknown[] = {10, 11, 1000, UINT32_MAX - 1, UINT32_MAX};
    for (size_t i = 0; i < 5; i++) {
      CHECK_RC(pv_delete(idx, unknown[i]), PV_NOTFOUND);
      CHECK_EQ_INT(pv_errcode(idx), PV_NOTFOUND);
      CHECK(is_error_message(pv_errmsg(idx)));
      CHECK_RC(pv_get(idx, unknown[i], got), PV_NOTFOUND);
      CHECK(is_error_message(pv_errmsg(idx)));
      CHECK(!pv_contains(idx, unknown[i]));
      tu_snap_same(idx, q, &snap);
    }
    CHECK_OK(pv_delete(idx, 3));
    CHECK(!pv_contains(idx, 3));
    tu_snap_take(idx, q, &snap);
    CHECK_RC(pv_delete(idx, 3), PV_NOTFOUND);
    CHECK_RC(pv_get(idx, 3, got), PV_NOTFOUND);
    CHECK_EQ_INT(pv_errcode(idx), PV_NOTFOUND);
    tu_snap_same(idx, q, &snap);
    CHECK_OK(pv_compact(idx));
    CHECK_RC(pv_delete(idx, 3), PV_NOTFOUND);
    CHECK_RC(pv_get(idx, 3, got), PV_NOTFOUND);
    CHECK(!pv_contains(idx, 3));
    CHECK_OK(pv_get(idx, 4, got));
    CHECK_EQ_INT(pv_count(idx), 9);
    check_next_id(idx, dim, 10);
    pv_free(idx);
  }
}

/* After any failure, the next successful call reads "not an error". */
void test_errors_message_resets(void) {
  const uint32_t dim = 8;
  pv_index *idx = filled(dim, PV_COSINE, PV_F32, 200, 10);
  REQUIRE(idx);
  const float nan_v[8] = {1, NAN, 1, 1, 1, 1, 1, 1};
  const float good[8] = {1, 2, 1, 2, 1, 2, 1, 2};
  float got[8];
  pv_hit h[3];
  size_t n;
#define FAIL_THEN(ok_call)                                           \
  do {                                                               \
    CHECK_RC(pv_add(idx, nan_v, NULL), PV_INVALID);                  \
    CHECK(is_error_message(pv_errmsg(idx)));                         \
    CHECK_OK(ok_call);                                               \
    CHECK_EQ_INT(pv_errcode(idx), PV_OK);                            \
    CHECK_MSG(strcmp(pv_errmsg(idx), "not an error") == 0,           \
              "after %s: \"%s\"", #ok_call, pv_errmsg(idx));         \
  } while (0)
  FAIL_THEN(pv_add(idx, good, NULL));
  FAIL_THEN(pv_add_batch(idx, good, 1, NULL));
  FAIL_THEN(pv_add_batch(idx, good, 0, NULL));
  FAIL_THEN(pv_search(idx, good, 3, 0, h, &n));   /* graph search (ef < count) */
  FAIL_THEN(pv_search(idx, good, 3, 500, h, &n)); /* ef covering every vector */
  FAIL_THEN(pv_search_exact(idx, good, 3, 0, h, &n));
  FAIL_THEN(pv_get(idx, 0, got));
  FAIL_THEN(pv_delete(idx, 1));
  FAIL_THEN(pv_compact(idx));
  FAIL_THEN(pv_check(idx));
  FAIL_THEN(pv_check_dim(idx, dim));
#undef FAIL_THEN
  pv_free(idx);
}

void test_errors_search_ef_too_large(void) {
  for (int st = 0; st < 2; st++) {
    pv_index *idx = filled(8, PV_L2, (pv_storage)st, 30, 11);
    REQUIRE(idx);
    const float q[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f};
    tu_snap snap;
    tu_snap_take(idx, q, &snap);
    pv_hit h[5];
    size_t n = 0;
    CHECK_RC(pv_search(idx, q, 5, (size_t)PV_MAX_EF + 1, h, &n), PV_INVALID);
    CHECK_EQ_INT(pv_errcode(idx), PV_INVALID);
    CHECK(is_error_message(pv_errmsg(idx)));
    CHECK_RC(pv_search(idx, q, 5, SIZE_MAX, h, &n), PV_INVALID);
    tu_snap_same(idx, q, &snap);
    CHECK_OK(pv_search(idx, q, 5, PV_MAX_EF, h, &n));
    CHECK_EQ_INT(n, 5);
    pv_free(idx);
  }
}
