#!/usr/bin/env node
// The JS package in a real browser: headless Chromium (Debian's `chromium`)
// loads js/test/browser/page.html from a local server on 127.0.0.1, which
// runs one scenario on the main thread (fetch + instantiateStreaming), one
// through the bytes fallback (the .wasm served with the wrong MIME type),
// and one in a module Web Worker. Exits 1 unless all three pass.
// Not part of `make test-js` (Chromium is a large install): `make test-browser`.
import { createServer } from 'node:http';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join, normalize } from 'node:path';

const js = fileURLToPath(new URL('../js/', import.meta.url));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

let report;
const reported = new Promise((r) => (report = r));

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (req.method === 'POST' && url.pathname === '/report') {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => { res.writeHead(204).end(); report(body); });
    return;
  }
  let path = url.pathname, type;
  if (path.startsWith('/badmime/')) {
    path = 'pocketvec.wasm';
    type = 'application/octet-stream';
  } else if (path.startsWith('/pkg/')) path = path.slice(5);
  else path = join('test/browser', path);
  path = normalize(path);
  if (path.startsWith('..')) return res.writeHead(403).end();
  try {
    const body = await readFile(join(js, path));
    type ??= TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-type': type }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const page = `http://127.0.0.1:${server.address().port}/page.html`;

const browser = process.env.CHROMIUM || 'chromium';
const profile = await mkdtemp(join(tmpdir(), 'pv-chromium-'));
const args = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--no-first-run', `--user-data-dir=${profile}`, page];
const child = spawn(browser, args, { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
child.stderr.on('data', (d) => (stderr += d));
const exited = new Promise((r) => {
  child.on('close', (c) => r(`chromium exited (${c}) before reporting\n${stderr.slice(-2000)}`));
  child.on('error', (e) => r(`cannot run ${browser}: ${e.message}`));
});
const timeout = new Promise((r) => setTimeout(() => r('no report within 60 s'), 60000));
const text = await Promise.race([reported, exited, timeout]);
child.kill('SIGKILL');
await exited;
server.close();
await rm(profile, { recursive: true, force: true });

console.log(text.split('\n').map((l) => `browser-smoke: ${l}`).join('\n'));
const pass = /^main: PASS simd128/m.test(text) && /^fallback: simd128/m.test(text) &&
  /^worker: PASS simd128/m.test(text) && /^DONE$/m.test(text) && !/FAIL/.test(text);
console.log(`browser-smoke: ${pass ? 'ok' : 'FAILED'}`);
process.exit(pass ? 0 : 1);
