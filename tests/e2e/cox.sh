#!/bin/bash
# lumen train --model cox on complete-case pbc (416 patients with protime; the Mayo model's
# inputs: age, log bilirubin, albumin, log protime, edema, sex) against R 4 / survival 3.5-3:
#   d <- read.csv("cc.csv")      # built below from sample_data/pbc.csv
#   f <- coxph(Surv(time, status == 2) ~ age + logbili + albumin + logprotime + edema + sex,
#              data = d)         # ties = "efron"; and ties = "breslow"
#   coef(f); sqrt(diag(vcov(f))); f$loglik; concordance(f)
#   summary(survfit(f, newdata = d[1:3, ]), times = c(365, 1825))$surv
# and the out-of-fold evaluation against survival::concordance and riskRegression::Score,
# rerun live when R has them (the numbers are kept here too).
. "$(dirname "$0")/../lib.sh"
awk -F, 'NR == 1 { print "id,time,status,age,logbili,albumin,logprotime,edema,sex"; next }
	$19 != "NA" && $19 != "" { printf "%s,%s,%s,%s,%.15g,%s,%.15g,%s,%s\n", $1, $2, $3, $5,
		log($11), $13, log($19), $10, $6 }' "$DATA/pbc.csv" >"$T/cc.csv"
W=$T/cc.lumen
run import "$T/cc.csv" -o "$W"
eq "import exits 0" "$RC" 0
run train "$W" --model cox --time time --event status=2 --times 365,1083,1825 --horizon 1825
eq "train --model cox exits 0" "$RC" 0
contains "train says what it fitted" "$OUT" "model 'cox-status': cox, time time, event status = 2, 416 patients, 160 events, 5 folds"
contains "train gives the LR test" "$OUT" "likelihood ratio 230.95 on 6 df"
J=$T/models.json
"$LUMEN" models "$W" --json >"$J"
jx() { sqlite3 :memory: "SELECT json_extract(readfile('$J'), '$1')"; }
C='$[0].metrics.cox'
# input, slot index, R coef, R se
while read -r name k b se; do
	near "efron $name coef = R's" "$(jx "$C.coefficients[$k].coef")" "$b" 1e-4
	near "efron $name se = R's" "$(jx "$C.coefficients[$k].se")" "$se" 1e-4
	near "efron $name coef = R's to 1e-6" "$(jx "$C.coefficients[$k].coef")" "$b" 1e-6
done <<'R'
age 0 0.03788216126 0.007852103986
logbili 1 0.86027570993 0.083295992522
albumin 2 -0.76701200179 0.209156624195
logprotime 3 2.38395486710 0.771088151121
edema 4 0.93644110327 0.273772932194
sex=m 6 0.22265844102 0.233404993608
R
eq "sex=f is the reference level (R's treatment contrast)" "$(jx "$C.coefficients[5].aliased")/$(jx "$C.coefficients[5].reference")/$(jx "$C.coefficients[5].coef")" "1/1/"
near "hazard ratio of log bilirubin = exp(coef)" "$(jx "$C.coefficients[1].hr")" 2.3638123304 1e-6
near "HR 95% lower bound" "$(jx "$C.coefficients[1].hr_lower")" "$(awk 'BEGIN { print exp(0.86027570993 - 1.959963984540054 * 0.083295992522) }')" 1e-5
near "Wald p of albumin (R 2.452538595e-04)" "$(jx "$C.coefficients[2].p")" 2.452538595e-04 1e-8
near "null log-likelihood = R's" "$(jx "$C.loglik0")" -866.9572966751 1e-6
# (the inputs reach the fit as float32, as every model's do: 1e-9 relative)
near "final log-likelihood = R's" "$(jx "$C.loglik")" -751.4829566536 1e-5
near "LR chi-square" "$(jx "$C.lr.chisq")" 230.948680043 1e-5
eq "LR df" "$(jx "$C.lr.df")" 6
near "Harrell's C of the final model = concordance(f) (35993 / 43133)" "$(jx "$C.c_final")" "$(awk 'BEGIN { printf "%.12f", 35993 / 43133 }')" 1e-9
# the proportional-hazards check: cox.zph(f)$table
while read -r k col chi pv; do
	eq "zph row $k is $col" "$(jx "$C.zph[$k].column")" "$col"
	near "zph $col chi-square = cox.zph's" "$(jx "$C.zph[$k].chisq")" "$chi" 1e-5
	near "zph $col p = cox.zph's" "$(jx "$C.zph[$k].p")" "$pv" 1e-6
