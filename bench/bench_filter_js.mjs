// SPDX-License-Identifier: MIT
// bench_filter_js: filtered search by selectivity in WebAssembly, under Node:
// pocketvec's own filter, fetch-more-then-filter over pocketvec, and
// EdgeVec 0.9's filtered search, side by side in one run. The WASM
// counterpart of bench/bench_filter.c (`make bench-filter`).
//
//   make wasm && (cd bench && npm install --no-audit --no-fund)
//   node bench/bench_filter_js.mjs            # full: 100k x 768 SQ8 + MiniLM
//                                             #   -> bench/results/filter-js.json
//   node bench/bench_filter_js.mjs --quick --out /tmp/filter-js-quick.json
//   node bench/bench_filter_js.mjs --help     # every flag (--n, --dim, ...)
//
// The full run is long: EdgeVec builds its 100k x 768 HNSW in the order of
// 40 minutes on a 2-core machine (bench/peers/run.mjs sees the same), and
// fetch-more-then-filter at 0.01 % reads most of the index per query.
// --no-edgevec leaves EdgeVec out.
//
// Datasets: (1) synthetic, the seeded clustered mixture of bench/datagen.mjs
// (--n, --dim, --seed; held-out queries from the same generator), and (2)
// real MiniLM sentence embeddings from @sap-ux/fiori-docs-embeddings, read
// through bench/peers/data.mjs (778 unit vectors of 384 dims): a seeded
// draw of --minilm-queries of them are the queries, the rest the index.
//
// Every document gets one attribute, `bucket`, an integer in 0..9999
// independent of its vector: a seeded random permutation of the documents
// gets floor(rank * 10000 / n), so each value is equally likely and
// `bucket < T` matches exactly ceil(T * n / 10000) documents: 100, 50, 10,
// 5, 1, 0.1 and 0.01 % for T = 10000, 5000, 1000, 500, 100, 10, 1 (at least
// one document, even on a small set). 5 % is there because it is where the
// planner's two plans are both at their worst (a walk among few matching
// nodes, or a scan of matches scattered over the whole index). pocketvec
// gets it through upsertBatch ({ vector, attributes: { bucket } }, no key),
// EdgeVec through setMetadata(id, 'bucket', JsMetadataValue.fromInteger(b)).
//
// For each dataset and filter, over the queries at k 10:
//   - the ground truth first, in a pass of its own before anything is timed:
//     pocketvec's searchExact(q, 10, { filter }) (exact over the stored
//     vectors: under SQ8, over the 8-bit codes; EdgeVec, which stores f32,
//     is scored against the same truth);
//   - references: unfiltered search(q, 10) at the default ef (64), and an
//     exact scan over exactly the matching documents (searchExact on an
//     index holding only them; at 100 % the index itself);
//   - (a) pocketvec: search(q, 10, { filter }) at its default ef;
//   - (b) fetch-more-then-filter over pocketvec: search(q, 10 * m) without
//     a filter for m = 1, 2, 4, ... until 10 hits pass the filter (tested in
//     JS on a bucket-by-id array the caller keeps) or the whole index was
//     fetched;
//   - (c) EdgeVec: searchWithFilter(q, 'bucket < T', 10), its documented
//     filtered search (strategy "auto": it estimates the selectivity from a
//     sample of 100 documents, then pre-filters with a scan, or searches
//     with ef = 10 x an oversample of at most 10 and filters after). Metric
//     l2 on the unit vectors, which ranks as cosine (its own cosine metric
//     ranks wrongly in 0.9.0: see bench/peers/run.mjs), m 16, m0 32,
//     efConstruction 200, ef_search 64. A call that throws counts as 0 hits
//     and its message is kept; if EdgeVec cannot load or build, the reason
//     is recorded and the other methods run on. One untimed pass of
//     searchFiltered() records which strategy it picked.
// For each method: hits returned (mean and min over queries), recall@10
// (found / min(10, matching), summed over queries), p50 and p99; and the
// ratio of pocketvec's p50 to the better of the two references.
//
// Timing: each search is timed alone with performance.now(), JS glue
// included; an untimed pass (the recall pass) warms every method first.
// Timed passes over all queries repeat until --min-samples samples or
// --budget seconds (at least one pass); percentiles are nearest-rank.
// Single thread, one process; everything stays built for the whole dataset.
//
// A table goes to stdout; every figure, the command line, the machine, Node
// and the package versions to bench/results/filter-js.json
// (filter-js-quick.json with --quick) or --out.

import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync,
  writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { makeDataset, defaultClusters } from './datagen.mjs';
