/* SPDX-License-Identifier: MIT */
/* peer_native: pocketvec native, as one contestant of the peer benchmark
 * (bench/peers/run.mjs runs it in the same run as the WASM libraries).
 *
 *   peer_native DIR STORAGE M EFC SEED PASSES EF[,EF...]
 *
 * DIR holds the dataset the harness wrote (bench/peers/data.mjs):
 * meta.json's figures repeated here as raw files, base.f32 (n x dim),
 * queries.f32 (nq x dim; for a leave-one-out set, the base itself),
 * truth.u32 (nq x 10 base indexes) and loo (present for leave-one-out:
 * query i must not count base vector i, so k + 1 are asked and i dropped).
 * The dimension and counts come from the file sizes and dims.txt.
 *
 * It builds a cosine index (pv_add_batch in chunks of 1,000, like the JS
 * side), measures for each ef the recall@10 and single-query latency
 * (one untimed pass for recall, one warm-up, PASSES timed; each search
 * timed alone with CLOCK_MONOTONIC), memory after the build (the index's
 * own pv_memory_usage and the process's RSS growth), and the time pv_load
 * takes to open the serialized index from a buffer in memory (copying,
 * and borrowing the buffer in place). One JSON object goes to stdout;
 * errors go to stderr with exit status 1.
 *
 * Kept apart from bench_native.c: that one owns the fixed seeded
 * workloads and their cache; this one measures whatever the harness hands
 * it, the same way the harness measures the other libraries. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pocketvec.h"
#include "stats.h"

#define K 10
#define CHUNK 1000
#define MAX_EF 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *why) {
  fprintf(stderr, "peer_native: %s: %s\n", what, why);
  exit(1);
}

/* The whole file at dir/name, malloc'd; *len its size. Dies on error. */
static void *slurp(const char *dir, const char *name, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) die(path, "cannot open");
  if (fseek(f, 0, SEEK_END) != 0) die(path, "cannot seek");
  long size = ftell(f);
  if (size < 0) die(path, "cannot tell its size");
  rewind(f);
  void *buf = malloc(size ? (size_t)size : 1);
  if (!buf) die(path, "out of memory");
  if (fread(buf, 1, (size_t)size, f) != (size_t)size) die(path, "short read");
  fclose(f);
  *len = (size_t)size;
  return buf;
}

/* Resident set size in bytes, from /proc/self/statm (0 if unreadable). */
static size_t rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long pages = 0, resident = 0;
  if (!f) return 0;
  if (fscanf(f, "%lu %lu", &pages, &resident) != 2) resident = 0;
  fclose(f);
  return (size_t)resident * 4096u;
}


/* Search query q (index qi) for the top K, leaving out base vector qi when
 * loo is set; writes up to K base indexes to out. Returns the count. */
