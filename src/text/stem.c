/* SPDX-License-Identifier: MIT */
/*
 * The English stemmer (token.h): Porter2, the algorithm Snowball calls
 * "english", as the current Snowball defines it (snowballstem.org; its
 * vocabulary and output are tests/fixtures/porter2.txt). Beyond the 2006
 * description of Porter2 that is: more prefixes that end R1 (past,
 * univers, later, emerg, organ, inter), "past" counting as a short
 * syllable, -ogist, the -ing rules (dying -> die; inning, outing... kept)
 * and the proceed/exceed/succeed words folded into Step 1b.
 *
 * Written from the algorithm's description, not from Snowball's code. The
 * steps follow the description's order and names so the two can be read
 * side by side; suffix lists are NUL-separated strings ("suffix\0what it
 * becomes\0...") searched for the longest match, which is what Snowball's
 * `substring ... among` does: the longest suffix is picked first, and only
 * then are its conditions tested (no fallback to a shorter one).
 *
 * The word is stemmed in place: no step makes it longer than it came.
 * p1 and p2 (the starts of R1 and R2) are offsets from the word's start,
 * fixed once, as in Snowball: later steps shorten the word at its end only.
 */
#include <string.h>

#include "text/token.h"

/* a e i o u y; 'Y' (a y made consonant by the prelude) is not. */
static int vowel(char c) {
  unsigned d = (unsigned)(unsigned char)c - 'a';
  return d < 26 && (0x1104111u >> d & 1);
}

/* The longest suffix of w[0..n) in tab ("suffix\0replacement\0"...,
 * ending with an empty suffix): its replacement, with *at set to where
 * the suffix starts; NULL (and *at = n) when none matches. */
static const char *longest(const char *w, size_t n, const char *tab, size_t *at) {
  const char *best = NULL;
  size_t bl = 0;
  while (*tab) {
    size_t k = strlen(tab);
    const char *r = tab + k + 1;
    if (k <= n && k > bl && !memcmp(w + n - k, tab, k)) best = r, bl = k;
    tab = r + strlen(r) + 1;
  }
  *at = n - bl;
  return best;
}

/* The length of the word of list ("word\0word\0"..., none a prefix of
 * another) that w[0..n) starts with; 0 if none does. */
static size_t prefix(const char *w, size_t n, const char *list) {
  for (size_t k; (k = strlen(list)); list += k + 1)
    if (k <= n && !memcmp(w, list, k)) return k;
  return 0;
}

/* The syllable ending at c is short: a vowel between two non-vowels, the
 * last not w, x or Y; or a vowel then a non-vowel at the word's start;
 * or "past". */
static int shortv(const char *w, size_t c) {
  return (c >= 3 && !vowel(w[c - 1]) && w[c - 1] != 'w' && w[c - 1] != 'x' &&
          w[c - 1] != 'Y' && vowel(w[c - 2]) && !vowel(w[c - 3])) ||
         (c == 2 && vowel(w[0]) && !vowel(w[1])) || (c >= 4 && !memcmp(w + c - 4, "past", 4));
}

/* Just past the first non-vowel that follows a vowel, from `from` on;
 * n + 1 when there is none. */
static size_t after_vc(const char *w, size_t n, size_t from) {
  while (from < n && !vowel(w[from])) from++;
  while (from < n && vowel(w[from])) from++;
  return from < n ? from + 1 : n + 1;
}

/* ---- the steps ---------------------------------------------------------- */

/* Whole words with a stem of their own ("" : kept as they are). */
static const char EXCEPTIONS[] =
    "skis\0ski\0skies\0sky\0idly\0idl\0gently\0gentl\0ugly\0ugli\0early\0earli\0only\0onli\0"
    "singly\0singl\0sky\0\0news\0\0howe\0\0atlas\0\0cosmos\0\0bias\0\0andes\0\0";

/* Prefixes after which R1 starts, whatever their vowels say. */
static const char R1_PREFIXES[] = "gener\0commun\0arsen\0past\0univers\0later\0emerg\0organ\0inter\0";

/* Replacements of Steps 2-4. A replacement may start with a condition:
 * "!" the suffix must also be in R2; "[xy]" the letter before the suffix
 * must be one of x, y. */
static const char STEP2[] =
    "tional\0tion\0enci\0ence\0anci\0ance\0abli\0able\0entli\0ent\0izer\0ize\0ization\0ize\0"
    "ational\0ate\0ation\0ate\0ator\0ate\0alism\0al\0aliti\0al\0alli\0al\0fulness\0ful\0"
    "ousli\0ous\0ousness\0ous\0iveness\0ive\0iviti\0ive\0biliti\0ble\0bli\0ble\0ogist\0og\0"
    "ogi\0[l]og\0fulli\0ful\0lessli\0less\0li\0[cdeghkmnrt]\0";
static const char STEP3[] =
    "tional\0tion\0ational\0ate\0alize\0al\0icate\0ic\0iciti\0ic\0ical\0ic\0ful\0\0ness\0\0"
    "ative\0!\0";
static const char STEP4[] =
    "al\0\0ance\0\0ence\0\0er\0\0ic\0\0able\0\0ible\0\0ant\0\0ement\0\0ment\0\0ent\0\0ism\0\0"
    "ate\0\0iti\0\0ous\0\0ive\0\0ize\0\0ion\0[st]\0";

