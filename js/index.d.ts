// SPDX-License-Identifier: MIT
// Types of index.js (the entry; the code is in src/) and of the pocketvec.js
// bundled from it; keep the two in step.

// Symbol.dispose for projects whose TypeScript lib predates it (as
// @types/node declares it): Index implements [Symbol.dispose] where the
// runtime has the symbol.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

// WebAssembly.Module and .Memory where the project's lib declares them (the
// DOM lib does; @types/node 20 does not), a plain object type otherwise.
type WasmClass<K extends string, Otherwise> = typeof globalThis extends {
  WebAssembly: { [P in K]: abstract new (...args: any[]) => infer T };
}
  ? T
  : Otherwise;
export type WasmModule = WasmClass<'Module', object>;
export type WasmMemory = WasmClass<'Memory', { readonly buffer: ArrayBuffer }>;

/** Status codes of the C library (include/pocketvec.h). */
export declare const ErrorCode: Readonly<{
  OK: 0;
  /** internal error: a bug in pocketvec */
  ERROR: 1;
  /** an allocation failed (WebAssembly memory could not grow); nothing was changed */
  NOMEM: 2;
  /** a bad argument: NaN/Inf or a value out of range (see Vector), zero
   * cosine vector, k/ef, options, a bad save/load target, wrong types. Every
   * invalid argument is INVALID or DIM, never a TypeError; the message names
   * the JS type of what was passed (`got string "384"`, `got number 123`). */
  INVALID: 3;
  /** a vector of the wrong dimension: checked before anything is copied */
  DIM: 4;
  /** no live vector has that id */
  NOTFOUND: 5;
  /** the index fails its invariants (check()) */
  CORRUPT: 6;
  VERSION: 7;
  /** the id space (2^32 - 1 ids) is used up */
  FULL: 8;
  /** the host's storage failed (a file, IndexedDB: quota full, permission,
   * disk): reserved by the C library for hosts such as this package. The
   * message says what was being done, `cause` holds the host's error.
   * Nothing saved before is lost. */
  IO: 9;
  /** a writer or callback asked to stop */
  ABORT: 10;
  /** the API was misused, e.g. an export read after the index changed */
  MISUSE: 11;
  /** a buffer too small, or an offset out of range */
  RANGE: 12;
  /** a save found the stored index changed since this index loaded or last
   * saved it (another tab, worker or process saved or removed it), or a new
   * index saved over an existing one: nothing was written. Load it again
   * and redo the change, or pass { overwrite: true }. */
  CONFLICT: 13;
}>;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Every failure of the library. `code` is the C status code, `message` the
 * library's sentence (pv_errmsg), e.g. "the vector: element 17 is NaN".
 * A failed call changes nothing: the index keeps working.
 */
export declare class PocketVecError extends Error {
  constructor(code: number, message: string, options?: { cause?: unknown });
  readonly name: 'PocketVecError';
  readonly code: ErrorCodeValue;
}

/** What init() resolves to. */
export interface ModuleInfo {
  /** library version, "MAJOR.MINOR.PATCH" */
  version: string;
  /** distance kernels in use: "simd128" */
  kernels: string;
  /** the module's memory, shared by all indexes: to watch its size (do not write to it) */
  memory: WasmMemory;
}

/**
 * Load and instantiate pocketvec.wasm. Idempotent: later calls return the
 * first call's promise (a failed init may be retried). With no argument, the
 * pocketvec.wasm next to this module: read from disk under Node, fetched
 * elsewhere (instantiateStreaming, falling back to bytes when the server
 * sends the wrong MIME type). A string is resolved against this module's URL.
 */
export declare function init(
  source?: string | URL | Response | ArrayBuffer | ArrayBufferView | WasmModule,
): Promise<ModuleInfo>;

export type Metric = 'cosine' | 'l2' | 'dot';
export type Quantization = 'f32' | 'sq8' | 'binary' | 'binary-f32';

