/* SPDX-License-Identifier: MIT */
/*
 * The graph: exact answers when ef covers every vector (before and after
 * deletes and compaction), the extremes of m, ef_construction raised to m,
 * a one-dimensional layout that degrades naive HNSW, and the capacity hint.
 */
#include <stdlib.h>

#include "test.h"

static int same_hits(const pv_hit *a, size_t na, const pv_hit *b, size_t nb) {
  return na == nb && memcmp(a, b, na * sizeof(pv_hit)) == 0;
}

/* For nq random queries, pv_search with ef = `ef` must equal pv_search_exact. */
static void check_full_ef(pv_index *idx, uint32_t dim, size_t ef, uint64_t seed, int nq,
                          const char *when) {
  float *q = tu_xmalloc(sizeof(float) * dim);
  int bad = 0;
  for (int i = 0; i < nq; i++) {
    tu_rand_vec(&seed, q, dim);
    pv_hit a[10], b[10];
    size_t na = 0, nb = 0;
    CHECK_OK(pv_search(idx, q, 10, ef, a, &na));
    CHECK_OK(pv_search_exact(idx, q, 10, 0, b, &nb));
    if (!same_hits(a, na, b, nb)) bad++;
  }
  CHECK_MSG(bad == 0, "%s: %d of %d searches with ef %zu differ from exact", when, bad, nq, ef);
  free(q);
}

void test_graph_full_ef_is_exact(void) {
  const uint32_t dim = 16, n = 300;
  for (int met = 0; met < 3; met++) {
    for (int st = 0; st < 2; st++) {
      uint64_t seed = 100 + (uint64_t)(met * 2 + st);
      pv_options o = tu_opts(dim, (pv_metric)met, (pv_storage)st);
      o.compact_threshold = 0.0f;
      o.m = 6;
      o.ef_construction = 40;
      pv_index *idx = NULL;
      REQUIRE_OK(pv_new(&o, &idx));
      float *data = tu_xmalloc(sizeof(float) * n * dim);
      tu_rand_vec(&seed, data, (size_t)n * dim);
      REQUIRE_OK(pv_add_batch(idx, data, n, NULL));
      check_full_ef(idx, dim, n, seed, 100, "fresh");
      for (uint32_t id = 0; id < n; id += 5) REQUIRE_OK(pv_delete(idx, id));
      for (uint32_t id = 1; id < n; id += 5) REQUIRE_OK(pv_delete(idx, id));
      CHECK_OK(pv_check(idx));
      check_full_ef(idx, dim, n, seed + 1, 100, "with tombstones");
      REQUIRE_OK(pv_compact(idx));
      CHECK_OK(pv_check(idx));
      check_full_ef(idx, dim, pv_count(idx), seed + 2, 100, "after compaction");
      pv_free(idx);
      free(data);
    }
  }
}

void test_graph_m_extremes(void) {
  const uint32_t dim = 16, n = 500;
  const uint32_t ms[] = {2, 3, PV_MAX_M};
  for (size_t mi = 0; mi < 3; mi++) {
    for (int st = 0; st < 2; st++) {
      uint64_t seed = 110 + mi * 2 + (uint64_t)st;
      pv_options o = tu_opts(dim, PV_L2, (pv_storage)st);
      o.m = ms[mi];
      o.ef_construction = 64;
      o.compact_threshold = 0.0f;
      pv_index *idx = NULL;
      REQUIRE_OK(pv_new(&o, &idx));
      float *data = tu_xmalloc(sizeof(float) * n * dim);
      tu_rand_vec(&seed, data, (size_t)n * dim);
      for (size_t i = 0; i < n; i++) REQUIRE_OK(pv_add(idx, data + i * dim, NULL));
      int rc = pv_check(idx);
      CHECK_MSG(rc == PV_OK, "m %u: pv_check %d %s", ms[mi], rc, pv_errmsg(idx));
      check_full_ef(idx, dim, n, seed, 30, "fresh");
      if (ms[mi] == PV_MAX_M) {
        size_t self = 0;
        for (size_t i = 0; i < n; i++) {
          pv_hit h[3];
          size_t nh = 0;
          CHECK_OK(pv_search(idx, data + i * dim, 3, 0, h, &nh));
          if (nh && h[0].id == i) self++;
        }
        CHECK_MSG(self == n, "m %u: %zu of %zu found themselves", ms[mi], self, (size_t)n);
      }
      for (uint32_t id = 0; id < n; id += 3) REQUIRE_OK(pv_delete(idx, id));
      REQUIRE_OK(pv_compact(idx));
      rc = pv_check(idx);
      CHECK_MSG(rc == PV_OK, "m %u after compaction: pv_check %d %s", ms[mi], rc, pv_errmsg(idx));
      check_full_ef(idx, dim, n, seed + 1, 30, "after compaction");
      pv_free(idx);
      free(data);
    }
  }
}

