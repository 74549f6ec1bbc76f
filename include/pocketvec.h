/* SPDX-License-Identifier: MIT */
/*
 * pocketvec: an embedded vector index (HNSW, F32 or SQ8 storage).
 *
 * This is the one public header. Everything the library exports starts with
 * pv_; everything else is internal. The core does no I/O and knows no host,
 * so the same code runs natively and inside WebAssembly.
 *
 * Conventions, as in SQLite:
 *   - Calls that can fail return an int status: PV_OK (0) or one of the
 *     codes below. After a failure, pv_errmsg(idx) holds a sentence that
 *     says what was wrong; after a success it reads "not an error".
 *   - A failed call leaves the index exactly as it was and fully usable.
 *   - Passing NULL to a free function is a harmless no-op.
 *   - Ownership is written on each call: "caller owns" means the caller
 *     allocated it and keeps it; "index owns" means the caller must not free
 *     it and it stays valid only until the next call on the same index.
 *
 * Threads: any number of threads may call the reading functions on one
 * index at the same time (pv_search, pv_search_exact, pv_get, pv_contains,
 * pv_count, pv_deleted_count, pv_list_ids, pv_memory_usage, pv_check,
 * pv_get_options, pv_serialized_size, pv_serialize, pv_serialize_to), as
 * long as no write (pv_add, pv_add_batch, pv_delete, pv_compact, pv_free,
 * exports) runs on that index meanwhile: writes need the index to
 * themselves (a reader-writer lock is the usual guard). Each search takes
 * its own scratch from a small pool in the index, so concurrent searches
 * share nothing they write. The allocator must then be thread-safe (libc's
 * is). The status of a call (pv_errmsg, pv_errcode, pv_errinfo) is kept per
 * thread: it is the status of the calling thread's last call on that index.
 * Different indexes may be used from different threads at once.
 */
#ifndef POCKETVEC_H
#define POCKETVEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PV_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */
#define PV_OK        0  /* success */
#define PV_ERROR     1  /* internal error: a bug in pocketvec, please report */
#define PV_NOMEM     2  /* an allocation failed; nothing was changed */
#define PV_INVALID   3  /* a bad argument: NaN/Inf, zero cosine vector, k/ef, options */
#define PV_DIM       4  /* a vector of the wrong dimension */
#define PV_NOTFOUND  5  /* no live vector has that id */
#define PV_CORRUPT   6  /* the index (or a file, later) fails its invariants */
#define PV_VERSION   7  /* data written by a newer pocketvec */
#define PV_FULL      8  /* the id space (2^32 - 1 ids) is used up */
#define PV_IO        9  /* reserved for hosts: a file or storage operation failed
                           (the library itself does no I/O and never returns it) */
#define PV_ABORT    10  /* a callback (a pv_writer) asked to stop: e.g. a full disk */
#define PV_MISUSE   11  /* the API was used incorrectly: e.g. an export read after
                           the index changed */
#define PV_RANGE    12  /* a buffer too small for the result, or an offset past the
                           end; pv_errinfo's need says how many bytes are needed */
#define PV_CONFLICT 13  /* reserved for hosts: a save found the stored index changed
                           since it was loaded or last saved (another writer) */

/* Values. Every element of a vector or query must be finite, and under
 * PV_L2 and PV_DOT at most sqrt(FLT_MAX / (16 dim)) in magnitude (about
 * 1.2e18 at dim 16, 1.7e17 at 768): beyond that a sum of squares or products
 * could overflow to infinity and rank as NaN. Larger values are PV_INVALID,
 * naming the element; cosine takes any finite value (vectors are
 * normalised in double first). Embeddings are far inside either limit. */

/* Metrics. Distances are "smaller is closer":
 *   PV_COSINE: 1 - cos(a, b), in [0, 2]; vectors are normalised on insert,
 *              so pv_get returns the unit-length vector.
 *   PV_L2:     squared Euclidean distance.
 *   PV_DOT:    -(a . b), so the largest inner product comes first. */
typedef enum pv_metric { PV_COSINE = 0, PV_L2 = 1, PV_DOT = 2 } pv_metric;

/* Storage of the vectors:
 *   PV_F32: 4 bytes per dimension, exact.
 *   PV_SQ8: 1 byte per dimension plus 16 bytes per vector (its own offset and
 *           step); distances are computed on the codes with integer
 *           arithmetic. About 4x less memory for a small loss of recall.
 *   PV_BINARY: one bit per dimension (the signs of the vector around the
 *           mean of the index's vectors) to walk the graph, by Hamming
 *           distance, plus an SQ8 copy that rescores the walk's ef
 *           candidates: results and distances are SQ8's. Faster searches
 *           than SQ8 at the same ef for dim/8 more bytes per vector; raise
 *           ef for the recall SQ8 has at a given ef (README, "Binary codes").
 *   PV_BINARY_F32: the same with an F32 copy: exact distances. */
