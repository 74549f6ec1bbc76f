/* SPDX-License-Identifier: MIT */
/*
 * Deletes and compaction: deleted ids vanish from results at once, live ids
 * and their vectors survive compaction unchanged, compaction gives memory
 * back, auto-compaction fires exactly when the tombstones exceed the
 * threshold, and ids are never issued twice.
 */
#include <stdlib.h>

#include "test.h"

static pv_index *build(pv_metric metric, pv_storage storage, uint32_t dim, float thr,
                       const float *data, size_t n) {
  pv_options o = tu_opts(dim, metric, storage);
  o.compact_threshold = thr;
  o.ef_construction = 100;
  pv_index *idx = NULL;
  if (pv_new(&o, &idx) != PV_OK) return NULL;
  if (pv_add_batch(idx, data, n, NULL) != PV_OK) {
    pv_free(idx);
    return NULL;
  }
  return idx;
}

static void shuffle(uint64_t *seed, uint32_t *a, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = tu_below(seed, (uint32_t)i);
    uint32_t t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
  }
}

void test_delete_never_in_results(void) {
  const uint32_t dim = 16, n = 500;
  float thrs[] = {0.0f, 0.3f};
  for (int st = 0; st < 2; st++) {
    for (int met = 0; met < 2; met++) {
      for (int t = 0; t < 2; t++) {
        uint64_t seed = 20 + (uint64_t)(st * 4 + met * 2 + t);
        float *data = tu_xmalloc(sizeof(float) * n * dim);
        tu_rand_vec(&seed, data, (size_t)n * dim);
        pv_metric metric = met ? PV_L2 : PV_COSINE;
        pv_index *idx = build(metric, (pv_storage)st, dim, thrs[t], data, n);
        REQUIRE(idx);
        unsigned char *dead = tu_xcalloc(n, 1);
        uint32_t order[500];
        for (uint32_t i = 0; i < n; i++) order[i] = i;
        shuffle(&seed, order, n);
        pv_hit h[50];
        for (uint32_t i = 0; i < 300; i++) {
          uint32_t id = order[i];
          REQUIRE_OK(pv_delete(idx, id));
          dead[id] = 1;
          const float *q = data + (size_t)id * dim;
          size_t nh = 0;
          /* immediately: its own vector must not find it */
          CHECK_OK(pv_search(idx, q, 10, 0, h, &nh));
          CHECK_EQ_INT(nh, 10);
          for (size_t j = 0; j < nh; j++)
            CHECK_MSG(!dead[h[j].id], "deleted id %u returned by search", h[j].id);
          CHECK_OK(pv_search_exact(idx, q, 10, 0, h, &nh));
          CHECK_EQ_INT(nh, 10);
          for (size_t j = 0; j < nh; j++)
            CHECK_MSG(!dead[h[j].id], "deleted id %u returned by exact search", h[j].id);
          if (i % 25 == 0) {
            CHECK_OK(pv_search(idx, q, 50, 400, h, &nh));
            CHECK_EQ_INT(nh, 50);
            for (size_t j = 0; j < nh; j++)
              CHECK_MSG(!dead[h[j].id], "deleted id %u returned (ef 400)", h[j].id);
            CHECK_OK(pv_check(idx));
          }
        }
        CHECK_EQ_INT(pv_count(idx), 200);
        pv_hit *all = tu_xmalloc(sizeof(pv_hit) * n);
        size_t nh = 0;
        CHECK_OK(pv_search_exact(idx, data, n, 0, all, &nh));
        CHECK_EQ_INT(nh, 200);
        for (size_t j = 0; j < nh; j++) CHECK(!dead[all[j].id]);
        free(all);
        pv_free(idx);
        free(dead);
        free(data);
      }
    }
  }
}

