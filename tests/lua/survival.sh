# lumen.survival returns the numbers `lumen survival --json` prints (the same km.c underneath,
# itself checked against R's survival in tests/unit/test_km.c).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/workbench.bash"
make_wb "$T/wb.lumen" 60
cat >"$T/s.lua" <<'LUA'
local s = lumen.survival{time = "time", event = "status", event_value = 2, by = "sex"}
for _, c in ipairs(s.curves) do
	report.paragraph(string.format("%s %d %d %.6f %d %.9f", c.group, c.n, c.events, c.median,
		#c.time, c.surv[#c.surv]))
end
report.paragraph(string.format("logrank %.9f %d %.9f %d", s.logrank.chisq, s.logrank.df,
	s.logrank.p, s.left_out))
local w = lumen.survival{time = "time", event = "status", event_value = 2, where = "age > 50"}
report.paragraph(string.format("where %d %d %s", #w.curves, w.curves[1].n, tostring(w.logrank)))
report.km{title = "Survival by sex", xlabel = "days", ylabel = "S(t)", series = {
	{name = s.curves[1].group, x = s.curves[1].time, y = s.curves[1].surv},
	{name = s.curves[2].group, x = s.curves[2].time, y = s.curves[2].surv}}}
LUA
run report "$T/wb.lumen" "$T/s.lua"
eq "survival: status" "$RC" 0
"$LUMEN" survival "$T/wb.lumen" --time time --event status=2 --by sex --json >"$T/s.json"
want=$(python3 - "$T/s.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for g in d["groups"]:
    c = g["curve"]
    print("%s %d %d %.6f %d %.9f" % (g["group"], g["n"], g["events"], g["median"],
          len(c["time"]), c["surv"][-1]))
    print()
lr = d["logrank"]
print("logrank %.9f %d %.9f 0" % (lr["chisq"], lr["df"], lr["p"]))
PY
)
eq "survival: curves and log-rank as lumen survival --json" \
	"$(printf '%s\n' "$OUT" | sed -n '1,5p')" "$want"
eq "survival: where, no groups" "$(printf '%s\n' "$OUT" | sed -n 7p)" \
	"where 1 $(sqlite3 "$T/wb.lumen" 'SELECT count(*) FROM patients WHERE age > 50') nil"
contains "survival: km chart" "$OUT" "**Survival by sex** (Kaplan-Meier curve)"

bad() { # DESC WANT LUA
	printf '%s\n' "$3" >"$T/b.lua"
	run report "$T/wb.lumen" "$T/b.lua"
	eq "$1" "$ERR" "lumen: report: b.lua:1: $2"
}
bad "survival: no options" "bad argument #1 to 'survival' (table expected, got no value)" \
	'lumen.survival()'
bad "survival: unknown column" "lumen.survival: no column 'days'" \
	'lumen.survival{time = "days", event = "status"}'
bad "survival: time not a string" "lumen.survival: time must be a column name (got a number)" \
	'lumen.survival{time = 3, event = "status"}'
bad "survival: three event codes" \
	"lumen.survival: status has more than two values; name the event: event_value = V" \
	'lumen.survival{time = "time", event = "status"}'
bad "survival: text event without value" \
	"lumen.survival: sex is text; name the event: event_value = V" \
	'lumen.survival{time = "time", event = "sex"}'
bad "survival: unknown option" \
	"lumen.survival: unknown option 'group' (where, model, time,event,event_value,by)" \
	'lumen.survival{time = "time", event = "status", event_value = 2, group = "sex"}'

# the Kaplan-Meier and line charts as HTML: well-formed, steps drawn
printf '%s\n' 'report.line{title = "l", series = {{name = "a & b", x = {1, 2, 3}, y = {3, 1, 2}}}}' >>"$T/s.lua"
run report "$T/wb.lumen" "$T/s.lua" -o "$T/s.html"
eq "survival html: status" "$RC" 0
if command -v xmllint >/dev/null; then
	check "survival html: well-formed (xmllint)" xmllint --noout "$T/s.html"
else
	skip "survival html: well-formed (xmllint)" "xmllint not installed"
fi
eq "survival html: two km polylines and one line" "$(grep -c '<polyline' "$T/s.html")" 3
contains "survival html: legend escaped" "$(cat "$T/s.html")" ">a &amp; b</text>"
