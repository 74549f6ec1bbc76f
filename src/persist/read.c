/* SPDX-License-Identifier: MIT */
/*
 * Reading the format from a buffer treated as hostile input: every count,
 * offset and length is checked, every checksum verified before the bytes it
 * covers are used, and nothing is allocated beyond what the validated
 * counts imply (which the buffer's length bounds).
 */
#include <string.h>

#include "index.h"
#include "persist/format.h"

#define CORRUPT PV_CORRUPT_

static int all_zero(const uint8_t *p, uint64_t n) {
  for (uint64_t i = 0; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

int pv__checker_open(pv_checker *c, uint32_t version, const pv_allocator *alloc) {
  memset(c, 0, sizeof *c);
  c->version = version;
  c->k = pv_kernels_best();
  return version == 1 ? pv__crc_open(&c->crc, alloc, 1) : PV_OK;
}

void pv__checker_close(pv_checker *c) { pv__crc_close(&c->crc); }

/* The header fields a reader may want before trusting anything (b holds at
 * least PV_HEADER_SIZE bytes). */
static void decode_header(const uint8_t *b, pv_header *h) {
  memset(h, 0, sizeof *h);
  h->version = pv__get32(b + 8);
  h->file_size = pv__get64(b + 16);
  uint32_t hsize = pv__get32(b + 12);
  h->header_ok = hsize == PV_HEADER_SIZE &&
                 pv__crc32c_bitwise(b, PV_HEADER_SIZE - 4) == pv__get32(b + PV_HEADER_SIZE - 4);
  pv_options *o = &h->options;
  *o = pv_options_default();
  o->dim = pv__get32(b + 24);
  o->metric = (pv_metric)pv__get32(b + 28);
  o->storage = (pv_storage)pv__get32(b + 32);
  o->m = pv__get32(b + 36);
  o->ef_construction = pv__get32(b + 40);
  o->ef_search = pv__get32(b + 44);
  o->seed = pv__get64(b + 48);
  uint32_t t = pv__get32(b + 56);
  memcpy(&o->compact_threshold, &t, 4);
  h->slots = pv__get32(b + 60);
  h->live = pv__get32(b + 64);
  h->next_id = pv__get32(b + 68);
  h->sections = pv__get32(b + 96);
}

static int check_magic(const uint8_t *b, size_t len) {
  if (len < 8 || memcmp(b, PV_MAGIC, 8) != 0)
    CORRUPT("not a pocketvec index: the first bytes are not the pocketvec magic number");
  if (len < PV_HEADER_SIZE)
    CORRUPT("the data is truncated: %zu bytes, shorter than the %u-byte header", len,
            PV_HEADER_SIZE);
  return PV_OK;
}

int pv_read_header(const void *buf, size_t len, pv_header *out) {
  if (!buf || !out) return pv__error_null(NULL, PV_INVALID, "buf and out must not be NULL");
  int rc = check_magic(buf, len);
  if (rc) return rc;
  decode_header(buf, out);
  return pv__error(NULL, PV_OK, NULL);
}

int pv_read_sections(const void *buf, size_t len, pv_section_info *out, size_t cap,
                     size_t *count) {
  if (!buf || !count || (cap && !out))
    return pv__error_null(NULL, PV_INVALID, "buf and count must not be NULL, nor out when cap > 0");
  *count = 0;
  const uint8_t *b = buf;
  int rc = check_magic(b, len);
  if (rc) return rc;
  uint64_t toff = pv__get64(b + 88);
  uint32_t n = pv__get32(b + 96), version = pv__get32(b + 8);
  if (n > PV_MAX_SECTIONS || toff > len || (uint64_t)n * PV_ENTRY_SIZE + 4 > len - toff)
    CORRUPT("the section table lies outside the data (%u entries at offset %zu)", n, (size_t)toff);
  pv_checker c;
  pv_allocator a = pv__default_allocator();
  if (pv__checker_open(&c, version, &a) != PV_OK)
    return pv__error(NULL, PV_NOMEM, "out of memory for the checksum tables");
  const uint8_t *tab = b + toff;
  int ok = pv__checksum(&c, tab, n * PV_ENTRY_SIZE) == pv__get32(tab + n * PV_ENTRY_SIZE);
  for (uint32_t i = 0; ok && i < n && i < cap; i++) {
    const uint8_t *e = tab + i * PV_ENTRY_SIZE;
    pv_section_info *o = &out[i];
    const pv_secdef *d = pv__secdef(pv__get32(e));
    o->kind = pv__get32(e);
    o->required = version == 1 || (pv__get32(e + 4) & PV_SEC_REQUIRED);
    o->offset = pv__get64(e + 8);
    o->length = pv__get64(e + 16);
    o->checksum = pv__get32(e + 24);
    o->checksum_ok = o->offset <= len && o->length <= len - o->offset &&
                     pv__checksum(&c, b + o->offset, (size_t)o->length) == o->checksum;
    o->name = d ? d->name : "unknown";
  }
  pv__checker_close(&c);
  if (!ok) CORRUPT("the section table checksum does not match: the table is damaged");
  *count = n;
  return pv__error(NULL, PV_OK, NULL);
}

/* The header: checksum first, then the version, the size and the counts. */
static int parse_header(const uint8_t *b, size_t len, pv_layout *L) {
  int rc = check_magic(b, len);
  if (rc) return rc;
  /* Bytes 0..15 (magic, version, header size) keep their meaning in every
   * version, and a header always ends with its CRC-32C (in every version,
   * whatever checksum the rest uses): so the checksum is checked first, and
   * a version number is believed only once it matches (a flipped bit in it
   * is damage, not a newer version; and a reader older than the file says
   * "upgrade", not "damaged"). */
  uint32_t version = pv__get32(b + 8), hsize = pv__get32(b + 12);
  if (hsize < PV_HEADER_SIZE || hsize % 4 || hsize > len)
    CORRUPT("the header size field says %u bytes, which cannot be right", hsize);
  if (pv__crc32c_bitwise(b, hsize - 4) != pv__get32(b + hsize - 4))
    CORRUPT("the header checksum does not match: the header is damaged");
  if (version > PV_FORMAT_VERSION)
    return pv__error(NULL, PV_VERSION, "the index was written in format version %u; this "
                     "pocketvec reads version %u and older: upgrade pocketvec",
                     version, PV_FORMAT_VERSION);
  if (version == 0 || hsize != PV_HEADER_SIZE)
    CORRUPT("the header declares version %u with a %u-byte header, which no pocketvec writes",
            version, hsize);
  L->version = version;
  L->file_size = pv__get64(b + 16);
  if (L->file_size != len)
    CORRUPT("the data is %s: the header says %zu bytes, there are %zu",
            L->file_size > len ? "truncated" : "followed by extra bytes",
            (size_t)(L->file_size > SIZE_MAX ? SIZE_MAX : L->file_size), len);
  pv_header h;
  decode_header(b, &h);
  L->opt = h.options;
  if (pv__get32(b + 28) > PV_DOT) CORRUPT("the header holds an unknown metric %u", pv__get32(b + 28));
  if (!pv__codec_of((pv_storage)pv__get32(b + 32)))
    CORRUPT("the header holds an unknown storage %u", pv__get32(b + 32));
  if (pv__check_options(&L->opt) != PV_OK) {
    char why[PV_MSG_SIZE];
    memcpy(why, pv_errmsg(NULL), sizeof why);
    CORRUPT("the header holds settings out of range: %s", why);
  }
  L->n = h.slots;
  L->live = h.live;
  L->next_id = h.next_id;
  L->entry = pv__get32(b + 72);
  L->max_level = (int32_t)pv__get32(b + 76);
  L->rng = pv__get64(b + 80);
  L->table_off = pv__get64(b + 88);
  L->count = pv__get32(b + 96);
  if (!all_zero(b + 100, 24)) CORRUPT("the header's reserved bytes are not zero");
  if (L->live > L->n || L->n == PV_NONE || L->next_id < L->n || L->max_level < -1 ||
      L->max_level > PV_MAX_LEVEL || (L->n == 0) != (L->entry == PV_NONE) ||
      (L->n && L->entry >= L->n) || (L->n == 0) != (L->max_level == -1))
    CORRUPT("the header's counts are inconsistent (%u slots, %u live, next id %u, entry %u)", L->n,
            L->live, L->next_id, L->entry);
  return PV_OK;
}

/* The table and every section's place and checksum. Version 1 has exactly
 * the known sections, all required; version 2 may add optional ones, which
 * are checked like the others and then left alone. */
static int parse_table(const uint8_t *b, size_t len, const pv_checker *c, pv_layout *L) {
  if (L->count > PV_MAX_SECTIONS)
    CORRUPT("the index declares %u sections; at most %u are allowed", L->count, PV_MAX_SECTIONS);
  uint64_t tsize = (uint64_t)L->count * PV_ENTRY_SIZE + 4;
  if (L->table_off % PV_ALIGN || L->table_off < PV_HEADER_SIZE || L->table_off > len ||
      tsize != len - L->table_off)
    CORRUPT("the section table is not where the header says");
  const uint8_t *tab = b + L->table_off;
  if (pv__checksum(c, tab, L->count * PV_ENTRY_SIZE) != pv__get32(tab + L->count * PV_ENTRY_SIZE))
    CORRUPT("the section table checksum does not match: the table is damaged");
  const pv_codec *codec = pv__codec_of(L->opt.storage);

  /* Sections: each kind once, in ascending, non-overlapping, aligned
   * places, with zero padding between them. */
  uint64_t prev_end = PV_HEADER_SIZE;
  for (uint32_t i = 0; i < L->count; i++) {
    const uint8_t *e = tab + i * PV_ENTRY_SIZE;
    pv_section s = {pv__get32(e), pv__get32(e + 4), pv__get64(e + 8), pv__get64(e + 16),
                    pv__get32(e + 24)};
    const pv_secdef *d = pv__secdef(s.kind);
    if (pv__get32(e + 28)) CORRUPT("section %u's reserved field is not zero", i);
    if (L->version == 1 && s.flags) CORRUPT("section %u's reserved field is not zero", i);
    if (L->version == 1) s.flags = PV_SEC_REQUIRED;
    if (s.flags & ~PV_SEC_REQUIRED) CORRUPT("section %u has unknown flags %u", i, s.flags);
    if (s.kind == 0) CORRUPT("section %u has kind 0, which no pocketvec writes", i);
    if (!d && L->version == 1) CORRUPT("section %u has kind %u, unknown in format version 1", i, s.kind);
    if (!d && (s.flags & PV_SEC_REQUIRED))
      return pv__error(NULL, PV_VERSION, "the index needs a section of kind %u, which this "
                       "pocketvec does not know: upgrade pocketvec", s.kind);
    if (d && (L->sec[s.kind].kind || (s.flags & PV_SEC_REQUIRED ? 0 : 1) != d->optional))
      CORRUPT("section %u has kind %u, repeated or not marked as this kind is", i, s.kind);
    if (s.kind == PV_SEC_PARAMS && !codec->param_bytes)
      CORRUPT("section %u holds codec parameters, which %s vectors do not have", i, codec->name);
    const char *name = d ? d->name : "optional";
    if (s.off % PV_ALIGN || s.off < prev_end || s.len > L->table_off ||
        s.off > L->table_off - s.len)
      CORRUPT("the %s section lies outside its place in the data", name);
    if (!all_zero(b + prev_end, s.off - prev_end))
      CORRUPT("the padding before the %s section is not zero", name);
    if (pv__checksum(c, b + s.off, (size_t)s.len) != s.sum)
      CORRUPT("the %s section's checksum does not match: the data is damaged", name);
    prev_end = s.off + s.len;
    if (d) L->sec[s.kind] = s;
  }
  if (!all_zero(b + prev_end, L->table_off - prev_end))
    CORRUPT("the padding before the section table is not zero");
  for (uint32_t i = 0; i < pv_nsections; i++) {
    const pv_secdef *d = &pv_sections[i];
    if (d->kind == PV_SEC_PARAMS && !codec->param_bytes) continue;
    if (!L->sec[d->kind].kind && !d->may_be_absent) CORRUPT("the %s section is missing", d->name);
    if ((d->kind == PV_SEC_CENTRE || d->kind == PV_SEC_WALK) && !L->sec[d->kind].kind &&
        codec->walks)
      CORRUPT("the %s section is missing", d->name);
  }
  return PV_OK;
}

/* Build the index from a parsed buffer. */
static int build(const uint8_t *b, const pv_layout *L, unsigned flags, const pv_allocator *alloc,
                 pv_index **out) {
  pv_options o = L->opt;
  o.capacity = 0;
  pv_index *idx;
  int rc = pv__new(&o, alloc, &idx);
  if (rc) return rc;
  idx->opt.seed = L->opt.seed;
  idx->g.rng = L->rng;
  uint32_t n = L->n, full = 1u << idx->st.bshift;
  const pv_section *codes = &L->sec[PV_SEC_CODES], *links = &L->sec[PV_SEC_LINKS0];
  if (codes->len != (uint64_t)n * idx->st.vbytes) {
    rc = pv__error(NULL, PV_CORRUPT, "the vectors section has %zu bytes; %u slots need %zu",
                   (size_t)codes->len, n, (size_t)n * idx->st.vbytes);
    goto fail;
  }
  if (links->len != (uint64_t)n * idx->st.lwords * 4) {
    rc = pv__error(NULL, PV_CORRUPT, "the layer-0 links section has %zu bytes; %u slots need %zu",
                   (size_t)links->len, n, (size_t)n * idx->st.lwords * 4);
    goto fail;
  }
  const uint8_t *vec = b + codes->off, *lnk = b + links->off;
  /* Borrow when asked and the sections are aligned for their types (they
   * are, relative to the buffer, so this is about the buffer's base). */
  int borrow = (flags & (PV_LOAD_BORROW | PV_LOAD_TAKE)) && n && (uintptr_t)lnk % 4 == 0 &&
               (uintptr_t)vec % sizeof(float) == 0;
  if (borrow && pv__store_borrow(idx, vec, lnk, n) != PV_OK) goto nomem;
  if (pv__store_reserve(idx, n) != PV_OK) goto nomem;
  for (uint32_t k = 0; !borrow && n && k <= (n - 1) >> idx->st.bshift; k++) {
    uint32_t base = k << idx->st.bshift, cnt = n - base < full ? n - base : full;
    memcpy(idx->st.blk[k].v, vec + (size_t)base * idx->st.vbytes, idx->st.vbytes * cnt);
    memcpy(idx->st.blk[k].l, lnk + (size_t)base * idx->st.lwords * 4,
           sizeof(uint32_t) * idx->st.lwords * cnt);
  }
  /* The raw columns first (the upper links' length follows from the
   * levels), then the other sections in registry order. n is set before
   * any upper list exists, so pv_free releases the ones allocated if a
   * later step fails. */
  if (n) memset(pv__flags(idx), 0, n);
  for (uint32_t i = 0; i < pv_nsections; i++) {
    const pv_secdef *d = &pv_sections[i];
    const pv_section *s = &L->sec[d->kind];
    if (d->col < 0 || !s->kind) continue;
    uint64_t want = (uint64_t)n * idx->st.col[d->col].esize;
    if (s->len != want) {
      rc = pv__error(NULL, PV_CORRUPT, "the %s section has %zu bytes; %u slots need %zu", d->name,
                     (size_t)s->len, n, (size_t)want);
      goto fail;
    }
    if (want) memcpy(idx->st.col[d->col].base, b + s->off, (size_t)want); /* base may be NULL */
  }
  idx->st.n = n;
  idx->live = L->live;
  for (uint32_t i = 0; i < pv_nsections; i++) {
    const pv_secdef *d = &pv_sections[i];
    const pv_section *s = &L->sec[d->kind];
    if (!d->load || !s->kind) continue;
    rc = d->load(idx, L, b + s->off, s->len);
    if (rc) goto fail;
  }
  idx->next_id = L->next_id;
  idx->g.entry = L->entry;
  idx->g.max_level = L->max_level;
  /* Every link, and the zero words after each layer-0 list's links. */
  rc = pv__check_structure(idx, 1);
  if (rc == PV_NOMEM) goto nomem;
  if (rc) {
    rc = pv__error(NULL, PV_CORRUPT, "%s", pv_errmsg(idx));
    goto fail;
  }
  *out = idx;
  return PV_OK;

nomem:
  rc = pv__error(NULL, PV_NOMEM, "out of memory loading an index of %u vectors", n);
fail:
  pv_free(idx);
  return rc;
}

/* Where the base ends when buf holds a file followed by change log
 * records (the bytes after the header's file size begin as a record does,
 * even if cut short); else len, and the header check says what is wrong. */
static size_t log_base(const uint8_t *b, size_t len) {
  if (len < PV_HEADER_SIZE || memcmp(b, PV_MAGIC, 8)) return len;
  uint64_t fs = pv__get64(b + 16);
  if (fs < PV_HEADER_SIZE || fs >= len) return len;
  size_t tail = len - (size_t)fs;
  return memcmp(b + fs, PV_LOG_MAGIC, tail < 8 ? tail : 8) ? len : (size_t)fs;
}

int pv_load_with_allocator(const void *buf, size_t len, unsigned flags,
                           const pv_allocator *alloc, pv_index **out) {
  if (!out) return pv__error_null(NULL, PV_INVALID, "out is NULL");
  *out = NULL;
  if (!buf) return pv__error_null(NULL, PV_INVALID, "the buffer is NULL");
  if (flags > PV_LOAD_TAKE) return pv__error(NULL, PV_INVALID, "flags %u are unknown", flags);
  if (alloc && (!alloc->malloc || !alloc->realloc || !alloc->free))
    return pv__error(NULL, PV_INVALID, "the allocator lacks malloc, realloc or free");
  pv_allocator a = alloc ? *alloc : pv__default_allocator();
  /* A base followed by change log records: the base is loaded as a file,
   * then its records replayed. */
  size_t base = log_base(buf, len);
  pv_layout L;
  memset(&L, 0, sizeof L);
  int rc = parse_header(buf, base, &L);
  if (rc) return rc;
  /* The rest's checksum follows from the version, now believed. */
  pv_checker c;
  if (pv__checker_open(&c, L.version, &a) != PV_OK)
    return pv__error(NULL, PV_NOMEM, "out of memory for the checksum tables");
  rc = parse_table(buf, base, &c, &L);
  pv__checker_close(&c);
  if (rc) return rc;
  pv_index *idx = NULL;
  rc = build(buf, &L, flags, &a, &idx);
  if (rc) return rc;
  /* The index owns a taken buffer from here, so that replaying the change
   * log writes blocks where they lie (pv__store_materialize). */
  int take = (flags & PV_LOAD_TAKE) && idx->st.nborrow;
  if (take) {
    idx->st.taken = (void *)(uintptr_t)buf;
    idx->st.taken_size = len;
    __atomic_fetch_add(&idx->mem, len, __ATOMIC_RELAXED);
  }
  rc = pv__log_replay(idx, buf, base, len);
  if (rc) {
    /* The caller keeps the buffer of a failed load (its bytes may have
     * been written by the replay). */
    if (take) {
      __atomic_fetch_sub(&idx->mem, len, __ATOMIC_RELAXED);
      idx->st.taken = NULL; /* borrowed blocks are never freed as blocks */
    }
    pv_free(idx);
    return rc;
  }
  if (take && !idx->st.nborrow) pv__store_materialize(idx, 0); /* frees the buffer no block reads */
  if ((flags & PV_LOAD_TAKE) && !take)
    idx->alloc.free(idx->alloc.ctx, (void *)(uintptr_t)buf); /* nothing reads it */
  pv__error(NULL, PV_OK, NULL);
  *out = idx;
  return PV_OK;
}

int pv_load(const void *buf, size_t len, unsigned flags, pv_index **out) {
  return pv_load_with_allocator(buf, len, flags, NULL, out);
}

int pv_verify(const void *buf, size_t len) {
  /* Loading in place allocates only the small per-slot arrays (about 30
   * bytes a vector) and the upper links, and runs exactly pv_load's checks. */
  pv_index *idx;
  int rc = pv_load(buf, len, PV_LOAD_BORROW, &idx);
  pv_free(idx);
  return rc;
}
