// SPDX-License-Identifier: MIT
// The page side of the browser tests: what run.mjs calls through
// page.evaluate besides the package itself (page.html puts this module on
// window.app and the package on window.pv). Rendering errors the way an
// application would, reading and damaging the package's IndexedDB records
// directly, interrupting saves, and talking to the Web Worker.
import * as pv from '/pkg/index.js';

export { fetchDataset, opfsRound, scenario, searchAll, hashBytes } from './scenario.js';

const $ = (id) => document.getElementById(id);

/**
 * Runs fn (sync or async; it returns a list of hits) and shows the outcome
 * in the page: the hits in #results and #error hidden, or the error in
 * #error as "CODE_NAME: message" and #results emptied. Never throws:
 * returns { ok: true, hits } or { ok: false, isPocketVecError, name, code,
 * message } for run.mjs to check against what the DOM shows.
 */
export async function show(fn) {
  try {
    const hits = await fn();
    $('results').replaceChildren(...hits.map((h) => {
      const li = document.createElement('li');
      li.textContent = `${h.id} ${h.distance.toFixed(4)}`;
      return li;
    }));
    $('error').textContent = '';
    $('error').hidden = true;
    return { ok: true, hits };
  } catch (e) {
    const isPocketVecError = e instanceof pv.PocketVecError;
    const codeName = Object.keys(pv.ErrorCode).find((k) => pv.ErrorCode[k] === e.code);
    $('results').replaceChildren();
    $('error').textContent = isPocketVecError ? `${codeName}: ${e.message}` : `unexpected ${e.name}: ${e.message}`;
    $('error').hidden = false;
    return { ok: false, isPocketVecError, name: e.name, code: e.code, message: e.message };
  }
}

// ---- the package's IndexedDB, read and written behind its back -------------
// The layout is src/storage/idb.js's: database "pocketvec", store "indexes" (one
// record per name: { name, gen, size, chunks, savedAt }) and store "chunks"
// (the bytes under [name, gen, i]).

function request(r) {
  return new Promise((ok, no) => {
    r.onsuccess = () => ok(r.result);
    r.onerror = () => no(r.error);
  });
}

// Opens the existing database at whatever version it has: the package
// created it, and these helpers must never create or upgrade it.
const openDb = () => request(indexedDB.open('pocketvec'));

/**
 * The saved record of `name` (undefined if none) and the keys of every
 * chunk stored under that name, whatever its generation: { record, keys }.
 */
export async function stored(name) {
  const db = await openDb();
  try {
    const tx = db.transaction(['indexes', 'chunks']);
    const record = await request(tx.objectStore('indexes').get(name));
    const keys = await request(tx.objectStore('chunks').getAllKeys(IDBKeyRange.bound([name], [name, []])));
    return { record, keys };
  } finally {
    db.close();
  }
}

/** Flips one bit of byte `offset` in chunk `chunk` of the current version of `name`. */
export async function damageChunk(name, chunk, offset) {
  const { record } = await stored(name);
  if (!record) throw new Error(`no record for "${name}"`);
  const db = await openDb();
  try {
    const tx = db.transaction('chunks', 'readwrite'), chunks = tx.objectStore('chunks');
    const key = [name, record.gen, chunk];
    const bytes = new Uint8Array(await request(chunks.get(key)));
    bytes[offset] ^= 1;
    chunks.put(bytes, key);
    await new Promise((ok, no) => {
      tx.oncomplete = ok;
      tx.onabort = () => no(tx.error);
    });
  } finally {
    db.close();
  }
}

// ---- interrupting saves ------------------------------------------------------

const put = IDBObjectStore.prototype.put;

/**
 * Logs every IDBObjectStore.put to the console as "pv-put STORE", so run.mjs
 * (which listens to the console) sees a save's progress as it happens.
 */
export function tracePuts() {
  IDBObjectStore.prototype.put = function (...args) {
    console.log(`pv-put ${this.name}`);
    return put.apply(this, args);
  };
}

/**
 * Makes chunk put number `after` + 1 (counting from this call) abort its
 * transaction right after issuing the put, as a browser that kills a
 * transaction mid-save would; puts to other stores pass. Returns a
 * function that puts the original back.
 */
export function abortChunkPutAfter(after) {
  let n = 0;
  IDBObjectStore.prototype.put = function (...args) {
    const r = put.apply(this, args);
    if (this.name === 'chunks' && n++ === after) this.transaction.abort();
    return r;
  };
  return () => {
    IDBObjectStore.prototype.put = put;
  };
}

// ---- the Web Worker ------------------------------------------------------------

/**
 * Posts `job` to a fresh module worker (worker.js) and resolves with its
 * answer; rejects with the worker's error if it failed or could not start.
 */
export function inWorker(job) {
  const worker = new Worker('./worker.js', { type: 'module' });
  return new Promise((ok, no) => {
    worker.onmessage = ({ data }) => (data.error ? no(new Error(`in the worker: ${data.error}`)) : ok(data));
    worker.onerror = (e) => no(new Error(`the worker failed to start or threw: ${e.message}`));
    worker.postMessage(job);
  }).finally(() => worker.terminate());
}
