#!/usr/bin/env bash
# Times group normalizations and resampling layers in convnet (nn's
# BenchmarkGroupNormalization, forward and backward added, and
# BenchmarkResample) against PyTorch's nn.GroupNorm and nn.Upsample
# (bench/pytorch/layers.py), back to back in alternating order, ROUNDS
# times; prints each round's figures in milliseconds. Usage (from the
# repository root):
#
#	bench/layers.sh [ROUNDS [THREADS]]
#
# Needs Debian's python3-torch and libopenblas0-pthread, as
# bench/compare.sh does.
set -euo pipefail
rounds=${1:-3}
threads=${2:-2}

source "$(dirname "$0")/torch_env.sh"

out=$(mktemp -d)
go test -c -o "$out/nn.test" ./nn
convnet() {
	(cd nn && GOMAXPROCS="$threads" "$out/nn.test" -test.run '^$' -test.bench '^Benchmark(GroupNormalization|Resample)$' -test.benchtime 200x) |
		awk '/^Benchmark/ {name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
			if (name ~ /\/(forward|backward)$/) {base = name; sub(/\/[a-z]+$/, "", base); t[base] += $3; next}
			t[name] += $3}
			END {for (n in t) printf "convnet %s %.2f ms\n", n, t[n] / 1e6}' | sort
}
torch() {
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$threads" /usr/bin/python3 bench/pytorch/layers.py --threads "$threads"
}
for r in $(seq 1 "$rounds"); do
	echo "# round $r, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
	if ((r % 2)); then torch; convnet; else convnet; torch; fi
done
