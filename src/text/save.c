/* SPDX-License-Identifier: MIT */
/*
 * The text index in a file: the optional section PV_SEC_TEXT
 * (docs/FORMAT.md, "Text").
 *
 *   u32 flags                the tokenizer's (pv_options' text)
 *   u32 terms
 *   per term, in number order: u8 length, its bytes, u32 postings,
 *                            u32 bytes of its stream
 *   the streams, term after term, as in memory
 *
 * Only what cannot be derived is saved: skips, bounds, df, the live
 * bitmap and the forward records are rebuilt from the postings on load,
 * which also proves them consistent (every live document's length the
 * same in all its postings and equal to the sum of its counts).
 */
#include <string.h>

#include "attr/attr.h"
#include "index.h"
#include "persist/format.h"
#include "text/text.h"
#include "text/token.h"

#define CORRUPT PV_CORRUPT_

int pv__text_present(const pv_index *idx) { return idx->text.nterm || idx->text.flags; }

uint64_t pv__text_len(const pv_index *idx) {
  const pv_text *t = &idx->text;
  uint64_t len = 8;
  for (uint32_t i = 0; i < t->nterm; i++)
    len += 1 + (uint64_t)t->arena[t->term[i].str] + 8 + t->term[i].len;
  return len;
}

void pv__text_walk(pv_walker *w, const pv_index *idx) {
  const pv_text *t = &idx->text;
  uint8_t buf[8 + 1 + PV_TOK_MAX];
  pv__put32(buf, t->flags);
  pv__put32(buf + 4, t->nterm);
  pv__emit(w, buf, 8, PV_SEC_TEXT);
  for (uint32_t i = 0; i < t->nterm && !w->stopped; i++) {
    const uint8_t *s = t->arena + t->term[i].str;
    memcpy(buf, s, 1 + (size_t)s[0]);
    pv__put32(buf + 1 + s[0], t->term[i].n);
    pv__put32(buf + 5 + s[0], t->term[i].len);
    pv__emit(w, buf, 9 + (size_t)s[0], PV_SEC_TEXT);
  }
  for (uint32_t i = 0; i < t->nterm && !w->stopped; i++)
    pv__emit(w, t->term[i].post, t->term[i].len, PV_SEC_TEXT);
}

/* Per-slot scratch of a load. */
typedef struct lslot {
  uint32_t dl;    /* the length its postings give; 0: none seen */
  uint32_t terms; /* its postings */
  uint32_t bytes; /* its forward record's varints (then: where the next goes) */
  uint32_t prev;  /* its last term */
  uint64_t sum;   /* its counts */
} lslot;

/* Walk term i's stream (n postings, len bytes at p): check every posting
 * and, for those of live documents, check them against and note them in
 * ls. pass 2 writes the forward records instead. */
static int walk_stream(pv_index *idx, const pv_layout *L, uint32_t i, const uint8_t *p,
                       uint32_t n, uint32_t len, lslot *ls, int pass) {
  const uint8_t *end = p + len;
  uint32_t id = 0;
  for (uint32_t j = 0; j < n; j++) {
    uint32_t d, tf, dl;
    size_t a = pv__uvar_get(p, end, &d), b = a ? pv__uvar_get(p + a, end, &tf) : 0,
           c = b ? pv__uvar_get(p + a + b, end, &dl) : 0;
    if (!c) CORRUPT("text term %u: posting %u does not decode", i, j);
    p += a + b + c;
    if ((j && !d) || (uint64_t)id + d >= L->next_id)
      CORRUPT("text term %u: posting %u's id is out of order or was never issued", i, j);
    id += d;
    if (!tf || dl < tf) CORRUPT("text term %u: posting %u counts %u of %u tokens", i, j, tf, dl);
    uint32_t s = pv__live_slot(idx, id);
    if (s == PV_NONE) continue;
    lslot *x = &ls[s];
    if (pass == 1) {
      if (x->dl && x->dl != dl)
        CORRUPT("text id %u has length %u in one posting and %u in another", id, x->dl, dl);
      x->dl = dl;
      x->bytes += (uint32_t)pv__uvar_len(i - (x->terms ? x->prev : 0));
      x->terms++;
      x->sum += tf;
      x->prev = i;
    } else {
      pv_tdoc *f = pv__tdoc_of(idx, s);
      x->bytes += (uint32_t)pv__uvar_put(f->data + x->bytes, i - (x->terms ? x->prev : 0));
      x->terms++;
      x->prev = i;
    }
  }
  if (p != end) CORRUPT("text term %u has %zu bytes after its %u postings", i, (size_t)(end - p), n);
  return PV_OK;
}

/* Build term e's skips, bounds and df from its (checked) stream. */
static void derive(pv_text *t, pv_term *e) {
  if (!e->n) return;
  pv__text_skips(e, e->n);
  const uint8_t *p = e->post, *end = e->post + e->len;
  uint32_t id = 0;
  for (uint32_t j = 0; j < e->n; j++) {
    uint32_t v[3];
    p = pv__posting_get(p, end, v);
    uint32_t d = v[0], tf = v[1], dl = v[2];
    id += d;
    if (tf > e->max_tf) e->max_tf = tf;
    if (dl < e->min_dl) e->min_dl = dl;
    if (pv__idset_has(&t->on, id)) e->df++;
  }
  e->last = id;
}

