// SPDX-License-Identifier: MIT
// engines: the contestants of the text benchmark, each behind one small
// interface, so bench_text.mjs measures them all with one loop:
//
//   const e = await ENGINES[name]({ dim, pocketvec })  load (may throw)
//   e.version, e.config, e.scores, e.notes            what it is, how it is set up
//   e.build(docs)                 index [{ key, text, vector? }]
//   e.search(q, k)                full text: keys of the best k, best first
//   e.searchPrefix(q, k)          the last term also matches as a prefix;
//                                 null when the engine cannot
//   e.searchHybrid({ text, vector }, k)   text + vector; null when it cannot
//   e.searchVector(vector, k)     vector only; null when it cannot
//   e.memory()                    the engine's own figures ({} if none)
//   e.free()
//
// A search may return a Promise (Orama's may); the harness awaits it
// inside the timing, as a user would. Each adapter is what a user of that
// library would write from its documentation, with its default tokenizer,
// configured as close as it allows to "BM25-ish ranking of the documents
// that hold any of the terms". What each one really does is in `config`
// and `scores`, and in README.md.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rng } from './data.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, 'package.json'));
export const DEFAULT_POCKETVEC = resolve(here, '../../js/pocketvec.js');
const BATCH = 1000;

/** The installed version of an npm package (its package.json, found by walking up from its entry). */
export function pkgVersion(name) {
  let d;
  try { d = dirname(require.resolve(name)); } catch { return null; }
  for (let i = 0; i < 6; i++, d = dirname(d)) {
    try {
      const p = JSON.parse(readFileSync(join(d, 'package.json'), 'utf8'));
      if (p.name === name) return p.version;
    } catch { /* keep walking */ }
  }
  return null;
}

/** GCIDE has no embeddings: each document gets this small seeded unit vector. */
export function fillerVector(i, dim) {
  const r = rng(0x51ed + i);
  const v = new Float32Array(dim);
  let s = 0;
  for (let j = 0; j < dim; j++) { v[j] = r() * 2 - 1; s += v[j] * v[j]; }
  s = Math.sqrt(s) || 1;
  for (let j = 0; j < dim; j++) v[j] /= s;
  return v;
}

/* ---------------------------------------------------------- pocketvec -- */

