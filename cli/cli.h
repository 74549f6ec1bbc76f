/* SPDX-License-Identifier: MIT */
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
int cmd_upsert(int argc, char **argv);   /* cmd_upsert.c */
int cmd_delete(int argc, char **argv);   /* cmd_delete.c */
int cmd_get(int argc, char **argv);      /* cmd_get.c */
int cmd_find(int argc, char **argv);     /* cmd_find.c: find and count */

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

/* Parse a whole decimal number ("0.75", "-2", "1e-3": no spaces, hex, inf
 * or nan) into *out. 0, or -1 with *out untouched when text is not one or
 * it is beyond a double; nothing is printed, since the caller knows the
 * flag and its range. */
int cli_parse_real(const char *text, double *out);

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
  CLI_FORMAT_RAW,      /* float32 back to back, no header; the dim comes from --dim */
  CLI_FORMAT_JSONL     /* JSON Lines, a "vector" member per line (.jsonl, .ndjson);
                          as queries, a "text" member too or instead */
} cli_format;

/* Parse a --format value (fvecs, npy, raw, jsonl). On a bad value prints a
 * usage error of cmd and returns CLI_USAGE; else CLI_OK. */
int cli_parse_format(const char *cmd, const char *text, cli_format *out);

/* The format of path: fmt itself unless it is CLI_FORMAT_AUTO, else from the
 * extension (.fvecs; .npy; .f32, .bin, .raw; .jsonl, .ndjson). CLI_USAGE
 * (reported as a usage error of cmd) when the extension says nothing. */
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
  /* JSON Lines queries may carry "text" and may lack "vector" (every query
   * of the other formats is a vector without text): */
  uint64_t with_vector;  /* queries with a vector (count, for the others) */
  uint64_t with_text;    /* queries with "text" */
  uint64_t hybrid;       /* queries with both */
  uint64_t first_text_line; /* the line of the first query with "text", or 0 */
  /* ---- */
  FILE *f;
  uint64_t size;         /* bytes in the file */
  unsigned char *rec;    /* fvecs: raw records of one batch */
  size_t rec_cap;
  struct cli_jsonl *jl;  /* jsonl: the lines */
  struct cli_jdoc *jd;   /* jsonl: the line being read */
  unsigned char *q_vec;  /* jsonl: per query of the last read, 1 if it has a vector */
  size_t *q_off, *q_len; /* ... its text in q_text (q_off SIZE_MAX: none) */
  char *q_text;
  size_t q_cap, q_text_len, q_text_cap;
} cli_vecfile;

/* Open path as a vector file of format fmt (CLI_FORMAT_AUTO: from the
 * extension) and check its header and size before a single vector is read:
 * a truncated or inconsistent file fails here, not after an hour of work.
 * A JSON Lines file is read once whole for that (every line parsed, every
 * "vector" of the first one's dimension), then again by the reads. Its
 * lines are queries (CLI_LINE_QUERY): some may have "text", some no
 * "vector" (with_vector, with_text and hybrid count them; dim is 0 when no
 * line has a vector and no dim was given).
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

/* Query i (from 0) of the last read: 1 if it has a vector (else its dim
 * floats in the read's output are zeros), and its text into *text and *len
 * (valid until the next read; *text NULL when it has none). */
int cli_vecfile_query(const cli_vecfile *vf, size_t i, const char **text, size_t *len);

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

/* cli_load_index, and *has_text (may be NULL) set to 1 when the file has a
 * text index (its section table lists a "text" section: some document was
 * given text, or the index has text options), else 0. The library answers
 * a text query on an index without one with no hits and no error; query
 * uses this to say why instead. */
int cli_load_index_text(const char *path, pv_index **out, size_t *file_size, int *has_text);

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
  char *lock;   /* the lock file (PATH.lock) while it is held, else NULL */
  int fd;       /* open on tmp, or -1 */
  double t0;    /* when a rewrite's index was loaded (seconds): what its changes cost */
  double load_us; /* how long that load took */
  int save;     /* a rewrite's save: CLI_SAVE_AUTO, _WHOLE (always the whole
                   file) or _APPEND (a record whenever the file allows) */
} cli_output;

