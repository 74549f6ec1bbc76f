/* SPDX-License-Identifier: MIT */
/*
 * The public API on small indexes: versions and messages, options, ids,
 * stored vectors, the three distance definitions, result order, exact search
 * against a brute force computed here, and the bookkeeping calls.
 */
#include <stdlib.h>

#include "test.h"

void test_api_version_and_errstr(void) {
  REQUIRE(pv_version() != NULL);
  CHECK(strcmp(pv_version(), PV_VERSION_STRING) == 0);
  int maj = -1, min = -1, pat = -1;
  char tail = 0;
  CHECK(sscanf(pv_version(), "%d.%d.%d%c", &maj, &min, &pat, &tail) == 3);
  CHECK(maj >= 0 && min >= 0 && pat >= 0);

  const int codes[] = {PV_OK,      PV_ERROR,   PV_NOMEM,   PV_INVALID, PV_DIM,
                       PV_NOTFOUND, PV_CORRUPT, PV_VERSION, PV_FULL};
  size_t n = sizeof codes / sizeof codes[0];
  for (size_t i = 0; i < n; i++) {
    const char *s = pv_errstr(codes[i]);
    CHECK_MSG(s != NULL && s[0] != '\0', "pv_errstr(%d) is empty", codes[i]);
    for (size_t j = 0; j < i; j++) {
      const char *t = pv_errstr(codes[j]);
      CHECK_MSG(s && t && strcmp(s, t) != 0, "pv_errstr(%d) == pv_errstr(%d) = \"%s\"",
                codes[i], codes[j], s ? s : "(null)");
    }
  }
  /* Unknown codes still get a string (callers print it blindly). */
  CHECK(pv_errstr(99) != NULL && pv_errstr(99)[0] != '\0');
  CHECK(pv_errstr(-1) != NULL && pv_errstr(-1)[0] != '\0');
  CHECK(pv_kernels_name() != NULL && pv_kernels_name()[0] != '\0');
}

void test_api_options_default(void) {
  pv_options o = pv_options_default();
  CHECK_EQ_INT(o.dim, 0);
  CHECK_EQ_INT(o.metric, PV_COSINE);
  CHECK_EQ_INT(o.storage, PV_F32);
  CHECK_EQ_INT(o.m, 16);
  CHECK_EQ_INT(o.ef_construction, 200);
  CHECK_EQ_INT(o.ef_search, 64);
  CHECK(o.compact_threshold == 0.3f);
  /* The defaults plus a dim make a valid index. */
  o.dim = 7;
  pv_index *idx = NULL;
  CHECK_OK(pv_new(&o, &idx));
  CHECK(idx != NULL);
  pv_free(idx);
}

void test_api_get_options_roundtrip(void) {
  pv_options o = pv_options_default();
  o.dim = 24;
  o.metric = PV_L2;
  o.storage = PV_SQ8;
  o.m = 8;
  o.ef_construction = 50;
  o.ef_search = 30;
  o.seed = 0xDEADBEEFCAFEull;
  o.capacity = 100;
  o.compact_threshold = 0.25f;
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  pv_options g;
  memset(&g, 0xAB, sizeof g);
  pv_get_options(idx, &g);
  CHECK_EQ_INT(g.dim, 24);
  CHECK_EQ_INT(g.metric, PV_L2);
  CHECK_EQ_INT(g.storage, PV_SQ8);
  CHECK_EQ_INT(g.m, 8);
  CHECK_EQ_INT(g.ef_construction, 50);
  CHECK_EQ_INT(g.ef_search, 30);
  CHECK(g.seed == 0xDEADBEEFCAFEull);
  CHECK_EQ_INT(g.capacity, 100);
  CHECK(g.compact_threshold == 0.25f);
  pv_free(idx);

  /* Every metric/storage pair round-trips; ef_construction below m is
   * reported as used (raised to m). */
  for (int met = 0; met < 3; met++) {
    for (int st = 0; st < 2; st++) {
      o = tu_opts(5, (pv_metric)met, (pv_storage)st);
      o.m = 12;
      o.ef_construction = 3;
      o.compact_threshold = 0.0f;
      REQUIRE_OK(pv_new(&o, &idx));
      pv_get_options(idx, &g);
      CHECK_EQ_INT(g.metric, met);
      CHECK_EQ_INT(g.storage, st);
      CHECK_EQ_INT(g.dim, 5);
      CHECK_EQ_INT(g.m, 12);
      CHECK_EQ_INT(g.ef_construction, 12);
      CHECK(g.compact_threshold == 0.0f);
      pv_free(idx);
    }
  }
}

