/* SPDX-License-Identifier: MIT */
/*
 * A small strict JSON scanner (RFC 8259) for the CLI's text inputs (JSON
 * Lines documents, pv_fields' answer) and JSON writing helpers for its
 * outputs.
 *
 * It scans text in place and builds no tree: a caller walks an object
 * member by member, decodes the strings and numbers it wants and skips the
 * rest, so a line costs no allocation beyond the decoded strings. Every
 * error keeps the byte offset of the byte at fault, because a user fixing
 * line 17 of a file needs the column, not "invalid JSON".
 *
 * The attribute values themselves are the library's to judge
 * (pv__attr_parse): here they are only checked to be JSON, to find where
 * they end.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Nesting the scanner follows before it calls the text hostile. Deeper
 * than any attributes the library accepts (64 levels), so that the
 * library's own message is the one users see for "too deep", and shallow
 * enough that the recursion cannot exhaust a thread's stack. */
#define JSON_MAX_DEPTH 512

void cli_json_init(cli_json *j, const char *text, size_t len) {
  memset(j, 0, sizeof *j);
  j->s = text;
  j->len = len;
}

int cli_json_fail(cli_json *j, size_t at, const char *fmt, ...) {
  if (j->failed) return -1; /* the first error is the one at fault */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(j->err, sizeof j->err, fmt, ap);
  va_end(ap);
  j->err_at = at;
  j->failed = 1;
  return -1;
}

