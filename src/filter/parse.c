/* SPDX-License-Identifier: MIT */
/*
 * Filters, compiled: a lexer, a recursive-descent parser and the builder
 * of the pv_fnode tree (filter.h), for the language of docs/FILTER.md.
 *
 * The text is parsed twice: once to check it and count the nodes, path
 * segments, literals and string bytes, then again to fill one allocation
 * of exactly that size. Parsing is cheap next to what a filter is used
 * for, and that saves a temporary tree and the copy into the final block
 * (the whole filter is one block, freed with one call, the contract of
 * pv_filter).
 *
 * The recursion of the parser is bounded: only "(" and "not" nest, each
 * counts one level, and PV_FILTER_DEPTH levels is an error; chains of
 * "and" and "or" are loops that build right-leaning trees
 * (a and b and c is AND(a, AND(b, c))), which the evaluator walks down
 * their right side without recursing.
 */
#include <string.h>

#include "attr/encoding.h"
#include "filter/filter.h"
#include "index.h"

#define MAX_TEXT 65536u

/* ------------------------------------------------------------------------ */
/* Lexer                                                                    */
/* ------------------------------------------------------------------------ */

enum {
  T_END, T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA, T_OP,
  /* keywords, in the order of KEYWORDS */
  T_AND, T_OR, T_NOT, T_IN, T_CONTAINS, T_EXISTS, T_TRUE, T_FALSE, T_NULL,
  T_NUM, T_STR, T_PATH
};
static const char *const KEYWORDS[] = {"and", "or", "not", "in", "contains", "exists",
                                       "true", "false", "null"};
static const char *const OPS[] = {"==", "!=", "<", "<=", ">", ">="};

typedef struct tok {
  int kind;
  uint8_t op;      /* T_OP: PV_OP_* */
  size_t at, end;  /* its bytes in the text */
  double num;      /* T_NUM */
} tok;

typedef struct fp {
  pv_index *idx;
  const char *s;
  size_t len, i; /* the text; where the lexer is */
  tok t;         /* the current token */
  int depth;
  /* The builder: arrays NULL while counting. */
  pv_fnode *node;
  pv_fseg *seg;
  pv_flit *lit;
  char *chr;
  uint32_t nnode, nseg, nlit;
  size_t nchr;
} fp;

/* pv__vfmt with its arguments inline. */
static void fmt(char *buf, size_t size, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  pv__vfmt(buf, size, f, ap);
  va_end(ap);
}

/* Set PV_INVALID: "<problem> at <at>[: <hint>]", where the hint may hold
 * arg (as %s, at most twice). */
static int fail(fp *p, size_t at, const char *problem, const char *hint, const char *arg) {
  char h[160] = "";
  if (hint) fmt(h, sizeof h, hint, arg, arg);
  pv__error(p->idx, PV_INVALID, hint ? "%s at %zu: %s" : "%s at %zu", problem, at, h);
  pv__error_offset(p->idx, (int64_t)at);
  return PV_INVALID;
}

/* -1, after an error about the current token: "unexpected <its text, cut
 * to 24 bytes on a character boundary> at <pos>[: <hint>]". */
