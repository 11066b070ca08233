#!/bin/sh
# Cox proportional hazards: the fit (Efron ties, Newton-Raphson) of lumen (bench/cox_bench.c,
# src/stats/cox.c) beside R's survival::coxph on the same 100,000 synthetic patients in the
# same run (8 inputs, times in whole days so that deaths tie, 30% censored), with the largest
# coefficient difference; then `lumen train --model cox` end to end (import excluded: 5
# folds, the final fit, the evaluation and storing).
set -u
top=${LUMEN_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
out=${BENCH_OUT:-$top/bench/out}
mkdir -p "$out"
rows=100000
[ "${BENCH_SCALE:-}" = small ] && rows=10000
cd "$top" || exit 70
make -s build/bench/cox_bench >/dev/null || { echo "bench_cox: cannot build cox_bench"; exit 70; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lumen-bench-cox.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# deterministic data: x ~ U(-1, 1) (an LCG), hazard exp(x . b) / 1000 per day
awk -v n="$rows" 'BEGIN {
	s = 12345; m = 2147483648
	printf "id,time,event"; for (a = 1; a <= 8; a++) printf ",x%d", a; print ""
	split("0.5 -0.3 0.2 0.8 -0.6 0.1 0 0.4", b, " ")
	for (i = 0; i < n; i++) {
		lp = 0; line = ""
		for (a = 1; a <= 8; a++) {
			s = (1103515245 * s + 12345) % m; x = 2 * s / m - 1
			lp += b[a] * x; line = line "," sprintf("%.6f", x)
		}
		s = (1103515245 * s + 12345) % m; u = (s + 0.5) / m
		t = -log(u) * 1000 / exp(lp)
		s = (1103515245 * s + 12345) % m; c = (s + 0.5) / m * 4000
		ev = t <= c; tt = int((ev ? t : c)) + 1
		print i + 1 "," tt "," ev line
	}
}' >"$tmp/cohort.csv"
cut -d, -f2- "$tmp/cohort.csv" >"$tmp/cox.csv"
build/bench/cox_bench "$tmp/cox.csv" | tee "$out/cox_lumen.txt"
if command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(survival)' >/dev/null 2>&1; then
	cat >"$tmp/cox.R" <<RS
suppressMessages(library(survival)); d <- read.csv("$tmp/cox.csv")
t0 <- proc.time()[["elapsed"]]
f <- coxph(Surv(time, event) ~ ., data = d, ties = "efron")
s <- proc.time()[["elapsed"]] - t0
cat(sprintf("R seconds %.3f iterations %d loglik %.6f\\n", s, f\$iter, f\$loglik[2]))
cat("R coef", sprintf("%.8f", coef(f)), "\\n")
RS
	Rscript "$tmp/cox.R" | tee "$out/cox_r.txt"
	awk 'FNR == 1 && FILENAME ~ /lumen/ { l = $3 } FNR == 1 && FILENAME ~ /_r/ { r = $3 }
	     $2 == "coef" && FILENAME ~ /lumen/ { for (i = 3; i <= NF; i++) lc[i] = $i }
	     $2 == "coef" && FILENAME ~ /_r/ { for (i = 3; i <= NF; i++) { d = lc[i] - $i; if (d < 0) d = -d; if (d > md) md = d } }
	     END { printf "Cox fit: lumen %.3f s, R coxph %.3f s: x%.2f; largest coefficient difference %.2g\n", l, r, r / l, md }' \
		"$out/cox_lumen.txt" "$out/cox_r.txt"
else
	echo "R reference skipped: Rscript with survival is absent"
fi
"$LUMEN" import "$tmp/cohort.csv" -o "$tmp/cox.lumen" >/dev/null
t0=$(date +%s.%N)
"$LUMEN" train "$tmp/cox.lumen" --model cox --time time --event event --quiet | tee "$out/cox_train.txt"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v n="$rows" 'BEGIN { printf "lumen train --model cox on %d patients (5 folds + final + evaluation + store): %.2f s\n", n, b - a }'
