// pocketvec: hand-written glue over pocketvec.wasm (src/ + wasm/exports.c).
// API docs are in index.d.ts; keep the two in step. Vectors are copied into
// WASM memory with one TypedArray.set; memory growth detaches the old
// buffer, so views are read through heap(), which renews them.
// Pointers and sizes from WASM are signed i32: read them with >>> 0.

// The C library's status codes by name. The numbers are the library's
// public ABI, so JS may copy them. IO is reserved by C for hosts: here, the
// storage backends.
export const ErrorCode = Object.freeze({
  OK: 0, ERROR: 1, NOMEM: 2, INVALID: 3, DIM: 4, NOTFOUND: 5, CORRUPT: 6, VERSION: 7, FULL: 8,
  IO: 9, ABORT: 10, MISUSE: 11, RANGE: 12,
});
const { INVALID, DIM, NOMEM } = ErrorCode;

export class PocketVecError extends Error {
  constructor(code, message, options) {
    super(message, options);
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

/** The error of the last call on index p (0: of the last pvw_new_from or pvw_load). */
const cError = (p) => new PocketVecError(w.pv_errcode(p), cstr(w.pv_errmsg(p)));

const toUtf8 = new TextEncoder();

/**
 * fn's result, called with each string as UTF-8 in WASM memory: a
 * (pointer, length) pair of arguments per string, in order, as C's calls
 * that take strings want them. The memory is freed when fn returns.
 */
function withUtf8(strings, fn) {
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

// Node's fs, loaded only where it exists; the comments keep bundlers from
// trying to resolve it for the browser.
const nodeFs = () => import(/* @vite-ignore */ /* webpackIgnore: true */ 'node:fs/promises');
const isNode = () => !!globalThis.process?.versions?.node;
const CHUNK = 1 << 22; // 4 MiB: chunks of exports, files and IndexedDB records

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
      src = await (await nodeFs()).readFile(src);
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

/**
 * Each option by its JS name, in the order of index.d.ts: the name C gives
 * it (pv_options), and the check that turns the user's value into what C
 * takes, a number or text. metric and quantization go by the name of their
 * value ('l2', 'sq8'), which C maps to its enum; the 64-bit seed goes as
 * decimal digits, since a double cannot hold every such seed.
 */
const OPTIONS = {
  dim: ['dim', uint],
  metric: ['metric', oneOf("metric must be 'cosine', 'l2' or 'dot'", 'cosine', 'l2', 'dot')],
  quantization: ['storage', oneOf("quantization must be 'f32' or 'sq8'", 'f32', 'sq8')],
  m: ['m', uint],
  efConstruction: ['ef_construction', uint],
  efSearch: ['ef_search', uint],
  seed: ['seed', (v) => {
    if (!(typeof v === 'bigint' || Number.isSafeInteger(v)) || v < 0 || v >= 2n ** 64n)
      throw bad('seed must be an integer from 0 to 2^64 - 1', v);
    return String(v);
  }],
  capacity: ['capacity', uint],
  compactThreshold: ['compact_threshold', (v) => {
    if (typeof v !== 'number') throw bad('compactThreshold must be a number', v);
    return v;
  }],
};

/** A check that v is one of names; else throws INVALID saying `what`. */
function oneOf(what, ...names) {
  return (v) => {
    if (!names.includes(v)) throw bad(what, v);
    return v;
  };
}

/**
 * A new pv_index from the options the user gave, each passed to C by its
 * C name; those not given keep C's defaults. dim has none, so its check
 * runs even when it is missing.
 */
function create(given) {
  for (const k in given)
    if (!Object.hasOwn(OPTIONS, k))
      throw new PocketVecError(INVALID, `unknown option "${k}"; the options are ${Object.keys(OPTIONS).join(', ')}`);
  const o = w.pvw_options_new() >>> 0;
  if (!o) throw new PocketVecError(NOMEM, 'out of memory allocating the options');
  try {
    for (const [k, [name, check]] of Object.entries(OPTIONS)) {
      if (given[k] === undefined && k !== 'dim') continue;
      // A number goes twice, as the engine converts it for an integer field
      // and for a float one; C takes the one its field wants.
      const v = check(given[k], k), [text, num] = typeof v === 'string' ? [v, 0] : ['', v];
      // C rejects only what JS let through by mistake: a .wasm of another version.
      if (withUtf8([name, text], (s, n, t, tn) => w.pvw_option_set(o, s, n, t, tn, num, num)))
        throw bad(`this pocketvec.wasm does not take this ${name}`, v);
    }
  } catch (e) {
    w.free(o);
    throw e;
  }
  const p = w.pvw_new_from(o) >>> 0;
  if (!p) throw cError(0);
  return p;
}

const ADOPT = Symbol('adopt');

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

  constructor(options, loaded) {
    if (!w) throw new PocketVecError(INVALID, 'call await init() before creating an Index');
    const p = options === ADOPT ? loaded : create(options ?? {});
    this.#h = { p, b: 0, n: 0 };
    reclaim.register(this, this.#h, this.#h);
    // The settings as C holds them: C's defaults, or what a loaded file says.
    this.#dim = w.pvw_dim(p);
    this.#metric = cstr(w.pvw_metric(p));
    this.#quant = cstr(w.pvw_storage(p));
  }

  #p() {
    if (!this.#h.p) throw new PocketVecError(INVALID, 'this index has been freed');
    return this.#h.p;
  }

  #fail() {
    return cError(this.#h.p);
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


  // ---- persistence: the format of docs/FORMAT.md ------------------------

  /** The index as bytes: one Uint8Array, filled chunk by chunk. */
  toBytes() {
    const p = this.#p(), e = this.#exportBegin(p);
    try {
      const n = w.pvw_export_size(e) >>> 0, out = new Uint8Array(n), b = alloc(Math.min(n, CHUNK) || 1);
      try {
        for (let o = 0; o < n; o += CHUNK) {
          const len = Math.min(CHUNK, n - o);
          if (w.pvw_export_read(e, o, b, len)) throw this.#fail();
          heap();
          out.set(u8.subarray(b, b + len), o);
        }
      } finally {
        w.free(b);
      }
      return out;
    } finally {
      w.pvw_export_end(e);
    }
  }

  /** The bytes of toBytes() as chunks of `size` bytes, never all at once. */
  async *exportChunks(size = CHUNK) {
    if (!Number.isInteger(size) || size < 1) throw bad('chunk size must be a positive integer', size);
    const e = this.#exportBegin(this.#p());
    let b = 0;
    try {
      const n = w.pvw_export_size(e) >>> 0;
      b = alloc(Math.min(n, size) || 1);
      for (let o = 0; o < n; o += size) {
        const len = Math.min(size, n - o);
        this.#p(); // the consumer may have freed the index between chunks
        if (w.pvw_export_read(e, o, b, len)) throw this.#fail();
        heap();
        yield u8.slice(b, b + len);
      }
    } finally {
      w.free(b);
      w.pvw_export_end(e);
    }
  }

  #exportBegin(p) {
    const e = w.pvw_export_begin(p) >>> 0;
    if (!e) throw this.#fail();
    return e;
  }

  /** An index from the bytes of toBytes() (or a file the CLI wrote). */
  static fromBytes(bytes) {
    if (!w) throw new PocketVecError(INVALID, 'call await init() before loading an index');
    const u = asBytes(bytes), b = alloc(u.length || 1);
    u8.set(u, b);
    return adopt(b, u.length);
  }

  /** An index from an (async) iterable of byte chunks, e.g. exportChunks(). */
  static async importChunks(chunks) {
    if (!w) throw new PocketVecError(INVALID, 'call await init() before loading an index');
    const sink = new Sink();
    try {
      for await (const c of chunks) sink.add(asBytes(c));
      return sink.finish();
    } catch (e) {
      sink.drop();
      throw e;
    }
  }

  /**
   * Save: in Node to a file path (written to a temporary file, synced, then
   * renamed over the old one), elsewhere to IndexedDB under a name (chunks
   * first, then one transaction makes the new version current).
   */
  async save(target, options) {
    this.#p();
    const file = useFiles(options);
    try {
      return await (file ? saveFile(this, target) : saveIdb(this, target));
    } catch (e) {
      throw storageError(`saving to ${file ? 'file' : 'IndexedDB name'} "${target}" failed`, e);
    }
  }

  /** Load what save() wrote (a file path in Node, a name in IndexedDB). */
  static async load(target, options) {
    if (!w) throw new PocketVecError(INVALID, 'call await init() before loading an index');
    const file = useFiles(options);
    try {
      return await (file ? loadFile(target) : loadIdb(target));
    } catch (e) {
      throw storageError(`loading ${file ? 'file' : 'IndexedDB name'} "${target}" failed`, e, true);
    }
  }

  /** Names, sizes and save times of the indexes in IndexedDB. */
  static async list() {
    try {
      const db = await openDb();
      try {
        const all = await req(db.transaction(STORES[0]).objectStore(STORES[0]).getAll());
        return all.map(({ name, size, savedAt }) => ({ name, size, savedAt: new Date(savedAt) }));
      } finally {
        db.close();
      }
    } catch (e) {
      throw storageError('listing the indexes in IndexedDB failed', e);
    }
  }

  /** Delete an index from IndexedDB; true if there was one. */
  static async remove(name) {
    try {
      checkName(name);
      const db = await openDb();
      try {
        const tx = db.transaction(STORES, 'readwrite'), recs = tx.objectStore(STORES[0]);
        const had = (await req(recs.getKey(name))) !== undefined;
        recs.delete(name);
        tx.objectStore(STORES[1]).delete(IDBKeyRange.bound([name], [name, []]));
        await done(tx);
        return had;
      } finally {
        db.close();
      }
    } catch (e) {
      throw storageError(`removing IndexedDB name "${name}" failed`, e);
    }
  }

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

// ---- persistence helpers ---------------------------------------------------

function asBytes(v) {
  if (v instanceof Uint8Array) return v;
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw bad('expected bytes (a Uint8Array, another typed array or an ArrayBuffer)', v);
}

// Hand b (len bytes from malloc) to pv_load, which owns it on success.
function adopt(b, len) {
  const p = w.pvw_load(b, len) >>> 0;
  if (!p) {
    const err = cError(0);
    w.free(b);
    throw err;
  }
  return new Index(ADOPT, p);
}

// Collects chunks in WASM memory. The header's size is untrusted, so the
// buffer grows with the bytes that actually arrive (doubling, at most to
// the declared size) rather than being allocated from the header.
class Sink {
  b = 0;
  cap = 0;
  len = 0;
  total = -1;
  head = [];

  add(u) {
    if (this.total < 0) {
      this.head.push(u.slice());
      const h = concat(this.head);
      if (h.length < 24) return;
      const v = new DataView(h.buffer, h.byteOffset);
      const total = v.getUint32(16, true) + v.getUint32(20, true) * 2 ** 32;
      this.total = total > 0xffffffff ? 0xffffffff : total;
      this.head = [];
      u = h;
    }
    if (this.len + u.length > this.cap) {
      const want = Math.max(this.len + u.length, Math.min(this.total, Math.max(2 * this.cap, CHUNK)));
      const nb = alloc(want);
      if (this.b) {
        u8.copyWithin(nb, this.b, this.b + this.len);
        w.free(this.b);
      }
      this.b = nb;
      this.cap = want;
    }
    heap();
    u8.set(u, this.b + this.len);
    this.len += u.length;
  }

  finish() {
    if (this.total < 0) {
      // Fewer than 24 bytes in all: let the C loader say what is wrong.
      const h = concat(this.head), b = alloc(h.length || 1);
      u8.set(h, b);
      return adopt(b, h.length);
    }
    const b = this.b;
    this.b = 0;
    return adopt(b, this.len);
  }

  drop() {
    if (this.b) w.free(this.b);
    this.b = 0;
  }
}

// One array of the parts (none: a zero-length array).
function concat(parts) {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}

const useFiles = (o) => (o?.backend ?? (isNode() ? 'file' : 'indexeddb')) === 'file';

async function saveFile(index, path) {
  const fs = await nodeFs();
  const { dirname } = await import(/* @vite-ignore */ /* webpackIgnore: true */ 'node:path');
  const tmp = `${path}.tmp-${globalThis.process.pid}-${Math.random().toString(36).slice(2)}`;
  const fh = await fs.open(tmp, 'wx');
  try {
    for await (const c of index.exportChunks()) await fh.write(c);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await fs.rename(tmp, path);
  // The rename is durable only once the directory is synced.
  const dir = await fs.open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

async function loadFile(path) {
  const fs = await nodeFs(), fh = await fs.open(path, 'r'), sink = new Sink();
  try {
    const buf = new Uint8Array(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (!bytesRead) break;
      sink.add(buf.subarray(0, bytesRead));
    }
    return sink.finish();
  } catch (e) {
    sink.drop();
    throw e;
  } finally {
    await fh.close();
  }
}

// IndexedDB: database "pocketvec"; store "indexes" holds one record per
// name { name, gen, size, chunks, savedAt }; store "chunks" holds the bytes
// under [name, gen, i]. A save writes the chunks of a new generation, then
// one transaction points the record at it and deletes every other
// generation of that name: until that commits, the previous version stays
// whole and current, so a tab closed mid-save loses nothing.
const STORES = ['indexes', 'chunks'];

function req(r) {
  return new Promise((ok, no) => {
    r.onsuccess = () => ok(r.result);
    r.onerror = () => no(r.error);
  });
}

function done(tx) {
  return new Promise((ok, no) => {
    tx.oncomplete = () => ok();
    tx.onerror = tx.onabort = () => no(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

function openDb() {
  if (!globalThis.indexedDB) throw new PocketVecError(INVALID, 'IndexedDB is not available here; in Node, save to a file path');
  const r = indexedDB.open('pocketvec', 1);
  r.onupgradeneeded = () => {
    r.result.createObjectStore(STORES[0], { keyPath: 'name' });
    r.result.createObjectStore(STORES[1]);
  };
  return req(r);
}

function checkName(name) {
  if (typeof name !== 'string' || !name) throw bad('the name must be a non-empty string', JSON.stringify(name) ?? name);
}

/**
 * A failure of the host's storage (a file, IndexedDB) as a PocketVecError
 * IO whose message says what was being done and what the host said; a
 * missing file to load is NOTFOUND, as a missing IndexedDB name is. The host's
 * error stays as `cause`. The library's own PocketVecErrors (CORRUPT,
 * NOTFOUND, ...) pass through: they already say what is wrong.
 */
function storageError(what, e, loading = false) {
  if (e instanceof PocketVecError) return e;
  if (loading && e?.code === 'ENOENT') return new PocketVecError(ErrorCode.NOTFOUND, `${what}: there is no such file`, { cause: e });
  const kind = e?.name && e.name !== 'Error' ? e.name : '';
  // Browsers raise QuotaExceededError with an empty message.
  const why = e?.message || (kind === 'QuotaExceededError' ? "the site's storage quota is full" : String(e ?? 'unknown error'));
  return new PocketVecError(ErrorCode.IO, `${what}: ${kind ? `${kind}: ` : ''}${why}`, { cause: e });
}

async function saveIdb(index, name) {
  checkName(name);
  const db = await openDb();
  try {
    const gen = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    let i = 0, size = 0;
    for await (const c of index.exportChunks()) {
      const tx = db.transaction(STORES[1], 'readwrite');
      tx.objectStore(STORES[1]).put(c, [name, gen, i++]);
      size += c.length;
      await done(tx);
    }
    const tx = db.transaction(STORES, 'readwrite'), chunks = tx.objectStore(STORES[1]), finished = done(tx);
    // A save of the same name that finished while this one was writing
    // (another tab, an overlapping autosave) deleted every generation but
    // its own, some of this one's chunks included: pointing the record at
    // this generation would lose both versions. Keep that save's, drop the
    // rest of this one, and fail.
    const mine = IDBKeyRange.bound([name, gen, 0], [name, gen, []]);
    if ((await req(chunks.count(mine))) !== i) {
      chunks.delete(mine);
      await finished;
      throw new PocketVecError(ErrorCode.IO, `another save of "${name}" finished while this one was writing; ` +
        `"${name}" holds that save's version`);
    }
    tx.objectStore(STORES[0]).put({ name, gen, size, chunks: i, savedAt: Date.now() });
    chunks.delete(IDBKeyRange.bound([name], [name, gen], false, true));
    chunks.delete(IDBKeyRange.bound([name, gen, []], [name, []]));
    await finished;
  } finally {
    db.close();
  }
}

async function loadIdb(name) {
  checkName(name);
  const db = await openDb(), sink = new Sink();
  try {
    // One read-only transaction sees one consistent version; chunks are
    // copied into WASM memory as the cursor delivers them.
    const tx = db.transaction(STORES), finished = done(tx);
    const rec = await req(tx.objectStore(STORES[0]).get(name));
    if (!rec) throw new PocketVecError(ErrorCode.NOTFOUND, `no index named "${name}" in IndexedDB`);
    let n = 0;
    await new Promise((ok, no) => {
      const c = tx.objectStore(STORES[1]).openCursor(IDBKeyRange.bound([name, rec.gen, 0], [name, rec.gen, []]));
      c.onerror = () => no(c.error);
      c.onsuccess = () => {
        const cur = c.result;
        if (!cur) return ok();
        try {
          sink.add(asBytes(cur.value));
        } catch (e) {
          return no(e);
        }
        n++;
        cur.continue();
      };
    });
    await finished;
    if (n !== rec.chunks)
      throw new PocketVecError(ErrorCode.CORRUPT, `index "${name}" in IndexedDB has ${n} of its ${rec.chunks} chunks`);
    return sink.finish();
  } catch (e) {
    sink.drop();
    throw e;
  } finally {
    db.close();
  }
}
