/* SPDX-License-Identifier: MIT */
/*
 * What attr.c and json.c share about the encoding beyond attr.h: varints,
 * buffer growth, closing a container, the duplicate-name search, UTF-8 and
 * escapes. Private to src/attr/ and src/filter/ (whose lexer reads strings
 * as JSON does).
 */
#ifndef PV_ATTR_ENCODING_H
#define PV_ATTR_ENCODING_H

#include "attr/attr.h"

static inline size_t pv__varint_size(uint32_t v) {
  return v < 0x80u ? 1 : v < 0x4000u ? 2 : v < 0x200000u ? 3 : v < 0x10000000u ? 4 : 5;
}

/* Write v as LEB128 at p (room for 5 bytes); returns the bytes written. */
static inline size_t pv__varint_put(uint8_t *p, uint32_t v) {
  size_t n = 0;
  while (v >= 0x80u) {
    p[n++] = (uint8_t)(v | 0x80u);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}

/* Read a varint of a valid encoding at *p and step past it. */
static inline uint32_t pv__varint_get(const uint8_t **p) {
  const uint8_t *q = *p;
  uint32_t v = 0;
  for (unsigned shift = 0;; shift += 7) {
    uint8_t b = *q++;
    v |= (uint32_t)(b & 0x7fu) << shift;
    if (!(b & 0x80u)) break;
  }
  *p = q;
  return v;
}

/* Make room for extra more bytes in b (idx's allocator, NULL: the
 * default). PV_OK or PV_NOMEM; sets no status. */
int pv__buf_reserve(pv_index *idx, pv_buf *b, size_t extra);

/* The container whose tag is at b->p[start], with its elements (count of
 * them) encoded after the tag up to b->len: insert its bytes and count
 * varints after the tag. PV_OK or PV_NOMEM (b unchanged); sets no status. */
int pv__attr_close(pv_index *idx, pv_buf *b, size_t start, uint32_t count);

/* The position (0-based) of the first member of an object whose name
 * repeats an earlier member's, or -1. m: its count members, validly
 * encoded (each member's value complete). Allocates nothing. */
int64_t pv__attr_first_dup(const uint8_t *m, uint32_t count);

/* The length of the longest prefix of s (n bytes) that is valid UTF-8
 * (pv__utf8_valid's rules): where the first bad byte sequence starts. */
size_t pv__utf8_prefix(const char *s, size_t n);

/* Decode the quoted string whose opening quote (" or ') is s[at], s
 * holding len bytes: JSON's rules (escapes resolved, a surrogate pair
 * joined, no control characters, valid UTF-8), and in a single-quoted
 * string \' too. The bytes go to dst (NULL: only measure), their number
 * to *n, and *end is past the closing quote. PV_OK, or what is wrong with
 * *end where (at the opening quote when it is never closed): */
enum { PV_STR_UNCLOSED = 1, PV_STR_CONTROL, PV_STR_ESCAPE, PV_STR_HEX, PV_STR_SURROGATE,
       PV_STR_UTF8 };
int pv__str_decode(const char *s, size_t len, size_t at, char *dst, size_t *n, size_t *end);
/* The message of a PV_STR_* error, and its hint into *hint (or NULL). */
const char *pv__str_error(int kind, const char **hint);

#endif /* PV_ATTR_ENCODING_H */
