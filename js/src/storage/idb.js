// SPDX-License-Identifier: MIT
// IndexedDB, for browsers and workers: database "pocketvec"; store
// "indexes" holds one record per name { name, gen, version, size, chunks,
// base, savedAt }; store "chunks" holds the bytes under [name, gen, i]:
// chunks 0 .. base - 1 are the index, the rest change log records appended
// by incremental saves (appendIdb). A save writes the
// chunks of a new generation, then one transaction points the record at it
// and deletes every other generation of that name: until that commits, the
// previous version stays whole and current, so a tab closed mid-save loses
// nothing. Bytes only: the Index gives a save its chunks and takes a load's
// pieces (src/index.js).
import { ErrorCode, PocketVecError, bad, conflict } from '../errors.js';

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

/** The key an Index remembers the versions of name by. */
export async function idbKey(name) {
  checkName(name);
  return `indexeddb:${name}`;
}

/**
 * fn() holding the Web Lock of name, so that the saves (and removes) of one
 * name, in every tab and worker of the origin, run one at a time. Where the
 * browser has no Web Locks, fn() runs at once: the version check in the
 * save's last transaction still keeps a write from being lost, but two
 * saves may then both write their chunks before one of them fails.
 */
function withWebLock(name, fn) {
  const locks = globalThis.navigator?.locks;
  return locks ? locks.request(`pocketvec:${name}`, fn) : fn();
}

/** Tells the watchers of name, in this and every other tab and worker, what changed. */
function announce(event) {
  if (typeof BroadcastChannel !== 'function') return;
  const ch = new BroadcastChannel(CHANNEL);
  ch.postMessage(event);
  ch.close();
}
const CHANNEL = 'pocketvec';

/** The key range of every chunk of generation gen of name. */
const genRange = (name, gen) => IDBKeyRange.bound([name, gen, 0], [name, gen, []]);

/**
 * Saves the byte chunks (an async iterable of `size` bytes in all) under
 * name, crash-safe, holding name's Web Lock; CONFLICT if the stored version
 * of name (its generation; null if none) is not `expect`, unless
 * overwrite. Returns the new version. A save that fails deletes the chunks
 * it wrote before it reports the failure, and a save finding chunks of
 * generations no record points at (a tab closed mid-save) deletes them.
 * A full quota is IO with what the save needed and what the browser says
 * is left.
 */
export async function saveIdb(name, chunks, size, expect, overwrite) {
  checkName(name);
  return withWebLock(name, async () => {
    const db = await openDb();
    const gen = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    let i = 0, written = 0;
    try {
      // Checked before the chunks are written, so a conflict costs no
      // writing; checked again in the last transaction, which decides.
      const tx0 = db.transaction(STORES, 'readwrite'), done0 = done(tx0);
      const rec0 = await req(tx0.objectStore(STORES[0]).get(name)), found0 = recordVersion(rec0);
      if (!overwrite && found0 !== expect) {
        tx0.abort();
        await done0.catch(() => {});
        throw conflict(`IndexedDB name "${name}"`, expect, found0);
      }
      // Holding the lock, chunks of any generation but the current one are
      // left over from a save that never finished.
      if (globalThis.navigator?.locks) {
        const store = tx0.objectStore(STORES[1]);
        const g = rec0?.gen;
        if (g === undefined) store.delete(IDBKeyRange.bound([name], [name, []]));
        else {
          store.delete(IDBKeyRange.bound([name], [name, g], false, true));
          store.delete(IDBKeyRange.bound([name, g, []], [name, []]));
        }
      }
      await done0;
      for await (const c of chunks) {
        const tx = db.transaction(STORES[1], 'readwrite');
        tx.objectStore(STORES[1]).put(c, [name, gen, i++]);
        await done(tx);
        written += c.length;
      }
      const tx = db.transaction(STORES, 'readwrite'), store = tx.objectStore(STORES[1]), finished = done(tx);
      const rec = await req(tx.objectStore(STORES[0]).get(name)), found = recordVersion(rec);
      if (!overwrite && found !== expect) {
        tx.abort();
        await finished.catch(() => {});
        throw conflict(`IndexedDB name "${name}"`, expect, found);
      }
      // A save of the same name that finished while this one was writing
      // (possible only without Web Locks) deleted every generation but its
      // own, some of this one's chunks included: pointing the record at
      // this generation would lose both versions. Keep that save's and fail.
      if ((await req(store.count(genRange(name, gen)))) !== i) {
        tx.abort();
        await finished.catch(() => {});
        throw new PocketVecError(ErrorCode.IO, `another save of "${name}" finished while this one was writing; ` +
          `"${name}" holds that save's version`);
      }
      const savedAt = Date.now();
      tx.objectStore(STORES[0]).put({ name, gen, version: gen, size: written, chunks: i, base: i, savedAt });
      store.delete(IDBKeyRange.bound([name], [name, gen], false, true));
      store.delete(IDBKeyRange.bound([name, gen, []], [name, []]));
      await finished;
      announce({ name, version: gen, size: written, savedAt, removed: false });
      return gen;
    } catch (e) {
      if (i) await dropGen(db, name, gen);
      if (e?.name === 'QuotaExceededError') throw await quotaError(`"${name}"`, size, written, e);
      throw e;
    } finally {
      db.close();
    }
  });
}

/** The version of a stored record: a new one at every save, whole or incremental (null: none). */
const recordVersion = (rec) => (rec ? rec.version ?? rec.gen : null);

