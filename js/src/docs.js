// SPDX-License-Identifier: MIT
// Documents as JS hands them to C: keys as strings, attributes as JSON text.
// C parses and checks that text itself, but JSON.stringify is lossy where a
// user would not expect it (a Date becomes a string, NaN becomes null, a
// function vanishes, undefined in an array becomes null, a Map becomes {})
// and it throws TypeErrors of its own (BigInt, cycles). So attributes are
// walked here first, and whatever JSON would change or refuse is INVALID
// with the document and the path of the value; what passes, C takes as is.
import { ErrorCode, PocketVecError, bad, describe } from './errors.js';

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
 * attrs as the JSON text C takes, or null for none (undefined or null).
 * `what` names them in messages ("the attributes of document \"a\"").
 * Throws INVALID, naming the path, for what JSON cannot carry as it is:
 *   - functions, symbols, BigInts, NaN and infinite numbers;
 *   - undefined in an array (JSON would make it null); undefined as an
 *     object's member is left out, as JSON.stringify and spreads do;
 *   - objects other than plain objects and arrays: a Date (JSON would
 *     store a string that never compares as a date: store getTime() or
 *     toISOString() explicitly), Map, Set, typed arrays, class instances,
 *     boxed primitives;
 *   - strings that are not well-formed Unicode (lone surrogates);
 *   - cycles, more than 64 levels of nesting, and attributes certainly
 *     larger than 64 KiB once encoded (C checks the exact size).
 * Symbol-keyed properties are not data and are ignored, as JSON does.
 */
export function attributesJson(attrs, what) {
  if (attrs === undefined || attrs === null) return null;
  if (!isPlain(attrs)) throw bad(`${what} must be a plain object`, attrs);
  const stack = [], parts = [];
  // A lower bound of the encoded size: a tag byte per value, a length byte
  // and the bytes of each string and member name.
  let bytes = 0;
  const fail = (why) => new PocketVecError(INVALID, `${what}: ${pathOf(parts)} ${why}`);
  const walk = (v) => {
    bytes++;
    switch (typeof v) {
      case 'string':
        if (LONE.test(v)) throw fail(`is not valid Unicode: a lone surrogate at index ${v.search(LONE)}`);
        bytes += 1 + utf8Length(v);
        break;
      case 'number':
        if (!Number.isFinite(v)) throw fail(`is ${describe(v)}; JSON numbers are finite`);
        break;
      case 'boolean':
        break;
      case 'object':
        if (v === null) break;
        if (!isPlain(v) && !Array.isArray(v)) {
          // describe() says "an object {x}" of a class instance: name the class.
          const c = Object.prototype.toString.call(v) === '[object Object]' && v.constructor?.name;
          throw fail(`is ${c ? `an instance of ${c}` : describe(v)}, which JSON cannot carry${hint(v)}`);
        }
        if (stack.includes(v)) throw fail('refers back to an enclosing object (a cycle)');
        if (stack.length >= MAX_DEPTH) throw fail(`is nested more than ${MAX_DEPTH} levels deep`);
        stack.push(v);
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) {
            parts.push(i);
            if (v[i] === undefined) throw fail('is undefined (JSON would store null)');
            walk(v[i]);
            parts.pop();
          }
        } else {
          for (const k of Object.keys(v)) {
            if (v[k] === undefined) continue;
            if (LONE.test(k)) throw fail(`has a member name that is not valid Unicode: ${JSON.stringify(k)}`);
            bytes += 1 + utf8Length(k);
            parts.push(k);
            walk(v[k]);
            parts.pop();
          }
        }
        stack.pop();
        break;
      default: // function, symbol, bigint (undefined is handled by the caller)
        throw fail(`is ${describe(v)}, which JSON cannot carry`);
    }
    if (bytes > MAX_ATTR_BYTES)
      throw new PocketVecError(INVALID, `${what} are larger than ${MAX_ATTR_BYTES} bytes once encoded`);
  };
  walk(attrs);
  return JSON.stringify(attrs);
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
