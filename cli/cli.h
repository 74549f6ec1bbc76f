/*
 * The pocketvec command-line tool: what the subcommands share.
 *
 * The tool is host glue over include/pocketvec.h. It parses flags, prints,
 * times, and reads and writes files (vecfile.c: vector inputs; pvfile.c:
 * index files); every decision about vectors is the library's. Each subcommand is one function in its own file, listed in
 * the command table in main.c. Adding one (build, query, info, verify) means
 * writing cli/cmd_NAME.c, declaring its entry point below and adding a row to
 * that table: dispatch, `pocketvec help` and `pocketvec help NAME` follow.
 */
#ifndef PV_CLI_H
#define PV_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

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
int cmd_build(int argc, char **argv);    /* cmd_build.c */
int cmd_query(int argc, char **argv);    /* cmd_query.c */
int cmd_info(int argc, char **argv);     /* cmd_info.c */
int cmd_verify(int argc, char **argv);   /* cmd_verify.c */

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
/* Input files (util.c)                                                     */
/* ------------------------------------------------------------------------ */

/* Every file the tool reads must be a regular file: its size is checked
 * against its header before any work, and a FIFO would block the tool
 * forever in open() or read() waiting for a writer. */

/* Check, without opening it, that path is a regular file. CLI_OK, or
 * CLI_FAILED after reporting "PATH is a FIFO (named pipe), not a regular
 * file; ADVICE" (or a directory, a device, a socket), or "PATH: cannot
 * open: REASON" if it cannot be looked up. For a command to refuse a bad
 * second input before it spends time on the first. */
int cli_check_regular(const char *path, const char *advice);

/* Open path for reading, if it is a regular file. It is looked up first
 * (stat: a FIFO or a device is refused without being opened, since opening
 * one can block or act on the device), then opened with O_NONBLOCK and
 * checked again (fstat) on what was opened, so a file replaced by a FIFO in
 * between cannot make it block either. Returns the descriptor, in blocking
 * mode again, with the file's size in *size; or -1 after reporting as
 * cli_check_regular does. */
int cli_open_regular(const char *path, const char *advice, uint64_t *size);

/* What a file of this mode is, for messages: "a regular file", "a FIFO
 * (named pipe)", "a directory", "a character device"... Static string. */
const char *cli_file_kind(mode_t mode);

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


/* A progress line on stderr, redrawn in place: "label 45%  4,500 / 10,000
 * 1,234/s  ETA 0:05". Only when stderr is a terminal, so logs and pipes stay
 * clean. The rate and ETA count from the first call after the previous
 * cli_progress_done; redraws are limited to ten a second. cli_progress_done
 * erases the line. */
void cli_progress(const char *label, size_t done, size_t total);
void cli_progress_done(void);

/* ------------------------------------------------------------------------ */
/* Vector files: .fvecs, .npy, raw float32 (vecfile.c)                      */
/* ------------------------------------------------------------------------ */

typedef enum cli_format {
  CLI_FORMAT_AUTO = 0, /* from the file name's extension */
  CLI_FORMAT_FVECS,    /* per vector: int32 dim, then dim float32 (little-endian) */
  CLI_FORMAT_NPY,      /* NumPy .npy, float32 '<f4', C order, shape (n, d) */
  CLI_FORMAT_RAW       /* float32 back to back, no header; the dim comes from --dim */
} cli_format;

/* Parse a --format value (fvecs, npy, raw). On a bad value prints a usage
 * error of cmd and returns CLI_USAGE; else CLI_OK. */
int cli_parse_format(const char *cmd, const char *text, cli_format *out);

/* The format of path: fmt itself unless it is CLI_FORMAT_AUTO, else from the
 * extension (.fvecs; .npy; .f32, .bin, .raw). CLI_USAGE (reported as a usage
 * error of cmd) when the extension says nothing. */
int cli_resolve_format(const char *cmd, const char *path, cli_format fmt, cli_format *out);

const char *cli_format_name(cli_format fmt);

/* A vector file open for reading, front to back, in batches. The fields
 * above the line are for reading; the rest belong to vecfile.c. */
