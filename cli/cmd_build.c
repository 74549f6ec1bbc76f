/* SPDX-License-Identifier: MIT */
/*
 * pocketvec build: an index file from a file of vectors, or of documents.
 *
 * The input is streamed: one batch of vectors is read, added with
 * pv_add_batch, and the buffer reused, so memory is the index plus one
 * batch, whatever the input's size. The output goes through cli_output
 * (pvfile.c): the target checked and a temporary file created before the
 * input is even opened (an output that is a directory, or in a missing or
 * unwritable directory, fails in the first second, not after the build),
 * renamed over the target only once it is complete and on disk.
 *
 * Ids are the vectors' numbers in the file, 0 .. n-1: the library issues
 * ids in insertion order from 0, and this command checks that it did.
 *
 * Documents (a .jsonl file, or vectors with --attributes) go through
 * docs.c instead: checked whole first, then upserted in batches. Their ids
 * are their numbers in the input too, counting only the documents kept (a
 * document replaced by a later one with the same key is skipped). A
 * document's "text" is indexed for full-text search; --stem and
 * --stopwords set how (pv_options.text), for good: the options are saved
 * in the file, and later upserts and text queries use them too.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define BUILD_DEFAULT_BATCH 1000

typedef struct build_args {
  const char *input, *output, *attributes;
  cli_format format;
  uint64_t dim, batch;
  pv_options opt;
} build_args;

static int parse_metric(const char *v, pv_metric *out) {
  if (strcmp(v, "cosine") == 0) *out = PV_COSINE;
  else if (strcmp(v, "l2") == 0) *out = PV_L2;
  else if (strcmp(v, "dot") == 0) *out = PV_DOT;
  else return cli_usage_error("build", "--metric expects cosine, l2 or dot, got '%s'", v);
  return CLI_OK;
}

static int parse_storage(const char *v, pv_storage *out) {
  if (strcmp(v, "f32") == 0) *out = PV_F32;
  else if (strcmp(v, "sq8") == 0) *out = PV_SQ8;
  else if (strcmp(v, "binary") == 0) *out = PV_BINARY;
  else if (strcmp(v, "binary-f32") == 0) *out = PV_BINARY_F32;
  else return cli_usage_error("build", "--storage expects f32, sq8, binary or binary-f32, got '%s'", v);
  return CLI_OK;
}

static int parse_args(int argc, char **argv, build_args *a) {
  memset(a, 0, sizeof *a);
  a->opt = pv_options_default();
  a->batch = BUILD_DEFAULT_BATCH;
  for (int i = 1; i < argc; i++) {
    const char *v;
    uint64_t x;
    int m;
#define FLAG(name) ((m = cli_flag_value("build", argc, argv, &i, name, &v)) != 0)
    if (FLAG("-o") || (m == 0 && FLAG("--output"))) {
      if (m < 0) return CLI_USAGE;
      a->output = v;
    } else if (FLAG("--attributes")) {
      if (m < 0) return CLI_USAGE;
      if (!*v) return cli_usage_error("build", "the --attributes file name is empty");
      a->attributes = v;
    } else if (FLAG("--format")) {
      if (m < 0 || cli_parse_format("build", v, &a->format)) return CLI_USAGE;
    } else if (FLAG("--dim")) {
      if (m < 0 || cli_parse_u64("build", "--dim", v, 1, PV_MAX_DIM, &a->dim)) return CLI_USAGE;
    } else if (FLAG("--metric")) {
      if (m < 0 || parse_metric(v, &a->opt.metric)) return CLI_USAGE;
    } else if (FLAG("--storage")) {
      if (m < 0 || parse_storage(v, &a->opt.storage)) return CLI_USAGE;
    } else if (FLAG("--m")) {
      if (m < 0 || cli_parse_u64("build", "--m", v, 2, PV_MAX_M, &x)) return CLI_USAGE;
      a->opt.m = (uint32_t)x;
    } else if (FLAG("--ef-construction")) {
      if (m < 0 || cli_parse_u64("build", "--ef-construction", v, 1, PV_MAX_EF, &x))
        return CLI_USAGE;
      a->opt.ef_construction = (uint32_t)x;
    } else if (FLAG("--ef-search")) {
      if (m < 0 || cli_parse_u64("build", "--ef-search", v, 1, PV_MAX_EF, &x)) return CLI_USAGE;
      a->opt.ef_search = (uint32_t)x;
    } else if (FLAG("--seed")) {
      if (m < 0 || cli_parse_u64("build", "--seed", v, 0, UINT64_MAX, &a->opt.seed))
        return CLI_USAGE;
    } else if (FLAG("--batch")) {
      if (m < 0 || cli_parse_u64("build", "--batch", v, 1, 1000000, &a->batch)) return CLI_USAGE;
    } else if (strcmp(argv[i], "--stem") == 0) {
      a->opt.text |= PV_TEXT_STEM;
    } else if (strcmp(argv[i], "--stopwords") == 0) {
      a->opt.text |= PV_TEXT_STOPWORDS;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return cli_usage_error("build", "unknown flag '%s'", argv[i]);
    } else if (!a->input) {
      a->input = argv[i];
    } else {
      return cli_usage_error("build", "expects one input file, got '%s' and '%s'", a->input,
                             argv[i]);
    }
#undef FLAG
  }
  if (!a->input) return cli_usage_error("build", "give the input file of vectors");
  if (!a->output) return cli_usage_error("build", "give the output file: -o OUT.pvec");
  if (!*a->input) return cli_usage_error("build", "the input file name is empty");
  if (!*a->output)
    return cli_usage_error("build", "the output file name is empty: give -o OUT.pvec");
  return CLI_OK;
}

/* Report a failed pv_add_batch of the vectors base .. base+n-1 of the
 * file. The library says which vector of the batch is at fault and which of
 * its elements (pv_errinfo's item and element); the CLI names the vector by
 * its number in the file, as the ids are, and says what is wrong from the
 * vector's own values (NaN, infinite, all zeros), so it never parses the
 * library's English. A rule it cannot see in the values (the library's
 * magnitude limit) is shown with the value and the library's own sentence.
 * A failure that names no vector (out of memory, no ids left) keeps the
 * library's sentence, with the batch's range so the place can be found. */
