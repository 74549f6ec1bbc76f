/* SPDX-License-Identifier: MIT */
/*
 * The index handle and the accessors every module shares. Nothing here is
 * public; the public contract is include/pocketvec.h. The map of the
 * modules, and the path of an insert, a search, a save and a load through
 * them, is in docs/ARCHITECTURE.md.
 */
#ifndef PV_INDEX_H
#define PV_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "codec/codec.h"
#include "core/core.h"
#include "core/heap.h"
#include "doc/doc.h"
#include "fidx/fidx.h"
#include "graph/graph.h"
#include "kernels/kernels.h"
#include "persist/log.h"
#include "query/context.h"
#include "store/store.h"
#include "text/text.h"

struct pv_index {
  pv_allocator alloc;  /* captured at pv_new, for the index's whole life */
  size_t mem;          /* bytes allocated right now (updated atomically) */
  uint64_t serial;     /* unique in the process: keys the per-thread status */

  pv_options opt;      /* as validated; ef_construction as used; allocator NULL */
  uint32_t dim;
  float max_abs;       /* pv__max_magnitude of the metric and dim */
  const pv_kernels *kern;
  const pv_codec *codec;
  pv_cstate cs;        /* the codec's own state (codec.h), if it has any */

  pv_store st;         /* slots, columns, blocks */
  pv_graph g;          /* entry point, levels, link sizes */
  pv_docs docs;        /* keys and attribute records (doc/doc.h) */
  pv_fidx fidx;        /* field indexes over the attributes (fidx/fidx.h) */
  pv_text text;        /* the full-text index (text/text.h) */
  uint32_t live;       /* live slots (st.n counts tombstones too) */
  uint32_t next_id;
  uint64_t changes;    /* counts writes, so an export can tell */
  pv_journal jr;       /* the change log of incremental saves (persist/log.h) */

  pv_ctx *pool[PV_POOL_SIZE]; /* idle search contexts (atomic slots) */
};

/* ---- slots ----------------------------------------------------------------- */
static inline uint32_t pv__id(const pv_index *idx, uint32_t s) {
  return ((const uint32_t *)idx->st.col[PV_COL_ID].base)[s];
}
/* The next slot in s's ring of exact copies, PV_NONE if none (graph.h). */
static inline uint32_t pv__twin(const pv_index *idx, uint32_t s) {
  return ((const uint32_t *)idx->st.col[PV_COL_TWIN].base)[s] - 1; /* PV_NONE: none */
}
static inline void pv__twin_set(pv_index *idx, uint32_t s, uint32_t next) {
  ((uint32_t *)idx->st.col[PV_COL_TWIN].base)[s] = next + 1; /* PV_NONE: none */
}
static inline uint8_t pv__level(const pv_index *idx, uint32_t s) {
  return ((const uint8_t *)idx->st.col[PV_COL_LEVEL].base)[s];
}
static inline uint8_t *pv__flags(const pv_index *idx) {
  return (uint8_t *)idx->st.col[PV_COL_FLAGS].base;
}
static inline int pv__is_live(const pv_index *idx, uint32_t s) {
  return !(pv__flags(idx)[s] & PV_SLOT_DELETED);
}
static inline uint32_t **pv__upper(const pv_index *idx) {
  return (uint32_t **)idx->st.col[PV_COL_UPPER].base;
}
/* The code of slot s. */
PV_HOT void *pv__code(const pv_index *idx, uint32_t s) {
  return idx->st.blk[s >> idx->st.bshift].v +
         (size_t)(s & ((1u << idx->st.bshift) - 1)) * idx->st.vbytes;
}
/* The codec parameters of slot s (only for codecs that have some). */
static inline void *pv__param(const pv_index *idx, uint32_t s) {
  return (uint8_t *)idx->st.col[PV_COL_PARAM].base + (size_t)s * idx->codec->param_bytes;
}
static inline pv_ref pv__ref(const pv_index *idx, uint32_t s) {
  pv_ref r = {pv__code(idx, s), idx->codec->param_bytes ? pv__param(idx, s) : NULL, 0};
  return r;
}
static inline float pv__dist(const pv_index *idx, const pv_ref *a, uint32_t s) {
  return idx->codec->dist(idx, a, s);
}

