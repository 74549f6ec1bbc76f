/*
 * pocketvec info: what an index file holds, and whether it is intact.
 *
 * A good file is loaded (pv_load checks every checksum and the graph) and
 * described from the loaded index. A damaged one cannot be loaded, but the
 * user still wants to know what it was: if its header is there, the
 * library's pv_read_header decodes it and says whether the header's own CRC
 * matches, so the settings shown are marked trustworthy or not. Either way
 * the section table is listed (pv_read_sections): each section's kind,
 * name, whether a reader must know it, where it lies and whether its
 * checksum matches, so a damaged file shows which part is damaged. The CLI
 * knows nothing of the format itself; the verdict is always the library's.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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

static void version_row(uint32_t version) {
  if (version < PV_FORMAT_VERSION)
    row("format version", "%u (an older one: it loads, and is saved again as version %u)",
        version, PV_FORMAT_VERSION);
  else if (version > PV_FORMAT_VERSION)
    row("format version", "%u (newer than this pocketvec, which reads up to %u)", version,
        PV_FORMAT_VERSION);
  else
    row("format version", "%u", version);
}

/* The section table, as pv_read_sections describes it. secs holds n
 * entries; rc and msg are its result. */
static void sections(int rc, const char *msg, const pv_section_info *secs, size_t n) {
  char a[32], b[32];
  if (rc != PV_OK) {
    row("sections", "table unreadable: %s", msg);
    return;
  }
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) bad += !secs[i].checksum_ok;
  if (bad)
    row("sections", "%zu, %zu DAMAGED (checksum does not match; the table's own matches)", n,
        bad);
  else
    row("sections", "%zu (every checksum matches, the table's too)", n);
  printf("  %4s  %-18s %-9s %14s %14s  %s\n", "kind", "name", "need", "offset", "bytes",
         "checksum");
  for (size_t i = 0; i < n; i++) {
    const pv_section_info *s = &secs[i];
    printf("  %4u  %-18s %-9s %14s %14s  %08x %s\n", s->kind, s->name,
           s->required ? "required" : "optional", cli_group(a, s->offset),
           cli_group(b, s->length), s->checksum,
           s->checksum_ok ? "ok" : "DOES NOT MATCH");
  }
}

/* ------------------------------------------------------------------------ */
/* Entry point                                                              */
/* ------------------------------------------------------------------------ */

int cmd_info(int argc, char **argv) {
  if (argc < 2) return cli_usage_error("info", "give the index file");
  if (argc > 2) return cli_usage_error("info", "expects one index file, got '%s' too", argv[2]);
  const char *path = argv[1];
  if (path[0] == '-' && path[1]) return cli_usage_error("info", "unknown flag '%s'", path);
  if (!*path) return cli_usage_error("info", "the index file name is empty");

  unsigned char *buf;
  size_t len;
  if (cli_read_file(path, &buf, &len) != CLI_OK) return CLI_FAILED;
  pv_header h;
  memset(&h, 0, sizeof h);
  int have_header = pv_read_header(buf, len, &h) == PV_OK;
  char no_header[256];
  snprintf(no_header, sizeof no_header, "%s", pv_errmsg(NULL));
  /* The table is read before pv_load takes buf. Ask for the count first:
   * the library caps it, so the second call always fits. */
  size_t nsec = 0;
  pv_section_info *secs = NULL;
  int src = pv_read_sections(buf, len, NULL, 0, &nsec);
  if (src == PV_OK && nsec > 0 && !(secs = calloc(nsec, sizeof *secs))) src = PV_NOMEM;
  else if (src == PV_OK && nsec > 0) src = pv_read_sections(buf, len, secs, nsec, &nsec);
  char no_sections[256];
  snprintf(no_sections, sizeof no_sections, "%s",
           src == PV_NOMEM && !secs ? "out of memory" : pv_errmsg(NULL));
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
    version_row(h.version);
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
    sections(src, no_sections, secs, nsec);
    row("status", "ok: all checksums match and the graph is valid");
    pv_free(idx);
    free(secs);
    return CLI_OK;
  }

  /* Damaged: show what the header says, flagged as unverified. */
  char msg[512];
  snprintf(msg, sizeof msg, "%s", pv_errmsg(NULL));
  if (have_header) {
    const pv_options *o = &h.options;
    row("header checksum", "%s", h.header_ok ? "matches (the fields below are as written)"
                                             : "DOES NOT MATCH (the fields below may be wrong)");
    version_row(h.version);
    row("declared size", "%s bytes%s", cli_group(a, h.file_size),
        h.file_size == len ? "" : " (not the file's size)");
    settings(o->dim, (uint32_t)o->metric, (uint32_t)o->storage, o->m, o->ef_construction,
             o->ef_search, o->seed, o->compact_threshold);
    counts(h.live, h.live <= h.slots ? h.slots - h.live : 0, h.next_id);
  } else {
    row("header", "unreadable: %s", no_header);
  }
  if (have_header) sections(src, no_sections, secs, nsec);
  row("status", "FAILED: %s: %s", pv_errstr(rc), msg);
  free(buf);
  free(secs);
  cli_error("%s: %s; %s", path, msg, cli_load_advice(rc));
  return CLI_FAILED;
}
