/* SPDX-License-Identifier: MIT */
/*
 * Attributes (src/attr/): JSON text to the binary encoding and back, the
 * numbers (our own decimal <-> double conversion, checked against libc's
 * correctly rounded strtod), every parse error with its byte offset, the
 * limits (depth, encoded size, long names), UTF-8, merging, the checker of
 * untrusted encodings against hand-damaged bytes, and failing allocations.
 */
#include <float.h>
#include <stdlib.h>

#include "attr/attr.h"
#include "test.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Parse json (NUL-terminated) into b (emptied first); returns the code. */
static int parse(pv_buf *b, const char *json) {
  b->len = 0;
  return pv__attr_parse(NULL, json, strlen(json), "attributes", b);
}

/* The encoding a (n bytes) as JSON text, in a static buffer. */
static const char *print(const uint8_t *a, size_t n) {
  static char out[1 << 18];
  size_t len = 0;
  pv__attr_print(a, n, out, sizeof out - 1, &len);
  if (len >= sizeof out) len = sizeof out - 1;
  out[len] = '\0';
  return out;
}

static int64_t err_offset(void) {
  pv_error_info e;
  pv_errinfo(NULL, &e);
  return e.offset;
}

/* A text of n bytes: prefix, then fill repeated, then suffix (caller frees). */
static char *make_text(const char *prefix, char fill, size_t n, const char *suffix) {
  size_t a = strlen(prefix), c = strlen(suffix);
  char *s = tu_xmalloc(a + n + c + 1);
  memcpy(s, prefix, a);
  memset(s + a, fill, n);
  memcpy(s + a + n, suffix, c + 1);
  return s;
}

static uint64_t bits(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}

/* ------------------------------------------------------------------------ */
/* Round trips                                                              */
/* ------------------------------------------------------------------------ */

/* Text in, compact text out, and the output parses to the same bytes. */
void test_attr_roundtrip(void) {
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"{}", "{}"},
      {"null", "{}"},
      {" \t\r\n{ } \n", "{}"},
      {" null ", "{}"},
      {"{\"a\":1}", "{\"a\":1}"},
      {"{ \"a\" : 1 , \"b\" : [ ] , \"c\" : { } }", "{\"a\":1,\"b\":[],\"c\":{}}"},
      {"{\"t\":true,\"f\":false,\"n\":null}", "{\"t\":true,\"f\":false,\"n\":null}"},
      {"{\"z\":1,\"a\":2}", "{\"z\":1,\"a\":2}"}, /* order as given */
      {"{\"\":\"\"}", "{\"\":\"\"}"},
      {"{\"a\":[1,[2,[3,{}]],{\"b\":[]}]}", "{\"a\":[1,[2,[3,{}]],{\"b\":[]}]}"},
      {"{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", "{\"s\":\"\\\"\\\\/\\b\\f\\n\\r\\t\"}"},
      {"{\"s\":\"\\u0000\\u001f\\u007f\"}", "{\"s\":\"\\u0000\\u001f\x7f\"}"},
      {"{\"s\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}", "{\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}"},
      {"{\"s\":\"\\uD83D\\uDE00\"}", "{\"s\":\"\xf0\x9f\x98\x80\"}"},
      {"{\"\xc3\xa9\":\"\xe2\x80\xa8\"}", "{\"\xc3\xa9\":\"\xe2\x80\xa8\"}"}, /* raw UTF-8 */
      {"{\"n\":[0,-0,1,-1,0.5,-0.25,1e2,1E2,1e+2,1e-2,12.50]}",
       "{\"n\":[0,-0,1,-1,0.5,-0.25,100,100,100,0.01,12.5]}"},
      {"{\"n\":[9007199254740992,9007199254740993,-9007199254740992,4294967296]}",
       "{\"n\":[9007199254740992,9007199254740992,-9007199254740992,4294967296]}"},
      {"{\"n\":[1e21,1e20,123456789012345678901,1e-6,1e-7,0.000001234]}",
       "{\"n\":[1e+21,100000000000000000000,123456789012345680000,0.000001,1e-7,0.000001234]}"},
      {"{\"n\":[0.1,0.2,0.30000000000000004,3.14159,1.7976931348623157e308,5e-324]}",
       "{\"n\":[0.1,0.2,0.30000000000000004,3.14159,1.7976931348623157e+308,"
       "4.94065645841247e-324]}"},
      {"{\"n\":[2.2250738585072014e-308,1e-400,-1e-400,0e999999999999]}",
       "{\"n\":[2.2250738585072014e-308,0,-0,0]}"},
  };
  pv_buf b = {0}, b2 = {0};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = parse(&b, cases[i].in);
    CHECK_MSG(rc == PV_OK, "%s: %d %s", cases[i].in, rc, pv_errmsg(NULL));
    if (rc) continue;
    CHECK_OK(pv__attr_check(b.p, b.len));
    const char *out = print(b.p, b.len);
    CHECK_MSG(strcmp(out, cases[i].out) == 0, "%s printed %s, expected %s", cases[i].in, out,
              cases[i].out);
    CHECK_OK(parse(&b2, out));
    CHECK_MSG(b2.len == b.len && memcmp(b.p, b2.p, b.len) == 0, "%s: reparse differs", out);
  }
  /* null and {} are no bytes; a nested {} is not. */
  CHECK_OK(parse(&b, "null"));
  CHECK_EQ_INT(b.len, 0);
  CHECK_OK(parse(&b, "{}"));
  CHECK_EQ_INT(b.len, 0);
  CHECK_OK(parse(&b, "{\"a\":{}}"));
  CHECK_EQ_INT(b.len, 8); /* 6 6 1 | 1 'a' | 6 1 0 */
  /* Parsing appends: what was in the buffer stays. */
  b.len = 0;
  CHECK_OK(pv__attr_parse(NULL, "{\"a\":1}", 7, "x", &b));
  size_t one = b.len;
  CHECK_OK(pv__attr_parse(NULL, "{\"b\":2}", 7, "x", &b));
  CHECK_EQ_INT(b.len, 2 * one);
  CHECK(strcmp(print(b.p + one, one), "{\"b\":2}") == 0);
  /* Printing: *len_out is the whole length whatever cap is. */
  CHECK_OK(parse(&b, "{\"abc\":[1,2,3]}"));
  char small[5];
  size_t len = 0;
  CHECK_OK(pv__attr_print(b.p, b.len, small, sizeof small, &len));
  CHECK_EQ_INT(len, 15);
  CHECK(memcmp(small, "{\"abc", 5) == 0);
  CHECK_OK(pv__attr_print(b.p, b.len, NULL, 0, &len));
  CHECK_EQ_INT(len, 15);
  CHECK_OK(pv__attr_print(NULL, 0, small, sizeof small, &len));
  CHECK_EQ_INT(len, 2);
  pv__buf_free(NULL, &b);
  pv__buf_free(NULL, &b2);
  CHECK(b.p == NULL && b.len == 0 && b.cap == 0);
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                  */
/* ------------------------------------------------------------------------ */

