/* SPDX-License-Identifier: MIT */
/*
 * The tokenizer (src/text/token.c) and the stemmer (stem.c) against the
 * rules of docs/TEXT.md: UTF-8 errors and their offsets, what a token is,
 * case and accent folding, apostrophes, long words, stopwords, stemming
 * (every pair of tests/fixtures/porter2.txt, Snowball's own vocabulary),
 * the prefix rule, the `last` flag and an emit that stops the run.
 */
#include <stdlib.h>

#include "attr/attr.h"
#include "test.h"
#include "text/token.h"

/* ---- helpers -------------------------------------------------------------- */

/* What the tokenizer emitted: the tokens joined by single spaces. */
typedef struct got {
  char s[8192];
  size_t len;
  int count, lasts, last_index; /* tokens, calls with last = 1, the index of the last such */
  int bad_len;                  /* tokens of 0 or more than PV_TOK_MAX bytes */
  int stop_at, stop_rc;         /* return stop_rc on token number stop_at (1-based) */
} got;

static int take(void *ctx, const char *tok, size_t len, int last) {
  got *g = ctx;
  if (!len || len > PV_TOK_MAX) g->bad_len++;
  if (g->len + len + 2 < sizeof g->s) {
    if (g->count) g->s[g->len++] = ' ';
    memcpy(g->s + g->len, tok, len);
    g->len += len;
    g->s[g->len] = 0;
  }
  g->count++;
  if (last) g->lasts++, g->last_index = g->count;
  return g->count == g->stop_at ? g->stop_rc : 0;
}

static int run(const char *text, size_t len, unsigned flags, got *g) {
  memset(g, 0, sizeof *g);
  size_t bad = 12345;
  int rc = pv__tokenize(text, len, flags, take, g, &bad);
  if (rc != PV_TOK_BADUTF8) CHECK_EQ_INT(bad, 12345); /* untouched */
  return rc;
}

/* The tokens of text (len bytes) under flags must be `want` (space-separated),
 * each 1..PV_TOK_MAX bytes of valid UTF-8, with last = 1 on the final one only. */
static void toks_at(const char *file, int line, const char *text, size_t len, unsigned flags,
                    const char *want) {
  got g;
  int rc = run(text, len, flags, &g);
  if (rc) tu_fail(file, line, "tokenize \"%.*s\" returned %d", (int)len, text, rc);
  if (strcmp(g.s, want))
    tu_fail(file, line, "tokens of \"%.*s\" (flags %u): \"%s\", want \"%s\"", (int)len, text,
            flags, g.s, want);
  if (g.count ? g.lasts != 1 || g.last_index != g.count : g.lasts != 0)
    tu_fail(file, line, "\"%.*s\": last = 1 on %d of %d tokens (at %d)", (int)len, text, g.lasts,
            g.count, g.last_index);
  if (g.bad_len) tu_fail(file, line, "\"%.*s\": %d tokens of a bad length", (int)len, text, g.bad_len);
  if (!pv__utf8_valid(g.s, g.len))
    tu_fail(file, line, "\"%.*s\": a token is not valid UTF-8", (int)len, text);
}
#define TOKS(text, flags, want) toks_at(__FILE__, __LINE__, text, sizeof(text) - 1, flags, want)

/* The offset reported for an invalid text, and that nothing went out. */
static void bad_at(const char *file, int line, const char *text, size_t len, size_t want) {
  got g;
  memset(&g, 0, sizeof g);
  size_t bad = 999;
  int rc = pv__tokenize(text, len, PV_TOK_STEM | PV_TOK_STOPWORDS, take, &g, &bad);
  if (rc != PV_TOK_BADUTF8 || bad != want || g.count)
    tu_fail(file, line, "invalid text %zu bytes: rc %d, offset %zu (want %zu), %d tokens out", len,
            rc, bad, want, g.count);
}
#define BAD(text, want) bad_at(__FILE__, __LINE__, text, sizeof(text) - 1, want)

/* ---- tests ------------------------------------------------------------------ */

/* Invalid UTF-8 is refused whole, at the offset of the first bad sequence;
 * valid edge cases pass. */
