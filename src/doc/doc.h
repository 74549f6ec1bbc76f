/* SPDX-License-Identifier: MIT */
/*
 * Documents: what a slot carries besides its vector, a user's key and the
 * encoded attributes (attr/attr.h), and the map from keys to ids.
 *
 * Each slot that has either points to one record (the PV_COL_DOC column),
 * a single allocation: { key_len, attr_len, hash, key bytes, attribute
 * bytes }. A record moves with its slot through compaction like every
 * column. A deleted document's record is freed at once: nothing reads the
 * attributes of a tombstone, and its key must be free for a new document.
 *
 * The key map is an open-addressing table of (hash, id) pairs. It keeps
 * ids, not slots, because ids never change (compaction moves slots);
 * comparing a key follows id -> slot (a binary search) -> record, and the
 * stored hash makes that rare for keys that differ.
 */
#ifndef PV_DOC_H
#define PV_DOC_H

#include <stdint.h>

#include "core/core.h"

typedef struct pv_rec {
  uint32_t key_len;  /* 0: no key */
  uint32_t attr_len; /* 0: no attributes ({}) */
  uint32_t hash;     /* of the key */
  uint8_t data[];    /* key bytes, then attribute bytes */
} pv_rec;

static inline const char *pv__rec_key(const pv_rec *r) { return (const char *)r->data; }
static inline const uint8_t *pv__rec_attr(const pv_rec *r) { return r->data + r->key_len; }
static inline size_t pv__rec_bytes(const pv_rec *r) {
  return sizeof(pv_rec) + r->key_len + r->attr_len;
}

typedef struct pv_keymap {
  uint32_t *e;   /* [2 * cap]: hash, id; id PV_NONE: empty (hash 0) or removed (hash 1) */
  uint32_t cap;  /* a power of two, or 0 */
  uint32_t used; /* entries that are not empty (removed ones too) */
  uint32_t live; /* entries that hold a key */
} pv_keymap;

/* What the documents of an index hold, for the section writer and info. */
typedef struct pv_docs {
  pv_keymap keys;
  uint32_t nrec;       /* slots with a record */
  uint64_t data_bytes; /* key and attribute bytes of every record */
} pv_docs;

uint32_t pv__key_hash(const char *key, size_t len);
/* A new record for key (may be NULL/0) and encoded attributes (may be
 * NULL/0), or NULL when out of memory. */
pv_rec *pv__rec_new(pv_index *idx, const char *key, size_t key_len, const uint8_t *attr,
                    size_t attr_len);
void pv__rec_free(pv_index *idx, pv_rec *r);
/* The record of slot s, or NULL. */
pv_rec *pv__rec_of(const pv_index *idx, uint32_t s);
/* Put r (may be NULL) in slot s, freeing the record it replaces. Keys are
 * the caller's business (pv__key_put / pv__key_remove). */
void pv__rec_set(pv_index *idx, uint32_t s, pv_rec *r);

/* Check a key a user passes: PV_OK, or PV_INVALID with a message (status of
 * idx) naming `what` ("the key", "document 3's key"). */
int pv__key_check(pv_index *idx, const char *key, size_t len, const char *what);
/* The id of the live document with this key, or PV_NONE. */
uint32_t pv__key_find(const pv_index *idx, const char *key, size_t len, uint32_t hash);
/* Make room for `more` new keys, so that pv__key_put cannot fail. PV_OK or
 * PV_NOMEM (the map unchanged). */
int pv__key_reserve(pv_index *idx, uint32_t more);
/* Map the key of record r to id: replaces the entry of the key when there
 * is one (its document is being replaced), else takes a new entry (room
 * reserved). */
void pv__key_put(pv_index *idx, const pv_rec *r, uint32_t id);
/* Unmap the key of record r, mapped to id. */
void pv__key_remove(pv_index *idx, const pv_rec *r, uint32_t id);
/* Free the map and every record (pv_free). */
void pv__docs_free(pv_index *idx);
/* Rebuild the key map from the records of the live slots (a load): PV_OK,
 * PV_NOMEM, or PV_CORRUPT when two live documents share a key (message for
 * NULL). */
int pv__keys_rebuild(pv_index *idx);

/* Check the documents against the slots: records only on live slots, key
 * lengths in range, and the key map holding exactly the keyed records,
 * each under its id. PV_OK or PV_CORRUPT (status of idx). */
int pv__docs_check(pv_index *idx);

#endif /* PV_DOC_H */