/* pv__num_parse against strtod (glibc's is correctly rounded) on one text;
 * returns 1 if they agree. */
static int num_agrees(const char *s) {
  double mine = 0, want = strtod(s, NULL);
  size_t end = 0;
  int rc = pv__num_parse(s, strlen(s), &end, &mine);
  if (!isfinite(want)) {
    CHECK_MSG(rc == PV_NUM_RANGE, "%s: expected out of range, got %d", s, rc);
    return rc == PV_NUM_RANGE;
  }
  CHECK_MSG(rc == PV_NUM_OK && end == strlen(s) && bits(mine) == bits(want),
            "%.60s: got %.17g (rc %d), strtod %.17g", s, mine, rc, want);
  return rc == PV_NUM_OK && bits(mine) == bits(want);
}

/* Decimal to double: hard cases of correct rounding, extremes, syntax. */
void test_attr_number_parse(void) {
  static const char *const hard[] = {
      "0", "-0", "1", "9007199254740993", "9007199254740995", "18014398509481993",
      "1e23", "8.98846567431158e307", "1.7976931348623157e308", "1.7976931348623158e308",
      "2.2250738585072011e-308", "2.2250738585072012e-308", "2.2250738585072014e-308",
      "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
      "7.4109846876186981626485318930233205854758970392148714663837852375101326090531312779794975"
      "454245398856969484704316857659638998506553390969459816219401617281718945106978546710679176"
      "872575177347315553307795408549809608457500958111373034747658096871009590975442271004757307"
      "809711118935784838675653998783503015228055934046593739791790738723868299395818481660169122"
      "019456499931289798411362062484498678713572180352209017023903285791732520220528974020802906"
      "854021606612375549983402671300035812486479041385743401875520901590172592547146296175134159"
      "774938718574737870961645638908718119841271673056017045493004705269590165763776884908267986"
      "972573366521765567941072508764337560846003984904972149117463085539556354188641513168478436"
      "31308023759629577398300170898437e-324",
      "0.1", "0.2", "0.3", "123456789012345678901234567890e-20", "1.00000000000000011102230246251565404236316680908203125",
      "1.00000000000000011102230246251565404236316680908203124",
      "1.00000000000000011102230246251565404236316680908203126",
      "9007199254740992.5", "9007199254740993.0000000000000000000000000000000000001",
      "1e308", "1e-307", "1e-323", "1e-324", "3e-324", "1e22", "1e-22", "123e-25",
      "0.000000000000000000000000000000000000000000000000000000000000000000001",
      "100000000000000000000000000000000000000000000000000000000000000000000e-69",
  };
  for (size_t i = 0; i < sizeof hard / sizeof hard[0]; i++) num_agrees(hard[i]);

  /* Beyond the largest double is an error, not infinity; below the
   * smallest is zero. */
  double x;
  size_t end;
  CHECK_EQ_INT(pv__num_parse("1e309", 5, &end, &x), PV_NUM_RANGE);
  CHECK_EQ_INT(pv__num_parse("-1.8e308", 8, &end, &x), PV_NUM_RANGE);
  CHECK_EQ_INT(pv__num_parse("1e999999999999999999", 20, &end, &x), PV_NUM_RANGE);
  CHECK_EQ_INT(pv__num_parse("1e-999999999999999999", 21, &end, &x), PV_NUM_OK);
  CHECK(x == 0 && !signbit(x));
  CHECK_EQ_INT(pv__num_parse("-1e-999", 7, &end, &x), PV_NUM_OK);
  CHECK(x == 0 && signbit(x));

  /* Syntax: where it stops, and where it fails. */
  static const struct {
    const char *s;
    int rc;
    size_t end;
  } syn[] = {
      {"12,", PV_NUM_OK, 2},   {"-0.5e3x", PV_NUM_OK, 6}, {"0x10", PV_NUM_OK, 1},
      {"1.5.2", PV_NUM_OK, 3}, {"-", PV_NUM_DIGIT, 1},     {"-x", PV_NUM_DIGIT, 1},
      {"1.", PV_NUM_DIGIT, 2}, {"1.e5", PV_NUM_DIGIT, 2},  {"1e", PV_NUM_DIGIT, 2},
      {"1e+", PV_NUM_DIGIT, 3}, {"01", PV_NUM_ZERO, 1},    {"-00", PV_NUM_ZERO, 2},
      {".5", PV_NUM_DIGIT, 0}, {"+1", PV_NUM_DIGIT, 0},    {"", PV_NUM_DIGIT, 0},
  };
  for (size_t i = 0; i < sizeof syn / sizeof syn[0]; i++) {
    end = 99;
    int rc = pv__num_parse(syn[i].s, strlen(syn[i].s), &end, &x);
    CHECK_MSG(rc == syn[i].rc && end == syn[i].end, "\"%s\": rc %d end %zu, expected %d %zu",
              syn[i].s, rc, end, syn[i].rc, syn[i].end);
  }
  /* The length is respected: no read past len. */
  CHECK_EQ_INT(pv__num_parse("123", 2, &end, &x), PV_NUM_OK);
  CHECK(x == 12 && end == 2);

  /* Many digits: the first 800 and a sticky rest decide the rounding. */
  char *s = make_text("0.", '0', 5000, "1");
  CHECK(num_agrees(s)); /* 1e-5001: zero */
  free(s);
  s = make_text("1.", '0', 3000, "1");
  CHECK(num_agrees(s)); /* just above 1 */
  free(s);
  s = make_text("", '9', 308, "");
  CHECK(num_agrees(s)); /* 1e308 - 1 */
  free(s);
  s = make_text("", '9', 309, "");
  CHECK(num_agrees(s)); /* 1e309 - 1: out of range */
  free(s);
  /* Halfway between 1 and the next double, then a 1 far past the 800th
   * digit: rounds up only because of it. */
  s = make_text("1.00000000000000011102230246251565404236316680908203125", '0', 2000, "1");
  CHECK(num_agrees(s));
  free(s);
}

/* Printing: integers in full, shortest-of-15/16/17 digits otherwise, and
 * every double reads back to itself (random bit patterns). Decimal texts
 * of every shape convert as strtod does. */
