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

const { INVALID } = ErrorCode;

const COMPARE = { $eq: '==', $ne: '!=', $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' };
const OPERATORS = [...Object.keys(COMPARE), '$in', '$nin', '$contains', '$exists', '$and', '$or', '$not'];
const LOGICAL = ['$and', '$or', '$not'];

const fail = (msg) => new PocketVecError(INVALID, `filter: ${msg}`);

function unknown(op) {
  return fail(`unknown operator ${JSON.stringify(op)}; the operators are ${OPERATORS.join(' ')}`);
}

// A name the language reads as is: an identifier that is not a word of
// the language; any other is quoted.
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const WORDS = new Set(['and', 'or', 'not', 'in', 'contains', 'exists', 'true', 'false', 'null']);

/** A field of the object form, "author.name", as a path of the language. */
function path(field) {
  if (!field) throw fail('a field name is empty');
  return field.split('.').map((seg) => {
    if (!seg) throw fail(`the field ${JSON.stringify(field)} has an empty part`);
    return IDENT.test(seg) && !WORDS.has(seg) ? seg : JSON.stringify(seg);
  }).join('.');
}

/** A literal: a string, a finite number, a boolean or null. */
function literal(v, where) {
  if (v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') {
    if (LONE.test(v)) throw fail(`${where} is not valid Unicode: a lone surrogate at index ${v.search(LONE)}`);
    return JSON.stringify(v);
  }
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw fail(`${where} must be a string, a finite number, a boolean or null, got ${describe(v)}`);
}

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Several conditions that must all hold, as one expression. */
function all(parts) {
  return parts.length === 1 ? parts[0] : parts.map((p) => `(${p})`).join(' and ');
}

/** The text of a filter object. */
function clause(obj, where) {
  if (!isObject(obj)) throw fail(`${where} must be an object, got ${describe(obj)}`);
  const parts = [];
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (v === undefined) continue; // as JSON and spreads leave it out
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(v) || v.length === 0) throw fail(`${key} takes a non-empty array of filters, got ${describe(v)}`);
      const subs = v.map((s, i) => nonEmpty(s, `${key}[${i}]`));
      parts.push(subs.length === 1 ? subs[0] : subs.map((s) => `(${s})`).join(key === '$and' ? ' and ' : ' or '));
    } else if (key === '$not') {
      parts.push(`not (${nonEmpty(v, '$not')})`);
    } else if (key.startsWith('$')) {
      throw OPERATORS.includes(key) ? fail(`${key} applies to a field, as { field: { ${key}: ... } }`) : unknown(key);
    } else {
      parts.push(field(path(key), v, key));
    }
  }
  // {} selects every document: there is nothing for it to test.
  return parts.length ? all(parts) : '';
}

/** The text of a filter object inside $and, $or or $not, where {} would be ambiguous. */
function nonEmpty(obj, where) {
  const text = clause(obj, where);
  if (!text) throw fail(`${where} is an empty filter`);
  return text;
}

/** The text of the condition v on one field (p: its path in the language). */
function field(p, v, name) {
  if (!isObject(v)) {
    if (Array.isArray(v)) throw fail(`the value of ${JSON.stringify(name)} is an array; use { $in: [...] } or { $contains: ... }`);
    return `${p} == ${literal(v, `the value of ${JSON.stringify(name)}`)}`;
  }
  const ops = Object.keys(v).filter((op) => v[op] !== undefined);
  if (!ops.length) throw fail(`the condition on ${JSON.stringify(name)} is empty`);
  return all(ops.map((op) => {
    const x = v[op], where = `${op} of ${JSON.stringify(name)}`;
    if (Object.hasOwn(COMPARE, op)) return `${p} ${COMPARE[op]} ${literal(x, where)}`;
    switch (op) {
      case '$in':
      case '$nin':
        if (!Array.isArray(x)) throw fail(`${where} takes an array, got ${describe(x)}`);
        return `${p} ${op === '$in' ? 'in' : 'not in'} [${x.map((e, i) => literal(e, `${where}[${i}]`)).join(', ')}]`;
      case '$contains':
        return `${p} contains ${literal(x, where)}`;
      case '$exists':
        if (typeof x !== 'boolean') throw fail(`${where} takes true or false, got ${describe(x)}`);
        return x ? `exists(${p})` : `not exists(${p})`;
      case '$not':
        return `not (${field(p, x, name)})`;
      default:
        if (!op.startsWith('$'))
          throw fail(`the value of ${JSON.stringify(name)} is an object without operators; ` +
            `for a nested field use a dotted name such as "${name}.${op}"`);
        throw LOGICAL.includes(op) ? fail(`${op} combines filters: use it outside the field, as { ${op}: ... }`) : unknown(op);
    }
  }));
}

/**
 * The text of a filter: a string as it is (C compiles it), an object
 * translated; null or undefined: null (no filter). Anything else, or an
 * object with an unknown operator, is INVALID.
 */
export function filterText(filter) {
  if (filter === undefined || filter === null) return null;
  if (typeof filter === 'string') return filter;
  if (!isObject(filter)) throw bad('a filter must be a string or an object such as { tags: { $contains: "work" } }', filter);
  return clause(filter, 'the filter');
}
