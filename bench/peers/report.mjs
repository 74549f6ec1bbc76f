// SPDX-License-Identifier: MIT
// REPORT.md and one SVG chart per dataset, from the newest peer-benchmark
// result of each dataset in bench/results/ (a full run preferred to a
// quick one). Run by run.mjs at the end; also on its own:
//
//   node bench/peers/report.mjs
//
// The headline per library is the smallest ef whose recall@10 reaches 0.95
// (and 0.99): its p50 and p99, and the ratio of that p50 to pocketvec WASM
// SQ8's at the same threshold. The issue's targets at 100k x 768 are
// pass/fail lines, computed here from the same figures.
import { readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REF = 'pocketvec-wasm-sq8';
const ORDER = ['pocketvec-wasm-sq8', 'pocketvec-wasm-f32', 'pocketvec-wasm-binary', 'pocketvec-native-sq8',
  'pocketvec-native-f32', 'pocketvec-native-binary',
  'hnswlib-node', 'hnswlib-wasm', 'edgevec', 'voy-search'];
const COLORS = { 'pocketvec-wasm-sq8': '#d62728', 'pocketvec-wasm-f32': '#ff7f0e', 'pocketvec-native-sq8': '#8c564b',
  'pocketvec-native-f32': '#e377c2', 'pocketvec-wasm-binary': '#bcbd22', 'pocketvec-native-binary': '#7f7f7f', 'hnswlib-node': '#1f77b4', 'hnswlib-wasm': '#17becf', edgevec: '#2ca02c',
  'voy-search': '#9467bd' };
const DATASET_ORDER = ['minilm', 'word100', '10k-384', '100k-768', '5k-384', '2k-128'];

const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');
const us = (v) => (Number.isFinite(v) ? (v >= 100 ? fmt(v, 0) : fmt(v, 1)) : '–');

/** The first sweep point (ascending ef) with recall >= r, or null. */
export function firstReaching(entry, r) {
  if (!entry?.ok) return null;
  return entry.search.find((s) => s.recall_at_10 >= r) ?? null;
}

/** Bytes per vector as the issue measures it: WASM memory size, or RSS growth. */
export function bytesPerVector(e) {
  const b = e.wasm_memory_bytes ?? e.rss_delta_bytes;
  return Number.isFinite(b) && e.n ? b / e.n : null;
}

/** Newest result file per dataset; full runs win over quick ones. */
export function latest(dir) {
  const best = new Map();
  for (const f of readdirSync(dir)) {
    if (!/^\d{4}-\d\d-\d\d-.*\.json$/.test(f)) continue;
    let doc;
    try { doc = JSON.parse(readFileSync(join(dir, f), 'utf8')); } catch { continue; }
    if (doc.benchmark !== 'pocketvec peers') continue;
    const key = doc.dataset.name, cur = best.get(key);
    const rank = (d) => `${{ full: 2, quick: 1 }[d.mode] ?? 0}${d.date_utc}`;
    if (!cur || rank(doc) > rank(cur.doc)) best.set(key, { file: f, doc });
  }
  return [...best.values()].sort((a, b) => DATASET_ORDER.indexOf(a.doc.dataset.name) - DATASET_ORDER.indexOf(b.doc.dataset.name));
}

/* ------------------------------------------------------------------------ */
/* The chart                                                                */
/* ------------------------------------------------------------------------ */

/** recall@10 (x) against QPS (y, log), one line per library, ann-benchmarks style. */
export function chart(doc) {
  const W = 760, H = 470, L = 70, R = 200, T = 40, B = 50;
  const series = ORDER.map((lib) => doc.results.find((r) => r.library === lib && r.ok))
    .filter(Boolean).map((e) => ({ lib: e.library, pts: e.search.map((s) => [s.recall_at_10, s.qps]) }));
  const all = series.flatMap((s) => s.pts);
  // From the lowest recall measured (to the hundredth below), so the
  // high-recall end, where the libraries differ, gets the width.
  const xmin = Math.min(0.99, Math.max(0, Math.floor(Math.min(...all.map((p) => p[0])) * 100 - 1e-9) / 100));
  const step = 1 - xmin > 0.1 ? 0.05 : 0.01;
  const ymin = 10 ** Math.floor(Math.log10(Math.min(...all.map((p) => p[1])))), ymax = 10 ** Math.ceil(Math.log10(Math.max(...all.map((p) => p[1]))));
  const x = (v) => L + ((v - xmin) / (1 - xmin)) * (W - L - R);
  const y = (v) => T + (1 - (Math.log10(v) - Math.log10(ymin)) / (Math.log10(ymax) - Math.log10(ymin))) * (H - T - B);
  const o = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  o.push(`<text x="${L}" y="22" font-size="15" font-weight="bold">${esc(doc.dataset.name)}: recall@10 vs queries per second (single thread, higher and further right is better)</text>`);
  for (let i = 0; xmin + i * 0.01 <= 1.0001; i++) {
    const v = xmin + i * 0.01, major = step === 0.01 || Math.round(v * 100) % 5 === 0;
    o.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${T}" y2="${H - B}" stroke="${major ? '#ccc' : '#eee'}"/>`);
    if (major) o.push(`<text x="${x(v)}" y="${H - B + 16}" text-anchor="middle">${v.toFixed(2)}</text>`);
  }
  for (let e = Math.log10(ymin); e <= Math.log10(ymax); e++) {
    o.push(`<line x1="${L}" x2="${W - R}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#ccc"/>`);
    o.push(`<text x="${L - 6}" y="${y(10 ** e) + 4}" text-anchor="end">${fmt(10 ** e)}</text>`);
  }
  o.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">recall@10</text>`);
  o.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">queries per second (log)</text>`);
  o.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#888"/>`);
  series.forEach((s, i) => {
    const c = COLORS[s.lib] ?? '#000';
    const pts = s.pts.filter((p) => p[0] >= xmin && p[1] > 0).sort((a, b) => a[0] - b[0]);
    if (pts.length > 1) o.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) o.push(`<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3.5" fill="${c}"/>`);
    const ly = T + 10 + i * 20;
    o.push(`<line x1="${W - R + 14}" x2="${W - R + 34}" y1="${ly}" y2="${ly}" stroke="${c}" stroke-width="2"/><circle cx="${W - R + 24}" cy="${ly}" r="3.5" fill="${c}"/>`);
    o.push(`<text x="${W - R + 40}" y="${ly + 4}">${esc(s.lib)}</text>`);
  });
  const failed = doc.results.filter((r) => !r.ok).map((r) => r.library);
  if (failed.length) o.push(`<text x="${W - R + 14}" y="${T + 20 + series.length * 20}" fill="#a00">failed: ${esc(failed.join(', '))}</text>`);
  o.push(`<text x="${W - R + 14}" y="${H - B}" fill="#666" font-size="10">${esc(doc.date_utc)}</text>`);
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}