void test_token_utf8(void) {
  BAD("bad \xff byte", 4);
  BAD("caf\xc3", 3);                  /* truncated at the end */
  BAD("caf\xc3 x", 3);                /* truncated inside */
  BAD("ok \xc0\xaf", 3);              /* overlong '/' */
  BAD("\xe0\x80\xaf", 0);             /* overlong, 3 bytes */
  BAD("ab\xf0\x80\x80\xaf", 2);       /* overlong, 4 bytes */
  BAD("x \xed\xa0\x80", 2);           /* surrogate U+D800 */
  BAD("x \xed\xbf\xbf", 2);           /* surrogate U+DFFF */
  BAD("abc \xf4\x90\x80\x80", 4);     /* U+110000 */
  BAD("\xf5\x80\x80\x80", 0);         /* lead byte past F4 */
  BAD("a\x80", 1);                    /* stray continuation */
  BAD("word \xe2\x82 word", 5);       /* 2 of 3 bytes */
  BAD("first ok caf\xc3\xa9 then \xc3", 20); /* the first bad one, after good ones */
  /* Nothing goes out even when the valid part has many tokens. */
  got g;
  CHECK_EQ_INT(run("one two three \xff", 15, 0, &g), PV_TOK_BADUTF8);
  CHECK_EQ_INT(g.count, 0);
  /* bad may be NULL. */
  CHECK_EQ_INT(pv__tokenize("\xff", 1, 0, take, &g, NULL), PV_TOK_BADUTF8);
  /* Valid extremes. */
  TOKS("\xf4\x8f\xbf\xbf", 0, "");            /* U+10FFFF, private use: a separator */
  TOKS("a\xef\xbf\xbf" "b", 0, "a b");        /* U+FFFF */
  TOKS("\xed\x9f\xbf", 0, "\xed\x9f\xbf");    /* U+D7FF, a Hangul jamo: a letter */
  TOKS("\xee\x80\x80x", 0, "x");              /* U+E000 */
  TOKS("\xf0\x90\x8c\xb0\xf0\x90\x8c\xb1", 0, "\xf0\x90\x8c\xb0\xf0\x90\x8c\xb1"); /* Gothic */
  /* No text, no tokens, no call. */
  CHECK_EQ_INT(run(NULL, 0, PV_TOK_PREFIX, &g), 0);
  CHECK_EQ_INT(g.count, 0);
  TOKS("", 0, "");
  TOKS(" \t\n.,;!?-", PV_TOK_PREFIX, "");
}

/* What a token is: runs of letters and digits; everything else separates;
 * runs of CJK ideographs, kana and Hangul syllables give the pairs of
 * neighbours (a run of one, itself). */
