// SPDX-License-Identifier: MIT
// Saving like a database, in Node: a save is a snapshot of the index when it
// was called; two writers of one file (two Index objects, two processes)
// never lose a write silently (CONFLICT, locks); watch() tells of new
// versions; memory freed by free() is used again. IndexedDB's side of the
// same rules runs against fake-indexeddb at the end (and in Chromium in
// test/browser/run.mjs).
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { init, Index, PocketVecError, ErrorCode } from '../index.js';
import { clustered, row } from './helpers/data.mjs';

const { memory } = await init();
const { CONFLICT, IO } = ErrorCode;
const DIM = 16, data = clustered(4000, DIM, { seed: 11 });
const doc = (i, tag = 'a') => ({ key: `doc-${i}`, vector: row(data, DIM, i % 4000), attributes: { i, tag } });
const tick = () => new Promise((ok) => setImmediate(ok));

function build(n, seed = 0) {
  const ix = new Index({ dim: DIM, quantization: 'sq8', m: 8, efConstruction: 32 });
  ix.upsertBatch(Array.from({ length: n }, (_, i) => doc(i + seed)));
  return ix;
}

async function withDir(fn) {
  const dir = await mkdtemp(join(tmpdir(), 'pocketvec-save-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function rejects(p, code, re) {
  const e = await p.then(() => null, (x) => x);
  assert.ok(e instanceof PocketVecError, `expected a PocketVecError, got ${e}`);
  assert.equal(e.code, code, e.message);
  if (re) assert.match(e.message, re);
  return e;
}

// ---- 1. a save is a snapshot ------------------------------------------------------

for (const backend of ['file', 'indexeddb']) {
  test(`${backend}: a save during a stream of upserts and deletes saves the index as it was when called`, async () => {
    await withDir(async (dir) => {
      const target = backend === 'file' ? join(dir, 'stream.pvec') : 'stream', o = { backend };
      const ix = build(3000);
      let next = 3000;
      for (let round = 0; round < 4; round++) {
        // Round 0 writes the whole index; the others append a record.
        const expect = ix.toBytes(), size = ix.size;
        const saving = ix.save(target, round ? { ...o, checkpoint: false } : o);
        let done = false, writes = 0;
        saving.finally(() => (done = true));
        // Writes between the save's steps, until it finishes.
        while (!done) {
          ix.upsert(doc(next++, 'b'));
          const gone = `doc-${(writes * 7 + round) % 2800}`;
          if (ix.has(gone)) ix.delete(gone);
          writes++;
          await tick();
        }
        await saving;
        assert.ok(writes > 0, 'the writes came while the save ran');
        const back = await Index.load(target, o);
        assert.deepEqual(back.toBytes(), expect, `round ${round}: the saved index is the one of the call`);
        assert.equal(back.size, size);
        assert.equal(back.has(`doc-${next - 1}`), false);
        back.free();
        assert.ok(ix.has(`doc-${next - 1}`) && !ix.has(`doc-${round}`), 'the writes stand');
      }
      ix.free();
      if (backend === 'indexeddb') await Index.remove(target);
    });
  });
}

test('free() during a save: the save still finishes with the index of the call', async () => {
  await withDir(async (dir) => {
    const ix = build(2000), expect = ix.toBytes(), path = join(dir, 'freed.pvec');
    const saving = ix.save(path);
    ix.free();
    await saving;
    const back = await Index.load(path);
    assert.deepEqual(back.toBytes(), expect);
    back.free();
  });
});

// ---- 2. no lost write: CONFLICT -----------------------------------------------------

for (const backend of ['file', 'indexeddb']) {
  test(`${backend}: two indexes loaded from one target: the second save is CONFLICT and writes nothing`, async () => {
    await withDir(async (dir) => {
      const target = backend === 'file' ? join(dir, 'shared.pvec') : 'shared', o = { backend };
      const first = build(500);
      await first.save(target, o);
      const a = await Index.load(target, o), b = await Index.load(target, o);
      a.upsert(doc(1000, 'from-a'));
      await a.save(target, o);
      b.upsert(doc(2000, 'from-b'));
      await rejects(b.save(target, o), CONFLICT, /was saved by someone else since this index loaded or saved it: nothing was written/);
      // Nothing of b's was written: the stored index is a's.
      const now = await Index.load(target, o);
      assert.deepEqual(now.toBytes(), a.toBytes());
      // Loading again and redoing the change keeps both writes.
      now.upsert(doc(2000, 'from-b'));
      await now.save(target, o);
      const both = await Index.load(target, o);
      assert.equal(both.get('doc-1000').attributes.tag, 'from-a');
      assert.equal(both.get('doc-2000').attributes.tag, 'from-b');
      // b is still usable, and may replace the stored index when it says so.
      await b.save(target, { ...o, overwrite: true });
      const replaced = await Index.load(target, o);
      assert.equal(replaced.has('doc-1000'), false);
      assert.equal(replaced.has('doc-2000'), true);
      // After its own save, b saves again without a conflict.
      b.upsert(doc(3000));
      await b.save(target, o);
      // A new index over an existing target, and a loaded one whose target
      // was removed meanwhile, are CONFLICT too.
      const fresh = build(10, 7);
      await rejects(fresh.save(target, o), CONFLICT, /already holds an index that this one did not load or save/);
      if (backend === 'file') await rm(target);
      else await Index.remove(target);
      await rejects(b.save(target, o), CONFLICT, /was removed since this index loaded or saved it/);
      await fresh.save(target, o); // nothing there now: a first save
      await rejects(fresh.save(target, { ...o, overwrite: 'yes' }), ErrorCode.INVALID, /overwrite must be true or false, got string "yes"/);
      await rejects(fresh.save(target, { ...o, overwite: true }), ErrorCode.INVALID, /unknown option "overwite"/);
      for (const x of [first, a, b, now, both, replaced, fresh]) x.free();
      if (backend === 'indexeddb') await Index.remove(target);
    });
  });
}

// Each child loads the file, upserts its own documents one at a time and
// saves after each; on CONFLICT it loads again and redoes the change. At
// the end every document of every child must be in the file.
const WRITER = `
import { init, Index, ErrorCode } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)};
const [path, who, n] = process.argv.slice(2);
await init();
let conflicts = 0;
for (let i = 0; i < Number(n); i++) {
  const key = who + '-' + i, vector = Float32Array.from({ length: ${DIM} }, (_, j) => Math.sin(i * 31 + j + who.length));
  for (;;) {
    const ix = await Index.load(path);
    ix.upsert({ key, vector, attributes: { who } });
    try {
      await ix.save(path);
      ix.free();
      break;
    } catch (e) {
      ix.free();
      if (e.code !== ErrorCode.CONFLICT) throw e;
      conflicts++;
    }
  }
}
process.stdout.write(String(conflicts));
`;

function run(file, args) {
  return new Promise((ok, no) => {
    const c = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => (code === 0 ? ok(out) : no(new Error(`child ${args[1]} exited ${code}: ${err}`))));
  });
}

test('two processes upserting into one file: every write of both is in it', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'two.pvec'), child = join(dir, 'writer.mjs');
    await writeFile(child, WRITER);
    const ix = build(200);
    await ix.save(path);
    ix.free();
    const n = 15, outs = await Promise.all([run(child, [path, 'left', n]), run(child, [path, 'right', n])]);
    const back = await Index.load(path);
    for (const who of ['left', 'right'])
      for (let i = 0; i < n; i++) assert.ok(back.has(`${who}-${i}`), `${who}-${i} was lost (conflicts: ${outs})`);
    assert.equal(back.size, 200 + 2 * n);
    back.check();
    back.free();
    assert.deepEqual((await readdir(dir)).sort(), ['two.pvec', 'writer.mjs'], 'no lock or temporary file is left');
  });
});

