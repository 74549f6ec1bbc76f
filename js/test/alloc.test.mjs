// SPDX-License-Identifier: MIT
// The module's allocator (wasm/alloc.c), through build-wasm/alloc_test.wasm:
// the allocator alone, exporting malloc, free, realloc, calloc and the heap
// checker pv__alloc_check (walks every chunk and free list; 0 = all rules
// hold). Each test gets a fresh instance, so a fresh heap. Every allocation
// is filled from a random pattern and checked after other operations and
// reallocs; every result is checked for 16-byte alignment and against the
// other live blocks for overlap. Also: the module no longer holds
// wasi-libc's dlmalloc, memory is reused after frees, a realloc grows in
// place when it can, and sizes near 4 GiB fail cleanly. Last, the file's
// strlen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { root, namesWasm, need } from './helpers/paths.mjs';
import { rng } from './helpers/data.mjs';
import { parseModule } from './helpers/wasm-reader.mjs';

const bytes = readFileSync(need(`${root}build-wasm/alloc_test.wasm`));
const MiB = 2 ** 20, GiB = 2 ** 30;

// A fresh allocator with unsigned results and a checker that fails the test.
async function fresh() {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const x = instance.exports;
  x._initialize();
  const a = {
    memory: x.memory,
    malloc: (n) => x.malloc(n) >>> 0,
    realloc: (p, n) => x.realloc(p, n) >>> 0,
    calloc: (n, s) => x.calloc(n, s) >>> 0,
    free: (p) => x.free(p),
    u8: () => new Uint8Array(x.memory.buffer),
    size: () => x.memory.buffer.byteLength,
  };
  const out = a.malloc(4); // room for the checker's free-byte count
  // Checks every rule of the heap; returns the free bytes it holds.
  a.check = () => {
    const rc = x.pv__alloc_check(out);
    assert.equal(rc, 0, `heap check failed: rule ${rc}`);
    return new Uint32Array(x.memory.buffer, out, 1)[0];
  };
  return a;
}

// The pattern every block is filled from: block b holds pat[b.o .. b.o + b.n).
const PAT_LEN = 9 * MiB;
const pat = new Uint8Array(PAT_LEN);
{
  const r = rng(99);
  const w = new Uint32Array(pat.buffer);
  for (let i = 0; i < w.length; i++) w[i] = r() * 2 ** 32;
}

function fill(a, b) {
  a.u8().set(pat.subarray(b.o, b.o + b.n), b.p);
}

/** Block b still holds its pattern (its first `n` bytes of it). */
function intact(a, b, n = b.n) {
  const got = Buffer.from(a.memory.buffer, b.p, n), want = Buffer.from(pat.buffer, b.o, n);
  assert.ok(got.equals(want), `block at ${b.p} (${b.n} bytes) was overwritten`);
}

/** p is a good new block of n bytes: aligned, in memory, clear of every other live block. */
function placed(a, live, p, n, except) {
  assert.ok(p !== 0, `allocating ${n} bytes failed`);
  assert.equal(p % 16, 0, `${p} is not 16-byte aligned`);
  assert.ok(p + n <= a.size(), 'block past the end of memory');
  for (const b of live)
    if (b !== except) assert.ok(p + Math.max(n, 1) <= b.p || b.p + Math.max(b.n, 1) <= p,
      `[${p}, +${n}) overlaps [${b.p}, +${b.n})`);
}

test('the module links this allocator, not dlmalloc', () => {
  const names = [...parseModule(readFileSync(need(namesWasm))).names.values()];
  // (wasm-opt may inline the allocator's internals; malloc is exported.)
  assert.ok(names.includes('malloc'));
  for (const gone of ['dlmalloc', 'dlfree', 'dispose_chunk', 'sbrk'])
    assert.ok(!names.includes(gone), `${gone} is still linked`);
});

test('edge cases: malloc(0), free(NULL), sizes near 4 GiB, calloc overflow', async () => {
  const a = await fresh();
  const z1 = a.malloc(0), z2 = a.malloc(0);
  assert.ok(z1 && z2 && z1 !== z2, 'malloc(0) gives distinct pointers');
  assert.equal(z1 % 16, 0);
  a.free(0);
  const before = a.size();
  for (const n of [2 ** 32 - 1, 2 ** 32 - 16, 2 ** 32 - 65536, 0xffff0001])
    assert.equal(a.malloc(n), 0, `malloc(${n})`);
  assert.equal(a.size(), before, 'a refused request does not grow memory');
  assert.equal(a.calloc(65536, 65536), 0, 'calloc: 2^32 overflows');
  assert.equal(a.calloc(3, 0x55555556), 0, 'calloc: 3 x 0x55555556 overflows');
  assert.equal(a.calloc(2 ** 31, 2), 0);
  const c = a.calloc(1000, 7);
  assert.ok(c && c % 16 === 0);
  assert.ok(a.u8().subarray(c, c + 7000).every((v) => v === 0), 'calloc zeroes');
  const z0 = a.calloc(0, 5);
  assert.ok(z0);
  const b = { p: a.malloc(1000), n: 1000, o: 5 };
  fill(a, b);
  for (const n of [2 ** 32 - 1, 2 ** 32 - 20]) assert.equal(a.realloc(b.p, n), 0);
  intact(a, b); // a failed realloc leaves the block as it was
  const p = a.realloc(0, 100); // realloc(NULL, n) is malloc
  assert.ok(p && p % 16 === 0);
  [z1, z2, z0, c, b.p, p].forEach(a.free);
  a.check();
});

