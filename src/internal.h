/*
 * Internal definitions shared by the files of the core. Nothing here is
 * public; the public contract is include/pocketvec.h.
 *
 * Layout of an index. Every node lives in a slot, 0 .. n-1. Slots are filled
 * in insertion order and ids are issued in increasing order, so slot_id[] is
 * always strictly ascending: compaction removes slots but keeps their order.
 * That gives stable ids with no hash table: id -> slot is a binary search,
 * and slot -> id is an array read on the hot path.
 *
 * Per slot, in parallel arrays (struct of arrays, so a search touches only
 * what it needs): id, level, flags, a pointer to the upper-layer link lists
 * (NULL at level 0), and the SQ8 parameters. The two big per-slot items, the
 * vector (F32 floats or SQ8 codes) and the layer-0 link list, live in blocks
 * of 2^bshift slots instead: growing allocates new blocks and never copies
 * or reallocates old ones. A single array per item would need a realloc to
 * grow, and in WebAssembly, whose memory never shrinks, each realloc that
 * cannot extend in place leaves the old copy behind: 2.4x the index in
 * memory, measured. Blocks keep it near 1x, for one more load per access.
 *
 * A link list is { count, link[0..max-1] } in uint32 words.
 */
#ifndef PV_INTERNAL_H
#define PV_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "pocketvec.h"
#include "distance.h"

#define PV_NONE UINT32_MAX       /* no slot / no id */
#define PV_MAX_LEVEL 15          /* levels 0..15: P(level > 15) = m^-16 */
#define PV_SLOT_DELETED 1u
#define PV_MSG_SIZE 200

/* SQ8 parameters of one vector: x[i] ~= lo + step * code[i].
 * sum = sum of the codes; aux = squared norm of the dequantized vector (L2)
 * or its inverse norm (cosine), unused for dot. */
typedef struct pv_sq8 {
  float lo, step, sum, aux;
} pv_sq8;

/* A vector in the form the index stores, used as the "query" side of a
 * distance: a stored node, or a query prepared by pv__prepare_query. */
typedef struct pv_ref {
  const float *f;     /* F32 */
  const uint8_t *c;   /* SQ8 codes */
  const pv_sq8 *p;    /* SQ8 parameters */
} pv_ref;

/* (distance, slot) pair; heaps and sorts order by distance, then slot, which
 * is the id order, so equal distances come out by ascending id. */
typedef struct pv_pair {
  float d;
  uint32_t s;
} pv_pair;

/* The arrays that grow with the slot count, in one place so growth and
 * compaction treat them alike. */
enum { PV_A_ID, PV_A_LEVEL, PV_A_FLAGS, PV_A_UPPER, PV_A_SQ8, PV_A_VISIT, PV_A_COUNT };

/* One block: a single allocation holding the vectors of its slots, then
 * (at a 64-byte aligned offset) their layer-0 link lists. A borrowed block
 * (one of the first nborrow, after pv_load without copying) points into the
 * loaded buffer for both; all of them are copied into owned blocks before
 * the first write (pv__materialize), since an insert can write links in
 * any block. */
typedef struct pv_block {
  uint8_t *v;    /* the allocation, or the borrowed vectors */
  uint32_t *l;   /* the link lists, inside v's allocation or borrowed */
} pv_block;

/* A block holds the vectors of at most this many bytes' worth of slots
 * (but at least one slot), and at most 2^PV_BLOCK_MAX_SHIFT slots. */
#define PV_BLOCK_BYTES (1u << 20)
#define PV_BLOCK_MAX_SHIFT 12

struct pv_index {
  pv_allocator alloc;        /* captured at pv_new */
  size_t mem;                /* bytes currently allocated by this index */

  /* settings */
  pv_options opt;            /* as validated; ef_construction as used */
  uint32_t dim;
  uint32_t m, m0;            /* max links on upper layers / on layer 0 */
  const pv_kernels *k;

