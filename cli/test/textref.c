/* SPDX-License-Identifier: MIT */
/*
 * The reference for cli/test_cli.sh's text tests: the same documents and
 * queries through the C API directly (include/pocketvec.h), with nothing
 * of the CLI, so that the test can compare the CLI's answers with the
 * library's byte for byte. Linked with the library the CLI was built from.
 *
 *   textref build DOCS.tsv OUT.pvec [stem] [stopwords]
 *       DOCS.tsv: a document per line, KEY<TAB>TEXT<TAB>V1,V2,...; an empty
 *       TEXT is no text. pv_new with the defaults (cosine, f32) and the dim
 *       of the first vector, one pv_upsert per line, pv_serialize to OUT.
 *   textref query INDEX.pvec QUERIES.tsv [k=K] [prefix] [exact] [k1=X] [b=X]
 *                [rrf=C] [weighted=V,T] [window=N]
 *       QUERIES.tsv: a query per line, TEXT<TAB>V1,V2,... or TEXT<TAB>- (no
 *       vector); pv_query_run on each, printed as `query --json` prints a
 *       text or hybrid query's hits (keys are plain ASCII here, so they
 *       need no escaping).
 *
 * Input is trusted (the test writes it): lines up to 4 KB, up to 64 values.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pocketvec.h"

#define MAXDIM 64

static int die(const char *what, const pv_index *idx) {
  fprintf(stderr, "textref: %s: %s\n", what, pv_errmsg(idx));
  return 1;
}

/* "1,0,0.5" into v; the count. */
static size_t parse_vec(char *s, float *v) {
  size_t n = 0;
  for (char *t = strtok(s, ","); t && n < MAXDIM; t = strtok(NULL, ",")) v[n++] = strtof(t, NULL);
  return n;
}

/* Split line at tabs into at most n fields (the line is changed). */
static size_t fields(char *line, char **f, size_t n) {
  line[strcspn(line, "\n")] = '\0';
  size_t k = 0;
  for (char *p = line; k < n; k++) {
    f[k] = p;
    char *t = strchr(p, '\t');
    if (!t) return k + 1;
    *t = '\0';
    p = t + 1;
  }
  return k;
}

static int put(void *ctx, const void *data, size_t len) {
  return fwrite(data, 1, len, ctx) != len;
}

static int build(int argc, char **argv) {
  FILE *in = fopen(argv[2], "r");
  if (!in) return die("cannot open the documents", NULL);
  pv_options o = pv_options_default();
  for (int i = 4; i < argc; i++) {
    if (!strcmp(argv[i], "stem")) o.text |= PV_TEXT_STEM;
    if (!strcmp(argv[i], "stopwords")) o.text |= PV_TEXT_STOPWORDS;
  }
  pv_index *idx = NULL;
  char line[4096], *f[3];
  float v[MAXDIM];
  while (fgets(line, sizeof line, in)) {
    if (fields(line, f, 3) != 3) continue;
    size_t dim = parse_vec(f[2], v);
    if (!idx) {
      o.dim = (uint32_t)dim;
      if (pv_new(&o, &idx) != PV_OK) return die("pv_new", NULL);
    }
    pv_doc d = {f[0], strlen(f[0]), v, NULL, 0, 0, *f[1] ? f[1] : NULL, strlen(f[1])};
    if (pv_upsert(idx, &d, NULL) != PV_OK) return die("pv_upsert", idx);
  }
  fclose(in);
  FILE *out = fopen(argv[3], "wb");
  if (!idx || !out || pv_serialize(idx, put, out) != PV_OK || fclose(out))
    return die("cannot write the index", idx);
  pv_free(idx);
  return 0;
}

static int query(int argc, char **argv) {
  FILE *f = fopen(argv[2], "rb");
  if (!f) return die("cannot open the index", NULL);
  static unsigned char buf[1 << 20];
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  pv_index *idx;
  if (pv_load(buf, len, PV_LOAD_COPY, &idx) != PV_OK) return die("pv_load", NULL);
  pv_query base = pv_query_default();
  for (int i = 4; i < argc; i++) {
    const char *a = argv[i];
    if (!strncmp(a, "k=", 2)) base.k = strtoul(a + 2, NULL, 10);
    else if (!strcmp(a, "prefix")) base.prefix = 1;
    else if (!strcmp(a, "exact")) base.exact = 1;
    else if (!strncmp(a, "k1=", 3)) base.k1 = strtof(a + 3, NULL);
    else if (!strncmp(a, "b=", 2)) base.b = strtof(a + 2, NULL);
    else if (!strncmp(a, "rrf=", 4)) base.rrf_k = strtof(a + 4, NULL);
    else if (!strncmp(a, "weighted=", 9)) {
      base.fusion = PV_FUSE_WEIGHTED;
      sscanf(a + 9, "%f,%f", &base.w_vector, &base.w_text);
    } else if (!strncmp(a, "window=", 7)) base.window = strtoul(a + 7, NULL, 10);
  }
  FILE *in = fopen(argv[3], "r");
  if (!in) return die("cannot open the queries", NULL);
  pv_match *m = malloc(base.k * sizeof *m);
  char line[4096], *fl[2];
  float v[MAXDIM];
  while (fgets(line, sizeof line, in)) {
    if (fields(line, fl, 2) != 2) continue;
    pv_query q = base;
    q.text = fl[0];
    q.text_len = strlen(fl[0]);
    q.vector = strcmp(fl[1], "-") ? (parse_vec(fl[1], v), v) : NULL;
    size_t n;
    if (pv_query_run(idx, &q, m, &n) != PV_OK) return die("pv_query_run", idx);
    putchar('[');
    for (size_t h = 0; h < n; h++) {
      const char *key;
      size_t kl;
      if (pv_get_key(idx, m[h].id, &key, &kl) != PV_OK) return die("pv_get_key", idx);
      printf("%s{\"id\":%u,", h ? "," : "", m[h].id);
      if (key) printf("\"key\":\"%.*s\",", (int)kl, key);
      printf("\"score\":%.9g", (double)m[h].score);
      if (!q.vector || m[h].text_score != 0.0f) printf(",\"textScore\":%.9g", (double)m[h].text_score);
      if (!isnan(m[h].distance)) printf(",\"distance\":%.9g", (double)m[h].distance);
      putchar('}');
    }
    puts("]");
  }
  fclose(in);
  free(m);
  pv_free(idx);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && !strcmp(argv[1], "build")) return build(argc, argv);
  if (argc >= 4 && !strcmp(argv[1], "query")) return query(argc, argv);
  fprintf(stderr, "usage: textref build DOCS.tsv OUT.pvec [stem] [stopwords]\n"
                  "       textref query INDEX.pvec QUERIES.tsv [k=K] [prefix] [exact] ...\n");
  return 2;
}
