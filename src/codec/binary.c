/* SPDX-License-Identifier: MIT */
/*
 * Binary codes with rescoring: one bit a dimension to walk the graph, and
 * a second store (SQ8 or F32, the "fine" codec) for everything else.
 *
 * A slot's code and parameters are the fine codec's; its walk part is in
 * a column of its own (PV_COL_WALK), so that the walk reads a dense array
 * (11 MB for 100k x 768, where the fine codes take 78) rather than a
 * corner of each code. With x the stored vector as the fine codec decodes
 * it, c the index's centre and y = x - c, the walk part is: the signs of
 * y as bits (ceil(dim / 64) words, the padding bits zero), then the float
 * f = |y|^2 / |y|_1, the float |x|^2, the u32 count of bits set and the
 * float <c, y>.
 *
 * The walk scores a node by an estimate of the query's inner product with
 * it, after RaBitQ (Gao and Long, 2024) without its random rotation:
 * <q, x> = <q, c> + <c, y> + <q - c, y>. The first term is the same for
 * every node, the second is exact in the head, and the third, with
 * p = q - c and b the signs as +-1, is <p, y> ~ f <p, b> (exact when y is
 * a multiple of b; in general the projection of p on the signs, rescaled
 * so that <y, y> comes out right). The query keeps 4 bits a dimension (p_d ~ lo + step u_d),
 * so <p, b> = 2 sum_{bit set} p_d - sum p_d needs sum_{bit set} u_d: the
 * kernel bits_dot4 (four ANDs and population counts a word) and the
 * stored count of bits. At 768 dimensions a node is 112 bytes to read
 * where SQ8 reads 784. Taking <c, y> out of the estimate matters when the
 * centre is far from the origin (cosine embeddings): inside it, it was
 * noise as large as the signal (tests/test_binary.c). RaBitQ's rotation
 * (a randomized Hadamard transform, measured: README "Binary codes")
 * helped where a few dimensions carry most of the variance and cost
 * recall on the benchmark's 100k x 768 set; it is not in the format.
 *
 * Only a query's walk uses the estimate (pv_ref.walk); its ef candidates
 * are then rescored with the fine codec and the best k returned, so
 * results carry fine distances. Inserts, brute force, the checkers and
 * compaction use fine distances throughout: the graph is the one the fine
 * codec alone would build, and the codes can change without touching it.
 *
 * Centring matters: real embeddings share a large common component, and
 * the plain signs of such vectors mostly agree. The centre is the mean of
 * the vectors, estimated as the index grows: at the end of an add that
 * brings the ids issued to twice what they were at the last estimate,
 * the mean of the live vectors becomes the centre and every slot's walk
 * part is encoded again, until the estimate rests on PV_BIN_SETTLE
 * vectors. The cost is amortised (each estimate reads about as many
 * vectors as were added since the one before), and the rule depends only
 * on the sequence of calls, so a replayed change log gives the same bytes.
 * The centre is saved in its own section.
 */
#include <string.h>

#include "index.h"
#include "persist/format.h"

/* Past this many vectors the estimate of the mean no longer moves enough
 * to pay for encoding every slot again. */
#define PV_BIN_SETTLE 65536u

extern const pv_codec pv_codec_f32, pv_codec_sq8;

static size_t words_of(uint32_t dim) { return ((size_t)dim + 63) / 64; }
/* Bytes of the walk part: the bits, f, |x|^2, the count and <c, y>. */
static size_t walk_bytes(uint32_t dim) { return 8 * words_of(dim) + 16; }

static const pv_codec *fine(const pv_index *idx) {
  return idx->opt.storage == PV_BINARY_F32 ? &pv_codec_f32 : &pv_codec_sq8;
}

static size_t code_bytes_sq8(uint32_t dim) { return pv_codec_sq8.code_bytes(dim); }
static size_t code_bytes_f32(uint32_t dim) { return pv_codec_f32.code_bytes(dim); }

/* What a prepared query adds after its fine code (at a multiple of 8):
 * its bit planes, four words per word of bits, then lo, step, the sum of
 * its quantized values and a pad (floats), then room for q - c (64 floats
 * per word of bits). */
static size_t query_at(size_t code) { return (code + 7) & ~(size_t)7; }
static size_t query_tail(uint32_t dim) { return 32 * words_of(dim) + 16 + 256 * words_of(dim); }
static size_t query_bytes_sq8(uint32_t dim) {
  return query_at(pv_codec_sq8.code_bytes(dim)) + query_tail(dim);
}
static size_t query_bytes_f32(uint32_t dim) {
  return query_at(pv_codec_f32.code_bytes(dim)) + query_tail(dim);
}

