// SPDX-License-Identifier: MIT
// bench_wasm: the WebAssembly benchmark of pocketvec under Node
// (`npm run bench:wasm` in js/, which builds what it needs first).
//
//   node bench/bench_wasm.mjs [--quick] [--only NAME] [--storage S] [--out PATH]
//
// The same workloads as bench/bench_native.c, on the same vectors: the
// datasets come from bench/datagen.mjs, a bit-for-bit port of
// common/datagen.c (js/test/datagen.test.mjs checks it against the C), and
// the exact top-10 is shared with the native benchmark through its cache,
// bench/.cache/NAME-truth.bin, whose header holds a fingerprint of every
// float: a cache that does not match is recomputed (in JS, in the same
// double-precision order as pv_dataset_truth) and written back.
//
// For each dataset and storage (F32, SQ8, binary, binary-f32; --storage
// picks one) it builds a cosine index (m 16, efConstruction 200, capacity
// n, seed = the dataset's seed, as native) with addBatch in chunks of
// 1,000, runs check(), then for ef in 8..256 measures
// recall@10 and single-query latency through the public API (Index.search,
// glue included). Then, in the same run, it runs build/bench_native on the
// same workload and prints the WASM/native ratios of build time, p50 and p99.
// With the same seed both sides build the same graph, so their recall should
// agree to the last digit: a difference is reported.
//
// Timing: each search is timed alone with performance.now(), after an
// untimed recall pass and an untimed warm-up pass; percentiles are
// nearest-rank (a measured sample, never an interpolation), as native.
// Each index gets a fresh instance of the module (its own linear memory,
// which never shrinks), so the WASM memory reported is that index's alone.
//
// A table goes to stdout; every number, with the facts of the machine, to
// bench/results/wasm.json (wasm-quick.json with --quick). A failed call ends
// the run without writing results; a failed native run is reported as such,
// in the table and the JSON, and the exit status is 1.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync,
  writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { makeDataset, datasetTruth, defaultClusters, readTruthCache,
  writeTruthCache } from './datagen.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// The shipped bundle: one file, so a new URL is a whole new instance of the
// package (the sources' modules would be shared between instances).
const GLUE = join(root, 'js/pocketvec.js');
const WASM = join(root, 'js/pocketvec.wasm');
const NATIVE = join(root, 'build/bench_native');
const CACHE_DIR = join(root, 'bench/.cache');
const RESULTS_DIR = join(root, 'bench/results');

const K = 10;
const CHUNK = 1000;
const M = 16;
const EF_CONSTRUCTION = 200;
// bench_native.c's sweep and storages; keep them in step.
const SEARCH_EF = [8, 10, 12, 16, 20, 24, 32, 48, 64, 128, 256];
const STORAGES = ['f32', 'sq8', 'binary', 'binary-f32'];

// bench_native.c's workloads; keep the two in step.
const FULL_SETS = [
  { name: '10k-384', n: 10000, dim: 384, nq: 200, seed: 1 },
  { name: '100k-768', n: 100000, dim: 768, nq: 200, seed: 2 },
];
const QUICK_SETS = [
  { name: '5k-384', n: 5000, dim: 384, nq: 200, seed: 1 },
  { name: '10k-768', n: 10000, dim: 768, nq: 200, seed: 2 },
];
// Timed passes over the 200 queries: native runs 10 (2 with --quick); the
// quick mode here keeps 5, so every percentile still rests on 1,000 samples.
const FULL_PASSES = 10;
const QUICK_PASSES = 5;

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

class Fatal extends Error {}
const die = (msg) => { throw new Fatal(msg); };

const now = () => performance.now() / 1e3; // seconds

/** v with thousands separators, no decimals. */
const group = (v) => Math.round(v).toLocaleString('en-US');
const fix = (v, d) => (Number.isFinite(v) ? Number(v.toFixed(d)) : null);
const f = (v, d, w = 0) => (Number.isFinite(v) ? v.toFixed(d) : '-').padStart(w);
const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;

/** Nearest-rank percentile p of n sorted samples (bench_native.c's). */
function percentile(sorted, p) {
  const n = sorted.length, r = p * n;
  let rank = Math.floor(r);
  if (rank < r) rank++;
  return sorted[Math.min(Math.max(rank, 1), n) - 1];
}

