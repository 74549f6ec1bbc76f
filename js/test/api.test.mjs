// SPDX-License-Identifier: MIT
// The whole JS API on small indexes: init, every method and property, all
// metrics and both quantizations, results' shape and order, and the
// loaders (path, bytes, Module, URL, Response, a worker thread).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import { init, Index, PocketVecError, ErrorCode } from '../index.js';
import { clustered, row } from './helpers/data.mjs';
import { distWasm } from './helpers/paths.mjs';

const info = await init();

// A fresh copy of the package, with its own module instance and state: the
// shipped bundle, one file, which a new query string loads anew. (A new
// query on index.js would not do: the modules of src/ it imports, where
// the state lives, would be shared.)
const fresh = (tag) => import(`../pocketvec.js?${tag}`);

const l2 = (a, b) => a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0);
const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
const norm = (a) => Math.sqrt(dot(a, a));

test('init: resolves to the version and kernels, and is idempotent', async () => {
  assert.equal(info.version, '0.1.0');
  assert.equal(info.kernels, 'simd128');
  assert.ok(info.memory instanceof WebAssembly.Memory);
  assert.equal(init(), init());
  assert.deepEqual(await init(), info);
  // Later sources are ignored once initialised (idempotent).
  assert.deepEqual(await init(new Uint8Array([1, 2, 3])), info);
});

test('init: from bytes, a WebAssembly.Module, a file URL and a Response', async () => {
  const bytes = readFileSync(distWasm);
  const mod = new WebAssembly.Module(bytes);
  const sources = [bytes, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    mod, pathToFileURL(distWasm), pathToFileURL(distWasm).href,
    new Response(bytes, { headers: { 'content-type': 'application/wasm' } }),
    new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } })];
  for (const [i, src] of sources.entries()) {
    // A fresh copy of the package (its own state) for each source.
    const m = await fresh(`source=${i}`);
    const got = await m.init(src);
    assert.equal(got.version, info.version, `source ${i}`);
    assert.notEqual(got.memory, info.memory, 'a separate instance');
    const ix = new m.Index({ dim: 2, metric: 'l2' });
    ix.add([1, 2]);
    assert.deepEqual(ix.search([1, 2], 1), [{ id: 0, distance: 0 }]);
    ix.free();
  }
});

test('init: a failed init rejects and can be retried', async () => {
  const m = await fresh('retry');
  await assert.rejects(m.init(new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9])), WebAssembly.CompileError);
  assert.equal((await m.init()).kernels, 'simd128');
});

test('an Index before init() is a PocketVecError', async () => {
  const m = await fresh('uninitialised');
  assert.throws(() => new m.Index({ dim: 3 }),
    (e) => e instanceof m.PocketVecError && e.code === ErrorCode.INVALID && /init\(\)/.test(e.message));
});

test('the issue example: cosine + sq8 with every option', () => {
  const dim = 384;
  const data = clustered(300, dim, { seed: 7 });
  const index = new Index({ dim, metric: 'cosine', quantization: 'sq8', m: 16,
    efConstruction: 200, efSearch: 64 });
  assert.equal(index.dim, dim);
  assert.equal(index.metric, 'cosine');
  assert.equal(index.quantization, 'sq8');
  const id = index.add(row(data, dim, 0));
  assert.equal(id, 0);
  const vecs = Array.from({ length: 99 }, (_, i) => row(data, dim, i + 1));
  const ids = index.addBatch(vecs);
  assert.ok(ids instanceof Uint32Array);
  assert.deepEqual([...ids], Array.from({ length: 99 }, (_, i) => i + 1));
  const flat = index.addBatch(data.subarray(100 * dim));
  assert.deepEqual([...flat], Array.from({ length: 200 }, (_, i) => i + 100));
  assert.equal(index.size, 300);

  const hits = index.search(row(data, dim, 5), 10, { ef: 128 });
  assert.equal(hits.length, 10);
  for (const h of hits) {
    assert.deepEqual(Object.keys(h), ['id', 'distance']);
    assert.ok(Number.isInteger(h.id) && typeof h.distance === 'number');
  }
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].distance <= hits[i].distance);
  assert.equal(hits[0].id, 5);
  assert.ok(hits[0].distance < 1e-3);
  const exact = index.searchExact(row(data, dim, 5), 10);
  assert.equal(exact.length, 10);
  assert.equal(exact[0].id, 5);

  index.delete(id);
  assert.equal(index.has(id), false);
  assert.equal(index.has(1), true);
  const v = index.get(1);
  assert.ok(v instanceof Float32Array && v.length === dim);
  // sq8 of the unit-length vector: close to it, within the quantisation step.
  const u = row(data, dim, 1), n = norm(u);
  v.forEach((x, i) => assert.ok(Math.abs(x - u[i] / n) < 0.01));
  assert.equal(index.size, 299);
  assert.equal(index.deletedCount, 1);
  assert.ok(index.memoryUsage > 300 * dim);
  index.compact();
  assert.equal(index.deletedCount, 0);
  assert.equal(index.size, 299);
  index.check();
  index.free();
});

