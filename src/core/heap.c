/* SPDX-License-Identifier: MIT */
/*
 * The one copy of the heap functions (heap.h) when PV_HEAP_OUTLINE asks for
 * them out of line (the WebAssembly build, for size). Elsewhere they are
 * static inline in heap.h, and this file defines nothing.
 */
#ifdef PV_HEAP_OUTLINE
#define PV_HEAP_DEFINE
#include "core/heap.h"
#else
typedef int pv__heap_inline; /* ISO C wants something in every file */
#endif
