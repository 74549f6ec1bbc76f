/* SPDX-License-Identifier: MIT */
/*
 * Seed corpus for fuzz_load: real saved indexes, small enough for the
 * fuzzer to mutate quickly (a few KB each), in every shape the loader
 * handles: each metric x storage, with tombstones and several levels
 * (small m), compacted, with every vector deleted, empty, one vector,
 * dims 1 and 17, and vectors repeated (rings of copies, section 10); the
 * binary storages bring the centre (section 11) and walk heads. Written
 * by pv_serialize_to at build time; nothing binary
 * is committed.
 *
 *   make_corpus DIR     writes DIR/<shape>.pvec, prints how many
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pocketvec.h"

static const char *const METRIC[] = {"cosine", "l2", "dot"};
static const char *const STORAGE[] = {"f32", "sq8", "binary", "binary-f32"};

typedef struct shape {
  const char *name;
  uint32_t dim, m, n, ndel;
  int compact;
  int docs; /* upsert documents with keys and attributes instead of plain adds;
               2: with text too */
  uint32_t copies; /* > 0: the vectors are this many distinct ones, repeated */
} shape;

static const shape SHAPES[] = {
    {"tombstones", 8, 2, 50, 12, 0, 0, 0},
    {"tombstones-m4", 6, 4, 60, 20, 0, 0, 0},
    {"compacted", 8, 3, 40, 10, 1, 0, 0},
    {"all-deleted", 4, 2, 12, 12, 0, 0, 0},
    {"empty", 8, 4, 0, 0, 0, 0, 0},
    {"one", 8, 4, 1, 0, 0, 0, 0},
    {"dim1", 1, 2, 30, 5, 0, 0, 0},
    {"dim17", 17, 3, 24, 4, 0, 0, 0},
    {"docs", 8, 3, 30, 6, 0, 1, 0},
    {"docs-compacted", 5, 2, 40, 15, 1, 1, 0},
    {"text", 8, 3, 30, 6, 0, 2, 0},
    {"text-compacted", 5, 2, 40, 15, 1, 2, 0},
    {"copies", 6, 3, 40, 8, 0, 0, 3},
    {"copies-compacted", 4, 2, 36, 12, 1, 0, 2},
};

static uint64_t rnd(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static int fail(const char *what, int rc, const char *msg) {
  fprintf(stderr, "make_corpus: %s: %d (%s)\n", what, rc, msg);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_corpus DIR\n");
    return 2;
  }
  int files = 0;
  for (int met = 0; met < 3; met++) {
    for (int st = 0; st < 4; st++) {
      for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++) {
        const shape *sh = &SHAPES[i];
        pv_options o = pv_options_default();
        o.dim = sh->dim;
        o.metric = (pv_metric)met;
        o.storage = (pv_storage)st;
        o.m = sh->m;
        o.ef_construction = 16;
        o.ef_search = 8;
        o.compact_threshold = 0.0f; /* keep the tombstones */
        o.seed = 1000 + 10 * (uint64_t)met + i;
        pv_index *idx;
        int rc = pv_new(&o, &idx);
        if (rc) return fail("pv_new", rc, pv_errmsg(NULL));
        uint64_t s = o.seed;
        float *v = malloc(sizeof(float) * sh->dim);
        if (!v) return 1;
        for (uint32_t k = 0; k < sh->n; k++) {
          uint64_t c = 77 + (sh->copies ? k % sh->copies : 0), *from = sh->copies ? &c : &s;
          for (uint32_t d = 0; d < sh->dim; d++)
            v[d] = (float)((double)(rnd(from) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
          if (sh->docs) {
            /* Keys of every shape (some absent), attributes of every type. */
            char key[32], attrs[160];
            snprintf(key, sizeof key, k % 5 ? "doc-%u" : "\xc3\xa9t\xc3\xa9-%u", k);
            snprintf(attrs, sizeof attrs,
                     "{\"n\":%u,\"s\":\"v%u\",\"b\":%s,\"z\":null,\"a\":[1,\"x\",[2]],"
                     "\"o\":{\"p\":{\"q\":-%u.5e-3}}}",
                     k, k % 4, k % 2 ? "true" : "false", k);
            static const char *const TEXT[] = {"deploy to cloud foundry", "Caf\xc3\xa9 au lait",
                                               "\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd tokyo", "",
                                               "error E1234 in deploy"};
            const char *text = sh->docs == 2 && k % 6 ? TEXT[k % 5] : NULL;
            pv_doc d = {k % 7 ? key : NULL, strlen(key), v, k % 3 ? attrs : NULL, strlen(attrs), 0,
                        text, text ? strlen(text) : 0};
            rc = pv_upsert(idx, &d, NULL);
          } else {
            rc = pv_add(idx, v, NULL);
          }
          if (rc) return fail("pv_add", rc, pv_errmsg(idx));
        }
        free(v);
        for (uint32_t k = 0; k < sh->ndel; k++) {
          uint32_t id = k;
          if (sh->ndel < sh->n)
            do id = (uint32_t)(rnd(&s) % sh->n); while (!pv_contains(idx, id));
          rc = pv_delete(idx, id);
          if (rc) return fail("pv_delete", rc, pv_errmsg(idx));
        }
        if (sh->compact && (rc = pv_compact(idx)) != PV_OK)
          return fail("pv_compact", rc, pv_errmsg(idx));
        size_t len = pv_serialized_size(idx);
        unsigned char *b = malloc(len);
        if (!b) return 1;
        rc = pv_serialize_to(idx, b, len, &len);
        if (rc) return fail("pv_serialize_to", rc, pv_errmsg(idx));
        pv_free(idx);
        rc = pv_verify(b, len);
        if (rc) return fail("pv_verify of a fresh file", rc, pv_errmsg(NULL));
        char path[4096];
        snprintf(path, sizeof path, "%s/%s-%s-%s.pvec", argv[1], METRIC[met], STORAGE[st],
                 sh->name);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(b, 1, len, f) != len || fclose(f) != 0) {
          fprintf(stderr, "make_corpus: cannot write %s\n", path);
          return 1;
        }
        free(b);
        files++;
      }
    }
  }
  printf("make_corpus: %d files in %s\n", files, argv[1]);
  return 0;
}
