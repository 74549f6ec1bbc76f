// SPDX-License-Identifier: MIT
// The contestants of the peer benchmark, each behind the same small
// interface, so child.mjs measures them all with one loop:
//
//   const a = await ADAPTERS[name](opts)   load the library (may throw)
//   a.build(base, n, dim)                  insert every vector; returns the
//                                          base index of each inserted id
//   a.setEf(ef)                            ef for the next searches, or
//                                          a.efNeedsRebuild: ef is fixed at
//                                          build time (edgevec)
//   a.prepare(q)                           optional: the query (a Float32Array)
//                                          in the form the library's search
//                                          takes, made before any timing
//   a.search(q, k)                         ids of the k nearest, best first
//   a.memory()                             { wasm_memory_bytes?, memory_bytes? }
//   a.save() / a.load(saved)               serialize; open from that (timed
//                                          by the caller), returns a handle
//                                          that can search, or throws
//   a.free()
//
// Each adapter is what a user of that library would write: its documented
// API, metric cosine (or its equivalent), m 16, efConstruction 200, and the
// seed where the library takes one. Where a library cannot do what is asked
// the adapter says so in `notes`, and the harness records it.
import { readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const require = createRequire(join(here, '../package.json'));
const CHUNK = 1000;

/** The installed version of an npm package, from its package.json. */
export function pkgVersion(name) {
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
  } catch {
    // Packages whose `exports` hide package.json: walk up from the entry.
    let d = dirname(require.resolve(name));
    for (let i = 0; i < 4; i++, d = dirname(d)) {
      try {
        const p = JSON.parse(readFileSync(join(d, 'package.json'), 'utf8'));
        if (p.name === name) return p.version;
      } catch { /* keep walking */ }
    }
    return null;
  }
}

/* ------------------------------------------------------------------------ */

async function pocketvec(opts, storage) {
  // The shipped build (pocketvec.js), as users import it.
  const url = pathToFileURL(join(root, 'js/pocketvec.js')).href;
  const api = await import(url);
  const info = await api.init();
  let ix = null, ef = 64, ids = null;
  const make = (n, dim) => new api.Index({ dim, metric: 'cosine', quantization: storage, m: opts.m,
    efConstruction: opts.efConstruction, capacity: n, seed: opts.seed });
  const toBase = (hits, slotOf) => hits.map((h) => slotOf.get(h.id));
  let slotOf = null;
  const searcher = (index) => (q, k) => toBase(index.search(q, k, { ef }), slotOf);
  return {
    version: info.version, notes: [`kernels ${info.kernels}`, `quantization ${storage}`],
    build(base, n, dim) {
      ix = make(n, dim);
      ids = new Uint32Array(n);
      for (let done = 0; done < n; done += CHUNK) {
        const c = Math.min(CHUNK, n - done);
        ids.set(ix.addBatch(base.subarray(done * dim, (done + c) * dim)), done);
      }
      slotOf = new Map();
      ids.forEach((id, i) => slotOf.set(id, i));
      this.search = searcher(ix);
    },
    setEf(e) { ef = e; },
    search: null,
    memory: () => ({ wasm_memory_bytes: info.memory.buffer.byteLength, memory_bytes: ix.memoryUsage }),
    save() {
      const bytes = ix.toBytes();
      return { ref: bytes, bytes: bytes.byteLength };
    },
    load(bytes) {
      const back = api.Index.fromBytes(bytes);
      return { search: searcher(back), free: () => back.free() };
    },
    free() { ix.free(); },
  };
}

/* ------------------------------------------------------------------------ */

