/* SPDX-License-Identifier: MIT */
/*
 * The pool of search contexts (see context.h for why).
 */
#include <string.h>

#include "index.h"

/* A prepared query: a code, or more where the codec walks by its own. */
static size_t qbytes(const pv_index *idx) {
  return idx->codec->query_bytes ? idx->codec->query_bytes(idx->dim) : idx->st.vbytes;
}

static size_t heap_bytes(uint32_t cap) { return sizeof(pv_pair) * 3 * (size_t)cap; }
static size_t plan_words(const pv_index *idx) { return (size_t)(PV_MAX_LEVEL + 1) * (1 + idx->g.m); }

static void ctx_free(pv_index *idx, pv_ctx *c) {
  if (!c) return;
  pv__free(idx, c->visit, sizeof(uint16_t) * c->vcap);
  pv__free(idx, c->scratch, heap_bytes(c->heap_cap));
  pv__free(idx, c->qf, sizeof(float) * idx->dim);
  pv__free(idx, c->qcode, qbytes(idx));
  if (c->qparam) pv__free(idx, c->qparam, idx->codec->param_bytes);
  pv__free(idx, c->plan, sizeof(uint32_t) * plan_words(idx));
  pv__free(idx, c->bits, sizeof(uint64_t) * c->bits_cap);
  pv__free(idx, c, sizeof *c);
}

static pv_ctx *ctx_new(pv_index *idx) {
  pv_ctx *c = pv__malloc(idx, sizeof *c);
  if (!c) return NULL;
  memset(c, 0, sizeof *c);
  c->epoch = 1;
  c->qf = pv__malloc(idx, sizeof(float) * idx->dim);
  c->qcode = pv__malloc(idx, qbytes(idx));
  if (idx->codec->param_bytes) c->qparam = pv__malloc(idx, idx->codec->param_bytes);
  c->plan = pv__malloc(idx, sizeof(uint32_t) * plan_words(idx));
  if (!c->qf || !c->qcode || (idx->codec->param_bytes && !c->qparam) || !c->plan) {
    ctx_free(idx, c);
    return NULL;
  }
  return c;
}

int pv__ctx_reserve(pv_index *idx, pv_ctx *c, uint32_t ef, uint32_t slots) {
  uint32_t want = ef + idx->g.m0 + 1;
  if (want > c->heap_cap) {
    /* One block, so growth either happens entirely or not at all. */
    pv_pair *p = pv__realloc(idx, c->scratch, heap_bytes(c->heap_cap), heap_bytes(want));
    if (!p) return PV_NOMEM;
    c->scratch = p;
    c->W = p;
    c->C = p + want;
    c->sel = p + 2 * (size_t)want;
    c->heap_cap = want;
  }
  if (slots > c->vcap) {
    uint32_t cap = c->vcap + c->vcap / 2 > slots ? c->vcap + c->vcap / 2 : slots;
    if (cap < 16) cap = 16;
    if ((uint64_t)cap * sizeof(uint16_t) > SIZE_MAX) return PV_NOMEM;
    uint16_t *v = pv__realloc(idx, c->visit, sizeof(uint16_t) * c->vcap, sizeof(uint16_t) * cap);
    if (!v && cap > slots) {
      cap = slots;
      v = pv__realloc(idx, c->visit, sizeof(uint16_t) * c->vcap, sizeof(uint16_t) * cap);
    }
    if (!v) return PV_NOMEM;
    memset(v + c->vcap, 0, sizeof(uint16_t) * (cap - c->vcap));
    c->visit = v;
    c->vcap = cap;
  }
  return PV_OK;
}

pv_ctx *pv__ctx_acquire(pv_index *idx, uint32_t ef, uint32_t slots) {
  pv_ctx *c = NULL;
  for (int i = 0; i < PV_POOL_SIZE && !c; i++)
    c = __atomic_exchange_n(&idx->pool[i], NULL, __ATOMIC_ACQUIRE);
  if (!c && !(c = ctx_new(idx))) return NULL;
  if (pv__ctx_reserve(idx, c, ef, slots) != PV_OK) {
    pv__ctx_release(idx, c);
    return NULL;
  }
  return c;
}

void pv__ctx_release(pv_index *idx, pv_ctx *c) {
  if (!c) return;
  for (int i = 0; i < PV_POOL_SIZE; i++) {
    pv_ctx *none = NULL;
    if (__atomic_compare_exchange_n(&idx->pool[i], &none, c, 0, __ATOMIC_RELEASE,
                                    __ATOMIC_RELAXED))
      return;
  }
  ctx_free(idx, c);
}

void pv__ctx_free_all(pv_index *idx) {
  for (int i = 0; i < PV_POOL_SIZE; i++) {
    ctx_free(idx, idx->pool[i]);
    idx->pool[i] = NULL;
  }
}

void pv__ctx_shrink_all(pv_index *idx, uint32_t slots) {
  if (slots < 16) slots = 16;
  for (int i = 0; i < PV_POOL_SIZE; i++) {
    pv_ctx *c = idx->pool[i];
    if (!c || c->vcap <= slots) continue;
    uint16_t *v = pv__realloc(idx, c->visit, sizeof(uint16_t) * c->vcap, sizeof(uint16_t) * slots);
    if (v) {
      c->visit = v;
      c->vcap = slots;
    }
  }
}

int pv__ctx_bits(pv_index *idx, pv_ctx *c, size_t words) {
  if (words <= c->bits_cap) return PV_OK;
  uint64_t *b = pv__malloc(idx, sizeof(uint64_t) * words);
  if (!b) return PV_NOMEM;
  pv__free(idx, c->bits, sizeof(uint64_t) * c->bits_cap);
  c->bits = b;
  c->bits_cap = words;
  return PV_OK;
}
