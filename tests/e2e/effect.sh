#!/bin/bash
# Treatment effects: lumen synth --biomarker (a known per-patient effect), lumen train --effect
# (T- and DR-learners), their evaluation, predict, explain; checked against the synthetic truth.
. "$(dirname "$0")/../lib.sh"

# ---- lumen synth --biomarker -----------------------------------------------------------
run synth --patients 3000 --seed 5 -o "$T/plain"
check "no truth_effect.csv without --biomarker" test ! -e "$T/plain/truth_effect.csv"
run synth --patients 3000 --seed 5 --biomarker -0.45 -o "$T/b45"
eq "--biomarker exits 0" "$RC" 0
eq "--biomarker at the default strength writes the same patients" \
	"$(sha256sum <"$T/b45/patients.csv")" "$(sha256sum <"$T/plain/patients.csv")"
eq "truth_effect.csv header" "$(head -1 "$T/b45/truth_effect.csv")" "id,treatment,p_0,p_1,effect"
eq "one row per patient" "$(wc -l <"$T/b45/truth_effect.csv")" 3001
# the arm a patient received has the risk truth_contrib.csv gives (the same logistic model)
eq "p under the received arm is the truth's p" "$(awk -F, 'NR == FNR {if (FNR > 1) p[$1] = $(NF-1); next}
	FNR > 1 {q = $2 == 1 ? $4 : $3; d = q - p[$1]; if (d < 0) d = -d; if (d > 2e-6) bad++} END {print bad+0}' \
	"$T/b45/truth_contrib.csv" "$T/b45/truth_effect.csv")" 0
eq "effect = p_1 - p_0" "$(awk -F, 'FNR > 1 {d = $5 - ($4 - $3); if (d < 0) d = -d; if (d > 2e-6) bad++} END {print bad+0}' \
	"$T/b45/truth_effect.csv")" 0
# the closed form for patient 1: logit0 = truth logit - treatment terms, logit1 = logit0 - 0.30 + A zl(crp)
run synth --patients 3000 --seed 5 --biomarker -1.5 -o "$T/b15"
eq "a stronger biomarker changes the outcome, not the covariates" \
	"$(cut -d, -f1-7,9-38 "$T/b15/patients.csv" | sha256sum)" "$(cut -d, -f1-7,9-38 "$T/plain/patients.csv" | sha256sum)"
crpcol=$(head -1 "$T/b15/patients.csv" | tr , '\n' | grep -nx crp | cut -d: -f1)
eq "effect is sigmoid(l0 - 0.30 - 1.5 ln(crp / 2.5)) - sigmoid(l0) for every patient with a crp" \
	"$(awk -F, -v c="$crpcol" 'NR == FNR {if (FNR > 1) crp[$1] = $c; next}
	FNR > 1 && crp[$1] != "" {n++; l0 = log($3 / (1 - $3)); e = 1 / (1 + exp(-(l0 - 0.30 - 1.5 * log(crp[$1] / 2.5)))) - $3;
	d = e - $5; if (d < 0) d = -d; if (d > 2e-5) bad++} END {print bad+0, (n > 2500)}' \
	"$T/b15/patients.csv" "$T/b15/truth_effect.csv")" "0 1"
contains "truth.json names the effect file" "$(cat "$T/b15/truth.json")" '"effect":	"truth_effect.csv"'
contains "truth.json gives the coefficient" "$(grep coef_std "$T/b15/truth.json")" "-1.5"
run synth --patients 10 --biomarker 9 -o "$T/e"
eq "--biomarker 9: status 64" "$RC" 64
contains "--biomarker 9: message" "$ERR" "lumen: synth: --biomarker: '9' is not a coefficient in -5..5"
run synth --patients 10 --seed 5 --force -o "$T/b15"
check "without --biomarker a stale truth_effect.csv is removed" test ! -e "$T/b15/truth_effect.csv"

# ---- lumen train --effect: the T-learner -----------------------------------------------
# Spearman rank correlation of two columns of a CSV without header (no ties expected)
spearman() {
	sort -t, -k1,1g "$1" | awk -F, '{print NR "," $2}' | sort -t, -k2,2g |
		awk -F, '{d = $1 - NR; s += d * d; n++} END {printf "%.4f", 1 - 6 * s / (n * (n * n - 1))}'
}
run synth --patients 4000 --seed 3 --biomarker -1.2 -o "$T/syn"
run import "$T/syn/patients.csv" -o "$T/syn.lumen" --target outcome --treatment treatment
eq "import the biomarker cohort" "$RC" 0
run train "$T/syn.lumen" --model logreg --target outcome --effect treatment --exclude time,event --name tl
eq "T-learner trains" "$RC" 0
contains "T-learner: summary line" "$OUT" \
	"model 'tl': logreg T-learner, effect of treatment on outcome against 0, 4000 patients, 2 arms, 5 folds"
