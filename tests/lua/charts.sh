#!/bin/bash
# The HTML outputs and their charts: the model card (ROC and calibration with the diagonal,
# importance, the inputs with their labels, the attribution beeswarm, a dependence chart),
# survival_curves (Kaplan-Meier with bands, censoring ticks and the numbers at risk, checked
# against R's summary(survfit)), bias_audit (ratio charts on one log axis with the
# four-fifths band and bootstrap intervals), patient_explanations (one shared axis). Each file
# must be well-formed (xmllint) and hold its charts. Looking at them is a manual step:
# chromium --headless --screenshot (see README).
. "$(dirname "$0")/../lib.sh"
F=$T/pbc.lumen
run import "$DATA/pbc.csv" -o "$F" --group sex --time time --event status --treatment trt
eq "import pbc" "$RC" 0
sqlite3 "$F" "UPDATE columns SET label = 'Serum bilirubin (mg/dl)' WHERE name = 'bili'"
run train "$F" --model logreg --target status --positive 2 --exclude time --name lr --quiet
eq "train logreg" "$RC" 0
svgs() { grep -o '<svg ' "$1" | wc -l | tr -d ' '; }
count() { grep -o "$2" "$1" | wc -l | tr -d ' '; }

# ---- the model card, before and after lumen explain ----
run report "$F" model_card lr -o "$T/card0.html"
eq "model card without explanations: exit 0" "$RC" 0
wellformed "model card without explanations: well-formed" "$T/card0.html"
eq "... ROC and calibration charts" "$(svgs "$T/card0.html")" 2
contains "... says what adds the rest" "$(cat "$T/card0.html")" "<code>lumen explain FILE --model lr</code> adds"
run explain "$F" --model lr -q
eq "explain lr" "$RC" 0
run report "$F" model_card lr -o "$T/card.html"
eq "model card: exit 0" "$RC" 0
wellformed "model card: well-formed" "$T/card.html"
card=$(cat "$T/card.html")
eq "model card: 5 charts (ROC, calibration, importance, beeswarm, dependence)" "$(svgs "$T/card.html")" 5
eq "model card: the diagonal on ROC and calibration" "$(count "$T/card.html" 'class="ideal"')" 2
# the ROC curve: one point per distinct out-of-fold risk and (0,0) (sklearn's roc_curve with
# drop_intermediate=False)
npts=$(awk '/<svg /{k++} k==1 && /<polyline/{print; exit}' "$T/card.html" | grep -o '[0-9.]*,[0-9.]*' | wc -l | tr -d ' ')
eq "ROC: distinct risks + 1 points" "$npts" \
	"$(($(sqlite3 "$F" "SELECT count(DISTINCT p) FROM predictions WHERE model_id = (SELECT id FROM models WHERE name = 'lr') AND y IS NOT NULL") + 1))"
eq "calibration: a point per non-empty tenth" "$(awk '/<svg /{k++} k==2' "$T/card.html" | grep -c '<circle ')" \
	"$(sqlite3 "$F" "SELECT count(DISTINCT min(9, CAST(p * 10 AS INTEGER))) FROM predictions WHERE model_id = (SELECT id FROM models WHERE name = 'lr')")"
contains "model card: inputs listed with their labels" "$card" "<td>bili</td><td>Serum bilirubin (mg/dl)</td><td>real</td>"
contains "model card: labels in the charts" "$card" ">Serum bilirubin (mg/dl) (bili)</text>"
eq "model card: the beeswarm has 12 inputs" "$(count "$T/card.html" '<g class="swarm">')" 12
eq "model card: a dot per patient and input (12 x 418) and 418 dependence points" \
	"$(awk '/<svg /{k++} k==4 || k==5' "$T/card.html" | grep -c '<circle ')" $((12 * 418 + 418))
eq "no Markdown backtick leaks into the HTML" "$(count "$T/card.html" '`')" 0
contains "code spans become <code>" "$card" "<code>sex</code>"

# ---- survival_curves ----
run report "$F" survival_curves time status=2 sex -o "$T/km.html"
eq "survival_curves: exit 0" "$RC" 0
wellformed "survival_curves: well-formed" "$T/km.html"
eq "survival_curves: one chart" "$(svgs "$T/km.html")" 1
eq "two confidence bands" "$(count "$T/km.html" '<polygon class="band"')" 2
eq "two sets of censoring ticks" "$(count "$T/km.html" '<g class="censor">')" 2
# 418 patients, 161 deaths: 257 censored, at 250 distinct (time, sex) points
eq "a tick per censoring time (distinct per group)" "$(awk '/<g class="censor">/,/<\/g>/' "$T/km.html" | grep -c '<line ')" \
	"$(sqlite3 "$F" "SELECT count(*) FROM (SELECT DISTINCT sex, time FROM patients WHERE status <> 2)")"