void test_token_split(void) {
  TOKS("Hello, World!", 0, "hello world");
  TOKS("  leading and trailing  ", 0, "leading and trailing");
  TOKS("tab\tnew\nline\r\nnul\0byte", 0, "tab new line nul byte");
  TOKS("e-mail snake_case a.b.c 3.14 x+y=z", 0, "e mail snake case a b c 3 14 x y z");
  TOKS("b2b mp3 2024 COVID19", 0, "b2b mp3 2024 covid19");
  TOKS("price: $40 \xe2\x82\xac" "50 50%", 0, "price 40 50 50"); /* euro sign */
  TOKS("\xe2\x80\x9cquoted\xe2\x80\x9d \xc2\xabguillemets\xc2\xbb", 0, "quoted guillemets");
  TOKS("em\xe2\x80\x94" "dash non\xc2\xa0" "breaking", 0, "em dash non breaking");
  TOKS("emoji\xf0\x9f\x98\x80inside \xf0\x9f\x91\x8d", 0, "emoji inside");
  TOKS("\xc2\xb2\xc2\xb3 x\xc2\xb2", 0, "x"); /* superscripts separate */
  /* CJK: the pairs of neighbours in a run (東京都: 東京 京都), a run of one
   * character itself; runs of other letters beside them. */
  TOKS("\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd", 0, "\xe6\x9d\xb1\xe4\xba\xac \xe4\xba\xac\xe9\x83\xbd");
  TOKS("\xe6\x97\xa5\xe6\x9c\xac" "abc\xe8\xaa\x9e", 0, "\xe6\x97\xa5\xe6\x9c\xac abc \xe8\xaa\x9e");
  TOKS("abc\xe6\x97\xa5 \xe6\x9c\xac" "def", 0, "abc \xe6\x97\xa5 \xe6\x9c\xac def"); /* runs of one */
  TOKS("\xe6\x97\xa5\xe3\x80\x81\xe6\x9c\xac\xe8\xaa\x9e", 0, "\xe6\x97\xa5 \xe6\x9c\xac\xe8\xaa\x9e"); /* 日、本語 */
  TOKS("\xe3\x81\x8b\xe3\x82\xab", 0, "\xe3\x81\x8b\xe3\x82\xab");  /* hiragana ka, katakana ka */
  TOKS("\xe3\x81\x8b\xe3\x82\x99\xe3\x81\x8d", 0, "\xe3\x81\x8b\xe3\x81\x8d"); /* a voicing mark: ignored */
  TOKS("\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4", 0, "\xed\x95\x9c\xea\xb5\xad \xea\xb5\xad\xec\x96\xb4");  /* Hangul */
  TOKS("\xe3\x80\x82\xe3\x80\x81", 0, "");                           /* ideographic punctuation */
  TOKS("\xef\xbc\x8c\xe3\x80\x8c\xe5\xad\x97\xe3\x80\x8d", 0, "\xe5\xad\x97"); /* fullwidth comma, brackets */
  /* Other scripts: words of letters, as they are. */
  TOKS("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85", 0,
       "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d \xd8\xb3\xd9\x84\xd8\xa7\xd9\x85"); /* shalom salam */
  TOKS("\xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\x82\xe0\xa4\xa6\xe0\xa5\x80\xe0\xa5\xa4", 0,
       "\xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\x82\xe0\xa4\xa6\xe0\xa5\x80"); /* Hindi, danda */
  /* Marks inside a word are dropped; before a word they start nothing. */
  TOKS("co\xc2\xadoperate", 0, "cooperate");                /* soft hyphen */
  TOKS("\xcc\x81" "abc \xe2\x80\x8d", 0, "abc");            /* a lone accent, a lone ZWJ */
  TOKS("\xd7\xa9\xd6\xb8\xd7\x9c\xd7\x95\xd6\xb9\xd7\x9d", 0, "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d"); /* niqqud */
}

/* Lower case, Latin and Greek accents folded; Cyrillic ё as е. */
void test_token_fold(void) {
  TOKS("CAF\xc3\x89 caf\xc3\xa9 cafe\xcc\x81", 0, "cafe cafe cafe"); /* NFC and NFD */
  TOKS("Stra\xc3\x9f" "e STRASSE", 0, "strasse strasse");
  TOKS("\xc3\x86sir \xc3\xa6" "on \xc5\x92uvre", 0, "aesir aeon oeuvre");
  TOKS("\xc3\x98resund \xc5\x81\xc3\xb3" "d\xc5\xba \xc4\x90" "or\xc4\x91" "e", 0,
       "oresund lodz dorde");
  TOKS("\xc3\x9e\xc3\xb3rr \xc3\xb0" "a", 0, "thorr da");       /* thorn, eth */
  TOKS("\xc4\xb0stanbul \xc4\xb1" "s\xc4\xb1k", 0, "istanbul isik"); /* dotted and dotless i */
  TOKS("Ti\xe1\xba\xbfng Vi\xe1\xbb\x87t", 0, "tieng viet");
  TOKS("na\xc3\xafve R\xc3\xa9sum\xc3\xa9 \xc3\x85ngstr\xc3\xb6m", 0, "naive resume angstrom");
  TOKS("\xc7\x85" "ungla \xc7\x8c", 0, "dzungla nj");        /* digraph letters */
  TOKS("\xef\xac\x81le \xef\xac\x83" "x", 0, "file ffix");   /* ligatures fi, ffi */
  TOKS("\xef\xbc\xa8\xef\xbd\x85\xef\xbd\x8c\xef\xbd\x8c\xef\xbd\x8f\xef\xbc\x91", 0, "hello1"); /* fullwidth */
  TOKS("\xc2\xaa \xc2\xba \xc2\xb5m", 0, "a o \xce\xbcm"); /* ordinals; micro sign is mu */
  /* Greek: accents and final sigma. */
  TOKS("\xce\x95\xce\xbb\xce\xbb\xce\xac\xce\xb4\xce\xb1 \xce\x95\xce\x9b\xce\x9b\xce\x86\xce\x94\xce\x91", 0,
       "\xce\xb5\xce\xbb\xce\xbb\xce\xb1\xce\xb4\xce\xb1 \xce\xb5\xce\xbb\xce\xbb\xce\xb1\xce\xb4\xce\xb1");
  TOKS("\xce\xbb\xcf\x8c\xce\xb3\xce\xbf\xcf\x82 \xce\x9b\xce\x8c\xce\x93\xce\x9f\xce\xa3", 0,
       "\xce\xbb\xce\xbf\xce\xb3\xce\xbf\xcf\x83 \xce\xbb\xce\xbf\xce\xb3\xce\xbf\xcf\x83");
  TOKS("\xe1\xbc\x88\xce\xb8\xe1\xbf\x86\xce\xbd\xce\xb1\xce\xb9", 0,
       "\xce\xb1\xce\xb8\xce\xb7\xce\xbd\xce\xb1\xce\xb9"); /* polytonic */
  /* Cyrillic: lower case; ё and е one letter; й kept. */
  TOKS("\xd0\x9c\xd0\x9e\xd0\xa1\xd0\x9a\xd0\x92\xd0\x90 \xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0", 0,
       "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 \xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0");
  TOKS("\xd0\x81\xd0\xbb\xd0\xba\xd0\xb0 \xd1\x91\xd0\xb6", 0, "\xd0\xb5\xd0\xbb\xd0\xba\xd0\xb0 \xd0\xb5\xd0\xb6");
  TOKS("\xd0\x99\xd0\xbe\xd0\xb3\xd0\xb0 \xd0\x84 \xd2\x90", 0, "\xd0\xb9\xd0\xbe\xd0\xb3\xd0\xb0 \xd1\x94 \xd2\x91");
  /* Armenian and Georgian Mtavruli: lower case. */
  TOKS("\xd4\xb1\xd5\x80\xd5\x84", 0, "\xd5\xa1\xd5\xb0\xd5\xb4");
  TOKS("\xe1\xb2\x90\xe1\xb2\x91", 0, "\xe1\x83\x90\xe1\x83\x91");
}