export interface IndexOptions {
  /** 1 .. 65536; required */
  dim: number;
  /**
   * Distances, smaller is closer. cosine: 1 - cos(a, b) in [0, 2] (vectors are
   * normalised on insert); l2: squared Euclidean; dot: -(a . b).
   * Default 'cosine'.
   */
  metric?: Metric;
  /**
   * f32: 4 bytes per dimension, exact; sq8: 1 byte per dimension + 16 per vector.
   * binary: 1 bit per dimension (signs around the vectors' mean) to walk the graph,
   * plus an sq8 copy that rescores the walk's ef candidates (results and distances
   * are sq8's): faster searches for dim / 8 + 16 more bytes per vector; at low
   * dimensions raise ef for the same recall. binary-f32: the same with an f32 copy.
   * Default 'f32'.
   */
  quantization?: Quantization;
  /** links per node on upper layers (layer 0 keeps 2m), 2 .. 128; default 16 */
  m?: number;
  /** 1 .. 65536; default 200 (raised to m if below) */
  efConstruction?: number;
  /** 1 .. 65536; default 64; used when search() gets no ef */
  efSearch?: number;
  /** random levels: same seed + same inserts = same graph, also natively. A 64-bit value. */
  seed?: number | bigint;
  /** slots to reserve up front (a hint; default 0 = grow as needed) */
  capacity?: number;
  /** compact automatically when deleted slots exceed this fraction; 0 disables; default 0.3 */
  compactThreshold?: number;
  /**
   * How documents' text is tokenized for full-text search (docs/TEXT.md),
   * queries too; saved with the index. stem: English (Porter2) stemming;
   * stopwords: English stopwords are not indexed. Both off by default.
   */
  text?: { stem?: boolean; stopwords?: boolean };
}

export interface Hit {
  id: number;
  /** the document's key; absent for a vector added without one */
  key?: string;
  distance: number;
  /** with { attributes: true }: the document's attributes ({} when it has none) */
  attributes?: Attributes;
}

/** An attribute value: what JSON carries. */
export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [name: string]: AttributeValue };
/** A document's attributes: a plain object, at most 64 KB encoded, nested at most 64 levels. */
export type Attributes = { [name: string]: AttributeValue };

/**
 * A filter (docs/FILTER.md): the text `tags contains "work" and created >=
 * 1704067200`, or the same as an object, MongoDB style:
 * `{ tags: { $contains: 'work' }, created: { $gte: 1704067200 } }`.
 * A syntax error, an unknown `$` operator or a bad value is INVALID (the
 * message gives the position in the text). A field no document has is no
 * error: it matches nothing (fields() lists the fields there are).
 */
export type Filter = string | FilterObject;
export type Scalar = string | number | boolean | null;
export interface FieldOperators {
  $eq?: Scalar; $ne?: Scalar; $gt?: number | string; $gte?: number | string; $lt?: number | string;
  $lte?: number | string; $in?: Scalar[]; $nin?: Scalar[]; $contains?: Scalar; $exists?: boolean;
  $not?: FieldOperators;
}
export interface FilterObject {
  $and?: FilterObject[];
  $or?: FilterObject[];
  $not?: FilterObject;
  [path: string]: Scalar | FieldOperators | FilterObject[] | FilterObject | undefined;
}

export interface SearchOptions {
  /** beam width; 0 or absent: the index's efSearch; raised to k if below; at most 65536 */
  ef?: number;
  /** only documents that match; the search still returns min(k, matching) hits */
  filter?: Filter;
  /** true: each hit carries its document's attributes */
  attributes?: boolean;
}

export interface ExactSearchOptions {
  filter?: Filter;
  attributes?: boolean;
}

/**
 * A text or hybrid query: search({ text }, k) ranks the documents holding
 * any of the words by BM25; search({ vector, text }, k) runs both
 * retrievers under the same filter and fuses them.
 */
export interface TextQuery {
  text?: string;
  vector?: Vector;
}

export interface TextSearchOptions extends SearchOptions {
  /** true: the last word also matches the terms it begins (search as you type), up to 64 of them */
  prefix?: boolean;
  /**
   * Hybrid only. 'rrf' (default): reciprocal-rank fusion, sum of 1 / (60 + rank);
   * { rrf: c } with another constant; { vector: 0.7, text: 0.3 }: weighted sum of
   * each side's scores normalised to 0..1 over its own list.
   */
  fusion?: 'rrf' | { rrf: number } | { vector?: number; text?: number };
  /** BM25's k1 (default 1.2, >= 0) and b (default 0.75, 0 .. 1) */
  k1?: number;
  b?: number;
  /** hybrid: hits taken from each side before fusing; default max(k, 50) */
  window?: number;
}

