/* SPDX-License-Identifier: MIT */
/*
 * Attributes as JSON text: the strict parser (RFC 8259) that writes the
 * binary encoding of attr.h, and the printer that writes it back as
 * compact JSON.
 *
 * The parser is one loop over an explicit stack of open containers rather
 * than recursive descent: the depth comes from the user's text, and the
 * WebAssembly stack is 64 KB. It writes the encoding as it reads; a
 * container's size and count varints go in front of its elements when it
 * closes (pv__attr_close), and its names are checked for duplicates then.
 * Every error names the byte offset in the text, also in pv_errinfo's
 * offset, and what was expected there.
 */
#include <string.h>

#include "attr/encoding.h"

/* ------------------------------------------------------------------------ */
/* Parser                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct jp {
  pv_index *idx;
  const char *s;
  size_t len, i;   /* the text, and where the parser is */
  const char *what;
  pv_buf *out;
  size_t base;     /* out->len before: the encoding starts there */
} jp;

/* Set PV_INVALID: "<what>: <problem> at byte <at>[: <hint>]". */
static int fail(jp *j, size_t at, const char *problem, const char *hint) {
  pv__error(j->idx, PV_INVALID, "%s: %s at byte %zu%s%s", j->what, problem, at, hint ? ": " : "",
            hint ? hint : "");
  pv__error_offset(j->idx, (int64_t)at);
  return PV_INVALID;
}

/* What was expected at byte at: "expected X at byte N", or at the end of
 * the text "unexpected end of text at byte N: expected X". */
static int expected(jp *j, size_t at, const char *x, const char *hint) {
  char msg[80] = "expected ";
  size_t n = strlen(x);
  memcpy(msg + 9, x, n + 1);
  return at < j->len ? fail(j, at, msg, hint) : fail(j, at, "unexpected end of text", msg);
}

static int nomem(jp *j) {
  return pv__error(j->idx, PV_NOMEM, "%s: out of memory", j->what);
}

static int too_large(jp *j) {
  return fail(j, j->i, "too large", "more than 65536 bytes once encoded");
}

#define TRY(call)            \
  do {                       \
    int rc_ = (call);        \
    if (rc_) return rc_;     \
  } while (0)

static int grow(jp *j, size_t extra) {
  return pv__buf_reserve(j->idx, j->out, extra) ? nomem(j) : PV_OK;
}

