// SPDX-License-Identifier: MIT
// The simd128 kernels against the scalar reference, inside one WASM build
// (build-wasm/kernels_test.wasm: the library objects of dist/pocketvec.wasm
// plus wasm/test/kernels_test.c). f32 results must be bit-identical (the
// canonical 64-lane order); the u8 dot product must be exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { kernelsWasm, need } from './helpers/paths.mjs';
import { rng, gauss } from './helpers/data.mjs';

const DIMS = [1, 3, 17, 100, 383, 384, 768, 4096];
const MAX = 65536;

const { instance } = await WebAssembly.instantiate(readFileSync(need(kernelsWasm)), {});
const k = instance.exports;
k._initialize();
const mem = () => k.memory.buffer;
const cstr = (p) => {
  const u8 = new Uint8Array(mem());
  let e = p;
  while (u8[e]) e++;
  return String.fromCharCode(...u8.subarray(p, e));
};
// Two buffers with room for MAX floats and 16 bytes of slack for offsets.
const A = k.malloc(4 * MAX + 16) >>> 0, B = k.malloc(4 * MAX + 16) >>> 0;
assert.ok(A && B);

const bits = (x) => new Uint32Array(new Float32Array([x]).buffer)[0].toString(16).padStart(8, '0');

// Ways to fill a vector, each a function of the PRNG: ordinary values,
// wide magnitudes (so the order of additions matters), cancellation,
// subnormals, and exact small integers.
const FILLS = {
  gauss: (r) => gauss(r),
  wide: (r) => gauss(r) * 10 ** Math.floor(r() * 12 - 6),
  cancel: (r) => (r() < 0.5 ? 1e6 : -1e6) + gauss(r),
  subnormal: (r) => gauss(r) * 1e-41,
  ints: (r) => Math.floor(r() * 7) - 3,
};

test('the kernel set is simd128, the reference scalar', () => {
  assert.equal(cstr(k.pvt_name(0)), 'scalar');
  assert.equal(cstr(k.pvt_name(1)), 'simd128');
  assert.equal(cstr(k.pv_kernels_name()), 'simd128');
});

for (const kernel of ['dot_f32', 'l2_f32']) {
  test(`${kernel}: simd128 == scalar, bit for bit, dims ${DIMS.join(' ')} and block edges`, () => {
    const fn = k[`pvt_${kernel}`];
    const r = rng(kernel === 'dot_f32' ? 11 : 12);
    let checked = 0;
    const dims = [...DIMS, 4, 31, 32, 33, 63, 64, 65, 97, 127, 128];
    for (const dim of dims)
      for (const [name, fill] of Object.entries(FILLS))
        for (let off = 0; off < 4; off++) {
          // Unaligned starts (off floats, and a different one for b).
          const a = A + 4 * off, b = B + 4 * ((off + 1) % 4);
          const fa = new Float32Array(mem(), a, dim), fb = new Float32Array(mem(), b, dim);
          for (let i = 0; i < dim; i++) {
            fa[i] = fill(r);
            fb[i] = fill(r);
          }
          const ref = fn(0, a, b, dim), got = fn(1, a, b, dim);
          assert.ok(Number.isFinite(ref), `${name} dim ${dim}: reference is ${ref}`);
          assert.equal(bits(got), bits(ref), `${kernel} ${name} dim ${dim} offset ${off}: ` +
            `simd128 ${got} != scalar ${ref}`);
          checked++;
        }
    assert.equal(checked, dims.length * Object.keys(FILLS).length * 4);
  });
}

test(`dot_u8: simd128 == scalar == exact sum, dims ${DIMS.join(' ')} and ${MAX}`, () => {
  const r = rng(13);
  for (const dim of [...DIMS, 15, 16, 31, 32, 33, MAX])
    for (const mode of ['random', 'max', 'zero'])
      for (let off = 0; off < 3; off++) {
        const a = A + off, b = B + 2 * off;
        const ua = new Uint8Array(mem(), a, dim), ub = new Uint8Array(mem(), b, dim);
        let exact = 0;
        for (let i = 0; i < dim; i++) {
          ua[i] = mode === 'max' ? 255 : mode === 'zero' ? 0 : Math.floor(r() * 256);
          ub[i] = mode === 'max' ? 255 : mode === 'zero' ? 0 : Math.floor(r() * 256);
          exact += ua[i] * ub[i];
        }
        const ref = k.pvt_dot_u8(0, a, b, dim) >>> 0, got = k.pvt_dot_u8(1, a, b, dim) >>> 0;
        assert.equal(ref, exact, `scalar dim ${dim} ${mode}`);
        assert.equal(got, exact, `simd128 dim ${dim} ${mode} offset ${off}`);
      }
});