test('realloc grows in place into a free neighbour and at the top of memory; shrinks in place', async () => {
  const a = await fresh();
  const p = a.malloc(100), q = a.malloc(100), guard = a.malloc(16);
  const b = { p, n: 100, o: 7 };
  fill(a, b);
  a.free(q);
  assert.equal(a.realloc(p, 200), p, 'grows into the freed neighbour');
  intact(a, b);
  assert.equal(a.realloc(p, 40), p, 'shrinks in place');
  b.n = 40;
  intact(a, b);
  a.free(guard);
  a.free(p);
  a.check();

  // The last block before the end of memory grows by growing memory.
  const big = { p: a.malloc(3 * MiB), n: 3 * MiB, o: 11 };
  fill(a, big);
  const before = a.size();
  assert.equal(a.realloc(big.p, 8 * MiB), big.p, 'extends at the top');
  assert.ok(a.size() > before);
  intact(a, big);
  assert.ok(a.size() - before <= 5 * MiB + 65536, 'grew by the difference only');
  a.check();
});

test('freed memory coalesces and is reused: the same total again does not grow memory', async () => {
  const a = await fresh();
  const r = rng(5);
  const sizes = Array.from({ length: 3000 }, () => Math.floor(2 ** (r() * 21)));
  for (let i = 0; i < 60; i++) sizes.push(MiB);
  const take = (order) => order.map((n) => {
    const p = a.malloc(n);
    assert.ok(p);
    return p;
  });
  let ptrs = take(sizes);
  const grown = a.size();
  const total = sizes.reduce((s, n) => s + n, 0);
  assert.ok(grown < total * 1.1 + 2 * MiB, `memory ${grown} for ${total} bytes`);
  for (let i = ptrs.length - 1; i > 0; i--) { // free in random order
    const j = Math.floor(r() * (i + 1));
    [ptrs[i], ptrs[j]] = [ptrs[j], ptrs[i]];
  }
  ptrs.forEach(a.free);
  // Everything merged back: the free bytes are the whole heap bar the
  // checker's own 16-byte block.
  const free = a.check();
  assert.ok(free > grown - 256 * 1024, `free ${free} of ${grown}`);
  // The same sizes in another order (largest first), then small first.
  ptrs = take([...sizes].sort((x, y) => y - x));
  ptrs.forEach(a.free);
  ptrs = take([...sizes].sort((x, y) => x - y));
  assert.ok(a.size() <= grown + MiB, `memory grew from ${grown} to ${a.size()}`);
  ptrs.forEach(a.free);
  a.check();
});

// Random mallocs, reallocs (up and down) and frees of 0 bytes to 4 MiB,
// with 1 MiB blocks common; every result checked for alignment and
// overlap, moved or resized blocks checked for content, all blocks checked
// now and then, and the heap's own rules every 100 operations.
for (const seed of [1, 2, 3]) {
  test(`random workload ${seed}: 3000 operations, contents survive`, async (t) => {
    const a = await fresh();
    const r = rng(seed);
    const size = () => (r() < 0.1 ? MiB : r() < 0.02 ? 0 : Math.floor(2 ** (r() * 22)));
    const pick = (n) => Math.floor(r() * (PAT_LEN - n));
    const live = [];
    let bytes = 0, peak = 0;
    for (let op = 0; op < 3000; op++) {
      const x = r();
      if (live.length === 0 || (x < 0.4 && bytes < 160 * MiB)) {
        const n = size(), p = a.malloc(n);
        placed(a, live, p, n);
        const b = { p, n, o: pick(n) };
        fill(a, b);
        live.push(b);
        bytes += n;
      } else if (x < 0.7) {
        const b = live[Math.floor(r() * live.length)];
        const n = r() < 0.5 ? Math.floor(b.n * (1 + r())) + 1 : Math.floor(b.n * r());
        if (n > 4 * MiB + 1) continue;
        const p = a.realloc(b.p, n);
        placed(a, live, p, n, b);
        bytes += n - b.n;
        const kept = Math.min(n, b.n);
        b.p = p;
        intact(a, b, kept);
        b.n = n;
        b.o = pick(n);
        fill(a, b);
      } else {
        const i = Math.floor(r() * live.length), b = live[i];
        intact(a, b);
        a.free(b.p);
        live[i] = live[live.length - 1];
        live.pop();
        bytes -= b.n;
      }
      peak = Math.max(peak, bytes);
      if (op % 100 === 99) a.check();
      if (op % 500 === 499) live.forEach((b) => intact(a, b));
    }
    live.forEach((b) => intact(a, b));
    live.forEach((b) => a.free(b.p));
    a.check();
    t.diagnostic(`memory ${(a.size() / MiB).toFixed(1)} MiB for a peak of ${(peak / MiB).toFixed(1)} MiB live`);
    // Best fit with coalescing: the heap stays within a small factor of
    // the peak of live bytes (typically 1.1-1.3 here).
    assert.ok(a.size() < 1.6 * peak + 8 * MiB, `memory ${a.size() / MiB} MiB, peak live ${peak / MiB} MiB`);
  });
}

