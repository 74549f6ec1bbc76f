/* SPDX-License-Identifier: MIT */
/*
 * The file format (docs/FORMAT.md): its constants, the section registry
 * every module contributes to, and the walker that produces a file's bytes.
 *
 * Layout: a 128-byte header, then the sections (each at a multiple of 64
 * bytes, zero padding between them), then the section table with one
 * checksum per section and one of the table. The table comes last so that
 * a writer can stream: the header only needs sizes, known up front, and
 * each section's checksum is computed while its bytes go out.
 *
 * Version 2 lets the format grow: each table entry says whether its
 * section is required. A reader skips an optional section it does not know
 * (after checking its bytes like any other) and refuses, with PV_VERSION,
 * a required one it does not know. Version 1 files still load.
 */
#ifndef PV_FORMAT_H
#define PV_FORMAT_H

#include "core/core.h"
#include "kernels/kernels.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "the file format code writes arrays as they are in memory: it needs a little-endian host"
#endif

/* "\x89PVEC\r\n\x1a": catches text-mode transfers. */
static const uint8_t PV_MAGIC[8] = {0x89, 'P', 'V', 'E', 'C', '\r', '\n', 0x1a};
/* "\x89PVLOG\r\n": a change log record after a file (persist/log.c). */
static const uint8_t PV_LOG_MAGIC[8] = {0x89, 'P', 'V', 'L', 'O', 'G', '\r', '\n'};
/* Return PV_CORRUPT with a message for the no-index status (loads). */
#define PV_CORRUPT_(...) return pv__error(NULL, PV_CORRUPT, __VA_ARGS__)

#define PV_HEADER_SIZE 128u
#define PV_ENTRY_SIZE 32u
#define PV_ALIGN 64u
#define PV_SEC_REQUIRED 1u /* table entry flag: a reader must know this section */
#define PV_MAX_SECTIONS 64u /* table entries a reader accepts */

/* Section kinds. Numbers are forever: a new section takes a new number. */
enum {
  PV_SEC_CODES = 1,  /* the vectors' codes, slot after slot */
  PV_SEC_LINKS0 = 2, /* layer-0 link lists */
  PV_SEC_UPPER = 3,  /* upper link lists of the slots above layer 0 */
  PV_SEC_PARAMS = 4, /* the codec's per-vector parameters (v1: "sq8 parameters") */
  PV_SEC_IDS = 5,
  PV_SEC_LEVELS = 6,
  PV_SEC_DELETED = 7, /* the slots of tombstones */
  PV_SEC_DOCS = 8,    /* keys and attributes (doc/doc.h): only when some slot has them */
  PV_SEC_TEXT = 9,    /* the text index (text/save.c): only when there is one */
  PV_SEC_TWINS = 10,  /* the rings of exact copies (graph.h): only when there are some */
  PV_SEC_CENTRE = 11, /* the centre of binary codes (codec/binary.c): binary storage only */
  PV_SEC_WALK = 12,   /* the walk parts of binary codes, a column: binary storage only */
  PV_SEC_KINDS        /* one past the largest kind this version knows */
};

/* What a file says of one section. */
typedef struct pv_section {
  uint32_t kind, flags;
  uint64_t off, len;
  uint32_t sum;
} pv_section;

/* A file's header and table, as planned (writer) or parsed (reader). */
typedef struct pv_layout {
  uint32_t version;
  pv_options opt;
  uint32_t n, live, next_id, entry;
  int32_t max_level;
  uint64_t rng, table_off, file_size;
  uint32_t count;
  pv_section sec[PV_SEC_KINDS]; /* known kinds, by kind; kind 0: absent */
} pv_layout;

/* The walker produces a file's bytes in order, piece by piece: the
 * streaming writer, the checksum pass of an export and the range reads of
 * an export all use it, so the three can never disagree on a byte. */
typedef struct pv_walker pv_walker;
struct pv_walker {
  const pv_index *idx;
  const pv_layout *L;
  pv_sum state[PV_SEC_KINDS]; /* checksum state per section, while computing */
  uint32_t sum[PV_SEC_KINDS]; /* final checksums per section */
  int compute;                /* compute the section checksums while walking */
  uint64_t pos;               /* file offset of the next byte */
  uint64_t stop;              /* the walk may end once pos reaches this */
  int (*visit)(pv_walker *w, const void *p, size_t n); /* nonzero stops */
  void *ctx;
  int stopped;
};
/* Hand n bytes of section `kind` (0: header, padding, table) to the walk. */
void pv__emit(pv_walker *w, const void *p, size_t n, uint32_t kind);

/* The section registry (sections.c): what each known section holds. */
typedef struct pv_secdef {
  uint32_t kind;
  const char *name;
  int col; /* a column of the store saved raw (its bytes, slot order), or -1 */
  /* Written for this index? Length in bytes, and its bytes into the walk.
   * len and walk are NULL for a raw column, which is present when its
   * element size is not 0 and present(), if given, says so. */
  int (*present)(const pv_index *idx);
  uint64_t (*len)(const pv_index *idx);
  void (*walk)(pv_walker *w, const pv_index *idx);
  /* Load the section's bytes (checked against its checksum, len as the
   * file says) into idx, whose columns hold n slots already. The length
   * must be checked here. PV_OK or PV_CORRUPT/PV_NOMEM with the message set
   * for NULL. NULL for a raw column and for the block items. */
  int (*load)(pv_index *idx, const pv_layout *L, const uint8_t *p, uint64_t len);
  /* 1 if a file may lack the section (present() says when it is written). */
  int may_be_absent;
  /* 1 if it is written optional: a reader that does not know it may skip
   * it and still answer correctly (FORMAT.md, "How the format grows"). */
  int optional;
} pv_secdef;
extern const pv_secdef pv_sections[];
extern const uint32_t pv_nsections;
const pv_secdef *pv__secdef(uint32_t kind);

/* The centre section of binary codes (codec/binary.c). */
int pv__centre_present(const pv_index *idx);
uint64_t pv__centre_len(const pv_index *idx);
void pv__centre_walk(pv_walker *w, const pv_index *idx);
int pv__centre_load(pv_index *idx, const pv_layout *L, const uint8_t *p, uint64_t len);
int pv__walk_load(pv_index *idx, const pv_layout *L, const uint8_t *p, uint64_t len);

/* Little-endian fixed-width fields. */
static inline void pv__put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void pv__put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t pv__get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t pv__get64(const uint8_t *p) {
  return pv__get32(p) | (uint64_t)pv__get32(p + 4) << 32;
}

/* The checksum of a file's bytes, by its format version: CRC-32C for
 * version 1 (crc open), the version-2 checksum of core/checksum.c after. */
typedef struct pv_checker {
  uint32_t version;
  pv_crc crc;
  const pv_kernels *k;
} pv_checker;
static inline uint32_t pv__checksum(const pv_checker *c, const void *p, size_t n) {
  return c->version == 1 ? ~pv__crc_update(&c->crc, 0xffffffffu, p, n) : pv__sum_of(c->k, p, n);
}
/* Ready c for files of `version` (tables on the heap only for version 1).
 * PV_OK/PV_NOMEM. Close with pv__checker_close. */
int pv__checker_open(pv_checker *c, uint32_t version, const pv_allocator *alloc);
void pv__checker_close(pv_checker *c);

#endif /* PV_FORMAT_H */
