/*
 * The HNSW graph: random levels, the beam search of one layer, the
 * neighbour-selection heuristic, and insertion.
 *
 * Nothing here allocates: callers reserve the scratch (pv__reserve_search)
 * before they call in, so an insert can never fail half-way.
 *
 * Deleted nodes (tombstones) stay in the graph until compaction. Searches
 * walk through them, because they still connect their neighbourhoods, but
 * never return them; inserts may link to them like to any node; and a node
 * whose full link list is re-selected drops them on the way.
 */
#include <string.h>

#include "internal.h"

/* ======================================================================== */
/* Levels                                                                   */
/* ======================================================================== */

/* splitmix64: tiny, fast, and the same on every platform. */
static uint64_t next_u64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* P(level >= l) = m^-l, the distribution of floor(-ln(u) / ln(m)) in the
 * paper, computed by comparing against powers of 1/m: no log(), so no libm
 * in the WASM build and no platform-dependent rounding. */
int pv__random_level(const pv_index *idx, uint64_t *rng) {
  double u = (double)(next_u64(rng) >> 11) * (1.0 / 9007199254740992.0);
  double p = 1.0 / idx->m, t = p;
  int l = 0;
  while (u < t && l < PV_MAX_LEVEL) {
    l++;
    t *= p;
  }
  return l;
}

/* ======================================================================== */
/* Heaps of (distance, slot)                                                */
/* ======================================================================== */

static inline int less(pv_pair a, pv_pair b) {
  return a.d < b.d || (a.d == b.d && a.s < b.s);
}

/* Max-heap: the worst result on top. */
static void maxheap_push(pv_pair *h, uint32_t *n, pv_pair x) {
  uint32_t i = (*n)++;
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (!less(h[p], x)) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = x;
}

static void maxheap_sift_down(pv_pair *h, uint32_t n, uint32_t i) {
  pv_pair x = h[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && less(h[c], h[c + 1])) c++;
    if (!less(x, h[c])) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = x;
}

/* Min-heap: the best candidate on top. */
static void minheap_sift_up(pv_pair *h, uint32_t i, pv_pair x) {
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (!less(x, h[p])) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = x;
}

static pv_pair minheap_pop(pv_pair *h, uint32_t *n) {
  pv_pair top = h[0];
  pv_pair x = h[--(*n)];
  uint32_t i = 0;
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= *n) break;
    if (c + 1 < *n && less(h[c + 1], h[c])) c++;
    if (!less(h[c], x)) break;
    h[i] = h[c];
    i = c;
  }
  if (*n) h[i] = x;
  return top;
}

/* Push a candidate into a min-heap of fixed capacity (ef + m0 + 1), so
 * that search never allocates. When it is full, first drop the stale
 * entries: those worse than the worst result (*worst, when the result heap is
 * full) could only end the search when popped. Live useful candidates are
 * also results, so at most ef survive and the push fits. Only when tombstones
 * crowd the heap does the new candidate replace the worst leaf instead. */
static void cand_push(pv_pair *h, uint32_t *n, uint32_t cap, pv_pair x, const pv_pair *worst) {
  if (*n == cap && worst) {
    uint32_t w = 0;
    for (uint32_t i = 0; i < *n; i++)
      if (!less(*worst, h[i])) h[w++] = h[i];
    if (w < *n) {
      /* A filtered min-heap is no longer a heap: rebuild bottom-up. */
      *n = w;
      for (uint32_t i = w / 2; i-- > 0;) {
        pv_pair y = h[i];
        uint32_t j = i;
        for (;;) {
          uint32_t c = 2 * j + 1;
          if (c >= w) break;
          if (c + 1 < w && less(h[c + 1], h[c])) c++;
          if (!less(h[c], y)) break;
          h[j] = h[c];
          j = c;
        }
        h[j] = y;
      }
    }
  }
  if (*n < cap) {
    minheap_sift_up(h, (*n)++, x);
    return;
  }
  uint32_t lw = *n / 2;
  for (uint32_t i = lw + 1; i < *n; i++)
    if (less(h[lw], h[i])) lw = i;
  if (less(x, h[lw])) minheap_sift_up(h, lw, x);
}

