/* SPDX-License-Identifier: MIT */
/*
 * The change log (src/persist/log.c): an index saved as a base and any
 * number of records loads identical, byte for byte, to the index that was
 * saved; a record cut short or damaged is an unfinished save; records of
 * another base are ignored; bad calls in a valid record are CORRUPT.
 */
#include <stdlib.h>

#include "core/core.h"
#include "kernels/kernels.h"
#include "test.h"

/* A stored stream: base then records, as a host keeps it. */
typedef struct {
  uint8_t *p;
  size_t len, cap;
} stream;

static void put(stream *s, const void *p, size_t n) {
  if (s->len + n > s->cap) {
    s->cap = (s->len + n) * 2;
    s->p = realloc(s->p, s->cap);
    if (!s->p) abort();
  }
  memcpy(s->p + s->len, p, n);
  s->len += n;
}

static uint8_t *bytes_of(pv_index *idx, size_t *len) {
  size_t n = pv_serialized_size(idx);
  uint8_t *b = tu_xmalloc(n);
  if (pv_serialize_to(idx, b, n, len) != PV_OK) abort();
  return b;
}

/* A whole save into s (the new base), as a host makes it. */
static void save_whole(pv_index *idx, stream *s) {
  pv_log_info li;
  pv_log_state(idx, &li);
  pv_export *e;
  uint64_t tag = 0;
  if (pv_export_begin(idx, &e) != PV_OK || pv_export_tag(e, &tag) != PV_OK) abort();
  size_t n = (size_t)pv_export_size(e);
  s->len = 0;
  uint8_t *b = tu_xmalloc(n);
  if (pv_export_read(e, 0, b, n) != PV_OK) abort();
  pv_export_end(e);
  put(s, b, n);
  free(b);
  pv_log_rebase(idx, li.mark, li.changes, tag, n);
}

/* An incremental save into s; returns the record's length. */
static size_t save_record(pv_index *idx, stream *s) {
  pv_log_info li;
  pv_log_state(idx, &li);
  size_t need = 0;
  CHECK_RC(pv_log_record(idx, li.mark, 7, NULL, 0, &need), PV_RANGE);
  uint8_t *r = tu_xmalloc(need);
  size_t len = 0;
  CHECK_OK(pv_log_record(idx, li.mark, 7, r, need, &len));
  CHECK_EQ_INT(len, need);
  CHECK_EQ_INT(li.end, s->len);
  put(s, r, len);
  free(r);
  CHECK_OK(pv_log_appended(idx, li.mark, len, 7));
  return len;
}

/* The stream loads, and its bytes are `want`'s. */
static void loads_as(const stream *s, const uint8_t *want, size_t want_len, const char *what) {
  pv_index *back = NULL;
  /* Taken, as the CLI and the JS package load: the replay writes the
   * loaded blocks in place. */
  uint8_t *mine = tu_xmalloc(s->len);
  memcpy(mine, s->p, s->len);
  int rc = pv_load(mine, s->len, PV_LOAD_TAKE, &back);
  if (rc) free(mine);
  CHECK_MSG(rc == PV_OK, "%s: load: %s", what, pv_errmsg(NULL));
  if (rc) return;
  size_t len;
  uint8_t *got = bytes_of(back, &len);
  CHECK_MSG(len == want_len && !memcmp(got, want, len), "%s: the loaded index differs from the saved one", what);
  rc = pv_check(back);
  CHECK_MSG(rc == PV_OK, "%s: pv_check: %s", what, pv_errmsg(back));
  free(got);
  pv_free(back);
}

/* An incremental save into s, after which s loads as idx is. */
static void record_loads(pv_index *idx, stream *s, const char *what) {
  save_record(idx, s);
  size_t len;
  uint8_t *want = bytes_of(idx, &len);
  loads_as(s, want, len, what);
  free(want);
}