done <<'R'
0 age 4.753206481e-04 0.982606018733
1 logbili 9.348739541e-01 0.333599625501
2 albumin 1.687796782e+00 0.193891656595
3 logprotime 9.267635355e+00 0.002332386331
4 edema 3.229060625e+00 0.072342174136
5 sex 1.642483272e+00 0.199985093576
R
near "zph global chi-square = cox.zph's" "$(jx "$C.zph_global.chisq")" 14.25566936 1e-5
eq "zph global df" "$(jx "$C.zph_global.df")" 6
contains "train warns about the input that breaks proportional hazards" "$ERR" "'logprotime' may break the proportional-hazards assumption (scaled Schoenfeld residuals: chi-square 9.27 on 1 df, p = 0.00233)"

# the out-of-fold evaluation: R on the stored out-of-fold predictions (seed 1, 5 folds)
P='$[0].metrics.pooled'
near "out-of-fold Harrell C = survival::concordance" "$(jx "$P.c_index")" 0.8305937449 1e-8
near "AUC(365) = riskRegression::Score" "$(jx "$P.at[0].auc")" 0.8821170810 1e-6
near "AUC(1083) = riskRegression::Score" "$(jx "$P.at[1].auc")" 0.8820444487 1e-6
near "AUC(1825) = riskRegression::Score" "$(jx "$P.at[2].auc")" 0.9007201468 1e-6
near "Brier(365) = riskRegression::Score" "$(jx "$P.at[0].brier")" 0.04686658225 1e-6
near "Brier(1083) = riskRegression::Score" "$(jx "$P.at[1].brier")" 0.10159165065 1e-6
near "Brier(1825) = riskRegression::Score" "$(jx "$P.at[2].brier")" 0.11247536011 1e-6
eq "calibration by risk decile at the horizon" "$(jx "$P.calibration.time")" 1825
eq "ten calibration groups" "$(sqlite3 :memory: "SELECT json_array_length(readfile('$J'), '$P.calibration.groups')")" 10
eq "out-of-fold predictions stored for every patient" "$(sqlite3 "$W" 'SELECT count(*), count(DISTINCT fold), sum(y) FROM predictions')" "416|5|160"

run models "$W"
contains "models shows the coefficient table" "$OUT" "logbili                    0.8603    0.0833     2.364"
contains "models shows the reference level" "$OUT" "sex=f                  (reference)"
contains "models shows the C-index final and out of fold" "$OUT" "C-index 0.834 final, 0.831 out of fold"
contains "models flags the proportional-hazards check" "$OUT" "logprotime p 0.0023 (!);"

# each patient's survival curve: the final model's = survfit(f, newdata)
run predict "$W" --model cox-status --times 365,1825 --json
eq "predict --times exits 0" "$RC" 0
printf '%s' "$OUT" >"$T/p.json"
px() { sqlite3 :memory: "SELECT json_extract(readfile('$T/p.json'), '$1')"; }
while read -r k s1 s5; do
	near "patient $((k + 1)) S(365) = survfit's" "$(px "\$.patients[$k].surv[0]")" "$s1" 2e-6
	near "patient $((k + 1)) S(1825) = survfit's" "$(px "\$.patients[$k].surv[1]")" "$s5" 2e-6
done <<'R'
0 0.2178287 2.410374e-06
1 0.98701937 0.89503027
2 0.88702743 0.36149522
R
eq "out-of-fold curve from the fold's model" "$(px '$.patients[0].fold')" 2
run predict "$W" --model cox-status --times 365
contains "CSV header" "$OUT" "id,lp,S_365,oof_lp,fold,oof_S_365"
head -3 "$T/cc.csv" >"$T/new.csv"
run predict "$W" --model cox-status --times 365,1825 --input "$T/new.csv"
eq "a new patient gets the final model's curve" "$(printf '%s\n' "$OUT" | sed -n 2p)" "1,3.962946,0.217829,0.000002"

