/* SPDX-License-Identifier: MIT */
/*
 * pocketvec demo: the tour a new user runs first (`make run`).
 *
 * On a seeded synthetic dataset it builds a cosine index with F32 storage and
 * one with SQ8 storage, and measures what a user would ask about: build
 * speed, recall@10 against exact neighbours, query latency and memory. Then
 * it deletes 10% of the F32 index, shows the deleted ids are gone, compacts
 * and checks again. Every claim it prints is also a check: if one fails the
 * demo says which and exits 1, so it doubles as a smoke test.
 *
 * The ground truth comes from common/datagen.c (brute force in double
 * precision over the original floats), not from pv_search_exact: the demo
 * should report recall as a user experiences it, SQ8 quantization included.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stats.h"
#include "datagen.h"

#define DEMO_K 10
#define DEMO_NQ 200
#define DEMO_CHUNK 1000       /* vectors per pv_add_batch, for progress */
#define DEMO_TIMED_PASSES 5   /* 5 x 200 queries = 1,000 latency samples */
#define DEMO_RECALL_FLOOR 0.5 /* below this something is broken, not tuned */
#define DEMO_N_EF 2

static const size_t demo_ef[DEMO_N_EF] = {64, 128};

/* What the demo measured about one index, for its table and the summary. */
typedef struct demo_report {
  const char *label;       /* "F32" or "SQ8" */
  double build_s;
  size_t memory;           /* pv_memory_usage after the build */
  size_t count;            /* pv_count after the build */
  double recall[DEMO_N_EF];
  double p50_us[DEMO_N_EF];
  double p99_us[DEMO_N_EF];
} demo_report;

typedef struct demo {
  pv_dataset ds;
  uint32_t seed;
  uint32_t *truth;         /* nq * K base-vector indexes, exact */
  int checks, failures;
} demo;

/* ------------------------------------------------------------------------ */
/* Checks                                                                   */
/* ------------------------------------------------------------------------ */

/* Count one check and print its verdict at the end of the current line. */
static void demo_verdict(demo *d, int ok) {
  d->checks++;
  if (!ok) d->failures++;
  printf("%s\n", ok ? "ok" : "FAILED");
}

/* ------------------------------------------------------------------------ */
/* Measurements                                                             */
/* ------------------------------------------------------------------------ */

/* Build an index over the whole dataset in chunks, so a progress line can
 * show while it runs. ids gets the id of every base vector. Returns CLI_OK
 * or CLI_FAILED (reported); on failure *out is NULL. */
static int demo_build(demo *d, pv_storage storage, pv_index **out,
                      uint32_t *ids, demo_report *r) {
  pv_options o = pv_options_default();
  o.dim = d->ds.dim;
  o.metric = PV_COSINE;
  o.storage = storage;
  o.m = 16;
  o.ef_construction = 200;
  o.seed = d->seed;
  o.capacity = (uint32_t)d->ds.n;
  *out = NULL;
  pv_index *idx;
  int rc = pv_new(&o, &idx);
  if (rc != PV_OK) return cli_pv_error("pv_new", NULL, rc);
  char label[48];
  snprintf(label, sizeof label, "building the %s index:", r->label);
  double t0 = cli_now();
  for (size_t done = 0; done < d->ds.n; done += DEMO_CHUNK) {
    size_t n = d->ds.n - done < DEMO_CHUNK ? d->ds.n - done : DEMO_CHUNK;
    cli_progress(label, done, d->ds.n);
    rc = pv_add_batch(idx, d->ds.base + done * d->ds.dim, n, ids + done);
    if (rc != PV_OK) {
      cli_progress_done();
      cli_pv_error("pv_add_batch", idx, rc);
      pv_free(idx);
      return CLI_FAILED;
    }
  }
  r->build_s = cli_now() - t0;
  cli_progress_done();
  r->memory = pv_memory_usage(idx);
  r->count = pv_count(idx);
  *out = idx;
  return CLI_OK;
}

