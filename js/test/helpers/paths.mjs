// SPDX-License-Identifier: MIT
// Where the build puts what the tests need. `npm test` builds them first
// (its pretest runs `make test-js-deps` in the repository root).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export const root = here('../../../');
export const distWasm = here('../../../dist/pocketvec.wasm');
export const bundle = here('../../pocketvec.js');
export const namesWasm = here('../../../build-wasm/pocketvec.names.wasm');
export const kernelsWasm = here('../../../build-wasm/kernels_test.wasm');
export const cli = process.env.PV_CLI || here('../../../build/pocketvec');
export const nativeRef = process.env.PV_NATIVE_REF || here('../../../build/pv_native_ref');

/** The path, or an error saying how to build it (tests fail, never skip). */
export function need(path) {
  if (!existsSync(path)) throw new Error(`${path} is missing: run "make test-js-deps" in ${root}`);
  return path;
}
