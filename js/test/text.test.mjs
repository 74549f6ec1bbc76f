// SPDX-License-Identifier: MIT
// Full-text and hybrid search from JS: BM25 against a model computed here
// from the words alone, through upserts, replacements and deletes, with
// filters and prefixes; the pruned search against the exhaustive one;
// hybrid fusion against its formulas; text options and documents' text
// through save and load; every bad input a PocketVecError that changes
// nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { init, Index, ErrorCode } from '../index.js';
import { fails } from './helpers/fails.mjs';

await init();
const { INVALID } = ErrorCode;


// A seeded generator (xorshift), so a failure replays.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => ((s ^= s << 13, s ^= s >>> 17, s ^= s << 5) >>> 0) / 4294967296;
}

const VOCAB = Array.from({ length: 200 }, (_, i) => `w${i}`);
// Skewed towards the first words: common terms with long posting lists.
const word = (r) => VOCAB[Math.floor(VOCAB.length * r() ** 3)];

// The model: live documents' words, BM25 from them alone.
class Model {
  docs = new Map(); // id -> { words, g }
  score(doc, terms, k1 = 1.2, b = 0.75) {
    const live = [...this.docs.values()].filter((d) => d.words.length);
    const N = live.length, avg = live.reduce((t, d) => t + d.words.length, 0) / N;
    let s = 0;
    for (const t of terms) {
      const tf = doc.words.filter((w) => w === t).length;
      if (!tf) continue;
      const df = live.filter((d) => d.words.includes(t)).length;
      const idf = Math.log(1 + (N - df + 0.5) / (df + 0.5));
      s += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * doc.words.length / avg));
    }
    return s;
  }
  top(terms, k, g, k1, b) {
    return [...this.docs].filter(([, d]) => g === undefined || d.g < g)
      .map(([id, d]) => [id, this.score(d, terms, k1, b)]).filter(([, s]) => s > 0)
      .sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, k);
  }
}

function checkHits(hits, want, what) {
  assert.equal(hits.length, want.length, `${what}: ${hits.length} hits, the model ${want.length}`);
  for (let i = 0; i < hits.length; i++) {
    const tol = 1e-4 * Math.max(1, want[i][1]);
    assert.ok(Math.abs(hits[i].score - want[i][1]) <= tol, `${what}: rank ${i} score ${hits[i].score}, model ${want[i][1]}`);
  }
}

test('BM25 against the model, through upserts, replacements, deletes and filters', () => {
  const r = rng(42), ix = new Index({ dim: 4, metric: 'l2', compactThreshold: 0.2 }), m = new Model();
  const doc = (key) => {
    const words = Array.from({ length: 1 + Math.floor(r() * 30) }, () => word(r));
    const g = Math.floor(r() * 10);
    // Case, punctuation and spacing that tokenizing must see through.
    const text = words.map((x) => (r() < 0.3 ? x.toUpperCase() : x)).join(r() < 0.5 ? ' ' : ', ');
    return [{ key, vector: [r(), r(), r(), r()], attributes: { g }, text }, { words, g }];
  };
  const byKey = new Map();
  const put = (key) => {
    const [d, md] = doc(key), id = ix.upsert(d);
    if (byKey.has(key)) m.docs.delete(byKey.get(key));
    byKey.set(key, id);
    m.docs.set(id, md);
  };
  for (let i = 0; i < 300; i++) put(`k${i}`);
  const queries = (n) => {
    for (let q = 0; q < n; q++) {
      const terms = [...new Set(Array.from({ length: 1 + Math.floor(r() * 3) }, () => word(r)))];
      const k = 1 + Math.floor(r() * 15), g = r() < 0.3 ? 1 + Math.floor(r() * 9) : undefined;
      const opts = g === undefined ? {} : { filter: { g: { $lt: g } } };
      const hits = ix.search({ text: terms.join(' ') }, k, opts);
      const exact = ix.searchExact({ text: terms.join(' ') }, k, opts);
      assert.deepEqual(hits, exact, 'pruned and exhaustive agree');
      checkHits(hits, m.top(terms, k, g), `"${terms.join(' ')}" k ${k}`);
      for (const h of hits) assert.equal(h.key, [...byKey].find(([, id]) => id === h.id)[0]);
    }
  };
  queries(60);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 80; i++) {
      const key = `k${Math.floor(r() * 300)}`;
      if (r() < 0.3 && byKey.has(key)) {
        ix.delete(key);
        m.docs.delete(byKey.get(key));
        byKey.delete(key);
      } else put(key);
    }
    ix.check();
    queries(30);
  }
  // k1 and b are the query's.
  const hits = ix.search({ text: 'w1 w2' }, 5, { k1: 2, b: 0.3 });
  checkHits(hits, m.top(['w1', 'w2'], 5, undefined, 2, 0.3), 'k1 2, b 0.3');
  ix.free();
});

