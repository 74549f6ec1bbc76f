// SPDX-License-Identifier: MIT
// Streaming loads (issue 17): Index.fromResponse and the loading buffer of
// importChunks and Index.load. An index streamed in pieces of any size must
// be the index fromBytes gives; a stream that fails, stops early or lies
// about its length must be a PocketVecError that leaves nothing allocated
// (WASM memory stops growing over repeated failures); the buffer is
// allocated once when the length is known, so WASM memory grows by about
// the index, not twice it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { init, Index, PocketVecError, ErrorCode } from '../index.js';
import { clustered, row } from './helpers/data.mjs';

const info = await init();
const { CORRUPT, INVALID, IO } = ErrorCode;
const memory = () => info.memory.buffer.byteLength;

async function rejects(p, code, re) {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof PocketVecError, `not a PocketVecError: ${e?.stack ?? e}`);
    assert.equal(e.code, code, `code ${e.code} (${e.message})`);
    assert.match(e.message, re);
    return true;
  });
}

/** An index of n vectors with documents and deletes, its bytes and queries. */
function sample(n = 2000, dim = 32) {
  const ix = new Index({ dim, quantization: 'sq8', m: 8, efConstruction: 40 });
  const data = clustered(n + 20, dim, { seed: 5 });
  for (let i = 0; i < n; i++) ix.upsert({ key: `k${i}`, vector: row(data, dim, i), attributes: { i } });
  for (let i = 0; i < n; i += 9) ix.delete(`k${i}`);
  const queries = Array.from({ length: 20 }, (_, i) => row(data, dim, n + i));
  const bytes = ix.toBytes();
  ix.free();
  return { bytes, queries };
}
const { bytes, queries } = sample();

