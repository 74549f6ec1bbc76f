/* SPDX-License-Identifier: MIT */
/*
 * Fault injection, as SQLite does it: a counting allocator (tu_alloc, util.c)
 * that fails the Nth allocation from now. For N = 1, 2, 3, ... a small
 * workload runs until it completes without reaching N. Every call must
 * either succeed or return PV_NOMEM; after a PV_NOMEM the index passes
 * pv_check, holds exactly what succeeded, and works again once allocations
 * succeed. After pv_free no allocation is left (no leak), and every free or
 * realloc gets a pointer this allocator returned.
 */
#include <stdlib.h>

#include "test.h"

/* ------------------------------------------------------------------------ */
/* pv_memory_usage and the allocator                                        */
/* ------------------------------------------------------------------------ */

/* "Bytes the index holds from its allocator right now, every buffer
 * included": exactly what the counting allocator has handed out. */
void test_fault_memory_usage_matches_allocator(void) {
  for (int st = 0; st < 2; st++) {
    tu_alloc a;
    memset(&a, 0, sizeof a);
    pv_allocator al = tu_alloc_allocator(&a);
    pv_set_allocator(&al);
    pv_options o = tu_opts(24, PV_COSINE, (pv_storage)st);
    o.compact_threshold = 0.25f;
    o.ef_construction = 20;
    pv_index *idx = NULL;
    int rc = pv_new(&o, &idx);
    pv_set_allocator(NULL);
    REQUIRE(rc == PV_OK);
    uint64_t seed = 200;
    float v[24 * 100];
    tu_rand_vec(&seed, v, sizeof v / sizeof v[0]);
#define MEM_EQ(when)                                                                \
  CHECK_MSG(pv_memory_usage(idx) == a.bytes, "%s (%s): pv_memory_usage %zu, allocator %zu", \
            when, st ? "SQ8" : "F32", pv_memory_usage(idx), a.bytes)
    MEM_EQ("empty");
    CHECK_OK(pv_add(idx, v, NULL));
    MEM_EQ("one vector");
    CHECK_OK(pv_add_batch(idx, v + 24, 99, NULL));
    MEM_EQ("100 vectors");
    pv_hit h[50];
    size_t n;
    CHECK_OK(pv_search(idx, v, 50, 90, h, &n)); /* ef 90 < count: graph scratch grows */
    MEM_EQ("after a search with ef 90");
    CHECK_OK(pv_search(idx, v, 50, 2000, h, &n));
    MEM_EQ("after a search with ef 2000");
    for (uint32_t id = 0; id < 20; id++) CHECK_OK(pv_delete(idx, id));
    MEM_EQ("20 deleted");
    for (uint32_t id = 20; id < 30; id++) CHECK_OK(pv_delete(idx, id));
    MEM_EQ("30 deleted (auto compaction)");
    CHECK_OK(pv_compact(idx));
    MEM_EQ("compacted");
    CHECK_RC(pv_add(idx, (const float[24]){0}, NULL), PV_INVALID);
    MEM_EQ("after an error");
    CHECK(pv_errmsg(idx) != NULL);
    MEM_EQ("after pv_errmsg");
#undef MEM_EQ
    pv_free(idx);
    CHECK_EQ_INT(a.live, 0);
    CHECK_EQ_INT(a.bytes, 0);
    CHECK_EQ_INT(a.bad_ptrs, 0);
  }
}

/* Each index keeps the allocator in force at its pv_new. */
void test_fault_index_keeps_its_allocator(void) {
  tu_alloc a;
  memset(&a, 0, sizeof a);
  pv_allocator al = tu_alloc_allocator(&a);
  pv_set_allocator(&al);
  pv_options o = tu_opts(8, PV_L2, PV_F32);
  pv_index *mine = NULL, *libc = NULL;
  int rc = pv_new(&o, &mine);
  pv_set_allocator(NULL);
  REQUIRE(rc == PV_OK);
  CHECK(a.live > 0);
  REQUIRE_OK(pv_new(&o, &libc));
  long calls = a.calls, live = a.live;
  uint64_t seed = 210;
  float v[8 * 300];
  tu_rand_vec(&seed, v, sizeof v / sizeof v[0]);
  /* the libc index never touches the counting allocator */
  CHECK_OK(pv_add_batch(libc, v, 300, NULL));
  CHECK_OK(pv_compact(libc));
  CHECK_EQ_INT(a.calls, calls);
  CHECK_EQ_INT(a.live, live);
  /* the counting index keeps using it after pv_set_allocator(NULL) */
  CHECK_OK(pv_add_batch(mine, v, 300, NULL));
  CHECK(a.calls > calls);
  CHECK(a.live > live);
  CHECK(pv_memory_usage(mine) == a.bytes);
  /* freeing the libc index frees nothing of ours */
  live = a.live;
  pv_free(libc);
  CHECK_EQ_INT(a.live, live);
  pv_free(mine);
  CHECK_EQ_INT(a.live, 0);
  CHECK_EQ_INT(a.bad_ptrs, 0);
}