typedef enum pv_storage { PV_F32 = 0, PV_SQ8 = 1, PV_BINARY = 2, PV_BINARY_F32 = 3 } pv_storage;

/* Memory allocator. ctx is passed back unchanged. realloc and free receive
 * pointers this allocator returned. An index uses the one its options name
 * (pv_options.allocator), else the default of pv_set_allocator. */
typedef struct pv_allocator {
  void *(*malloc)(void *ctx, size_t size);
  void *(*realloc)(void *ctx, void *ptr, size_t size);
  void (*free)(void *ctx, void *ptr);
  void *ctx;
} pv_allocator;

/* Largest dimension an index accepts. */
#define PV_MAX_DIM 65536u
/* Largest m (links per node on upper layers; layer 0 keeps 2m). */
#define PV_MAX_M 128u
/* Largest ef (construction or search). */
#define PV_MAX_EF 65536u

typedef struct pv_options {
  uint32_t dim;              /* 1 .. PV_MAX_DIM; no default, must be set */
  pv_metric metric;          /* default PV_COSINE */
  pv_storage storage;        /* default PV_F32 */
  uint32_t m;                /* 2 .. PV_MAX_M; default 16 */
  uint32_t ef_construction;  /* 1 .. PV_MAX_EF; default 200 (raised to m if below) */
  uint32_t ef_search;        /* 1 .. PV_MAX_EF; default 64; used when pv_search gets ef 0 */
  uint64_t seed;             /* random levels; same seed + same inserts = same graph */
  uint32_t capacity;         /* slots to reserve up front (a hint; 0 = grow as needed) */
  float compact_threshold;   /* compact automatically when deleted slots exceed this
                                fraction of all slots; 0 disables; 0 .. 1; default 0.3 */
  const pv_allocator *allocator; /* the index's allocator for its whole life; NULL:
                                the default (pv_set_allocator). Copied at pv_new, so
                                the struct may go; not saved in files */
  unsigned text;             /* how documents' text is tokenized (docs/TEXT.md): 0, or
                                PV_TEXT_STEM and/or PV_TEXT_STOPWORDS; saved with the
                                text index, used for queries too */
} pv_options;

/* pv_options' text flags. */
#define PV_TEXT_STEM 1u      /* English stemming (Porter2): "running" matches "runs" */
#define PV_TEXT_STOPWORDS 2u /* English stopwords ("the", "of", ...) are not indexed */

/* One search result. */
typedef struct pv_hit {
  uint32_t id;
  float distance;
} pv_hit;

/* The index handle. Opaque: create with pv_new, release with pv_free. */
typedef struct pv_index pv_index;

/* ------------------------------------------------------------------------ */
/* Library                                                                  */
/* ------------------------------------------------------------------------ */

/* The library version, "MAJOR.MINOR.PATCH". Static string. */
const char *pv_version(void);

/* Name of the distance kernels in use: "avx2", "simd128" or "scalar".
 * Chosen once (at build time for WASM, by a CPU check natively). Static. */
const char *pv_kernels_name(void);

/* Replace the default allocator (NULL, or one lacking a function, restores
 * libc's): the one of indexes
 * whose options name none, and of pv_load. Each index keeps the allocator
 * it was created with for its whole life, so changing the default never
 * mixes allocators within one index. The struct is copied. Not thread-safe:
 * call it before creating indexes on other threads. */
void pv_set_allocator(const pv_allocator *alloc);

/* A readable English name for a status code ("out of memory"). Static. */
const char *pv_errstr(int code);

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                */
/* ------------------------------------------------------------------------ */

/* Options with every default filled in and dim = 0 (the caller sets dim). */
pv_options pv_options_default(void);

/* Create an empty index. On success *out owns a new index (free it with
 * pv_free). On failure *out is NULL and pv_errmsg(NULL) says why (options out
 * of range: PV_INVALID; allocation: PV_NOMEM). opts is only read. */
int pv_new(const pv_options *opts, pv_index **out);

/* Free an index and everything it owns. NULL is a no-op. */
void pv_free(pv_index *idx);

/* The options the index was created with (ef_construction as used). */
void pv_get_options(const pv_index *idx, pv_options *out);

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* The message of the calling thread's last call on idx: a sentence a user
 * can act on, or "not an error" after a success. With idx NULL: the message
 * of the last pv_new, pv_load, pv_read_header or pv_verify on this thread.
 * The string is valid until the next call on idx from this thread (and a
 * thread remembers the status of the eight indexes it used last). */
const char *pv_errmsg(const pv_index *idx);

/* The status code of the calling thread's last call on idx (NULL: as above). */
int pv_errcode(const pv_index *idx);

