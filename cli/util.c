/* SPDX-License-Identifier: MIT */
/*
 * Helpers every subcommand uses: messages, opening input files, flag
 * parsing, number formatting, timing and a progress line. Nothing here knows
 * about a particular command.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */
/* ------------------------------------------------------------------------ */

void cli_error(const char *fmt, ...) {
  va_list ap;
  fflush(stdout); /* keep stdout and stderr in order on a shared terminal */
  fputs("pocketvec: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

int cli_pv_error(const char *call, const pv_index *idx, int rc) {
  cli_error("%s: %s: %s", call, pv_errstr(rc), pv_errmsg(idx));
  return CLI_FAILED;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fprintf(stderr, "pocketvec %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nRun 'pocketvec help %s' for usage.\n", cmd);
  return CLI_USAGE;
}

/* ------------------------------------------------------------------------ */
/* Input files                                                              */
/* ------------------------------------------------------------------------ */

const char *cli_file_kind(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "a file of an unknown kind";
}

static int report_kind(const char *path, const char *kind, const char *advice) {
  cli_error("%s is %s, not a regular file; %s", path, kind, advice);
  return CLI_FAILED;
}

int cli_check_regular(const char *path, const char *advice) {
  struct stat st;
  if (stat(path, &st) != 0) {
    cli_error("%s: cannot open: %s", path, strerror(errno));
    return CLI_FAILED;
  }
  return S_ISREG(st.st_mode) ? CLI_OK : report_kind(path, cli_file_kind(st.st_mode), advice);
}

int cli_open_regular(const char *path, const char *advice, uint64_t *size) {
  *size = 0;
  if (cli_check_regular(path, advice) != CLI_OK) return -1;
  /* Regular a moment ago; O_NONBLOCK in case it is a FIFO now (an open for
   * reading then returns at once), O_NOCTTY in case it is a terminal. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    cli_error("%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    cli_error("%s: cannot open: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  const char *kind = S_ISREG(st.st_mode) ? NULL : cli_file_kind(st.st_mode);
  int flags = kind ? 0 : fcntl(fd, F_GETFL);
  if (kind || flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    if (kind)
      report_kind(path, kind, advice);
    else
      cli_error("%s: cannot open: %s", path, strerror(errno));
    close(fd);
    return -1;
  }
  *size = (uint64_t)st.st_size;
  return fd;
}

/* ------------------------------------------------------------------------ */
/* Flags                                                                    */
/* ------------------------------------------------------------------------ */

int cli_flag_value(const char *cmd, int argc, char **argv, int *i,
                   const char *name, const char **value) {
  const char *arg = argv[*i];
  size_t len = strlen(name);
  if (strncmp(arg, name, len) != 0) return 0;
  if (arg[len] == '=') {
    *value = arg + len + 1;
    return 1;
  }
  if (arg[len] != '\0') return 0; /* "--nope" is not "--n" */
  if (*i + 1 >= argc) {
    cli_usage_error(cmd, "%s needs a value", name);
    return -1;
  }
  *i += 1;
  *value = argv[*i];
  return 1;
}

int cli_parse_u64(const char *cmd, const char *flag, const char *text,
                  uint64_t min, uint64_t max, uint64_t *out) {
  /* strtoull accepts leading spaces and a minus sign (wrapping around), so
   * insist on digits only before trusting it. */
  const char *p = text;
  if (*p == '\0') goto bad;
  for (; *p; p++)
    if (*p < '0' || *p > '9') goto bad;
  errno = 0;
  unsigned long long v = strtoull(text, NULL, 10);
  if (errno == ERANGE || v < min || v > max) goto bad;
  *out = (uint64_t)v;
  return CLI_OK;
bad:
  {
    char lo[32], hi[32];
    return cli_usage_error(cmd, "%s expects a whole number from %s to %s, got '%s'", flag,
                           cli_group(lo, min), cli_group(hi, max), text);
  }
}

int cli_parse_real(const char *text, double *out) {
  /* strtod also reads "inf", "nan", hex and leading spaces: a flag value
   * is plain decimal, so anything else is refused before it is asked. */
  const char *p = text;
  if (*p == '\0') return -1;
  for (; *p; p++)
    if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' ||
          *p == '-'))
      return -1;
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (*end != '\0' || end == text || errno == ERANGE || !(v - v == 0)) return -1;
  *out = v;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Formatting and timing                                                    */
/* ------------------------------------------------------------------------ */

double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

char *cli_group(char *buf, uint64_t v) {
  char digits[24];
  int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
  int o = 0;
  for (int i = 0; i < n; i++) {
    if (i > 0 && (n - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = digits[i];
  }
  buf[o] = '\0';
  return buf;
}

char *cli_bytes(char *buf, double bytes) {
  static const char *const unit[] = {"bytes", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    u++;
  }
  if (u == 0)
    snprintf(buf, 32, "%.0f bytes", bytes);
  else
    snprintf(buf, 32, "%.1f %s", bytes, unit[u]);
  return buf;
}

char *cli_duration(char *buf, double seconds) {
  if (seconds >= 1.0)
    snprintf(buf, 32, "%.2f s", seconds);
  else if (seconds >= 0.01)
    snprintf(buf, 32, "%.0f ms", seconds * 1e3);
  else
    snprintf(buf, 32, "%.1f ms", seconds * 1e3);
  return buf;
}



/* ------------------------------------------------------------------------ */
/* Progress                                                                 */
/* ------------------------------------------------------------------------ */

static struct {
  int shown;    /* a line is on screen */
  int width;    /* its length, to blank it */
  double t0;    /* time of the first call since the last cli_progress_done */
  size_t done0; /* and the count it reported */
  double drawn; /* time of the last redraw */
} progress;

/* "ETA 1:05" or "ETA 2:03:04" into buf (room for 32). */
static void progress_eta(char *buf, double seconds) {
  if (seconds < 0 || seconds > 99 * 3600.0) {
    snprintf(buf, 32, "ETA --:--");
    return;
  }
  unsigned long s = (unsigned long)(seconds + 0.5);
  if (s >= 3600)
    snprintf(buf, 32, "ETA %lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
  else
    snprintf(buf, 32, "ETA %lu:%02lu", s / 60, s % 60);
}

void cli_progress(const char *label, size_t done, size_t total) {
  if (!isatty(STDERR_FILENO)) return;
  double now = cli_now();
  if (!progress.shown) {
    progress.t0 = now;
    progress.done0 = done;
  } else if (now - progress.drawn < 0.1 && done < total) {
    return; /* a terminal redrawn faster than it can be read only costs time */
  }
  progress.drawn = now;
  char a[32], b[32], rate[40], eta[32], line[200];
  /* Rounded down, so 100% means done. */
  unsigned pct = total ? (unsigned)((double)done * 100.0 / (double)total) : 100;
  double dt = now - progress.t0, did = (double)(done - progress.done0);
  if (dt > 0 && did > 0) {
    double r = did / dt;
    snprintf(rate, sizeof rate, "%s/s", cli_group(a, (uint64_t)(r + 0.5)));
    progress_eta(eta, (double)(total - done) / r);
  } else {
    snprintf(rate, sizeof rate, "--/s");
    progress_eta(eta, -1);
  }
  int w = snprintf(line, sizeof line, "  %s %3u%%  %s / %s  %s  %s", label, pct,
                   cli_group(a, done), cli_group(b, total), rate, eta);
  if (w < 0) return;
  if (w >= (int)sizeof line) w = (int)sizeof line - 1;
  /* Pad with spaces over what the previous, longer line left. */
  fprintf(stderr, "\r%s%*s", line, progress.width > w ? progress.width - w : 0, "");
  fflush(stderr);
  if (w > progress.width) progress.width = w;
  progress.shown = 1;
}

void cli_progress_done(void) {
  if (!progress.shown) return;
  /* Blank the line with spaces rather than an ANSI erase: works on any
   * terminal. */
  fprintf(stderr, "\r%*s\r", progress.width, "");
  fflush(stderr);
  progress.shown = 0;
  progress.width = 0;
}
