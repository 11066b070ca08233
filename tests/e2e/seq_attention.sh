#!/bin/bash
# A GRU with attention over visits (lumen train --attention) end to end, on a synthetic
# cohort with visits and on pbc with its pbcseq visits: the stored choice (hyper-parameters,
# tensors, head width), bit-identical training for a seed, the stored per-visit weights
# ("attention" rows: 0 on padded steps and for a patient without visits, positive on every
# visit read, at most 1 in sum by the rule a_t = m_t e^e_t / (1 + sum_s m_s e^e_s)), IG
# completeness, the export (step_1..step_K), lumen explain --patient and the TUI showing the
# stored numbers, predict (also --input with --input-visits), audit, risk strata, a GRU with
# attention on the Cox partial likelihood, and the refusals.
. "$(dirname "$0")/../lib.sh"

W=$T/w.lumen
sq() { sqlite3 "$W" "$1"; }
run synth --patients 400 --visits 6 --seed 3 -o "$T/syn"
check "synth with visits" [ "$RC" -eq 0 ]
S=$T/syn
run import "$S/patients.csv" --visits "$S/visits.csv" -o "$W" --target outcome --group sex \
	--time time --event event
check "import with visits" [ "$RC" -eq 0 ]

# ---- refusals: one line, status 64, nothing stored ----
for a in mlp cnn transformer; do
	run train "$W" --model $a --attention --target outcome --quiet
	eq "--attention refused for $a" "$RC/$(printf '%s' "$ERR" | head -1)" \
		"64/lumen: train: --attention needs --model gru or cnn-gru ($a has no GRU states over the visits to attend to)"
done
run train "$W" --model gru --attention-width 8 --target outcome --quiet
eq "--attention-width alone refused" "$RC/$(printf '%s' "$ERR" | head -1)" \
	"64/lumen: train: --attention-width goes with --attention"
run train "$W" --model mlp --attention --time time --event event --quiet
eq "--attention refused for a Cox mlp" "$RC/$(printf '%s' "$ERR" | head -1)" \
	"64/lumen: train: --attention needs --model gru or cnn-gru (mlp has no GRU states over the visits to attend to)"
eq "nothing stored by the refusals" "$(sq "SELECT count(*) FROM models")" 0

# ---- train ----
run train "$W" --model gru --attention --target outcome --max-visits 6 --epochs 30 --quiet \
	--name ga --gru-hidden 16
eq "train gru --attention: exit 0" "$RC" 0
contains "train gru --attention: model line" "$OUT" "model 'ga': gru, target outcome, 400 patients (0 left out), 5 folds"
run train "$W" --model cnn-gru --attention --attention-width 8 --target outcome --max-visits 6 \
	--epochs 4 --quiet --name cga --gru-hidden 16 --channels 8
eq "train cnn-gru --attention --attention-width 8: exit 0" "$RC" 0
eq "the attention width is stored (default 16, or as given)" \
	"$(sq "SELECT name || ' ' || json_extract(hyper, '$.attention') || ' ' || json_extract(hyper, '$.gru_hidden') FROM models ORDER BY id")" \
	"ga 16 16
cga 8 16"
run models "$W"
eq "lumen models: the architectures with attention" "$(printf '%s\n' "$OUT" | awk 'NR > 1 { print $1, $2 }')" \
	"ga gru+att
cga cnn-gru+att"
# the attention's tensors, for every fold and the final model: Wa H x A, ba A, v A
eq "attention tensors of the final gru" "$(sq "SELECT group_concat(name || ':' || shape, ' ') FROM (SELECT name, shape FROM model_tensors WHERE model_id = (SELECT id FROM models WHERE name = 'ga') AND member = -1 AND name LIKE 'attn.%' ORDER BY name)")" \
	"attn.b:16 attn.v:16 attn.w:16x16"