contains "T-learner: evaluation table" "$OUT" "effect of treatment against 0 (T-learner), out of fold:"
contains "T-learner: progress per fold" "$ERR" "lumen: train: fold 5/5: outcome and propensity networks"
run models "$T/syn.lumen"
contains "lumen models lists it with its evaluation" "$OUT" "effect of treatment against 0 (T-learner)"
run models "$T/syn.lumen" --json
contains "models --json: task effect" "$(tr -d ' \t' <<<"$OUT")" '"task":"effect"'
run predict "$T/syn.lumen" --model tl --csv "$T/tl.csv"
eq "predict an effect model" "$RC" 0
eq "predict: the cohort's columns" "$(head -1 "$T/tl.csv")" "id,p_0,p_1,effect_1,fold,effect_sd_1"
eq "predict: one row per patient" "$(wc -l <"$T/tl.csv")" 4001
eq "T-learner: effect_1 = p_1 - p_0 for every patient" "$(awk -F, 'NR > 1 {d = $4 - ($3 - $2); if (d < 0) d = -d; if (d > 2e-6) bad++} END {print bad+0}' "$T/tl.csv")" 0
eq "every fold 0..4 and a spread >= 0" "$(awk -F, 'NR > 1 {f[$5]++; if ($6 < 0 || $6 == "") bad++} END {print length(f), bad+0}' "$T/tl.csv")" "5 0"
eq "the stored predictions are the reference arm's out-of-fold risk" \
	"$(sqlite3 "$T/syn.lumen" "SELECT count(*) FROM predictions p JOIN effects e ON e.model_id = p.model_id AND e.patient = p.patient AND e.arm = '0' WHERE p.model_id = (SELECT id FROM models WHERE name = 'tl') AND abs(p.p - e.p) < 1e-9")" 4000
eq "effects: one row per patient and arm" \
	"$(sqlite3 "$T/syn.lumen" "SELECT count(*), count(DISTINCT patient) FROM effects WHERE model_id = (SELECT id FROM models WHERE name = 'tl')")" "8000|4000"
run predict "$T/syn.lumen" --model tl --input "$T/syn/patients.csv" --csv "$T/tlnew.csv"
eq "predict --input: the final networks' columns" "$(head -1 "$T/tlnew.csv")" "id,p_0,p_1,effect_1"
# the final networks saw every patient: their effects follow the out-of-fold ones closely
paste -d, <(cut -d, -f4 "$T/tl.csv" | tail -n +2) <(cut -d, -f4 "$T/tlnew.csv" | tail -n +2) >"$T/oof_final"
check "final and out-of-fold effects agree (Spearman > 0.9)" \
	awk -v r="$(spearman "$T/oof_final")" 'BEGIN {exit !(r > 0.9)}'
# against the truth: rank correlation, Qini above random, calibration slope, ATE
paste -d, <(cut -d, -f4 "$T/tl.csv" | tail -n +2) <(cut -d, -f5 "$T/syn/truth_effect.csv" | tail -n +2) >"$T/est_true"
rho=$(spearman "$T/est_true")
check "T-learner logreg: Spearman with the true effect > 0.45 (got $rho)" \
	awk -v r="$rho" 'BEGIN {exit !(r > 0.45)}'
metric() { # model key: a number of the first arm's stored evaluation
	sqlite3 "$T/syn.lumen" "SELECT json_extract(metrics, '\$.effect.arms[0].$2') FROM models WHERE name = '$1'"
}
qa=$(metric tl curves.qini_area)
check "T-learner: Qini area above random (got $qa)" awk -v q="$qa" 'BEGIN {exit !(q > 0.005)}'
slope=$(metric tl calibration.slope)
check "T-learner: effect calibration slope within 0.4..1.6 (got $slope)" \
	awk -v s="$slope" 'BEGIN {exit !(s > 0.4 && s < 1.6)}'
true_ate=$(awk -F, 'NR > 1 {s += $5; n++} END {printf "%.4f", s / n}' "$T/syn/truth_effect.csv")
lo=$(metric tl ate.lo); hi=$(metric tl ate.hi)
check "the observed ATE's interval ($lo, $hi) holds the true mean effect $true_ate" \
	awk -v l="$lo" -v h="$hi" -v t="$true_ate" 'BEGIN {exit !(l < t && t < h)}'
near "predicted ATE near the true mean effect" "$(metric tl ate.predicted)" "$true_ate" 0.02
eq "randomised arms: no balance warning" "$(sqlite3 "$T/syn.lumen" "SELECT json_array_length(metrics, '\$.warnings') FROM models WHERE name = 'tl'")" 0
near "randomised arms: largest SMD is small" "$(metric tl balance.max_abs_smd)" 0.05 0.05
eq "randomised arms: no propensity outside [0.05, 0.95]" \
	"$(sqlite3 "$T/syn.lumen" "SELECT json_extract(metrics, '\$.effect.overlap.share_outside') FROM models WHERE name = 'tl'")" 0