/* ------------------------------------------------------------------------ */
/* The workload                                                             */
/* ------------------------------------------------------------------------ */

#define WDIM 8
#define WPOOL 128

typedef struct wl {
  tu_alloc *a;
  pv_metric metric;
  pv_storage storage;
  pv_index *idx;
  float data[WPOOL * WDIM];   /* the vector of id i is data + i * WDIM */
  double stored[WPOOL * WDIM];
  unsigned char live[WPOOL];
  uint32_t next;
  size_t nlive, ntomb;
  long nomems;
  int broken; /* a check failed: stop this run */
} wl;

/* After every call: the index holds exactly what succeeded. Allocations are
 * paused so that the checks neither count nor fail. */
static void wl_verify(wl *w, const char *after) {
  if (w->broken) return;
  int paused = w->a->paused;
  w->a->paused = 1;
  int fails = tu_failures;
  pv_index *idx = w->idx;
  int rc = pv_check(idx);
  CHECK_MSG(rc == PV_OK, "after %s (alloc %ld): pv_check %d: %s", after, w->a->fail_at, rc,
            pv_errmsg(idx));
  CHECK_MSG(pv_count(idx) == w->nlive, "after %s (alloc %ld): count %zu, expected %zu", after,
            w->a->fail_at, pv_count(idx), w->nlive);
  uint32_t ids[WPOOL];
  size_t nl = pv_list_ids(idx, ids, WPOOL), j = 0;
  int same = nl == w->nlive;
  for (uint32_t id = 0; same && id < w->next; id++)
    if (w->live[id]) same = ids[j++] == id;
  CHECK_MSG(same, "after %s (alloc %ld): live ids differ", after, w->a->fail_at);
  float got[WDIM];
  for (uint32_t id = 0; id < w->next; id++) {
    rc = pv_get(idx, id, got);
    if (!w->live[id]) {
      CHECK_MSG(rc == PV_NOTFOUND, "after %s: pv_get(%u) of a deleted id: %d", after, id, rc);
      continue;
    }
    CHECK_MSG(rc == PV_OK, "after %s (alloc %ld): pv_get(%u): %d", after, w->a->fail_at, id, rc);
    const double *want = w->stored + (size_t)id * WDIM;
    double tol = w->storage == PV_SQ8 ? tu_sq8_step_d(want, WDIM) * 1.0001 + 1e-6 : 1e-6;
    for (int d = 0; rc == PV_OK && d < WDIM; d++)
      CHECK_MSG(fabs(got[d] - want[d]) <= tol, "after %s (alloc %ld): id %u changed", after,
                w->a->fail_at, id);
  }
  /* the graph search still agrees with the exact one (for cosine and l2
   * that means a live vector finds itself) */
  for (uint32_t id = 0; id < w->next; id++) {
    if (!w->live[id]) continue;
    pv_hit h[2], e[1];
    size_t nh = 0, ne = 0;
    const float *q = w->data + (size_t)id * WDIM;
    rc = pv_search(idx, q, 2, 0, h, &nh);
    CHECK_MSG(rc == PV_OK && pv_search_exact(idx, q, 1, 0, e, &ne) == PV_OK && nh >= 1 &&
                  ne == 1 && h[0].id == e[0].id && (w->metric == PV_DOT || e[0].id == id),
              "after %s (alloc %ld): id %u not found by its vector", after, w->a->fail_at, id);
    break;
  }
  if (tu_failures != fails) w->broken = 1;
  w->a->paused = paused;
}

