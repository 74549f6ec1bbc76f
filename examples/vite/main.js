// SPDX-License-Identifier: MIT
import { init, Index } from 'pocketvec';

const out = document.getElementById('out');

try {
  // Vite emits pocketvec.wasm as an asset and rewrites the package's
  // new URL('pocketvec.wasm', import.meta.url), so no argument is needed.
  const { version, kernels } = await init();

  const index = new Index({ dim: 3, metric: 'l2' });
  const names = ['origin', 'x', 'y', 'far'];
  index.addBatch([[0, 0, 0], [1, 0, 0], [0, 2, 0], [5, 5, 5]]);
  const hits = index.search([0.9, 0.1, 0], 2);
  index.free();

  out.textContent = [
    `pocketvec ${version} (${kernels})`,
    ...hits.map((h) => `${names[h.id]} id=${h.id} distance=${h.distance.toFixed(2)}`),
  ].join('\n');
  out.dataset.status = 'ok';
} catch (e) {
  out.textContent = `error: ${e.message}`;
  out.dataset.status = 'error';
}
