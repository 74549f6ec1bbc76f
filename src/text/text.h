/* SPDX-License-Identifier: MIT */
/*
 * Full-text search: an inverted index over the documents' text, ranked by
 * BM25 (docs/TEXT.md).
 *
 * The index is keyed by id, not by slot: ids never change, so compaction
 * only drops postings and renumbers nothing, and a posting's id is the
 * hit. Each posting carries its document's length, so scoring needs no
 * id -> slot lookup; the one per-id lookup left, "is this document still
 * live", is a bitmap over ids (`on`).
 *
 *   terms      a dictionary: term bytes in an arena, an open-addressing
 *              table from bytes to term number, and the term numbers in
 *              byte order (for prefix queries), kept sorted at every write.
 *   postings   per term, one growable byte stream of postings in ascending
 *              id: varint(id - previous id), varint(tf), varint(doc length),
 *              and a skip entry per block of PV_TEXT_BLOCK postings (where
 *              the block starts, and the largest tf and smallest length in
 *              it: an upper bound of any of its scores, for MaxScore).
 *              Postings of deleted documents stay until compaction; the
 *              counts that scoring uses (df, N, total length) are kept
 *              live at every delete.
 *   forward    per slot (column PV_COL_TEXT), the sorted term numbers of
 *              its document and its length: what a delete needs to keep
 *              df exact, since the text itself is not stored.
 */
#ifndef PV_TEXT_H
#define PV_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "core/idset.h"

#define PV_TEXT_BLOCK 128u          /* postings per skip block */
#define PV_TEXT_MAX_QUERY_TERMS 256 /* distinct terms of one query, prefix expansions included */
#define PV_TEXT_PREFIX_TERMS 64     /* terms a prefix expands to, at most */

/* A block's impacts: up to PV_TEXT_IMPACTS (tf, length) pairs such that
 * every posting of the block has a tf at most and a length at least those
 * of one pair. BM25 grows with tf and falls with length, so the block's
 * best score under any k1 and b is at most the best over its pairs: a
 * bound as tight as the exact block maximum while the block's Pareto
 * front fits, and still valid when pairs are merged to make it fit. */
#define PV_TEXT_IMPACTS 4
typedef struct pv_tskip {
  uint32_t base; /* id of the posting before the block (0 for the first) */
  uint32_t off;  /* byte offset of the block in the stream */
  uint32_t tf[PV_TEXT_IMPACTS], dl[PV_TEXT_IMPACTS]; /* by tf ascending; tf 0: unused */
} pv_tskip;

/* Note a posting in block s's impacts; first: the block's first posting. */
void pv__imp_note(pv_tskip *s, int first, uint32_t tf, uint32_t dl);
/* 1 if one of s's pairs covers (tf, dl). */
int pv__imp_covers(const pv_tskip *s, uint32_t tf, uint32_t dl);

typedef struct pv_term {
  uint8_t *post;   /* the postings stream */
  pv_tskip *skip;  /* [n / PV_TEXT_BLOCK + 1] entries, skip_cap of room */
  uint32_t len, cap;
  uint32_t n;      /* postings, deleted documents' included */
  uint32_t df;     /* live documents holding the term */
  uint32_t last;   /* id of the last posting */
  uint32_t max_tf, min_dl; /* over every posting: the term's score bound */
  uint32_t skip_cap;
  uint32_t pending; /* 0, or during pv__text_reserve the term's row in its scratch */
  uint32_t str;    /* offset of the term in the arena: a length byte, then the bytes */
} pv_term;

/* Fill the skips of e (which has room for them) from its first `upto`
 * postings. */
void pv__text_skips(pv_term *e, uint32_t upto);

/* A document's forward record: its length and its terms, ascending, as
 * varints of the differences (the first from 0). */
typedef struct pv_tdoc {
  uint32_t dl;
  uint32_t nterms;
  uint32_t bytes;
  uint8_t data[];
} pv_tdoc;

typedef struct pv_text {
  unsigned flags;      /* tokenizer flags (PV_TOK_*): the index's, for queries too */
  pv_term *term;       /* [nterm], room for term_cap */
  uint32_t nterm, term_cap;
  uint8_t *arena;      /* term bytes */
  uint32_t arena_len, arena_cap;
  uint32_t *hash;      /* [hcap] term numbers, PV_NONE: empty */
  uint32_t hcap;
  uint32_t *sorted;    /* [nterm] term numbers, room for sorted_cap: the first
                          nsorted are 0 .. nsorted-1 in byte order, the rest
                          (terms added since) in number order */
  uint32_t nsorted, sorted_cap;
  pv_idset on;         /* the ids of live documents with text */
  uint32_t ndocs;      /* live documents with at least one token (BM25's N) */
  uint64_t total;      /* their tokens (for the average length) */
  uint32_t nforward;   /* slots with a forward record */
} pv_text;

/* ---- documents in (text.c) ---------------------------------------------- */

/* One document's terms as tokenized, before they enter the index: distinct
 * terms with their counts, in one allocation. */
typedef struct pv_tprep pv_tprep;
/* The terms of a batch's prepared documents, each held once. */
typedef struct pv_tvocab pv_tvocab;
void pv__text_vocab_free(pv_index *idx, pv_tvocab *w);

/* Tokenize text (len bytes) with the index's flags into *out (NULL when it
 * has no token), its terms into *vocab (created when NULL; the caller
 * frees it, after every document prepared with it). PV_OK, PV_INVALID
 * (not UTF-8: message names `what` and the offset), PV_FULL or PV_NOMEM,
 * with the status of idx set. */
