/* SPDX-License-Identifier: MIT */
/*
 * Query execution (plan.h).
 */
#include "query/plan.h"

#include "attr/attr.h"
#include "filter/filter.h"
#include "index.h"
#include "fidx/fidx.h"

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
  if (!n_out) return pv__error_null(idx, PV_INVALID, "n_out is NULL");
  *n_out = 0;
  if (ef > PV_MAX_EF)
    return pv__error(idx, PV_INVALID, "ef is %zu; it must be at most %u", ef, PV_MAX_EF);
  if (!q) return pv__error_null(idx, PV_INVALID, "the query pointer is NULL");
  int rc = pv__validate(idx, q, PV_V_QUERY, 0);
  if (rc) return rc;
  if (k == 0 || idx->live == 0) {
    *done = 1;
    return pv__error(idx, PV_OK, NULL);
  }
  if (!out) return pv__error_null(idx, PV_INVALID, "out is NULL but k is %zu", k);
  return PV_OK;
}

/* Below this many candidates, scoring them all beats walking the graph
 * (bench/filter.c measures where the two cross). */
#ifndef PV_PLAIN_ABOVE
#define PV_PLAIN_ABOVE 0.9
#endif
#ifndef PV_WIDEN
#define PV_WIDEN 0.15
#endif
#ifndef PV_BRUTE_PER_EF
#define PV_BRUTE_PER_EF 40
#endif

/* The beam of a walk among cand candidates: below PV_WIDEN of the
 * documents it widens in proportion (up to 4x), since the matching nodes
 * near the query are fewer and farther apart, and a beam of ef of them
 * ends the walk before the best are found (recall@10 at 7 %: 0.94 at ef
 * 64, 0.96 widened). */
static size_t widened(const pv_index *idx, size_t ef, uint64_t cand) {
  double sel = (double)cand / (double)(idx->live ? idx->live : 1);
  size_t efw = ef;
  if (sel < PV_WIDEN) efw = sel * 4 < PV_WIDEN ? ef * 4 : (size_t)((double)ef * PV_WIDEN / sel);
  return efw > PV_MAX_EF ? PV_MAX_EF : efw;
}

/* Whether scoring cand candidates one by one beats walking the graph. */
static int brute_cheaper(const pv_index *idx, size_t ef, uint64_t cand) {
  return cand <= (uint64_t)widened(idx, ef, cand) * PV_BRUTE_PER_EF;
}

/* After candidates were scored on the indexes' word alone (string
 * equality is indexed by hash): the hits checked against the filter, and
 * on a (improbable) collision the candidates scored again, each checked. */
static int check_hits(pv_index *idx, pv_ctx *c, const pv_ref *r, size_t k, const pv_filter *f,
                      const filter_accept *fa, const uint32_t *list, int64_t len, size_t words,
                      pv_hit *out, size_t *n_out) {
  size_t ok = 0;
  for (size_t i = 0; i < *n_out; i++) ok += pv__matches(idx, f, pv__slot_of(idx, out[i].id));
  if (ok == *n_out) return PV_OK;
  if (list) return pv__exact_list(idx, c, r, k, list, (size_t)len, &fa->base, out, n_out);
  return pv__exact_bits(idx, c, r, k, c->bits, words, &fa->base, out, n_out);
}

/* The filtered search with the field indexes. A single condition with
 * few candidates lists them from its runs and scores them one by one.
 * Otherwise the filter becomes a bitmap of candidate ids (a superset of
 * the matches when *exact is 0); few candidates are scored one by one,
 * more are searched by the two-hop walk. Every hit is checked against the
 * filter itself at the end (string equality is indexed by hash), and a
 * walk that comes up short or returns a hit the filter refuses falls back
 * to scoring the candidates. Returns 1 when it answered (rc set), 0 when
 * the indexes cannot answer. */
