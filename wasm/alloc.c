/* SPDX-License-Identifier: MIT */
/*
 * malloc, free, realloc and calloc for the WebAssembly build, in place of
 * wasi-libc's dlmalloc (about 12 KB of code, a third of the module), and
 * a smaller strlen (at the end). Linked into the WASM module only; native
 * builds keep their libc's allocator.
 *
 * Design: boundary tags, immediate coalescing, segregated free lists with
 * best fit, and linear memory grown on demand.
 *
 *   Chunks. The heap is one run of chunks from __heap_base to the end of
 *   linear memory. A chunk is a 4-byte header (its size, a multiple of 16,
 *   plus the INUSE and PINUSE bits) and the payload; chunks start at 12 mod
 *   16, so payloads are 16-byte aligned. A free chunk also holds its list
 *   links after the header and a copy of its size in its last word (the
 *   footer), so the chunk after it can find its start; PINUSE ("the chunk
 *   before me is in use") says whether that footer is there. Overhead is
 *   4 bytes per allocation (plus rounding to 16); the smallest chunk is 16.
 *
 *   The top. The last 4 bytes of memory hold a sentinel: an in-use header
 *   of size 0, so nothing coalesces past the end. Growing memory turns the
 *   sentinel's place and the new pages into a free chunk (merged with a free
 *   chunk before it) and puts a new sentinel at the new end: a free chunk at
 *   the top is extended, never stranded, and a realloc'd block at the top
 *   grows in place. Only this file grows memory (memory.grow, counted in
 *   unsigned pages, so one allocation may take more than 2 GiB); growth is
 *   by an eighth of memory at least, at most 64 MiB over the request
 *   (grow() says why), exact near the limit, and failure gives NULL.
 *   Memory never shrinks: wasm cannot give pages back.
 *
 *   Free lists. A free chunk never has a free neighbour (free merges both
 *   ways at once), so fragmentation only comes from in-use chunks. Chunks
 *   up to 512 bytes have one exact list per size (16, 32, ... 512): the
 *   per-node link lists and small arrays, found and reused in O(1). Larger
 *   chunks have one list per power of two. A 64-bit map marks the lists that may be
 *   non-empty. malloc takes the best fit: the smallest chunk that fits in
 *   the first list that has one (lists are in size order, so that is the
 *   smallest in the heap), stopping early at an exact fit. Best fit keeps
 *   fragmentation low for this workload (Wilson et al., "Dynamic Storage
 *   Allocation: A Survey", 1995): the index's many equal ~1 MiB blocks
 *   refill each other's holes exactly, geometric reallocs leave holes that
 *   later, larger requests do not chop up, and the top chunk, being large,
 *   is cut only when nothing else fits. The price is a scan of one list,
 *   O(chunks in a class); the index allocates rarely, so that is enough.
 *
 *   Rejected: dlmalloc's trees and mmap paths (the code size we are here to
 *   save); a bump allocator or power-of-two buddy (unbounded fragmentation
 *   or up to 2x waste on 1 MiB blocks); first fit over one list (slow with
 *   many small chunks, and cuts big holes for small requests).
 *
 * Addresses are 32-bit; every size computation is unsigned and checked
 * against the 4 GiB ceiling before it could wrap. Single-threaded, like the
 * module. Built with -fno-builtin (wasm/wasm.mk), so the compiler does not
 * turn calloc's malloc + memset back into a call to calloc.
 */
#include <stddef.h>
#include <stdint.h>

typedef struct chunk chunk;
struct chunk {
  size_t head;   /* size | INUSE | PINUSE */
  chunk *next;   /* free chunks only: the next in its list */
  chunk **pprev; /* free chunks only: the pointer that points to this one */
};

enum { INUSE = 1, PINUSE = 2, HDR = 4, MIN = 16, NBINS = 55 };

/* Larger requests could never be met (the heap starts past 64 KiB) and
 * would wrap when rounded up: refused at once. */
#define MAX_REQUEST ((size_t)0xffff0000u)

#define AT(c, off) ((chunk *)((char *)(c) + (off)))
#define SIZE(c) ((c)->head & ~(size_t)15)
#define FOOT(c, s) (((size_t *)AT(c, s))[-1]) /* last word of c, of size s */

extern char __heap_base[]; /* from wasm-ld: the first byte after the stack */

