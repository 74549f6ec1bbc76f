// pocketvec: hand-written glue over pocketvec.wasm (src/ + wasm/exports.c).
// API docs are in index.d.ts; keep the two in step. Vectors are copied into
// WASM memory with one TypedArray.set; memory growth detaches the old
// buffer, so views are read through heap(), which renews them.
// Pointers and sizes from WASM are signed i32: read them with >>> 0.

const METRICS = ['cosine', 'l2', 'dot'];
const QUANT = ['f32', 'sq8'];
const OPTS = ['dim', 'metric', 'quantization', 'm', 'efConstruction', 'efSearch', 'seed',
  'capacity', 'compactThreshold'];

export const ErrorCode = Object.freeze({
  OK: 0, ERROR: 1, NOMEM: 2, INVALID: 3, DIM: 4, NOTFOUND: 5, CORRUPT: 6, VERSION: 7, FULL: 8,
});
const { INVALID, DIM, NOMEM } = ErrorCode;

export class PocketVecError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'PocketVecError';
    this.code = code;
  }
}

let w = null; // the module's exports
let started = null; // the first init() that has not failed
let u8, u32, f32;

function heap() {
  if (u8.buffer !== w.memory.buffer) {
    const b = w.memory.buffer;
    u8 = new Uint8Array(b);
    u32 = new Uint32Array(b);
    f32 = new Float32Array(b);
  }
}

function cstr(p) {
  heap();
  let e = p >>>= 0;
  while (u8[e]) e++;
  return String.fromCharCode(...u8.subarray(p, e));
}

const bad = (what, v) => new PocketVecError(INVALID, `${what}, got ${String(v)}`);

function uint(v, name) {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw bad(`${name} must be an integer from 0 to 4294967295`, v);
  return v;
}

function lenOf(v) {
  if (typeof v !== 'object' || !Number.isInteger(v?.length))
    throw bad('a vector must be a Float32Array or an array of numbers', v);
  return v.length;
}

function alloc(bytes) {
  const p = bytes < 2 ** 32 ? w.malloc(bytes) >>> 0 : 0;
  if (!p) throw new PocketVecError(NOMEM, `out of memory allocating ${bytes} bytes`);
  heap();
  return p;
}

export function init(source) {
  started ??= load(source).catch((e) => {
    started = null;
    throw e;
  });
  return started;
}

async function load(src) {
  src ??= new URL('pocketvec.wasm', import.meta.url);
  if (typeof src === 'string') src = new URL(src, import.meta.url);
  if (src instanceof URL) {
    if (src.protocol === 'file:' && globalThis.process?.versions?.node) {
      src = await (await import('node:fs/promises')).readFile(src);
    } else {
      src = await fetch(src);
      if (!src.ok) throw new Error(`pocketvec: fetching ${src.url} gave HTTP ${src.status}`);
    }
  }
  let inst;
  if (typeof Response === 'function' && src instanceof Response) {
    try {
      inst = (await WebAssembly.instantiateStreaming(src.clone(), {})).instance;
    } catch {
      src = await src.arrayBuffer(); // e.g. served without application/wasm
    }
  }
  if (!inst) {
    inst = await WebAssembly.instantiate(src, {});
    inst = inst.instance ?? inst;
  }
  w = inst.exports;
  w._initialize(); // the reactor's constructors, once
  u8 = new Uint8Array(0);
  return { version: cstr(w.pv_version()), kernels: cstr(w.pv_kernels_name()), memory: w.memory };
}

// Frees what an Index that was garbage-collected without free() held.
const reclaim = new FinalizationRegistry((h) => {
  w.pv_free(h.p);
  w.free(h.b);
});

export class Index {
  #h; // { p: pv_index *, b: scratch buffer, n: its bytes }, shared with reclaim
  #dim;
  #metric;
  #quant;

  constructor(options) {
    if (!w) throw new PocketVecError(INVALID, 'call await init() before creating an Index');
    const o = options ?? {};
    for (const k in o)
      if (!OPTS.includes(k)) throw new PocketVecError(INVALID, `unknown option "${k}"; the options are ${OPTS.join(', ')}`);
    const { dim, metric = 'cosine', quantization = 'f32', seed, compactThreshold: t } = o;
    const mi = METRICS.indexOf(metric), qi = QUANT.indexOf(quantization);
    if (mi < 0) throw bad("metric must be 'cosine', 'l2' or 'dot'", metric);
    if (qi < 0) throw bad("quantization must be 'f32' or 'sq8'", quantization);
    // Each option given sets a bit; the others keep the C defaults.
    let given = 3, lo = 0, hi = 0;
    const opt = (name, bit) => (o[name] === undefined ? 0 : ((given |= bit), uint(o[name], name)));
    if (seed !== undefined) {
      if (!(typeof seed === 'bigint' || Number.isSafeInteger(seed)) || seed < 0 || seed >= 2n ** 64n)
        throw bad('seed must be an integer from 0 to 2^64 - 1', seed);
      const s = BigInt(seed);
      given |= 32;
      lo = Number(s & 0xffffffffn);
      hi = Number(s >> 32n);
    }
    if (t !== undefined) {
      if (typeof t !== 'number') throw bad('compactThreshold must be a number', t);
      given |= 128;
    }
    const args = [uint(dim, 'dim'), mi, qi, opt('m', 4), opt('efConstruction', 8),
      opt('efSearch', 16), lo, hi, opt('capacity', 64), t ?? 0];
    const p = w.pvw_new(given, ...args) >>> 0;
    if (!p) throw new PocketVecError(w.pv_errcode(0), cstr(w.pv_errmsg(0)));
    this.#h = { p, b: 0, n: 0 };
    this.#dim = dim;
    this.#metric = metric;
    this.#quant = quantization;
    reclaim.register(this, this.#h, this.#h);
  }

  #p() {
    if (!this.#h.p) throw new PocketVecError(INVALID, 'this index has been freed');
    return this.#h.p;
  }

  #fail() {
    const p = this.#h.p;
    return new PocketVecError(w.pv_errcode(p), cstr(w.pv_errmsg(p)));
  }

