// The Index class: an HNSW index in WebAssembly memory (API docs in
// index.d.ts). Vectors are copied into WASM memory with one
// TypedArray.set, never element by element; results come back as plain
// objects and typed arrays. Saving and loading stream bytes between the
// index and a storage backend (src/storage/), which knows nothing of
// indexes. Documents cross as keys in UTF-8 and attributes in their binary
// encoding, written, read and checked in src/docs.js; filters as text,
// translated from objects in src/filter.js and compiled once by C (a few
// are cached per index).
import { LONE, checkKey, decodeAttributes, docName, encodeAttributes, possibleKey } from './docs.js';
import { ErrorCode, PocketVecError, bad, isFlat, lenOf, notNumbers, storageError, uint } from './errors.js';
import { filterText, segmentText } from './filter.js';
import { alloc, cError, cstr, f32, heap, u32, u8, utf8At, utf8Bytes, w, withUtf8 } from './wasm.js';
import { checkPath, isNode, loadFile, saveFile } from './storage/file.js';
import { checkName, listIdb, loadIdb, removeIdb, saveIdb } from './storage/idb.js';

const { INVALID, DIM, NOMEM, NOTFOUND } = ErrorCode;
const CHUNK = 1 << 22; // 4 MiB: the chunks of exports, and the least a loading buffer grows by
// Compiled filters kept per index, most recently used last: enough for the
// handful of filters an application repeats, few enough that a stream of
// distinct ones holds little memory.
const FILTERS = 8;
// A document's fields; id is allowed so that what get() returns can be
// upserted again, and ignored: an upsert always gives a new id.
const DOC_FIELDS = ['key', 'vector', 'attributes', 'id'];
// pv_doc's flag, and pv_set_attributes': attributes in the encoding (pocketvec.h).
const ENCODED = 2;
// The types fields() lists, in its order.
const TYPES = ['null', 'boolean', 'number', 'string', 'array', 'object'];

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
  if (!p) throw cError(0);
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

/** Frees what an index holds in WASM memory: the index, its scratch buffer, its compiled filters. */
function release(h) {
  w.pv_free(h.p);
  w.free(h.b);
  for (const f of h.f.values()) w.pv_filter_free(f);
  h.f.clear();
}

// Frees what an Index that was garbage-collected without free() held.
const reclaim = new FinalizationRegistry(release);

// Ends the C export of an exportChunks() generator that was garbage-
// collected before it finished ({ e }: the export; 0 once it has ended).
// pv_export_end needs no index, so this is safe after the index's free().
const ends = new FinalizationRegistry((held) => held.e && w.pvw_export_end(held.e));

export class Index {
  #h; // { p: pv_index *, b: scratch buffer, n: its bytes, f: filter text -> pv_filter * }, shared with reclaim
  #dim;
  #metric;
  #quant;

  constructor(options, loaded) {
    if (!w) throw new PocketVecError(INVALID, 'call await init() before creating an Index');
    const p = options === ADOPT ? loaded : create(options ?? {});
    this.#h = { p, b: 0, n: 0, f: new Map() };
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
    const p = this.#p(), n = this.#len(vector), b = this.#scratch(8 + 4 * n);
    put(vector, (b >>> 2) + 2, 'the vector');
    if (w.pvw_add(p, b + 8, n, b)) throw this.#fail();
    heap();
    return u32[b >>> 2];
  }

