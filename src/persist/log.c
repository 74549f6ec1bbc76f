/* SPDX-License-Identifier: MIT */
/*
 * The change log (log.h): the journal of calls, records, and their replay.
 *
 * A record (docs/FORMAT.md, "The change log"), little-endian:
 *   0  u8[8] magic "\x89PVLOG\r\n"
 *   8  u32   version (1)
 *   12 u32   calls in the record
 *   16 u64   tag of the base it follows (pv__base_tag)
 *   24 u64   sequence number: 1 for the first record after a base
 *   32 u64   length of the record, this header and the checksum included
 *   40 u64   cost: the writer's measure of the time its calls took (us)
 *   48       the calls, each: u32 kind, u32 length of what follows, then
 *            the arguments (below)
 *   len - 4  u32 checksum (version 2's) of every byte before it
 * Calls:
 *   ADD      u32 n, then n vectors of dim f32
 *   UPSERT   u32 n, then n documents: u32 flags (1 key, 2 attributes,
 *            4 text, 8 attributes encoded: the writer always encodes, so
 *            that a host without JSON replays them), then for each of key,
 *            attributes, text that it has: u32 length and the bytes; then
 *            the vector, dim f32
 *   DELETE   u32 id
 *   SET_ATTR u32 id, u32 flags (pv_set_attributes': the writer puts
 *            PV_ATTR_ENCODED; | 0x100 when the attributes are NULL),
 *            u32 length, the bytes
 *   COMPACT  nothing
 */
#include <string.h>

#include "index.h"
#include "persist/format.h"
#include "persist/log.h"

#define LOG_HEADER 48u
#define LOG_VERSION 1u
#define ATTR_NULL 0x100u
/* A journal past this stops recording: the next save is a whole file,
 * which is then cheaper than replaying that much at every load. */
#define JOURNAL_MAX ((size_t)64 << 20)

/* ---- the journal ------------------------------------------------------------ */

void pv__log_free(pv_index *idx) {
  pv_journal *j = &idx->jr;
  if (j->p) pv__free(idx, j->p, j->cap);
  j->p = NULL;
  j->len = j->cap = 0;
  j->ops = 0;
}

/* Stop recording: what is recorded can no longer become a record. */
static void stop(pv_index *idx) {
  pv_journal *j = &idx->jr;
  j->at += j->len;
  pv__log_free(idx);
  j->on = 0;
}

/* Room for a call of `bytes` bytes of arguments at the journal's end, its
 * kind and length written: where the arguments go, or NULL (recording
 * stopped) when the journal cannot or should not grow. */
static uint8_t *begin(pv_index *idx, uint32_t kind, size_t bytes) {
  pv_journal *j = &idx->jr;
  if (!j->on || j->depth) return NULL;
  size_t need = 8 + bytes;
  if (bytes > JOURNAL_MAX || j->len + need > JOURNAL_MAX) {
    stop(idx);
    return NULL;
  }
  if (j->len + need > j->cap) {
    size_t cap = j->cap ? j->cap : 4096;
    while (cap < j->len + need) cap *= 2;
    uint8_t *p = pv__realloc(idx, j->p, j->cap, cap);
    if (!p) {
      stop(idx);
      return NULL;
    }
    j->p = p;
    j->cap = cap;
  }
  uint8_t *o = j->p + j->len;
  pv__put32(o, kind);
  pv__put32(o + 4, (uint32_t)bytes);
  j->len += need;
  j->ops++;
  return o + 8;
}

static uint8_t *put_bytes(uint8_t *o, const void *p, size_t n) {
  pv__put32(o, (uint32_t)n);
  if (n) memcpy(o + 4, p, n);
  return o + 4 + n;
}

void pv__log_add(pv_index *idx, const float *v, size_t n) {
  size_t vb = (size_t)idx->dim * 4;
  if (n > (JOURNAL_MAX - 4) / vb) {
    if (idx->jr.on && !idx->jr.depth) stop(idx);
    return;
  }
  uint8_t *o = begin(idx, PV_OP_ADD, 4 + n * vb);
  if (!o) return;
  pv__put32(o, (uint32_t)n);
  memcpy(o + 4, v, n * vb);
}