/**
 * JSON laid out like bench_native.c's: arrays of plain values, and objects
 * of plain values inside arrays (one per ef), on one line; so runs diff cleanly.
 */
function toJson(v, indent = '', inArray = false) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  const arr = Array.isArray(v);
  const entries = arr ? v.map((x) => [null, x]) : Object.entries(v);
  const plain = (x) => x === null || typeof x !== 'object';
  const [open, close] = arr ? ['[', ']'] : ['{', '}'];
  const oneLine = entries.length === 0 || (arr ? entries.every(([, x]) => plain(x))
    : inArray && entries.every(([, x]) => plain(x) || (Array.isArray(x) && x.every(plain))));
  const ind = oneLine ? '' : `${indent}  `;
  const items = entries.map(([k, x]) =>
    (k === null ? '' : `${JSON.stringify(k)}: `) + toJson(x, ind, arr));
  if (oneLine) return open + items.join(', ') + close;
  return `${open}\n${items.map((x) => ind + x).join(',\n')}\n${indent}${close}`;
}

function usage() {
  return `usage: node bench/bench_wasm.mjs [--quick] [--only NAME] [--storage S] [--out PATH]

  --quick       scaled-down workloads (as bench_native --quick), ${QUICK_PASSES} timed passes;
                writes bench/results/wasm-quick.json
  --only NAME   run one workload: ${FULL_SETS.map((w) => w.name).join(', ')}
                (with --quick: ${QUICK_SETS.map((w) => w.name).join(', ')})
  --storage S   only the storages S (comma-separated): ${STORAGES.join(', ')}
  --out PATH    write the JSON there (default bench/results/wasm.json)

Needs js/pocketvec.wasm and build/bench_native: \`npm run bench:wasm\` in js/
builds both (make wasm build/bench_native in the repository root).
`;
}

function parseArgs(argv) {
  const o = { quick: false, only: null, out: null, storage: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--only' || a === '--out' || a === '--storage') {
      if (i + 1 >= argv.length) die(`${a} needs a value`);
      o[a.slice(2)] = argv[++i];
    } else if (a.startsWith('--only=')) o.only = a.slice(7);
    else if (a.startsWith('--out=')) o.out = a.slice(6);
    else if (a === '--help' || a === '-h') {
      process.stdout.write(usage());
      process.exit(0);
    } else {
      process.stderr.write(`bench_wasm: unknown argument '${a}'\n\n${usage()}`);
      process.exit(2);
    }
  }
  return o;
}

/* ------------------------------------------------------------------------ */
/* Ground truth                                                             */
/* ------------------------------------------------------------------------ */

/** The exact top-K from the native cache if it matches, else computed and cached. */
function truthGet(w, ds) {
  const path = join(CACHE_DIR, `${w.name}-truth.bin`);
  const t0 = now(), why = {};
  let gt = readTruthCache(path, ds, K, w.seed, why);
  if (gt) return { gt, source: 'cache', cacheValid: true, seconds: now() - t0 };
  if (why.reason) process.stderr.write(`  ${relative(root, path)} does not match (${why.reason}): recomputing\n`);
  gt = datasetTruth(ds, K);
  const seconds = now() - t0;
  let cacheValid = true;
  try {
    writeTruthCache(path, ds, K, w.seed, gt);
  } catch (e) {
    cacheValid = false; // costs the native run time only
    process.stderr.write(`  cannot write ${path} (${e.message}): ground truth not cached\n`);
  }
  return { gt, source: 'computed', cacheValid, seconds };
}

/* ------------------------------------------------------------------------ */
/* Index building and measuring                                             */
/* ------------------------------------------------------------------------ */

let instances = 0;

/** A fresh instance of the package (js/pocketvec.js) and its module. */
async function freshModule() {
  // A new URL is a new ES module instance, with its own WebAssembly instance.
  const api = await import(`${pathToFileURL(GLUE).href}?instance=${++instances}`);
  const info = await api.init();
  return { api, info };
}

