/* SPDX-License-Identifier: MIT */
/*
 * Vector files: the readers behind `build` and `query`.
 *
 * Three binary formats, all float32 little-endian, and one of text:
 *   .fvecs  per vector an int32 dim, then dim floats (the TEXMEX/ANN format);
 *           every record must have the same dim.
 *   .npy    NumPy's format: magic, version, a Python dict literal naming the
 *           dtype, order and shape, padding, then the array. Only '<f4',
 *           C order, 2-D (n, d) with n, d >= 1 is read; anything else is
 *           refused with what to do about it, and a shape no file can hold
 *           (n * d * 4 bytes past off_t, or past 64 bits) as impossible.
 *   raw     floats back to back; the dim comes from --dim.
 *   .jsonl  JSON Lines, one object with a "vector" array per line (jsonl.c
 *           reads them; the vectors are the numbers as the nearest float32).
 *           Only `query` reads vectors from JSON Lines here (`build` reads
 *           documents through docs.c), so a line may also carry "text", or
 *           only "text": a text or hybrid query.
 *
 * A file is checked whole before the first vector is read (header, dtype,
 * and that its size is exactly what the header implies), so a truncated file
 * fails at once, naming the incomplete record, and never after the index was
 * built. Then it is read front to back in batches the caller sizes, so a
 * file of many gigabytes needs only one batch of memory.
 *
 * The library itself requires a little-endian host (src/persist.c), so the
 * floats are used as they are read; only the fvecs dim words are decoded
 * byte by byte.
 */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cli.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "the vector readers use float32 data as read: they need a little-endian host"
#endif

/* Longest .npy header accepted. NumPy writes a few hundred bytes; this only
 * stops a hostile length from asking for gigabytes. */
#define NPY_MAX_HEADER (1u << 20)

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------------------ */
/* Formats                                                                  */
/* ------------------------------------------------------------------------ */

const char *cli_format_name(cli_format fmt) {
  switch (fmt) {
    case CLI_FORMAT_FVECS: return "fvecs";
    case CLI_FORMAT_NPY: return "npy";
    case CLI_FORMAT_RAW: return "raw";
    case CLI_FORMAT_JSONL: return "jsonl";
    default: return "auto";
  }
}

int cli_parse_format(const char *cmd, const char *text, cli_format *out) {
  if (strcmp(text, "fvecs") == 0) *out = CLI_FORMAT_FVECS;
  else if (strcmp(text, "npy") == 0) *out = CLI_FORMAT_NPY;
  else if (strcmp(text, "raw") == 0) *out = CLI_FORMAT_RAW;
  else if (strcmp(text, "jsonl") == 0) *out = CLI_FORMAT_JSONL;
  else return cli_usage_error(cmd, "--format expects fvecs, npy, raw or jsonl, got '%s'", text);
  return CLI_OK;
}

/* 1 if path ends with ext, ignoring case. */
static int has_ext(const char *path, const char *ext) {
  size_t n = strlen(path), e = strlen(ext);
  if (n <= e) return 0;
  for (size_t i = 0; i < e; i++) {
    char c = path[n - e + i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != ext[i]) return 0;
  }
  return 1;
}

int cli_resolve_format(const char *cmd, const char *path, cli_format fmt, cli_format *out) {
  if (fmt != CLI_FORMAT_AUTO) {
    *out = fmt;
    return CLI_OK;
  }
  if (has_ext(path, ".fvecs")) *out = CLI_FORMAT_FVECS;
  else if (has_ext(path, ".npy")) *out = CLI_FORMAT_NPY;
  else if (has_ext(path, ".f32") || has_ext(path, ".bin") || has_ext(path, ".raw"))
    *out = CLI_FORMAT_RAW;
  else if (has_ext(path, ".jsonl") || has_ext(path, ".ndjson"))
    *out = CLI_FORMAT_JSONL;
  else
    return cli_usage_error(cmd,
                           "cannot tell the format of '%s' from its name (.fvecs, .npy, "
                           ".f32/.bin/.raw, .jsonl); say it with --format fvecs|npy|raw|jsonl",
                           path);
  return CLI_OK;
}