export interface TextHit {
  id: number;
  key?: string;
  /** text only: BM25; hybrid: the fused score; higher is better */
  score: number;
  /** with a vector in the query: its distance, when the vector side returned the document */
  distance?: number;
  /** hybrid: the BM25 score, when the text side returned the document */
  textScore?: number;
  attributes?: Attributes;
}

/**
 * A document to upsert. Only these four fields; anything else is INVALID.
 */
export interface DocumentInput {
  /** 1 to 1024 bytes of UTF-8, unique among live documents; absent: a document without a key */
  key?: string;
  vector: Vector;
  /**
   * Values as JSON carries them: toJSON is called (a Date becomes its ISO
   * string), members that are undefined are left out, undefined in an array
   * is null. A function, symbol, bigint, NaN, infinity, cycle, lone
   * surrogate or non-plain object (a Map, a class instance) is INVALID,
   * naming its path. {} and null are no attributes.
   */
  attributes?: Attributes | null;
  /** indexed for full-text search (docs/TEXT.md); not stored: keep it in attributes to get it back */
  text?: string | null;
}

/** A stored document, as get(key) returns it. */
export interface Document {
  key: string;
  id: number;
  vector: Float32Array;
  attributes: Attributes;
}

/** A document that matched a filter, as find() returns it. */
export interface FoundDocument {
  id: number;
  /** absent for a document without a key */
  key?: string;
  attributes: Attributes;
}

/** An attribute path live documents use, as fields() reports it. */
export interface FieldInfo {
  /** written as a filter names it (a member whose name is no plain name in backticks) */
  path: string;
  /** 'string' 'number' 'boolean' 'null' 'object' 'array'; the types of an array's scalar elements are listed too */
  types: string[];
  /** live documents that have the path */
  count: number;
}

/** Where save() and load() keep an index. */
export interface StorageOptions {
  /**
   * 'file' (a path; Node), 'indexeddb' (a name; browsers and workers) or
   * 'opfs' (a name in the Origin Private File System; browsers and
   * workers: appends written in place through synchronous access handles,
   * on the main thread by a small worker the package starts from a Blob
   * URL, or where a Content-Security-Policy forbids that, through a
   * writable stream, which copies the file).
   * Default: 'file' in Node, 'indexeddb' elsewhere.
   */
  backend?: 'file' | 'indexeddb' | 'opfs';
}

/** What save() takes: where, and whether it may replace what it did not load. */
export interface SaveOptions extends StorageOptions {
  /**
   * Replace the stored index even if it is not the version this index
   * loaded or last saved (or this index never loaded it). Default false:
   * such a save fails with CONFLICT, so that no write is lost silently.
   */
  overwrite?: boolean;
  /**
   * When this index was loaded from the target (or last saved whole to it),
   * a save appends one change log record (the changes since its last save)
   * instead of writing the whole index, unless replaying the log at load
   * would cost more than this share of loading the index itself. A number
   * (default 0.1); true: always write the whole index (a checkpoint);
   * false: always append when possible.
   */
  checkpoint?: boolean | number;
}

/** What Index.watch() reports: a save or remove of the target finished. */
export interface SavedEvent {
  /** the name (IndexedDB) or path (file) watched */
  name: string;
  /** bytes of the version now stored; 0 when removed */
  size: number;
  savedAt: Date;
  /** true when the target was removed */
  removed: boolean;
}

/** An index saved in IndexedDB, as Index.list() reports it. */
export interface SavedIndex {
  name: string;
  /** bytes */
  size: number;
  savedAt: Date;
}

/** Bytes: a Uint8Array, any other typed array or DataView, or an ArrayBuffer. */
export type Bytes = ArrayBufferView | ArrayBuffer;

/**
 * A vector: a Float32Array, or any array-like of numbers (converted to
 * float32, as Float32Array.from would; BigInt and Symbol elements, and
 * BigInt64Array / BigUint64Array, are INVALID). Its length must be the
 * index's dim (else DIM, checked before anything is copied).
 *
 * Values: every element must be finite, and under 'l2' and 'dot' at most
 * sqrt(FLT_MAX / (16 * dim)) in magnitude (FLT_MAX = 3.4028235e38: about
 * 1.2e18 at dim 16, 1.7e17 at 768), so that no distance overflows; larger
 * values are INVALID naming the element. 'cosine' takes any finite value
 * (vectors are normalised in double first). The same holds for queries.
 * Embeddings are far inside either limit.
 */
