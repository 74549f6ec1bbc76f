// SPDX-License-Identifier: MIT
// Documents in JS: keys, attributes, upsert, setAttributes, count, find,
// fields, and what search returns about them; every error of those calls
// (each a PocketVecError that names the document and the path, and changes
// nothing); persistence of keys and attributes through bytes, chunks and
// files. Filters have their own file (filter.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { init, Index, PocketVecError, ErrorCode } from '../index.js';
import { clustered, row } from './helpers/data.mjs';

const info = await init();
const { INVALID, DIM, NOTFOUND } = ErrorCode;

function fails(fn, code, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof PocketVecError, `not a PocketVecError: ${e?.stack ?? e}`);
    assert.equal(e.code, code, `code ${e.code} (${e.message})`);
    if (re) assert.match(e.message, re);
    return true;
  });
}

/** Everything a failed call must leave as it was. */
const state = (ix) => ({ size: ix.size, deleted: ix.deletedCount, memory: ix.memoryUsage, bytes: ix.toBytes() });

/** fn must fail with code and a message matching re, and change nothing. */
function failsClean(ix, fn, code, re) {
  const before = state(ix);
  fails(fn, code, re);
  assert.deepEqual(state(ix), before, `the failed call changed the index (${re})`);
}

const notes = () => {
  const ix = new Index({ dim: 3, metric: 'l2', compactThreshold: 0 });
  ix.upsert({ key: 'groceries', vector: [1, 0, 0], attributes: { title: 'Groceries', tags: ['home'], created: 1710460800 } });
  ix.upsert({ key: 'standup', vector: [0, 1, 0], attributes: { title: 'Standup', tags: ['work', 'daily'], created: 1704067200, pinned: true } });
  ix.upsert({ key: 'taxes', vector: [0, 0, 1], attributes: { title: 'Taxes', tags: ['home', 'work'], created: 1700000000 } });
  return ix;
};

test('upsert, get, has, delete by key; get(id) still returns the vector', () => {
  const ix = notes();
  assert.equal(ix.size, 3);
  assert.deepEqual(ix.get('standup'), {
    key: 'standup', id: 1, vector: new Float32Array([0, 1, 0]),
    attributes: { title: 'Standup', tags: ['work', 'daily'], created: 1704067200, pinned: true },
  });
  assert.deepEqual(ix.get(1), new Float32Array([0, 1, 0]), 'get(id) is the vector, as before documents');
  assert.equal(ix.get('nothing'), undefined);
  assert.equal(ix.has('standup'), true);
  assert.equal(ix.has('Standup'), false, 'keys are case-sensitive');
  assert.equal(ix.has(1), true);
  for (const impossible of ['', 'x'.repeat(1025), '\uD800', 5.5, null, undefined, {}]) assert.equal(ix.has(impossible), false);
  ix.delete('standup');
  assert.equal(ix.has('standup'), false);
  assert.equal(ix.has(1), false);
  assert.equal(ix.get('standup'), undefined);
  fails(() => ix.delete('standup'), NOTFOUND, /^no document has the key "standup"$/);
  fails(() => ix.get(1), NOTFOUND, /^id 1 was deleted$/);
  ix.delete(0); // by id, a keyed document too
  assert.equal(ix.get('groceries'), undefined);
  assert.equal(ix.size, 1);
  ix.check();
  ix.free();
});

test('upsert replaces by key with a new id; the old id leaves results; ids are never reused', () => {
  const ix = notes();
  const old = ix.get('taxes').id;
  const id = ix.upsert({ key: 'taxes', vector: [0, 0.5, 1], attributes: { title: 'Taxes 2024' } });
  assert.ok(id > old, `new id ${id} after ${old}`);
  assert.equal(ix.size, 3);
  assert.equal(ix.has(old), false);
  assert.deepEqual(ix.get('taxes'), { key: 'taxes', id, vector: new Float32Array([0, 0.5, 1]), attributes: { title: 'Taxes 2024' } });
  for (const exact of [false, true]) {
    const hits = (exact ? ix.searchExact : ix.search).call(ix, [0, 0, 1], 10);
    assert.deepEqual(hits.map((h) => h.id).sort(), [0, 1, id], 'the replaced id is not a result');
    assert.equal(hits[0].key, 'taxes');
  }
  // An upsert without attributes replaces them with none.
  const again = ix.upsert({ key: 'taxes', vector: [0, 0, 1] });
  assert.deepEqual(ix.get('taxes').attributes, {});
  assert.equal(again, id + 1);
  // A vector added without a key keeps getting ids after the documents' ones.
  assert.equal(ix.add([1, 1, 1]), again + 1);
  ix.check();
  ix.free();
});

