/* SPDX-License-Identifier: MIT */
/*
 * Field indexes: for every attribute path, the documents by value, so that
 * a filtered search can count and list the documents a filter can match
 * without reading them all.
 *
 * Per path, one sorted run of (key, id) per class of value:
 *   NUM, STR, BOOL, NULL   the path holds that scalar (NUM keys keep the
 *                          order of the numbers, STR keys are 64-bit hashes
 *                          of the strings, so only equality is indexed);
 *   E_NUM .. E_NULL        an element of the array at the path;
 *   PRESENT                the path exists, whatever its value (key 0).
 * A run is a sorted part and an unsorted tail of at most PV_FIDX_TAIL
 * entries that is sorted into the rest when it fills, so an insert costs
 * O(1) amortised over the run and a lookup is a binary search plus a short
 * scan. An entry whose document's attributes change is marked dead in
 * place (id PV_NONE) and dropped at the next merge; a deleted document's
 * entries stay until compaction (lookups return ids, and the caller checks
 * liveness anyway).
 *
 * The indexes are derived data: a failed allocation while updating them
 * marks them stale (queries then read the documents), and the next write
 * rebuilds them. A load rebuilds them from the documents.
 */
#ifndef PV_FIDX_H
#define PV_FIDX_H

#include "attr/attr.h"
#include "filter/filter.h"

#define PV_FIDX_TAIL 256u

enum { PV_FC_NUM, PV_FC_STR, PV_FC_BOOL, PV_FC_NULL, PV_FC_E_NUM, PV_FC_E_STR, PV_FC_E_BOOL,
       PV_FC_E_NULL, PV_FC_PRESENT, PV_FC_COUNT };

typedef struct pv_run {
  uint64_t *key;
  uint32_t *id;
  uint32_t n, sorted, cap, dead; /* entries, of which the first `sorted` are sorted */
} pv_run;

typedef struct pv_fpath {
  uint8_t *name; /* the path: per segment a u32 length then its bytes */
  uint32_t len;
  pv_run run[PV_FC_COUNT];
} pv_fpath;

typedef struct pv_fidx {
  pv_fpath *path;
  uint32_t npath, pcap;
  uint32_t *tab, tcap; /* path index + 1 by hash; 0: empty */
  int stale;           /* an update failed: not to be used until rebuilt */
  int bulk;            /* adding many: runs sorted once, at pv__fidx_bulk(idx, 0) */
} pv_fidx;

/* Add the entries of document id (encoded attributes a, n bytes). On
 * PV_NOMEM the indexes are marked stale. */
void pv__fidx_add(pv_index *idx, uint32_t id, const uint8_t *a, size_t n);
/* Remove the entries of document id whose attributes were a (n bytes). */
void pv__fidx_remove(pv_index *idx, uint32_t id, const uint8_t *a, size_t n);
/* Drop the entries of ids that are no longer live (after compaction). */
void pv__fidx_sweep(pv_index *idx);
/* Start (on 1) or end (on 0) adding many documents: in between the runs
 * are not sorted, so no lookup may run (a write has the index to itself);
 * the end sorts each run once. */
void pv__fidx_bulk(pv_index *idx, int on);
/* Rebuild from the live documents if stale (writes call it). */
void pv__fidx_refresh(pv_index *idx);
/* Free everything (pv_free). */
void pv__fidx_free(pv_index *idx);

/* A filter's candidates as a bitmap over ids [0, next_id): every matching
 * live document's bit is set; other bits may be set too when *exact is 0
 * (or for ids that are no longer live). words: (next_id + 63) / 64 words,
 * tmp: room for depth of the filter times as many (scratch). Returns the
 * number of bits set, or -1 when the indexes cannot answer (stale). */
int64_t pv__fidx_bitmap(const pv_index *idx, const pv_filter *f, uint64_t *bits, uint64_t *tmp,
                        size_t words, int *exact);

/* The candidates of a filter that is one condition (a leaf: no and, or,
 * not), listed from its runs without a bitmap: up to cap ids into ids, in
 * no order, possibly repeated (an array holding a value twice) and
 * possibly no longer live; *exact 0 when they are a superset of the
 * matches. Returns how many, or -1 when a list cannot answer: another kind
 * of filter, a condition that subtracts (!=, not in) or is not indexed,
 * more than cap candidates, or stale indexes. For few candidates this
 * skips clearing and scanning a bitmap over every id. */
int64_t pv__fidx_list(const pv_index *idx, const pv_filter *f, uint32_t *ids, size_t cap,
                      int *exact);
/* About how many live documents f matches, from the sizes of the runs
 * alone (no bitmap: a few binary searches a leaf), or -1 when stale. Not a
 * bound either way: NOT subtracts an estimate, and deleted documents'
 * entries count until compaction. */
int64_t pv__fidx_estimate(const pv_index *idx, const pv_filter *f);

/* The depth of f's tree (scratch bitmaps pv__fidx_bitmap needs). */
uint32_t pv__fidx_depth(const pv_filter *f);

#endif /* PV_FIDX_H */
