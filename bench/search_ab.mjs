#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// A/B of building and searching in Node (WebAssembly) between two builds of
// the package, in one run, alternating, so both see the same machine: each
// sample is a fresh process that builds an index of a seeded clustered set
// (bench/datagen.mjs) with addBatch, then runs its queries (ef 64, k 10)
// three times and keeps the last pass; it reports the build time, the
// search p50 and p99 and recall@10 against brute force. --data DIR takes a
// dataset of the peer benchmark instead (bench/.cache/peers/NAME, written
// by bench/peers/data.mjs: real vectors such as word100), its first 200
// held-out queries and their exact top-10.
//   node bench/search_ab.mjs NAME_A PKG_A NAME_B PKG_B [--dim D] [--n N]
//        [--data DIR] [--quantization f32|sq8|binary] [--ef EF] [--rounds R]
//        [--out PATH]
// PKG is a package entry (js/index.js of a checkout). Both builds must give
// the same graph for the same data (the kernels are bit-identical), which
// the equal recall shows.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

import { datasetTruth, defaultClusters, makeDataset } from './datagen.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args.splice(at, 2)[1] : dflt;
};
const out = opt('out', null), dim = +opt('dim', 100), n = +opt('n', 20000);
const quantization = opt('quantization', 'f32'), rounds = +opt('rounds', 3), data = opt('data', null);
const EF = +opt('ef', 64);
const [nameA, pkgA, nameB, pkgB] = args;
if (!pkgB) {
  console.error('usage: search_ab.mjs NAME_A PKG_A NAME_B PKG_B [--dim D] [--n N] [--data DIR] [--quantization Q] [--ef EF] [--rounds R] [--out PATH]');
  process.exit(2);
}
const NQ = 200, K = 10, SEED = 7;

/** The vectors: the seeded set, or a peer-benchmark dataset's files. */
function dataset() {
  if (!data) return { ...makeDataset(dim, n, NQ, defaultClusters(n), SEED), dim };
  const f32 = (f) => { const b = readFileSync(join(data, f)); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };
  if (existsSync(join(data, 'loo'))) throw new Error(`${data} is a leave-one-out set: not supported here`);
  const d = +readFileSync(join(data, 'dims.txt'), 'utf8');
  const tb = readFileSync(join(data, 'truth.u32'));
  return { dim: d, base: f32('base.f32'), queries: f32('queries.f32').subarray(0, NQ * d),
    truth: new Uint32Array(tb.buffer, tb.byteOffset, NQ * K) };
}

if (process.env.PV_AB_CHILD) {
  const { init, Index } = await import(process.env.PV_AB_PKG);
  await init();
  const ds = dataset();
  const truth = JSON.parse(process.env.PV_AB_TRUTH);
  const t0 = performance.now();
  const ix = new Index({ dim: ds.dim, metric: 'cosine', quantization, m: 16, efConstruction: 200, seed: 1 });
  ix.addBatch(ds.base);
  const buildMs = performance.now() - t0;
  const times = [];
  let found = 0;
  for (let pass = 0; pass < 3; pass++) {
    times.length = 0;
    found = 0;
    for (let q = 0; q < NQ; q++) {
      const query = ds.queries.subarray(q * ds.dim, (q + 1) * ds.dim);
      const a = performance.now();
      const hits = ix.search(query, K, { ef: EF });
      times.push(performance.now() - a);
      const want = new Set(truth[q]);
      for (const h of hits) found += want.has(h.id);
    }
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({
    build_ms: +buildMs.toFixed(1), p50_us: +(1000 * times[NQ >> 1]).toFixed(1),
    p99_us: +(1000 * times[Math.floor(NQ * 0.99)]).toFixed(1), recall: found / (NQ * K),
  }));
  process.exit(0);
}

const ds = dataset();
const gt = ds.truth ?? datasetTruth(ds, K);
const truth = JSON.stringify(Array.from({ length: NQ }, (_, q) => Array.from(gt.subarray(q * K, (q + 1) * K))));
const self = fileURLToPath(import.meta.url);
const sample = (pkg) => JSON.parse(execFileSync(process.execPath, [self, ...process.argv.slice(2)], {
  env: { ...process.env, PV_AB_CHILD: '1', PV_AB_PKG: pkg, PV_AB_TRUTH: truth }, encoding: 'utf8',
  maxBuffer: 1 << 24,
}));
const runs = { [nameA]: [], [nameB]: [] };
const load0 = loadavg();
for (let r = 0; r < rounds; r++) {
  runs[nameA].push(sample(pkgA));
  runs[nameB].push(sample(pkgB));
}
const med = (xs, k) => [...xs.map((x) => x[k])].sort((a, b) => a - b)[xs.length >> 1];
const summary = Object.fromEntries(Object.entries(runs).map(([name, xs]) => [name, {
  build_ms: med(xs, 'build_ms'), p50_us: med(xs, 'p50_us'), p99_us: med(xs, 'p99_us'), recall: med(xs, 'recall'),
}]));
const result = {
  command: `node bench/search_ab.mjs ${process.argv.slice(2).join(' ')}`,
  node: process.version, load_average: { start: load0, end: loadavg() },
  dataset: data ? { dir: data, dim: ds.dim, n: ds.base.length / ds.dim, queries: NQ }
    : { generator: 'bench/datagen.mjs', dim, n, queries: NQ, clusters: defaultClusters(n), seed: SEED },
  index: { metric: 'cosine', quantization, m: 16, efConstruction: 200, ef: EF, k: K },
  summary, samples: runs,
  ratio_b_to_a: {
    build: +(summary[nameB].build_ms / summary[nameA].build_ms).toFixed(3),
    search_p50: +(summary[nameB].p50_us / summary[nameA].p50_us).toFixed(3),
  },
};
console.log(JSON.stringify(result, null, 2));
if (out) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
