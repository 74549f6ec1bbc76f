/* SPDX-License-Identifier: MIT */
/*
 * The selectivity benchmark of filtered search (not part of CI):
 *
 *   make bench-filter     -> bench/results/filter.json (and a table on stdout)
 *
 * On the 100k x 768 SQ8 index of the native benchmark (bench/.cache/,
 * written by `make bench`; built here when absent) every document gets
 * attributes {"u": <a uniform integer in [0, 100000)>, "tags": [...]}, where
 * tags holds "p50", "p10", "p5", "p1", "p01", "p001" when u is below 50 %,
 * 10 %, 5 %, 1 %, 0.1 %, 0.01 % of the range: so `u < T` (a range) and
 * `tags contains "pX"` (array membership) select 100, 50, 10, 5, 1, 0.1 and
 * 0.01 % of the documents, independently of the vectors. 5 % is where both
 * of the planner's plans are at their worst (a walk among few matching
 * nodes, or a scan of matches scattered over the whole index). For each filter
 * and selectivity, over the 200 held-out queries at k 10 and ef 64:
 *   - pv_search_filter: hits returned, recall@10 against
 *     pv_search_exact_filter (the ground truth), p50 and p99;
 *   - the two references of the target, measured in the same run:
 *     (a) unfiltered pv_search at the same ef, (b) brute force over exactly
 *     the matching documents (pv_search_exact on an index holding only
 *     them);
 *   - fetch-more-then-filter over pocketvec: an unfiltered search for
 *     k / selectivity * 2 hits, filtered afterwards (what users do today).
 */
#define _DEFAULT_SOURCE /* getloadavg */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datagen.h"
#include "pocketvec.h"
#include "stats.h"

#define K 10
#define EF 64
#define U_RANGE 100000

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "bench_filter: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die("out of memory");
  return p;
}

static uint32_t u_of(uint32_t id) {
  uint64_t z = (uint64_t)id * 0x9E3779B97F4A7C15ull + 12345;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return (uint32_t)((z ^ (z >> 31)) % U_RANGE);
}

static const double SEL[] = {1.0, 0.5, 0.1, 0.05, 0.01, 0.001, 0.0001};
static const char *const TAG[] = {NULL, "p50", "p10", "p5", "p1", "p01", "p001"};
#define NSEL (sizeof SEL / sizeof SEL[0])

static pv_index *load_or_build(const pv_dataset *ds) {
  const char *path = "bench/.cache/100k-768-sq8.pvec";
  FILE *f = fopen(path, "rb");
  pv_index *idx = NULL;
  if (f) {
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = xmalloc((size_t)len);
    if (fread(b, 1, (size_t)len, f) != (size_t)len) die("cannot read %s", path);
    fclose(f);
    if (pv_load(b, (size_t)len, PV_LOAD_COPY, &idx) != PV_OK) idx = NULL;
    free(b);
    if (idx && pv_count(idx) == ds->n) return idx;
    pv_free(idx);
  }
  fprintf(stderr, "building the 100k x 768 SQ8 index (run `make bench` once to cache it)\n");
  pv_options o = pv_options_default();
  o.dim = ds->dim;
  o.storage = PV_SQ8;
  o.m = 16;
  o.ef_construction = 200;
  o.seed = 2;
  if (pv_new(&o, &idx) != PV_OK) die("pv_new: %s", pv_errmsg(NULL));
  for (size_t i = 0; i < ds->n; i += 1000) {
    size_t n = ds->n - i < 1000 ? ds->n - i : 1000;
    if (pv_add_batch(idx, ds->base + i * ds->dim, n, NULL) != PV_OK)
      die("pv_add_batch: %s", pv_errmsg(idx));
    fprintf(stderr, "\r  %zu", i + n);
  }
  fprintf(stderr, "\n");
  /* Cache it for the next run (and for `make bench`'s Node side). */
  size_t len = pv_serialized_size(idx);
  uint8_t *b = xmalloc(len);
  FILE *w = NULL;
  if (pv_serialize_to(idx, b, len, &len) == PV_OK && (w = fopen(path, "wb")) != NULL) {
    if (fwrite(b, 1, len, w) != len) fprintf(stderr, "cannot write %s\n", path);
    fclose(w);
  }
  free(b);
  return idx;
}

typedef struct row {
  double p50, p99, recall, hits;
} row;

/* How many of the n hits h are among the m hits e (ids). */
static double overlap(const pv_hit *h, size_t n, const pv_hit *e, size_t m) {
  double c = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < m; j++) c += h[i].id == e[j].id;
  return c;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static row summarize(double *t, size_t n, double found, double want, double hits) {
  qsort(t, n, sizeof *t, cmp_d);
  row r = {t[n / 2] * 1e6, t[(size_t)(n * 0.99)] * 1e6, want ? found / want : 1, hits / n};
  return r;
}

