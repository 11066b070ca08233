# Limits that hold against hostile scripts: the time limit reaches C (patterns with ? and %b,
# the audit bootstrap, long report loops), report content counts against the memory cap,
# every error names the script's line, a script never writes into the workbench.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/workbench.bash"
make_wb "$T/wb.lumen" 30
"$LUMEN" train "$T/wb.lumen" --model logreg --target status --positive 2 --name lr --folds 2 \
	--epochs 5 --seed 1 --features age,bili,sex >/dev/null 2>&1
eq "trained a model" "$?" 0

fails() { # DESC EXPECTED-MESSAGE LUA [extra lumen args]: one line, status 65, within 30 s
	local desc=$1 want=$2 code=$3
	shift 3
	printf '%s\n' "$code" >"$T/l.lua"
	rm -f "$T/out.md"
	local t0=$SECONDS
	OUT=$(timeout 60 "$LUMEN" report "$T/wb.lumen" "$T/l.lua" -o "$T/out.md" "$@" 2>"$T/err")
	RC=$?
	ERR=$(cat "$T/err")
	eq "$desc: status 65" "$RC" 65
	eq "$desc: message" "$ERR" "lumen: report: $want"
	check "$desc: stopped in time" test $((SECONDS - t0)) -le 30
	check "$desc: nothing written" test ! -e "$T/out.md"
}

# the pattern guard counts optional items (2^k ways) and balanced matches (n per start)
fails "optional items" \
	"l.lua:1: string.find: a pattern with 40 repetitions over 40 bytes could run past the time limit" \
	'return (("a"):rep(40)):find(("a?"):rep(40) .. ("a"):rep(40))' --timeout 2
fails "balanced match over a long subject" \
	"l.lua:1: string.gsub: a pattern with 1 repetitions over 300000 bytes could run past the time limit" \
	'return (("("):rep(300000)):gsub("%b()", "")' --timeout 2
printf '%s\n' 'local s, n = ("(a)(b)"):rep(100):gsub("%b()", "") assert(n == 200 and s == "")' \
	'assert(("aaa"):find("a?a?a?aaa") == 1) report.paragraph("ok")' >"$T/ok.lua"
run report "$T/wb.lumen" "$T/ok.lua" --timeout 2
eq "ordinary ? and %b patterns still work" "$OUT$ERR" "ok"

# C code reachable from a script checks the deadline itself
# one bootstrap of 100,000 replicates over 300 patients runs for many seconds in C
make_wb "$T/wb300.lumen" 300
"$LUMEN" train "$T/wb300.lumen" --model logreg --target status --positive 2 --name lr --folds 2 \
	--epochs 5 --seed 1 --features age,bili,sex >/dev/null 2>&1
printf 'lumen.audit{model = "lr", by = "sex", bootstrap = 100000}\n' >"$T/boot.lua"
t0=$(date +%s.%N)
timeout 300 "$LUMEN" report "$T/wb300.lumen" "$T/boot.lua" --timeout 300 >/dev/null 2>&1
t1=$(date +%s.%N)
timeout 300 "$LUMEN" report "$T/wb300.lumen" "$T/boot.lua" --timeout 0.3 >/dev/null 2>"$T/err"
rc=$?
t2=$(date +%s.%N)
eq "audit bootstrap past the time limit: status 65" "$rc" 65
eq "audit bootstrap past the time limit: message" "$(cat "$T/err")" \
	"lumen: report: boot.lua:1: time limit of 0.3 s exceeded"
# stopped inside the call: in well under the time of the whole bootstrap
check "audit bootstrap past the time limit: stopped inside the call ($(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "%.1f s of %.1f s", c - b, b - a }'))" \
	awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { exit !(2 * (c - b) < b - a) }'
# one report.table call over 2,000,000 cells runs in C for a long while (the line that built
# the rows may already be past the limit on a loaded machine: either line is right)
printf '%s\n' 'local rows = {{"a", "b"}} for i = 1, 1000000 do rows[i + 1] = {i + 0.5, -i - 0.25} end' \
	'while true do report.table(rows) end' >"$T/l.lua"
t0=$SECONDS
timeout 60 "$LUMEN" report "$T/wb.lumen" "$T/l.lua" --timeout 1 --memory 4000 >/dev/null 2>"$T/err"
eq "a long report.table call: status 65" "$?" 65
check "a long report.table call: stopped in time" test $((SECONDS - t0)) -le 30
check "a long report.table call: the time limit at a script line" \
	grep -qE '^lumen: report: l\.lua:[12]: time limit of 1 s exceeded$' "$T/err"

# memory: report content counts against the cap; the error names the line
fails "report content past the cap" "l.lua:2: not enough memory (the limit is 16 MB)" \
	'local s = ("x"):rep(1000000)
for i = 1, 1e6 do report.paragraph(s) end' --memory 16
fails "a chart past the cap" "l.lua:3: not enough memory (the limit is 16 MB)" \
	'local y = {} for i = 1, 500000 do y[i] = i end
