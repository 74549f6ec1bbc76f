/*
 * Persistence: the file format of docs/FORMAT.md, written as a stream and
 * read back from a buffer treated as hostile input.
 *
 * Layout: a 128-byte header, then the sections (each at a multiple of 64
 * bytes, zero padding between them), then the section table with one CRC
 * per section and a CRC of the table. The table comes last so that a writer
 * can stream: the header only needs sizes, which are known up front, and
 * each section's CRC is computed while its bytes go out.
 *
 * Every byte is covered: the header and the table by their CRCs, sections
 * by theirs, padding must be zero, unused link words must be zero, and the
 * length must match exactly. So any single flipped bit and any truncation
 * is reported, and nothing is trusted before its checksum matches.
 *
 * The checksum is CRC-32C (Castagnoli): with the CPU's instruction where
 * the kernel set has one (pv_kernels.crc32c), else slice-by-16 with tables
 * built on the stack for each call: no global state to initialise, and no
 * 16 KB of incompressible constants in the WebAssembly module.
 */
#include <string.h>

#include "internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "the file format code writes arrays as they are in memory: it needs a little-endian host"
#endif

/* ======================================================================== */
/* CRC-32C                                                                  */
/* ======================================================================== */

typedef struct {
  uint32_t (*hw)(uint32_t state, const uint8_t *p, size_t n); /* or NULL: t */
  uint32_t t[16][256];
} crc_tables;

/* The tables, unless use_hw and the kernel set has an instruction. */
static void crc_init_with(crc_tables *c, int use_hw) {
  c->hw = use_hw ? pv_kernels_best()->crc32c : NULL;
  if (c->hw) return;
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t r = i;
    for (int k = 0; k < 8; k++) r = (r & 1) ? (r >> 1) ^ 0x82F63B78u : r >> 1;
    c->t[0][i] = r;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int k = 1; k < 16; k++) c->t[k][i] = (c->t[k - 1][i] >> 8) ^ c->t[0][c->t[k - 1][i] & 0xff];
}

