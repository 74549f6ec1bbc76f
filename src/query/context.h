/* SPDX-License-Identifier: MIT */
/*
 * Search contexts: the scratch of one search or one insert (visit marks,
 * the beam's heaps, the prepared query, an insert's plan), kept out of the
 * index so that several threads can search one index at once.
 *
 * The index keeps a small pool of contexts. A call takes one (an atomic
 * exchange on a pool slot), uses it, and puts it back (an atomic
 * compare-and-swap into a free slot, or frees it when the pool is full).
 * On one thread the same context goes round and round, so a search
 * allocates nothing once the first has sized it; writes size the pooled
 * context for the slots they add, so the next search does not have to.
 */
#ifndef PV_CONTEXT_H
#define PV_CONTEXT_H

#include "codec/codec.h"
#include "core/core.h"

#define PV_POOL_SIZE 4
#define PV_MAX_LEVEL 15 /* levels 0..15: P(level > 15) = m^-16 */

typedef struct pv_ctx {
  uint16_t *visit; /* [vcap] visit epochs */
  uint32_t vcap;
  uint16_t epoch;
  pv_pair *scratch;   /* one block of 3 * heap_cap pairs: */
  pv_pair *W;         /*   results, a max-heap */
  pv_pair *C;         /*   candidates, a min-heap */
  pv_pair *sel;       /*   neighbour selection and sorted output */
  uint32_t heap_cap;  /* = ef + m0 + 1 for the largest ef so far */
  float *qf;          /* [dim] a normalised vector */
  void *qcode;        /* the codec's code of a prepared query */
  void *qparam;       /* and its parameters */
  uint32_t *plan;     /* an insert's planned links: m per layer */
  uint32_t twin;      /* and the copy whose ring it joins, or PV_NONE */
  uint64_t *bits;     /* a filtered search's bitmaps over ids */
  size_t bits_cap;    /* their words */
} pv_ctx;

/* A context sized for beam width ef and visit marks for `slots` slots (the
 * slots in use for a walk of the graph; 0 for brute force, which visits
 * nothing). NULL on PV_NOMEM (the caller sets the message). Safe to call
 * from concurrent readers. */
pv_ctx *pv__ctx_acquire(pv_index *idx, uint32_t ef, uint32_t slots);
/* Make c hold a beam of ef and visit marks for `slots` slots. PV_OK/PV_NOMEM
 * (c unchanged apart from more room). */
int pv__ctx_reserve(pv_index *idx, pv_ctx *c, uint32_t ef, uint32_t slots);
/* Make c hold `words` words of bitmaps. PV_OK/PV_NOMEM. */
int pv__ctx_bits(pv_index *idx, pv_ctx *c, size_t words);
/* Give c back to the pool (or free it if the pool is full). NULL: no-op. */
void pv__ctx_release(pv_index *idx, pv_ctx *c);
/* Free every pooled context (pv_free), or shrink their visit marks to
 * `slots` (compaction). Writers only. */
void pv__ctx_free_all(pv_index *idx);
void pv__ctx_shrink_all(pv_index *idx, uint32_t slots);

/* Start a new visit epoch: afterwards no slot counts as visited. */
static inline void pv__visit_reset(pv_ctx *c) {
  if (++c->epoch == 0) {
    for (uint32_t i = 0; i < c->vcap; i++) c->visit[i] = 0;
    c->epoch = 1;
  }
}
/* Mark slot s visited; 1 if it already was. */
static inline int pv__visit(pv_ctx *c, uint32_t s) {
  if (c->visit[s] == c->epoch) return 1;
  c->visit[s] = c->epoch;
  return 0;
}

#endif /* PV_CONTEXT_H */
