#!/bin/bash
# lumen audit end to end: a synthetic cohort with an injected bias (lumen synth --bias) audited
# with the generator's true risks as the model's predictions; the pbc workbench with stored
# predictions for the command's options, storage, importance warnings and bad input;
# scikit-learn for per-group AUC and Brier when /usr/bin/python3 has it.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/stats_fixture.sh"
J=$T/out.json
jx() { sqlite3 :memory: "SELECT json_extract(readfile('$J'), '$1')"; }

# ---- synth --bias: the injected group is flagged, and no other ----
# 100,000 patients so that sampling noise in the small groups (other: 4%) stays inside the
# 0.8-1.25 band; the true model's risks are the predictions, the recorded (biased) outcome
# the labels: for black patients half the true events are recorded as non-events.
"$LUMEN" synth --patients 100000 --seed 11 --bias ethnicity=black --bias-rate 0.5 -o "$T/syn" >/dev/null 2>&1
"$LUMEN" import "$T/syn/patients.csv" -o "$T/syn.lumen" >/dev/null 2>&1
if [ -f "$T/syn.lumen" ]; then
	sqlite3 "$T/syn.lumen" <<SQL
INSERT INTO models(name, arch, target, task) VALUES('truth', 'logreg', 'outcome', 'binary');
CREATE TEMP TABLE tc(id,age,egfr,hba1c,sbp,albumin,smoking,sodium,crp,treatment,logit,p,outcome_true);
.mode csv
.import --skip 1 $T/syn/truth_contrib.csv tc
INSERT INTO predictions(model_id, patient, fold, y, p)
  SELECT 1, pt.rowid, pt.rowid % 5, pt.outcome, tc.p FROM patients pt JOIN tc ON tc.id = pt.id;
SQL
	run audit "$T/syn.lumen" --model truth --by ethnicity --bootstrap 200 --seed 3 --json
	eq "synth audit exits 0" "$RC" 0
	printf '%s' "$OUT" >"$J"
	eq "reference is the largest group" "$(jx '$.reference')" "ethnicity=white"
	flagged=$(sqlite3 :memory: "SELECT group_concat(DISTINCT json_extract(g.value, '\$.group'))
	  FROM json_each(json_extract(readfile('$J'), '\$.groups')) g,
	       json_each(json_extract(g.value, '\$.disparities')) d
	  WHERE json_extract(d.value, '\$.flag') != 0")
	eq "only the injected group is flagged" "$flagged" "ethnicity=black"
	eq "black FPR flagged above, significant" \
		"$(jx '$.groups[1].disparities.fpr.flag') $(jx '$.groups[1].disparities.fpr.significant')" "1 1"
	eq "black PPV flagged below, significant" \
		"$(jx '$.groups[1].disparities.ppv.flag') $(jx '$.groups[1].disparities.ppv.significant')" "-1 1"
	awk -v c="$(jx '$.groups[1].metrics.calibration_in_the_large.value')" 'BEGIN { exit !(c > 0.08) }' &&
		ok "black: predicted risk above the recorded rate" || not_ok "black: predicted risk above the recorded rate"
else
	not_ok "synth and import of the biased cohort"
fi

# ---- the same with a trained model: synth --bias -> import -> train -> explain -> audit ----
if "$LUMEN" train --help >/dev/null 2>&1 && "$LUMEN" explain --help >/dev/null 2>&1; then
	S=$T/sb.lumen
	"$LUMEN" synth --patients 50000 --seed 11 --bias ethnicity=black --bias-rate 0.5 -o "$T/sb" >/dev/null 2>&1
	"$LUMEN" import "$T/sb/patients.csv" -o "$S" --target outcome --time time --event event \
		--group ethnicity --group sex >/dev/null 2>&1
	"$LUMEN" train "$S" --model logreg --target outcome --exclude time,event --epochs 30 --quiet >/dev/null 2>&1
	"$LUMEN" explain "$S" --model logreg-outcome --method ig --steps 16 --quiet >/dev/null 2>&1
	for by in ethnicity sex site; do
		run audit "$S" --model logreg-outcome --by $by --threshold youden --bootstrap 200 --json
		printf '%s' "$OUT" >"$J"
		flagged=$(sqlite3 :memory: "SELECT ifnull(group_concat(DISTINCT json_extract(g.value, '\$.group')), 'none')
		  FROM json_each(json_extract(readfile('$J'), '\$.groups')) g,
		       json_each(json_extract(g.value, '\$.disparities')) d
		  WHERE json_extract(d.value, '\$.flag') != 0")
		case $by in ethnicity) want=ethnicity=black ;; *) want=none ;; esac
		eq "trained logreg, by $by, Youden threshold: flagged groups" "$flagged" "$want"
	done
	run audit "$S" --model logreg-outcome --by ethnicity --threshold youden --json
	printf '%s' "$OUT" >"$J"
	eq "trained model: the injected group's PPV is flagged low and significant" \
		"$(jx '$.groups[1].group') $(jx '$.groups[1].disparities.ppv.flag')" "ethnicity=black -1"
	eq "IG importance over every patient" "$(jx '$.importance.patients')" 50000
