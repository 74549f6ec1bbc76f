// SPDX-License-Identifier: MIT
// pocketvec demo page. Loads the documents (data/docs.json: each one's key,
// title, category, excerpt and text), their MiniLM embeddings
// (data/embeddings.bin: n x dim float32) and the package as it ships
// (pkg/pocketvec.js + .wasm), and builds one index of all of them: each
// document upserted under its key with its vector, its title and category
// as attributes, and its text for full-text search.
//
// Three ways to search, the mode switch:
//   Words    BM25 over the text, for the words typed. While the last word
//            is being typed (no space after it yet) it also matches the
//            longer words it begins: search as you type.
//   Meaning  the nearest documents by embedding to the picked document.
//            The page carries no model to embed typed words, so a
//            document's own embedding is the query; the document itself
//            would come first at distance 0 and is left out
//            (leave-one-out), which is why the search asks for k + 1 hits.
//   Both     the two at once, fused by reciprocal rank (RRF): a hit scores
//            1 / (60 + its rank) on each list, BM25's and the vector
//            search's (their top WINDOW), that it is on. Each hit shows
//            both ranks, so the sum can be checked by eye. The picked
//            document is left out here too.
// The category filter applies in every mode, inside the search: k hits
// come back whenever k documents match.
//
// Everything shown is measured here: build and load times, the index's own
// memoryUsage, search latency, and recall@k against the package's
// searchExact (the same query by brute force: no graph walk, no pruning of
// BM25's posting lists); in Meaning mode also against a brute force over
// the original float32 vectors in JS (what SQ8's quantization adds).
//
// State the browser test (check.mjs) reads: #app[data-state] is loading,
// ready or error; #results[data-seq, data-mode, data-query, data-words,
// data-prefix, data-category] and each hit's data-key, data-doc,
// data-category, data-score, and in Meaning and Both data-distance, in Both
// data-text-score, data-text-rank and data-vector-rank when the hit is on
// that list; #s-latency[data-us, data-seq]; #s-recall[data-value].
import { init, Index, PocketVecError, ErrorCode } from './pkg/pocketvec.js';

const SEED = 42; // the same graph on every build, in every browser
const RRF_K = 60; // the library's default constant of reciprocal-rank fusion
const WINDOW = 50; // hits taken from each side before fusing (the library's default)
const CODE_NAMES = Object.fromEntries(Object.entries(ErrorCode).map(([name, code]) => [code, name]));
const MODES = { words: 'Words', meaning: 'Meaning', both: 'Both' };

const $ = (id) => document.getElementById(id);

const app = {
  docs: [], // [{ key, title, category, path, excerpt, text }], in dataset order
  byKey: new Map(), // key -> position in docs
  vectors: null, // Float32Array, docs.length * dim
  norms: null, // Float32Array of |v|, for the JS brute force
  dim: 0,
  index: null, // the current Index
  ef: 64,
  k: 10,
  mode: 'meaning',
  words: '', // the search box as typed
  category: '', // '' for all
  current: 0, // the picked document: the query of Meaning and Both
  textBytes: 0, // UTF-8 bytes of all the documents' text
  seq: 0, // results rendered so far
  sweepTimer: 0,
  measureTimer: 0,
};

