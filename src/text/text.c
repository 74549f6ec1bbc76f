/* SPDX-License-Identifier: MIT */
/*
 * The text index (text.h): documents in and out, compaction, the checker.
 *
 * Writes follow the rest of the library: everything that can fail
 * (tokenizing, new terms, room in every stream, forward records) happens
 * in prepare and reserve; add and kill cannot fail. Reserve may leave new
 * terms with no postings in the dictionary when it runs out of memory
 * half way: an empty term changes no result, and keeping it is simpler
 * than undoing it.
 */
#include <string.h>

#include "attr/attr.h"
#include "attr/encoding.h"
#include "index.h"
#include "text/text.h"
#include "text/token.h"

/* ---- prepared documents --------------------------------------------------- */

/* The distinct terms of a batch's documents, each held once (a term that
 * a thousand documents share is stored once, not a thousand times): its
 * bytes, and its number in the index once a reserve has found or made it.
 * A document being prepared counts its tokens in `cur`. */
typedef struct vterm {
  uint32_t off;  /* in arena: a length byte, then the bytes */
  uint32_t hash;
  uint32_t term; /* its number in the index, or PV_NONE until reserved */
  uint32_t cur;  /* tokens of it in the document being prepared */
} vterm;

struct pv_tvocab {
  pv_buf arena;
  vterm *v;
  uint32_t n, cap;
  uint32_t *seen; /* [cap]: the places the document being prepared holds */
  uint32_t *tab;  /* [tcap = 2 cap]: 1 + a term's place in v, 0: empty */
  uint32_t tcap;
  uint32_t hint; /* the first capacity: one step for most texts */
  uint32_t nseen;
};

/* A document's terms: (place in the vocabulary, count) pairs; once a
 * reserve has found or made the index's terms, their numbers instead
 * (numbered), ascending once the forward record is made. */
typedef struct pv_tpterm {
  uint32_t term, tf;
} pv_tpterm;

struct pv_tprep {
  size_t bytes;   /* of this allocation */
  uint32_t n, dl; /* distinct terms, tokens */
  int numbered;   /* t[].term are the index's numbers (a reserve made them so) */
  pv_tdoc *fwd;   /* the forward record, built by reserve */
  size_t fwd_bytes;
  pv_tpterm t[];
};

/* Its terms, the document's places and the table share one allocation:
 * cap terms, cap places, 2 cap table slots. */
static size_t vocab_bytes(uint32_t cap) { return (size_t)cap * (sizeof(vterm) + 3 * sizeof(uint32_t)); }

void pv__text_vocab_free(pv_index *idx, pv_tvocab *w) {
  if (!w) return;
  pv__buf_free(idx, &w->arena);
  pv__free(idx, w->v, vocab_bytes(w->cap));
  pv__free(idx, w, sizeof *w);
}

/* Room for one more term of len bytes in w. */
static int vocab_room(pv_index *idx, pv_tvocab *w, size_t len) {
  if (pv__buf_reserve(idx, &w->arena, len + 1) || w->arena.len + len + 1 > UINT32_MAX) return PV_NOMEM;
  if (w->n < w->cap) return PV_OK;
  uint32_t cap = w->cap ? 2 * w->cap : w->hint, tcap = 2 * cap;
  if (w->cap >= UINT32_MAX / 8 || (uint64_t)cap * (sizeof(vterm) + 12) > SIZE_MAX) return PV_NOMEM;
  vterm *v = pv__malloc(idx, vocab_bytes(cap));
  if (!v) return PV_NOMEM;
  uint32_t *seen = (uint32_t *)(v + cap), *tab = seen + cap;
  if (w->n) {
    memcpy(v, w->v, sizeof(vterm) * w->n);
    memcpy(seen, w->seen, sizeof(uint32_t) * w->nseen);
  }
  memset(tab, 0, sizeof(uint32_t) * tcap);
  for (uint32_t i = 0; i < w->n; i++) {
    uint32_t j = v[i].hash & (tcap - 1);
    while (tab[j]) j = (j + 1) & (tcap - 1);
    tab[j] = i + 1;
  }
  pv__free(idx, w->v, vocab_bytes(w->cap));
  w->v = v;
  w->seen = seen;
  w->tab = tab;
  w->cap = cap;
  w->tcap = tcap;
  return PV_OK;
}

/* Tokens into the vocabulary, counted for the document being prepared. */
typedef struct collect {
  pv_index *idx;
  pv_tvocab *w;
  uint32_t count;
} collect;

