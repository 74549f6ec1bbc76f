// SPDX-License-Identifier: MIT
// Documents as JS hands them to C: keys as strings, attributes in the
// binary encoding C stores (docs/FORMAT.md), written and read here, so the
// module needs no JSON text (wasm/wasm.mk: PV_OMIT_JSON). Attributes are
// JSON values: whatever JSON.stringify would change (a Date becomes a
// string, NaN becomes null, a function vanishes, undefined in an array
// becomes null, a Map becomes {}) or refuse (BigInt, cycles) is INVALID
// with the document and the path of the value.
import { ErrorCode, PocketVecError, bad, describe } from './errors.js';
import { u8, utf8At, utf8Bytes } from './wasm.js';

const { INVALID } = ErrorCode;

// C's limits (pocketvec.h, src/attr/attr.h).
export const MAX_KEY_BYTES = 1024;
const MAX_ATTR_BYTES = 65536;
const MAX_DEPTH = 64;

// A lone surrogate: what TextEncoder would silently turn into U+FFFD, so a
// key would change and two keys could become one. (String#isWellFormed is
// not in Node 18.)
export const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The UTF-8 length of s, without encoding it (s has no lone surrogates). */
export function utf8Length(s) {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // 0x80..0x7FF: 2 bytes for 1 unit; 0x800..0xFFFF: 3 for 1; a surrogate
    // pair: 4 for 2, so each of its units counts 1 more.
    if (c >= 0x80) n += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2;
  }
  return n;
}

/**
 * key, if it is a string that can be a key; else throws INVALID (`what`
 * names it: "the key", "the key of document 3"). Length in UTF-8 bytes
 * is left to C, whose message says the limit, except where the caller
 * cares (lookups of an impossible key answer without asking C).
 */
export function checkKey(key, what = 'key') {
  if (typeof key !== 'string') throw bad(`${what} must be a string`, key);
  const at = key.search(LONE);
  if (at >= 0) throw new PocketVecError(INVALID, `${what} is not valid Unicode: a lone surrogate at index ${at}`);
  return key;
}

/** Whether key could name a document: a well-formed string of 1 to 1024 UTF-8 bytes. */
export const possibleKey = (key) =>
  typeof key === 'string' && key.length > 0 && key.length <= MAX_KEY_BYTES && !LONE.test(key) &&
  utf8Length(key) <= MAX_KEY_BYTES;

/** How document i of n is named in messages: as C names it (api_doc.c). */
export function docName(key, i, n) {
  if (typeof key === 'string' && key && !LONE.test(key))
    return `document ${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key)}`;
  return n === 1 ? 'the document' : `document ${i}`;
}

const JS_NAME = /^[A-Za-z_$][\w$]*$/;

/** A JS-looking path for messages: tags[2], author.name, ["odd name"]. */
function pathOf(parts) {
  let s = '';
  for (const p of parts) {
    if (s.length > 80) return `${s}...`;
    s += typeof p === 'number' ? `[${p}]` : JS_NAME.test(p) ? (s ? `.${p}` : p) : `[${JSON.stringify(p)}]`;
  }
  return s;
}

/**
 * attrs in the binary encoding C stores (docs/FORMAT.md, "Attribute
 * encoding"; C checks it again), or null for none (undefined, null or an
 * empty object). `what` names them in messages ("the attributes of
 * document \"a\""). Attributes are JSON values, and what JSON would not
 * carry as it is, is INVALID, naming the path:
 *   - functions, symbols, BigInts, NaN and infinite numbers;
 *   - undefined in an array (JSON would make it null); undefined as an
 *     object's member is left out, as JSON.stringify and spreads do;
 *   - objects other than plain objects and arrays: a Date (JSON would
 *     store a string that never compares as a date: store getTime() or
 *     toISOString() explicitly), Map, Set, typed arrays, class instances,
 *     boxed primitives;
 *   - strings that are not well-formed Unicode (lone surrogates);
 *   - cycles, more than 64 levels of nesting, and more than 64 KiB once
 *     encoded.
 * Symbol-keyed properties are not data and are ignored, as JSON does; -0
 * is stored as 0, as JSON writes it.
 */