static void random_change(pv_index *idx, uint64_t *rng, uint32_t dim, uint32_t *next_key) {
  float v[16];
  char key[32], attrs[64], text[64];
  uint32_t c = tu_below(rng, 10);
  tu_rand_vec(rng, v, dim);
  if (c < 5) {
    uint32_t k = tu_below(rng, 3) ? (*next_key)++ : tu_below(rng, *next_key + 1);
    snprintf(key, sizeof key, "doc-%u", k);
    snprintf(attrs, sizeof attrs, "{\"n\":%u,\"tag\":\"%c\"}", k, 'a' + (int)tu_below(rng, 3));
    snprintf(text, sizeof text, "word%u common text %u", k % 7, k);
    pv_doc d = {key, strlen(key), v, attrs, strlen(attrs), 0, text, strlen(text)};
    if (tu_below(rng, 4)) {
      CHECK_OK(pv_upsert(idx, &d, NULL));
    } else {
      /* Through a batch, each document's key, attributes and text from
       * buffers the next one overwrites: the journal keeps its own copy. */
      float w[2][16];
      pv_batch *b;
      REQUIRE_OK(pv_batch_new(idx, &b));
      for (int i = 0; i < 2; i++) {
        tu_rand_vec(rng, w[i], dim);
        d.vector = w[i];
        CHECK_OK(pv_batch_add(b, &d));
        uint32_t k2 = (*next_key)++;
        snprintf(key, sizeof key, "doc-%u", k2);
        snprintf(attrs, sizeof attrs, "{\"n\":%u}", k2);
        snprintf(text, sizeof text, "word%u batch text %u", k2 % 7, k2);
        d = (pv_doc){key, strlen(key), v, attrs, strlen(attrs), 0, text, strlen(text)};
      }
      CHECK_OK(pv_batch_commit(b, NULL));
      pv_batch_free(b);
    }
  } else if (c == 5) {
    CHECK_OK(pv_add(idx, v, NULL));
  } else if (c == 6) {
    snprintf(key, sizeof key, "doc-%u", tu_below(rng, *next_key + 1));
    int rc = pv_delete_key(idx, key, strlen(key));
    CHECK(rc == PV_OK || rc == PV_NOTFOUND);
  } else if (c == 7) {
    snprintf(key, sizeof key, "doc-%u", tu_below(rng, *next_key + 1));
    uint32_t id;
    if (pv_lookup(idx, key, strlen(key), &id) == PV_OK)
      CHECK_OK(pv_set_attributes(idx, id, "{\"pinned\":true}", 15, tu_below(rng, 2) ? PV_ATTR_MERGE : 0));
  } else if (c == 8) {
    float w[3 * 16];
    tu_rand_vec(rng, w, 3 * dim);
    CHECK_OK(pv_add_batch(idx, w, 3, NULL));
  } else if (tu_below(rng, 4) == 0) {
    CHECK_OK(pv_compact(idx));
  }
}

/* Random changes, incremental saves after each few, a whole save now and
 * then; after every save the stream loads as the index was. */
static void log_model(pv_metric metric, pv_storage storage, uint64_t seed) {
  uint32_t dim = 8;
  pv_options o = tu_opts(dim, metric, storage);
  o.m = 4;
  o.ef_construction = 16;
  o.compact_threshold = 0.3f;
  pv_index *idx;
  REQUIRE_OK(pv_new(&o, &idx));
  uint64_t rng = seed;
  uint32_t next_key = 0;
  stream s = {0};
  CHECK_OK(pv_log_start(idx));
  save_whole(idx, &s);
  for (int save = 0; save < 60; save++) {
    uint32_t changes = tu_below(&rng, 12);
    for (uint32_t i = 0; i < changes; i++) random_change(idx, &rng, dim, &next_key);
    if (tu_below(&rng, 15) == 0) save_whole(idx, &s);
    else save_record(idx, &s);
    size_t len;
    uint8_t *want = bytes_of(idx, &len);
    char what[64];
    snprintf(what, sizeof what, "seed %llu save %d", (unsigned long long)seed, save);
    int crc = pv_check(idx);
    CHECK_MSG(crc == PV_OK, "%s: the saved index fails pv_check: %s", what, pv_errmsg(idx));
    loads_as(&s, want, len, what);
    free(want);
  }
  pv_log_info li;
  pv_log_state(idx, &li);
  CHECK(li.recording);
  CHECK_EQ_INT(li.end, s.len);
  /* A load continues the log: its next record follows the stream. */
  pv_index *back;
  REQUIRE_OK(pv_load(s.p, s.len, PV_LOAD_COPY, &back));
  pv_log_info lb;
  pv_log_state(back, &lb);
  CHECK_EQ_INT(lb.base_tag, li.base_tag);
  CHECK_EQ_INT(lb.next_seq, li.next_seq);
  CHECK_EQ_INT(lb.end, li.end);
  CHECK_EQ_INT(lb.cost_us, li.cost_us);
  CHECK(!lb.recording);
  CHECK_OK(pv_log_start(back));
  for (int i = 0; i < 20; i++) random_change(back, &rng, dim, &next_key);
  record_loads(back, &s, "a record written after a load");
  pv_free(back);
  pv_free(idx);
  free(s.p);
}

