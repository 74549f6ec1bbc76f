/* SPDX-License-Identifier: MIT */
/*
 * The library's own checker of every structural invariant, and of
 * reachability. The tests run it after every batch of random operations;
 * the loader runs the structural part on every file; users can run it
 * after loading data they do not trust.
 */
#include <string.h>

#include "index.h"

#define BAD(...) return pv__error(idx, PV_CORRUPT, __VA_ARGS__)

#define PV_CHECK_RANGE 4096

/* The links of one list seen so far, to find one linked twice: a table of
 * the list's own, which stays in the cache (a list holds at most 2 * 128
 * links, so 512 places are never more than half full). Marks in a table as
 * large as the index would cost a cache miss per link, and a load checks
 * every link. */
#define PV_DUP_SLOTS 512
typedef struct {
  uint32_t key[PV_DUP_SLOTS], stamp[PV_DUP_SLOTS], now;
} dup_set;

static void dup_reset(dup_set *d) {
  if (++d->now == 0) {
    memset(d->stamp, 0, sizeof d->stamp);
    d->now = 1;
  }
}

/* Adds t; 1 if it was there already. */
static int dup_add(dup_set *d, uint32_t t) {
  uint32_t h = (t * 0x9E3779B1u) >> 23;
  for (; d->stamp[h] == d->now; h = (h + 1) & (PV_DUP_SLOTS - 1))
    if (d->key[h] == t) return 1;
  d->stamp[h] = d->now;
  d->key[h] = t;
  return 0;
}

/* Slots [s0, s1): their bookkeeping (live ones counted into *live, those
 * in rings of copies into *twins), then
 * every link: in range, not to itself, to a slot on its level, none twice
 * in a list; with `file`, the words after a list's links are zero too (a
 * file holds them so; in memory they are left as they fall). One
 * pass over a range does both while its lists are in the cache. Called a
 * range at a time and never inlined: a WebAssembly engine swaps in
 * optimised code only at a function's next call, and the first load in a
 * page would otherwise check a million slots in the baseline tier. */
__attribute__((noinline)) static int check_range(pv_index *idx, dup_set *d, uint32_t s0,
                                                 uint32_t s1, int file, uint32_t *live,
                                                 uint32_t *twins) {
  uint32_t n = idx->st.n;
  uint32_t **up = pv__upper(idx);
  for (uint32_t s = s0; s < s1; s++) {
    uint8_t f = pv__flags(idx)[s];
    if (f & ~PV_SLOT_DELETED) BAD("the index is corrupt: slot %u has unknown flags", s);
    if (!(f & PV_SLOT_DELETED)) ++*live;
    if (pv__twin(idx, s) != PV_NONE) ++*twins;
    if (s > 0 && pv__id(idx, s) <= pv__id(idx, s - 1))
      BAD("the index is corrupt: ids are not ascending at slot %u", s);
    if (pv__id(idx, s) >= idx->next_id)
      BAD("the index is corrupt: slot %u has id %u, which was never issued", s, pv__id(idx, s));
    int lv = pv__level(idx, s);
    if (lv > idx->g.max_level || lv > PV_MAX_LEVEL)
      BAD("the index is corrupt: slot %u is on level %u, above the top level", s, (unsigned)lv);
    if ((lv > 0) != (up[s] != NULL))
      BAD("the index is corrupt: slot %u has level %u but %s upper links", s, (unsigned)lv,
          up[s] ? "has" : "no");
  }
  for (uint32_t s = s0; s < s1; s++) {
    for (int l = 0; l <= pv__level(idx, s); l++) {
      const uint32_t *ln = pv__links(idx, s, l);
      if (ln[0] > pv__maxlinks(idx, l))
        BAD("the index is corrupt: slot %u has %u links on level %d, more than %u", s, ln[0], l,
            pv__maxlinks(idx, l));
      if (file)
        for (uint32_t j = ln[0] + 1; j <= pv__maxlinks(idx, l); j++)
          if (ln[j])
            BAD("the index is corrupt: slot %u has data after its %u links on level %d", s, ln[0], l);
      dup_reset(d);
      for (uint32_t i = 1; i <= ln[0]; i++) {
        uint32_t t = ln[i];
        if (t >= n) BAD("the index is corrupt: slot %u links to freed slot %u on level %d", s, t, l);
        if (t == s) BAD("the index is corrupt: slot %u links to itself on level %d", s, l);
        if (l > 0 && pv__level(idx, t) < l)
          BAD("the index is corrupt: slot %u links on level %d to slot %u, which is on level %u",
              s, l, t, (unsigned)pv__level(idx, t));
        if (dup_add(d, t))
          BAD("the index is corrupt: slot %u links twice to slot %u on level %d", s, t, l);
      }
    }
  }
  return PV_OK;
}