for (const metric of ['cosine', 'l2', 'dot'])
  for (const quantization of ['f32', 'sq8', 'binary', 'binary-f32'])
    test(`${metric} / ${quantization}: distances, order, recall against searchExact`, () => {
      const dim = 48, n = 600;
      const data = clustered(n, dim, { seed: 3 });
      const queries = clustered(20, dim, { seed: 4 });
      const ix = new Index({ dim, metric, quantization, seed: 42 });
      ix.addBatch(data);
      let found = 0;
      for (let q = 0; q < 20; q++) {
        const query = row(queries, dim, q);
        // One bit a dimension walks coarsely at 48 dimensions: a wider beam.
        const approx = ix.search(query, 10, { ef: quantization.startsWith('binary') ? 300 : 100 });
        const exact = ix.searchExact(query, 10);
        assert.equal(exact.length, 10);
        for (let i = 1; i < 10; i++) {
          assert.ok(exact[i - 1].distance < exact[i].distance ||
            (exact[i - 1].distance === exact[i].distance && exact[i - 1].id < exact[i].id));
        }
        const truth = new Set(exact.map((h) => h.id));
        found += approx.filter((h) => truth.has(h.id)).length;
        // The distance is the metric's, computed on the stored vectors.
        if (quantization.endsWith('f32')) {
          const h = exact[0], x = row(data, dim, h.id);
          const want = metric === 'l2' ? l2(query, x) : metric === 'dot' ? -dot(query, x)
            : 1 - dot(query, x) / norm(query) / norm(x);
          assert.ok(Math.abs(h.distance - want) <= 1e-4 * Math.max(1, Math.abs(want)),
            `${h.distance} vs ${want}`);
        }
      }
      assert.ok(found / 200 >= 0.9, `recall ${found / 200}`);
      ix.check();
      ix.free();
    });

test('binary: the walk by bits, results by the sq8 copy; saved and loaded as it was', () => {
  const dim = 64, data = clustered(800, dim, { seed: 5 }), queries = clustered(10, dim, { seed: 6 });
  const b = new Index({ dim, quantization: 'binary', seed: 7 }), s = new Index({ dim, quantization: 'sq8', seed: 7 });
  b.addBatch(data);
  s.addBatch(data);
  assert.equal(b.quantization, 'binary');
  // Same graph and same stored vectors as sq8: the same exact answers, and
  // the memory of sq8 plus the bits and 16 bytes a vector.
  for (let q = 0; q < 10; q++) {
    const query = row(queries, dim, q);
    assert.deepEqual(b.searchExact(query, 10), s.searchExact(query, 10));
    const hits = b.search(query, 10, { ef: 64 }), exact = s.searchExact(query, 50);
    for (const h of hits) assert.equal(exact.find((e) => e.id === h.id)?.distance ?? h.distance, h.distance);
  }
  assert.deepEqual([...b.get(3)], [...s.get(3)]);
  assert.ok(b.memoryUsage > s.memoryUsage + 800 * (dim / 8 + 16));
  const back = Index.fromBytes(b.toBytes());
  assert.equal(back.quantization, 'binary');
  for (let q = 0; q < 10; q++) {
    const query = row(queries, dim, q);
    assert.deepEqual(back.search(query, 10), b.search(query, 10));
  }
  back.check();
  for (const ix of [b, s, back]) ix.free();
  assert.throws(() => new Index({ dim: 4, quantization: 'bits' }), /quantization must be 'f32', 'sq8', 'binary' or 'binary-f32'/);
});

