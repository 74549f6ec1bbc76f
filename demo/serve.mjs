#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The demo's static server: `npm run demo` in js/ (or `node demo/serve.mjs`).
// Serves, on 127.0.0.1 only:
//   /, /index.html, /app.js, /style.css, /sw.js   the page, from demo/
//   /pkg/pocketvec.js, /pkg/pocketvec.js.map,     the package as it ships
//   /pkg/pocketvec.wasm                           (the map for devtools)
//   /data/docs.json, /data/embeddings.bin         the dataset (below)
// Anything else is a 404: the server never maps a URL onto the file system,
// so no path can escape these files.
//
// The dataset is the npm package @sap-ux/fiori-docs-embeddings (a dev
// dependency of js/): 778 SAP Fiori documentation pages embedded with
// all-MiniLM-L6-v2 (384 dimensions). At startup its records.jsonl (7 MB)
// becomes docs.json: per document its key (the record's id), a display
// title, the category, the path, a short excerpt and the text the page
// indexes for full-text search (the title, then the content with its
// markup labels taken out: 5.7 MB in all, 1.1 MB gzipped, which is how it
// is sent to a browser that accepts gzip). embeddings.bin is served as it
// is.
//
// PORT picks the port (default 8080); if it is taken the server takes a
// free one instead, and says so. check.mjs imports startServer().
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

const DEMO = fileURLToPath(new URL('./', import.meta.url));
const JS = fileURLToPath(new URL('../js/', import.meta.url));
export const DATASET = '@sap-ux/fiori-docs-embeddings';

const UTF8 = '; charset=utf-8';
const TYPES = {
  html: 'text/html' + UTF8, js: 'text/javascript' + UTF8, css: 'text/css' + UTF8,
  json: 'application/json' + UTF8, map: 'application/json' + UTF8, wasm: 'application/wasm',
  bin: 'application/octet-stream',
};

// Everything the page loads comes from this origin: the policy makes that a
// fact the browser enforces rather than a promise. WebAssembly compilation
// needs 'wasm-unsafe-eval'; nothing else is relaxed.
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
  "img-src 'self' data:; connect-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'";

// ---- the dataset -----------------------------------------------------------

/**
 * Reads the embeddings package and returns
 *   { source, model, dim, docs: [{ key, title, category, path, excerpt, text }],
 *     embeddings: Buffer (n * dim little-endian float32, as in the package),
 *     vectors: Float32Array (the same values, n * dim) }
 * in the package's order, which is the order of the ids the page assigns.
 * Throws an Error with a sentence to act on when the package is missing or
 * its files disagree with each other (a half-finished install).
 */
export async function loadDataset(pkg = DATASET) {
  const require = createRequire(join(JS, 'package.json'));
  let root;
  try {
    root = dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new Error(`the dataset package ${pkg} is not installed: run \`npm ci\` in js/ ` +
      '(it is one of the package\'s devDependencies)');
  }
  const dir = join(root, 'data', 'embeddings');
  const [pkgJson, meta, jsonl, embeddings] = await Promise.all([
    readFile(join(root, 'package.json'), 'utf8'), readFile(join(dir, 'metadata.json'), 'utf8'),
    readFile(join(dir, 'records.jsonl'), 'utf8'), readFile(join(dir, 'embeddings.bin')),
  ]).catch((e) => {
    throw new Error(`${pkg} is incomplete (${e.message}): run \`npm ci\` in js/`);
  });
  const { version } = JSON.parse(pkgJson), { model, dimensions: dim } = JSON.parse(meta);
  const records = jsonl.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  if (!Number.isInteger(dim) || embeddings.length !== records.length * dim * 4)
    throw new Error(`${pkg} ${version}: embeddings.bin has ${embeddings.length} bytes, but ` +
      `${records.length} records of ${dim} float32 need ${records.length * dim * 4}; run \`npm ci\` in js/`);
  // A copy, because a Float32Array needs a 4-byte aligned offset and a
  // Buffer from readFile promises none. The file is little-endian, as is
  // every machine Node and browsers run WebAssembly on in practice.
  const vectors = new Float32Array(embeddings.buffer.slice(embeddings.byteOffset,
    embeddings.byteOffset + embeddings.length));
  const keys = new Set();
  const docs = records.map((r, i) => {
    // The key the page upserts each document under: the id must be there,
    // and unique, or two documents would replace each other.
    if (typeof r.id !== 'string' || !r.id || keys.has(r.id))
      throw new Error(`${pkg} ${version}: record ${i} has a missing or repeated id; run \`npm ci\` in js/`);
    keys.add(r.id);
    const title = displayTitle(r);
    return {
      key: r.id, title, category: r.category ?? '', path: r.path ?? '', excerpt: excerptOf(r),
      text: textOf(r, title),
    };
  });
  return { source: `${pkg} ${version}`, model, dim, docs, embeddings, vectors };
}

