/* SPDX-License-Identifier: MIT */
/*
 * Document records and the key map (doc.h).
 */
#include <string.h>

#include "attr/attr.h"
#include "index.h"

uint32_t pv__key_hash(const char *key, size_t len) {
  /* FNV-1a, then a final mix so that linear probing on the low bits sees
   * every input byte. Keys are short; this is not on a search's path. */
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)key[i]) * 16777619u;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  return h;
}

pv_rec *pv__rec_new(pv_index *idx, const char *key, size_t key_len, const uint8_t *attr,
                    size_t attr_len) {
  pv_rec *r = pv__malloc(idx, sizeof(pv_rec) + key_len + attr_len);
  if (!r) return NULL;
  r->key_len = (uint32_t)key_len;
  r->attr_len = (uint32_t)attr_len;
  r->hash = key_len ? pv__key_hash(key, key_len) : 0;
  if (key_len) memcpy(r->data, key, key_len);
  if (attr_len) memcpy(r->data + key_len, attr, attr_len);
  return r;
}

void pv__rec_free(pv_index *idx, pv_rec *r) {
  if (r) pv__free(idx, r, pv__rec_bytes(r));
}

pv_rec *pv__rec_of(const pv_index *idx, uint32_t s) {
  return ((pv_rec **)idx->st.col[PV_COL_DOC].base)[s];
}

void pv__rec_set(pv_index *idx, uint32_t s, pv_rec *r) {
  pv_rec **col = idx->st.col[PV_COL_DOC].base;
  pv_rec *old = col[s];
  if (old) {
    idx->docs.nrec--;
    idx->docs.data_bytes -= old->key_len + old->attr_len;
    pv__rec_free(idx, old);
  }
  col[s] = r;
  if (r) {
    idx->docs.nrec++;
    idx->docs.data_bytes += r->key_len + r->attr_len;
  }
}

int pv__key_check(pv_index *idx, const char *key, size_t len, const char *what) {
  if (!key) return pv__error_null(idx, PV_INVALID, "%s is NULL", what);
  if (len == 0) return pv__error(idx, PV_INVALID, "%s is empty; a key has 1 to %u bytes", what,
                                 PV_MAX_KEY_BYTES);
  if (len > PV_MAX_KEY_BYTES)
    return pv__error(idx, PV_INVALID, "%s has %zu bytes; a key has at most %u", what, len,
                     PV_MAX_KEY_BYTES);
  if (!pv__utf8_valid(key, len)) return pv__error(idx, PV_INVALID, "%s is not valid UTF-8", what);
  return PV_OK;
}

/* ---- the key map -------------------------------------------------------- */
#define EMPTY 0u
#define REMOVED 1u

static int same_key(const pv_index *idx, uint32_t id, const char *key, size_t len) {
  uint32_t s = pv__slot_of(idx, id);
  if (s == PV_NONE) return 0;
  const pv_rec *r = pv__rec_of(idx, s);
  return r && r->key_len == len && memcmp(pv__rec_key(r), key, len) == 0;
}

uint32_t pv__key_find(const pv_index *idx, const char *key, size_t len, uint32_t hash) {
  const pv_keymap *km = &idx->docs.keys;
  if (!km->cap) return PV_NONE;
  uint32_t mask = km->cap - 1;
  for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
    uint32_t h = km->e[2 * i], id = km->e[2 * i + 1];
    if (id == PV_NONE) {
      if (h == EMPTY) return PV_NONE;
      continue;
    }
    if (h == hash && same_key(idx, id, key, len)) return id;
  }
}

/* Insert (hash, id) into a table known to have no entry for it and room. */
static void raw_put(uint32_t *e, uint32_t cap, uint32_t hash, uint32_t id) {
  uint32_t mask = cap - 1, i = hash & mask;
  while (e[2 * i + 1] != PV_NONE) i = (i + 1) & mask;
  e[2 * i] = hash;
  e[2 * i + 1] = id;
}

static void clear(uint32_t *e, uint32_t cap) {
  for (uint32_t i = 0; i < cap; i++) {
    e[2 * i] = EMPTY;
    e[2 * i + 1] = PV_NONE;
  }
}

int pv__key_reserve(pv_index *idx, uint32_t more) {
  pv_keymap *km = &idx->docs.keys;
  /* Load factor at most 1/2, counting removed entries (they lengthen probes
   * like live ones until a rebuild drops them). */
  if ((uint64_t)km->used + more <= (uint64_t)km->cap / 2) return PV_OK;
  uint64_t want = 16;
  while (want < 2 * ((uint64_t)km->live + more)) want *= 2;
  if (want > (1u << 31)) return PV_NOMEM;
  uint32_t cap = (uint32_t)want;
  uint32_t *e = pv__malloc(idx, sizeof(uint32_t) * 2 * cap);
  if (!e) return PV_NOMEM;
  clear(e, cap);
  for (uint32_t i = 0; i < km->cap; i++)
    if (km->e[2 * i + 1] != PV_NONE) raw_put(e, cap, km->e[2 * i], km->e[2 * i + 1]);
  pv__free(idx, km->e, sizeof(uint32_t) * 2 * km->cap);
  km->e = e;
  km->cap = cap;
  km->used = km->live;
  return PV_OK;
}