static chunk *bins[NBINS];
static uint64_t map; /* bit b set: bins[b] may be non-empty (cleared lazily) */
static chunk *top;   /* the sentinel, at the end of memory; NULL before the first malloc */

/* 16..512 by 16 go to lists 0..31; then one list per power of two. */
static unsigned bin(size_t s) {
  return s <= 512 ? (unsigned)(s >> 4) - 1 : 54 - (unsigned)__builtin_clz(s);
}

static void unlink_chunk(chunk *c) {
  *c->pprev = c->next;
  if (c->next) c->next->pprev = c->pprev;
}

/* Free the s bytes at c, merging with free neighbours, and list the result.
 * c's header must have its PINUSE bit right; the rest of it is ignored. */
static void release(chunk *c, size_t s) {
  if (!(c->head & PINUSE)) {
    size_t ps = ((size_t *)c)[-1];
    c = AT(c, -ps);
    s += ps;
    unlink_chunk(c);
  }
  chunk *n = AT(c, s);
  if (!(n->head & INUSE)) {
    unlink_chunk(n);
    s += SIZE(n);
  }
  c->head = s | PINUSE; /* the chunk before a free chunk is in use */
  FOOT(c, s) = s;
  AT(c, s)->head &= ~(size_t)PINUSE;
  unsigned b = bin(s);
  c->next = bins[b];
  c->pprev = &bins[b];
  if (c->next) c->next->pprev = &c->next;
  bins[b] = c;
  map |= (uint64_t)1 << b;
}

/* Mark c in use with s of its have bytes, freeing the rest if that is a
 * chunk's worth. Returns the payload. */
static void *use(chunk *c, size_t have, size_t s) {
  size_t pin = c->head & PINUSE;
  if (have - s < MIN) s = have;
  c->head = s | pin | INUSE;
  AT(c, s)->head |= PINUSE;
  if (s < have) release(AT(c, s), have - s);
  return AT(c, HDR);
}

/* The best-fitting free chunk of at least s bytes, unlisted; or NULL. */
static chunk *find(size_t s) {
  for (uint64_t m = map & (~(uint64_t)0 << bin(s)); m; m &= m - 1) {
    unsigned b = (unsigned)__builtin_ctzll(m);
    chunk *best = NULL;
    for (chunk *c = bins[b]; c; c = c->next) {
      if (SIZE(c) >= s && (!best || SIZE(c) < SIZE(best))) best = c;
      if (SIZE(c) == s) break;
    }
    if (best) {
      unlink_chunk(best);
      return best;
    }
    if (!bins[b]) map &= ~((uint64_t)1 << b);
  }
  return NULL;
}

/* Hand memory from the sentinel up to end (a page boundary; 0 means 4 GiB)
 * to the heap, and put the sentinel at its end. */
static void add(size_t end) {
  chunk *c = top;
  top = (chunk *)(end - HDR);
  top->head = INUSE;
  release(c, (size_t)((char *)top - (char *)c));
}

/* Grow memory by at least need bytes (> 0). Returns 0 if it cannot.
 * Each memory.grow costs far more than its pages (measured in Node 20:
 * about 0.7 ms a call below 2 GiB, 6 ms above), and an index grows by one
 * 1 MiB block at a time, so growing by exactly what is asked made a 3 GiB
 * index spend seconds in memory.grow alone. So grow by an eighth of the
 * memory at least (at most 64 MiB more than asked): a few dozen calls
 * instead of thousands. Pages grown and not used are never touched, so
 * they cost address space, not memory; near the 4 GiB limit, where the
 * larger step fails, the exact one is tried. */
static int grow(size_t need) {
  size_t pages = (need >> 16) + ((need & 0xffff) != 0);
  size_t have = __builtin_wasm_memory_size(0), more = have / 8;
  if (more > 1024) more = 1024; /* 64 MiB */
  size_t old = more > pages ? __builtin_wasm_memory_grow(0, more) : (size_t)-1;
  if (old != (size_t)-1) pages = more;
  else old = __builtin_wasm_memory_grow(0, pages);
  if (old == (size_t)-1) return 0;
  add((old + pages) << 16);
  return 1;
}

/* Bytes of the free chunk just below the sentinel, 0 if none. */
static size_t top_free(void) {
  return top->head & PINUSE ? 0 : ((size_t *)top)[-1];
}