eq "attention tensors in the 5 folds and the final model" "$(sq "SELECT count(*) FROM model_tensors WHERE model_id = (SELECT id FROM models WHERE name = 'ga') AND name = 'attn.w' AND member >= -1")" 6
eq "cnn-gru attention width 8" "$(sq "SELECT shape FROM model_tensors WHERE model_id = (SELECT id FROM models WHERE name = 'cga') AND member = -1 AND name = 'attn.w'")" "16x8"
# the head reads [static | h_K | c]: 77 static slots + 16 + 16
eq "head input: static slots, last state and context" "$(sq "SELECT shape FROM model_tensors WHERE model_id = (SELECT id FROM models WHERE name = 'ga') AND member = -1 AND name = 'head.0.w'")" "109x64"
eq "every patient has an out-of-fold prediction" "$(sq "SELECT count(*) FROM predictions p JOIN models m ON m.id = p.model_id WHERE m.name = 'ga' AND p.fold >= 0 AND p.p BETWEEN 0 AND 1")" 400
auc=$(sq "SELECT json_extract(metrics, '$.pooled.auc') FROM models WHERE name = 'ga'")
check "gru+attention out-of-fold AUC above chance ($auc)" awk -v a="$auc" 'BEGIN { exit !(a > 0.6) }'
run train "$W" --model gru --attention --target outcome --max-visits 6 --epochs 30 --quiet \
	--name ga2 --gru-hidden 16
# 2 baseline rows, the final 11 tensors, 5 folds of 13 (with their input statistics)
eq "same seed: bit-identical tensors" "$(sq "SELECT count(*) || ' ' || sum(a.data <> b.data) FROM model_tensors a JOIN model_tensors b ON a.name = b.name AND a.member = b.member WHERE a.model_id = (SELECT id FROM models WHERE name = 'ga') AND b.model_id = (SELECT id FROM models WHERE name = 'ga2')")" "78 0"

# ---- explain: IG and the per-visit weights ----
run explain "$W" --model ga --csv "$T/x.csv" --json-out "$T/x.json"
eq "explain: exit 0" "$RC" 0
contains "explain says what it stored" "$ERR" "400 patients, attention over visits (unsigned weights per visit) stored"
eq "one ig and one attention row per patient" "$(sq "SELECT group_concat(method || ' ' || n, ', ') FROM (SELECT method, count(*) n FROM attributions a JOIN models m ON m.id = a.model_id WHERE m.name = 'ga' GROUP BY method ORDER BY method)")" \
	"attention 400, ig 400"
eq "attention rows: 6 float32 step weights, no per-column values, the logit" "$(sq "SELECT count(*) FROM attributions a JOIN models m ON m.id = a.model_id WHERE m.name = 'ga' AND method = 'attention' AND length(slots) = 24 AND columns IS NULL AND logit IS NOT NULL")" 400
eq "the attention row's logit is the ig row's" "$(sq "SELECT count(*) FROM attributions a JOIN attributions b ON a.model_id = b.model_id AND a.patient = b.patient JOIN models m ON m.id = a.model_id WHERE m.name = 'ga' AND a.method = 'attention' AND b.method = 'ig' AND abs(a.logit - b.logit) < 1e-6")" 400
eq "no rollout for a GRU" "$(sq "SELECT count(*) FROM attributions a JOIN models m ON m.id = a.model_id WHERE m.name = 'ga' AND method = 'rollout'")" 0
med=$(sq "SELECT delta FROM attributions a JOIN models m ON m.id = a.model_id WHERE m.name = 'ga' AND method = 'ig' ORDER BY delta LIMIT 1 OFFSET 200")
check "IG completeness: median error below 0.01 ($med)" awk -v d="$med" 'BEGIN { exit !(d < 0.01) }'
# the weights against each patient's visits (read from the visits table): the last
# min(visits, 6) steps hold them, every step before is padding with weight exactly 0
weights_check() { # FILE MODEL K: "patients bad_padded bad_real bad_sum empty_nonzero max_sum"
	/usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
K = int(sys.argv[3])
nv = dict(db.execute('SELECT "__patient", count(*) FROM visits GROUP BY 1'))
rows = db.execute("SELECT a.patient, a.slots FROM attributions a JOIN models m ON m.id = a.model_id"
                  " WHERE m.name = ? AND a.method = 'attention'", (sys.argv[2],)).fetchall()
bad_pad = bad_real = bad_sum = empty = 0
mx = 0.0
for pid, blob in rows:
    w = struct.unpack("<%df" % K, blob)
    n = min(nv.get(pid, 0), K)
    bad_pad += any(x != 0.0 for x in w[:K - n])
    bad_real += any(not (0.0 < x < 1.0) for x in w[K - n:])
    s = sum(w)
    bad_sum += not (s < 1.0 and (s > 0.0 if n else s == 0.0))
    empty += n == 0 and any(x != 0.0 for x in w)
    mx = max(mx, s)
print(len(rows), bad_pad, bad_real, bad_sum, empty, "%.3f" % mx)
PY
}
set -- $(weights_check "$W" ga 6)
eq "synth: every patient's weights" "$1" 400
eq "synth: padded steps weigh exactly 0" "$2" 0
eq "synth: every visit read has a weight in (0, 1)" "$3" 0
eq "synth: the weights sum below 1 (above 0 with visits)" "$4" 0
check "synth: the largest sum is below 1 ($6)" awk -v s="$6" 'BEGIN { exit !(s > 0.3 && s < 1) }'

