/* SPDX-License-Identifier: MIT */
/*
 * The public entry points of documents and filters (pocketvec.h: keys,
 * attributes, upsert, filtered search, pv_find), with the discipline of
 * api.c: validate, reserve, then mutate with nothing left to fail.
 */
#include <string.h>

#include "attr/attr.h"
#include "filter/filter.h"
#include "index.h"
#include "query/plan.h"

/* The attributes a caller passes (len bytes at p) appended to out in the
 * encoding: JSON text parsed, or with PV_ATTR_ENCODED in flags the
 * encoding itself, checked as a loaded file's is and copied. `what` names
 * them in messages. PV_OK, PV_INVALID or PV_NOMEM (status of idx).
 *
 * PV_OMIT_JSON (the WebAssembly build, wasm/wasm.mk) leaves the JSON text
 * out: the JS package passes attributes encoded, and without this one
 * reference from the entry points it shares with JS, the linker drops the
 * JSON parser (pv_get_attributes' printer and pv_fields go with their
 * entry points, which that build does not export). */
static int attrs_in(pv_index *idx, const char *p, size_t len, unsigned flags, const char *what,
                    pv_buf *out) {
  if (flags & PV_ATTR_ENCODED) return pv__attr_take(idx, (const uint8_t *)p, len, what, out);
#ifdef PV_OMIT_JSON
  (void)len;
  (void)out;
  return pv__error(idx, PV_INVALID, "%s: this build takes attributes in the binary encoding only "
                   "(PV_ATTR_ENCODED), not as JSON text", what);
#else
  return pv__attr_parse(idx, p, len, what, out);
#endif
}

/* A short name for document i of a batch in messages: its key, quoted and
 * cut to 40 bytes (at a UTF-8 boundary), or "the document" when it comes
 * alone (`single`), or its position. */
static void doc_name(const pv_doc *d, size_t i, int single, char *buf, size_t cap) {
  if (d->key && d->key_len && pv__utf8_valid(d->key, d->key_len)) {
    size_t len = d->key_len;
    int cut = len > 40;
    if (cut) {
      len = 40;
      while (len && ((uint8_t)d->key[len] & 0xC0) == 0x80) len--;
    }
    char k[48];
    memcpy(k, d->key, len);
    k[len] = '\0';
    pv__fmt(buf, cap, "document \"%s%s\"", k, cut ? "..." : "");
  } else if (single) {
    pv__fmt(buf, cap, "the document");
  } else {
    pv__fmt(buf, cap, "document %zu", i);
  }
}

/* The error rc of a part of docs[i] (its attributes, its text), already
 * set with the offset inside that part: the item becomes i. Returns rc. */
static int item_error(pv_index *idx, size_t i, int rc) {
  pv_error_info info;
  pv_errinfo(idx, &info);
  pv__error_at(idx, (int64_t)i, -1);
  pv__error_offset(idx, info.offset);
  return rc;
}

/* Validate docs[i] and build its record (NULL when it has neither key nor
 * attributes) into *rec, and its tokenized text (NULL: none) into *tp. */
