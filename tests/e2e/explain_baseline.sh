#!/bin/bash
# The mean and median IG baselines stored with the model (model_tensors member -2): written by
# lumen train, read by lumen explain and the TUI, written by lumen explain for an older file
# that has none; explanations identical either way.
. "$(dirname "$0")/../lib.sh"
F=$T/pbc.lumen
run import "$DATA/pbc.csv" -o "$F" --target status
eq "import pbc" "$RC" 0
run train "$F" --model logreg --target status --positive 2 --exclude time --name lr --folds 2 --quiet
eq "train logreg" "$RC" 0
sq() { sqlite3 "$F" "$@"; }
# slot values of a stored baseline, by slot name, 7 significant digits
slot() { # NAME KIND
	local s
	s=$(sq "SELECT slot FROM model_inputs WHERE name = '$1'")
	sq "SELECT hex(data) FROM model_tensors WHERE member = -2 AND name = 'baseline.$2'" |
		python3 -c "
import sys, struct
h = sys.stdin.read().strip()
v = struct.unpack('<%df' % (len(h) // 8), bytes.fromhex(h))
print('%.7g' % v[$s])"
}

eq "train stores baseline.mean and baseline.median, 30 float32 each" \
	"$(sq "SELECT group_concat(member || ':' || name || ':' || shape || ':' || length(data), ' ') FROM (SELECT * FROM model_tensors WHERE member = -2 ORDER BY name)")" \
	"-2:baseline.mean:30:120 -2:baseline.median:30:120"
# independent of lumen: the share of women (374 of 418) and of patients on D-penicillamine
# (trt = 1: 158 of the 312 with a trt value; the rest have trt missing)
near "mean baseline of sex=f is the share of women" "$(slot sex=f mean)" "$(awk 'BEGIN { printf "%.7f", 374 / 418 }')" 1e-6
near "mean of trt:missing is the missing rate (106 of 418)" "$(slot trt:missing mean)" "$(awk 'BEGIN { printf "%.7f", 106 / 418 }')" 1e-6
eq "median baseline of sex=f" "$(slot sex=f median)" 1
eq "median baseline of trt:missing" "$(slot trt:missing median)" 0
MEAN=$(sq "SELECT hex(data) FROM model_tensors WHERE member = -2 AND name = 'baseline.mean'")
MED=$(sq "SELECT hex(data) FROM model_tensors WHERE member = -2 AND name = 'baseline.median'")

# explanations with the stored baseline
run explain "$F" --model lr --patient 5 --json
eq "explain --patient with the stored baseline" "$RC" 0
P5=$OUT
run explain "$F" --model lr --patient 5 --baseline median --json
P5M=$OUT
run explain "$F" --model lr --patients 1,2,3 -q
eq "explain --patients 1,2,3" "$RC" 0
A1=$(sq "SELECT group_concat(hex(slots) || baseline_logit, ' ') FROM attributions ORDER BY patient")

# an older file: no stored baseline. explain computes it, gives the same explanation, and
# stores the same bits
sq "DELETE FROM model_tensors WHERE member = -2; DELETE FROM attributions"
eq "older file: no baseline rows" "$(sq "SELECT count(*) FROM model_tensors WHERE member = -2")" 0
run explain "$F" --model lr --patient 5 --json
eq "explain --patient on the older file" "$RC" 0
eq "same explanation as with the stored baseline" "$OUT" "$P5"
eq "explain stored the mean again, same bits" "$(sq "SELECT hex(data) FROM model_tensors WHERE member = -2 AND name = 'baseline.mean'")" "$MEAN"
eq "and the median" "$(sq "SELECT hex(data) FROM model_tensors WHERE member = -2 AND name = 'baseline.median'")" "$MED"
run explain "$F" --model lr --patient 5 --baseline median --json
eq "median explanation unchanged" "$OUT" "$P5M"
sq "DELETE FROM model_tensors WHERE member = -2"
run explain "$F" --model lr --patients 1,2,3 -q
eq "explain --patients on the older file" "$RC" 0
eq "stored attributions identical" "$(sq "SELECT group_concat(hex(slots) || baseline_logit, ' ') FROM attributions ORDER BY patient")" "$A1"
eq "baselines stored by the compute run" "$(sq "SELECT count(*) FROM model_tensors WHERE member = -2")" 2

# zero and patient:ID are computed, not stored
run explain "$F" --model lr --patient 5 --baseline zero --json
eq "zero baseline" "$RC" 0
run explain "$F" --model lr --patient 5 --baseline patient:5 --json
eq "patient baseline: itself" "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["logit"] == d["baseline_logit"])')" True
eq "still only mean and median stored" "$(sq "SELECT group_concat(name, ' ') FROM (SELECT name FROM model_tensors WHERE member = -2 ORDER BY name)")" "baseline.mean baseline.median"

# the TUI's on-the-fly explanation reads the stored baseline: patient 9 has no stored
# attributions; the screen says "computed now" and shows the same top factor as explain
run explain "$F" --model lr --patient 9 --json
TOP9=$(printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = max(d["columns"], key=lambda c: abs(c["ig"]))
print(c["column"], "%.3f" % d["baseline_logit"])')
SCREEN=$("$LUMEN" tui "$F" --headless --keys '<down><down><down><down><down><down><down><down>\n' --dump --size 100x40 2>&1)
contains "TUI: patient 9 on the patient screen" "$SCREEN" "Patient 9 "
contains "TUI: explained with the mean baseline" "$SCREEN" "why: ig (mean,"
eq "TUI: the first factor is explain's top factor" \
	"$(printf '%s\n' "$SCREEN" | awk '/^  factor / { getline; print $1; exit }')" "${TOP9% *}"
contains "TUI: the baseline logit is explain's" "$SCREEN" "baseline ${TOP9#* } "

# retraining replaces the model and its baselines; nothing is left of the old one
run train "$F" --model logreg --target status --positive 2 --exclude time --name lr --folds 2 --quiet --force
eq "retrain --force" "$RC" 0
eq "one model's baselines, none orphaned" \
	"$(sq "SELECT count(*), count(DISTINCT model_id), sum(model_id NOT IN (SELECT id FROM models)) FROM model_tensors WHERE member = -2")" "2|1|0"

# patients without a target are not training patients: the stored baseline leaves them out
# exactly as the recomputation does (status blanked for every 7th patient: 59 of 418)
awk -F, -v OFS=, 'NR > 1 && (NR - 1) % 7 == 0 { $3 = "" } { print }' "$DATA/pbc.csv" >"$T/pbc-gaps.csv"
G=$T/gaps.lumen
run import "$T/pbc-gaps.csv" -o "$G" --target status
eq "import pbc with 59 statuses blanked" "$RC" 0
run train "$G" --model logreg --target status --positive 2 --exclude time --name lr --folds 2 --quiet
eq "train leaves the 59 out" "$(sqlite3 "$G" "SELECT n_used, n_excluded FROM models")" "359|59"
GM=$(sqlite3 "$G" "SELECT hex(data) FROM model_tensors WHERE member = -2 ORDER BY name")
women=$(awk -F, 'NR > 1 && (NR - 1) % 7 != 0 && $6 == "\"f\"" { n++ } END { print n }' "$DATA/pbc.csv")
s=$(sqlite3 "$G" "SELECT slot FROM model_inputs WHERE name = 'sex=f'")
near "mean of sex=f over the 359 training patients" \
	"$(sqlite3 "$G" "SELECT hex(data) FROM model_tensors WHERE member = -2 AND name = 'baseline.mean'" |
		python3 -c "import sys, struct; h = sys.stdin.read().strip(); print('%.7f' % struct.unpack('<%df' % (len(h) // 8), bytes.fromhex(h))[$s])")" \
	"$(awk -v w="$women" 'BEGIN { printf "%.7f", w / 359 }')" 1e-6
sqlite3 "$G" "DELETE FROM model_tensors WHERE member = -2"
run explain "$G" --model lr --patient 1 --baseline median
eq "explain recomputes on the file without them" "$RC" 0
eq "recomputed mean and median equal what train stored, bit for bit" \
	"$(sqlite3 "$G" "SELECT hex(data) FROM model_tensors WHERE member = -2 ORDER BY name")" "$GM"
