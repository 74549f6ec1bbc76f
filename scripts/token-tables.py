#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The character tables of src/text/token.c: generator and checker.

    python3 scripts/token-tables.py          print the tables (C), to paste
                                             over the generated part of
                                             src/text/token.c
    make lib && python3 scripts/token-tables.py check
                                             tokenize every code point (alone,
                                             and between two letters) with
                                             build/libpocketvec.a and compare
                                             with this model

The policy (what is a letter, what folds to what) is written here, in one
place; the base letters come from Python's Unicode database (decomposition
with the marks dropped, or the letter named in "LATIN ... LETTER X WITH ...").
The check also reports the case pairs (a letter and its upper or lower case)
that do not give the same token: every one must be outside the scripts the
tokenizer claims to fold (docs/TEXT.md).
"""
import os
import re
import subprocess
import sys
import tempfile
import unicodedata as ud

S, W, I, C, A = range(5)  # separator, word, ignorable, single-character token, apostrophe

# Classes of the code points from U+0080 on, by range: (first code point, class),
# each holding up to the next. ASCII is decided in the C code itself.
CLASSES = [
    (0x0080, S), (0x00AA, W), (0x00AB, S), (0x00AD, I), (0x00AE, S), (0x00B5, W), (0x00B6, S),
    (0x00BA, W), (0x00BB, S), (0x00C0, W), (0x00D7, S), (0x00D8, W), (0x00F7, S), (0x00F8, W),
    (0x02BC, A), (0x02BD, W), (0x02C2, S), (0x02E0, W), (0x02E5, S), (0x0300, I),
    # Greek and Coptic: numeral signs, question mark, tonos, ano teleia, a symbol
    (0x0370, W), (0x0374, S), (0x0376, W), (0x037E, S), (0x037F, W), (0x0384, S), (0x0386, W),
    (0x0387, S), (0x0388, W), (0x03F6, S), (0x03F7, W),
    # Cyrillic: thousands sign, combining marks
    (0x0482, S), (0x0483, I), (0x048A, W),
    # Armenian punctuation
    (0x055A, S), (0x0560, W), (0x0589, S),
    # Hebrew points (ignored) and punctuation
    (0x0591, I), (0x05BE, S), (0x05BF, I), (0x05C0, S), (0x05C1, I), (0x05C3, S), (0x05C4, I),
    (0x05C6, S), (0x05C7, I), (0x05C8, W), (0x05F3, S), (0x05F5, W),
    # Arabic signs, punctuation and vowel marks (ignored)
    (0x0600, S), (0x0610, I), (0x061B, S), (0x0620, W), (0x064B, I), (0x0660, W), (0x066A, S),
    (0x066E, W), (0x0670, I), (0x0671, W), (0x06D4, S), (0x06D5, W),
    # Devanagari danda
    (0x0964, S), (0x0966, W),
    # combining marks extended and supplement
    (0x1AB0, I), (0x1B00, W), (0x1DC0, I), (0x1E00, W),
    # Greek Extended: the spacing accents
    (0x1FBD, S), (0x1FBE, W), (0x1FBF, S), (0x1FC2, W), (0x1FCD, S), (0x1FD0, W), (0x1FDD, S),
    (0x1FE0, W), (0x1FED, S), (0x1FF0, W), (0x1FFD, S),
    # punctuation, symbols, arrows, maths, box drawing, dingbats...; ZWNJ and
    # ZWJ ignored; U+2019 is an apostrophe; marks for symbols ignored
    (0x200C, I), (0x200E, S), (0x2019, A), (0x201A, S), (0x20D0, I), (0x2100, S),
    # Glagolitic, Latin Extended-C, Coptic, Georgian, Tifinagh, Ethiopic, Cyrillic Extended-A
    (0x2C00, W), (0x2E00, S),
    # CJK: radicals, iteration marks, Hangzhou numerals, kana, Bopomofo, compatibility jamo
    (0x2E80, C), (0x2FF0, S), (0x3005, C), (0x3008, S), (0x3021, C), (0x302A, I), (0x3030, S),
    (0x3041, C), (0x3099, I), (0x309B, S), (0x309D, C), (0x30A0, S), (0x30A1, C), (0x30FB, S),
    (0x30FC, C), (0x3200, S), (0x3400, C), (0x4DC0, S), (0x4E00, C),
    # Yi, Vai, Cyrillic Extended-B, Latin Extended-D...; Hangul syllables
    (0xA000, W), (0xAC00, C), (0xD7A4, W),
    # private use; CJK compatibility ideographs; presentation forms
    (0xE000, S), (0xF900, C), (0xFB00, W), (0xFD3E, S), (0xFD40, W), (0xFE00, I), (0xFE10, S),
    (0xFE20, I), (0xFE30, S), (0xFE70, W), (0xFEFF, S), (0xFF66, C), (0xFFE0, S),
    # other planes: scripts; musical symbols; mathematical letters; emoji and
    # symbols; CJK extensions; tags and variation selectors; private use
    (0x10000, W), (0x1D000, S), (0x1D400, W), (0x1D800, S), (0x1E000, W), (0x1F000, S),
    (0x20000, C), (0x40000, S), (0xE0000, I), (0xE01F0, S),
]

# Folding of the tabulated blocks: a base spelled in ASCII or a Greek letter.
TABLES = [(0x00C0, 0x02B0), (0x0370, 0x0400), (0x1E00, 0x1F00), (0x1F00, 0x2000)]
DIGRAPHS = ["ae", "oe", "ij", "ss", "th", "dz", "lj", "nj", "hv", "oi", "ou", "db", "qp"]

# Letters without a decomposition that fold to a base anyway (the decision
# is ours: a reader searching in ASCII types these).
OVERRIDE = {
    0x00D0: "d", 0x00F0: "d", 0x00DE: "th", 0x00FE: "th", 0x00DF: "ss", 0x1E9E: "ss",
    0x0131: "i", 0x0138: "k", 0x014A: "n", 0x014B: "n", 0x0186: "o", 0x0254: "o",
    0x0189: "d", 0x018E: "e", 0x01DD: "e", 0x018F: "e", 0x0259: "e", 0x0190: "e", 0x025B: "e",
    0x0196: "i", 0x0269: "i", 0x019C: "m", 0x026F: "m", 0x01A6: "r", 0x0280: "r",
    0x01BF: "w", 0x01F7: "w", 0x0237: "j", 0x0244: "u", 0x0289: "u", 0x0245: "v", 0x028C: "v",
    0x0275: "o", 0x01F6: "hv", 0x0152: "oe", 0x0153: "oe",
    0x024A: "q",
}
# Case pairs the tables cannot express (not +1), and Cyrillic's e/i with
# diaeresis or grave (ё and е are one letter to a searcher).
EXTRA = {
    0x00AA: ord("a"), 0x00B5: 0x03BC, 0x00BA: ord("o"), 0x0401: 0x0435, 0x0451: 0x0435, 0x0400: 0x0435, 0x0450: 0x0435, 0x040D: 0x0438,
    0x045D: 0x0438, 0x04C0: 0x04CF, 0x2C65: ord("a"), 0x2C66: ord("t"), 0x2C7E: ord("s"),
    0x2C7F: ord("z"),
    # Cyrillic Extended-C: old lower-case shapes of basic letters
    0x1C80: 0x0432, 0x1C81: 0x0434, 0x1C82: 0x043E, 0x1C83: 0x0441, 0x1C84: 0x0442,
    0x1C85: 0x0442, 0x1C86: 0x044A, 0x1C87: 0x0463, 0x1C88: 0xA64B,
}
LIGATURES = {0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi", 0xFB04: "ffl",
             0xFB05: "st", 0xFB06: "st"}


def cls_of(cp):
    if cp < 0x80:
        ch = chr(cp)
        return W if ch.isascii() and ch.isalnum() else A if ch == "'" else S
    lo, hi, k = 0, len(CLASSES), S
    for start, c in CLASSES:
        if start > cp:
            break
        k = c
    return k


def in_tables(cp):
    return any(a <= cp < b for a, b in TABLES)


def partners(cp):
    ch = chr(cp)
    return [ord(p) for p in (ch.lower(), ch.upper()) if len(p) == 1 and ord(p) != cp]


def base(cp):
    """The folded form of a tabulated code point: an ASCII string, a Greek
    lower-case letter, or None (kept, with its lower case)."""
    if cp in OVERRIDE:
        return OVERRIDE[cp]
    ch = chr(cp)
    if cls_of(cp) != W:
        return None
    d = "".join(x for x in ud.normalize("NFKD", ch) if not ud.combining(x)).replace("\u02bc", "")
    d = d.lower().replace("\u03c2", "\u03c3")
    if d.isascii() and d.isalpha() and (len(d) == 1 or d in DIGRAPHS):
        return d
    if len(d) == 1 and 0x3B1 <= ord(d) <= 0x3C9:
        return d
    m = re.match(r"(LATIN|GREEK) (CAPITAL |SMALL )?(LETTER )?([A-Z]+)( WITH | SYMBOL|$)",
                 ud.name(ch, ""))
    if m and m.group(1) == "LATIN" and m.group(5) == " WITH " and len(m.group(4)) == 1:
        # an IPA letter whose other case is in Latin Extended-C/D stays as it is
        if not 0x250 <= cp < 0x2B0 or all(in_tables(p) for p in partners(cp)):
            return m.group(4).lower()
    if m and m.group(1) == "LATIN" and m.group(5) == "" and m.group(4).lower() in DIGRAPHS:
        return m.group(4).lower()
    if m and m.group(1) == "GREEK" and m.group(5) == " SYMBOL":
        g = ud.lookup("GREEK SMALL LETTER " + m.group(4)) if m.group(4) != "KAI" else None
        if g and not m.group(2):
            return g.replace("\u03c2", "\u03c3")
    return None


def code(cp):
    b = base(cp)
    if b is not None:
        if len(b) == 2:
            return chr(ord("0") + DIGRAPHS.index(b))
        if "a" <= b <= "z":
            return b
        return chr(ord("A") + ord(b) - 0x3B1)
    lo = chr(cp).lower()
    if len(lo) != 1 or ord(lo) == cp:
        return "*" if cp in EXTRA else "."
    if ord(lo) == cp + 1:
        return "+"
    EXTRA[cp] = ord(lo)
    return "*"


def generic_lower(c):
    """The case rules of the C code for the blocks outside the tables."""
    if 0x400 <= c < 0x410:
        return c + 0x50
    if 0x410 <= c < 0x430:
        return c + 0x20
    if (0x460 <= c < 0x482 or 0x48A <= c < 0x4C0 or 0x4D0 <= c < 0x530 or 0xA640 <= c < 0xA66E
            or 0xA680 <= c < 0xA69C):
        return c | 1
    if 0x4C1 <= c < 0x4CF:
        return c + (c & 1)
    if 0x531 <= c < 0x557:
        return c + 0x30
    if 0x1C90 <= c < 0x1CC0:
        return c - 0xBC0
    if 0x10A0 <= c < 0x10CE:
        return c + 0x1C60
    return c


TABLE_CODES = {}


def build():
    for a, b in TABLES:
        TABLE_CODES[a] = "".join(code(cp) for cp in range(a, b))


def fold(cp):
    """Model of the C fold: the text one word character becomes."""
    if cp < 0x80:
        return chr(cp).lower()
    for a, b in TABLES:
        if a <= cp < b:
            k = TABLE_CODES[a][cp - a]
            if "a" <= k <= "z":
                return k
            if "0" <= k <= "9" or ":" <= k <= "<":
                return DIGRAPHS[ord(k) - ord("0")]
            if "A" <= k <= "Y":
                return chr(0x3B1 + ord(k) - ord("A"))
            if k == "+":
                return chr(cp + 1)
            if k == ".":
                return chr(cp)
            break  # '*'
    if cp in LIGATURES:
        return LIGATURES[cp]
    if cp in EXTRA:
        return chr(EXTRA[cp])
    return chr(generic_lower(cp))


def cstr(s, per=64):
    return "\n".join('    "%s"' % s[i:i + per] for i in range(0, len(s), per))


def emit():
    names = {0x00C0: "LATIN", 0x0370: "GREEK", 0x1E00: "LATIN_X", 0x1F00: "GREEK_X"}
    out = ["/* GENERATED by scripts/token-tables.py (Unicode %s): edit the script. */"
           % ud.unidata_version]
    out.append("static const uint32_t CLASS[] = {")
    row = []
    for start, c in CLASSES:
        row.append("0x%x" % (start << 3 | c))
        if len(row) == 8:
            out.append("    " + ", ".join(row) + ",")
            row = []
    if row:
        out.append("    " + ", ".join(row) + ",")
    out.append("};")
    for a, b in TABLES:
        out.append("static const char %s[%d] =\n%s;" % (names[a], b - a + 1, cstr(TABLE_CODES[a])))
    out.append('static const char DIGRAPH[] = "%s";' % "".join(DIGRAPHS))
    out.append("static const uint16_t EXTRA[][2] = {")
    items = sorted(EXTRA.items())
    for i in range(0, len(items), 6):
        out.append("    " + " ".join("{0x%x, 0x%x}," % kv for kv in items[i:i + 6]))
    out.append("};")
    print("\n".join(out))


def model_tokens(text):
    """Tokens of a text of one or three code points (no apostrophes next to
    each other), no options: enough for the per-code-point check."""
    toks, cur, run = [], "", []

    def end_run():
        if len(run) == 1:
            toks.append(run[0])
        run.clear()

    cps = [ord(x) for x in text]
    cps = [c - 0xFEE0 if 0xFF01 <= c <= 0xFF5E else c for c in cps]
    for i, c in enumerate(cps):
        k = cls_of(c)
        if k == W:
            end_run()
            cur += fold(c)
        elif k == I:
            pass
        elif k == A and cur and i + 1 < len(cps) and cls_of(cps[i + 1]) == W:
            pass
        else:
            if cur:
                toks.append(cur)
            cur = ""
            if k == C:
                if run:
                    toks.append(run[-1] + chr(c))
                run.append(chr(c))
            else:
                end_run()
    end_run()
    if cur:
        toks.append(cur)
    return [t.encode()[:64].decode("utf-8", "ignore") for t in toks]


# Reads texts, one a line; prints each one's tokens (no options), space-separated.
HARNESS = r"""
#include <stdio.h>
#include <string.h>
#include "text/token.h"
static int first;
static int put(void *ctx, const char *t, size_t n, int last) {
  (void)ctx, (void)last;
  printf("%s%.*s", first ? "" : " ", (int)n, t);
  first = 0;
  return 0;
}
int main(void) {
  static char line[1 << 16];
  while (fgets(line, sizeof line, stdin)) {
    first = 1;
    if (pv__tokenize(line, strcspn(line, "\n"), 0, put, NULL, NULL)) printf("ERROR");
    printf("\n");
  }
  return 0;
}
"""


def build_harness(tmp):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    src, exe = os.path.join(tmp, "lines.c"), os.path.join(tmp, "lines")
    with open(src, "w") as f:
        f.write(HARNESS)
    subprocess.run(["cc", "-std=c11", "-O1", "-I" + os.path.join(root, "include"),
                    "-I" + os.path.join(root, "src"), src,
                    os.path.join(root, "build", "libpocketvec.a"), "-lm", "-o", exe], check=True)
    return exe


def check(binary):
    cps = [c for c in range(1, 0x110000) if not 0xD800 <= c < 0xE000 and c != 0x0A and c != 0x0D]
    texts = []
    for c in cps:
        texts.append(chr(c))
        texts.append("a" + chr(c) + "b")
    data = "\n".join(texts).encode() + b"\n"
    res = subprocess.run([binary], input=data, capture_output=True, check=True)
    lines = res.stdout.decode().split("\n")
    bad = 0
    for t, line in zip(texts, lines):
        got = line.split(" ") if line else []
        want = model_tokens(t)
        if got != want:
            bad += 1
            if bad <= 20:
                print("U+%04X %r: got %r, want %r" % (ord(t[len(t) // 2]), t, got, want))
    print("%d texts, %d differ from the model" % (len(texts), bad))
    # Folding is idempotent: what a letter becomes is letters that stay.
    for c in cps:
        if cls_of(c) == W:
            for o in fold(c):
                if cls_of(ord(o)) != W or fold(ord(o)) != o:
                    bad += 1
                    print("U+%04X folds to U+%04X, which is not a fixed point" % (c, ord(o)))
    # Case pairs that do not meet.
    split = {}
    for c in cps:
        if cls_of(c) != W:
            continue
        for p in partners(c):
            if cls_of(p) == W and fold(c) != fold(p):
                blk = ud.name(chr(c), "?").split(" ")[0]
                split.setdefault(blk, []).append("%04X/%04X" % (c, p))
    for blk, pairs in sorted(split.items()):
        print("case pairs apart, %s: %d (%s)" % (blk, len(pairs), " ".join(pairs[:8])))
    return bad == 0


if __name__ == "__main__":
    build()
    if len(sys.argv) > 1 and sys.argv[1] == "check":
        with tempfile.TemporaryDirectory() as tmp:
            sys.exit(0 if check(build_harness(tmp)) else 1)
    emit()