test('upsertBatch: ids in order, the last of a repeated key wins, all or nothing', () => {
  const ix = new Index({ dim: 2, metric: 'l2' });
  const ids = ix.upsertBatch([
    { key: 'a', vector: [1, 0], attributes: { v: 1 } },
    { vector: [0, 1] },
    { key: 'b', vector: [1, 1] },
    { key: 'a', vector: [2, 0], attributes: { v: 2 } },
  ]);
  assert.ok(ids instanceof Uint32Array);
  // Position 0 is dropped for position 3 and reports its id.
  assert.deepEqual([...ids], [2, 0, 1, 2]);
  assert.equal(ix.size, 3);
  assert.deepEqual(ix.get('a'), { key: 'a', id: 2, vector: new Float32Array([2, 0]), attributes: { v: 2 } });
  assert.deepEqual(ix.upsertBatch([]), new Uint32Array(0));

  // A bad document anywhere: nothing is added, and the error names it by key, else by position.
  failsClean(ix, () => ix.upsertBatch([{ key: 'c', vector: [1, 2] }, { key: 'note-7', vector: [1, 2, 3] }]), DIM,
    /^document "note-7": vector has 3 values, index expects 2$/);
  failsClean(ix, () => ix.upsertBatch([{ key: 'c', vector: [1, 2] }, { vector: [1] }]), DIM,
    /^document 1: vector has 1 values, index expects 2$/);
  failsClean(ix, () => ix.upsertBatch([{ key: 'c', vector: [1, 2] }, { key: 'd', vector: [NaN, 2] }]), INVALID,
    /^document "d": the vector: element 0 is NaN$/);
  failsClean(ix, () => ix.upsertBatch([{ key: 'c', vector: [1, 2] }, { key: 'd', vector: [1, 2n] }]), INVALID,
    /^document "d": the vector: element 1 is bigint 2n, not a number$/);
  failsClean(ix, () => ix.upsertBatch([{ key: 'c', vector: [1, 2] }, { key: 5, vector: [1, 2] }]), INVALID,
    /^document 1: key must be a string, got number 5$/);
  failsClean(ix, () => ix.upsertBatch([{ key: 'c', vector: [1, 2] }, { key: 'd', vector: [1, 2], attributes: { when: new Date(0) } }]),
    INVALID, /^the attributes of document "d": when is a Date, which JSON cannot carry; store date.getTime\(\) or date.toISOString\(\)$/);
  failsClean(ix, () => ix.upsertBatch([{ key: 'c', vector: [1, 2] }, { key: '', vector: [1, 2] }]), INVALID,
    /^the key of document 1 is empty; a key has 1 to 1024 bytes$/);
  failsClean(ix, () => ix.upsertBatch([{ key: 'c', vector: [1, 2] }, null]), INVALID,
    /^document 1 must be an object such as \{ key, vector, attributes \}, got null$/);
  failsClean(ix, () => ix.upsertBatch([{ key: 'c', vector: [1, 2], metadata: {} }]), INVALID,
    /^document "c" has an unknown field "metadata"; a document has key, vector and attributes$/);
  failsClean(ix, () => ix.upsertBatch([{ key: 'c' }]), INVALID, /^document "c" has no vector$/);
  failsClean(ix, () => ix.upsertBatch({ key: 'c', vector: [1, 2] }), INVALID,
    /^upsertBatch takes an array of documents such as \{ key, vector, attributes \}, got an object \{key, vector\}$/);
  // What get() returns can be upserted again: id is ignored.
  const doc = ix.get('b');
  assert.equal(ix.upsert({ ...doc, attributes: { x: 1 } }), 3);
  ix.check();
  ix.free();
});