// Written against the planned text API (docs/TEXT.md):
//   Index.create({ dim, metric }) or init() + new Index({ dim, metric })
//   idx.upsertBatch([{ key, vector, text }])
//   idx.search({ text }, k, { prefix })            -> [{ id, key, score }]
//   idx.search({ vector, text }, k, { fusion: 'rrf' })
//   idx.memoryUsage (a getter today; called if it is a function)
// A build without it is reported as such, not crashed on: a probe index of
// one document must find that document by a word of its text.
async function pocketvec(opts) {
  const path = opts.pocketvec ?? DEFAULT_POCKETVEC;
  if (!existsSync(path)) throw new Error(`pocketvec: ${path} is not built (make wasm)`);
  const api = await import(pathToFileURL(path).href);
  const info = typeof api.init === 'function' ? await api.init() : {};
  const dim = opts.dim;
  const make = async (capacity) => (typeof api.Index.create === 'function'
    ? await api.Index.create({ dim, metric: 'cosine' })
    : new api.Index({ dim, metric: 'cosine', capacity }));
  const usage = (ix) => (typeof ix.memoryUsage === 'function' ? ix.memoryUsage() : ix.memoryUsage);
  const fill = (docs, withText) => {
    const out = [];
    for (let i = 0; i < docs.length; i++) {
      const d = docs[i];
      const doc = { key: d.key, vector: d.vector ?? fillerVector(i, dim) };
      if (withText) doc.text = d.text;
      out.push(doc);
    }
    return out;
  };
  try {
    const probe = await make(1);
    probe.upsertBatch([{ key: 'probe', vector: fillerVector(0, dim), text: 'pocketvec probe document' }]);
    const hits = probe.search({ text: 'probe' }, 1);
    probe.free?.();
    if (!Array.isArray(hits) || hits.length !== 1 || hits[0].key !== 'probe') {
      throw new Error(`a probe document was not found by its text (got ${JSON.stringify(hits)?.slice(0, 200)})`);
    }
  } catch (e) {
    const err = new Error(`pocketvec: text API not available in this build (${e.message})`);
    err.unavailable = true;
    throw err;
  }
  let ix = null, filler = false, vectorOnly = null;
  const keys = (hits) => hits.map((h) => h.key);
  return {
    version: info.version ?? null,
    config: `Index({ dim: ${dim}, metric: 'cosine' }), upsertBatch({ key, vector, text }) in batches of ${BATCH}; `
      + 'search({ text }, k); prefix: search({ text }, k, { prefix: true }); hybrid: search({ vector, text }, k, { fusion: "rrf" })',
    scores: 'BM25 over the documents holding any term (docs/TEXT.md: its tokenizer, k1/b as built)',
    notes: info.kernels ? [`kernels ${info.kernels}`] : [],
    async build(docs) {
      filler = !docs[0]?.vector;
      ix = await make(docs.length);
      const all = fill(docs, true);
      for (let i = 0; i < all.length; i += BATCH) ix.upsertBatch(all.slice(i, i + BATCH));
    },
    search: (q, k) => keys(ix.search({ text: q }, k)),
    searchPrefix: (q, k) => keys(ix.search({ text: q }, k, { prefix: true })),
    searchHybrid: (q, k) => keys(ix.search({ vector: q.vector, text: q.text }, k, { fusion: 'rrf' })),
    searchVector: (v, k) => keys(ix.search(v, k)),
    // Its own accounting, and the same documents built again without their
    // text (memory and build time), to tell the text index's share (with
    // filler vectors, the vector part is the filler's).
    async memory(docs) {
      const out = { index_bytes: usage(ix), wasm_memory_bytes: info.memory?.buffer?.byteLength ?? null,
        vectors: filler ? `filler, ${dim}-d seeded random` : `the documents' own ${dim}-d` };
      try {
        const all = fill(docs, false);
        const t0 = performance.now();
        vectorOnly = await make(docs.length);
        for (let i = 0; i < all.length; i += BATCH) vectorOnly.upsertBatch(all.slice(i, i + BATCH));
        out.build_s_without_text = +((performance.now() - t0) / 1000).toFixed(3);
        out.index_bytes_without_text = usage(vectorOnly);
        out.text_part_bytes = out.index_bytes - out.index_bytes_without_text;
        vectorOnly.free?.();
        vectorOnly = null;
      } catch (e) { out.without_text_error = e.message; }
      return out;
    },
    free() { ix?.free?.(); ix = null; },
  };
}

/* --------------------------------------------------------- minisearch -- */

async function minisearch() {
  const { default: MiniSearch } = await import('minisearch');
  let ms = null;
  const lastPrefix = (term, i, terms) => i === terms.length - 1;
  return {
    version: pkgVersion('minisearch'),
    config: "new MiniSearch({ fields: ['text'], idField: 'key' }), addAll(docs); "
      + "search(q, { combineWith: 'OR', prefix: false, fuzzy: false }); prefix: prefix only for the last term",
    scores: 'BM25+ (k1 1.2, b 0.7, d 0.5), its default; default tokenizer (split on space and punctuation), lowercased',
    notes: ['search() returns every matching document, sorted: the adapter keeps the first k'],
    build(docs) {
      ms = new MiniSearch({ fields: ['text'], idField: 'key' });
      ms.addAll(docs);
    },
    search: (q, k) => ms.search(q, { combineWith: 'OR', prefix: false, fuzzy: false }).slice(0, k).map((r) => r.id),
    searchPrefix: (q, k) => ms.search(q, { combineWith: 'OR', prefix: lastPrefix, fuzzy: false }).slice(0, k).map((r) => r.id),
    searchHybrid: null,
    searchVector: null,
    memory: () => ({}),
    free() { ms = null; },
  };
}

