/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the text section of a file (src/text/save.c). A
 * whole file is guarded by checksums, so mutating one mostly tests the
 * checksum; here the input is the section's body itself, loaded into a
 * fixed index (40 documents, ids 0-39, every seventh deleted) as the file
 * loader would after the checksum passed.
 *
 * The target aborts (a finding) when, beyond what ASan and UBSan catch:
 *   - the load returns other than PV_OK, PV_CORRUPT or PV_NOMEM, or fails
 *     without a message;
 *   - a loaded text index fails pv_check (the loader accepted what the
 *     checker refuses);
 *   - a pruned text query and the exhaustive one disagree on it;
 *   - an upsert with text, a delete, a compaction, or a save and a load of
 *     it fails, or leaves an index pv_check refuses.
 *
 *   PV_TEXT_SEEDS=DIR fuzz_text    writes seed inputs (the text sections of
 *                                  real indexes of that shape) and exits
 *
 * Build and run: see fuzz/fuzz.mk (`make fuzz-run`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "persist/format.h"
#include "pocketvec.h"

#define FINDING(...)                                           \
  do {                                                         \
    fprintf(stderr, "fuzz_text: %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                              \
    fprintf(stderr, "\n");                                     \
    abort();                                                   \
  } while (0)

#define DIM 4
#define NDOCS 40

static const char *const WORDS[] = {
    "deploy", "cloud", "foundry", "caf\xc3\xa9", "CAFE", "\xce\x95\xce\xbb\xce\xbb\xce\xac\xce\xb4\xce\xb1",
    "\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd", "running", "runs", "the", "of", "a", "x1", "2024",
    "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0", "deployment", "deployed", "clouds"};
#define NWORDS (sizeof WORDS / sizeof WORDS[0])

/* The fixed index: with text (seeds) or without (the fuzzer's base). */
static pv_index *build(int with_text, unsigned flags, uint64_t seed) {
  pv_options o = pv_options_default();
  o.dim = DIM;
  o.metric = PV_L2;
  o.m = 4;
  o.ef_construction = 16;
  o.compact_threshold = 0;
  o.text = flags;
  pv_index *idx = NULL;
  if (pv_new(&o, &idx)) FINDING("pv_new: %s", pv_errmsg(NULL));
  for (uint32_t i = 0; i < NDOCS; i++) {
    float v[DIM] = {(float)i, (float)(i % 3), 1, -1};
    char text[512] = "";
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    size_t n = 1 + (seed >> 60);
    for (size_t w = 0; w < n; w++) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      strcat(text, WORDS[(seed >> 33) % NWORDS]);
      strcat(text, " ");
    }
    pv_doc d = {NULL, 0, v, NULL, 0, 0, with_text ? text : NULL, with_text ? strlen(text) : 0};
    if (pv_upsert(idx, &d, NULL)) FINDING("pv_upsert: %s", pv_errmsg(idx));
  }
  for (uint32_t id = 3; id < NDOCS; id += 7)
    if (pv_delete(idx, id)) FINDING("pv_delete: %s", pv_errmsg(idx));
  return idx;
}

static uint8_t *save(pv_index *idx, size_t *len) {
  *len = pv_serialized_size(idx);
  uint8_t *b = malloc(*len);
  if (!b || pv_serialize_to(idx, b, *len, len)) FINDING("save: %s", pv_errmsg(idx));
  return b;
}

static void write_seeds(const char *dir) {
  for (unsigned flags = 0; flags < 4; flags++) {
    for (uint64_t seed = 1; seed <= 3; seed++) {
      pv_index *idx = build(1, flags, seed);
      size_t len;
      uint8_t *b = save(idx, &len);
      uint64_t table = pv__get64(b + 88);
      uint32_t count = pv__get32(b + 96);
      for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = b + table + 32 * i;
        if (pv__get32(e) != PV_SEC_TEXT) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/text-%u-%u.sec", dir, flags, (unsigned)seed);
        FILE *f = fopen(path, "wb");
        size_t n = (size_t)pv__get64(e + 16);
        if (!f || fwrite(b + pv__get64(e + 8), 1, n, f) != n || fclose(f))
          FINDING("cannot write %s", path);
      }
      free(b);
      pv_free(idx);
    }
  }
}

static uint8_t *base;
static size_t base_len;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *dir = getenv("PV_TEXT_SEEDS");
  if (dir) {
    write_seeds(dir);
    exit(0);
  }
  pv_index *idx = build(0, 0, 1);
  base = save(idx, &base_len);
  pv_free(idx);
  return 0;
}

static void query_both(pv_index *idx, const char *text, int prefix) {
  pv_query q = pv_query_default();
  q.text = text;
  q.text_len = strlen(text);
  q.prefix = prefix;
  q.k = 5;
  pv_match a[5], b[5];
  size_t na = 0, nb = 0;
  int ra = pv_query_run(idx, &q, a, &na);
  q.exact = 1;
  int rb = pv_query_run(idx, &q, b, &nb);
  if (ra || rb) FINDING("query \"%s\": %d %d: %s", text, ra, rb, pv_errmsg(idx));
  if (na != nb) FINDING("query \"%s\": %zu hits pruned, %zu exhaustive", text, na, nb);
  for (size_t i = 0; i < na; i++)
    if (a[i].id != b[i].id || a[i].score != b[i].score)
      FINDING("query \"%s\": hit %zu differs", text, i);
}

static void check(pv_index *idx, const char *when) {
  if (pv_check(idx)) FINDING("%s: pv_check: %s", when, pv_errmsg(idx));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  pv_index *idx = NULL;
  if (pv_load(base, base_len, PV_LOAD_COPY, &idx)) FINDING("base: %s", pv_errmsg(NULL));
  pv_layout L;
  memset(&L, 0, sizeof L);
  L.next_id = idx->next_id;
  int rc = pv__text_load(idx, &L, data, size);
  if (rc != PV_OK && rc != PV_CORRUPT && rc != PV_NOMEM) FINDING("load returned %d", rc);
  if (rc) {
    const char *m = pv_errmsg(NULL);
    if (!m || !*m) FINDING("load failed with no message");
    pv_free(idx);
    return 0;
  }
  check(idx, "loaded");
  static const char *const Q[] = {"deploy cloud", "cafe", "d", "\xe6\x9d\xb1\xe4\xba\xac", "run the x1"};
  for (size_t i = 0; i < sizeof Q / sizeof Q[0]; i++) {
    query_both(idx, Q[i], 0);
    query_both(idx, Q[i], 1);
  }
  float v[DIM] = {1, 2, 3, 4};
  pv_doc d = {"k", 1, v, NULL, 0, 0, "deploy new clouds", 17};
  if (pv_upsert(idx, &d, NULL)) FINDING("upsert: %s", pv_errmsg(idx));
  check(idx, "upsert");
  for (uint32_t id = 0; id < NDOCS; id += 5)
    if (pv_contains(idx, id) && pv_delete(idx, id)) FINDING("delete: %s", pv_errmsg(idx));
  check(idx, "deletes");
  query_both(idx, "deploy clouds", 1);
  if (pv_compact(idx)) FINDING("compact: %s", pv_errmsg(idx));
  check(idx, "compact");
  query_both(idx, "deploy clouds", 1);
  size_t len;
  uint8_t *b = save(idx, &len);
  pv_index *back = NULL;
  if (pv_load(b, len, PV_LOAD_COPY, &back)) FINDING("reload: %s", pv_errmsg(NULL));
  check(back, "reloaded");
  pv_free(back);
  free(b);
  pv_free(idx);
  return 0;
}
