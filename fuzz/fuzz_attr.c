/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for attributes (src/attr/): the input as JSON text, as
 * an untrusted binary encoding, and as a number.
 *
 * The target aborts (a finding) when, beyond what ASan and UBSan catch:
 *   - the parser returns other than PV_OK or PV_INVALID, fails without a
 *     message or with an offset outside the text, or leaves bytes behind;
 *   - what it accepts fails pv__attr_check, or prints to JSON that parses
 *     to other bytes, or prints differently a second time;
 *   - pv__attr_check accepts bytes that do not print and parse back to
 *     the very same bytes (it must accept canonical encodings only), or
 *     rejects without a message;
 *   - a number read by pv__num_parse differs from glibc's strtod (which is
 *     correctly rounded) on the same text, or does not print and read back
 *     to the same bits;
 *   - merging two accepted halves of the input gives an encoding that
 *     fails the check, or a member that is not b's, else a's.
 *
 * Build and run: see fuzz/fuzz.mk (`make fuzz-run`).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr/attr.h"
#include "pocketvec.h"

#define FINDING(...)                                           \
  do {                                                         \
    fprintf(stderr, "fuzz_attr: %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                              \
    fprintf(stderr, "\n");                                     \
    abort();                                                   \
  } while (0)

static void need_msg(const char *call) {
  const char *m = pv_errmsg(NULL);
  if (!m || !m[0] || strcmp(m, "not an error") == 0) FINDING("%s failed without a message", call);
}

/* The encoding (n bytes) as JSON text in a new malloc block, *len its length. */
static char *print(const uint8_t *a, size_t n, size_t *len) {
  pv__attr_print(a, n, NULL, 0, len);
  char *t = malloc(*len + 1);
  if (!t) abort();
  size_t again = 0;
  pv__attr_print(a, n, t, *len, &again);
  if (again != *len) FINDING("print needs %zu bytes, then %zu", *len, again);
  return t;
}

/* a must print to text that parses back to a, and prints the same again. */
static void round_trip(const uint8_t *a, size_t n, const char *what) {
  size_t len, len2;
  char *t = print(a, n, &len);
  pv_buf b = {0};
  if (pv__attr_parse(NULL, t, len, "printed", &b) != PV_OK)
    FINDING("%s: printed text does not parse: %s", what, pv_errmsg(NULL));
  if (b.len != n || (n && memcmp(b.p, a, n) != 0))
    FINDING("%s: printed and parsed: %zu bytes, not the same %zu", what, b.len, n);
  char *t2 = print(b.p, b.len, &len2);
  if (len2 != len || memcmp(t, t2, len) != 0) FINDING("%s: prints differently twice", what);
  free(t);
  free(t2);
  pv__buf_free(NULL, &b);
}

static uint64_t bits(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

/* The input's start as a number, against strtod. */
static void number(const uint8_t *data, size_t size) {
  double x = 0;
  size_t end = 0;
  int rc = pv__num_parse((const char *)data, size, &end, &x);
  if (rc != PV_NUM_OK && rc != PV_NUM_RANGE) return;
  if (rc == PV_NUM_OK && (end == 0 || end > size)) FINDING("number: end %zu of %zu", end, size);
  if (rc == PV_NUM_RANGE) { /* the whole of the number's text, for strtod */
    end = 0;
    while (end < size && data[end] && strchr("-+.0123456789eE", data[end])) end++;
  }
  char *t = malloc(end + 1);
  if (!t) abort();
  memcpy(t, data, end);
  t[end] = '\0';
  double want = strtod(t, NULL);
  free(t);
  if (rc == PV_NUM_RANGE) {
    if (isfinite(want)) FINDING("number: out of range, strtod says %.17g", want);
    return;
  }
  if (bits(x) != bits(want)) FINDING("number: %.17g, strtod %.17g", x, want);
  char buf[PV_NUM_CHARS + 1];
  size_t n = pv__num_format(x, buf);
  if (n > PV_NUM_CHARS) FINDING("number: %zu characters", n);
  double y = 0;
  if (pv__num_parse(buf, n, &end, &y) != PV_NUM_OK || end != n || bits(y) != bits(x))
    FINDING("number: %.17g printed as %.*s", x, (int)n, buf);
}

/* Whether two decoded values have the same encoding. */
static int same_value(const pv_aval *x, const pv_aval *y) {
  if (x->type != y->type || x->len != y->len || x->count != y->count) return 0;
  if (x->type == PV_A_NUM) return bits(x->num) == bits(y->num);
  return x->len == 0 || memcmp(x->p, y->p, x->len) == 0;
}

/* Merge two encodings and check the result member by member: each is b's
 * where b has the name, else a's, and every name of either is there. */
static void merge(const pv_buf *a, const pv_buf *b) {
  pv_buf m = {0};
  int rc = pv__attr_merge(NULL, a->p, a->len, b->p, b->len, &m);
  if (rc == PV_INVALID) {
    need_msg("merge");
    if (a->len + b->len <= PV_MAX_ATTR_BYTES) FINDING("merge of %zu + %zu bytes too large", a->len, b->len);
    return;
  }
  if (rc != PV_OK) FINDING("merge: %d", rc);
  if (pv__attr_check(m.p, m.len) != PV_OK) FINDING("merge: result fails the check: %s", pv_errmsg(NULL));
  pv_aval ra, rb, rm, v, w;
  pv__attr_root(a->p, a->len, &ra);
  pv__attr_root(b->p, b->len, &rb);
  pv__attr_root(m.p, m.len, &rm);
  const uint8_t *cur = rm.p;
  const char *name;
  size_t nl;
  uint32_t count = 0;
  while (pv__attr_next(&rm, &cur, &name, &nl, &v)) {
    count++;
    if (!pv__attr_member(&rb, name, nl, &w) && !pv__attr_member(&ra, name, nl, &w))
      FINDING("merge: a member of neither side");
    if (!same_value(&v, &w)) FINDING("merge: a member's value is not its source's");
  }
  cur = rb.p;
  while (pv__attr_next(&rb, &cur, &name, &nl, &v))
    if (!pv__attr_member(&rm, name, nl, &w)) FINDING("merge: a member of b is missing");
  cur = ra.p;
  while (pv__attr_next(&ra, &cur, &name, &nl, &v))
    if (!pv__attr_member(&rm, name, nl, &w)) FINDING("merge: a member of a is missing");
  if (count != rm.count) FINDING("merge: %u members, count says %u", count, rm.count);
  pv__buf_free(NULL, &m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* As JSON text. */
  pv_buf b = {0};
  int rc = pv__attr_parse(NULL, (const char *)data, size, "fuzz", &b);
  if (rc == PV_OK) {
    if (pv__attr_check(b.p, b.len) != PV_OK)
      FINDING("parsed bytes fail the check: %s", pv_errmsg(NULL));
    if (b.len > PV_MAX_ATTR_BYTES) FINDING("%zu bytes encoded", b.len);
    round_trip(b.p, b.len, "parsed");
  } else {
    if (rc != PV_INVALID) FINDING("parse returned %d", rc);
    need_msg("parse");
    if (b.len != 0) FINDING("parse failed and left %zu bytes", b.len);
    pv_error_info e;
    pv_errinfo(NULL, &e);
    if (e.offset < 0 || (uint64_t)e.offset > size) FINDING("offset %lld of %zu", (long long)e.offset, size);
  }
  pv__buf_free(NULL, &b);

  /* As an encoding from a file. */
  if (pv__attr_check(data, size) == PV_OK)
    round_trip(data, size, "checked");
  else
    need_msg("check");

  /* As a number. */
  number(data, size);

  /* Split at the first NUL: two texts to merge. */
  const uint8_t *nul = memchr(data, 0, size);
  if (nul) {
    pv_buf x = {0}, y = {0};
    size_t n1 = (size_t)(nul - data);
    if (pv__attr_parse(NULL, (const char *)data, n1, "a", &x) == PV_OK &&
        pv__attr_parse(NULL, (const char *)nul + 1, size - n1 - 1, "b", &y) == PV_OK)
      merge(&x, &y);
    pv__buf_free(NULL, &x);
    pv__buf_free(NULL, &y);
  }
  return 0;
}