static int prepare(pv_index *idx, const pv_doc *d, size_t i, int single, pv_buf *buf,
                   pv_tvocab **vocab, pv_rec **rec, pv_tprep **tp) {
  char name[80], what[120];
  *rec = NULL;
  *tp = NULL;
  doc_name(d, i, single, name, sizeof name);
  if (!d->vector) {
    pv__error(idx, PV_INVALID, "%s has no vector", name);
    pv__error_at(idx, (int64_t)i, -1);
    return PV_INVALID;
  }
  int rc = pv__validate(idx, d->vector, PV_V_ONE, 0);
  if (rc) {
    /* pv__validate says "the vector: element 3 is NaN"; say whose. */
    char msg[PV_MSG_SIZE];
    pv_error_info info;
    pv_errinfo(idx, &info);
    pv__fmt(msg, sizeof msg, "%s", pv_errmsg(idx));
    pv__error(idx, rc, "%s: %s", name, msg);
    pv__error_at(idx, (int64_t)i, info.element);
    return rc;
  }
  if (d->key) {
    pv__fmt(what, sizeof what, "the key of %s", name);
    rc = pv__key_check(idx, d->key, d->key_len, what);
    if (rc) {
      pv__error_at(idx, (int64_t)i, -1);
      return rc;
    }
  }
  if (d->flags & ~PV_ATTR_ENCODED) {
    pv__error(idx, PV_INVALID, "%s has flags %u; use 0 or PV_ATTR_ENCODED", name, d->flags);
    pv__error_at(idx, (int64_t)i, -1);
    return PV_INVALID;
  }
  buf->len = 0;
  if (d->attributes) {
    pv__fmt(what, sizeof what, "the %sattributes of %s",
            d->flags & PV_ATTR_ENCODED ? "encoded " : "", name);
    rc = attrs_in(idx, d->attributes, d->attributes_len, d->flags, what, buf);
    if (rc) return item_error(idx, i, rc);
  }
  if (d->text || d->text_len) {
    if (!d->text) {
      pv__error(idx, PV_INVALID, "%s has text_len %zu but no text", name, d->text_len);
      pv__error_at(idx, (int64_t)i, -1);
      return PV_INVALID;
    }
    pv__fmt(what, sizeof what, "the text of %s", name);
    rc = pv__text_prepare(idx, vocab, d->text, d->text_len, what, tp);
    if (rc) return item_error(idx, i, rc);
  }
  size_t klen = d->key ? d->key_len : 0;
  if (!klen && !buf->len) return PV_OK;
  *rec = pv__rec_new(idx, d->key, klen, buf->p, buf->len);
  if (!*rec) return pv__error(idx, PV_NOMEM, "out of memory storing %s", name);
  return PV_OK;
}

/* A batch of upserts (pocketvec.h). Each position keeps its document as
 * given, its record (key and attributes, copied) and its tokens. The
 * vector is the caller's until the commit. The text is tokenized when the
 * document comes and then only the journal needs it: pv_upsert_batch's
 * texts are the caller's for the whole call (borrow), pv_batch_add's are
 * copied while the journal records and dropped otherwise (nothing holds
 * every text of a large batch at once, which is the point of adding one
 * document at a time). */
struct pv_batch {
  pv_index *idx;
  pv_doc *docs;  /* [cap]; key points into the record, text as above */
  pv_rec **rec;  /* [cap] */
  pv_tprep **tp; /* [cap] */
  size_t n, cap;
  pv_buf buf;  /* attribute scratch */
  pv_tvocab *vocab; /* the terms of the texts, each once */
  int borrow;  /* the texts stay the caller's until the commit */
};

static void batch_clear(pv_batch *b) {
  pv_index *idx = b->idx;
  for (size_t i = 0; i < b->n; i++) {
    pv__rec_free(idx, b->rec[i]);
    pv__text_prep_free(idx, b->tp[i]);
    if (!b->borrow && b->docs[i].text) pv__free(idx, (void *)b->docs[i].text, b->docs[i].text_len);
  }
  b->n = 0;
}

static void batch_release(pv_batch *b) {
  pv_index *idx = b->idx;
  batch_clear(b);
  pv__free(idx, b->docs, b->cap * (sizeof(pv_doc) + sizeof(pv_rec *) + sizeof(pv_tprep *)));
  pv__buf_free(idx, &b->buf);
  pv__text_vocab_free(idx, b->vocab);
}

