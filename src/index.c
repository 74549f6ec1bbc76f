/*
 * The public API: lifecycle, memory, errors, and the entry points that check
 * arguments and then hand over to store.c (vectors), hnsw.c (graph),
 * compact.c and check.c.
 *
 * Every entry point follows one discipline so that a failure changes
 * nothing: validate everything, then reserve every byte the operation can
 * need, and only then mutate (the mutating part allocates nothing).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ======================================================================== */
/* Allocator                                                                */
/* ======================================================================== */

static void *libc_malloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void *libc_realloc(void *ctx, void *p, size_t n) { (void)ctx; return realloc(p, n); }
static void libc_free(void *ctx, void *p) { (void)ctx; free(p); }

static const pv_allocator libc_allocator = {libc_malloc, libc_realloc, libc_free, NULL};
static pv_allocator current_allocator = {libc_malloc, libc_realloc, libc_free, NULL};

void pv_set_allocator(const pv_allocator *a) {
  current_allocator = a ? *a : libc_allocator;
}

void *pv__malloc(pv_index *idx, size_t size) {
  if (size == 0) size = 1;
  void *p = idx->alloc.malloc(idx->alloc.ctx, size);
  if (p) idx->mem += size;
  return p;
}

void *pv__realloc(pv_index *idx, void *p, size_t old_size, size_t new_size) {
  if (!p) return pv__malloc(idx, new_size);
  if (new_size == 0) new_size = 1;
  void *q = idx->alloc.realloc(idx->alloc.ctx, p, new_size);
  if (q) idx->mem = idx->mem - old_size + new_size;
  return q;
}

void pv__free(pv_index *idx, void *p, size_t size) {
  if (!p) return;
  idx->alloc.free(idx->alloc.ctx, p);
  idx->mem -= size ? size : 1;
}

/* ======================================================================== */
/* Errors                                                                   */
/* ======================================================================== */

/* The message of the last failed pv_new, per thread where threads exist.
 * wasm32 without the atomics feature has no TLS, and is single-threaded. */
#if defined(__wasm__) || defined(__STDC_NO_THREADS__)
static char new_errmsg[PV_MSG_SIZE] = "not an error";
static int new_errcode = PV_OK;
#else
static _Thread_local char new_errmsg[PV_MSG_SIZE] = "not an error";
static _Thread_local int new_errcode = PV_OK;
#endif

const char *pv_errstr(int code) {
  switch (code) {
    case PV_OK: return "not an error";
    case PV_ERROR: return "internal error";
    case PV_NOMEM: return "out of memory";
    case PV_INVALID: return "invalid argument";
    case PV_DIM: return "wrong vector dimension";
    case PV_NOTFOUND: return "no vector with that id";
    case PV_CORRUPT: return "index is corrupt";
    case PV_VERSION: return "written by a newer version of pocketvec";
    case PV_FULL: return "id space exhausted";
    default: return "unknown status code";
  }
}

int pv__error(pv_index *idx, int code, const char *fmt, ...) {
  idx->errcode = code;
  if (code == PV_OK || !fmt) {
    const char *m = pv_errstr(code);
    size_t i = 0;
    for (; m[i] && i + 1 < sizeof idx->errmsg; i++) idx->errmsg[i] = m[i];
    idx->errmsg[i] = '\0';
    return code;
  }
  va_list ap;
  va_start(ap, fmt);
  pv__vfmt(idx->errmsg, sizeof idx->errmsg, fmt, ap);
  va_end(ap);
  return code;
}

int pv__new_error(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pv__vfmt(new_errmsg, sizeof new_errmsg, fmt, ap);
  va_end(ap);
  new_errcode = code;
  return code;
}

const char *pv_errmsg(const pv_index *idx) { return idx ? idx->errmsg : new_errmsg; }
int pv_errcode(const pv_index *idx) { return idx ? idx->errcode : new_errcode; }

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
  return o;
}

