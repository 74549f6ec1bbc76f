// SPDX-License-Identifier: MIT
// Filters in JS: the text form (compiled by C) and the object form
// (translated by src/filter.js) against a brute-force model in plain JS of
// the language's semantics (docs/FILTER.md) on random documents:
//   - count, find and filtered searchExact must equal the model exactly,
//     whichever form the filter takes;
//   - filtered search must return min(k, matches) hits, with recall@10 of
//     at least 0.9 against filtered searchExact on a random 2k set;
// plus the semantics case by case, the translation of objects to text,
// and every error (syntax errors with their position, unknown operators).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { init, Index, PocketVecError, ErrorCode } from '../index.js';
import { filterText } from '../src/filter.js';
import { clustered, rng, row } from './helpers/data.mjs';

await init();
const { INVALID } = ErrorCode;

function fails(fn, code, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof PocketVecError, `not a PocketVecError: ${e?.stack ?? e}`);
    assert.equal(e.code, code, `code ${e.code} (${e.message})`);
    if (re) assert.match(e.message, re);
    return true;
  });
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  return err;
}

// ---- the model: the language's semantics over plain JS values ---------------

const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const scalar = (v) => v !== undefined && kind(v) !== 'array' && kind(v) !== 'object';

/** The value at path (an array of names) through objects only; undefined if missing. */
function resolve(attrs, path) {
  let v = attrs;
  for (const name of path) {
    if (kind(v) !== 'object' || !Object.hasOwn(v, name)) return undefined;
    v = v[name];
  }
  return v;
}