static int64_t fail_token(fp *p, const char *hint, const char *arg) {
  char buf[48] = "unexpected end of filter";
  if (p->t.kind != T_END) {
    size_t n = p->t.end - p->t.at, k = n > 24 ? 24 : n, o = 12;
    const uint8_t *s = (const uint8_t *)p->s + p->t.at;
    while (k < n && k && (s[k] & 0xc0) == 0x80) k--;
    memcpy(buf, "unexpected \"", 12);
    for (size_t i = 0; i < k; i++) buf[o++] = s[i] < 0x20 ? '?' : (char)s[i];
    if (k < n) {
      memcpy(buf + o, "...", 3);
      o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
  }
  fail(p, p->t.at, buf, hint, arg);
  return -1;
}

/* The text of token t for a message: at most 40 bytes, on a character
 * boundary. */
static const char *text_of(const fp *p, const tok *t, char *buf) {
  size_t n = t->end - t->at, k = n > 40 ? 40 : n;
  while (k < n && k && ((uint8_t)p->s[t->at + k] & 0xc0) == 0x80) k--;
  memcpy(buf, p->s + t->at, k);
  buf[k] = '\0';
  return buf;
}

/* The characters of names outside backticks (FILTER.md's ident-start and
 * ident-char). */
static int is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
static int is_ident(char c) { return is_ident_start(c) || (c >= '0' && c <= '9') || c == '-'; }

/* The string literal whose quote (" or ') is at at: its bytes into dst
 * (NULL: only measure) and their number into *n; *end past the closing
 * quote. PV_OK or PV_INVALID. */
static int string_lit(fp *p, size_t at, char *dst, size_t *n, size_t *end) {
  int k = pv__str_decode(p->s, p->len, at, dst, n, end);
  if (!k) return PV_OK;
  const char *hint, *m = pv__str_error(k, &hint);
  return fail(p, *end, m, hint, NULL);
}

/* The path segment starting at at (letters, digits, _, $ and -, though a
 * path's first segment must not start with a digit or -, which start
 * numbers; or any name in backticks, where `` stands for one backtick): its name into dst (NULL: measure),
 * its length into *n, the end into *end. PV_OK or PV_INVALID. */
static int segment(fp *p, size_t at, char *dst, size_t *n, size_t *end) {
  size_t i = at, o = 0;
  if (p->s[i] != '`') {
    while (i < p->len && is_ident(p->s[i])) i++;
    if (dst) memcpy(dst, p->s + at, i - at);
    *n = i - at;
    *end = i;
    return PV_OK;
  }
  for (i++;;) {
    size_t r = i;
    while (r < p->len && p->s[r] != '`') r++;
    size_t ok = pv__utf8_prefix(p->s + i, r - i);
    if (ok < r - i) return fail(p, i + ok, "invalid UTF-8", NULL, NULL);
    if (r >= p->len) return fail(p, at, "unterminated name", "add the closing backtick", NULL);
    if (dst) memcpy(dst + o, p->s + i, r - i);
    o += r - i;
    if (r + 1 < p->len && p->s[r + 1] == '`') { /* `` is a backtick */
      if (dst) dst[o] = '`';
      o++;
      i = r + 2;
      continue;
    }
    *n = o;
    *end = r + 1;
    return PV_OK;
  }
}

/* The keyword token that the n bytes at s spell in any case, or -1. */
static int keyword(const char *s, size_t n) {
  for (int k = 0; k < (int)(sizeof KEYWORDS / sizeof *KEYWORDS); k++) {
    const char *w = KEYWORDS[k];
    if (strlen(w) != n) continue;
    size_t i = 0;
    while (i < n && (s[i] | 0x20) == w[i]) i++;
    if (i == n) return T_AND + k;
  }
  return -1;
}

/* Punctuation and operators, each longer spelling before its prefixes;
 * a hint marks a mistake (the spelling of another language). */
typedef struct symbol {
  char text[4];
  uint8_t kind, op;
  const char *hint;
} symbol;
static const symbol SYMBOLS[] = {
    {"(", T_LPAREN, 0, NULL},  {")", T_RPAREN, 0, NULL},     {"[", T_LBRACK, 0, NULL},
    {"]", T_RBRACK, 0, NULL},  {",", T_COMMA, 0, NULL},      {"===", T_OP, 0, "=="},
    {"==", T_OP, PV_OP_EQ, NULL}, {"=<", T_OP, 0, "<="},      {"=>", T_OP, 0, ">="},
    {"=", T_OP, 0, "=="},      {"!=", T_OP, PV_OP_NE, NULL}, {"!", T_NOT, 0, NULL},
    {"<>", T_OP, 0, "!="},     {"<=", T_OP, PV_OP_LE, NULL}, {"<", T_OP, PV_OP_LT, NULL},
    {">=", T_OP, PV_OP_GE, NULL}, {">", T_OP, PV_OP_GT, NULL}, {"&&", T_AND, 0, NULL},
    {"&", T_AND, 0, "and"},    {"||", T_OR, 0, NULL},        {"|", T_OR, 0, "or"},
};

/* The next token into p->t. PV_OK or PV_INVALID (lexical errors, with
 * hints for the operators of other languages). */
static int lex(fp *p) {
  while (p->i < p->len && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
                           p->s[p->i] == '\r'))
    p->i++;
  size_t at = p->i;
  tok *t = &p->t;
  t->at = at;
  if (at >= p->len) {
    t->kind = T_END;
    t->end = at;
    return PV_OK;
  }
  const char *s = p->s + at;
  size_t left = p->len - at;
  char c = s[0], c1 = left > 1 ? s[1] : 0;
  size_t n = 1;
  switch (c) {
    case '(': case ')': case '[': case ']': case ',': case '=': case '!': case '<': case '>':
    case '&': case '|':
      /* The first spelling in SYMBOLS that the text starts with, the
       * longest first; those of other languages come with a hint. */
      for (const symbol *y = SYMBOLS;; y++) {
        n = strlen(y->text);
        if (n > left || memcmp(s, y->text, n) != 0) continue;
        t->kind = y->kind;
        t->op = y->op;
        t->end = at + n;
        if (y->hint) return (int)fail_token(p, "did you mean \"%s\"?", y->hint);
        break;
      }
      break;
    case '"':
    case '\'': {
      size_t len, end;
      if (string_lit(p, at, NULL, &len, &end)) return PV_INVALID;
      t->kind = T_STR;
      n = end - at;
      break;
    }
    case '+':
      return fail(p, at, "unexpected \"+\"", "numbers take no plus sign", NULL);
    case '.':
      return fail(p, at, "unexpected \".\"",
                  c1 >= '0' && c1 <= '9' ? "numbers start with a digit: 0.5"
                                         : "a path starts with a name: a.b", NULL);
    default:
      if (c == '-' || (c >= '0' && c <= '9')) {
        size_t end;
        switch (pv__num_parse(s, left, &end, &t->num)) {
          case PV_NUM_DIGIT: return fail(p, at + end, "expected a digit", NULL, NULL);
          case PV_NUM_ZERO: return fail(p, at + end, "digit after a leading 0", "write 7, not 07", NULL);
          case PV_NUM_RANGE:
            return fail(p, at, "number out of range", "beyond 1.7976931348623157e308", NULL);
        }
        t->kind = T_NUM;
        n = end;
        break;
      }
      if (is_ident_start(c) || c == '`') {
        size_t i = at, len = 0, end = 0;
        for (;;) {
          if (segment(p, i, NULL, &len, &end)) return PV_INVALID;
          if (end >= p->len || p->s[end] != '.') break;
          i = end + 1;
          if (i >= p->len || !(is_ident(p->s[i]) || p->s[i] == '`'))
            return fail(p, i, "expected a name after \".\"", "quote other names in backticks: a.`my name`", NULL);
        }
        int kw = i == at && c != '`' ? keyword(s, end - at) : -1;
        t->kind = kw >= 0 ? kw : T_PATH;
        n = end - at;
        break;
      }
      if ((uint8_t)c >= 0x80) {
        size_t k = (uint8_t)c >= 0xf0 ? 4 : (uint8_t)c >= 0xe0 ? 3 : 2;
        if (k > left || pv__utf8_prefix(s, k) != k) return fail(p, at, "invalid UTF-8", NULL, NULL);
        t->kind = T_PATH;
        t->end = at + k;
        return fail_token(p, "names with other characters take backticks: `my name`", NULL);
      }
      if ((uint8_t)c < 0x20 || c == 0x7f) return fail(p, at, "unexpected control character", NULL, NULL);
      t->kind = T_PATH;
      t->end = at + 1;
      return fail_token(p, NULL, NULL);
  }
  t->end = at + n;
  p->i = at + n;
  return PV_OK;
}

