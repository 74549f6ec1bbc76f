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
  /** no live vector has that id, or no live document that key */
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
  /**
   * For a syntax error in a filter string: where in the string (an index,
   * as for String#slice; the message counts UTF-8 bytes). Else absent.
   */
  readonly offset?: number;
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
export type Quantization = 'f32' | 'sq8';

export interface IndexOptions {
  /** 1 .. 65536; required */
  dim: number;
  /**
   * Distances, smaller is closer. cosine: 1 - cos(a, b) in [0, 2] (vectors are
   * normalised on insert); l2: squared Euclidean; dot: -(a . b).
   * Default 'cosine'.
   */
  metric?: Metric;
  /** f32: 4 bytes per dimension, exact; sq8: 1 byte per dimension + 16 per vector. Default 'f32'. */
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
}

/**
 * A JSON value as attributes hold it: strings, finite numbers, booleans,
 * null, arrays and plain objects. Anything else (functions, symbols,
 * BigInts, NaN and infinities, undefined in an array, Dates, Maps, typed
 * arrays, class instances, cycles, lone surrogates) is INVALID, naming the
 * path, rather than changed as JSON.stringify would. A member that is
 * undefined is left out, as JSON.stringify and spreads leave it out.
 */
export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [name: string]: AttributeValue };

/**
 * A document's attributes: a plain object of JSON values, at most 64
 * levels deep and 64 KiB once encoded (compactly: about the size of its
 * JSON text). Store a date as a number (date.getTime(), or seconds) or an
 * ISO string, and compare it as such in filters.
 */
export type Attributes = { [name: string]: AttributeValue };

/** A document to upsert. */
export interface Doc<A extends Attributes = Attributes> {
  /**
   * The user's name for the document, unique among live documents: a string
   * of 1 to 1024 UTF-8 bytes (no lone surrogates). Upserting a key that a
   * live document has replaces that document. Absent (or null): a document
   * without a key, which only its id names.
   */
  key?: string | null;
  /** The vector (see Vector); its length must be dim. */
  vector: Vector;
  /** Absent or null: none (an empty object). */
  attributes?: A | null;
  /**
   * Ignored, so that a document get() returned can be upserted again: an
   * upsert always gives the document a new id.
   */
  id?: number;
}

/** A document as get(key) returns it. */
export interface StoredDoc<A extends Attributes = Attributes> {
  key: string;
  id: number;
  /** As get(id) returns it: unit length under cosine, decoded under sq8. */
  vector: Float32Array;
  /** {} for a document without attributes. */
  attributes: A;
}

/** A document as find() returns it. */
export interface Found<A extends Attributes = Attributes> {
  id: number;
  /** Absent for a document without a key (added with add(), or upserted without one). */
  key?: string;
  attributes: A;
}

/** One search result. */
export interface Hit<A extends Attributes = Attributes> {
  id: number;
  /**
   * Absent (not an own property) for a document without a key, so an
   * index of plain vectors gives { id, distance } as it always has.
   */
  key?: string;
  distance: number;
  /** Present when the search asked for `attributes: true`. */
  attributes?: A;
}

/** A scalar a filter compares with. */
export type FilterValue = string | number | boolean | null;

/**
 * The conditions on one field of the object form of a filter. Several
 * operators must all hold. A comparison with a field the document lacks,
 * or whose value has another type, is false (so $ne and $nin do not match
 * documents without the field, unlike MongoDB: use $exists for those).
 */
export interface FieldFilter {
  $eq?: FilterValue;
  $ne?: FilterValue;
  $gt?: FilterValue;
  $gte?: FilterValue;
  $lt?: FilterValue;
  $lte?: FilterValue;
  /** the field equals one of these */
  $in?: FilterValue[];
  /** the field exists, is a scalar, and equals none of these */
  $nin?: FilterValue[];
  /** an array field has an element equal to it, or a string field contains it as a substring */
  $contains?: FilterValue;
  /** whether the field is present (with any value, null included) */
  $exists?: boolean;
  /** not all of these conditions hold: { $not: { $gt: 5 } } (operators only, as in MongoDB) */
  $not?: FieldFilter;
}