export function encodeAttributes(attrs, what) {
  if (attrs === undefined || attrs === null) return null;
  if (!isPlain(attrs)) throw bad(`${what} must be a plain object`, attrs);
  const stack = [], parts = [];
  let out = new Uint8Array(256), n = 0;
  const fail = (why) => new PocketVecError(INVALID, `${what}: ${pathOf(parts)} ${why}`);
  const emit = (bytes) => {
    if (n + bytes.length > MAX_ATTR_BYTES)
      throw new PocketVecError(INVALID, `${what} are larger than ${MAX_ATTR_BYTES} bytes once encoded`);
    if (n + bytes.length > out.length) {
      const o = new Uint8Array(2 * (n + bytes.length));
      o.set(out.subarray(0, n));
      out = o;
    }
    out.set(bytes, n);
    n += bytes.length;
  };
  // A tag (or a string's length) goes out with its varint(s) in front of
  // what follows; a container's two varints go in once its end is known.
  const varints = (...vs) => {
    const b = [];
    for (let v of vs) {
      for (; v > 127; v >>>= 7) b.push((v & 127) | 128);
      b.push(v);
    }
    return b;
  };
  const str = (v) => {
    const b = utf8Bytes(v);
    emit(varints(b.length));
    emit(b);
  };
  const walk = (v) => {
    switch (typeof v) {
      case 'string':
        if (LONE.test(v)) throw fail(`is not valid Unicode: a lone surrogate at index ${v.search(LONE)}`);
        emit([4]);
        return str(v);
      case 'number':
        if (!Number.isFinite(v)) throw fail(`is ${describe(v)}; JSON numbers are finite`);
        F64[0] = v || 0;
        emit([3]);
        return emit(F64_BYTES);
      case 'boolean':
        return emit([v ? 2 : 1]);
      case 'object': {
        if (v === null) return emit([0]);
        const arr = Array.isArray(v);
        if (!arr && !isPlain(v)) {
          // describe() says "an object {x}" of a class instance: name the class.
          const c = Object.prototype.toString.call(v) === '[object Object]' && v.constructor?.name;
          throw fail(`is ${c ? `an instance of ${c}` : describe(v)}, which JSON cannot carry${hint(v)}`);
        }
        if (stack.includes(v)) throw fail('refers back to an enclosing object (a cycle)');
        if (stack.length >= MAX_DEPTH) throw fail(`is nested more than ${MAX_DEPTH} levels deep`);
        stack.push(v);
        emit([arr ? 5 : 6]);
        const from = n;
        let count = 0;
        for (const k of arr ? v.keys() : Object.keys(v)) {
          const x = v[k];
          if (x === undefined) {
            if (!arr) continue;
            parts.push(k);
            throw fail('is undefined (JSON would store null)');
          }
          if (!arr) {
            if (LONE.test(k)) throw fail(`has a member name that is not valid Unicode: ${JSON.stringify(k)}`);
            str(k);
          }
          parts.push(k);
          walk(x);
          parts.pop();
          count++;
        }
        stack.pop();
        // The empty root is stored as no bytes at all.
        if (!stack.length && !count) return (n = 0);
        const c = varints(count), head = varints(c.length + n - from, count), body = out.slice(from, n);
        n = from;
        emit(head);
        return emit(body);
      }
      default: // function, symbol, bigint (undefined is handled by the caller)
        throw fail(`is ${describe(v)}, which JSON cannot carry`);
    }
  };
  walk(attrs);
  return n ? out.subarray(0, n) : null;
}

// A number's 8 bytes, little-endian as WebAssembly's memory (and so every
// platform that runs it) holds them.
const F64 = new Float64Array(1), F64_BYTES = new Uint8Array(F64.buffer);

/**
 * The len bytes of encoded attributes at p in WASM memory (call heap()
 * first) as JS values, as JSON.parse would give them from C's JSON text.
 */
export function decodeAttributes(p, len) {
  const view = new DataView(u8.buffer);
  const varint = () => {
    let v = 0, s = 0, b;
    do {
      b = u8[p++];
      v += (b & 127) * 2 ** s;
      s += 7;
    } while (b & 128);
    return v;
  };
  const str = (n = varint()) => utf8At((p += n) - n, n);
  const value = () => {
    const tag = u8[p++];
    if (tag < 3) return tag ? tag === 2 : null;
    if (tag === 3) return view.getFloat64((p += 8) - 8, true);
    if (tag === 4) return str();
    varint(); // the container's bytes: every value is read anyway
    const items = [];
    for (let c = varint(); c--;) items.push(tag === 5 ? value() : [str(), value()]);
    // fromEntries defines each member, as JSON.parse does: a member named
    // __proto__ is data, not the object's prototype.
    return tag === 5 ? items : Object.fromEntries(items);
  };
  return len ? value() : {};
}

/** Whether v is an object JSON writes as its own members: made by {} or Object.create(null). */
function isPlain(v) {
  if (typeof v !== 'object' || v === null) return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

function hint(v) {
  if (v instanceof Date) return '; store date.getTime() or date.toISOString()';
  if (ArrayBuffer.isView(v)) return '; store Array.from() of it';
  if (v instanceof Map) return '; store Object.fromEntries() of it';
  if (v instanceof Set) return '; store [...set]';
  return '';
}
