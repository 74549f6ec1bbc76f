/* SPDX-License-Identifier: MIT */
/*
 * pv_fields: the attribute paths live documents use, with their types, so a
 * user interface can offer them and a user can check a filter's names. It
 * walks every document (a call for tools, not for a search's path).
 */
#include <string.h>

#include "attr/attr.h"
#include "index.h"

enum { T_NULL = 1, T_BOOL = 2, T_NUM = 4, T_STR = 8, T_ARR = 16, T_OBJ = 32 };
static const char *const type_name[] = {"null", "boolean", "number", "string", "array", "object"};

typedef struct field {
  size_t off, len; /* the path in the arena */
  unsigned types;
  uint32_t count, last; /* documents with it; the last slot counted */
} field;

typedef struct walk {
  pv_index *idx;
  pv_buf path, arena;
  field *f;
  size_t nf, fcap;
  uint32_t *tab, tcap; /* field index + 1 by path hash; 0: empty */
  int nomem;
} walk;

static unsigned type_bit(uint8_t t) {
  switch (t) {
  case PV_A_NULL: return T_NULL;
  case PV_A_FALSE:
  case PV_A_TRUE: return T_BOOL;
  case PV_A_NUM: return T_NUM;
  case PV_A_STR: return T_STR;
  case PV_A_ARR: return T_ARR;
  default: return T_OBJ;
  }
}

static int buf_put(walk *w, pv_buf *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    uint8_t *q = pv__realloc(w->idx, b->p, b->cap, cap);
    if (!q) return w->nomem = 1, 0;
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
  return 1;
}

static void buf_drop(walk *w, pv_buf *b) {
  pv__free(w->idx, b->p, b->cap);
  memset(b, 0, sizeof *b);
}

static int grow_table(walk *w) {
  uint32_t cap = w->tcap ? 2 * w->tcap : 64;
  uint32_t *t = pv__malloc(w->idx, sizeof(uint32_t) * cap);
  if (!t) return w->nomem = 1, 0;
  memset(t, 0, sizeof(uint32_t) * cap);
  for (size_t i = 0; i < w->nf; i++) {
    uint32_t h = pv__key_hash((const char *)w->arena.p + w->f[i].off, w->f[i].len), j = h & (cap - 1);
    while (t[j]) j = (j + 1) & (cap - 1);
    t[j] = (uint32_t)i + 1;
  }
  pv__free(w->idx, w->tab, sizeof(uint32_t) * w->tcap);
  w->tab = t;
  w->tcap = cap;
  return 1;
}

/* Note that document s has the current path with a value of type bits. */
static void note(walk *w, uint32_t s, unsigned bits) {
  if (w->nomem) return;
  const char *p = (const char *)w->path.p;
  size_t len = w->path.len;
  if (2 * (w->nf + 1) > w->tcap && !grow_table(w)) return;
  uint32_t j = pv__key_hash(p, len) & (w->tcap - 1);
  for (; w->tab[j]; j = (j + 1) & (w->tcap - 1)) {
    field *f = &w->f[w->tab[j] - 1];
    if (f->len == len && !memcmp(w->arena.p + f->off, p, len)) {
      f->types |= bits;
      if (f->last != s) f->count++, f->last = s;
      return;
    }
  }
  if (w->nf == w->fcap) {
    size_t cap = w->fcap ? 2 * w->fcap : 16;
    field *nf = pv__realloc(w->idx, w->f, sizeof(field) * w->fcap, sizeof(field) * cap);
    if (!nf) {
      w->nomem = 1;
      return;
    }
    w->f = nf;
    w->fcap = cap;
  }
  field x = {w->arena.len, len, bits, 1, s};
  if (!buf_put(w, &w->arena, p, len)) return;
  w->f[w->nf++] = x;
  w->tab[j] = (uint32_t)w->nf;
}

/* Append a member name to the path as the filter language writes it
 * (docs/FILTER.md): as is when it is a plain name and no keyword, else in
 * backticks with every backtick doubled, so a listed path can be pasted
 * into a filter and `a.b` (one member) differs from a.b (two). */
static int put_segment(walk *w, const char *name, size_t n, int first) {
  static const char *const kw[] = {"and", "or", "not", "in", "contains", "exists", "true", "false",
                                   "null"};
  int plain = n > 0;
  for (size_t i = 0; i < n && plain; i++) {
    char c = name[i];
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
    int rest = (c >= '0' && c <= '9') || c == '-';
    plain = alpha || (rest && (i > 0 || !first));
  }
  for (size_t k = 0; plain && k < sizeof kw / sizeof *kw; k++) {
    size_t j = 0;
    while (j < n && kw[k][j] && (name[j] | 0x20) == kw[k][j]) j++;
    if (j == n && !kw[k][j]) plain = 0;
  }
  if (plain) return buf_put(w, &w->path, name, n);
  if (!buf_put(w, &w->path, "`", 1)) return 0;
  for (size_t i = 0; i < n; i++)
    if (!buf_put(w, &w->path, &name[i], 1) || (name[i] == '`' && !buf_put(w, &w->path, "`", 1)))
      return 0;
  return buf_put(w, &w->path, "`", 1);
}