/* The detail of that status, for programs that must not parse messages. */
typedef struct pv_error_info {
  int code;         /* as pv_errcode */
  int64_t item;     /* which vector of a batch (from 0), or -1 */
  int64_t element;  /* which element of that vector (NaN, Inf, overflow), or -1 */
  int64_t offset;   /* byte offset in a parsed text, or -1 */
  uint64_t need;    /* PV_RANGE: the bytes a buffer needs; else 0 */
} pv_error_info;

/* Fill *out (may be NULL) with the detail; returns the code. */
int pv_errinfo(const pv_index *idx, pv_error_info *out);

/* ------------------------------------------------------------------------ */
/* Writes                                                                   */
/* ------------------------------------------------------------------------ */

/* Check that a vector of len floats fits the index. C callers with a raw
 * pointer pass dim floats by contract; hosts that know the length (the JS
 * package, the CLI) call this first. PV_OK, or PV_DIM with a message like
 * "vector has 383 values, index expects 384". Changes nothing else. */
int pv_check_dim(pv_index *idx, size_t len);

/* Add one vector of dim floats (caller owns v; it is copied). The index
 * assigns the id and writes it to *id_out (may be NULL). Ids are never
 * reused: an id means this vector until pv_delete, through deletes of other
 * vectors, compaction, save and load.
 * Errors: PV_INVALID (NaN or Inf, naming the element; all-zero vector under
 * cosine), PV_NOMEM, PV_FULL. On error nothing is added. */
int pv_add(pv_index *idx, const float *v, uint32_t *id_out);

/* Add n vectors stored back to back (n * dim floats, caller owns). Writes n
 * ids to ids_out (may be NULL), in order. All or nothing: every vector is
 * validated and all memory reserved before the first insert, so on error
 * none is added and the message names the bad vector ("vector 3: element 17
 * is NaN"). n = 0 is a successful no-op. */
int pv_add_batch(pv_index *idx, const float *v, size_t n, uint32_t *ids_out);

/* Delete a vector. It stops appearing in results at once; its slot stays as
 * a routing-only tombstone until compaction. Runs pv_compact automatically
 * when deleted slots exceed the compaction threshold (an out-of-memory there
 * is not an error of the delete: compaction is retried on a later delete).
 * PV_NOTFOUND if the id was never issued or is already deleted. */
int pv_delete(pv_index *idx, uint32_t id);

/* Remove all tombstones: replace every link to a tombstone by the nearest
 * live node reached through the tombstones, free their slots and shrink the
 * arrays. No live id changes. Costs about one distance per candidate link:
 * well below a rebuild.
 * PV_NOMEM leaves the index as it was. */
int pv_compact(pv_index *idx);

/* ------------------------------------------------------------------------ */
/* Reads                                                                    */
/* ------------------------------------------------------------------------ */

/* Approximate k nearest neighbours of q (dim floats, caller owns). Writes
 * min(k, live) hits to out (caller owns, room for k) sorted by ascending
 * distance, ties by ascending id, and their number to *n_out. ef 0 means
 * the index's ef_search; ef below k is raised to k. When ef covers every
 * live vector the search is exact; so is it when the graph walk finds fewer
 * than k live vectors (some are unreachable: pv_check_reachable), so every
 * search returns min(k, live) hits. k = 0 or an empty index give 0 hits.
 * Errors: PV_INVALID (NaN/Inf in q, zero q under cosine, ef > PV_MAX_EF),
 * PV_NOMEM (growing search buffers for a larger ef). */
int pv_search(pv_index *idx, const float *q, size_t k, size_t ef,
              pv_hit *out, size_t *n_out);

/* Brute force over every live vector, same signature and errors as
 * pv_search (ef is ignored). The ground truth for recall: for SQ8 it ranks
 * by the same quantized distances the graph search uses. */
int pv_search_exact(pv_index *idx, const float *q, size_t k, size_t ef,
                    pv_hit *out, size_t *n_out);

/* 1 if id names a live vector, else 0. */
int pv_contains(const pv_index *idx, uint32_t id);

/* Copy the stored vector of id into out (dim floats, caller owns): the
 * unit-length vector under cosine, the dequantized one under SQ8.
 * PV_NOTFOUND for an unknown or deleted id. */
int pv_get(pv_index *idx, uint32_t id, float *out);

/* Live vectors. */
size_t pv_count(const pv_index *idx);

/* Deleted vectors whose slots are not yet reclaimed by compaction. */
size_t pv_deleted_count(const pv_index *idx);
/* The id the next insert gets (ids are issued in increasing order and
 * never reused); 0 for NULL. */
uint32_t pv_next_id(const pv_index *idx);

/* Write up to cap live ids, ascending, to out (caller owns); returns the
 * number of live ids (which may exceed cap: call again with more room). */
