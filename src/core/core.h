/* SPDX-License-Identifier: MIT */
/*
 * The core services every module uses: memory (an index's own allocator,
 * with exact accounting), errors (a code, a message and a structured detail,
 * kept per thread), the message formatter, the (distance, slot) heap, the
 * random generator, the checksums and sparse id sets (idset.h). Nothing
 * here knows the graph or the vectors.
 */
#ifndef PV_CORE_H
#define PV_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "pocketvec.h"

#define PV_NONE UINT32_MAX /* no slot / no id */
#define PV_MSG_SIZE 200

/* Thread-local storage wherever threads can exist. A WebAssembly module
 * built without the atomics feature has one thread and no TLS; a C11
 * toolchain without threads may lack _Thread_local. */
#if (defined(__wasm__) && !defined(__wasm_atomics__)) || defined(__STDC_NO_THREADS__)
#define PV_THREAD_LOCAL
#else
#define PV_THREAD_LOCAL _Thread_local
#endif

/* For the few small functions a search calls per scored node (a code's
 * address, a link list's, the prefetch, the result test, the F32
 * distance). The WebAssembly build is made for size (-Oz), which left them
 * as calls: inlined, a search over 50k x 100 is 13 % faster in SQ8 and 5 %
 * in F32, for 0.3 KB of module. Native builds (-O2/-O3) are left to the
 * compiler: forced there, gcc's search ran 8-13 % more instructions (the
 * callgrind gate). */
#if defined(__wasm__)
#define PV_HOT static inline __attribute__((always_inline))
#else
#define PV_HOT static inline
#endif

/* ---- memory (alloc.c) ---------------------------------------------------- */
/* Every allocation of an index goes through its own allocator and is
 * counted in idx->mem, atomically: searches on several threads may grow
 * their own scratch at the same time. Sizes are those of the request, so
 * pv_memory_usage is exact whatever the allocator rounds to. */
void *pv__malloc(pv_index *idx, size_t size);
void *pv__realloc(pv_index *idx, void *p, size_t old_size, size_t new_size);
void pv__free(pv_index *idx, void *p, size_t size);
/* The allocator pv_new uses when its options name none (libc's by default). */
pv_allocator pv__default_allocator(void);

/* ---- errors (error.c) ---------------------------------------------------- */
/* Set the status of the calling thread's last call on idx (NULL: calls with
 * no index, pv_new and pv_load) and return code. PV_OK clears the message
 * and the detail; fmt NULL uses pv_errstr(code). */
int pv__error(const pv_index *idx, int code, const char *fmt, ...);
/* pv__error for an argument that the API requires and got as NULL: the
 * message (fmt and its arguments) names it. The WebAssembly build defines
 * PV_TERSE_NULL (wasm/wasm.mk): its one caller, the JS package, never
 * passes NULL to these, so there every site says "a required argument is
 * NULL", one string in the module instead of one per site; the check and
 * the code it returns are the same. */
#ifdef PV_TERSE_NULL
#define pv__error_null(idx, code, ...) pv__error(idx, code, "a required argument is NULL")
#else
#define pv__error_null(idx, code, ...) pv__error(idx, code, __VA_ARGS__)
#endif
/* Attach a detail to the status just set for idx (see pv_errinfo): which
 * item of a batch and which element of it; -1 where it does not apply. */
void pv__error_at(const pv_index *idx, int64_t item, int64_t element);
/* The byte offset in a parsed text (filters, JSON) of the status just set. */
void pv__error_offset(const pv_index *idx, int64_t offset);
/* The same for the needed size of a PV_RANGE. */
void pv__error_need(const pv_index *idx, uint64_t need);
/* Forget the calling thread's status of idx (pv_free). */
void pv__error_forget(const pv_index *idx);
/* A serial number that no other index of this process ever gets. */
uint64_t pv__next_serial(void);

/* A small vsnprintf for messages: %s %d %u %zu %%. Keeps libc's printf (and
 * its float formatting) out of the WebAssembly build. */
void pv__vfmt(char *buf, size_t size, const char *fmt, va_list ap);
void pv__fmt(char *buf, size_t size, const char *fmt, ...);

/* ---- (distance, slot) pairs --------------------------------------------------- */
/* Heaps and sorts order by distance, then slot; slot order is id order, so
 * equal distances come out by ascending id, on every platform. */
typedef struct pv_pair {
  float d;
  uint32_t s;
} pv_pair;

static inline int pv__less(pv_pair a, pv_pair b) {
  return a.d < b.d || (a.d == b.d && a.s < b.s);
}
/* The heaps themselves are in core/heap.h. */

/* ---- random numbers ----------------------------------------------------- */
/* splitmix64: tiny, fast, and the same on every platform. */
static inline uint64_t pv__next_u64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* ---- checksums (checksum.c) ---------------------------------------------- */
/* CRC-32C of n bytes continued from state (start from 0xffffffff, finish
 * with ~state): the checksum of format version 1. Uses the CPU's
 * instruction when the kernel set has one, else tables of 16 KB that it
 * allocates with alloc for the call (PV_NOMEM if that fails); never on the
 * stack, which is 64 KB in WebAssembly. */
typedef struct pv_crc {
  uint32_t (*hw)(uint32_t state, const uint8_t *p, size_t n);
  uint32_t (*t)[256]; /* [16][256] when hw is NULL */
  pv_allocator alloc;
} pv_crc;
int pv__crc_open(pv_crc *c, const pv_allocator *alloc, int use_hw);
uint32_t pv__crc_update(const pv_crc *c, uint32_t state, const void *data, size_t n);
void pv__crc_close(pv_crc *c);
/* CRC-32C a bit at a time, no tables: the header's checksum in every
 * format version (124 bytes), so any reader can check a header it can
 * then call newer. */
uint32_t pv__crc32c_bitwise(const void *data, size_t n);
/* CRC-32C by the tables alone (for the tests; 0 and PV_NOMEM as above). */
int pv__crc32c_tables(uint32_t state, const void *data, size_t n, uint32_t *out);

/* Format version 2's checksum (its definition is in checksum.c): a
 * streaming state, fed any pieces, finished once. */
struct pv_kernels;
typedef struct pv_sum {
  uint32_t lane[16];
  uint8_t buf[64]; /* a partial stripe */
  uint32_t nbuf;
  uint64_t total;  /* bytes fed */
  const struct pv_kernels *k;
} pv_sum;
void pv__sum_init(pv_sum *s, const struct pv_kernels *k);
void pv__sum_update(pv_sum *s, const void *data, size_t n);
uint32_t pv__sum_final(const pv_sum *s);
uint32_t pv__sum_of(const struct pv_kernels *k, const void *data, size_t n);

#endif /* PV_CORE_H */
