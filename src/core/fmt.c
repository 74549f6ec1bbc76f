/* SPDX-License-Identifier: MIT */
/*
 * A minimal formatter for error messages. Supports %s, %d, %u, %zu and %%;
 * anything else is copied as is. Always NUL-terminates when size > 0.
 *
 * Why not vsnprintf: the core must stay small in WebAssembly, and libc's
 * printf family drags in float formatting and locale code worth several KB.
 */
#include "core.h"

typedef struct {
  char *buf;
  size_t size, len;
} pv_out;

static void put(pv_out *o, char c) {
  if (o->len + 1 < o->size) o->buf[o->len++] = c;
}

static void put_u(pv_out *o, uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) put(o, tmp[--n]);
}

void pv__vfmt(char *buf, size_t size, const char *fmt, va_list ap) {
  pv_out o = {buf, size, 0};
  if (size == 0) return;
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') {
      put(&o, *p);
      continue;
    }
    p++;
    if (*p == 's') {
      const char *s = va_arg(ap, const char *);
      while (s && *s) put(&o, *s++);
    } else if (*p == 'd') {
      int v = va_arg(ap, int);
      if (v < 0) {
        put(&o, '-');
        put_u(&o, (uint64_t)(-(int64_t)v));
      } else {
        put_u(&o, (uint64_t)v);
      }
    } else if (*p == 'u') {
      put_u(&o, va_arg(ap, unsigned));
    } else if (p[0] == 'z' && p[1] == 'u') {
      p++;
      put_u(&o, va_arg(ap, size_t));
    } else if (*p == '%') {
      put(&o, '%');
    } else {
      put(&o, '%');
      if (!*p) break;
      put(&o, *p);
    }
  }
  o.buf[o.len] = '\0';
}

void pv__fmt(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pv__vfmt(buf, size, fmt, ap);
  va_end(ap);
}
