/* SPDX-License-Identifier: MIT */
/*
 * BM25 top-k over the text index (text.h), docs/TEXT.md.
 *
 * MaxScore, document at a time: each query term has an upper bound of its
 * score (its idf times the BM25 factor of the largest tf and the smallest
 * document length among its postings). Terms sorted by bound, the first
 * ones whose bounds add up to less than the k-th best score so far are
 * "non-essential": a document that holds only them cannot enter the top k,
 * so candidates come from the other lists, and the non-essential lists are
 * only probed (with their skips) for a candidate that could still make it.
 * Common terms have the smallest idf, hence the smallest bounds: their long
 * lists become non-essential first and are mostly skipped.
 *
 * A document's score is summed over the query terms in one fixed order
 * whatever path found them, so the exhaustive search (exact, the
 * reference) and the pruned one give bit-identical scores and order.
 */
#include <math.h>
#include <string.h>

#include "attr/attr.h"
#include "index.h"
#include "query/plan.h"
#include "text/text.h"
#include "text/token.h"

/* The natural logarithm of x >= 1 (an idf's argument), here rather than
 * libm's: the WebAssembly build would carry musl's log and its 4 KB of
 * tables for this one use, and this gives the same bits on every host.
 * x = m 2^e with m in [sqrt(1/2), sqrt(2)), then ln m = 2 atanh(z) with
 * z = (m - 1) / (m + 1), |z| < 0.172: its series is within a double's
 * rounding after 12 terms. */
static double ln(double x) {
  uint64_t u;
  memcpy(&u, &x, 8);
  int e = (int)(u >> 52) - 1023;
  u = (u & 0x000fffffffffffffull) | 0x3ff0000000000000ull; /* m in [1, 2) */
  double m;
  memcpy(&m, &u, 8);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e++;
  }
  double z = (m - 1) / (m + 1), z2 = z * z, t = z, s = 0;
  for (int k = 1; k < 26; k += 2) {
    s += t / k;
    t *= z2;
  }
  return e * 0.6931471805599453 + 2 * s;
}

/* BM25's constants for one query: a term's score in a document is
 * idf * tf * k1p1 / (tf + A + B * dl), with A = k1 (1 - b) and B = k1 b /
 * avgdl: one division per posting. */
typedef struct bm25 {
  double k1p1, A, B;
} bm25;

static double term_score(const bm25 *w, double idf, uint32_t tf, uint32_t dl) {
  double t = tf;
  return idf * t * w->k1p1 / (t + w->A + w->B * (double)dl);
}

/* An upper bound of term_score over tf <= max_tf and dl >= min_dl (the
 * score grows with tf and falls with dl), inflated a little: it must stay
 * above any score the same arithmetic gives, whatever the rounding. */
static double bound(const bm25 *w, double idf, uint32_t max_tf, uint32_t min_dl) {
  return term_score(w, idf, max_tf, min_dl) * (1.0 + 1e-9) + 1e-12;
}

/* The bound of a block: the best of its impacts. */
static double block_bound(const bm25 *w, double idf, const pv_tskip *s) {
  double best = 0;
  for (int i = 0; i < PV_TEXT_IMPACTS && s->tf[i]; i++) {
    double x = bound(w, idf, s->tf[i], s->dl[i]);
    if (x > best) best = x;
  }
  return best;
}

typedef struct cursor {
  const pv_term *e;
  const uint8_t *p, *end;
  uint32_t j;          /* postings read */
  uint32_t id, tf, dl; /* the current posting; id PV_NONE: the list is done */
  uint32_t blk;        /* the block of the current posting */
  uint32_t blast;      /* the id of the block's last posting */
  double bb;           /* a bound of the scores in the block */
  double idf, ub;      /* ub: a bound of the scores in the whole list */
  uint32_t q;          /* the term's place in the fixed summing order */
  const bm25 *w;
} cursor;

