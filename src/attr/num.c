/* SPDX-License-Identifier: MIT */
/*
 * Numbers: decimal text to double, correctly rounded (round half to even),
 * and double to the shortest of its 15, 16 or 17 significant digit forms
 * that reads back to the same double. Shared by the JSON parser and
 * printer and by the filter language's literals.
 *
 * Why our own: libc's strtod and printf are locale-dependent, large in the
 * WebAssembly build (printf's float code alone is several KB), and the
 * core keeps libc's formatting out. Tables of powers (as in Eisel-Lemire or
 * Ryu) would be faster but cost 10 KB or more; numbers in attributes are
 * parsed once per write and printed once per read, so a small exact method
 * does: most numbers take the fast path (at most 15 digits and a power of
 * ten up to 1e22, both exact in a double, so one IEEE operation rounds
 * correctly), the rest go through exact big-integer arithmetic.
 *
 * The big-integer path: the value is N / D with N and D integers (the
 * digits times a power of ten, and a power of ten or of two); both are
 * scaled by a power of two so the quotient has 63 or 64 bits, the quotient
 * is computed exactly with the remainder telling whether anything was cut
 * off, and that 64-bit quotient is rounded once to the 53 bits (fewer for a
 * subnormal) of the result. Only the first MAX_DIGITS significant digits
 * are kept; any nonzero digit beyond them is summarised as a final 1, which
 * cannot change the rounding since every value halfway between two doubles
 * has at most 767 significant digits.
 *
 * PV_HOST_DECIMAL (the WebAssembly build, wasm/wasm.mk): the text is still
 * checked here, but its value comes from the host through the one import
 * env.decimal, which the JS glue answers with Number() of the text. JS
 * engines convert correctly rounded, half to even (V8, SpiderMonkey and
 * JavaScriptCore all do, for any number of digits), so the values are the
 * same bit for bit, and the big-integer code stays out of the module: about 1.2 KB gzip of a 40 KB budget. The printer
 * (pv__num_format) keeps its own code; it is not in that build.
 */
#include <float.h>
#include <string.h>

#include "attr/attr.h"

#ifdef PV_HOST_DECIMAL
/* The double nearest to the JSON number text p (len bytes, already checked
 * by pv__num_parse): +-infinity past the largest double, a zero of the
 * sign below the smallest subnormal. Supplied by the host as env.decimal
 * (js/src/wasm.js); the import attributes let wasm-ld leave it undefined
 * without --allow-undefined, and no module that never parses a number
 * imports it. */
__attribute__((import_module("env"), import_name("decimal"))) double pv__host_decimal(const char *p,
                                                                                       size_t len);
#endif

/* ------------------------------------------------------------------------ */
/* Big integers                                                             */
/* ------------------------------------------------------------------------ */

#define MAX_DIGITS 800
/* The largest operand: 10^1125 (a denominator for 801 digits of a value
 * near 1e-324) times 2^63, about 3800 bits. */
#define BN_WORDS 128

typedef struct bn {
  uint32_t n; /* words in use; w[n-1] != 0 unless n == 0 */
  uint32_t w[BN_WORDS];
} bn;

/* a = v. */
static void bn_set(bn *a, uint64_t v) {
  a->n = 0;
  while (v) {
    a->w[a->n++] = (uint32_t)v;
    v >>= 32;
  }
}

/* a = a * m + add. Stays within BN_WORDS for every operand this file makes
 * (see BN_WORDS); a carry beyond it is dropped rather than written out of
 * bounds. */
static void bn_muladd(bn *a, uint32_t m, uint32_t add) {
  uint64_t carry = add;
  for (uint32_t i = 0; i < a->n; i++) {
    uint64_t t = (uint64_t)a->w[i] * m + carry;
    a->w[i] = (uint32_t)t;
    carry = t >> 32;
  }
  if (carry && a->n < BN_WORDS) a->w[a->n++] = (uint32_t)carry;
}

/* a = a * 10^k. */
static void bn_mul_pow10(bn *a, uint32_t k) {
  for (; k >= 9; k -= 9) bn_muladd(a, 1000000000u, 0);
  uint32_t p = 1;
  while (k--) p *= 10;
  if (p > 1) bn_muladd(a, p, 0);
}

/* a = a * 2^k. */
static void bn_shl(bn *a, uint32_t k) {
  uint32_t words = k / 32, bits = k % 32;
  if (a->n == 0 || a->n + words >= BN_WORDS) return; /* the latter cannot happen: BN_WORDS */
  uint32_t n = a->n + words;
  a->w[n] = 0;
  for (uint32_t i = a->n; i-- > 0;) {
    if (bits) a->w[i + words + 1] |= a->w[i] >> (32 - bits);
    a->w[i + words] = a->w[i] << bits;
  }
  for (uint32_t i = 0; i < words; i++) a->w[i] = 0;
  a->n = n + 1;
  while (a->n && !a->w[a->n - 1]) a->n--;
}

