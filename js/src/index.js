// SPDX-License-Identifier: MIT
// The Index class: an HNSW index in WebAssembly memory (API docs in
// index.d.ts). Vectors are copied into WASM memory with one
// TypedArray.set, never element by element; results come back as plain
// objects and typed arrays. Saving and loading stream bytes between the
// index and a storage backend (src/storage/), which knows nothing of
// indexes.
import { ErrorCode, PocketVecError, bad, isFlat, lenOf, notNumbers, storageError, uint } from './errors.js';
import { alloc, cError, cstr, f32, heap, u32, u8, w, withUtf8 } from './wasm.js';
import { appendFile, fileKey, isNode, loadFile, saveFile, watchFile } from './storage/file.js';
import { appendIdb, checkName, idbKey, listIdb, loadIdb, removeIdb, saveIdb, watchIdb } from './storage/idb.js';
import { appendOpfs, listOpfs, loadOpfs, opfsKey, removeOpfs, saveOpfs, watchOpfs } from './storage/opfs.js';
import { decodeAttrs, encodeAttrs, keyBytes, textBytes, textInto, textOk, utf8Text } from './docs.js';
import { filterText } from './filter.js';
import { drain } from './stream.js';

const { INVALID, DIM, NOMEM, NOTFOUND } = ErrorCode;
const ENCODED = 2, MERGE = 1; // pocketvec.h: PV_ATTR_ENCODED, PV_ATTR_MERGE
const CHUNK = 1 << 22; // 4 MiB: the chunks of exports, and the least a loading buffer grows by
const RESERVE = 1 << 16; // the bytes at pvw_reserve (wasm/exports.c)

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
  quantization: ['storage', oneOf("quantization must be 'f32', 'sq8', 'binary' or 'binary-f32'", 'f32', 'sq8', 'binary', 'binary-f32')],
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
  // How text is tokenized (docs/TEXT.md): pv_options' PV_TEXT_STEM (1) and
  // PV_TEXT_STOPWORDS (2).
  text: ['text', (v) => {
    if (typeof v !== 'object' || v === null) throw bad('text must be an object such as { stem: true, stopwords: true }', v);
    let f = 0;
    for (const k in v) {
      const bit = k === 'stem' ? 1 : k === 'stopwords' ? 2 : 0;
      if (!bit || typeof v[k] !== 'boolean') throw bad(`text.${k} is unknown or not true/false; text takes stem and stopwords`, v[k]);
      if (v[k]) f |= bit;
    }
    return f;
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
  if (typeof given !== 'object' || Array.isArray(given)) throw bad('the options must be an object such as { dim: 384 }', given);
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
  if (!p) {
    // C names an option as pv_options does (ef_construction): say the name
    // the user wrote (efConstruction).
    const e = cError(0);
    for (const k in OPTIONS) e.message = e.message.replace(OPTIONS[k][0] + ' ', k + ' ');
    throw e;
  }
  return p;
}

/**
 * Copies the values of v into WASM memory at float index `at`, converted
 * to float32, as one TypedArray.set; what cannot be converted (a BigInt or
 * Symbol element) is INVALID naming `name` and the element (in a flat
 * batch of rows of `dim`, the row). The caller checked the length.
 */
function put(v, at, name, dim) {
  try {
    f32.set(v, at);
  } catch (e) {
    throw notNumbers(v, name, e, dim);
  }
}

const ADOPT = Symbol('adopt');

// Frees what an Index that was garbage-collected without free() held.
const reclaim = new FinalizationRegistry((h) => {
  w.pv_free(h.p);
  w.free(h.b);
});

// Ends the export of an exportChunks() generator that was garbage-
// collected before it finished.
const ends = new FinalizationRegistry((x) => x.end());

// The storage backends, as save() and load() use them.
// A change log record read at load costs a backend this much besides its
// replay (ms): IndexedDB reads the records in one request.
const FILES = { what: 'file', key: fileKey, save: saveFile, load: loadFile, append: appendFile, watch: watchFile,
  record: 0 };
const IDB = { what: 'IndexedDB name', key: idbKey, save: saveIdb, load: loadIdb, append: appendIdb, watch: watchIdb,
  list: listIdb, remove: removeIdb, record: 0.5, where: 'IndexedDB' };
const OPFS = { what: 'OPFS name', key: opfsKey, save: saveOpfs, load: loadOpfs, append: appendOpfs, watch: watchOpfs,
  list: listOpfs, remove: removeOpfs, record: 0, where: 'the Origin Private File System' };
const BACKENDS = { file: FILES, indexeddb: IDB, opfs: OPFS };
// A save writes the whole index once replaying the change log would cost a
// load more than this share of loading the index itself (save()).
const CHECKPOINT = 0.1;

export class Index {
  #h; // { p: pv_index *, b: scratch buffer, n: its bytes }, shared with reclaim
  #open = new Set(); // exports not yet read to the end (Export)
  #seen = new Map(); // storage target -> the version of it this index last loaded or saved (null: none)
  #home = null; // { target, backend }: where the stored bytes the C change log follows are (saves there can append)
  #cost = 0; // ms the changes took, all of them (what replaying them costs a load)
  #costStored = 0; // #cost at the mark of the last save
  #t0 = 0;
  #loadMs = 0; // how long Index.load took to give this index (the load a log is weighed against)
  #queue = Promise.resolve(); // this index's saves, one at a time
  // Keys of ids seen in results (null: none). An id's key never changes and
  // ids are never reused, so nothing invalidates an entry; it only saves
  // the call into WASM and the UTF-8 decoding per hit of a repeated result.
  #keys = new Map();
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

  /**
   * #p() for a call that changes the index: unfinished exports first copy
   * what they still need (Export); the clock starts for #did().
   */
  #w() {
    const p = this.#p();
    for (const x of this.#open) x.freeze();
    this.#t0 = performance.now();
    return p;
  }

  /** A change succeeded: its time counts towards replaying the change log (save). */
  #did() {
    this.#cost += performance.now() - this.#t0;
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

  // Vectors and queries: the length is checked against dim before anything
  // is copied or allocated, so a wrong length costs nothing (a 5e7-value
  // array is not copied to be refused, { length: 2 ** 32 } is DIM, not
  // NOMEM); then one TypedArray.set copies and converts the values, and what
  // it cannot convert (a BigInt, a Symbol) is INVALID naming the element.

  /** lenOf(v), if that is dim; else throws DIM in the words of C's pv_check_dim. */
  #len(v) {
    const n = lenOf(v), d = this.#dim;
    if (n !== d) throw new PocketVecError(DIM, `vector has ${n} values, index expects ${d}`);
    return n;
  }

  add(vector) {
    const p = this.#w(), n = this.#len(vector), b = this.#scratch(8 + 4 * n);
    put(vector, (b >>> 2) + 2, 'the vector');
    if (w.pvw_add(p, b + 8, n, b)) throw this.#fail();
    this.#did();
    heap();
    return u32[b >>> 2];
  }

  addBatch(vectors) {
    const p = this.#w(), d = this.#dim, flat = isFlat(vectors);
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
      if (flat) put(vectors, b >>> 2, 'the batch', d);
      else for (let i = 0; i < n; i++) put(vectors[i], (b >>> 2) + i * d, `vector ${i}`);
      if (w.pvw_add_batch(p, b, d, n, ids)) throw this.#fail();
      this.#did();
      heap();
      return u32.slice(ids >>> 2, (ids >>> 2) + n);
    } finally {
      w.free(b);
    }
  }

  /**
   * Search, graph or exact. options: ef (graph only), filter (text or
   * object, see docs/FILTER.md), attributes (true: each hit carries its
   * document's attributes). Unknown options are INVALID: a misspelt filter
   * must not quietly search everything.
   */
  #search(query, k, options, exact) {
    if (isQuery(query)) return this.#query(query, k, options, exact);
    // search('words') is the likeliest slip: say how text goes in.
    if (typeof query === 'string') throw bad('the query must be a vector, { text } or { vector, text }', query);
    const o = opts(options, exact ? SEARCH_EXACT : SEARCH), p = this.#p(), n = this.#len(query);
    uint(k, 'k');
    const ef = exact ? 0 : uint(o.ef ?? 0, 'ef'), f = filterOf(o.filter);
    const hits = [];
    // Room for min(k, live) hits: a search never returns more.
    const room = Math.min(k, w.pv_count(p) >>> 0);
    const b = this.#scratch(8 + 4 * n + 8 * room), q = b + 8, out = q + 4 * n;
    put(query, q >>> 2, 'the query');
    if (w.pvw_search(p, q, n, k, ef, exact, f, out, b)) throw this.#fail();
    heap();
    // The count first: #key may write the scratch's first 8 bytes.
    for (let i = 0, c = u32[b >>> 2], at = out >>> 2; i < c; i++, at += 2) {
      const id = u32[at], distance = f32[at + 1], key = this.#key(id);
      hits.push(this.#attrs(key === null ? { id, distance } : { id, key, distance }, o.attributes));
    }
    return hits;
  }

  /**
   * Text and hybrid search: query { text } or { vector, text } (or
   * { vector }), fused by reciprocal rank (fusion: 'rrf' or { rrf: 60 }) or
   * by weighted normalised scores (fusion: { vector: 0.7, text: 0.3 }).
   * Hits { id, key, score, distance?, textScore?, attributes? }, best first.
   */
  #query(query, k, options, exact) {
    const o = opts(options, exact ? QUERY.slice(1) : QUERY), p = this.#p();
    for (const f in query)
      if (f !== 'vector' && f !== 'text') throw new PocketVecError(INVALID, `the query has an unknown field "${f}"; a query has vector and text`);
    const vec = query.vector, text = query.text;
    if (vec == null && text == null) throw bad('the query needs a vector, text or both', query);
    if (text != null) textOk(text, 'the query text');
    uint(k, 'k');
    const n = vec == null ? 0 : this.#len(vec);
    const ef = exact ? 0 : uint(o.ef ?? 0, 'ef'), f = filterOf(o.filter);
    let fusion = 0, rrf = 60, wv = 0.5, wt = 0.5;
    const fu = o.fusion;
    if (fu !== undefined && fu !== 'rrf') {
      if (typeof fu !== 'object' || fu === null || !Object.keys(fu).length) throw bad("fusion must be 'rrf', { rrf: 60 } or { vector: 0.7, text: 0.3 }", fu);
      if ('rrf' in fu) {
        if (Object.keys(fu).length > 1 || typeof fu.rrf !== 'number') throw bad('fusion { rrf } takes one number', fu);
        rrf = fu.rrf;
      } else {
        for (const x in fu) if ((x !== 'vector' && x !== 'text') || typeof fu[x] !== 'number') throw bad('fusion weights are { vector, text } numbers', fu);
        fusion = 1;
        wv = fu.vector ?? 0;
        wt = fu.text ?? 0;
      }
    }
    const k1 = num(o.k1, 1.2, 'k1'), bb = num(o.b, 0.75, 'b'), win = uint(o.window ?? 0, 'window');
    if (o.prefix !== undefined && typeof o.prefix !== 'boolean') throw bad('prefix must be true or false', o.prefix);
    const room = Math.min(k, w.pv_count(p) >>> 0), tc = text == null ? 0 : 3 * text.length;
    const b = this.#scratch(8 + 4 * n + tc + 16 * room + 16), q = b + 8, tp = q + 4 * n;
    if (n) put(vec, q >>> 2, 'the query vector');
    const tl = text == null ? 0 : textInto(text, u8, tp), out = (tp + tl + 3) & ~3;
    if (w.pvw_query(p, n ? q : 0, n, text == null ? 0 : tp, tl, k, ef, f,
      (o.prefix ? 1 : 0) | (exact ? 2 : 0), fusion, k1, bb, rrf, wv, wt, win, out, b)) throw this.#fail();
    heap();
    const hits = [];
    for (let i = 0, c = u32[b >>> 2], at = out >>> 2; i < c; i++, at += 4) {
      const id = u32[at], score = f32[at + 1], d = f32[at + 2], ts = f32[at + 3], key = this.#key(id);
      const h = key === null ? { id, score } : { id, key, score };
      if (n && d === d) h.distance = d;
      if (n && tl && ts > 0) h.textScore = ts;
      hits.push(this.#attrs(h, o.attributes));
    }
    const sc = this.#h;
    if (sc.n > 1 << 20) { // a long query text made the scratch large (3 bytes per UTF-16 unit): give it back
      w.free(sc.b);
      sc.b = sc.n = 0;
    }
    return hits;
  }

  search(query, k, options) {
    return this.#search(query, k, options, 0);
  }

  searchExact(query, k, options) {
    return this.#search(query, k, options, 1);
  }

  /** Deletes a document by key (a string) or a vector by id (a number). */
  delete(keyOrId) {
    const p = this.#w();
    const rc = typeof keyOrId === 'string'
      ? this.#withKey(keyOrId, (b, n) => w.pv_delete_key(p, b, n))
      : w.pv_delete(p, uint(keyOrId, 'id'));
    if (rc) throw this.#fail();
    this.#did();
  }

  has(keyOrId) {
    const p = this.#p();
    if (typeof keyOrId === 'string') {
      try {
        return this.#lookup(keyOrId) >= 0;
      } catch (e) {
        if (e.code === INVALID) return false; // a string that can never be a key
        throw e;
      }
    }
    return Number.isInteger(keyOrId) && keyOrId >= 0 && keyOrId <= 0xffffffff && w.pv_contains(p, keyOrId) !== 0;
  }

  /**
   * By key (a string): the document { key, id, vector, attributes }, or
   * undefined when no live document has the key. By id (a number): the
   * vector, as before documents existed; NOTFOUND for an unknown id.
   */
  get(keyOrId) {
    if (typeof keyOrId === 'string') {
      const id = this.#lookup(keyOrId);
      return id < 0 ? undefined : this.#doc({ key: keyOrId, id, vector: this.#vector(id) }, true);
    }
    return this.#vector(uint(keyOrId, 'id'));
  }

  #vector(id) {
    const p = this.#p(), d = this.#dim, b = this.#scratch(4 * d);
    if (w.pvw_get(p, id, b, d)) throw this.#fail();
    heap();
    return f32.slice(b >>> 2, (b >>> 2) + d);
  }

  // ---- documents: keys, attributes, filters --------------------------------

  /** Adds a document, or replaces the live one with the same key; its new id. */
  upsert(doc) {
    return this.#upsert([doc], true)[0];
  }

  /** Upserts documents, all or nothing; their ids. */
  upsertBatch(docs) {
    if (!Array.isArray(docs)) throw bad('upsertBatch takes an array of documents { key, vector, attributes }', docs);
    return this.#upsert(docs, false);
  }

  // Through a batch (pv_batch_*), a document at a time: each is checked and
  // encoded here, its vector copied into one buffer that the batch borrows
  // until the commit, its key, attributes and text through a scratch
  // buffer that the next document reuses (the batch copies the key and
  // attributes and tokenizes the text as it comes). So the module's memory
  // never holds every text of a batch at once. Nothing changes before the
  // commit: a document that fails frees the batch, all or nothing.
  #upsert(docs, one) {
    const p = this.#w(), d = this.#dim, n = docs.length;
    const b = alloc(4 * n * (d + 1) || 1), ids = b + 4 * n * d;
    let bt = 0, s = 0, cap = 0;
    try {
      if (!(bt = w.pvw_batch_new(p))) throw this.#fail();
      for (let i = 0; i < n; i++) {
        const doc = docs[i], k = doc?.key, name = () => (typeof k === 'string' && k && k.length <= 1024
          ? `document ${JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}...` : k)}` : one ? 'the document' : `document ${i}`);
        if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || ArrayBuffer.isView(doc))
          throw bad(`${name()} must be an object { key, vector, attributes }`, doc);
        for (const f in doc)
          if (f !== 'key' && f !== 'vector' && f !== 'attributes' && f !== 'text')
            throw new PocketVecError(INVALID, `${name()} has an unknown field "${f}"; a document has key, vector, attributes and text`);
        const key = doc.key == null ? null : prefixed(name, () => keyBytes(doc.key));
        const len = prefixed(name, () => lenOf(doc.vector));
        if (len !== d) throw new PocketVecError(DIM, `${name()}: vector has ${len} values, index expects ${d}`);
        const attrs = prefixed(name, () => encodeAttrs(doc.attributes)), text = prefixed(name, () => textBytes(doc.text, 'text'));
        const kl = key?.length ?? 0, al = attrs.length, tl = text?.length ?? 0;
        if (kl + al + tl > cap) {
          w.free(s);
          s = 0;
          s = alloc(cap = Math.max(kl + al + tl, 2 * cap, 256));
        }
        heap();
        put(doc.vector, (b >>> 2) + i * d, name());
        if (key) u8.set(key, s);
        u8.set(attrs, s + kl);
        if (text) u8.set(text, s + kl + al);
        if (w.pvw_batch_add(bt, p, b + 4 * i * d, d, key ? s : 0, kl, al ? s + kl : 0, al, text ? s + kl + al : 0, tl)) {
          const e = this.#fail();
          if (one) e.message = e.message.replace(/^document 0\b/, 'the document'); // C numbers a batch's documents
          throw e;
        }
      }
      if (w.pv_batch_commit(bt, ids)) throw this.#fail();
      this.#did();
      heap();
      return u32.slice(ids >>> 2, (ids >>> 2) + n);
    } finally {
      w.pv_batch_free(bt);
      w.free(s);
      w.free(b);
    }
  }

  /**
   * Replaces a live document's attributes (by key or id), or with
   * { merge: true } merges into them at the top level as { ...old, ...new };
   * the vector and the id stay.
   */
  setAttributes(keyOrId, attributes, options) {
    const o = opts(options, ['merge']), id = this.#id(keyOrId);
    if (o.merge !== undefined && typeof o.merge !== 'boolean') throw bad('merge must be true or false', o.merge);
    const a = encodeAttrs(attributes), b = alloc(a.length || 1);
    try {
      u8.set(a, b);
      if (w.pv_set_attributes(this.#w(), id, b, a.length, ENCODED | (o.merge ? MERGE : 0))) throw this.#fail();
      this.#did();
    } finally {
      w.free(b);
    }
  }

  /** How many live documents match the filter (none: all). */
  count(filter) {
    return this.#find(filter, 0)[0];
  }

  /** The live documents that match, by ascending id: [{ id, key, attributes }]. */
  find(filter, options) {
    const o = opts(options, ['limit']), limit = o.limit ?? Infinity;
    if (limit !== Infinity) uint(limit, 'limit');
    const ids = this.#find(filter, Math.min(limit, this.size))[1];
    return Array.from(ids, (id) => this.#doc({ id }, true));
  }

  // [count, the first cap ids] of pv_find.
  #find(filter, cap) {
    const p = this.#p(), f = filterOf(filter), b = this.#scratch(4 + 4 * cap);
    if (w.pv_find(p, f, b + 4, cap, b)) throw this.#fail();
    heap();
    const n = u32[b >>> 2];
    return [n, u32.slice((b >>> 2) + 1, (b >>> 2) + 1 + Math.min(n, cap))];
  }

  /** The attribute paths live documents use: [{ path, types, count }]. */
  fields() {
    const p = this.#p();
    for (let cap = 4096; ; ) {
      const b = this.#scratch(4 + cap), rc = w.pv_fields(p, b + 4, cap, b);
      heap();
      const need = u32[b >>> 2];
      if (!rc) return JSON.parse(utf8Text(u8, b + 4, need));
      if (rc !== ErrorCode.RANGE || need <= cap) throw this.#fail();
      cap = need;
    }
  }

  // fn(pointer, length) with key's UTF-8 bytes in WASM memory.
  #withKey(key, fn) {
    const k = keyBytes(key), b = this.#scratch(8 + k.length);
    u8.set(k, b + 8);
    return fn(b + 8, k.length, b);
  }

  /** The id of key's live document, or -1. */
  #lookup(key) {
    const rc = this.#withKey(key, (k, n, b) => w.pv_lookup(this.#p(), k, n, b));
    if (rc === NOTFOUND) return -1;
    if (rc) throw this.#fail();
    heap();
    return u32[this.#h.b >>> 2];
  }

  /** The id a key (its live document's; NOTFOUND if none) or an id names. */
  #id(keyOrId) {
    if (typeof keyOrId !== 'string') return uint(keyOrId, 'id');
    const id = this.#lookup(keyOrId);
    if (id < 0) throw new PocketVecError(NOTFOUND, `no live document has the key ${JSON.stringify(keyOrId)}`);
    return id;
  }

  // The key of id, null when it has none: from the cache, else from C.
  #key(id) {
    let key = this.#keys.get(id);
    if (key === undefined) {
      const b = this.#scratch(8);
      if (w.pv_get_key(this.#p(), id, b, b + 4)) throw this.#fail();
      heap();
      key = u32[b >>> 2] ? utf8Text(u8, u32[b >>> 2], u32[(b >>> 2) + 1]) : null;
      if (this.#keys.size >= 65536) this.#keys.clear();
      this.#keys.set(id, key);
    }
    return key;
  }

  // o (with an id) given its key when it has one and was given none, and
  // its attributes when asked. Searches build their hits with the key
  // already in place instead: a property added later changes an object's
  // shape, which costs more than the rest of making a hit.
  #doc(o, attributes) {
    if (!('key' in o)) {
      const key = this.#key(o.id);
      if (key !== null) o.key = key;
    }
    return this.#attrs(o, attributes);
  }

  // o, given its attributes (read from C) when asked.
  #attrs(o, attributes) {
    if (attributes) {
      const b = this.#scratch(8);
      if (w.pv_get_attributes_encoded(this.#p(), o.id, b, b + 4)) throw this.#fail();
      heap();
      o.attributes = decodeAttrs(u8, u32[b >>> 2], u32[(b >>> 2) + 1]);
    }
    return o;
  }

  compact() {
    if (w.pv_compact(this.#w())) throw this.#fail();
    this.#did();
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
    const x = this.#export();
    try {
      return x.next(x.n);
    } finally {
      x.end();
    }
  }

  /** An export of the index as it is now (Export); it stays open until end(). */
  #export() {
    const p = this.#p(), e = w.pvw_export_begin(p) >>> 0;
    if (!e) throw this.#fail();
    return new Export(this, p, e, this.#open);
  }

  /**
   * The bytes of toBytes() as chunks of `size` bytes, never all at once:
   * the index as it was when exportChunks() was called, whatever changes
   * it while the chunks are read (Export). Between chunks the generator
   * holds no chunk buffer in WASM memory, only the C export (a few hundred
   * bytes: the layout and checksums), which ends when the generator
   * finishes, fails or is return()ed; a generator abandoned half-read is
   * garbage, and `ends` then ends its export. Rejected: ending the export
   * at each yield and beginning it again at the next chunk, since every
   * begin computes the checksums in a pass over the whole index.
   */
  exportChunks(size = CHUNK) {
    const x = this.#export(), it = chunksOf(x, size, true);
    ends.register(it, x, x);
    return it;
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
    if (typeof chunks?.[Symbol.asyncIterator] !== 'function' && typeof chunks?.[Symbol.iterator] !== 'function')
      throw bad('importChunks takes an iterable or async iterable of byte chunks', chunks);
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
   * An index from a fetch() Response, streamed into WASM memory as it
   * arrives: the file is never held whole in JavaScript, so the peak is
   * the index plus one piece of the body. An uncompressed response's
   * Content-Length sizes the buffer at once. IO if the response is not ok
   * or its body fails or stops early; nothing stays allocated on failure.
   */
  static async fromResponse(response) {
    if (!w) throw new PocketVecError(INVALID, 'call await init() before loading an index');
    if (typeof response?.ok !== 'boolean' || !response.headers || !('body' in response))
      throw bad('fromResponse takes a Response (what fetch() resolves to)', response);
    const from = response.url ? ` from ${response.url}` : '';
    if (!response.ok) throw new PocketVecError(ErrorCode.IO, `the response${from} is ${response.status} ${response.statusText || ''}`.trim());
    if (response.bodyUsed) throw bad('the response body was already read', response);
    const sink = new Sink(), h = response.headers, len = h.get('content-length'), enc = h.get('content-encoding');
    // A compressed body's Content-Length counts the compressed bytes.
    if ((!enc || enc === 'identity') && /^\d+$/.test(len ?? '')) sink.expect(+len);
    try {
      if (response.body) await drain(response.body, (c) => sink.add(asBytes(c)));
      return sink.finish();
    } catch (e) {
      sink.drop();
      throw storageError(`loading the index${from} failed`, e);
    }
  }

  /**
   * Save: in Node to a file path, elsewhere to IndexedDB under a name; each
   * backend is crash-safe and serialises the writers of one target
   * (src/storage/). What is saved is the index as it was when save() was
   * called (Export, and the change log's mark). CONFLICT unless the target
   * is as this index last saw it (absent, if it never loaded or saved it),
   * or { overwrite: true }.
   *
   * Incremental: when the target is the one this index was loaded from or
   * last saved whole, the save appends one change log record (the calls
   * since the last save) instead of writing the index; a whole save (a
   * checkpoint) is made instead when replaying the log at load would cost
   * more than `checkpoint` (default 0.1) times the load of the index
   * itself, or with { checkpoint: true }.
   */
  async save(target, options) {
    const o = opts(options, ['backend', 'overwrite', 'checkpoint']), backend = backendOf(o);
    if (o.overwrite !== undefined && typeof o.overwrite !== 'boolean') throw bad('overwrite must be true or false', o.overwrite);
    const cp = o.checkpoint ?? CHECKPOINT;
    if (typeof cp !== 'boolean' && !(typeof cp === 'number' && cp >= 0))
      throw bad('checkpoint must be true, false or a ratio of at least 0', cp);
    const home = this.#home;
    // Decided now, with the index as the caller sees it: a record of the
    // calls so far, or the whole index (an export: its bytes as they are).
    const append = !o.overwrite && !!home && home.target === target && home.backend === backend &&
      this.#appendable(cp, backend);
    let x = append ? null : this.#export();
    const snap = this.#snapshot(x);
    let release;
    const turn = this.#queue;
    this.#queue = new Promise((ok) => (release = ok));
    try {
      const key = await backend.key(target); // checked before anything is written
      await turn;
      const expect = this.#seen.get(key) ?? null;
      try {
        const log = append && this.#h.p ? this.#record(snap) : null;
        if (log) {
          const version = await backend.append(target, log.bytes, expect, log.end);
          this.#seen.set(key, version);
          if (this.#h.p) w.pvw_log_appended(this.#h.p, snap.mark, log.bytes.length, log.us);
          this.#costStored = Math.max(this.#costStored, snap.cost);
          return;
        }
        // The log could not be written after all (its recording stopped
        // meanwhile): the whole index, as it is now.
        if (!x) Object.assign(snap, this.#snapshot((x = this.#export())));
        const version = await backend.save(target, chunksOf(x, CHUNK), x.n, expect, !!o.overwrite);
        this.#seen.set(key, version);
        if (this.#h.p) {
          w.pvw_log_rebase(this.#h.p, snap.mark, snap.changes, snap.tag[0], snap.tag[1], x.n);
          this.#home = { target, backend };
        }
        this.#costStored = Math.max(this.#costStored, snap.cost);
      } catch (e) {
        throw storageError(`saving to ${backend.what} "${target}" failed`, e);
      }
    } finally {
      x?.end();
      release();
    }
  }

  /** The change log's state: next_seq, end, records, cost_us, mark, pending_ops, pending_bytes, changes, recording, based. */
  #logState() {
    const b = this.#scratch(80);
    w.pvw_log_state(this.#p(), b);
    return Array.from(new Float64Array(u8.buffer, b, 10));
  }

  /** What a save needs of the moment of the call: the log's mark, the count of changes, the export's tag. */
  #snapshot(x) {
    const [, , , , mark, , , changes] = this.#logState(), s = { mark, changes, cost: this.#cost, tag: [0, 0] };
    if (x) {
      const b = this.#scratch(8);
      if (w.pvw_export_tag(x.e, b)) throw this.#fail();
      heap();
      s.tag = [u32[b >>> 2], u32[(b >>> 2) + 1]];
    }
    return s;
  }

  /**
   * Whether a save now may append a change log record rather than write
   * the whole index: with cp false whenever the index is recording and
   * follows a stored base; else by pv_log_worth (the CLI's policy too),
   * the calls' time as they took it (#did) weighed against cp times the
   * index's own load, IndexedDB's records at about half a millisecond each.
   */
  #appendable(cp, backend) {
    const [, , , , mark, , , , recording, based] = this.#logState();
    if (cp === true) return false;
    if (cp === false) return !!(recording && based);
    return !!w.pvw_log_worth(this.#h.p, mark, Math.max(0, this.#cost - this.#costStored) * 1000, this.#loadMs * 1000,
      backend.record * 1000, cp);
  }

  /** The change log record of the calls before snap's mark { bytes, end (where it goes), us (its cost) }, or null. */
  #record(snap) {
    const [, end, , , , , , , recording, based] = this.#logState();
    if (!recording || !based) return null;
    const p = this.#h.p, b = this.#scratch(8), us = Math.round(Math.max(0, snap.cost - this.#costStored) * 1000);
    let rc = w.pvw_log_record(p, snap.mark, us, 0, 0, b);
    heap();
    const need = u32[b >>> 2];
    if (rc !== ErrorCode.RANGE) return null;
    const buf = alloc(need);
    try {
      rc = w.pvw_log_record(p, snap.mark, us, buf, need, b);
      if (rc) throw this.#fail();
      heap();
      return { bytes: u8.slice(buf, buf + need), end, us };
    } finally {
      w.free(buf);
    }
  }

  /** Load what save() wrote (a file path in Node, a name in IndexedDB). */
  static async load(target, options) {
    if (!w) throw new PocketVecError(INVALID, 'call await init() before loading an index');
    const backend = backendOf(opts(options, ['backend'])), key = await backend.key(target);
    const sink = new Sink(), t0 = performance.now();
    try {
      const version = await backend.load(target, { add: (c) => sink.add(asBytes(c)), expect: (n) => sink.expect(n),
        room: (n) => sink.room(n), took: (n) => sink.took(n) });
      const n = sink.len, index = sink.finish();
      index.#seen.set(key, version);
      // It is what is stored: its changes from now on can be saved as a log,
      // after the bytes it took. Bytes it did not take (a record cut short
      // or damaged) are not appended to: the next save is whole.
      w.pv_log_start(index.#h.p);
      if (index.#logState()[1] === n) index.#home = { target, backend };
      index.#loadMs = performance.now() - t0;
      return index;
    } catch (e) {
      sink.drop();
      throw storageError(`loading ${backend.what} "${target}" failed`, e, true);
    }
  }

  /**
   * Calls callback({ name, size, savedAt, removed }) when a save or a
   * remove of target (a name in IndexedDB, a file path in Node) finishes,
   * in this page, another tab or worker, or another process (files); so a
   * tab can load the newer version. Returns a function that stops watching.
   */
  static watch(target, callback, options) {
    if (typeof callback !== 'function') throw bad('watch takes a callback function', callback);
    return backendOf(opts(options, ['backend'])).watch(target, callback);
  }

  /** Names, sizes and save times of the indexes in IndexedDB (or { backend: 'opfs' }). */
  static async list(options) {
    const b = namedBackend(options);
    try {
      return await b.list();
    } catch (e) {
      throw storageError(`listing the indexes in ${b.where} failed`, e);
    }
  }

  /** Delete an index from IndexedDB (or { backend: 'opfs' }); true if there was one. */
  static async remove(name, options) {
    const b = namedBackend(options);
    checkName(name);
    try {
      return await b.remove(name);
    } catch (e) {
      throw storageError(`removing ${b.what} "${name}" failed`, e);
    }
  }

  free() {
    const h = this.#h;
    if (!h.p) return;
    // Unfinished saves keep the bytes they still need; if even that
    // cannot be had, they fail (Export.next) rather than read freed memory.
    for (const x of this.#open) {
      try {
        x.freeze();
      } catch {
        x.end();
      }
    }
    reclaim.unregister(h);
    w.pv_free(h.p);
    w.free(h.b);
    h.p = h.b = h.n = 0;
  }
}

if (typeof Symbol.dispose === 'symbol') Index.prototype[Symbol.dispose] = Index.prototype.free;

// Compiled filters by their text, the 32 used last: a loop of searches with
// one filter compiles it once. They belong to no index (pv_filter_compile
// with none), so every index shares them, and freeing an index frees none.
const compiled = new Map();

/**
 * The compiled filter (a string or an object, see filterText) for a call,
 * or 0 for none; the cache owns it. A syntax error is C's INVALID; for an
 * object, the message quotes the text it became.
 */
function filterOf(filter) {
  const t = filterText(filter);
  if (!t) return 0;
  let f = compiled.get(t);
  if (f) {
    compiled.delete(t); // to the back: used last
  } else {
    const b = alloc(4);
    try {
      if (withUtf8([t], (s, n) => w.pv_filter_compile(0, s, n, b))) {
        const e = cError(0);
        if (typeof filter !== 'string') e.message += ` (in the filter text ${JSON.stringify(t)})`;
        throw e;
      }
      heap();
      f = u32[b >>> 2];
    } finally {
      w.free(b);
    }
    if (compiled.size >= 32) {
      const [old, g] = compiled.entries().next().value;
      compiled.delete(old);
      w.pv_filter_free(g);
    }
  }
  compiled.set(t, f);
  return f;
}

const SEARCH = ['ef', 'filter', 'attributes'], SEARCH_EXACT = ['filter', 'attributes'];
const QUERY = [...SEARCH, 'prefix', 'fusion', 'k1', 'b', 'window'];

/** v, a number; d when undefined; else INVALID naming it as what. */
function num(v, d, what) {
  if (v === undefined) return d;
  if (typeof v !== 'number') throw bad(`${what} must be a number`, v);
  return v;
}

/** A text or hybrid query: a plain object, not a vector. */
function isQuery(q) {
  return typeof q === 'object' && q !== null && !Array.isArray(q) && !ArrayBuffer.isView(q) && typeof q.length !== 'number';
}

/** options (an object or undefined) with only the names given; else INVALID. */
function opts(options, names) {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw bad('options must be an object', options);
  for (const k in options)
    if (!names.includes(k)) throw new PocketVecError(INVALID, `unknown option "${k}"; the options are ${names.join(', ')}`);
  return options;
}

/** fn(), with a PocketVecError's message prefixed by name(). */
function prefixed(name, fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PocketVecError) e.message = `${name()}: ${e.message}`;
    throw e;
  }
}

// ---- exports: the bytes of an index as of one moment ---------------------------

/**
 * An export of an index: its bytes as they were when it began, read in
 * order. While the index is unchanged they are read from it through the C
 * export, with no copy. Before any change (Index.#w, free) the index calls
 * freeze(), which copies the bytes not read yet out of WASM memory and
 * ends the C export: a save or an exportChunks() that runs while the
 * application goes on writing gets the index as it was, whole, never a
 * mix and never a failure. The copy is made only if a change comes while
 * an export is open; it is NOMEM (and the change is not made) if even
 * that memory cannot be had.
 */
class Export {
  constructor(index, p, e, open) {
    this.index = index; // keeps the index (and so the C export's pv_index) alive
    this.p = p;
    this.e = e;
    this.open = open;
    this.n = w.pvw_export_size(e) >>> 0;
    this.o = 0; // bytes given out
    this.rest = null; // once frozen: the bytes from `at` to n
    this.at = 0;
    open.add(this);
  }

  /** The next min(len, bytes left) bytes, as a Uint8Array of their own. */
  next(len) {
    const m = Math.min(len, this.n - this.o);
    let out;
    // A copy, not a view: IndexedDB would store a view's whole buffer.
    if (this.rest) out = this.rest.slice(this.o - this.at, this.o - this.at + m);
    else if (this.e) exportRead(this.p, this.e, this.o, m, (out = new Uint8Array(m)));
    else throw new PocketVecError(INVALID, 'the index was freed before this export was read to the end');
    this.o += m;
    return out;
  }

  freeze() {
    if (!this.e) return;
    let rest;
    try {
      rest = new Uint8Array(this.n - this.o);
    } catch (e) {
      throw new PocketVecError(NOMEM, `out of memory copying the ${this.n - this.o} bytes an unfinished save or export still ` +
        'needs before the index changes; the change was not made', { cause: e });
    }
    exportRead(this.p, this.e, this.o, rest.length, rest);
    this.rest = rest;
    this.at = this.o;
    this.close();
  }

  close() {
    if (this.e) w.pvw_export_end(this.e);
    this.e = 0;
    this.open.delete(this);
  }

  end() {
    this.close();
    this.rest = null;
    this.o = this.n;
  }
}

/**
 * Bytes o .. o + n of export e of index p into out (a Uint8Array of n),
 * through one chunk buffer in WASM memory; at the memory limit, where not
 * even that can be had, through the module's own 64 KiB (pvw_reserve), so
 * that an index that can no longer grow can still be saved.
 */
function exportRead(p, e, o, n, out) {
  const want = Math.min(n, CHUNK) || 1, own = w.malloc(want) >>> 0;
  const b = own || w.pvw_reserve() >>> 0, step = own ? want : RESERVE;
  try {
    for (let d = 0; d < n; d += step) {
      const len = Math.min(step, n - d);
      if (w.pvw_export_read(e, o + d, b, len)) throw cError(p);
      heap();
      out.set(u8.subarray(b, b + len), d);
    }
  } finally {
    if (own) w.free(own);
  }
}

/** The rest of export x in chunks of size bytes; ends x when done, failed or return()ed. */
async function* chunksOf(x, size, registered = false) {
  try {
    if (!Number.isInteger(size) || size < 1) throw bad('chunk size must be a positive integer', size);
    while (x.o < x.n) yield x.next(size);
  } finally {
    if (registered) ends.unregister(x);
    x.end();
  }
}

// ---- loading bytes into WASM memory -------------------------------------------

/** The backend options (checked by opts) choose: files in Node, else IndexedDB, unless they say; INVALID for another. */
function backendOf(o) {
  const b = o.backend ?? (isNode() ? 'file' : 'indexeddb');
  if (!Object.hasOwn(BACKENDS, b)) throw bad("backend must be 'file', 'indexeddb' or 'opfs'", b);
  return BACKENDS[b];
}

/** The store of names list() and remove() act on: IndexedDB unless options say 'opfs'. */
function namedBackend(options) {
  const b = opts(options, ['backend']).backend ?? 'indexeddb';
  if (b !== 'indexeddb' && b !== 'opfs') throw bad("list() and remove() take backend 'indexeddb' or 'opfs'", b);
  return BACKENDS[b];
}

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

// Collects chunks in WASM memory, copying each once. The whole buffer is
// allocated at once, so that memory grows once and nothing is copied
// twice: to the real length when the caller knows it (expect(): a file's
// size, a Content-Length) and it is at least the header's size; else to
// the header's size. The header is untrusted (its checksum is C's to
// check): when that allocation fails, or the real length is shorter than
// the header says, the buffer grows with the bytes that actually arrive
// (doubling, at most to the declared size) and the C loader says what is
// wrong once they are all there.
class Sink {
  b = 0;
  cap = 0;
  len = 0;
  total = -1;
  size = -1;
  head = [];

  /** The real length of what will arrive, when the source knows it. */
  expect(n) {
    if (Number.isSafeInteger(n) && n >= 0) this.size = n;
  }

  add(u, extra = 0) {
    if (this.total < 0) {
      this.head.push(u.slice());
      const h = concat(this.head);
      if (h.length < 24) return;
      const v = new DataView(h.buffer, h.byteOffset);
      const total = v.getUint32(16, true) + v.getUint32(20, true) * 2 ** 32;
      this.total = total > 0xffffffff ? 0xffffffff : total;
      this.head = [];
      u = h;
      const want = this.size < 0 ? this.total : this.size >= this.total ? this.size : 0;
      if (want >= u.length) {
        try {
          this.b = alloc(want);
          this.cap = want;
        } catch {
          // Grown with the data below instead.
        }
      }
    }
    const need = this.len + u.length + extra;
    if (need > this.cap) {
      // Past the header's size come change log records, often one small
      // piece each: room for a chunk's worth of them at a time.
      const want = need > this.total ? need + CHUNK : Math.max(need, Math.min(this.total, Math.max(2 * this.cap, CHUNK)));
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

  /**
   * Where up to n of the next bytes may be written in place (a view of
   * WASM memory, valid until the next allocation), or null before the
   * header is in; the writer then says with took() how many it wrote.
   */
  room(n) {
    if (this.total < 0) return null;
    if (this.len >= this.cap) this.add(new Uint8Array(0), n);
    heap();
    return u8.subarray(this.b + this.len, this.b + Math.min(this.cap, this.len + n));
  }

  took(n) {
    this.len += n;
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
