// SPDX-License-Identifier: MIT
// Errors: every failure of the package is a PocketVecError whose code is a
// status code of the C library (include/pocketvec.h), with the library's
// message or one written here. Also the checks JS makes of arguments
// before C sees them, and the translation of the host's storage errors.

/**
 * The C library's status codes by name. The numbers are the library's
 * public ABI, so JS may copy them. IO is reserved by C for hosts: here,
 * the storage backends (src/storage/).
 */
export const ErrorCode = Object.freeze({
  OK: 0, ERROR: 1, NOMEM: 2, INVALID: 3, DIM: 4, NOTFOUND: 5, CORRUPT: 6, VERSION: 7, FULL: 8,
  IO: 9, ABORT: 10, MISUSE: 11, RANGE: 12, CONFLICT: 13,
});

export class PocketVecError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'PocketVecError';
    this.code = code;
  }
}

/**
 * What v is, for a message: its JS type, then briefly its value, so that
 * the string "384" and the number 384 read differently: `number 123`,
 * `string "384"`, `an empty string`, `bigint 5n`, `symbol Symbol(x)`,
 * `undefined`, `null`, `an array of length 3`, `a Float64Array of length
 * 5`, `an ArrayBuffer of 8 bytes`, `an object {a, b}`, `a Map`. Never
 * throws, whatever v is (a Proxy, an object without a prototype).
 */
export function describe(v) {
  const t = typeof v;
  if (t === 'string') return v ? `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}` : 'an empty string';
  if (t === 'bigint') return `bigint ${v}n`;
  if (t === 'symbol' || t === 'number' || t === 'boolean') return `${t} ${String(v)}`;
  if (v == null) return String(v);
  try {
    if (t === 'function') return `function ${v.name || '(anonymous)'}`;
    const tag = Object.prototype.toString.call(v).slice(8, -1), a = /^[AEIO]/i.test(tag) ? 'an' : 'a'; // "a Uint8Array", as it is said
    if (Array.isArray(v)) return `an array of length ${v.length}`;
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return `${a} ${tag} of length ${v.length}`;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return `${a} ${tag} of ${v.byteLength} bytes`;
    if (tag !== 'Object') return `${a} ${tag}`;
    const keys = Object.keys(v);
    return `an object {${keys.slice(0, 4).join(', ')}${keys.length > 4 ? ', ...' : ''}}`;
  } catch {
    return `a ${t}`;
  }
}

/** An INVALID error: what the argument must be, then what it was (describe). */
export const bad = (what, v) => new PocketVecError(ErrorCode.INVALID, `${what}, got ${describe(v)}`);

/** v if it is an integer that fits a uint32; else throws INVALID naming it. */
export function uint(v, name) {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw bad(`${name} must be an integer from 0 to 4294967295`, v);
  return v;
}

/** Whether v is a typed array of bigints, which no vector can be. */
const bigints = (v) => v instanceof BigInt64Array || v instanceof BigUint64Array;

/**
 * The length of the vector v (a typed array of numbers or an array-like
 * with a length from 0 to 2^53 - 1); else throws INVALID. Only the length
 * is read: the caller checks it against dim before copying anything.
 */
export function lenOf(v) {
  if (typeof v !== 'object' || v === null || !Number.isSafeInteger(v.length) || v.length < 0 || bigints(v))
    throw bad('a vector must be a Float32Array or an array of numbers', v);
  return v.length;
}

/** Whether v is a batch in one flat typed array of numbers (not a DataView). */
export const isFlat = (v) => ArrayBuffer.isView(v) && !(v instanceof DataView) && !bigints(v);

/**
 * The INVALID error for a vector that TypedArray.set could not convert
 * (err): `name: element i is bigint 1n, not a number` for the first
 * element that is a BigInt or a Symbol (vector `row` of a flat batch of
 * rows of `dim`, when dim is given). Called only after a failure, so the
 * scan costs nothing on the way that works.
 */
export function notNumbers(v, name, err, dim = 0) {
  let i = 0, n = v.length;
  try {
    while (i < n && typeof v[i] !== 'bigint' && typeof v[i] !== 'symbol') i++;
  } catch {
    i = n; // a getter that throws: say what it said
  }
  if (i === n) return new PocketVecError(ErrorCode.INVALID, `${name}: ${err?.message ?? err}`, { cause: err });
  if (dim) [name, i] = [`vector ${Math.floor(i / dim)}`, i % dim];
  return new PocketVecError(ErrorCode.INVALID, `${name}: element ${i} is ${describe(v[i])}, not a number`, { cause: err });
}

/**
 * A failure of the host's storage (a file, IndexedDB) as a PocketVecError
 * IO whose message says what was being done and what the host said; a
 * missing file to load is NOTFOUND, as a missing IndexedDB name is. The
 * host's error stays as `cause`. The library's own PocketVecErrors
 * (CORRUPT, NOTFOUND, ...) pass through: they already say what is wrong.
 */
export function storageError(what, e, loading = false) {
  if (e instanceof PocketVecError) return e;
  // A save's ENOENT is a missing directory (the file itself is created); it
  // would otherwise name the lock file's open, a detail of ours.
  if (e?.code === 'ENOENT')
    return new PocketVecError(loading ? ErrorCode.NOTFOUND : ErrorCode.IO, `${what}: ${loading ? 'there is no such file' : 'its directory does not exist'}`, { cause: e });
  const kind = e?.name && e.name !== 'Error' ? e.name : '';
  // Browsers raise QuotaExceededError with an empty message.
  const why = e?.message || (kind === 'QuotaExceededError' ? "the site's storage quota is full" : String(e ?? 'unknown error'));
  return new PocketVecError(ErrorCode.IO, `${what}: ${kind ? `${kind}: ` : ''}${why}`, { cause: e });
}

/**
 * The CONFLICT error of a save of `what` that found the stored version
 * `found` where it expected `expect` (null: nothing stored).
 */
export function conflict(what, expect, found) {
  const why = expect === null
    ? 'already holds an index that this one did not load or save'
    : found === null ? 'was removed since this index loaded or saved it'
      : 'was saved by someone else since this index loaded or saved it';
  return new PocketVecError(ErrorCode.CONFLICT, `${what} ${why}: nothing was written; load it again and ` +
    'redo the changes, or pass { overwrite: true } to replace it');
}