static int collect_one(void *ctx, const char *tok, size_t len, int last) {
  (void)last;
  collect *c = ctx;
  pv_tvocab *w = c->w;
  if (c->count == UINT32_MAX - 1) return PV_FULL;
  uint32_t h = pv__key_hash(tok, len), j = w->tcap ? h & (w->tcap - 1) : 0;
  for (; w->tcap && w->tab[j]; j = (j + 1) & (w->tcap - 1)) {
    vterm *e = &w->v[w->tab[j] - 1];
    const uint8_t *b = w->arena.p + e->off;
    if (e->hash == h && b[0] == len && !memcmp(b + 1, tok, len)) {
      if (!e->cur++) w->seen[w->nseen++] = w->tab[j] - 1;
      c->count++;
      return 0;
    }
  }
  if (vocab_room(c->idx, w, len)) return PV_NOMEM;
  vterm *e = &w->v[w->n];
  e->off = (uint32_t)w->arena.len;
  e->hash = h;
  e->term = PV_NONE;
  e->cur = 1;
  w->arena.p[w->arena.len++] = (uint8_t)len;
  memcpy(w->arena.p + w->arena.len, tok, len);
  w->arena.len += len;
  for (j = h & (w->tcap - 1); w->tab[j];) j = (j + 1) & (w->tcap - 1);
  w->tab[j] = w->n + 1;
  w->seen[w->nseen++] = w->n++;
  c->count++;
  return 0;
}

int pv__text_prepare(pv_index *idx, pv_tvocab **vocab, const char *text, size_t len,
                     const char *what, pv_tprep **out) {
  *out = NULL;
  if (!*vocab) {
    *vocab = pv__malloc(idx, sizeof(pv_tvocab));
    if (!*vocab) return pv__error(idx, PV_NOMEM, "out of memory indexing %s", what);
    memset(*vocab, 0, sizeof(pv_tvocab));
    /* About a distinct term per 8 bytes of a short text. */
    uint32_t h = 64;
    while (h < 4096 && h < len / 8) h *= 2;
    (*vocab)->hint = h;
  }
  pv_tvocab *w = *vocab;
  collect c = {idx, w, 0};
  size_t bad = 0;
  w->nseen = 0;
  int rc = pv__tokenize(text, len, idx->text.flags, collect_one, &c, &bad);
  pv_tprep *p = NULL;
  size_t bytes = sizeof(pv_tprep) + (size_t)w->nseen * sizeof(pv_tpterm);
  if (!rc && c.count && (p = pv__malloc(idx, bytes))) {
    p->bytes = bytes;
    p->n = w->nseen;
    p->dl = c.count;
    p->numbered = 0;
    p->fwd = NULL;
    p->fwd_bytes = 0;
    for (uint32_t i = 0; i < w->nseen; i++) p->t[i] = (pv_tpterm){w->seen[i], w->v[w->seen[i]].cur};
  }
  for (uint32_t i = 0; i < w->nseen; i++) w->v[w->seen[i]].cur = 0;
  if (rc == PV_TOK_BADUTF8) {
    pv__error(idx, PV_INVALID, "%s is not valid UTF-8 (at byte %zu)", what, bad);
    pv__error_offset(idx, (int64_t)bad);
    return PV_INVALID;
  }
  if (rc == PV_FULL) return pv__error(idx, PV_FULL, "%s has too many tokens", what);
  if (rc || (c.count && !p)) return pv__error(idx, PV_NOMEM, "out of memory indexing %s", what);
  *out = p;
  return PV_OK;
}

void pv__text_prep_free(pv_index *idx, pv_tprep *p) {
  if (!p) return;
  if (p->fwd) pv__free(idx, p->fwd, p->fwd_bytes);
  pv__free(idx, p, p->bytes);
}

static int same_bytes(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
  return al == bl && memcmp(a, b, al) == 0;
}

/* ---- the dictionary --------------------------------------------------------- */

static const uint8_t *term_bytes(const pv_text *t, uint32_t i, size_t *len) {
  const uint8_t *a = t->arena + t->term[i].str;
  *len = a[0];
  return a + 1;
}

uint32_t pv__term_find(const pv_text *t, const char *b, size_t len) {
  if (!t->hcap) return PV_NONE;
  uint32_t mask = t->hcap - 1;
  for (uint32_t j = pv__key_hash(b, len) & mask;; j = (j + 1) & mask) {
    uint32_t i = t->hash[j];
    if (i == PV_NONE) return PV_NONE;
    size_t tl;
    const uint8_t *tb = term_bytes(t, i, &tl);
    if (same_bytes(tb, tl, (const uint8_t *)b, len)) return i;
  }
}

