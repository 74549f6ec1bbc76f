#!/usr/bin/env node
// The demo page in real Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core from js/node_modules): run by `npm run test:browser` in
// js/, after the package's own browser tests. Starts serve.mjs on a free
// port, opens the page in a fresh profile and checks what a user would see:
// the index is built over all 778 documents, the filter narrows the list, a
// query shows k results sorted by distance without the document itself, its
// top hit is the one a brute force in Node finds in the same embeddings
// file, latency and recall are shown, an index saved to IndexedDB loads back
// and answers identically, a missing name shows the library's error while
// the page keeps working, and the page builds and searches again after
// going offline and reloading (with the server stopped, so only the service
// worker's cache can serve it). Last, it takes docs/demo.png, the README's
// screenshot.
//
// Prints one line per check and stops at the first failure (later checks
// build on earlier ones); exits 0 only if all pass. Takes about 10 s; gives
// up after 60.
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './serve.mjs';

const { chromium } = createRequire(new URL('../js/package.json', import.meta.url))('playwright-core');
const SHOT = fileURLToPath(new URL('../docs/demo.png', import.meta.url));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT = { timeout: 15000 };

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

// The k nearest documents to doc by cosine distance, doc left out, over the
// float32 vectors of the package's embeddings.bin: the reference the page's
// answers are held to.
function bruteForce(vectors, dim, doc, k) {
  const n = vectors.length / dim, q = vectors.subarray(doc * dim, (doc + 1) * dim);
  const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const qn = norm(q), all = [];
  for (let j = 0; j < n; j++) {
    if (j === doc) continue;
    const v = vectors.subarray(j * dim, (j + 1) * dim);
    let dot = 0;
    for (let i = 0; i < dim; i++) dot += q[i] * v[i];
    all.push({ id: j, distance: 1 - dot / (qn * norm(v)) });
  }
  return all.sort((a, b) => a.distance - b.distance || a.id - b.id).slice(0, k);
}

// The results as the page shows them: [{ doc, distance }] in display order.
const readHits = (page) => page.$$eval('#results li.hit', (lis) =>
  lis.map((li) => ({ doc: Number(li.dataset.doc), distance: Number(li.dataset.distance) })));