/* a = a / 2. */
static void bn_shr1(bn *a) {
  for (uint32_t i = 0; i < a->n; i++)
    a->w[i] = (a->w[i] >> 1) | (i + 1 < a->n ? a->w[i + 1] << 31 : 0);
  while (a->n && !a->w[a->n - 1]) a->n--;
}

/* -1, 0 or 1 as a <, == or > b. */
static int bn_cmp(const bn *a, const bn *b) {
  if (a->n != b->n) return a->n < b->n ? -1 : 1;
  for (uint32_t i = a->n; i-- > 0;)
    if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
  return 0;
}

/* a -= b, for a >= b. */
static void bn_sub(bn *a, const bn *b) {
  uint64_t borrow = 0;
  for (uint32_t i = 0; i < a->n; i++) {
    uint64_t t = (uint64_t)a->w[i] - (i < b->n ? b->w[i] : 0) - borrow;
    a->w[i] = (uint32_t)t;
    borrow = (t >> 32) & 1;
  }
  while (a->n && !a->w[a->n - 1]) a->n--;
}

/* The number of bits of v (0 for 0). */
static uint32_t bits64(uint64_t v) {
  uint32_t n = 0;
  while (v) {
    n++;
    v >>= 1;
  }
  return n;
}

/* The number of bits of a. */
static uint32_t bn_bits(const bn *a) {
  return a->n ? (a->n - 1) * 32 + bits64(a->w[a->n - 1]) : 0;
}

/* floor(r / d), which must be below 2^64; r keeps the remainder. Bit by
 * bit (64 compare-and-subtract steps): simple, and fast enough for the
 * rare numbers that get here. */
static uint64_t bn_divq(bn *r, const bn *d) {
  bn t = *d;
  bn_shl(&t, 63);
  uint64_t q = 0;
  for (int i = 63; i >= 0; i--) {
    if (bn_cmp(r, &t) >= 0) {
      bn_sub(r, &t);
      q |= 1ull << i;
    }
    bn_shr1(&t);
  }
  return q;
}

/* ------------------------------------------------------------------------ */
/* Decimal to double                                                        */
/* ------------------------------------------------------------------------ */

/* The double with these bits, and back. */
static double bits_to_double(uint64_t b) {
  double x;
  memcpy(&x, &b, sizeof x);
  return x;
}

