// SPDX-License-Identifier: MIT
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
 * The Origin Private File System backend, wherever it runs (the page or a
 * worker): a whole save of the dataset's index under name, a load, one
 * upsert appended as a change log record, a load that replays it, two
 * indexes loaded at once (the second to save is CONFLICT), list and
 * remove. Answers what run.mjs checks: hashes, sizes, codes.
 */
export async function opfsRound(pv, ds, name) {
  const o = { backend: 'opfs' }, size = async () => (await pv.Index.list(o)).find((x) => x.name === name)?.size;
  const index = new pv.Index({ dim: ds.dim, quantization: 'sq8' });
  index.upsertBatch(Array.from({ length: ds.base.length / ds.dim }, (_, i) => ({ key: `k${i}`, vector: ds.base.subarray(i * ds.dim, (i + 1) * ds.dim) })));
  await index.save(name, { ...o, overwrite: true });
  const whole = await size();
  index.free();
  const a = await pv.Index.load(name, o), b = await pv.Index.load(name, o);
  a.upsert({ key: 'new', vector: ds.base.subarray(0, ds.dim), attributes: { fresh: true } });
  // The append writes in place (a synchronous access handle, in a worker
  // of ours on the main thread), never through a writable stream, which
  // would copy the whole file first.
  const H = FileSystemFileHandle.prototype, createWritable = H.createWritable;
  let streams = 0;
  H.createWritable = function (...args) {
    streams++;
    return createWritable.apply(this, args);
  };
  const t0 = performance.now();
  await a.save(name, { ...o, checkpoint: false });
  const appendMs = performance.now() - t0;
  H.createWritable = createWritable;
  const appended = (await size()) - whole, want = hashBytes(a.toBytes());
  const back = await pv.Index.load(name, o), got = hashBytes(back.toBytes()), fresh = back.get('new')?.attributes;
  back.free();
  b.upsert({ key: 'other', vector: ds.base.subarray(ds.dim, 2 * ds.dim) });
  const conflict = await b.save(name, o).then(() => 'saved', (e) => e.code);
  // A full quota during a whole save: IO saying what was needed and left,
  // and the version before it stays.
  const W = FileSystemWritableFileStream.prototype, write = W.write;
  W.write = () => Promise.reject(new DOMException('', 'QuotaExceededError'));
  const quota = await a.save(name, { ...o, checkpoint: true }).then(() => 'saved', (e) => `${e.code} ${e.message}`);
  W.write = write;
  const kept = await pv.Index.load(name, o), keptSame = hashBytes(kept.toBytes()) === want;
  kept.free();
  const listed = (await pv.Index.list(o)).some((x) => x.name === name);
  // Another tab removes the file (here behind the package's back): the
  // next append is CONFLICT, not a write through a handle kept from the
  // last append; a whole save writes it again, and appends go on.
  await (await (await navigator.storage.getDirectory()).getDirectoryHandle('pocketvec')).removeEntry(`${encodeURIComponent(name)}.pvec`);
  a.upsert({ key: 'after-remove', vector: ds.base.subarray(2 * ds.dim, 3 * ds.dim) });
  const afterRemove = [await a.save(name, { ...o, checkpoint: false }).then(() => 'saved', (e) => e.code)];
  afterRemove.push(await a.save(name, { ...o, overwrite: true }).then(() => 'saved', (e) => e.code));
  a.upsert({ key: 'again', vector: ds.base.subarray(3 * ds.dim, 4 * ds.dim) });
  const grew = await size();
  afterRemove.push(await a.save(name, { ...o, checkpoint: false }).then(() => 'saved', (e) => e.code));
  const again = await pv.Index.load(name, o);
  afterRemove.push((await size()) > grew, hashBytes(again.toBytes()) === hashBytes(a.toBytes()));
  again.free();
  const removed = [await pv.Index.remove(name, o), await pv.Index.remove(name, o)];
  const gone = await pv.Index.load(name, o).then(() => 'loaded', (e) => e.code);
  a.free();
  b.free();
  return { whole, appended, same: got === want, fresh, conflict, quota, keptSame, listed, afterRemove, removed, gone, streams, appendMs };
}