/* ------------------------------------------------------------------------ */
/* .fvecs                                                                   */
/* ------------------------------------------------------------------------ */

/* The file's size is not a whole number of records: find the first record
 * at fault by walking the dim words (pread, so the stream is untouched).
 * Only runs on a broken file, so one small read per record is fine. */
static void fvecs_report_bad(const cli_vecfile *vf, uint64_t rec) {
  int fd = fileno(vf->f);
  uint64_t pos = 0;
  for (uint64_t i = 0;; i++, pos += rec) {
    uint64_t left = vf->size - pos;
    unsigned char w[4];
    if (left < 4 || pread(fd, w, 4, (off_t)pos) != 4 || le32(w) == vf->dim) {
      if (left >= rec) continue;
      cli_error("%s: record %llu is truncated: it has %llu of the %llu bytes a record of "
                "dim %u needs; the file is incomplete: write or copy it again",
                vf->path, (unsigned long long)i, (unsigned long long)left,
                (unsigned long long)rec, vf->dim);
      return;
    }
    cli_error("%s: record %llu has dim %d, record 0 has dim %u; every record of an .fvecs "
              "file must have the same dim (is the file damaged, or not .fvecs? then say "
              "--format)",
              vf->path, (unsigned long long)i, (int)le32(w), vf->dim);
    return;
  }
}

static int fvecs_open(cli_vecfile *vf) {
  unsigned char w[4];
  if (vf->size == 0) {
    cli_error("%s: the file is empty: it holds no vectors", vf->path);
    return CLI_FAILED;
  }
  if (vf->size < 4 || fread(w, 1, 4, vf->f) != 4) {
    cli_error("%s: the file is too short for an .fvecs record (%llu bytes)", vf->path,
              (unsigned long long)vf->size);
    return CLI_FAILED;
  }
  int32_t d = (int32_t)le32(w);
  if (d < 1 || (uint32_t)d > PV_MAX_DIM) {
    cli_error("%s: record 0 says its dim is %d, which is not 1 .. %u: is this really an "
              ".fvecs file? If not, say --format",
              vf->path, (int)d, PV_MAX_DIM);
    return CLI_FAILED;
  }
  vf->dim = (uint32_t)d;
  uint64_t rec = 4 + 4 * (uint64_t)vf->dim;
  vf->count = vf->size / rec;
  if (vf->size % rec) {
    fvecs_report_bad(vf, rec);
    return CLI_FAILED;
  }
  return fseeko(vf->f, 0, SEEK_SET) == 0 ? CLI_OK : CLI_FAILED;
}

static int fvecs_read(cli_vecfile *vf, float *out, size_t n) {
  size_t rec = 4 + 4 * (size_t)vf->dim;
  if (vf->rec_cap < rec * n) {
    unsigned char *p = realloc(vf->rec, rec * n);
    if (!p) {
      cli_error("out of memory for a batch of %zu records; use a smaller --batch", n);
      return CLI_FAILED;
    }
    vf->rec = p;
    vf->rec_cap = rec * n;
  }
  if (fread(vf->rec, rec, n, vf->f) != n) return -1;
  for (size_t i = 0; i < n; i++) {
    const unsigned char *r = vf->rec + i * rec;
    if (le32(r) != vf->dim) {
      cli_error("%s: record %llu has dim %d, record 0 has dim %u; every record of an "
                ".fvecs file must have the same dim (is the file damaged?)",
                vf->path, (unsigned long long)(vf->next + i), (int)le32(r), vf->dim);
      return CLI_FAILED;
    }
    memcpy(out + i * vf->dim, r + 4, 4 * (size_t)vf->dim);
  }
  return CLI_OK;
}

/* ------------------------------------------------------------------------ */
/* .npy                                                                     */
/* ------------------------------------------------------------------------ */

/* The header is a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (1000, 384), }
 * followed by spaces and a newline. This is a small parser for exactly the
 * literals NumPy writes: strings, True/False and tuples of integers. */
