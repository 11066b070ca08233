#!/bin/bash
# lumen explain --csv / --json-out (the per-patient SHAP-values table) and --input (patients
# who are not in the workbench): every row adds up, each cohort patient is explained by the
# network of its stored risk, a new patient by the final one, bad NEW.csv files.
. "$(dirname "$0")/../lib.sh"
F=$T/pbc.lumen
run import "$DATA/pbc.csv" -o "$F" --target status --group sex
eq "import pbc" "$RC" 0
run train "$F" --model logreg --target status --positive 2 --exclude time --name lr --quiet
eq "train logreg" "$RC" 0
run train "$F" --model transformer --target status --positive 2 --exclude time --name tf \
	--folds 2 --epochs 3 --quiet
eq "train transformer" "$RC" 0
sq() { sqlite3 "$F" "$@"; }
# the largest |logit - (baseline_logit + sum of the attribution columns)| over the ig rows,
# and the largest difference between that and the row's own delta
addup() {
	awk -F, 'NR == 1 { nf = NF; next }
		$2 == "ig" { s = 0; for (i = 4; i <= nf - 4; i++) s += $i
			d = $(nf - 3) - ($(nf - 2) + s); if (d < 0) d = -d; if (d > m) m = d
			e = d - $nf; if (e < 0) e = -e; if (e > me) me = e
			t = s - $(nf - 1); if (t < 0) t = -t; if (t > mt) mt = t; n++ }
		END { printf "%d %.1e %.1e %.1e\n", n, m, me, mt }' "$1"
}

# ---- the cohort ----
run explain "$F" --model lr --csv "$T/lr.csv" -q
eq "explain --csv: exit 0" "$RC" 0
eq "csv header: id, method, network, the inputs, logit, baseline_logit, sum, delta" \
	"$(head -1 "$T/lr.csv")" \
	"id,method,network,trt,age,sex,ascites,hepato,spiders,edema,bili,chol,albumin,copper,alk.phos,ast,trig,platelet,protime,stage,logit,baseline_logit,sum,delta"
eq "one ig row per patient" "$(tail -n +2 "$T/lr.csv" | cut -d, -f2 | sort | uniq -c | tr -s ' ')" " 418 ig"
read -r n m me mt <<<"$(addup "$T/lr.csv")"
eq "logreg: 418 rows checked" "$n" 418
near "logreg: every row adds up, baseline + sum = logit (max error)" "$m" 0 1e-5
near "logreg: the error is the row's delta" "$me" 0 1e-5
near "logreg: the sum column is the sum" "$mt" 0 1e-5
# each patient explained by the network of its stored out-of-fold risk: the logit is the
# stored prediction's, and the network is its fold
sq "SELECT patient || ',' || logit || ',fold ' || (fold + 1) FROM predictions p
	JOIN models m ON m.id = p.model_id WHERE m.name = 'lr' ORDER BY patient" >"$T/stored.txt"
awk -F, 'NR > 1 { print $1 "," $(NF - 3) "," $3 }' "$T/lr.csv" >"$T/csvlogit.txt"
eq "logit and network of every row = the stored out-of-fold prediction's (within 1e-5)" \
	"$(paste -d, "$T/stored.txt" "$T/csvlogit.txt" | awk -F, '{ d = $2 - $5; if (d < 0) d = -d
		if ($1 != $4 || $3 != $6 || d > 1e-5) bad++; n++ } END { print n, bad + 0 }')" "418 0"
# the file holds the numbers that were stored
eq "stored ig rows" "$(sq "SELECT count(*) FROM attributions a JOIN models m ON m.id = a.model_id WHERE m.name = 'lr' AND method = 'ig'")" 418
near "patient 1's logit as stored" "$(sed -n 2p "$T/lr.csv" | awk -F, '{ print $(NF - 3) }')" \
	"$(sq "SELECT a.logit FROM attributions a JOIN models m ON m.id = a.model_id WHERE m.name = 'lr' AND method = 'ig' AND patient = 1")" 1e-6