else
	skip "synth --bias with a trained model" "lumen train or lumen explain is not built"
fi

# ---- pbc with stored predictions ----
W=$T/pbc.lumen
check "fixture workbench from pbc.csv" wb_pbc "$W"
id=$(wb_model "$W" m1)
sqlite3 "$W" "INSERT INTO predictions(model_id, patient, fold, y, p) SELECT $id, rowid, rowid % 5,
  status = 2, 1.0 / (1 + exp(-(-2.5 + 0.35 * bili + 0.03 * (age - 50)))) FROM patients"
run audit "$W" --model m1 --by sex --json
eq "pbc audit exits 0" "$RC" 0
printf '%s' "$OUT" >"$J"
# the same numbers straight from SQL (an independent count): women, p >= .5
read -r n tp fp pos <<<"$(sqlite3 -separator ' ' "$W" "SELECT count(*), sum(pr.p >= 0.5 AND pr.y = 1),
  sum(pr.p >= 0.5 AND pr.y = 0), sum(pr.y) FROM predictions pr JOIN patients pt ON pt.rowid = pr.patient
  WHERE pt.sex = 'f'")"
eq "women n (SQL count)" "$(jx '$.groups[0].n')" "$n"
near "women TPR = tp / positives (SQL)" "$(jx '$.groups[0].metrics.tpr.value')" "$(awk -v a="$tp" -v b="$pos" 'BEGIN { printf "%.15g", a / b }')" 1e-9
near "women FPR = fp / negatives (SQL)" "$(jx '$.groups[0].metrics.fpr.value')" "$(awk -v a="$fp" -v b="$pos" -v n="$n" 'BEGIN { printf "%.15g", a / (n - b) }')" 1e-9
near "women selection rate (SQL)" "$(jx '$.groups[0].metrics.selection_rate.value')" "$(awk -v a="$tp" -v b="$fp" -v n="$n" 'BEGIN { printf "%.15g", (a + b) / n }')" 1e-9
# the audit's per-group AUC and Brier against scikit-learn; expected values kept from a run of
# sklearn 1.2.1 (roc_auc_score, brier_score_loss over the women's rows) for machines without it
near "women AUC (sklearn 0.8296528996889341)" "$(jx '$.groups[0].metrics.auc.value')" 0.8296528996889341 1e-9
near "women Brier (sklearn 0.19577126752110333)" "$(jx '$.groups[0].metrics.brier.value')" 0.19577126752110333 1e-9
if /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
	read -r sauc sbr mauc mbr <<<"$(/usr/bin/python3 - "$W" <<'PY'
