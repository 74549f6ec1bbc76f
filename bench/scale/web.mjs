// SPDX-License-Identifier: MIT
// The scale benchmark in headless Chromium (bench/scale/run.mjs calls
// webRun): one fresh browser per sample, so every open is a cold one, on a
// profile kept across the samples so that what a page saved to IndexedDB
// or the OPFS is there for the next.
//
// Sources, each with its floor (the same bytes read the same way, copied
// once into a fresh WebAssembly.Memory grown once to their size):
//   fetch    Index.fromResponse(await fetch(FILE)), streamed
//   bytes    the old way: the body as one ArrayBuffer, then Index.fromBytes
//   idb      Index.load(name) after a page saved it to IndexedDB
//   opfs     Index.load(name, { backend: 'opfs' }), likewise
// Memory: the renderers' peak RSS (VmHWM of their /proc status: JS heap,
// WASM memory and the rest of the page), the largest rise of one of them
// during the open (peakAdded: the page's), and the WASM memory's size.
import { createServer } from 'node:http';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

const PAGE = `<!doctype html><meta charset="utf-8"><title>scale</title>
<script type="module">
  import * as pv from '/pkg/index.js';
  import { loadIdb } from '/pkg/src/storage/idb.js';
  import { loadOpfs } from '/pkg/src/storage/opfs.js';
  import { drain } from '/pkg/src/stream.js';
  window.drain = drain;
  window.pv = pv;
  window.readers = { idb: loadIdb, opfs: loadOpfs };
  window.ready = pv.init().then((i) => { window.memory = i.memory; return i.kernels; });
</script>`;

/** The pids of the Chromium renderers started by this process (descendants of it). */
function renderers() {
  const parent = new Map(), cmd = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(+d, +stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      cmd.set(+d, readFileSync(`/proc/${d}/cmdline`, 'utf8'));
    } catch { /* gone */ }
  }
  const mine = (p) => {
    for (let q = p; q > 1; q = parent.get(q)) if (q === process.pid) return true;
    return false;
  };
  return [...cmd].filter(([p, c]) => c.includes('--type=renderer') && mine(p)).map(([p]) => p);
}
const status = (pid, field) => {
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  } catch {
    return 0;
  }
};
const peak = (pid) => status(pid, 'VmHWM'), rss = (pid) => status(pid, 'VmRSS');

/**
 * Runs the Chromium part for one index file: { samples: { mode: [..] },
 * summary, sweep }. log(line) reports progress.
 */
