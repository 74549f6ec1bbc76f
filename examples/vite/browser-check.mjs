#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Loads the example in headless Chromium and checks the page shows the
// search result. Not part of the example itself: scripts/vite-example.sh
// runs it.
//
//   node browser-check.mjs         serve ./dist (after `vite build`) on 127.0.0.1
//   node browser-check.mjs --dev   start Vite's dev server on 127.0.0.1 (`npm run dev`)
//
// CHROMIUM overrides the browser (default /usr/bin/chromium, Debian's).
// Exits 1 unless the page reports ok with the expected hits, the .wasm was
// fetched with 200 and application/wasm, and nothing failed or logged an error.
import { createServer } from 'node:http';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.svg': 'image/svg+xml',
};
const log = (m) => console.log(`vite-example: browser: ${m}`);

const here = fileURLToPath(new URL('.', import.meta.url));
let server, dev, url;
if (process.argv[2] === '--dev') {
  const { createServer: createViteServer } = await import('vite');
  dev = await createViteServer({ root: here, logLevel: 'warn', clearScreen: false,
    server: { host: '127.0.0.1', port: 0 } });
  await dev.listen();
  url = dev.resolvedUrls.local[0];
} else {
  const dist = join(here, 'dist');
  server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path.endsWith('/')) path += 'index.html';
    path = normalize(path).replace(/^[/\\]+/, '');
    if (path.startsWith('..')) return res.writeHead(403).end();
    try {
      const body = await readFile(join(dist, path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${server.address().port}/`;
}

const problems = [];
const profile = await mkdtemp(join(tmpdir(), 'pv-vite-chromium-'));
let ctx;
try {
  // launchPersistentContext: the fresh profile directory is ours (launch()
  // would make its own; --user-data-dir cannot be passed to it).
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true, // Playwright passes --headless
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--no-first-run'],
    timeout: 60000,
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const wasm = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
    // The module's own fetch (not e.g. Vite's JS module for a ?url import).
    if (r.request().resourceType() === 'fetch' && /\.wasm(\?|$)/.test(r.url())) wasm.push(`${r.status()} ${r.headers()['content-type']} ${r.url()}`);
  });
  log(`loading ${url}${dev ? ' (vite dev server)' : ' (dist/ on a static server)'}`);
  await page.goto(url, { timeout: 30000 });
  await page.waitForSelector('#out[data-status]', { timeout: 30000 });
  const status = await page.getAttribute('#out', 'data-status');
  const text = await page.textContent('#out');
  for (const line of text.split('\n')) log(`page: ${line}`);
  for (const w of wasm) log(`wasm fetched: ${w}`);

  if (status !== 'ok') problems.push(`page status is "${status}"`);
  // The query [0.9, 0.1, 0] under l2: x at 0.1^2 + 0.1^2, origin at 0.9^2 + 0.1^2.
  const want = [/^pocketvec \d+\.\d+\.\d+ \(simd128\)$/m, /^x id=1 distance=0\.02$/m,
    /^origin id=0 distance=0\.82$/m];
  for (const re of want) if (!re.test(text)) problems.push(`page text lacks ${re}`);
  if (wasm.length !== 1) problems.push(`expected one .wasm fetch, saw ${wasm.length}`);
  else if (!/^200 application\/wasm /.test(wasm[0])) problems.push(`bad .wasm response: ${wasm[0]}`);
} catch (e) {
  problems.push(`${e.name}: ${e.message.split('\n')[0]}`);
} finally {
  await ctx?.close().catch(() => {});
  server?.close();
  await dev?.close();
  await rm(profile, { recursive: true, force: true });
}

for (const p of problems) log(`FAIL ${p}`);
log(problems.length ? 'FAILED' : 'ok');
process.exit(problems.length ? 1 : 0);
