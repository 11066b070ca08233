#!/bin/sh
# Treatment effects (lumen train --effect, issue 17): every learner (T, DR) and architecture
# (logreg, mlp, transformer) on a lumen synth cohort with a known predictive biomarker
# (--biomarker -1.2: crp modifies the effect; truth_effect.csv has each patient's true effect),
# beside scikit-learn T-learners of the same kind on lumen's folds and encoding
# (tests/e2e/sklearn_tlearner.py: LogisticRegression with lumen's penalty, MLPClassifier
# 64x64 with early stopping). Inputs: the 12 numeric columns given by --features (the 7
# signal labs and 5 noise ones), no missing values; 6,000 patients (BENCH_SCALE=small: 3,000),
# 5 folds. Per row: the Spearman correlation of the out-of-fold effect with the true effect,
# the Qini area (above random), the effect calibration slope, the predicted and the true mean
# effect, and the training seconds. Then the estimates on the real trials: pbc (trt, two
# arms, reference placebo) and colon (rx, three arms, reference observation).
set -u
top=${LUMEN_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
LUMEN=${LUMEN:-$top/build/lumen}
out=$(mktemp -d "${TMPDIR:-/tmp}/lumen-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT
n=6000
[ "${BENCH_SCALE:-}" = small ] && n=3000
have_sk=0
/usr/bin/python3 -c 'import sklearn, scipy' 2>/dev/null && have_sk=1
"$LUMEN" synth --patients "$n" --seed 11 --missing 0 --biomarker -1.2 -o "$out/syn" >/dev/null || exit 70
"$LUMEN" import "$out/syn/patients.csv" -o "$out/s.lumen" --treatment treatment >/dev/null 2>&1 || exit 70
F=age,egfr,hba1c,sbp,albumin,sodium,crp,creatinine,bmi,ldl,hemoglobin,wbc
true_ate=$(awk -F, 'NR > 1 {s += $5; n++} END {printf "%.4f", s / n}' "$out/syn/truth_effect.csv")
# Spearman of two columns (no ties expected)
rho() {
	sort -t, -k1,1g "$1" | awk -F, '{print NR "," $2}' | sort -t, -k2,2g |
		awk -F, '{d = $1 - NR; s += d * d; n++} END {printf "%.3f", 1 - 6 * s / (n * (n * n - 1))}'
}
m() { sqlite3 "$out/s.lumen" "SELECT printf('%.4f', json_extract(metrics, '\$.effect.arms[0].$2')) FROM models WHERE name = '$1'"; }
printf '%d patients, true mean effect %s (std %s)\n' "$n" "$true_ate" \
	"$(awk -F, 'NR > 1 {s += $5; q += $5 * $5; n++} END {printf "%.4f", sqrt(q / n - (s / n) ^ 2)}' "$out/syn/truth_effect.csv")"
printf '%-28s %8s %10s %9s %10s %8s\n' "model" "spearman" "qini_area" "cal_slope" "pred_ate" "seconds"
for arch in logreg mlp transformer; do
	for l in t dr; do
		/usr/bin/time -f "%e" -o "$out/time" "$LUMEN" train "$out/s.lumen" --model $arch --target outcome \
			--effect treatment --features $F --learner $l --name "$arch-$l" --quiet >/dev/null || exit 70
		"$LUMEN" predict "$out/s.lumen" --model "$arch-$l" --csv "$out/p.csv" || exit 70
		cut -d, -f4 "$out/p.csv" | tail -n +2 >"$out/a"
		cut -d, -f5 "$out/syn/truth_effect.csv" | tail -n +2 >"$out/b"
		paste -d, "$out/a" "$out/b" >"$out/et"
		printf '%-28s %8s %10s %9s %10s %8s\n' "lumen $arch $l-learner" "$(rho "$out/et")" \
			"$(m "$arch-$l" curves.qini_area)" "$(m "$arch-$l" calibration.slope)" \
			"$(m "$arch-$l" ate.predicted)" "$(cat "$out/time")"
		if [ $have_sk = 1 ] && [ $l = t ] && [ $arch != transformer ]; then
			/usr/bin/time -f "%e" -o "$out/time" /usr/bin/python3 "$top/tests/e2e/sklearn_tlearner.py" "$out/s.lumen" \
				"$arch-t" "$out/syn/truth_effect.csv" $arch >"$out/sk" || exit 70
			printf '%-28s %8s %10s %9s %10s %8s\n' "sklearn $arch T-learner" \
				"$(awk '$1 == "rho_sklearn" {printf "%.3f", $2}' "$out/sk")" \
				"$(awk '$1 == "qini_sklearn" {printf "%.4f", $2}' "$out/sk")" "-" "-" "$(cat "$out/time")"
		fi
	done
done
[ $have_sk = 1 ] || echo "skip: scikit-learn T-learners (Debian's python3-sklearn or scipy is absent)"
echo
"$LUMEN" import "$top/sample_data/pbc.csv" -o "$out/pbc.lumen" --treatment trt >/dev/null 2>&1 || exit 70
for l in t dr; do
	"$LUMEN" train "$out/pbc.lumen" --model logreg --target status --positive 2 --effect trt \
		--reference 2 --exclude time --learner $l --name pbc-$l --quiet 2>/dev/null | tail -n +2 || exit 70
done
"$LUMEN" import "$top/sample_data/colon.csv" -o "$out/colon.lumen" --treatment rx >/dev/null 2>&1 || exit 70
for l in t dr; do
	"$LUMEN" train "$out/colon.lumen" --model logreg --target status --effect rx --reference Obs \
		--exclude time --learner $l --name colon-$l --quiet 2>/dev/null | tail -n +2 || exit 70
done
