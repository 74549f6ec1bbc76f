#!/usr/bin/env bash
# End-to-end tests of the pocketvec command-line tool.
#
#   bash cli/test_cli.sh [PATH/TO/pocketvec]     (default build/pocketvec)
#
# Needs bash, coreutils and a C compiler ($CC, default cc): the input files
# are written by cli/test/gen.c, compiled here, so neither Python nor NumPy
# is needed. Every case runs the real binary on real files in a temporary
# directory, checks its exit status and a piece of its output, and prints
# "ok" or "FAIL"; the last line is "N passed, N failed", and the exit status
# is 1 if anything failed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:-$HERE/../build/pocketvec}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
[ -x "$BIN" ] || { echo "test_cli.sh: no pocketvec binary at $BIN: run make first" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/pocketvec-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
"${CC:-cc}" -std=c11 -O1 -o "$T/gen" "$HERE/test/gen.c"
cd "$T"

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() {
  failed=$((failed + 1))
  echo "FAIL - $1"
  if [ -n "${2:-}" ]; then printf '%s\n' "$2" | sed 's/^/       /'; fi
}

# expect NAME STATUS REGEX CMD...: CMD exits with STATUS and its stdout plus
# stderr match the extended REGEX ('' matches anything).
expect() {
  local name=$1 want=$2 re=$3 rc=0
  shift 3
  "$@" >out 2>err || rc=$?
  if [ "$rc" -ne "$want" ]; then
    fail "$name" "exit status $rc, expected $want; stderr: $(head -c 800 err)"
  # grep reads the files itself: with pipefail, `cat ... | grep -q` fails
  # whenever grep exits at its match before cat has written everything.
  elif [ -n "$re" ] && ! grep -Eqh -- "$re" out err; then
    fail "$name" "output does not match /$re/: $(cat out err | head -c 800)"
  else
    ok "$name"
  fi
}

# check NAME CMD...: CMD succeeds.
check() {
  local name=$1
  shift
  if "$@" 2>check.err; then ok "$name"; else fail "$name" "$(head -c 800 check.err)"; fi
}

# self_first FILE N K TOL: FILE has N lines; line q reads "q<TAB>..." with K
# hits, the first being "q:d" with |d| <= TOL (each query is a vector of the
# index, so it must find itself first).
self_first() {
  awk -F'\t' -v n="$2" -v k="$3" -v tol="$4" '
    { nh = split($2, h, " "); split(h[1], p, ":"); d = p[2] + 0; if (d < 0) d = -d
      if ($1 != NR - 1 || nh != k || p[1] != NR - 1 || d > tol) {
        if (++bad <= 3) print "line " NR ": " substr($0, 1, 120) > "/dev/stderr" } }
    END { if (NR != n) print NR " lines, expected " n > "/dev/stderr"; exit (NR == n && !bad) ? 0 : 1 }' "$1"
}

# No temporary file of an interrupted or failed write is left.
no_tmp() { ! ls ./*.tmp-* >/dev/null 2>&1; }

N=300
D=16
./gen fvecs a.fvecs $N $D          # the same vectors in every format
./gen npy b.npy $N $D
./gen npy2 b2.npy $N $D
./gen raw c.f32 $N $D
cp a.fvecs a.vectors

echo "# build, one per format"
expect "build .fvecs (cosine, f32)" 0 "a.pvec: 300 vectors of 16 dims" "$BIN" build a.fvecs -o a.pvec
expect "build .npy v1.0 (l2)" 0 "300 vectors" "$BIN" build b.npy -o b.pvec --metric l2
expect "build .npy v2.0 (dot, m 8)" 0 "300 vectors" \
  "$BIN" build b2.npy -o b2.pvec --metric dot --m 8 --ef-construction 40 --ef-search 30 --seed 9
expect "build raw --dim (sq8)" 0 "300 vectors" "$BIN" build c.f32 --dim $D -o c.pvec --storage sq8
expect "build --format overrides the extension" 0 "300 vectors" \
  "$BIN" build a.vectors --format fvecs -o v.pvec --batch 7
check "batch size does not change the file" cmp a.pvec v.pvec
"$BIN" build a.fvecs -o a2.pvec >/dev/null
check "same input and seed give the same bytes" cmp a.pvec a2.pvec

echo "# query"
expect "query .fvecs (graph, ef >= n is exact)" 0 "300 queries, k 5, ef 400" \
  "$BIN" query a.pvec a.fvecs --k 5 --ef 400
check "each vector finds itself first, distance ~0" self_first out $N 5 1e-5
expect "query --exact" 0 "exact" "$BIN" query a.pvec a.fvecs --k 3 --exact
check "exact: itself first" self_first out $N 3 1e-5
expect "query .npy queries on an l2 index" 0 "" "$BIN" query b.pvec b.npy --k 4 --ef 400
check "l2: itself first, distance 0" self_first out $N 4 0
expect "query raw queries without --dim (the index's dim)" 0 "" "$BIN" query c.pvec c.f32 --ef 400
check "sq8: itself first, distance ~0" self_first out $N 10 1e-2
expect "query a .fvecs index with .npy queries" 0 "" "$BIN" query a.pvec b.npy --ef 400
check "across formats: itself first" self_first out $N 10 1e-5
expect "query --json" 0 "" "$BIN" query a.pvec a.fvecs --k 2 --json
check "--json: one array per query" \
  grep -Eq '^\[\{"id":0,"distance":[-0-9.e]+\},\{"id":[0-9]+,"distance":[-0-9.e]+\}\]$' out
check "--json: $N lines" test "$(wc -l <out)" -eq $N
check "timings on stderr, not mixed into the results" \
  bash -c 'grep -q "latency mean" err && ! grep -q latency out'

echo "# query --threads: the same bytes as one thread"
"$BIN" query a.pvec a.fvecs --k 5 >t1.out 2>/dev/null
expect "query --threads 4" 0 "300 queries, k 5, ef 64: .*; 4 threads: [0-9,]+ queries/s" \
  "$BIN" query a.pvec a.fvecs --k 5 --threads 4
check "--threads 4 prints what --threads 1 prints, byte for byte" cmp t1.out out
"$BIN" query c.pvec c.f32 --exact --json --threads 1 >t1.out 2>/dev/null
"$BIN" query c.pvec c.f32 --exact --json --threads 4 >t4.out 2>/dev/null
check "--threads 4 --exact --json (sq8): the same bytes" cmp t1.out t4.out
# --k 100000 keeps a batch's hits within the CLI's budget by making batches
# of 20 queries: many batches, each split among the threads.
"$BIN" query a.pvec b.npy --k 100000 >t1.out 2>/dev/null
"$BIN" query a.pvec b.npy --k 100000 --threads=3 >t4.out 2>/dev/null
check "--threads 3, small batches (k 100000): the same bytes" cmp t1.out t4.out
check "k 100000: every vector in every line, itself first" self_first t1.out $N $N 1e-5
./gen fvecs q5.fvecs 5 $D 77
"$BIN" query a.pvec q5.fvecs >t1.out 2>/dev/null
expect "more threads than queries" 0 "5 queries" "$BIN" query a.pvec q5.fvecs --threads 16
check "more threads than queries: the same bytes" cmp t1.out out
expect "query --threads 0: status 2" 2 "--threads expects a whole number from 1 to 256" \
  "$BIN" query a.pvec a.fvecs --threads 0

echo "# info and verify"
expect "info on a good file" 0 "all checksums match" "$BIN" info b2.pvec
check "info shows the settings" grep -Eq "^metric +dot" out
check "info shows m, ef and seed" bash -c 'grep -Eq "^m +8 " out && grep -Eq "^ef_search +30" out && grep -Eq "^seed +9$" out'
check "info shows the counts" grep -Eq "^vectors +300 live, 0 deleted, 300 slots, next id 300" out
check "info shows memory and bytes per vector" bash -c 'grep -q "^memory when loaded" out && grep -q "^bytes per vector" out'
check "info shows the format version" grep -Eq "^format version +2$" out
check "info lists the sections, every checksum ok" \
  grep -Eq "^sections +[0-9]+ \(every checksum matches, the table's too\)" out
check "info: a row per section (kind, name, need, offset, bytes, checksum)" \
  grep -Eq "^ +1 +vectors +required +128 +[0-9,]+ +[0-9a-f]{8} ok$" out
check "info: the link sections" \
  bash -c 'grep -Eq "^ +2 +layer-0 links +(required|optional) " out && grep -Eq "^ +3 +upper links " out'
check "info: no damaged section in a good file" bash -c '! grep -q "DOES NOT MATCH" out'
expect "info on an sq8 file lists the codec parameters" 0 "^ +4 +codec parameters +required" "$BIN" info c.pvec
expect "verify good files" 0 "a.pvec: ok" "$BIN" verify a.pvec b.pvec b2.pvec c.pvec
check "verify: each file ok, every live vector reachable" \
  test "$(grep -Ec '^[a-z0-9]+\.pvec: ok \(all 300 live vectors reachable\)$' out)" -eq 4
# Files of format version 1 (tests/fixtures/v1, frozen): still read. One
# of them (dot, m 4, then compacted) has live vectors no walk reaches.
V1=$HERE/../tests/fixtures/v1
expect "info on a version-1 file" 0 "^format version +1 \(an older one" "$BIN" info "$V1/f32_cosine_d17.pv"
check "version 1: every section required, every checksum ok" \
  bash -c 'test "$(grep -Ec "^ +[0-9]+ +[a-z0-9 -]+ +required +[0-9,]+ +[0-9,]+ +[0-9a-f]{8} ok$" out)" -eq 6'
expect "verify: unreachable vectors are reported, not a failure" 0 \
  "f32_dot_d8_m4.pv: ok, but [0-9,]+ of 300 live vectors are unreachable: no search can return them" \
  "$BIN" verify "$V1/f32_dot_d8_m4.pv" "$V1/f32_cosine_d17.pv" "$V1/empty_d5.pv"
check "verify: the others reachable, an empty one says so" \
  bash -c 'grep -q "f32_cosine_d17.pv: ok (all 175 live vectors reachable)$" out && grep -q "empty_d5.pv: ok (no live vectors)$" out'

cp a.pvec bad.pvec
./gen flip bad.pvec 300
expect "verify a file with one flipped byte fails" 1 "bad.pvec: FAILED: .*checksum does not match" \
  "$BIN" verify bad.pvec
expect "verify good + bad: status 1, the good one still ok" 1 "a.pvec: ok" "$BIN" verify a.pvec bad.pvec
expect "info on a damaged file: status 1 and the reason" 1 "status +FAILED: .*checksum" "$BIN" info bad.pvec
check "info on a damaged file still shows the header" grep -Eq "^dim +16" out
check "info on a damaged file names the damaged section" \
  bash -c 'grep -Eq "^sections +[0-9]+, 1 DAMAGED" out && grep -Eq "^ +1 +vectors .* DOES NOT MATCH$" out && grep -Eq "^ +2 +layer-0 links .* ok$" out'
cp a.pvec badh.pvec
./gen flip badh.pvec 40
expect "info with a damaged header says so" 1 "header checksum +DOES NOT MATCH" "$BIN" info badh.pvec
head -c 5000 a.pvec >trunc.pvec
expect "verify a truncated index file" 1 "truncated" "$BIN" verify trunc.pvec
expect "query a damaged index: the file and what to do" 1 "bad.pvec: .*build it again" \
  "$BIN" query bad.pvec a.fvecs
echo "not an index" >text.pvec
expect "verify a file that is not an index" 1 "not a pocketvec index" "$BIN" verify text.pvec

echo "# bad inputs"
head -c 20000 a.fvecs >t.fvecs
expect "truncated .fvecs names the record" 1 "t.fvecs: record 294 is truncated" \
  "$BIN" build t.fvecs -o t.pvec
check "nothing written for a bad input" test ! -e t.pvec
head -c 19000 b.npy >t.npy
expect "truncated .npy" 1 "t.npy: the .npy file is truncated.*vector 294" "$BIN" build t.npy -o t.pvec
head -c 19000 c.f32 >t.f32
expect "raw size not a multiple of 4*dim" 1 "not a whole number of 16-dim float32 vectors" \
  "$BIN" build t.f32 --dim $D -o t.pvec
./gen npy-f8 f8.npy 10 4
expect ".npy of float64: convert to float32" 1 "f8.npy: float64 is not supported; convert to float32" \
  "$BIN" build f8.npy -o t.pvec
./gen npy-fortran fo.npy 10 4
expect ".npy in Fortran order" 1 "Fortran order" "$BIN" build fo.npy -o t.pvec
./gen npy-big be.npy 10 4
expect ".npy big-endian" 1 "big-endian float32" "$BIN" build be.npy -o t.pvec
./gen fvecs-baddim mixed.fvecs 50 8 17
expect ".fvecs with a record of another dim" 1 "record 17 has dim 9, record 0 has dim 8" \
  "$BIN" build mixed.fvecs -o t.pvec
./gen fvecs-baddim aligned.fvecs 50 4 17 9  # 4 + 9*4 bytes = two records of dim 4
expect ".fvecs: another dim found while reading" 1 "record 17 has dim 9, record 0 has dim 4" \
  "$BIN" build aligned.fvecs -o t.pvec
./gen fvecs nan.fvecs $N $D nan=123,5
expect "NaN: the vector's number in the file, not in its batch" 1 "nan.fvecs: vector 123: element 5 is NaN" \
  "$BIN" build nan.fvecs -o a.pvec --batch 50
check "a failed build leaves the old output untouched" cmp a.pvec a2.pvec
./gen fvecs nanlast.fvecs $N $D nan=299,3
expect "NaN alone in the last batch (a batch of one)" 1 "nanlast.fvecs: vector 299: element 3 is NaN" \
  "$BIN" build nanlast.fvecs -o t.pvec --batch 299
# Vector 10 of a raw file: +Inf at element 2; in another, all zeros.
{ head -c 640 c.f32; head -c 8 /dev/zero; printf '\x00\x00\x80\x7f'; head -c 52 /dev/zero; } >inf.f32
{ head -c 640 c.f32; head -c 64 /dev/zero; } >zero.f32
expect "Inf: the vector and the element" 1 "inf.f32: vector 10: element 2 is infinite" \
  "$BIN" build inf.f32 --dim $D -o t.pvec --batch 4
expect "all zeros under cosine" 1 "zero.f32: vector 10 is all zeros; cosine distance needs a non-zero vector" \
  "$BIN" build zero.f32 --dim $D -o t.pvec --batch 4
expect "all zeros under l2 is a vector like any other" 0 "11 vectors" \
  "$BIN" build zero.f32 --dim $D -o t.pvec --metric l2
# 1e30 at element 2 of vector 10: finite, but beyond what l2 accepts at dim 16.
{ head -c 640 c.f32; head -c 8 /dev/zero; printf '\xca\xf2\x49\x71'; head -c 52 /dev/zero; } >big.f32
expect "too large for l2: the value, and the library's reason" 1 \
  "big.f32: vector 10: element 2 is 1e\+30, which the index rejects \(pv_add_batch, whose vector 0 is the file's vector 8: .*too large" \
  "$BIN" build big.f32 --dim $D -o t.pvec --metric l2 --batch 4
expect "too large is fine under cosine" 0 "11 vectors" "$BIN" build big.f32 --dim $D -o t.pvec
: >empty.fvecs
expect "empty input" 1 "empty" "$BIN" build empty.fvecs -o t.pvec
expect "missing input" 1 "nope.fvecs: cannot open" "$BIN" build nope.fvecs -o t.pvec
./gen fvecs q8.fvecs 5 8
expect "query of another dimension" 1 "q8.fvecs: vector has 8 values, index expects 16" \
  "$BIN" query a.pvec q8.fvecs
expect "NaN in a query names the query" 1 "nan.fvecs: query 123: element 5 is NaN; fix or remove that query" \
  "$BIN" query a.pvec nan.fvecs
check "the queries before it are answered" test "$(wc -l <out)" -eq 123
cp out t1.out
expect "NaN in a query, --threads 4: the same message" 1 "nan.fvecs: query 123: element 5 is NaN; fix or remove that query" \
  "$BIN" query a.pvec nan.fvecs --threads 4
check "NaN in a query, --threads 4: the same lines before it" cmp t1.out out
expect "Inf in a query" 1 "inf.f32: query 10: element 2 is infinite" "$BIN" query a.pvec inf.f32 --threads 2
expect "an all-zero query under cosine" 1 "zero.f32: query 10 is all zeros" "$BIN" query a.pvec zero.f32
expect "a too-large query on an l2 index" 1 \
  "big.f32: query 10: element 2 is 1e\+30, which the index rejects \(.*too large.*\); fix or remove that query" \
  "$BIN" query b.pvec big.f32 --threads 2
check "no temporary file left behind" no_tmp

echo "# hostile inputs: not regular files (each under timeout: a FIFO once hung forever)"
rm -f t.pvec
mkfifo p.npy p.pvec q.fvecs
mkdir d.npy
./gen socket s.npy
expect "build from a FIFO: refused, does not wait for a writer" 1 \
  "p.npy is a FIFO \(named pipe\), not a regular file; save the vectors to a file first" \
  timeout 20 "$BIN" build p.npy -o t.pvec
expect "build from a directory" 1 "d.npy is a directory, not a regular file" \
  timeout 20 "$BIN" build d.npy -o t.pvec
expect "build from a character device" 1 "/dev/null is a character device, not a regular file" \
  timeout 20 "$BIN" build /dev/null --format raw --dim 4 -o t.pvec
expect "build from a socket" 1 "s.npy is a socket, not a regular file" \
  timeout 20 "$BIN" build s.npy -o t.pvec
check "nothing written for a non-regular input" test ! -e t.pvec
expect "query a FIFO as the index" 1 "p.pvec is a FIFO \(named pipe\), not a regular file; give the path of an index file" \
  timeout 20 "$BIN" query p.pvec a.fvecs
expect "query with a FIFO of queries: refused before the index is loaded" 1 \
  "q.fvecs is a FIFO \(named pipe\), not a regular file" timeout 20 "$BIN" query a.pvec q.fvecs
expect "info on a FIFO" 1 "p.pvec is a FIFO \(named pipe\), not a regular file" \
  timeout 20 "$BIN" info p.pvec
expect "verify a FIFO, then a good file: the good one still checked" 1 "a.pvec: ok" \
  timeout 20 "$BIN" verify p.pvec a.pvec
check "verify a FIFO: its line says FAILED, stderr says why" \
  bash -c 'grep -q "^p.pvec: FAILED" out && grep -q "p.pvec is a FIFO" err'
expect "info on a directory" 1 "d.npy is a directory, not a regular file" timeout 20 "$BIN" info d.npy
rm -f p.npy p.pvec q.fvecs s.npy
rmdir d.npy

echo "# hostile outputs: refused before any input is read (the input here does not exist)"
mkdir outdir
mkfifo fifo.pvec
expect "-o '': a usage error" 2 "the output file name is empty" "$BIN" build a.fvecs -o ''
expect "--output='': a usage error" 2 "the output file name is empty" "$BIN" build a.fvecs --output=
expect "build '' (empty input name): a usage error" 2 "the input file name is empty" \
  "$BIN" build '' -o t.pvec
expect "-o an existing directory" 1 "^pocketvec: outdir is a directory; give the name of the index file to write, e.g. outdir/index.pvec$" \
  "$BIN" build nope.fvecs -o outdir
expect "-o an existing directory, with '/'" 1 "outdir/ is a directory" "$BIN" build nope.fvecs -o outdir/
expect "-o ." 1 "^pocketvec: \. is a directory" "$BIN" build nope.fvecs -o .
expect "-o a name ending with '/'" 1 "newdir/ ends with '/', which names a directory" \
  "$BIN" build nope.fvecs -o newdir/
expect "-o in a missing directory" 1 "no/such/x.pvec: the directory 'no/such' does not exist" \
  "$BIN" build nope.fvecs -o no/such/x.pvec
expect "-o under a file, not a directory" 1 "a.fvecs/x.pvec: 'a.fvecs' is a regular file, not a directory" \
  "$BIN" build nope.fvecs -o a.fvecs/x.pvec
expect "-o a FIFO: refused, not replaced" 1 "fifo.pvec is a FIFO \(named pipe\), not a regular file; give the path of a file to write" \
  timeout 20 "$BIN" build nope.fvecs -o fifo.pvec
check "the FIFO is still a FIFO" test -p fifo.pvec
expect "-o /dev/null: refused, not replaced (even as root)" 1 "/dev/null is a character device, not a regular file" \
  "$BIN" build nope.fvecs -o /dev/null
check "/dev/null is still a device" test -c /dev/null
if [ "$(id -u)" -ne 0 ]; then
  mkdir rodir
  chmod 555 rodir
  expect "-o in a directory without write permission" 1 \
    "rodir/x.pvec: cannot create a temporary file in the directory 'rodir' .*: Permission denied; the directory is not writable" \
    "$BIN" build nope.fvecs -o rodir/x.pvec
  chmod 755 rodir
  check "nothing left in the unwritable directory" test -z "$(ls -A rodir)"
else
  echo "ok   - -o in a directory without write permission # skip: root writes anywhere"
fi
expect "usage errors come before output errors: raw without --dim" 2 "give its --dim" \
  "$BIN" build c.f32 -o outdir
expect "usage errors come before output errors: unknown extension" 2 "--format" \
  "$BIN" build a.txt -o outdir
expect "-o valid, input missing: the input is named" 1 "nope.fvecs: cannot open" "$BIN" build nope.fvecs -o t.pvec
check "the output directory is untouched" test -z "$(ls -A outdir)"
check "no temporary file left after the failed builds" no_tmp
expect "query '' (empty index name): a usage error" 2 "the index file name is empty" "$BIN" query '' a.fvecs
expect "query with an empty query file name: a usage error" 2 "the query file name is empty" \
  "$BIN" query a.pvec ''
expect "info '': a usage error" 2 "the index file name is empty" "$BIN" info ''
expect "verify a.pvec '': a usage error" 2 "file 2 of 2: the name is empty" "$BIN" verify a.pvec ''
rm -f fifo.pvec
rmdir outdir

echo "# long output names: the temporary file's name must fit too"
# NAME_MAX of this file system (255 on most), so the test holds on any.
NM=$(getconf NAME_MAX . 2>/dev/null || echo 255)
long=$(head -c $((NM - 5)) /dev/zero | tr '\0' n).pvec
expect "-o a name of NAME_MAX ($NM) bytes" 0 "300 vectors" "$BIN" build a.fvecs -o "$long"
expect "it is a good index" 0 ": ok \(all 300 live vectors reachable\)" "$BIN" verify "$long"
mkdir sub
expect "-o DIR/NAME, NAME of NAME_MAX bytes" 0 "300 vectors" "$BIN" build a.fvecs -o "sub/$long"
check "sub/ holds that file only" test "$(ls -A sub)" = "$long"
rm -rf sub "$long"
# x, then 2-byte characters (é), then x.pvec: the temporary file's name is
# this one cut short, between two characters.
utf=x$(for _ in $(seq $(((NM - 7) / 2))); do printf '\303\251'; done)x.pvec
expect "-o a name of $(printf %s "$utf" | wc -c) bytes of UTF-8" 0 "300 vectors" "$BIN" build a.fvecs -o "$utf"
rm -f "$utf"
expect "-o a name of NAME_MAX + 1 bytes: refused before the build" 1 "the name is too long for the file system" \
  "$BIN" build nope.fvecs -o "x$long"
check "no temporary file left by the long names" no_tmp

echo "# hostile .npy shapes: each says what is wrong (48 bytes of data in each file)"
# npy_shape NAME SHAPE REGEX: a .npy with that shape text is refused, saying REGEX.
npy_shape() {
  ./gen npy-shape s.npy "$2" 48
  expect "$1" 1 "$3" "$BIN" build s.npy -o t.pvec
}
# 2^62 x 4 x 4 bytes is 2^66: the product wraps around 64 bits.
npy_shape ".npy shape whose byte count overflows 64 bits" "(4611686018427387904, 4)" \
  "s.npy: the .npy shape \(4611686018427387904, 4\) is impossible: 4611686018427387904 vectors of 4 float32 values would take 7.38e\+19 bytes, more than any file can hold"
check "overflow: not the old 'more than shape ... needs'" bash -c '! grep -q "more than shape" err'
# (2^62 + 12) x 1 x 4 bytes is 2^64 + 48: wrapped, exactly the data there is.
npy_shape ".npy shape wrapping to exactly the 48 bytes there are" "(4611686018427387916, 1)" \
  "shape \(4611686018427387916, 1\) is impossible: .*more than any file can hold"
npy_shape ".npy shape of 2^61 rows: beyond any file, without wrapping" "(2305843009213693952, 1)" \
  "is impossible: .*more than any file can hold"
npy_shape ".npy shape with an entry of 2^64 or more" "(99999999999999999999999, 4)" \
  "is impossible: 99999999999999999999999 is too large \(2\^64 or more\)"
npy_shape ".npy shape with zero rows" "(0, 4)" "s.npy: the array's shape \(0, 4\) has a zero dimension: it holds no vectors"
npy_shape ".npy shape with zero columns" "(12, 0)" "shape \(12, 0\) has a zero dimension: its vectors have no values"
npy_shape ".npy shape with a negative entry" "(-3, 4)" "the .npy shape \(-3, 4\) is impossible: -3 is negative; the header is damaged"
npy_shape ".npy shape with a negative dim" "(3, -4)" "is impossible: -4 is negative"
npy_shape ".npy shape with a string entry" "('3', 4)" "is impossible: '3' is not a whole number"
npy_shape ".npy shape with a float entry" "(3.0, 4)" "is impossible: 3.0 is not a whole number"
npy_shape ".npy shape with None" "(None, 4)" "is impossible: None is not a whole number"
npy_shape ".npy shape with 3 dimensions" "(2, 2, 3)" "the array has 3 dimensions, shape \(2, 2, 3\); it must be 2-D"
npy_shape ".npy shape with 12 dimensions" "(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 12)" "the array has 12 dimensions"
npy_shape ".npy shape not closed" "(3, 4" "'shape' is not a tuple closed by '\)'"
npy_shape ".npy shape with an empty entry" "(3,, 4)" "'shape' has an empty entry"
npy_shape ".npy shape that is a list" "[3, 4]" "'shape' is not a tuple"
npy_shape ".npy shape of Python 2 longs is fine" "(3L, 4L)" "vector 0 is all zeros"
./gen npy-shape s.npy "(3, 4)" 48 5000
expect ".npy header length past the file's end" 1 \
  "s.npy: the .npy header says it is 5000 bytes long, but the file ends 166 bytes after the preamble; the file is truncated or damaged" \
  "$BIN" build s.npy -o t.pvec
./gen npy-shape s.npy "(3, 4)" 48 65535
expect ".npy header length of 64 KiB - 1, the file much shorter" 1 "says it is 65535 bytes long, but the file ends" \
  "$BIN" build s.npy -o t.pvec
./gen npy-shape s.npy "(4611686018427387904, 4)" 48
expect "query with an impossible .npy shape: the same message" 1 "s.npy: the .npy shape .* is impossible" \
  "$BIN" query a.pvec s.npy
check "nothing written for the bad shapes" test ! -e t.pvec
check "no temporary file left by the bad shapes" no_tmp

echo "# no temporary file left, whatever ends a build"
# A file past the size limit: the process is not killed by SIGXFSZ, the
# write fails (EFBIG), is reported, and the temporary file removed.
expect "output past ulimit -f: a failed write, reported" 1 \
  "t.pvec: writing t.pvec.tmp-.* failed: File too large; nothing was changed: the index is larger than the limit on a file's size" \
  bash -c 'ulimit -f 4 && exec "$0" build a.fvecs -o t.pvec' "$BIN"
check "past ulimit -f: no temporary file, no output" bash -c '! ls ./t.pvec* >/dev/null 2>&1'
# A build killed by SIG once its temporary file exists (long before it could
# finish: slow.fvecs takes seconds to index) dies of SIG, leaves no temporary
# file and the old a.pvec as it was. The subshell restores the signals that
# a background job starts with ignored; ulimit -c 0: no core from SIGQUIT.
./gen fvecs slow.fvecs 20000 32
killed_build() {
  local sig=$1 ignore=${2:-} then=${3:-} i=0 rc=0 pid
  ( trap - INT QUIT; if [ -n "$ignore" ]; then trap '' "$ignore"; fi; ulimit -c 0
    exec "$BIN" build slow.fvecs -o a.pvec >/dev/null 2>&1 ) &
  pid=$!
  while ! ls ./a.pvec.tmp-* >/dev/null 2>&1 && kill -0 $pid 2>/dev/null && [ $i -lt 3000 ]; do
    sleep 0.01
    i=$((i + 1))
  done
  kill -s "$sig" $pid 2>/dev/null || true
  if [ -n "$then" ]; then sleep 0.2; kill -s "$then" $pid 2>/dev/null || true; fi
  wait $pid || rc=$?
  echo $rc
}
for sig in INT TERM HUP QUIT; do
  rc=$(killed_build $sig)
  check "build killed by SIG$sig: died of it ($rc), no temporary file" \
    test "$rc" -eq $((128 + $(kill -l $sig))) -a -z "$(ls ./a.pvec.tmp-* 2>/dev/null)"
done
check "the killed builds left the old output as it was" cmp a.pvec a2.pvec
rc=$(killed_build HUP HUP TERM)
check "SIGHUP ignored by the caller (nohup) stays ignored: then SIGTERM ends it ($rc)" \
  test "$rc" -eq $((128 + $(kill -l TERM))) -a -z "$(ls ./a.pvec.tmp-* 2>/dev/null)"
check "no temporary file left in the directory" no_tmp

echo "# usage"
expect "no command: status 2" 2 "usage: pocketvec COMMAND" "$BIN"
expect "build without -o: status 2" 2 "-o OUT.pvec" "$BIN" build a.fvecs
expect "unknown flag: status 2" 2 "unknown flag '--bogus'" "$BIN" build a.fvecs -o x.pvec --bogus
expect "bad --metric: status 2" 2 "cosine, l2 or dot" "$BIN" build a.fvecs -o x.pvec --metric cos
expect "raw without --dim: status 2" 2 "give its --dim" "$BIN" build c.f32 -o x.pvec
expect "unknown extension: status 2" 2 "--format" "$BIN" build a.txt -o x.pvec
expect "query --k 0: status 2" 2 "--k expects" "$BIN" query a.pvec a.fvecs --k 0
expect "verify with no file: status 2" 2 "help verify" "$BIN" verify
expect "help build" 0 "usage: pocketvec build INPUT -o OUT.pvec" "$BIN" help build
expect "help query documents --threads" 0 "--threads N search with N threads" "$BIN" help query
expect "help info documents the section table" 0 "Then the section table" "$BIN" help info
expect "help verify documents reachability" 0 "every live vector is reachable" "$BIN" help verify
expect "query --help" 0 "usage: pocketvec query" "$BIN" query --help
expect "help lists the commands" 0 "verify +check that index files are intact" "$BIN" help

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