/* PV_NOMEM returns seen per call over a whole fault loop, to show the
 * workload reaches the allocations of each kind of call. */
enum { NM_ADD, NM_SEARCH, NM_COMPACT, NM_KINDS };
static long nomem_by_kind[NM_KINDS];

/* A call that may fail only with PV_NOMEM; returns 1 if it succeeded. */
static int wl_rc(wl *w, int rc, const char *what) {
  if (rc == PV_OK) return 1;
  if (rc == PV_NOMEM) {
    w->nomems++;
    if (strstr(what, "add")) nomem_by_kind[NM_ADD]++;
    else if (strstr(what, "search")) nomem_by_kind[NM_SEARCH]++;
    else nomem_by_kind[NM_COMPACT]++;
    CHECK_EQ_INT(pv_errcode(w->idx), PV_NOMEM);
    const char *m = pv_errmsg(w->idx);
    CHECK_MSG(m && m[0] && strcmp(m, "not an error") != 0, "%s: PV_NOMEM without a message",
              what);
    return 0;
  }
  tu_fail(__FILE__, __LINE__, "%s (alloc %ld): returned %d (%s), expected PV_OK or PV_NOMEM",
          what, w->a->fail_at, rc, pv_errstr(rc));
  w->broken = 1;
  return 0;
}

static void wl_add_batch(wl *w, size_t n) {
  for (int attempt = 0; attempt < 2 && !w->broken; attempt++) {
    uint32_t ids[WPOOL];
    if (w->next + n > WPOOL) return;
    int rc = pv_add_batch(w->idx, w->data + (size_t)w->next * WDIM, n, ids);
    if (wl_rc(w, rc, "pv_add_batch")) {
      for (size_t i = 0; i < n; i++) {
        CHECK_MSG(ids[i] == w->next, "batch id %u, expected %u", ids[i], w->next);
        w->live[w->next++] = 1;
        w->nlive++;
      }
      wl_verify(w, "pv_add_batch");
      return;
    }
    wl_verify(w, "pv_add_batch (NOMEM)");
  }
}

static void wl_add(wl *w) {
  for (int attempt = 0; attempt < 2 && !w->broken; attempt++) {
    uint32_t id = UINT32_MAX;
    if (w->next >= WPOOL) return;
    int rc = pv_add(w->idx, w->data + (size_t)w->next * WDIM, &id);
    if (wl_rc(w, rc, "pv_add")) {
      CHECK_MSG(id == w->next, "pv_add id %u, expected %u", id, w->next);
      w->live[w->next++] = 1;
      w->nlive++;
      wl_verify(w, "pv_add");
      return;
    }
    wl_verify(w, "pv_add (NOMEM)");
  }
}

static void wl_delete(wl *w, uint32_t id) {
  if (w->broken || id >= w->next || !w->live[id]) return;
  size_t del_before = pv_deleted_count(w->idx);
  /* an out-of-memory in the auto compaction is not an error of the delete */
  int rc = pv_delete(w->idx, id);
  CHECK_MSG(rc == PV_OK, "pv_delete(%u) (alloc %ld): %d (%s)", id, w->a->fail_at, rc,
            pv_errstr(rc));
  if (rc != PV_OK) {
    w->broken = 1;
    return;
  }
  w->live[id] = 0;
  w->nlive--;
  size_t del = pv_deleted_count(w->idx);
  CHECK_MSG(del == del_before + 1 || del == 0, "pv_delete: deleted_count %zu -> %zu", del_before,
            del);
  wl_verify(w, "pv_delete");
}

static void wl_compact(wl *w) {
  for (int attempt = 0; attempt < 2 && !w->broken; attempt++) {
    size_t del_before = pv_deleted_count(w->idx);
    int rc = pv_compact(w->idx);
    if (wl_rc(w, rc, "pv_compact")) {
      CHECK_EQ_INT(pv_deleted_count(w->idx), 0);
      wl_verify(w, "pv_compact");
      return;
    }
    CHECK_MSG(pv_deleted_count(w->idx) == del_before, "failed pv_compact changed deleted_count");
    wl_verify(w, "pv_compact (NOMEM)");
  }
}

