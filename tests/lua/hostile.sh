# Hostile scripts against the Lua API: metamethods that free what C holds, lengths that change
# between a check and a copy. Each must give the result of the same call on plain tables
# (under `make sanitize` a use-after-free or an over-read fails the run).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/workbench.bash"
make_wb "$T/wb.lumen" 30
"$LUMEN" train "$T/wb.lumen" --model logreg --target status --positive 2 --name lr --folds 2 \
	--epochs 5 --seed 1 --features age,bili,sex >/dev/null 2>&1
eq "trained a model" "$?" 0

lua() { # DESC CODE -> runs it as a report, sets OUT ERR RC
	printf '%s\n' "$2" >"$T/h.lua"
	run report "$T/wb.lumen" "$T/h.lua"
	eq "$1: status" "$RC" 0
	eq "$1: no error" "$ERR" ""
}

# an __index that builds a string, and collects garbage when asked for the next option
GC='local function fresh(c) return string.format("%s-%d", (c):rep(60), 7) end
local function hostile(want)
  return {__index = function(t, k)
    local v = want[k]
    collectgarbage() collectgarbage()
    if type(v) == "string" then return fresh(v) end
    return v
  end}
end'
T60=$(printf 'T%.0s' $(seq 60))-7
C60=$(printf 'C%.0s' $(seq 60))-7
lua "chart title freed by a later option" "$GC
report.line(setmetatable({series = {{name = 'a', x = {1, 2}, y = {3, 4}}}},
  hostile({title = 'T'})))"
contains "chart title freed by a later option: title kept" "$OUT" "**$T60** (line chart)"
lua "bar title and labels" "$GC
report.bar(setmetatable({labels = {'a', 'b'}, values = {1, 2}}, hostile({title = 'T'})))"
contains "bar title and labels: title kept" "$OUT" "**$T60**"
lua "table caption freed by the columns option" "$GC
report.table({{'a', 'b'}, {1, 2}}, setmetatable({}, hostile({caption = 'C'})))"
contains "table caption: kept" "$OUT" "**$C60**"
contains "table caption: the table" "$OUT" "| 1 | 2 |"
lua "series name from __index" "$GC
report.line({series = {setmetatable({x = {1}, y = {2}}, hostile({name = 'T'}))}})"
contains "series name from __index: kept" "$OUT" "| $T60 | 1 | 2 |"

# what-if tables whose values come from __index: the same prediction as a plain table
lua "what-if table with __index" "$GC
local m = lumen.model('lr')
local plain = {age = 50, bili = 3, sex = 'f'}
local w = setmetatable({}, {__index = function(t, k)
  collectgarbage() collectgarbage()
  if k == 'sex' then return ('f'):rep(1) .. '' end
  return plain[k] end})
local p1, p2 = m:predict(plain), m:predict(w)
local e1, e2 = m:explain(plain, {steps = 8}), m:explain(w, {steps = 8})
report.paragraph(string.format('%.9f %.9f %.9f %.9f %s', p1, p2, e1.prob, e2.prob,
  tostring(e2[1].value)))"
read -r p1 p2 e1 e2 v <<<"$OUT"
eq "what-if with __index: predict agrees" "$p2" "$p1"
eq "what-if with __index: explain agrees" "$e2" "$e1"

# lumen.audit: bins from __index while later options collect garbage
lua "audit bins from __index" "$GC
local a = lumen.audit{model = 'lr', by = 'age', bins = 'age=45,60'}
local b = lumen.audit(setmetatable({model = 'lr', by = 'age'}, {__index = function(t, k)
  if k == 'bins' then return string.format('age=%d,%d', 45, 60) end
  collectgarbage() collectgarbage() end}))
local la, lb = {}, {}
for _, g in ipairs(a.groups) do la[#la + 1] = g.group .. '=' .. g.n end
for _, g in ipairs(b.groups) do lb[#lb + 1] = g.group .. '=' .. g.n end
report.paragraph(table.concat(la, ' ') .. ' | ' .. table.concat(lb, ' '))"
eq "audit bins from __index: same groups" "${OUT#* | }" "${OUT% | *}"
contains "audit bins from __index: the bins" "$OUT" "age<45="

# lengths: data tables are read raw, once; a __len that grows cannot over-read
lua "__len that grows after the check" "local n = 0
local x = setmetatable({1, 2}, {__len = function() n = n + 1 return n == 1 and 2 or 2000 end})
report.line{series = {{name = 's', x = x, y = {3, 4}}}}"
eq "__len that grows: two points" "$(printf '%s\n' "$OUT" | grep -c '^| s |')" 2
lua "x and y from an __index that changes" "local k = 0
report.line{series = {setmetatable({name = 's'}, {__index = function(t, key)
  k = k + 1
  if k <= 2 then return {1, 2} end
  local big = {} for i = 1, 1000 do big[i] = i end return big end})}}"
eq "__index that changes: two points" "$(printf '%s\n' "$OUT" | grep -c '^| s |')" 2
lua "a negative __len is the raw length" "report.bar{labels = setmetatable({'a'},
  {__len = function() return -5 end}), values = setmetatable({1}, {__len = function() return 1e9 end})}"
contains "negative __len: the one bar" "$OUT" "| a | 1 |"
lua "rows with a huge __len" "report.table(setmetatable({{'h'}, {1}}, {__len = function() return 2^40 end}))"
contains "rows with a huge __len: raw rows" "$OUT" "| 1 |"
