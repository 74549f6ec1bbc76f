/* SPDX-License-Identifier: MIT */
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
 *
 * For a good file it also says what the documents hold: how many have a
 * key and how many attributes, and the attribute paths in use with their
 * types (pv_fields, whose JSON answer is parsed here only to lay it out),
 * and whether it has a text index and with which options it tokenizes
 * (pv_get_options' text; the index is there when the section table lists
 * a section named "text").
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
  static const char *const names[] = {"f32", "sq8", "binary", "binary-f32"};
  return s < 4 ? names[s] : "unknown";
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

/* How many live documents have a key, and how many attributes. */
static int documents(pv_index *idx) {
  size_t n = pv_count(idx), keyed = 0, with_attrs = 0;
  uint32_t *ids = malloc((n ? n : 1) * sizeof *ids);
  if (!ids) {
    cli_error("out of memory listing %zu documents", n);
    return CLI_FAILED;
  }
  n = pv_list_ids(idx, ids, n);
  for (size_t i = 0; i < n; i++) {
    const char *key;
    size_t len;
    char two[2];
    if (pv_get_key(idx, ids[i], &key, &len) == PV_OK && key) keyed++;
    /* "{}" fits in two bytes; any attributes need more (PV_RANGE). */
    int rc = pv_get_attributes(idx, ids[i], two, sizeof two, &len);
    if (rc == PV_RANGE || (rc == PV_OK && len > 2)) with_attrs++;
  }
  free(ids);
  char a[32], b[32], c[32];
  row("documents", "%s live: %s with a key, %s with attributes", cli_group(a, n),
      cli_group(b, keyed), cli_group(c, with_attrs));
  return CLI_OK;
}

/* The text row: the text options, and whether there is a text index (a
 * "text" section in the table, if the table could be read; its length is
 * shown so that an index whose documents have no text, but which has
 * options set, is told apart from one with terms). */
static void text_row(const pv_options *o, const pv_section_info *secs, size_t n) {
  const pv_section_info *t = NULL;
  for (size_t i = 0; i < n && !t; i++)
    if (strcmp(secs[i].name, "text") == 0) t = &secs[i];
  char a[32];
  const char *stem = o->text & PV_TEXT_STEM ? "on" : "off";
  const char *stop = o->text & PV_TEXT_STOPWORDS ? "on" : "off";
  if (t)
    row("text", "a text index (%s bytes); stemming %s, stopwords %s", cli_group(a, t->length),
        stem, stop);
  else
    row("text", "none (no document was given text); stemming %s, stopwords %s", stem, stop);
}

/* Columns a UTF-8 string takes (one per character). */
static size_t columns(const char *s, size_t n) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
  return c;
}

/* 1 if s can be printed as it is: UTF-8 without any control character. */
static int plain(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    size_t k = cli_utf8_seq(p + i, n - i);
    if (!k || p[i] < 0x20 || p[i] == 0x7f || (k == 2 && p[i] == 0xC2 && p[i + 1] < 0xA0))
      return 0;
    i += k;
  }
  return n > 0;
}

/* One entry of pv_fields' answer, as parsed. */
typedef struct field_row {
  char *path;
  size_t path_len;
  char types[96];
  double count;
} field_row;

/* Parse {"path":...,"types":[...],"count":N} at j into r. */
static int parse_field(cli_json *j, field_row *r) {
  char *buf = NULL;
  size_t cap = 0, len;
  if (cli_json_expect(j, '{', NULL)) return -1;
  r->types[0] = '\0';
  r->count = 0;
  for (;;) {
    if (cli_json_string(j, &buf, &cap, &len) || cli_json_expect(j, ':', NULL)) break;
    if (len == 4 && memcmp(buf, "path", 4) == 0) {
      free(r->path);
      r->path = NULL;
      size_t pcap = 0;
      if (cli_json_string(j, &r->path, &pcap, &r->path_len)) break;
    } else if (len == 5 && memcmp(buf, "types", 5) == 0) {
      if (cli_json_expect(j, '[', NULL)) break;
      size_t o = 0;
      while (cli_json_peek(j) == '"') {
        if (cli_json_string(j, &buf, &cap, &len)) break;
        int w = snprintf(r->types + o, sizeof r->types - o, "%s%.*s", o ? ", " : "", (int)len,
                         buf);
        if (w > 0) o = o + (size_t)w < sizeof r->types ? o + (size_t)w : sizeof r->types - 1;
        if (cli_json_peek(j) == ',') j->pos++;
      }
      if (cli_json_expect(j, ']', NULL)) break;
    } else if (len == 5 && memcmp(buf, "count", 5) == 0) {
      if (cli_json_number(j, &r->count)) break;
    } else if (cli_json_skip(j)) {
      break;
    }
    if (cli_json_peek(j) == ',') {
      j->pos++;
      continue;
    }
    cli_json_expect(j, '}', NULL);
    break;
  }
  free(buf);
  return j->failed ? -1 : 0;
}

