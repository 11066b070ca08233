#!/bin/bash
# lumen validate: external validation on another cohort with the same columns.
#  - binary: logistic regression trained on pbc's 312 trial patients, validated on its 106
#    other patients, against scikit-learn (roc_auc_score, average_precision_score,
#    brier_score_loss, an unpenalised LogisticRegression on logit(p), calibration_curve);
#  - survival: Cox on R's rotterdam (recurrence-free survival), validated on gbsg, against R
#    (survival::concordance, coxph on the linear predictor, riskRegression::Score), with the
#    two cohorts exported at test time by Rscript (skipped without R).
# The reference numbers are kept here too, so the test checks lumen without the oracles.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
F=$T/trial.lumen
head -313 "$DATA/pbc.csv" >"$T/trial.csv"
{ head -1 "$DATA/pbc.csv"; tail -n +314 "$DATA/pbc.csv"; } >"$T/other.csv"
run import "$T/trial.csv" -o "$F" --group sex
eq "import the trial patients" "$RC" 0
run train "$F" --model logreg --target status --positive 2 --exclude time --name lr --quiet
eq "train logreg" "$RC" 0
js() { printf '%s' "$OUT" | $PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

run validate "$F" --model lr --input "$T/other.csv" --json
eq "validate --json: exit 0" "$RC" 0
eq "106 patients, 36 deaths, by sex (the group column)" "$(js 'd["n"], d["events"], d["by"], [g["n"] for g in d["groups"]]')" \
	"106 36 sex [98, 8]"
# scikit-learn 1.2.1 on the same patients (reference numbers of this data)
near "AUC (sklearn 0.7924603)" "$(js 'd["auc"]')" 0.7924603 1e-6
near "average precision (sklearn 0.6783457)" "$(js 'd["average_precision"]')" 0.6783457 1e-6
near "Brier (sklearn 0.1716364)" "$(js 'd["brier"]')" 0.1716364 1e-6
near "calibration slope (sklearn 1.0703738)" "$(js 'd["calibration_slope"]')" 1.0703738 1e-5
near "calibration intercept (sklearn -0.2232193)" "$(js 'd["calibration_intercept"]')" -0.2232193 1e-5
eq "calibration curve, 10 bins (sklearn calibration_curve)" \
	"$(js '" ".join("%.4f/%.4f/%d" % (b["predicted"], b["observed"], b["n"]) for b in d["calibration_curve"])')" \
	"0.0864/0.0000/4 0.1530/0.1579/19 0.2532/0.1481/27 0.3399/0.3077/13 0.4450/0.3846/13 0.5499/0.3000/10 0.6338/0.8571/7 0.7404/0.8571/7 0.8726/1.0000/3 0.9309/0.6667/3"
eq "per group AUC: f and m" "$(js '"%.4f %.4f" % (d["groups"][0]["auc"], d["groups"][1]["auc"])')" "0.8093 0.3333"
if $PY -c 'import sklearn' 2>/dev/null; then
	"$LUMEN" predict "$F" --model lr --input "$T/other.csv" >"$T/p.csv"
	ref=$($PY - "$T/p.csv" "$T/other.csv" <<'EOF'
import csv, sys, warnings
import numpy as np
from sklearn.metrics import roc_auc_score, brier_score_loss, average_precision_score
from sklearn.linear_model import LogisticRegression
warnings.simplefilter("ignore")
p = {r["id"]: float(r["p"]) for r in csv.DictReader(open(sys.argv[1]))}
y = {r["id"]: int(r["status"] == "2") for r in csv.DictReader(open(sys.argv[2]))}
ids = list(p)
P = np.array([p[i] for i in ids]); Y = np.array([y[i] for i in ids])
lg = np.log(P / (1 - P)).reshape(-1, 1)
m = LogisticRegression(penalty="none", tol=1e-12, max_iter=1000).fit(lg, Y)
print("%.6f %.6f %.6f %.5f %.5f" % (roc_auc_score(Y, P), average_precision_score(Y, P),
      brier_score_loss(Y, P), m.coef_[0][0], m.intercept_[0]))
EOF
)
	eq "scikit-learn now: AUC, AP, Brier, slope, intercept" \
		"$(js '"%.6f %.6f %.6f %.5f %.5f" % (d["auc"], d["average_precision"], d["brier"], d["calibration_slope"], d["calibration_intercept"])')" "$ref"
else
	skip "scikit-learn now: AUC, AP, Brier, slope, intercept" "scikit-learn is not installed for /usr/bin/python3"
fi
eq "stored as validation 1" "$(sqlite3 "$F" "SELECT id, n, events, input FROM validations")" "1|106|36|$T/other.csv"
eq "the stored input hash is the file's" "$(sqlite3 "$F" "SELECT sha256 FROM validations")" "$(sha256sum "$T/other.csv" | cut -d' ' -f1)"
run models "$F"
contains "lumen models lists the validation" "$OUT" "  validation 1 on $T/other.csv ("
contains "... with its figures" "$OUT" "106 patients, 36 events, AUC 0.792, calibration slope 1.070, intercept -0.223, Brier 0.1716"
run models "$F" --json
contains "lumen models --json has the validations" "$OUT" '"validations":'
run validate "$F" --model lr --input "$T/other.csv" --by sex --no-store
eq "--no-store: exit 0" "$RC" 0
contains "text output: discrimination" "$OUT" "discrimination: AUC 0.792, average precision 0.678"
contains "text output: per group" "$OUT" "    f                    98     34   0.809  0.1639     0.379    0.347"
eq "--no-store stores nothing" "$(sqlite3 "$F" "SELECT count(*) FROM validations")" 1
eq "validate is in the access log" "$(sqlite3 "$F" "SELECT count(*) FROM access_log WHERE action = 'validate'")" 1

# a classifier of death by 5 years: the outcome from time and status by train's rule
run train "$F" --model logreg --time time --event status=2 --horizon 1825 --exclude time --name lr5y --quiet
eq "train lr5y" "$RC" 0
run validate "$F" --model lr5y --input "$T/other.csv" --no-store --json
eq "horizon classifier: patients with a known 5-year outcome and deaths (awk)" "$(js 'd["n"], d["events"], d["left_out"]')" \
	"$(awk -F, 'NR > 1 { if ($3 == 2 && $2 <= 1825) e++; else if ($2 >= 1825) z++; n++ } END { print e + z, e, n - e - z }' "$T/other.csv")"

# the model card shows the stored validation, with its calibration curve
run report "$F" model_card lr -o "$T/card.html"
eq "model card: exit 0" "$RC" 0
wellformed "model card with a validation: well-formed" "$T/card.html"
contains "model card: the external validation table" "$(cat "$T/card.html")" \
	"<tr><td>$T/other.csv</td><td>2026"
contains "model card: its figures" "$(cat "$T/card.html")" "<td>106</td><td>36</td><td>AUC 0.792</td><td>1.070</td><td>0.1716</td>"
eq "model card: ROC, calibration and the external calibration" "$(grep -o '<svg ' "$T/card.html" | wc -l | tr -d ' ')" 3

# bad input: one line, nothing stored
cut -d, -f1,2,4- "$T/other.csv" >"$T/nostatus.csv"
run validate "$F" --model lr --input "$T/nostatus.csv"
eq "no outcome column" "$RC/$ERR" "65/lumen: validate: $T/nostatus.csv:1: no column 'status' (the outcome of model 'lr', to validate against)"
sed '5s/,f,/,female,/; 5s/,"f",/,"female",/' "$T/other.csv" >"$T/badcat.csv"
run validate "$F" --model lr --input "$T/badcat.csv"
eq "a category the cohort never had" "$RC/$ERR" "65/lumen: validate: $T/badcat.csv:5:6: column 'sex': 'female' is not a category of the cohort (f, m)"
run validate "$F" --model lr --input "$T/none.csv"
eq "missing file" "$RC" 66
run validate "$F" --model lr --input "$T/other.csv" --by nothing
eq "unknown --by column" "$RC/$ERR" "64/lumen: validate: --by: $T/other.csv has no column 'nothing'"
eq "nothing stored on errors" "$(sqlite3 "$F" "SELECT count(*) FROM validations")" 1
run validate "$F" --input "$T/other.csv"
eq "no --model: usage" "$RC" 64

# ---- rotterdam -> gbsg: Cox, against R ----
if command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(survival)' >/dev/null 2>&1; then
	Rscript - "$T" >"$T/r.txt" 2>&1 <<'EOF'
suppressMessages(library(survival))
out <- commandArgs(TRUE)[1]
r <- rotterdam
ro <- data.frame(pid = r$pid, age = r$age, meno = r$meno, size = as.character(r$size),
                 grade = r$grade, nodes = r$nodes, pgr = r$pgr, er = r$er, hormon = r$hormon,
                 rfstime = ifelse(r$recur == 1, r$rtime, r$dtime), status = pmax(r$recur, r$death))
g <- gbsg
gb <- data.frame(pid = g$pid, age = g$age, meno = g$meno,
                 size = as.character(cut(g$size, c(0, 20, 50, Inf), labels = c("<=20", "20-50", ">50"))),
                 grade = g$grade, nodes = g$nodes, pgr = g$pgr, er = g$er, hormon = g$hormon,
                 rfstime = g$rfstime, status = g$status)
write.csv(ro, file.path(out, "rotterdam.csv"), row.names = FALSE)
write.csv(gb, file.path(out, "gbsg.csv"), row.names = FALSE)
ro$size <- factor(ro$size, levels = c("<=20", "20-50", ">50"))
gb$size <- factor(gb$size, levels = c("<=20", "20-50", ">50"))
fit <- coxph(Surv(rfstime, status) ~ age + meno + size + grade + nodes + pgr + er + hormon,
             data = ro, x = TRUE)
gb$lp <- predict(fit, newdata = gb, type = "lp")
cal <- coxph(Surv(rfstime, status) ~ lp, data = gb)
km <- survfit(Surv(rfstime, status) ~ 1, data = gb)
cat(sprintf("%.6f %.6f %.6f %.6f %.6f",
    concordance(Surv(rfstime, status) ~ lp, data = gb, reverse = TRUE)$concordance,
    concordance(Surv(rfstime, status) ~ lp, data = gb, reverse = TRUE, timewt = "n/G2")$concordance,
    coef(cal), sqrt(cal$var[1, 1]), 1 - summary(km, times = 996)$surv))
for (m in 0:1) cat(sprintf(" %.6f", concordance(Surv(rfstime, status) ~ lp, data = gb[gb$meno == m, ], reverse = TRUE)$concordance))
if (requireNamespace("riskRegression", quietly = TRUE)) {
	suppressMessages(library(riskRegression))
	sc <- Score(list(cox = fit), formula = Surv(rfstime, status) ~ 1, data = gb, times = 996,
	            metrics = c("auc", "brier"), null.model = FALSE, conf.int = FALSE)
	cat(sprintf(" %.6f %.6f", sc$AUC$score$AUC, sc$Brier$score$Brier))
}
cat("\n")
EOF
	W=$T/rotterdam.lumen
	run import "$T/rotterdam.csv" -o "$W" --time rfstime --event status
	eq "import rotterdam (R's survival, exported now)" "$RC" 0
	run train "$W" --model cox --time rfstime --event status --quiet
	eq "train cox on rotterdam" "$RC" 0
	run validate "$W" --model cox-status --input "$T/gbsg.csv" --by meno --json
	eq "validate on gbsg: exit 0" "$RC" 0
	eq "gbsg: 686 patients, 299 events, horizon 996 (the model's)" "$(js 'd["n"], d["events"], d["horizon"]')" "686 299 996"
	got=$(js '"%.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f" % (d["c_index"], d["uno_c"], d["calibration_slope"], d["calibration_slope_se"], d["observed"], d["groups"][0]["c_index"], d["groups"][1]["c_index"], d["auc_at_horizon"], d["brier"])')
	# R 4.x, survival 3.x, riskRegression: the numbers of this data
	eq "Harrell's C, Uno's C, slope, se, KM risk by 996, C by meno, AUC(996), Brier(996): the reference numbers" \
		"$got" "0.663269 0.659236 0.759289 0.075331 0.342250 0.659799 0.665016 0.709501 0.200749"
	eq "... and R now" "$(printf '%s' "$got" | cut -d' ' -f1-$(wc -w <"$T/r.txt"))" "$(cat "$T/r.txt")"
	run models "$W"
	contains "lumen models lists the gbsg validation" "$OUT" "686 patients, 299 events, C-index 0.663, calibration slope 0.759, Brier 0.2007 at t = 996"
else
	skip "rotterdam -> gbsg against R" "Rscript with the survival package is not installed"
fi
