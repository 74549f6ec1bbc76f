/* SPDX-License-Identifier: MIT */
/*
 * Index files: reading one into memory, and writing one so that a crash
 * never leaves a half-written file. The library only sees buffers and a
 * writer callback; every system call is here.
 *
 * Loading reads the whole file into one malloc'd buffer and hands it to
 * pv_load with PV_LOAD_TAKE, rather than mmap with PV_LOAD_BORROW:
 *   - pv_load checks every section's CRC, so it touches every byte anyway;
 *     mmap would save no I/O, only the copy into the buffer.
 *   - A mapping dies with SIGBUS if another program truncates or rewrites
 *     the file while it is mapped (BORROW needs the bytes unchanged until
 *     pv_free); a private buffer cannot be changed under us.
 *   - With TAKE the vectors stay in that buffer (no second copy), so memory
 *     is the file's size plus the link arrays, as with mmap.
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* realpath */
#define _FILE_OFFSET_BITS 64

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

int cli_read_file(const char *path, unsigned char **buf, size_t *len) {
  *buf = NULL;
  *len = 0;
  uint64_t fsize;
  int fd = cli_open_regular(path, "give the path of an index file", &fsize);
  if (fd < 0) return CLI_FAILED;
  if (fsize > SIZE_MAX) {
    cli_error("%s: the file is too large for this machine's address space", path);
    close(fd);
    return CLI_FAILED;
  }
  size_t size = (size_t)fsize, got = 0;
  unsigned char *p = malloc(size ? size : 1);
  if (!p) {
    char b[32];
    cli_error("%s: out of memory reading the file (%s)", path, cli_bytes(b, (double)size));
    close(fd);
    return CLI_FAILED;
  }
  while (got < size) {
    ssize_t r = read(fd, p + got, size - got > (1u << 30) ? (1u << 30) : size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      cli_error("%s: cannot read: %s", path,
                r < 0 ? strerror(errno) : "the file ended early (did it change while being read?)");
      free(p);
      close(fd);
      return CLI_FAILED;
    }
    got += (size_t)r;
  }
  close(fd);
  *buf = p;
  *len = size;
  return CLI_OK;
}

const char *cli_load_advice(int rc) {
  switch (rc) {
    case PV_CORRUPT:
      return "the file is damaged or not a pocketvec index: restore it from a copy or "
             "build it again";
    case PV_VERSION: return "install a newer pocketvec to read it";
    case PV_NOMEM: return "free some memory, or use a machine with more";
    default: return "please report this";
  }
}

/* 1 if the section table of the file in buf lists a section named name.
 * The table is read before pv_load takes the buffer; a table that cannot
 * be read is the loader's to report, so it counts as no such section. */
static int has_section(const unsigned char *buf, size_t len, const char *name) {
  pv_section_info secs[64]; /* the most entries a file may have (docs/FORMAT.md) */
  size_t n = 0;
  if (pv_read_sections(buf, len, secs, sizeof secs / sizeof secs[0], &n) != PV_OK) return 0;
  if (n > sizeof secs / sizeof secs[0]) n = sizeof secs / sizeof secs[0];
  for (size_t i = 0; i < n; i++)
    if (strcmp(secs[i].name, name) == 0) return 1;
  return 0;
}

int cli_load_index(const char *path, pv_index **out, size_t *file_size) {
  return cli_load_index_text(path, out, file_size, NULL);
}

int cli_load_index_text(const char *path, pv_index **out, size_t *file_size, int *has_text) {
  *out = NULL;
  unsigned char *buf;
  size_t len;
  if (cli_read_file(path, &buf, &len) != CLI_OK) return CLI_FAILED;
  if (has_text) *has_text = has_section(buf, len, "text");
  int rc = pv_load(buf, len, PV_LOAD_TAKE, out);
  if (rc != PV_OK) {
    free(buf); /* on failure TAKE leaves the buffer with us */
    cli_error("%s: %s: %s; %s", path, pv_errstr(rc), pv_errmsg(NULL), cli_load_advice(rc));
    return CLI_FAILED;
  }
  if (file_size) *file_size = len;
  return CLI_OK;
}

/* ------------------------------------------------------------------------ */
/* Writing: temporary file, fsync, rename, fsync the directory              */
/* ------------------------------------------------------------------------ */

/* Out of space or out of quota: the two failures "free some space" fixes.
 * EDQUOT is not in every C library's errno.h. */
#ifdef EDQUOT
#define IS_EDQUOT(err) ((err) == EDQUOT)
#else
#define IS_EDQUOT(err) 0
#endif