void cli_json_ws(cli_json *j) {
  while (j->pos < j->len) {
    char c = j->s[j->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    j->pos++;
  }
}

int cli_json_peek(cli_json *j) {
  cli_json_ws(j);
  return j->pos < j->len ? (unsigned char)j->s[j->pos] : -1;
}

/* A byte as a user can read it in a message: 'x' when printable ASCII,
 * else its hex value, "end of line" past the end. */
static const char *shown(cli_json *j, size_t at, char buf[24]) {
  if (at >= j->len) return "the end of the line";
  unsigned char c = (unsigned char)j->s[at];
  if (c == '"') snprintf(buf, 24, "'\"'");
  else if (c > 0x20 && c < 0x7f) snprintf(buf, 24, "\"%c\"", c);
  else snprintf(buf, 24, "byte 0x%02x", c);
  return buf;
}

int cli_json_expect(cli_json *j, char c, const char *context) {
  if (cli_json_peek(j) == (unsigned char)c) {
    j->pos++;
    return 0;
  }
  char b[24];
  return cli_json_fail(j, j->pos, "expected '%c'%s%s, found %s", c, context ? " " : "",
                       context ? context : "", shown(j, j->pos, b));
}

size_t cli_utf8_seq(const unsigned char *p, size_t n) {
  if (n == 0) return 0;
  unsigned c = p[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned min;
  if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000;
  else return 0; /* a continuation byte, an overlong lead (C0, C1) or past U+10FFFF */
  if (n < len) return 0;
  unsigned cp = c & (0x7Fu >> len);
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (p[i] & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

/* Append n bytes to the growable buffer *buf (*cap bytes, *len used). */
static int put(cli_json *j, char **buf, size_t *cap, size_t *len, const char *p, size_t n) {
  if (*len + n + 1 > *cap) {
    size_t c = *cap ? *cap : 64;
    while (c < *len + n + 1) c *= 2;
    char *q = realloc(*buf, c);
    if (!q) return cli_json_fail(j, j->pos, "out of memory decoding a string");
    *buf = q;
    *cap = c;
  }
  memcpy(*buf + *len, p, n);
  *len += n;
  (*buf)[*len] = '\0';
  return 0;
}

/* Four hex digits at j->pos into *out. */
static int hex4(cli_json *j, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    if (j->pos >= j->len) return cli_json_fail(j, j->pos, "the line ends inside a \\u escape");
    char c = j->s[j->pos];
    unsigned d;
    if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
    else return cli_json_fail(j, j->pos, "a \\u escape needs four hex digits");
    v = v << 4 | d;
    j->pos++;
  }
  *out = v;
  return 0;
}

int cli_json_string(cli_json *j, char **buf, size_t *cap, size_t *len) {
  size_t unused;
  if (!len) len = &unused;
  *len = 0;
  if (buf && *buf && *cap) (*buf)[0] = '\0';
  if (cli_json_peek(j) != '"') {
    char b[24];
    return cli_json_fail(j, j->pos, "expected a string, found %s", shown(j, j->pos, b));
  }
  size_t start = j->pos++;
  const unsigned char *s = (const unsigned char *)j->s;
  for (;;) {
    /* The run of bytes that need no decoding, copied at once. */
    size_t run = j->pos;
    while (j->pos < j->len && s[j->pos] != '"' && s[j->pos] != '\\' && s[j->pos] >= 0x20 &&
           s[j->pos] < 0x80)
      j->pos++;
    if (buf && j->pos > run && put(j, buf, cap, len, j->s + run, j->pos - run)) return -1;
    if (j->pos >= j->len)
      return cli_json_fail(j, start, "this string is not closed: the line ends inside it");
    unsigned char c = s[j->pos];
    if (c == '"') {
      j->pos++;
      if (buf && !*buf && put(j, buf, cap, len, "", 0)) return -1; /* "" still gets a buffer */
      return 0;
    }
    if (c < 0x20)
      return cli_json_fail(j, j->pos,
                           "byte 0x%02x (a control character) in a string; write it as an "
                           "escape (\\n, \\t, \\u%04x)",
                           c, c);
    if (c >= 0x80) {
      size_t n = cli_utf8_seq(s + j->pos, j->len - j->pos);
      if (!n) return cli_json_fail(j, j->pos, "invalid UTF-8 (byte 0x%02x) in a string", c);
      if (buf && put(j, buf, cap, len, j->s + j->pos, n)) return -1;
      j->pos += n;
      continue;
    }
    /* A backslash escape. */
    size_t esc = j->pos++;
    if (j->pos >= j->len) return cli_json_fail(j, esc, "the line ends inside an escape");
    char e = j->s[j->pos++], out = 0;
    switch (e) {
      case '"': out = '"'; break;
      case '\\': out = '\\'; break;
      case '/': out = '/'; break;
      case 'b': out = '\b'; break;
      case 'f': out = '\f'; break;
      case 'n': out = '\n'; break;
      case 'r': out = '\r'; break;
      case 't': out = '\t'; break;
      case 'u': break;
      default:
        return cli_json_fail(j, esc, "\\%c is not a JSON escape (\\\" \\\\ \\/ \\b \\f \\n \\r "
                                     "\\t \\uXXXX)",
                             e >= 0x20 && e < 0x7f ? e : '?');
    }
    if (e != 'u') {
      if (buf && put(j, buf, cap, len, &out, 1)) return -1;
      continue;
    }
    unsigned cp;
    if (hex4(j, &cp)) return -1;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
      return cli_json_fail(j, esc, "\\u%04x is a lone low surrogate: not a character", cp);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      /* A pair: \uD83D\uDE00. */
      unsigned lo;
      if (j->pos + 1 >= j->len || j->s[j->pos] != '\\' || j->s[j->pos + 1] != 'u')
        return cli_json_fail(j, esc, "\\u%04x is a high surrogate not followed by a low one",
                             cp);
      j->pos += 2;
      if (hex4(j, &lo)) return -1;
      if (lo < 0xDC00 || lo > 0xDFFF)
        return cli_json_fail(j, esc, "\\u%04x is a high surrogate not followed by a low one",
                             cp);
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    char u[4];
    size_t n;
    if (cp < 0x80) u[0] = (char)cp, n = 1;
    else if (cp < 0x800) u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
      u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
      u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
      u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
      u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    if (buf && put(j, buf, cap, len, u, n)) return -1;
  }
}

int cli_json_number(cli_json *j, double *out) {
  cli_json_ws(j);
  size_t start = j->pos, p = j->pos;
  const char *s = j->s;
  char b[24];
  if (p < j->len && s[p] == '-') p++;
  if (p >= j->len || s[p] < '0' || s[p] > '9') {
    /* Say what the common non-numbers are: NaN and Infinity are not JSON. */
    const char *w = s + start;
    size_t left = j->len - start;
    if ((left >= 3 && (!strncmp(w, "NaN", 3) || !strncmp(w, "nan", 3))) ||
        (left >= 4 && (!strncmp(w, "-NaN", 4) || !strncmp(w, "-nan", 4))))
      return cli_json_fail(j, start, "NaN is not a JSON number (JSON has no NaN or Infinity)");
    if ((left >= 3 && !strncmp(w, "Inf", 3)) || (left >= 4 && !strncmp(w, "-Inf", 4)) ||
        (left >= 3 && !strncmp(w, "inf", 3)) || (left >= 4 && !strncmp(w, "-inf", 4)))
      return cli_json_fail(j, start, "Infinity is not a JSON number (JSON has no NaN or "
                                     "Infinity)");
    return cli_json_fail(j, p < j->len ? p : start, "expected a number, found %s",
                         shown(j, p, b));
  }
  if (s[p] == '0') {
    p++;
    if (p < j->len && s[p] >= '0' && s[p] <= '9')
      return cli_json_fail(j, start, "a number may not start with 0 (JSON has no octal)");
  } else {
    while (p < j->len && s[p] >= '0' && s[p] <= '9') p++;
  }
  if (p < j->len && s[p] == '.') {
    p++;
    if (p >= j->len || s[p] < '0' || s[p] > '9')
      return cli_json_fail(j, p, "expected a digit after the decimal point, found %s",
                           shown(j, p, b));
    while (p < j->len && s[p] >= '0' && s[p] <= '9') p++;
  }
  if (p < j->len && (s[p] == 'e' || s[p] == 'E')) {
    p++;
    if (p < j->len && (s[p] == '+' || s[p] == '-')) p++;
    if (p >= j->len || s[p] < '0' || s[p] > '9')
      return cli_json_fail(j, p, "expected a digit in the exponent, found %s", shown(j, p, b));
    while (p < j->len && s[p] >= '0' && s[p] <= '9') p++;
  }
  j->pos = p;
  if (!out) return 0;
  /* strtod reads from a NUL-terminated copy: the text is not terminated
   * after the number, and a huge run of digits is still a valid number. */
  char small[64], *copy = small;
  size_t n = p - start;
  if (n >= sizeof small && !(copy = malloc(n + 1)))
    return cli_json_fail(j, start, "out of memory reading a number");
  memcpy(copy, s + start, n);
  copy[n] = '\0';
  errno = 0;
  double v = strtod(copy, NULL);
  int range = errno == ERANGE && isinf(v);
  if (copy != small) free(copy);
  if (range) {
    j->range = 1;
    return cli_json_fail(j, start, "%.*s%s is too large for any number (beyond 1.8e308)", n > 24 ? 24 : (int)n,
                         s + start, n > 24 ? "..." : "");
  }
  *out = v; /* an underflow is the nearest value, 0 or a subnormal: fine */
  return 0;
}

static int skip(cli_json *j, int depth);

/* Check and skip the array or object opening at j->pos (its brackets
 * close), depth levels down already. */
static int skip_container(cli_json *j, int depth, char close) {
  size_t open = j->pos++;
  if (depth >= JSON_MAX_DEPTH)
    return cli_json_fail(j, open, "nesting deeper than %d levels", JSON_MAX_DEPTH);
  if (cli_json_peek(j) == (unsigned char)close) {
    j->pos++;
    return 0;
  }
  for (;;) {
    if (close == '}') {
      if (cli_json_string(j, NULL, NULL, NULL)) return -1;
      if (cli_json_expect(j, ':', "after a member name")) return -1;
    }
    if (skip(j, depth + 1)) return -1;
    int c = cli_json_peek(j);
    if (c == close) {
      j->pos++;
      return 0;
    }
    if (c != ',') {
      char b[24];
      return cli_json_fail(j, j->pos, "expected ',' or '%c', found %s", close,
                           shown(j, j->pos, b));
    }
    j->pos++;
    if (cli_json_peek(j) == (unsigned char)close)
      return cli_json_fail(j, j->pos, "a trailing comma before '%c' is not JSON", close);
  }
}

/* The literal w (true, false, null) at j->pos. */
static int word(cli_json *j, const char *w) {
  size_t n = strlen(w);
  if (j->len - j->pos >= n && memcmp(j->s + j->pos, w, n) == 0) {
    j->pos += n;
    return 0;
  }
  char b[24];
  return cli_json_fail(j, j->pos, "expected a JSON value, found %s", shown(j, j->pos, b));
}

/* Check and skip the value at j->pos, depth levels down. */
static int skip(cli_json *j, int depth) {
  int c = cli_json_peek(j);
  switch (c) {
    case '{': return skip_container(j, depth, '}');
    case '[': return skip_container(j, depth, ']');
    case '"': return cli_json_string(j, NULL, NULL, NULL);
    case 't': return word(j, "true");
    case 'f': return word(j, "false");
    case 'n': return word(j, "null");
    default: {
      /* A number, or something that is not a value at all. */
      if (c == '-' || (c >= '0' && c <= '9') || c == 'N' || c == 'I') {
        double v;
        return cli_json_number(j, &v);
      }
      char b[24];
      return cli_json_fail(j, j->pos, "expected a JSON value, found %s", shown(j, j->pos, b));
    }
  }
}

int cli_json_skip(cli_json *j) { return skip(j, 0); }

int cli_json_end(cli_json *j) {
  if (cli_json_peek(j) < 0) return 0;
  char b[24];
  return cli_json_fail(j, j->pos, "expected the end of the line after the JSON value, found %s",
                       shown(j, j->pos, b));
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */
/* ------------------------------------------------------------------------ */

/* The bytes of a string that a terminal could act on are written as
 * escapes even where JSON allows them raw: DEL and the C1 controls
 * (U+0080..U+009F, some terminals take U+009B as an escape sequence), so a
 * key or attribute from a hostile file cannot move the cursor or retitle
 * the window. With space_free, spaces too (as \u0020), so that a value in
 * query's text output never splits a hit in two. */
static void put_char_escaped(FILE *f, const unsigned char *p, size_t n, int space_free) {
  unsigned c = p[0];
  if (n == 1) {
    switch (c) {
      case '"': fputs("\\\"", f); return;
      case '\\': fputs("\\\\", f); return;
      case '\n': fputs("\\n", f); return;
      case '\r': fputs("\\r", f); return;
      case '\t': fputs("\\t", f); return;
      case '\b': fputs("\\b", f); return;
      case '\f': fputs("\\f", f); return;
      default: break;
    }
    if (c < 0x20 || c == 0x7f || (c == ' ' && space_free)) {
      fprintf(f, "\\u%04x", c);
      return;
    }
  } else if (n == 2 && c == 0xC2 && p[1] < 0xA0) {
    fprintf(f, "\\u%04x", (unsigned)p[1]);
    return;
  }
  fwrite(p, 1, n, f);
}

void cli_json_put_string(FILE *f, const char *s, size_t n, int space_free) {
  const unsigned char *p = (const unsigned char *)s;
  fputc('"', f);
  for (size_t i = 0; i < n;) {
    size_t k = cli_utf8_seq(p + i, n - i);
    if (!k) {
      fputs("\\ufffd", f); /* not UTF-8: never printed raw */
      i++;
      continue;
    }
    put_char_escaped(f, p + i, k, space_free);
    i += k;
  }
  fputc('"', f);
}

void cli_json_put_text(FILE *f, const char *json, size_t n, int space_free) {
  const unsigned char *p = (const unsigned char *)json;
  int in_string = 0;
  for (size_t i = 0; i < n;) {
    unsigned c = p[i];
    if (!in_string) {
      if (c == '"') in_string = 1;
      if (c == ' ' && space_free) {
        i++; /* compact JSON has none outside strings; dropping one is harmless */
        continue;
      }
      fputc((int)c, f);
      i++;
      continue;
    }
    if (c == '\\' && i + 1 < n) { /* an escape stays as it is */
      fputc('\\', f);
      fputc(p[i + 1], f);
      i += 2;
      continue;
    }
    if (c == '"') {
      in_string = 0;
      fputc('"', f);
      i++;
      continue;
    }
    size_t k = cli_utf8_seq(p + i, n - i);
    if (!k) {
      fputs("\\ufffd", f);
      i++;
      continue;
    }
    put_char_escaped(f, p + i, k, space_free);
    i += k;
  }
}
