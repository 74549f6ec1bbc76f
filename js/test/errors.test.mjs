// SPDX-License-Identifier: MIT
// Every error a user can meet: each is a PocketVecError with the C status
// code and the library's message, changes nothing, and leaves the index
// working (checked after each one by keepsWorking()).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { init, Index, PocketVecError, ErrorCode } from '../index.js';
import { alloc, cstr, u8, w, withUtf8 } from '../src/wasm.js';
import { clustered, row } from './helpers/data.mjs';

await init();
const { INVALID, DIM, NOTFOUND, NOMEM } = ErrorCode;

/** Asserts fn throws a PocketVecError with this code and a message matching re. */
function fails(fn, code, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof PocketVecError, `not a PocketVecError: ${e}`);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'PocketVecError');
    assert.equal(e.code, code, `code ${e.code} (${e.message})`);
    assert.match(e.message, re);
    return true;
  });
}

/** The index answers as it did before the error, and still takes writes. */
function keepsWorking(ix, dim) {
  ix.check();
  const before = ix.size;
  const v = Float32Array.from({ length: dim }, (_, i) => ((i * 7919) % 13) - 6.25);
  const id = ix.add(v);
  assert.equal(ix.size, before + 1);
  assert.equal(ix.search(v, 1)[0].id, id);
  ix.delete(id);
  ix.check();
}

function small(opts = {}) {
  const ix = new Index({ dim: 4, metric: 'l2', compactThreshold: 0, ...opts });
  ix.addBatch([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]);
  return ix;
}

test('NaN and Inf: add, addBatch (naming the vector), search, searchExact', () => {
  const ix = small();
  fails(() => ix.add([1, NaN, 0, 0]), INVALID, /^the vector: element 1 is NaN$/);
  fails(() => ix.add([1, 0, 0, -Infinity]), INVALID, /^the vector: element 3 is infinite$/);
  fails(() => ix.addBatch([[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3], [4, 4, NaN, 4]]), INVALID,
    /^vector 3: element 2 is NaN$/);
  fails(() => ix.addBatch(new Float32Array([1, 1, 1, 1, Infinity, 0, 0, 0])), INVALID,
    /^vector 1: element 0 is infinite$/);
  fails(() => ix.search([NaN, 0, 0, 0], 1), INVALID, /^the query: element 0 is NaN$/);
  fails(() => ix.searchExact([0, 0, Infinity, 0], 1), INVALID, /^the query: element 2 is infinite$/);
  fails(() => ix.add(['x', 0, 0, 0]), INVALID, /element 0 is NaN/); // converted, then rejected
  assert.equal(ix.size, 3, 'a failed batch adds nothing');
  keepsWorking(ix, 4);
  ix.free();
});

test('zero vector under cosine: add and query', () => {
  const ix = new Index({ dim: 3 });
  ix.add([1, 2, 3]);
  fails(() => ix.add([0, 0, 0]), INVALID, /^the vector is all zeros; cosine distance needs a non-zero vector$/);
  fails(() => ix.search([0, 0, 0], 1), INVALID, /^the query is all zeros/);
  fails(() => ix.addBatch([[1, 1, 1], [0, 0, 0]]), INVALID, /^vector 1 is all zeros/);
  assert.equal(ix.size, 1);
  keepsWorking(ix, 3);
  ix.free();
});

test('wrong dimension: add, addBatch (arrays and flat), search, searchExact', () => {
  const ix = small();
  fails(() => ix.add([1, 2, 3]), DIM, /^vector has 3 values, index expects 4$/);
  fails(() => ix.add(new Float32Array(5)), DIM, /^vector has 5 values, index expects 4$/);
  fails(() => ix.add([]), DIM, /^vector has 0 values, index expects 4$/);
  fails(() => ix.addBatch([[1, 2, 3, 4], [1, 2, 3]]), DIM, /^vector 1 has 3 values, index expects 4$/);
  fails(() => ix.addBatch(new Float32Array(10)), DIM, /10 values, not a multiple of dim 4/);
  fails(() => ix.search([1, 2, 3], 1), DIM, /^vector has 3 values, index expects 4$/);
  fails(() => ix.searchExact(new Float32Array(8), 1), DIM, /^vector has 8 values, index expects 4$/);
  assert.equal(ix.size, 3);
  keepsWorking(ix, 4);
  ix.free();
});

