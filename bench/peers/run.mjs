// SPDX-License-Identifier: MIT
// The peer benchmark: pocketvec (WASM F32, SQ8 and binary, and native) against
// edgevec, hnswlib-wasm, voy-search and hnswlib-node, in one run, on the
// same data and the same machine.
//
//   cd bench && npm run bench                 # full: minilm, word100, 10k-384, 100k-768
//   cd bench && npm run bench -- --quick      # minutes: minilm, 5k-384
//   node peers/run.mjs [--quick] [--datasets a,b] [--libs a,b] [--out DIR]
//   node peers/run.mjs --smoke        # make check: the harness itself, 2k x 128
//
// Each library runs on each dataset in a child process of its own
// (child.mjs; the C driver build/peer_native for native pocketvec), one
// after another: never two at once, on a 2-core machine. A library that
// fails to load, crashes, or runs past its time limit is recorded as a
// failure with what it said, and the run goes on.
//
// Output: bench/results/<date>-<dataset>.json per dataset (every figure,
// the command, the machine, Node and the load average), then
// bench/results/REPORT.md and an SVG chart per dataset (report.mjs) from
// the newest result of each dataset.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { gzipSync } from 'node:zlib';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepare } from './data.mjs';
import { NODE_FLAGS, pkgVersion } from './adapters.mjs';
import { writeReport } from './report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const bench = join(here, '..');
const root = join(bench, '..');
let RESULTS = join(bench, 'results');
const NATIVE = join(root, 'build/peer_native');

const M = 16, EF_CONSTRUCTION = 200, MIN_SAMPLES = 1000;
const EFS = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256];
const QUICK_EFS = [10, 16, 32, 64, 128];
const SMOKE_EFS = [10, 32];

// edgevec fixes ef at build time, so each ef is a full rebuild; at 100k x
// 768 one build takes most of an hour, so it gets one point there: ef 16,
// where HNSW at m 16 reaches recall 0.95 on that set.
const EDGEVEC_EFS = { '100k-768': [16], '10k-384': [10, 16, 32, 64], 'word100': [32, 64], '5k-384': [16, 64] };

// Time limit per library and dataset, seconds: a library past it is
// killed and recorded as such. voy-search is an exact scan, ~0.5 s a query
// at 100k x 768: 1,000 timed queries would take most of the limit.
const LIMIT = { '100k-768': 3600, '10k-384': 1200 };
const DEFAULT_LIMIT = 900;

const LIBS = ['pocketvec-native-f32', 'pocketvec-native-sq8', 'pocketvec-native-binary', 'pocketvec-wasm-sq8',
  'pocketvec-wasm-f32', 'pocketvec-wasm-binary',
  'hnswlib-node', 'hnswlib-wasm', 'edgevec', 'voy-search'];

/** The shipped files of each library: what a web page downloads (or, for
 * the native ones, what the process loads). Paths from bench/. */
const SHIPPED = {
  'pocketvec-wasm': ['../js/pocketvec.js', '../js/pocketvec.wasm'],
  edgevec: ['node_modules/edgevec/edgevec.js', 'node_modules/edgevec/edgevec_bg.wasm', 'node_modules/edgevec/snippets'],
  'hnswlib-wasm': ['node_modules/hnswlib-wasm/dist/hnswlib.js', 'node_modules/hnswlib-wasm/dist/hnswlib-317962d7.js'],
  'voy-search': ['node_modules/voy-search/voy_search.js', 'node_modules/voy-search/voy_search_bg.js',
    'node_modules/voy-search/voy_search_bg.wasm'],
  'hnswlib-node': ['node_modules/hnswlib-node/lib/index.js', 'node_modules/hnswlib-node/build/Release/addon.node'],
};

function usage() {
  return `usage: node peers/run.mjs [--quick] [--datasets LIST] [--libs LIST]
  --quick          minilm and 5k-384, ef ${QUICK_EFS.join(',')}: a few minutes
  --datasets LIST  comma-separated: minilm, word100, 10k-384, 100k-768, 5k-384, 2k-128
  --libs LIST      comma-separated, of: ${LIBS.join(', ')}
  --out DIR        write results and the report there (default bench/results)
  --smoke          2k-128, ef ${SMOKE_EFS.join(',')}, results to a temporary directory; fails
                   unless every pocketvec contestant ran right and every peer ran or
                   was recorded as failed (a check of this harness, not a benchmark)
`;
}