# the export: step_1..step_6 after the inputs, filled on the attention_weight rows only
hdr=$(head -1 "$T/x.csv")
contains "CSV header: the visit steps after the inputs" "$hdr" "visits.present,step_1,step_2,step_3,step_4,step_5,step_6,logit,baseline_logit,sum,delta"
chk=$(/usr/bin/python3 - "$T/x.csv" "$W" <<'PY'
import csv, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[2])
stored = {}
for pid, blob in db.execute("SELECT p.id, a.slots FROM attributions a JOIN models m ON m.id = a.model_id"
                            " JOIN patients p ON p.rowid = a.patient WHERE m.name = 'ga' AND a.method = 'attention'"):
    stored[str(pid)] = struct.unpack("<6f", blob)
att = ig = same = adds = empty_cols = 0
for r in csv.DictReader(open(sys.argv[1])):
    steps = [r["step_%d" % k] for k in range(1, 7)]
    if r["method"] == "attention_weight":
        att += 1
        w = [float(x) for x in steps]
        same += all(abs(a - b) < 1e-7 for a, b in zip(w, stored[r["id"]]))
        adds += abs(sum(w) - float(r["sum"])) < 1e-6
        empty_cols += r["age"] == "" and r["baseline_logit"] == ""
    elif r["method"] == "ig":
        ig += 1
        adds += all(x == "" for x in steps) and \
            abs(float(r["baseline_logit"]) + float(r["sum"]) - float(r["logit"])) <= float(r["delta"]) + 1e-4
