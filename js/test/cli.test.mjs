// SPDX-License-Identifier: MIT
// One format, two implementations of its host side: files the native CLI
// writes load in the JS package, files the JS package writes load in the
// CLI, and both give the same search results (same ids, and distances equal
// to the last bit: the CLI prints them with 9 significant digits, enough to
// round-trip a float).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { init, Index } from '../index.js';
import { clustered, row } from './helpers/data.mjs';
import { cli, need } from './helpers/paths.mjs';

await init();
const pocketvec = (...args) => execFileSync(need(cli), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** n vectors of dim floats as .fvecs bytes (each: int32 dim, then the floats). */
function fvecs(flat, dim) {
  const n = flat.length / dim, out = new DataView(new ArrayBuffer(n * (4 + 4 * dim)));
  for (let i = 0, o = 0; i < n; i++) {
    out.setInt32(o, dim, true);
    o += 4;
    for (let d = 0; d < dim; d++, o += 4) out.setFloat32(o, flat[i * dim + d], true);
  }
  return new Uint8Array(out.buffer);
}

/** The CLI's --json answers, one array of hits per query. */
function cliHits(index, queries, k, ef) {
  const out = pocketvec('query', index, queries, '--k', String(k), '--ef', String(ef), '--json');
  return out.trim().split('\n').map((line) => JSON.parse(line).map((h) => ({ id: h.id, distance: Math.fround(h.distance) })));
}

test('an index the CLI built loads in JS and answers as the CLI does', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pocketvec-cli-'));
  try {
    const dim = 24, data = clustered(3000, dim, { seed: 21 }), queries = clustered(50, dim, { seed: 22 });
    await writeFile(join(dir, 'data.fvecs'), fvecs(data, dim));
    await writeFile(join(dir, 'q.fvecs'), fvecs(queries, dim));
    for (const [metric, storage] of [['cosine', 'f32'], ['l2', 'sq8'], ['dot', 'f32']]) {
      const file = join(dir, `${metric}-${storage}.pvec`);
      pocketvec('build', join(dir, 'data.fvecs'), '-o', file, '--metric', metric, '--storage', storage,
        '--m', '8', '--ef-construction', '64');
      const ix = await Index.load(file);
      assert.equal(ix.size, 3000);
      assert.equal(ix.metric, metric);
      assert.equal(ix.quantization, storage);
      const want = cliHits(file, join(dir, 'q.fvecs'), 10, 32);
      for (let i = 0; i < 50; i++) assert.deepEqual(ix.search(row(queries, dim, i), 10, { ef: 32 }), want[i], `${metric}/${storage} query ${i}`);
      ix.free();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an index JS wrote, with deletes, loads in the CLI and answers as JS does', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pocketvec-cli-'));
  try {
    const dim = 16, data = clustered(2000, dim, { seed: 23 }), queries = clustered(40, dim, { seed: 24 });
    await writeFile(join(dir, 'q.fvecs'), fvecs(queries, dim));
    const ix = new Index({ dim, metric: 'l2', quantization: 'sq8', m: 6, efConstruction: 48, compactThreshold: 0 });
    ix.addBatch(data);
    for (let id = 0; id < 2000; id += 5) ix.delete(id);
    const file = join(dir, 'js.pvec');
    await ix.save(file);
    assert.match(pocketvec('verify', file), /ok/);
    assert.match(pocketvec('info', file), /1,600 live, 400 deleted/);
    const got = cliHits(file, join(dir, 'q.fvecs'), 8, 24);
    for (let i = 0; i < 40; i++) assert.deepEqual(got[i], ix.search(row(queries, dim, i), 8, { ef: 24 }), `query ${i}`);
    // And back: the CLI's bytes of it are what JS wrote (it only reads).
    assert.deepEqual(new Uint8Array(await readFile(file)), ix.toBytes());
    ix.free();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a CLI upsert between a load and a save in Node: the save is CONFLICT, a reload has both writes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pocketvec-cli-'));
  try {
    const dim = 8, data = clustered(50, dim, { seed: 3 }), path = join(dir, 'shared.pvec');
    const ix = new Index({ dim });
    for (let i = 0; i < 40; i++) ix.upsert({ key: `k${i}`, vector: row(data, dim, i) });
    await ix.save(path);
    const mine = await Index.load(path);
    mine.upsert({ key: 'from-node', vector: row(data, dim, 40) });
    await writeFile(join(dir, 'more.jsonl'), `${JSON.stringify({ key: 'from-cli', vector: Array.from(row(data, dim, 41)) })}\n`);
    pocketvec('upsert', path, join(dir, 'more.jsonl'));
    await assert.rejects(mine.save(path), (e) => e.code === 13 && /was saved by someone else/.test(e.message));
    const back = await Index.load(path);
    assert.ok(back.has('from-cli') && !back.has('from-node'));
    back.upsert({ key: 'from-node', vector: row(data, dim, 40) });
    await back.save(path);
    assert.match(pocketvec('get', path, 'from-node'), /"key":"from-node"/);
    for (const x of [ix, mine, back]) x.free();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a change log written by Node is replayed by the CLI, and one the CLI appends by Node', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pocketvec-cli-'));
  try {
    const dim = 16, n = 6000, data = clustered(n + 10, dim, { seed: 5 }), path = join(dir, 'log.pvec');
    const ix = new Index({ dim, metric: 'l2', quantization: 'sq8' });
    ix.upsertBatch(Array.from({ length: n }, (_, i) => ({ key: `k${i}`, vector: row(data, dim, i), attributes: { i } })));
    await ix.save(path);
    const whole = (await readFile(path)).length;
    const a = await Index.load(path);
    a.upsert({ key: 'from-node', vector: row(data, dim, n), attributes: { by: 'node' } });
    a.delete('k3');
    await a.save(path, { checkpoint: false });
    const logged = (await readFile(path)).length;
    assert.ok(logged > whole && logged < whole + 1000, `${whole} -> ${logged} bytes`);
    // The CLI replays Node's record: same document, same search results.
    assert.match(pocketvec('get', path, 'from-node'), /"by":"node"/);
    const q = join(dir, 'q.fvecs');
    await writeFile(q, fvecs(data.subarray(0, 5 * dim), dim));
    assert.deepEqual(cliHits(path, q, 10, 64), Array.from({ length: 5 }, (_, i) =>
      a.search(row(data, dim, i), 10, { ef: 64 }).map(({ id, distance }) => ({ id, distance }))));
    // The CLI appends its own record after Node's; Node replays both.
    await writeFile(join(dir, 'more.jsonl'), `${JSON.stringify({ key: 'from-cli', vector: Array.from(row(data, dim, n + 1)) })}\n`);
    pocketvec('upsert', path, join(dir, 'more.jsonl'));
    assert.ok((await readFile(path)).length < logged + 1000, 'the CLI appended a record');
    const back = await Index.load(path);
    assert.ok(back.has('from-cli') && back.has('from-node') && !back.has('k3'));
    assert.equal(back.size, n + 1);
    for (const x of [ix, a, back]) x.free();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
