// SPDX-License-Identifier: MIT
// The demo's service worker: keeps the page working offline once it has
// been loaded once. On install it caches everything the page needs (the
// page, the package's pocketvec.js and .wasm, the documents with their
// text and their embeddings: 2.5 MB over the wire, docs.json gzipped);
// then every same-origin GET goes to the network first and falls back to
// that cache when the network fails.
//
// Network first, not cache first: the demo is served from a working tree,
// and a cache-first worker would keep showing the page and the .wasm of the
// first visit after a rebuild. Each successful fetch refreshes the cached
// copy, so offline the page is the last one seen online.
//
// v3: docs.json carries keys and text (the page's full-text search).
const CACHE = 'pocketvec-demo-v3';
const SHELL = ['./', 'index.html', 'app.js', 'style.css', 'pkg/pocketvec.js',
  'pkg/pocketvec.wasm', 'data/docs.json', 'data/embeddings.bin'];

self.addEventListener('install', (event) => {
  // Activate at once: there is no older page state this worker could break.
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys())
      if (name !== CACHE && name.startsWith('pocketvec-demo')) await caches.delete(name);
    // Control the page that registered us, so it works offline without a
    // second visit.
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  event.respondWith(networkFirst(event));
});

// The network's answer (cached when it is a 200, without making the page
// wait for the write), else the cached copy, else the network's error.
async function networkFirst(event) {
  const req = event.request, cache = await caches.open(CACHE);
  try {
    const res = await fetch(req);
    if (res.status === 200) event.waitUntil(cache.put(req, res.clone()));
    return res;
  } catch (err) {
    const hit = await cache.match(req, { ignoreSearch: true });
    if (hit) return hit;
    throw err;
  }
}