/* In-place heap sort of a max-heap into ascending order. */
static void maxheap_sort(pv_pair *h, uint32_t n) {
  while (n > 1) {
    pv_pair t = h[0];
    h[0] = h[n - 1];
    h[n - 1] = t;
    maxheap_sift_down(h, --n, 0);
  }
}

void pv__sort_pairs(pv_pair *p, size_t n) {
  /* heapify, then sort */
  for (size_t i = n / 2; i-- > 0;) maxheap_sift_down(p, (uint32_t)n, (uint32_t)i);
  maxheap_sort(p, (uint32_t)n);
}

/* ======================================================================== */
/* Search                                                                   */
/* ======================================================================== */

static inline int is_live(const pv_index *idx, uint32_t s) {
  return !(idx->flags[s] & PV_SLOT_DELETED);
}

/* Greedy walk on layer l (beam of one) from *cur towards q. */
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

/* Beam search of layer l from one entry point. Leaves the ef closest nodes
 * found in idx->heap_w as a max-heap and returns their number: only live
 * ones for a user's search (live_only), tombstones too for an insert, which
 * must be able to link in even where every node around is deleted (the
 * links to tombstones are repaired by compaction). */
static uint32_t search_layer(pv_index *idx, const pv_ref *q, pv_pair ep, uint32_t ef, int l,
                             int live_only) {
  pv_pair *W = idx->heap_w, *C = idx->heap_c;
  uint32_t nw = 0, nc = 0, ccap = idx->heap_cap;
  pv__visit_reset(idx);
  pv__visited(idx, ep.s);
  cand_push(C, &nc, ccap, ep, NULL);
  if (!live_only || is_live(idx, ep.s)) maxheap_push(W, &nw, ep);
  while (nc) {
    pv_pair c = minheap_pop(C, &nc);
    if (nw == ef && less(W[0], c)) break;
    /* Collect the unvisited neighbours first and prefetch their vectors,
     * then score them four at a time: a search is bound by fetching vectors
     * from memory, and asking for several at once overlaps those fetches
     * instead of paying for each in turn (natively the prefetch does it;
     * WebAssembly has none, and there the four-way kernel does). The
     * scores are the same as one at a time, and are used in the same
     * order, so the results are too. */
    const uint32_t *ln = pv__links(idx, c.s, l);
    uint32_t todo[2 * PV_MAX_M], nt = 0;
    for (uint32_t i = 1; i <= ln[0]; i++) {
      uint32_t t = ln[i];
      if (pv__visited(idx, t)) continue;
      todo[nt++] = t;
      pv__prefetch(idx, t);
    }
    float dist[2 * PV_MAX_M];
    uint32_t i = 0;
    /* Four at a time for SQ8 only: F32 has no four-way kernel. */
    if (!q->f)
      for (; i + 4 <= nt; i += 4) pv__dist4(idx, q, todo + i, dist + i);
    for (; i < nt; i++) dist[i] = pv__dist(idx, q, todo[i]);
    for (i = 0; i < nt; i++) {
      uint32_t t = todo[i];
      pv_pair x = {dist[i], t};
      if (nw < ef || less(x, W[0])) {
        cand_push(C, &nc, ccap, x, nw == ef ? &W[0] : NULL);
        if (live_only && !is_live(idx, t)) continue;
        if (nw < ef) {
          maxheap_push(W, &nw, x);
        } else {
          W[0] = x;
          maxheap_sift_down(W, nw, 0);
        }
      }
    }
  }
  return nw;
}

size_t pv__search(pv_index *idx, const pv_ref *q, size_t k, uint32_t ef, pv_pair *out) {
  if (idx->entry == PV_NONE) return 0;
  uint32_t cur = idx->entry;
  float d = pv__dist(idx, q, cur);
  for (int l = idx->max_level; l > 0; l--) greedy(idx, q, &cur, &d, l);
  pv_pair ep = {d, cur};
  uint32_t nw = search_layer(idx, q, ep, ef, 0, 1);
  maxheap_sort(idx->heap_w, nw);
  size_t n = nw < k ? nw : k;
  memmove(out, idx->heap_w, sizeof(pv_pair) * n);
  return n;
}