import sqlite3, sys
from sklearn.metrics import roc_auc_score, brier_score_loss
db = sqlite3.connect(sys.argv[1])
out = []
for s in ("f", "m"):
    rows = db.execute("SELECT pr.y, pr.p FROM predictions pr JOIN patients pt ON pt.rowid = pr.patient WHERE pt.sex = ?", (s,)).fetchall()
    y = [r[0] for r in rows]; p = [r[1] for r in rows]
    out += [roc_auc_score(y, p), brier_score_loss(y, p)]
print(" ".join("%.12f" % v for v in out))
PY
)"
	near "women AUC = sklearn" "$(jx '$.groups[0].metrics.auc.value')" "$sauc" 1e-9
	near "women Brier = sklearn" "$(jx '$.groups[0].metrics.brier.value')" "$sbr" 1e-9
	near "men AUC = sklearn" "$(jx '$.groups[1].metrics.auc.value')" "$mauc" 1e-9
	near "men Brier = sklearn" "$(jx '$.groups[1].metrics.brier.value')" "$mbr" 1e-9
else
	skip "per-group AUC and Brier against sklearn" "/usr/bin/python3 has no scikit-learn"
fi
# Fairlearn's demographic parity difference by hand: |sel(f) - sel(m)|
dp=$(awk -v a="$(jx '$.groups[0].metrics.selection_rate.value')" -v b="$(jx '$.groups[1].metrics.selection_rate.value')" 'BEGIN { d = a - b; printf "%.15g", d < 0 ? -d : d }')
near "demographic parity difference = |sel f - sel m|" "$(jx '$.summary.demographic_parity_difference.value')" "$dp" 1e-12
eq "stored in audits" "$(sqlite3 "$W" "SELECT count(*), json_extract(params, '\$.by') FROM audits")" "1|sex"
eq "stored result has the groups" "$(sqlite3 "$W" "SELECT json_array_length(result, '\$.groups') FROM audits")" 2
eq "access log has the audit" "$(sqlite3 "$W" "SELECT action FROM access_log ORDER BY id DESC LIMIT 1")" audit

run audit "$W" --model m1 --by sex --reference sex=m --threshold youden --bootstrap 100
eq "text audit exits 0" "$RC" 0
contains "reference named" "$OUT" "Reference: sex=m."
contains "youden threshold named" "$OUT" "(Youden's J)"
contains "flags are signs, not only colour" "$OUT" "▲"
contains "bootstrap intervals shown" "$OUT" "95% bootstrap intervals (100 replicates"
contains "summary shown" "$OUT" "equalized odds difference"
contains "per-group thresholds shown" "$OUT" "equal opportunity"
contains "stored message" "$OUT" "Stored as audit 2"
run audit "$W" --model m1 --by sex --decision-curve
contains "decision curve table" "$OUT" "Decision curve: net benefit"
contains "decision curve at 0.50" "$OUT" " 0.50 "

# intersections and bins; groups under 30 marked, not dropped
run audit "$W" --model m1 --by sex,age --bins age=40,60 --json
eq "intersection audit exits 0" "$RC" 0
printf '%s' "$OUT" >"$J"
eq "six sex x age groups" "$(sqlite3 :memory: "SELECT json_array_length(readfile('$J'), '\$.groups')")" 6
eq "bin labels" "$(jx '$.groups[0].group')" "sex=f,age<40"
eq "small group marked" "$(jx '$.groups[3].too_small')" 1
contains "small group warned" "$ERR" "too small to judge"
# one binned column: the text table shows bin labels whole (the '=' of ">=" is no separator)
run audit "$W" --model m1 --by age --bins age=40,60
contains "top bin label in the table" "$OUT" "age>=60 "
contains "bottom bin label in the table" "$OUT" "age<40 "

