#!/bin/sh
# Out-of-fold concordance of lumen's Cox model on public survival cohorts of R's survival
# package (pbc, lung, veteran, colon, gbsg, rotterdam, flchain), exported with Rscript into a
# temporary directory (nothing is kept): patients, events, inputs, the out-of-fold Harrell and
# Uno C (5 folds, seed 1) and the final model's C, beside R's coxph C on the complete cases
# (an in-sample figure: the out-of-fold one should be a little lower), and the out-of-fold C
# of a neural Cox model (mlp 64-64 on the partial likelihood, default options).
set -u
top=${LUMEN_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
out=${BENCH_OUT:-$top/bench/out}
mkdir -p "$out"
LUMEN=${LUMEN:-$top/build/lumen}
if ! command -v Rscript >/dev/null 2>&1 || ! Rscript -e 'library(survival)' >/dev/null 2>&1; then
	echo "bench_survival skipped: Rscript with the survival package is absent"
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lumen-bench-surv.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/export.R" <<RS
suppressMessages(library(survival))
put <- function(name, d, time, event, x) {
  o <- data.frame(id = seq_len(nrow(d)), time = d[[time]], event = as.integer(event), d[x])
  write.csv(o, file.path("$tmp", paste0(name, ".csv")), row.names = FALSE, na = "")
  cc <- o[complete.cases(o), ]
  f <- coxph(as.formula(paste("Surv(time, event) ~", paste(sprintf("\`%s\`", x), collapse = "+"))), data = cc)
  cat(name, nrow(cc), sprintf("%.4f", concordance(f)\$concordance), "\n", file = file.path("$tmp", "r.txt"), append = TRUE)
}
d <- survival::pbc
put("pbc", d, "time", d\$status == 2, setdiff(names(d), c("id", "time", "status")))
d <- survival::lung
put("lung", d, "time", d\$status == 2, c("age", "sex", "ph.ecog", "ph.karno", "pat.karno", "meal.cal", "wt.loss"))
d <- survival::veteran
put("veteran", d, "time", d\$status == 1, c("trt", "celltype", "karno", "diagtime", "age", "prior"))
d <- subset(survival::colon, etype == 2)
put("colon", d, "time", d\$status == 1, c("rx", "sex", "age", "obstruct", "perfor", "adhere", "nodes", "differ", "extent", "surg", "node4"))
d <- survival::gbsg
put("gbsg", d, "rfstime", d\$status == 1, c("age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon"))
d <- survival::rotterdam
put("rotterdam", d, "dtime", d\$death == 1, c("year", "age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon", "chemo"))
d <- survival::flchain
put("flchain", d, "futime", d\$death == 1, c("age", "sex", "kappa", "lambda", "flc.grp", "creatinine", "mgus"))
RS
Rscript "$tmp/export.R" || { echo "bench_survival: the R export failed"; exit 70; }
printf '%-10s %7s %7s %6s %9s %9s %9s %9s %8s %9s\n' cohort n events inputs "oof C" "oof Uno" "final C" "R C (cc)" "R n" "mlp oof C" | tee "$out/survival_c.txt"
for c in pbc lung veteran colon gbsg rotterdam flchain; do
	"$LUMEN" import "$tmp/$c.csv" -o "$tmp/$c.lumen" >/dev/null 2>&1 || { echo "$c: import failed"; continue; }
	"$LUMEN" train "$tmp/$c.lumen" --model cox --time time --event event --quiet >/dev/null 2>"$tmp/err" ||
		{ echo "$c: $(cat "$tmp/err")"; continue; }
	"$LUMEN" models "$tmp/$c.lumen" --json >"$tmp/$c.json"
	q() { sqlite3 :memory: "SELECT json_extract(readfile('$tmp/$c.json'), '$1')"; }
	r=$(awk -v c="$c" '$1 == c { print $3, $2 }' "$tmp/r.txt")
	"$LUMEN" train "$tmp/$c.lumen" --model mlp --time time --event event --quiet >/dev/null 2>&1
	"$LUMEN" models "$tmp/$c.lumen" --json >"$tmp/$c.json"
	printf '%-10s %7s %7s %6s %9.4f %9.4f %9.4f %9s %8s %9.4f\n' "$c" "$(q '$[0].metrics.cox.n')" \
		"$(q '$[0].metrics.cox.events')" "$(q '$[0].metrics.cox.lr.df')" "$(q '$[0].metrics.pooled.c_index')" \
		"$(q '$[0].metrics.pooled.uno_c')" "$(q '$[0].metrics.cox.c_final')" ${r:-- -} \
		"$(q '$[1].metrics.pooled.c_index')" | tee -a "$out/survival_c.txt"
done