static void enter_block(cursor *c, uint32_t b) {
  const pv_term *e = c->e;
  c->blk = b;
  if (!e->skip) {
    c->blast = e->last;
    c->bb = c->ub;
    return;
  }
  uint32_t nb = (e->n + PV_TEXT_BLOCK - 1) / PV_TEXT_BLOCK;
  c->blast = b + 1 < nb ? e->skip[b + 1].base : e->last;
  c->bb = block_bound(c->w, c->idf, &e->skip[b]);
}

/* Its own three decodes, not pv__posting_get's loop: the loop made the
 * long queries slower (bench/results/text-ab-merge.md). */
static void next(cursor *c) {
  if (c->j == c->e->n) {
    c->id = PV_NONE;
    return;
  }
  if (c->j / PV_TEXT_BLOCK != c->blk) enter_block(c, c->j / PV_TEXT_BLOCK);
  uint32_t d = 0;
  c->p += pv__uvar_get(c->p, c->end, &d);
  c->p += pv__uvar_get(c->p, c->end, &c->tf);
  c->p += pv__uvar_get(c->p, c->end, &c->dl);
  c->id = (c->j ? c->id : 0) + d;
  c->j++;
}

/* Move c to its first posting with id >= target, jumping whole blocks. */
static void seek(cursor *c, uint32_t target) {
  if (c->id >= target) return; /* PV_NONE (done) too */
  const pv_term *e = c->e;
  if (e->skip) {
    uint32_t nb = (e->n + PV_TEXT_BLOCK - 1) / PV_TEXT_BLOCK, b = c->blk;
    while (b + 1 < nb && e->skip[b + 1].base < target) b++;
    if (b != c->blk) {
      c->p = e->post + e->skip[b].off;
      c->id = e->skip[b].base;
      c->j = b * PV_TEXT_BLOCK;
      enter_block(c, b);
    }
  }
  do next(c);
  while (c->id < target);
}

typedef struct scored {
  double score;
  uint32_t id;
} scored;

/* a ranks below b: lower score, or the same score and a larger id. */
static int below(const scored *a, const scored *b) {
  return a->score < b->score || (a->score == b->score && a->id > b->id);
}

/* The k best so far are kept in one of two ways. Up to PV_TEXT_SORTED
 * of them (k of most searches): an array, best first, where a newcomer
 * moves the worse ones down a place: its loop's branch goes wrong once
 * per newcomer, where a heap's sift guesses wrong at every level
 * (bench/results/text-ab-merge.md). More of them: a min-heap (the worst
 * on top), since the array would move up to k entries per newcomer. */
#define PV_TEXT_SORTED 32

static void heap_down(scored *h, size_t n, size_t i) {
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) return;
    if (c + 1 < n && below(&h[c + 1], &h[c])) c++;
    if (!below(&h[c], &h[i])) return;
    scored x = h[i];
    h[i] = h[c];
    h[c] = x;
    i = c;
  }
}
static void heap_push(scored *h, size_t *n, scored x) {
  size_t i = (*n)++;
  h[i] = x;
  while (i && below(&h[i], &h[(i - 1) / 2])) {
    scored y = h[i];
    h[i] = h[(i - 1) / 2];
    h[(i - 1) / 2] = y;
    i = (i - 1) / 2;
  }
}

/* ---- the query's terms ------------------------------------------------------ */

typedef struct qcollect {
  pv_index *idx;
  const pv_text *t;
  uint32_t *term; /* distinct known terms */
  uint32_t nterm, ntok;
  char seen[PV_TEXT_MAX_QUERY_TERMS][PV_TOK_MAX + 1]; /* distinct tokens: len byte, bytes */
  char last[PV_TOK_MAX];
  size_t last_len;
  int prefix;
} qcollect;

static int q_token(void *ctx, const char *tok, size_t len, int last) {
  qcollect *c = ctx;
  if (last && c->prefix) {
    memcpy(c->last, tok, len);
    c->last_len = len;
  }
  for (uint32_t i = 0; i < c->ntok; i++)
    if ((size_t)(uint8_t)c->seen[i][0] == len && !memcmp(c->seen[i] + 1, tok, len)) return 0;
  if (c->ntok == PV_TEXT_MAX_QUERY_TERMS) return PV_INVALID;
  c->seen[c->ntok][0] = (char)len;
  memcpy(c->seen[c->ntok] + 1, tok, len);
  c->ntok++;
  uint32_t term = pv__term_find(c->t, tok, len);
  if (term != PV_NONE && c->t->term[term].df) c->term[c->nterm++] = term;
  return 0;
}

