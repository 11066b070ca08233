# lumen.audit returns what `lumen audit --json` prints (audit.c), with the same options.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/workbench.bash"
make_wb "$T/wb.lumen" 60
cat >"$T/a.lua" <<'LUA'
local a = lumen.audit{model = "bili_risk", by = "sex", threshold = 0.5}
local s = a.summary
report.paragraph(string.format("%s %.9f %.9f %.9f", a.reference,
	s.demographic_parity_difference.value, s.equalized_odds_difference.value,
	s.equal_opportunity_difference.value))
for _, g in ipairs(a.groups) do
	report.paragraph(string.format("%s %d %.9f %.9f", g.group, g.n, g.metrics.tpr.value,
		g.metrics.selection_rate.value))
end
LUA
run report "$T/wb.lumen" "$T/a.lua"
eq "audit: status" "$RC" 0
"$LUMEN" audit "$T/wb.lumen" --model bili_risk --by sex --json >"$T/a.json" 2>/dev/null
want=$(python3 - "$T/a.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
print("%s %.9f %.9f %.9f" % (d["reference"], s["demographic_parity_difference"]["value"],
      s["equalized_odds_difference"]["value"], s["equal_opportunity_difference"]["value"]))
for g in d["groups"]:
    print()
    print("%s %d %.9f %.9f" % (g["group"], g["n"], g["metrics"]["tpr"]["value"],
          g["metrics"]["selection_rate"]["value"]))
PY
)
eq "audit: as lumen audit --json" "$(printf '%s\n' "$OUT" | sed -n '1,5p')" "$want"

# bins, threshold = "youden", reference, tolerance, bootstrap and left_out as the CLI's
cat >"$T/b.lua" <<'LUA'
local a = lumen.audit{model = "bili_risk", by = "sex,age", bins = {"age=50"}, threshold = "youden",
	reference = "sex=f,age>=50", tolerance = 0.9, bootstrap = 40, seed = 5}
local l = a.left_out
report.paragraph(string.format("%.9f %s %.9f %d %d %d %d %d", a.threshold, a.reference,
	a.tolerance, a.bootstrap, l.no_prediction, l.no_outcome, l.group_missing, l.empty_combinations))
for _, g in ipairs(a.groups) do
	local d = g.disparities.selection_rate
	report.paragraph(string.format("%s %d %s %.9f %.9f %.9f %d %s %.9f", g.group, g.n,
		tostring(g.too_small), g.metrics.fpr.value, g.metrics.fpr.lower, g.metrics.fpr.upper,
		d.flag, tostring(d.significant), g.thresholds.equal_opportunity))
end
LUA
sqlite3 "$T/wb.lumen" "UPDATE predictions SET p = NULL WHERE patient = 3; UPDATE predictions SET y = NULL WHERE patient = 4"
run report "$T/wb.lumen" "$T/b.lua"
eq "audit options: status" "$RC" 0
"$LUMEN" audit "$T/wb.lumen" --model bili_risk --by sex,age --bins age=50 --threshold youden \
	--reference 'sex=f,age>=50' --tolerance 0.9 --bootstrap 40 --seed 5 --json >"$T/b.json" 2>/dev/null
want=$(python3 - "$T/b.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
l = d["left_out"]
print("%.9f %s %.9f %d %d %d %d %d" % (d["threshold"], d["reference"], d["tolerance"],
      d["bootstrap"], l["no_prediction"], l["no_outcome"], l["group_missing"], l["empty_combinations"]))
for g in d["groups"]:
    m, s = g["metrics"]["fpr"], g["disparities"]["selection_rate"]
    print()
    print("%s %d %s %.9f %.9f %.9f %d %s %.9f" % (g["group"], g["n"], str(g["too_small"]).lower(),
          m["value"], m["lower"], m["upper"], s["flag"], str(s["significant"]).lower(),
          g["thresholds"]["equal_opportunity"]))
PY
)
eq "audit options: as lumen audit --json" "$OUT" "$want"
contains "audit options: the left-out patients counted" "$(printf '%s\n' "$OUT" | head -n 1)" " 1 1 0 0"
eq "audit options: four groups" "$(printf '%s\n' "$OUT" | grep -c '^sex=')" 4

