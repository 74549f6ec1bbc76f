// SPDX-License-Identifier: MIT
// What dist/pocketvec.wasm is made of: it imports one function, the host's
// decimal-to-double, and nothing of WASI (so it runs in any browser, with
// no WASI shim), exports the API and its memory, and its
// distance kernels really are SIMD. The shipped file has no names, so the
// function indexes come from build-wasm/pocketvec.names.wasm, the same link
// with the name section kept; the test first checks that both have the
// same code section, byte for byte. Last, the contract of the options
// export, called directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { distWasm, namesWasm, need } from './helpers/paths.mjs';
import { parseModule, decodeBody, funcIndex } from './helpers/wasm-reader.mjs';

const dist = readFileSync(need(distWasm));
const named = readFileSync(need(namesWasm));
const D = parseModule(dist), N = parseModule(named);
const section = (mod, bytes, name) => {
  const s = mod.sections.find((x) => x.name === name);
  assert.ok(s, `no ${name} section`);
  return bytes.subarray(s.start, s.end);
};

// simd128 opcodes (after the 0xFD prefix) the kernels must use.
const V128_LOAD = 0x00, V128_AND = 0x4e, I16X8_SHR_U = 0x8d, I32X4_ADD = 0xae,
  I32X4_DOT_I16X8_S = 0xba, F32X4_ADD = 0xe4, F32X4_SUB = 0xe5, F32X4_MUL = 0xe6;
// With the least number of SIMD instructions each must have: the f32 loop
// body alone is 16 accumulators x (2 loads, mul, add); the u8 one is
// 2 loads, 2 ands, 2 shifts, 2 dots and 2 adds.
const KERNELS = {
  dot_f32_simd128: [64, V128_LOAD, F32X4_MUL, F32X4_ADD],
  l2_f32_simd128: [64, V128_LOAD, F32X4_SUB, F32X4_MUL, F32X4_ADD],
  dot_u8_simd128: [10, V128_LOAD, V128_AND, I16X8_SHR_U, I32X4_DOT_I16X8_S, I32X4_ADD],
};

test('imports one function only: env.decimal', () => {
  assert.deepEqual(D.imports, [{ module: 'env', field: 'decimal', kind: 'func' }]);
  assert.equal(D.importedFuncs, 1);
});

// What js/src/wasm.js passes: Number() of the UTF-8 text.
const decimalOf = (x, seen) => (p, n) => {
  const text = new TextDecoder().decode(new Uint8Array(x().memory.buffer, p >>> 0, n >>> 0));
  seen?.push(text);
  return Number(text);
};

// wasm/wasm.mk runs wasm-opt with --low-memory-unused, which folds
// pointer + constant (< 1024) into the offset of loads and stores: right
// only if nothing lives below address 1024, where such a sum would wrap.
// The data starts there (--global-base=1024); the stack (64 KiB, growing
// down from the first global, __stack_pointer) and the heap lie above it.
test('nothing lives below address 1024 (wasm-opt --low-memory-unused)', () => {
  assert.ok(D.data.length > 0);
  for (const d of D.data) assert.ok(d.offset !== null && d.offset >= 1024, `data at ${d.offset}`);
  const sp = D.globals[0];
  assert.ok(sp.mutable && sp.type === 0x7f, 'global 0 is the stack pointer, a mutable i32');
  assert.ok(sp.init - 65536 >= 1024, `the stack's bottom is ${sp.init - 65536}`);
  assert.ok(D.data.every((d) => d.offset + d.size <= sp.init - 65536) ||
    D.data.every((d) => d.offset >= sp.init), 'the data and the stack overlap');
});

test('is stripped: no custom sections (names, debug info, producers)', () => {
  assert.deepEqual(D.sections.filter((s) => s.id === 0).map((s) => s.name), []);
});

test('exports exactly the API the JS glue uses, and its memory', () => {
  const names = D.exports.map((e) => e.name).sort();
  assert.deepEqual(names, ['_initialize', 'free', 'malloc', 'memory', 'pv_batch_commit', 'pv_batch_free', 'pv_check', 'pv_compact',
    'pv_contains', 'pv_count', 'pv_delete', 'pv_delete_key', 'pv_deleted_count', 'pv_errcode',
    'pv_errmsg', 'pv_fields', 'pv_filter_compile', 'pv_filter_free', 'pv_find', 'pv_free',
    'pv_get_attributes_encoded', 'pv_get_key', 'pv_kernels_name', 'pv_log_start', 'pv_lookup', 'pv_memory_usage',
    'pv_set_attributes', 'pv_version', 'pvw_add', 'pvw_add_batch', 'pvw_batch_add', 'pvw_batch_new', 'pvw_dim', 'pvw_export_begin',
    'pvw_export_end', 'pvw_export_read', 'pvw_export_size', 'pvw_export_tag', 'pvw_get', 'pvw_load',
    'pvw_log_appended', 'pvw_log_rebase', 'pvw_log_record', 'pvw_log_state', 'pvw_log_worth', 'pvw_metric',
    'pvw_new_from', 'pvw_option_set', 'pvw_options_new', 'pvw_query', 'pvw_reserve', 'pvw_search', 'pvw_storage']);
  assert.equal(D.exports.find((e) => e.name === 'memory').kind, 'memory');
  // One memory, growable to the wasm32 ceiling of 65536 pages (4 GiB).
  assert.equal(D.memories.length, 1);
  assert.equal(D.memories[0].max, 65536);
  assert.ok(D.memories[0].min < 64, `initial memory ${D.memories[0].min} pages`);
});