test(`dot_u8_4: each of the four == dot_u8 == exact sum, simd128 and scalar, dims ${DIMS.join(' ')} and ${MAX}`, () => {
  const r = rng(14), io = k.malloc(32) >>> 0;
  assert.ok(io);
  for (const dim of [...DIMS, 15, 16, 31, 32, 33, MAX])
    for (const mode of ['random', 'max'])
      for (let t = 0; t < 2; t++) {
        // Four vectors in B, each at its own alignment; in the second
        // trial the last one is the first again.
        const offs = [t, MAX + 1, 2 * MAX + 3, t ? t : 3 * MAX + 5];
        const a = A + t, ua = new Uint8Array(mem(), a, dim), ub = new Uint8Array(mem(), B, 4 * MAX + 16);
        for (let i = 0; i < dim; i++) ua[i] = mode === 'max' ? 255 : Math.floor(r() * 256);
        for (let i = 0; i < ub.length; i++) ub[i] = mode === 'max' ? 255 : Math.floor(r() * 256);
        new Uint32Array(mem(), io, 4).set(offs);
        for (const set of [0, 1]) {
          k.pvt_dot_u8_4(set, a, B, io, dim, io + 16);
          const out = [...new Uint32Array(mem(), io + 16, 4)];
          offs.forEach((o, j) => {
            let exact = 0;
            for (let i = 0; i < dim; i++) exact += ua[i] * ub[o + i];
            assert.equal(out[j], exact, `set ${set} dim ${dim} ${mode} trial ${t} vector ${j}`);
            assert.equal(out[j], k.pvt_dot_u8(set, a, B + o, dim) >>> 0);
          });
        }
      }
  k.free(io);
});

test(`bits_dot4: simd128 == scalar == the sum bit by bit, dims ${DIMS.join(' ')} and ${MAX}`, () => {
  const r = rng(15);
  for (const dim of [...DIMS, 64, 65, 128, 129, 130 * 64, MAX])
    for (const mode of ['random', 'full'])
      for (let off = 0; off < 2; off++) {
        // A code of ceil(dim / 64) words in B and four planes per word in
        // A (interleaved a word at a time), the padding bits zero; off
        // moves both one word off their alignment.
        const words = Math.ceil(dim / 64), q = A + 8 * off, b = B + 8 * off;
        const uq = new Uint8Array(mem(), q, 32 * words), ub = new Uint8Array(mem(), b, 8 * words);
        for (let i = 0; i < uq.length; i++) uq[i] = mode === 'full' ? 255 : Math.floor(r() * 256);
        for (let i = 0; i < ub.length; i++) ub[i] = mode === 'full' ? 255 : Math.floor(r() * 256);
        for (let d = dim; d < 64 * words; d++) {
          const w = d >> 6, bit = d & 63;
          ub[8 * w + (bit >> 3)] &= ~(1 << (bit & 7));
          for (let j = 0; j < 4; j++) uq[32 * w + 8 * j + (bit >> 3)] &= ~(1 << (bit & 7));
        }
        let exact = 0;
        for (let d = 0; d < dim; d++) {
          const w = d >> 6, bit = d & 63;
          if (!((ub[8 * w + (bit >> 3)] >> (bit & 7)) & 1)) continue;
          for (let j = 0; j < 4; j++) exact += ((uq[32 * w + 8 * j + (bit >> 3)] >> (bit & 7)) & 1) << j;
        }
        if (mode === 'full') assert.equal(exact, 15 * dim);
        for (const set of [0, 1])
          assert.equal(k.pvt_bits_dot4(set, q, b, words) >>> 0, exact, `set ${set} dim ${dim} ${mode} offset ${off}`);
      }
});

test('f32 kernels: zero length gives +0 in both sets', () => {
  for (const kernel of ['dot_f32', 'l2_f32']) {
    assert.ok(Object.is(k[`pvt_${kernel}`](1, A, B, 0), 0));
    assert.ok(Object.is(k[`pvt_${kernel}`](0, A, B, 0), 0));
  }
  assert.equal(k.pvt_dot_u8(1, A, B, 0), 0);
});

test('checksum lane step: simd128 equals the scalar reference at every alignment', () => {
  const r = rng(17);
  const lanes = k.malloc(64 + 64) >>> 0, buf = k.malloc(64 * 40 + 64) >>> 0;
  assert.ok(lanes && buf);
  const data = new Uint8Array(mem(), buf, 64 * 40 + 64);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
  for (const stripes of [0, 1, 2, 3, 7, 40])
    for (const off of [0, 1, 3, 17, 63]) {
      const start = Array.from({ length: 16 }, () => Math.floor(r() * 2 ** 32));
      const out = [];
      for (const set of [0, 1]) {
        new Uint32Array(mem(), lanes, 16).set(start);
        k.pvt_sum_lanes(set, lanes, buf + off, stripes);
        out.push([...new Uint32Array(mem(), lanes, 16)]);
      }
      assert.deepEqual(out[1], out[0], `${stripes} stripes at offset ${off}`);
      if (stripes) assert.notDeepEqual(out[0], start);
    }
  k.free(lanes);
  k.free(buf);
});