/* ---- links ------------------------------------------------------------------ */
/* A link list is { count, link[0..max-1] } in uint32 words. */
PV_HOT uint32_t *pv__links(const pv_index *idx, uint32_t s, int l) {
  return l == 0 ? idx->st.blk[s >> idx->st.bshift].l +
                      (size_t)(s & ((1u << idx->st.bshift) - 1)) * idx->st.lwords
                : pv__upper(idx)[s] + (size_t)(l - 1) * (1 + idx->g.m);
}
static inline uint32_t pv__maxlinks(const pv_index *idx, int l) {
  return l == 0 ? idx->g.m0 : idx->g.m;
}
/* Set the count of link list ln (of room max) and zero the words after the
 * links: memory stays canonical, so saved files are deterministic and the
 * loader can require those words to be zero. */
static inline void pv__set_count(uint32_t *ln, uint32_t count, uint32_t max) {
  for (uint32_t i = count; i < ln[0] && i < max; i++) ln[1 + i] = 0;
  ln[0] = count;
}

/* A prefetch that gcc keeps. gcc 12 treats __builtin_prefetch as free of
 * side effects: a helper made only of prefetches is found to be "const" and
 * its calls are deleted, and so is a loop made only of prefetches; at -O1
 * and above not one of the prefetches below was left in the native
 * objects. An empty asm statement that takes the address is a side effect
 * the optimiser must keep; it emits nothing itself. clang keeps them.
 * scripts/check-prefetch.sh (make bench-check) fails if they go again. */
#if defined(__GNUC__) && !defined(__clang__)
#define PV_PREFETCH(a)                      \
  do {                                      \
    const void *pv_pf_ = (a);               \
    __builtin_prefetch(pv_pf_);             \
    __asm__ volatile("" : : "r"(pv_pf_));   \
  } while (0)
#elif defined(__clang__)
#define PV_PREFETCH(a) __builtin_prefetch(a)
#endif

/* Ask for the first bytes of slot s's code ahead of use: natively up to 1
 * KiB, a whole SQ8 code up to 1024 dimensions. The whole of a 768-d SQ8
 * code searched markedly faster than its first 256 bytes; the whole of a
 * 1.5 KiB F32 code was slower than 1 KiB of it
 * (bench/results/prefetch-ab.md). */
#ifndef PV_PREFETCH_BYTES
#define PV_PREFETCH_BYTES 1024
#endif
#if defined(__wasm__)
/* WebAssembly has no prefetch instruction. A load of the first byte of a
 * code does what a prefetch would: the loads of several nodes' codes are
 * issued back to back and their cache misses overlap, instead of each one
 * being met in the middle of a distance. One load per node, not one per
 * line: each load holds a place in the processor's window until its miss
 * is served, and with fewer per node more nodes are in flight; the
 * hardware's own prefetcher fetches the lines after the first (F32 at
 * 100-d: 5-6 % faster than a load per line of the first 256 bytes; with
 * search.c's separate asking loop, 8-10 % F32 and 3-7 % SQ8 at 100 and 768
 * dimensions). The byte goes into pv__touched (store/slots.c) so that the
 * load is not optimised away. */
extern PV_THREAD_LOCAL unsigned pv__touched;
PV_HOT void pv__touch(const unsigned char *p) { pv__touched += *p; }
#endif

/* Ask for what a search scores slot s by: its code (the first st.hot
 * bytes), or its walk part when the query walks by the codec's own
 * estimate (q->walk: binary codes). */
PV_HOT void pv__prefetch(const pv_index *idx, const pv_ref *q, uint32_t s) {
  const pv_column *w = &idx->st.col[PV_COL_WALK];
  const unsigned char *p = q->walk ? (const unsigned char *)w->base + (size_t)s * w->esize
                                   : (const unsigned char *)pv__code(idx, s);
  size_t bytes = q->walk ? w->esize : idx->st.hot;
#if defined(__wasm__)
  (void)bytes;
  pv__touch(p);
#elif defined(__GNUC__) || defined(__clang__)
  /* every line of the bytes, also the last one's when they straddle */
  for (size_t o = 0; o < bytes; o += 64) PV_PREFETCH(p + o);
  PV_PREFETCH(p + bytes - 1);
#else
  (void)p;
  (void)bytes;
#endif
}

/* Slot s's layer-0 link list, ahead of use; in WebAssembly a load of its
 * first word, as pv__prefetch does for codes. */
