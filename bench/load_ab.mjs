#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// A/B of loading and saving in Node (WebAssembly) between two builds of the
// package, in one run, alternating, so both see the same machine: each
// sample is a fresh process that loads FILE with the package's
// Index.fromBytes 8 times (the first a warm-up) and serializes it with
// toBytes 6 times (the first a warm-up), and reports the medians.
//   node bench/load_ab.mjs NAME_A PKG_A FILE_A NAME_B PKG_B FILE_B [ROUNDS] [--out PATH]
// PKG is a package entry (js/index.js of a checkout); FILE a saved index
// that package reads. Used to compare format 1 (CRC-32C) with format 2.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args.splice(outAt, 2)[1] : null;
const [nameA, pkgA, fileA, nameB, pkgB, fileB, rounds = '3'] = args;
if (!fileB) {
  console.error('usage: load_ab.mjs NAME_A PKG_A FILE_A NAME_B PKG_B FILE_B [ROUNDS] [--out PATH]');
  process.exit(2);
}

if (process.env.PV_AB_CHILD) {
  const { init, Index } = await import(process.env.PV_AB_PKG);
  const { readFileSync } = await import('node:fs');
  await init();
  const bytes = new Uint8Array(readFileSync(process.env.PV_AB_FILE));
  const median = (t) => [...t].sort((a, b) => a - b)[t.length >> 1];
  const load = [], save = [];
  let ix;
  for (let i = 0; i < 8; i++) {
    if (ix) ix.free();
    const t0 = performance.now();
    ix = Index.fromBytes(bytes);
    if (i) load.push(performance.now() - t0);
  }
  for (let i = 0; i < 6; i++) {
    const t0 = performance.now();
    ix.toBytes();
    if (i) save.push(performance.now() - t0);
  }
  console.log(JSON.stringify({ from_bytes_ms: median(load), to_bytes_ms: median(save) }));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const sample = (pkg, file) =>
  JSON.parse(execFileSync(process.execPath, [self, ...process.argv.slice(2)], {
    env: { ...process.env, PV_AB_CHILD: '1', PV_AB_PKG: pkg, PV_AB_FILE: file }, encoding: 'utf8',
  }));
const runs = { [nameA]: [], [nameB]: [] };
const load0 = loadavg();
for (let r = 0; r < Number(rounds); r++) {
  runs[nameA].push(sample(pkgA, fileA));
  runs[nameB].push(sample(pkgB, fileB));
}
const med = (xs, k) => +[...xs.map((x) => x[k])].sort((a, b) => a - b)[xs.length >> 1].toFixed(2);
const summary = Object.fromEntries(Object.entries(runs).map(([n, xs]) => [n, {
  from_bytes_ms: med(xs, 'from_bytes_ms'), to_bytes_ms: med(xs, 'to_bytes_ms'), samples: xs,
}]));
const result = {
  benchmark: 'load/save A/B in Node (WASM), alternating fresh processes',
  command: `node bench/load_ab.mjs ${process.argv.slice(2).join(' ')}`,
  date_utc: new Date().toISOString(), node: process.version,
  loadavg_start: load0, loadavg_end: loadavg(),
  files: { [nameA]: fileA, [nameB]: fileB }, results: summary,
};
for (const [n, s] of Object.entries(summary))
  console.log(`${n.padEnd(24)} fromBytes ${s.from_bytes_ms} ms   toBytes ${s.to_bytes_ms} ms`);
if (out) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