static size_t top_k(pv_index *ix, const float *q, size_t qi, size_t ef, int loo,
                    const uint32_t *slot_of_id, uint32_t id_base, uint32_t *out) {
  pv_hit hits[K + 1];
  size_t got = 0, kept = 0;
  int rc = pv_search(ix, q, loo ? K + 1 : K, ef, hits, &got);
  if (rc != PV_OK) die("pv_search", pv_errmsg(ix));
  for (size_t i = 0; i < got && kept < K; i++) {
    uint32_t b = slot_of_id[hits[i].id - id_base];
    if (loo && b == qi) continue;
    out[kept++] = b;
  }
  return kept;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: peer_native DIR f32|sq8|binary|binary-f32 M EFC SEED PASSES EF[,EF...]\n");
    return 2;
  }
  const char *dir = argv[1];
  static const struct { const char *name; pv_storage storage; } STORAGES[] = {
      {"f32", PV_F32}, {"sq8", PV_SQ8}, {"binary", PV_BINARY}, {"binary-f32", PV_BINARY_F32}};
  const char *storage = argv[2];
  int st = -1;
  for (int i = 0; i < 4; i++)
    if (strcmp(storage, STORAGES[i].name) == 0) st = i;
  if (st < 0) die(storage, "storage must be f32, sq8, binary or binary-f32");
  unsigned m = (unsigned)strtoul(argv[3], NULL, 10);
  unsigned efc = (unsigned)strtoul(argv[4], NULL, 10);
  unsigned long long seed = strtoull(argv[5], NULL, 10);
  unsigned passes = (unsigned)strtoul(argv[6], NULL, 10);
  size_t efs[MAX_EF], n_ef = 0;
  for (char *s = argv[7]; *s && n_ef < MAX_EF;) {
    char *end;
    efs[n_ef++] = strtoul(s, &end, 10);
    s = *end == ',' ? end + 1 : end;
    if (end == s && *s) die(argv[7], "bad ef list");
  }
  if (!n_ef || !passes || !m || !efc) die("arguments", "m, efc, passes and the ef list must be positive");

  size_t len, dim_len;
  char *dims = slurp(dir, "dims.txt", &dim_len);
  size_t dim = strtoul(dims, NULL, 10);
  free(dims);
  if (!dim) die("dims.txt", "no dimension");
  float *base = slurp(dir, "base.f32", &len);
  size_t n = len / (dim * sizeof(float));
  FILE *probe = NULL;
  char loo_path[4096];
  snprintf(loo_path, sizeof loo_path, "%s/loo", dir);
  int loo = (probe = fopen(loo_path, "rb")) != NULL;
  if (probe) fclose(probe);
  float *queries = loo ? base : slurp(dir, "queries.f32", &len);
  size_t nq = loo ? n : len / (dim * sizeof(float));
  uint32_t *truth = slurp(dir, "truth.u32", &len);
  if (len != nq * K * sizeof(uint32_t)) die("truth.u32", "size does not match the queries");

  size_t rss0 = rss_bytes();
  pv_options o = pv_options_default();
  o.dim = (uint32_t)dim;
  o.metric = PV_COSINE;
  o.storage = STORAGES[st].storage;
  o.m = m;
  o.ef_construction = efc;
  o.seed = seed;
  o.capacity = (uint32_t)n;
  pv_index *ix;
  if (pv_new(&o, &ix) != PV_OK) die("pv_new", pv_errmsg(NULL));
  uint32_t *ids = malloc(n * sizeof *ids);
  if (!ids) die("ids", "out of memory");
  double t0 = now();
  for (size_t done = 0; done < n; done += CHUNK) {
    size_t c = n - done < CHUNK ? n - done : CHUNK;
    if (pv_add_batch(ix, base + done * dim, c, ids + done) != PV_OK) die("pv_add_batch", pv_errmsg(ix));
  }
  double build_s = now() - t0;
  size_t rss1 = rss_bytes();
  if (pv_check(ix) != PV_OK) die("pv_check", pv_errmsg(ix));

  /* Ids are issued in order from the first: a table maps them back to base
   * indexes without assuming where they start. */
  uint32_t id_base = ids[0];
  uint32_t *slot_of_id = malloc(n * sizeof *slot_of_id);
  if (!slot_of_id) die("slot_of_id", "out of memory");
  for (size_t i = 0; i < n; i++) {
    if (ids[i] - id_base >= n) die("ids", "not issued in order");
    slot_of_id[ids[i] - id_base] = (uint32_t)i;
  }

  printf("{\"library\": \"pocketvec-native\", \"storage\": \"%s\", \"version\": \"%s\", "
         "\"kernels\": \"%s\", \"n\": %zu, \"dim\": %zu, \"queries\": %zu, \"loo\": %s, "
         "\"build_seconds\": %.4f, \"memory_bytes\": %zu, \"rss_delta_bytes\": %zu, \"search\": [",
         storage, pv_version(), pv_kernels_name(), n, dim, nq, loo ? "true" : "false",
         build_s, pv_memory_usage(ix), rss1 > rss0 ? rss1 - rss0 : 0);

  double *samples = malloc((size_t)passes * nq * sizeof *samples);
  if (!samples) die("samples", "out of memory");
  uint32_t out[K];
  for (size_t e = 0; e < n_ef; e++) {
    size_t found = 0;
    for (size_t q = 0; q < nq; q++) {
      size_t got = top_k(ix, queries + q * dim, q, efs[e], loo, slot_of_id, id_base, out);
      for (size_t i = 0; i < got; i++)
        for (size_t j = 0; j < K; j++)
          if (out[i] == truth[q * K + j]) {
            found++;
            break;
          }
    }
    for (size_t q = 0; q < nq; q++) top_k(ix, queries + q * dim, q, efs[e], loo, slot_of_id, id_base, out);
    size_t s = 0;
    double sum = 0, tp = now();
    for (unsigned p = 0; p < passes; p++)
      for (size_t q = 0; q < nq; q++) {
        double a = now();
        top_k(ix, queries + q * dim, q, efs[e], loo, slot_of_id, id_base, out);
        samples[s] = (now() - a) * 1e6;
        sum += samples[s++];
      }
    double total = now() - tp;
    pv_stats_sort(samples, s);
    printf("%s{\"ef\": %zu, \"recall_at_10\": %.4f, \"samples\": %zu, \"p50_us\": %.2f, "
           "\"p99_us\": %.2f, \"p999_us\": %.2f, \"mean_us\": %.2f, \"qps\": %.1f}",
           e ? "," : "", efs[e], (double)found / (double)(nq * K), s, pv_stats_percentile(samples, s, 0.5),
           pv_stats_percentile(samples, s, 0.99), pv_stats_percentile(samples, s, 0.999), sum / (double)s,
           total > 0 ? (double)s / total : 0.0);
  }

  /* Load from bytes: the serialized index in memory, opened by copy and
   * in place; best of three, since one open is a single short sample. */
  size_t size = pv_serialized_size(ix), wrote = 0;
  void *bytes = malloc(size);
  if (!bytes) die("serialize", "out of memory");
  if (pv_serialize_to(ix, bytes, size, &wrote) != PV_OK) die("pv_serialize_to", pv_errmsg(ix));
  double best[2] = {1e30, 1e30};
  for (int mode = 0; mode < 2; mode++)
    for (int r = 0; r < 3; r++) {
      pv_index *back;
      double a = now();
      if (pv_load(bytes, wrote, mode ? PV_LOAD_BORROW : PV_LOAD_COPY, &back) != PV_OK)
        die("pv_load", pv_errmsg(NULL));
      double t = now() - a;
      if (t < best[mode]) best[mode] = t;
      pv_free(back);
    }
  printf("], \"serialized_bytes\": %zu, \"load_ms\": %.3f, \"load_in_place_ms\": %.3f}\n", wrote,
         best[0] * 1e3, best[1] * 1e3);

  free(bytes);
  free(samples);
  free(slot_of_id);
  free(ids);
  pv_free(ix);
  if (!loo) free(queries);
  free(base);
  free(truth);
  return 0;
}
