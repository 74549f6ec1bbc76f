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
  IO: 9, ABORT: 10, MISUSE: 11, RANGE: 12,
});

export class PocketVecError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'PocketVecError';
    this.code = code;
  }
}

/** An INVALID error: what the argument must be, then what it was. */
export const bad = (what, v) => new PocketVecError(ErrorCode.INVALID, `${what}, got ${String(v)}`);

/** v if it is an integer that fits a uint32; else throws INVALID naming it. */
export function uint(v, name) {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw bad(`${name} must be an integer from 0 to 4294967295`, v);
  return v;
}

/** The length of the vector v (a typed array or an array-like); else throws INVALID. */
export function lenOf(v) {
  if (typeof v !== 'object' || !Number.isInteger(v?.length))
    throw bad('a vector must be a Float32Array or an array of numbers', v);
  return v.length;
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
  if (loading && e?.code === 'ENOENT') return new PocketVecError(ErrorCode.NOTFOUND, `${what}: there is no such file`, { cause: e });
  const kind = e?.name && e.name !== 'Error' ? e.name : '';
  // Browsers raise QuotaExceededError with an empty message.
  const why = e?.message || (kind === 'QuotaExceededError' ? "the site's storage quota is full" : String(e ?? 'unknown error'));
  return new PocketVecError(ErrorCode.IO, `${what}: ${kind ? `${kind}: ` : ''}${why}`, { cause: e });
}