# Lua's m:predict of a survival model: the risk by the horizon (1825) and the log-hazard
cat >"$T/risk.lua" <<'LUA'
local m = lumen.model("cox-status")
for p in lumen.patients{where = "id == 2"} do
  local r = lumen.record(p)
  r.rowid = nil -- without its rowid the record is a new patient: the final model
  local prob, logit = m:predict(r)
  report.paragraph(string.format("%.6f %.6f", prob, logit))
end
LUA
run report "$W" "$T/risk.lua"
eq "m:predict gives 1 - S(1825 | x) (survfit: 1 - 0.89503027)" "$OUT" "0.104970 -0.796194"

# integrated gradients on the log-hazard. Patient 1 is of the training cohort: the number shown
# and explained is its out-of-fold linear predictor, from the fold model that held it out (man
# lumen, explain); the log-hazard is linear, so IG = coef * (x - baseline) per input and the
# reasons add up to the lp exactly
run predict "$W" --model cox-status --times 365
oof1=$(printf '%s\n' "$OUT" | awk -F, 'NR == 2 { print $4 }')
run explain "$W" --model cox-status --patient 1 --json
eq "explain exits 0" "$RC" 0
printf '%s' "$OUT" >"$T/e.json"
ex() { sqlite3 :memory: "SELECT json_extract(readfile('$T/e.json'), '$1')"; }
eq "explained by the fold model that held patient 1 out" "$(ex '$.network') $(ex '$.fold')" "fold 2"
near "completeness: baseline + sum IG = lp" "$(ex '$.completeness_error')" 0 1e-6
near "the explained number is the out-of-fold linear predictor (oof_lp)" "$(ex '$.logit')" "$oof1" 1e-5
near "the reasons add up to it" "$(awk -v b="$(ex '$.baseline_logit')" -v a="$(ex '$.attribution_sum')" 'BEGIN { printf "%.9f", b + a }')" "$oof1" 1e-5
run explain "$W" --model cox-status --patient 2 --json
printf '%s' "$OUT" >"$T/e2.json"
near "explain shows patient 2's stored out-of-fold risk by the horizon" "$(sqlite3 :memory: "SELECT json_extract(readfile('$T/e2.json'), '\$.probability')")" "$(sqlite3 "$W" "SELECT p FROM predictions WHERE patient = 2 AND model_id = (SELECT id FROM models WHERE name = 'cox-status')")" 1e-5

# Breslow ties
run train "$W" --model cox --time time --event status=2 --ties breslow --name bres
eq "breslow exits 0" "$RC" 0
"$LUMEN" models "$W" --json >"$J"
C='$[1].metrics.cox'
while read -r k b se; do
	near "breslow coef $k = R's" "$(jx "$C.coefficients[$k].coef")" "$b" 1e-6
	near "breslow se $k = R's" "$(jx "$C.coefficients[$k].se")" "$se" 1e-6
done <<'R'
0 0.03787650 0.00785251
1 0.85976138 0.08330677
4 0.93480237 0.27397936
6 0.22313468 0.23340132
R
near "breslow log-likelihood" "$(jx "$C.loglik")" -751.620529 1e-5
run train "$W" --model cox --time time --event status=2 --l2 5 --name ridge
"$LUMEN" models "$W" --json >"$J"
awk -v a="$(jx '$[2].metrics.cox.coefficients[1].coef')" 'BEGIN { exit !(a > 0 && a < 0.86) }'
eq "the ridge shrinks the coefficients" "$?" 0

