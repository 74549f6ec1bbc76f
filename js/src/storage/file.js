// SPDX-License-Identifier: MIT
// Node's files. A save writes a temporary file next to the target, syncs
// it, renames it over the target and syncs the directory, so a crash at any
// point leaves the old file or the new one, whole. Bytes only: the Index
// gives a save its chunks and takes a load's pieces (src/index.js).
import { ErrorCode, PocketVecError, bad } from '../errors.js';

/** Whether this is Node (which has files), rather than a browser or a worker. */
export const isNode = () => !!globalThis.process?.versions?.node;

/**
 * Node's fs/promises, imported only where it exists; the comments keep
 * bundlers from trying to resolve it for the browser.
 */
export const nodeFs = () => import(/* @vite-ignore */ /* webpackIgnore: true */ 'node:fs/promises');

/**
 * Throws INVALID unless path can name a file: a non-empty string without
 * NUL, not ending in a separator, not an existing directory (".", "dir").
 * save() and load() call it before anything is read or written, so a bad
 * target costs no export and leaves no temporary file. Other failures (no
 * such directory, no permission) are left for the open itself to report.
 */
export async function checkPath(path) {
  if (typeof path !== 'string' || !path || path.includes('\0'))
    throw bad('the path must be a non-empty string without NUL characters', path);
  if (path.endsWith('/') || (globalThis.process?.platform === 'win32' && path.endsWith('\\')))
    throw new PocketVecError(ErrorCode.INVALID, `the path "${path}" ends with a separator: it names a directory, not a file`);
  const st = await nodeFs().then((fs) => fs.stat(path)).catch(() => null);
  if (st?.isDirectory())
    throw new PocketVecError(ErrorCode.INVALID, `the path "${path}" is a directory; give the path of a file`);
}

/**
 * Writes the byte chunks (an async iterable) to the file at path,
 * crash-safe. Whatever fails (a write, the sync, the close, the rename,
 * the chunks themselves), the temporary file is removed before the error
 * is thrown. Short writes are continued, never taken for the whole chunk.
 */
export async function saveFile(path, chunks) {
  const fs = await nodeFs();
  const { dirname } = await import(/* @vite-ignore */ /* webpackIgnore: true */ 'node:path');
  const tmp = `${path}.tmp-${globalThis.process.pid}-${Math.random().toString(36).slice(2)}`;
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
}

/**
 * Reads the file at path in 4 MiB pieces, calling add(bytes) with each: a
 * view of one reused buffer, valid only during the call.
 */
export async function loadFile(path, add) {
  const fs = await nodeFs(), fh = await fs.open(path, 'r'), size = 1 << 22;
  try {
    const buf = new Uint8Array(size);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, size, null);
      if (!bytesRead) break;
      add(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
}