static uint64_t double_to_bits(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

/* The double nearest to (q + f) * 2^-s, where 2^62 <= q < 2^64, f in [0, 1)
 * and inexact says whether f > 0: round half to even, to 53 bits or to the
 * subnormal grid. 0, or PV_NUM_RANGE past the largest double. */
static int round_pack(uint64_t q, int64_t s, int inexact, double *out) {
  int64_t e = (int64_t)bits64(q) - 1 - s; /* 2^e <= value < 2^(e+1) */
  int64_t keep = e >= -1022 ? 53 : e + 1075; /* bits the result holds */
  if (keep < 0) { /* below half the smallest subnormal */
    *out = 0.0;
    return 0;
  }
  uint32_t drop = bits64(q) - (uint32_t)keep; /* 10 .. 64 */
  uint64_t m, rem, half;
  if (drop >= 64) {
    m = 0;
    rem = q;
    half = 1ull << 63;
  } else {
    m = q >> drop;
    rem = q & ((1ull << drop) - 1);
    half = 1ull << (drop - 1);
  }
  if (rem > half || (rem == half && (inexact || (m & 1)))) m++;
  uint64_t bits;
  if (e >= -1022) {
    if (e > 1023) return PV_NUM_RANGE;
    /* m in [2^52, 2^53]: a carry to 2^53 moves into the exponent field. */
    bits = ((uint64_t)(e + 1023) << 52) + (m - (1ull << 52));
    if (bits >= 0x7ff0000000000000ull) return PV_NUM_RANGE;
  } else {
    bits = m; /* a carry to 2^52 is the smallest normal, as it should be */
  }
  *out = bits_to_double(bits);
  return 0;
}

/* The double nearest to d * 10^e10 (d: a positive integer of nd decimal
 * digits; consumed) into *out. 0, or PV_NUM_RANGE when it rounds past the
 * largest double. */
static int to_double(bn *d, int64_t nd, int64_t e10, double *out) {
  if (nd + e10 >= 310) return PV_NUM_RANGE; /* >= 1e309 */
  if (nd + e10 <= -324) { /* < 1e-324, under half the smallest subnormal */
    *out = 0.0;
    return 0;
  }
  /* Fast path: both factors exact in a double, so one rounding (where
   * doubles are evaluated as doubles: not on x87). */
  if (FLT_EVAL_METHOD == 0 && d->n <= 2 && e10 >= -22 && e10 <= 22) {
    uint64_t v = d->n ? d->w[0] | (d->n > 1 ? (uint64_t)d->w[1] << 32 : 0) : 0;
    if (v <= (1ull << 53)) {
      double p = 1.0, x = (double)v;
      for (int64_t i = 0; i < (e10 < 0 ? -e10 : e10); i++) p *= 10.0;
      *out = e10 < 0 ? x / p : x * p;
      return 0;
    }
  }
  bn den;
  bn_set(&den, 1);
  if (e10 >= 0)
    bn_mul_pow10(d, (uint32_t)e10);
  else
    bn_mul_pow10(&den, (uint32_t)-e10);
  /* Scale so the quotient lies in (2^62, 2^64). */
  int64_t s = 63 - ((int64_t)bn_bits(d) - (int64_t)bn_bits(&den));
  if (s > 0)
    bn_shl(d, (uint32_t)s);
  else
    bn_shl(&den, (uint32_t)-s);
  uint64_t q = bn_divq(d, &den);
  return round_pack(q, s, d->n != 0, out);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Contract in attr.h. */
int pv__num_parse(const char *s, size_t len, size_t *end, double *out) {
  size_t i = 0;
  int neg = i < len && s[i] == '-';
  if (neg) i++;
  size_t int0 = i;
  if (i >= len || !is_digit(s[i])) {
    *end = i;
    return PV_NUM_DIGIT;
  }
  if (s[i] == '0') {
    i++;
    if (i < len && is_digit(s[i])) {
      *end = i;
      return PV_NUM_ZERO;
    }
  } else {
    while (i < len && is_digit(s[i])) i++;
  }
  size_t int1 = i, frac0 = i, frac1 = i;
  if (i < len && s[i] == '.') {
    frac0 = ++i;
    if (i >= len || !is_digit(s[i])) {
      *end = i;
      return PV_NUM_DIGIT;
    }
    while (i < len && is_digit(s[i])) i++;
    frac1 = i;
  }
  int64_t exp = 0;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    int eneg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    if (i >= len || !is_digit(s[i])) {
      *end = i;
      return PV_NUM_DIGIT;
    }
    /* Saturate: past a billion the value is 0 or out of range anyway. */
    for (; i < len && is_digit(s[i]); i++)
      if (exp < 1000000000) exp = exp * 10 + (s[i] - '0');
    if (eneg) exp = -exp;
  }
  *end = i;

#ifdef PV_HOST_DECIMAL
  /* What the scan found is for the conversion below, not needed here. */
  (void)neg, (void)int0, (void)int1, (void)frac0, (void)frac1, (void)exp;
  double h = pv__host_decimal(s, i);
  if (h - h != 0) { /* infinite: past the largest double */
    *end = 0;
    return PV_NUM_RANGE;
  }
  *out = h;
  return PV_NUM_OK;
#else
  /* The significant digits: int0..int1 then frac0..frac1, without leading
   * and trailing zeros. The value is their integer times 10^e10. */
  int64_t e10 = exp - (int64_t)(frac1 - frac0);
  size_t nint = int1 - int0, ndig = nint + (frac1 - frac0);
#define DIGIT(k) (s[(k) < nint ? int0 + (k) : frac0 + (k)-nint])
  size_t first = 0, last = ndig;
  while (first < ndig && DIGIT(first) == '0') first++;
  while (last > first && DIGIT(last - 1) == '0') last--;
  double x = 0.0;
  if (first < last) {
    e10 += (int64_t)(ndig - last);
    size_t nd = last - first;
    int more = nd > MAX_DIGITS; /* the digits cut off hold a nonzero one */
    if (more) {
      e10 += (int64_t)(nd - MAX_DIGITS);
      nd = MAX_DIGITS;
    }
    bn d;
    bn_set(&d, 0);
    size_t k = first, stop = first + nd;
    while (k < stop) {
      uint32_t chunk = 0, mul = 1;
      for (int c = 0; c < 9 && k < stop; c++, k++) {
        chunk = chunk * 10 + (uint32_t)(DIGIT(k) - '0');
        mul *= 10;
      }
      bn_muladd(&d, mul, chunk);
    }
    if (more) {
      bn_muladd(&d, 10, 1);
      e10 -= 1;
      nd += 1;
    }
    if (to_double(&d, (int64_t)nd, e10, &x)) {
      *end = 0;
      return PV_NUM_RANGE;
    }
  }
#undef DIGIT
  *out = neg ? -x : x;
  return PV_NUM_OK;
#endif
}

/* ------------------------------------------------------------------------ */
/* Double to decimal                                                        */
/* ------------------------------------------------------------------------ */

static const uint64_t POW10[] = {1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull,
                                 1000000ull, 10000000ull, 100000000ull, 1000000000ull,
                                 10000000000ull, 100000000000ull, 1000000000000ull,
                                 10000000000000ull, 100000000000000ull,
                                 1000000000000000ull, 10000000000000000ull,
                                 100000000000000000ull, 1000000000000000000ull};

/* Writes the decimal digits of v (at least one) at p; returns how many. */
static size_t put_u64(char *p, uint64_t v) {
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++) p[i] = tmp[n - 1 - i];
  return n;
}