# bad input: one line, status 65, nothing stored
n0=$(sqlite3 "$W" 'SELECT count(*) FROM models')
bad() { # desc expected-text args...
	local d=$1 want=$2
	shift 2
	run train "$@"
	eq "$d: status 65" "$RC" 65
	contains "$d: says why" "$ERR" "$want"
	eq "$d: one line" "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1
}
bad "time as a feature" "'time' is the time column and cannot be a feature" "$W" --model cox --time time --event status=2 --features age,time --name x
bad "event column with three codes" "values other than two event codes" "$W" --model cox --time time --event status --name x
bad "an event code the column does not have" "column 'status' has no value '7'" "$W" --model cox --time time --event status=7 --name x
awk -F, 'BEGIN { OFS = "," } NR > 1 { $3 = 0 } { print }' "$T/cc.csv" >"$T/none.csv"
"$LUMEN" import "$T/none.csv" -o "$T/none.lumen" >/dev/null
bad "no events" "no events (status = 1): a Cox model needs some" "$T/none.lumen" --model cox --time time --event status
sed '3s/^2,4500,/2,-4500,/' "$T/cc.csv" >"$T/neg.csv"
"$LUMEN" import "$T/neg.csv" -o "$T/neg.lumen" >/dev/null
bad "negative time" "patient 2: time time = -4500 is negative" "$T/neg.lumen" --model cox --time time --event status=2
sed '3s/^2,4500,/2,,/' "$T/cc.csv" >"$T/miss.csv"
"$LUMEN" import "$T/miss.csv" -o "$T/miss.lumen" >/dev/null
bad "missing time" "patient 2: time 'time' is missing" "$T/miss.lumen" --model cox --time time --event status=2
eq "nothing stored by the failed runs" "$(sqlite3 "$W" 'SELECT count(*) FROM models')" "$n0"
eq "nothing stored in the other files" "$(sqlite3 "$T/neg.lumen" 'SELECT count(*) FROM models')/$(sqlite3 "$T/miss.lumen" 'SELECT count(*) FROM models')" "0/0"
run predict "$W" --model bres --times 0,abc
eq "--times with a bad time: status 64" "$RC" 64

# neural Cox (DeepSurv style): an mlp on the partial likelihood, the same folds and storage
run train "$W" --model mlp --time time --event status=2 --times 365,1825 --quiet
eq "train --model mlp --time/--event exits 0" "$RC" 0
contains "says what it trained" "$OUT" "model 'mlp-cox-status': mlp on the Cox partial likelihood, time time, event status = 2, 416 patients, 160 events, 5 folds"
"$LUMEN" models "$W" --json >"$J"
NJ=$(sqlite3 :memory: "SELECT key FROM json_each(readfile('$J')) WHERE json_extract(value, '\$.name') = 'mlp-cox-status'")
awk -v c="$(jx "\$[$NJ].metrics.pooled.c_index")" 'BEGIN { exit !(c > 0.75 && c < 0.9) }'
eq "neural Cox out-of-fold C-index between 0.75 and 0.9 (linear: 0.831)" "$?" 0
eq "neural Cox is a survival model" "$(jx "\$[$NJ].task")/$(jx "\$[$NJ].arch")" "survival/mlp"
eq "every fold has its baseline hazard" "$(sqlite3 "$W" "SELECT count(*) FROM model_tensors t JOIN models m ON m.id = t.model_id WHERE m.name = 'mlp-cox-status' AND t.name = 'cox.cumhaz'")" 6
run predict "$W" --model mlp-cox-status --times 365,1825 --json
eq "neural Cox predict exits 0" "$RC" 0
printf '%s' "$OUT" >"$T/np.json"
s1=$(sqlite3 :memory: "SELECT json_extract(readfile('$T/np.json'), '\$.patients[0].surv[0]') >= json_extract(readfile('$T/np.json'), '\$.patients[0].surv[1]')")
eq "a neural survival curve does not rise" "$s1" 1
run explain "$W" --model mlp-cox-status --patient 1 --json
printf '%s' "$OUT" >"$T/ne.json"
near "IG on the neural log-hazard is complete" "$(sqlite3 :memory: "SELECT json_extract(readfile('$T/ne.json'), '\$.completeness_error')")" 0 1e-4
run models "$W"
contains "models shows the neural Cox summary" "$OUT" "neural Cox: 416 patients, 160 events; C-index"