// ---- small helpers -----------------------------------------------------------

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const fmtMs = (ms) => (ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`);
const fmtUs = (us) => (us < 100 ? us.toFixed(1) : Math.round(us).toLocaleString('en'));

function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

async function fetchOk(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`fetching ${url} gave HTTP ${r.status}`);
  return r;
}

const vec = (doc) => app.vectors.subarray(doc * app.dim, (doc + 1) * app.dim);
const docOf = (hit) => app.byKey.get(hit.key);

// The k best hits that are not document doc (-1: none left out).
const leaveOut = (hits, doc, k) => hits.filter((h) => docOf(h) !== doc).slice(0, k);

function overlap(a, b) {
  const keys = new Set(b.map((h) => h.key));
  return a.filter((h) => keys.has(h.key)).length;
}

// ---- errors ------------------------------------------------------------------

// Shown in the page, not only in the console: a PocketVecError with the
// library's status name and sentence, anything else with its message. The
// page stays usable; the banner stays until dismissed or replaced.
function showError(e) {
  const text = e instanceof PocketVecError
    ? `PocketVecError ${CODE_NAMES[e.code] ?? e.code}: ${e.message}`
    : `${e?.name ?? 'Error'}: ${e?.message ?? e}`;
  $('error-text').textContent = text;
  $('error').hidden = false;
}

const clearError = () => { $('error').hidden = true; };

// Runs fn, showing whatever it throws (sync or async) instead of losing it.
function guarded(fn) {
  return async (...args) => {
    try {
      await fn(...args);
    } catch (e) {
      showError(e);
    }
  };
}

// ---- the index ---------------------------------------------------------------

// A fresh index of every document: SQ8 or F32 storage, cosine distance,
// each document with its key, attributes and text. Replaces the current
// one only once the new one is complete.
function build(quantization) {
  const t0 = performance.now();
  const index = new Index({ dim: app.dim, metric: 'cosine', quantization, seed: SEED, capacity: app.docs.length });
  try {
    index.upsertBatch(app.docs.map((d, i) => ({
      key: d.key, vector: vec(i), attributes: { title: d.title, category: d.category }, text: d.text,
    })));
  } catch (e) {
    index.free();
    throw e;
  }
  adopt(index, `built in ${fmtMs(performance.now() - t0)}`);
}

// Makes index the current one (freeing the old), shows its figures and
// re-runs the current query and the all-documents sweep against it.
function adopt(index, how) {
  app.index?.free();
  app.index = index;
  for (const b of document.querySelectorAll('[data-quant]'))
    b.setAttribute('aria-pressed', String(b.dataset.quant === index.quantization));
  const n = index.size, mem = index.memoryUsage;
  $('s-index').textContent = `${n.toLocaleString('en')} docs`;
  $('s-index').dataset.count = String(n);
  $('s-index').dataset.quantization = index.quantization;
  $('s-index-sub').textContent = `${index.quantization.toUpperCase()}, cosine, ${app.dim} dims, ` +
    `${(app.textBytes / 1e6).toFixed(1)} MB of text · ${how}`;
  $('s-mem').textContent = fmtBytes(mem);
  $('s-mem-sub').textContent = `${fmtBytes(Math.round(mem / n))} per document, text index included ` +
    `(a float32 vector: ${(app.dim * 4).toLocaleString('en')} B)`;
  update();
  scheduleSweep();
}

// Searches in rounds long enough for the clock: performance.now() is
// coarsened to 100 µs in a page that is not cross-origin isolated, and one
// search of this index takes tens of microseconds. Doubles the searches
// per round until a round takes 2 ms, then times 9 rounds; the figure is
// the median round over its searches. A stall during the doubling (JIT
// tier-up, GC) can stop it with rounds far too short for the clock, which
// would read 0: so the median round itself must last 1 ms, or n doubles
// and the 9 rounds run again.
function medianMicros(fn) {
  const round = (n) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    return performance.now() - t0;
  };
  let n = 1;
  while (n < 1 << 14 && round(n) < 2) n *= 2;
  for (;;) {
    const t = Array.from({ length: 9 }, () => round(n)).sort((a, b) => a - b);
    if (t[4] >= 1 || n >= 1 << 14) return { us: (t[4] / n) * 1000, n };
    n *= 2;
  }
}

// The k nearest documents to doc by cosine distance over the original
// float32 vectors, doc left out, among those of the category ('' for all):
// the ground truth no index is involved in.
function bruteForce(doc, k, category) {
  const { vectors, norms, dim } = app, q = vec(doc), all = [];
  for (let j = 0; j < app.docs.length; j++) {
    if (j === doc || (category && app.docs[j].category !== category)) continue;
    let dot = 0;
    for (let i = 0, o = j * dim; i < dim; i++) dot += q[i] * vectors[o + i];
    all.push({ key: app.docs[j].key, distance: 1 - dot / (norms[doc] * norms[j]) });
  }
  return all.sort((a, b) => a.distance - b.distance || (a.key < b.key ? -1 : 1)).slice(0, k);
}

// ---- a query -----------------------------------------------------------------

// The current query as calls on the index, or null when there is nothing
// to search (Words with no words):
//   run(extra)  the search the page shows (extra: more options)
//   exact()     the same query by brute force (searchExact)
//   sides()     Both only: the two lists before fusion, as the library
//               makes them (same window, ef, prefix and filter), for ranks
//   leave       the document left out of the results (-1: none)
function plan() {
  const { index, k, ef, mode, current } = app;
  const words = app.words.trim(), prefix = words !== '' && !/\s$/.test(app.words);
  const filter = app.category ? { filter: { category: app.category } } : {};
  if (mode === 'words') {
    if (!words) return null;
    const q = { text: words }, o = { prefix, ...filter };
    return {
      words, prefix, leave: -1,
      run: (extra) => index.search(q, k, { ...o, ...extra }),
      exact: () => index.searchExact(q, k, o),
    };
  }
  const vector = vec(current);
  if (mode === 'meaning') {
    return {
      words: '', prefix: false, leave: current,
      run: (extra) => index.search(vector, k + 1, { ef, ...filter, ...extra }),
      exact: () => index.searchExact(vector, k + 1, filter),
    };
  }
  // Both, also with no words: then the text list is empty and the fused
  // order is the vector search's.
  const q = { vector, text: words }, w = Math.max(k + 1, WINDOW), o = { prefix, window: w, ...filter };
  return {
    words, prefix, leave: current,
    run: (extra) => index.search(q, k + 1, { ef, ...o, ...extra }),
    exact: () => index.searchExact(q, k + 1, o),
    sides: () => ({
      text: words ? index.search({ text: words }, w, { prefix, ...filter }) : [],
      vector: index.search(vector, w, { ef, ...filter }),
    }),
  };
}

// Runs the current query and shows its results; the latency is measured a
// moment later (a newer query cancels it), so typing stays quick. A failed
// search (e.g. an ef the library rejects) throws, leaving the previous
// results.
function update() {
  const p = plan(), { k, mode, current } = app;
  const d = app.docs[current];
  let hits = [], exact = [];
  if (p) {
    hits = leaveOut(p.run({ attributes: true }), p.leave, k);
    exact = leaveOut(p.exact(), p.leave, k);
  }
  const seq = ++app.seq;

  // Both: each hit's rank on the text list and on the vector list.
  const ranks = { text: new Map(), vector: new Map() };
  if (p?.sides) {
    const s = p.sides();
    for (const side of ['text', 'vector']) s[side].forEach((h, i) => ranks[side].set(h.key, i + 1));
  }

  const shown = p?.words ? `“${p.words}${p.prefix ? '…' : ''}”` : '';
  const like = `like #${current} ${d.title}`;
  const inCat = app.category ? ` in ${app.category}` : '';
  const title = !p ? 'Type words to search titles and text'
    : mode === 'words' ? `${shown}${inCat}`
    : mode === 'meaning' ? `Documents ${like}${inCat}`
    : `${shown || 'No words'} + ${like}${inCat}`;
  $('q-title').textContent = title;
  $('q-title').title = title;
  $('q-note').textContent = note(p);

  const inExact = new Set(exact.map((h) => h.key)), top = hits[0]?.score ?? 0;
  const rows = hits.map((h, i) => hitRow(h, i, inExact.has(h.key), p, ranks, top));
  if (p && !rows.length)
    rows.push(el('li', 'empty muted', `No document${inCat} has ${p.words ? `the words ${shown}` : 'a match'}.`));
  const list = $('results');
  list.replaceChildren(...rows);
  Object.assign(list.dataset, {
    seq: String(seq), mode, query: String(current), words: p?.words ?? '',
    prefix: String(!!p?.prefix), category: app.category,
  });

  const recall = exact.length ? overlap(hits, exact) / exact.length : NaN;
  $('s-recall-label').textContent = `Recall@${k}`;
  $('s-recall').textContent = Number.isNaN(recall) ? '–' : recall.toFixed(2);
  $('s-recall').dataset.value = String(recall);
  let sub = `vs searchExact (${mode === 'words' ? 'all postings scored' : mode === 'meaning' ? 'brute force' : 'both sides exhaustive'})`;
  if (mode === 'meaning') {
    const truth = bruteForce(current, k, app.category);
    sub += ` · vs float32 brute force: ${(overlap(hits, truth) / truth.length).toFixed(2)}`;
  }
  $('s-recall-sub').textContent = sub;
  $('s-latency').textContent = p ? '…' : '–';
  $('s-latency-sub').textContent = '';
  if (p) scheduleMeasure(p, seq);

  for (const b of document.querySelectorAll('#doc-list button[aria-current]')) b.removeAttribute('aria-current');
  const item = document.querySelector(`#doc-list button[data-doc="${current}"]`);
  if (item) {
    item.setAttribute('aria-current', 'true');
    if (!item.closest('li').hidden) item.scrollIntoView({ block: 'nearest' });
  }
  const state = new URLSearchParams({ mode, doc: String(current) });
  if (app.words) state.set('q', app.words);
  if (app.category) state.set('cat', app.category);
  history.replaceState(null, '', `#${state}`);
}

