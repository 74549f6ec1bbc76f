// SPDX-License-Identifier: MIT
// The documents API, call by call: keys, attributes (every kind of value,
// and every kind JSON cannot carry), upsert and its batches, setAttributes,
// filters as text and as objects (the translation table of
// docs/FILTER.md), filtered search at every selectivity, count, find,
// fields, and documents through save and load. Every rejected input must
// leave the index as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { init, Index, ErrorCode } from '../index.js';
import { fails } from './helpers/fails.mjs';
import { filterText } from '../src/filter.js';

await init();
const { INVALID, DIM, NOTFOUND } = ErrorCode;


// Everything a caller can see of an index's documents, to show a failed
// call changed nothing.
const snapshot = (ix) => JSON.stringify([ix.size, ix.find(), ix.fields(), [...ix.toBytes()].slice(-64)]);

const notes = () => {
  const ix = new Index({ dim: 3, metric: 'l2' });
  ix.upsertBatch([
    { key: 'note-1', vector: [1, 0, 0], attributes: { title: 'Groceries', tags: ['home'], created: 1710460800 } },
    { key: 'note-2', vector: [0, 1, 0], attributes: { title: 'Standup', tags: ['work', 'daily'], created: 1704067200, author: { name: 'Ann' } } },
    { key: 'note-3', vector: [0, 0, 1], attributes: { title: 'Taxes', tags: ['home', 'work'], created: 1690000000, pinned: true } },
  ]);
  return ix;
};

test('upsert, get, has and delete by key; numbers still mean ids', () => {
  const ix = new Index({ dim: 3, metric: 'l2' });
  const v = Float32Array.of(1, 2, 3), a = { title: 'Groceries', tags: ['home'], created: 1710460800 };
  const id = ix.upsert({ key: 'note-1', vector: v, attributes: a });
  assert.equal(id, 0);
  assert.deepEqual(ix.get('note-1'), { key: 'note-1', id: 0, vector: v, attributes: a });
  assert.equal(ix.has('note-1'), true);
  assert.equal(ix.has(0), true);
  assert.deepEqual(ix.get(0), v); // by id: the vector, as before documents
  assert.equal(ix.get('note-2'), undefined);
  assert.equal(ix.has('note-2'), false);
  // add() still works, and makes a document without a key.
  const plain = ix.add([0, 0, 1]);
  assert.deepEqual(ix.search([0, 0, 1], 1), [{ id: plain, distance: 0 }]);
  assert.equal(ix.find().length, 2);
  ix.delete('note-1');
  assert.equal(ix.has('note-1'), false);
  assert.equal(ix.has(0), false);
  fails(() => ix.delete('note-1'), NOTFOUND, /key/);
  ix.delete(plain);
  assert.equal(ix.size, 0);
});

test('upsert of an existing key: a new id, the old one leaves results at once, ids never reused', () => {
  const ix = notes();
  const old = ix.get('note-1').id, id = ix.upsert({ key: 'note-1', vector: [0, 1, 0], attributes: { v: 2 } });
  assert.ok(id > old);
  assert.equal(ix.has(old), false);
  assert.equal(ix.size, 3);
  assert.deepEqual(ix.get('note-1').attributes, { v: 2 });
  const hits = ix.search([1, 0, 0], 3, { ef: 50 });
  assert.ok(!hits.some((h) => h.id === old));
  assert.deepEqual(ix.searchExact([1, 0, 0], 3).map((h) => h.id).sort(), hits.map((h) => h.id).sort());
  ix.delete('note-1');
  assert.ok(ix.upsert({ key: 'note-1', vector: [1, 1, 1] }) > id);
  ix.check();
});