# a fixed-horizon classifier: the event by 1825 days; censored before it left out
P5=$T/pbc.lumen
"$LUMEN" import "$DATA/pbc.csv" -o "$P5" >/dev/null
run train "$P5" --model logreg --time time --event status=2 --horizon 1825 --quiet
eq "--horizon train exits 0" "$RC" 0
want_used=$(awk -F, 'NR > 1 && (($3 == 2 && $2 <= 1825) || $2 >= 1825)' "$DATA/pbc.csv" | wc -l | tr -d ' ')
want_pos=$(awk -F, 'NR > 1 && $3 == 2 && $2 <= 1825' "$DATA/pbc.csv" | wc -l | tr -d ' ')
eq "patients used and events by the horizon (awk on the CSV)" "$(sqlite3 "$P5" 'SELECT count(*), sum(y) FROM predictions')" "$want_used|$want_pos"
contains "says how many were censored before the horizon" "$ERR" "lumen: train: target: status=2 by time 1825; $((418 - want_used)) patients censored before it left out"
eq "the time column is not an input" "$(sqlite3 "$P5" "SELECT count(*) FROM model_inputs WHERE source_column = 'time'")" 0
eq "the horizon is kept with the model" "$(sqlite3 "$P5" "SELECT json_extract(hyper, '\$.horizon') FROM models")" 1825
# every pbc column: identical missing indicators are aliased, and a fold whose information
# turns singular (a coefficient running off to infinity) is said
run train "$P5" --model cox --time time --event status=2 --name all
eq "cox on every pbc column exits 0" "$RC" 0
contains "a singular information is said" "$ERR" "inverted with a tiny ridge"
run models "$P5"
contains "aliased missing indicators are shown as such" "$OUT" "ascites:missing         (aliased)"
run train "$P5" --model logreg --time time --event status=2 --horizon 1825 --target status --name h2
eq "--horizon with --target: usage error" "$RC" 64
run train "$P5" --model logreg --time time --event status=2 --horizon 1825 --features age,time --name h3
eq "--horizon with the time as a feature: status 65" "$RC" 65
contains "and says so" "$ERR" "'time' is the time column and cannot be a feature"

# audit of a survival model by group: C and calibration at the horizon per sex
run train "$P5" --model cox --time time --event status=2 --times 365,1825 --name cs5 --quiet
run audit "$P5" --model cs5 --by sex --json
eq "audit of a Cox model exits 0" "$RC" 0
printf '%s' "$OUT" >"$T/au.json"
ax() { sqlite3 :memory: "SELECT json_extract(readfile('$T/au.json'), '$1')"; }
eq "survival section at the horizon" "$(ax '$.survival.horizon')/$(ax '$.survival.groups[0].group')/$(ax '$.survival.groups[0].n')/$(ax '$.survival.groups[0].events')" "1825/sex=f/374/137"
# survfit(Surv(time, status == 2) ~ sex, pbc) at 1825: women 0.721998224898, men 0.541059837986
near "women: observed risk = 1 - Kaplan-Meier (R)" "$(ax '$.survival.groups[0].observed_risk')" 0.278001775102 1e-9
near "men: observed risk = 1 - Kaplan-Meier (R)" "$(ax '$.survival.groups[1].observed_risk')" 0.458940162014 1e-9
want_pred=$(sqlite3 "$P5" "SELECT avg(p.p) FROM predictions p JOIN models m ON m.id = p.model_id JOIN patients q ON q.rowid = p.patient WHERE m.name = 'cs5' AND q.sex = 'f'")
near "women: predicted risk = mean stored out-of-fold risk" "$(ax '$.survival.groups[0].predicted_risk')" "$want_pred" 1e-9
# survival::concordance on the stored out-of-fold lp per sex (R 4 / survival 3.5-3)
near "women's out-of-fold C (R 0.787417434318)" "$(ax '$.survival.groups[0].c_index')" 0.787417434318 1e-9
near "men's out-of-fold C (R 0.718286655684)" "$(ax '$.survival.groups[1].c_index')" 0.718286655684 1e-9
run audit "$P5" --model cs5 --by sex
contains "audit text has the survival table" "$OUT" "Survival by group (out of fold): Harrell's C"
if command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(survival)' >/dev/null 2>&1; then
	sqlite3 -csv -header "$P5" "SELECT q.time AS time, q.status AS status, q.sex AS sex, printf('%.17g', p.logit) AS lp
	  FROM predictions p JOIN models m ON m.id = p.model_id JOIN patients q ON q.rowid = p.patient
	  WHERE m.name = 'cs5' ORDER BY p.patient" >"$T/au.csv"
	cat >"$T/au.R" <<RS
suppressMessages(library(survival)); d <- read.csv("$T/au.csv"); d\$ev <- d\$status == 2
for (s in c("f", "m")) cat(sprintf("%.12f\\n", concordance(Surv(time, ev) ~ lp, data = d[d\$sex == s, ], reverse = TRUE)\$concordance))
RS
	Rscript "$T/au.R" >"$T/auc.txt"
	near "live R: women's C = concordance" "$(ax '$.survival.groups[0].c_index')" "$(sed -n 1p "$T/auc.txt")" 1e-9
	near "live R: men's C = concordance" "$(ax '$.survival.groups[1].c_index')" "$(sed -n 2p "$T/auc.txt")" 1e-9