void test_log_model(void) {
  log_model(PV_COSINE, PV_F32, 1);
  log_model(PV_L2, PV_SQ8, 2);
  log_model(PV_DOT, PV_SQ8, 3);
  log_model(PV_COSINE, PV_BINARY, 4);
  log_model(PV_L2, PV_BINARY_F32, 5);
}

/* A batch whose texts were dropped once tokenized (recording was off when
 * they came) cannot be recorded: committing it while recording stops the
 * recording, so the next save is whole and loses nothing. */
void test_log_batch_dropped_text(void) {
  uint32_t dim = 8;
  pv_options o = tu_opts(dim, PV_L2, PV_F32);
  pv_index *idx;
  REQUIRE_OK(pv_new(&o, &idx));
  float v[3][8];
  uint64_t rng = 3;
  pv_batch *b;
  REQUIRE_OK(pv_batch_new(idx, &b));
  tu_rand_vec(&rng, v[0], dim);
  pv_doc d = {"k", 1, v[0], NULL, 0, 0, "some words", 10};
  CHECK_OK(pv_batch_add(b, &d));
  stream s = {0};
  CHECK_OK(pv_log_start(idx));
  save_whole(idx, &s);
  CHECK_OK(pv_batch_commit(b, NULL));
  pv_log_info li;
  pv_log_state(idx, &li);
  CHECK(!li.recording);
  /* Started again: texts added while recording are kept and recorded. */
  save_whole(idx, &s);
  CHECK_OK(pv_log_start(idx));
  save_whole(idx, &s);
  tu_rand_vec(&rng, v[1], dim);
  pv_doc e = {"k2", 2, v[1], NULL, 0, 0, "other words", 11};
  CHECK_OK(pv_batch_add(b, &e));
  CHECK_OK(pv_batch_commit(b, NULL));
  pv_log_state(idx, &li);
  CHECK(li.recording);
  record_loads(idx, &s, "a batch recorded");
  pv_batch_free(b);
  pv_free(idx);
  free(s.p);
}

/* A crash at any byte of an append leaves the previous save; a flipped bit
 * in the last record too; a record of another base is not replayed. */