/* The terms the prefix p begins (itself excluded), those with live
 * documents: up to PV_TEXT_PREFIX_TERMS of them, the most frequent first
 * (ties: the smaller number), appended to c->term when not there yet. */
static void consider(const pv_text *t, uint32_t *pick, uint32_t *np, uint32_t term) {
  uint32_t df = t->term[term].df, at = *np;
  if (!df) return;
  while (at && (t->term[pick[at - 1]].df < df ||
                (t->term[pick[at - 1]].df == df && pick[at - 1] > term)))
    at--;
  if (at == PV_TEXT_PREFIX_TERMS) return;
  if (*np < PV_TEXT_PREFIX_TERMS) (*np)++;
  memmove(pick + at + 1, pick + at, sizeof(uint32_t) * (*np - 1 - at));
  pick[at] = term;
}

static int starts(const pv_text *t, uint32_t term, const char *p, size_t len) {
  const uint8_t *b = t->arena + t->term[term].str;
  return b[0] >= len && !memcmp(b + 1, p, len);
}

static void expand(qcollect *c, const char *p, size_t len) {
  const pv_text *t = c->t;
  uint32_t pick[PV_TEXT_PREFIX_TERMS], np = 0;
  size_t lo = 0, hi = t->nsorted;
  while (lo < hi) { /* the first sorted term >= p: where its range starts */
    size_t mid = lo + (hi - lo) / 2;
    const uint8_t *mb = t->arena + t->term[t->sorted[mid]].str;
    size_t ml = mb[0];
    int cmp = memcmp(mb + 1, p, ml < len ? ml : len);
    if (cmp < 0 || (cmp == 0 && ml < len)) lo = mid + 1;
    else hi = mid;
  }
  for (size_t i = lo; i < t->nsorted && starts(t, t->sorted[i], p, len); i++)
    if (t->arena[t->term[t->sorted[i]].str] > len) consider(t, pick, &np, t->sorted[i]);
  /* Terms added since the last sort (only when memory ran out for it). */
  for (uint32_t term = t->nsorted; term < t->nterm; term++)
    if (starts(t, term, p, len) && t->arena[t->term[term].str] > len) consider(t, pick, &np, term);
  for (uint32_t i = 0; i < np; i++) {
    uint32_t j = 0;
    while (j < c->nterm && c->term[j] != pick[i]) j++;
    if (j == c->nterm) c->term[c->nterm++] = pick[i];
  }
}

/* ---- search ------------------------------------------------------------------ */

/* Lists of at most this many postings may seed the k best (see below). */
#define PV_TEXT_SEED_MAX 4096

/* A document's score from its terms' contributions (contrib by term
 * place, touched: the nt places it has), summed in the fixed order
 * whatever order they were found in; contrib is left zero. */
static double fixed_sum(double *contrib, uint32_t *touched, uint32_t nt) {
  for (uint32_t i = 1; i < nt; i++)
    for (uint32_t j = i; j && touched[j - 1] > touched[j]; j--) {
      uint32_t x = touched[j];
      touched[j] = touched[j - 1];
      touched[j - 1] = x;
    }
  double s = 0;
  for (uint32_t i = 0; i < nt; i++) {
    s += contrib[touched[i]];
    contrib[touched[i]] = 0;
  }
  return s;
}

/* The k best so far (above), and what a document must pass to join them:
 * heap[kth], the worst of them once there are k. */
typedef struct topk {
  scored *heap;
  size_t n, k, kth;
  pv_index *idx;
  const pv_filter *f;
} topk;

/* Offer document d with score s: kept when it beats the k-th best (or
 * there are fewer) and the filter accepts it. */
