#!/bin/bash
# lumen explain end to end on pbc (death = status 2): storage, completeness at 64 steps for
# logreg / mlp / transformer, --steps auto, baselines, --patient output, errors.
. "$(dirname "$0")/../lib.sh"
PY=python3
F=$T/pbc.lumen
run import "$DATA/pbc.csv" -o "$F" --target status
eq "import pbc" "$RC" 0
for a in logreg mlp; do
	run train "$F" --model $a --target status --positive 2 --exclude time --name $a --quiet
	eq "train $a" "$RC" 0
done
run train "$F" --model transformer --target status --positive 2 --exclude time --name tf \
	--folds 2 --epochs 4 --quiet
eq "train transformer (2 folds, 4 epochs)" "$RC" 0

sql() { sqlite3 "$F" "$@"; }
js() { printf '%s' "$OUT" | $PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# --patients: only those rows, nothing else
run explain "$F" --model mlp --patients 1,5 -q
eq "explain --patients exits 0" "$RC" 0
eq "two ig rows for --patients 1,5" "$(sql "SELECT group_concat(patient) FROM attributions WHERE method='ig'")" "1,5"

# an unknown patient in the list: error, nothing written
run explain "$F" --model logreg --patients 1,9999 -q
eq "unknown patient in --patients: status 65" "$RC" 65
eq "unknown patient message" "$ERR" "lumen: explain: no patient with id '9999'"
eq "nothing written for logreg" "$(sql "SELECT count(*) FROM attributions a JOIN models m ON m.id = a.model_id WHERE m.name='logreg'")" 0

# logreg: completeness to float precision, and the closed form IG_ij = w_j (x_ij - mean_j)
# implies sum_i IG_ij = 0 for every slot with the mean baseline (all 418 have a target).
run explain "$F" --model logreg --json -q
eq "explain logreg exits 0" "$RC" 0
eq "logreg: 418 patients" "$(js "d['patients']")" 418
check "logreg: max completeness error < 1e-5" $PY -c "import sys; sys.exit(not $(js "d['completeness']['max']") < 1e-5)"
# the number explained is the number shown: every patient explained with the fold model that
# held it out, so the stored logit is the logit of its stored out-of-fold p
eq "logreg: every explained logit is the stored prediction's logit" "$(sql "SELECT count(*), max(abs(a.logit - p.logit)) < 1e-4, max(abs(1 / (1 + exp(-a.logit)) - p.p)) < 1e-5 FROM attributions a JOIN predictions p ON p.model_id = a.model_id AND p.patient = a.patient JOIN models m ON m.id = a.model_id WHERE m.name = 'logreg' AND a.method = 'ig'")" "418|1|1"
eq "logreg: all 418 explained by their fold model" "$(js "d['networks']['fold']")" 418
# slots sum to columns: sex has one slot, so nslot >= ncolumn = 17
eq "logreg: 17 columns per patient" "$(sql "SELECT DISTINCT length(columns) / 4 FROM attributions WHERE method='ig' AND model_id=(SELECT id FROM models WHERE name='logreg')")" 17

# transformer: every patient below 1% at 64 steps (Gauss-Legendre)
run explain "$F" --model tf --json -q
eq "explain transformer exits 0" "$RC" 0
eq "transformer: no patient above 1% at 64 steps" "$(js "d['completeness']['above_1pct']")" 0
eq "transformer: methods" "$(js "','.join(d['methods'])")" "ig,attention,rollout"
eq "transformer: 418 rows per method" "$(sql "SELECT group_concat(n) FROM (SELECT count(*) n FROM attributions WHERE model_id=(SELECT id FROM models WHERE name='tf') GROUP BY method)")" "418,418,418"
eq "transformer: agreement stored in [-1, 1]" "$(sql "SELECT count(*) FROM attributions WHERE model_id=(SELECT id FROM models WHERE name='tf') AND method IN ('ig','rollout') AND agreement BETWEEN -1 AND 1")" 836
eq "transformer: attention blob = 2 blocks x 4 heads x 17 columns" "$(sql "SELECT DISTINCT length(slots) / 4 FROM attributions WHERE method='attention'")" 136
eq "transformer: last-block CLS attention over columns is below 1" "$(sql "SELECT count(*) FROM attributions WHERE method='attention'")" 418
# --threads: patients split over threads, the stored numbers identical to one thread's
tfig() { sql "SELECT hex(group_concat(hex(slots) || logit || delta || steps, ',')) FROM (SELECT * FROM attributions WHERE method='ig' AND model_id=(SELECT id FROM models WHERE name='tf') ORDER BY patient)"; }
ONE=$(run explain "$F" --model tf --method ig --threads 1 -q; tfig)
TWO=$(run explain "$F" --model tf --method ig --threads 2 -q; tfig)
THREE=$(run explain "$F" --model tf --method ig --threads 3 -q; tfig)
check "transformer IG stored: 418 patients" [ ${#ONE} -gt 100000 ]
eq "transformer IG: --threads 2 stores exactly what --threads 1 does" "$(printf %s "$TWO" | sha256sum)" "$(printf %s "$ONE" | sha256sum)"
eq "transformer IG: --threads 3 too" "$(printf %s "$THREE" | sha256sum)" "$(printf %s "$ONE" | sha256sum)"
run explain "$F" --model tf --threads 0
eq "--threads 0: usage" "$RC/$(printf '%s' "$ERR" | head -1)" "64/lumen: explain: --threads wants a number from 1 to 64, not '0'"
imp=$(sql "SELECT importance FROM models WHERE name='tf'")
eq "importance has ig and rollout" "$(printf '%s' "$imp" | $PY -c "import json,sys; d=json.load(sys.stdin); print(sorted(d), len(d['ig']['columns']), d['ig']['patients'])")" "['ig', 'rollout'] 17 418"

# mlp (ReLU kinks): the default exact rule is complete to float precision
run explain "$F" --model mlp --json -q
eq "mlp: default rule is exact" "$(js "d['rule']")" exact
eq "mlp exact: no patient above 1%" "$(js "d['completeness']['above_1pct']")" 0
check "mlp exact: max relative error < 1e-4" $PY -c "import sys; sys.exit(not $(js "d['completeness']['relative_p99']") < 1e-4)"
check "mlp exact: gradient evaluations per patient recorded (pieces of the path)" test \
	"$(sql "SELECT min(steps) > 1 FROM attributions WHERE model_id=(SELECT id FROM models WHERE name='mlp') AND method='ig'")" = 1
# Gauss: median below 1% at 64 steps; auto doubles where needed
run explain "$F" --model mlp --rule gauss --json -q
check "mlp gauss: median relative completeness error < 1% at 64 steps" $PY -c "import sys; sys.exit(not $(js "d['completeness']['relative_median']") < 0.01)"
run explain "$F" --model tf --rule exact
eq "exact rule on a transformer: 64" "$RC" 64
contains "exact rule message" "$ERR" "the exact rule needs a ReLU mlp"
run explain "$F" --model mlp --rule gauss --steps auto --json -q
eq "mlp --steps auto exits 0" "$RC" 0
eq "auto: steps are 16 doubled" "$(sql "SELECT count(*) FROM attributions WHERE model_id=(SELECT id FROM models WHERE name='mlp') AND method='ig' AND steps NOT IN (16,32,64,128,256,512)")" 0
eq "auto: the JSON's mean steps used is the stored mean" "$(js "'%.4f' % d['mean_steps_used']")" \
	"$(sql "SELECT printf('%.4f', avg(steps)) FROM attributions WHERE model_id=(SELECT id FROM models WHERE name='mlp') AND method='ig'")"
eq "auto: every patient below 1% (or 1e-4) or at 512 steps" "$(sql "SELECT count(*) FROM attributions WHERE model_id=(SELECT id FROM models WHERE name='mlp') AND method='ig' AND delta > 0.01 * abs(logit - baseline_logit) AND delta > 1e-4 AND steps < 512")" 0
check "auto: some patients needed more than 16" test "$(sql "SELECT count(*) FROM attributions WHERE model_id=(SELECT id FROM models WHERE name='mlp') AND steps > 16")" -gt 0

# baselines
run explain "$F" --model logreg --baseline patient:5 --patients 5,6 -q
eq "baseline patient:5" "$RC" 0
eq "patient 5 against itself: zero attribution" "$(sql "SELECT abs(logit - baseline_logit) < 1e-6 AND delta < 1e-6 FROM attributions WHERE method='ig' AND patient=5 AND model_id=(SELECT id FROM models WHERE name='logreg')")" 1
eq "baseline text stored" "$(sql "SELECT baseline FROM attributions WHERE patient=6 AND method='ig' AND model_id=(SELECT id FROM models WHERE name='logreg')")" "patient:5"
run explain "$F" --model logreg --baseline zero --rule trapezoid --steps 2 --patients 7 -q
eq "zero baseline, trapezoid at 2 steps (exact for a linear logit)" "$RC" 0
check "zero baseline: completeness exact" test "$(sql "SELECT delta < 1e-5 FROM attributions WHERE patient=7 AND method='ig' AND model_id=(SELECT id FROM models WHERE name='logreg')")" = 1

# one patient, readable and JSON
run explain "$F" --model tf --patient 1
eq "--patient exits 0" "$RC" 0
contains "--patient: prediction" "$OUT" "Prediction: "
contains "--patient: raising" "$OUT" "Raising it"
contains "--patient: bili is the patient's 14.5" "$OUT" "14.5"
contains "--patient: completeness" "$OUT" "Completeness error:"
contains "--patient: attention beside IG" "$OUT" "rollout"
run explain "$F" --model mlp --patient 1 --json
eq "--patient --json exits 0" "$RC" 0
check "--patient --json: columns sum to f(x) - f(b) within the stated error" $PY -c "
import json,sys
d = json.loads(sys.argv[1])
s = sum(c['ig'] for c in d['columns'])
sys.exit(not (len(d['columns']) == 17 and abs(s - (d['logit'] - d['baseline_logit'])) <= d['completeness_error'] + 1e-5))" "$OUT"
eq "--patient: bili value and percentile" "$(js "[(c['value'], round(c['percentile'])) for c in d['columns'] if c['column']=='bili'][0]")" "('14.5', 96)"
eq "access log records the patient" "$(sql "SELECT count(*) FROM access_log WHERE action='explain' AND patient=1")" 2

# errors
run explain "$F" --model nope
eq "unknown model: 65" "$RC" 65
contains "unknown model message" "$ERR" "lumen: explain: no model 'nope'"
run explain "$F" --model mlp --baseline average
eq "bad baseline: 64" "$RC" 64
contains "bad baseline message" "$ERR" "unknown baseline 'average'"
run explain "$F" --model mlp --method attention
eq "attention on an mlp: 64" "$RC" 64
contains "attention on mlp message" "$ERR" "needs a transformer"
run explain "$F" --model mlp --steps 0
eq "steps 0: 64" "$RC" 64
run explain "$F" --model mlp --patient 9999
eq "unknown --patient: 65" "$RC" 65
run explain "$T/none.lumen" --model mlp
eq "missing file: 66" "$RC" 66
run explain --help
eq "--help: 0" "$RC" 0
contains "--help: usage" "$OUT" "Usage: lumen explain FILE --model NAME"
echo "1..$T_N"
