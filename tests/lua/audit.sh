# lumen.audit returns what `lumen audit --json` prints (audit.c), and agrees with the gaps the
# shipped bias_audit report computes in Lua (groupmetrics).
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
local gm = require("groupmetrics")
local rows = gm.by_group("bili_risk", "sex")
report.paragraph(string.format("lua %.9f %.9f", math.abs(rows[1].selection_rate - rows[2].selection_rate),
	math.abs(rows[1].tpr - rows[2].tpr)))
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
dp=$(printf '%s\n' "$OUT" | sed -n 1p | cut -d' ' -f2)
eop=$(printf '%s\n' "$OUT" | sed -n 1p | cut -d' ' -f4)
eq "audit: groupmetrics gaps agree" "$(printf '%s\n' "$OUT" | sed -n 7p)" "lua $dp $eop"

bad() {
	printf '%s\n' "$3" >"$T/b.lua"
	run report "$T/wb.lumen" "$T/b.lua"
	eq "$1" "$ERR" "lumen: report: b.lua:1: $2"
}
bad "audit: no table" "bad argument #1 to 'audit' (table expected, got string)" 'lumen.audit("x")'
bad "audit: no model" "lumen.audit: which model? give model = NAME" 'lumen.audit{by = "sex"}'
bad "audit: by missing" 'lumen.audit: by must be a column name (or "a,b")' \
	'lumen.audit{model = "bili_risk"}'
bad "audit: threshold type" "lumen.audit: threshold must be a number (got a string)" \
	'lumen.audit{model = "bili_risk", by = "sex", threshold = "high"}'
bad "audit: unknown option" \
	"lumen.audit: unknown option 'grup' (model, by, threshold, tolerance, bootstrap, seed, reference)" \
	'lumen.audit{model = "bili_risk", grup = "sex"}'
bad "audit: unknown reference" "lumen.audit: no group 'sex=x'" \
	'lumen.audit{model = "bili_risk", by = "sex", reference = "sex=x"}'
printf 'lumen.audit{model = "bili_risk", by = "nope"}\n' >"$T/b.lua"
run report "$T/wb.lumen" "$T/b.lua"
eq "audit: unknown column: status" "$RC" 65
contains "audit: unknown column: message" "$ERR" "lumen: report: b.lua:1: lumen.audit: "
