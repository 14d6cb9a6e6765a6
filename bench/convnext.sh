#!/usr/bin/env bash
# Times convnet against PyTorch, back to back in alternating order, ROUNDS
# times: a training step of a small ConvNeXt (model's
# BenchmarkTrainStepConvNeXt of model/testdata/keras/convnext_letters.json
# against bench/pytorch/convnext_step.py: torchvision's ConvNeXt of the
# same stages, and the Net of that file's `convnet export --format
# pytorch` project) and dilated and undilated convolutions, ordinary and
# depthwise (nn's BenchmarkConv2D and BenchmarkDepthwiseConv2D against
# bench/pytorch/dilated_conv.py). Prints each
# round's figures, in milliseconds. Usage (from the repository root):
#
#	CONVNET_DATA=/path/to/data bench/convnext.sh [ROUNDS [THREADS]]
#
# (the export reads AHCD for the project's recipe).
# Needs Debian's python3-torch, python3-torchvision and
# libopenblas0-pthread, as bench/compare.sh does.
set -euo pipefail
rounds=${1:-3}
threads=${2:-2}

source "$(dirname "$0")/torch_env.sh"

out=$(mktemp -d)
go test -c -o "$out/model.test" ./model
go test -c -o "$out/nn.test" ./nn
go run ./cmd/convnet export --format pytorch --out "$out/project" --model model/testdata/keras/convnext_letters.json --optimizer adam >/dev/null
py() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$threads" /usr/bin/python3 "$@" --threads "$threads"; }
# gobench PKG ARGS... runs PKG's test binary in PKG's folder (its testdata).
gobench() {
	local pkg=$1
	shift
	(cd "$pkg" && GOMAXPROCS="$threads" "$out/$pkg.test" "$@" -test.run '^$' -test.benchtime 20x) |
		awk '/^Benchmark/ {printf "convnet %s %.2f ms\n", $1, $3 / 1e6}'
}
convnet() {
	gobench model -test.bench 'TrainStepConvNeXt$'
	gobench nn -test.bench 'Conv2D/(32x32x32-32-5x5|16x16x64-64-3x3)'
	gobench nn -test.bench 'DepthwiseConv2D/(32x32x32|16x16x128)-3x3-(s1|dilated2)/'
}
torch() {
	py bench/pytorch/convnext_step.py
	py bench/pytorch/convnext_step.py --project "$out/project"
	py bench/pytorch/dilated_conv.py
}
for r in $(seq 1 "$rounds"); do
	echo "# round $r, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
	if ((r % 2)); then torch; convnet; else convnet; torch; fi
done
