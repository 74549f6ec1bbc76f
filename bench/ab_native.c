/* SPDX-License-Identifier: MIT */
/*
 * ab_native: one side of a native A/B of the search. Link it against each
 * of two builds of the library and run the two binaries in turn, several
 * times (bench/results/prefetch-ab.md was made so):
 *
 *   make OPT=-O3 BUILD=/tmp/a lib   # one build; another with BUILD=/tmp/b
 *   cc -O2 -Iinclude -Icommon bench/ab_native.c common/datagen.c \
 *      /tmp/a/libpocketvec.a -lm -pthread -o /tmp/ab_a     # likewise ab_b
 *
 * It prints, on one line: SQ8 search p50 over the cached 100k x 768 index
 * (bench/.cache/100k-768-sq8.pvec, written by `make bench` or
 * `make bench-filter`) at ef 16, 64 and 128; then for a fresh 20k x 384
 * set, F32 and SQ8, the build time and the search p50 at ef 64. Each p50
 * is the best of 5 passes over 200 queries, k 10.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "datagen.h"
#include "pocketvec.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The best of 5 p50s over the queries, in microseconds. */
static double p50_us(pv_index *idx, const float *queries, size_t dim, size_t ef) {
  double t[200], best = 1e9;
  pv_hit h[10];
  size_t nh;
  for (int r = 0; r < 5; r++) {
    for (size_t q = 0; q < 200; q++) {
      double a = now();
      pv_search(idx, queries + q * dim, 10, ef, h, &nh);
      t[q] = now() - a;
    }
    qsort(t, 200, sizeof *t, cmp_d);
    if (t[100] < best) best = t[100];
  }
  return best * 1e6;
}

int main(void) {
  pv_dataset ds;
  if (pv_dataset_make(&ds, 768, 100000, 200, 0, 2) != 0) return 1;
  const char *path = "bench/.cache/100k-768-sq8.pvec";
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "ab_native: %s is missing (run make bench-filter once)\n", path);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)len);
  pv_index *idx = NULL;
  if (!b || fread(b, 1, (size_t)len, f) != (size_t)len ||
      pv_load(b, (size_t)len, PV_LOAD_COPY, &idx) != PV_OK) {
    fprintf(stderr, "ab_native: cannot load %s\n", path);
    return 1;
  }
  fclose(f);
  free(b);
  printf("sq8 100k-768 p50 us:");
  const size_t efs[] = {16, 64, 128};
  for (int e = 0; e < 3; e++) printf(" ef%zu %.1f", efs[e], p50_us(idx, ds.queries, 768, efs[e]));
  pv_free(idx);
  pv_dataset_free(&ds);

  pv_dataset d2;
  if (pv_dataset_make(&d2, 384, 20000, 200, 0, 3) != 0) return 1;
  for (int sq8 = 0; sq8 < 2; sq8++) {
    pv_options o = pv_options_default();
    o.dim = 384;
    o.storage = sq8 ? PV_SQ8 : PV_F32;
    o.seed = 1;
    pv_index *x;
    if (pv_new(&o, &x) != PV_OK) return 1;
    double a = now();
    for (size_t i = 0; i < 20000; i += 1000) pv_add_batch(x, d2.base + i * 384, 1000, NULL);
    double build = now() - a;
    printf(" | %s 20k-384 build %.2f s, p50 ef64 %.1f", sq8 ? "sq8" : "f32", build,
           p50_us(x, d2.queries, 384, 64));
    pv_free(x);
  }
  printf("\n");
  pv_dataset_free(&d2);
  return 0;
}