test('keys: strings of 1 to 1024 UTF-8 bytes, any characters, case and Unicode kept', () => {
  const ix = new Index({ dim: 2, metric: 'l2' });
  fails(() => ix.upsert({ key: 5, vector: [1, 2] }), INVALID, /^the document: key must be a string, got number 5$/);
  fails(() => ix.upsert({ key: 5n, vector: [1, 2] }), INVALID, /key must be a string, got bigint 5n$/);
  fails(() => ix.upsert({ key: ['a'], vector: [1, 2] }), INVALID, /key must be a string, got an array of length 1$/);
  fails(() => ix.upsert({ key: 'a\uDC00b', vector: [1, 2] }), INVALID, /^the document: key is not valid Unicode: a lone surrogate at index 1$/);
  fails(() => ix.upsert({ key: '', vector: [1, 2] }), INVALID, /^the key of the document is empty; a key has 1 to 1024 bytes$/);
  fails(() => ix.upsert({ key: 'é'.repeat(513), vector: [1, 2] }), INVALID, /has 1026 bytes; a key has at most 1024$/);
  const keys = ['x'.repeat(1024), 'é'.repeat(512), '😀', 'a\0b', ' spaces ', 'ключ', 'A', 'a', '{"json": true}'];
  const ids = keys.map((key, i) => ix.upsert({ key, vector: [1, i] }));
  for (const [i, key] of keys.entries()) {
    assert.equal(ix.get(key)?.id, ids[i], `key ${JSON.stringify(key).slice(0, 20)}`);
    assert.equal(ix.search([1, i], 1)[0].key, key);
  }
  // Null and undefined keys: documents without a key.
  const id = ix.upsert({ key: null, vector: [-1, -1], attributes: { k: 'none' } });
  assert.deepEqual(ix.search([-1, -1], 1)[0], { id, distance: 0 });
  fails(() => ix.get(''), INVALID, /^the key is empty/);
  fails(() => ix.delete('\uD83D'), INVALID, /^the key is not valid Unicode/);
  fails(() => ix.setAttributes('x'.repeat(1025), {}), INVALID, /^the key has 1025 bytes/);
  ix.free();
});

