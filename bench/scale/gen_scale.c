/* SPDX-License-Identifier: MIT */
/*
 * gen_scale: the scale benchmark's data set (issue 17), written as it is
 * drawn so that a 3 GB .npy never sits in memory.
 *
 *   gen_scale DIM N NQ CLUSTERS SEED K OUTDIR
 *
 * writes to OUTDIR:
 *   base.npy     N x DIM float32, the vectors of common/datagen.c's stream
 *                (the same floats pv_dataset_make gives for these numbers);
 *   queries.npy  NQ x DIM float32, the next NQ vectors of the stream
 *                (held out: drawn from the same clusters, never indexed);
 *   truth.bin    NQ x K uint32 (little-endian), each query's exact top K by
 *                descending dot product in double (for unit vectors the
 *                order of every metric), ties to the lower id: computed in
 *                one more pass that reads base.npy back a block at a time,
 *                the queries split over two threads.
 * Memory: the generator's clusters (CLUSTERS x 17 x DIM doubles), one block
 * of vectors and the queries. Each file is written to a temporary name and
 * renamed, so an interrupted run leaves no file that looks finished.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datagen.h"

#define BLOCK 4096 /* vectors per write and per truth pass step */

static void die(const char *what, const char *path) {
  fprintf(stderr, "gen_scale: %s %s: %s\n", what, path, errno ? strerror(errno) : "failed");
  exit(1);
}

static unsigned long long arg(const char *s, const char *name) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (*s == '\0' || *end != '\0' || errno) {
    fprintf(stderr, "gen_scale: %s must be a number, got '%s'\n", name, s);
    exit(2);
  }
  return v;
}

/* A NumPy 1.0 header for a C-order float32 array of rows x cols, padded with
 * spaces so the data starts on a 64-byte boundary, as numpy.save does. */
static void npy_header(FILE *f, const char *path, size_t rows, uint32_t cols) {
  char dict[160];
  int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %u), }",
                   rows, cols);
  size_t total = 10 + (size_t)n + 1, pad = (64 - total % 64) % 64;
  size_t hlen = (size_t)n + pad + 1;
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hlen & 0xff),
                           (unsigned char)(hlen >> 8)};
  if (fwrite(pre, 1, 10, f) != 10 || fwrite(dict, 1, (size_t)n, f) != (size_t)n) die("cannot write", path);
  for (size_t i = 0; i < pad; i++)
    if (fputc(' ', f) == EOF) die("cannot write", path);
  if (fputc('\n', f) == EOF) die("cannot write", path);
}

typedef struct {
  FILE *f;
  char tmp[4200], path[4096];
} out_file;

static void out_open(out_file *o, const char *dir, const char *name) {
  snprintf(o->path, sizeof o->path, "%s/%s", dir, name);
  snprintf(o->tmp, sizeof o->tmp, "%s.tmp", o->path);
  o->f = fopen(o->tmp, "wb");
  if (!o->f) die("cannot create", o->tmp);
}

static void out_close(out_file *o) {
  if (fflush(o->f) != 0 || fclose(o->f) != 0) die("cannot write", o->tmp);
  if (rename(o->tmp, o->path) != 0) die("cannot rename", o->tmp);
}

typedef struct {
  const float *queries; /* all of them */
  size_t q0, q1, k;     /* this thread's queries [q0, q1) */
  uint32_t dim;
  double *best;         /* (q1 - q0) x k scores, descending */
  uint32_t *ids;        /* (q1 - q0) x k */
  size_t *have;
  const float *block;   /* the block being scored */
  size_t first, count;  /* its first id and length */
} truth_part;