eq "the file is private (0600)" "$(stat -c %a "$T/lr.csv")" 600

# a transformer: ig rows and attention weight rows, and the JSON table
run explain "$F" --model tf --csv "$T/tf.csv" --json-out "$T/tf.json" -q
eq "transformer --csv --json-out: exit 0" "$RC" 0
eq "three rows per patient: ig, attention_weight, rollout_weight" \
	"$(tail -n +2 "$T/tf.csv" | cut -d, -f2 | sort | uniq -c | tr -s ' ' | tr '\n' ' ')" \
	" 418 attention_weight  418 ig  418 rollout_weight "
read -r n m me mt <<<"$(addup "$T/tf.csv")"
eq "transformer: 418 ig rows checked" "$n" 418
near "transformer: every row adds up within 1e-3" "$m" 0 1e-3
near "transformer: the error is the row's delta" "$me" 0 1e-5
eq "attention rows have no baseline and no delta (weights, not attributions)" \
	"$(awk -F, '$2 == "rollout_weight" && ($(NF-2) != "" || $NF != "") { n++ } END { print n + 0 }' "$T/tf.csv")" 0
eq "attention weights are unsigned and below 1" \
	"$(awk -F, '$2 ~ /weight/ { for (i = 4; i <= NF - 4; i++) if ($i < 0 || $i > 1) n++ } END { print n + 0 }' "$T/tf.csv")" 0
if /usr/bin/python3 -c 1 2>/dev/null; then
	eq "the JSON table is the CSV's" "$(/usr/bin/python3 - "$T/tf.json" "$T/tf.csv" <<'EOF'
import csv, json, sys
j = json.load(open(sys.argv[1]))
rows = [r for r in csv.DictReader(open(sys.argv[2])) if r["method"] == "ig"]
bad = 0
for p, r in zip(j["patients"], rows):
    bad += p["id"] != r["id"] or p["network"] != r["network"]
    bad += any(abs(p["ig"][c] - float(r[c])) > 1e-7 for c in j["columns"])
    bad += abs(p["baseline_logit"] + sum(p["ig"].values()) - p["logit"]) > 1e-3
print(len(j["patients"]), j["methods"], bad)
EOF
)" "418 ['ig', 'attention_weight', 'rollout_weight'] 0"
else
	skip "the JSON table is the CSV's" "/usr/bin/python3 is absent"
fi
run explain "$F" --model lr --patients 1,5 --csv - -q
eq "--patients with --csv -: two rows on standard output" "$(printf '%s\n' "$OUT" | tail -n +2 | cut -d, -f1 | tr '\n' ' ')" "1 5 "

# ---- new patients: the final model, nothing stored ----
head -4 "$DATA/pbc.csv" >"$T/new.csv"
before=$(sq "SELECT count(*) FROM attributions")
run explain "$F" --model lr --input "$T/new.csv"
eq "--input: exit 0" "$RC" 0
printf '%s\n' "$OUT" >"$T/new_out.csv"
read -r n m me mt <<<"$(addup "$T/new_out.csv")"
eq "--input: three rows" "$n" 3
near "--input: every row adds up" "$m" 0 1e-5
eq "--input: every row by the final network" "$(tail -n +2 "$T/new_out.csv" | cut -d, -f3 | sort -u)" final
eq "--input: the logits are lumen predict --input's" \
	"$(awk -F, 'NR > 1 { printf "%s %.5f\n", $1, $(NF - 3) }' "$T/new_out.csv")" \
	"$("$LUMEN" predict "$F" --model lr --input "$T/new.csv" | awk -F, 'NR > 1 { printf "%s %.5f\n", $1, $3 }')"
eq "--input stores nothing" "$(sq "SELECT count(*) FROM attributions")" "$before"
eq "--input is in the access log" "$(sq "SELECT detail FROM access_log WHERE action = 'explain' ORDER BY id DESC LIMIT 1")" \
	"model=lr input=$T/new.csv patients=3"
