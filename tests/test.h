/* SPDX-License-Identifier: MIT */
/*
 * A tiny test framework for pocketvec, plus the helpers the test files share.
 *
 * Every .c file in tests/ is linked into one binary, build/test_pocketvec. A test is
 * a `void test_NAME(void)` listed once in PV_TEST_LIST below; main.c runs
 * them in that order (or those whose name contains an argv word), prints
 * "ok   NAME" or "FAIL NAME" for each, and ends with the line
 * "N passed, N failed" (CI parses it). The exit code is 1 if any failed.
 *
 * Checks:
 *   CHECK(cond), CHECK_MSG(cond, fmt, ...)   record a failure and go on
 *   CHECK_EQ_INT(a, b), CHECK_NEAR(a, b, tol), CHECK_RC(call, code),
 *   CHECK_OK(call), CHECK_STR_HAS(haystack, needle)
 *   REQUIRE(cond), REQUIRE_OK(call), REQUIRE_MSG(cond, fmt, ...)
 *                                            record a failure and return
 *                                            from the (void) test function
 * A failure prints "  file:line: what" before the FAIL line; a test prints
 * at most TU_MAX_MESSAGES of them so a broken loop does not flood the log.
 *
 * Set PV_TEST_TIMES=1 in the environment to get each test's CPU time on
 * stderr.
 */
#ifndef PV_TEST_H
#define PV_TEST_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pocketvec.h"

