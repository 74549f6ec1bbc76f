#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The package in a real browser: Debian's Chromium (/usr/bin/chromium, or
// $CHROMIUM), headless, driven by playwright-core, with a fresh profile per
// run (a persistent context, so IndexedDB is on disk and outlives a page
// reload; the directory is deleted at the end). Pages come from a small
// server on 127.0.0.1 that also serves seeded datasets (bench/datagen.mjs)
// and the files the CLI builds. What each test checks is in its name and
// the comment above it; expected results are computed here, in Node, with
// the same package source (../../index.js) or the CLI.
//
//   cd js && npm run test:browser     (builds the .wasm and the CLI first)
//   node test/browser/run.mjs         (when they are built)
//
// One line per test, "ok" or "FAIL", with its time and what it measured;
// exit status 1 if any failed. The tests run in order in one browser and
// share its IndexedDB: tests 3 to 5 use the index test 2 saved.
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

import { makeDataset } from '../../../bench/datagen.mjs';
import * as pvNode from '../../index.js';
import { scenario, searchAll } from './scenario.js';

const dir = (p) => fileURLToPath(new URL(p, import.meta.url));
const here = dir('.'), pkg = dir('../../'), cli = dir('../../../build/pocketvec');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const TEST_TIMEOUT = 180_000;

// ---- datasets ----------------------------------------------------------------
// One seeded dataset per (dim, n, nq, seed), made once and shared by the
// server (which sends the page the same floats) and the expectations here.

const datasets = new Map();

function dataset({ dim, n, nq, seed }) {
  const key = `${dim}/${n}/${nq}/${seed}`;
  if (!datasets.has(key)) datasets.set(key, makeDataset(dim, n, nq, 0, seed));
  return datasets.get(key);
}

const bytesOf = (f) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);

// ---- the server --------------------------------------------------------------
//   /pkg/NAME                 js/NAME: index.js and src/, pocketvec.js, pocketvec.wasm
//   /badmime/pocketvec.wasm   the .wasm as application/octet-stream, which
//                             instantiateStreaming refuses
//   /data/DIM/N/NQ/SEED       the dataset's floats, base then queries
//                             (?part=queries: the queries only)
//   /files/NAME               what the tests wrote to their temporary directory
//   /NAME                     js/test/browser/NAME

const files = await mkdtemp(join(tmpdir(), 'pv-browser-files-'));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

// A path inside root, or null if the request tries to leave it.
function inside(root, path) {
  const file = resolve(root, `.${path}`);
  return file.startsWith(root.endsWith(sep) ? root : root + sep) ? file : null;
}

async function serve(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const path = decodeURIComponent(url.pathname);
  let body, type;
  const data = path.match(/^\/data\/(\d+)\/(\d+)\/(\d+)\/(\d+)$/);
  if (data) {
    const [dim, n, nq, seed] = data.slice(1).map(Number), ds = dataset({ dim, n, nq, seed });
    // makeDataset's base and queries are one array, base first.
    body = bytesOf(url.searchParams.get('part') === 'queries' ? ds.queries : new Float32Array(ds.base.buffer));
    type = 'application/octet-stream';
  } else {
    let file;
    if (path.startsWith('/cut/')) {
      // A response that promises the whole file, sends half, then drops.
      const whole = await readFile(inside(files, path.slice(4)));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': whole.length, 'cache-control': 'no-store' });
      res.write(whole.subarray(0, whole.length >> 1));
      return setTimeout(() => res.destroy(), 50);
    }
    if (path === '/badmime/pocketvec.wasm') [file, type] = [join(pkg, 'pocketvec.wasm'), 'application/octet-stream'];
    else if (path.startsWith('/pkg/')) file = inside(pkg, path.slice(4));
    else if (path.startsWith('/files/')) file = inside(files, path.slice(6));
    else file = inside(here, path);
    if (!file) return res.writeHead(403).end();
    try {
      body = await readFile(file);
    } catch {
      return res.writeHead(404).end();
    }
    type ??= TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';
  }
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

const server = createServer((req, res) => serve(req, res).catch((e) => res.writeHead(500).end(String(e))));
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`;

// ---- the browser -------------------------------------------------------------

await pvNode.init();
const profile = await mkdtemp(join(tmpdir(), 'pv-chromium-'));
let context;
try {
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
} catch (e) {
  console.error(`cannot start ${CHROMIUM} (scripts/install-deps.sh installs Debian's chromium):\n${e.message}`);
  await cleanup();
  process.exit(1);
}

async function cleanup() {
  await context?.close();
  server.close();
  await rm(profile, { recursive: true, force: true });
  await rm(files, { recursive: true, force: true });
}

// What pages said that a failing test should show: uncaught errors and
// console errors, in the order they came.
let pageLog = [];

/**
 * A new tab on page.html once the package has loaded in it: { page, info },
 * info being what init() reported ({ version, kernels }). Throws if the
 * module script does not run or init() fails.
 */
async function openPage() {
  const page = await context.newPage();
  page.on('pageerror', (e) => pageLog.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && pageLog.push(`console: ${m.text()}`));
  await page.goto(`${origin}/page.html`);
  return { page, info: await ready(page) };
}

// Waits for page.html's module script, then for init(): what it reported.
async function ready(page) {
  await page.waitForFunction(() => window.ready, null, { timeout: 20_000 });
  return page.evaluate(() => window.ready);
}

// ---- comparing results -------------------------------------------------------

/**
 * The first place where got and want differ, as "path: got ... want ...",
 * or null if they are equal (numbers compared with Object.is: distances
 * must be equal to the last bit). Plain data only: arrays, objects, numbers,
 * strings, booleans.
 */
function firstDiff(got, want, path = '') {
  if (typeof got !== 'object' || typeof want !== 'object' || got === null || want === null)
    return Object.is(got, want) ? null : `${path || 'value'}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`;
  if (Array.isArray(got) !== Array.isArray(want)) return `${path}: one is an array, the other not`;
  const keys = new Set([...Object.keys(got), ...Object.keys(want)]);
  for (const k of keys) {
    const d = firstDiff(got[k], want[k], Array.isArray(got) ? `${path}[${k}]` : `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

function same(got, want, what) {
  const d = firstDiff(got, want);
  if (d) assert.fail(`${what} differ at ${d}`);
}

const ms = (x) => `${Math.round(x)} ms`;
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

// ---- the tests ---------------------------------------------------------------

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// 1. The package as a browser loads it: a plain module script (streaming
// compilation), the shipped bundle, a module Web Worker, and the
// bytes fallback when the server gets the .wasm's MIME type wrong. Each
// runs the same build / search / delete / compact scenario on the same
// seeded data as Node, and must give the same ids, distances and bytes.
const SMALL = { dim: 64, n: 2000, nq: 20, seed: 3 };

test('module script, shipped bundle, module Worker, bytes fallback: simd128 and the same results as Node', async (note) => {
  const ds = dataset(SMALL);
  const want = {};
  for (const quantization of ['f32', 'sq8'])
    want[quantization] = scenario(pvNode, { dim: SMALL.dim, base: ds.base, queries: ds.queries, quantization });
  const { page, info } = await openPage();
  try {
    assert.equal(info.kernels, 'simd128', 'kernels of the page');
    const got = await page.evaluate(async (spec) => {
      const { app, pv } = window, ds = await app.fetchDataset(spec), out = {};
      for (const quantization of ['f32', 'sq8']) out[`page ${quantization}`] = app.scenario(pv, { ...ds, quantization });
      const shipped = await import('/pkg/pocketvec.js');
      out.shippedKernels = (await shipped.init()).kernels;
      out['pocketvec.js sq8'] = app.scenario(shipped, { ...ds, quantization: 'sq8' });
      const worker = await app.inWorker({ job: 'scenario', dataset: spec, quantizations: ['f32', 'sq8'] });
      out.workerKernels = worker.info.kernels;
      for (const q in worker.results) out[`worker ${q}`] = worker.results[q];
      // The server really does break streaming: instantiateStreaming must
      // refuse the response, and init() must still work from the bytes.
      out.streaming = await WebAssembly.instantiateStreaming(fetch('/badmime/pocketvec.wasm'), {})
        .then(() => 'compiled', (e) => `${e.name}: ${e.message}`);
      // A fresh copy of the package: the bundle, under another URL (the
      // sources' modules, which hold the state, would be shared).
      const fallback = await import('/pkg/pocketvec.js?fallback');
      out.fallbackKernels = (await fallback.init('/badmime/pocketvec.wasm')).kernels;
      out['fallback f32'] = app.scenario(fallback, { ...ds, quantization: 'f32' });
      return out;
    }, SMALL);
    assert.equal(got.shippedKernels, 'simd128', 'kernels of pocketvec.js');
    assert.equal(got.workerKernels, 'simd128', 'kernels in the worker');
    assert.equal(got.fallbackKernels, 'simd128', 'kernels through the bytes fallback');
    assert.match(got.streaming, /^TypeError/, 'instantiateStreaming of the wrong MIME type');
    for (const run of ['page f32', 'page sq8', 'pocketvec.js sq8', 'worker f32', 'worker sq8', 'fallback f32'])
      same(got[run], want[run.slice(-3)], `${run} and Node`);
    note(`${SMALL.n} x ${SMALL.dim}, ${SMALL.nq} queries: 6 runs equal to Node's (ids, distances, bytes); ` +
      `pocketvec ${info.version}, ${info.kernels}`);
    note(`wrong MIME type: instantiateStreaming says "${got.streaming.slice(0, 70)}...", init() falls back to bytes`);
  } finally {
    await page.close();
  }
});