static void wl_search(wl *w, size_t k, size_t ef, int exact) {
  for (int attempt = 0; attempt < 2 && !w->broken; attempt++) {
    pv_hit h[64];
    size_t nh = 0;
    const float *q = w->data + (size_t)(w->next ? w->next - 1 : 0) * WDIM;
    int rc = exact ? pv_search_exact(w->idx, q, k, ef, h, &nh) : pv_search(w->idx, q, k, ef, h, &nh);
    if (wl_rc(w, rc, exact ? "pv_search_exact" : "pv_search")) {
      size_t want = k < w->nlive ? k : w->nlive;
      CHECK_MSG(nh == want, "search k %zu: %zu hits, expected %zu", k, nh, want);
      for (size_t i = 0; i < nh; i++)
        CHECK_MSG(h[i].id < w->next && w->live[h[i].id], "search returned dead id %u", h[i].id);
      CHECK(tu_hits_sorted(h, nh));
      wl_verify(w, "pv_search");
      return;
    }
    wl_verify(w, "pv_search (NOMEM)");
  }
}

/* Runs the workload with the allocator in *a; returns with no index left. */
static void workload(tu_alloc *a, pv_metric metric, pv_storage storage) {
  static wl w; /* big arrays: off the stack */
  memset(&w, 0, sizeof w);
  w.a = a;
  w.metric = metric;
  w.storage = storage;
  uint64_t seed = 220;
  tu_rand_vec(&seed, w.data, WPOOL * WDIM);
  for (int i = 0; i < WPOOL; i++)
    tu_ref_stored(metric, w.data + i * WDIM, w.stored + i * WDIM, WDIM);

  pv_allocator al = tu_alloc_allocator(a);
  pv_set_allocator(&al);
  pv_options o = tu_opts(WDIM, metric, storage);
  o.m = 6;
  o.ef_construction = 24;
  o.ef_search = 16;
  o.compact_threshold = 0.25f;
  pv_index *idx = (pv_index *)&w;
  int rc = pv_new(&o, &idx);
  pv_set_allocator(NULL);
  if (rc != PV_OK) {
    CHECK_MSG(rc == PV_NOMEM, "pv_new (alloc %ld): %d", a->fail_at, rc);
    CHECK(idx == NULL);
    CHECK_EQ_INT(pv_errcode(NULL), PV_NOMEM);
    CHECK(pv_errmsg(NULL) && strcmp(pv_errmsg(NULL), "not an error") != 0);
    return;
  }
  w.idx = idx;

  wl_add_batch(&w, 50);
  for (int i = 0; i < 5; i++) wl_add(&w);
  wl_search(&w, 10, 0, 0);
  /* an ef above ef_construction but below the count grows the search
   * scratch (an ef covering every vector would be brute force instead) */
  wl_search(&w, 10, 40, 0);
  wl_search(&w, 50, 0, 0);
  for (uint32_t id = 0; id < 40; id += 3) wl_delete(&w, id); /* auto compaction on the way */
  wl_search(&w, 40, 500, 0);
  wl_search(&w, 60, 0, 1);
  wl_add_batch(&w, 20);
  wl_delete(&w, 1);
  wl_delete(&w, 2);
  wl_compact(&w);
  wl_add_batch(&w, 0);
  for (int i = 0; i < 3; i++) wl_add(&w);
  wl_search(&w, 5, 56, 0); /* grows the scratch again, if the count allows */
  wl_search(&w, 64, 4000, 0);
  wl_delete(&w, w.next - 1);
  wl_add(&w);

  /* recovery: with allocations succeeding again, everything works */
  a->fail_at = 0;
  wl_add_batch(&w, 10);
  wl_search(&w, 5, 100, 0);
  for (uint32_t id = 40; id < 60; id += 2) wl_delete(&w, id);
  wl_compact(&w);
  wl_add(&w);
  wl_verify(&w, "recovery");
  size_t want_live = w.nlive;
  CHECK_EQ_INT(pv_count(w.idx), want_live);
  pv_free(w.idx);
  w.idx = NULL;
}

/* For N = 1, 2, ...: fail the Nth allocation (or, persistent, every one
 * from the Nth on) until the workload runs to its end without reaching N. */
