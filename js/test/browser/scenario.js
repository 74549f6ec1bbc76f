// What the browser tests run in more than one place: the seeded dataset as
// the test server sends it, and the build / search / delete / compact
// scenario, which the page, the Web Worker and run.mjs (in Node, for the
// expected results) all run with the same inputs. No imports: the package
// is passed in, so each caller brings the copy it loaded (/pkg/index.js in
// the browser, ../../index.js in Node, the shipped bundle, the fallback).

/**
 * The dataset bench/datagen.mjs makes for (dim, n, nq, seed), fetched from
 * the test server (run.mjs generates it there: datagen reads node:fs, so it
 * cannot run in a page). part 'queries' fetches only the nq queries.
 * Returns { base, queries, dim }: Float32Array views, base empty for
 * 'queries'. Throws if the server answers with an error.
 */
export async function fetchDataset({ dim, n, nq, seed }, part = 'all') {
  const res = await fetch(`/data/${dim}/${n}/${nq}/${seed}?part=${part}`);
  if (!res.ok) throw new Error(`dataset ${dim}/${n}/${nq}/${seed}: HTTP ${res.status}`);
  const all = new Float32Array(await res.arrayBuffer());
  const split = part === 'queries' ? 0 : n * dim;
  return { dim, base: all.subarray(0, split), queries: all.subarray(split) };
}

/**
 * Every query's k nearest as [{ id, distance }] lists, what the tests
 * compare: queries is a flat Float32Array of dim-value rows; exact picks
 * searchExact over search.
 */
export function searchAll(index, queries, dim, k, exact = false) {
  const hits = [];
  for (let o = 0; o < queries.length; o += dim) {
    const q = queries.subarray(o, o + dim);
    hits.push(exact ? index.searchExact(q, k) : index.search(q, k));
  }
  return hits;
}

/**
 * FNV-1a (32-bit) of the bytes: one number that all but surely differs
 * when a byte does, so two serialized indexes are compared without
 * shipping them between the page and Node.
 */
export function hashBytes(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/**
 * Builds an index of `base` (cosine, the given quantization, a fixed level
 * seed, automatic compaction off so compact() is the one that runs), then
 * records every query's 10 nearest after the build, after deleting every
 * third id, and after compact(), plus a few exact searches, the counts and
 * a hash of the serialized index. Returns that record (plain data, so a
 * page or worker can hand it back); frees the index; throws whatever the
 * package throws. Two runs give equal records only if they built the same
 * graph and computed the same distances to the last bit.
 */
export function scenario(pv, { dim, base, queries, quantization }) {
  const index = new pv.Index({ dim, metric: 'cosine', quantization, m: 12, efConstruction: 64,
    seed: 5, compactThreshold: 0 });
  try {
    const ids = index.addBatch(base);
    const out = { firstId: ids[0], lastId: ids[ids.length - 1], built: searchAll(index, queries, dim, 10) };
    out.exact = searchAll(index, queries.subarray(0, 5 * dim), dim, 10, true);
    for (const id of ids) if (id % 3 === 0) index.delete(id);
    out.deleted = searchAll(index, queries, dim, 10);
    out.tombstones = index.deletedCount;
    index.compact();
    index.check();
    out.compacted = searchAll(index, queries, dim, 10);
    out.size = index.size;
    out.deletedAfterCompact = index.deletedCount;
    const bytes = index.toBytes();
    out.bytes = { length: bytes.length, hash: hashBytes(bytes) };
    return out;
  } finally {
    index.free();
  }
}

/**
 * Documents, as a notes application would keep them: an index of `base`
 * (rows of dim) where row i is the document "note-i" with attributes made
 * from i, then some replaced by key, edited (merge and replace), deleted
 * by key. Returns the index (the caller frees it). The same in Node and
 * in a page, so the two can be compared.
 */
export function notesIndex(pv, { dim, base }) {
  const index = new pv.Index({ dim, metric: 'cosine', quantization: 'sq8', seed: 7 });
  const n = base.length / dim, authors = ['Ann', 'Bo', 'Émile'];
  const docs = [];
  for (let i = 0; i < n; i++)
    docs.push({
      key: `note-${i}`, vector: base.subarray(i * dim, (i + 1) * dim),
      attributes: {
        title: `Note ${i} ✎`, tags: i % 3 ? ['home'] : ['work', 'home'], created: 1704067200 + i * 3600,
        pinned: i % 7 === 0, author: { name: authors[i % 3] },
      },
    });
  index.upsertBatch(docs);
  for (let i = 0; i < n; i += 10) index.upsert({ key: `note-${i}`, vector: docs[(i + 1) % n].vector, attributes: { title: `Note ${i}, again`, tags: ['again'] } });
  for (let i = 1; i < n; i += 10) index.setAttributes(`note-${i}`, { pinned: true, edited: 1 }, { merge: true });
  for (let i = 2; i < n; i += 10) index.setAttributes(`note-${i}`, { replaced: true });
  for (let i = 3; i < n; i += 10) index.delete(`note-${i}`);
  return index;
}

/**
 * What the documents tests compare: lookups by key (present, replaced,
 * deleted), filters as text and as objects (count, find, filtered search
 * with attributes), and the fields. Plain data.
 */
export function notesView(index, queries, dim) {
  const q = (i) => queries.subarray(i * dim, (i + 1) * dim);
  const doc = (key) => {
    const d = index.get(key);
    return d && { ...d, vector: Array.from(d.vector) };
  };
  return {
    size: index.size,
    docs: ['note-0', 'note-1', 'note-2', 'note-3', 'note-4', 'note-42'].map(doc),
    pinned: index.find('pinned == true').map((d) => d.key),
    work: index.count({ tags: { $contains: 'work' } }),
    recent: index.find({ created: { $gte: 1704067200 + 200 * 3600 }, 'author.name': 'Émile' }, { limit: 5 }),
    hits: [0, 1, 2].map((i) => index.search(q(i), 5, { filter: 'tags contains "home" and not pinned == true', attributes: true })),
    exact: [0, 1, 2].map((i) => index.searchExact(q(i), 5, { filter: { $or: [{ edited: 1 }, { replaced: true }] } })),
    fields: index.fields(),
  };
}
