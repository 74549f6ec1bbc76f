// SPDX-License-Identifier: MIT
// Filters from JS: the text of docs/FILTER.md as is, or a MongoDB-style
// object translated into that text ("The JavaScript object form" there is
// the specification this follows rule by rule), so C's one grammar decides
// what a filter means and every error it reports reads the same from C,
// the CLI and JS.
import { ErrorCode, PocketVecError, bad } from './errors.js';

const KEYWORDS = /^(and|or|not|in|contains|exists|true|false|null)$/i;
const filterError = (m) => new PocketVecError(ErrorCode.INVALID, `filter: ${m}`);

/** The filter's text: a string as given; an object translated; undefined and null: '' (all). */
export function filterText(f) {
  if (f == null) return '';
  if (typeof f === 'string') return f;
  if (typeof f !== 'object' || Array.isArray(f))
    throw bad('a filter must be a string such as \'tags contains "work"\' or an object such as { tags: { $contains: "work" } }', f);
  return T(f);
}

// T(filter): the entries joined with " and "; empty ones (from {}) dropped.
// An $or among other entries is wrapped in parentheses, since "and" binds
// tighter: { a: 1, $or: [...] } is "a == 1 and ((b == 1) or (c == 1))".
function T(f) {
  const parts = [];
  for (const [k, v] of Object.entries(f)) {
    const t = k[0] === '$' ? logical(k, v) : field(fieldPath(k), v);
    if (t) parts.push([t, k === '$or' && t.includes(') or (')]);
  }
  return parts.map(([t, or]) => (or && parts.length > 1 ? `(${t})` : t)).join(' and ');
}

function logical(op, v) {
  if (op === '$not') {
    const t = sub(v, op);
    if (!t) throw filterError('$not takes a filter with at least one condition');
    return `not (${t})`;
  }
  if (op !== '$and' && op !== '$or') throw filterError(`unknown operator ${op} at the top level; use $and, $or, $not or a field name`);
  if (!Array.isArray(v) || !v.length) throw bad(`filter: ${op} takes a non-empty array of filters`, v);
  const parts = v.map((x) => sub(x, op));
  if (op === '$or' && parts.includes('')) return ''; // an empty filter is true
  return parts.filter(Boolean).map((t) => `(${t})`).join(` ${op.slice(1)} `);
}

function sub(x, op) {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) throw bad(`filter: ${op} takes filter objects`, x);
  return T(x);
}

// A field key split at its dots, each segment bare when the grammar allows it.
function fieldPath(k) {
  return k.split('.').map((s, i) =>
    (i ? /^[\w$-]+$/ : /^[A-Za-z_$][\w$-]*$/).test(s) && !KEYWORDS.test(s) ? s : `\`${s.replaceAll('`', '``')}\``).join('.');
}

function field(P, v) {
  if (v === null || typeof v !== 'object') return `${P} == ${L(v, P)}`;
  const ops = Object.keys(v);
  if (Array.isArray(v) || !ops.length || ops.some((o) => o[0] !== '$'))
    throw bad(`filter: ${P} takes a string, number, boolean or null, or operators such as { $gte: 1 } (no equality on arrays or objects)`, v);
  const parts = ops.map((o) => operator(P, o, v[o]));
  return parts.length > 1 ? `(${parts.join(' and ')})` : parts[0];
}

const CMP = { $eq: '==', $ne: '!=', $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };

function operator(P, o, v) {
  if (o === '$ne' && v === null) return `(exists(${P}) and not ${P} == null)`;
  if (o === '$eq' || o === '$ne') return `${P} ${CMP[o]} ${L(v, P)}`;
  if (CMP[o]) {
    if (typeof v !== 'number' && typeof v !== 'string') throw bad(`filter: ${o} on ${P} takes a number or a string`, v);
    return `${P} ${CMP[o]} ${L(v, P)}`;
  }
  if (o === '$in' || o === '$nin') {
    if (!Array.isArray(v)) throw bad(`filter: ${o} on ${P} takes an array of values`, v);
    return `${P} ${o === '$in' ? 'in' : 'not in'} [${v.map((x) => L(x, P)).join(', ')}]`;
  }
  if (o === '$contains') return `${P} contains ${L(v, P)}`;
  if (o === '$exists') {
    if (typeof v !== 'boolean') throw bad(`filter: $exists on ${P} takes true or false`, v);
    return `${v ? '' : 'not '}exists(${P})`;
  }
  if (o === '$not') return `not (${field(P, v)})`;
  throw filterError(`unknown operator ${o} on ${P}; the operators are $eq $ne $gt $gte $lt $lte $in $nin $contains $exists $not`);
}

// The literal of a scalar.
function L(v, P) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean' || v === null) return String(v);
  throw bad(`filter: a value for ${P} must be a string, a finite number, a boolean or null`, v);
}