size_t pv_list_ids(const pv_index *idx, uint32_t *out, size_t cap);

/* Bytes the index holds from its allocator right now, every buffer included. */
size_t pv_memory_usage(const pv_index *idx);

/* Validate every invariant of the graph and bookkeeping: links in range, no
 * self links, no duplicate links, no links to freed slots or to nodes below
 * the layer, link counts within m/2m, levels consistent, entry point valid
 * and on the top layer, ids ascending and counts consistent, and the rings
 * that tie each vector to its exact copies (cycles of slots holding the
 * same vector: a search that reaches one copy reaches all). PV_OK, or
 * PV_CORRUPT with a message naming the first violation. Changes nothing. */
int pv_check(pv_index *idx);

/* Prove that every live vector can be found: a search walks layer 0 (and
 * the rings of exact copies) from the entry point or from a node of an
 * upper layer (where its descent ends), through deleted nodes too; the
 * copies in one ring are reachable as soon as one is (or a deleted one
 * is; compaction keeps the links into them). A live vector
 * that no such walk reaches can never be returned by pv_search's graph
 * walk (its brute-force fallback still finds it when the walk comes up
 * short). *unreachable gets the number of those (0: proven reachable). PV_OK (whatever the count),
 * PV_CORRUPT as pv_check, or PV_NOMEM (it needs 4 bytes and a bit a
 * slot). pv_compact makes every live vector reachable: a node no walk
 * reaches gets a link from its nearest reachable node. */
int pv_check_reachable(pv_index *idx, size_t *unreachable);

/* ------------------------------------------------------------------------ */
/* Documents: keys and attributes                                           */
/* ------------------------------------------------------------------------ */
/* A document is a vector with, optionally, a key of the user's (any UTF-8
 * string of 1 to PV_MAX_KEY_BYTES bytes, unique among live documents) and
 * attributes (a JSON object: strings, numbers, booleans, null, arrays and
 * nested objects, at most PV_MAX_ATTR_BYTES once encoded). A document still
 * has an id; a vector added with pv_add is a document without a key or
 * attributes. Keys and attributes are saved and loaded with the index and
 * follow their document through compaction. */

#define PV_MAX_KEY_BYTES 1024u
#define PV_MAX_ATTR_BYTES 65536u

/* Attributes cross the API as JSON text, or, with the flag PV_ATTR_ENCODED
 * (pv_doc's flags, pv_set_attributes' flags), in the binary encoding the
 * index stores them in (docs/FORMAT.md, "Attribute encoding"): a host that
 * holds the values already (the JS package) writes and reads that directly,
 * and needs no JSON text on either side. Encoded input is checked as a
 * loaded file is (every rule of the encoding, the canonical form included:
 * shortest varints, unique names, finite numbers, and the empty object as
 * no bytes at all); what breaks a rule is PV_INVALID, naming it and its
 * byte offset (also in pv_errinfo's offset). */
#define PV_ATTR_ENCODED 2u

/* One document to upsert; the caller owns every pointer, all are copied. */
typedef struct pv_doc {
  const char *key;         /* key_len bytes of UTF-8, or NULL: no key */
  size_t key_len;
  const float *vector;     /* dim floats; required */
  const char *attributes;  /* attributes_len bytes of JSON text (an object or
                              null), or of the encoding with PV_ATTR_ENCODED
                              in flags; NULL: none */
  size_t attributes_len;
  unsigned flags;          /* 0, or PV_ATTR_ENCODED */
  const char *text;        /* text_len bytes of UTF-8 indexed for full-text search
                              (docs/TEXT.md; the text itself is not stored), or NULL */
  size_t text_len;
} pv_doc;

/* Add a document, or replace the live document with the same key. A
 * replaced document's id is deleted (it leaves results at once) and the new
 * vector gets a new id, written to *id_out (may be NULL): ids are never
 * reused. Errors: as pv_add, and PV_INVALID for a key that is empty, too
 * long or not UTF-8, for attributes that are not a JSON object (the
 * message gives the byte offset, also in pv_errinfo's offset) or too large,
 * or not a valid encoding (PV_ATTR_ENCODED), and for unknown flags.
 * On error nothing changes. */
int pv_upsert(pv_index *idx, const pv_doc *doc, uint32_t *id_out);

/* Upsert n documents, all or nothing: every one is validated and all
 * memory reserved before the first changes, and an error names the
 * document by key (or by position when it has none; pv_errinfo's item is
 * its position). When a key appears more than once in the batch the last
 * one wins, and every position of that key gets its id in ids_out (room
 * for n, may be NULL). n = 0 is a successful no-op. */
int pv_upsert_batch(pv_index *idx, const pv_doc *docs, size_t n, uint32_t *ids_out);

