#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// F32 parity, measured so that the machine's drift cannot decide it:
// pocketvec in WebAssembly and native hnswlib-node (the near-the-metal
// reference) in ONE Node process, on the same vectors, their searches
// alternating query by query (which of the two goes first alternates too),
// so that both see the same moments of a shared, noisy machine. The peer
// benchmark (bench/peers/run.mjs) runs each library in its own process one
// after another; on this 2-core VM the speed of a slot drifts by up to 1.5x
// between libraries of one run, which is more than the differences this
// measures.
//
//   node bench/parity.mjs [--data NAME] [--quantization f32|sq8|binary]
//                         [--efs 16,32,64] [--passes P] [--builds B] [--out PATH]
//
// NAME is a dataset of the peer benchmark with held-out queries
// (bench/.cache/peers/NAME, made by bench/peers/data.mjs if missing):
// word100, 10k-384, 100k-768 (not minilm: it is leave-one-out). Builds: B builds of each
// library, alternating, the fastest kept (build time is one number per
// build, so it cannot alternate per query). m 16, efConstruction 200,
// cosine, k 10; recall@10 against the set's exact top-10.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { prepare } from './peers/data.mjs';
import { pkgVersion } from './peers/adapters.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, 'package.json'));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args.splice(at, 2)[1] : dflt;
};
const name = opt('data', 'word100'), quantization = opt('quantization', 'f32');
const efs = opt('efs', '16,24,32,48,64,96,128').split(',').map(Number);
const passes = +opt('passes', 5), builds = +opt('builds', 2), out = opt('out', null);
if (args.length) {
  console.error(`unknown arguments: ${args.join(' ')}\nusage: node bench/parity.mjs [--data NAME] [--quantization Q] [--efs LIST] [--passes P] [--builds B] [--out PATH]`);
  process.exit(2);
}
const K = 10, M = 16, EFC = 200, SEED = 1;

const { dir, meta } = prepare(name, (s) => console.error(s));
if (meta.loo) throw new Error(`${name} is leave-one-out: parity.mjs needs held-out queries`);
const f32 = (f) => { const b = readFileSync(join(dir, f)); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
const dim = meta.dim, base = f32('base.f32'), queries = f32('queries.f32');
const n = base.length / dim, nq = queries.length / dim;
const tb = readFileSync(join(dir, 'truth.u32'));
const truth = new Uint32Array(tb.buffer, tb.byteOffset, tb.length / 4);

const pv = await import(pathToFileURL(join(here, '../js/pocketvec.js')).href);
const info = await pv.init();
const { HierarchicalNSW } = require('hnswlib-node');

// Each contestant: build() returns a search(q, k) -> base indexes, setEf(ef).
const contestants = {
  [`pocketvec-wasm-${quantization}`]: {
    build() {
      this.ix?.free();
      const ix = new pv.Index({ dim, metric: 'cosine', quantization, m: M, efConstruction: EFC, capacity: n, seed: SEED });
      for (let i = 0; i < n; i += 1000) ix.addBatch(base.subarray(i * dim, Math.min(n, i + 1000) * dim));
      this.ix = ix;
    },
    setEf(ef) { this.ef = ef; },
    // ids are issued 0.. in order on a fresh index: id == base index
    search(q) { return this.ix.search(q, K, { ef: this.ef }).map((h) => h.id); },
    prepare: (q) => q,
  },
  'hnswlib-node': {
    build() {
      const ix = new HierarchicalNSW('cosine', dim);
      ix.initIndex(n, M, EFC, SEED);
      for (let i = 0; i < n; i++) ix.addPoint(Array.from(base.subarray(i * dim, (i + 1) * dim)), i);
      this.ix = ix;
    },
    setEf(ef) { this.ix.setEf(ef); },
    search(q) { return this.ix.searchKnn(q, K).neighbors; },
    // its API takes number[]: converted here, outside the timing
    prepare: (q) => Array.from(q),
  },
};
const names = Object.keys(contestants);

const load0 = loadavg();
const buildSeconds = Object.fromEntries(names.map((c) => [c, []]));
for (let b = 0; b < builds; b++) {
  for (const c of b & 1 ? [...names].reverse() : names) {
    const t0 = performance.now();
    contestants[c].build();
    buildSeconds[c].push((performance.now() - t0) / 1000);
    console.error(`  ${c}: built in ${buildSeconds[c].at(-1).toFixed(2)} s`);
  }
}

const qs = Object.fromEntries(names.map((c) => [c, Array.from({ length: nq }, (_, i) => contestants[c].prepare(queries.subarray(i * dim, (i + 1) * dim)))]));
const pct = (s, p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
const points = [];
for (const ef of efs) {
  const times = Object.fromEntries(names.map((c) => [c, []]));
  const found = Object.fromEntries(names.map((c) => [c, 0]));
  for (const c of names) contestants[c].setEf(ef);
  for (let p = -1; p < passes; p++) {          // pass -1: recall and warm-up
    for (let i = 0; i < nq; i++) {
      const order = (i + p) & 1 ? [...names].reverse() : names;
      for (const c of order) {
        const t0 = performance.now();
        const ids = contestants[c].search(qs[c][i]);
        const t = performance.now() - t0;
        if (p < 0) {
          const want = truth.subarray(i * K, i * K + K);
          for (const id of ids) if (want.includes(id)) found[c]++;
        } else times[c].push(t * 1000);
      }
    }
  }
  const point = { ef };
  for (const c of names) {
    const s = times[c].sort((a, b) => a - b);
    point[c] = { recall_at_10: +(found[c] / (nq * K)).toFixed(4), p50_us: +pct(s, 0.5).toFixed(1), p99_us: +pct(s, 0.99).toFixed(1), samples: s.length };
  }
  point.p50_ratio = +(point[names[0]].p50_us / point[names[1]].p50_us).toFixed(3);
  points.push(point);
  console.error(`  ef ${ef}: ${names.map((c) => `${c} ${point[c].p50_us} us (recall ${point[c].recall_at_10})`).join(', ')}; ratio ${point.p50_ratio}`);
}

// The issue's question: at the smallest ef where each reaches recall@10 >= 0.95.
const first = (c) => points.find((p) => p[c].recall_at_10 >= 0.95);
const a = first(names[0]), b = first(names[1]);
const minBuild = Object.fromEntries(names.map((c) => [c, +Math.min(...buildSeconds[c]).toFixed(2)]));
const result = {
  benchmark: 'pocketvec parity', command: `node bench/parity.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  date_utc: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  machine: { node: process.version, cpu: cpus()[0]?.model, nproc: cpus().length, loadavg_start: load0, loadavg_end: loadavg(), kernels: info.kernels },
  versions: { pocketvec: info.version, 'hnswlib-node': pkgVersion('hnswlib-node') },
  dataset: { name, n, dim, queries: nq, description: meta.description },
  config: { metric: 'cosine', m: M, ef_construction: EFC, k: K, passes, builds,
    timing: 'one process; per query the two searches alternate (order alternating too); performance.now() around each JS search call' },
  build_seconds: { all: buildSeconds, min: minBuild, ratio: +(minBuild[names[0]] / minBuild[names[1]]).toFixed(3) },
  points,
  at_recall_095: a && b ? { [names[0]]: { ef: a.ef, p50_us: a[names[0]].p50_us }, [names[1]]: { ef: b.ef, p50_us: b[names[1]].p50_us },
    p50_ratio: +(a[names[0]].p50_us / b[names[1]].p50_us).toFixed(3) } : null,
};
console.log(JSON.stringify(result, null, 2));
if (out) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
