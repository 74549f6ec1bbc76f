/* SPDX-License-Identifier: MIT */
/*
 * Test inputs for cli/test_cli.sh: vector files in every format the CLI
 * reads, deliberately broken ones, and byte flips. Plain C11 with no
 * dependency, so the test needs only a C compiler (no Python in CI).
 *
 *   gen FORMAT OUT N D [SEED] [nan=I,J]   write N vectors of D values
 *     FORMAT: fvecs, raw, npy (v1.0 '<f4'), npy2 (v2.0 '<f4'), npy-f8
 *             ('<f8'), npy-fortran (fortran_order True), npy-big ('>f4')
 *     nan=I,J puts a NaN at element J of vector I
 *   gen flip FILE OFFSET                  invert every bit of one byte
 *   gen fvecs-baddim OUT N D I [D2]       as fvecs, record I has dim D2 (D+1)
 *   gen socket PATH                       leave a Unix socket at PATH
 *   gen npy-shape OUT SHAPE BYTES [HLEN]  a v1.0 '<f4' .npy whose 'shape' is
 *     the text SHAPE as given ("(-1, 4)"), then BYTES zero bytes of data;
 *     HLEN, if given, is written as the header's length instead of the true one
 *
 * The vectors are pseudo-random in [-1, 1) (a fixed LCG), so no two are
 * alike and each one's nearest neighbour is itself.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static uint64_t state;

static float next_value(void) {
  state = state * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((double)(state >> 40) / (double)(1u << 24) * 2.0 - 1.0);
}

static void put32(FILE *f, uint32_t v) {
  unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                        (unsigned char)(v >> 24)};
  fwrite(b, 1, 4, f);
}

static void put_float(FILE *f, float x, int bytes, int big) {
  unsigned char b[8];
  if (bytes == 8) {
    double d = x;
    memcpy(b, &d, 8);
  } else {
    memcpy(b, &x, 4);
  }
  if (big)
    for (int i = 0; i < bytes / 2; i++) {
      unsigned char t = b[i];
      b[i] = b[bytes - 1 - i];
      b[bytes - 1 - i] = t;
    }
  fwrite(b, 1, (size_t)bytes, f);
}

/* An .npy preamble and header, padded with spaces to a multiple of 64 and
 * ended by a newline, as numpy.save writes it. */
static void npy_header(FILE *f, int version, const char *descr, int fortran, unsigned long n,
                       unsigned long d) {
  char dict[256];
  int len = snprintf(dict, sizeof dict,
                     "{'descr': '%s', 'fortran_order': %s, 'shape': (%lu, %lu), }", descr,
                     fortran ? "True" : "False", n, d);
  int pre = version == 1 ? 10 : 12;
  int total = pre + len + 1;
  int pad = (64 - total % 64) % 64;
  unsigned hlen = (unsigned)(len + pad + 1);
  fwrite("\x93NUMPY", 1, 6, f);
  fputc(version, f);
  fputc(0, f);
  if (version == 1) {
    fputc((int)(hlen & 0xff), f);
    fputc((int)(hlen >> 8), f);
  } else {
    put32(f, hlen);
  }
  fwrite(dict, 1, (size_t)len, f);
  for (int i = 0; i < pad; i++) fputc(' ', f);
  fputc('\n', f);
}

static int flip(const char *path, long off) {
  FILE *f = fopen(path, "r+b");
  if (!f || fseek(f, off, SEEK_SET) != 0) return 1;
  int c = fgetc(f);
  if (c == EOF || fseek(f, off, SEEK_SET) != 0) return 1;
  fputc(~c & 0xff, f);
  return fclose(f) != 0;
}

/* A Unix socket bound at path; it stays in the file system after exit. */
static int make_socket(const char *path) {
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof a.sun_path) return 1;
  strcpy(a.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    perror(path);
    return 1;
  }
  return close(fd) != 0;
}

