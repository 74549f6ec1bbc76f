#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// Copy a .wasm module without its custom sections (names, debug info,
// producers, target features), leaving every other byte as it is: unlike
// re-encoding it with a tool, the code section stays identical to the
// input's, so tests can map function names from the unstripped build.
//   node scripts/wasm-strip.mjs IN.wasm OUT.wasm
import { readFileSync, writeFileSync } from 'node:fs';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: wasm-strip.mjs IN.wasm OUT.wasm');
  process.exit(2);
}
const b = readFileSync(input);
if (b.readUInt32LE(0) !== 0x6d736100) throw new Error(`${input}: not a wasm module`);
const keep = [b.subarray(0, 8)];
let at = 8;
while (at < b.length) {
  const start = at, id = b[at++];
  let size = 0, shift = 0, byte;
  do {
    byte = b[at++];
    size += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  at += size;
  if (at > b.length) throw new Error(`${input}: section at ${start} runs past the end`);
  if (id !== 0) keep.push(b.subarray(start, at));
}
writeFileSync(output, Buffer.concat(keep));
