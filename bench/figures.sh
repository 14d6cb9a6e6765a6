#!/usr/bin/env bash
# Every speed and memory figure of docs/PERFORMANCE.md in one run, on this
# machine (about 15 minutes; nothing else should run meanwhile):
#
#	CONVNET_DATA=/path/to/data bench/figures.sh
#
# 1. bench/compare.sh 3 2: convnet and PyTorch back to back, 3 rounds.
# 2. The peak resident memory of one epoch of the tutorial and the strong
#    recipes (/usr/bin/time, Debian's "time" package).
# 3. A 30-epoch run of the tutorial recipe against the time convnet bench's
#    training figure (the median of step 1) predicts for its 30 × 134 steps.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x /usr/bin/time ]] || { echo "figures.sh: needs /usr/bin/time (apt-get install -y time)" >&2; exit 1; }
out=$(mktemp -d)
echo "# $(date -u +%FT%TZ), $(git describe --always --dirty), results in $out"
bench/compare.sh 3 2 | tee "$out/compare.txt"

CGO_ENABLED=0 go build -o "$out/convnet" ./cmd/convnet
echo
echo "| one epoch | peak RSS | target |"
echo "|---|---:|---:|"
for recipe in tutorial:200 strong:300; do
	/usr/bin/time -f %M -o "$out/rss" "$out/convnet" train --recipe "${recipe%:*}" --epochs 1 \
		--out "$out/${recipe%:*}.safetensors" --force >"$out/${recipe%:*}-epoch.log" 2>&1
	awk -v r="${recipe%:*}" -v t="${recipe#*:}" '{printf "| %s recipe | %.1f MiB | %s MiB |\n", r, $1 / 1024, t}' "$out/rss"
done

echo
"$out/convnet" train --out "$out/tutorial.safetensors" --force >"$out/tutorial.log" 2>&1
/usr/bin/python3 - "$out/compare.txt" "$out/tutorial.log" <<'PY'
import json, re, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{"framework":"convnet')]
b = {"batch": runs[0]["batch"], "train_images_per_sec": statistics.median(r["train_images_per_sec"] for r in runs)}
log = open(sys.argv[2]).read()
m = re.search(r"training took (?:(\d+)h)?(?:(\d+)m)?([\d.]+)s", log)
took = int(m[1] or 0) * 3600 + int(m[2] or 0) * 60 + float(m[3])
predicted = 30 * 134 * b["batch"] / b["train_images_per_sec"]
print(f"30-epoch tutorial run: training took {took:.0f} s; the bench's {b['train_images_per_sec']:.0f} images/s "
      f"predict {predicted:.0f} s for its 30 x 134 steps: {took / predicted:.2f}x (target <= 1.15x)")
print([l for l in log.splitlines() if "test accuracy" in l][-1])
PY