// 2. IndexedDB: a 50k x 384 SQ8 index, built and saved in a Web Worker,
// loads after a page reload on the main thread with the same results;
// list() and remove() see names, and two names do not interfere.
const BIG = { dim: 384, n: 50_000, nq: 50, seed: 11 };
const BIG_OPTIONS = { dim: 384, metric: 'cosine', quantization: 'sq8', m: 16, efConstruction: 32, seed: 1 };
const OTHER = { dim: 32, n: 1000, nq: 10, seed: 12 };

test('IndexedDB: 50k x 384 SQ8 saved, page reloaded, loaded with the same results; list, remove, two names', async (note) => {
  dataset(BIG); // made before the clock of the build starts in the worker
  const { page } = await openPage();
  try {
    const before = await page.evaluate(async ([big, options, other]) => {
      const { app, pv } = window;
      const names = (await pv.Index.list()).map((x) => x.name);
      const built = await app.inWorker({ job: 'build-save', dataset: big, options, name: 'big' });
      const ds = await app.fetchDataset(other), index = new pv.Index({ dim: other.dim, metric: 'l2' });
      index.addBatch(ds.base);
      await index.save('other');
      const otherHits = app.searchAll(index, ds.queries, other.dim, 5), otherBytes = index.toBytes().length;
      index.free();
      return { names, built, otherHits, otherBytes };
    }, [BIG, BIG_OPTIONS, OTHER]);
    assert.deepEqual(before.names, [], 'a fresh profile has no saved indexes');
    note(`built ${BIG.n} x ${BIG.dim} SQ8 (m 16, efConstruction 32) in a worker in ${ms(before.built.buildMs)}, ` +
      `saved ${mb(before.built.bytes)} to IndexedDB in ${ms(before.built.saveMs)}`);

    await page.reload();
    await ready(page);
    const after = await page.evaluate(async ([big, other]) => {
      const { app, pv } = window;
      const list = (await pv.Index.list()).map(({ name, size, savedAt }) => ({ name, size, date: savedAt instanceof Date }))
        .sort((a, b) => a.name.localeCompare(b.name));
      const t0 = performance.now(), index = await pv.Index.load('big'), loadMs = performance.now() - t0;
      const { queries } = await app.fetchDataset(big, 'queries');
      const meta = { size: index.size, dim: index.dim, metric: index.metric, quantization: index.quantization };
      const hits = app.searchAll(index, queries, big.dim, 10);
      index.free();
      const o = await pv.Index.load('other'), oq = (await app.fetchDataset(other, 'queries')).queries;
      const otherHits = app.searchAll(o, oq, other.dim, 5);
      o.free();
      const removed = [await pv.Index.remove('other'), await pv.Index.remove('other')];
      const names = (await pv.Index.list()).map((x) => x.name);
      const gone = await pv.Index.load('other').then(() => 'it loaded',
        (e) => ({ isPocketVecError: e instanceof pv.PocketVecError, code: e.code, message: e.message }));
      const otherChunks = (await app.stored('other')).keys.length;
      const again = await pv.Index.load('big'), hitsAgain = app.searchAll(again, queries, big.dim, 10);
      again.free();
      return { list, loadMs, meta, hits, otherHits, removed, names, gone, otherChunks, hitsAgain };
    }, [BIG, OTHER]);
    same(after.list, [{ name: 'big', size: before.built.bytes, date: true },
      { name: 'other', size: before.otherBytes, date: true }], 'list()');
    same(after.meta, { size: BIG.n, dim: BIG.dim, metric: 'cosine', quantization: 'sq8' }, 'the loaded index\'s settings');
    same(after.hits, before.built.hits, `${BIG.nq} searches before and after the reload`);
    assert.ok(after.hits.every((h) => h.length === 10), 'every search found 10');
    same(after.otherHits, before.otherHits, 'the other index\'s searches');
    same(after.removed, [true, false], 'remove() twice');
    same(after.names, ['big'], 'list() after remove');
    same(after.gone, { isPocketVecError: true, code: pvNode.ErrorCode.NOTFOUND, message: 'no index named "other" in IndexedDB' },
      'loading a removed index');
    assert.equal(after.otherChunks, 0, 'chunks left behind by remove()');
    same(after.hitsAgain, before.built.hits, '"big" after "other" was removed');
    note(`reloaded: Index.load of ${mb(before.built.bytes)} in ${ms(after.loadMs)}, ${BIG.nq} x 10 results identical`);
  } finally {
    await page.close();
  }
});

