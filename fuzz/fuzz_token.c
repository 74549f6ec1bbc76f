/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the tokenizer (src/text/token.c, stem.c). The input
 * is one control byte, then the text; the text is tokenized under every
 * combination of PV_TOK_STEM, PV_TOK_STOPWORDS and PV_TOK_PREFIX, and
 * once more with an emit that stops the run at the token the control byte
 * names (1-7; 0: never).
 *
 * The target aborts (a finding) when, beyond what ASan and UBSan catch:
 *   - the result disagrees with pv__utf8_valid: invalid text must give
 *     PV_TOK_BADUTF8 with no token out and an offset at which the text
 *     stops being valid (the bytes before it are valid, those from it on
 *     are not), valid text must give 0;
 *   - a token is empty, longer than PV_TOK_MAX, not valid UTF-8, or holds
 *     an ASCII byte other than a-z and 0-9 (folding lowers every letter;
 *     separators and apostrophes never reach a token);
 *   - last is 1 on a token other than the final one, or 0 on the final one;
 *   - options make more tokens than no options, or PV_TOK_PREFIX alone
 *     changes them;
 *   - a token of the plain run (no options), tokenized again, is not
 *     itself: folding is idempotent and a token splits no further;
 *   - an emit that returns nonzero does not stop the run there, or its
 *     value does not come back.
 *
 * Seeds: fuzz/corpus/token; dictionary: fuzz/token.dict.
 * Build and run: see fuzz/fuzz.mk (`make fuzz-run`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr/attr.h"
#include "attr/encoding.h"
#include "text/token.h"

#define FINDING(...)                                            \
  do {                                                          \
    fprintf(stderr, "fuzz_token: %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                               \
    fprintf(stderr, "\n");                                      \
    abort();                                                    \
  } while (0)

#define MAXTOK 4096

typedef struct seen {
  size_t n;                /* tokens */
  int final_last;          /* last = 1 was passed on the newest token */
  int stop_at, stop_rc;    /* return stop_rc on token stop_at */
  size_t off[MAXTOK + 1];  /* token i is text[off[i]..off[i+1]) */
  char text[MAXTOK * PV_TOK_MAX];
} seen;

static int on_token(void *ctx, const char *tok, size_t len, int last) {
  seen *s = ctx;
  if (s->n && s->final_last) FINDING("a token after the one marked last");
  if (!len || len > PV_TOK_MAX) FINDING("token of %zu bytes", len);
  if (!pv__utf8_valid(tok, len)) FINDING("token not UTF-8");
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)tok[i];
    if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
      FINDING("byte 0x%02x in a token", c);
  }
  if (s->n < MAXTOK) {
    memcpy(s->text + s->off[s->n], tok, len);
    s->off[s->n + 1] = s->off[s->n] + len;
  }
  s->n++;
  s->final_last = last;
  return (int)s->n == s->stop_at ? s->stop_rc : 0;
}

static seen runs[9];

static int tokenize(const char *text, size_t len, unsigned flags, seen *s, size_t *bad) {
  s->n = 0;
  s->final_last = 0;
  s->off[0] = 0;
  return pv__tokenize(text, len, flags, on_token, s, bad);
}

static int same(const seen *a, const seen *b) {
  if (a->n != b->n) return 0;
  size_t k = a->n < MAXTOK ? a->n : MAXTOK;
  return a->off[k] == b->off[k] && !memcmp(a->text, b->text, a->off[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!size) return 0;
  int stop_at = data[0] % 8;
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  int valid = pv__utf8_valid(text, len);
  for (unsigned flags = 0; flags < 8; flags++) {
    seen *s = &runs[flags];
    s->stop_at = 0;
    size_t bad = (size_t)-1;
    int rc = tokenize(text, len, flags, s, &bad);
    if (!valid) {
      if (rc != PV_TOK_BADUTF8) FINDING("invalid UTF-8: rc %d", rc);
      if (s->n) FINDING("invalid UTF-8: %zu tokens out", s->n);
      if (bad >= len || !pv__utf8_valid(text, bad) || pv__utf8_valid(text + bad, len - bad))
        FINDING("invalid UTF-8: offset %zu of %zu", bad, len);
      if (pv__utf8_prefix(text, len) != bad) FINDING("offset %zu, not the valid prefix", bad);
      continue;
    }
    if (rc) FINDING("valid text: rc %d", rc);
    if (bad != (size_t)-1) FINDING("valid text: bad set");
    if (s->n && !s->final_last) FINDING("the final token without last");
    if (s->n > runs[0].n) FINDING("flags %u: %zu tokens, %zu without", flags, s->n, runs[0].n);
  }
  if (!valid) return 0;
  if (!same(&runs[0], &runs[PV_TOK_PREFIX])) FINDING("PV_TOK_PREFIX alone changed the tokens");
  /* Every plain token is a fixed point. */
  seen *again = &runs[8];
  again->stop_at = 0;
  size_t k = runs[0].n < MAXTOK ? runs[0].n : MAXTOK;
  for (size_t i = 0; i < k; i++) {
    const char *t = runs[0].text + runs[0].off[i];
    size_t tl = runs[0].off[i + 1] - runs[0].off[i];
    if (tokenize(t, tl, 0, again, NULL)) FINDING("token %zu: an error", i);
    if (again->n != 1 || again->off[1] != tl || memcmp(again->text, t, tl))
      FINDING("token %zu (%.*s) tokenizes to %zu tokens / other bytes", i, (int)tl, t, again->n);
  }
  /* An emit that stops: its value, at its token. */
  if (stop_at) {
    unsigned flags = data[0] >> 5;
    seen *s = &runs[8];
    s->stop_at = stop_at;
    s->stop_rc = 1000 + stop_at;
    int rc = tokenize(text, len, flags, s, NULL);
    size_t want = runs[flags].n < (size_t)stop_at ? runs[flags].n : (size_t)stop_at;
    if (s->n != want) FINDING("stopped after %zu tokens, want %zu", s->n, want);
    if (rc != (runs[flags].n >= (size_t)stop_at ? s->stop_rc : 0)) FINDING("stop: rc %d", rc);
  }
  return 0;
}
