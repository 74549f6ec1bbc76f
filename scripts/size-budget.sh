#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The size of the JS package: pocketvec.wasm + the JS glue as shipped
# (pocketvec.js, bundled from js/index.js and js/src/; its source map is
# not downloaded by users, so it does not count), after gzip -9. Prints
# both numbers and the total against two limits:
#   - the target, 40 KB (40,000 bytes): the budget the project set for the
#     whole package. The vector index alone fits it (31 KB); with the
#     documents, attributes, filters and planner of the database, and
#     full-text search, it does not (see the README's "Package size"), and
#     the script says by how much;
#   - the ceiling, enforced: exit 1 above it. It sits just above today's
#     size, so the package cannot grow unnoticed: whatever adds bytes must
#     raise it in the same commit, with its measured cost in the message.
# Run from anywhere; `make wasm-size` builds first.
#   CEILING=bytes overrides the ceiling (default 76728), TARGET the target.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${TARGET:-40000}
ceiling=${CEILING:-${BUDGET:-76728}}
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
printf 'size-budget: total %d bytes gzip -9; target %d: ' "$total" "$target"
if [ "$total" -gt "$target" ]; then
  echo "over by $((total - target)) bytes"
else
  echo "ok ($((target - total)) bytes to spare)"
fi
printf 'size-budget: ceiling %d: ' "$ceiling"
if [ "$total" -gt "$ceiling" ]; then
  echo "OVER by $((total - ceiling)) bytes"
  exit 1
fi
echo "ok ($((ceiling - total)) bytes to spare)"