/* ------------------------------------------------------------------------ */
/* Builder                                                                  */
/* ------------------------------------------------------------------------ */

static uint32_t add_node(fp *p, uint8_t kind, uint8_t op, uint32_t a, uint32_t b, uint32_t seg0,
                         uint32_t nseg, uint32_t lit0, uint32_t nlit) {
  if (p->node) {
    pv_fnode *x = &p->node[p->nnode];
    x->kind = kind;
    x->op = op;
    x->a = a;
    x->b = b;
    x->seg = nseg ? p->seg + seg0 : NULL;
    x->nseg = nseg;
    x->lit = nlit ? p->lit + lit0 : NULL;
    x->nlit = nlit;
  }
  return p->nnode++;
}

/* The path of the current token (T_PATH, or a keyword in backticks) as
 * segments. */
static void add_path(fp *p) {
  size_t i = p->t.at, n = 0, end = 0;
  for (;;) {
    char *dst = p->chr ? p->chr + p->nchr : NULL;
    segment(p, i, dst, &n, &end); /* checked by the lexer */
    if (p->seg) p->seg[p->nseg] = (pv_fseg){dst, (uint32_t)n};
    p->nseg++;
    p->nchr += n;
    if (end >= p->t.end) return;
    i = end + 1;
  }
}