/* Running state: start from 0xffffffff, finish with ~state. */
static uint32_t crc_update(const crc_tables *c, uint32_t crc, const void *data, size_t n) {
  const uint8_t *p = data;
  if (c->hw) return c->hw(crc, p, n);
  /* Sixteen bytes a step: sixteen independent lookups, and the chain from
   * one step to the next (the XOR into the first word) half as often as
   * eight bytes a step; about twice as fast in WebAssembly, where this is
   * most of loading a file. */
  while (n >= 16) {
    uint32_t w0, w1, w2, w3;
    memcpy(&w0, p, 4);
    memcpy(&w1, p + 4, 4);
    memcpy(&w2, p + 8, 4);
    memcpy(&w3, p + 12, 4);
    w0 ^= crc;
    /* Written out: the WebAssembly build compiles this file at -Oz, which
     * would keep a loop over the words a loop. */
    crc = c->t[15][w0 & 0xff] ^ c->t[14][(w0 >> 8) & 0xff] ^ c->t[13][(w0 >> 16) & 0xff] ^
          c->t[12][w0 >> 24] ^ c->t[11][w1 & 0xff] ^ c->t[10][(w1 >> 8) & 0xff] ^
          c->t[9][(w1 >> 16) & 0xff] ^ c->t[8][w1 >> 24] ^ c->t[7][w2 & 0xff] ^
          c->t[6][(w2 >> 8) & 0xff] ^ c->t[5][(w2 >> 16) & 0xff] ^ c->t[4][w2 >> 24] ^
          c->t[3][w3 & 0xff] ^ c->t[2][(w3 >> 8) & 0xff] ^ c->t[1][(w3 >> 16) & 0xff] ^
          c->t[0][w3 >> 24];
    p += 16;
    n -= 16;
  }
  while (n--) crc = c->t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

static void crc_init(crc_tables *c) { crc_init_with(c, 1); }

static uint32_t crc_of(const crc_tables *c, const void *data, size_t n) {
  return ~crc_update(c, 0xffffffffu, data, n);
}

uint32_t pv__crc32c_tables(uint32_t state, const void *data, size_t n) {
  crc_tables c;
  crc_init_with(&c, 0);
  return crc_update(&c, state, data, n);
}

/* ======================================================================== */
/* Layout                                                                   */
/* ======================================================================== */

#define HEADER_SIZE 128u
#define ENTRY_SIZE 32u
#define ALIGN 64u
static const uint8_t MAGIC[8] = {0x89, 'P', 'V', 'E', 'C', '\r', '\n', 0x1a};

enum { S_VECTORS = 1, S_LINKS0, S_UPPER, S_SQ8, S_IDS, S_LEVELS, S_DELETED, S_KINDS };
static const char *const SECTION_NAME[S_KINDS] = {
    "?", "vectors", "layer-0 links", "upper links", "sq8 parameters", "ids", "levels", "deleted"};

typedef struct {
  uint32_t kind;
  uint64_t off, len;
  uint32_t crc;
} section;

typedef struct {
  pv_options opt;
  uint32_t n, live, next_id, entry;
  int32_t max_level;
  uint64_t rng, table_off, file_size;
  uint32_t count;
  section sec[S_KINDS]; /* by kind; sec[0] unused */
} layout;

static uint64_t align_up(uint64_t x) { return (x + ALIGN - 1) & ~(uint64_t)(ALIGN - 1); }

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static uint64_t upper_words(const pv_index *idx) {
  uint64_t w = 0;
  for (uint32_t s = 0; s < idx->n; s++) w += (uint64_t)idx->level[s] * (1 + idx->m);
  return w;
}

/* Section lengths of idx, in file order, and where everything goes. */
static void plan(const pv_index *idx, layout *L) {
  memset(L, 0, sizeof *L);
  uint64_t n = idx->n;
  uint64_t len[S_KINDS] = {0};
  len[S_VECTORS] = n * idx->vbytes;
  len[S_LINKS0] = n * idx->lwords * 4;
  len[S_UPPER] = upper_words(idx) * 4;
  len[S_SQ8] = idx->opt.storage == PV_SQ8 ? n * sizeof(pv_sq8) : 0;
  len[S_IDS] = n * 4;
  len[S_LEVELS] = n;
  len[S_DELETED] = (uint64_t)(idx->n - idx->live) * 4;
  uint64_t off = HEADER_SIZE;
  for (uint32_t k = 1; k < S_KINDS; k++) {
    if (k == S_SQ8 && idx->opt.storage != PV_SQ8) continue;
    L->sec[k].kind = k;
    L->sec[k].off = off;
    L->sec[k].len = len[k];
    off = align_up(off + len[k]);
    L->count++;
  }
  L->table_off = off;
  L->file_size = off + (uint64_t)L->count * ENTRY_SIZE + 4;
}

size_t pv_serialized_size(const pv_index *idx) {
  layout L;
  plan(idx, &L);
  return L.file_size > SIZE_MAX ? SIZE_MAX : (size_t)L.file_size;
}

/* ======================================================================== */
/* Writing                                                                  */
/* ======================================================================== */

/* The file's bytes are produced by one walker, in order, piece by piece:
 * the streaming writer, the checksum pass of an export and the range reads
 * of an export all use it, so the three can never disagree on a byte. */
typedef struct walker walker;
struct walker {
  const pv_index *idx;
  const layout *L;
  const crc_tables *c;
  uint32_t crc[S_KINDS]; /* CRC state per section (final values once done) */
  int compute;           /* compute the section CRCs while walking */
  uint64_t pos;          /* file offset of the next byte */
  uint64_t stop;         /* the walk may end once pos reaches this */
  int (*visit)(walker *w, const void *p, size_t n); /* nonzero stops */
  void *ctx;
  int stopped;
};

static void emit(walker *w, const void *p, size_t n, int kind) {
  if (w->stopped || n == 0) return;
  if (w->compute && kind) w->crc[kind] = crc_update(w->c, w->crc[kind], p, n);
  if (w->visit && w->visit(w, p, n)) {
    w->stopped = 1; /* pos counts only the bytes the visitor took */
    return;
  }
  w->pos += n;
  if (w->pos >= w->stop) w->stopped = 1;
}

static void pad_to(walker *w, uint64_t off) {
  static const uint8_t zeros[ALIGN] = {0};
  while (!w->stopped && w->pos < off) {
    uint64_t n = off - w->pos;
    emit(w, zeros, n > ALIGN ? ALIGN : (size_t)n, 0);
  }
}

static void header_bytes(const pv_index *idx, const layout *L, const crc_tables *c, uint8_t *h) {
  memset(h, 0, HEADER_SIZE);
  memcpy(h, MAGIC, 8);
  put32(h + 8, PV_FORMAT_VERSION);
  put32(h + 12, HEADER_SIZE);
  put64(h + 16, L->file_size);
  put32(h + 24, idx->dim);
  put32(h + 28, (uint32_t)idx->opt.metric);
  put32(h + 32, (uint32_t)idx->opt.storage);
  put32(h + 36, idx->m);
  put32(h + 40, idx->opt.ef_construction);
  put32(h + 44, idx->opt.ef_search);
  put64(h + 48, idx->opt.seed);
  uint32_t t;
  memcpy(&t, &idx->opt.compact_threshold, 4);
  put32(h + 56, t);
  put32(h + 60, idx->n);
  put32(h + 64, idx->live);
  put32(h + 68, idx->next_id);
  put32(h + 72, idx->entry);
  put32(h + 76, (uint32_t)idx->max_level);
  put64(h + 80, idx->rng);
  put64(h + 88, L->table_off);
  put32(h + 96, L->count);
  put32(h + 124, crc_of(c, h, 124));
}

/* Slots of block b in use (the last block may hold fewer than its room). */
static uint32_t used_in_block(const pv_index *idx, uint32_t b) {
  uint32_t base = b << idx->bshift, room = pv__block_slots(idx, b);
  return idx->n - base < room ? idx->n - base : room;
}

static void walk_section(walker *w, int kind) {
  const pv_index *idx = w->idx;
  uint32_t nb = (uint32_t)(((uint64_t)idx->n + (1u << idx->bshift) - 1) >> idx->bshift);
  switch (kind) {
    case S_VECTORS:
      for (uint32_t b = 0; b < nb; b++) emit(w, idx->blk[b].v, idx->vbytes * used_in_block(idx, b), kind);
      break;
    case S_LINKS0:
      for (uint32_t b = 0; b < nb; b++)
        emit(w, idx->blk[b].l, sizeof(uint32_t) * idx->lwords * used_in_block(idx, b), kind);
      break;
    case S_UPPER:
      for (uint32_t s = 0; s < idx->n && !w->stopped; s++)
        if (idx->level[s]) emit(w, idx->upper[s], sizeof(uint32_t) * idx->level[s] * (1 + idx->m), kind);
      break;
    case S_SQ8: emit(w, idx->sq8, sizeof(pv_sq8) * idx->n, kind); break;
    case S_IDS: emit(w, idx->slot_id, sizeof(uint32_t) * idx->n, kind); break;
    case S_LEVELS: emit(w, idx->level, idx->n, kind); break;
    case S_DELETED: {
      uint8_t buf[4 * 64];
      size_t m = 0;
      for (uint32_t s = 0; s < idx->n && !w->stopped; s++) {
        if (!(idx->flags[s] & PV_SLOT_DELETED)) continue;
        put32(buf + 4 * m++, s);
        if (m == 64) {
          emit(w, buf, sizeof buf, kind);
          m = 0;
        }
      }
      emit(w, buf, 4 * m, kind);
      break;
    }
    default: break;
  }
}

/* Walk the whole file: header, sections with their padding, table. With
 * w->compute the table gets the CRCs computed on the way; without, the
 * ones already in w->crc (final values). */
static void walk(walker *w) {
  uint8_t h[HEADER_SIZE];
  header_bytes(w->idx, w->L, w->c, h);
  emit(w, h, HEADER_SIZE, 0);
  for (int kind = 1; kind < S_KINDS && !w->stopped; kind++) {
    if (!w->L->sec[kind].kind) continue;
    pad_to(w, w->L->sec[kind].off);
    if (w->compute) w->crc[kind] = 0xffffffffu;
    walk_section(w, kind);
    if (w->compute) w->crc[kind] = ~w->crc[kind];
  }
  pad_to(w, w->L->table_off);
  if (w->stopped) return;
  uint8_t table[S_KINDS * ENTRY_SIZE + 4];
  uint32_t e = 0;
  memset(table, 0, sizeof table);
  for (int kind = 1; kind < S_KINDS; kind++) {
    const section *sec = &w->L->sec[kind];
    if (!sec->kind) continue;
    uint8_t *t = table + ENTRY_SIZE * e++;
    put32(t, (uint32_t)kind);
    put64(t + 8, sec->off);
    put64(t + 16, sec->len);
    put32(t + 24, w->crc[kind]);
  }
  put32(table + ENTRY_SIZE * e, crc_of(w->c, table, ENTRY_SIZE * e));
  emit(w, table, ENTRY_SIZE * e + 4, 0);
}

typedef struct {
  pv_writer write;
  void *ctx;
} stream_ctx;

static int stream_visit(walker *w, const void *p, size_t n) {
  stream_ctx *s = w->ctx;
  return s->write(s->ctx, p, n) != 0;
}

int pv_serialize(pv_index *idx, pv_writer write, void *ctx) {
  if (!write) return pv__error(idx, PV_INVALID, "the writer is NULL");
  crc_tables c;
  crc_init(&c);
  layout L;
  plan(idx, &L);
  stream_ctx s = {write, ctx};
  walker w;
  memset(&w, 0, sizeof w);
  w.idx = idx;
  w.L = &L;
  w.c = &c;
  w.compute = 1;
  w.stop = UINT64_MAX;
  w.visit = stream_visit;
  w.ctx = &s;
  walk(&w);
  if (w.pos != L.file_size)
    return pv__error(idx, PV_ERROR, "the writer stopped after %zu of %zu bytes", (size_t)w.pos,
                     (size_t)L.file_size);
  return pv__error(idx, PV_OK, NULL);
}

/* ---- export: the file in chunks, in any order ---------------------------- */

struct pv_export {
  pv_allocator alloc; /* its own, so ending it never needs the index */
  pv_index *idx;
  uint64_t changes; /* idx->changes when the export began */
  layout L;
  crc_tables c;
  uint32_t crc[S_KINDS];
};

int pv_export_begin(pv_index *idx, pv_export **out) {
  *out = NULL;
  pv_export *e = idx->alloc.malloc(idx->alloc.ctx, sizeof *e);
  if (!e) return pv__error(idx, PV_NOMEM, "out of memory starting an export");
  e->alloc = idx->alloc;
  e->idx = idx;
  e->changes = idx->changes;
  crc_init(&e->c);
  plan(idx, &e->L);
  walker w;
  memset(&w, 0, sizeof w);
  w.idx = idx;
  w.L = &e->L;
  w.c = &e->c;
  w.compute = 1;
  w.stop = UINT64_MAX;
  walk(&w);
  memcpy(e->crc, w.crc, sizeof e->crc);
  *out = e;
  return pv__error(idx, PV_OK, NULL);
}

uint64_t pv_export_size(const pv_export *e) { return e ? e->L.file_size : 0; }

typedef struct {
  uint64_t from;
  uint8_t *buf;
  size_t len;
} range_ctx;

static int range_visit(walker *w, const void *p, size_t n) {
  range_ctx *r = w->ctx;
  uint64_t lo = w->pos > r->from ? w->pos : r->from;
  uint64_t hi = w->pos + n < r->from + r->len ? w->pos + n : r->from + r->len;
  if (lo < hi) memcpy(r->buf + (lo - r->from), (const uint8_t *)p + (lo - w->pos), (size_t)(hi - lo));
  return 0;
}

int pv_export_read(pv_export *e, uint64_t offset, void *buf, size_t len) {
  pv_index *idx = e->idx;
  if (idx->changes != e->changes)
    return pv__error(idx, PV_INVALID, "the index changed since the export began; start a new export");
  if (offset > e->L.file_size || len > e->L.file_size - offset)
    return pv__error(idx, PV_INVALID, "bytes %zu..%zu are past the end of the %zu-byte export",
                     (size_t)offset, (size_t)(offset + len), (size_t)e->L.file_size);
  range_ctx r = {offset, buf, len};
  walker w;
  memset(&w, 0, sizeof w);
  w.idx = idx;
  w.L = &e->L;
  w.c = &e->c;
  memcpy(w.crc, e->crc, sizeof w.crc);
  w.stop = offset + len;
  w.visit = range_visit;
  w.ctx = &r;
  if (len) walk(&w);
  return pv__error(idx, PV_OK, NULL);
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
  if (!buf || cap < need)
    return pv__error(idx, PV_FULL, "the buffer holds %zu bytes; the index needs %zu", cap, need);
  membuf m = {buf, cap, 0};
  return pv_serialize(idx, mem_write, &m);
}

/* ======================================================================== */
/* Reading                                                                  */
/* ======================================================================== */

#define CORRUPT(...) return pv__new_error(PV_CORRUPT, __VA_ARGS__)

static int all_zero(const uint8_t *p, uint64_t n) {
  for (uint64_t i = 0; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

/* The header fields a reader may want before trusting anything (b holds at
 * least HEADER_SIZE bytes). */
static void decode_header(const uint8_t *b, const crc_tables *c, pv_header *h) {
  memset(h, 0, sizeof *h);
  h->version = get32(b + 8);
  h->file_size = get64(b + 16);
  uint32_t hsize = get32(b + 12);
  h->header_ok = hsize == HEADER_SIZE && crc_of(c, b, HEADER_SIZE - 4) == get32(b + HEADER_SIZE - 4);
  pv_options *o = &h->options;
  *o = pv_options_default();
  o->dim = get32(b + 24);
  o->metric = (pv_metric)get32(b + 28);
  o->storage = (pv_storage)get32(b + 32);
  o->m = get32(b + 36);
  o->ef_construction = get32(b + 40);
  o->ef_search = get32(b + 44);
  o->seed = get64(b + 48);
  uint32_t t = get32(b + 56);
  memcpy(&o->compact_threshold, &t, 4);
  h->slots = get32(b + 60);
  h->live = get32(b + 64);
  h->next_id = get32(b + 68);
}

int pv_read_header(const void *buf, size_t len, pv_header *out) {
  if (!buf || !out) return pv__new_error(PV_INVALID, "buf and out must not be NULL");
  if (len < 8 || memcmp(buf, MAGIC, 8) != 0)
    CORRUPT("not a pocketvec index: the first bytes are not the pocketvec magic number");
  if (len < HEADER_SIZE)
    CORRUPT("the data is truncated: %zu bytes, shorter than the %u-byte header", len, HEADER_SIZE);
  crc_tables c;
  crc_init(&c);
  decode_header(buf, &c, out);
  pv__new_error(PV_OK, "not an error");
  return PV_OK;
}

/* Check the header, the table and every section's checksum and length.
 * Fills L; touches nothing else. */
static int parse(const uint8_t *b, size_t len, const crc_tables *c, layout *L) {
  memset(L, 0, sizeof *L);
  if (len < 8 || memcmp(b, MAGIC, 8) != 0)
    CORRUPT("not a pocketvec index: the first bytes are not the pocketvec magic number");
  if (len < HEADER_SIZE)
    CORRUPT("the data is truncated: %zu bytes, shorter than the %u-byte header", len, HEADER_SIZE);
  /* Bytes 0..15 (magic, version, header size) keep their meaning in every
   * version, and a header always ends with its CRC: so the checksum is
   * checked first, and a version number is believed only once it matches
   * (a flipped bit in it is damage, not a newer version). */
  uint32_t version = get32(b + 8), hsize = get32(b + 12);
  if (hsize < HEADER_SIZE || hsize % 4 || hsize > len)
    CORRUPT("the header size field says %u bytes, which cannot be right", hsize);
  if (crc_of(c, b, hsize - 4) != get32(b + hsize - 4))
    CORRUPT("the header checksum does not match: the header is damaged");
  if (version > PV_FORMAT_VERSION)
    return pv__new_error(PV_VERSION, "the index was written in format version %u; this pocketvec "
                         "reads version %u and older: upgrade pocketvec", version, PV_FORMAT_VERSION);
  if (version == 0 || hsize != HEADER_SIZE)
    CORRUPT("the header declares version %u with a %u-byte header, which no pocketvec writes",
            version, hsize);
  L->file_size = get64(b + 16);
  if (L->file_size != len)
    CORRUPT("the data is %s: the header says %zu bytes, there are %zu",
            L->file_size > len ? "truncated" : "followed by extra bytes",
            (size_t)(L->file_size > SIZE_MAX ? SIZE_MAX : L->file_size), len);
  pv_header h;
  decode_header(b, c, &h);
  pv_options *o = &L->opt;
  *o = h.options;
  if (get32(b + 28) > PV_DOT) CORRUPT("the header holds an unknown metric %u", get32(b + 28));
  if (get32(b + 32) > PV_SQ8) CORRUPT("the header holds an unknown storage %u", get32(b + 32));
  if (pv__check_options(o) != PV_OK) {
    char why[PV_MSG_SIZE];
    memcpy(why, pv_errmsg(NULL), sizeof why);
    CORRUPT("the header holds settings out of range: %s", why);
  }
  L->n = h.slots;
  L->live = h.live;
  L->next_id = h.next_id;
  L->entry = get32(b + 72);
  L->max_level = (int32_t)get32(b + 76);
  L->rng = get64(b + 80);
  L->table_off = get64(b + 88);
  L->count = get32(b + 96);
  if (!all_zero(b + 100, 24)) CORRUPT("the header's reserved bytes are not zero");
  if (L->live > L->n || L->n == PV_NONE || L->next_id < L->n || L->max_level < -1 ||
      L->max_level > PV_MAX_LEVEL || (L->n == 0) != (L->entry == PV_NONE) ||
      (L->n && L->entry >= L->n) || (L->n == 0) != (L->max_level == -1))
    CORRUPT("the header's counts are inconsistent (%u slots, %u live, next id %u, entry %u)", L->n,
            L->live, L->next_id, L->entry);

  uint32_t want = o->storage == PV_SQ8 ? S_KINDS - 1 : S_KINDS - 2;
  if (L->count != want) CORRUPT("the index has %u sections; it should have %u", L->count, want);
  uint64_t tsize = (uint64_t)L->count * ENTRY_SIZE + 4;
  if (L->table_off % ALIGN || L->table_off < HEADER_SIZE || L->table_off > len ||
      tsize != len - L->table_off)
    CORRUPT("the section table is not where the header says");
  const uint8_t *tab = b + L->table_off;
  if (crc_of(c, tab, L->count * ENTRY_SIZE) != get32(tab + L->count * ENTRY_SIZE))
    CORRUPT("the section table checksum does not match: the table is damaged");

  /* Sections: each kind once, in ascending, non-overlapping, aligned
   * places, with zero padding between them. */
  uint64_t prev_end = HEADER_SIZE;
  for (uint32_t i = 0; i < L->count; i++) {
    const uint8_t *e = tab + i * ENTRY_SIZE;
    uint32_t kind = get32(e);
    if (kind == 0 || kind >= S_KINDS || L->sec[kind].kind || (kind == S_SQ8 && o->storage != PV_SQ8))
      CORRUPT("section %u has kind %u, unknown or repeated", i, kind);
    if (get32(e + 4) || get32(e + 28)) CORRUPT("section %u's reserved fields are not zero", i);
    section *s = &L->sec[kind];
    s->kind = kind;
    s->off = get64(e + 8);
    s->len = get64(e + 16);
    s->crc = get32(e + 24);
    if (s->off % ALIGN || s->off < prev_end || s->len > L->table_off || s->off > L->table_off - s->len)
      CORRUPT("the %s section lies outside its place in the data", SECTION_NAME[kind]);
    if (!all_zero(b + prev_end, s->off - prev_end))
      CORRUPT("the padding before the %s section is not zero", SECTION_NAME[kind]);
    prev_end = s->off + s->len;
  }
  if (!all_zero(b + prev_end, L->table_off - prev_end))
    CORRUPT("the padding before the section table is not zero");
  for (uint32_t k = 1; k < S_KINDS; k++) {
    const section *s = &L->sec[k];
    if (!s->kind) continue;
    if (crc_of(c, b + s->off, (size_t)s->len) != s->crc)
      CORRUPT("the %s section's checksum does not match: the data is damaged", SECTION_NAME[k]);
  }

  /* Lengths follow from the counts; upper links from the levels. */
  uint64_t n = L->n;
  size_t vbytes = o->storage == PV_F32 ? sizeof(float) * (size_t)o->dim : o->dim;
  uint64_t expect[S_KINDS] = {0};
  expect[S_VECTORS] = n * vbytes;
  expect[S_LINKS0] = n * (1 + 2 * (uint64_t)o->m) * 4;
  expect[S_SQ8] = o->storage == PV_SQ8 ? n * sizeof(pv_sq8) : 0;
  expect[S_IDS] = n * 4;
  expect[S_LEVELS] = n;
  expect[S_DELETED] = (n - L->live) * 4;
  const uint8_t *lv = b + L->sec[S_LEVELS].off;
  if (L->sec[S_LEVELS].len == n) {
    uint64_t w = 0;
    for (uint64_t s = 0; s < n; s++) {
      if (lv[s] > L->max_level) CORRUPT("slot %u is on level %u, above the top level %d",
                                        (unsigned)s, (unsigned)lv[s], (int)L->max_level);
      w += (uint64_t)lv[s] * (1 + o->m);
    }
    expect[S_UPPER] = w * 4;
  }
  /* Levels first: the expected length of the upper links comes from them. */
  static const uint8_t order[] = {S_LEVELS, S_VECTORS, S_LINKS0, S_UPPER, S_SQ8, S_IDS, S_DELETED};
  for (uint32_t i = 0; i < sizeof order; i++) {
    uint32_t k = order[i];
    if (L->sec[k].kind && L->sec[k].len != expect[k])
      CORRUPT("the %s section has %zu bytes; %u slots need %zu", SECTION_NAME[k],
              (size_t)L->sec[k].len, L->n, (size_t)expect[k]);
  }
  return PV_OK;
}

/* Check link lists where they lie: every count fits, and the words after
 * the links are zero (the rest of each list is checked by pv_check once
 * everything is loaded). */
static int check_lists(const uint32_t *ln, uint32_t lists, uint32_t max, const char *what) {
  for (uint32_t i = 0; i < lists; i++, ln += 1 + max) {
    if (ln[0] > max) CORRUPT("a list of %s holds %u links; at most %u fit", what, ln[0], max);
    for (uint32_t j = ln[0]; j < max; j++)
      if (ln[1 + j]) CORRUPT("a list of %s has data after its %u links", what, ln[0]);
  }
  return PV_OK;
}

/* Build the index from a parsed buffer. */
static int build(const uint8_t *b, const layout *L, unsigned flags, pv_index **out) {
  pv_options o = L->opt;
  o.capacity = 0;
  pv_index *idx;
  if (pv_new(&o, &idx) != PV_OK) return pv_errcode(NULL);
  idx->opt.seed = L->opt.seed;
  idx->rng = L->rng;
  uint32_t n = L->n, full = 1u << idx->bshift;
  const uint8_t *vec = b + L->sec[S_VECTORS].off, *links = b + L->sec[S_LINKS0].off;
  /* Borrow when asked and the sections are aligned for their types (they
   * are, relative to the buffer, so this is about the buffer's base). */
  int borrow = (flags & (PV_LOAD_BORROW | PV_LOAD_TAKE)) && n && (uintptr_t)links % 4 == 0 &&
               ((uintptr_t)vec % (idx->opt.storage == PV_F32 ? sizeof(float) : 1)) == 0;
  int rc = PV_OK;

  if (borrow) {
    /* The blocks point into the buffer: vectors and layer-0 links are read
     * in place until the first write (pv__materialize). */
    uint32_t nb = (n + full - 1) >> idx->bshift;
    idx->blk = pv__malloc(idx, sizeof(pv_block) * nb);
    if (!idx->blk) goto nomem;
    idx->ntab = idx->nblk = idx->nborrow = nb;
    idx->last = n - ((nb - 1) << idx->bshift);
    for (uint32_t k = 0; k < nb; k++) {
      idx->blk[k].v = (uint8_t *)(uintptr_t)(vec + (size_t)k * full * idx->vbytes);
      idx->blk[k].l = (uint32_t *)(uintptr_t)(links + (size_t)k * full * idx->lwords * 4);
    }
  }
  if (pv__reserve(idx, n) != PV_OK) goto nomem;

  if (n) { /* an empty index has no arrays yet, and memcpy wants pointers */
    memcpy(idx->slot_id, b + L->sec[S_IDS].off, sizeof(uint32_t) * n);
    memcpy(idx->level, b + L->sec[S_LEVELS].off, n);
    memset(idx->flags, 0, n);
    if (idx->sq8) memcpy(idx->sq8, b + L->sec[S_SQ8].off, sizeof(pv_sq8) * n);
  }
  for (uint32_t k = 0; n && k <= (n - 1) >> idx->bshift; k++) {
    uint32_t base = k << idx->bshift, cnt = n - base < full ? n - base : full;
    if (!borrow) {
      memcpy(idx->blk[k].v, vec + (size_t)base * idx->vbytes, idx->vbytes * cnt);
      memcpy(idx->blk[k].l, links + (size_t)base * idx->lwords * 4, sizeof(uint32_t) * idx->lwords * cnt);
    }
    rc = check_lists(idx->blk[k].l, cnt, idx->m0, "layer-0 links");
    if (rc) goto fail;
  }
  const uint8_t *del = b + L->sec[S_DELETED].off;
  for (uint32_t i = 0; i < n - L->live; i++) {
    uint32_t s = get32(del + 4 * i);
    if (s >= n || (i && s <= get32(del + 4 * (i - 1)))) {
      pv__new_error(PV_CORRUPT, "the deleted slots are not an ascending list of slots");
      rc = PV_CORRUPT;
      goto fail;
    }
    idx->flags[s] = PV_SLOT_DELETED;
  }
  /* n is set before the upper lists exist, so pv_free releases the ones
   * already allocated if a later allocation fails. */
  idx->n = n;
  idx->live = L->live;
  const uint8_t *up = b + L->sec[S_UPPER].off;
  for (uint32_t s = 0; s < n; s++) {
    idx->upper[s] = NULL;
    if (!idx->level[s]) continue;
    size_t bytes = sizeof(uint32_t) * idx->level[s] * (1 + idx->m);
    idx->upper[s] = pv__malloc(idx, bytes);
    if (!idx->upper[s]) {
      for (uint32_t r = s + 1; r < n; r++) idx->upper[r] = NULL;
      goto nomem;
    }
    memcpy(idx->upper[s], up, bytes);
    rc = check_lists(idx->upper[s], idx->level[s], idx->m, "upper links");
    up += bytes;
    if (rc) {
      for (uint32_t r = s + 1; r < n; r++) idx->upper[r] = NULL;
      goto fail;
    }
  }
  idx->next_id = L->next_id;
  idx->entry = L->entry;
  idx->max_level = L->max_level;
  if (pv_check(idx) != PV_OK) {
    pv__new_error(PV_CORRUPT, "%s", pv_errmsg(idx));
    rc = PV_CORRUPT;
    goto fail;
  }
  *out = idx;
  return PV_OK;

nomem:
  rc = pv__new_error(PV_NOMEM, "out of memory loading an index of %u vectors", n);
fail:
  pv_free(idx);
  return rc;
}

int pv_load(const void *buf, size_t len, unsigned flags, pv_index **out) {
  if (!out) return pv__new_error(PV_INVALID, "out is NULL");
  *out = NULL;
  if (!buf) return pv__new_error(PV_INVALID, "the buffer is NULL");
  if (flags > PV_LOAD_TAKE) return pv__new_error(PV_INVALID, "flags %u are unknown", flags);
  crc_tables c;
  crc_init(&c);
  layout L;
  int rc = parse(buf, len, &c, &L);
  if (rc) return rc;
  pv_index *idx = NULL;
  rc = build(buf, &L, flags, &idx);
  if (rc) return rc;
  if (flags & PV_LOAD_TAKE) {
    /* The index owns the buffer now: keep it if blocks read from it,
     * otherwise it is of no more use. */
    if (idx->nborrow) {
      idx->taken = (void *)(uintptr_t)buf;
      idx->taken_size = len;
      idx->mem += len;
    } else {
      idx->alloc.free(idx->alloc.ctx, (void *)(uintptr_t)buf);
    }
  }
  pv__new_error(PV_OK, "not an error");
  *out = idx;
  return PV_OK;
}

int pv_verify(const void *buf, size_t len) {
  /* Loading in place allocates only the small per-slot arrays (about 30
   * bytes a vector) and the upper links, and runs exactly pv_load's checks. */
  pv_index *idx;
  int rc = pv_load(buf, len, PV_LOAD_BORROW, &idx);
  pv_free(idx);
  return rc;
}
