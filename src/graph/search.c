/* SPDX-License-Identifier: MIT */
/*
 * Searching the graph: the greedy descent through the upper layers and the
 * beam search of one layer. Read-only on the index: everything written is
 * in the caller's context, so any number of these run at once.
 */
#include "index.h"

/* Push a candidate into a min-heap of fixed capacity (ef + m0 + 1), so that
 * search never allocates. When it is full, first drop the stale entries:
 * those worse than the worst result (*worst, when the result heap is full)
 * could only end the search when popped. Live useful candidates are also
 * results, so at most ef survive and the push fits. Only when tombstones
 * (or nodes the predicate refuses) crowd the heap does the new candidate
 * replace the worst leaf instead. */
static void cand_push(pv_pair *h, uint32_t *n, uint32_t cap, pv_pair x, const pv_pair *worst) {
  if (*n == cap && worst) {
    uint32_t w = 0;
    for (uint32_t i = 0; i < *n; i++)
      if (!pv__less(*worst, h[i])) h[w++] = h[i];
    if (w < *n) {
      *n = w;
      pv__minheap_build(h, w); /* a filtered heap is no longer a heap */
    }
  }
  if (*n < cap) {
    pv__minheap_sift_up(h, (*n)++, x);
    return;
  }
  uint32_t lw = *n / 2;
  for (uint32_t i = lw + 1; i < *n; i++)
    if (pv__less(h[lw], h[i])) lw = i;
  if (pv__less(x, h[lw])) pv__minheap_sift_up(h, lw, x);
}

/* Greedy walk on layer l (beam of one) from *cur towards q. One distance
 * at a time: the upper layers are small and cached, and the batched form
 * measured more instructions here (the callgrind gate). */
static void greedy(const pv_index *idx, const pv_ref *q, uint32_t *cur, float *dcur, int l) {
  for (;;) {
    const uint32_t *ln = pv__links(idx, *cur, l);
    uint32_t best = *cur;
    for (uint32_t i = 1; i <= ln[0]; i++) {
      float d = pv__dist(idx, q, ln[i]);
      if (d < *dcur) {
        *dcur = d;
        best = ln[i];
      }
    }
    if (best == *cur) return;
    *cur = best;
  }
}

/* Whether a reached node may be a result: any node for an insert (it must
 * link in even where every node around is deleted; compaction repairs the
 * links to tombstones), live ones for a search, and those the predicate
 * accepts when there is one. (One copy of the beam search serves all three:
 * a copy per case, as hnswlib's templates make, saved no measurable
 * instructions in the callgrind gate and cost 0.4 KB of WebAssembly.) */
PV_HOT int result_ok(const pv_index *idx, int live_only, const pv_accept *acc, uint32_t s) {
  if (!live_only) return 1;
  if (!pv__is_live(idx, s)) return 0;
  return !acc || acc->fn(acc, s);
}

/* Beam search of layer l from one entry point. Leaves the ef closest
 * acceptable nodes found in c->W as a max-heap and returns their number. */
static uint32_t search_layer(const pv_index *idx, pv_ctx *c, const pv_ref *q, pv_pair ep,
                             uint32_t ef, int l, int live_only, const pv_accept *acc) {
  pv_pair *W = c->W, *C = c->C;
  uint32_t nw = 0, nc = 0, ccap = c->heap_cap;
  pv__visit_reset(c);
  pv__visit(c, ep.s);
  cand_push(C, &nc, ccap, ep, NULL);
  if (result_ok(idx, live_only, acc, ep.s)) pv__maxheap_push(W, &nw, ep);
  while (nc) {
    pv_pair cur = pv__minheap_pop(C, &nc);
    if (nw == ef && pv__less(W[0], cur)) break;
    /* Collect the unvisited neighbours first, then ask for their codes in
     * a loop of its own, then score them in one batched call: a search is
     * bound by fetching codes from memory, and asking for several at once
     * overlaps those fetches. The asking loop is apart so that it is short:
     * in WebAssembly a request is a real load (index.h), and the fewer
     * instructions per node, the more nodes' loads the processor has in
     * flight at once (with index.h's one load per code: F32 searches 8-10 %
     * faster at 100 and 768 dimensions, SQ8 3-7 %, than one load per line
     * inside the collecting loop; natively no measurable change). The
     * scores are the same as one at a time, and are used in the same
     * order, so the results are too. */
    const uint32_t *ln = pv__links(idx, cur.s, l);
    uint32_t todo[2 * PV_MAX_M + 1], nt = 0;
    for (uint32_t i = 1; i <= ln[0]; i++) {
      uint32_t t = ln[i];
      if (pv__visit(c, t)) continue;
      todo[nt++] = t;
    }
    for (uint32_t i = 0; i < nt; i++) pv__prefetch(idx, q, todo[i]);
    /* The next exact copy of the node, like one more link (graph.h). */
    if (idx->g.twins && l == 0) {
      uint32_t t = pv__twin(idx, cur.s);
      if (t != PV_NONE && !pv__visit(c, t)) todo[nt++] = t;
    }
    float dist[2 * PV_MAX_M + 1];
    idx->codec->dist_many(idx, q, todo, nt, dist);
    for (uint32_t i = 0; i < nt; i++) {
      uint32_t t = todo[i];
      pv_pair x = {dist[i], t};
      if (nw < ef || pv__less(x, W[0])) {
        cand_push(C, &nc, ccap, x, nw == ef ? &W[0] : NULL);
        if (!result_ok(idx, live_only, acc, t)) continue;
        if (nw < ef) {
          pv__maxheap_push(W, &nw, x);
        } else {
          W[0] = x;
          pv__maxheap_sift_down(W, nw, 0);
        }
      }
    }
  }
  return nw;
}

