#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// The regression gate (make bench-check): counts the instructions of a fixed
// search workload under callgrind and compares them, and recall@10, with
// bench/baseline.json. Fails when instructions per query grow more than 10 %
// or recall drops more than 0.5 point, naming the figure that moved.
//   node bench/check.mjs BENCH_CHECK_BINARY           check
//   node bench/check.mjs BENCH_CHECK_BINARY --update  rewrite the baseline
// Updating the baseline is a deliberate commit.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [bin, flag] = process.argv.slice(2);
const baselinePath = fileURLToPath(new URL('baseline.json', import.meta.url));
const MAX_GROWTH = 0.10, MAX_RECALL_DROP = 0.005;

function measure(storage) {
  const out = `/tmp/pv-callgrind-${process.pid}-${storage}.out`;
  // valgrind prints to stderr; the program's JSON line is on stdout.
  const r = execFileSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`,
    '--toggle-collect=pv_search', bin, storage], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const events = readFileSync(out, 'utf8').match(/^summary: (\d+)/m);
  rmSync(out, { force: true });
  if (!events) throw new Error(`no instruction count in callgrind's output for ${storage}`);
  const res = JSON.parse(r.trim());
  return { instructions_per_query: Math.round(Number(events[1]) / res.queries), recall: res.recall, kernels: res.kernels };
}

const STORAGES = ['f32', 'sq8', 'binary'];
const now = Object.fromEntries(STORAGES.map((st) => [st, measure(st)]));
if (flag === '--update') {
  writeFileSync(baselinePath, JSON.stringify({
    note: 'instructions per query inside pv_search (callgrind) and recall@10 of bench/bench_check.c; update deliberately',
    command: 'make bench-baseline', ...now }, null, 2) + '\n');
  console.log(`bench-check: wrote ${baselinePath}`);
  process.exit(0);
}
const base = JSON.parse(readFileSync(baselinePath, 'utf8'));
let failed = 0;
for (const st of STORAGES) {
  const b = base[st], n = now[st];
  if (!b) {
    console.log(`bench-check: ${st}: no baseline (make bench-baseline adds it) -- FAIL`);
    failed++;
    continue;
  }
  const growth = n.instructions_per_query / b.instructions_per_query - 1;
  const drop = b.recall - n.recall;
  const line = `${st}: ${n.instructions_per_query} instructions/query (baseline ${b.instructions_per_query}, ${(growth * 100).toFixed(1)}%), recall@10 ${n.recall.toFixed(4)} (baseline ${b.recall.toFixed(4)})`;
  const moved = [];
  if (n.kernels !== b.kernels) moved.push(`kernels are ${n.kernels}, the baseline was measured with ${b.kernels}`);
  if (growth > MAX_GROWTH) moved.push(`instructions per query grew ${(growth * 100).toFixed(1)}% (limit 10%)`);
  if (drop > MAX_RECALL_DROP) moved.push(`recall@10 dropped ${(drop * 100).toFixed(2)} points (limit 0.5)`);
  console.log(`bench-check: ${line}${moved.length ? ' -- FAIL: ' + moved.join('; ') : ' -- ok'}`);
  failed += moved.length > 0;
}
process.exit(failed ? 1 : 0);