test('unknown, deleted and invalid ids: delete, get, has', () => {
  const ix = small();
  fails(() => ix.delete(3), NOTFOUND, /^id 3 does not exist$/);
  fails(() => ix.get(1000), NOTFOUND, /^id 1000 does not exist$/);
  fails(() => ix.get(2 ** 32 - 1), NOTFOUND, /^id 4294967295 does not exist$/);
  ix.delete(1);
  fails(() => ix.delete(1), NOTFOUND, /^id 1 was deleted$/);
  fails(() => ix.get(1), NOTFOUND, /^id 1 was deleted$/);
  assert.equal(ix.has(1), false);
  // A string is a key, not an id: '0' names no document.
  fails(() => ix.delete('0'), NOTFOUND, /^no document has this key$/);
  assert.equal(ix.get('0'), undefined);
  assert.equal(ix.has('0'), false);
  for (const bad of [-1, 1.5, NaN, null, undefined, 2 ** 32]) {
    fails(() => ix.delete(bad), INVALID, /^id must be an integer from 0 to 4294967295, got /);
    fails(() => ix.get(bad), INVALID, /^id must be an integer/);
    assert.equal(ix.has(bad), false);
  }
  assert.equal(ix.size, 2);
  keepsWorking(ix, 4);
  ix.free();
});

test('k = 0 gives no hits; k > size gives every live vector', () => {
  const ix = small();
  assert.deepEqual(ix.search([1, 0, 0, 0], 0), []);
  assert.deepEqual(ix.searchExact([1, 0, 0, 0], 0), []);
  for (const f of ['search', 'searchExact']) {
    const hits = ix[f]([1, 0, 0, 0], 100);
    assert.equal(hits.length, 3);
    assert.deepEqual(hits.map((h) => h.id), [0, 1, 2]);
    assert.deepEqual(ix[f]([1, 0, 0, 0], 2 ** 32 - 1).length, 3);
  }
  // The query is still validated when k is 0.
  fails(() => ix.search([NaN, 0, 0, 0], 0), INVALID, /NaN/);
  keepsWorking(ix, 4);
  ix.free();
});

test('bad k and ef', () => {
  const ix = small();
  for (const k of [-1, 1.5, NaN, Infinity, '3', null, undefined, 2 ** 32])
    fails(() => ix.search([1, 0, 0, 0], k), INVALID, /^k must be an integer from 0 to 4294967295, got /);
  fails(() => ix.search([1, 0, 0, 0], 1, { ef: -2 }), INVALID, /^ef must be an integer/);
  fails(() => ix.search([1, 0, 0, 0], 1, { ef: 65537 }), INVALID, /^ef is 65537; it must be at most 65536$/);
  assert.equal(ix.search([1, 0, 0, 0], 1, { ef: 65536 }).length, 1);
  keepsWorking(ix, 4);
  ix.free();
});

test('not a vector', () => {
  const ix = small();
  for (const v of [null, undefined, 3, 'abcd', {}, { length: 1.5 }]) {
    fails(() => ix.add(v), INVALID, /^a vector must be a Float32Array or an array of numbers, got /);
    // A plain object is read as a query ({ vector, text }); an empty one says
    // so. A string says how text goes in.
    const want = v && typeof v === 'object' && !('length' in v) ? /^the query needs a vector, text or both, got an object \{\}$/
      : typeof v === 'string' ? /^the query must be a vector, \{ text \} or \{ vector, text \}, got string "abcd"$/ : /^a vector must be/;
    fails(() => ix.search(v, 1), INVALID, want);
  }
  fails(() => ix.addBatch(null), INVALID, /^addBatch takes an array of vectors or one flat Float32Array/);
  fails(() => ix.addBatch([[1, 2, 3, 4], 7]), INVALID, /^a vector must be/);
  assert.equal(ix.size, 3);
  keepsWorking(ix, 4);
  ix.free();
});

