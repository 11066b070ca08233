# Reports: shipped scripts against expected outputs and independent numbers (sqlite3 on the
# same file, the model's stored metrics, `lumen predict`), the three formats, the reports table.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/workbench.bash"
make_wb "$T/wb.lumen" 30
# logreg is solved exactly; --l2 0.1 keeps the optimum on 15 patients a fold moderate
"$LUMEN" train "$T/wb.lumen" --model logreg --target status --positive 2 --name lr --folds 2 \
	--l2 0.1 --seed 1 --features age,bili,albumin,sex,edema >/dev/null 2>&1
eq "trained a model for the reports" "$?" 0
EXP="$TOP/tests/lua/expected"
q() { sqlite3 "$T/wb.lumen" "$1"; }

# cohort_summary: Markdown as expected; its mean age (filtered) agrees with SQL
run report "$T/wb.lumen" cohort_summary 'age > 50'
eq "cohort_summary: status" "$RC" 0
eq "cohort_summary: as expected" "$OUT" "$(cat "$EXP/cohort_summary.md")"
sql_mean=$(q "SELECT printf('%.2f', avg(age)) FROM patients WHERE age > 50")
contains "cohort_summary: mean age as SQL" "$OUT" "| age | feature | 0 | $sql_mean |"
contains "cohort_summary: count as SQL" "$OUT" "$(q "SELECT count(*) FROM patients WHERE age > 50") of 30 patients"

# HTML: the same report, well-formed, charts inline
run report "$T/wb.lumen" cohort_summary -o "$T/summary.html"
eq "html: status" "$RC" 0
eq "html: nothing on stdout" "$OUT" ""
contains "html: inline svg" "$(cat "$T/summary.html")" '<svg xmlns="http://www.w3.org/2000/svg"'
if command -v xmllint >/dev/null; then
	check "html: well-formed (xmllint)" xmllint --noout "$T/summary.html"
else
	skip "html: well-formed (xmllint)" "xmllint not installed"
fi
if /usr/bin/python3 -c 'import html.parser' 2>/dev/null; then
	check "html: tags balance (python html.parser)" /usr/bin/python3 "$TOP/tests/lua/html_balance.py" \
		"$T/summary.html"
else
	skip "html: tags balance" "/usr/bin/python3 missing"
fi
# escaping: text from a script cannot inject markup
printf 'report.title("a <b> & \\"c\\"")\nreport.table({{x = "<script>alert(1)</script>"}})\nreport.bar{title = "<t>", labels = {"<l>"}, values = {1}}\n' >"$T/esc.lua"
run report "$T/wb.lumen" "$T/esc.lua" -o "$T/esc.html"
html=$(cat "$T/esc.html")
contains "html: title escaped" "$html" "<h1>a &lt;b&gt; &amp; &quot;c&quot;</h1>"
contains "html: cell escaped" "$html" "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"
contains "html: svg label escaped" "$html" ">&lt;l&gt;</text>"
wellformed "html: escaped file well-formed" "$T/esc.html"

