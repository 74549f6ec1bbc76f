/* SPDX-License-Identifier: MIT */
/*
 * Binary heaps of (distance, slot) pairs: the beam search's results (a
 * max-heap, worst on top) and candidates (a min-heap, best on top), and
 * brute force's top k. One implementation for all of them, so every path
 * breaks ties the same way (by slot, which is id order). In a header, as
 * PV_HEAP_FN functions: the beam search spends a fifth of its
 * instructions here, and calls across files cost 2 % more per query (the
 * callgrind gate).
 *
 * PV_HEAP_OUTLINE (the WebAssembly build, wasm/wasm.mk, built for size):
 * the same functions, declared here and defined once, in heap.c, instead
 * of a copy inlined into each caller (search, insert, compact, exact):
 * 190 B gzip less.
 */
#ifndef PV_HEAP_H
#define PV_HEAP_H

#include "core.h"

#if defined(PV_HEAP_OUTLINE) && !defined(PV_HEAP_DEFINE)
void pv__maxheap_push(pv_pair *h, uint32_t *n, pv_pair x);
void pv__maxheap_sift_down(pv_pair *h, uint32_t n, uint32_t i);
void pv__maxheap_sort(pv_pair *h, uint32_t n);
void pv__sort_pairs(pv_pair *p, size_t n);
void pv__minheap_sift_up(pv_pair *h, uint32_t i, pv_pair x);
void pv__minheap_sift_down_from(pv_pair *h, uint32_t n, uint32_t i, pv_pair x);
pv_pair pv__minheap_pop(pv_pair *h, uint32_t *n);
void pv__minheap_build(pv_pair *h, uint32_t n);
void pv__topk_offer(pv_pair *h, uint32_t *n, uint32_t k, pv_pair x);
#else
#ifdef PV_HEAP_OUTLINE
#define PV_HEAP_FN /* heap.c: the one copy */
#else
#define PV_HEAP_FN static inline
#endif

PV_HEAP_FN void pv__maxheap_push(pv_pair *h, uint32_t *n, pv_pair x) {
  uint32_t i = (*n)++;
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (!pv__less(h[p], x)) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = x;
}

PV_HEAP_FN void pv__maxheap_sift_down(pv_pair *h, uint32_t n, uint32_t i) {
  pv_pair x = h[i];
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && pv__less(h[c], h[c + 1])) c++;
    if (!pv__less(x, h[c])) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = x;
}

PV_HEAP_FN void pv__maxheap_sort(pv_pair *h, uint32_t n) {
  while (n > 1) {
    pv_pair t = h[0];
    h[0] = h[n - 1];
    h[n - 1] = t;
    pv__maxheap_sift_down(h, --n, 0);
  }
}

PV_HEAP_FN void pv__sort_pairs(pv_pair *p, size_t n) {
  for (size_t i = n / 2; i-- > 0;) pv__maxheap_sift_down(p, (uint32_t)n, (uint32_t)i);
  pv__maxheap_sort(p, (uint32_t)n);
}

PV_HEAP_FN void pv__minheap_sift_up(pv_pair *h, uint32_t i, pv_pair x) {
  while (i > 0) {
    uint32_t p = (i - 1) / 2;
    if (!pv__less(x, h[p])) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = x;
}

PV_HEAP_FN void pv__minheap_sift_down_from(pv_pair *h, uint32_t n, uint32_t i, pv_pair x) {
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && pv__less(h[c + 1], h[c])) c++;
    if (!pv__less(h[c], x)) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = x;
}

PV_HEAP_FN pv_pair pv__minheap_pop(pv_pair *h, uint32_t *n) {
  pv_pair top = h[0];
  pv_pair x = h[--(*n)];
  if (*n) pv__minheap_sift_down_from(h, *n, 0, x);
  return top;
}

PV_HEAP_FN void pv__minheap_build(pv_pair *h, uint32_t n) {
  for (uint32_t i = n / 2; i-- > 0;) pv__minheap_sift_down_from(h, n, i, h[i]);
}

/* Keep the best k of a stream in a max-heap of room k; *n counts up to k. */
PV_HEAP_FN void pv__topk_offer(pv_pair *h, uint32_t *n, uint32_t k, pv_pair x) {
  if (*n < k) {
    pv__maxheap_push(h, n, x);
  } else if (pv__less(x, h[0])) {
    h[0] = x;
    pv__maxheap_sift_down(h, *n, 0);
  }
}

#endif /* PV_HEAP_OUTLINE && !PV_HEAP_DEFINE */
#endif /* PV_HEAP_H */
