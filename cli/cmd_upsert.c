/* SPDX-License-Identifier: MIT */
/*
 * pocketvec upsert: add documents to an index file, or replace those with
 * the same keys, in place.
 *
 * The file is changed as a whole or not at all: the index is loaded, every
 * document upserted in memory, and the result written to a temporary file
 * renamed over the old one (cli_rewrite_begin, cli_output_commit). Any
 * failure before the rename leaves the file byte for byte as it was.
 * Documents' "text" is indexed with the text options the index was built
 * with (saved in it), which an upsert cannot change.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define UPSERT_DEFAULT_BATCH 1000

typedef struct upsert_args {
  const char *index, *input, *attributes;
  cli_format format;
  uint64_t batch;
  int save; /* CLI_SAVE_* */
} upsert_args;

static int parse_args(int argc, char **argv, upsert_args *a) {
  memset(a, 0, sizeof *a);
  a->batch = UPSERT_DEFAULT_BATCH;
  for (int i = 1; i < argc; i++) {
    const char *v;
    int m;
#define FLAG(name) ((m = cli_flag_value("upsert", argc, argv, &i, name, &v)) != 0)
    if (FLAG("--attributes")) {
      if (m < 0) return CLI_USAGE;
      if (!*v) return cli_usage_error("upsert", "the --attributes file name is empty");
      a->attributes = v;
    } else if (FLAG("--format")) {
      if (m < 0 || cli_parse_format("upsert", v, &a->format)) return CLI_USAGE;
    } else if (FLAG("--batch")) {
      if (m < 0 || cli_parse_u64("upsert", "--batch", v, 1, 1000000, &a->batch)) return CLI_USAGE;
    } else if (strcmp(argv[i], "--whole") == 0 || strcmp(argv[i], "--append") == 0) {
      a->save = argv[i][2] == 'w' ? CLI_SAVE_WHOLE : CLI_SAVE_APPEND;
    } else if (strcmp(argv[i], "--stem") == 0 || strcmp(argv[i], "--stopwords") == 0) {
      /* A text index holds the terms as its options made them: a document
       * tokenized otherwise could never be found. */
      return cli_usage_error("upsert", "%s is an option of the index, set when it is built "
                                       "(build %s); upsert uses the index's own",
                             argv[i], argv[i]);
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return cli_usage_error("upsert", "unknown flag '%s'", argv[i]);
    } else if (!a->index) {
      a->index = argv[i];
    } else if (!a->input) {
      a->input = argv[i];
    } else {
      return cli_usage_error("upsert", "unexpected argument '%s'", argv[i]);
    }
#undef FLAG
  }
  if (!a->index || !a->input)
    return cli_usage_error("upsert", "give the index file and the file of documents");
  if (!*a->index) return cli_usage_error("upsert", "the index file name is empty");
  if (!*a->input) return cli_usage_error("upsert", "the documents file name is empty");
  return CLI_OK;
}

/* 1 if a and b name the same existing file. */
static int same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

int cmd_upsert(int argc, char **argv) {
  upsert_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc != CLI_OK) return rc;
  if (same_file(a.index, a.input) || (a.attributes && same_file(a.index, a.attributes)))
    return cli_usage_error("upsert", "'%s' is the index file itself; give a file of documents",
                           same_file(a.index, a.input) ? a.input : a.attributes);
  cli_format fmt;
  rc = cli_resolve_format("upsert", a.input, a.format, &fmt);
  if (rc != CLI_OK) return rc;
  if (fmt == CLI_FORMAT_JSONL && a.attributes)
    return cli_usage_error("upsert", "--attributes is for a file of vectors; each line of '%s' "
                                     "carries its own \"attributes\"",
                           a.input);
  /* The input must be readable before a large index is loaded for it. */
  if (cli_check_regular(a.input, "save the documents to a file first") != CLI_OK ||
      (a.attributes &&
       cli_check_regular(a.attributes, "save the attributes to a file first") != CLI_OK))
    return CLI_FAILED;

  pv_index *idx;
  cli_output out;
  if (cli_rewrite_begin(a.index, &idx, &out) != CLI_OK) return CLI_FAILED;
  out.save = a.save;
  pv_options o;
  pv_get_options(idx, &o);
  cli_docsrc s;
  rc = cli_docsrc_open(&s, "upsert", a.input, fmt, a.attributes, o.dim, "the index has");
  if (rc != CLI_OK) {
    cli_output_abort(&out);
    pv_free(idx);
    return rc;
  }
  char g1[32], g2[32], g3[32], g4[32], g5[32], g6[32], g7[32];
  rc = CLI_FAILED;
  cli_upsert_stats st;
  size_t before = pv_count(idx);
  if (s.count == 0) {
    /* Nothing to do is not an error, and the file stays as it was. */
    printf("%s: no documents in %s; the index is unchanged\n", a.index, a.input);
    rc = CLI_OK;
    goto done;
  }
  if (cli_docs_upsert(&s, idx, (size_t)a.batch, "upserting", &st) != CLI_OK) goto done;
  uint64_t bytes = 0;
  if (cli_output_commit(&out, idx, &bytes) != CLI_OK) goto done;
  char text[48] = "";
  if (st.with_text) snprintf(text, sizeof text, ", %s with text", cli_group(g7, st.with_text));
  printf("%s: %s document%s upserted (%s replaced, %s added%s); %s live documents (%s before); "
         "%s on disk\n",
         a.index, cli_group(g1, st.upserted), st.upserted == 1 ? "" : "s", cli_group(g2, st.replaced),
         cli_group(g3, st.upserted - st.replaced), text, cli_group(g4, pv_count(idx)),
         cli_group(g5, before), cli_bytes(g6, (double)bytes));
  cli_docsrc_report_superseded(&s, a.input);
  rc = CLI_OK;
done:
  cli_output_abort(&out);
  cli_docsrc_close(&s);
  pv_free(idx);
  return rc;
}
