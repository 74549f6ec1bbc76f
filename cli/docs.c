/* SPDX-License-Identifier: MIT */
/*
 * Documents from files, for build and upsert: a JSON Lines file of
 * documents, or a vector file with a JSON Lines file of their attributes.
 *
 * The input is read twice. The first pass checks everything a user can get
 * wrong (JSON, types, dimensions, keys, attributes: the last two by the
 * library itself, on a one-vector scratch index), so a bad line 9,000,000
 * fails in seconds and not after an hour of graph building, and notes the
 * last document of every key. The second pass upserts in batches and skips
 * every document that a later one with the same key replaces: the result is
 * that of one pv_upsert_batch over the whole input (the last one wins, and
 * the ids are dense in input order), whatever the batch size, without
 * holding the input in memory. The cost is the keys in memory during the
 * build, and parsing the text twice, which is small beside the inserts.
 *
 * A document's "text" is handed to the library with the document, which
 * indexes it for full-text search with the index's text options and does
 * not keep it. The first pass checks only that it is a string of valid
 * UTF-8 (jsonl.c decodes it): that is all the library asks of text, and
 * tokenizing every document twice would cost as much as indexing it.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Key, attribute and text bytes a batch holds at most, besides its
 * vectors: a batch of a thousand documents with megabytes of attributes
 * or text each stops early rather than holding gigabytes. */
#define BATCH_TEXT_BUDGET ((size_t)64 << 20)

/* ------------------------------------------------------------------------ */
/* The keys seen, each with the number of its last document                 */
/* ------------------------------------------------------------------------ */

typedef struct key_entry {
  uint64_t hash;
  uint64_t last; /* UINT64_MAX: the slot is empty */
  size_t off;    /* the key's bytes in the arena */
  size_t len;
} key_entry;

typedef struct cli_keyset {
  key_entry *e;
  size_t cap, n; /* cap a power of two */
  char *arena;
  size_t arena_len, arena_cap;
} cli_keyset;

/* FNV-1a: keys come from users, not attackers, and a collision costs only
 * a comparison. */
static uint64_t key_hash(const char *k, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
  return h;
}

/* The slot of key k (hash h): its entry, or the empty slot where it
 * would go. The table is never full (keyset_put grows it first). */
static key_entry *key_slot(cli_keyset *ks, const char *k, size_t n, uint64_t h) {
  size_t mask = ks->cap - 1;
  for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
    key_entry *e = &ks->e[i];
    if (e->last == UINT64_MAX) return e;
    if (e->hash == h && e->len == n && memcmp(ks->arena + e->off, k, n) == 0) return e;
  }
}

/* Double the table (1,024 slots at first). 0, or -1 out of memory with
 * the table as it was. */
static int keyset_grow(cli_keyset *ks) {
  size_t cap = ks->cap ? 2 * ks->cap : 1024;
  key_entry *old = ks->e, *e = malloc(cap * sizeof *e);
  if (!e) return -1;
  for (size_t i = 0; i < cap; i++) e[i].last = UINT64_MAX;
  size_t oldcap = ks->cap;
  ks->e = e;
  ks->cap = cap;
  for (size_t i = 0; i < oldcap; i++)
    if (old[i].last != UINT64_MAX)
      *key_slot(ks, ks->arena + old[i].off, old[i].len, old[i].hash) = old[i];
  free(old);
  return 0;
}

/* Note that document `no` has key k: 1 if the key was seen before, 0 if
 * not, -1 out of memory. */
static int keyset_put(cli_keyset *ks, const char *k, size_t n, uint64_t no) {
  if ((ks->n + 1) * 4 > ks->cap * 3 && keyset_grow(ks)) return -1;
  uint64_t h = key_hash(k, n);
  key_entry *e = key_slot(ks, k, n, h);
  if (e->last != UINT64_MAX) {
    e->last = no;
    return 1;
  }
  if (ks->arena_len + n > ks->arena_cap) {
    size_t cap = ks->arena_cap ? ks->arena_cap : 4096;
    while (cap < ks->arena_len + n) cap *= 2;
    char *a = realloc(ks->arena, cap);
    if (!a) return -1;
    ks->arena = a;
    ks->arena_cap = cap;
  }
  memcpy(ks->arena + ks->arena_len, k, n);
  *e = (key_entry){h, no, ks->arena_len, n};
  ks->arena_len += n;
  ks->n++;
  return 0;
}

