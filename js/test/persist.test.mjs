// SPDX-License-Identifier: MIT
// Persistence in JS: bytes, chunks and files. A loaded index must answer
// exactly as the saved one (same settings, ids, results, and the same ids
// and levels for later inserts), damage must be a PocketVecError, and a save
// killed at any point must leave the previous file loadable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { init, Index, PocketVecError, ErrorCode } from '../index.js';
import { clustered, row } from './helpers/data.mjs';

await init();
const { CORRUPT, INVALID, VERSION } = ErrorCode;

function fails(fn, code, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof PocketVecError, `not a PocketVecError: ${e}`);
    assert.equal(e.code, code, `code ${e.code} (${e.message})`);
    if (re) assert.match(e.message, re);
    return true;
  });
}

async function rejects(p, code, re) {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof PocketVecError, `not a PocketVecError: ${e}`);
    assert.equal(e.code, code, `code ${e.code} (${e.message})`);
    if (re) assert.match(e.message, re);
    return true;
  });
}

/** An index with tombstones: 300 vectors of dim 12, every 7th deleted. */
function sample(metric, quantization, { n = 300, dim = 12, seed = 3 } = {}) {
  const ix = new Index({ dim, metric, quantization, m: 6, efConstruction: 40, compactThreshold: 0 });
  const data = clustered(n, dim, { seed });
  ix.addBatch(data);
  for (let id = 0; id < n; id += 7) ix.delete(id);
  return { ix, data, dim };
}

/** Everything observable about an index, for deepEqual. */
function snapshot(ix, data, dim) {
  const out = { size: ix.size, deleted: ix.deletedCount, dim: ix.dim, metric: ix.metric, q: ix.quantization };
  out.hits = [];
  for (let i = 0; i < 40; i++) {
    const q = row(data, dim, i * 3);
    out.hits.push(ix.search(q, 10, { ef: 16 }), ix.searchExact(q, 5));
  }
  out.vectors = [];
  for (let id = 1; id < 300; id += 11) out.vectors.push(ix.has(id) ? [...ix.get(id)] : null);
  return out;
}

const collect = async (it) => {
  const parts = [];
  for await (const c of it) parts.push(c);
  return parts;
};