// The index's pattern: several indexes growing side by side, each with
// 1 MiB vector blocks, four per-slot arrays grown by realloc x1.5, and a
// link list of 100-1000 bytes for one slot in six; some are freed and
// others built in their place. Memory stays close to what is live.
test('an index-like workload keeps fragmentation bounded', async (t) => {
  const a = await fresh();
  const r = rng(7);
  const ES = [4, 8, 2, 4];
  let live = 0, peak = 0;
  const mk = () => ({ n: 0, cap: 0, arrays: ES.map(() => 0), blocks: [], lists: [] });
  const add = (ix, count) => {
    for (let k = 0; k < count; k++, ix.n++) {
      if (ix.n === ix.cap) {
        const cap = Math.max(16, Math.floor(ix.cap * 1.5));
        ix.arrays = ix.arrays.map((p, i) => {
          const q = a.realloc(p, ES[i] * cap);
          assert.ok(q);
          return q;
        });
        live += (cap - ix.cap) * 18;
        ix.cap = cap;
      }
      if (ix.n % 600 === 0) {
        ix.blocks.push(a.malloc(MiB));
        live += MiB;
      }
      if (r() < 1 / 6) {
        const n = 100 + Math.floor(r() * 900);
        ix.lists.push([a.malloc(n), n]);
        live += n;
      }
    }
    peak = Math.max(peak, live);
  };
  const drop = (ix) => {
    [...ix.arrays, ...ix.blocks].forEach(a.free);
    ix.lists.forEach(([p]) => a.free(p));
    live -= ix.cap * 18 + ix.blocks.length * MiB + ix.lists.reduce((s, [, n]) => s + n, 0);
  };
  let idx = [mk(), mk(), mk()];
  for (let round = 0; round < 6; round++) {
    for (let step = 0; step < 40; step++) for (const ix of idx) add(ix, Math.floor(r() * 600));
    drop(idx[round % 3]);
    idx[round % 3] = mk();
    a.check();
  }
  idx.forEach(drop);
  assert.equal(live, 0);
  t.diagnostic(`memory ${(a.size() / MiB).toFixed(1)} MiB for a peak of ${(peak / MiB).toFixed(1)} MiB live`);
  const free = a.check();
  assert.ok(free > a.size() - MiB, 'all freed memory merged back');
  assert.ok(a.size() < 1.25 * peak + 4 * MiB, `memory ${a.size() / MiB} MiB, peak live ${(peak / MiB).toFixed(1)} MiB`);
});

test('one block over 2 GiB, then allocate until memory is exhausted: NULL, never a wrap', async () => {
  const a = await fresh();
  const n = 2.5 * GiB, p = a.malloc(n);
  assert.ok(p, 'a 2.5 GiB block');
  assert.equal(p % 16, 0);
  assert.ok(a.size() >= p + n);
  const u8 = a.u8();
  u8[p] = 1;
  u8[p + n - 1] = 2;
  a.free(p);
  a.check();
  // Fill memory: 256 MiB blocks, then halving sizes down to 1 KiB.
  const live = [];
  for (let n = 256 * MiB; n >= 1024; n /= 2) {
    for (let q; (q = a.malloc(n)); ) {
      placed(a, live, q, n);
      live.push({ p: q, n });
    }
  }
  const total = live.reduce((s, b) => s + b.n, 0);
  assert.ok(total > 3.5 * GiB, `allocated ${total / GiB} GiB before running out`);
  assert.ok(a.size() <= 4 * GiB);
  assert.equal(a.malloc(4 * MiB), 0, 'still out of memory');
  const u = a.u8();
  live.forEach((b, i) => { u[b.p] = i; u[b.p + b.n - 1] = i; });
  live.forEach((b, i) => assert.ok(u[b.p] === (i & 255) && u[b.p + b.n - 1] === (i & 255)));
  live.forEach((b) => a.free(b.p));
  assert.ok(a.check() > a.size() - MiB, 'all merged back');
  const q = a.malloc(3.5 * GiB);
  assert.ok(q, 'and one 3.5 GiB block fits again');
  a.free(q);
  a.check();
});

test('strlen: the bytes before the first NUL, from any address', async () => {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const x = instance.exports;
  x._initialize();
  const p = x.malloc(64) >>> 0, u8 = new Uint8Array(x.memory.buffer);
  for (let at = 0; at < 4; at++)
    for (let n = 0; n < 40; n++) {
      u8.fill(0xe9, p, p + 64); // bytes >= 0x80 count like any other
      u8[p + at + n] = 0;
      assert.equal(x.strlen(p + at), n, `length ${n} at +${at}`);
    }
});