/* Check the target, take its writers' lock (PATH.lock, the JS package's
 * too: waits for another writer) and create the temporary file now, before
 * any input is read, so that a bad output is found in the first second,
 * not after the build: path must not be a directory or any file but a
 * regular one, its directory must exist and be writable. Each failure is reported saying
 * which of these it is. path must not be empty (a usage error for the
 * caller to report). CLI_OK or CLI_FAILED (reported; o is then finished,
 * and cli_output_abort on it does nothing). */
int cli_output_begin(cli_output *o, const char *path);

/* Stream idx into the temporary file with pv_serialize, fsync, rename over
 * the target, fsync the directory. *bytes gets the file's size (may be
 * NULL). On failure the temporary file is removed and the target left as it
 * was; CLI_FAILED, reported. Either way o is finished.
 * For a rewrite (cli_rewrite_begin), when the changes can be saved as one
 * change log record (docs/FORMAT.md) whose replay costs a load at most
 * 0.1 of the index's own, the record is appended to the file instead
 * (synced; a failure cuts it off again), as the JS package's saves do. */
int cli_output_commit(cli_output *o, pv_index *idx, uint64_t *bytes);
/* CLI_OK with the record appended, CLI_DECLINED when the save must be
 * whole, CLI_FAILED reported (the file as it was). */
#define CLI_DECLINED 3
enum { CLI_SAVE_AUTO = 0, CLI_SAVE_WHOLE = 1, CLI_SAVE_APPEND = 2 };

/* Remove the temporary file, release the lock and o. Safe after commit. */
void cli_output_abort(cli_output *o);

/* Open path, an index file to change in place (upsert, delete): the output
 * is begun over it first (cli_output_begin: so an unwritable directory
 * fails before the work), then the index loaded. A symbolic link is
 * followed: the file it names is replaced, the link kept. The new file
 * keeps the old one's permission bits (and owner, where allowed). CLI_OK
 * with *idx loaded and *out begun, or CLI_FAILED reported (nothing open). */
int cli_rewrite_begin(const char *path, pv_index **idx, cli_output *out);

/* ------------------------------------------------------------------------ */
/* JSON (json.c)                                                            */
/* ------------------------------------------------------------------------ */

/* A strict JSON scanner over len bytes of text, in place. Functions return
 * 0, or -1 after recording the first error: its message in err and the
 * byte offset at fault in err_at. */
typedef struct cli_json {
  const char *s;
  size_t len, pos;  /* pos: the next byte to read */
  int failed;
  int range;        /* the error is a number beyond the range of a double */
  size_t err_at;
  char err[240];
} cli_json;

