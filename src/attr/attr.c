/* SPDX-License-Identifier: MIT */
/*
 * Attributes: the binary encoding (attr.h) read in place, checked when
 * untrusted, merged; the byte buffer it is built in; UTF-8 validation.
 * The JSON text side is json.c, numbers are num.c.
 */
#include <string.h>

#include "attr/encoding.h"

/* ------------------------------------------------------------------------ */
/* Buffers                                                                  */
/* ------------------------------------------------------------------------ */

/* Contract in encoding.h. Doubling keeps appends amortised O(1). A NULL
 * idx (the JS glue and the tests parse without an index) uses the default
 * allocator, whose malloc serves the first block: an allocator's realloc
 * only promises to take pointers it returned. */
int pv__buf_reserve(pv_index *idx, pv_buf *b, size_t extra) {
  if (extra <= b->cap - b->len) return PV_OK;
  if (extra > SIZE_MAX / 2 - b->len) return PV_NOMEM;
  size_t cap = b->cap ? b->cap * 2 : 64;
  if (cap < b->len + extra) cap = b->len + extra;
  void *p;
  if (idx) {
    p = pv__realloc(idx, b->p, b->cap, cap);
  } else {
    pv_allocator a = pv__default_allocator();
    p = b->p ? a.realloc(a.ctx, b->p, cap) : a.malloc(a.ctx, cap);
  }
  if (!p) return PV_NOMEM;
  b->p = p;
  b->cap = cap;
  return PV_OK;
}

/* Contract in attr.h. */
void pv__buf_free(pv_index *idx, pv_buf *b) {
  if (b->p) {
    if (idx) {
      pv__free(idx, b->p, b->cap);
    } else {
      pv_allocator a = pv__default_allocator();
      a.free(a.ctx, b->p);
    }
  }
  b->p = NULL;
  b->len = b->cap = 0;
}

/* Contract in encoding.h. The varints go in front of elements already
 * written because their sizes are known only at the end; moving the
 * elements costs O(bytes) per container, O(bytes * depth) for a document,
 * and saves a pass to measure first. */
int pv__attr_close(pv_index *idx, pv_buf *b, size_t start, uint32_t count) {
  size_t content = b->len - start - 1;
  size_t cs = pv__varint_size(count);
  uint32_t bytes = (uint32_t)(cs + content);
  size_t bs = pv__varint_size(bytes);
  if (pv__buf_reserve(idx, b, bs + cs)) return PV_NOMEM;
  uint8_t *p = b->p + start + 1;
  memmove(p + bs + cs, p, content);
  pv__varint_put(p, bytes);
  pv__varint_put(p + bs, count);
  b->len += bs + cs;
  return PV_OK;
}

/* ------------------------------------------------------------------------ */
/* Reading a valid encoding                                                 */
/* ------------------------------------------------------------------------ */