/* The temporary file and the lock file a signal handler must remove; set
 * only while they exist. unlink is async-signal-safe. */
static char *volatile sig_tmp;
static char *volatile sig_lock;

/* The signals that end the process by default and that a user sends
 * (Ctrl-C, Ctrl-\, kill, a closed terminal): the temporary file is removed
 * first. A signal the caller ignores (nohup ignores SIGHUP) stays ignored. */
static const int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define N_CLEANUP (sizeof cleanup_signals / sizeof cleanup_signals[0])
static struct sigaction old_cleanup[N_CLEANUP], old_xfsz;

static void on_signal(int sig) {
  char *t = sig_tmp, *l = sig_lock;
  if (t) unlink(t);
  if (l) unlink(l);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void block_signals(sigset_t *old) {
  sigset_t block;
  sigemptyset(&block);
  for (size_t i = 0; i < N_CLEANUP; i++) sigaddset(&block, cleanup_signals[i]);
  sigprocmask(SIG_BLOCK, &block, old);
}

static void catch_signals(char *tmp) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sig_tmp = tmp;
  for (size_t i = 0; i < N_CLEANUP; i++) {
    sigaction(cleanup_signals[i], NULL, &old_cleanup[i]);
    if (old_cleanup[i].sa_handler != SIG_IGN) sigaction(cleanup_signals[i], &sa, NULL);
  }
  /* A file growing past the size limit (ulimit -f) kills the process with
   * SIGXFSZ, leaving the temporary file; ignored, the write fails with
   * EFBIG instead, which is reported and cleaned up like any failed write. */
  sa.sa_handler = SIG_IGN;
  sigaction(SIGXFSZ, &sa, &old_xfsz);
}

static void release_signals(void) {
  for (size_t i = 0; i < N_CLEANUP; i++) sigaction(cleanup_signals[i], &old_cleanup[i], NULL);
  sigaction(SIGXFSZ, &old_xfsz, NULL);
  sig_tmp = NULL;
}

/* ------------------------------------------------------------------------ */
/* The writers' lock                                                        */
/* ------------------------------------------------------------------------ */

/* Writers of one index file take PATH.lock, created exclusively and
 * holding "pid hostname\n", the protocol of the JS package's saves
 * (js/src/storage/file.js): so a CLI upsert and a Node save of one file
 * run one after the other, and the Node save then finds the file changed
 * (CONFLICT) instead of dropping the CLI's write. A lock whose process is
 * gone (same host) is stale and taken over, as is one that has had no
 * owner written into it for LOCK_EMPTY_STALE seconds. A live holder is
 * waited for up to LOCK_WAIT_MS. Rejected: flock(), which the lock's
 * other user, Node, cannot take. */
#define LOCK_WAIT_MS 10000
#define LOCK_EMPTY_STALE 5

static const char *host_name(void) {
  static char host[256];
  if (!host[0] && gethostname(host, sizeof host - 1) != 0) strcpy(host, "?");
  return host;
}

/* The lock file's text, "" if it is empty or unreadable; 0 if it is gone. */
static int read_lock(const char *lock, char *buf, size_t cap) {
  int fd = open(lock, O_RDONLY);
  if (fd < 0) return errno == ENOENT ? 0 : (buf[0] = '\0', 1);
  ssize_t n = read(fd, buf, cap - 1);
  close(fd);
  buf[n > 0 ? n : 0] = '\0';
  return 1;
}

/* Whether the lock file is stale, and if so removes it (see above). */
static int stale_lock(const char *lock) {
  char text[320], again[320];
  if (!read_lock(lock, text, sizeof text)) return 1;
  long pid = 0;
  char host[260];
  int stale;
  if (sscanf(text, "%ld %259[^\n]", &pid, host) == 2 && pid > 0)
    stale = strcmp(host, host_name()) == 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
  else {
    struct stat st;
    stale = stat(lock, &st) == 0 && time(NULL) - st.st_mtime > LOCK_EMPTY_STALE;
  }
  /* Another writer may have found it stale too, removed it and taken the
   * lock since: compare again just before removing. */
  if (!stale || !read_lock(lock, again, sizeof again) || strcmp(text, again) != 0) return 0;
  unlink(lock);
  return 1;
}

static char *lock_name(const char *path);

/* Take the lock of path: CLI_OK with *lock_out the lock file's name
 * (malloc'd), or CLI_FAILED reported. A name too long for ".lock" is cut
 * (lock_name), as the JS package cuts it. */