/* Room for `more` positions after the n there are. PV_OK or PV_NOMEM. */
static int batch_room(pv_batch *b, size_t more) {
  if (more <= b->cap - b->n) return PV_OK;
  if (more > UINT32_MAX / 4 - b->n)
    return pv__error(b->idx, PV_FULL, "a batch of %zu documents is too large", b->n + more);
  size_t cap = b->cap + b->cap / 2;
  if (cap < b->n + more) cap = b->n + more;
  if (cap < 16) cap = 16;
  if (cap > UINT32_MAX / 4) cap = UINT32_MAX / 4;
  size_t one = sizeof(pv_doc) + sizeof(pv_rec *) + sizeof(pv_tprep *);
  pv_doc *d = cap <= SIZE_MAX / one ? pv__malloc(b->idx, cap * one) : NULL;
  if (!d) return pv__error(b->idx, PV_NOMEM, "out of memory upserting %zu documents", b->n + more);
  pv_rec **r = (pv_rec **)(d + cap);
  pv_tprep **t = (pv_tprep **)(r + cap);
  if (b->n) {
    memcpy(d, b->docs, b->n * sizeof *d);
    memcpy(r, b->rec, b->n * sizeof *r);
    memcpy(t, b->tp, b->n * sizeof *t);
  }
  pv__free(b->idx, b->docs, b->cap * one);
  b->docs = d;
  b->rec = r;
  b->tp = t;
  b->cap = cap;
  return PV_OK;
}

/* Check document d and take it as the next position (room made);
 * `single` names it "the document" in messages, else by key or position. */
static int batch_take(pv_batch *b, const pv_doc *d, int single) {
  pv_index *idx = b->idx;
  size_t i = b->n;
  pv_rec *rec;
  pv_tprep *tp;
  int rc = prepare(idx, d, i, single, &b->buf, &b->vocab, &rec, &tp);
  if (rc) {
    pv__text_prep_free(idx, tp); /* prepare may fail after tokenizing */
    return rc;
  }
  pv_doc k = *d;
  if (rec && rec->key_len) k.key = pv__rec_key(rec);
  if (!b->borrow) {
    k.attributes = NULL;
    k.attributes_len = 0;
    k.text = NULL;
    k.text_len = 0;
    if (tp && idx->jr.on && !idx->jr.depth) {
      char *c = pv__malloc(idx, d->text_len);
      if (!c) {
        pv__rec_free(idx, rec);
        pv__text_prep_free(idx, tp);
        return pv__error(idx, PV_NOMEM, "out of memory upserting a document");
      }
      memcpy(c, d->text, d->text_len);
      k.text = c;
      k.text_len = d->text_len;
    }
  }
  b->docs[i] = k;
  b->rec[i] = rec;
  b->tp[i] = tp;
  b->n++;
  return PV_OK;
}

/* Apply the batch's n positions, all or nothing (the batch is emptied on
 * success, kept on failure). The last document of each key wins; the
 * earlier ones are dropped and report the winner's id. */