static void report_batch_error(const char *path, const pv_index *idx, const float *batch,
                               uint32_t dim, pv_metric metric, uint64_t base, size_t n) {
  pv_error_info e;
  int code = pv_errinfo(idx, &e);
  /* A batch of one is checked as a single vector, which no item names. */
  if (e.item < 0 && n == 1 && code == PV_INVALID) e.item = 0;
  if (e.item < 0 || (uint64_t)e.item >= n) {
    cli_error("%s: %s (in vectors %llu .. %llu)", path, pv_errmsg(idx),
              (unsigned long long)base, (unsigned long long)(base + n - 1));
    return;
  }
  const float *v = batch + (size_t)e.item * dim;
  unsigned long long no = (unsigned long long)(base + (uint64_t)e.item);
  if (e.element >= 0 && (uint64_t)e.element < dim) {
    float x = v[e.element];
    if (!isfinite(x))
      cli_error("%s: vector %llu: element %lld is %s", path, no, (long long)e.element,
                isnan(x) ? "NaN" : "infinite");
    else /* a rule of the library's (a magnitude limit): its sentence says which */
      cli_error("%s: vector %llu: element %lld is %g, which the index rejects (pv_add_batch, "
                "whose vector 0 is the file's vector %llu: %s)",
                path, no, (long long)e.element, (double)x, (unsigned long long)base,
                pv_errmsg(idx));
    return;
  }
  int zero = 1;
  for (uint32_t d = 0; d < dim && zero; d++) zero = v[d] == 0.0f;
  if (zero && metric == PV_COSINE)
    cli_error("%s: vector %llu is all zeros; cosine distance needs a non-zero vector", path, no);
  else
    cli_error("%s: vector %llu: %s (pv_add_batch, whose vector 0 is the file's vector %llu: %s)",
              path, no, pv_errstr(code), (unsigned long long)base, pv_errmsg(idx));
}