/* The upsert is logged as the documents that went in (the last of each
 * key), their attributes as the index stored them (encoded, whatever the
 * caller passed: a host without JSON replays them), read from their slots
 * first .. first + npick - 1 before anything moves them. */
void pv__log_upsert(pv_index *idx, const pv_doc *docs, const uint32_t *pick, size_t npick,
                    uint32_t first) {
  if (!idx->jr.on || idx->jr.depth) return;
  size_t vb = (size_t)idx->dim * 4, bytes = 4;
  for (size_t j = 0; j < npick; j++) {
    const pv_doc *d = &docs[pick[j]];
    const pv_rec *r = pv__rec_of(idx, first + (uint32_t)j);
    size_t one = 4 + vb + (d->key ? 4 + d->key_len : 0) + (r && r->attr_len ? 4 + r->attr_len : 0) +
                 (d->text ? 4 + d->text_len : 0);
    if (one > JOURNAL_MAX || bytes > JOURNAL_MAX - one) {
      stop(idx);
      return;
    }
    bytes += one;
  }
  uint8_t *o = begin(idx, PV_OP_UPSERT, bytes);
  if (!o) return;
  pv__put32(o, (uint32_t)npick);
  o += 4;
  for (size_t j = 0; j < npick; j++) {
    const pv_doc *d = &docs[pick[j]];
    const pv_rec *r = pv__rec_of(idx, first + (uint32_t)j);
    int attrs = r && r->attr_len;
    pv__put32(o, (d->key ? 1u : 0) | (attrs ? 2u | 8u : 0) | (d->text ? 4u : 0));
    o += 4;
    if (d->key) o = put_bytes(o, d->key, d->key_len);
    if (attrs) o = put_bytes(o, pv__rec_attr(r), r->attr_len);
    if (d->text) o = put_bytes(o, d->text, d->text_len);
    memcpy(o, d->vector, vb);
    o += vb;
  }
}

void pv__log_delete(pv_index *idx, uint32_t id) {
  uint8_t *o = begin(idx, PV_OP_DELETE, 4);
  if (o) pv__put32(o, id);
}

/* Logged as a replacement by the attributes id now has, encoded (so a
 * merge, and JSON text, replay anywhere). */
void pv__log_set_attr(pv_index *idx, uint32_t id) {
  if (!idx->jr.on || idx->jr.depth) return;
  const pv_rec *r = pv__rec_of(idx, pv__slot_of(idx, id));
  size_t len = r ? r->attr_len : 0;
  uint8_t *o = begin(idx, PV_OP_SET_ATTR, 12 + len);
  if (!o) return;
  pv__put32(o, id);
  pv__put32(o + 4, PV_ATTR_ENCODED);
  put_bytes(o + 8, len ? pv__rec_attr(r) : NULL, len);
}

void pv__log_compact(pv_index *idx) { begin(idx, PV_OP_COMPACT, 0); }

/* ---- the public calls ---------------------------------------------------------- */

int pv_log_start(pv_index *idx) {
  pv_journal *j = &idx->jr;
  j->at += j->len;
  j->len = 0;
  j->ops = 0;
  j->on = 1;
  return pv__error(idx, PV_OK, NULL);
}

void pv_log_state(const pv_index *idx, pv_log_info *out) {
  const pv_journal *j = &idx->jr;
  *out = (pv_log_info){.base_tag = j->tag, .next_seq = j->seq, .end = j->end,
                       .records = j->records, .cost_us = j->cost, .mark = j->at + j->len,
                       .pending_ops = j->ops, .pending_bytes = j->len,
                       .changes = idx->changes, .recording = j->on};
}

