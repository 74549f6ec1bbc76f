// SPDX-License-Identifier: MIT
// Node's files. A save writes a temporary file next to the target, syncs
// it, renames it over the target and syncs the directory, so a crash at any
// point leaves the old file or the new one, whole.
//
// Writers of one file are serialised by a lock file next to it
// (PATH.lock, created exclusively, holding "pid hostname"; the CLI takes
// the same lock), and a save checks, holding the lock, that the file is the
// version its index last loaded or saved: a version is what stat says of
// the file (device, inode, size, modification and change times), and every
// save makes a new inode. A lock whose process is gone (same host) is stale
// and taken over; so are the temporary files such a process left.
// Bytes only: the Index gives a save its chunks and takes a load's pieces
// (src/index.js).
import { ErrorCode, PocketVecError, bad, conflict } from '../errors.js';

/** Whether this is Node (which has files), rather than a browser or a worker. */
export const isNode = () => !!globalThis.process?.versions?.node;

/**
 * A Node module, imported only where it exists; the comments keep bundlers
 * from trying to resolve it for the browser.
 */
const node = (name) => import(/* @vite-ignore */ /* webpackIgnore: true */ `node:${name}`);
export const nodeFs = () => node('fs/promises');

const LOCK_WAIT = 10_000; // ms a save waits for another writer's lock
const EMPTY_LOCK_STALE = 5_000; // ms after which a lock file without an owner is stale

/**
 * The file a path names, as the key an Index remembers its versions by:
 * the real path when it exists (a symbolic link is followed, and a save
 * replaces what it points at), else the absolute path. Throws INVALID
 * unless path can name a file: a non-empty string without NUL, not ending
 * in a separator, not an existing directory (".", "dir"). save() and
 * load() call it before anything is read or written, so a bad target costs
 * nothing and leaves no temporary file. Other failures (no such directory,
 * no permission) are left for the open itself to report.
 */
export async function fileKey(path) {
  if (typeof path !== 'string' || !path || path.includes('\0'))
    throw bad('the path must be a non-empty string without NUL characters', path);
  if (path.endsWith('/') || (globalThis.process?.platform === 'win32' && path.endsWith('\\')))
    throw new PocketVecError(ErrorCode.INVALID, `the path "${path}" ends with a separator: it names a directory, not a file`);
  const fs = await nodeFs(), { resolve } = await node('path');
  const st = await fs.stat(path).catch(() => null);
  if (st?.isDirectory())
    throw new PocketVecError(ErrorCode.INVALID, `the path "${path}" is a directory; give the path of a file`);
  return fs.realpath(path).catch(() => resolve(path));
}

/** The version of a file from its bigint stat; null for no file. */
const versionOf = (st) => (st ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : null);

async function statVersion(fs, path) {
  try {
    return versionOf(await fs.stat(path, { bigint: true }));
  } catch (e) {
    if (e.code === 'ENOENT') return null;
    throw e;
  }
}

/** Whether process pid of this host is gone. */
function gone(pid) {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return e.code === 'ESRCH';
  }
}

/**
 * Removes the lock file if it is stale: its process, on this host, is
 * gone, or it has had no owner written into it for EMPTY_LOCK_STALE (its
 * writer died between creating and filling it). True if it was removed
 * (or had already gone).
 */
async function staleLock(fs, lock, host) {
  let text, st;
  try {
    [text, st] = await Promise.all([fs.readFile(lock, 'utf8'), fs.stat(lock)]);
  } catch (e) {
    if (e.code === 'ENOENT') return true;
    throw e;
  }
  const m = /^(\d+) (.*)\n$/.exec(text);
  const stale = m ? m[2] === host && gone(Number(m[1])) : Date.now() - st.mtimeMs > EMPTY_LOCK_STALE;
  // Between reading and removing, another process may have found the same
  // stale lock, removed it and taken the lock: compare again just before.
  if (!stale || (await fs.readFile(lock, 'utf8').catch(() => null)) !== text) return false;
  await fs.rm(lock, { force: true });
  return true;
}

/**
 * PATH.lock; where the file name would pass 255 bytes (the usual longest
 * name), the name is cut first at a character boundary, as the CLI cuts it.
 */