void test_delete_compact_keeps_ids(void) {
  const uint32_t dim = 16, n = 600;
  for (int st = 0; st < 2; st++) {
    for (int met = 0; met < 3; met += 2) { /* cosine and dot */
      pv_metric metric = (pv_metric)met;
      uint64_t seed = 30 + (uint64_t)(st * 3 + met);
      float *data = tu_xmalloc(sizeof(float) * n * dim);
      tu_rand_vec(&seed, data, (size_t)n * dim);
      pv_index *idx = build(metric, (pv_storage)st, dim, 0.0f, data, n);
      REQUIRE(idx);
      uint32_t order[600];
      for (uint32_t i = 0; i < n; i++) order[i] = i;
      shuffle(&seed, order, n);
      for (uint32_t i = 0; i < 250; i++) REQUIRE_OK(pv_delete(idx, order[i]));
      CHECK_EQ_INT(pv_deleted_count(idx), 250);
      uint32_t ids_before[600], ids_after[600];
      size_t nlive = pv_list_ids(idx, ids_before, n);
      CHECK_EQ_INT(nlive, 350);
      float *vec_before = tu_xmalloc(sizeof(float) * nlive * dim);
      for (size_t i = 0; i < nlive; i++) CHECK_OK(pv_get(idx, ids_before[i], vec_before + i * dim));
      enum { NQ = 30, K = 10 };
      pv_hit ex_before[NQ][K], ex_after[NQ][K];
      size_t nb[NQ], na[NQ];
      float queries[NQ * 16];
      tu_rand_vec(&seed, queries, NQ * dim);
      for (int q = 0; q < NQ; q++)
        CHECK_OK(pv_search_exact(idx, queries + q * dim, K, 0, ex_before[q], &nb[q]));

      REQUIRE_OK(pv_compact(idx));
      CHECK_EQ_INT(pv_deleted_count(idx), 0);
      CHECK_EQ_INT(pv_count(idx), 350);
      CHECK_OK(pv_check(idx));
      CHECK_EQ_INT(pv_list_ids(idx, ids_after, n), 350);
      CHECK(memcmp(ids_before, ids_after, sizeof(uint32_t) * nlive) == 0);
      float got[16];
      for (size_t i = 0; i < nlive; i++) {
        CHECK_OK(pv_get(idx, ids_before[i], got));
        CHECK_MSG(memcmp(got, vec_before + i * dim, sizeof(float) * dim) == 0,
                  "id %u: vector changed by compaction", ids_before[i]);
      }
      for (uint32_t i = 0; i < 250; i++) CHECK(!pv_contains(idx, order[i]));
      for (int q = 0; q < NQ; q++) {
        CHECK_OK(pv_search_exact(idx, queries + q * dim, K, 0, ex_after[q], &na[q]));
        CHECK_EQ_INT(na[q], nb[q]);
        CHECK_MSG(na[q] == nb[q] && memcmp(ex_before[q], ex_after[q], na[q] * sizeof(pv_hit)) == 0,
                  "query %d: exact results changed by compaction", q);
        /* and the repaired graph gives the exact answer when ef covers it */
        pv_hit s[K];
        size_t ns = 0;
        CHECK_OK(pv_search(idx, queries + q * dim, K, nlive, s, &ns));
        CHECK_MSG(ns == na[q] && memcmp(s, ex_after[q], ns * sizeof(pv_hit)) == 0,
                  "query %d: search with ef = count differs from exact after compaction", q);
      }
      /* through the repaired graph, each live vector's search agrees with
       * the exact top hit (itself under cosine; under dot, the largest
       * inner product, which need not be itself) */
      size_t agree = 0;
      for (size_t i = 0; i < nlive; i++) {
        pv_hit h[5], e[1];
        size_t nh = 0, ne = 0;
        const float *q = data + (size_t)ids_before[i] * dim;
        CHECK_OK(pv_search(idx, q, 5, 0, h, &nh));
        CHECK_OK(pv_search_exact(idx, q, 1, 0, e, &ne));
        if (nh && ne && h[0].id == e[0].id) agree++;
        if (metric == PV_COSINE) CHECK(ne == 1 && e[0].id == ids_before[i]);
      }
      CHECK_MSG(agree * 100 >= nlive * 98, "%zu of %zu top hits right after compaction", agree,
                nlive);
      free(vec_before);
      pv_free(idx);
      free(data);
    }
  }
}