static inline void pv__prefetch_links(const pv_index *idx, uint32_t s) {
#if defined(__wasm__)
  pv__touch((const unsigned char *)pv__links(idx, s, 0));
#elif defined(__GNUC__) || defined(__clang__)
  const char *p = (const char *)pv__links(idx, s, 0);
  for (size_t o = 0; o < 4 * (size_t)idx->st.lwords; o += 64) PV_PREFETCH(p + o);
#else
  (void)idx;
  (void)s;
#endif
}

/* The whole code of slot s and its codec parameters (a scan of scattered
 * slots, where no hardware prefetcher guesses the next ones); in
 * WebAssembly a load of the code's first byte, as pv__prefetch does. */
static inline void pv__prefetch_all(const pv_index *idx, uint32_t s) {
#if defined(__wasm__)
  pv__touch((const unsigned char *)pv__code(idx, s));
#elif defined(__GNUC__) || defined(__clang__)
  const char *p = (const char *)pv__code(idx, s);
  for (size_t o = 0; o < idx->st.vbytes; o += 64) PV_PREFETCH(p + o);
  if (idx->codec->param_bytes) PV_PREFETCH(pv__param(idx, s));
#else
  (void)idx;
  (void)s;
#endif
}

/* ---- api.c ---------------------------------------------------------------- */
/* Validate options as pv_new does; on failure the message is pv_errmsg(NULL). */
int pv__check_options(const pv_options *o);
/* pv_new with an explicit allocator (pv_load's path). */
int pv__new(const pv_options *opts, const pv_allocator *alloc, pv_index **out);
/* Where pv__add takes vector i from: base + i * dim, or the vector of
 * docs[pick[i]] (docs[i] when pick is NULL). */
typedef struct pv_vecs {
  const float *base;
  const pv_doc *docs;
  const uint32_t *pick;
} pv_vecs;
/* Insert n validated vectors as new slots with new ids (written to
 * ids_out, may be NULL) and no documents. All or nothing: PV_OK, or
 * PV_NOMEM/PV_FULL (status set) with nothing added. */
int pv__add(pv_index *idx, const pv_vecs *src, size_t n, uint32_t *ids_out);
/* Delete live slot s: its key and record go at once, the slot stays as a
 * tombstone. Cannot fail. */
void pv__kill(pv_index *idx, uint32_t s);
/* Compact when tombstones pass the index's threshold (best effort). */
void pv__maybe_compact(pv_index *idx);
/* The slot of a live id, or PV_NONE. */
uint32_t pv__live_slot(const pv_index *idx, uint32_t id);
/* Set PV_NOTFOUND for id ("was deleted" or "does not exist"). */
int pv__not_found(pv_index *idx, uint32_t id);
/* Remove all tombstones (graph/compact.c). PV_OK or PV_NOMEM (unchanged). */
int pv__compact(pv_index *idx);
/* pv_check without reachability (graph/check.c): what the loader requires
 * of every file, since a graph may legitimately leave nodes unreachable.
 * `file` (the loader's call) also requires the zero words a file holds
 * after each layer-0 list's links. */
int pv__check_structure(pv_index *idx, int file);
/* Brute force over the live (and accepted) slots: the k nearest to q into
 * out (room for k), ascending by (distance, id) (query/exact.c). Uses c's
 * scratch when k fits it, else allocates k pairs: PV_OK/PV_NOMEM. */
int pv__exact(pv_index *idx, pv_ctx *c, const pv_ref *q, size_t k, const pv_accept *acc,
              pv_hit *out, size_t *n_out);

/* pv__exact over the live slots whose id's bit is set in bits (words
 * words) and that verify (when not NULL) accepts. */
int pv__exact_bits(pv_index *idx, pv_ctx *c, const pv_ref *q, size_t k, const uint64_t *bits,
                   size_t words, const pv_accept *verify, pv_hit *out, size_t *n_out);
/* pv__exact over the live slots of the ids in list (len of them, in any
 * order, repeats counted once), those verify accepts when given. Uses c's
 * visit marks, so c must have them for every slot. */
int pv__exact_list(pv_index *idx, pv_ctx *c, const pv_ref *q, size_t k, const uint32_t *list,
                   size_t len, const pv_accept *verify, pv_hit *out, size_t *n_out);

#endif /* PV_INDEX_H */