test('attributes: JSON values round-trip; what JSON would change or refuse is INVALID, naming the path', () => {
  const ix = new Index({ dim: 2 });
  const attrs = {
    s: 'text "quoted" \\ / \n\t\u0001 é 😀', empty: '', n: 0.1, big: 1e300, small: 5e-324, int: 2 ** 53, neg: -17.25,
    t: true, f: false, nul: null, arr: [1, 'two', [3], { four: 4 }, null, false], nested: { a: { b: { c: [] } } }, eo: {},
    'odd name': 1, '': 'empty name', 'dotted.name': 2,
  };
  ix.upsert({ key: 'k', vector: [1, 2], attributes: attrs });
  assert.deepEqual(ix.get('k').attributes, attrs);
  assert.ok(Object.is(ix.get('k').attributes.n, 0.1));
  // Undefined members are left out, as JSON.stringify and spreads leave them out; -0 is 0 in JSON.
  ix.upsert({ key: 'u', vector: [1, 2], attributes: { a: undefined, b: 1, z: -0 } });
  assert.deepEqual(ix.get('u').attributes, { b: 1, z: 0 });
  // Null or absent: no attributes, {}. An object made without a prototype is plain.
  ix.upsert({ key: 'n', vector: [1, 2], attributes: null });
  assert.deepEqual(ix.get('n').attributes, {});
  const bare = Object.create(null);
  bare.x = 1;
  ix.upsert({ key: 'bare', vector: [1, 2], attributes: bare });
  assert.deepEqual(ix.get('bare').attributes, { x: 1 });

  const bad = [
    [[1, 2], /^the attributes of the document must be a plain object, got an array of length 2$/],
    ['{"a": 1}', /must be a plain object, got string "\{\\"a\\": 1\}"$/],
    [5, /must be a plain object, got number 5$/],
    [new Date(0), /must be a plain object, got a Date$/],
    [{ f() {} }, /: f is function f, which JSON cannot carry$/],
    [{ a: { s: Symbol('s') } }, /: a\.s is symbol Symbol\(s\), which JSON cannot carry$/],
    [{ tags: ['a', undefined] }, /: tags\[1\] is undefined \(JSON would store null\)$/],
    [{ tags: [1, , 3] }, /: tags\[1\] is undefined/], // eslint-disable-line no-sparse-arrays
    [{ n: 10n }, /: n is bigint 10n, which JSON cannot carry$/],
    [{ score: NaN }, /: score is number NaN; JSON numbers are finite$/],
    [{ x: [{ y: -Infinity }] }, /: x\[0\]\.y is number -Infinity; JSON numbers are finite$/],
    [{ when: new Date(0) }, /: when is a Date, which JSON cannot carry; store date\.getTime\(\) or date\.toISOString\(\)$/],
    [{ m: new Map() }, /: m is a Map, which JSON cannot carry; store Object\.fromEntries\(\) of it$/],
    [{ s: new Set([1]) }, /: s is a Set, which JSON cannot carry; store \[\.\.\.set\]$/],
    [{ v: new Float32Array(2) }, /: v is a Float32Array of length 2, which JSON cannot carry; store Array\.from\(\) of it$/],
    [{ c: new (class Point { x = 1; })() }, /: c is an instance of Point, which JSON cannot carry$/],
    [{ b: new String('x') }, /: b is a String, which JSON cannot carry$/],
    [{ re: /x/ }, /: re is a RegExp, which JSON cannot carry$/],
    [{ s: 'ab\uD800' }, /: s is not valid Unicode: a lone surrogate at index 2$/],
    [{ ['k\uDFFF']: 1 }, /has a member name that is not valid Unicode/],
    [{ 'odd key': { 'x y': [0, { f: () => 1 }] } }, /: \["odd key"\]\["x y"\]\[1\]\.f is function f/],
    [{ big: 'x'.repeat(70000) }, /^the attributes of the document are larger than 65536 bytes once encoded$/],
    [{ many: Array.from({ length: 70000 }, () => 0) }, /are larger than 65536 bytes once encoded$/],
  ];
  const cyclic = { a: { b: {} } };
  cyclic.a.b.back = cyclic;
  bad.push([cyclic, /: a\.b\.back refers back to an enclosing object \(a cycle\)$/]);
  const arrCycle = [];
  arrCycle.push(arrCycle);
  bad.push([{ list: arrCycle }, /: list\[0\] refers back to an enclosing object \(a cycle\)$/]);
  let deep = {};
  const root = deep;
  for (let i = 0; i < 200000; i++) deep = deep.x = {}; // deep enough to overflow a recursive JSON walk
  bad.push([root, /is nested more than 64 levels deep$/]);
  for (const [a, re] of bad) failsClean(ix, () => ix.upsert({ vector: [1, 2], attributes: a }), INVALID, re);
  // A value shared by two members is no cycle: JSON writes it twice.
  const shared = { x: 1 };
  ix.upsert({ key: 'shared', vector: [1, 2], attributes: { a: shared, b: [shared, shared] } });
  assert.deepEqual(ix.get('shared').attributes, { a: { x: 1 }, b: [{ x: 1 }, { x: 1 }] });
  // 64 levels are accepted (the root is the first), 65 are not.
  const nest = (levels) => {
    const top = {};
    let o = top;
    for (let i = 1; i < levels; i++) o = o.x = {};
    return top;
  };
  ix.upsert({ key: 'deep', vector: [1, 2], attributes: nest(64) });
  assert.deepEqual(ix.get('deep').attributes, nest(64));
  failsClean(ix, () => ix.upsert({ vector: [1, 2], attributes: nest(65) }), INVALID, /: x(\.x)+\.\.\. is nested more than 64 levels deep$/);
  // Near the limit the encoded size decides, which C measures exactly.
  ix.upsert({ key: 'near', vector: [1, 2], attributes: { s: 'y'.repeat(65000) } });
  assert.equal(ix.get('near').attributes.s.length, 65000);
  failsClean(ix, () => ix.upsert({ vector: [1, 2], attributes: { s: 'y'.repeat(65530) } }), INVALID, /65536/);
  ix.check();
  ix.free();
});