print(att, ig, same, adds, empty_cols)
PY
)
eq "CSV: 400 attention_weight rows equal to the stored weights, 400 ig rows that add up" "$chk" "400 400 400 800 400"
js=$(/usr/bin/python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
p = j["patients"][0]
print(" ".join(j["methods"]), sorted(p["attention_weight"]))' "$T/x.json")
eq "JSON: attention_weight per step" "$js" "ig attention_weight ['step_1', 'step_2', 'step_3', 'step_4', 'step_5', 'step_6']"

# --method attention alone: the weights and their logit, no IG
run explain "$W" --model cga --method attention
eq "explain cnn-gru --method attention: exit 0" "$RC" 0
eq "attention only: 400 attention rows, no ig" "$(sq "SELECT group_concat(method || ' ' || n, ', ') FROM (SELECT method, count(*) n FROM attributions a JOIN models m ON m.id = a.model_id WHERE m.name = 'cga' GROUP BY method)")" "attention 400"
set -- $(weights_check "$W" cga 6)
eq "cnn-gru: padded steps 0, visits in (0, 1), sums below 1" "$2 $3 $4 $5" "0 0 0 0"
run train "$W" --model gru --target outcome --max-visits 6 --epochs 2 --quiet --name plain --gru-hidden 8
run explain "$W" --model plain --method attention
eq "--method attention on a gru without attention" "$RC/$ERR" \
	"64/lumen: explain: --method attention needs a transformer, or a gru or cnn-gru trained with --attention ('plain' is gru)"

# ---- one patient: the stored weights beside each visit's IG, and the visit attended to most ----
pid=$(/usr/bin/python3 - "$W" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute('SELECT "__patient" FROM visits GROUP BY 1 HAVING count(*) >= 3 ORDER BY 1 LIMIT 1').fetchone()[0])
PY
)
want=$(/usr/bin/python3 - "$W" "$pid" <<'PY'
import sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
pid = int(sys.argv[2])
nv = min(db.execute('SELECT count(*) FROM visits WHERE "__patient" = ?', (pid,)).fetchone()[0], 6)
tot = db.execute('SELECT count(*) FROM visits WHERE "__patient" = ?', (pid,)).fetchone()[0]
w = struct.unpack("<6f", db.execute("SELECT slots FROM attributions a JOIN models m ON m.id = a.model_id"
                  " WHERE m.name = 'ga' AND method = 'attention' AND patient = ?", (pid,)).fetchone()[0])[6 - nv:]
top = max(range(nv), key=lambda r: w[r])
print("%d %d %s %.3f" % (tot - nv + top + 1, nv, ",".join("%.3f" % x for x in w), sum(w)))
PY
)
set -- $want
run explain "$W" --model ga --patient "$pid"
eq "explain --patient: exit 0" "$RC" 0
contains "the IG and attention columns" "$OUT" "            IG       attention"
got=$(printf '%s\n' "$OUT" | awk '/^  visit [0-9]/ { v = $4; sub(/\*$/, "", v); s = s (s ? "," : "") v } END { print s }')
eq "explain --patient: the stored weights, visit for visit" "$got" "$3"
contains "explain --patient: the visit attended to most" "$OUT" "most on visit $1 (weight"
contains "explain --patient: the visits' share, padded steps 0" "$OUT" "the $2 visits hold $4, padded steps 0.000"
run explain "$W" --model ga --patient "$pid" --json
js=$(printf '%s' "$OUT" | /usr/bin/python3 -c '
import json, sys
v = json.load(sys.stdin)["visits"]
print(",".join("%.3f" % x for x in v["attention"]), v["attention_top"], v["attention_padded"])')
eq "explain --patient --json: attention per visit read, its top, padded 0" "$js" "$3 $(( $1 - 1 - ( $(sq "SELECT count(*) FROM visits WHERE \"__patient\" = $pid") - $2 ) )) 0"
# the TUI: a shows the weights as a row aligned with the visits
run tui "$W" --model ga --headless --keys '\na' --dump
contains "TUI a: the visit attended to most" "$OUT" "attention (unsigned): most on visit"
contains "TUI a: the weights' row beside the labs" "$OUT" "  attention  "
contains "TUI a: the switch is named" "$OUT" "a switches: ig  [attention over visits]"
run tui "$W" --model ga --headless --keys '\naa' --dump
contains "TUI a twice: back to integrated gradients" "$OUT" "a switches: [ig]  attention over visits"
run tui "$W" --model plain --headless --keys '\na' --dump
contains "TUI a on a gru without attention" "$OUT" "attention weights need a transformer"

# ---- predict, new patients, audit, strata ----
run predict "$W" --model ga
eq "predict cohort: exit 0" "$RC" 0
COH=$(printf '%s\n' "$OUT" | cut -d, -f1-3)
run predict "$W" --model ga --input "$S/patients.csv" --input-visits "$S/visits.csv"
eq "predict --input with its visits = the cohort's" "$OUT" "$COH"
run explain "$W" --model ga --input "$S/patients.csv" --input-visits "$S/visits.csv" --csv "$T/n.csv"
eq "explain new patients: exit 0" "$RC" 0
eq "explain new patients: an attention_weight row each, with the steps" "$(grep -c ',attention_weight,final,' "$T/n.csv")" 400
run audit "$W" --model ga --by sex
eq "audit: exit 0" "$RC" 0
contains "audit groups" "$OUT" "400 patients in 2 groups by sex"
run survival "$W" --time time --event event --by risk:ga:3
eq "survival by risk tertiles: exit 0" "$RC" 0
contains "three strata" "$OUT" "risk 3/3"

