// SPDX-License-Identifier: MIT
// Filters as objects, in the style of MongoDB and Pinecone, translated into
// the filter language that C compiles, exactly as docs/FILTER.md ("The
// JavaScript object form") writes the translation. One language in C and a
// translation here, rather than a second compiler: an object and the text
// it reads as select the same documents by construction, and the text is
// what an error message can show.
//
//   { tags: { $contains: 'work' }, created: { $gte: 1704067200 } }
//     -> tags contains "work" and created >= 1704067200
//
// Semantics are the text's: a comparison with a missing field, or with a
// value of another type, is false (unlike MongoDB, where $ne and $nin
// match documents without the field); $not negates all it holds.
import { LONE } from './docs.js';
import { ErrorCode, PocketVecError, bad, describe } from './errors.js';

const COMPARE = { $eq: '==', $ne: '!=', $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };
const OPERATORS = [...Object.keys(COMPARE), '$in', '$nin', '$contains', '$exists', '$and', '$or', '$not'];

const filterError = (msg) => new PocketVecError(ErrorCode.INVALID, `filter: ${msg}`);

function unknown(op) {
  return filterError(`unknown operator ${JSON.stringify(op)}; the operators are ${OPERATORS.join(' ')}`);
}

// A name the language reads bare: letters, digits, _, $ and -, the first of
// a path not a digit or -, and not one of its words (in any case: they are
// case-insensitive). Any other name goes in backticks, `` for a backtick.
const FIRST_NAME = /^[A-Za-z_$][\w$-]*$/, NEXT_NAME = /^[\w$-]+$/;
const WORDS = /^(?:and|or|not|in|contains|exists|true|false|null)$/i;

/** A member name as a segment of a path of the language, the first of its path or not: bare, or in backticks. */
export const segmentText = (seg, first) =>
  (first ? FIRST_NAME : NEXT_NAME).test(seg) && !WORDS.test(seg) ? seg : `\`${seg.replaceAll('`', '``')}\``;

/** A field of the object form, "author.name", as a path of the language: split at each dot. */
function pathText(field) {
  return field.split('.').map((seg, i) => {
    if (!seg) throw filterError(`the field name ${JSON.stringify(field)} has an empty part`);
    if (LONE.test(seg)) throw filterError(`the field name ${JSON.stringify(field)} is not valid Unicode (a lone surrogate)`);
    return segmentText(seg, !i);
  }).join('.');
}

/** L(v): the literal of a string, a finite number, a boolean or null; only the first two where order matters. */
function literal(v, where, ordered = false) {
  if (typeof v === 'string') {
    if (LONE.test(v)) throw filterError(`${where} is not valid Unicode: a lone surrogate at index ${v.search(LONE)}`);
    return JSON.stringify(v);
  }
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (!ordered && (v === null || typeof v === 'boolean')) return String(v);
  throw filterError(`${where} must be ${ordered ? 'a string or a finite number' : 'a string, a finite number, a boolean or null'}, got ${describe(v)}`);
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const group = (parts, op) => parts.map((t) => `(${t})`).join(` ${op} `);

/**
 * T(obj): its entries in order, each a condition, joined with "and"; ''
 * for none, which matches every document. (An $or next to other entries
 * is parenthesised: joined bare with "and", which binds tighter, its
 * first and last alternatives would take the neighbours with them.)
 */
function clause(obj, where) {
  if (!isObject(obj)) throw filterError(`${where} must be an object, got ${describe(obj)}`);
  const keys = Object.keys(obj), parts = [];
  for (const key of keys) {
    const v = obj[key];
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(v) || v.length === 0) throw filterError(`${key} takes a non-empty array of filters, got ${describe(v)}`);
      const subs = v.map((s, i) => clause(s, `${key}[${i}]`));
      // An empty element is true: dropped from $and, and it makes $or true.
      if (key === '$and' && subs.some((t) => t)) parts.push(group(subs.filter((t) => t), 'and'));
      if (key === '$or' && subs.every((t) => t)) parts.push(keys.length > 1 && subs.length > 1 ? `(${group(subs, 'or')})` : group(subs, 'or'));
    } else if (key === '$not') {
      const t = clause(v, '$not');
      if (!t) throw filterError('$not of an empty filter would match nothing; remove it or give it a condition');
      parts.push(`not (${t})`);
    } else if (key.startsWith('$')) {
      throw OPERATORS.includes(key) ? filterError(`${key} applies to a field, as { field: { ${key}: ... } }`) : unknown(key);
    } else {
      parts.push(condition(pathText(key), v, key));
    }
  }
  return parts.join(' and ');
}

/** The condition v on one field (p: its path in the language). */
function condition(p, v, name) {
  const field = JSON.stringify(name);
  if (!isObject(v)) {
    if (Array.isArray(v)) throw filterError(`the value of ${field} is an array; use { $in: [...] } or { $contains: ... }`);
    return `${p} == ${literal(v, `the value of ${field}`)}`;
  }
  const ops = Object.keys(v);
  if (!ops.length) throw filterError(`the condition on ${field} is empty`);
  const parts = ops.map((op) => {
    const x = v[op], where = `${op} of ${field}`;
    switch (op) {
      case '$ne':
        // The language refuses "!= null", which would never match; what
        // MongoDB means by it is this.
        if (x === null) return `(exists(${p}) and not ${p} == null)`;
      // fall through
      case '$eq':
        return `${p} ${COMPARE[op]} ${literal(x, where)}`;
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        return `${p} ${COMPARE[op]} ${literal(x, where, true)}`;
      case '$in':
      case '$nin':
        if (!Array.isArray(x)) throw filterError(`${where} takes an array, got ${describe(x)}`);
        return `${p} ${op === '$in' ? 'in' : 'not in'} [${x.map((e, i) => literal(e, `${where}[${i}]`)).join(', ')}]`;
      case '$contains':
        return `${p} contains ${literal(x, where)}`;
      case '$exists':
        if (typeof x !== 'boolean') throw filterError(`${where} takes true or false, got ${describe(x)}`);
        return x ? `exists(${p})` : `not exists(${p})`;
      case '$not':
        if (!isObject(x)) throw filterError(`${where} takes operators, as { $not: { $gt: 5 } }, got ${describe(x)}`);
        return `not (${condition(p, x, name)})`;
      default:
        if (!op.startsWith('$'))
          throw filterError(`the value of ${field} is an object without operators; ` +
            `for a nested field use a dotted name such as "${name}.${op}"`);
        throw OPERATORS.includes(op) ? filterError(`${op} combines filters: use it outside the field, as { ${op}: [...] }`) : unknown(op);
    }
  });
  return parts.length > 1 ? `(${parts.join(' and ')})` : parts[0];
}

/**
 * The text of a filter: a string as it is (C compiles it), an object
 * translated ('' for {}); null or undefined: null (no filter). Anything
 * else, or an object with an unknown operator, is INVALID.
 */
export function filterText(filter) {
  if (filter === undefined || filter === null) return null;
  if (typeof filter === 'string') return filter;
  if (!isObject(filter)) throw bad('a filter must be a string or an object such as { tags: { $contains: "work" } }', filter);
  return clause(filter, 'the filter');
}
