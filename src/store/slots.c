/* SPDX-License-Identifier: MIT */
/*
 * Slot storage: the columns of the registry and the blocks of codes and
 * layer-0 links; their growth, shrinking, compaction moves and borrowing.
 */
#include <string.h>

#include "index.h"

void pv__store_init(pv_index *idx, size_t vbytes, size_t lwords) {
  pv_store *st = &idx->st;
  for (int c = 0; c < PV_COL_COUNT; c++) st->col[c].esize = pv_columns[c].esize(idx);
  st->vbytes = vbytes;
  st->lwords = lwords;
  st->bshift = PV_BLOCK_MAX_SHIFT;
  while (st->bshift > 0 && (vbytes << st->bshift) > PV_BLOCK_BYTES) st->bshift--;
}

/* Layout of a block of `slots` slots: codes, then the link lists at the
 * next multiple of 64 bytes (codes of an odd dim would misalign them). */
static size_t links_offset(const pv_store *st, uint32_t slots) {
  return (st->vbytes * slots + 63) & ~(size_t)63;
}
static size_t block_bytes(const pv_store *st, uint32_t slots) {
  return links_offset(st, slots) + sizeof(uint32_t) * st->lwords * slots;
}
static size_t full_block_bytes(const pv_store *st) { return block_bytes(st, 1u << st->bshift); }

uint32_t pv__block_slots(const pv_index *idx, uint32_t b) {
  return b + 1 == idx->st.nblk ? idx->st.last : 1u << idx->st.bshift;
}

uint32_t pv__block_used(const pv_index *idx, uint32_t b) {
  uint32_t base = b << idx->st.bshift, room = pv__block_slots(idx, b);
  return idx->st.n - base < room ? idx->st.n - base : room;
}

/* Free block b (a borrowed one lives in the loaded buffer: nothing to free). */
static void free_block(pv_index *idx, uint32_t b) {
  pv_store *st = &idx->st;
  if (b >= st->nborrow)
    pv__free(idx, st->blk[b].v, b + 1 == st->nblk ? st->last_bytes : full_block_bytes(st));
}

void pv__store_free(pv_index *idx) {
  pv_store *st = &idx->st;
  for (int c = 0; c < PV_COL_COUNT; c++)
    pv__free(idx, st->col[c].base, st->col[c].esize * st->col[c].cap);
  for (uint32_t b = 0; b < st->nblk; b++) free_block(idx, b);
  if (st->taken) pv__free(idx, st->taken, st->taken_size);
  pv__free(idx, st->blk, sizeof(pv_block) * st->ntab);
}

int pv__store_materialize(pv_index *idx, uint32_t from) {
  pv_store *st = &idx->st;
  /* Blocks read from a buffer the index owns (taken) may be written where
   * they are; only the last one, which grows and shrinks, needs its own
   * allocation. Copying them all would double the index in memory at the
   * first write after a load, and make replaying a change log cost a copy
   * of the whole index. */
  if (st->taken && st->nblk && from < st->nblk - 1) from = st->nblk - 1;
  while (st->nborrow > from) {
    uint32_t b = st->nborrow - 1, slots = pv__block_slots(idx, b);
    size_t bytes = block_bytes(st, slots), lbytes = sizeof(uint32_t) * st->lwords * slots;
    uint8_t *v = pv__malloc(idx, bytes);
    if (!v) return PV_NOMEM;
    memcpy(v, st->blk[b].v, st->vbytes * slots);
    memcpy(v + links_offset(st, slots), st->blk[b].l, lbytes);
    st->blk[b].v = v;
    st->blk[b].l = (uint32_t *)(v + links_offset(st, slots));
    if (b + 1 == st->nblk) st->last_bytes = bytes;
    st->nborrow = b;
  }
  if (st->nborrow == 0 && st->taken && !idx->jr.depth) { /* a replay's load may yet fail (read.c) */
    /* Nothing reads the loaded buffer any more. */
    pv__free(idx, st->taken, st->taken_size);
    st->taken = NULL;
  }
  return PV_OK;
}