/* The number of the last document with key k (seen by keyset_put). */
static uint64_t keyset_last(cli_keyset *ks, const char *k, size_t n) {
  return key_slot(ks, k, n, key_hash(k, n))->last;
}

/* Free ks and its keys; NULL is a no-op. */
static void keyset_free(cli_keyset *ks) {
  if (!ks) return;
  free(ks->e);
  free(ks->arena);
  free(ks);
}

/* ------------------------------------------------------------------------ */
/* The first pass                                                           */
/* ------------------------------------------------------------------------ */

/* 1 if JSON text is null or an empty object: a document without
 * attributes. */
static int no_attributes(const char *t, size_t n) {
  size_t i = 0;
  while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n')) i++;
  if (n - i >= 4 && memcmp(t + i, "null", 4) == 0) return 1;
  if (i == n || t[i] != '{') return 0;
  for (i++; i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n'); i++) {
  }
  return i < n && t[i] == '}';
}

/* The library's judgement of a key and attributes of the current line, on
 * a scratch index holding one vector (id sid): keys through pv_lookup
 * (PV_INVALID for a key that could never be one), attributes through
 * pv_set_attributes (parsed and encoded exactly as an upsert would). The
 * message is the library's, placed at the line and column at fault. */
static int check_with_library(cli_docsrc *s, pv_index *scratch, uint32_t sid) {
  cli_jdoc *d = &s->jd;
  if (d->has_key) {
    int rc = pv_lookup(scratch, d->key, d->key_len, NULL);
    if (rc != PV_OK && rc != PV_NOTFOUND) {
      cli_jsonl_error(&s->jl, d->key_at, "%s", pv_errmsg(scratch));
      return CLI_FAILED;
    }
  }
  if (d->attr && !no_attributes(d->attr, d->attr_len)) {
    int rc = pv_set_attributes(scratch, sid, d->attr, d->attr_len, PV_ATTR_REPLACE);
    if (rc != PV_OK) {
      pv_error_info e;
      pv_errinfo(scratch, &e);
      size_t at = d->attr_at;
      if (e.offset >= 0 && (uint64_t)e.offset <= d->attr_len) at += (size_t)e.offset;
      cli_jsonl_error(&s->jl, at, "%s", pv_errmsg(scratch));
      return CLI_FAILED;
    }
  }
  return CLI_OK;
}

