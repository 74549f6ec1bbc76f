/* TEMPORARY stand-in (ASCII only), not committed. */
#include "text/token.h"
#include "attr/attr.h"
static int isal(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80; }
int pv__tokenize(const char *t, size_t len, unsigned flags, pv_tok_emit emit, void *ctx, size_t *bad) {
  (void)flags;
  if (len && !pv__utf8_valid(t, len)) { if (bad) *bad = 0; return PV_TOK_BADUTF8; }
  char buf[PV_TOK_MAX]; size_t bl = 0; int have = 0; char pend[PV_TOK_MAX]; size_t pl = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && isal((unsigned char)t[i])) { char c = t[i]; if (c >= 'A' && c <= 'Z') c += 32; if (bl < PV_TOK_MAX) buf[bl++] = c; continue; }
    if (bl) { if (have) { int r = emit(ctx, pend, pl, 0); if (r) return r; } for (size_t j = 0; j < bl; j++) pend[j] = buf[j]; pl = bl; have = 1; bl = 0; }
  }
  if (have) return emit(ctx, pend, pl, 1);
  return 0;
}