/** A Response whose body arrives in pieces of the given sizes (cycled). */
function response(data, sizes, { headers = {}, failAt = -1, status = 200 } = {}) {
  let off = 0, i = 0;
  const body = new ReadableStream({
    pull(c) {
      if (failAt >= 0 && off >= failAt) return c.error(new TypeError('network error: the connection was reset'));
      if (off >= data.length) return c.close();
      const n = sizes[i++ % sizes.length];
      c.enqueue(data.slice(off, off + n));
      off += n;
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status, headers });
}

/** What an index answers: its settings, size, bytes, search hits and a document. */
function answers(ix) {
  return { size: ix.size, bytes: Buffer.from(ix.toBytes()).toString('base64'),
    hits: queries.map((q) => ix.search(q, 10, { attributes: true })), doc: ix.get('k5') };
}
const want = (() => {
  const ix = Index.fromBytes(bytes);
  try {
    return answers(ix);
  } finally {
    ix.free();
  }
})();

test('fromResponse: pieces of any size, with and without Content-Length, give the index fromBytes gives', async () => {
  for (const [sizes, headers] of [[[1 << 16], {}], [[7, 1000, 1], {}], [[bytes.length], { 'content-length': String(bytes.length) }],
    [[24, 100, 4096 + 3], { 'content-length': String(bytes.length) }], [[1 << 20], { 'content-encoding': 'gzip', 'content-length': '10' }]]) {
    const ix = await Index.fromResponse(response(bytes, sizes, { headers }));
    try {
      assert.deepEqual(answers(ix), want, `pieces ${sizes}, headers ${JSON.stringify(headers)}`);
    } finally {
      ix.free();
    }
  }
});

test('fromResponse over HTTP (fetch from a local server), and importChunks of the body stream', async () => {
  const server = createServer((req, res) => {
    if (req.url === '/index.pvec') return res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
    if (req.url === '/cut.pvec') {
      // Promises every byte, sends half, then drops the connection.
      res.writeHead(200, { 'content-length': bytes.length });
      res.write(bytes.subarray(0, bytes.length >> 1));
      return setTimeout(() => res.destroy(), 20);
    }
    res.writeHead(404, 'Not Found').end();
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${server.address().port}`;
  try {
    let ix = await Index.fromResponse(await fetch(`${url}/index.pvec`));
    assert.deepEqual(answers(ix), want);
    ix.free();
    ix = await Index.importChunks((await fetch(`${url}/index.pvec`)).body);
    assert.deepEqual(answers(ix), want);
    ix.free();
    await rejects(Index.fromResponse(await fetch(`${url}/missing.pvec`)), IO, /missing\.pvec is 404 Not Found/);
    const before = [];
    for (let i = 0; i < 4; i++) {
      await rejects(Index.fromResponse(await fetch(`${url}/cut.pvec`)), IO, /cut\.pvec failed: TypeError/);
      before.push(memory());
    }
    assert.equal(before[3], before[1], `WASM memory after each failed load: ${before}`);
  } finally {
    server.close();
  }
});

test('a stream that fails, stops early or lies about its length: a PocketVecError, nothing left allocated', async () => {
  const sizes = [];
  for (let round = 0; round < 4; round++) {
    // The body fails half-way (the connection reset).
    await rejects(Index.fromResponse(response(bytes, [4096], { failAt: bytes.length >> 1 })), IO,
      /loading the index failed: TypeError: network error/);
    // It ends early; Content-Length said more.
    await rejects(Index.fromResponse(response(bytes.subarray(0, bytes.length - 100), [5000],
      { headers: { 'content-length': String(bytes.length) } })), CORRUPT, /truncated: the header says \d+ bytes, there are \d+/);
    // Content-Length says fewer bytes than the header: grown with the data, all arrive.
    const ix = await Index.fromResponse(response(bytes, [5000], { headers: { 'content-length': '1000' } }));
    assert.equal(ix.size, want.size);
    ix.free();
    // The header declares 4 GB: not allocated up front, and the damage is named.
    const lie = bytes.slice();
    new DataView(lie.buffer).setUint32(16, 0xfffffff0, true);
    await rejects(Index.fromResponse(response(lie, [65536])), CORRUPT, /header checksum does not match/);
    sizes.push(memory());
  }
  assert.equal(sizes[3], sizes[1], `WASM memory after each round: ${sizes}`);
  assert.ok(memory() < 1 << 30, `a lying header grew WASM memory to ${memory()} bytes`);
});

test('fromResponse: bad arguments and responses', async () => {
  await rejects(Index.fromResponse(bytes), INVALID, /fromResponse takes a Response.*got a Uint8Array of length/);
  await rejects(Index.fromResponse(undefined), INVALID, /fromResponse takes a Response/);
  await rejects(Index.fromResponse(response(bytes, [10], { status: 500 })), IO, /the response is 500/);
  const used = response(bytes, [1 << 20]);
  await used.arrayBuffer();
  await rejects(Index.fromResponse(used), INVALID, /already read/);
  await rejects(Index.fromResponse(new Response(null)), CORRUPT, /./);
});

test('a loaded file grows a fresh WASM memory once, by about its size, and answers as fromBytes', async () => {
  // A bigger index, so that its buffer is most of what the load allocates.
  const dim = 512, n = 8000, ix = new Index({ dim, quantization: 'f32', m: 4, efConstruction: 8 });
  ix.addBatch(clustered(n, dim, { seed: 8 }));
  const big = ix.toBytes();
  ix.free();
  const dir = await mkdtemp(join(tmpdir(), 'pv-stream-')), file = join(dir, 'big.pvec');
  try {
    await writeFile(file, big);
    // In a process of its own: this one's memory has room left by the build.
    const src = `
      import { init, Index } from ${JSON.stringify(new URL('../index.js', import.meta.url).href)};
      const { memory } = await init(), before = memory.buffer.byteLength;
      const ix = await Index.load(${JSON.stringify(file)});
      console.log(JSON.stringify({ grew: memory.buffer.byteLength - before, size: ix.size,
        same: Buffer.compare(Buffer.from(ix.toBytes()), (await import('node:fs')).readFileSync(${JSON.stringify(file)})) === 0 }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { grew, size, same } = JSON.parse(r.stdout);
    assert.equal(size, n);
    assert.ok(same, 'the loaded index saves the same bytes');
    // Doubling from 4 MiB to the file's 16.5 MB grew it by about 28 MB.
    assert.ok(grew < big.length * 1.25, `WASM memory grew by ${grew} bytes for a ${big.length}-byte file`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// Chromium's stream of an OPFS file was seen to stop for good part-way
// (bench/persist.mjs hung at 100k x 768): readFile gives a read that brings
// nothing up and goes on from where it stopped, with a new stream.
test('readFile: a stream that stops part-way is read on from where it stopped; one that never moves is an error', async () => {
  const { readFile } = await import('../src/stream.js');
  const data = new Uint8Array(300_000).map((_, i) => (i * 7) & 255);
  // A File-like: stream() and slice(at).stream(); the first `stalls`
  // streams give `upto` more bytes in 10 KB pieces, then never another.
  const fake = (stalls, upto) => {
    let opened = 0;
    const make = (at) => ({
      stream() {
        const stop = opened++ < stalls ? at + upto : Infinity;
        let o = at;
        return new ReadableStream({
          pull(c) {
            if (o >= data.length) return c.close();
            if (o >= stop) return new Promise(() => {}); // stuck for good
            const n = Math.min(10_000, data.length - o, stop - o);
            c.enqueue(data.slice(o, o + n));
            o += n;
          },
        });
      },
      slice: (from) => make(at + from),
      get opened() { return opened; },
    });
    return make(0);
  };
  for (const [stalls, upto] of [[0, 0], [1, 65_000], [3, 40_000], [2, 1]]) {
    const f = fake(stalls, upto), got = [];
    await readFile(f, (c) => got.push(c.slice()), 50);
    const all = new Uint8Array(got.reduce((n, c) => n + c.length, 0));
    got.reduce((o, c) => (all.set(c, o), o + c.length), 0);
    assert.deepEqual(all, data, `${stalls} stalls after ${upto} bytes each`);
    assert.equal(f.opened, stalls + 1);
  }
  // Never a byte: given up after the first try and three more.
  const f = fake(Infinity, 0);
  await assert.rejects(readFile(f, () => {}, 20), (e) => e.stalled === true && /stalled/.test(e.message));
  assert.equal(f.opened, 4);
});