static void offer(topk *t, uint32_t d, double s) {
  scored x = {s, d};
  if (t->n == t->k && !below(&t->heap[t->kth], &x)) return;
  if (t->f && !pv__matches(t->idx, t->f, pv__live_slot(t->idx, d))) return;
  if (t->k <= PV_TEXT_SORTED) {
    size_t i = t->n < t->k ? t->n++ : t->kth;
    for (; i && below(&t->heap[i - 1], &x); i--) t->heap[i] = t->heap[i - 1];
    t->heap[i] = x;
  } else if (t->n == t->k) {
    t->heap[0] = x;
    heap_down(t->heap, t->n, 0);
  } else {
    heap_push(t->heap, &t->n, x);
  }
}

static int on(const pv_text *t, uint32_t id) {
  return pv__idset_has(&t->on, id);
}

/* Queries whose lists hold at most this many postings in all take the
 * merge below: on lists this short, MaxScore's bookkeeping per document
 * (bounds, blocks, the seeding pass) costs more than the postings it
 * saves from being scored (bench/results/text-ab-merge.md). */
#define PV_TEXT_MERGE_MAX 256

/* The merge: every posting of the T lists (cur[0..T) in the fixed summing
 * order) scored list by list into id[] and sc[] (room for all of them),
 * then the lists merged by id, each live document's contributions summed
 * in that order from 0 and offered: the additions of fixed_sum, in its
 * order, so the scores are those of the other paths. Uses each cursor's j
 * as its place in id[] and blk as its end. */
static void merge(const pv_text *t, const bm25 *w, cursor *cur, uint32_t T, uint32_t *id,
                  double *sc, topk *top) {
  uint32_t at = 0;
  for (uint32_t i = 0; i < T; i++) {
    const pv_term *e = cur[i].e;
    const uint8_t *p = e->post, *end = p + e->len;
    uint32_t d = 0;
    cur[i].j = at;
    for (uint32_t j = 0; j < e->n; j++, at++) {
      uint32_t v[3];
      p = pv__posting_get(p, end, v);
      d += v[0];
      id[at] = d;
      sc[at] = term_score(w, cur[i].idf, v[1], v[2]);
    }
    cur[i].blk = at;
  }
  for (;;) {
    uint32_t d = PV_NONE;
    for (uint32_t i = 0; i < T; i++)
      if (cur[i].j < cur[i].blk && id[cur[i].j] < d) d = id[cur[i].j];
    if (d == PV_NONE) return;
    double s = 0;
    for (uint32_t i = 0; i < T; i++)
      if (cur[i].j < cur[i].blk && id[cur[i].j] == d) s += sc[cur[i].j++];
    if (on(t, d)) offer(top, d, s);
  }
}