/* Read every line once: parse, check, note keys. */
static int first_pass(cli_docsrc *s, uint32_t dim, const char *dim_from) {
  pv_options o = pv_options_default();
  o.dim = 1;
  o.metric = PV_L2;
  pv_index *scratch = NULL;
  uint32_t sid;
  float one = 1.0f;
  int rc = pv_new(&o, &scratch);
  if (rc != PV_OK) return cli_pv_error("pv_new", NULL, rc);
  if ((rc = pv_add(scratch, &one, &sid)) != PV_OK) {
    cli_pv_error("pv_add", scratch, rc);
    pv_free(scratch);
    return CLI_FAILED;
  }
  uint64_t first_line = 0, dups = 0;
  char *line;
  size_t len;
  int mode = s->jsonl ? CLI_LINE_DOC : CLI_LINE_ATTRS;
  rc = CLI_FAILED;
  int r;
  while ((r = cli_jsonl_next(&s->jl, &line, &len)) > 0) {
    uint64_t no = s->jl.docs - 1;
    cli_progress("checking", (size_t)s->jl.pos, (size_t)s->jl.size);
    if (!s->jsonl && no >= s->vf.count) {
      cli_progress_done();
      cli_error("%s:%llu: one line more than the %llu vectors of %s; it needs a line of "
                "attributes per vector, in order (blank lines are skipped)",
                s->jl.path, (unsigned long long)s->jl.line, (unsigned long long)s->vf.count,
                s->path);
      goto done;
    }
    if (cli_jdoc_parse(&s->jd, &s->jl, line, len, mode) != CLI_OK) goto done;
    if (s->jsonl) {
      if (!dim) {
        dim = (uint32_t)s->jd.dim;
        first_line = s->jl.line;
      } else if (s->jd.dim != dim) {
        cli_progress_done();
        if (first_line)
          cli_jsonl_error(&s->jl, s->jd.vec_at,
                          "\"vector\" has %zu values; the first document's (line %llu) has %u",
                          s->jd.dim, (unsigned long long)first_line, dim);
        else
          cli_jsonl_error(&s->jl, s->jd.vec_at, "\"vector\" has %zu values; %s %u",
                          s->jd.dim, dim_from, dim);
        goto done;
      }
    }
    if (check_with_library(s, scratch, sid) != CLI_OK) goto done;
    if (s->jd.has_key) {
      int seen = keyset_put(s->keys, s->jd.key, s->jd.key_len, no);
      if (seen < 0) {
        cli_error("%s: out of memory noting the keys (%llu so far)", s->jl.path,
                  (unsigned long long)s->keys->n);
        goto done;
      }
      dups += (uint64_t)seen;
    }
  }
  cli_progress_done();
  if (r < 0) goto done;
  if (s->jsonl) {
    s->dim = dim;
    s->count = s->jl.docs;
  } else if (s->jl.docs != s->vf.count) {
    cli_error("%s: %llu lines of attributes for the %llu vectors of %s; it needs a line per "
              "vector, in order (blank lines are skipped: write {} for a vector without "
              "attributes)",
              s->jl.path, (unsigned long long)s->jl.docs, (unsigned long long)s->vf.count,
              s->path);
    goto done;
  }
  s->superseded = dups;
  rc = cli_jsonl_rewind(&s->jl);
done:
  cli_progress_done();
  pv_free(scratch);
  return rc;
}

int cli_docsrc_open(cli_docsrc *s, const char *cmd, const char *path, cli_format fmt,
                    const char *attrs, uint32_t dim, const char *dim_from) {
  memset(s, 0, sizeof *s);
  s->path = path;
  s->attrs_path = attrs;
  cli_format f;
  int rc = cli_resolve_format(cmd, path, fmt, &f);
  if (rc != CLI_OK) return rc;
  s->jsonl = f == CLI_FORMAT_JSONL;
  if (s->jsonl && attrs)
    return cli_usage_error(cmd, "--attributes is for a file of vectors; each line of '%s' "
                                "carries its own \"attributes\"",
                           path);
  if (!s->jsonl && f == CLI_FORMAT_RAW && !dim)
    return cli_usage_error(cmd, "'%s' is raw float32, which has no header: give its --dim",
                           path);
  s->keys = calloc(1, sizeof *s->keys);
  if (!s->keys) {
    cli_error("out of memory");
    return CLI_FAILED;
  }
  if (!s->jsonl) {
    rc = cli_vecfile_open(&s->vf, cmd, path, f, f == CLI_FORMAT_RAW ? dim : 0);
    if (rc != CLI_OK) goto fail;
    rc = CLI_FAILED;
    if (dim && s->vf.dim != dim) {
      cli_error("%s: the vectors have %u values; %s %u", path, s->vf.dim, dim_from, dim);
      goto fail;
    }
    s->dim = s->vf.dim;
    s->count = s->vf.count;
  }
  if (s->jsonl || attrs) {
    rc = CLI_FAILED;
    if (cli_jsonl_open(&s->jl, s->jsonl ? path : attrs) != CLI_OK) goto fail;
    if (first_pass(s, dim, dim_from) != CLI_OK) goto fail;
  }
  return CLI_OK;
fail:
  cli_docsrc_close(s);
  return rc;
}

