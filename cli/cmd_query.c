/*
 * pocketvec query: the k nearest neighbours of every vector in a file.
 *
 * The index is loaded with cli_load_index (the whole file read into memory,
 * PV_LOAD_TAKE: see pvfile.c for why not mmap). The queries are streamed in
 * batches like build's input, so a large query file needs one batch of
 * memory. Results go to stdout, one line per query, in file order; timings
 * go to stderr, so `pocketvec query ... > results.txt` captures only the
 * results.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stats.h"

#define QUERY_BATCH 256
#define QUERY_MAX_K 100000

typedef struct query_args {
  const char *index, *queries;
  cli_format format;
  uint64_t dim, k, ef;
  int exact, json;
} query_args;

static int parse_args(int argc, char **argv, query_args *a) {
  memset(a, 0, sizeof *a);
  a->k = 10;
  for (int i = 1; i < argc; i++) {
    const char *v;
    int m;
#define FLAG(name) ((m = cli_flag_value("query", argc, argv, &i, name, &v)) != 0)
    if (FLAG("--k")) {
      if (m < 0 || cli_parse_u64("query", "--k", v, 1, QUERY_MAX_K, &a->k)) return CLI_USAGE;
    } else if (FLAG("--ef")) {
      if (m < 0 || cli_parse_u64("query", "--ef", v, 1, PV_MAX_EF, &a->ef)) return CLI_USAGE;
    } else if (FLAG("--format")) {
      if (m < 0 || cli_parse_format("query", v, &a->format)) return CLI_USAGE;
    } else if (FLAG("--dim")) {
      if (m < 0 || cli_parse_u64("query", "--dim", v, 1, PV_MAX_DIM, &a->dim)) return CLI_USAGE;
    } else if (strcmp(argv[i], "--exact") == 0) {
      a->exact = 1;
    } else if (strcmp(argv[i], "--json") == 0) {
      a->json = 1;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return cli_usage_error("query", "unknown flag '%s'", argv[i]);
    } else if (!a->index) {
      a->index = argv[i];
    } else if (!a->queries) {
      a->queries = argv[i];
    } else {
      return cli_usage_error("query", "unexpected argument '%s'", argv[i]);
    }
#undef FLAG
  }
  if (!a->index || !a->queries)
    return cli_usage_error("query", "give the index file and the file of query vectors");
  if (a->exact && a->ef)
    return cli_usage_error("query", "--exact searches every vector; --ef has no meaning with it");
  return CLI_OK;
}

/* "the query: element 3 is NaN" -> "query 17: element 3 is NaN". */
static const char *query_message(const char *msg, uint64_t q, char *buf, size_t cap) {
  static const char prefix[] = "the query";
  if (strncmp(msg, prefix, sizeof prefix - 1) == 0)
    snprintf(buf, cap, "query %llu%s", (unsigned long long)q, msg + sizeof prefix - 1);
  else
    snprintf(buf, cap, "query %llu: %s", (unsigned long long)q, msg);
  return buf;
}

static void print_hits(uint64_t q, const pv_hit *hits, size_t n, int json) {
  if (json) {
    putchar('[');
    for (size_t h = 0; h < n; h++)
      printf("%s{\"id\":%u,\"distance\":%.9g}", h ? "," : "", hits[h].id,
             (double)hits[h].distance);
    fputs("]\n", stdout);
  } else {
    printf("%llu\t", (unsigned long long)q);
    for (size_t h = 0; h < n; h++)
      printf("%s%u:%.9g", h ? " " : "", hits[h].id, (double)hits[h].distance);
    putchar('\n');
  }
}

/* "41 us" below a millisecond, else as cli_duration. */
static char *latency(char *buf, double seconds) {
  if (seconds < 1e-3) {
    snprintf(buf, 32, "%.0f us", seconds * 1e6);
    return buf;
  }
  return cli_duration(buf, seconds);
}

int cmd_query(int argc, char **argv) {
  query_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc != CLI_OK) return rc;

  cli_format fmt;
  rc = cli_resolve_format("query", a.queries, a.format, &fmt);
  if (rc != CLI_OK) return rc;
  pv_index *idx;
  if (cli_load_index(a.index, &idx, NULL) != CLI_OK) return CLI_FAILED;
  pv_options o;
  pv_get_options(idx, &o);
  /* Raw queries without --dim have the index's dimension. */
  uint32_t dim = a.dim ? (uint32_t)a.dim : fmt == CLI_FORMAT_RAW ? o.dim : 0;

  cli_vecfile vf;
  float *batch = NULL;
  pv_hit *hits = NULL;
  double *secs = NULL;
  size_t nsecs = 0;
  rc = cli_vecfile_open(&vf, "query", a.queries, fmt, dim);
  if (rc != CLI_OK) goto done;
  rc = CLI_FAILED;
  if (pv_check_dim(idx, vf.dim) != PV_OK) {
    cli_error("%s: %s (index %s): query with vectors of the dimension the index was "
              "built with",
              a.queries, pv_errmsg(idx), a.index);
    goto done;
  }
  size_t nb = QUERY_BATCH;
  batch = malloc(sizeof(float) * vf.dim * nb);
  hits = malloc(sizeof *hits * (size_t)a.k);
  secs = malloc(sizeof *secs * (vf.count ? (size_t)vf.count : 1));
  if (!batch || !hits || !secs) {
    cli_error("out of memory for the queries of %s", a.queries);
    goto done;
  }

  for (;;) {
    size_t got;
    uint64_t base = vf.next;
    if (cli_vecfile_read(&vf, batch, nb, &got) != CLI_OK) goto done;
    if (got == 0) break;
    for (size_t i = 0; i < got; i++) {
      size_t n;
      const float *q = batch + i * vf.dim;
      double t0 = cli_now();
      int prc = a.exact ? pv_search_exact(idx, q, (size_t)a.k, 0, hits, &n)
                        : pv_search(idx, q, (size_t)a.k, (size_t)a.ef, hits, &n);
      secs[nsecs++] = cli_now() - t0;
      if (prc != PV_OK) {
        char msg[512];
        cli_error("%s: %s%s", a.queries, query_message(pv_errmsg(idx), base + i, msg, sizeof msg),
                  prc == PV_INVALID ? "; fix or remove that query" : "");
        goto done;
      }
      print_hits(base + i, hits, n, a.json);
    }
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    cli_error("cannot write the results to standard output");
    goto done;
  }
  rc = CLI_OK;
  if (nsecs) {
    double sum = 0;
    for (size_t i = 0; i < nsecs; i++) sum += secs[i];
    pv_stats_sort(secs, nsecs);
    char g[32], t1[32], t2[32], t3[32], ef[48];
    if (a.exact)
      snprintf(ef, sizeof ef, "exact");
    else
    {
      /* As pv_search does: ef 0 is the index's ef_search, and ef below k is k. */
      uint64_t e = a.ef ? a.ef : o.ef_search;
      snprintf(ef, sizeof ef, "ef %llu", (unsigned long long)(e < a.k ? a.k : e));
    }
    fprintf(stderr, "%s queries, k %llu, %s: latency mean %s, p50 %s, p99 %s\n",
            cli_group(g, nsecs), (unsigned long long)a.k, ef,
            latency(t1, sum / (double)nsecs), latency(t2, pv_stats_percentile(secs, nsecs, 0.50)),
            latency(t3, pv_stats_percentile(secs, nsecs, 0.99)));
  }
done:
  cli_vecfile_close(&vf);
  pv_free(idx);
  free(batch);
  free(hits);
  free(secs);
  return rc;
}
