/* SPDX-License-Identifier: MIT */
/*
 * The CI regression gate: a fixed, seeded search workload whose cost is
 * counted in instructions by callgrind, not in seconds. Wall-clock time on a
 * shared 2-core machine moves by more than the 10 % a gate must catch;
 * instruction counts of the same binary on the same input do not.
 *
 * Usage: bench_check f32|sq8|binary builds that index and searches, printing
 * {"storage", "queries", "recall"} as JSON. bench/check.mjs (make
 * bench-check) runs it under valgrind --tool=callgrind
 * --toggle-collect=pv_search, so only the searches are counted, divides by
 * the number of queries and compares with bench/baseline.json.
 *
 * The workload: 5 000 x 128 clustered vectors (common/datagen.c, seed 11),
 * cosine, m 16, ef_construction 100, then 200 held-out queries at ef 64,
 * for F32, SQ8 and binary codes (SQ8 rescoring). Small enough for
 * valgrind's ~50x slowdown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datagen.h"
#include "pocketvec.h"

#define K 10

static double recall(pv_index *idx, const pv_dataset *ds, const uint32_t *truth) {
  double hit = 0;
  for (size_t q = 0; q < ds->nq; q++) {
    pv_hit h[K];
    size_t n = 0;
    if (pv_search(idx, ds->queries + q * ds->dim, K, 64, h, &n) != PV_OK) {
      fprintf(stderr, "bench_check: search failed: %s\n", pv_errmsg(idx));
      exit(1);
    }
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < K; j++)
        if (h[i].id == truth[q * K + j]) hit++;
  }
  return hit / (double)(ds->nq * K);
}

int main(int argc, char **argv) {
  if (argc != 2 || (strcmp(argv[1], "f32") && strcmp(argv[1], "sq8") && strcmp(argv[1], "binary"))) {
    fprintf(stderr, "usage: bench_check f32|sq8|binary\n");
    return 2;
  }
  pv_dataset ds;
  if (pv_dataset_make(&ds, 128, 5000, 200, 0, 11) != 0) return 1;
  uint32_t *truth = malloc(sizeof *truth * ds.nq * K);
  if (!truth || pv_dataset_truth(&ds, K, truth) != 0) return 1;
  pv_options o = pv_options_default();
  o.dim = ds.dim;
  o.storage = strcmp(argv[1], "sq8") == 0 ? PV_SQ8 : strcmp(argv[1], "binary") == 0 ? PV_BINARY : PV_F32;
  o.ef_construction = 100;
  o.seed = 11;
  pv_index *idx;
  if (pv_new(&o, &idx) != PV_OK || pv_add_batch(idx, ds.base, ds.n, NULL) != PV_OK) {
    fprintf(stderr, "bench_check: build failed: %s\n", pv_errmsg(NULL));
    return 1;
  }
  printf("{\"storage\": \"%s\", \"queries\": %zu, \"recall\": %.4f, \"kernels\": \"%s\"}\n",
         argv[1], ds.nq, recall(idx, &ds, truth), pv_kernels_name());
  pv_free(idx);
  free(truth);
  pv_dataset_free(&ds);
  return 0;
}
