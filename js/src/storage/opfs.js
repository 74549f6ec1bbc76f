// SPDX-License-Identifier: MIT
// The Origin Private File System, for browsers and workers: one file per
// name, "NAME.pvec" (the name URI-encoded) in the directory "pocketvec".
//
// A whole save goes through a writable stream (createWritable), which
// writes to a swap file and replaces the file atomically when closed: a tab
// closed or a stream aborted half-way leaves the previous version. An
// incremental save appends one change log record through a synchronous
// access handle, written and flushed in place (a record cut short by a
// crash is ignored at load and cut off by the next append). The main
// thread has no such handles: there a small worker of ours (started from a
// Blob URL, kept for the page's life) makes the append. Where no worker can
// start (a Content-Security-Policy without blob: workers), a writable
// stream that keeps the existing data does it, and costs a copy of the
// file (the browser copies it into its swap file first).
//
// Writers of one name take turns under a Web Lock, and a save checks, in
// turn, that the file is the version its index last loaded or saved (its
// size and modification time). Bytes only: the Index gives a save its
// chunks and takes a load's pieces (src/index.js).
import { ErrorCode, PocketVecError, bad, conflict } from '../errors.js';
import { quotaError } from './idb.js';
import { readFile } from '../stream.js';

const OPFS_DIR = 'pocketvec', OPFS_CHANNEL = 'pocketvec-opfs';

const opfsName = (name) => `${encodeURIComponent(name)}.pvec`;

/** Throws INVALID unless name is a non-empty string; the key an Index remembers its versions by. */
export async function opfsKey(name) {
  if (typeof name !== 'string' || !name) throw bad('the name must be a non-empty string', name);
  return `opfs:${name}`;
}

/** The directory, created on first use. */
async function opfsDir() {
  if (!globalThis.navigator?.storage?.getDirectory)
    throw new PocketVecError(ErrorCode.INVALID, 'the Origin Private File System is not available here');
  return (await navigator.storage.getDirectory()).getDirectoryHandle(OPFS_DIR, { create: true });
}

/** The file of name, or null when there is none. */
async function opfsFile(name, create = false) {
  try {
    return await (await opfsDir()).getFileHandle(opfsName(name), { create });
  } catch (e) {
    if (e?.name === 'NotFoundError') return null;
    throw e;
  }
}

/** The version of a file: its size and modification time (null: no file). */
async function opfsVersion(h) {
  if (!h) return null;
  try {
    const f = await h.getFile();
    return `${f.size}:${f.lastModified}`;
  } catch (e) {
    if (e?.name === 'NotFoundError') return null; // removed since h was had
    throw e;
  }
}

// The handles appends found, by name: resolving one is three round trips
// to the browser (a fifth of an append's time on the main thread). A
// handle names a path, so it outlives a whole save's replacement of the
// file; a removed file reads as no version (so a CONFLICT), and its
// handle is dropped.
const appendHandles = new Map();

const withOpfsLock = (name, fn) => {
  const locks = globalThis.navigator?.locks;
  return locks ? locks.request(`pocketvec-opfs:${name}`, fn) : fn();
};

function announceOpfs(event) {
  if (typeof BroadcastChannel !== 'function') return;
  const ch = new BroadcastChannel(OPFS_CHANNEL);
  ch.postMessage(event);
  ch.close();
}

/** Saves the byte chunks as name's whole file, atomically; CONFLICT unless it is at `expect` or overwrite. */
export async function saveOpfs(name, chunks, size, expect, overwrite) {
  return withOpfsLock(name, async () => {
    const found = await opfsVersion(await opfsFile(name));
    if (!overwrite && found !== expect) throw conflict(`OPFS name "${name}"`, expect, found);
    const h = await opfsFile(name, true), w = await h.createWritable();
    let written = 0;
    try {
      for await (const c of chunks) {
        await w.write(c);
        written += c.length;
      }
      await w.close();
    } catch (e) {
      await w.abort().catch(() => {}); // the swap file goes; the file stays as it was
      if (e?.name === 'QuotaExceededError') throw await quotaError(`OPFS name "${name}"`, size, written, e);
      throw e;
    }
    const f = await h.getFile();
    announceOpfs({ name, size: f.size, savedAt: f.lastModified, removed: false });
    return `${f.size}:${f.lastModified}`;
  });
}

// The append through a synchronous access handle: the record at `end`
// (the file cut back there first), flushed; on failure the file cut back
// to `end` (a record cut short or whole: a load ignores the first). The
// helper worker runs this very function, from its source text: it uses
// nothing from outside itself.
const syncAppend = async (h, b, e) => {
  const s = await h.createSyncAccessHandle();
  try {
    if (s.getSize() > e) s.truncate(e);
    for (let o = 0; o < b.length; ) o += s.write(b.subarray(o), { at: e + o });
    s.flush();
  } catch (x) {
    try {
      s.truncate(e);
    } catch {
      // as above
    }
    throw x;
  } finally {
    s.close();
  }
};
let helper = null, turn = Promise.resolve();

