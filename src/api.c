/* SPDX-License-Identifier: MIT */
/*
 * The public entry points of include/pocketvec.h (all but persistence,
 * persist/, and the checker, graph/check.c): they check arguments and hand
 * over to the modules.
 *
 * Every entry point that writes follows one discipline so that a failure
 * changes nothing: validate everything, then reserve every byte the
 * operation can need, and only then mutate (the mutating part allocates
 * nothing).
 */
#include <string.h>

#include "index.h"
#include "query/plan.h"

const char *pv_version(void) { return PV_VERSION_STRING; }
const char *pv_kernels_name(void) { return pv_kernels_best()->name; }

/* ======================================================================== */
/* Lifecycle                                                                */
/* ======================================================================== */

pv_options pv_options_default(void) {
  pv_options o;
  memset(&o, 0, sizeof o);
  o.dim = 0;
  o.metric = PV_COSINE;
  o.storage = PV_F32;
  o.m = 16;
  o.ef_construction = 200;
  o.ef_search = 64;
  o.seed = 0x706f636b65747665ull; /* "pocketve" */
  o.capacity = 0;
  o.compact_threshold = 0.3f;
  o.allocator = NULL;
  return o;
}

int pv__check_options(const pv_options *o) {
  if (!o)
    return pv__error_null(NULL, PV_INVALID, "options are NULL; start from pv_options_default()");
  if (o->dim == 0 || o->dim > PV_MAX_DIM)
    return pv__error(NULL, PV_INVALID, "dim is %u; it must be between 1 and %u", (unsigned)o->dim,
                     PV_MAX_DIM);
  if ((unsigned)o->metric > PV_DOT)
    return pv__error(NULL, PV_INVALID, "metric %d is unknown; use PV_COSINE, PV_L2 or PV_DOT",
                     (int)o->metric);
  if (!pv__codec_of(o->storage))
    return pv__error(NULL, PV_INVALID, "storage %d is unknown; use PV_F32, PV_SQ8, PV_BINARY or PV_BINARY_F32",
                     (int)o->storage);
  if (o->m < 2 || o->m > PV_MAX_M)
    return pv__error(NULL, PV_INVALID, "m is %u; it must be between 2 and %u", (unsigned)o->m,
                     PV_MAX_M);
  if (o->ef_construction < 1 || o->ef_construction > PV_MAX_EF)
    return pv__error(NULL, PV_INVALID, "ef_construction is %u; it must be between 1 and %u",
                     (unsigned)o->ef_construction, PV_MAX_EF);
  if (o->ef_search < 1 || o->ef_search > PV_MAX_EF)
    return pv__error(NULL, PV_INVALID, "ef_search is %u; it must be between 1 and %u",
                     (unsigned)o->ef_search, PV_MAX_EF);
  if (!(o->compact_threshold >= 0.0f && o->compact_threshold <= 1.0f))
    return pv__error(NULL, PV_INVALID,
                     "compact_threshold must be between 0 (never) and 1; it is out of range");
  if (o->text & ~(PV_TEXT_STEM | PV_TEXT_STOPWORDS))
    return pv__error(NULL, PV_INVALID, "text flags %u are unknown; use 0, PV_TEXT_STEM and PV_TEXT_STOPWORDS",
                     o->text);
  if (o->allocator && (!o->allocator->malloc || !o->allocator->realloc || !o->allocator->free))
    return pv__error(NULL, PV_INVALID, "the allocator lacks malloc, realloc or free");
  return PV_OK;
}

int pv__new(const pv_options *opts, const pv_allocator *alloc, pv_index **out) {
  *out = NULL;
  int rc = pv__check_options(opts);
  if (rc) return rc;
  pv_allocator a = opts->allocator ? *opts->allocator : alloc ? *alloc : pv__default_allocator();
  pv_index *idx = a.malloc(a.ctx, sizeof *idx);
  if (!idx) return pv__error(NULL, PV_NOMEM, "out of memory creating the index");
  memset(idx, 0, sizeof *idx);
  idx->alloc = a;
  idx->mem = sizeof *idx;
  idx->serial = pv__next_serial();
  idx->opt = *opts;
  idx->opt.allocator = NULL;
  if (idx->opt.ef_construction < opts->m) idx->opt.ef_construction = opts->m;
  idx->dim = opts->dim;
  idx->max_abs = pv__max_magnitude(opts->metric, opts->dim);
  idx->kern = pv_kernels_best();
  idx->codec = pv__codec_of(opts->storage);
  idx->g.m = opts->m;
  idx->g.m0 = 2 * opts->m;
  idx->g.entry = PV_NONE;
  idx->g.max_level = -1;
  idx->g.rng = opts->seed;
  idx->text.flags = opts->text; /* PV_TEXT_* are the tokenizer's PV_TOK_* */
  pv__store_init(idx, idx->codec->code_bytes(idx->dim), 1 + (size_t)idx->g.m0);
  /* What a search asks for of a code ahead: the first 256 bytes at most
   * (the rest comes while the kernel runs). */
  idx->st.hot = idx->st.vbytes < PV_PREFETCH_BYTES ? idx->st.vbytes : PV_PREFETCH_BYTES;

  /* A search context sized for construction, up front: pv_add must not
   * discover it needs memory half-way through an insert. */
  pv_ctx *c = pv__ctx_acquire(idx, idx->opt.ef_construction, idx->st.n);
  pv__ctx_release(idx, c);
  int ok = c != NULL && (!idx->codec->open || idx->codec->open(idx) == PV_OK);
  if (ok && opts->capacity) ok = pv__store_reserve(idx, opts->capacity) == PV_OK;
  if (!ok) {
    pv_free(idx);
    return pv__error(NULL, PV_NOMEM, "out of memory creating the index");
  }
  pv__error(NULL, PV_OK, NULL);
  *out = idx;
  return PV_OK;
}