// What the current mode does, in a sentence or two.
function note(p) {
  const pre = p?.prefix ? ' The last word is a prefix as you type (a space ends it).' : '';
  const self = ' The picked document’s embedding is the query (no model here embeds words); it is left out.';
  if (app.mode === 'words') return `BM25 over titles and text.${pre}`;
  if (app.mode === 'meaning') return `Nearest by cosine distance (HNSW).${self}`;
  return `BM25 and cosine nearness fused by reciprocal rank, 1/(${RRF_K} + rank) on each list ` +
    `(top ${Math.max(app.k + 1, WINDOW)} of each).${pre}${self}`;
}

// One result: rank; the score with a bar (Words: BM25, bar relative to
// the best; Meaning: distance, bar = similarity 1 - distance; Both: the
// fused score, bar relative to the most a hit can get, first on both
// lists, and under it each list's score and rank); the title (a button that
// searches by this document's meaning), category and key; a snippet of
// the text around the first word matched, or the excerpt. A hit that
// searchExact does not have among its k is marked.
function hitRow(h, i, exact, p, ranks, top) {
  const doc = docOf(h), d = app.docs[doc], { mode } = app, li = el('li', exact ? 'hit' : 'hit miss');
  const a = h.attributes ?? {};
  Object.assign(li.dataset, { key: h.key, doc: String(doc), category: a.category ?? '', score: String(h.score ?? '') });
  if (h.distance !== undefined) li.dataset.distance = String(h.distance);
  li.append(el('span', 'rank', String(i + 1)));

  const score = el('div', 'score'), bar = el('span', 'bar'), fill = el('i');
  let value, label, width;
  if (mode === 'words') {
    [value, label, width] = [h.score.toFixed(2), 'BM25', h.score / top];
  } else if (mode === 'meaning') {
    [value, label, width] = [h.distance.toFixed(4), 'distance', 1 - h.distance];
    score.title = `cosine distance ${h.distance} (similarity ${(1 - h.distance).toFixed(4)})`;
  } else {
    [value, label, width] = [h.score.toFixed(4), 'RRF', h.score / (2 / (RRF_K + 1))];
  }
  fill.style.width = `${Math.max(0, Math.min(1, width)) * 100}%`;
  bar.append(fill);
  score.append(el('span', 'num', value), el('span', 'unit', label), bar);
  if (mode === 'both') {
    const tr = ranks.text.get(h.key), vr = ranks.vector.get(h.key);
    if (h.textScore !== undefined) li.dataset.textScore = String(h.textScore);
    if (tr) li.dataset.textRank = String(tr);
    if (vr) li.dataset.vectorRank = String(vr);
    score.append(
      el('span', 'side', h.textScore !== undefined ? `BM25 ${h.textScore.toFixed(2)} · #${tr}` : 'BM25 –'),
      el('span', 'side', h.distance !== undefined ? `dist ${h.distance.toFixed(3)} · #${vr}` : 'dist –'));
    score.title = `1/(${RRF_K}+${tr ?? '∞'}) + 1/(${RRF_K}+${vr ?? '∞'}) = ${h.score.toFixed(5)}: ` +
      `rank ${tr ?? '–'} by BM25, rank ${vr ?? '–'} by vector distance (the picked document is rank 1 there)`;
  }

  const body = el('div', 'body'), head = el('div', 'hit-head');
  const link = el('button', 'link', a.title ?? d.title);
  link.type = 'button';
  link.dataset.doc = String(doc);
  link.title = 'Search by this document’s meaning';
  head.append(link, el('span', 'cat', a.category ?? d.category));
  if (!exact) head.append(el('span', 'flag', 'not in exact top-k'));
  const key = el('code', 'key', h.key);
  key.title = `key ${h.key} · ${d.path}`;
  const ex = el('p', 'excerpt');
  if (!(p?.words && snippet(ex, d.text, p))) ex.textContent = d.excerpt;
  body.append(head, key, ex);
  li.append(score, body);
  return li;
}