/* Apostrophes (' U+2019 U+02BC) join the letters around them; a trailing
 * 's 'll 're 've 'd 'm goes; anywhere else an apostrophe separates. */
void test_token_apostrophe(void) {
  TOKS("don't won\xe2\x80\x99t can\xca\xbct", 0, "dont wont cant");
  TOKS("O'Neil d'Artagnan rock'n'roll", 0, "oneil dartagnan rocknroll");
  TOKS("John's Bess\xe2\x80\x99S", 0, "john bess");
  TOKS("we'll they're you've she'd I'm it's", 0, "we they you she i it");
  TOKS("o'clock's", 0, "oclock");
  TOKS("'quoted' students' 'tis", 0, "quoted students tis");
  TOKS("a''b a' b a 'b", 0, "a b a b a b");
  TOKS("x'1 '90s 1'2", 0, "x1 90s 12");
  TOKS("rock'\xe6\x97\xa5", 0, "rock \xe6\x97\xa5"); /* before a CJK character: separates */
  TOKS("caf\xc3\xa9's na\xc3\xafve'd", 0, "cafe naive");
  TOKS("ma'am y'all", 0, "maam yall");
  /* With the options: the joined forms are stopwords, the rest is stemmed. */
  TOKS("Don't you're John's running", PV_TOK_STOPWORDS | PV_TOK_STEM, "john run");
}

/* A word longer than PV_TOK_MAX bytes is cut at the last whole character
 * that fits. */
