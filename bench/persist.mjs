#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Saving like a database, measured (issue: incremental saves): for a
// document store of N x DIM SQ8 vectors with keys (built once by the CLI
// from the seeded datasets of bench/datagen.mjs, efConstruction 64), in
// Node with files and in headless Chromium with IndexedDB and the OPFS:
//   - a whole save (a checkpoint): time and bytes written;
//   - adding one document and saving: time and bytes written, median of
//     SAVES saves in a row (each one an appended change log record);
//   - how many such saves the automatic policy appends before it writes
//     the whole index again;
//   - load time of a fresh whole save, and of the index with the longest
//     log the automatic policy leaves (just before its checkpoint): the
//     ratio is the load target (<= 1.2).
// Bytes written are counted where they go: the file's growth, and in the
// page by wrapping IDBObjectStore.prototype.put and the OPFS's
// FileSystemWritableFileStream.prototype.write. Every figure of a set
// comes from one run; the machine is shared, so compare ratios.
//
//   node bench/persist.mjs [--sets 20k-384,100k-768] [--saves 15] [--no-browser]
//                          [--no-node] [--backends indexeddb,opfs,opfs-worker] [--out FILE]
//                          [--trace]  (each browser step printed as it starts)
// Each browser backend runs in a page of its own.
// writes bench/results/persist.json (with this command line).
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile, copyFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { makeDataset } from './datagen.mjs';
import { init, Index } from '../js/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, dflt) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : dflt);
const SETS = arg('--sets', '20k-384,100k-768').split(',');
const SAVES = Number(arg('--saves', '15'));
const browser = !process.argv.includes('--no-browser'), node = !process.argv.includes('--no-node');
const BACKENDS = arg('--backends', 'indexeddb,opfs,opfs-worker').split(',');
const OUT = arg('--out', join(root, 'bench/results/persist.json'));
const TRACE = process.argv.includes('--trace');
const cache = join(root, 'bench/.cache/persist');
const cli = join(root, 'build/pocketvec');
const info = await init();
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const r1 = (x) => Math.round(x * 10) / 10;

/** The base index of a set, built by the CLI once and cached. */
async function base(set) {
  const [n, dim] = set.split('-').map((x) => Number(x.replace('k', '000')));
  const file = join(cache, `${set}.pvec`);
  const exists = await stat(file).catch(() => null);
  const ds = makeDataset(dim, n + 100, 0, 0, 7);
  if (!exists) {
    await mkdir(cache, { recursive: true });
    const raw = join(cache, `${set}.f32`), attrs = join(cache, `${set}.jsonl`);
    await writeFile(raw, new Uint8Array(ds.base.buffer, 0, n * dim * 4));
    await writeFile(attrs, Array.from({ length: n }, (_, i) => JSON.stringify({ key: `chunk-${i}`, doc: `d${i % 500}` })).join('\n') + '\n');
    console.log(`building ${set} with the CLI...`);
    execFileSync(cli, ['build', raw, '--dim', String(dim), '--attributes', attrs, '--storage', 'sq8',
      '--ef-construction', '64', '-o', file], { stdio: 'inherit' });
    await rm(raw);
    await rm(attrs);
  }
  return { file, n, dim, extra: ds.base.subarray(n * dim) };
}

const vec = (b, i) => b.extra.subarray(i * b.dim, (i + 1) * b.dim);

/** Whether the file at path is an index alone (its header's size is the file's): no change log. */
async function wholeFile(path) {
  const { open } = await import('node:fs/promises'), fh = await open(path, 'r');
  try {
    const h = new Uint8Array(24);
    await fh.read(h, 0, 24, 0);
    return Number(new DataView(h.buffer).getBigUint64(16, true)) === (await fh.stat()).size;
  } finally {
    await fh.close();
  }
}

/** Node, files. */
async function nodeFiles(b) {
  const path = join(cache, 'work.pvec');
  await copyFile(b.file, path);
  const whole = (await stat(path)).size;
  const ix = await Index.load(path);
  // Whole saves: the checkpoint's time and bytes.
  const wholeMs = [];
  for (let i = 0; i < 5; i++) {
    ix.upsert({ key: `w${i}`, vector: vec(b, i), attributes: { doc: 'new' } });
    const t0 = performance.now();
    await ix.save(path, { checkpoint: true });
    wholeMs.push(performance.now() - t0);
  }
  // One document per save, appended.
  const oneMs = [], oneBytes = [];
  for (let i = 0; i < SAVES; i++) {
    ix.upsert({ key: `one-${i}`, vector: vec(b, 10 + i), attributes: { doc: 'new' } });
    const before = (await stat(path)).size, t0 = performance.now();
    await ix.save(path, { checkpoint: false });
    oneMs.push(performance.now() - t0);
    oneBytes.push((await stat(path)).size - before);
  }
  // The automatic policy: appends until it checkpoints.
  await ix.save(path, { checkpoint: true });
  ix.free();
  let auto = 0, longest = 0;
  {
    const a = await Index.load(path);
    for (let i = 0; i < 200; i++) {
      a.upsert({ key: `auto-${i}`, vector: vec(b, 30 + (i % 60)), attributes: { doc: 'auto' } });
      await a.save(path);
      const after = (await stat(path)).size;
      if (await wholeFile(path)) break; // a checkpoint: no log after the index
      auto++;
      longest = after;
      await copyFile(path, join(cache, 'longest.pvec'));
    }
    a.free();
  }
  const loadOf = async (p) => {
    const t = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      (await Index.load(p)).free();
      t.push(performance.now() - t0);
    }
    return median(t);
  };
  const fresh = await loadOf(b.file), logged = auto ? await loadOf(join(cache, 'longest.pvec')) : fresh;
  await rm(path, { force: true });
  await rm(join(cache, 'longest.pvec'), { force: true });
  return {
    index_bytes: whole,
    whole_save_ms: r1(median(wholeMs)),
    one_doc_save_ms: r1(median(oneMs)),
    one_doc_bytes: median(oneBytes),
    one_doc_bytes_share: +(median(oneBytes) / whole).toExponential(2),
    one_doc_time_share: +(median(oneMs) / median(wholeMs)).toFixed(3),
    appends_before_checkpoint: auto,
    longest_log_bytes: longest ? longest - whole : 0,
    load_fresh_ms: r1(fresh),
    load_with_log_ms: r1(logged),
    load_ratio: +(logged / fresh).toFixed(2),
  };
}

