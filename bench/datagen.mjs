// SPDX-License-Identifier: MIT
// The seeded datasets of common/datagen.c, ported to JavaScript bit for bit:
// same mulberry32 draws in the same order, the same correctly rounded double
// operations (+, -, *, /, sqrt) in the same order, and one rounding to float
// at the very end, as the C (float) cast does. js/test/datagen.test.mjs
// compares the bytes with the C generator; keep the two files in step.
//
// Also here: the exact ground truth (pv_dataset_truth) and the fingerprint
// and file format of the native benchmark's truth cache (bench/.cache/), so
// the WASM benchmark can share that cache with bench/bench_native.c.

import { closeSync, openSync, readSync, fstatSync, mkdirSync, writeFileSync, renameSync,
  rmSync } from 'node:fs';
import { dirname } from 'node:path';

/** PV_DG_RANK: low-rank directions of spread per cluster. */
export const RANK = 16;

// mulberry32, as dg_next. The state is one uint32, kept in an Int32Array
// (st[0]) so the optimiser keeps it unboxed; every step is 32-bit
// arithmetic: Math.imul for the wrapping multiplies, `| 0` or `>>> 0` to wrap
// as uint32_t does in C. Top-level functions rather than closures: V8
// inlines them, which makes the generator about twice as fast.
function dgNext(st) {
  const s = (st[0] + 0x6d2b79f5) | 0;
  st[0] = s;
  let t = Math.imul(s ^ (s >>> 15), s | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

// dg_uniform: (x + 0.5) / 2^32, both steps exact.
const dgUniform = (st) => (dgNext(st) + 0.5) * (1.0 / 4294967296.0);

// dg_gauss: Irwin-Hall with four uniforms, summed left to right.
function dgGauss(st) {
  let u = dgUniform(st);
  u += dgUniform(st);
  u += dgUniform(st);
  u += dgUniform(st);
  return (u - 2.0) * 1.7320508075688772;
}

/** pv_dataset_make's default number of clusters for n base vectors. */
export const defaultClusters = (n) => Math.max(8, Math.floor(n / 100));

/**
 * pv_dataset_make: n base vectors and nq queries of dim floats, unit length,
 * from `clusters` clusters (0 picks n / 100, at least 8). Returns
 * { dim, n, nq, clusters, base, queries }: base and queries are views of one
 * Float32Array of (n + nq) * dim values, base first, as in C.
 */
export function makeDataset(dim, n, nq, clusters, seed) {
  if (!clusters) clusters = defaultClusters(n);
  const total = n + nq;
  const centre = new Float64Array(clusters * dim);
  const basis = new Float64Array(clusters * RANK * dim);
  const x = new Float64Array(dim);
  const out = new Float32Array(total * dim);
  const st = new Int32Array([seed | 0]);
  for (let i = 0; i < centre.length; i++) centre[i] = dgGauss(st);
  for (let i = 0; i < basis.length; i++) basis[i] = dgGauss(st) * 0.2;
  for (let i = 0; i < total; i++) {
    const c = dgNext(st) % clusters;
    const ctr = c * dim;
    for (let d = 0; d < dim; d++) x[d] = centre[ctr + d] + dgGauss(st) * 0.2;
    for (let j = 0; j < RANK; j++) {
      const g = dgGauss(st);
      const b = (c * RANK + j) * dim;
      for (let d = 0; d < dim; d++) x[d] += g * basis[b + d];
    }
    let norm = 0.0;
    for (let d = 0; d < dim; d++) norm += x[d] * x[d];
    norm = Math.sqrt(norm);
    const o = i * dim;
    // A Float32Array store rounds to nearest even, as the C (float) cast.
    for (let d = 0; d < dim; d++) out[o + d] = x[d] / norm;
  }
  return { dim, n, nq, clusters, base: out.subarray(0, n * dim),
    queries: out.subarray(n * dim, total * dim) };
}

/**
 * pv_dataset_truth: the exact top-k base indexes of every query by
 * descending dot product, accumulated in double in dimension order (a
 * product of two floats is exact in double, so each sum rounds as in C).
 * Ties keep the lower index first, as C's insertion does. Returns a
 * Uint32Array of nq * k.
 *
 * Eight queries go through the base vectors together (each with its own
 * sum, in the same order as C): the base is read once per eight queries
 * rather than once per query, several times faster on a base larger than
 * the cache, and every sum, hence every answer, is unchanged.
 */
export function datasetTruth(ds, k) {
  const { dim, n, nq, base, queries } = ds;
  const gt = new Uint32Array(nq * k);
  const best = new Float64Array(nq * k);
  const have = new Int32Array(nq);
  for (let q0 = 0; q0 < nq; q0 += 8) {
    // Past the last query, repeat it: the extra sums are thrown away.
    const at = (j) => Math.min(q0 + j, nq - 1) * dim;
    const o0 = at(0), o1 = at(1), o2 = at(2), o3 = at(3);
    const o4 = at(4), o5 = at(5), o6 = at(6), o7 = at(7);
    const m = Math.min(8, nq - q0);
    for (let i = 0; i < n; i++) {
      const v = i * dim;
      let s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, s5 = 0.0, s6 = 0.0, s7 = 0.0;
      for (let d = 0; d < dim; d++) {
        const b = base[v + d];
        s0 += queries[o0 + d] * b;
        s1 += queries[o1 + d] * b;
        s2 += queries[o2 + d] * b;
        s3 += queries[o3 + d] * b;
        s4 += queries[o4 + d] * b;
        s5 += queries[o5 + d] * b;
        s6 += queries[o6 + d] * b;
        s7 += queries[o7 + d] * b;
      }
      offer(gt, best, have, k, q0, s0, i);
      if (m > 1) offer(gt, best, have, k, q0 + 1, s1, i);
      if (m > 2) offer(gt, best, have, k, q0 + 2, s2, i);
      if (m > 3) offer(gt, best, have, k, q0 + 3, s3, i);
      if (m > 4) offer(gt, best, have, k, q0 + 4, s4, i);
      if (m > 5) offer(gt, best, have, k, q0 + 5, s5, i);
      if (m > 6) offer(gt, best, have, k, q0 + 6, s6, i);
      if (m > 7) offer(gt, best, have, k, q0 + 7, s7, i);
    }
  }
  return gt;
}

// Base vector i with dot product s, for query q's top k: pv_dataset_truth's
// insertion step (a strictly greater sum moves ahead; an equal one stays
// behind, so ties keep the lower index first).
function offer(gt, best, have, k, q, s, i) {
  const g = q * k;
  if (have[q] === k && (k === 0 || s <= best[g + k - 1])) return;
  let p = have[q] < k ? have[q]++ : k - 1;
  while (p > 0 && best[g + p - 1] < s) {
    best[g + p] = best[g + p - 1];
    gt[g + p] = gt[g + p - 1];
    p--;
  }
  best[g + p] = s;
  gt[g + p] = i;
}

/**
 * bench_native.c's fingerprint(): 64-bit FNV-1a over the bits of every
 * float, base then queries. Computed in two 32-bit halves (BigInt would be
 * far too slow for 77 million floats); returned as a BigInt.
 */
export function fingerprint(ds) {
  // h = (h ^ bits) * (2^40 + 0x1b3) mod 2^64, with h = hi * 2^32 + lo.
  let lo = 0x84222325, hi = 0xcbf29ce4;
  for (const part of [ds.base, ds.queries]) {
    const bits = new Uint32Array(part.buffer, part.byteOffset, part.length);
    for (let i = 0; i < bits.length; i++) {
      const l = (lo ^ bits[i]) >>> 0;
      const p = l * 0x1b3; // < 2^41: exact in a double
      const carry = Math.floor(p / 4294967296);
      lo = p >>> 0;
      hi = (carry + Math.imul(hi, 0x1b3) + (l << 8)) >>> 0;
    }
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

// The cache file: a header of eight uint64 (magic "PVTRUTH1", format 1, n,
// dim, nq, k, seed, fingerprint) then nq * k uint32, in the machine's byte
// order (typed arrays use it too), exactly as bench_native.c writes it.
const TRUTH_MAGIC = 0x3148545552545650n;
const TRUTH_FORMAT = 1n;

function truthHeader(ds, k, seed) {
  return new BigUint64Array([TRUTH_MAGIC, TRUTH_FORMAT, BigInt(ds.n), BigInt(ds.dim),
    BigInt(ds.nq), BigInt(k), BigInt(seed), fingerprint(ds)]);
}

/**
 * The truth from `path` if its header matches this dataset exactly and every
 * index is below n (bench_native.c's checks), else null. `why` gets a reason
 * when a file exists but is not usable.
 */
export function readTruthCache(path, ds, k, seed, why = {}) {
  let fd;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null; // no cache yet
  }
  try {
    const want = truthHeader(ds, k, seed);
    const count = ds.nq * k;
    const size = fstatSync(fd).size;
    if (size !== want.byteLength + 4 * count) {
      why.reason = `size ${size}, want ${want.byteLength + 4 * count}`;
      return null;
    }
    const buf = new Uint8Array(size);
    if (readSync(fd, buf, 0, size, 0) !== size) {
      why.reason = 'short read';
      return null;
    }
    const have = new BigUint64Array(buf.buffer, 0, 8);
    for (let i = 0; i < 8; i++)
      if (have[i] !== want[i]) {
        why.reason = `header field ${i} is ${have[i]}, want ${want[i]}`;
        return null;
      }
    const gt = new Uint32Array(buf.buffer, want.byteLength, count);
    for (let i = 0; i < count; i++)
      if (gt[i] >= ds.n) {
        why.reason = `entry ${i} is ${gt[i]}, past n ${ds.n}`;
        return null;
      }
    return gt;
  } finally {
    closeSync(fd);
  }
}

/**
 * Write the truth to `path` in the cache format, through a temporary file
 * and a rename so an interrupted run never leaves a truncated cache.
 * Throws on failure (the caller decides whether that matters).
 */
export function writeTruthCache(path, ds, k, seed, gt) {
  const header = truthHeader(ds, k, seed);
  const tmp = `${path}.tmp`;
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(header.buffer),
      Buffer.from(gt.buffer, gt.byteOffset, gt.byteLength)]));
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
