// SPDX-License-Identifier: MIT
// index.d.ts stays in step with index.js: the same exports, the same Index
// members, the same error codes. (A structural check that needs no
// TypeScript compiler: names, not types.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import * as api from '../index.js';

await api.init();
const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8');

/** The body of `export declare class Name ... { ... }` in index.d.ts. */
function classBody(name) {
  const start = dts.indexOf(`export declare class ${name} `);
  assert.ok(start >= 0, `class ${name} is not declared`);
  let depth = 0, i = dts.indexOf('{', start);
  const open = i;
  for (; i < dts.length; i++) {
    if (dts[i] === '{') depth++;
    if (dts[i] === '}' && --depth === 0) break;
  }
  return dts.slice(open + 1, i).replace(/\/\*\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
}

test('the same value exports', () => {
  const declared = [...dts.matchAll(/^export declare (?:const|class|function) (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual(declared.sort(), Object.keys(api).sort());
});

test('the same Index methods and properties', () => {
  const body = classBody('Index');
  const methods = [...body.matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1]).filter((n) => n !== 'constructor');
  const props = [...body.matchAll(/^ {2}readonly (\w+):/gm)].map((m) => m[1]);
  const proto = Index_members();
  assert.deepEqual([...new Set(methods)].sort(), proto.methods.sort());
  assert.deepEqual(props.sort(), proto.getters.sort());
  assert.match(body, /\[Symbol\.dispose\]\(\): void;/);
  if (typeof Symbol.dispose === 'symbol') assert.equal(typeof api.Index.prototype[Symbol.dispose], 'function');
});

function Index_members() {
  const methods = [], getters = [];
  for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(api.Index.prototype))) {
    if (name === 'constructor') continue;
    if (d.get) getters.push(name);
    else if (typeof d.value === 'function') methods.push(name);
  }
  return { methods, getters };
}

test('the same error codes, and PocketVecError has code', () => {
  const start = dts.indexOf('export declare const ErrorCode');
  const block = dts.slice(start, dts.indexOf('}>;', start));
  const declared = Object.fromEntries([...block.matchAll(/^ {2}(\w+): (\d+);/gm)].map((m) => [m[1], +m[2]]));
  assert.deepEqual(declared, { ...api.ErrorCode });
  assert.match(classBody('PocketVecError'), /readonly code: ErrorCodeValue;/);
  const e = new api.PocketVecError(4, 'x');
  assert.equal(e.code, 4);
  assert.equal(e.name, 'PocketVecError');
});

test('every option in IndexOptions is accepted, and only those', () => {
  const start = dts.indexOf('export interface IndexOptions');
  const block = dts.slice(start, dts.indexOf('\n}', start)).replace(/\/\*\*[\s\S]*?\*\//g, '');
  const declared = [...block.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]);
  assert.deepEqual(declared, ['dim', 'metric', 'quantization', 'm', 'efConstruction', 'efSearch',
    'seed', 'capacity', 'compactThreshold', 'text']);
  // index.js rejects unknown options and names the known ones in its message.
  assert.throws(() => new api.Index({ dim: 2, nope: 1 }), (e) =>
    e.message.endsWith(`the options are ${declared.join(', ')}`) || assert.fail(e.message));
});