int pv__check_options(const pv_options *o) {
  if (!o) return pv__new_error(PV_INVALID, "options are NULL; start from pv_options_default()");
  if (o->dim == 0 || o->dim > PV_MAX_DIM)
    return pv__new_error(PV_INVALID, "dim is %u; it must be between 1 and %u", (unsigned)o->dim,
                     PV_MAX_DIM);
  if ((unsigned)o->metric > PV_DOT)
    return pv__new_error(PV_INVALID, "metric %d is unknown; use PV_COSINE, PV_L2 or PV_DOT",
                     (int)o->metric);
  if ((unsigned)o->storage > PV_SQ8)
    return pv__new_error(PV_INVALID, "storage %d is unknown; use PV_F32 or PV_SQ8", (int)o->storage);
  if (o->m < 2 || o->m > PV_MAX_M)
    return pv__new_error(PV_INVALID, "m is %u; it must be between 2 and %u", (unsigned)o->m, PV_MAX_M);
  if (o->ef_construction < 1 || o->ef_construction > PV_MAX_EF)
    return pv__new_error(PV_INVALID, "ef_construction is %u; it must be between 1 and %u",
                     (unsigned)o->ef_construction, PV_MAX_EF);
  if (o->ef_search < 1 || o->ef_search > PV_MAX_EF)
    return pv__new_error(PV_INVALID, "ef_search is %u; it must be between 1 and %u",
                     (unsigned)o->ef_search, PV_MAX_EF);
  if (!(o->compact_threshold >= 0.0f && o->compact_threshold <= 1.0f))
    return pv__new_error(PV_INVALID,
                     "compact_threshold must be between 0 (never) and 1; it is out of range");
  return PV_OK;
}

int pv_new(const pv_options *opts, pv_index **out) {
  if (!out) return pv__new_error(PV_INVALID, "out is NULL");
  *out = NULL;
  int rc = pv__check_options(opts);
  if (rc) return rc;

  pv_allocator a = current_allocator;
  pv_index *idx = a.malloc(a.ctx, sizeof *idx);
  if (!idx) return pv__new_error(PV_NOMEM, "out of memory creating the index");
  memset(idx, 0, sizeof *idx);
  idx->alloc = a;
  idx->mem = sizeof *idx;
  idx->opt = *opts;
  if (idx->opt.ef_construction < opts->m) idx->opt.ef_construction = opts->m;
  idx->dim = opts->dim;
  idx->m = opts->m;
  idx->m0 = 2 * opts->m;
  idx->k = pv_kernels_best();
  idx->vbytes = opts->storage == PV_F32 ? sizeof(float) * (size_t)opts->dim : opts->dim;
  idx->lwords = 1 + (size_t)idx->m0;
  idx->bshift = PV_BLOCK_MAX_SHIFT;
  while (idx->bshift > 0 && (idx->vbytes << idx->bshift) > PV_BLOCK_BYTES) idx->bshift--;
  idx->entry = PV_NONE;
  idx->max_level = -1;
  idx->rng = opts->seed;
  idx->epoch = 1;

  /* Query buffers, and search scratch sized for construction, up front:
   * pv_add must not discover it needs memory half-way through an insert. */
  idx->qf = pv__malloc(idx, sizeof(float) * idx->dim);
  if (opts->storage == PV_SQ8) idx->qc = pv__malloc(idx, idx->dim);
  int ok = idx->qf && (opts->storage == PV_F32 || idx->qc) &&
           pv__reserve_search(idx, idx->opt.ef_construction) == PV_OK;
  if (ok && opts->capacity) ok = pv__reserve(idx, opts->capacity) == PV_OK;
  if (!ok) {
    pv_free(idx);
    return pv__new_error(PV_NOMEM, "out of memory creating the index");
  }
  pv__error(idx, PV_OK, NULL);
  pv__new_error(PV_OK, "not an error");
  *out = idx;
  return PV_OK;
}

/* Per-slot element sizes of the growing arrays (0 = not used by this index). */
static size_t elem_size(const pv_index *idx, int a) {
  switch (a) {
    case PV_A_ID: return sizeof(uint32_t);
    case PV_A_LEVEL: return 1;
    case PV_A_FLAGS: return 1;
    case PV_A_UPPER: return sizeof(uint32_t *);
    case PV_A_SQ8: return idx->opt.storage == PV_SQ8 ? sizeof(pv_sq8) : 0;
    case PV_A_VISIT: return sizeof(uint16_t);
    default: return 0;
  }
}