export type Vector = Float32Array | ArrayLike<number>;

/**
 * An HNSW index living in WebAssembly memory. Not thread-safe; each worker
 * has its own module instance. Call free() (or use `using`) when done; an
 * index that is garbage-collected without free() is freed then.
 */
export declare class Index {
  /** Throws PocketVecError (INVALID) on bad options or before init(). */
  constructor(options: IndexOptions);

  /** Add one vector (copied); returns its id. Ids are never reused. */
  add(vector: Vector): number;
  /**
   * Add many vectors, all or nothing: an array of vectors, or one flat
   * Float32Array of n * dim values. Returns the ids in order.
   */
  addBatch(vectors: Vector[] | Float32Array): Uint32Array;
  /**
   * Approximate k nearest neighbours, ascending by distance (ties by id).
   * k = 0 or an empty index give []. With a filter, min(k, matching live
   * documents) hits, at any selectivity. Unknown options are INVALID.
   */
  search(query: Vector, k: number, options?: SearchOptions): Hit[];
  /** Text (BM25) or hybrid search, best first by score (docs/TEXT.md). */
  search(query: TextQuery, k: number, options?: TextSearchOptions): TextHit[];
  /** Exact k nearest neighbours (among those matching a filter) by brute force; same shape as search(). */
  searchExact(query: Vector, k: number, options?: ExactSearchOptions): Hit[];
  /** The same by brute force on both sides (the reference of the pruned text search). */
  searchExact(query: TextQuery, k: number, options?: Omit<TextSearchOptions, 'ef'>): TextHit[];
  /**
   * Add a document, or replace the live document with the same key: the
   * replacement gets a new id and the old id leaves results at once (ids are
   * never reused). Returns the new id. Bad input is INVALID (DIM for the
   * vector's length) and changes nothing.
   */
  upsert(document: DocumentInput): number;
  /**
   * Upsert many documents, all or nothing; an error names the document by
   * key (or position). A key repeated in the batch: the last one wins.
   */
  upsertBatch(documents: DocumentInput[]): Uint32Array;
  /**
   * Replace a live document's attributes, or with { merge: true } merge
   * into them at the top level ({ ...old, ...attributes }); the vector and
   * id stay. NOTFOUND for a key or id with no live document.
   */
  setAttributes(keyOrId: string | number, attributes: Attributes | null, options?: { merge?: boolean }): void;
  /** Delete a document by key (a string) or by id (a number); NOTFOUND if none is live. */
  delete(keyOrId: string | number): void;
  /** Whether a live document has this key (a string) or id (a number). */
  has(keyOrId: string | number): boolean;
  /** The live document with this key, or undefined. */
  get(key: string): Document | undefined;
  /** A copy of the stored vector of an id: unit length under cosine, decoded under sq8. Throws NOTFOUND. */
  get(id: number): Float32Array;
  /** How many live documents match the filter (absent: all). */
  count(filter?: Filter): number;
  /** The live documents that match, by ascending id, at most limit of them (default: all). */
  find(filter?: Filter, options?: { limit?: number }): FoundDocument[];
  /** The attribute paths live documents use, with their types, sorted by path. */
  fields(): FieldInfo[];
  /** Reclaim the slots of deleted vectors now; ids do not change. */
  compact(): void;
  /** Validate every graph invariant; throws CORRUPT naming the first violation. */
  check(): void;
  /**
   * The index in the pocketvec format (docs/FORMAT.md): versioned and
   * checksummed, the same bytes the C library and the CLI read and write.
   */
  toBytes(): Uint8Array;
  /**
   * The bytes of toBytes() in chunks of `size` bytes (default 4 MiB), so a
   * large index moves without one copy of the whole. The bytes are the
   * index as it was when exportChunks() was called: if it is changed (or
   * freed) before the last chunk is read, the chunks not read yet are first
   * copied out of WebAssembly memory (once, into JS memory; NOMEM for the
   * change, which is then not made, if even that cannot be had).
   *
   * Memory: each chunk is read through a WebAssembly buffer of at most
   * 4 MiB, copied out into the Uint8Array it yields and the buffer freed
   * before the yield (at the 4 GiB memory limit, where no such buffer can
   * be had, through 64 KiB the module always has: an index that can no
   * longer grow can still be exported and saved), so a
   * generator holds no chunk buffer between chunks, whether it is read on,
   * dropped or forgotten. What it holds until it ends is the export's state
   * in WebAssembly memory (a few hundred bytes: the layout and checksums).
   * That is released when the generator finishes, throws, or is closed
   * (`return()`, a `break` out of `for await`), and otherwise when the
   * generator is garbage-collected (a FinalizationRegistry), so an
   * abandoned generator leaks nothing for good.
   */
  exportChunks(size?: number): AsyncGenerator<Uint8Array, void, undefined>;
  /**
   * Save: in Node to a file path (a temporary file, synced, then renamed over
   * the old one, so a crash never damages it); in browsers to IndexedDB under
   * a name, in chunks, crash-safe (the previous version stays current until
   * the new one is complete).
   *
   * A snapshot: what is saved is the index as it was when save() was called;
   * adds, upserts, deletes (even free()) while the save runs neither fail it
   * nor get into it.
   *
   * No lost writes: the saves of one target are serialised (a Web Lock per
   * name in browsers; a lock file PATH.lock, also taken by the CLI, for
   * files), and a save fails with CONFLICT, writing nothing, when the
   * target is not the version this index loaded or last saved: another tab
   * or process saved or removed it meanwhile, or this index never loaded it
   * and it exists. { overwrite: true } replaces it anyway.
   *
   * The target is checked before anything is written: anything but a
   * non-empty string (a path also without NUL, not ending in a separator and
   * not an existing directory) is INVALID, as is a backend other than 'file'
   * or 'indexeddb'. If the save fails later (a write, the sync, the rename,
   * a full quota), it is IO, and what it wrote is removed at once (a process
   * or tab killed mid-save leaves files or chunks that the next save of the
   * target removes); the stored version is untouched. A full IndexedDB quota
   * says what the save needed and what the browser reports available.
   */
  save(target: string, options?: SaveOptions): Promise<void>;
  /**
   * An index from bytes (copied once into WebAssembly memory, where its
   * vectors are then used in place). The bytes are checked: damage gives
   * PocketVecError CORRUPT, a newer format VERSION.
   */
  static fromBytes(bytes: Bytes): Index;
  /** An index from an (async) iterable of byte chunks, e.g. exportChunks(); INVALID if chunks is not iterable. */
  static importChunks(chunks: AsyncIterable<Bytes> | Iterable<Bytes>): Promise<Index>;
  /**
   * An index from a fetch() Response, streamed into WebAssembly memory as
   * the body arrives (the file is never whole in JavaScript: the peak is
   * the index plus one piece of the body). An uncompressed response's
   * Content-Length sizes the buffer at once. IO if the response is not ok
   * or its body fails; CORRUPT if it stops early; INVALID if response is
   * not a Response or its body was already read. Nothing stays allocated
   * after a failure.
   */
  static fromResponse(response: Response): Promise<Index>;
  /**
   * Load what save() wrote: a file path in Node, a name in IndexedDB.
   * NOTFOUND if there is none; the target is checked as save() checks it.
   */
  static load(target: string, options?: StorageOptions): Promise<Index>;
  /**
   * Calls callback after every save or remove of target that finishes: in
   * IndexedDB from any tab or worker of the origin, this one included (a
   * BroadcastChannel); for a file from any process (fs.watch on its
   * directory; directories of the path that do not exist yet are waited
   * for). A tab that is told of a newer version can load it. Returns
   * a function that stops watching.
   */
  static watch(target: string, callback: (event: SavedEvent) => void, options?: StorageOptions): () => void;
  /** The indexes saved in IndexedDB, or with { backend: 'opfs' } in the Origin Private File System. */
  static list(options?: { backend?: 'indexeddb' | 'opfs' }): Promise<SavedIndex[]>;
  /** Delete an index from IndexedDB (or the OPFS); resolves true if there was one. INVALID unless name is a non-empty string. */
  static remove(name: string, options?: { backend?: 'indexeddb' | 'opfs' }): Promise<boolean>;

  /** Release the index's memory. Safe to call twice; other methods throw afterwards. */
  free(): void;
  [Symbol.dispose](): void;

  /** live vectors */
  readonly size: number;
  /** deleted vectors whose slots are not yet reclaimed by compaction */
  readonly deletedCount: number;
  readonly dim: number;
  readonly metric: Metric;
  readonly quantization: Quantization;
  /** bytes the index holds in WebAssembly memory */
  readonly memoryUsage: number;
}