# CSV: the tables only, RFC 4180 quoting
printf 'report.paragraph("not in csv")\nreport.table({{"a","b"},{1,"x,y"},{2,"say \\"hi\\""}})\nreport.table({{"c"},{3}})\n' >"$T/t.lua"
run report "$T/wb.lumen" "$T/t.lua" --format csv
eq "csv: tables" "$(printf '%s' "$OUT" | tr -d '\r')" "$(printf 'a,b\n1,"x,y"\n2,"say ""hi"""\n\nc\n3')"
run report "$T/wb.lumen" "$T/t.lua" -o "$T/t.csv"
eq "csv: from the extension" "$(head -n 1 "$T/t.csv" | tr -d '\r')" "a,b"

# every run is recorded with the sha256 of its output
eq "reports table: rows" "$(q "SELECT count(*) FROM reports")" 5
eq "reports table: sha256 of the html" "$(q "SELECT sha256 FROM reports WHERE output = '$T/summary.html'")" \
	"$(sha256sum "$T/summary.html" | cut -d' ' -f1)"
eq "reports table: args" "$(q "SELECT args FROM reports WHERE script = 'cohort_summary' AND output = '-'")" '["age > 50"]'
eq "access log" "$(q "SELECT count(*) FROM access_log WHERE action = 'report'")" 5

# an output in a missing directory: an error, nothing recorded
run report "$T/wb.lumen" cohort_summary -o "$T/nodir/x.html"
eq "unwritable output: status" "$RC" 73
contains "unwritable output: message" "$ERR" "lumen: report: $T/nodir/x.html:"
eq "unwritable output: not recorded" "$(q "SELECT count(*) FROM reports")" 5
run report "$T/wb.lumen" cohort_summary --format pdf
eq "bad format: usage" "$RC" 64

# bias_audit: the audit module's figures (lumen.audit), as `lumen audit --json` prints them
auc=$(q "SELECT printf('%.3f', json_extract(metrics, '$.pooled.auc')) FROM models WHERE name = 'lr'")
run report "$T/wb.lumen" bias_audit lr sex 0.5 200
eq "bias_audit: status" "$RC" 0
eq "bias_audit: as expected" "$OUT" "$(cat "$EXP/bias_audit.md")"
contains "bias_audit: overall AUC as stored" "$OUT" "Whole cohort, as stored by lumen train: AUC $auc,"
contains "bias_audit: the CLI command" "$OUT" \
	'`lumen audit FILE --model lr --by sex --threshold 0.5 --bootstrap 200 --seed 1`'
contains "bias_audit: nothing judged" "$OUT" "No disparity can be judged: every group other than the reference"
contains "bias_audit: small groups marked" "$OUT" "Too small to judge (under 30 patients): f (26), m (4)."
contains "bias_audit: no attributions, the CLI's one line" "$OUT" "$(printf '%s\n\n%s' \
	"## Why the groups differ" \
	"No integrated-gradient attributions stored for this model (lumen explain adds them).")"
# every figure, flag and mark of the report against `lumen audit --json` with the same
# arguments; on 200 patients (model bili_risk, see workbench.bash) age bands give flags of both
# signs, significant and not, and a group too small to judge
make_wb "$T/wb2.lumen" 200
audit_check() { # DESC WB MODEL BY WANT CLI-ARGS... -- REPORT-ARGS...
	local desc=$1 wb=$2 model=$3 by=$4 want=$5
	shift 5
	local cli=()
	while [ "$1" != -- ]; do cli+=("$1"); shift; done
	shift
	"$LUMEN" audit "$wb" --model "$model" --by "$by" "${cli[@]}" --json >"$T/ba.json" 2>/dev/null
	"$LUMEN" report "$wb" bias_audit "$@" >"$T/ba.md" 2>/dev/null
	eq "bias_audit = lumen audit --json: $desc" \
		"$(python3 "$TOP/tests/lua/bias_audit_check.py" "$T/ba.json" "$T/ba.md" "$by" 2>&1)" "$want"
}
if python3 -c 'import json' 2>/dev/null; then
	audit_check "age bands, bootstrap 200" "$T/wb2.lumen" bili_risk age "$(printf '%s\n' \
		"classification: 45 figures, 0 differ" "calibration: 37 figures, 0 differ" \
		"intervals: 25 figures, 0 differ" "disparities: 9 figures, 0 differ" \
		"summary: 10 figures, 0 differ" "thresholds: 29 figures, 0 differ" \
		"charts: 68 figures, 0 differ" "why: 1 figures, 0 differ")" \
		--bins age=40,50,60 --bootstrap 200 --seed 1 -- bili_risk age 0.5 200 bins=age=40,50,60
	audit_check "youden, reference, tolerance, seed" "$T/wb2.lumen" bili_risk age \
		"$(printf '%s\n' "classification: 34 figures, 0 differ" "calibration: 28 figures, 0 differ" \
		"intervals: 19 figures, 0 differ" "disparities: 8 figures, 0 differ" \
		"summary: 10 figures, 0 differ" "thresholds: 22 figures, 0 differ" \
		"charts: 52 figures, 0 differ" "why: 1 figures, 0 differ")" \
		--bins age=45,55 --threshold youden --reference 'age 45-55' --tolerance 0.9 \
		--bootstrap 50 --seed 7 -- model=bili_risk by=age bins=age=45,55 threshold=youden \
		'reference=age 45-55' tolerance=0.9 bootstrap=50 seed=7
	audit_check "lr by sex, no bootstrap" "$T/wb.lumen" lr sex "$(printf '%s\n' \
		"classification: 23 figures, 0 differ" "calibration: 19 figures, 0 differ" \
		"disparities: 1 figures, 0 differ" "summary: 10 figures, 0 differ" \
		"thresholds: 15 figures, 0 differ" "charts: 36 figures, 0 differ" \
		"why: 1 figures, 0 differ")" \
		--threshold 0.3 -- lr sex 0.3 0
	# "Why the groups differ" with stored IG attributions: a model trained and explained on
	# the 200 patients; its top inputs overall and per age band, the charts and the warning
	# (age, the grouping column, is among the top inputs: #3 of the solved logreg, --l2 0.1)
	"$LUMEN" train "$T/wb2.lumen" --model logreg --target status --positive 2 --name lr2 \
		--folds 2 --l2 0.1 --seed 1 --features age,bili,albumin,sex,edema >/dev/null 2>&1 &&
		"$LUMEN" explain "$T/wb2.lumen" --model lr2 --method ig --steps 16 --quiet >/dev/null 2>&1
	eq "trained and explained lr2" "$?" 0
	audit_check "why the groups differ, with attributions" "$T/wb2.lumen" lr2 age \
		"$(printf '%s\n' "classification: 34 figures, 0 differ" "calibration: 28 figures, 0 differ" \
		"disparities: 8 figures, 0 differ" "summary: 10 figures, 0 differ" \
		"thresholds: 22 figures, 0 differ" "charts: 52 figures, 0 differ" \
		"why: 66 figures, 0 differ")" \
		--bins age=45,55 -- lr2 age 0.5 0 bins=age=45,55
	run audit "$T/wb2.lumen" --model lr2 --by age --bins age=45,55
	# (each patient explained by the fold model that held it out)
	w='! warning: age, a grouping column, is input #3 of the model'
	contains "lumen audit: age warned as the top input" "$OUT" "$w"
	contains "bias_audit: the same warning" "$(cat "$T/ba.md")" "$w"
	run report "$T/wb2.lumen" bias_audit lr2 age 0.5 0 bins=age=45,55 -o "$T/why.html"
	wellformed "bias_audit html with attribution charts: well-formed" "$T/why.html"
	eq "bias_audit html: four charts and one attribution chart per age band" \
		"$(grep -o '<svg ' "$T/why.html" | wc -l | tr -d ' ')" 7
else
	skip "bias_audit = lumen audit --json" "python3 missing"
fi
# the HTML: well-formed, the four charts inline
run report "$T/wb2.lumen" bias_audit bili_risk age 0.5 100 bins=age=40,50,60 -o "$T/audit.html"
eq "bias_audit html: status" "$RC" 0
wellformed "bias_audit html: well-formed (xmllint)" "$T/audit.html"
if /usr/bin/python3 -c 'import html.parser' 2>/dev/null; then
	check "bias_audit html: tags balance" /usr/bin/python3 "$TOP/tests/lua/html_balance.py" \
		"$T/audit.html"
else
	skip "bias_audit html: tags balance" "/usr/bin/python3 missing"
fi
eq "bias_audit html: four charts" "$(grep -c '<svg xmlns' "$T/audit.html")" 4
html=$(cat "$T/audit.html")
contains "bias_audit html: flag with its sign" "$html" "<td>▲ above 1.25</td>"
contains "bias_audit html: significant" "$html" "<td>significant</td>"
contains "bias_audit html: small group" "$html" "<td>age&lt;40 ?</td>"
# bad arguments: one line naming the report's line
line=$(grep -n 'the threshold must be youden' "$TOP/lua/reports/bias_audit.lua" | cut -d: -f1)
run report "$T/wb.lumen" bias_audit lr sex 2
eq "bias_audit: bad threshold" "$RC" 65
eq "bias_audit: bad threshold message" "$ERR" \
	"lumen: report: bias_audit.lua:$line: the threshold must be youden or a number between 0 and 1"
run report "$T/wb.lumen" bias_audit lr sex 0.5 lots
eq "bias_audit: bad bootstrap" "$ERR" \
	"lumen: report: bias_audit.lua:$(grep -n 'must be a whole number >= 0' "$TOP/lua/reports/bias_audit.lua" | cut -d: -f1): bootstrap must be a whole number >= 0 (got 'lots')"
run report "$T/wb.lumen" bias_audit lr sex 0.5 10 extra
contains "bias_audit: too many arguments" "$ERR" "too many arguments: 'extra'"
run report "$T/wb.lumen" bias_audit lr nope
eq "bias_audit: unknown column: status" "$RC" 65
contains "bias_audit: unknown column: from lumen.audit" "$ERR" "lumen.audit: "

# model_card has every section of Mitchell et al.
run report "$T/wb.lumen" model_card lr
eq "model_card: status" "$RC" 0
for s in "Model details" "Intended use" "Factors" "Metrics" "Evaluation data" "Training data" \
	"Ethical considerations" "Caveats and recommendations"; do
	contains "model_card: $s" "$OUT" "## $s"
done
contains "model_card: AUC" "$OUT" "| auc | $auc |"
contains "model_card: small group caveat" "$OUT" "Small groups, whose metrics are uncertain: f (26), m (4)."

# patient_explanations: the top patients by risk, as SQL orders them
run report "$T/wb.lumen" patient_explanations 3 lr
eq "patient_explanations: status" "$RC" 0
top=$(q "SELECT group_concat(id, ' ') FROM (SELECT p.id FROM predictions r JOIN patients p ON p.rowid = r.patient JOIN models m ON m.id = r.model_id WHERE m.name = 'lr' ORDER BY r.p DESC, p.rowid LIMIT 3)")
got=$(printf '%s\n' "$OUT" | grep -E '^\| [0-9]+ \| ' | cut -d'|' -f3 | tr -d ' ' | tr '\n' ' ' | sed 's/ $//')
eq "patient_explanations: top 3 ids" "$got" "$top"
contains "patient_explanations: attribution chart" "$OUT" "(attributions)"

# model:predict gives the shown risk (a cohort patient: its fold model's out-of-fold p, as
# lumen predict's oof_p); explain is complete (sum = logit - baseline logit)
"$LUMEN" predict "$T/wb.lumen" --model lr --csv "$T/pred.csv" >/dev/null 2>&1
want=$(awk -F, 'NR == 2 { print $4 }' "$T/pred.csv") # the stored out-of-fold p: the risk shown
cat >"$T/pe.lua" <<'LUA'
local m = lumen.model("lr")
for p in lumen.patients() do
	local prob, logit = m:predict(p)
	local e = m:explain(p, {steps = 32})
	local s = 0
	for _, a in ipairs(e) do s = s + a.attribution end
	for k = 2, #e do assert(math.abs(e[k].attribution) <= math.abs(e[k - 1].attribution)) end
	local w = lumen.record(p)
	w.bili = w.bili * 4
	local prob2 = m:predict(w)
	report.paragraph(string.format("%.6f %.6f %.4f %s %d", prob, e.prob,
		math.abs(s - (e.logit - e.baseline_logit)), tostring(prob2 > prob), e.steps))
	break
end
LUA
run report "$T/wb.lumen" "$T/pe.lua"
read -r p_pred p_expl compl whatif steps <<<"$OUT"
near "predict = lumen predict" "$p_pred" "$want" 0.000002
near "explain prob = predict" "$p_expl" "$want" 0.000002
near "explain completeness" "$compl" 0 0.001
eq "what-if: higher bilirubin raises the risk" "$whatif" true
eq "explain steps" "$steps" 32
printf 'lumen.model("lr"):explain(5)\n' >"$T/bad.lua"
run report "$T/wb.lumen" "$T/bad.lua"
eq "explain of a number" "$ERR" "lumen: report: bad.lua:1: model:explain(): wants a patient or a table of values (got a number)"
printf 'lumen.model("lr"):predict({age = "old"})\n' >"$T/bad.lua"
run report "$T/wb.lumen" "$T/bad.lua"
eq "predict with a wrong type" "$ERR" "lumen: report: bad.lua:1: model:predict(): 'age' must be a number (got a string)"
printf 'lumen.model("lr"):explain(lumen.record(lumen.patients()()), {steps = 0})\n' >"$T/bad.lua"
run report "$T/wb.lumen" "$T/bad.lua"
eq "explain steps 0" "$ERR" "lumen: report: bad.lua:1: model:explain(): steps must be an integer from 1 to 512"