int pv__text_load(pv_index *idx, const pv_layout *L, const uint8_t *p, uint64_t len) {
  pv_text *t = &idx->text;
  uint32_t n = idx->st.n;
  if (len < 8) CORRUPT("the text section has %zu bytes; its header needs 8", (size_t)len);
  uint32_t flags = pv__get32(p), nterm = pv__get32(p + 4);
  if (flags & ~(PV_TEXT_STEM | PV_TEXT_STOPWORDS)) CORRUPT("the text section has unknown flags %u", flags);
  t->flags = flags;
  idx->opt.text = flags; /* pv_get_options gives back what pv_new was given */
  /* Each term takes at least 10 bytes: a bound on what to allocate. */
  if (nterm > (len - 8) / 10) CORRUPT("the text section is too short for its %u terms", nterm);
  const uint8_t *q = p + 8, *end = p + len;
  uint64_t streams = 0;
  for (uint32_t i = 0; i < nterm; i++) {
    if (end - q < 1 || (uint64_t)(end - q) < 9u + q[0])
      CORRUPT("the text section ends inside term %u", i);
    size_t tl = q[0];
    const char *tb = (const char *)q + 1;
    uint32_t np = pv__get32(q + 1 + tl), nb = pv__get32(q + 5 + tl);
    if (!tl || tl > PV_TOK_MAX || !pv__utf8_valid(tb, tl))
      CORRUPT("text term %u has a length of %zu or is not UTF-8", i, tl);
    if (pv__term_find(t, tb, tl) != PV_NONE) CORRUPT("text term %u appears twice", i);
    if (np > nb || (uint64_t)np * 3 > nb || nb > len) CORRUPT("text term %u: %u postings in %u bytes", i, np, nb);
    if (pv__text_term_room(idx, tl)) goto nomem;
    pv_term *e = &t->term[pv__text_term_new(t, tb, tl)];
    e->n = np;
    e->len = nb;
    streams += nb;
    q += 9 + tl;
  }
  if (streams != (uint64_t)(end - q))
    CORRUPT("the text section's streams have %zu bytes; its terms say %zu", (size_t)(end - q),
            (size_t)streams);
  /* Check every stream and what it says of live documents. */
  lslot *ls = NULL;
  size_t lbytes = sizeof(lslot) * (size_t)n;
  if (n && !(ls = pv__malloc(idx, lbytes))) goto nomem;
  if (n) memset(ls, 0, lbytes);
  int rc = PV_OK;
  const uint8_t *s = q;
  for (uint32_t i = 0; i < nterm && !rc; s += t->term[i++].len)
    rc = walk_stream(idx, L, i, s, t->term[i].n, t->term[i].len, ls, 1);
  for (uint32_t x = 0; x < n && !rc; x++)
    if (ls[x].terms && ls[x].sum != ls[x].dl)
      rc = pv__error(NULL, PV_CORRUPT, "text slot %u: its counts add up to %u, its length is %u",
                     x, (unsigned)ls[x].sum, ls[x].dl);
  if (rc) {
    pv__free(idx, ls, lbytes);
    return rc;
  }
  /* The live set and the forward records. */
  for (uint32_t x = 0; x < n; x++) {
    if (!ls[x].terms) continue;
    uint32_t id = pv__id(idx, x);
    if (pv__idset_reserve(idx, &t->on, id, id)) goto nomem_ls;
    pv_tdoc *f = pv__malloc(idx, sizeof(pv_tdoc) + ls[x].bytes);
    if (!f) goto nomem_ls;
    f->dl = ls[x].dl;
    f->nterms = ls[x].terms;
    f->bytes = ls[x].bytes;
    ((pv_tdoc **)idx->st.col[PV_COL_TEXT].base)[x] = f;
    t->nforward++;
    t->ndocs++;
    t->total += f->dl;
    pv__idset_put(&t->on, id, 1);
    ls[x].terms = ls[x].bytes = 0;
  }
  s = q;
  for (uint32_t i = 0; i < nterm; s += t->term[i++].len)
    walk_stream(idx, L, i, s, t->term[i].n, t->term[i].len, ls, 2);
  pv__free(idx, ls, lbytes);
  ls = NULL;
  /* The streams, copied, and what follows from them. */
  for (uint32_t i = 0; i < nterm; i++) {
    pv_term *e = &t->term[i];
    uint32_t nb = e->len, sk = e->n > PV_TEXT_BLOCK ? (e->n + PV_TEXT_BLOCK - 1) / PV_TEXT_BLOCK : 0;
    e->len = 0;
    if (nb && !(e->post = pv__malloc(idx, nb))) goto nomem;
    e->cap = nb;
    if (sk && !(e->skip = pv__malloc(idx, sizeof(pv_tskip) * sk))) goto nomem;
    e->skip_cap = sk;
    if (nb) memcpy(e->post, q, nb);
    e->len = nb;
    q += nb;
    derive(t, e);
  }
  pv__text_sort(idx);
  return PV_OK;
nomem_ls:
  pv__free(idx, ls, lbytes);
nomem:
  return pv__error(NULL, PV_NOMEM, "out of memory loading the text index of %u terms", nterm);
}