typedef struct walk_head {
  float f, n2;
  uint32_t pop;
  float cr; /* <c, x - c>, exact */
} walk_head;

/* Slot s's walk part. */
static inline uint64_t *walk_at(const pv_index *idx, uint32_t s) {
  return (uint64_t *)((uint8_t *)idx->st.col[PV_COL_WALK].base + (size_t)s * walk_bytes(idx->dim));
}

/* Write into w the walk part of the fine code (code, param): with x the
 * decoded vector, c the centre and y = x - c, the signs of y, f = |y|^2 /
 * |y|_1, |x|^2, the count of bits and <c, y>. t is scratch of dim floats. */
static void walk_of(const pv_index *idx, uint64_t *w, const void *code, const void *param,
                    float *t) {
  size_t nw = words_of(idx->dim);
  const float *c = idx->cs.centre;
  fine(idx)->decode(idx, code, param, t);
  double n2 = 0.0, cr = 0.0, l1 = 0.0, l2 = 0.0;
  for (uint32_t d = 0; d < idx->dim; d++) {
    n2 += (double)t[d] * t[d];
    t[d] -= c[d];
    cr += (double)c[d] * t[d];
  }
  walk_head h = {0.0f, (float)n2, 0, (float)cr};
  for (size_t i = 0; i < nw; i++) w[i] = 0;
  for (size_t d = 0; d < idx->dim; d++) {
    w[d >> 6] |= (uint64_t)(t[d] > 0.0f) << (d & 63);
    l1 += t[d] < 0.0f ? -(double)t[d] : t[d];
    l2 += (double)t[d] * t[d];
  }
  if (l1 > 0.0) h.f = (float)(l2 / l1);
  for (size_t i = 0; i < nw; i++) h.pop += (uint32_t)__builtin_popcountll(w[i]);
  memcpy(w + nw, &h, sizeof h);
}

/* After slot s's code is written: its walk part. */
static void slot(pv_index *idx, uint32_t s) {
  pv_ref r = pv__ref(idx, s);
  walk_of(idx, walk_at(idx, s), r.code, r.param, idx->cs.tmp);
}

static void encode(const pv_index *idx, const float *x, void *code, void *param) {
  fine(idx)->encode(idx, x, code, param);
}

/* A query: its fine code (for the rescoring), then its 4-bit planes
 * (from x itself, not the fine code: the walk estimates the query's own
 * inner products). */
static void query(const pv_index *idx, const float *x0, void *code, void *param) {
  fine(idx)->encode(idx, x0, code, param);
  size_t nw = words_of(idx->dim);
  uint64_t *q = (uint64_t *)((uint8_t *)code + query_at(idx->st.vbytes));
  /* q - c (in the scratch after the planes): the centre's share of every
   * node's inner product is exact in its head (cr), so only the rest is
   * estimated from the bits. */
  float *x = (float *)(q + 4 * nw + 2);
  size_t dim = idx->dim;
  for (size_t d = 0; d < dim; d++) x[d] = x0[d] - idx->cs.centre[d];
  float lo = x[0], hi = x[0];
  for (size_t d = 1; d < dim; d++) {
    if (x[d] < lo) lo = x[d];
    if (x[d] > hi) hi = x[d];
  }
  double step = ((double)hi - lo) / 15.0, inv = step > 0.0 ? 1.0 / step : 0.0;
  uint32_t sum = 0;
  memset(q, 0, 32 * nw);
  for (size_t d = 0; d < dim; d++) {
    double u = ((double)x[d] - lo) * inv + 0.5;
    uint32_t ui = u <= 0.0 ? 0u : u >= 15.0 ? 15u : (uint32_t)u;
    sum += ui;
    for (int j = 0; j < 4; j++) q[4 * (d >> 6) + j] |= (uint64_t)(ui >> j & 1) << (d & 63);
  }
  float tail[4] = {lo, (float)step, (float)((double)lo * dim + step * sum), 0.0f};
  memcpy(q + 4 * nw, tail, sizeof tail);
}

static void decode(const pv_index *idx, const void *code, const void *param, float *out) {
  fine(idx)->decode(idx, code, param, out);
}

static inline const uint64_t *planes_of(const pv_index *idx, const pv_ref *a) {
  return (const uint64_t *)((const uint8_t *)a->code + query_at(idx->st.vbytes));
}

/* The walk's distance from a query's planes q to slot s: from the
 * estimate ip of <q, x> less <q, c>, in the metric's sense (smaller is
 * closer; constants of the query left out). */