void test_token_long(void) {
  char text[512], want[512];
  memset(text, 'a', 100);
  memset(want, 'a', PV_TOK_MAX);
  want[PV_TOK_MAX] = 0;
  got g;
  CHECK_OK(run(text, 100, 0, &g));
  CHECK_EQ_INT(g.count, 1);
  CHECK(!strcmp(g.s, want));
  /* Exactly PV_TOK_MAX bytes: whole. */
  CHECK_OK(run(text, PV_TOK_MAX, 0, &g));
  CHECK(!strcmp(g.s, want));
  /* 2-byte letters: 32 fit. */
  for (int i = 0; i < 40; i++) memcpy(text + 2 * i, "\xd0\xb6", 2);
  CHECK_OK(run(text, 80, 0, &g));
  CHECK_EQ_INT(g.len, 64);
  /* 3-byte letters (Georgian): 21 fit, 63 bytes. */
  for (int i = 0; i < 30; i++) memcpy(text + 3 * i, "\xe1\x83\x90", 3);
  CHECK_OK(run(text, 90, 0, &g));
  CHECK_EQ_INT(g.len, 63);
  CHECK(!memcmp(g.s, text, 63));
  /* 4-byte letters (Gothic): 16 fit. */
  for (int i = 0; i < 17; i++) memcpy(text + 4 * i, "\xf0\x90\x8c\xb0", 4);
  CHECK_OK(run(text, 68, 0, &g));
  CHECK_EQ_INT(g.len, 64);
  /* A fold to two letters cut between them; what follows the cut is lost
   * even where a shorter character would fit. */
  memset(text, 'a', 63);
  memcpy(text + 63, "\xc3\x9f" "b c", 5);
  CHECK_OK(run(text, 68, 0, &g));
  CHECK_EQ_INT(g.count, 2);
  CHECK(!memcmp(g.s, want, 63) && g.s[63] == 's' && !strcmp(g.s + 64, " c"));
  memset(text, 'a', 62);
  memcpy(text + 62, "\xd0\xb6" "b", 3);
  CHECK_OK(run(text, 65, 0, &g));
  CHECK_EQ_INT(g.len, 64);
  memcpy(text + 62, "x\xd0\xb6" "b", 4); /* 63 bytes, then a 2-byte letter: cut there */
  CHECK_OK(run(text, 66, 0, &g));
  CHECK_EQ_INT(g.len, 63);
  /* The clitic goes before the cut. */
  memset(text, 'a', 70);
  memcpy(text + 70, "'s", 2);
  CHECK_OK(run(text, 72, 0, &g));
  CHECK_EQ_INT(g.len, 64);
  memset(text, 'a', 62);
  memcpy(text + 62, "'ll", 3);
  CHECK_OK(run(text, 65, 0, &g));
  CHECK_EQ_INT(g.len, 62);
  /* A long word is stemmed after the cut: the first 64 bytes end in -ing. */
  memset(text, 'a', 61);
  memcpy(text + 61, "ingzzz", 6);
  CHECK_OK(run(text, 67, PV_TOK_STEM, &g));
  CHECK_EQ_INT(g.len, 61);
}

/* PV_TOK_STOPWORDS drops the list's words (after folding), nothing else. */
void test_token_stopwords(void) {
  TOKS("The quick brown fox jumps over the lazy dog", PV_TOK_STOPWORDS, "quick brown fox jumps lazy dog");
  TOKS("THE The the", PV_TOK_STOPWORDS, "");
  TOKS("to be or not to be", PV_TOK_STOPWORDS, "");
  TOKS("to be or not to be", 0, "to be or not to be");
  /* The whole list, as docs/TEXT.md gives it. */
  static const char STOP[] =
      "a i am an as at be by do he if in is it me my no of on or so to we all and any are but "
      "can did few for had has her him his how its nor not now off our out own she the too was "
      "who why you been both cant does dont down each from have here hers into isnt just more "
      "most once only ours over same some such than that them then they this very were what "
      "when whom will with wont your above about after again arent being below could didnt "
      "doing hadnt hasnt other ought shall shant their there these those under until wasnt "
      "where which while whose would yours before cannot doesnt during havent having itself "
      "mustnt myself should theirs werent against because between couldnt further herself "
      "himself through wouldnt shouldnt yourself ourselves themselves yourselves";
  static const char *const KEEP[] = {"us", "b", "x", "ab", "alls", "yous", "ourselve", "they're2",
                                     "the1", "themselvess", "search", "vector", "well", "shell"};
  got g;
  CHECK_OK(run(STOP, strlen(STOP), 0, &g));
  CHECK_EQ_INT(g.count, 146);
  CHECK_OK(run(STOP, strlen(STOP), PV_TOK_STOPWORDS, &g));
  CHECK_MSG(g.count == 0, "not stopwords: %s", g.s);
  for (size_t i = 0; i < sizeof KEEP / sizeof KEEP[0]; i++) {
    CHECK_OK(run(KEEP[i], strlen(KEEP[i]), PV_TOK_STOPWORDS, &g));
    CHECK_MSG(g.count >= 1, "\"%s\" is not a stopword", KEEP[i]);
  }
  /* Stopwords before stemming: "doing" goes, "does" goes, "done" stays. */
  TOKS("doing does done", PV_TOK_STOPWORDS | PV_TOK_STEM, "done");
}