void cli_docsrc_close(cli_docsrc *s) {
  cli_vecfile_close(&s->vf);
  if (s->jl.f) cli_jsonl_close(&s->jl);
  cli_jdoc_free(&s->jd);
  keyset_free(s->keys);
  s->keys = NULL;
}

/* ------------------------------------------------------------------------ */
/* The second pass: batches of documents                                    */
/* ------------------------------------------------------------------------ */

/* Where a document of a batch came from, for messages. */
typedef struct doc_origin {
  uint64_t no;    /* its number in the input, from 0 */
  uint64_t line;  /* its line (of the documents, or of the attributes) */
  size_t col0;    /* the line's column offset (a BOM) */
  size_t vec_at, key_at, attr_at, text_at;
} doc_origin;

typedef struct batch {
  size_t n, cap;
  pv_doc *docs;
  float *vecs;
  uint32_t *ids;
  doc_origin *from;
  size_t *key_off, *attr_off, *text_off; /* in text; the pointers are set once it
                                           stops moving */
  char *text;
  size_t text_len, text_cap;
} batch;

/* Free a batch's arrays; safe on a zeroed or freed batch. */
static void batch_free(batch *b) {
  free(b->docs);
  free(b->vecs);
  free(b->ids);
  free(b->from);
  free(b->key_off);
  free(b->attr_off);
  free(b->text_off);
  free(b->text);
  memset(b, 0, sizeof *b);
}

/* Room for cap documents of dim values. CLI_OK, or CLI_FAILED reported. */
static int batch_init(batch *b, size_t cap, uint32_t dim) {
  memset(b, 0, sizeof *b);
  b->cap = cap;
  b->docs = calloc(cap, sizeof *b->docs);
  b->vecs = malloc(cap * dim * sizeof *b->vecs);
  b->ids = malloc(cap * sizeof *b->ids);
  b->from = malloc(cap * sizeof *b->from);
  b->key_off = malloc(cap * sizeof *b->key_off);
  b->attr_off = malloc(cap * sizeof *b->attr_off);
  b->text_off = malloc(cap * sizeof *b->text_off);
  if (b->docs && b->vecs && b->ids && b->from && b->key_off && b->attr_off && b->text_off)
    return CLI_OK;
  batch_free(b);
  cli_error("out of memory for a batch of %zu documents; use a smaller --batch", cap);
  return CLI_FAILED;
}

/* Append n bytes to the batch's text; *off gets where they start. CLI_OK,
 * or CLI_FAILED reported. */
static int text_put(batch *b, const char *p, size_t n, size_t *off) {
  if (b->text_len + n > b->text_cap) {
    size_t cap = b->text_cap ? b->text_cap : 65536;
    while (cap < b->text_len + n) cap *= 2;
    char *t = realloc(b->text, cap);
    if (!t) {
      cli_error("out of memory for the keys, attributes and text of a batch; use a smaller "
                "--batch");
      return CLI_FAILED;
    }
    b->text = t;
    b->text_cap = cap;
  }
  if (n) memcpy(b->text + b->text_len, p, n);
  *off = b->text_len;
  b->text_len += n;
  return CLI_OK;
}

/* Read the next document of s into s->jd (the vector into vec): 1, 0 at
 * the end, -1 reported. */