/* The members of object o under the current path. The encoding limits
 * depth, so the recursion is bounded. */
static void walk_object(walk *w, uint32_t s, const pv_aval *o) {
  const uint8_t *cur = o->p;
  const char *name;
  size_t nlen;
  pv_aval v;
  while (!w->nomem && pv__attr_next(o, &cur, &name, &nlen, &v)) {
    size_t keep = w->path.len;
    if ((keep && !buf_put(w, &w->path, ".", 1)) || !put_segment(w, name, nlen, keep == 0)) return;
    unsigned bits = type_bit(v.type);
    if (v.type == PV_A_ARR) {
      const uint8_t *ac = v.p;
      pv_aval e;
      while (pv__attr_next(&v, &ac, NULL, NULL, &e))
        if (e.type != PV_A_ARR && e.type != PV_A_OBJ) bits |= type_bit(e.type);
    }
    note(w, s, bits);
    if (v.type == PV_A_OBJ) walk_object(w, s, &v);
    w->path.len = keep;
  }
}


/* Append s (n bytes, valid UTF-8) as a JSON string; only '"', '\\' and
 * control characters need escapes. */
static void put_json_str(pv_buf *o, walk *w, const char *s, size_t n) {
  buf_put(w, o, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      buf_put(w, o, e, 2);
    } else if (c < 0x20) {
      static const char hex[] = "0123456789abcdef";
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      buf_put(w, o, e, 6);
    } else {
      buf_put(w, o, &s[i], 1);
    }
  }
  buf_put(w, o, "\"", 1);
}

int pv_fields(pv_index *idx, char *buf, size_t cap, size_t *len_out) {
  if (!len_out) return pv__error_null(idx, PV_INVALID, "len_out is NULL");
  walk w;
  memset(&w, 0, sizeof w);
  w.idx = idx;
  for (uint32_t s = 0; s < idx->st.n && !w.nomem; s++) {
    const pv_rec *r = pv__rec_of(idx, s);
    if (!r || !r->attr_len) continue;
    pv_aval root;
    pv__attr_root(pv__rec_attr(r), r->attr_len, &root);
    w.path.len = 0;
    walk_object(&w, s, &root);
  }
  pv_buf out = {0};
  if (!w.nomem) {
    for (size_t i = 1; i < w.nf; i++) { /* insertion sort: field counts are small */
      field x = w.f[i];
      size_t j = i;
      while (j > 0) {
        const field *y = &w.f[j - 1];
        size_t n = x.len < y->len ? x.len : y->len;
        int c = memcmp(w.arena.p + y->off, w.arena.p + x.off, n);
        if (c < 0 || (c == 0 && y->len <= x.len)) break;
        w.f[j] = w.f[j - 1];
        j--;
      }
      w.f[j] = x;
    }
    buf_put(&w, &out, "[", 1);
    for (size_t i = 0; i < w.nf; i++) {
      const field *f = &w.f[i];
      if (i) buf_put(&w, &out, ",", 1);
      buf_put(&w, &out, "{\"path\":", 8);
      put_json_str(&out, &w, (const char *)w.arena.p + f->off, f->len);
      buf_put(&w, &out, ",\"types\":[", 10);
      int first = 1;
      for (int t = 0; t < 6; t++) {
        if (!(f->types & (1u << t))) continue;
        if (!first) buf_put(&w, &out, ",", 1);
        first = 0;
        buf_put(&w, &out, "\"", 1);
        buf_put(&w, &out, type_name[t], strlen(type_name[t]));
        buf_put(&w, &out, "\"", 1);
      }
      char num[40];
      pv__fmt(num, sizeof num, "],\"count\":%u}", f->count);
      buf_put(&w, &out, num, strlen(num));
    }
    buf_put(&w, &out, "]", 1);
  }
  buf_drop(&w, &w.path);
  buf_drop(&w, &w.arena);
  pv__free(idx, w.f, sizeof(field) * w.fcap);
  pv__free(idx, w.tab, sizeof(uint32_t) * w.tcap);
  if (w.nomem) {
    buf_drop(&w, &out);
    return pv__error(idx, PV_NOMEM, "out of memory listing the attribute fields");
  }
  *len_out = out.len;
  int fits = buf && out.len <= cap;
  if (fits) memcpy(buf, out.p, out.len);
  buf_drop(&w, &out);
  if (!fits) {
    pv__error(idx, PV_RANGE, "the fields need %zu bytes; the buffer has %zu", *len_out, cap);
    pv__error_need(idx, *len_out);
    return PV_RANGE;
  }
  return pv__error(idx, PV_OK, NULL);
}
