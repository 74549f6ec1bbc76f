// SPDX-License-Identifier: MIT
// A seeded, model-based random tester of the documents API: keys,
// attributes and filters (docs/FILTER.md), beside test/model.test.mjs,
// which does the same for bare vectors. Each seed builds an l2 / f32 index
// of a small random dim (3 to 8), so stored vectors come back exactly as
// Float32Array.from makes them, and drives it with a random mix of:
//
//   - upsert: a key from a small pool (so documents get replaced; keys
//     include non-ASCII, emoji, NUL, 1024-byte and prototype-ish names) or
//     none, and random attributes: numbers (negatives, -0, fractions,
//     1e300, 2^53 + 2, 5e-324), strings (non-ASCII, emoji, control
//     characters, quotes, U+E000 to tell UTF-8 from UTF-16 order), booleans,
//     null, arrays, objects nested 1 to 2 levels, odd member names
//     (keywords, spaces, dots, backticks, "", __proto__), members left
//     undefined; sometimes no attributes at all;
//   - upsertBatch of 0 to 5 documents, sometimes repeating a key (the last
//     one wins, and every position of the key gets its id), sometimes with
//     one bad document (wrong length, bad key, NaN, a function, a Map, a
//     cycle, ...), which must throw PocketVecError and change nothing;
//   - a single bad upsert, likewise;
//   - delete by key or by id, known or not (NOTFOUND, nothing changed);
//   - setAttributes by key or id, replacing or merging ({ ...old, ...new }),
//     on unknown documents (NOTFOUND) and with bad attributes (INVALID);
//   - invalid filters in both forms (INVALID, nothing changed);
//   - compact(), and round trips through Index.fromBytes(ix.toBytes()).
//
// A plain JS model holds key -> { id, vector, attributes }. After every
// step the index must agree with it: size and count(); get(key) and
// has(key) for keys from the pool; has(id) and get(id) for live and dead
// ids; ids given in order and never reused (a failed call takes none);
// check(). A random filter is drawn each step (==, !=, <, <=, >, >=, in,
// not in, contains, exists, $ne null, not, and, or, over dotted paths
// into nested objects, into arrays and to absent fields) and written both
// as text (random keyword case, && || !, quoting, escapes, number
// spellings, white space) and, when it can be, as the equivalent object;
// count() and find() under each must equal a reference evaluator written
// from docs/FILTER.md's semantics (missing or another type: false; paths
// do not enter arrays; strings in code point order), and so must the
// matching set of searchExact (brute force in float64 on the stored
// float32 values, ties at the k-th distance allowed) and search (exactly
// min(k, matches) matching hits at ef 200). Every 50 steps all pool keys,
// all documents (find()) and fields() are compared in full.
//
// Why: a filter or document bug (a missing field matching, a replaced
// document's id coming back, a failed batch half applied, attributes
// changed by a round trip, a filter object translated wrong) hides in
// combinations that hand-written cases do not reach; a model catches any
// of them the moment it happens. The default, seeds 1 2 3 x 1500 steps,
// runs in a few seconds. PV_DOCS_SEEDS=4,5,6 and PV_DOCS_STEPS=n change
// the budget; a failure names the seed, the step, the operation and what
// differed, so PV_DOCS_SEEDS=<seed> replays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { init, Index, PocketVecError, ErrorCode } from '../index.js';
import { rng, gauss } from './helpers/data.mjs';

await init();
const { INVALID, DIM, NOTFOUND } = ErrorCode;
const STEPS = Number(process.env.PV_DOCS_STEPS ?? 1500);
const SEEDS = (process.env.PV_DOCS_SEEDS ?? '1,2,3').split(',').map(Number);
const FULL_EVERY = 50;

// ---- values ---------------------------------------------------------------------

const NUMS = [0, -0, 1, -1, 2, 3, 5, 0.5, -0.5, 1.25, 1 / 3, -2.75, 10, 100, 1e21, -1e-7, 2 ** 53, 2 ** 53 + 2,
  1e300, -1e300, 5e-324, Number.MAX_VALUE, -Number.MAX_VALUE];
const LIT_NUMS = [...NUMS, 4, -3, 0.25, 1e-300, 2 ** 53 + 1];
const STRS = ['', 'a', 'A', 'ab', 'abc', 'b', 'work', 'home', 'wor', 'é', 'e\u0301', 'ü', 'ß', '日本', '日本語', '😀',
  '😀x', 'x😀', '\uE000', '\uFFFD', '\uFFFF', 'a b', 'say "hi"', "it's", 'back\\slash', 'tab\tnl\n', 'nul\u0000',
  '\u007f', '/', 'Z', '`', '5', '-1', '0', 'true', 'null'];
const LIT_STRS = [...STRS, 'or', 'bc', '本', 'x', 'hi', '\u0000', 'AB', 'abcd'];
const KEYS = ['a', 'b', 'c', 'A', 'doc-1', 'doc-2', 'é', 'ключ', '日本', '😀', 'k😀y', ' ', 'two words', '0', '__proto__',
  'constructor', 'x'.repeat(1024), 'é'.repeat(512), '"quoted"', 'tab\t', 'nul\u0000key'];
// Top-level member names beyond n s b z tags o: keywords, spaces, dots, backticks, "", a leading digit or $.
const ODD = ['and', 'first name', 'é', 'a.b', '1x', '-', '$d', 'back`tick', '', '__proto__', 'NOT', 'in'];