/** Insert n vectors in chunks of CHUNK; returns [seconds, base index -> id]. */
function build(ix, base, n, dim, label) {
  const tty = process.stderr.isTTY;
  const ids = new Uint32Array(n);
  const t0 = now();
  for (let done = 0; done < n; done += CHUNK) {
    const c = Math.min(CHUNK, n - done);
    ids.set(ix.addBatch(base.subarray(done * dim, (done + c) * dim)), done);
    if (tty) process.stderr.write(`\r  building ${label}: ${group(done + c)} / ${group(n)}`);
  }
  const s = now() - t0;
  if (tty) process.stderr.write(`\r${' '.repeat(70)}\r`);
  return [s, ids];
}

/** Mean over queries of |hits ∩ exact top-K| / K; truth holds base indexes. */
function recallAtK(ix, queries, truth, ids, ef) {
  let found = 0;
  for (let q = 0; q < queries.length; q++) {
    const hits = ix.search(queries[q], K, { ef });
    for (const h of hits)
      for (let j = 0; j < K; j++)
        if (h.id === ids[truth[q * K + j]]) {
          found++;
          break;
        }
  }
  return found / (queries.length * K);
}

/** Latency of single searches at one ef: a warm-up pass, then `passes` timed. */
function latency(ix, queries, ef, passes) {
  const opt = { ef };
  for (const q of queries) ix.search(q, K, opt);
  const samples = new Float64Array(queries.length * passes);
  let s = 0;
  const t0 = performance.now();
  for (let p = 0; p < passes; p++)
    for (const q of queries) {
      const a = performance.now();
      ix.search(q, K, opt);
      samples[s++] = (performance.now() - a) * 1e3;
    }
  const total = (performance.now() - t0) / 1e3;
  let sum = 0;
  for (const x of samples) sum += x;
  samples.sort();
  return {
    samples: s, p50_us: percentile(samples, 0.5), p99_us: percentile(samples, 0.99),
    p999_us: percentile(samples, 0.999), mean_us: sum / s, qps: total > 0 ? s / total : 0,
  };
}

async function runIndex(w, ds, queries, truth, storage, passes) {
  const label = `${w.name} ${storage}`;
  const { api, info } = await freshModule();
  const ix = new api.Index({ dim: w.dim, metric: 'cosine', quantization: storage, m: M,
    efConstruction: EF_CONSTRUCTION, capacity: w.n, seed: w.seed });
  try {
    const [buildS, ids] = build(ix, ds.base, w.n, w.dim, label);
    ix.check();
    const count = ix.size, memory = ix.memoryUsage, wasmMemory = info.memory.buffer.byteLength;
    if (count !== w.n) die(`size is ${count} after inserting ${w.n} vectors on ${label}`);
    console.log(`  ${storage}  built in ${f(buildS, 2)} s (${group(w.n / buildS)} inserts/s), ` +
      `${group(memory / count)} bytes/vector, WASM memory ${mib(wasmMemory)}, check ok`);
    console.log('      ef  recall@10   p50 us   p99 us  p99.9 us   mean us        QPS');
    const search = [];
    for (const ef of SEARCH_EF) {
      const recall = recallAtK(ix, queries, truth, ids, ef);
      const r = { ef, recall_at_10: recall, ...latency(ix, queries, ef, passes) };
      search.push(r);
      console.log(`    ${f(ef, 0, 4)}  ${f(recall, 4, 9)}  ${f(r.p50_us, 1, 7)}  ` +
        `${f(r.p99_us, 1, 7)}  ${f(r.p999_us, 1, 8)}  ${f(r.mean_us, 1, 8)}  ${group(r.qps).padStart(9)}`);
    }
    return { storage, build_s: buildS, count, memory, wasmMemory, search, kernels: info.kernels };
  } catch (e) {
    if (e instanceof Fatal || !e.code) throw e;
    die(`${e.message} (code ${e.code}) on ${label}`);
  } finally {
    ix.free();
  }
}

/* ------------------------------------------------------------------------ */
/* The native run, for the ratios                                           */
/* ------------------------------------------------------------------------ */

