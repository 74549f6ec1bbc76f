// SPDX-License-Identifier: MIT
// How much WebAssembly memory indexing text takes, by batch size: the
// Fiori docs (bench/text/data/fiori, `node bench/text/data.mjs --set
// fiori`) whole and cut into pieces of C characters, upserted with their
// MiniLM vectors in batches of B, each configuration in a fresh process
// (WebAssembly memory never shrinks, so its growth over the build is what
// a page keeps). Prints a table; --out writes the figures as JSON.
//
//   node bench/text/batch_memory.mjs [--pocketvec js/pocketvec.js] [--out FILE]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const DATA = join(HERE, 'data', 'fiori');
const arg = (name, d) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : d; };

if (process.argv[2] === '--child') {
  const [, , , path, b, c] = process.argv, B = +b, C = +c;
  const api = await import(pathToFileURL(path).href);
  const docs = readFileSync(join(DATA, 'docs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const vec = new Float32Array(readFileSync(join(DATA, 'vectors.f32')).buffer.slice(0));
  const info = await api.init();
  const all = [];
  docs.forEach((d, i) => {
    const v = vec.subarray(i * 384, i * 384 + 384);
    if (!C) all.push({ key: d.key, vector: v, text: d.text });
    else for (let o = 0; o < d.text.length; o += C) all.push({ key: `${d.key}#${o}`, vector: v, text: d.text.slice(o, o + C) });
  });
  const m0 = info.memory.buffer.byteLength;
  const ix = new api.Index({ dim: 384, metric: 'cosine' });
  const t0 = performance.now();
  for (let i = 0; i < all.length; i += B) ix.upsertBatch(all.slice(i, i + B));
  const s = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ docs: all.length, batch: B, chunk: C, text_bytes: all.reduce((t, d) => t + Buffer.byteLength(d.text), 0),
    wasm_growth_bytes: info.memory.buffer.byteLength - m0, index_bytes: ix.memoryUsage, build_s: +s.toFixed(3) }));
} else {
  const pv = arg('--pocketvec', join(HERE, '..', '..', 'js', 'pocketvec.js')), out = arg('--out');
  const rows = [];
  for (const chunk of [0, 300, 2000, 8000])
    for (const batch of [1, 100, 1000]) {
      const r = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', pv, String(batch), String(chunk)], { encoding: 'utf8' }));
      rows.push(r);
      console.log(`| ${chunk ? `${chunk}-char pieces` : 'whole docs'} | ${r.docs} | ${batch} | ${(r.wasm_growth_bytes / 1e6).toFixed(2)} | ${(r.index_bytes / 1e6).toFixed(2)} | ${r.build_s} |`);
    }
  if (out) writeFileSync(out, `${JSON.stringify({ command: `node bench/text/batch_memory.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    date: new Date().toISOString(), node: process.version, pocketvec: pv, rows }, null, 1)}\n`);
}
