-- patient_explanations: the N highest-risk patients of a model (default 10) with the factors
-- that push their prediction most (integrated gradients against the cohort mean).
--   lumen report FILE patient_explanations [N [MODEL]] -o top.html
--@about The N highest-risk patients of a model and the factors that push each one's risk most
--@arg N      how many patients (default 10)
--@arg MODEL  the model (default: the newest)
local fmt = require("fmt")
local n = math.tointeger(tonumber(arg[1] or "10"))
if not n or n < 1 then error("N must be a positive whole number") end
local name = arg[2] or fmt.default_model()
if not name then error("patient_explanations needs a model: lumen train first") end
local model = lumen.model(name)

local ranked = {}
for p in lumen.patients{model = name} do
	if p.risk ~= nil then ranked[#ranked + 1] = p end
end
table.sort(ranked, function(a, b)
	if a.risk ~= b.risk then return a.risk > b.risk end
	return a.rowid < b.rowid
end)

local id_col
for _, c in ipairs(lumen.columns()) do if c.role == "id" then id_col = c.name end end

report.title("Highest-risk patients: " .. name)
report.paragraph(string.format("The %d patients with the highest out-of-fold risk under model "
	.. "%s (%s, target %s), each with the five factors that move the final model's logit most "
	.. "away from an average patient.", math.min(n, #ranked), name, model.arch, model.target))
local summary = {}
for i = 1, math.min(n, #ranked) do
	local p = ranked[i]
	local e = model:explain(p)
	local id = id_col and tostring(p[id_col]) or tostring(p.rowid)
	local parts = {}
	for k = 1, math.min(5, #e) do
		parts[#parts + 1] = string.format("%s %s (%+.3f)", e[k].label or e[k].column,
			e[k].text or fmt.num(e[k].value), e[k].attribution)
	end
	summary[#summary + 1] = {rank = i, patient = id, risk = fmt.num(p.risk, 3),
		factors = table.concat(parts, "; ")}
end
report.table(summary, {columns = {"rank", "patient", "risk", "factors"}})
-- the charts share one x range, so that their zero lines align and patients compare
local shown_e, xlo, xhi = {}, 0, 0
for i = 1, math.min(3, #ranked) do
	shown_e[i] = model:explain(ranked[i])
	for k = 1, math.min(8, #shown_e[i]) do
		xlo = math.min(xlo, shown_e[i][k].attribution)
		xhi = math.max(xhi, shown_e[i][k].attribution)
	end
end
if xhi <= xlo then xhi = xlo + 1 end
for i = 1, math.min(3, #ranked) do
	local p = ranked[i]
	local e = shown_e[i]
	local labels, values = {}, {}
	for k = 1, math.min(8, #e) do
		labels[#labels + 1] = (e[k].label or e[k].column) .. " " .. (e[k].text or fmt.num(e[k].value))
		values[#values + 1] = e[k].attribution
	end
	local id = id_col and tostring(p[id_col]) or tostring(p.rowid)
	report.heading("Patient " .. id, 3)
	report.paragraph(string.format("Risk %s; logit %s against %s for the average patient "
		.. "(completeness error %s).", fmt.num(p.risk, 3), fmt.num(e.logit, 3),
		fmt.num(e.baseline_logit, 3), e.delta < 0.0005 and "< 0.001" or fmt.num(e.delta, 3)))
	report.attribution{title = "Attributions for patient " .. id .. " (logit units; the "
		.. "charts share one axis)", labels = labels, values = values, range = {xlo, xhi}}
end