/* A batch: upserts applied as one pv_upsert_batch, all or nothing, but
 * given one document at a time, so that the caller never holds every
 * document's key, attributes and text at once (a large import, or a JS
 * upsertBatch whose texts would otherwise all sit in memory together). */
typedef struct pv_batch pv_batch;

/* Start an empty batch for idx into *out (free it with pv_batch_free,
 * before the index). Nothing of the index changes until pv_batch_commit;
 * the index may be searched and changed meanwhile. PV_NOMEM. */
int pv_batch_new(pv_index *idx, pv_batch **out);

/* Check doc as pv_upsert would and add it as the batch's next position
 * (pv_errinfo's item in messages). Its key and attributes are copied and
 * its text tokenized now: they may go when the call returns. Its vector is
 * not copied: it must stay valid and unchanged until the commit or
 * pv_batch_free. On error (status of the index) doc is not added and the
 * batch is as it was. */
int pv_batch_add(pv_batch *b, const pv_doc *doc);

/* Documents in the batch (0 after a successful commit). */
size_t pv_batch_count(const pv_batch *b);

/* Upsert the batch's documents as pv_upsert_batch would (the last of a key
 * wins; ids_out: room for pv_batch_count, may be NULL). On success the
 * batch is empty and may take more; on error (PV_NOMEM, PV_FULL) nothing
 * changed and the batch keeps its documents. */
int pv_batch_commit(pv_batch *b, uint32_t *ids_out);

/* Free a batch and what it holds (uncommitted documents are dropped).
 * NULL is a no-op. */
void pv_batch_free(pv_batch *b);

/* The id of the live document with this key into *id_out. PV_NOTFOUND
 * when none has it; PV_INVALID for a key that could never be one. */
int pv_lookup(pv_index *idx, const char *key, size_t key_len, uint32_t *id_out);

/* Delete the live document with this key (pv_delete of its id). */
int pv_delete_key(pv_index *idx, const char *key, size_t key_len);

/* The key of a live id: *key (index owns; valid until the next write to the
 * index) and *key_len; *key is NULL and *key_len 0 for a document without
 * a key. PV_NOTFOUND for an unknown or deleted id. */
int pv_get_key(pv_index *idx, uint32_t id, const char **key, size_t *key_len);

/* The attributes of a live id as compact JSON text into buf (caller owns,
 * cap bytes, not NUL-terminated); *len_out gets the length ("{}" for a
 * document without attributes). PV_RANGE when cap is too small (the length
 * needed is in *len_out and pv_errinfo's need); PV_NOTFOUND as pv_get_key. */
int pv_get_attributes(pv_index *idx, uint32_t id, char *buf, size_t cap, size_t *len_out);

/* The attributes of a live id in the encoding (PV_ATTR_ENCODED): *data
 * (index owns; valid until the next write to the index) and *len; *len is
 * 0 (and *data NULL) for a document without attributes, stored as no
 * bytes. PV_NOTFOUND as pv_get_key. */
int pv_get_attributes_encoded(pv_index *idx, uint32_t id, const void **data, size_t *len);

/* Replace the attributes of a live id (PV_ATTR_REPLACE), or merge into them
 * (PV_ATTR_MERGE: as JavaScript's { ...old, ...json }, top level only),
 * without touching its vector: the id stays. attributes as in pv_doc:
 * len bytes of JSON text (NULL or "null": none), or of the encoding when
 * flags has PV_ATTR_ENCODED too (NULL or len 0: none). Errors as
 * pv_upsert's, and PV_NOTFOUND. */
#define PV_ATTR_REPLACE 0u
#define PV_ATTR_MERGE 1u
int pv_set_attributes(pv_index *idx, uint32_t id, const char *attributes, size_t len,
                      unsigned flags);

/* The attribute paths live documents use, with their types, as JSON text
 * into buf as pv_get_attributes: [{"path":"author.name","types":["string"],
 * "count":12},...], sorted by path, written as a filter names it (docs/FILTER.md:
 * a member whose name is no plain name, `a.b` say, in backticks); arrays
 * count as "array" and the types of their scalar elements are listed too. */
int pv_fields(pv_index *idx, char *buf, size_t cap, size_t *len_out);

/* ------------------------------------------------------------------------ */
/* Filters                                                                  */
/* ------------------------------------------------------------------------ */
/* A filter selects documents by their attributes, in the language of
 * docs/FILTER.md: tags contains "work" and created >= 1704067200. */

typedef struct pv_filter pv_filter;

/* Compile len bytes of filter text. On success *out owns a new filter (free
 * it with pv_filter_free); it may be used with any index, from any number
 * of threads at once. A syntax error is PV_INVALID with a message giving
 * the position and a hint ("unexpected \"=\" at 12: did you mean \"==\"?"),
 * and pv_errinfo's offset. The status is set on idx, which may be NULL
 * (then pv_errmsg(NULL)); memory comes from idx's allocator (NULL: the
 * default one), and the filter may outlive idx. */
