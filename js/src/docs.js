// SPDX-License-Identifier: MIT
// Documents in JS: keys checked, attributes written in and read from the
// binary encoding the index stores (docs/FORMAT.md, "Attribute
// encoding"), so no JSON text crosses into WASM and the module carries no
// JSON parser. C checks every rule of the encoding again on the way in;
// what is checked here is what only JS can see: the JS types of the
// values, with a message naming the path.
import { ErrorCode, PocketVecError, bad } from './errors.js';

const encoder = new TextEncoder(), decoder = new TextDecoder('utf-8', { fatal: true });
// No lone surrogate, which TextEncoder would quietly turn into U+FFFD
// (isWellFormed where the engine has it: several times faster).
const LONE = /\p{Cs}/u;
const whole = ''.isWellFormed ? (s) => s.isWellFormed() : (s) => !LONE.test(s);
export const MAX_KEY = 1024, MAX_ATTR = 65536;

/** The UTF-8 bytes of text (null for null or undefined: no text); INVALID,
 * naming it as what, when it is not a string or holds a lone surrogate. */
export function textBytes(text, what) {
  return text == null ? null : encoder.encode(textOk(text, what));
}

/** text, if it is a string without a lone surrogate; else INVALID naming it as what. */
export function textOk(text, what) {
  if (typeof text !== 'string' || !whole(text)) throw bad(`${what} must be a string (no lone surrogates)`, text);
  return text;
}

/** The UTF-8 of a text textOk passed, written into u at `at` (room for 3
 * bytes per UTF-16 unit: 3 * text.length); the bytes written. */
export function textInto(text, u, at) {
  return encoder.encodeInto(text, u.subarray(at, at + 3 * text.length)).written;
}

/** The UTF-8 bytes of key, which must be a string of 1 to 1024 bytes; else INVALID. */
export function keyBytes(key) {
  const b = typeof key === 'string' && whole(key) ? encoder.encode(key) : null;
  if (!b?.length || b.length > MAX_KEY)
    throw bad(`a key must be a string of 1 to ${MAX_KEY} bytes of UTF-8 (no lone surrogates)`, key);
  return b;
}

// The writer: a growing byte array.
class Out {
  b = new Uint8Array(256);
  n = 0;
  room(k) {
    if (this.n + k > this.b.length) {
      const b = new Uint8Array(Math.max(2 * this.b.length, this.n + k));
      b.set(this.b.subarray(0, this.n));
      this.b = b;
    }
  }
  byte(x) {
    this.room(1);
    this.b[this.n++] = x;
  }
  varint(x) {
    for (; x > 127; x >>>= 7) this.byte((x & 127) | 128);
    this.byte(x);
  }
  bytes(u) {
    this.varint(u.length);
    this.room(u.length);
    this.b.set(u, this.n);
    this.n += u.length;
  }
}

const scratch = new DataView(new ArrayBuffer(8));

/**
 * Attributes as their encoding: a Uint8Array, empty for none (undefined,
 * null or {}). attrs must be a plain object; values as JSON carries them
 * (toJSON is called, members that are undefined are left out, undefined
 * in an array is null), and what JSON cannot carry is INVALID naming the
 * path: a function, a symbol, a bigint, NaN or an infinity, a cycle, a
 * string with a lone surrogate, or an object that is not plain (a Map).
 */
export function encodeAttrs(attrs, where = 'attributes') {
  if (attrs == null) return new Uint8Array(0);
  if (!plain(attrs) || Array.isArray(attrs))
    throw bad(`${where} must be a plain object such as { title: 'x' }`, attrs);
  const o = new Out(), stack = [];
  value(o, attrs, where, stack);
  if (o.n === 3) return new Uint8Array(0); // {} (tag, bytes 1, count 0) is stored as no bytes
  if (o.n > MAX_ATTR)
    throw new PocketVecError(ErrorCode.INVALID, `${where} take ${o.n} bytes encoded, at most ${MAX_ATTR}`);
  return o.b.slice(0, o.n);
}