typedef struct {
  const char *p, *end;
} lit;

static void lit_space(lit *l) {
  while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r'))
    l->p++;
}

static int lit_char(lit *l, char c) {
  lit_space(l);
  if (l->p < l->end && *l->p == c) {
    l->p++;
    return 1;
  }
  return 0;
}

/* A quoted string without escapes into out (cap bytes). */
static int lit_string(lit *l, char *out, size_t cap) {
  lit_space(l);
  if (l->p >= l->end || (*l->p != '\'' && *l->p != '"')) return 0;
  char q = *l->p++;
  size_t n = 0;
  while (l->p < l->end && *l->p != q) {
    if (*l->p == '\\' || n + 1 >= cap) return 0;
    out[n++] = *l->p++;
  }
  if (l->p >= l->end) return 0;
  l->p++;
  out[n] = '\0';
  return 1;
}

static int lit_word(lit *l, const char *w) {
  lit_space(l);
  size_t n = strlen(w);
  if ((size_t)(l->end - l->p) < n || memcmp(l->p, w, n) != 0) return 0;
  l->p += n;
  return 1;
}

/* The 'shape' entry of a header, as far as it could be read. */
typedef struct {
  uint64_t dims[2]; /* the first two entries */
  int nd;           /* how many entries (any number: a 3-D array is named as such) */
  char text[80];    /* the tuple as written, for messages: "(3, 4)"; cut at 64 bytes */
  char bad[32];     /* the entry at fault, as written, when why is set by one */
  const char *why;  /* NULL, or what is wrong */
} npy_shape;

/* A tuple of non-negative integers, "(3, 4)", "(5,)" or "()"; Python 2 wrote
 * "(3L, 4L)". 1 if it is one, else 0 with s->why saying what is wrong and,
 * if one entry is at fault (negative, not a whole number, beyond 64 bits),
 * that entry in s->bad. */
static int lit_shape(lit *l, npy_shape *s) {
  memset(s, 0, sizeof *s);
  lit_space(l);
  /* The text: to the ')', or to the '}' or end of line of a tuple never closed. */
  const char *close = l->p;
  while (close < l->end && *close != ')' && *close != '}' && *close != '\n') close++;
  size_t tl = (size_t)((close < l->end && *close == ')' ? close + 1 : close) - l->p);
  while (tl > 0 && l->p[tl - 1] == ' ') tl--;
  snprintf(s->text, sizeof s->text, "%.*s%s", (int)(tl > 64 ? 64 : tl), l->p,
           tl > 64 ? "..." : "");
  if (!lit_char(l, '(')) {
    s->why = "'shape' is not a tuple";
    return 0;
  }
  for (;;) {
    if (lit_char(l, ')')) return 1;
    lit_space(l);
    /* The entry runs to the next ',' or ')'. */
    const char *tok = l->p, *te = l->p;
    while (te < l->end && *te != ',' && *te != ')' && *te != '}') te++;
    const char *q = tok;
    uint64_t v = 0;
    int digits = 0, over = 0;
    for (; q < te && *q >= '0' && *q <= '9'; q++, digits++) {
      unsigned d = (unsigned)(*q - '0');
      if (v > (UINT64_MAX - d) / 10) over = 1;
      else v = v * 10 + d;
    }
    if (digits && q < te && *q == 'L') q++;
    while (q < te && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')) q++;
    if (!digits || q != te || over) {
      size_t bl = (size_t)(te - tok);
      while (bl > 0 && (tok[bl - 1] == ' ' || tok[bl - 1] == '\n')) bl--;
      snprintf(s->bad, sizeof s->bad, "%.*s%s", (int)(bl > 24 ? 24 : bl), tok,
               bl > 24 ? "..." : "");
      if (bl == 0 && te < l->end && *te == ',') s->why = "'shape' has an empty entry";
      else if (bl == 0) s->why = "'shape' is not a tuple closed by ')'";
      else if (over) s->why = "is too large (2^64 or more)";
      else if (*tok == '-' && tok + 1 < te && tok[1] >= '0' && tok[1] <= '9')
        s->why = "is negative";
      else s->why = "is not a whole number";
      return 0;
    }
    if (s->nd < 2) s->dims[s->nd] = v;
    s->nd++;
    l->p = te;
    if (!lit_char(l, ',')) {
      if (lit_char(l, ')')) return 1;
      s->why = "'shape' is not a tuple closed by ')'";
      return 0;
    }
  }
}

/* What to say about a dtype other than '<f4'. */
static void npy_bad_dtype(const char *path, const char *descr) {
  static const struct {
    const char *code, *name;
  } known[] = {
      {"f2", "float16"}, {"f8", "float64"}, {"f16", "float128"}, {"i1", "int8"},
      {"i2", "int16"},   {"i4", "int32"},   {"i8", "int64"},     {"u1", "uint8"},
      {"u2", "uint16"},  {"u4", "uint32"},  {"u8", "uint64"},    {"b1", "bool"},
      {"c8", "complex64"}, {"c16", "complex128"},
  };
  const char *code = descr;
  char order = 0;
  if (*code == '<' || *code == '>' || *code == '|' || *code == '=') order = *code++;
  if (strcmp(code, "f4") == 0 && order == '>') {
    cli_error("%s: big-endian float32 ('>f4') is not supported; convert to little-endian "
              "float32 (numpy: a.astype('<f4')) and save again",
              path);
    return;
  }
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp(code, known[i].code) == 0) {
      cli_error("%s: %s is not supported; convert to float32 (numpy: "
                "np.save(path, a.astype(np.float32)))",
                path, known[i].name);
      return;
    }
  cli_error("%s: dtype '%s' is not supported; only float32 ('<f4') is: convert with "
            "a.astype(np.float32)",
            path, descr);
}

