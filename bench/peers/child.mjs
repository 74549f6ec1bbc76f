// SPDX-License-Identifier: MIT
// One library on one dataset, in its own process (bench/peers/run.mjs
// spawns it): a library that crashes or runs out of memory takes down only
// this process, each library's memory is measured alone, and each gets the
// Node flags it needs.
//
//   node child.mjs LIBRARY DATASET_DIR OPTIONS_JSON
//
// DATASET_DIR is what data.mjs wrote (dims.txt, base.f32, queries.f32 or
// loo, truth.u32). OPTIONS_JSON: { m, efConstruction, seed, efs, passes }.
// Writes one JSON object to stdout: build time, memory, per-ef recall@10
// and latency percentiles, load time; or { error } with exit status 1.
//
// Measuring: recall from one untimed pass over the queries; then a warm-up
// pass; then `passes` timed passes, each search timed alone with
// performance.now() around the library's own search call (its JS glue
// included: that is what users pay). Leave-one-out sets ask for k + 1 and
// drop the query's own vector. Percentiles are nearest-rank.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADAPTERS } from './adapters.mjs';

const K = 10;

/** Nearest-rank percentile p of n sorted samples. */
function percentile(sorted, p) {
  const n = sorted.length, r = p * n;
  let rank = Math.floor(r);
  if (rank < r) rank++;
  return sorted[Math.min(Math.max(rank, 1), n) - 1];
}

function f32(path) {
  const b = readFileSync(path);
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
}

async function main() {
  const [lib, dir, optsJson] = process.argv.slice(2);
  const opts = JSON.parse(optsJson);
  const dim = Number(readFileSync(join(dir, 'dims.txt'), 'utf8'));
  const base = f32(join(dir, 'base.f32'));
  const n = base.length / dim;
  const loo = existsSync(join(dir, 'loo'));
  const queriesAll = loo ? base : f32(join(dir, 'queries.f32'));
  const nq = queriesAll.length / dim;
  const tb = readFileSync(join(dir, 'truth.u32'));
  const truth = new Uint32Array(tb.buffer, tb.byteOffset, tb.length / 4);
  const make = ADAPTERS[lib];
  if (!make) throw new Error(`no adapter named ${lib}`);
  const a = await make(opts);
  // Each library gets its queries in the form its search takes, made
  // here, outside every timing.
  const queries = Array.from({ length: nq }, (_, q) => {
    const v = queriesAll.subarray(q * dim, (q + 1) * dim);
    return a.prepare ? a.prepare(v) : v;
  });
  const kAsk = loo ? K + 1 : K;
  // The top K base indexes for query q, without q itself when leave-one-out.
  const topK = (search, q) => {
    const got = search(queries[q], kAsk);
    return loo ? got.filter((b) => b !== q).slice(0, K) : got.slice(0, K);
  };
  const recallOf = (search) => {
    let found = 0;
    for (let q = 0; q < nq; q++) {
      const want = truth.subarray(q * K, q * K + K);
      for (const b of topK(search, q)) if (want.includes(b)) found++;
    }
    return found / (nq * K);
  };

  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  await a.build(base, n, dim);
  const buildS = (performance.now() - t0) / 1e3;
  const rssDelta = process.memoryUsage().rss - rss0;
  const mem = a.memory();
  process.stderr.write(`    built in ${buildS.toFixed(2)} s\n`);

  const efs = a.exact ? [null] : opts.efs;
  const search = [];
  const rebuilds = [];
  for (const ef of efs) {
    if (ef !== null) {
      const r0 = performance.now();
      await a.setEf(ef);
      if (a.efNeedsRebuild && search.length) rebuilds.push((performance.now() - r0) / 1e3);
    }
    const s = a.search;
    const recall = recallOf(s);
    for (let q = 0; q < nq; q++) topK(s, q);
    const passes = Math.max(opts.passes, Math.ceil(opts.minSamples / nq));
    const samples = new Float64Array(nq * passes);
    let i = 0, sum = 0;
    const tp = performance.now();
    for (let p = 0; p < passes; p++)
      for (let q = 0; q < nq; q++) {
        const t = performance.now();
        topK(s, q);
        sum += samples[i++] = (performance.now() - t) * 1e3;
      }
    const total = (performance.now() - tp) / 1e3;
    samples.sort();
    search.push({ ef, recall_at_10: Number(recall.toFixed(4)), samples: i,
      p50_us: +percentile(samples, 0.5).toFixed(2), p99_us: +percentile(samples, 0.99).toFixed(2),
      p999_us: +percentile(samples, 0.999).toFixed(2), mean_us: +(sum / i).toFixed(2),
      qps: +(i / total).toFixed(1) });
    process.stderr.write(`    ef ${String(ef ?? '-').padStart(4)}  recall ${recall.toFixed(4)}  ` +
      `p50 ${percentile(samples, 0.5).toFixed(1)} us  p99 ${percentile(samples, 0.99).toFixed(1)} us\n`);
  }

  // Load from bytes: best of three opens of what save() produced, and the
  // reopened index must answer as the built one does.
  let load = null;
  try {
    const { ref, bytes: size, unit } = await a.save();
    let best = Infinity, same = null;
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      const back = await a.load(ref);
      best = Math.min(best, performance.now() - t);
      if (r === 0) {
        let agree = 0;
        const m = Math.min(nq, 50);
        for (let q = 0; q < m; q++) {
          const x = topK(a.search, q), y = topK(back.search, q);
          if (x.length === y.length && x.every((v, j) => v === y[j])) agree++;
        }
        same = agree / m;
      }
      back.free();
    }
    load = { ms: +best.toFixed(3), bytes: size, ...(unit ? { unit } : {}), same_results: same };
  } catch (e) {
    load = { error: String(e?.message ?? e).slice(0, 300) };
  }
  a.free();

  process.stdout.write(`${JSON.stringify({
    library: lib, version: a.version, notes: a.notes, n, dim, queries: nq, loo,
    build_seconds: +buildS.toFixed(4), inserts_per_second: +(n / buildS).toFixed(1),
    rebuild_seconds: rebuilds.map((x) => +x.toFixed(3)),
    rss_delta_bytes: rssDelta, ...mem, search, load,
  })}\n`);
}

main().catch((e) => {
  process.stdout.write(`${JSON.stringify({ error: String(e?.stack ?? e).slice(0, 2000) })}\n`);
  process.exit(1);
});
