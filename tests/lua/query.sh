# lumen query: expressions and filter files against the same predicate in SQL.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/workbench.bash"
make_wb "$T/wb.lumen" 60
q() { sqlite3 "$T/wb.lumen" "$1"; }

run query "$T/wb.lumen" --where 'age > 55 and sex == "f"'
eq "where: status" "$RC" 0
eq "where: ids as SQL" "$OUT" "$(q "SELECT id FROM patients WHERE age > 55 AND sex = 'f' ORDER BY rowid")"
run query "$T/wb.lumen" --where 'age > 55 and sex == "f"' --count
eq "count as SQL" "$OUT" "$(q "SELECT count(*) FROM patients WHERE age > 55 AND sex = 'f'")"
run query "$T/wb.lumen" --where 'ascites and stage == 4' --count
eq "booleans and integers" "$OUT" "$(q "SELECT count(*) FROM patients WHERE ascites = 1 AND stage = 4")"
run query "$T/wb.lumen" --where '(chol or 0) > 300' --count
eq "missing as nil" "$OUT" "$(q "SELECT count(*) FROM patients WHERE chol > 300")"
run query "$T/wb.lumen" --where 'p["alk.phos"] > 2000' --count
eq "a column with a dot through p" "$OUT" "$(q "SELECT count(*) FROM patients WHERE \"alk.phos\" > 2000")"
run query "$T/wb.lumen" --where 'bili > 5' --csv
eq "csv: header" "$(printf '%s\n' "$OUT" | head -n 1)" \
	"id,time,status,trt,age,sex,ascites,hepato,spiders,edema,bili,chol,albumin,copper,alk.phos,ast,trig,platelet,protime,stage"
eq "csv: rows" "$(printf '%s\n' "$OUT" | tail -n +2 | cut -d, -f1 | tr '\n' ' ')" \
	"$(q "SELECT id FROM patients WHERE bili > 5" | tr '\n' ' ')"
eq "csv: a row" "$(printf '%s\n' "$OUT" | sed -n 2p)" \
	"1,400,2,1,58.7652292950034,f,1,1,1,1,14.5,261,2.6,156,1718,137.95,172,190,12.2,4"

# with a model: risk and label as names
run query "$T/wb.lumen" --where 'risk > 0.7' --model bili_risk --count
eq "risk > 0.7" "$OUT" "$(q "SELECT count(*) FROM predictions WHERE model_id = 1 AND p > 0.7")"
run query "$T/wb.lumen" --where 'label == 1 and outcome == 1' --model bili_risk --count
eq "label and outcome" "$OUT" "$(q "SELECT count(*) FROM predictions WHERE model_id = 1 AND p >= 0.5 AND y = 1")"
run query "$T/wb.lumen" --where 'risk > 0.7' --model bili_risk --csv
contains "csv with risk column" "$(printf '%s\n' "$OUT" | head -n 1)" ",stage,risk"

# shipped filters
run query "$T/wb.lumen" --filter older_patients --count
eq "older_patients" "$OUT" "$(q "SELECT count(*) FROM patients WHERE age >= 65")"
run query "$T/wb.lumen" --filter high_risk --model bili_risk
eq "high_risk" "$OUT" "$(q "SELECT p.id FROM predictions r JOIN patients p ON p.rowid = r.patient WHERE r.model_id = 1 AND r.p >= 0.5 ORDER BY p.rowid")"
run query "$T/wb.lumen" --filter missing_labs --count
eq "missing_labs" "$OUT" "$(q "SELECT count(*) FROM patients WHERE bili IS NULL OR albumin IS NULL OR protime IS NULL OR platelet IS NULL OR chol IS NULL OR ast IS NULL")"
run query "$T/wb.lumen" --filter high_risk
eq "high_risk without a model: status" "$RC" 65
eq "high_risk without a model: message" "$ERR" \
	"lumen: query: high_risk.lua:4: 'risk' needs a model: lumen.patients{model = NAME} or --model"