run explain "$F" --model lr --input "$T/new.csv" --patient 2
eq "--input --patient: exit 0" "$RC" 0
contains "--input --patient: says it is a new patient and the final model" "$OUT" \
	"Patient 2 (new: $T/new.csv line 3, not in the workbench): model lr (logreg), status"
contains "--input --patient: from the final model" "$OUT" "from the final model (refit on all patients)"
contains "--input --patient: the reasons add up" "$OUT" "= $(printf '%+.3f' "$(sed -n 3p "$T/new_out.csv" | awk -F, '{ print $(NF - 3) }')")"
run explain "$F" --model tf --input "$T/new.csv" --json-out "$T/new.json"
eq "--input transformer --json-out: exit 0" "$RC" 0
contains "--input: the JSON says new patients" "$(cat "$T/new.json")" '"new_patients":true'

# a file too short to show a column's type (sex only "f" reads as a boolean on its own): the
# cohort's text columns stay text, so two rows score as they do among three
head -3 "$DATA/pbc.csv" >"$T/two.csv"
eq "two rows of women: the scores of the same rows in a longer file" \
	"$("$LUMEN" explain "$F" --model lr --input "$T/two.csv" | cut -d, -f1,21)" \
	"$(head -3 "$T/new_out.csv" | cut -d, -f1,21)"
eq "... and lumen predict --input agrees" "$("$LUMEN" predict "$F" --model lr --input "$T/two.csv" | tail -n +2)" \
	"$("$LUMEN" predict "$F" --model lr --input "$T/new.csv" | sed -n 2,3p)"

# ---- bad NEW.csv: one line naming file, line and column; nothing written ----
cut -d, -f1-5,7- "$T/new.csv" >"$T/nosex.csv"
run explain "$F" --model lr --input "$T/nosex.csv" --csv "$T/bad.csv"
eq "missing column: 65 and the header line" "$RC/$ERR" "65/lumen: explain: $T/nosex.csv:1: no column 'sex' (model 'lr' needs it)"
check "missing column: no output file" test ! -e "$T/bad.csv"
sed '1s/$/,extra/; 2,$s/$/,1/' "$T/new.csv" >"$T/extra.csv"
run explain "$F" --model lr --input "$T/extra.csv" --csv "$T/bad.csv"
eq "extra column: line 1 and its position" "$RC/$ERR" "65/lumen: explain: $T/extra.csv:1:21: column 'extra' is not a column of the cohort (check the header)"
check "extra column: no output file" test ! -e "$T/bad.csv"
sed 's/,14.5,/,high,/' "$T/new.csv" >"$T/text.csv"
run explain "$F" --model lr --input "$T/text.csv"
eq "text in a numeric column" "$RC/$ERR" "65/lumen: explain: $T/text.csv:2:11: column 'bili': 'high' is not a number (the cohort's column is real)"
sed '3s/"f"/"x"/' "$T/new.csv" >"$T/cat.csv"
run explain "$F" --model lr --input "$T/cat.csv"
eq "a category the cohort never had" "$RC/$ERR" "65/lumen: explain: $T/cat.csv:3:6: column 'sex': 'x' is not a category of the cohort (f, m)"
sed '2s/,1,1,1,1,14.5/,1,1,3,1,14.5/' "$T/new.csv" >"$T/bool.csv"
run explain "$F" --model lr --input "$T/bool.csv"
eq "a boolean that is not 0/1" "$RC/$ERR" "65/lumen: explain: $T/bool.csv:2:9: column 'spiders': '3' is not 0 or 1 (the cohort's column is boolean)"
run explain "$F" --model lr --input "$T/new.csv" --patient 99
eq "--input --patient unknown" "$RC/$ERR" "65/lumen: explain: $T/new.csv: no patient with id '99'"
run explain "$F" --model lr --csv "$T/nodir/x.csv" -q
eq "unwritable --csv: 73 before anything is computed" "$RC/$ERR" "73/lumen: explain: $T/nodir/x.csv: cannot write"
run explain "$F" --model lr --id id
eq "--id without --input: usage" "$RC" 64
