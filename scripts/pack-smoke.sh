#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The npm package as a user gets it: `npm pack` in js/, install the tarball
# into a fresh temporary project, then import it by name from `node -e`,
# build an index, search, and print. Checks the tarball holds exactly the
# files the package needs, runs the README's Node quick start as written
# there, and checks that an uncaught error's stack leads back to the
# sources through the shipped source map. Needs no network (the package
# has no dependencies).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/js"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tgz=$(npm pack --silent --pack-destination "$tmp" | tail -1)
echo "pack-smoke: packed $tgz"
contents=$(tar -tzf "$tmp/$tgz" | sort | tr '\n' ' ')
want="package/LICENSE package/README.md package/index.d.ts package/package.json package/pocketvec.js package/pocketvec.js.map package/pocketvec.wasm "
if [ "$contents" != "$want" ]; then
  echo "pack-smoke: tarball holds: $contents" >&2
  echo "pack-smoke: expected:      $want" >&2
  exit 1
fi

mkdir "$tmp/app"
cd "$tmp/app"
echo '{ "name": "app", "version": "1.0.0", "private": true, "type": "module" }' >package.json
npm install --silent --no-audit --no-fund --prefer-offline "$tmp/$tgz"

node -e "
import('pocketvec').then(async ({ init, Index, PocketVecError }) => {
  const info = await init();
  const index = new Index({ dim: 3, metric: 'l2', quantization: 'f32' });
  const ids = index.addBatch([[0, 0, 0], [1, 0, 0], [0, 2, 0], [5, 5, 5]]);
  const hits = index.search(new Float32Array([0.9, 0.1, 0]), 2);
  let err;
  try { index.add([1, 2]); } catch (e) { err = e; }
  if (!(err instanceof PocketVecError) || hits[0].id !== 1) throw new Error('unexpected result');
  console.log('pocketvec', info.version, info.kernels, 'ids', [...ids].join(','),
              'hits', JSON.stringify(hits), 'error:', err.message);
  index.free();
});
"
# Text and hybrid search from the installed package, with wrong input too.
node --input-type=module -e "
import { init, Index, PocketVecError } from 'pocketvec';
await init();
const ix = new Index({ dim: 2, metric: 'l2', text: { stem: true, stopwords: true } });
ix.upsertBatch([{ key: 'a', vector: [1, 0], text: 'Deploying the app to the edge' },
                { key: 'b', vector: [0, 1], text: 'Edge functions' }]);
const t = ix.search({ text: 'deploy' }, 5), h = ix.search({ vector: [0, 1], text: 'edge' }, 5);
if (t.length !== 1 || t[0].key !== 'a' || h[0].key !== 'b' || !(h[0].textScore > 0)) throw new Error('text: ' + JSON.stringify([t, h]));
for (const bad of [() => ix.search({ text: 5 }, 5), () => ix.search({ text: 'x' }, 5, { fusion: 'max' }),
                   () => ix.upsert({ key: 'c', vector: [1, 1], text: '\\ud800' })]) {
  try { bad(); throw new Error('accepted: ' + bad); } catch (e) { if (!(e instanceof PocketVecError)) throw e; }
}
if (ix.size !== 2) throw new Error('a refused upsert changed the index');
console.log('pack-smoke: text', JSON.stringify(t), 'hybrid', JSON.stringify(h[0]));
"
# The README's Node quick start, exactly as written there.
awk '/^\/\/ quickstart.mjs$/{on=1} on&&/^```$/{exit} on' "$root/README.md" >quickstart.mjs
[ -s quickstart.mjs ] || { echo "pack-smoke: no quickstart.mjs block in README.md" >&2; exit 1; }
out=$(node quickstart.mjs)
echo "$out" | sed 's/^/pack-smoke: README quick start: /'
grep -q "index expects 4" <<<"$out" || { echo "pack-smoke: the README quick start did not run as written" >&2; exit 1; }
# An uncaught error names the class and method, and the shipped source map
# leads node --enable-source-maps from pocketvec.js back to the sources.
err=$(node --enable-source-maps --input-type=module -e "
import { init, Index } from 'pocketvec';
await init();
new Index({ dim: 3 }).add([1]);
" 2>&1) && { echo "pack-smoke: adding a vector of the wrong dimension did not fail" >&2; exit 1; }
frame=$(grep -m1 '^    at Index.add ' <<<"$err" || true)
if ! grep -q 'node_modules/pocketvec/src/index\.js:[0-9]' <<<"$frame"; then
  echo "pack-smoke: the error's stack does not lead to src/index.js:" >&2
  echo "$err" >&2
  exit 1
fi
echo "pack-smoke: an uncaught error, with the source map: ${frame#"${frame%%[! ]*}"}"
# The types resolve through the exports map.
test -f node_modules/pocketvec/index.d.ts
echo "pack-smoke: installed pocketvec $(node -p "require('pocketvec/package.json').version")"
echo "pack-smoke: ok"
