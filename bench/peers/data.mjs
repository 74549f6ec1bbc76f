// SPDX-License-Identifier: MIT
// The datasets of the peer benchmark, written once to bench/.cache/peers/
// as plain files every contestant reads the same way (child.mjs, and the
// C driver bench/peer_native.c): dims.txt, base.f32 (n x dim, little-endian
// float32), queries.f32 (nq x dim) or an empty `loo` file for leave-one-out
// sets, truth.u32 (nq x 10 base indexes of the exact nearest, by cosine, in
// double precision), and meta.json. Nothing large is committed: the
// synthetic sets are regenerated from their seeds, the real ones are read
// from an npm package (minilm) or trained here (word100).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDataset, datasetTruth, defaultClusters, readTruthCache, writeTruthCache } from '../datagen.mjs';
import { prepare as prepareText, readDocs } from '../text/data.mjs';

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

/** Exact top-K by cosine of each query against the base, in double precision. */
function queryTruth(base, n, queries, nq, dim) {
  const norm = (v, i) => {
    let s = 0;
    for (let j = 0; j < dim; j++) s += v[i * dim + j] * v[i * dim + j];
    return Math.sqrt(s);
  };
  const bn = Float64Array.from({ length: n }, (_, i) => norm(base, i));
  const gt = new Uint32Array(nq * K);
  // The best K so far, ascending by (distance, index): an insertion into
  // K slots, not a sort of the whole base per query.
  const bd = new Float64Array(K), bi = new Uint32Array(K);
  for (let q = 0; q < nq; q++) {
    const qn = norm(queries, q);
    let have = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += queries[q * dim + j] * base[i * dim + j];
      const d = 1 - s / (qn * bn[i]);
      if (have === K && d >= bd[K - 1]) continue;   // ties keep the lower index
      let at = have < K ? have++ : K - 1;
      while (at > 0 && bd[at - 1] > d) { bd[at] = bd[at - 1]; bi[at] = bi[at - 1]; at--; }
      bd[at] = d;
      bi[at] = i;
    }
    gt.set(bi, q * K);
  }
  return gt;
}

// word100: real 100-dimensional word vectors, as the issue that asked for
// F32 parity measured them (50k words, cosine). No such set is on npm or in
// Debian, so it is trained here: fastText (Debian's `fasttext`, installed
// with apt-get when missing and we are root) in CBOW mode, 100 dimensions,
// 5 epochs, words seen at least 3 times, no subword n-grams, one thread
// and seed 1 (so the same corpus gives the same vectors, byte for byte),
// on the text of the GNU Collaborative International Dictionary of
// English (Debian's dict-gcide, made into documents by bench/text/data.mjs,
// lowercased, runs of letters as words: 4.7 M words). fastText lists the
// words by falling frequency; of the first WORD_BASE + WORD_QUERIES words
// made of letters only, every (WORD_BASE / WORD_QUERIES + 1)-th one is a
// held-out query and the rest the base, so queries span common and rare
// words alike. Vectors are scaled to unit length. Takes about 1.5 minutes
// once.
const WORD_BASE = 50000, WORD_QUERIES = 1000, WORD_DIM = 100;