/* PV_TOK_STEM: Porter2 on tokens of ASCII letters (after folding), the
 * others as they are. */
void test_token_stem(void) {
  TOKS("running runners ran easily generously", PV_TOK_STEM, "run runner ran easili generous");
  TOKS("Connection CONNECTIONS connected", PV_TOK_STEM, "connect connect connect");
  TOKS("caf\xc3\xa9s na\xc3\xafvely", PV_TOK_STEM, "cafe naiv"); /* folded, then stemmed */
  TOKS("mp3s 2000s x1s", PV_TOK_STEM, "mp3s 2000s x1s");         /* digits: not stemmed */
  TOKS("\xd0\xba\xd0\xbd\xd0\xb8\xd0\xb3\xd0\xb8", PV_TOK_STEM, "\xd0\xba\xd0\xbd\xd0\xb8\xd0\xb3\xd0\xb8");
  TOKS("skies dying inning proceed news", PV_TOK_STEM, "sky die inning proceed news");
  /* Direct calls: short words, apostrophes, bytes that are not letters. */
  char w[16];
  memcpy(w, "by", 2);
  CHECK_EQ_INT(pv__stem(w, 2), 2);
  memcpy(w, "'s'", 3);
  CHECK_EQ_INT(pv__stem(w, 3), 1);
  CHECK(w[0] == 's');
  memcpy(w, "\xff\x01zzz\x80", 6);
  CHECK(pv__stem(w, 6) <= 6);
}

/* Every pair of Snowball's english vocabulary kept in the fixture. The
 * file is found beside this source (tests/fixtures/porter2.txt, relative
 * to where make test runs) or at $PV_TEST_PORTER2. */
void test_token_porter2_fixture(void) {
  char path[1024];
  const char *env = getenv("PV_TEST_PORTER2");
  if (env && env[0]) {
    snprintf(path, sizeof path, "%s", env);
  } else {
    const char *file = __FILE__, *slash = strrchr(file, '/');
    snprintf(path, sizeof path, "%.*sfixtures/porter2.txt", slash ? (int)(slash - file + 1) : 0, file);
  }
  FILE *f = fopen(path, "r");
  REQUIRE_MSG(f, "cannot open %s: run the tests from the repository root (as make test does) "
                 "or set PV_TEST_PORTER2 to the file", path);
  char line[256];
  long pairs = 0, wrong = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#') continue;
    char *sp = strchr(line, ' '), *nl = strchr(line, '\n');
    if (!sp || !nl) {
      tu_fail(__FILE__, __LINE__, "%s: bad line \"%s\"", path, line);
      break;
    }
    *nl = 0;
    size_t n = (size_t)(sp - line);
    char w[128];
    memcpy(w, line, n);
    size_t k = pv__stem(w, n);
    pairs++;
    if (k != strlen(sp + 1) || memcmp(w, sp + 1, k)) {
      if (++wrong <= 10)
        tu_fail(__FILE__, __LINE__, "stem(%.*s) = %.*s, want %s", (int)n, line, (int)k, w, sp + 1);
    }
  }
  fclose(f);
  CHECK_MSG(pairs > 5000, "%ld pairs read from %s", pairs, path);
  CHECK_EQ_INT(wrong, 0);
}

/* PV_TOK_PREFIX: the text's last token is neither dropped nor stemmed,
 * whatever follows it; last = 1 on the last token emitted. */