/* Steps 2, 3 and 4: the longest suffix of tab, replaced when it starts in
 * the region (at or after `region`) and its condition holds. */
static size_t replace(char *w, size_t n, const char *tab, size_t region, size_t p2) {
  size_t at;
  const char *r = longest(w, n, tab, &at);
  if (!r || at < region) return n;
  if (*r == '!') {
    if (at < p2) return n;
    r++;
  }
  if (*r == '[') {
    const char *e = strchr(r, ']');
    if (!at || !memchr(r + 1, w[at - 1], (size_t)(e - r - 1))) return n;
    r = e + 1;
  }
  size_t k = strlen(r);
  memcpy(w + at, r, k);
  return at + k;
}

/* Step 1a: the apostrophe suffixes, then sses, ied/ies, s. */
static size_t step1a(char *w, size_t n) {
  size_t at;
  if (longest(w, n, "'s'\0\0's\0\0'\0\0", &at)) n = at;
  const char *r = longest(w, n, "sses\0-\0ied\0i\0ies\0i\0us\0\0ss\0\0s\0s\0", &at);
  if (!r || !*r) return n;
  if (*r == '-') return n - 2;            /* sses -> ss */
  if (*r == 'i') return at >= 2 ? at + 1 : at + 2; /* ied, ies -> i, or ie */
  for (size_t k = 0; k + 2 < n; k++) /* s goes after a vowel before the letter before it */
    if (vowel(w[k])) return n - 1;
  return n;
}

/* Step 1b: eed, eedly; ed, edly, ing, ingly with their repairs. */
static size_t step1b(char *w, size_t n, size_t p1) {
  size_t at;
  const char *r = longest(w, n, "eedly\0e\0ingly\0i\0edly\0d\0eed\0e\0ing\0i\0ed\0d\0", &at);
  if (!r) return n;
  /* (at is never 0 below where prefix() is asked: p1 > 0, and a word
   * "ing" has no vowel before its suffix either way.) */
  if (*r == 'e') /* -> ee in R1, but proceed, exceed, succeed stay */
    return at < p1 || prefix(w, at, "proc\0exc\0succ\0") == at ? n : at + 2;
  if (*r == 'i' && at + 3 == n) {
    if (at == 2 && w[1] == 'y' && !vowel(w[0])) { /* dying -> die */
      w[1] = 'i';
      w[2] = 'e';
      return 3;
    }
    if (prefix(w, at, "inn\0out\0cann\0herr\0earr\0even\0") == at) return n;
  }
  size_t v = 0;
  while (v < at && !vowel(w[v])) v++;
  if (v == at) return n; /* no vowel before the suffix */
  n = at;
  if (longest(w, n, "at\0\0bl\0\0iz\0\0", &at)) {
    w[n] = 'e';
    return n + 1;
  }
  if (n >= 2 && w[n - 1] == w[n - 2] && memchr("bdfgmnprt", w[n - 1], 9)) {
    if (n == 3 && memchr("aeo", w[0], 3)) return n; /* add, egg, off */
    return n - 1;
  }
  if (n == p1 && shortv(w, n)) w[n++] = 'e'; /* a short word: hop(e) */
  return n;
}

/* Contract in token.h. */
size_t pv__stem(char *w, size_t n) {
  size_t at;
  const char *r = longest(w, n, EXCEPTIONS, &at);
  if (r && at == 0) {
    size_t k = strlen(r);
    if (!k) return n;
    memcpy(w, r, k);
    return k;
  }
  if (n < 3) return n;
  /* Prelude: a leading apostrophe goes; y at the start or after a vowel
   * is a consonant (Y). */
  if (w[0] == '\'') memmove(w, w + 1, --n);
  int big_y = 0;
  if (n && w[0] == 'y') w[0] = 'Y', big_y = 1;
  for (size_t i = 0; i + 1 < n; i++)
    if (vowel(w[i]) && w[i + 1] == 'y') w[i + 1] = 'Y', big_y = 1;
  /* R1 and R2. */
  size_t p1 = n, p2 = n, k = prefix(w, n, R1_PREFIXES);
  if (!k) k = after_vc(w, n, 0);
  if (k <= n) {
    p1 = k;
    k = after_vc(w, n, p1);
    if (k <= n) p2 = k;
  }
  n = step1a(w, n);
  n = step1b(w, n, p1);
  if (n >= 3 && (w[n - 1] == 'y' || w[n - 1] == 'Y') && !vowel(w[n - 2])) w[n - 1] = 'i'; /* 1c */
  n = replace(w, n, STEP2, p1, p2);
  n = replace(w, n, STEP3, p1, p2);
  n = replace(w, n, STEP4, p2, p2);
  /* Step 5: e in R2, or in R1 after a syllable that is not short; ll in R2. */
  if (n && w[n - 1] == 'e') {
    if (n - 1 >= p2 || (n - 1 >= p1 && !shortv(w, n - 1))) n--;
  } else if (n >= 2 && w[n - 1] == 'l' && n - 1 >= p2 && w[n - 2] == 'l') {
    n--;
  }
  if (big_y)
    for (size_t i = 0; i < n; i++)
      if (w[i] == 'Y') w[i] = 'y';
  return n;
}