void test_delete_compact_reclaims_memory(void) {
  const uint32_t dim = 32, n = 2000;
  for (int st = 0; st < 2; st++) {
    uint64_t seed = 40;
    float *data = tu_xmalloc(sizeof(float) * n * dim);
    tu_rand_vec(&seed, data, (size_t)n * dim);
    pv_index *idx = build(PV_L2, (pv_storage)st, dim, 0.0f, data, n);
    REQUIRE(idx);
    for (uint32_t id = 0; id < n; id += 2) REQUIRE_OK(pv_delete(idx, id));
    CHECK_EQ_INT(pv_deleted_count(idx), 1000);
    size_t before = pv_memory_usage(idx);
    REQUIRE_OK(pv_compact(idx));
    size_t after = pv_memory_usage(idx);
    CHECK_EQ_INT(pv_deleted_count(idx), 0);
    CHECK_EQ_INT(pv_count(idx), 1000);
    CHECK_MSG((double)after < 0.8 * (double)before, "memory %zu -> %zu after compacting half",
              before, after);
    /* about what a fresh index of the survivors takes */
    float *surv = tu_xmalloc(sizeof(float) * 1000 * dim);
    for (size_t i = 0; i < 1000; i++)
      memcpy(surv + i * dim, data + (2 * i + 1) * dim, sizeof(float) * dim);
    pv_index *fresh = build(PV_L2, (pv_storage)st, dim, 0.0f, surv, 1000);
    REQUIRE(fresh);
    size_t fm = pv_memory_usage(fresh);
    CHECK_MSG((double)after <= 1.5 * (double)fm + 4096, "compacted %zu bytes, fresh %zu", after,
              fm);
    CHECK_OK(pv_check(idx));
    pv_free(fresh);
    free(surv);
    pv_free(idx);
    free(data);
  }
}

/* With n slots all live at the start, delete in a shuffled order and predict
 * pv_deleted_count after every delete: it grows by one until deleted >
 * threshold * (live + deleted), when compaction resets it to 0. */