  /* slots */
  uint32_t n;                /* slots in use: live + tombstones */
  uint32_t live;
  uint32_t cap;              /* slots every array and the blocks can hold */
  uint32_t acap[PV_A_COUNT]; /* slots each array can hold (>= cap) */
  uint32_t next_id;
  uint64_t changes;          /* counts writes, so an export can tell */
  uint32_t *slot_id;         /* [cap] ascending */
  uint8_t *level;            /* [cap] */
  uint8_t *flags;            /* [cap] PV_SLOT_DELETED */
  uint32_t **upper;          /* [cap] level*(1+m) words each, or NULL */
  pv_sq8 *sq8;               /* SQ8: [cap] */
  uint32_t bshift;           /* a block holds 2^bshift slots */
  size_t vbytes;             /* bytes of one stored vector */
  size_t lwords;             /* words of one layer-0 list: 1 + m0 */
  pv_block *blk;             /* [ntab], the first nblk allocated */
  uint32_t nblk, ntab;
  uint32_t last;             /* slots in the last block: it grows and shrinks,
                                the others are full, so a small index does
                                not pay for a whole block */
  size_t last_bytes;         /* bytes allocated for the last block */
  uint32_t nborrow;          /* blocks 0 .. nborrow-1 are borrowed */
  void *taken;               /* a loaded buffer the index owns, or NULL */
  size_t taken_size;
  uint32_t entry;            /* entry point slot, PV_NONE when n == 0 */
  int max_level;
  uint64_t rng;

  /* scratch, owned by the index; contents never outlive a call */
  uint16_t *visit;           /* [cap] visit epochs */
  uint16_t epoch;
  float *qf;                 /* [dim] prepared query; SQ8: normalising buffer */
  uint8_t *qc;               /* [dim] prepared query codes (SQ8) */
  pv_sq8 qp;
  pv_pair *scratch;          /* one block of 3 * heap_cap pairs: */
  pv_pair *heap_w;           /*   results, a max-heap */
  pv_pair *heap_c;           /*   candidates, a min-heap */
  pv_pair *sel;              /*   neighbour selection and sorted output */
  uint32_t heap_cap;         /* = ef + m0 + 1 for the largest ef so far */

  /* last status */
  int errcode;
  char errmsg[PV_MSG_SIZE];
};

/* ---- index.c: memory and errors ---------------------------------------- */
void *pv__malloc(pv_index *idx, size_t size);
void *pv__realloc(pv_index *idx, void *p, size_t old_size, size_t new_size);
void pv__free(pv_index *idx, void *p, size_t size);
/* Set the status and message of idx and return code. PV_OK clears. */
int pv__error(pv_index *idx, int code, const char *fmt, ...);
/* Slot of a live or tombstoned id, or PV_NONE. */
uint32_t pv__slot_of(const pv_index *idx, uint32_t id);
/* Grow every per-slot array and the blocks to hold at least `need` slots.
 * PV_OK/PV_NOMEM; on failure the index is unchanged apart from more room. */
int pv__reserve(pv_index *idx, uint32_t need);
/* Give back the room beyond `keep` slots (keep >= n); a failed shrink keeps
 * the larger array, which is still correct. */
void pv__shrink(pv_index *idx, uint32_t keep);
/* Copy every borrowed block from block `from` on into owned memory, so it
 * may be written; once none is borrowed, free a taken buffer. PV_OK or
 * PV_NOMEM (the blocks already copied stay copied: no content changes). */
int pv__materialize(pv_index *idx, uint32_t from);
/* Slots block b has room for (only the last block can have fewer). */
uint32_t pv__block_slots(const pv_index *idx, uint32_t b);
/* Validate options as pv_new does; on failure the message is pv_errmsg(NULL). */
int pv__check_options(const pv_options *o);
/* Set the message of pv_errmsg(NULL) (failures with no index to hold it). */
int pv__new_error(int code, const char *fmt, ...);
/* Make the search scratch hold ef results. PV_OK/PV_NOMEM. */
int pv__reserve_search(pv_index *idx, uint32_t ef);
/* Start a new visit epoch: afterwards no slot counts as visited. */
void pv__visit_reset(pv_index *idx);

/* The stored vector of slot s: floats (F32) or codes (SQ8). */
static inline void *pv__vecp(const pv_index *idx, uint32_t s) {
  return idx->blk[s >> idx->bshift].v +
         (size_t)(s & ((1u << idx->bshift) - 1)) * idx->vbytes;
}
static inline uint32_t *pv__links(const pv_index *idx, uint32_t s, int l) {
  return l == 0 ? idx->blk[s >> idx->bshift].l + (size_t)(s & ((1u << idx->bshift) - 1)) * idx->lwords
                : idx->upper[s] + (size_t)(l - 1) * (1 + idx->m);
}
static inline uint32_t pv__maxlinks(const pv_index *idx, int l) {
  return l == 0 ? idx->m0 : idx->m;
}
/* Set the count of link list ln (of room max) and zero the words after the
 * links: memory stays canonical, so saved files are deterministic and the
 * loader can require those words to be zero. */