test('prefix queries: the last word also matches the longer terms it begins', () => {
  const ix = new Index({ dim: 2, metric: 'l2' });
  ix.upsertBatch([
    { key: 'a', vector: [1, 0], text: 'deploy to cloud foundry' },
    { key: 'b', vector: [0, 1], text: 'deployment guide' },
    { key: 'c', vector: [1, 1], text: 'cloudy weather' },
  ]);
  const keys = (q, o) => ix.search({ text: q }, 10, o).map((h) => h.key).sort();
  assert.deepEqual(keys('deplo'), []);
  assert.deepEqual(keys('deplo', { prefix: true }), ['a', 'b']);
  assert.deepEqual(keys('deplo guide', { prefix: true }), ['b']); // only the last word is a prefix
  assert.deepEqual(keys('guide clou', { prefix: true }), ['a', 'b', 'c']);
  assert.deepEqual(keys('cloud', { prefix: true }), ['a', 'c']);
  ix.free();
});

test('hybrid: both sides under the filter, fused by the formulas', () => {
  const r = rng(7), ix = new Index({ dim: 3, metric: 'l2' });
  const docs = Array.from({ length: 120 }, (_, i) => ({
    key: `d${i}`, vector: [r(), r(), r()], attributes: { g: i % 4 },
    text: Array.from({ length: 1 + Math.floor(r() * 10) }, () => word(r)).join(' '),
  }));
  ix.upsertBatch(docs);
  for (let q = 0; q < 30; q++) {
    const vector = [r(), r(), r()], text = `${word(r)} ${word(r)}`, k = 1 + Math.floor(r() * 8);
    const window = k + Math.floor(r() * 20), filter = q % 2 ? 'g < 2' : undefined;
    const weighted = q % 3 === 0, fusion = weighted ? { vector: 0.7, text: 0.3 } : q % 3 === 1 ? { rrf: 10 } : 'rrf';
    const opts = { window, fusion, ...(filter ? { filter } : {}) };
    const got = ix.searchExact({ vector, text }, k, opts);
    const vs = ix.searchExact(vector, window, filter ? { filter } : {});
    const ts = ix.searchExact({ text }, window, filter ? { filter } : {});
    const c = typeof fusion === 'object' && 'rrf' in fusion ? fusion.rrf : 60;
    const dmin = vs[0]?.distance, dmax = vs.at(-1)?.distance, smax = ts[0]?.score, smin = ts.at(-1)?.score;
    const fused = new Map();
    vs.forEach((h, i) => fused.set(h.id, (fused.get(h.id) ?? 0) + (weighted
      ? 0.7 * (dmax > dmin ? (dmax - h.distance) / (dmax - dmin) : 1) : 1 / (c + i + 1))));
    ts.forEach((h, i) => fused.set(h.id, (fused.get(h.id) ?? 0) + (weighted
      ? 0.3 * (smax > smin ? (h.score - smin) / (smax - smin) : 1) : 1 / (c + i + 1))));
    const want = [...fused].sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, k);
    assert.equal(got.length, want.length);
    got.forEach((h, i) => {
      assert.ok(Math.abs(h.score - want[i][1]) < 1e-5, `rank ${i}: ${h.score} vs ${want[i][1]}`);
      assert.ok(Math.abs(h.score - fused.get(h.id)) < 1e-5);
      const v = vs.find((x) => x.id === h.id), t = ts.find((x) => x.id === h.id);
      assert.equal(h.distance, v?.distance);
      assert.equal(h.textScore, t?.score);
      if (filter) assert.ok(docs[h.id].attributes.g < 2);
    });
  }
  // A vector in an object is a vector query with text's hit shape.
  const h = ix.search({ vector: [0.5, 0.5, 0.5] }, 3);
  assert.deepEqual(h.map((x) => x.id), ix.search([0.5, 0.5, 0.5], 3).map((x) => x.id));
  assert.ok(h.every((x) => x.score === -x.distance));
  ix.free();
});

