#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// One sample of the scale benchmark in Node, in a process of its own (a
// cold open is the first in a fresh process: fresh WebAssembly memory).
// bench/scale/run.mjs runs it; it prints one JSON line.
//
//   node bench/scale/open.mjs floor FILE      the floor of an open: a fresh
//       WebAssembly.Memory grown once to the file's size, the file read
//       straight into it (one copy, every page touched once)
//   node bench/scale/open.mjs load FILE [--warm] [--sweep QUERIES TRUTH EFS]
//       Index.load(FILE), streamed into WASM memory; --warm loads, frees
//       and loads again, timing the second; --sweep then searches every
//       query at each ef (comma-separated) for recall@10 and p50/p99
//   node bench/scale/open.mjs bytes FILE      the file read whole into
//       JavaScript, then Index.fromBytes (what a page did before
//       fromResponse: the file twice in memory at the peak)
//
// Memory: rss and its peak (VmHWM of /proc/self/status: everything the
// process touched, WASM memory and the JS heap included), the WASM memory's
// size, the JS heap and array buffers, all in bytes.
import { openSync, readSync, closeSync, fstatSync, readFileSync, statSync } from 'node:fs';

import { init, Index } from '../../js/index.js';
import { w } from '../../js/src/wasm.js';

const [mode, file, ...rest] = process.argv.slice(2);
if (!['floor', 'load', 'bytes'].includes(mode) || !file) {
  console.error('usage: open.mjs floor|load|bytes FILE [--warm] [--sweep QUERIES TRUTH EFS]');
  process.exit(2);
}
const PIECE = 1 << 22;
const hwm = () => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
};
const mem = () => {
  const u = process.memoryUsage();
  return { rss: u.rss, peakRss: hwm(), heapUsed: u.heapUsed, arrayBuffers: u.arrayBuffers };
};

/** A .npy float32 array: { rows, cols, data }. */
function readNpy(path) {
  const b = readFileSync(path), hlen = b.readUInt16LE(8), head = b.toString('latin1', 10, 10 + hlen);
  const m = /'shape': \((\d+), (\d+)\)/.exec(head);
  if (!m || !head.includes("'<f4'")) throw new Error(`${path}: not a 2-d little-endian float32 .npy`);
  const off = 10 + hlen, rows = +m[1], cols = +m[2];
  return { rows, cols, data: new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + off + rows * cols * 4)) };
}

const out = { mode, file };
if (mode === 'floor') {
  const before = mem(), t0 = performance.now();
  const fd = openSync(file, 'r'), size = fstatSync(fd).size;
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  memory.grow(Math.ceil(size / 65536));
  const u = new Uint8Array(memory.buffer);
  for (let off = 0; off < size;) {
    const n = readSync(fd, u, off, Math.min(PIECE, size - off), off);
    if (!n) throw new Error(`${file}: short read at ${off}`);
    off += n;
  }
  closeSync(fd);
  out.ms = performance.now() - t0;
  Object.assign(out, { size, wasmBytes: memory.buffer.byteLength, before, after: mem() });
} else {
  let t0 = performance.now();
  await init();
  out.initMs = performance.now() - t0;
  const before = mem();
  let index;
  if (mode === 'bytes') {
    t0 = performance.now();
    const bytes = readFileSync(file);
    out.readMs = performance.now() - t0;
    index = Index.fromBytes(bytes);
    out.ms = performance.now() - t0;
  } else {
    t0 = performance.now();
    index = await Index.load(file);
    out.ms = performance.now() - t0;
    if (rest.includes('--warm')) {
      index.free();
      t0 = performance.now();
      index = await Index.load(file);
      out.warmMs = performance.now() - t0;
    }
  }
  Object.assign(out, { size: statSync(file).size, wasmBytes: w.memory.buffer.byteLength,
    indexBytes: index.memoryUsage, count: index.size, before, after: mem() });
  const s = rest.indexOf('--sweep');
  if (s >= 0) {
    const q = readNpy(rest[s + 1]), truth = new Uint32Array(readFileSync(rest[s + 2]).buffer.slice(0));
    const efs = rest[s + 3].split(',').map(Number), k = 10, tk = truth.length / q.rows;
    const vec = (i) => q.data.subarray(i * q.cols, (i + 1) * q.cols);
    for (let i = 0; i < q.rows; i++) index.search(vec(i), k, { ef: efs[0] }); // warm-up
    out.sweep = efs.map((ef) => {
      const t = [];
      let hit = 0;
      for (let i = 0; i < q.rows; i++) {
        const t1 = performance.now(), r = index.search(vec(i), k, { ef });
        t.push((performance.now() - t1) * 1000);
        const want = new Set(truth.subarray(i * tk, i * tk + k));
        for (const h of r) hit += want.has(h.id);
      }
      t.sort((a, b) => a - b);
      const at = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
      return { ef, recall: hit / (q.rows * k), p50us: at(0.5), p99us: at(0.99) };
    });
  }
  index.free();
}
console.log(JSON.stringify(out));
