# tests/e2e/parity.sh: one answer everywhere. The CLI (--json), Lua (lumen report) and the
# headless TUI (--dump) on the same pbc workbench give the same survival strata, the same
# audit, the same patient view (risk, top reasons, and the sum rule baseline + reasons = the
# logit of the risk shown, on every patient) and the same filter counts, which are those of
# sqlite3's WHERE on the same file. All three call src/ops; this checks that nothing on the
# way (parsing, conversion, drawing) changes a figure.
source "$(dirname "$0")/../lib.sh"
F=$T/pbc.lumen
q() { sqlite3 "$F" "$1"; }
tui() { "$LUMEN" tui "$F" --headless --keys "$1" --dump --size 100x30; }
lua() { # SCRIPT-TEXT: runs it as a report, prints the report's text
	printf '%s\n' "$1" >"$T/s.lua"
	"$LUMEN" report "$F" "$T/s.lua" 2>"$T/lua.err"
}
"$LUMEN" import "$DATA/pbc.csv" -o "$F" --time time --event status --group sex --treatment trt \
	>/dev/null 2>&1 &&
	"$LUMEN" train "$F" --model logreg --target status --positive 2 --name lr --quiet \
		>/dev/null 2>&1 &&
	"$LUMEN" explain "$F" --model lr --quiet >/dev/null 2>&1
eq "pbc imported, lr trained and explained" "$?" 0

