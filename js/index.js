// SPDX-License-Identifier: MIT
// pocketvec: the package's entry, and what the shipped pocketvec.js is
// bundled from (wasm/wasm.mk). Hand-written glue over pocketvec.wasm; the
// code is in src/: wasm.js (loading the module, its memory), errors.js,
// index.js (the Index class), storage/ (Node files, IndexedDB). API docs
// are in index.d.ts; keep the two in step.
import { start } from './src/wasm.js';

export { ErrorCode, PocketVecError } from './src/errors.js';
export { Index } from './src/index.js';

// init() is here, not in src/wasm.js, because it resolves the .wasm and
// relative URLs against this module's URL: this file sits next to
// pocketvec.wasm in the repository, and in the package the bundle does.
// Bundlers such as Vite find the .wasm through this very expression.
export function init(source) {
  return start(source ?? new URL('pocketvec.wasm', import.meta.url), import.meta.url);
}
