#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Vite example (examples/vite) builds and works: `npm ci` there (from the
# committed package-lock.json; the npm registry is the only network used),
# `vite build`, then checks that dist/ holds pocketvec.wasm as an asset,
# byte-identical to js/pocketvec.wasm, and that the bundle's JS points at it.
# With Debian's chromium (/usr/bin/chromium, or $CHROMIUM), also loads the
# built page from a static server on 127.0.0.1 and the page from Vite's dev
# server in headless Chromium (examples/vite/browser-check.mjs) and checks
# the search result it shows; without it, says that the browser run was
# skipped. Needs js/pocketvec.wasm: run `make wasm` first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ex="$root/examples/vite"
say() { echo "vite-example: $*"; }
fail() { echo "vite-example: FAIL: $*" >&2; exit 1; }

wasm="$root/js/pocketvec.wasm"
[ -s "$wasm" ] || fail "$wasm is missing: run \`make wasm\` first"

cd "$ex"
# install-links=true (.npmrc): pocketvec is copied from ../../js at install
# time, as a registry install would put it; npm ci makes a fresh copy.
npm ci --no-audit --no-fund --prefer-offline
[ -d node_modules/pocketvec ] && [ ! -L node_modules/pocketvec ] ||
  fail "node_modules/pocketvec is not an installed copy (is .npmrc's install-links=true there?)"
cmp -s node_modules/pocketvec/pocketvec.wasm "$wasm" ||
  fail "node_modules/pocketvec/pocketvec.wasm differs from js/pocketvec.wasm"
say "vite $(node -p "require('vite/package.json').version"), playwright-core $(node -p "require('playwright-core/package.json').version"), pocketvec $(node -p "require('pocketvec/package.json').version") from ../../js"

rm -rf dist
log=$(mktemp)
trap 'rm -f "$log"' EXIT
node_modules/.bin/vite build 2>&1 | tee "$log"
if grep -q "doesn't exist at build time" "$log"; then fail "vite could not find a new URL(..., import.meta.url) target"; fi

# Exactly one .wasm asset, the package's module byte for byte.
shopt -s nullglob
assets=(dist/assets/*.wasm)
[ "${#assets[@]}" -eq 1 ] || fail "expected one .wasm in dist/assets, found ${#assets[@]}: ${assets[*]:-none}"
asset=${assets[0]}
cmp -s "$asset" "$wasm" || fail "$asset differs from js/pocketvec.wasm"
name=$(basename "$asset")
# The bundle's JS refers to the emitted file, and no longer to the bare
# 'pocketvec.wasm' that pocketvec.js resolves against its own URL.
refs=$(grep -l -F "/$name" dist/assets/*.js || true)
[ -n "$refs" ] || fail "no JS in dist/assets refers to $name"
if grep -E -q "[\`'\"]pocketvec\.wasm[\`'\"]" dist/assets/*.js; then
  fail "a JS file in dist/assets still has the unrewritten 'pocketvec.wasm'"
fi
say "dist: $asset ($(wc -c <"$asset") bytes, same as js/pocketvec.wasm), referenced from $(echo $refs)"

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$chromium" ]; then
  CHROMIUM="$chromium" node browser-check.mjs
  CHROMIUM="$chromium" node browser-check.mjs --dev
  say "ok: build checks passed; the built page and the dev server work in headless Chromium"
else
  say "build checks passed"
  say "SKIPPED the browser run: $chromium not found (apt-get install chromium to run it)"
  say "ok (build only, browser run SKIPPED)"
fi
