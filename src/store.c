/*
 * Vector storage: validation, normalisation, SQ8 encoding, and the distance
 * between a prepared vector and a stored slot.
 *
 * SQ8 keeps, per vector, its own offset and step (x ~= lo + step * code), so
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
#include <string.h>

#include "internal.h"

/* Names the vector for messages: "the vector", "vector 3", "the query". */
static void vname(char *buf, size_t size, int kind, size_t i) {
  static const char *const fixed[] = {"the vector", "the query"};
  if (kind == 2) {
    const char *p = "vector ";
    size_t j = 0;
    while (*p && j + 1 < size) buf[j++] = *p++;
    char d[24];
    int k = 0;
    do { d[k++] = (char)('0' + i % 10); i /= 10; } while (i);
    while (k && j + 1 < size) buf[j++] = d[--k];
    buf[j] = 0;
  } else {
    const char *p = fixed[kind];
    size_t j = 0;
    while (*p && j + 1 < size) buf[j++] = *p++;
    buf[j] = 0;
  }
}

int pv__validate(pv_index *idx, const float *v, int kind, size_t i) {
  double norm = 0.0;
  for (uint32_t d = 0; d < idx->dim; d++) {
    float x = v[d];
    if (!isfinite(x)) {
      char name[40];
      vname(name, sizeof name, kind, i);
      return pv__error(idx, PV_INVALID, "%s: element %u is %s", name, d,
                       isnan(x) ? "NaN" : "infinite");
    }
    norm += (double)x * x;
  }
  if (idx->opt.metric == PV_COSINE && norm == 0.0) {
    char name[40];
    vname(name, sizeof name, kind, i);
    return pv__error(idx, PV_INVALID,
                     "%s is all zeros; cosine distance needs a non-zero vector", name);
  }
  return PV_OK;
}

/* Unit length in double, so the result does not depend on the platform. */
static void normalise(const float *v, float *out, uint32_t dim) {
  double norm = 0.0;
  for (uint32_t d = 0; d < dim; d++) norm += (double)v[d] * v[d];
  double inv = 1.0 / sqrt(norm);
  for (uint32_t d = 0; d < dim; d++) out[d] = (float)(v[d] * inv);
}

static void encode(const pv_index *idx, const float *x, uint8_t *code, pv_sq8 *p) {
  uint32_t dim = idx->dim;
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

void pv__store(pv_index *idx, uint32_t s, const float *v) {
  size_t dim = idx->dim;
  const float *x = v;
  if (idx->opt.metric == PV_COSINE) {
    float *dst = idx->opt.storage == PV_F32 ? (float *)pv__vecp(idx, s) : idx->qf;
    normalise(v, dst, idx->dim);
    x = dst;
  }
  if (idx->opt.storage == PV_F32) {
    if (x != pv__vecp(idx, s)) memcpy(pv__vecp(idx, s), x, sizeof(float) * dim);
  } else {
    encode(idx, x, pv__vecp(idx, s), &idx->sq8[s]);
  }
}

void pv__load(const pv_index *idx, uint32_t s, float *out) {
  size_t dim = idx->dim;
  if (idx->opt.storage == PV_F32) {
    memcpy(out, pv__vecp(idx, s), sizeof(float) * dim);
    return;
  }
  const uint8_t *c = pv__vecp(idx, s);
  const pv_sq8 *p = &idx->sq8[s];
  for (size_t d = 0; d < dim; d++) out[d] = (float)(p->lo + (double)p->step * c[d]);
}

pv_ref pv__prepare_query(pv_index *idx, const float *q) {
  pv_ref r = {NULL, NULL, NULL};
  const float *x = q;
  if (idx->opt.metric == PV_COSINE) {
    normalise(q, idx->qf, idx->dim);
    x = idx->qf;
  }
  if (idx->opt.storage == PV_F32) {
    r.f = x;
  } else {
    encode(idx, x, idx->qc, &idx->qp);
    r.c = idx->qc;
    r.p = &idx->qp;
  }
  return r;
}

pv_ref pv__ref(const pv_index *idx, uint32_t s) {
  pv_ref r = {NULL, NULL, NULL};
  if (idx->opt.storage == PV_F32) {
    r.f = pv__vecp(idx, s);
  } else {
    r.c = pv__vecp(idx, s);
    r.p = &idx->sq8[s];
  }
  return r;
}

int pv__same(const pv_index *idx, const pv_ref *a, uint32_t s) {
  pv_ref b = pv__ref(idx, s);
  if (a->f) return memcmp(a->f, b.f, sizeof(float) * idx->dim) == 0;
  return memcmp(a->p, b.p, sizeof(pv_sq8)) == 0 && memcmp(a->c, b.c, idx->dim) == 0;
}

/* The SQ8 distance from the exact dot product ip of the codes of query a and
 * slot s: the offsets and steps turn it into the dot product of the decoded
 * vectors, in double, then into the metric's distance. */
static inline float sq8_dist(const pv_index *idx, const pv_ref *a, uint32_t s, uint32_t ip) {
  const pv_sq8 *pa = a->p, *pb = &idx->sq8[s];
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

float pv__dist(const pv_index *idx, const pv_ref *a, uint32_t s) {
  size_t dim = idx->dim;
  if (a->f) {
    const float *b = pv__vecp(idx, s);
    switch (idx->opt.metric) {
      case PV_COSINE: {
        /* 1 - cos can dip a rounding error below 0 for a vector and itself. */
        float d = 1.0f - idx->k->dot_f32(a->f, b, dim);
        return d > 0.0f ? d : 0.0f;
      }
      case PV_L2: return idx->k->l2_f32(a->f, b, dim);
      default: return -idx->k->dot_f32(a->f, b, dim);
    }
  }
  return sq8_dist(idx, a, s, idx->k->dot_u8(a->c, pv__vecp(idx, s), dim));
}

void pv__dist4(const pv_index *idx, const pv_ref *a, const uint32_t s[4], float out[4]) {
  const uint8_t *v[4];
  uint32_t ip[4];
  for (int j = 0; j < 4; j++) v[j] = pv__vecp(idx, s[j]);
  idx->k->dot_u8_4(a->c, v, idx->dim, ip);
  for (int j = 0; j < 4; j++) out[j] = sq8_dist(idx, a, s[j], ip[j]);
}
