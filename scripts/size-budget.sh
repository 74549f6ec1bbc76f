#!/usr/bin/env bash
# The size budget of the JS package: pocketvec.wasm + the JS glue as shipped
# (pocketvec.js, bundled from js/index.js and js/src/; its source map is
# not downloaded by users, so it does not count) must be at most 40 KB
# (40,000 bytes) together after gzip -9. Prints both numbers and the total;
# exits 1 above budget. Run from anywhere; `make wasm-size` builds first.
#   BUDGET=bytes overrides the budget (default 40000).
set -euo pipefail
cd "$(dirname "$0")/.."

budget=${BUDGET:-40000}
wasm=dist/pocketvec.wasm
glue=js/pocketvec.js
for f in "$wasm" "$glue"; do
  [ -f "$f" ] || { echo "size-budget: $f is missing (run make wasm)" >&2; exit 1; }
done

gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
w=$(gz "$wasm")
j=$(gz "$glue")
total=$((w + j))
printf 'size-budget: %-22s %6d bytes raw, %6d bytes gzip -9\n' "$wasm" "$(wc -c <"$wasm")" "$w"
printf 'size-budget: %-22s %6d bytes raw, %6d bytes gzip -9\n' "$glue" "$(wc -c <"$glue")" "$j"
printf 'size-budget: total %d bytes gzip -9, budget %d: ' "$total" "$budget"
if [ "$total" -gt "$budget" ]; then
  echo "OVER by $((total - budget)) bytes"
  exit 1
fi
echo "ok ($((budget - total)) bytes to spare)"
