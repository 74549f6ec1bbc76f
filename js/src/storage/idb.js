// SPDX-License-Identifier: MIT
// IndexedDB, for browsers and workers: database "pocketvec"; store
// "indexes" holds one record per name { name, gen, size, chunks, savedAt };
// store "chunks" holds the bytes under [name, gen, i]. A save writes the
// chunks of a new generation, then one transaction points the record at it
// and deletes every other generation of that name: until that commits, the
// previous version stays whole and current, so a tab closed mid-save loses
// nothing. Bytes only: the Index gives a save its chunks and takes a load's
// pieces (src/index.js).
import { ErrorCode, PocketVecError, bad } from '../errors.js';

const STORES = ['indexes', 'chunks'];

/** The result of an IDBRequest, as a promise. */
function req(r) {
  return new Promise((ok, no) => {
    r.onsuccess = () => ok(r.result);
    r.onerror = () => no(r.error);
  });
}

/** Resolves when the transaction commits; rejects if it fails or aborts. */
function done(tx) {
  return new Promise((ok, no) => {
    tx.oncomplete = () => ok();
    tx.onerror = tx.onabort = () => no(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** The database, created on first use; the caller closes it. */
function openDb() {
  if (!globalThis.indexedDB) throw new PocketVecError(ErrorCode.INVALID, 'IndexedDB is not available here; in Node, save to a file path');
  const r = indexedDB.open('pocketvec', 1);
  r.onupgradeneeded = () => {
    r.result.createObjectStore(STORES[0], { keyPath: 'name' });
    r.result.createObjectStore(STORES[1]);
  };
  return req(r);
}

/** Throws INVALID unless name is a non-empty string (what every call takes). */
export function checkName(name) {
  if (typeof name !== 'string' || !name) throw bad('the name must be a non-empty string', name);
}

/** Saves the byte chunks (an async iterable) under name, crash-safe. */
export async function saveIdb(name, chunks) {
  checkName(name);
  const db = await openDb();
  try {
    const gen = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    let i = 0, size = 0;
    for await (const c of chunks) {
      const tx = db.transaction(STORES[1], 'readwrite');
      tx.objectStore(STORES[1]).put(c, [name, gen, i++]);
      size += c.length;
      await done(tx);
    }
    const tx = db.transaction(STORES, 'readwrite'), store = tx.objectStore(STORES[1]), finished = done(tx);
    // A save of the same name that finished while this one was writing
    // (another tab, an overlapping autosave) deleted every generation but
    // its own, some of this one's chunks included: pointing the record at
    // this generation would lose both versions. Keep that save's, drop the
    // rest of this one, and fail.
    const mine = IDBKeyRange.bound([name, gen, 0], [name, gen, []]);
    if ((await req(store.count(mine))) !== i) {
      store.delete(mine);
      await finished;
      throw new PocketVecError(ErrorCode.IO, `another save of "${name}" finished while this one was writing; ` +
        `"${name}" holds that save's version`);
    }
    tx.objectStore(STORES[0]).put({ name, gen, size, chunks: i, savedAt: Date.now() });
    store.delete(IDBKeyRange.bound([name], [name, gen], false, true));
    store.delete(IDBKeyRange.bound([name, gen, []], [name, []]));
    await finished;
  } finally {
    db.close();
  }
}

/**
 * Reads the current version of name, calling add(bytes) with each chunk
 * in order. NOTFOUND if there is no such name, CORRUPT if chunks are
 * missing; an error add throws rejects the load.
 */
export async function loadIdb(name, add) {
  checkName(name);
  const db = await openDb();
  try {
    // One read-only transaction sees one consistent version; chunks go to
    // add as the cursor delivers them.
    const tx = db.transaction(STORES), finished = done(tx);
    const rec = await req(tx.objectStore(STORES[0]).get(name));
    if (!rec) throw new PocketVecError(ErrorCode.NOTFOUND, `no index named "${name}" in IndexedDB`);
    let n = 0;
    await new Promise((ok, no) => {
      const c = tx.objectStore(STORES[1]).openCursor(IDBKeyRange.bound([name, rec.gen, 0], [name, rec.gen, []]));
      c.onerror = () => no(c.error);
      c.onsuccess = () => {
        const cur = c.result;
        if (!cur) return ok();
        try {
          add(cur.value);
        } catch (e) {
          return no(e);
        }
        n++;
        cur.continue();
      };
    });
    await finished;
    if (n !== rec.chunks)
      throw new PocketVecError(ErrorCode.CORRUPT, `index "${name}" in IndexedDB has ${n} of its ${rec.chunks} chunks`);
  } finally {
    db.close();
  }
}

/** Names, sizes and save times of the saved indexes. */
export async function listIdb() {
  const db = await openDb();
  try {
    const all = await req(db.transaction(STORES[0]).objectStore(STORES[0]).getAll());
    return all.map(({ name, size, savedAt }) => ({ name, size, savedAt: new Date(savedAt) }));
  } finally {
    db.close();
  }
}

/** Deletes name and its chunks; true if there was one. */
export async function removeIdb(name) {
  checkName(name);
  const db = await openDb();
  try {
    const tx = db.transaction(STORES, 'readwrite'), recs = tx.objectStore(STORES[0]);
    const had = (await req(recs.getKey(name))) !== undefined;
    recs.delete(name);
    tx.objectStore(STORES[1]).delete(IDBKeyRange.bound([name], [name, []]));
    await done(tx);
    return had;
  } finally {
    db.close();
  }
}
