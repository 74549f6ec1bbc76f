/* SPDX-License-Identifier: MIT */
/*
 * The change log: incremental saves (docs/FORMAT.md, "The change log").
 *
 * A saved index is a base (a whole file) followed by log records, each the
 * changes of one incremental save: the calls that changed the index
 * (pv_add_batch, pv_upsert_batch, pv_delete, pv_set_attributes,
 * pv_compact) with their arguments, in order. A load reads the base, then
 * makes the same calls again: the index is deterministic (levels come from
 * the saved generator state, distances are bit-identical on every host),
 * so it ends up identical to the one that was saved, byte for byte.
 *
 * Rejected: logging pages or rows of the file. A change to one document
 * touches the link lists of dozens of others, the postings of every term
 * of its text, and shifts every variable-length section after it; a page
 * log grew to several per cent of the index per document, and needed a
 * pass over the whole index at each save to find what changed. A log of
 * calls is a few hundred bytes per document and costs nothing to find;
 * what it costs is the time to make the calls again at load, which the
 * hosts bound by writing a whole file (a checkpoint) when the log's cost
 * nears a share of the load's.
 *
 * Here: the journal (the calls since the last save, recorded as they
 * succeed), records built from it, and the parser and replay of a load.
 */
#ifndef PV_LOG_H
#define PV_LOG_H

#include "core/core.h"

typedef struct pv_journal {
  uint8_t *p;      /* the recorded calls not yet in a stored record */
  size_t len, cap;
  uint64_t at;     /* absolute position of p[0]: marks stay valid as calls are dropped */
  uint32_t ops;    /* calls in p */
  int on;          /* recording */
  int depth;       /* > 0 inside a replay: nothing is recorded */
  uint64_t tag;    /* the base the stored log belongs to (0: none known) */
  uint64_t seq;    /* the sequence number of the next record */
  uint64_t end;    /* bytes of base and valid records: where the next one goes */
  uint64_t cost;   /* sum of the stored records' costs (microseconds) */
  uint64_t records; /* stored records after the base */
} pv_journal;

/* Record kinds of calls. Numbers are forever. */
enum { PV_OP_ADD = 1, PV_OP_UPSERT = 2, PV_OP_DELETE = 3, PV_OP_SET_ATTR = 4, PV_OP_COMPACT = 5 };

/* Called by each changing call once it has succeeded: append it to the
 * journal if recording (a failure to grow stops the recording, which makes
 * the next save a whole one: nothing is lost). */
struct pv_doc;
void pv__log_add(pv_index *idx, const float *v, size_t n);
void pv__log_upsert(pv_index *idx, const struct pv_doc *docs, const uint32_t *pick, size_t npick,
                    uint32_t first);
void pv__log_delete(pv_index *idx, uint32_t id);
void pv__log_set_attr(pv_index *idx, uint32_t id);
void pv__log_compact(pv_index *idx);
void pv__log_free(pv_index *idx);
/* A change whose effect depended on memory (a best-effort step skipped
 * when an allocation failed) could not be replayed identically: stop
 * recording, so the next save is whole. */
void pv__log_stop(pv_index *idx);

/* The tag of a base, from its header's checksum (bytes 124..127) and its
 * table's checksum (after the table): the loader's and pv_export_tag's. */
uint64_t pv__base_tag(uint32_t header_sum, uint32_t table_sum);

/* After the base of a load (buf[0 .. base), already loaded into idx), the
 * records in buf[base .. len): check them, replay the valid ones. A record
 * cut short or failing its checksum ends the log (an interrupted save: it
 * and what follows are ignored). PV_OK, or PV_CORRUPT/PV_NOMEM (message
 * set for NULL) when a valid record's call fails. */
int pv__log_replay(pv_index *idx, const uint8_t *buf, uint64_t base, uint64_t len);

#endif /* PV_LOG_H */
