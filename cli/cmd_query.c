/*
 * pocketvec query: the k nearest neighbours of every vector in a file.
 *
 * The index is loaded with cli_load_index (the whole file read into memory,
 * PV_LOAD_TAKE: see pvfile.c for why not mmap). The queries are streamed in
 * batches like build's input, so a large query file needs one batch of
 * memory. Results go to stdout, one line per query, in file order; timings
 * go to stderr, so `pocketvec query ... > results.txt` captures only the
 * results.
 *
 * --threads N splits each batch into N contiguous shares, searched at once
 * by N threads on the one loaded index (the library allows any number of
 * concurrent searches while nothing writes). The hits of a batch are kept
 * until every share is done, then printed in query order by this thread,
 * so the output is byte for byte that of one thread. Threads are started
 * per batch rather than kept in a pool: a batch is hundreds of searches, so
 * starting them costs little, and there is nothing to hand over or wake.
 * With one thread the same code runs with no thread started.
 *
 * --filter restricts every search to the documents that match (compiled
 * once; a compiled filter may be used from any number of threads). Hits
 * are printed with their keys, when they have one, and with --attributes
 * their attributes: looked up by the printing thread, after the searches.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stats.h"

#define QUERY_BATCH 256 /* queries read at a time, per thread */
#define QUERY_MAX_K 100000
#define QUERY_MAX_THREADS 256
/* The most bytes of hits one batch keeps for printing: with a large k the
 * batch shrinks (to one query at worst) rather than the memory growing. */
#define QUERY_HITS_BUDGET ((size_t)16 << 20)

typedef struct query_args {
  const char *index, *queries, *filter;
  cli_format format;
  uint64_t dim, k, ef, threads;
  int exact, json, attributes;
} query_args;