/* Folds one block of base vectors into this part's running top-k lists. */
static void *truth_block(void *arg) {
  truth_part *t = arg;
  for (size_t q = t->q0; q < t->q1; q++) {
    const float *qv = t->queries + q * t->dim;
    size_t r = q - t->q0, *have = &t->have[r];
    double *best = t->best + r * t->k;
    uint32_t *ids = t->ids + r * t->k;
    for (size_t i = 0; i < t->count; i++) {
      const float *v = t->block + i * t->dim;
      double s = 0.0;
      for (uint32_t d = 0; d < t->dim; d++) s += (double)qv[d] * v[d];
      if (*have == t->k && s <= best[t->k - 1]) continue;
      size_t p = *have < t->k ? (*have)++ : t->k - 1;
      while (p > 0 && best[p - 1] < s) {
        best[p] = best[p - 1];
        ids[p] = ids[p - 1];
        p--;
      }
      best[p] = s;
      ids[p] = (uint32_t)(t->first + i);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fputs("usage: gen_scale DIM N NQ CLUSTERS SEED K OUTDIR\n", stderr);
    return 2;
  }
  uint32_t dim = (uint32_t)arg(argv[1], "DIM");
  size_t n = arg(argv[2], "N"), nq = arg(argv[3], "NQ"), k = arg(argv[6], "K");
  uint32_t clusters = (uint32_t)arg(argv[4], "CLUSTERS"), seed = (uint32_t)arg(argv[5], "SEED");
  const char *dir = argv[7];
  if (strlen(dir) > 4000) {
    fputs("gen_scale: OUTDIR is too long\n", stderr);
    return 2;
  }
  if (!dim || !n || !nq || !k || k > n || !clusters || n > UINT32_MAX) {
    fputs("gen_scale: DIM, N, NQ, K and CLUSTERS must be at least 1, K at most N, N under 2^32\n", stderr);
    return 2;
  }

  pv_dg g;
  float *block = malloc(sizeof(float) * BLOCK * dim), *queries = malloc(sizeof(float) * nq * dim);
  if (!block || !queries || pv_dg_open(&g, dim, clusters, seed) != 0) {
    fputs("gen_scale: out of memory\n", stderr);
    return 1;
  }
  out_file base;
  out_open(&base, dir, "base.npy");
  npy_header(base.f, base.tmp, n, dim);
  for (size_t i = 0; i < n; i += BLOCK) {
    size_t m = n - i < BLOCK ? n - i : BLOCK;
    for (size_t j = 0; j < m; j++) pv_dg_next(&g, block + j * dim);
    if (fwrite(block, sizeof(float) * dim, m, base.f) != m) die("cannot write", base.tmp);
    if ((i / BLOCK) % 64 == 0) fprintf(stderr, "\rgen_scale: %zu of %zu vectors", i + m, n);
  }
  fprintf(stderr, "\rgen_scale: %zu of %zu vectors\n", n, n);
  for (size_t q = 0; q < nq; q++) pv_dg_next(&g, queries + q * dim);
  pv_dg_close(&g);

  /* The truth, from the file just written (the page cache has it). */
  FILE *in = fopen(base.tmp, "rb");
  if (!in) die("cannot open", base.tmp);
  if (fflush(base.f) != 0) die("cannot write", base.tmp);
  long data = ftell(base.f) - (long)(sizeof(float) * dim * n);
  if (fseek(in, data, SEEK_SET) != 0) die("cannot seek in", base.tmp);
  truth_part part[2];
  size_t half = nq / 2;
  for (int t = 0; t < 2; t++) {
    part[t] = (truth_part){.queries = queries, .q0 = t ? half : 0, .q1 = t ? nq : half, .k = k,
                           .dim = dim, .block = block};
    size_t rows = part[t].q1 - part[t].q0;
    part[t].best = malloc(sizeof(double) * (rows ? rows : 1) * k);
    part[t].ids = malloc(sizeof(uint32_t) * (rows ? rows : 1) * k);
    part[t].have = calloc(rows ? rows : 1, sizeof(size_t));
    if (!part[t].best || !part[t].ids || !part[t].have) {
      fputs("gen_scale: out of memory\n", stderr);
      return 1;
    }
  }
  for (size_t i = 0; i < n; i += BLOCK) {
    size_t m = n - i < BLOCK ? n - i : BLOCK;
    if (fread(block, sizeof(float) * dim, m, in) != m) die("cannot read back", base.tmp);
    pthread_t th;
    for (int t = 0; t < 2; t++) part[t].first = i, part[t].count = m;
    if (pthread_create(&th, NULL, truth_block, &part[1]) != 0) {
      truth_block(&part[1]); /* no second thread: do it here */
      truth_block(&part[0]);
    } else {
      truth_block(&part[0]);
      pthread_join(th, NULL);
    }
    if ((i / BLOCK) % 64 == 0) fprintf(stderr, "\rgen_scale: truth, %zu of %zu vectors", i + m, n);
  }
  fprintf(stderr, "\rgen_scale: truth, %zu of %zu vectors\n", n, n);
  fclose(in);
  out_close(&base);

  out_file qf, tf;
  out_open(&qf, dir, "queries.npy");
  npy_header(qf.f, qf.tmp, nq, dim);
  if (fwrite(queries, sizeof(float) * dim, nq, qf.f) != nq) die("cannot write", qf.tmp);
  out_close(&qf);
  out_open(&tf, dir, "truth.bin");
  for (int t = 0; t < 2; t++) {
    size_t rows = part[t].q1 - part[t].q0;
    for (size_t r = 0; r < rows; r++) {
      unsigned char le[4];
      for (size_t j = 0; j < k; j++) {
        uint32_t id = part[t].ids[r * k + j];
        for (int b = 0; b < 4; b++) le[b] = (unsigned char)(id >> (8 * b));
        if (fwrite(le, 1, 4, tf.f) != 4) die("cannot write", tf.tmp);
      }
    }
    free(part[t].best);
    free(part[t].ids);
    free(part[t].have);
  }
  out_close(&tf);
  free(block);
  free(queries);
  return 0;
}