/* Whether a token kind is a literal. */
static int is_literal(int kind) {
  return kind == T_NUM || kind == T_STR || kind == T_TRUE || kind == T_FALSE || kind == T_NULL;
}

/* The literal of the current token (is_literal). */
static void add_literal(fp *p) {
  pv_flit v = {0};
  switch (p->t.kind) {
    case T_NUM:
      v.type = PV_A_NUM;
      v.num = p->t.num;
      break;
    case T_STR: {
      size_t n, end;
      char *dst = p->chr ? p->chr + p->nchr : NULL;
      string_lit(p, p->t.at, dst, &n, &end); /* checked by the lexer */
      v.type = PV_A_STR;
      v.p = (const uint8_t *)dst;
      v.len = (uint32_t)n;
      p->nchr += n;
      break;
    }
    default:
      v.type = p->t.kind == T_TRUE ? PV_A_TRUE : p->t.kind == T_FALSE ? PV_A_FALSE : PV_A_NULL;
  }
  if (p->lit) p->lit[p->nlit] = v;
  p->nlit++;
}

/* ------------------------------------------------------------------------ */
/* Parser                                                                   */
/* ------------------------------------------------------------------------ */

#define TRY(call)        \
  do {                   \
    if (call) return -1; \
  } while (0)

/* Each returns the index of the node it built, or -1 after setting the
 * error. */
static int64_t parse_or(fp *p);

#define VALUE_TEXT "a string in quotes, a number, true, false or null"
static const char *const VALUE = VALUE_TEXT;

/* v in decimal, in buf (room for 24). */
static const char *num(size_t v, char *buf) {
  fmt(buf, 24, "%zu", v);
  return buf;
}

/* A list of literals: "[" [lit {"," lit}] "]"; the current token is "[". */
static int list(fp *p, const char *op) {
  size_t open = p->t.at;
  char nb[24];
  if (p->t.kind != T_LBRACK)
    return fail_token(p, "\"%s\" takes a list: x %s [1, 2]", op);
  TRY(lex(p));
  if (p->t.kind == T_RBRACK) return lex(p);
  for (;;) {
    if (!is_literal(p->t.kind)) return fail_token(p, "expected a value in the list (%s)", VALUE);
    add_literal(p);
    TRY(lex(p));
    if (p->t.kind == T_RBRACK) return lex(p);
    if (p->t.kind == T_END) return fail_token(p, "missing \"]\" for the \"[\" at %s", num(open, nb));
    if (p->t.kind != T_COMMA) return fail_token(p, "expected \",\" or \"]\"", NULL);
    TRY(lex(p));
  }
}

