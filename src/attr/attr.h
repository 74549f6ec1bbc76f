/* SPDX-License-Identifier: MIT */
/*
 * Attributes: the JSON-like values a document carries, kept in a compact
 * binary encoding (one allocation per document, read in place by the
 * filter evaluator without decoding). JSON text is what crosses the public
 * API; this module parses it into the encoding and prints it back.
 *
 * The encoding (docs/FORMAT.md, "attributes"), little-endian, byte-aligned:
 *   value  := tag payload
 *   tag 0 null | 1 false | 2 true              (no payload)
 *   tag 3 number: 8 bytes, an IEEE-754 double (finite)
 *   tag 4 string: varint n, n bytes of valid UTF-8
 *   tag 5 array:  varint bytes, varint count, count values (bytes counts
 *                 what follows the bytes varint itself)
 *   tag 6 object: varint bytes, varint count, count members
 *                 member := varint n, n bytes of UTF-8 name, value
 *                 names are unique within an object; order as given
 *   varint := LEB128, at most 5 bytes, the shortest form
 * A document's attributes are one object value. The empty object is stored
 * as no bytes at all (len 0), so documents without attributes cost nothing.
 * Nesting is limited to PV_ATTR_DEPTH levels, the encoding to
 * PV_MAX_ATTR_BYTES.
 */
#ifndef PV_ATTR_H
#define PV_ATTR_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

#define PV_ATTR_DEPTH 64

enum { PV_A_NULL = 0, PV_A_FALSE = 1, PV_A_TRUE = 2, PV_A_NUM = 3, PV_A_STR = 4,
       PV_A_ARR = 5, PV_A_OBJ = 6 };

/* A view of one encoded value (points into the encoding; owns nothing). */
typedef struct pv_aval {
  uint8_t type;     /* PV_A_* */
  double num;       /* PV_A_NUM */
  const uint8_t *p; /* STR: its bytes; ARR/OBJ: the first element/member */
  uint32_t len;     /* STR: bytes; ARR/OBJ: bytes of the elements/members */
  uint32_t count;   /* ARR/OBJ: elements/members */
} pv_aval;

/* A growable byte buffer on an index's allocator (NULL idx: the default
 * allocator). Free with pv__buf_free. */
typedef struct pv_buf {
  uint8_t *p;
  size_t len, cap;
} pv_buf;
void pv__buf_free(pv_index *idx, pv_buf *b);

/* Parse len bytes of JSON text (RFC 8259, strict: no comments, no trailing
 * commas, no NaN; numbers must be finite doubles; strings valid UTF-8 with
 * escapes resolved, a lone surrogate escape is an error; duplicate names in
 * an object are an error) that must be an object or null, into its
 * encoding appended to out (nothing appended for null or {}). Errors set
 * the status of idx: PV_INVALID with a message naming the byte offset and
 * what was expected (and pv_errinfo's offset), PV_NOMEM. `what` names the
 * text in messages ("attributes of document 3"). On error out->len is as
 * before. */
int pv__attr_parse(pv_index *idx, const char *json, size_t len, const char *what, pv_buf *out);

/* Print the encoded object at a (n bytes, 0 for {}) as compact JSON into
 * buf (cap bytes); *len_out gets the length the whole text needs (no NUL
 * is written). Numbers print so that they parse back to the same double
 * (shortest round-trip form is not required; %.17g-equivalent is fine),
 * integers up to 2^53 without a fraction or exponent. Returns PV_OK even
 * when cap is too small (the caller compares *len_out with cap). The
 * encoding must be valid (pv__attr_check). */
int pv__attr_print(const uint8_t *a, size_t n, char *buf, size_t cap, size_t *len_out);

/* Check untrusted bytes: a single object value filling exactly n bytes,
 * every rule above (UTF-8, unique names, shortest varints, finite numbers,
 * depth, counts and lengths consistent, no empty root object). n = 0 is
 * valid. PV_OK, or `code` with the status of idx (NULL: of the thread)
 * saying "<what>: <problem> at byte <offset>" (and, idx given, pv_errinfo's
 * offset);
 * the status is left alone on success. Attributes a caller passes encoded
 * are PV_INVALID; pv__attr_check is the loader's: PV_CORRUPT for NULL,
 * what "attributes". */
int pv__attr_check_as(pv_index *idx, int code, const char *what, const uint8_t *a, size_t n);
int pv__attr_check(const uint8_t *a, size_t n);

/* Attributes a caller passes encoded (n bytes at a): checked as
 * pv__attr_check_as(idx, PV_INVALID, what, ...), then appended to out.
 * PV_OK, PV_INVALID or PV_NOMEM (status of idx); out->len as before on
 * error. */
int pv__attr_take(pv_index *idx, const uint8_t *a, size_t n, const char *what, pv_buf *out);

/* Shallow merge, as JavaScript's { ...a, ...b }: b's members replace a's of
 * the same name (a null value is kept as null: it does not delete), new
 * names are appended in b's order. Result appended to out (nothing for an
 * empty object). PV_OK, PV_NOMEM, or PV_INVALID when the result exceeds
 * PV_MAX_ATTR_BYTES (status of idx). */
int pv__attr_merge(pv_index *idx, const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                   pv_buf *out);

/* The root object of an encoding (n = 0: the empty object). */
void pv__attr_root(const uint8_t *a, size_t n, pv_aval *out);
/* The member `name` (len bytes) of object o into *out: 1 if found, else 0. */
int pv__attr_member(const pv_aval *o, const char *name, size_t len, pv_aval *out);
/* Iterate an array's elements or an object's members: start with
 * *cursor = c->p; each call returns 1 and the next value (and, for an
 * object, its name in *name and *name_len; NULL allowed), or 0 at the end. */
int pv__attr_next(const pv_aval *c, const uint8_t **cursor, const char **name, size_t *name_len,
                  pv_aval *out);
/* Bytes of the encoded value starting at p (valid encoding). */
size_t pv__attr_size(const uint8_t *p);

/* 1 if s (n bytes) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int pv__utf8_valid(const char *s, size_t n);

/* ---- numbers (num.c), shared with the filter language ------------------ */
enum { PV_NUM_OK = 0, PV_NUM_DIGIT, PV_NUM_ZERO, PV_NUM_RANGE };
/* Read the JSON number at the start of s (at most len bytes):
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, the longest prefix that
 * is one. PV_NUM_OK: *out is the nearest double (round half to even;
 * underflow gives a zero of the sign) and *end the bytes used. Else *end
 * is where it fails: PV_NUM_DIGIT, a digit was expected there (also when s
 * starts with neither '-' nor a digit); PV_NUM_ZERO, a digit after a
 * leading 0; PV_NUM_RANGE (*end 0), beyond the largest double. Allocates
 * nothing; uses about 2 KB of stack for long or extreme numbers. */
int pv__num_parse(const char *s, size_t len, size_t *end, double *out);
/* Write finite x as JSON text at buf (room for PV_NUM_CHARS bytes, no NUL)
 * and return its length: integers up to 2^53 in full ("-0" for negative
 * zero), else the first of 15, 16 or 17 significant digits that reads back
 * to x, positional from 1e-6 up to 1e21 and with an exponent beyond, as
 * JavaScript writes numbers ("0.1", "1.5e+300", "1e-7"). */
#define PV_NUM_CHARS 32
size_t pv__num_format(double x, char *buf);

#endif /* PV_ATTR_H */
