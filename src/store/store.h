/* SPDX-License-Identifier: MIT */
/*
 * Slots and what they hold. Every node lives in a slot, 0 .. n-1. Slots are
 * filled in insertion order and ids are issued in increasing order, so the
 * slot -> id column is always strictly ascending: compaction removes slots
 * but keeps their order. That gives stable ids with no hash table: id ->
 * slot is a binary search, slot -> id an array read on the hot path.
 *
 * Two kinds of per-slot storage:
 *   - columns: one array per item (struct of arrays, so a search touches
 *     only what it needs), listed once in the column registry (columns.c)
 *     with their element size and whether compaction moves them. Growth,
 *     shrinking and compaction walk the registry: a new per-slot item is
 *     one line there, and one in the section registry (persist/sections.c)
 *     if it is saved raw.
 *   - blocks: the two big items, the vector's code and the layer-0 link
 *     list, live in blocks of 2^bshift slots. Growing allocates new blocks
 *     and never copies old ones. A single array per item would need a
 *     realloc to grow, and in WebAssembly, whose memory never shrinks, each
 *     realloc that cannot extend in place leaves the old copy behind: 2.4x
 *     the index in memory, measured. Blocks keep it near 1x, for one more
 *     load per access. Blocks can also be borrowed: read in place from a
 *     loaded buffer until the first write.
 */
#ifndef PV_STORE_H
#define PV_STORE_H

#include "core/core.h"

/* The columns. The order is the registry's (columns.c). */
enum {
  PV_COL_ID,    /* u32: the slot's id, ascending */
  PV_COL_LEVEL, /* u8: the top layer of the node */
  PV_COL_FLAGS, /* u8: PV_SLOT_DELETED */
  PV_COL_UPPER, /* uint32_t *: the upper-layer link lists, or NULL */
  PV_COL_PARAM, /* the codec's per-vector parameters (none for F32) */
  PV_COL_DOC,   /* pv_rec *: the document's key and attributes, or NULL (doc/doc.h) */
  PV_COL_TEXT,  /* pv_tdoc *: the document's terms, or NULL (text/text.h) */
  PV_COL_TWIN,  /* u32: 1 + the next slot in the ring of its exact copies; 0: none (graph.h) */
  PV_COL_WALK,  /* binary codes' walk parts (codec/binary.c); unused by other codecs */
  PV_COL_COUNT
};

#define PV_SLOT_DELETED 1u

/* What the registry says of a column. */
#define PV_COL_MOVED 1u /* compaction slides it down with its slot */
#define PV_COL_ZERO 2u  /* new room starts zeroed (pointers: NULL) */
typedef struct pv_coldef {
  const char *name;
  unsigned flags;
  size_t (*esize)(const pv_index *idx); /* bytes per slot; 0: unused by this index */
} pv_coldef;
extern const pv_coldef pv_columns[PV_COL_COUNT];

typedef struct pv_column {
  void *base;
  size_t esize;
  uint32_t cap; /* slots it can hold (>= the store's cap) */
} pv_column;

/* One block: a single allocation holding the codes of its slots, then (at a
 * 64-byte aligned offset) their layer-0 link lists. A borrowed block (one
 * of the first nborrow) points into a loaded buffer for both. */
typedef struct pv_block {
  uint8_t *v;  /* the allocation, or the borrowed codes */
  uint32_t *l; /* the link lists, inside v's allocation or borrowed */
} pv_block;

/* A block holds the codes of at most this many bytes' worth of slots (but
 * at least one slot), and at most 2^PV_BLOCK_MAX_SHIFT slots. */
#define PV_BLOCK_BYTES (1u << 20)
#define PV_BLOCK_MAX_SHIFT 12

typedef struct pv_store {
  uint32_t n;   /* slots in use: live + tombstones */
  uint32_t cap; /* slots every column and the blocks can hold */
  pv_column col[PV_COL_COUNT];
  uint32_t bshift;   /* a block holds 2^bshift slots */
  size_t vbytes;     /* bytes of one code */
  size_t hot;        /* bytes of a code a search asks for ahead (index.h) */
  size_t lwords;     /* words of one layer-0 list: 1 + m0 */
  pv_block *blk;     /* [ntab], the first nblk allocated */
  uint32_t nblk, ntab;
  uint32_t last;     /* slots in the last block: it grows and shrinks, the
                        others are full, so a small index does not pay for a
                        whole block */
  size_t last_bytes; /* bytes allocated for the last block */
  uint32_t nborrow;  /* blocks 0 .. nborrow-1 are borrowed */
  void *taken;       /* a loaded buffer the index owns, or NULL */
  size_t taken_size;
} pv_store;

/* Set the element sizes and the block geometry (pv_new). */
void pv__store_init(pv_index *idx, size_t vbytes, size_t lwords);
/* Free everything the store owns (upper lists are the graph's: freed before). */
void pv__store_free(pv_index *idx);
/* Grow every column and the blocks to hold at least `need` slots.
 * PV_OK/PV_NOMEM; on failure the index is unchanged apart from more room. */
int pv__store_reserve(pv_index *idx, uint32_t need);
/* Give back the room beyond `keep` slots (keep >= n); a failed shrink keeps
 * the larger array, which is still correct. */
void pv__store_shrink(pv_index *idx, uint32_t keep);
/* Clear slot s's columns that start zeroed (PV_COL_ZERO: flags, pointers,
 * twins) for a new node: a slot compaction emptied still holds copies of
 * what moved down, whose owners are elsewhere now. */
void pv__store_clear(pv_index *idx, uint32_t s);
/* Move slot `from` to slot `to` (to < from): every moved column and the
 * block items. Compaction slides live slots down with it. */
void pv__store_move(pv_index *idx, uint32_t to, uint32_t from);
/* Copy every borrowed block from block `from` on into owned memory, so it
 * may be written; once none is borrowed, free a taken buffer. PV_OK or
 * PV_NOMEM (the blocks already copied stay copied: no content changes). */
int pv__store_materialize(pv_index *idx, uint32_t from);
/* Read blocks in place from codes and links laid out slot after slot (as
 * in a file); n > 0 slots. PV_OK/PV_NOMEM. */
int pv__store_borrow(pv_index *idx, const uint8_t *codes, const uint8_t *links, uint32_t n);
/* Slots block b has room for (only the last block can have fewer), and the
 * slots of it in use. */
uint32_t pv__block_slots(const pv_index *idx, uint32_t b);
uint32_t pv__block_used(const pv_index *idx, uint32_t b);
/* Slot of an issued id (live or tombstone), or PV_NONE. */
uint32_t pv__slot_of(const pv_index *idx, uint32_t id);

#endif /* PV_STORE_H */