printf 'return 42\n' >"$T/notfn.lua"
run query "$T/wb.lumen" --filter "$T/notfn.lua"
eq "filter returning a number" "$ERR" \
	"lumen: query: notfn.lua: a filter file must return a function of a patient or an expression (it returned a number)"
# a filter file returning an expression: the filter language, as --where
printf 'return "ascites == true and trig > 200"\n' >"$T/expr.lua"
run query "$T/wb.lumen" --filter "$T/expr.lua" --count
eq "filter file returning an expression = SQL" "$OUT" "$(sqlite3 "$T/wb.lumen" 'SELECT count(*) FROM patients WHERE ascites = 1 AND trig > 200')"

# errors
run query "$T/wb.lumen" --where 'age >'
eq "syntax error: status" "$RC" 65
eq "syntax error: message" "$ERR" "lumen: query: where:1:6: unexpected symbol near '<eof>'"
# a missing value never matches a comparison and never raises (SQL's NULL)
run query "$T/wb.lumen" --where 'chol > 300' --count
eq "missing chol skipped, as SQL" "$OUT" "$(sqlite3 "$T/wb.lumen" 'SELECT count(*) FROM patients WHERE chol > 300')"
run query "$T/wb.lumen" --where 'not (chol > 300)' --count
eq "not of a missing comparison is still unknown" "$OUT" \
	"$(sqlite3 "$T/wb.lumen" 'SELECT count(*) FROM patients WHERE NOT (chol > 300)')"
run query "$T/wb.lumen" --where 'ascites == 1' --count
A1=$OUT
run query "$T/wb.lumen" --where 'ascites == true' --count
eq "booleans equal 1 and true alike" "$OUT" "$A1"
eq "ascites == 1 as SQL" "$A1" "$(sqlite3 "$T/wb.lumen" 'SELECT count(*) FROM patients WHERE ascites = 1')"
run query "$T/wb.lumen" --where 'sex == f' --count
eq "a bare category" "$OUT" "$(sqlite3 "$T/wb.lumen" "SELECT count(*) FROM patients WHERE sex = 'f'")"
run query "$T/wb.lumen" --where 'os.exit(1)'
eq "os.exit in a filter" "$ERR" "lumen: query: where:1:1: the filter language has no function 'os' (math.floor, ceil, abs, sqrt, log, exp, min, max)"
run query "$T/wb.lumen" --where 'age > 1 end) os.exit(1) (function() return 1'
eq "injection: status" "$RC" 65
eq "injection: refused where it starts" "$ERR" "lumen: query: where:1:9: unexpected symbol near 'end)'"
run query "$T/wb.lumen" --where 'while true do end'
eq "a statement is not an expression" "$RC" 65
run query "$T/wb.lumen" --where '(function() while true do end end)()'
eq "no function can be written: status" "$RC" 65
eq "no function can be written: message" "$ERR" "lumen: query: where:1:2: 'function' is Lua, not the filter language (comparisons joined by and, or, not)"
run query "$T/wb.lumen" --where 'age > 1' --model nope
eq "unknown model: status" "$RC" 65
eq "unknown model: message" "$ERR" "lumen: query: no model 'nope'; lumen models FILE lists them"
run query "$T/wb.lumen"
eq "no predicate: usage" "$RC" 64
run query "$T/wb.lumen" --where 'age > 1' --filter older_patients
eq "both: usage" "$RC" 64
run query "$T/wb.lumen" --where 'age > 1' --count --csv
eq "count and csv: usage" "$RC" 64
run query "$T/none.lumen" --where 'age > 1'
eq "missing file: status" "$RC" 66
run query --help
eq "help: status" "$RC" 0
contains "help: usage" "$OUT" "usage: lumen query FILE.lumen --where"
eq "access logged" "$(q "SELECT detail FROM access_log WHERE action = 'query' LIMIT 1")" 'age > 55 and sex == "f"'
