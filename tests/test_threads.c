/* SPDX-License-Identifier: MIT */
/*
 * Threads: several threads reading one index at once, as pocketvec.h's
 * "Threads" paragraph allows, get exactly what one thread gets, and each
 * thread sees the status of its own calls.
 *
 * The expected answers are computed first, serially, on a twin index: one
 * built from the same vectors with the same seed, which is the same graph
 * (same seed + same inserts = same graph). The threads then search the
 * other twin, whose context pool is as a build leaves it (one context sized
 * for ef_construction): the four threads start together behind a gate and
 * raise ef step by step past that, so contexts are created, grown and handed
 * from thread to thread through the pool while the others search. Run it
 * under ThreadSanitizer (make test SANITIZE=thread) to check that none of
 * this is a data race; without TSan it checks the answers.
 *
 * A worker records its failures itself (the test framework's counter is
 * not thread-safe) and the main thread reports them after the join.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdlib.h>

#include "test.h"

#define NTHREADS 4
#define TN 1200  /* vectors per index */
#define TDIM 24
#define TQ 64    /* queries */
#define TK 10
#define TEFC 40  /* below most of the search efs, so searches grow contexts */

static const size_t efs[] = {10, 24, 60, 150, 400};
#define NEF (sizeof efs / sizeof efs[0])

/* ------------------------------------------------------------------------ */
/* What the threads share                                                   */
/* ------------------------------------------------------------------------ */

/* One index under test, with its serial answers. */
typedef struct tt_index {
  const char *name;
  pv_index *idx;                /* the twin the threads search */
  pv_hit graph[NEF][TQ][TK];    /* pv_search at efs[e] of query q */
  size_t ngraph[NEF][TQ];
  pv_hit exact[TQ][TK];         /* pv_search_exact */
  size_t nexact[TQ];
  float *stored;                /* pv_get of every id, TN * TDIM */
} tt_index;

/* The start gate: workers wait until the main thread opens it, so that they
 * really run at the same time rather than one after the other. */
typedef struct tt_gate {
  pthread_mutex_t m;
  pthread_cond_t c;
  int open;
} tt_gate;

static void gate_wait(tt_gate *g) {
  pthread_mutex_lock(&g->m);
  while (!g->open) pthread_cond_wait(&g->c, &g->m);
  pthread_mutex_unlock(&g->m);
}

static void gate_open(tt_gate *g) {
  pthread_mutex_lock(&g->m);
  g->open = 1;
  pthread_cond_broadcast(&g->c);
  pthread_mutex_unlock(&g->m);
}

typedef struct tt_worker {
  int t;                  /* 0 .. NTHREADS-1 */
  int failing;            /* this one makes failing calls too (the status test) */
  tt_index *ix;           /* [2] */
  const float *queries;   /* TQ * TDIM */
  tt_gate *gate;
  long calls;             /* calls made, to check the work was done */
  int fails;
  char first[256];        /* the first failure */
  pthread_t thread;
} tt_worker;

/* Record a failure of worker w (its own counter: no other thread writes it). */
#define W_CHECK(w, cond, ...)                                                 \
  do {                                                                        \
    if (!(cond) && (w)->fails++ == 0) {                                       \
      int tt_n_ = snprintf((w)->first, sizeof (w)->first, "line %d: ", __LINE__); \
      snprintf((w)->first + tt_n_, sizeof (w)->first - (size_t)tt_n_, __VA_ARGS__); \
    }                                                                         \
  } while (0)

static int same_hits(const pv_hit *a, size_t na, const pv_hit *b, size_t nb) {
  if (na != nb) return 0;
  for (size_t i = 0; i < na; i++)
    if (a[i].id != b[i].id || memcmp(&a[i].distance, &b[i].distance, sizeof(float)) != 0)
      return 0;
  return 1;
}

/* After a successful call on idx, this thread's status on it is PV_OK with
 * no detail, whatever the other threads' calls did. */
