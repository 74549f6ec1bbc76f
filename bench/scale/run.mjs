#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The scale benchmark (issue 17): a million vectors, built by the CLI and
// opened in Node through WebAssembly. Not in CI: about 25 minutes per
// 1M x 768 set to build, once (cached in bench/.cache/scale/), then a few
// minutes of opens and searches.
//
//   make build/pocketvec build/scale/gen_scale wasm
//   node bench/scale/run.mjs [--sets 1m-768,1m-384] [--samples 5]
//                            [--efs 32,48,64,96,128,192] [--out FILE]
//                            [--build-only] [--no-browser]
//
// Per set (seeded clustered unit vectors of common/datagen.c, 4,000
// clusters, 200 held-out queries, exact top-10 by brute force):
//   - the data, streamed to .npy by build/scale/gen_scale (never whole in
//     memory), and the SQ8 index built from it by `pocketvec build`: build
//     time, peak RSS (/usr/bin/time), file size;
//   - cold opens, each in a fresh process (bench/scale/open.mjs), taken in
//     turns so that a slow minute hits all three alike: the floor (a fresh
//     WebAssembly memory grown once to the file's size, the file read
//     straight into it), Index.load(FILE) (streamed into WASM memory), and
//     readFile + Index.fromBytes; time and peak memory of each;
//   - a warm open (the second Index.load in one process, after free());
//   - recall@10 and p50/p99 search latency over an ef sweep;
//   - the same in headless Chromium (bench/scale/web.mjs): cold opens of
//     the file fetched over HTTP (Index.fromResponse, and the old
//     arrayBuffer + fromBytes), from IndexedDB and from the OPFS, each
//     beside its floor, with the renderer's peak memory; and the sweep.
// Results: bench/results/scale.json (or --out), with the command.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const SETS = {
  '1m-768': { dim: 768, n: 1_000_000, nq: 200, clusters: 4000, seed: 17 },
  '1m-384': { dim: 384, n: 1_000_000, nq: 200, clusters: 4000, seed: 18 },
  // Small enough to try the harness in a minute.
  '50k-384': { dim: 384, n: 50_000, nq: 200, clusters: 500, seed: 19 },
};
const sets = arg('--sets', '1m-768,1m-384').split(',');
const samples = Number(arg('--samples', '5'));
const efs = arg('--efs', '32,48,64,96,128,192');
const outFile = arg('--out', join(root, 'bench/results/scale.json'));
for (const s of sets) if (!SETS[s]) throw new Error(`unknown set ${s}; known: ${Object.keys(SETS).join(', ')}`);
for (const tool of ['build/pocketvec', 'build/scale/gen_scale', 'dist/pocketvec.wasm'])
  if (!existsSync(join(root, tool))) throw new Error(`${tool} is missing: make build/pocketvec build/scale/gen_scale wasm`);

function run(cmd, args, what) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { ms: performance.now() - t0, stdout: r.stdout, stderr: r.stderr };
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const MB = (b) => Math.round(b / 1e5) / 10;

