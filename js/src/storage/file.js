// Node's files. A save writes a temporary file next to the target, syncs
// it, renames it over the target and syncs the directory, so a crash at any
// point leaves the old file or the new one, whole. Bytes only: the Index
// gives a save its chunks and takes a load's pieces (src/index.js).

/** Whether this is Node (which has files), rather than a browser or a worker. */
export const isNode = () => !!globalThis.process?.versions?.node;

/**
 * Node's fs/promises, imported only where it exists; the comments keep
 * bundlers from trying to resolve it for the browser.
 */
export const nodeFs = () => import(/* @vite-ignore */ /* webpackIgnore: true */ 'node:fs/promises');

/** Writes the byte chunks (an async iterable) to the file at path, crash-safe. */
export async function saveFile(path, chunks) {
  const fs = await nodeFs();
  const { dirname } = await import(/* @vite-ignore */ /* webpackIgnore: true */ 'node:path');
  const tmp = `${path}.tmp-${globalThis.process.pid}-${Math.random().toString(36).slice(2)}`;
  const fh = await fs.open(tmp, 'wx');
  try {
    for await (const c of chunks) await fh.write(c);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await fs.rename(tmp, path);
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