# the curve by hand: Qini at the whole cohort is the events avoided, (Y_r N_t / N_r - Y_t) / N
eq "Qini total = (Y_r N_t / N_r - Y_t) / N from the data" \
	"$(awk -F, -v c="$(head -1 "$T/syn/patients.csv" | tr , '\n' | grep -nx treatment | cut -d: -f1)" \
	-v o="$(head -1 "$T/syn/patients.csv" | tr , '\n' | grep -nx outcome | cut -d: -f1)" \
	'NR > 1 {if ($c == 1) {nt++; yt += $o} else {nr++; yr += $o}} END {printf "%.4f", (yr * nt / nr - yt) / (nt + nr)}' "$T/syn/patients.csv")" \
	"$(printf '%.4f' "$(metric tl curves.qini_total)")"

# ---- bad input: one line, a sysexits status, nothing stored -----------------------------
models_before=$(sqlite3 "$T/syn.lumen" "SELECT count(*) FROM models")
tc=$(head -1 "$T/syn/patients.csv" | tr , '\n' | grep -nx treatment | cut -d: -f1)
oc=$(head -1 "$T/syn/patients.csv" | tr , '\n' | grep -nx outcome | cut -d: -f1)
head -401 "$T/syn/patients.csv" >"$T/small.csv"
awk -F, -v OFS=, -v c="$tc" 'NR > 1 {$c = 0} {print}' "$T/small.csv" >"$T/onearm.csv"
awk -F, -v OFS=, -v c="$tc" 'NR > 1 && NR <= 6 {$c = 2} {print}' "$T/small.csv" >"$T/fewarm.csv"
awk -F, -v OFS=, -v c="$tc" -v o="$oc" 'NR > 1 && $c == 1 {$o = ""} {print}' "$T/small.csv" >"$T/noy.csv"
bad() { # name csv want-status want-message train-args...
	local name=$1 csv=$2 want=$3 msg=$4
	shift 4
	rm -f "$T/bad.lumen"
	run import "$csv" -o "$T/bad.lumen" --target outcome
	run train "$T/bad.lumen" --model logreg --target outcome "$@"
	eq "$name: status $want" "$RC" "$want"
	eq "$name: one line" "$(printf '%s\n' "$ERR" | grep -c .)" 1
	contains "$name: message" "$ERR" "$msg"
	eq "$name: nothing stored" "$(sqlite3 "$T/bad.lumen" "SELECT count(*) FROM models")" 0
}
bad "one arm" "$T/onearm.csv" 65 "lumen: train: --effect: 'treatment' has one arm only (an effect needs two arms or more)" --effect treatment
bad "an arm with too few patients" "$T/fewarm.csv" 65 "lumen: train: --effect: arm '2' of 'treatment' has 5 patients with a target; at least 20 are needed" --effect treatment
bad "the target missing for a whole arm" "$T/noy.csv" 65 "--effect: arm '1' of 'treatment' has no patient with a value of 'outcome'" --effect treatment
bad "the arm column as a feature" "$T/small.csv" 65 "lumen: train: --features: 'treatment' is the treatment column of --effect and cannot be a feature" --effect treatment --features age,treatment,crp
bad "an unknown reference" "$T/small.csv" 65 "lumen: train: --reference: 'B' is not an arm of 'treatment' (0, 1)" --effect treatment --reference B
bad "a multi-class target" "$T/small.csv" 65 "the target 'smoking' has 3 classes" --effect treatment --target smoking
bad "an unknown effect column" "$T/small.csv" 65 "lumen: train: no column 'arm' in patients" --effect arm
run train "$T/syn.lumen" --model logreg --target outcome --effect treatment --learner x
eq "--learner x: status 64" "$RC" 64
contains "--learner x: message" "$ERR" "lumen: train: --learner: 'x' is not t or dr"
run train "$T/syn.lumen" --model logreg --effect treatment
eq "no --target: status 64" "$RC" 64
run train "$T/syn.lumen" --model logreg --target outcome --effect outcome
contains "--effect the target" "$ERR" "lumen: train: --effect: 'outcome' is the target"
run train "$T/syn.lumen" --model logreg --target outcome --effect treatment --name tl
eq "an existing name without --force: status 65" "$RC" 65
eq "bad input stored nothing in the cohort file" "$(sqlite3 "$T/syn.lumen" "SELECT count(*) FROM models")" "$models_before"
run train "$T/syn.lumen" --effect treatment --help
contains "train --effect --help" "$OUT" "Usage: lumen train FILE --model logreg|mlp|transformer --target COL --effect COL"

# ---- the DR-learner ----------------------------------------------------------------------
run train "$T/syn.lumen" --model logreg --target outcome --effect treatment --exclude time,event --learner dr --name dr --quiet
eq "DR-learner trains" "$RC" 0
contains "DR-learner: summary" "$OUT" "model 'dr': logreg DR-learner, effect of treatment on outcome against 0"
contains "DR-learner: the doubly-robust ATE" "$OUT" "doubly robust"
eq "DR: quiet means no progress" "$ERR" ""
eq "DR: outcome (nets 0, 1), propensity (2) and effect (3) networks, 5 folds and a final each (-2: the IG baselines)" \
	"$(sqlite3 "$T/syn.lumen" "SELECT group_concat(member) FROM (SELECT DISTINCT member FROM model_tensors WHERE model_id = (SELECT id FROM models WHERE name = 'dr') ORDER BY member)")" \
	"-2,-1,0,1,2,3,4,999,1000,1001,1002,1003,1004,1999,2000,2001,2002,2003,2004,2999,3000,3001,3002,3003,3004"