bad() {
	printf '%s\n' "$3" >"$T/b.lua"
	run report "$T/wb.lumen" "$T/b.lua"
	eq "$1" "$ERR" "lumen: report: b.lua:1: $2"
}
bad "audit: no table" "bad argument #1 to 'audit' (table expected, got string)" 'lumen.audit("x")'
bad "audit: no model" "lumen.audit: which model? give model = NAME" 'lumen.audit{by = "sex"}'
bad "audit: by missing" 'lumen.audit: by must be a column name (or "a,b")' \
	'lumen.audit{model = "bili_risk"}'
bad "audit: threshold type" "lumen.audit: threshold must be a number (got a boolean)" \
	'lumen.audit{model = "bili_risk", by = "sex", threshold = true}'
bad "audit: unknown option" \
	"lumen.audit: unknown option 'grup' (model, by, bins, threshold, tolerance, bootstrap, seed, reference)" \
	'lumen.audit{model = "bili_risk", grup = "sex"}'
bad "audit: threshold word" "lumen.audit: threshold must be a number or \"youden\" (got 'high')" \
	'lumen.audit{model = "bili_risk", by = "sex", threshold = "high"}'
bad "audit: threshold range" 'lumen.audit: threshold must be "youden" or a number in (0,1)' \
	'lumen.audit{model = "bili_risk", by = "sex", threshold = 1}'
bad "audit: tolerance range" "lumen.audit: tolerance must be a number in (0,1)" \
	'lumen.audit{model = "bili_risk", by = "sex", tolerance = 1.25}'
bad "audit: bins type" 'lumen.audit: bins must be a string like "age=40,65" or a list of them (got a number)' \
	'lumen.audit{model = "bili_risk", by = "age", bins = 40}'
bad "audit: bins element" 'lumen.audit: bins[2] must be a string like "age=40,65" (got a boolean)' \
	'lumen.audit{model = "bili_risk", by = "age", bins = {"age=40", true}}'
bad "audit: reference type" 'lumen.audit: reference must be a group label like "sex=m"' \
	'lumen.audit{model = "bili_risk", by = "sex", reference = 1}'
bad "audit: unknown reference" "lumen.audit: no group 'sex=x'" \
	'lumen.audit{model = "bili_risk", by = "sex", reference = "sex=x"}'
printf 'lumen.audit{model = "bili_risk", by = "nope"}\n' >"$T/b.lua"
run report "$T/wb.lumen" "$T/b.lua"
eq "audit: unknown column: status" "$RC" 65
contains "audit: unknown column: message" "$ERR" "lumen: report: b.lua:1: lumen.audit: "
# a multi-class model has no single risk to threshold: refused as `lumen audit` refuses it
sqlite3 "$T/wb.lumen" <<'SQL'
INSERT INTO models(id, name, arch, target, task, hyper, seed, folds, n_used, n_excluded, metrics,
  version, created_at) VALUES(2, 'stage_mc', 'logreg', 'stage', 'multiclass', '{}', 1, 5, 60, 0,
  '{}', 'lumen 0.1.0', '2026-11-19T00:00:00Z');
INSERT INTO predictions(model_id, patient, fold, y, p) SELECT 2, rowid, 0, 1, 0.5 FROM patients;
SQL
bad "audit: multi-class model" \
	"lumen.audit: model 'stage_mc' is multi-class; the audit needs a binary model" \
	'lumen.audit{model = "stage_mc", by = "sex"}'
run audit "$T/wb.lumen" --model stage_mc --by sex
contains "audit: the CLI refuses it alike" "$ERR" "model 'stage_mc' is multi-class; the audit needs a binary model"

