-- API test run by tests/lua/api.sh through `lumen report`: every assertion that fails stops
-- the script with its line. arg[1..3] are counts computed independently with sqlite3:
-- patients with age > 50, women with bili > 2, patients with chol missing; arg[4] the total.
local n_age, n_fbili, n_nochol, n_all = tonumber(arg[1]), tonumber(arg[2]), tonumber(arg[3]),
	tonumber(arg[4])
local function eq(got, want, what)
	if got ~= want then
		error(string.format("%s: got %s, want %s", what, tostring(got), tostring(want)), 2)
	end
end
local function near(got, want, tol, what)
	if type(got) ~= "number" or math.abs(got - want) > tol then
		error(string.format("%s: got %s, want %s", what, tostring(got), tostring(want)), 2)
	end
end
local function fails(pattern, fn, ...)
	local ok, msg = pcall(fn, ...)
	if ok then error("expected an error matching " .. pattern, 2) end
	if not tostring(msg):find(pattern, 1, true) then
		error("error '" .. tostring(msg) .. "' does not contain '" .. pattern .. "'", 2)
	end
end

-- counting and filtering, by expression and by function, must agree with SQL
eq(lumen.count(), n_all, "count all")
eq(lumen.count{}, n_all, "count {}")
eq(lumen.count{where = "age > 50"}, n_age, "count where string")
eq(lumen.count{where = function(p) return p.age > 50 end}, n_age, "count where function")
eq(lumen.count{where = 'sex == "f" and bili > 2'}, n_fbili, "women with bili > 2")
eq(lumen.count{where = "chol == nil"}, n_nochol, "missing chol is nil")
eq(lumen.count{where = "p.chol == nil"}, n_nochol, "p is the patient in an expression")
eq(lumen.count{where = "math.floor(age) >= 0"}, n_all, "globals reachable in an expression")
local k = 0
for p in lumen.patients{where = "age > 50"} do
	k = k + 1
	assert(p.age > 50)
end
eq(k, n_age, "iteration")

-- fields and their types
local first
for p in lumen.patients() do first = p break end
near(first.age, 58.7652292950034, 1e-12, "age of patient 1")
eq(first.sex, "f", "sex is the category text")
eq(first.bili, 14.5, "bili")
eq(first.stage, 4, "stage")
eq(math.type(first.stage), "integer", "integer columns are integers")
eq(first.ascites, true, "booleans are booleans")
eq(first.rowid, 1, "rowid")
eq(tostring(first), "patient 1", "tostring")
eq(first["alk.phos"], 1718.0, "a column with a dot")
fails("a patient has no field 'agee'", function() return first.agee end)
fails("'risk' needs a model", function() return first.risk end)
fails("patients are read-only (cannot set 'age')", function() first.age = 3 end)
fails("patients are read-only (cannot set 'new')", function() first.new = 3 end)
eq(getmetatable(first), "patient", "metatable hidden")

