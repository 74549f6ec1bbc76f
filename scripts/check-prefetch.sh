#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The native search's prefetches are in the objects the compiler made.
# gcc 12 once deleted every one of them without a word (src/index.h,
# PV_PREFETCH): the walk and the brute force of a filtered search then
# waited on each cache miss (bench/results/prefetch-ab.md).
# Counts the prefetch instructions (x86 prefetch*, arm64 prfm) in the
# objects of the graph walk and the brute force; fails when one has none.
#   scripts/check-prefetch.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: check-prefetch.sh BUILD_DIR}
status=0
for o in "$build/src/graph/search.o" "$build/src/query/exact.o"; do
  [ -f "$o" ] || { echo "check-prefetch: $o is missing (build the library first)" >&2; exit 1; }
  n=$(objdump -d --no-show-raw-insn "$o" | grep -cE $'\t(prefetch[a-z0-9]*|prfm) ' || true)
  if [ "$n" -eq 0 ]; then
    echo "check-prefetch: $o has no prefetch instruction: the compiler dropped them" >&2
    status=1
  else
    echo "check-prefetch: $o: $n prefetch instructions"
  fi
done
exit $status
