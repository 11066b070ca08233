-- groupmetrics: per-group classification metrics of a model's stored out-of-fold predictions,
-- computed in Lua from p.risk and p.outcome (threshold 0.5 unless given).
--   local gm = require("groupmetrics")
--   local rows = gm.by_group("bili_risk", "sex")   -- list, one per group, then "all"
local gm = {}

-- AUC by the Mann-Whitney statistic (ties count one half); nil without both classes.
function gm.auc(risks, outcomes)
	local idx = {}
	for i = 1, #risks do idx[i] = i end
	table.sort(idx, function(a, b) return risks[a] < risks[b] end)
	local rank, i, n = {}, 1, #idx
	while i <= n do
		local j = i
		while j < n and risks[idx[j + 1]] == risks[idx[i]] do j = j + 1 end
		for k = i, j do rank[idx[k]] = (i + j) / 2 end
		i = j + 1
	end
	local npos, nneg, sum = 0, 0, 0
	for k = 1, n do
		if outcomes[k] == 1 then npos = npos + 1; sum = sum + rank[k] else nneg = nneg + 1 end
	end
	if npos == 0 or nneg == 0 then return nil end
	return (sum - npos * (npos + 1) / 2) / (npos * nneg)
end

local function summarise(name, risks, outcomes, threshold)
	local tp, fp, tn, fn, sr = 0, 0, 0, 0, 0
	for i = 1, #risks do
		local pred = risks[i] >= threshold
		if pred then sr = sr + 1 end
		if outcomes[i] == 1 then
			if pred then tp = tp + 1 else fn = fn + 1 end
		else
			if pred then fp = fp + 1 else tn = tn + 1 end
		end
	end
	local n = #risks
	local function ratio(a, b) if b == 0 then return nil end return a / b end
	local mean = 0
	for i = 1, n do mean = mean + risks[i] end
	return {
		group = name, n = n, prevalence = ratio(tp + fn, n), mean_risk = ratio(mean, n),
		selection_rate = ratio(sr, n), tpr = ratio(tp, tp + fn), fpr = ratio(fp, fp + tn),
		ppv = ratio(tp, tp + fp), accuracy = ratio(tp + tn, n), auc = gm.auc(risks, outcomes),
	}
end

-- One row per group of column `by` (in order of size), then the whole cohort as "all".
-- Patients without a prediction or an outcome are left out.
function gm.by_group(model, by, threshold)
	threshold = threshold or 0.5
	local groups, order = {}, {}
	local all_r, all_y = {}, {}
	for p in lumen.patients{model = model} do
		local r, y = p.risk, p.outcome
		if r ~= nil and y ~= nil then
			local g = p[by]
			g = g == nil and "(missing)" or tostring(g)
			if not groups[g] then
				groups[g] = {r = {}, y = {}}
				order[#order + 1] = g
			end
			table.insert(groups[g].r, r)
			table.insert(groups[g].y, y)
			all_r[#all_r + 1], all_y[#all_y + 1] = r, y
		end
	end
	table.sort(order, function(a, b)
		if #groups[a].r ~= #groups[b].r then return #groups[a].r > #groups[b].r end
		return a < b
	end)
	local rows = {}
	for _, g in ipairs(order) do rows[#rows + 1] = summarise(g, groups[g].r, groups[g].y, threshold) end
	rows[#rows + 1] = summarise("all", all_r, all_y, threshold)
	return rows
end

-- The first group column of the cohort (role "group"), or nil.
function gm.default_group()
	for _, c in ipairs(lumen.columns()) do
		if c.role == "group" then return c.name end
	end
end

return gm
