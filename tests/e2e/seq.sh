#!/bin/bash
# Visit-sequence models (gru, cnn, cnn-gru) end to end on a synthetic cohort with visits:
# train (stored inputs, hyper-parameters, predictions, determinism), predict of the cohort
# equal to predict --input with its visits file (also shuffled: time order is the import's),
# explain (completeness, visits summed per lab), audit and risk strata on the stored
# predictions, and the bad-input rules (unknown patient, no visits, an all-missing lab).
. "$(dirname "$0")/../lib.sh"

W=$T/w.lumen
sq() { sqlite3 "$W" "$1"; }
run synth --patients 400 --visits 6 --seed 3 -o "$T/syn"
check "synth with visits" [ "$RC" -eq 0 ]
S=$T/syn
run import "$S/patients.csv" --visits "$S/visits.csv" -o "$W" --target outcome --group sex \
	--time time --event event
check "import with visits" [ "$RC" -eq 0 ]

for a in gru cnn cnn-gru; do
	run train "$W" --model $a --target outcome --max-visits 6 --epochs 8 --quiet --name $a \
		--gru-hidden 16 --channels 8
	eq "train $a: exit 0" "$RC" 0
	contains "train $a: model line" "$OUT" "model '$a': $a, target outcome, 400 patients (0 left out), 5 folds"
done
# 4 labs (creatinine egfr hba1c sbp) x (value, missing) + dt_prev, dt_first, present = 11
eq "visit slots: 6 steps x 11" "$(sq "SELECT count(*) FROM model_inputs i JOIN models m ON m.id = i.model_id WHERE m.name = 'gru' AND kind = 'visit'")" 66
eq "visit slot names, latest step" "$(sq "SELECT group_concat(name, ' ') FROM (SELECT i.name FROM model_inputs i JOIN models m ON m.id = i.model_id WHERE m.name = 'gru' ORDER BY slot DESC LIMIT 3)")" \
	"visit[-1] dt_first[-1] dt_prev[-1]"
eq "hyper-parameters of the sequence" "$(sq "SELECT json_extract(hyper, '$.seq_steps') || ' ' || json_extract(hyper, '$.seq_feat') || ' ' || ifnull(json_extract(hyper, '$.gru_hidden'), '-') || ' ' || ifnull(json_extract(hyper, '$.conv_channels'), '-') FROM models ORDER BY id")" \
	"6 11 16 -
6 11 - 8
6 11 16 8"
eq "every patient has an out-of-fold prediction" "$(sq "SELECT count(*) FROM predictions p JOIN models m ON m.id = p.model_id WHERE m.name = 'cnn-gru' AND p.p BETWEEN 0 AND 1")" 400
auc=$(sq "SELECT json_extract(metrics, '$.pooled.auc') FROM models WHERE name = 'gru'")
check "gru out-of-fold AUC above chance ($auc)" awk -v a="$auc" 'BEGIN { exit !(a > 0.6) }'

# the same seed trains the same weights
run train "$W" --model gru --target outcome --max-visits 6 --epochs 8 --quiet --name gru2 --gru-hidden 16
eq "same seed: bit-identical tensors" "$(sq "SELECT count(*) FROM model_tensors a JOIN model_tensors b ON a.name = b.name AND a.member = b.member WHERE a.model_id = (SELECT id FROM models WHERE name = 'gru') AND b.model_id = (SELECT id FROM models WHERE name = 'gru2') AND a.data <> b.data")" 0

# predict: the cohort, and the same patients as new files
run predict "$W" --model gru
eq "predict cohort: exit 0" "$RC" 0
COH=$(printf '%s\n' "$OUT" | cut -d, -f1-3)
run predict "$W" --model gru --input "$S/patients.csv" --input-visits "$S/visits.csv"
eq "predict --input with its visits = the cohort's" "$OUT" "$COH"
{ head -1 "$S/visits.csv"; tail -n +2 "$S/visits.csv" | sort -r; } >"$T/shuffled.csv"
run predict "$W" --model gru --input "$S/patients.csv" --input-visits "$T/shuffled.csv"
eq "visits in any row order: sorted by time at import" "$OUT" "$COH"
run predict "$W" --model gru --input "$S/patients.csv"
eq "no visits file: empty sequences (exit 0)" "$RC" 0
check "no visits changes the risk" [ "$OUT" != "$COH" ]
# explain new patients of a sequence model with their visits: the final network's logit of
# predict --input, and each row adds up (baseline + sum = logit within delta)
run predict "$W" --model gru --input "$S/patients.csv" --input-visits "$S/visits.csv" --json
PL=$(printf '%s' "$OUT" | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)[:5]; print(" ".join("%.4f" % x["logit"] for x in r))')
run explain "$W" --model gru --input "$S/patients.csv" --input-visits "$S/visits.csv" --csv "$T/x.csv"
eq "explain --input --input-visits: exit 0" "$RC" 0
EL=$(/usr/bin/python3 - "$T/x.csv" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["method"] == "ig"][:5]
print(" ".join("%.4f" % float(r["logit"]) for r in rows))
PY
)
eq "explain --input --input-visits: the logits of predict --input" "$EL" "$PL"
bad=$(/usr/bin/python3 - "$T/x.csv" <<'PY'
import csv, sys
n = 0
for r in csv.DictReader(open(sys.argv[1])):
    if r["method"] == "ig" and abs(float(r["baseline_logit"]) + float(r["sum"]) - float(r["logit"])) > float(r["delta"]) + 1e-4:
        n += 1
print(n)
PY
)
eq "explain --input --input-visits: every row adds up" "$bad" 0
run predict "$W" --model gru --input-visits "$S/visits.csv"
eq "--input-visits alone is a usage error" "$RC/$(printf '%s' "$ERR" | head -1)" "64/lumen: predict: --input-visits goes with --input NEW.csv"