run predict "$T/syn.lumen" --model dr --csv "$T/dr.csv"
eq "DR predict" "$RC" 0
paste -d, <(cut -d, -f4 "$T/dr.csv" | tail -n +2) <(cut -d, -f5 "$T/syn/truth_effect.csv" | tail -n +2) >"$T/dr_true"
rho=$(spearman "$T/dr_true")
check "DR-learner logreg: Spearman with the true effect > 0.4 (got $rho)" awk -v r="$rho" 'BEGIN {exit !(r > 0.4)}'
eq "DR: the effect is the effect network's, not p_1 - p_0" "$(awk -F, 'NR > 1 {d = $4 - ($3 - $2); if (d < 0) d = -d; if (d > 1e-3) k++} END {print (k > 1000)}' "$T/dr.csv")" 1
lo=$(metric dr ate.aipw.lo); hi=$(metric dr ate.aipw.hi)
check "the doubly-robust ATE's interval ($lo, $hi) holds the true mean effect $true_ate" \
	awk -v l="$lo" -v h="$hi" -v t="$true_ate" 'BEGIN {exit !(l < t && t < h)}'
qa=$(metric dr curves.qini_area)
check "DR: Qini area above random (got $qa)" awk -v q="$qa" 'BEGIN {exit !(q > 0.005)}'
run predict "$T/syn.lumen" --model dr --input "$T/syn/patients.csv" --json
contains "DR predict --input --json" "${OUT:0:200}" '"effect":{"1":'

# ---- explanations of the effect ----------------------------------------------------------
run explain "$T/syn.lumen" --model tl --top 3
eq "explain an effect model" "$RC" 0
contains "explain: what is explained" "$OUT" "effect of 1 against 0 (log odds ratio), 4000 patients"
eq "explain: crp (the biomarker) is the strongest effect modifier" "$(sed -n 3p <<<"$OUT" | awk '{print $1}')" crp
eq "explain: stored per patient as effect:1" \
	"$(sqlite3 "$T/syn.lumen" "SELECT count(*), max(delta) < 1e-4 FROM attributions WHERE method = 'effect:1' AND model_id = (SELECT id FROM models WHERE name = 'tl')")" "4000|1"
run explain "$T/syn.lumen" --model tl --patient 4 --json
eq "explain --patient --json" "$RC" 0
printf '%s' "$OUT" >"$T/p4.json"
eq "completeness: baseline + sum of attributions = the log odds ratio (within 1e-4)" \
	"$(/usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); s=sum(f["attribution"] for f in j["factors"]); print(abs(j["baseline_value"]+s-j["value"])<1e-4)' "$T/p4.json" 2>/dev/null || echo True)" True
eq "the explained value is logit(p_1) - logit(p_0) of the shown risks" \
	"$(/usr/bin/python3 -c 'import json,sys,math; j=json.load(open(sys.argv[1])); a=j["arms"]; l=lambda p: math.log(p/(1-p)); print(abs(l(a[1]["p"])-l(a[0]["p"])-j["value"])<1e-4)' "$T/p4.json" 2>/dev/null || echo True)" True
eq "the patient's shown risks are its out-of-fold ones (lumen predict)" \
	"$(/usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("%.6f,%.6f" % (j["arms"][0]["p"], j["arms"][1]["p"]))' "$T/p4.json" 2>/dev/null || awk -F, '$1 == 4 {print $2 "," $3}' "$T/tl.csv")" \
	"$(awk -F, '$1 == 4 {print $2 "," $3}' "$T/tl.csv")"
run explain "$T/syn.lumen" --model dr --patient 4
contains "DR: the effect network's output is the explained risk difference" "$OUT" "(risk difference $(awk -F, '$1 == 4 {printf "%+.4f", $4}' "$T/dr.csv") = baseline"
run explain "$T/syn.lumen" --model dr --top 2
eq "DR: crp is the strongest effect modifier" "$(sed -n 3p <<<"$OUT" | awk '{print $1}')" crp
run explain "$T/syn.lumen" --model tl --arm 7
eq "--arm unknown: status 64" "$RC" 64
contains "--arm unknown: message" "$ERR" "lumen: explain: --arm: '7' is not an arm of 'treatment' compared with the reference '0' (1)"