static void hash_put(uint32_t *h, uint32_t cap, const pv_text *t, uint32_t i) {
  size_t len;
  const uint8_t *b = term_bytes(t, i, &len);
  uint32_t j = pv__key_hash((const char *)b, len) & (cap - 1);
  while (h[j] != PV_NONE) j = (j + 1) & (cap - 1);
  h[j] = i;
}

int pv__text_term_room(pv_index *idx, size_t len) {
  pv_text *t = &idx->text;
  if (t->nterm == t->term_cap) {
    if (t->term_cap >= (1u << 28)) return PV_NOMEM;
    uint32_t cap = t->term_cap ? t->term_cap + t->term_cap / 2 : 64;
    pv_term *nt = pv__realloc(idx, t->term, sizeof(pv_term) * t->term_cap, sizeof(pv_term) * cap);
    if (!nt) return PV_NOMEM;
    t->term = nt;
    t->term_cap = cap;
  }
  if (t->nterm == t->sorted_cap) {
    uint32_t *ns = pv__realloc(idx, t->sorted, sizeof(uint32_t) * t->sorted_cap,
                               sizeof(uint32_t) * t->term_cap);
    if (!ns) return PV_NOMEM;
    t->sorted = ns;
    t->sorted_cap = t->term_cap;
  }
  if ((uint64_t)t->arena_len + len + 1 > t->arena_cap) {
    uint64_t cap = t->arena_cap ? (uint64_t)t->arena_cap + t->arena_cap / 2 : 1024;
    while (cap < (uint64_t)t->arena_len + len + 1) cap += cap / 2;
    if (cap > UINT32_MAX) return PV_NOMEM;
    uint8_t *na = pv__realloc(idx, t->arena, t->arena_cap, (size_t)cap);
    if (!na) return PV_NOMEM;
    t->arena = na;
    t->arena_cap = (uint32_t)cap;
  }
  if (2 * ((uint64_t)t->nterm + 1) > t->hcap) {
    uint32_t cap = t->hcap ? 2 * t->hcap : 128;
    uint32_t *nh = pv__malloc(idx, sizeof(uint32_t) * cap);
    if (!nh) return PV_NOMEM;
    for (uint32_t j = 0; j < cap; j++) nh[j] = PV_NONE;
    for (uint32_t i = 0; i < t->nterm; i++) hash_put(nh, cap, t, i);
    pv__free(idx, t->hash, sizeof(uint32_t) * t->hcap);
    t->hash = nh;
    t->hcap = cap;
  }
  return PV_OK;
}

uint32_t pv__text_term_new(pv_text *t, const char *b, size_t len) {
  uint32_t i = t->nterm++;
  pv_term *e = &t->term[i];
  memset(e, 0, sizeof *e);
  e->min_dl = UINT32_MAX;
  e->str = t->arena_len;
  t->arena[t->arena_len] = (uint8_t)len;
  memcpy(t->arena + t->arena_len + 1, b, len);
  t->arena_len += (uint32_t)len + 1;
  hash_put(t->hash, t->hcap, t, i);
  t->sorted[i] = i; /* in the unsorted tail until sort_tail */
  return i;
}

int pv__term_cmp(const pv_text *t, uint32_t a, uint32_t b) {
  size_t al, bl;
  const uint8_t *ab = term_bytes(t, a, &al), *bb = term_bytes(t, b, &bl);
  int c = memcmp(ab, bb, al < bl ? al : bl);
  return c ? c : (al > bl) - (al < bl);
}

static void sift(const pv_text *t, uint32_t *a, size_t i, size_t n) {
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) return;
    if (c + 1 < n && pv__term_cmp(t, a[c + 1], a[c]) > 0) c++;
    if (pv__term_cmp(t, a[i], a[c]) >= 0) return;
    uint32_t x = a[i];
    a[i] = a[c];
    a[c] = x;
    i = c;
  }
}

/* Contract in text.h. The tail of `sorted` is sorted in place (a
 * heapsort: no memory), then the two runs are merged through a new array. */
void pv__text_sort(pv_index *idx) {
  pv_text *t = &idx->text;
  uint32_t n = t->nterm - t->nsorted;
  if (!n) return;
  uint32_t *tail = t->sorted + t->nsorted;
  uint32_t *m = pv__malloc(idx, sizeof(uint32_t) * t->sorted_cap);
  if (!m) return;
  for (size_t i = n / 2; i-- > 0;) sift(t, tail, i, n);
  for (size_t e = n; e-- > 1;) {
    uint32_t x = tail[0];
    tail[0] = tail[e];
    tail[e] = x;
    sift(t, tail, 0, e);
  }
  uint32_t i = 0, j = 0, o = 0;
  while (i < t->nsorted || j < n) {
    if (j == n || (i < t->nsorted && pv__term_cmp(t, t->sorted[i], tail[j]) < 0)) m[o++] = t->sorted[i++];
    else m[o++] = tail[j++];
  }
  pv__free(idx, t->sorted, sizeof(uint32_t) * t->sorted_cap);
  t->sorted = m;
  t->nsorted = t->nterm;
}

