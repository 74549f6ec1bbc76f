/* SPDX-License-Identifier: MIT */
/*
 * The section registry: every section this version writes, in file order,
 * with how to size it, walk its bytes and load it. A module that saves
 * something adds a line here (and a kind in format.h); a raw column only
 * names its column.
 */
#include <string.h>

#include "index.h"
#include "attr/attr.h"
#include "persist/format.h"

#define CORRUPT PV_CORRUPT_

static uint32_t nblocks(const pv_index *idx) {
  return (uint32_t)(((uint64_t)idx->st.n + (1u << idx->st.bshift) - 1) >> idx->st.bshift);
}

/* ---- codes and layer-0 links: the blocks (loaded by the reader itself, as
 * they may be borrowed in place) ------------------------------------------- */
static int always(const pv_index *idx) { (void)idx; return 1; }

static uint64_t codes_len(const pv_index *idx) { return (uint64_t)idx->st.n * idx->st.vbytes; }
static void codes_walk(pv_walker *w, const pv_index *idx) {
  for (uint32_t b = 0; b < nblocks(idx); b++)
    pv__emit(w, idx->st.blk[b].v, idx->st.vbytes * pv__block_used(idx, b), PV_SEC_CODES);
}

static uint64_t links0_len(const pv_index *idx) { return (uint64_t)idx->st.n * idx->st.lwords * 4; }
static void links0_walk(pv_walker *w, const pv_index *idx) {
  for (uint32_t b = 0; b < nblocks(idx); b++)
    pv__emit(w, idx->st.blk[b].l, sizeof(uint32_t) * idx->st.lwords * pv__block_used(idx, b),
             PV_SEC_LINKS0);
}

/* ---- upper links ------------------------------------------------------------ */
static uint64_t upper_len(const pv_index *idx) {
  uint64_t w = 0;
  for (uint32_t s = 0; s < idx->st.n; s++) w += (uint64_t)pv__level(idx, s) * (1 + idx->g.m);
  return w * 4;
}
static void upper_walk(pv_walker *w, const pv_index *idx) {
  uint32_t **up = pv__upper(idx);
  for (uint32_t s = 0; s < idx->st.n && !w->stopped; s++)
    if (pv__level(idx, s)) pv__emit(w, up[s], pv__upper_bytes(idx, pv__level(idx, s)), PV_SEC_UPPER);
}

static int upper_load(pv_index *idx, const pv_layout *L, const uint8_t *p, uint64_t len) {
  uint32_t n = idx->st.n, **up = pv__upper(idx);
  if (len != upper_len(idx))
    CORRUPT("the upper links section has %zu bytes; the levels of %u slots need %zu", (size_t)len,
            n, (size_t)upper_len(idx));
  for (uint32_t s = 0; s < n; s++) {
    int lv = pv__level(idx, s);
    if (lv > L->max_level)
      CORRUPT("slot %u is on level %u, above the top level %d", s, (unsigned)lv, (int)L->max_level);
    if (!lv) continue;
    size_t bytes = pv__upper_bytes(idx, lv);
    up[s] = pv__malloc(idx, bytes);
    if (!up[s]) return pv__error(NULL, PV_NOMEM, "out of memory loading an index of %u vectors", n);
    memcpy(up[s], p, bytes);
    p += bytes;
  }
  return PV_OK;
}

/* ---- deleted slots ---------------------------------------------------------- */
static uint64_t deleted_len(const pv_index *idx) { return (uint64_t)(idx->st.n - idx->live) * 4; }
static void deleted_walk(pv_walker *w, const pv_index *idx) {
  uint8_t buf[4 * 64];
  size_t m = 0;
  for (uint32_t s = 0; s < idx->st.n && !w->stopped; s++) {
    if (pv__is_live(idx, s)) continue;
    pv__put32(buf + 4 * m++, s);
    if (m == 64) {
      pv__emit(w, buf, sizeof buf, PV_SEC_DELETED);
      m = 0;
    }
  }
  pv__emit(w, buf, 4 * m, PV_SEC_DELETED);
}
static int deleted_load(pv_index *idx, const pv_layout *L, const uint8_t *p, uint64_t len) {
  uint32_t n = idx->st.n;
  if (len != (uint64_t)(n - L->live) * 4)
    CORRUPT("the deleted section has %zu bytes; %u slots with %u live need %zu", (size_t)len, n,
            L->live, (size_t)(n - L->live) * 4);
  for (uint32_t i = 0; i < n - L->live; i++) {
    uint32_t s = pv__get32(p + 4 * i);
    if (s >= n || (i && s <= pv__get32(p + 4 * (i - 1))))
      CORRUPT("the deleted slots are not an ascending list of slots");
    pv__flags(idx)[s] = PV_SLOT_DELETED;
  }
  return PV_OK;
}

/* ---- documents: per slot its key's and its attributes' lengths (u32
 * each), then every slot's key and attribute bytes, slot after slot ---- */