// Markdown- and SVG-safe text: a library's error may hold '|', '<' or '&'.
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|');

/* ------------------------------------------------------------------------ */
/* The report                                                               */
/* ------------------------------------------------------------------------ */

function headline(doc) {
  const ref = doc.results.find((r) => r.library === REF);
  const rows = [];
  rows.push('| library | version | build s (inserts/s) | bytes/vector | load ms | ≥0.95: ef, recall | p50 µs | p99 µs | p50 ÷ pocketvec SQ8 | ≥0.99: ef, recall | p50 µs | p99 µs | p50 ÷ pocketvec SQ8 |');
  rows.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const lib of ORDER) {
    const e = doc.results.find((r) => r.library === lib);
    if (!e) continue;
    if (!e.ok) {
      const what = e.annotation ? 'not measured (see the note below)' : `**failed**: ${esc(e.error.split('\n')[0].slice(0, 160))}`;
      rows.push(`| ${lib} | ${doc.versions?.[lib] ?? ''} | ${what} | | | | | | | | | | |`);
      continue;
    }
    const cells = [lib, e.version ?? '', `${fmt(e.build_seconds, 2)} (${fmt(e.inserts_per_second ?? e.n / e.build_seconds)})`,
      fmt(bytesPerVector(e)), e.load?.ms !== undefined ? fmt(e.load.ms, 1) : `failed`];
    for (const r of [0.95, 0.99]) {
      const p = firstReaching(e, r), q = firstReaching(ref, r);
      if (!p) {
        const top = e.search.reduce((a, b) => (b.recall_at_10 > a ? b.recall_at_10 : a), 0);
        cells.push(`not reached (best ${top.toFixed(4)})`, '–', '–', '–');
        continue;
      }
      cells.push(`${p.ef ?? 'exact'}, ${p.recall_at_10.toFixed(4)}`, us(p.p50_us), us(p.p99_us),
        q ? `${fmt(p.p50_us / q.p50_us, 2)}×` : '–');
    }
    rows.push(`| ${cells.join(' | ')} |`);
  }
  return rows.join('\n');
}

