/* SPDX-License-Identifier: MIT */
/*
 * pocketvec find and count: the documents that match a filter.
 *
 * find prints them as 'get' does, one line of JSON each, in id order, and
 * how many matched on stderr (so stdout stays a clean JSON Lines file: a
 * filtered export with --vector). count prints only the number. Both use
 * pv_find, which walks every document: a scan, not a search, and what a
 * tool wants here.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_find(int argc, char **argv) {
  const char *cmd = argv[0];
  int counting = strcmp(cmd, "count") == 0;
  const char *index = NULL, *filter = NULL;
  uint64_t limit = UINT64_MAX;
  int with_vector = 0, flags_done = 0;
  for (int i = 1; i < argc; i++) {
    const char *v;
    int m = 0;
    if (!flags_done && strcmp(argv[i], "--") == 0) {
      flags_done = 1;
    } else if (!flags_done && !counting &&
               (m = cli_flag_value(cmd, argc, argv, &i, "--limit", &v)) != 0) {
      if (m < 0 || cli_parse_u64(cmd, "--limit", v, 0, UINT32_MAX, &limit)) return CLI_USAGE;
    } else if (!flags_done && !counting && strcmp(argv[i], "--count") == 0) {
      counting = 1;
    } else if (!flags_done && strcmp(argv[i], "--vector") == 0 && strcmp(cmd, "find") == 0) {
      with_vector = 1;
    } else if (!flags_done && argv[i][0] == '-' && argv[i][1] != '\0') {
      return cli_usage_error(cmd, "unknown flag '%s' (a filter that starts with '-' goes after "
                                  "--)",
                             argv[i]);
    } else if (!index) {
      index = argv[i];
    } else if (!filter) {
      filter = argv[i];
    } else {
      return cli_usage_error(cmd, "unexpected argument '%s'; quote the filter as one argument: "
                                  "'%s %s ...'",
                             argv[i], filter, argv[i]);
    }
  }
  if (!index) return cli_usage_error(cmd, "give the index file, then the filter");
  if (!*index) return cli_usage_error(cmd, "the index file name is empty");
  if (counting && with_vector)
    return cli_usage_error(cmd, "--count prints only the number; --vector has no meaning with it");

  pv_index *idx;
  if (cli_load_index(index, &idx, NULL) != CLI_OK) return CLI_FAILED;
  pv_filter *f = NULL;
  uint32_t *ids = NULL;
  cli_docbuf b;
  memset(&b, 0, sizeof b);
  int rc = CLI_FAILED;
  if (cli_filter_compile(idx, "the filter", filter, &f) != CLI_OK) goto done;
  size_t count;
  int prc = pv_find(idx, f, NULL, 0, &count);
  if (prc != PV_OK) {
    cli_pv_error("pv_find", idx, prc);
    goto done;
  }
  if (counting) {
    printf("%zu\n", count);
  } else {
    size_t cap = count < limit ? count : (size_t)limit;
    if (cap && !(ids = malloc(cap * sizeof *ids))) {
      cli_error("out of memory for the ids of %zu documents; use --limit", cap);
      goto done;
    }
    if (cap && (prc = pv_find(idx, f, ids, cap, &count)) != PV_OK) {
      cli_pv_error("pv_find", idx, prc);
      goto done;
    }
    for (size_t i = 0; i < cap; i++)
      if (cli_print_doc(idx, ids[i], with_vector, &b) != CLI_OK) goto done;
    char g1[32], g2[32], g3[32];
    fflush(stdout); /* the documents before the summary on a shared terminal */
    if (cap < count)
      fprintf(stderr, "%s of %s matching documents shown (--limit); %s live\n",
              cli_group(g1, cap), cli_group(g2, count), cli_group(g3, pv_count(idx)));
    else
      fprintf(stderr, "%s matching document%s of %s live\n", cli_group(g1, count),
              count == 1 ? "" : "s", cli_group(g2, pv_count(idx)));
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    cli_error("cannot write to standard output");
    goto done;
  }
  rc = CLI_OK;
done:
  cli_docbuf_free(&b);
  pv_filter_free(f);
  free(ids);
  pv_free(idx);
  return rc;
}