/* ======================================================================== */
/* Neighbour selection                                                      */
/* ======================================================================== */

/* The heuristic of the HNSW paper (algorithm 4): walk the candidates from
 * the closest, keep one unless it is closer to a kept neighbour than to the
 * node, so the links spread in different directions instead of all pointing
 * into one cluster.
 *
 * Exact duplicates of the node need a rule of their own. Their distance to
 * the node is the smallest possible, so they come first and, being equally
 * close to each other, all pass the test: a node with many copies would link
 * only to copies, and a cluster of copies would have no way out. At most
 * half the links may go to copies of the node; the rest go outwards. */
uint32_t pv__select(const pv_index *idx, const pv_ref *node, pv_pair *cand, uint32_t n,
                    uint32_t max, uint32_t *out) {
  uint32_t kept = 0, copies = 0;
  float best = n ? cand[0].d : 0.0f;
  for (uint32_t i = 0; i < n && kept < max; i++) {
    pv_pair e = cand[i];
    int copy = e.d <= best && pv__same(idx, node, e.s);
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
 * its live links plus s with the heuristic, measured from nb. */
static void add_link(pv_index *idx, uint32_t nb, uint32_t s, int l) {
  uint32_t *ln = pv__links(idx, nb, l);
  uint32_t max = pv__maxlinks(idx, l);
  if (ln[0] < max) {
    ln[1 + ln[0]++] = s;
    return;
  }
  pv_ref r = pv__ref(idx, nb);
  pv_pair *c = idx->sel;
  uint32_t n = 0;
  for (uint32_t i = 1; i <= ln[0]; i++) {
    uint32_t t = ln[i];
    if (!is_live(idx, t)) continue;
    c[n].d = pv__dist(idx, &r, t);
    c[n++].s = t;
  }
  c[n].d = pv__dist(idx, &r, s);
  c[n++].s = s;
  pv__sort_pairs(c, n);
  pv__set_count(ln, pv__select(idx, &r, c, n, max, ln + 1), max);
}

/* ======================================================================== */
/* Insert                                                                   */
/* ======================================================================== */

void pv__insert(pv_index *idx, uint32_t s) {
  int L = idx->level[s];
  if (idx->entry == PV_NONE) {
    idx->entry = s;
    idx->max_level = L;
    return;
  }
  pv_ref q = pv__ref(idx, s);
  uint32_t cur = idx->entry;
  float d = pv__dist(idx, &q, cur);
  for (int l = idx->max_level; l > L; l--) greedy(idx, &q, &cur, &d, l);
  pv_pair ep = {d, cur};
  for (int l = L < idx->max_level ? L : idx->max_level; l >= 0; l--) {
    uint32_t nw = search_layer(idx, &q, ep, idx->opt.ef_construction, l, 0);
    pv_pair *W = idx->heap_w;
    maxheap_sort(W, nw);
    /* The new node picks m links on every layer, layer 0 included; its
     * layer-0 list fills up to 2m with the links later nodes add back. Picking
     * 2m at once gave it long lists of close, similar links, slower to build
     * and to search: at 100k x 768 SQ8, m 16, this halves the build (161 ->
     * 81 s) and raises recall@10 at ef 16 from 0.974 to 0.986. (hnswlib
     * does the same.) */
    uint32_t *ln = pv__links(idx, s, l);
    ln[0] = pv__select(idx, &q, W, nw, idx->m, ln + 1);
    /* add_link works in idx->sel, not in W, so W[0] survives as the entry
     * point of the next layer down. */
    for (uint32_t i = 1; i <= ln[0]; i++) add_link(idx, ln[i], s, l);
    if (nw) ep = W[0];
  }
  if (L > idx->max_level) {
    idx->entry = s;
    idx->max_level = L;
  }
}