static int npy_open(cli_vecfile *vf) {
  unsigned char pre[12];
  static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (vf->size < 10 || fread(pre, 1, 10, vf->f) != 10 || memcmp(pre, magic, 6) != 0) {
    cli_error("%s: not an .npy file (it does not start with \\x93NUMPY); if it is raw "
              "float32 or .fvecs, say --format",
              vf->path);
    return CLI_FAILED;
  }
  unsigned major = pre[6], minor = pre[7];
  uint64_t hlen, data_off;
  if (major == 1 && minor == 0) {
    hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8;
    data_off = 10 + hlen;
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (vf->size < 12 || fread(pre + 10, 1, 2, vf->f) != 2) {
      cli_error("%s: the .npy file ends inside its preamble; it is truncated", vf->path);
      return CLI_FAILED;
    }
    hlen = le32(pre + 8);
    data_off = 12 + hlen;
  } else {
    cli_error("%s: .npy format version %u.%u is not supported (1.0, 2.0 and 3.0 are); "
              "save it again with numpy.save",
              vf->path, major, minor);
    return CLI_FAILED;
  }
  if (hlen > NPY_MAX_HEADER) {
    cli_error("%s: the .npy header says it is %llu bytes long, far more than any NumPy "
              "writes; the file is damaged",
              vf->path, (unsigned long long)hlen);
    return CLI_FAILED;
  }
  if (data_off > vf->size) {
    cli_error("%s: the .npy header says it is %llu bytes long, but the file ends %llu bytes "
              "after the preamble; the file is truncated or damaged",
              vf->path, (unsigned long long)hlen,
              (unsigned long long)(vf->size - (data_off - hlen)));
    return CLI_FAILED;
  }
  char *h = malloc(hlen ? hlen : 1);
  if (!h) {
    cli_error("out of memory for the .npy header of %s", vf->path);
    return CLI_FAILED;
  }
  if (fread(h, 1, hlen, vf->f) != hlen) {
    free(h);
    cli_error("%s: cannot read the .npy header: %s", vf->path,
              ferror(vf->f) ? strerror(errno) : "unexpected end of file");
    return CLI_FAILED;
  }

  lit l = {h, h + hlen};
  char descr[32] = "", key[32];
  int fortran = -1, have_shape = 0, have_descr = 0, structured = 0, bad_entry = 0;
  npy_shape shape;
  memset(&shape, 0, sizeof shape);
  const char *why = NULL;
  if (!lit_char(&l, '{')) why = "it does not start with '{'";
  while (!why && !lit_char(&l, '}')) {
    if (!lit_string(&l, key, sizeof key) || !lit_char(&l, ':')) {
      why = "a key is not a quoted string followed by ':'";
    } else if (strcmp(key, "descr") == 0) {
      lit_space(&l);
      if (l.p < l.end && *l.p == '[')
        why = "structured", structured = 1;
      else if (!lit_string(&l, descr, sizeof descr))
        why = "'descr' is not a string";
      have_descr = 1;
    } else if (strcmp(key, "fortran_order") == 0) {
      if (lit_word(&l, "True")) fortran = 1;
      else if (lit_word(&l, "False")) fortran = 0;
      else why = "'fortran_order' is neither True nor False";
    } else if (strcmp(key, "shape") == 0) {
      have_shape = 1;
      if (!lit_shape(&l, &shape)) why = shape.why, bad_entry = shape.bad[0] != '\0';
    } else {
      why = "it has a key other than 'descr', 'fortran_order' and 'shape'";
    }
    if (!why && !lit_char(&l, ',')) {
      if (!lit_char(&l, '}')) why = "the entries are not separated by commas";
      break;
    }
  }
  lit_space(&l);
  if (!why && l.p != l.end) why = "there is text after the closing '}'";
  if (!why && (!have_descr || fortran < 0 || !have_shape))
    why = "it lacks one of 'descr', 'fortran_order' and 'shape'";
  free(h);
  if (why && structured) {
    cli_error("%s: the array has a structured dtype (named fields); only plain float32 "
              "('<f4') is supported: save the vector field as its own float32 array",
              vf->path);
    return CLI_FAILED;
  }
  if (why && bad_entry) {
    cli_error("%s: the .npy shape %s is impossible: %s %s; the header is damaged: write the "
              "file again",
              vf->path, shape.text, shape.bad, why);
    return CLI_FAILED;
  }
  if (why) {
    cli_error("%s: the .npy header is not what numpy.save writes: %s", vf->path, why);
    return CLI_FAILED;
  }
  if (strcmp(descr, "<f4") != 0) {
    npy_bad_dtype(vf->path, descr);
    return CLI_FAILED;
  }
  if (fortran) {
    cli_error("%s: the array is in Fortran order; save a C-ordered copy "
              "(numpy: np.save(path, np.ascontiguousarray(a)))",
              vf->path);
    return CLI_FAILED;
  }
  if (shape.nd != 2) {
    cli_error("%s: the array has %d dimension%s, shape %s; it must be 2-D, one vector per row, "
              "shape (n, d)%s",
              vf->path, shape.nd, shape.nd == 1 ? "" : "s", shape.text,
              shape.nd == 1 ? " (numpy: a.reshape(1, -1) for a single vector)" : "");
    return CLI_FAILED;
  }
  char g[32];
  if (shape.dims[0] == 0 || shape.dims[1] == 0) {
    cli_error("%s: the array's shape %s has a zero dimension: %s", vf->path, shape.text,
              shape.dims[0] == 0 ? "it holds no vectors" : "its vectors have no values");
    return CLI_FAILED;
  }
  if (shape.dims[1] > PV_MAX_DIM) {
    cli_error("%s: the vectors have %llu values (shape %s); pocketvec takes 1 .. %s", vf->path,
              (unsigned long long)shape.dims[1], shape.text, cli_group(g, PV_MAX_DIM));
    return CLI_FAILED;
  }
  vf->dim = (uint32_t)shape.dims[1];
  vf->count = shape.dims[0];
  uint64_t row = 4 * (uint64_t)vf->dim, have = vf->size - data_off;
  /* The most data bytes any file can hold after this header: off_t's limit.
   * Checked before multiplying, so the product cannot wrap. */
  uint64_t room = (uint64_t)INT64_MAX - data_off;
  if (vf->count > room / row) {
    cli_error("%s: the .npy shape %s is impossible: %llu vectors of %u float32 values would "
              "take %.3g bytes, more than any file can hold; the header is damaged: write the "
              "file again",
              vf->path, shape.text, (unsigned long long)vf->count, vf->dim,
              (double)vf->count * (double)row);
    return CLI_FAILED;
  }
  if (vf->count * row != have) {
    if (have < vf->count * row)
      cli_error("%s: the .npy file is truncated: shape (%llu, %u) needs %llu bytes of data, "
                "there are %llu (vector %llu is the first incomplete one); write or copy it "
                "again",
                vf->path, (unsigned long long)vf->count, vf->dim,
                (unsigned long long)(vf->count * row), (unsigned long long)have,
                (unsigned long long)(have / row));
    else
      cli_error("%s: the .npy file holds %llu bytes of data, more than shape (%llu, %u) "
                "needs; it is damaged: write it again",
                vf->path, (unsigned long long)have, (unsigned long long)vf->count, vf->dim);
    return CLI_FAILED;
  }
  return fseeko(vf->f, (off_t)data_off, SEEK_SET) == 0 ? CLI_OK : CLI_FAILED;
}