test('the lock file: a live holder is waited for, a dead one is taken over', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'locked.pvec'), lock = `${path}.lock`, ix = build(100);
    // A dead process's lock (and its temporary file) go at once.
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((ok) => dead.on('exit', ok));
    await writeFile(lock, `${dead.pid} ${(await import('node:os')).hostname()}\n`);
    await writeFile(`${path}.tmp-${dead.pid}-abc`, 'half a save');
    await ix.save(path);
    assert.deepEqual((await readdir(dir)).sort(), ['locked.pvec']);
    // A live process's lock holds the save until it is released.
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
    try {
      await writeFile(lock, `${live.pid} ${(await import('node:os')).hostname()}\n`);
      ix.upsert(doc(3999));
      let saved = false;
      const saving = ix.save(path).then(() => (saved = true));
      await new Promise((ok) => setTimeout(ok, 300));
      assert.equal(saved, false, 'the save waits for the lock');
      await rm(lock);
      await saving;
      assert.equal((await Index.load(path)).has('doc-3999'), true);
    } finally {
      live.kill();
    }
    ix.free();
  });
});

// ---- 3. watch ---------------------------------------------------------------------

/** The next event a watch reports, within 5 s. */
function nextEvent(events) {
  return new Promise((ok, no) => {
    const t = setTimeout(() => no(new Error('no event within 5 s')), 5000);
    events.wait = (e) => {
      clearTimeout(t);
      ok(e);
    };
  });
}