/* Drop the recorded calls before mark (an absolute position). */
static void drop(pv_index *idx, uint64_t mark) {
  pv_journal *j = &idx->jr;
  if (!j->on || mark <= j->at) return;
  size_t n = mark - j->at < j->len ? (size_t)(mark - j->at) : j->len;
  /* Count the calls dropped: walk their headers. */
  uint32_t calls = 0;
  for (size_t o = 0; o < n; o += 8 + pv__get32(j->p + o + 4)) calls++;
  memmove(j->p, j->p + n, j->len - n);
  j->len -= n;
  j->at += n;
  j->ops -= calls;
}

/* The size of the record of the calls before mark (within the journal):
 * header, the calls, checksum. */
static size_t record_bytes(const pv_journal *j, uint64_t mark) {
  return LOG_HEADER + (size_t)(mark - j->at) + 4;
}

int pv_log_record(pv_index *idx, uint64_t mark, uint64_t cost_us, void *buf, size_t cap,
                  size_t *len_out) {
  pv_journal *j = &idx->jr;
  if (len_out) *len_out = 0;
  if (!j->on)
    return pv__error(idx, PV_MISUSE, "the index is not recording its changes (pv_log_start), or "
                     "stopped because they grew past %zu bytes: save the whole index", JOURNAL_MAX);
  if (!j->tag)
    return pv__error(idx, PV_MISUSE, "the index has no saved base to follow: save the whole index");
  if (mark < j->at || mark > j->at + j->len)
    return pv__error(idx, PV_RANGE, "the mark %zu is outside the recorded changes (%zu .. %zu)",
                     (size_t)mark, (size_t)j->at,
                     (size_t)(j->at + j->len));
  size_t body = (size_t)(mark - j->at), need = record_bytes(j, mark);
  if (len_out) *len_out = need;
  if (!buf || cap < need) {
    pv__error(idx, PV_RANGE, "the buffer holds %zu bytes; the record needs %zu", cap, need);
    pv__error_need(idx, need);
    return PV_RANGE;
  }
  uint32_t calls = 0;
  for (size_t o = 0; o < body; o += 8 + pv__get32(j->p + o + 4)) calls++;
  uint8_t *b = buf;
  memcpy(b, PV_LOG_MAGIC, 8);
  pv__put32(b + 8, LOG_VERSION);
  pv__put32(b + 12, calls);
  pv__put64(b + 16, j->tag);
  pv__put64(b + 24, j->seq);
  pv__put64(b + 32, need);
  pv__put64(b + 40, cost_us);
  memcpy(b + LOG_HEADER, j->p, body);
  pv__put32(b + need - 4, pv__sum_of(idx->kern, b, need - 4));
  return pv__error(idx, PV_OK, NULL);
}

int pv_log_worth(const pv_index *idx, uint64_t mark, double pending_us, double load_us,
                 double record_us, double ratio) {
  const pv_journal *j = &idx->jr;
  if (!j->on || !j->tag || mark < j->at || mark > j->at + j->len) return 0;
  /* A load reads the stored bytes at about a gigabyte a second at best,
   * then replays every record: the calls' own time, and what the store
   * spends handing over each record. */
  double load = (double)j->end / 1e3 > load_us ? (double)j->end / 1e3 : load_us;
  double replay = (double)j->cost + pending_us + record_us * (double)(j->records + 1);
  if (replay > ratio * load) return 0;
  /* A record as large as a quarter of the index: the index is the smaller write. */
  return record_bytes(j, mark) <= j->end / 4;
}

int pv_log_appended(pv_index *idx, uint64_t mark, uint64_t len, uint64_t cost_us) {
  pv_journal *j = &idx->jr;
  drop(idx, mark);
  j->seq++;
  j->end += len;
  j->cost += cost_us;
  j->records++;
  return pv__error(idx, PV_OK, NULL);
}