/* Rings of exact copies (graph.h): each member's next is another member
 * holding the same vector, and no slot is the next of two, so (as many
 * nexts as members) the rings are cycles. The visit marks are taken at the
 * first member found: most indexes have none. `counted`: the members
 * check_range saw (none: no slot to walk). */
static int check_twins(pv_index *idx, uint32_t counted) {
  uint32_t n = idx->st.n, twins = 0;
  if (!counted && !idx->g.twins) return PV_OK; /* no member anywhere: nothing to walk */
  pv_ctx *c = NULL;
  int rc = PV_OK;
  for (uint32_t s = 0; s < n && !rc; s++) {
    uint32_t t = pv__twin(idx, s);
    if (t == PV_NONE) continue;
    twins++;
    if (!c) {
      if (!(c = pv__ctx_acquire(idx, 0, n)))
        return pv__error(idx, PV_NOMEM, "out of memory checking the index");
      pv__visit_reset(c);
    }
    pv_ref r = pv__ref(idx, s);
    if (t >= n || t == s || pv__twin(idx, t) == PV_NONE)
      rc = pv__error(idx, PV_CORRUPT, "the index is corrupt: slot %u's next copy %u is not "
                     "another slot of a ring", s, t);
    else if (pv__visit(c, t))
      rc = pv__error(idx, PV_CORRUPT, "the index is corrupt: slot %u is the next copy of two "
                     "slots", t);
    else if (!pv__same(idx, &r, t))
      rc = pv__error(idx, PV_CORRUPT, "the index is corrupt: slot %u and its next copy %u hold "
                     "different vectors", s, t);
  }
  if (c) pv__ctx_release(idx, c);
  if (!rc && twins != idx->g.twins)
    BAD("the index is corrupt: %u slots are in rings of copies but the count says %u", twins,
        idx->g.twins);
  return rc;
}

/* Everything but reachability: bookkeeping, levels, every link, rings;
 * with `file`, a loaded file's zero padding of layer-0 lists as well. */
static int check_structure(pv_index *idx, int file) {
  uint32_t n = idx->st.n, live = 0, twins = 0;
  if (n > idx->st.cap) BAD("the index is corrupt: %u slots in use but room for %u", n, idx->st.cap);
  if (n && idx->g.entry >= n) BAD("the index is corrupt: entry point %u is not a slot", idx->g.entry);
  /* A range at a time (check_range says why); the last range is a second
   * call site, so that Binaryen does not inline its only caller's call. */
  dup_set d; /* 4 KB of stack: pv_check allocates nothing (the fault tests rely on it) */
  memset(d.stamp, 0, sizeof d.stamp);
  d.now = 0;
  uint32_t s = 0;
  int rc = PV_OK;
  for (; n - s > PV_CHECK_RANGE && !rc; s += PV_CHECK_RANGE)
    rc = check_range(idx, &d, s, s + PV_CHECK_RANGE, file, &live, &twins);
  if (!rc) rc = check_range(idx, &d, s, n, file, &live, &twins);
  if (rc) return rc;
  if (live != idx->live)
    BAD("the index is corrupt: %u live slots but the count says %u", live, idx->live);
  rc = pv__docs_check(idx);
  if (!rc) rc = pv__text_check(idx);
  if (rc) return rc;
  if (n == 0) {
    if (idx->g.entry != PV_NONE) BAD("the index is corrupt: an empty index has an entry point");
    return PV_OK;
  }
  if ((int)pv__level(idx, idx->g.entry) != idx->g.max_level)
    BAD("the index is corrupt: entry point %u is on level %u, not on the top level %d",
        idx->g.entry, (unsigned)pv__level(idx, idx->g.entry), idx->g.max_level);
  return check_twins(idx, twins);
}