void test_attr_number_random(void) {
  static const struct {
    double x;
    const char *s;
  } fmt[] = {
      {0.0, "0"},
      {-0.0, "-0"},
      {1.0, "1"},
      {-42.0, "-42"},
      {9007199254740992.0, "9007199254740992"},
      {9007199254740994.0, "9007199254740994"},
      {1e20, "100000000000000000000"},
      {1e21, "1e+21"},
      {0.1, "0.1"},
      {1.0 / 3, "0.3333333333333333"},
      {2.0 / 3, "0.6666666666666666"},
      {1e-6, "0.000001"},
      {1.5e-7, "1.5e-7"},
      {123.456, "123.456"},
      {DBL_MAX, "1.7976931348623157e+308"},
      {-DBL_MIN, "-2.2250738585072014e-308"},
      {5e-324, "4.94065645841247e-324"},
      {1e300, "1e+300"},
      {0.1 + 0.2, "0.30000000000000004"},
  };
  char buf[PV_NUM_CHARS + 1];
  for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
    size_t n = pv__num_format(fmt[i].x, buf);
    buf[n] = '\0';
    CHECK_MSG(strcmp(buf, fmt[i].s) == 0, "%.17g printed %s, expected %s", fmt[i].x, buf, fmt[i].s);
  }
  uint64_t seed = 7;
  int bad = 0;
  for (int i = 0; i < 100000 && bad < 5; i++) {
    uint64_t u = tu_rand(&seed);
    if (i % 4 == 1) u &= 0x800fffffffffffffull | (tu_rand(&seed) % 3 ? 0x3ff0000000000000ull : 0); /* near 1 or subnormal */
    if (i % 4 == 2) u = (u & 0x8000000000000000ull) | (tu_rand(&seed) % 2048 << 52); /* powers of 2 */
    double x;
    memcpy(&x, &u, sizeof x);
    if (!isfinite(x)) continue;
    size_t n = pv__num_format(x, buf);
    buf[n] = '\0';
    double y = 0;
    size_t end = 0;
    int rc = pv__num_parse(buf, n, &end, &y);
    if (rc || end != n || bits(y) != u) {
      bad++;
      CHECK_MSG(0, "%.17g printed %s, read back %.17g (rc %d)", x, buf, y, rc);
    }
    /* The first of 15, 16, 17 significant digits that reads back. */
    char g[40], digits[40];
    size_t nd = 0;
    for (char *p = buf; *p && *p != 'e'; p++)
      if (*p >= '0' && *p <= '9' && (nd || *p != '0')) digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    for (int prec = 15; prec <= 17; prec++) {
      snprintf(g, sizeof g, "%.*g", prec, x);
      if (strtod(g, NULL) == x) {
        CHECK_MSG(nd <= (size_t)prec, "%s: %zu digits where %s reads back", buf, nd, g);
        break;
      }
    }
    if (!num_agrees(buf)) bad++;
  }
  /* Decimal texts of all shapes against strtod. */
  for (int i = 0; i < 60000 && bad < 5; i++) {
    char d[160];
    int k = 0;
    if (tu_rand(&seed) & 1) d[k++] = '-';
    int nd = 1 + (int)tu_below(&seed, i % 10 == 0 ? 60 : 22);
    for (int j = 0; j < nd; j++) d[k++] = (char)('0' + tu_below(&seed, 10));
    if (nd > 1 && d[k - nd] == '0') d[k - nd] = '1';
    if (tu_rand(&seed) & 1) {
      d[k++] = '.';
      int nf = 1 + (int)tu_below(&seed, 30);
      for (int j = 0; j < nf; j++) d[k++] = (char)('0' + tu_below(&seed, 10));
    }
    if (tu_rand(&seed) & 1) k += snprintf(d + k, 20, "e%d", (int)tu_below(&seed, 700) - 350);
    d[k] = '\0';
    if (!num_agrees(d)) bad++;
  }
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* Every error of the parser: its offset in pv_errinfo and the message. */
void test_attr_errors(void) {
  static const struct {
    const char *json;
    int64_t at;
    const char *msg;
  } cases[] = {
      {"", 0, "attributes: unexpected end of text at byte 0: expected a JSON object or null"},
      {"   ", 3, "unexpected end of text at byte 3: expected a JSON object or null"},
      {"[1]", 0, "attributes: expected a JSON object or null at byte 0: not an array"},
      {"\"s\"", 0, "expected a JSON object or null at byte 0"},
      {"1", 0, "expected a JSON object or null at byte 0"},
      {"nul", 0, "expected a JSON object or null at byte 0"},
      {"Null", 0, "expected a JSON object or null at byte 0"},
      {"{", 1, "unexpected end of text at byte 1: expected a name in double quotes"},
      {"{\"a\":1 \"b\":2}", 7, "attributes: expected \",\" or \"}\" at byte 7"},
      {"{\"a\":[1 2]}", 8, "expected \",\" or \"]\" at byte 8"},
      {"{\"a\":1,}", 6, "trailing comma at byte 6: JSON allows none"},
      {"{\"a\":[1,]}", 7, "trailing comma at byte 7"},
      {"{\"a\" 1}", 5, "expected \":\" at byte 5"},
      {"{\"a\"", 4, "unexpected end of text at byte 4: expected \":\""},
      {"{\"a\":", 5, "unexpected end of text at byte 5: expected a value"},
      {"{\"a\":}", 5, "expected a value at byte 5"},
      {"{a:1}", 1, "expected a name in double quotes at byte 1"},
      {"{'a':1}", 1, "expected a name in double quotes at byte 1: JSON takes double quotes"},
      {"{\"a\":'x'}", 5, "expected a value at byte 5: strings take double quotes"},
      {"{\"a\":1,,}", 7, "expected a name in double quotes at byte 7"},
      {"{\"a\":01}", 6, "digit after a leading 0 at byte 6"},
      {"{\"a\":-}", 6, "expected a digit at byte 6"},
      {"{\"a\":1.}", 7, "expected a digit at byte 7"},
      {"{\"a\":1e}", 7, "expected a digit at byte 7"},
      {"{\"a\":.5}", 5, "expected a value at byte 5: numbers start with a digit"},
      {"{\"a\":+1}", 5, "expected a value at byte 5: numbers take no plus sign"},
      {"{\"a\":1e309}", 5, "number out of range at byte 5"},
      {"{\"a\":-1e309}", 5, "number out of range at byte 5"},
      {"{\"a\":NaN}", 5, "expected a value at byte 5: numbers must be finite"},
      {"{\"a\":Infinity}", 5, "numbers must be finite"},
      {"{\"a\":-Infinity}", 5, "numbers must be finite"},
      {"{\"a\":undefined}", 5, "use null"},
      {"{\"a\":True}", 5, "true, false and null are lowercase"},
      {"{\"a\":tru}", 5, "expected a value at byte 5"},
      {"{\"a\":nulll}", 9, "expected \",\" or \"}\" at byte 9"},
      {"{\"a\":1}x", 7, "text after the end at byte 7"},
      {"{\"a\":1}{}", 7, "text after the end at byte 7"},
      {"null x", 5, "text after the end at byte 5"},
      {"{\"a\":1} // c", 8, "text after the end at byte 8"},
      {"{\"a\":/*c*/1}", 5, "JSON has no comments"},
      {"{\"a\":\"x", 5, "unterminated string at byte 5"},
      {"{\"a\":\"x\\", 5, "unterminated string at byte 5"},
      {"{\"a\":\"x\ty\"}", 7, "control character in a string at byte 7"},
      {"{\"a\":\"\n\"}", 6, "control character in a string at byte 6"},
      {"{\"a\":\"\\x\"}", 6, "invalid escape at byte 6"},
      {"{\"a\":\"\\u12\"}", 6, "invalid \\u escape at byte 6"},
      {"{\"a\":\"\\u12g4\"}", 6, "invalid \\u escape at byte 6"},
      {"{\"a\":\"\\ud800\"}", 6, "lone surrogate \\u escape at byte 6"},
      {"{\"a\":\"\\ud800\\u0041\"}", 6, "lone surrogate"},
      {"{\"a\":\"\\udc00\"}", 6, "lone surrogate"},
      {"{\"a\":\"x\\ud800", 7, "lone surrogate"},
      {"{\"a\":1,\"b\":2,\"a\":3}", 13, "attributes: duplicate name \"a\" at byte 13"},
      {"{\"a\":{\"x\":1,\"x\":2}}", 12, "duplicate name \"x\" at byte 12"},
      {"{\"a\":[{\"\":1,\"\":2}]}", 12, "duplicate name \"\" at byte 12"},
      {"{\"\\u0061\":1,\"a\":2}", 12, "duplicate name \"a\""}, /* equal once unescaped */
      {"{\"s\":\"\xff\"}", 6, "invalid UTF-8 at byte 6"},
      {"{\"s\":\"ab\xc3\"}", 8, "invalid UTF-8 at byte 8"},
      {"{\"s\xc3\xa9\xed\xa0\x80\":1}", 5, "invalid UTF-8 at byte 5"},
      {"\xef\xbb\xbf{}", 0, "expected a JSON object or null at byte 0"}, /* a BOM */
  };
  pv_buf b = {0};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    b.len = 0;
    int rc = pv__attr_parse(NULL, cases[i].json, strlen(cases[i].json), "attributes", &b);
    CHECK_MSG(rc == PV_INVALID, "%s: rc %d", cases[i].json, rc);
    CHECK_MSG(b.len == 0, "%s: %zu bytes left in the buffer", cases[i].json, b.len);
    CHECK_MSG(err_offset() == cases[i].at, "%s: offset %lld, expected %lld (%s)", cases[i].json,
              (long long)err_offset(), (long long)cases[i].at, pv_errmsg(NULL));
    CHECK_MSG(strstr(pv_errmsg(NULL), cases[i].msg), "%s: \"%s\" lacks \"%s\"", cases[i].json,
              pv_errmsg(NULL), cases[i].msg);
    CHECK_EQ_INT(pv_errcode(NULL), PV_INVALID);
  }
  /* The caller's name for the text leads the message; on error the buffer
   * keeps what it held. */
  b.len = 0;
  CHECK_OK(pv__attr_parse(NULL, "{\"k\":1}", 7, "x", &b));
  size_t had = b.len;
  CHECK_RC(pv__attr_parse(NULL, "{\"k\":}", 6, "attributes of document 3", &b), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(NULL), "attributes of document 3: expected a value at byte 5");
  CHECK_EQ_INT(b.len, had);
  /* A NUL byte is just a byte: inside a string it must be escaped, outside
   * it is unexpected. */
  CHECK_RC(pv__attr_parse(NULL, "{\"a\":\"\0\"}", 9, "a", &b), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(NULL), "control character in a string at byte 6");
  CHECK_RC(pv__attr_parse(NULL, "{}\0", 3, "a", &b), PV_INVALID);
  CHECK_EQ_INT(err_offset(), 2);
  /* The duplicate's name is cut in the message, on a character boundary. */
  char *big = tu_xmalloc(300);
  snprintf(big, 300, "{\"%s\":1,\"%s\":2}", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x",
           "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x");
  CHECK_RC(parse(&b, big), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(NULL), "duplicate name \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...\" at byte 47");
  free(big);
  /* A status on an index: the message is the index's. */
  pv_index *idx = NULL;
  pv_options o = tu_opts(4, PV_L2, PV_F32);
  REQUIRE_OK(pv_new(&o, &idx));
  pv_buf ib = {0};
  CHECK_RC(pv__attr_parse(idx, "{\"a\" 1}", 7, "attributes", &ib), PV_INVALID);
  CHECK(ib.len == 0);
  pv__buf_free(idx, &ib);
  CHECK_STR_HAS(pv_errmsg(idx), "attributes: expected \":\" at byte 5");
  pv_error_info e;
  pv_errinfo(idx, &e);
  CHECK_EQ_INT(e.offset, 5);
  pv_free(idx);
  pv__buf_free(NULL, &b);
}

