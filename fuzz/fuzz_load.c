/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the loader (src/persist.c): pv_verify and pv_load in
 * every mode on arbitrary bytes, then, whenever the bytes load, every kind
 * of call on the loaded index.
 *
 * Checksums cover every byte of a file, so almost every mutation of a real
 * file dies at the first CRC. To reach the checks behind them, each input
 * runs three times:
 *   1. as it is;
 *   2. with every CRC rewritten (header, each section from its table entry,
 *      the table), so a mutation of a count, link or id is judged on its
 *      content;
 *   3. as 2, and with file_size and the table offset made to agree with the
 *      length, so insertions and deletions also get through.
 *
 * Each buffer is an exact-size malloc block, so ASan reports any read past
 * either end. Beyond ASan and UBSan, the target aborts (a finding) when:
 *   - a call returns a status its contract does not allow;
 *   - a failed call leaves no message, or pv_load leaves *out set;
 *   - pv_verify and pv_load disagree (other than for memory);
 *   - a loaded index fails pv_check, before or after writes;
 *   - the modes load the same bytes into indexes that serialize differently;
 *   - a BORROW load, or writes to its index, change the buffer;
 *   - what an index serializes does not load, or loads into an index that
 *     serializes to different bytes.
 *
 * Build and run: see fuzz/fuzz.mk (`make fuzz-run`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pocketvec.h"
#include "../tests/pvfile.h"

/* ------------------------------------------------------------------------ */
/* Findings                                                                 */
/* ------------------------------------------------------------------------ */

#define FINDING(...)                                       \
  do {                                                     \
    fprintf(stderr, "fuzz_load: %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                          \
    fprintf(stderr, "\n");                                 \
    abort();                                               \
  } while (0)

static void need_msg(const char *m, const char *call) {
  if (!m || !m[0] || strcmp(m, "not an error") == 0)
    FINDING("%s failed without a message", call);
}

/* ------------------------------------------------------------------------ */
/* Bytes (fields and checksums: tests/pvfile.h)                            */
/* ------------------------------------------------------------------------ */

static uint8_t *dup(const uint8_t *b, size_t len, size_t shift) {
  uint8_t *p = malloc(len + shift + 1);
  if (!p) abort();
  if (len) memcpy(p + shift, b, len);
  return p;
}

/* ------------------------------------------------------------------------ */
/* Serializing                                                              */
/* ------------------------------------------------------------------------ */

/* The bytes of idx (malloc'd), or NULL with *len 0 for an index so large
 * that a buffer for it is refused. */
static uint8_t *ser(pv_index *idx, size_t *len) {
  size_t need = pv_serialized_size(idx), got = 0;
  *len = 0;
  if (need > ((size_t)256 << 20)) return NULL;
  uint8_t *b = malloc(need ? need : 1);
  if (!b) return NULL;
  int rc = pv_serialize_to(idx, b, need, &got);
  if (rc != PV_OK || got != need)
    FINDING("pv_serialize_to: %d (%s), %zu of %zu bytes", rc, pv_errmsg(idx), got, need);
  *len = need;
  return b;
}

/* What idx serializes to must load (COPY) into an index that serializes to
 * the same bytes. */
static void reload_same(pv_index *idx, const char *when) {
  size_t len;
  uint8_t *b = ser(idx, &len);
  if (!b) return;
  int rv = pv_verify(b, len);
  if (rv != PV_OK && rv != PV_NOMEM)
    FINDING("%s: pv_verify of a serialized index: %d %s", when, rv, pv_errmsg(NULL));
  pv_index *x = NULL;
  int rc = pv_load(b, len, PV_LOAD_COPY, &x);
  if (rc == PV_OK) {
    size_t l2;
    uint8_t *b2 = ser(x, &l2);
    if (b2 && (l2 != len || memcmp(b, b2, len) != 0))
      FINDING("%s: a serialized index reloads into different bytes", when);
    free(b2);
    pv_free(x);
  } else if (rc != PV_NOMEM) {
    FINDING("%s: a serialized index does not load: %d %s", when, rc, pv_errmsg(NULL));
  }
  free(b);
}

/* ------------------------------------------------------------------------ */
/* Using a loaded index                                                     */
/* ------------------------------------------------------------------------ */

static void search_ok(pv_index *idx, const float *q, size_t k, size_t ef, int exact) {
  pv_hit hits[16];
  size_t n = 99;
  int rc = exact ? pv_search_exact(idx, q, k, ef, hits, &n) : pv_search(idx, q, k, ef, hits, &n);
  if (rc == PV_NOMEM) return;
  if (rc != PV_OK) FINDING("pv_search%s: %d %s", exact ? "_exact" : "", rc, pv_errmsg(idx));
  size_t live = pv_count(idx);
  if (n > k || n > live) FINDING("pv_search: %zu hits for k %zu, %zu live", n, k, live);
  if (exact && n != (k < live ? k : live)) FINDING("pv_search_exact: %zu hits", n);
  for (size_t i = 0; i < n; i++)
    if (!pv_contains(idx, hits[i].id)) FINDING("pv_search returned id %u, not live", hits[i].id);
}

/* Every kind of call; returns nothing, aborts on a finding. */
static void use(pv_index *idx) {
  int rc = pv_check(idx);
  if (rc != PV_OK) FINDING("a loaded index fails pv_check: %s", pv_errmsg(idx));
  pv_options o;
  pv_get_options(idx, &o);
  size_t dim = o.dim;
  float *q = malloc(sizeof(float) * dim);
  if (!q) abort();
  for (size_t i = 0; i < dim; i++) q[i] = (float)((int)(i * 7 % 13) - 6) + 0.25f;

  search_ok(idx, q, 5, 0, 0);
  search_ok(idx, q, 16, 3, 0);
  search_ok(idx, q, 16, 0, 1);
  reload_same(idx, "as loaded");

  uint32_t id = 0;
  rc = pv_add(idx, q, &id);
  if (rc != PV_OK && rc != PV_NOMEM && rc != PV_FULL) FINDING("pv_add: %d %s", rc, pv_errmsg(idx));
  if (rc == PV_OK && !pv_contains(idx, id)) FINDING("pv_add: id %u is not there", id);
  uint32_t first;
  if (pv_list_ids(idx, &first, 1) > 0) {
    rc = pv_delete(idx, first);
    if (rc != PV_OK) FINDING("pv_delete(%u) of a live id: %d %s", first, rc, pv_errmsg(idx));
    if (pv_contains(idx, first)) FINDING("pv_delete(%u): still there", first);
  }
  search_ok(idx, q, 5, 0, 0);
  rc = pv_compact(idx);
  if (rc != PV_OK && rc != PV_NOMEM) FINDING("pv_compact: %d %s", rc, pv_errmsg(idx));
  if (rc == PV_OK && pv_deleted_count(idx) != 0) FINDING("pv_compact left tombstones");
  rc = pv_check(idx);
  if (rc != PV_OK) FINDING("pv_check after writes: %s", pv_errmsg(idx));
  search_ok(idx, q, 16, 0, 0);
  search_ok(idx, q, 16, 0, 1);
  reload_same(idx, "after writes");
  free(q);
}

/* ------------------------------------------------------------------------ */
/* One buffer in every mode                                                 */
/* ------------------------------------------------------------------------ */

static int allowed_load(int rc) {
  return rc == PV_OK || rc == PV_CORRUPT || rc == PV_VERSION || rc == PV_NOMEM;
}

/* The table reader of `pocketvec info` (pv_read_sections) and the header
 * decoder: whatever the bytes, they read only inside the buffer (ASan
 * watches) and agree with the loader: a file that loads has a readable
 * table whose every entry's checksum matches. */
static void describe(const uint8_t *data, size_t size, int loads) {
  uint8_t *v = dup(data, size, 0);
  pv_header h;
  int rh = pv_read_header(v, size, &h);
  if (rh != PV_OK && rh != PV_CORRUPT && rh != PV_NOMEM) FINDING("pv_read_header: %d", rh);
  pv_section_info info[8];
  size_t count = 0;
  int rs = pv_read_sections(v, size, info, 8, &count);
  if (rs != PV_OK && rs != PV_CORRUPT && rs != PV_NOMEM) FINDING("pv_read_sections: %d", rs);
  if (loads && rs != PV_OK) FINDING("a file that loads has no readable table: %s", pv_errmsg(NULL));
  for (size_t i = 0; rs == PV_OK && i < count && i < 8; i++) {
    if (!info[i].name) FINDING("section %zu has no name", i);
    if (loads && !info[i].checksum_ok) FINDING("a file that loads has a bad section %zu", i);
  }
  free(v);
}

static void run(const uint8_t *data, size_t size) {
  uint8_t *v = dup(data, size, 0);
  int rv = pv_verify(v, size);
  if (!allowed_load(rv)) FINDING("pv_verify: %d %s", rv, pv_errmsg(NULL));
  if (rv != PV_OK) need_msg(pv_errmsg(NULL), "pv_verify");
  free(v);
  describe(data, size, rv == PV_OK);

  /* COPY, BORROW, BORROW at an odd address, TAKE */
  static const unsigned flags[4] = {PV_LOAD_COPY, PV_LOAD_BORROW, PV_LOAD_BORROW, PV_LOAD_TAKE};
  uint8_t *first = NULL;
  size_t first_len = 0;
  for (int m = 0; m < 4; m++) {
    size_t shift = m == 2 ? 1 : 0;
    uint8_t *raw = dup(data, size, shift), *b = raw + shift;
    static char sentinel;
    pv_index *x = (pv_index *)(void *)&sentinel;
    int rc = pv_load(b, size, flags[m], &x);
    if (!allowed_load(rc)) FINDING("pv_load mode %d: %d %s", m, rc, pv_errmsg(NULL));
    if (rc != rv && rc != PV_NOMEM && rv != PV_NOMEM)
      FINDING("pv_verify says %d, pv_load mode %d says %d (%s)", rv, m, rc, pv_errmsg(NULL));
    if (rc != PV_OK) {
      need_msg(pv_errmsg(NULL), "pv_load");
      if (x != NULL) FINDING("a failed pv_load left *out set");
      free(raw); /* TAKE: the caller keeps the buffer on failure */
      continue;
    }
    if (x == NULL || x == (void *)&sentinel) FINDING("pv_load succeeded without an index");
    /* the modes agree on what they loaded */
    size_t len;
    uint8_t *s = ser(x, &len);
    if (s) {
      if (!first) {
        first = s;
        first_len = len;
      } else {
        if (len != first_len || memcmp(s, first, len) != 0)
          FINDING("pv_load mode %d gives other bytes than mode 0", m);
        free(s);
      }
    }
    use(x);
    if (flags[m] == PV_LOAD_BORROW && memcmp(b, data, size) != 0)
      FINDING("a BORROWED buffer was written (mode %d)", m);
    pv_free(x);
    if (flags[m] != PV_LOAD_TAKE) free(raw);
  }
  free(first);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  run(data, size);
  if (size >= 128) {
    uint8_t *b = dup(data, size, 0);
    fix_crcs(b, size, 0);
    if (memcmp(b, data, size) != 0) run(b, size);
    uint8_t *c = dup(data, size, 0);
    fix_crcs(c, size, 1);
    if (memcmp(c, data, size) != 0 && memcmp(c, b, size) != 0) run(c, size);
    free(c);
    free(b);
  }
  return 0;
}