async function edgevec(opts) {
  // fake-indexeddb: EdgeVec.save/load go through IndexedDB, its only
  // persistence path; in Node that is this in-memory implementation.
  await import('fake-indexeddb/auto');
  const mod = await import('edgevec/edgevec.js');
  const wasmPath = join(dirname(require.resolve('edgevec/edgevec.js')), 'edgevec_bg.wasm');
  const out = mod.initSync({ module: readFileSync(wasmPath) });
  const metric = opts.edgevecMetric ?? 'l2';
  // The first build uses the sweep's first ef, so setEf(efs[0]) right after
  // it is not a second build (at 100k x 768 one build is 40 minutes).
  let db = null, ids = null, ef = opts.efs?.[0] ?? 64, slotOf = null, base = null, n = 0, dim = 0;
  const make = () => {
    const c = new mod.EdgeVecConfig(dim);
    c.metric = metric;
    c.m = opts.m;
    c.m0 = 2 * opts.m;
    c.ef_construction = opts.efConstruction;
    c.ef_search = ef;
    const d = new mod.EdgeVec(c);
    // insertBatchFlat: the fastest insert path it offers (one copy in).
    ids = d.insertBatchFlat(base, n);
    slotOf = new Map();
    ids.forEach((id, i) => slotOf.set(id, i));
    return d;
  };
  const searcher = (d) => (q, k) => d.search(q, k).map((h) => slotOf.get(h.id));
  return {
    version: pkgVersion('edgevec'),
    notes: [`metric ${metric}${metric === 'l2' ? ' on the unit vectors (same ranking as cosine; see its cosine check)' : ''}`,
      'ef_search is a build-time setting (EdgeVecConfig.ef_search); the per-query efSearch option is ignored, so every ef is a fresh build',
      'EdgeVecConfig.quantized makes no difference to memoryUsage() in 0.9.0: run as stored'],
    efNeedsRebuild: true,
    build(b, count, d) {
      base = b; n = count; dim = d;
      db = make();
      this.search = searcher(db);
    },
    setEf(e) {
      if (e === ef && db) return;
      ef = e;
      if (db) {
        db.free();
        db = make();
        this.search = searcher(db);
      }
    },
    search: null,
    memory: () => ({ wasm_memory_bytes: out.memory.buffer.byteLength, memory_bytes: db.memoryUsage() }),
    async save() {
      await db.save('bench');
      return { ref: 'bench', bytes: db.serializedSize() };
    },
    async load(name) {
      const back = await mod.EdgeVec.load(name);
      return { search: searcher(back), free: () => back.free() };
    },
    free() { db.free(); },
  };
}

/** Recall@10 of edgevec under its cosine metric on a small sample: the
 * check behind the note that cosine is run as l2. */
export async function edgevecCosineCheck(base, queries, truth, n, dim, nq) {
  const mod = await import('edgevec/edgevec.js');
  const wasmPath = join(dirname(require.resolve('edgevec/edgevec.js')), 'edgevec_bg.wasm');
  mod.initSync({ module: readFileSync(wasmPath) });
  const c = new mod.EdgeVecConfig(dim);
  c.metric = 'cosine';
  c.m = 16;
  c.m0 = 32;
  c.ef_construction = 200;
  c.ef_search = 200;
  const d = new mod.EdgeVec(c);
  const ids = d.insertBatchFlat(base.subarray(0, n * dim), n);
  const slotOf = new Map();
  ids.forEach((id, i) => slotOf.set(id, i));
  let found = 0;
  for (let q = 0; q < nq; q++) {
    const want = new Set(truth.subarray(q * 10, q * 10 + 10));
    for (const h of d.search(queries.subarray(q * dim, (q + 1) * dim), 10))
      if (want.has(slotOf.get(h.id))) found++;
  }
  d.free();
  return found / (nq * 10);
}

/* ------------------------------------------------------------------------ */

async function hnswlibWasm(opts) {
  // Emscripten's loader looks for a browser: a window object and IndexedDB
  // (its IDBFS). Node gets a stand-in for each, as its README suggests.
  await import('fake-indexeddb/auto');
  globalThis.window ??= globalThis;
  const { loadHnswlib } = await import('hnswlib-wasm/dist/hnswlib.js');
  const lib = await loadHnswlib();
  let ix = null, ef = 64;
  const searcher = (index) => (q, k) => index.searchKnn(q, k, undefined).neighbors;
  const heap = () => (lib.HEAPU8 ?? lib.HEAP8)?.buffer?.byteLength ?? null;
  let nMax = 0, dimSaved = 0;
  return {
    version: pkgVersion('hnswlib-wasm'),
    notes: ['space cosine', 'addPoints with labels = base indexes'],
    build(base, n, dim) {
      nMax = n; dimSaved = dim;
      ix = new lib.HierarchicalNSW('cosine', dim, '');
      ix.initIndex(n, opts.m, opts.efConstruction, opts.seed);
      for (let done = 0; done < n; done += CHUNK) {
        const c = Math.min(CHUNK, n - done), items = [], labels = [];
        for (let i = 0; i < c; i++) {
          items.push(base.subarray((done + i) * dim, (done + i + 1) * dim));
          labels.push(done + i);
        }
        ix.addPoints(items, labels, false);
      }
      this.search = searcher(ix);
    },
    setEf(e) { ef = e; ix.setEfSearch(ef); },
    search: null,
    memory: () => ({ wasm_memory_bytes: heap() }),
    async save() {
      await ix.writeIndex('bench.dat');
      // Its build does not export Emscripten's FS: the file's size is not
      // reachable from JS (asking aborts the module).
      return { ref: 'bench.dat', bytes: null };
    },
    async load(file) {
      const back = new lib.HierarchicalNSW('cosine', dimSaved, '');
      await back.readIndex(file, nMax);
      back.setEfSearch(ef);
      return { search: searcher(back), free: () => back.delete?.() };
    },
    free() { ix.delete?.(); },
  };
}