/* ------------------------------------------------------------------------ */
/* Limits                                                                   */
/* ------------------------------------------------------------------------ */

/* Depth 64 and 65; the encoded size at and past 65536 bytes; long names
 * and strings; an object of 20,000 members, with and without a duplicate. */
void test_attr_limits(void) {
  pv_buf b = {0}, b2 = {0};
  char text[512];
  /* {"a":[[[...]]]}: the root is level 1, each bracket one more. */
  for (int levels = 63; levels <= 65; levels++) {
    int k = snprintf(text, sizeof text, "{\"a\":");
    for (int i = 1; i < levels; i++) text[k++] = '[';
    for (int i = 1; i < levels; i++) text[k++] = ']';
    text[k++] = '}';
    text[k] = '\0';
    int rc = parse(&b, text);
    if (levels <= PV_ATTR_DEPTH) {
      CHECK_MSG(rc == PV_OK, "%d levels: %s", levels, pv_errmsg(NULL));
      CHECK_OK(pv__attr_check(b.p, b.len));
      CHECK(strcmp(print(b.p, b.len), text) == 0);
    } else {
      CHECK_RC(rc, PV_INVALID);
      CHECK_STR_HAS(pv_errmsg(NULL), "nested deeper than 64 levels at byte 68");
      CHECK_EQ_INT(err_offset(), 68); /* 5 + 63 brackets before the 64th */
    }
  }
  /* A deep text fails at the limit, not by running out of stack. */
  char *deep = make_text("{\"a\":", '[', 1000000, "");
  CHECK_RC(parse(&b, deep), PV_INVALID);
  free(deep);

  /* One string filling the encoding: 6 (root tag, bytes, count... )
   * {"s":"xxx"}: tag 1 + bytes varint 3 + count 1 + name 2 + tag 1 +
   * len varint 3 = 11 bytes of overhead at this size. */
  size_t fill = PV_MAX_ATTR_BYTES - 11;
  char *s = make_text("{\"s\":\"", 'x', fill, "\"}");
  CHECK_MSG(parse(&b, s) == PV_OK, "%s", pv_errmsg(NULL));
  CHECK_EQ_INT(b.len, PV_MAX_ATTR_BYTES);
  CHECK_OK(pv__attr_check(b.p, b.len));
  free(s);
  s = make_text("{\"s\":\"", 'x', fill + 1, "\"}");
  CHECK_RC(parse(&b, s), PV_INVALID);
  CHECK_STR_HAS(pv_errmsg(NULL), "too large");
  CHECK_STR_HAS(pv_errmsg(NULL), "more than 65536 bytes once encoded");
  CHECK_EQ_INT(b.len, 0);
  free(s);
  /* A huge text is refused as soon as its encoding passes the limit. */
  s = make_text("{\"s\":\"", 'y', 50u << 20, "\"}");
  CHECK_RC(parse(&b, s), PV_INVALID);
  CHECK(err_offset() <= PV_MAX_ATTR_BYTES + 8192);
  CHECK(b.cap < 4 * PV_MAX_ATTR_BYTES);
  free(s);
  /* Many small members up to the limit: each "kNNNNN":true is 8 bytes. */
  {
    size_t n = 8000, k = 0;
    char *t = tu_xmalloc(n * 16 + 16);
    t[k++] = '{';
    for (size_t i = 0; i < n; i++) k += (size_t)sprintf(t + k, "%s\"k%05zu\":true", i ? "," : "", i);
    t[k++] = '}';
    t[k] = '\0';
    CHECK_OK(parse(&b, t)); /* 8000 * 8 + 5 bytes: fits */
    CHECK_EQ_INT(b.len, 8000 * 8 + 1 + 3 + 2);
    CHECK_OK(pv__attr_check(b.p, b.len));
    free(t);
  }
  /* An object of 9000 members (the batched duplicate search), the same
   * name twice with the duplicate far away, then made unique. */
  {
    size_t n = 9000, k = 0;
    char *t = tu_xmalloc(n * 12 + 64);
    t[k++] = '{';
    for (size_t i = 0; i < n; i++) k += (size_t)sprintf(t + k, "%s\"%zu\":null", i ? "," : "", i);
    size_t dup_at = k + 1;
    sprintf(t + k, ",\"1234\":1}");
    CHECK_RC(parse(&b, t), PV_INVALID);
    CHECK_STR_HAS(pv_errmsg(NULL), "duplicate name \"1234\"");
    CHECK_EQ_INT(err_offset(), (int64_t)dup_at);
    t[dup_at + 1] = '9'; /* "9234" is new */
    int rc = parse(&b, t);
    CHECK_MSG(rc == PV_OK, "%s", pv_errmsg(NULL));
    CHECK_OK(pv__attr_check(b.p, b.len));
    CHECK_OK(parse(&b2, print(b.p, b.len)));
    CHECK(b2.len == b.len && memcmp(b.p, b2.p, b.len) == 0);
    free(t);
  }
  {
    char *t = make_text("{\"", 'n', 60000, "\":1}");
    CHECK_OK(parse(&b, t));
    pv_aval root, v;
    pv__attr_root(b.p, b.len, &root);
    char *name = make_text("", 'n', 60000, "");
    CHECK(pv__attr_member(&root, name, 60000, &v) && v.type == PV_A_NUM && v.num == 1);
    CHECK(!pv__attr_member(&root, name, 59999, &v));
    free(name);
    free(t);
  }
  pv__buf_free(NULL, &b);
  pv__buf_free(NULL, &b2);
}