// Fills el with the text around the first of the query's words in text
// (after the title line, else in it), those words marked; false if none is
// found. A word here is a run of letters and digits, which is close to the
// tokenizer's notion of one: the snippet is for the eye, the search is the
// library's.
function snippet(out, text, p) {
  const terms = p.words.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  if (!terms.length) return false;
  const esc = (t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const alts = terms.map((t, i) => `${esc(t)}${p.prefix && i === terms.length - 1 ? '[\\p{L}\\p{N}]*' : ''}`);
  const re = new RegExp(`(?<![\\p{L}\\p{N}])(?:${alts.join('|')})(?![\\p{L}\\p{N}])`, 'giu');
  const nl = text.indexOf('\n');
  re.lastIndex = nl + 1;
  let m = re.exec(text);
  if (!m) {
    re.lastIndex = 0;
    m = re.exec(text);
  }
  if (!m) return false;
  let from = Math.max(0, m.index - 50), to = Math.min(text.length, m.index + 200);
  while (from > 0 && from < m.index && /\S/.test(text[from - 1])) from++; // start at a word
  const part = text.slice(from, to).replace(/\s+/g, ' ');
  const nodes = [from > 0 ? '…' : ''];
  let at = 0;
  re.lastIndex = 0;
  for (const x of part.matchAll(re)) {
    nodes.push(part.slice(at, x.index), el('mark', '', x[0]));
    at = x.index + x[0].length;
  }
  nodes.push(part.slice(at), to < text.length ? '…' : '');
  out.replaceChildren(...nodes);
  return true;
}

// The latency of the query shown: the search, and searchExact, timed a
// moment after it is drawn (a newer query cancels the measurement).
function scheduleMeasure(p, seq) {
  clearTimeout(app.measureTimer);
  app.measureTimer = setTimeout(guarded(() => {
    const { us, n } = medianMicros(() => p.run());
    const exactUs = medianMicros(() => p.exact()).us;
    $('s-latency').textContent = `${fmtUs(us)} µs`;
    $('s-latency').dataset.us = us.toFixed(2);
    $('s-latency').dataset.seq = String(seq);
    $('s-latency-sub').textContent = `${MODES[app.mode]}${app.mode === 'words' ? '' : `, ef ${app.ef || 'default'}`}, ` +
      `median of 9 × ${n} searches · searchExact: ${fmtUs(exactUs)} µs`;
  }), 60);
}

// Every document as a Meaning query: mean recall@k against searchExact,
// and the typical latency over all of them. The searches are timed in
// blocks of 16 (a block is long enough for the coarse clock, see
// medianMicros), in two passes, and the figure is the median block over
// its searches: a block that shared the CPU with something else, or ran
// before the browser's optimising WebAssembly tier was ready, does not
// move it. Runs a moment after a change, so the query's own results show
// first; a newer change cancels a pending sweep.
function scheduleSweep() {
  clearTimeout(app.sweepTimer);
  $('sweep').textContent = 'measuring all documents…';
  app.sweepTimer = setTimeout(guarded(sweep), 30);
}

function sweep() {
  const { index, k, ef, docs } = app, n = docs.length, approx = new Array(n), BLOCK = 16, blocks = [];
  for (let pass = 0; pass < 2; pass++) {
    for (let d0 = 0; d0 < n; d0 += BLOCK) {
      const d1 = Math.min(n, d0 + BLOCK), t0 = performance.now();
      for (let d = d0; d < d1; d++) approx[d] = index.search(vec(d), k + 1, { ef });
      blocks.push((performance.now() - t0) / (d1 - d0));
    }
  }
  blocks.sort((x, y) => x - y);
  const us = blocks[blocks.length >> 1] * 1000;
  let found = 0, total = 0;
  for (let d = 0; d < n; d++) {
    const exact = leaveOut(index.searchExact(vec(d), k + 1), d, k);
    found += overlap(leaveOut(approx[d], d, k), exact);
    total += exact.length;
  }
  $('sweep').textContent = `Meaning, all ${n} as queries: recall@${k} ${(found / total).toFixed(3)}, ` +
    `${fmtUs(us)} µs median`;
}

// ---- modes, words, category, picked document ----------------------------------

function setMode(mode) {
  app.mode = mode;
  $(`m-${mode}`).checked = true;
}

// Picks doc as the query of Meaning and Both; from Words, switches to
// Meaning (picking a document asks for its neighbours).
function pick(doc) {
  app.current = doc;
  if (app.mode === 'words') setMode('meaning');
  update();
}

function renderCategories() {
  const counts = new Map();
  for (const d of app.docs) counts.set(d.category, (counts.get(d.category) ?? 0) + 1);
  const opts = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([c, n]) => {
    const o = el('option', '', `${c} (${n})`);
    o.value = c;
    return o;
  });
  const all = el('option', '', `All (${app.docs.length})`);
  all.value = '';
  $('category').replaceChildren(all, ...opts);
  if (!counts.has(app.category)) app.category = '';
  $('category').value = app.category;
}