static int put(jp *j, const void *p, size_t n) {
  if (grow(j, n)) return PV_NOMEM;
  memcpy(j->out->p + j->out->len, p, n);
  j->out->len += n;
  return j->out->len - j->base > PV_MAX_ATTR_BYTES ? too_large(j) : PV_OK;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void skip_ws(jp *j) {
  while (j->i < j->len && is_ws(j->s[j->i])) j->i++;
}

static int starts(const jp *j, size_t at, const char *word) {
  size_t n = strlen(word);
  return j->len - at >= n && memcmp(j->s + at, word, n) == 0;
}

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* The 4 hex digits at s[at..at+4) (len bytes in all) as a number, or -1. */
static long hex4(const char *s, size_t len, size_t at) {
  if (at > len || len - at < 4) return -1;
  long v = 0;
  for (int k = 0; k < 4; k++) {
    int h = hex(s[at + k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

static size_t utf8_put(uint8_t *p, uint32_t cp) {
  size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  for (size_t k = n - 1; k > 0; k--, cp >>= 6) p[k] = (uint8_t)(0x80 | (cp & 0x3f));
  p[0] = (uint8_t)(n == 1 ? cp : (0xf00u >> n) | cp); /* 0xc0, 0xe0 or 0xf0 and the top bits */
  return n;
}

/* Contract in encoding.h. One decoder for the JSON parser and the filter
 * lexer: run through twice, to measure and then to write, rather than
 * growing a buffer as it goes. */
int pv__str_decode(const char *s, size_t len, size_t at, char *dst, size_t *n, size_t *end) {
  static const char FROM[] = "\"\\/bfnrt", TO[] = "\"\\/\b\f\n\r\t";
  char q = s[at];
  size_t i = at + 1, o = 0;
  for (;;) {
    size_t r = i;
    while (r < len && s[r] != q && s[r] != '\\' && (uint8_t)s[r] >= 0x20) r++;
    /* A run ends at an ASCII byte or the end, never inside a character. */
    size_t ok = pv__utf8_prefix(s + i, r - i);
    *end = i + ok;
    if (ok < r - i) return PV_STR_UTF8;
    if (dst) memcpy(dst + o, s + i, r - i);
    o += r - i;
    *end = r;
    if (r >= len || (s[r] == '\\' && r + 1 >= len)) { /* the text ends */
      *end = at;
      return PV_STR_UNCLOSED;
    }
    if (s[r] == q) break;
    if (s[r] != '\\') return PV_STR_CONTROL;
    char c = s[r + 1];
    uint8_t b[4];
    size_t bn = 1;
    i = r + 2;
    if (c == 'u') {
      long cp = hex4(s, len, r + 2), lo = -1;
      if (cp < 0) return PV_STR_HEX;
      i = r + 6;
      if (cp >= 0xd800 && cp <= 0xdbff && len - i >= 2 && s[i] == '\\' && s[i + 1] == 'u')
        lo = hex4(s, len, i + 2);
      if (cp >= 0xd800 && cp <= 0xdfff) {
        if (lo < 0xdc00 || lo > 0xdfff) return PV_STR_SURROGATE;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i += 6;
      }
      bn = utf8_put(b, (uint32_t)cp);
    } else if (c == '\'' && q == '\'') {
      b[0] = '\'';
    } else {
      const char *f = memchr(FROM, c, sizeof FROM - 1);
      if (!f || !c) return PV_STR_ESCAPE;
      b[0] = (uint8_t)TO[f - FROM];
    }
    if (dst) memcpy(dst + o, b, bn);
    o += bn;
  }
  *n = o;
  *end = *end + 1;
  return PV_OK;
}

/* Contract in encoding.h. */
const char *pv__str_error(int kind, const char **hint) {
  static const char *const MSG[][2] = {
      {"unterminated string", NULL},
      {"control character in a string", "escape it, as \\n or \\u0001"},
      {"invalid escape", "use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX"},
      {"invalid \\u escape", "it takes 4 hex digits"},
      {"lone surrogate \\u escape", "write a pair, or the character itself"},
      {"invalid UTF-8", NULL},
  };
  *hint = MSG[kind - 1][1];
  return MSG[kind - 1][0];
}

/* The string whose opening quote is at j->i: appends its length varint and
 * its bytes, and steps past the closing quote. */
static int string(jp *j) {
  size_t n, end;
  int k = pv__str_decode(j->s, j->len, j->i, NULL, &n, &end);
  if (k) {
    const char *hint, *m = pv__str_error(k, &hint);
    return fail(j, end, m, hint);
  }
  if (n > PV_MAX_ATTR_BYTES) return too_large(j);
  TRY(grow(j, 5 + n));
  uint8_t *p = j->out->p + j->out->len;
  size_t vs = pv__varint_put(p, (uint32_t)n);
  pv__str_decode(j->s, j->len, j->i, (char *)p + vs, &n, &end);
  j->out->len += vs + n;
  j->i = end;
  return j->out->len - j->base > PV_MAX_ATTR_BYTES ? too_large(j) : PV_OK;
}

/* Why a value cannot start at j->i: "expected a value", with a hint for
 * the usual slips (JavaScript's literals, single quotes, comments). */
static int not_a_value(jp *j) {
  size_t at = j->i;
  const char *hint = NULL;
  if (at < j->len) {
    char c = j->s[at];
    if (c == '\'') hint = "strings take double quotes";
    else if (c == '/') hint = "JSON has no comments";
    else if (c == '+') hint = "numbers take no plus sign";
    else if (c == '.') hint = "numbers start with a digit: 0.5";
    else if (starts(j, at, "NaN") || starts(j, at, "Infinity") || starts(j, at, "-Infinity"))
      hint = "numbers must be finite";
    else if (starts(j, at, "undefined")) hint = "use null";
    else if (starts(j, at, "True") || starts(j, at, "False") || starts(j, at, "None") ||
             starts(j, at, "Null"))
      hint = "true, false and null are lowercase";
  }
  return expected(j, at, "a value", hint);
}

static int number(jp *j) {
  size_t end;
  double x;
  int rc = pv__num_parse(j->s + j->i, j->len - j->i, &end, &x);
  if (rc == PV_NUM_DIGIT) {
    if (end == 1 && starts(j, j->i, "-Infinity")) return not_a_value(j);
    return expected(j, j->i + end, "a digit", NULL);
  }
  if (rc == PV_NUM_ZERO) return fail(j, j->i + end, "digit after a leading 0", "write 7, not 07");
  if (rc == PV_NUM_RANGE)
    return fail(j, j->i, "number out of range", "beyond 1.7976931348623157e308");
  uint8_t b[9];
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  b[0] = PV_A_NUM;
  for (int k = 0; k < 8; k++) b[1 + k] = (uint8_t)(u >> (8 * k));
  j->i += end;
  return put(j, b, sizeof b);
}

/* For messages: the name at encoded member m, quoted, cut to 40 bytes on a
 * character boundary, with quotes and control characters shown as '?'. */
static void quote_name(const uint8_t *m, char *out) {
  uint32_t n = pv__varint_get(&m);
  size_t k = n, o = 0;
  if (k > 40) {
    k = 40;
    while (k && (m[k] & 0xc0) == 0x80) k--;
  }
  out[o++] = '"';
  for (size_t i = 0; i < k; i++) out[o++] = m[i] < 0x20 || m[i] == '"' ? '?' : (char)m[i];
  if (k < n) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o++] = '"';
  out[o] = '\0';
}

/* The byte offset of the name of member number k of the object whose '{'
 * is at text offset open: the text up to its '}' is valid JSON by now, so
 * a scan that only follows strings and brackets finds it. */
static size_t name_offset(const jp *j, size_t open, int64_t k) {
  size_t i = open + 1;
  int depth = 1, want_name = 1;
  for (;;) {
    char c = j->s[i];
    if (c == '"') {
      if (depth == 1 && want_name) {
        if (k-- == 0) return i;
        want_name = 0;
      }
      for (i++; j->s[i] != '"'; i++)
        if (j->s[i] == '\\') i++;
    } else if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      depth--;
    } else if (c == ',' && depth == 1) {
      want_name = 1;
    }
    i++;
  }
}

typedef struct jframe {
  size_t start; /* offset in out of the container's tag */
  size_t open;  /* offset in the text of its '{' or '[' */
  uint32_t count;
  uint8_t type;
} jframe;

static int parse(jp *j) {
  jframe st[PV_ATTR_DEPTH];
  int depth = 0;
  skip_ws(j);
  if (starts(j, j->i, "null")) {
    j->i += 4;
    goto end;
  }
  if (j->i >= j->len || j->s[j->i] != '{')
    return expected(j, j->i, "a JSON object or null",
                    j->i < j->len && j->s[j->i] == '[' ? "not an array" : NULL);

value: /* a value starts at j->i, after white space */
  if (j->i >= j->len) return not_a_value(j);
  switch (j->s[j->i]) {
    case '{':
    case '[': {
      if (depth == PV_ATTR_DEPTH) return fail(j, j->i, "nested deeper than 64 levels", NULL);
      uint8_t tag = j->s[j->i] == '{' ? PV_A_OBJ : PV_A_ARR;
      st[depth++] = (jframe){j->out->len, j->i, 0, tag};
      TRY(put(j, &tag, 1));
      j->i++;
      skip_ws(j);
      if (j->i < j->len && j->s[j->i] == (tag == PV_A_OBJ ? '}' : ']')) {
        j->i++;
        goto close;
      }
      if (tag == PV_A_OBJ) goto member;
      goto value;
    }
    case '"': {
      uint8_t tag = PV_A_STR;
      TRY(put(j, &tag, 1));
      TRY(string(j));
      break;
    }
    case 't':
    case 'f':
    case 'n': {
      static const char *const word[] = {"null", "false", "true"};
      uint8_t tag = j->s[j->i] == 'n' ? PV_A_NULL : j->s[j->i] == 'f' ? PV_A_FALSE : PV_A_TRUE;
      if (!starts(j, j->i, word[tag])) return not_a_value(j);
      j->i += strlen(word[tag]);
      TRY(put(j, &tag, 1));
      break;
    }
    default:
      if (j->s[j->i] != '-' && (j->s[j->i] < '0' || j->s[j->i] > '9')) return not_a_value(j);
      TRY(number(j));
  }
  goto after;

member: /* a member's name starts at j->i, after white space */
  if (j->i >= j->len || j->s[j->i] != '"')
    return expected(j, j->i, "a name in double quotes", j->i < j->len && j->s[j->i] == '\''
                                                          ? "JSON takes double quotes" : NULL);
  TRY(string(j));
  skip_ws(j);
  if (j->i >= j->len || j->s[j->i] != ':') return expected(j, j->i, "\":\"", NULL);
  j->i++;
  skip_ws(j);
  goto value;

after: /* a value of the container on top ended just before j->i */
  if (depth == 0) goto end;
  {
    jframe *f = &st[depth - 1];
    char close = f->type == PV_A_OBJ ? '}' : ']';
    f->count++;
    skip_ws(j);
    if (j->i < j->len && j->s[j->i] == ',') {
      size_t comma = j->i++;
      skip_ws(j);
      if (j->i < j->len && j->s[j->i] == close)
        return fail(j, comma, "trailing comma", "JSON allows none");
      if (f->type == PV_A_OBJ) goto member;
      goto value;
    }
    if (j->i < j->len && j->s[j->i] == close) {
      j->i++;
      goto close;
    }
    return expected(j, j->i, f->type == PV_A_OBJ ? "\",\" or \"}\"" : "\",\" or \"]\"", NULL);
  }

close: /* the container on top ended just before j->i */
  {
    jframe *f = &st[depth - 1];
    if (f->type == PV_A_OBJ) {
      const uint8_t *m = j->out->p + f->start + 1;
      int64_t d = pv__attr_first_dup(m, f->count);
      if (d >= 0) {
        for (int64_t k = 0; k < d; k++) {
          const uint8_t *q = m;
          uint32_t nl = pv__varint_get(&q);
          m = q + nl + pv__attr_size(q + nl);
        }
        char name[64], msg[80];
        quote_name(m, name);
        memcpy(msg, "duplicate name ", 15);
        memcpy(msg + 15, name, strlen(name) + 1);
        return fail(j, name_offset(j, f->open, d), msg, NULL);
      }
    }
    if (depth == 1 && f->count == 0) { /* {}: stored as nothing */
      j->out->len = f->start;
    } else {
      if (pv__attr_close(j->idx, j->out, f->start, f->count)) return nomem(j);
      if (j->out->len - j->base > PV_MAX_ATTR_BYTES) return too_large(j);
    }
    depth--;
    goto after;
  }

end:
  skip_ws(j);
  if (j->i < j->len) return fail(j, j->i, "text after the end", "one object only");
  return PV_OK;
}

/* Contract in attr.h. */
int pv__attr_parse(pv_index *idx, const char *json, size_t len, const char *what, pv_buf *out) {
  jp j = {idx, json, len, 0, what ? what : "attributes", out, out->len};
  int rc = parse(&j);
  if (rc) out->len = j.base;
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Printer                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct jw {
  char *buf;
  size_t cap, len; /* len: what the whole text needs so far */
} jw;

static void w_put(jw *w, const void *p, size_t n) {
  if (w->len < w->cap) memcpy(w->buf + w->len, p, n < w->cap - w->len ? n : w->cap - w->len);
  w->len += n;
}

static void w_char(jw *w, char c) { w_put(w, &c, 1); }

/* A string, escaped as RFC 8259 requires (quote, backslash, control
 * characters) and nothing else: other characters go out as raw UTF-8. */
static void w_string(jw *w, const uint8_t *s, size_t n) {
  static const char HEX[] = "0123456789abcdef";
  w_char(w, '"');
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    w_put(w, s + run, i - run);
    run = i + 1;
    char e[6] = {'\\', (char)c, 0, 0, 0, 0};
    size_t en = 2;
    if (c == '\n') e[1] = 'n';
    else if (c == '\t') e[1] = 't';
    else if (c == '\r') e[1] = 'r';
    else if (c == '\b') e[1] = 'b';
    else if (c == '\f') e[1] = 'f';
    else if (c < 0x20) {
      memcpy(e + 1, "u00", 3);
      e[4] = HEX[c >> 4];
      e[5] = HEX[c & 15];
      en = 6;
    }
    w_put(w, e, en);
  }
  w_put(w, s + run, n - run);
  w_char(w, '"');
}

/* The value v (decoded); depth is bounded by the encoding's, 64. */
static void w_value(jw *w, const pv_aval *v) {
  switch (v->type) {
    case PV_A_NULL: w_put(w, "null", 4); return;
    case PV_A_FALSE: w_put(w, "false", 5); return;
    case PV_A_TRUE: w_put(w, "true", 4); return;
    case PV_A_NUM: {
      char b[PV_NUM_CHARS];
      w_put(w, b, pv__num_format(v->num, b));
      return;
    }
    case PV_A_STR: w_string(w, v->p, v->len); return;
    default: {
      int obj = v->type == PV_A_OBJ;
      const uint8_t *cur = v->p;
      const char *name;
      size_t nl;
      pv_aval e;
      w_char(w, obj ? '{' : '[');
      for (int first = 1; pv__attr_next(v, &cur, &name, &nl, &e); first = 0) {
        if (!first) w_char(w, ',');
        if (obj) {
          w_string(w, (const uint8_t *)name, nl);
          w_char(w, ':');
        }
        w_value(w, &e);
      }
      w_char(w, obj ? '}' : ']');
    }
  }
}

/* Contract in attr.h. */
int pv__attr_print(const uint8_t *a, size_t n, char *buf, size_t cap, size_t *len_out) {
  jw w = {buf, buf ? cap : 0, 0};
  pv_aval root;
  pv__attr_root(a, n, &root);
  w_value(&w, &root);
  *len_out = w.len;
  return PV_OK;
}