import { prepare as prepareDataset, MINILM_PACKAGE } from './peers/data.mjs';
import { pkgVersion } from './peers/adapters.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const here = join(root, 'bench');
// The shipped bundle, as bench_wasm.mjs and the peer benchmark import it.
const GLUE = join(root, 'js/pocketvec.js');
const WASM = join(root, 'js/pocketvec.wasm');
const RESULTS_DIR = join(root, 'bench/results');
const require = createRequire(join(here, 'package.json'));

const K = 10;
const DEFAULT_EF = 64; // IndexOptions.efSearch's default: search() gets no ef
const M = 16;
const EF_CONSTRUCTION = 200;
const CHUNK = 1000;
const BUCKETS = 10000;
const THRESHOLDS = [10000, 5000, 1000, 500, 100, 10, 1]; // 100 % .. 0.01 %
const METHODS = ['pocketvec', 'fetch_more', 'edgevec'];

const FULL = { n: 100000, dim: 768, seed: 2, queries: 200, minilmLimit: 0, minilmQueries: 100,
  minSamples: 1000, budget: 30 };
const QUICK = { n: 5000, dim: 64, seed: 2, queries: 50, minilmLimit: 300, minilmQueries: 50,
  minSamples: 200, budget: 2 };

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

class Fatal extends Error {}
const die = (msg) => { throw new Fatal(msg); };

const now = () => performance.now() / 1e3; // seconds
const group = (v) => Math.round(v).toLocaleString('en-US');
const fix = (v, d) => (Number.isFinite(v) ? Number(v.toFixed(d)) : null);
const f = (v, d, w = 0) => (Number.isFinite(v) ? v.toFixed(d) : '-').padStart(w);
/** Microseconds as the REPORT tables show them: 3 significant digits, grouped. */
const us = (v, w = 0) => (!Number.isFinite(v) ? '-'
  : v >= 1000 ? group(v) : v >= 100 ? v.toFixed(0) : v.toFixed(1)).padStart(w);
const pct = (t) => `${+(100 * t / BUCKETS).toPrecision(3)} %`;
const errText = (e) => (typeof e === 'string' ? e : e?.message ?? String(e));

/** Nearest-rank percentile p of n sorted samples (bench_wasm.mjs's rule). */
function percentile(sorted, p) {
  const n = sorted.length, r = p * n;
  let rank = Math.floor(r);
  if (rank < r) rank++;
  return sorted[Math.min(Math.max(rank, 1), n) - 1];
}

/** mulberry32: the seeded draws of the bucket permutation and the query split. */
function rng(seed) {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded random permutation of 0..n-1 (Fisher-Yates). */
function permutation(n, seed) {
  const p = new Uint32Array(n), r = rng(seed);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/**
 * JSON with arrays and objects of plain values on one line (a method's
 * figures in a row stay together, so runs diff cleanly).
 */
function toJson(v, indent = '') {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  const arr = Array.isArray(v);
  const entries = arr ? v.map((x) => [null, x]) : Object.entries(v);
  const scalar = (y) => y === null || typeof y !== 'object';
  // Plain: a scalar, an array of scalars, or a small object of scalars.
  const plain = (x) => scalar(x) || (Array.isArray(x) ? x.every(scalar)
    : Object.keys(x).length <= 4 && Object.values(x).every(scalar));
  const [open, close] = arr ? ['[', ']'] : ['{', '}'];
  const items = entries.map(([k, x]) => (k === null ? '' : `${JSON.stringify(k)}: `) +
    toJson(x, `${indent}  `));
  if (entries.length === 0 || entries.every(([, x]) => plain(x))) return open + items.join(', ') + close;
  return `${open}\n${items.map((x) => `${indent}  ${x}`).join(',\n')}\n${indent}${close}`;
}

function writeJson(path, doc) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, `${toJson(doc)}\n`);
  renameSync(`${path}.tmp`, path);
}

function progress(msg) {
  if (process.stderr.isTTY) process.stderr.write(`\r${msg.padEnd(78).slice(0, 78)}`);
}
const progressDone = () => process.stderr.isTTY && process.stderr.write(`\r${' '.repeat(78)}\r`);

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */
/* ------------------------------------------------------------------------ */

function usage() {
  return `usage: node bench/bench_filter_js.mjs [--quick] [options]

  --quick               small: --n ${QUICK.n} --dim ${QUICK.dim} --queries ${QUICK.queries}, MiniLM's first
                        ${QUICK.minilmLimit} vectors (${QUICK.minilmQueries} of them queries), --min-samples ${QUICK.minSamples}
                        --budget ${QUICK.budget}; writes bench/results/filter-js-quick.json
  --n N                 synthetic documents (default ${FULL.n})
  --dim D               synthetic dimensions (default ${FULL.dim})
  --seed S              synthetic seed (default ${FULL.seed}, as bench_filter.c's 100k-768)
  --queries Q           synthetic held-out queries (default ${FULL.queries})
  --minilm-limit N      use only MiniLM's first N vectors (default: all)
  --minilm-queries Q    MiniLM vectors drawn as queries, out of the index (default ${FULL.minilmQueries})
  --datasets LIST       comma-separated: synthetic, minilm (default both)
  --quantization Q      pocketvec storage: sq8 (default) or f32
  --min-samples N       timed samples to aim for per method and filter (default ${FULL.minSamples})
  --budget S            seconds of timed passes per method and filter, at most (default ${FULL.budget};
                        at least one pass over the queries is always timed)
  --no-edgevec          leave EdgeVec out
  --out PATH            write the JSON there (default bench/results/filter-js.json)

Needs js/pocketvec.wasm (make wasm) and bench/node_modules (cd bench && npm install).
`;
}

