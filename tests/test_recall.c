/* SPDX-License-Identifier: MIT */
/*
 * Recall on the seeded clustered data of common/datagen.h, against brute
 * force: F32 at ef 64, SQ8 next to F32, an index with half its vectors
 * deleted next to a fresh index of the survivors, and determinism.
 * Sizes are kept small so the suite stays fast under the sanitizers.
 */
#include <stdlib.h>

#include "datagen.h"
#include "test.h"

#define RK 10
#define LOW_EF 16

static pv_index *build_from(const float *base, size_t n, uint32_t dim, pv_storage storage,
                            uint32_t efc, float thr, uint64_t seed) {
  pv_options o = tu_opts(dim, PV_COSINE, storage);
  o.m = 16;
  o.ef_construction = efc;
  o.compact_threshold = thr;
  o.seed = seed;
  pv_index *idx = NULL;
  if (pv_new(&o, &idx) != PV_OK) return NULL;
  for (size_t i = 0; i < n; i += 1000) {
    size_t b = n - i < 1000 ? n - i : 1000;
    if (pv_add_batch(idx, base + i * dim, b, NULL) != PV_OK) {
      pv_free(idx);
      return NULL;
    }
  }
  return idx;
}

/* Mean recall@RK of pv_search at ef over nq queries; gt holds RK ids per
 * query; map (may be NULL) turns an index id into a ground-truth id. */
static double recall_at(pv_index *idx, const float *queries, size_t nq, uint32_t dim,
                        const uint32_t *gt, size_t ef, const uint32_t *map) {
  size_t found = 0;
  for (size_t q = 0; q < nq; q++) {
    pv_hit h[RK];
    size_t nh = 0;
    if (pv_search(idx, queries + q * dim, RK, ef, h, &nh) != PV_OK) return -1.0;
    for (size_t i = 0; i < nh; i++) {
      uint32_t id = map ? map[h[i].id] : h[i].id;
      for (size_t j = 0; j < RK; j++)
        if (gt[q * RK + j] == id) {
          found++;
          break;
        }
    }
  }
  return (double)found / (double)(nq * RK);
}

void test_recall_f32_cosine(void) {
  pv_dataset ds;
  REQUIRE(pv_dataset_make(&ds, 32, 5000, 200, 0, 42) == 0);
  uint32_t *gt = tu_xmalloc(sizeof(uint32_t) * ds.nq * RK);
  REQUIRE(pv_dataset_truth(&ds, RK, gt) == 0);
  pv_index *idx = build_from(ds.base, ds.n, ds.dim, PV_F32, 100, 0.3f, 1);
  REQUIRE(idx);
  CHECK_OK(pv_check(idx));
  double r = recall_at(idx, ds.queries, ds.nq, ds.dim, gt, 64, NULL);
  CHECK_MSG(r >= 0.9, "F32 recall@10 at ef 64: %.4f", r);
  /* a larger ef does not lose recall */
  double r2 = recall_at(idx, ds.queries, ds.nq, ds.dim, gt, 256, NULL);
  CHECK_MSG(r2 >= r - 0.005 && r2 >= 0.97, "F32 recall@10 at ef 256: %.4f (ef 64: %.4f)", r2, r);
  /* pv_search_exact is the ground truth */
  size_t exact_found = 0;
  for (size_t q = 0; q < ds.nq; q++) {
    pv_hit h[RK];
    size_t nh = 0;
    CHECK_OK(pv_search_exact(idx, ds.queries + q * ds.dim, RK, 0, h, &nh));
    for (size_t i = 0; i < nh; i++)
      for (size_t j = 0; j < RK; j++)
        if (gt[q * RK + j] == h[i].id) {
          exact_found++;
          break;
        }
  }
  CHECK_MSG(exact_found >= ds.nq * RK * 995 / 1000, "exact search agrees on %zu of %zu",
            exact_found, ds.nq * RK);
  pv_free(idx);
  free(gt);
  pv_dataset_free(&ds);
}

