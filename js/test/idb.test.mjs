// SPDX-License-Identifier: MIT
// IndexedDB persistence, run in Node against fake-indexeddb (an in-memory
// implementation of the IndexedDB API). The same code runs in the real
// browser tests; here it is checked for what a browser makes hard to force:
// a save that fails half-way must leave the previous version current.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { init, Index, PocketVecError, ErrorCode } from '../index.js';
import { clustered, row } from './helpers/data.mjs';

await init();
const idb = { backend: 'indexeddb' };

function build(n, dim, seed, quantization = 'sq8') {
  const ix = new Index({ dim, quantization, m: 8, efConstruction: 32 });
  ix.addBatch(clustered(n, dim, { seed }));
  return ix;
}

const same = (a, b, data, dim) => {
  for (let i = 0; i < 20; i++) assert.deepEqual(a.search(row(data, dim, i), 10), b.search(row(data, dim, i), 10));
};

/** Every record in the chunks store, as [name, gen, i] keys. */
async function chunkKeys() {
  const db = await new Promise((ok, no) => {
    const r = indexedDB.open('pocketvec', 1);
    r.onsuccess = () => ok(r.result);
    r.onerror = () => no(r.error);
  });
  const keys = await new Promise((ok) => {
    const r = db.transaction('chunks').objectStore('chunks').getAllKeys();
    r.onsuccess = () => ok(r.result);
  });
  db.close();
  return keys;
}

test('save by name, load, list, remove; two names do not interfere', async () => {
  const dim = 48, data = clustered(6000, dim, { seed: 4 });
  const a = build(6000, dim, 4), b = build(300, 16, 5, 'f32');
  a.delete(3);
  await a.save('notes', idb);
  await b.save('docs', idb);
  const a2 = await Index.load('notes', idb), b2 = await Index.load('docs', idb);
  assert.deepEqual(a2.toBytes(), a.toBytes());
  assert.deepEqual(b2.toBytes(), b.toBytes());
  same(a, a2, data, dim);
  const list = (await Index.list()).sort((x, y) => x.name.localeCompare(y.name));
  assert.deepEqual(list.map((x) => [x.name, x.size]), [['docs', b.toBytes().length], ['notes', a.toBytes().length]]);
  assert.ok(list.every((x) => x.savedAt instanceof Date));
  // A new version under the same name replaces the old one, chunks and all.
  a.add(row(data, dim, 0));
  await a.save('notes', idb);
  const a3 = await Index.load('notes', idb);
  assert.equal(a3.size, a.size);
  const gens = new Set((await chunkKeys()).filter((k) => k[0] === 'notes').map((k) => k[1]));
  assert.equal(gens.size, 1, 'old chunks of "notes" are gone');
  assert.equal(await Index.remove('notes'), true);
  assert.equal(await Index.remove('notes'), false);
  await assert.rejects(Index.load('notes', idb), (e) => e instanceof PocketVecError && e.code === ErrorCode.NOTFOUND && /no index named "notes"/.test(e.message));
  assert.deepEqual((await Index.list()).map((x) => x.name), ['docs']);
  assert.ok((await chunkKeys()).every((k) => k[0] === 'docs'));
  await Index.remove('docs');
  await assert.rejects(a.save('', idb), /name must be a non-empty string/);
  for (const x of [a, b, a2, b2, a3]) x.free();
});

test('a save that fails at any chunk leaves the previous version current and loadable, and nothing behind', async () => {
  // The new version is 40000 x 64 floats: 10.9 MB, 3 chunks of 4 MiB, then
  // the record; put number failAt (0..3) fails.
  const dim = 64, old = build(20000, dim, 6), big = build(40000, dim, 7, 'f32');
  await old.save('kb', idb);
  const oldBytes = old.toBytes(), replace = { ...idb, overwrite: true };
  const put = IDBObjectStore.prototype.put;
  try {
    for (let failAt = 0; failAt < 4; failAt++) {
      let puts = 0;
      IDBObjectStore.prototype.put = function (...a) {
        // Chunk puts come first, then the record that makes a version current.
        if (puts++ === failAt) throw new DOMException('simulated quota exceeded', 'QuotaExceededError');
        return put.apply(this, a);
      };
      await assert.rejects(big.save('kb', replace), (e) => e instanceof PocketVecError && e.code === ErrorCode.IO &&
        /quota is full: saving "kb" needs \d{8} bytes .* what this save wrote was deleted/.test(e.message) &&
        e.cause?.name === 'QuotaExceededError', `failed at put ${failAt}`);
      IDBObjectStore.prototype.put = put;
      const back = await Index.load('kb', idb);
      assert.deepEqual(back.toBytes(), oldBytes, `failed at put ${failAt}`);
      back.free();
      // What the failed save wrote is gone at once, not at the next save.
      assert.equal(new Set((await chunkKeys()).map((k) => k[1])).size, 1, `failed at put ${failAt}: one generation left`);
    }
  } finally {
    IDBObjectStore.prototype.put = put;
  }
  await big.save('kb', replace);
  const back = await Index.load('kb', idb);
  assert.equal(back.size, 40000);
  assert.equal(new Set((await chunkKeys()).map((k) => k[1])).size, 1);
  await Index.remove('kb');
  for (const x of [old, big, back]) x.free();
});