for (const backend of ['file', 'indexeddb']) {
  test(`${backend}: watch() reports each save and the removal, then stops`, async () => {
    await withDir(async (dir) => {
      const target = backend === 'file' ? join(dir, 'watched.pvec') : 'watched', o = { backend };
      const events = { all: [], wait: null };
      const stop = Index.watch(target, (e) => {
        events.all.push(e);
        events.wait?.(e);
      }, o);
      await new Promise((ok) => setTimeout(ok, 100)); // the file watcher starts
      const ix = build(300);
      let got = nextEvent(events);
      await ix.save(target, o);
      let e = await got;
      assert.equal(e.name, target);
      assert.equal(e.removed, false);
      assert.equal(e.size, ix.toBytes().length);
      assert.ok(e.savedAt instanceof Date);
      got = nextEvent(events);
      ix.upsert(doc(3000));
      await ix.save(target, o);
      e = await got;
      assert.equal(e.size, ix.toBytes().length);
      got = nextEvent(events);
      if (backend === 'file') await rm(target);
      else await Index.remove(target);
      e = await got;
      assert.equal(e.removed, true);
      stop();
      const seen = events.all.length;
      await ix.save(target, { ...o, overwrite: true });
      await new Promise((ok) => setTimeout(ok, 300));
      assert.equal(events.all.length, seen, 'nothing after stop()');
      assert.throws(() => Index.watch(target, 'not a function', o), /callback function, got string/);
      ix.free();
      if (backend === 'indexeddb') await Index.remove(target);
    });
  });
}

test('file: watch() of a path whose directories do not exist yet fires once they and the file do', async () => {
  await withDir(async (dir) => {
    const target = join(dir, 'not', 'yet', 'there.pvec');
    const events = { all: [], wait: null };
    const stop = Index.watch(target, (e) => {
      events.all.push(e);
      events.wait?.(e);
    }, { backend: 'file' });
    await new Promise((ok) => setTimeout(ok, 100)); // the watcher starts
    await mkdir(join(dir, 'not'));
    await new Promise((ok) => setTimeout(ok, 100)); // one level at a time
    await mkdir(join(dir, 'not', 'yet'));
    await new Promise((ok) => setTimeout(ok, 100));
    assert.equal(events.all.length, 0, 'directories alone are not a save');
    const ix = build(200);
    const got = nextEvent(events);
    await ix.save(target);
    const e = await got;
    assert.equal(e.name, target);
    assert.equal(e.removed, false);
    assert.equal(e.size, ix.toBytes().length);
    stop();
    ix.free();
  });
});

// ---- 4. memory --------------------------------------------------------------------