void test_recall_sq8_vs_f32(void) {
  pv_dataset ds;
  REQUIRE(pv_dataset_make(&ds, 32, 5000, 200, 0, 43) == 0);
  uint32_t *gt = tu_xmalloc(sizeof(uint32_t) * ds.nq * RK);
  REQUIRE(pv_dataset_truth(&ds, RK, gt) == 0);
  pv_index *f = build_from(ds.base, ds.n, ds.dim, PV_F32, 100, 0.3f, 2);
  pv_index *s = build_from(ds.base, ds.n, ds.dim, PV_SQ8, 100, 0.3f, 2);
  REQUIRE(f && s);
  CHECK_OK(pv_check(s));
  double rf = recall_at(f, ds.queries, ds.nq, ds.dim, gt, 64, NULL);
  double rs = recall_at(s, ds.queries, ds.nq, ds.dim, gt, 64, NULL);
  CHECK_MSG(rs >= rf - 0.05, "SQ8 recall %.4f vs F32 %.4f", rs, rf);
  CHECK_MSG(rs >= 0.85, "SQ8 recall@10 at ef 64: %.4f", rs);
  /* the graph search against SQ8's own exact ranking */
  size_t found = 0;
  for (size_t q = 0; q < ds.nq; q++) {
    pv_hit h[RK], e[RK];
    size_t nh = 0, ne = 0;
    CHECK_OK(pv_search(s, ds.queries + q * ds.dim, RK, 64, h, &nh));
    CHECK_OK(pv_search_exact(s, ds.queries + q * ds.dim, RK, 0, e, &ne));
    for (size_t i = 0; i < nh; i++) found += tu_hits_have(e, ne, h[i].id);
  }
  double rq = (double)found / (double)(ds.nq * RK);
  CHECK_MSG(rq >= 0.9, "SQ8 search vs SQ8 exact recall: %.4f", rq);
  /* SQ8 memory is well below F32 */
  CHECK(pv_memory_usage(s) < pv_memory_usage(f));
  pv_free(f);
  pv_free(s);
  free(gt);
  pv_dataset_free(&ds);
}

/* Brute-force top RK over the rows of base whose keep[] is set (unit
 * vectors: largest dot first), as ids into base. */
static void truth_over(const pv_dataset *ds, const unsigned char *keep, uint32_t *gt) {
  for (size_t q = 0; q < ds->nq; q++) {
    const float *qv = ds->queries + q * ds->dim;
    double best[RK];
    uint32_t *g = gt + q * RK;
    size_t have = 0;
    for (size_t i = 0; i < ds->n; i++) {
      if (!keep[i]) continue;
      const float *v = ds->base + i * ds->dim;
      double s = 0.0;
      for (uint32_t d = 0; d < ds->dim; d++) s += (double)qv[d] * v[d];
      if (have == RK && s <= best[RK - 1]) continue;
      size_t p = have < RK ? have++ : RK - 1;
      while (p > 0 && best[p - 1] < s) {
        best[p] = best[p - 1];
        g[p] = g[p - 1];
        p--;
      }
      best[p] = s;
      g[p] = (uint32_t)i;
    }
  }
}

/* 20k vectors, delete a random half: recall over the survivors within 2
 * points of a fresh index built from the survivors alone, both with the
 * tombstones in place and after compaction. */
