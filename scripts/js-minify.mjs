#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The last step of bundling js/pocketvec.js (wasm/wasm.mk): esbuild has
// bundled and minified whitespace and syntax; here terser renames local
// variables, parameters and private members (#scratch: terser renames
// those whenever it renames anything), and chains the source map, so that
//   - every top-level function and class keeps its name (Index,
//     PocketVecError, init, withUtf8...), and so does every public method
//     and property: stack traces still say `at Index.add`;
//   - the map leads `node --enable-source-maps` and devtools back to
//     src/*.js, with the original names of the renamed locals;
//   - lines stay short (at most `--line` columns).
// esbuild cannot do this: its --minify-identifiers renames the top-level
// names too (Index becomes a letter), and --keep-names only restores
// their `name` properties, not what stack traces print.
//   node scripts/js-minify.mjs IN.js OUT.js --line 160
// reads IN.js.map, writes OUT.js and OUT.js.map (named in OUT.js).
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';

const [input, output, flag, cols] = process.argv.slice(2);
if (!input || !output || (flag && flag !== '--line')) {
  console.error('usage: js-minify.mjs IN.js OUT.js [--line COLUMNS]');
  process.exit(2);
}
// terser is a dev dependency of the package in js/.
const require = createRequire(new URL('../js/package.json', import.meta.url));
const { minify } = require('terser');

// The sources, named relative to the input map, are named relative to the
// output's (which sits next to the package's index.js: src/wasm.js...).
const inMap = JSON.parse(readFileSync(`${input}.map`, 'utf8'));
inMap.sources = inMap.sources.map((s) => relative(dirname(output), resolve(dirname(input), s)));

const result = await minify(readFileSync(input, 'utf8'), {
  // Not as a module: terser would then rename the top-level names as well.
  // The input is ESM all the same, which parsing and output keep.
  module: false,
  ecma: 2022,
  compress: { passes: 2, module: true, toplevel: false, keep_classnames: true, keep_fnames: true, inline: false, reduce_funcs: false },
  mangle: { toplevel: false, keep_classnames: true, keep_fnames: true },
  format: { max_line_len: Number(cols) || false, comments: false },
  sourceMap: {
    content: inMap,
    includeSources: true,
    url: `${basename(output)}.map`,
  },
});
writeFileSync(output, `${result.code}\n`);
writeFileSync(`${output}.map`, result.map);
