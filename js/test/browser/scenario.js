// One small scenario, shared by the page and the worker.
import { init, Index, PocketVecError } from '/pkg/index.js';

export async function run() {
  const info = await init();
  const index = new Index({ dim: 4, metric: 'cosine', quantization: 'sq8' });
  index.addBatch([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 1, 0, 0]]);
  const hits = index.search(new Float32Array([1, 0.9, 0, 0]), 2);
  let err = null;
  try { index.add([NaN, 0, 0, 0]); } catch (e) { err = e; }
  index.free();
  const ok = hits[0].id === 3 && err instanceof PocketVecError && err.code === 3;
  return `${ok ? 'PASS' : 'FAIL'} ${info.kernels} ${JSON.stringify(hits)} ${err && err.message}`;
}