static inline float walk_dist(const pv_index *idx, const uint64_t *q, uint32_t s) {
  size_t nw = words_of(idx->dim);
  const float *t = (const float *)(q + 4 * nw); /* lo, step, sum */
  const uint64_t *b = walk_at(idx, s);
  const walk_head *h = (const walk_head *)(b + nw);
  uint32_t dot = idx->kern->bits_dot4(q, b, nw);
  float ip = h->f * (2.0f * (t[0] * (float)h->pop + t[1] * (float)dot) - t[2]) + h->cr;
  float d = idx->opt.metric == PV_L2 ? h->n2 - 2.0f * ip : -ip;
  /* Heads a file brought may be finite and still overflow here: a NaN
   * must not reach the heaps (it would be last, never first). */
  return d == d ? d : 3.4028234663852886e38f;
}

/* Between two codes only the fine distance exists (a walk has a slot). */
static float dist_to(const pv_index *idx, const pv_ref *a, const pv_ref *b) {
  return fine(idx)->dist_to(idx, a, b);
}

static float dist(const pv_index *idx, const pv_ref *a, uint32_t s) {
  return a->walk ? walk_dist(idx, planes_of(idx, a), s) : fine(idx)->dist(idx, a, s);
}

static void dist_many(const pv_index *idx, const pv_ref *a, const uint32_t *s, uint32_t n,
                      float *out) {
  if (!a->walk) {
    fine(idx)->dist_many(idx, a, s, n, out);
    return;
  }
  const uint64_t *q = planes_of(idx, a);
  for (uint32_t i = 0; i < n; i++) out[i] = walk_dist(idx, q, s[i]);
}

/* ---- the centre ------------------------------------------------------------- */

static int open_state(pv_index *idx) {
  idx->cs.centre = pv__malloc(idx, sizeof(float) * idx->dim);
  idx->cs.tmp = pv__malloc(idx, sizeof(float) * idx->dim);
  idx->cs.acc = pv__malloc(idx, sizeof(double) * idx->dim);
  if (!idx->cs.centre || !idx->cs.tmp || !idx->cs.acc) return PV_NOMEM;
  memset(idx->cs.centre, 0, sizeof(float) * idx->dim);
  return PV_OK;
}

static void close_state(pv_index *idx) {
  pv__free(idx, idx->cs.centre, sizeof(float) * idx->dim);
  pv__free(idx, idx->cs.tmp, sizeof(float) * idx->dim);
  pv__free(idx, idx->cs.acc, sizeof(double) * idx->dim);
  memset(&idx->cs, 0, sizeof idx->cs);
}

/* After an add: a new estimate of the centre when the ids issued have
 * doubled since the last one, then every slot's bits again. Cannot fail
 * (the accumulator is the index's since pv_new). */
static void grown(pv_index *idx) {
  pv_cstate *cs = &idx->cs;
  if (cs->basis >= PV_BIN_SETTLE || idx->next_id < 2 * (uint64_t)cs->basis || !idx->live) return;
  for (uint32_t d = 0; d < idx->dim; d++) cs->acc[d] = 0.0;
  for (uint32_t s = 0; s < idx->st.n; s++) {
    if (!pv__is_live(idx, s)) continue;
    pv__decode_slot(idx, s, cs->tmp);
    for (uint32_t d = 0; d < idx->dim; d++) cs->acc[d] += cs->tmp[d];
  }
  for (uint32_t d = 0; d < idx->dim; d++) cs->centre[d] = (float)(cs->acc[d] / idx->live);
  cs->basis = idx->next_id;
  for (uint32_t s = 0; s < idx->st.n; s++) slot(idx, s);
}

/* Every slot's walk part is what its vector and the centre give. */
static int check(pv_index *idx) {
  size_t wb = walk_bytes(idx->dim), tb = sizeof(float) * idx->dim;
  uint64_t *want = pv__malloc(idx, wb);
  float *t = pv__malloc(idx, tb);
  if (!want || !t) {
    pv__free(idx, want, wb);
    pv__free(idx, t, tb);
    return pv__error(idx, PV_NOMEM, "out of memory checking the index");
  }
  uint32_t bad = PV_NONE;
  if (!idx->cs.basis)
    for (uint32_t d = 0; d < idx->dim; d++)
      if (idx->cs.centre[d] != 0.0f) {
        pv__free(idx, want, wb);
        pv__free(idx, t, tb);
        return pv__error(idx, PV_CORRUPT, "the centre was never estimated but is not zero");
      }
  for (uint32_t s = 0; s < idx->st.n && bad == PV_NONE; s++) {
    pv_ref r = pv__ref(idx, s);
    walk_of(idx, want, r.code, r.param, t);
    if (memcmp(want, walk_at(idx, s), wb)) bad = s;
  }
  pv__free(idx, want, wb);
  pv__free(idx, t, tb);
  if (bad != PV_NONE)
    return pv__error(idx, PV_CORRUPT,
                     "slot %u's binary code does not match its vector and the centre", bad);
  return PV_OK;
}

