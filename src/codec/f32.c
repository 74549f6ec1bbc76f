/* SPDX-License-Identifier: MIT */
/*
 * F32: the vector as it is (unit length under cosine), 4 bytes a dimension,
 * exact distances.
 */
#include <string.h>

#include "index.h"

static size_t code_bytes(uint32_t dim) { return sizeof(float) * (size_t)dim; }

static void encode(const pv_index *idx, const float *x, void *code, void *param) {
  (void)param;
  if (code != (const void *)x) memcpy(code, x, sizeof(float) * idx->dim);
}

static void decode(const pv_index *idx, const void *code, const void *param, float *out) {
  (void)param;
  memcpy(out, code, sizeof(float) * idx->dim);
}

PV_HOT float dist_to(const pv_index *idx, const float *a, const float *b) {
  switch (idx->opt.metric) {
    case PV_COSINE: {
      /* 1 - cos can dip a rounding error below 0 for a vector and itself. */
      float d = 1.0f - idx->kern->dot_f32(a, b, idx->dim);
      return d > 0.0f ? d : 0.0f;
    }
    case PV_L2: return idx->kern->l2_f32(a, b, idx->dim);
    default: return -idx->kern->dot_f32(a, b, idx->dim);
  }
}

static float dist_refs(const pv_index *idx, const pv_ref *a, const pv_ref *b) {
  return dist_to(idx, a->code, b->code);
}

static float dist(const pv_index *idx, const pv_ref *a, uint32_t s) {
  return dist_to(idx, a->code, pv__code(idx, s));
}

static void dist_many(const pv_index *idx, const pv_ref *a, const uint32_t *s, uint32_t n,
                      float *out) {
  for (uint32_t i = 0; i < n; i++) out[i] = dist_to(idx, a->code, pv__code(idx, s[i]));
}

const pv_codec pv_codec_f32 = {"f32",     PV_F32,    code_bytes, 0,    encode, decode,
                               dist,      dist_refs, dist_many,  NULL, NULL,   NULL,   NULL,
                               NULL,      NULL,      NULL,       NULL};