/* ------------------------------------------------------------------------ */

async function voy() {
  const mod = await import('voy-search/voy_search.js');
  let wasmMem = null;
  try {
    // Its glue imports the .wasm as an ES module; the same module instance
    // comes back here, so its memory is the one the index lives in.
    const w = await import('voy-search/voy_search_bg.wasm');
    wasmMem = w.memory;
  } catch { /* memory then not reported */ }
  let ix = null;
  const searcher = (index) => (q, k) => index.search(q, k).neighbors.map((h) => Number(h.id));
  return {
    version: pkgVersion('voy-search'),
    notes: ['exact kd-tree search: no ef, one point', 'resources passed as JSON-like objects with number[] embeddings, as its API takes'],
    exact: true,
    build(base, n, dim) {
      const embeddings = new Array(n);
      for (let i = 0; i < n; i++)
        embeddings[i] = { id: String(i), title: '', url: '', embeddings: Array.from(base.subarray(i * dim, (i + 1) * dim)) };
      ix = new mod.Voy({ embeddings });
      this.search = searcher(ix);
    },
    setEf() {},
    search: null,
    memory: () => ({ wasm_memory_bytes: wasmMem ? wasmMem.buffer.byteLength : null }),
    save() {
      const s = ix.serialize();
      return { ref: s, bytes: s.length, unit: 'characters of JSON' };
    },
    load(s) {
      const back = mod.Voy.deserialize(s);
      return { search: searcher(back), free: () => back.free() };
    },
    free() { ix.free(); },
  };
}

/* ------------------------------------------------------------------------ */

async function hnswlibNode(opts) {
  const { HierarchicalNSW } = require('hnswlib-node');
  let ix = null, dimSaved = 0, ef = 64;
  const tmp = mkdtempSync(join(tmpdir(), 'pv-hnswlib-node-'));
  const searcher = (index) => (q, k) => index.searchKnn(q, k).neighbors;
  return {
    version: pkgVersion('hnswlib-node'),
    notes: ['native C++ (node-gyp build of hnswlib)', 'space cosine',
      'its API takes number[] only: queries are converted before the timing, not inside it',
      'load: readIndexSync of the file writeIndexSync wrote (its only load path; the file is in the page cache)'],
    build(base, n, dim) {
      dimSaved = dim;
      ix = new HierarchicalNSW('cosine', dim);
      ix.initIndex(n, opts.m, opts.efConstruction, opts.seed);
      for (let i = 0; i < n; i++) ix.addPoint(Array.from(base.subarray(i * dim, (i + 1) * dim)), i);
      this.search = searcher(ix);
    },
    setEf(e) { ef = e; ix.setEf(e); },
    prepare: (q) => Array.from(q),
    search: null,
    memory: () => ({}),
    save() {
      const f = join(tmp, 'bench.hnsw');
      ix.writeIndexSync(f);
      return { ref: f, bytes: statSync(f).size };
    },
    load(f) {
      const back = new HierarchicalNSW('cosine', dimSaved);
      back.readIndexSync(f);
      back.setEf(ef);
      return { search: searcher(back), free() {} };
    },
    free() { rmSync(tmp, { recursive: true, force: true }); },
  };
}

export const ADAPTERS = {
  'pocketvec-wasm-sq8': (o) => pocketvec(o, 'sq8'),
  'pocketvec-wasm-f32': (o) => pocketvec(o, 'f32'),
  'pocketvec-wasm-binary': (o) => pocketvec(o, 'binary'),
  edgevec,
  'hnswlib-wasm': hnswlibWasm,
  'voy-search': voy,
  'hnswlib-node': hnswlibNode,
};

/** Node flags a library needs (voy's glue imports its .wasm as a module). */
export const NODE_FLAGS = {
  'voy-search': ['--experimental-wasm-modules', '--no-warnings'],
};