/* Mean recall@K over the queries at one ef. truth holds nq * K indexes into
 * map, and map turns them into the ids the index gave out. */
static int demo_recall(pv_index *idx, const pv_dataset *ds, const uint32_t *truth,
                       const uint32_t *map, size_t ef, double *recall) {
  pv_hit hits[DEMO_K];
  size_t found = 0;
  for (size_t q = 0; q < ds->nq; q++) {
    size_t n;
    int rc = pv_search(idx, ds->queries + q * ds->dim, DEMO_K, ef, hits, &n);
    if (rc != PV_OK) return cli_pv_error("pv_search", idx, rc);
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < DEMO_K; j++)
        if (hits[i].id == map[truth[q * DEMO_K + j]]) {
          found++;
          break;
        }
  }
  *recall = (double)found / (double)(ds->nq * DEMO_K);
  return CLI_OK;
}

/* p50 and p99 of single-query latency at one ef: one untimed pass to warm
 * the caches, then DEMO_TIMED_PASSES passes with each call timed alone. */
static int demo_latency(pv_index *idx, const pv_dataset *ds, size_t ef,
                        double *p50_us, double *p99_us) {
  size_t total = ds->nq * DEMO_TIMED_PASSES;
  double *us = malloc(sizeof *us * total);
  if (!us) {
    cli_error("out of memory for %zu latency samples", total);
    return CLI_FAILED;
  }
  pv_hit hits[DEMO_K];
  size_t n, s = 0;
  for (int pass = 0; pass <= DEMO_TIMED_PASSES; pass++) {
    for (size_t q = 0; q < ds->nq; q++) {
      double t0 = cli_now();
      int rc = pv_search(idx, ds->queries + q * ds->dim, DEMO_K, ef, hits, &n);
      double t1 = cli_now();
      if (rc != PV_OK) {
        free(us);
        return cli_pv_error("pv_search", idx, rc);
      }
      if (pass > 0) us[s++] = (t1 - t0) * 1e6;
    }
  }
  pv_stats_sort(us, total);
  *p50_us = pv_stats_percentile(us, total, 0.50);
  *p99_us = pv_stats_percentile(us, total, 0.99);
  free(us);
  return CLI_OK;
}

/* ------------------------------------------------------------------------ */
/* Steps                                                                    */
/* ------------------------------------------------------------------------ */

/* Build, check and measure one index. Keeps it in *out for the caller. */
static int demo_index(demo *d, int step, pv_storage storage, const char *what,
                      pv_index **out, uint32_t *ids, demo_report *r) {
  char a[32], b[32], c[32];
  printf("[%d/3] %s index (%s)\n", step, r->label, what);
  fflush(stdout);
  int rc = demo_build(d, storage, out, ids, r);
  if (rc != CLI_OK) return rc;
  pv_index *idx = *out;
  printf("  built in %.2f s (%s inserts/s); %s bytes per vector, %s in all\n", r->build_s,
         cli_group(a, (uint64_t)((double)d->ds.n / r->build_s + 0.5)),
         cli_group(b, (uint64_t)((double)r->memory / (double)r->count + 0.5)),
         cli_bytes(c, (double)r->memory));
  printf("  %-44s", "pv_check (graph and bookkeeping invariants)");
  rc = pv_check(idx);
  demo_verdict(d, rc == PV_OK);
  if (rc != PV_OK) cli_pv_error("pv_check", idx, rc);

  printf("\n      ef   recall@10   p50 latency   p99 latency\n");
  for (int e = 0; e < DEMO_N_EF; e++) {
    rc = demo_recall(idx, &d->ds, d->truth, ids, demo_ef[e], &r->recall[e]);
    if (rc == CLI_OK)
      rc = demo_latency(idx, &d->ds, demo_ef[e], &r->p50_us[e], &r->p99_us[e]);
    if (rc != CLI_OK) return rc;
    printf("    %4zu   %9.3f   %8.0f us   %8.0f us\n", demo_ef[e], r->recall[e],
           r->p50_us[e], r->p99_us[e]);
  }
  int ok = 1;
  for (int e = 0; e < DEMO_N_EF; e++) ok &= r->recall[e] >= DEMO_RECALL_FLOOR;
  printf("\n  %-44s", "recall@10 plausible (at least 0.5)");
  demo_verdict(d, ok);
  printf("\n");
  return CLI_OK;
}

