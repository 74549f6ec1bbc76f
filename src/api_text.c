/* SPDX-License-Identifier: MIT */
/*
 * The public entry point of text and hybrid search (pocketvec.h:
 * pv_query_run): arguments checked, then the text side (text/bm25.c), the
 * vector side (query/plan.c), or both fused.
 */
#include <math.h>
#include <string.h>

#include "index.h"
#include "query/plan.h"
#include "text/text.h"

pv_query pv_query_default(void) {
  pv_query q;
  memset(&q, 0, sizeof q);
  q.k = 10;
  q.k1 = 1.2f;
  q.b = 0.75f;
  q.fusion = PV_FUSE_RRF;
  q.rrf_k = 60.0f;
  q.w_vector = 0.5f;
  q.w_text = 0.5f;
  return q;
}

static int check_query(pv_index *idx, const pv_query *q, pv_match *out, size_t *n_out) {
  if (!n_out) return pv__error_null(idx, PV_INVALID, "n_out is NULL");
  *n_out = 0;
  if (!q) return pv__error_null(idx, PV_INVALID, "the query is NULL; start from pv_query_default()");
  if (!q->vector && !q->text) {
    if (q->text_len) return pv__error(idx, PV_INVALID, "the query has text_len %zu but no text", q->text_len);
    return pv__error(idx, PV_INVALID, "the query has neither a vector nor text");
  }
  if (q->k < 1 || q->k > PV_MAX_EF)
    return pv__error(idx, PV_INVALID, "k is %zu; it must be between 1 and %u", q->k, PV_MAX_EF);
  if (!out) return pv__error_null(idx, PV_INVALID, "out is NULL but k is %zu", q->k);
  if (!(q->k1 >= 0.0f && q->k1 <= 1e6f))
    return pv__error(idx, PV_INVALID, "BM25's k1 must be between 0 and 1e6");
  if (!(q->b >= 0.0f && q->b <= 1.0f)) return pv__error(idx, PV_INVALID, "BM25's b must be between 0 and 1");
  if ((unsigned)q->fusion > PV_FUSE_WEIGHTED)
    return pv__error(idx, PV_INVALID, "fusion %d is unknown; use PV_FUSE_RRF or PV_FUSE_WEIGHTED",
                     (int)q->fusion);
  if (!(q->rrf_k > 0.0f && q->rrf_k <= 1e9f))
    return pv__error(idx, PV_INVALID, "rrf_k must be above 0 (and at most 1e9)");
  if (!(q->w_vector >= 0.0f && q->w_vector <= 1e9f && q->w_text >= 0.0f && q->w_text <= 1e9f) ||
      (q->fusion == PV_FUSE_WEIGHTED && q->w_vector + q->w_text <= 0.0f))
    return pv__error(idx, PV_INVALID, "the fusion weights must be 0 or more, not both 0");
  if (q->window && (q->window < q->k || q->window > PV_MAX_EF))
    return pv__error(idx, PV_INVALID, "window is %zu; it must be 0 or between k (%zu) and %u",
                     q->window, q->k, PV_MAX_EF);
  return PV_OK;
}

/* m[0..n) by score descending, then id ascending (a heapsort). */
static int ahead(const pv_match *a, const pv_match *b) {
  return a->score > b->score || (a->score == b->score && a->id < b->id);
}
static void sift(pv_match *m, size_t i, size_t n) {
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) return;
    if (c + 1 < n && ahead(&m[c], &m[c + 1])) c++;
    if (!ahead(&m[i], &m[c])) return; /* a min-heap on "ahead": the last first */
    pv_match x = m[i];
    m[i] = m[c];
    m[c] = x;
    i = c;
  }
}
static void sort_matches(pv_match *m, size_t n) {
  for (size_t i = n / 2; i-- > 0;) sift(m, i, n);
  for (size_t e = n; e-- > 1;) {
    pv_match x = m[0];
    m[0] = m[e];
    m[e] = x;
    sift(m, 0, e);
  }
}

/* Fuse the vector side's hits (vn of them, by distance) and the text
 * side's (tn, by score) into out: the k best of their union. */