function plain(v) {
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null || Array.isArray(v);
}

function value(o, v, path, stack) {
  if (v !== null && typeof v === 'object' && typeof v.toJSON === 'function') v = v.toJSON();
  switch (typeof v) {
    case 'string':
      if (!whole(v)) throw bad(`${path} holds a lone surrogate, which UTF-8 cannot carry`, v);
      o.byte(4);
      o.bytes(encoder.encode(v));
      return;
    case 'number':
      if (!Number.isFinite(v)) throw bad(`${path} must be a finite number`, v);
      scratch.setFloat64(0, v, true);
      o.byte(3);
      o.room(8);
      for (let i = 0; i < 8; i++) o.b[o.n++] = scratch.getUint8(i);
      return;
    case 'boolean':
      o.byte(v ? 2 : 1);
      return;
    case 'object':
      if (v === null) return o.byte(0);
      if (!plain(v)) throw bad(`${path} must be a string, number, boolean, null, array or plain object`, v);
      if (stack.includes(v)) throw new PocketVecError(ErrorCode.INVALID, `${path} refers back to an object that contains it (a cycle)`);
      if (stack.length >= 64) throw new PocketVecError(ErrorCode.INVALID, `${path} is nested deeper than 64 levels`);
      stack.push(v);
      o.byte(Array.isArray(v) ? 5 : 6);
      members(o, v, path, stack);
      stack.pop();
      return;
  }
  throw bad(`${path} cannot be stored (attributes hold what JSON holds)`, v);
}

// The members of an array or object, after its tag: bytes, count, members.
function members(o, v, path, stack) {
  const arr = Array.isArray(v);
  let count = 0;
  const keys = arr ? null : Object.keys(v), n = arr ? v.length : keys.length;
  const body = new Out();
  for (let i = 0; i < n; i++) {
    if (arr) {
      value(body, v[i] === undefined ? null : v[i], `${path}[${i}]`, stack);
    } else {
      const name = keys[i], x = v[name];
      if (x === undefined) continue; // as JSON.stringify leaves it out
      if (!whole(name)) throw bad(`${path} has a member name with a lone surrogate`, name);
      body.bytes(encoder.encode(name));
      value(body, x, `${path}.${name}`, stack);
    }
    count++;
  }
  const c = new Out();
  c.varint(count);
  o.varint(c.n + body.n);
  o.room(c.n + body.n);
  o.b.set(c.b.subarray(0, c.n), o.n);
  o.n += c.n;
  o.b.set(body.b.subarray(0, body.n), o.n);
  o.n += body.n;
}

/** The string of n bytes of UTF-8 at u[p]. */
export const utf8Text = (u, p, n) => decoder.decode(u.subarray(p, p + n));

/** The attributes object of n encoded bytes at u[p] (n = 0: {}). C checked them. */
export function decodeAttrs(u, p, n) {
  if (!n) return {};
  const r = { u, p, dv: new DataView(u.buffer, u.byteOffset) };
  return read(r);
}

function varint(r) {
  let x = 0, s = 0, b;
  do {
    b = r.u[r.p++];
    x += (b & 127) * 2 ** s;
    s += 7;
  } while (b & 128);
  return x;
}

function read(r) {
  switch (r.u[r.p++]) {
    case 0: return null;
    case 1: return false;
    case 2: return true;
    case 3: {
      const x = r.dv.getFloat64(r.p, true);
      r.p += 8;
      return x;
    }
    case 4: return str(r);
    case 5: {
      varint(r);
      const a = new Array(varint(r));
      for (let i = 0; i < a.length; i++) a[i] = read(r);
      return a;
    }
    default: {
      varint(r);
      const o = {};
      for (let i = varint(r); i > 0; i--) {
        const k = str(r);
        // A member named __proto__ is data, not the prototype.
        Object.defineProperty(o, k, { value: read(r), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
  }
}

function str(r) {
  const n = varint(r), s = decoder.decode(r.u.subarray(r.p, r.p + n));
  r.p += n;
  return s;
}