static void fault_loop(pv_metric metric, pv_storage storage, int persistent) {
  long n;
  long runs_with_nomem = 0;
  memset(nomem_by_kind, 0, sizeof nomem_by_kind);
  for (n = 1; n < 20000; n++) {
    tu_alloc a;
    memset(&a, 0, sizeof a);
    a.fail_at = n;
    a.persistent = persistent;
    int before = tu_failures;
    workload(&a, metric, storage);
    CHECK_MSG(a.live == 0, "fail at %ld: %ld allocations (%zu bytes) leaked", n, a.live, a.bytes);
    CHECK_MSG(a.bad_ptrs == 0, "fail at %ld: %ld bad pointers freed", n, a.bad_ptrs);
    if (tu_failures != before) {
      tu_fail(__FILE__, __LINE__, "  ... in the run failing allocation %ld (%s, %s)", n,
              storage == PV_SQ8 ? "SQ8" : "F32", persistent ? "persistent" : "once");
      return;
    }
    if (a.failures == 0) break; /* the workload never reached allocation n */
    runs_with_nomem++;
  }
  CHECK_MSG(n < 20000, "the workload never completed");
  CHECK_MSG(runs_with_nomem >= 10, "only %ld allocation points: is the allocator used?",
            runs_with_nomem);
  CHECK_MSG(nomem_by_kind[NM_ADD] > 0 && nomem_by_kind[NM_SEARCH] > 0 &&
                nomem_by_kind[NM_COMPACT] > 0,
            "PV_NOMEM never reached one kind of call: add %ld, search %ld, compact %ld",
            nomem_by_kind[NM_ADD], nomem_by_kind[NM_SEARCH], nomem_by_kind[NM_COMPACT]);
  pv_set_allocator(NULL);
}

void test_fault_nth_allocation_f32(void) {
  fault_loop(PV_COSINE, PV_F32, 0);
  fault_loop(PV_L2, PV_F32, 0);
}

void test_fault_nth_allocation_sq8(void) {
  fault_loop(PV_COSINE, PV_SQ8, 0);
  fault_loop(PV_DOT, PV_SQ8, 0);
}

void test_fault_persistent_failure(void) {
  fault_loop(PV_COSINE, PV_F32, 1);
  fault_loop(PV_L2, PV_SQ8, 1);
}

/* Compaction at the memory limit (issue 16): when the old -> new slot map
 * cannot be allocated (the first allocation of pv_compact; every later one
 * is small), compaction still succeeds, renumbering links through the ids,
 * and gives byte for byte the index the mapped path gives. */
void test_fault_compact_without_map(void) {
  for (int st = 0; st < 2; st++) {
    tu_alloc a;
    memset(&a, 0, sizeof a);
    tu_alloc_use(&a);
    pv_options o = pv_options_default();
    o.dim = 10;
    o.storage = (pv_storage)st;
    o.m = 6;
    o.compact_threshold = 0.0f;
    pv_index *x, *y;
    REQUIRE_OK(pv_new(&o, &x));
    float v[10 * 400];
    uint64_t rng = 31 + (uint64_t)st;
    for (int i = 0; i < 400; i++) tu_rand_vec(&rng, v + 10 * i, 10);
    REQUIRE_OK(pv_add_batch(x, v, 400, NULL));
    for (uint32_t id = 0; id < 400; id += 3) REQUIRE_OK(pv_delete(x, id));
    size_t len = pv_serialized_size(x);
    uint8_t *b = malloc(len), *bx = malloc(len), *by = malloc(len);
    REQUIRE(b && bx && by);
    REQUIRE_OK(pv_serialize_to(x, b, len, NULL));
    REQUIRE_OK(pv_load(b, len, PV_LOAD_COPY, &y));
    CHECK_OK(pv_compact(x));
    a.fail_at = a.calls + 1; /* the map */
    CHECK_OK(pv_compact(y));
    CHECK_EQ_INT(a.failures, 1);
    a.fail_at = 0;
    CHECK_OK(pv_check(y));
    size_t lx = pv_serialized_size(x), ly = pv_serialized_size(y);
    CHECK_EQ_INT(lx, ly);
    if (lx == ly && lx <= len) {
      CHECK_OK(pv_serialize_to(x, bx, len, NULL));
      CHECK_OK(pv_serialize_to(y, by, len, NULL));
      CHECK_MSG(memcmp(bx, by, lx) == 0, "st %d: compaction without the map differs", st);
    }
    pv_free(x);
    pv_free(y);
    free(b);
    free(bx);
    free(by);
    pv_set_allocator(NULL);
  }
}