function parseArgs(argv) {
  const o = { quick: false, edgevec: true, datasets: ['synthetic', 'minilm'], quantization: 'sq8', out: null };
  const given = {};
  const num = (name, v, min) => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min) die(`${name} takes an integer >= ${min}, got ${JSON.stringify(v)}`);
    return x;
  };
  const flags = {
    '--n': ['n', 1], '--dim': ['dim', 1], '--seed': ['seed', 0], '--queries': ['queries', 1],
    '--minilm-limit': ['minilmLimit', 0], '--minilm-queries': ['minilmQueries', 1],
    '--min-samples': ['minSamples', 1], '--budget': ['budget', 0],
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i], v = null;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) [a, v] = [a.slice(0, eq), a.slice(eq + 1)];
    const value = () => {
      if (v !== null) return v;
      if (i + 1 >= argv.length) die(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--no-edgevec') o.edgevec = false;
    else if (flags[a]) given[flags[a][0]] = num(a, value(), flags[a][1]);
    else if (a === '--datasets') {
      o.datasets = value().split(',').filter(Boolean);
      for (const d of o.datasets) if (d !== 'synthetic' && d !== 'minilm') die(`no dataset named ${d}: synthetic or minilm`);
    } else if (a === '--quantization') {
      o.quantization = value();
      if (o.quantization !== 'sq8' && o.quantization !== 'f32') die('--quantization takes sq8 or f32');
    } else if (a === '--out') o.out = value();
    else if (a === '--help' || a === '-h') {
      process.stdout.write(usage());
      process.exit(0);
    } else {
      process.stderr.write(`bench_filter_js: unknown argument '${a}'\n\n${usage()}`);
      process.exit(2);
    }
  }
  return { ...o, ...(o.quick ? QUICK : FULL), ...given };
}

/* ------------------------------------------------------------------------ */
/* Datasets                                                                 */
/* ------------------------------------------------------------------------ */

const rowsOf = (flat, count, dim) => Array.from({ length: count }, (_, i) => flat.subarray(i * dim, (i + 1) * dim));

function synthetic(o) {
  const t0 = now();
  const ds = makeDataset(o.dim, o.n, o.queries, 0, o.seed);
  return {
    name: `synthetic-${o.n >= 1000 && o.n % 1000 === 0 ? `${o.n / 1000}k` : o.n}-${o.dim}`,
    n: o.n, dim: o.dim, base: ds.base, queries: rowsOf(ds.queries, o.queries, o.dim),
    seed: o.seed, generate_s: now() - t0,
    source: `bench/datagen.mjs, seed ${o.seed}, ${defaultClusters(o.n)} clusters, unit vectors; ` +
      `${o.queries} held-out queries from the same generator`,
  };
}

function minilm(o) {
  // The peer benchmark's copy of the embeddings (bench/.cache/peers/minilm/),
  // written from the npm package on first use.
  const { dir, meta } = prepareDataset('minilm', (m) => console.log(m));
  const raw = readFileSync(join(dir, 'base.f32'));
  const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const dim = meta.dim, total = o.minilmLimit ? Math.min(o.minilmLimit, meta.n) : meta.n;
  const nq = o.minilmQueries;
  if (nq >= total) die(`--minilm-queries ${nq} leaves no documents out of ${total} vectors`);
  // A seeded draw of nq vectors are the queries; the others, in their
  // original order, are the index.
  const perm = permutation(total, 7);
  const isQuery = new Uint8Array(total);
  for (let i = 0; i < nq; i++) isQuery[perm[i]] = 1;
  const n = total - nq, base = new Float32Array(n * dim), queries = [];
  for (let i = 0, b = 0; i < total; i++) {
    const v = all.subarray(i * dim, (i + 1) * dim);
    if (isQuery[i]) queries.push(Float32Array.from(v));
    else base.set(v, dim * b++);
  }
  return {
    name: 'minilm', n, dim, base, queries, generate_s: 0,
    source: `${meta.source} (${meta.model}): ${total === meta.n ? 'all' : `the first ${total} of`} ` +
      `${meta.n} vectors; ${nq} drawn as queries (seed 7), the other ${n} indexed`,
  };
}