/* A condition on a path: the current token is the path. */
static int64_t condition(fp *p) {
  tok path = p->t;
  uint32_t seg0 = p->nseg, lit0 = p->nlit;
  add_path(p);
  uint32_t nseg = p->nseg - seg0;
  TRY(lex(p));
  tok opt = p->t;
  uint8_t kind, op = 0;
  switch (p->t.kind) {
    case T_OP: {
      kind = PV_F_CMP;
      op = p->t.op;
      TRY(lex(p));
      if (!is_literal(p->t.kind))
        return fail_token(p, "expected a value after \"%s\" (" VALUE_TEXT ")", OPS[op]);
      int scalar = p->t.kind == T_TRUE || p->t.kind == T_FALSE || p->t.kind == T_NULL;
      if (scalar && op != PV_OP_EQ && op != PV_OP_NE) {
        p->t = opt;
        return fail_token(p, "true, false and null compare only with == and !=", NULL);
      }
      if (p->t.kind == T_NULL && op == PV_OP_NE) {
        char name[48];
        text_of(p, &path, name);
        p->t = opt;
        return fail_token(p, "\"!= null\" never matches: write exists(%s) and not %s == null", name);
      }
      add_literal(p);
      TRY(lex(p));
      break;
    }
    case T_IN:
      kind = PV_F_IN;
      TRY(lex(p));
      TRY(list(p, "in"));
      break;
    case T_NOT:
      kind = PV_F_NIN;
      TRY(lex(p));
      if (p->t.kind != T_IN) return fail_token(p, "expected \"in\" after \"not\" (x not in [1, 2])", NULL);
      TRY(lex(p));
      TRY(list(p, "not in"));
      break;
    case T_CONTAINS:
      kind = PV_F_CONTAINS;
      TRY(lex(p));
      if (p->t.kind == T_LBRACK)
        return fail_token(p, "\"contains\" takes one value; for any of several, join conditions with \"or\"", NULL);
      if (!is_literal(p->t.kind)) return fail_token(p, "expected a value after \"contains\" (%s)", VALUE);
      add_literal(p);
      TRY(lex(p));
      break;
    default: {
      char name[48];
      return fail_token(p, "expected an operator after %s: == != < <= > >= in, not in or contains", text_of(p, &path, name));
    }
  }
  return add_node(p, kind, op, 0, 0, seg0, nseg, lit0, p->nlit - lit0);
}

/* A primary: "(" or ")" | exists "(" path ")" | a condition. */
static int64_t primary(fp *p) {
  switch (p->t.kind) {
    case T_LPAREN: {
      size_t open = p->t.at;
      char nb[24];
      if (++p->depth > PV_FILTER_DEPTH) {
        fail(p, open, "nested deeper than 64 levels", NULL, NULL);
        return -1;
      }
      TRY(lex(p));
      int64_t r = parse_or(p);
      if (r < 0) return -1;
      if (p->t.kind == T_END) return fail_token(p, "missing \")\" for the \"(\" at %s", num(open, nb));
      if (p->t.kind != T_RPAREN) return fail_token(p, "expected \"and\", \"or\" or \")\"", NULL);
      p->depth--;
      TRY(lex(p));
      return r;
    }
    case T_EXISTS: {
      TRY(lex(p));
      if (p->t.kind != T_LPAREN) return fail_token(p, "expected \"(\": exists(field)", NULL);
      TRY(lex(p));
      if (p->t.kind != T_PATH) return fail_token(p, "expected a field name: exists(field)", NULL);
      uint32_t seg0 = p->nseg;
      add_path(p);
      TRY(lex(p));
      if (p->t.kind != T_RPAREN) return fail_token(p, "expected \")\": exists(field)", NULL);
      TRY(lex(p));
      return add_node(p, PV_F_EXISTS, 0, 0, 0, seg0, p->nseg - seg0, 0, 0);
    }
    case T_PATH:
      return condition(p);
    case T_STR:
      return fail_token(p, "expected a condition; field names take backticks, not quotes: `name` == 1", NULL);
    case T_NUM:
    case T_TRUE:
    case T_FALSE:
    case T_NULL:
      return fail_token(p, "expected a condition; the field comes first: x == 1", NULL);
    case T_AND:
    case T_OR:
    case T_IN:
    case T_CONTAINS: {
      char name[48];
      return fail_token(p, "expected a condition; a field with this name takes backticks: `%s`", text_of(p, &p->t, name));
    }
    default:
      return fail_token(p, "expected a condition", NULL);
  }
}

/* not* primary */
static int64_t unary(fp *p) {
  if (p->t.kind != T_NOT) return primary(p);
  size_t at = p->t.at;
  if (++p->depth > PV_FILTER_DEPTH) {
    fail(p, at, "nested deeper than 64 levels", NULL, NULL);
    return -1;
  }
  TRY(lex(p));
  int64_t a = unary(p);
  if (a < 0) return -1;
  p->depth--;
  return add_node(p, PV_F_NOT, 0, (uint32_t)a, 0, 0, 0, 0, 0);
}

