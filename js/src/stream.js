// SPDX-License-Identifier: MIT
// Reading a ReadableStream of bytes to its end.

/**
 * Calls add(bytes) with each piece of stream until it ends. A byte stream
 * (a fetch body, File.stream()) is read into one reused 1 MiB buffer (a
 * "BYOB" reader): read piece by piece, a large body leaves a trail of
 * pieces for the garbage collector, which in Chromium added 0.2-0.4 GB to
 * the peak of loading a 0.9 GB index. Other streams piece by piece. The
 * stream is cancelled if add or a read throws.
 */
export async function drain(stream, add) {
  let reader, buf = null;
  try {
    reader = stream.getReader({ mode: 'byob' });
    buf = new ArrayBuffer(1 << 20);
  } catch {
    reader = stream.getReader();
  }
  try {
    for (;;) {
      const { done, value } = await (buf ? reader.read(new Uint8Array(buf)) : reader.read());
      if (done) return;
      add(value);
      if (buf) buf = value.buffer;
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  }
}