// ---- the document list -------------------------------------------------------

function renderDocList() {
  const items = app.docs.map((d, i) => {
    const li = el('li'), b = el('button');
    b.type = 'button';
    b.dataset.doc = String(i);
    b.append(el('span', 't', d.title), el('span', 'c', d.category));
    li.append(b);
    return li;
  });
  $('doc-list').replaceChildren(...items);
  filterDocs();
}

// Shows the titles that contain every word typed (any case, any order).
function filterDocs() {
  const words = $('filter').value.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const li of $('doc-list').children) {
    const t = app.docs[li.firstChild.dataset.doc].title.toLowerCase();
    li.hidden = !words.every((w) => t.includes(w));
    if (!li.hidden) shown++;
  }
  const n = app.docs.length;
  $('doc-count').textContent = shown === n ? `${n} documents` : `${shown} of ${n}`;
  $('doc-count').dataset.shown = String(shown);
}

const visibleDocs = () =>
  [...$('doc-list').children].filter((li) => !li.hidden).map((li) => Number(li.firstChild.dataset.doc));

// ---- IndexedDB -----------------------------------------------------------------

function saveName() {
  // The library rejects an empty name itself; trimming spares a user a
  // name that differs from another by a trailing space.
  return $('save-name').value.trim();
}

async function save() {
  const name = saveName(), t0 = performance.now();
  // The user typed the name and pressed save: replace what is there. (An
  // app that loads, changes and saves would leave overwrite off, and get
  // CONFLICT if another tab saved the name meanwhile.)
  await app.index.save(name, { overwrite: true });
  $('store-status').textContent = `saved “${name}” in ${fmtMs(performance.now() - t0)}`;
  clearError();
  await refreshSaved();
}

