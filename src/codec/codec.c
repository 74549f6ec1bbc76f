/* SPDX-License-Identifier: MIT */
/*
 * The codec registry and what every encoding shares: validation, cosine
 * normalisation, encoding into a slot, preparing a query.
 */
#include <math.h>
#include <string.h>

#include "index.h"

extern const pv_codec pv_codec_f32, pv_codec_sq8, pv_codec_binary, pv_codec_binary_f32;

/* One line per encoding. */
static const pv_codec *const registry[] = {&pv_codec_f32, &pv_codec_sq8, &pv_codec_binary,
                                           &pv_codec_binary_f32};

const pv_codec *pv__codec_of(pv_storage storage) {
  for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
    if (registry[i]->storage == storage) return registry[i];
  return NULL;
}

/* Names the vector for messages: "the vector", "vector 3", "the query". */
static void vname(char *buf, size_t size, int kind, size_t i) {
  static const char *const fixed[] = {"the vector", "the query"};
  size_t j = 0;
  const char *p = kind == PV_V_BATCH ? "vector " : fixed[kind];
  while (*p && j + 1 < size) buf[j++] = *p++;
  if (kind == PV_V_BATCH) {
    char d[24];
    int k = 0;
    do { d[k++] = (char)('0' + i % 10); i /= 10; } while (i);
    while (k && j + 1 < size) buf[j++] = d[--k];
  }
  buf[j] = 0;
}

float pv__max_magnitude(pv_metric metric, uint32_t dim) {
  if (metric == PV_COSINE) return 3.4028234663852886e38f; /* FLT_MAX: finite */
  return (float)sqrt(3.4028234663852886e38 / (16.0 * dim));
}

/* "1e18" for the largest power of ten at most x (x >= 1). */
static void power_of_ten(float x, char *buf) {
  unsigned e = 0;
  for (double p = 10.0; p <= x; p *= 10.0) e++;
  buf[0] = '1';
  buf[1] = 'e';
  size_t j = 2;
  if (e >= 10) buf[j++] = (char)('0' + e / 10);
  buf[j++] = (char)('0' + e % 10);
  buf[j] = 0;
}

int pv__validate(const pv_index *idx, const float *v, int kind, size_t i) {
  double norm = 0.0;
  int64_t item = kind == PV_V_BATCH ? (int64_t)i : -1;
  float limit = idx->max_abs;
  for (uint32_t d = 0; d < idx->dim; d++) {
    float x = v[d];
    if (!(fabsf(x) <= limit)) {
      char name[40];
      vname(name, sizeof name, kind, i);
      if (!isfinite(x)) {
        pv__error(idx, PV_INVALID, "%s: element %u is %s", name, d, isnan(x) ? "NaN" : "infinite");
      } else {
        char lim[8];
        power_of_ten(limit, lim);
        pv__error(idx, PV_INVALID,
                  "%s: element %u is too large: %s index of dim %u accepts magnitudes up to "
                  "about %s, beyond which distances overflow",
                  name, d, idx->opt.metric == PV_L2 ? "an l2" : "a dot", idx->dim, lim);
      }
      pv__error_at(idx, item, d);
      return PV_INVALID;
    }
    norm += (double)x * x;
  }
  if (idx->opt.metric == PV_COSINE && norm == 0.0) {
    char name[40];
    vname(name, sizeof name, kind, i);
    pv__error(idx, PV_INVALID, "%s is all zeros; cosine distance needs a non-zero vector", name);
    pv__error_at(idx, item, -1);
    return PV_INVALID;
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

static const float *normalised(const pv_index *idx, const float *v, float *tmp) {
  if (idx->opt.metric != PV_COSINE) return v;
  normalise(v, tmp, idx->dim);
  return tmp;
}

void pv__encode_slot(pv_index *idx, uint32_t s, const float *v, float *tmp) {
  void *param = idx->codec->param_bytes ? pv__param(idx, s) : NULL;
  idx->codec->encode(idx, normalised(idx, v, tmp), pv__code(idx, s), param);
  if (idx->codec->slot) idx->codec->slot(idx, s);
}

pv_ref pv__prepare(const pv_index *idx, const float *q, float *qf, void *code, void *param) {
  const pv_codec *k = idx->codec;
  (k->query ? k->query : k->encode)(idx, normalised(idx, q, qf), code, param);
  pv_ref r = {code, k->param_bytes ? param : NULL, 0};
  return r;
}

void pv__decode_slot(const pv_index *idx, uint32_t s, float *out) {
  pv_ref r = pv__ref(idx, s);
  idx->codec->decode(idx, r.code, r.param, out);
}

int pv__same(const pv_index *idx, const pv_ref *a, uint32_t s) {
  pv_ref b = pv__ref(idx, s);
  size_t pb = idx->codec->param_bytes;
  return (pb == 0 || memcmp(a->param, b.param, pb) == 0) &&
         memcmp(a->code, b.code, idx->st.vbytes) == 0;
}