static int take_lock(const char *path, char **lock_out) {
  *lock_out = NULL;
  char *lock = lock_name(path);
  if (!lock) {
    cli_error("out of memory");
    return CLI_FAILED;
  }
  char mine[320];
  int len = snprintf(mine, sizeof mine, "%ld %s\n", (long)getpid(), host_name());
  for (long waited = 0, pause = 2;;) {
    int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      int ok = write(fd, mine, (size_t)len) == len;
      int err = errno;
      close(fd);
      if (ok) break;
      unlink(lock);
      cli_error("%s: writing the lock file %s failed: %s", path, lock, strerror(err));
      free(lock);
      return CLI_FAILED;
    }
    if (errno != EEXIST) {
      cli_error("%s: cannot create the lock file %s: %s", path, lock, strerror(errno));
      free(lock);
      return CLI_FAILED;
    }
    if (stale_lock(lock)) continue;
    if (waited >= LOCK_WAIT_MS) {
      char text[320];
      if (!read_lock(lock, text, sizeof text) || !text[0]) strcpy(text, "a process that has not written its name yet");
      text[strcspn(text, "\n")] = '\0';
      cli_error("%s is being written by another process (%s, lock file %s) and was not released "
                "within %d s; if nothing is writing it, remove the lock file",
                path, text, lock, LOCK_WAIT_MS / 1000);
      free(lock);
      return CLI_FAILED;
    }
    struct timespec ts = {0, pause * 1000000L};
    nanosleep(&ts, NULL);
    waited += pause;
    pause = pause * 2 > 100 ? 100 : pause * 2;
  }
  *lock_out = lock;
  return CLI_OK;
}

/* Remove the temporary files of earlier writes of path whose process is
 * gone (killed mid-write): PATH.tmp-PID-XXXXXX, by this CLI or the JS
 * package. Called holding the lock. */
static void sweep_tmp(const char *dir, const char *path) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  size_t bn = strlen(base);
  DIR *d = opendir(dir);
  if (!d) return;
  for (struct dirent *e; (e = readdir(d));) {
    if (strncmp(e->d_name, base, bn) != 0 || strncmp(e->d_name + bn, ".tmp-", 5) != 0) continue;
    char *end;
    long pid = strtol(e->d_name + bn + 5, &end, 10);
    if (pid <= 0 || *end != '-' || pid == (long)getpid()) continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    size_t dn = strlen(dir), fn = strlen(e->d_name);
    char *full = malloc(dn + fn + 2);
    if (!full) break;
    memcpy(full, dir, dn);
    full[dn] = '/';
    memcpy(full + dn + 1, e->d_name, fn + 1);
    unlink(full);
    free(full);
  }
  closedir(d);
}

/* The directory holding path, malloc'd: "." for a bare name, "/" for
 * "/name". NULL when out of memory. */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  size_t n = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
  char *dir = malloc(n + 1);
  if (!dir) return NULL;
  memcpy(dir, slash ? path : ".", n);
  dir[n] = '\0';
  return dir;
}

/* Why path cannot be written, reported, before anything is created: it is
 * a directory or another file that is not regular (renaming over a FIFO or
 * a device would replace it, and a directory cannot be replaced), or its
 * directory is missing or not a directory. CLI_OK if none of these; whether
 * the directory is writable is found by creating the temporary file, which
 * is the only true test (a read-only file system, an ACL, root). */
static int check_target(const char *path, const char *dir) {
  struct stat st;
  size_t n = strlen(path);
  if (n == 0) {
    cli_error("the output file name is empty; give the name of the index file to write");
    return CLI_FAILED;
  }
  if (stat(path, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      cli_error("%s is a directory; give the name of the index file to write, e.g. %s%sindex.pvec",
                path, path, path[n - 1] == '/' ? "" : "/");
      return CLI_FAILED;
    }
    if (!S_ISREG(st.st_mode)) {
      cli_error("%s is %s, not a regular file; give the path of a file to write (an index "
                "file replaces only a regular file)",
                path, cli_file_kind(st.st_mode));
      return CLI_FAILED;
    }
    return CLI_OK;
  }
  int err = errno;
  if (err == ENAMETOOLONG) {
    cli_error("%s: the name is too long for the file system; choose a shorter one", path);
    return CLI_FAILED;
  }
  if (err != ENOENT && err != ENOTDIR) { /* ENOTDIR: the directory check below says which */
    cli_error("%s: cannot look it up: %s", path, strerror(err));
    return CLI_FAILED;
  }
  if (path[n - 1] == '/') {
    cli_error("%s ends with '/', which names a directory; give the name of the index file to "
              "write",
              path);
    return CLI_FAILED;
  }
  if (stat(dir, &st) != 0) {
    if (errno == ENOENT)
      cli_error("%s: the directory '%s' does not exist; create it first, or choose another "
                "place",
                path, dir);
    else
      cli_error("%s: cannot look up the directory '%s': %s", path, dir, strerror(errno));
    return CLI_FAILED;
  }
  if (!S_ISDIR(st.st_mode)) {
    cli_error("%s: '%s' is %s, not a directory", path, dir, cli_file_kind(st.st_mode));
    return CLI_FAILED;
  }
  return CLI_OK;
}