# why: "why the groups differ" from the audit module (audit_why.h), as `lumen audit` prints it.
# Without IG attributions: the CLI's one line, and nothing else.
cat >"$T/w.lua" <<'LUA'
local w = lumen.audit{model = "bili_risk", by = "sex"}.why
report.paragraph(string.format("%d|%s|%d|%d|%d", w.patients, w.message, #w.inputs, #w.per_group,
	#w.warnings))
LUA
run report "$T/wb.lumen" "$T/w.lua"
eq "why: no attributions, one line" "$OUT" \
	"0|No integrated-gradient attributions stored for this model (lumen explain adds them).|0|0|0"
run audit "$T/wb.lumen" --model bili_risk --by sex
contains "why: the CLI says the same" "$OUT" \
	"No integrated-gradient attributions stored for this model (lumen explain adds them)."
# Attributions over (age, sex, bili) = (0.25, 1, 0.5) for women, (0.25, 2, 0.5) for men: sex is
# the top input (a group column), bili second, age third; within each group sex leads with 1 or 2.
sqlite3 "$T/wb.lumen" "INSERT INTO model_inputs(model_id, slot, name, source_column, kind) VALUES
  (1, 0, 'age', 'age', 'numeric'), (1, 1, 'sex=m', 'sex', 'onehot'), (1, 2, 'bili', 'bili', 'numeric');
  INSERT INTO attributions(model_id, method, patient, columns)
  SELECT 1, 'ig', rowid, CASE WHEN sex = 'm' THEN X'0000803E000000400000003F' ELSE X'0000803E0000803F0000003F' END FROM patients"
cat >"$T/w.lua" <<'LUA'
local w = lumen.audit{model = "bili_risk", by = "sex"}.why
local out = {string.format("%d %s", w.patients, tostring(w.message))}
for _, i in ipairs(w.inputs) do
	out[#out + 1] = string.format("%d %s %.6f %.6f %.6f", i.rank, i.column, i.all,
		i.groups["sex=f"], i.groups["sex=m"])
end
for _, g in ipairs(w.per_group) do
	out[#out + 1] = string.format("%s %s %d %s %.6f %s %.6f", g.group, g.top, #g.inputs,
		g.inputs[1].column, g.inputs[1].value, g.inputs[3].column, g.inputs[3].value)
end
for _, x in ipairs(w.warnings) do
	out[#out + 1] = string.format("%s %d %s %.3f %s", x.column, x.rank, x.reason, x.association,
		x.message)
end
report.paragraph(table.concat(out, "\n"))
LUA
run report "$T/wb.lumen" "$T/w.lua"
"$LUMEN" audit "$T/wb.lumen" --model bili_risk --by sex --json >"$T/w.json" 2>/dev/null
# patients 3 and 4 have no prediction or no outcome (above): left out, as the audit leaves them
nm=$(sqlite3 "$T/wb.lumen" "SELECT count(*) FROM patients WHERE sex = 'm' AND rowid NOT IN (3, 4)")
nf=$(sqlite3 "$T/wb.lumen" "SELECT count(*) FROM patients WHERE sex = 'f' AND rowid NOT IN (3, 4)")
sex_all=$(awk -v m="$nm" -v f="$nf" 'BEGIN { printf "%.6f", (2 * m + f) / (m + f) }')
eq "why: ranked inputs, per group, warnings (hand-worked)" "$OUT" "$(printf '%s\n' \
	"$((nm + nf)) nil" "1 sex $sex_all 1.000000 2.000000" "2 bili 0.500000 0.500000 0.500000" \
	"3 age 0.250000 0.250000 0.250000" "sex=f sex 3 sex 1.000000 age 0.250000" \
	"sex=m sex 3 sex 2.000000 age 0.250000" \
	"sex 1 group column 1.000 sex, a grouping column, is input #1 of the model")"
if python3 -c 'import json' 2>/dev/null; then
	want=$(python3 - "$T/w.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["importance"]
ins = sorted(d["inputs"], key=lambda c: -c["all"])
print("%d nil" % d["patients"])
for k, c in enumerate(ins):
    print("%d %s %.6f %.6f %.6f" % (k + 1, c["column"], c["all"], c["groups"]["sex=f"], c["groups"]["sex=m"]))
PY
)
	eq "why: as lumen audit --json" "$(printf '%s\n' "$OUT" | head -n 4)" "$want"
else
	skip "why: as lumen audit --json" "python3 missing"
fi