static void check_ok_status(tt_worker *w, const pv_index *idx, const char *what) {
  pv_error_info e;
  int code = pv_errinfo(idx, &e);
  W_CHECK(w, code == PV_OK && pv_errcode(idx) == PV_OK && e.item == -1 && e.element == -1 &&
                 strcmp(pv_errmsg(idx), "not an error") == 0,
          "after %s: status %d (%s), item %lld, element %lld", what, code, pv_errmsg(idx),
          (long long)e.item, (long long)e.element);
}

/* ------------------------------------------------------------------------ */
/* Set-up                                                                   */
/* ------------------------------------------------------------------------ */

static pv_index *build(pv_metric metric, pv_storage storage, const float *base) {
  pv_options o = tu_opts(TDIM, metric, storage);
  o.ef_construction = TEFC;
  o.m = 8;
  pv_index *idx = NULL;
  if (pv_new(&o, &idx) != PV_OK) return NULL;
  if (pv_add_batch(idx, base, TN, NULL) != PV_OK) {
    pv_free(idx);
    return NULL;
  }
  return idx;
}

/* Build the twins of one index and the serial answers on the first; the
 * second goes to ix->idx. 0 on failure (recorded). */
static int prepare(tt_index *ix, const char *name, pv_metric metric, pv_storage storage,
                   const float *base, const float *queries) {
  ix->name = name;
  pv_index *ref = build(metric, storage, base);
  ix->idx = build(metric, storage, base);
  ix->stored = tu_xmalloc(sizeof(float) * TN * TDIM);
  if (!ref || !ix->idx) {
    CHECK_MSG(0, "%s: cannot build the index", name);
    pv_free(ref);
    return 0;
  }
  int ok = 1;
  for (size_t q = 0; q < TQ && ok; q++) {
    const float *v = queries + q * TDIM;
    for (size_t e = 0; e < NEF; e++)
      ok &= pv_search(ref, v, TK, efs[e], ix->graph[e][q], &ix->ngraph[e][q]) == PV_OK &&
            ix->ngraph[e][q] == TK;
    ok &= pv_search_exact(ref, v, TK, 0, ix->exact[q], &ix->nexact[q]) == PV_OK &&
          ix->nexact[q] == TK;
  }
  for (uint32_t id = 0; id < TN && ok; id++) ok &= pv_get(ref, id, ix->stored + id * TDIM) == PV_OK;
  CHECK_MSG(ok, "%s: a serial search or get failed: %s", name, pv_errmsg(ref));
  pv_free(ref);
  return ok;
}

static void release(tt_index *ix) {
  pv_free(ix->idx);
  free(ix->stored);
}

/* ------------------------------------------------------------------------ */
/* The workers                                                              */
/* ------------------------------------------------------------------------ */

/* Every query at every ef, then exact, on both indexes, each thread starting
 * at its own query so the threads do not walk in step; and pv_get of a
 * stride of ids. Every answer must be the serial one, bit for bit. */
static void search_all(tt_worker *w) {
  pv_hit h[TK];
  size_t n;
  float v[TDIM];
  for (size_t e = 0; e <= NEF; e++) {
    for (size_t j = 0; j < TQ; j++) {
      size_t q = (j + (size_t)w->t * TQ / NTHREADS) % TQ;
      for (int i = 0; i < 2; i++) {
        tt_index *ix = &w->ix[i];
        const float *qv = w->queries + q * TDIM;
        int rc = e < NEF ? pv_search(ix->idx, qv, TK, efs[e], h, &n)
                         : pv_search_exact(ix->idx, qv, TK, 0, h, &n);
        w->calls++;
        W_CHECK(w, rc == PV_OK, "%s: query %zu %s: %s", ix->name, q,
                e < NEF ? "search" : "exact", pv_errmsg(ix->idx));
        if (rc != PV_OK) continue;
        if (e < NEF)
          W_CHECK(w, same_hits(h, n, ix->graph[e][q], ix->ngraph[e][q]),
                  "%s: query %zu at ef %zu differs from the serial search", ix->name, q, efs[e]);
        else
          W_CHECK(w, same_hits(h, n, ix->exact[q], ix->nexact[q]),
                  "%s: exact query %zu differs from the serial search", ix->name, q);
        check_ok_status(w, ix->idx, "a search");
      }
    }
    for (uint32_t id = (uint32_t)w->t; id < TN; id += 37) {
      tt_index *ix = &w->ix[id % 2];
      w->calls++;
      int rc = pv_get(ix->idx, id, v);
      W_CHECK(w, rc == PV_OK && memcmp(v, ix->stored + id * TDIM, sizeof v) == 0,
              "%s: pv_get(%u) differs from the serial one (%s)", ix->name, id,
              pv_errmsg(ix->idx));
    }
  }
}

