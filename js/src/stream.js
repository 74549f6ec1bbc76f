// SPDX-License-Identifier: MIT
// Reading a ReadableStream of bytes to its end.

/**
 * Calls add(bytes) with each piece of stream until it ends. A byte stream
 * (a fetch body, File.stream()) is read into one reused 1 MiB buffer (a
 * "BYOB" reader): read piece by piece, a large body leaves a trail of
 * pieces for the garbage collector, which in Chromium added 0.2-0.4 GB to
 * the peak of loading a 0.9 GB index. Other streams piece by piece. The
 * stream is cancelled if add or a read throws.
 *
 * With stallMs, a read that brings nothing for that long ends the drain
 * with an error whose `stalled` is true (the stream cancelled, its pending
 * read abandoned): for sources that can be read again from where they
 * stopped (a File: see readFile).
 */
export async function drain(stream, add, stallMs = 0) {
  let reader, buf = null, timer;
  try {
    reader = stream.getReader({ mode: 'byob' });
    buf = new ArrayBuffer(1 << 20);
  } catch {
    reader = stream.getReader();
  }
  try {
    for (;;) {
      const read = buf ? reader.read(new Uint8Array(buf)) : reader.read();
      const { done, value } = await (stallMs ? Promise.race([read, new Promise((_, no) => {
        timer = setTimeout(() => no(Object.assign(new Error('a read of the stream stalled'), { stalled: true })), stallMs);
      })]) : read);
      clearTimeout(timer);
      if (done) return;
      add(value);
      if (buf) buf = value.buffer;
    }
  } catch (e) {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
    throw e;
  }
}

/**
 * Reads the Blob (a File) f to its end as drain does, calling add with
 * each piece. Chromium's stream of an OPFS file was seen to stop for good
 * part-way (a read that never settled, 65 of 96 MB in, the page idle; a
 * fresh stream of the same File reads on): a read that brings nothing for
 * STALL_MS is given up and the rest is read from a new stream starting
 * where the old one stopped. A File is a snapshot, so the bytes are the
 * same; if the file changed, the read fails (NotReadableError).
 * stallMs is for the tests.
 */
const STALL_MS = 3000, STALL_TRIES = 3;
export async function readFile(f, add, stallMs = STALL_MS) {
  let at = 0;
  for (let tries = 0; ; ) {
    const from = at;
    try {
      await drain(at ? f.slice(at).stream() : f.stream(), (c) => {
        at += c.length;
        add(c);
      }, stallMs);
      return;
    } catch (e) {
      // Stalls in a row without a byte between them: give up.
      tries = at > from ? 1 : tries + 1;
      if (!e?.stalled || tries > STALL_TRIES) throw e;
    }
  }
}