// 3, 4. Crash safety. A tab closed while a save of a new version of a name
// is writing its chunks: the old version must load, and the next save must
// clear what the interrupted one left. A transaction aborted mid-save:
// save() rejects, the old version loads, a later save succeeds and leaves no
// stray chunks. The new version is "big" from test 2 (7 chunks of 4 MiB),
// the old one a small index, so telling them apart is certain.
const OLD = { dim: 64, n: 2000, nq: 10, seed: 13 };

// In the page: an index of OLD's data saved under `name`; returns its hash.
const saveOld = (page, name) => page.evaluate(async ([spec, name]) => {
  const { app, pv } = window, ds = await app.fetchDataset(spec), index = new pv.Index({ dim: spec.dim, quantization: 'sq8' });
  index.addBatch(ds.base);
  await index.save(name);
  const hash = app.hashBytes(index.toBytes());
  index.free();
  return hash;
}, [OLD, name]);

// In the page: what is stored under `name`: the hash of what loads (or the
// error), the current generation's chunk count and the stray chunk keys.
const inspect = (page, name) => page.evaluate(async (name) => {
  const { app, pv } = window;
  const loaded = await pv.Index.load(name).then((ix) => {
    const hash = app.hashBytes(ix.toBytes());
    ix.free();
    return hash;
  }, (e) => `${e.name}: ${e.message}`);
  const { record, keys } = await app.stored(name);
  return {
    loaded,
    current: keys.filter((k) => k[1] === record?.gen).length,
    chunks: record?.chunks,
    stray: keys.filter((k) => k[1] !== record?.gen).length,
  };
}, name);

test('crash safety: a tab closed mid-save leaves the old version loadable', async (note) => {
  // The package puts a chunk only once the previous chunk's transaction has
  // committed, and the record after the last chunk: a tab closed at the
  // second chunk put has at least one chunk of the new version on disk and
  // the record still on the old version.
  const first = (await openPage()).page, puts = [];
  let oldHash;
  try {
    oldHash = await saveOld(first, 'crash');
    const secondChunk = new Promise((ok) => first.on('console', (m) => {
      const t = m.text();
      if (!t.startsWith('pv-')) return;
      puts.push(t);
      if (puts.filter((p) => p === 'pv-put chunks').length === 2) ok();
    }));
    await first.evaluate(async () => {
      const { app, pv } = window;
      window.big = await pv.Index.load('big');
      app.tracePuts();
      window.big.save('crash', { overwrite: true }).then(() => console.log('pv-saved'), (e) => console.log(`pv-save-failed ${e}`));
    });
    await secondChunk;
  } finally {
    await first.close();
  }
  const seen = [...puts], { page } = await openPage();
  try {
    const got = await inspect(page, 'crash');
    assert.ok(!seen.includes('pv-put indexes') && !seen.includes('pv-saved'),
      `the save finished before the tab closed (${seen.join(', ')}): the test needs a bigger new version`);
    assert.equal(got.loaded, oldHash, 'what loads after the tab closed mid-save is the old version');
    assert.equal(got.current, got.chunks, 'chunks of the current version');
    assert.ok(got.stray >= 1, 'no chunk of the interrupted save is on disk: it was not in flight');
    note(`tab closed at chunk put ${seen.filter((t) => t === 'pv-put chunks').length} of 7: the old version loads; ` +
      `${got.stray} chunk(s) of the interrupted save were left on disk`);
    await page.evaluate(async () => {
      const index = await window.pv.Index.load('big');
      await index.save('crash', { overwrite: true });
      index.free();
    });
    const next = await inspect(page, 'crash');
    assert.notEqual(next.loaded, oldHash, 'the next save made the new version current');
    same({ stray: next.stray, current: next.current }, { stray: 0, current: next.chunks }, 'chunks after the next save');
    note(`the next save of "crash" succeeded and left ${next.stray} stray chunks`);
  } finally {
    await page.close();
  }
});