/* ------------------------------------------------------------------------ */
/* Raw float32                                                              */
/* ------------------------------------------------------------------------ */

static int raw_open(cli_vecfile *vf) {
  uint64_t row = 4 * (uint64_t)vf->dim;
  vf->count = vf->size / row;
  if (vf->size % row) {
    cli_error("%s: the file has %llu bytes, not a whole number of %u-dim float32 vectors "
              "(%llu bytes each): vector %llu has only %llu bytes; check --dim, or the file "
              "is truncated",
              vf->path, (unsigned long long)vf->size, vf->dim, (unsigned long long)row,
              (unsigned long long)vf->count, (unsigned long long)(vf->size % row));
    return CLI_FAILED;
  }
  return CLI_OK;
}

/* ------------------------------------------------------------------------ */
/* JSON Lines: a "vector" and/or a "text" member per line                   */
/* ------------------------------------------------------------------------ */

/* A JSON Lines file has no header to check, so it is read whole once: every
 * line parsed, and every vector of the first one's dimension (or dim's, when
 * given), so that a bad line fails before any work, as a truncated .npy
 * does; the queries with a vector, with text and with both are counted.
 * Then it is rewound for the reads. */
static int jsonl_open(cli_vecfile *vf, uint32_t dim) {
  vf->dim = dim;
  vf->jl = calloc(1, sizeof *vf->jl);
  vf->jd = calloc(1, sizeof *vf->jd);
  if (!vf->jl || !vf->jd) {
    cli_error("out of memory opening %s", vf->path);
    return CLI_FAILED;
  }
  if (cli_jsonl_open(vf->jl, vf->path) != CLI_OK) {
    free(vf->jl);
    vf->jl = NULL;
    return CLI_FAILED;
  }
  vf->size = vf->jl->size;
  uint64_t first_line = 0;
  char *line;
  size_t len;
  int rc;
  while ((rc = cli_jsonl_next(vf->jl, &line, &len)) > 0) {
    cli_progress("reading", (size_t)vf->jl->pos, (size_t)vf->jl->size);
    if (cli_jdoc_parse(vf->jd, vf->jl, line, len, CLI_LINE_QUERY) != CLI_OK) return CLI_FAILED;
    if (vf->jd->has_text) {
      vf->with_text++;
      vf->hybrid += (uint64_t)vf->jd->has_vector;
      if (!vf->first_text_line) vf->first_text_line = vf->jl->line;
    }
    if (!vf->jd->has_vector) continue;
    vf->with_vector++;
    if (!first_line && !dim) {
      vf->dim = (uint32_t)vf->jd->dim;
      first_line = vf->jl->line;
    } else if (vf->jd->dim != vf->dim) {
      cli_progress_done();
      if (first_line)
        cli_jsonl_error(vf->jl, vf->jd->vec_at, "\"vector\" has %zu values; the first line's "
                        "(line %llu) has %u",
                        vf->jd->dim, (unsigned long long)first_line, vf->dim);
      else
        cli_jsonl_error(vf->jl, vf->jd->vec_at, "\"vector\" has %zu values; --dim says %u",
                        vf->jd->dim, dim);
      return CLI_FAILED;
    }
  }
  cli_progress_done();
  if (rc < 0) return CLI_FAILED;
  vf->count = vf->jl->docs;
  if (vf->count == 0) {
    cli_error("%s: the file holds no lines (blank lines are skipped): no queries", vf->path);
    return CLI_FAILED;
  }
  return cli_jsonl_rewind(vf->jl);
}