/* ---- reserve and add ------------------------------------------------------ */

static int tp_cmp_term(const pv_tpterm *a, const pv_tpterm *b) { return (a->term > b->term) - (a->term < b->term); }

static void sort_by_term(pv_tpterm *a, size_t n) {
  /* Insertion sort for short documents, a heapsort past that. */
  if (n <= 32) {
    for (size_t i = 1; i < n; i++) {
      pv_tpterm x = a[i];
      size_t j = i;
      while (j && tp_cmp_term(&a[j - 1], &x) > 0) {
        a[j] = a[j - 1];
        j--;
      }
      a[j] = x;
    }
    return;
  }
  for (size_t s = n / 2; s-- > 0;) {
    for (size_t i = s;;) {
      size_t c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && tp_cmp_term(&a[c + 1], &a[c]) > 0) c++;
      if (tp_cmp_term(&a[i], &a[c]) >= 0) break;
      pv_tpterm x = a[i]; a[i] = a[c]; a[c] = x;
      i = c;
    }
  }
  for (size_t e = n; e-- > 1;) {
    pv_tpterm x = a[0]; a[0] = a[e]; a[e] = x;
    for (size_t i = 0;;) {
      size_t c = 2 * i + 1;
      if (c >= e) break;
      if (c + 1 < e && tp_cmp_term(&a[c + 1], &a[c]) > 0) c++;
      if (tp_cmp_term(&a[i], &a[c]) >= 0) break;
      pv_tpterm y = a[i]; a[i] = a[c]; a[c] = y;
      i = c;
    }
  }
}

static size_t skips_for(uint32_t n) { return n > PV_TEXT_BLOCK ? (n + PV_TEXT_BLOCK - 1) / PV_TEXT_BLOCK : 0; }