test('crash safety: a save whose transaction aborts mid-way rejects and leaves the old version loadable', async (note) => {
  const { page } = await openPage();
  try {
    const oldHash = await saveOld(page, 'kb');
    await page.evaluate(async () => {
      window.big = await window.pv.Index.load('big');
    });
    // A transaction killed after two chunks were written.
    const aborted = await page.evaluate(async () => {
      const { app, pv } = window, restore = app.abortChunkPutAfter(2);
      try {
        await window.big.save('kb', { overwrite: true });
        return 'saved';
      } catch (e) {
        return { isPocketVecError: e instanceof pv.PocketVecError, name: e.name, code: e.code, message: e.message };
      } finally {
        restore();
      }
    });
    assert.notEqual(aborted, 'saved', 'save() with an aborted transaction resolved');
    assert.ok(aborted.isPocketVecError && aborted.code === 9, `an aborted save's error is a PocketVecError IO: ${JSON.stringify(aborted)}`);
    assert.match(aborted.message, /saving to IndexedDB name "kb" failed: .*IndexedDB transaction aborted/, 'the error of an aborted save');
    let got = await inspect(page, 'kb');
    assert.equal(got.loaded, oldHash, 'after the aborted save, what loads is the old version');
    assert.equal(got.stray, 0, 'the chunks the aborted save had written are deleted before it rejects');
    note(`aborted at chunk 3: save() rejected with ${aborted.name} "${aborted.message}"; the old version loads, ` +
      'and the 2 chunks the save had written are gone');

    await page.evaluate(() => window.big.save('kb', { overwrite: true }));
    got = await inspect(page, 'kb');
    assert.notEqual(got.loaded, oldHash, 'a later save of "kb" made the new version current');
    same({ stray: got.stray, current: got.current }, { stray: 0, current: got.chunks }, 'chunks after the later save');
    note('a later save of "kb" succeeded and left 0 stray chunks');
  } finally {
    await page.close();
  }
});

// Two saves of one name at once (an overlapping autosave, two indexes told
// to overwrite): the name's Web Lock makes them take turns, in the order
// they were called, so both resolve and the later one's version is what
// loads, whole, with no chunk of the other left.
test('two overlapping saves of one name take turns: the later version loads, whole', async (note) => {
  const { page } = await openPage();
  try {
    const oldHash = await saveOld(page, 'both');
    const r = await page.evaluate(async () => {
      const { app, pv } = window, big = await pv.Index.load('big'), small = new pv.Index({ dim: 8 });
      small.add([1, 2, 3, 4, 5, 6, 7, 8]);
      const hashes = [app.hashBytes(big.toBytes()), app.hashBytes(small.toBytes())];
      const order = [];
      const settled = await Promise.allSettled([big.save('both', { overwrite: true }).then(() => order.push('big')),
        small.save('both', { overwrite: true }).then(() => order.push('small'))]);
      big.free();
      small.free();
      return { hashes, order, settled: settled.map((x) => (x.status === 'fulfilled' ? 'saved' : x.reason.message)) };
    });
    const got = await inspect(page, 'both');
    assert.notEqual(got.loaded, oldHash, 'neither overlapping save made its version current');
    same(r.settled, ['saved', 'saved'], 'both saves');
    same(r.order, ['big', 'small'], 'the order the saves finished in');
    assert.equal(got.loaded, r.hashes[1], 'what loads is the later save\'s version');
    same({ stray: got.stray, current: got.current }, { stray: 0, current: got.chunks }, 'chunks after both saves');
    note('the 7-chunk save, then the 1-chunk one: both resolved in call order; the later version loads, 0 stray chunks');
  } finally {
    await page.close();
  }
});

// A save while the application goes on writing: the saved version is the
// index as it was when save() was called, and the save never fails for it.
test('a save during a stream of upserts and deletes saves the index as it was when called', async (note) => {
  const { page } = await openPage();
  try {
    const r = await page.evaluate(async () => {
      const { app, pv } = window, index = await pv.Index.load('big'), dim = index.dim;
      const vec = (i) => Float32Array.from({ length: dim }, (_, j) => Math.sin(i * 7 + j));
      const want = app.hashBytes(index.toBytes()), size = index.size;
      let done = false, writes = 0;
      const saving = index.save('stream').finally(() => (done = true));
      while (!done) {
        index.upsert({ key: `w${writes}`, vector: vec(writes) });
        index.delete(writes);
        writes++;
        await new Promise((ok) => setTimeout(ok, 0));
      }
      await saving;
      const back = await pv.Index.load('stream'), got = app.hashBytes(back.toBytes());
      const out = { want, got, writes, size, backSize: back.size, hasLast: back.has(`w${writes - 1}`), liveSize: index.size };
      back.free();
      index.free();
      await pv.Index.remove('stream');
      return out;
    });
    assert.ok(r.writes > 1, `writes while the save ran: ${r.writes}`);
    assert.equal(r.got, r.want, 'what loads is the index of the save() call');
    same([r.backSize, r.hasLast, r.liveSize], [r.size, false, r.size], 'sizes, and the last write, in the saved and the live index');
    note(`${r.writes} upserts and deletes ran while the save wrote 7 chunks; it saved the index of the call, whole`);
  } finally {
    await page.close();
  }
});