/* Append the text of the line just parsed to q_text as query i's. CLI_OK,
 * or CLI_FAILED reported. */
static int jsonl_keep_text(cli_vecfile *vf, size_t i) {
  const cli_jdoc *d = vf->jd;
  vf->q_off[i] = SIZE_MAX;
  vf->q_len[i] = 0;
  if (!d->has_text) return CLI_OK;
  if (vf->q_text_len + d->text_len + 1 > vf->q_text_cap) {
    size_t cap = vf->q_text_cap ? vf->q_text_cap : 4096;
    while (cap < vf->q_text_len + d->text_len + 1) cap *= 2;
    char *p = realloc(vf->q_text, cap);
    if (!p) {
      cli_error("%s: out of memory for the text of the queries", vf->path);
      return CLI_FAILED;
    }
    vf->q_text = p;
    vf->q_text_cap = cap;
  }
  memcpy(vf->q_text + vf->q_text_len, d->text, d->text_len + 1);
  vf->q_off[i] = vf->q_text_len;
  vf->q_len[i] = d->text_len;
  vf->q_text_len += d->text_len + 1;
  return CLI_OK;
}

static int jsonl_read(cli_vecfile *vf, float *out, size_t n) {
  if (n > vf->q_cap) {
    unsigned char *qv = realloc(vf->q_vec, n);
    if (qv) vf->q_vec = qv;
    size_t *qo = realloc(vf->q_off, n * sizeof *qo);
    if (qo) vf->q_off = qo;
    size_t *ql = realloc(vf->q_len, n * sizeof *ql);
    if (ql) vf->q_len = ql;
    if (!qv || !qo || !ql) {
      cli_error("%s: out of memory for a batch of %zu queries", vf->path, n);
      return CLI_FAILED;
    }
    vf->q_cap = n;
  }
  vf->q_text_len = 0;
  for (size_t i = 0; i < n; i++) {
    char *line;
    size_t len;
    int rc = cli_jsonl_next(vf->jl, &line, &len);
    if (rc < 0) return CLI_FAILED;
    if (rc == 0) return -1; /* fewer lines than counted: the file changed */
    if (cli_jdoc_parse(vf->jd, vf->jl, line, len, CLI_LINE_QUERY) != CLI_OK) return CLI_FAILED;
    vf->q_vec[i] = (unsigned char)vf->jd->has_vector;
    if (jsonl_keep_text(vf, i) != CLI_OK) return CLI_FAILED;
    if (!vf->jd->has_vector) {
      memset(out + i * vf->dim, 0, sizeof(float) * vf->dim);
      continue;
    }
    if (vf->jd->dim != vf->dim) {
      cli_jsonl_error(vf->jl, vf->jd->vec_at, "\"vector\" has %zu values, not %u (did the "
                      "file change while being read?)",
                      vf->jd->dim, vf->dim);
      return CLI_FAILED;
    }
    memcpy(out + i * vf->dim, vf->jd->vec, sizeof(float) * vf->dim);
  }
  return CLI_OK;
}