void test_api_free_null(void) {
  pv_free(NULL); /* must not crash */
  CHECK(pv_errmsg(NULL) != NULL);
}

/* Distances by hand, dim 3, F32: q = (4,5,6), a = (1,2,3), b = (-2,0.5,4),
 * c = (-1,-2,-3). */
void test_api_distance_definitions(void) {
  const float a[3] = {1, 2, 3}, b[3] = {-2, 0.5f, 4}, c[3] = {-1, -2, -3};
  const float q[3] = {4, 5, 6};
  double na = sqrt(14.0), nb = sqrt(4 + 0.25 + 16), nc = sqrt(14.0), nq = sqrt(77.0);
  struct {
    pv_metric metric;
    double da, db, dc;
  } cases[] = {
      {PV_L2, 27.0, 60.25, 5 * 5 + 7 * 7 + 9 * 9},
      {PV_DOT, -32.0, -18.5, 32.0},
      {PV_COSINE, 1.0 - 32.0 / (na * nq), 1.0 - 18.5 / (nb * nq), 1.0 + 32.0 / (nc * nq)},
  };
  for (size_t t = 0; t < 3; t++) {
    pv_options o = tu_opts(3, cases[t].metric, PV_F32);
    pv_index *idx = NULL;
    REQUIRE_OK(pv_new(&o, &idx));
    uint32_t id;
    REQUIRE_OK(pv_add(idx, a, &id));
    CHECK_EQ_INT(id, 0);
    REQUIRE_OK(pv_add(idx, b, &id));
    CHECK_EQ_INT(id, 1);
    REQUIRE_OK(pv_add(idx, c, &id));
    CHECK_EQ_INT(id, 2);
    double want[3] = {cases[t].da, cases[t].db, cases[t].dc};
    for (int exact = 0; exact < 2; exact++) {
      pv_hit h[3];
      size_t n = 0;
      if (exact) CHECK_OK(pv_search_exact(idx, q, 3, 0, h, &n));
      else CHECK_OK(pv_search(idx, q, 3, 0, h, &n));
      REQUIRE(n == 3);
      CHECK(tu_hits_sorted(h, n));
      for (size_t i = 0; i < n; i++) {
        REQUIRE(h[i].id < 3);
        CHECK_MSG(fabs(h[i].distance - want[h[i].id]) <= 1e-6 * (1 + fabs(want[h[i].id])),
                  "metric %d exact %d: id %u distance %.9g, want %.9g", (int)cases[t].metric,
                  exact, h[i].id, (double)h[i].distance, want[h[i].id]);
      }
    }
    if (cases[t].metric == PV_COSINE) {
      /* opposite vector: distance 2; same direction, other length: 0 */
      const float twice_a[3] = {2, 4, 6};
      pv_hit h[3];
      size_t n = 0;
      CHECK_OK(pv_search_exact(idx, twice_a, 3, 0, h, &n));
      REQUIRE(n == 3);
      CHECK_EQ_INT(h[0].id, 0);
      CHECK_NEAR(h[0].distance, 0.0, 1e-6);
      CHECK_EQ_INT(h[2].id, 2);
      CHECK_NEAR(h[2].distance, 2.0, 1e-6);
    }
    CHECK_OK(pv_check(idx));
    pv_free(idx);
  }
}

/* ------------------------------------------------------------------------ */
/* Basics, for each metric x storage                                        */
/* ------------------------------------------------------------------------ */

#define BDIM 16
#define BN 200