/* ------------------------------------------------------------------------ */
/* UTF-8                                                                    */
/* ------------------------------------------------------------------------ */

void test_attr_utf8(void) {
  static const struct {
    const char *s;
    size_t n;
    int ok;
  } cases[] = {
      {"", 0, 1},
      {"plain", 5, 1},
      {"\0", 1, 1},
      {"\x7f", 1, 1},
      {"\x80", 1, 0},                 /* a continuation alone */
      {"\xc2\x80", 2, 1},             /* U+0080 */
      {"\xc1\xbf", 2, 0},             /* overlong U+007F */
      {"\xc0\x80", 2, 0},             /* overlong NUL */
      {"\xdf\xbf", 2, 1},             /* U+07FF */
      {"\xe0\x9f\xbf", 3, 0},         /* overlong U+07FF */
      {"\xe0\xa0\x80", 3, 1},         /* U+0800 */
      {"\xed\x9f\xbf", 3, 1},         /* U+D7FF */
      {"\xed\xa0\x80", 3, 0},         /* U+D800, a surrogate */
      {"\xed\xbf\xbf", 3, 0},         /* U+DFFF */
      {"\xee\x80\x80", 3, 1},         /* U+E000 */
      {"\xef\xbf\xbf", 3, 1},         /* U+FFFF */
      {"\xf0\x8f\xbf\xbf", 4, 0},     /* overlong U+FFFF */
      {"\xf0\x90\x80\x80", 4, 1},     /* U+10000 */
      {"\xf4\x8f\xbf\xbf", 4, 1},     /* U+10FFFF */
      {"\xf4\x90\x80\x80", 4, 0},     /* U+110000 */
      {"\xf5\x80\x80\x80", 4, 0},
      {"\xff", 1, 0},
      {"\xe2\x82", 2, 0},             /* cut short */
      {"\xe2\x82\xac", 3, 1},         /* euro sign */
      {"\xe2\x28\xac", 3, 0},         /* bad continuation */
      {"\xf0\x9f\x98", 3, 0},         /* cut short */
      {"a\xf0\x9f\x98\x80z", 6, 1},
  };
  pv_buf b = {0};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK_MSG(pv__utf8_valid(cases[i].s, cases[i].n) == cases[i].ok, "case %zu", i);
    if (cases[i].n && memchr(cases[i].s, 0, cases[i].n)) continue;
    /* The same bytes raw inside a JSON string and a name. */
    char t[64];
    int k = snprintf(t, sizeof t, "{\"%s\":\"%s\"}", cases[i].s, cases[i].s);
    int rc = pv__attr_parse(NULL, t, (size_t)k, "a", &b);
    CHECK_MSG(rc == (cases[i].ok ? PV_OK : PV_INVALID), "case %zu: %d %s", i, rc, pv_errmsg(NULL));
    if (rc == PV_OK) {
      CHECK_OK(pv__attr_check(b.p, b.len));
      CHECK(strcmp(print(b.p, b.len), t) == 0);
    } else {
      CHECK_STR_HAS(pv_errmsg(NULL), "invalid UTF-8 at byte 2");
    }
    b.len = 0;
  }
  /* Escapes make valid UTF-8 only: every code point's escape, including
   * surrogate pairs, prints back raw and parses to the same bytes. */
  uint64_t seed = 3;
  for (int i = 0; i < 2000; i++) {
    uint32_t cp = i < 1000 ? tu_below(&seed, 0x10000) : 0x10000 + tu_below(&seed, 0x100000);
    if (cp >= 0xd800 && cp < 0xe000) continue;
    char t[64];
    if (cp < 0x10000) {
      snprintf(t, sizeof t, "{\"c\":\"\\u%04X\"}", (unsigned)cp);
    } else {
      uint32_t v = cp - 0x10000;
      snprintf(t, sizeof t, "{\"c\":\"\\u%04x\\u%04x\"}", (unsigned)(0xd800 + (v >> 10)),
               (unsigned)(0xdc00 + (v & 0x3ff)));
    }
    b.len = 0;
    REQUIRE_MSG(parse(&b, t) == PV_OK, "%s: %s", t, pv_errmsg(NULL));
    pv_aval root, v;
    pv__attr_root(b.p, b.len, &root);
    REQUIRE(pv__attr_member(&root, "c", 1, &v) && v.type == PV_A_STR);
    CHECK(pv__utf8_valid((const char *)v.p, v.len));
    pv_buf b2 = {0};
    CHECK_OK(parse(&b2, print(b.p, b.len)));
    CHECK(b2.len == b.len && memcmp(b.p, b2.p, b.len) == 0);
    pv__buf_free(NULL, &b2);
  }
  pv__buf_free(NULL, &b);
}