test('setAttributes: replace or merge, by key or id; the id and vector stay', () => {
  const ix = notes();
  ix.setAttributes('groceries', { pinned: true }, { merge: true });
  assert.deepEqual(ix.get('groceries').attributes, { title: 'Groceries', tags: ['home'], created: 1710460800, pinned: true });
  ix.setAttributes('groceries', { tags: ['shop'], pinned: null }, { merge: true });
  assert.deepEqual(ix.get('groceries').attributes, { title: 'Groceries', tags: ['shop'], created: 1710460800, pinned: null },
    'merge is top level only, and null stays');
  ix.setAttributes(0, { only: 1 });
  assert.deepEqual(ix.get('groceries'), { key: 'groceries', id: 0, vector: new Float32Array([1, 0, 0]), attributes: { only: 1 } });
  ix.setAttributes('groceries', { only: 2 }, { merge: false });
  assert.deepEqual(ix.get('groceries').attributes, { only: 2 });
  ix.setAttributes('groceries', null, { merge: true });
  assert.deepEqual(ix.get('groceries').attributes, { only: 2 }, 'merging nothing changes nothing');
  ix.setAttributes('groceries', null);
  assert.deepEqual(ix.get('groceries').attributes, {});
  ix.setAttributes('groceries', { a: 1 }, {});
  // On a vector added without a key: the id names it.
  const id = ix.add([1, 1, 1]);
  ix.setAttributes(id, { plain: true });
  assert.deepEqual(ix.find('plain == true'), [{ id, attributes: { plain: true } }]);

  failsClean(ix, () => ix.setAttributes('nope', {}), NOTFOUND, /^no document has the key "nope"$/);
  failsClean(ix, () => ix.setAttributes(99, {}), NOTFOUND, /^id 99 does not exist$/);
  failsClean(ix, () => ix.setAttributes(-1, {}), INVALID, /^id must be an integer from 0 to 4294967295, got number -1$/);
  failsClean(ix, () => ix.setAttributes('groceries', { d: new Date() }), INVALID, /^the attributes of document "groceries": d is a Date/);
  failsClean(ix, () => ix.setAttributes(1, [1]), INVALID, /^the attributes of id 1 must be a plain object, got an array of length 1$/);
  failsClean(ix, () => ix.setAttributes('groceries', {}, { merge: 'yes' }), INVALID, /^merge must be true or false, got string "yes"$/);
  failsClean(ix, () => ix.setAttributes('groceries', {}, { mrege: true }), INVALID, /^unknown option "mrege" of setAttributes; the options are merge$/);
  failsClean(ix, () => ix.setAttributes('groceries', {}, true), INVALID, /^the options of setAttributes must be an object, got boolean true$/);
  // Each part fits; merged they do not.
  ix.setAttributes('groceries', { s: 'y'.repeat(40000) }, { merge: true });
  failsClean(ix, () => ix.setAttributes('groceries', { t: 'y'.repeat(40000) }, { merge: true }), INVALID, /65536/);
  ix.check();
  ix.free();
});

test('search and searchExact: keys on keyed hits, attributes when asked; plain vectors keep { id, distance }', () => {
  const ix = notes();
  const plainId = ix.add([1, 1, 0]);
  for (const exact of [false, true]) {
    const call = (o) => (exact ? ix.searchExact([1, 0, 0], 4, o) : ix.search([1, 0, 0], 4, o));
    const hits = call();
    assert.deepEqual(hits[0], { id: 0, key: 'groceries', distance: 0 });
    assert.deepEqual(hits[1], { id: plainId, distance: 1 });
    assert.equal(Object.hasOwn(hits[1], 'key'), false, 'no key property on a document without one');
    const full = call({ attributes: true });
    assert.deepEqual(full[0].attributes, ix.get('groceries').attributes);
    assert.deepEqual(full[1], { id: plainId, distance: 1, attributes: {} });
    assert.deepEqual(Object.keys(full[0]), ['id', 'key', 'distance', 'attributes']);
    fails(() => call({ attributes: 'yes' }), INVALID, /^attributes must be true or false, got string "yes"$/);
    fails(() => call({ filters: 'x == 1' }), INVALID, new RegExp(`^unknown option "filters" of ${exact ? 'searchExact' : 'search'}; the options are ef, filter, attributes$`));
    fails(() => call(5), INVALID, /^the options of search(Exact)? must be an object, got number 5$/);
  }
  assert.deepEqual(ix.search([1, 0, 0], 4, null), ix.search([1, 0, 0], 4));
  ix.free();
  // An index that never saw a document answers exactly as before.
  const plain = new Index({ dim: 2, metric: 'l2' });
  plain.addBatch([[0, 0], [3, 4]]);
  assert.deepEqual(plain.search([0, 0], 2), [{ id: 0, distance: 0 }, { id: 1, distance: 25 }]);
  assert.deepEqual(plain.find(), [{ id: 0, attributes: {} }, { id: 1, attributes: {} }]);
  assert.deepEqual(plain.fields(), []);
  plain.free();
});

