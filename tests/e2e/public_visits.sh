#!/bin/bash
# The world's data, over visits: the CSL1 trial of prednisone in liver cirrhosis (timereg's
# csl: 446 patients, 2,481 prothrombin measurements, from Debian's r-cran-timereg), written
# out as its users would (write.csv: one patient table, one long visits table), imported,
# and read by the sequence models: a GRU and a CNN-GRU beat the static mlp out of fold (the
# prothrombin course carries what the baseline value lacks), integrated gradients over the
# visits add up for every patient, the patient view names the visit that moved the risk
# most, and new patients with their visits get the stored final model's risk. Skips with a
# message when R or timereg is absent.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1

if ! command -v Rscript >/dev/null 2>&1; then
	skip "public visit cohorts from R" "Rscript is not installed (Debian r-base-core, r-cran-timereg)"
	echo "1..$T_N"
	exit 0
fi
Rscript - >r.log 2>&1 <<'R'
if (requireNamespace("timereg", quietly = TRUE)) {
	e <- new.env(); utils::data("csl", package = "timereg", envir = e); d <- e$csl
	p <- d[!duplicated(d$id), c("id", "sex", "age", "treat", "prot.base", "dc", "eventT")]
	write.csv(p, "patients.csv", row.names = FALSE)
	write.csv(d[, c("id", "time", "prot")], "visits.csv", row.names = FALSE)
}
R
if [ ! -s patients.csv ]; then
	skip "csl (timereg) over visits" "the R package timereg is not installed (Debian r-cran-timereg)"
	echo "1..$T_N"
	exit 0
fi
W=$T/csl.lumen
sq() { sqlite3 "$W" "$1"; }

run import patients.csv --visits visits.csv -o "$W" --target dc --time eventT --event dc \
	--group sex --treatment treat
eq "import csl with its visits" "$RC/$(printf '%s\n' "$OUT" | head -2 | tr '\n' '|')" \
	"0/$W: 446 patients, 7 columns; 2481 visits, 3 columns|patient ids: column 'id'|"
eq "every visit linked to its patient" "$(sq "SELECT count(*), count(DISTINCT __patient) FROM visits")" "2481|446"

for a in mlp gru cnn-gru; do
	run train "$W" --model $a --target dc --exclude eventT --max-visits 12 --quiet --name $a
	eq "train $a: exit 0" "$RC" 0
done
auc() { sq "SELECT printf('%.3f', json_extract(metrics, '$.pooled.auc')) FROM models WHERE name = '$1'"; }
m=$(auc mlp) g=$(auc gru) c=$(auc cnn-gru)
check "gru out of fold beats the static mlp (AUC $g vs $m)" awk -v g="$g" -v m="$m" 'BEGIN { exit !(g > m + 0.03) }'
check "cnn-gru out of fold beats the static mlp (AUC $c vs $m)" awk -v g="$c" -v m="$m" 'BEGIN { exit !(g > m + 0.03) }'
check "gru out-of-fold AUC above 0.72 ($g)" awk -v g="$g" 'BEGIN { exit !(g > 0.72) }'
eq "the GRU's inputs: the static columns, then prothrombin and the visit times per step" \
	"$(sq "SELECT group_concat(json_extract(j.value, '$.column'), ' ') FROM models m, json_each(m.inputs) j WHERE m.name = 'gru'")" \
	"sex age treat prot.base visits.prot visits.dt_prev visits.dt_first visits.present"

# integrated gradients over visits and static inputs: every patient adds up
run explain "$W" --model gru --csv "$T/x.csv"
eq "explain gru: exit 0" "$RC" 0
bad=$(/usr/bin/python3 - "$T/x.csv" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["method"] == "ig"]
bad = sum(abs(float(r["baseline_logit"]) + float(r["sum"]) - float(r["logit"])) > float(r["delta"]) + 1e-4 for r in rows)
print(len(rows), bad)
PY
)
eq "explain gru: 446 rows, every one adds up (baseline + sum = logit within its delta)" "$bad" "446 0"
med=$(sq "SELECT delta FROM attributions a JOIN models m ON m.id = a.model_id WHERE m.name = 'gru' AND a.method = 'ig' ORDER BY delta LIMIT 1 OFFSET 223")
check "median completeness error below 0.005 ($med)" awk -v d="$med" 'BEGIN { exit !(d < 0.005) }'
# the number shown is the number explained: the stored logit is the stored risk's
eq "stored attributions' logit = logit of the stored risk, every patient" \
	"$(sq "SELECT count(*) FROM attributions a JOIN predictions p ON p.model_id = a.model_id AND p.patient = a.patient JOIN models m ON m.id = a.model_id WHERE m.name = 'gru' AND a.method = 'ig' AND abs(a.logit - ln(p.p / (1 - p.p))) > 1e-4")" 0

