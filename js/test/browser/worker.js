// SPDX-License-Identifier: MIT
// The package in a module Web Worker, for run.mjs through page.js's
// inWorker(): a static import of the package (as a worker would load it),
// then one job per message, answered with one message of plain data or
// { error }.
//   { job: 'scenario', dataset, quantizations }: scenario.js's record per
//     quantization, and what init() reported.
//   { job: 'build-save', dataset, options, name }: builds the index of the
//     dataset, times the build (performance.now), saves it to IndexedDB
//     under name; answers the build and save times, the serialized size and
//     every query's 10 nearest.
//   { job: 'opfs', dataset, name }: opfsRound (scenario.js) here, where
//     appends go through synchronous access handles.
import * as pv from '/pkg/index.js';
import { fetchDataset, opfsRound, scenario, searchAll } from './scenario.js';

async function run({ job, dataset, quantizations, options, name }) {
  const { version, kernels } = await pv.init();
  const ds = await fetchDataset(dataset);
  if (job === 'scenario') {
    const results = {};
    for (const quantization of quantizations) results[quantization] = scenario(pv, { ...ds, quantization });
    return { info: { version, kernels }, results };
  }
  if (job === 'build-save') {
    const t0 = performance.now(), index = new pv.Index(options);
    try {
      index.addBatch(ds.base);
      const buildMs = performance.now() - t0;
      const hits = searchAll(index, ds.queries, ds.dim, 10);
      const t1 = performance.now();
      await index.save(name);
      return { buildMs, saveMs: performance.now() - t1, bytes: index.toBytes().length, hits };
    } finally {
      index.free();
    }
  }
  if (job === 'opfs') return { ...(await opfsRound(pv, ds, name)), sync: typeof FileSystemSyncAccessHandle === 'function' };
  throw new Error(`unknown job ${job}`);
}

onmessage = ({ data }) => run(data).then(postMessage, (e) => postMessage({ error: String(e && e.stack || e) }));