const join8 = (parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

test('toBytes / fromBytes: same index for every metric and quantization, and it goes on the same way', () => {
  for (const metric of ['cosine', 'l2', 'dot']) {
    for (const q of ['f32', 'sq8']) {
      const { ix, data, dim } = sample(metric, q);
      const bytes = ix.toBytes();
      const back = Index.fromBytes(bytes);
      assert.deepEqual(snapshot(back, data, dim), snapshot(ix, data, dim), `${metric}/${q}`);
      back.check();
      // The same next ids and levels: after the same writes, the same bytes.
      for (const x of [ix, back]) {
        assert.equal(x.add(row(data, dim, 5)), 300);
        x.delete(11);
        x.compact();
      }
      assert.deepEqual(back.toBytes(), ix.toBytes(), `${metric}/${q} after more writes`);
      ix.free();
      back.free();
    }
  }
});

test('round trip of an empty index, after compaction, and of fromBytes input in any typed view', () => {
  const empty = new Index({ dim: 3 });
  const e2 = Index.fromBytes(empty.toBytes());
  assert.equal(e2.size, 0);
  assert.deepEqual(e2.search([1, 2, 3], 5), []);
  assert.equal(e2.add([1, 0, 0]), 0);
  const { ix, data, dim } = sample('l2', 'sq8');
  ix.compact();
  assert.equal(ix.deletedCount, 0);
  const bytes = ix.toBytes();
  assert.equal(bytes.length % 4, 0); // files end with a 4-byte CRC after aligned parts
  for (const view of [bytes, bytes.buffer, new DataView(bytes.buffer), new Uint32Array(bytes.buffer)]) {
    const back = Index.fromBytes(view);
    assert.deepEqual(snapshot(back, data, dim), snapshot(ix, data, dim));
    back.free();
  }
  // The caller's bytes are copied: changing them afterwards changes nothing.
  const back = Index.fromBytes(bytes);
  bytes.fill(0);
  back.check();
  assert.deepEqual(snapshot(back, data, dim), snapshot(ix, data, dim));
  for (const x of [empty, e2, ix, back]) x.free();
});

test('exportChunks: any chunk size gives the bytes of toBytes; importChunks reads them back', async () => {
  const { ix, data, dim } = sample('cosine', 'f32');
  const whole = ix.toBytes();
  for (const size of [1, 7, 64, 4096, whole.length - 1, whole.length, 1 << 22]) {
    const parts = await collect(ix.exportChunks(size));
    assert.ok(parts.every((p, i) => p.length === Math.min(size, whole.length - i * size)));
    assert.deepEqual(join8(parts), whole, `chunk size ${size}`);
    const back = await Index.importChunks(parts);
    assert.deepEqual(snapshot(back, data, dim), snapshot(ix, data, dim));
    back.free();
  }
  // Straight from one index into another, as an async iterable.
  const back = await Index.importChunks(ix.exportChunks(1000));
  assert.deepEqual(back.toBytes(), whole);
  back.free();
  await rejects(ix.exportChunks(0).next(), INVALID, /chunk size/);
  ix.free();
});

test('an export is the index as it was when it began, whatever writes or frees it meanwhile', async () => {
  const { ix, data, dim } = sample('l2', 'f32');
  const before = ix.toBytes(), it = ix.exportChunks(1000), parts = [(await it.next()).value];
  ix.add(row(data, dim, 1));
  ix.delete(2);
  ix.compact();
  for await (const c of it) parts.push(c);
  assert.deepEqual(join8(parts), before);
  const after = ix.toBytes();
  assert.notDeepEqual(after, before);
  // The writes stand, and the next export has them.
  assert.deepEqual(join8(await collect(ix.exportChunks(777))), after);
  // Freed between chunks: the export still finishes, with the bytes of when it began.
  const it2 = ix.exportChunks(1000), parts2 = [(await it2.next()).value];
  ix.free();
  for await (const c of it2) parts2.push(c);
  assert.deepEqual(join8(parts2), after);
  await rejects((async () => ix.exportChunks(1000))(), INVALID, /freed/);
});

test('damaged bytes: CORRUPT or VERSION with a message, and nothing leaks', () => {
  const { ix } = sample('cosine', 'sq8');
  const good = ix.toBytes();
  fails(() => Index.fromBytes(new Uint8Array(0)), CORRUPT, /not a pocketvec index/);
  fails(() => Index.fromBytes(good.subarray(0, 100)), CORRUPT, /truncated/);
  fails(() => Index.fromBytes(good.subarray(0, good.length - 1)), CORRUPT, /truncated/);
  fails(() => Index.fromBytes(join8([good, new Uint8Array(3)])), CORRUPT, /extra bytes/);
  fails(() => Index.fromBytes('not bytes'), INVALID, /expected bytes/);
  // A flipped bit anywhere: header, a section, padding or the table.
  for (const at of [0, 9, 20, 60, 130, 700, good.length >> 1, good.length - 40, good.length - 1]) {
    const bad = good.slice();
    bad[at] ^= 0x10;
    fails(() => Index.fromBytes(bad), CORRUPT);
  }
  // A newer version, with its header checksum intact, is VERSION.
  const newer = good.slice();
  newer[8] = 3;
  new DataView(newer.buffer).setUint32(124, crc32c(newer.subarray(0, 124)), true);
  fails(() => Index.fromBytes(newer), VERSION, /format version 3/);
  // Version 1 checks its sections and table with CRC-32C: a version 2 file
  // relabelled version 1 (its header CRC fixed) is damage.
  const older = good.slice();
  older[8] = 1;
  new DataView(older.buffer).setUint32(124, crc32c(older.subarray(0, 124)), true);
  fails(() => Index.fromBytes(older), CORRUPT, /table checksum/);
  // Failed loads free what they allocated: memory stays put over many.
  const before = new Index({ dim: 2 });
  const mem = () => before.memoryUsage;
  const start = mem();
  for (let i = 0; i < 200; i++) assert.throws(() => Index.fromBytes(good.subarray(0, good.length - 5)));
  assert.equal(mem(), start);
  before.free();
  ix.free();
});

test('importChunks: short, odd and damaged streams', async () => {
  const { ix } = sample('dot', 'f32', { n: 50 });
  const good = ix.toBytes();
  // Chunks shorter than the header's size field, one byte at a time.
  const bytes = [...good].map((b) => Uint8Array.of(b));
  const back = await Index.importChunks(bytes);
  assert.deepEqual(back.toBytes(), good);
  back.free();
  await rejects(Index.importChunks([]), CORRUPT, /not a pocketvec index/);
  await rejects(Index.importChunks([good.subarray(0, 10)]), CORRUPT);
  await rejects(Index.importChunks([good, Uint8Array.of(1)]), CORRUPT, /extra bytes/);
  await rejects(Index.importChunks([good.subarray(0, 5000)]), CORRUPT, /truncated/);
  await assert.rejects(Index.importChunks([good.subarray(0, 100), 42]), /expected bytes/);
  ix.free();
});

test('files: save and load, overwrite, no temporary files left behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pocketvec-'));
  try {
    const path = join(dir, 'a.pvec');
    const { ix, data, dim } = sample('cosine', 'sq8');
    await ix.save(path);
    assert.deepEqual(new Uint8Array(await readFile(path)), ix.toBytes());
    const back = await Index.load(path);
    assert.deepEqual(snapshot(back, data, dim), snapshot(ix, data, dim));
    back.add(row(data, dim, 2));
    await back.save(path); // over the old file
    const again = await Index.load(path);
    assert.equal(again.size, ix.size + 1);
    assert.deepEqual(await readdir(dir), ['a.pvec']);
    await writeFile(join(dir, 'bad.pvec'), ix.toBytes().subarray(0, 1000));
    await rejects(Index.load(join(dir, 'bad.pvec')), CORRUPT, /truncated/);
    await rejects(Index.load(join(dir, 'missing.pvec')), ErrorCode.NOTFOUND, /missing\.pvec.*no such file/);
    // A host failure (here: the directory does not exist) is an IO error
    // naming the target, with the host's error as its cause.
    const e = await ix.save(join(dir, 'nodir', 'x.pvec')).catch((x) => x);
    assert.ok(e instanceof PocketVecError && e.code === ErrorCode.IO, `${e}`);
    assert.match(e.message, /saving to file ".*nodir\/x\.pvec" failed: its directory does not exist$/);
    assert.equal(e.cause?.code, 'ENOENT');
    for (const x of [ix, back, again]) x.free();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// The child builds an index unlike the saved one and saves it over the
// file, but kills itself (SIGKILL, no cleanup) at its Nth write or at the
// fsync or the rename: whatever point it dies at, the file holds the
// previous index, whole, or (after the rename) the new one, whole.
const CHILD = `
import { init, Index } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)};
import { syncBuiltinESMExports } from 'node:module';
import fsp from 'node:fs/promises';
const [path, at] = process.argv.slice(2);
await init();
const ix = new Index({ dim: 64, metric: 'l2', m: 4, efConstruction: 8 });
ix.addBatch(new Float32Array(64 * 40000).map((_, i) => Math.sin(i)));
const die = () => process.kill(process.pid, 'SIGKILL');
const probe = await fsp.open(path + '.probe', 'w');
const proto = Object.getPrototypeOf(probe);
await probe.close();
let writes = 0;
const write = proto.write, sync = proto.sync;
proto.write = function (...a) { if (String(writes++) === at) die(); return write.apply(this, a); };
proto.sync = function (...a) { if (at === 'sync') die(); return sync.apply(this, a); };
if (at === 'rename') {
  fsp.rename = () => die();
  syncBuiltinESMExports();
}
await ix.save(path, { overwrite: true });
process.stdout.write('saved');
`;

test('a save killed at every chunk, at the fsync or before the rename leaves the old file loadable', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pocketvec-'));
  try {
    const path = join(dir, 'index.pvec');
    const { ix } = sample('cosine', 'f32');
    await ix.save(path);
    const old = ix.toBytes();
    const child = join(dir, 'child.mjs');
    await writeFile(child, CHILD);
    // 40000 x 64 floats: 12.1 MB, written in 3 chunks of at most 4 MiB.
    const points = ['0', '1', '2', 'sync', 'rename'];
    for (const at of points) {
      const r = spawnSync(process.execPath, [child, path, at], { encoding: 'utf8' });
      assert.equal(r.signal, 'SIGKILL', `child at ${at}: ${r.stderr}`);
      assert.deepEqual(new Uint8Array(await readFile(path)), old, `killed at ${at}`);
      assert.ok((await readdir(dir)).includes('index.pvec.lock'), `killed at ${at}: its lock file stays`);
      const back = await Index.load(path);
      assert.equal(back.size, ix.size);
      back.free();
    }
    // Unharmed, the child replaces the file with its own index.
    const r = spawnSync(process.execPath, [child, path, 'never'], { encoding: 'utf8' });
    assert.equal(r.stdout, 'saved', r.stderr);
    const fresh = await Index.load(path);
    assert.equal(fresh.size, 40000);
    fresh.free();
    // The killed saves left their temporary files and a lock file naming a
    // dead process; the next save took the lock over and removed them.
    assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith('index.pvec.') && f !== 'index.pvec.probe'), []);
    ix.free();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** CRC-32C, bit by bit: slow, obviously right. */
function crc32c(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Format version 2's checksum, straight from docs/FORMAT.md. */
function pvsum(bytes) {
  const P1 = 0x85ebca77, P2 = 0x9e3779b1, rotl = (x, r) => ((x << r) | (x >>> (32 - r))) >>> 0;
  const lane = Array.from({ length: 16 }, (_, j) => Math.imul(P2, j + 1) >>> 0);
  for (let off = 0; off < bytes.length; off += 64)
    for (let j = 0; j < 16; j++) {
      let w = 0;
      for (let b = 3; b >= 0; b--) w = ((w << 8) | (bytes[off + 4 * j + b] ?? 0)) >>> 0;
      lane[j] = Math.imul(rotl((lane[j] + Math.imul(w, P1)) >>> 0, 13), P2) >>> 0;
    }
  let h = (bytes.length ^ Math.floor(bytes.length / 2 ** 32)) >>> 0;
  for (let j = 0; j < 16; j++) h = Math.imul(rotl((h ^ lane[j]) >>> 0, 17), P2) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  h = Math.imul(h, P1) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

test('checksum helpers are FORMAT.md\'s (check values), and a saved file uses version 2\'s', async () => {
  const nine = new TextEncoder().encode('123456789');
  assert.equal(crc32c(nine), 0xe3069283);
  assert.equal(pvsum(new Uint8Array(0)), 0xfb4357a3);
  assert.equal(pvsum(nine), 0x0b34bfdd);
  const ix = new Index({ dim: 3 });
  ix.add([1, 2, 3]);
  const b = ix.toBytes(), dv = new DataView(b.buffer, b.byteOffset);
  assert.equal(dv.getUint32(8, true), 2);
  assert.equal(dv.getUint32(124, true), crc32c(b.subarray(0, 124))); // the header: CRC-32C, always
  const toff = Number(dv.getBigUint64(88, true)), count = dv.getUint32(96, true);
  assert.equal(dv.getUint32(toff + 32 * count, true), pvsum(b.subarray(toff, toff + 32 * count)));
  ix.free();
});