/* ------------------------------------------------------------------------ */
/* The list of tests, in running order                                      */
/* ------------------------------------------------------------------------ */
#define PV_TEST_LIST(X)                 \
  /* test_kernels.c */                  \
  X(kernels_available)                  \
  X(kernels_dot_f32)                    \
  X(kernels_l2_f32)                     \
  X(kernels_dot_u8_exact)               \
  X(kernels_dot_u8_no_overflow)         \
  X(kernels_dot_u8_4)                   \
  X(kernels_bits_dot4)                  \
  X(kernels_agree_with_each_other)      \
  X(kernels_bit_identical)              \
  X(kernels_crc32c)                     \
  X(kernels_sum_lanes)                  \
  /* test_api.c */                      \
  X(api_version_and_errstr)             \
  X(api_options_default)                \
  X(api_get_options_roundtrip)          \
  X(api_free_null)                      \
  X(api_distance_definitions)           \
  X(api_basics_cosine_f32)              \
  X(api_basics_l2_f32)                  \
  X(api_basics_dot_f32)                 \
  X(api_basics_cosine_sq8)              \
  X(api_basics_l2_sq8)                  \
  X(api_basics_dot_sq8)                 \
  X(api_basics_cosine_binary)           \
  X(api_basics_l2_binary)               \
  X(api_basics_dot_binary)              \
  X(api_basics_cosine_binary_f32)       \
  X(api_basics_l2_binary_f32)           \
  X(binary_cosine)                      \
  X(binary_l2_f32)                      \
  X(binary_dot)                         \
  X(binary_skewed)                      \
  X(binary_centre)                      \
  X(binary_damaged)                     \
  X(api_ties_sorted_by_id)              \
  X(api_list_ids_and_contains)          \
  X(api_memory_usage_grows)             \
  X(api_allocator_per_index)           \
  X(api_errinfo)                        \
  /* test_edge.c */                     \
  X(edge_empty_index)                   \
  X(edge_single_vector)                 \
  X(edge_k_zero)                        \
  X(edge_k_above_count)                 \
  X(edge_all_deleted)                   \
  X(edge_ef_below_k_is_raised)          \
  X(edge_ef_zero_uses_default)          \
  X(edge_ef_max)                        \
  X(edge_dim_4096)                      \
  X(edge_dim_max_sq8)                   \
  X(edge_duplicates)                    \
  X(edge_insert_delete_churn)           \
  X(edge_readd_after_deleting_all)      \
  X(edge_many_searches)                 \
  X(edge_no_overflow)                   \
  X(edge_duplicates_return_k)           \
  X(edge_duplicates_saved)             \
  X(edge_duplicates_every_metric)       \
  /* test_errors.c */                   \
  X(errors_nan_inf_in_add)              \
  X(errors_nan_inf_in_batch)            \
  X(errors_bad_query)                   \
  X(errors_zero_vector_cosine)          \
  X(errors_zero_vector_l2_dot)          \
  X(errors_check_dim)                   \
  X(errors_new_bad_options)             \
  X(errors_new_limits_accepted)         \
  X(errors_notfound)                    \
  X(errors_message_resets)              \
  X(errors_search_ef_too_large)         \
  /* test_delete.c */                   \
  X(delete_never_in_results)            \
  X(delete_compact_keeps_ids)           \
  X(delete_compact_reclaims_memory)     \
  X(delete_auto_compaction)             \
  X(delete_threshold_zero_never_compacts) \
  X(delete_ids_never_reused)            \
  X(delete_everything_then_add)         \
  /* test_graph.c */                    \
  X(graph_full_ef_is_exact)             \
  X(graph_m_extremes)                   \
  X(graph_ef_construction_raised_to_m)  \
  X(graph_points_on_a_line)             \
  X(graph_capacity_hint)                \
  X(graph_reachable_after_deleting_95)  \
  /* test_model.c */                    \
  X(model_cosine_f32)                   \
  X(model_l2_f32)                       \
  X(model_dot_f32)                      \
  X(model_l2_f32_m2)                    \
  X(model_cosine_sq8)                   \
  X(model_l2_sq8)                       \
  X(model_dot_sq8)                      \
  X(model_cosine_binary)                \
  X(model_l2_binary_f32_dups)           \
  X(model_l2_f32_dups)                  \
  X(model_cosine_sq8_dups)              \
  /* test_fault.c */                    \
  X(fault_memory_usage_matches_allocator) \
  X(fault_index_keeps_its_allocator)    \
  X(fault_nth_allocation_f32)           \
  X(fault_nth_allocation_sq8)           \
  X(fault_persistent_failure)           \
  X(fault_compact_without_map)          \
  /* test_persist.c */                   \
  X(persist_crc32c) X(persist_read_header)                     \
  X(persist_format_layout)              \
  X(persist_roundtrip_f32)              \
  X(persist_roundtrip_sq8)              \
  X(persist_roundtrip_binary)           \
  X(persist_load_copy)                  \
  X(persist_load_borrow)                \
  X(persist_load_take)                  \
  X(persist_load_misaligned)            \
  X(persist_stream_pieces)              \
  X(persist_stream_writer_fails)        \
  X(persist_export)                     \
  X(persist_serialize_to_small)         \
  X(persist_bit_flips)                  \
  X(persist_truncation)                 \
  X(persist_version)                    \
  X(persist_crafted_f32)                \
  X(persist_crafted_sq8)                \
  X(persist_values_not_checked)         \
  X(persist_small_file_large_settings)  \
  X(persist_load_args)                  \
  X(persist_fault_load)                 \
  X(persist_fault_borrowed_writes)      \
  X(persist_verify_allocates_nothing)   \
  X(persist_table_offset_wraps)         \
  X(persist_optional_sections)          \
  X(persist_unreachable_counted)        \
  /* test_log.c */                      \
  X(log_model)                          \
  X(log_batch_dropped_text)             \
  X(log_torn_and_damaged)               \
  X(log_bad_call)                       \
  X(log_worth)                          \
  /* test_docs.c */                     \
  X(docs_keys_basics)                   \
  X(docs_bad_input)                     \
  X(docs_batch_last_wins)               \
  X(docs_batch_streamed)                \
  X(docs_set_attributes)                \
  X(docs_filtered_model)                \
  X(docs_sections)                      \
  X(docs_fault)                         \
  X(docs_fields)                        \
  X(docs_bulk)                          \
  X(docs_listed)                        \
  X(docs_encoded)                       \
  /* test_text.c */                     \
  X(text_bm25_model)                    \
  X(text_prefix)                        \
  X(text_persist)                       \
  X(text_errors)                        \
  X(text_hybrid)                        \
  X(text_fault)                         \
  X(text_cjk)                           \
  X(text_sparse_ids)                    \
  X(text_slot_reused_after_compaction)  \
  /* test_compat.c */                   \
  X(compat_v1_header)                   \
  X(compat_v1_load)                     \
  X(compat_v1_resave)                   \
  /* test_recall.c */                   \
  X(recall_f32_cosine)                  \
  X(recall_sq8_vs_f32)                  \
  X(recall_after_deleting_half)         \
  X(recall_determinism)                 \
  /* test_threads.c */                  \
  X(threads_concurrent_searches)        \
  X(threads_status_per_thread)          \
  /* test_attr.c */                     \
  X(attr_roundtrip)                     \
  X(attr_number_parse)                  \
  X(attr_number_random)                 \
  X(attr_errors)                        \
  X(attr_limits)                        \
  X(attr_utf8)                          \
  X(attr_access)                        \
  X(attr_merge)                         \
  X(attr_check)                         \
  X(attr_fault)                         \
  /* test_filter.c */                   \
  X(filter_parse)                       \
  X(filter_errors)                      \
  X(filter_eval)                        \
  X(filter_contains_random)             \
  X(filter_limits)                      \
  X(filter_memory)                      \
  /* test_token.c */                    \
  X(token_utf8)                         \
  X(token_split)                        \
  X(token_fold)                         \
  X(token_apostrophe)                   \
  X(token_long)                         \
  X(token_stopwords)                    \
  X(token_stem)                         \
  X(token_porter2_fixture)              \
  X(token_prefix)                       \
  X(token_stop)                         \
  X(token_random)