test('the names build has the same code as the shipped file', () => {
  assert.ok(N.names.size > 0, 'names build has no name section');
  assert.ok(Buffer.compare(section(D, dist, 'code'), section(N, named, 'code')) === 0,
    'code sections differ: the names build no longer describes dist/pocketvec.wasm');
  assert.ok(Buffer.compare(section(D, dist, 'export'), section(N, named, 'export')) === 0);
});

for (const [name, [least, ...ops]] of Object.entries(KERNELS)) {
  test(`${name} in dist/pocketvec.wasm is made of v128 instructions`, () => {
    const i = funcIndex(N, name);
    assert.ok(i >= 0, `no function ${name} in the names build`);
    const body = D.bodies[i - D.importedFuncs];
    const r = decodeBody(dist, body);
    assert.ok(r.simd > 0, `${name} has no v128 instruction`);
    assert.ok(r.simd >= least, `${name} has ${r.simd} v128 instructions, expected ${least}+`);
    for (const op of ops)
      assert.ok(r.simdOps.has(op), `${name} lacks SIMD opcode 0x${op.toString(16)}`);
  });
}

test('the check tells SIMD from scalar code (a scalar function has none)', () => {
  const i = funcIndex(N, 'pv__error'); // holds the message formatter, inlined
  assert.ok(i >= 0);
  const r = decodeBody(dist, D.bodies[i - D.importedFuncs]);
  assert.ok(r.instructions > 50);
  assert.equal(r.simd, 0);
});

test('every function body decodes, and the module is valid to the engine', async () => {
  let simd = 0;
  for (const body of D.bodies) simd += decodeBody(dist, body).simd;
  assert.ok(simd > 0);
  assert.ok(WebAssembly.validate(dist));
  let x;
  const { instance } = await WebAssembly.instantiate(dist, { env: { decimal: decimalOf(() => x) } });
  x = instance.exports;
  assert.equal(typeof instance.exports.pvw_search, 'function');
});

// Options cross by name (wasm/exports.c). JS checks every option before C
// sees it, so C's own rejections are met only with a .wasm of another
// version than the JS: here the exports are called directly.
test('pvw_option_set takes options by name, rejects what it cannot set and then changes nothing', async () => {
  let x;
  x = (await WebAssembly.instantiate(dist, { env: { decimal: decimalOf(() => x) } })).instance.exports;
  x._initialize();
  const mem = () => new Uint8Array(x.memory.buffer);
  // UTF-8 in WASM memory as (pointer, length); never freed: the instance is dropped.
  const str = (s) => {
    const b = new TextEncoder().encode(s), p = x.malloc(b.length || 1);
    mem().set(b, p);
    return [p, b.length];
  };
  const cstr = (p) => {
    const m = mem();
    let e = p;
    while (m[e]) e++;
    return new TextDecoder().decode(m.subarray(p, e));
  };
  const o = x.pvw_options_new();
  const set = (name, text, num = 0) => x.pvw_option_set(o, ...str(name), ...str(text), num, num);
  for (const [name, text, num] of [['dim', '', 3], ['metric', 'l2'], ['storage', 'sq8'], ['seed', '18446744073709551615']])
    assert.equal(set(name, text, num), 0, name);
  for (const [name, text] of [['efConstruction', ''], ['dim\0', ''], ['metric', 'euclid'], ['metric', 'l2\0'],
    ['storage', 'F32'], ['seed', ''], ['seed', '12a'], ['seed', '-1'], ['seed', '18446744073709551616']])
    assert.equal(set(name, text, 7), 3, `${name} = ${JSON.stringify(text)}: PV_INVALID`);
  const p = x.pvw_new_from(o); // frees o
  assert.ok(p, cstr(x.pv_errmsg(0)));
  assert.deepEqual([x.pvw_dim(p), cstr(x.pvw_metric(p)), cstr(x.pvw_storage(p))], [3, 'l2', 'sq8']);
  x.pv_free(p);
});

