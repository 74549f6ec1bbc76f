/* SPDX-License-Identifier: MIT */
/*
 * JSON Lines: one JSON value per line (https://jsonlines.org), read front
 * to back with one line in memory at a time.
 *
 * Lines may be of any length up to CLI_JSONL_MAX_LINE: the line buffer
 * grows as needed, and a longer line is an error rather than an unbounded
 * allocation (a file without newlines would otherwise be read whole into
 * memory before anything could be said about it). CRLF line ends are
 * accepted, blank lines skipped, a UTF-8 byte order mark at the start of
 * the file ignored; line numbers and byte columns in messages count them
 * all, so they match what an editor shows.
 *
 * The second half parses one line as a document (docs.jsonl), as the
 * attributes of a vector (--attributes), or as a query: which members are
 * read and which skipped is all that differs. A document's or a query's
 * "text" is decoded here, so the library always receives valid UTF-8: a
 * bad byte or a lone surrogate escape is reported at its own column by the
 * JSON scanner, which a byte offset into the decoded text could not do.
 */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cli.h"

#define JSONL_CHUNK (64u << 10) /* bytes read from the file at a time */

int cli_jsonl_open(cli_jsonl *r, const char *path) {
  memset(r, 0, sizeof *r);
  r->path = path;
  int fd = cli_open_regular(path, "save the lines to a file first", &r->size);
  if (fd < 0) return CLI_FAILED;
  r->f = fdopen(fd, "rb");
  r->chunk = malloc(JSONL_CHUNK);
  if (!r->f || !r->chunk) {
    cli_error("%s: cannot open: %s", path, r->f ? "out of memory" : strerror(errno));
    if (!r->f) close(fd);
    cli_jsonl_close(r);
    return CLI_FAILED;
  }
  return CLI_OK;
}

void cli_jsonl_close(cli_jsonl *r) {
  if (r->f) fclose(r->f);
  free(r->buf);
  free(r->chunk);
  r->f = NULL;
  r->buf = r->chunk = NULL;
  r->cap = r->len = 0;
}

int cli_jsonl_rewind(cli_jsonl *r) {
  if (fseeko(r->f, 0, SEEK_SET) != 0) {
    cli_error("%s: cannot read it again: %s", r->path, strerror(errno));
    return CLI_FAILED;
  }
  r->pos = r->line = r->docs = 0;
  r->chunk_len = r->chunk_pos = 0;
  r->eof = 0;
  return CLI_OK;
}

void cli_jsonl_error(const cli_jsonl *r, size_t at, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cli_error("%s:%llu:%llu: %s", r->path, (unsigned long long)r->line,
            (unsigned long long)(r->col0 + at + 1), msg);
}

/* Append n bytes to the line, within the limit. */
static int line_put(cli_jsonl *r, const char *p, size_t n) {
  if (r->len + n > CLI_JSONL_MAX_LINE) {
    char b[32];
    cli_error("%s:%llu: the line is longer than %s, the most one line may hold; is this a "
              "JSON Lines file (one document per line)?",
              r->path, (unsigned long long)r->line, cli_bytes(b, CLI_JSONL_MAX_LINE));
    return CLI_FAILED;
  }
  if (r->len + n + 1 > r->cap) {
    size_t c = r->cap ? r->cap : 4096;
    while (c < r->len + n + 1) c *= 2;
    char *q = realloc(r->buf, c);
    if (!q) {
      cli_error("%s:%llu: out of memory for a line of %zu bytes", r->path,
                (unsigned long long)r->line, r->len + n);
      return CLI_FAILED;
    }
    r->buf = q;
    r->cap = c;
  }
  memcpy(r->buf + r->len, p, n);
  r->len += n;
  return CLI_OK;
}

/* The next raw line (without its '\n') into r->buf: 1, or 0 at the end
 * of the file, or -1 reported. */