/** bucket[i] for each base vector i: see the header. */
function buckets(n, seed) {
  const perm = permutation(n, seed ^ 0x5eed);
  const b = new Uint16Array(n);
  for (let r = 0; r < n; r++) b[perm[r]] = Math.floor((r * BUCKETS) / n);
  return b;
}

/* ------------------------------------------------------------------------ */
/* The contestants                                                          */
/* ------------------------------------------------------------------------ */

async function loadPocketvec() {
  if (!existsSync(WASM) || !existsSync(GLUE)) die(`${relative(root, WASM)} or pocketvec.js is missing: run "make wasm" in ${root}`);
  // Sources newer than the bundle: it was not rebuilt (make wasm).
  const built = statSync(GLUE).mtimeMs;
  const src = [join(root, 'js/index.js'), ...readdirSync(join(root, 'js/src')).filter((x) => x.endsWith('.js'))
    .map((x) => join(root, 'js/src', x))];
  const stale = src.filter((p) => statSync(p).mtimeMs > built);
  if (stale.length) process.stderr.write(`bench_filter_js: warning: ${stale.map((p) => relative(root, p)).join(', ')} ` +
    `newer than js/pocketvec.js: run "make wasm"\n`);
  const api = await import(pathToFileURL(GLUE).href);
  const info = await api.init();
  return { api, info };
}

function buildPocketvec(api, ds, bucket, quantization, seed) {
  const ix = new api.Index({ dim: ds.dim, metric: 'cosine', quantization, m: M,
    efConstruction: EF_CONSTRUCTION, capacity: ds.n, seed });
  const t0 = now();
  const baseOf = new Int32Array(ds.n).fill(-1); // id -> base index (ids are dense, from 0)
  for (let done = 0; done < ds.n; done += CHUNK) {
    const c = Math.min(CHUNK, ds.n - done), docs = new Array(c);
    for (let i = 0; i < c; i++)
      docs[i] = { vector: ds.base.subarray((done + i) * ds.dim, (done + i + 1) * ds.dim),
        attributes: { bucket: bucket[done + i] } };
    const ids = ix.upsertBatch(docs);
    for (let i = 0; i < c; i++) {
      if (ids[i] >= ds.n) die(`upsertBatch gave id ${ids[i]} to a fresh index of ${ds.n}`);
      baseOf[ids[i]] = done + i;
    }
    progress(`  pocketvec: ${group(done + c)} / ${group(ds.n)}`);
  }
  const seconds = now() - t0;
  progressDone();
  ix.check();
  if (ix.size !== ds.n) die(`pocketvec holds ${ix.size} documents after ${ds.n} upserts`);
  return { ix, baseOf, seconds };
}

async function loadEdgevec() {
  const entry = require.resolve('edgevec/edgevec.js');
  const mod = await import(pathToFileURL(entry).href);
  const out = mod.initSync({ module: readFileSync(join(dirname(entry), 'edgevec_bg.wasm')) });
  return { mod, memory: out.memory };
}

function buildEdgevec(mod, ds, bucket) {
  const c = new mod.EdgeVecConfig(ds.dim);
  c.metric = 'l2';
  c.m = M;
  c.m0 = 2 * M;
  c.ef_construction = EF_CONSTRUCTION;
  c.ef_search = DEFAULT_EF;
  const db = new mod.EdgeVec(c);
  const t0 = now();
  let baseOf = new Int32Array(ds.n + 1).fill(-1); // EdgeVec's ids start at 1
  for (let done = 0; done < ds.n; done += CHUNK) {
    const cnt = Math.min(CHUNK, ds.n - done);
    const ids = db.insertBatchFlat(ds.base.subarray(done * ds.dim, (done + cnt) * ds.dim), cnt);
    if (ids.length !== cnt) die(`EdgeVec insertBatchFlat inserted ${ids.length} of ${cnt}`);
    for (let i = 0; i < cnt; i++) {
      const v = mod.JsMetadataValue.fromInteger(bucket[done + i]);
      try {
        db.setMetadata(ids[i], 'bucket', v);
      } finally {
        v.free();
      }
      if (ids[i] >= baseOf.length) {
        const grown = new Int32Array(2 * ids[i] + 1).fill(-1);
        grown.set(baseOf);
        baseOf = grown;
      }
      baseOf[ids[i]] = done + i;
    }
    progress(`  edgevec: ${group(done + cnt)} / ${group(ds.n)}`);
  }
  const seconds = now() - t0;
  progressDone();
  return { db, baseOf, seconds };
}

/* ------------------------------------------------------------------------ */
/* Measuring                                                                */
/* ------------------------------------------------------------------------ */

/**
 * Timed passes of run(q) over every query until minSamples samples or
 * budget seconds (at least one pass).
 */