test('build, save, free ten times: WebAssembly memory stays within 10 % of the first round', async () => {
  await withDir(async (dir) => {
    const sizes = [];
    for (let round = 0; round < 10; round++) {
      const ix = new Index({ dim: 64, quantization: 'sq8', m: 8, efConstruction: 32 });
      ix.addBatch(clustered(20000, 64, { seed: 5 + round }));
      await ix.save(join(dir, 'round.pvec'), { overwrite: true });
      const back = await Index.load(join(dir, 'round.pvec'));
      back.free();
      ix.free();
      sizes.push(memory.buffer.byteLength);
    }
    assert.ok(sizes[9] <= sizes[0] * 1.1, `memory by round: ${sizes.join(' ')}`);
  });
});

// ---- 5. failures leave nothing behind -------------------------------------------

test('a file save that fails leaves no temporary file and no lock; the old version stays', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'full.pvec'), ix = build(400);
    await ix.save(path);
    const old = await readFile(path);
    ix.upsert(doc(3000));
    // The chunks fail half-way, as a full disk would make a write fail.
    const fs = await import('node:fs/promises');
    const probe = await fs.open(join(dir, 'probe'), 'w'), proto = Object.getPrototypeOf(probe);
    await probe.close();
    const write = proto.write;
    proto.write = function () {
      const e = new Error('ENOSPC: no space left on device, write');
      e.code = 'ENOSPC';
      return Promise.reject(e);
    };
    try {
      await rejects(ix.save(path), IO, /saving to file ".*full\.pvec" failed: ENOSPC: no space left/);
    } finally {
      proto.write = write;
    }
    assert.deepEqual(await readFile(path), old);
    assert.deepEqual((await readdir(dir)).sort(), ['full.pvec', 'probe']);
    // The failed save changed nothing it expects: the next one succeeds.
    await ix.save(path);
    assert.equal((await Index.load(path)).has('doc-3000'), true);
    ix.free();
  });
});

// ---- 6. incremental saves: a change log after the index ------------------------

/** Bytes stored for target: the file's size, or the IndexedDB record's. */
async function storedSize(backend, target) {
  if (backend === 'file') return (await import('node:fs/promises')).stat(target).then((s) => s.size);
  return (await Index.list()).find((x) => x.name === target)?.size;
}

for (const backend of ['file', 'indexeddb']) {
  test(`${backend}: saves after a load append a change log; every load is the index as saved, byte for byte`, async () => {
    await withDir(async (dir) => {
      const target = backend === 'file' ? join(dir, 'log.pvec') : 'log', o = { backend };
      const first = build(3000);
      await first.save(target, o);
      const whole = await storedSize(backend, target);
      first.free();
      const ix = await Index.load(target, o);
      // One document, one save: a record of a few hundred bytes.
      ix.upsert(doc(3500, 'one'));
      await ix.save(target, o);
      const grew = (await storedSize(backend, target)) - whole;
      assert.ok(grew > 0 && grew <= whole / 100, `one document appended ${grew} bytes to a ${whole}-byte index`);
      let back = await Index.load(target, o);
      assert.deepEqual(back.toBytes(), ix.toBytes());
      back.free();
      // Every kind of change, saved after each step; each load is identical.
      let next = 4000, sizes = [];
      for (let step = 0; step < 25; step++) {
        const c = step % 5;
        if (c === 0) ix.upsertBatch([doc(next++, 'x'), doc(next++, 'y'), doc(step, 'replaced')]);
        if (c === 1) ix.delete(`doc-${100 + step}`);
        if (c === 2) ix.setAttributes(`doc-${200 + step}`, { pinned: true, step }, { merge: step % 2 === 0 });
        if (c === 3) ix.add(row(data, DIM, step));
        if (c === 4 && step === 14) ix.compact();
        const want = ix.toBytes();
        await ix.save(target, o);
        sizes.push(await storedSize(backend, target));
        back = await Index.load(target, o);
        assert.deepEqual(back.toBytes(), want, `step ${step}`);
        back.free();
      }
      // A checkpoint came (the stored size fell back to a whole index) when
      // the log's replay would have cost too much.
      assert.ok(sizes.some((s, i) => i > 0 && s < sizes[i - 1]), `sizes: ${sizes.join(' ')}`);
      // checkpoint: true writes the whole index; false appends even past the ratio.
      ix.upsert(doc(9000));
      await ix.save(target, { ...o, checkpoint: true });
      assert.equal(await storedSize(backend, target), ix.toBytes().length);
      for (let i = 0; i < 3; i++) {
        ix.upsert(doc(9100 + i));
        await ix.save(target, { ...o, checkpoint: false });
      }
      assert.ok((await storedSize(backend, target)) > ix.toBytes().length);
      back = await Index.load(target, o);
      assert.deepEqual(back.toBytes(), ix.toBytes());
      // Two indexes loaded from the log: the second to save is CONFLICT;
      // one loaded after that continues the log.
      ix.upsert(doc(9150));
      await ix.save(target, o);
      back.upsert(doc(9200));
      await rejects(back.save(target, o), CONFLICT);
      back.free();
      back = await Index.load(target, o);
      back.upsert(doc(9200));
      await back.save(target, o);
      const last = await Index.load(target, o);
      assert.deepEqual(last.toBytes(), back.toBytes());
      assert.ok(last.has('doc-9150') && last.has('doc-9200'));
      await rejects(ix.save(target, { ...o, checkpoint: 'often' }), ErrorCode.INVALID, /checkpoint must be true, false or a ratio/);
      for (const x of [ix, back, last]) x.free();
      if (backend === 'indexeddb') await Index.remove(target);
    });
  });
}

