// SPDX-License-Identifier: MIT
// The WASM build against the native library on the same seed, data and
// operations: the same ids and the same distances. The f32 kernels follow
// one canonical order of operations and SQ8 is exact integer arithmetic, so
// the distances are not just within 1e-5: they are bit-identical, and the
// graphs are the same (which the approximate searches, with an ef small
// enough to miss, depend on). Native results come from build/pv_native_ref
// (wasm/test/native_ref.c, built by `make test-js-deps`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { init, Index } from '../index.js';
import { clustered, row } from './helpers/data.mjs';
import { nativeRef, need } from './helpers/paths.mjs';

await init();
const METRIC = { cosine: 0, l2: 1, dot: 2 }, QUANT = { f32: 0, sq8: 1 };

const SCENARIOS = [
  { metric: 'cosine', quantization: 'f32', dim: 96, n: 1500, nq: 40, k: 10, ef: 16, m: 8,
    efConstruction: 64, efSearch: 64, seed: 0x123456789abcdef0n, del: (i) => i % 7 === 3, compact: true },
  { metric: 'l2', quantization: 'sq8', dim: 383, n: 800, nq: 30, k: 5, ef: 10, m: 12,
    efConstruction: 40, efSearch: 32, seed: 7n, del: () => false, compact: false },
  { metric: 'dot', quantization: 'f32', dim: 17, n: 2000, nq: 50, k: 20, ef: 20, m: 4,
    efConstruction: 16, efSearch: 24, seed: 99n, del: (i) => i % 5 < 2, compact: false },
  { metric: 'cosine', quantization: 'sq8', dim: 768, n: 400, nq: 20, k: 10, ef: 12, m: 16,
    efConstruction: 200, efSearch: 64, seed: 1n, del: (i) => i % 3 === 0, compact: true },
  { metric: 'l2', quantization: 'f32', dim: 4096, n: 120, nq: 10, k: 7, ef: 8, m: 6,
    efConstruction: 20, efSearch: 10, seed: 5n, del: (i) => i === 0, compact: false },
];

function runNative(s, base, queries, del) {
  const h = new Uint32Array([s.dim, METRIC[s.metric], QUANT[s.quantization], s.m,
    s.efConstruction, s.efSearch, Number(s.seed & 0xffffffffn), Number(s.seed >> 32n), s.n, s.nq,
    s.k, s.ef, del.length, s.compact ? 1 : 0]);
  const input = Buffer.concat([h, base, queries, new Uint32Array(del)].map((a) =>
    Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  const r = spawnSync(need(nativeRef), { input, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `native_ref failed: ${r.stderr}`);
  const out = r.stdout, dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let o = 0;
  const u = () => { const v = dv.getUint32(o, true); o += 4; return v; };
  const f = () => { const v = dv.getFloat32(o, true); o += 4; return v; };
  const ids = Array.from({ length: s.n }, u);
  const hits = () => Array.from({ length: u() }, () => ({ id: u(), distance: f() }));
  const results = Array.from({ length: s.nq }, () => ({ search: hits(), exact: hits() }));
  const res = { ids, results, live: u(), deleted: u(), kernels: String(r.stderr).trim() };
  assert.equal(o, out.length, 'native output has the expected length');
  return res;
}

for (const s of SCENARIOS) {
  const name = `${s.metric}/${s.quantization} dim ${s.dim}, ${s.n} vectors, m ${s.m}, ef ${s.ef}`;
  test(`same ids and distances as native: ${name}`, (t) => {
    const base = clustered(s.n, s.dim, { seed: s.dim + s.n });
    const queries = clustered(s.nq, s.dim, { seed: s.dim * 3 + 1 });
    const del = Array.from({ length: s.n }, (_, i) => i).filter(s.del);
    const native = runNative(s, base, queries, del);

    const ix = new Index({ dim: s.dim, metric: s.metric, quantization: s.quantization, m: s.m,
      efConstruction: s.efConstruction, efSearch: s.efSearch, seed: s.seed });
    assert.deepEqual([...ix.addBatch(base)], native.ids);
    for (const id of del) ix.delete(id);
    if (s.compact) ix.compact();
    ix.check();
    assert.equal(ix.size, native.live);
    assert.equal(ix.deletedCount, native.deleted);

    let approximate = 0, maxDiff = 0;
    for (let q = 0; q < s.nq; q++) {
      const query = row(queries, s.dim, q);
      const got = { search: ix.search(query, s.k, { ef: s.ef }), exact: ix.searchExact(query, s.k) };
      const want = native.results[q];
      for (const kind of ['search', 'exact']) {
        assert.deepEqual(got[kind].map((h) => h.id), want[kind].map((h) => h.id), `${kind} ids, query ${q}`);
        got[kind].forEach((h, i) => {
          const d = Math.abs(h.distance - want[kind][i].distance);
          maxDiff = Math.max(maxDiff, d);
          assert.ok(d <= 1e-5, `${kind} query ${q} hit ${i}: ${h.distance} vs ${want[kind][i].distance}`);
          assert.equal(h.distance, want[kind][i].distance, `bit-identical: ${kind} query ${q} hit ${i}`);
        });
      }
      if (got.search.some((h, i) => h.id !== got.exact[i]?.id)) approximate++;
    }
    t.diagnostic(`${native.kernels} vs simd128; ${approximate}/${s.nq} graph searches differ ` +
      `from brute force (both sides alike); max |distance diff| ${maxDiff}`);
    ix.free();
  });
}