function parseArgs(argv) {
  const o = { quick: false, smoke: false, datasets: null, libs: null, out: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--smoke') o.smoke = true;
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--datasets' || a === '--libs') o[a.slice(2)] = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '-h' || a === '--help') {
      process.stdout.write(usage());
      process.exit(0);
    } else {
      process.stderr.write(`run.mjs: unknown argument '${a}'\n${usage()}`);
      process.exit(2);
    }
  }
  for (const l of o.libs ?? [])
    if (!LIBS.includes(l)) {
      process.stderr.write(`run.mjs: no library named '${l}'\n${usage()}`);
      process.exit(2);
    }
  return o;
}

/** Sum of raw and gzip -9 sizes of files (directories: every file inside). */
function shippedSize(paths) {
  const files = [];
  const walk = (p) => {
    if (!existsSync(p)) throw new Error(`${p} is missing`);
    try {
      for (const e of readdirSync(p)) walk(join(p, e));
    } catch (e) {
      if (e.code !== 'ENOTDIR') throw e;
      files.push(p);
    }
  };
  for (const p of paths) walk(join(bench, p));
  let raw = 0, gz = 0;
  for (const f of files) {
    const b = readFileSync(f);
    raw += b.length;
    gz += gzipSync(b, { level: 9 }).length;
  }
  return { files: files.map((f) => relative(bench, f)), raw_bytes: raw, gzip9_bytes: gz };
}

/** Run a child; resolves { json, error, seconds }. Its stderr is shown. */
function runChild(cmd, args, limitS, label) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let out = '', err = '', timedOut = false;
    const child = spawn(cmd, args, { cwd: bench, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, limitS * 1000);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      err += d;
      // Emscripten's file-system chatter is not worth a line each.
      for (const line of String(d).split('\n'))
        if (line.trim() && !/jsFS|IDBFS|Mounting/.test(line)) process.stderr.write(`  [${label}] ${line}\n`);
    });
    child.on('error', (e) => { clearTimeout(timer); resolve({ error: `cannot start: ${e.message}`, seconds: 0 }); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1e3;
      let json = null;
      // The last line that is a JSON object: some libraries print to
      // stdout on their own (hnswlib-wasm's file system, at exit).
      for (const line of out.trim().split('\n').reverse()) {
        if (!line.startsWith('{')) continue;
        try { json = JSON.parse(line); break; } catch { /* keep looking */ }
      }
      if (timedOut) return resolve({ error: `no result within its ${limitS} s limit (killed)`, seconds });
      if (json && !json.error && code === 0) return resolve({ json, seconds });
      const why = json?.error ?? `exit ${code ?? signal}; ${err.trim().split('\n').slice(-3).join(' | ')}`;
      resolve({ error: why.slice(0, 1500), seconds });
    });
  });
}

function machine() {
  return {
    node: process.version, v8: process.versions.v8, os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown', nproc: os.cpus().length,
    memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
  };
}

/** The commit measured, and whether the tree had changes on top of it:
 * figures are only comparable across runs of the same code. */