int pv__text_reserve(pv_index *idx, pv_tvocab **vp, pv_tprep *const *p, size_t n) {
  pv_text *t = &idx->text;
  pv_tvocab *vocab = *vp;
  int any = 0;
  /* Terms: found, or created empty, once per term of the vocabulary; then
   * each document's pairs hold the index's numbers (a reserve that failed
   * after that leaves them so, for the next one). */
  for (size_t d = 0; d < n; d++) {
    if (!p[d]) continue;
    any = 1;
    if (p[d]->numbered) continue;
    for (uint32_t i = 0; i < p[d]->n; i++) {
      vterm *e = &vocab->v[p[d]->t[i].term];
      if (e->term != PV_NONE) continue;
      const uint8_t *b = vocab->arena.p + e->off;
      e->term = pv__term_find(t, (const char *)b + 1, b[0]);
      if (e->term != PV_NONE) continue;
      if (pv__text_term_room(idx, b[0])) return PV_NOMEM;
      e->term = pv__text_term_new(t, (const char *)b + 1, b[0]);
    }
    for (uint32_t i = 0; i < p[d]->n; i++) p[d]->t[i].term = vocab->v[p[d]->t[i].term].term;
    p[d]->numbered = 1;
  }
  /* Every document is numbered: the vocabulary has served (freed before
   * the postings grow, not after, which leaves WebAssembly's memory less
   * cut up). */
  pv__text_vocab_free(idx, vocab);
  *vp = NULL;
  if (!any) return PV_OK;
  pv__text_sort(idx);
  /* Postings: exactly the bytes each term gets, then room for them (not
   * their worst case: for a large batch, that room stayed with the index).
   * Document d will get id next_id + d. Each term the documents hold has
   * as `pending` its row (from 1) in acc: postings, bytes, last id. */
  uint32_t nt = 0;
  for (size_t d = 0; d < n; d++)
    for (uint32_t i = 0; p[d] && i < p[d]->n; i++) {
      pv_term *e = &t->term[p[d]->t[i].term];
      if (!e->pending) e->pending = ++nt;
    }
  uint32_t *acc = pv__malloc(idx, sizeof(uint32_t) * 3 * (size_t)nt);
  if (acc) memset(acc, 0, sizeof(uint32_t) * 3 * (size_t)nt);
  for (size_t d = 0; d < n && acc; d++) {
    if (!p[d]) continue;
    uint32_t id = idx->next_id + (uint32_t)d, dl = p[d]->dl;
    for (uint32_t i = 0; i < p[d]->n; i++) {
      pv_term *e = &t->term[p[d]->t[i].term];
      uint32_t *r = acc + 3 * (size_t)(e->pending - 1);
      uint64_t b = (uint64_t)r[1] + pv__uvar_len(id - (r[0] ? r[2] : e->n ? e->last : 0)) +
                   pv__uvar_len(p[d]->t[i].tf) + pv__uvar_len(dl);
      r[0]++;
      r[1] = b < UINT32_MAX ? (uint32_t)b : UINT32_MAX;
      r[2] = id;
    }
  }
  int rc = acc ? PV_OK : PV_NOMEM;
  for (size_t d = 0; d < n; d++) {
    if (!p[d]) continue;
    for (uint32_t i = 0; i < p[d]->n; i++) {
      pv_term *e = &t->term[p[d]->t[i].term];
      if (!e->pending) continue;
      const uint32_t *r = acc ? acc + 3 * (size_t)(e->pending - 1) : NULL;
      e->pending = 0;
      if (rc) continue; /* clear the rest of the rows */
      uint64_t need = (uint64_t)e->len + r[1];
      uint64_t more = (uint64_t)e->n + r[0];
      if (need > UINT32_MAX || more >= UINT32_MAX) {
        rc = PV_NOMEM;
        continue;
      }
      if (need > e->cap) {
        uint64_t cap = e->cap + e->cap / 2;
        if (cap < need) cap = need;
        if (cap > UINT32_MAX) cap = need;
        uint8_t *np = pv__realloc(idx, e->post, e->cap, (size_t)cap);
        if (!np) {
          rc = PV_NOMEM;
          continue;
        }
        e->post = np;
        e->cap = (uint32_t)cap;
      }
      size_t sk = skips_for((uint32_t)more);
      if (sk > e->skip_cap) {
        size_t cap = e->skip_cap + e->skip_cap / 2;
        if (cap < sk) cap = sk;
        pv_tskip *ns = pv__realloc(idx, e->skip, sizeof(pv_tskip) * e->skip_cap, sizeof(pv_tskip) * cap);
        if (!ns) {
          rc = PV_NOMEM;
          continue;
        }
        e->skip = ns;
        e->skip_cap = (uint32_t)cap;
      }
    }
  }
  pv__free(idx, acc, sizeof(uint32_t) * 3 * (size_t)nt);
  if (rc) return rc;
  /* Forward records: the terms by number, as varints of the differences. */
  for (size_t d = 0; d < n; d++) {
    pv_tprep *q = p[d];
    if (!q || q->fwd) continue;
    sort_by_term(q->t, q->n);
    size_t bytes = 0;
    for (uint32_t i = 0, prev = 0; i < q->n; prev = q->t[i++].term) bytes += pv__uvar_len(q->t[i].term - prev);
    q->fwd_bytes = sizeof(pv_tdoc) + bytes;
    q->fwd = pv__malloc(idx, q->fwd_bytes);
    if (!q->fwd) return PV_NOMEM;
    q->fwd->dl = q->dl;
    q->fwd->nterms = q->n;
    q->fwd->bytes = (uint32_t)bytes;
    uint8_t *o = q->fwd->data;
    for (uint32_t i = 0, prev = 0; i < q->n; prev = q->t[i++].term) o += pv__uvar_put(o, q->t[i].term - prev);
  }
  /* Room in the live set for the ids these documents will get (the
   * caller refuses a batch that would run out of ids; clamp anyway). */
  uint64_t last = (uint64_t)idx->next_id + n - 1;
  if (n && pv__idset_reserve(idx, &t->on, idx->next_id, last < PV_NONE ? (uint32_t)last : PV_NONE - 1))
    return PV_NOMEM;
  return PV_OK;
}

pv_tdoc *pv__tdoc_of(const pv_index *idx, uint32_t s) {
  return ((pv_tdoc **)idx->st.col[PV_COL_TEXT].base)[s];
}

