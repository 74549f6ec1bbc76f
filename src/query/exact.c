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

int pv__exact_bits(pv_index *idx, pv_ctx *c, const pv_ref *q, size_t k, const uint64_t *bits,
                   size_t words, const pv_accept *verify, pv_hit *out, size_t *n_out) {
  if (k > idx->live) k = idx->live;
  pv_pair *own, *h = topk_heap(idx, c, k, &own);
  if (!h) return PV_NOMEM;
  const uint32_t *ids = idx->st.col[PV_COL_ID].base;
  uint32_t have = 0, kk = (uint32_t)k, n = idx->st.n, s = 0;
  /* Candidates lie anywhere in memory: they are scored in batches, their
   * codes prefetched first and scored with the codec's batched distance,
   * so the fetches overlap (as in the beam search). */
  uint32_t batch[32], nb = 0;
  int dense = idx->next_id == n;
  for (size_t w = 0; w < words && kk && s < n; w++) {
    for (uint64_t b = bits[w]; b; b &= b - 1) {
      uint32_t id = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
      /* Ids ascend with slots: gallop from the last slot found, so a sparse
       * set costs O(log) per id and a dense one O(1). */
      if (dense) {
        s = id; /* no gaps in the ids: slot s holds id s */
      } else {
        uint32_t step = 1, lo = s;
        while (lo + step < n && ids[lo + step] < id) lo += step, step *= 2;
        uint32_t hi = lo + step < n ? lo + step : n;
        while (lo < hi) {
          uint32_t mid = lo + (hi - lo) / 2;
          if (ids[mid] < id) lo = mid + 1;
          else hi = mid;
        }
        s = lo;
      }
      if (s >= n) break;
      if (ids[s] != id || !pv__is_live(idx, s) || (verify && !verify->fn(verify, s))) continue;
      /* The whole code, and the codec's parameters: nothing else brings
       * them in ahead, as the hardware does for a sequential scan. */
      pv__prefetch_all(idx, s);
      batch[nb++] = s;
      if (nb == 32) nb = offer_batch(idx, q, batch, nb, h, &have, kk);
    }
  }
  offer_batch(idx, q, batch, nb, h, &have, kk);
  return finish(idx, h, have, own, k, out, n_out);
}