/** The issue's targets at 100k x 768, recall >= 0.95, as pass/fail lines. */
function targets(doc) {
  const get = (lib) => doc.results.find((r) => r.library === lib);
  const pv = get(REF), p = firstReaching(pv, 0.95);
  const lines = [];
  const line = (ok, text) => lines.push(`- ${ok === null ? '**n/a**' : ok ? '**PASS**' : '**FAIL**'}: ${text}`);
  if (!p) {
    line(false, `pocketvec WASM SQ8 did not reach recall@10 ≥ 0.95 (${pv?.ok ? 'best ' + Math.max(...pv.search.map((s) => s.recall_at_10)) : pv?.error ?? 'not run'})`);
    return lines.join('\n');
  }
  const cmp = (lib, factor) => {
    const e = get(lib), q = firstReaching(e, 0.95);
    if (!e || !e.ok) return line(null, `p50 ≤ ${factor} × ${lib}: ${lib} ${e ? 'failed' : 'was not run'}`);
    if (!q) return line(true, `p50 ≤ ${factor} × ${lib}: ${lib} never reached recall 0.95 (best ${Math.max(...e.search.map((s) => s.recall_at_10)).toFixed(4)}); pocketvec did, at ${us(p.p50_us)} µs`);
    const ratio = p.p50_us / q.p50_us;
    line(ratio <= factor, `p50 ≤ ${factor} × ${lib}: ${us(p.p50_us)} µs (ef ${p.ef}) vs ${us(q.p50_us)} µs (ef ${q.ef}) = ${fmt(ratio, 2)}×`);
  };
  cmp('hnswlib-node', 1.0);
  cmp('hnswlib-wasm', 0.33);
  cmp('edgevec', 0.33);
  const spreadOk = p.p99_us <= 1.5 * p.p50_us;
  line(spreadOk, `p99 ≤ 1.5 × own p50: ${us(p.p99_us)} µs vs ${us(p.p50_us)} µs = ${fmt(p.p99_us / p.p50_us, 2)}×` +
    (spreadOk ? '' : ' (what limits it: [the README](../../README.md#what-limits-the-p99))'));
  const hw = get('hnswlib-wasm');
  if (!hw?.ok) line(null, `build at least as fast as hnswlib-wasm: hnswlib-wasm ${hw ? 'failed' : 'was not run'}`);
  else line(pv.build_seconds <= hw.build_seconds, `build at least as fast as hnswlib-wasm: ${fmt(pv.build_seconds, 1)} s vs ${fmt(hw.build_seconds, 1)} s (${fmt(pv.inserts_per_second)} vs ${fmt(hw.inserts_per_second)} inserts/s)`);
  const bpv = bytesPerVector(pv);
  line(bpv <= 1024, `bytes per vector ≤ 1.0 KB: ${fmt(bpv)} B of WASM memory per vector (the index's own count: ${fmt(pv.memory_bytes / pv.n)} B)`);
  return lines.join('\n');
}

/** Issue 15's targets, on every dataset: WASM F32 at parity with native
 * hnswlib-node (search p50 at recall >= 0.95, and build time), and binary
 * codes at half SQ8's p50 at the same recall (WASM and native). */