static double get_f64(const uint8_t *p) {
  uint64_t u = 0;
  for (int i = 7; i >= 0; i--) u = u << 8 | p[i];
  double x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* The value at p into *v; returns the end of the value. */
static const uint8_t *decode(const uint8_t *p, pv_aval *v) {
  v->type = *p++;
  v->num = 0;
  v->p = NULL;
  v->len = v->count = 0;
  switch (v->type) {
    case PV_A_NUM:
      v->num = get_f64(p);
      return p + 8;
    case PV_A_STR:
      v->len = pv__varint_get(&p);
      v->p = p;
      return p + v->len;
    case PV_A_ARR:
    case PV_A_OBJ: {
      uint32_t bytes = pv__varint_get(&p);
      const uint8_t *end = p + bytes;
      v->count = pv__varint_get(&p);
      v->p = p;
      v->len = (uint32_t)(end - p);
      return end;
    }
    default:
      return p;
  }
}

/* Contract in attr.h. O(1): containers carry their size. */
size_t pv__attr_size(const uint8_t *p) {
  const uint8_t *q = p + 1;
  switch (*p) {
    case PV_A_NUM:
      return 9;
    case PV_A_STR:
    case PV_A_ARR:
    case PV_A_OBJ: {
      uint32_t n = pv__varint_get(&q);
      return (size_t)(q - p) + n;
    }
    default:
      return 1;
  }
}

/* Contract in attr.h. */
void pv__attr_root(const uint8_t *a, size_t n, pv_aval *out) {
  if (n == 0) {
    out->type = PV_A_OBJ;
    out->num = 0;
    out->p = a;
    out->len = out->count = 0;
    return;
  }
  decode(a, out);
}

/* Contract in attr.h. */
int pv__attr_next(const pv_aval *c, const uint8_t **cursor, const char **name, size_t *name_len,
                  pv_aval *out) {
  const uint8_t *p = *cursor;
  /* len first: the empty root's p may be NULL, and NULL + 0 is undefined. */
  if ((c->type != PV_A_ARR && c->type != PV_A_OBJ) || !c->len || p >= c->p + c->len) return 0;
  const char *nm = NULL;
  size_t nl = 0;
  if (c->type == PV_A_OBJ) {
    nl = pv__varint_get(&p);
    nm = (const char *)p;
    p += nl;
  }
  if (name) *name = nm;
  if (name_len) *name_len = nl;
  *cursor = decode(p, out);
  return 1;
}

/* Contract in attr.h. A linear scan: objects are small, and a filter
 * resolves a path once per document. */
int pv__attr_member(const pv_aval *o, const char *name, size_t len, pv_aval *out) {
  if (o->type != PV_A_OBJ || !o->len) return 0;
  const uint8_t *p = o->p, *end = o->p + o->len;
  while (p < end) {
    uint32_t nl = pv__varint_get(&p);
    if (nl == len && memcmp(p, name, len) == 0) {
      decode(p + nl, out);
      return 1;
    }
    p += nl;
    p += pv__attr_size(p);
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* UTF-8                                                                    */
/* ------------------------------------------------------------------------ */

/* Contract in encoding.h. */
size_t pv__utf8_prefix(const char *str, size_t n) {
  if (n == 0) return 0; /* str may be NULL */
  const uint8_t *s = (const uint8_t *)str, *end = s + n;
  while (s < end) {
    uint8_t c = *s;
    if (c < 0x80) {
      s++;
      continue;
    }
    size_t k;
    uint8_t lo = 0x80, hi = 0xbf; /* the allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
      k = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      k = 2;
      if (c == 0xe0) lo = 0xa0;      /* overlong */
      else if (c == 0xed) hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
      k = 3;
      if (c == 0xf0) lo = 0x90;      /* overlong */
      else if (c == 0xf4) hi = 0x8f; /* above U+10FFFF */
    } else {
      break;
    }
    if ((size_t)(end - s) <= k || s[1] < lo || s[1] > hi) break;
    size_t i = 2;
    while (i <= k && (s[i] & 0xc0) == 0x80) i++;
    if (i <= k) break;
    s += k + 1;
  }
  return (size_t)(s - (const uint8_t *)str);
}

/* Contract in attr.h. */
int pv__utf8_valid(const char *s, size_t n) { return pv__utf8_prefix(s, n) == n; }

/* ------------------------------------------------------------------------ */
/* Duplicate names                                                          */
/* ------------------------------------------------------------------------ */

static uint32_t name_hash(const uint8_t *p, size_t n) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

/* Whether the names of the members at a and b (offsets of their name
 * varints) are equal. */
static int same_name(const uint8_t *a, const uint8_t *b) {
  uint32_t na = pv__varint_get(&a), nb = pv__varint_get(&b);
  return na == nb && memcmp(a, b, na) == 0;
}

/* The end of the member (name and value) at p of a valid encoding. */
static const uint8_t *skip_member(const uint8_t *p) {
  const uint8_t *q = p;
  uint32_t nl = pv__varint_get(&q);
  q += nl;
  return q + pv__attr_size(q);
}

/* Contract in encoding.h. Comparing every pair is quadratic, and an object
 * of 64 KB can hold 16,000 members; a hash table per object would be
 * memory from an allocator the checker of a loaded file does not have. So:
 * a small table on the stack holding one batch of members at a time, each
 * batch checked against itself and against every member after it. That is
 * O(count^2 / BATCH) lookups, a million for the largest object, with no
 * allocation. Small objects compare pairs directly. */
int64_t pv__attr_first_dup(const uint8_t *m, uint32_t count) {
  enum { SLOTS = 512, BATCH = SLOTS / 2, SMALL = 12 };
  if (count < 2) return -1;
  if (count <= SMALL) {
    const uint8_t *at[SMALL];
    const uint8_t *p = m;
    for (uint32_t j = 0; j < count; j++) {
      at[j] = p;
      for (uint32_t i = 0; i < j; i++)
        if (same_name(at[i], p)) return j;
      p = skip_member(p);
    }
    return -1;
  }
  uint32_t slot[SLOTS]; /* offset from m + 1 of a batch member; 0: empty */
  int64_t best = -1;
  const uint8_t *batch = m;
  for (uint32_t b0 = 0; b0 < count && (best < 0 || b0 < best); b0 += BATCH) {
    memset(slot, 0, sizeof slot);
    const uint8_t *p = batch, *next_batch = NULL;
    for (uint32_t j = b0; j < count && (best < 0 || j < best); j++) {
      const uint8_t *q = p;
      uint32_t nl = pv__varint_get(&q);
      uint32_t h = name_hash(q, nl) & (SLOTS - 1);
      int in_batch = j < b0 + BATCH;
      while (slot[h] && !same_name(m + slot[h] - 1, p)) h = (h + 1) & (SLOTS - 1);
      if (slot[h]) {
        best = j; /* the first one this batch finds is the smallest it can */
        break;
      }
      if (in_batch) slot[h] = (uint32_t)(p - m) + 1;
      p = skip_member(p);
      if (j + 1 == b0 + BATCH) next_batch = p;
    }
    if (!next_batch) break;
    batch = next_batch;
  }
  return best;
}

/* ------------------------------------------------------------------------ */
/* Checking untrusted bytes                                                 */
/* ------------------------------------------------------------------------ */

/* Read a varint of untrusted bytes at *p (before end) into *v: 0, or -1
 * when it is cut off, longer than 5 bytes, not in its shortest form or
 * above 2^32 - 1. */
static int varint_read(const uint8_t **p, const uint8_t *end, uint32_t *v) {
  const uint8_t *q = *p;
  uint64_t x = 0;
  for (unsigned i = 0;; i++) {
    if (q >= end || i == 5) return -1;
    uint8_t b = *q++;
    x |= (uint64_t)(b & 0x7fu) << (7 * i);
    if (!(b & 0x80u)) {
      if ((b == 0 && i > 0) || x > UINT32_MAX) return -1;
      break;
    }
  }
  *v = (uint32_t)x;
  *p = q;
  return 0;
}

/* Who is told what is wrong, and how (pv__attr_check_as). */
typedef struct why {
  pv_index *idx;
  int code;
  const char *what;
} why;

/* The status of y: "<what>: <problem> at byte <p - a>", and for a
 * caller's input the offset (a loader's would be one inside a section, not
 * in the file its pv_errinfo speaks of). */
static int corrupt(const why *y, const uint8_t *a, const uint8_t *p, const char *problem) {
  pv__error(y->idx, y->code, "%s: %s at byte %zu", y->what, problem, (size_t)(p - a));
  if (y->idx) pv__error_offset(y->idx, p - a);
  return y->code;
}

/* Contract in attr.h. */
int pv__attr_check(const uint8_t *a, size_t n) {
  return pv__attr_check_as(NULL, PV_CORRUPT, "attributes", a, n);
}

/* Contract in attr.h. One pass with an explicit stack (the WebAssembly
 * stack is small, and the depth is data), every length checked against
 * the end of its container before use. Canonical form is required too
 * (shortest varints, no empty root object), so that a checked encoding
 * prints to JSON that parses back to the very same bytes. The status is
 * left alone on success: a loader checks one encoding per document. */
int pv__attr_check_as(pv_index *idx, int code, const char *what, const uint8_t *a, size_t n) {
  typedef struct frame {
    const uint8_t *members, *end;
    uint32_t count, left;
    uint8_t type;
  } frame;
  frame st[PV_ATTR_DEPTH];
  int depth = 0;
  if (n == 0) return PV_OK;
  const why y = {idx, code, what};
  if (n > PV_MAX_ATTR_BYTES) {
    pv__error(idx, code, "%s: %zu bytes, more than the %u allowed", what, n, PV_MAX_ATTR_BYTES);
    return code;
  }
  const uint8_t *p = a, *end = a + n;
  if (*p != PV_A_OBJ) return corrupt(&y, a, p, "the root is not an object");
  for (;;) {
    const uint8_t *lim = end;
    if (depth > 0) {
      frame *f = &st[depth - 1];
      if (f->left == 0) {
        if (p != f->end) return corrupt(&y, a, p, "bytes left over after the last element");
        if (f->type == PV_A_OBJ) {
          int64_t d = pv__attr_first_dup(f->members, f->count);
          if (d >= 0) {
            const uint8_t *q = f->members;
            for (int64_t i = 0; i < d; i++) q = skip_member(q);
            return corrupt(&y, a, q, "duplicate name");
          }
        }
        if (--depth == 0) break;
        continue;
      }
      if (p >= f->end) return corrupt(&y, a, p, "fewer elements than the count says");
      f->left--;
      lim = f->end;
      if (f->type == PV_A_OBJ) {
        uint32_t nl;
        const uint8_t *at = p;
        if (varint_read(&p, lim, &nl)) return corrupt(&y, a, at, "bad name length");
        if (nl > (size_t)(lim - p)) return corrupt(&y, a, at, "name longer than its object");
        if (!pv__utf8_valid((const char *)p, nl)) return corrupt(&y, a, p, "name not UTF-8");
        p += nl;
        if (p >= lim) return corrupt(&y, a, p, "name without a value");
      }
    }
    const uint8_t *at = p;
    uint8_t tag = *p++;
    switch (tag) {
      case PV_A_NULL:
      case PV_A_FALSE:
      case PV_A_TRUE:
        break;
      case PV_A_NUM: {
        if (lim - p < 8) return corrupt(&y, a, at, "number cut off");
        uint64_t u = 0;
        for (int i = 7; i >= 0; i--) u = u << 8 | p[i];
        if (((u >> 52) & 0x7ff) == 0x7ff) return corrupt(&y, a, at, "number not finite");
        p += 8;
        break;
      }
      case PV_A_STR: {
        uint32_t sl;
        if (varint_read(&p, lim, &sl)) return corrupt(&y, a, at, "bad string length");
        if (sl > (size_t)(lim - p)) return corrupt(&y, a, at, "string longer than its container");
        if (!pv__utf8_valid((const char *)p, sl)) return corrupt(&y, a, at, "string not UTF-8");
        p += sl;
        break;
      }
      case PV_A_ARR:
      case PV_A_OBJ: {
        uint32_t bytes, count;
        if (depth == PV_ATTR_DEPTH) return corrupt(&y, a, at, "nested deeper than 64 levels");
        if (varint_read(&p, lim, &bytes)) return corrupt(&y, a, at, "bad container length");
        if (bytes > (size_t)(lim - p)) return corrupt(&y, a, at, "container longer than its parent");
        const uint8_t *cend = p + bytes;
        if (varint_read(&p, cend, &count)) return corrupt(&y, a, at, "bad element count");
        /* An element takes at least one byte, a member two. */
        if (count > (size_t)(cend - p) / (tag == PV_A_OBJ ? 2 : 1))
          return corrupt(&y, a, at, "count larger than the bytes can hold");
        if (depth == 0 && count == 0)
          return corrupt(&y, a, at, "an empty root object (stored as no bytes)");
        st[depth++] = (frame){p, cend, count, count, tag};
        break;
      }
      default:
        return corrupt(&y, a, at, "unknown type tag");
    }
  }
  if (p != end) return corrupt(&y, a, p, "bytes after the root object");
  return PV_OK;
}

/* ------------------------------------------------------------------------ */
/* Merging                                                                  */
/* ------------------------------------------------------------------------ */

#define USED 0x80000000u

/* The slot of table t (mask + 1 entries, each the offset + 1 of a member
 * of base, USED bit aside) holding the member named like the one at m, or
 * the empty slot where it would go. */
static uint32_t *find_slot(uint32_t *t, uint32_t mask, const uint8_t *base, const uint8_t *m) {
  const uint8_t *q = m;
  uint32_t nl = pv__varint_get(&q);
  uint32_t h = name_hash(q, nl) & mask;
  while (t[h] && !same_name(base + (t[h] & ~USED) - 1, m)) h = (h + 1) & mask;
  return &t[h];
}

/* Append n bytes at p to out: PV_OK or PV_NOMEM (out unchanged). */
static int append(pv_index *idx, pv_buf *out, const void *p, size_t n) {
  if (n == 0) return PV_OK; /* out->p and p may be NULL */
  if (pv__buf_reserve(idx, out, n)) return PV_NOMEM;
  memcpy(out->p + out->len, p, n);
  out->len += n;
  return PV_OK;
}

/* Contract in attr.h. */
int pv__attr_take(pv_index *idx, const uint8_t *a, size_t n, const char *what, pv_buf *out) {
  int rc = pv__attr_check_as(idx, PV_INVALID, what, a, n);
  if (rc) return rc;
  if (append(idx, out, a, n)) return pv__error(idx, PV_NOMEM, "%s: out of memory", what);
  return PV_OK;
}

/* Scratch memory from idx's allocator (NULL: the default), counted in
 * idx's usage while it lives; freed with tmp_free and the same n. */
static void *tmp_alloc(pv_index *idx, size_t n) {
  if (idx) return pv__malloc(idx, n);
  pv_allocator a = pv__default_allocator();
  return a.malloc(a.ctx, n);
}

static void tmp_free(pv_index *idx, void *p, size_t n) {
  if (idx) {
    pv__free(idx, p, n);
  } else {
    pv_allocator a = pv__default_allocator();
    a.free(a.ctx, p);
  }
}

/* Contract in attr.h. b's names go in a hash table (offsets into b, so
 * O(members) memory, freed before returning); a's members are written in
 * order, each replaced by b's when the table has its name (which marks it
 * used), then b's unused members in order. */
int pv__attr_merge(pv_index *idx, const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
                   pv_buf *out) {
  size_t start = out->len;
  if (bn == 0 || an == 0) {
    if (append(idx, out, an ? a : b, an ? an : bn)) goto nomem;
    return PV_OK;
  }
  pv_aval ra, rb;
  pv__attr_root(a, an, &ra);
  pv__attr_root(b, bn, &rb);
  uint32_t size = 16;
  while (size < 2 * rb.count) size *= 2;
  uint32_t *t = tmp_alloc(idx, size * sizeof *t);
  if (!t) goto nomem;
  memset(t, 0, size * sizeof *t);
  const uint8_t *p = rb.p, *bend = rb.p + rb.len;
  for (; p < bend; p = skip_member(p)) *find_slot(t, size - 1, rb.p, p) = (uint32_t)(p - rb.p) + 1;

  uint32_t count = 0;
  uint8_t tag = PV_A_OBJ;
  if (append(idx, out, &tag, 1)) goto nomem_t;
  for (p = ra.p; p < ra.p + ra.len; count++) {
    const uint8_t *next = skip_member(p);
    uint32_t *s = find_slot(t, size - 1, rb.p, p);
    const uint8_t *src = p;
    if (*s) {
      src = rb.p + (*s & ~USED) - 1;
      *s |= USED;
    }
    if (append(idx, out, src, (size_t)(skip_member(src) - src))) goto nomem_t;
    p = next;
  }
  for (p = rb.p; p < bend; p = skip_member(p)) {
    if (*find_slot(t, size - 1, rb.p, p) & USED) continue;
    if (append(idx, out, p, (size_t)(skip_member(p) - p))) goto nomem_t;
    count++;
  }
  tmp_free(idx, t, size * sizeof *t);
  /* The members alone may fit where the whole does not: measured again
   * once the varints are in. */
  if (out->len - start - 1 <= PV_MAX_ATTR_BYTES) {
    if (pv__attr_close(idx, out, start, count)) goto nomem;
    if (out->len - start <= PV_MAX_ATTR_BYTES) return PV_OK;
  }
  out->len = start;
  return pv__error(idx, PV_INVALID, "attributes: more than %u bytes once merged",
                   PV_MAX_ATTR_BYTES);

nomem_t:
  tmp_free(idx, t, size * sizeof *t);
nomem:
  out->len = start;
  return pv__error(idx, PV_NOMEM, "out of memory merging attributes");
}