static int batch_apply(pv_batch *b, uint32_t *ids_out) {
  pv_index *idx = b->idx;
  size_t n = b->n;
  if (n == 0) return pv__error(idx, PV_OK, NULL);
  uint32_t tcap = 16;
  while (tcap < 2 * n) tcap *= 2;
  /* next: the position of the next document with the same key (or
   * PV_NONE); pick: positions inserted, in order; ids: their ids; tab:
   * positions by key hash; tpick: the tokens of each inserted document. */
  /* In 64 bits: in wasm32 a batch near its limit would wrap size_t. */
  uint64_t want = (uint64_t)n * (3 * sizeof(uint32_t) + sizeof(pv_tprep *)) + (uint64_t)tcap * sizeof(uint32_t);
  size_t bytes = (size_t)want;
  pv_tprep **tpick = want <= SIZE_MAX ? pv__malloc(idx, bytes) : NULL;
  if (!tpick) return pv__error(idx, PV_NOMEM, "out of memory upserting %zu documents", n);
  uint32_t *next = (uint32_t *)(tpick + n), *pick = next + n, *ids = pick + n, *tab = ids + n;
  uint32_t npick = 0, mask = tcap - 1;
  for (uint32_t i = 0; i < tcap; i++) tab[i] = PV_NONE;
  for (uint32_t i = 0; i < n; i++) {
    next[i] = PV_NONE;
    const pv_rec *r = b->rec[i];
    if (!r || !r->key_len) continue;
    uint32_t j = r->hash & mask;
    for (; tab[j] != PV_NONE; j = (j + 1) & mask) {
      const pv_rec *o = b->rec[tab[j]];
      if (o->hash == r->hash && o->key_len == r->key_len &&
          !memcmp(pv__rec_key(o), pv__rec_key(r), r->key_len))
        break;
    }
    if (tab[j] != PV_NONE) next[tab[j]] = i;
    tab[j] = i;
  }
  for (uint32_t i = 0; i < n; i++)
    if (next[i] == PV_NONE) pick[npick++] = i;

  pv__fidx_refresh(idx);
  for (uint32_t j = 0; j < npick; j++) tpick[j] = b->tp[pick[j]];
  int rc = PV_OK;
  if (pv__key_reserve(idx, npick) != PV_OK || pv__text_reserve(idx, &b->vocab, tpick, npick) != PV_OK)
    rc = pv__error(idx, PV_NOMEM, "out of memory upserting %zu documents", n);
  pv_vecs src = {NULL, b->docs, pick};
  if (!rc) rc = pv__add(idx, &src, npick, ids);
  if (rc) {
    pv__free(idx, tpick, bytes);
    return rc;
  }

  /* Nothing below can fail. lost: an inserted document's text was
   * tokenized and not kept (it came while the journal was not recording). */
  int lost = 0;
  for (uint32_t j = 0; j < npick && !b->borrow; j++) lost |= b->tp[pick[j]] && !b->docs[pick[j]].text;
  uint32_t first = idx->st.n - npick;
  pv__fidx_bulk(idx, npick >= PV_FIDX_TAIL);
  for (uint32_t j = 0; j < npick; j++) {
    uint32_t i = pick[j];
    pv_rec *r = b->rec[i];
    b->rec[i] = NULL;
    if (b->tp[i]) {
      pv__text_add(idx, ids[j], first + j, b->tp[i]);
      b->tp[i] = NULL;
    }
    if (!r) continue;
    if (r->key_len) {
      uint32_t old = pv__key_find(idx, pv__rec_key(r), r->key_len, r->hash);
      if (old != PV_NONE) pv__kill(idx, pv__slot_of(idx, old));
      pv__key_put(idx, r, ids[j]);
    }
    pv__rec_set(idx, first + j, r);
    if (r->attr_len) pv__fidx_add(idx, ids[j], pv__rec_attr(r), r->attr_len);
  }
  pv__fidx_bulk(idx, 0);
  /* Such a text cannot go in the journal: the next save is a whole one. */
  if (lost && idx->jr.on && !idx->jr.depth) pv__log_stop(idx);
  pv__log_upsert(idx, b->docs, pick, npick, first);
  if (ids_out) {
    /* Back to front, so a dropped position finds its winner's id set. */
    uint32_t j = npick;
    for (size_t i = n; i-- > 0;) ids_out[i] = next[i] == PV_NONE ? ids[--j] : ids_out[next[i]];
  }
  pv__free(idx, tpick, bytes);
  batch_clear(b);
  idx->changes++;
  pv__maybe_compact(idx);
  return pv__error(idx, PV_OK, NULL);
}

int pv_upsert(pv_index *idx, const pv_doc *doc, uint32_t *id_out) {
  return pv_upsert_batch(idx, doc, 1, id_out);
}