/* ef_construction below m is raised to m: the graph is then the one built
 * with ef_construction = m (same seed, same inserts, same graph). */
void test_graph_ef_construction_raised_to_m(void) {
  const uint32_t dim = 16, n = 400;
  uint64_t seed = 120;
  float *data = tu_xmalloc(sizeof(float) * n * dim);
  tu_rand_vec(&seed, data, (size_t)n * dim);
  pv_index *a = NULL, *b = NULL;
  pv_options o = tu_opts(dim, PV_COSINE, PV_F32);
  o.m = 24;
  o.ef_construction = 1;
  REQUIRE_OK(pv_new(&o, &a));
  o.ef_construction = 24;
  REQUIRE_OK(pv_new(&o, &b));
  pv_options g;
  pv_get_options(a, &g);
  CHECK_EQ_INT(g.ef_construction, 24);
  REQUIRE_OK(pv_add_batch(a, data, n, NULL));
  REQUIRE_OK(pv_add_batch(b, data, n, NULL));
  CHECK_OK(pv_check(a));
  float q[16];
  int differ = 0;
  for (int i = 0; i < 100; i++) {
    tu_rand_vec(&seed, q, dim);
    pv_hit ha[10], hb[10];
    size_t na = 0, nb = 0;
    CHECK_OK(pv_search(a, q, 10, 10, ha, &na));
    CHECK_OK(pv_search(b, q, 10, 10, hb, &nb));
    if (!same_hits(ha, na, hb, nb)) differ++;
  }
  CHECK_MSG(differ == 0, "%d of 100 searches differ between efc 1 and efc m", differ);
  pv_free(a);
  pv_free(b);
  free(data);
}

/* Points inserted in order along a line: every one is found. */
void test_graph_points_on_a_line(void) {
  const uint32_t n = 2000;
  pv_options o = tu_opts(2, PV_L2, PV_F32);
  o.ef_construction = 64;
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  float v[2];
  for (uint32_t i = 0; i < n; i++) {
    v[0] = (float)i * 0.001f;
    v[1] = 0.0f;
    REQUIRE_OK(pv_add(idx, v, NULL));
  }
  CHECK_OK(pv_check(idx));
  size_t self = 0, pair = 0;
  for (uint32_t i = 0; i < n; i++) {
    pv_hit h[3];
    size_t nh = 0;
    v[0] = (float)i * 0.001f;
    v[1] = 0.0f;
    CHECK_OK(pv_search(idx, v, 3, 0, h, &nh));
    if (nh == 3 && h[0].id == i) self++;
    /* half way between i and i+1 (and a little off the line) */
    if (i + 1 < n) {
      v[0] = ((float)i + 0.5f) * 0.001f;
      v[1] = 0.0001f;
      CHECK_OK(pv_search(idx, v, 2, 0, h, &nh));
      if (nh == 2 && ((h[0].id == i && h[1].id == i + 1) || (h[0].id == i + 1 && h[1].id == i)))
        pair++;
    }
  }
  CHECK_MSG(self == n, "%zu of %u points found themselves", self, n);
  CHECK_MSG(pair >= (n - 1) * 99 / 100, "%zu of %u midpoints found their two ends", pair, n - 1);
  pv_free(idx);
}