void cli_json_init(cli_json *j, const char *text, size_t len);
/* Record an error at byte `at` (only the first one is kept). Returns -1. */
int cli_json_fail(cli_json *j, size_t at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Skip whitespace. */
void cli_json_ws(cli_json *j);
/* The next byte after whitespace, not consumed; -1 at the end. */
int cli_json_peek(cli_json *j);
/* Consume the byte c after whitespace; context is said in the error
 * ("after a member name"; may be NULL). */
int cli_json_expect(cli_json *j, char c, const char *context);
/* A string, decoded to UTF-8 into *buf (malloc'd, grown as needed, *cap
 * bytes, NUL-terminated; *len without the NUL). buf NULL: only checked.
 * Raw bytes must be valid UTF-8, escapes complete, surrogates paired. */
int cli_json_string(cli_json *j, char **buf, size_t *cap, size_t *len);
/* A number (JSON's grammar exactly: no NaN, Infinity, hex or leading +)
 * into *out (may be NULL), as the nearest double; one beyond the range of a
 * double is an error. */
int cli_json_number(cli_json *j, double *out);
/* Check and skip any value (nesting at most 512 deep). */
int cli_json_skip(cli_json *j);
/* Only whitespace remains. */
int cli_json_end(cli_json *j);

/* The length of the valid UTF-8 sequence at p (n bytes), or 0 when the
 * bytes there are not one (overlong, surrogate, past U+10FFFF, cut short). */
size_t cli_utf8_seq(const unsigned char *p, size_t n);

/* Write s (n bytes) to f as a JSON string. Besides what JSON requires, DEL
 * and the C1 controls are escaped (so that text from a file cannot drive a
 * terminal), bytes that are not UTF-8 become \ufffd, and with space_free
 * spaces become \u0020 (a value that never splits a space-separated list). */
void cli_json_put_string(FILE *f, const char *s, size_t n, int space_free);
/* Copy compact JSON text (the library's) to f, escaping inside its strings
 * as cli_json_put_string does. */
void cli_json_put_text(FILE *f, const char *json, size_t n, int space_free);

/* ------------------------------------------------------------------------ */
/* JSON Lines (jsonl.c)                                                     */
/* ------------------------------------------------------------------------ */

/* The longest line read: a longer one is an error, not an allocation. */
#define CLI_JSONL_MAX_LINE ((size_t)16 << 20)

/* A JSON Lines file open for reading, front to back. Blank lines are
 * skipped, a CR before the newline dropped, a BOM at the start ignored. */
typedef struct cli_jsonl {
  const char *path;  /* as given; the caller owns it */
  uint64_t size;     /* bytes in the file when opened */
  uint64_t pos;      /* bytes consumed so far */
  uint64_t line;     /* the number of the last line read, from 1 */
  uint64_t docs;     /* non-blank lines returned so far */
  /* ---- */
  FILE *f;
  size_t col0;       /* bytes of the line before the text returned (a BOM) */
  char *buf;         /* the line */
  size_t cap, len;
  char *chunk;       /* bytes read from the file, not yet split into lines */
  size_t chunk_len, chunk_pos;
  int eof;
} cli_jsonl;

/* Open path (a regular file: cli_open_regular). CLI_OK or CLI_FAILED
 * reported. */
int cli_jsonl_open(cli_jsonl *r, const char *path);
/* The next non-blank line: 1 with *line (NUL-terminated, writable, valid
 * until the next call) and *len; 0 at the end; -1 after reporting a read
 * error or a line longer than CLI_JSONL_MAX_LINE. */
int cli_jsonl_next(cli_jsonl *r, char **line, size_t *len);
/* Back to the first line. CLI_OK or CLI_FAILED reported. */
int cli_jsonl_rewind(cli_jsonl *r);
void cli_jsonl_close(cli_jsonl *r);
/* "pocketvec: PATH:LINE:COL: message" for byte `at` of the current line. */
void cli_jsonl_error(const cli_jsonl *r, size_t at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* How a line is read. */
enum {
  CLI_LINE_DOC,   /* a document: "key" (string or null), "vector" (required),
                     "attributes" (object or null), "text" (string or null);
                     other members ignored */
  CLI_LINE_ATTRS, /* the attributes of a vector (an object, or null); a "key"
                     member is the document's key, not an attribute ("text"
                     is an attribute like any other here) */
  CLI_LINE_QUERY  /* a query: "vector", "text" or both (at least one); the
                     rest ignored */
};

/* One line read as a document. Offsets (the *_at) are in the line, for
 * messages; the pointers are valid until the next parse or free. */
typedef struct cli_jdoc {
  int has_key;
  char *key;               /* decoded, key_len bytes (NUL-terminated) */
  size_t key_len, key_at;
  int has_vector;
  float *vec;              /* dim values */
  size_t dim, vec_at;
  const char *attr;        /* the attributes' JSON text in the line, or NULL */
  size_t attr_len, attr_at;
  int has_text;
  char *text;              /* decoded (valid UTF-8), text_len bytes (NUL-terminated) */
  size_t text_len, text_at;
  /* ---- */
  size_t key_cap, vec_cap, text_cap;
  char *name;              /* the member name being read */
  size_t name_cap, name_len;
} cli_jdoc;

/* Parse a line of r (as cli_jsonl_next returned it) in a mode above into d
 * (zeroed before first use; reused line after line). The attributes are
 * only checked to be JSON here; the library judges them. CLI_OK, or
 * CLI_FAILED after reporting "PATH:LINE:COL: what is wrong". In
 * CLI_LINE_ATTRS mode the "key" member is blanked out of the line. */
int cli_jdoc_parse(cli_jdoc *d, cli_jsonl *r, char *line, size_t len, int mode);
void cli_jdoc_free(cli_jdoc *d);

/* ------------------------------------------------------------------------ */
/* Documents from files (docs.c)                                            */
/* ------------------------------------------------------------------------ */

/* The documents of a JSON Lines file, or of a vector file with, optionally,
 * a JSON Lines file of their attributes (--attributes). Opening reads the
 * whole input once to check it (every line, key and attributes value, the
 * dimension, and which documents a later one with the same key replaces),
 * so that a bad line fails in seconds, before any index is built. The
 * fields above the line are for reading. */
typedef struct cli_docsrc {
  const char *path;        /* documents or vectors */
  const char *attrs_path;  /* or NULL */
  uint32_t dim;
  uint64_t count;          /* documents in the input */
  uint64_t superseded;     /* ... replaced by a later one of the input with its key */
  uint64_t next;           /* the number (from 0) of the next document read */
  /* ---- */
  int jsonl;               /* documents are the lines of path */
  cli_jsonl jl;            /* the documents, or the attributes */
  cli_vecfile vf;          /* the vectors, unless jsonl */
  cli_jdoc jd;
  struct cli_keyset *keys; /* key -> the number of its last document */
} cli_docsrc;

/* Open the documents at path (format fmt: jsonl for documents, any other
 * for vectors, then attrs may name their attributes). dim: the dimension
 * the vectors must have, 0 to take the first one's; dim_from says where
 * it comes from for messages ("--dim says", "the index has"). CLI_OK, CLI_USAGE or
 * CLI_FAILED, reported; on failure nothing stays open. */
int cli_docsrc_open(cli_docsrc *s, const char *cmd, const char *path, cli_format fmt,
                    const char *attrs, uint32_t dim, const char *dim_from);
void cli_docsrc_close(cli_docsrc *s);
/* Say on stdout how many documents of the input a later one with the
 * same key replaced (nothing when none did). */
void cli_docsrc_report_superseded(const cli_docsrc *s, const char *input);

/* What an upsert of a source did. */
typedef struct cli_upsert_stats {
  uint64_t upserted;   /* documents given to the index */
  uint64_t replaced;   /* ... of which replaced a live one with the same key */
  uint64_t keyed;      /* ... with a key */
  uint64_t with_attrs; /* ... with attributes other than {} or null */
  uint64_t with_text;  /* ... with a "text" other than "" or null */
} cli_upsert_stats;

/* Upsert every document of s into idx, batch documents at a time
 * (pv_upsert_batch), skipping those a later one replaces, with a progress
 * line labelled label. CLI_OK, or CLI_FAILED with the document at fault
 * reported by its place in the input (line and column, or vector number);
 * then idx holds some of the documents and must not be saved. */
int cli_docs_upsert(cli_docsrc *s, pv_index *idx, size_t batch, const char *label,
                    cli_upsert_stats *st);

/* ------------------------------------------------------------------------ */
/* Documents out (docout.c)                                                 */
/* ------------------------------------------------------------------------ */

/* Compile text (NUL-terminated; NULL: no filter, *out NULL) as a filter
 * for idx. On a syntax error prints the library's message, then the text
 * with a caret under the byte pv_errinfo's offset names, and returns
 * CLI_FAILED. */
int cli_filter_compile(pv_index *idx, const char *flag, const char *text, pv_filter **out);

/* The attributes of id as JSON into *buf (grown as needed; *cap bytes) and
 * *len. CLI_OK, or CLI_FAILED reported. */
int cli_attributes(pv_index *idx, uint32_t id, char **buf, size_t *cap, size_t *len);

/* Reusable buffers for cli_print_doc. Zero it before use; free with
 * cli_docbuf_free. */
typedef struct cli_docbuf {
  char *attr;
  size_t attr_cap;
  float *vec;
} cli_docbuf;
void cli_docbuf_free(cli_docbuf *b);

/* Print live document id as one line of JSON on stdout:
 *   {"key":"doc-1","id":3,"attributes":{...}}           ("key":null if none)
 * and with_vector, "vector":[...] at the end: the line is a document
 * 'build' and 'upsert' read back. CLI_OK or CLI_FAILED reported. */
int cli_print_doc(pv_index *idx, uint32_t id, int with_vector, cli_docbuf *b);

/* s (n bytes: a key) quoted for a message into buf (cap bytes, at least
 * 32): "like this", controls and bytes that are not UTF-8 escaped, cut
 * short with ... past what fits. Returns buf. */
char *cli_quote(char *buf, size_t cap, const char *s, size_t n);

#endif /* PV_CLI_H */
