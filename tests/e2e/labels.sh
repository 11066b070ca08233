# tests/e2e/labels.sh: clinical words for columns (lumen label, lumen import --labels): what
# is stored and logged, what lumen info, lumen explain, the reports and Lua show, and bad
# input (one line naming the file, line and column; nothing written).
. "$(dirname "$0")/../lib.sh"
F=$T/pbc.lumen
q() { sqlite3 "$F" "$1"; }

run import "$DATA/pbc.csv" -o "$F" --target status --group sex --time time --event status \
	--treatment trt --labels "$DATA/pbc_labels.csv"
eq "import --labels: status 0" "$RC" "0"
contains "import --labels says how many columns got words" "$OUT" "labels: 20 columns from $DATA/pbc_labels.csv"
eq "the labels are stored" "$(q "SELECT label, unit FROM column_labels WHERE name = 'bili'")" "Serum bilirubin|mg/dl"
eq "columns.label mirrors them" "$(q "SELECT label FROM columns WHERE dataset = 'patients' AND name = 'protime'")" "Prothrombin time"
eq "value labels as JSON" "$(q "SELECT value_labels FROM column_labels WHERE name = 'trt'")" \
	'[{"code":"1","label":"D-penicillamine"},{"code":"2","label":"placebo"}]'
eq "the import of the labels is logged" "$(q "SELECT detail FROM access_log WHERE action = 'labels'")" \
	"$DATA/pbc_labels.csv: 20 columns"
eq "one log row per column labelled" "$(q "SELECT count(*) FROM access_log WHERE action = 'label'")" "20"

# lumen info lists them, in text and JSON
run info "$F"
contains "info: the labels section" "$OUT" "patients labels"
contains "info: label and unit" "$OUT" "protime          Prothrombin time (s)"
contains "info: value names" "$OUT" "trt              Treatment: 1 = D-penicillamine, 2 = placebo"
contains "info: a text column's value names" "$OUT" "sex              Sex: m = male, f = female"
contains "info: a long list of names wraps under the label" "$OUT" "edema            Oedema: 0 = none, 0.5 = untreated or resolved, 1 = despite
                 diuretics"
eq "info: within 80 columns (after the first line, which names the file)" "$(printf '%s\n' "$OUT" | sed 1d | python3 -X utf8 -c 'import sys; print(max(len(l) for l in sys.stdin.read().split("\n")) <= 80)')" "True"
J=$("$LUMEN" info "$F" --json)
eq "info --json: label, unit and values" "$(printf '%s' "$J" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = {c["name"]: c for c in d["datasets"][0]["column_info"]}
print(c["bili"]["label"], c["bili"]["unit"], c["edema"]["values"][1]["code"], c["edema"]["values"][1]["label"], "unit" in c["trt"])')" \
	"Serum bilirubin mg/dl 0.5 untreated or resolved False"

# lumen label: a change, what it prints, what it logs
run label "$F" protime --text "Prothrombin time (INR-standardised)" --unit s
eq "label: status 0" "$RC" "0"
eq "label: prints the column's words" "$OUT" "patients.protime: Prothrombin time (INR-standardised) (s)"
eq "label: the change is logged with old and new" "$(q "SELECT detail FROM access_log WHERE action = 'label' ORDER BY id DESC LIMIT 1")" \
	"patients.protime: label 'Prothrombin time' -> 'Prothrombin time (INR-standardised)'"
eq "label: the log row names the user" "$(q "SELECT user FROM access_log WHERE action = 'label' ORDER BY id DESC LIMIT 1")" "tester"
run label "$F" protime --text "Prothrombin time"
run label "$F" stage --values "1=I,2=II,3=III,4=IV"
eq "label --values on an integer column" "$OUT" "patients.stage: Histologic stage; 1 = I, 2 = II, 3 = III, 4 = IV"
run label "$F" stage --values ""
eq "label --values '' clears them" "$(q "SELECT value_labels IS NULL FROM column_labels WHERE name = 'stage'")" "1"
run label "$F" day --visits --text "Day of the visit" --unit days
eq "label --visits without visits: one line" "$RC/$ERR" "65/lumen: label: $F: the workbench has no visits"