/**
 * Appends one change log record to name, in one transaction (so a tab
 * closed or a transaction aborted leaves the previous version whole),
 * holding its Web Lock: the record becomes the next chunk of the current
 * generation. CONFLICT if the stored version is not `expect`; CORRUPT if
 * the stored bytes are not `end` long. Returns the new version.
 */
export async function appendIdb(name, bytes, expect, end) {
  checkName(name);
  return withWebLock(name, async () => {
    const db = await openDb();
    try {
      const tx = db.transaction(STORES, 'readwrite'), finished = done(tx), recs = tx.objectStore(STORES[0]);
      const rec = await req(recs.get(name)), found = recordVersion(rec);
      if (found !== expect || rec.size !== end) {
        tx.abort();
        await finished.catch(() => {});
        if (found !== expect) throw conflict(`IndexedDB name "${name}"`, expect, found);
        throw new PocketVecError(ErrorCode.CORRUPT, `IndexedDB name "${name}" holds ${rec.size} bytes, not the ${end} it had when loaded or saved`);
      }
      const version = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`, savedAt = Date.now();
      tx.objectStore(STORES[1]).put(bytes, [name, rec.gen, rec.chunks]);
      recs.put({ ...rec, version, size: rec.size + bytes.length, chunks: rec.chunks + 1, savedAt });
      await finished;
      announce({ name, version, size: rec.size + bytes.length, savedAt, removed: false });
      return version;
    } catch (e) {
      if (e?.name === 'QuotaExceededError') throw await quotaError(`"${name}"`, bytes.length, 0, e);
      throw e;
    } finally {
      db.close();
    }
  });
}

/** Deletes the chunks of generation gen of name, as far as it can. */
async function dropGen(db, name, gen) {
  try {
    const tx = db.transaction(STORES[1], 'readwrite');
    tx.objectStore(STORES[1]).delete(genRange(name, gen));
    await done(tx);
  } catch {
    // the next save of name deletes them (saveIdb)
  }
}

/** The IO error of a save of `what` that found the quota full, with what it needed and what is left. */
export async function quotaError(what, size, written, cause) {
  let left = '';
  try {
    const { quota, usage } = await navigator.storage.estimate();
    left = `; the browser reports ${Math.max(0, quota - usage)} bytes available (quota ${quota}, in use ${usage})`;
  } catch {
    // no estimate here: say what is known
  }
  return new PocketVecError(ErrorCode.IO, `the site's storage quota is full: saving ${what} needs ${size} bytes ` +
    `besides the saved version, and ${written} had been written${left}; what this save wrote was deleted and the saved ` +
    'version is unchanged', { cause });
}

/**
 * Reads the current version of name into `to`: to.expect(size), then
 * to.add(bytes) with each chunk in order; returns the version read. NOTFOUND if there is no such name,
 * CORRUPT if chunks are missing; an error add throws rejects the load.
 */
export async function loadIdb(name, { add, expect }) {
  checkName(name);
  const db = await openDb();
  try {
    // One read-only transaction sees one consistent version; chunks go to
    // add as the cursor delivers them.
    const tx = db.transaction(STORES), finished = done(tx);
    const rec = await req(tx.objectStore(STORES[0]).get(name));
    if (!rec) throw new PocketVecError(ErrorCode.NOTFOUND, `no index named "${name}" in IndexedDB`);
    expect(rec.size);
    // The index's own chunks (large: one at a time, so that only one is in
    // memory besides what add keeps), then the change log's records (small,
    // and a cursor step costs milliseconds in a browser: all at once).
    const base = rec.base ?? rec.chunks, store = tx.objectStore(STORES[1]);
    let n = 0;
    await new Promise((ok, no) => {
      const c = store.openCursor(IDBKeyRange.bound([name, rec.gen, 0], [name, rec.gen, base], false, true));
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
    if (rec.chunks > base) {
      const log = await req(store.getAll(IDBKeyRange.bound([name, rec.gen, base], [name, rec.gen, []])));
      for (const v of log) add(v);
      n += log.length;
    }
    await finished;
    if (n !== rec.chunks)
      throw new PocketVecError(ErrorCode.CORRUPT, `index "${name}" in IndexedDB has ${n} of its ${rec.chunks} chunks`);
    return recordVersion(rec);
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
  return withWebLock(name, async () => {
    const db = await openDb();
    try {
      const tx = db.transaction(STORES, 'readwrite'), recs = tx.objectStore(STORES[0]);
      const had = (await req(recs.getKey(name))) !== undefined;
      recs.delete(name);
      tx.objectStore(STORES[1]).delete(IDBKeyRange.bound([name], [name, []]));
      await done(tx);
      if (had) announce({ name, version: null, size: 0, savedAt: Date.now(), removed: true });
      return had;
    } finally {
      db.close();
    }
  });
}

/**
 * Calls callback({ name, size, savedAt, removed }) after each save or
 * remove of name that finishes in any tab or worker of the origin, this
 * one included (a BroadcastChannel). Returns stop().
 */
export function watchIdb(name, callback) {
  checkName(name);
  if (typeof BroadcastChannel !== 'function')
    throw new PocketVecError(ErrorCode.INVALID, 'watching needs BroadcastChannel, which this environment does not have');
  const ch = new BroadcastChannel(CHANNEL);
  ch.onmessage = ({ data }) => {
    if (data?.name === name) callback({ name, size: data.size, savedAt: new Date(data.savedAt), removed: data.removed });
  };
  return () => ch.close();
}