static void api_basics(pv_metric metric, pv_storage storage) {
  uint64_t seed = 1000 + (uint64_t)metric * 10 + (uint64_t)storage;
  float *data = tu_xmalloc(sizeof(float) * BN * BDIM);
  double *stored = tu_xmalloc(sizeof(double) * BN * BDIM);
  for (size_t i = 0; i < BN; i++) {
    float *v = data + i * BDIM;
    if (metric == PV_DOT) {
      /* one common norm (2.5), so under dot a stored vector is its own
       * nearest neighbour, and not unit length, to see no normalisation */
      tu_rand_unit(&seed, v, BDIM);
      for (size_t d = 0; d < BDIM; d++) v[d] *= 2.5f;
    } else {
      tu_rand_vec(&seed, v, BDIM);
    }
    tu_ref_stored(metric, v, stored + i * BDIM, BDIM);
  }
  pv_options o = tu_opts(BDIM, metric, storage);
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  size_t mem0 = pv_memory_usage(idx);
  CHECK(mem0 > 0);
  CHECK_EQ_INT(pv_count(idx), 0);

  /* ids: 0, 1, 2 from pv_add; then the batch continues the sequence */
  for (uint32_t i = 0; i < 3; i++) {
    uint32_t id = 999;
    CHECK_OK(pv_add(idx, data + i * BDIM, &id));
    CHECK_EQ_INT(id, i);
    CHECK_EQ_INT(pv_errcode(idx), PV_OK);
    CHECK(strcmp(pv_errmsg(idx), "not an error") == 0);
  }
  uint32_t ids[BN];
  memset(ids, 0xFF, sizeof ids);
  CHECK_OK(pv_add_batch(idx, data + 3 * BDIM, BN - 4, ids));
  for (uint32_t i = 0; i < BN - 4; i++) CHECK_EQ_INT(ids[i], i + 3);
  CHECK_OK(pv_add(idx, data + (BN - 1) * BDIM, NULL)); /* id_out may be NULL */
  CHECK_OK(pv_add_batch(idx, data, 0, ids));          /* n = 0: a no-op */
  CHECK_EQ_INT(pv_count(idx), BN);
  CHECK_EQ_INT(pv_deleted_count(idx), 0);
  CHECK(pv_contains(idx, BN - 1));
  CHECK(!pv_contains(idx, BN));
  CHECK(pv_memory_usage(idx) > mem0);
  size_t nl = pv_list_ids(idx, ids, BN);
  CHECK_EQ_INT(nl, BN);
  for (uint32_t i = 0; i < BN; i++) CHECK_EQ_INT(ids[i], i);

  /* pv_get: F32 exact (cosine: unit length); SQ8 within one step */
  float got[BDIM];
  for (uint32_t id = 0; id < BN; id++) {
    CHECK_OK(pv_get(idx, id, got));
    const double *want = stored + (size_t)id * BDIM;
    double step = tu_sq8_step_d(want, BDIM);
    double norm = 0.0;
    for (size_t d = 0; d < BDIM; d++) {
      norm += (double)got[d] * got[d];
      if (tu_fine(storage) == PV_SQ8) {
        CHECK_MSG(fabs(got[d] - want[d]) <= step * 1.0001 + 1e-6,
                  "id %u [%zu]: %.9g vs %.9g (step %.3g)", id, d, (double)got[d], want[d], step);
      } else if (metric == PV_COSINE) {
        CHECK_MSG(fabs(got[d] - want[d]) <= 1e-6, "id %u [%zu]: %.9g vs %.9g", id, d,
                  (double)got[d], want[d]);
      } else {
        CHECK_MSG(got[d] == data[(size_t)id * BDIM + d], "id %u [%zu]: %.9g vs %.9g", id, d,
                  (double)got[d], (double)data[(size_t)id * BDIM + d]);
      }
    }
    if (metric == PV_COSINE && tu_fine(storage) == PV_F32) CHECK_NEAR(norm, 1.0, 1e-5);
  }

  /* every stored vector finds itself first, with a correct distance */
  pv_hit h[10];
  int self_first = 0;
  for (uint32_t id = 0; id < BN; id++) {
    size_t n = 0;
    const float *q = data + (size_t)id * BDIM;
    CHECK_OK(pv_search(idx, q, 10, 0, h, &n));
    CHECK_EQ_INT(n, 10);
    CHECK(tu_hits_sorted(h, n));
    if (n > 0 && h[0].id == id) self_first++;
    double qs[BDIM];
    tu_ref_stored(metric, q, qs, BDIM);
    for (size_t i = 0; i < n; i++) {
      REQUIRE(h[i].id < BN);
      const double *v = stored + (size_t)h[i].id * BDIM;
      double truth = tu_stored_dist(metric, qs, v, BDIM);
      double tol = tu_fine(storage) == PV_F32 ? 1e-5 * (1.0 + fabs(truth))
                                     : 2.0 * tu_sq8_dist_bound(metric, qs, v, BDIM) + 1e-4;
      CHECK_MSG(fabs(h[i].distance - truth) <= tol, "query %u hit %u: %.9g vs %.9g (tol %.3g)",
                id, h[i].id, (double)h[i].distance, truth, tol);
      if (metric == PV_L2) CHECK(h[i].distance >= -1e-5f);
      if (metric == PV_COSINE) CHECK(h[i].distance >= -1e-5f && h[i].distance <= 2.00001f);
    }
  }
  CHECK_MSG(self_first == BN, "%d of %d stored vectors found themselves first", self_first, BN);

  /* exact search against brute force (F32); SQ8: consistent with search */
  for (int t = 0; t < 50; t++) {
    float q[BDIM];
    tu_rand_vec(&seed, q, BDIM);
    double qs[BDIM];
    tu_ref_stored(metric, q, qs, BDIM);
    size_t n = 0, ns = 0;
    pv_hit s[10];
    CHECK_OK(pv_search_exact(idx, q, 10, 0, h, &n));
    if (tu_fine(storage) == PV_F32) {
      tu_check_topk(metric, stored, NULL, BN, BDIM, qs, 10, h, n, 1e-5);
    } else {
      CHECK_EQ_INT(n, 10);
      CHECK(tu_hits_sorted(h, n));
      for (size_t i = 0; i < n; i++) {
        const double *v = stored + (size_t)h[i].id * BDIM;
        double truth = tu_stored_dist(metric, qs, v, BDIM);
        CHECK(fabs(h[i].distance - truth) <= 2.0 * tu_sq8_dist_bound(metric, qs, v, BDIM) + 1e-4);
      }
    }
    /* ef covering every vector makes the graph search exact */
    CHECK_OK(pv_search(idx, q, 10, BN, s, &ns));
    CHECK_EQ_INT(ns, n);
    for (size_t i = 0; i < ns && i < n; i++) {
      CHECK_MSG(s[i].id == h[i].id && s[i].distance == h[i].distance,
                "ef=count search rank %zu: id %u (%.9g) vs exact id %u (%.9g)", i, s[i].id,
                (double)s[i].distance, h[i].id, (double)h[i].distance);
    }
  }

  CHECK_OK(pv_check(idx));
  CHECK(strcmp(pv_errmsg(idx), "not an error") == 0);
  pv_free(idx);
  free(data);
  free(stored);
}