static int fuse(pv_index *idx, const pv_query *q, const pv_hit *vh, size_t vn, const pv_match *th,
                size_t tn, pv_match *out, size_t *n_out) {
  size_t cap = 16;
  while (cap < 2 * (vn + tn)) cap *= 2;
  size_t bytes = (vn + tn) * sizeof(pv_match) + cap * sizeof(uint32_t);
  pv_match *u = pv__malloc(idx, bytes);
  if (!u) return pv__error(idx, PV_NOMEM, "out of memory fusing %zu hits", vn + tn);
  uint32_t *tab = (uint32_t *)(u + vn + tn);
  for (size_t i = 0; i < cap; i++) tab[i] = PV_NONE;
  size_t n = 0;
  double dmin = vn ? vh[0].distance : 0, dmax = vn ? vh[vn - 1].distance : 0;
  double smin = tn ? th[tn - 1].score : 0, smax = tn ? th[0].score : 0;
  for (size_t i = 0; i < vn + tn; i++) {
    uint32_t id = i < vn ? vh[i].id : th[i - vn].id;
    size_t j = (id * 2654435761u) & (cap - 1);
    while (tab[j] != PV_NONE && u[tab[j]].id != id) j = (j + 1) & (cap - 1);
    if (tab[j] == PV_NONE) {
      tab[j] = (uint32_t)n;
      pv_match m = {id, 0.0f, NAN, 0.0f};
      u[n++] = m;
    }
    pv_match *m = &u[tab[j]];
    double part;
    if (i < vn) {
      m->distance = vh[i].distance;
      part = q->fusion == PV_FUSE_RRF ? 1.0 / (q->rrf_k + (double)(i + 1))
             : q->w_vector * (dmax > dmin ? (dmax - vh[i].distance) / (dmax - dmin) : 1.0);
    } else {
      const pv_match *t = &th[i - vn];
      m->text_score = t->score;
      part = q->fusion == PV_FUSE_RRF ? 1.0 / (q->rrf_k + (double)(i - vn + 1))
             : q->w_text * (smax > smin ? (t->score - smin) / (smax - smin) : 1.0);
    }
    m->score = (float)((double)m->score + part);
  }
  sort_matches(u, n);
  *n_out = n < q->k ? n : q->k;
  memcpy(out, u, *n_out * sizeof(pv_match));
  pv__free(idx, u, bytes);
  return PV_OK;
}

int pv_query_run(pv_index *idx, const pv_query *q, pv_match *out, size_t *n_out) {
  int rc = check_query(idx, q, out, n_out);
  if (rc) return rc;
  size_t w = !q->vector || !q->text ? q->k : q->window ? q->window : q->k > 50 ? q->k : 50;
  size_t tn = 0, vn = 0;
  pv_match *th = NULL;
  pv_hit *vh = NULL;
  size_t bytes = 0;
  if (q->text && q->vector) {
    bytes = w * (sizeof(pv_match) + sizeof(pv_hit));
    th = pv__malloc(idx, bytes);
    if (!th) return pv__error(idx, PV_NOMEM, "out of memory for a hybrid query of k %zu", q->k);
    vh = (pv_hit *)(th + w);
  } else if (q->text) {
    th = out;
  } else {
    bytes = w * sizeof(pv_hit);
    vh = pv__malloc(idx, bytes);
    if (!vh) return pv__error(idx, PV_NOMEM, "out of memory for a query of k %zu", q->k);
  }
  if (q->text) {
    rc = pv__text_search(idx, q->text, q->text_len, q->prefix, q->k1, q->b, q->filter, q->exact,
                         w, th, &tn);
  }
  if (!rc && q->vector) rc = pv__search(idx, q->vector, w, q->ef, q->filter, q->exact, vh, &vn);
  if (!rc) {
    if (q->text && q->vector) {
      rc = fuse(idx, q, vh, vn, th, tn, out, n_out);
    } else if (q->text) {
      *n_out = tn;
    } else {
      for (size_t i = 0; i < vn; i++) {
        pv_match m = {vh[i].id, -vh[i].distance, vh[i].distance, 0.0f};
        out[i] = m;
      }
      *n_out = vn;
    }
  }
  if (bytes) pv__free(idx, q->text ? (void *)th : (void *)vh, bytes);
  return rc ? rc : pv__error(idx, PV_OK, NULL);
}
