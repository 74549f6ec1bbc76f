#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The demo page in real Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core from js/node_modules): run by `npm run test:browser` in
// js/, after the package's own browser tests. Starts serve.mjs on a free
// port, opens the page in a fresh profile and checks what a user would see:
//   - the index is built over all 778 documents, text included; the title
//     filter narrows the list;
//   - Meaning: a clicked title shows k results sorted by distance without
//     the document itself, and its top hit is the one a brute force in Node
//     finds in the same embeddings file; latency and recall are shown;
//   - Words: typing a word switches to Words; the hits are documents whose
//     text has the word, and with a category chosen exactly the documents
//     of that category that have it; typing the first letters of the word
//     finds the same documents with the same scores;
//   - Meaning with the category: k hits, all of it, the top one as a brute
//     force over that category finds;
//   - Both: k hits of the category, each showing its rank on the BM25 list
//     and on the vector list, its fused score equal to the sum of
//     1 / (60 + rank), its BM25 score and rank those of Words mode;
//   - an index saved to IndexedDB loads back and answers identically (text
//     included), a missing name shows the library's error while the page
//     keeps working, and the page builds and searches by meaning and by
//     words again after going offline and reloading (with the server
//     stopped, so only the service worker's cache can serve it).
// Last, it takes docs/demo.png, the README's screenshot.
//
// The word searched is chosen here from docs.json, not written in: one
// whose every occurrence stands between spaces or plain punctuation, so
// that any tokenizer (the ASCII stand-in of src/text/token.c or one with
// Unicode rules) sees the same documents holding it; and the expected
// documents are counted from docs.json's text. No assertion depends on
// stemming or stopwords, which the page leaves off.
//
// Prints one line per check and stops at the first failure (later checks
// build on earlier ones); exits 0 only if all pass. Takes about 30 s; gives
// up after 90.
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './serve.mjs';

const { chromium } = createRequire(new URL('../js/package.json', import.meta.url))('playwright-core');
const SHOT = fileURLToPath(new URL('../docs/demo.png', import.meta.url));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = { timeout: 20000 };
const K = 10; // the page's default k
const RRF_K = 60;

class CheckFailed extends Error {}

function must(cond, msg) {
  if (!cond) throw new CheckFailed(msg);
}

// Runs one check: prints "ok   name: detail" with what fn returns, or
// "FAIL name: why" and rethrows, which ends the run.
async function check(name, fn) {
  try {
    const detail = await fn();
    console.log(`demo-check: ok   ${name}${detail ? `: ${detail}` : ''}`);
  } catch (e) {
    console.log(`demo-check: FAIL ${name}: ${e.message.split('\n')[0]}`);
    e.reported = true;
    throw e;
  }
}

// The k nearest documents to doc by cosine distance, doc left out, among
// those keep(j) accepts, over the float32 vectors of the package's
// embeddings.bin: the reference the page's answers are held to.
function bruteForce(vectors, dim, doc, k, keep = () => true) {
  const n = vectors.length / dim, q = vectors.subarray(doc * dim, (doc + 1) * dim);
  const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const qn = norm(q), all = [];
  for (let j = 0; j < n; j++) {
    if (j === doc || !keep(j)) continue;
    const v = vectors.subarray(j * dim, (j + 1) * dim);
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += q[i] * v[i];
    all.push({ id: j, distance: 1 - dot / (qn * norm(v)) });
  }
  return all.sort((a, b) => a.distance - b.distance || a.id - b.id).slice(0, k);
}

// Of the docs that keep accepts, the one whose nearest neighbour (within
// `within`) leads the second by the widest margin in the float32 truth: a
// top-1 that SQ8's rounding cannot reorder, so comparing it is a test of
// the search, not of luck.
function clearestQuery(vectors, dim, docs, within = () => true) {
  return docs.map((doc) => ({ doc, truth: bruteForce(vectors, dim, doc, 10, within) }))
    .sort((a, b) => (b.truth[1].distance - b.truth[0].distance) - (a.truth[1].distance - a.truth[0].distance))[0];
}