# ---- survival by risk tertiles: one cut rule ----
run survival "$F" --time time --event status=2 --by risk:lr:3 --json
CLI=$(printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join("%d/%d" % (g["n"], g["events"]) for g in d["groups"]), "%.2f" % d["logrank"]["chisq"])')
LUA=$(lua 'local s = lumen.survival{time = "time", event = "status", event_value = 2, by = "risk:lr:3"}
local t = {}
for _, c in ipairs(s.curves) do t[#t + 1] = string.format("%d/%d", c.n, c.events) end
report.paragraph(table.concat(t, " ") .. string.format(" %.2f", s.logrank.chisq))' | grep -E '^[0-9]+/')
S=$(tui '5ggg')
TUI="$(printf '%s\n' "$S" | grep -E '^[1-3] risk [1-3]/3' | cut -c26- | awk '{printf "%s%d/%d", (NR > 1 ? " " : ""), $1, $2}') $(printf '%s\n' "$S" | sed -n 's/.*log-rank: chi-square \([0-9.]*\),.*/\1/p')"
eq "risk tertiles: CLI = Lua" "$LUA" "$CLI"
eq "risk tertiles: CLI = TUI" "$TUI" "$CLI"
# the figures of the issue that asked for one rule (R's type-7 tertiles of the out-of-fold p;
# the TUI used to cut 139/139/140, chi-square 140.0)
eq "risk tertiles: 140/139/139 patients, 11/48/102 deaths, chi-square 141.61" "$CLI" \
	"140/11 139/48 139/102 141.61"
echo "# tertiles (n/events, chi-square): CLI $CLI | Lua $LUA | TUI $TUI"
# and by a group column and by the treatment
for by in sex trt; do
	run survival "$F" --time time --event status=2 --by $by --json
	c=$(printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join("%s:%d/%d" % (g["group"], g["n"], g["events"]) for g in d["groups"]), "%.2f" % d["logrank"]["chisq"])')
	l=$(lua "local s = lumen.survival{time = 'time', event = 'status', event_value = 2, by = '$by'}
local t = {}
for _, c in ipairs(s.curves) do t[#t + 1] = string.format('%s:%d/%d', c.group, c.n, c.events) end
report.paragraph(table.concat(t, ' ') .. string.format(' %.2f', s.logrank.chisq))" | grep -E '^[a-z]+=')
	eq "survival by $by: CLI = Lua" "$l" "$c"
done

# ---- audit: every figure ----
run audit "$F" --model lr --by sex --json
printf '%s' "$OUT" >"$T/audit.json"
flatten_py='
import json, sys
def walk(p, v, out):
    if isinstance(v, dict):
        for k in v: walk(p + "." + k, v[k], out)
    elif isinstance(v, list):
        for i, x in enumerate(v): walk(p + "[" + str(i + 1) + "]", x, out)
    elif isinstance(v, bool): out.append("%s=%s" % (p, "true" if v else "false"))
    elif isinstance(v, (int, float)): out.append("%s=%.10g" % (p, v))
    elif v is not None: out.append("%s=%s" % (p, v))
d = json.load(open(sys.argv[1]))
out = []
for k in ("groups", "summary", "left_out", "threshold", "tolerance", "reference"):
    walk(k, d[k], out)
print("\n".join(sorted(out)))'
python3 -c "$flatten_py" "$T/audit.json" >"$T/audit.cli"
lua 'local a = lumen.audit{model = "lr", by = "sex"}
local out = {}
local function walk(p, v)
	if type(v) == "table" then
		if #v > 0 then for i, x in ipairs(v) do walk(p .. "[" .. i .. "]", x) end
		else for k, x in pairs(v) do walk(p .. "." .. k, x) end end
	elseif type(v) == "number" then out[#out + 1] = string.format("%s=%.10g", p, v)
	elseif type(v) == "boolean" then out[#out + 1] = p .. "=" .. tostring(v)
	else out[#out + 1] = p .. "=" .. tostring(v) end
end
for _, k in ipairs{"groups", "summary", "left_out", "threshold", "tolerance", "reference"} do
	walk(k, a[k])
end
table.sort(out)
for _, l in ipairs(out) do report.paragraph("@" .. l) end' | sed -n 's/^@//p' >"$T/audit.lua"
n=$(wc -l <"$T/audit.cli" | tr -d ' ')
check "audit: the CLI gives $n figures" test "$n" -gt 150
d=$(diff "$T/audit.cli" "$T/audit.lua" | grep -c '^[<>]')
eq "audit: every one of the $n figures of lumen audit --json equals lumen.audit's" "$d" 0
# the TUI's Audit screen: n, prevalence, selection rate, TPR, FPR, PPV, AUC, Brier per group
S=$(tui '4')
for g in f m; do
	want=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = [x for x in d["groups"] if x["group"] == "sex=" + sys.argv[2]][0]["metrics"]
print(" ".join(["%d" % m["n"]["value"]] + ["%.3f" % m[k]["value"] for k in
      ("prevalence", "selection_rate", "tpr", "fpr", "ppv", "auc", "brier")]))' "$T/audit.json" $g)
	got=$(printf '%s\n' "$S" | grep "^sex=$g" | sed 's/^sex=[fm]//; s/[^0-9. ]//g' | awk '{print $1, $2, $3, $4, $5, $6, $7, $8}')
	eq "audit: sex=$g on the TUI's screen = lumen audit --json" "$got" "$want"
done

# ---- the patient view: the number shown is the number explained ----
# every patient of pbc on the TUI's Patient screen (one headless run, every frame dumped):
# the risk shown is the stored out-of-fold p, the screen names the fold model, and
# baseline + reasons = logit (to the 3 decimals shown) with sigmoid(logit) = the risk
keys='\n'
for i in $(seq 2 418); do keys="$keys]"; done
"$LUMEN" tui "$F" --headless --keys "$keys" --dump-all --size 100x30 >"$T/frames.txt"
q "SELECT pt.id, printf('%.3f', pr.p) FROM patients pt JOIN predictions pr ON pr.patient = pt.rowid AND pr.model_id = (SELECT id FROM models WHERE name = 'lr') ORDER BY pt.rowid" | tr '|' ' ' >"$T/stored.txt"
python3 - "$T/frames.txt" "$T/stored.txt" >"$T/tui_check.txt" <<'PY'
import math, re, sys
frames = open(sys.argv[1]).read().split("\f\n")
stored = dict(l.split() for l in open(sys.argv[2]))
seen, bad, fold, tops = 0, [], 0, {}
for fr in frames:
    m = re.search(r"^Patient (\S+) ", fr, re.M)
    if not m or "predicted p = " not in fr:
        continue
    pid = m.group(1)
    p = float(re.search(r"predicted p = ([0-9.]+)", fr).group(1))
    b, sgn, r, lg = re.search(r"baseline (-?[0-9.]+) ([-+]) reasons ([0-9.]+) = logit (-?[0-9.]+)", fr).groups()
    b, r, lg = float(b), float(r) * (1 if sgn == "+" else -1), float(lg)
    seen += 1
    fold += "(out-of-fold)" in fr
    if abs(b + r - lg) > 0.0015 or abs(1 / (1 + math.exp(-lg)) - p) > 0.0006 or "%.3f" % p != stored[pid]:
        bad.append(pid)
    rows = fr.split("\n")
    for i, line in enumerate(rows):
        if line.startswith("  factor "):
            f = rows[i + 1].split()
            tops[pid] = (f[0], f[-1])
            break
print(seen, fold, len(bad), " ".join(bad[:5]))
for pid in ("1", "2", "100", "418"):
    print("top", pid, *tops.get(pid, ("?", "?")))
PY
read -r seen nfold nbad badlist <"$T/tui_check.txt"
eq "patient view: all 418 patients on the TUI's screen" "$seen" 418
eq "patient view: every one explained with the fold model that held it out" "$nfold" 418
eq "patient view: baseline + reasons = logit of the shown risk = the stored p, on every screen" "$nbad" 0
# Lua, on every patient: model:explain gives the stored risk, from the fold model, and its sum
LUA=$(lua 'local m = lumen.model("lr")
local n, ok, fold = 0, 0, 0
for p in lumen.patients{model = "lr"} do
	local e = m:explain(p)
	local s = e.baseline_logit
	for _, a in ipairs(e) do s = s + a.attribution end
	n = n + 1
	if math.abs(s - e.logit) <= e.delta + 1e-5 and math.abs(e.prob - p.risk) < 1e-6 then ok = ok + 1 end
	if e.network:sub(1, 4) == "fold" then fold = fold + 1 end
end
report.paragraph(string.format("%d %d %d", n, ok, fold))' | grep -E '^[0-9]+ [0-9]+ [0-9]+$')
eq "patient view in Lua: 418 patients, the sum rule and the stored risk on all, all by fold models" "$LUA" "418 418 418"
# lumen explain as stored for reports: the same rule on every stored row
eq "stored attributions: baseline + sum = logit = the stored prediction's logit, all 418" \
	"$(q "SELECT count(*), sum(abs(a.logit - p.logit) < 1e-4) FROM attributions a JOIN predictions p ON p.model_id = a.model_id AND p.patient = a.patient WHERE a.method = 'ig'")" "418|418"
# four patients side by side: CLI --json, Lua and the TUI give one risk and one top reason
for id in 1 2 100 418; do
	run explain "$F" --model lr --patient $id --json
	c=$(printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
t = max(d["columns"], key=lambda c: abs(c["ig"]))
print("%.3f %s %+.3f %s" % (d["probability"], t["column"], t["ig"], d["network"]))')
	l=$(lua "local m = lumen.model('lr')
for p in lumen.patients{where = 'id == $id'} do
	local e = m:explain(p)
	report.paragraph(string.format('@%.3f %s %+.3f %s', e.prob, e[1].column, e[1].attribution, e.network:sub(1, 4)))
end" | sed -n 's/^@//p')
	t=$(awk -v id=$id '$1 == "top" && $2 == id { print $3, $4 }' "$T/tui_check.txt")
	eq "patient $id: CLI = Lua (risk, top reason, its IG, the network)" "$l" "$c"
	eq "patient $id: CLI = TUI (top reason and its IG)" "$t" "$(echo "$c" | awk '{print $2, $3}')"
	echo "# patient $id: $c"
done

# ---- one filter language: counts equal SQL's WHERE ----
while IFS='|' read -r expr sql; do
	want=$(q "SELECT count(*) FROM patients WHERE $sql")
	run query "$F" --where "$expr" --count
	cli=$OUT
	l=$(lua "report.paragraph('@' .. lumen.count{where = [[$expr]]})" | sed -n 's/^@//p')
	t=$(tui "f$expr\n" | sed -n 2p | sed -n 's/.* \([0-9]*\)\/418 patients.*/\1/p')
	eq "filter '$expr': CLI = SQL ($want)" "$cli" "$want"
	eq "filter '$expr': Lua = SQL" "$l" "$want"
	eq "filter '$expr': TUI = SQL" "$t" "$want"
	echo "# filter '$expr': SQL $want, CLI $cli, Lua $l, TUI $t"
done <<'EOF'
ascites == 1|ascites = 1
ascites == true|ascites = 1
ascites == false|ascites = 0
trig > 200|trig > 200
not (trig > 200)|NOT (trig > 200)
sex == f|sex = 'f'
sex == "m" and bili > 2|sex = 'm' AND bili > 2
chol == nil|chol IS NULL
(chol or 0) > 300|coalesce(chol, 0) > 300
age > 65 or trig > 200|age > 65 OR trig > 200
stage >= 3 and ascites ~= 1|stage >= 3 AND ascites <> 1
p["alk.phos"] > 2000 and hepato|"alk.phos" > 2000 AND hepato
EOF
# the booleans agree with each other, not only with SQL
run query "$F" --where 'ascites == 1' --count
a1=$OUT
run query "$F" --where 'ascites == true' --count
eq "ascites == 1 and ascites == true agree (24 patients)" "$a1 $OUT" "24 24"

# ---- a survival model: the risk by the horizon is one number in the CLI, Lua and the store ----
"$LUMEN" train "$F" --model cox --time time --event status=2 --name cx --quiet >/dev/null 2>&1
eq "cox model trained" "$?" 0
q "SELECT pt.id, printf('%.6f', pr.p) FROM patients pt JOIN predictions pr ON pr.patient = pt.rowid AND pr.model_id = (SELECT id FROM models WHERE name = 'cx') ORDER BY pt.rowid" | tr '|' ' ' >"$T/cx_stored.txt"
lua "local m = lumen.model('cx')
for p in lumen.patients{} do
	local r, _, net = m:predict(p)
	report.paragraph(string.format('@%s %.6f %s', p.id, r, net:sub(1, 4)))
end" | sed -n 's/^@//p' >"$T/cx_lua.txt"
# (to 1e-5: Lua recomputes the fold network's float32 logit that the store rounded)
eq "cox: Lua's m:predict of every patient is its stored out-of-fold risk (418)" \
	"$(python3 - "$T/cx_lua.txt" "$T/cx_stored.txt" <<'PY'
import sys
a = {l.split()[0]: float(l.split()[1]) for l in open(sys.argv[1])}
b = {l.split()[0]: float(l.split()[1]) for l in open(sys.argv[2])}
print(sum(1 for k in b if k in a and abs(a[k] - b[k]) < 1e-5))
PY
)" 418
eq "cox: every training patient predicted by its fold network" \
	"$(grep -c ' fold$' "$T/cx_lua.txt")" 418
# an edited patient: the fold network's risk moves with the edit, through the stored risk
l=$(lua "local m = lumen.model('cx')
for p in lumen.patients{where = 'id == 1'} do
	local t = {rowid = p.rowid}
	for _, c in ipairs(lumen.columns()) do t[c.name] = p[c.name] end
	local r0, l0 = m:predict(t)
	t.bili = t.bili * 2
	local r1, l1 = m:predict(t)
	report.paragraph(string.format('@%.5f %.6f', r0, math.abs(1 - (1 - r0) ^ math.exp(l1 - l0) - r1)))
end" | sed -n 's/^@//p')
eq "cox: patient 1 from a table = its stored risk; doubled bili follows S^exp(lp'-lp)" \
	"$l" "$(awk '$1 == 1 {printf "%.5f", $2}' "$T/cx_stored.txt") 0.000000"
for id in 1 100; do
	run explain "$F" --model cx --patient $id --json
	c=$(printf '%s' "$OUT" | python3 -c 'import json, sys; print("%.6f" % json.load(sys.stdin)["probability"])')
	eq "cox: explain --patient $id shows the stored risk" "$c" "$(awk -v id=$id '$1 == id {print $2}' "$T/cx_stored.txt")"
done
