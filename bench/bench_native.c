/* SPDX-License-Identifier: MIT */
/*
 * bench_native: the native benchmark of pocketvec (`make bench`).
 *
 *   ./build/bench_native [--quick] [--only NAME] [--out PATH]
 *
 * For each dataset (seeded, from common/datagen.c) and each storage (F32,
 * SQ8) it builds a cosine index (m 16, ef_construction 200) in batches of
 * 1,000, checks it with pv_check, then for ef in 16..256 measures recall@10
 * against exact neighbours and single-query latency (p50, p99, p99.9, QPS).
 * A delete experiment then removes a seeded random half of a third dataset
 * and compares the recall of the index that lived through the deletes with a
 * fresh index of the survivors. A table goes to stdout as it runs; every
 * number, with the facts about the machine, goes to bench/results/native.json
 * (native-quick.json with --quick).
 *
 * Ground truth is exact top-10 by brute force in double precision over the
 * original floats (pv_dataset_truth), so SQ8's recall includes its
 * quantization loss. It is cached in bench/.cache/NAME-truth.bin behind a
 * header (sizes, seed and a fingerprint of the vectors), so a change to the
 * generator or the workload is detected and the cache recomputed. The
 * datasets themselves are regenerated on every run: that is fast.
 *
 * Timing: every query is timed alone with CLOCK_MONOTONIC after one untimed
 * warm-up pass; percentiles are nearest-rank over the sorted samples (always
 * a measured value, never an interpolation). Single thread throughout.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "datagen.h"
#include "pocketvec.h"
#include "stats.h"

#define K 10
#define CHUNK 1000
#define M 16
#define EF_CONSTRUCTION 200
#define CACHE_DIR "bench/.cache"
#define RESULTS_DIR "bench/results"

static const size_t search_ef[] = {8, 10, 12, 16, 20, 24, 32, 48, 64, 128, 256};
#define N_EF (sizeof search_ef / sizeof search_ef[0])
static const size_t delete_ef[] = {64, 128};
#define N_DEL_EF (sizeof delete_ef / sizeof delete_ef[0])

static const pv_storage storages[] = {PV_F32, PV_SQ8, PV_BINARY, PV_BINARY_F32};
#define N_STORAGE 4

/* ------------------------------------------------------------------------ */
/* Workloads                                                                */
/* ------------------------------------------------------------------------ */

typedef struct workload {
  const char *name;
  size_t n;
  uint32_t dim;
  size_t nq;
  uint32_t seed;
} workload;

static const workload full_sets[] = {
    {"10k-384", 10000, 384, 200, 1},
    {"100k-768", 100000, 768, 200, 2},
};
static const workload full_delete = {"delete-20k-384", 20000, 384, 200, 3};

/* --quick: the same shapes scaled down, for smoke tests. */
static const workload quick_sets[] = {
    {"5k-384", 5000, 384, 200, 1},
    {"10k-768", 10000, 768, 200, 2},
};
static const workload quick_delete = {"delete-5k-384", 5000, 384, 200, 3};

#define N_SETS 2

/* ------------------------------------------------------------------------ */
/* Results                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct ef_result {
  size_t ef;
  double recall;        /* vs exact neighbours of the original floats */
  double graph_recall;  /* vs pv_search_exact on the same index */
  size_t samples;
  double p50_us, p99_us, p999_us, mean_us, qps;
} ef_result;

typedef struct index_result {
  pv_storage storage;
  double build_s;
  size_t memory, count;
  size_t file_bytes;                    /* serialized size */
  double save_ms, load_copy_ms, load_borrow_ms, verify_ms; /* medians */
  ef_result ef[N_EF];
} index_result;

typedef struct dataset_result {
  workload w;
  uint32_t clusters;
  double generate_s;
  int truth_cached;
  double truth_s;
  index_result idx[N_STORAGE];
} dataset_result;

typedef struct delete_result {
  pv_storage storage;
  double build_s;
  double delete_s, slowest_delete_s;
  int auto_compactions;        /* deletes after which pv_deleted_count fell */
  size_t deleted_count_after;  /* pv_deleted_count once all deletes ran */
  size_t count_after;
  size_t memory_before_compact, memory_after_compact;
  double compact_s;
  double fresh_build_s;
  double after_deletes[N_DEL_EF], after_compact[N_DEL_EF], fresh[N_DEL_EF];
} delete_result;

