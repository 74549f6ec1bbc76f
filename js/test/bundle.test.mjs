// SPDX-License-Identifier: MIT
// What ships: pocketvec.js, which wasm/wasm.mk bundles from index.js and
// src/, is readable. It keeps the top-level names of the sources (only
// locals are shortened, and no function or class is renamed by bundling),
// so stack traces say Index.add;
// its lines are short, so Node quoting the line an uncaught error came
// from prints a line, not the bundle; and its source map leads
// `node --enable-source-maps` back to src/. It exports what the sources
// export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import * as src from '../index.js';
import { bundle, need } from './helpers/paths.mjs';

const pkg = await import(pathToFileURL(need(bundle)).href);
const text = readFileSync(bundle, 'utf8');
const map = JSON.parse(readFileSync(`${bundle}.map`, 'utf8'));

/** The .js files under dir (a path relative to js/), as paths relative to js/. */
const jsFiles = (dir) => readdirSync(new URL(`../${dir}`, import.meta.url), { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? jsFiles(`${dir}/${e.name}`) : e.name.endsWith('.js') ? [`${dir}/${e.name}`] : []));
const sources = ['index.js', ...jsFiles('src')];

test('exports what the sources export', () => {
  assert.deepEqual(Object.keys(pkg).sort(), Object.keys(src).sort());
  assert.deepEqual({ ...pkg.ErrorCode }, { ...src.ErrorCode });
});

test('names are kept: no function or class is renamed', () => {
  assert.equal(pkg.Index.name, 'Index');
  assert.equal(pkg.PocketVecError.name, 'PocketVecError');
  assert.equal(pkg.init.name, 'init');
  // Bundling renames a binding when two modules declare the same name, and
  // the minifier shortens locals only: every top-level name of the sources
  // must be declared under its own name in the bundle.
  const declared = new Map(); // name -> how many modules declare it
  for (const f of sources)
    for (const m of readFileSync(new URL(`../${f}`, import.meta.url), 'utf8')
      .matchAll(/^(?:export )?(?:(?:async )?function\*? ?|class |const |let )(\w+)/gm)) declared.set(m[1], (declared.get(m[1]) ?? 0) + 1);
  assert.ok(declared.has('Index') && declared.has('withUtf8') && declared.has('saveIdb'), [...declared.keys()].join());
  const missing = [...declared].filter(([n, count]) => {
    const e = n.replace('$', '\\$');
    return (text.match(new RegExp(`(?:function\\*?\\s*|class\\s+)${e}\\b|(?:^|[\\s,;{(])${e}=`, 'gm'))?.length ?? 0) < count;
  }).map(([n]) => n);
  assert.deepEqual(missing, [], 'top-level names renamed in the bundle');
});

test('the source map covers every source, with its text', () => {
  assert.deepEqual([...map.sources].sort(), sources.sort());
  for (const [i, f] of map.sources.entries())
    assert.equal(map.sourcesContent[i], readFileSync(new URL(`../${f}`, import.meta.url), 'utf8'), f);
  assert.match(text, /\n\/\/# sourceMappingURL=pocketvec\.js\.map\n$/);
});

test('lines stay short', () => {
  const lines = text.split('\n');
  assert.ok(lines.length > 40, `${lines.length} lines`);
  const longest = Math.max(...lines.map((l) => l.length));
  assert.ok(longest <= 400, `a line of ${longest} characters`);
});

// An uncaught PocketVecError in a Node program that imports the bundle, as
// a user would see it: without source maps the stack names the class and
// method and Node quotes one short line; with them, the frames are in src/.
test('an uncaught error: readable names, and the sources with --enable-source-maps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pv-bundle-'));
  try {
    const app = join(dir, 'app.mjs');
    writeFileSync(app, `import { init, Index } from ${JSON.stringify(pathToFileURL(bundle).href)};
await init();
new Index({ dim: 3 }).add([1, 2]);
`);
    const run = (...flags) => spawnSync(process.execPath, [...flags, app], { encoding: 'utf8' });
    const plain = run(), mapped = run('--enable-source-maps');
    for (const r of [plain, mapped]) {
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^PocketVecError: vector has 2 values, index expects 3$/m);
      assert.match(r.stderr, /^ {4}at Index\.add \(/m);
      assert.match(r.stderr, /^ {2}code: 4$/m);
      const longest = Math.max(...r.stderr.split('\n').map((l) => l.length));
      assert.ok(longest <= 400, `stderr has a line of ${longest} characters:\n${r.stderr}`);
    }
    assert.match(plain.stderr, /^ {4}at Index\.add \(file:.*\/pocketvec\.js:\d+:\d+\)$/m);
    assert.match(mapped.stderr, /^ {4}at Index\.add \(.*\/js\/src\/index\.js:\d+:\d+\)$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