function fasttextBinary(log) {
  const found = () => {
    try { execFileSync('fasttext', [], { stdio: 'ignore' }); } catch (e) { return e.code !== 'ENOENT'; }
    return true;
  };
  if (found()) return 'fasttext';
  if (process.getuid?.() !== 0) throw new Error('word100 needs fastText: apt-get install fasttext (as root)');
  log('  word100: installing Debian\'s fasttext (apt-get)');
  const apt = (...a) => execFileSync('apt-get', a, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try { apt('install', '-y', 'fasttext'); } catch { apt('update'); apt('install', '-y', 'fasttext'); }
  if (!found()) throw new Error('apt-get install fasttext left no fasttext command');
  return 'fasttext';
}

function prepareWords(dir, log) {
  const text = prepareText('gcide', {}, log);
  const corpus = readDocs('gcide').map((d) => (d.text.toLowerCase().match(/\p{L}+/gu) ?? []).join(' ')).join('\n') + '\n';
  const work = join(dir, 'fasttext');
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'corpus.txt'), corpus);
  const args = ['cbow', '-input', join(work, 'corpus.txt'), '-output', join(work, 'model'), '-dim', String(WORD_DIM),
    '-epoch', '5', '-minCount', '3', '-maxn', '0', '-thread', '1', '-seed', '1', '-verbose', '0'];
  log(`  word100: training fastText on GCIDE (${(corpus.length / 1e6).toFixed(1)} MB of text): fasttext ${args.join(' ')}`);
  execFileSync(fasttextBinary(log), args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const vecText = readFileSync(join(work, 'model.vec'), 'utf8');
  const vecSha = createHash('sha256').update(vecText).digest('hex');
  rmSync(work, { recursive: true, force: true });
  const lines = vecText.split('\n');
  const [vocab, dim] = lines[0].split(' ').map(Number);
  if (dim !== WORD_DIM) throw new Error(`fastText wrote ${dim} dimensions, not ${WORD_DIM}`);
  const every = WORD_BASE / WORD_QUERIES + 1;
  const base = new Float32Array(WORD_BASE * dim), queries = new Float32Array(WORD_QUERIES * dim);
  const words = { base: [], queries: [] };
  let taken = 0;
  for (let i = 1; i < lines.length && taken < WORD_BASE + WORD_QUERIES; i++) {
    const f = lines[i].trim().split(' ');
    if (f.length !== dim + 1 || !/^\p{L}+$/u.test(f[0])) continue;
    const v = f.slice(1).map(Number);
    const norm = Math.hypot(...v);
    if (!v.every(Number.isFinite) || !(norm > 0)) continue;
    // Unit length, as cosine users store them: the libraries that only
    // rank by L2 (voy-search; edgevec, whose cosine is wrong) then rank
    // as cosine does, and the exact top-10 is the same either way.
    for (let j = 0; j < dim; j++) v[j] /= norm;
    const isQuery = taken % every === every - 1;
    const into = isQuery ? queries : base, at = isQuery ? words.queries.length : words.base.length;
    into.set(v, at * dim);
    (isQuery ? words.queries : words.base).push(f[0]);
    taken++;
  }
  if (words.base.length !== WORD_BASE || words.queries.length !== WORD_QUERIES) {
    throw new Error(`fastText gave ${words.base.length} base and ${words.queries.length} query words (of ${vocab}), not ${WORD_BASE} and ${WORD_QUERIES}`);
  }
  log(`  word100: ${vocab} words trained; exact top-${K} of ${WORD_QUERIES} held-out words by brute force`);
  writeAtomic(join(dir, 'base.f32'), asBytes(base));
  writeAtomic(join(dir, 'queries.f32'), asBytes(queries));
  writeAtomic(join(dir, 'truth.u32'), asBytes(queryTruth(base, WORD_BASE, queries, WORD_QUERIES, dim)));
  writeAtomic(join(dir, 'dims.txt'), String(dim));
  writeAtomic(join(dir, 'words.json'), JSON.stringify(words));
  return { schema: 1, name: 'word100', n: WORD_BASE, dim, queries: WORD_QUERIES, loo: false, unit: true,
    source: `fastText ${args.slice(0, 1).concat(args.slice(5)).join(' ')} on ${text.source} (bench/peers/data.mjs)`,
    vec_sha256: vecSha, vocabulary: vocab,
    description: `${WORD_BASE} real word vectors (fastText CBOW, ${dim}-d, trained on the GCIDE dictionary, unit length), ${WORD_QUERIES} held-out words as queries` };
}

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
    if (meta.schema === 1 && (name !== 'word100' || meta.unit)) return { dir, meta };
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
  } else if (name === 'word100') {
    meta = prepareWords(dir, log);
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