test('upsertBatch: all or nothing, errors name the document, the last of a repeated key wins', () => {
  const ix = notes(), before = snapshot(ix);
  fails(() => ix.upsertBatch([{ key: 'x', vector: [1, 2, 3] }, { key: 'y', vector: [1, 2] }]), DIM,
    /^document "y": vector has 2 values, index expects 3$/);
  fails(() => ix.upsertBatch([{ vector: [1, 2, 3] }, { vector: [1, 2, NaN] }]), INVALID, /document 1.*NaN/);
  // C finds the NaN; a lone upsert's document is "the document", a batch's by position or key.
  fails(() => ix.upsert({ vector: [1, NaN, 3] }), INVALID, /^the document: .*NaN/);
  fails(() => ix.upsertBatch([{ vector: [1, NaN, 3] }]), INVALID, /^document 0: .*NaN/);
  fails(() => ix.upsert({ key: 'n', vector: [1, NaN, 3] }), INVALID, /^document "n": .*NaN/);
  fails(() => ix.upsertBatch([{ key: 'x', vector: [1, 2, 3], attributes: { n: 1n } }]), INVALID,
    /^document "x": attributes\.n cannot be stored .*got bigint 1n$/);
  fails(() => ix.upsertBatch([{ key: 'x', vector: [1, 2, 3], attrs: {} }]), INVALID, /unknown field "attrs"/);
  fails(() => ix.upsertBatch([{ key: 'x', vector: [1, 2, 3] }, 'nope']), INVALID, /^document 1 must be an object/);
  fails(() => ix.upsertBatch({ length: 1 }), INVALID, /^upsertBatch takes an array/);
  assert.equal(snapshot(ix), before);
  assert.deepEqual(ix.upsertBatch([]), new Uint32Array(0));
  const ids = ix.upsertBatch([
    { key: 'k', vector: [1, 1, 1], attributes: { n: 1 } },
    { vector: [2, 2, 2] },
    { key: 'k', vector: [3, 3, 3], attributes: { n: 2 } },
  ]);
  assert.equal(ids[0], ids[2]);
  assert.notEqual(ids[1], ids[0]);
  assert.deepEqual(ix.get('k').attributes, { n: 2 });
  assert.deepEqual(ix.get('k').vector, Float32Array.of(3, 3, 3));
  assert.equal(ix.size, 5);
  ix.check();
});