// ---- the word to search, from docs.json --------------------------------------

// Characters that end a word for every tokenizer: white space and ASCII
// punctuation that never joins two words (no '.', ':', '_' or apostrophe,
// which Unicode word rules keep inside words such as "sap.m" or "can't").
const SEP = /[\s()[\]{}<>,;!?"*`|=+#~^&%$/\\-]/;
const at = (t, i) => t[i] ?? '';

// Is the occurrence of a word of n letters at i in t bounded so that every
// tokenizer sees it as that word? '.' or ':' may follow when a space or
// the end follows them (the end of a sentence).
function cleanAt(t, i, n) {
  const before = at(t, i - 1), after = at(t, i + n);
  return (before === '' || SEP.test(before)) &&
    (after === '' || SEP.test(after) || (/[.:]/.test(after) && /^\s?$/.test(at(t, i + n + 1))));
}

function* occurrences(t, w) {
  for (let i = t.indexOf(w); i >= 0; i = t.indexOf(w, i + 1)) yield i;
}

/**
 * A word to search and a category to filter by, chosen from the documents'
 * text (lowercased): { word, category, prefix, all, inCategory }, where all
 * and inCategory are the positions of the documents holding the word.
 * The word: letters only, 6 to 12 of them; held by more than K documents
 * (so the category filter visibly narrows the k hits); every occurrence
 * not inside a longer run of letters and digits is clean (above). The
 * category: holds it in 2 to K - 2 documents, and has K + 2 documents or
 * more (so Meaning and Both fill k hits in it). The prefix: the shortest
 * (3 letters or more, 2 fewer than the word at most) that starts no word
 * of any document but this one (wherever it follows no letter or digit, a
 * clean occurrence of the word starts there). Domain words are tried
 * first, then every word in alphabetical order.
 */
function chooseWord(docs) {
  const lower = docs.map((d) => d.text.toLowerCase());
  const size = new Map();
  for (const d of docs) size.set(d.category, (size.get(d.category) ?? 0) + 1);
  const vocab = new Set();
  for (const t of lower) for (const w of t.match(/\b[a-z]{6,12}\b/g) ?? []) vocab.add(w);
  const preferred = ['cockpit', 'mockserver', 'launchpad', 'annotation', 'debugging'];
  for (const word of [...preferred.filter((w) => vocab.has(w)), ...[...vocab].sort()]) {
    const all = [];
    let clean = true;
    lower.forEach((t, d) => {
      let has = false;
      for (const i of occurrences(t, word)) {
        if (/[a-z0-9]/.test(at(t, i - 1)) || /[a-z0-9]/.test(at(t, i + word.length))) continue;
        if (cleanAt(t, i, word.length)) has = true;
        else clean = false;
      }
      if (has) all.push(d);
    });
    if (!clean || all.length <= K) continue;
    const byCat = new Map();
    for (const d of all) byCat.set(docs[d].category, [...(byCat.get(docs[d].category) ?? []), d]);
    const fit = [...byCat].filter(([c, ds]) => ds.length >= 2 && ds.length <= K - 2 && size.get(c) >= K + 2)
      .sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1))[0];
    if (!fit) continue;
    for (let n = 3; n <= word.length - 2; n++) {
      const p = word.slice(0, n);
      const only = lower.every((t) => [...occurrences(t, p)].every((i) =>
        /[a-z0-9]/.test(at(t, i - 1)) || (t.startsWith(word, i) && cleanAt(t, i, word.length))));
      if (only) return { word, category: fit[0], prefix: p, all, inCategory: fit[1] };
    }
  }
  throw new CheckFailed('no word in docs.json fits the Words checks (see chooseWord)');
}

// ---- the page ------------------------------------------------------------------

// The results as the page shows them, in display order.
const readHits = (page) => page.$$eval('#results li.hit', (lis) => lis.map((li) => {
  const num = (v) => (v === undefined || v === '' ? undefined : Number(v));
  const d = li.dataset;
  return {
    key: d.key, doc: Number(d.doc), category: d.category, score: num(d.score), distance: num(d.distance),
    textScore: num(d.textScore), textRank: num(d.textRank), vectorRank: num(d.vectorRank),
  };
}));