/* ".tmp-PID-XXXXXX": the pid lets a later writer tell a file left by a
 * killed process from one being written (sweep_tmp). */
#define TMP_SUFFIX_MAX 40

/* How many bytes of the file name `name` (in directory dir) the temporary
 * file's name keeps before TMP_SUFFIX: all of them unless the whole would
 * be longer than the file system allows for a name (NAME_MAX, usually 255:
 * a legal 255-byte target must not fail for its temporary file). Cut short
 * at a UTF-8 character boundary, so the name stays readable in a listing.
 * Rejected alternative: a fixed name such as ".pvtmp-XXXXXX" fits always,
 * but a file left by a crash would no longer say which target it was for. */
static size_t tmp_keep(const char *dir, const char *name, size_t suffix) {
  long name_max = pathconf(dir, _PC_NAME_MAX);
  if (name_max <= 0) name_max = 255; /* no limit known: the common one */
  size_t keep = strlen(name);
  if (keep + suffix <= (size_t)name_max) return keep;
  keep = (size_t)name_max > suffix ? (size_t)name_max - suffix : 0;
  while (keep > 0 && ((unsigned char)name[keep] & 0xC0) == 0x80) keep--;
  return keep;
}

/* PATH.lock, malloc'd (NULL when out of memory); where the name would be
 * longer than a name may be, its file name is cut first, at a character
 * boundary (tmp_keep). */
static char *lock_name(const char *path) {
  char *dir = dir_of(path);
  size_t n = strlen(path);
  char *lock = dir ? malloc(n + 6) : NULL;
  if (lock) {
    const char *slash = strrchr(path, '/');
    size_t base = slash ? (size_t)(slash - path) + 1 : 0;
    size_t keep = base + tmp_keep(dir, path + base, 5);
    memcpy(lock, path, keep);
    memcpy(lock + keep, ".lock", 6);
  }
  free(dir);
  return lock;
}

int cli_output_begin(cli_output *o, const char *path) {
  o->fd = -1;
  o->tmp = NULL;
  o->path = NULL;
  o->lock = NULL;
  o->t0 = o->load_us = 0;
  o->save = CLI_SAVE_AUTO;
  size_t n = strlen(path);
  char *dir = dir_of(path);
  char *copy = malloc(n + 1);
  char *tmp = malloc(n + TMP_SUFFIX_MAX + 1);
  char *lock = NULL;
  if (!dir || !copy || !tmp) {
    cli_error("out of memory");
    goto fail;
  }
  if (check_target(path, dir) != CLI_OK) goto fail;
  memcpy(copy, path, n + 1);
  char suffix[TMP_SUFFIX_MAX];
  size_t slen = (size_t)snprintf(suffix, sizeof suffix, ".tmp-%ld-XXXXXX", (long)getpid());
  const char *slash = strrchr(path, '/');
  size_t base = slash ? (size_t)(slash - path) + 1 : 0;
  size_t keep = base + tmp_keep(dir, path + base, slen);
  memcpy(tmp, path, keep);
  memcpy(tmp + keep, suffix, slen + 1);
  /* The lock first (waiting for it is not done with signals blocked: a
   * Ctrl-C then may leave the lock file, which the next writer finds
   * stale); holding it, the files earlier writers left when they were
   * killed are removed. Then the signals are blocked while the temporary
   * file is created and registered, so that a Ctrl-C never leaves a file
   * nobody knows about. */
  if (take_lock(path, &lock) != CLI_OK) goto fail;
  sweep_tmp(dir, path);
  sigset_t old;
  block_signals(&old);
  o->fd = mkstemp(tmp);
  int err = errno;
  o->lock = lock;
  sig_lock = lock;
  if (o->fd >= 0) o->tmp = tmp;
  catch_signals(o->fd >= 0 ? tmp : NULL);
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (o->fd < 0) {
    const char *advice = "choose another place";
    if (err == EACCES || err == EPERM)
      advice = "the directory is not writable: choose one you can write to";
    else if (err == EROFS)
      advice = "choose a place on a writable file system";
    else if (err == ENOSPC || IS_EDQUOT(err))
      advice = "free some space or choose another place";
    cli_error("%s: cannot create a temporary file in the directory '%s' (%s): %s; %s", path,
              dir, tmp, strerror(err), advice);
    cli_output_abort(o); /* releases the lock */
    goto fail;
  }
  free(dir);
  o->path = copy;
  /* mkstemp makes the file private (0600); an index is an ordinary file, so
   * give it the mode any new file gets. */
  mode_t mask = umask(0);
  umask(mask);
  (void)fchmod(o->fd, 0666 & ~mask);
  return CLI_OK;
fail:
  free(dir);
  free(copy);
  free(tmp);
  return CLI_FAILED;
}