/** bench_native on one workload: its dataset entry and facts, or { error }. */
function runNative(w, quick, tmp, storage) {
  // The output path last: the command shown and the read below rely on it.
  const args = [...(quick ? ['--quick'] : []), ...(storage ? ['--storage', storage] : []),
    '--only', w.name, '--out', join(tmp, `${w.name}.json`)];
  const command = `./${relative(root, NATIVE)} ${args.slice(0, -1).join(' ')} <tmp>`;
  if (!existsSync(NATIVE))
    return { command, error: `${NATIVE} is missing: run "make build/bench_native" in ${root}` };
  console.log(`  native: ${command}`);
  const t0 = now();
  // Progress (stderr) passes through; the native table is kept for errors.
  const r = spawnSync(NATIVE, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24 });
  const seconds = now() - t0;
  if (r.error) return { command, error: `cannot run ${NATIVE}: ${r.error.message}` };
  if (r.status !== 0) {
    const tail = String(r.stdout).trim().split('\n').slice(-5).join('\n');
    return { command, error: `exit ${r.status ?? r.signal}${tail ? `; its last output:\n${tail}` : ''}` };
  }
  let json;
  try {
    json = JSON.parse(readFileSync(args.at(-1), 'utf8'));
  } catch (e) {
    return { command, error: `its JSON could not be read: ${e.message}` };
  }
  const set = json.datasets?.find((d) => d.name === w.name);
  if (!set) return { command, error: `its JSON has no dataset named ${w.name}` };
  return { command, seconds, json, set };
}

/** WASM/native ratios per storage and ef, or null where native has no figure. */
function ratios(indexes, nat) {
  return indexes.map((x) => {
    const n = nat.set.indexes.find((i) => i.storage === x.storage);
    const div = (a, b) => (n && Number.isFinite(a) && b > 0 ? a / b : null);
    return {
      storage: x.storage,
      build: div(x.build_s, n?.build_seconds),
      search: x.search.map((r) => {
        const e = n?.search.find((s) => s.ef === r.ef);
        return {
          ef: r.ef,
          recall_wasm: r.recall_at_10, recall_native: e?.recall_at_10 ?? null,
          // native rounds recall to 4 decimals in its JSON: compare at that.
          recall_same: e ? fix(r.recall_at_10, 4) === e.recall_at_10 : null,
          p50_wasm: r.p50_us, p50_native: e?.p50_us ?? null, p50: div(r.p50_us, e?.p50_us),
          p99_wasm: r.p99_us, p99_native: e?.p99_us ?? null, p99: div(r.p99_us, e?.p99_us),
        };
      }),
    };
  });
}

/* ------------------------------------------------------------------------ */
/* A dataset                                                                */
/* ------------------------------------------------------------------------ */

