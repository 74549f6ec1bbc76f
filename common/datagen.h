/* SPDX-License-Identifier: MIT */
/*
 * Seeded synthetic embeddings: a clustered Gaussian mixture, unit-normalised.
 *
 * Shared by the CLI demo, the native benchmark and the tests. The generator
 * uses only a 32-bit PRNG (mulberry32) and correctly rounded double
 * operations (+, -, *, /, sqrt) in a fixed order, so a JavaScript port
 * (Math.imul, Math.fround) reproduces the same floats bit for bit.
 *
 * Each cluster has a centre and a low-rank spread (PV_DG_RANK directions),
 * plus a little isotropic noise: real sentence embeddings have a low
 * intrinsic dimension, and an isotropic mixture in 768 dimensions would make
 * every neighbour almost equally far, which no real workload looks like.
 */
#ifndef PV_DATAGEN_H
#define PV_DATAGEN_H

#include <stddef.h>
#include <stdint.h>

#define PV_DG_RANK 16

typedef struct pv_dataset {
  uint32_t dim;
  size_t n;        /* base vectors */
  size_t nq;       /* held-out queries, drawn from the same mixture */
  float *base;     /* n * dim, malloc'd, free with pv_dataset_free */
  float *queries;  /* nq * dim */
} pv_dataset;

/* The generator as a stream, one vector at a time, for sets too large to
 * hold (bench/scale): pv_dataset_make is pv_dg_open, then n + nq calls of
 * pv_dg_next (base first, then queries), so both give the same floats.
 * The cluster centres and bases cost clusters * (1 + PV_DG_RANK) * dim
 * doubles (4,000 x 768: 400 MB). */
typedef struct pv_dg {
  uint32_t dim, clusters, s;
  double *centre, *basis, *x;
} pv_dg;

/* Draw the clusters (clusters >= 1). Returns 0, or -1 if memory ran out
 * (g is then closed). */
int pv_dg_open(pv_dg *g, uint32_t dim, uint32_t clusters, uint32_t seed);
/* The next vector: dim floats of unit length into out. */
void pv_dg_next(pv_dg *g, float *out);
/* Frees what pv_dg_open took; safe on a closed g. */
void pv_dg_close(pv_dg *g);

/* Generate n + nq vectors of dim floats from `clusters` clusters (0 picks
 * n / 100, at least 8). Returns 0, or -1 if memory ran out. */
int pv_dataset_make(pv_dataset *ds, uint32_t dim, size_t n, size_t nq,
                    uint32_t clusters, uint32_t seed);
void pv_dataset_free(pv_dataset *ds);

/* Exact top-k ground truth of every query by brute force, for a metric as in
 * pocketvec.h (0 cosine, 1 l2, 2 dot): gt gets nq * k base indexes. The
 * vectors are unit length, so all three metrics rank the same way. Returns 0
 * or -1 on allocation failure. */
int pv_dataset_truth(const pv_dataset *ds, size_t k, uint32_t *gt);

#endif