static inline void pv__set_count(uint32_t *ln, uint32_t count, uint32_t max) {
  for (uint32_t i = count; i < ln[0] && i < max; i++) ln[1 + i] = 0;
  ln[0] = count;
}
static inline int pv__visited(pv_index *idx, uint32_t s) {
  if (idx->visit[s] == idx->epoch) return 1;
  idx->visit[s] = idx->epoch;
  return 0;
}

/* Ask for the first bytes of slot s's vector ahead of use. */
#ifndef PV_PREFETCH_BYTES
#define PV_PREFETCH_BYTES 256
#endif
static inline void pv__prefetch(const pv_index *idx, uint32_t s) {
#if defined(__GNUC__) || defined(__clang__)
  const char *p = (const char *)pv__vecp(idx, s);
  size_t bytes = idx->vbytes;
  if (bytes > PV_PREFETCH_BYTES) bytes = PV_PREFETCH_BYTES;
  for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(p + o);
#else
  (void)idx;
  (void)s;
#endif
}

/* ---- store.c: vectors --------------------------------------------------- */
/* Check that v has no NaN/Inf and (cosine) is not zero; on failure set the
 * message and return PV_INVALID. kind names v in the message: PV_V_ONE "the
 * vector", PV_V_QUERY "the query", PV_V_BATCH "vector i". */
enum { PV_V_ONE = 0, PV_V_QUERY = 1, PV_V_BATCH = 2 };
int pv__validate(pv_index *idx, const float *v, int kind, size_t i);
/* Store v (validated) in slot s: normalise for cosine, encode for SQ8. */
void pv__store(pv_index *idx, uint32_t s, const float *v);
/* Decode slot s into out (dim floats). */
void pv__load(const pv_index *idx, uint32_t s, float *out);
/* Prepare a validated query in the scratch buffers; returns its ref. */
pv_ref pv__prepare_query(pv_index *idx, const float *q);
/* The stored form of slot s as a ref. */
pv_ref pv__ref(const pv_index *idx, uint32_t s);
/* 1 if slot s stores exactly the vector a (byte for byte). */
int pv__same(const pv_index *idx, const pv_ref *a, uint32_t s);
/* Distance from a ref to slot s, in the metric of the index. */
float pv__dist(const pv_index *idx, const pv_ref *a, uint32_t s);
/* out[j] = pv__dist(idx, a, s[j]) for j = 0..3, bit for bit, for an SQ8
 * ref a: the four code vectors are read in one pass (dot_u8_4). F32 has no
 * four-way kernel; call pv__dist. */
void pv__dist4(const pv_index *idx, const pv_ref *a, const uint32_t s[4], float out[4]);

/* ---- hnsw.c: graph ------------------------------------------------------ */
/* Random level for a new node, advancing *rng. */
int pv__random_level(const pv_index *idx, uint64_t *rng);
/* Link slot s (stored, level set, links empty) into the graph. Allocates
 * nothing; scratch must be reserved for ef_construction. */
void pv__insert(pv_index *idx, uint32_t s);
/* k nearest live slots to q with beam width ef (>= k) into out (ascending).
 * Scratch must be reserved for ef. Returns the number written. */
size_t pv__search(pv_index *idx, const pv_ref *q, size_t k, uint32_t ef,
                  pv_pair *out);
/* The neighbour-selection heuristic: from cand[0..n) sorted ascending by
 * distance to node, keep at most max that are not closer to an already
 * kept one than to the node. Writes kept slots to out, returns how many. */
uint32_t pv__select(const pv_index *idx, const pv_ref *node, pv_pair *cand,
                    uint32_t n, uint32_t max, uint32_t *out);
/* Sort pairs ascending by (distance, slot). */
void pv__sort_pairs(pv_pair *p, size_t n);

/* ---- persist.c: checksums --------------------------------------------- */
/* CRC-32C of n bytes continued from state (start from 0xffffffff, finish
 * with ~state), always by the tables: loads and saves use the CPU's
 * instruction where the kernel set has one, so on such a machine only the
 * tests reach the table code this way. */
uint32_t pv__crc32c_tables(uint32_t state, const void *data, size_t n);

/* ---- fmt.c -------------------------------------------------------------- */
/* A small vsnprintf for messages: %s %d %u %zu %%. Avoids pulling libc's
 * printf (and its float formatting) into the WASM build. */
void pv__vfmt(char *buf, size_t size, const char *fmt, va_list ap);

#endif /* PV_INTERNAL_H */