async function runDataset(w, o, tmp, failures) {
  console.log(`\n== ${w.name}: ${group(w.n)} vectors x ${w.dim} dims, ${w.nq} queries, seed ${w.seed} ==`);
  let t0 = now();
  const ds = makeDataset(w.dim, w.n, w.nq, 0, w.seed);
  const generateS = now() - t0;
  const truth = truthGet(w, ds);
  console.log(`  generated in ${f(generateS, 2)} s (bench/datagen.mjs); exact top-${K} ` +
    `${truth.source === 'cache' ? 'read from the native cache' : 'computed by brute force in JS'} ` +
    `in ${f(truth.seconds, 2)} s`);
  const queries = Array.from({ length: w.nq }, (_, q) => ds.queries.subarray(q * w.dim, (q + 1) * w.dim));

  const indexes = [];
  for (const storage of STORAGES)
    if (!o.storage || o.storage.split(',').includes(storage))
      indexes.push(await runIndex(w, ds, queries, truth.gt, storage, o.passes));

  const nat = runNative(w, o.quick, tmp, o.storage);
  let table = null;
  if (nat.error) {
    failures.push(`native run on ${w.name}: ${nat.error}`);
    console.log(`  native run FAILED: ${nat.error}\n  no WASM/native ratios for ${w.name}`);
  } else {
    // Native regenerates the data in C and checks it against the cache,
    // which now matches our floats: a recomputation there means the two
    // generators disagree.
    if (truth.cacheValid && !nat.set.truth_cached)
      failures.push(`native recomputed the truth of ${w.name}: its vectors differ from bench/datagen.mjs`);
    table = ratios(indexes, nat);
    console.log(`  native done in ${f(nat.seconds, 1)} s (kernels ${nat.json.machine?.kernels}, ` +
      `${nat.json.config?.timed_passes} timed passes); WASM / native:`);
    console.log('    storage   ef  recall wasm / native     p50 us wasm / native  ratio     ' +
      'p99 us wasm / native  ratio');
    for (const t of table) {
      const n = nat.set.indexes.find((i) => i.storage === t.storage);
      console.log(`    ${t.storage.padStart(7)}  build ${f(indexes.find((x) => x.storage === t.storage).build_s, 2)} s / ` +
        `${f(n?.build_seconds, 2)} s = ${f(t.build, 2)}x`);
      for (const r of t.search)
        console.log(`    ${''.padStart(7)}  ${f(r.ef, 0, 3)}  ${f(r.recall_wasm, 4, 6)} / ${f(r.recall_native, 4, 6)} ` +
          `${r.recall_same ? '(same)   ' : 'DIFFERS  '}  ${f(r.p50_wasm, 1, 8)} / ${f(r.p50_native, 1, 8)}  ` +
          `${f(r.p50, 2, 5)}x  ${f(r.p99_wasm, 1, 8)} / ${f(r.p99_native, 1, 8)}  ${f(r.p99, 2, 5)}x`);
    }
    const differ = table.flatMap((t) => t.search.filter((r) => r.recall_same === false));
    if (differ.length)
      console.log(`  note: recall differs from native at ${differ.length} (storage, ef) points; ` +
        'the same seed should give the same graph');
  }
  return { w, generateS, truth, indexes, nat, table };
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */
/* ------------------------------------------------------------------------ */

function datasetJson(d) {
  const { w, nat } = d;
  return {
    name: w.name, n: w.n, dim: w.dim, queries: w.nq, seed: w.seed, clusters: defaultClusters(w.n),
    generate_seconds: fix(d.generateS, 3),
    truth: d.truth.source, truth_seconds: fix(d.truth.seconds, 3),
    indexes: d.indexes.map((x) => ({
      storage: x.storage,
      build_seconds: fix(x.build_s, 3),
      inserts_per_second: fix(x.count / x.build_s, 0),
      count: x.count,
      memory_bytes: x.memory,
      bytes_per_vector: fix(x.memory / x.count, 1),
      wasm_memory_bytes: x.wasmMemory,
      check: 'ok',
      search: x.search.map((r) => ({
        ef: r.ef, recall_at_10: fix(r.recall_at_10, 4), samples: r.samples,
        p50_us: fix(r.p50_us, 1), p99_us: fix(r.p99_us, 1), p999_us: fix(r.p999_us, 1),
        mean_us: fix(r.mean_us, 1), qps: fix(r.qps, 0),
      })),
    })),
    native: nat.error ? { ok: false, command: nat.command, error: nat.error } : {
      ok: true, command: nat.command, seconds: fix(nat.seconds, 1),
      kernels: nat.json.machine?.kernels ?? null, compiler: nat.json.machine?.compiler ?? null,
      timed_passes: nat.json.config?.timed_passes ?? null, truth_cached: nat.set.truth_cached,
      indexes: nat.set.indexes,
    },
    wasm_over_native: d.table && d.table.map((t) => ({
      storage: t.storage, build: fix(t.build, 2),
      search: t.search.map((r) => ({ ef: r.ef, p50: fix(r.p50, 2), p99: fix(r.p99, 2),
        recall_same: r.recall_same })),
    })),
  };
}

function writeJson(path, doc) {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${toJson(doc)}\n`);
  renameSync(tmp, path);
}

/* ------------------------------------------------------------------------ */
/* Main                                                                     */
/* ------------------------------------------------------------------------ */

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const sets = o.quick ? QUICK_SETS : FULL_SETS;
  o.passes = o.quick ? QUICK_PASSES : FULL_PASSES;
  if (o.only && !sets.some((w) => w.name === o.only)) {
    process.stderr.write(`bench_wasm: no workload named '${o.only}' in ${o.quick ? 'quick' : 'full'} ` +
      `mode; choose one of ${sets.map((w) => w.name).join(', ')}\n`);
    process.exit(2);
  }
  const out = resolve(o.out ?? join(RESULTS_DIR, o.quick ? 'wasm-quick.json' : 'wasm.json'));
  if (!existsSync(WASM)) die(`${WASM} is missing: run "make wasm" in ${root}`);

  const command = ['node', relative(process.cwd(), process.argv[1]), ...process.argv.slice(2)].join(' ');
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const loadStart = os.loadavg();
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  const { info } = await freshModule();

  console.log(`pocketvec ${info.version} WASM benchmark (${o.quick ? 'quick' : 'full'} mode), Node ${process.version}`);
  console.log(`kernels ${info.kernels} | ${cpu} | ${os.cpus().length} cpus | load ` +
    `${loadStart.map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`cosine, m ${M}, efConstruction ${EF_CONSTRUCTION}, addBatch of ${CHUNK}, k ${K}; ` +
    `latency: 1 warm-up + ${o.passes} timed passes over the queries, performance.now() ` +
    'around each search(), single thread');
  console.log('recall@10 is vs exact neighbours of the original floats; the native run ' +
    'follows each dataset, on the same vectors');

  const tmp = mkdtempSync(join(os.tmpdir(), 'pv-bench-wasm-'));
  const failures = [];
  const t0 = now();
  const results = [];
  try {
    for (const w of sets)
      if (!o.only || o.only === w.name) results.push(await runDataset(w, o, tmp, failures));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const total = now() - t0;

  console.log('\n== summary: WASM / native ==');
  for (const d of results) {
    if (!d.table) {
      console.log(`  ${d.w.name}: no ratios (the native run failed)`);
      continue;
    }
    for (const t of d.table) {
      const range = (k) => {
        const v = t.search.map((r) => r[k]).filter(Number.isFinite);
        return v.length ? `${f(Math.min(...v), 2)}x .. ${f(Math.max(...v), 2)}x` : '-';
      };
      console.log(`  ${d.w.name.padEnd(9)} ${t.storage}: build ${f(t.build, 2)}x, p50 ${range('p50')}, ` +
        `p99 ${range('p99')} over ef ${SEARCH_EF.join(', ')}`);
    }
  }

  const doc = {
    benchmark: 'pocketvec wasm', schema: 1, mode: o.quick ? 'quick' : 'full',
    command, cwd: relative(root, process.cwd()) || '.',
    date_utc: date, total_seconds: fix(total, 1),
    ok: failures.length === 0, failures,
    machine: {
      pocketvec_version: info.version, kernels: info.kernels, node: process.version,
      v8: process.versions.v8, os: `${os.type()} ${os.release()} ${os.arch()}`, cpu,
      nproc: os.cpus().length,
      loadavg_start: loadStart.map((x) => fix(x, 2)), loadavg_end: os.loadavg().map((x) => fix(x, 2)),
      max_rss_kb: process.resourceUsage().maxRSS,
    },
    config: {
      metric: 'cosine', m: M, ef_construction: EF_CONSTRUCTION, k: K, batch: CHUNK,
      ef_search: SEARCH_EF, warmup_passes: 1, timed_passes: o.passes,
      data: 'bench/datagen.mjs, the bit-for-bit port of common/datagen.c',
      truth: 'exact top-k by brute force in double precision over the original floats',
      timer: 'performance.now() around each Index.search() call, JS glue included',
      percentiles: 'nearest-rank over per-query samples',
      wasm_memory: 'memory.buffer.byteLength after the build, one fresh module instance per index',
    },
    datasets: results.map(datasetJson),
  };
  if (!o.out) mkdirSync(RESULTS_DIR, { recursive: true });
  writeJson(out, doc);
  const shown = relative(process.cwd(), out);
  console.log(`\ndone in ${f(total, 1)} s; wrote ${shown.startsWith('..') ? out : shown}`);
  if (failures.length) {
    console.log(`FAILED: ${failures.length} problem${failures.length === 1 ? '' : 's'}:`);
    for (const x of failures) console.log(`  - ${x}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  process.stderr.write(`bench_wasm: FATAL: ${e instanceof Fatal ? e.message : e.stack ?? e}\n`);
  process.exit(1);
});