/* The attribute paths in use (pv_fields), one row each. */
static int fields(pv_index *idx) {
  size_t cap = 4096, len = 0;
  char *buf = NULL;
  int rc;
  for (;;) {
    char *p = realloc(buf, cap);
    if (!p) {
      free(buf);
      cli_error("out of memory listing the attribute fields");
      return CLI_FAILED;
    }
    buf = p;
    rc = pv_fields(idx, buf, cap, &len);
    if (rc != PV_RANGE || len <= cap) break;
    cap = len;
  }
  if (rc != PV_OK) {
    free(buf);
    return cli_pv_error("pv_fields", idx, rc);
  }
  /* Two passes over the answer: the first finds the widest path. */
  field_row r;
  memset(&r, 0, sizeof r);
  size_t n = 0, width = 4;
  for (int pass = 0; pass < 2; pass++) {
    cli_json j;
    cli_json_init(&j, buf, len);
    n = 0;
    if (cli_json_expect(&j, '[', NULL)) break;
    if (pass == 1 && cli_json_peek(&j) != ']') {
      row("fields", "attribute paths of live documents:");
      printf("  %-*s  %-24s %12s\n", (int)width, "path", "types", "documents");
    }
    while (!j.failed && cli_json_peek(&j) == '{') {
      if (parse_field(&j, &r)) break;
      n++;
      char q[128];
      const char *shown = plain(r.path, r.path_len) ? r.path
                                                     : cli_quote(q, sizeof q, r.path, r.path_len);
      size_t w = columns(shown, strlen(shown));
      if (pass == 0 && w > width) width = w < 48 ? w : 48;
      if (pass == 1) {
        char g[32];
        printf("  %s%*s  %-24s %12s\n", shown, (int)(w < width ? width - w : 0), "", r.types,
               cli_group(g, (uint64_t)r.count));
      }
      if (cli_json_peek(&j) == ',') j.pos++;
    }
    if (!j.failed) cli_json_expect(&j, ']', NULL);
    if (j.failed) {
      free(r.path);
      free(buf);
      cli_error("pv_fields: cannot read its answer at byte %zu: %s; please report this",
                j.err_at, j.err);
      return CLI_FAILED;
    }
  }
  if (n == 0) row("fields", "none (no live document has attributes)");
  free(r.path);
  free(buf);
  return CLI_OK;
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
    counts(live, pv_deleted_count(idx), pv_next_id(idx));
    pv_log_info li;
    pv_log_state(idx, &li);
    if (li.records)
      row("change log", "%s record%s after the index (%s bytes), replayed at load; the fields "
          "above are after it, the sections below the index's", cli_group(a, li.records),
          li.records == 1 ? "" : "s", cli_group(b, li.end - h.file_size));
    if (li.end < len)
      row("unfinished save", "the last %s bytes are a change log record cut short (a save "
          "interrupted by a crash): ignored, and written over by the next save", cli_group(a, len - li.end));
    if (documents(idx) != CLI_OK) {
      pv_free(idx);
      free(secs);
      return CLI_FAILED;
    }
    text_row(&o, secs, src == PV_OK ? nsec : 0);
    row("memory when loaded", "%s (%s bytes)", cli_bytes(a, (double)mem), cli_group(b, mem));
    if (live)
      row("bytes per vector", "%s on disk, %s in memory",
          cli_group(a, (uint64_t)((double)len / (double)live + 0.5)),
          cli_group(b, (uint64_t)((double)mem / (double)live + 0.5)));
    else
      row("bytes per vector", "- (no live vectors)");
    if (fields(idx) != CLI_OK) {
      pv_free(idx);
      free(secs);
      return CLI_FAILED;
    }
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