function source() {
  try {
    const git = (...a) => execFileSync('git', a, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    // Porcelain lines are "XY path": not trimmed, X may be a space.
    const changed = git('status', '--porcelain', '--untracked-files=no', '--', 'src', 'include', 'wasm', 'js', 'bench/peers', 'bench/peer_native.c', 'Makefile')
      .split('\n').filter(Boolean).map((l) => l.slice(3));
    return { commit: git('rev-parse', 'HEAD').trim(), changed_files: changed };
  } catch {
    return { commit: null, changed_files: [], note: 'not a git checkout' };
  }
}

const fmtLoad = () => os.loadavg().map((x) => +x.toFixed(2));

async function runDataset(name, o, command, src) {
  const { dir, meta } = prepare(name, (s) => console.log(s));
  const efs = o.smoke ? SMOKE_EFS : o.quick ? QUICK_EFS : EFS;
  const limit = LIMIT[name] ?? DEFAULT_LIMIT;
  const passes = Math.max(2, Math.ceil(MIN_SAMPLES / meta.queries));
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const loadStart = fmtLoad();
  console.log(`\n== ${name}: ${meta.n} x ${meta.dim}, ${meta.queries} queries${meta.loo ? ' (leave-one-out)' : ''}; ` +
    `load ${loadStart.join(' ')} ==`);
  const results = [];
  for (const lib of o.libs ?? LIBS) {
    const label = lib;
    const t = new Date().toISOString();
    let r;
    if (lib.startsWith('pocketvec-native')) {
      const storage = lib.slice('pocketvec-native-'.length);
      r = await runChild(NATIVE, [dir, storage, String(M), String(EF_CONSTRUCTION), String(meta.seed ?? 1),
        String(passes), efs.join(',')], limit, label);
      if (r.json) r.json = { ...r.json, library: lib, inserts_per_second: +(r.json.n / r.json.build_seconds).toFixed(1), notes: [`kernels ${r.json.kernels}`, `storage ${storage}`,
        'C driver bench/peer_native.c; load = pv_load from a buffer in memory'],
      load: { ms: r.json.load_ms, in_place_ms: r.json.load_in_place_ms, bytes: r.json.serialized_bytes, same_results: null } };
    } else {
      const libEfs = lib === 'edgevec' && !o.smoke ? EDGEVEC_EFS[name] ?? efs : efs;
      const opts = { m: M, efConstruction: EF_CONSTRUCTION, seed: meta.seed ?? 1, efs: libEfs, passes, minSamples: MIN_SAMPLES };
      r = await runChild(process.execPath, [...(NODE_FLAGS[lib] ?? []), join(here, 'child.mjs'), lib, dir,
        JSON.stringify(opts)], limit, label);
    }
    const entry = r.json ? { library: lib, ok: true, started_utc: t, wall_seconds: +r.seconds.toFixed(1), ...r.json }
      : { library: lib, ok: false, started_utc: t, wall_seconds: +r.seconds.toFixed(1), error: r.error };
    if (!r.json) console.log(`  ${lib}: FAILED: ${r.error.split('\n')[0]}`);
    else console.log(`  ${lib}: built in ${entry.build_seconds.toFixed(2)} s; ${entry.search.length} ef points; ` +
      `${r.seconds.toFixed(0)} s in all`);
    results.push(entry);
  }

  // edgevec's cosine metric, checked on this dataset's first vectors: why
  // it is run as l2 on unit vectors (see adapters.mjs).
  let edgevecCosine = null;
  if ((o.libs ?? LIBS).includes('edgevec')) {
    const r = await runChild(process.execPath, ['--input-type=module', '-e', `
      import { readFileSync } from 'node:fs';
      import { edgevecCosineCheck } from ${JSON.stringify(join(here, 'adapters.mjs'))};
      import { datasetTruth } from ${JSON.stringify(join(bench, 'datagen.mjs'))};
      const dim = ${meta.dim}, n = Math.min(1000, ${meta.n});
      const b = readFileSync(${JSON.stringify(join(dir, 'base.f32'))});
      const base = new Float32Array(b.buffer, b.byteOffset, n * dim);
      const queries = base.subarray(0, 50 * dim);
      const gt = datasetTruth({ dim, n, nq: 50, base, queries }, 10);
      const recall = await edgevecCosineCheck(base, queries, gt, n, dim, 50);
      process.stdout.write(JSON.stringify({ n, queries: 50, recall_at_10: recall }) + '\\n');`], 600, 'edgevec cosine');
    edgevecCosine = r.json ? { ...r.json, what: 'EdgeVecConfig metric "cosine", ef_search 200: recall@10 of 50 base vectors as queries against the first n (each finds itself first)' }
      : { error: r.error };
    console.log(`  edgevec under its own cosine metric: ${r.json ? `recall@10 ${r.json.recall_at_10}` : `failed: ${r.error}`}`);
  }

  const shipped = {};
  for (const [k, v] of Object.entries(SHIPPED)) {
    try { shipped[k] = shippedSize(v); } catch (e) { shipped[k] = { error: e.message }; }
  }
  const doc = {
    benchmark: 'pocketvec peers', schema: 1, command,
    // A run of some libraries only is kept apart: the report shows it only
    // when no complete run of the dataset exists.
    mode: o.libs ? 'partial' : o.smoke ? 'smoke' : o.quick ? 'quick' : 'full',
    date_utc: date, source: src, dataset: meta,
    machine: { ...machine(), loadavg_start: loadStart, loadavg_end: fmtLoad() },
    config: { metric: 'cosine (edgevec: l2 on unit vectors)', m: M, ef_construction: EF_CONSTRUCTION, k: 10,
      ef_search: efs, edgevec_ef_search: EDGEVEC_EFS[name] ?? efs, min_timed_samples: MIN_SAMPLES, timed_passes: passes,
      timer: 'performance.now() around each library search call, JS glue included (native: CLOCK_MONOTONIC)',
      percentiles: 'nearest-rank over per-query samples, after one untimed recall pass and one warm-up pass',
      memory: 'WASM: memory.buffer.byteLength after the build; native: RSS growth over the build; memory_bytes: the library\'s own count where it has one',
      load: 'best of three opens of the serialized index (same process, after the build)' },
    versions: Object.fromEntries(['edgevec', 'hnswlib-wasm', 'voy-search', 'hnswlib-node'].map((p) => [p, pkgVersion(p)])),
    edgevec_cosine_check: edgevecCosine,
    shipped, results,
  };
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${date.slice(0, 10)}-${name}${o.smoke ? '-smoke' : o.quick ? '-quick' : ''}${o.libs ? '-partial' : ''}.json`);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(doc, null, 1)}\n`);
  renameSync(`${file}.tmp`, file);
  console.log(`  wrote ${relative(process.cwd(), file)}`);
  return file;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const datasets = o.datasets ?? (o.smoke ? ['2k-128'] : o.quick ? ['minilm', '5k-384'] : ['minilm', 'word100', '10k-384', '100k-768']);
  if (o.out) RESULTS = resolve(o.out);
  else if (o.smoke) RESULTS = mkdtempSync(join(os.tmpdir(), 'pv-peers-smoke-'));
  if (!existsSync(NATIVE)) console.log(`note: ${NATIVE} is missing (make build/peer_native): native pocketvec will fail`);
  const command = `cd bench && node peers/run.mjs ${process.argv.slice(2).join(' ')}`.trim();
  console.log(`pocketvec peer benchmark (${o.quick ? 'quick' : 'full'}), Node ${process.version}, ` +
    `${os.cpus().length} x ${os.cpus()[0]?.model}, load ${fmtLoad().join(' ')}`);
  const files = [];
  // Read once, at the start: a commit made while the run goes on (it takes
  // an hour and a half) is not what ran.
  const src = source();
  for (const d of datasets) files.push(await runDataset(d, o, command, src));
  const report = writeReport(RESULTS);
  console.log(`\nwrote ${relative(process.cwd(), report)}`);
  if (o.smoke) {
    const problems = smokeProblems(JSON.parse(readFileSync(files[0], 'utf8')), report);
    if (!o.out) rmSync(RESULTS, { recursive: true, force: true });
    for (const p of problems) console.log(`smoke: FAIL ${p}`);
    console.log(`smoke: ${problems.length ? 'FAILED' : 'ok'}`);
    if (problems.length) process.exitCode = 1;
  }
}