/* The centre section: u32 basis, u32 zero, then dim floats. */
uint64_t pv__centre_len(const pv_index *idx) { return 8 + 4 * (uint64_t)idx->dim; }
int pv__centre_present(const pv_index *idx) { return idx->cs.centre != NULL; }
void pv__centre_walk(pv_walker *w, const pv_index *idx) {
  uint8_t head[8];
  pv__put32(head, idx->cs.basis);
  pv__put32(head + 4, 0);
  pv__emit(w, head, sizeof head, PV_SEC_CENTRE);
  pv__emit(w, idx->cs.centre, sizeof(float) * idx->dim, PV_SEC_CENTRE);
}

/* The bits of every slot are checked against the centre and the fine
 * codes: a file whose bits disagree would walk the graph by wrong
 * distances without any other sign of damage. */
int pv__centre_load(pv_index *idx, const pv_layout *L, const uint8_t *p, uint64_t len) {
  if (!idx->cs.centre) PV_CORRUPT_("a centre section in an index whose storage has none");
  if (len != pv__centre_len(idx))
    PV_CORRUPT_("the centre section has %zu bytes; dim %u needs %zu", (size_t)len, idx->dim,
                (size_t)pv__centre_len(idx));
  uint32_t basis = pv__get32(p);
  if (basis > L->next_id || pv__get32(p + 4))
    PV_CORRUPT_("the centre section says it was estimated from %u of %u ids", basis, L->next_id);
  memcpy(idx->cs.centre, p + 8, sizeof(float) * idx->dim);
  /* A mean of the vectors lies within their bounds: unit vectors under
   * cosine, pv__max_magnitude otherwise (a centre beyond them would
   * overflow the query's planes into infinities). */
  float bound = idx->opt.metric == PV_COSINE ? 1.0f : idx->max_abs;
  for (uint32_t d = 0; d < idx->dim; d++)
    if (!(idx->cs.centre[d] >= -bound && idx->cs.centre[d] <= bound))
      PV_CORRUPT_("element %u of the centre is not a number within the vectors' bounds", d);
  idx->cs.basis = basis;
  return PV_OK;
}

/* The walk parts, loaded raw as a column: each must be what its vector
 * and the centre give (a loaded index passes pv_check, and a wrong walk
 * part would mislead every search without any other sign), which costs
 * about as much as computing them; the heads are checked first, cheaply,
 * so that a damaged one is named as such. */
int pv__walk_load(pv_index *idx, const pv_layout *L, const uint8_t *p, uint64_t len) {
  (void)L, (void)p, (void)len; /* the length was checked as a column's */
  if (!idx->codec->walks) PV_CORRUPT_("a binary codes section in an index whose storage has none");
  for (uint32_t s = 0; s < idx->st.n; s++) {
    const walk_head *h = (const walk_head *)(walk_at(idx, s) + words_of(idx->dim));
    if (!(h->f >= 0.0f && h->f <= 3.4e38f && h->n2 >= 0.0f && h->n2 <= 3.4e38f) ||
        h->pop > idx->dim || !(h->cr >= -3.4e38f && h->cr <= 3.4e38f))
      PV_CORRUPT_("slot %u's binary code has a damaged header", s);
  }
  int rc = check(idx);
  if (rc == PV_CORRUPT) return pv__error(NULL, PV_CORRUPT, "%s", pv_errmsg(idx));
  if (rc) return pv__error(NULL, PV_NOMEM, "out of memory loading the binary codes");
  return PV_OK;
}

/* The code, its parameters and their sizes are the fine codec's. */
const pv_codec pv_codec_binary = {
    "binary", PV_BINARY,   code_bytes_sq8, 4 * sizeof(float), encode,  decode,
    dist,     dist_to,     dist_many,   walk_bytes,        query_bytes_sq8,
    query,    open_state,  close_state, grown,             slot,       check};
const pv_codec pv_codec_binary_f32 = {
    "binary-f32", PV_BINARY_F32, code_bytes_f32, 0,       encode,     decode,
    dist,         dist_to,       dist_many,   walk_bytes, query_bytes_f32,
    query,        open_state,    close_state, grown,      slot,       check};