test('count, find and fields', () => {
  const ix = notes();
  ix.add([5, 5, 5]);
  assert.equal(ix.count(), 4);
  assert.equal(ix.count(null), 4);
  assert.equal(ix.count(''), 4);
  assert.equal(ix.count({}), 4);
  assert.equal(ix.count('tags contains "work"'), 2);
  assert.equal(ix.count({ tags: { $contains: 'work' } }), 2);
  assert.equal(ix.count('pinned == false'), 0);
  assert.deepEqual(ix.find('tags contains "home"'), [
    { id: 0, key: 'groceries', attributes: ix.get('groceries').attributes },
    { id: 2, key: 'taxes', attributes: ix.get('taxes').attributes },
  ]);
  assert.deepEqual(ix.find('tags contains "home"', { limit: 1 }).map((d) => d.key), ['groceries']);
  assert.deepEqual(ix.find('tags contains "home"', { limit: 0 }), []);
  assert.deepEqual(ix.find().map((d) => d.id), [0, 1, 2, 3]);
  assert.deepEqual(ix.find(undefined, { limit: 2 }).map((d) => d.id), [0, 1]);
  fails(() => ix.find('', { limit: -1 }), INVALID, /^limit must be an integer from 0 to 4294967295, got number -1$/);
  fails(() => ix.find('', { limit: '5' }), INVALID, /got string "5"$/);
  fails(() => ix.find('', { max: 5 }), INVALID, /^unknown option "max" of find; the options are limit$/);
  assert.deepEqual(ix.fields(), [
    { path: 'created', types: ['number'], count: 3 },
    { path: 'pinned', types: ['boolean'], count: 1 },
    { path: 'tags', types: ['string', 'array'], count: 3 }, // element types, then array
    { path: 'title', types: ['string'], count: 3 },
  ]);
  ix.setAttributes('standup', { author: { name: 'Ann' }, n: 'one' }, { merge: true });
  ix.setAttributes('taxes', { n: 1 }, { merge: true });
  const byPath = Object.fromEntries(ix.fields().map((f) => [f.path, f]));
  assert.deepEqual(byPath['author.name'], { path: 'author.name', types: ['string'], count: 1 });
  assert.deepEqual(byPath.n.types.slice().sort(), ['number', 'string']);
  ix.delete('standup');
  assert.equal(ix.fields().find((f) => f.path === 'pinned'), undefined, 'fields of live documents only');
  ix.free();
});

// Attributes cross to C in their binary encoding, written and read in JS:
// what comes back is what JSON would have carried, and fields() lists
// paths as C's pv_fields does (the CLI's `info` prints that list).
test('attributes in the encoding: the values JSON would carry, and fields() as C lists them', () => {
  const ix = new Index({ dim: 2, metric: 'l2' });
  const odd = JSON.parse('{"__proto__": {"x": 1}, "z": -0, "big": 1e300, "tiny": 5e-324, "u": "\u00e9\ud83d\ude00", "e": [], "o": {}}');
  ix.upsert({ key: 'odd', vector: [1, 2], attributes: odd });
  const got = ix.get('odd').attributes;
  assert.deepEqual(got, JSON.parse(JSON.stringify(odd)));
  assert.ok(Object.hasOwn(got, '__proto__') && Object.getPrototypeOf(got) === Object.prototype, '__proto__ is a member');
  assert.ok(Object.is(got.z, 0), '-0 is stored as JSON writes it, 0');
  assert.deepEqual(Object.keys(got), Object.keys(odd));
  assert.deepEqual(ix.find('big > 1e299').map((d) => d.key), ['odd']);
  // Paths in the order of their UTF-8 bytes: U+E000 before U+1F600, though
  // UTF-16 puts the surrogates of U+1F600 first.
  ix.upsert({ vector: [0, 0], attributes: { '\u{1F600}': 1, '\uE000': [1, 'a', null, [2], { q: 1 }], and: { 'a b': true }, 9: null } });
  // (Bytes: _ is 0x5F, ` 0x60, then the letters.)
  assert.deepEqual(ix.fields(), [
    { path: '__proto__', types: ['object'], count: 1 },
    { path: '__proto__.x', types: ['number'], count: 1 },
    { path: '`9`', types: ['null'], count: 1 },
    { path: '`and`', types: ['object'], count: 1 },
    { path: '`and`.`a b`', types: ['boolean'], count: 1 },
    { path: '`\uE000`', types: ['null', 'number', 'string', 'array'], count: 1 },
    { path: '`\u{1F600}`', types: ['number'], count: 1 },
    { path: 'big', types: ['number'], count: 1 },
    { path: 'e', types: ['array'], count: 1 },
    { path: 'o', types: ['object'], count: 1 },
    { path: 'tiny', types: ['number'], count: 1 },
    { path: 'u', types: ['string'], count: 1 },
    { path: 'z', types: ['number'], count: 1 },
  ]);
  ix.free();
});

