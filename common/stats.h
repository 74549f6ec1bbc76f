/* SPDX-License-Identifier: MIT */
/*
 * Latency statistics shared by the CLI (query, demo) and the native
 * benchmarks: one definition of a percentile, so every figure pocketvec
 * prints means the same thing.
 */
#ifndef PV_STATS_H
#define PV_STATS_H

#include <stddef.h>

/* Sort n doubles ascending in place. */
void pv_stats_sort(double *v, size_t n);

/* Nearest-rank percentile p (0 < p <= 1) of n sorted samples (n >= 1): the
 * smallest sample with at least p of all samples at or below it. No
 * interpolation, so the answer is always a measured value. */
double pv_stats_percentile(const double *sorted, size_t n, double p);

#endif /* PV_STATS_H */
