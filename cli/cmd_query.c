/* SPDX-License-Identifier: MIT */
/*
 * pocketvec query: the k nearest neighbours of every vector in a file, and
 * full-text (BM25) and hybrid queries.
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
 *
 * Text: a query with text (--text, or the "text" of a line of .jsonl
 * queries) runs through pv_query_run: BM25 alone, or fused with the
 * query's vector (hybrid). A query with a vector only runs through
 * pv_search as it always did, so its hits, its distances and the k it may
 * ask for (up to 100,000; pv_query_run takes up to 65,536) are unchanged
 * by this. The two kinds print differently because they rank differently:
 * a vector hit carries its distance (smaller is closer), a text or hybrid
 * hit its score (larger is better).
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
/* pv_query's bounds (include/pocketvec.h, src/api_text.c), checked here
 * first so that a bad flag is a usage error naming the flag. */
#define QUERY_MAX_K1 1e6
#define QUERY_MAX_WEIGHT 1e9

typedef struct query_args {
  const char *index, *queries, *filter, *text;
  cli_format format;
  uint64_t dim, k, ef, threads, window;
  int exact, json, attributes, prefix;
  /* The text flags given (each needs a text query to mean anything). */
  const char *k1_flag, *b_flag, *fusion_flag;
  pv_query base; /* k1, b, prefix, fusion, rrf_k, weights, window */
} query_args;

/* Parse --fusion: rrf, rrf:C, weighted or weighted:V,T into q. */
static int parse_fusion(const char *v, pv_query *q) {
  static const char *const expects =
      "--fusion expects rrf, rrf:C (C above 0), weighted or weighted:V,T (the weights of the "
      "vector and the text, 0 or more, not both 0), got '%s'";
  double x, y;
  if (strcmp(v, "rrf") == 0) {
    q->fusion = PV_FUSE_RRF;
  } else if (strncmp(v, "rrf:", 4) == 0) {
    if (cli_parse_real(v + 4, &x) || !(x > 0) || x > QUERY_MAX_WEIGHT)
      return cli_usage_error("query", expects, v);
    q->fusion = PV_FUSE_RRF;
    q->rrf_k = (float)x;
  } else if (strcmp(v, "weighted") == 0) {
    q->fusion = PV_FUSE_WEIGHTED;
  } else if (strncmp(v, "weighted:", 9) == 0) {
    /* The two numbers, split at the comma in a copy. */
    char buf[128];
    const char *comma = strchr(v + 9, ',');
    size_t n = comma ? (size_t)(comma - (v + 9)) : 0;
    if (!comma || n >= sizeof buf) return cli_usage_error("query", expects, v);
    memcpy(buf, v + 9, n);
    buf[n] = '\0';
    if (cli_parse_real(buf, &x) || cli_parse_real(comma + 1, &y) || x < 0 || y < 0 ||
        x > QUERY_MAX_WEIGHT || y > QUERY_MAX_WEIGHT || x + y <= 0)
      return cli_usage_error("query", expects, v);
    q->fusion = PV_FUSE_WEIGHTED;
    q->w_vector = (float)x;
    q->w_text = (float)y;
  } else {
    return cli_usage_error("query", expects, v);
  }
  return CLI_OK;
}