/* ------------------------------------------------------------------------ */
/* Reading the encoding                                                     */
/* ------------------------------------------------------------------------ */

void test_attr_access(void) {
  pv_buf b = {0};
  REQUIRE_OK(parse(&b, "{\"n\":2.5,\"s\":\"h\xc3\xa9\",\"a\":[null,true,false,{\"x\":[]}],"
                       "\"o\":{\"p\":{\"q\":7}}}"));
  pv_aval root, v, e;
  pv__attr_root(b.p, b.len, &root);
  CHECK_EQ_INT(root.type, PV_A_OBJ);
  CHECK_EQ_INT(root.count, 4);
  CHECK_EQ_INT(pv__attr_size(b.p), b.len);
  CHECK(pv__attr_member(&root, "n", 1, &v) && v.type == PV_A_NUM && v.num == 2.5);
  CHECK(pv__attr_member(&root, "s", 1, &v) && v.type == PV_A_STR && v.len == 3 &&
        memcmp(v.p, "h\xc3\xa9", 3) == 0);
  CHECK(!pv__attr_member(&root, "x", 1, &v));
  CHECK(!pv__attr_member(&root, "", 0, &v));
  CHECK(!pv__attr_member(&v, "x", 1, &e)); /* v is a string: no members */
  REQUIRE(pv__attr_member(&root, "a", 1, &v) && v.type == PV_A_ARR && v.count == 4);
  const uint8_t *cur = v.p;
  const char *name = "?";
  size_t nl = 9;
  static const uint8_t types[] = {PV_A_NULL, PV_A_TRUE, PV_A_FALSE, PV_A_OBJ};
  for (int i = 0; i < 4; i++) {
    REQUIRE(pv__attr_next(&v, &cur, &name, &nl, &e));
    CHECK(e.type == types[i] && name == NULL && nl == 0);
  }
  CHECK_EQ_INT(e.count, 1);
  CHECK(!pv__attr_next(&v, &cur, NULL, NULL, &e));
  /* Members in order, with names. */
  cur = root.p;
  static const char *const names[] = {"n", "s", "a", "o"};
  for (int i = 0; i < 4; i++) {
    REQUIRE(pv__attr_next(&root, &cur, &name, &nl, &e));
    CHECK(nl == 1 && name[0] == names[i][0]);
  }
  CHECK(!pv__attr_next(&root, &cur, &name, &nl, &e));
  REQUIRE(pv__attr_member(&root, "o", 1, &v) && pv__attr_member(&v, "p", 1, &e));
  CHECK(pv__attr_member(&e, "q", 1, &v) && v.num == 7);
  /* The empty object: no bytes, no members. */
  pv__attr_root(NULL, 0, &root);
  CHECK(root.type == PV_A_OBJ && root.count == 0 && root.len == 0);
  CHECK(!pv__attr_member(&root, "a", 1, &v));
  cur = root.p;
  CHECK(!pv__attr_next(&root, &cur, NULL, NULL, &v));
  /* Sizes of each kind of value. */
  CHECK_EQ_INT(pv__attr_size((const uint8_t[]){PV_A_NULL}), 1);
  CHECK_EQ_INT(pv__attr_size((const uint8_t[]){PV_A_NUM, 0, 0, 0, 0, 0, 0, 0, 0}), 9);
  CHECK_EQ_INT(pv__attr_size((const uint8_t[]){PV_A_STR, 0x80, 0x01}), 131);
  CHECK_EQ_INT(pv__attr_size((const uint8_t[]){PV_A_ARR, 3, 2, PV_A_NULL, PV_A_TRUE}), 5);
  pv__buf_free(NULL, &b);
}

/* ------------------------------------------------------------------------ */
/* Merge                                                                    */
/* ------------------------------------------------------------------------ */

void test_attr_merge(void) {
  static const struct {
    const char *a, *b, *out;
  } cases[] = {
      {"{}", "{}", "{}"},
      {"{\"a\":1}", "{}", "{\"a\":1}"},
      {"{}", "{\"a\":1}", "{\"a\":1}"},
      {"{\"a\":1,\"b\":2}", "{\"b\":3,\"c\":4}", "{\"a\":1,\"b\":3,\"c\":4}"},
      {"{\"a\":1,\"b\":2}", "{\"a\":null}", "{\"a\":null,\"b\":2}"}, /* null stays */
      {"{\"a\":{\"x\":1}}", "{\"a\":{\"y\":2}}", "{\"a\":{\"y\":2}}"}, /* top level only */
      {"{\"z\":1,\"y\":2,\"x\":3}", "{\"w\":0,\"x\":[],\"v\":\"s\"}",
       "{\"z\":1,\"y\":2,\"x\":[],\"w\":0,\"v\":\"s\"}"},
  };
  pv_buf a = {0}, b = {0}, out = {0}, re = {0};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    REQUIRE_OK(parse(&a, cases[i].a));
    REQUIRE_OK(parse(&b, cases[i].b));
    out.len = 0;
    REQUIRE_OK(pv__attr_merge(NULL, a.p, a.len, b.p, b.len, &out));
    CHECK_OK(pv__attr_check(out.p, out.len));
    CHECK_MSG(strcmp(print(out.p, out.len), cases[i].out) == 0, "%s + %s = %s", cases[i].a,
              cases[i].b, print(out.p, out.len));
    REQUIRE_OK(parse(&re, cases[i].out));
    CHECK(re.len == out.len && (out.len == 0 || memcmp(re.p, out.p, out.len) == 0));
  }
  /* Many members on both sides, overlapping by half (the hash table). */
  {
    char *ta = tu_xmalloc(200000), *tb = tu_xmalloc(200000);
    size_t ka = 0, kb = 0;
    ta[ka++] = '{';
    tb[kb++] = '{';
    for (int i = 0; i < 2000; i++) ka += (size_t)sprintf(ta + ka, "%s\"m%d\":%d", i ? "," : "", i, i);
    for (int i = 1000; i < 3000; i++)
      kb += (size_t)sprintf(tb + kb, "%s\"m%d\":%d", i > 1000 ? "," : "", i, -i);
    strcpy(ta + ka, "}");
    strcpy(tb + kb, "}");
    REQUIRE_OK(parse(&a, ta));
    REQUIRE_OK(parse(&b, tb));
    out.len = 0;
    REQUIRE_OK(pv__attr_merge(NULL, a.p, a.len, b.p, b.len, &out));
    CHECK_OK(pv__attr_check(out.p, out.len));
    pv_aval root, v;
    pv__attr_root(out.p, out.len, &root);
    CHECK_EQ_INT(root.count, 3000);
    CHECK(pv__attr_member(&root, "m10", 3, &v) && v.num == 10);
    CHECK(pv__attr_member(&root, "m1500", 5, &v) && v.num == -1500);
    CHECK(pv__attr_member(&root, "m2999", 5, &v) && v.num == -2999);
    const uint8_t *cur = root.p;
    const char *name;
    size_t nl;
    for (int i = 0; i < 3000; i++) {
      char want[16];
      snprintf(want, sizeof want, "m%d", i);
      REQUIRE(pv__attr_next(&root, &cur, &name, &nl, &v));
      CHECK(nl == strlen(want) && memcmp(name, want, nl) == 0);
    }
    free(ta);
    free(tb);
  }
  /* Past the size limit: PV_INVALID, out as it was. */
  {
    char *ta = make_text("{\"a\":\"", 'x', 40000, "\"}");
    char *tb = make_text("{\"b\":\"", 'x', 40000, "\"}");
    REQUIRE_OK(parse(&a, ta));
    REQUIRE_OK(parse(&b, tb));
    out.len = 3;
    CHECK_RC(pv__attr_merge(NULL, a.p, a.len, b.p, b.len, &out), PV_INVALID);
    CHECK_STR_HAS(pv_errmsg(NULL), "more than 65536 bytes once merged");
    CHECK_EQ_INT(out.len, 3);
    /* Replacing the big member instead fits. */
    memcpy(tb + 2, "a", 1);
    REQUIRE_OK(parse(&b, tb));
    out.len = 0;
    CHECK_OK(pv__attr_merge(NULL, a.p, a.len, b.p, b.len, &out));
    free(ta);
    free(tb);
  }
  pv__buf_free(NULL, &a);
  pv__buf_free(NULL, &b);
  pv__buf_free(NULL, &out);
  pv__buf_free(NULL, &re);
}

