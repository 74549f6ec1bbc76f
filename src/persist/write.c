/* SPDX-License-Identifier: MIT */
/*
 * Writing the format: planning the layout from the section registry, the
 * walker, and the three ways out (a stream, a buffer, an export read in
 * chunks). A save changes nothing in the index, so it may run alongside
 * searches.
 */
#include <string.h>

#include "index.h"
#include "persist/format.h"

static uint64_t align_up(uint64_t x) { return (x + PV_ALIGN - 1) & ~(uint64_t)(PV_ALIGN - 1); }

static int present(const pv_secdef *d, const pv_index *idx) {
  if (d->col >= 0) return idx->st.col[d->col].esize != 0 && (!d->present || d->present(idx));
  return d->present(idx);
}
static uint64_t sec_len(const pv_secdef *d, const pv_index *idx) {
  return d->col >= 0 ? (uint64_t)idx->st.n * idx->st.col[d->col].esize : d->len(idx);
}

/* Section lengths of idx, in registry order, and where everything goes. */
static void plan(const pv_index *idx, pv_layout *L) {
  memset(L, 0, sizeof *L);
  L->version = PV_FORMAT_VERSION;
  uint64_t off = PV_HEADER_SIZE;
  for (uint32_t i = 0; i < pv_nsections; i++) {
    const pv_secdef *d = &pv_sections[i];
    if (!present(d, idx)) continue;
    pv_section *s = &L->sec[d->kind];
    s->kind = d->kind;
    s->flags = d->optional ? 0 : PV_SEC_REQUIRED;
    s->off = off;
    s->len = sec_len(d, idx);
    off = align_up(off + s->len);
    L->count++;
  }
  L->table_off = off;
  L->file_size = off + (uint64_t)L->count * PV_ENTRY_SIZE + 4;
}

size_t pv_serialized_size(const pv_index *idx) {
  pv_layout L;
  plan(idx, &L);
  return L.file_size > SIZE_MAX ? SIZE_MAX : (size_t)L.file_size;
}

void pv__emit(pv_walker *w, const void *p, size_t n, uint32_t kind) {
  if (w->stopped || n == 0) return;
  if (w->compute && kind) pv__sum_update(&w->state[kind], p, n);
  if (w->visit && w->visit(w, p, n)) {
    w->stopped = 1; /* pos counts only the bytes the visitor took */
    return;
  }
  w->pos += n;
  if (w->pos >= w->stop) w->stopped = 1;
}

static void pad_to(pv_walker *w, uint64_t off) {
  static const uint8_t zeros[PV_ALIGN] = {0};
  while (!w->stopped && w->pos < off) {
    uint64_t n = off - w->pos;
    pv__emit(w, zeros, n > PV_ALIGN ? PV_ALIGN : (size_t)n, 0);
  }
}

static void header_bytes(const pv_index *idx, const pv_layout *L, uint8_t *h) {
  memset(h, 0, PV_HEADER_SIZE);
  memcpy(h, PV_MAGIC, 8);
  pv__put32(h + 8, L->version);
  pv__put32(h + 12, PV_HEADER_SIZE);
  pv__put64(h + 16, L->file_size);
  pv__put32(h + 24, idx->dim);
  pv__put32(h + 28, (uint32_t)idx->opt.metric);
  pv__put32(h + 32, (uint32_t)idx->opt.storage);
  pv__put32(h + 36, idx->g.m);
  pv__put32(h + 40, idx->opt.ef_construction);
  pv__put32(h + 44, idx->opt.ef_search);
  pv__put64(h + 48, idx->opt.seed);
  uint32_t t;
  memcpy(&t, &idx->opt.compact_threshold, 4);
  pv__put32(h + 56, t);
  pv__put32(h + 60, idx->st.n);
  pv__put32(h + 64, idx->live);
  pv__put32(h + 68, idx->next_id);
  pv__put32(h + 72, idx->g.entry);
  pv__put32(h + 76, (uint32_t)idx->g.max_level);
  pv__put64(h + 80, idx->g.rng);
  pv__put64(h + 88, L->table_off);
  pv__put32(h + 96, L->count);
  pv__put32(h + 124, pv__crc32c_bitwise(h, 124));
}

/* Walk the whole file: header, sections with their padding, table. With
 * w->compute the table gets the checksums computed on the way; without,
 * the ones already in w->sum (final values). */
static void walk(pv_walker *w) {
  const pv_index *idx = w->idx;
  uint8_t h[PV_HEADER_SIZE];
  header_bytes(idx, w->L, h);
  pv__emit(w, h, PV_HEADER_SIZE, 0);
  for (uint32_t i = 0; i < pv_nsections && !w->stopped; i++) {
    const pv_secdef *d = &pv_sections[i];
    const pv_section *s = &w->L->sec[d->kind];
    if (!s->kind) continue;
    pad_to(w, s->off);
    if (w->compute) pv__sum_init(&w->state[d->kind], idx->kern);
    if (d->col >= 0) pv__emit(w, idx->st.col[d->col].base, (size_t)s->len, d->kind);
    else d->walk(w, idx);
    if (w->compute) w->sum[d->kind] = pv__sum_final(&w->state[d->kind]);
  }
  pad_to(w, w->L->table_off);
  if (w->stopped) return;
  uint8_t table[PV_SEC_KINDS * PV_ENTRY_SIZE + 4];
  uint32_t e = 0;
  memset(table, 0, sizeof table);
  for (uint32_t i = 0; i < pv_nsections; i++) {
    const pv_section *s = &w->L->sec[pv_sections[i].kind];
    if (!s->kind) continue;
    uint8_t *t = table + PV_ENTRY_SIZE * e++;
    pv__put32(t, s->kind);
    pv__put32(t + 4, s->flags);
    pv__put64(t + 8, s->off);
    pv__put64(t + 16, s->len);
    pv__put32(t + 24, w->sum[s->kind]);
  }
  pv__put32(table + PV_ENTRY_SIZE * e, pv__sum_of(idx->kern, table, PV_ENTRY_SIZE * e));
  pv__emit(w, table, PV_ENTRY_SIZE * e + 4, 0);
}