# explain: completeness over visit slots and static slots together
run explain "$W" --model gru
eq "explain gru: exit 0" "$RC" 0
eq "global importance: the visit labs summed over visits" "$(sq "SELECT count(*) FROM models m, json_each(json_extract(m.importance, '$.ig.columns')) j WHERE m.name = 'gru' AND json_extract(j.value, '$.column') IN ('visits.creatinine', 'visits.egfr', 'visits.hba1c', 'visits.sbp')")" 4
med=$(sq "SELECT delta FROM attributions a JOIN models m ON m.id = a.model_id WHERE m.name = 'gru' ORDER BY delta LIMIT 1 OFFSET 200")
check "median completeness error below 0.01 ($med)" awk -v d="$med" 'BEGIN { exit !(d < 0.01) }'
run explain "$W" --model cnn-gru --patient 1
eq "stored column attributions: the static columns and the visit labs" "$(sq "SELECT length(a.columns) / 4 = json_array_length(m.inputs) FROM attributions a JOIN models m ON m.id = a.model_id WHERE m.name = 'gru' LIMIT 1")" 1
eq "the visit labs among the columns" "$(sq "SELECT group_concat(json_extract(j.value, '$.column'), ' ') FROM models m, json_each(m.inputs) j WHERE m.name = 'gru' AND json_extract(j.value, '$.column') LIKE 'visits.%'")" \
	"visits.creatinine visits.egfr visits.hba1c visits.sbp visits.dt_prev visits.dt_first visits.present"
contains "patient view adds up" "$OUT" "The reasons add up to it"
lg=$(printf '%s\n' "$OUT" | sed -n 's/.*(logit \([-+0-9.]*\);.*/\1/p')
sum=$(printf '%s\n' "$OUT" | sed -n 's/.*attributions [-+0-9.]* = \([-+0-9.]*\).*/\1/p')
near "baseline + attributions = the logit shown" "$sum" "$lg" 0.02

# the visit x lab matrix: per visit, the visit that moved the risk most, and it adds up
nv=$(awk -F, 'NR > 1 && $1 == 1' "$S/visits.csv" | wc -l)
run explain "$W" --model gru --patient 1
contains "explain lists the visits read" "$OUT" "Visits read: $nv (the last of the patient's $nv)"
contains "and the visit that moved the risk most" "$OUT" "<- moved the risk most"
run explain "$W" --model gru --patient 1 --json
chk=$(printf '%s' "$OUT" | /usr/bin/python3 "$TOP/tests/e2e/visits_json.py")
set -- $chk
eq "json: one matrix row per visit read" "${1:-}" "$nv"
eq "json: top is the largest |visit|" "${2:-}" 1
near "json: visits + padded + static = logit - baseline (completeness)" "${3:-}" 0 0.02
run tui "$W" --model gru --headless --keys '\nv' --dump
contains "TUI visits view names the visit that moved the risk most" "$OUT" "moved risk most:"
contains "TUI visits view: the IG heat legend" "$OUT" "heat vs mean | IG"