local series = {} for k = 1, 40 do series[k] = {name = "s" .. k, x = y, y = y} end
report.line{series = series}' --memory 16
# one allocation past the whole cap: Lua's memory error carries no position; the host keeps it
fails "one allocation past the cap names its line" "l.lua:3: not enough memory (the limit is 16 MB)" \
	'local a = 1
local b = 2
local s = ("x"):rep(64 * 1024 * 1024)' --memory 16
fails "one allocation past the cap inside a function" "l.lua:1: not enough memory (the limit is 16 MB)" \
	'local function big() return {} , ("y"):rep(100 * 1024 * 1024) end
local t = 0
big()' --memory 16
fails "audit bootstrap buffers past the cap" "l.lua:1: not enough memory (the limit is 16 MB)" \
	'lumen.audit{model = "lr", by = "sex", bootstrap = 100000}' --memory 16

# every error keeps script:line
fails "malformed pattern" "l.lua:2: malformed pattern (ends with '%')" \
	'local s = "abc"
return s:find("%")'
fails "too many captures" "l.lua:1: too many captures" \
	'return ("a"):rep(40):find(("(a)"):rep(40))'
fails "non-string error" "l.lua:1: (error object is a boolean value)" 'error(true)'
fails "error without a position" "l.lua:1: plain" 'error("plain", 0)'
fails "C stack overflow" "l.lua:1: C stack overflow" \
	'local t = setmetatable({}, {__index = function(t, k) return t[k] end}) return t.x'
fails "load cannot fake a location" "[load /etc/passwd]:1: boom" \
	'local f = load("error(\"boom\")", "@/etc/passwd") f()'

# a missing table is bad data (65), not an internal error
cp "$T/wb.lumen" "$T/nt.lumen"
sqlite3 "$T/nt.lumen" 'DROP TABLE predictions'
run info "$T/nt.lumen"
eq "missing table: status 65" "$RC" 65
eq "missing table: message" "$ERR" "lumen: info: $T/nt.lumen: not a lumen workbench file (it has no table predictions)"

# m:explain from a report does not write the workbench (not even its baseline cache)
sqlite3 "$T/wb.lumen" 'DELETE FROM model_tensors WHERE member = -2'
before=$(sqlite3 "$T/wb.lumen" 'SELECT count(*) FROM model_tensors')
printf '%s\n' 'local m = lumen.model("lr") local e = m:explain(lumen.patients()(), {steps = 8})' \
	'report.paragraph(string.format("%.4f", e.prob))' >"$T/ex.lua"
run report "$T/wb.lumen" "$T/ex.lua"
eq "explain from a report: status" "$RC" 0
eq "explain from a report: no tensor written" "$(sqlite3 "$T/wb.lumen" 'SELECT count(*) FROM model_tensors')" "$before"

# fmt.mean_sd of +-1e308 is finite (0 and 1e308 * sqrt(4/3))
printf '%s\n' 'local fmt = require("fmt")' \
	'local m, sd = fmt.mean_sd({1e308, -1e308, 1e308, -1e308})' \
	'report.paragraph(string.format("%g %.6g %g", m, sd, fmt.median({1e308, 1e308})))' >"$T/st.lua"
run report "$T/wb.lumen" "$T/st.lua"
eq "fmt.mean_sd of +-1e308" "$OUT" "0 1.1547e+308 1e+308"

# the shipped cohort_summary holds one column at a time, not the cohort: 50,000 patients in a
# 12 MB cap (it needed more than 32 MB before; 1,000,000 patients fit the default 512 MB)
"$LUMEN" synth --patients 50000 --seed 2 -o "$T/s50" >/dev/null 2>&1 &&
	"$LUMEN" import "$T/s50/patients.csv" -o "$T/s50.lumen" >/dev/null 2>&1
eq "50,000 patients imported" "$?" 0
run report "$T/s50.lumen" cohort_summary --memory 12
eq "cohort_summary in 12 MB: status" "$RC" 0
contains "cohort_summary in 12 MB: all patients" "$OUT" "50000 patients."
want_age=$(sqlite3 "$T/s50.lumen" "SELECT printf('%.2f', avg(age)) FROM patients")
contains "cohort_summary in 12 MB: mean age as SQL" "$OUT" "| age | feature | 0 | $want_age |"

# the TUI's filter prompt runs in the same host: a pattern that would freeze it is refused
t0=$SECONDS
out=$(timeout 60 "$LUMEN" tui "$T/wb.lumen" --headless --dump \
	--keys 'f(("a"):rep(40)):find(("a?"):rep(40) .. ("a"):rep(40)) ~= nil\n' 2>&1)
eq "tui filter with an exponential pattern: status" "$?" 0
check "tui filter with an exponential pattern: did not freeze" test $((SECONDS - t0)) -le 20
# the filter language (src/ops) has no string functions: the pattern cannot even be written
contains "tui filter with an exponential pattern: refused as no filter expression" "$out" \
	"where:1:7: ')' expected near ':rep(40)):fi'"

# a script's message with a newline stays one line
fails "newline in an error message" 'l.lua:1: line one\nline two\x07' 'error("line one\nline two\a")'
