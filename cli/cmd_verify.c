/* SPDX-License-Identifier: MIT */
/*
 * pocketvec verify: check index files without using them.
 *
 * Each file is read and loaded in place (PV_LOAD_BORROW: what pv_verify
 * does, running every check of pv_load: magic, version, checksums, counts,
 * links, while allocating only the small per-vector arrays), then
 * pv_check_reachable walks the graph to count the live vectors no search
 * can reach. That count is information, not a failure: such a file is
 * intact and loads; its unreachable vectors are only missing from results.
 * One line per file on stdout, "PATH: ok ..." or "PATH: FAILED: reason",
 * so the output can be grepped; the exit status says whether all passed.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int cmd_verify(int argc, char **argv) {
  if (argc < 2) return cli_usage_error("verify", "give one or more index files");
  for (int i = 1; i < argc; i++)
    if (argv[i][0] == '-' && argv[i][1])
      return cli_usage_error("verify", "unknown flag '%s'", argv[i]);
    else if (!argv[i][0])
      return cli_usage_error("verify", "file %d of %d: the name is empty", i, argc - 1);

  int failed = 0;
  for (int i = 1; i < argc; i++) {
    unsigned char *buf;
    size_t len;
    if (cli_read_file(argv[i], &buf, &len) != CLI_OK) {
      printf("%s: FAILED: cannot read it (see above)\n", argv[i]);
      failed++;
      continue;
    }
    pv_index *idx;
    int rc = pv_load(buf, len, PV_LOAD_BORROW, &idx);
    if (rc == PV_OK) {
      char a[32], b[32];
      size_t live = pv_count(idx), unreachable = 0;
      int rrc = pv_check_reachable(idx, &unreachable);
      if (rrc == PV_OK && live == 0)
        printf("%s: ok (no live vectors)\n", argv[i]);
      else if (rrc == PV_OK && unreachable == 0)
        printf("%s: ok (all %s live vectors reachable)\n", argv[i], cli_group(a, live));
      else if (rrc == PV_OK)
        printf("%s: ok, but %s of %s live vectors are unreachable: no search can return "
               "them\n",
               argv[i], cli_group(a, unreachable), cli_group(b, live));
      else if (rrc == PV_NOMEM)
        printf("%s: ok (reachability not checked: %s)\n", argv[i], pv_errmsg(idx));
      else {
        /* The walk found a broken invariant that loading let through. */
        printf("%s: FAILED: %s: %s; %s\n", argv[i], pv_errstr(rrc), pv_errmsg(idx),
               cli_load_advice(rrc));
        failed++;
      }
      pv_free(idx);
      free(buf);
    } else {
      free(buf);
      printf("%s: FAILED: %s: %s; %s\n", argv[i], pv_errstr(rc), pv_errmsg(NULL),
             cli_load_advice(rc));
      failed++;
    }
  }
  fflush(stdout);
  if (failed && argc > 2) fprintf(stderr, "pocketvec: %d of %d files failed verification\n",
                                  failed, argc - 1);
  return failed ? CLI_FAILED : CLI_OK;
}