/* 1 if a and b name the same existing file. */
static int same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

/* Build from documents: a .jsonl file, or vectors with --attributes. The
 * output is begun first, as for vectors; the input is then checked whole
 * (cli_docsrc_open) before the index is even created. */
static int build_docs(build_args *a, cli_format fmt) {
  cli_output out;
  if (cli_output_begin(&out, a->output) != CLI_OK) return CLI_FAILED;
  cli_docsrc s;
  int rc = cli_docsrc_open(&s, "build", a->input, fmt, a->attributes, (uint32_t)a->dim,
                           "--dim says");
  if (rc != CLI_OK) {
    cli_output_abort(&out);
    return rc;
  }
  pv_index *idx = NULL;
  char g1[32], g2[32], g3[32], g4[32], g5[32], g6[32], g7[32];
  rc = CLI_FAILED;
  uint64_t kept = s.count - s.superseded;
  if (s.count == 0) {
    cli_error("%s: the file holds no documents (blank lines are skipped); there is nothing "
              "to build",
              a->input);
    goto done;
  }
  if (kept > UINT32_MAX - 1) {
    cli_error("%s: %s documents is more than one index can hold (%s); split the file",
              a->input, cli_group(g1, kept), cli_group(g2, UINT32_MAX - 1));
    goto done;
  }
  a->opt.dim = s.dim;
  a->opt.capacity = (uint32_t)kept;
  int prc = pv_new(&a->opt, &idx);
  if (prc != PV_OK) {
    cli_pv_error("pv_new", NULL, prc);
    goto done;
  }
  cli_upsert_stats st;
  double t0 = cli_now();
  if (cli_docs_upsert(&s, idx, (size_t)a->batch, "building", &st) != CLI_OK) goto done;
  double secs = cli_now() - t0;
  cli_docsrc_close(&s);
  uint64_t bytes = 0;
  size_t mem = pv_memory_usage(idx), n = pv_count(idx);
  if (cli_output_commit(&out, idx, &bytes) != CLI_OK) goto done;
  /* Text is counted only when there is some, so that the line of an index
   * without text reads as it always did. */
  char text[48] = "";
  if (st.with_text) snprintf(text, sizeof text, ", %s with text", cli_group(g7, st.with_text));
  printf("%s: %s document%s of %u dims (%s with a key, %s with attributes%s) in %.2f s "
         "(%s documents/s); %s in memory, %s on disk\n",
         a->output, cli_group(g1, n), n == 1 ? "" : "s", a->opt.dim, cli_group(g2, st.keyed),
         cli_group(g3, st.with_attrs), text, secs,
         cli_group(g4, (uint64_t)((double)n / (secs > 0 ? secs : 1e-9) + 0.5)),
         cli_bytes(g5, (double)mem), cli_bytes(g6, (double)bytes));
  cli_docsrc_report_superseded(&s, a->input);
  rc = CLI_OK;
done:
  cli_output_abort(&out);
  cli_docsrc_close(&s);
  pv_free(idx);
  return rc;
}