/* ------------------------------------------------------------------------ */
/* Checking untrusted bytes                                                 */
/* ------------------------------------------------------------------------ */

/* A check that passes must mean the bytes are canonical: they print to
 * JSON that parses back to the very same bytes. */
static void check_verdict(const uint8_t *p, size_t n, const char *what) {
  if (pv__attr_check(p, n) != PV_OK) {
    const char *m = pv_errmsg(NULL);
    CHECK_MSG(strncmp(m, "attributes: ", 12) == 0, "%s: message \"%s\"", what, m);
    CHECK_EQ_INT(pv_errcode(NULL), PV_CORRUPT);
    return;
  }
  size_t len = 0;
  pv__attr_print(p, n, NULL, 0, &len);
  char *t = tu_xmalloc(len + 1);
  pv__attr_print(p, n, t, len, &len);
  pv_buf b = {0};
  int rc = pv__attr_parse(NULL, t, len, "a", &b);
  CHECK_MSG(rc == PV_OK && b.len == n && (n == 0 || memcmp(b.p, p, n) == 0),
            "%s: passes the check but reprints as %.80s", what, t);
  pv__buf_free(NULL, &b);
  free(t);
}

void test_attr_check(void) {
  /* Hand-made damage, one rule at a time. */
  static const struct {
    uint8_t b[24];
    size_t n;
    const char *msg;
  } bad[] = {
      {{PV_A_ARR, 1, 0}, 3, "the root is not an object at byte 0"},
      {{PV_A_NULL}, 1, "the root is not an object"},
      {{PV_A_OBJ, 1, 0}, 3, "an empty root object"},
      {{PV_A_OBJ, 3, 1, 0, PV_A_NULL, 0}, 6, "bytes after the root object at byte 5"},
      {{PV_A_OBJ, 4, 1, 0, PV_A_NULL}, 5, "container longer than its parent at byte 0"},
      {{PV_A_OBJ, 3, 2, 0, PV_A_NULL}, 5, "count larger than the bytes can hold"},
      {{PV_A_OBJ, 5, 2, 0, PV_A_NULL, 0, PV_A_NULL}, 7, "duplicate name at byte 5"},
      {{PV_A_OBJ, 4, 1, 0, PV_A_NULL, PV_A_NULL}, 6, "bytes left over after the last element at byte 5"},
      {{PV_A_OBJ, 0x83, 0, 1, 0, PV_A_NULL}, 6, "bad container length"}, /* not shortest */
      {{PV_A_OBJ, 3, 0x81, 0x00, 0, PV_A_NULL}, 6, "bad element count"},
      {{PV_A_OBJ, 0x80, 0x80, 0x80, 0x80, 0x80, 0}, 7, "bad container length"}, /* 6 bytes */
      {{PV_A_OBJ, 0xff, 0xff, 0xff, 0xff, 0x1f}, 6, "bad container length"},     /* > 2^32 */
      {{PV_A_OBJ, 0x80}, 2, "bad container length"},                             /* cut off */
      {{PV_A_OBJ, 3, 1, 5, PV_A_NULL}, 5, "name longer than its object at byte 3"},
      {{PV_A_OBJ, 3, 1, 1, 'a'}, 5, "name without a value at byte 5"},
      {{PV_A_OBJ, 4, 1, 1, 0xff, PV_A_NULL}, 6, "name not UTF-8 at byte 4"},
      {{PV_A_OBJ, 3, 1, 0, 7}, 5, "unknown type tag at byte 4"},
      {{PV_A_OBJ, 6, 1, 0, PV_A_NUM, 0, 0, 0}, 8, "number cut off at byte 4"},
      {{PV_A_OBJ, 11, 1, 0, PV_A_NUM, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f}, 13, "number not finite at byte 4"},
      {{PV_A_OBJ, 11, 1, 0, PV_A_NUM, 1, 0, 0, 0, 0, 0, 0xf0, 0xff}, 13, "number not finite"},
      {{PV_A_OBJ, 5, 1, 0, PV_A_STR, 1, 0xc0}, 7, "string not UTF-8 at byte 4"},
      {{PV_A_OBJ, 5, 1, 0, PV_A_STR, 2, 'a'}, 7, "string longer than its container at byte 4"},
      {{PV_A_OBJ, 6, 1, 0, PV_A_ARR, 2, 2, PV_A_NULL}, 8, "count larger"},
      {{PV_A_OBJ, 7, 1, 0, PV_A_ARR, 3, 2, PV_A_NULL, PV_A_ARR}, 9, "bad container length at byte 8"},
      {{PV_A_OBJ, 6, 1, 0, PV_A_ARR, 2, 1, PV_A_NULL, PV_A_NULL}, 9, "bytes after the root"},
      {{PV_A_OBJ, 7, 1, 0, PV_A_ARR, 3, 1, PV_A_NULL, PV_A_NULL}, 9, "bytes left over after the last element at byte 8"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = pv__attr_check(bad[i].b, bad[i].n);
    CHECK_MSG(rc == PV_CORRUPT, "case %zu: %d", i, rc);
    CHECK_MSG(strstr(pv_errmsg(NULL), bad[i].msg), "case %zu: \"%s\" lacks \"%s\"", i,
              pv_errmsg(NULL), bad[i].msg);
  }
  /* Valid, including the empty encoding, a nested empty object and -0. */
  CHECK_OK(pv__attr_check(NULL, 0));
  static const uint8_t good[] = {PV_A_OBJ, 17, 2, 1, 'a', PV_A_OBJ, 1, 0, 1, 'b',
                                 PV_A_NUM, 0, 0, 0, 0, 0, 0, 0, 0x80};
  CHECK_OK(pv__attr_check(good, sizeof good));
  /* Too large, however well formed. */
  uint8_t *huge = tu_xcalloc(PV_MAX_ATTR_BYTES + 1, 1);
  CHECK_RC(pv__attr_check(huge, PV_MAX_ATTR_BYTES + 1), PV_CORRUPT);
  free(huge);
  /* Depth: 64 levels pass, 65 do not. */
  for (int levels = 64; levels <= 65; levels++) {
    uint8_t d[400];
    size_t n = 0;
    d[n++] = PV_A_ARR; /* the innermost [] */
    d[n++] = 1;
    d[n++] = 0;
    for (int l = 2; l <= levels; l++) { /* wrap: [d] below the root, {"": d} at it */
      int root = l == levels;
      uint8_t h[12];
      size_t k = 0, body = 1 + root + n; /* count (1 byte), name length, value */
      h[k++] = root ? PV_A_OBJ : PV_A_ARR;
      if (body >= 128) h[k++] = (uint8_t)(0x80 | (body & 0x7f));
      h[k++] = (uint8_t)(body >= 128 ? body >> 7 : body);
      h[k++] = 1;
      if (root) h[k++] = 0;
      memmove(d + k, d, n);
      memcpy(d, h, k);
      n += k;
    }
    int rc = pv__attr_check(d, n);
    if (levels == 64) {
      CHECK_MSG(rc == PV_OK, "64 levels: %s", pv_errmsg(NULL));
    } else {
      CHECK_RC(rc, PV_CORRUPT);
      CHECK_STR_HAS(pv_errmsg(NULL), "nested deeper than 64 levels");
    }
  }
  /* Every single-byte change, and every cut, of real encodings: the check
   * never crashes (ASan build), and what it accepts is canonical. */
  static const char *const docs[] = {
      "{\"a\":1,\"b\":[true,false,null,\"x\"],\"c\":{\"d\":{\"e\":[]}},\"f\":-0.5}",
      "{\"tags\":[\"work\",\"home\"],\"n\":12345678901,\"s\":\"h\xc3\xa9llo\",\"o\":{}}",
      "{\"\":\"\",\"k\":[[],[[]],{\"x\":null}]}",
  };
  pv_buf b = {0};
  uint64_t seed = 11;
  for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
    REQUIRE_OK(parse(&b, docs[d]));
    check_verdict(b.p, b.len, "original");
    uint8_t *c = tu_xmalloc(b.len);
    for (size_t i = 0; i < b.len; i++) {
      static const uint8_t vals[] = {0, 1, 2, 3, 4, 5, 6, 7, 0x7f, 0x80, 0xc3, 0xff};
      for (size_t v = 0; v < sizeof vals / sizeof vals[0] + 4; v++) {
        memcpy(c, b.p, b.len);
        c[i] = v < sizeof vals ? vals[v] : (uint8_t)tu_rand(&seed);
        check_verdict(c, b.len, "a byte changed");
      }
      check_verdict(b.p, i, "cut"); /* every prefix */
    }
    free(c);
  }
  pv__buf_free(NULL, &b);
}

