// SPDX-License-Identifier: MIT
// A/B of two builds of the package on the Fiori text queries (bench/text/data,
// made by `node bench/text/data.mjs`): p50 and mean of 5 x 1000 searches, k 10.
//   node bench/text/ab_build.mjs PATH/TO/pocketvec.js PATH/TO/pocketvec.wasm
import fs from 'fs';
import { pathToFileURL } from 'url';
const mod = await import(pathToFileURL(process.argv[2]).href);
await mod.init(fs.readFileSync(process.argv[3]));
const dir = new URL('data/fiori/', import.meta.url).pathname;
const docs = fs.readFileSync(dir + 'docs.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const vec = new Float32Array(fs.readFileSync(dir + 'vectors.f32').buffer.slice(0));
const dim = 384;
const ix = new mod.Index({ dim, metric: 'cosine' });
ix.upsertBatch(docs.map((d, i) => ({ key: d.key, vector: vec.subarray(i * dim, (i + 1) * dim), text: d.text })));
const qs = JSON.parse(fs.readFileSync(dir + 'queries.json', 'utf8')).text.map((q) => q.q);
for (const q of qs) ix.search({ text: q }, 10);
const t = [];
for (let r = 0; r < 5; r++) for (const q of qs) { const s = performance.now(); ix.search({ text: q }, 10); t.push(performance.now() - s); }
t.sort((a, b) => a - b);
console.log(process.argv[3], 'p50', (t[t.length >> 1] * 1000).toFixed(1), 'mean', (t.reduce((a, b) => a + b) / t.length * 1000).toFixed(1));
