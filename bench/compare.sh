#!/usr/bin/env bash
# Runs convnet bench and the PyTorch script back to back, in alternating
# order, ROUNDS times, and prints one JSON line per program and round plus
# a table of the medians. Usage (from the repository root):
#
#	CONVNET_DATA=/path/to/data bench/compare.sh [ROUNDS [THREADS]]
#
# Needs Debian's python3-torch and python3-numpy (apt-get install -y
# python3-torch python3-numpy). Both programs use THREADS threads (2).
#
# PyTorch's figures mean something only with an optimised BLAS: Debian's
# PyTorch uses libblas.so.3, which is the reference BLAS (~5 GFLOP/s) unless
# OpenBLAS provides it (apt-get install -y libopenblas0-pthread). The script
# refuses to run otherwise. The table names the CPU and convnet's kernel path.
#
# ISA=avx2 runs both programs as on a CPU without AVX-512 (AMD's before Zen
# 4, Intel's client cores): convnet with CONVNET_KERNELS=avx2, PyTorch with
# ATEN_CPU_CAPABILITY=avx2, oneDNN's convolutions at most AVX2
# (DNNL_MAX_CPU_ISA and ONEDNN_MAX_CPU_ISA) and OpenBLAS's Haswell kernels
# (OPENBLAS_CORETYPE=Haswell).
#
# ACT=gelu (or another of convnet bench --activation's functions) runs the
# tutorial model with that function in place of each ReLU, in both.
#
# BF16=1 runs both in mixed precision: convnet bench --bf16, and PyTorch
# under torch.autocast("cpu", dtype=torch.bfloat16); the GEMMs in bfloat16.
set -euo pipefail
rounds=${1:-3}
threads=${2:-2}
torchisa=(-u OPENBLAS_CORETYPE)
convnetisa=()
case "${ISA:-}" in
"") ;;
avx2)
	torchisa=(ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell)
	convnetisa=(CONVNET_KERNELS=avx2)
	echo "# ISA=avx2: both programs without AVX-512"
	;;
*)
	echo "$0: ISA=${ISA}: want avx2 or nothing" >&2
	exit 2
	;;
esac

bf16=()
if [[ -n "${BF16:-}" ]]; then
	bf16=(--bf16)
	echo "# BF16=1: both programs multiply in bfloat16"
fi

source "$(dirname "$0")/torch_env.sh"

out=$(mktemp -d)
echo "# each round's JSON in $out"
CGO_ENABLED=0 go build -o "$out/convnet" ./cmd/convnet
torch() {
	# OpenBLAS starts a thread per CPU unless told: numpy's product
	# would otherwise use every core whatever THREADS is.
	env -u OPENBLAS_L2_SIZE "${torchisa[@]}" OPENBLAS_NUM_THREADS="$threads" /usr/bin/python3 bench/pytorch/bench.py --threads "$threads" --activation "${ACT:-relu}" "${bf16[@]}" | tail -n 1 >>"$out/torch.jsonl"
	tail -n 1 "$out/torch.jsonl"
}
convnet() {
	env "${convnetisa[@]}" "$out/convnet" bench --threads "$threads" --activation "${ACT:-relu}" "${bf16[@]}" --json 2>/dev/null >>"$out/convnet.jsonl"
	tail -n 1 "$out/convnet.jsonl"
}
for r in $(seq 1 "$rounds"); do
	echo "# round $r, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
	if ((r % 2)); then torch; convnet; else convnet; torch; fi
done
/usr/bin/python3 - "$out/convnet.jsonl" "$out/torch.jsonl" "$cpu" <<'PY'
import json, statistics, sys
runs = [[json.loads(l) for l in open(p)] for p in sys.argv[1:3]]
cpu = sys.argv[3]
keys = [("train_images_per_sec", "training, batch 100 (images/s)", True),
        ("infer_batch1_ms", "inference, batch 1 (ms)", False),
        ("infer_batch256_images_per_sec", "inference, batch 256 (images/s)", True),
        ("gemm_gflops", "GEMM 1024^3 (GFLOP/s)", True)]
print(f"| figure ({runs[0][0]['threads']} threads, median of {len(runs[0])} rounds) | convnet | PyTorch | convnet/PyTorch |")
print("|---|---:|---:|---:|")
def table(keys):
    for k, name, higher in keys:
        a = statistics.median(r[k] for r in runs[0])
        b = statistics.median(r[k] for r in runs[1])
        ratio = a / b if higher else b / a
        print(f"| {name} | {a:.4g} | {b:.4g} | {ratio:.2f}x |")
table(keys)
print("GEMM 1024^3 by round, convnet / " + ("PyTorch" if runs[0][0].get("bf16") else "OpenBLAS") + ": " + ", ".join(
    f"{a['gemm_gflops']:.1f} / {b['gemm_gflops']:.1f} ({a['gemm_gflops'] / b['gemm_gflops']:.2f}x)" for a, b in zip(*runs)))
# By the CPU time of each process: with one thread on a shared machine,
# the work each program does rather than the share of the cores it got.
cpukeys = [(k.replace("_per_sec", "_per_cpu_sec").replace("_ms", "_cpu_ms").replace("_gflops", "_cpu_gflops"), name + ", by CPU time", higher)
           for k, name, higher in keys]
if all(r.get(k) for r in runs[0] + runs[1] for k, _, _ in cpukeys):
    table(cpukeys)
c = runs[0]
gemm = statistics.median(r["gemm_gflops"] for r in c)
train = statistics.median(r["train_gflops"] for r in c)
infer1 = statistics.median(r["forward_mflop_per_image"] / r["infer_batch1_ms"] for r in c)
print()
mixed = "; products in bfloat16 (PyTorch: autocast)" if c[0].get("bf16") else ""
wino = {'on': ', Winograd', 'gradients': ', gradients by Winograd'}
print(f"CPU {cpu}; convnet kernels {c[0]['kernels']}{wino.get(c[0].get('winograd'), '')}, {c[0]['framework']}; PyTorch {runs[1][0]['framework']}; hidden activation {c[0].get('activation', 'relu')}{mixed}")
print(f"convnet training {train:.4g} GFLOP/s = {100 * train / gemm:.0f}% of its GEMM 1024^3 rate ({gemm:.4g} GFLOP/s);"
      f" batch-1 inference {infer1:.4g} GFLOP/s = {100 * infer1 / gemm:.0f}%")
if all(r.get("gemm_cpu_gflops") for r in c):
    gemm = statistics.median(r["gemm_cpu_gflops"] for r in c)
    train = statistics.median(r["train_mflop_per_image"] * r["train_images_per_cpu_sec"] / 1e3 for r in c)
    infer1 = statistics.median(r["forward_mflop_per_image"] / r["infer_batch1_cpu_ms"] for r in c)
    print(f"by CPU time: training {train:.4g} GFLOP/s = {100 * train / gemm:.0f}% of GEMM 1024^3 ({gemm:.4g} GFLOP/s);"
          f" batch-1 inference {infer1:.4g} GFLOP/s = {100 * infer1 / gemm:.0f}%")
PY