// Clicks the title of doc in the list and waits for its results.
async function pick(page, doc) {
  const seq = Number(await page.getAttribute('#results', 'data-seq'));
  await page.click(`#doc-list button[data-doc="${doc}"]`);
  await page.waitForFunction(([d, s]) => {
    const r = document.getElementById('results');
    return r.dataset.query === String(d) && Number(r.dataset.seq) > s;
  }, [doc, seq], WAIT);
}

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
      const meta = await (await fetch(`${server.url}data/docs.json`)).json();
      must(meta.docs.length === 778 && meta.dim === 384, `docs.json has ${meta.docs.length} x ${meta.dim}`);
      const outside = await fetch(`${server.url}..%2Fpackage.json`);
      must(outside.status === 404, `a path outside the routes gave ${outside.status}`);
      return `${server.url}, wasm as application/wasm, ${meta.docs.length} docs x ${meta.dim}`;
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
      must(count === '778', `the index has ${count} vectors`);
      must((await page.getAttribute('#s-index', 'data-quantization')) === 'sq8', 'the default is not SQ8');
      const mem = await page.textContent('#s-mem'), sub = await page.textContent('#s-index-sub');
      must(/\d/.test(mem) && /B per vector/.test(await page.textContent('#s-mem-sub')), `memory shows "${mem}"`);
      must(/built in [\d.]+ ms/.test(sub), `no build time in "${sub}"`);
      return `778 vectors, SQ8, ${sub.split(' · ')[1]}, ${mem}`;
    });

    const word = 'deploy';
    let shown;
    await check(`filter "${word}"`, async () => {
      await page.fill('#filter', word);
      await page.waitForFunction(() => document.getElementById('doc-count').dataset.shown !== '778', null, WAIT);
      shown = await page.$$eval('#doc-list li:not([hidden]) button', (bs) =>
        bs.map((b) => ({ doc: Number(b.dataset.doc), title: b.querySelector('.t').textContent })));
      must(shown.length > 0 && shown.length < 778, `${shown.length} titles shown`);
      const odd = shown.find((s) => !s.title.toLowerCase().includes(word));
      must(!odd, `"${odd?.title}" is shown but lacks "${word}"`);
      return `${shown.length} of 778 titles, each containing "${word}"`;
    });

    // The shown document whose nearest neighbour leads the second by the
    // widest margin in the float32 truth: a top-1 that SQ8's rounding cannot
    // reorder, so the comparison below is a test of the search, not of luck.
    const known = shown.map(({ doc }) => ({ doc, truth: bruteForce(vectors, dim, doc, 10) }))
      .sort((a, b) => (b.truth[1].distance - b.truth[0].distance) - (a.truth[1].distance - a.truth[0].distance))[0];
    let hits;
    await check('query by a clicked title', async () => {
      await pick(page, known.doc);
      hits = await readHits(page);
      must(hits.length === 10, `${hits.length} results, expected k = 10`);
      for (let i = 1; i < hits.length; i++)
        must(hits[i - 1].distance <= hits[i].distance, `distances not ascending at ${i}: ${hits[i - 1].distance} > ${hits[i].distance}`);
      must(hits.every((h) => Number.isFinite(h.distance) && h.distance >= 0 && h.distance <= 2), 'a distance outside [0, 2]');
      must(!hits.some((h) => h.doc === known.doc), 'the queried document is among its own results');
      const note = await page.textContent('#q-note');
      must(/left out/.test(note), `the page does not say the document is left out: "${note}"`);
      return `#${known.doc} "${docs[known.doc].title}": 10 results, ascending, itself excluded`;
    });

    await check('top-1 matches a brute force in Node', async () => {
      const t = known.truth[0];
      must(hits[0].doc === t.id, `page top-1 is #${hits[0].doc}, brute force says #${t.id}`);
      must(Math.abs(hits[0].distance - t.distance) < 0.01, `distance ${hits[0].distance} vs brute force ${t.distance}`);
      return `#${t.id} "${docs[t.id].title}" at ${hits[0].distance.toFixed(4)} (float32: ${t.distance.toFixed(4)})`;
    });

    await check('latency and recall shown', async () => {
      const us = Number(await page.getAttribute('#s-latency', 'data-us'));
      const recall = Number(await page.getAttribute('#s-recall', 'data-value'));
      must(us > 0 && us < 1e5, `latency ${us} µs`);
      must(/µs/.test(await page.textContent('#s-latency')), 'the latency is not shown in µs');
      must(recall >= 0 && recall <= 1, `recall ${recall}`);
      await page.waitForFunction(() => /^All \d+ documents/.test(document.getElementById('sweep').textContent), null, WAIT);
      const sweep = await page.textContent('#sweep'), all = Number(/recall@10 ([\d.]+)/.exec(sweep)?.[1]);
      must(all >= 0 && all <= 1, `all-documents recall in "${sweep}"`);
      return `${us.toFixed(1)} µs median, recall@10 ${recall.toFixed(2)}; ${sweep}`;
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
      const seq = Number(await page.getAttribute('#results', 'data-seq'));
      await page.click('#q-f32');
      await page.waitForFunction((s) => Number(document.getElementById('results').dataset.seq) > s, seq, WAIT);
      must((await page.getAttribute('#s-index', 'data-quantization')) === 'f32', 'the F32 rebuild did not happen');
      await page.click('#load');
      await page.waitForFunction((n) => document.getElementById('store-status').dataset.loaded === n, name, WAIT);
      must((await page.getAttribute('#s-index', 'data-quantization')) === 'sq8', 'the loaded index is not SQ8');
      must((await page.getAttribute('#s-index', 'data-count')) === '778', 'the loaded index lacks vectors');
      const again = await readHits(page);
      must(JSON.stringify(again) === JSON.stringify(hits), 'results after load differ from those before save');
      return `${await page.textContent('#store-status')}, same 10 results and distances`;
    });

    await check('loading a missing name shows the error', async () => {
      await page.fill('#save-name', 'no-such-index');
      await page.click('#load');
      await page.waitForSelector('#error:not([hidden])', WAIT);
      const text = await page.textContent('#error-text');
      must(/PocketVecError NOTFOUND/.test(text) && /no-such-index/.test(text), `the error says "${text}"`);
      await page.fill('#filter', '');
      const other = shown.find((s) => s.doc !== known.doc).doc;
      await pick(page, other);
      must((await readHits(page)).length === 10, 'the page stopped answering after the error');
      return `"${text}", and the next query still answers`;
    });

    await check('offline: reload from the service worker', async () => {
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, WAIT);
      await ctx.setOffline(true);
      await server.close(); // nothing but the cache can answer now
      await page.reload();
      await page.waitForSelector('#app[data-state="ready"]', WAIT);
      must((await page.getAttribute('#s-index', 'data-count')) === '778', 'the offline build lacks vectors');
      await pick(page, known.doc);
      const offline = await readHits(page);
      must(offline.length === 10 && offline[0].doc === known.truth[0].id, 'the offline query gave other results');
      const chip = await page.textContent('#chip-offline');
      must(/offline/.test(chip), `the page does not know it is offline: "${chip}"`);
      return `server stopped, page rebuilt and answered; "${chip}"`;
    });

    await check('screenshot', async () => {
      // Back online for the picture (the server stays down: the page needs
      // nothing from it), with the saved index loaded and a query shown.
      await ctx.setOffline(false);
      await page.fill('#save-name', name);
      await page.click('#load');
      await page.waitForFunction((n) => document.getElementById('store-status').dataset.loaded === n, name, WAIT);
      await page.fill('#filter', word);
      await pick(page, 0);
      await page.waitForFunction(() => /^All \d+ documents/.test(document.getElementById('sweep').textContent), null, WAIT);
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
  console.log('demo-check: FAIL gave up after 60 s');
  process.exit(1);
}, 60000);
main().then(() => {
  clearTimeout(limit);
  console.log('demo-check: all passed');
}, (e) => {
  clearTimeout(limit);
  if (!e.reported) console.log(`demo-check: FAIL ${e.stack ?? e}`);
  process.exitCode = 1;
});