static void walker_init(pv_walker *w, const pv_index *idx, const pv_layout *L) {
  memset(w, 0, sizeof *w);
  w->idx = idx;
  w->L = L;
  w->stop = UINT64_MAX;
}

typedef struct {
  pv_writer write;
  void *ctx;
} stream_ctx;

static int stream_visit(pv_walker *w, const void *p, size_t n) {
  stream_ctx *s = w->ctx;
  return s->write(s->ctx, p, n) != 0;
}

int pv_serialize(pv_index *idx, pv_writer write, void *ctx) {
  if (!write) return pv__error_null(idx, PV_INVALID, "the writer is NULL");
  pv_layout L;
  plan(idx, &L);
  stream_ctx s = {write, ctx};
  pv_walker w;
  walker_init(&w, idx, &L);
  w.compute = 1;
  w.visit = stream_visit;
  w.ctx = &s;
  walk(&w);
  if (w.pos != L.file_size)
    return pv__error(idx, PV_ABORT, "the writer stopped after %zu of %zu bytes", (size_t)w.pos,
                     (size_t)L.file_size);
  return pv__error(idx, PV_OK, NULL);
}

/* ---- export: the file in chunks, in any order ---------------------------- */

struct pv_export {
  pv_allocator alloc; /* its own, so ending it never needs the index */
  pv_index *idx;
  uint64_t changes; /* idx->changes when the export began */
  pv_layout L;
  uint32_t sum[PV_SEC_KINDS];
};

int pv_export_begin(pv_index *idx, pv_export **out) {
  *out = NULL;
  pv_export *e = idx->alloc.malloc(idx->alloc.ctx, sizeof *e);
  if (!e) return pv__error(idx, PV_NOMEM, "out of memory starting an export");
  e->alloc = idx->alloc;
  e->idx = idx;
  e->changes = idx->changes;
  plan(idx, &e->L);
  pv_walker w;
  walker_init(&w, idx, &e->L);
  w.compute = 1;
  walk(&w);
  memcpy(e->sum, w.sum, sizeof e->sum);
  *out = e;
  return pv__error(idx, PV_OK, NULL);
}

uint64_t pv_export_size(const pv_export *e) { return e ? e->L.file_size : 0; }

typedef struct {
  uint64_t from;
  uint8_t *buf;
  size_t len;
} range_ctx;

static int range_visit(pv_walker *w, const void *p, size_t n) {
  range_ctx *r = w->ctx;
  uint64_t lo = w->pos > r->from ? w->pos : r->from;
  uint64_t hi = w->pos + n < r->from + r->len ? w->pos + n : r->from + r->len;
  if (lo < hi) memcpy(r->buf + (lo - r->from), (const uint8_t *)p + (lo - w->pos), (size_t)(hi - lo));
  return 0;
}

int pv_export_read(pv_export *e, uint64_t offset, void *buf, size_t len) {
  pv_index *idx = e->idx;
  if (idx->changes != e->changes)
    return pv__error(idx, PV_MISUSE, "the index changed since the export began; start a new export");
  if (offset > e->L.file_size || len > e->L.file_size - offset)
    return pv__error(idx, PV_RANGE, "bytes %zu..%zu are past the end of the %zu-byte export",
                     (size_t)offset, (size_t)(offset + len), (size_t)e->L.file_size);
  range_ctx r = {offset, buf, len};
  pv_walker w;
  walker_init(&w, idx, &e->L);
  memcpy(w.sum, e->sum, sizeof w.sum);
  w.stop = offset + len;
  w.visit = range_visit;
  w.ctx = &r;
  if (len) walk(&w);
  return pv__error(idx, PV_OK, NULL);
}

int pv_export_tag(pv_export *e, uint64_t *tag) {
  uint8_t head[PV_HEADER_SIZE], sum[4];
  uint64_t at = e->L.table_off + (uint64_t)PV_ENTRY_SIZE * e->L.count;
  int rc = pv_export_read(e, 0, head, sizeof head);
  if (!rc) rc = pv_export_read(e, at, sum, sizeof sum);
  if (rc) return rc;
  *tag = pv__base_tag(pv__get32(head + 124), pv__get32(sum));
  return PV_OK;
}

void pv_export_end(pv_export *e) {
  if (e) e->alloc.free(e->alloc.ctx, e);
}

typedef struct {
  uint8_t *buf;
  size_t cap, len;
} membuf;

static int mem_write(void *ctx, const void *data, size_t len) {
  membuf *m = ctx;
  if (len > m->cap - m->len) return 1;
  memcpy(m->buf + m->len, data, len);
  m->len += len;
  return 0;
}

int pv_serialize_to(pv_index *idx, void *buf, size_t cap, size_t *len_out) {
  size_t need = pv_serialized_size(idx);
  if (len_out) *len_out = need;
  if (!buf || cap < need) {
    pv__error(idx, PV_RANGE, "the buffer holds %zu bytes; the index needs %zu", cap, need);
    pv__error_need(idx, need);
    return PV_RANGE;
  }
  membuf m = {buf, cap, 0};
  return pv_serialize(idx, mem_write, &m);
}