/** Strings in the order of their code points (UTF-8 byte order), not of UTF-16 units. */
function cmpStr(a, b) {
  const x = [...a].map((c) => c.codePointAt(0)), y = [...b].map((c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return Math.sign(x.length - y.length);
}

const eq = (v, l) => scalar(v) && kind(v) === kind(l) && v === l;

/** Whether a filter AST matches attributes a. */
function matches(f, a) {
  const v = f.path && resolve(a, f.path);
  switch (f.op) {
    case 'and': return matches(f.a, a) && matches(f.b, a);
    case 'or': return matches(f.a, a) || matches(f.b, a);
    case 'not': return !matches(f.a, a);
    case 'exists': return v !== undefined;
    case 'in': return scalar(v) && f.lits.some((l) => eq(v, l));
    case 'nin': return scalar(v) && !f.lits.some((l) => eq(v, l));
    case 'contains':
      if (kind(v) === 'string' && kind(f.lit) === 'string') return v.includes(f.lit);
      return kind(v) === 'array' && v.some((e) => eq(e, f.lit));
    case 'nenull': return v !== undefined && v !== null;
    default: { // a comparison
      const { cmp, lit } = f;
      if (cmp === '==') return eq(v, lit);
      if (cmp === '!=') return scalar(v) && kind(v) === kind(lit) && v !== lit;
      let c;
      if (kind(v) === 'number' && kind(lit) === 'number') c = Math.sign(v - lit);
      else if (kind(v) === 'string' && kind(lit) === 'string') c = cmpStr(v, lit);
      else return false;
      return { '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0 }[cmp];
    }
  }
}

// ---- random documents and filters --------------------------------------------

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'é', 'Zeta', 'zeta', '😀', '\uFFFD', 'a b', 'al'];
const TAGS = ['work', 'home', 'urgent', 'later', 'x'];
// The fields, with names the language reads bare, needs in backticks, or
// that are its own words.
const PATHS = [['cat'], ['n'], ['x'], ['tags'], ['flag'], ['maybe'], ['meta', 'author'], ['meta', 'score'],
  ['odd name'], ['in'], ['uni'], ['missing']];

function randomAttrs(r) {
  const pick = (a) => a[Math.floor(r() * a.length)], some = (p) => r() < p;
  const a = {};
  if (some(0.9)) a.cat = pick(['a', 'b', 'c', 'd', 'e']);
  if (some(0.9)) a.n = some(0.1) ? String(Math.floor(r() * 10)) : Math.floor(r() * 100);
  if (some(0.8)) a.x = Math.round((r() * 2 - 1) * 1000) / 100;
  if (some(0.85)) a.tags = TAGS.filter(() => some(0.35));
  if (some(0.05)) a.tags = 'work'; // a string, where contains is a substring test
  if (some(0.8)) a.flag = some(0.5);
  if (some(0.5)) a.maybe = some(0.5) ? null : Math.floor(r() * 3);
  if (some(0.7)) a.meta = some(0.1) ? 'flat' : { author: pick(WORDS), ...(some(0.7) ? { score: Math.floor(r() * 5) } : {}) };
  if (some(0.3)) a['odd name'] = pick(['a', 'b']);
  if (some(0.4)) a.in = Math.floor(r() * 3);
  if (some(0.6)) a.uni = pick(WORDS) + (some(0.3) ? pick(WORDS) : '');
  return a;
}

/** A literal that matches some documents at `path` (mostly), or any other. */
function randomLit(r, path, ordered) {
  const pick = (a) => a[Math.floor(r() * a.length)];
  const key = path.join('.');
  const pools = {
    cat: ['a', 'b', 'c', 'z'], n: [0, 5, 50, 99, '5', 100], x: [-5, 0, 0.5, 3.25, 10], tags: TAGS, flag: [true, false],
    maybe: [null, 0, 1, 2], 'meta.author': WORDS, 'meta.score': [0, 2, 4], 'odd name': ['a', 'b'], in: [0, 1, 2], uni: WORDS,
    missing: [1, 'x'],
  };
  let lit = r() < 0.85 ? pick(pools[key]) : pick([1, 'a', true, null, 2.5, 'work']);
  if (ordered && (lit === null || typeof lit === 'boolean')) lit = pick([1, 'm']);
  return lit;
}

function randomFilter(r, depth = 0) {
  const pick = (a) => a[Math.floor(r() * a.length)];
  const u = r();
  if (depth < 3 && u < 0.35) {
    const op = pick(['and', 'and', 'or', 'or', 'not']);
    return op === 'not' ? { op, a: randomFilter(r, depth + 1) } : { op, a: randomFilter(r, depth + 1), b: randomFilter(r, depth + 1) };
  }
  const path = pick(PATHS), w = r();
  if (w < 0.4) {
    const cmp = pick(['==', '==', '!=', '<', '<=', '>', '>=']), ordered = cmp !== '==' && cmp !== '!=';
    let lit = randomLit(r, path, ordered);
    if (cmp === '!=' && lit === null) return { op: 'nenull', path };
    return { op: 'cmp', cmp, path, lit };
  }
  if (w < 0.55) return { op: 'in', path, lits: Array.from({ length: Math.floor(r() * 4) }, () => randomLit(r, path)) };
  if (w < 0.65) return { op: 'nin', path, lits: Array.from({ length: Math.floor(r() * 4) }, () => randomLit(r, path)) };
  if (w < 0.85) return { op: 'contains', path, lit: path[0] === 'tags' ? pick([...TAGS, 'or', 'wor']) : randomLit(r, path) };
  return { op: 'exists', path };
}

// The test's own renderer of the text form, independent of src/filter.js and
// deliberately varied: names in backticks when they need them and at random
// otherwise, keywords in any case, && and || and !, single-quoted strings,
// parentheses everywhere.
function renderText(f, r) {
  const pick = (a) => a[Math.floor(r() * a.length)];
  const word = (w) => (r() < 0.2 ? w.toUpperCase() : w);
  const path = (p) => p.map((s) => (/^[A-Za-z_$][\w$-]*$/.test(s) && !/^(and|or|not|in|contains|exists|true|false|null)$/i.test(s) && r() < 0.7
    ? s : `\`${s.replaceAll('`', '``')}\``)).join('.');
  const lit = (v) => {
    if (typeof v !== 'string' || r() < 0.6) return typeof v === 'string' ? JSON.stringify(v) : word(String(v));
    return `'${v.replaceAll('\\', '\\\\').replaceAll("'", r() < 0.5 ? "\\'" : "''")}'`;
  };
  switch (f.op) {
    case 'and': return `(${renderText(f.a, r)}) ${pick([word('and'), '&&'])} (${renderText(f.b, r)})`;
    case 'or': return `(${renderText(f.a, r)}) ${pick([word('or'), '||'])} (${renderText(f.b, r)})`;
    case 'not': return `${pick([`${word('not')} `, '!'])}(${renderText(f.a, r)})`;
    case 'exists': return `${word('exists')}(${path(f.path)})`;
    case 'in': return `${path(f.path)} ${word('in')} [${f.lits.map(lit).join(', ')}]`;
    case 'nin': return `${path(f.path)} ${word('not')} ${word('in')} [${f.lits.map(lit).join(',')}]`;
    case 'contains': return `${path(f.path)} ${word('contains')} ${lit(f.lit)}`;
    case 'nenull': return `${word('exists')}(${path(f.path)}) and not ${path(f.path)} == null`;
    default: return `${path(f.path)}${pick([' ', ''])}${f.cmp}${pick([' ', ''])}${lit(f.lit)}`;
  }
}

/** The object form of a filter AST, varied the ways the object form allows. */
function renderObject(f, r) {
  const name = (p) => p.join('.');
  switch (f.op) {
    case 'and': {
      const a = renderObject(f.a, r), b = renderObject(f.b, r);
      // Two objects whose members do not clash may be one object (and).
      if (r() < 0.5 && Object.keys(a).every((k) => !Object.hasOwn(b, k))) return { ...a, ...b };
      return { $and: [a, b] };
    }
    case 'or': return { $or: [renderObject(f.a, r), renderObject(f.b, r)] };
    case 'not': {
      const a = renderObject(f.a, r), keys = Object.keys(a);
      // A field's condition may take $not inside: { x: { $not: { $gt: 1 } } }.
      if (keys.length === 1 && !keys[0].startsWith('$') && r() < 0.5) {
        const c = a[keys[0]];
        return { [keys[0]]: { $not: typeof c === 'object' && c !== null ? c : { $eq: c } } };
      }
      return { $not: a };
    }
    case 'exists': return { [name(f.path)]: { $exists: true } };
    case 'in': return { [name(f.path)]: { $in: f.lits } };
    case 'nin': return { [name(f.path)]: { $nin: f.lits } };
    case 'contains': return { [name(f.path)]: { $contains: f.lit } };
    case 'nenull': return { [name(f.path)]: { $ne: null } };
    default: {
      if (f.cmp === '==' && r() < 0.5) return { [name(f.path)]: f.lit };
      const op = { '==': '$eq', '!=': '$ne', '<': '$lt', '<=': '$lte', '>': '$gt', '>=': '$gte' }[f.cmp];
      return { [name(f.path)]: { [op]: f.lit } };
    }
  }
}

/** A random set of n documents: vectors of dim, random attributes, keys on most. */
function dataset(n, dim, seed) {
  const r = rng(seed), data = clustered(n, dim, { seed });
  return Array.from({ length: n }, (_, i) => ({
    ...(i % 9 ? { key: `k${i}` } : {}), vector: row(data, dim, i), attributes: randomAttrs(r),
  }));
}

// ---- tests ---------------------------------------------------------------------

test('random filters, as text and as objects, select exactly what the model selects', () => {
  const dim = 12, n = 800, docs = dataset(n, dim, 41), r = rng(42);
  const ix = new Index({ dim, metric: 'l2', m: 8, efConstruction: 64, compactThreshold: 0, seed: 3 });
  const ids = ix.upsertBatch(docs);
  // Deletes and replacements, so that some ids hold no document.
  for (let i = 0; i < n; i += 17) ix.delete(ids[i]);
  const live = new Map();
  for (let i = 0; i < n; i++) if (i % 17) live.set(ids[i], docs[i].attributes);
  for (let i = 5; i < n; i += 31) {
    if (i % 17 === 0 || !docs[i].key) continue;
    const attributes = randomAttrs(r);
    live.delete(ix.get(docs[i].key).id);
    live.set(ix.upsert({ key: docs[i].key, vector: docs[(i * 7) % n].vector, attributes }), attributes);
  }
  assert.equal(ix.size, live.size);
  let compared = 0, nonTrivial = 0;
  for (let t = 0; t < 400; t++) {
    const f = randomFilter(r), text = renderText(f, r), object = renderObject(f, r);
    const want = [...live].filter(([, a]) => matches(f, a)).map(([id]) => id).sort((a, b) => a - b);
    const what = `filter ${text} / ${JSON.stringify(object)} (${filterText(object)})`;
    for (const form of [text, object]) {
      assert.equal(ix.count(form), want.length, `count: ${what}`);
      assert.deepEqual(ix.find(form).map((d) => d.id), want, `find: ${what}`);
    }
    if (t % 4 === 0) {
      const q = docs[Math.floor(r() * n)].vector, k = [1, 5, 10, 50][t % 16 / 4];
      const all = ix.searchExact(q, ix.size), allowed = new Set(want);
      const model = all.filter((h) => allowed.has(h.id)).slice(0, k);
      assert.deepEqual(ix.searchExact(q, k, { filter: text }), model, `searchExact: ${what}`);
      assert.deepEqual(ix.searchExact(q, k, { filter: object }), model, `searchExact: ${what}`);
      compared++;
    }
    if (want.length && want.length < live.size) nonTrivial++;
  }
  assert.ok(nonTrivial > 200, `only ${nonTrivial} of 400 filters selected some but not all`);
  assert.ok(compared === 100);
  ix.free();
});

test('filtered search: min(k, matches) hits and recall@10 >= 0.9 against searchExact, on 2k documents', () => {
  for (const quantization of ['f32', 'sq8']) {
    const dim = 32, n = 2000, docs = dataset(n, dim, 7), r = rng(8);
    const ix = new Index({ dim, metric: 'cosine', quantization, m: 12, efConstruction: 100, seed: 1 });
    ix.upsertBatch(docs);
    const filters = [
      'cat == "a"', 'tags contains "work"', 'n < 10', 'n >= 10 and flag == true', 'meta.author == "é"',
      'exists(maybe)', 'not tags contains "x"', 'cat in ["a", "b"] or x > 5', 'n == 42', 'x < -9',
      { 'meta.score': { $gte: 3 }, cat: { $ne: 'b' } }, { $or: [{ uni: { $contains: '😀' } }, { in: 1 }] },
    ];
    let found = 0, possible = 0, searches = 0;
    for (const filter of filters) {
      const matching = ix.count(filter), allowed = new Set(ix.find(filter).map((d) => d.id));
      for (let t = 0; t < 25; t++) {
        const q = docs[Math.floor(r() * n)].vector;
        const exact = ix.searchExact(q, 10, { filter }), hits = ix.search(q, 10, { filter, ef: 64 });
        assert.equal(hits.length, Math.min(10, matching), `${JSON.stringify(filter)}: ${hits.length} hits of ${matching} matches`);
        assert.equal(exact.length, Math.min(10, matching));
        const want = new Set(exact.map((h) => h.id));
        for (const h of hits) {
          assert.ok(allowed.has(h.id), `hit ${h.id} does not match ${JSON.stringify(filter)}`);
          if (want.has(h.id)) found++;
        }
        possible += exact.length;
        searches++;
      }
    }
    const recall = found / possible;
    assert.ok(recall >= 0.9, `${quantization}: recall@10 ${recall.toFixed(3)} over ${searches} filtered searches`);
    ix.free();
  }
});

test('semantics: missing fields and other types never compare; not, exists, in, not in, contains', () => {
  const ix = new Index({ dim: 2, metric: 'l2' });
  const A = { s: 'work late', n: 3, b: true, z: null, arr: ['work', 1, null], o: { k: 'v', deep: { n: 1 } }, e: '😀', hi: '\uFFFF' };
  ix.upsertBatch([{ key: 'A', vector: [0, 1], attributes: A }, { key: 'B', vector: [1, 0], attributes: { n: '3' } },
    { key: 'C', vector: [1, 1] }]);
  const sel = (f) => ix.find(f).map((d) => d.key).join('');
  const cases = [
    ['n == 3', 'A'], ['n == "3"', 'B'], ['n != 3', ''], ['n != "4"', 'B'], ['n < 4', 'A'], ['n > "2"', 'B'],
    ['not n == 3', 'BC'], ['not exists(n)', 'C'], ['exists(z)', 'A'], ['z == null', 'A'], ['z == false', ''],
    ['b == true', 'A'], ['b != false', 'A'], ['s contains "late"', 'A'], ['s contains ""', 'A'], ['s contains 1', ''],
    ['arr contains "work"', 'A'], ['arr contains null', 'A'], ['arr contains "wor"', ''], ['arr == "work"', ''],
    ['arr in ["work"]', ''], ['n in [3, "3"]', 'AB'], ['n in []', ''], ['n not in [4]', 'AB'], ['n not in []', 'AB'],
    ['z not in [1]', 'A'], ['arr not in [1]', ''], ['missing not in [1]', ''], ['o.k == "v"', 'A'], ['o.deep.n >= 1', 'A'],
    ['o == "v"', ''], ['exists(o.deep)', 'A'], ['arr.0 == "work"', ''], ['e > "\uFFFF"', 'A'], ['hi < "😀"', 'A'],
    ['e > hi', null],
  ];
  for (const [f, want] of cases) {
    if (want === null) {
      fails(() => ix.count(f), INVALID);
      continue;
    }
    assert.equal(sel(f), want, f);
  }
  ix.free();
});

test('the object form: each operator, and the text it reads as (docs/FILTER.md)', () => {
  const cases = [
    // The examples of docs/FILTER.md, as written there.
    [{}, ''],
    [{ status: 'active' }, 'status == "active"'],
    [{ tags: { $contains: 'work' }, created: { $gte: 1704067200 } }, 'tags contains "work" and created >= 1704067200'],
    [{ 'author.name': { $in: ['Ann', 'Bo'] } }, 'author.name in ["Ann", "Bo"]'],
    [{ price: { $gte: 10, $lt: 20 } }, '(price >= 10 and price < 20)'],
    [{ deleted: { $exists: false } }, 'not exists(deleted)'],
    [{ note: { $ne: null } }, '(exists(note) and not note == null)'],
    [{ $or: [{ a: 1 }, { b: { $ne: 2 } }] }, '(a == 1) or (b != 2)'],
    [{ $not: { lang: { $in: ['fr', 'de'] } } }, 'not (lang in ["fr", "de"])'],
    [{ 'first name': 'Zoë', 'x.and': true }, '`first name` == "Zoë" and x.`and` == true'],
    // Each operator and form.
    [{ pinned: true }, 'pinned == true'],
    [{ a: null }, 'a == null'],
    [{ a: { $eq: 'x', $ne: 'y' } }, '(a == "x" and a != "y")'],
    [{ a: { $gte: 'm', $lte: 'n' } }, '(a >= "m" and a <= "n")'],
    [{ a: { $in: [1, 'x', true, null] } }, 'a in [1, "x", true, null]'],
    [{ a: { $nin: [] } }, 'a not in []'],
    [{ a: { $contains: null } }, 'a contains null'],
    [{ a: { $exists: true } }, 'exists(a)'],
    [{ a: { $not: { $gt: 5 } } }, 'not (a > 5)'],
    [{ a: { $not: { $gt: 5, $lt: 9 } } }, 'not ((a > 5 and a < 9))'],
    [{ $and: [{ $or: [{ a: 1 }, { b: 2 }] }, { c: 3 }] }, '((a == 1) or (b == 2)) and (c == 3)'],
    [{ $not: { $or: [{ a: 1 }, { b: 2 }] } }, 'not ((a == 1) or (b == 2))'],
    [{ $not: { a: 1 } }, 'not (a == 1)'],
    // An $or beside other entries keeps its alternatives together.
    [{ x: { $gt: 1 }, $or: [{ a: 1 }, { b: 1 }] }, 'x > 1 and ((a == 1) or (b == 1))'],
    [{ $or: [{ a: 1 }], x: 2 }, '(a == 1) and x == 2'],
    // Empty elements are true: dropped from $and, and they make $or true.
    [{ $and: [{}, { a: 1 }] }, '(a == 1)'],
    [{ $and: [{}] }, ''],
    [{ $or: [{ a: 1 }, {}] }, ''],
    [{ x: 1, $or: [{}] }, 'x == 1'],
    // Names: dotted paths; words and other characters in backticks; later segments may start with a digit or -.
    [{ 'odd name.in.AND.ok-1.$x.9.-y': 1 }, '`odd name`.`in`.`AND`.ok-1.$x.9.-y == 1'],
    [{ '9lives': 1, '-x': 2, Contains: 3 }, '`9lives` == 1 and `-x` == 2 and `Contains` == 3'],
    [{ 'a`b': 1, é: 2 }, '`a``b` == 1 and `é` == 2'],
    // Literals: JSON strings, numbers as String() writes them.
    [{ s: 'say "hi"\n😀' }, 's == "say \\"hi\\"\\n😀"'],
    [{ n: 1e21, m: -0, k: 5e-324, j: -1.5 }, 'n == 1e+21 and m == 0 and k == 5e-324 and j == -1.5'],
  ];
  const ix = new Index({ dim: 1 });
  for (const [object, text] of cases) {
    assert.equal(filterText(object), text, JSON.stringify(object));
    ix.count(object); // C compiles every one of them
  }
  ix.free();
});

test('filter errors: syntax errors with their position, unknown operators, values of the wrong type', () => {
  const ix = new Index({ dim: 2 });
  ix.upsert({ key: 'a', vector: [1, 2], attributes: { x: 1 } });
  const q = [1, 2];
  // Syntax: C's message and hint; `offset` is where in the string (UTF-16 units), past non-ASCII text too.
  let e = fails(() => ix.search(q, 1, { filter: 'x = 1' }), INVALID, /^unexpected "=" at 2: did you mean "=="\?$/);
  assert.equal(e.offset, 2);
  e = fails(() => ix.count('name == "é😀" and x = 1'), INVALID, / at 23: /); // bytes of UTF-8 in the message...
  assert.equal(e.offset, 20); // ... a string index here
  assert.equal('name == "é😀" and x = 1'.slice(e.offset), '= 1');
  fails(() => ix.count('x == 1 and'), INVALID, /^unexpected end of filter at 10/);
  fails(() => ix.count('x != null'), INVALID, /never matches/);
  fails(() => ix.count('(('.repeat(40) + 'x == 1' + '))'.repeat(40)), INVALID, /nested deeper than 64 levels/);
  fails(() => ix.count('x == \uD800'), INVALID, /^the filter is not valid Unicode: a lone surrogate at index 5$/);
  // The object form: an unknown operator is named; the known ones listed.
  fails(() => ix.count({ x: { $regex: 'a.*' } }), INVALID,
    /^filter: unknown operator "\$regex"; the operators are \$eq \$ne \$gt \$gte \$lt \$lte \$in \$nin \$contains \$exists \$and \$or \$not$/);
  fails(() => ix.count({ $nor: [{ x: 1 }] }), INVALID, /^filter: unknown operator "\$nor"/);
  fails(() => ix.count({ $eq: 1 }), INVALID, /^filter: \$eq applies to a field, as \{ field: \{ \$eq: \.\.\. \} \}$/);
  fails(() => ix.count({ x: { $or: [] } }), INVALID, /^filter: \$or combines filters: use it outside the field/);
  fails(() => ix.count({ $or: [] }), INVALID, /^filter: \$or takes a non-empty array of filters, got an array of length 0$/);
  fails(() => ix.count({ $and: { x: 1 } }), INVALID, /^filter: \$and takes a non-empty array of filters, got an object \{x\}$/);
  fails(() => ix.count({ $not: 5 }), INVALID, /^filter: \$not must be an object, got number 5$/);
  fails(() => ix.count({ $not: {} }), INVALID, /^filter: \$not of an empty filter would match nothing/);
  fails(() => ix.count({ x: { $not: 3 } }), INVALID, /^filter: \$not of "x" takes operators, as \{ \$not: \{ \$gt: 5 \} \}, got number 3$/);
  fails(() => ix.count({ x: undefined }), INVALID, /^filter: the value of "x" must be a string, a finite number, a boolean or null, got undefined$/);
  fails(() => ix.count({ x: { $gt: 1, $lt: undefined } }), INVALID, /^filter: \$lt of "x" must be a string or a finite number, got undefined$/);
  fails(() => ix.count({ x: {} }), INVALID, /^filter: the condition on "x" is empty$/);
  fails(() => ix.count({ x: { y: 1 } }), INVALID, /^filter: the value of "x" is an object without operators; for a nested field use a dotted name such as "x\.y"$/);
  fails(() => ix.count({ x: [1, 2] }), INVALID, /^filter: the value of "x" is an array; use \{ \$in: \[\.\.\.\] \} or \{ \$contains: \.\.\. \}$/);
  fails(() => ix.count({ x: { $gt: true } }), INVALID, /^filter: \$gt of "x" must be a string or a finite number, got boolean true$/);
  fails(() => ix.count({ x: { $lt: null } }), INVALID, /got null$/);
  fails(() => ix.count({ x: NaN }), INVALID, /^filter: the value of "x" must be a string, a finite number, a boolean or null, got number NaN$/);
  fails(() => ix.count({ x: { $eq: 1n } }), INVALID, /got bigint 1n$/);
  fails(() => ix.count({ x: { $eq: new Date(0) } }), INVALID, /got a Date$/);
  fails(() => ix.count({ x: { $in: 'a' } }), INVALID, /^filter: \$in of "x" takes an array, got string "a"$/);
  fails(() => ix.count({ x: { $in: [1, [2]] } }), INVALID, /^filter: \$in of "x"\[1\] must be/);
  fails(() => ix.count({ x: { $exists: 1 } }), INVALID, /^filter: \$exists of "x" takes true or false, got number 1$/);
  fails(() => ix.count({ x: { $contains: ['a'] } }), INVALID, /^filter: \$contains of "x" must be/);
  fails(() => ix.count({ 'a..b': 1 }), INVALID, /^filter: the field name "a\.\.b" has an empty part$/);
  fails(() => ix.count({ x: 'a\uDC00' }), INVALID, /not valid Unicode/);
  fails(() => ix.count(5), INVALID, /^a filter must be a string or an object such as \{ tags: \{ \$contains: "work" \} \}, got number 5$/);
  fails(() => ix.count([{ x: 1 }]), INVALID, /got an array of length 1$/);
  fails(() => ix.search(q, 1, { filter: true }), INVALID, /got boolean true$/);
  // Deep nesting of objects becomes the language's nesting limit, with the text.
  let deep = { x: 1 };
  for (let i = 0; i < 70; i++) deep = { $not: { $or: [deep, { y: i }] } };
  fails(() => ix.count(deep), INVALID, /nested deeper than 64 levels .*\(the filter object reads: not \(\(not/);
  // None of this changed anything, and the index still works.
  assert.deepEqual(ix.find({ x: 1 }).map((d) => d.key), ['a']);
  ix.check();
  ix.free();
});