/**
 * Chromium: IndexedDB and the OPFS on the main thread (appends through a
 * writable stream), and the OPFS in a worker (appends through a
 * synchronous access handle): the same steps (bench/persist-web.js).
 */
async function chromiumIdb(b) {
  const { chromium } = await import(join(root, 'js/node_modules/playwright-core/index.mjs'));
  const bytes = await readFile(b.file);
  const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    try {
      let body, type = 'application/octet-stream';
      if (url.pathname === '/base.pvec') body = bytes;
      else if (url.pathname === '/persist-web.js') [body, type] = [await readFile(join(root, 'bench/persist-web.js')), TYPES['.js']];
      else if (url.pathname === '/persist-worker.js')
        [body, type] = ["import { run } from '/persist-web.js';\nonmessage = ({ data }) => run(data).then(postMessage, " +
          '(e) => postMessage({ error: String(e && e.stack || e) }));\n', TYPES['.js']];
      else if (url.pathname === '/extra') body = new Uint8Array(b.extra.buffer, b.extra.byteOffset, b.extra.byteLength);
      else if (url.pathname === '/') [body, type] = ['<!doctype html><title>persist</title>', 'text/html'];
      else {
        const f = join(root, 'js', url.pathname.replace(/^\/pkg\//, ''));
        body = await readFile(f);
        type = TYPES[f.slice(f.lastIndexOf('.'))] ?? type;
      }
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const br = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'] });
  try {
    const run = async (backend, worker) => {
      const page = await br.newPage();
      if (TRACE) page.on('console', (m) => console.error(`  [page] ${m.text()}`));
      await page.goto(`${origin}/`);
      try {
        return await inPage(page, backend, worker);
      } finally {
        await page.close();
      }
    };
    const inPage = (page, backend, worker) => page.evaluate(async ({ dim, saves, backend, worker, trace }) => {
      if (!worker) return (await import('/persist-web.js')).run({ dim, saves, backend, trace });
      const w = new Worker('/persist-worker.js', { type: 'module' });
      try {
        return await new Promise((ok, no) => {
          w.onmessage = ({ data }) => (data.error ? no(new Error(data.error)) : ok(data));
          w.onerror = (e) => no(new Error(e.message));
          w.postMessage({ dim, saves, backend, trace });
        });
      } finally {
        w.terminate();
      }
    }, { dim: b.dim, saves: SAVES, backend, worker, trace: TRACE });
    const got = {};
    for (const [key, name, backend, worker] of [['indexeddb', 'indexeddb', 'indexeddb', false], ['opfs', 'opfs', 'opfs', false],
      ['opfs_worker', 'opfs-worker', 'opfs', true]])
      if (BACKENDS.includes(name)) got[key] = await run(backend, worker);
    return got;
  } finally {
    await br.close();
    server.close();
  }
}

const out = {
  command: `node bench/persist.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  pocketvec: info.version,
  node: process.version,
  load_average: loadavg().map((x) => +x.toFixed(2)),
  note: 'one run; Node: files (rename + fsync for whole saves, append + fsync for records); Chromium: IndexedDB; ' +
    'loads are warm (same process or page); saves of one document each append one change log record',
  sets: {},
};
for (const set of SETS) {
  const b = await base(set);
  let files = null;
  if (node) {
    console.log(`${set}: Node files...`);
    files = await nodeFiles(b);
    console.log(JSON.stringify(files));
  }
  let web = { indexeddb: null, opfs: null };
  if (browser) {
    console.log(`${set}: Chromium IndexedDB, OPFS on the main thread and in a worker...`);
    web = await chromiumIdb(b);
    console.log(JSON.stringify(web));
  }
  out.sets[set] = { n: b.n, dim: b.dim, quantization: 'sq8', file: files, ...web };
}
await writeFile(OUT, `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${OUT}`);
