// SPDX-License-Identifier: MIT
// bench_text: pocketvec's full-text (BM25) and hybrid search against
// minisearch, flexsearch and Orama, in one run, on real text: the GCIDE
// dictionary (126k short articles) and the 778 SAP Fiori docs with their
// MiniLM vectors. bench/text/data.mjs makes the data; README.md says what
// is measured and how each engine is set up.
//
//   make wasm && (cd bench/text && npm ci) && node bench/text/data.mjs
//   node bench/text/bench_text.mjs                  # full: both sets, every engine
//        -> bench/results/text.json and bench/text/REPORT-text.md
//   node bench/text/bench_text.mjs --smoke          # the harness itself, < 60 s
//   node bench/text/bench_text.mjs --set gcide --n 20000 --queries 200 \
//        --engines pocketvec,minisearch --out /tmp/t.json
//   node bench/text/bench_text.mjs --help           # every flag
//
// Each engine runs on each set in a child process of its own (this file
// with --child, under node --expose-gc), one after another: never two at
// once. A child loads its engine, reads the data, runs global.gc(), takes
// process.memoryUsage(), builds, runs gc() again: memory is the growth of
// heapUsed + external (external holds ArrayBuffers and WebAssembly
// memories: pocketvec's index lives in the latter, which arrayBuffers does
// not count). Then for each kind of query the engine can run (text;
// prefix, the last term cut; on Fiori hybrid and vector), an untimed pass
// over every query records the top k, more untimed searches warm up for
// --warmup seconds (the JITs settle late: see the README), then timed passes (each
// call alone, performance.now(), the engine's JS included, an async result
// awaited) repeat until --min-samples samples or --budget seconds, at least
// one pass; p50 and p99 are nearest-rank. An engine that fails to load,
// throws, crashes or passes --limit seconds is recorded with its error.
//
// The parent then compares top-k lists: the overlap of each engine's top k
// with pocketvec's (and with bm25-ref's, a plain JS BM25 that needs no
// build), mean over queries where the reference found something. It is a
// sanity check, not a recall: tokenizers and scores differ (README.md).
// The goal of the issue, per set: pocketvec's text p50 / the fastest
// peer's (<= 0.5) and its memory / the smallest peer's (<= 1).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRun, prepare } from './data.mjs';
import { DEFAULT_POCKETVEC, ENGINES, pkgVersion } from './engines.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const SETS = ['gcide', 'fiori'];
const MODES = ['text', 'prefix', 'hybrid', 'vector'];
const FULL = { n: 0, queries: 1000, minSamples: 1000, budget: 60, limit: 1800, warmup: 2 };
const SMOKE = { n: { gcide: 2000, fiori: 200 }, queries: 100, minSamples: 100, budget: 1, limit: 40, warmup: 0 };

const HELP = `node bench/text/bench_text.mjs [options]
  --set gcide|fiori|all    sets to run (all)
  --n N                    documents: every (count/N)-th of the set (all)
  --queries Q              queries per kind (1000)
  --k K                    results per query (10)
  --engines a,b,...        ${Object.keys(ENGINES).join(',')} (all)
  --out FILE               results JSON (bench/results/text.json; --smoke: bench/text/data/smoke.json)
  --report FILE            markdown table (bench/text/REPORT-text.md; --smoke: bench/text/data/REPORT-text-smoke.md)
  --pocketvec FILE         the pocketvec build to load (js/pocketvec.js; or env POCKETVEC_JS)
  --min-samples S          timed searches per kind, at least (1000)
  --budget SECONDS         time per kind before stopping short of S (60)
  --warmup SECONDS         untimed searches per kind first, for this long (2)
  --limit SECONDS          per engine and set, then it is killed and recorded (1800)
  --smoke                  tiny sizes, every engine, < 60 s; exits 1 if the harness is broken`;

/* ------------------------------------------------------------ options -- */