int pv_new(const pv_options *opts, pv_index **out) {
  if (!out) return pv__error_null(NULL, PV_INVALID, "out is NULL");
  return pv__new(opts, NULL, out);
}

void pv_free(pv_index *idx) {
  if (!idx) return;
  pv__error_forget(idx);
  pv__graph_free_upper(idx, 0, idx->st.n);
  pv__docs_free(idx);
  pv__fidx_free(idx);
  pv__text_free(idx);
  pv__ctx_free_all(idx);
  pv__log_free(idx);
  pv__store_free(idx);
  if (idx->codec->close) idx->codec->close(idx);
  pv_allocator a = idx->alloc;
  a.free(a.ctx, idx);
}

void pv_get_options(const pv_index *idx, pv_options *out) {
  if (idx && out) *out = idx->opt;
}

/* ======================================================================== */
/* Writes                                                                   */
/* ======================================================================== */

uint32_t pv__live_slot(const pv_index *idx, uint32_t id) {
  uint32_t s = pv__slot_of(idx, id);
  return s != PV_NONE && pv__is_live(idx, s) ? s : PV_NONE;
}

int pv__not_found(pv_index *idx, uint32_t id) {
  return pv__error(idx, PV_NOTFOUND, id < idx->next_id ? "id %u was deleted" : "id %u does not exist",
                   id);
}

int pv_check_dim(pv_index *idx, size_t len) {
  if (len != idx->dim)
    return pv__error(idx, PV_DIM, "vector has %zu values, index expects %u", len, idx->dim);
  return pv__error(idx, PV_OK, NULL);
}

int pv_add(pv_index *idx, const float *v, uint32_t *id_out) {
  return pv_add_batch(idx, v, 1, id_out);
}

int pv_add_batch(pv_index *idx, const float *v, size_t n, uint32_t *ids_out) {
  if (n == 0) return pv__error(idx, PV_OK, NULL);
  if (!v) return pv__error_null(idx, PV_INVALID, "the vector pointer is NULL");
  for (size_t i = 0; i < n; i++) {
    int rc = pv__validate(idx, v + i * idx->dim, n == 1 ? PV_V_ONE : PV_V_BATCH, i);
    if (rc) return rc;
  }
  pv_vecs src = {v, NULL, NULL};
  int rc = pv__add(idx, &src, n, ids_out);
  if (!rc) pv__log_add(idx, v, n);
  return rc;
}

static const float *vec_at(const pv_vecs *src, size_t i, uint32_t dim) {
  if (src->docs) return src->docs[src->pick ? src->pick[i] : i].vector;
  return src->base + i * dim;
}