function timeQueries(run, nq, o) {
  const samples = [];
  const t0 = now();
  let passes = 0;
  do {
    for (let q = 0; q < nq; q++) {
      const a = performance.now();
      run(q);
      samples.push((performance.now() - a) * 1e3);
    }
    passes++;
  } while (samples.length < o.minSamples && now() - t0 < o.budget);
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  return { p50_us: percentile(sorted, 0.5), p99_us: percentile(sorted, 0.99), mean_us: sum / sorted.length,
    samples: sorted.length, passes };
}

/**
 * The recall pass (untimed; it also warms the method up): found(q) gives
 * the base indexes a method returns for query q.
 */
function recallPass(found, truth, nq) {
  let hit = 0, want = 0, sumHits = 0, minHits = Infinity;
  for (let q = 0; q < nq; q++) {
    const got = found(q), t = truth[q];
    sumHits += got.length;
    minHits = Math.min(minHits, got.length);
    want += t.length;
    const ts = new Set(t);
    for (const b of got) if (ts.has(b)) hit++;
  }
  return { hits_mean: sumHits / nq, hits_min: minHits, recall: want ? hit / want : 1 };
}

/** Fetch-more-then-filter: unfiltered searches for 10 m, m doubling, until 10 pass. */
function fetchMore(ix, q, pass, n, stats) {
  let fetch = K, rounds = 0, out;
  for (;;) {
    rounds++;
    const hits = ix.search(q, fetch);
    out = [];
    for (let i = 0; i < hits.length && out.length < K; i++) if (pass(hits[i].id)) out.push(hits[i].id);
    if (out.length === K || fetch >= n) break;
    fetch = Math.min(2 * fetch, n);
  }
  if (stats) {
    stats.fetch += fetch;
    stats.fetchMax = Math.max(stats.fetchMax, fetch);
    stats.rounds += rounds;
  }
  return out;
}

/* ------------------------------------------------------------------------ */
/* A dataset                                                                */
/* ------------------------------------------------------------------------ */