test('keys: what is and is not a key', () => {
  const ix = notes(), before = snapshot(ix);
  const long = 'é'.repeat(512); // 1024 bytes of UTF-8
  for (const key of [5, '', 'x'.repeat(1025), 'é'.repeat(513), '\ud800', {}, true])
    fails(() => ix.upsert({ key, vector: [1, 2, 3] }), INVALID, /^(the document|document "[^"]*"(\.\.\.)?): a key must be a string of 1 to 1024 bytes/);
  assert.equal(snapshot(ix), before);
  ix.upsert({ key: long, vector: [1, 2, 3] });
  ix.upsert({ key: '🙂 \u0000 "quoted"', vector: [1, 2, 3] });
  assert.equal(ix.get(long).key, long);
  assert.equal(ix.get('🙂 \u0000 "quoted"').key, '🙂 \u0000 "quoted"');
  assert.equal(ix.has(''), false);
  assert.equal(ix.has('x'.repeat(2000)), false);
  assert.equal(ix.has({}), false);
  fails(() => ix.get('x'.repeat(2000)), INVALID, /^a key must be a string of 1 to 1024 bytes/);
  // null and undefined mean "no key".
  const a = ix.upsert({ key: null, vector: [1, 2, 3] }), b = ix.upsert({ vector: [1, 2, 3] });
  assert.deepEqual(ix.search([1, 2, 3], 10).filter((h) => h.id === a || h.id === b).map((h) => h.key), [undefined, undefined]);
});

test('attributes: every value JSON carries comes back as it went in', () => {
  const ix = new Index({ dim: 2 });
  const a = {
    s: 'héllo 🙂 \u0000', e: '', n: -1.5, z: 0, big: 1e300, tiny: 5e-324, int: 2 ** 53, t: true, f: false, nl: null,
    arr: [1, 'two', [3, [4]], { five: 5 }, null, []], obj: { deep: { deeper: { deepest: 'x' } }, empty: {} },
    ['a.b']: 1, ['first name']: 'Zoë', ['']: 'empty name', ['__proto__']: 'data',
  };
  // __proto__ as a member, not the prototype.
  Object.defineProperty(a, '__proto__', { value: 'data', enumerable: true, writable: true, configurable: true });
  ix.upsert({ key: 'a', vector: [1, 0], attributes: a });
  const back = ix.get('a').attributes;
  assert.deepEqual(back, a);
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.equal(Object.hasOwn(back, '__proto__'), true);
  // As JSON: toJSON is called, undefined members are left out, undefined in an array is null.
  const d = new Date(0);
  ix.upsert({ key: 'b', vector: [1, 0], attributes: { d, u: undefined, arr: [undefined, 1] } });
  assert.deepEqual(ix.get('b').attributes, { d: d.toJSON(), arr: [null, 1] });
  // -0 is a number like any other.
  ix.upsert({ key: 'c', vector: [1, 0], attributes: { m: -0 } });
  assert.ok(Object.is(ix.get('c').attributes.m, -0));
  // None: {} and null are the same as no attributes.
  for (const attributes of [{}, null, undefined]) {
    ix.upsert({ key: 'd', vector: [1, 0], attributes });
    assert.deepEqual(ix.get('d').attributes, {});
  }
});

test('attributes JSON cannot carry are INVALID, naming the path, and change nothing', () => {
  const ix = notes(), before = snapshot(ix);
  const cycle = { a: {} };
  cycle.a.back = cycle;
  let deep = {};
  for (let i = 0; i < 70; i++) deep = { d: deep };
  const cases = [
    [{ f() {} }, /attributes\.f cannot be stored.*got function f$/],
    [{ s: Symbol('x') }, /attributes\.s cannot be stored/],
    [{ b: 1n }, /attributes\.b cannot be stored.*bigint 1n/],
    [{ n: NaN }, /attributes\.n must be a finite number, got number NaN/],
    [{ arr: [1, Infinity] }, /attributes\.arr\[1\] must be a finite number, got number Infinity/],
    [cycle, /attributes\.a\.back refers back .*cycle/],
    [deep, /nested deeper than 64 levels/],
    [{ m: new Map() }, /attributes\.m must be a string, number, boolean, null, array or plain object, got a Map/],
    [{ s: 'a\udc00' }, /attributes\.s holds a lone surrogate/],
    [{ big: 'x'.repeat(70000) }, /take 70\d\d\d bytes encoded, at most 65536/],
    [[1, 2], /attributes must be a plain object/],
    ['text', /attributes must be a plain object.*got string "text"/],
  ];
  for (const [attributes, re] of cases) {
    fails(() => ix.upsert({ key: 'note-1', vector: [1, 2, 3], attributes }), INVALID, re);
    fails(() => ix.setAttributes('note-1', attributes), INVALID, re);
  }
  assert.equal(snapshot(ix), before);
});

test('setAttributes: replace or merge, by key or id; the vector and id stay', () => {
  const ix = notes(), { id, vector } = ix.get('note-3');
  ix.setAttributes('note-3', { pinned: false, extra: [1] }, { merge: true });
  assert.deepEqual(ix.get('note-3'), {
    key: 'note-3', id, vector, attributes: { title: 'Taxes', tags: ['home', 'work'], created: 1690000000, pinned: false, extra: [1] },
  });
  ix.setAttributes(id, { only: 'this' });
  assert.deepEqual(ix.get('note-3').attributes, { only: 'this' });
  ix.setAttributes('note-3', null);
  assert.deepEqual(ix.get('note-3').attributes, {});
  assert.equal(ix.count('exists(only)'), 0);
  fails(() => ix.setAttributes('nope', {}), NOTFOUND, /^no live document has the key "nope"$/);
  fails(() => ix.setAttributes(999, {}), NOTFOUND, /999/);
  fails(() => ix.setAttributes('note-3', {}, { merge: 1 }), INVALID, /^merge must be true or false, got number 1$/);
  fails(() => ix.setAttributes('note-3', {}, { mrege: true }), INVALID, /^unknown option "mrege"/);
  ix.check();
});

test('filters: the object form translates as docs/FILTER.md says', () => {
  const cases = [
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
    [{ a: { $nin: [] }, b: { $eq: null }, c: { $not: { $gt: 1 } } }, 'a not in [] and b == null and not (c > 1)'],
    [{ $and: [{}, { a: 1 }] }, '(a == 1)'],
    [{ $or: [{}, { a: 1 }] }, ''],
    [{ a: 1, $or: [{ b: 1 }, { c: 1 }] }, 'a == 1 and ((b == 1) or (c == 1))'],
    [{ $or: [{ b: 1 }], a: 1 }, '(b == 1) and a == 1'],
    [{ $and: [{ $or: [{ b: 1 }, { c: 1 }] }, { a: 1 }] }, '((b == 1) or (c == 1)) and (a == 1)'],
    [{ 'a`b.0x': -0 }, '`a``b`.0x == 0'],
  ];
  for (const [obj, text] of cases) assert.equal(filterText(obj), text, JSON.stringify(obj));
  for (const [obj, re] of [
    [{ a: { $foo: 1 } }, /^filter: unknown operator \$foo on a/],
    [{ $nor: [] }, /^filter: unknown operator \$nor at the top level/],
    [{ $or: [] }, /^filter: \$or takes a non-empty array/],
    [{ a: [1, 2] }, /no equality on arrays or objects/],
    [{ a: { b: 1 } }, /no equality on arrays or objects/],
    [{ a: { $gt: true } }, /\$gt on a takes a number or a string, got boolean true/],
    [{ a: NaN }, /must be a string, a finite number, a boolean or null, got number NaN/],
    [{ a: undefined }, /got undefined/],
    [{ a: { $exists: 1 } }, /\$exists on a takes true or false/],
    [{ a: { $in: 'x' } }, /\$in on a takes an array/],
    [{ $not: {} }, /\$not takes a filter with at least one condition/],
  ]) fails(() => filterText(obj), INVALID, re);
  fails(() => filterText(42), INVALID, /^a filter must be a string .*got number 42$/);
});

test('filtered search, count and find: the same answers from text and objects', () => {
  const ix = notes();
  const q = [1, 0.2, 0.1];
  for (const [text, obj, keys] of [
    ['tags contains "work"', { tags: { $contains: 'work' } }, ['note-2', 'note-3']],
    ['created >= 1704067200 and not pinned == true', { created: { $gte: 1704067200 }, $not: { pinned: true } }, ['note-1', 'note-2']],
    ['author.name == "Ann"', { 'author.name': 'Ann' }, ['note-2']],
    ['exists(pinned) or title in ["Groceries"]', { $or: [{ pinned: { $exists: true } }, { title: { $in: ['Groceries'] } }] }, ['note-1', 'note-3']],
    ['nosuchfield == 1', { nosuchfield: 1 }, []],
    ['', {}, ['note-1', 'note-2', 'note-3']],
  ]) {
    for (const filter of [text, obj]) {
      assert.equal(ix.count(filter), keys.length, text);
      assert.deepEqual(ix.find(filter).map((d) => d.key), keys, text);
      const hits = ix.search(q, 10, { filter, attributes: true });
      assert.deepEqual(hits.map((h) => h.key).sort(), keys, text);
      assert.deepEqual(hits, ix.searchExact(q, 10, { filter, attributes: true }), text);
      for (const h of hits) assert.deepEqual(h.attributes, ix.get(h.key).attributes);
    }
  }
  assert.equal(ix.count(), 3);
  assert.deepEqual(ix.find('tags contains "home"', { limit: 1 }), [{ id: 0, key: 'note-1', attributes: ix.get('note-1').attributes }]);
  assert.deepEqual(ix.find(undefined, { limit: 0 }), []);
  fails(() => ix.find('', { limit: -1 }), INVALID, /^limit must be an integer/);
  fails(() => ix.find('', { top: 1 }), INVALID, /^unknown option "top"/);
  // Syntax errors: C's message with the position; an object's names its text.
  fails(() => ix.search(q, 3, { filter: 'a = 1' }), INVALID, /^unexpected "=" at 2: did you mean "=="\?$/);
  fails(() => ix.count('a == 1 and'), INVALID, /^unexpected end of filter at 10: expected a condition$/);
  fails(() => ix.count({ a: '\ud800' }), INVALID, /^lone surrogate \\u escape at 6: .* \(in the filter text "a == \\"\\\\ud800\\""\)$/);
  fails(() => ix.count('a != null'), INVALID, /"!= null" never matches/);
  fails(() => ix.search(q, 3, { filtr: 'x' }), INVALID, /^unknown option "filtr"; the options are ef, filter, attributes$/);
  fails(() => ix.searchExact(q, 3, { ef: 10 }), INVALID, /^unknown option "ef"/);
  fails(() => ix.search(q, 3, { filter: 5 }), INVALID, /^a filter must be a string/);
});

test('filtered search returns min(k, matches) at every selectivity, matching exact search', () => {
  const dim = 8, n = 3000, ix = new Index({ dim, metric: 'cosine', seed: 7 });
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  const docs = [];
  for (let i = 0; i < n; i++)
    docs.push({ key: `d${i}`, vector: Array.from({ length: dim }, rnd), attributes: { i, mod: i % 100, tag: i % 7 === 0 ? 'seven' : 'other' } });
  ix.upsertBatch(docs);
  const q = Array.from({ length: dim }, rnd);
  for (const [filter, matches] of [['i >= 0', n], ['mod < 50', n / 2], ['mod < 10', n / 10], ['mod == 3', n / 100],
    ['i in [5, 17, 2999]', 3], ['i == 1234', 1], ['tag == "seven" and mod < 10', 43], ['i < 0', 0]]) {
    assert.equal(ix.count(filter), matches, filter);
    const exact = ix.searchExact(q, 10, { filter }), hits = ix.search(q, 10, { filter });
    assert.equal(hits.length, Math.min(10, matches), filter);
    assert.equal(exact.length, Math.min(10, matches), filter);
    const truth = new Set(exact.map((h) => h.id));
    const found = hits.filter((h) => truth.has(h.id)).length;
    assert.ok(found >= Math.min(10, matches) - 1, `${filter}: recall ${found}/10`);
    for (const h of hits) assert.equal(ix.count(`i == ${docs[Number(h.key.slice(1))].attributes.i} and (${filter})`), 1);
  }
  ix.check();
});

test('fields: the paths live documents use, with their types and counts', () => {
  const ix = notes();
  assert.deepEqual(ix.fields(), [
    { path: 'author', types: ['object'], count: 1 },
    { path: 'author.name', types: ['string'], count: 1 },
    { path: 'created', types: ['number'], count: 3 },
    { path: 'pinned', types: ['boolean'], count: 1 },
    { path: 'tags', types: ['string', 'array'], count: 3 },
    { path: 'title', types: ['string'], count: 3 },
  ]);
  ix.delete('note-2');
  assert.equal(ix.fields().some((f) => f.path === 'author'), false);
  // Enough fields to need more than the first buffer.
  const many = {};
  for (let i = 0; i < 600; i++) many[`field_number_${i}`] = i;
  ix.upsert({ key: 'many', vector: [1, 1, 1], attributes: many });
  assert.equal(ix.fields().length, 4 + 600);
});

test('documents survive toBytes/fromBytes, save/load and compaction', async () => {
  const ix = notes();
  ix.upsert({ key: 'gone', vector: [1, 1, 1] });
  ix.delete('gone');
  const want = (x) => [x.find(), x.search([1, 0, 0], 3, { filter: 'tags contains "home"', attributes: true }), x.fields()];
  const w = want(ix);
  const copy = Index.fromBytes(ix.toBytes());
  assert.deepEqual(want(copy), w);
  copy.compact();
  assert.deepEqual(want(copy), w);
  assert.equal(copy.has('gone'), false);
  const dir = mkdtempSync(join(tmpdir(), 'pv-docs-'));
  try {
    await copy.save(join(dir, 'notes.pv'));
    const loaded = await Index.load(join(dir, 'notes.pv'));
    assert.deepEqual(want(loaded), w);
    // The next id goes on from where the saved index was.
    assert.equal(loaded.upsert({ key: 'new', vector: [1, 2, 3] }), ix.upsert({ key: 'new', vector: [1, 2, 3] }));
    loaded.check();
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('compiled filters are cached and evicted: right answers across many, errors every time', () => {
  const ix = new Index({ dim: 2 });
  ix.upsertBatch(Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, vector: [1, i], attributes: { i } })));
  for (let round = 0; round < 2; round++)
    for (let t = 0; t < 100; t++) {
      assert.equal(ix.count(`i < ${t}`), t);
      assert.equal(ix.count({ i: { $gte: t } }), 200 - t);
      assert.equal(ix.search([1, 0], 5, { filter: `i < ${t}` }).length, Math.min(5, t));
    }
  for (let n = 0; n < 3; n++) fails(() => ix.count('i = 1'), INVALID, /did you mean "=="/);
  ix.free();
  // A cached filter outlives the index it was first used with.
  const other = new Index({ dim: 2 });
  other.upsert({ vector: [1, 1], attributes: { i: 1 } });
  assert.equal(other.count('i < 99'), 1);
});