contains "the at-risk table" "$(cat "$T/km.html")" '>at risk</text>'
# R: summary(survfit(Surv(time, status == 2) ~ sex, data = pbc), times = 0:4 * 1000)$n.risk
risk=$(awk '/>at risk</,/<\/svg>/' "$T/km.html" | grep -o 'middle">[0-9]*<' | grep -o '[0-9]*' | tr '\n' ' ')
eq "numbers at risk at 0, 1000, ... 4000 (R: f 374 294 163 67 19, m 44 34 15 9 5)" "$risk" \
	"374 294 163 67 19 44 34 15 9 5 "
if command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(survival)' >/dev/null 2>&1; then
	eq "... and R now" "$risk" "$(Rscript -e 'suppressMessages(library(survival)); f <- survfit(Surv(time, status == 2) ~ sex, data = pbc); s <- summary(f, times = 0:4 * 1000); cat(s$n.risk[s$strata == "sex=f"], s$n.risk[s$strata == "sex=m"], "")')"
else
	skip "... and R now" "Rscript with the survival package is not installed"
fi

# R: summary(survfit(...))$table medians and survdiff chi-square
contains "medians with their intervals (R: f 3445 [3170, NA], m 2386 [1536, NA])" "$(cat "$T/km.html")" \
	"<tr><td>sex=f</td><td>374</td><td>137</td><td>3445</td><td>3170 to not reached</td></tr>"
contains "... m" "$(cat "$T/km.html")" "<tr><td>sex=m</td><td>44</td><td>24</td><td>2386</td><td>1536 to not reached</td></tr>"
contains "log-rank (R: chi-square 2.9766)" "$(cat "$T/km.html")" "Log-rank test: chi-square 2.98 on 1 degree of freedom"

# ---- bias_audit: ratios on one log axis, the band, the intervals ----
run report "$F" bias_audit lr sex 0.5 50 -o "$T/audit.html"
eq "bias_audit: exit 0" "$RC" 0
wellformed "bias_audit: well-formed" "$T/audit.html"
eq "bias_audit: four ratio charts and two attribution charts" "$(svgs "$T/audit.html")" 6
eq "the four-fifths band on each ratio chart" "$(count "$T/audit.html" '<rect class="band"')" 4
eq "the ratio charts share one axis (the same tick positions)" \
	"$(awk '/<svg /{k++} k>=1 && k<=4 && /<text/ && /middle/' "$T/audit.html" | sed 's/ y="[^"]*"//' | sort | uniq -c | awk '{print $1}' | sort -u | tr '\n' ' ')" "4 "
eq "the attribution charts share one zero line" \
	"$(awk '/<svg /{k++} k>=5 && /stroke="#333"/' "$T/audit.html" | grep -o 'x1="[0-9.]*"' | sort -u | wc -l | tr -d ' ')" 1

# ---- patient_explanations: one axis for the three charts ----
run report "$F" patient_explanations 5 lr -o "$T/pe.html"
eq "patient_explanations: exit 0" "$RC" 0
wellformed "patient_explanations: well-formed" "$T/pe.html"
eq "three charts" "$(svgs "$T/pe.html")" 3
eq "one zero line for the three" "$(grep 'stroke="#333"' "$T/pe.html" | grep -o 'x1="[0-9.]*"' | sort -u | wc -l | tr -d ' ')" 1

# ---- the report API behind them ----
cat >"$T/bad.lua" <<'EOF'
report.interval{labels = {"a"}, values = {1}, lower = {0.5}, upper = {2}, band = {2, 1}}
EOF
run report "$F" "$T/bad.lua"
contains "report.interval: a band must be {lo, hi}" "$ERR" "report.interval: band must be {lo, hi} with lo < hi"
cat >"$T/bad2.lua" <<'EOF'
report.km{series = {{name = "a", x = {0, 1}, y = {1, 0.5}, at_risk = {3}}}, at_risk_times = {0, 1}}
EOF
run report "$F" "$T/bad2.lua"
contains "report.km: at_risk must match at_risk_times" "$ERR" "report.km: series[1] has 1 at_risk counts for 2 at_risk_times"