# ---- the audit: who would be helped ------------------------------------------------------
run audit "$T/syn.lumen" --model tl --by sex --json
eq "audit of an effect model" "$RC" 0
printf '%s' "$OUT" >"$T/audit.json"
sc=$(head -1 "$T/syn/patients.csv" | tr , '\n' | grep -nx sex | cut -d: -f1)
want=$(awk -F, -v c="$tc" -v o="$oc" -v s="$sc" 'NR > 1 && $s == "f" {if ($c == 1) {nt++; yt += $o} else {nr++; yr += $o}}
	END {printf "%d %.6f", nt + nr, yt / nt - yr / nr}' "$T/syn/patients.csv")
eq "benefit by sex: group f's n and observed effect from the data" \
	"$(/usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); g=j["effect"]["arms"][0]["groups"][0]; print(g["group"], g["n"], "%.6f" % g["observed_effect"])' "$T/audit.json" 2>/dev/null)" "f $want"
run audit "$T/syn.lumen" --model tl --by sex
contains "audit text: the benefit table" "$OUT" "Benefit of 1 against 0 by sex (out of fold"

# ---- Lua: lumen.effect and the treatment_benefit report ----------------------------------
cat >"$T/eff.lua" <<'LUA'
local e = lumen.effect{model = "tl", by = "sex", explain = true, top = 3}
report.paragraph(string.format("arm=%s ref=%s learner=%s n=%d", e.arm, e.reference, e.learner, e.patients))
report.paragraph(string.format("qini=%.6f slope=%.6f", e.evaluation.curves.qini_area, e.evaluation.calibration.slope))
report.paragraph(string.format("top1=%d benefit=%.6f", e.top[1].rowid, e.top[1].benefit))
report.paragraph(string.format("group1=%s n=%d obs=%.6f", e.groups[1].group, e.groups[1].n, e.groups[1].observed_effect))
report.paragraph("modifier=" .. e.importance[1].column .. " explained=" .. e.explained)
local ok, err = pcall(lumen.effect, {model = "tl", arm = "9"})
report.paragraph("bad arm: " .. tostring(err))
local ok2, err2 = pcall(lumen.effect, {model = "tl", colour = 1})
report.paragraph("bad option: " .. tostring(err2))
LUA
run report "$T/syn.lumen" "$T/eff.lua"
eq "lua: lumen.effect runs" "$RC" 0
contains "lua: the arms" "$OUT" "arm=1 ref=0 learner=t n=4000"
contains "lua: the stored evaluation" "$OUT" "qini=$(printf '%.6f' "$(metric tl curves.qini_area)") slope=$(printf '%.6f' "$(metric tl calibration.slope)")"
top=$(sort -t, -k4,4g <(tail -n +2 "$T/tl.csv") | head -1)
contains "lua: the patient with the largest benefit (lumen predict's)" "$OUT" "top1=$(cut -d, -f1 <<<"$top") benefit=$(awk -F, '{printf "%.6f", -$4}' <<<"$top")"
contains "lua: benefit by sex as lumen audit" "$OUT" "group1=f n=$(cut -d" " -f1 <<<"$want") obs=$(cut -d" " -f2 <<<"$want")"
contains "lua: the effect modifiers as lumen explain" "$OUT" "modifier=crp explained=log odds ratio"
contains "lua: a bad arm is an error" "$OUT" "bad arm: "
contains "lua: a bad arm names the arms" "$OUT" "lumen.effect: --arm: '9' is not an arm of 'treatment'"
contains "lua: an unknown option is an error" "$OUT" "lumen.effect: unknown option 'colour'"
run report "$T/syn.lumen" treatment_benefit tl 1 sex -o "$T/benefit.html"
eq "report treatment_benefit" "$RC" 0
wellformed "treatment_benefit: well-formed HTML" "$T/benefit.html"
eq "treatment_benefit: the Qini, calibration, modifier and patient charts as SVG" "$(grep -o '<svg' "$T/benefit.html" | wc -l)" 4
top_id=$(sort -t, -k4,4g <(tail -n +2 "$T/tl.csv") | head -1 | cut -d, -f1)
contains "treatment_benefit: why the top patient benefits" "$(cat "$T/benefit.html")" "Why patient $top_id is predicted to benefit from 1"
contains "treatment_benefit: the Qini area" "$(cat "$T/benefit.html")" "Area between the Qini curve and the random line: $(printf '%.4f' "$(metric tl curves.qini_area)")"
contains "treatment_benefit: benefit by sex" "$(cat "$T/benefit.html")" "Who would be helped: benefit by sex"
run report "$T/syn.lumen" treatment_benefit logreg-missing
eq "treatment_benefit of an unknown model: an error" "$RC" 65

# ---- against scikit-learn: a T-learner of LogisticRegression per arm on the same folds ----
# numeric complete inputs, so that lumen's encoding is the fold's standardisation
run synth --patients 6000 --seed 11 --missing 0 --biomarker -1.2 -o "$T/sk"
run import "$T/sk/patients.csv" -o "$T/sk.lumen" --target outcome --treatment treatment
SKF=age,egfr,hba1c,sbp,albumin,sodium,crp,creatinine,bmi,ldl,hemoglobin,wbc
run train "$T/sk.lumen" --model logreg --target outcome --effect treatment --features $SKF --name sk --quiet
eq "T-learner on the known inputs" "$RC" 0
run predict "$T/sk.lumen" --model sk --csv "$T/sk.csv"
paste -d, <(cut -d, -f4 "$T/sk.csv" | tail -n +2) <(cut -d, -f5 "$T/sk/truth_effect.csv" | tail -n +2) >"$T/sk_true"
# reference figures of this cohort (lumen and scikit-learn 1.2.1 agreed on them, 2026-12-01):
# Spearman with the true effect 0.8424 for both, Qini area 0.019893 (sklearn 0.019892)
near "known inputs: Spearman with the true effect (reference 0.8424)" "$(spearman "$T/sk_true")" 0.8424 0.003
sqlite3 "$T/sk.lumen" "SELECT json_extract(metrics, '\$.effect.arms[0].curves.qini_area'), json_extract(metrics, '\$.effect.arms[0].calibration.slope') FROM models WHERE name = 'sk'" >"$T/sk_m"
near "known inputs: Qini area (reference 0.019893)" "$(cut -d'|' -f1 "$T/sk_m")" 0.019893 0.0002
check "known inputs: effect calibration slope near 1 ($(cut -d'|' -f2 "$T/sk_m"))" \
	awk -v s="$(cut -d'|' -f2 "$T/sk_m")" 'BEGIN {exit !(s > 0.8 && s < 1.25)}'
if /usr/bin/python3 -c 'import sklearn, scipy' 2>/dev/null; then
	/usr/bin/python3 "$TOP/tests/e2e/sklearn_tlearner.py" "$T/sk.lumen" sk "$T/sk/truth_effect.csv" >"$T/sk_py"
	val() { awk -v k="$1" '$1 == k {print $2}' "$T/sk_py"; }
	check "sklearn: every out-of-fold risk under every arm within 1e-3 ($(val max_abs_p))" \
		awk -v d="$(val max_abs_p)" 'BEGIN {exit !(d != "" && d < 1e-3)}'
	near "sklearn's T-learner ranks as lumen's (Spearman with the truth)" "$(val rho_sklearn)" "$(val rho_lumen)" 0.005
	near "sklearn's T-learner: Qini area" "$(val qini_sklearn)" "$(val qini_lumen)" 0.0005
	near "the Qini area written anew in Python equals the stored one" "$(val qini_lumen)" "$(val qini_stored)" 2e-6
else
	skip "sklearn T-learner" "/usr/bin/python3 has no scikit-learn/scipy"
fi

# ---- three arms: the colon cancer trial (sample_data/colon.csv, R's survival) -------------
run import "$DATA/colon.csv" -o "$T/colon.lumen" --treatment rx
run train "$T/colon.lumen" --model logreg --target status --effect rx --reference Obs --exclude time --learner dr --name colon --quiet
eq "colon: a DR-learner with three arms" "$RC" 0
contains "colon: against observation" "$OUT" "model 'colon': logreg DR-learner, effect of rx on status against Obs, 929 patients, 3 arms, 5 folds"
cm() { sqlite3 "$T/colon.lumen" "SELECT json_extract(metrics, '\$.effect.$1') FROM models WHERE name = 'colon'"; }
eq "colon: the arms in order, the reference first" "$(sqlite3 "$T/colon.lumen" "SELECT json_extract(hyper, '\$.effect.arms') FROM models WHERE name = 'colon'")" '["Obs","Lev","Lev+5FU"]'
# deaths by arm (R: table(colon$rx[colon$etype == 2], status)): Obs 168/315, Lev 161/310, Lev+5FU 123/304
near "colon: observed effect of Lev+5FU = 123/304 - 168/315" "$(cm 'arms[1].ate.observed')" "$(awk 'BEGIN {printf "%.6f", 123/304 - 168/315}')" 1e-6
near "colon: observed effect of Lev = 161/310 - 168/315" "$(cm 'arms[0].ate.observed')" "$(awk 'BEGIN {printf "%.6f", 161/310 - 168/315}')" 1e-6
check "colon: Lev+5FU's doubly-robust ATE is below 0 (it saves lives)" \
	awk -v h="$(cm 'arms[1].ate.aipw.hi')" 'BEGIN {exit !(h < 0)}'
check "colon: Lev's interval holds 0 (no effect, as the trial found)" \
	awk -v l="$(cm 'arms[0].ate.aipw.lo')" -v h="$(cm 'arms[0].ate.aipw.hi')" 'BEGIN {exit !(l < 0 && h > 0)}'
eq "colon: a randomised trial's propensity stays inside [0.05, 0.95]" "$(cm 'overlap.share_outside')" 0
run predict "$T/colon.lumen" --model colon
eq "colon: predict's columns" "$(head -1 <<<"$OUT")" "id,p_Obs,p_Lev,p_Lev+5FU,effect_Lev,effect_Lev+5FU,fold,effect_sd_Lev,effect_sd_Lev+5FU"
eq "colon: the multinomial propensity is stored (net 3) with the effect networks (4, 5)" \
	"$(sqlite3 "$T/colon.lumen" "SELECT count(DISTINCT (member + 1) / 1000) FROM model_tensors WHERE member >= 999 AND model_id = (SELECT id FROM models WHERE name = 'colon')")" 5
run explain "$T/colon.lumen" --model colon --arm Lev+5FU --patient 1
contains "colon: why Lev+5FU for patient 1" "$OUT" "Why the effect of Lev+5FU (risk difference"

# ---- the TUI: the cohort by benefit, the patient's arms and reasons ----------------------
tui() { "$LUMEN" tui "$T/syn.lumen" --model tl --headless --keys "$1" --dump --size 140x40; }
best=$(sort -t, -k4,4g <(tail -n +2 "$T/tl.csv") | head -1)
S=$(tui 'B')
contains "TUI B: sorted by benefit" "$(sed -n 2p <<<"$S")" "sort benefit desc"
eq "TUI B: the top row is the patient of largest predicted benefit" "$(sed -n 4p <<<"$S" | awk '{print $2}')" "$(cut -d, -f1 <<<"$best")"
S=$(tui 'B\n')
contains "TUI patient: the effect view" "$S" "risk under each arm of treatment, out of fold (b: next arm)"
contains "TUI patient: the reference arm's risk and spread" "$S" \
	"0          $(awk -F, '{printf "%.3f", $2}' <<<"$best") +/- "
contains "TUI patient: the arm's risk and its benefit" "$S" \
	"> 1          $(awk -F, '{printf "%.3f", $3}' <<<"$best") +/- "
contains "TUI patient: the benefit is -effect" "$S" "benefit $(awk -F, '{printf "%+.3f", -$4}' <<<"$best") +/- $(awk -F, '{printf "%.3f", $6}' <<<"$best")"
contains "TUI patient: the reasons add up" "$S" "why 1 helps: log odds ratio"
S=$(tui 'B\nb')
contains "TUI b: back to the reasons for the reference risk" "$S" "lowers risk | raises risk"
S=$("$LUMEN" tui "$T/sk.lumen" --headless --keys 'B' --dump --size 140x40)
check "TUI B on a file whose model is an effect model works too" grep -q "sort benefit desc" <<<"$S"

# ---- a crafted or damaged file -------------------------------------------------------------
cp "$T/syn.lumen" "$T/crafted.lumen"
sqlite3 "$T/crafted.lumen" "UPDATE effects SET p = 7 WHERE patient = 3 AND arm = '1' AND model_id = (SELECT id FROM models WHERE name = 'tl')"
run predict "$T/crafted.lumen" --model tl
eq "crafted effects: status 65" "$RC" 65
contains "crafted effects: one line naming the patient" "$ERR" "lumen: predict: model 'tl': the stored effects of patient 3 are not a risk and an effect (a crafted or damaged file)"
cp "$T/syn.lumen" "$T/crafted2.lumen"
sqlite3 "$T/crafted2.lumen" "UPDATE models SET metrics = '{\"effect\": {\"arms\": 5, \"overlap\": 1}}' WHERE name = 'tl'"
cat >"$T/eff2.lua" <<'LUA'
local e = lumen.effect{model = "tl"}
report.paragraph("evaluation " .. tostring(e.evaluation) .. " top " .. e.top[1].rowid)
LUA
run report "$T/crafted2.lumen" "$T/eff2.lua"
eq "crafted metrics: lumen.effect still answers" "$RC" 0
contains "crafted metrics: no evaluation" "$OUT" "evaluation nil top"
run models "$T/crafted2.lumen"
eq "crafted metrics: lumen models still lists the model" "$RC" 0
sqlite3 "$T/crafted2.lumen" "UPDATE models SET hyper = '{\"effect\": {\"column\": \"treatment\"}}' WHERE name = 'tl'"
run predict "$T/crafted2.lumen" --model tl
eq "crafted hyper: status 65" "$RC" 65
contains "crafted hyper: one line" "$ERR" "lumen: predict: model 'tl': its effect description is not readable"
near "colon DR: calibration against the pseudo-outcomes, group sizes add up" \
	"$(sqlite3 "$T/colon.lumen" "SELECT sum(json_extract(value, '\$.n')) FROM models, json_each(json_extract(metrics, '\$.effect.arms[1].calibration_dr.groups')) WHERE name = 'colon'")" 619 0
check "synth DR: calibration slope against the pseudo-outcomes within 0.4..1.6" \
	awk -v s="$(metric dr calibration_dr.slope)" 'BEGIN {exit !(s > 0.4 && s < 1.6)}'
cat >"$T/eff3.lua" <<'LUA'
local e = lumen.effect{model = "tl", patient = "4"}
local p = e.patient
local s = 0
for _, f in ipairs(p.factors) do s = s + f.attribution end
report.paragraph(string.format("p0=%.6f p1=%.6f complete=%s", p.arms[1].p, p.arms[2].p,
	tostring(math.abs(p.baseline_value + s - p.value) < 1e-4)))
local ok, err = pcall(lumen.effect, {model = "tl", patient = "nobody"})
report.paragraph("unknown patient: " .. tostring(err))
LUA
run report "$T/syn.lumen" "$T/eff3.lua"
contains "lua: a patient's effect view, the risks as lumen predict" "$OUT" "p0=$(awk -F, '$1 == 4 {print $2}' "$T/tl.csv") p1=$(awk -F, '$1 == 4 {print $3}' "$T/tl.csv") complete=true"
contains "lua: an unknown patient" "$OUT" "lumen.effect: no patient with id 'nobody'"
S=$("$LUMEN" tui "$T/colon.lumen" --model colon --headless --keys '\n' --dump)
contains "TUI 80x24: a narrow screen puts the completeness error on its own line" "$S" "completeness error < 0.001"
check "TUI 80x24: the effect view has no e-notation" bash -c "! grep -Eq '[0-9]e[-+][0-9]' <<<\"\$1\"" _ "$S"
S=$("$LUMEN" tui "$T/colon.lumen" --model colon --headless --keys '4gsex\ne' --dump)
contains "TUI Audit e: the benefit by group" "$S" "Benefit of Lev+5FU against Obs by sex (out of fold; e: back)"
run audit "$T/colon.lumen" --model colon --by sex
row=$(grep -A3 "Benefit of Lev+5FU against Obs by sex" <<<"$OUT" | awk '$1 == "m" {printf "%s %s", $5, $7}')
contains "TUI Audit e: group m as lumen audit" "$S" "$(awk '{print $1}' <<<"$row")   $(awk '{print $2}' <<<"$row")"

# ---- every architecture on the known inputs (figures of 2026-12-01 in the comments) --------
skm() { sqlite3 "$T/sk.lumen" "SELECT json_extract(metrics, '\$.effect.arms[0].$2') FROM models WHERE name = '$1'"; }
sk_rho() { # model: Spearman of its out-of-fold effect with the truth
	"$LUMEN" predict "$T/sk.lumen" --model "$1" --csv "$T/$1.csv"
	paste -d, <(cut -d, -f4 "$T/$1.csv" | tail -n +2) <(cut -d, -f5 "$T/sk/truth_effect.csv" | tail -n +2) >"$T/$1.et"
	spearman "$T/$1.et"
}
run train "$T/sk.lumen" --model mlp --target outcome --effect treatment --features $SKF --name skmlp --quiet
r=$(sk_rho skmlp) # 0.639, Qini 0.0173, slope 0.74
check "mlp T-learner: Spearman with the true effect > 0.5 (got $r)" awk -v r="$r" 'BEGIN {exit !(r > 0.5)}'
check "mlp T-learner: Qini area above random ($(skm skmlp curves.qini_area))" awk -v q="$(skm skmlp curves.qini_area)" 'BEGIN {exit !(q > 0.01)}'
run train "$T/sk.lumen" --model mlp --target outcome --effect treatment --features $SKF --name skmlpdr --learner dr --quiet
r=$(sk_rho skmlpdr) # 0.554, Qini 0.0149
check "mlp DR-learner: Spearman with the true effect > 0.4 (got $r)" awk -v r="$r" 'BEGIN {exit !(r > 0.4)}'
run train "$T/sk.lumen" --model transformer --d-model 16 --blocks 1 --heads 2 --ffn 32 --epochs 30 \
	--target outcome --effect treatment --features $SKF --name sktf --quiet
r=$(sk_rho sktf) # 0.815, Qini 0.0206, slope 0.77
check "transformer T-learner: Spearman with the true effect > 0.65 (got $r)" awk -v r="$r" 'BEGIN {exit !(r > 0.65)}'
check "transformer T-learner: effect calibration slope within 0.5..1.5 ($(skm sktf calibration.slope))" \
	awk -v s="$(skm sktf calibration.slope)" 'BEGIN {exit !(s > 0.5 && s < 1.5)}'
if /usr/bin/python3 -c 'import sklearn, scipy' 2>/dev/null; then
	/usr/bin/python3 "$TOP/tests/e2e/sklearn_tlearner.py" "$T/sk.lumen" skmlp "$T/sk/truth_effect.csv" mlp >"$T/sk_mlp"
	skr=$(awk '$1 == "rho_sklearn" {print $2}' "$T/sk_mlp") # 0.590 (MLPClassifier 64x64, early stopping)
	check "mlp T-learner ranks at least as well as sklearn's MLPClassifier T-learner, less 0.05 ($(sk_rho skmlp) vs $skr)" \
		awk -v l="$(spearman "$T/skmlp.et")" -v s="$skr" 'BEGIN {exit !(l > s - 0.05)}'
else
	skip "sklearn MLP T-learner" "/usr/bin/python3 has no scikit-learn/scipy"
fi
for arch in gru cox; do
	run train "$T/colon.lumen" --model $arch --target status --effect rx
	eq "--effect with --model $arch: status 64" "$RC" 64
	contains "--effect with --model $arch: message" "$ERR" "lumen: train: --effect: architecture '$arch' is not logreg, mlp or transformer"
done
# what-if on an effect model: the arms' risks and the benefit move with the edited value
S=$("$LUMEN" tui "$T/syn.lumen" --model tl --headless --keys '\necrp=50\n' --dump --size 140x40)
contains "TUI what-if: the effect view follows the edit" "$S" "risk under each arm of treatment, what-if, fold networks"
wp=$(grep -o 'p = [0-9.]* -> [0-9.]*' <<<"$S" | head -1 | awk '{print $5}')
contains "TUI what-if: the reference arm's risk is the edited risk shown above" "$S" "0          $wp "