async function lockName(path) {
  const { basename, dirname, join } = await node('path'), base = new TextEncoder().encode(basename(path));
  if (base.length + 5 <= 255) return `${path}.lock`;
  let keep = 250;
  while (keep > 0 && (base[keep] & 0xc0) === 0x80) keep--;
  return join(dirname(path), `${new TextDecoder().decode(base.subarray(0, keep))}.lock`);
}

/**
 * fn() holding the lock file of path (PATH.lock). Waits for another
 * writer up to LOCK_WAIT, then fails with IO naming the holder.
 */
async function withLockFile(fs, path, fn) {
  const { hostname } = await node('os'), host = hostname(), lock = await lockName(path);
  for (let waited = 0, pause = 2; ; ) {
    try {
      await fs.writeFile(lock, `${process.pid} ${host}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    if (await staleLock(fs, lock, host)) continue;
    if (waited >= LOCK_WAIT) {
      const holder = (await fs.readFile(lock, 'utf8').catch(() => '')).trim() || 'a process that has not written its name yet';
      throw new PocketVecError(ErrorCode.IO, `"${path}" is being written by another process (${holder}, lock file ` +
        `${lock}) and was not released within ${LOCK_WAIT / 1000} s; if nothing is writing it, remove the lock file`);
    }
    await new Promise((ok) => setTimeout(ok, pause));
    waited += pause;
    pause = Math.min(2 * pause, 100);
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { force: true }).catch(() => {});
  }
}

/**
 * Removes the temporary files of saves of path whose process is gone
 * (killed mid-save): PATH.tmp-PID-RANDOM. Called holding the lock.
 */
async function sweep(fs, path) {
  const { dirname, basename, join } = await node('path');
  const dir = dirname(path), prefix = `${basename(path)}.tmp-`;
  for (const name of await fs.readdir(dir).catch(() => [])) {
    const pid = name.startsWith(prefix) ? Number(name.slice(prefix.length).split('-')[0]) : 0;
    if (pid > 0 && pid !== process.pid && gone(pid)) await fs.rm(join(dir, name), { force: true }).catch(() => {});
  }
}

/**
 * Writes the byte chunks (an async iterable) to the file at path (a
 * fileKey), crash-safe, holding its lock; CONFLICT if the file's version
 * is not `expect` (null: no file) unless overwrite. Returns the new
 * version. Whatever fails (a write, the sync, the close, the rename, the
 * chunks themselves), the temporary file is removed before the error is
 * thrown. Short writes are continued, never taken for the whole chunk.
 */
export async function saveFile(path, chunks, size, expect, overwrite) {
  const fs = await nodeFs(), { dirname } = await node('path');
  return withLockFile(fs, path, async () => {
    await sweep(fs, path);
    const found = await statVersion(fs, path);
    if (!overwrite && found !== expect) throw conflict(`the file "${path}"`, expect, found);
    const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const fh = await fs.open(tmp, 'wx');
    try {
      try {
        for await (const c of chunks)
          for (let o = 0; o < c.length; ) o += (await fh.write(c, o, c.length - o)).bytesWritten;
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.rename(tmp, path);
    } catch (e) {
      await fs.rm(tmp, { force: true }).catch(() => {}); // the save's error says more
      throw e;
    }
    // The rename is durable only once the directory is synced.
    const dir = await fs.open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return statVersion(fs, path);
  });
}

/**
 * Appends one change log record to the file at path (a fileKey) whose
 * index and valid records end at `end`, holding its lock; CONFLICT if the
 * file's version is not `expect`. What lies past `end` (a record an
 * interrupted save left half-written) is cut off first. The record is
 * synced before the version is returned; a write that fails is cut off
 * again, so the file stays what it was. A crash mid-append leaves a torn
 * record, which a load ignores.
 */
export async function appendFile(path, bytes, expect, end) {
  const fs = await nodeFs();
  return withLockFile(fs, path, async () => {
    const found = await statVersion(fs, path);
    if (found !== expect) throw conflict(`the file "${path}"`, expect, found);
    const fh = await fs.open(path, 'r+');
    try {
      const { size } = await fh.stat();
      if (size < end)
        throw new PocketVecError(ErrorCode.CORRUPT, `the file "${path}" is ${size} bytes, shorter than the ${end} it had when loaded or saved`);
      try {
        if (size > end) await fh.truncate(end);
        for (let o = 0; o < bytes.length; ) o += (await fh.write(bytes, o, bytes.length - o, end + o)).bytesWritten;
        await fh.sync();
      } catch (e) {
        await fh.truncate(end).catch(() => {});
        throw e;
      }
    } finally {
      await fh.close();
    }
    return statVersion(fs, path);
  });
}

/**
 * Reads the file at path in 4 MiB pieces: expect(n) first with the file's
 * size, then each piece either straight into the place room(n) offers (a
 * view of n bytes in the loading buffer, then took(bytesRead)), or, while
 * it offers none, as add(bytes): a view of one reused buffer, valid only
 * during the call. Returns the version read (a save renames a new file
 * into place, so the open file stays the version it was).
 *
 * The reads into room() are synchronous, with a turn of the event loop
 * between pieces: an asynchronous read would write into WASM memory while
 * other code may grow it (detaching the view, or moving the memory on a
 * 32-bit host). Read in place, each byte is copied once, not twice.
 */
export async function loadFile(path, { add, expect, room, took }) {
  const fs = await nodeFs(), fh = await fs.open(path, 'r'), size = 1 << 22;
  try {
    const st = await fh.stat({ bigint: true }), version = versionOf(st), { readSync } = await node('fs');
    const end = Number(st.size);
    expect(end);
    let buf = null, pos = 0;
    for (;;) {
      // In place up to the size stat gave; anything after (a record
      // appended since) through add().
      const into = pos < end ? room(Math.min(size, end - pos)) : null;
      if (into) {
        const n = readSync(fh.fd, into, 0, into.length, pos);
        if (!n) break;
        took(n);
        pos += n;
        await new Promise((ok) => setImmediate(ok));
        continue;
      }
      buf ??= new Uint8Array(size);
      const { bytesRead } = await fh.read(buf, 0, size, pos);
      if (!bytesRead) break;
      add(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return version;
  } finally {
    await fh.close();
  }
}

/**
 * Calls callback({ name, size, savedAt, removed }) each time the file at
 * path is replaced, changed or removed, by this process or another
 * (fs.watch on its directory, then stat: events for one save may come
 * several at once, a change is reported once). A directory on the way that
 * does not exist yet is waited for: the nearest one that exists is watched
 * for the next name on the path, and the watch moves down as they appear
 * (before, fs.watch failed there and the watch never fired). Returns stop().
 */
export function watchFile(path, callback) {
  if (typeof path !== 'string' || !path || path.includes('\0'))
    throw bad('the path must be a non-empty string without NUL characters', path);
  let watcher = null, last, stopped = false, pending = Promise.resolve();
  const check = async (fs) => {
    const st = await fs.stat(path, { bigint: true }).catch(() => null), v = versionOf(st);
    if (stopped || v === last) return;
    last = v;
    callback(st ? { name: path, size: Number(st.size), savedAt: new Date(Number(st.mtimeMs)), removed: false }
      : { name: path, size: 0, savedAt: new Date(), removed: true });
  };
  const ready = (async () => {
    const fs = await nodeFs(), { watch } = await node('fs'), { dirname, basename, join } = await node('path');
    last = await statVersion(fs, path);
    // Watch the deepest directory of the path that exists, for `name`: the
    // file itself, or the next directory on the way to it, whose creation
    // moves the watch one level down (and then the file may be there).
    const arm = async () => {
      let dir = dirname(path) || '.', name = basename(path);
      while (!(await fs.stat(dir).then((st) => st.isDirectory(), () => false))) {
        const up = dirname(dir);
        if (up === dir) return;
        name = basename(dir);
        dir = up;
      }
      if (stopped) return;
      const final = dir === (dirname(path) || '.');
      watcher?.close();
      const moved = () => {
        pending = pending.then(async () => {
          if (!final) await arm();
          await check(fs);
        }).catch(() => {});
      };
      watcher = watch(dir, { persistent: false }, (type, n) => {
        if (n === null || n === name) moved();
      });
      // made between the stat above and the watch: no event will tell
      if (!final && (await fs.stat(join(dir, name)).then(() => true, () => false))) moved();
    };
    if (!stopped) await arm();
  })();
  ready.catch(() => {});
  return () => {
    stopped = true;
    ready.then(() => watcher?.close(), () => {});
  };
}