int pv__store_borrow(pv_index *idx, const uint8_t *codes, const uint8_t *links, uint32_t n) {
  pv_store *st = &idx->st;
  uint32_t full = 1u << st->bshift, nb = (n + full - 1) >> st->bshift;
  st->blk = pv__malloc(idx, sizeof(pv_block) * nb);
  if (!st->blk) return PV_NOMEM;
  st->ntab = st->nblk = st->nborrow = nb;
  st->last = n - ((nb - 1) << st->bshift);
  for (uint32_t k = 0; k < nb; k++) {
    st->blk[k].v = (uint8_t *)(uintptr_t)(codes + (size_t)k * full * st->vbytes);
    st->blk[k].l = (uint32_t *)(uintptr_t)(links + (size_t)k * full * st->lwords * 4);
  }
  return PV_OK;
}

/* Resize the last block to `slots` (>= the slots in use in it), moving its
 * link lists to their new offset. PV_OK, or PV_NOMEM with nothing changed.
 * A shrink whose realloc fails keeps the larger allocation, which is fine:
 * last_bytes says what is really allocated. */
static int resize_last(pv_index *idx, uint32_t slots) {
  pv_store *st = &idx->st;
  pv_block *b = &st->blk[st->nblk - 1];
  size_t old_off = links_offset(st, st->last), new_off = links_offset(st, slots);
  size_t keep = sizeof(uint32_t) * st->lwords * (slots < st->last ? slots : st->last);
  size_t bytes = block_bytes(st, slots);
  if (slots < st->last) {
    memmove(b->v + new_off, b->v + old_off, keep);
    uint8_t *v = pv__realloc(idx, b->v, st->last_bytes, bytes);
    if (v) {
      b->v = v;
      st->last_bytes = bytes;
    }
  } else {
    uint8_t *v = pv__realloc(idx, b->v, st->last_bytes, bytes);
    if (!v) return PV_NOMEM;
    b->v = v;
    st->last_bytes = bytes;
    memmove(b->v + new_off, b->v + old_off, keep);
  }
  b->l = (uint32_t *)(b->v + new_off);
  st->last = slots;
  return PV_OK;
}

/* Slots the blocks can hold. */
static uint64_t block_room(const pv_store *st) {
  return st->nblk ? ((uint64_t)(st->nblk - 1) << st->bshift) + st->last : 0;
}

static void update_cap(pv_store *st) {
  uint64_t room = block_room(st);
  uint32_t cap = room > UINT32_MAX ? UINT32_MAX : (uint32_t)room;
  for (int c = 0; c < PV_COL_COUNT; c++)
    if (st->col[c].esize && st->col[c].cap < cap) cap = st->col[c].cap;
  st->cap = cap;
}

/* The columns grow geometrically, each on its own and with its own
 * recorded capacity, so a failure half-way leaves some larger than `cap`:
 * harmless, and the byte accounting stays exact. The blocks get exactly
 * what they need. cap only moves once everything has room. */
int pv__store_reserve(pv_index *idx, uint32_t need) {
  pv_store *st = &idx->st;
  if (need <= st->cap) return PV_OK;
  uint32_t want = st->cap + st->cap / 2;
  if (want < need) want = need;
  if (want < 16) want = 16;
  for (int c = 0; c < PV_COL_COUNT; c++) {
    pv_column *col = &st->col[c];
    size_t es = col->esize;
    if (es == 0 || col->cap >= need) continue;
    /* On wasm32 a size_t is 32 bits: a product that does not fit must fail
     * here, not wrap into a smaller array than the capacity recorded. */
    if (need > SIZE_MAX / es) return PV_NOMEM;
    uint32_t target = want > SIZE_MAX / es ? need : want;
    void *q = pv__realloc(idx, col->base, es * col->cap, es * (size_t)target);
    if (!q && target > need) {
      target = need; /* geometric growth failed: try the exact size */
      q = pv__realloc(idx, col->base, es * col->cap, es * (size_t)target);
    }
    if (!q) return PV_NOMEM;
    if (pv_columns[c].flags & PV_COL_ZERO)
      memset((uint8_t *)q + es * col->cap, 0, es * (target - col->cap));
    col->base = q;
    col->cap = target;
  }
  /* Blocks: fill up the last one (growing it geometrically while it is
   * short), then add blocks, the last of them only as large as needed. */
  uint32_t full = 1u << st->bshift;
  uint32_t nb = (uint32_t)(((uint64_t)need + full - 1) >> st->bshift);
  if (nb > st->ntab) {
    uint32_t nt = st->ntab * 2 > nb ? st->ntab * 2 : nb;
    if ((uint64_t)nt * sizeof(pv_block) > SIZE_MAX) return PV_NOMEM;
    pv_block *t = pv__realloc(idx, st->blk, sizeof(pv_block) * st->ntab, sizeof(pv_block) * nt);
    if (!t) return PV_NOMEM;
    st->blk = t;
    st->ntab = nt;
  }
  while (block_room(st) < need) {
    uint32_t base = st->nblk ? (st->nblk - 1) << st->bshift : 0;
    if (st->nblk && st->last < full) {
      if (pv__store_materialize(idx, st->nblk - 1) != PV_OK) {
        update_cap(st);
        return PV_NOMEM;
      }
      uint32_t want_slots = need - base;
      if (want_slots < st->last * 2) want_slots = st->last * 2;
      if (want_slots > full) want_slots = full;
      if (resize_last(idx, want_slots) != PV_OK) {
        update_cap(st);
        return PV_NOMEM;
      }
    } else {
      uint32_t slots = need - (st->nblk << st->bshift);
      if (slots > full) slots = full;
      if (slots < 16 && full >= 16) slots = 16;
      size_t bytes = block_bytes(st, slots);
      uint8_t *v = pv__malloc(idx, bytes);
      if (!v) {
        update_cap(st);
        return PV_NOMEM;
      }
      st->blk[st->nblk].v = v;
      st->blk[st->nblk].l = (uint32_t *)(v + links_offset(st, slots));
      st->nblk++;
      st->last = slots;
      st->last_bytes = bytes;
    }
  }
  update_cap(st);
  return PV_OK;
}

