/*
 * pv_check: the library's own validator of every structural invariant. The
 * tests run it after every batch of random operations; users can run it
 * after loading data they do not trust.
 */
#include "internal.h"

#define BAD(...) return pv__error(idx, PV_CORRUPT, __VA_ARGS__)

int pv_check(pv_index *idx) {
  uint32_t n = idx->n, live = 0;
  if (n > idx->cap) BAD("the index is corrupt: %u slots in use but room for %u", n, idx->cap);
  for (uint32_t s = 0; s < n; s++) {
    if (idx->flags[s] & ~PV_SLOT_DELETED) BAD("the index is corrupt: slot %u has unknown flags", s);
    if (!(idx->flags[s] & PV_SLOT_DELETED)) live++;
    if (s > 0 && idx->slot_id[s] <= idx->slot_id[s - 1])
      BAD("the index is corrupt: ids are not ascending at slot %u", s);
    if (idx->slot_id[s] >= idx->next_id)
      BAD("the index is corrupt: slot %u has id %u, which was never issued", s, idx->slot_id[s]);
    if ((int)idx->level[s] > idx->max_level || idx->level[s] > PV_MAX_LEVEL)
      BAD("the index is corrupt: slot %u is on level %u, above the top level", s,
          (unsigned)idx->level[s]);
    if ((idx->level[s] > 0) != (idx->upper[s] != NULL))
      BAD("the index is corrupt: slot %u has level %u but %s upper links", s,
          (unsigned)idx->level[s], idx->upper[s] ? "has" : "no");
  }
  if (live != idx->live)
    BAD("the index is corrupt: %u live slots but the count says %u", live, idx->live);
  if (n == 0) {
    if (idx->entry != PV_NONE) BAD("the index is corrupt: an empty index has an entry point");
    return pv__error(idx, PV_OK, NULL);
  }
  if (idx->entry >= n) BAD("the index is corrupt: entry point %u is not a slot", idx->entry);
  if ((int)idx->level[idx->entry] != idx->max_level)
    BAD("the index is corrupt: entry point %u is on level %u, not on the top level %d",
        idx->entry, (unsigned)idx->level[idx->entry], idx->max_level);

  for (uint32_t s = 0; s < n; s++) {
    for (int l = 0; l <= idx->level[s]; l++) {
      const uint32_t *ln = pv__links(idx, s, l);
      if (ln[0] > pv__maxlinks(idx, l))
        BAD("the index is corrupt: slot %u has %u links on level %d, more than %u", s, ln[0],
            l, pv__maxlinks(idx, l));
      pv__visit_reset(idx);
      for (uint32_t i = 1; i <= ln[0]; i++) {
        uint32_t t = ln[i];
        if (t >= n) BAD("the index is corrupt: slot %u links to freed slot %u on level %d", s, t, l);
        if (t == s) BAD("the index is corrupt: slot %u links to itself on level %d", s, l);
        if (idx->level[t] < l)
          BAD("the index is corrupt: slot %u links on level %d to slot %u, which is on level %u",
              s, l, t, (unsigned)idx->level[t]);
        if (pv__visited(idx, t))
          BAD("the index is corrupt: slot %u links twice to slot %u on level %d", s, t, l);
      }
    }
  }
  return pv__error(idx, PV_OK, NULL);
}