const results = [];
for (const name of sets) {
  const p = SETS[name], dir = join(root, 'bench/.cache/scale', name);
  mkdirSync(dir, { recursive: true });
  const base = join(dir, 'base.npy'), queries = join(dir, 'queries.npy'), truth = join(dir, 'truth.bin');
  if (!existsSync(truth)) {
    console.log(`${name}: generating ${p.n} x ${p.dim} ...`);
    run('build/scale/gen_scale', [p.dim, p.n, p.nq, p.clusters, p.seed, 10, dir].map(String), 'gen_scale');
  }
  const file = join(dir, 'sq8.pvec'), buildInfo = join(dir, 'sq8.build.json');
  if (!existsSync(file) || !existsSync(buildInfo)) {
    console.log(`${name}: building the SQ8 index with the CLI (one thread) ...`);
    const timed = existsSync('/usr/bin/time');
    const cmd = ['build/pocketvec', 'build', base, '-o', file, '--storage', 'sq8'];
    const r = timed ? run('/usr/bin/time', ['-f', 'maxrss_kb=%M', ...cmd], 'pocketvec build') : run(cmd[0], cmd.slice(1), 'pocketvec build');
    const kb = /maxrss_kb=(\d+)/.exec(r.stderr);
    writeFileSync(buildInfo, JSON.stringify({ command: cmd.join(' '), ms: r.ms, peakRss: kb ? Number(kb[1]) * 1024 : null,
      load: loadavg(), at: new Date().toISOString() }, null, 2));
  }
  const build = JSON.parse(readFileSync(buildInfo, 'utf8')), size = statSync(file).size;
  console.log(`${name}: built in ${(build.ms / 1000).toFixed(0)} s, ${MB(size)} MB`);
  if (process.argv.includes('--build-only')) continue;

  const open = (mode, ...more) => JSON.parse(run(process.execPath, ['--max-old-space-size=8192',
    'bench/scale/open.mjs', mode, file, ...more], `open.mjs ${mode}`).stdout.trim().split('\n').pop());
  const cold = { floor: [], load: [], bytes: [] };
  for (let i = 0; i < samples; i++) {
    for (const mode of ['floor', 'load', 'bytes']) {
      const r = open(mode);
      cold[mode].push(r);
      console.log(`${name}: cold ${mode} ${r.ms.toFixed(0)} ms, peak rss ${MB(r.after.peakRss)} MB (+${MB(r.after.peakRss - r.before.rss)} MB)`);
    }
  }
  const warm = open('load', '--warm');
  console.log(`${name}: warm load ${warm.warmMs.toFixed(0)} ms`);
  const sweep = open('load', '--sweep', queries, truth, efs).sweep;
  for (const s of sweep) console.log(`${name}: ef ${s.ef} recall ${s.recall.toFixed(3)} p50 ${s.p50us.toFixed(0)} us p99 ${s.p99us.toFixed(0)} us`);
  const summary = (rs) => ({
    ms: median(rs.map((r) => r.ms)),
    // What the open added to the process at its peak, and what it left.
    peakAdded: median(rs.map((r) => r.after.peakRss - r.before.rss)),
    wasmBytes: median(rs.map((r) => r.wasmBytes)),
  });
  const ratio = median(cold.load.map((r, i) => r.ms / cold.floor[i].ms));
  const last = cold.load[cold.load.length - 1];
  results.push({
    set: name, ...p, storage: 'sq8', file: { bytes: size }, build,
    index: { memoryUsage: last.indexBytes, wasmBytes: last.wasmBytes },
    cold: { floor: summary(cold.floor), load: summary(cold.load), fromBytes: summary(cold.bytes),
      loadOverFloor: ratio, samples: cold },
    warm: { ms: warm.warmMs },
    sweep,
  });
  console.log(`${name}: cold load ${ratio.toFixed(2)}x the floor`);
  if (!process.argv.includes('--no-browser')) {
    const { webRun } = await import('./web.mjs');
    const web = await webRun({ file, queries, truth, samples, efs, log: (l) => console.log(`${name}: ${l}`) });
    const m = (mode, f) => median(web.samples[mode].map(f));
    web.summary = Object.fromEntries(['fetch', 'bytes', 'idb', 'opfs'].map((mode) => {
      const fl = mode === 'bytes' ? 'floor-fetch' : `floor-${mode}`;
      return [mode, { ms: m(mode, (r) => r.ms), floorMs: m(fl, (r) => r.ms),
        overFloor: median(web.samples[mode].map((r, i) => r.ms / web.samples[fl][i].ms)),
        peakRss: m(mode, (r) => r.peakRss), peakAdded: m(mode, (r) => r.peakAdded),
        floorPeakAdded: m(fl, (r) => r.peakAdded), wasmBytes: m(mode, (r) => r.wasmBytes) }];
    }));
    for (const [mode, s] of Object.entries(web.summary))
      console.log(`${name}: chromium ${mode} ${s.ms.toFixed(0)} ms = ${s.overFloor.toFixed(2)}x its floor, the open added ${MB(s.peakAdded)} MB at its peak (floor ${MB(s.floorPeakAdded)} MB)`);
    results[results.length - 1].chromium = web;
  }
}
if (process.argv.includes('--build-only')) process.exit(0);
const cpu = cpus()[0]?.model ?? 'unknown';
writeFileSync(outFile, JSON.stringify({
  command: `node bench/scale/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  at: new Date().toISOString(), node: process.version, cpu, cores: cpus().length, memory: totalmem(),
  results,
}, null, 2) + '\n');
console.log(`wrote ${outFile}`);