void test_api_basics_cosine_f32(void) { api_basics(PV_COSINE, PV_F32); }
void test_api_basics_l2_f32(void) { api_basics(PV_L2, PV_F32); }
void test_api_basics_dot_f32(void) { api_basics(PV_DOT, PV_F32); }
void test_api_basics_cosine_sq8(void) { api_basics(PV_COSINE, PV_SQ8); }
void test_api_basics_l2_sq8(void) { api_basics(PV_L2, PV_SQ8); }
void test_api_basics_dot_sq8(void) { api_basics(PV_DOT, PV_SQ8); }
void test_api_basics_cosine_binary(void) { api_basics(PV_COSINE, PV_BINARY); }
void test_api_basics_l2_binary(void) { api_basics(PV_L2, PV_BINARY); }
void test_api_basics_dot_binary(void) { api_basics(PV_DOT, PV_BINARY); }
void test_api_basics_cosine_binary_f32(void) { api_basics(PV_COSINE, PV_BINARY_F32); }
void test_api_basics_l2_binary_f32(void) { api_basics(PV_L2, PV_BINARY_F32); }

/* Equal distances come out by ascending id, in search and exact search. */
void test_api_ties_sorted_by_id(void) {
  for (int met = 0; met < 3; met++) {
    for (int st = 0; st < 2; st++) {
      uint64_t seed = 77;
      pv_options o = tu_opts(8, (pv_metric)met, (pv_storage)st);
      pv_index *idx = NULL;
      REQUIRE_OK(pv_new(&o, &idx));
      float x[8], r[8];
      tu_rand_unit(&seed, x, 8);
      /* even ids: copies of x; odd ids: random unit vectors */
      for (uint32_t i = 0; i < 20; i++) {
        uint32_t id;
        if (i % 2 == 0) {
          REQUIRE_OK(pv_add(idx, x, &id));
        } else {
          tu_rand_unit(&seed, r, 8);
          for (int d = 0; d < 8; d++) r[d] = -0.1f * r[d] - 0.5f * x[d];
          REQUIRE_OK(pv_add(idx, r, &id));
        }
        CHECK_EQ_INT(id, i);
      }
      for (int exact = 0; exact < 2; exact++) {
        pv_hit h[10];
        size_t n = 0;
        if (exact) CHECK_OK(pv_search_exact(idx, x, 10, 0, h, &n));
        else CHECK_OK(pv_search(idx, x, 10, 0, h, &n));
        REQUIRE(n == 10);
        for (size_t i = 0; i < n; i++) {
          CHECK_MSG(h[i].id == 2 * i, "metric %d storage %d exact %d: rank %zu is id %u",
                    met, st, exact, i, h[i].id);
        }
        for (size_t i = 1; i < n; i++) CHECK(h[i].distance == h[0].distance);
        /* k = 3: the three smallest ids of the tie */
        if (exact) CHECK_OK(pv_search_exact(idx, x, 3, 0, h, &n));
        else CHECK_OK(pv_search(idx, x, 3, 0, h, &n));
        REQUIRE(n == 3);
        CHECK(h[0].id == 0 && h[1].id == 2 && h[2].id == 4);
      }
      CHECK_OK(pv_check(idx));
      pv_free(idx);
    }
  }
}

