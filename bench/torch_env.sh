# Sourced by the scripts that time PyTorch beside convnet: refuses to go on
# unless Debian's PyTorch runs on OpenBLAS (libblas.so.3 is otherwise the
# reference BLAS, ~5 GFLOP/s, and PyTorch's figures would mean nothing),
# and sets cpu to the CPU's model, family and model number.
blas=$(/sbin/ldconfig -p | awk '$1 == "libblas.so.3" && /x86-64|AArch64|64bit/ && !found {print $NF; found = 1}')
if [[ -z "$blas" || "$(readlink -f "$blas")" != *openblas* ]]; then
	echo "$0: libblas.so.3 is ${blas:-missing} ($(readlink -f "${blas:-/dev/null}")), not OpenBLAS;" \
		"PyTorch's figures would be the reference BLAS's. Install libopenblas0-pthread." >&2
	exit 1
fi
maps=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 -c 'import numpy, torch; print(open("/proc/self/maps").read())' || true)
if [[ "$maps" != *openblas* ]]; then
	echo "$0: PyTorch and numpy did not load OpenBLAS (is python3-torch installed?)" >&2
	exit 1
fi
cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)"
family=$(awk -F': ' '/^cpu family/ {f = $2} /^model\t/ {m = $2} END {if (f != "") print " (family " f ", model " m ")"}' /proc/cpuinfo)
cpu="$cpu$family"
echo "# CPU: $cpu ($(nproc) CPUs online); libblas.so.3: $(readlink -f "$blas")"
