/* SPDX-License-Identifier: MIT */
/*
 * The tokenizer of the text index: UTF-8 text in, search terms out
 * (docs/TEXT.md, "Tokenizer", states the rules a user can rely on).
 * token.c reads words, folds case and accents, drops stopwords; stem.c
 * is the English stemmer. Both are pure functions of their input: no
 * allocation, no I/O, no state between calls, safe from any thread.
 */
#ifndef PV_TOKEN_H
#define PV_TOKEN_H
#include <stddef.h>
#include <stdint.h>

#define PV_TOK_STEM 1u      /* English Porter2 stemming */
#define PV_TOK_STOPWORDS 2u /* drop English stopwords */
#define PV_TOK_PREFIX 4u    /* the query's last token is a prefix being typed */
#define PV_TOK_MAX 64       /* max bytes of one emitted token */
#define PV_TOK_BADUTF8 (-1)

/* Receives one token: len (1..PV_TOK_MAX) bytes of valid UTF-8 at tok, not
 * NUL-terminated, valid during the call only. last is 1 on the final token
 * of the text and 0 on the others. A nonzero return stops the tokenizer,
 * which returns that value. */
typedef int (*pv_tok_emit)(void *ctx, const char *tok, size_t len, int last);

/* Splits text (len bytes; NULL allowed when len is 0) into tokens under
 * flags (PV_TOK_*) and passes each to emit, in order.
 * Returns 0 when every token went out, emit's value when it stopped the
 * run, or PV_TOK_BADUTF8 when text is not valid UTF-8 (overlong forms,
 * surrogates, code points above U+10FFFF, truncated or stray bytes): then
 * *bad (when bad is not NULL) is the byte offset of the first sequence
 * that is not valid, and emit was never called. The text is checked whole
 * before the first token goes out, so a caller never has to undo tokens
 * of a text it must refuse. emit is not called at all for a text without
 * tokens. */
int pv__tokenize(const char *text, size_t len, unsigned flags, pv_tok_emit emit, void *ctx,
                 size_t *bad);

/* Stems the English word w[0..n) in place with Porter2 (Snowball's
 * "english" algorithm) and returns the stem's length (<= n; a word of
 * fewer than 3 bytes comes back as it is). w holds lower-case ASCII
 * letters and apostrophes (the tokenizer passes letters only; the
 * apostrophe rules are there so the whole Snowball vocabulary can be
 * checked). Other bytes are treated as consonants: no crash, no meaning. */
size_t pv__stem(char *w, size_t n);

#endif /* PV_TOKEN_H */
