/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for filters (src/filter/): compile arbitrary bytes and,
 * when they compile, evaluate the filter against a few fixed documents
 * (and against the part of the input after its first NUL, when that is a
 * JSON object).
 *
 * The target aborts (a finding) when, beyond what ASan and UBSan catch:
 *   - compiling returns other than PV_OK or PV_INVALID, fails without a
 *     message, with an offset outside the text, or with *out set;
 *   - a compiled tree is malformed: a child out of range or reached twice
 *     (a cycle or a shared node), a leaf without a path, a comparison
 *     without exactly one literal, a string or name outside the filter's
 *     block or not UTF-8;
 *   - "not (text)" does not evaluate to the negation of text, or "(text)"
 *     to the same, on any document (when the wrapped text still fits the
 *     nesting limit).
 *
 * Build and run: see fuzz/fuzz.mk (`make fuzz-run`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr/attr.h"
#include "filter/filter.h"
#include "pocketvec.h"

#define FINDING(...)                                             \
  do {                                                           \
    fprintf(stderr, "fuzz_filter: %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                                \
    fprintf(stderr, "\n");                                       \
    abort();                                                     \
  } while (0)

static const char *const DOCS[] = {
    "{}",
    "{\"a\":1,\"b\":\"x\",\"c\":true,\"d\":null,\"e\":[1,\"x\",null,false,[2],{\"f\":3}],"
    "\"o\":{\"p\":{\"q\":-0.5,\"r\":\"\"}},\"s\":\"hello world\",\"n\":-1e300}",
    "{\"a\":\"1\",\"b\":2,\"tags\":[\"work\",\"home\"],\"created\":1704067200,\"x\":{\"y\":[]},"
    "\"\xc3\xa9\":\"\xe2\x82\xac\",\"and\":false,\"\":0,\"`\":\"`\"}",
    "{\"a\":[],\"b\":{},\"c\":[[[]]],\"s\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\",\"t\":\"ab\"}",
};
#define NDOCS (sizeof DOCS / sizeof DOCS[0])
static pv_buf docs[NDOCS + 1];

/* Every node reachable once from the root, every leaf well formed. */
static void check_tree(const pv_filter *f, uint8_t *seen, uint32_t i) {
  for (;;) {
    if (i >= f->nnode) FINDING("node %u of %u", i, f->nnode);
    if (seen[i]++) FINDING("node %u reached twice", i);
    const pv_fnode *x = &f->node[i];
    const char *lo = (const char *)f, *hi = lo + f->bytes;
    switch (x->kind) {
      case PV_F_TRUE:
        return;
      case PV_F_AND:
      case PV_F_OR:
        check_tree(f, seen, x->a);
        i = x->b;
        continue;
      case PV_F_NOT:
        i = x->a;
        continue;
      case PV_F_CMP:
      case PV_F_CONTAINS:
        if (x->nlit != 1) FINDING("node %u: %u literals", i, x->nlit);
        if (x->kind == PV_F_CMP && x->op > PV_OP_GE) FINDING("node %u: op %u", i, x->op);
        break;
      case PV_F_IN:
      case PV_F_NIN:
        break;
      case PV_F_EXISTS:
        if (x->nlit) FINDING("node %u: exists with literals", i);
        break;
      default:
        FINDING("node %u: kind %u", i, x->kind);
    }
    if (x->nseg == 0) FINDING("node %u: no path", i);
    for (uint32_t s = 0; s < x->nseg; s++) {
      const char *n = x->seg[s].name;
      if (x->seg[s].len && (n < lo || n + x->seg[s].len > hi)) FINDING("node %u: a name outside", i);
      if (!pv__utf8_valid(n, x->seg[s].len)) FINDING("node %u: a name not UTF-8", i);
    }
    for (uint32_t l = 0; l < x->nlit; l++) {
      const pv_flit *v = &x->lit[l];
      if (v->type > PV_A_STR) FINDING("node %u: literal type %u", i, v->type);
      if (v->type == PV_A_STR) {
        const char *p = (const char *)v->p;
        if (v->len && (p < lo || p + v->len > hi)) FINDING("node %u: a string outside", i);
        if (!pv__utf8_valid(p, v->len)) FINDING("node %u: a string not UTF-8", i);
      }
    }
    return;
  }
}

/* Compile prefix + text + suffix; NULL when it does not compile. */
static pv_filter *wrapped(const char *prefix, const uint8_t *text, size_t n, const char *suffix) {
  size_t a = strlen(prefix), c = strlen(suffix);
  char *t = malloc(a + n + c);
  if (!t) abort();
  memcpy(t, prefix, a);
  memcpy(t + a, text, n);
  memcpy(t + a + n, suffix, c);
  pv_filter *f = NULL;
  int rc = pv_filter_compile(NULL, t, a + n + c, &f);
  free(t);
  if (rc != PV_OK && !strstr(pv_errmsg(NULL), "nested deeper than") &&
      !strstr(pv_errmsg(NULL), "filter too long"))
    FINDING("\"%s\" text \"%s\" does not compile: %s", prefix, suffix, pv_errmsg(NULL));
  return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) {
    for (size_t d = 0; d < NDOCS; d++)
      if (pv__attr_parse(NULL, DOCS[d], strlen(DOCS[d]), "doc", &docs[d]) != PV_OK)
        FINDING("doc %zu: %s", d, pv_errmsg(NULL));
    ready = 1;
  }
  /* The text is up to the first NUL; a JSON object after it is one more
   * document. */
  const uint8_t *nul = memchr(data, 0, size);
  size_t n = nul ? (size_t)(nul - data) : size, ndocs = NDOCS;
  docs[NDOCS].len = 0;
  if (nul && pv__attr_parse(NULL, (const char *)nul + 1, size - n - 1, "doc", &docs[NDOCS]) == PV_OK)
    ndocs++;

  pv_filter *f = (pv_filter *)1;
  int rc = pv_filter_compile(NULL, (const char *)data, n, &f);
  if (rc != PV_OK) {
    if (rc != PV_INVALID) FINDING("compile returned %d", rc);
    if (f) FINDING("compile failed and set *out");
    const char *m = pv_errmsg(NULL);
    if (!m[0] || strcmp(m, "not an error") == 0) FINDING("compile failed without a message");
    pv_error_info e;
    pv_errinfo(NULL, &e);
    if (e.offset < 0 || (uint64_t)e.offset > n) FINDING("offset %lld of %zu", (long long)e.offset, n);
    return 0;
  }
  uint8_t *seen = calloc(f->nnode, 1);
  if (!seen) abort();
  check_tree(f, seen, f->root);
  free(seen);
  int got[NDOCS + 1];
  for (size_t d = 0; d < ndocs; d++) got[d] = pv__filter_eval(f, docs[d].p, docs[d].len);
  if (f->node[f->root].kind != PV_F_TRUE) { /* the empty filter has no "(text)" */
    pv_filter *neg = wrapped("not (", data, n, "\n)"), *same = wrapped("(", data, n, "\n)");
    for (size_t d = 0; d < ndocs; d++) {
      if (neg && pv__filter_eval(neg, docs[d].p, docs[d].len) != !got[d])
        FINDING("doc %zu: not (f) is not the negation of f", d);
      if (same && pv__filter_eval(same, docs[d].p, docs[d].len) != got[d])
        FINDING("doc %zu: (f) differs from f", d);
    }
    pv_filter_free(neg);
    pv_filter_free(same);
  }
  pv_filter_free(f);
  return 0;
}