void test_api_list_ids_and_contains(void) {
  uint64_t seed = 5;
  pv_options o = tu_opts(4, PV_L2, PV_F32);
  o.compact_threshold = 0.0f;
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  uint32_t out[32];
  CHECK_EQ_INT(pv_list_ids(idx, out, 32), 0);
  float v[4];
  for (int i = 0; i < 20; i++) {
    tu_rand_vec(&seed, v, 4);
    REQUIRE_OK(pv_add(idx, v, NULL));
  }
  const uint32_t del[] = {0, 3, 4, 10, 19};
  for (size_t i = 0; i < 5; i++) CHECK_OK(pv_delete(idx, del[i]));
  CHECK_EQ_INT(pv_count(idx), 15);
  CHECK_EQ_INT(pv_deleted_count(idx), 5);
  uint32_t live[15];
  size_t nlive = 0;
  for (uint32_t id = 0; id < 20; id++) {
    int dead = 0;
    for (size_t i = 0; i < 5; i++) dead |= del[i] == id;
    CHECK_EQ_INT(pv_contains(idx, id), !dead);
    if (!dead) live[nlive++] = id;
  }
  CHECK(!pv_contains(idx, 20));
  CHECK(!pv_contains(idx, UINT32_MAX));
  /* full list */
  memset(out, 0xEE, sizeof out);
  CHECK_EQ_INT(pv_list_ids(idx, out, 32), 15);
  CHECK(memcmp(out, live, sizeof live) == 0);
  CHECK(out[15] == 0xEEEEEEEEu);
  /* short buffer: the first cap ids, the full count returned */
  memset(out, 0xEE, sizeof out);
  CHECK_EQ_INT(pv_list_ids(idx, out, 5), 15);
  CHECK(memcmp(out, live, 5 * sizeof(uint32_t)) == 0);
  CHECK(out[5] == 0xEEEEEEEEu);
  memset(out, 0xEE, sizeof out);
  CHECK_EQ_INT(pv_list_ids(idx, out, 0), 15);
  CHECK(out[0] == 0xEEEEEEEEu);
  CHECK_OK(pv_check(idx));
  pv_free(idx);
}

void test_api_memory_usage_grows(void) {
  uint64_t seed = 9;
  size_t dim = 256, n = 1000;
  float *data = tu_xmalloc(sizeof(float) * n * dim);
  for (size_t i = 0; i < n * dim; i++) data[i] = (float)(tu_unif(&seed) * 2 - 1);
  size_t mem[2];
  for (int st = 0; st < 2; st++) {
    pv_options o = tu_opts((uint32_t)dim, PV_L2, (pv_storage)st);
    o.ef_construction = 32;
    pv_index *idx = NULL;
    REQUIRE_OK(pv_new(&o, &idx));
    size_t prev = pv_memory_usage(idx);
    CHECK(prev > 0);
    size_t m100 = 0;
    for (size_t i = 0; i < n; i += 100) {
      REQUIRE_OK(pv_add_batch(idx, data + i * dim, 100, NULL));
      size_t now = pv_memory_usage(idx);
      CHECK_MSG(now >= prev, "memory shrank while adding: %zu -> %zu", prev, now);
      prev = now;
      if (i == 0) m100 = now;
    }
    /* the vectors alone are n * dim bytes (SQ8) or 4x that (F32) */
    size_t vec_bytes = n * dim * (st == PV_F32 ? 4 : 1);
    CHECK_MSG(prev >= vec_bytes, "memory %zu < vector bytes %zu", prev, vec_bytes);
    CHECK(prev > m100);
    mem[st] = prev;
    pv_free(idx);
  }
  /* SQ8 keeps a quarter of the vector bytes: well under 60% in total here */
  CHECK_MSG((double)mem[PV_SQ8] < 0.6 * (double)mem[PV_F32], "SQ8 %zu bytes vs F32 %zu",
            mem[PV_SQ8], mem[PV_F32]);
  free(data);
}