test('a damaged or incomplete stored index is a PocketVecError', async () => {
  const ix = build(500, 16, 8);
  await ix.save('x', idb);
  const db = await new Promise((ok) => {
    const r = indexedDB.open('pocketvec', 1);
    r.onsuccess = () => ok(r.result);
  });
  const [key] = (await chunkKeys()).filter((k) => k[0] === 'x');
  // Flip a byte in the stored chunk.
  await new Promise((ok) => {
    const tx = db.transaction('chunks', 'readwrite'), s = tx.objectStore('chunks');
    s.get(key).onsuccess = (e) => {
      const v = new Uint8Array(e.target.result);
      v[200] ^= 1;
      s.put(v, key);
    };
    tx.oncomplete = ok;
  });
  await assert.rejects(Index.load('x', idb), (e) => e instanceof PocketVecError && e.code === ErrorCode.CORRUPT);
  // Remove the chunk: the record says there should be one.
  await new Promise((ok) => {
    const tx = db.transaction('chunks', 'readwrite');
    tx.objectStore('chunks').delete(key);
    tx.oncomplete = ok;
  });
  db.close();
  await assert.rejects(Index.load('x', idb), (e) => e instanceof PocketVecError && e.code === ErrorCode.CORRUPT && /has 0 of its 1 chunks/.test(e.message));
  await Index.remove('x');
  ix.free();
});

// A change log record that fails its checksum is damage, and a load stops
// before it (the index as of the records before). The next save must not
// append after bytes the load did not take: it writes the whole index, and
// what loads afterwards is what was saved.
test('a damaged change log record: the load stops before it, the next save is whole and loads back', async () => {
  const dim = 16, data = clustered(40, dim, { seed: 4 });
  const ix = new Index({ dim, quantization: 'sq8', m: 8, efConstruction: 32 });
  ix.upsertBatch(Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, vector: row(data, dim, i) })));
  await ix.save('dmg', idb);
  ix.free();
  const a = await Index.load('dmg', idb);
  a.upsert({ key: 'first', vector: row(data, dim, 30) });
  await a.save('dmg', { ...idb, checkpoint: false }); // appended
  a.upsert({ key: 'second', vector: row(data, dim, 31) });
  await a.save('dmg', { ...idb, checkpoint: false }); // appended
  a.free();
  const keys = (await chunkKeys()).filter((k) => k[0] === 'dmg').sort((x, y) => x[2] - y[2]);
  assert.ok(keys.length >= 3, `the base and two records: ${keys.length} chunks`);
  const db = await new Promise((ok) => {
    const r = indexedDB.open('pocketvec', 1);
    r.onsuccess = () => ok(r.result);
  });
  await new Promise((ok) => { // damage the last record (not torn: IndexedDB writes are atomic)
    const tx = db.transaction('chunks', 'readwrite'), s = tx.objectStore('chunks'), key = keys[keys.length - 1];
    s.get(key).onsuccess = (e) => {
      const v = new Uint8Array(e.target.result);
      v[v.length - 10] ^= 1;
      s.put(v, key);
    };
    tx.oncomplete = ok;
  });
  db.close();
  const b = await Index.load('dmg', idb);
  assert.equal(b.has('first'), true);
  assert.equal(b.has('second'), false, 'the damaged record is not replayed');
  b.upsert({ key: 'third', vector: row(data, dim, 32) });
  await b.save('dmg', { ...idb, checkpoint: false }); // even when told to append
  const want = b.toBytes();
  b.free();
  const c = await Index.load('dmg', idb);
  assert.deepEqual(Buffer.from(c.toBytes()), Buffer.from(want));
  assert.deepEqual([c.has('first'), c.has('second'), c.has('third')], [true, false, true]);
  c.free();
  await Index.remove('dmg', idb);
});