test('dim 4096 works; 0, 65537 and non-integers are rejected by name', () => {
  const dim = 4096;
  const data = clustered(60, dim, { seed: 2 });
  for (const quantization of ['f32', 'sq8']) {
    const ix = new Index({ dim, quantization });
    ix.addBatch(data);
    const hits = ix.search(row(data, dim, 17), 3);
    assert.equal(hits[0].id, 17);
    assert.deepEqual(ix.search(row(data, dim, 17), 5), ix.searchExact(row(data, dim, 17), 5));
    fails(() => ix.add(new Float32Array(4095)), DIM, /^vector has 4095 values, index expects 4096$/);
    keepsWorking(ix, dim);
    ix.free();
  }
  fails(() => new Index({ dim: 0 }), INVALID, /^dim is 0; it must be between 1 and 65536$/);
  fails(() => new Index({ dim: 65537 }), INVALID, /^dim is 65537; it must be between 1 and 65536$/);
  fails(() => new Index({ dim: 3.5 }), INVALID, /^dim must be an integer from 0 to 4294967295, got number 3.5$/);
  fails(() => new Index({}), INVALID, /^dim must be an integer/);
  fails(() => new Index(), INVALID, /^dim must be an integer/);
});

test('options out of range: C checks the range, the message names the option as JS spells it', () => {
  fails(() => new Index({ dim: 3, m: 1 }), INVALID, /^m is 1; it must be between 2 and 128$/);
  fails(() => new Index({ dim: 3, m: 129 }), INVALID, /^m is 129; it must be between 2 and 128$/);
  fails(() => new Index({ dim: 3, efConstruction: 0 }), INVALID, /^efConstruction is 0; it must be between 1 and 65536$/);
  fails(() => new Index({ dim: 3, efSearch: 70000 }), INVALID, /^efSearch is 70000; it must be between 1 and 65536$/);
  fails(() => new Index({ dim: 3, compactThreshold: 1.5 }), INVALID, /^compactThreshold must be between 0/);
  fails(() => new Index({ dim: 3, compactThreshold: NaN }), INVALID, /^compactThreshold must be between 0/);
  fails(() => new Index({ dim: 3, compactThreshold: '0.5' }), INVALID, /^compactThreshold must be a number/);
  fails(() => new Index({ dim: 3, metric: 'euclid' }), INVALID, /^metric must be 'cosine', 'l2' or 'dot', got string "euclid"$/);
  fails(() => new Index({ dim: 3, quantization: 'int8' }), INVALID, /^quantization must be 'f32', 'sq8', 'binary' or 'binary-f32', got string "int8"$/);
  fails(() => new Index({ dim: 3, efconstruction: 5 }), INVALID, /^unknown option "efconstruction"; the options are dim, metric/);
  fails(() => new Index({ dim: 3, seed: -1 }), INVALID, /^seed must be an integer from 0 to 2\^64 - 1/);
  fails(() => new Index({ dim: 3, seed: 2n ** 64n }), INVALID, /^seed must be/);
  fails(() => new Index({ dim: 3, seed: 0.5 }), INVALID, /^seed must be/);
  fails(() => new Index({ dim: 3, m: -4 }), INVALID, /^m must be an integer/);
  // A failed constructor leaves nothing behind; the next one works.
  const ix = new Index({ dim: 3 });
  keepsWorking(ix, 3);
  ix.free();
});

test('out of memory: a clean NOMEM from C and from the glue; all keeps working', () => {
  const dim = 65536, v = new Float32Array(dim).fill(0.5);
  // 65536 floats x 17000 slots = 4.46 GB, more than wasm32 can address.
  fails(() => new Index({ dim, capacity: 17000 }), NOMEM, /^out of memory creating the index$/);
  // ... x 70000 slots: the size does not even fit in 32 bits.
  fails(() => new Index({ dim, capacity: 70000 }), NOMEM, /^out of memory creating the index$/);
  const ix = new Index({ dim, metric: 'l2', m: 2, efConstruction: 1 });
  ix.add(v);
  // Batches the glue cannot copy into WASM memory: 4.2 GB, and over 2^32 bytes.
  // (After the failed 4.46 GB index above, the allocator may hold a free
  // chunk big enough for the copy; then the index itself cannot grow.)
  fails(() => ix.addBatch(new Array(16000).fill(v)), NOMEM,
    /^out of memory (allocating 4194368000 bytes|adding 16000 vectors to an index of 1)$/);
  fails(() => ix.addBatch(new Array(70000).fill(v)), NOMEM, /^out of memory allocating/);
  // A batch that copies in, but then the index cannot grow to hold it: two
  // other indexes reserve 3.15 GB (untouched pages: no real memory), the
  // copy takes 0.79 GB (3.93 GB in all, of the 4.29 GB wasm32 can address),
  // and the index would need 0.79 GB more.
  const hogs = [new Index({ dim, capacity: 6000 }), new Index({ dim, capacity: 6000 })];
  fails(() => ix.addBatch(new Array(3000).fill(v)), NOMEM,
    /^out of memory adding 3000 vectors to an index of 1$/);
  hogs.forEach((h) => h.free());
  assert.equal(ix.size, 1);
  keepsWorking(ix, dim);
  ix.free();
});

