#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// How long WebAssembly memory growth takes as an index reserves room: four
// indexes of dim 65536 reserving 4000, 4000, 4000 and 3000 slots (about
// 1 GiB each; reserved pages are never touched) in a fresh module, each
// timed, for one or more builds of the package, in one run.
//   node bench/grow.mjs NAME=PKG [NAME=PKG ...] [--out PATH]
// PKG is a package entry (js/index.js of a checkout).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const args = process.argv.slice(2), at = args.indexOf('--out');
const out = at >= 0 ? args.splice(at, 2)[1] : null;
if (process.env.PV_GROW_PKG) {
  const m = await import(process.env.PV_GROW_PKG), info = await m.init();
  const steps = [];
  for (const capacity of [4000, 4000, 4000, 3000]) {
    const t = performance.now();
    new m.Index({ dim: 65536, capacity });
    steps.push({ capacity, ms: +(performance.now() - t).toFixed(1), memory_mib: info.memory.buffer.byteLength / 2 ** 20 });
  }
  console.log(JSON.stringify(steps));
} else {
  if (!args.length) {
    console.error('usage: grow.mjs NAME=PKG [NAME=PKG ...] [--out PATH]');
    process.exit(2);
  }
  const result = { command: `node bench/grow.mjs ${process.argv.slice(2).join(' ')}`, node: process.version, runs: {} };
  for (let round = 0; round < 2; round++)
    for (const a of args) {
      const [name, pkg] = a.split('=');
      const steps = JSON.parse(execFileSync(process.execPath, [process.argv[1]], { env: { ...process.env, PV_GROW_PKG: pkg } }));
      (result.runs[name] ??= []).push(steps);
    }
  const text = JSON.stringify(result, null, 2);
  if (out) writeFileSync(out, text + '\n');
  console.log(text);
}
