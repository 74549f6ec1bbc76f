#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what the WebAssembly build and the JS package's tests need, on a
# fresh Debian machine. Idempotent: asks apt only for what is missing, and
# does nothing (not even apt-get update) when everything is there.
#
#   clang-14, lld-14             wasm32 compiler and wasm-ld
#   wasi-libc                    libc for wasm32 (malloc, string functions)
#   libclang-rt-14-dev-wasm32    compiler builtins for wasm32
#   binaryen                     wasm-opt, which shrinks the linked module
#   libclang-rt-14-dev           libFuzzer and sanitizer runtimes (make fuzz)
#   valgrind                     callgrind, for the regression gate (make bench-check)
#   chromium, fonts-liberation   Debian's browser, for the browser tests, and
#                                fonts (chromium does not depend on any)
#   make, gzip                   the build and the size budget
#   nodejs, npm                  the tests (node --test) and npm pack;
#                                skipped when a node >= 18 is on PATH
set -euo pipefail

want=(valgrind clang clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 libclang-rt-14-dev binaryen chromium fonts-liberation make gzip)

node_ok() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)'
}
node_ok || want+=(nodejs npm)

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}"