test('empty index: searches give [], reads fail cleanly', () => {
  const ix = new Index({ dim: 4 });
  assert.equal(ix.size, 0);
  assert.deepEqual(ix.search([1, 2, 3, 4], 10), []);
  assert.deepEqual(ix.searchExact([1, 2, 3, 4], 10), []);
  fails(() => ix.search([1, 2, 3], 10), DIM, /index expects 4/);
  fails(() => ix.search([0, 0, 0, 0], 10), INVALID, /all zeros/);
  fails(() => ix.get(0), NOTFOUND, /^id 0 does not exist$/);
  fails(() => ix.delete(0), NOTFOUND, /^id 0 does not exist$/);
  ix.compact();
  ix.check();
  assert.deepEqual([...ix.addBatch([])], []);
  assert.deepEqual([...ix.addBatch(new Float32Array(0))], []);
  assert.equal(ix.size, 0);
  keepsWorking(ix, 4);
  ix.free();
});

test('all deleted: searches give [], the index refills', () => {
  for (const compactThreshold of [0, 0.3]) {
    const ix = new Index({ dim: 8, metric: 'l2', compactThreshold });
    const data = clustered(50, 8, { seed: 8 });
    const ids = ix.addBatch(data);
    for (const id of ids) ix.delete(id);
    assert.equal(ix.size, 0);
    assert.deepEqual(ix.search(row(data, 8, 0), 5), []);
    assert.deepEqual(ix.searchExact(row(data, 8, 0), 5), []);
    for (const id of ids) assert.equal(ix.has(id), false);
    ix.check();
    ix.compact();
    assert.equal(ix.deletedCount, 0);
    const again = ix.addBatch(data);
    assert.equal(again[0], 50, 'ids are not reused');
    assert.equal(ix.search(row(data, 8, 3), 1)[0].id, 53);
    keepsWorking(ix, 8);
    ix.free();
  }
});

test('errors do not leak between indexes or into later calls', () => {
  const a = small(), b = small();
  fails(() => a.add([NaN, 0, 0, 0]), INVALID, /NaN/);
  assert.equal(b.add([5, 5, 5, 5]), 3);
  assert.equal(a.add([5, 5, 5, 5]), 3);
  fails(() => new Index({ dim: 0 }), INVALID, /dim is 0/);
  fails(() => b.delete(99), NOTFOUND, /^id 99 does not exist$/);
  keepsWorking(a, 4);
  keepsWorking(b, 4);
  a.free();
  b.free();
});

test('the codes C reserves beyond IO have their names', () => {
  assert.deepEqual([ErrorCode.IO, ErrorCode.ABORT, ErrorCode.MISUSE, ErrorCode.RANGE], [9, 10, 11, 12]);
  assert.ok(Object.isFrozen(ErrorCode));
});

// The C library's messages will quote keys and filter text, which are
// UTF-8. No message quotes user text yet, so the decoder that reads every C
// string (cstr) is tested on bytes written into WASM memory directly.
test('C strings are read as UTF-8; bytes that are not UTF-8 read as U+FFFD', () => {
  const cases = [
    ['naïve café – 東京 😀', null],
    [[0x61, 0xff, 0x62], 'a\ufffdb'], // a byte that never starts a character
    [[0x61, 0xe6, 0x9d], 'a\ufffd'], // a character cut short by the end
  ];
  for (const [input, want] of cases) {
    const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : Uint8Array.from(input);
    const p = alloc(bytes.length + 1);
    u8.set(bytes, p);
    u8[p + bytes.length] = 0;
    assert.equal(cstr(p), want ?? input);
    w.free(p);
  }
  // And the way strings go in: withUtf8 lays them out as UTF-8, back to back.
  const got = withUtf8(['metric', 'été'], (a, an, b, bn) => [an, b - a, bn, new TextDecoder().decode(u8.slice(b, b + bn))]);
  assert.deepEqual(got, [6, 6, 5, 'été']);
});
