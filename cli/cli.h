/*
 * The pocketvec command-line tool: what the subcommands share.
 *
 * The tool is host glue over include/pocketvec.h. It parses flags, prints,
 * times and (later) reads and writes files; every decision about vectors is
 * the library's. Each subcommand is one function in its own file, listed in
 * the command table in main.c. Adding one (build, query, info, verify) means
 * writing cli/cmd_NAME.c, declaring its entry point below and adding a row to
 * that table: dispatch, `pocketvec help` and `pocketvec help NAME` follow.
 */
#ifndef PV_CLI_H
#define PV_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pocketvec.h"

/* Exit codes, the same for every subcommand: scripts can tell "it ran and
 * found a problem" (1) from "you called it wrong" (2). */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

/* One row of the command table. */
typedef struct cli_command {
  const char *name;
  const char *synopsis;  /* flags after the name, for usage lines */
  const char *summary;   /* one line for the command list */
  const char *help;      /* paragraph(s) for `pocketvec help NAME` */
  /* argv[0] is the command name; the flags follow. Returns a CLI_ code. */
  int (*run)(int argc, char **argv);
} cli_command;

/* ------------------------------------------------------------------------ */
/* Subcommands (one file each)                                              */
/* ------------------------------------------------------------------------ */

int cmd_demo(int argc, char **argv);     /* cmd_demo.c */

/* The table lives in main.c; subcommands use it to print their own usage. */
const cli_command *cli_find_command(const char *name);
/* Print "usage: pocketvec NAME SYNOPSIS" and the help text of cmd to f. */
void cli_print_command_help(const cli_command *cmd, FILE *f);

/* ------------------------------------------------------------------------ */
/* Messages (util.c)                                                        */
/* ------------------------------------------------------------------------ */

/* "pocketvec: <message>" on stderr, with a newline. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Report a failed pv_ call: its name, the status in words and the index's
 * own sentence, e.g. "pocketvec: pv_add_batch: invalid argument: vector 3:
 * element 17 is NaN". idx may be NULL (then the message of the last failed
 * pv_new). Returns CLI_FAILED so callers can `return cli_pv_error(...)`. */
int cli_pv_error(const char *call, const pv_index *idx, int rc);

/* A usage error in command cmd: prints the message and a pointer to
 * `pocketvec help cmd`, returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ------------------------------------------------------------------------ */
/* Flags (util.c)                                                           */
/* ------------------------------------------------------------------------ */

/* Match argv[*i] against the flag `name` ("--n"), in either form "--n 5" or
 * "--n=5". Returns 1 with *value set (and *i moved past a separate value) if
 * it is that flag, 0 if it is not, and -1 after printing a usage error if the
 * value is missing. */
int cli_flag_value(const char *cmd, int argc, char **argv, int *i,
                   const char *name, const char **value);

/* Parse a whole decimal number in [min, max]. On a bad value prints a usage
 * error naming the flag and the range, and returns CLI_USAGE; else CLI_OK. */
int cli_parse_u64(const char *cmd, const char *flag, const char *text,
                  uint64_t min, uint64_t max, uint64_t *out);

/* ------------------------------------------------------------------------ */
/* Formatting and timing (util.c)                                           */
/* ------------------------------------------------------------------------ */

/* Seconds on a monotonic clock, for differences only. */
double cli_now(void);

/* v with thousands separators ("10,000") into buf (room for 32); returns buf. */
char *cli_group(char *buf, uint64_t v);

/* A byte count as "1.5 MB" (powers of 1024, one decimal) into buf (room for
 * 32); returns buf. */
char *cli_bytes(char *buf, double bytes);

/* A duration as "0.2 ms", "85 ms" or "3.65 s" into buf (room for 32);
 * returns buf. */
char *cli_duration(char *buf, double seconds);

/* Nearest-rank percentile p (0 < p <= 1) of n sorted samples (n >= 1). */
double cli_percentile(const double *sorted, size_t n, double p);

/* Sort n doubles ascending in place. */
void cli_sort_doubles(double *v, size_t n);

/* A progress line "label done/total" on stderr, redrawn in place; only when
 * stderr is a terminal, so logs and pipes stay clean. cli_progress_done
 * erases it. */
void cli_progress(const char *label, size_t done, size_t total);
void cli_progress_done(void);

#endif /* PV_CLI_H */
