// SPDX-License-Identifier: MIT
// Seeded test data: a small PRNG (mulberry32) and clustered vectors, so
// every run of every test sees the same numbers.

export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal sample from a uniform source (Box-Muller). */
export function gauss(next) {
  const u = 1 - next(), v = next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * n vectors of dim floats as one flat Float32Array: `clusters` random
 * centres plus noise of `spread`, so that nearest neighbours are meaningful
 * (uniform random vectors in high dimension are all about equally far).
 */
export function clustered(n, dim, { seed = 1, clusters = 16, spread = 0.15 } = {}) {
  const next = rng(seed);
  const centres = new Float32Array(clusters * dim);
  for (let i = 0; i < centres.length; i++) centres[i] = gauss(next);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(next() * clusters) * dim;
    for (let d = 0; d < dim; d++) out[i * dim + d] = centres[c + d] + spread * gauss(next);
  }
  return out;
}

/** Row i of a flat array of dim-float vectors. */
export const row = (flat, dim, i) => flat.subarray(i * dim, (i + 1) * dim);