void test_log_torn_and_damaged(void) {
  uint32_t dim = 8;
  pv_options o = tu_opts(dim, PV_L2, PV_F32);
  pv_index *idx;
  REQUIRE_OK(pv_new(&o, &idx));
  uint64_t rng = 9;
  uint32_t next_key = 0;
  for (int i = 0; i < 50; i++) random_change(idx, &rng, dim, &next_key);
  stream s = {0};
  CHECK_OK(pv_log_start(idx));
  save_whole(idx, &s);
  for (int i = 0; i < 5; i++) random_change(idx, &rng, dim, &next_key);
  save_record(idx, &s);
  size_t first_len;
  uint8_t *first = bytes_of(idx, &first_len);
  size_t before = s.len;
  for (int i = 0; i < 5; i++) random_change(idx, &rng, dim, &next_key);
  size_t rec = save_record(idx, &s);
  /* Cut anywhere in the last record: the first one's index. */
  for (size_t cut = 0; cut < rec; cut += cut < 64 ? 1 : 37) {
    stream t = {s.p, before + cut, 0};
    char what[64];
    snprintf(what, sizeof what, "cut %zu bytes into the last record", cut);
    loads_as(&t, first, first_len, what);
    pv_index *back;
    if (pv_load(t.p, t.len, PV_LOAD_COPY, &back) == PV_OK) {
      pv_log_info li;
      pv_log_state(back, &li);
      CHECK_EQ_INT(li.end, before); /* the next record replaces the cut one */
      pv_free(back);
    }
  }
  /* A flipped bit in the last record: an unfinished save too. */
  for (size_t at = before; at < s.len; at += 11) {
    s.p[at] ^= 4;
    loads_as(&s, first, first_len, "a flipped bit in the last record");
    s.p[at] ^= 4;
  }
  /* Bytes after the base that are not a record are damage, as before. */
  stream junk = {0};
  pv_header h;
  REQUIRE_OK(pv_read_header(s.p, s.len, &h));
  put(&junk, s.p, (size_t)h.file_size);
  put(&junk, "garbage!", 8);
  pv_index *bad;
  CHECK_RC(pv_load(junk.p, junk.len, PV_LOAD_COPY, &bad), PV_CORRUPT);
  CHECK_STR_HAS(pv_errmsg(NULL), "extra bytes");
  /* A record of another base (its tag differs) is not replayed. */
  pv_index *other;
  REQUIRE_OK(pv_new(&o, &other));
  float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  CHECK_OK(pv_add(other, v, NULL));
  stream os = {0};
  CHECK_OK(pv_log_start(other));
  save_whole(other, &os);
  size_t other_len;
  uint8_t *other_bytes = bytes_of(other, &other_len);
  put(&os, s.p + (size_t)h.file_size, s.len - (size_t)h.file_size);
  loads_as(&os, other_bytes, other_len, "records of another base");
  free(other_bytes);
  free(first);
  free(junk.p);
  free(os.p);
  free(s.p);
  pv_free(other);
  pv_free(idx);
}

/* A valid record whose call fails is CORRUPT, naming the record and the
 * call. Made by appending the record of "delete id 0" twice, the second
 * renumbered and its checksum fixed: the second delete finds no id 0. */
void test_log_bad_call(void) {
  pv_options o = tu_opts(4, PV_L2, PV_F32);
  pv_index *idx;
  REQUIRE_OK(pv_new(&o, &idx));
  float v[4] = {1, 2, 3, 4};
  CHECK_OK(pv_add(idx, v, NULL));
  stream s = {0};
  CHECK_OK(pv_log_start(idx));
  save_whole(idx, &s);
  CHECK_OK(pv_delete(idx, 0));
  size_t n = save_record(idx, &s);
  uint8_t *again = tu_xmalloc(n);
  memcpy(again, s.p + s.len - n, n);
  again[24] = 2; /* sequence number 2 */
  uint32_t sum = pv__sum_of(pv_kernels_best(), again, n - 4);
  for (int i = 0; i < 4; i++) again[n - 4 + i] = (uint8_t)(sum >> (8 * i));
  put(&s, again, n);
  pv_index *back = NULL;
  CHECK_RC(pv_load(s.p, s.len, PV_LOAD_COPY, &back), PV_CORRUPT);
  CHECK(back == NULL);
  CHECK_STR_HAS(pv_errmsg(NULL), "change log record 2: change 1 (kind 3) fails: id 0 was deleted");
  /* Taken, a failed load leaves the buffer the caller's (ASan checks the free). */
  uint8_t *mine = tu_xmalloc(s.len);
  memcpy(mine, s.p, s.len);
  CHECK_RC(pv_load(mine, s.len, PV_LOAD_TAKE, &back), PV_CORRUPT);
  free(mine);
  /* A call whose arguments do not parse: the delete's length says 5. */
  again[52] = 5;
  sum = pv__sum_of(pv_kernels_best(), again, n - 4);
  for (int i = 0; i < 4; i++) again[n - 4 + i] = (uint8_t)(sum >> (8 * i));
  memcpy(s.p + s.len - n, again, n);
  CHECK_RC(pv_load(s.p, s.len, PV_LOAD_COPY, &back), PV_CORRUPT);
  CHECK_STR_HAS(pv_errmsg(NULL), "change log record 2: change 1 is cut short");
  free(again);
  free(s.p);
  pv_free(idx);
}