// Two tabs of one origin on one name: each loads it and changes it. The
// second save is CONFLICT, and writes nothing; the other tab heard of the
// first save through watch(), loads the new version, redoes its change,
// saves: both writes are in what loads. A quota failure leaves nothing.
test('two tabs on one name: CONFLICT, watch(), a reload that keeps both writes; a full quota leaves nothing', async (note) => {
  const a = (await openPage()).page, b = (await openPage()).page;
  try {
    await a.evaluate(async () => {
      const { pv } = window, index = new pv.Index({ dim: 4 });
      for (let i = 0; i < 50; i++) index.upsert({ key: `n${i}`, vector: [1, i, 2, i % 3] });
      await index.save('shared');
      index.free();
    });
    const loadBoth = (p) => p.evaluate(async () => {
      window.ix = await window.pv.Index.load('shared');
      window.events = [];
      window.stop = window.pv.Index.watch('shared', (e) => window.events.push(e));
    });
    await loadBoth(a);
    await loadBoth(b);
    await a.evaluate(async () => {
      window.ix.upsert({ key: 'from-a', vector: [1, 1, 1, 1] });
      await window.ix.save('shared');
    });
    await b.waitForFunction(() => window.events.length > 0, null, { timeout: 10_000 });
    const inB = await b.evaluate(async () => {
      const { pv } = window, event = { ...window.events[0], savedAt: window.events[0].savedAt instanceof Date };
      window.ix.upsert({ key: 'from-b', vector: [2, 2, 2, 2] });
      const conflict = await window.ix.save('shared').then(() => 'saved', (e) => ({ code: e.code, message: e.message }));
      // What the watcher says to do: load the new version, redo the change.
      const fresh = await pv.Index.load('shared');
      const seesA = fresh.has('from-a');
      fresh.upsert({ key: 'from-b', vector: [2, 2, 2, 2] });
      await fresh.save('shared');
      fresh.free();
      const both = await pv.Index.load('shared'), keys = [both.has('from-a'), both.has('from-b'), both.size];
      both.free();
      return { event, conflict, seesA, keys };
    });
    same(inB.event, { name: 'shared', size: inB.event.size, savedAt: true, removed: false }, 'the event tab b heard');
    assert.equal(inB.conflict.code, 13, `tab b's save: ${JSON.stringify(inB.conflict)}`);
    assert.match(inB.conflict.message, /IndexedDB name "shared" was saved by someone else since this index loaded or saved it/);
    same([inB.seesA, inB.keys], [true, [true, true, 52]], 'after the reload: both writes');
    note(`tab b heard of tab a's save (watch), its own save was CONFLICT; loaded again, redone: both writes kept`);

    // A full quota at the third chunk: the save says what it needed and
    // what the browser has left, and deletes what it wrote.
    const quota = await a.evaluate(async () => {
      const { app, pv } = window, big = await pv.Index.load('big');
      const put = IDBObjectStore.prototype.put;
      let n = 0;
      IDBObjectStore.prototype.put = function (...x) {
        if (this.name === 'chunks' && n++ === 2) throw new DOMException('', 'QuotaExceededError');
        return put.apply(this, x);
      };
      const e = await big.save('shared', { overwrite: true }).then(() => null, (x) => ({ code: x.code, message: x.message }));
      IDBObjectStore.prototype.put = put;
      big.free();
      const { record, keys } = await app.stored('shared');
      return { e, stray: keys.filter((k) => k[1] !== record.gen).length };
    });
    assert.equal(quota.e?.code, 9, JSON.stringify(quota.e));
    assert.match(quota.e.message, /quota is full: saving "shared" needs \d+ bytes besides the saved version, and 8388608 had been written; the browser reports \d+ bytes available \(quota \d+, in use \d+\); what this save wrote was deleted/);
    assert.equal(quota.stray, 0, 'chunks left by the failed save');
    note(`a full quota: "${quota.e.message.slice(0, 150)}..."; 0 chunks left behind`);
    for (const p of [a, b]) await p.evaluate(() => window.stop());
  } finally {
    await a.close();
    await b.close();
  }
});

// The Origin Private File System: on the main thread (appends through
// our helper worker) and in a worker (a synchronous access handle):
// a whole save, an appended record that a load replays, CONFLICT, list,
// remove; a file removed by another tab makes the next append CONFLICT.
test('OPFS on the main thread and in a worker: save, append, load, CONFLICT, list, remove', async (note) => {
  const { page } = await openPage();
  try {
    const r = await page.evaluate(async (spec) => {
      const { app, pv } = window, ds = await app.fetchDataset(spec);
      const main = await app.opfsRound(pv, ds, 'opfs-main');
      const worker = await app.inWorker({ job: 'opfs', dataset: spec, name: 'opfs-worker' });
      return { main, worker };
    }, OLD);
    for (const where of ['main', 'worker']) {
      const x = r[where];
      assert.ok(x.appended > 0 && x.appended < 2000, `${where}: one upsert appended ${x.appended} bytes to ${x.whole}`);
      assert.equal(x.streams, 0, `${where}: the append went through a writable stream (a copy of the file)`);
      same([x.same, x.fresh, x.conflict, x.keptSame, x.listed, x.removed, x.gone],
        [true, { fresh: true }, 13, true, true, [true, false], 5],
        `${where}: replayed, CONFLICT, the version before a failed save, list, remove, load after remove`);
      same(x.afterRemove, [13, 'saved', 'saved', true, true],
        `${where}: the file removed by another tab: append CONFLICT, a whole save, then an append that loads identical`);
      assert.match(x.quota, /^9 the site's storage quota is full: saving OPFS name "opfs-\w+" needs \d+ bytes .*what this save wrote was deleted/,
        `${where}: a full quota`);
    }
    assert.equal(r.worker.sync, true, 'the worker has synchronous access handles');
    note(`main thread and worker: ${r.main.whole}-byte index, one upsert appended ${r.main.appended} bytes in place ` +
      `(${ms(r.main.appendMs)} on the main thread, ${ms(r.worker.appendMs)} in a worker), replayed identically; ` +
      'the second save CONFLICT; list and remove');
  } finally {
    await page.close();
  }
});

