/*
 * pocketvec verify: check index files without using them.
 *
 * Each file is read and given to pv_verify, which runs every check pv_load
 * runs (magic, version, checksums, counts, links). One line per file on
 * stdout, "PATH: ok" or "PATH: FAILED: reason", so the output can be
 * grepped; the exit status says whether all passed.
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

  int failed = 0;
  for (int i = 1; i < argc; i++) {
    unsigned char *buf;
    size_t len;
    if (cli_read_file(argv[i], &buf, &len) != CLI_OK) {
      printf("%s: FAILED: cannot read it (see above)\n", argv[i]);
      failed++;
      continue;
    }
    int rc = pv_verify(buf, len);
    free(buf);
    if (rc == PV_OK) {
      printf("%s: ok\n", argv[i]);
    } else {
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