else
	skip "per-group C against R" "Rscript with the survival package is not installed"
fi

# live R, when it is here
if command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(survival)' >/dev/null 2>&1; then
	sqlite3 -csv -header "$W" "SELECT printf('%.17g', p.logit) AS lp FROM predictions p
	  JOIN models m ON m.id = p.model_id WHERE m.name = 'cox-status' ORDER BY p.patient" >"$T/lp.csv"
	cat >"$T/cox.R" <<RS
suppressMessages(library(survival))
d <- read.csv("$T/cc.csv")
f <- coxph(Surv(time, status == 2) ~ age + logbili + albumin + logprotime + edema + sex, data = d)
d\$lp <- read.csv("$T/lp.csv")\$lp
d\$ev <- d\$status == 2
h <- concordance(Surv(time, ev) ~ lp, data = d, reverse = TRUE)\$concordance
u <- concordance(Surv(time, ev) ~ lp, data = d, reverse = TRUE, timewt = "n/G2", ymax = 1825)\$concordance
z <- cox.zph(f)\$table[, "chisq"]
cat(sprintf("%.12f", c(coef(f), sqrt(diag(vcov(f))), h, u, z)), sep = "\n", file = "$T/r.txt")
RS
	Rscript "$T/cox.R"
	J=$T/models.json
	"$LUMEN" models "$W" --json >"$J"
	C='$[0].metrics.cox'
	mapfile -t R <"$T/r.txt"
	k=0
	for slot in 0 1 2 3 4 6; do
		near "live R: coef of slot $slot" "$(jx "$C.coefficients[$slot].coef")" "${R[$k]}" 1e-6
		near "live R: se of slot $slot" "$(jx "$C.coefficients[$slot].se")" "${R[$((k + 6))]}" 1e-6
		k=$((k + 1))
	done
	near "live R: out-of-fold Harrell C" "$(jx '$[0].metrics.pooled.c_index')" "${R[12]}" 1e-9
	near "live R: out-of-fold Uno C (tau 1825)" "$(jx '$[0].metrics.pooled.uno_c')" "${R[13]}" 1e-9
	for k in 0 1 2 3 4 5; do
		near "live R: cox.zph chi-square of input $k" "$(jx "$C.zph[$k].chisq")" "${R[$((14 + k))]}" 1e-5
	done
	near "live R: cox.zph global" "$(jx "$C.zph_global.chisq")" "${R[20]}" 1e-5
else
	skip "coxph live" "Rscript with the survival package is not installed"
fi
if command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(riskRegression)' >/dev/null 2>&1; then
	"$LUMEN" predict "$W" --model cox-status --times 365,1083,1825 >"$T/p.csv"
	cat >"$T/score.R" <<RS
suppressMessages({library(survival); library(riskRegression)})
d <- read.csv("$T/cc.csv"); p <- read.csv("$T/p.csv"); d\$ev <- as.integer(d\$status == 2)
r <- 1 - as.matrix(p[, c("oof_S_365", "oof_S_1083", "oof_S_1825")])
sc <- Score(list(cox = r), formula = Surv(time, ev) ~ 1, data = d, times = c(365, 1083, 1825),
  metrics = c("auc", "brier"), cens.model = "km", null.model = FALSE, conf.int = FALSE)
cat(sprintf("%.12f", c(sc\$AUC\$score\$AUC, sc\$Brier\$score\$Brier)), sep = "\n", file = "$T/s.txt")
RS
	Rscript "$T/score.R" 2>/dev/null
	mapfile -t S <"$T/s.txt"
	for k in 0 1 2; do
		# R reads the 6-decimal CSV: agreement to its rounding
		near "live riskRegression: AUC at time $k" "$(jx "\$[0].metrics.pooled.at[$k].auc")" "${S[$k]}" 1e-4
		near "live riskRegression: Brier at time $k" "$(jx "\$[0].metrics.pooled.at[$k].brier")" "${S[$((k + 3))]}" 1e-5
	done
else
	skip "riskRegression live" "Rscript with riskRegression is not installed"
fi
echo "1..$T_N"