void pv__imp_note(pv_tskip *s, int first, uint32_t tf, uint32_t dl) {
  uint32_t n = 0, i;
  if (!first) {
    for (i = 0; i < PV_TEXT_IMPACTS && s->tf[i]; i++)
      if (s->tf[i] >= tf && s->dl[i] <= dl) return; /* covered already */
    /* Keep the pairs the new one does not cover, in order. */
    for (i = 0; i < PV_TEXT_IMPACTS && s->tf[i]; i++)
      if (!(tf >= s->tf[i] && dl <= s->dl[i])) {
        s->tf[n] = s->tf[i];
        s->dl[n++] = s->dl[i];
      }
  }
  uint32_t tfs[PV_TEXT_IMPACTS + 1], dls[PV_TEXT_IMPACTS + 1], m = 0;
  for (i = 0; i < n && s->tf[i] < tf; i++, m++) tfs[m] = s->tf[i], dls[m] = s->dl[i];
  tfs[m] = tf;
  dls[m++] = dl;
  for (; i < n; i++, m++) tfs[m] = s->tf[i], dls[m] = s->dl[i];
  if (m > PV_TEXT_IMPACTS) {
    /* One pair too many: two neighbours become the pair that covers both
     * (the larger tf, the smaller length), where their tfs are closest. */
    uint32_t at = 0;
    for (i = 1; i + 1 < m; i++)
      if (tfs[i + 1] - tfs[i] < tfs[at + 1] - tfs[at]) at = i;
    tfs[at] = tfs[at + 1];
    for (i = at + 1; i + 1 < m; i++) tfs[i] = tfs[i + 1], dls[i] = dls[i + 1];
    m--;
  }
  for (i = 0; i < PV_TEXT_IMPACTS; i++) {
    s->tf[i] = i < m ? tfs[i] : 0;
    s->dl[i] = i < m ? dls[i] : 0;
  }
}

int pv__imp_covers(const pv_tskip *s, uint32_t tf, uint32_t dl) {
  for (uint32_t i = 0; i < PV_TEXT_IMPACTS && s->tf[i]; i++)
    if (s->tf[i] >= tf && s->dl[i] <= dl) return 1;
  return 0;
}

/* Note posting j (tf, dl; at byte off, after id prev) in e's skips, when e
 * has them. */
static void skip_note(pv_term *e, uint32_t j, uint32_t prev, uint32_t off, uint32_t tf, uint32_t dl) {
  if (!e->skip) return;
  pv_tskip *s = &e->skip[j / PV_TEXT_BLOCK];
  if (j % PV_TEXT_BLOCK == 0) {
    s->base = prev;
    s->off = off;
  }
  pv__imp_note(s, j % PV_TEXT_BLOCK == 0, tf, dl);
}

void pv__text_skips(pv_term *e, uint32_t upto) {
  const uint8_t *p = e->post, *end = e->post + e->len;
  uint32_t id = 0;
  for (uint32_t j = 0; j < upto; j++) {
    uint32_t v[3], off = (uint32_t)(p - e->post);
    p = pv__posting_get(p, end, v);
    uint32_t d = v[0], tf = v[1], dl = v[2];
    skip_note(e, j, id, off, tf, dl);
    id += d;
  }
}

/* Append a posting (room reserved) and keep the bounds and skips. */
static void append(pv_term *e, uint32_t id, uint32_t tf, uint32_t dl) {
  /* A list outgrowing one block gets its skips: the first block's from
   * its stream, once. */
  if (e->n == PV_TEXT_BLOCK) pv__text_skips(e, PV_TEXT_BLOCK);
  skip_note(e, e->n, e->last, e->len, tf, dl);
  uint8_t *o = e->post + e->len;
  o += pv__uvar_put(o, id - (e->n ? e->last : 0));
  o += pv__uvar_put(o, tf);
  o += pv__uvar_put(o, dl);
  e->len = (uint32_t)(o - e->post);
  e->n++;
  e->last = id;
  if (tf > e->max_tf) e->max_tf = tf;
  if (dl < e->min_dl) e->min_dl = dl;
}

void pv__text_add(pv_index *idx, uint32_t id, uint32_t s, pv_tprep *p) {
  pv_text *t = &idx->text;
  for (uint32_t i = 0; i < p->n; i++) {
    pv_term *e = &t->term[p->t[i].term];
    append(e, id, p->t[i].tf, p->dl);
    e->df++;
  }
  ((pv_tdoc **)idx->st.col[PV_COL_TEXT].base)[s] = p->fwd;
  p->fwd = NULL;
  t->nforward++;
  pv__idset_put(&t->on, id, 1);
  t->ndocs++;
  t->total += p->dl;
  pv__text_prep_free(idx, p);
}

void pv__text_kill(pv_index *idx, uint32_t id, uint32_t s) {
  pv_tdoc **col = idx->st.col[PV_COL_TEXT].base;
  pv_tdoc *f = col[s];
  if (!f) return;
  pv_text *t = &idx->text;
  const uint8_t *p = f->data, *end = f->data + f->bytes;
  for (uint32_t i = 0, term = 0; i < f->nterms; i++) {
    uint32_t v = 0;
    p += pv__uvar_get(p, end, &v);
    term += v;
    t->term[term].df--;
  }
  pv__idset_put(&t->on, id, 0);
  t->ndocs--;
  t->total -= f->dl;
  t->nforward--;
  pv__free(idx, f, sizeof(pv_tdoc) + f->bytes);
  col[s] = NULL;
}