test('keys and attributes survive toBytes/fromBytes, chunks, save/load, compaction', async () => {
  const dim = 8, n = 300, data = clustered(n, dim, { seed: 9 });
  const ix = new Index({ dim, metric: 'cosine', quantization: 'sq8', compactThreshold: 0 });
  const docs = Array.from({ length: n }, (_, i) => ({
    key: i % 10 === 0 ? undefined : `doc-${i}`, vector: row(data, dim, i),
    attributes: i % 7 === 0 ? undefined : { i, even: i % 2 === 0, tags: [`t${i % 3}`, 'all'], name: `név ${i}` },
  }));
  ix.upsertBatch(docs);
  for (let i = 0; i < n; i += 13) ix.delete(i);
  ix.setAttributes('doc-1', { edited: true }, { merge: true });
  ix.upsert({ key: 'doc-2', vector: row(data, dim, 5) }); // replaced: a tombstone with a key
  const view = (x) => ({
    size: x.size, docs: x.find(), count: x.count('even == true'), fields: x.fields(),
    hits: x.search(row(data, dim, 3), 10, { filter: 'tags contains "t1"', attributes: true }),
    doc: x.get('doc-1'), next: null,
  });
  const want = view(ix);
  assert.equal(want.docs.length, ix.size);
  const dir = await mkdtemp(join(tmpdir(), 'pv-docs-'));
  try {
    const copies = [Index.fromBytes(ix.toBytes()), await Index.importChunks(ix.exportChunks(999))];
    await ix.save(join(dir, 'docs.pvec'));
    copies.push(await Index.load(join(dir, 'docs.pvec')));
    for (const c of copies) {
      assert.deepEqual(view(c), want);
      assert.deepEqual(c.toBytes(), ix.toBytes());
      c.check();
    }
    // Compaction moves documents with their slots.
    ix.compact();
    assert.deepEqual(view(ix), want);
    // A loaded index goes on: the same ids for the same upserts, and keys still replace.
    const a = ix.upsert({ key: 'doc-3', vector: row(data, dim, 0) });
    const b = copies[0].upsert({ key: 'doc-3', vector: row(data, dim, 0) });
    assert.equal(a, b);
    assert.equal(copies[0].size, ix.size);
    for (const c of copies) c.free();
  } finally {
    await rm(dir, { recursive: true, force: true });
    ix.free();
  }
});

test('compiled filters are cached per index and freed: many distinct filters do not grow memory', () => {
  const ix = notes();
  const q = [1, 0, 0];
  for (let i = 0; i < 50; i++) ix.search(q, 2, { filter: `created > ${i}` }); // warm up
  const pages = info.memory.buffer.byteLength;
  for (let i = 0; i < 20000; i++) ix.search(q, 2, { filter: `created > ${i} and tags contains "w${i}"` });
  for (let i = 0; i < 20000; i++) ix.count({ created: { $gt: i } });
  assert.equal(info.memory.buffer.byteLength, pages, 'WebAssembly memory grew');
  // Repeated filters give the same answers from the cache.
  const f = 'tags contains "work"';
  const first = ix.search(q, 3, { filter: f });
  for (let i = 0; i < 20; i++) assert.deepEqual(ix.search(q, 3, { filter: f }), first);
  ix.free();
  fails(() => ix.count('x == 1'), INVALID, /^this index has been freed$/);
  fails(() => ix.upsert({ vector: [1, 2, 3] }), INVALID, /^this index has been freed$/);
  fails(() => ix.find(), INVALID, /^this index has been freed$/);
  fails(() => ix.get('a'), INVALID, /^this index has been freed$/);
});