void pv__key_put(pv_index *idx, const pv_rec *r, uint32_t id) {
  pv_keymap *km = &idx->docs.keys;
  uint32_t mask = km->cap - 1;
  const char *key = pv__rec_key(r);
  for (uint32_t i = r->hash & mask;; i = (i + 1) & mask) {
    uint32_t h = km->e[2 * i], old = km->e[2 * i + 1];
    if (old == PV_NONE) {
      if (h == EMPTY) break;
      continue;
    }
    if (h == r->hash && same_key(idx, old, key, r->key_len)) {
      km->e[2 * i + 1] = id; /* the document is replaced: same key, new id */
      return;
    }
  }
  raw_put(km->e, km->cap, r->hash, id);
  km->used++;
  km->live++;
}

void pv__key_remove(pv_index *idx, const pv_rec *r, uint32_t id) {
  pv_keymap *km = &idx->docs.keys;
  if (!km->cap) return;
  uint32_t mask = km->cap - 1;
  for (uint32_t i = r->hash & mask;; i = (i + 1) & mask) {
    uint32_t h = km->e[2 * i], cur = km->e[2 * i + 1];
    if (cur == PV_NONE) {
      if (h == EMPTY) return;
      continue;
    }
    if (cur == id) {
      km->e[2 * i] = REMOVED;
      km->e[2 * i + 1] = PV_NONE;
      km->live--;
      return;
    }
  }
}

void pv__docs_free(pv_index *idx) {
  pv_rec **col = idx->st.col[PV_COL_DOC].base;
  for (uint32_t s = 0; col && s < idx->st.n; s++) pv__rec_set(idx, s, NULL);
  pv_keymap *km = &idx->docs.keys;
  pv__free(idx, km->e, sizeof(uint32_t) * 2 * km->cap);
  memset(km, 0, sizeof *km);
}

int pv__keys_rebuild(pv_index *idx) {
  pv_keymap *km = &idx->docs.keys;
  uint32_t nkeys = 0;
  for (uint32_t s = 0; s < idx->st.n; s++) {
    const pv_rec *r = pv__rec_of(idx, s);
    nkeys += r && r->key_len;
  }
  if (pv__key_reserve(idx, nkeys) != PV_OK)
    return pv__error(NULL, PV_NOMEM, "out of memory mapping %u keys", nkeys);
  for (uint32_t s = 0; s < idx->st.n; s++) {
    const pv_rec *r = pv__rec_of(idx, s);
    if (!r || !r->key_len) continue;
    /* Ids ascend with slots, so an earlier slot with the same key is found
     * by the lookup (its id is already mapped). */
    if (pv__key_find(idx, pv__rec_key(r), r->key_len, r->hash) != PV_NONE)
      return pv__error(NULL, PV_CORRUPT, "two live documents (the second is id %u) share a key",
                       pv__id(idx, s));
    raw_put(km->e, km->cap, r->hash, pv__id(idx, s));
    km->used++;
    km->live++;
  }
  return PV_OK;
}

int pv__docs_check(pv_index *idx) {
  uint32_t keyed = 0, nrec = 0;
  uint64_t bytes = 0;
  for (uint32_t s = 0; s < idx->st.n; s++) {
    const pv_rec *r = pv__rec_of(idx, s);
    if (!r) continue;
    if (!pv__is_live(idx, s))
      return pv__error(idx, PV_CORRUPT, "the index is corrupt: deleted slot %u has a document", s);
    if (r->key_len > PV_MAX_KEY_BYTES || r->attr_len > PV_MAX_ATTR_BYTES)
      return pv__error(idx, PV_CORRUPT, "the index is corrupt: slot %u's document is too long", s);
    nrec++;
    bytes += r->key_len + r->attr_len;
    if (!r->key_len) continue;
    keyed++;
    if (r->hash != pv__key_hash(pv__rec_key(r), r->key_len) ||
        pv__key_find(idx, pv__rec_key(r), r->key_len, r->hash) != pv__id(idx, s))
      return pv__error(idx, PV_CORRUPT, "the index is corrupt: the key of id %u is not mapped to it",
                       pv__id(idx, s));
  }
  if (keyed != idx->docs.keys.live || nrec != idx->docs.nrec || bytes != idx->docs.data_bytes)
    return pv__error(idx, PV_CORRUPT, "the index is corrupt: the document counts do not match");
  return PV_OK;
}