function speedTargets(doc) {
  const get = (lib) => doc.results.find((r) => r.library === lib);
  const lines = [];
  const line = (ok, text) => lines.push(`- ${ok === null ? '**n/a**' : ok ? '**PASS**' : '**FAIL**'}: ${text}`);
  const ratio = (a, b, factor, what) => {
    const ea = get(a), eb = get(b);
    if (!ea?.ok || !eb?.ok) return line(null, `${what}: ${!ea?.ok ? a : b} ${(!ea?.ok ? ea : eb) ? 'failed' : 'was not run'}`);
    const pa = firstReaching(ea, 0.95), pb = firstReaching(eb, 0.95);
    if (!pa) return line(false, `${what}: ${a} never reached recall 0.95 (best ${Math.max(...ea.search.map((x) => x.recall_at_10)).toFixed(4)})`);
    if (!pb) return line(true, `${what}: ${b} never reached recall 0.95; ${a} did, at ${us(pa.p50_us)} µs`);
    const r = pa.p50_us / pb.p50_us;
    line(r <= factor, `${what}: ${us(pa.p50_us)} µs (ef ${pa.ef}, ${pa.recall_at_10.toFixed(4)}) vs ${us(pb.p50_us)} µs (ef ${pb.ef}, ${pb.recall_at_10.toFixed(4)}) = ${fmt(r, 2)}×`);
  };
  ratio('pocketvec-wasm-f32', 'hnswlib-node', 1.0, 'WASM F32 search p50 ≤ 1.0 × hnswlib-node');
  const f = get('pocketvec-wasm-f32'), h = get('hnswlib-node');
  if (f?.ok && h?.ok) {
    const r = f.build_seconds / h.build_seconds;
    line(r <= 1.0, `WASM F32 build ≤ 1.0 × hnswlib-node: ${fmt(f.build_seconds, 1)} s vs ${fmt(h.build_seconds, 1)} s = ${fmt(r, 2)}×`);
  }
  ratio('pocketvec-wasm-binary', 'pocketvec-wasm-sq8', 0.5, 'WASM binary search p50 ≤ 0.5 × WASM SQ8');
  ratio('pocketvec-native-binary', 'pocketvec-native-sq8', 0.5, 'native binary search p50 ≤ 0.5 × native SQ8');
  return lines.join('\n');
}

function sweep(doc) {
  const out = ['| library | ef | recall@10 | p50 µs | p99 µs | p99.9 µs | QPS |', '|---|---:|---:|---:|---:|---:|---:|'];
  for (const lib of ORDER) {
    const e = doc.results.find((r) => r.library === lib && r.ok);
    if (!e) continue;
    for (const s of e.search)
      out.push(`| ${lib} | ${s.ef ?? 'exact'} | ${s.recall_at_10.toFixed(4)} | ${us(s.p50_us)} | ${us(s.p99_us)} | ${us(s.p999_us)} | ${fmt(s.qps)} |`);
  }
  return out.join('\n');
}

function shippedTable(doc) {
  const out = ['| library | files | raw bytes | gzip -9 bytes |', '|---|---|---:|---:|'];
  for (const [k, v] of Object.entries(doc.shipped ?? {}))
    out.push(v.error ? `| ${k} | ${esc(v.error)} | | |` : `| ${k} | ${v.files.map((f) => f.split('/').pop()).join(', ')} | ${fmt(v.raw_bytes)} | ${fmt(v.gzip9_bytes)} |`);
  return out.join('\n');
}

/** The F32 parity runs of bench/parity.mjs (parity-*.json): the same
 * question as the speed targets above, measured in one process with the
 * two libraries' searches alternating, which this machine's drift between
 * the peer run's slots cannot skew. */
function parity(dir) {
  const files = readdirSync(dir).filter((f) => /^parity-.*\.json$/.test(f)).sort();
  if (!files.length) return [];
  const md = ['## F32 parity, in one process (bench/parity.mjs)', '',
    'pocketvec WASM and hnswlib-node in one Node process on the same vectors, their searches alternating query by query; build time: the faster of two builds each. Ratio: pocketvec ÷ hnswlib-node at the smallest ef where each reaches recall@10 ≥ 0.95.', '',
    '| file | dataset | run | pocketvec p50 (ef) | hnswlib-node p50 (ef) | search ratio | build s | build ratio |', '|---|---|---|---:|---:|---:|---:|---:|'];
  for (const f of files) {
    let d;
    try { d = JSON.parse(readFileSync(join(dir, f), 'utf8')); } catch { continue; }
    if (d.benchmark !== 'pocketvec parity') continue;
    const [a, b] = Object.keys(d.build_seconds.min);
    const r = d.at_recall_095;
    md.push(`| \`${f}\` | ${d.dataset.name} (${fmt(d.dataset.n)} × ${d.dataset.dim}) | ${d.date_utc}, \`${d.command}\` | ` +
      (r ? `${us(r[a].p50_us)} µs (${r[a].ef}) | ${us(r[b].p50_us)} µs (${r[b].ef}) | **${fmt(r.p50_ratio, 2)}×** ${r.p50_ratio <= 1 ? 'PASS' : 'FAIL'}` : '– | – | –') +
      ` | ${fmt(d.build_seconds.min[a], 2)} / ${fmt(d.build_seconds.min[b], 2)} | ${fmt(d.build_seconds.ratio, 2)}× ${d.build_seconds.ratio <= 1 ? 'PASS' : 'FAIL'} |`);
  }
  md.push('');
  return md;
}