/**
 * The object form of a filter, in the style of MongoDB and Pinecone:
 *
 *     { tags: { $contains: 'work' }, created: { $gte: 1704067200 } }
 *
 * Each member is a field (a dotted name reaches into nested objects:
 * 'author.name') with a value (meaning $eq) or a FieldFilter; several
 * members must all hold. $and and $or take non-empty arrays of filters
 * (an element {} is true), $not one non-empty filter. {} selects every
 * document. It is translated into the text form as docs/FILTER.md writes
 * the translation, so it selects the same documents; an unknown `$`
 * operator is INVALID, naming it, and so is a value of another kind than
 * these (undefined included: a condition is never silently dropped).
 */
export type FilterObject = {
  $and?: FilterObject[];
  $or?: FilterObject[];
  $not?: FilterObject;
} & {
  [field: string]: FilterValue | FieldFilter | FilterObject | FilterObject[] | undefined;
};

/**
 * A filter: the text form of docs/FILTER.md in the repository, e.g.
 * `tags contains "work" and created >= 1704067200` (compiled by the
 * library; a syntax error is INVALID with its position in the message and,
 * as an index into the string, in the error's `offset`), or the object form
 * (FilterObject). null, undefined, '' and {} select every document. The
 * text may be at most 64 KiB (UTF-8) and nest 64 levels ("(" and "not"
 * count one each): an object with a long $in list can reach the first. An
 * index keeps the last few filters it compiled, so repeating one is cheap.
 */
export type Filter = string | FilterObject;

export interface SearchOptions {
  /** beam width; 0 or absent: the index's efSearch; raised to k if below; at most 65536 (searchExact ignores it) */
  ef?: number;
  /**
   * Only documents that match. The search still returns min(k, matches)
   * hits: when the graph walk finds too few that match, it falls back to
   * brute force over the matches.
   */
  filter?: Filter | null;
  /** Include each hit's attributes. Default false. */
  attributes?: boolean;
}

export interface FindOptions {
  /** At most this many documents, the lowest ids first. Default: all. */
  limit?: number;
}

export interface SetAttributesOptions {
  /**
   * false (the default): the attributes become these. true: these are
   * merged into the present ones, as { ...old, ...these } (top level only;
   * a member set to null stays, as null).
   */
  merge?: boolean;
}

/** An attribute path that live documents use, as fields() lists it. */
export interface FieldInfo {
  /** dotted: 'author.name' */
  path: string;
  /**
   * The JSON types its values have, in this order: 'null', 'boolean',
   * 'number', 'string', 'array', 'object'. For an array, the types of its
   * scalar elements are listed too: ['string', 'array'] for tags: ['a'].
   * Members of objects are fields of their own ('author.name'); members of
   * objects inside arrays are not listed (filters do not reach into arrays).
   */
  types: string[];
  /** how many live documents have it */
  count: number;
}