/* ------------------------------------------------------------------------ */
/* Open, read, close                                                        */
/* ------------------------------------------------------------------------ */

int cli_vecfile_open(cli_vecfile *vf, const char *cmd, const char *path, cli_format fmt,
                     uint32_t dim) {
  memset(vf, 0, sizeof *vf);
  vf->path = path;
  int rc = cli_resolve_format(cmd, path, fmt, &vf->format);
  if (rc != CLI_OK) return rc;
  if (vf->format == CLI_FORMAT_RAW && dim == 0)
    return cli_usage_error(cmd, "'%s' is raw float32, which has no header: give its --dim",
                           path);

  if (vf->format == CLI_FORMAT_JSONL) {
    rc = jsonl_open(vf, dim);
    if (rc != CLI_OK) cli_vecfile_close(vf);
    return rc;
  }
  int fd = cli_open_regular(path, "save the vectors to a file first", &vf->size);
  if (fd < 0) return CLI_FAILED;
  vf->f = fdopen(fd, "rb");
  if (!vf->f) {
    cli_error("%s: cannot open: %s", path, strerror(errno));
    close(fd);
    return CLI_FAILED;
  }
  vf->dim = dim;
  switch (vf->format) {
    case CLI_FORMAT_FVECS: rc = fvecs_open(vf); break;
    case CLI_FORMAT_NPY: rc = npy_open(vf); break;
    default: rc = raw_open(vf); break;
  }
  if (rc == CLI_OK && dim && vf->dim != dim) {
    cli_error("%s: the vectors have %u values, but --dim says %u; drop --dim or fix it",
              path, vf->dim, dim);
    rc = CLI_FAILED;
  }
  vf->with_vector = vf->count;
  if (rc != CLI_OK) cli_vecfile_close(vf);
  return rc;
}

