/* SPDX-License-Identifier: MIT */
#include "stats.h"

#include <stdlib.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void pv_stats_sort(double *v, size_t n) { qsort(v, n, sizeof *v, cmp_double); }

double pv_stats_percentile(const double *sorted, size_t n, double p) {
  double r = p * (double)n;
  size_t rank = (size_t)r;
  if ((double)rank < r) rank++;
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}