/* A chain of one operator (T_AND over unary, T_OR over and-chains), built
 * leaning right so evaluation loops down it. */
static int64_t chain(fp *p, int kind, int64_t (*term)(fp *)) {
  int64_t left = term(p);
  if (left < 0 || p->t.kind != kind) return left;
  int64_t root = -1, prev = -1;
  while (p->t.kind == kind) {
    TRY(lex(p));
    int64_t right = term(p);
    if (right < 0) return -1;
    int64_t n = add_node(p, kind == T_AND ? PV_F_AND : PV_F_OR, 0, (uint32_t)left, (uint32_t)right,
                         0, 0, 0, 0);
    if (prev < 0)
      root = n;
    else if (p->node)
      p->node[prev].b = (uint32_t)n;
    prev = n;
    left = right;
  }
  return root;
}

static int64_t parse_and(fp *p) { return chain(p, T_AND, unary); }
static int64_t parse_or(fp *p) { return chain(p, T_OR, parse_and); }

/* The whole text: the root's index, or -1. */
static int64_t parse(fp *p) {
  p->i = 0;
  p->depth = 0;
  p->nnode = p->nseg = p->nlit = 0;
  p->nchr = 0;
  TRY(lex(p));
  if (p->t.kind == T_END) return add_node(p, PV_F_TRUE, 0, 0, 0, 0, 0, 0, 0);
  int64_t r = parse_or(p);
  if (r < 0) return -1;
  if (p->t.kind == T_RPAREN) return fail_token(p, "no \"(\" to close", NULL);
  if (p->t.kind != T_END) return fail_token(p, "expected \"and\" or \"or\"", NULL);
  return r;
}

/* ------------------------------------------------------------------------ */
/* Public                                                                   */
/* ------------------------------------------------------------------------ */

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

/* Contract in pocketvec.h. The filter's block comes from idx's allocator
 * but is not counted in its memory usage: the filter may outlive idx. */
int pv_filter_compile(pv_index *idx, const char *text, size_t len, pv_filter **out) {
  if (!out) return pv__error_null(idx, PV_INVALID, "pv_filter_compile: out is NULL");
  *out = NULL;
  if (!text && len) return pv__error_null(idx, PV_INVALID, "pv_filter_compile: text is NULL");
  if (len > MAX_TEXT) {
    pv__error(idx, PV_INVALID, "filter too long at %u: %zu bytes, at most %u", MAX_TEXT, len,
              MAX_TEXT);
    pv__error_offset(idx, MAX_TEXT);
    return PV_INVALID;
  }
  fp p;
  memset(&p, 0, sizeof p);
  p.idx = idx;
  p.s = text ? text : "";
  p.len = len;
  if (parse(&p) < 0) return PV_INVALID;

  size_t o_lit = align8(sizeof(pv_filter));
  size_t o_node = align8(o_lit + p.nlit * sizeof(pv_flit));
  size_t o_seg = align8(o_node + p.nnode * sizeof(pv_fnode));
  size_t o_chr = o_seg + p.nseg * sizeof(pv_fseg);
  size_t bytes = o_chr + p.nchr;
  pv_allocator a = idx ? idx->alloc : pv__default_allocator();
  uint8_t *block = a.malloc(a.ctx, bytes);
  if (!block) return pv__error(idx, PV_NOMEM, "out of memory compiling a filter (%zu bytes)", bytes);
  p.lit = (pv_flit *)(block + o_lit);
  p.node = (pv_fnode *)(block + o_node);
  p.seg = (pv_fseg *)(block + o_seg);
  p.chr = (char *)(block + o_chr);
  int64_t root = parse(&p); /* the same text again: cannot fail */
  pv_filter *f = (pv_filter *)block;
  f->alloc = a;
  f->bytes = bytes;
  f->node = p.node;
  f->nnode = p.nnode;
  f->root = (uint32_t)root;
  *out = f;
  return pv__error(idx, PV_OK, NULL);
}

/* Contract in pocketvec.h. */
void pv_filter_free(pv_filter *f) {
  if (f) f->alloc.free(f->alloc.ctx, f);
}