/* An allocator per index: everything an index allocates, from pv_new (or
 * pv_load_with_allocator) to pv_free, goes to the allocator its options
 * name, none to the default; two indexes with two allocators do not mix;
 * pv_memory_usage counts the same bytes the allocator sees. */
void test_api_allocator_per_index(void) {
  tu_alloc deflt, a1, a2;
  memset(&deflt, 0, sizeof deflt);
  memset(&a1, 0, sizeof a1);
  memset(&a2, 0, sizeof a2);
  tu_alloc_use(&deflt);
  pv_allocator al1 = tu_alloc_allocator(&a1), al2 = tu_alloc_allocator(&a2);
  pv_options o = pv_options_default();
  o.dim = 9;
  o.storage = PV_SQ8;
  o.allocator = &al1;
  pv_index *x;
  REQUIRE_OK(pv_new(&o, &x));
  pv_options back;
  pv_get_options(x, &back);
  CHECK(back.allocator == NULL); /* copied at pv_new: not kept */
  float v[9 * 50];
  uint64_t rng = 5;
  for (int i = 0; i < 50; i++) tu_rand_vec(&rng, v + 9 * i, 9);
  CHECK_OK(pv_add_batch(x, v, 50, NULL));
  pv_hit h[5];
  size_t n;
  CHECK_OK(pv_search(x, v, 5, 0, h, &n));
  CHECK_EQ_INT(a1.bytes, pv_memory_usage(x));
  size_t len = pv_serialized_size(x);
  uint8_t *b = malloc(len);
  REQUIRE(b);
  CHECK_OK(pv_serialize_to(x, b, len, NULL));
  pv_index *y;
  REQUIRE_OK(pv_load_with_allocator(b, len, PV_LOAD_COPY, &al2, &y));
  CHECK_OK(pv_add(y, v, NULL));
  CHECK_OK(pv_compact(y));
  CHECK(a2.live > 0);
  CHECK_EQ_INT(a2.bytes, pv_memory_usage(y));
  CHECK_EQ_INT(deflt.calls, 0);
  pv_free(x);
  pv_free(y);
  CHECK_EQ_INT(a1.live, 0);
  CHECK_EQ_INT(a2.live, 0);
  CHECK_EQ_INT(a1.bad_ptrs + a2.bad_ptrs + deflt.bad_ptrs, 0);
  pv_allocator broken = al1;
  broken.realloc = NULL;
  o.allocator = &broken;
  CHECK_RC(pv_new(&o, &x), PV_INVALID);
  free(b);
  pv_set_allocator(NULL);
}

/* The structured detail of an error, for programs that must not parse
 * messages: which vector of a batch and which element; the size a buffer
 * needs; reset by the next call. */
void test_api_errinfo(void) {
  pv_options o = pv_options_default();
  o.dim = 6;
  pv_index *x;
  REQUIRE_OK(pv_new(&o, &x));
  float v[6 * 5];
  uint64_t rng = 8;
  for (int i = 0; i < 5; i++) tu_rand_vec(&rng, v + 6 * i, 6);
  v[6 * 3 + 4] = NAN;
  pv_error_info e;
  CHECK_RC(pv_add_batch(x, v, 5, NULL), PV_INVALID);
  CHECK_EQ_INT(pv_errinfo(x, &e), PV_INVALID);
  CHECK_EQ_INT(e.code, PV_INVALID);
  CHECK(e.item == 3 && e.element == 4);
  CHECK_RC(pv_add(x, v + 18, NULL), PV_INVALID);
  pv_errinfo(x, &e);
  CHECK(e.item == -1 && e.element == 4);
  memset(v + 18, 0, sizeof(float) * 6);
  CHECK_RC(pv_add(x, v + 18, NULL), PV_INVALID); /* zero under cosine */
  pv_errinfo(x, &e);
  CHECK(e.item == -1 && e.element == -1);
  CHECK_OK(pv_add(x, v, NULL));
  CHECK_EQ_INT(pv_errinfo(x, &e), PV_OK);
  CHECK(e.item == -1 && e.element == -1 && e.offset == -1 && e.need == 0);
  uint8_t small[16];
  size_t need = 0;
  CHECK_RC(pv_serialize_to(x, small, sizeof small, &need), PV_RANGE);
  pv_errinfo(x, &e);
  CHECK(e.need == need && need > sizeof small);
  CHECK_EQ_INT(pv_errinfo(x, NULL), PV_RANGE);
  pv_free(x);
}
