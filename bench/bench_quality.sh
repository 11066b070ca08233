#!/bin/sh
# Quality figures of lumen train: pooled out-of-fold AUC (5 stratified folds, seed 1) of
# logreg, mlp and transformer on pbc (death: status == 2) and on a synthetic cohort whose
# outcome is nonlinear (lumen synth, 20,000 patients; BENCH_SCALE=full: 100,000, which takes
# an hour on 2 cores because of the transformer; BENCH_SCALE=small: 5,000), beside
# the baseline in the same run: scikit-learn's LogisticRegression on the same folds and the
# same encoding (tests/e2e/sklearn_logreg.py; skipped with a message without Debian's
# python3-sklearn). Wall time of each training run is shown too. The transformer is capped
# at 15 epochs per fit (early stopping usually ends mlp sooner than that).
set -u
top=${LUMEN_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
n=20000
[ "${BENCH_SCALE:-}" = small ] && n=5000
[ "${BENCH_SCALE:-}" = full ] && n=100000
dir=$(mktemp -d "${TMPDIR:-/tmp}/lumen-bench-quality.XXXXXX")
trap 'rm -rf "$dir"' EXIT
now() { date +%s.%N; }
have_sk=0
/usr/bin/python3 -c 'import sklearn, numpy' 2>/dev/null && have_sk=1

quality() { # label workbench target [--positive V] [train options...]
	label=$1 w=$2
	shift 2
	printf '%-12s %-12s %8s %9s\n' "cohort" "model" "OOF AUC" "seconds"
	for arch in logreg mlp transformer; do
		t0=$(now)
		cap=
		[ "$arch" = transformer ] && cap="--epochs 15"
		# shellcheck disable=SC2086
		"$LUMEN" train "$w" --model "$arch" --name "$arch" --quiet $cap "$@" >/dev/null ||
			{ echo "$arch failed"; continue; }
		t1=$(now)
		auc=$(sqlite3 "$w" "SELECT json_extract(metrics, '\$.pooled.auc') FROM models WHERE name = '$arch'")
		awk -v l="$label" -v a="$arch" -v u="$auc" -v s="$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" \
			'BEGIN { printf "%-12s %-12s %8.4f %9.1f\n", l, a, u, s }'
	done
	if [ "$have_sk" = 1 ]; then
		t0=$(now)
		sk=$(/usr/bin/python3 "$top/tests/e2e/sklearn_logreg.py" "$w" logreg | cut -d' ' -f1)
		t1=$(now)
		awk -v l="$label" -v u="$sk" -v s="$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" \
			'BEGIN { printf "%-12s %-12s %8.4f %9.1f  (baseline: same folds and encoding)\n", l, "sklearn LR", u, s }'
	else
		echo "sklearn LogisticRegression: skipped (Debian python3-sklearn is not installed)"
	fi
}

"$LUMEN" import "$top/sample_data/pbc.csv" -o "$dir/pbc.lumen" --time time --event status >/dev/null
quality pbc "$dir/pbc.lumen" --target status --positive 2
echo
"$LUMEN" synth --patients "$n" --seed 1 -o "$dir/syn" >/dev/null
"$LUMEN" import "$dir/syn/patients.csv" -o "$dir/syn.lumen" --target outcome --time time \
	--event event --treatment treatment >/dev/null
quality "synth $((n / 1000))k" "$dir/syn.lumen" --target outcome