static int parse_args(int argc, char **argv, query_args *a) {
  memset(a, 0, sizeof *a);
  a->k = 10;
  a->threads = 1;
  for (int i = 1; i < argc; i++) {
    const char *v;
    int m;
#define FLAG(name) ((m = cli_flag_value("query", argc, argv, &i, name, &v)) != 0)
    if (FLAG("--k")) {
      if (m < 0 || cli_parse_u64("query", "--k", v, 1, QUERY_MAX_K, &a->k)) return CLI_USAGE;
    } else if (FLAG("--ef")) {
      if (m < 0 || cli_parse_u64("query", "--ef", v, 1, PV_MAX_EF, &a->ef)) return CLI_USAGE;
    } else if (FLAG("--threads")) {
      if (m < 0 || cli_parse_u64("query", "--threads", v, 1, QUERY_MAX_THREADS, &a->threads))
        return CLI_USAGE;
    } else if (FLAG("--format")) {
      if (m < 0 || cli_parse_format("query", v, &a->format)) return CLI_USAGE;
    } else if (FLAG("--dim")) {
      if (m < 0 || cli_parse_u64("query", "--dim", v, 1, PV_MAX_DIM, &a->dim)) return CLI_USAGE;
    } else if (FLAG("--filter")) {
      if (m < 0) return CLI_USAGE;
      a->filter = v;
    } else if (strcmp(argv[i], "--attributes") == 0) {
      a->attributes = 1;
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
  if (!*a->index || !*a->queries)
    return cli_usage_error("query", "the %s file name is empty", *a->index ? "query" : "index");
  if (a->exact && a->ef)
    return cli_usage_error("query", "--exact searches every vector; --ef has no meaning with it");
  return CLI_OK;
}

/* What printing a hit needs besides the hit: the index (its keys and
 * attributes) and a buffer for the attributes. */
typedef struct hit_printer {
  pv_index *idx;
  int attributes;
  char *attr;
  size_t attr_cap;
} hit_printer;

/* Print the hits of query q. A hit of a document without a key is
 * ID:DISTANCE, as before documents existed; a key follows as :"KEY" and
 * attributes as :{...}, in JSON with spaces escaped, so that hits stay
 * separated by single spaces. CLI_OK, or CLI_FAILED reported. */
static int print_hits(uint64_t q, const pv_hit *hits, size_t n, int json, hit_printer *p) {
  if (!json) printf("%llu\t", (unsigned long long)q);
  else putchar('[');
  for (size_t h = 0; h < n; h++) {
    const char *key = NULL;
    size_t key_len = 0, attr_len = 0;
    /* Every hit is live: these fail only if the library is broken. */
    int rc = pv_get_key(p->idx, hits[h].id, &key, &key_len);
    if (rc != PV_OK) return cli_pv_error("pv_get_key", p->idx, rc);
    if (p->attributes &&
        cli_attributes(p->idx, hits[h].id, &p->attr, &p->attr_cap, &attr_len) != CLI_OK)
      return CLI_FAILED;
    if (json) {
      printf("%s{\"id\":%u,", h ? "," : "", hits[h].id);
      if (key) {
        fputs("\"key\":", stdout);
        cli_json_put_string(stdout, key, key_len, 0);
        putchar(',');
      }
      printf("\"distance\":%.9g", (double)hits[h].distance);
      if (p->attributes) {
        fputs(",\"attributes\":", stdout);
        cli_json_put_text(stdout, p->attr, attr_len, 0);
      }
      putchar('}');
    } else {
      printf("%s%u:%.9g", h ? " " : "", hits[h].id, (double)hits[h].distance);
      if (key) {
        putchar(':');
        cli_json_put_string(stdout, key, key_len, 1);
      }
      if (p->attributes) {
        putchar(':');
        cli_json_put_text(stdout, p->attr, attr_len, 1);
      }
    }
  }
  fputs(json ? "]\n" : "\n", stdout);
  return CLI_OK;
}

/* "41 us" below a millisecond, else as cli_duration. */
static char *latency(char *buf, double seconds) {
  if (seconds < 1e-3) {
    snprintf(buf, 32, "%.0f us", seconds * 1e6);
    return buf;
  }
  return cli_duration(buf, seconds);
}

/* ------------------------------------------------------------------------ */
/* Searching a batch                                                        */
/* ------------------------------------------------------------------------ */

/* One thread's share of a batch: the queries [first, end). Every array is
 * the batch's, indexed by the query's place in it; a share writes only its
 * own entries, so the threads share nothing they write. */
typedef struct query_share {
  pv_index *idx;
  const float *batch; /* the batch's query vectors, dim floats each */
  uint32_t dim;
  size_t k, ef;
  int exact;
  const pv_filter *filter; /* or NULL */
  size_t first, end;
  pv_hit *hits;       /* k per query */
  size_t *nhits;      /* per query */
  double *secs;       /* per query: its latency */
  /* The first failure of the share: */
  size_t failed;      /* the query's place in the batch, or `end` if none */
  int code;
  pv_error_info info; /* this thread's own status, read on this thread */
  char msg[256];
  int started;        /* 1 if a thread of its own runs the share */
  pthread_t thread;
} query_share;

static void *run_share(void *arg) {
  query_share *w = arg;
  for (size_t i = w->first; i < w->end; i++) {
    const float *q = w->batch + i * w->dim;
    pv_hit *h = w->hits + i * w->k;
    double t0 = cli_now();
    int prc;
    if (w->filter)
      prc = w->exact ? pv_search_exact_filter(w->idx, q, w->k, 0, w->filter, h, &w->nhits[i])
                     : pv_search_filter(w->idx, q, w->k, w->ef, w->filter, h, &w->nhits[i]);
    else
      prc = w->exact ? pv_search_exact(w->idx, q, w->k, 0, h, &w->nhits[i])
                     : pv_search(w->idx, q, w->k, w->ef, h, &w->nhits[i]);
    w->secs[i] = cli_now() - t0;
    if (prc != PV_OK) {
      /* The status is per thread: it must be read here, not after the join. */
      w->failed = i;
      w->code = pv_errinfo(w->idx, &w->info);
      snprintf(w->msg, sizeof w->msg, "%s", pv_errmsg(w->idx));
      break;
    }
  }
  return NULL;
}

/* Search the n queries of a batch with up to nshares threads, share 0 on
 * this one. A thread that cannot be started has its share run here. Returns
 * the share whose failure comes first in the batch, or NULL if none failed:
 * every query before that failure was searched (each share stops at its own
 * first failure, and the shares are contiguous). */
static const query_share *search_batch(query_share *shares, size_t nshares, size_t n) {
  if (nshares > n) nshares = n;
  for (size_t t = 0; t < nshares; t++) {
    query_share *w = &shares[t];
    w->first = n * t / nshares;
    w->end = n * (t + 1) / nshares;
    w->failed = w->end;
    w->started = 0;
  }
  for (size_t t = 1; t < nshares; t++)
    shares[t].started = pthread_create(&shares[t].thread, NULL, run_share, &shares[t]) == 0;
  run_share(&shares[0]);
  for (size_t t = 1; t < nshares; t++) {
    if (shares[t].started)
      pthread_join(shares[t].thread, NULL);
    else
      run_share(&shares[t]);
  }
  for (size_t t = 0; t < nshares; t++)
    if (shares[t].failed < shares[t].end) return &shares[t];
  return NULL;
}

/* Report the failed search of query number `no` (q: its vector). The
 * library says which element is at fault (pv_errinfo's element); the CLI
 * numbers the query in the file and says what is wrong from the query's own
 * values, so it never parses the library's English. Other failures (out of
 * memory) keep the library's sentence. */
static void report_query_error(const char *path, const query_share *w, const float *q,
                               uint32_t dim, pv_metric metric, uint64_t no) {
  const char *fix = w->code == PV_INVALID ? "; fix or remove that query" : "";
  int64_t el = w->info.element;
  if (el >= 0 && (uint64_t)el < dim) {
    if (!isfinite(q[el]))
      cli_error("%s: query %llu: element %lld is %s%s", path, (unsigned long long)no,
                (long long)el, isnan(q[el]) ? "NaN" : "infinite", fix);
    else /* a rule of the library's (a magnitude limit): its sentence says which */
      cli_error("%s: query %llu: element %lld is %g, which the index rejects (%s)%s", path,
                (unsigned long long)no, (long long)el, (double)q[el], w->msg, fix);
    return;
  }
  int zero = 1;
  for (uint32_t d = 0; d < dim && zero; d++) zero = q[d] == 0.0f;
  if (zero && metric == PV_COSINE && w->code == PV_INVALID)
    cli_error("%s: query %llu is all zeros; cosine distance needs a non-zero vector%s", path,
              (unsigned long long)no, fix);
  else
    cli_error("%s: query %llu: %s%s", path, (unsigned long long)no, w->msg, fix);
}

/* ------------------------------------------------------------------------ */
/* Entry point                                                              */
/* ------------------------------------------------------------------------ */

int cmd_query(int argc, char **argv) {
  query_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc != CLI_OK) return rc;

  cli_format fmt;
  rc = cli_resolve_format("query", a.queries, a.format, &fmt);
  if (rc != CLI_OK) return rc;
  /* A query file that cannot be read (missing, a FIFO) fails now, not after
   * a large index has been loaded. */
  if (cli_check_regular(a.queries, "save the query vectors to a file first") != CLI_OK)
    return CLI_FAILED;
  pv_index *idx;
  if (cli_load_index(a.index, &idx, NULL) != CLI_OK) return CLI_FAILED;
  pv_filter *filter = NULL;
  if (cli_filter_compile(idx, "--filter", a.filter, &filter) != CLI_OK) {
    pv_free(idx);
    return CLI_FAILED;
  }
  hit_printer hp = {idx, a.attributes, NULL, 0};
  pv_options o;
  pv_get_options(idx, &o);
  /* Raw queries without --dim have the index's dimension. */
  uint32_t dim = a.dim ? (uint32_t)a.dim : fmt == CLI_FORMAT_RAW ? o.dim : 0;

  cli_vecfile vf;
  float *batch = NULL;
  pv_hit *hits = NULL;
  size_t *nhits = NULL;
  double *secs = NULL;
  query_share *shares = NULL;
  size_t nsecs = 0, nthreads = (size_t)a.threads, k = (size_t)a.k;
  rc = cli_vecfile_open(&vf, "query", a.queries, fmt, dim);
  if (rc != CLI_OK) goto done;
  rc = CLI_FAILED;
  if (pv_check_dim(idx, vf.dim) != PV_OK) {
    cli_error("%s: %s (index %s): query with vectors of the dimension the index was "
              "built with",
              a.queries, pv_errmsg(idx), a.index);
    goto done;
  }
  size_t nb = QUERY_BATCH * nthreads;
  if (nb > QUERY_HITS_BUDGET / (sizeof *hits * k)) nb = QUERY_HITS_BUDGET / (sizeof *hits * k);
  if (nb < 1) nb = 1;
  batch = malloc(sizeof(float) * vf.dim * nb);
  hits = malloc(sizeof *hits * k * nb);
  nhits = malloc(sizeof *nhits * nb);
  secs = malloc(sizeof *secs * (vf.count ? (size_t)vf.count : 1));
  shares = calloc(nthreads, sizeof *shares);
  if (!batch || !hits || !nhits || !secs || !shares) {
    cli_error("out of memory for the queries of %s", a.queries);
    goto done;
  }

  double t0 = cli_now();
  for (;;) {
    size_t got;
    uint64_t base = vf.next;
    if (cli_vecfile_read(&vf, batch, nb, &got) != CLI_OK) goto done;
    if (got == 0) break;
    for (size_t t = 0; t < nthreads; t++)
      shares[t] = (query_share){.idx = idx, .batch = batch, .dim = vf.dim, .k = k,
                                .ef = (size_t)a.ef, .exact = a.exact, .filter = filter,
                                .hits = hits,
                                .nhits = nhits, .secs = secs + nsecs};
    const query_share *bad = search_batch(shares, nthreads, got);
    size_t done_here = bad ? bad->failed : got;
    for (size_t i = 0; i < done_here; i++)
      if (print_hits(base + i, hits + i * k, nhits[i], a.json, &hp) != CLI_OK) goto done;
    nsecs += done_here;
    if (bad) {
      report_query_error(a.queries, bad, batch + bad->failed * vf.dim, vf.dim, o.metric,
                         base + bad->failed);
      goto done;
    }
  }
  double wall = cli_now() - t0;
  if (fflush(stdout) != 0 || ferror(stdout)) {
    cli_error("cannot write the results to standard output");
    goto done;
  }
  rc = CLI_OK;
  if (nsecs) {
    double sum = 0;
    for (size_t i = 0; i < nsecs; i++) sum += secs[i];
    pv_stats_sort(secs, nsecs);
    char g[32], t1[32], t2[32], t3[32], ef[48], thr[80] = "";
    if (a.exact)
      snprintf(ef, sizeof ef, "exact");
    else
    {
      /* As pv_search does: ef 0 is the index's ef_search, and ef below k is k. */
      uint64_t e = a.ef ? a.ef : o.ef_search;
      snprintf(ef, sizeof ef, "ef %llu", (unsigned long long)(e < a.k ? a.k : e));
    }
    if (filter) strcat(ef, ", filtered");
    if (nthreads > 1) {
      char q[32];
      snprintf(thr, sizeof thr, "; %zu threads: %s queries/s", nthreads,
               cli_group(q, (uint64_t)((double)nsecs / (wall > 0 ? wall : 1e-9) + 0.5)));
    }
    fprintf(stderr, "%s queries, k %llu, %s: latency mean %s, p50 %s, p99 %s%s\n",
            cli_group(g, nsecs), (unsigned long long)a.k, ef,
            latency(t1, sum / (double)nsecs), latency(t2, pv_stats_percentile(secs, nsecs, 0.50)),
            latency(t3, pv_stats_percentile(secs, nsecs, 0.99)), thr);
  }
done:
  cli_vecfile_close(&vf);
  pv_filter_free(filter);
  free(hp.attr);
  pv_free(idx);
  free(batch);
  free(hits);
  free(nhits);
  free(secs);
  free(shares);
  return rc;
}