void test_delete_auto_compaction(void) {
  const float thrs[] = {0.3f, 0.1f, 0.5f, 1.0f};
  const uint32_t dim = 8, n = 100;
  for (int st = 0; st < 2; st++) {
    for (size_t t = 0; t < 4; t++) {
      uint64_t seed = 50 + t;
      float *data = tu_xmalloc(sizeof(float) * n * dim);
      tu_rand_vec(&seed, data, (size_t)n * dim);
      pv_index *idx = build(PV_COSINE, (pv_storage)st, dim, thrs[t], data, n);
      REQUIRE(idx);
      uint32_t order[100];
      for (uint32_t i = 0; i < n; i++) order[i] = i;
      shuffle(&seed, order, n);
      size_t live = n, del = 0, compactions = 0;
      for (uint32_t i = 0; i < n; i++) {
        REQUIRE_OK(pv_delete(idx, order[i]));
        live--;
        del++;
        int fire = (double)del > (double)thrs[t] * (double)(live + del);
        if (fire) {
          del = 0;
          compactions++;
        }
        CHECK_MSG(pv_deleted_count(idx) == del,
                  "threshold %g, delete %u: deleted_count %zu, expected %zu", (double)thrs[t],
                  i + 1, pv_deleted_count(idx), del);
        CHECK_EQ_INT(pv_count(idx), live);
        if (fire || i % 10 == 0) CHECK_OK(pv_check(idx));
        /* the survivors are still found */
        if (fire && live > 0) {
          uint32_t ids[100];
          size_t nl = pv_list_ids(idx, ids, 100);
          CHECK_EQ_INT(nl, live);
          for (size_t j = 0; j < nl; j += 7) {
            pv_hit h[1];
            size_t nh = 0;
            CHECK_OK(pv_search(idx, data + (size_t)ids[j] * dim, 1, 0, h, &nh));
            CHECK(nh == 1 && h[0].id == ids[j]);
          }
        }
      }
      if (thrs[t] == 0.3f) {
        /* 100 slots: the 31st delete compacts (31 > 30), the 30th does not */
        CHECK(compactions >= 1);
      }
      if (thrs[t] == 1.0f) {
        CHECK_EQ_INT(compactions, 0);
        CHECK_EQ_INT(pv_deleted_count(idx), n); /* never exceeds 100% */
      }
      CHECK_OK(pv_check(idx));
      pv_free(idx);
      free(data);
    }
  }
  /* the headline case, spelled out: 100 vectors, threshold 0.3 */
  {
    uint64_t seed = 59;
    float data[100 * 8];
    tu_rand_vec(&seed, data, 100 * 8);
    pv_index *idx = build(PV_L2, PV_F32, 8, 0.3f, data, 100);
    REQUIRE(idx);
    for (uint32_t id = 0; id < 30; id++) REQUIRE_OK(pv_delete(idx, id));
    CHECK_EQ_INT(pv_deleted_count(idx), 30);
    REQUIRE_OK(pv_delete(idx, 30));
    CHECK_EQ_INT(pv_deleted_count(idx), 0);
    CHECK_EQ_INT(pv_count(idx), 69);
    CHECK_OK(pv_check(idx));
    pv_free(idx);
  }
}

void test_delete_threshold_zero_never_compacts(void) {
  const uint32_t dim = 8, n = 100;
  uint64_t seed = 60;
  float data[100 * 8];
  tu_rand_vec(&seed, data, (size_t)n * dim);
  for (int st = 0; st < 2; st++) {
    pv_index *idx = build(PV_L2, (pv_storage)st, dim, 0.0f, data, n);
    REQUIRE(idx);
    size_t mem = pv_memory_usage(idx);
    for (uint32_t id = 0; id < 90; id++) {
      REQUIRE_OK(pv_delete(idx, id));
      CHECK_EQ_INT(pv_deleted_count(idx), id + 1);
    }
    CHECK_EQ_INT(pv_count(idx), 10);
    CHECK(pv_memory_usage(idx) >= mem);
    CHECK_OK(pv_check(idx));
    /* the 10 survivors are still reachable through 90 tombstones */
    for (uint32_t id = 90; id < 100; id++) {
      pv_hit h[3];
      size_t nh = 0;
      CHECK_OK(pv_search(idx, data + (size_t)id * dim, 3, 0, h, &nh));
      CHECK_EQ_INT(nh, 3);
      CHECK(nh && h[0].id == id);
    }
    REQUIRE_OK(pv_compact(idx));
    CHECK_EQ_INT(pv_deleted_count(idx), 0);
    CHECK(pv_memory_usage(idx) < mem);
    CHECK_OK(pv_check(idx));
    pv_free(idx);
  }
}