static void **array_ptr(pv_index *idx, int a) {
  switch (a) {
    case PV_A_ID: return (void **)&idx->slot_id;
    case PV_A_LEVEL: return (void **)&idx->level;
    case PV_A_FLAGS: return (void **)&idx->flags;
    case PV_A_UPPER: return (void **)&idx->upper;
    case PV_A_SQ8: return (void **)&idx->sq8;
    default: return (void **)&idx->visit;
  }
}

/* Layout of a block of `slots` slots: vectors, then the link lists at the
 * next multiple of 64 bytes (codes of an odd dim would misalign them). */
static size_t pv__links_offset(const pv_index *idx, uint32_t slots) {
  return (idx->vbytes * slots + 63) & ~(size_t)63;
}
static size_t pv__block_bytes(const pv_index *idx, uint32_t slots) {
  return pv__links_offset(idx, slots) + sizeof(uint32_t) * idx->lwords * slots;
}
uint32_t pv__block_slots(const pv_index *idx, uint32_t b) {
  return b + 1 == idx->nblk ? idx->last : 1u << idx->bshift;
}
static size_t full_block_bytes(const pv_index *idx) { return pv__block_bytes(idx, 1u << idx->bshift); }

/* Free block b (a borrowed one lives in the loaded buffer: nothing to free). */
static void free_block(pv_index *idx, uint32_t b) {
  if (b >= idx->nborrow)
    pv__free(idx, idx->blk[b].v, b + 1 == idx->nblk ? idx->last_bytes : full_block_bytes(idx));
}

int pv__materialize(pv_index *idx, uint32_t from) {
  while (idx->nborrow > from) {
    uint32_t b = idx->nborrow - 1, slots = pv__block_slots(idx, b);
    size_t bytes = pv__block_bytes(idx, slots), lbytes = sizeof(uint32_t) * idx->lwords * slots;
    uint8_t *v = pv__malloc(idx, bytes);
    if (!v) return PV_NOMEM;
    memcpy(v, idx->blk[b].v, idx->vbytes * slots);
    memcpy(v + pv__links_offset(idx, slots), idx->blk[b].l, lbytes);
    idx->blk[b].v = v;
    idx->blk[b].l = (uint32_t *)(v + pv__links_offset(idx, slots));
    if (b + 1 == idx->nblk) idx->last_bytes = bytes;
    idx->nborrow = b;
  }
  if (idx->nborrow == 0 && idx->taken) {
    /* Nothing reads the loaded buffer any more. */
    pv__free(idx, idx->taken, idx->taken_size);
    idx->taken = NULL;
  }
  return PV_OK;
}

/* Resize the last block to `slots` (>= the slots in use in it), moving its
 * link lists to their new offset. PV_OK, or PV_NOMEM with nothing changed.
 * A shrink whose realloc fails keeps the larger allocation, which is fine:
 * last_bytes says what is really allocated. */
static int resize_last(pv_index *idx, uint32_t slots) {
  pv_block *b = &idx->blk[idx->nblk - 1];
  size_t old_off = pv__links_offset(idx, idx->last), new_off = pv__links_offset(idx, slots);
  size_t keep = sizeof(uint32_t) * idx->lwords * (slots < idx->last ? slots : idx->last);
  size_t bytes = pv__block_bytes(idx, slots);
  if (slots < idx->last) {
    memmove(b->v + new_off, b->v + old_off, keep);
    uint8_t *v = pv__realloc(idx, b->v, idx->last_bytes, bytes);
    if (v) {
      b->v = v;
      idx->last_bytes = bytes;
    }
  } else {
    uint8_t *v = pv__realloc(idx, b->v, idx->last_bytes, bytes);
    if (!v) return PV_NOMEM;
    b->v = v;
    idx->last_bytes = bytes;
    memmove(b->v + new_off, b->v + old_off, keep);
  }
  b->l = (uint32_t *)(b->v + new_off);
  idx->last = slots;
  return PV_OK;
}

static size_t upper_size(const pv_index *idx, int level) {
  return sizeof(uint32_t) * (size_t)level * (1 + idx->m);
}