test('text options and documents\' text survive save and load', () => {
  const ix = new Index({ dim: 2, metric: 'l2', text: { stopwords: true, stem: true } });
  ix.upsertBatch([
    { key: 'a', vector: [1, 0], text: 'The runners were running' },
    { key: 'b', vector: [0, 1], text: 'A run of the mill day' },
  ]);
  const back = Index.fromBytes(ix.toBytes());
  for (const q of ['run', 'runs running', 'the', 'mill']) {
    assert.deepEqual(back.search({ text: q }, 5), ix.search({ text: q }, 5), q);
    assert.deepEqual(back.search({ text: q }, 5, { prefix: true }), ix.search({ text: q }, 5, { prefix: true }), q);
  }
  assert.deepEqual(ix.search({ text: 'the' }, 5), [], 'a stopword is not indexed');
  assert.deepEqual(ix.search({ text: 'runs' }, 5).map((h) => h.key).sort(), ['a', 'b'], 'stemmed');
  // The next write goes on the same way in both.
  const d = { key: 'c', vector: [1, 1], text: 'running late' };
  assert.equal(back.upsert(d), ix.upsert(d));
  assert.deepEqual(back.search({ text: 'run' }, 5), ix.search({ text: 'run' }, 5));
  ix.free();
  back.free();
});

test('bad text input is a PocketVecError and changes nothing', () => {
  const ix = new Index({ dim: 2, metric: 'l2' });
  ix.upsert({ key: 'a', vector: [1, 0], text: 'hello world' });
  const before = JSON.stringify([...ix.toBytes()]);
  fails(() => ix.upsert({ key: 'b', vector: [1, 0], text: 42 }), INVALID, /document "b": text must be a string/);
  fails(() => ix.upsert({ key: 'b', vector: [1, 0], text: 'bad \ud800 surrogate' }), INVALID, /lone surrogates/);
  fails(() => ix.upsertBatch([{ key: 'b', vector: [1, 0], text: 'ok' }, { key: 'c', vector: [1, 0], txt: 'x' }]), INVALID, /unknown field "txt"/);
  fails(() => ix.search({ text: 'hello' }, 0), INVALID, /k is 0/);
  fails(() => ix.search({ text: 7 }, 3), INVALID, /query text must be a string/);
  fails(() => ix.search('hello', 3), INVALID, /^the query must be a vector, \{ text \} or \{ vector, text \}, got string "hello"$/);
  fails(() => ix.searchExact('hello', 3), INVALID, /^the query must be a vector, \{ text \}/);
  fails(() => ix.search({}, 3), INVALID, /needs a vector, text or both/);
  fails(() => ix.search({ text: 'x', extra: 1 }, 3), INVALID, /unknown field "extra"/);
  fails(() => ix.search({ text: 'x' }, 3, { fusion: 'max' }), INVALID, /fusion must be/);
  fails(() => ix.search({ text: 'x' }, 3, { fusion: { vector: 'a' } }), INVALID, /fusion weights/);
  fails(() => ix.search({ text: 'x' }, 3, { b: 2 }), INVALID, /b must be between 0 and 1/);
  fails(() => ix.search({ text: 'x' }, 3, { k1: '1' }), INVALID, /k1 must be a number/);
  fails(() => ix.search({ text: 'x' }, 3, { prefix: 1 }), INVALID, /prefix must be true or false/);
  fails(() => ix.search({ text: 'x' }, 3, { bogus: 1 }), INVALID, /unknown option "bogus"/);
  fails(() => ix.searchExact({ text: 'x' }, 3, { ef: 10 }), INVALID, /unknown option "ef"/);
  fails(() => ix.search({ text: 'x', vector: [1, 0, 0] }, 3), ErrorCode.DIM, /3 values/);
  fails(() => ix.search({ text: Array.from({ length: 300 }, (_, i) => `t${i}`).join(' ') }, 3), INVALID, /more than 256 distinct terms/);
  fails(() => new Index({ dim: 2, text: { stemming: true } }), INVALID, /text.stemming is unknown/);
  fails(() => new Index({ dim: 2, text: 'stem' }), INVALID, /text must be an object/);
  assert.equal(JSON.stringify([...ix.toBytes()]), before);
  assert.deepEqual(ix.search({ text: 'HELLO' }, 3).map((h) => h.key), ['a']);
  // A long query (its scratch, over 1 MiB, is given back after the call),
  // then short ones: the same answers.
  assert.deepEqual(ix.search({ text: `${'zzz '.repeat(300000)}world` }, 3).map((h) => h.key), ['a']);
  assert.deepEqual(ix.search({ text: 'world', vector: [1, 0] }, 3).map((h) => h.key), ['a']);
  assert.deepEqual(ix.search({ text: 'hello' }, 3).map((h) => h.key), ['a']);
  ix.free();
});