int cmd_build(int argc, char **argv) {
  build_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc != CLI_OK) return rc;
  if (same_file(a.input, a.output))
    return cli_usage_error("build", "the output '%s' is the input file; choose another name",
                           a.output);
  if (a.attributes && same_file(a.attributes, a.output))
    return cli_usage_error("build", "the output '%s' is the --attributes file; choose another "
                                    "name",
                           a.output);

  /* Usage errors first (the format from the name, raw needs --dim), then
   * the output: a bad one fails before any input is read. */
  cli_format fmt;
  rc = cli_resolve_format("build", a.input, a.format, &fmt);
  if (rc != CLI_OK) return rc;
  if (fmt == CLI_FORMAT_RAW && a.dim == 0)
    return cli_usage_error("build", "'%s' is raw float32, which has no header: give its --dim",
                           a.input);
  if (fmt == CLI_FORMAT_JSONL && a.attributes)
    return cli_usage_error("build", "--attributes is for a file of vectors; each line of '%s' "
                                    "carries its own \"attributes\"",
                           a.input);
  if (fmt == CLI_FORMAT_JSONL || a.attributes) return build_docs(&a, fmt);
  cli_output out;
  if (cli_output_begin(&out, a.output) != CLI_OK) return CLI_FAILED;
  cli_vecfile vf;
  rc = cli_vecfile_open(&vf, "build", a.input, fmt, (uint32_t)a.dim);
  if (rc != CLI_OK) {
    cli_output_abort(&out);
    return rc;
  }
  pv_index *idx = NULL;
  float *batch = NULL;
  uint32_t *ids = NULL;
  char g1[32], g2[32], g3[32], g4[32];
  rc = CLI_FAILED;
  if (vf.count == 0) {
    cli_error("%s: the file holds no vectors; there is nothing to build", a.input);
    goto done;
  }
  if (vf.count > UINT32_MAX - 1) {
    cli_error("%s: %s vectors is more than one index can hold (%s); split the file",
              a.input, cli_group(g1, vf.count), cli_group(g2, UINT32_MAX - 1));
    goto done;
  }
  a.opt.dim = vf.dim;
  a.opt.capacity = (uint32_t)vf.count; /* one allocation up front, not many regrowths */
  int prc = pv_new(&a.opt, &idx);
  if (prc != PV_OK) {
    cli_pv_error("pv_new", NULL, prc);
    goto done;
  }
  size_t nb = a.batch < vf.count ? (size_t)a.batch : (size_t)vf.count;
  batch = malloc(sizeof(float) * vf.dim * nb);
  ids = malloc(sizeof *ids * nb);
  if (!batch || !ids) {
    cli_error("out of memory for a batch of %zu vectors; use a smaller --batch", nb);
    goto done;
  }

  double t0 = cli_now();
  for (;;) {
    size_t got;
    uint64_t base = vf.next;
    cli_progress("building", (size_t)base, (size_t)vf.count);
    if (cli_vecfile_read(&vf, batch, nb, &got) != CLI_OK) goto done;
    if (got == 0) break;
    prc = pv_add_batch(idx, batch, got, ids);
    if (prc != PV_OK) {
      cli_progress_done();
      report_batch_error(a.input, idx, batch, vf.dim, a.opt.metric, base, got);
      if (prc == PV_INVALID)
        fprintf(stderr, "Fix or remove that vector and build again; nothing was written.\n");
      else if (prc == PV_NOMEM)
        fprintf(stderr, "Try --storage sq8 (about 4x smaller), or a machine with more "
                        "memory; nothing was written.\n");
      goto done;
    }
    if (ids[0] != base || ids[got - 1] != base + got - 1) {
      cli_progress_done();
      cli_error("the library issued ids %u .. %u for vectors %llu .. %llu; this pocketvec "
                "is broken, please report it",
                ids[0], ids[got - 1], (unsigned long long)base,
                (unsigned long long)(base + got - 1));
      goto done;
    }
  }
  double secs = cli_now() - t0;
  cli_progress_done();
  free(batch);
  batch = NULL;
  uint64_t bytes = 0;
  size_t mem = pv_memory_usage(idx);
  size_t n = pv_count(idx);
  cli_vecfile_close(&vf);
  if (cli_output_commit(&out, idx, &bytes) != CLI_OK) goto done;
  printf("%s: %s vectors of %u dims in %.2f s (%s vectors/s); %s in memory, %s on disk\n",
         a.output, cli_group(g1, n), a.opt.dim, secs,
         cli_group(g2, (uint64_t)((double)n / (secs > 0 ? secs : 1e-9) + 0.5)),
         cli_bytes(g3, (double)mem), cli_bytes(g4, (double)bytes));
  rc = CLI_OK;
done:
  cli_progress_done();
  cli_output_abort(&out);
  cli_vecfile_close(&vf);
  pv_free(idx);
  free(batch);
  free(ids);
  return rc;
}