uint32_t pv__search_layer_all(const pv_index *idx, pv_ctx *c, const pv_ref *q, pv_pair ep,
                              uint32_t ef, int l) {
  return search_layer(idx, c, q, ep, ef, l, 0, NULL);
}

pv_pair pv__descend(const pv_index *idx, const pv_ref *q, int to) {
  uint32_t cur = idx->g.entry;
  float d = pv__dist(idx, q, cur);
  for (int l = idx->g.max_level; l > to; l--) greedy(idx, q, &cur, &d, l);
  pv_pair ep = {d, cur};
  return ep;
}

/* The walk's form of q: coarse distances where the codec has them. */
static inline pv_ref walk_ref(const pv_index *idx, const pv_ref *q) {
  pv_ref w = *q;
  w.walk = idx->codec->walks != NULL;
  return w;
}

/* The best k of the nw results in W, ascending, into out. A walk by
 * coarse distances found them: score them again with the codec's own
 * distance (every one of them: the walk's ef is the oversampling) and
 * order by that. Through the batched distance, a few dozen at a time, so
 * that the codes' fetches overlap (WebAssembly has no prefetch). */
static size_t finish(const pv_index *idx, const pv_ref *q, pv_pair *W, uint32_t nw, size_t k,
                     pv_pair *out) {
  if (idx->codec->walks != NULL) {
    uint32_t s[32];
    float d[32];
    for (uint32_t i = 0; i < nw; i += 32) {
      uint32_t m = nw - i < 32 ? nw - i : 32;
      for (uint32_t j = 0; j < m; j++) {
        s[j] = W[i + j].s;
        pv__prefetch_all(idx, s[j]);
      }
      idx->codec->dist_many(idx, q, s, m, d);
      for (uint32_t j = 0; j < m; j++) W[i + j].d = d[j];
    }
    pv__sort_pairs(W, nw);
  } else {
    pv__maxheap_sort(W, nw);
  }
  size_t n = nw < k ? nw : k;
  for (size_t i = 0; i < n; i++) out[i] = W[i];
  return n;
}

size_t pv__graph_search(const pv_index *idx, pv_ctx *c, const pv_ref *q, size_t k, uint32_t ef,
                        const pv_accept *acc, pv_pair *out) {
  if (idx->g.entry == PV_NONE) return 0;
  pv_ref w = walk_ref(idx, q);
  pv_pair ep = pv__descend(idx, &w, 0);
  uint32_t nw = search_layer(idx, c, &w, ep, ef, 0, 1, acc);
  return finish(idx, q, c->W, nw, k, out);
}

/* The layer-0 beam search of a filtered query, after ACORN-1 (Patel et
 * al., 2024): only nodes whose bit is set (and that are live, and that
 * `verify` accepts when given) are scored and kept, and the walk reaches
 * them through the others: a neighbour that fails the filter is not
 * scored, but its own neighbours are looked at (two hops). At low
 * selectivity the matching nodes alone form a sparse, badly connected
 * graph; the second hop restores the connections the filter removed, while
 * distances (the cost) are computed for matching nodes only. At most m
 * nodes are gathered per expansion (ACORN-1 truncates to M likewise):
 * more found the same hits for up to twice the distances. */
#ifndef PV_HOP_AHEAD
#define PV_HOP_AHEAD 8
#endif

