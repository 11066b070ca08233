-- bias_audit: how a model's out-of-fold predictions behave across the groups of a column:
-- prevalence, selection rate, true- and false-positive rates, PPV and AUC per group, the
-- largest gaps (demographic parity and equalised-odds differences), with charts.
--   lumen report FILE bias_audit [MODEL [COLUMN [THRESHOLD]]] -o audit.html
local fmt = require("fmt")
local gm = require("groupmetrics")
local model = arg[1] or fmt.default_model()
if not model then error("bias_audit needs a model: lumen train first") end
local by = arg[2] or gm.default_group()
if not by then error("bias_audit needs a group column: give one as the second argument") end
local threshold = tonumber(arg[3] or "0.5")
if not threshold or threshold <= 0 or threshold >= 1 then
	error("the threshold must be a number between 0 and 1")
end

local rows = gm.by_group(model, by, threshold)
report.title("Bias audit: " .. model .. " by " .. by)
report.paragraph(string.format("Out-of-fold predictions of model %s, positive when risk >= %s. "
	.. "Patients without a prediction or an outcome are left out.", model, fmt.num(threshold, 2)))

local t = {}
for _, r in ipairs(rows) do
	t[#t + 1] = {group = r.group, n = r.n, prevalence = fmt.num(r.prevalence, 3),
		["mean risk"] = fmt.num(r.mean_risk, 3), ["selection rate"] = fmt.num(r.selection_rate, 3),
		TPR = fmt.num(r.tpr, 3), FPR = fmt.num(r.fpr, 3), PPV = fmt.num(r.ppv, 3),
		AUC = fmt.num(r.auc, 3)}
end
report.table(t, {columns = {"group", "n", "prevalence", "mean risk", "selection rate", "TPR",
	"FPR", "PPV", "AUC"}, caption = "Metrics by " .. by})

-- gaps between groups (the "all" row excluded)
local function gap(key)
	local lo, hi
	for i = 1, #rows - 1 do
		local v = rows[i][key]
		if v ~= nil then
			lo = lo and math.min(lo, v) or v
			hi = hi and math.max(hi, v) or v
		end
	end
	return lo and hi - lo or nil
end
report.heading("Gaps between groups")
local dp, tpr_gap, fpr_gap = gap("selection_rate"), gap("tpr"), gap("fpr")
local eo = (tpr_gap and fpr_gap) and math.max(tpr_gap, fpr_gap) or nil
report.table({
	{measure = "demographic parity difference (selection rate)", value = fmt.num(dp, 3)},
	{measure = "TPR difference", value = fmt.num(tpr_gap, 3)},
	{measure = "FPR difference", value = fmt.num(fpr_gap, 3)},
	{measure = "equalised odds difference (max of the two)", value = fmt.num(eo, 3)},
}, {columns = {"measure", "value"}})

local labels, sel, tpr = {}, {}, {}
for i = 1, #rows - 1 do
	labels[#labels + 1] = rows[i].group
	sel[#sel + 1] = rows[i].selection_rate
	tpr[#tpr + 1] = rows[i].tpr
end
report.bar{title = "Selection rate by " .. by, labels = labels, values = sel}
report.bar{title = "True-positive rate by " .. by, labels = labels, values = tpr}