int pv__text_search(pv_index *idx, const char *query, size_t len, int prefix, double k1,
                    double b, const pv_filter *f, int exact, size_t k, pv_match *out,
                    size_t *n_out) {
  const pv_text *t = &idx->text;
  *n_out = 0;
  uint32_t maxq = PV_TEXT_MAX_QUERY_TERMS + PV_TEXT_PREFIX_TERMS;
  size_t bytes = sizeof(qcollect) + sizeof(uint32_t) * maxq;
  qcollect *c = pv__malloc(idx, bytes);
  if (!c) return pv__error(idx, PV_NOMEM, "out of memory for a text query");
  c->idx = idx;
  c->t = t;
  c->term = (uint32_t *)(c + 1);
  c->nterm = c->ntok = 0;
  c->last_len = 0;
  c->prefix = prefix;
  size_t bad = 0;
  int rc = pv__tokenize(query, len, t->flags | (prefix ? PV_TOK_PREFIX : 0), q_token, c, &bad);
  if (rc == PV_TOK_BADUTF8) {
    pv__free(idx, c, bytes);
    pv__error(idx, PV_INVALID, "the query text is not valid UTF-8 (at byte %zu)", bad);
    pv__error_offset(idx, (int64_t)bad);
    return PV_INVALID;
  }
  if (rc) {
    pv__free(idx, c, bytes);
    return pv__error(idx, PV_INVALID, "the query text has more than %u distinct terms",
                     PV_TEXT_MAX_QUERY_TERMS);
  }
  if (prefix && c->last_len) expand(c, c->last, c->last_len);
  uint32_t T = c->nterm;
  if (!T || !t->ndocs) {
    pv__free(idx, c, bytes);
    return pv__error(idx, PV_OK, NULL);
  }

  uint64_t P = 0; /* postings in all */
  for (uint32_t i = 0; i < T; i++) P += t->term[c->term[i]].n;
  int small = P <= PV_TEXT_MERGE_MAX;
  size_t sbytes = T * (2 * sizeof(cursor) + 2 * sizeof(double) + sizeof(uint32_t)) + k * sizeof(scored) +
                  (small ? (size_t)P * (sizeof(double) + sizeof(uint32_t)) : 0);
  cursor *cur = pv__malloc(idx, sbytes);
  if (!cur) {
    pv__free(idx, c, bytes);
    return pv__error(idx, PV_NOMEM, "out of memory for a text query of %u terms", T);
  }
  cursor *aux = cur + T; /* the seeding pass's own cursors */
  double *cum = (double *)(aux + T), *contrib = cum + T;
  scored *heap = (scored *)(contrib + T);
  double *sc = (double *)(heap + k); /* the merge's scores: P of them, when small */
  uint32_t *touched = (uint32_t *)(sc + (small ? P : 0)), *pid = touched + T;

  double N = t->ndocs, avgdl = (double)t->total / N;
  bm25 w = {k1 + 1, k1 * (1 - b), k1 * b / avgdl};
  /* Fixed summing order: ascending term number. */
  for (uint32_t i = 1; i < T; i++)
    for (uint32_t j = i; j && c->term[j - 1] > c->term[j]; j--) {
      uint32_t x = c->term[j];
      c->term[j] = c->term[j - 1];
      c->term[j - 1] = x;
    }
  for (uint32_t i = 0; i < T; i++) {
    const pv_term *e = &t->term[c->term[i]];
    cursor *u = &cur[i];
    u->e = e;
    u->p = e->post;
    u->end = e->post + e->len;
    u->j = 0;
    u->id = 0;
    u->q = i;
    u->w = &w;
    double df = e->df;
    u->idf = ln(1.0 + (N - df + 0.5) / (df + 0.5));
    if (small) continue; /* the merge needs no bounds */
    /* A long list's bound is its best block's: far tighter than the
     * largest tf with the shortest length, which rarely meet. */
    u->ub = bound(&w, u->idf, e->max_tf, e->min_dl);
    if (e->skip) {
      double best = 0;
      for (uint32_t bk = 0; bk < (e->n + PV_TEXT_BLOCK - 1) / PV_TEXT_BLOCK; bk++) {
        double x = block_bound(&w, u->idf, &e->skip[bk]);
        if (x > best) best = x;
      }
      u->ub = best;
    }
    enter_block(u, 0);
    contrib[i] = 0;
    next(u);
  }
  topk top = {heap, 0, k, k <= PV_TEXT_SORTED ? k - 1 : 0, idx, f};
  double *kth = &heap[top.kth].score; /* once there are k */
  if (small) {
    merge(t, &w, cur, T, pid, sc, &top);
    goto done;
  }
  /* By bound, ascending (insertion: T is small). */
  for (uint32_t i = 1; i < T; i++)
    for (uint32_t j = i; j && cur[j - 1].ub > cur[j].ub; j--) {
      cursor x = cur[j];
      cur[j] = cur[j - 1];
      cur[j - 1] = x;
    }
  for (uint32_t i = 0; i < T; i++) cum[i] = cur[i].ub + (i ? cum[i - 1] : 0);

  uint32_t ess = 0; /* lists ess.. are essential */
#define RAISE()                                                      \
  do {                                                               \
    if (top.n == k && !exact)                                        \
      while (ess < T && cum[ess] < *kth) ess++;                      \
  } while (0)

  /* Seeding: the documents of the short list with the best bound (a rare
   * word's, usually where the best documents are) are scored first, in
   * full. The k-th best score then starts near its final value instead of
   * at zero, so the long lists of common words become non-essential at
   * once. The main pass skips these documents: each is considered once,
   * with the same score either way. */
  int seed = -1;
  for (uint32_t i = T; !exact && T > 1 && i-- > 0;)
    if (cur[i].e->n <= PV_TEXT_SEED_MAX) {
      seed = (int)i;
      break;
    }
  if (seed >= 0) {
    memcpy(aux, cur, sizeof(cursor) * T);
    for (cursor *sd = &aux[seed]; sd->id != PV_NONE; next(sd)) {
      uint32_t d = sd->id, nt = 0;
      if (!on(t, d)) continue;
      for (uint32_t i = 0; i < T; i++) {
        cursor *u = &aux[i];
        seek(u, d);
        if (u->id != d) continue;
        contrib[u->q] = term_score(&w, u->idf, u->tf, u->dl);
        touched[nt++] = u->q;
      }
      offer(&top, d, fixed_sum(contrib, touched, nt));
    }
    RAISE();
  }

  for (;;) {
    int full = top.n == k && !exact;
    uint32_t d = PV_NONE, upto = PV_NONE;
    double bs = ess ? cum[ess - 1] : 0;
    for (uint32_t i = ess; i < T; i++) {
      if (cur[i].id == PV_NONE) continue;
      if (cur[i].id < d) d = cur[i].id;
      bs += cur[i].bb;
      if (cur[i].blast < upto) upto = cur[i].blast;
    }
    if (d == PV_NONE) break;
    if (full && bs < *kth) {
      /* Every essential list is inside its current block up to `upto`: a
       * document there scores at most the blocks' bounds plus the other
       * lists' bounds, which is below the k-th best. Skip past it. */
      for (uint32_t i = ess; i < T; i++)
        if (cur[i].id <= upto) seek(&cur[i], upto + 1);
      continue;
    }
    int skip = !on(t, d); /* deleted since: its postings stay until compaction */
    if (!skip && seed >= 0) {
      seek(&cur[seed], d);
      skip = cur[seed].id == d; /* seeded */
    }
    if (skip) {
      for (uint32_t i = ess; i < T; i++)
        if (cur[i].id == d) next(&cur[i]);
      continue;
    }
    uint32_t nt = 0;
    double part = 0;
    for (uint32_t i = ess; i < T; i++) {
      cursor *u = &cur[i];
      if (u->id != d) continue;
      double s = term_score(&w, u->idf, u->tf, u->dl);
      contrib[u->q] = s;
      touched[nt++] = u->q;
      part += s;
      next(u);
    }
    int cut = 0;
    for (uint32_t i = ess; i-- > 0;) {
      if (full && part + cum[i] < *kth) {
        cut = 1;
        break;
      }
      cursor *u = &cur[i];
      seek(u, d);
      if (u->id != d) continue;
      double s = term_score(&w, u->idf, u->tf, u->dl);
      contrib[u->q] = s;
      touched[nt++] = u->q;
      part += s;
    }
    if (cut) {
      for (uint32_t i = 0; i < nt; i++) contrib[touched[i]] = 0;
      continue;
    }
    offer(&top, d, fixed_sum(contrib, touched, nt));
    RAISE();
  }
#undef RAISE
done:;
  size_t nh = top.n;
  /* Best first (a heap: sorted in place, the worst to the end). */
  for (size_t n = nh; n > 0 && k > PV_TEXT_SORTED; n--) {
    scored x = heap[0];
    heap[0] = heap[n - 1];
    heap_down(heap, n - 1, 0);
    heap[n - 1] = x;
  }
  for (size_t i = 0; i < nh; i++) {
    pv_match m = {heap[i].id, (float)heap[i].score, NAN, (float)heap[i].score};
    out[i] = m;
  }
  *n_out = nh;
  pv__free(idx, cur, sbytes);
  pv__free(idx, c, bytes);
  return pv__error(idx, PV_OK, NULL);
}