# Lua: m:predict and m:explain of a patient read its visits too
cat >"$T/x.lua" <<'LUA'
local m = lumen.model("gru")
for p in lumen.patients{where = "true"} do
  local e = m:explain(p, {steps = 32})
  local s = 0
  for _, f in ipairs(e) do s = s + f.attribution end
  local adds = math.abs(e.baseline_logit + s - e.logit) <= e.delta + 1e-3
  report.paragraph(string.format("prob %.4f adds up %s", m:predict(p), tostring(adds)))
  local v, t = e.visits, 0
  for _, x in ipairs(v.per_visit) do t = t + x end
  local whole = math.abs(t + v.padded + v.static - (e.logit - e.baseline_logit)) <= e.delta + 1e-3
  report.paragraph(string.format("visits %d labs %d top %d whole %s", #v.matrix, #v.labs, v.top, tostring(whole)))
  break
end
LUA
run report "$W" "$T/x.lua"
oof=$(sq "SELECT printf('%.4f', p) FROM predictions p JOIN models m ON m.id = p.model_id WHERE m.name = 'gru' AND p.patient = 1")
contains "Lua m:predict of a patient is its stored out-of-fold risk (visits read)" "$OUT" "prob $oof"
contains "Lua m:explain adds up" "$OUT" "adds up true"
contains "Lua e.visits: the visit x lab matrix, the top visit, and it adds up" "$OUT" "visits $nv labs 4 top"
contains "Lua e.visits adds up with padding and static inputs" "$OUT" "whole true"

# audit and risk strata read the stored predictions
run audit "$W" --model cnn --by sex
eq "audit cnn: exit 0" "$RC" 0
contains "audit cnn groups" "$OUT" "400 patients in 2 groups by sex"
run survival "$W" --time time --event event --by risk:gru:3
eq "survival by gru risk tertiles: exit 0" "$RC" 0
contains "three strata" "$OUT" "risk 3/3"

# time to event: a GRU on the Cox partial likelihood, its curves, the same by --input
run train "$W" --model gru --time time --event event --max-visits 6 --epochs 6 --quiet
eq "gru on the Cox likelihood: exit 0" "$RC" 0
contains "gru-cox model line" "$OUT" "model 'gru-cox-event': gru on the Cox partial likelihood"
eq "gru-cox stores its visit slots" "$(sq "SELECT count(*) FROM model_inputs i JOIN models m ON m.id = i.model_id WHERE m.name = 'gru-cox-event' AND kind = 'visit'")" 66
run predict "$W" --model gru-cox-event
COX=$(printf '%s\n' "$OUT" | cut -d, -f1-5)
run predict "$W" --model gru-cox-event --input "$S/patients.csv" --input-visits "$S/visits.csv"
eq "gru-cox: predict --input with visits = the cohort's curves" "$(printf '%s\n' "$OUT" | cut -d, -f1-5)" "$COX"
run explain "$W" --model gru-cox-event --patient 2
contains "gru-cox explained over visits" "$OUT" "<- moved the risk most"

# bad input
printf 'id,age,y\n1,50,1\n2,60,0\n3,70,1\n4,40,0\n5,45,1\n6,55,0\n7,65,1\n8,35,0\n9,52,1\n10,48,0\n' >"$T/p.csv"
printf 'id,day,lab,gone\n1,0,1.0,\n1,30,2.0,\n2,0,0.5,\n99,0,1,\n' >"$T/v_bad.csv"
run import "$T/p.csv" --visits "$T/v_bad.csv" -o "$T/bad.lumen"
eq "visit of an unknown patient: data error" "$RC" 65
contains "names the line" "$ERR" "v_bad.csv:5:"
check "nothing written" [ ! -e "$T/bad.lumen" ]
# patients 4..10 have no visits; lab 'gone' is all missing; two visits of patient 1 at day 30
printf 'id,day,lab,gone\n1,30,3.0,\n1,0,1.0,\n1,30,2.0,\n2,0,0.5,\n3,10,0.7,\n3,20,0.9,\n5,5,1.1,\n' >"$T/v.csv"
run import "$T/p.csv" --visits "$T/v.csv" -o "$T/small.lumen"
eq "import small: exit 0" "$RC" 0
run train "$T/small.lumen" --model gru --target y --folds 2 --epochs 2 --max-visits 4
eq "train on patients without visits: exit 0" "$RC" 0
contains "the all-missing lab is left out, said" "$ERR" "left out: gone"
eq "no slot of it" "$(sqlite3 "$T/small.lumen" "SELECT count(*) FROM model_inputs WHERE name LIKE 'gone%'")" 0
run predict "$T/small.lumen" --model gru-y
eq "predict patients without visits: 10 rows" "$(printf '%s\n' "$OUT" | tail -n +2 | wc -l)" 10
run import "$T/p.csv" -o "$T/novisits.lumen"
run train "$T/novisits.lumen" --model cnn --target y --folds 2
eq "a sequence model on a file without visits: data error" "$RC/$ERR" \
	"65/lumen: train: the model reads visits and the workbench file has none (import with --visits VISITS.csv)"
eq "nothing stored" "$(sqlite3 "$T/novisits.lumen" "SELECT count(*) FROM models")" 0
run tui "$W" --model gru --headless --keys '\nevisits.egfr=5\n' --dump
contains "what-if refuses a visit lab" "$OUT" "what-if: 'visits.egfr' is read from the patient's visits"
run tui "$W" --model gru --headless --keys '\neegfr=50\n' --dump
contains "what-if of a static value with the visits kept" "$OUT" "what-if: egfr"
