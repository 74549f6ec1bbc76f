// pocketvec demo page. Loads the documents (data/docs.json), their MiniLM
// embeddings (data/embeddings.bin: n x dim float32) and the package as it
// ships (pkg/pocketvec.js + .wasm), builds an HNSW index of all of them
// and answers "which documents are nearest to this one?".
//
// A query is a document's own embedding, so the document itself would
// always come first at distance 0: it is left out of the results
// (leave-one-out), which is why every search asks for k + 1 hits.
// Document i is id i: the index is built with one addBatch in dataset
// order, and ids start at 0. A loaded index is accepted only if it has the
// same count and dimension, i.e. it is one this page saved.
//
// Everything shown is measured here: build and load times, the index's own
// memoryUsage, search latency, and recall against two references: the
// package's searchExact (brute force over the same stored vectors: what the
// graph walk missed) and a brute force over the original float32 vectors in
// JS (what SQ8's quantization adds to that).
//
// State the browser test (check.mjs) reads: #app[data-state] is loading,
// ready or error; #results[data-query, data-seq] and each hit's data-doc and
// data-distance; #s-latency[data-us]; #s-recall[data-value].
import { init, Index, PocketVecError, ErrorCode } from './pkg/pocketvec.js';

const SEED = 42; // the same graph on every build, in every browser
const CODE_NAMES = Object.fromEntries(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

const $ = (id) => document.getElementById(id);

const app = {
  docs: [], // [{ title, category, path, excerpt }], index = id
  vectors: null, // Float32Array, docs.length * dim
  norms: null, // Float32Array of |v|, for the JS brute force
  dim: 0,
  index: null, // the current Index
  ef: 64,
  k: 10,
  current: 0, // the document being queried
  seq: 0, // results rendered so far
  sweepTimer: 0,
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

// The k nearest hits that are not the query document itself.
const leaveOut = (hits, doc, k) => hits.filter((h) => h.id !== doc).slice(0, k);

function overlap(a, b) {
  const ids = new Set(b.map((h) => h.id));
  return a.filter((h) => ids.has(h.id)).length;
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

// A fresh index of every document: SQ8 or F32 storage, cosine distance.
// Replaces the current one only once the new one is complete.
function build(quantization) {
  const t0 = performance.now();
  const index = new Index({ dim: app.dim, metric: 'cosine', quantization, seed: SEED, capacity: app.docs.length });
  try {
    const ids = index.addBatch(app.vectors);
    if (ids[0] !== 0 || ids[ids.length - 1] !== ids.length - 1)
      throw new Error(`the ids were ${ids[0]}..${ids[ids.length - 1]}, expected 0..${ids.length - 1}`);
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
  $('s-index').textContent = `${n.toLocaleString('en')} vectors`;
  $('s-index').dataset.count = String(n);
  $('s-index').dataset.quantization = index.quantization;
  $('s-index-sub').textContent = `${index.quantization.toUpperCase()}, cosine, ${app.dim} dims · ${how}`;
  $('s-mem').textContent = fmtBytes(mem);
  $('s-mem-sub').textContent = `${Math.round(mem / n).toLocaleString('en')} B per vector ` +
    `(raw float32: ${(app.dim * 4).toLocaleString('en')} B)`;
  query(app.current);
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
// float32 vectors, doc left out: the ground truth no index is involved in.
function bruteForce(doc, k) {
  const { vectors, norms, dim } = app, q = vec(doc), all = [];
  for (let j = 0; j < app.docs.length; j++) {
    if (j === doc) continue;
    let dot = 0;
    for (let i = 0, o = j * dim; i < dim; i++) dot += q[i] * vectors[o + i];
    all.push({ id: j, distance: 1 - dot / (norms[doc] * norms[j]) });
  }
  return all.sort((a, b) => a.distance - b.distance || a.id - b.id).slice(0, k);
}

// ---- a query -----------------------------------------------------------------

// Queries with document doc's embedding and shows its k nearest other
// documents, the latency and the recall. A failed search (e.g. an ef the
// library rejects) shows the error and leaves the previous results.
function query(doc) {
  const { index, k, ef } = app, q = vec(doc);
  const hits = leaveOut(index.search(q, k + 1, { ef }), doc, k);
  const exact = leaveOut(index.searchExact(q, k + 1), doc, k);
  const truth = bruteForce(doc, k);
  const { us, n } = medianMicros(() => index.search(q, k + 1, { ef }));
  const exactUs = medianMicros(() => index.searchExact(q, k + 1)).us;
  app.current = doc;

  const recall = overlap(hits, exact) / exact.length;
  const recallTruth = overlap(hits, truth) / truth.length;
  $('s-latency').textContent = `${fmtUs(us)} µs`;
  $('s-latency').dataset.us = us.toFixed(2);
  $('s-latency-sub').textContent = `ef ${ef || 'default'}, median of 9 × ${n} searches · ` +
    `searchExact: ${fmtUs(exactUs)} µs`;
  $('s-recall-label').textContent = `Recall@${k}`;
  $('s-recall').textContent = recall.toFixed(2);
  $('s-recall').dataset.value = String(recall);
  $('s-recall-sub').textContent = `vs searchExact on this index · vs float32 brute force: ${recallTruth.toFixed(2)}`;

  const d = app.docs[doc];
  $('q-title').textContent = d.title;
  $('q-note').textContent = `Document #${doc} · ${d.category}. Its own embedding is the query; ` +
    `the document itself is left out of the ${k} results.`;

  const inExact = new Set(exact.map((h) => h.id));
  const list = $('results');
  list.replaceChildren(...hits.map((h, i) => hitRow(h, i, inExact.has(h.id))));
  list.dataset.query = String(doc);
  list.dataset.seq = String(++app.seq);

  for (const b of document.querySelectorAll('#doc-list button[aria-current]')) b.removeAttribute('aria-current');
  const item = document.querySelector(`#doc-list button[data-doc="${doc}"]`);
  if (item) {
    item.setAttribute('aria-current', 'true');
    if (!item.closest('li').hidden) item.scrollIntoView({ block: 'nearest' });
  }
  history.replaceState(null, '', `#doc=${doc}`);
}

// One result: rank, distance with a bar for similarity (1 - distance),
// title (a link to query that document), category, excerpt. A hit that
// exact search does not have among its k is marked.
function hitRow(h, i, exact) {
  const d = app.docs[h.id], li = el('li', exact ? 'hit' : 'hit miss');
  li.dataset.doc = String(h.id);
  li.dataset.distance = String(h.distance);
  li.append(el('span', 'rank', String(i + 1)));
  const dist = el('div', 'dist');
  const bar = el('span', 'bar'), fill = el('i');
  fill.style.width = `${Math.max(0, Math.min(1, 1 - h.distance)) * 100}%`;
  bar.append(fill);
  dist.append(el('span', 'num', h.distance.toFixed(4)), bar);
  dist.title = `cosine distance ${h.distance} (similarity ${(1 - h.distance).toFixed(4)})`;
  const body = el('div', 'body'), head = el('div', 'hit-head');
  const link = el('button', 'link', d.title);
  link.type = 'button';
  link.dataset.doc = String(h.id);
  link.title = 'Find the documents nearest to this one';
  head.append(link, el('span', 'cat', d.category));
  if (!exact) head.append(el('span', 'flag', 'not in exact top-k'));
  const ex = el('p', 'excerpt', d.excerpt);
  ex.title = d.path;
  body.append(head, ex);
  li.append(dist, body);
  return li;
}

// Every document as a query: mean recall@k against searchExact, and the
// typical latency over all of them. The searches are timed in blocks of 16
// (a block is long enough for the coarse clock, see medianMicros), in two
// passes, and the figure is the median block over its searches: a block
// that shared the CPU with something else, or ran before the browser's
// optimising WebAssembly tier was ready, does not move it. Runs a moment
// after a change, so the query's own results show first; a newer change
// cancels a pending sweep.
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
  $('sweep').textContent = `All ${n} documents as queries: recall@${k} ${(found / total).toFixed(3)}, ` +
    `median ${fmtUs(us)} µs per search`;
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
  await app.index.save(name);
  $('store-status').textContent = `saved “${name}” in ${fmtMs(performance.now() - t0)}`;
  clearError();
  await refreshSaved();
}

async function load(name) {
  const t0 = performance.now();
  const index = await Index.load(name);
  const ms = performance.now() - t0;
  if (index.size !== app.docs.length || index.dim !== app.dim) {
    const what = `${index.size} vectors of ${index.dim} dimensions`;
    index.free();
    throw new Error(`“${name}” holds ${what}; this page needs the ${app.docs.length} × ${app.dim} it saves itself`);
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
  app.norms = Float32Array.from({ length: n }, (_, j) => Math.hypot(...vec(j)));

  $('chip-wasm').textContent = `pocketvec ${info.version} · WebAssembly ${info.kernels}`;
  $('tagline').textContent = `${n} SAP Fiori documentation pages, embedded with ${meta.model.replace(/^Xenova\//, '')} ` +
    `(${meta.dim} dims): their nearest neighbours, computed in this tab by an HNSW index in WebAssembly.`;
  $('foot').textContent = `Data: ${meta.source} (Apache-2.0), loaded in ${fmtMs(performance.now() - t0)}. ` +
    'Index, queries and storage run locally; nothing is sent anywhere.';
  renderDocList();

  const fromHash = /^#doc=(\d+)$/.exec(location.hash);
  app.current = fromHash && Number(fromHash[1]) < n ? Number(fromHash[1]) : 0;
  build('sq8');
  wire();
  await refreshSaved().catch(showError); // a browser without IndexedDB still searches
  $('app').dataset.state = 'ready';
}

function wire() {
  $('filter').addEventListener('input', filterDocs);
  $('filter').addEventListener('keydown', guarded((e) => {
    const first = visibleDocs()[0];
    if (e.key === 'Enter' && first !== undefined) query(first);
  }));
  $('doc-list').addEventListener('click', guarded((e) => {
    const b = e.target.closest('button[data-doc]');
    if (b) query(Number(b.dataset.doc));
  }));
  $('results').addEventListener('click', guarded((e) => {
    const b = e.target.closest('button[data-doc]');
    if (b) query(Number(b.dataset.doc));
  }));
  $('random').addEventListener('click', guarded(() => {
    const pool = visibleDocs().filter((d) => d !== app.current);
    if (pool.length) query(pool[Math.floor(Math.random() * pool.length)]);
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
      query(app.current);
    } catch (e) {
      app.ef = was;
      $('ef').value = String(was);
      throw e;
    }
    scheduleSweep();
  }));
  $('k').addEventListener('change', guarded(() => {
    app.k = Number($('k').value);
    query(app.current);
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