/* x (positive, finite) = m * 2^k rounded to prec significant digits,
 * half to even: *q (prec digits exactly) and *e10 with x ~ q * 10^(*e10 -
 * prec + 1). */
static void round_digits(uint64_t m, int k, int prec, uint64_t *q, int *e10) {
  /* floor(log10 x), from floor(log2 x); off by at most one, corrected below. */
  int64_t e2 = (int64_t)bits64(m) - 1 + k;
  int64_t t = e2 * 78913; /* 78913 / 2^18 ~ log10(2) */
  int e = (int)(t >= 0 ? t >> 18 : -((-t + (1 << 18) - 1) >> 18));
  for (;;) {
    int64_t scale = prec - 1 - e; /* q ~ x * 10^scale */
    bn num, den;
    bn_set(&num, m);
    bn_set(&den, 1);
    if (k >= 0)
      bn_shl(&num, (uint32_t)k);
    else
      bn_shl(&den, (uint32_t)-k);
    if (scale >= 0)
      bn_mul_pow10(&num, (uint32_t)scale);
    else
      bn_mul_pow10(&den, (uint32_t)-scale);
    if (bn_bits(&num) > bn_bits(&den) + 63) { /* estimate far too low: cannot happen */
      e++;
      continue;
    }
    uint64_t v = bn_divq(&num, &den);
    if (v >= POW10[prec]) { /* the estimate was one too low */
      e++;
      continue;
    }
    if (v < POW10[prec - 1]) { /* one too high */
      e--;
      continue;
    }
    bn_shl(&num, 1); /* twice the remainder against the divisor: half to even */
    int c = bn_cmp(&num, &den);
    if (c > 0 || (c == 0 && (v & 1))) v++;
    if (v == POW10[prec]) { /* 9.99..5 rounded up to 10.0 */
      v = POW10[prec - 1];
      e++;
    }
    *q = v;
    *e10 = e;
    return;
  }
}

/* Contract in attr.h. */
size_t pv__num_format(double x, char *buf) {
  uint64_t bits = double_to_bits(x);
  char *p = buf;
  if (bits >> 63) *p++ = '-';
  bits &= ~(1ull << 63);
  double ax = bits_to_double(bits);
  if (ax <= 9007199254740992.0 && ax == (double)(uint64_t)ax) /* integers up to 2^53, -0 */
    return (size_t)(p - buf) + put_u64(p, (uint64_t)ax);

  uint64_t m = bits & ((1ull << 52) - 1);
  int be = (int)(bits >> 52);
  int k = be ? be - 1075 : -1074;
  if (be) m |= 1ull << 52;
  uint64_t q = 0;
  int e10 = 0, prec;
  for (prec = 15; prec <= 17; prec++) {
    round_digits(m, k, prec, &q, &e10);
    if (prec == 17) break; /* 17 digits always read back exactly */
    bn d;
    bn_set(&d, q);
    double back;
    if (to_double(&d, prec, (int64_t)e10 - prec + 1, &back) == 0 && back == ax) break;
  }
  int nd = prec;
  while (nd > 1 && q % 10 == 0) {
    q /= 10;
    nd--;
  }
  char dig[20];
  put_u64(dig, q);
  /* As JavaScript writes numbers: positional from 1e-6 up to 1e21, with
   * an exponent beyond. */
  if (e10 >= -6 && e10 < 21) {
    if (e10 < 0) {
      *p++ = '0';
      *p++ = '.';
      for (int i = -1; i > e10; i--) *p++ = '0';
      memcpy(p, dig, (size_t)nd);
      p += nd;
    } else {
      for (int i = 0; i <= e10; i++) *p++ = i < nd ? dig[i] : '0';
      if (nd > e10 + 1) {
        *p++ = '.';
        memcpy(p, dig + e10 + 1, (size_t)(nd - e10 - 1));
        p += nd - e10 - 1;
      }
    }
  } else {
    *p++ = dig[0];
    if (nd > 1) {
      *p++ = '.';
      memcpy(p, dig + 1, (size_t)(nd - 1));
      p += nd - 1;
    }
    *p++ = 'e';
    *p++ = e10 < 0 ? '-' : '+';
    p += put_u64(p, (uint64_t)(e10 < 0 ? -e10 : e10));
  }
  return (size_t)(p - buf);
}