static int next_doc(cli_docsrc *s, float *vec) {
  char *line;
  size_t len;
  if (s->jsonl) {
    int r = cli_jsonl_next(&s->jl, &line, &len);
    if (r <= 0) return r;
    if (cli_jdoc_parse(&s->jd, &s->jl, line, len, CLI_LINE_DOC) != CLI_OK) return -1;
    if (s->jd.dim != s->dim) {
      cli_jsonl_error(&s->jl, s->jd.vec_at, "\"vector\" has %zu values, not %u (did the file "
                      "change while being read?)",
                      s->jd.dim, s->dim);
      return -1;
    }
    memcpy(vec, s->jd.vec, sizeof(float) * s->dim);
    return 1;
  }
  size_t got;
  if (cli_vecfile_read(&s->vf, vec, 1, &got) != CLI_OK) return -1;
  if (got == 0) return 0;
  s->jd.has_key = s->jd.has_text = 0;
  s->jd.attr = NULL;
  if (s->attrs_path) {
    int r = cli_jsonl_next(&s->jl, &line, &len);
    if (r < 0) return -1;
    if (r == 0) {
      cli_error("%s: fewer lines than when it was checked (did the file change while being "
                "read?)",
                s->jl.path);
      return -1;
    }
    if (cli_jdoc_parse(&s->jd, &s->jl, line, len, CLI_LINE_ATTRS) != CLI_OK) return -1;
  }
  return 1;
}

/* Fill b with the next documents that no later one replaces: b->n of
 * them, 0 at the end. CLI_OK or CLI_FAILED reported. */
static int read_batch(cli_docsrc *s, batch *b, cli_upsert_stats *st) {
  b->n = 0;
  b->text_len = 0;
  while (b->n < b->cap && b->text_len < BATCH_TEXT_BUDGET) {
    float *vec = b->vecs + b->n * s->dim;
    int r = next_doc(s, vec);
    if (r < 0) return CLI_FAILED;
    if (r == 0) break;
    uint64_t no = s->next++;
    if (no >= s->count) {
      /* Lines the first pass never checked (nor saw their keys). */
      cli_error("%s: more documents than when it was checked (%llu): did the file change "
                "while being read?",
                s->jsonl ? s->path : s->jl.path, (unsigned long long)s->count);
      return CLI_FAILED;
    }
    cli_jdoc *d = &s->jd;
    if (d->has_key && keyset_last(s->keys, d->key, d->key_len) != no) continue;
    size_t i = b->n;
    b->key_off[i] = b->attr_off[i] = b->text_off[i] = SIZE_MAX;
    if (d->has_key && text_put(b, d->key, d->key_len, &b->key_off[i]) != CLI_OK)
      return CLI_FAILED;
    int attrs = d->attr && !no_attributes(d->attr, d->attr_len);
    if (attrs && text_put(b, d->attr, d->attr_len, &b->attr_off[i]) != CLI_OK)
      return CLI_FAILED;
    /* "" indexes nothing, as no text does; either way no text is given. */
    int text = d->has_text && d->text_len > 0;
    if (text && text_put(b, d->text, d->text_len, &b->text_off[i]) != CLI_OK) return CLI_FAILED;
    b->docs[i] = (pv_doc){.key_len = d->has_key ? d->key_len : 0,
                          .attributes_len = attrs ? d->attr_len : 0,
                          .text_len = text ? d->text_len : 0};
    b->from[i] = (doc_origin){no, s->jl.line, s->jl.col0, d->vec_at, d->key_at, d->attr_at,
                              d->text_at};
    st->keyed += (uint64_t)d->has_key;
    st->with_attrs += (uint64_t)attrs;
    st->with_text += (uint64_t)text;
    b->n++;
  }
  for (size_t i = 0; i < b->n; i++) {
    pv_doc *d = &b->docs[i];
    d->vector = b->vecs + i * s->dim;
    d->key = b->key_off[i] == SIZE_MAX ? NULL : b->text + b->key_off[i];
    d->attributes = b->attr_off[i] == SIZE_MAX ? NULL : b->text + b->attr_off[i];
    d->text = b->text_off[i] == SIZE_MAX ? NULL : b->text + b->text_off[i];
  }
  return CLI_OK;
}

/* Report the failure of pv_upsert_batch on b: the document at fault by
 * its place in the input (pv_errinfo's item), what is wrong with its
 * vector from the vector's own values where the library names an element
 * or the vector is all zeros, else the library's sentence. */
