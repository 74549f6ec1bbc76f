// SPDX-License-Identifier: MIT
// The module: loading and instantiating pocketvec.wasm (src/ and
// wasm/exports.c of the repository), and what every call into it needs:
// views of its memory, buffers, strings, errors.
// Pointers and sizes from WASM are signed i32: read them with >>> 0.
// Memory growth detaches the old buffer, so views are read through heap(),
// which renews them. `w` and the views are live bindings: modules that
// import them see them change.
import { ErrorCode, PocketVecError } from './errors.js';
import { isNode, nodeFs } from './storage/file.js';

/** The module's exports; null until init() has instantiated it. */
export let w = null;
/** Views of the module's memory; call heap() before reading them. */
export let u8, u32, f32;
let started = null; // the first start() that has not failed

/**
 * Instantiates the module from source once: what init() does (see
 * index.d.ts). A string source is resolved against base. Later calls
 * return the first call's promise; a failed start may be retried.
 */
export function start(source, base) {
  started ??= load(source, base).catch((e) => {
    started = null;
    throw e;
  });
  return started;
}

async function load(src, base) {
  if (typeof src === 'string') src = new URL(src, base);
  if (src instanceof URL) {
    if (src.protocol === 'file:' && isNode()) {
      src = await (await nodeFs()).readFile(src);
    } else {
      src = await fetch(src);
      if (!src.ok) throw new Error(`pocketvec: fetching ${src.url} gave HTTP ${src.status}`);
    }
  }
  let inst;
  if (typeof Response === 'function' && src instanceof Response) {
    try {
      inst = (await WebAssembly.instantiateStreaming(src.clone(), imports)).instance;
    } catch {
      src = await src.arrayBuffer(); // e.g. served without application/wasm
    }
  }
  if (!inst) {
    inst = await WebAssembly.instantiate(src, imports);
    inst = inst.instance ?? inst;
  }
  w = inst.exports;
  w._initialize(); // the reactor's constructors, once
  u8 = new Uint8Array(0);
  return { version: cstr(w.pv_version()), kernels: cstr(w.pv_kernels_name()), memory: w.memory };
}

/** Renews the views if the memory has grown since they were made. Growth
 * detaches the old buffer, and a view of a detached buffer has length 0:
 * testing that is cheaper than the memory.buffer getter, and a search
 * calls heap() for every hit. The memory is never 0 bytes long. */
export function heap() {
  if (!u8.length) {
    const b = w.memory.buffer;
    u8 = new Uint8Array(b);
    u32 = new Uint32Array(b);
    f32 = new Float32Array(b);
  }
}

// C's strings are UTF-8, and its messages will quote keys and filter text
// that users wrote: read byte by byte (as Latin-1), "é" would show as "Ã©".
const utf8 = new TextDecoder('utf-8'), toUtf8 = new TextEncoder();

/** The NUL-terminated UTF-8 string at p; bytes that are not UTF-8 become U+FFFD. */
export function cstr(p) {
  heap();
  let e = p >>>= 0;
  while (u8[e]) e++;
  return utf8.decode(u8.subarray(p, e));
}

/**
 * The module's one import, env.decimal (src/attr/num.c, PV_HOST_DECIMAL):
 * the double nearest to the n bytes of number text at p, which C has
 * checked is a JSON number. Number() rounds correctly, half to even, as
 * the C code it stands in for: the same doubles, with 1.2 KB less WASM.
 */
function decimal(p, n) {
  heap();
  return Number(utf8.decode(u8.subarray(p >>>= 0, p + n))); // n: at most a filter's 64 KiB
}
const imports = { env: { decimal } };

/** A buffer of `bytes` from malloc (the caller frees it with w.free); NOMEM if there is no room. */
export function alloc(bytes) {
  const p = bytes < 2 ** 32 ? w.malloc(bytes) >>> 0 : 0;
  if (!p) throw new PocketVecError(ErrorCode.NOMEM, `out of memory allocating ${bytes} bytes`);
  heap();
  return p;
}

/** The error of the last call on index p (0: of the last pvw_new_from or pvw_load). */
export const cError = (p) => new PocketVecError(w.pv_errcode(p), cstr(w.pv_errmsg(p)));

/**
 * fn's result, called with each string as UTF-8 in WASM memory: a
 * (pointer, length) pair of arguments per string, in order, as C's calls
 * that take strings want them. The memory is freed when fn returns.
 */
export function withUtf8(strings, fn) {
  const bytes = strings.map((s) => toUtf8.encode(s)), args = [];
  const b = alloc(bytes.reduce((n, s) => n + s.length, 0) || 1);
  try {
    for (let i = 0, p = b; i < bytes.length; p += bytes[i++].length) {
      u8.set(bytes[i], p);
      args.push(p, bytes[i].length);
    }
    return fn(...args);
  } finally {
    w.free(b);
  }
}
