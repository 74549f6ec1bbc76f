/* SPDX-License-Identifier: MIT */
/*
 * Sparse id sets (idset.h).
 */
#include <string.h>

#include "idset.h"

int pv__idset_reserve(pv_index *idx, pv_idset *s, uint32_t lo, uint32_t hi) {
  uint32_t first = lo >> PV_IDSET_SHIFT, last = hi >> PV_IDSET_SHIFT;
  if (lo > hi) return PV_OK;
  if (last >= s->npage) {
    /* Grow the table by half at least, so ids issued one by one do not
     * reallocate it each time; never past the page of id UINT32_MAX. */
    uint64_t want = (uint64_t)last + 1, cap = (uint64_t)s->npage + s->npage / 2;
    if (cap < want) cap = want;
    if (cap > ((uint64_t)UINT32_MAX >> PV_IDSET_SHIFT) + 1) cap = ((uint64_t)UINT32_MAX >> PV_IDSET_SHIFT) + 1;
    uint64_t **t = pv__realloc(idx, s->page, sizeof(uint64_t *) * s->npage,
                               sizeof(uint64_t *) * (size_t)cap);
    if (!t) return PV_NOMEM;
    for (uint64_t i = s->npage; i < cap; i++) t[i] = NULL;
    s->page = t;
    s->npage = (uint32_t)cap;
  }
  for (uint32_t p = first; p <= last; p++) {
    if (s->page[p]) continue;
    uint64_t *w = pv__malloc(idx, 8 * PV_IDSET_WORDS);
    if (!w) return PV_NOMEM;
    memset(w, 0, 8 * PV_IDSET_WORDS);
    s->page[p] = w;
  }
  return PV_OK;
}

void pv__idset_free(pv_index *idx, pv_idset *s) {
  for (uint32_t p = 0; p < s->npage; p++) pv__free(idx, s->page[p], 8 * PV_IDSET_WORDS);
  pv__free(idx, s->page, sizeof(uint64_t *) * s->npage);
  s->page = NULL;
  s->npage = 0;
}