/* ------------------------------------------------------------------------ */
/* Failing allocations                                                      */
/* ------------------------------------------------------------------------ */

/* Fail the Nth allocation of parse and merge, for every N: PV_NOMEM with a
 * message and the buffer as it was, or success; nothing leaks. Both with
 * the default allocator (no index) and with an index's, whose memory
 * usage must come back to where it was. */
void test_attr_fault(void) {
  static const char *const json =
      "{\"a\":[1,2,3,{\"b\":\"hello\",\"c\":[[[]]]}],\"d\":\"a longer string, to grow the buffer "
      "past its first block of sixty-four bytes\",\"e\":{\"f\":{\"g\":null}},\"h\":true}";
  for (int with_index = 0; with_index < 2; with_index++) {
    tu_alloc a;
    memset(&a, 0, sizeof a);
    pv_index *idx = NULL;
    if (with_index) {
      pv_options o = tu_opts(4, PV_L2, PV_F32);
      pv_allocator al = tu_alloc_allocator(&a);
      o.allocator = &al;
      REQUIRE_OK(pv_new(&o, &idx));
    } else {
      tu_alloc_use(&a);
    }
    size_t mem0 = pv_memory_usage(idx);
    long live0 = a.live;
    int done = 0, nomems = 0;
    for (long n = 1; !done && n < 1000; n++) {
      pv_buf b = {0}, m = {0};
      a.fail_at = n + a.calls;
      int rc = pv__attr_parse(idx, json, strlen(json), "attributes", &b);
      CHECK_MSG(rc == PV_OK || rc == PV_NOMEM, "parse: %d", rc);
      if (rc == PV_NOMEM) {
        nomems++;
        CHECK_STR_HAS(pv_errmsg(idx), "out of memory");
        CHECK_EQ_INT(b.len, 0);
      } else {
        rc = pv__attr_merge(idx, b.p, b.len, b.p + 1, 0, &m); /* a copy */
        CHECK(rc == PV_OK || rc == PV_NOMEM);
        pv_buf c = {0};
        int rc2 = pv__attr_parse(idx, "{\"h\":false,\"z\":1}", 17, "attributes", &c);
        if (rc == PV_OK && rc2 == PV_OK) {
          size_t had = m.len;
          rc = pv__attr_merge(idx, b.p, b.len, c.p, c.len, &m);
          CHECK(rc == PV_OK || rc == PV_NOMEM);
          if (rc == PV_NOMEM) CHECK_EQ_INT(m.len, had);
          if (rc == PV_OK) {
            CHECK(strstr(print(m.p + had, m.len - had), "\"h\":false,\"z\":1}") != NULL);
            done = 1;
          }
        }
        pv__buf_free(idx, &c);
      }
      pv__buf_free(idx, &b);
      pv__buf_free(idx, &m);
      a.fail_at = 0;
      CHECK_EQ_INT(a.live, live0);
      CHECK_EQ_INT(pv_memory_usage(idx), mem0);
    }
    CHECK(done);
    CHECK(nomems > 0);
    pv_free(idx);
    pv_set_allocator(NULL);
    CHECK_EQ_INT(a.live, 0);
    CHECK_EQ_INT(a.bad_ptrs, 0);
  }
}
