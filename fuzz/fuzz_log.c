/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the change log (src/persist/log.c): what follows a
 * file's base is untrusted like the rest. The base is fixed (30 documents
 * with keys, attributes and text, some deleted); the input becomes what
 * follows it, in one of two ways chosen by its first byte:
 *   - even: the bytes as they are (torn records, wrong tags, sequence
 *     numbers, checksums: mostly the framing);
 *   - odd: the calls of one record (the rest of the input), wrapped in a
 *     valid header and checksum, so that the calls themselves are parsed
 *     and replayed (the checksum would otherwise stop nearly every input).
 *
 * The target aborts (a finding) when, beyond what ASan and UBSan catch:
 *   - the load returns other than PV_OK, PV_CORRUPT or PV_NOMEM, or fails
 *     without a message;
 *   - a loaded index fails pv_check;
 *   - the loaded index, saved and loaded again, is not the same bytes, or
 *     refuses a change and a save after it.
 *
 *   PV_LOG_SEEDS=DIR fuzz_log    writes seed inputs (both kinds, from the
 *                                records of real changes) and exits
 *
 * Build and run: see fuzz/fuzz.mk (`make fuzz-run`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "kernels/kernels.h"
#include "persist/format.h"
#include "pocketvec.h"

#define FINDING(...)                                          \
  do {                                                        \
    fprintf(stderr, "fuzz_log: %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                             \
    fprintf(stderr, "\n");                                    \
    abort();                                                  \
  } while (0)

#define DIM 4

static uint8_t *base;
static size_t base_len;
static uint64_t tag;

static void doc(pv_index *idx, uint32_t i) {
  char key[16], attrs[48], text[48];
  float v[DIM] = {(float)(i % 5), (float)(i % 3), 1.0f + (float)i, (float)(i * 7 % 11)};
  snprintf(key, sizeof key, "k%u", i);
  snprintf(attrs, sizeof attrs, "{\"i\":%u,\"tag\":\"%c\"}", i, 'a' + (int)(i % 3));
  snprintf(text, sizeof text, "word%u deploy cloud %u", i % 4, i);
  pv_doc d = {key, strlen(key), v, attrs, strlen(attrs), 0, text, strlen(text)};
  if (pv_upsert(idx, &d, NULL)) FINDING("upsert: %s", pv_errmsg(idx));
}

/* The fixed base, recording from its save on. */
static pv_index *make_base(void) {
  pv_options o = pv_options_default();
  o.dim = DIM;
  o.metric = PV_L2;
  o.m = 4;
  o.ef_construction = 16;
  pv_index *idx = NULL;
  if (pv_new(&o, &idx)) FINDING("pv_new: %s", pv_errmsg(NULL));
  for (uint32_t i = 0; i < 30; i++) doc(idx, i);
  for (uint32_t i = 0; i < 30; i += 7) pv_delete(idx, i);
  pv_log_start(idx);
  pv_log_info li;
  pv_log_state(idx, &li);
  pv_export *e;
  if (pv_export_begin(idx, &e) || pv_export_tag(e, &tag)) FINDING("export");
  base_len = (size_t)pv_export_size(e);
  base = malloc(base_len);
  if (!base || pv_export_read(e, 0, base, base_len)) FINDING("export read");
  pv_export_end(e);
  pv_log_rebase(idx, li.mark, li.changes, tag, base_len);
  return idx;
}

/* base + one record of `calls` calls whose bytes are body (a valid frame). */
static uint8_t *wrap(const uint8_t *body, size_t n, uint32_t calls, size_t *len) {
  size_t rec = 48 + n + 4;
  uint8_t *b = malloc(base_len + rec);
  if (!b) abort();
  memcpy(b, base, base_len);
  uint8_t *h = b + base_len;
  memcpy(h, PV_LOG_MAGIC, 8);
  pv__put32(h + 8, 1);
  pv__put32(h + 12, calls);
  pv__put64(h + 16, tag);
  pv__put64(h + 24, 1);
  pv__put64(h + 32, rec);
  pv__put64(h + 40, 0);
  if (n) memcpy(h + 48, body, n);
  pv__put32(h + rec - 4, pv__sum_of(pv_kernels_best(), h, rec - 4));
  *len = base_len + rec;
  return b;
}

/* Records of real changes to the fixed base, each holding every call
 * since it (so the raw ones follow the base the target uses). */
static void seeds(const char *dir) {
  pv_index *idx = make_base();
  for (int s = 0; s < 6; s++) {
    for (uint32_t i = 0; i < (uint32_t)s + 1; i++) doc(idx, 100 + 10 * (uint32_t)s + i);
    if (s % 2) pv_delete_key(idx, "k3", 2);
    if (s == 3) pv_compact(idx);
    if (s == 4) pv_set_attributes(idx, 1, "{\"pinned\":true}", 15, PV_ATTR_MERGE);
    pv_log_info li;
    pv_log_state(idx, &li);
    size_t need = 0;
    pv_log_record(idx, li.mark, 0, NULL, 0, &need);
    uint8_t *r = malloc(need + 1);
    if (!r || pv_log_record(idx, li.mark, 0, r + 1, need, &need)) FINDING("record");
    char path[512];
    /* Raw: a byte 0, then the record as it follows the base. */
    r[0] = 0;
    snprintf(path, sizeof path, "%s/raw-%d", dir, s);
    FILE *f = fopen(path, "wb");
    if (f) fwrite(r, 1, need + 1, f), fclose(f);
    /* Wrapped: a byte 1, then the calls (the record's body). */
    r[48] = 1;
    snprintf(path, sizeof path, "%s/calls-%d", dir, s);
    f = fopen(path, "wb");
    if (f) fwrite(r + 48, 1, need - 48 - 4 + 1, f), fclose(f);
    free(r); /* the next seed's record holds these calls and more */
  }
  pv_free(idx);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *dir = getenv("PV_LOG_SEEDS");
  if (dir) {
    seeds(dir);
    exit(0);
  }
  pv_free(make_base());
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  size_t len;
  uint8_t *b;
  if (data[0] & 1) {
    /* Count the calls the body frames (kind, length, arguments). */
    uint32_t calls = 0;
    for (size_t o = 1; o + 8 <= size; calls++) {
      uint32_t n = (uint32_t)data[o + 4] | (uint32_t)data[o + 5] << 8 | (uint32_t)data[o + 6] << 16 |
                   (uint32_t)data[o + 7] << 24;
      if (n > size - o - 8) break;
      o += 8 + n;
    }
    b = wrap(data + 1, size - 1, calls ? calls : 1, &len);
  } else {
    len = base_len + size - 1;
    b = malloc(len);
    if (!b) abort();
    memcpy(b, base, base_len);
    memcpy(b + base_len, data + 1, size - 1);
  }
  pv_index *idx = NULL;
  int rc = pv_load(b, len, PV_LOAD_COPY, &idx);
  if (rc != PV_OK && rc != PV_CORRUPT && rc != PV_NOMEM) FINDING("load returned %d", rc);
  if (rc != PV_OK) {
    if (!pv_errmsg(NULL)[0]) FINDING("a failed load without a message");
    free(b);
    return 0;
  }
  if (pv_check(idx)) FINDING("a replayed index fails pv_check: %s", pv_errmsg(idx));
  size_t n = pv_serialized_size(idx);
  uint8_t *out = malloc(n), *again = malloc(n);
  if (!out || !again || pv_serialize_to(idx, out, n, &n)) FINDING("serialize");
  pv_index *back = NULL;
  if (pv_load(out, n, PV_LOAD_COPY, &back)) FINDING("reload: %s", pv_errmsg(NULL));
  size_t m = n;
  if (pv_serialized_size(back) != n || pv_serialize_to(back, again, n, &m) || memcmp(out, again, n))
    FINDING("saved and loaded again, the index differs");
  doc(back, 999);
  if (pv_check(back)) FINDING("a change after the reload breaks it: %s", pv_errmsg(back));
  pv_free(back);
  pv_free(idx);
  free(out);
  free(again);
  free(b);
  return 0;
}