/* --------------------------------------------------------- flexsearch -- */

async function flexsearch(opts, tokenize) {
  const { default: FlexSearch } = await import('flexsearch');
  let ix = null, keys = null;
  const run = (q, k) => ix.search(q, { limit: k, suggest: true }).map((id) => keys[id]);
  return {
    version: pkgVersion('flexsearch'),
    config: `new Index({ tokenize: '${tokenize}' }), add(i, text) per document; search(q, { limit: k, suggest: true })`
      + (tokenize === 'strict' ? ' (no prefix search: that needs tokenize "forward")' : ''),
    scores: 'not BM25: its own contextual score (where a term sits in the document, resolution 9); '
      + 'suggest: true returns documents holding some of the terms, not only all; default encoder',
    notes: tokenize === 'forward'
      ? ['tokenize "forward" indexes every prefix of every word: whole-term queries match prefixes of every term too']
      : [],
    build(docs) {
      ix = new FlexSearch.Index({ tokenize });
      keys = new Array(docs.length);
      for (let i = 0; i < docs.length; i++) { keys[i] = docs[i].key; ix.add(i, docs[i].text); }
    },
    search: run,
    searchPrefix: tokenize === 'forward' ? run : null,
    searchHybrid: null,
    searchVector: null,
    memory: () => ({}),
    free() { ix = null; keys = null; },
  };
}

/* -------------------------------------------------------------- Orama -- */

async function orama(opts) {
  const { create, insertMultiple, search } = await import('@orama/orama');
  let db = null;
  const ids = (res) => res.hits.map((h) => h.id);
  const then = (r) => (r && typeof r.then === 'function' ? r.then(ids) : ids(r));
  return {
    version: pkgVersion('@orama/orama'),
    config: "create({ schema: { text: 'string'"
      + (opts.vectors ? `, embedding: 'vector[${opts.dim}]'` : '') + ' } }), insertMultiple(docs with id = key); '
      + "search({ term, properties: ['text'], limit: k }) (threshold 1: any term)"
      + (opts.vectors ? "; hybrid: mode 'hybrid', vector { value, property: 'embedding' }, similarity 0 (default weights text 0.5, vector 0.5)" : ''),
    scores: 'BM25 (k1 1.2, b 0.75, d 0.5), its default; default tokenizer (english, no stemming, no stop words)',
    notes: ['its full-text search matches every query term as a prefix (radix tree, exact: false is the default); '
      + 'exact: true would also keep only documents holding all terms, case-sensitively, so the default is used for search and prefix alike',
    ...(opts.vectors ? ['vectors are given as plain arrays (it rejects Float32Array); vector search is a scan'] : [])],
    async build(docs) {
      const schema = { text: 'string' };
      if (opts.vectors) schema.embedding = `vector[${opts.dim}]`;
      db = create({ schema });
      const rows = docs.map((d) => (opts.vectors ? { id: d.key, text: d.text, embedding: Array.from(d.vector) } : { id: d.key, text: d.text }));
      await insertMultiple(db, rows, BATCH);
    },
    search: (q, k) => then(search(db, { term: q, properties: ['text'], limit: k })),
    searchPrefix: (q, k) => then(search(db, { term: q, properties: ['text'], limit: k })),
    searchHybrid: opts.vectors
      ? (q, k) => then(search(db, { mode: 'hybrid', term: q.text, properties: ['text'],
        vector: { value: q.vector, property: 'embedding' }, similarity: 0, limit: k }))
      : null,
    searchVector: opts.vectors
      ? (v, k) => then(search(db, { mode: 'vector', vector: { value: v, property: 'embedding' }, similarity: 0, limit: k }))
      : null,
    memory: () => ({}),
    free() { db = null; },
  };
}

/* ------------------------------------------------------------ bm25-ref -- */

