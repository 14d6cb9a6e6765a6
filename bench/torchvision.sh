#!/usr/bin/env bash
# Times one of torchvision's networks imported into convnet against the
# same network in PyTorch (eager, and frozen with batch normalization
# folded, as the ONNX file has it), back to back in alternating order,
# ROUNDS times, and prints a table of the medians. Usage (from the
# repository root):
#
#	bench/torchvision.sh [NAME [SIZE [ROUNDS [THREADS]]]]
#
# NAME is a torchvision model (mobilenet_v2), SIZE the image side (224).
# Needs Debian's python3-torch, python3-torchvision and
# libopenblas0-pthread, as bench/compare.sh does.
set -euo pipefail
name=${1:-mobilenet_v2}
size=${2:-224}
rounds=${3:-3}
threads=${4:-2}
batch=32

source "$(dirname "$0")/torch_env.sh"

out=$(mktemp -d)
echo "# each round's JSON in $out"
CGO_ENABLED=0 go build -o "$out/convnet" ./cmd/convnet
py() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$threads" /usr/bin/python3 bench/pytorch/torchvision_bench.py "$name" --size "$size" --threads "$threads" --batch "$batch" "$@"; }
py --export "$out/$name.onnx"
"$out/convnet" import --onnx "$out/$name.onnx" --out "$out/$name.safetensors" --rescale 1/255
torch() {
	py | tail -n 1 >>"$out/torch.jsonl"
	tail -n 1 "$out/torch.jsonl"
}
convnet() {
	"$out/convnet" bench --model "$out/$name.safetensors" --threads "$threads" --infer-batch "$batch" --infer-runs 100 --json 2>/dev/null >>"$out/convnet.jsonl"
	tail -n 1 "$out/convnet.jsonl"
}
for r in $(seq 1 "$rounds"); do
	echo "# round $r, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
	if ((r % 2)); then torch; convnet; else convnet; torch; fi
done
/usr/bin/python3 - "$out/convnet.jsonl" "$out/torch.jsonl" "$cpu" "$name" "$size" "$batch" <<'PY'
import json, statistics, sys
c, t = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
cpu, name, size, batch = sys.argv[3:7]
med = lambda rows, f: statistics.median(f(r) for r in rows)
print(f"| {name} {size}x{size} ({c[0]['threads']} threads, median of {len(c)} rounds) | convnet | PyTorch eager | PyTorch frozen | convnet / eager | convnet / frozen |")
print("|---|---:|---:|---:|---:|---:|")
a = med(c, lambda r: r["infer_batch1_ms"])
e, f = med(t, lambda r: r["eager"]["infer_batch1_ms"]), med(t, lambda r: r["frozen"]["infer_batch1_ms"])
print(f"| inference, batch 1 (ms) | {a:.2f} | {e:.2f} | {f:.2f} | {a / e:.2f}x the time | {a / f:.2f}x the time |")
a = med(c, lambda r: r["infer_batch256_images_per_sec"])
e, f = med(t, lambda r: r["eager"]["infer_batch_images_per_sec"]), med(t, lambda r: r["frozen"]["infer_batch_images_per_sec"])
print(f"| inference, batch {batch} (images/s) | {a:.1f} | {e:.1f} | {f:.1f} | {a / e:.2f}x | {a / f:.2f}x |")
print(f"CPU {cpu}; convnet kernels {c[0]['kernels']}, {c[0]['framework']}; {t[0]['framework']}")
PY