int cli_vecfile_read(cli_vecfile *vf, float *out, size_t max, size_t *got) {
  *got = 0;
  uint64_t left = vf->count - vf->next;
  size_t n = left < max ? (size_t)left : max;
  if (n == 0) return CLI_OK;
  int rc;
  if (vf->format == CLI_FORMAT_FVECS)
    rc = fvecs_read(vf, out, n);
  else if (vf->format == CLI_FORMAT_JSONL)
    rc = jsonl_read(vf, out, n);
  else
    rc = fread(out, 4 * (size_t)vf->dim, n, vf->f) == n ? CLI_OK : -1;
  if (rc < 0) {
    /* The size was checked at open: the file changed, or the disk failed. */
    cli_error("%s: cannot read vectors %llu .. %llu: %s", vf->path,
              (unsigned long long)vf->next, (unsigned long long)(vf->next + n - 1),
              vf->f && ferror(vf->f) ? strerror(errno)
                                     : "the file ended early (did it change while being read?)");
    return CLI_FAILED;
  }
  if (rc != CLI_OK) return rc;
  vf->next += n;
  *got = n;
  return CLI_OK;
}

int cli_vecfile_query(const cli_vecfile *vf, size_t i, const char **text, size_t *len) {
  *text = NULL;
  *len = 0;
  if (vf->format != CLI_FORMAT_JSONL) return 1;
  if (vf->q_off[i] != SIZE_MAX) {
    *text = vf->q_text + vf->q_off[i];
    *len = vf->q_len[i];
  }
  return vf->q_vec[i];
}

void cli_vecfile_close(cli_vecfile *vf) {
  if (vf->f) fclose(vf->f);
  free(vf->q_vec);
  free(vf->q_off);
  free(vf->q_len);
  free(vf->q_text);
  vf->q_vec = NULL;
  vf->q_off = vf->q_len = NULL;
  vf->q_text = NULL;
  vf->q_cap = vf->q_text_cap = vf->q_text_len = 0;
  free(vf->rec);
  if (vf->jl) cli_jsonl_close(vf->jl);
  if (vf->jd) cli_jdoc_free(vf->jd);
  free(vf->jl);
  free(vf->jd);
  vf->jl = NULL;
  vf->jd = NULL;
  vf->f = NULL;
  vf->rec = NULL;
  vf->rec_cap = 0;
}