static int is_on(const pv_text *t, uint32_t id) {
  return pv__idset_has(&t->on, id);
}

void pv__text_compact(pv_index *idx) {
  pv_text *t = &idx->text;
  for (uint32_t i = 0; i < t->nterm; i++) {
    pv_term *e = &t->term[i];
    if (e->n == e->df) continue;
    const uint8_t *r = e->post, *end = e->post + e->len;
    uint8_t *w = e->post;
    uint32_t id = 0, kept = 0, last = 0, n = e->n;
    e->max_tf = 0;
    e->min_dl = UINT32_MAX;
    for (uint32_t j = 0; j < n; j++) {
      uint32_t v[3];
      r = pv__posting_get(r, end, v);
      uint32_t d = v[0], tf = v[1], dl = v[2];
      id += d;
      if (!is_on(t, id)) continue;
      /* Old skips are never read here, so they are rewritten as the kept
       * postings fill blocks (a list with skips had more than a block). */
      skip_note(e, kept, last, (uint32_t)(w - e->post), tf, dl);
      /* Written where the kept postings end, never past what was read: a
       * sum of differences needs no more bytes than its parts. */
      w += pv__uvar_put(w, id - (kept ? last : 0));
      w += pv__uvar_put(w, tf);
      w += pv__uvar_put(w, dl);
      if (tf > e->max_tf) e->max_tf = tf;
      if (dl < e->min_dl) e->min_dl = dl;
      last = id;
      kept++;
    }
    e->n = kept;
    e->last = last;
    e->len = (uint32_t)(w - e->post);
    if (kept <= PV_TEXT_BLOCK && e->skip) {
      pv__free(idx, e->skip, sizeof(pv_tskip) * e->skip_cap);
      e->skip = NULL;
      e->skip_cap = 0;
    }
    if (!kept) {
      pv__free(idx, e->post, e->cap);
      e->post = NULL;
      e->cap = e->len = 0;
    }
  }
}

void pv__text_free(pv_index *idx) {
  pv_text *t = &idx->text;
  for (uint32_t i = 0; i < t->nterm; i++) {
    pv__free(idx, t->term[i].post, t->term[i].cap);
    pv__free(idx, t->term[i].skip, sizeof(pv_tskip) * t->term[i].skip_cap);
  }
  pv__free(idx, t->term, sizeof(pv_term) * t->term_cap);
  pv__free(idx, t->sorted, sizeof(uint32_t) * t->sorted_cap);
  pv__free(idx, t->arena, t->arena_cap);
  pv__free(idx, t->hash, sizeof(uint32_t) * t->hcap);
  pv__idset_free(idx, &t->on);
  if (idx->st.col[PV_COL_TEXT].base) {
    pv_tdoc **col = idx->st.col[PV_COL_TEXT].base;
    for (uint32_t s = 0; s < idx->st.n; s++)
      if (col[s]) pv__free(idx, col[s], sizeof(pv_tdoc) + col[s]->bytes);
  }
  unsigned flags = t->flags;
  memset(t, 0, sizeof *t);
  t->flags = flags;
}

/* ---- the checker ------------------------------------------------------------ */

#define BAD(...) return pv__error(idx, PV_CORRUPT, __VA_ARGS__)

/* 1 if term e has a posting for id (a walk from its block). */
static int has_posting(const pv_term *e, uint32_t id) {
  uint32_t b = 0, nb = e->skip ? (e->n + PV_TEXT_BLOCK - 1) / PV_TEXT_BLOCK : 1;
  while (b + 1 < nb && e->skip[b + 1].base < id) b++;
  const uint8_t *p = e->post + (e->skip ? e->skip[b].off : 0), *end = e->post + e->len;
  uint32_t cur = e->skip ? e->skip[b].base : 0;
  for (uint32_t j = b * PV_TEXT_BLOCK; j < e->n; j++) {
    uint32_t v[3];
    p = pv__posting_get(p, end, v);
    cur += v[0];
    if (cur >= id) return cur == id;
  }
  return 0;
}