int pv__add(pv_index *idx, const pv_vecs *src, size_t n, uint32_t *ids_out) {
  if ((uint64_t)idx->next_id + n >= PV_NONE)
    return pv__error(idx, PV_FULL, "the index has issued %u ids and cannot issue %zu more",
                     idx->next_id, n);
  if ((uint64_t)idx->st.n + n > UINT32_MAX - 1)
    return pv__error(idx, PV_FULL, "the index cannot hold %zu more vectors", n);
  uint32_t first = idx->st.n, need = first + (uint32_t)n;
  /* An insert writes links anywhere in the graph: a loaded index read in
   * place gets its own copy first. */
  pv_ctx *c = NULL;
  if (pv__store_materialize(idx, 0) != PV_OK || pv__store_reserve(idx, need) != PV_OK ||
      !(c = pv__ctx_acquire(idx, idx->opt.ef_construction, idx->st.n)) ||
      pv__ctx_reserve(idx, c, idx->opt.ef_construction, need) != PV_OK) {
    pv__ctx_release(idx, c);
    return pv__error(idx, PV_NOMEM, "out of memory adding %zu vectors to an index of %u", n,
                     first);
  }

  /* Levels and upper link lists for the whole batch before any insert, so an
   * allocation failure leaves nothing half-added. The generator state is
   * only committed with the inserts, so a retry draws the same levels. */
  uint64_t rng = idx->g.rng;
  uint8_t *level = idx->st.col[PV_COL_LEVEL].base;
  uint32_t **up = pv__upper(idx);
  /* A slot compaction freed keeps stale copies of what moved down (a
   * document's or a text's record, a twin): start every new one clear. */
  for (size_t i = 0; i < n; i++) pv__store_clear(idx, first + (uint32_t)i);
  for (size_t i = 0; i < n; i++) {
    uint32_t s = first + (uint32_t)i;
    int lv = pv__random_level(idx, &rng);
    level[s] = (uint8_t)lv;
    up[s] = NULL;
    if (lv > 0) {
      up[s] = pv__malloc(idx, pv__upper_bytes(idx, lv));
      if (!up[s]) {
        pv__graph_free_upper(idx, first, first + (uint32_t)i);
        pv__ctx_release(idx, c);
        return pv__error(idx, PV_NOMEM, "out of memory adding %zu vectors to an index of %u", n,
                         first);
      }
      memset(up[s], 0, pv__upper_bytes(idx, lv));
    }
  }

  uint32_t *ids = idx->st.col[PV_COL_ID].base;
  for (size_t i = 0; i < n; i++) {
    uint32_t s = first + (uint32_t)i;
    ids[s] = idx->next_id;
    memset(pv__links(idx, s, 0), 0, sizeof(uint32_t) * idx->st.lwords);
    pv__encode_slot(idx, s, vec_at(src, i, idx->dim), c->qf);
    idx->st.n = s + 1;
    pv__insert_plan(idx, c, s);
    pv__insert_commit(idx, c, s);
    idx->live++;
    if (ids_out) ids_out[i] = idx->next_id;
    idx->next_id++;
  }
  pv__ctx_release(idx, c);
  idx->g.rng = rng;
  idx->changes++;
  if (idx->codec->grown) idx->codec->grown(idx);
  return pv__error(idx, PV_OK, NULL);
}

void pv__kill(pv_index *idx, uint32_t s) {
  pv_rec *r = pv__rec_of(idx, s);
  if (r && r->key_len) pv__key_remove(idx, r, pv__id(idx, s));
  pv__rec_set(idx, s, NULL);
  pv__text_kill(idx, pv__id(idx, s), s);
  pv__flags(idx)[s] |= PV_SLOT_DELETED;
  idx->live--;
  idx->changes++;
}

void pv__maybe_compact(pv_index *idx) {
  float t = idx->opt.compact_threshold;
  if (t > 0.0f && (double)(idx->st.n - idx->live) > (double)t * idx->st.n) {
    /* Best effort: a failed compaction leaves the index as it was, and the
     * write that triggered it has succeeded (but a replay could compact). */
    if (pv__compact(idx) != PV_OK) pv__log_stop(idx);
  }
}

int pv_delete(pv_index *idx, uint32_t id) {
  uint32_t s = pv__live_slot(idx, id);
  if (s == PV_NONE) return pv__not_found(idx, id);
  pv__kill(idx, s);
  pv__maybe_compact(idx);
  pv__log_delete(idx, id);
  return pv__error(idx, PV_OK, NULL);
}

int pv_compact(pv_index *idx) {
  if (pv__compact(idx) != PV_OK)
    return pv__error(idx, PV_NOMEM, "out of memory compacting %u slots", idx->st.n);
  pv__log_compact(idx);
  return pv__error(idx, PV_OK, NULL);
}

/* ======================================================================== */
/* Reads (safe for concurrent callers: see pocketvec.h)                      */
/* ======================================================================== */

int pv_contains(const pv_index *idx, uint32_t id) {
  return idx && pv__live_slot(idx, id) != PV_NONE;
}

int pv_get(pv_index *idx, uint32_t id, float *out) {
  uint32_t s = pv__live_slot(idx, id);
  if (s == PV_NONE) return pv__not_found(idx, id);
  pv__decode_slot(idx, s, out);
  return pv__error(idx, PV_OK, NULL);
}

size_t pv_count(const pv_index *idx) { return idx ? idx->live : 0; }
size_t pv_deleted_count(const pv_index *idx) { return idx ? idx->st.n - idx->live : 0; }
uint32_t pv_next_id(const pv_index *idx) { return idx ? idx->next_id : 0; }

size_t pv_list_ids(const pv_index *idx, uint32_t *out, size_t cap) {
  size_t j = 0;
  for (uint32_t s = 0; s < idx->st.n; s++) {
    if (!pv__is_live(idx, s)) continue;
    if (j < cap) out[j] = pv__id(idx, s);
    j++;
  }
  return j;
}

int pv_search(pv_index *idx, const float *q, size_t k, size_t ef, pv_hit *out, size_t *n_out) {
  return pv__search(idx, q, k, ef, NULL, 0, out, n_out);
}

int pv_search_exact(pv_index *idx, const float *q, size_t k, size_t ef, pv_hit *out,
                    size_t *n_out) {
  return pv__search(idx, q, k, ef, NULL, 1, out, n_out);
}