/* A hostile .npy: any shape text, any amount of data, any header length. */
static int npy_shape(const char *path, const char *shape, unsigned long bytes, const char *hlen) {
  char dict[512];
  int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }",
                     shape);
  if (len < 0 || len >= (int)sizeof dict) return 2;
  int pad = (64 - (10 + len + 1) % 64) % 64;
  unsigned h = hlen ? (unsigned)strtoul(hlen, NULL, 10) : (unsigned)(len + pad + 1);
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    return 1;
  }
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  fputc((int)(h & 0xff), f);
  fputc((int)(h >> 8 & 0xff), f);
  fwrite(dict, 1, (size_t)len, f);
  for (int i = 0; i < pad; i++) fputc(' ', f);
  fputc('\n', f);
  for (unsigned long i = 0; i < bytes; i++) fputc(0, f);
  return fclose(f) != 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "flip") == 0) return flip(argv[2], atol(argv[3]));
  if (argc == 3 && strcmp(argv[1], "socket") == 0) return make_socket(argv[2]);
  if ((argc == 5 || argc == 6) && strcmp(argv[1], "npy-shape") == 0)
    return npy_shape(argv[2], argv[3], strtoul(argv[4], NULL, 10), argc == 6 ? argv[5] : NULL);
  if (argc < 5) {
    fprintf(stderr, "usage: gen FORMAT OUT N D [SEED] [nan=I,J] | gen flip FILE OFFSET\n");
    return 2;
  }
  const char *fmt = argv[1];
  unsigned long n = strtoul(argv[3], NULL, 10), d = strtoul(argv[4], NULL, 10);
  long nan_i = -1, nan_j = -1, bad_rec = -1;
  unsigned long bad_dim = 0;
  state = 12345;
  for (int i = 5; i < argc; i++) {
    if (strncmp(argv[i], "nan=", 4) == 0)
      sscanf(argv[i] + 4, "%ld,%ld", &nan_i, &nan_j);
    else if (strcmp(fmt, "fvecs-baddim") == 0 && bad_rec < 0)
      bad_rec = atol(argv[i]);
    else if (strcmp(fmt, "fvecs-baddim") == 0)
      bad_dim = strtoul(argv[i], NULL, 10);
    else
      state = strtoull(argv[i], NULL, 10);
  }
  FILE *f = fopen(argv[2], "wb");
  if (!f) {
    perror(argv[2]);
    return 1;
  }
  int bytes = 4, big = 0;
  if (strcmp(fmt, "npy") == 0) npy_header(f, 1, "<f4", 0, n, d);
  else if (strcmp(fmt, "npy2") == 0) npy_header(f, 2, "<f4", 0, n, d);
  else if (strcmp(fmt, "npy-f8") == 0) npy_header(f, 1, "<f8", 0, n, d), bytes = 8;
  else if (strcmp(fmt, "npy-fortran") == 0) npy_header(f, 1, "<f4", 1, n, d);
  else if (strcmp(fmt, "npy-big") == 0) npy_header(f, 1, ">f4", 0, n, d), big = 1;
  else if (strcmp(fmt, "fvecs") != 0 && strcmp(fmt, "fvecs-baddim") != 0 &&
           strcmp(fmt, "raw") != 0) {
    fprintf(stderr, "gen: unknown format %s\n", fmt);
    return 2;
  }
  int fvecs = strncmp(fmt, "fvecs", 5) == 0;
  for (unsigned long i = 0; i < n; i++) {
    unsigned long dd = (long)i == bad_rec ? (bad_dim ? bad_dim : d + 1) : d;
    if (fvecs) put32(f, (uint32_t)dd);
    for (unsigned long j = 0; j < dd; j++) {
      float x = next_value();
      if ((long)i == nan_i && (long)j == nan_j) x = (float)strtod("nan", NULL);
      put_float(f, x, bytes, big);
    }
  }
  return fclose(f) != 0;
}