# ---- on the Cox partial likelihood ----
run train "$W" --model gru --attention --time time --event event --max-visits 6 --epochs 6 --quiet
eq "gru --attention on the Cox likelihood: exit 0" "$RC" 0
contains "gru-cox model line" "$OUT" "model 'gru-cox-event': gru on the Cox partial likelihood"
eq "the Cox gru keeps its attention" "$(sq "SELECT json_extract(hyper, '$.attention') FROM models WHERE name = 'gru-cox-event'")" 16
run predict "$W" --model gru-cox-event
COX=$(printf '%s\n' "$OUT" | cut -d, -f1-5)
run predict "$W" --model gru-cox-event --input "$S/patients.csv" --input-visits "$S/visits.csv"
eq "gru-cox: predict --input with visits = the cohort's curves" "$(printf '%s\n' "$OUT" | cut -d, -f1-5)" "$COX"
run explain "$W" --model gru-cox-event
eq "gru-cox: explain: exit 0" "$RC" 0
set -- $(weights_check "$W" gru-cox-event 6)
eq "gru-cox: 400 weights, padded 0, visits in (0, 1), sums below 1" "$1 $2 $3 $4 $5" "400 0 0 0 0"

# ---- pbc with the pbcseq visits (106 of 418 patients have none) ----
P=$T/pbc.lumen
run import "$DATA/pbc.csv" --visits "$DATA/pbcseq.csv" -o "$P"
eq "import pbc + pbcseq: exit 0" "$RC" 0
for c in futime status trt age sex; do "$LUMEN" role "$P" "$c" ignore --visits >/dev/null; done
run train "$P" --model gru --attention --target status --positive 2 --exclude time --max-visits 16 \
	--epochs 20 --quiet --name ga
eq "pbc: train gru --attention: exit 0" "$RC" 0
contains "pbc: model line" "$OUT" "model 'ga': gru, target status = 2, 418 patients (0 left out), 5 folds"
run explain "$P" --model ga
eq "pbc: explain: exit 0" "$RC" 0
set -- $(weights_check "$P" ga 16)
eq "pbc: 418 patients' weights" "$1" 418
eq "pbc: padded steps 0, visits in (0, 1), sums below 1, no weight without visits" "$2 $3 $4 $5" "0 0 0 0"
eq "pbc: 106 patients without visits, all weights 0" "$(/usr/bin/python3 - "$P" <<'PY'
import sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
has = {r[0] for r in db.execute('SELECT DISTINCT "__patient" FROM visits')}
n = 0
for pid, blob in db.execute("SELECT patient, slots FROM attributions WHERE method = 'attention'"):
    n += pid not in has and all(x == 0.0 for x in struct.unpack("<16f", blob))
print(n)
PY
)" 106
med=$(sqlite3 "$P" "SELECT delta FROM attributions WHERE method = 'ig' ORDER BY delta LIMIT 1 OFFSET 209")
check "pbc: IG completeness, median error below 0.01 ($med)" awk -v d="$med" 'BEGIN { exit !(d < 0.01) }'
run explain "$P" --model ga --patient 1
contains "pbc: patient 1's visits with their weights" "$OUT" "Attention over visits (unsigned: where the model looked, not a direction): most on visit"

# ---- Lua: m:explain gives the same weights, visit for visit ----
cat >"$T/a.lua" <<'LUA'
local m = lumen.model("ga")
for p in lumen.patients{where = "true"} do
  local e = m:explain(p, {steps = 16})
  local v, s, w = e.visits, 0, {}
  for _, x in ipairs(v.attention) do s = s + x; w[#w + 1] = string.format("%.3f", x) end
  report.paragraph(string.format("n %d top %d sum %.3f w %s", #v.attention, v.attention_top, s,
    table.concat(w, ",")))
  break
end
LUA
run report "$P" "$T/a.lua"
want=$(/usr/bin/python3 - "$P" <<'PY'
import sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
nv = min(db.execute('SELECT count(*) FROM visits WHERE "__patient" = 1').fetchone()[0], 16)
w = struct.unpack("<16f", db.execute("SELECT slots FROM attributions WHERE method = 'attention' AND patient = 1").fetchone()[0])[16 - nv:]
top = max(range(nv), key=lambda r: w[r])
print("n %d top %d sum %.3f w %s" % (nv, top + 1, sum(w), ",".join("%.3f" % x for x in w)))
PY
)
contains "Lua e.visits.attention: the stored weights of patient 1, its top visit" "$OUT" "$want"