// An incremental save is one IndexedDB transaction: aborted, the save
// rejects and the version before it loads; the next append goes on. A
// whole save to the OPFS (a checkpoint) in a tab closed half-way through
// its writes leaves the version before it.
test('an aborted IndexedDB append and a tab closed mid-checkpoint in the OPFS leave the previous version', async (note) => {
  const first = (await openPage()).page;
  let before, saved = false;
  try {
    const r = await first.evaluate(async (spec) => {
      const { app, pv } = window, ds = await app.fetchDataset(spec);
      const index = new pv.Index({ dim: spec.dim, quantization: 'sq8' });
      index.upsertBatch(Array.from({ length: spec.n }, (_, i) => ({ key: `k${i}`, vector: ds.base.subarray(i * spec.dim, (i + 1) * spec.dim) })));
      await index.save('append', { overwrite: true });
      index.free();
      const a = await pv.Index.load('append'), want = app.hashBytes(a.toBytes());
      a.upsert({ key: 'lost', vector: ds.base.subarray(0, spec.dim) });
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (...x) {
        const q = put.apply(this, x);
        if (this.name === 'indexes') this.transaction.abort();
        return q;
      };
      const aborted = await a.save('append', { checkpoint: false }).then(() => 'saved', (e) => e.code);
      IDBObjectStore.prototype.put = put;
      const b = await pv.Index.load('append'), same = app.hashBytes(b.toBytes()) === want;
      b.free();
      await a.save('append', { checkpoint: false });
      const c = await pv.Index.load('append'), kept = c.has('lost');
      c.free();
      a.free();
      await pv.Index.remove('append');
      // The OPFS: an old version, then the 7-chunk "big" index saved over it.
      const old = new pv.Index({ dim: 4 });
      old.add([1, 2, 3, 4]);
      await old.save('checkpoint', { backend: 'opfs', overwrite: true });
      const oldHash = app.hashBytes(old.toBytes());
      old.free();
      window.big = await pv.Index.load('big');
      const W = FileSystemWritableFileStream.prototype, write = W.write;
      W.write = function (...x) {
        console.log('pv-opfs-write');
        return write.apply(this, x);
      };
      window.big.save('checkpoint', { backend: 'opfs', overwrite: true }).then(() => console.log('pv-saved'));
      return { aborted, same, kept, oldHash };
    }, OLD);
    same([r.aborted, r.same, r.kept], [9, true, true], 'the aborted append: IO, the version before it, then an append that keeps the change');
    before = r.oldHash;
    // Close the tab at the OPFS save's second write (of 7).
    await new Promise((ok) => {
      let n = 0;
      first.on('console', (m) => {
        if (m.text() === 'pv-saved') saved = true;
        if (m.text() === 'pv-opfs-write' && ++n === 2) ok();
      });
    });
  } finally {
    await first.close();
  }
  assert.equal(saved, false, 'the OPFS save finished before the tab closed: the test needs a bigger index');
  const { page } = await openPage();
  try {
    const after = await page.evaluate(async () => {
      const { app, pv } = window, ix = await pv.Index.load('checkpoint', { backend: 'opfs' }), h = app.hashBytes(ix.toBytes());
      ix.free();
      await pv.Index.remove('checkpoint', { backend: 'opfs' });
      return h;
    });
    assert.equal(after, before, 'what loads after the tab closed mid-checkpoint is the version before it');
    note('an aborted IndexedDB append rejected (IO) and the version before it loaded; the next append kept the change; ' +
      'an OPFS checkpoint cut by closing its tab left the version before it');
  } finally {
    await page.close();
  }
});