typedef struct delete_experiment {
  workload w;
  size_t deleted, survivors;
  double generate_s;
  int truth_cached;
  double truth_s;
  delete_result st[N_STORAGE];
} delete_experiment;

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static int quick;
/* --storage NAMES: a bit per storage to run (0: all). */
static unsigned only_storage;
static int runs(pv_storage s) { return !only_storage || (only_storage >> s & 1); }

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The benchmark cannot recover from a failed call: say what and stop. */
static void die(const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fputs("bench_native: FATAL: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

/* where names the workload and storage, e.g. "10k-384 sq8". */
static void die_pv(const char *call, const pv_index *idx, int rc, const char *where) {
  die("%s failed on %s: %s: %s", call, where, pv_errstr(rc), pv_errmsg(idx));
}

static void *xmalloc(size_t size) {
  void *p = malloc(size ? size : 1);
  if (!p) die("out of memory (%zu bytes)", size);
  return p;
}

#if defined(__clang__)
#define COMPILER "clang " __VERSION__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER __VERSION__
#endif

static const char *storage_name(pv_storage s) {
  static const char *const names[] = {"f32", "sq8", "binary", "binary-f32"};
  return names[s];
}


/* v with thousands separators into buf (room for 32). */
static char *group(char *buf, double v) {
  char digits[32];
  int n = snprintf(digits, sizeof digits, "%.0f", v);
  int o = 0;
  for (int i = 0; i < n; i++) {
    if (i > 0 && (n - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = digits[i];
  }
  buf[o] = '\0';
  return buf;
}

/* splitmix64: picks which ids the delete experiment removes. */
static uint64_t rand64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Read a small text file (one line of /proc) without its trailing newline,
 * or "" if it cannot be read. */
static void read_line(const char *path, const char *prefix, char *buf, size_t cap) {
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    if (prefix && strncmp(line, prefix, strlen(prefix)) != 0) continue;
    const char *v = line;
    if (prefix) {
      v = strchr(line, ':');
      v = v ? v + 1 : line;
      while (*v == ' ' || *v == '\t') v++;
    }
    size_t len = strcspn(v, "\n");
    if (len >= cap) len = cap - 1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    break;
  }
  fclose(f);
}

/* ------------------------------------------------------------------------ */
/* Ground truth and its cache                                               */
/* ------------------------------------------------------------------------ */

/* FNV-1a over the bits of every float, base and queries: a cache built from
 * other vectors (a generator change) is caught even if every size matches. */
static uint64_t fingerprint(const pv_dataset *ds) {
  uint64_t h = 0xcbf29ce484222325ull;
  const float *parts[2] = {ds->base, ds->queries};
  size_t lens[2] = {ds->n * ds->dim, ds->nq * ds->dim};
  for (int p = 0; p < 2; p++)
    for (size_t i = 0; i < lens[p]; i++) {
      uint32_t bits;
      memcpy(&bits, &parts[p][i], sizeof bits);
      h = (h ^ bits) * 0x100000001b3ull;
    }
  return h;
}

#define TRUTH_MAGIC 0x3148545552545650ull /* "PVTRUTH1" as little-endian bytes */
#define TRUTH_FORMAT 1
#define TRUTH_HEADER 8

/* Exact top-K base indexes of every query into gt (nq * K), from the cache
 * when its header matches this dataset, else computed and written back. The
 * cache is a local file of this machine, so native byte order is fine. */
static void truth_get(const char *name, const pv_dataset *ds, uint32_t seed, uint32_t *gt,
                      int *cached, double *seconds) {
  char path[512], tmp[600];
  snprintf(path, sizeof path, CACHE_DIR "/%s-truth.bin", name);
  /* The header: magic, format, n, dim, nq, k, seed, fingerprint. */
  uint64_t want[TRUTH_HEADER] = {TRUTH_MAGIC, TRUTH_FORMAT, ds->n, ds->dim, ds->nq, K, seed,
                                 fingerprint(ds)};
  size_t count = ds->nq * K;
  double t0 = now();

  FILE *f = fopen(path, "rb");
  if (f) {
    uint64_t have[TRUTH_HEADER];
    int ok = fread(have, sizeof have, 1, f) == 1 && memcmp(have, want, sizeof have) == 0 &&
             fread(gt, sizeof *gt, count, f) == count && fgetc(f) == EOF;
    for (size_t i = 0; ok && i < count; i++) ok = gt[i] < ds->n;
    fclose(f);
    if (ok) {
      *cached = 1;
      *seconds = now() - t0;
      return;
    }
    fprintf(stderr, "  %s is stale or damaged: recomputing\n", path);
  }

  if (pv_dataset_truth(ds, K, gt) != 0) die("out of memory computing the ground truth");
  *cached = 0;
  *seconds = now() - t0;

  /* Write to a temporary name and rename, so an interrupted run never leaves
   * a truncated cache behind. A failure to cache only costs time later. */
  if (mkdir(CACHE_DIR, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "  cannot create %s (%s): ground truth not cached\n", CACHE_DIR,
            strerror(errno));
    return;
  }
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  f = fopen(tmp, "wb");
  int ok = f && fwrite(want, sizeof want, 1, f) == 1 &&
           fwrite(gt, sizeof *gt, count, f) == count;
  if (f && fclose(f) != 0) ok = 0;
  if (!ok || rename(tmp, path) != 0) {
    fprintf(stderr, "  cannot write %s: ground truth not cached\n", path);
    remove(tmp);
  }
}

/* ------------------------------------------------------------------------ */
/* Index building and measuring                                             */
/* ------------------------------------------------------------------------ */

static pv_index *new_index(uint32_t dim, pv_storage storage, size_t capacity,
                           uint32_t seed) {
  pv_options o = pv_options_default();
  o.dim = dim;
  o.metric = PV_COSINE;
  o.storage = storage;
  o.m = M;
  o.ef_construction = EF_CONSTRUCTION;
  o.capacity = (uint32_t)capacity;
  o.seed = seed;
  pv_index *idx;
  int rc = pv_new(&o, &idx);
  if (rc != PV_OK) die_pv("pv_new", NULL, rc, "creating an index");
  return idx;
}

/* Insert n vectors in batches of CHUNK, writing their ids; returns seconds.
 * Progress goes to stderr: redrawn in place on a terminal, a line every ten
 * seconds otherwise (so a log of a long build shows it is alive). */
static double build(pv_index *idx, const float *v, size_t n, uint32_t dim, uint32_t *ids,
                    const char *label) {
  int tty = isatty(STDERR_FILENO);
  char a[32], b[32];
  double t0 = now(), last = t0;
  for (size_t done = 0; done < n; done += CHUNK) {
    size_t c = n - done < CHUNK ? n - done : CHUNK;
    int rc = pv_add_batch(idx, v + done * dim, c, ids + done);
    if (rc != PV_OK) die_pv("pv_add_batch", idx, rc, label);
    double t = now();
    if (tty) {
      fprintf(stderr, "\r  building %s: %s / %s", label, group(a, (double)(done + c)),
              group(b, (double)n));
    } else if (t - last >= 10.0) {
      fprintf(stderr, "  building %s: %s / %s after %.0f s\n", label,
              group(a, (double)(done + c)), group(b, (double)n), t - t0);
      last = t;
    }
  }
  double s = now() - t0;
  if (tty) fprintf(stderr, "\r%70s\r", "");
  return s;
}

/* pv_check must pass at every stage; a failure ends the run, loudly. */
static void check(pv_index *idx, const char *where, const char *when) {
  int rc = pv_check(idx);
  if (rc != PV_OK)
    die("pv_check failed on %s %s: %s: %s", where, when, pv_errstr(rc), pv_errmsg(idx));
}

/* Mean over queries of |hits of q ∩ truth of q| / K. truth holds base
 * indexes, mapped to index ids through map. */
static double recall_at_k(pv_index *idx, const pv_dataset *ds, const uint32_t *truth,
                          const uint32_t *map, size_t ef, const char *where) {
  pv_hit hits[K];
  size_t found = 0;
  for (size_t q = 0; q < ds->nq; q++) {
    size_t n;
    int rc = pv_search(idx, ds->queries + q * ds->dim, K, ef, hits, &n);
    if (rc != PV_OK) die_pv("pv_search", idx, rc, where);
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < K; j++)
        if (hits[i].id == map[truth[q * K + j]]) {
          found++;
          break;
        }
  }
  return (double)found / (double)(ds->nq * K);
}

/* Recall against pv_search_exact on the same index (the graph's own loss),
 * and the latency figures, at one ef. exact holds K ids per query. */
static void measure_ef(pv_index *idx, const pv_dataset *ds, const uint32_t *exact,
                       size_t ef, int passes, double *samples, ef_result *r,
                       const char *where) {
  pv_hit hits[K];
  size_t n, found = 0;
  for (size_t q = 0; q < ds->nq; q++) { /* also the warm-up pass */
    int rc = pv_search(idx, ds->queries + q * ds->dim, K, ef, hits, &n);
    if (rc != PV_OK) die_pv("pv_search", idx, rc, where);
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < K; j++)
        if (hits[i].id == exact[q * K + j]) {
          found++;
          break;
        }
  }
  r->graph_recall = (double)found / (double)(ds->nq * K);

  size_t s = 0;
  double t0 = now();
  for (int p = 0; p < passes; p++) {
    for (size_t q = 0; q < ds->nq; q++) {
      double a = now();
      int rc = pv_search(idx, ds->queries + q * ds->dim, K, ef, hits, &n);
      double b = now();
      if (rc != PV_OK) die_pv("pv_search", idx, rc, where);
      samples[s++] = (b - a) * 1e6;
    }
  }
  double total = now() - t0;
  double sum = 0;
  for (size_t i = 0; i < s; i++) sum += samples[i];
  pv_stats_sort(samples, s);
  r->samples = s;
  r->p50_us = pv_stats_percentile(samples, s, 0.50);
  r->p99_us = pv_stats_percentile(samples, s, 0.99);
  r->p999_us = pv_stats_percentile(samples, s, 0.999);
  r->mean_us = sum / (double)s;
  r->qps = total > 0 ? (double)s / total : 0;
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Save and load times of idx (median of 5 each): pv_serialize_to into
 * memory, pv_load copying and in place, pv_verify. The loaded indexes must
 * answer like idx. The serialized index is kept in bench/.cache/ for the
 * Node side (bench/bench_load.mjs), which times the same file in WASM. */
static void persist_times(pv_index *idx, const pv_dataset *ds, const workload *w,
                          index_result *r, const char *where) {
  size_t len = pv_serialized_size(idx), got = 0;
  unsigned char *buf = xmalloc(len);
  double t[5];
  for (int i = 0; i < 5; i++) {
    double t0 = now();
    int rc = pv_serialize_to(idx, buf, len, &got);
    t[i] = (now() - t0) * 1e3;
    if (rc != PV_OK) die_pv("pv_serialize_to", idx, rc, where);
  }
  qsort(t, 5, sizeof t[0], cmp_dbl);
  r->save_ms = t[2];
  r->file_bytes = len;
  for (int mode = 0; mode < 3; mode++) {
    for (int i = 0; i < 5; i++) {
      pv_index *back = NULL;
      double t0 = now();
      int rc = mode == 2 ? pv_verify(buf, len) : pv_load(buf, len, mode ? PV_LOAD_BORROW : PV_LOAD_COPY, &back);
      t[i] = (now() - t0) * 1e3;
      if (rc != PV_OK) die("loading the saved %s failed: %s", where, pv_errmsg(NULL));
      if (back) {
        pv_hit a[K], b[K];
        size_t na, nb;
        pv_search(idx, ds->queries, K, 64, a, &na);
        pv_search(back, ds->queries, K, 64, b, &nb);
        if (na != nb || memcmp(a, b, sizeof a[0] * na))
          die("the loaded %s answers differently from the saved one", where);
        pv_free(back);
      }
    }
    qsort(t, 5, sizeof t[0], cmp_dbl);
    *(mode == 0 ? &r->load_copy_ms : mode == 1 ? &r->load_borrow_ms : &r->verify_ms) = t[2];
  }
  char path[256];
  snprintf(path, sizeof path, CACHE_DIR "/%s-%s.pvec", w->name, storage_name(r->storage));
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
    fprintf(stderr, "bench: could not write %s (the Node load benchmark needs it)\n", path);
  free(buf);
  printf("       file %.1f MB: save %.1f ms, load (copy) %.1f ms, load (in place) %.1f ms, "
         "verify %.1f ms\n", (double)len / 1e6, r->save_ms, r->load_copy_ms, r->load_borrow_ms,
         r->verify_ms);
}

static void run_index(const workload *w, const pv_dataset *ds, const uint32_t *truth,
                      pv_storage storage, int passes, index_result *r) {
  char where[96], a[32], b[32];
  snprintf(where, sizeof where, "%s %s", w->name, storage_name(storage));
  r->storage = storage;
  pv_index *idx = new_index(ds->dim, storage, ds->n, w->seed);
  uint32_t *ids = xmalloc(sizeof *ids * ds->n);
  r->build_s = build(idx, ds->base, ds->n, ds->dim, ids, where);
  check(idx, where, "after the build");
  r->memory = pv_memory_usage(idx);
  r->count = pv_count(idx);
  if (r->count != ds->n)
    die("pv_count is %zu after inserting %zu vectors on %s", r->count, ds->n, where);
  printf("  %s  built in %.2f s (%s inserts/s), %s bytes/vector, pv_check ok\n",
         storage_name(storage), r->build_s, group(a, (double)ds->n / r->build_s),
         group(b, (double)r->memory / (double)r->count));
  persist_times(idx, ds, w, r, where);

  /* The index's own exact answer, to split recall loss into graph and
   * quantization (for F32 the two should nearly agree). */
  uint32_t *exact = xmalloc(sizeof *exact * ds->nq * K);
  pv_hit hits[K];
  for (size_t q = 0; q < ds->nq; q++) {
    size_t n;
    int rc = pv_search_exact(idx, ds->queries + q * ds->dim, K, 0, hits, &n);
    if (rc != PV_OK) die_pv("pv_search_exact", idx, rc, where);
    if (n != K) die("pv_search_exact gave %zu hits, wanted %d, on %s", n, K, where);
    for (size_t i = 0; i < K; i++) exact[q * K + i] = hits[i].id;
  }

  printf("      ef  recall@10  graph-recall   p50 us   p99 us  p99.9 us   mean us        QPS\n");
  double *samples = xmalloc(sizeof *samples * ds->nq * (size_t)passes);
  for (size_t e = 0; e < N_EF; e++) {
    ef_result *er = &r->ef[e];
    er->ef = search_ef[e];
    er->recall = recall_at_k(idx, ds, truth, ids, er->ef, where);
    measure_ef(idx, ds, exact, er->ef, passes, samples, er, where);
    printf("    %4zu  %9.4f  %12.4f  %7.1f  %7.1f  %8.1f  %8.1f  %9s\n", er->ef, er->recall,
           er->graph_recall, er->p50_us, er->p99_us, er->p999_us, er->mean_us,
           group(a, er->qps));
    fflush(stdout);
  }
  free(samples);
  free(exact);
  free(ids);
  pv_free(idx);
}

static void run_dataset(const workload *w, int passes, dataset_result *r) {
  char a[32];
  memset(r, 0, sizeof *r);
  r->w = *w;
  r->clusters = (uint32_t)(w->n / 100 < 8 ? 8 : w->n / 100); /* datagen's default */
  printf("\n== %s: %s vectors x %u dims, %zu queries, seed %u ==\n", w->name,
         group(a, (double)w->n), w->dim, w->nq, w->seed);
  fflush(stdout);
  pv_dataset ds;
  double t0 = now();
  if (pv_dataset_make(&ds, w->dim, w->n, w->nq, 0, w->seed) != 0)
    die("out of memory generating %s", w->name);
  r->generate_s = now() - t0;
  uint32_t *truth = xmalloc(sizeof *truth * w->nq * K);
  truth_get(w->name, &ds, w->seed, truth, &r->truth_cached, &r->truth_s);
  printf("  generated in %.2f s; exact top-%d %s in %.2f s\n", r->generate_s, K,
         r->truth_cached ? "read from the cache" : "computed by brute force", r->truth_s);
  for (int s = 0; s < N_STORAGE; s++)
    if (runs(storages[s]))
      run_index(w, &ds, truth, storages[s], passes, &r->idx[s]);
  free(truth);
  pv_dataset_free(&ds);
}

/* ------------------------------------------------------------------------ */
/* The delete experiment                                                    */
/* ------------------------------------------------------------------------ */

/* Build over the whole dataset, delete the chosen half, measure; compact,
 * measure; then build a fresh index of the survivors alone and measure it.
 * truth is over the survivors dataset (indexes into surv). */
static void run_delete_storage(const workload *w, const pv_dataset *ds,
                               const pv_dataset *surv, const size_t *surv_base,
                               const size_t *doomed, size_t ndel, const uint32_t *truth,
                               pv_storage storage, delete_result *r) {
  char where[96], a[32];
  snprintf(where, sizeof where, "%s %s", w->name, storage_name(storage));
  r->storage = storage;
  pv_index *idx = new_index(ds->dim, storage, ds->n, w->seed);
  uint32_t *ids = xmalloc(sizeof *ids * ds->n);
  r->build_s = build(idx, ds->base, ds->n, ds->dim, ids, where);
  check(idx, where, "after the build");

  size_t deleted_before = 0;
  double t0 = now();
  for (size_t i = 0; i < ndel; i++) {
    double a0 = now();
    int rc = pv_delete(idx, ids[doomed[i]]);
    double t = now() - a0;
    if (rc != PV_OK) die_pv("pv_delete", idx, rc, where);
    if (t > r->slowest_delete_s) r->slowest_delete_s = t;
    size_t d = pv_deleted_count(idx);
    if (d < deleted_before) r->auto_compactions++;
    deleted_before = d;
  }
  r->delete_s = now() - t0;
  r->deleted_count_after = pv_deleted_count(idx);
  r->count_after = pv_count(idx);
  if (r->count_after != surv->n)
    die("pv_count is %zu after deleting %zu of %zu on %s", r->count_after, ndel, ds->n,
        where);
  check(idx, where, "after the deletes");

  uint32_t *surv_ids = xmalloc(sizeof *surv_ids * surv->n);
  for (size_t i = 0; i < surv->n; i++) surv_ids[i] = ids[surv_base[i]];
  for (size_t e = 0; e < N_DEL_EF; e++)
    r->after_deletes[e] = recall_at_k(idx, surv, truth, surv_ids, delete_ef[e], where);

  r->memory_before_compact = pv_memory_usage(idx);
  t0 = now();
  int rc = pv_compact(idx);
  r->compact_s = now() - t0;
  if (rc != PV_OK) die_pv("pv_compact", idx, rc, where);
  r->memory_after_compact = pv_memory_usage(idx);
  check(idx, where, "after pv_compact");
  if (pv_deleted_count(idx) != 0 || pv_count(idx) != surv->n)
    die("after pv_compact on %s: %zu deleted, %zu live (want 0 and %zu)", where,
        pv_deleted_count(idx), pv_count(idx), surv->n);
  for (size_t e = 0; e < N_DEL_EF; e++)
    r->after_compact[e] = recall_at_k(idx, surv, truth, surv_ids, delete_ef[e], where);
  pv_free(idx);

  char fresh_where[128];
  snprintf(fresh_where, sizeof fresh_where, "%s %s survivors", w->name,
           storage_name(storage));
  pv_index *fresh = new_index(ds->dim, storage, surv->n, w->seed);
  uint32_t *fresh_ids = xmalloc(sizeof *fresh_ids * surv->n);
  r->fresh_build_s = build(fresh, surv->base, surv->n, ds->dim, fresh_ids, fresh_where);
  check(fresh, fresh_where, "after the build");
  for (size_t e = 0; e < N_DEL_EF; e++)
    r->fresh[e] = recall_at_k(fresh, surv, truth, fresh_ids, delete_ef[e], fresh_where);
  pv_free(fresh);
  free(fresh_ids);

  printf("  %s  built in %.2f s; %s deletes in %.2f s (slowest %.1f ms, %d auto-compaction%s)\n",
         storage_name(storage), r->build_s, group(a, (double)ndel), r->delete_s,
         r->slowest_delete_s * 1e3, r->auto_compactions, r->auto_compactions == 1 ? "" : "s");
  printf("       pv_deleted_count after the deletes %s; pv_compact %.3f s; pv_check ok\n",
         group(a, (double)r->deleted_count_after), r->compact_s);
  printf("      ef  after deletes  after compact  fresh build  points vs fresh (deletes / compact)\n");
  for (size_t e = 0; e < N_DEL_EF; e++)
    printf("    %4zu  %13.4f  %13.4f  %11.4f  %+15.2f / %+.2f\n", delete_ef[e],
           r->after_deletes[e], r->after_compact[e], r->fresh[e],
           (r->after_deletes[e] - r->fresh[e]) * 100, (r->after_compact[e] - r->fresh[e]) * 100);
  fflush(stdout);
  free(surv_ids);
  free(ids);
}

static void run_delete(const workload *w, delete_experiment *r) {
  char a[32];
  memset(r, 0, sizeof *r);
  r->w = *w;
  r->deleted = w->n / 2;
  r->survivors = w->n - r->deleted;
  printf("\n== %s: %s vectors x %u dims, %zu queries, seed %u; delete a random half ==\n",
         w->name, group(a, (double)w->n), w->dim, w->nq, w->seed);
  fflush(stdout);
  pv_dataset ds;
  double t0 = now();
  if (pv_dataset_make(&ds, w->dim, w->n, w->nq, 0, w->seed) != 0)
    die("out of memory generating %s", w->name);
  r->generate_s = now() - t0;

  /* The doomed half: the first n/2 of a seeded shuffle of the base indexes;
   * the survivors, in their original order, form their own dataset so
   * pv_dataset_truth gives the exact answer over what is left. */
  size_t *order = xmalloc(sizeof *order * w->n);
  for (size_t i = 0; i < w->n; i++) order[i] = i;
  uint64_t s = w->seed;
  for (size_t i = 0; i < r->deleted; i++) {
    size_t j = i + (size_t)(rand64(&s) % (w->n - i));
    size_t t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  unsigned char *doomed = calloc(w->n, 1);
  if (!doomed) die("out of memory");
  for (size_t i = 0; i < r->deleted; i++) doomed[order[i]] = 1;
  size_t *surv_base = xmalloc(sizeof *surv_base * r->survivors);
  float *surv_vec = xmalloc(sizeof(float) * r->survivors * w->dim);
  size_t o = 0;
  for (size_t i = 0; i < w->n; i++) {
    if (doomed[i]) continue;
    memcpy(surv_vec + o * w->dim, ds.base + i * w->dim, sizeof(float) * w->dim);
    surv_base[o++] = i;
  }
  pv_dataset surv = ds;
  surv.n = r->survivors;
  surv.base = surv_vec;

  char name[96];
  snprintf(name, sizeof name, "%s-survivors", w->name);
  uint32_t *truth = xmalloc(sizeof *truth * w->nq * K);
  truth_get(name, &surv, w->seed, truth, &r->truth_cached, &r->truth_s);
  printf("  generated in %.2f s; exact top-%d over the %s survivors %s in %.2f s\n",
         r->generate_s, K, group(a, (double)r->survivors),
         r->truth_cached ? "read from the cache" : "computed by brute force", r->truth_s);
  for (int st = 0; st < N_STORAGE; st++)
    if (runs(storages[st]))
    run_delete_storage(w, &ds, &surv, surv_base, order, r->deleted, truth, storages[st],
                       &r->st[st]);
  free(truth);
  free(surv_vec);
  free(surv_base);
  free(doomed);
  free(order);
  pv_dataset_free(&ds);
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */
/* ------------------------------------------------------------------------ */

/* A tiny pretty-printer: fixed key order and fixed decimals per field, so
 * two runs diff cleanly. Objects opened "inline" print on one line. */
typedef struct jw {
  FILE *f;
  int depth;
  int first[16];
  int inline_[16];
} jw;

static void jw_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p == '\n')
      fputs("\\n", f);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

static void jw_sep(jw *w, const char *key) {
  if (w->depth > 0) {
    if (w->inline_[w->depth]) {
      if (!w->first[w->depth]) fputs(", ", w->f);
    } else {
      fputs(w->first[w->depth] ? "\n" : ",\n", w->f);
      fprintf(w->f, "%*s", 2 * w->depth, "");
    }
    w->first[w->depth] = 0;
  }
  if (key) {
    jw_string(w->f, key);
    fputs(": ", w->f);
  }
}

static void jw_open(jw *w, const char *key, char c, int inl) {
  jw_sep(w, key);
  fputc(c, w->f);
  w->depth++;
  w->first[w->depth] = 1;
  w->inline_[w->depth] = inl || w->inline_[w->depth - 1];
}

static void jw_close(jw *w, char c) {
  int empty = w->first[w->depth], inl = w->inline_[w->depth];
  w->depth--;
  if (!empty && !inl) fprintf(w->f, "\n%*s", 2 * w->depth, "");
  fputc(c, w->f);
}

static void jw_str(jw *w, const char *key, const char *v) {
  jw_sep(w, key);
  jw_string(w->f, v);
}

static void jw_uint(jw *w, const char *key, uint64_t v) {
  jw_sep(w, key);
  fprintf(w->f, "%llu", (unsigned long long)v);
}

static void jw_num(jw *w, const char *key, int decimals, double v) {
  jw_sep(w, key);
  if (isfinite(v))
    fprintf(w->f, "%.*f", decimals, v);
  else
    fputs("null", w->f); /* JSON has no inf or NaN */
}

static void jw_bool(jw *w, const char *key, int v) {
  jw_sep(w, key);
  fputs(v ? "true" : "false", w->f);
}

static void jw_null(jw *w, const char *key) {
  jw_sep(w, key);
  fputs("null", w->f);
}

typedef struct facts {
  char command[2048];
  char date[32];
  char os[256];
  char cpu[256];
  char load_start[128], load_end[128];
  long nproc;
  long max_rss_kb;
  double total_s;
} facts;

static void write_json(const char *path, const facts *fx, int passes,
                       const dataset_result *sets, int nsets, const delete_experiment *del) {
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) die("cannot write %s: %s", tmp, strerror(errno));
  jw w = {f, 0, {0}, {0}};

  jw_open(&w, NULL, '{', 0);
  jw_str(&w, "benchmark", "pocketvec native");
  jw_uint(&w, "schema", 1);
  jw_str(&w, "mode", quick ? "quick" : "full");
  jw_str(&w, "command", fx->command);
  jw_str(&w, "date_utc", fx->date);
  jw_num(&w, "total_seconds", 1, fx->total_s);

  jw_open(&w, "machine", '{', 0);
  jw_str(&w, "pocketvec_version", pv_version());
  jw_str(&w, "kernels", pv_kernels_name());
  jw_str(&w, "compiler", COMPILER);
  jw_str(&w, "os", fx->os);
  jw_str(&w, "cpu", fx->cpu);
  jw_uint(&w, "nproc", (uint64_t)fx->nproc);
  if (fx->load_start[0]) jw_str(&w, "loadavg_start", fx->load_start);
  else jw_null(&w, "loadavg_start");
  if (fx->load_end[0]) jw_str(&w, "loadavg_end", fx->load_end);
  else jw_null(&w, "loadavg_end");
  jw_uint(&w, "max_rss_kb", (uint64_t)fx->max_rss_kb);
  jw_close(&w, '}');

  jw_open(&w, "config", '{', 0);
  jw_str(&w, "metric", "cosine");
  jw_uint(&w, "m", M);
  jw_uint(&w, "ef_construction", EF_CONSTRUCTION);
  jw_uint(&w, "k", K);
  jw_uint(&w, "batch", CHUNK);
  jw_open(&w, "ef_search", '[', 1);
  for (size_t e = 0; e < N_EF; e++) jw_uint(&w, NULL, search_ef[e]);
  jw_close(&w, ']');
  jw_uint(&w, "warmup_passes", 1);
  jw_uint(&w, "timed_passes", (uint64_t)passes);
  jw_str(&w, "truth", "exact top-k by brute force in double precision over the original floats");
  jw_str(&w, "percentiles", "nearest-rank over per-query samples");
  jw_close(&w, '}');

  jw_open(&w, "datasets", '[', 0);
  for (int i = 0; i < nsets; i++) {
    const dataset_result *d = &sets[i];
    jw_open(&w, NULL, '{', 0);
    jw_str(&w, "name", d->w.name);
    jw_uint(&w, "n", d->w.n);
    jw_uint(&w, "dim", d->w.dim);
    jw_uint(&w, "queries", d->w.nq);
    jw_uint(&w, "seed", d->w.seed);
    jw_uint(&w, "clusters", d->clusters);
    jw_num(&w, "generate_seconds", 3, d->generate_s);
    jw_bool(&w, "truth_cached", d->truth_cached);
    jw_num(&w, "truth_seconds", 3, d->truth_s);
    jw_open(&w, "indexes", '[', 0);
    for (int s = 0; s < N_STORAGE; s++) {
      const index_result *x = &d->idx[s];
      if (!x->count) continue; /* not run (--storage) */
      jw_open(&w, NULL, '{', 0);
      jw_str(&w, "storage", storage_name(x->storage));
      jw_num(&w, "build_seconds", 3, x->build_s);
      jw_num(&w, "inserts_per_second", 0, (double)x->count / x->build_s);
      jw_uint(&w, "count", x->count);
      jw_uint(&w, "memory_bytes", x->memory);
      jw_num(&w, "bytes_per_vector", 1, (double)x->memory / (double)x->count);
      jw_uint(&w, "file_bytes", x->file_bytes);
      jw_num(&w, "save_ms", 2, x->save_ms);
      jw_num(&w, "load_copy_ms", 2, x->load_copy_ms);
      jw_num(&w, "load_in_place_ms", 2, x->load_borrow_ms);
      jw_num(&w, "verify_ms", 2, x->verify_ms);
      jw_str(&w, "check", "ok");
      jw_open(&w, "search", '[', 0);
      for (size_t e = 0; e < N_EF; e++) {
        const ef_result *r = &x->ef[e];
        jw_open(&w, NULL, '{', 1);
        jw_uint(&w, "ef", r->ef);
        jw_num(&w, "recall_at_10", 4, r->recall);
        jw_num(&w, "graph_recall_at_10", 4, r->graph_recall);
        jw_uint(&w, "samples", r->samples);
        jw_num(&w, "p50_us", 1, r->p50_us);
        jw_num(&w, "p99_us", 1, r->p99_us);
        jw_num(&w, "p999_us", 1, r->p999_us);
        jw_num(&w, "mean_us", 1, r->mean_us);
        jw_num(&w, "qps", 0, r->qps);
        jw_close(&w, '}');
      }
      jw_close(&w, ']');
      jw_close(&w, '}');
    }
    jw_close(&w, ']');
    jw_close(&w, '}');
  }
  jw_close(&w, ']');

  if (!del) {
    jw_null(&w, "delete_experiment");
  } else {
    jw_open(&w, "delete_experiment", '{', 0);
    jw_str(&w, "name", del->w.name);
    jw_uint(&w, "n", del->w.n);
    jw_uint(&w, "dim", del->w.dim);
    jw_uint(&w, "queries", del->w.nq);
    jw_uint(&w, "seed", del->w.seed);
    jw_str(&w, "selection", "seeded random half (splitmix64 Fisher-Yates, seed = dataset seed)");
    jw_uint(&w, "deleted", del->deleted);
    jw_uint(&w, "survivors", del->survivors);
    jw_num(&w, "compact_threshold", 2, (double)pv_options_default().compact_threshold);
    jw_bool(&w, "truth_cached", del->truth_cached);
    jw_open(&w, "indexes", '[', 0);
    for (int s = 0; s < N_STORAGE; s++) {
      const delete_result *x = &del->st[s];
      if (!x->build_s) continue; /* not run (--storage) */
      jw_open(&w, NULL, '{', 0);
      jw_str(&w, "storage", storage_name(x->storage));
      jw_num(&w, "build_seconds", 3, x->build_s);
      jw_num(&w, "delete_seconds", 3, x->delete_s);
      jw_num(&w, "slowest_delete_ms", 3, x->slowest_delete_s * 1e3);
      jw_uint(&w, "auto_compactions", (uint64_t)x->auto_compactions);
      jw_uint(&w, "deleted_count_after_deletes", x->deleted_count_after);
      jw_uint(&w, "count_after_deletes", x->count_after);
      jw_uint(&w, "memory_bytes_before_compact", x->memory_before_compact);
      jw_num(&w, "compact_seconds", 4, x->compact_s);
      jw_uint(&w, "memory_bytes_after_compact", x->memory_after_compact);
      jw_num(&w, "fresh_build_seconds", 3, x->fresh_build_s);
      jw_open(&w, "recall_at_10", '[', 0);
      for (size_t e = 0; e < N_DEL_EF; e++) {
        jw_open(&w, NULL, '{', 1);
        jw_uint(&w, "ef", delete_ef[e]);
        jw_num(&w, "after_deletes", 4, x->after_deletes[e]);
        jw_num(&w, "after_compact", 4, x->after_compact[e]);
        jw_num(&w, "fresh", 4, x->fresh[e]);
        jw_num(&w, "points_deletes_vs_fresh", 2, (x->after_deletes[e] - x->fresh[e]) * 100);
        jw_num(&w, "points_compact_vs_fresh", 2, (x->after_compact[e] - x->fresh[e]) * 100);
        jw_close(&w, '}');
      }
      jw_close(&w, ']');
      jw_close(&w, '}');
    }
    jw_close(&w, ']');
    jw_close(&w, '}');
  }
  jw_close(&w, '}');
  fputc('\n', f);
  int bad = ferror(f);
  if (fclose(f) != 0) bad = 1;
  if (bad) die("cannot write %s", tmp);
  if (rename(tmp, path) != 0) die("cannot rename %s to %s: %s", tmp, path, strerror(errno));
}

/* ------------------------------------------------------------------------ */
/* Main                                                                     */
/* ------------------------------------------------------------------------ */

static void usage(FILE *f) {
  fprintf(f,
          "usage: bench_native [--quick] [--only NAME] [--out PATH]\n"
          "\n"
          "  --quick       scaled-down workloads and 2 timed passes, for smoke tests;\n"
          "                writes " RESULTS_DIR "/native-quick.json\n"
          "  --only NAME   run one workload: 10k-384, 100k-768, delete-20k-384\n"
          "                (with --quick: 5k-384, 10k-768, delete-5k-384)\n"
          "  --out PATH    write the JSON there (default " RESULTS_DIR "/native.json)\n"
          "  --storage S   only the storages S (comma-separated): f32, sq8, binary,\n"
          "                binary-f32\n"
          "\n"
          "Run from the repository root: the truth cache is " CACHE_DIR "/.\n");
}

int main(int argc, char **argv) {
  const char *only = NULL, *out = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--quick") == 0) {
      quick = 1;
    } else if (strcmp(a, "--only") == 0 || strcmp(a, "--out") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "bench_native: %s needs a value\n", a);
        return 2;
      }
      if (strcmp(a, "--only") == 0)
        only = argv[++i];
      else
        out = argv[++i];
    } else if (strcmp(a, "--storage") == 0 && i + 1 < argc) {
      /* a comma-separated list of names */
      for (const char *v = argv[++i]; *v;) {
        size_t len = strcspn(v, ",");
        unsigned bit = 0;
        for (int s = 0; s < N_STORAGE; s++)
          if (strlen(storage_name(storages[s])) == len && strncmp(v, storage_name(storages[s]), len) == 0)
            bit = 1u << storages[s];
        if (!bit) {
          fprintf(stderr, "bench_native: no storage named '%.*s'\n", (int)len, v);
          return 2;
        }
        only_storage |= bit;
        v += len + (v[len] == ',');
      }
    } else if (strncmp(a, "--only=", 7) == 0) {
      only = a + 7;
    } else if (strncmp(a, "--out=", 6) == 0) {
      out = a + 6;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "bench_native: unknown argument '%s'\n\n", a);
      usage(stderr);
      return 2;
    }
  }
  const workload *sets = quick ? quick_sets : full_sets;
  const workload *del = quick ? &quick_delete : &full_delete;
  int passes = quick ? 2 : 10;
  if (only) {
    int known = strcmp(only, del->name) == 0;
    for (int i = 0; i < N_SETS; i++) known |= strcmp(only, sets[i].name) == 0;
    if (!known) {
      fprintf(stderr, "bench_native: no workload named '%s' in %s mode; choose one of %s, %s, %s\n",
              only, quick ? "quick" : "full", sets[0].name, sets[1].name, del->name);
      return 2;
    }
  }
  if (!out) out = quick ? RESULTS_DIR "/native-quick.json" : RESULTS_DIR "/native.json";

  facts fx;
  memset(&fx, 0, sizeof fx);
  size_t len = 0;
  for (int i = 0; i < argc && len + 1 < sizeof fx.command; i++)
    len += (size_t)snprintf(fx.command + len, sizeof fx.command - len, "%s%s", i ? " " : "",
                            argv[i]);
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(fx.date, sizeof fx.date, "%Y-%m-%dT%H:%M:%SZ", &tm);
  struct utsname un;
  if (uname(&un) == 0)
    snprintf(fx.os, sizeof fx.os, "%s %s %s", un.sysname, un.release, un.machine);
  read_line("/proc/cpuinfo", "model name", fx.cpu, sizeof fx.cpu);
  read_line("/proc/loadavg", NULL, fx.load_start, sizeof fx.load_start);
  fx.nproc = sysconf(_SC_NPROCESSORS_ONLN);

  printf("pocketvec %s native benchmark (%s mode)\n", pv_version(), quick ? "quick" : "full");
  printf("kernels %s | %s | %s | %ld cpus | load %s\n", pv_kernels_name(), COMPILER,
         fx.cpu[0] ? fx.cpu : "cpu unknown", fx.nproc,
         fx.load_start[0] ? fx.load_start : "unknown");
  printf("cosine, m %d, ef_construction %d, batches of %d, k %d; latency: 1 warm-up + %d "
         "timed passes over the queries, single thread\n",
         M, EF_CONSTRUCTION, CHUNK, K, passes);
  printf("recall@10 is vs exact neighbours of the original floats; graph-recall is vs "
         "pv_search_exact on the same index\n");

  double t0 = now();
  static dataset_result results[N_SETS];
  int nres = 0;
  for (int i = 0; i < N_SETS; i++)
    if (!only || strcmp(only, sets[i].name) == 0) run_dataset(&sets[i], passes, &results[nres++]);
  static delete_experiment dres;
  int ran_delete = !only || strcmp(only, del->name) == 0;
  if (ran_delete) run_delete(del, &dres);
  fx.total_s = now() - t0;

  read_line("/proc/loadavg", NULL, fx.load_end, sizeof fx.load_end);
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0) fx.max_rss_kb = ru.ru_maxrss; /* KB on Linux */

  /* The default place may not exist in a fresh checkout; a failure here
   * shows up as a clear error from write_json. */
  if (strncmp(out, RESULTS_DIR "/", sizeof RESULTS_DIR) == 0) (void)mkdir(RESULTS_DIR, 0777);
  write_json(out, &fx, passes, results, nres, ran_delete ? &dres : NULL);
  printf("\ndone in %.1f s; wrote %s\n", fx.total_s, out);
  return 0;
}
