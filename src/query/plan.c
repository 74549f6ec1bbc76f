/* SPDX-License-Identifier: MIT */
/*
 * Query execution (plan.h).
 */
#include "query/plan.h"

#include "attr/attr.h"
#include "filter/filter.h"
#include "index.h"

int pv__matches(const pv_index *idx, const pv_filter *f, uint32_t s) {
  if (!f) return 1;
  const pv_rec *r = pv__rec_of(idx, s);
  return pv__filter_eval(f, r ? pv__rec_attr(r) : NULL, r ? r->attr_len : 0);
}

typedef struct filter_accept {
  pv_accept base;
  const pv_index *idx;
  const pv_filter *f;
} filter_accept;

static int accept_filter(const pv_accept *a, uint32_t s) {
  const filter_accept *fa = (const filter_accept *)a;
  return pv__matches(fa->idx, fa->f, s);
}

/* Shared argument checks of the searches. Returns PV_OK and sets *done when
 * the answer is already known to be empty. */
static int search_args(pv_index *idx, const float *q, size_t k, size_t ef, pv_hit *out,
                       size_t *n_out, int *done) {
  *done = 0;
  if (!n_out) return pv__error(idx, PV_INVALID, "n_out is NULL");
  *n_out = 0;
  if (ef > PV_MAX_EF)
    return pv__error(idx, PV_INVALID, "ef is %zu; it must be at most %u", ef, PV_MAX_EF);
  if (!q) return pv__error(idx, PV_INVALID, "the query pointer is NULL");
  int rc = pv__validate(idx, q, PV_V_QUERY, 0);
  if (rc) return rc;
  if (k == 0 || idx->live == 0) {
    *done = 1;
    return pv__error(idx, PV_OK, NULL);
  }
  if (!out) return pv__error(idx, PV_INVALID, "out is NULL but k is %zu", k);
  return PV_OK;
}

/* Graph search, or brute force when `exact` or when the beam would cover
 * the index anyway (then brute force is cheaper and exact, and k >= count
 * returns every live vector even where the graph is not connected). */
int pv__search(pv_index *idx, const float *q, size_t k, size_t ef, const pv_filter *f, int exact,
               pv_hit *out, size_t *n_out) {
  int done;
  int rc = search_args(idx, q, k, ef, out, n_out, &done);
  if (rc || done) return rc;
  if (f && f->node[f->root].kind == PV_F_TRUE) f = NULL;
  filter_accept fa = {{accept_filter}, idx, f};
  const pv_accept *acc = f ? &fa.base : NULL;
  if (ef == 0) ef = idx->opt.ef_search;
  if (ef < k) ef = k;
  if (ef >= idx->live) exact = 1;
  pv_ctx *c = pv__ctx_acquire(idx, exact ? 0 : (uint32_t)ef, exact ? 0 : idx->st.n);
  if (!c) return pv__error(idx, PV_NOMEM, "out of memory growing search buffers for ef %zu", ef);
  pv_ref r = pv__prepare(idx, q, c->qf, c->qcode, c->qparam);
  size_t got = 0;
  if (!exact) {
    /* k <= ef < live here, so the results fit the context's scratch. */
    got = pv__graph_search(idx, c, &r, k, (uint32_t)ef, acc, c->sel);
    for (size_t i = 0; i < got; i++) {
      out[i].id = pv__id(idx, c->sel[i].s);
      out[i].distance = c->sel[i].d;
    }
    *n_out = got;
  }
  /* A beam that ran dry before k (k < live here) reached fewer than k
   * live (matching) nodes: some are unreachable from where the walk
   * started (exact duplicates and ties can do that; see
   * pv_check_reachable), tombstones crowded the candidate heap, or fewer
   * than k documents match. Brute force then answers, so a search returns
   * min(k, live matches) hits on any data. On ordinary unfiltered data it
   * does not run (the callgrind gate's workload never triggers it). */
  if (exact || got < k) rc = pv__exact(idx, c, &r, k, acc, out, n_out);
  pv__ctx_release(idx, c);
  if (rc) return pv__error(idx, PV_NOMEM, "out of memory searching for %zu results", k);
  return pv__error(idx, PV_OK, NULL);
}