/** A member named name on o, even "__proto__" (an own data member, as JSON.parse makes it). */
function def(o, name, v) {
  Object.defineProperty(o, name, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const isScalar = (v) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** Attributes as the index stores them: members that are undefined left out, undefined in an array null. */
function norm(v) {
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : norm(x)));
  if (v !== null && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v)) if (v[k] !== undefined) def(o, k, norm(v[k]));
    return o;
  }
  return v;
}
const normAttrs = (a) => (a == null ? {} : norm(a));

/** JSON for messages, with -0, undefined and what JSON cannot carry made visible. */
function show(v) {
  const seen = new Set();
  const s = JSON.stringify(v, function (k, x) {
    if (Object.is(x, -0)) return '<-0>';
    if (x === undefined) return '<undefined>';
    if (typeof x === 'bigint' || typeof x === 'symbol' || typeof x === 'function') return `<${typeof x} ${String(x).slice(0, 30)}>`;
    if (typeof x === 'number' && !Number.isFinite(x)) return `<${x}>`;
    if (typeof x === 'string' && x.length > 100) return `${x.slice(0, 20)}...(${x.length} characters)`;
    if (x !== null && typeof x === 'object') {
      if (seen.has(x)) return '<cycle>';
      seen.add(x);
      if (ArrayBuffer.isView(x)) return `<${x.constructor.name} [${Array.from(x)}]>`;
      if (x instanceof Map) return '<Map>';
    }
    return x;
  });
  return s ?? String(s);
}

// ---- the reference evaluator (docs/FILTER.md, "Semantics") ---------------------

const MISSING = Symbol('missing');

/** The value at the path: through objects only (never arrays), else MISSING. */
function resolve(attrs, segs) {
  let v = attrs;
  for (const s of segs) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, s)) return MISSING;
    v = v[s];
  }
  return v;
}

/** A value equals a literal: same scalar type, same value (numbers as doubles: 0 == -0). */
const eq = (v, lit) => isScalar(v) && kind(v) === kind(lit) && v === lit;