/* The failing thread: calls that fail, each followed by checks that this
 * thread sees its own status, per index, while the others succeed. */
static void fail_often(tt_worker *w) {
  tt_index *f = &w->ix[0], *s = &w->ix[1];
  float bad[TDIM];
  pv_hit h[TK];
  size_t n;
  pv_error_info e;
  for (int r = 0; r < 200; r++) {
    size_t q = (size_t)r % TQ, el = (size_t)r % TDIM;
    memcpy(bad, w->queries + q * TDIM, sizeof bad);
    bad[el] = NAN;
    /* A NaN query on the first index. */
    int rc = pv_search(f->idx, bad, TK, efs[r % NEF], h, &n);
    w->calls++;
    W_CHECK(w, rc == PV_INVALID, "a NaN query returned %d", rc);
    W_CHECK(w, pv_errinfo(f->idx, &e) == PV_INVALID && pv_errcode(f->idx) == PV_INVALID &&
                   e.element == (int64_t)el && e.item == -1,
            "after a NaN query: code %d, element %lld (expected %zu), item %lld", e.code,
            (long long)e.element, el, (long long)e.item);
    W_CHECK(w, strstr(pv_errmsg(f->idx), "NaN") != NULL, "after a NaN query: \"%s\"",
            pv_errmsg(f->idx));
    /* A good search on the other index sets only that index's status. */
    rc = pv_search(s->idx, w->queries + q * TDIM, TK, efs[r % NEF], h, &n);
    w->calls++;
    W_CHECK(w, rc == PV_OK && same_hits(h, n, s->graph[r % NEF][q], s->ngraph[r % NEF][q]),
            "%s: a good search after a failed one: %d, or other hits", s->name, rc);
    check_ok_status(w, s->idx, "a good search on the other index");
    W_CHECK(w, pv_errcode(f->idx) == PV_INVALID && strstr(pv_errmsg(f->idx), "NaN"),
            "the failure on %s was forgotten: %d \"%s\"", f->name, pv_errcode(f->idx),
            pv_errmsg(f->idx));
    /* An unknown id, and an ef out of range. */
    rc = pv_get(s->idx, TN + 5 + (uint32_t)r, bad);
    w->calls++;
    W_CHECK(w, rc == PV_NOTFOUND && pv_errcode(s->idx) == PV_NOTFOUND,
            "pv_get of an unknown id: %d, then status %d", rc, pv_errcode(s->idx));
    rc = pv_search_exact(s->idx, w->queries, TK, 0, h, &n);
    w->calls++;
    W_CHECK(w, rc == PV_OK, "exact search after a failed get: %d", rc);
    check_ok_status(w, s->idx, "an exact search after a failed get");
    rc = pv_search(f->idx, w->queries, TK, (size_t)PV_MAX_EF + 1 + (size_t)r, h, &n);
    w->calls++;
    W_CHECK(w, rc == PV_INVALID && pv_errcode(f->idx) == PV_INVALID &&
                   strstr(pv_errmsg(f->idx), "ef") && pv_errinfo(f->idx, &e) == PV_INVALID &&
                   e.element == -1,
            "ef out of range: %d \"%s\", element %lld", rc, pv_errmsg(f->idx),
            (long long)e.element);
    /* And a success on the first index clears its status again. */
    rc = pv_search(f->idx, w->queries + q * TDIM, TK, 0, h, &n);
    w->calls++;
    W_CHECK(w, rc == PV_OK, "a good search after failed ones: %d", rc);
    check_ok_status(w, f->idx, "a good search after failed ones");
  }
}

