/* SPDX-License-Identifier: MIT */
/*
 * Vector encodings (codecs): how a vector is stored in its slot and how far
 * a query is from it. The graph, the store, compaction and persistence know
 * nothing of any encoding: they move `code_bytes` of code and `param_bytes`
 * of per-vector parameters per slot and ask the codec for distances.
 *
 * A new encoding is one file defining a pv_codec and one line in the
 * registry (codec.c). Everything generic happens outside the codecs:
 * validation (NaN, Inf, zero under cosine), normalisation for cosine (done
 * before encode, in double, so it does not depend on the platform), and
 * the comparison of two stored vectors (their bytes).
 */
#ifndef PV_CODEC_H
#define PV_CODEC_H

#include "core/core.h"

/* A vector as the codec stores it: a stored slot's, or a prepared query's. */
typedef struct pv_ref {
  const void *code;
  const void *param; /* NULL for codecs without parameters */
  /* 1: a query walking the graph, where a codec with a coarse distance
   * (pv_codec.walks) uses it; the walk's results are then rescored with
   * the codec's own distance (graph/search.c). 0 everywhere else. */
  int walk;
} pv_ref;

/* What an encoding keeps for the whole index (binary codes: the centre
 * their signs are taken around, the ids issued when it was estimated,
 * and room to estimate it again). */
typedef struct pv_cstate {
  float *centre;
  double *acc; /* dim sums */
  float *tmp;  /* dim floats of a writer's scratch */
  uint32_t basis;
} pv_cstate;

typedef struct pv_codec {
  const char *name;
  pv_storage storage;
  /* Bytes of one code, and of one vector's parameters (0: none). */
  size_t (*code_bytes)(uint32_t dim);
  size_t param_bytes;
  /* Encode x (dim floats, finite, unit length under cosine) into code and
   * param. Deterministic: the same x gives the same bytes everywhere. */
  void (*encode)(const pv_index *idx, const float *x, void *code, void *param);
  /* The stored vector, decoded into dim floats. */
  void (*decode)(const pv_index *idx, const void *code, const void *param, float *out);
  /* Distance from a to slot s, in the index's metric ("smaller is closer",
   * never NaN for finite inputs). */
  float (*dist)(const pv_index *idx, const pv_ref *a, uint32_t s);
  /* The same between two codes wherever they are (b->walk is ignored). */
  float (*dist_to)(const pv_index *idx, const pv_ref *a, const pv_ref *b);
  /* out[j] = dist(idx, a, s[j]) for j < n, bit for bit: the batched form a
   * search uses to score a node's neighbours in one call (the codec may
   * read several at once so that their memory fetches overlap). */
  void (*dist_many)(const pv_index *idx, const pv_ref *a, const uint32_t *s, uint32_t n,
                    float *out);
  /* Non-NULL if dist and dist_many have a coarse form for a->walk: the
   * bytes per slot of what that form reads, kept in the PV_COL_WALK column
   * (written by slot(), saved raw, fetched ahead by a walk). Such a codec
   * prepares queries with query(), into query_bytes(dim) bytes (a code and
   * what the walk needs of the query). */
  size_t (*walks)(uint32_t dim);
  size_t (*query_bytes)(uint32_t dim);
  void (*query)(const pv_index *idx, const float *x, void *code, void *param);
  /* Optional (NULL: none): make the index's pv_cstate at pv_new (PV_OK or
   * PV_NOMEM), free it at pv_free, and update it after an add (cannot
   * fail; may encode every slot again). */
  int (*open)(pv_index *idx);
  void (*close)(pv_index *idx);
  void (*grown)(pv_index *idx);
  /* After slot s's code and parameters are written (an insert): what the
   * codec derives from them per slot. */
  void (*slot)(pv_index *idx, uint32_t s);
  /* pv_check's look at the codes (NULL: nothing to check): PV_OK or
   * PV_CORRUPT with the index's message set. */
  int (*check)(pv_index *idx);
} pv_codec;

/* The registry: the codec of a storage kind, or NULL if there is none. */
const pv_codec *pv__codec_of(pv_storage storage);

/* Check that v (dim floats) has no NaN/Inf and, under cosine, is not zero;
 * on failure set the message naming the vector (kind: PV_V_ONE "the
 * vector", PV_V_QUERY "the query", PV_V_BATCH "vector i") and the detail,
 * and return PV_INVALID. */
enum { PV_V_ONE = 0, PV_V_QUERY = 1, PV_V_BATCH = 2 };
/* The largest element magnitude a vector may have (pocketvec.h says why):
 * sqrt(FLT_MAX / (16 dim)) under l2 and dot, FLT_MAX (any finite value)
 * under cosine, whose vectors are normalised in double first. */
float pv__max_magnitude(pv_metric metric, uint32_t dim);
int pv__validate(const pv_index *idx, const float *v, int kind, size_t i);
/* Encode v (validated) into slot s; tmp is dim floats of scratch. */
void pv__encode_slot(pv_index *idx, uint32_t s, const float *v, float *tmp);
/* Prepare a validated query in buffers qf (dim floats), code and param
 * (the codec's sizes); returns its ref. */
pv_ref pv__prepare(const pv_index *idx, const float *q, float *qf, void *code, void *param);
/* Decode slot s into out (dim floats). */
void pv__decode_slot(const pv_index *idx, uint32_t s, float *out);
/* 1 if slot s stores exactly the vector a (byte for byte). */
int pv__same(const pv_index *idx, const pv_ref *a, uint32_t s);

#endif /* PV_CODEC_H */
