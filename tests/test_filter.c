/* SPDX-License-Identifier: MIT */
/*
 * Filters (src/filter/): what the compiler builds for every operator,
 * precedence, path and literal (read back from the tree as an
 * S-expression); every error at its exact position with its hint; the
 * evaluator on a table of (attributes, filter, expected) covering the
 * missing-field and type-mismatch rules, arrays, nested objects, null and
 * Unicode; the limits (text size, nesting, long chains); the substring
 * search against a naive one; failing allocations; a filter outliving the
 * index whose allocator it used.
 */
#include <stdlib.h>

#include "attr/attr.h"
#include "filter/filter.h"
#include "test.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static pv_filter *compile(const char *text) {
  pv_filter *f = NULL;
  int rc = pv_filter_compile(NULL, text, strlen(text), &f);
  CHECK_MSG(rc == PV_OK, "%s: %d %s", text, rc, pv_errmsg(NULL));
  return f;
}

typedef struct sbuf {
  char s[4096];
  size_t n;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n && b->n + 1 < sizeof b->s; i++) b->s[b->n++] = s[i];
  b->s[b->n] = '\0';
}
static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_lit(sbuf *b, const pv_flit *l) {
  char t[40];
  switch (l->type) {
    case PV_A_NULL: sb_str(b, "null"); break;
    case PV_A_FALSE: sb_str(b, "false"); break;
    case PV_A_TRUE: sb_str(b, "true"); break;
    case PV_A_NUM:
      snprintf(t, sizeof t, "%.17g", l->num);
      sb_str(b, t);
      break;
    case PV_A_STR:
      sb_str(b, "\"");
      sb_put(b, (const char *)l->p, l->len);
      sb_str(b, "\"");
      break;
    default: sb_str(b, "?");
  }
}

/* The tree under node i as an S-expression: (and A B), (== [a][b] 1),
 * (in [x] [1 "s"]), (exists [a]); path segments each in brackets. */
static void sexpr(sbuf *b, const pv_filter *f, uint32_t i) {
  static const char *const OPS[] = {"==", "!=", "<", "<=", ">", ">="};
  const pv_fnode *x = &f->node[i];
  switch (x->kind) {
    case PV_F_TRUE: sb_str(b, "true"); return;
    case PV_F_AND:
    case PV_F_OR:
      sb_str(b, x->kind == PV_F_AND ? "(and " : "(or ");
      sexpr(b, f, x->a);
      sb_str(b, " ");
      sexpr(b, f, x->b);
      sb_str(b, ")");
      return;
    case PV_F_NOT:
      sb_str(b, "(not ");
      sexpr(b, f, x->a);
      sb_str(b, ")");
      return;
    default: break;
  }
  sb_str(b, "(");
  sb_str(b, x->kind == PV_F_CMP ? OPS[x->op] : x->kind == PV_F_IN ? "in" : x->kind == PV_F_NIN ? "nin"
             : x->kind == PV_F_CONTAINS ? "contains" : "exists");
  sb_str(b, " ");
  for (uint32_t s = 0; s < x->nseg; s++) {
    sb_str(b, "[");
    sb_put(b, x->seg[s].name, x->seg[s].len);
    sb_str(b, "]");
  }
  if (x->kind == PV_F_IN || x->kind == PV_F_NIN) {
    sb_str(b, " [");
    for (uint32_t l = 0; l < x->nlit; l++) {
      if (l) sb_str(b, " ");
      sb_lit(b, &x->lit[l]);
    }
    sb_str(b, "]");
  } else if (x->kind != PV_F_EXISTS) {
    sb_str(b, " ");
    sb_lit(b, &x->lit[0]);
  }
  sb_str(b, ")");
}

/* ------------------------------------------------------------------------ */
/* The compiler                                                             */
/* ------------------------------------------------------------------------ */