/* Reachability: a search's walk of layer 0 starts where its descent
 * through the upper layers ends, which is the entry point or some node
 * above layer 0, and follows links and rings of copies, through tombstones
 * too. So a live node that no such walk from any of those can reach is a
 * vector no search will ever find, even though every link is valid. One
 * breadth-first walk from all of those starts at once marks the others. */
static inline void see(pv_reach *r, uint32_t s) {
  if (r->seen[s >> 6] >> (s & 63) & 1) return;
  r->seen[s >> 6] |= 1ull << (s & 63);
  r->queue[r->tail++] = s;
}

void pv__reach_start(const pv_index *idx, pv_reach *r) {
  memset(r->seen, 0, 8 * (((size_t)idx->st.n + 63) / 64));
  r->tail = 0;
  for (uint32_t s = 0; s < idx->st.n; s++)
    if (s == idx->g.entry || pv__level(idx, s) > 0) see(r, s);
  pv__reach_from(idx, r, 0);
}

void pv__reach_from(const pv_index *idx, pv_reach *r, uint32_t head) {
  while (head < r->tail) {
    uint32_t s = r->queue[head++], t = pv__twin(idx, s);
    const uint32_t *ln = pv__links(idx, s, 0);
    for (uint32_t i = 1; i <= ln[0]; i++) see(r, ln[i]);
    if (t != PV_NONE) see(r, t);
  }
}

void pv__reach_add(const pv_index *idx, pv_reach *r, uint32_t s) {
  uint32_t head = r->tail;
  see(r, s);
  pv__reach_from(idx, r, head);
}

int pv__reach_open(pv_index *idx, pv_reach *r) {
  size_t n = idx->st.n;
  r->seen = pv__malloc(idx, 8 * ((n + 63) / 64));
  r->queue = pv__malloc(idx, sizeof(uint32_t) * n);
  if (r->seen && r->queue) return PV_OK;
  pv__reach_close(idx, r);
  return PV_NOMEM;
}

void pv__reach_close(pv_index *idx, pv_reach *r) {
  size_t n = idx->st.n;
  pv__free(idx, r->seen, 8 * ((n + 63) / 64));
  pv__free(idx, r->queue, sizeof(uint32_t) * n);
  r->seen = NULL;
  r->queue = NULL;
}

int pv__check_structure(pv_index *idx, int file) { return check_structure(idx, file); }

int pv_check(pv_index *idx) {
  if (!idx) return pv__error_null(NULL, PV_MISUSE, "the index is NULL");
  int rc = pv__check_structure(idx, 0);
  if (!rc && idx->codec->check) rc = idx->codec->check(idx);
  return rc ? rc : pv__error(idx, PV_OK, NULL);
}

int pv_check_reachable(pv_index *idx, size_t *unreachable) {
  if (!idx || !unreachable)
    return pv__error_null(idx, PV_MISUSE, "the index or unreachable is NULL");
  *unreachable = 0;
  int rc = pv__check_structure(idx, 0);
  if (rc || idx->st.n == 0) return rc ? rc : pv__error(idx, PV_OK, NULL);
  pv_reach r;
  if (pv__reach_open(idx, &r)) return pv__error(idx, PV_NOMEM, "out of memory checking reachability");
  pv__reach_start(idx, &r);
  for (uint32_t s = 0; s < idx->st.n; s++) *unreachable += pv__is_live(idx, s) && !pv__reached(&r, s);
  pv__reach_close(idx, &r);
  return pv__error(idx, PV_OK, NULL);
}