function parseArgs(argv) {
  const o = { set: 'all', k: 10, engines: Object.keys(ENGINES), smoke: false, pocketvec: process.env.POCKETVEC_JS || DEFAULT_POCKETVEC };
  const num = (v, name) => {
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0) throw new Error(`${name} wants a number, got ${JSON.stringify(v)}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} wants a value`);
      return argv[++i];
    };
    switch (a) {
      case '--set': o.set = v(); break;
      case '--n': o.n = num(v(), a); break;
      case '--queries': o.queries = num(v(), a); break;
      case '--k': o.k = num(v(), a); break;
      case '--engines': o.engines = v().split(',').filter(Boolean); break;
      case '--out': o.out = resolve(v()); break;
      case '--report': o.report = resolve(v()); break;
      case '--pocketvec': o.pocketvec = resolve(v()); break;
      case '--min-samples': o.minSamples = num(v(), a); break;
      case '--budget': o.budget = num(v(), a); break;
      case '--warmup': o.warmup = num(v(), a); break;
      case '--limit': o.limit = num(v(), a); break;
      case '--smoke': o.smoke = true; break;
      case '--child': o.child = v(); break;
      case '--help': case '-h': console.log(HELP); process.exit(0); break;
      default: throw new Error(`unknown argument ${a} (--help)`);
    }
  }
  for (const e of o.engines) if (!ENGINES[e]) throw new Error(`no engine named ${e} (${Object.keys(ENGINES).join(', ')})`);
  o.sets = o.set === 'all' ? SETS : o.set.split(',');
  for (const s of o.sets) if (!SETS.includes(s)) throw new Error(`no set named ${s} (gcide, fiori, all)`);
  const d = o.smoke ? SMOKE : FULL;
  o.queries ??= d.queries;
  o.minSamples ??= d.minSamples;
  o.budget ??= d.budget;
  o.warmup ??= d.warmup;
  o.limit ??= d.limit;
  o.nFor = (set) => o.n ?? (o.smoke ? SMOKE.n[set] : 0);
  o.out ??= o.smoke ? join(here, 'data/smoke.json') : join(root, 'bench/results/text.json');
  o.report ??= o.smoke ? join(here, 'data/REPORT-text-smoke.md') : join(here, 'REPORT-text.md');
  return o;
}

/* -------------------------------------------------------------- child -- */

const pct = (sorted, p) => (sorted.length ? sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] : null);
const round = (x, d = 4) => (x == null ? null : +x.toFixed(d));

function memNow() {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

async function runChild(spec) {
  const out = { engine: spec.engine, set: spec.set, ok: false };
  const save = () => writeFileSync(spec.outFile, JSON.stringify(out));
  try {
    if (typeof global.gc !== 'function') throw new Error('the child needs node --expose-gc');
    const run = loadRun(spec.set, spec.n, spec.queries);
    const dim = spec.set === 'fiori' ? run.meta.dim : 8;
    out.documents = run.docs.length;
    const def = ENGINES[spec.engine];
    let e;
    try {
      e = await def.load({ dim, pocketvec: spec.pocketvec, vectors: spec.set === 'fiori' });
    } catch (err) {
      out.error = err.message;
      out.unavailable = !!err.unavailable;
      save();
      return;
    }
    Object.assign(out, { version: e.version, config: e.config, scores: e.scores, notes: e.notes });
    global.gc(); global.gc();
    const m0 = memNow();
    const t0 = performance.now();
    await e.build(run.docs);
    out.build_s = round((performance.now() - t0) / 1000, 3);
    global.gc(); global.gc();
    const m1 = memNow();
    out.memory = {
      bytes: m1.heap + m1.external - m0.heap - m0.external,
      heap_used_bytes: m1.heap - m0.heap, external_bytes: m1.external - m0.external,
      array_buffers_bytes: m1.arrayBuffers - m0.arrayBuffers, rss_bytes: m1.rss - m0.rss,
      ...(await e.memory(run.docs)),
    };
    const kinds = {
      text: e.search && { fn: e.search, qs: run.text.map((q) => q.q) },
      prefix: e.searchPrefix && { fn: e.searchPrefix, qs: run.text.map((q) => q.prefix) },
      hybrid: e.searchHybrid && run.hybrid.length && { fn: e.searchHybrid, qs: run.hybrid.map((q) => ({ text: q.q, vector: q.vector })) },
      vector: e.searchVector && run.hybrid.length && { fn: e.searchVector, qs: run.hybrid.map((q) => q.vector) },
    };
    out.modes = {};
    for (const mode of MODES) {
      const kd = kinds[mode];
      if (!kd) continue;
      const { fn, qs } = kd;
      const r = { queries: qs.length };
      try {
        const top = [];
        for (const q of qs) {
          let res = fn(q, spec.k);
          if (res && typeof res.then === 'function') { r.async = true; res = await res; }
          top.push(res.map(String));
        }
        const hits = top.map((t) => t.length);
        r.hits_mean = round(hits.reduce((a, b) => a + b, 0) / qs.length, 2);
        r.zero_hit_queries = hits.filter((h) => h === 0).length;
        // More untimed passes, for --warmup seconds in all: the JITs (JS
        // and WebAssembly tiers) settle over thousands of calls, not one
        // pass, and some engines far later than others (bench/text/README.md).
        // Stops mid-pass: a slow engine's pass takes minutes.
        const warm0 = performance.now(), until = spec.warmup * 1000;
        let warm = 0;
        while (performance.now() - warm0 < until)
          for (const q of qs) {
            const res = fn(q, spec.k);
            if (res && typeof res.then === 'function') await res;
            warm++;
            if (performance.now() - warm0 >= until) break;
          }
        r.warmup_searches = warm;
        const times = [];
        const start = performance.now();
        do {
          for (const q of qs) {
            const t = performance.now();
            const res = fn(q, spec.k);
            if (res && typeof res.then === 'function') await res;
            times.push(performance.now() - t);
          }
        } while (times.length < spec.minSamples && performance.now() - start < spec.budget * 1000);
        times.sort((a, b) => a - b);
        Object.assign(r, { samples: times.length, p50_ms: round(pct(times, 0.5)), p99_ms: round(pct(times, 0.99)),
          mean_ms: round(times.reduce((a, b) => a + b, 0) / times.length), max_ms: round(times.at(-1)) });
        r.top = top;
      } catch (err) {
        r.error = `${err.message}`.slice(0, 500);
      }
      out.modes[mode] = r;
    }
    e.free();
    out.ok = true;
  } catch (err) {
    out.error = `${err.stack ?? err}`.slice(0, 2000);
  }
  save();
}

/* ------------------------------------------------------------- parent -- */

function runOne(opts, set, engine, tmp) {
  const outFile = join(tmp, `${set}-${engine}.json`);
  const spec = { set, engine, n: opts.nFor(set), queries: opts.queries, k: opts.k, minSamples: opts.minSamples,
    budget: opts.budget, warmup: opts.warmup, pocketvec: opts.pocketvec, outFile };
  return new Promise((done) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', JSON.stringify(spec)],
      { stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '', timedOut = false;
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.limit * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wall = round((performance.now() - t0) / 1000, 1);
      let r;
      try { r = JSON.parse(readFileSync(outFile, 'utf8')); } catch { r = { engine, set, ok: false }; }
      if (timedOut) r = { ...r, ok: false, error: `timed out after ${opts.limit} s` };
      else if (code !== 0 || signal) r = { ...r, ok: false, error: `${r.error ? `${r.error}; ` : ''}child exited ${signal ?? code}: ${stderr.trim().slice(-1500)}` };
      else if (!r.ok && !r.error) r.error = `no result: ${stderr.trim().slice(-1500)}`;
      r.wall_s = wall;
      done(r);
    });
  });
}

