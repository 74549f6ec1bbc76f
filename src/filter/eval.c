/* SPDX-License-Identifier: MIT */
/*
 * Filters, evaluated: a compiled filter (filter.h) against a document's
 * encoded attributes, read in place. Allocates nothing and writes nothing
 * shared, so any number of threads may evaluate one filter at once.
 *
 * The semantics (docs/FILTER.md): a path goes through objects only; a
 * comparison, "in", "not in" and "contains" on a missing field or a value
 * of another type are false, so only "not" turns a missing field into a
 * match.
 */
#include <string.h>

#include "filter/filter.h"

/* ------------------------------------------------------------------------ */
/* Substrings                                                               */
/* ------------------------------------------------------------------------ */

/* The start of the maximal suffix of x (m bytes) in byte order, or in the
 * reverse order when rev, and the period of that suffix in *per. */
static size_t max_suffix(const uint8_t *x, size_t m, int rev, size_t *per) {
  size_t ms = 0, j = 1, k = 0, p = 1; /* best suffix, rival suffix, offset, period */
  while (j + k < m) {
    uint8_t a = x[j + k], b = x[ms + k];
    if (a == b) {
      if (k + 1 == p) {
        j += p;
        k = 0;
      } else {
        k++;
      }
    } else if ((a < b) != (rev != 0)) { /* the rival is smaller: skip past it */
      j += k + 1;
      k = 0;
      p = j - ms;
    } else { /* the rival is larger: it becomes the best */
      ms = j++;
      k = 0;
      p = 1;
    }
  }
  *per = p;
  return ms;
}

/* Whether the m bytes x occur in the n bytes y. The two-way algorithm of
 * Crochemore and Perrin: linear time and constant space. A naive scan
 * would be quadratic, and both strings come from users (a 64 KB attribute
 * and a filter of up to 64 KB); the tables of KMP or Boyer-Moore would be
 * memory the evaluator does not allocate. */
static int contains_bytes(const uint8_t *y, size_t n, const uint8_t *x, size_t m) {
  if (m == 0) return 1;
  if (m > n) return 0;
  size_t p1, p2, s1 = max_suffix(x, m, 0, &p1), s2 = max_suffix(x, m, 1, &p2);
  /* The critical factorisation x = x[0..l) x[l..m). */
  size_t l = s1 > s2 ? s1 : s2, per = s1 > s2 ? p1 : p2;
  /* When x has period per, a shift by per after a match of the right part
   * keeps in mem how much of the left part is known to match; otherwise
   * the shift is past the larger part, and nothing is remembered. */
  int periodic = memcmp(x, x + per, l) == 0;
  if (!periodic) per = (l > m - l ? l : m - l) + 1;
  size_t j = 0, mem = 0;
  while (j <= n - m) {
    size_t i = l > mem ? l : mem;
    while (i < m && x[i] == y[i + j]) i++;
    if (i < m) {
      j += i - l + 1;
      mem = 0;
      continue;
    }
    i = l;
    while (i > mem && x[i - 1] == y[i - 1 + j]) i--;
    if (i <= mem) return 1;
    j += per;
    mem = periodic ? m - per : 0;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Leaves                                                                   */
/* ------------------------------------------------------------------------ */

static int is_bool(uint8_t t) { return t == PV_A_FALSE || t == PV_A_TRUE; }

/* Scalars of the same type and value (numbers as doubles, so 0 == -0;
 * strings byte for byte). Arrays and objects equal nothing. */
static int equal(const pv_aval *a, const pv_aval *b) {
  if (a->type != b->type) return 0;
  switch (a->type) {
    case PV_A_NUM: return a->num == b->num;
    case PV_A_STR: return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
    case PV_A_ARR:
    case PV_A_OBJ: return 0;
    default: return 1;
  }
}

/* -1, 0 or 1 as strings compare byte-wise: the order of code points. */
static int strcmp_n(const pv_aval *a, const pv_aval *b) {
  size_t n = a->len < b->len ? a->len : b->len;
  int c = n ? memcmp(a->p, b->p, n) : 0;
  if (c) return c < 0 ? -1 : 1;
  return a->len < b->len ? -1 : a->len > b->len;
}

static int compare(uint8_t op, const pv_aval *v, const pv_flit *l) {
  if (op == PV_OP_EQ) return equal(v, l);
  if (op == PV_OP_NE) {
    int same = v->type == l->type || (is_bool(v->type) && is_bool(l->type));
    return same && !equal(v, l);
  }
  int c;
  if (v->type == PV_A_NUM && l->type == PV_A_NUM) {
    c = v->num < l->num ? -1 : v->num > l->num;
  } else if (v->type == PV_A_STR && l->type == PV_A_STR) {
    c = strcmp_n(v, l);
  } else {
    return 0;
  }
  switch (op) {
    case PV_OP_LT: return c < 0;
    case PV_OP_LE: return c <= 0;
    case PV_OP_GT: return c > 0;
    default: return c >= 0;
  }
}

/* Contract in filter.h; v NULL means the path leads nowhere (missing). */
int pv__filter_leaf(const pv_fnode *x, const pv_aval *v) {
  if (!v) return 0;
  switch (x->kind) {
    case PV_F_EXISTS:
      return 1;
    case PV_F_CMP:
      return compare(x->op, v, &x->lit[0]);
    case PV_F_IN:
    case PV_F_NIN: {
      if (v->type == PV_A_ARR || v->type == PV_A_OBJ) return 0;
      for (uint32_t i = 0; i < x->nlit; i++)
        if (equal(v, &x->lit[i])) return x->kind == PV_F_IN;
      return x->kind == PV_F_NIN;
    }
    case PV_F_CONTAINS: {
      const pv_flit *l = &x->lit[0];
      if (v->type == PV_A_STR && l->type == PV_A_STR) return contains_bytes(v->p, v->len, l->p, l->len);
      if (v->type != PV_A_ARR) return 0;
      const uint8_t *cur = v->p;
      pv_aval e;
      while (pv__attr_next(v, &cur, NULL, NULL, &e))
        if (equal(&e, l)) return 1;
      return 0;
    }
    default:
      return 0;
  }
}

/* ------------------------------------------------------------------------ */
/* Trees                                                                    */
/* ------------------------------------------------------------------------ */

/* Node i against the root object. Recursion only on the left of AND and
 * OR and under NOT, whose depth the compiler bounds (PV_FILTER_DEPTH); the
 * right side of a chain is a loop. */
static int eval(const pv_filter *f, uint32_t i, const pv_aval *root) {
  for (;;) {
    const pv_fnode *x = &f->node[i];
    switch (x->kind) {
      case PV_F_TRUE:
        return 1;
      case PV_F_AND:
        if (!eval(f, x->a, root)) return 0;
        i = x->b;
        break;
      case PV_F_OR:
        if (eval(f, x->a, root)) return 1;
        i = x->b;
        break;
      case PV_F_NOT:
        return !eval(f, x->a, root);
      default: {
        pv_aval v = *root, next;
        for (uint32_t s = 0; s < x->nseg; s++) {
          if (!pv__attr_member(&v, x->seg[s].name, x->seg[s].len, &next))
            return pv__filter_leaf(x, NULL);
          v = next;
        }
        return pv__filter_leaf(x, &v);
      }
    }
  }
}

/* Contract in filter.h. */
int pv__filter_eval(const pv_filter *f, const uint8_t *a, size_t n) {
  if (!f) return 1;
  pv_aval root;
  pv__attr_root(a, n, &root);
  return eval(f, f->root, &root);
}