void cli_output_abort(cli_output *o) {
  if (o->fd >= 0) close(o->fd);
  if (o->tmp) unlink(o->tmp);
  if (o->lock) {
    unlink(o->lock);
    release_signals();
    sig_lock = NULL;
  }
  free(o->tmp);
  free(o->path);
  free(o->lock);
  o->fd = -1;
  o->tmp = o->path = o->lock = NULL;
}

typedef struct {
  FILE *f;
  uint64_t bytes;
  int err; /* errno of a failed write, 0 if none */
} file_sink;

static int sink_write(void *ctx, const void *data, size_t len) {
  file_sink *s = ctx;
  if (fwrite(data, 1, len, s->f) != len) {
    s->err = errno ? errno : EIO;
    return 1;
  }
  s->bytes += len;
  return 0;
}

/* Flush the directory holding path, so the rename itself is on disk. Some
 * file systems cannot fsync a directory (EINVAL): nothing more can be done
 * there, and it is not an error. */
static int sync_dir(const char *path) {
  char *dir = dir_of(path);
  if (!dir) return ENOMEM;
  int fd = open(dir, O_RDONLY);
  int err = 0;
  if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL)) err = errno;
  if (fd >= 0) close(fd);
  free(dir);
  return err;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Append idx's recorded changes to o->path as one change log record, if
 * that is worth it (cli.h; pv_log_worth, the JS package's policy too). */
static int append_record(cli_output *o, pv_index *idx, uint64_t *bytes) {
  pv_log_info li;
  pv_log_state(idx, &li);
  if (!o->t0 || !li.recording || !li.base_tag || o->save == CLI_SAVE_WHOLE) return CLI_DECLINED;
  /* The calls' cost: the time since the load (the policy is pv_log_worth's). */
  double us = (now_s() - o->t0) * 1e6;
  if (o->save != CLI_SAVE_APPEND && !pv_log_worth(idx, li.mark, us, o->load_us, 0, 0.1))
    return CLI_DECLINED;
  size_t need = 0;
  if (pv_log_record(idx, li.mark, (uint64_t)us, NULL, 0, &need) != PV_RANGE) return CLI_DECLINED;
  unsigned char *rec = malloc(need);
  if (!rec) return CLI_DECLINED;
  int rc = pv_log_record(idx, li.mark, (uint64_t)us, rec, need, &need);
  int fd = rc == PV_OK ? open(o->path, O_WRONLY) : -1;
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || (uint64_t)st.st_size < li.end) {
    if (fd >= 0) close(fd);
    free(rec);
    return CLI_DECLINED; /* not the file that was loaded: write it whole */
  }
  const char *step = "cutting off an unfinished record";
  int err = (uint64_t)st.st_size > li.end && ftruncate(fd, (off_t)li.end) != 0 ? errno : 0;
  for (size_t done = 0; !err && done < need;) {
    step = "appending the change log record";
    ssize_t w = pwrite(fd, rec + done, need - done, (off_t)(li.end + done));
    if (w < 0 && errno != EINTR) err = errno;
    if (w > 0) done += (size_t)w;
  }
  if (!err && fsync(fd) != 0) {
    step = "flushing to disk";
    err = errno;
  }
  if (err && ftruncate(fd, (off_t)li.end) != 0) {
    /* the record is cut short or whole: a load ignores the first */
  }
  close(fd);
  free(rec);
  if (err) {
    cli_error("%s: %s failed: %s; nothing was changed", o->path, step, strerror(err));
    return CLI_FAILED;
  }
  pv_log_appended(idx, li.mark, need, (uint64_t)us);
  if (bytes) *bytes = li.end + need;
  cli_output_abort(o); /* the temporary file was not needed; the lock goes */
  return CLI_OK;
}