// Loads an index this page saved: the same documents under the same keys
// (an index saved by the earlier, vectors-only page has no keys and no
// text, and is refused).
async function load(name) {
  const t0 = performance.now();
  const index = await Index.load(name);
  const ms = performance.now() - t0;
  if (index.size !== app.docs.length || index.dim !== app.dim || !app.docs.every((d) => index.has(d.key))) {
    const what = `${index.size} documents of ${index.dim} dimensions`;
    index.free();
    throw new Error(`“${name}” holds ${what}, not the ${app.docs.length} × ${app.dim} documents this page saves ` +
      '(save again to replace it)');
  }
  $('save-name').value = name;
  $('store-status').textContent = `loaded “${name}” in ${fmtMs(ms)}`;
  $('store-status').dataset.loaded = name;
  clearError();
  adopt(index, `loaded “${name}” from IndexedDB in ${fmtMs(ms)}`);
}

async function remove(name) {
  await Index.remove(name);
  $('store-status').textContent = `deleted “${name}”`;
  await refreshSaved();
}

// The indexes saved in this browser, newest first, each with Load and Delete.
async function refreshSaved() {
  const saved = (await Index.list()).sort((a, b) => b.savedAt - a.savedAt);
  const rows = saved.map(({ name, size, savedAt }) => {
    const li = el('li');
    li.dataset.name = name;
    const info = el('div', 'info');
    info.append(el('span', 'name', name),
      el('span', 'muted', `${fmtBytes(size)} · ${savedAt.toLocaleString('en', { dateStyle: 'short', timeStyle: 'short' })}`));
    const open = el('button', 'small', 'Load'), del = el('button', 'small quiet', 'Delete');
    open.type = del.type = 'button';
    open.addEventListener('click', guarded(() => load(name)));
    del.addEventListener('click', guarded(() => remove(name)));
    li.append(info, open, del);
    return li;
  });
  if (!rows.length) rows.push(el('li', 'empty muted', 'Nothing saved in this browser yet.'));
  $('saved').replaceChildren(...rows);
}