/** Mean over queries of |a ∩ ref| / |ref|, where ref found something. */
function overlap(a, ref) {
  if (!a || !ref) return null;
  let sum = 0, n = 0;
  for (let i = 0; i < Math.min(a.length, ref.length); i++) {
    if (!ref[i].length) continue;
    const s = new Set(ref[i]);
    sum += a[i].filter((x) => s.has(x)).length / ref[i].length;
    n++;
  }
  return n ? round(sum / n, 3) : null;
}

function summarize(set, results) {
  const by = Object.fromEntries(results.map((r) => [r.engine, r]));
  for (const r of results) {
    for (const [mode, m] of Object.entries(r.modes ?? {})) {
      m.overlap_pocketvec = overlap(m.top, by.pocketvec?.modes?.[mode]?.top);
      m.overlap_bm25_ref = overlap(m.top, by['bm25-ref']?.modes?.[mode]?.top);
    }
  }
  for (const r of results) for (const m of Object.values(r.modes ?? {})) delete m.top;
  const peers = results.filter((r) => r.ok && ENGINES[r.engine].peer);
  const fastest = (mode) => peers.filter((r) => r.modes?.[mode]?.p50_ms != null)
    .sort((a, b) => a.modes[mode].p50_ms - b.modes[mode].p50_ms)[0];
  const pv = by.pocketvec?.ok ? by.pocketvec : null;
  const goal = { pocketvec: pv ? 'measured' : (by.pocketvec?.error ?? 'not run') };
  for (const mode of ['text', 'prefix', 'hybrid']) {
    const f = fastest(mode);
    if (!f) continue;
    goal[mode] = { fastest_peer: f.engine, fastest_peer_p50_ms: f.modes[mode].p50_ms,
      pocketvec_p50_ms: pv?.modes?.[mode]?.p50_ms ?? null,
      ratio: pv?.modes?.[mode]?.p50_ms != null ? round(pv.modes[mode].p50_ms / f.modes[mode].p50_ms, 3) : null,
      target: mode === 'text' ? '<= 0.5' : null };
  }
  const small = peers.filter((r) => r.memory?.bytes != null).sort((a, b) => a.memory.bytes - b.memory.bytes)[0];
  if (small) {
    goal.memory = { smallest_peer: small.engine, smallest_peer_bytes: small.memory.bytes, pocketvec_bytes: pv?.memory?.bytes ?? null,
      ratio: pv?.memory?.bytes != null ? round(pv.memory.bytes / small.memory.bytes, 3) : null, target: '<= 1' };
  }
  return goal;
}

