/* SPDX-License-Identifier: MIT */
/*
 * Memory: every allocation of an index goes through the allocator it was
 * created with and is counted, so pv_memory_usage is exact. The count is
 * updated atomically because concurrent searches may each grow their own
 * scratch (see query/context.c); everything else allocates only in writes,
 * which run alone.
 */
#include <stdlib.h>

#include "index.h"

static void *libc_malloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void *libc_realloc(void *ctx, void *p, size_t n) { (void)ctx; return realloc(p, n); }
static void libc_free(void *ctx, void *p) { (void)ctx; free(p); }

static const pv_allocator libc_allocator = {libc_malloc, libc_realloc, libc_free, NULL};
static pv_allocator default_allocator = {libc_malloc, libc_realloc, libc_free, NULL};

void pv_set_allocator(const pv_allocator *a) {
  /* An allocator missing a function would be called through NULL later:
   * libc's serves instead (pocketvec.h says so). */
  default_allocator = a && a->malloc && a->realloc && a->free ? *a : libc_allocator;
}

pv_allocator pv__default_allocator(void) { return default_allocator; }

static void count(pv_index *idx, size_t add, size_t sub) {
  if (add) __atomic_fetch_add(&idx->mem, add, __ATOMIC_RELAXED);
  if (sub) __atomic_fetch_sub(&idx->mem, sub, __ATOMIC_RELAXED);
}

void *pv__malloc(pv_index *idx, size_t size) {
  if (size == 0) size = 1;
  void *p = idx->alloc.malloc(idx->alloc.ctx, size);
  if (p) count(idx, size, 0);
  return p;
}

void *pv__realloc(pv_index *idx, void *p, size_t old_size, size_t new_size) {
  if (!p) return pv__malloc(idx, new_size);
  if (new_size == 0) new_size = 1;
  void *q = idx->alloc.realloc(idx->alloc.ctx, p, new_size);
  if (q) count(idx, new_size, old_size ? old_size : 1);
  return q;
}

void pv__free(pv_index *idx, void *p, size_t size) {
  if (!p) return;
  idx->alloc.free(idx->alloc.ctx, p);
  count(idx, 0, size ? size : 1);
}

size_t pv_memory_usage(const pv_index *idx) {
  return idx ? __atomic_load_n(&idx->mem, __ATOMIC_RELAXED) : 0;
}