// The filter language's numbers are checked by C and converted by the host
// (src/attr/num.c, PV_HOST_DECIMAL): the import gets exactly the number's
// text, and what it returns is the literal a filter compares with, bit for
// bit. Documents with the extreme doubles as attributes (in the encoding of
// docs/FORMAT.md: {"x": number}) are each found by a filter that spells
// their value, and by no other.
test('env.decimal: C checks the number, the host converts it, and filters compare with its double', async () => {
  const seen = [];
  let x;
  x = (await WebAssembly.instantiate(dist, { env: { decimal: decimalOf(() => x, seen) } })).instance.exports;
  x._initialize();
  const mem = () => new Uint8Array(x.memory.buffer);
  const u32 = (p) => new Uint32Array(x.memory.buffer, p, 1)[0];
  const put = (b) => {
    const p = x.malloc(b.length || 1);
    mem().set(b, p);
    return p;
  };
  const cstr = (p) => {
    const m = mem();
    let e = p;
    while (m[e]) e++;
    return new TextDecoder().decode(m.subarray(p, e));
  };
  const utf8 = (s) => new TextEncoder().encode(s);
  const o = x.pvw_options_new();
  assert.equal(x.pvw_option_set(o, put(utf8('dim')), 3, 0, 0, 3, 0), 0);
  const idx = x.pvw_new_from(o);
  assert.ok(idx, cstr(x.pv_errmsg(0)));
  const texts = ['0.1', '-0.30000000000000004', '5e-324', '1.7976931348623157e308', '9007199254740993',
    '2.2250738585072011e-308', '123456789012345678901234567890e-10', '-0'];
  const values = texts.map(Number);
  const out = x.malloc(8);
  for (const v of values) {
    const enc = new Uint8Array(14);
    enc.set([6, 12, 1, 1, 0x78, 3]); // object, 12 bytes, 1 member, name "x", number
    new DataView(enc.buffer).setFloat64(6, v, true);
    assert.equal(x.pvw_add(idx, put(new Uint8Array(new Float32Array([1, 2, 3]).buffer)), 3, out), 0);
    const id = u32(out);
    assert.equal(x.pv_set_attributes(idx, id, put(enc), enc.length, 2), 0, cstr(x.pv_errmsg(idx)));
  }
  // The compiled filter, or the error message.
  const compile = (text) => {
    const b = utf8(text);
    const rc = x.pv_filter_compile(idx, put(b), b.length, out);
    return rc ? cstr(x.pv_errmsg(idx)) : u32(out);
  };
  for (const [i, t] of texts.entries()) {
    seen.length = 0;
    const f = compile(`x == ${t}`);
    assert.equal(typeof f, 'number', f);
    assert.deepEqual(seen, [t, t]); // parse.c reads the text twice: to count, then to build
    const found = x.malloc(4 * texts.length);
    assert.equal(x.pv_find(idx, f, found, texts.length, out), 0);
    const n = u32(out), ids = [...new Uint32Array(x.memory.buffer, found, n)];
    // -0 == 0 and nothing else here is equal: one match each.
    assert.deepEqual(ids, [i], `x == ${t}`);
    x.pv_filter_free(f);
  }
  seen.length = 0;
  assert.equal(compile('x == 1e400'), 'number out of range at 5: beyond 1.7976931348623157e308');
  assert.deepEqual(seen, ['1e400']);
  assert.equal(compile('x == -1e-400 or x == 07'), 'digit after a leading 0 at 22: write 7, not 07');
  assert.deepEqual(seen, ['1e400', '-1e-400'], 'the host sees only numbers C has checked');
  x.pv_free(idx);
});

// The JS never passes NULL where the C API checks for it, so the module
// carries one message for all those checks (PV_TERSE_NULL, wasm/wasm.mk);
// the status codes are the C API's.
test('NULL arguments: the C API\'s status codes, one shared message', async () => {
  let x;
  x = (await WebAssembly.instantiate(dist, { env: { decimal: decimalOf(() => x) } })).instance.exports;
  x._initialize();
  const msg = (p) => {
    const m = new Uint8Array(x.memory.buffer);
    let e = p;
    while (m[e]) e++;
    return new TextDecoder().decode(m.subarray(p, e));
  };
  assert.equal(x.pv_check(0), 11); // PV_MISUSE
  assert.equal(msg(x.pv_errmsg(0)), 'a required argument is NULL');
  assert.equal(x.pv_filter_compile(0, 0, 0, 0), 3); // PV_INVALID: out
  assert.equal(msg(x.pv_errmsg(0)), 'a required argument is NULL');
  assert.equal(x.pvw_load(0, 16), 0);
  assert.equal(x.pv_errcode(0), 3);
  assert.equal(msg(x.pv_errmsg(0)), 'a required argument is NULL');
});