int pv__text_check(pv_index *idx) {
  pv_text *t = &idx->text;
  uint64_t postings_live = 0, total = 0;
  for (uint32_t i = 0; i < t->nterm; i++) {
    const pv_term *e = &t->term[i];
    size_t len;
    const uint8_t *b = term_bytes(t, i, &len);
    if (!len || len > PV_TOK_MAX || pv__term_find(t, (const char *)b, len) != i)
      BAD("text term %u is not in the dictionary as itself", i);
    if (i < t->nsorted && ((i && pv__term_cmp(t, t->sorted[i - 1], t->sorted[i]) >= 0) ||
                           t->sorted[i] >= t->nsorted))
      BAD("the sorted text terms are out of order at %u", i);
    if (i >= t->nsorted && t->sorted[i] != i) BAD("the unsorted text terms are not in order");
    if ((e->n > PV_TEXT_BLOCK) != (e->skip != NULL)) BAD("text term %u's skips do not fit its %u postings", i, e->n);
    if (!e->n) {
      if (e->len || e->df) BAD("text term %u has no postings but %u bytes", i, e->len);
      continue;
    }
    const uint8_t *p = e->post, *end = e->post + e->len;
    uint32_t id = 0, df = 0, max_tf = 0, min_dl = UINT32_MAX;
    for (uint32_t j = 0; j < e->n; j++) {
      if (e->skip && j % PV_TEXT_BLOCK == 0) {
        const pv_tskip *s = &e->skip[j / PV_TEXT_BLOCK];
        if (s->base != (j ? id : 0) || s->off != (uint32_t)(p - e->post))
          BAD("text term %u: skip %u points elsewhere", i, j / PV_TEXT_BLOCK);
      }
      uint32_t d, tf, dl;
      size_t a = pv__uvar_get(p, end, &d), c = a ? pv__uvar_get(p + a, end, &tf) : 0,
             g = c ? pv__uvar_get(p + a + c, end, &dl) : 0;
      if (!g) BAD("text term %u: posting %u does not decode", i, j);
      p += a + c + g;
      if ((j && !d) || (uint64_t)id + d >= idx->next_id) BAD("text term %u: posting %u's id is out of order or never issued", i, j);
      id += d;
      if (!tf || dl < tf) BAD("text term %u: posting %u has tf %u in a document of %u tokens", i, j, tf, dl);
      if (tf > max_tf) max_tf = tf;
      if (dl < min_dl) min_dl = dl;
      if (e->skip && !pv__imp_covers(&e->skip[j / PV_TEXT_BLOCK], tf, dl))
        BAD("text term %u: posting %u is above its block's bounds", i, j);
      if (is_on(t, id)) {
        uint32_t s = pv__live_slot(idx, id);
        const pv_tdoc *f = s == PV_NONE ? NULL : pv__tdoc_of(idx, s);
        if (!f) BAD("text id %u is marked live without a live document", id);
        if (f->dl != dl) BAD("text id %u has length %u in a posting and %u in its record", id, dl, f->dl);
        df++;
      }
    }
    if (p != end) BAD("text term %u has bytes after its postings", i);
    if (e->n && (e->last != id || e->max_tf != max_tf || e->min_dl != min_dl))
      BAD("text term %u's last id or bounds are wrong", i);
    if (e->df != df) BAD("text term %u has df %u; its live postings say %u", i, e->df, df);
    postings_live += df;
  }
  uint32_t docs = 0;
  uint64_t nt = 0;
  for (uint32_t s = 0; s < idx->st.n; s++) {
    const pv_tdoc *f = pv__tdoc_of(idx, s);
    if (!f) continue;
    uint32_t id = pv__id(idx, s);
    if (!pv__is_live(idx, s) || !is_on(t, id)) BAD("slot %u has a text record but is not live text", s);
    const uint8_t *p = f->data, *end = f->data + f->bytes;
    for (uint32_t j = 0, term = 0; j < f->nterms; j++) {
      uint32_t v;
      size_t a = pv__uvar_get(p, end, &v);
      if (!a || (j && !v) || (uint64_t)term + v >= t->nterm) BAD("slot %u's text record does not decode", s);
      p += a;
      term += v;
      if (!has_posting(&t->term[term], id)) BAD("text id %u is missing from a term's postings", id);
    }
    if (p != end || !f->nterms || f->nterms > f->dl) BAD("slot %u's text record is malformed", s);
    docs++;
    nt += f->nterms;
    total += f->dl;
  }
  if (nt != postings_live) BAD("the text records hold %u terms; the live postings %u", (unsigned)nt, (unsigned)postings_live);
  if (docs != t->ndocs || docs != t->nforward || total != t->total)
    BAD("the text index counts %u documents of %u tokens; its records say %u of %u", t->ndocs,
        (unsigned)t->total, docs, (unsigned)total);
  return PV_OK;
}

_Static_assert(PV_TEXT_STEM == PV_TOK_STEM && PV_TEXT_STOPWORDS == PV_TOK_STOPWORDS,
               "pv_options' text flags are passed to the tokenizer as they are");