/** Where save() and load() keep an index. */
export interface StorageOptions {
  /**
   * 'file' (a path; Node) or 'indexeddb' (a name; browsers and workers).
   * Default: 'file' in Node, 'indexeddb' elsewhere.
   */
  backend?: 'file' | 'indexeddb';
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
 *
 * Every vector has an id, a number. A document is a vector with, optionally,
 * a key (a string of the user's) and attributes (JSON) that filters select
 * on. Where a method takes `keyOrId`, a string is a key and a number an id.
 * A, the type of the attributes, is for TypeScript only: nothing checks it.
 */
export declare class Index<A extends Attributes = Attributes> {
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
   * Add a document, or replace the live document with the same key (its id
   * is deleted and it leaves results at once); returns the new id. Ids are
   * never reused. INVALID names what is wrong: a key that is not a string
   * (`the document: key must be a string, got number 5`), empty or longer
   * than 1024 bytes; attributes JSON cannot carry as they are (naming the
   * path); a bad value in the vector. DIM for a vector of the wrong length.
   * Nothing changes on error.
   */
  upsert(doc: Doc<A>): number;
  /**
   * Upsert many documents, all or nothing: every one is checked before any
   * change, and an error names the document by key (`document "note-7":
   * vector has 383 values, index expects 384`), else by position. When a
   * key appears more than once the last one wins, and each of its
   * positions gets that one's id. Returns the ids in order.
   */
  upsertBatch(docs: Doc<A>[]): Uint32Array;
  /**
   * Approximate k nearest neighbours, ascending by distance (ties by id),
   * among the documents that match options.filter (all without one): min(k,
   * matches) hits. k = 0 or an empty index give [].
   */
  search(query: Vector, k: number, options?: SearchOptions): Hit<A>[];
  /** Exact k nearest neighbours by brute force; same options (ef ignored) and shape as search(). */
  searchExact(query: Vector, k: number, options?: SearchOptions): Hit<A>[];
  /** Live documents that match the filter; without one, all (as size). */
  count(filter?: Filter | null): number;
  /** Live documents that match the filter (all without one), by ascending id, with their keys and attributes. */
  find(filter?: Filter | null, options?: FindOptions): Found<A>[];
  /** The attribute paths live documents use, with their types and counts, sorted by path. */
  fields(): FieldInfo[];
  /**
   * Replace a document's attributes, or merge into them ({ merge: true });
   * the vector and the id stay. null: none (with merge, no change).
   * NOTFOUND for an unknown key or id; INVALID as upsert() for the attributes.
   */
  setAttributes(keyOrId: string | number, attributes: A | Partial<A> | null, options?: SetAttributesOptions): void;
  /**
   * Delete a document by key, or a vector by id; throws NOTFOUND for an
   * unknown key (`no document has the key "x"`) or an unknown or already
   * deleted id.
   */
  delete(keyOrId: string | number): void;
  /** Whether a live document has this key, or this id is live; false for anything else. */
  has(keyOrId: string | number): boolean;
  /**
   * get(key): the document with this key, or undefined when there is none
   * (INVALID for a key no document can have: empty, too long).
   * get(id): the stored vector only, as in versions without documents (a
   * hit's key and attributes come with the search: { attributes: true });
   * NOTFOUND for an unknown or deleted id. Vectors are copies: unit length
   * under cosine, decoded under sq8.
   */
  get(key: string): StoredDoc<A> | undefined;
  get(id: number): Float32Array;
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
   * large index moves without one copy of the whole. Throws if the index
   * changes or is freed while the chunks are being read.
   *
   * Memory: each chunk is read into a WebAssembly buffer, copied out into
   * the Uint8Array it yields and the buffer freed before the yield, so a
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
   * The target is checked before anything is written: anything but a
   * non-empty string (a path also without NUL, not ending in a separator and
   * not an existing directory) is INVALID, as is a backend other than 'file'
   * or 'indexeddb'. If the save fails later (a write, the sync, the rename),
   * it is IO and the temporary file is removed; the old file is untouched.
   */
  save(target: string, options?: StorageOptions): Promise<void>;
  /**
   * An index from bytes (copied once into WebAssembly memory, where its
   * vectors are then used in place), with its keys and attributes. The
   * bytes are checked: damage gives PocketVecError CORRUPT, a newer format
   * VERSION.
   */
  static fromBytes<A extends Attributes = Attributes>(bytes: Bytes): Index<A>;
  /** An index from an (async) iterable of byte chunks, e.g. exportChunks(); INVALID if chunks is not iterable. */
  static importChunks<A extends Attributes = Attributes>(chunks: AsyncIterable<Bytes> | Iterable<Bytes>): Promise<Index<A>>;
  /**
   * Load what save() wrote: a file path in Node, a name in IndexedDB.
   * NOTFOUND if there is none; the target is checked as save() checks it.
   */
  static load<A extends Attributes = Attributes>(target: string, options?: StorageOptions): Promise<Index<A>>;
  /** The indexes saved in IndexedDB. */
  static list(): Promise<SavedIndex[]>;
  /** Delete an index from IndexedDB; resolves true if there was one. INVALID unless name is a non-empty string. */
  static remove(name: string): Promise<boolean>;

  /** Release the index's memory. Safe to call twice; other methods throw afterwards. */
  free(): void;
  [Symbol.dispose](): void;

  /** live vectors (documents included) */
  readonly size: number;
  /** deleted vectors whose slots are not yet reclaimed by compaction */
  readonly deletedCount: number;
  readonly dim: number;
  readonly metric: Metric;
  readonly quantization: Quantization;
  /** bytes the index holds in WebAssembly memory */
  readonly memoryUsage: number;
}