/** What is wrong with a smoke run's result: pocketvec's contestants must
 * all have run, with sane recall and a reload that answers the same; each
 * peer must have a result or a recorded failure; the report and chart must
 * name every library. */
function smokeProblems(doc, reportPath) {
  const out = [];
  for (const lib of LIBS) {
    const e = doc.results.find((r) => r.library === lib);
    if (!e) { out.push(`${lib}: no entry`); continue; }
    if (!lib.startsWith('pocketvec')) {
      if (!e.ok && !e.error) out.push(`${lib}: failed without saying why`);
      continue;
    }
    if (!e.ok) { out.push(`${lib}: ${e.error}`); continue; }
    const last = e.search.at(-1);
    if (e.search.length !== SMOKE_EFS.length) out.push(`${lib}: ${e.search.length} ef points, expected ${SMOKE_EFS.length}`);
    if (!(last?.recall_at_10 >= 0.95)) out.push(`${lib}: recall@10 ${last?.recall_at_10} at ef ${last?.ef}`);
    if (!(last?.samples >= MIN_SAMPLES)) out.push(`${lib}: ${last?.samples} timed samples`);
    if (!(last.p50_us > 0 && last.p50_us <= last.p99_us && last.p99_us <= last.p999_us)) out.push(`${lib}: percentiles out of order`);
    if (!(e.load?.ms > 0)) out.push(`${lib}: no load time (${JSON.stringify(e.load)})`);
    if (lib.includes('wasm') && e.load?.same_results !== 1) out.push(`${lib}: reloaded index answers differently`);
  }
  const md = readFileSync(reportPath, 'utf8');
  for (const lib of LIBS) if (!md.includes(`| ${lib} |`)) out.push(`REPORT.md has no row for ${lib}`);
  if (!existsSync(join(dirname(reportPath), `${doc.dataset.name}.svg`))) out.push('no chart written');
  return out;
}

main().catch((e) => {
  process.stderr.write(`run.mjs: FATAL: ${e?.stack ?? e}\n`);
  process.exit(1);
});