void test_delete_ids_never_reused(void) {
  const uint32_t dim = 8;
  uint64_t seed = 70;
  float v[8];
  for (int st = 0; st < 2; st++) {
    pv_options o = tu_opts(dim, PV_L2, (pv_storage)st);
    o.compact_threshold = 0.0f;
    pv_index *idx = NULL;
    REQUIRE_OK(pv_new(&o, &idx));
    uint32_t next = 0, id;
    for (int i = 0; i < 10; i++) {
      tu_rand_vec(&seed, v, dim);
      REQUIRE_OK(pv_add(idx, v, &id));
      CHECK_EQ_INT(id, next++);
    }
    /* delete the newest, compact: its id is not handed out again */
    REQUIRE_OK(pv_delete(idx, 9));
    REQUIRE_OK(pv_compact(idx));
    tu_rand_vec(&seed, v, dim);
    REQUIRE_OK(pv_add(idx, v, &id));
    CHECK_EQ_INT(id, 10);
    next = 11;
    CHECK(!pv_contains(idx, 9));
    /* delete everything, compact, add: the sequence goes on */
    uint32_t ids[16];
    size_t nl = pv_list_ids(idx, ids, 16);
    for (size_t i = 0; i < nl; i++) REQUIRE_OK(pv_delete(idx, ids[i]));
    REQUIRE_OK(pv_compact(idx));
    CHECK_EQ_INT(pv_count(idx), 0);
    uint32_t batch_ids[3];
    float b[3 * 8];
    tu_rand_vec(&seed, b, 3 * dim);
    REQUIRE_OK(pv_add_batch(idx, b, 3, batch_ids));
    for (int i = 0; i < 3; i++) CHECK_EQ_INT(batch_ids[i], next + (uint32_t)i);
    next += 3;
    for (uint32_t old = 0; old < 11; old++) {
      CHECK(!pv_contains(idx, old));
      CHECK_RC(pv_delete(idx, old), PV_NOTFOUND);
    }
    CHECK_OK(pv_check(idx));
    pv_free(idx);
  }
}

/* 95% of the vectors deleted, without compaction: the rest are still
 * found; then compaction; then more inserts. */
void test_delete_everything_then_add(void) {
  const uint32_t dim = 16, n = 1000;
  for (int st = 0; st < 2; st++) {
    uint64_t seed = 80;
    float *data = tu_xmalloc(sizeof(float) * (n + 100) * dim);
    tu_rand_vec(&seed, data, (size_t)(n + 100) * dim);
    pv_index *idx = build(PV_COSINE, (pv_storage)st, dim, 0.0f, data, n);
    REQUIRE(idx);
    uint32_t order[1000];
    for (uint32_t i = 0; i < n; i++) order[i] = i;
    shuffle(&seed, order, n);
    for (uint32_t i = 0; i < 950; i++) REQUIRE_OK(pv_delete(idx, order[i]));
    CHECK_OK(pv_check(idx));
    CHECK_EQ_INT(pv_count(idx), 50);
    size_t self = 0;
    for (uint32_t i = 950; i < n; i++) {
      pv_hit h[10];
      size_t nh = 0;
      uint32_t id = order[i];
      CHECK_OK(pv_search(idx, data + (size_t)id * dim, 10, n, h, &nh));
      CHECK_EQ_INT(nh, 10);
      if (nh && h[0].id == id) self++;
    }
    CHECK_MSG(self == 50, "with ef covering all slots: %zu of 50 found themselves", self);
    REQUIRE_OK(pv_compact(idx));
    CHECK_OK(pv_check(idx));
    self = 0;
    for (uint32_t i = 950; i < n; i++) {
      pv_hit h[10];
      size_t nh = 0;
      CHECK_OK(pv_search(idx, data + (size_t)order[i] * dim, 10, 0, h, &nh));
      if (nh && h[0].id == order[i]) self++;
    }
    CHECK_MSG(self >= 49, "after compaction: %zu of 50 found themselves", self);
    uint32_t ids[100];
    REQUIRE_OK(pv_add_batch(idx, data + (size_t)n * dim, 100, ids));
    for (uint32_t i = 0; i < 100; i++) CHECK_EQ_INT(ids[i], n + i);
    self = 0;
    for (uint32_t i = 0; i < 100; i++) {
      pv_hit h[3];
      size_t nh = 0;
      CHECK_OK(pv_search(idx, data + (size_t)(n + i) * dim, 3, 0, h, &nh));
      if (nh && h[0].id == n + i) self++;
    }
    CHECK_MSG(self >= 98, "new vectors: %zu of 100 found themselves", self);
    CHECK_OK(pv_check(idx));
    pv_free(idx);
    free(data);
  }
}