/** The append in the helper worker: it opens the file by its name in OPFS_DIR. */
function appendInHelper(file, bytes, end) {
  const job = turn.then(() => new Promise((ok, no) => {
    // The worker's script, written compactly: the bundle keeps it as it is.
    // It keeps the handles it found (H), as appendOpfs does, until an error.
    helper ??= new Worker(URL.createObjectURL(new Blob([`const append=${syncAppend},H={};let D;onmessage=async({data:[f,b,e]})=>{try{` +
      `D??=await(await navigator.storage.getDirectory()).getDirectoryHandle(${JSON.stringify(OPFS_DIR)});` +
      'await append(H[f]??=await D.getFileHandle(f),b,e);postMessage(null)}catch(x){delete H[f];D=null;postMessage({name:x?.name,message:x?.message})}}'],
    { type: 'text/javascript' })));
    helper.onmessage = ({ data }) => (data ? no(Object.assign(new Error(data.message), { name: data.name })) : ok());
    helper.onerror = (e) => {
      helper = null; // it could not start (or died): the stream, from now on
      no(Object.assign(e, { helperFailed: true }));
    };
    helper.postMessage([file, bytes, end]);
  }));
  turn = job.catch(() => {});
  return job;
}

/** Appends one change log record to name at `end`; CONFLICT unless the file is at `expect`. */
export async function appendOpfs(name, bytes, expect, end) {
  return withOpfsLock(name, async () => {
    const h = appendHandles.get(name) ?? await opfsFile(name), found = await opfsVersion(h);
    if (found === null) appendHandles.delete(name);
    if (found !== expect) throw conflict(`OPFS name "${name}"`, expect, found);
    appendHandles.set(name, h);
    let done = false;
    if (typeof h.createSyncAccessHandle === 'function' && typeof WorkerGlobalScope !== 'undefined') {
      await syncAppend(h, bytes, end);
      done = true;
    } else if (typeof Worker === 'function' && helper !== false) {
      try {
        await appendInHelper(opfsName(name), bytes, end);
        done = true;
      } catch (e) {
        if (!e?.helperFailed && !(e instanceof DOMException && e.name === 'SecurityError')) throw e;
        helper = false;
      }
    }
    if (!done) {
      const w = await h.createWritable({ keepExistingData: true });
      try {
        await w.truncate(end);
        await w.write({ type: 'write', position: end, data: bytes });
        await w.close();
      } catch (e) {
        await w.abort().catch(() => {});
        throw e;
      }
    }
    const f = await h.getFile();
    announceOpfs({ name, size: f.size, savedAt: f.lastModified, removed: false });
    return `${f.size}:${f.lastModified}`;
  }).catch(async (e) => {
    throw e?.name === 'QuotaExceededError' ? await quotaError(`OPFS name "${name}"`, bytes.length, 0, e) : e;
  });
}

/** Reads name into `to`: to.expect(size), then to.add(bytes) with each piece; returns the version read. NOTFOUND if there is none. */
export async function loadOpfs(name, { add, expect }) {
  const h = await opfsFile(name);
  if (!h) throw new PocketVecError(ErrorCode.NOTFOUND, `no index named "${name}" in the Origin Private File System`);
  const f = await h.getFile(); // a File is a snapshot: later writes do not show
  expect(f.size);
  await readFile(f, add);
  return `${f.size}:${f.lastModified}`;
}

/** Names, sizes and save times of the indexes in the OPFS. */
export async function listOpfs() {
  const out = [];
  for await (const [n, h] of (await opfsDir()).entries()) {
    if (h.kind !== 'file' || !n.endsWith('.pvec')) continue;
    const f = await h.getFile();
    out.push({ name: decodeURIComponent(n.slice(0, -5)), size: f.size, savedAt: new Date(f.lastModified) });
  }
  return out;
}

/** Deletes name; true if there was one. */
export async function removeOpfs(name) {
  await opfsKey(name);
  return withOpfsLock(name, async () => {
    try {
      appendHandles.delete(name);
      await (await opfsDir()).removeEntry(opfsName(name));
    } catch (e) {
      if (e?.name === 'NotFoundError') return false;
      throw e;
    }
    announceOpfs({ name, size: 0, savedAt: Date.now(), removed: true });
    return true;
  });
}

/** Calls callback({ name, size, savedAt, removed }) after each save or remove of name in any tab or worker. */
export function watchOpfs(name, callback) {
  if (typeof name !== 'string' || !name) throw bad('the name must be a non-empty string', name);
  if (typeof BroadcastChannel !== 'function')
    throw new PocketVecError(ErrorCode.INVALID, 'watching needs BroadcastChannel, which this environment does not have');
  const ch = new BroadcastChannel(OPFS_CHANNEL);
  ch.onmessage = ({ data }) => {
    if (data?.name === name) callback({ name, size: data.size, savedAt: new Date(data.savedAt), removed: data.removed });
  };
  return () => ch.close();
}