const seqOf = async (page) => Number(await page.getAttribute('#results', 'data-seq'));

// Waits until #results holds a query newer than seq `after` whose dataset
// has the values of `want` (mode, words, prefix, category, query), and
// returns its hits.
async function shown(page, want, after) {
  await page.waitForFunction(([w, s]) => {
    const r = document.getElementById('results').dataset;
    return Number(r.seq) > s && Object.entries(w).every(([k, v]) => r[k] === v);
  }, [want, after], WAIT);
  return readHits(page);
}

// Clicks the title of doc in the list and waits for its results.
async function pick(page, doc) {
  const seq = await seqOf(page);
  await page.click(`#doc-list button[data-doc="${doc}"]`);
  return shown(page, { query: String(doc) }, seq);
}

// Picks a mode as a user does: a click on its label (the radio itself is
// visually hidden). Waits for the results when the mode changes.
async function mode(page, m) {
  if (await page.isChecked(`#m-${m}`)) return readHits(page);
  const seq = await seqOf(page);
  await page.click(`label[for="m-${m}"]`);
  return shown(page, { mode: m }, seq);
}

async function category(page, c) {
  if ((await page.inputValue('#category')) === c) return readHits(page);
  const seq = await seqOf(page);
  await page.selectOption('#category', c);
  return shown(page, { category: c }, seq);
}

const ascending = (xs) => xs.every((x, i) => i === 0 || xs[i - 1] <= x);
const descending = (xs) => xs.every((x, i) => i === 0 || xs[i - 1] >= x);
const sameSet = (a, b) => a.length === b.length && a.every((x) => b.includes(x));

