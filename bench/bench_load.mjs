#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Load and save times of saved indexes in Node (WebAssembly): the files the
// native benchmark leaves in bench/.cache/ (NAME-f32.pvec, NAME-sq8.pvec),
// loaded from bytes (Index.fromBytes), serialized (toBytes), saved to a
// file and loaded from it; the median of 5 runs each, after one warm-up.
// The goal: a 100k x 768 SQ8 index loads from bytes in under 50 ms.
//   cd js && npm run bench:load [-- --only 100k-768]
import { readFile, readdir, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { init, Index } from '../js/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cache = join(root, 'bench/.cache');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
const info = await init();

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
async function time(fn, runs = 5) {
  await fn(); // warm-up
  const t = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

const files = (await readdir(cache).catch(() => [])).filter((f) => f.endsWith('.pvec') && (!only || f.startsWith(only + '-'))).sort();
if (!files.length) {
  console.error('bench-load: no saved indexes in bench/.cache: run "make bench" first (it leaves them there)');
  process.exit(1);
}
const dir = await mkdtemp(join(tmpdir(), 'pocketvec-load-'));
const results = [];
console.log(`pocketvec ${info.version} (${info.kernels}), node ${process.version}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('index                      MB   fromBytes ms  toBytes ms  save ms  load(file) ms  goal');
try {
  for (const f of files) {
    const bytes = new Uint8Array(await readFile(join(cache, f)));
    const fromBytes = await time(() => Index.fromBytes(bytes).free());
    const ix = Index.fromBytes(bytes);
    const toBytes = await time(() => ix.toBytes());
    const path = join(dir, f);
    const save = await time(() => ix.save(path));
    const load = await time(async () => (await Index.load(path)).free());
    ix.free();
    const name = f.replace(/\.pvec$/, '');
    const goal = name === '100k-768-sq8' ? (fromBytes < 50 ? 'met (< 50 ms)' : 'MISSED (< 50 ms)') : '';
    results.push({ index: name, bytes: bytes.length, from_bytes_ms: +fromBytes.toFixed(2), to_bytes_ms: +toBytes.toFixed(2),
      save_file_ms: +save.toFixed(2), load_file_ms: +load.toFixed(2), goal });
    console.log(`${name.padEnd(22)} ${(bytes.length / 1e6).toFixed(1).padStart(7)} ${fromBytes.toFixed(1).padStart(14)} ${toBytes.toFixed(1).padStart(11)} ${save.toFixed(1).padStart(8)} ${load.toFixed(1).padStart(14)}  ${goal}`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
await mkdir(join(root, 'bench/results'), { recursive: true });
const out = join(root, 'bench/results/load.json');
await writeFile(out, JSON.stringify({
  benchmark: 'pocketvec load/save in Node (WASM)', command: 'cd js && npm run bench:load', date_utc: new Date().toISOString(),
  machine: { node: process.version, cpu: cpus()[0]?.model, nproc: cpus().length, loadavg: loadavg(), kernels: info.kernels, version: info.version },
  method: 'median of 5 runs after 1 warm-up; fromBytes copies the bytes into WASM memory and loads them in place (every checksum verified)',
  results }, null, 2) + '\n');
console.log(`wrote ${out}`);