static int raw_line(cli_jsonl *r) {
  r->len = 0;
  r->line++;
  int any = 0;
  for (;;) {
    if (r->chunk_pos == r->chunk_len) {
      if (r->eof) break;
      r->chunk_len = fread(r->chunk, 1, JSONL_CHUNK, r->f);
      r->chunk_pos = 0;
      if (r->chunk_len == 0) {
        if (ferror(r->f)) {
          cli_error("%s:%llu: cannot read: %s", r->path, (unsigned long long)r->line,
                    strerror(errno));
          return -1;
        }
        r->eof = 1;
        break;
      }
    }
    any = 1;
    const char *start = r->chunk + r->chunk_pos;
    size_t avail = r->chunk_len - r->chunk_pos;
    const char *nl = memchr(start, '\n', avail);
    size_t take = nl ? (size_t)(nl - start) : avail;
    if (line_put(r, start, take) != CLI_OK) return -1;
    r->chunk_pos += take + (nl ? 1 : 0);
    r->pos += take + (nl ? 1 : 0);
    if (nl) break;
  }
  if (!any) return 0;
  if (!r->buf && line_put(r, "", 0) != CLI_OK) return -1; /* an empty last line */
  r->buf[r->len] = '\0';
  return 1;
}

int cli_jsonl_next(cli_jsonl *r, char **line, size_t *len) {
  for (;;) {
    int rc = raw_line(r);
    if (rc <= 0) return rc;
    char *p = r->buf;
    size_t n = r->len;
    r->col0 = 0;
    if (r->line == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
      p += 3; /* a byte order mark, as some Windows tools write */
      n -= 3;
      r->col0 = 3;
    }
    if (n && p[n - 1] == '\r') p[--n] = '\0';
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r')) i++;
    if (i == n) continue; /* blank */
    r->docs++;
    *line = p;
    *len = n;
    return 1;
  }
}

/* ------------------------------------------------------------------------ */
/* One line as a document                                                   */
/* ------------------------------------------------------------------------ */

void cli_jdoc_free(cli_jdoc *d) {
  free(d->key);
  free(d->vec);
  free(d->text);
  free(d->name);
  memset(d, 0, sizeof *d);
}

/* The array of numbers at j's position into d->vec. */
static int parse_vector(cli_json *j, cli_jdoc *d) {
  d->vec_at = j->pos;
  d->dim = 0;
  if (cli_json_peek(j) != '[') {
    if (cli_json_peek(j) == 'n' && j->len - j->pos >= 4 && !memcmp(j->s + j->pos, "null", 4))
      return cli_json_fail(j, j->pos, "\"vector\" is null; it must be an array of numbers");
    return cli_json_fail(j, j->pos, "\"vector\" must be an array of numbers");
  }
  j->pos++;
  if (cli_json_peek(j) == ']')
    return cli_json_fail(j, j->pos, "\"vector\" is empty; it needs at least one number");
  for (;;) {
    cli_json_ws(j);
    size_t at = j->pos;
    int c = cli_json_peek(j);
    int next = at + 1 < j->len ? (unsigned char)j->s[at + 1] : -1;
    int numeric = c == '-' || (c >= '0' && c <= '9') || c == 'N' || c == 'I' || c == 'i' ||
                  (c == 'n' && next == 'a');
    if (!numeric) {
      if (c == ']' && d->dim > 0)
        return cli_json_fail(j, at, "a trailing comma before ']' is not JSON");
      const char *what = c == '"' ? "a string" : c == '[' ? "an array" : c == '{' ? "an object"
                         : c == 'n' ? "null" : c == 't' || c == 'f' ? "a boolean"
                         : c == ',' ? "','" : c < 0 ? "the end of the line" : "something else";
      return cli_json_fail(j, at, "expected a number in \"vector\", found %s", what);
    }
    double v;
    int bad = cli_json_number(j, &v);
    if (bad && !j->range) {
      /* Say where: the scanner's message does not know it is in a vector. */
      char msg[sizeof j->err];
      snprintf(msg, sizeof msg, "%s", j->err);
      j->failed = 0;
      return cli_json_fail(j, j->err_at, "element %zu of \"vector\": %s", d->dim, msg);
    }
    if (bad) { /* beyond a double is beyond a float: said below */
      j->failed = j->range = 0;
      v = HUGE_VAL;
    }
    float f = (float)v;
    if (!isfinite(f))
      return cli_json_fail(j, at, "element %zu of \"vector\", %.*s, is too large for a 32-bit "
                                  "float (at most 3.4e38)",
                           d->dim, (int)(j->pos - at > 24 ? 24 : j->pos - at), j->s + at);
    if (d->dim == PV_MAX_DIM)
      return cli_json_fail(j, at, "\"vector\" has more than %u values, the most an index "
                                  "takes",
                           PV_MAX_DIM);
    if (d->dim == d->vec_cap) {
      size_t cap = d->vec_cap ? 2 * d->vec_cap : 64;
      float *q = realloc(d->vec, cap * sizeof *q);
      if (!q) return cli_json_fail(j, at, "out of memory reading \"vector\"");
      d->vec = q;
      d->vec_cap = cap;
    }
    d->vec[d->dim++] = f;
    c = cli_json_peek(j);
    if (c == ']') {
      j->pos++;
      return 0;
    }
    if (c != ',') {
      if (c < 0) return cli_json_fail(j, d->vec_at, "\"vector\" is not closed by ']'");
      return cli_json_fail(j, j->pos, "expected ',' or ']' in \"vector\", found %s",
                           c == '"' ? "a string" : "another value");
    }
    j->pos++;
  }
}