  addBatch(vectors) {
    const p = this.#p(), d = this.#dim, flat = isFlat(vectors);
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
      heap();
      return u32.slice(ids >>> 2, (ids >>> 2) + n);
    } finally {
      w.free(b);
    }
  }

  #search(query, k, options, exact) {
    const p = this.#p(), n = this.#len(query);
    uint(k, 'k');
    const { ef = 0, filter, attributes = false } = checkOptions(options, ['ef', 'filter', 'attributes'], exact ? 'searchExact' : 'search');
    uint(ef, 'ef');
    if (typeof attributes !== 'boolean') throw bad('attributes must be true or false', attributes);
    const f = this.#filter(filter);
    // Room for min(k, live) hits: a search never returns more.
    const room = Math.min(k, w.pv_count(p) >>> 0);
    const b = this.#scratch(8 + 4 * n + 8 * room), q = b + 8, out = q + 4 * n;
    put(query, q >>> 2, 'the query');
    if (w.pvw_search(p, q, n, k, exact ? 0 : ef, exact, f, out, b)) throw this.#fail();
    heap();
    const ids = [], dists = [];
    for (let i = 0, c = u32[b >>> 2], o = out >>> 2; i < c; i++, o += 2) {
      ids.push(u32[o]);
      dists.push(f32[o + 1]);
    }
    // Keys and attributes after every hit is read: fetching them reuses the scratch.
    return ids.map((id, i) => this.#doc(p, id, { id }, attributes, dists[i]));
  }

  search(query, k, options) {
    return this.#search(query, k, options, 0);
  }

  searchExact(query, k, options) {
    return this.#search(query, k, options, 1);
  }

  delete(keyOrId) {
    const p = this.#p();
    if (w.pv_delete(p, this.#id(p, keyOrId))) throw this.#fail();
  }

  has(keyOrId) {
    const p = this.#p();
    if (typeof keyOrId === 'string') return possibleKey(keyOrId) && this.#lookup(p, keyOrId) >= 0;
    return Number.isInteger(keyOrId) && keyOrId >= 0 && keyOrId <= 0xffffffff && w.pv_contains(p, keyOrId) !== 0;
  }

  /**
   * get(id): the vector, as it has always been (an id is most often a
   * search hit's, whose key and attributes the search can return);
   * get(key): the whole document, or undefined when no document has the key.
   */
  get(keyOrId) {
    const p = this.#p();
    if (typeof keyOrId !== 'string') return this.#vector(p, uint(keyOrId, 'id'));
    const id = this.#lookup(p, keyOrId);
    if (id < 0) return undefined;
    return { key: keyOrId, id, vector: this.#vector(p, id), attributes: this.#attributes(p, id) };
  }

  #vector(p, id) {
    const d = this.#dim, b = this.#scratch(4 * d);
    if (w.pvw_get(p, id, b, d)) throw this.#fail();
    heap();
    return f32.slice(b >>> 2, (b >>> 2) + d);
  }

  // ---- documents: keys, attributes, filters ------------------------------

  upsert(doc) {
    return this.#upsert([doc], true)[0];
  }

  upsertBatch(docs) {
    if (!Array.isArray(docs)) throw bad('upsertBatch takes an array of documents such as { key, vector, attributes }', docs);
    return this.#upsert(docs, false);
  }

  /**
   * Everything JS can check is checked before WASM memory is touched: each
   * document's shape, key, vector length and attributes, naming the
   * document as C does (by key, else by position). Then one buffer holds
   * the pv_doc structs, the ids, the vectors and the strings, and C does
   * the rest, all or nothing.
   */
  #upsert(docs, one) {
    const p = this.#p(), d = this.#dim, n = docs.length, keys = new Array(n), attrs = new Array(n);
    let bytes = 28 * n + 4 * d * n;
    for (let i = 0; i < n; i++) {
      const doc = docs[i];
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
        throw bad(`${one ? 'the document' : `document ${i}`} must be an object such as { key, vector, attributes }`, doc);
      const { key, vector, attributes } = doc, name = docName(key, i, one ? 1 : n);
      for (const f of Object.keys(doc))
        if (!DOC_FIELDS.includes(f))
          throw new PocketVecError(INVALID, `${name} has an unknown field ${JSON.stringify(f)}; a document has key, vector and attributes`);
      if (key != null) bytes += (keys[i] = utf8Bytes(checkKey(key, `${name}: key`))).length;
      if (vector === undefined) throw new PocketVecError(INVALID, `${name} has no vector`);
      const len = lenOf(vector, `${name}: the vector`);
      if (len !== d) throw new PocketVecError(DIM, `${name}: vector has ${len} values, index expects ${d}`);
      bytes += (attrs[i] = encodeAttributes(attributes, `the attributes of ${name}`))?.length ?? 0;
    }
    // pv_doc structs (six words: key, key_len, vector, attributes,
    // attributes_len, flags; wasm/exports.c checks the layout), ids,
    // vectors, keys and attributes.
    const b = alloc(bytes || 1), ids = b + 24 * n;
    try {
      let v = ids + 4 * n, s = v + 4 * d * n;
      for (let i = 0; i < n; i++, v += 4 * d) {
        put(docs[i].vector, v >>> 2, `${docName(docs[i].key, i, one ? 1 : n)}: the vector`);
        const o = (b >>> 2) + 6 * i;
        u32[o + 2] = v;
        u32[o + 5] = ENCODED;
        for (const [at, str] of [[o, keys[i]], [o + 3, attrs[i]]]) {
          u32[at] = u32[at + 1] = 0;
          if (!str) continue;
          u8.set(str, s);
          u32[at] = s;
          u32[at + 1] = str.length;
          s += str.length;
        }
      }
      if (w.pvw_upsert_batch(p, b, n, d, ids)) throw this.#fail();
      heap();
      return u32.slice(ids >>> 2, (ids >>> 2) + n);
    } finally {
      w.free(b);
    }
  }

  setAttributes(keyOrId, attributes, options) {
    const p = this.#p(), id = this.#id(p, keyOrId);
    const { merge = false } = checkOptions(options, ['merge'], 'setAttributes');
    if (typeof merge !== 'boolean') throw bad('merge must be true or false', merge);
    const what = typeof keyOrId === 'string' ? docName(keyOrId) : `id ${id}`;
    const s = encodeAttributes(attributes, `the attributes of ${what}`), b = s ? this.#scratch(s.length) : 0;
    if (s) u8.set(s, b);
    if (w.pv_set_attributes(p, id, b, s ? s.length : 0, ENCODED | (merge ? 1 : 0))) throw this.#fail();
  }

  /** The number of live documents that match the filter; all of them without one. */
  count(filter) {
    const p = this.#p(), f = this.#filter(filter);
    if (!f) return w.pv_count(p) >>> 0;
    const b = this.#scratch(4);
    if (w.pv_find(p, f, 0, 0, b)) throw this.#fail();
    heap();
    return u32[b >>> 2];
  }

  /** The documents that match the filter (all without one), by ascending id, at most `limit`. */
  find(filter, options) {
    const p = this.#p(), f = this.#filter(filter);
    const { limit = Infinity } = checkOptions(options, ['limit'], 'find');
    if (limit !== Infinity) uint(limit, 'limit');
    return Array.from(this.#ids(p, f, limit), (id) => this.#doc(p, id, { id }, true));
  }

  /** The ids of the live documents that match f (0: all), ascending, at most `limit`. */
  #ids(p, f, limit = Infinity) {
    const cap = Math.min(limit, w.pv_count(p) >>> 0), b = this.#scratch(4 + 4 * cap);
    if (w.pv_find(p, f, b + 4, cap, b)) throw this.#fail();
    heap();
    return u32.slice((b >>> 2) + 1, (b >>> 2) + 1 + Math.min(cap, u32[b >>> 2]));
  }

  /**
   * The attribute paths live documents use: [{ path, types, count }], by
   * path (in the order of their UTF-8 bytes), as C's pv_fields lists them:
   * each path written as a filter names it, the types its values have
   * (arrays also the types of their elements that are no arrays or
   * objects), and how many documents have it. Here rather than in C, where
   * it would take the JSON printer into the module; it reads every
   * document, as C's does.
   */
  fields() {
    const p = this.#p(), found = new Map();
    for (const id of this.#ids(p, 0)) {
      const walk = (o, path) => {
        for (const [k, v] of Object.entries(o)) {
          const at = path ? `${path}.${segmentText(k)}` : segmentText(k, 1);
          let f = found.get(at), bits = typeBit(v);
          if (!f) found.set(at, (f = { types: 0, count: 0, last: -1 }));
          if (Array.isArray(v)) for (const e of v) if (typeof e !== 'object' || e === null) bits |= typeBit(e);
          f.types |= bits;
          if (f.last !== id) f.count++, (f.last = id);
          if (bits & 32) walk(v, at);
        }
      };
      walk(this.#attributes(p, id), '');
    }
    return [...found.keys()].sort(byCodePoints).map((path) => {
      const f = found.get(path);
      return { path, types: TYPES.filter((t, i) => f.types & (1 << i)), count: f.count };
    });
  }

  /**
   * o with the key of id (when the document has one), then the distance
   * (when given), then the attributes (when asked): the shape of hits and
   * of find()'s documents. Keys are left out, not undefined, so the hits
   * of indexes without documents are what they always were.
   */
  #doc(p, id, o, attributes, distance) {
    const b = this.#scratch(8);
    if (w.pv_get_key(p, id, b, b + 4)) throw this.#fail();
    heap();
    const [k, n] = [u32[b >>> 2], u32[(b >>> 2) + 1]];
    if (k) o.key = utf8At(k, n);
    if (distance !== undefined) o.distance = distance;
    if (attributes) o.attributes = this.#attributes(p, id);
    return o;
  }

  #attributes(p, id) {
    const b = this.#scratch(8);
    if (w.pv_get_attributes_encoded(p, id, b, b + 4)) throw this.#fail();
    heap();
    return decodeAttributes(u32[b >>> 2], u32[(b >>> 2) + 1]);
  }

  /** The id of a key (a string) or an id (a number); NOTFOUND for an unknown key. */
  #id(p, keyOrId) {
    if (typeof keyOrId !== 'string') return uint(keyOrId, 'id');
    const id = this.#lookup(p, keyOrId);
    // C words NOTFOUND without the key ("no document has this key"): say which.
    if (id < 0) throw new PocketVecError(NOTFOUND, `no document has the key ${JSON.stringify(keyOrId)}`);
    return id;
  }

  /** The id of the document with this key (checked first), or -1 if there is none. */
  #lookup(p, key) {
    const b = this.#scratch(4);
    const rc = withUtf8([checkKey(key, 'the key')], (s, n) => w.pv_lookup(p, s, n, b));
    if (rc === NOTFOUND) return -1;
    if (rc) throw this.#fail();
    heap();
    return u32[b >>> 2];
  }

  /**
   * The compiled filter of a filter string or object, 0 for none (no
   * filter, or one that selects everything). The last FILTERS texts
   * compiled stay compiled, so a search repeated with the same filter
   * does not parse it again.
   */
  #filter(filter) {
    const src = filterText(filter);
    if (!src) return 0;
    const cache = this.#h.f;
    let f = cache.get(src);
    if (f) {
      cache.delete(src);
      cache.set(src, f);
      return f;
    }
    const at = src.search(LONE);
    if (at >= 0) throw new PocketVecError(INVALID, `the filter is not valid Unicode: a lone surrogate at index ${at}`);
    const bytes = utf8Bytes(src), b = this.#scratch(4 + bytes.length);
    u8.set(bytes, b + 4);
    if (w.pv_filter_compile(this.#h.p, b + 4, bytes.length, b)) {
      const e = this.#fail(), off = w.pvw_error_offset(this.#h.p);
      heap();
      if (typeof filter === 'string') {
        // C counts bytes of UTF-8; a JS string is indexed by UTF-16 units.
        if (off >= 0 && off <= bytes.length) e.offset = utf8At(b + 4, off).length;
      } else {
        e.message += ` (the filter object reads: ${src.length > 200 ? `${src.slice(0, 200)}...` : src})`;
      }
      throw e;
    }
    heap();
    cache.set(src, (f = u32[b >>> 2]));
    if (cache.size > FILTERS) {
      const [oldest, g] = cache.entries().next().value;
      cache.delete(oldest);
      w.pv_filter_free(g);
    }
    return f;
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

  /**
   * The bytes of toBytes() as chunks of `size` bytes, never all at once.
   * Between chunks the generator holds no chunk buffer in WASM memory: each
   * chunk is read into a buffer that is copied out and freed before the
   * chunk is yielded. What it does hold is the C export (a few hundred
   * bytes: the layout and checksums), which ends when the generator
   * finishes, fails or is return()ed; a generator abandoned half-read is
   * garbage, and `ends` then ends its export. Rejected: ending the export
   * at each yield and beginning it again at the next chunk, since every
   * begin computes the checksums in a pass over the whole index.
   */
  exportChunks(size = CHUNK) {
    const held = { e: 0 }, it = this.#chunks(size, held);
    ends.register(it, held, held);
    return it;
  }

  async *#chunks(size, held) {
    if (!Number.isInteger(size) || size < 1) throw bad('chunk size must be a positive integer', size);
    const e = (held.e = this.#exportBegin(this.#p()));
    try {
      const n = w.pvw_export_size(e) >>> 0;
      for (let o = 0; o < n; o += size) {
        const len = Math.min(size, n - o), b = alloc(len);
        let chunk;
        try {
          this.#p(); // the consumer may have freed the index between chunks
          if (w.pvw_export_read(e, o, b, len)) throw this.#fail();
          heap();
          chunk = u8.slice(b, b + len);
        } finally {
          w.free(b);
        }
        yield chunk;
      }
    } finally {
      ends.unregister(held);
      held.e = 0;
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
   * Save: in Node to a file path, elsewhere to IndexedDB under a name; each
   * backend is crash-safe (src/storage/). The chunks are read as the
   * backend writes them.
   */
  async save(target, options) {
    this.#p();
    const file = useFiles(options);
    await (file ? checkPath : checkName)(target); // before anything is written
    try {
      await (file ? saveFile : saveIdb)(target, this.exportChunks());
    } catch (e) {
      throw storageError(`saving to ${file ? 'file' : 'IndexedDB name'} "${target}" failed`, e);
    }
  }

  /** Load what save() wrote (a file path in Node, a name in IndexedDB). */
  static async load(target, options) {
    if (!w) throw new PocketVecError(INVALID, 'call await init() before loading an index');
    const file = useFiles(options);
    await (file ? checkPath : checkName)(target);
    const sink = new Sink();
    try {
      await (file ? loadFile : loadIdb)(target, (c) => sink.add(asBytes(c)));
      return sink.finish();
    } catch (e) {
      sink.drop();
      throw storageError(`loading ${file ? 'file' : 'IndexedDB name'} "${target}" failed`, e, true);
    }
  }

  /** Names, sizes and save times of the indexes in IndexedDB. */
  static async list() {
    try {
      return await listIdb();
    } catch (e) {
      throw storageError('listing the indexes in IndexedDB failed', e);
    }
  }

  /** Delete an index from IndexedDB; true if there was one. */
  static async remove(name) {
    checkName(name);
    try {
      return await removeIdb(name);
    } catch (e) {
      throw storageError(`removing IndexedDB name "${name}" failed`, e);
    }
  }

  free() {
    const h = this.#h;
    if (!h.p) return;
    reclaim.unregister(h);
    release(h);
    h.p = h.b = h.n = 0;
  }
}

if (typeof Symbol.dispose === 'symbol') Index.prototype[Symbol.dispose] = Index.prototype.free;

/** The bit of fields()'s TYPES for a value's type (an array's, not its elements'). */
function typeBit(v) {
  return 1 << (v === null ? 0 : Array.isArray(v) ? 4 : TYPES.indexOf(typeof v));
}

/**
 * a before b (-1), after (1) or equal (0), comparing code points as C
 * compares UTF-8 bytes: UTF-16 units alone would put U+10000 and above
 * (two surrogates, 0xD800...) before U+E000 to U+FFFF.
 */
function byCodePoints(a, b) {
  for (let i = 0; ; i++) {
    const x = a.codePointAt(i) ?? -1, y = b.codePointAt(i) ?? -1;
    if (x !== y) return x < y ? -1 : 1;
    if (x < 0) return 0;
  }
}

// ---- loading bytes into WASM memory -------------------------------------------

/**
 * The options object of a call (undefined: {}), each of its names one of
 * `names`: a misspelt option (filters for filter) would otherwise be
 * ignored, and a search would quietly return unfiltered results.
 */
function checkOptions(options, names, call) {
  if (options == null) return {};
  if (typeof options !== 'object' || Array.isArray(options))
    throw bad(`the options of ${call} must be an object`, options);
  for (const k of Object.keys(options))
    if (!names.includes(k))
      throw new PocketVecError(INVALID, `unknown option ${JSON.stringify(k)} of ${call}; the options are ${names.join(', ')}`);
  return options;
}

/** Whether options choose the file backend (else IndexedDB); INVALID for another backend. */
function useFiles(options) {
  const b = options?.backend ?? (isNode() ? 'file' : 'indexeddb');
  if (b !== 'file' && b !== 'indexeddb') throw bad("backend must be 'file' or 'indexeddb'", b);
  return b === 'file';
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