int cli_output_commit(cli_output *o, pv_index *idx, uint64_t *bytes) {
  int arc = append_record(o, idx, bytes);
  if (arc != CLI_DECLINED) {
    if (arc != CLI_OK) cli_output_abort(o);
    return arc;
  }
  const char *step = "writing";
  int err = 0;
  file_sink s = {fdopen(o->fd, "wb"), 0, 0};
  if (!s.f) {
    err = errno;
    goto fail;
  }
  o->fd = -1; /* the FILE owns it now */
  setvbuf(s.f, NULL, _IOFBF, 1u << 20);
  int rc = pv_serialize(idx, sink_write, &s);
  if (rc != PV_OK && !s.err) {
    fclose(s.f);
    cli_pv_error("pv_serialize", idx, rc);
    cli_output_abort(o);
    return CLI_FAILED;
  }
  err = s.err;
  if (!err && fflush(s.f) != 0) err = errno;
  if (!err) {
    step = "flushing to disk";
    if (fsync(fileno(s.f)) != 0) err = errno;
  }
  if (fclose(s.f) != 0 && !err) err = errno;
  if (err) goto fail;
  step = "renaming into place";
  if (rename(o->tmp, o->path) != 0) {
    err = errno;
    goto fail;
  }
  /* The file is in place: from here on there is nothing to remove. */
  release_signals();
  free(o->tmp);
  o->tmp = NULL;
  err = sync_dir(o->path);
  if (err)
    cli_error("%s: written, but flushing its directory failed: %s; the file may not survive "
              "a crash of the machine: run 'pocketvec verify' on it after a restart",
              o->path, strerror(err));
  if (bytes) *bytes = s.bytes;
  cli_output_abort(o);
  return err ? CLI_FAILED : CLI_OK;
fail:
  cli_error("%s: %s %s failed: %s; nothing was changed: %s", o->path, step, o->tmp,
            strerror(err),
            err == ENOSPC || IS_EDQUOT(err)
                ? "free some space or choose another place, and build again"
            : err == EFBIG ? "the index is larger than the limit on a file's size (ulimit -f, "
                             "or the file system's own)"
                           : "choose another place and build again");
  cli_output_abort(o);
  return CLI_FAILED;
}

/* ------------------------------------------------------------------------ */
/* Changing a file in place                                                 */
/* ------------------------------------------------------------------------ */

int cli_rewrite_begin(const char *path, pv_index **idx, cli_output *out) {
  *idx = NULL;
  out->fd = -1;
  out->tmp = out->path = NULL;
  /* Renaming over a symbolic link would replace the link by a regular file
   * and leave the index it named as it was: write next to that index. */
  struct stat st;
  char *real = lstat(path, &st) == 0 && S_ISLNK(st.st_mode) ? realpath(path, NULL) : NULL;
  const char *target = real ? real : path; /* a dangling link: load says so below */
  if (stat(target, &st) != 0 || !S_ISREG(st.st_mode)) {
    /* The loader's message says what it is (missing, a FIFO...). */
    int rc = cli_load_index(path, idx, NULL);
    if (rc == CLI_OK) { /* it became a regular file meanwhile: be safe, stop */
      pv_free(*idx);
      *idx = NULL;
      cli_error("%s changed while being opened; run again", path);
    }
    free(real);
    return CLI_FAILED;
  }
  int rc = CLI_FAILED;
  if (cli_output_begin(out, target) != CLI_OK) goto done;
  /* The new file replaces the old one: it keeps its owner where the caller
   * may give it (else it is the caller's, as a copy would be), then its
   * permission bits (a private index stays private; after the owner, which
   * may clear set-id bits). */
  if (fchown(out->fd, st.st_uid, st.st_gid) != 0) {
    /* not allowed: keep the caller's */
  }
  (void)fchmod(out->fd, st.st_mode & 07777);
  double t = now_s();
  if (cli_load_index(path, idx, NULL) != CLI_OK) {
    cli_output_abort(out);
    goto done;
  }
  /* What is stored: its changes from now on can go in a change log record. */
  pv_log_start(*idx);
  out->t0 = now_s();
  out->load_us = (out->t0 - t) * 1e6;
  rc = CLI_OK;
done:
  free(real);
  return rc;
}