/* A "key" member's value: a string, or null for none. */
static int parse_key(cli_json *j, cli_jdoc *d) {
  int c = cli_json_peek(j);
  d->key_at = j->pos;
  if (c == 'n') {
    if (j->len - j->pos >= 4 && !memcmp(j->s + j->pos, "null", 4)) {
      j->pos += 4;
      return 0;
    }
  }
  if (c != '"') return cli_json_fail(j, j->pos, "\"key\" must be a string (or null: no key)");
  if (cli_json_string(j, &d->key, &d->key_cap, &d->key_len)) return -1;
  d->has_key = 1;
  return 0;
}

/* What the value at j's position is, for "must be a string, found ...". */
static const char *kind_of(cli_json *j) {
  int c = cli_json_peek(j);
  return c == '[' ? "an array" : c == '{' ? "an object" : c == 't' || c == 'f' ? "a boolean"
         : c == '-' || (c >= '0' && c <= '9') ? "a number" : "something else";
}

/* A "text" member's value: a string (decoded to valid UTF-8), or null for
 * none. */
static int parse_text(cli_json *j, cli_jdoc *d) {
  int c = cli_json_peek(j);
  d->text_at = j->pos;
  if (c == 'n' && j->len - j->pos >= 4 && !memcmp(j->s + j->pos, "null", 4)) {
    j->pos += 4;
    return 0;
  }
  if (c != '"')
    return cli_json_fail(j, j->pos, "\"text\" must be a string (or null: no text), found %s",
                         kind_of(j));
  if (cli_json_string(j, &d->text, &d->text_cap, &d->text_len)) return -1;
  d->has_text = 1;
  return 0;
}