int pv_filter_compile(pv_index *idx, const char *text, size_t len, pv_filter **out);

/* Free a compiled filter. NULL is a no-op. */
void pv_filter_free(pv_filter *f);

/* pv_search and pv_search_exact over the live documents that match f only
 * (f NULL: all). Writes min(k, matching live documents) hits. */
int pv_search_filter(pv_index *idx, const float *q, size_t k, size_t ef, const pv_filter *f,
                     pv_hit *out, size_t *n_out);
int pv_search_exact_filter(pv_index *idx, const float *q, size_t k, size_t ef,
                           const pv_filter *f, pv_hit *out, size_t *n_out);

/* Count the live documents matching f (NULL: all) into *count, and write
 * the first cap of their ids, ascending, to out (caller owns; may be NULL
 * when cap is 0). */
int pv_find(pv_index *idx, const pv_filter *f, uint32_t *out, size_t cap, size_t *count);

/* ------------------------------------------------------------------------ */
/* Full-text and hybrid search                                              */
/* ------------------------------------------------------------------------ */
/* Documents upserted with text (pv_doc's text) are indexed for BM25 search
 * (docs/TEXT.md). One call runs a text query, a vector query or both, fused
 * (hybrid), under one filter. */

/* Fusion of a hybrid query's two ranked lists. */
typedef enum pv_fusion {
  PV_FUSE_RRF = 0,     /* reciprocal-rank fusion: sum of 1 / (rrf_k + rank), ranks from 1 */
  PV_FUSE_WEIGHTED = 1 /* w_vector * vector score + w_text * text score, each
                          normalised to 0..1 over its own list (docs/TEXT.md) */
} pv_fusion;

typedef struct pv_query {
  const float *vector;  /* dim floats, or NULL: no vector side */
  const char *text;     /* text_len bytes of UTF-8, or NULL: no text side */
  size_t text_len;
  size_t k;             /* hits wanted, 1 .. PV_MAX_EF */
  size_t ef;            /* the vector side's beam (0: the index's ef_search) */
  const pv_filter *filter; /* NULL: every live document */
  int prefix;           /* 1: the text's last word also matches the terms it begins
                           (search as you type) */
  int exact;            /* 1: brute force on both sides (the reference) */
  float k1, b;          /* BM25: default 1.2 and 0.75; k1 >= 0, 0 <= b <= 1 */
  pv_fusion fusion;     /* default PV_FUSE_RRF */
  float rrf_k;          /* default 60; > 0 */
  float w_vector, w_text; /* PV_FUSE_WEIGHTED's weights; default 0.5 each; >= 0 */
  size_t window;        /* hybrid: hits taken from each side before fusing; 0: max(k, 50) */
} pv_query;

/* The defaults above, with no vector and no text. */
pv_query pv_query_default(void);

/* One hit of pv_query_run. */
typedef struct pv_match {
  uint32_t id;
  float score;      /* text only: BM25; hybrid: the fused score; vector only: -distance */
  float distance;   /* the vector distance, NaN when the vector side did not return it */
  float text_score; /* BM25, 0 when the text side did not return it (or no text) */
} pv_match;

/* Run query q: text only, vector only or hybrid, the hits that q's filter
 * accepts into out (room for q->k), *n_out of them: descending by score
 * then ascending by id (vector only: ascending by distance, as pv_search).
 * A text query scores documents that hold any of its terms; it returns
 * fewer than k hits when fewer match. Errors: PV_INVALID for neither
 * vector nor text, k out of range, text that is not UTF-8 (offset in
 * pv_errinfo) or has more than 256 distinct terms, options out of range,
 * and as pv_search for the vector; PV_NOMEM. Safe to call concurrently
 * with other reads. */
int pv_query_run(pv_index *idx, const pv_query *q, pv_match *out, size_t *n_out);

/* ------------------------------------------------------------------------ */
/* Persistence                                                              */
/* ------------------------------------------------------------------------ */
/* The format (docs/FORMAT.md) is little-endian and fixed-width, so the same
 * bytes load on wasm32 and 64-bit hosts; it keeps every setting, id,
 * tombstone and link, so a loaded index answers exactly as the saved one and
 * goes on issuing the same ids and levels. Loading rebuilds nothing. */

/* The newest format version this library writes and reads. */
#define PV_FORMAT_VERSION 2

/* Receives the serialized bytes in order, in pieces. Return 0 to go on,
 * anything else to stop the serialization (it then returns PV_ABORT with
 * "the writer stopped after N bytes"). data is only valid during the call. */
typedef int (*pv_writer)(void *ctx, const void *data, size_t len);