typedef struct cli_vecfile {
  const char *path;      /* as given to cli_vecfile_open; the caller owns it */
  cli_format format;     /* never CLI_FORMAT_AUTO once open */
  uint32_t dim;          /* values per vector, 1 .. PV_MAX_DIM */
  uint64_t count;        /* vectors in the file */
  uint64_t next;         /* number (from 0) of the next vector a read returns */
  /* ---- */
  FILE *f;
  uint64_t size;         /* bytes in the file */
  unsigned char *rec;    /* fvecs: raw records of one batch */
  size_t rec_cap;
} cli_vecfile;

/* Open path as a vector file of format fmt (CLI_FORMAT_AUTO: from the
 * extension) and check its header and size before a single vector is read:
 * a truncated or inconsistent file fails here, not after an hour of work.
 * dim: the --dim the user gave, 0 if none; required for raw files, and for
 * the others it must agree with the file. Returns CLI_OK, CLI_USAGE (format
 * unknown, raw without --dim) or CLI_FAILED (not a regular file, cannot
 * read, bad header, truncated, unsupported dtype), every failure already
 * reported naming the file. On failure nothing stays open. */
int cli_vecfile_open(cli_vecfile *vf, const char *cmd, const char *path, cli_format fmt,
                     uint32_t dim);

/* Read up to max vectors (max * dim floats) into out (caller owns) and their
 * number into *got: 0 only at the end of the file. Memory use is bounded by
 * the batch, whatever the file's size. CLI_OK, or CLI_FAILED reported with
 * the file and the record at fault. */
int cli_vecfile_read(cli_vecfile *vf, float *out, size_t max, size_t *got);

/* Close and release. Safe on a closed or zeroed cli_vecfile. */
void cli_vecfile_close(cli_vecfile *vf);

/* ------------------------------------------------------------------------ */
/* Index files (pvfile.c)                                                   */
/* ------------------------------------------------------------------------ */

/* Read the whole of path into *buf (malloc; the caller frees it, or hands it
 * to pv_load with PV_LOAD_TAKE) and its size into *len. CLI_OK, or
 * CLI_FAILED reported with the file and the system's reason (a FIFO or
 * other non-regular file is refused before it is opened: cli_open_regular). */
int cli_read_file(const char *path, unsigned char **buf, size_t *len);

/* Read path and load the index in it (PV_LOAD_TAKE: the vectors are used in
 * place in the buffer read, with no second copy). *out owns the index (free
 * it with pv_free); *file_size gets the file's size (may be NULL). CLI_OK, or
 * CLI_FAILED reported with the file, the library's reason and what to do. */
int cli_load_index(const char *path, pv_index **out, size_t *file_size);

/* What a user should do after pv_load or pv_verify failed with rc: a
 * sentence to append to the library's message. Static string. */
const char *cli_load_advice(int rc);

/* An index file written so that a crash never leaves a half-written one:
 * the bytes go to a temporary file next to the target (TARGET.tmp-XXXXXX,
 * TARGET's name cut short when the whole would exceed NAME_MAX),
 * which is flushed to disk and then renamed over the target, and the
 * directory is flushed too. Until the rename the old target, if any, is
 * untouched. SIGINT, SIGTERM, SIGHUP and SIGQUIT between begin and
 * commit/abort remove the temporary file before the process dies (those the
 * caller ignores stay ignored); SIGXFSZ is ignored meanwhile, so a file
 * past the size limit is a failed write (EFBIG), cleaned up like any other. */
typedef struct cli_output {
  char *path;   /* the target (owned copy) */
  char *tmp;    /* the temporary file while it exists, else NULL */
  int fd;       /* open on tmp, or -1 */
} cli_output;

/* Check the target and create the temporary file now, before any input is
 * read, so that a bad output is found in the first second, not after the
 * build: path must not be a directory or any file but a regular one, its
 * directory must exist and be writable. Each failure is reported saying
 * which of these it is. path must not be empty (a usage error for the
 * caller to report). CLI_OK or CLI_FAILED (reported; o is then finished,
 * and cli_output_abort on it does nothing). */
int cli_output_begin(cli_output *o, const char *path);

/* Stream idx into the temporary file with pv_serialize, fsync, rename over
 * the target, fsync the directory. *bytes gets the file's size (may be
 * NULL). On failure the temporary file is removed and the target left as it
 * was; CLI_FAILED, reported. Either way o is finished. */
int cli_output_commit(cli_output *o, pv_index *idx, uint64_t *bytes);

/* Remove the temporary file and release o. Safe after commit. */
void cli_output_abort(cli_output *o);

#endif /* PV_CLI_H */