static int search_indexed(pv_index *idx, pv_ctx *c, const pv_ref *r, size_t k, size_t ef,
                          const pv_filter *f, const filter_accept *fa, pv_hit *out,
                          size_t *n_out, int *rc) {
  /* Where nearly every document matches, building the bitmap would cost
   * more than checking the few nodes a plain walk keeps: the walk with the
   * evaluator as its predicate (pv__search goes on with it). */
  int64_t est = pv__fidx_estimate(idx, f);
  if (est < 0 || (double)est >= PV_PLAIN_ABOVE * (double)idx->live) return 0;
  size_t words = ((size_t)idx->next_id + 63) / 64;
  uint32_t depth = pv__fidx_depth(f);
  if (!words || pv__ctx_bits(idx, c, words * (depth + 1)) != PV_OK) return 0;
  int exact = 1;
  *rc = PV_OK;
  /* Under 1/512 of the ids (est <= words / 8), clearing and scanning a
   * bitmap over all of them costs as much as scoring the candidates: list
   * them instead (in the room of the bitmaps). Above that the bitmap wins:
   * it yields the candidates in slot order, which reads memory in order
   * (bench/results/filter.json: at 1 %, 45 us by bitmap, 58 by list). */
  if ((uint64_t)est * 8 <= words && brute_cheaper(idx, ef, (uint64_t)est)) {
    uint32_t *list = (uint32_t *)c->bits;
    int64_t n = pv__fidx_list(idx, f, list, 2 * words, &exact);
    if (n >= 0) {
      *rc = pv__exact_list(idx, c, r, k, list, (size_t)n, exact ? NULL : &fa->base, out, n_out);
      if (!*rc && exact) *rc = check_hits(idx, c, r, k, f, fa, list, n, words, out, n_out);
      return 1;
    }
  }
  int64_t cand = pv__fidx_bitmap(idx, f, c->bits, c->bits + words, words, &exact);
  if (cand < 0) return 0;
  const pv_accept *verify = exact ? NULL : &fa->base;
  size_t efw = widened(idx, ef, (uint64_t)cand);
  if (!brute_cheaper(idx, ef, (uint64_t)cand) &&
      pv__ctx_reserve(idx, c, (uint32_t)efw, idx->st.n) == PV_OK) {
    size_t got = pv__graph_search_bits(idx, c, r, k, (uint32_t)efw, c->bits, verify, c->sel);
    size_t ok = 0;
    for (size_t i = 0; i < got; i++) {
      if (!verify && !pv__matches(idx, f, c->sel[i].s)) continue;
      out[ok].id = pv__id(idx, c->sel[i].s);
      out[ok++].distance = c->sel[i].d;
    }
    *n_out = ok;
    if (ok == got && got == k) return 1;
    if (ok < got) verify = &fa->base; /* a hash collision: check every candidate */
  }
  *rc = pv__exact_bits(idx, c, r, k, c->bits, words, verify, out, n_out);
  if (!*rc && !verify) *rc = check_hits(idx, c, r, k, f, fa, NULL, 0, words, out, n_out);
  return 1;
}

/* Graph search, or brute force when `exact` or when the beam would cover
 * the index anyway (then brute force is cheaper and exact, and k >= count
 * returns every live vector even where the graph is not connected). A
 * filter goes to search_indexed, except for pv_search_exact: the ground
 * truth reads every document and trusts no index. */
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
  if (f && !exact && search_indexed(idx, c, &r, k, ef, f, &fa, out, n_out, &rc)) {
    pv__ctx_release(idx, c);
    if (rc) return pv__error(idx, PV_NOMEM, "out of memory searching for %zu results", k);
    return pv__error(idx, PV_OK, NULL);
  }
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

/* 1 if a leaf of f compares with a string: the field indexes key strings
 * by a 64-bit hash, so such a bitmap is exact but for (improbable)
 * collisions, which a count must not include. */
static int has_string(const pv_filter *f) {
  for (uint32_t i = 0; i < f->nnode; i++)
    for (uint32_t j = 0; j < f->node[i].nlit; j++)
      if (f->node[i].lit[j].type == PV_A_STR) return 1;
  return 0;
}

int pv__find(pv_index *idx, const pv_filter *f, uint32_t *out, size_t cap, size_t *count) {
  size_t j = 0;
  if (f && f->node[f->root].kind == PV_F_TRUE) f = NULL;
  /* With the field indexes: the candidates' bits, in id order (which is
   * slot order), each checked by the evaluator unless the bitmap is exact.
   * Without: every document read. */
  size_t words = ((size_t)idx->next_id + 63) / 64;
  pv_ctx *c = f && words ? pv__ctx_acquire(idx, 0, 0) : NULL;
  int exact = 1;
  int64_t cand = -1;
  if (c && pv__ctx_bits(idx, c, words * (pv__fidx_depth(f) + 1)) == PV_OK)
    cand = pv__fidx_bitmap(idx, f, c->bits, c->bits + words, words, &exact);
  if (cand >= 0) {
    if (exact && has_string(f)) exact = 0;
    const uint32_t *ids = idx->st.col[PV_COL_ID].base;
    uint32_t n = idx->st.n, s = 0;
    for (size_t w = 0; w < words && s < n; w++)
      for (uint64_t b = c->bits[w]; b && s < n; b &= b - 1) {
        uint32_t id = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
        while (s < n && ids[s] < id) s++;
        if (s == n || ids[s] != id || !pv__is_live(idx, s)) continue;
        if (!exact && !pv__matches(idx, f, s)) continue;
        if (j < cap) out[j] = id;
        j++;
      }
  } else {
    for (uint32_t s = 0; s < idx->st.n; s++) {
      if (!pv__is_live(idx, s) || !pv__matches(idx, f, s)) continue;
      if (j < cap) out[j] = pv__id(idx, s);
      j++;
    }
  }
  pv__ctx_release(idx, c);
  *count = j;
  return PV_OK;
}
