/* SPDX-License-Identifier: MIT */
/*
 * Building the graph: random levels, the neighbour-selection heuristic, and
 * insertion in two steps. The plan searches every layer the new node joins
 * and selects its neighbours: it only reads the graph. The commit writes
 * the node's lists and the links back to it: it allocates nothing and
 * cannot fail. (Planning all layers before committing any gives the same
 * graph as interleaving them: a layer's search never reads the lists of
 * the layer above, which is all a commit changes.)
 */
#include <string.h>

#include "index.h"

/* P(level >= l) = m^-l, the distribution of floor(-ln(u) / ln(m)) in the
 * paper, computed by comparing against powers of 1/m: no log(), so no libm
 * in the WASM build and no platform-dependent rounding. */
int pv__random_level(const pv_index *idx, uint64_t *rng) {
  double u = (double)(pv__next_u64(rng) >> 11) * (1.0 / 9007199254740992.0);
  double p = 1.0 / idx->g.m, t = p;
  int l = 0;
  while (u < t && l < PV_MAX_LEVEL) {
    l++;
    t *= p;
  }
  return l;
}

size_t pv__upper_bytes(const pv_index *idx, int level) {
  return sizeof(uint32_t) * (size_t)level * (1 + idx->g.m);
}

void pv__graph_free_upper(pv_index *idx, uint32_t from, uint32_t to) {
  uint32_t **up = pv__upper(idx);
  if (!up) return;
  for (uint32_t s = from; s < to; s++) {
    pv__free(idx, up[s], pv__upper_bytes(idx, pv__level(idx, s)));
    up[s] = NULL;
  }
}

/* The heuristic of the HNSW paper (algorithm 4): walk the candidates from
 * the closest, keep one unless it is closer to a kept neighbour than to the
 * node, so the links spread in different directions instead of all pointing
 * into one cluster.
 *
 * Exact duplicates of the node need a rule of their own. They are all at
 * the node's distance to itself, usually the smallest, and, being equally
 * close to each other, all pass the test: a node with many copies would link
 * only to copies, and a cluster of copies would have no way out. At most
 * half the links may go to copies of the node; the rest go outwards.
 * (Not always the smallest: under dot a longer vector in the same
 * direction is nearer than a copy.) */
uint32_t pv__select(const pv_index *idx, const pv_ref *node, uint32_t s, const pv_pair *cand,
                    uint32_t n, uint32_t max, uint32_t *out) {
  uint32_t kept = 0, copies = 0;
  float self = pv__dist(idx, node, s);
  for (uint32_t i = 0; i < n && kept < max; i++) {
    pv_pair e = cand[i];
    int copy = e.d == self && pv__same(idx, node, e.s);
    if (copy && copies >= max / 2) continue;
    pv_ref re = pv__ref(idx, e.s);
    int good = 1;
    for (uint32_t j = 0; j < kept; j++) {
      if (pv__dist(idx, &re, out[j]) < e.d) {
        good = 0;
        break;
      }
    }
    if (good) {
      out[kept++] = e.s;
      copies += (uint32_t)copy;
    }
  }
  return kept;
}

/* Add the link nb -> s on layer l. If nb's list is full, re-select it from
 * its live links plus s with the heuristic, measured from nb, in c->sel. */
static void add_link(pv_index *idx, pv_ctx *c, uint32_t nb, uint32_t s, int l) {
  uint32_t *ln = pv__links(idx, nb, l);
  uint32_t max = pv__maxlinks(idx, l);
  if (ln[0] < max) {
    ln[1 + ln[0]++] = s;
    return;
  }
  pv_ref r = pv__ref(idx, nb);
  pv_pair *cand = c->sel;
  uint32_t n = 0;
  for (uint32_t i = 1; i <= ln[0]; i++) {
    uint32_t t = ln[i];
    if (!pv__is_live(idx, t)) continue;
    cand[n].d = pv__dist(idx, &r, t);
    cand[n++].s = t;
  }
  cand[n].d = pv__dist(idx, &r, s);
  cand[n++].s = s;
  pv__sort_pairs(cand, n);
  pv__set_count(ln, pv__select(idx, &r, nb, cand, n, max, ln + 1), max);
}

/* Where layer l's plan lies in c->plan. */
static uint32_t *plan_of(const pv_index *idx, pv_ctx *c, int l) {
  return c->plan + (size_t)l * (1 + idx->g.m);
}

void pv__insert_plan(const pv_index *idx, pv_ctx *c, uint32_t s) {
  int L = pv__level(idx, s);
  c->twin = PV_NONE;
  if (idx->g.entry == PV_NONE) return;
  pv_ref q = pv__ref(idx, s);
  pv_pair ep = pv__descend(idx, &q, L);
  int top = L < idx->g.max_level ? L : idx->g.max_level;
  uint32_t nw = 0;
  for (int l = top; l >= 0; l--) {
    nw = pv__search_layer_all(idx, c, &q, ep, idx->opt.ef_construction, l);
    pv__maxheap_sort(c->W, nw);
    /* The new node picks m links on every layer, layer 0 included; its
     * layer-0 list fills up to 2m with the links later nodes add back.
     * Picking 2m at once gave it long lists of close, similar links, slower
     * to build and to search (hnswlib does the same). */
    uint32_t *p = plan_of(idx, c, l);
    p[0] = pv__select(idx, &q, s, c->W, nw, idx->g.m, p + 1);
    if (nw) ep = c->W[0];
  }
  /* An exact copy among the nearest on layer 0 (tombstones included): the
   * ring to join. A copy is at the node's distance to itself, computed
   * from the same bits: 0 under l2 and cosine, but -|q|^2 under dot, where
   * a longer vector in the same direction comes first. */
  float self = pv__dist(idx, &q, s);
  for (uint32_t i = 0; i < nw; i++)
    if (c->W[i].d == self && pv__same(idx, &q, c->W[i].s)) {
      c->twin = c->W[i].s;
      break;
    }
}

void pv__insert_commit(pv_index *idx, pv_ctx *c, uint32_t s) {
  int L = pv__level(idx, s);
  if (idx->g.entry == PV_NONE) {
    idx->g.entry = s;
    idx->g.max_level = L;
    return;
  }
  int top = L < idx->g.max_level ? L : idx->g.max_level;
  for (int l = top; l >= 0; l--) {
    const uint32_t *p = plan_of(idx, c, l);
    uint32_t *ln = pv__links(idx, s, l);
    memcpy(ln, p, sizeof(uint32_t) * (1 + p[0]));
    for (uint32_t i = 1; i <= ln[0]; i++) add_link(idx, c, ln[i], s, l);
  }
  if (L > idx->g.max_level) {
    idx->g.entry = s;
    idx->g.max_level = L;
  }
  uint32_t h = c->twin;
  if (h != PV_NONE) {
    uint32_t next = pv__twin(idx, h);
    idx->g.twins += next == PV_NONE ? 2 : 1;
    pv__twin_set(idx, s, next == PV_NONE ? h : next);
    pv__twin_set(idx, h, s);
  }
}