void test_graph_capacity_hint(void) {
  const uint32_t dim = 16;
  const uint32_t caps[] = {1, 100, 1000};
  for (size_t c = 0; c < 3; c++) {
    uint64_t seed = 130 + c;
    pv_options o = tu_opts(dim, PV_L2, PV_SQ8);
    o.capacity = caps[c];
    pv_index *idx = NULL;
    REQUIRE_OK(pv_new(&o, &idx));
    size_t mem0 = pv_memory_usage(idx);
    CHECK(mem0 > 0);
    float *data = tu_xmalloc(sizeof(float) * 1500 * dim);
    tu_rand_vec(&seed, data, 1500 * (size_t)dim);
    for (size_t i = 0; i < 1500; i += 50) REQUIRE_OK(pv_add_batch(idx, data + i * dim, 50, NULL));
    CHECK_EQ_INT(pv_count(idx), 1500);
    CHECK_OK(pv_check(idx));
    size_t self = 0;
    for (size_t i = 0; i < 1500; i += 5) {
      pv_hit h[2];
      size_t nh = 0;
      CHECK_OK(pv_search(idx, data + i * dim, 2, 0, h, &nh));
      if (nh && h[0].id == i) self++;
    }
    CHECK_MSG(self >= 297, "capacity %u: %zu of 300 found themselves", caps[c], self);
    pv_free(idx);
    free(data);
  }
}

/* Reachability where compaction has to repair most of the graph (Redis
 * vector sets' test): 3000 random vectors, then 95 % deleted in random
 * order and compacted, then 90 % of the rest. After each step the checker
 * proves every live vector reachable, and an exact-size search of each
 * survivor's own vector finds it (what reachability is for). */
void test_graph_reachable_after_deleting_95(void) {
  for (int st = 0; st < 2; st++) {
    pv_options o = pv_options_default();
    o.dim = 12;
    o.metric = PV_L2;
    o.storage = (pv_storage)st;
    o.m = 8;
    o.compact_threshold = 0.0f;
    pv_index *idx;
    REQUIRE_OK(pv_new(&o, &idx));
    const uint32_t n = 3000;
    float *v = tu_xmalloc(sizeof(float) * o.dim * n);
    uint64_t rng = 4242 + (uint64_t)st;
    for (uint32_t i = 0; i < n; i++) tu_rand_vec(&rng, v + (size_t)i * o.dim, o.dim);
    REQUIRE_OK(pv_add_batch(idx, v, n, NULL));
    size_t unreachable = 99;
    CHECK_OK(pv_check_reachable(idx, &unreachable));
    CHECK_EQ_INT(unreachable, 0);
    uint32_t *order = tu_xmalloc(sizeof(uint32_t) * n);
    for (uint32_t i = 0; i < n; i++) order[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
      uint32_t j = (uint32_t)(tu_rand(&rng) % (i + 1)), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    const uint32_t stops[2] = {n * 95 / 100, n - n / 200};
    uint32_t done = 0;
    for (int round = 0; round < 2; round++) {
      for (; done < stops[round]; done++) CHECK_OK(pv_delete(idx, order[done]));
      CHECK_OK(pv_check_reachable(idx, &unreachable));
      CHECK_MSG(unreachable == 0, "st %d round %d before compaction: %zu unreachable", st, round,
                unreachable);
      CHECK_OK(pv_compact(idx));
      CHECK_OK(pv_check(idx));
      CHECK_OK(pv_check_reachable(idx, &unreachable));
      CHECK_MSG(unreachable == 0, "st %d round %d after compaction: %zu of %zu unreachable", st,
                round, unreachable, pv_count(idx));
      size_t live = pv_count(idx), missed = 0;
      for (uint32_t i = done; i < n; i++) {
        pv_hit h[1];
        size_t got = 0;
        CHECK_OK(pv_search(idx, v + (size_t)order[i] * o.dim, 1, live > 1 ? live - 1 : 1, h, &got));
        missed += !(got == 1 && h[0].id == order[i]);
      }
      CHECK_MSG(missed == 0, "st %d round %d: %zu of %zu survivors not found by their own vector",
                st, round, missed, live);
    }
    free(order);
    free(v);
    pv_free(idx);
  }
}