int main(int argc, char **argv) {
  /* bench_filter [S]: only selectivity number S (0 = 100 %), to profile one. */
  int only = argc > 1 ? atoi(argv[1]) : -1;
  pv_dataset ds;
  fprintf(stderr, "generating the 100k x 768 dataset (seed 2)\n");
  if (pv_dataset_make(&ds, 768, 100000, 200, 0, 2) != 0) die("out of memory");
  pv_index *idx = load_or_build(&ds);
  size_t nq = ds.nq, n = pv_count(idx);
  uint32_t *ids = xmalloc(sizeof *ids * n);
  pv_list_ids(idx, ids, n);
  double t0 = now();
  for (size_t i = 0; i < n; i++) {
    char json[160];
    uint32_t u = u_of(ids[i]);
    int len = snprintf(json, sizeof json, "{\"u\":%u,\"tags\":[\"all\"", u);
    for (size_t s = 1; s < NSEL; s++)
      if (u < SEL[s] * U_RANGE) len += snprintf(json + len, sizeof json - len, ",\"%s\"", TAG[s]);
    len += snprintf(json + len, sizeof json - len, "]}");
    if (pv_set_attributes(idx, ids[i], json, (size_t)len, PV_ATTR_REPLACE) != PV_OK)
      die("pv_set_attributes: %s", pv_errmsg(idx));
  }
  double attr_s = now() - t0;
  fprintf(stderr, "attributes set in %.2f s; memory %.1f MB\n", attr_s,
          pv_memory_usage(idx) / 1e6);

  double *t = xmalloc(sizeof *t * nq);
  pv_hit h[K], *truth = xmalloc(sizeof *truth * nq * K);
  size_t nh, *ntruth = xmalloc(sizeof *ntruth * nq);
  /* (a) unfiltered, at the same ef */
  for (size_t q = 0; q < nq; q++) {
    double a = now();
    pv_search(idx, ds.queries + q * ds.dim, K, EF, h, &nh);
    t[q] = now() - a;
  }
  row unf = summarize(t, nq, 0, 0, 0);

  FILE *out = fopen("bench/results/filter.json", "w");
  if (!out) die("cannot write bench/results/filter.json");
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  fprintf(out, "{\n  \"command\": \"make bench-filter\",\n  \"load_average_at_start\": [%.2f, %.2f, %.2f],", load[0], load[1], load[2]);
  fprintf(out, "\n  \"dataset\": \"100k-768 (common/datagen.c, "
          "seed 2), SQ8, cosine, m 16, efConstruction 200\",\n  \"k\": %d, \"ef\": %d, "
          "\"queries\": %zu,\n  \"kernels\": \"%s\",\n  \"unfiltered\": {\"p50_us\": %.1f, "
          "\"p99_us\": %.1f},\n  \"rows\": [\n", K, EF, nq, pv_kernels_name(), unf.p50, unf.p99);
  printf("unfiltered p50 %.1f us, p99 %.1f us\n", unf.p50, unf.p99);
  printf("%-26s %8s %6s %7s %8s %8s %9s %8s | %-22s\n", "filter", "match", "hits", "recall",
         "p50 us", "p99 us", "exact us", "ratio", "fetch-more: hits rec p50");
  int first = 1;
  pv_hit *big = xmalloc(sizeof *big * n);
  for (int fam = 0; fam < 2; fam++) {
    for (size_t s = 0; s < NSEL; s++) {
      if (only >= 0 && (size_t)only != s) continue;
      char text[64];
      if (fam == 0) snprintf(text, sizeof text, "u < %u", (unsigned)(SEL[s] * U_RANGE));
      else snprintf(text, sizeof text, "tags contains \"%s\"", s ? TAG[s] : "all");
      char jtext[128]; /* the filter as a JSON string's contents */
      size_t jn = 0;
      for (const char *c = text; *c; c++) {
        if (*c == '"') jtext[jn++] = '\\';
        jtext[jn++] = *c;
      }
      jtext[jn] = 0;
      pv_filter *f;
      if (pv_filter_compile(idx, text, strlen(text), &f) != PV_OK) die("%s", pv_errmsg(idx));
      size_t match;
      pv_find(idx, f, NULL, 0, &match);

      /* The ground truth first, in a pass of its own: an exact search
       * reads every vector (77 MB), and run just before each timed query
       * it would leave that query a cold cache that no reference has. */
      for (size_t q = 0; q < nq; q++) {
        pv_search_exact_filter(idx, ds.queries + q * ds.dim, K, 0, f, truth + q * K, &ntruth[q]);
      }

      /* PV_PROFILE=N: the filtered searches N times over first, so that a
       * profiler (perf record ./build/bench_filter S) sees mostly them. */
      for (long rep = getenv("PV_PROFILE") ? atol(getenv("PV_PROFILE")) : 0; rep > 0; rep--)
        for (size_t q = 0; q < nq; q++) pv_search_filter(idx, ds.queries + q * ds.dim, K, EF, f, h, &nh);

      /* filtered search against the ground truth */
      double found = 0, want = 0, hits = 0;
      for (size_t q = 0; q < nq; q++) {
        const float *qv = ds.queries + q * ds.dim;
        double a = now();
        if (pv_search_filter(idx, qv, K, EF, f, h, &nh) != PV_OK) die("%s", pv_errmsg(idx));
        t[q] = now() - a;
        hits += (double)nh;
        want += (double)ntruth[q];
        found += overlap(h, nh, truth + q * K, ntruth[q]);
      }
      row fr = summarize(t, nq, found, want, hits);

      /* (b) brute force over exactly the matching documents */
      pv_options o;
      pv_get_options(idx, &o);
      o.m = 2;
      o.ef_construction = 1;
      o.capacity = (uint32_t)match;
      pv_index *sub;
      if (pv_new(&o, &sub) != PV_OK) die("pv_new");
      uint32_t *mids = xmalloc(sizeof *mids * (match ? match : 1));
      size_t cnt;
      pv_find(idx, f, mids, match, &cnt);
      float *v = xmalloc(sizeof(float) * ds.dim);
      for (size_t i = 0; i < match; i++) {
        pv_get(idx, mids[i], v);
        pv_add(sub, v, NULL);
      }
      for (size_t q = 0; q < nq; q++) {
        double a = now();
        pv_search_exact(sub, ds.queries + q * ds.dim, K, 0, h, &nh);
        t[q] = now() - a;
      }
      row ex = summarize(t, nq, 0, 0, 0);
      pv_free(sub);
      free(v);

      /* fetch more, then filter */
      size_t kk = (size_t)ceil(K / SEL[s] * 2);
      if (kk > n) kk = n;
      if (kk > PV_MAX_EF) kk = PV_MAX_EF; /* pv_search's limit: fewer hits, recorded as such */
      double ffound = 0, fhits = 0;
      for (size_t q = 0; q < nq; q++) {
        const float *qv = ds.queries + q * ds.dim;
        double a = now();
        size_t nb = 0;
        pv_search(idx, qv, kk, kk > EF ? kk : EF, big, &nb);
        size_t got = 0;
        for (size_t i = 0; i < nb && got < K; i++) {
          uint32_t u = u_of(big[i].id);
          if (u < SEL[s] * U_RANGE) h[got++] = big[i];
        }
        t[q] = now() - a;
        fhits += (double)got;
        ffound += overlap(h, got, truth + q * K, ntruth[q]);
      }
      row fm = summarize(t, nq, ffound, want, fhits);
      double best = unf.p50 < ex.p50 ? unf.p50 : ex.p50;
      printf("%-26s %8zu %6.2f %7.4f %8.1f %8.1f %9.1f %8.2f | %6.2f %6.4f %8.1f\n", text, match,
             fr.hits, fr.recall, fr.p50, fr.p99, ex.p50, fr.p50 / best, fm.hits, fm.recall,
             fm.p50);
      fprintf(out,
              "%s    {\"filter\": \"%s\", \"text\": \"%s\", \"selectivity\": %g, \"matching\": %zu,\n"
              "     \"filtered\": {\"hits\": %.2f, \"recall\": %.4f, \"p50_us\": %.1f, "
              "\"p99_us\": %.1f},\n"
              "     \"exact_over_matching\": {\"p50_us\": %.1f},\n"
              "     \"ratio_to_best_reference\": %.3f,\n"
              "     \"fetch_more_then_filter\": {\"fetch\": %zu, \"hits\": %.2f, \"recall\": %.4f, "
              "\"p50_us\": %.1f, \"p99_us\": %.1f}}",
              first ? "" : ",\n", fam ? "tags contains" : "u <", jtext, SEL[s], match, fr.hits, fr.recall,
              fr.p50, fr.p99, ex.p50, fr.p50 / best, kk, fm.hits, fm.recall, fm.p50, fm.p99);
      first = 0;
      free(mids);
      pv_filter_free(f);
    }
  }
  fprintf(out, "\n  ]\n}\n");
  fclose(out);
  free(big);
  free(truth);
  free(ntruth);
  free(t);
  free(ids);
  pv_free(idx);
  pv_dataset_free(&ds);
  return 0;
}
