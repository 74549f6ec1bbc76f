/* SPDX-License-Identifier: MIT */
/*
 * pocketvec get: documents by key or id, one line of JSON each (key, id,
 * attributes, and with --vector the vector): the same shape 'build' and
 * 'upsert' read, so a document can be taken out, edited and put back.
 *
 * Every key and id given is looked up and printed in order; one that no
 * document has is reported on stderr and makes the exit status 1, the
 * others still printed (as verify goes on past a bad file).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_get(int argc, char **argv) {
  const char *index = NULL;
  int with_vector = 0, flags_done = 0, rc = CLI_USAGE;
  /* What to get, in the order given: a key (argv entry) or an id. */
  typedef struct {
    const char *key;
    uint32_t id;
  } want;
  want *w = calloc((size_t)argc, sizeof *w);
  size_t nw = 0;
  pv_index *idx = NULL;
  cli_docbuf b;
  memset(&b, 0, sizeof b);
  if (!w) {
    cli_error("out of memory");
    return CLI_FAILED;
  }
  for (int i = 1; i < argc; i++) {
    const char *v;
    int m = 0;
    if (!flags_done && strcmp(argv[i], "--") == 0) {
      flags_done = 1;
    } else if (!flags_done && (m = cli_flag_value("get", argc, argv, &i, "--id", &v)) != 0) {
      uint64_t x;
      if (m < 0 || cli_parse_u64("get", "--id", v, 0, UINT32_MAX - 1, &x)) goto done;
      w[nw++] = (want){NULL, (uint32_t)x};
    } else if (!flags_done && strcmp(argv[i], "--vector") == 0) {
      with_vector = 1;
    } else if (!flags_done && argv[i][0] == '-' && argv[i][1] != '\0') {
      rc = cli_usage_error("get", "unknown flag '%s' (a key that starts with '-' goes after --)",
                           argv[i]);
      goto done;
    } else if (!index) {
      index = argv[i];
    } else {
      w[nw++] = (want){argv[i], 0};
    }
  }
  if (!index) {
    rc = cli_usage_error("get", "give the index file, then the keys to get");
    goto done;
  }
  if (!*index) {
    rc = cli_usage_error("get", "the index file name is empty");
    goto done;
  }
  if (nw == 0) {
    rc = cli_usage_error("get", "give the keys to get, or --id N");
    goto done;
  }
  rc = CLI_FAILED;
  if (cli_load_index(index, &idx, NULL) != CLI_OK) goto done;
  size_t failed = 0;
  char q[128];
  for (size_t k = 0; k < nw; k++) {
    uint32_t id = w[k].id;
    if (w[k].key) {
      size_t n = strlen(w[k].key);
      int prc = pv_lookup(idx, w[k].key, n, &id);
      if (prc != PV_OK) {
        failed++;
        if (prc == PV_NOTFOUND)
          cli_error("%s: no document has the key %s", index, cli_quote(q, sizeof q, w[k].key, n));
        else
          cli_error("%s: the key %s: %s", index, cli_quote(q, sizeof q, w[k].key, n),
                    pv_errmsg(idx));
        continue;
      }
    } else if (!pv_contains(idx, id)) {
      failed++;
      cli_error("%s: no live document has the id %u", index, id);
      continue;
    }
    if (cli_print_doc(idx, id, with_vector, &b) != CLI_OK) goto done;
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    cli_error("cannot write to standard output");
    goto done;
  }
  rc = failed ? CLI_FAILED : CLI_OK;
done:
  cli_docbuf_free(&b);
  pv_free(idx);
  free(w);
  return rc;
}