/* Chunk size for a request of n bytes (n <= MAX_REQUEST): header, rounded. */
static size_t chunk_size(size_t n) {
  return (n + HDR + 15) & ~(size_t)15;
}

void *malloc(size_t n) {
  if (n > MAX_REQUEST) return NULL;
  if (!top) {
    /* The first chunk: at 12 mod 16, right after the stack; the memory
     * up to the end of the initial pages is free. */
    top = (chunk *)((((uintptr_t)__heap_base + HDR + 15) & ~(uintptr_t)15) - HDR);
    top->head = INUSE | PINUSE;
    size_t end = __builtin_wasm_memory_size(0) << 16;
    if (end - (uintptr_t)top >= HDR + MIN) add(end);
  }
  size_t s = chunk_size(n);
  chunk *c;
  while (!(c = find(s)))
    if (!grow(s - top_free())) return NULL;
  return use(c, SIZE(c), s);
}

void free(void *p) {
  if (p) {
    chunk *c = AT(p, -HDR);
    release(c, SIZE(c));
  }
}

/* In place when the chunk, with the free chunk after it if any, is big
 * enough, or reaches the top of memory and memory can grow; otherwise
 * malloc, copy, free. Shrinking frees the tail. On failure p is untouched. */
void *realloc(void *p, size_t n) {
  if (!p) return malloc(n);
  if (n > MAX_REQUEST) return NULL;
  chunk *c = AT(p, -HDR), *next;
  size_t s = chunk_size(n), have = SIZE(c), room;
  for (;;) {
    next = AT(c, have);
    room = have + (next->head & INUSE ? 0 : SIZE(next));
    if (room >= s || AT(c, room) != top || !grow(s - room)) break;
  }
  if (room >= s) {
    if (room > have) unlink_chunk(next);
    return use(c, room, s);
  }
  void *q = malloc(n);
  if (q) {
    __builtin_memcpy(q, p, have - HDR);
    free(p);
  }
  return q;
}

void *calloc(size_t n, size_t size) {
  size_t bytes;
  if (__builtin_mul_overflow(n, size, &bytes)) return NULL;
  void *p = malloc(bytes);
  if (p) __builtin_memset(p, 0, bytes);
  return p;
}

/* ---- small libc functions ------------------------------------------------ */

/* The bytes of s before its NUL. A byte loop, in place of wasi-libc's,
 * which reads a word at a time: three times the code, for strings (option
 * names, keywords, messages) that are a few dozen bytes at most. */
size_t strlen(const char *s) {
  const char *p = s;
  while (*p) p++;
  return (size_t)(p - s);
}

/* For the tests (exported by build-wasm/alloc_test.wasm only): walks the
 * heap and the lists and returns the number of the first broken rule, or
 * 0 if all hold. Free bytes (payload + header) go to *free_bytes. */
int pv__alloc_check(size_t *free_bytes) {
  size_t nfree = 0, listed = 0, bytes = 0;
  if (!top) return 0;
  chunk *c = (chunk *)((((uintptr_t)__heap_base + HDR + 15) & ~(uintptr_t)15) - HDR);
  int prev_in_use = 1;
  for (; c != top; c = AT(c, SIZE(c))) {
    size_t s = SIZE(c);
    if (s < MIN || (uintptr_t)AT(c, HDR) % 16) return 1;
    if (!(c->head & PINUSE) != !prev_in_use) return 2;
    if ((char *)AT(c, s) > (char *)top) return 3;
    prev_in_use = c->head & INUSE;
    if (!prev_in_use) {
      if (!(c->head & PINUSE)) return 4; /* two free chunks in a row */
      if (FOOT(c, s) != s) return 5;
      nfree++;
      bytes += s;
    }
  }
  if (!(top->head & INUSE) || !(top->head & PINUSE) != !prev_in_use) return 6;
  for (unsigned b = 0; b < NBINS; b++)
    for (chunk *f = bins[b], **pp = &bins[b]; f; pp = &f->next, f = f->next) {
      if (f->head & INUSE || bin(SIZE(f)) != b || f->pprev != pp) return 7;
      if (!(map >> b & 1)) return 8;
      listed++;
    }
  if (listed != nfree) return 9;
  *free_bytes = bytes;
  return 0;
}