static void report_upsert_error(cli_docsrc *s, pv_index *idx, const batch *b) {
  pv_error_info e;
  int code = pv_errinfo(idx, &e);
  pv_options o;
  pv_get_options(idx, &o);
  if (e.item < 0 || (uint64_t)e.item >= b->n) {
    cli_error("%s: %s (in documents %llu .. %llu)", s->path, pv_errmsg(idx),
              (unsigned long long)b->from[0].no, (unsigned long long)b->from[b->n - 1].no);
    return;
  }
  const doc_origin *w = &b->from[e.item];
  const float *v = b->docs[e.item].vector;
  /* Where: the line and column for a document of JSON Lines, the vector's
   * number for one of a vector file. */
  char where[512];
  if (s->jsonl)
    snprintf(where, sizeof where, "%s:%llu:%llu", s->path, (unsigned long long)w->line,
             (unsigned long long)(w->col0 + w->vec_at + 1));
  else
    snprintf(where, sizeof where, "%s: vector %llu", s->path, (unsigned long long)w->no);
  char what[64];
  if (e.element >= 0 && (uint64_t)e.element < s->dim) {
    snprintf(what, sizeof what, "element %lld%s", (long long)e.element,
             s->jsonl ? " of \"vector\"" : "");
    float x = v[e.element];
    if (!isfinite(x))
      cli_error("%s: %s is %s", where, what, isnan(x) ? "NaN" : "infinite");
    else /* a rule of the library's (a magnitude limit): its sentence says which */
      cli_error("%s: %s is %g, which the index rejects (%s)", where, what, (double)x,
                pv_errmsg(idx));
    return;
  }
  int zero = 1;
  for (uint32_t k = 0; k < s->dim && zero; k++) zero = v[k] == 0.0f;
  if (zero && o.metric == PV_COSINE && code == PV_INVALID) {
    cli_error("%s: the vector is all zeros; cosine distance needs a non-zero vector", where);
    return;
  }
  if (s->jsonl)
    cli_error("%s:%llu: %s", s->path, (unsigned long long)w->line, pv_errmsg(idx));
  else if (s->attrs_path)
    cli_error("%s (%s:%llu): %s", where, s->attrs_path, (unsigned long long)w->line,
              pv_errmsg(idx));
  else
    cli_error("%s: %s", where, pv_errmsg(idx));
}

int cli_docs_upsert(cli_docsrc *s, pv_index *idx, size_t nb, const char *label,
                    cli_upsert_stats *st) {
  memset(st, 0, sizeof *st);
  uint64_t kept = s->count - s->superseded;
  if (nb > kept) nb = kept ? (size_t)kept : 1;
  batch b;
  if (batch_init(&b, nb, s->dim) != CLI_OK) return CLI_FAILED;
  int rc = CLI_FAILED;
  for (;;) {
    cli_progress(label, (size_t)s->next, (size_t)s->count);
    if (read_batch(s, &b, st) != CLI_OK) goto done;
    if (b.n == 0) break;
    for (size_t i = 0; i < b.n; i++)
      if (b.docs[i].key && pv_lookup(idx, b.docs[i].key, b.docs[i].key_len, NULL) == PV_OK)
        st->replaced++;
    int prc = pv_upsert_batch(idx, b.docs, b.n, b.ids);
    if (prc != PV_OK) {
      cli_progress_done();
      report_upsert_error(s, idx, &b);
      if (prc == PV_NOMEM)
        fprintf(stderr, "Try --storage sq8 (about 4x smaller), or a machine with more "
                        "memory; nothing was written.\n");
      else
        fprintf(stderr, "Fix or remove that document and run again; nothing was written.\n");
      goto done;
    }
    st->upserted += b.n;
  }
  rc = CLI_OK;
done:
  cli_progress_done();
  batch_free(&b);
  return rc;
}

void cli_docsrc_report_superseded(const cli_docsrc *s, const char *input) {
  char g[32];
  if (s->superseded)
    printf("%s: %s %s replaced by a later one with the same key (the last one wins)\n", input,
           cli_group(g, s->superseded), s->superseded == 1 ? "document was" : "documents were");
}