void test_token_prefix(void) {
  const unsigned ALL = PV_TOK_STEM | PV_TOK_STOPWORDS;
  TOKS("running the", ALL, "run");
  TOKS("running the", ALL | PV_TOK_PREFIX, "run the");
  TOKS("running the ", ALL | PV_TOK_PREFIX, "run the");
  TOKS("running the...", ALL | PV_TOK_PREFIX, "run the");
  TOKS("the runn", ALL | PV_TOK_PREFIX, "runn");
  TOKS("the running", ALL | PV_TOK_PREFIX, "running");
  TOKS("running runners", PV_TOK_STEM | PV_TOK_PREFIX, "run runners");
  TOKS("the a", ALL, "");
  TOKS("the a", ALL | PV_TOK_PREFIX, "a");
  TOKS("The", ALL | PV_TOK_PREFIX, "the"); /* folded all the same */
  TOKS("runs \xe6\x97\xa5", ALL | PV_TOK_PREFIX, "run \xe6\x97\xa5");
  TOKS("John's", ALL | PV_TOK_PREFIX, "john");
  /* The exemption is for the last token read, not the last kept. */
  TOKS("running the the", ALL | PV_TOK_PREFIX, "run the");
  /* last = 1 lands on the last token out, also when stopwords follow it. */
  got g;
  CHECK_OK(run("alpha beta the of", 17, PV_TOK_STOPWORDS, &g));
  CHECK_EQ_INT(g.count, 2);
  CHECK_EQ_INT(g.lasts, 1);
  CHECK_EQ_INT(g.last_index, 2);
}

/* A nonzero return from emit stops the run and comes back as it is. */
void test_token_stop(void) {
  got g;
  memset(&g, 0, sizeof g);
  g.stop_at = 2;
  g.stop_rc = 42;
  CHECK_EQ_INT(pv__tokenize("one two three four", 18, 0, take, &g, NULL), 42);
  CHECK_EQ_INT(g.count, 2);
  CHECK(!strcmp(g.s, "one two"));
  /* On the last token. */
  memset(&g, 0, sizeof g);
  g.stop_at = 3;
  g.stop_rc = -7;
  CHECK_EQ_INT(pv__tokenize("one two three", 13, PV_TOK_PREFIX, take, &g, NULL), -7);
  CHECK_EQ_INT(g.count, 3);
  CHECK_EQ_INT(g.lasts, 1);
  /* On the first, with stopwords skipped before it. */
  memset(&g, 0, sizeof g);
  g.stop_at = 1;
  g.stop_rc = 1;
  CHECK_EQ_INT(pv__tokenize("the of cat dog", 14, PV_TOK_STOPWORDS, take, &g, NULL), 1);
  CHECK(!strcmp(g.s, "cat"));
}

/* Random texts from pieces (letters of several scripts, marks, apostrophes,
 * separators, CJK, long runs) under every flag combination: the shape of
 * the output holds, the tokens are those of the text tokenized again, and
 * the flags only ever remove or shorten tokens. */
void test_token_random(void) {
  static const char *const PIECE[] = {
      "a", "Z", "9", "'", "\xe2\x80\x99", " ", ".", "-", "\xc3\xa9", "\xc3\x9f", "\xc3\x86",
      "\xce\xa3", "\xcf\x82", "\xd0\x81", "\xe6\x97\xa5", "\xe3\x81\x8b", "\xcc\x81",
      "\xc2\xad", "\xef\xac\x83", "\xef\xbc\xa1", "\xf0\x90\x8c\xb0", "\xf0\x9f\x98\x80", "s",
      "ll", "the", "running", "ization", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "\xe1\x83\x90"};
  uint64_t s = 77;
  char text[600];
  got g, h;
  for (int iter = 0; iter < 3000; iter++) {
    size_t len = 0, parts = 1 + tu_below(&s, 30);
    for (size_t i = 0; i < parts; i++) {
      const char *p = PIECE[tu_below(&s, sizeof PIECE / sizeof PIECE[0])];
      memcpy(text + len, p, strlen(p));
      len += strlen(p);
    }
    int plain = -1;
    static char plain_s[sizeof g.s];
    for (unsigned flags = 0; flags < 8; flags++) {
      REQUIRE_OK(run(text, len, flags, &g));
      CHECK(!g.bad_len);
      CHECK(g.count ? g.lasts == 1 && g.last_index == g.count : g.lasts == 0);
      CHECK(pv__utf8_valid(g.s, g.len));
      if (!flags) plain = g.count, memcpy(plain_s, g.s, g.len + 1);
      CHECK(g.count <= plain);
      REQUIRE_OK(run(text, len, flags, &h));
      CHECK(g.count == h.count && !strcmp(g.s, h.s));
      if (flags == PV_TOK_PREFIX) CHECK(g.count == plain && !strcmp(g.s, plain_s));
    }
  }
}