-- a kept patient stays the same patient
local kept = {}
for p in lumen.patients{where = "stage == 4"} do kept[#kept + 1] = p end
for _, p in ipairs(kept) do eq(p.stage, 4, "kept patient " .. tostring(p)) end

-- model predictions: risk = bili / (bili + 2), outcome = (status == 2), label = risk >= 0.5
for p in lumen.patients{model = "bili_risk"} do
	near(p.risk, p.bili / (p.bili + 2), 1e-12, "risk of " .. tostring(p))
	eq(p.outcome, p.status == 2 and 1 or 0, "outcome of " .. tostring(p))
	eq(p.label, p.risk >= 0.5 and 1 or 0, "label of " .. tostring(p))
end
local high = 0
for p in lumen.patients{model = "bili_risk"} do if p.bili > 2 then high = high + 1 end end
eq(lumen.count{model = "bili_risk", where = "risk > 0.5"}, high, "risk > 0.5 iff bili > 2")

-- columns
local cols = lumen.columns()
eq(#cols, 20, "20 columns")
eq(cols[1].name, "id", "first column")
eq(cols[1].role, "id", "id role")
eq(cols[6].name, "sex", "sex column")
eq(cols[6].type, "text", "sex type")
eq(cols[6].categories[1], "f", "most frequent category first")
eq(cols[6].label, "Sex", "label")
eq(cols[11].label, "Serum bilirubin (mg/dl)", "bili label")
local total = 0
for _, c in ipairs(cols[6].categories) do total = total + cols[6].categories.counts[c] end
eq(total, n_all, "category counts add up")
eq(cols[12].missing, n_nochol, "chol missing")
near(cols[5].min, 38.1054072553046, 1e-9, "age min")

-- models
local ms = lumen.models()
eq(#ms, 1, "one model")
eq(ms[1].name, "bili_risk", "model name")
eq(ms[1].arch, "logreg", "arch")
local m = lumen.model("bili_risk")
eq(m.target, "status", "target")
eq(m.folds, 5, "folds")
local met = m:metrics()
near(met.auc, 0.812, 1e-12, "auc")
near(met.by_group.sex.m.auc, 0.9, 1e-12, "auc of men")
eq(m:hyper().epochs, 10, "hyper epochs")

-- wrong-type arguments to every function
fails("bad argument #1 to 'lumen.patients' (table expected, got number)", lumen.patients, 5)
fails("lumen.patients: where must be an expression string or a function (got a number)",
	lumen.patients, {where = 5})
fails("lumen.patients: model must be a string (got a number)", lumen.patients, {model = 1})
fails("lumen.patients: unknown option 'wher' (where, model)", lumen.patients, {wher = "x"})
fails("no model 'nope'", lumen.patients, {model = "nope"})
fails("where:1:6: unexpected symbol", lumen.patients, {where = "age >"})
fails("bad argument #1 to 'lumen.count' (table expected, got string)", lumen.count, "age > 3")
fails("lumen.count: where must be", lumen.count, {where = true})
fails("unknown name 'agee'", lumen.count, {where = "agee > 3"})
-- the filter language: a missing value never matches and never raises; booleans are 1/0
eq(lumen.count{where = "chol > 3"}, lumen.count{where = "chol ~= nil and chol > 3"}, "missing never matches")
eq(lumen.count{where = "ascites == 1"}, lumen.count{where = "ascites == true"}, "booleans as 1 and true")
fails("'function' is Lua, not the filter language", lumen.count, {where = "(function() x = 1 end)()"})
fails("bad argument #1 to 'lumen.model' (string expected, got no value)", lumen.model)
fails("bad argument #1 to 'lumen.model' (string expected, got table)", lumen.model, {})
fails("no model 'nope'", lumen.model, "nope")
fails("model:metrics(): call it on a model from lumen.model(NAME)", m.metrics)
fails("model:hyper(): call it on a model", m.hyper, 3)
fails("call it on a model", m.metrics, {})
fails("bad argument #1 to 'report.title' (string expected, got nil)", report.title, nil)
fails("bad argument #1 to 'report.heading' (string expected, got table)", report.heading, {})
fails("bad argument #2 to 'report.heading' (number expected, got string)", report.heading, "h", "x")
fails("bad argument #1 to 'report.paragraph' (string expected, got no value)", report.paragraph)
fails("bad argument #1 to 'report.table' (table expected, got number)", report.table, 1)
fails("report.table: row 1 is a number, not a table", report.table, {1})
fails("bad argument #2 to 'report.table' (table expected, got number)", report.table, {}, 5)
fails("report.table: no columns", report.table, {})
fails("report.table: columns must be a list of names", report.table, {{a = 1}}, {columns = 3})
fails("bad argument #1 to 'report.bar' (table expected, got string)", report.bar, "x")
fails("report.bar: labels must be a list", report.bar, {labels = 1, values = {}})
fails("report.bar: values[1] is a string, not a number", report.bar, {labels = {"a"}, values = {"x"}})
fails("report.bar: 1 labels but 2 values", report.bar, {labels = {"a"}, values = {1, 2}})
fails("report.attribution: labels[1] is a table, not a string", report.attribution,
	{labels = {{}}, values = {1}})
fails("report.line: series must be a list", report.line, {series = 5})
fails("report.line: series[1] has 1 x but 0 y", report.line, {series = {{x = {1}, y = {}}}})
fails("report.km: series[1] must be a table", report.km, {series = {3}})
fails("bad argument #1 to 'report.km' (table expected, got number)", report.km, 3)

report.paragraph("api ok")