void pv_free(pv_index *idx) {
  if (!idx) return;
  if (idx->upper)
    for (uint32_t s = 0; s < idx->n; s++) pv__free(idx, idx->upper[s], upper_size(idx, idx->level[s]));
  for (int a = 0; a < PV_A_COUNT; a++) {
    void **p = array_ptr(idx, a);
    pv__free(idx, *p, elem_size(idx, a) * idx->acap[a]);
  }
  for (uint32_t b = 0; b < idx->nblk; b++) free_block(idx, b);
  if (idx->taken) pv__free(idx, idx->taken, idx->taken_size);
  pv__free(idx, idx->blk, sizeof(pv_block) * idx->ntab);
  pv__free(idx, idx->qf, sizeof(float) * idx->dim);
  if (idx->qc) pv__free(idx, idx->qc, idx->dim);
  pv__free(idx, idx->scratch, sizeof(pv_pair) * 3 * idx->heap_cap);
  pv_allocator a = idx->alloc;
  a.free(a.ctx, idx);
}

void pv_get_options(const pv_index *idx, pv_options *out) {
  if (idx && out) *out = idx->opt;
}

/* ======================================================================== */
/* Growth                                                                   */
/* ======================================================================== */

/* Slots the blocks can hold. */
static uint64_t block_room(const pv_index *idx) {
  return idx->nblk ? ((uint64_t)(idx->nblk - 1) << idx->bshift) + idx->last : 0;
}

static void update_cap(pv_index *idx) {
  uint64_t room = block_room(idx);
  uint32_t cap = room > UINT32_MAX ? UINT32_MAX : (uint32_t)room;
  for (int a = 0; a < PV_A_COUNT; a++)
    if (elem_size(idx, a) && idx->acap[a] < cap) cap = idx->acap[a];
  idx->cap = cap;
}

/* The small per-slot arrays grow geometrically, each on its own and with
 * its own recorded capacity, so a failure half-way leaves some larger than
 * `cap`: harmless, and the byte accounting stays exact. The big items get
 * exactly the blocks they need. cap only moves once everything has room. */
int pv__reserve(pv_index *idx, uint32_t need) {
  if (need <= idx->cap) return PV_OK;
  uint32_t want = idx->cap + idx->cap / 2;
  if (want < need) want = need;
  if (want < 16) want = 16;
  for (int a = 0; a < PV_A_COUNT; a++) {
    size_t es = elem_size(idx, a);
    if (es == 0 || idx->acap[a] >= need) continue;
    /* On wasm32 a size_t is 32 bits: a product that does not fit must fail
     * here, not wrap into a smaller array than the capacity recorded. */
    if (need > SIZE_MAX / es) return PV_NOMEM;
    uint32_t target = want > SIZE_MAX / es ? need : want;
    void **p = array_ptr(idx, a);
    void *q = pv__realloc(idx, *p, es * idx->acap[a], es * (size_t)target);
    if (!q && target > need) {
      target = need; /* geometric growth failed: try the exact size */
      q = pv__realloc(idx, *p, es * idx->acap[a], es * (size_t)target);
    }
    if (!q) return PV_NOMEM;
    if (a == PV_A_VISIT) memset((uint16_t *)q + idx->acap[a], 0, es * (target - idx->acap[a]));
    if (a == PV_A_UPPER) memset((uint32_t **)q + idx->acap[a], 0, es * (target - idx->acap[a]));
    *p = q;
    idx->acap[a] = target;
  }
  /* Blocks: fill up the last one (growing it geometrically while it is
   * short), then add blocks, the last of them only as large as needed. */
  uint32_t full = 1u << idx->bshift;
  uint32_t nb = (uint32_t)(((uint64_t)need + full - 1) >> idx->bshift);
  if (nb > idx->ntab) {
    uint32_t nt = idx->ntab * 2 > nb ? idx->ntab * 2 : nb;
    if ((uint64_t)nt * sizeof(pv_block) > SIZE_MAX) return PV_NOMEM;
    pv_block *t = pv__realloc(idx, idx->blk, sizeof(pv_block) * idx->ntab, sizeof(pv_block) * nt);
    if (!t) return PV_NOMEM;
    idx->blk = t;
    idx->ntab = nt;
  }
  while (block_room(idx) < need) {
    uint32_t base = idx->nblk ? (idx->nblk - 1) << idx->bshift : 0;
    if (idx->nblk && idx->last < full) {
      if (pv__materialize(idx, idx->nblk - 1) != PV_OK) {
        update_cap(idx);
        return PV_NOMEM;
      }
      uint32_t want_slots = need - base;
      if (want_slots < idx->last * 2) want_slots = idx->last * 2;
      if (want_slots > full) want_slots = full;
      if (resize_last(idx, want_slots) != PV_OK) {
        update_cap(idx);
        return PV_NOMEM;
      }
    } else {
      uint32_t slots = need - (idx->nblk << idx->bshift);
      if (slots > full) slots = full;
      if (slots < 16 && full >= 16) slots = 16;
      size_t bytes = pv__block_bytes(idx, slots);
      uint8_t *v = pv__malloc(idx, bytes);
      if (!v) {
        update_cap(idx);
        return PV_NOMEM;
      }
      idx->blk[idx->nblk].v = v;
      idx->blk[idx->nblk].l = (uint32_t *)(v + pv__links_offset(idx, slots));
      idx->nblk++;
      idx->last = slots;
      idx->last_bytes = bytes;
    }
  }
  update_cap(idx);
  return PV_OK;
}

