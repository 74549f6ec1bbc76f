/* SPDX-License-Identifier: MIT */
/*
 * SQ8: one byte a dimension plus four floats per vector.
 *
 * Each vector keeps its own offset and step (x ~= lo + step * code), so
 * vectors are encoded on insert with no training pass and no global range
 * that later inserts could fall outside of. The dot product of two encoded
 * vectors expands to
 *   sum (la + sa ca)(lb + sb cb) = D la lb + la sb Sb + lb sa Sa + sa sb (ca.cb)
 * where S is the precomputed sum of a vector's codes: the only per-element
 * work is ca.cb, an exact integer dot product of bytes. The four-term
 * combination is done in double: its terms are large and nearly cancel.
 * Queries are encoded the same way, so search is symmetric and integer.
 */
#include <math.h>

#include "index.h"

/* The parameters of one vector. sum = sum of the codes; aux = squared norm
 * of the decoded vector (L2) or its inverse norm (cosine), unused for dot. */
typedef struct sq8_param {
  float lo, step, sum, aux;
} sq8_param;

static size_t code_bytes(uint32_t dim) { return dim; }

static void encode(const pv_index *idx, const float *x, void *code_out, void *param) {
  uint32_t dim = idx->dim;
  uint8_t *code = code_out;
  sq8_param *p = param;
  float lo = x[0], hi = x[0];
  for (uint32_t d = 1; d < dim; d++) {
    if (x[d] < lo) lo = x[d];
    if (x[d] > hi) hi = x[d];
  }
  /* A constant vector has step 0 and all codes 0: it decodes exactly. */
  double step = ((double)hi - lo) / 255.0;
  double inv = step > 0.0 ? 1.0 / step : 0.0;
  uint32_t sum = 0;
  double norm = 0.0;
  for (uint32_t d = 0; d < dim; d++) {
    double c = ((double)x[d] - lo) * inv + 0.5;
    uint32_t ci = c <= 0.0 ? 0u : c >= 255.0 ? 255u : (uint32_t)c;
    code[d] = (uint8_t)ci;
    sum += ci;
    double y = lo + step * ci;
    norm += y * y;
  }
  p->lo = lo;
  p->step = (float)step;
  p->sum = (float)sum; /* <= 255 * 65536 < 2^24: exact in a float */
  if (idx->opt.metric == PV_L2) p->aux = (float)norm;
  else if (idx->opt.metric == PV_COSINE) p->aux = norm > 0.0 ? (float)(1.0 / sqrt(norm)) : 0.0f;
  else p->aux = 0.0f;
}

static void decode(const pv_index *idx, const void *code, const void *param, float *out) {
  const uint8_t *c = code;
  const sq8_param *p = param;
  for (size_t d = 0; d < idx->dim; d++) out[d] = (float)(p->lo + (double)p->step * c[d]);
}

/* The distance from the exact dot product ip of the codes of a and b: the
 * offsets and steps turn it into the dot product of the decoded vectors,
 * in double, then into the metric's distance. */
static inline float from_ip(const pv_index *idx, const sq8_param *pa, const sq8_param *pb,
                            uint32_t ip) {
  double dot = (double)idx->dim * pa->lo * pb->lo + (double)pa->lo * pb->step * pb->sum +
               (double)pb->lo * pa->step * pa->sum + (double)pa->step * pb->step * (double)ip;
  switch (idx->opt.metric) {
    case PV_COSINE: {
      double d = 1.0 - dot * pa->aux * pb->aux;
      return d > 0.0 ? (float)d : 0.0f;
    }
    case PV_L2: {
      double d = (double)pa->aux + pb->aux - 2.0 * dot;
      return d > 0.0 ? (float)d : 0.0f;
    }
    default: return (float)-dot;
  }
}

/* The parameters of slot s (the column's type is known here: no multiply
 * by a size read from memory on the hot path). */
static inline const sq8_param *param_of(const pv_index *idx, uint32_t s) {
  return (const sq8_param *)idx->st.col[PV_COL_PARAM].base + s;
}

static float dist(const pv_index *idx, const pv_ref *a, uint32_t s) {
  uint32_t ip = idx->kern->dot_u8(a->code, pv__code(idx, s), idx->dim);
  return from_ip(idx, a->param, param_of(idx, s), ip);
}

static float dist_to(const pv_index *idx, const pv_ref *a, const pv_ref *b) {
  uint32_t ip = idx->kern->dot_u8(a->code, b->code, idx->dim);
  return from_ip(idx, a->param, b->param, ip);
}

/* Four at a time: the four code vectors are read in one pass (dot_u8_4), so
 * their memory fetches overlap; WebAssembly has no prefetch, and there this
 * is what keeps SQ8 search at native speed. */
static void dist_many(const pv_index *idx, const pv_ref *a, const uint32_t *s, uint32_t n,
                      float *out) {
  uint32_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint8_t *v[4];
    uint32_t ip[4];
    for (int j = 0; j < 4; j++) v[j] = pv__code(idx, s[i + j]);
    idx->kern->dot_u8_4(a->code, v, idx->dim, ip);
    for (int j = 0; j < 4; j++) out[i + j] = from_ip(idx, a->param, param_of(idx, s[i + j]), ip[j]);
  }
  for (; i < n; i++) {
    uint32_t ip = idx->kern->dot_u8(a->code, pv__code(idx, s[i]), idx->dim);
    out[i] = from_ip(idx, a->param, param_of(idx, s[i]), ip);
  }
}

const pv_codec pv_codec_sq8 = {"sq8",  PV_SQ8,  code_bytes, sizeof(sq8_param),
                               encode, decode,      dist,
                               dist_to, dist_many, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
