/* SPDX-License-Identifier: MIT */
#include "datagen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* mulberry32: 32 bits of state, one multiply chain; trivial to port to JS. */
static uint32_t dg_next(uint32_t *s) {
  uint32_t t = (*s += 0x6D2B79F5u);
  t = (t ^ (t >> 15)) * (t | 1u);
  t ^= t + (t ^ (t >> 7)) * (t | 61u);
  return t ^ (t >> 14);
}

static double dg_uniform(uint32_t *s) {
  return ((double)dg_next(s) + 0.5) * (1.0 / 4294967296.0);
}

/* Irwin-Hall with four uniforms, scaled to unit variance: close enough to a
 * Gaussian for embeddings, and made only of exactly rounded operations. */
static double dg_gauss(uint32_t *s) {
  double u = dg_uniform(s);
  u += dg_uniform(s);
  u += dg_uniform(s);
  u += dg_uniform(s);
  return (u - 2.0) * 1.7320508075688772;
}

int pv_dg_open(pv_dg *g, uint32_t dim, uint32_t clusters, uint32_t seed) {
  memset(g, 0, sizeof *g);
  g->centre = malloc(sizeof(double) * clusters * dim);
  g->basis = malloc(sizeof(double) * clusters * PV_DG_RANK * dim);
  g->x = malloc(sizeof(double) * (dim ? dim : 1));
  if (!g->centre || !g->basis || !g->x) {
    pv_dg_close(g);
    return -1;
  }
  g->dim = dim;
  g->clusters = clusters;
  g->s = seed;
  for (size_t i = 0; i < (size_t)clusters * dim; i++) g->centre[i] = dg_gauss(&g->s);
  for (size_t i = 0; i < (size_t)clusters * PV_DG_RANK * dim; i++)
    g->basis[i] = dg_gauss(&g->s) * 0.2;
  return 0;
}

void pv_dg_next(pv_dg *g, float *o) {
  uint32_t dim = g->dim, c = dg_next(&g->s) % g->clusters;
  const double *ctr = g->centre + (size_t)c * dim;
  double *x = g->x;
  for (uint32_t d = 0; d < dim; d++) x[d] = ctr[d] + dg_gauss(&g->s) * 0.2;
  for (int j = 0; j < PV_DG_RANK; j++) {
    double r = dg_gauss(&g->s);
    const double *b = g->basis + ((size_t)c * PV_DG_RANK + j) * dim;
    for (uint32_t d = 0; d < dim; d++) x[d] += r * b[d];
  }
  double norm = 0.0;
  for (uint32_t d = 0; d < dim; d++) norm += x[d] * x[d];
  norm = sqrt(norm);
  for (uint32_t d = 0; d < dim; d++) o[d] = (float)(x[d] / norm);
}

void pv_dg_close(pv_dg *g) {
  free(g->centre);
  free(g->basis);
  free(g->x);
  memset(g, 0, sizeof *g);
}

int pv_dataset_make(pv_dataset *ds, uint32_t dim, size_t n, size_t nq,
                    uint32_t clusters, uint32_t seed) {
  memset(ds, 0, sizeof *ds);
  if (clusters == 0) clusters = (uint32_t)(n / 100 < 8 ? 8 : n / 100);
  size_t total = n + nq;
  pv_dg g;
  float *out = malloc(sizeof(float) * (total ? total : 1) * dim);
  if (!out || pv_dg_open(&g, dim, clusters, seed) != 0) {
    free(out);
    return -1;
  }
  for (size_t i = 0; i < total; i++) pv_dg_next(&g, out + i * dim);
  pv_dg_close(&g);
  ds->dim = dim;
  ds->n = n;
  ds->nq = nq;
  ds->base = out;
  ds->queries = out + n * dim;
  return 0;
}

void pv_dataset_free(pv_dataset *ds) {
  if (!ds) return;
  free(ds->base);
  memset(ds, 0, sizeof *ds);
}

int pv_dataset_truth(const pv_dataset *ds, size_t k, uint32_t *gt) {
  /* Rank by descending dot product, which for unit vectors is the order of
   * all three metrics. Double accumulation so the truth is not itself noisy. */
  double *best = malloc(sizeof(double) * (k ? k : 1));
  if (!best) return -1;
  for (size_t q = 0; q < ds->nq; q++) {
    const float *qv = ds->queries + q * ds->dim;
    uint32_t *g = gt + q * k;
    size_t have = 0;
    for (size_t i = 0; i < ds->n; i++) {
      const float *v = ds->base + i * ds->dim;
      double s = 0.0;
      for (uint32_t d = 0; d < ds->dim; d++) s += (double)qv[d] * v[d];
      if (have == k && (k == 0 || s <= best[k - 1])) continue;
      size_t p = have < k ? have++ : k - 1;
      while (p > 0 && best[p - 1] < s) {
        best[p] = best[p - 1];
        g[p] = g[p - 1];
        p--;
      }
      best[p] = s;
      g[p] = (uint32_t)i;
    }
  }
  free(best);
  return 0;
}