void pv__shrink(pv_index *idx, uint32_t keep) {
  if (keep < 16) keep = 16;
  for (int a = 0; a < PV_A_COUNT; a++) {
    size_t es = elem_size(idx, a);
    if (es == 0 || idx->acap[a] <= keep) continue;
    void **p = array_ptr(idx, a);
    void *q = pv__realloc(idx, *p, es * idx->acap[a], es * (size_t)keep);
    if (q) {
      *p = q;
      idx->acap[a] = keep;
    }
  }
  uint32_t full = 1u << idx->bshift;
  uint32_t nb = (uint32_t)(((uint64_t)keep + full - 1) >> idx->bshift);
  while (idx->nblk > nb) {
    free_block(idx, idx->nblk - 1);
    if (idx->nborrow == idx->nblk) idx->nborrow--;
    idx->nblk--;
    idx->last = full;
    idx->last_bytes = full_block_bytes(idx);
  }
  if (idx->nblk && idx->nborrow < idx->nblk) {
    uint32_t in_last = keep - ((idx->nblk - 1) << idx->bshift);
    if (in_last < idx->last) resize_last(idx, in_last);
  }
  update_cap(idx);
}

int pv__reserve_search(pv_index *idx, uint32_t ef) {
  uint32_t want = ef + idx->m0 + 1;
  if (want <= idx->heap_cap) return PV_OK;
  /* One block, so growth either happens entirely or not at all. */
  pv_pair *p = pv__realloc(idx, idx->scratch, sizeof(pv_pair) * 3 * idx->heap_cap,
                           sizeof(pv_pair) * 3 * (size_t)want);
  if (!p) return PV_NOMEM;
  idx->scratch = p;
  idx->heap_w = p;
  idx->heap_c = p + want;
  idx->sel = p + 2 * (size_t)want;
  idx->heap_cap = want;
  return PV_OK;
}

void pv__visit_reset(pv_index *idx) {
  if (++idx->epoch == 0) {
    memset(idx->visit, 0, sizeof(uint16_t) * idx->acap[PV_A_VISIT]);
    idx->epoch = 1;
  }
}