/* Exact number of bytes pv_serialize will produce for idx as it is now. */
size_t pv_serialized_size(const pv_index *idx);

/* Stream idx to write(ctx, ...), with no second copy of the index in memory
 * (checksums are computed as the bytes go out). Changes nothing in idx. */
int pv_serialize(pv_index *idx, pv_writer write, void *ctx);

/* Serialize into buf (caller owns, cap bytes). *len_out gets the size.
 * PV_RANGE with nothing meaningful in buf when cap is too small (the size
 * needed is in *len_out and in pv_errinfo's need). */
int pv_serialize_to(pv_index *idx, void *buf, size_t cap, size_t *len_out);

/* An export produces the serialized bytes in chunks, in any order and as
 * many times as wanted, without ever holding a copy of the whole: begin
 * computes the checksums in one pass over the index, then each read copies
 * the bytes [offset, offset + len) into buf (caller owns). The index must
 * not change in between: a read after an add, delete or compaction fails
 * with PV_MISUSE; a read past the end is PV_RANGE. Free the export with pv_export_end (NULL is a no-op);
 * that is safe even after pv_free of its index, but reads are not. */
typedef struct pv_export pv_export;
int pv_export_begin(pv_index *idx, pv_export **out);
uint64_t pv_export_size(const pv_export *e);
int pv_export_read(pv_export *e, uint64_t offset, void *buf, size_t len);
void pv_export_end(pv_export *e);

/* How pv_load treats the buffer. */
#define PV_LOAD_COPY   0u  /* copy everything; buf may be freed on return */
#define PV_LOAD_BORROW 1u  /* read the vectors and layer-0 links in place
                              (zero-copy) when buf is 4-byte aligned: buf
                              must stay valid and unchanged until pv_free.
                              The first write (an add or a compaction)
                              copies them into memory the index owns. */
#define PV_LOAD_TAKE   2u  /* as BORROW, and the index owns buf from a
                              successful return: it is freed, with the
                              index's allocator, once nothing reads it (at
                              the first write, or at pv_free). So buf must
                              come from that allocator (malloc by default).
                              On failure the caller still owns buf. */

/* The tag of the file an export writes (for pv_log_rebase): PV_OK, or
 * PV_MISUSE when the index changed since the export began. */
int pv_export_tag(pv_export *e, uint64_t *tag);

/* ------------------------------------------------------------------------ */
/* Incremental saves: the change log (docs/FORMAT.md, "The change log")     */
/* ------------------------------------------------------------------------ */
/* A saved index may be a file (the base) followed by log records, each
 * holding the changing calls of one incremental save; pv_load reads the
 * base and makes those calls again, ending with the index that was saved,
 * identical byte for byte. A host saves incrementally like this:
 *   - pv_log_start once the index matches what is stored (after a load, or
 *     at once for a new index followed by a whole save); from then on
 *     every successful change (pv_add_batch, pv_upsert_batch, pv_delete,
 *     pv_set_attributes, pv_compact and the calls built on them) is
 *     recorded. Recording stops by itself when the recorded calls pass
 *     64 MiB (or memory runs out): the next save must then be whole.
 *   - To save: pv_log_state's mark (the position now), then either
 *     pv_log_record (the calls up to the mark as one record, appended by
 *     the host after the stored bytes at `end`) and, once it is stored,
 *     pv_log_appended; or a whole save (pv_export_begin, pv_export_tag)
 *     and, once stored, pv_log_rebase. Calls made after the mark stay
 *     recorded for the next save.
 * A load keeps the log's state (tag, next sequence number, end), so the
 * next record follows what was read; a record cut short by a crash, and
 * whatever follows it, is ignored as an unfinished save. */
typedef struct pv_log_info {
  uint64_t base_tag;      /* the base the stored records follow; 0: none */
  uint64_t next_seq;      /* sequence number of the next record */
  uint64_t end;           /* bytes of the base and its valid records */
  uint64_t records;       /* valid records after the base */
  uint64_t cost_us;       /* the sum of their costs, as their writers gave them */
  uint64_t mark;          /* the recording's position now */
  uint64_t pending_ops;   /* calls recorded and not yet in a stored record */
  uint64_t pending_bytes; /* their bytes */
  uint64_t changes;       /* the index's count of changes (to compare with a snapshot's) */
  int recording;          /* 1 while recording */
} pv_log_info;

/* Start recording, from an empty journal. PV_OK. */
int pv_log_start(pv_index *idx);
/* The log's state into *out. */
void pv_log_state(const pv_index *idx, pv_log_info *out);
/* The record of the calls recorded before mark, its sequence number the
 * next one, `cost_us` the host's measure of their time (summed in
 * pv_log_info at load, so hosts can weigh the log against a whole save),
 * into buf (caller owns, cap bytes); *len_out gets its length. PV_RANGE
 * when cap is too small (need in pv_errinfo) or the mark is not in the
 * journal; PV_MISUSE when not recording or there is no base. */