static inline int bit_ok(const pv_index *idx, const uint64_t *bits, const pv_accept *verify,
                         uint32_t s, int dense) {
  uint32_t id = dense ? s : pv__id(idx, s);
  return (bits[id >> 6] >> (id & 63) & 1) && pv__is_live(idx, s) && (!verify || verify->fn(verify, s));
}

size_t pv__graph_search_bits(const pv_index *idx, pv_ctx *c, const pv_ref *query, size_t k,
                             uint32_t ef, const uint64_t *bits, const pv_accept *verify,
                             pv_pair *out) {
  if (idx->g.entry == PV_NONE) return 0;
  pv_ref w = walk_ref(idx, query);
  const pv_ref *q = &w;
  pv_pair ep = pv__descend(idx, q, 0);
  pv_pair *W = c->W, *C = c->C;
  uint32_t nw = 0, nc = 0, ccap = c->heap_cap, max = idx->g.m;
  /* Until a compaction leaves gaps in the ids, slot s holds id s: the
   * bitmap over ids is one over slots, and the two-hop loop, which tests
   * up to m0 * m0 nodes an expansion, skips a load of the id column. */
  int dense = idx->next_id == idx->st.n;
  pv__visit_reset(c);
  pv__visit(c, ep.s);
  cand_push(C, &nc, ccap, ep, NULL);
  if (bit_ok(idx, bits, verify, ep.s, dense)) pv__maxheap_push(W, &nw, ep);
  uint32_t todo[4 * PV_MAX_M + 1];
  float dist[4 * PV_MAX_M + 1];
  while (nc) {
    pv_pair cur = pv__minheap_pop(C, &nc);
    if (nw == ef && pv__less(W[0], cur)) break;
    const uint32_t *ln = pv__links(idx, cur.s, 0);
    uint32_t nt = 0, nmatch = 0, nmiss = 0, miss[2 * PV_MAX_M + 1];
    /* The node's links, then its next exact copy (graph.h). */
    uint32_t tw = idx->g.twins ? pv__twin(idx, cur.s) : PV_NONE;
    for (uint32_t i = 1; i <= ln[0] + (tw != PV_NONE); i++) {
      uint32_t t = i <= ln[0] ? ln[i] : tw;
      if (!bit_ok(idx, bits, verify, t, dense)) {
        if (!pv__visit(c, t)) miss[nmiss++] = t;
        continue;
      }
      nmatch++;
      if (pv__visit(c, t)) continue;
      todo[nt++] = t;
      pv__prefetch(idx, q, t);
    }
    /* Where a third of m neighbours or more match, the matching graph is
     * connected as it is; the second hop is for where the filter cut the
     * links. (bench/results/filter.json: at 25 % of the documents this
     * scores fewer nodes than an unfiltered walk, at 10 % 1.8x as many.) */
    uint32_t hop = 3 * nmatch < idx->g.m ? nmiss : 0;
    /* The missed nodes' link lists lie anywhere in memory, and reading
     * them one after the other waited on each (a third of the time of a
     * walk at 10 %): ask for them a few nodes ahead. */
    for (uint32_t i = 0; i < hop && i < PV_HOP_AHEAD; i++) pv__prefetch_links(idx, miss[i]);
    for (uint32_t i = 0; i < hop && nt < max; i++) {
      if (i + PV_HOP_AHEAD < hop) pv__prefetch_links(idx, miss[i + PV_HOP_AHEAD]);
      const uint32_t *l2 = pv__links(idx, miss[i], 0);
      for (uint32_t j = 1; j <= l2[0] && nt < max; j++) {
        uint32_t u = l2[j];
        /* Marked only when taken: another path may still bring u in
         * while it is unscored, and then it must not look visited. */
        uint32_t id = dense ? u : pv__id(idx, u);
        if (!(bits[id >> 6] >> (id & 63) & 1)) continue;
        if (pv__visit(c, u)) continue;
        if (!bit_ok(idx, bits, verify, u, dense)) continue;
        todo[nt++] = u;
        pv__prefetch(idx, q, u);
      }
    }
    idx->codec->dist_many(idx, q, todo, nt, dist);
    for (uint32_t i = 0; i < nt; i++) {
      pv_pair x = {dist[i], todo[i]};
      if (nw < ef || pv__less(x, W[0])) {
        cand_push(C, &nc, ccap, x, nw == ef ? &W[0] : NULL);
        if (nw < ef) {
          pv__maxheap_push(W, &nw, x);
        } else {
          W[0] = x;
          pv__maxheap_sift_down(W, nw, 0);
        }
      }
    }
  }
  return finish(idx, query, W, nw, k, out);
}