uint32_t pv__slot_of(const pv_index *idx, uint32_t id) {
  uint32_t lo = 0, hi = idx->n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (idx->slot_id[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo < idx->n && idx->slot_id[lo] == id ? lo : PV_NONE;
}

static uint32_t live_slot(const pv_index *idx, uint32_t id) {
  uint32_t s = pv__slot_of(idx, id);
  return s != PV_NONE && !(idx->flags[s] & PV_SLOT_DELETED) ? s : PV_NONE;
}

/* ======================================================================== */
/* Writes                                                                   */
/* ======================================================================== */

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
  if (!v) return pv__error(idx, PV_INVALID, "the vector pointer is NULL");
  for (size_t i = 0; i < n; i++) {
    int rc = pv__validate(idx, v + i * idx->dim, n == 1 ? PV_V_ONE : PV_V_BATCH, i);
    if (rc) return rc;
  }
  if ((uint64_t)idx->next_id + n >= PV_NONE)
    return pv__error(idx, PV_FULL, "the index has issued %u ids and cannot issue %zu more",
                     idx->next_id, n);
  if ((uint64_t)idx->n + n > UINT32_MAX - 1)
    return pv__error(idx, PV_FULL, "the index cannot hold %zu more vectors", n);
  uint32_t need = idx->n + (uint32_t)n;
  /* An insert writes links anywhere in the graph: a loaded index read in
   * place gets its own copy first. */
  if (pv__materialize(idx, 0) != PV_OK || pv__reserve(idx, need) != PV_OK)
    return pv__error(idx, PV_NOMEM, "out of memory adding %zu vectors to an index of %u",
                     n, idx->n);

  /* Levels and upper link lists for the whole batch before any insert, so an
   * allocation failure leaves nothing half-added. The generator state is
   * only committed with the inserts, so a retry draws the same levels. */
  uint64_t rng = idx->rng;
  uint32_t first = idx->n;
  for (size_t i = 0; i < n; i++) {
    uint32_t s = first + (uint32_t)i;
    int lv = pv__random_level(idx, &rng);
    idx->level[s] = (uint8_t)lv;
    idx->upper[s] = NULL;
    if (lv > 0) {
      idx->upper[s] = pv__malloc(idx, upper_size(idx, lv));
      if (!idx->upper[s]) {
        for (size_t j = 0; j < i; j++)
          if (idx->upper[first + j]) {
            pv__free(idx, idx->upper[first + j], upper_size(idx, idx->level[first + j]));
            idx->upper[first + j] = NULL;
          }
        return pv__error(idx, PV_NOMEM, "out of memory adding %zu vectors to an index of %u",
                         n, idx->n);
      }
      memset(idx->upper[s], 0, upper_size(idx, lv));
    }
  }

  for (size_t i = 0; i < n; i++) {
    uint32_t s = first + (uint32_t)i;
    idx->slot_id[s] = idx->next_id;
    idx->flags[s] = 0;
    memset(pv__links(idx, s, 0), 0, sizeof(uint32_t) * idx->lwords);
    pv__store(idx, s, v + i * idx->dim);
    idx->n = s + 1;
    pv__insert(idx, s);
    idx->live++;
    if (ids_out) ids_out[i] = idx->next_id;
    idx->next_id++;
  }
  idx->rng = rng;
  idx->changes++;
  return pv__error(idx, PV_OK, NULL);
}

int pv_delete(pv_index *idx, uint32_t id) {
  uint32_t s = pv__slot_of(idx, id);
  if (s == PV_NONE || (idx->flags[s] & PV_SLOT_DELETED))
    return pv__error(idx, PV_NOTFOUND, id < idx->next_id ? "id %u was deleted"
                                                          : "id %u does not exist", id);
  idx->flags[s] |= PV_SLOT_DELETED;
  idx->live--;
  idx->changes++;
  float t = idx->opt.compact_threshold;
  if (t > 0.0f && (double)(idx->n - idx->live) > (double)t * idx->n) {
    /* Best effort: a failed compaction leaves the index as it was, and the
     * delete itself has succeeded. */
    pv_compact(idx);
  }
  return pv__error(idx, PV_OK, NULL);
}

/* ======================================================================== */
/* Reads                                                                    */
/* ======================================================================== */

int pv_contains(const pv_index *idx, uint32_t id) {
  return idx && live_slot(idx, id) != PV_NONE;
}

int pv_get(pv_index *idx, uint32_t id, float *out) {
  uint32_t s = live_slot(idx, id);
  if (s == PV_NONE)
    return pv__error(idx, PV_NOTFOUND, id < idx->next_id ? "id %u was deleted"
                                                          : "id %u does not exist", id);
  pv__load(idx, s, out);
  return pv__error(idx, PV_OK, NULL);
}

size_t pv_count(const pv_index *idx) { return idx ? idx->live : 0; }
size_t pv_deleted_count(const pv_index *idx) { return idx ? idx->n - idx->live : 0; }
size_t pv_memory_usage(const pv_index *idx) { return idx ? idx->mem : 0; }

size_t pv_list_ids(const pv_index *idx, uint32_t *out, size_t cap) {
  size_t j = 0;
  for (uint32_t s = 0; s < idx->n; s++) {
    if (idx->flags[s] & PV_SLOT_DELETED) continue;
    if (j < cap) out[j] = idx->slot_id[s];
    j++;
  }
  return j;
}

/* Shared argument checks of both searches. Returns PV_OK and sets *done when
 * the answer is already known to be empty. */
static int search_args(pv_index *idx, const float *q, size_t k, size_t ef, pv_hit *out,
                       size_t *n_out, int *done) {
  *done = 0;
  if (!n_out) return pv__error(idx, PV_INVALID, "n_out is NULL");
  *n_out = 0;
  if (ef > PV_MAX_EF)
    return pv__error(idx, PV_INVALID, "ef is %zu; it must be at most %u", ef, PV_MAX_EF);
  if (!q) return pv__error(idx, PV_INVALID, "the query pointer is NULL");
  int rc = pv__validate(idx, q, PV_V_QUERY, 0);
  if (rc) return rc;
  if (k == 0 || idx->live == 0) {
    *done = 1;
    return pv__error(idx, PV_OK, NULL);
  }
  if (!out) return pv__error(idx, PV_INVALID, "out is NULL but k is %zu", k);
  return PV_OK;
}

/* Max-heap on (d, s) kept in out[] itself: brute force needs no scratch. */
static int hit_worse(const pv_hit *a, float d, uint32_t id) {
  return a->distance > d || (a->distance == d && a->id > id);
}

static void hit_sift_down(pv_hit *h, size_t n, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && hit_worse(&h[l], h[m].distance, h[m].id)) m = l;
    if (r < n && hit_worse(&h[r], h[m].distance, h[m].id)) m = r;
    if (m == i) return;
    pv_hit t = h[i]; h[i] = h[m]; h[m] = t;
    i = m;
  }
}

