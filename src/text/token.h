/* TEMPORARY stand-in until the tokenizer branch lands (not committed). */
#ifndef PV_TOKEN_H
#define PV_TOKEN_H
#include <stddef.h>
#include <stdint.h>
#define PV_TOK_STEM 1u
#define PV_TOK_STOPWORDS 2u
#define PV_TOK_PREFIX 4u
#define PV_TOK_MAX 64
#define PV_TOK_BADUTF8 (-1)
typedef int (*pv_tok_emit)(void *ctx, const char *tok, size_t len, int last);
int pv__tokenize(const char *text, size_t len, unsigned flags, pv_tok_emit emit, void *ctx,
                 size_t *bad);
#endif