# IG importance: attributions over (age, sex, bili) where sex dominates -> warning
sqlite3 "$W" "INSERT INTO model_inputs(model_id, slot, name, source_column, kind) VALUES
  ($id, 0, 'age', 'age', 'numeric'), ($id, 1, 'sex=m', 'sex', 'onehot'), ($id, 2, 'bili', 'bili', 'numeric');
  INSERT INTO attributions(model_id, method, patient, columns)
  SELECT $id, 'ig', rowid, CASE WHEN sex = 'm' THEN X'0000803E000000400000003F' ELSE X'0000803E0000803F0000003F' END FROM patients"
run audit "$W" --model m1 --by sex --json
printf '%s' "$OUT" >"$J"
near "mean |IG| of sex for men (2.0)" "$(jx '$.importance.inputs[1].groups."sex=m"')" 2 1e-6
near "mean |IG| of age (0.25)" "$(jx '$.importance.inputs[0].all')" 0.25 1e-6
eq "group column among top inputs warned" "$(jx '$.importance.warnings[0].column') $(jx '$.importance.warnings[0].reason')" "sex group column"
run audit "$W" --model m1 --by sex
contains "text warning about the group column" "$OUT" "! warning: sex, a grouping column, is input #1"

# a proxy: a numeric column almost equal to sex (eta = 1 by construction) as the top input
sqlite3 "$W" "ALTER TABLE patients ADD COLUMN proxy REAL; UPDATE patients SET proxy = (sex = 'm') * 10 + 0.01 * (rowid % 3);
  INSERT INTO columns(dataset, position, name, type, role, missing) VALUES('patients', 20, 'proxy', 'real', 'feature', 0);
  DELETE FROM model_inputs WHERE model_id = $id;
  INSERT INTO model_inputs(model_id, slot, name, source_column, kind) VALUES
  ($id, 0, 'age', 'age', 'numeric'), ($id, 1, 'proxy', 'proxy', 'numeric'), ($id, 2, 'bili', 'bili', 'numeric')"
run audit "$W" --model m1 --by sex --json
printf '%s' "$OUT" >"$J"
eq "proxy warned as associated" "$(jx '$.importance.warnings[0].column') $(jx '$.importance.warnings[0].reason')" "proxy associated"
awk -v a="$(jx '$.importance.warnings[0].association')" 'BEGIN { exit !(a > 0.99) }' &&
	ok "proxy's association with sex (eta) near 1" || not_ok "proxy's association with sex (eta) near 1"
run audit "$W" --model m1 --by sex
contains "text warning about the proxy" "$OUT" "! warning: proxy (input #1) is associated with the grouping"

# bad input
run audit "$W" --model nosuch --by sex
eq "unknown model: 65" "$RC" 65
eq "unknown model message" "$ERR" "lumen: audit: no model 'nosuch'; lumen models FILE lists them"
run audit "$W" --model m1 --by sex --reference sex=x
eq "unknown reference: 64" "$RC" 64
eq "unknown reference message" "$ERR" "lumen: audit: --reference: no group 'sex=x' (groups: sex=f, sex=m)"
run audit "$W" --model m1 --by bili
eq "numeric column without bins: 65" "$RC" 65
contains "numeric column without bins message" "$ERR" "bin it with --bins bili="
run audit "$W" --model m1 --by sex --threshold 2
eq "bad threshold: 64" "$RC" 64
run audit "$W" --model m1 --by age --bins age=60,40
eq "decreasing bins: 65" "$RC" 65
before=$(sqlite3 "$W" "SELECT count(*) FROM audits")
sqlite3 "$W" "UPDATE patients SET sex = 'f'; UPDATE columns SET categories = '[{\"value\":\"f\",\"n\":418}]', distinct_count = 1 WHERE name = 'sex'"
run audit "$W" --model m1 --by sex
eq "one-level group: 65" "$RC" 65
eq "one-level group message" "$ERR" "lumen: audit: sex has one level (f); nothing to compare"
eq "nothing stored after an error" "$(sqlite3 "$W" "SELECT count(*) FROM audits")" "$before"
run audit --help
eq "--help: 0" "$RC" 0
contains "--help usage" "$OUT" "Usage: lumen audit"
echo "1..$T_N"