int pv__text_prepare(pv_index *idx, pv_tvocab **vocab, const char *text, size_t len,
                     const char *what, pv_tprep **out);
void pv__text_prep_free(pv_index *idx, pv_tprep *p);
/* Reserve everything adding the n prepared documents (entries may be NULL,
 * all prepared with *vocab) as the next n ids will need, so that
 * pv__text_add cannot fail. Once the documents hold the index's term
 * numbers, *vocab is freed and set to NULL (later documents start a new
 * one). PV_OK or PV_NOMEM (more room, no content changed). */
int pv__text_reserve(pv_index *idx, pv_tvocab **vocab, pv_tprep *const *p, size_t n);
/* Index prepared document p as id in slot s (room reserved); p is consumed. */
void pv__text_add(pv_index *idx, uint32_t id, uint32_t s, pv_tprep *p);
/* Slot s (id) is being deleted: its postings leave every count at once. */
void pv__text_kill(pv_index *idx, uint32_t id, uint32_t s);
/* Drop the postings of deleted documents (compaction, after the slots
 * moved; ids do not change). Cannot fail: streams shrink in place. */
void pv__text_compact(pv_index *idx);
/* Free everything (pv_free). */
void pv__text_free(pv_index *idx);
/* The forward record of slot s, or NULL. */
pv_tdoc *pv__tdoc_of(const pv_index *idx, uint32_t s);
/* Check the text index against itself and the slots: every posting
 * decodes, ids ascend, skip entries and bounds hold, df, N and the total
 * length equal what the postings of live documents say, forward records
 * agree with the postings. PV_OK or PV_CORRUPT (status of idx). */
int pv__text_check(pv_index *idx);

/* The number of the term with these bytes, or PV_NONE. */
uint32_t pv__term_find(const pv_text *t, const char *b, size_t len);
/* Terms a and b in byte order: < 0, 0 or > 0. */
int pv__term_cmp(const pv_text *t, uint32_t a, uint32_t b);
/* Room for one more term of len bytes. PV_OK/PV_NOMEM (more room only). */
int pv__text_term_room(pv_index *idx, size_t len);
/* Add a term of len bytes with no postings (room made); its number. */
uint32_t pv__text_term_new(pv_text *t, const char *b, size_t len);
/* Bring the terms added since the last call into byte order. Without
 * memory for it they stay in the unsorted tail, which prefix queries scan. */
void pv__text_sort(pv_index *idx);

/* ---- the file section (save.c), for the section registry ------------------ */
struct pv_walker;
struct pv_layout;
int pv__text_present(const pv_index *idx);
uint64_t pv__text_len(const pv_index *idx);
void pv__text_walk(struct pv_walker *w, const pv_index *idx);
/* Load the section (len bytes at p, checked by its checksum only) into
 * idx, whose slots are loaded: PV_OK, or PV_CORRUPT/PV_NOMEM with the
 * message for NULL. */
int pv__text_load(pv_index *idx, const struct pv_layout *L, const uint8_t *p, uint64_t len);

/* ---- queries (bm25.c) ---------------------------------------------------- */

/* Search the text index: the k best documents for query (len bytes,
 * tokenized like documents; with prefix, its last term also matches every
 * term it begins, up to PV_TEXT_PREFIX_TERMS of them), those f accepts
 * (NULL: all), by BM25 with k1 and b, descending by score then ascending
 * by id. exact: score every posting of every term (the reference); else
 * MaxScore with block bounds. out has room for k; *n_out gets the count.
 * PV_OK, PV_INVALID (query not UTF-8, too many terms) or PV_NOMEM, status
 * set. */
int pv__text_search(pv_index *idx, const char *query, size_t len, int prefix, double k1,
                    double b, const pv_filter *f, int exact, size_t k, pv_match *out,
                    size_t *n_out);

/* ---- varints ------------------------------------------------------------- */
static inline size_t pv__uvar_put(uint8_t *p, uint32_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}
static inline size_t pv__uvar_len(uint32_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}
/* Read a varint of at most 5 bytes from p (end: one past the last byte that
 * may be read) into *v. The bytes read, or 0 when it runs past end or is
 * not a valid u32 (a fifth byte above 15, or non-shortest). */
static inline size_t pv__uvar_get(const uint8_t *p, const uint8_t *end, uint32_t *v) {
  uint32_t x = 0;
  for (size_t i = 0; i < 5 && p + i < end; i++) {
    uint8_t c = p[i];
    if (i == 4 && c > 15) return 0;
    x |= (uint32_t)(c & 0x7f) << (7 * i);
    if (!(c & 0x80)) {
      if (i && !c) return 0; /* a trailing zero byte: not the shortest form */
      *v = x;
      return i + 1;
    }
  }
  return 0;
}

/* One posting at p (before end) into v: the id's difference from the
 * previous posting's (the first's from 0), tf, dl; returns p past it. A
 * value that does not decode reads as 0 and takes no bytes, which only a
 * damaged list has, and the loader refuses those. One loop, not three
 * inlined copies of the varint, for the module's size; MaxScore's next()
 * (bm25.c) keeps its own three, where the loop measured slower. */
static inline const uint8_t *pv__posting_get(const uint8_t *p, const uint8_t *end, uint32_t v[3]) {
#ifdef __clang__
#pragma clang loop unroll(disable)
#endif
  for (int k = 0; k < 3; k++) {
    v[k] = 0;
    p += pv__uvar_get(p, end, &v[k]);
  }
  return p;
}

#endif /* PV_TEXT_H */
