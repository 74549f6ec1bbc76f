// SPDX-License-Identifier: MIT
// Filters as objects, in the style of MongoDB and Pinecone, translated into
// the filter language of docs/FILTER.md, which C compiles. One language in
// C and a translation here, rather than a second compiler: an object and
// the text it reads as select the same documents by construction, and the
// translation is small.
//
//   { tags: { $contains: 'work' }, created: { $gte: 1704067200 } }
//     -> tags contains "work" and created >= 1704067200
//
// A bare value is $eq; several members of one object, or several operators
// on one field, must all hold; $and, $or and $not combine filters; $not
// also applies to one field's operators. Semantics are the text's: a
// comparison with a missing field is false (unlike MongoDB, where $ne and
// $nin match documents without the field); $not negates all it holds.
import { LONE } from './docs.js';
import { ErrorCode, PocketVecError, bad, describe } from './errors.js';

const COMPARE = { $eq: '==', $ne: '!=', $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };
const OPERATORS = [...Object.keys(COMPARE), '$in', '$nin', '$contains', '$exists', '$and', '$or', '$not'];

const filterError = (msg) => new PocketVecError(ErrorCode.INVALID, `filter: ${msg}`);

function unknown(op) {
  return filterError(`unknown operator ${JSON.stringify(op)}; the operators are ${OPERATORS.join(' ')}`);
}

// A name the language reads bare: letters, digits, _, $ and -, not first a
// digit or -, and not one of its words (in any case: they are
// case-insensitive). Any other name goes in backticks, `` for a backtick.
const BARE_NAME = /^[A-Za-z_$][\w$-]*$/;
const WORDS = /^(?:and|or|not|in|contains|exists|true|false|null)$/i;

/** A field of the object form, "author.name", as a path of the language. */
function pathText(field) {
  return field.split('.').map((seg) => {
    if (!seg) throw filterError(`the field name ${JSON.stringify(field)} has an empty part`);
    if (LONE.test(seg)) throw filterError(`the field name ${JSON.stringify(field)} is not valid Unicode (a lone surrogate)`);
    return BARE_NAME.test(seg) && !WORDS.test(seg) ? seg : `\`${seg.replaceAll('`', '``')}\``;
  }).join('.');
}

/** A literal: a string, a finite number, a boolean or null; only the first two where order matters. */
function literal(v, where, ordered = false) {
  if (typeof v === 'string') {
    if (LONE.test(v)) throw filterError(`${where} is not valid Unicode: a lone surrogate at index ${v.search(LONE)}`);
    return JSON.stringify(v);
  }
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (!ordered && (v === null || typeof v === 'boolean')) return String(v);
  throw filterError(`${where} must be ${ordered ? 'a string or a finite number' : 'a string, a finite number, a boolean or null'}, got ${describe(v)}`);
}

// Expressions are built with their precedence, so parentheses go only
// where they are needed: the language nests at most 64 levels, and each
// "(" and "not" counts one.
const OR = 0, AND = 1, ATOM = 2;
const expr = (t, lv) => ({ t, lv });
const wrap = (e, lv) => (e.lv < lv ? `(${e.t})` : e.t);

function and(parts) {
  return parts.length === 1 ? parts[0] : expr(parts.map((e) => wrap(e, AND)).join(' and '), AND);
}

function or(parts) {
  return parts.length === 1 ? parts[0] : expr(parts.map((e) => e.t).join(' or '), OR);
}

const not = (e) => expr(`not ${wrap(e, ATOM)}`, ATOM);

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The expression of a filter object; null for {}, which tests nothing. */
function clause(obj, where) {
  if (!isObject(obj)) throw filterError(`${where} must be an object, got ${describe(obj)}`);
  const parts = [];
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (v === undefined) continue; // as JSON and spreads leave it out
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(v) || v.length === 0) throw filterError(`${key} takes a non-empty array of filters, got ${describe(v)}`);
      const subs = v.map((s, i) => nonEmpty(s, `${key}[${i}]`));
      parts.push(key === '$and' ? and(subs) : or(subs));
    } else if (key === '$not') {
      parts.push(not(nonEmpty(v, '$not')));
    } else if (key.startsWith('$')) {
      throw OPERATORS.includes(key) ? filterError(`${key} applies to a field, as { field: { ${key}: ... } }`) : unknown(key);
    } else {
      parts.push(condition(pathText(key), v, key));
    }
  }
  return parts.length ? and(parts) : null;
}

/** The expression of a filter object inside $and, $or or $not, where {} would be ambiguous. */
function nonEmpty(obj, where) {
  const e = clause(obj, where);
  if (!e) throw filterError(`${where} is an empty filter`);
  return e;
}

/** The expression of the condition v on one field (p: its path in the language). */
function condition(p, v, name) {
  const field = JSON.stringify(name);
  if (!isObject(v)) {
    if (Array.isArray(v)) throw filterError(`the value of ${field} is an array; use { $in: [...] } or { $contains: ... }`);
    return expr(`${p} == ${literal(v, `the value of ${field}`)}`, ATOM);
  }
  const ops = Object.keys(v).filter((op) => v[op] !== undefined);
  if (!ops.length) throw filterError(`the condition on ${field} is empty`);
  return and(ops.map((op) => {
    const x = v[op], where = `${op} of ${field}`;
    switch (op) {
      case '$ne':
        // The language refuses "!= null", which would never match; what
        // MongoDB means by it is this.
        if (x === null) return and([expr(`exists(${p})`, ATOM), not(expr(`${p} == null`, ATOM))]);
      // fall through
      case '$eq':
        return expr(`${p} ${COMPARE[op]} ${literal(x, where)}`, ATOM);
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        return expr(`${p} ${COMPARE[op]} ${literal(x, where, true)}`, ATOM);
      case '$in':
      case '$nin':
        if (!Array.isArray(x)) throw filterError(`${where} takes an array, got ${describe(x)}`);
        return expr(`${p} ${op === '$in' ? 'in' : 'not in'} [${x.map((e, i) => literal(e, `${where}[${i}]`)).join(', ')}]`, ATOM);
      case '$contains':
        return expr(`${p} contains ${literal(x, where)}`, ATOM);
      case '$exists':
        if (typeof x !== 'boolean') throw filterError(`${where} takes true or false, got ${describe(x)}`);
        return x ? expr(`exists(${p})`, ATOM) : not(expr(`exists(${p})`, ATOM));
      case '$not':
        return not(condition(p, x, name));
      default:
        if (!op.startsWith('$'))
          throw filterError(`the value of ${field} is an object without operators; ` +
            `for a nested field use a dotted name such as "${name}.${op}"`);
        throw OPERATORS.includes(op) ? filterError(`${op} combines filters: use it outside the field, as { ${op}: [...] }`) : unknown(op);
    }
  }));
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
  return clause(filter, 'the filter')?.t ?? '';
}