// Inline markdown reduced to its text: links to their label, images,
// emphasis, code ticks and HTML tags dropped, runs of space collapsed.
function plain(s) {
  return s
    .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/[*_`]+/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

// At most n characters, cut at a word boundary, with an ellipsis if cut.
function clip(s, n) {
  if (s.length <= n) return s;
  const cut = s.slice(0, n - 1), space = cut.lastIndexOf(' ');
  return `${(space > n / 2 ? cut.slice(0, space) : cut).replace(/[\s,.;:—-]+$/, '')}…`;
}

/**
 * The title to show for a record. 725 of the 778 records have a real title
 * (their content opens with "**TITLE**: ..."); the other 53 are chunks of
 * READMEs titled like "create-README.md - Chunk 7", which tells a reader
 * nothing. For those, the first markdown heading of the content names the
 * section ("add mockserver-config"); chunks that start inside a table have
 * none, and the first "STEP: n — ..." line names what they cover.
 */
export function displayTitle(r) {
  const content = r.content ?? '';
  const tagged = /^\*\*TITLE\*\*:\s*(.+)$/m.exec(content);
  if (tagged) return clip(plain(tagged[1]), 120);
  if (r.title && !/ - Chunk \d+$/.test(r.title)) return clip(plain(r.title), 120);
  const heading = /^#{1,6}\s+(.+)$/m.exec(content);
  if (heading && plain(heading[1])) return clip(plain(heading[1]), 120);
  const step = /^\**STEP\**:\s*\d+\s*[—–-]\s*(.+)$/m.exec(content);
  if (step) return clip(plain(step[1]), 120);
  const line = (r.excerpt ?? content).split('\n').map((l) => plain(l.replace(/\|/g, ' '))).find((l) => /[a-z]/i.test(l));
  return clip(line ?? r.title ?? r.id, 120);
}

/**
 * A one- or two-line excerpt: the record's "**INTRODUCTION**:" paragraph
 * when it has a real one (the package's own excerpt field is the first 200
 * characters of the content, mostly spent on the title line), else the
 * first line of prose, skipping headings, tags, code and badges; a record
 * that is all tables (one is) gets the longest cell of its first row.
 */
export function excerptOf(r) {
  const content = r.content ?? r.excerpt ?? '';
  const intro = /^\*\*INTRODUCTION\*\*:\s*(.+)$/m.exec(content);
  if (intro && !/^no introduction\b/i.test(intro[1].trim())) return clip(plain(intro[1]), 220);
  const lines = [];
  let fenced = false;
  for (const raw of content.split('\n')) {
    const l = raw.trim();
    if (l.startsWith('```')) fenced = !fenced;
    else if (!fenced && l && !/^(#|-{3,}|\[!\[|<|\**(TITLE|INTRODUCTION|TAGS|STEP|LANGUAGE|CODE)\**:)/.test(l)) lines.push(l);
  }
  const prose = (l) => plain(l.replace(/^\**DESCRIPTION\**:\s*/, ''));
  const ok = (t) => t.length > 30 && /[a-z]{3}/.test(t);
  const text = lines.filter((l) => (l.match(/\|/g) ?? []).length < 2).map(prose).find(ok) ??
    lines.map((l) => l.split('|').map(plain).sort((a, b) => b.length - a.length)[0]).find(ok);
  return clip(text ?? plain(r.excerpt ?? ''), 220);
}

/**
 * The text the page indexes for full-text search: the display title, then
 * the record's content with the labels the package puts on its parts
 * (**TITLE**: the title, once is enough; **INTRODUCTION**:, **TAGS**:,
 * STEP: n —, DESCRIPTION:, CODE:, LANGUAGE: lines, code fences) taken
 * out, links reduced to their label and addresses dropped. The labels are
 * on nearly every record: left in, "code" or "description" would match
 * them all. The code inside the fences stays: its names (ui5-deploy.yaml,
 * sap.fe.macros) are what a developer searches for.
 */
export function textOf(r, title) {
  const body = (r.content ?? '')
    .replace(/^\**TITLE\**:.*$/m, '')
    .replace(/^\**LANGUAGE\**:.*$/gm, '')
    .replace(/^```.*$/gm, '')
    .replace(/^\**STEP\**:\s*(?:\d+\s*[—–-]\s*)?/gm, '')
    .replace(/^\**(?:INTRODUCTION|TAGS|DESCRIPTION|CODE|ADDITIONAL RELATED CODE BLOCKS)\**:\s*/gm, '')
    .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/https?:\/\/[^\s)\]]+/g, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/\s*\n\s*/g, '\n')
    .trim();
  return `${title}\n${body}`;
}

// ---- the server ------------------------------------------------------------

/**
 * Starts the server on host:port (port 0: any free port). If the port is
 * taken and `fallback` is set, listens on a free port instead. Resolves to
 *   { url, port, fellBack, dataset, server, close(): Promise<void> }.
 * Rejects, with nothing listening, when the dataset or the built package is
 * missing (the message says what to run) or the port cannot be had.
 */
export async function startServer({ port = 8080, host = '127.0.0.1', fallback = true } = {}) {
  const dataset = await loadDataset();
  for (const f of ['pocketvec.js', 'pocketvec.js.map', 'pocketvec.wasm'])
    await readFile(join(JS, f)).catch(() => {
      throw new Error(`js/${f} is missing: build the package first (\`npm run demo\` in js/ does, ` +
        'or `make -f Makefile -f wasm/wasm.mk wasm` at the top)');
    });
  const docsJson = Buffer.from(JSON.stringify({
    source: dataset.source, model: dataset.model, dim: dataset.dim, docs: dataset.docs,
  }));
  // docs.json is mostly text: gzipped once here (5.7 MB to 1.1 MB), sent so
  // to every client that accepts it.
  const gzipped = new Map([[docsJson, await promisify(gzip)(docsJson)]]);
  const routes = new Map([
    ['/', join(DEMO, 'index.html')],
    ...['index.html', 'app.js', 'style.css', 'sw.js'].map((f) => [`/${f}`, join(DEMO, f)]),
    ['/pkg/pocketvec.js', join(JS, 'pocketvec.js')],
    ['/pkg/pocketvec.js.map', join(JS, 'pocketvec.js.map')],
    ['/pkg/pocketvec.wasm', join(JS, 'pocketvec.wasm')],
    ['/data/docs.json', docsJson],
    ['/data/embeddings.bin', dataset.embeddings],
  ]);

  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://localhost').pathname, what = routes.get(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') return res.writeHead(405, { allow: 'GET, HEAD' }).end();
    if (!what) return res.writeHead(404, { 'content-type': TYPES.json }).end('{"error":"not found"}\n');
    let body;
    try {
      // Files are read per request, so edits to the page or a rebuilt
      // package show on reload without restarting the server.
      body = typeof what === 'string' ? await readFile(what) : what;
    } catch (e) {
      return res.writeHead(500, { 'content-type': TYPES.json }).end(JSON.stringify({ error: e.message }));
    }
    const ext = path === '/' ? 'html' : path.slice(path.lastIndexOf('.') + 1);
    const headers = {
      'content-type': TYPES[ext],
      // Revalidate every time: the service worker, not the HTTP cache, is
      // what keeps the page working offline.
      'cache-control': 'no-cache', 'x-content-type-options': 'nosniff',
    };
    if (gzipped.has(body)) {
      headers.vary = 'accept-encoding';
      if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
        body = gzipped.get(body);
        headers['content-encoding'] = 'gzip';
      }
    }
    headers['content-length'] = body.length;
    if (ext === 'html') headers['content-security-policy'] = CSP;
    res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
  });

  let fellBack = false;
  try {
    await listen(server, port, host);
  } catch (e) {
    if (e.code !== 'EADDRINUSE' || !fallback || port === 0) throw e;
    await listen(server, 0, host);
    fellBack = true;
  }
  const actual = server.address().port;
  return {
    url: `http://${host}:${actual}/`, port: actual, fellBack, dataset, server,
    close: () => new Promise((ok) => {
      server.close(() => ok());
      server.closeAllConnections();
    }),
  };
}

function listen(server, port, host) {
  return new Promise((ok, no) => {
    const fail = (e) => no(e);
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
}

// ---- command line ----------------------------------------------------------

async function main() {
  const env = process.env.PORT, port = env === undefined || env === '' ? 8080 : Number(env);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number from 0 to 65535, got "${env}"`);
  const s = await startServer({ port });
  const { dataset: d } = s;
  if (s.fellBack) console.log(`pocketvec demo: port ${port} is taken, using ${s.port} instead`);
  console.log(`pocketvec demo: ${d.docs.length} documents x ${d.dim} dimensions (${d.model}) from ${d.source}`);
  console.log(`pocketvec demo: open ${s.url}   (Ctrl+C to stop)`);
  const stop = () => s.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(`pocketvec demo: ${e.message}`);
    process.exit(1);
  });
}