test('cosine get() returns the unit-length vector; f32 l2 returns it exactly', () => {
  const c = new Index({ dim: 3 });
  c.add([3, 0, 4]);
  assert.deepEqual([...c.get(0)], [0.6000000238418579, 0, 0.800000011920929]);
  c.free();
  const e = new Index({ dim: 3, metric: 'l2' });
  const v = new Float32Array([0.1, -2.5, 1e18]); // 1e18: near the largest l2 accepts at dim 3
  e.add(v);
  assert.deepEqual(e.get(0), v);
  e.free();
});

test('vectors may be plain arrays or other typed arrays', () => {
  const ix = new Index({ dim: 3, metric: 'l2' });
  ix.add([1, 2, 3]);
  ix.add(new Float64Array([4, 5, 6]));
  ix.addBatch([[7, 8, 9], new Int8Array([1, 1, 1])]);
  assert.deepEqual(ix.search([4, 5, 6], 1), [{ id: 1, distance: 0 }]);
  assert.deepEqual(ix.searchExact(new Float64Array([1, 1, 1]), 1), [{ id: 3, distance: 0 }]);
  ix.free();
});

test('ids stay valid through deletes and compaction, and are never reused', () => {
  const ix = new Index({ dim: 2, metric: 'l2', compactThreshold: 0 });
  const ids = ix.addBatch(Array.from({ length: 20 }, (_, i) => [i, 0]));
  for (let i = 0; i < 20; i += 2) ix.delete(ids[i]);
  assert.equal(ix.deletedCount, 10);
  ix.compact();
  assert.equal(ix.deletedCount, 0);
  for (let i = 1; i < 20; i += 2) assert.deepEqual([...ix.get(ids[i])], [i, 0]);
  assert.equal(ix.add([100, 0]), 20);
  // (x - q)^2 in float32, as the kernel computes it.
  const sq = (x) => Math.fround(Math.fround(x - Math.fround(7.2)) ** 2);
  assert.deepEqual(ix.search([7.2, 0], 2), [{ id: 7, distance: sq(7) }, { id: 9, distance: sq(9) }]);
  ix.check();
  ix.free();
});

test('automatic compaction at the threshold', () => {
  const ix = new Index({ dim: 2, metric: 'l2', compactThreshold: 0.5 });
  ix.addBatch(Array.from({ length: 10 }, (_, i) => [i, 1]));
  for (let i = 0; i < 5; i++) ix.delete(i);
  assert.equal(ix.deletedCount, 5); // 5 of 10 is not above 0.5
  ix.delete(5);
  assert.equal(ix.deletedCount, 0); // compacted
  assert.equal(ix.size, 4);
  ix.free();
});

test('ef option: the default, and ef >= size gives the exact answer', () => {
  const dim = 16;
  const data = clustered(400, dim, { seed: 9 });
  const ix = new Index({ dim, metric: 'l2', m: 4, efConstruction: 8, efSearch: 4 });
  ix.addBatch(data);
  const q = row(clustered(1, dim, { seed: 10 }), dim, 0);
  assert.deepEqual(ix.search(q, 10, { ef: 400 }), ix.searchExact(q, 10));
  assert.deepEqual(ix.search(q, 10, { ef: 0 }), ix.search(q, 10));
  assert.deepEqual(ix.search(q, 10, {}), ix.search(q, 10));
  ix.free();
});

test('seed: the same seed builds the same graph; seeds may be bigints', () => {
  const dim = 8, data = clustered(300, dim, { seed: 5 });
  const q = row(clustered(1, dim, { seed: 6 }), dim, 0);
  const run = (seed) => {
    const ix = new Index({ dim, m: 2, efConstruction: 2, efSearch: 2, seed });
    ix.addBatch(data);
    const r = ix.search(q, 5);
    ix.free();
    return r;
  };
  assert.deepEqual(run(1), run(1n));
  assert.deepEqual(run(2n ** 64n - 1n), run(2n ** 64n - 1n));
  assert.deepEqual(run(2 ** 40 + 3), run(2n ** 40n + 3n));
});