async function main() {
  const server = await startServer({ port: 0 });
  const { docs, vectors, dim } = server.dataset;
  const profile = await mkdtemp(join(tmpdir(), 'pv-demo-'));
  let ctx;
  try {
    await check('server', async () => {
      const wasm = await fetch(`${server.url}pkg/pocketvec.wasm`);
      must(wasm.headers.get('content-type') === 'application/wasm',
        `pocketvec.wasm served as ${wasm.headers.get('content-type')}`);
      const res = await fetch(`${server.url}data/docs.json`), meta = await res.json();
      must(res.headers.get('content-encoding') === 'gzip', 'docs.json is not sent gzipped');
      must(meta.docs.length === 778 && meta.dim === 384, `docs.json has ${meta.docs.length} x ${meta.dim}`);
      const keys = new Set(meta.docs.map((d) => d.key));
      must(keys.size === 778 && !keys.has('') && !keys.has(undefined), `${keys.size} distinct keys for 778 documents`);
      const odd = meta.docs.find((d) => typeof d.text !== 'string' || !d.text.startsWith(`${d.title}\n`) || !d.category);
      must(!odd, `document ${odd?.key} lacks its text (title first) or its category`);
      const outside = await fetch(`${server.url}..%2Fpackage.json`);
      must(outside.status === 404, `a path outside the routes gave ${outside.status}`);
      const mb = meta.docs.reduce((s, d) => s + d.text.length, 0) / 1e6;
      return `${server.url}, wasm as application/wasm, ${meta.docs.length} docs x ${meta.dim}, keys, ` +
        `${mb.toFixed(1)}M characters of text, gzipped`;
    });

    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: { width: 1280, height: 800 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const uncaught = [];
    page.on('pageerror', (e) => uncaught.push(e.message));

    await check('index built', async () => {
      await page.goto(server.url);
      await page.waitForSelector('#app[data-state="ready"]', WAIT);
      const count = await page.getAttribute('#s-index', 'data-count');
      must(count === '778', `the index has ${count} documents`);
      must((await page.getAttribute('#s-index', 'data-quantization')) === 'sq8', 'the default is not SQ8');
      must(await page.isChecked('#m-meaning'), 'the page does not open in Meaning mode');
      const mem = await page.textContent('#s-mem'), sub = await page.textContent('#s-index-sub');
      must(/\d/.test(mem) && /per document/.test(await page.textContent('#s-mem-sub')), `memory shows "${mem}"`);
      must(/built in [\d.]+ ms/.test(sub) && /MB of text/.test(sub), `no build time or text size in "${sub}"`);
      return `778 documents, SQ8, ${sub.split(' · ')[1]}, ${mem}`;
    });

    const title = 'deploy';
    let listed;
    await check(`title filter "${title}"`, async () => {
      await page.fill('#filter', title);
      await page.waitForFunction(() => document.getElementById('doc-count').dataset.shown !== '778', null, WAIT);
      listed = await page.$$eval('#doc-list li:not([hidden]) button', (bs) =>
        bs.map((b) => ({ doc: Number(b.dataset.doc), title: b.querySelector('.t').textContent })));
      must(listed.length > 0 && listed.length < 778, `${listed.length} titles shown`);
      const odd = listed.find((s) => !s.title.toLowerCase().includes(title));
      must(!odd, `"${odd?.title}" is shown but lacks "${title}"`);
      return `${listed.length} of 778 titles, each containing "${title}"`;
    });

    const known = clearestQuery(vectors, dim, listed.map((s) => s.doc));
    let hits;
    await check('Meaning: query by a clicked title', async () => {
      hits = await pick(page, known.doc);
      must(hits.length === K, `${hits.length} results, expected k = ${K}`);
      must(ascending(hits.map((h) => h.distance)), 'distances not ascending');
      must(hits.every((h) => Number.isFinite(h.distance) && h.distance >= 0 && h.distance <= 2), 'a distance outside [0, 2]');
      must(!hits.some((h) => h.doc === known.doc), 'the queried document is among its own results');
      must(hits.every((h) => docs[h.doc]?.key === h.key), 'a hit\'s key is not its document\'s');
      const note = await page.textContent('#q-note');
      must(/left out/.test(note), `the page does not say the document is left out: "${note}"`);
      return `#${known.doc} "${docs[known.doc].title}": ${K} results, ascending, itself excluded`;
    });

    await check('Meaning: top-1 matches a brute force in Node', async () => {
      const t = known.truth[0];
      must(hits[0].doc === t.id, `page top-1 is #${hits[0].doc}, brute force says #${t.id}`);
      must(Math.abs(hits[0].distance - t.distance) < 0.01, `distance ${hits[0].distance} vs brute force ${t.distance}`);
      return `#${t.id} "${docs[t.id].title}" at ${hits[0].distance.toFixed(4)} (float32: ${t.distance.toFixed(4)})`;
    });

    await check('latency and recall shown', async () => {
      const seq = String(await seqOf(page));
      await page.waitForFunction((s) => document.getElementById('s-latency').dataset.seq === s, seq, WAIT);
      const us = Number(await page.getAttribute('#s-latency', 'data-us'));
      const recall = Number(await page.getAttribute('#s-recall', 'data-value'));
      must(us > 0 && us < 1e5, `latency ${us} µs`);
      must(/µs/.test(await page.textContent('#s-latency')), 'the latency is not shown in µs');
      must(recall >= 0 && recall <= 1, `recall ${recall}`);
      await page.waitForFunction(() => /^Meaning, all \d+ as queries/.test(document.getElementById('sweep').textContent), null, WAIT);
      const sweep = await page.textContent('#sweep'), all = Number(/recall@10 ([\d.]+)/.exec(sweep)?.[1]);
      must(all >= 0 && all <= 1, `all-documents recall in "${sweep}"`);
      return `${us.toFixed(1)} µs median, recall@10 ${recall.toFixed(2)}; ${sweep}`;
    });

    const w = chooseWord(docs), C = w.category;
    const holds = (h) => docs[h.doc].text.toLowerCase().includes(w.word);
    await check(`Words: "${w.word}" typed, all categories`, async () => {
      const seq = await seqOf(page);
      // A space after the word: it is complete, no prefix.
      await page.fill('#q', `${w.word} `);
      const got = await shown(page, { mode: 'words', words: w.word, prefix: 'false', category: '' }, seq);
      must(await page.isChecked('#m-words'), 'typing did not switch to Words');
      must(got.length === K, `${got.length} hits; ${w.all.length} documents have "${w.word}", k = ${K}`);
      must(got.every((h) => w.all.includes(h.doc)), `#${got.find((h) => !w.all.includes(h.doc))?.doc} lacks "${w.word}"`);
      must(got.every((h) => h.score > 0) && descending(got.map((h) => h.score)), 'BM25 scores not positive and descending');
      must(await page.$('#results li.hit mark'), 'no word is marked in the snippets');
      return `${K} of the ${w.all.length} documents holding it, by BM25 (top ${got[0].score.toFixed(2)})`;
    });

    let words;
    await check(`Words: "${w.word}" in category ${C}`, async () => {
      words = await category(page, C);
      must(sameSet(words.map((h) => h.doc), w.inCategory),
        `hits #${words.map((h) => h.doc).join(', #')}; docs.json: #${w.inCategory.join(', #')}`);
      must(words.every((h) => h.category === C && docs[h.doc].category === C), 'a hit outside the category');
      must(descending(words.map((h) => h.score)), 'BM25 scores not descending');
      return `exactly the ${w.inCategory.length} documents of ${C} that hold it (counted in docs.json)`;
    });

    await check(`Words: the prefix "${w.prefix}" as typed`, async () => {
      const seq = await seqOf(page);
      await page.fill('#q', '');
      await page.locator('#q').pressSequentially(w.prefix);
      const got = await shown(page, { mode: 'words', words: w.prefix, prefix: 'true', category: C }, seq);
      // "w.word" is the only word the prefix begins: the same documents, scored alike.
      must(JSON.stringify(got.map((h) => [h.key, h.score])) === JSON.stringify(words.map((h) => [h.key, h.score])),
        `"${w.prefix}" gave #${got.map((h) => h.doc).join(', #')}, "${w.word}" #${words.map((h) => h.doc).join(', #')}`);
      must(got.every(holds), 'a hit lacks the word');
      return `finds the ${got.length} documents of "${w.word}", same order and scores`;
    });

    await check('keyboard: "/" to the search box, arrow keys between modes', async () => {
      await page.evaluate(() => document.activeElement?.blur());
      await page.keyboard.press('/');
      must(await page.evaluate(() => document.activeElement?.id === 'q'), '"/" did not focus the search box');
      await page.keyboard.press('Tab');
      must(await page.evaluate(() => document.activeElement?.id === 'm-words'), 'Tab from the search box does not reach the modes');
      const seq = await seqOf(page);
      await page.keyboard.press('ArrowRight');
      await shown(page, { mode: 'meaning' }, seq);
      must(await page.isChecked('#m-meaning'), 'ArrowRight did not select Meaning');
      return 'search box focused, Tab to the modes, ArrowRight: Words to Meaning';
    });

    // A document to query by meaning within the category, clearest top-1
    // there; the title filter is cleared so that every title can be clicked.
    const inC = (j) => docs[j].category === C;
    const knownC = clearestQuery(vectors, dim, docs.map((_, i) => i).filter((i) => i !== known.doc), inC);
    let meaning;
    await check(`Meaning with category ${C}`, async () => {
      await mode(page, 'meaning');
      await page.fill('#filter', '');
      meaning = await pick(page, knownC.doc);
      must(meaning.length === K, `${meaning.length} hits, expected k = ${K}`);
      must(meaning.every((h) => h.category === C && inC(h.doc)), 'a hit outside the category');
      must(ascending(meaning.map((h) => h.distance)), 'distances not ascending');
      must(!meaning.some((h) => h.doc === knownC.doc), 'the queried document is among its own results');
      const t = knownC.truth[0];
      must(meaning[0].doc === t.id, `page top-1 is #${meaning[0].doc}, brute force over ${C} says #${t.id}`);
      return `#${knownC.doc} "${docs[knownC.doc].title}": ${K} hits of ${C}, top-1 #${t.id} as the brute force`;
    });

    let both;
    await check(`Both: "${w.word}" + like #${knownC.doc}, category ${C}`, async () => {
      let seq = await seqOf(page);
      await page.click('label[for="m-both"]');
      await shown(page, { mode: 'both' }, seq);
      seq = await seqOf(page);
      await page.fill('#q', `${w.word} `);
      both = await shown(page, { mode: 'both', words: w.word, prefix: 'false', category: C, query: String(knownC.doc) }, seq);
      must(both.length === K, `${both.length} hits, expected k = ${K}`);
      must(both.every((h) => h.category === C && inC(h.doc)), 'a hit outside the category');
      must(!both.some((h) => h.doc === knownC.doc), 'the picked document is among the results');
      must(descending(both.map((h) => h.score)), 'fused scores not descending');
      const textRank = new Map(words.map((h, i) => [h.key, i + 1])), wordScore = new Map(words.map((h) => [h.key, h.score]));
      const dist = new Map(meaning.map((h) => [h.key, h.distance]));
      for (const h of both) {
        const rrf = (h.textRank ? 1 / (RRF_K + h.textRank) : 0) + (h.vectorRank ? 1 / (RRF_K + h.vectorRank) : 0);
        must(h.textRank || h.vectorRank, `#${h.doc} is on neither list`);
        must(Math.abs(h.score - rrf) < 1e-6, `#${h.doc}: score ${h.score}, but 1/(60+${h.textRank})+1/(60+${h.vectorRank}) = ${rrf}`);
        must((h.textScore !== undefined) === !!h.textRank, `#${h.doc}: a text score without a text rank, or the reverse`);
        must((h.distance !== undefined) === !!h.vectorRank, `#${h.doc}: a distance without a vector rank, or the reverse`);
        if (h.textRank) {
          must(textRank.get(h.key) === h.textRank && wordScore.get(h.key) === h.textScore,
            `#${h.doc}: BM25 #${h.textRank} ${h.textScore} here, #${textRank.get(h.key)} ${wordScore.get(h.key)} in Words mode`);
          must(holds(h), `#${h.doc} has a text rank but lacks "${w.word}"`);
        }
        if (h.vectorRank && dist.has(h.key))
          must(Math.abs(dist.get(h.key) - h.distance) < 1e-4, `#${h.doc}: distance ${h.distance} here, ${dist.get(h.key)} in Meaning mode`);
      }
      const onText = both.filter((h) => h.textRank).length, onBoth = both.filter((h) => h.textRank && h.vectorRank).length;
      must(onText > 0, 'no hit from the text side');
      return `${K} hits, each score = sum of 1/(60 + rank) over its lists; ${onText} from BM25 (scores and ranks as in ` +
        `Words), ${onBoth} on both lists`;
    });

    const name = 'fiori-docs';
    await check('save to IndexedDB', async () => {
      await page.fill('#save-name', name);
      await page.click('#save');
      await page.waitForSelector(`#saved li[data-name="${name}"]`, WAIT);
      return `"${name}": ${await page.textContent(`#saved li[data-name="${name}"] .muted`)}`;
    });

    await check('load from IndexedDB gives identical results', async () => {
      // Rebuild as F32 first, so what answers afterwards is visibly the
      // loaded SQ8 index and not the one still in memory.
      const seq = await seqOf(page);
      await page.click('#q-f32');
      await page.waitForFunction((s) => Number(document.getElementById('results').dataset.seq) > s, seq, WAIT);
      must((await page.getAttribute('#s-index', 'data-quantization')) === 'f32', 'the F32 rebuild did not happen');
      await page.click('#load');
      await page.waitForFunction((n) => document.getElementById('store-status').dataset.loaded === n, name, WAIT);
      must((await page.getAttribute('#s-index', 'data-quantization')) === 'sq8', 'the loaded index is not SQ8');
      must((await page.getAttribute('#s-index', 'data-count')) === '778', 'the loaded index lacks documents');
      const again = await readHits(page);
      must(JSON.stringify(again) === JSON.stringify(both), 'results after load differ from those before save');
      return `${await page.textContent('#store-status')}, the same ${K} hybrid hits, ranks and scores`;
    });

    await check('loading a missing name shows the error', async () => {
      await page.fill('#save-name', 'no-such-index');
      await page.click('#load');
      await page.waitForSelector('#error:not([hidden])', WAIT);
      const text = await page.textContent('#error-text');
      must(/PocketVecError NOTFOUND/.test(text) && /no-such-index/.test(text), `the error says "${text}"`);
      const other = listed.find((s) => s.doc !== known.doc && s.doc !== knownC.doc).doc;
      must((await pick(page, other)).length === K, 'the page stopped answering after the error');
      return `"${text}", and the next query still answers`;
    });

    await check('offline: reload from the service worker', async () => {
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, WAIT);
      await ctx.setOffline(true);
      await server.close(); // nothing but the cache can answer now
      await page.reload();
      await page.waitForSelector('#app[data-state="ready"]', WAIT);
      must((await page.getAttribute('#s-index', 'data-count')) === '778', 'the offline build lacks documents');
      // The address kept the search: Both, the word, the category.
      must(await page.isChecked('#m-both') && (await page.inputValue('#category')) === C, 'the reload lost the search');
      await mode(page, 'words');
      const offWords = await readHits(page);
      must(JSON.stringify(offWords.map((h) => h.key)) === JSON.stringify(words.map((h) => h.key)), 'Words gave other results offline');
      await mode(page, 'meaning');
      await category(page, '');
      const offline = await pick(page, known.doc);
      must(offline.length === K && offline[0].doc === known.truth[0].id, 'the offline Meaning query gave other results');
      const chip = await page.textContent('#chip-offline');
      must(/offline/.test(chip), `the page does not know it is offline: "${chip}"`);
      return `server stopped, page rebuilt and answered by words and by meaning; "${chip}"`;
    });

    await check('screenshot', async () => {
      // Back online for the picture (the server stays down: the page needs
      // nothing from it), with the saved index loaded and a hybrid query
      // half typed, so the prefix, the two lists and their fusion show.
      await ctx.setOffline(false);
      await page.fill('#save-name', name);
      await page.click('#load');
      await page.waitForFunction((n) => document.getElementById('store-status').dataset.loaded === n, name, WAIT);
      await page.fill('#filter', title);
      await pick(page, 0);
      await mode(page, 'both');
      const seq = await seqOf(page);
      await page.fill('#q', 'deploy clou');
      await shown(page, { mode: 'both', words: 'deploy clou', prefix: 'true' }, seq);
      const last = String(await seqOf(page));
      await page.waitForFunction((s) => document.getElementById('s-latency').dataset.seq === s, last, WAIT);
      await page.waitForFunction(() => /^Meaning, all \d+ as queries/.test(document.getElementById('sweep').textContent), null, WAIT);
      await page.waitForFunction(() => document.getElementById('chip-offline').textContent === 'works offline', null, WAIT);
      await page.evaluate(() => document.activeElement?.blur());
      await page.screenshot({ path: SHOT });
      return SHOT;
    });

    await check('no uncaught errors in the page', async () => {
      must(!uncaught.length, uncaught.join('; '));
    });
  } finally {
    await ctx?.close();
    await server.close();
    await rm(profile, { recursive: true, force: true });
  }
}

const limit = setTimeout(() => {
  console.log('demo-check: FAIL gave up after 90 s');
  process.exit(1);
}, 90000);
main().then(() => {
  clearTimeout(limit);
  console.log('demo-check: all passed');
}, (e) => {
  clearTimeout(limit);
  if (!e.reported) console.log(`demo-check: FAIL ${e.stack ?? e}`);
  process.exitCode = 1;
});