int cli_jdoc_parse(cli_jdoc *d, cli_jsonl *r, char *line, size_t len, int mode) {
  cli_json j;
  cli_json_init(&j, line, len);
  d->has_key = d->has_vector = d->has_text = 0;
  d->key_len = d->dim = d->text_len = 0;
  d->attr = NULL;
  d->attr_len = 0;
  d->key_at = d->vec_at = d->attr_at = d->text_at = 0;
  int seen_key = 0, seen_attr = 0, seen_text = 0;
  /* For --attributes: where the "key" member lies, to blank it out. */
  size_t key_from = 0, key_to = 0, prev_comma = 0;
  int have_prev_comma = 0;

  int c = cli_json_peek(&j);
  if (mode == CLI_LINE_ATTRS && c == 'n' && len - j.pos >= 4 && !memcmp(line + j.pos, "null", 4)) {
    j.pos += 4;
    if (cli_json_end(&j)) goto fail;
    return CLI_OK; /* no attributes */
  }
  if (c != '{') {
    cli_json_fail(&j, j.pos, mode == CLI_LINE_ATTRS
                                 ? "each line must be a JSON object: the attributes of its "
                                   "vector ({} for none)"
                                 : mode == CLI_LINE_QUERY
                                     ? "each line must be a JSON object with a \"vector\" or "
                                       "a \"text\" member"
                                     : "each line must be a JSON object with a \"vector\" member");
    goto fail;
  }
  size_t open = j.pos++;
  if (cli_json_peek(&j) == '}') {
    j.pos++;
  } else {
    for (;;) {
      cli_json_ws(&j);
      size_t member = j.pos;
      if (cli_json_string(&j, &d->name, &d->name_cap, &d->name_len)) goto fail;
      if (cli_json_expect(&j, ':', "after a member name")) goto fail;
      const char *name = d->name;
      size_t nl = d->name_len;
#define IS(lit) (nl == sizeof lit - 1 && memcmp(name, lit, nl) == 0)
      if (IS("key") && mode != CLI_LINE_QUERY) {
        if (seen_key++) {
          cli_json_fail(&j, member, "a second \"key\" member; a document has one key");
          goto fail;
        }
        if (parse_key(&j, d)) goto fail;
        key_from = member;
        key_to = j.pos;
      } else if (IS("vector") && mode != CLI_LINE_ATTRS) {
        if (d->has_vector) {
          cli_json_fail(&j, member, "a second \"vector\" member; a document has one vector");
          goto fail;
        }
        if (parse_vector(&j, d)) goto fail;
        d->has_vector = 1;
      } else if (IS("vector")) {
        cli_json_fail(&j, member, "a \"vector\" member in a line of attributes: the vectors "
                                  "come from the vector file (is this a file of documents? "
                                  "then build from it alone)");
        goto fail;
      } else if (IS("attributes") && mode == CLI_LINE_DOC) {
        if (seen_attr++) {
          cli_json_fail(&j, member, "a second \"attributes\" member");
          goto fail;
        }
        int v = cli_json_peek(&j);
        size_t at = j.pos;
        if (v != '{' && !(v == 'n' && len - at >= 4 && !memcmp(line + at, "null", 4))) {
          cli_json_fail(&j, at, "\"attributes\" must be an object (or null: none)");
          goto fail;
        }
        if (cli_json_skip(&j)) goto fail;
        d->attr = line + at;
        d->attr_len = j.pos - at;
        d->attr_at = at;
      } else if (IS("text") && mode != CLI_LINE_ATTRS) {
        if (seen_text++) {
          cli_json_fail(&j, member, "a second \"text\" member; a %s has one text",
                        mode == CLI_LINE_QUERY ? "query" : "document");
          goto fail;
        }
        if (parse_text(&j, d)) goto fail;
      } else {
        /* Another member: checked to be JSON, otherwise ignored (the
         * user's own). */
        if (cli_json_skip(&j)) goto fail;
      }
#undef IS
      size_t after = j.pos;
      int n = cli_json_peek(&j);
      if (n == '}') {
        if (mode == CLI_LINE_ATTRS && seen_key && key_to == after) {
          /* The last member: blank the comma before it too. */
          if (have_prev_comma) key_from = prev_comma;
        }
        j.pos++;
        break;
      }
      if (n != ',') {
        if (n < 0)
          cli_json_fail(&j, open, "the object is not closed by '}': the line ends first");
        else
          cli_json_fail(&j, j.pos, "expected ',' or '}' after a member, found %s",
                        n == '"' ? "a string (a missing comma?)" : "something else");
        goto fail;
      }
      if (mode == CLI_LINE_ATTRS && seen_key && key_to == after) key_to = j.pos + 1;
      prev_comma = j.pos;
      have_prev_comma = 1;
      j.pos++;
      if (cli_json_peek(&j) == '}') {
        cli_json_fail(&j, j.pos, "a trailing comma before '}' is not JSON");
        goto fail;
      }
    }
  }
  if (cli_json_end(&j)) goto fail;
  if (mode == CLI_LINE_DOC && !d->has_vector) {
    /* The library keeps one vector per document: text alone is no document. */
    cli_json_fail(&j, open, d->has_text ? "no \"vector\" member: a document with \"text\" "
                                          "needs a vector too (every document has one)"
                                        : "no \"vector\" member: each line needs \"vector\": "
                                          "[numbers]");
    goto fail;
  }
  if (mode == CLI_LINE_QUERY && !d->has_vector && !d->has_text) {
    cli_json_fail(&j, open, "no \"vector\" or \"text\" member: a query needs \"vector\": "
                            "[numbers], \"text\": \"words\", or both");
    goto fail;
  }
  if (mode == CLI_LINE_ATTRS) {
    /* The line is the attributes; the key is not one of them. Blanked with
     * spaces rather than cut out, so that an offset the library reports in
     * the attributes is still the offset in the line. */
    if (seen_key) memset(line + key_from, ' ', key_to - key_from);
    d->attr = line;
    d->attr_len = len;
    d->attr_at = 0;
  }
  return CLI_OK;
fail:
  cli_jsonl_error(r, j.err_at, "%s", j.err);
  return CLI_FAILED;
}