# bad input: one line with the place, status 65, nothing written
n0=$(q "SELECT count(*) FROM access_log")
l0=$(q "SELECT group_concat(label || unit || ifnull(value_labels, ''), ';') FROM column_labels")
run label "$F" nosuch --text X
eq "label: unknown column" "$RC/$ERR" "65/lumen: label: $F: no column 'nosuch' in patients"
run label "$F" trt --values "1=D-penicillamine,3=other"
eq "label: a value the column never has" "$RC/$ERR" "65/lumen: label: $F: values: column 'trt' never has the value '3' (label 'other')"
run label "$F" sex --values "f=female,x=unknown"
eq "label: a text category the column never has" "$RC/$ERR" "65/lumen: label: $F: values: column 'sex' never has the value 'x' (label 'unknown')"
run label "$F" age --values "old=over 65"
eq "label: a code that is no number for a numeric column" "$RC/$ERR" "65/lumen: label: $F: values: code 'old' is not a number (age is a real column)"
run label "$F" trt --values "1"
eq "label: a value without its name" "$RC" "65"
contains "label: says the form" "$ERR" "is not CODE=LABEL"
run label "$F" trt
eq "label: nothing to change is a usage error" "$RC" "64"
run label "$T/none.lumen" trt --text X
eq "label: a missing workbench" "$RC" "66"
eq "bad input wrote nothing (log)" "$(q "SELECT count(*) FROM access_log")" "$n0"
eq "bad input wrote nothing (labels)" "$(q "SELECT group_concat(label || unit || ifnull(value_labels, ''), ';') FROM column_labels")" "$l0"

# a labels file with errors: the file, line and column of the bad field; no workbench left
G=$T/bad.lumen
printf 'column,label,unit,values\nbili,Serum bilirubin,mg/dl,\nnosuch,X,,\n' >"$T/l1.csv"
run import "$DATA/pbc.csv" -o "$G" --labels "$T/l1.csv"
eq "import --labels: unknown column at its line and column" "$RC/$ERR" "65/lumen: import: $T/l1.csv:3:1: no column 'nosuch' in patients"
check "import --labels: nothing written" test ! -e "$G"
printf 'column,label,unit,values\ntrt,Treatment,,"1=D-penicillamine,3=other"\n' >"$T/l2.csv"
run import "$DATA/pbc.csv" -o "$G" --labels "$T/l2.csv"
eq "import --labels: a value the column lacks, at the values field" "$RC/$ERR" \
	"65/lumen: import: $T/l2.csv:2:16: values: column 'trt' never has the value '3' (label 'other')"
check "import --labels: nothing written (2)" test ! -e "$G"
printf 'column,label,colour\n' >"$T/l3.csv"
run import "$DATA/pbc.csv" -o "$G" --labels "$T/l3.csv"
eq "import --labels: an unknown heading" "$RC/$ERR" "65/lumen: import: $T/l3.csv:1:14: unknown heading 'colour' (column, label, unit, values, dataset)"
printf 'label,unit\nX,s\n' >"$T/l4.csv"
run import "$DATA/pbc.csv" -o "$G" --labels "$T/l4.csv"
eq "import --labels: no column heading" "$RC/$ERR" "65/lumen: import: $T/l4.csv:1:1: no 'column' heading (the header is column,label,unit,values)"
run import "$DATA/pbc.csv" -o "$G" --labels "$T/absent.csv"
eq "import --labels: a missing labels file" "$RC" "66"
check "import --labels: nothing written (3)" test ! -e "$G"
run label "$F" --file "$T/l1.csv"
eq "label --file: the same checks" "$RC/$ERR" "65/lumen: label: $T/l1.csv:3:1: no column 'nosuch' in patients"
eq "label --file: nothing written" "$(q "SELECT count(*) FROM access_log")" "$n0"

# lumen explain in words: labels, units, value names, the outcome named
"$LUMEN" train "$F" --model logreg --target status --positive 2 --name lr --quiet >/dev/null
"$LUMEN" explain "$F" --model lr --quiet >/dev/null
run explain "$F" --model lr --patient 1
contains "explain: the outcome with its value's name" "$OUT" "Patient 1: model lr (logreg), risk of status = 2 (death)"
contains "explain: a lab by its label with its unit" "$OUT" "Serum bilirubin"
contains "explain: the value with its unit" "$OUT" "14.5 mg/dl"
contains "explain: a boolean as yes" "$OUT" "Ascites "
contains "explain: a coded category by its name" "$OUT" "D-penicillamine"
J=$("$LUMEN" explain "$F" --model lr --patient 1 --json)
eq "explain --json: code, words, label, unit" "$(printf '%s' "$J" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = {c["column"]: c for c in d["columns"]}
print(d["outcome"], "|", c["trt"]["value"], c["trt"]["value_text"], "|", c["bili"]["label"], c["bili"]["unit"], "|", c["ascites"]["value_text"], "share" in c["ascites"])')" \
	"status = 2 (death) | 1 D-penicillamine | Serum bilirubin mg/dl | yes True"