// A plain JS reference, not a peer: an inverted index (term -> document
// numbers and term counts in typed arrays), every posting of every query
// term scored (BM25, k1 1.2, b 0.75, idf ln(1 + (N - df + 0.5) / (df + 0.5))),
// top k by a partial sort. Tokens: runs of letters and digits, lowercased.
// Prefix: the last term's postings of every word it begins, summed.
async function bm25ref() {
  const K1 = 1.2, B = 0.75;
  let keys, len, avg, n, post, vocab, score, touched;
  const tokens = (s) => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const addTerm = (t, mult) => {
    const p = post.get(t);
    if (!p) return;
    const idf = Math.log(1 + (n - p.docs.length + 0.5) / (p.docs.length + 0.5));
    for (let i = 0; i < p.docs.length; i++) {
      const d = p.docs[i], tf = p.tfs[i];
      if (score[d] === 0) touched.push(d);
      score[d] += mult * idf * (tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * len[d]) / avg));
    }
  };
  const top = (k) => {
    touched.sort((a, b) => score[b] - score[a] || a - b);
    const out = touched.slice(0, k).map((d) => keys[d]);
    for (const d of touched) score[d] = 0;
    touched = [];
    return out;
  };
  const terms = (q) => [...new Set(tokens(q))];
  return {
    version: 'bench/text/engines.mjs',
    config: 'inverted index in typed arrays, every posting scored (no pruning), partial sort',
    scores: 'BM25 (k1 1.2, b 0.75); tokens: runs of letters and digits, lowercased',
    notes: ['a reference for the overlap column, not a peer: left out of "fastest peer"'],
    build(docs) {
      n = docs.length;
      keys = docs.map((d) => d.key);
      len = new Float64Array(n);
      score = new Float64Array(n);
      touched = [];
      const lists = new Map();
      for (let d = 0; d < n; d++) {
        const tf = new Map();
        const ts = tokens(docs[d].text);
        len[d] = ts.length;
        for (const t of ts) tf.set(t, (tf.get(t) ?? 0) + 1);
        for (const [t, c] of tf) {
          let l = lists.get(t);
          if (!l) lists.set(t, (l = []));
          l.push(d, c);
        }
      }
      avg = len.reduce((a, b) => a + b, 0) / Math.max(1, n) || 1;
      post = new Map();
      for (const [t, l] of lists) {
        const m = l.length / 2, docsA = new Uint32Array(m), tfs = new Uint32Array(m);
        for (let i = 0; i < m; i++) { docsA[i] = l[2 * i]; tfs[i] = l[2 * i + 1]; }
        post.set(t, { docs: docsA, tfs });
      }
      vocab = [...post.keys()].sort();
    },
    search(q, k) {
      for (const t of terms(q)) addTerm(t, 1);
      return top(k);
    },
    searchPrefix(q, k) {
      const ts = terms(q);
      const last = ts.pop();
      for (const t of ts) addTerm(t, 1);
      if (last !== undefined) {
        let lo = 0, hi = vocab.length;
        while (lo < hi) { const mid = (lo + hi) >> 1; if (vocab[mid] < last) lo = mid + 1; else hi = mid; }
        for (let i = lo; i < vocab.length && vocab[i].startsWith(last); i++) if (!ts.includes(vocab[i])) addTerm(vocab[i], 1);
      }
      return top(k);
    },
    searchHybrid: null,
    searchVector: null,
    memory: () => ({}),
    free() { post = null; vocab = null; },
  };
}

/** Every engine by name; `peer` marks the ones the goal is measured against. */
export const ENGINES = {
  pocketvec: { load: pocketvec, peer: false, package: null },
  minisearch: { load: minisearch, peer: true, package: 'minisearch' },
  flexsearch: { load: (o) => flexsearch(o, 'strict'), peer: true, package: 'flexsearch' },
  'flexsearch-forward': { load: (o) => flexsearch(o, 'forward'), peer: true, package: 'flexsearch' },
  orama: { load: orama, peer: true, package: '@orama/orama' },
  'bm25-ref': { load: bm25ref, peer: false, package: null },
};