int pv_log_record(pv_index *idx, uint64_t mark, uint64_t cost_us, void *buf, size_t cap,
                  size_t *len_out);
/* The checkpoint policy every host follows: 1 if a save now should append
 * the record of the calls before mark, 0 if it should write the whole
 * index (a checkpoint). It appends while a load of the base and its log
 * would spend at most `ratio` times the load of the index alone (load_us,
 * as the host measured it, and never less than a microsecond per
 * kilobyte) replaying the log: the stored records' costs, pending_us for
 * the calls not yet stored, and record_us per record for what the store
 * spends handing one over; and while the record is at most a quarter of
 * the stored index. 0 when not recording, with no base, or with a mark
 * outside the journal. The JS package and the CLI pass ratio 0.1. */
int pv_log_worth(const pv_index *idx, uint64_t mark, double pending_us, double load_us,
                 double record_us, double ratio);
/* The record of the calls before mark (len bytes) is stored after the
 * base: they leave the journal, the sequence number and end advance. */
int pv_log_appended(pv_index *idx, uint64_t mark, uint64_t len, uint64_t cost_us);
/* A whole save is stored: the file of tag `tag` and `size` bytes, made of
 * the index when it had made `changes` changes and its journal was at
 * mark, is the new base. The calls after the mark stay recorded; a
 * journal that was not recording starts now if nothing changed since. */
int pv_log_rebase(pv_index *idx, uint64_t mark, uint64_t changes, uint64_t tag, uint64_t size);

/* Load an index from len bytes at buf (the bytes are untrusted: every
 * count, offset, id and link is checked before use, and nothing is
 * allocated beyond what the bytes themselves justify). On success *out owns
 * a new index. On failure *out is NULL and pv_errmsg(NULL) says what is
 * wrong: PV_CORRUPT (bad magic, checksum, truncation, inconsistency),
 * PV_VERSION (a newer format), PV_NOMEM, PV_INVALID (bad arguments). */
int pv_load(const void *buf, size_t len, unsigned flags, pv_index **out);

/* pv_load with the allocator the index gets for its whole life (NULL: the
 * default; one lacking a function is PV_INVALID). With PV_LOAD_TAKE, buf
 * must come from that allocator. */
int pv_load_with_allocator(const void *buf, size_t len, unsigned flags,
                           const pv_allocator *alloc, pv_index **out);

/* What a file's header says, for tools that describe a file even when it
 * is damaged (pocketvec info). Nothing in it is verified except what
 * header_ok says: the fields are as written, possibly out of range. */
typedef struct pv_header {
  uint32_t version;     /* format version */
  uint64_t file_size;   /* bytes the header declares */
  int header_ok;        /* 1 if the header's checksum matches */
  pv_options options;   /* as written (capacity 0) */
  uint32_t slots;       /* live and deleted */
  uint32_t live;
  uint32_t next_id;     /* the id the next insert would get */
  uint32_t sections;    /* entries in the section table */
} pv_header;

/* Decode the header at the start of buf (len bytes) into *out, trusting
 * nothing. PV_OK when buf starts with the pocketvec magic number and holds a
 * whole header, else PV_CORRUPT (message in pv_errmsg(NULL)); use pv_verify
 * to check the rest. */
int pv_read_header(const void *buf, size_t len, pv_header *out);

/* One entry of a file's section table, as written (pocketvec info). */
typedef struct pv_section_info {
  uint32_t kind;       /* docs/FORMAT.md lists the kinds */
  int required;        /* 1 if a reader must know the kind to load the file */
  uint64_t offset, length;
  uint32_t checksum;   /* as written in the table */
  int checksum_ok;     /* 1 if the section's bytes match it (0 if out of bounds) */
  const char *name;    /* static; "unknown" for a kind this pocketvec does not know */
} pv_section_info;

/* Describe up to cap entries of the section table of the file in buf into
 * out (caller owns), trusting nothing: an entry out of bounds is reported
 * as such (checksum_ok 0), never read. *count gets the number of entries
 * the header declares. PV_OK when the header and the table lie within buf
 * and the table's own checksum matches, else PV_CORRUPT (message in
 * pv_errmsg(NULL)). */
int pv_read_sections(const void *buf, size_t len, pv_section_info *out, size_t cap,
                     size_t *count);

/* Check that len bytes at buf would load: every check of pv_load, by loading
 * in place and freeing the result (so it allocates only the small per-vector
 * arrays, about 30 bytes a vector, and the upper links). PV_OK, or the code
 * pv_load would give, with the message in pv_errmsg(NULL). */
int pv_verify(const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* POCKETVEC_H */
