-- cohort_summary: what the cohort holds. One table per kind of column, the categories of the
-- group columns as bar charts, and the outcome of a model when one is named.
--   lumen report FILE cohort_summary [WHERE] [-o summary.html]
-- WHERE (optional) is a filter expression, e.g. 'age >= 65'.
--@about What the cohort holds: the columns by kind, the groups, a model's outcome
--@arg WHERE  a filter expression, e.g. 'age >= 65' (default: every patient)
local fmt = require("fmt")
local where = arg[1]
local n_all = lumen.count()
local n = lumen.count{where = where}

report.title("Cohort summary")
if where then
	report.paragraph(string.format("%d of %d patients match `%s`.", n, n_all, where))
else
	report.paragraph(string.format("%d patients.", n))
end

local cols = lumen.columns()
local numeric, text = {}, {}
for _, c in ipairs(cols) do
	if c.role ~= "ignore" and c.role ~= "id" then
		if c.type == "text" or c.type == "boolean" then
			text[#text + 1] = c
		else
			numeric[#numeric + 1] = c
		end
	end
end

-- statistics over the (filtered) patients, computed here so that a filter applies to them.
-- One pass keeps the matching patients and counts the categories; then the values of one
-- numeric column at a time, so that memory holds one column, not the cohort (1,000,000
-- patients fit the default 512 MB).
local sel = {}
local missing = {}
for _, c in ipairs(cols) do missing[c.name] = 0 end
local counts = {}
for _, c in ipairs(text) do counts[c.name] = {} end
for p in lumen.patients{where = where} do
	sel[#sel + 1] = p
	for _, c in ipairs(text) do
		local v = p[c.name]
		if v == nil then missing[c.name] = missing[c.name] + 1
		else
			v = tostring(v)
			counts[c.name][v] = (counts[c.name][v] or 0) + 1
		end
	end
end
local function column_values(name)
	local vals, k = {}, 0
	for i = 1, #sel do
		local v = sel[i][name]
		if v == nil then missing[name] = missing[name] + 1
		else k = k + 1 vals[k] = v end
	end
	return vals
end

report.heading("Numeric columns")
local rows = {}
for _, c in ipairs(numeric) do
	local vals = column_values(c.name)
	local m, sd = fmt.mean_sd(vals)
	local med = fmt.median(vals)
	rows[#rows + 1] = {
		column = c.label and (c.name .. " (" .. c.label .. ")") or c.name,
		role = c.role, missing = missing[c.name], mean = fmt.num(m), sd = fmt.num(sd),
		median = fmt.num(med), min = fmt.num(vals[1]), max = fmt.num(vals[#vals]),
	}
	vals = nil
	collectgarbage()
end
report.table(rows, {columns = {"column", "role", "missing", "mean", "sd", "median", "min", "max"}})

report.heading("Categorical columns")
rows = {}
for _, c in ipairs(text) do
	local parts = {}
	local labels, values = {}, {}
	local cats = {}
	for k in pairs(counts[c.name]) do cats[#cats + 1] = k end
	table.sort(cats, function(a, b)
		local x, y = counts[c.name][a], counts[c.name][b]
		if x ~= y then return x > y end
		return a < b
	end)
	for _, k in ipairs(cats) do
		parts[#parts + 1] = string.format("%s %d (%s)", k, counts[c.name][k],
			fmt.pct(counts[c.name][k] / math.max(n, 1)))
		labels[#labels + 1] = k
		values[#values + 1] = counts[c.name][k]
	end
	rows[#rows + 1] = {column = c.name, role = c.role, missing = missing[c.name],
		categories = table.concat(parts, ", ")}
	if c.role == "group" then
		report.bar{title = "Patients by " .. c.name, labels = labels, values = values}
	end
end
report.table(rows, {columns = {"column", "role", "missing", "categories"}})

local models = lumen.models()
if #models > 0 then
	report.heading("Models")
	local mrows = {}
	for _, m in ipairs(models) do
		mrows[#mrows + 1] = {name = m.name, arch = m.arch, target = m.target,
			patients = m.n_used, created = m.created_at}
	end
	report.table(mrows, {columns = {"name", "arch", "target", "patients", "created"}})
end