void test_recall_after_deleting_half(void) {
  pv_dataset ds;
  const size_t n = 20000;
  REQUIRE(pv_dataset_make(&ds, 32, n, 500, 0, 44) == 0);
  unsigned char *keep = tu_xmalloc(n);
  uint64_t seed = 300;
  size_t nkeep = 0;
  for (size_t i = 0; i < n; i++) {
    keep[i] = (unsigned char)(tu_below(&seed, 2));
    nkeep += keep[i];
  }
  uint32_t *gt = tu_xmalloc(sizeof(uint32_t) * ds.nq * RK);
  truth_over(&ds, keep, gt);

  pv_index *idx = build_from(ds.base, n, ds.dim, PV_F32, 100, 0.0f, 3);
  REQUIRE(idx);
  for (uint32_t i = 0; i < n; i++)
    if (!keep[i]) REQUIRE_OK(pv_delete(idx, i));
  CHECK_EQ_INT(pv_count(idx), nkeep);
  CHECK_OK(pv_check(idx));
  double r_tomb = recall_at(idx, ds.queries, ds.nq, ds.dim, gt, 64, NULL);
  /* this data saturates at ef 64; a lower ef is where a worse graph shows */
  double r_tomb16 = recall_at(idx, ds.queries, ds.nq, ds.dim, gt, LOW_EF, NULL);
  double r_tomb10 = recall_at(idx, ds.queries, ds.nq, ds.dim, gt, RK, NULL);

  /* the fresh index of the survivors; its id i is survivor map[i] */
  float *surv = tu_xmalloc(sizeof(float) * nkeep * ds.dim);
  uint32_t *map = tu_xmalloc(sizeof(uint32_t) * nkeep);
  for (size_t i = 0, j = 0; i < n; i++) {
    if (!keep[i]) continue;
    memcpy(surv + j * ds.dim, ds.base + i * ds.dim, sizeof(float) * ds.dim);
    map[j++] = (uint32_t)i;
  }
  pv_index *fresh = build_from(surv, nkeep, ds.dim, PV_F32, 100, 0.0f, 3);
  REQUIRE(fresh);
  double r_fresh = recall_at(fresh, ds.queries, ds.nq, ds.dim, gt, 64, map);
  double r_fresh16 = recall_at(fresh, ds.queries, ds.nq, ds.dim, gt, LOW_EF, map);
  double r_fresh10 = recall_at(fresh, ds.queries, ds.nq, ds.dim, gt, RK, map);
  CHECK_MSG(r_tomb10 >= r_fresh10 - 0.02, "ef %d: with 50%% tombstones recall %.4f, fresh %.4f",
            RK, r_tomb10, r_fresh10);
  CHECK_MSG(r_tomb16 >= r_fresh16 - 0.02, "ef %d: with 50%% tombstones recall %.4f, fresh %.4f",
            LOW_EF, r_tomb16, r_fresh16);
  CHECK_MSG(r_tomb >= r_fresh - 0.02, "with 50%% tombstones recall %.4f, fresh index %.4f",
            r_tomb, r_fresh);

  REQUIRE_OK(pv_compact(idx));
  CHECK_OK(pv_check(idx));
  CHECK_EQ_INT(pv_deleted_count(idx), 0);
  double r_comp = recall_at(idx, ds.queries, ds.nq, ds.dim, gt, 64, NULL);
  double r_comp16 = recall_at(idx, ds.queries, ds.nq, ds.dim, gt, LOW_EF, NULL);
  double r_comp10 = recall_at(idx, ds.queries, ds.nq, ds.dim, gt, RK, NULL);
  CHECK_MSG(r_comp10 >= r_fresh10 - 0.02, "ef %d: after compaction recall %.4f, fresh %.4f", RK,
            r_comp10, r_fresh10);
  CHECK_MSG(r_comp16 >= r_fresh16 - 0.02, "ef %d: after compaction recall %.4f, fresh %.4f",
            LOW_EF, r_comp16, r_fresh16);
  CHECK_MSG(r_comp >= r_fresh - 0.02, "after compaction recall %.4f, fresh index %.4f", r_comp,
            r_fresh);
  CHECK_MSG(r_fresh >= 0.9, "fresh index recall %.4f", r_fresh);
  if (getenv("PV_TEST_TIMES"))
    fprintf(stderr,
            "  recall at ef 64/%d/%d: tombstones %.4f/%.4f/%.4f, compacted %.4f/%.4f/%.4f, "
            "fresh %.4f/%.4f/%.4f\n",
            LOW_EF, RK, r_tomb, r_tomb16, r_tomb10, r_comp, r_comp16, r_comp10, r_fresh,
            r_fresh16, r_fresh10);
  pv_free(fresh);
  pv_free(idx);
  free(map);
  free(surv);
  free(gt);
  free(keep);
  pv_dataset_free(&ds);
}

/* Same seed and same inserts (and deletes): the same graph, so the same
 * results, ids and distances, bit for bit. */
void test_recall_determinism(void) {
  pv_dataset ds;
  REQUIRE(pv_dataset_make(&ds, 32, 2000, 100, 0, 45) == 0);
  for (int st = 0; st < 2; st++) {
    pv_index *a = build_from(ds.base, ds.n, ds.dim, (pv_storage)st, 64, 0.3f, 77);
    pv_index *b = build_from(ds.base, ds.n, ds.dim, (pv_storage)st, 64, 0.3f, 77);
    REQUIRE(a && b);
    for (int phase = 0; phase < 2; phase++) {
      int differ = 0;
      for (size_t q = 0; q < ds.nq; q++) {
        pv_hit ha[RK], hb[RK];
        size_t na = 0, nb = 0;
        CHECK_OK(pv_search(a, ds.queries + q * ds.dim, RK, 20, ha, &na));
        CHECK_OK(pv_search(b, ds.queries + q * ds.dim, RK, 20, hb, &nb));
        if (na != nb || memcmp(ha, hb, na * sizeof(pv_hit)) != 0) differ++;
      }
      CHECK_MSG(differ == 0, "storage %d phase %d: %d of %zu searches differ", st, phase, differ,
                ds.nq);
      if (phase == 1) break;
      /* then the same deletes (with an auto compaction) and inserts */
      for (uint32_t id = 0; id < 800; id += 1) {
        CHECK_OK(pv_delete(a, id * 2));
        CHECK_OK(pv_delete(b, id * 2));
      }
      CHECK_OK(pv_add_batch(a, ds.queries, 50, NULL));
      CHECK_OK(pv_add_batch(b, ds.queries, 50, NULL));
      CHECK_EQ_INT(pv_memory_usage(a), pv_memory_usage(b));
    }
    pv_free(a);
    pv_free(b);
  }
  pv_dataset_free(&ds);
}