// The child loads the file, upserts, and saves incrementally, killing
// itself (SIGKILL) at its Nth write or at the fsync: the file then loads
// as before the save or after it, never damaged; the next save goes on.
const APPENDER = `
import { init, Index } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)};
import fsp from 'node:fs/promises';
const [path, at, key] = process.argv.slice(2);
await init();
const ix = await Index.load(path);
ix.upsert({ key, vector: Float32Array.from({ length: ${DIM} }, (_, j) => Math.cos(j + key.length)) });
const probe = await fsp.open(path + '.probe', 'w');
const proto = Object.getPrototypeOf(probe);
await probe.close();
await fsp.rm(path + '.probe');
const die = () => process.kill(process.pid, 'SIGKILL');
let writes = 0;
const write = proto.write, sync = proto.sync;
proto.write = function (...a) {
  if (at === 'mid' && writes === 0) return write.call(this, a[0], 0, Math.floor(a[2] / 2), a[3]).then(die);
  if (String(writes++) === at) die();
  return write.apply(this, a);
};
proto.sync = function (...a) { if (at === 'sync') die(); return sync.apply(this, a); };
await ix.save(path);
process.stdout.write('saved');
`;

test('an incremental save killed at the write, half-way through it or at the fsync leaves a loadable file', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'kill.pvec'), child = join(dir, 'appender.mjs');
    await writeFile(child, APPENDER);
    const ix = build(500);
    await ix.save(path);
    ix.free();
    const { spawnSync } = await import('node:child_process');
    let keys = 0;
    for (const at of ['0', 'mid', 'sync', 'never']) {
      const r = spawnSync(process.execPath, [child, path, at, `k-${at}`], { encoding: 'utf8' });
      const back = await Index.load(path);
      back.check();
      if (at === 'never') assert.equal(r.stdout, 'saved', r.stderr);
      else assert.equal(r.signal, 'SIGKILL', `${at}: ${r.stderr}`);
      // Killed before the fsync the write may or may not have reached the
      // file; half a record never loads.
      if (at === 'mid') assert.equal(back.has('k-mid'), false, 'half a record');
      if (at === '0') assert.equal(back.has('k-0'), false);
      if (at === 'never') assert.equal(back.has('k-never'), true);
      keys = back.size;
      back.free();
    }
    assert.ok(keys >= 501);
  });
});
