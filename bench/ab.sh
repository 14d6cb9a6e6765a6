#!/usr/bin/env bash
# Compares the benchmarks of one package at two revisions, in alternating
# runs, so that both builds meet the same moments of a shared machine's
# noise, and prints benchstat's comparison and how many pairs the second
# revision won. Usage (from the repository root):
#
#	bench/ab.sh OLD NEW PACKAGE BENCH [ROUNDS [CPU]]
#	bench/ab.sh main~1 main ./internal/kernels 'Gemm/impl=avx512/size=1024$' 20
#
# OLD and NEW are git revisions (the work tree as it is: "."). Each round
# runs the test binary of each once (-test.count 1) with GOMAXPROCS CPU (2).
set -euo pipefail
[[ $# -ge 4 ]] || { sed -n '2,11p' "$0" >&2; exit 2; }
old=$1 new=$2 pkg=$3 bench=$4 rounds=${5:-10} cpu=${6:-2}
out=$(mktemp -d)
build() { # build REV NAME
	if [[ $1 == . ]]; then
		go test -c -o "$out/$2.test" "$pkg"
		return
	fi
	git worktree add -q --detach "$out/src-$2" "$1"
	(cd "$out/src-$2" && go test -c -o "$out/$2.test" "$pkg")
	git worktree remove --force "$out/src-$2"
}
build "$old" old
build "$new" new
for ((i = 0; i < rounds; i++)); do
	for v in old new; do
		# From the package's folder, as go test runs them: benchmarks read testdata.
		(cd "$pkg" && "$out/$v.test" -test.run '^$' -test.bench "$bench" -test.count 1 -test.cpu "$cpu") | grep '^Benchmark' >>"$out/$v.txt"
	done
done
go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da "$out/old.txt" "$out/new.txt"
# Pairs (the same benchmark in the same round) where NEW took less time.
paste "$out/old.txt" "$out/new.txt" | awk '{n[$1]++; if ($(3 + NF / 2) < $3) w[$1]++}
	END {for (b in n) printf "%s: new faster in %d of %d rounds\n", b, w[b], n[b]}'
echo "# runs in $out"