/* A small seeded generator (splitmix64) to pick which ids to delete. */
static uint64_t demo_rand(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Search for vector base[i] itself and print its nearest neighbour. */
static int demo_show_nearest(pv_index *idx, const pv_dataset *ds, size_t i,
                             uint32_t id, const char *when) {
  pv_hit hit;
  size_t n;
  int rc = pv_search(idx, ds->base + i * ds->dim, 1, 64, &hit, &n);
  if (rc != PV_OK) return cli_pv_error("pv_search", idx, rc);
  /* 1 - cos of a vector with itself may round to -0.00000001: show 0. */
  double dist = hit.distance < 0 && hit.distance > -1e-4 ? 0.0 : hit.distance;
  if (n == 0)
    printf("  %-7s searching for vector id %u finds nothing\n", when, id);
  else if (hit.id == id)
    printf("  %-7s the nearest neighbour of vector id %u is itself (distance %.4f)\n",
           when, id, dist);
  else
    printf("  %-7s the nearest neighbour of vector id %u is id %u (distance %.4f)\n",
           when, id, hit.id, dist);
  return CLI_OK;
}

/* Delete a seeded random 10% of the F32 index, show the deleted ids are gone,
 * compact, and check the index and its recall over the survivors. */
static int demo_deletes(demo *d, pv_index *idx, const uint32_t *ids,
                        double recall_after[DEMO_N_EF]) {
  const pv_dataset *ds = &d->ds;
  size_t n = ds->n, ndel = n / 10, nsurv = n - ndel;
  char a[32], b[32], c[32], d_[32];
  int rc = CLI_FAILED;

  /* Which base vectors go: the first ndel of a seeded shuffle. */
  size_t *order = malloc(sizeof *order * n);
  unsigned char *gone = calloc(n, 1);          /* by base index */
  uint32_t max_id = 0;
  for (size_t i = 0; i < n; i++) max_id = ids[i] > max_id ? ids[i] : max_id;
  unsigned char *gone_id = calloc((size_t)max_id + 1, 1);  /* by id */
  float *surv_base = malloc(sizeof(float) * (nsurv ? nsurv : 1) * ds->dim);
  uint32_t *surv_ids = malloc(sizeof *surv_ids * (nsurv ? nsurv : 1));
  uint32_t *surv_truth = malloc(sizeof *surv_truth * ds->nq * DEMO_K);
  if (!order || !gone || !gone_id || !surv_base || !surv_ids || !surv_truth) {
    cli_error("out of memory for the delete step");
    goto done;
  }
  uint64_t s = d->seed;
  for (size_t i = 0; i < n; i++) order[i] = i;
  for (size_t i = 0; i < ndel; i++) {
    size_t j = i + (size_t)(demo_rand(&s) % (n - i));
    size_t t = order[i];
    order[i] = order[j];
    order[j] = t;
    gone[order[i]] = 1;
    gone_id[ids[order[i]]] = 1;
  }

  printf("[3/3] Deletes and compaction (on the F32 index)\n");
  size_t example = order[0];
  if (demo_show_nearest(idx, ds, example, ids[example], "before:") != CLI_OK) goto done;

  double t0 = cli_now();
  for (size_t i = 0; i < ndel; i++) {
    int prc = pv_delete(idx, ids[order[i]]);
    if (prc != PV_OK) {
      cli_pv_error("pv_delete", idx, prc);
      goto done;
    }
  }
  double del_s = cli_now() - t0;
  printf("  deleted %s of %s ids (a seeded random 10%%) in %s\n", cli_group(a, ndel),
         cli_group(b, n), cli_duration(c, del_s));
  printf("  live vectors %s, tombstones awaiting compaction %s\n",
         cli_group(a, pv_count(idx)), cli_group(b, pv_deleted_count(idx)));
  if (demo_show_nearest(idx, ds, example, ids[example], "after:") != CLI_OK) goto done;

  /* Look for the deleted ids where they would be most likely to surface:
   * searches for the deleted vectors themselves, plus the usual queries. */
  size_t results = 0, leaked = 0;
  pv_hit hits[DEMO_K];
  for (size_t i = 0; i < ndel + ds->nq; i++) {
    const float *q = i < ndel ? ds->base + order[i] * ds->dim
                              : ds->queries + (i - ndel) * ds->dim;
    size_t nh;
    int prc = pv_search(idx, q, DEMO_K, 128, hits, &nh);
    if (prc != PV_OK) {
      cli_pv_error("pv_search", idx, prc);
      goto done;
    }
    results += nh;
    for (size_t h = 0; h < nh; h++)
      if (hits[h].id <= max_id && gone_id[hits[h].id]) leaked++;
  }
  printf("  searched for the %s deleted vectors themselves and the %s queries:\n",
         cli_group(a, ndel), cli_group(b, ds->nq));
  printf("  %s of %s results are deleted ids\n", cli_group(a, leaked), cli_group(c, results));
  printf("  %-44s", "no deleted id in any result");
  demo_verdict(d, leaked == 0);

  size_t still = 0, missing = 0;
  for (size_t i = 0; i < n; i++) {
    int has = pv_contains(idx, ids[i]);
    if (gone[i] && has) still++;
    if (!gone[i] && !has) missing++;
  }
  float *tmp = malloc(sizeof(float) * ds->dim);
  int get_rc = tmp ? pv_get(idx, ids[example], tmp) : PV_NOMEM;
  free(tmp);
  printf("  %-44s", "pv_contains/pv_get see only the survivors");
  demo_verdict(d, still == 0 && missing == 0 && get_rc == PV_NOTFOUND &&
                      pv_count(idx) == nsurv);
  if (still || missing)
    cli_error("%zu deleted ids still contained, %zu survivors missing", still, missing);

  printf("  %-44s", "pv_check with tombstones");
  int prc = pv_check(idx);
  demo_verdict(d, prc == PV_OK);
  if (prc != PV_OK) cli_pv_error("pv_check", idx, prc);

  /* Exact neighbours over the survivors only: same generator, same queries,
   * a dataset that holds just the vectors that are left. */
  size_t w = 0;
  for (size_t i = 0; i < n; i++) {
    if (gone[i]) continue;
    memcpy(surv_base + w * ds->dim, ds->base + i * ds->dim, sizeof(float) * ds->dim);
    surv_ids[w++] = ids[i];
  }
  pv_dataset surv = *ds;
  surv.n = nsurv;
  surv.base = surv_base;
  if (pv_dataset_truth(&surv, DEMO_K, surv_truth) != 0) {
    cli_error("out of memory computing the ground truth");
    goto done;
  }
  double before[DEMO_N_EF];
  for (int e = 0; e < DEMO_N_EF; e++)
    if (demo_recall(idx, &surv, surv_truth, surv_ids, demo_ef[e], &before[e]) != CLI_OK)
      goto done;

  size_t mem0 = pv_memory_usage(idx);
  t0 = cli_now();
  prc = pv_compact(idx);
  double compact_s = cli_now() - t0;
  if (prc != PV_OK) {
    cli_pv_error("pv_compact", idx, prc);
    goto done;
  }
  size_t mem1 = pv_memory_usage(idx);
  printf("  compacted in %s: tombstones %s, memory %s -> %s\n", cli_duration(a, compact_s),
         cli_group(b, pv_deleted_count(idx)), cli_bytes(c, (double)mem0),
         cli_bytes(d_, (double)mem1));
  missing = 0;
  for (size_t i = 0; i < nsurv; i++) missing += !pv_contains(idx, surv_ids[i]);
  printf("  %-44s", "no tombstones left, every survivor kept");
  demo_verdict(d, pv_deleted_count(idx) == 0 && pv_count(idx) == nsurv && missing == 0);
  printf("  %-44s", "pv_check after compaction");
  prc = pv_check(idx);
  demo_verdict(d, prc == PV_OK);
  if (prc != PV_OK) cli_pv_error("pv_check", idx, prc);

  for (int e = 0; e < DEMO_N_EF; e++)
    if (demo_recall(idx, &surv, surv_truth, surv_ids, demo_ef[e], &recall_after[e]) !=
        CLI_OK)
      goto done;
  printf("\n      ef   recall@10 over the %s survivors\n", cli_group(a, nsurv));
  printf("           with tombstones   after compaction\n");
  int ok = 1;
  for (int e = 0; e < DEMO_N_EF; e++) {
    printf("    %4zu   %15.3f   %16.3f\n", demo_ef[e], before[e], recall_after[e]);
    ok &= before[e] >= DEMO_RECALL_FLOOR && recall_after[e] >= DEMO_RECALL_FLOOR;
  }
  printf("\n  %-44s", "recall@10 still plausible (at least 0.5)");
  demo_verdict(d, ok);
  printf("\n");
  rc = CLI_OK;
done:
  free(order);
  free(gone);
  free(gone_id);
  free(surv_base);
  free(surv_ids);
  free(surv_truth);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Entry point                                                              */
/* ------------------------------------------------------------------------ */

static void demo_summary(const demo *d, const demo_report r[2],
                         const double recall_after[DEMO_N_EF], int deletes_ran) {
  char a[32], b[32];
  printf("Summary (%s vectors x %u dims, cosine, m 16, ef_construction 200)\n",
         cli_group(a, d->ds.n), d->ds.dim);
  /* Headers use the same field widths as the rows below them. */
  printf("%58s%25s\n", "recall@10", "latency at ef 64");
  printf("  %-5s  %9s  %10s  %13s  %6s  %7s  %9s  %8s\n", "index", "build", "inserts/s",
         "bytes/vector", "ef 64", "ef 128", "p50", "p99");
  for (int i = 0; i < 2; i++) {
    if (r[i].count == 0) continue; /* not built: an earlier step failed */
    printf("  %-5s  %7.2f s  %10s  %13s  %6.3f  %7.3f  %6.0f us  %5.0f us\n", r[i].label,
           r[i].build_s, cli_group(a, (uint64_t)((double)d->ds.n / r[i].build_s + 0.5)),
           cli_group(b, (uint64_t)((double)r[i].memory / (double)r[i].count + 0.5)),
           r[i].recall[0], r[i].recall[1], r[i].p50_us[0], r[i].p99_us[0]);
  }
  if (deletes_ran)
    printf("  F32 after deleting 10%% and compacting: recall@10 %.3f / %.3f\n",
           recall_after[0], recall_after[1]);
  printf("\n");
  if (d->failures == 0)
    printf("All %d checks passed.\n", d->checks);
  else
    printf("%d of %d checks FAILED (see above).\n", d->failures, d->checks);
}

int cmd_demo(int argc, char **argv) {
  uint64_t n = 10000, dim = 384, seed = 42;
  for (int i = 1; i < argc; i++) {
    const char *v;
    int m;
    if ((m = cli_flag_value("demo", argc, argv, &i, "--n", &v)) != 0) {
      if (m < 0 || cli_parse_u64("demo", "--n", v, 100, 10000000, &n)) return CLI_USAGE;
    } else if ((m = cli_flag_value("demo", argc, argv, &i, "--dim", &v)) != 0) {
      if (m < 0 || cli_parse_u64("demo", "--dim", v, 2, PV_MAX_DIM, &dim)) return CLI_USAGE;
    } else if ((m = cli_flag_value("demo", argc, argv, &i, "--seed", &v)) != 0) {
      if (m < 0 || cli_parse_u64("demo", "--seed", v, 0, UINT32_MAX, &seed))
        return CLI_USAGE;
    } else {
      return cli_usage_error("demo", "unknown flag '%s'", argv[i]);
    }
  }

  demo d;
  memset(&d, 0, sizeof d);
  d.seed = (uint32_t)seed;
  demo_report r[2];
  memset(r, 0, sizeof r);
  r[0].label = "F32";
  r[1].label = "SQ8";
  double recall_after[DEMO_N_EF] = {0, 0};
  int deletes_ran = 0, rc = CLI_FAILED;
  pv_index *f32 = NULL, *sq8 = NULL;
  uint32_t *ids_f32 = NULL, *ids_sq8 = NULL;
  char a[32], b[32];

  printf("pocketvec %s demo (distance kernels: %s)\n\n", pv_version(), pv_kernels_name());
  double t0 = cli_now();
  if (pv_dataset_make(&d.ds, (uint32_t)dim, (size_t)n, DEMO_NQ, 0, d.seed) != 0) {
    cli_error("out of memory generating %s vectors of %u dims", cli_group(a, n),
              (unsigned)dim);
    return CLI_FAILED;
  }
  double gen_s = cli_now() - t0;
  d.truth = malloc(sizeof *d.truth * DEMO_NQ * DEMO_K);
  ids_f32 = malloc(sizeof *ids_f32 * (size_t)n);
  ids_sq8 = malloc(sizeof *ids_sq8 * (size_t)n);
  if (!d.truth || !ids_f32 || !ids_sq8) {
    cli_error("out of memory");
    goto done;
  }
  t0 = cli_now();
  if (pv_dataset_truth(&d.ds, DEMO_K, d.truth) != 0) {
    cli_error("out of memory computing the ground truth");
    goto done;
  }
  double truth_s = cli_now() - t0;
  size_t clusters = d.ds.n / 100 < 8 ? 8 : d.ds.n / 100; /* datagen's default */
  printf("Dataset  %s vectors x %u dims + %d held-out queries, seed %u\n",
         cli_group(a, n), d.ds.dim, DEMO_NQ, d.seed);
  printf("         synthetic clustered embeddings (%s clusters), generated in %.2f s\n",
         cli_group(b, clusters), gen_s);
  printf("         exact top-%d of every query by brute force in %.2f s\n", DEMO_K,
         truth_s);
  printf("Index    cosine distance, m 16, ef_construction 200, k %d\n\n", DEMO_K);

  if (demo_index(&d, 1, PV_F32, "4 bytes per dimension, exact distances", &f32, ids_f32,
                 &r[0]) != CLI_OK)
    goto done;
  if (demo_index(&d, 2, PV_SQ8, "1 byte per dimension + 16 per vector, integer distances",
                 &sq8, ids_sq8, &r[1]) != CLI_OK)
    goto done;
  pv_free(sq8); /* only the F32 index goes on; give its memory back first */
  sq8 = NULL;
  if (demo_deletes(&d, f32, ids_f32, recall_after) != CLI_OK) goto done;
  deletes_ran = 1;
  rc = CLI_OK;
done:
  if (rc == CLI_OK || r[0].count) demo_summary(&d, r, recall_after, deletes_ran);
  if (rc != CLI_OK) printf("The demo stopped early: see the error above.\n");
  pv_free(f32);
  pv_free(sq8);
  free(ids_f32);
  free(ids_sq8);
  free(d.truth);
  pv_dataset_free(&d.ds);
  if (rc != CLI_OK) return CLI_FAILED;
  return d.failures ? CLI_FAILED : CLI_OK;
}
