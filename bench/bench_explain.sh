#!/bin/sh
# Explanations: IG patients/s at 64 Gauss-Legendre steps per architecture, single-patient
# latency (goal < 5 ms for mlp and transformer), attention extraction per patient, beside a
# PyTorch reference of the same batched IG on the same model sizes (Debian's python3-torch
# in the fair set-up of bench/torch_setup.py: OpenBLAS 1 thread, the faster of 1 and 2 torch
# threads per figure, printed; goal (issue 13) transformer IG >= 5x); then a 100,000-patient
# lumen synth cohort explained with mlp through `lumen explain` (goal < 1 min): the exact
# rule, 64 Gauss steps, and --steps auto (Gauss from 16 nodes, doubled where the completeness
# error is above 1%; mean steps shown). BENCH_SCALE=small: 500 patients, 10,000 cohort.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 70
B=${LUMEN_BUILD:-$top/build}
make -s --no-print-directory -f Makefile -f bench/explain_bench.mk BUILD="$(basename "$B")" \
	"$(basename "$B")/bench/explain_bench" || exit 70
D=20 N=2000 COHORT=100000
if [ "${BENCH_SCALE:-}" = small ]; then N=500 COHORT=10000; fi
out=$(mktemp -d "${TMPDIR:-/tmp}/lumen-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT

echo "random-weight models, $D inputs (the transformer: $D tokens), $N patients (transformer $((N / 10)))"
"$B/bench/explain_bench" $D $N >"$out/lumen.txt" || exit 70
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
	/usr/bin/python3 bench/torch_ig_ref.py $D $N >"$out/torch.txt"
else
	echo "skip: PyTorch reference (Debian's /usr/bin/python3 with torch is absent)"
	: >"$out/torch.txt"
fi
sed -n 's/^# setup /pytorch set-up: /p' "$out/torch.txt"
awk 'FNR == NR { if ($1 != "#") { t[$1] = $2; th[$1] = $3 }; next } { l[$1] = $2; k[++n] = $1 }
END {
	printf "%-40s %12s %12s %8s %s\n", "figure", "lumen", "pytorch", "ratio", "torch threads"
	for (i = 1; i <= n; i++) {
		f = k[i]
		if (f in t && t[f] > 0) {
			r = (f ~ /_ms$|_ms_per_patient$/) ? t[f] / l[f] : l[f] / t[f]
			printf "%-40s %12s %12s %7.2fx %s\n", f, l[f], t[f], r, th[f]
		} else
			printf "%-40s %12s %12s %8s\n", f, l[f], "-", "-"
	}
	print "(ratio > 1: lumen faster; single-patient ratios are pytorch ms / lumen ms)"
}' "$out/torch.txt" "$out/lumen.txt"

echo
echo "lumen synth cohort of $COHORT patients, mlp (2 folds, 3 epochs: speed does not need a good model),"
echo "explained with the default rule (exact for an mlp), with 64 Gauss-Legendre steps and with --steps auto (Gauss from 16)"
"$LUMEN" synth --patients $COHORT --seed 4 -o "$out/syn" >/dev/null || exit 70
"$LUMEN" import "$out/syn/patients.csv" -o "$out/s.lumen" --target outcome >/dev/null || exit 70
"$LUMEN" train "$out/s.lumen" --model mlp --target outcome --exclude time,event --folds 2 \
	--epochs 3 --quiet >/dev/null || exit 70
for rule in exact gauss auto; do
	start=$(date +%s.%N)
	if [ $rule = auto ]; then # Gauss from 16 nodes, doubled where the error is above 1%
		"$LUMEN" explain "$out/s.lumen" --model mlp-outcome --method ig --rule gauss \
			--steps auto --json -q >"$out/ex.json" || exit 70
	else
		"$LUMEN" explain "$out/s.lumen" --model mlp-outcome --method ig --rule $rule --json -q \
			>"$out/ex.json" || exit 70
	fi
	end=$(date +%s.%N)
	awk -v s="$start" -v e="$end" -v n=$COHORT -v r=$rule 'BEGIN {
		printf "lumen explain (ig, %s, stored in one transaction): %.1f s wall, %.0f patients/s (goal: < 60 s for 100,000)\n", r, e - s, n / (e - s) }'
	python3 -c "
import json; d = json.load(open('$out/ex.json')); c = d['completeness']
print('  of which IG %.1f s; completeness error relative median %.2g, p99 %.2g, %d of %d above 1%%; steps: mean %.1f, max %d' % (d.get('seconds_ig', d.get('seconds', 0)), c['relative_median'], c['relative_p99'], c['above_1pct'], d['patients'], d.get('mean_steps_used', 0), d['max_steps_used']))"
done