async function runDataset(ds, o, pv, ev, failures, evProblems) {
  console.log(`\n== ${ds.name}: ${group(ds.n)} documents x ${ds.dim} dims, ${ds.queries.length} queries, ` +
    `pocketvec ${o.quantization.toUpperCase()} ==`);
  console.log(`  ${ds.source}`);
  const loadStart = os.loadavg();
  const nq = ds.queries.length, Q = ds.queries;
  const bucket = buckets(ds.n, ds.seed ?? 0);

  const p = buildPocketvec(pv.api, ds, bucket, o.quantization, ds.seed ?? 1);
  console.log(`  pocketvec built in ${f(p.seconds, 2)} s (upsertBatch of ${CHUNK}, m ${M}, efConstruction ` +
    `${EF_CONSTRUCTION}), ${group(p.ix.memoryUsage / ds.n)} bytes/document, check ok`);
  const pvBucket = new Uint16Array(ds.n);
  for (let id = 0; id < ds.n; id++) pvBucket[id] = bucket[p.baseOf[id]];

  let e = null, edgevec;
  if (!o.edgevec) edgevec = { ok: false, error: 'not run (--no-edgevec)' };
  else if (ev.error) edgevec = { ok: false, error: ev.error };
  else {
    try {
      e = buildEdgevec(ev.mod, ds, bucket);
      edgevec = { ok: true, build_s: fix(e.seconds, 2), memory_bytes: e.db.memoryUsage(),
        wasm_memory_bytes: ev.memory.buffer.byteLength };
      console.log(`  edgevec built in ${f(e.seconds, 2)} s (insertBatchFlat of ${CHUNK} + setMetadata, ` +
        `l2, m ${M}, m0 ${2 * M}, efConstruction ${EF_CONSTRUCTION}, ef_search ${DEFAULT_EF})`);
    } catch (err) {
      edgevec = { ok: false, error: `build failed: ${errText(err)}` };
      evProblems.push(`${ds.name}: ${edgevec.error}`);
      console.log(`  edgevec: ${edgevec.error}`);
      try { e?.db?.free(); } catch { /* already broken */ }
      e = null;
    }
  }

  const rows = [];
  for (const T of THRESHOLDS) {
    const filter = `bucket < ${T}`, sel = T / BUCKETS;
    const matching = p.ix.count(filter);
    let expect = 0;
    for (let i = 0; i < ds.n; i++) expect += bucket[i] < T;
    if (matching !== expect) failures.push(`${ds.name} ${filter}: count() says ${matching}, ${expect} documents match`);
    const label = `${ds.name} ${filter}`;

    // The ground truth, in a pass of its own.
    progress(`  ${label}: ground truth`);
    const t0 = now();
    const truth = Q.map((q) => p.ix.searchExact(q, K, { filter }).map((h) => p.baseOf[h.id]));
    const truthS = now() - t0;
    for (let q = 0; q < nq; q++)
      if (truth[q].length !== Math.min(K, matching))
        failures.push(`${label}: searchExact gave ${truth[q].length} hits for query ${q}, ${Math.min(K, matching)} match`);

    const row = { filter, selectivity: sel, matching, queries: nq, truth_s: fix(truthS, 2) };

    // Reference 1: unfiltered search at the same (default) ef.
    progress(`  ${label}: unfiltered`);
    for (const q of Q) p.ix.search(q, K);
    row.unfiltered = timeQueries((q) => p.ix.search(Q[q], K), nq, o);

    // (a) pocketvec's filtered search.
    progress(`  ${label}: pocketvec`);
    const opt = { filter };
    row.pocketvec = recallPass((q) => p.ix.search(Q[q], K, opt).map((h) => p.baseOf[h.id]), truth, nq);
    Object.assign(row.pocketvec, timeQueries((q) => p.ix.search(Q[q], K, opt), nq, o));

    // Reference 2: exact over exactly the matching documents.
    progress(`  ${label}: exact over the matching documents`);
    let sub = p.ix, subNote = 'the index itself (every document matches)';
    if (matching < ds.n) {
      sub = new pv.api.Index({ dim: ds.dim, metric: 'cosine', quantization: o.quantization, m: 2,
        efConstruction: 2, capacity: matching, seed: 1 });
      const picked = new Float32Array(matching * ds.dim);
      for (let i = 0, j = 0; i < ds.n; i++)
        if (bucket[i] < T) picked.set(ds.base.subarray(i * ds.dim, (i + 1) * ds.dim), ds.dim * j++);
      for (let done = 0; done < matching; done += CHUNK)
        sub.addBatch(picked.subarray(done * ds.dim, Math.min(done + CHUNK, matching) * ds.dim));
      subNote = `an index of the ${matching} matching vectors alone (addBatch, m 2)`;
    }
    try {
      for (const q of Q) sub.searchExact(q, K);
      row.exact_over_matching = { ...timeQueries((q) => sub.searchExact(Q[q], K), nq, o), index: subNote };
    } finally {
      if (sub !== p.ix) sub.free();
    }
    row.ratio_to_best_reference = row.pocketvec.p50_us /
      Math.min(row.unfiltered.p50_us, row.exact_over_matching.p50_us);

    // (b) fetch-more-then-filter.
    progress(`  ${label}: fetch-more-then-filter`);
    const pass = (id) => pvBucket[id] < T;
    const st = { fetch: 0, fetchMax: 0, rounds: 0 };
    row.fetch_more = recallPass((q) => fetchMore(p.ix, Q[q], pass, ds.n, st).map((id) => p.baseOf[id]), truth, nq);
    Object.assign(row.fetch_more, { fetch_mean: st.fetch / nq, fetch_max: st.fetchMax, rounds_mean: st.rounds / nq },
      timeQueries((q) => fetchMore(p.ix, Q[q], pass, ds.n, null), nq, o));

    // (c) EdgeVec's filtered search.
    if (!e) row.edgevec = { ok: false, error: edgevec.error };
    else {
      progress(`  ${label}: edgevec`);
      let errors = 0, firstError = null;
      const search = (q) => {
        try {
          return e.db.searchWithFilter(Q[q], filter, K);
        } catch (err) {
          errors++;
          firstError ??= errText(err);
          return [];
        }
      };
      const r = recallPass((q) => search(q).map((h) => e.baseOf[h.id]), truth, nq);
      Object.assign(r, timeQueries(search, nq, o));
      // Which strategy "auto" chose, from one untimed pass of searchFiltered.
      const strategies = {};
      let complete = 0;
      for (const q of Q) {
        try {
          const j = JSON.parse(e.db.searchFiltered(q, K, JSON.stringify({ filter })));
          strategies[j.strategyUsed] = (strategies[j.strategyUsed] ?? 0) + 1;
          complete += j.complete ? 1 : 0;
        } catch (err) {
          errors++;
          firstError ??= errText(err);
        }
      }
      row.edgevec = { ok: errors === 0, ...r, strategies, complete_queries: complete, errors,
        ...(firstError ? { first_error: firstError } : {}) };
      if (errors) evProblems.push(`${label}: threw ${errors} times: ${firstError}`);
    }
    progressDone();
    rows.push(row);
    printRow(row, rows.length === 1);
  }

  p.memory = p.ix.memoryUsage;
  p.ix.free();
  if (e) e.db.free();
  return { ds, p, edgevec, rows, loadStart, loadEnd: os.loadavg() };
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */
/* ------------------------------------------------------------------------ */

function printRow(r, header) {
  if (header) {
    console.log(`\n  ${'filter'.padEnd(14)} ${'matching'.padStart(8)}  ${'method'.padEnd(10)} ` +
      `${'hits'.padStart(6)} ${'min'.padStart(4)} ${'recall'.padStart(7)} ${'p50 us'.padStart(8)} ` +
      `${'p99 us'.padStart(8)}  notes`);
  }
  const line = (first, name, m, note) => console.log(`  ${(first ? r.filter : '').padEnd(14)} ` +
    `${(first ? group(r.matching) : '').padStart(8)}  ${name.padEnd(10)} ` +
    (m.p50_us === undefined ? `${'-'.padStart(6)} ${'-'.padStart(4)} ${'-'.padStart(7)} ${'-'.padStart(8)} ${'-'.padStart(8)}  ${note}`
      : `${f(m.hits_mean, 2, 6)} ${String(m.hits_min).padStart(4)} ${f(m.recall, 4, 7)} ${us(m.p50_us, 8)} ` +
        `${us(m.p99_us, 8)}  ${note}`));
  line(true, 'pocketvec', r.pocketvec, `ratio ${f(r.ratio_to_best_reference, 2)} (unfiltered ` +
    `${us(r.unfiltered.p50_us)}, exact over matching ${us(r.exact_over_matching.p50_us)} us)`);
  line(false, 'fetch-more', r.fetch_more, `fetched ${group(r.fetch_more.fetch_mean)} on average, ` +
    `${group(r.fetch_more.fetch_max)} at most`);
  const ev = r.edgevec;
  line(false, 'edgevec', ev.error && ev.p50_us === undefined ? {} : ev, ev.p50_us === undefined ? ev.error
    : `${Object.entries(ev.strategies).map(([k, v]) => `${k} ${v}`).join(', ')}; ` +
      `complete ${ev.complete_queries}/${r.queries}` +
      (ev.errors ? `; ${ev.errors} errors: ${ev.first_error}` : ''));
}

const methodJson = (m) => (m.p50_us === undefined ? m : {
  ...(m.ok !== undefined ? { ok: m.ok } : {}),
  hits_mean: fix(m.hits_mean, 2), hits_min: m.hits_min, recall: fix(m.recall, 4),
  p50_us: fix(m.p50_us, 1), p99_us: fix(m.p99_us, 1), mean_us: fix(m.mean_us, 1),
  samples: m.samples, passes: m.passes,
  ...(m.fetch_mean !== undefined ? { fetch_mean: fix(m.fetch_mean, 1), fetch_max: m.fetch_max,
    rounds_mean: fix(m.rounds_mean, 2) } : {}),
  ...(m.strategies ? { strategies: m.strategies, complete_queries: m.complete_queries, errors: m.errors } : {}),
  ...(m.first_error ? { first_error: m.first_error } : {}),
});

const timingJson = (t) => ({ p50_us: fix(t.p50_us, 1), p99_us: fix(t.p99_us, 1), samples: t.samples });

function datasetJson(d) {
  return {
    name: d.ds.name, n: d.ds.n, dim: d.ds.dim, queries: d.ds.queries.length, source: d.ds.source,
    loadavg_start: d.loadStart.map((x) => fix(x, 2)), loadavg_end: d.loadEnd.map((x) => fix(x, 2)),
    pocketvec: { build_s: fix(d.p.seconds, 2), memory_bytes: d.p.memory },
    edgevec: d.edgevec,
    rows: d.rows.map((r) => ({
      filter: r.filter, selectivity: r.selectivity, matching: r.matching, truth_s: r.truth_s,
      pocketvec: methodJson(r.pocketvec),
      unfiltered: timingJson(r.unfiltered),
      exact_over_matching: { ...timingJson(r.exact_over_matching), index: r.exact_over_matching.index },
      ratio_to_best_reference: fix(r.ratio_to_best_reference, 3),
      fetch_more_then_filter: methodJson(r.fetch_more),
      edgevec: methodJson(r.edgevec),
    })),
  };
}

/* ------------------------------------------------------------------------ */
/* Main                                                                     */
/* ------------------------------------------------------------------------ */

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const out = resolve(o.out ?? join(RESULTS_DIR, o.quick ? 'filter-js-quick.json' : 'filter-js.json'));
  const command = ['node', relative(process.cwd(), process.argv[1]), ...process.argv.slice(2)].join(' ');
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const loadStart = os.loadavg();
  const cpu = os.cpus()[0]?.model ?? 'unknown';

  const pv = await loadPocketvec();
  let ev = {};
  if (o.edgevec) {
    try {
      ev = await loadEdgevec();
    } catch (err) {
      ev = { error: `cannot load edgevec: ${errText(err)} (cd bench && npm install --no-audit --no-fund)` };
    }
  }
  const versions = { pocketvec: pv.info.version, edgevec: pkgVersion('edgevec'),
    [MINILM_PACKAGE]: pkgVersion(MINILM_PACKAGE) };

  console.log(`pocketvec ${pv.info.version} filtered search by selectivity, WebAssembly ` +
    `(${o.quick ? 'quick' : 'full'} mode), Node ${process.version}`);
  console.log(`kernels ${pv.info.kernels} | ${cpu} | ${os.cpus().length} cpus | load ` +
    `${loadStart.map((x) => x.toFixed(2)).join(' ')} | edgevec ${versions.edgevec ?? 'not installed'}`);
  console.log(`k ${K}, pocketvec ef ${DEFAULT_EF} (its default); timed passes until ${o.minSamples} samples ` +
    `or ${o.budget} s per method and filter; recall@10 against searchExact(q, ${K}, { filter })`);
  if (ev.error) console.log(`edgevec: ${ev.error}`);

  // failures: pocketvec or this harness went wrong (exit status 1);
  // edgevec_problems: what EdgeVec could not do, recorded as a result.
  const failures = [], evProblems = [];
  if (ev.error) evProblems.push(ev.error);
  const t0 = now();
  const results = [];
  for (const name of o.datasets) {
    let ds;
    try {
      ds = name === 'synthetic' ? synthetic(o) : minilm(o);
    } catch (err) {
      if (err instanceof Fatal) throw err;
      failures.push(`${name}: ${errText(err)}`);
      console.log(`\n== ${name}: not run: ${errText(err)} ==`);
      continue;
    }
    results.push(await runDataset(ds, o, pv, ev, failures, evProblems));
  }
  const total = now() - t0;

  const doc = {
    benchmark: 'pocketvec filtered search by selectivity, wasm', schema: 1, mode: o.quick ? 'quick' : 'full',
    command, cwd: relative(root, process.cwd()) || '.', date_utc: date, total_seconds: fix(total, 1),
    ok: failures.length === 0, failures, edgevec_problems: evProblems,
    machine: {
      node: process.version, v8: process.versions.v8, os: `${os.type()} ${os.release()} ${os.arch()}`,
      cpu, nproc: os.cpus().length, kernels: pv.info.kernels,
      loadavg_start: loadStart.map((x) => fix(x, 2)), loadavg_end: os.loadavg().map((x) => fix(x, 2)),
      max_rss_kb: process.resourceUsage().maxRSS,
    },
    versions,
    config: {
      k: K, metric: 'cosine (edgevec: l2 on the unit vectors, the same ranking)', pocketvec_quantization: o.quantization,
      m: M, ef_construction: EF_CONSTRUCTION, pocketvec_ef: DEFAULT_EF, edgevec_ef_search: DEFAULT_EF,
      attribute: `bucket: integer in 0..${BUCKETS - 1}, floor(rank * ${BUCKETS} / n) over a seeded permutation of ` +
        'the documents, so bucket < T matches exactly ceil(T * n / 10000)',
      filters: THRESHOLDS.map((t) => `bucket < ${t}`),
      truth: "pocketvec searchExact(q, 10, { filter }) in a pass of its own before the timed searches (under sq8: exact over the stored codes)",
      pocketvec: 'Index.search(q, 10, { filter }) at the default ef, filter as text',
      fetch_more_then_filter: 'Index.search(q, 10 m) without a filter for m = 1, 2, 4, ... (ef raised to 10 m) until 10 hits pass bucket < T, tested in JS on a bucket-by-id array, or the whole index was fetched; timed over all rounds',
      edgevec: 'EdgeVec.searchWithFilter(q, "bucket < T", 10) (strategy auto); metadata by setMetadata(id, "bucket", JsMetadataValue.fromInteger(b)); strategies from one untimed pass of searchFiltered()',
      exact_over_matching: 'Index.searchExact(q, 10) on an index holding only the matching vectors (at 100 %: the index itself)',
      ratio: 'pocketvec p50 / min(unfiltered p50, exact-over-matching p50), both measured in the same row',
      timer: 'performance.now() around each call, JS glue included; an untimed recall pass first',
      percentiles: 'nearest-rank over per-query samples',
      min_samples: o.minSamples, budget_s: o.budget,
    },
    datasets: results.map(datasetJson),
  };
  writeJson(out, doc);
  const shown = relative(process.cwd(), out);
  console.log(`\ndone in ${f(total, 1)} s; wrote ${shown.startsWith('..') ? out : shown}`);
  if (evProblems.length) {
    console.log(`edgevec (recorded, not a failure of the run):`);
    for (const x of evProblems) console.log(`  - ${x}`);
  }
  if (failures.length) {
    console.log(`FAILED: ${failures.length} problem${failures.length === 1 ? '' : 's'}:`);
    for (const x of failures) console.log(`  - ${x}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  process.stderr.write(`bench_filter_js: FATAL: ${e instanceof Fatal ? e.message : e.stack ?? e}\n`);
  process.exit(1);
});
