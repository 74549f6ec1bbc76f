/* SPDX-License-Identifier: MIT */
/*
 * Brute force: every live vector scored, the best k kept in a max-heap.
 * The ground truth of every recall test, and what a search falls back to
 * when its beam would cover the whole index anyway.
 */
#include "index.h"

/* The heap of a brute force: the context's scratch when k fits it, else k
 * pairs of its own (*own set, to free with finish). NULL: PV_NOMEM. */
static pv_pair *topk_heap(pv_index *idx, pv_ctx *c, size_t k, pv_pair **own) {
  *own = NULL;
  if (k <= c->heap_cap) return c->sel;
  return *own = pv__malloc(idx, sizeof(pv_pair) * k);
}

/* Sort the heap into hits (slots to ids) and free what topk_heap took. */
static int finish(pv_index *idx, pv_pair *h, uint32_t have, pv_pair *own, size_t k, pv_hit *out,
                  size_t *n_out) {
  pv__maxheap_sort(h, have);
  for (uint32_t i = 0; i < have; i++) {
    out[i].id = pv__id(idx, h[i].s);
    out[i].distance = h[i].d;
  }
  *n_out = have;
  if (own) pv__free(idx, own, sizeof(pv_pair) * k);
  return PV_OK;
}

int pv__exact(pv_index *idx, pv_ctx *c, const pv_ref *q, size_t k, const pv_accept *acc,
              pv_hit *out, size_t *n_out) {
  if (k > idx->live) k = idx->live;
  pv_pair *own, *h = topk_heap(idx, c, k, &own);
  if (!h) return PV_NOMEM;
  uint32_t have = 0, kk = (uint32_t)k;
  for (uint32_t s = 0; s < idx->st.n && kk; s++) {
    if (!pv__is_live(idx, s) || (acc && !acc->fn(acc, s))) continue;
    pv_pair x = {pv__dist(idx, q, s), s};
    pv__topk_offer(h, &have, kk, x);
  }
  return finish(idx, h, have, own, k, out, n_out);
}

/* Score a batch of slots with the codec's batched distance into the top-k
 * heap; returns 0 (the batch is empty again). */
static uint32_t offer_batch(const pv_index *idx, const pv_ref *q, const uint32_t *batch,
                            uint32_t nb, pv_pair *h, uint32_t *have, uint32_t k) {
  float dist[32];
  idx->codec->dist_many(idx, q, batch, nb, dist);
  for (uint32_t i = 0; i < nb; i++) {
    pv_pair x = {dist[i], batch[i]};
    pv__topk_offer(h, have, k, x);
  }
  return 0;
}

/* A brute force over chosen slots: each one offered is checked (live, and
 * accepted by verify when given), its code prefetched, and scored in
 * batches of 32 with the codec's batched distance, so the fetches of
 * candidates that lie anywhere in memory overlap (as in the beam search). */
typedef struct picker {
  const pv_index *idx;
  const pv_ref *q;
  const pv_accept *verify;
  pv_pair *h;
  uint32_t have, k, nb;
  uint32_t batch[32];
} picker;

static void pick(picker *p, uint32_t s) {
  if (!pv__is_live(p->idx, s) || (p->verify && !p->verify->fn(p->verify, s))) return;
  /* The whole code, and the codec's parameters: nothing else brings them
   * in ahead, as the hardware does for a sequential scan. */
  pv__prefetch_all(p->idx, s);
  p->batch[p->nb++] = s;
  if (p->nb == 32) p->nb = offer_batch(p->idx, p->q, p->batch, p->nb, p->h, &p->have, p->k);
}

/* The first slot in [lo, n) whose id is >= id, galloping from lo: ids
 * ascend with slots, so a sorted sweep costs O(log gap) per id. */
static uint32_t slot_from(const pv_index *idx, uint32_t lo, uint32_t id) {
  const uint32_t *ids = idx->st.col[PV_COL_ID].base;
  uint32_t n = idx->st.n, step = 1;
  if (idx->next_id == n) return id < n ? id : n; /* no gaps: slot s holds id s */
  while (lo + step < n && ids[lo + step] < id) lo += step, step *= 2;
  uint32_t hi = lo + step < n ? lo + step : n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (ids[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Begin a pick of the k nearest (*k clamped to the live count) into p:
 * PV_OK, or PV_NOMEM when the heap cannot be had. */
static int pick_begin(pv_index *idx, pv_ctx *c, const pv_ref *q, size_t *k,
                      const pv_accept *verify, picker *p, pv_pair **own) {
  if (*k > idx->live) *k = idx->live;
  *p = (picker){idx, q, verify, topk_heap(idx, c, *k, own), 0, (uint32_t)*k, 0, {0}};
  return p->h ? PV_OK : PV_NOMEM;
}

/* Score what is still batched, then sort the heap into hits. */
static int pick_end(pv_index *idx, picker *p, pv_pair *own, size_t k, pv_hit *out,
                    size_t *n_out) {
  offer_batch(idx, p->q, p->batch, p->nb, p->h, &p->have, p->k);
  return finish(idx, p->h, p->have, own, k, out, n_out);
}

int pv__exact_bits(pv_index *idx, pv_ctx *c, const pv_ref *q, size_t k, const uint64_t *bits,
                   size_t words, const pv_accept *verify, pv_hit *out, size_t *n_out) {
  picker p;
  pv_pair *own;
  if (pick_begin(idx, c, q, &k, verify, &p, &own)) return PV_NOMEM;
  const uint32_t *ids = idx->st.col[PV_COL_ID].base;
  uint32_t n = idx->st.n, s = 0;
  for (size_t w = 0; w < words && p.k && s < n; w++)
    for (uint64_t b = bits[w]; b; b &= b - 1) {
      uint32_t id = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
      if ((s = slot_from(idx, s, id)) >= n) break;
      if (ids[s] == id) pick(&p, s);
    }
  return pick_end(idx, &p, own, k, out, n_out);
}

int pv__exact_list(pv_index *idx, pv_ctx *c, const pv_ref *q, size_t k, const uint32_t *list,
                   size_t len, const pv_accept *verify, pv_hit *out, size_t *n_out) {
  picker p;
  pv_pair *own;
  if (pick_begin(idx, c, q, &k, verify, &p, &own)) return PV_NOMEM;
  pv__visit_reset(c);
  for (size_t i = 0; i < len && p.k; i++) {
    uint32_t s = pv__slot_of(idx, list[i]);
    if (s != PV_NONE && !pv__visit(c, s)) pick(&p, s);
  }
  return pick_end(idx, &p, own, k, out, n_out);
}
