// SPDX-License-Identifier: MIT
// The browser side of bench/persist.mjs: the same steps for one backend,
// on the main thread or in a module worker (persist.mjs serves this file
// and a worker that imports it). Bytes written are counted by wrapping the
// store's writes: IDBObjectStore.prototype.put, the OPFS's writable
// streams and synchronous access handles.
export async function run({ dim, saves, backend, trace }) {
  // --trace: each step to the console (persist.mjs prints it), to tell
  // where a run that stops making progress is waiting.
  const step = (what) => trace && console.log(`persist ${backend}: ${what}`);
  const pv = await import('/pkg/index.js');
  await pv.init();
  const o = { backend };
  const extra = new Float32Array(await (await fetch('/extra')).arrayBuffer());
  const vec = (i) => extra.subarray(i * dim, (i + 1) * dim);
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  // Bytes written, counted where they go.
  let written = 0;
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (v, k) {
    if (this.name === 'chunks') written += v.byteLength;
    return put.call(this, v, k);
  };
  const W = globalThis.FileSystemWritableFileStream?.prototype, wwrite = W?.write;
  if (W) W.write = function (d) {
    written += d?.byteLength ?? d?.data?.byteLength ?? 0;
    return wwrite.call(this, d);
  };
  const S = globalThis.FileSystemSyncAccessHandle?.prototype, swrite = S?.write;
  if (S) S.write = function (d, o) {
    written += d.byteLength;
    return swrite.call(this, d, o);
  };
  // Whether the stored index has no change log after it (a checkpoint).
  const whole = async () => {
    if (backend === 'opfs') {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('pocketvec');
      const f = await (await dir.getFileHandle('bench.pvec')).getFile();
      return Number(new DataView(await f.slice(16, 24).arrayBuffer()).getBigUint64(0, true)) === f.size;
    }
    const db = await new Promise((ok) => (indexedDB.open('pocketvec').onsuccess = (e) => ok(e.target.result)));
    const rec = await new Promise((ok) => (db.transaction('indexes').objectStore('indexes').get('bench').onsuccess = (e) => ok(e.target.result)));
    db.close();
    return rec.chunks === rec.base;
  };
  const size = async () => (await pv.Index.list(o)).find((x) => x.name === 'bench').size;
  step('fromBytes');
  const first = pv.Index.fromBytes(new Uint8Array(await (await fetch('/base.pvec')).arrayBuffer()));
  step('first save');
  await first.save('bench', { ...o, overwrite: true });
  const wholeSize = first.toBytes().length;
  first.free();
  step('load');
  const ix = await pv.Index.load('bench', o);
  const wholeMs = [], wholeBytes = [];
  for (let i = 0; i < 5; i++) {
    ix.upsert({ key: `w${i}`, vector: vec(i), attributes: { doc: 'new' } });
    written = 0;
    const t0 = performance.now();
    await ix.save('bench', { ...o, checkpoint: true });
    wholeMs.push(performance.now() - t0);
    wholeBytes.push(written);
  }
  step('one-document saves');
  const oneMs = [], oneBytes = [];
  for (let i = 0; i < saves; i++) {
    ix.upsert({ key: `one-${i}`, vector: vec(10 + i), attributes: { doc: 'new' } });
    written = 0;
    const before = await size(), t0 = performance.now();
    await ix.save('bench', { ...o, checkpoint: false });
    oneMs.push(performance.now() - t0);
    // On the main thread an OPFS append is written by the package's own
    // worker, out of this page's reach: there, what the file grew by.
    oneBytes.push(written || (await size()) - before);
  }
  await ix.save('bench', { ...o, checkpoint: true });
  ix.free();
  step('automatic policy');
  const a = await pv.Index.load('bench', o);
  let auto = 0, longest = 0;
  for (let i = 0; i < 200; i++) {
    a.upsert({ key: `auto-${i}`, vector: vec(30 + (i % 60)), attributes: { doc: 'auto' } });
    await a.save('bench', o);
    if (await whole()) break;
    auto++;
    longest = await size();
  }
  // The longest log the policy left is what 'bench' held just before
  // its checkpoint: make it again (the checkpoint replaced it).
  await a.save('bench', { ...o, checkpoint: true });
  for (let i = 0; i < auto; i++) {
    a.upsert({ key: `again-${i}`, vector: vec(30 + (i % 60)), attributes: { doc: 'auto' } });
    await a.save('bench', { ...o, checkpoint: false });
  }
  a.free();
  const loadOf = async (name) => {
    const t = [];
    for (let i = 0; i < 5; i++) {
      step(`load ${name} ${i}`);
      const t0 = performance.now();
      (await pv.Index.load(name, o)).free();
      t.push(performance.now() - t0);
    }
    return median(t);
  };
  step('loads');
  const logged = await loadOf('bench');
  step('fresh save');
  const fresh0 = pv.Index.fromBytes(new Uint8Array(await (await fetch('/base.pvec')).arrayBuffer()));
  await fresh0.save('fresh', { ...o, overwrite: true });
  fresh0.free();
  const fresh = await loadOf('fresh');
  step('remove');
  await pv.Index.remove('bench', o);
  await pv.Index.remove('fresh', o);
  return {
    index_bytes: wholeSize,
    whole_save_ms: Math.round(median(wholeMs) * 10) / 10,
    whole_save_bytes: median(wholeBytes),
    one_doc_save_ms: Math.round(median(oneMs) * 10) / 10,
    one_doc_bytes: median(oneBytes),
    one_doc_bytes_share: +(median(oneBytes) / wholeSize).toExponential(2),
    one_doc_time_share: +(median(oneMs) / median(wholeMs)).toFixed(3),
    appends_before_checkpoint: auto,
    longest_log_bytes: longest ? longest - wholeSize : 0,
    load_fresh_ms: Math.round(fresh * 10) / 10,
    load_with_log_ms: Math.round(logged * 10) / 10,
    load_ratio: +(logged / fresh).toFixed(2),
  };
}