/* Filtered search by selectivity (issue: documents and filters), from
 * bench/results/filter.json (native, `make bench-filter`) and
 * filter-js.json (WebAssembly beside EdgeVec, `node bench/bench_filter_js.mjs`).
 * A row passes when it returns min(k, matching) hits on every query, with
 * recall@10 >= 0.95, at a p50 within 1.5x the better reference. */
function filtered(dir) {
  const read = (f) => { try { return JSON.parse(readFileSync(join(dir, f), 'utf8')); } catch { return null; } };
  const pct = (s) => `${+(s * 100).toPrecision(2)} %`;
  const verdict = (hitsOk, recall, ratio) => (hitsOk && recall >= 0.95 && ratio <= 1.5 ? 'PASS' : 'FAIL');
  const md = ['## Filtered search by selectivity', '',
    'Goal: every query returns min(k, matching) hits, recall@10 ≥ 0.95 against exact filtered search at the default ef, ' +
    'and p50 ≤ 1.5× the better of (a) unfiltered search at the same ef and (b) an exact scan of exactly the matching documents ' +
    '(an index holding only them, measured in the same run). k 10, ef 64.', ''];
  const nat = read('filter.json');
  if (nat?.rows) {
    md.push(`### Native (\`${nat.command}\`, bench/results/filter.json)`, '');
    md.push(`${nat.dataset}; kernels ${nat.kernels}; ${nat.queries} queries; unfiltered p50 ${us(nat.unfiltered.p50_us)} µs` +
      (nat.load_average_at_start ? `; load average ${nat.load_average_at_start.join(' ')} at the start` : '') + '.', '');
    md.push('| filter | selectivity | matching | hits | recall@10 | p50 µs | p99 µs | exact over matching µs | ratio | goal | fetch-more-then-filter: hits, recall, p50 µs |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
    for (const r of nat.rows) {
      const f = r.filtered, fm = r.fetch_more_then_filter;
      md.push(`| \`${(r.text ?? `${r.filter} …`).replace(/\|/g, '\\|')}\` | ${pct(r.selectivity)} | ${fmt(r.matching)} | ${fmt(f.hits, 2)} | ${fmt(f.recall, 4)} | ${us(f.p50_us)} | ${us(f.p99_us)} | ` +
        `${us(r.exact_over_matching.p50_us)} | ${fmt(r.ratio_to_best_reference, 2)}× | ${verdict(f.hits >= Math.min(nat.k, r.matching), f.recall, r.ratio_to_best_reference)} | ` +
        `${fmt(fm.hits, 2)}, ${fmt(fm.recall, 4)}, ${us(fm.p50_us)} |`);
    }
    md.push('');
  }
  const js = read('filter-js.json');
  for (const ds of js?.datasets ?? []) {
    md.push(`### WebAssembly beside EdgeVec: ${ds.name} (${fmt(ds.n)} × ${ds.dim}${js.mode === 'full' ? '' : `, ${js.mode} run`})`, '');
    const m = js.machine;
    md.push(`\`${js.command}\`, ${js.date_utc}; Node ${m.node}, ${m.nproc} × ${m.cpu}, kernels ${m.kernels}; ${esc(ds.source)}. ` +
      `pocketvec ${js.versions.pocketvec} built in ${ds.pocketvec.build_s} s; ` +
      (ds.edgevec?.ok ? `EdgeVec ${js.versions.edgevec} built in ${ds.edgevec.build_s} s.` : `**EdgeVec failed**: ${esc(ds.edgevec?.error ?? 'not run')}.`), '');
    md.push('| filter | matching | pocketvec hits (min), recall, p50 µs | unfiltered / exact over matching µs | ratio | goal | fetch-more: hits (min), recall, p50 µs | EdgeVec: hits (min), recall, p50 µs |',
      '|---|---:|---|---|---:|---|---|---|');
    for (const r of ds.rows) {
      const p = r.pocketvec, f = r.fetch_more_then_filter, e = r.edgevec;
      const cell = (x) => (x ? `${fmt(x.hits_mean, 2)} (${x.hits_min}), ${fmt(x.recall, 4)}, ${us(x.p50_us)}` : '–');
      md.push(`| \`${r.filter}\` (${pct(r.selectivity)}) | ${fmt(r.matching)} | ${cell(p)} | ${us(r.unfiltered.p50_us)} / ${us(r.exact_over_matching.p50_us)} | ` +
        `${fmt(r.ratio_to_best_reference, 2)}× | ${verdict(p.hits_min >= Math.min(10, r.matching), p.recall, r.ratio_to_best_reference)} | ${cell(f)} | ` +
        `${e?.ok === false || !e ? `failed: ${esc(e?.error ?? 'not run')}` : cell(e)} |`);
    }
    md.push('');
  }
  return md.length > 4 ? md : [];
}

/* Text search (issue: BM25 and hybrid), from every bench/results/text*.json
 * (`node bench/text/bench_text.mjs`, each file one run of every engine):
 * per set, each engine's figures and the two goals, text p50 <= 0.5x the
 * fastest peer's and memory <= the smallest peer's, as PASS or FAIL. */
function text(dir) {
  const files = readdirSync(dir).filter((f) => /^text.*\.json$/.test(f)).sort();
  const md = [];
  const ms = (x) => (x == null ? '–' : `${us(x * 1000)}`);
  const mb = (b) => (b == null ? '–' : fmt(b / 2 ** 20, 1));
  for (const f of files) {
    let d;
    try { d = JSON.parse(readFileSync(join(dir, f), 'utf8')); } catch { continue; }
    if (!d.sets || d.smoke) continue;
    for (const [name, set] of Object.entries(d.sets)) {
      const m = d.machine;
      md.push(`### ${name}: ${fmt(set.data.documents)} documents (\`${f}\`)`, '');
      md.push(`\`${d.command}\`, ${d.date}; Node ${d.node}, ${m.cores} × ${m.cpu}; ${esc(set.data.source ?? '')}` +
        `${set.data.model ? `, ${set.data.model} vectors` : ''}; ${fmt(set.queries)} queries per kind, k ${d.options.k}; ` +
        `${d.options.warmup_s ? `an untimed pass and at least ${d.options.warmup_s} s of untimed searches` : 'one untimed pass'} before the timed ones.`, '');
      const g = set.goal ?? {};
      const line = (what, x, target) => (x?.ratio == null ? `- ${what}: not measured`
        : `- **${x.ratio <= target ? 'PASS' : 'FAIL'}**: ${what}: ${x.ratio}×`);
      if (g.text) md.push(line(`text p50 ≤ 0.5 × the fastest peer (${g.text.fastest_peer}, ${ms(g.text.fastest_peer_p50_ms)} µs; pocketvec ${ms(g.text.pocketvec_p50_ms)} µs)`, g.text, 0.5));
      if (g.memory) md.push(line(`memory ≤ the smallest peer's (${g.memory.smallest_peer}, ${mb(g.memory.smallest_peer_bytes)} MiB; pocketvec ${mb(g.memory.pocketvec_bytes)} MiB)`, g.memory, 1));
      md.push('', '| engine | build s | memory MiB | text p50 µs | text p99 µs | prefix p50 µs | hybrid p50 µs | top-10 overlap with a reference BM25 |',
        '|---|---:|---:|---:|---:|---:|---:|---:|');
      for (const e of set.engines) {
        if (!e.ok) {
          md.push(`| ${e.engine} | **failed**: ${esc(String(e.error ?? '').split('\n')[0])} | | | | | | |`);
          continue;
        }
        const x = e.modes ?? {};
        md.push(`| ${e.engine} ${e.version ?? ''} | ${e.build_s} | ${mb(e.memory?.bytes)} | ${ms(x.text?.p50_ms)} | ${ms(x.text?.p99_ms)} | ` +
          `${ms(x.prefix?.p50_ms)} | ${ms(x.hybrid?.p50_ms)} | ${x.text?.overlap_bm25_ref ?? '–'} |`);
      }
      md.push('');
    }
  }
  return md.length ? ['## Text search: BM25 and hybrid (bench/text)', '',
    'Each file is one run of every engine, one after another in separate processes, on the same machine; ' +
    'compare figures within a file. Memory: growth of the JS heap and external memory (ArrayBuffers and WebAssembly memory) over the build, after gc().', '', ...md] : [];
}

/** Write REPORT.md and the charts; returns the report's path. */
export function writeReport(dir) {
  const docs = latest(dir);
  const md = [];
  md.push('# pocketvec against its peers');
  md.push('');
  md.push('Written by `bench/peers/report.mjs` from the newest result of each dataset below (`cd bench && npm run bench`; ' +
    '`npm run bench -- --quick` for a short run). Every library ran in the same run, one after another, ' +
    'each in its own process, on the same machine and data. Latency is single-query, single-thread, measured ' +
    'around each library\'s own JS search call (glue included); p50/p99 are nearest-rank over ≥ 1000 timed queries after a warm-up. ' +
    'Bytes per vector: WASM memory size after the build (native libraries: RSS growth). m = 16, efConstruction = 200 everywhere.');
  md.push('');
  for (const { file, doc } of docs) {
    const svg = `${doc.dataset.name}.svg`;
    writeFileSync(join(dir, `${svg}.tmp`), chart(doc));
    renameSync(join(dir, `${svg}.tmp`), join(dir, svg));
    const m = doc.machine;
    md.push(`## ${doc.dataset.name}: ${fmt(doc.dataset.n)} × ${doc.dataset.dim}${doc.mode === 'full' ? '' : ` (${doc.mode} run)`}`);
    md.push('');
    md.push(`${doc.dataset.description}${doc.dataset.source ? ` — \`${doc.dataset.source}\`` : ''}.`);
    md.push(`Run ${doc.date_utc} (\`${file}\`): \`${doc.command}\`; Node ${m.node}, ${m.nproc} × ${m.cpu}, ` +
      `load average ${m.loadavg_start.join(' ')} at the start, ${m.loadavg_end.join(' ')} at the end.` +
      (doc.source?.commit ? ` Code: commit ${doc.source.commit.slice(0, 10)}` +
        (doc.source.changed_files?.length ? ` with uncommitted changes to ${esc(doc.source.changed_files.join(', '))}` : '') +
        (doc.source.note ? ` (${esc(doc.source.note)})` : '') + '.' : ''));
    md.push('');
    md.push(`![recall against QPS on ${doc.dataset.name}](${svg})`);
    md.push('');
    md.push(headline(doc));
    md.push('');
    const notes = doc.results.filter((r) => r.ok && r.notes?.length).map((r) => `- ${r.library}: ${r.notes.join('; ')}`);
    const fails = doc.results.filter((r) => !r.ok).map((r) => `- **${r.library} failed**: ${esc(r.error.split('\n').slice(0, 3).join(' '))}` +
      (r.annotation ? `\n  - *Annotation (added after the run)*: ${esc(r.annotation)}` : ''));
    const loadFails = doc.results.filter((r) => r.ok && r.load?.error).map((r) => `- **${r.library}: loading its saved index failed**: ${esc(r.load.error)}`);
    const ec = doc.edgevec_cosine_check;
    if (ec) fails.push(ec.error ? `- edgevec cosine check failed to run: ${esc(ec.error)}`
      : `- **edgevec under its own \`cosine\` metric**: recall@10 ${ec.recall_at_10} on ${ec.queries} queries over the first ${ec.n} vectors (a correct index scores ≈ 1): its cosine/dot ranking is wrong in ${doc.versions?.edgevec}, so it runs as \`l2\` on these unit vectors, which ranks the same as cosine.`);
    md.push([...fails, ...loadFails, ...notes].join('\n'));
    md.push('');
    md.push('### Speed targets: F32 parity and binary codes (recall@10 ≥ 0.95)');
    md.push('');
    md.push(speedTargets(doc));
    md.push('');
    if (doc.dataset.name === '100k-768') {
      md.push('### Targets (recall@10 ≥ 0.95)');
      md.push('');
      md.push(targets(doc));
      md.push('');
    }
    md.push('<details><summary>Every ef point</summary>\n');
    md.push(sweep(doc));
    md.push('\n</details>\n');
    md.push('<details><summary>Shipped size</summary>\n');
    md.push(shippedTable(doc));
    md.push('\n</details>\n');
  }
  md.push(...parity(dir));
  md.push(...filtered(dir));
  md.push(...text(dir));
  const path = join(dir, 'REPORT.md');
  writeFileSync(`${path}.tmp`, `${md.join('\n')}\n`);
  renameSync(`${path}.tmp`, path);
  return path;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = join(fileURLToPath(new URL('..', import.meta.url)), 'results');
  console.log(`wrote ${writeReport(dir)}`);
}