static int parse_args(int argc, char **argv, query_args *a) {
  memset(a, 0, sizeof *a);
  a->k = 10;
  a->threads = 1;
  a->base = pv_query_default();
  for (int i = 1; i < argc; i++) {
    const char *v;
    double x;
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
    } else if (FLAG("--text")) {
      if (m < 0) return CLI_USAGE;
      if (!*v) return cli_usage_error("query", "--text is empty: give the words to search for");
      a->text = v;
    } else if (FLAG("--k1")) {
      if (m < 0) return CLI_USAGE;
      if (cli_parse_real(v, &x) || x < 0 || x > QUERY_MAX_K1)
        return cli_usage_error("query", "--k1 expects a number from 0 to 1,000,000 (BM25's "
                                        "term frequency saturation; default 1.2), got '%s'",
                               v);
      a->base.k1 = (float)x;
      a->k1_flag = "--k1";
    } else if (FLAG("--b")) {
      if (m < 0) return CLI_USAGE;
      if (cli_parse_real(v, &x) || x < 0 || x > 1)
        return cli_usage_error("query", "--b expects a number from 0 to 1 (BM25's length "
                                        "normalisation; default 0.75), got '%s'",
                               v);
      a->base.b = (float)x;
      a->b_flag = "--b";
    } else if (FLAG("--fusion")) {
      if (m < 0 || parse_fusion(v, &a->base)) return CLI_USAGE;
      a->fusion_flag = "--fusion";
    } else if (FLAG("--window")) {
      if (m < 0 || cli_parse_u64("query", "--window", v, 1, PV_MAX_EF, &a->window))
        return CLI_USAGE;
    } else if (strcmp(argv[i], "--prefix") == 0) {
      a->prefix = 1;
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
  if (!a->index || (!a->queries && !a->text))
    return cli_usage_error("query", "give the index file and the file of queries (or --text "
                                    "WORDS)");
  if (!*a->index || (a->queries && !*a->queries))
    return cli_usage_error("query", "the %s file name is empty", *a->index ? "query" : "index");
  if (a->exact && a->ef)
    return cli_usage_error("query", "--exact searches every vector; --ef has no meaning with it");
  if (a->window && a->window < a->k)
    return cli_usage_error("query", "--window %llu is below --k %llu: each side of a hybrid "
                                    "query gives the fusion --window hits, of which k are kept",
                           (unsigned long long)a->window, (unsigned long long)a->k);
  a->base.prefix = a->prefix;
  a->base.exact = a->exact;
  a->base.window = (size_t)a->window;
  return CLI_OK;
}

/* The queries' kinds, once the queries are known: the text flags that
 * cannot apply to any of them are usage errors rather than silently
 * ignored, and k must fit pv_query_run when any query has text. nt:
 * queries with text; nh: with a vector and text. */
static int check_text_flags(const query_args *a, uint64_t nt, uint64_t nh) {
  const char *where = a->queries ? a->queries : "the query";
  if (!nt) {
    const char *f = a->prefix ? "--prefix" : a->k1_flag ? a->k1_flag : a->b_flag;
    if (f)
      return cli_usage_error("query", "%s is for text queries, and %s has none: give --text "
                                      "WORDS, or .jsonl queries with \"text\"",
                             f, where);
  }
  if (!nh) {
    const char *f = a->fusion_flag ? a->fusion_flag : a->window ? "--window" : NULL;
    if (f)
      return cli_usage_error("query", "%s is for hybrid queries (a vector and text), and %s "
                                      "has none: give --text WORDS with a file of vectors, or "
                                      ".jsonl queries with both \"vector\" and \"text\"",
                             f, where);
  }
  if (nt && a->k > PV_MAX_EF) {
    char g[32];
    return cli_usage_error("query", "--k is at most %s for text and hybrid queries, got %llu",
                           cli_group(g, PV_MAX_EF), (unsigned long long)a->k);
  }
  return CLI_OK;
}

/* ------------------------------------------------------------------------ */
/* Printing                                                                 */
/* ------------------------------------------------------------------------ */

/* What printing a hit needs besides the hit: the index (its keys and
 * attributes) and a buffer for the attributes. */
typedef struct hit_printer {
  pv_index *idx;
  int attributes, json;
  char *attr;
  size_t attr_cap;
} hit_printer;

/* Print the key (when the document has one) and, with --attributes, the
 * attributes of hit id: after the number in the text form (:"KEY",
 * :{...}, JSON with spaces escaped, so that hits stay separated by single
 * spaces); in the JSON form the key after the id and the attributes last,
 * so `at_end` says which part this call writes. CLI_OK or CLI_FAILED. */
static int print_doc_parts(uint32_t id, int at_end, hit_printer *p) {
  const char *key = NULL;
  size_t key_len = 0, attr_len = 0;
  /* Every hit is live: these fail only if the library is broken. */
  int rc = pv_get_key(p->idx, id, &key, &key_len);
  if (rc != PV_OK) return cli_pv_error("pv_get_key", p->idx, rc);
  if (p->json) {
    if (!at_end && key) {
      fputs("\"key\":", stdout);
      cli_json_put_string(stdout, key, key_len, 0);
      putchar(',');
    }
    if (!at_end || !p->attributes) return CLI_OK;
    if (cli_attributes(p->idx, id, &p->attr, &p->attr_cap, &attr_len) != CLI_OK)
      return CLI_FAILED;
    fputs(",\"attributes\":", stdout);
    cli_json_put_text(stdout, p->attr, attr_len, 0);
    return CLI_OK;
  }
  if (key) {
    putchar(':');
    cli_json_put_string(stdout, key, key_len, 1);
  }
  if (p->attributes) {
    if (cli_attributes(p->idx, id, &p->attr, &p->attr_cap, &attr_len) != CLI_OK)
      return CLI_FAILED;
    putchar(':');
    cli_json_put_text(stdout, p->attr, attr_len, 1);
  }
  return CLI_OK;
}

/* Print the hits of vector query q. A hit of a document without a key is
 * ID:DISTANCE, as before documents existed; a key and attributes follow
 * (print_doc_parts). CLI_OK, or CLI_FAILED reported. */
static int print_hits(uint64_t q, const pv_hit *hits, size_t n, hit_printer *p) {
  if (!p->json) printf("%llu\t", (unsigned long long)q);
  else putchar('[');
  for (size_t h = 0; h < n; h++) {
    if (p->json) printf("%s{\"id\":%u,", h ? "," : "", hits[h].id);
    else printf("%s%u:%.9g", h ? " " : "", hits[h].id, (double)hits[h].distance);
    if (print_doc_parts(hits[h].id, 0, p) != CLI_OK) return CLI_FAILED;
    if (p->json) printf("\"distance\":%.9g", (double)hits[h].distance);
    if (p->json && print_doc_parts(hits[h].id, 1, p) != CLI_OK) return CLI_FAILED;
    if (p->json) putchar('}');
  }
  fputs(p->json ? "]\n" : "\n", stdout);
  return CLI_OK;
}

/* Print the hits of text or hybrid query q: ID:SCORE then the key and
 * attributes in the text form; in JSON, "score", then "textScore" (BM25)
 * when the text side returned the document and "distance" when the vector
 * side did (with_vector: the query has a vector; a text-only hit always
 * has its BM25, which is its score). CLI_OK, or CLI_FAILED reported. */
static int print_matches(uint64_t q, const pv_match *m, size_t n, int with_vector,
                         hit_printer *p) {
  if (!p->json) printf("%llu\t", (unsigned long long)q);
  else putchar('[');
  for (size_t h = 0; h < n; h++) {
    if (p->json) printf("%s{\"id\":%u,", h ? "," : "", m[h].id);
    else printf("%s%u:%.9g", h ? " " : "", m[h].id, (double)m[h].score);
    if (print_doc_parts(m[h].id, 0, p) != CLI_OK) return CLI_FAILED;
    if (p->json) {
      printf("\"score\":%.9g", (double)m[h].score);
      /* pv_match: text_score is 0 when the text side did not return it. */
      if (!with_vector || m[h].text_score != 0.0f)
        printf(",\"textScore\":%.9g", (double)m[h].text_score);
      if (!isnan(m[h].distance)) printf(",\"distance\":%.9g", (double)m[h].distance);
      if (print_doc_parts(m[h].id, 1, p) != CLI_OK) return CLI_FAILED;
      putchar('}');
    }
  }
  fputs(p->json ? "]\n" : "\n", stdout);
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
  const unsigned char *has_vec; /* per query: 1 if it has a vector */
  const char *const *text;      /* per query: its text, or NULL */
  const size_t *text_len;
  uint32_t dim;
  size_t k, ef;
  int exact;
  const pv_filter *filter; /* or NULL */
  const pv_query *base;    /* the text options of every text query */
  size_t first, end;
  pv_hit *hits;       /* k per query: a vector query's hits */
  pv_match *matches;  /* k per query: a text or hybrid query's (NULL: none can be) */
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
    double t0 = cli_now();
    int prc;
    if (w->text[i]) {
      pv_query pq = *w->base;
      pq.vector = w->has_vec[i] ? q : NULL;
      pq.text = w->text[i];
      pq.text_len = w->text_len[i];
      pq.k = w->k;
      pq.ef = w->ef;
      pq.filter = w->filter;
      prc = pv_query_run(w->idx, &pq, w->matches + i * w->k, &w->nhits[i]);
    } else {
      pv_hit *h = w->hits + i * w->k;
      if (w->filter)
        prc = w->exact ? pv_search_exact_filter(w->idx, q, w->k, 0, w->filter, h, &w->nhits[i])
                       : pv_search_filter(w->idx, q, w->k, w->ef, w->filter, h, &w->nhits[i]);
      else
        prc = w->exact ? pv_search_exact(w->idx, q, w->k, 0, h, &w->nhits[i])
                       : pv_search(w->idx, q, w->k, w->ef, h, &w->nhits[i]);
    }
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

/* Report the failed search of query number `no` (q: its vector, NULL for
 * a text query without one). The library says which element is at fault
 * (pv_errinfo's element); the CLI numbers the query in the file and says
 * what is wrong from the query's own values, so it never parses the
 * library's English. Other failures (out of memory, a text of too many
 * terms) keep the library's sentence. */
static void report_query_error(const char *path, const query_share *w, const float *q,
                               uint32_t dim, pv_metric metric, uint64_t no) {
  const char *fix = w->code == PV_INVALID ? "; fix or remove that query" : "";
  int64_t el = w->info.element;
  if (q && el >= 0 && (uint64_t)el < dim) {
    if (!isfinite(q[el]))
      cli_error("%s: query %llu: element %lld is %s%s", path, (unsigned long long)no,
                (long long)el, isnan(q[el]) ? "NaN" : "infinite", fix);
    else /* a rule of the library's (a magnitude limit): its sentence says which */
      cli_error("%s: query %llu: element %lld is %g, which the index rejects (%s)%s", path,
                (unsigned long long)no, (long long)el, (double)q[el], w->msg, fix);
    return;
  }
  int zero = q != NULL;
  for (uint32_t d = 0; q && d < dim && zero; d++) zero = q[d] == 0.0f;
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

  cli_format fmt = CLI_FORMAT_AUTO;
  if (a.queries) {
    rc = cli_resolve_format("query", a.queries, a.format, &fmt);
    if (rc != CLI_OK) return rc;
    /* A query file that cannot be read (missing, a FIFO) fails now, not
     * after a large index has been loaded. */
    if (cli_check_regular(a.queries, "save the queries to a file first") != CLI_OK)
      return CLI_FAILED;
  } else if (a.format || a.dim) {
    return cli_usage_error("query", "%s is for a file of queries; --text alone is one query",
                           a.format ? "--format" : "--dim");
  }
  /* Flags that need text are refused before the index is loaded when no
   * query can have any: vectors without --text. */
  if (!a.text && fmt != CLI_FORMAT_JSONL && (rc = check_text_flags(&a, 0, 0)) != CLI_OK)
    return rc;
  pv_index *idx;
  int has_text = 0;
  if (cli_load_index_text(a.index, &idx, NULL, &has_text) != CLI_OK) return CLI_FAILED;
  pv_filter *filter = NULL;
  if (cli_filter_compile(idx, "--filter", a.filter, &filter) != CLI_OK) {
    pv_free(idx);
    return CLI_FAILED;
  }
  hit_printer hp = {idx, a.attributes, a.json, NULL, 0};
  pv_options o;
  pv_get_options(idx, &o);
  /* Raw queries without --dim have the index's dimension. */
  uint32_t dim = a.dim ? (uint32_t)a.dim : fmt == CLI_FORMAT_RAW ? o.dim : 0;

  cli_vecfile vf;
  memset(&vf, 0, sizeof vf);
  float *batch = NULL;
  pv_hit *hits = NULL;
  pv_match *matches = NULL;
  size_t *nhits = NULL, *text_len = NULL;
  const char **text = NULL;
  unsigned char *has_vec = NULL;
  double *secs = NULL;
  query_share *shares = NULL;
  size_t nsecs = 0, nthreads = (size_t)a.threads, k = (size_t)a.k;
  const char *path = a.queries ? a.queries : "--text";
  /* The queries and their kinds: nq in all, nv with a vector, nt with
   * text, nh with both. */
  uint64_t nq = 1, nv = 0, nt = 1, nh = 0;
  if (a.queries) {
    rc = cli_vecfile_open(&vf, "query", a.queries, fmt, dim);
    if (rc != CLI_OK) goto done;
    if (a.text && vf.with_text) {
      rc = cli_usage_error("query", "%s:%llu: this query has its own \"text\"; --text is for "
                                    "files of queries without: drop --text, or the lines' "
                                    "\"text\"",
                           a.queries, (unsigned long long)vf.first_text_line);
      goto done;
    }
    nq = vf.count;
    nv = vf.with_vector;
    nt = a.text ? nq : vf.with_text;
    nh = a.text ? nv : vf.hybrid;
  }
  rc = check_text_flags(&a, nt, nh);
  if (rc != CLI_OK) goto done;
  rc = CLI_FAILED;
  if (nt && !has_text) {
    /* The library answers with no hits; that an index without text was
     * given is what the user needs to hear. */
    cli_error("%s has no text index: none of its documents was given \"text\", so a text "
              "query can match nothing. Build it from documents (.jsonl) with a \"text\" "
              "member: 'pocketvec help build'",
              a.index);
    goto done;
  }
  if (nv && pv_check_dim(idx, vf.dim) != PV_OK) {
    cli_error("%s: %s (index %s): query with vectors of the dimension the index was "
              "built with",
              a.queries, pv_errmsg(idx), a.index);
    goto done;
  }
  uint32_t qdim = vf.dim ? vf.dim : 1; /* no vector at all: a float of room, unused */
  size_t nb = QUERY_BATCH * nthreads;
  size_t per_query = sizeof *hits * k + (nt ? sizeof *matches * k : 0);
  if (nb > QUERY_HITS_BUDGET / per_query) nb = QUERY_HITS_BUDGET / per_query;
  if (nb < 1) nb = 1;
  batch = calloc((size_t)qdim * nb, sizeof(float));
  hits = malloc(sizeof *hits * k * nb);
  matches = nt ? malloc(sizeof *matches * k * nb) : NULL;
  nhits = malloc(sizeof *nhits * nb);
  text = malloc(sizeof *text * nb);
  text_len = malloc(sizeof *text_len * nb);
  has_vec = malloc(nb);
  secs = malloc(sizeof *secs * (size_t)nq);
  shares = calloc(nthreads, sizeof *shares);
  if (!batch || !hits || (nt && !matches) || !nhits || !text || !text_len || !has_vec || !secs ||
      !shares) {
    cli_error("out of memory for the queries of %s", path);
    goto done;
  }

  double t0 = cli_now();
  for (uint64_t base = 0;;) {
    size_t got;
    if (a.queries) {
      base = vf.next;
      if (cli_vecfile_read(&vf, batch, nb, &got) != CLI_OK) goto done;
      for (size_t i = 0; i < got; i++) {
        has_vec[i] = (unsigned char)cli_vecfile_query(&vf, i, &text[i], &text_len[i]);
        if (a.text) {
          text[i] = a.text;
          text_len[i] = strlen(a.text);
        }
      }
    } else { /* --text alone: one query, no vector */
      got = base == 0;
      has_vec[0] = 0;
      text[0] = a.text;
      text_len[0] = strlen(a.text);
    }
    if (got == 0) break;
    for (size_t t = 0; t < nthreads; t++)
      shares[t] = (query_share){.idx = idx, .batch = batch, .has_vec = has_vec, .text = text,
                                .text_len = text_len, .dim = qdim, .k = k,
                                .ef = (size_t)a.ef, .exact = a.exact, .filter = filter,
                                .base = &a.base, .hits = hits, .matches = matches,
                                .nhits = nhits, .secs = secs + nsecs};
    const query_share *bad = search_batch(shares, nthreads, got);
    size_t done_here = bad ? bad->failed : got;
    for (size_t i = 0; i < done_here; i++) {
      int prc = text[i] ? print_matches(base + i, matches + i * k, nhits[i], has_vec[i], &hp)
                        : print_hits(base + i, hits + i * k, nhits[i], &hp);
      if (prc != CLI_OK) goto done;
    }
    nsecs += done_here;
    if (bad) {
      if (!a.queries) /* the one query of --text: no number to give */
        cli_error("--text: %s", bad->msg);
      else
        report_query_error(path, bad, has_vec[bad->failed] ? batch + bad->failed * qdim : NULL,
                           qdim, o.metric, base + bad->failed);
      goto done;
    }
    base += got;
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
    char g[32], t1[32], t2[32], t3[32], how[160] = "", kinds[160] = "", thr[80] = "";
    if (a.exact) {
      snprintf(how, sizeof how, "exact");
    } else if (nv) {
      /* As pv_search does: ef 0 is the index's ef_search, and ef below k is k. */
      uint64_t e = a.ef ? a.ef : o.ef_search;
      snprintf(how, sizeof how, "ef %llu", (unsigned long long)(e < a.k ? a.k : e));
    } else {
      snprintf(how, sizeof how, "bm25 k1 %g b %g", (double)a.base.k1, (double)a.base.b);
    }
    if (filter) strcat(how, ", filtered");
    if (nt) {
      char c1[32], c2[32], fusion[64] = "";
      if (nh && a.base.fusion == PV_FUSE_RRF)
        snprintf(fusion, sizeof fusion, ", fused by rrf %g", (double)a.base.rrf_k);
      else if (nh)
        snprintf(fusion, sizeof fusion, ", fused by weighted %g,%g", (double)a.base.w_vector,
                 (double)a.base.w_text);
      snprintf(kinds, sizeof kinds, " (%s text, %s hybrid%s)", cli_group(c1, nt - nh),
               cli_group(c2, nh), fusion);
    }
    if (nthreads > 1) {
      char q[32];
      snprintf(thr, sizeof thr, "; %zu threads: %s queries/s", nthreads,
               cli_group(q, (uint64_t)((double)nsecs / (wall > 0 ? wall : 1e-9) + 0.5)));
    }
    fprintf(stderr, "%s queries%s, k %llu, %s: latency mean %s, p50 %s, p99 %s%s\n",
            cli_group(g, nsecs), kinds, (unsigned long long)a.k, how,
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
  free(matches);
  free(nhits);
  free(text);
  free(text_len);
  free(has_vec);
  free(secs);
  free(shares);
  return rc;
}