/** Strings in UTF-8 byte order, which is code point order. */
const utf8cmp = (a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

function order(v, lit) {
  if (typeof lit === 'number' && typeof v === 'number') return v < lit ? -1 : v > lit ? 1 : 0;
  if (typeof lit === 'string' && typeof v === 'string') return utf8cmp(v, lit);
  return null;
}

function matches(n, attrs) {
  switch (n.t) {
    case 'true': return true;
    case 'not': return !matches(n.f, attrs);
    case 'and': return n.fs.every((f) => matches(f, attrs));
    case 'or': return n.fs.some((f) => matches(f, attrs));
  }
  const v = resolve(attrs, n.path);
  if (v === MISSING) return false;
  switch (n.t) {
    case 'exists': return true;
    case 'nenull': return v !== null;
    case 'in': return isScalar(v) && n.lits.some((l) => eq(v, l)) !== n.neg;
    case 'contains':
      if (Array.isArray(v)) return v.some((e) => eq(e, n.lit));
      return typeof v === 'string' && typeof n.lit === 'string' && v.includes(n.lit);
    case 'cmp': {
      if (n.op === '==') return eq(v, n.lit);
      if (n.op === '!=') return isScalar(v) && kind(v) === kind(n.lit) && v !== n.lit;
      const c = order(v, n.lit);
      if (c === null) return false;
      return { '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0 }[n.op];
    }
  }
  throw new Error(`unknown node ${n.t}`);
}

// ---- writing a filter as text and as an object ----------------------------------

const BARE_FIRST = /^[A-Za-z_$][A-Za-z0-9_$-]*$/, BARE_NEXT = /^[A-Za-z0-9_$-]+$/;
const KEYWORD = /^(and|or|not|in|contains|exists|true|false|null)$/i;
const WORDISH = /[A-Za-z0-9_$-]/;

/** A path as a filter names it: bare where the grammar allows (unless quote), else in backticks. */
const pathText = (segs, quote = () => false) => segs.map((s, i) =>
  (i ? BARE_NEXT : BARE_FIRST).test(s) && !KEYWORD.test(s) && !quote() ? s : `\`${s.replaceAll('`', '``')}\``).join('.');

/** The key of a path in the object form, or null if it has none (a dot in a name, a leading $). */
const pathKey = (segs) => (segs.some((s) => s.includes('.')) || segs[0][0] === '$' ? null : segs.join('.'));

const FIELD_LEVEL = new Set(['cmp', 'in', 'contains', 'exists', 'nenull']);
const PREC = { or: 1, and: 2, nenull: 2, not: 3 };
const OPS = { '==': '$eq', '!=': '$ne', '<': '$lt', '<=': '$lte', '>': '$gt', '>=': '$gte' };
const isOps = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).every((k) => k[0] === '$');

class Writer {
  constructor(r) {
    this.r = r;
  }

  int(n) { return Math.floor(this.r() * n); }
  pick(a) { return a[this.int(a.length)]; }
  chance(p) { return this.r() < p; }

  kw(word) {
    const alias = { and: '&&', or: '||', not: '!' }[word];
    if (alias && this.chance(0.2)) return alias;
    const c = this.int(4);
    if (c === 1) return word.toUpperCase();
    if (c === 2) return word[0].toUpperCase() + word.slice(1);
    if (c === 3) return [...word].map((ch) => (this.chance(0.5) ? ch.toUpperCase() : ch)).join('');
    return word;
  }

  ws() { return this.pick(['', ' ', ' ', ' ', '  ', '\t', '\n', ' \r\n ']); }

  /** Tokens joined by random white space, at least one space between two word-like ends. */
  join(tokens) {
    let s = tokens[0];
    for (let i = 1; i < tokens.length; i++) {
      let w = this.ws();
      if (!w && WORDISH.test(s.at(-1)) && WORDISH.test(tokens[i][0])) w = ' ';
      s += w + tokens[i];
    }
    return s;
  }

  num(x) {
    const forms = [String(x), x.toExponential(), x.toExponential().replace('e+', 'E').replace('e', 'E')];
    if (Object.is(x, -0)) forms.push('-0', '-0.0', '-0e0', '0');
    if (Number.isInteger(x) && Math.abs(x) < 1e15) forms.push(x.toFixed(1), `${x}e0`, `${x}0e-1`, `${x}.000E+0`);
    const ok = forms.filter((f) => Number(f) === x && !/^-?0\d|^-?\.|^\+/.test(f));
    return this.pick(ok);
  }

  str(s) {
    const q = this.chance(0.3) ? "'" : '"';
    let out = q;
    for (const ch of s) {
      const c = ch.codePointAt(0);
      if (c < 0x20 || ch === q || ch === '\\' || this.chance(0.1)) out += this.escape(ch, q);
      else out += ch;
    }
    return out + q;
  }

  escape(ch, q) {
    const short = { '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    if (ch === "'" && q === "'" && this.chance(0.6)) return "\\'";
    if (short[ch] && this.chance(0.6)) return short[ch];
    let out = '';
    for (let i = 0; i < ch.length; i++) {
      const h = ch.charCodeAt(i).toString(16).padStart(4, '0');
      out += `\\u${this.chance(0.5) ? h : h.toUpperCase()}`;
    }
    return out;
  }

  lit(v) {
    if (typeof v === 'string') return this.str(v);
    if (typeof v === 'number') return this.num(v);
    return this.kw(String(v)); // true false null
  }

  path(segs) { return pathText(segs, () => this.chance(0.1)); }

  /** The filter as text. */
  text(n) {
    if (n.t === 'true') return this.pick(['', ' ', '\n\t ']);
    return this.join(this.tokens(n, 0));
  }

  tokens(n, outer) {
    let t;
    switch (n.t) {
      case 'cmp': t = [this.path(n.path), n.op, this.lit(n.lit)]; break;
      case 'in': {
        const list = ['['];
        n.lits.forEach((l, i) => list.push(...(i ? [','] : []), this.lit(l)));
        list.push(']');
        t = [this.path(n.path), ...(n.neg ? [this.kw('not'), this.kw('in')] : [this.kw('in')]), ...list];
        break;
      }
      case 'contains': t = [this.path(n.path), this.kw('contains'), this.lit(n.lit)]; break;
      case 'exists': t = [this.kw('exists'), '(', this.path(n.path), ')']; break;
      case 'nenull': {
        const p = this.path(n.path);
        t = [this.kw('exists'), '(', p, ')', this.kw('and'), this.kw('not'), p, '==', this.kw('null')];
        break;
      }
      case 'not': t = [this.kw('not'), ...this.tokens(n.f, PREC.not)]; break;
      case 'and':
      case 'or': {
        t = [];
        n.fs.forEach((f, i) => t.push(...(i ? [this.kw(n.t)] : []), ...this.tokens(f, PREC[n.t])));
        break;
      }
    }
    const prec = PREC[n.t] ?? 4;
    return prec < outer || this.chance(0.08) ? ['(', ...t, ')'] : t;
  }

  /** The operators of a field-level node, as { key, ops }, or null when the object form cannot say it. */
  fieldOps(n) {
    if (n.t === 'not') {
      const inner = FIELD_LEVEL.has(n.f.t) && this.fieldOps(n.f);
      if (!inner) return null;
      if (n.f.t === 'exists' && this.chance(0.5)) return { key: inner.key, ops: { $exists: false } };
      return { key: inner.key, ops: { $not: inner.ops } };
    }
    const key = pathKey(n.path);
    if (key === null) return null;
    switch (n.t) {
      case 'cmp': return { key, ops: { [OPS[n.op]]: n.lit } };
      case 'in': return { key, ops: { [n.neg ? '$nin' : '$in']: n.lits } };
      case 'contains': return { key, ops: { $contains: n.lit } };
      case 'exists': return { key, ops: { $exists: true } };
      case 'nenull': return { key, ops: { $ne: null } };
    }
    return null;
  }

  /** The filter as an object, or null when it has none (a path the object form cannot name). */
  object(n) {
    switch (n.t) {
      case 'true': return {};
      case 'not': {
        if (FIELD_LEVEL.has(n.f.t) && this.chance(0.5)) {
          const fo = this.fieldOps(n);
          if (fo) return def({}, fo.key, fo.ops);
        }
        const o = this.object(n.f);
        return o && { $not: o };
      }
      case 'and':
      case 'or': {
        const os = n.fs.map((f) => this.object(f));
        if (os.includes(null)) return null;
        if (n.t === 'and' && this.chance(0.5)) {
          const merged = this.merge(os);
          if (merged) return merged;
        }
        if (n.t === 'and' && this.chance(0.2)) os.splice(this.int(os.length + 1), 0, {}); // {} in $and: true, dropped
        return { [`$${n.t}`]: os };
      }
    }
    const fo = this.fieldOps(n);
    if (!fo) return null;
    if (n.t === 'cmp' && n.op === '==' && this.chance(0.5)) return def({}, fo.key, n.lit);
    return def({}, fo.key, fo.ops);
  }

  /** Objects joined into one (their entries are and-ed), or null when two say the same thing differently. */
  merge(os) {
    const out = {};
    for (const o of os)
      for (const [k, v] of Object.entries(o)) {
        if (!Object.hasOwn(out, k)) def(out, k, v);
        else if (k[0] !== '$' && isOps(out[k]) && isOps(v) && Object.keys(v).every((op) => !Object.hasOwn(out[k], op)))
          def(out, k, { ...out[k], ...v });
        else return null;
      }
    return out;
  }
}

// ---- the model --------------------------------------------------------------------

class Model {
  live = new Map(); // id -> { key, vector, attributes }, by ascending id
  byKey = new Map(); // key -> id
  next = 0; // the id the next new document gets

  /** Applies documents as upsertBatch does; returns the id of each position. */
  upsert(docs) {
    const last = new Map();
    docs.forEach((d, i) => d.key != null && last.set(d.key, i));
    const ids = new Array(docs.length);
    docs.forEach((d, i) => {
      if (d.key != null && last.get(d.key) !== i) return;
      const id = this.next++;
      ids[i] = id;
      if (d.key != null) {
        const old = this.byKey.get(d.key);
        if (old !== undefined) this.live.delete(old);
        this.byKey.set(d.key, id);
      }
      this.live.set(id, { key: d.key ?? undefined, vector: Float32Array.from(d.vector), attributes: normAttrs(d.attributes) });
    });
    docs.forEach((d, i) => (ids[i] ??= ids[last.get(d.key)]));
    return ids;
  }

  idOf(keyOrId) {
    return typeof keyOrId === 'string' ? this.byKey.get(keyOrId) : this.live.has(keyOrId) ? keyOrId : undefined;
  }

  delete(id) {
    const d = this.live.get(id);
    if (d.key !== undefined) this.byKey.delete(d.key);
    this.live.delete(id);
  }
}

/** Squared l2 distance in float64 between float32 vectors. */
function l2(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

// ---- the tester -------------------------------------------------------------------

class Tester {
  constructor(seed) {
    this.seed = seed;
    this.r = rng(seed);
    this.w = new Writer(this.r);
    this.m = new Model();
    this.dim = 3 + this.int(6);
    this.options = {
      dim: this.dim, metric: 'l2', quantization: 'f32', m: this.pick([2, 4, 8, 16]), efConstruction: this.pick([8, 40, 200]),
      seed: this.int(1000), compactThreshold: this.pick([0, 0.1, 0.3]),
    };
    this.ix = new Index(this.options);
    this.stats = {
      upserts: 0, batches: 0, dupBatches: 0, rejected: 0, deletes: 0, setAttrs: 0, roundTrips: 0, compacts: 0,
      filters: 0, objectFilters: 0, matched: 0, searches: 0, maxLive: 0,
    };
  }

  u() { return this.r(); }
  int(n) { return Math.floor(this.r() * n); }
  pick(a) { return a[this.int(a.length)]; }
  chance(p) { return this.r() < p; }

  // ---- random inputs ----

  vector() {
    const c = this.u();
    let v;
    if (c < 0.1 && this.m.live.size) v = this.pick([...this.m.live.values()]).vector.slice(); // an exact duplicate
    else if (c < 0.3) v = Float32Array.from({ length: this.dim }, () => Math.round(this.u() * 2 - 1)); // ties, -0
    else v = Float32Array.from({ length: this.dim }, () => gauss(this.r));
    return this.chance(0.3) ? Array.from(v, (x) => (this.chance(0.5) ? x : x * (1 + 1e-9))) : v; // doubles rounded to float32
  }

  scalar() {
    const c = this.u();
    if (c < 0.35) return this.pick(NUMS);
    if (c < 0.7) return this.pick(STRS);
    if (c < 0.85) return this.chance(0.5);
    return null;
  }

  value(depth) {
    const c = this.u();
    if (depth <= 0 || c < 0.7) return this.scalar();
    if (c < 0.85) return this.array(depth - 1);
    return this.object(depth - 1);
  }

  array(depth) {
    return Array.from({ length: this.int(5) }, () =>
      (this.chance(0.05) ? undefined : this.chance(0.1) ? this.value(depth) : this.scalar()));
  }

  object(depth) {
    const o = {};
    for (const name of ['p', 'q', 'r', '0', '', 'and', 'x']) if (this.chance(0.3)) def(o, name, this.value(depth));
    return o;
  }

  attributes() {
    if (this.chance(0.08)) return this.pick([undefined, null, {}]);
    const a = {};
    if (this.chance(0.6)) a.n = this.chance(0.8) ? this.pick(NUMS) : this.value(1);
    if (this.chance(0.6)) a.s = this.chance(0.8) ? this.pick(STRS) : this.value(1);
    if (this.chance(0.4)) a.b = this.chance(0.8) ? this.chance(0.5) : this.value(1);
    if (this.chance(0.3)) a.z = this.chance(0.6) ? null : this.scalar();
    if (this.chance(0.5)) a.tags = this.chance(0.75) ? this.array(1) : this.value(1);
    if (this.chance(0.5)) {
      if (this.chance(0.8)) {
        const o = this.object(1);
        if (this.chance(0.7)) o.p = this.chance(0.8) ? def(this.object(0), 'q', this.value(1)) : this.value(1);
        a.o = o;
      } else {
        a.o = this.value(1);
      }
    }
    for (let i = this.int(3); i > 0; i--) if (this.chance(0.3)) def(a, this.pick(ODD), this.value(1));
    if (this.chance(0.05)) a.u = undefined; // left out, as JSON leaves it
    return a;
  }

  key() { return this.pick(KEYS); }

  doc() {
    const d = { vector: this.vector() };
    if (this.chance(0.75)) d.key = this.key();
    else if (this.chance(0.2)) d.key = this.pick([undefined, null]);
    const a = this.attributes();
    if (a !== undefined || this.chance(0.5)) d.attributes = a;
    return d;
  }

  /** Attributes that must be INVALID. */
  badAttributes() {
    const cyc = { x: 1 };
    cyc.self = cyc;
    let deep = {};
    for (let i = 0; i < 70; i++) deep = { d: deep };
    return this.pick([
      { f: NaN }, { f: Infinity }, { f: -Infinity }, { f() { return 1; } }, { f: Symbol('s') }, { f: 1n },
      { o: { p: NaN } }, { t: [1, NaN] }, { t: [() => 1] }, { m: new Map() }, new Map(), [1, 2], 'text', 5, true,
      cyc, { s: 'a\ud800' }, { ['\udc00']: 1 }, deep, { s: 'x'.repeat(70000) }, { d: new (class C {})() },
    ]);
  }

  /** A document that must be rejected: [document, code]. */
  badDoc() {
    const d = this.doc();
    const c = this.int(10);
    if (c === 0) return [{ ...d, vector: Float32Array.from({ length: this.dim + this.pick([-1, 1, 5]) }, () => 1) }, DIM];
    if (c === 1) {
      const v = Array.from(this.vector());
      v[this.int(this.dim)] = this.pick([NaN, Infinity, 'x', 1n]);
      return [{ ...d, vector: v }, INVALID];
    }
    if (c === 2) return [{ key: this.key(), attributes: d.attributes, vector: this.pick([undefined, null, 'abc', 5]) }, INVALID];
    if (c === 3) return [{ ...d, key: this.pick([5, '', 'x'.repeat(1025), 'é'.repeat(513), '\ud800', 'a\udfffb', {}, true]) }, INVALID];
    if (c === 4) return [{ ...d, extra: 1 }, INVALID];
    if (c === 5) return [this.pick([null, 'doc', [1, 2], 7, new Float32Array(this.dim)]), INVALID];
    return [{ ...d, attributes: this.badAttributes() }, INVALID];
  }

  // ---- filters ----

  path() {
    const c = this.u();
    if (c < 0.1) return [this.pick(ODD)];
    if (c < 0.15) { // absent, through a scalar, into an array, odd names inside o
      return this.pick([['nope'], ['o', 'nope'], ['o', 'p', 'q', 'x'], ['tags', '0'], ['n', 'x'], ['o', ''], ['o', 'and'],
        ['o', '0', 'q']]);
    }
    return this.pick([['n'], ['n'], ['s'], ['s'], ['b'], ['z'], ['tags'], ['tags'], ['o'], ['o', 'p'], ['o', 'p', 'q'], ['o', 'p', 'q'],
      ['o', 'q'], ['o', 'r'], ['o', '0'], ['o', 'x']]);
  }

  litScalar() {
    const c = this.u();
    if (c < 0.4) return this.pick(LIT_NUMS);
    if (c < 0.8) return this.pick(LIT_STRS);
    if (c < 0.9) return this.chance(0.5);
    return null;
  }

  leaf() {
    const path = this.path(), c = this.u();
    if (c < 0.5) {
      const op = this.pick(['==', '==', '!=', '<', '<=', '>', '>=']);
      let lit = this.litScalar();
      if (op === '!=' && lit === null) lit = this.pick(LIT_STRS); // "!= null" is an error
      if (!['==', '!='].includes(op) && typeof lit !== 'number' && typeof lit !== 'string') lit = this.pick(LIT_NUMS);
      return { t: 'cmp', path, op, lit };
    }
    if (c < 0.65) return { t: 'in', path, neg: this.chance(0.4), lits: Array.from({ length: this.int(5) }, () => this.litScalar()) };
    if (c < 0.82) return { t: 'contains', path, lit: this.chance(0.6) ? this.pick(LIT_STRS) : this.litScalar() };
    if (c < 0.94) return { t: 'exists', path };
    return { t: 'nenull', path };
  }

  filter(depth = 3) {
    const c = this.u();
    if (depth <= 0 || c < 0.5) return this.leaf();
    if (c < 0.65) return { t: 'not', f: this.filter(depth - 1) };
    const fs = Array.from({ length: 2 + this.int(2) }, () => this.filter(depth - 1));
    return { t: c < 0.85 ? 'and' : 'or', fs };
  }

  /** A random filter: its tree, its text, its object (or null), and what the model says matches. */
  randomFilter() {
    const tree = this.chance(0.04) ? { t: 'true' } : this.filter();
    const text = this.w.text(tree);
    let object = this.w.object(tree);
    if (tree.t === 'true' && this.chance(0.3)) object = undefined; // no filter at all
    const want = [...this.m.live].filter(([, d]) => matches(tree, d.attributes)).map(([id]) => id);
    this.stats.filters++;
    if (object !== null) this.stats.objectFilters++;
    this.stats.matched += want.length;
    return { tree, text, object, want, what: `filter ${JSON.stringify(text)} (object ${show(object)})` };
  }

  // ---- checks ----

  /** fn must throw PocketVecError with code, and leave the index as it was. */
  rejects(fn, code, what, count = true) {
    const before = this.ix.toBytes(), size = this.ix.size;
    let e;
    try {
      fn();
    } catch (x) {
      e = x;
    }
    if (!(e instanceof PocketVecError)) assert.fail(`${what}: ${e ? `threw ${e.stack}` : 'did not throw'}`);
    if (e.code !== code) assert.fail(`${what}: code ${e.code} (${e.message}), expected ${code}`);
    assert.equal(this.ix.size, size, `${what}: the failed call changed the size`);
    assert.deepEqual(this.ix.toBytes(), before, `${what}: the failed call changed the index`);
    if (count) this.stats.rejected++;
  }

  checkKey(key) {
    const id = this.m.byKey.get(key), got = this.ix.get(key);
    assert.equal(this.ix.has(key), id !== undefined, `has(${show(key)})`);
    if (id === undefined) return assert.equal(got, undefined, `get(${show(key)}) of a key no live document has`);
    const d = this.m.live.get(id);
    assert.deepEqual(got, { key, id, vector: d.vector, attributes: d.attributes }, `get(${show(key)})`);
  }

  checkId(id) {
    const d = this.m.live.get(id);
    assert.equal(this.ix.has(id), !!d, `has(${id})`);
    if (d) assert.deepEqual(this.ix.get(id), d.vector, `get(${id})`);
    else this.rejects(() => this.ix.get(id), NOTFOUND, `get(${id}) of a dead id`, false);
  }

  /** find()'s answer must be the model's documents of these ids, in order. */
  checkFound(got, ids, what) {
    assert.ok(Array.isArray(got), `${what}: not an array`);
    const extra = got.find((h) => Object.keys(h).some((k) => !['id', 'key', 'attributes'].includes(k)));
    assert.equal(extra, undefined, `${what}: a result has other fields than id, key, attributes`);
    const gotIds = got.map((h) => h.id);
    assert.deepEqual(gotIds, ids, `${what}: ids`);
    got.forEach((h) => {
      const d = this.m.live.get(h.id);
      assert.equal(h.key, d.key, `${what}: key of ${h.id}`);
      assert.deepEqual(h.attributes, d.attributes, `${what}: attributes of ${h.id} (${show(d.key)})`);
    });
  }

  checkFilter(f) {
    const { ix } = this, forms = [['text', f.text]];
    if (f.object !== null) forms.push(['object', f.object]);
    for (const [form, filter] of forms) {
      const what = `${f.what}, as ${form}`, found = ix.find(filter), ids = found.map((h) => h.id);
      const extra = ids.filter((id) => !f.want.includes(id)), missing = f.want.filter((id) => !ids.includes(id));
      const docs = (list) => list.slice(0, 5).map((id) => `${id} ${show(this.m.live.get(id)?.attributes)}`).join('; ');
      if (extra.length || missing.length)
        assert.fail(`${what}: find() matches ${extra.length} documents the model does not (${docs(extra)}) ` +
          `and misses ${missing.length} the model matches (${docs(missing)})`);
      this.checkFound(found, f.want, `${what}: find()`);
      assert.equal(ix.count(filter), f.want.length, `${what}: count()`);
      if (this.chance(0.3)) {
        const limit = this.pick([0, 1, 2, 5, f.want.length, f.want.length + 1]);
        this.checkFound(ix.find(filter, { limit }), f.want.slice(0, limit), `${what}: find(limit ${limit})`);
      }
    }
  }

  query() {
    if (this.m.live.size && this.chance(0.3)) return this.pick([...this.m.live.values()]).vector.slice();
    return this.vector();
  }

  /** Hits: the model's matching documents, distinct, sorted, with key and (when asked) attributes. */
  checkHits(hits, f, q, attributes, what) {
    const seen = new Set();
    hits.forEach((h, i) => {
      const d = this.m.live.get(h.id);
      assert.ok(d, `${what}: hit ${i} is id ${h.id}, not a live document`);
      assert.ok(!seen.has(h.id), `${what}: id ${h.id} twice`);
      seen.add(h.id);
      assert.ok(f.want.includes(h.id), `${what}: id ${h.id} (${show(d.key)}, ${show(d.attributes)}) does not match`);
      assert.equal(h.key, d.key, `${what}: key of id ${h.id}`);
      const m = l2(q, d.vector);
      assert.ok(Math.abs(h.distance - m) <= 1e-5 * m + 1e-6, `${what}: id ${h.id} at distance ${h.distance}, the model says ${m}`);
      if (i) assert.ok(hits[i - 1].distance <= h.distance, `${what}: hits not sorted by distance`);
      if (attributes) assert.deepEqual(h.attributes, d.attributes, `${what}: attributes of id ${h.id}`);
      else assert.ok(!('attributes' in h), `${what}: attributes not asked for`);
    });
  }

  checkSearch(f) {
    const { ix, m } = this, qin = this.query(), q = Float32Array.from(qin);
    const n = f.want.length;
    const k = this.pick([0, 1, 1, 2, 3, 5, 10, n, n + 1, m.live.size + 3, 1000]);
    const filter = f.object !== null && this.chance(0.5) ? f.object : f.text;
    const attributes = this.chance(0.3);
    const opts = (o) => (filter === undefined && this.chance(0.5) ? o : { ...o, filter });
    const what = `${f.what}, k ${k}`;

    const exact = ix.searchExact(qin, k, opts(attributes ? { attributes } : {}));
    const want = Math.min(k, n);
    assert.equal(exact.length, want, `searchExact(${what}): ${exact.length} hits, the model has ${want} (of ${n} matching)`);
    this.checkHits(exact, f, q, attributes, `searchExact(${what})`);
    if (want) {
      // The same set as brute force, but for ties at the k-th distance.
      const all = f.want.map((id) => ({ id, d: l2(q, m.live.get(id).vector) })).sort((a, b) => a.d - b.d || a.id - b.id);
      const dk = all[want - 1].d, tol = 1e-5 * dk + 1e-6, got = new Set(exact.map((h) => h.id));
      for (const h of exact) {
        const d = l2(q, m.live.get(h.id).vector);
        assert.ok(d <= dk + tol, `searchExact(${what}): id ${h.id} at ${d} is beyond the k-th distance ${dk}`);
      }
      for (const { id, d } of all) {
        if (d >= dk - tol) break;
        assert.ok(got.has(id), `searchExact(${what}): id ${id} at ${d} is missing (k-th distance ${dk}); got ${[...got]}`);
      }
    }

    const hits = ix.search(qin, k, opts(attributes ? { ef: 200, attributes } : { ef: 200 }));
    assert.equal(hits.length, want, `search(${what}, ef 200): ${hits.length} hits, the model has ${want} (of ${n} matching)`);
    this.checkHits(hits, f, q, attributes, `search(${what}, ef 200)`);
    this.stats.searches++;
  }

  fieldsModel() {
    const map = new Map();
    const walk = (o, segs) => {
      for (const k of Object.keys(o)) {
        const p = [...segs, k], v = o[k], path = pathText(p);
        let e = map.get(path);
        if (!e) map.set(path, e = { path, types: new Set(), count: 0 });
        e.count++;
        e.types.add(kind(v));
        // An array's scalar elements' types (contains looks at no other elements).
        if (Array.isArray(v)) {
          for (const x of v) if (isScalar(x)) e.types.add(kind(x));
        } else if (kind(v) === 'object') {
          walk(v, p);
        }
      }
    };
    for (const d of this.m.live.values()) walk(d.attributes, []);
    return map;
  }

  checkFields() {
    const got = this.ix.fields(), want = this.fieldsModel();
    const paths = got.map((f) => f.path);
    assert.deepEqual(paths, [...paths].sort((a, b) => utf8cmp(a, b)), 'fields(): not sorted by path');
    assert.deepEqual(new Set(paths), new Set(want.keys()), 'fields(): the paths');
    for (const f of got) {
      const e = want.get(f.path);
      assert.deepEqual(new Set(f.types), e.types, `fields(): the types of ${f.path}`);
      assert.equal(f.count, e.count, `fields(): the count of ${f.path}`);
      assert.equal(this.ix.count(`exists(${f.path})`), f.count, `fields(): count of exists(${f.path})`);
    }
  }

  /** Everything the model knows, checked after each step (all of it when full). */
  verify(full) {
    const { ix, m } = this;
    assert.equal(ix.size, m.live.size, 'size');
    ix.check();
    const keys = full ? KEYS : [this.key(), this.key(), ...(m.byKey.size ? [this.pick([...m.byKey.keys()])] : [])];
    for (const key of keys) this.checkKey(key);
    for (let i = 0; i < 2; i++) this.checkId(this.int(m.next + 2));
    if (m.live.size && this.chance(0.5)) this.checkId(this.pick([...m.live.keys()]));
    const f = this.randomFilter();
    this.checkFilter(f);
    this.checkSearch(f);
    if (full) {
      assert.equal(ix.count(), m.live.size, 'count()');
      this.checkFound(ix.find(), [...m.live.keys()], 'find()');
      this.checkFields();
    }
    this.stats.maxLive = Math.max(this.stats.maxLive, m.live.size);
  }

  // ---- operations ----

  upsert() {
    const d = this.doc();
    this.desc = `upsert(${show(d)})`;
    const id = this.ix.upsert(d), [want] = this.m.upsert([d]);
    assert.equal(id, want, 'upsert: the id (new ids are given in order, never reused)');
    this.stats.upserts++;
  }

  upsertBatch() {
    const docs = Array.from({ length: this.int(6) }, () => this.doc());
    if (docs.length > 1 && this.chance(0.3)) {
      const i = this.int(docs.length), j = (i + 1 + this.int(docs.length - 1)) % docs.length;
      docs[j].key = docs[i].key ?? this.key();
      docs[i].key = docs[j].key;
      this.stats.dupBatches++;
    }
    this.desc = `upsertBatch(${show(docs)})`;
    if (docs.length && this.chance(0.25)) {
      const [bad, code] = this.badDoc(), at = this.int(docs.length);
      docs[at] = bad;
      this.desc = `upsertBatch with a bad document at ${at}: ${show(docs)}`;
      return this.rejects(() => this.ix.upsertBatch(docs), code, 'upsertBatch with a bad document');
    }
    const ids = this.ix.upsertBatch(docs);
    assert.ok(ids instanceof Uint32Array, 'upsertBatch returns a Uint32Array');
    assert.deepEqual([...ids], this.m.upsert(docs), 'upsertBatch: the ids (in order, the last of a repeated key wins)');
    this.stats.batches++;
  }

  upsertBad() {
    const [bad, code] = this.badDoc();
    this.desc = `upsert of a bad document ${show(bad)}`;
    this.rejects(() => this.ix.upsert(bad), code, this.desc);
  }

  delete() {
    const { m } = this, byKey = this.chance(0.5);
    let target;
    if (byKey) target = this.chance(0.8) && m.byKey.size ? this.pick([...m.byKey.keys()]) : this.key();
    else target = this.chance(0.8) && m.live.size ? this.pick([...m.live.keys()]) : this.int(m.next + 3);
    this.desc = `delete(${show(target)})`;
    const id = m.idOf(target);
    if (id === undefined) return this.rejects(() => this.ix.delete(target), NOTFOUND, `${this.desc} of no live document`);
    this.ix.delete(target);
    m.delete(id);
    this.stats.deletes++;
  }

  setAttributes() {
    const { m } = this, c = this.u();
    let target;
    if (c < 0.45 && m.byKey.size) target = this.pick([...m.byKey.keys()]);
    else if (c < 0.9 && m.live.size) target = this.pick([...m.live.keys()]);
    else target = this.chance(0.5) ? this.key() : this.int(m.next + 3);
    const merge = this.chance(0.5), attrs = this.attributes();
    const options = merge ? { merge: true } : this.pick([undefined, {}, { merge: false }]);
    this.desc = `setAttributes(${show(target)}, ${show(attrs)}, ${show(options)})`;
    const id = m.idOf(target);
    if (id !== undefined && this.chance(0.1)) {
      const bad = this.badAttributes();
      this.desc = `setAttributes(${show(target)}) with bad attributes`;
      return this.rejects(() => this.ix.setAttributes(target, bad, options), INVALID, this.desc);
    }
    if (id !== undefined && this.chance(0.03)) {
      const o = this.pick([{ merge: 1 }, { mrege: true }, 'merge', []]);
      this.desc = `setAttributes(${show(target)}) with bad options ${show(o)}`;
      return this.rejects(() => this.ix.setAttributes(target, attrs, o), INVALID, this.desc);
    }
    if (id === undefined)
      return this.rejects(() => this.ix.setAttributes(target, attrs, options), NOTFOUND, `${this.desc} of no live document`);
    this.ix.setAttributes(target, attrs, options);
    const d = m.live.get(id);
    d.attributes = merge ? { ...d.attributes, ...normAttrs(attrs) } : normAttrs(attrs);
    this.stats.setAttrs++;
  }

  badFilter() {
    const filter = this.pick([
      'a = 1', 'n != null', 'n < true', 's >= null', 'n ==', 'n in [1,]', 'n in 1', '(n == 1', 'n == 1)', 'exists n',
      'n == "\\ud800"', 'n == 01', 'n == 1.', 'n == .5', 'n == +1', 'été == 1', 'n == 1e400', 'in == 1', 'n contains [1]',
      '`n == 1', 'n == 1 b == 2', '"n" == 1', '1 == n', 'n not 1', 'n. == 1', 'n == "\t"', '(('.repeat(40) + 'n == 1' + '))'.repeat(40),
      { $and: [] }, { $or: [] }, { $or: 5 }, { n: [1] }, { o: { p: 1 } }, { n: { $gt: true } }, { n: { $lt: null } }, { $foo: 1 },
      { n: { $in: 5 } }, { n: NaN }, { n: Infinity }, { n: { $exists: 1 } }, { n: undefined }, { n: { $foo: 1 } }, { n: {} },
      { n: 1n }, { n: { $contains: [1] } }, { s: '\ud800' }, { $not: 5 }, 5, [], true,
    ]);
    const fn = this.pick([
      (ix) => ix.count(filter), (ix) => ix.find(filter), (ix) => ix.searchExact(this.query(), 3, { filter }),
      (ix) => ix.search(this.query(), 3, { filter }), (ix) => ix.search(this.query(), 3, { filtre: 'n == 1' }),
    ]);
    this.desc = `a bad filter ${show(filter)}`;
    this.rejects(() => fn(this.ix), INVALID, this.desc);
  }

  compact() {
    this.desc = 'compact()';
    this.ix.compact();
    assert.equal(this.ix.deletedCount, 0, 'compact() leaves no deleted slots');
    this.stats.compacts++;
  }

  roundTrip() {
    this.desc = 'Index.fromBytes(ix.toBytes())';
    const bytes = this.ix.toBytes(), copy = Index.fromBytes(bytes);
    assert.deepEqual(copy.toBytes(), bytes, 'a loaded copy saves the same bytes');
    this.ix.free();
    this.ix = copy;
    this.stats.roundTrips++;
  }

  step() {
    const x = this.u();
    this.desc = 'queries only';
    if (x < 0.22) this.upsert();
    else if (x < 0.34) this.upsertBatch();
    else if (x < 0.39) this.upsertBad();
    else if (x < 0.53) this.delete();
    else if (x < 0.65) this.setAttributes();
    else if (x < 0.68) this.badFilter();
    else if (x < 0.70) this.compact();
    else if (x < 0.73) this.roundTrip();
  }
}

for (const seed of SEEDS) {
  test(`documents model tester: ${STEPS} steps from seed ${seed}`, (t) => {
    const T = new Tester(seed);
    let i = 0;
    try {
      for (; i < STEPS; i++) {
        T.step();
        T.verify(i % FULL_EVERY === FULL_EVERY - 1 || i === STEPS - 1);
      }
    } catch (e) {
      e.message = `seed ${seed}, step ${i} (${T.desc}; index ${show(T.options)}, ${T.m.live.size} live, next id ${T.m.next}): ${e.message}`;
      throw e;
    } finally {
      T.ix.free();
    }
    const s = T.stats;
    t.diagnostic(`seed ${seed}, dim ${T.dim}, m ${T.options.m}: ${STEPS} steps, up to ${s.maxLive} live documents`);
    t.diagnostic(`  upserts ${s.upserts}, batches ${s.batches} (${s.dupBatches} drawn with a repeated key), deletes ${s.deletes}, ` +
      `setAttributes ${s.setAttrs}, compactions ${s.compacts}, round trips ${s.roundTrips}`);
    t.diagnostic(`  invalid inputs and calls on unknown documents rejected without change: ${s.rejected}`);
    t.diagnostic(`  filters ${s.filters} (${s.objectFilters} also as objects), ${(s.matched / s.filters).toFixed(1)} matches on average; ` +
      `searches ${s.searches}`);
  });
}