void pv__store_shrink(pv_index *idx, uint32_t keep) {
  pv_store *st = &idx->st;
  if (keep < 16) keep = 16;
  for (int c = 0; c < PV_COL_COUNT; c++) {
    pv_column *col = &st->col[c];
    size_t es = col->esize;
    if (es == 0 || col->cap <= keep) continue;
    void *q = pv__realloc(idx, col->base, es * col->cap, es * (size_t)keep);
    if (q) {
      col->base = q;
      col->cap = keep;
    }
  }
  uint32_t full = 1u << st->bshift;
  uint32_t nb = (uint32_t)(((uint64_t)keep + full - 1) >> st->bshift);
  while (st->nblk > nb) {
    free_block(idx, st->nblk - 1);
    if (st->nborrow == st->nblk) st->nborrow--;
    st->nblk--;
    st->last = full;
    st->last_bytes = full_block_bytes(st);
  }
  if (st->nblk && st->nborrow < st->nblk) {
    uint32_t in_last = keep - ((st->nblk - 1) << st->bshift);
    if (in_last < st->last) resize_last(idx, in_last);
  }
  update_cap(st);
}

void pv__store_clear(pv_index *idx, uint32_t s) {
  for (int c = 0; c < PV_COL_COUNT; c++) {
    pv_column *col = &idx->st.col[c];
    if ((pv_columns[c].flags & PV_COL_ZERO) && col->esize)
      memset((uint8_t *)col->base + col->esize * s, 0, col->esize);
  }
}

void pv__store_move(pv_index *idx, uint32_t to, uint32_t from) {
  pv_store *st = &idx->st;
  for (int c = 0; c < PV_COL_COUNT; c++) {
    size_t es = st->col[c].esize;
    if (!es || !(pv_columns[c].flags & PV_COL_MOVED)) continue;
    uint8_t *b = st->col[c].base;
    memcpy(b + es * to, b + es * from, es);
  }
  memcpy(pv__links(idx, to, 0), pv__links(idx, from, 0), sizeof(uint32_t) * st->lwords);
  memcpy(pv__code(idx, to), pv__code(idx, from), st->vbytes);
}

uint32_t pv__slot_of(const pv_index *idx, uint32_t id) {
  /* No gaps in the ids (nothing compacted away): slot s holds id s. */
  if (idx->next_id == idx->st.n) return id < idx->st.n ? id : PV_NONE;
  const uint32_t *ids = idx->st.col[PV_COL_ID].base;
  uint32_t lo = 0, hi = idx->st.n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (ids[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo < idx->st.n && ids[lo] == id ? lo : PV_NONE;
}

#if defined(__wasm__)
/* What pv__touch sums (index.h): written, never read; per thread, so that
 * concurrent searches do not race on it. */
PV_THREAD_LOCAL unsigned pv__touched;
#endif
