/*
 * pocketvec info: what an index file holds, and whether it is intact.
 *
 * A good file is loaded (pv_load checks every checksum and the graph) and
 * described from the loaded index. A damaged one cannot be loaded, but the
 * user still wants to know what it was: if its 128-byte header is there,
 * this command decodes it (docs/FORMAT.md) and says whether the header's
 * own CRC matches, so the settings shown are marked trustworthy or not.
 * That decoding is the only format knowledge in the CLI; the verdict on the
 * file is always the library's.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ------------------------------------------------------------------------ */
/* The header, as docs/FORMAT.md lays it out                                */
/* ------------------------------------------------------------------------ */

#define HEADER_SIZE 128u

typedef struct header {
  uint32_t version, dim, metric, storage, m, ef_construction, ef_search;
  uint32_t n_slots, n_live, next_id;
  uint64_t file_size, seed;
  float compact_threshold;
  int crc_ok; /* the header's CRC-32C matches bytes 0 .. 123 */
} header;

static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* CRC-32C, bit by bit: 124 bytes do not need the library's tables. */
static uint32_t crc32c(const unsigned char *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
  }
  return ~c;
}

/* 1 and *h filled if b starts with a pocketvec header, else 0. */
static int read_header(const unsigned char *b, size_t len, header *h) {
  static const unsigned char magic[8] = {0x89, 'P', 'V', 'E', 'C', '\r', '\n', 0x1a};
  if (len < HEADER_SIZE || memcmp(b, magic, 8) != 0) return 0;
  h->version = get32(b + 8);
  h->file_size = get64(b + 16);
  h->dim = get32(b + 24);
  h->metric = get32(b + 28);
  h->storage = get32(b + 32);
  h->m = get32(b + 36);
  h->ef_construction = get32(b + 40);
  h->ef_search = get32(b + 44);
  h->seed = get64(b + 48);
  uint32_t t = get32(b + 56);
  memcpy(&h->compact_threshold, &t, 4);
  h->n_slots = get32(b + 60);
  h->n_live = get32(b + 64);
  h->next_id = get32(b + 68);
  h->crc_ok = crc32c(b, 124) == get32(b + 124);
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Printing                                                                 */
/* ------------------------------------------------------------------------ */

static void row(const char *name, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void row(const char *name, const char *fmt, ...) {
  va_list ap;
  printf("%-20s", name);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
}

static const char *metric_name(uint32_t m) {
  static const char *const names[] = {"cosine", "l2", "dot"};
  return m < 3 ? names[m] : "unknown";
}

static const char *storage_name(uint32_t s) {
  static const char *const names[] = {"f32", "sq8"};
  return s < 2 ? names[s] : "unknown";
}

static void settings(uint32_t dim, uint32_t metric, uint32_t storage, uint32_t m,
                     uint32_t efc, uint32_t efs, uint64_t seed, float ct) {
  row("dim", "%u", dim);
  row("metric", "%s", metric_name(metric));
  row("storage", "%s", storage_name(storage));
  row("m", "%u (layer 0 keeps %u links)", m, 2 * m);
  row("ef_construction", "%u", efc);
  row("ef_search", "%u", efs);
  row("seed", "%llu", (unsigned long long)seed);
  if (ct > 0)
    row("compact threshold", "%g (compacts when deleted slots exceed %g%% of all)",
        (double)ct, (double)ct * 100);
  else
    row("compact threshold", "0 (never compacts automatically)");
}

static void counts(uint64_t live, uint64_t deleted, uint32_t next_id) {
  char a[32], b[32], c[32], d[32];
  row("vectors", "%s live, %s deleted, %s slots, next id %s", cli_group(a, live),
      cli_group(b, deleted), cli_group(c, live + deleted), cli_group(d, next_id));
}

/* ------------------------------------------------------------------------ */
/* Entry point                                                              */
/* ------------------------------------------------------------------------ */

int cmd_info(int argc, char **argv) {
  if (argc < 2) return cli_usage_error("info", "give the index file");
  if (argc > 2) return cli_usage_error("info", "expects one index file, got '%s' too", argv[2]);
  const char *path = argv[1];
  if (path[0] == '-' && path[1]) return cli_usage_error("info", "unknown flag '%s'", path);

  unsigned char *buf;
  size_t len;
  if (cli_read_file(path, &buf, &len) != CLI_OK) return CLI_FAILED;
  header h;
  memset(&h, 0, sizeof h);
  int have_header = read_header(buf, len, &h);
  pv_index *idx;
  int rc = pv_load(buf, len, PV_LOAD_TAKE, &idx);
  char a[32], b[32];

  row("file", "%s", path);
  if (len < 1024)
    row("file size", "%zu bytes", len);
  else
    row("file size", "%s (%s bytes)", cli_bytes(a, (double)len), cli_group(b, len));
  if (rc == PV_OK) {
    /* buf belongs to the index now. */
    pv_options o;
    pv_get_options(idx, &o);
    size_t live = pv_count(idx), mem = pv_memory_usage(idx);
    row("format version", "%u", h.version);
    settings(o.dim, (uint32_t)o.metric, (uint32_t)o.storage, o.m, o.ef_construction,
             o.ef_search, o.seed, o.compact_threshold);
    counts(live, pv_deleted_count(idx), h.next_id);
    row("memory when loaded", "%s (%s bytes)", cli_bytes(a, (double)mem), cli_group(b, mem));
    if (live)
      row("bytes per vector", "%s on disk, %s in memory",
          cli_group(a, (uint64_t)((double)len / (double)live + 0.5)),
          cli_group(b, (uint64_t)((double)mem / (double)live + 0.5)));
    else
      row("bytes per vector", "- (no live vectors)");
    row("status", "ok: all checksums match and the graph is valid");
    pv_free(idx);
    return CLI_OK;
  }

  /* Damaged: show what the header says, flagged as unverified. */
  char msg[512];
  snprintf(msg, sizeof msg, "%s", pv_errmsg(NULL));
  if (have_header) {
    row("header checksum", "%s", h.crc_ok ? "matches (the fields below are as written)"
                                          : "DOES NOT MATCH (the fields below may be wrong)");
    row("format version", "%u", h.version);
    row("declared size", "%s bytes%s", cli_group(a, h.file_size),
        h.file_size == len ? "" : " (not the file's size)");
    settings(h.dim, h.metric, h.storage, h.m, h.ef_construction, h.ef_search, h.seed,
             h.compact_threshold);
    counts(h.n_live, h.n_live <= h.n_slots ? h.n_slots - h.n_live : 0, h.next_id);
  } else {
    row("header", "%s", len < HEADER_SIZE ? "missing (the file is shorter than a header)"
                                          : "none (not a pocketvec file)");
  }
  row("status", "FAILED: %s: %s", pv_errstr(rc), msg);
  free(buf);
  cli_error("%s: %s; %s", path, msg, cli_load_advice(rc));
  return CLI_FAILED;
}