// ---- offline -------------------------------------------------------------------

// Registers sw.js, which caches the page, the package and the data, and
// shows whether the page would work offline.
function registerServiceWorker() {
  const chip = $('chip-offline');
  const show = () => {
    const ready = !!navigator.serviceWorker?.controller;
    chip.textContent = !navigator.onLine ? (ready ? 'offline · from cache' : 'offline')
      : ready ? 'works offline' : 'caching for offline…';
    chip.classList.toggle('good', ready);
  };
  if (!('serviceWorker' in navigator)) {
    chip.textContent = 'no offline support here';
    return;
  }
  navigator.serviceWorker.register('sw.js').catch(showError);
  navigator.serviceWorker.addEventListener('controllerchange', show);
  addEventListener('online', show);
  addEventListener('offline', show);
  show();
}

// ---- start -----------------------------------------------------------------------

async function start() {
  registerServiceWorker();
  const t0 = performance.now();
  const [meta, bytes, info] = await Promise.all([
    fetchOk('data/docs.json').then((r) => r.json()),
    fetchOk('data/embeddings.bin').then((r) => r.arrayBuffer()),
    init(),
  ]);
  const n = meta.docs.length;
  if (bytes.byteLength !== n * meta.dim * 4)
    throw new Error(`embeddings.bin has ${bytes.byteLength} bytes, expected ${n} × ${meta.dim} float32`);
  Object.assign(app, { docs: meta.docs, dim: meta.dim, vectors: new Float32Array(bytes) });
  app.byKey = new Map(meta.docs.map((d, i) => [d.key, i]));
  const utf8 = new TextEncoder();
  app.textBytes = meta.docs.reduce((s, d) => s + utf8.encode(d.text).length, 0);
  app.norms = Float32Array.from({ length: n }, (_, j) => Math.hypot(...vec(j)));

  $('chip-wasm').textContent = `pocketvec ${info.version} · WebAssembly ${info.kernels}`;
  $('tagline').textContent = `${n} SAP Fiori documentation pages and their ${meta.model.replace(/^Xenova\//, '')} ` +
    `embeddings: search them by words (BM25), by meaning (HNSW) or both (hybrid), in this tab, in WebAssembly.`;
  $('foot').textContent = `Data: ${meta.source} (Apache-2.0), loaded in ${fmtMs(performance.now() - t0)}. ` +
    'Index, queries and storage run locally; nothing is sent anywhere.';
  renderDocList();

  // The state in the address (#mode=both&doc=3&q=deploy&cat=Sapui5), so a
  // reload or a shared link shows the same search; #doc=3 as before.
  const h = new URLSearchParams(location.hash.slice(1)), doc = Number(h.get('doc'));
  app.current = Number.isInteger(doc) && doc >= 0 && doc < n ? doc : 0;
  app.words = h.get('q') ?? '';
  app.category = h.get('cat') ?? '';
  $('q').value = app.words;
  setMode(MODES[h.get('mode')] ? h.get('mode') : 'meaning');
  renderCategories();
  build('sq8');
  wire();
  await refreshSaved().catch(showError); // a browser without IndexedDB still searches
  $('app').dataset.state = 'ready';
}

