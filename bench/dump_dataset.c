/* SPDX-License-Identifier: MIT */
/*
 * dump_dataset: writes one dataset of common/datagen.c and its exact top-k
 * to stdout, raw, for js/test/datagen.test.mjs to compare byte for byte with
 * the JavaScript port (bench/datagen.mjs).
 *
 *   dump_dataset DIM N NQ CLUSTERS SEED K [REPEAT]
 *
 * Output, in the machine's byte order: (N + NQ) * DIM floats (base, then
 * queries), then NQ * K uint32 of pv_dataset_truth. With REPEAT > 0, base
 * vector i is first replaced by base vector i % REPEAT before the truth is
 * computed: exact ties, to check that both sides break them the same way.
 *
 * Built by the test itself with the flags of the benchmark (-std=c11
 * -ffp-contract=off -O3): cc -Icommon bench/dump_dataset.c common/datagen.c -lm.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datagen.h"

static unsigned long arg(const char *s, const char *name) {
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (*s == '\0' || *end != '\0') {
    fprintf(stderr, "dump_dataset: %s must be a number, got '%s'\n", name, s);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  if (argc != 7 && argc != 8) {
    fputs("usage: dump_dataset DIM N NQ CLUSTERS SEED K [REPEAT]\n", stderr);
    return 2;
  }
  uint32_t dim = (uint32_t)arg(argv[1], "DIM");
  size_t n = arg(argv[2], "N"), nq = arg(argv[3], "NQ");
  uint32_t clusters = (uint32_t)arg(argv[4], "CLUSTERS");
  uint32_t seed = (uint32_t)arg(argv[5], "SEED");
  size_t k = arg(argv[6], "K");
  size_t repeat = argc == 8 ? arg(argv[7], "REPEAT") : 0;

  pv_dataset ds;
  if (pv_dataset_make(&ds, dim, n, nq, clusters, seed) != 0) {
    fputs("dump_dataset: out of memory\n", stderr);
    return 1;
  }
  size_t total = (n + nq) * dim;
  if (fwrite(ds.base, sizeof(float), total, stdout) != total) return 1;

  for (size_t i = 0; repeat && i < n; i++)
    memcpy(ds.base + i * dim, ds.base + (i % repeat) * dim, sizeof(float) * dim);
  size_t count = nq * k;
  uint32_t *gt = malloc(sizeof *gt * (count ? count : 1));
  if (!gt || pv_dataset_truth(&ds, k, gt) != 0) {
    fputs("dump_dataset: out of memory\n", stderr);
    return 1;
  }
  if (fwrite(gt, sizeof *gt, count, stdout) != count) return 1;
  free(gt);
  pv_dataset_free(&ds);
  return fflush(stdout) != 0;
}