void test_filter_parse(void) {
  static const struct {
    const char *text, *tree;
  } cases[] = {
      {"", "true"},
      {" \t\r\n", "true"},
      {"a == 1", "(== [a] 1)"},
      {"a==1", "(== [a] 1)"},
      {"a != 'x'", "(!= [a] \"x\")"},
      {"a < 1", "(< [a] 1)"},
      {"a <= -2.5", "(<= [a] -2.5)"},
      {"a > 1e3", "(> [a] 1000)"},
      {"a>=-1", "(>= [a] -1)"},
      {"a == -0", "(== [a] -0)"},
      {"a == 2.5E-1", "(== [a] 0.25)"},
      {"a == 123456789012345678901234567890", "(== [a] 1.2345678901234568e+29)"},
      {"a == true", "(== [a] true)"},
      {"a == false", "(== [a] false)"},
      {"a == null", "(== [a] null)"},
      {"a != true", "(!= [a] true)"},
      {"a == TRUE or a == Null", "(or (== [a] true) (== [a] null))"},
      {"a.b.c == 1", "(== [a][b][c] 1)"},
      {"$x == 1 and _y == 2 and a-b == 3", "(and (== [$x] 1) (and (== [_y] 2) (== [a-b] 3)))"},
      {"a.0.x-1 == 1", "(== [a][0][x-1] 1)"},
      {"`a b`.`c.d` == 1", "(== [a b][c.d] 1)"},
      {"`` == 1", "(== [] 1)"},
      {"`a``b` == 1", "(== [a`b] 1)"},
      {"```` == 1", "(== [`] 1)"},
      {"`and`.`in` == 1", "(== [and][in] 1)"},
      {"a.`b`.c == 1", "(== [a][b][c] 1)"},
      {"`\xc3\xa9t\xc3\xa9` == 1", "(== [\xc3\xa9t\xc3\xa9] 1)"},
      {"andy == 1 and order == 2", "(and (== [andy] 1) (== [order] 2))"},
      {"x in [1, 'a', true, null]", "(in [x] [1 \"a\" true null])"},
      {"x in []", "(in [x] [])"},
      {"x in[ 1 ]", "(in [x] [1])"},
      {"x not in [1, 2]", "(nin [x] [1 2])"},
      {"tags contains 'work'", "(contains [tags] \"work\")"},
      {"tags contains 3", "(contains [tags] 3)"},
      {"exists(a.b)", "(exists [a][b])"},
      {"exists ( a )", "(exists [a])"},
      {"a == \"\\u00e9\\n\\\"\\\\\\/\"", "(== [a] \"\xc3\xa9\n\"\\/\")"},
      {"a == '\\'q\\'' or a == 'say \"hi\"'", "(or (== [a] \"'q'\") (== [a] \"say \"hi\"\"))"},
      {"a == \"\\ud83d\\ude00\"", "(== [a] \"\xf0\x9f\x98\x80\")"},
      {"a == \"\xf0\x9f\x98\x80\"", "(== [a] \"\xf0\x9f\x98\x80\")"},
      /* precedence: not > and > or; chains lean right */
      {"a == 1 and b == 2", "(and (== [a] 1) (== [b] 2))"},
      {"a == 1 and b == 2 and c == 3", "(and (== [a] 1) (and (== [b] 2) (== [c] 3)))"},
      {"a == 1 or b == 2 or c == 3", "(or (== [a] 1) (or (== [b] 2) (== [c] 3)))"},
      {"a == 1 or b == 2 and c == 3", "(or (== [a] 1) (and (== [b] 2) (== [c] 3)))"},
      {"a == 1 and b == 2 or c == 3", "(or (and (== [a] 1) (== [b] 2)) (== [c] 3))"},
      {"not a == 1 and b == 2", "(and (not (== [a] 1)) (== [b] 2))"},
      {"not (a == 1 and b == 2)", "(not (and (== [a] 1) (== [b] 2)))"},
      {"(a == 1 or b == 2) and c == 3", "(and (or (== [a] 1) (== [b] 2)) (== [c] 3))"},
      {"((a == 1))", "(== [a] 1)"},
      {"not not a == 1", "(not (not (== [a] 1)))"},
      {"not exists(a)", "(not (exists [a]))"},
      {"A == 1 AND B == 2 Or NOT c In [1] And d Not IN [2] aNd e CONTAINS 'x' and EXISTS(f)",
       "(or (and (== [A] 1) (== [B] 2)) (and (not (in [c] [1])) (and (nin [d] [2]) (and "
       "(contains [e] \"x\") (exists [f])))))"},
      {"a == 1 && b == 2 || !c == 3", "(or (and (== [a] 1) (== [b] 2)) (not (== [c] 3)))"},
      {"!(a == 1)", "(not (== [a] 1))"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pv_filter *f = compile(cases[i].text);
    if (!f) continue;
    sbuf b = {{0}, 0};
    sexpr(&b, f, f->root);
    CHECK_MSG(strcmp(b.s, cases[i].tree) == 0, "%s\n    gave     %s\n    expected %s",
              cases[i].text, b.s, cases[i].tree);
    CHECK(f->nnode >= 1 && f->root < f->nnode);
    CHECK_EQ_INT(pv_errcode(NULL), PV_OK);
    pv_filter_free(f);
  }
  /* The filter owns its strings: the text may go at once. */
  char *text = tu_xmalloc(64);
  strcpy(text, "`k e y` == 'value'");
  pv_filter *f = compile(text);
  memset(text, 'X', 18);
  free(text);
  REQUIRE(f);
  sbuf b = {{0}, 0};
  sexpr(&b, f, f->root);
  CHECK_STR_HAS(b.s, "(== [k e y] \"value\")");
  pv_filter_free(f);
  /* NULL text of length 0 is the empty filter; other misuse is INVALID. */
  f = NULL;
  CHECK_OK(pv_filter_compile(NULL, NULL, 0, &f));
  CHECK(f && f->node[f->root].kind == PV_F_TRUE);
  pv_filter_free(f);
  CHECK_RC(pv_filter_compile(NULL, NULL, 3, &f), PV_INVALID);
  CHECK(f == NULL);
  CHECK_RC(pv_filter_compile(NULL, "a == 1", 6, NULL), PV_INVALID);
  pv_filter_free(NULL);
  /* The length is respected: text past len is not read. */
  CHECK_OK(pv_filter_compile(NULL, "a == 1 garbage", 6, &f));
  pv_filter_free(f);
}

/* Every error: its position (also in pv_errinfo's offset) and message. */
void test_filter_errors(void) {
  static const struct {
    const char *text;
    int64_t at;
    const char *msg; /* the whole message when it starts with "=", else a part */
  } cases[] = {
      {"a = 1", 2, "=unexpected \"=\" at 2: did you mean \"==\"?"},
      {"a === 1", 2, "=unexpected \"===\" at 2: did you mean \"==\"?"},
      {"a =< 1", 2, "did you mean \"<=\"?"},
      {"a => 1", 2, "did you mean \">=\"?"},
      {"a <> 1", 2, "=unexpected \"<>\" at 2: did you mean \"!=\"?"},
      {"a == 1 & b == 2", 7, "=unexpected \"&\" at 7: did you mean \"and\"?"},
      {"a == 1 | b == 2", 7, "=unexpected \"|\" at 7: did you mean \"or\"?"},
      {"a ==", 4, "=unexpected end of filter at 4: expected a value after \"==\" (a string in quotes, a number, true, false or null)"},
      {"a == b", 5, "=unexpected \"b\" at 5: expected a value after \"==\" (a string in quotes, a number, true, false or null)"},
      {"a < (1)", 4, "unexpected \"(\" at 4: expected a value after \"<\""},
      {"a", 1, "=unexpected end of filter at 1: expected an operator after a: == != < <= > >= in, not in or contains"},
      {"a.b.c 1", 6, "=unexpected \"1\" at 6: expected an operator after a.b.c: == != < <= > >= in, not in or contains"},
      {"a in 1", 5, "=unexpected \"1\" at 5: \"in\" takes a list: x in [1, 2]"},
      {"a not in 'x'", 9, "\"not in\" takes a list: x not in [1, 2]"},
      {"a in", 4, "=unexpected end of filter at 4: \"in\" takes a list: x in [1, 2]"},
      {"a in [1, 2", 10, "=unexpected end of filter at 10: missing \"]\" for the \"[\" at 5"},
      {"a in [1 2]", 8, "=unexpected \"2\" at 8: expected \",\" or \"]\""},
      {"a in [1,]", 8, "=unexpected \"]\" at 8: expected a value in the list (a string in quotes, a number, true, false or null)"},
      {"a in [b]", 6, "expected a value in the list"},
      {"a in [[1]]", 6, "expected a value in the list"},
      {"(a == 1", 7, "=unexpected end of filter at 7: missing \")\" for the \"(\" at 0"},
      {"(a == 1 b == 2)", 8, "=unexpected \"b\" at 8: expected \"and\", \"or\" or \")\""},
      {"a == 1)", 6, "=unexpected \")\" at 6: no \"(\" to close"},
      {"()", 1, "=unexpected \")\" at 1: expected a condition"},
      {"a == 1 b == 2", 7, "=unexpected \"b\" at 7: expected \"and\" or \"or\""},
      {"a == 1 and", 10, "=unexpected end of filter at 10: expected a condition"},
      {"a == 1 or or b == 1", 10, "=unexpected \"or\" at 10: expected a condition; a field with this name takes backticks: `or`"},
      {"not", 3, "=unexpected end of filter at 3: expected a condition"},
      {"in == 1", 0, "a field with this name takes backticks: `in`"},
      {"contains == 1", 0, "takes backticks: `contains`"},
      {"\"a\" == 1", 0, "=unexpected \"\"a\"\" at 0: expected a condition; field names take backticks, not quotes: `name` == 1"},
      {"1 == a", 0, "=unexpected \"1\" at 0: expected a condition; the field comes first: x == 1"},
      {"true", 0, "the field comes first"},
      {"== 1", 0, "=unexpected \"==\" at 0: expected a condition"},
      {"a < true", 2, "=unexpected \"<\" at 2: true, false and null compare only with == and !="},
      {"a >= null", 2, "compare only with == and !="},
      {"a.b != null", 4, "=unexpected \"!=\" at 4: \"!= null\" never matches: write exists(a.b) and not a.b == null"},
      {"a contains [1]", 11, "=unexpected \"[\" at 11: \"contains\" takes one value; for any of several, join conditions with \"or\""},
      {"a contains b", 11, "expected a value after \"contains\""},
      {"a not 1", 6, "=unexpected \"1\" at 6: expected \"in\" after \"not\" (x not in [1, 2])"},
      {"a not contains 1", 6, "expected \"in\" after \"not\""},
      {"exists a", 7, "=unexpected \"a\" at 7: expected \"(\": exists(field)"},
      {"exists()", 7, "=unexpected \")\" at 7: expected a field name: exists(field)"},
      {"exists(1)", 7, "expected a field name"},
      {"exists(a", 8, "=unexpected end of filter at 8: expected \")\": exists(field)"},
      {"exists(a b)", 9, "expected \")\""},
      {"a == \"abc", 5, "=unterminated string at 5"},
      {"a == 'abc", 5, "=unterminated string at 5"},
      {"a == 'abc\\", 5, "unterminated string at 5"},
      {"a == \"a\nb\"", 7, "control character in a string at 7"},
      {"a == \"\\x\"", 6, "=invalid escape at 6: use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX"},
      {"a == \"\\u12\"", 6, "invalid \\u escape at 6"},
      {"a == \"\\udc00\"", 6, "lone surrogate \\u escape at 6"},
      {"a == \"\xc3\"", 6, "=invalid UTF-8 at 6"},
      {"a == 01", 6, "=digit after a leading 0 at 6: write 7, not 07"},
      {"a == -", 6, "=expected a digit at 6"},
      {"a == 1.", 7, "expected a digit at 7"},
      {"a == 1e", 7, "expected a digit at 7"},
      {"a == .5", 5, "=unexpected \".\" at 5: numbers start with a digit: 0.5"},
      {"a == +1", 5, "=unexpected \"+\" at 5: numbers take no plus sign"},
      {"a == 1e400", 5, "=number out of range at 5: beyond 1.7976931348623157e308"},
      {"a == -1e400", 5, "number out of range at 5"},
      {"a. == 1", 2, "=expected a name after \".\" at 2: quote other names in backticks: a.`my name`"},
      {"a.", 2, "expected a name after \".\" at 2"},
      {".a == 1", 0, "a path starts with a name"},
      {"`a == 1", 0, "=unterminated name at 0: add the closing backtick"},
      {"`a\xff` == 1", 2, "=invalid UTF-8 at 2"},
      {"\xc3\xa9t\xc3\xa9 == 1", 0, "=unexpected \"\xc3\xa9\" at 0: names with other characters take backticks: `my name`"},
      {"a == 1 \xff", 7, "=invalid UTF-8 at 7"},
      {"a # 1", 2, "=unexpected \"#\" at 2"},
      {"a == 1 ;", 7, "=unexpected \";\" at 7"},
      {"a\x01", 1, "=unexpected control character at 1"},
      {"abcdefghijklmnopqrstuvwxyz0123456789 1", 37, "expected an operator after abcdefghijklmnopqrstuvwxyz0123456789:"},
      {"x == 1 abcdefghijklmnopqrstuvwxyz", 7, "=unexpected \"abcdefghijklmnopqrstuvwx...\" at 7: expected \"and\" or \"or\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pv_filter *f = (pv_filter *)1;
    int rc = pv_filter_compile(NULL, cases[i].text, strlen(cases[i].text), &f);
    CHECK_MSG(rc == PV_INVALID, "%s: rc %d", cases[i].text, rc);
    CHECK(f == NULL);
    pv_error_info e;
    pv_errinfo(NULL, &e);
    const char *m = pv_errmsg(NULL);
    CHECK_MSG(e.offset == cases[i].at, "%s: offset %lld, expected %lld (%s)", cases[i].text,
              (long long)e.offset, (long long)cases[i].at, m);
    if (cases[i].msg[0] == '=')
      CHECK_MSG(strcmp(m, cases[i].msg + 1) == 0, "%s:\n    gave     %s\n    expected %s",
                cases[i].text, m, cases[i].msg + 1);
    else
      CHECK_MSG(strstr(m, cases[i].msg), "%s: \"%s\" lacks \"%s\"", cases[i].text, m, cases[i].msg);
  }
  /* On an index: its status, not the global one. */
  pv_index *idx = NULL;
  pv_options o = tu_opts(4, PV_L2, PV_F32);
  REQUIRE_OK(pv_new(&o, &idx));
  pv_filter *f = NULL;
  CHECK_RC(pv_filter_compile(idx, "x = 1", 5, &f), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(idx), "unexpected \"=\" at 2: did you mean \"==\"?");
  pv_error_info e;
  pv_errinfo(idx, &e);
  CHECK_EQ_INT(e.offset, 2);
  CHECK_OK(pv_filter_compile(idx, "x == 1", 6, &f));
  CHECK(strcmp(pv_errmsg(idx), "not an error") == 0);
  pv_filter_free(f);
  pv_free(idx);
}

/* ------------------------------------------------------------------------ */
/* The evaluator                                                            */
/* ------------------------------------------------------------------------ */

static const char *const DOCS[] = {
    /* 0 */
    ("{\"n\":5,\"f\":2.5,\"neg\":-3,\"z\":0,\"mz\":-0,\"big\":1e300,\"s\":\"hello\",\"e\":\"\","
    "\"u\":\"\xc3\xa9\",\"b\":true,\"bf\":false,\"nl\":null,"
    "\"t\":[\"work\",\"home\",3,true,null,{\"x\":1},[1]],\"empty\":[],"
    "\"o\":{\"p\":{\"q\":1,\"s\":\"x\"},\"a\":[1,2]},\"eo\":{}}"),
    /* 1: no attributes */
    "{}",
    /* 2: names needing backticks, Unicode */
    ("{\"\xc3\xa9\":{\"a b\":{\"`\":1}},\"name\":\"Zo\xc3\xab\",\"and\":1,\"\":2,\"k.d\":3,"
     "\"emoji\":\"a\xf0\x9f\x98\x80z\"}"),
    /* 3: a null on the path, big integers */
    "{\"a\":null,\"i\":9007199254740993,\"t\":[\"a\",\"a\"]}",
};

void test_filter_eval(void) {
  static const struct {
    int doc;
    const char *filter;
    int want;
  } cases[] = {
      {0, "", 1},
      {1, "", 1},
      /* numbers */
      {0, "n == 5", 1}, {0, "n == 5.0", 1}, {0, "n == 5e0", 1}, {0, "n == 5.000000000000001", 0},
      {0, "n != 5", 0}, {0, "n != 4", 1}, {0, "n < 6", 1}, {0, "n <= 5", 1}, {0, "n > 5", 0},
      {0, "n >= 5", 1}, {0, "n < 5", 0}, {0, "f > 2 and f < 3", 1}, {0, "neg < 0", 1},
      {0, "neg == -3", 1}, {0, "z == -0", 1}, {0, "mz == 0", 1}, {0, "mz < 0", 0},
      {0, "big > 1e299", 1}, {0, "big >= 1.7976931348623157e308", 0},
      {3, "i == 9007199254740992", 1},
      /* type mismatch: false, whatever the operator */
      {0, "n == \"5\"", 0}, {0, "n != \"5\"", 0}, {0, "n < \"6\"", 0}, {0, "n >= \"0\"", 0},
      {0, "s != 1", 0}, {0, "s > 0", 0}, {0, "b == 1", 0}, {0, "b != 1", 0}, {0, "nl == 0", 0},
      {0, "nl == false", 0}, {0, "n == null", 0}, {0, "t == \"work\"", 0}, {0, "t != \"work\"", 0},
      {0, "o == 1", 0}, {0, "o != 1", 0}, {0, "eo == null", 0}, {0, "empty == null", 0},
      /* strings: byte-wise, which is code point order */
      {0, "s == \"hello\"", 1}, {0, "s == 'hello'", 1}, {0, "s != \"world\"", 1},
      {0, "s < \"help\"", 1}, {0, "s > \"hell\"", 1}, {0, "s >= \"hello\"", 1},
      {0, "s < \"hello\"", 0}, {0, "s <= \"hello\"", 1}, {0, "e == \"\"", 1}, {0, "e < \"a\"", 1},
      {0, "e >= \"\"", 1}, {0, "u > \"z\"", 1}, {0, "u == \"\\u00e9\"", 1}, {0, "u == \"e\"", 0},
      {2, "name > \"Zo\"", 1}, {2, "name < \"Zp\"", 1}, {2, "emoji > \"a\\uffff\"", 1},
      /* booleans and null */
      {0, "b == true", 1}, {0, "b != false", 1}, {0, "b != true", 0}, {0, "bf == false", 1},
      {0, "bf != true", 1}, {0, "b == false", 0},
      {0, "nl == null", 1}, {0, "missing == null", 0}, {0, "exists(nl)", 1},
      {0, "not exists(nl)", 0}, {0, "nl in [null]", 1}, {0, "nl not in [1]", 1},
      {0, "nl not in [null]", 0},
      /* a missing field: every comparison is false, only not turns it true */
      {0, "missing == 1", 0}, {0, "missing != 1", 0}, {0, "missing < 1", 0},
      {0, "missing in [1]", 0}, {0, "missing not in [1]", 0}, {0, "missing contains \"x\"", 0},
      {0, "not missing == 1", 1}, {0, "not (missing != 1)", 1}, {0, "exists(missing)", 0},
      {0, "not exists(missing)", 1}, {1, "a != 1", 0}, {1, "not a == 1", 1},
      {1, "exists(a)", 0}, {1, "a not in [1]", 0},
      /* in, not in */
      {0, "n in [1, 5]", 1}, {0, "n in [1, \"5\"]", 0}, {0, "n in []", 0}, {0, "n not in []", 1},
      {0, "n not in [5]", 0}, {0, "n not in [\"5\"]", 1}, {0, "s in [\"hello\", 1]", 1},
      {0, "b in [false, true]", 1}, {0, "bf in [true]", 0},
      {0, "t in [\"work\"]", 0}, {0, "t not in [\"x\"]", 0}, {0, "o not in [1]", 0},
      {0, "empty not in [1]", 0},
      /* contains: an array element, or a substring */
      {0, "t contains \"work\"", 1}, {0, "t contains \"wor\"", 0}, {0, "t contains 3", 1},
      {0, "t contains 3.0", 1}, {0, "t contains \"3\"", 0}, {0, "t contains true", 1},
      {0, "t contains null", 1}, {0, "t contains false", 0}, {0, "empty contains 1", 0},
      {0, "s contains \"ell\"", 1}, {0, "s contains \"\"", 1}, {0, "s contains \"hello!\"", 0},
      {0, "s contains \"lo\"", 1}, {0, "s contains \"L\"", 0}, {0, "e contains \"\"", 1},
      {0, "e contains \"a\"", 0}, {0, "n contains 5", 0}, {0, "s contains 1", 0},
      {0, "o contains \"p\"", 0}, {2, "name contains \"\\u00eb\"", 1},
      {2, "emoji contains \"\xf0\x9f\x98\x80\"", 1}, {2, "emoji contains \"\\ud83d\\ude00z\"", 1},
      {3, "t contains \"a\"", 1},
      /* paths go through objects only */
      {0, "o.p.q == 1", 1}, {0, "o.p.s == \"x\"", 1}, {0, "o.p == 1", 0}, {0, "exists(o.p)", 1},
      {0, "exists(o.p.q)", 1}, {0, "exists(o.p.r)", 0}, {0, "exists(o.a)", 1},
      {0, "o.a contains 2", 1}, {0, "o.a.0 == 1", 0}, {0, "exists(o.a.0)", 0},
      {0, "not exists(o.a.0)", 1}, {0, "exists(n.x)", 0}, {0, "exists(s.x)", 0},
      {0, "exists(t.x)", 0}, {0, "exists(eo)", 1}, {0, "exists(eo.x)", 0},
      {3, "exists(a)", 1}, {3, "exists(a.b)", 0}, {3, "a.b == null", 0},
      /* quoted names */
      {2, "`\xc3\xa9`.`a b`.```` == 1", 1}, {2, "`and` == 1", 1}, {2, "`` == 2", 1},
      {2, "`k.d` == 3", 1}, {2, "k.d == 3", 0}, {2, "exists(`\xc3\xa9`.`a b`)", 1},
      /* and, or, not */
      {0, "n == 5 and s == \"hello\"", 1}, {0, "n == 5 and s == \"x\"", 0},
      {0, "n == 4 or s == \"hello\"", 1}, {0, "n == 4 or s == \"x\"", 0},
      {0, "not (n == 4 or s == \"x\")", 1}, {0, "n == 5 and not b == false", 1},
      {0, "n == 4 or n == 3 or n == 5", 1}, {0, "n == 5 and n == 5 and n == 4", 0},
      {0, "not not n == 5", 1}, {0, "(n == 4 or n == 5) and (s contains \"h\" or b == false)", 1},
      {0, "n == 4 or s == 'hello' and b == false", 0},
  };
  pv_buf docs[sizeof DOCS / sizeof DOCS[0]];
  memset(docs, 0, sizeof docs);
  for (size_t d = 0; d < sizeof DOCS / sizeof DOCS[0]; d++)
    REQUIRE_MSG(pv__attr_parse(NULL, DOCS[d], strlen(DOCS[d]), "doc", &docs[d]) == PV_OK,
                "doc %zu: %s", d, pv_errmsg(NULL));
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pv_filter *f = compile(cases[i].filter);
    if (!f) continue;
    const pv_buf *b = &docs[cases[i].doc];
    int got = pv__filter_eval(f, b->p, b->len);
    CHECK_MSG(got == cases[i].want, "doc %d, %s: %d, expected %d", cases[i].doc,
              cases[i].filter, got, cases[i].want);
    pv_filter_free(f);
  }
  /* No filter matches everything. */
  CHECK(pv__filter_eval(NULL, docs[0].p, docs[0].len));
  /* A leaf on a missing value is false, exists included. */
  pv_filter *f = compile("exists(a)");
  REQUIRE(f);
  CHECK(!pv__filter_leaf(&f->node[f->root], NULL));
  pv_aval v = {PV_A_NULL, 0, NULL, 0, 0};
  CHECK(pv__filter_leaf(&f->node[f->root], &v));
  pv_filter_free(f);
  for (size_t d = 0; d < sizeof DOCS / sizeof DOCS[0]; d++) pv__buf_free(NULL, &docs[d]);
}

/* "contains" on strings against a naive search: the two-way algorithm's
 * periodic and aperiodic cases, on small alphabets where both occur. */
void test_filter_contains_random(void) {
  uint64_t seed = 42;
  uint8_t hay[64], nee[16];
  pv_flit lit = {PV_A_STR, 0, nee, 0, 0};
  pv_fnode x = {PV_F_CONTAINS, 0, 0, 0, NULL, 0, &lit, 1};
  int bad = 0;
  for (int it = 0; it < 300000 && bad < 5; it++) {
    uint32_t alpha = 2 + tu_below(&seed, it % 3 == 0 ? 1 : 3);
    size_t n = tu_below(&seed, 64), m = tu_below(&seed, it % 5 == 0 ? 16 : 8);
    for (size_t i = 0; i < n; i++) hay[i] = (uint8_t)('a' + tu_below(&seed, alpha));
    for (size_t i = 0; i < m; i++) nee[i] = (uint8_t)('a' + tu_below(&seed, alpha));
    if (n >= m && m && tu_below(&seed, 3) == 0) /* plant it */
      memcpy(hay + tu_below(&seed, (uint32_t)(n - m + 1)), nee, m);
    int want = m == 0;
    for (size_t j = 0; !want && m <= n && j + m <= n; j++) want = memcmp(hay + j, nee, m) == 0;
    lit.len = (uint32_t)m;
    pv_aval v = {PV_A_STR, 0, hay, (uint32_t)n, 0};
    int got = pv__filter_leaf(&x, &v);
    if (got != want) {
      bad++;
      CHECK_MSG(0, "\"%.*s\" contains \"%.*s\": %d, expected %d", (int)n, (const char *)hay,
                (int)m, (const char *)nee, got, want);
    }
  }
  /* Long periodic strings stay fast (linear): 64 KB of 'a' against a
   * needle of 32 KB of 'a' and a 'b'. */
  size_t n = 65000, m = 32000;
  uint8_t *h = tu_xmalloc(n), *nd = tu_xmalloc(m);
  memset(h, 'a', n);
  memset(nd, 'a', m);
  nd[m - 1] = 'b';
  lit.p = nd;
  lit.len = (uint32_t)m;
  pv_aval v = {PV_A_STR, 0, h, (uint32_t)n, 0};
  CHECK(!pv__filter_leaf(&x, &v));
  h[n - 1] = 'b';
  CHECK(pv__filter_leaf(&x, &v));
  nd[m - 1] = 'a';
  nd[0] = 'b';
  CHECK(!pv__filter_leaf(&x, &v));
  free(h);
  free(nd);
}

/* ------------------------------------------------------------------------ */
/* Limits                                                                   */
/* ------------------------------------------------------------------------ */

static char *repeat(const char *prefix, const char *unit, size_t times, const char *mid,
                    const char *unit2, size_t times2) {
  size_t n = strlen(prefix) + strlen(unit) * times + strlen(mid) + strlen(unit2) * times2 + 1;
  char *s = tu_xmalloc(n);
  size_t k = 0;
  k += (size_t)sprintf(s + k, "%s", prefix);
  for (size_t i = 0; i < times; i++) k += (size_t)sprintf(s + k, "%s", unit);
  k += (size_t)sprintf(s + k, "%s", mid);
  for (size_t i = 0; i < times2; i++) k += (size_t)sprintf(s + k, "%s", unit2);
  return s;
}

void test_filter_limits(void) {
  pv_buf doc = {0};
  REQUIRE_OK(pv__attr_parse(NULL, "{\"a\":1}", 7, "doc", &doc));
  pv_filter *f = NULL;
  /* Nesting: 64 levels of "(" or "not" compile, 65 do not. */
  char *s = repeat("", "(", 64, "a == 1", ")", 64);
  CHECK_OK(pv_filter_compile(NULL, s, strlen(s), &f));
  CHECK(f && pv__filter_eval(f, doc.p, doc.len));
  pv_filter_free(f);
  free(s);
  s = repeat("", "(", 65, "a == 1", ")", 65);
  CHECK_RC(pv_filter_compile(NULL, s, strlen(s), &f), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(NULL), "nested deeper than 64 levels at 64");
  free(s);
  s = repeat("", "not ", 64, "a == 1", "", 0);
  CHECK_OK(pv_filter_compile(NULL, s, strlen(s), &f));
  CHECK(f && pv__filter_eval(f, doc.p, doc.len)); /* an even number of nots */
  pv_filter_free(f);
  free(s);
  s = repeat("", "not (", 32, "a == 1", ")", 32);
  CHECK_OK(pv_filter_compile(NULL, s, strlen(s), &f)); /* 64 levels */
  pv_filter_free(f);
  free(s);
  s = repeat("", "not (", 33, "a == 1", ")", 33);
  CHECK_RC(pv_filter_compile(NULL, s, strlen(s), &f), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(NULL), "nested deeper than 64 levels at 160"); /* the 33rd "not" */
  free(s);
  s = repeat("", "!", 65, "a == 1", "", 0);
  CHECK_RC(pv_filter_compile(NULL, s, strlen(s), &f), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(NULL), "nested deeper than 64 levels at 64");
  free(s);
  /* A text of any depth fails at the limit, not by running out of stack. */
  s = repeat("", "(", 60000, "", "", 0);
  CHECK_RC(pv_filter_compile(NULL, s, strlen(s), &f), PV_INVALID);
  free(s);
  /* Chains do not nest: 7000 terms of "and", then of "or", evaluate. */
  s = repeat("", "a == 1 and ", 5900, "a == 1", "", 0);
  CHECK_MSG(strlen(s) <= 65536, "%zu", strlen(s));
  CHECK_OK(pv_filter_compile(NULL, s, strlen(s), &f));
  CHECK(f && pv__filter_eval(f, doc.p, doc.len));
  CHECK(f && f->nnode == 2 * 5900 + 1);
  pv_filter_free(f);
  free(s);
  s = repeat("", "a == 2 or ", 6500, "a == 1", "", 0);
  CHECK_OK(pv_filter_compile(NULL, s, strlen(s), &f));
  CHECK(f && pv__filter_eval(f, doc.p, doc.len));
  pv_filter_free(f);
  free(s);
  /* The text: 65536 bytes at most. */
  s = repeat("", " ", 65536 - 6, "a == 1", "", 0);
  CHECK_OK(pv_filter_compile(NULL, s, 65536, &f));
  pv_filter_free(f);
  CHECK_RC(pv_filter_compile(NULL, s, 65537, &f), PV_INVALID);
  CHECK(strcmp(pv_errmsg(NULL), "filter too long at 65536: 65537 bytes, at most 65536") == 0);
  pv_error_info e;
  pv_errinfo(NULL, &e);
  CHECK_EQ_INT(e.offset, 65536);
  free(s);
  /* A list of 10,000 values; a string of 60,000 bytes. */
  s = repeat("a in [0", ",1", 10000, "]", "", 0);
  CHECK_OK(pv_filter_compile(NULL, s, strlen(s), &f));
  CHECK(f && f->node[f->root].nlit == 10001 && pv__filter_eval(f, doc.p, doc.len));
  pv_filter_free(f);
  free(s);
  s = repeat("a == \"", "x", 60000, "\"", "", 0);
  CHECK_OK(pv_filter_compile(NULL, s, strlen(s), &f));
  CHECK(f && f->node[f->root].lit[0].len == 60000);
  pv_filter_free(f);
  free(s);
  pv__buf_free(NULL, &doc);
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

/* One allocation per filter: failing it is PV_NOMEM with nothing leaked.
 * A filter compiled on an index takes that index's allocator, is not
 * counted in its memory usage, and may outlive it. */
void test_filter_memory(void) {
  tu_alloc a;
  memset(&a, 0, sizeof a);
  tu_alloc_use(&a);
  pv_filter *f = NULL;
  const char *text = "(a == 1 or b in [1, 2, 'x']) and not c contains 'y' and exists(d.e)";
  a.fail_at = a.calls + 1;
  CHECK_RC(pv_filter_compile(NULL, text, strlen(text), &f), PV_NOMEM);
  CHECK(f == NULL);
  CHECK_STR_HAS(pv_errmsg(NULL), "out of memory compiling a filter");
  CHECK_EQ_INT(a.live, 0);
  a.fail_at = 0;
  long calls = a.calls;
  CHECK_OK(pv_filter_compile(NULL, text, strlen(text), &f));
  CHECK_EQ_INT(a.calls, calls + 1);
  CHECK_EQ_INT(a.live, 1);
  CHECK(f && a.bytes == f->bytes);
  pv_filter_free(f);
  CHECK_EQ_INT(a.live, 0);
  pv_set_allocator(NULL);

  tu_alloc b;
  memset(&b, 0, sizeof b);
  pv_allocator al = tu_alloc_allocator(&b);
  pv_options o = tu_opts(4, PV_L2, PV_F32);
  o.allocator = &al;
  pv_index *idx = NULL;
  REQUIRE_OK(pv_new(&o, &idx));
  size_t mem = pv_memory_usage(idx);
  long live = b.live;
  CHECK_OK(pv_filter_compile(idx, text, strlen(text), &f));
  CHECK_EQ_INT(b.live, live + 1);
  CHECK_EQ_INT(pv_memory_usage(idx), mem);
  pv_free(idx);
  CHECK_EQ_INT(b.live, 1);
  pv_buf doc = {0};
  REQUIRE_OK(pv__attr_parse(NULL, "{\"a\":1,\"d\":{\"e\":0}}", 19, "doc", &doc));
  CHECK(f && pv__filter_eval(f, doc.p, doc.len));
  pv__buf_free(NULL, &doc);
  pv_filter_free(f);
  CHECK_EQ_INT(b.live, 0);
  CHECK_EQ_INT(b.bad_ptrs, 0);
}