// Each option goes to C by its C name (pvw_option_set); the saved header
// (docs/FORMAT.md) shows what C got. The seed goes as decimal text, so even
// one a double cannot hold arrives exactly; options not given are C's
// defaults, which JS reads back rather than knowing.
test('options reach C by name: the header holds each one, the 64-bit seed exactly; defaults are C\'s', () => {
  const seed = 2n ** 64n - 3n;
  const ix = new Index({ dim: 5, metric: 'dot', quantization: 'sq8', m: 7, efConstruction: 33, efSearch: 21,
    seed, capacity: 10, compactThreshold: 0.25 });
  const header = (index) => {
    const h = new DataView(index.toBytes().buffer);
    return { u32: [24, 28, 32, 36, 40, 44].map((o) => h.getUint32(o, true)), seed: h.getBigUint64(48, true),
      threshold: h.getFloat32(56, true) };
  };
  // metric 2 is dot, storage 1 is SQ8 in the format.
  assert.deepEqual(header(ix), { u32: [5, 2, 1, 7, 33, 21], seed, threshold: 0.25 });
  assert.deepEqual([ix.dim, ix.metric, ix.quantization], [5, 'dot', 'sq8']);
  const plain = new Index({ dim: 3 });
  assert.deepEqual(header(plain), { u32: [3, 0, 0, 16, 200, 64], seed: 0x706f636b65747665n, threshold: Math.fround(0.3) });
  assert.deepEqual([plain.dim, plain.metric, plain.quantization], [3, 'cosine', 'f32']);
  const near = new Index({ dim: 3, seed: 2n ** 53n + 1n }); // 2^53 + 1 is no double
  assert.equal(header(near).seed, 2n ** 53n + 1n);
  for (const x of [ix, plain, near]) x.free();
});

test('capacity reserves memory up front', () => {
  const a = new Index({ dim: 64 }), b = new Index({ dim: 64, capacity: 1000 });
  assert.ok(b.memoryUsage > a.memoryUsage + 1000 * 64 * 4);
  a.free();
  b.free();
});

test('free(): twice is a no-op, later calls throw, Symbol.dispose frees', () => {
  const ix = new Index({ dim: 2 });
  ix.add([1, 1]);
  ix.free();
  ix.free();
  for (const f of [() => ix.size, () => ix.add([1, 1]), () => ix.search([1, 1], 1),
    () => ix.has(0), () => ix.get(0), () => ix.check(), () => ix.memoryUsage])
    assert.throws(f, (e) => e instanceof PocketVecError && e.code === ErrorCode.INVALID &&
      e.message === 'this index has been freed');
  assert.equal(ix.dim, 2); // plain JS properties stay readable
  if (typeof Symbol.dispose === 'symbol') {
    const d = new Index({ dim: 2 });
    d[Symbol.dispose]();
    assert.throws(() => d.size, PocketVecError);
  }
});

test('freed indexes give their memory back: WASM memory stops growing', () => {
  const sizes = [];
  for (let round = 0; round < 6; round++) {
    const ix = new Index({ dim: 256, m: 4, efConstruction: 8 });
    ix.addBatch(clustered(2000, 256, { seed: round }));
    assert.ok(ix.memoryUsage > 2000 * 256 * 4);
    ix.free();
    sizes.push(info.memory.buffer.byteLength);
  }
  // The first rounds may grow the memory; then freed blocks are reused.
  assert.equal(sizes[5], sizes[2], `memory sizes per round: ${sizes}`);
});

test('two indexes side by side do not disturb each other', () => {
  const a = new Index({ dim: 3, metric: 'l2' }), b = new Index({ dim: 5, metric: 'dot' });
  a.add([1, 2, 3]);
  b.add([1, 1, 1, 1, 1]);
  assert.throws(() => b.add([1, 2, 3]), (e) => e.code === ErrorCode.DIM);
  assert.deepEqual(a.search([1, 2, 3], 1), [{ id: 0, distance: 0 }]);
  assert.deepEqual(b.search([1, 1, 1, 1, 1], 1), [{ id: 0, distance: -5 }]);
  a.free();
  b.free();
});

test('works in a worker thread', async () => {
  const src = `
    import { parentPort } from 'node:worker_threads';
    import { init, Index } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)};
    const info = await init();
    const ix = new Index({ dim: 3, metric: 'l2' });
    ix.addBatch([[0, 0, 0], [1, 1, 1], [2, 2, 2]]);
    parentPort.postMessage({ info: { kernels: info.kernels }, hits: ix.search([0.9, 1, 1], 2) });
  `;
  const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(src)}`));
  const msg = await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await w.terminate();
  assert.equal(msg.info.kernels, 'simd128');
  assert.deepEqual(msg.hits.map((h) => h.id), [1, 0]);
});
