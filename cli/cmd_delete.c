/* SPDX-License-Identifier: MIT */
/*
 * pocketvec delete: remove documents from an index file by key or id, in
 * place.
 *
 * Every key and id is resolved before anything is deleted, so a typo in
 * the fifth key fails the whole command with the file untouched (and, with
 * --ignore-missing, is only reported). When nothing is left to delete the
 * file is not rewritten at all. Otherwise the file is replaced atomically,
 * as upsert does.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* qsort's order of ids. */
static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

int cmd_delete(int argc, char **argv) {
  const char *index = NULL;
  int ignore_missing = 0, flags_done = 0;
  /* Keys and ids in the order given: argv entries, ids parsed. At most
   * argc of either. */
  const char **keys = calloc((size_t)argc, sizeof *keys);
  uint32_t *given_ids = calloc((size_t)argc, sizeof *given_ids);
  uint32_t *ids = calloc((size_t)argc, sizeof *ids);
  size_t nkeys = 0, ngiven = 0, nids = 0;
  int rc = CLI_USAGE;
  pv_index *idx = NULL;
  cli_output out = {NULL, NULL, NULL, -1, 0, 0, 0};
  int save = CLI_SAVE_AUTO;
  if (!keys || !given_ids || !ids) {
    cli_error("out of memory");
    rc = CLI_FAILED;
    goto done;
  }
  for (int i = 1; i < argc; i++) {
    const char *v;
    int m = 0;
    if (!flags_done && strcmp(argv[i], "--") == 0) {
      flags_done = 1;
    } else if (!flags_done &&
               (m = cli_flag_value("delete", argc, argv, &i, "--id", &v)) != 0) {
      uint64_t x;
      if (m < 0 || cli_parse_u64("delete", "--id", v, 0, UINT32_MAX - 1, &x)) goto done;
      given_ids[ngiven++] = (uint32_t)x;
    } else if (!flags_done && strcmp(argv[i], "--ignore-missing") == 0) {
      ignore_missing = 1;
    } else if (!flags_done && (strcmp(argv[i], "--whole") == 0 || strcmp(argv[i], "--append") == 0)) {
      save = argv[i][2] == 'w' ? CLI_SAVE_WHOLE : CLI_SAVE_APPEND;
    } else if (!flags_done && argv[i][0] == '-' && argv[i][1] != '\0') {
      rc = cli_usage_error("delete", "unknown flag '%s' (a key that starts with '-' goes "
                                     "after --)",
                           argv[i]);
      goto done;
    } else if (!index) {
      index = argv[i];
    } else {
      keys[nkeys++] = argv[i];
    }
  }
  if (!index) {
    rc = cli_usage_error("delete", "give the index file, then the keys to delete");
    goto done;
  }
  if (!*index) {
    rc = cli_usage_error("delete", "the index file name is empty");
    goto done;
  }
  if (nkeys == 0 && ngiven == 0) {
    rc = cli_usage_error("delete", "give the keys to delete, or --id N");
    goto done;
  }

  rc = CLI_FAILED;
  if (cli_rewrite_begin(index, &idx, &out) != CLI_OK) goto done;
  out.save = save;
  size_t missing = 0, bad = 0;
  char q[128];
  for (size_t k = 0; k < nkeys; k++) {
    uint32_t id;
    int prc = pv_lookup(idx, keys[k], strlen(keys[k]), &id);
    if (prc == PV_OK) {
      ids[nids++] = id;
    } else if (prc == PV_NOTFOUND) {
      missing++;
      cli_error("%s: no document has the key %s%s", index,
                cli_quote(q, sizeof q, keys[k], strlen(keys[k])),
                ignore_missing ? " (ignored: --ignore-missing)" : "");
    } else {
      bad++; /* a key no document can have (empty, too long, not UTF-8) */
      cli_error("%s: the key %s: %s", index, cli_quote(q, sizeof q, keys[k], strlen(keys[k])),
                pv_errmsg(idx));
    }
  }
  for (size_t k = 0; k < ngiven; k++) {
    if (pv_contains(idx, given_ids[k])) {
      ids[nids++] = given_ids[k];
    } else {
      missing++;
      cli_error("%s: no live document has the id %u%s", index, given_ids[k],
                ignore_missing ? " (ignored: --ignore-missing)" : "");
    }
  }
  if (bad || (missing && !ignore_missing)) {
    fprintf(stderr, "Nothing was deleted; the file is unchanged%s.\n",
            bad ? "" : " (--ignore-missing deletes the others)");
    goto done;
  }
  /* A key and its id, or one key twice, name one document: delete it once. */
  qsort(ids, nids, sizeof *ids, cmp_u32);
  size_t u = 0;
  for (size_t k = 0; k < nids; k++)
    if (u == 0 || ids[u - 1] != ids[k]) ids[u++] = ids[k];
  nids = u;
  if (nids == 0) {
    printf("%s: nothing to delete; the file is unchanged\n", index);
    rc = CLI_OK;
    goto done;
  }
  for (size_t k = 0; k < nids; k++) {
    int prc = pv_delete(idx, ids[k]);
    if (prc != PV_OK) {
      cli_pv_error("pv_delete", idx, prc);
      fprintf(stderr, "Nothing was deleted; the file is unchanged.\n");
      goto done;
    }
  }
  uint64_t bytes = 0;
  if (cli_output_commit(&out, idx, &bytes) != CLI_OK) goto done;
  char g1[32], g2[32], g3[32];
  printf("%s: %s document%s deleted; %s live documents; %s on disk\n", index,
         cli_group(g1, nids), nids == 1 ? "" : "s", cli_group(g2, pv_count(idx)),
         cli_bytes(g3, (double)bytes));
  rc = CLI_OK;
done:
  cli_output_abort(&out);
  pv_free(idx);
  free(keys);
  free(given_ids);
  free(ids);
  return rc;
}