const MB = (b) => (b == null ? '' : (b / 1048576).toFixed(1));
const ms = (m, f) => (m?.[f] == null ? '' : m[f] < 1 ? m[f].toFixed(3) : m[f].toFixed(2));

function markdown(doc) {
  const L = [];
  L.push(doc.smoke ? '## Text search (SMOKE RUN: tiny sizes, not a result)' : '## Text search: BM25 and hybrid');
  L.push('');
  L.push(`\`${doc.command}\` on ${doc.date}: Node ${doc.node}, ${doc.machine.cpu} (${doc.machine.cores} cores), `
    + `load average ${doc.machine.loadavg_start.join(' ')} at the start, ${doc.machine.loadavg_end.join(' ')} at the end. `
    + `Packages: ${Object.entries(doc.packages).map(([k, v]) => `${k} ${v ?? '(missing)'}`).join(', ')}.`);
  for (const [set, s] of Object.entries(doc.sets)) {
    L.push('');
    L.push(`### ${set}: ${s.documents} documents${s.subset ? ` (a subset of ${s.data.documents})` : ''}, ${s.queries} queries per kind, k ${doc.options.k}`);
    L.push('');
    L.push(`Data: ${s.data.source}${s.data.model ? `, ${s.data.model} ${s.data.dim}-d vectors` : ', no vectors (pocketvec gets 8-d seeded filler vectors)'}.`);
    L.push('');
    const modes = MODES.filter((m) => s.engines.some((r) => r.modes?.[m]));
    const head = ['engine', 'version', 'build s', 'memory MB', ...modes.flatMap((m) => [`${m} p50 ms`, `${m} p99 ms`]),
      'hits/query (text)', 'top-10 overlap vs pocketvec', 'vs bm25-ref'];
    L.push(`| ${head.join(' | ')} |`);
    L.push(`|${head.map(() => '---').join('|')}|`);
    for (const r of s.engines) {
      if (!r.ok) {
        L.push(`| ${r.engine} | ${r.version ?? ''} | failed: ${String(r.error).split('\n')[0].replace(/\|/g, '/').slice(0, 200)} |`);
        continue;
      }
      const cells = modes.flatMap((m) => {
        const x = r.modes?.[m];
        if (!x) return ['n/a', 'n/a'];
        if (x.error) return [`error: ${x.error.slice(0, 60).replace(/\|/g, '/')}`, ''];
        return [ms(x, 'p50_ms'), ms(x, 'p99_ms')];
      });
      const t = r.modes?.text;
      L.push(`| ${r.engine} | ${r.version ?? ''} | ${r.build_s} | ${MB(r.memory?.bytes)} | ${cells.join(' | ')} | `
        + `${t?.hits_mean ?? ''} | ${t?.overlap_pocketvec ?? ''} | ${t?.overlap_bm25_ref ?? ''} |`);
    }
    const g = s.goal;
    L.push('');
    if (g.text) {
      L.push(`Goal (text p50 <= 0.5x the fastest peer): fastest peer ${g.text.fastest_peer} ${g.text.fastest_peer_p50_ms} ms; `
        + (g.text.ratio != null ? `pocketvec ${g.text.pocketvec_p50_ms} ms, ratio **${g.text.ratio}**.` : `pocketvec: ${g.pocketvec}.`));
    }
    if (g.memory) {
      L.push(`Memory (no more than theirs): smallest peer ${g.memory.smallest_peer} ${MB(g.memory.smallest_peer_bytes)} MB; `
        + (g.memory.ratio != null ? `pocketvec ${MB(g.memory.pocketvec_bytes)} MB, ratio **${g.memory.ratio}**.` : 'pocketvec not measured.'));
    }
    if (g.hybrid) L.push(`Hybrid: ${g.hybrid.fastest_peer} ${g.hybrid.fastest_peer_p50_ms} ms p50; pocketvec ${g.hybrid.pocketvec_p50_ms ?? 'not measured'}.`);
    const pv = s.engines.find((r) => r.engine === 'pocketvec' && r.ok);
    if (pv?.memory?.index_bytes_without_text != null) {
      L.push(`pocketvec's own accounting: ${MB(pv.memory.index_bytes)} MB with text, ${MB(pv.memory.index_bytes_without_text)} MB `
        + `for the same documents without text (${pv.memory.vectors} vectors): text part ${MB(pv.memory.text_part_bytes)} MB. `
        + `Built without text in ${pv.memory.build_s_without_text} s (with: ${pv.build_s} s).`);
    }
  }
  L.push('');
  L.push('Memory: growth of heapUsed + external (ArrayBuffers and WebAssembly memory) over the build, after gc(), each engine '
    + `in a process of its own. Times: each search alone, JS included, after an untimed pass and ${doc.options.warmup_s ?? 0} s of untimed searches; nearest-rank percentiles. `
    + 'Overlap: mean share of the reference\'s top 10 found in the engine\'s top 10 (tokenizers and scoring differ: a sanity check). '
    + 'Configurations: bench/text/README.md.');
  return `${L.join('\n')}\n`;
}

