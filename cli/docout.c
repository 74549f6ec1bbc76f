/* SPDX-License-Identifier: MIT */
/*
 * Documents out: printing a document as a line of JSON (get, find), a
 * document's attributes (query), and compiling a filter with a caret under
 * the place the library says is wrong.
 *
 * Everything printed from an index is escaped (cli_json_put_string): keys
 * and attribute values come from whoever wrote the file, and must not be
 * able to drive the terminal they are shown on.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Bytes of filter text shown around the position at fault: a filter is
 * usually one line, but one built by a script can be kilobytes long. */
#define CARET_BEFORE 40
#define CARET_WIDTH 76

/* Print a run of filter text for the caret line: one column per character,
 * so control characters (a tab would move the caret's column) and bytes
 * that are not UTF-8 show as one placeholder each. Returns the columns
 * used. */
static size_t show_text(const char *t, size_t n) {
  const unsigned char *p = (const unsigned char *)t;
  size_t cols = 0;
  for (size_t i = 0; i < n; cols++) {
    size_t k = cli_utf8_seq(p + i, n - i);
    if (k == 0 || p[i] < 0x20 || p[i] == 0x7f || (k == 2 && p[i] == 0xC2 && p[i + 1] < 0xA0)) {
      fputc(p[i] < 0x20 ? ' ' : '?', stderr);
      i += k ? k : 1;
      continue;
    }
    fwrite(p + i, 1, k, stderr);
    i += k;
  }
  return cols;
}

/* Back from i to the start of a UTF-8 character. */
static size_t char_start(const char *t, size_t i) {
  while (i > 0 && ((unsigned char)t[i] & 0xC0) == 0x80) i--;
  return i;
}

/* The text, cut to a window around byte `at` when it is long, and under
 * it a caret at `at` (at == len: just past the end, where more was
 * expected). */
static void show_caret(const char *text, size_t len, size_t at) {
  size_t from = at > CARET_BEFORE ? char_start(text, at - CARET_BEFORE) : 0;
  size_t to = from + CARET_WIDTH < len ? char_start(text, from + CARET_WIDTH) : len;
  if (to < at) to = at;
  fputs("  ", stderr);
  size_t col = 0;
  if (from > 0) {
    fputs("...", stderr);
    col += 3;
  }
  col += show_text(text + from, at - from);
  show_text(text + at, to - at);
  if (to < len) fputs("...", stderr);
  fprintf(stderr, "\n  %*s^\n", (int)col, "");
}

int cli_filter_compile(pv_index *idx, const char *flag, const char *text, pv_filter **out) {
  *out = NULL;
  if (!text) return CLI_OK;
  size_t len = strlen(text);
  int rc = pv_filter_compile(idx, text, len, out);
  if (rc == PV_OK) return CLI_OK;
  pv_error_info e;
  pv_errinfo(idx, &e);
  if (rc != PV_INVALID) return cli_pv_error("pv_filter_compile", idx, rc);
  cli_error("%s: %s", flag, pv_errmsg(idx));
  if (e.offset >= 0 && (uint64_t)e.offset <= len) show_caret(text, len, (size_t)e.offset);
  fprintf(stderr, "The filter language: docs/FILTER.md.\n");
  return CLI_FAILED;
}

int cli_attributes(pv_index *idx, uint32_t id, char **buf, size_t *cap, size_t *len) {
  for (;;) {
    int rc = pv_get_attributes(idx, id, *buf, *cap, len);
    if (rc == PV_OK) return CLI_OK;
    if (rc != PV_RANGE || *len <= *cap) return cli_pv_error("pv_get_attributes", idx, rc);
    size_t c = *len < 256 ? 256 : *len;
    char *p = realloc(*buf, c);
    if (!p) {
      cli_error("out of memory for the attributes of id %u (%zu bytes)", id, c);
      return CLI_FAILED;
    }
    *buf = p;
    *cap = c;
  }
}

void cli_docbuf_free(cli_docbuf *b) {
  free(b->attr);
  free(b->vec);
  memset(b, 0, sizeof *b);
}

int cli_print_doc(pv_index *idx, uint32_t id, int with_vector, cli_docbuf *b) {
  const char *key;
  size_t key_len, attr_len;
  int rc = pv_get_key(idx, id, &key, &key_len);
  if (rc != PV_OK) return cli_pv_error("pv_get_key", idx, rc);
  /* The key stays valid through these reads: only a write moves it. */
  if (cli_attributes(idx, id, &b->attr, &b->attr_cap, &attr_len) != CLI_OK) return CLI_FAILED;
  fputs("{\"key\":", stdout);
  if (key)
    cli_json_put_string(stdout, key, key_len, 0);
  else
    fputs("null", stdout);
  printf(",\"id\":%u,\"attributes\":", id);
  cli_json_put_text(stdout, b->attr, attr_len, 0);
  if (with_vector) {
    pv_options o;
    pv_get_options(idx, &o);
    if (!b->vec && !(b->vec = malloc(sizeof(float) * o.dim))) {
      cli_error("out of memory for a vector of %u values", o.dim);
      return CLI_FAILED;
    }
    rc = pv_get(idx, id, b->vec);
    if (rc != PV_OK) return cli_pv_error("pv_get", idx, rc);
    fputs(",\"vector\":[", stdout);
    for (uint32_t i = 0; i < o.dim; i++) printf("%s%.9g", i ? "," : "", (double)b->vec[i]);
    putchar(']');
  }
  fputs("}\n", stdout);
  return CLI_OK;
}

char *cli_quote(char *buf, size_t cap, const char *s, size_t n) {
  /* Room for the quotes, "..." and a NUL; an escape takes at most six. */
  size_t o = 0, limit = cap > 12 ? cap - 12 : 0;
  const unsigned char *p = (const unsigned char *)s;
  buf[o++] = '"';
  size_t i = 0;
  while (i < n && o < limit) {
    size_t k = cli_utf8_seq(p + i, n - i);
    unsigned c = p[i];
    if (k == 1 && (c == '"' || c == '\\')) {
      if (o + 2 > limit) break;
      buf[o++] = '\\';
      buf[o++] = (char)c;
    } else if (k == 0 || c < 0x20 || c == 0x7f || (k == 2 && c == 0xC2 && p[i + 1] < 0xA0)) {
      unsigned v = k == 2 ? p[i + 1] : c;
      if (o + 6 > limit) break;
      o += (size_t)snprintf(buf + o, 7, k == 0 ? "\\x%02x" : "\\u%04x", v);
      if (k == 0) k = 1;
    } else {
      if (o + k > limit) break;
      memcpy(buf + o, p + i, k);
      o += k;
    }
    i += k;
  }
  buf[o++] = '"';
  if (i < n) {
    memcpy(buf + o, "...", 3);
    o += 3;
  }
  buf[o] = '\0';
  return buf;
}
