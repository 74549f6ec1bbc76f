// SPDX-License-Identifier: MIT
// bench/datagen.mjs, the JavaScript port of common/datagen.c that the WASM
// benchmark uses, against the C generator itself: the same floats bit for
// bit, the same exact top-k (ties included), and the native benchmark's
// truth-cache fingerprint and file format. The C side is bench/dump_dataset.c,
// compiled here with the benchmark's flags (it needs only cc and libm).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { makeDataset, datasetTruth, defaultClusters, fingerprint, readTruthCache,
  writeTruthCache } from '../../bench/datagen.mjs';
import { root } from './helpers/paths.mjs';

let dir, dump;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pv-datagen-'));
  dump = join(dir, 'dump_dataset');
  const cc = process.env.CC || 'cc';
  const r = spawnSync(cc, ['-std=c11', '-Wall', '-Wextra', '-Werror', '-ffp-contract=off', '-O3',
    '-Icommon', 'bench/dump_dataset.c', 'common/datagen.c', '-lm', '-o', dump], { cwd: root });
  assert.equal(r.status, 0, `${cc} could not build bench/dump_dataset.c: ${r.error ?? r.stderr}`);
});

after(() => rmSync(dir, { recursive: true, force: true }));

// The C generator's output: { data: (n + nq) * dim floats, truth: nq * k ids }.
function native({ dim, n, nq, clusters, seed, k, repeat = 0 }) {
  const r = spawnSync(dump, [dim, n, nq, clusters, seed, k, repeat].map(String),
    { maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `dump_dataset failed: ${r.error ?? r.stderr}`);
  const floats = 4 * (n + nq) * dim;
  assert.equal(r.stdout.length, floats + 4 * nq * k, 'dump_dataset output length');
  return { data: r.stdout.subarray(0, floats), truth: r.stdout.subarray(floats) };
}

const bytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

// Where two buffers of floats first differ, for a readable failure.
function firstDiff(a, b) {
  for (let i = 0; i < a.length; i += 4)
    if (a.readUInt32LE(i) !== b.readUInt32LE(i))
      return `float ${i / 4}: JS ${a.readFloatLE(i)} vs C ${b.readFloatLE(i)}`;
  return 'none';
}

const CASES = [
  { dim: 17, n: 300, nq: 5, clusters: 0, seed: 1, k: 10 },
  { dim: 17, n: 300, nq: 5, clusters: 0, seed: 2, k: 10 },
  { dim: 384, n: 300, nq: 5, clusters: 0, seed: 1, k: 10 },
  { dim: 384, n: 300, nq: 5, clusters: 0, seed: 2, k: 10 },
  // n / 100 above 8 clusters; more queries than one block of the JS truth.
  { dim: 5, n: 1200, nq: 11, clusters: 0, seed: 3, k: 10 },
  // Explicit clusters, a seed that wraps the state at once, k of 1.
  { dim: 3, n: 40, nq: 9, clusters: 3, seed: 0xffffffff, k: 1 },
  { dim: 768, n: 20, nq: 2, clusters: 2, seed: 7, k: 20 },
];

for (const c of CASES) {
  test(`same floats and top-${c.k} as C: dim ${c.dim}, n ${c.n}, nq ${c.nq}, ` +
       `clusters ${c.clusters}, seed ${c.seed}`, () => {
    const want = native(c);
    const ds = makeDataset(c.dim, c.n, c.nq, c.clusters, c.seed);
    assert.equal(ds.clusters, c.clusters || defaultClusters(c.n));
    assert.equal(ds.base.length, c.n * c.dim);
    assert.equal(ds.queries.length, c.nq * c.dim);
    assert.equal(ds.queries.byteOffset, ds.base.byteOffset + ds.base.byteLength);
    const all = new Float32Array(ds.base.buffer, ds.base.byteOffset, (c.n + c.nq) * c.dim);
    const got = bytes(all);
    assert.ok(got.equals(want.data), `the floats differ; first at ${firstDiff(got, want.data)}`);
    assert.ok(bytes(datasetTruth(ds, c.k)).equals(want.truth), 'the exact top-k differs');
  });
}

test('exact ties are broken as in C (lower base index first)', () => {
  // Base vector i becomes a copy of vector i % 37: every distance comes
  // eight or nine times over.
  const c = { dim: 17, n: 300, nq: 5, clusters: 0, seed: 1, k: 10, repeat: 37 };
  const want = native(c);
  const ds = makeDataset(c.dim, c.n, c.nq, c.clusters, c.seed);
  for (let i = c.repeat; i < c.n; i++)
    ds.base.copyWithin(i * c.dim, (i % c.repeat) * c.dim, (i % c.repeat + 1) * c.dim);
  const truth = datasetTruth(ds, c.k);
  assert.ok(bytes(truth).equals(want.truth),
    `top-k with ties: JS ${truth} vs C ${new Uint32Array(Uint8Array.from(want.truth).buffer)}`);
  assert.deepEqual([...truth.subarray(0, 2)].map((i) => i % c.repeat),
    [truth[0], truth[0]], 'the first two hits are copies of one vector');
});

test('fingerprint is 64-bit FNV-1a over the float bits, base then queries', () => {
  const ds = makeDataset(17, 50, 3, 0, 5);
  let h = 0xcbf29ce484222325n;
  const all = new Uint32Array(ds.base.buffer, 0, (50 + 3) * 17);
  for (const bits of all) h = ((h ^ BigInt(bits)) * 0x100000001b3n) & 0xffffffffffffffffn;
  assert.equal(fingerprint(ds), h);
});

test('truth cache: the native format, read back, rejected when it does not match', () => {
  const ds = makeDataset(17, 300, 5, 0, 1);
  const gt = datasetTruth(ds, 10);
  const path = join(dir, 'cache', 't-truth.bin');
  writeTruthCache(path, ds, 10, 1, gt);
  const file = readFileSync(path);
  assert.equal(file.length, 64 + 4 * 5 * 10);
  assert.equal(file.subarray(0, 8).toString('latin1'), 'PVTRUTH1');
  assert.deepEqual(readTruthCache(path, ds, 10, 1), gt);
  const why = {};
  assert.equal(readTruthCache(path, ds, 10, 2, why), null, 'another seed');
  assert.match(why.reason, /header field 6/);
  assert.equal(readTruthCache(path, makeDataset(17, 300, 5, 0, 2), 10, 1), null, 'other vectors');
  assert.equal(readTruthCache(join(dir, 'none.bin'), ds, 10, 1), null, 'no file');
  writeFileSync(path, file.subarray(0, file.length - 1));
  assert.equal(readTruthCache(path, ds, 10, 1), null, 'truncated');
  const bad = Buffer.from(file);
  bad.writeUInt32LE(300, 64);
  writeFileSync(path, bad);
  assert.equal(readTruthCache(path, ds, 10, 1), null, 'an index out of range');
});

// bench/scale/gen_scale.c streams the same generator to .npy files and
// computes the truth in a second pass over the file: the same floats and
// ids as pv_dataset_make and pv_dataset_truth, in NumPy's format.
test('gen_scale (the scale benchmark data) writes the generator\'s floats and truth as .npy', () => {
  const gen = join(dir, 'gen_scale'), out = join(dir, 'scale');
  const cc = process.env.CC || 'cc';
  let r = spawnSync(cc, ['-std=c11', '-Wall', '-Wextra', '-Werror', '-ffp-contract=off', '-O3', '-Icommon',
    'bench/scale/gen_scale.c', 'common/datagen.c', '-lm', '-lpthread', '-o', gen], { cwd: root });
  assert.equal(r.status, 0, `${cc} could not build bench/scale/gen_scale.c: ${r.error ?? r.stderr}`);
  // Blocks of 4096 vectors: 9000 spans three, the last one short.
  const c = { dim: 24, n: 9000, nq: 13, clusters: 40, seed: 11, k: 10 };
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  r = spawnSync(gen, [c.dim, c.n, c.nq, c.clusters, c.seed, c.k, out].map(String), { encoding: 'utf8' });
  assert.equal(r.status, 0, `gen_scale failed: ${r.stderr}`);
  const want = native(c);
  const npy = (name, rows) => {
    const b = readFileSync(join(out, name)), hlen = b.readUInt16LE(8);
    assert.equal(b.subarray(0, 8).toString('latin1'), '\x93NUMPY\x01\x00');
    assert.equal((10 + hlen) % 64, 0, 'the data starts on a 64-byte boundary');
    assert.match(b.toString('latin1', 10, 10 + hlen), new RegExp(`^\\{'descr': '<f4', 'fortran_order': False, 'shape': \\(${rows}, ${c.dim}\\), \\} *\\n$`));
    return b.subarray(10 + hlen);
  };
  const got = Buffer.concat([npy('base.npy', c.n), npy('queries.npy', c.nq)]);
  assert.equal(firstDiff(got, want.data), 'none');
  assert.ok(got.equals(want.data));
  assert.ok(readFileSync(join(out, 'truth.bin')).equals(want.truth), 'the exact top-k');
});
