/* SPDX-License-Identifier: MIT */
/*
 * Running a query: the searches of the public API, with or without a
 * filter. Unfiltered, a graph walk (or brute force when the beam would
 * cover the index). Filtered, a planner picks between brute force over
 * the matching documents, a walk that goes through documents the filter
 * refuses, and a plain walk, by how many documents match.
 */
#ifndef PV_PLAN_H
#define PV_PLAN_H

#include "core/core.h"

/* pv_search (exact 0) and pv_search_exact (exact 1), with filter f (NULL:
 * none): arguments checked, status set. */
int pv__search(pv_index *idx, const float *q, size_t k, size_t ef, const pv_filter *f, int exact,
               pv_hit *out, size_t *n_out);

/* 1 if the document in slot s matches f (NULL matches everything). */
int pv__matches(const pv_index *idx, const pv_filter *f, uint32_t s);

/* pv_find: the live documents matching f (NULL: all), ascending ids, the
 * first cap into out, their number into *count. Cannot fail: without
 * memory for a bitmap it reads every document. */
int pv__find(pv_index *idx, const pv_filter *f, uint32_t *out, size_t cap, size_t *count);

#endif /* PV_PLAN_H */
