/* SPDX-License-Identifier: MIT */
/*
 * A set of ids as a bitmap in pages of 32768 ids (4 KB), each allocated
 * when an id in it first enters. Ids are stable and never reused, so an
 * index's ids can be sparse (years of upserts, or a file that says its
 * first live id is 4e9): a flat bitmap over every id ever issued would
 * cost memory in proportion to the history, not to the documents, and a
 * 16 KB file could ask for 512 MB. Here the cost is one pointer per 32768
 * ids up to the highest id in the set, plus one page per run of ids that
 * holds members: at most 1 MB of pointers and 4 KB per member.
 */
#ifndef PV_IDSET_H
#define PV_IDSET_H

#include "core.h"

#define PV_IDSET_SHIFT 15 /* ids per page: 1 << PV_IDSET_SHIFT */
#define PV_IDSET_WORDS ((1u << PV_IDSET_SHIFT) / 64)

typedef struct pv_idset {
  uint64_t **page; /* [npage]: NULL where no id of the page was ever added */
  uint32_t npage;
} pv_idset;

static inline int pv__idset_has(const pv_idset *s, uint32_t id) {
  uint32_t p = id >> PV_IDSET_SHIFT;
  const uint64_t *w = p < s->npage ? s->page[p] : NULL;
  return w && (w[(id >> 6) & (PV_IDSET_WORDS - 1)] >> (id & 63) & 1);
}

/* Make room for ids lo .. hi (inclusive) so that pv__idset_put cannot
 * fail for them: PV_OK or PV_NOMEM (the set unchanged as a set; pages
 * already made stay). */
int pv__idset_reserve(pv_index *idx, pv_idset *s, uint32_t lo, uint32_t hi);

/* Add (on = 1) or remove id. Adding needs the room of pv__idset_reserve;
 * removing an id that is not there does nothing. */
static inline void pv__idset_put(pv_idset *s, uint32_t id, int on) {
  uint32_t p = id >> PV_IDSET_SHIFT;
  if (p >= s->npage || !s->page[p]) return;
  uint64_t *w = &s->page[p][(id >> 6) & (PV_IDSET_WORDS - 1)], bit = 1ull << (id & 63);
  *w = on ? *w | bit : *w & ~bit;
}

/* Release every page and the page table; the set is empty after. */
void pv__idset_free(pv_index *idx, pv_idset *s);

#endif
