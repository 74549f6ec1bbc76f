// SPDX-License-Identifier: MIT
// Memory growth: an index past 256 MB, built in chunks so WASM memory grows
// step by step under the glue's feet (every grow detaches the old buffer
// and the glue must renew its views). Kept quick with m 4 and
// efConstruction 8 (about 5 s). "Results still right" means: every stored
// vector reads back bit for bit, brute force finds each sampled vector at
// distance 0, and graph and brute-force searches give exactly what the
// native library gives for the same seed and data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { init, Index } from '../index.js';
import { clustered, row } from './helpers/data.mjs';
import { nativeRef, need } from './helpers/paths.mjs';

const info = await init();
const MiB = 2 ** 20;

test('an index past 256 MB: memory grows in many steps, results stay right', (t) => {
  const dim = 1024, chunk = 1000, chunks = 66, n = chunk * chunks, k = 10, ef = 64;
  // Chunk c is a clustered set shifted by 8c in every coordinate: all distinct.
  const base = clustered(chunk, dim, { seed: 1, spread: 0.3 });
  const data = new Float32Array(n * dim);
  for (let c = 0; c < chunks; c++)
    for (let i = 0; i < base.length; i++) data[c * base.length + i] = base[i] + 8 * c;

  const start = info.memory.buffer.byteLength;
  const ix = new Index({ dim, metric: 'l2', m: 4, efConstruction: 8, seed: 11 });
  const sizes = new Set([start]);
  for (let c = 0; c < chunks; c++) {
    const ids = ix.addBatch(data.subarray(c * chunk * dim, (c + 1) * chunk * dim));
    assert.equal(ids[0], c * chunk);
    sizes.add(info.memory.buffer.byteLength);
  }
  const end = info.memory.buffer.byteLength;
  t.diagnostic(`memory ${start / MiB} MiB -> ${end / MiB} MiB in ${sizes.size - 1}+ grow steps; ` +
    `index ${(ix.memoryUsage / MiB).toFixed(1)} MiB`);
  assert.equal(ix.size, n);
  assert.ok(n * dim * 4 > 256 * MiB, 'the vectors alone are past 256 MiB');
  assert.ok(ix.memoryUsage > 256 * MiB);
  assert.ok(end > 256 * MiB);
  assert.ok(sizes.size >= 8, `memory grew in ${sizes.size - 1} observed steps`);
  ix.check();

  // Stored vectors read back bit for bit, first chunk (stored before all
  // the growth) to last.
  for (let id = 0; id < n; id += 997) assert.deepEqual(ix.get(id), row(data, dim, id), `get(${id})`);

  // Queries: 20 stored vectors from across the chunks, and 10 new points.
  const fresh = clustered(10, dim, { seed: 2, spread: 0.3 });
  for (let i = 0; i < fresh.length; i++) fresh[i] += 8 * (i % chunks);
  const queries = new Float32Array(30 * dim);
  for (let q = 0; q < 20; q++) queries.set(row(data, dim, (q * 3331) % n), q * dim);
  queries.set(fresh, 20 * dim);

  const exact = [], approx = [];
  for (let q = 0; q < 30; q++) {
    exact.push(ix.searchExact(row(queries, dim, q), k));
    approx.push(ix.search(row(queries, dim, q), k, { ef }));
  }
  for (let q = 0; q < 20; q++)
    assert.deepEqual(exact[q][0], { id: (q * 3331) % n, distance: 0 }, `brute force finds vector ${q}`);

  // The native library, same seed and data, one batch (so this also shows
  // that adding in chunks builds the same graph as one batch).
  const h = new Uint32Array([dim, 1, 0, 4, 8, 64, 11, 0, n, 30, k, ef, 0, 0]);
  const input = Buffer.concat([h, data, queries].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  const r = spawnSync(need(nativeRef), { input, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `native_ref failed: ${r.stderr}`);
  const dv = new DataView(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength);
  let o = 4 * n; // skip the ids
  const hits = () => {
    const c = dv.getUint32(o, true);
    o += 4;
    return Array.from({ length: c }, () => {
      const hit = { id: dv.getUint32(o, true), distance: dv.getFloat32(o + 4, true) };
      o += 8;
      return hit;
    });
  };
  let selfFound = 0;
  for (let q = 0; q < 30; q++) {
    assert.deepEqual(approx[q], hits(), `graph search ${q} equals native`);
    assert.deepEqual(exact[q], hits(), `brute force ${q} equals native`);
    if (q < 20 && approx[q][0].id === exact[q][0].id) selfFound++;
  }
  t.diagnostic(`graph search found ${selfFound}/20 stored vectors (m 4, efConstruction 8)`);
  ix.free();
});
