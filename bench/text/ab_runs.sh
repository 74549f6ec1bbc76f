#!/bin/bash
# SPDX-License-Identifier: MIT
# A/B of package builds through the text benchmark itself: ROUNDS rounds,
# each running bench_text.mjs on the Fiori docs once per build, in turn
# (a fresh process each, pocketvec only, 20,000 timed searches per kind).
# Each DIR holds a pocketvec.js and its pocketvec.wasm (copies of js/ after
# `make wasm`). Prints one line per run, sorted by build:
#   DIR  text-p50  text-mean  prefix-p50  hybrid-p50  vector-p50   (us)
#
#   bash bench/text/ab_runs.sh 4 /tmp/a /tmp/b
# Needs the data (node bench/text/data.mjs). Run on an idle machine.
set -euo pipefail
rounds=$1
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for _ in $(seq "$rounds"); do
  for b in "$@"; do
    node "$root/bench/text/bench_text.mjs" --set fiori --engines pocketvec --min-samples 20000 \
      --pocketvec "$b/pocketvec.js" --out "$out/t.json" --report "$out/t.md" >/dev/null 2>&1
    node -e "const m = require('$out/t.json').sets.fiori.engines[0].modes;
      const us = (x) => (x.p50_ms * 1000).toFixed(2);
      console.log('$b', us(m.text), (m.text.mean_ms * 1000).toFixed(2), us(m.prefix), us(m.hybrid), us(m.vector));"
  done
done | sort