int pv_log_rebase(pv_index *idx, uint64_t mark, uint64_t changes, uint64_t tag, uint64_t size) {
  pv_journal *j = &idx->jr;
  if (j->on) drop(idx, mark);
  else if (changes == idx->changes) pv_log_start(idx); /* nothing happened since the snapshot */
  j->tag = tag;
  j->seq = 1;
  j->end = size;
  j->cost = 0;
  j->records = 0;
  return pv__error(idx, PV_OK, NULL);
}

uint64_t pv__base_tag(uint32_t header_sum, uint32_t table_sum) {
  uint64_t t = (uint64_t)header_sum | (uint64_t)table_sum << 32;
  return t ? t : 1; /* 0 means "no base" */
}

void pv__log_stop(pv_index *idx) {
  if (idx->jr.on && !idx->jr.depth) stop(idx);
}

/* ---- replay -------------------------------------------------------------------- */

/* Reads of the calls' arguments: each checks that the bytes are there. */
typedef struct {
  const uint8_t *p, *end;
} rd;

static int take32(rd *r, uint32_t *v) {
  if (r->end - r->p < 4) return 0;
  *v = pv__get32(r->p);
  r->p += 4;
  return 1;
}

static int take(rd *r, size_t n, const uint8_t **at) {
  if ((size_t)(r->end - r->p) < n) return 0;
  *at = r->p;
  r->p += n;
  return 1;
}

/* The vectors of a call, copied to aligned floats (the record's bytes may
 * sit anywhere). NULL when out of memory. */
static float *floats(pv_index *idx, const uint8_t *p, size_t n, size_t *bytes) {
  *bytes = n * idx->dim * sizeof(float);
  float *v = pv__malloc(idx, *bytes ? *bytes : 1);
  if (v) memcpy(v, p, *bytes);
  return v;
}

#define UNPARSED (-1)

/* One call, made again. PV_OK, or the failing call's status (its message
 * set on idx), or UNPARSED for arguments that do not parse. */
static int replay_call(pv_index *idx, uint32_t kind, rd *r) {
  size_t vb = (size_t)idx->dim * 4, bytes;
  uint32_t n, id, flags = 0, len;
  const uint8_t *at;
  switch (kind) {
    case PV_OP_ADD: {
      if (!take32(r, &n) || n == 0 || (size_t)(r->end - r->p) / vb < n || !take(r, n * vb, &at))
        return UNPARSED;
      float *v = floats(idx, at, n, &bytes);
      if (!v) return pv__error(idx, PV_NOMEM, "out of memory");
      int rc = pv_add_batch(idx, v, n, NULL);
      pv__free(idx, v, bytes ? bytes : 1);
      return rc;
    }
    case PV_OP_UPSERT: {
      if (!take32(r, &n) || n == 0 || (size_t)(r->end - r->p) / (4 + vb) < n) return UNPARSED;
      size_t dbytes = n * sizeof(pv_doc);
      pv_doc *docs = pv__malloc(idx, dbytes);
      float *v = pv__malloc(idx, n * vb);
      int rc = docs && v ? PV_OK : pv__error(idx, PV_NOMEM, "out of memory");
      for (uint32_t i = 0; i < n && !rc; i++) {
        pv_doc *d = &docs[i];
        memset(d, 0, sizeof *d);
        if (!take32(r, &flags) || flags > 15) rc = UNPARSED;
        if (!rc && (flags & 1)) {
          if (!take32(r, &len) || !take(r, len, &at)) rc = UNPARSED;
          else d->key = (const char *)at, d->key_len = len;
        }
        if (!rc && (flags & 2)) {
          if (!take32(r, &len) || !take(r, len, &at)) rc = UNPARSED;
          else d->attributes = (const char *)at, d->attributes_len = len;
        }
        if (!rc && (flags & 4)) {
          if (!take32(r, &len) || !take(r, len, &at)) rc = UNPARSED;
          else d->text = (const char *)at, d->text_len = len;
        }
        d->flags = flags & 8 ? PV_ATTR_ENCODED : 0;
        if (!rc && !take(r, vb, &at)) rc = UNPARSED;
        if (!rc) {
          memcpy(v + (size_t)i * idx->dim, at, vb);
          d->vector = v + (size_t)i * idx->dim;
        }
      }
      if (!rc) rc = pv_upsert_batch(idx, docs, n, NULL);
      if (docs) pv__free(idx, docs, dbytes);
      if (v) pv__free(idx, v, n * vb);
      return rc;
    }
    case PV_OP_DELETE:
      if (!take32(r, &id)) return UNPARSED;
      return pv_delete(idx, id);
    case PV_OP_SET_ATTR:
      if (!take32(r, &id) || !take32(r, &flags) || !take32(r, &len) || !take(r, len, &at) ||
          (flags & ~(ATTR_NULL | PV_ATTR_MERGE | PV_ATTR_ENCODED)))
        return UNPARSED;
      return pv_set_attributes(idx, id, flags & ATTR_NULL ? NULL : (const char *)at, len,
                               flags & ~ATTR_NULL);
    case PV_OP_COMPACT:
      return pv_compact(idx);
    default:
      return UNPARSED;
  }
}

