/* SPDX-License-Identifier: MIT */
/*
 * The text benchmark's data through the C library, natively: for
 * profiling the text index without the JS harness around it (perf record
 * works on this binary), and for the native figures beside the WASM ones.
 *
 *   make build-bench/bench_text_native     (after `node bench/text/data.mjs`)
 *   build-bench/bench_text_native bench/text/data/gcide [REPEAT]
 *
 * Reads DIR/docs.jsonl ({"key","text"} per line; "vector" ignored: every
 * document gets the same 1-d vector, so the graph costs almost nothing)
 * and the "q" and "prefix" strings of DIR/queries.json, builds the index,
 * then times every text query (pruned and exhaustive) and prefix query,
 * REPEAT times (default 5), and prints p50 and p99 per kind and memory.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pocketvec.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc(*len + 1);
  if (!b || fread(b, 1, *len, f) != *len) exit(1);
  b[*len] = '\0';
  fclose(f);
  return b;
}

/* The JSON string starting after the quote at *p, unescaped in place
 * (\uXXXX below 0x80 only, others kept as '?': enough for timing);
 * returns its start and length, *p past the closing quote. */
static char *jstring(char **p, size_t *len) {
  char *s = *p, *o = s, *r = s;
  while (*r && *r != '"') {
    if (*r == '\\') {
      r++;
      char c = *r++;
      switch (c) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case 'b': case 'f': *o++ = ' '; break;
        case 'u': {
          unsigned v = (unsigned)strtoul((char[]){r[0], r[1], r[2], r[3], 0}, NULL, 16);
          *o++ = v < 0x80 ? (char)v : '?';
          r += 4;
          break;
        }
        default: *o++ = c;
      }
    } else {
      *o++ = *r++;
    }
  }
  *len = (size_t)(o - s);
  *p = *r ? r + 1 : r;
  return s;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void report(const char *what, double *t, size_t n, double hits) {
  qsort(t, n, sizeof *t, cmp_d);
  printf("%-22s p50 %7.1f us  p99 %8.1f us  mean hits %.2f\n", what, t[n / 2] * 1e6,
         t[(size_t)(n * 0.99)] * 1e6, hits / (double)n);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_text_native DIR [REPEAT]\n");
    return 2;
  }
  int repeat = argc > 2 ? atoi(argv[2]) : 5;
  char path[4096];
  size_t len;
  snprintf(path, sizeof path, "%s/docs.jsonl", argv[1]);
  char *docs = slurp(path, &len);
  pv_options o = pv_options_default();
  o.dim = 1;
  o.metric = PV_L2;
  o.m = 2;
  o.ef_construction = 2;
  pv_index *idx;
  if (pv_new(&o, &idx)) return 1;
  float v[1] = {1};
  enum { BATCH = 4096 };
  pv_doc *batch = calloc(BATCH, sizeof *batch);
  size_t nb = 0, ndocs = 0;
  double t0 = now();
  for (char *line = docs; *line;) {
    char *end = strchr(line, '\n');
    if (end) *end = '\0';
    pv_doc d = {0};
    d.vector = v;
    for (char *p = line; (p = strchr(p, '"'));) {
      p++;
      size_t nl;
      char *name = jstring(&p, &nl);
      while (*p == ' ' || *p == ':') p++;
      if (*p != '"') continue;
      p++;
      size_t vl;
      char *val = jstring(&p, &vl);
      if (nl == 3 && !memcmp(name, "key", 3)) d.key = val, d.key_len = vl;
      else if (nl == 4 && !memcmp(name, "text", 4)) d.text = val, d.text_len = vl;
    }
    batch[nb++] = d;
    ndocs++;
    if (nb == BATCH || !end || !end[1]) {
      if (pv_upsert_batch(idx, batch, nb, NULL)) {
        fprintf(stderr, "upsert: %s\n", pv_errmsg(idx));
        return 1;
      }
      nb = 0;
    }
    if (!end) break;
    line = end + 1;
  }
  double build = now() - t0;
  printf("%zu documents, build %.2f s (1-d vectors), memory %.1f MB\n", ndocs, build,
         (double)pv_memory_usage(idx) / 1e6);

  snprintf(path, sizeof path, "%s/queries.json", argv[1]);
  char *qs = slurp(path, &len);
  char **q = NULL, **pre = NULL;
  size_t nq = 0, cap = 0;
  /* Only the text queries: the array after "text":[ up to its end. */
  char *p = strstr(qs, "\"text\":[");
  char *stop = p ? strstr(p, "}]") : NULL;
  for (; p && (p = strstr(p, "{\"q\":\"")) && p < stop;) {
    p += 6;
    size_t l;
    char *s = jstring(&p, &l);
    s[l] = '\0';
    char *pp = strstr(p, "\"prefix\":\"");
    if (!pp) break;
    pp += 10;
    size_t pl;
    char *ps = jstring(&pp, &pl);
    ps[pl] = '\0';
    if (nq == cap) {
      cap = cap ? 2 * cap : 1024;
      q = realloc(q, cap * sizeof *q);
      pre = realloc(pre, cap * sizeof *pre);
    }
    q[nq] = s;
    pre[nq++] = ps;
    p = pp;
  }
  double *t = malloc(sizeof(double) * nq * (size_t)repeat);
  pv_match hits[10];
  static const char *const KIND[] = {"text (MaxScore)", "text (exhaustive)", "prefix"};
  for (int kind = 0; kind < 3; kind++) {
    size_t m = 0;
    double h = 0;
    for (int r = 0; r < repeat; r++) {
      for (size_t i = 0; i < nq; i++) {
        pv_query x = pv_query_default();
        x.text = kind == 2 ? pre[i] : q[i];
        x.text_len = strlen(x.text);
        x.prefix = kind == 2;
        x.exact = kind == 1;
        size_t n = 0;
        double a = now();
        if (pv_query_run(idx, &x, hits, &n)) {
          fprintf(stderr, "query: %s\n", pv_errmsg(idx));
          return 1;
        }
        t[m++] = now() - a;
        h += (double)n;
      }
    }
    if (getenv("PV_SLOWEST") && kind == 0) {
      /* The slowest queries of the last round, with their times. */
      for (int rank = 0; rank < atoi(getenv("PV_SLOWEST")); rank++) {
        size_t worst = 0;
        for (size_t i = 1; i < nq; i++)
          if (t[m - nq + i] > t[m - nq + worst]) worst = i;
        printf("  %8.1f us  %s\n", t[m - nq + worst] * 1e6, q[worst]);
        t[m - nq + worst] = -t[m - nq + worst];
      }
      for (size_t i = m - nq; i < m; i++) t[i] = t[i] < 0 ? -t[i] : t[i];
      size_t fast = 0;
      for (size_t i = m - nq; i < m; i++) fast += t[i] < 5e-6;
      printf("  %zu of %zu queries under 5 us\n", fast, nq);
    }
    report(KIND[kind], t, m, h);
  }
  pv_free(idx);
  free(t);
  free(q);
  free(pre);
  free(batch);
  free(qs);
  free(docs);
  return 0;
}
