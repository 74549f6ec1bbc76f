#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// A/B of filtered search in WebAssembly between two builds of the package,
// in ONE Node process: both build the same index (seeded clustered
// 768-d unit vectors of bench/datagen.mjs, SQ8, every document an integer
// attribute `bucket` spread evenly over 0..9999), then their searches
// alternate query by query (which goes first alternates too) over six
// passes, the first untimed. Prints p50 per build and filter, and whether
// the two returned the same hits (they must, when a change only moves
// memory traffic).
//   node bench/filter_ab.mjs NAME_A DIR_A NAME_B DIR_B [--n N]
// DIR holds a build's pocketvec.js and pocketvec.wasm. The instance built
// second ran 5-8 % faster in every trial on this VM (its memory is laid
// out after the first's), so run it twice with the builds swapped and
// take both (bench/results/filter-wasm-touch-links.md).
import { makeDataset } from './datagen.mjs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const at = args.indexOf('--n');
const n = at >= 0 ? +args.splice(at, 2)[1] : 100000;
if (args.length !== 4) {
  console.error('usage: filter_ab.mjs NAME_A DIR_A NAME_B DIR_B [--n N]');
  process.exit(2);
}
const builds = [[args[0], args[1]], [args[2], args[3]]];
const dim = 768, nq = 200, k = 10;
const ds = makeDataset(dim, n, nq, 0, 2);
const ix = [];
for (const [, dir] of builds) {
  const m = await import(pathToFileURL(join(resolve(dir), 'pocketvec.js')).href);
  await m.init();
  const index = new m.Index({ dim, metric: 'cosine', quantization: 'sq8' });
  for (let i = 0; i < n; i += 1000) {
    const docs = [];
    for (let j = i; j < Math.min(n, i + 1000); j++)
      docs.push({ vector: ds.base.subarray(j * dim, (j + 1) * dim), attributes: { bucket: (j * 7919) % 10000 } });
    index.upsertBatch(docs);
  }
  ix.push(index);
}
const p50 = (a) => (a.sort((x, y) => x - y)[a.length >> 1] * 1000).toFixed(1);
console.log(`${n} x ${dim} SQ8, k ${k}, default ef; ${builds[0][0]} built first`);
for (const t of [1000, 500, 2500]) {
  const filter = `bucket < ${t}`, times = [[], []], hits = [[], []];
  for (let pass = 0; pass < 6; pass++)
    for (let q = 0; q < nq; q++) {
      const qv = ds.queries.subarray(q * dim, (q + 1) * dim);
      for (const b of (q + pass) & 1 ? [0, 1] : [1, 0]) {
        const a = performance.now();
        const h = ix[b].search(qv, k, { filter });
        const e = performance.now() - a;
        if (pass) times[b].push(e);
        else hits[b].push(h.map((x) => x.id).join());
      }
    }
  const same = hits[0].every((x, i) => x === hits[1][i]);
  console.log(`${filter.padEnd(14)} (${t / 100} %)  ${builds[0][0]} p50 ${p50(times[0])} us  ` +
    `${builds[1][0]} p50 ${p50(times[1])} us  same hits: ${same}`);
}
