/* SPDX-License-Identifier: MIT */
/*
 * Errors: the status of a call (a code, a sentence, a structured detail),
 * kept per thread and per index.
 *
 * Why per thread: any number of threads may search one index at once, and a
 * search reports its status like every call. A status stored in the index
 * would be written by all of them together (a data race, and a message that
 * one thread reads while another rewrites it). So each thread keeps the
 * status of its own last call on each index it used, in a small table keyed
 * by the index's serial number (never reused, so a new index at a freed
 * address cannot inherit a stale message). The table holds the eight indexes
 * a thread used last (a free slot first, else the least recently used);
 * older ones read as "not an error". Slot 0 is for the calls with no index
 * (pv_new, pv_load).
 */
#include <string.h>

#include "index.h"

#define SLOTS 9 /* slot 0, and eight indexes */

typedef struct err_slot {
  uint64_t serial; /* 0: free (slot 0: the no-index calls) */
  uint64_t used;   /* when it was last written: the oldest goes first */
  pv_error_info info;
  char msg[PV_MSG_SIZE];
} err_slot;

static PV_THREAD_LOCAL err_slot slot[SLOTS];
static PV_THREAD_LOCAL uint64_t clock_now;

static uint64_t serial_next = 1;

uint64_t pv__next_serial(void) {
  return __atomic_fetch_add(&serial_next, 1, __ATOMIC_RELAXED);
}

const char *pv_errstr(int code) {
  switch (code) {
    case PV_OK: return "not an error";
    case PV_ERROR: return "internal error";
    case PV_NOMEM: return "out of memory";
    case PV_INVALID: return "invalid argument";
    case PV_DIM: return "wrong vector dimension";
    case PV_NOTFOUND: return "not found";
    case PV_CORRUPT: return "data is corrupt";
    case PV_VERSION: return "written by a newer version of pocketvec";
    case PV_FULL: return "id space exhausted";
    case PV_IO: return "input/output error";
    case PV_ABORT: return "stopped by a callback";
    case PV_MISUSE: return "library used incorrectly";
    case PV_RANGE: return "buffer too small or offset out of range";
    case PV_CONFLICT: return "changed by another writer";
    default: return "unknown status code";
  }
}

/* The slot of idx: found, or (for writing) a free one, else the least
 * recently written. */
static err_slot *find(uint64_t serial) {
  for (unsigned i = 1; i < SLOTS; i++)
    if (slot[i].serial == serial) return &slot[i];
  return NULL;
}

static err_slot *slot_for_write(const pv_index *idx) {
  if (!idx) return &slot[0];
  err_slot *e = find(idx->serial);
  if (!e) {
    e = &slot[1];
    for (unsigned i = 1; i < SLOTS && e->serial; i++)
      if (!slot[i].serial || slot[i].used < e->used) e = &slot[i];
    e->serial = idx->serial;
  }
  e->used = ++clock_now;
  return e;
}

static const err_slot *slot_for_read(const pv_index *idx) {
  return idx ? find(idx->serial) : &slot[0];
}

int pv__error(const pv_index *idx, int code, const char *fmt, ...) {
  err_slot *e = slot_for_write(idx);
  e->info.code = code;
  e->info.item = e->info.element = e->info.offset = -1;
  e->info.need = 0;
  if (code == PV_OK) {
    e->msg[0] = '\0'; /* pv_errmsg says "not an error": the hot path copies nothing */
    return code;
  }
  if (!fmt) {
    const char *m = pv_errstr(code);
    size_t n = strlen(m) < PV_MSG_SIZE - 1 ? strlen(m) : PV_MSG_SIZE - 1;
    memcpy(e->msg, m, n);
    e->msg[n] = '\0';
    return code;
  }
  va_list ap;
  va_start(ap, fmt);
  pv__vfmt(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  return code;
}

void pv__error_at(const pv_index *idx, int64_t item, int64_t element) {
  err_slot *e = slot_for_write(idx);
  e->info.item = item;
  e->info.element = element;
}

void pv__error_offset(const pv_index *idx, int64_t offset) {
  slot_for_write(idx)->info.offset = offset;
}

void pv__error_need(const pv_index *idx, uint64_t need) { slot_for_write(idx)->info.need = need; }

void pv__error_forget(const pv_index *idx) {
  err_slot *e = find(idx->serial);
  if (e) e->serial = 0;
}

const char *pv_errmsg(const pv_index *idx) {
  const err_slot *e = slot_for_read(idx);
  return e && e->info.code != PV_OK ? e->msg : "not an error";
}

int pv_errcode(const pv_index *idx) {
  const err_slot *e = slot_for_read(idx);
  return e ? e->info.code : PV_OK;
}

int pv_errinfo(const pv_index *idx, pv_error_info *out) {
  const err_slot *e = slot_for_read(idx);
  if (out) {
    if (e) {
      *out = e->info;
    } else {
      out->code = PV_OK;
      out->item = out->element = out->offset = -1;
      out->need = 0;
    }
  }
  return e ? e->info.code : PV_OK;
}