export async function webRun({ file, queries, truth, samples, efs, log }) {
  const { chromium } = await import(join(root, 'js/node_modules/playwright-core/index.mjs'));
  const size = statSync(file).size, pkg = join(root, 'js') + sep;
  const server = createServer((req, res) => {
    // Cross-origin isolated: performance.now() to 5 us instead of 100 us.
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    res.setHeader('cross-origin-embedder-policy', 'require-corp');
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const send = (f, type) => {
      res.writeHead(200, { 'content-type': type, 'content-length': statSync(f).size, 'cache-control': 'no-store' });
      createReadStream(f, { highWaterMark: 1 << 20 }).pipe(res);
    };
    if (path === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (path === '/index.pvec') return send(file, 'application/octet-stream');
    if (path === '/queries.npy') return send(queries, 'application/octet-stream');
    if (path === '/truth.bin') return send(truth, 'application/octet-stream');
    if (path.startsWith('/pkg/')) {
      const f = resolve(pkg, `.${path.slice(4)}`);
      if (!f.startsWith(pkg)) return res.writeHead(403).end();
      return send(f, f.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
    }
    res.writeHead(404).end();
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const profile = await mkdtemp(join(tmpdir(), 'pv-scale-'));

  // One fresh browser, one page: fn's result, with the renderer's peak.
  async function inPage(fn, arg) {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const page = context.pages()[0] ?? await context.newPage();
      await page.goto(origin);
      await page.waitForFunction(() => window.ready, null, { timeout: 60_000 });
      await page.evaluate(() => window.ready);
      // Each renderer's resident memory before, and its peak after: what
      // the open added is the largest rise (the page's renderer's).
      const before = new Map(renderers().map((p) => [p, rss(p)]));
      const r = await page.evaluate(fn, arg);
      const pids = renderers();
      r.peakRss = Math.max(0, ...pids.map(peak));
      r.peakAdded = Math.max(0, ...pids.map((p) => peak(p) - (before.get(p) ?? 0)));
      return r;
    } finally {
      await context.close();
    }
  }

  // In the page: an open of the given mode, timed, and the memory it left.
  const open = async ({ mode, size }) => {
    const { pv } = window, t0 = performance.now();
    let index = null, bytes = 0;
    // A fresh memory grown once to n bytes, and the copy of each piece into it.
    const floor = () => {
      const m = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
      let u;
      const expect = (n) => {
        m.grow(Math.ceil(n / 65536));
        u = new Uint8Array(m.buffer);
      };
      return { m, expect, add: (c) => { u.set(c, bytes); bytes += c.length; } };
    };
    if (mode === 'fetch') index = await pv.Index.fromResponse(await fetch('/index.pvec'));
    else if (mode === 'bytes') index = pv.Index.fromBytes(new Uint8Array(await (await fetch('/index.pvec')).arrayBuffer()));
    else if (mode === 'idb') index = await pv.Index.load('scale');
    else if (mode === 'opfs') index = await pv.Index.load('scale', { backend: 'opfs' });
    else if (mode === 'floor-fetch') {
      const f = floor();
      f.expect(size);
      await window.drain((await fetch('/index.pvec')).body, f.add); // as fromResponse reads
      window.keep = f.m;
    } else {
      const f = floor();
      await window.readers[mode.slice(6)]('scale', f);
      window.keep = f.m;
    }
    const ms = performance.now() - t0;
    const out = { mode, ms, wasmBytes: window.memory.buffer.byteLength, jsHeap: performance.memory?.usedJSHeapSize,
      count: index?.size ?? bytes };
    index?.free();
    return out;
  };

  try {
    // Save it to both stores once (fromResponse, then save).
    const saved = await inPage(async () => {
      const { pv } = window, index = await pv.Index.fromResponse(await fetch('/index.pvec'));
      let t0 = performance.now();
      await index.save('scale', { overwrite: true });
      const idbMs = performance.now() - t0;
      t0 = performance.now();
      await index.save('scale', { backend: 'opfs', overwrite: true });
      const opfsMs = performance.now() - t0;
      index.free();
      return { idbMs, opfsMs };
    });
    log(`chromium: saved to IndexedDB in ${saved.idbMs.toFixed(0)} ms, to the OPFS in ${saved.opfsMs.toFixed(0)} ms`);
    const modes = ['floor-fetch', 'fetch', 'bytes', 'floor-idb', 'idb', 'floor-opfs', 'opfs'];
    const runs = Object.fromEntries(modes.map((m) => [m, []]));
    for (let i = 0; i < samples; i++) {
      for (const mode of modes) {
        const r = await inPage(open, { mode, size });
        runs[mode].push(r);
        log(`chromium: cold ${mode} ${r.ms.toFixed(0)} ms, renderer peak ${(r.peakRss / 1e6).toFixed(0)} MB`);
      }
    }
    const sweep = await inPage(async ({ efs }) => {
      const { pv } = window, index = await pv.Index.fromResponse(await fetch('/index.pvec'));
      const q = new Uint8Array(await (await fetch('/queries.npy')).arrayBuffer());
      const hlen = q[8] | (q[9] << 8), head = new TextDecoder().decode(q.subarray(10, 10 + hlen));
      const [, rows, cols] = /'shape': \((\d+), (\d+)\)/.exec(head).map(Number);
      const data = new Float32Array(q.buffer.slice(10 + hlen, 10 + hlen + rows * cols * 4));
      const truth = new Uint32Array(await (await fetch('/truth.bin')).arrayBuffer()), tk = truth.length / rows;
      const vec = (i) => data.subarray(i * cols, (i + 1) * cols);
      for (let i = 0; i < rows; i++) index.search(vec(i), 10, { ef: efs[0] });
      const out = efs.map((ef) => {
        const t = [];
        let hit = 0;
        for (let i = 0; i < rows; i++) {
          const t0 = performance.now(), r = index.search(vec(i), 10, { ef });
          t.push((performance.now() - t0) * 1000);
          const want = new Set(truth.subarray(i * tk, i * tk + 10));
          for (const h of r) hit += want.has(h.id);
        }
        t.sort((a, b) => a - b);
        const at = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
        return { ef, recall: hit / (rows * 10), p50us: at(0.5), p99us: at(0.99) };
      });
      index.free();
      return { sweep: out };
    }, { efs: efs.split(',').map(Number) });
    for (const s of sweep.sweep) log(`chromium: ef ${s.ef} recall ${s.recall.toFixed(3)} p50 ${s.p50us.toFixed(0)} us p99 ${s.p99us.toFixed(0)} us`);
    return { saved, samples: runs, sweep: sweep.sweep, sweepPeakRss: sweep.peakRss };
  } finally {
    server.close();
    await rm(profile, { recursive: true, force: true });
  }
}