# patient 2: 11 prothrombin measurements, all read (12 steps)
run explain "$W" --model gru --patient 2 --json
chk=$(printf '%s' "$OUT" | /usr/bin/python3 "$TOP/tests/e2e/visits_json.py")
set -- $chk
eq "patient 2: one matrix row per measurement" "${1:-}" 11
eq "patient 2: top is the visit of the largest |attribution|" "${2:-}" 1
near "patient 2: visits + padded + static = logit - baseline" "${3:-}" 0 0.01
eq "patient 2: the lab of the matrix" "${4:-}" prot
run explain "$W" --model gru --patient 2
contains "patient 2: the visits read" "$OUT" "Visits read: 11 (the last of the patient's 11)"
contains "patient 2: the visit that moved the risk most" "$OUT" "<- moved the risk most"

# new patients with their visits: predict --input scores them with the final model; a patient
# given without visits gets an empty sequence and another risk
head -11 patients.csv >new.csv
awk -F, 'NR == 1 || ($1 + 0 >= 1 && $1 + 0 <= 10)' visits.csv >newv.csv
run predict "$W" --model gru --input new.csv --input-visits newv.csv --json
eq "predict --input --input-visits: exit 0" "$RC" 0
P1=$(printf '%s' "$OUT" | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print(len(r), "%.4f" % r[1]["p"])')
run explain "$W" --model gru --input new.csv --input-visits newv.csv --csv "$T/n.csv"
E1=$(/usr/bin/python3 - "$T/n.csv" <<'PY'
import csv, math, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["method"] == "ig"]
print(len(rows), "%.4f" % (1 / (1 + math.exp(-float(rows[1]["logit"])))))
PY
)
eq "explain --input explains the risk predict --input gives (10 patients)" "$E1" "$P1"
# a new patient with visits explained over the visits read, as a cohort patient is
run explain "$W" --model gru --input new.csv --input-visits newv.csv --patient 2
contains "new patient 2: the visits read" "$OUT" "Visits read: 11 (the last of the patient's 11)"
contains "new patient 2: the visit that moved the risk most" "$OUT" "<- moved the risk most"
contains "new patient 2: a lab over the visits, summed" "$OUT" "11 visits (summed over them)"
run explain "$W" --model gru --input new.csv --input-visits newv.csv --patient 2 --json
chk=$(printf '%s' "$OUT" | /usr/bin/python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["patients"][0]))' |
	/usr/bin/python3 "$TOP/tests/e2e/visits_json.py")
set -- $chk
eq "new patient 2 (json): one matrix row per measurement" "${1:-}" 11
eq "new patient 2 (json): top is the visit of the largest |attribution|" "${2:-}" 1
near "new patient 2 (json): visits + padded + static = logit - baseline" "${3:-}" 0 0.01
run explain "$W" --model gru --input new.csv --patient 2
contains "new patient 2 without its visits: an empty sequence" "$OUT" "Visits read: none (an empty sequence)"
run train "$W" --model gru --attention --target dc --exclude eventT --max-visits 12 --quiet --name gru-att
run explain "$W" --model gru-att --input new.csv --input-visits newv.csv --patient 2
contains "new patient 2, a GRU with attention: its weights per visit" "$OUT" "Attention over visits (unsigned: where the model looked, not a direction): most on visit"
run predict "$W" --model gru --input new.csv --json
P0=$(printf '%s' "$OUT" | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print(len(r), "%.4f" % r[1]["p"])')
check "without their visits the same patients get other risks ($P0 vs $P1)" [ "$P0" != "$P1" ]

echo "1..$T_N"