int pv__log_replay(pv_index *idx, const uint8_t *buf, uint64_t base, uint64_t len) {
  pv_journal *j = &idx->jr;
  uint64_t pos = base, seq = 1;
  uint64_t tag = pv__base_tag(pv__get32(buf + 124), pv__get32(buf + pv__get64(buf + 88) + 32u * pv__get32(buf + 96)));
  j->tag = tag;
  j->depth++;
  int rc = PV_OK;
  while (len - pos >= LOG_HEADER + 4) {
    const uint8_t *h = buf + pos;
    uint64_t n = pv__get64(h + 32);
    if (memcmp(h, PV_LOG_MAGIC, 8) || pv__get32(h + 8) != LOG_VERSION || pv__get64(h + 16) != tag ||
        pv__get64(h + 24) != seq || n < LOG_HEADER + 4 || n > len - pos ||
        pv__sum_of(idx->kern, h, n - 4) != pv__get32(h + n - 4))
      break; /* an interrupted save: this and the rest are ignored */
    rd r = {h + LOG_HEADER, h + n - 4};
    uint32_t calls = pv__get32(h + 12);
    for (uint32_t c = 0; c < calls && !rc; c++) {
      uint32_t kind, alen;
      const uint8_t *args;
      if (!take32(&r, &kind) || !take32(&r, &alen) || !take(&r, alen, &args)) {
        rc = pv__error(NULL, PV_CORRUPT, "change log record %zu: change %u is cut short",
                       (size_t)seq, c + 1);
        break;
      }
      rd a = {args, args + alen};
      int crc = replay_call(idx, kind, &a);
      if (crc == PV_OK && a.p != a.end) crc = UNPARSED;
      if (crc == PV_NOMEM)
        rc = pv__error(NULL, PV_NOMEM, "out of memory replaying change %u of change log record %zu",
                       c + 1, (size_t)seq);
      else if (crc == UNPARSED)
        rc = pv__error(NULL, PV_CORRUPT, "change log record %zu: change %u (kind %u) does not parse",
                       (size_t)seq, c + 1, kind);
      else if (crc) {
        char why[160]; /* the message is rewritten in the buffer it is read from */
        const char *m = pv_errmsg(idx);
        size_t k = strlen(m) < sizeof why - 1 ? strlen(m) : sizeof why - 1;
        memcpy(why, m, k);
        why[k] = '\0';
        rc = pv__error(NULL, PV_CORRUPT, "change log record %zu: change %u (kind %u) fails: %s",
                       (size_t)seq, c + 1, kind, why);
      }
    }
    if (!rc && r.p != r.end)
      rc = pv__error(NULL, PV_CORRUPT, "change log record %zu has bytes after its %u changes",
                     (size_t)seq, calls);
    if (rc) break;
    j->cost += pv__get64(h + 40);
    j->records++;
    pos += n;
    seq++;
  }
  j->depth--;
  j->seq = seq;
  j->end = pos;
  return rc;
}