int pv_upsert_batch(pv_index *idx, const pv_doc *docs, size_t n, uint32_t *ids_out) {
  if (n == 0) return pv__error(idx, PV_OK, NULL);
  if (!docs) return pv__error_null(idx, PV_INVALID, "the documents pointer is NULL");
  pv_batch b = {idx, NULL, NULL, NULL, 0, 0, {0}, NULL, 1};
  int rc = batch_room(&b, n);
  for (size_t i = 0; i < n && !rc; i++) rc = batch_take(&b, &docs[i], n == 1);
  if (!rc) rc = batch_apply(&b, ids_out);
  batch_release(&b);
  return rc;
}

int pv_batch_new(pv_index *idx, pv_batch **out) {
  if (!out) return pv__error_null(idx, PV_INVALID, "the batch pointer is NULL");
  *out = NULL;
  if (!idx) return pv__error_null(idx, PV_INVALID, "the index is NULL");
  pv_batch *b = pv__malloc(idx, sizeof *b);
  if (!b) return pv__error(idx, PV_NOMEM, "out of memory starting a batch");
  *b = (pv_batch){idx, NULL, NULL, NULL, 0, 0, {0}, NULL, 0};
  *out = b;
  return pv__error(idx, PV_OK, NULL);
}

int pv_batch_add(pv_batch *b, const pv_doc *doc) {
  if (!b) return pv__error_null(NULL, PV_INVALID, "the batch is NULL");
  if (!doc) return pv__error_null(b->idx, PV_INVALID, "the document pointer is NULL");
  int rc = batch_room(b, 1);
  if (!rc) rc = batch_take(b, doc, 0);
  return rc ? rc : pv__error(b->idx, PV_OK, NULL);
}

size_t pv_batch_count(const pv_batch *b) {
  return b ? b->n : 0;
}

int pv_batch_commit(pv_batch *b, uint32_t *ids_out) {
  if (!b) return pv__error_null(NULL, PV_INVALID, "the batch is NULL");
  return batch_apply(b, ids_out);
}

void pv_batch_free(pv_batch *b) {
  if (!b) return;
  pv_index *idx = b->idx;
  batch_release(b);
  pv__free(idx, b, sizeof *b);
}

int pv_lookup(pv_index *idx, const char *key, size_t key_len, uint32_t *id_out) {
  int rc = pv__key_check(idx, key, key_len, "the key");
  if (rc) return rc;
  uint32_t id = pv__key_find(idx, key, key_len, pv__key_hash(key, key_len));
  if (id == PV_NONE) return pv__error(idx, PV_NOTFOUND, "no document has this key");
  if (id_out) *id_out = id;
  return pv__error(idx, PV_OK, NULL);
}

int pv_delete_key(pv_index *idx, const char *key, size_t key_len) {
  uint32_t id = PV_NONE;
  int rc = pv_lookup(idx, key, key_len, &id);
  if (rc) return rc;
  return pv_delete(idx, id);
}

int pv_get_key(pv_index *idx, uint32_t id, const char **key, size_t *key_len) {
  uint32_t s = pv__live_slot(idx, id);
  if (s == PV_NONE) return pv__not_found(idx, id);
  const pv_rec *r = pv__rec_of(idx, s);
  int has = r && r->key_len;
  if (key) *key = has ? pv__rec_key(r) : NULL;
  if (key_len) *key_len = has ? r->key_len : 0;
  return pv__error(idx, PV_OK, NULL);
}

int pv_get_attributes(pv_index *idx, uint32_t id, char *buf, size_t cap, size_t *len_out) {
  uint32_t s = pv__live_slot(idx, id);
  if (s == PV_NONE) return pv__not_found(idx, id);
  if (!len_out) return pv__error_null(idx, PV_INVALID, "len_out is NULL");
  const pv_rec *r = pv__rec_of(idx, s);
  pv__attr_print(r ? pv__rec_attr(r) : NULL, r ? r->attr_len : 0, buf, buf ? cap : 0, len_out);
  if (*len_out > cap || !buf) {
    pv__error(idx, PV_RANGE, "the attributes of id %u need %zu bytes; the buffer has %zu", id,
              *len_out, cap);
    pv__error_need(idx, *len_out);
    return PV_RANGE;
  }
  return pv__error(idx, PV_OK, NULL);
}