/* pv_log_worth, the checkpoint policy of the JS package and the CLI: an
 * append while replaying the log costs at most ratio times a load and the
 * record is at most a quarter of the index; a checkpoint otherwise. */
void test_log_worth(void) {
  pv_options o = tu_opts(8, PV_L2, PV_F32);
  pv_index *idx;
  REQUIRE_OK(pv_new(&o, &idx));
  float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  for (int i = 0; i < 40; i++) {
    v[0] = (float)i;
    CHECK_OK(pv_add(idx, v, NULL));
  }
  pv_log_info li;
  pv_log_state(idx, &li);
  CHECK(!pv_log_worth(idx, li.mark, 0, 1e6, 0, 0.1)); /* not recording */
  CHECK_OK(pv_log_start(idx));
  pv_log_state(idx, &li);
  CHECK(!pv_log_worth(idx, li.mark, 0, 1e6, 0, 0.1)); /* no base */
  stream s = {0};
  save_whole(idx, &s);
  CHECK_OK(pv_delete(idx, 3));
  pv_log_state(idx, &li);
  /* A load of 1 s: 100 ms of replay may be appended, not more. */
  CHECK(pv_log_worth(idx, li.mark, 99e3, 1e6, 0, 0.1));
  CHECK(!pv_log_worth(idx, li.mark, 101e3, 1e6, 0, 0.1));
  /* Each record read costs record_us; the stored ones count too. */
  CHECK(pv_log_worth(idx, li.mark, 0, 1e6, 99e3, 0.1));
  CHECK(!pv_log_worth(idx, li.mark, 0, 1e6, 101e3, 0.1));
  save_record(idx, &s); /* cost 7 us, one record stored */
  CHECK_OK(pv_delete(idx, 4));
  pv_log_state(idx, &li);
  CHECK(!pv_log_worth(idx, li.mark, 0, 1e6, 50e3, 0.1)); /* two records: 100 ms + 7 us */
  CHECK(pv_log_worth(idx, li.mark, 100e3 - 8, 1e6, 0, 0.1));
  CHECK(!pv_log_worth(idx, li.mark, 100e3 - 6, 1e6, 0, 0.1));
  /* A load faster than a microsecond a kilobyte is taken as that fast. */
  CHECK(!pv_log_worth(idx, li.mark, 1, 0, 0, 0.1 * 7 / ((double)s.len / 1e3)));
  CHECK(pv_log_worth(idx, li.mark, 0, 0, 0, 1));
  /* A mark outside the journal. */
  CHECK(!pv_log_worth(idx, li.mark + 1, 0, 1e6, 0, 0.1));
  /* A record over a quarter of the index: the index is the smaller write.
   * Adds one by one until the record passes a quarter of it. */
  int small = 0, large = 0;
  for (int i = 0; i < 200; i++) {
    v[1] = (float)i;
    CHECK_OK(pv_add(idx, v, NULL));
    pv_log_state(idx, &li);
    size_t need = 0;
    CHECK_RC(pv_log_record(idx, li.mark, 0, NULL, 0, &need), PV_RANGE);
    int fits = need <= li.end / 4;
    CHECK_EQ_INT(pv_log_worth(idx, li.mark, 0, 1e6, 0, 1e9), fits);
    small += fits;
    large += !fits;
  }
  CHECK(small > 0 && large > 0);
  free(s.p);
  pv_free(idx);
}