static int docs_present(const pv_index *idx) { return idx->docs.nrec != 0; }
static uint64_t docs_len(const pv_index *idx) {
  return (uint64_t)idx->st.n * 8 + idx->docs.data_bytes;
}
static void docs_walk(pv_walker *w, const pv_index *idx) {
  uint8_t buf[8 * 64];
  size_t m = 0;
  for (uint32_t s = 0; s < idx->st.n && !w->stopped; s++) {
    const pv_rec *r = pv__rec_of(idx, s);
    pv__put32(buf + 8 * m, r ? r->key_len : 0);
    pv__put32(buf + 8 * m + 4, r ? r->attr_len : 0);
    if (++m == 64 || s + 1 == idx->st.n) {
      pv__emit(w, buf, 8 * m, PV_SEC_DOCS);
      m = 0;
    }
  }
  for (uint32_t s = 0; s < idx->st.n && !w->stopped; s++) {
    const pv_rec *r = pv__rec_of(idx, s);
    if (r) pv__emit(w, r->data, (size_t)r->key_len + r->attr_len, PV_SEC_DOCS);
  }
}
static int docs_load(pv_index *idx, const pv_layout *L, const uint8_t *p, uint64_t len) {
  (void)L;
  uint32_t n = idx->st.n;
  if (len < (uint64_t)n * 8)
    CORRUPT("the documents section has %zu bytes; the lengths of %u slots need %zu", (size_t)len,
            n, (size_t)n * 8);
  const uint8_t *data = p + (size_t)n * 8;
  uint64_t at = 0, room = len - (uint64_t)n * 8;
  for (uint32_t s = 0; s < n; s++) {
    uint32_t kl = pv__get32(p + 8 * s), al = pv__get32(p + 8 * s + 4);
    if (!kl && !al) continue;
    if (!pv__is_live(idx, s)) CORRUPT("deleted slot %u has a key or attributes", s);
    if (kl > PV_MAX_KEY_BYTES || al > PV_MAX_ATTR_BYTES || kl + al > room - at)
      CORRUPT("slot %u's key or attributes are longer than allowed or than the section", s);
    const uint8_t *k = data + at, *a = k + kl;
    if (!pv__utf8_valid((const char *)k, kl)) CORRUPT("slot %u's key is not valid UTF-8", s);
    int rc = pv__attr_check(a, al);
    if (rc) return rc;
    pv_rec *r = pv__rec_new(idx, (const char *)k, kl, a, al);
    if (!r) return pv__error(NULL, PV_NOMEM, "out of memory loading the documents of %u slots", n);
    pv__rec_set(idx, s, r);
    at += kl + al;
  }
  if (at != room)
    CORRUPT("the documents section has %zu bytes after the documents", (size_t)(room - at));
  /* The field indexes are derived: rebuilt here, not saved. A failure to
   * build them leaves them stale, which costs speed, not the load. */
  idx->fidx.stale = 1;
  pv__fidx_refresh(idx);
  return pv__keys_rebuild(idx);
}

/* ---- rings of exact copies: the twins column as it is (1 + the next
 * slot, 0: none); the structural checker proves the rings. ------------- */
static int twins_present(const pv_index *idx) { return idx->g.twins != 0; }
static int twins_load(pv_index *idx, const pv_layout *L, const uint8_t *p, uint64_t len) {
  (void)L, (void)p, (void)len; /* the length was checked as a column's */
  uint32_t twins = 0;
  for (uint32_t s = 0; s < idx->st.n; s++)
    if (pv__twin(idx, s) != PV_NONE) {
      if (pv__twin(idx, s) >= idx->st.n) CORRUPT("slot %u's next copy is not a slot", s);
      twins++;
    }
  if (!twins) CORRUPT("the twins section holds no ring");
  idx->g.twins = twins;
  return PV_OK;
}

/* ---- the registry, in file order ------------------------------------------- */
const pv_secdef pv_sections[] = {
    {PV_SEC_CODES, "vectors", -1, always, codes_len, codes_walk, NULL, 0, 0},
    {PV_SEC_LINKS0, "layer-0 links", -1, always, links0_len, links0_walk, NULL, 0, 0},
    {PV_SEC_UPPER, "upper links", -1, always, upper_len, upper_walk, upper_load, 0, 0},
    {PV_SEC_PARAMS, "codec parameters", PV_COL_PARAM, NULL, NULL, NULL, NULL, 0, 0},
    {PV_SEC_IDS, "ids", PV_COL_ID, NULL, NULL, NULL, NULL, 0, 0},
    {PV_SEC_LEVELS, "levels", PV_COL_LEVEL, NULL, NULL, NULL, NULL, 0, 0},
    {PV_SEC_DELETED, "deleted", -1, always, deleted_len, deleted_walk, deleted_load, 0, 0},
    {PV_SEC_DOCS, "documents", -1, docs_present, docs_len, docs_walk, docs_load, 1, 0},
    {PV_SEC_TEXT, "text", -1, pv__text_present, pv__text_len, pv__text_walk, pv__text_load, 1, 0},
    {PV_SEC_TWINS, "twins", PV_COL_TWIN, twins_present, NULL, NULL, twins_load, 1, 1},
    {PV_SEC_CENTRE, "centre", -1, pv__centre_present, pv__centre_len, pv__centre_walk,
     pv__centre_load, 1, 0},
    {PV_SEC_WALK, "binary codes", PV_COL_WALK, NULL, NULL, NULL, pv__walk_load, 1, 0},
};
const uint32_t pv_nsections = sizeof pv_sections / sizeof pv_sections[0];

const pv_secdef *pv__secdef(uint32_t kind) {
  for (uint32_t i = 0; i < pv_nsections; i++)
    if (pv_sections[i].kind == kind) return &pv_sections[i];
  return NULL;
}