static void *worker(void *arg) {
  tt_worker *w = arg;
  gate_wait(w->gate);
  /* Before its first call, a thread has no status on either index, even
   * though the main thread's last call on the first one failed. */
  for (int i = 0; i < 2; i++) check_ok_status(w, w->ix[i].idx, "no call yet");
  if (w->failing)
    fail_often(w);
  else
    search_all(w);
  return NULL;
}

/* NTHREADS workers on an F32 cosine and an SQ8 L2 index; `failing`: the
 * last worker makes failing calls instead of the full sweep. In both, the
 * main thread's last call on the first index failed before the workers
 * start: no worker may see that failure, and the main thread still sees it
 * after them. */
static void run(int failing) {
  uint64_t seed = 2024;
  float *base = tu_xmalloc(sizeof(float) * TN * TDIM);
  float *queries = tu_xmalloc(sizeof(float) * TQ * TDIM);
  tu_rand_vec(&seed, base, (size_t)TN * TDIM);
  tu_rand_vec(&seed, queries, (size_t)TQ * TDIM);
  tt_index *ix = tu_xcalloc(2, sizeof *ix);
  if (prepare(&ix[0], "f32 cosine", PV_COSINE, PV_F32, base, queries) &&
      prepare(&ix[1], "sq8 l2", PV_L2, PV_SQ8, base, queries)) {
    /* The main thread's own failure, which no worker may see. */
    float nanq[TDIM];
    pv_hit h[TK];
    size_t n;
    memcpy(nanq, queries, sizeof nanq);
    nanq[3] = NAN;
    CHECK_RC(pv_search(ix[0].idx, nanq, TK, 0, h, &n), PV_INVALID);
    tt_gate gate;
    gate.open = 0;
    pthread_mutex_init(&gate.m, NULL);
    pthread_cond_init(&gate.c, NULL);
    tt_worker w[NTHREADS];
    int started[NTHREADS];
    memset(w, 0, sizeof w);
    for (int t = 0; t < NTHREADS; t++) {
      w[t].t = t;
      w[t].failing = failing && t == NTHREADS - 1;
      w[t].ix = ix;
      w[t].queries = queries;
      w[t].gate = &gate;
      started[t] = pthread_create(&w[t].thread, NULL, worker, &w[t]) == 0;
      CHECK_MSG(started[t], "cannot start thread %d", t);
    }
    gate_open(&gate);
    for (int t = 0; t < NTHREADS; t++)
      if (started[t]) pthread_join(w[t].thread, NULL);
    pthread_cond_destroy(&gate.c);
    pthread_mutex_destroy(&gate.m);
    for (int t = 0; t < NTHREADS; t++) {
      if (!started[t]) continue;
      CHECK_MSG(w[t].fails == 0, "thread %d: %d failures, the first: %s", t, w[t].fails,
                w[t].first);
      CHECK_MSG(w[t].calls > 0, "thread %d made no call", t);
    }
    /* The main thread's own status was never touched by the workers: still
     * its failure on the first index, nothing on the second. */
    pv_error_info e;
    CHECK_EQ_INT(pv_errinfo(ix[0].idx, &e), PV_INVALID);
    CHECK_EQ_INT(e.element, 3);
    CHECK_STR_HAS(pv_errmsg(ix[0].idx), "element 3 is NaN");
    CHECK_EQ_INT(pv_errcode(ix[1].idx), PV_OK);
    for (int i = 0; i < 2; i++) {
      CHECK_OK(pv_check(ix[i].idx));
      CHECK_EQ_INT(pv_count(ix[i].idx), TN);
    }
  }
  for (int i = 0; i < 2; i++) release(&ix[i]);
  free(ix);
  free(base);
  free(queries);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

/* Four threads sweeping every query at every ef on both indexes. */
void test_threads_concurrent_searches(void) { run(0); }

/* Three threads searching while the fourth makes failing calls: each
 * sees only the status of its own last call on each index. */
void test_threads_status_per_thread(void) { run(1); }