function writeAtomic(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

async function main() {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { console.error(e.message); process.exit(2); }
  if (opts.child) { await runChild(JSON.parse(opts.child)); return; }

  const started = Date.now();
  const doc = {
    schema: 1,
    command: `node ${relative(root, fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(), smoke: opts.smoke, node: process.version,
    machine: { os: `${os.type()} ${os.release()} ${os.arch()}`, cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length,
      memory_bytes: os.totalmem(), loadavg_start: os.loadavg().map((x) => round(x, 2)) },
    packages: Object.fromEntries(['minisearch', 'flexsearch', '@orama/orama', '@sap-ux/fiori-docs-embeddings'].map((p) => [p, pkgVersion(p)])),
    pocketvec: relative(root, opts.pocketvec),
    options: { k: opts.k, queries: opts.queries, min_samples: opts.minSamples, budget_s: opts.budget, warmup_s: opts.warmup, limit_s: opts.limit,
      engines: opts.engines },
    sets: {},
  };
  const tmp = mkdtempSync(join(os.tmpdir(), 'bench-text-'));
  const problems = [];
  try {
    for (const set of opts.sets) {
      const data = prepare(set);
      const n = opts.nFor(set);
      const results = [];
      for (const engine of opts.engines) {
        process.stderr.write(`${set} ${engine}: `);
        const r = await runOne(opts, set, engine, tmp);
        results.push(r);
        const t = r.modes?.text;
        console.error(r.ok ? `build ${r.build_s} s, ${MB(r.memory?.bytes)} MB, text p50 ${ms(t, 'p50_ms')} ms p99 ${ms(t, 'p99_ms')} ms, `
          + `${t?.hits_mean} hits/query (${r.wall_s} s)` : `FAILED: ${String(r.error).split('\n')[0]}`);
      }
      const goal = summarize(set, results);
      const first = results.find((r) => r.documents);
      doc.sets[set] = { data, documents: first?.documents ?? (n || data.documents), subset: !!n && n < data.documents,
        queries: opts.queries, goal, engines: results };
      // The harness's own checks: every engine is there, run or failed with a
      // reason; the ones that ran found something for most queries.
      for (const r of results) {
        if (!r.ok && !r.error) problems.push(`${set}/${r.engine}: failed without an error`);
        if (!r.ok) continue;
        const t = r.modes?.text;
        if (!t || t.error) { problems.push(`${set}/${r.engine}: no text result (${t?.error ?? 'not run'})`); continue; }
        if (t.queries - t.zero_hit_queries < 0.8 * t.queries) problems.push(`${set}/${r.engine}: hits for only ${t.queries - t.zero_hit_queries} of ${t.queries} queries`);
        if (r.memory?.bytes == null || !(r.build_s >= 0)) problems.push(`${set}/${r.engine}: no build time or memory`);
      }
      if (!results.some((r) => r.ok && ENGINES[r.engine].peer) && opts.engines.some((e) => ENGINES[e].peer)) {
        problems.push(`${set}: no peer ran`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  doc.machine.loadavg_end = os.loadavg().map((x) => round(x, 2));
  doc.wall_s = round((Date.now() - started) / 1000, 1);
  doc.harness_problems = problems;
  writeAtomic(opts.out, `${JSON.stringify(doc, null, 2)}\n`);
  writeAtomic(opts.report, markdown(doc));
  console.error(`-> ${relative(process.cwd(), opts.out)}, ${relative(process.cwd(), opts.report)} (${doc.wall_s} s)`);
  if (problems.length) {
    console.error(`harness problems:\n  ${problems.join('\n  ')}`);
    if (opts.smoke) process.exit(1);
  } else if (opts.smoke) {
    console.error('smoke: every engine ran or was recorded as failed; those that ran found hits for most queries');
  }
}

await main();
