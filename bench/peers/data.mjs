// SPDX-License-Identifier: MIT
// The datasets of the peer benchmark, written once to bench/.cache/peers/
// as plain files every contestant reads the same way (child.mjs, and the
// C driver bench/peer_native.c): dims.txt, base.f32 (n x dim, little-endian
// float32), queries.f32 (nq x dim) or an empty `loo` file for leave-one-out
// sets, truth.u32 (nq x 10 base indexes of the exact nearest, by cosine, in
// double precision), and meta.json. Nothing large is committed: the
// synthetic sets are regenerated from their seeds, the real one is read
// from its npm package.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDataset, datasetTruth, defaultClusters, readTruthCache, writeTruthCache } from '../datagen.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CACHE = join(here, '../.cache');
const require = createRequire(join(here, '../package.json'));
const K = 10;

export const MINILM_PACKAGE = '@sap-ux/fiori-docs-embeddings';

/** Synthetic sets: the clustered mixture of bench/datagen.mjs (unit vectors). */
export const SYNTHETIC = {
  '10k-384': { n: 10000, dim: 384, nq: 200, seed: 1 },
  '100k-768': { n: 100000, dim: 768, nq: 200, seed: 2 },
  '5k-384': { n: 5000, dim: 384, nq: 200, seed: 1 },
  '2k-128': { n: 2000, dim: 128, nq: 200, seed: 5 },
};

function writeAtomic(path, data) {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

const asBytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Exact top-K by cosine for each base vector against all others. */
function looTruth(base, n, dim) {
  const norm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += base[i * dim + j] * base[i * dim + j];
    norm[i] = Math.sqrt(s);
  }
  const gt = new Uint32Array(n * K);
  const dist = new Float64Array(n);
  const order = new Uint32Array(n);
  for (let q = 0; q < n; q++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += base[q * dim + j] * base[i * dim + j];
      dist[i] = 1 - s / (norm[q] * norm[i]);
      order[i] = i;
    }
    dist[q] = Infinity;
    order.sort((a, b) => dist[a] - dist[b] || a - b);
    gt.set(order.subarray(0, K), q * K);
  }
  return gt;
}

/**
 * The directory of dataset `name`, written if missing or stale. Returns
 * { dir, meta }. Throws with a clear message if the real embeddings are
 * not installed.
 */
export function prepare(name, log = () => {}) {
  const dir = join(CACHE, 'peers', name);
  const metaPath = join(dir, 'meta.json');
  if (existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    if (meta.schema === 1) return { dir, meta };
  }
  mkdirSync(dir, { recursive: true });
  let meta;
  if (name === 'minilm') {
    let pkgDir;
    try {
      pkgDir = dirname(require.resolve(`${MINILM_PACKAGE}/package.json`));
    } catch {
      throw new Error(`${MINILM_PACKAGE} is not installed: run npm install in bench/`);
    }
    const emb = join(pkgDir, 'data/embeddings');
    const info = JSON.parse(readFileSync(join(emb, 'metadata.json'), 'utf8'));
    const raw = readFileSync(join(emb, 'embeddings.bin'));
    const dim = info.dimensions, n = info.totalVectors;
    if (raw.length !== n * dim * 4) throw new Error(`${emb}/embeddings.bin: ${raw.length} bytes, expected ${n} x ${dim} floats`);
    const base = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    log(`  minilm: ${n} x ${dim} from ${MINILM_PACKAGE}; exact leave-one-out top-${K}`);
    writeAtomic(join(dir, 'base.f32'), asBytes(base));
    writeAtomic(join(dir, 'loo'), '');
    writeAtomic(join(dir, 'truth.u32'), asBytes(looTruth(base, n, dim)));
    writeAtomic(join(dir, 'dims.txt'), String(dim));
    const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
    meta = { schema: 1, name, n, dim, queries: n, loo: true, source: `${MINILM_PACKAGE}@${version}`,
      model: info.model, description: `${n} real sentence embeddings (${info.model}), each one a query against the others` };
  } else {
    const w = SYNTHETIC[name];
    if (!w) throw new Error(`no dataset named ${name}`);
    log(`  ${name}: generating ${w.n} x ${w.dim} + ${w.nq} queries (seed ${w.seed})`);
    const ds = makeDataset(w.dim, w.n, w.nq, 0, w.seed);
    // bench_native's truth cache for the same seed, if it holds these floats.
    const tc = join(CACHE, `${name}-truth.bin`);
    let gt = readTruthCache(tc, ds, K, w.seed);
    if (!gt) {
      log('  exact top-10 by brute force (cached for next time)');
      gt = datasetTruth(ds, K);
      try { writeTruthCache(tc, ds, K, w.seed, gt); } catch { /* only costs time */ }
    }
    writeAtomic(join(dir, 'base.f32'), asBytes(ds.base));
    writeAtomic(join(dir, 'queries.f32'), asBytes(ds.queries));
    writeAtomic(join(dir, 'truth.u32'), asBytes(gt));
    writeAtomic(join(dir, 'dims.txt'), String(w.dim));
    meta = { schema: 1, name, n: w.n, dim: w.dim, queries: w.nq, loo: false, seed: w.seed,
      clusters: defaultClusters(w.n),
      description: `clustered Gaussian mixture, unit vectors (bench/datagen.mjs, seed ${w.seed}), ${w.nq} held-out queries` };
  }
  writeAtomic(metaPath, `${JSON.stringify(meta, null, 2)}\n`);
  return { dir, meta };
}