#define TU_DECLARE(name) void test_##name(void);
PV_TEST_LIST(TU_DECLARE)
#undef TU_DECLARE

/* ------------------------------------------------------------------------ */
/* Failure recording                                                        */
/* ------------------------------------------------------------------------ */
#define TU_MAX_MESSAGES 20

/* Failures recorded by the running test. */
extern int tu_failures;

#if defined(__GNUC__) || defined(__clang__)
#define TU_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TU_PRINTF(a, b)
#endif

/* Record one failure of the running test and print it (up to the cap). */
void tu_fail(const char *file, int line, const char *fmt, ...) TU_PRINTF(3, 4);

#define CHECK_MSG(cond, ...)                              \
  do {                                                    \
    if (!(cond)) tu_fail(__FILE__, __LINE__, __VA_ARGS__); \
  } while (0)

#define REQUIRE_MSG(cond, ...)                  \
  do {                                          \
    if (!(cond)) {                              \
      tu_fail(__FILE__, __LINE__, __VA_ARGS__); \
      return;                                   \
    }                                           \
  } while (0)

#define CHECK(cond) CHECK_MSG(cond, "CHECK(%s)", #cond)
#define REQUIRE(cond) REQUIRE_MSG(cond, "REQUIRE(%s)", #cond)

#define CHECK_EQ_INT(a, b)                                                   \
  do {                                                                       \
    long long tu_a_ = (long long)(a), tu_b_ = (long long)(b);                \
    CHECK_MSG(tu_a_ == tu_b_, "%s == %s: %lld != %lld", #a, #b, tu_a_, tu_b_); \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                 \
  do {                                                                        \
    double tu_a_ = (double)(a), tu_b_ = (double)(b), tu_t_ = (double)(tol);   \
    CHECK_MSG(fabs(tu_a_ - tu_b_) <= tu_t_, "%s ~ %s: %.9g vs %.9g (tol %.3g)", \
              #a, #b, tu_a_, tu_b_, tu_t_);                                   \
  } while (0)

/* The call must return `code`; on a mismatch prints both codes. */
#define CHECK_RC(call, code)                                                \
  do {                                                                      \
    int tu_rc_ = (call), tu_want_ = (code);                                 \
    CHECK_MSG(tu_rc_ == tu_want_, "%s returned %d (%s), expected %d (%s)",  \
              #call, tu_rc_, pv_errstr(tu_rc_), tu_want_, pv_errstr(tu_want_)); \
  } while (0)

#define CHECK_OK(call) CHECK_RC(call, PV_OK)

#define REQUIRE_OK(call)                                                  \
  do {                                                                    \
    int tu_rc_ = (call);                                                  \
    REQUIRE_MSG(tu_rc_ == PV_OK, "%s returned %d (%s)", #call, tu_rc_,   \
                pv_errstr(tu_rc_));                                       \
  } while (0)

#define CHECK_STR_HAS(hay, needle)                                           \
  do {                                                                       \
    const char *tu_h_ = (hay), *tu_n_ = (needle);                            \
    CHECK_MSG(tu_h_ && strstr(tu_h_, tu_n_), "%s = \"%s\" lacks \"%s\"", #hay, \
              tu_h_ ? tu_h_ : "(null)", tu_n_);                              \
  } while (0)

/* ------------------------------------------------------------------------ */
/* Shared helpers (util.c)                                                  */
/* ------------------------------------------------------------------------ */

/* splitmix64: a seeded, portable PRNG so every test is deterministic. */
uint64_t tu_rand(uint64_t *s);
/* Uniform in [0, 1). */
double tu_unif(uint64_t *s);
/* Uniform integer in [0, n), n > 0. */
uint32_t tu_below(uint64_t *s, uint32_t n);
/* dim floats uniform in [-1, 1). */
void tu_rand_vec(uint64_t *s, float *v, size_t dim);
/* dim floats uniform in [-1, 1), scaled to unit length (double precision). */
void tu_rand_unit(uint64_t *s, float *v, size_t dim);

/* malloc that fails the test binary loudly (tests do not test libc). */
void *tu_xmalloc(size_t size);
void *tu_xcalloc(size_t n, size_t size);

/* Options with defaults, the given dim/metric/storage and a fixed seed. */
pv_options tu_opts(uint32_t dim, pv_metric metric, pv_storage storage);

/* The distance the library defines, computed in double from float inputs:
 * cosine 1 - cos(a, b), l2 squared Euclidean, dot -(a . b). */
double tu_ref_dist(pv_metric metric, const float *a, const float *b, size_t dim);

/* The vector as the index should hold it (cosine: unit length), in double. */
void tu_ref_stored(pv_metric metric, const float *v, double *out, size_t dim);

/* (max - min) / 255 of x: the SQ8 step of a vector with that range. */
double tu_sq8_step_d(const double *x, size_t dim);
/* The store that gives a storage's distances and vectors: binary codes
 * rescore with SQ8 or F32, and return what those hold. */
static inline pv_storage tu_fine(pv_storage s) {
  return s == PV_BINARY ? PV_SQ8 : s == PV_BINARY_F32 ? PV_F32 : s;
}

/* An upper bound on |quantized distance - exact distance| when both the
 * stored vector (held as `v`, as in tu_ref_stored) and the query (`q`, also
 * as stored) are each off by at most their SQ8 step in every element. */
double tu_sq8_dist_bound(pv_metric metric, const double *q, const double *v,
                         size_t dim);

/* Distance between two "as stored" double vectors under metric. */
double tu_stored_dist(pv_metric metric, const double *q, const double *v,
                      size_t dim);

/* Brute-force top k over n "as stored" double vectors (live[i] != 0 or
 * live NULL), ascending distance, ties by index. Writes up to k ids and
 * distances; returns how many. */
size_t tu_brute_topk(pv_metric metric, const double *stored, const unsigned char *live,
                     size_t n, size_t dim, const double *q, size_t k, uint32_t *ids,
                     double *dists);

/* Check that hits are exactly the brute-force top min(k, live) of q over
 * the "as stored" vectors: same number, every hit live with a distance
 * within tol * (1 + |d|) of its true one, the i-th distance matching the
 * true i-th distance, and the very same id wherever the true distances
 * around rank i are not within 2 tol of each other (a near tie may be
 * ordered either way in float). Records failures at file:line; returns 1 if
 * all held. */
int tu_check_topk_at(const char *file, int line, pv_metric metric,
                     const double *stored, const unsigned char *live, size_t n,
                     size_t dim, const double *q, size_t k, const pv_hit *hits,
                     size_t nhits, double tol);
#define tu_check_topk(...) tu_check_topk_at(__FILE__, __LINE__, __VA_ARGS__)

/* 1 if the hits are sorted by ascending distance, ties by ascending id,
 * and no id repeats. */
int tu_hits_sorted(const pv_hit *hits, size_t n);

/* 1 if hits contain id. */
int tu_hits_have(const pv_hit *hits, size_t n, uint32_t id);

/* A small picture of an index that a failed call must leave unchanged:
 * counts, live ids and the result of one search and one exact search. */
typedef struct tu_snap {
  size_t count, deleted, nhits, nexact;
  uint32_t ids[64];
  pv_hit hits[8], exact[8];
} tu_snap;

void tu_snap_take(pv_index *idx, const float *q, tu_snap *s);
/* Records a failure (at the caller's file:line) if idx no longer matches s,
 * or pv_check fails. Returns 1 if all matched. */
int tu_snap_same_at(const char *file, int line, pv_index *idx, const float *q,
                    const tu_snap *s);
#define tu_snap_same(idx, q, s) tu_snap_same_at(__FILE__, __LINE__, idx, q, s)

/* A counting allocator (install with pv_set_allocator), as SQLite's fault
 * injection does it: counts live blocks and bytes (and their peak), fails
 * call number fail_at (1-based; 0: never) of malloc/realloc, or every call
 * from then on when persistent; counts neither while paused (a test
 * looking at an index in the middle of a run). A free or realloc of a
 * pointer it did not return is counted in bad_ptrs and ignored. Zero it
 * before use. */
typedef struct tu_alloc {
  long live;       /* blocks handed out and not yet freed */
  size_t bytes;    /* their requested sizes */
  size_t peak;     /* the most bytes live at once */
  long calls;      /* malloc/realloc calls counted so far */
  long fail_at;
  int persistent;
  int paused;
  long failures;   /* failures injected */
  long bad_ptrs;
} tu_alloc;

pv_allocator tu_alloc_allocator(tu_alloc *a);
/* For N = 1, 2, ...: run work with its Nth allocation failing until a run
 * never reaches N; each run must leak nothing and free no bad pointer, and
 * more than 20 runs must have seen PV_NOMEM (work counts them in *nomems).
 * Failures are reported at file:line. */
void tu_fault_loop(void (*work)(tu_alloc *a, long *nomems), const char *file, int line);
/* Inside such a work: idx saved, and loaded back through allocator al (which
 * may fail): the load succeeds with a copy that passes pv_check, or fails
 * with PV_NOMEM (counted in *nomems). */
void tu_fault_reload(pv_index *idx, const pv_allocator *al, long *nomems);
/* pv_set_allocator(a's allocator): the indexes created from now on use it. */
void tu_alloc_use(tu_alloc *a);
void tu_alloc_free(tu_alloc *a, void *ptr);
/* A copy of b from a (for PV_LOAD_TAKE), not counted as a call that may
 * fail; aborts if the system is out of memory. */
uint8_t *tu_alloc_dup(tu_alloc *a, const void *b, size_t len);

#endif /* PV_TEST_H */