int pv_get_attributes_encoded(pv_index *idx, uint32_t id, const void **data, size_t *len) {
  uint32_t s = pv__live_slot(idx, id);
  if (s == PV_NONE) return pv__not_found(idx, id);
  if (!data || !len) return pv__error_null(idx, PV_INVALID, "data or len is NULL");
  const pv_rec *r = pv__rec_of(idx, s);
  int has = r && r->attr_len;
  *data = has ? pv__rec_attr(r) : NULL;
  *len = has ? r->attr_len : 0;
  return pv__error(idx, PV_OK, NULL);
}

int pv_set_attributes(pv_index *idx, uint32_t id, const char *attributes, size_t len,
                      unsigned flags) {
  uint32_t s = pv__live_slot(idx, id);
  if (s == PV_NONE) return pv__not_found(idx, id);
  if (flags & ~(PV_ATTR_MERGE | PV_ATTR_ENCODED))
    return pv__error(idx, PV_INVALID,
                     "flags %u are unknown; use PV_ATTR_REPLACE or PV_ATTR_MERGE, "
                     "and PV_ATTR_ENCODED for the encoding", flags);
  pv_buf a = {0}, m = {0};
  int rc = attributes ? attrs_in(idx, attributes, len, flags,
                                 flags & PV_ATTR_ENCODED ? "the encoded attributes" : "the attributes",
                                 &a)
                      : PV_OK;
  const pv_rec *old = pv__rec_of(idx, s);
  const pv_buf *use = &a;
  if (!rc && (flags & PV_ATTR_MERGE) && old && old->attr_len) {
    rc = pv__attr_merge(idx, pv__rec_attr(old), old->attr_len, a.p, a.len, &m);
    use = &m;
  }
  pv_rec *r = NULL;
  if (!rc) {
    size_t klen = old ? old->key_len : 0;
    if (klen || use->len) {
      r = pv__rec_new(idx, klen ? pv__rec_key(old) : NULL, klen, use->p, use->len);
      if (!r) rc = pv__error(idx, PV_NOMEM, "out of memory setting the attributes of id %u", id);
    }
  }
  pv__buf_free(idx, &a);
  pv__buf_free(idx, &m);
  if (rc) return rc;
  /* The key map holds the id, which stays: only the record changes. */
  pv__fidx_refresh(idx);
  if (old && old->attr_len) pv__fidx_remove(idx, id, pv__rec_attr(old), old->attr_len);
  if (r && r->attr_len) pv__fidx_add(idx, id, pv__rec_attr(r), r->attr_len);
  pv__rec_set(idx, s, r);
  idx->changes++;
  pv__log_set_attr(idx, id);
  return pv__error(idx, PV_OK, NULL);
}

/* ---- filtered reads ------------------------------------------------------ */

int pv_search_filter(pv_index *idx, const float *q, size_t k, size_t ef, const pv_filter *f,
                     pv_hit *out, size_t *n_out) {
  return pv__search(idx, q, k, ef, f, 0, out, n_out);
}

int pv_search_exact_filter(pv_index *idx, const float *q, size_t k, size_t ef,
                           const pv_filter *f, pv_hit *out, size_t *n_out) {
  return pv__search(idx, q, k, ef, f, 1, out, n_out);
}

int pv_find(pv_index *idx, const pv_filter *f, uint32_t *out, size_t cap, size_t *count) {
  if (!count) return pv__error_null(idx, PV_INVALID, "count is NULL");
  if (cap && !out) return pv__error_null(idx, PV_INVALID, "out is NULL but cap is %zu", cap);
  pv__find(idx, f, out, cap, count);
  return pv__error(idx, PV_OK, NULL);
}