  // The index's scratch buffer, at least `bytes` long, reused between calls.
  #scratch(bytes) {
    const h = this.#h;
    if (bytes > h.n) {
      const n = Math.max(bytes, h.n * 2, 256), b = alloc(n);
      w.free(h.b);
      h.b = b;
      h.n = n;
    }
    heap();
    return h.b;
  }

  add(vector) {
    const p = this.#p(), n = lenOf(vector), b = this.#scratch(8 + 4 * n);
    f32.set(vector, (b >>> 2) + 2);
    if (w.pvw_add(p, b + 8, n, b)) throw this.#fail();
    heap();
    return u32[b >>> 2];
  }

  addBatch(vectors) {
    const p = this.#p(), d = this.#dim, flat = ArrayBuffer.isView(vectors);
    if (!flat && !Array.isArray(vectors))
      throw bad('addBatch takes an array of vectors or one flat Float32Array', vectors);
    const n = flat ? vectors.length / d : vectors.length;
    if (!Number.isInteger(n))
      throw new PocketVecError(DIM, `the batch has ${vectors.length} values, not a multiple of dim ${d}`);
    for (let i = 0; !flat && i < n; i++) {
      const l = lenOf(vectors[i]);
      if (l !== d) throw new PocketVecError(DIM, `vector ${i} has ${l} values, index expects ${d}`);
    }
    const b = alloc(4 * n * (d + 1)), ids = b + 4 * n * d; // vectors, then ids
    try {
      if (flat) f32.set(vectors, b >>> 2);
      else for (let i = 0; i < n; i++) f32.set(vectors[i], (b >>> 2) + i * d);
      if (w.pvw_add_batch(p, b, d, n, ids)) throw this.#fail();
      heap();
      return u32.slice(ids >>> 2, (ids >>> 2) + n);
    } finally {
      w.free(b);
    }
  }

  #search(query, k, ef, exact) {
    const p = this.#p(), n = lenOf(query);
    uint(k, 'k');
    uint(ef, 'ef');
    // Room for min(k, live) hits: a search never returns more.
    const room = Math.min(k, w.pv_count(p) >>> 0);
    const b = this.#scratch(8 + 4 * n + 8 * room), q = b + 8, out = q + 4 * n;
    f32.set(query, q >>> 2);
    if (w.pvw_search(p, q, n, k, ef, exact, out, b)) throw this.#fail();
    heap();
    const hits = [];
    for (let i = 0, c = u32[b >>> 2], o = out >>> 2; i < c; i++, o += 2)
      hits.push({ id: u32[o], distance: f32[o + 1] });
    return hits;
  }

  search(query, k, options) {
    return this.#search(query, k, options?.ef ?? 0, 0);
  }

  searchExact(query, k) {
    return this.#search(query, k, 0, 1);
  }

  delete(id) {
    if (w.pv_delete(this.#p(), uint(id, 'id'))) throw this.#fail();
  }

  has(id) {
    const p = this.#p();
    return Number.isInteger(id) && id >= 0 && id <= 0xffffffff && w.pv_contains(p, id) !== 0;
  }

  get(id) {
    const p = this.#p(), d = this.#dim, b = this.#scratch(4 * d);
    if (w.pvw_get(p, uint(id, 'id'), b, d)) throw this.#fail();
    heap();
    return f32.slice(b >>> 2, (b >>> 2) + d);
  }

  compact() {
    if (w.pv_compact(this.#p())) throw this.#fail();
  }

  check() {
    if (w.pv_check(this.#p())) throw this.#fail();
  }

  get size() { return w.pv_count(this.#p()) >>> 0; }
  get deletedCount() { return w.pv_deleted_count(this.#p()) >>> 0; }
  get memoryUsage() { return w.pv_memory_usage(this.#p()) >>> 0; }
  get dim() { return this.#dim; }
  get metric() { return this.#metric; }
  get quantization() { return this.#quant; }

  free() {
    const h = this.#h;
    if (!h.p) return;
    reclaim.unregister(h);
    w.pv_free(h.p);
    w.free(h.b);
    h.p = h.b = h.n = 0;
  }
}

if (typeof Symbol.dispose === 'symbol') Index.prototype[Symbol.dispose] = Index.prototype.free;