static size_t exact_search(pv_index *idx, const pv_ref *q, size_t k, pv_hit *out) {
  size_t have = 0;
  for (uint32_t s = 0; s < idx->n; s++) {
    if (idx->flags[s] & PV_SLOT_DELETED) continue;
    float d = pv__dist(idx, q, s);
    uint32_t id = idx->slot_id[s];
    if (have < k) {
      size_t i = have++;
      out[i].id = id;
      out[i].distance = d;
      while (i > 0 && hit_worse(&out[i], out[(i - 1) / 2].distance, out[(i - 1) / 2].id)) {
        pv_hit t = out[i]; out[i] = out[(i - 1) / 2]; out[(i - 1) / 2] = t;
        i = (i - 1) / 2;
      }
    } else if (hit_worse(&out[0], d, id)) {
      out[0].id = id;
      out[0].distance = d;
      hit_sift_down(out, have, 0);
    }
  }
  /* Heap sort in place: repeatedly move the worst to the end. */
  for (size_t n = have; n > 1; n--) {
    pv_hit t = out[0]; out[0] = out[n - 1]; out[n - 1] = t;
    hit_sift_down(out, n - 1, 0);
  }
  return have;
}

int pv_search_exact(pv_index *idx, const float *q, size_t k, size_t ef, pv_hit *out,
                    size_t *n_out) {
  int done;
  int rc = search_args(idx, q, k, ef, out, n_out, &done);
  if (rc || done) return rc;
  pv_ref r = pv__prepare_query(idx, q);
  *n_out = exact_search(idx, &r, k, out);
  return pv__error(idx, PV_OK, NULL);
}

int pv_search(pv_index *idx, const float *q, size_t k, size_t ef, pv_hit *out, size_t *n_out) {
  int done;
  int rc = search_args(idx, q, k, ef, out, n_out, &done);
  if (rc || done) return rc;
  if (ef == 0) ef = idx->opt.ef_search;
  if (ef < k) ef = k;
  pv_ref r = pv__prepare_query(idx, q);
  /* A beam as wide as the index visits (nearly) everything anyway; brute
   * force is then cheaper and exact, and it guarantees that k >= count
   * returns every live vector even where the graph is not connected. */
  if (ef >= idx->live) {
    *n_out = exact_search(idx, &r, k, out);
    return pv__error(idx, PV_OK, NULL);
  }
  if (pv__reserve_search(idx, (uint32_t)ef) != PV_OK)
    return pv__error(idx, PV_NOMEM, "out of memory growing search buffers for ef %zu", ef);
  /* k <= ef < live here, so the results fit the heap scratch. */
  size_t got = pv__search(idx, &r, k, (uint32_t)ef, idx->sel);
  for (size_t i = 0; i < got; i++) {
    out[i].id = idx->slot_id[idx->sel[i].s];
    out[i].distance = idx->sel[i].d;
  }
  *n_out = got;
  return pv__error(idx, PV_OK, NULL);
}