function wire() {
  // Typing searches at once. From Meaning, which has no use for words,
  // typing switches to Words.
  $('q').addEventListener('input', guarded(() => {
    app.words = $('q').value;
    if (app.mode === 'meaning' && app.words.trim()) setMode('words');
    update();
  }));
  $('search').addEventListener('submit', (e) => e.preventDefault());
  for (const r of document.querySelectorAll('input[name="mode"]'))
    r.addEventListener('change', guarded(() => {
      app.mode = r.value;
      update();
    }));
  $('category').addEventListener('change', guarded(() => {
    app.category = $('category').value;
    update();
  }));
  // "/" anywhere but in a field goes to the search box.
  addEventListener('keydown', (e) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || e.target.closest?.('input, select, textarea')) return;
    e.preventDefault();
    $('q').focus();
    $('q').select();
  });
  $('filter').addEventListener('input', filterDocs);
  $('filter').addEventListener('keydown', guarded((e) => {
    const first = visibleDocs()[0];
    if (e.key === 'Enter' && first !== undefined) pick(first);
  }));
  $('doc-list').addEventListener('click', guarded((e) => {
    const b = e.target.closest('button[data-doc]');
    if (b) pick(Number(b.dataset.doc));
  }));
  $('results').addEventListener('click', guarded((e) => {
    const b = e.target.closest('button[data-doc]');
    if (b) pick(Number(b.dataset.doc));
  }));
  $('random').addEventListener('click', guarded(() => {
    const pool = visibleDocs().filter((d) => d !== app.current);
    if (pool.length) pick(pool[Math.floor(Math.random() * pool.length)]);
  }));
  for (const b of document.querySelectorAll('[data-quant]'))
    b.addEventListener('click', guarded(() => build(b.dataset.quant)));
  // ef and k are search-time settings: the index stays, the searches rerun.
  // The library validates ef (a fraction, a negative or above 65536 is its
  // PocketVecError, shown, and the previous ef stays); empty is 0, the
  // index's default.
  $('ef').addEventListener('change', guarded(() => {
    const was = app.ef;
    app.ef = Number($('ef').value);
    try {
      update();
    } catch (e) {
      app.ef = was;
      $('ef').value = String(was);
      throw e;
    }
    scheduleSweep();
  }));
  $('k').addEventListener('change', guarded(() => {
    app.k = Number($('k').value);
    update();
    scheduleSweep();
  }));
  $('save').addEventListener('click', guarded(save));
  $('load').addEventListener('click', guarded(() => load(saveName())));
  $('save-name').addEventListener('keydown', guarded((e) => {
    if (e.key === 'Enter') return save();
  }));
  $('error-close').addEventListener('click', clearError);
}

start().catch((e) => {
  $('app').dataset.state = 'error';
  $('q-title').textContent = 'The demo could not start';
  showError(e);
});