run explain "$F" --model lr --patient 313
contains "explain: a missing value reads missing" "$OUT" "missing"

# Lua: lumen.columns carries the words, lumen.text writes a value as the screens do
cat >"$T/words.lua" <<'LUA'
local byname = {}
for _, c in ipairs(lumen.columns()) do byname[c.name] = c end
local t = byname.trt
print(t.title, t.values[1].code, t.values[1].label, t.values[2].label, byname.bili.unit, byname.age.title)
print(lumen.text("bili", 14.5), lumen.text("trt", 2), lumen.text("alk.phos", 13862.4),
	lumen.text("chol", nil), lumen.text("ascites", 1), lumen.text("sex", "f"), lumen.text("age", 1e-7))
local e = lumen.model("lr"):explain(lumen.record(lumen.patients{where = "id == 1"}()))
for _, f in ipairs(e) do if f.column == "edema" then print(f.label, f.text) end end
LUA
run report "$F" "$T/words.lua"
# (print writes to stderr: the report itself is stdout)
eq "lua: column words" "$(printf '%s\n' "$ERR" | sed -n 1p)" "$(printf 'Treatment\t1\tD-penicillamine\tplacebo\tmg/dl\tAge')"
eq "lua: lumen.text (no e-notation, missing, names)" "$(printf '%s\n' "$ERR" | sed -n 2p)" \
	"$(printf '14.5 mg/dl\tplacebo\t13,862 U/l\tmissing\tyes\tfemale\t0.0000001 years')"
eq "lua: explain items in words" "$(printf '%s\n' "$ERR" | sed -n 3p)" "$(printf 'Oedema\tdespite diuretics')"
printf 'print(lumen.text("nosuch", 1))\n' >"$T/bad.lua"
run report "$F" "$T/bad.lua"
contains "lua: lumen.text on an unknown column" "$ERR" "lumen.text: no column 'nosuch'"

# the shipped report in words
run report "$F" patient_explanations 1 lr
contains "report: factors by label with value and unit" "$OUT" "Serum bilirubin 24.5 mg/dl"
case "$OUT" in *e-0[0-9]*) not_ok "report: no e-notation" ;; *) ok "report: no e-notation" ;; esac

# reports declare their arguments; lumen report FILE NAME --help lists them
run report "$F" patient_explanations --help
eq "report --help: status 0" "$RC" "0"
eq "report --help: the synopsis" "$(printf '%s\n' "$OUT" | sed -n 1p)" "usage: lumen report FILE.lumen patient_explanations [N] [MODEL] [-o OUT]"
contains "report --help: each argument" "$OUT" "  N              how many patients (default 10)"
run report "$F" bias_audit --help
contains "report --help: KEY= arguments" "$OUT" "  bins=          cut points"
for r in bias_audit cohort_summary model_card patient_explanations; do
	run report "$F" "$r" --help
	case "$OUT" in *"  "[A-Za-z]*" "*) ok "$r declares its arguments" ;; *) not_ok "$r declares its arguments" ;; esac
done
run report "$F" nosuch --help
eq "report --help: unknown script" "$RC" "66"

# a crafted column_labels (a file travels between colleagues): rows naming no column and
# value labels that are not the documented array are ignored, the rest still read
C=$T/crafted.lumen
cp "$F" "$C"
sqlite3 "$C" "INSERT INTO column_labels(dataset, name, label) VALUES('patients', 'no such column', 'X');
	UPDATE column_labels SET value_labels = '{\"not\": \"an array\"}' WHERE name = 'sex';
	UPDATE column_labels SET value_labels = '[{\"code\": 1}, \"junk\", {\"code\": \"2\", \"label\": \"placebo\"}]' WHERE name = 'trt'"
run info "$C"
eq "crafted labels: the file still opens" "$RC" "0"
contains "crafted labels: the well-formed entry is read, the others skipped" "$OUT" "trt              Treatment: 2 = placebo"
contains "crafted labels: a bad value list is ignored" "$OUT" "sex              Sex
"
run explain "$C" --model lr --patient 1
eq "crafted labels: explain runs" "$RC" "0"
sqlite3 "$C" "CREATE TRIGGER t AFTER INSERT ON column_labels BEGIN DELETE FROM access_log; END"
run label "$C" trt --text T
eq "crafted labels: a trigger on column_labels is refused like any" "$RC" "65"
