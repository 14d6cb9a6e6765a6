#!/usr/bin/env bash
# Runs convnet bench and the PyTorch script back to back, in alternating
# order, ROUNDS times, and prints one JSON line per program and round plus
# a table of the medians. Usage (from the repository root):
#
#	CONVNET_DATA=/path/to/data bench/compare.sh [ROUNDS [THREADS]]
#
# Needs Debian's python3-torch and python3-numpy (apt-get install -y
# python3-torch python3-numpy). Both programs use THREADS threads (2).
set -euo pipefail
rounds=${1:-3}
threads=${2:-2}
out=$(mktemp -d)
go build -o "$out/convnet" ./cmd/convnet
torch() {
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch/bench.py --threads "$threads" | tail -n 1 >>"$out/torch.jsonl"
	tail -n 1 "$out/torch.jsonl"
}
convnet() {
	"$out/convnet" bench --threads "$threads" --json 2>/dev/null >>"$out/convnet.jsonl"
	tail -n 1 "$out/convnet.jsonl"
}
for r in $(seq 1 "$rounds"); do
	echo "# round $r, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
	if ((r % 2)); then torch; convnet; else convnet; torch; fi
done
/usr/bin/python3 - "$out/convnet.jsonl" "$out/torch.jsonl" <<'PY'
import json, statistics, sys
runs = [[json.loads(l) for l in open(p)] for p in sys.argv[1:]]
keys = [("train_images_per_sec", "training, batch 100 (images/s)", True),
        ("infer_batch1_ms", "inference, batch 1 (ms)", False),
        ("infer_batch256_images_per_sec", "inference, batch 256 (images/s)", True),
        ("gemm_gflops", "GEMM 1024^3 (GFLOP/s)", True)]
print(f"| figure ({runs[0][0]['threads']} threads, median of {len(runs[0])} rounds) | convnet | PyTorch | convnet/PyTorch |")
print("|---|---:|---:|---:|")
for k, name, higher in keys:
    a = statistics.median(r[k] for r in runs[0])
    b = statistics.median(r[k] for r in runs[1])
    ratio = a / b if higher else b / a
    print(f"| {name} | {a:.4g} | {b:.4g} | {ratio:.2f}x |")
PY