// Incremental saves in IndexedDB, counted where they go (IDBObjectStore.put
// wrapped in the page): each one-document save of the 50k x 384 index of
// test 2 writes under 1 % of it; after 20 of them and a page reload, the
// index loads identical. Then memory: build, save and free ten times, and
// WebAssembly memory stays within 10 % of the first round's.
test('IndexedDB: one-document saves write under 1 % of the index; 20 of them reload identical; memory is reused', async (note) => {
  const { page } = await openPage();
  let want;
  try {
    const r = await page.evaluate(async () => {
      const { app, pv } = window, index = await pv.Index.load('big');
      await index.save('incremental', { overwrite: true });
      const whole = index.toBytes().length, writes = [];
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (v, k) {
        if (this.name === 'chunks') writes[writes.length - 1] += v.byteLength;
        return put.call(this, v, k);
      };
      for (let i = 0; i < 20; i++) {
        index.upsert({ key: `note-${i}`, vector: Float32Array.from({ length: index.dim }, (_, j) => Math.sin(i + j)) });
        if (i % 5 === 4) index.delete(`note-${i - 2}`);
        writes.push(0);
        await index.save('incremental', { checkpoint: false });
      }
      IDBObjectStore.prototype.put = put;
      const hash = app.hashBytes(index.toBytes());
      index.free();
      return { whole, writes, hash };
    });
    assert.ok(r.writes.every((b) => b > 0 && b <= r.whole / 100), `bytes per save: ${r.writes.join(' ')} of ${r.whole}`);
    want = r.hash;
    note(`20 saves of one document each wrote ${Math.min(...r.writes)}-${Math.max(...r.writes)} bytes (the index: ${r.whole})`);
    await page.reload();
    await ready(page);
    const after = await page.evaluate(async () => {
      const { app, pv } = window, ix = await pv.Index.load('incremental'), h = app.hashBytes(ix.toBytes());
      const size = ix.size;
      ix.free();
      await pv.Index.remove('incremental');
      // Memory: ten rounds of build, save, free.
      const { memory } = await pv.init(), sizes = [];
      for (let round = 0; round < 10; round++) {
        const x = new pv.Index({ dim: 64, quantization: 'sq8', m: 8, efConstruction: 32 });
        x.addBatch(Float32Array.from({ length: 64 * 20000 }, (_, i) => Math.sin(i * 0.37 + round)));
        await x.save('rounds', { overwrite: true });
        (await pv.Index.load('rounds')).free();
        x.free();
        sizes.push(memory.buffer.byteLength);
      }
      await pv.Index.remove('rounds');
      return { h, size, sizes };
    });
    assert.equal(after.h, want, 'after 20 incremental saves and a reload, the index loads identical');
    assert.ok(after.sizes[9] <= after.sizes[0] * 1.1, `memory by round: ${after.sizes.join(' ')}`);
    note(`reloaded: identical (${after.size} documents); WebAssembly memory over ten build/save/free rounds: ` +
      `${(after.sizes[0] / 2 ** 20).toFixed(0)} MiB, then ${(after.sizes[9] / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    await page.close();
  }
});

// 6. An index the CLI built from a seeded dataset file, fetched over HTTP
// and opened with Index.fromBytes: timed in the page, and answering as the
// CLI's own `query` and Node's fromBytes of the same file do.
const PREBUILT = { dim: 384, n: 20_000, nq: 50, seed: 21 };

test('an index the CLI built, fetched and opened with Index.fromBytes and Index.fromResponse, answers as the CLI and Node do', async (note) => {
  const ds = dataset(PREBUILT), file = join(files, 'prebuilt.pvec');
  await writeFile(join(files, 'base.f32'), bytesOf(ds.base));
  await writeFile(join(files, 'queries.f32'), bytesOf(ds.queries));
  const pocketvec = (...args) => execFileSync(cli, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const t0 = performance.now();
  pocketvec('build', join(files, 'base.f32'), '--dim', String(PREBUILT.dim), '-o', file, '--storage', 'sq8',
    '--ef-construction', '64', '--seed', '9');
  const buildMs = performance.now() - t0;
  // The CLI prints distances with 9 significant digits: enough to get the
  // float back exactly.
  const fromCli = pocketvec('query', file, join(files, 'queries.f32'), '--k', '10', '--json').trim().split('\n')
    .map((line) => JSON.parse(line).map(({ id, distance }) => ({ id, distance: Math.fround(distance) })));
  const inNode = pvNode.Index.fromBytes(await readFile(file));
  const fromNode = searchAll(inNode, ds.queries, PREBUILT.dim, 10);
  inNode.free();
  same(fromNode, fromCli, 'Node\'s and the CLI\'s results');

  const { page } = await openPage();
  try {
    const got = await page.evaluate(async (spec) => {
      const { app, pv } = window;
      const t0 = performance.now(), res = await fetch('/files/prebuilt.pvec');
      const bytes = new Uint8Array(await res.arrayBuffer());
      const t1 = performance.now(), index = pv.Index.fromBytes(bytes), t2 = performance.now();
      const { queries } = await app.fetchDataset(spec, 'queries');
      const hits = app.searchAll(index, queries, spec.dim, 10);
      const meta = { size: index.size, dim: index.dim, quantization: index.quantization };
      index.free();
      // Streamed: the body goes into WASM memory as it arrives.
      const t3 = performance.now(), streamed = await pv.Index.fromResponse(await fetch('/files/prebuilt.pvec'));
      const streamMs = performance.now() - t3, streamedHits = app.searchAll(streamed, queries, spec.dim, 10);
      const same = streamed.toBytes().every((b, i) => b === bytes[i]);
      streamed.free();
      // A body cut short, then the same load again: the failure left the page working.
      const memory = [], wasm = (await pv.init()).memory;
      const cut = [];
      for (let i = 0; i < 3; i++) {
        try {
          await pv.Index.fromResponse(await fetch('/cut/prebuilt.pvec'));
          cut.push('loaded');
        } catch (e) {
          cut.push({ isPocketVecError: e instanceof pv.PocketVecError, code: e.code, message: e.message });
        }
        memory.push(wasm.buffer.byteLength);
      }
      const missing = await pv.Index.fromResponse(await fetch('/files/none.pvec')).catch((e) => ({ code: e.code, message: e.message }));
      const again = await pv.Index.fromResponse(await fetch('/files/prebuilt.pvec'));
      const againSize = again.size;
      again.free();
      return { fetchMs: t1 - t0, loadMs: t2 - t1, bytes: bytes.length, hits, meta, streamMs, streamedHits, same, cut,
        missing, againSize, memory };
    }, PREBUILT);
    same(got.meta, { size: PREBUILT.n, dim: PREBUILT.dim, quantization: 'sq8' }, 'the fetched index\'s settings');
    same(got.hits, fromCli, `the page's and the CLI's results (${PREBUILT.nq} queries)`);
    same(got.streamedHits, fromCli, 'the results of the index from fromResponse');
    assert.ok(got.same, 'fromResponse gives the bytes fromBytes gives');
    for (const c of got.cut) {
      assert.equal(typeof c, 'object', 'a body cut short must not load');
      assert.ok(c.isPocketVecError && c.code === pvNode.ErrorCode.IO, `a cut body: ${JSON.stringify(c)}`);
      assert.match(c.message, /^loading the index from http:\/\/127\.0\.0\.1:\d+\/cut\/prebuilt\.pvec failed: /);
    }
    same(got.missing.code, pvNode.ErrorCode.IO, 'a 404 response');
    assert.match(got.missing.message, /none\.pvec is 404/);
    same(got.againSize, PREBUILT.n, 'a load after the failures');
    // Each failed load freed its buffer: the next one found the room.
    same(got.memory[2], got.memory[0], `WASM memory after each cut load (${got.memory})`);
    note(`CLI built ${PREBUILT.n} x ${PREBUILT.dim} SQ8 in ${ms(buildMs)}; the page fetched ${mb(got.bytes)} in ` +
      `${ms(got.fetchMs)} and Index.fromBytes took ${ms(got.loadMs)}, fetch + Index.fromResponse ${ms(got.streamMs)}; ` +
      `${PREBUILT.nq} x 10 results equal the CLI's and Node's both ways; a body cut short is IO: ${got.cut[0].message}`);
  } finally {
    await page.close();
  }
});

// 7. Errors a page shows: a query of the wrong dimension and a stored index
// with a damaged chunk are PocketVecErrors (class, code, message), the page
// renders them, and it keeps working afterwards.
test('errors rendered in the page: wrong dimension, damaged stored index; the page keeps working', async (note) => {
  const { page } = await openPage();
  try {
    const first = await page.evaluate(async (spec) => {
      const { app, pv } = window, ds = await app.fetchDataset(spec);
      window.index = new pv.Index({ dim: spec.dim });
      window.index.addBatch(ds.base);
      window.query = ds.queries.slice(0, spec.dim);
      const ok = await app.show(() => window.index.search(window.query, 5));
      const dim = await app.show(() => window.index.search(new Float32Array(spec.dim - 1), 5));
      return { ok, dim };
    }, SMALL);
    const error = page.locator('#error');
    same(first.dim, { ok: false, isPocketVecError: true, name: 'PocketVecError', code: pvNode.ErrorCode.DIM,
      message: `vector has ${SMALL.dim - 1} values, index expects ${SMALL.dim}` }, 'the wrong-dimension error');
    assert.ok(await error.isVisible(), '#error is shown');
    assert.equal(await error.textContent(), `DIM: vector has ${SMALL.dim - 1} values, index expects ${SMALL.dim}`);
    assert.equal(await page.locator('#results li').count(), 0, 'results cleared');
    note(`wrong dimension: the page shows "${await error.textContent()}"`);

    // A byte in the vectors section of the stored chunk: past the header,
    // so the message names the section whose checksum caught it.
    const corrupt = await page.evaluate(async () => {
      const { app, pv } = window;
      await window.index.save('damaged');
      await app.damageChunk('damaged', 0, 2000);
      return app.show(() => pv.Index.load('damaged'));
    });
    same(corrupt, { ok: false, isPocketVecError: true, name: 'PocketVecError', code: pvNode.ErrorCode.CORRUPT,
      message: 'the vectors section\'s checksum does not match: the data is damaged' }, 'the damaged-index error');
    assert.ok(await error.isVisible(), '#error is shown');
    assert.equal(await error.textContent(), `CORRUPT: ${corrupt.message}`);
    note(`damaged chunk: the page shows "${await error.textContent()}"`);
    const after = await page.evaluate(() => window.app.show(() => window.index.search(window.query, 5)));
    same(after, first.ok, 'a search after both errors and the one before');
    assert.ok(after.ok && after.hits.length === 5, 'the search after the errors found 5');
    assert.ok(await error.isHidden(), '#error hidden again');
    assert.equal(await page.locator('#results li').count(), 5, 'results shown again');
    note('afterwards the same page searches again and shows 5 results');
  } finally {
    await page.close();
  }
});

// 8. Documents in IndexedDB: keys and attributes (nested, non-ASCII) saved
// from the page, found again after a reload by key, by filter (text and
// object), and in filtered searches, exactly as the same calls in Node.
const DOCS = { dim: 32, n: 2000, nq: 5, seed: 14 };

// The documents of DOCS's vectors, the same in the page and here.
function docsOf(base, dim, n) {
  const docs = [];
  for (let i = 0; i < n; i++)
    docs.push({ key: `doc-${i}`, vector: base.subarray(i * dim, (i + 1) * dim),
      attributes: { i, lang: ['en', 'fr', 'ελ'][i % 3], tags: i % 10 ? ['notes'] : ['notes', 'pinned'], author: { name: `Ann ${i % 50}` } } });
  return docs;
}

// What the page computes of an index and its queries, also computed in Node.
function docsQuestions(index, queries, dim) {
  const q = (j) => queries.subarray(j * dim, (j + 1) * dim), nq = queries.length / dim, out = [];
  for (let j = 0; j < nq; j++) {
    out.push(index.search(q(j), 10, { filter: 'tags contains "pinned" and lang != "fr"', attributes: true }));
    out.push(index.search(q(j), 5, { filter: { 'author.name': 'Ann 7' } }));
  }
  return { hits: out, count: index.count({ lang: 'ελ' }), find: index.find('i < 5 or author.name == "Ann 49"', { limit: 20 }),
    get: index.get('doc-1234'), fields: index.fields() };
}

test('documents with attributes saved to IndexedDB, page reloaded: get, count, find and filtered search as in Node', async (note) => {
  const { page } = await openPage();
  const ds = dataset(DOCS), ix = new pvNode.Index({ dim: DOCS.dim, metric: 'cosine', seed: 3 });
  ix.upsertBatch(docsOf(ds.base, DOCS.dim, DOCS.n));
  ix.setAttributes('doc-1234', { edited: true }, { merge: true });
  ix.delete('doc-3');
  const want = JSON.parse(JSON.stringify(docsQuestions(ix, ds.queries, DOCS.dim)));
  ix.free();
  try {
    const src = `${docsOf}\n${docsQuestions}`;
    await page.evaluate(async ([spec, src]) => {
      const { app, pv } = window, ds = await app.fetchDataset(spec);
      const [docsOf] = new Function(`${src}; return [docsOf];`)();
      const index = new pv.Index({ dim: spec.dim, metric: 'cosine', seed: 3 });
      index.upsertBatch(docsOf(ds.base, spec.dim, spec.n));
      index.setAttributes('doc-1234', { edited: true }, { merge: true });
      index.delete('doc-3');
      await index.save('docs');
      index.free();
    }, [DOCS, src]);
    await page.reload();
    await ready(page);
    const got = await page.evaluate(async ([spec, src]) => {
      const { app, pv } = window, ds = await app.fetchDataset(spec, 'queries');
      const [, docsQuestions] = new Function(`${src}; return [docsOf, docsQuestions];`)();
      const index = await pv.Index.load('docs');
      const r = docsQuestions(index, ds.queries, spec.dim);
      const gone = index.has('doc-3');
      index.free();
      return JSON.parse(JSON.stringify({ ...r, gone }));
    }, [DOCS, src]);
    assert.equal(got.gone, false, 'the deleted document stays deleted');
    delete got.gone;
    same(got, want, 'get, count, find, fields and filtered searches after the reload');
    assert.ok(want.hits.every((h, j) => h.length === (j % 2 ? 5 : 10)), 'every filtered search found k');
    assert.deepEqual(want.get.attributes.edited, true);
    note(`${DOCS.n} documents (${DOCS.dim}-d, attributes with arrays, nested objects, Greek) through IndexedDB and a reload: ` +
      `${want.hits.length} filtered searches, count ${want.count}, find ${want.find.length}, ${want.fields.length} fields, as in Node`);
  } finally {
    await page.close();
  }
});

// ---- the runner ----------------------------------------------------------------
// A few lines rather than node:test: the tests must run in order in one
// browser, and each prints what it measured under its result line.

// Rejects if promise has not settled within msLimit: a page.evaluate that
// never returns (a hung page) must fail its test, not hang the run.
function within(promise, msLimit) {
  let timer;
  const timeout = new Promise((_, no) => {
    timer = setTimeout(() => no(new Error(`timed out after ${msLimit / 1000} s`)), msLimit);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

let failed = 0;
const start = performance.now();
// PV_BROWSER_ONLY=text runs only the tests whose name holds text (while
// working on one); a full run is what CI does.
const only = process.env.PV_BROWSER_ONLY;
for (const [i, { name, fn }] of tests.entries()) {
  if (only && !name.includes(only)) continue;
  const notes = [], t0 = performance.now();
  pageLog = [];
  let error = null;
  try {
    await within(fn((s) => notes.push(s)), TEST_TIMEOUT);
  } catch (e) {
    error = e;
    failed++;
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`${error ? 'FAIL' : 'ok  '} ${i + 1} ${name} (${secs} s)`);
  for (const n of notes) console.log(`       ${n}`);
  if (error) {
    console.log(`       ${String(error.stack || error).split('\n').slice(0, 8).join('\n       ')}`);
    for (const l of pageLog.slice(0, 20)) console.log(`       ${l}`);
  }
}
const total = ((performance.now() - start) / 1000).toFixed(1);
const ran = only ? tests.filter((t) => t.name.includes(only)).length : tests.length;
console.log(`${ran - failed} of ${ran} browser tests passed in ${total} s${only ? ` (only "${only}")` : ''}`);
await cleanup();
process.exit(failed ? 1 : 0);
