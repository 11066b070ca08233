-- bias_audit: the fairness audit of `lumen audit` (lumen.audit, the same module and the same
-- numbers) as a report: metrics per group with the four-fifths-rule flags, bootstrap 95%
-- intervals and "significant" marks, small groups marked, Fairlearn's summary figures,
-- per-group thresholds, charts of selection rate, TPR, FPR and calibration-in-the-large, and
-- "Why the groups differ" (lumen.audit's why: IG importance overall and per group, warnings).
--   lumen report FILE bias_audit [MODEL [BY [THRESHOLD [BOOTSTRAP]]]] [KEY=VALUE...] -o audit.html
-- Positional arguments in that order, or KEY=VALUE for any of model, by, bins, threshold,
-- bootstrap, seed, reference, tolerance (bins may be given more than once):
--   lumen report pbc.lumen bias_audit lr age bins=age=50,65 threshold=youden 'reference=age 50-65'
-- Defaults: the last model trained, the first column with the group role, threshold 0.5,
-- 1000 bootstrap replicates with seed 1, the largest group as reference, tolerance 0.8.
--@about The fairness audit of lumen audit: metrics per group, disparities, intervals, why
--@arg MODEL       the model (default: the newest)
--@arg BY          the group column(s), e.g. sex or sex,age (default: the first group column)
--@arg THRESHOLD   the decision threshold, or youden (default 0.5)
--@arg BOOTSTRAP   bootstrap replicates for the intervals (default 1000)
--@arg bins=       cut points of a numeric group column, e.g. bins=age=50,65 (repeatable)
--@arg seed=       the bootstrap seed (default 1)
--@arg reference=  the reference group (default: the largest)
--@arg tolerance=  the four-fifths band's lower edge (default 0.8)
local fmt = require("fmt")

local opt = {bins = {}}
local positional = {"model", "by", "threshold", "bootstrap"}
local known = {model = true, by = true, bins = true, threshold = true, bootstrap = true,
	seed = true, reference = true, tolerance = true}
local npos = 0
for i = 1, #arg do
	local k, v = arg[i]:match("^(%a+)=(.*)$")
	if k and known[k] then
		if k == "bins" then opt.bins[#opt.bins + 1] = v else opt[k] = v end
	else
		npos = npos + 1
		if not positional[npos] then
			error("too many arguments: '" .. arg[i] .. "' (give MODEL BY THRESHOLD BOOTSTRAP, "
				.. "or KEY=VALUE)")
		end
		opt[positional[npos]] = arg[i]
	end
end

local model = opt.model or fmt.default_model()
if not model then error("bias_audit needs a model: lumen train first") end
local by = opt.by or fmt.default_group()
if not by then error("bias_audit needs a group column: give one as the second argument") end
local threshold = opt.threshold or "0.5"
if threshold ~= "youden" then
	threshold = tonumber(threshold)
	if not threshold or threshold <= 0 or threshold >= 1 then
		error("the threshold must be youden or a number between 0 and 1")
	end
end
local function whole(name, s, default)
	if s == nil then return default end
	local v = math.tointeger(tonumber(s))
	if not v or v < 0 then error(name .. " must be a whole number >= 0 (got '" .. s .. "')") end
	return v
end
local bootstrap = whole("bootstrap", opt.bootstrap, 1000)
local seed = whole("seed", opt.seed, 1)
local tolerance = tonumber(opt.tolerance or "0.8")
if not tolerance then error("tolerance must be a number between 0 and 1") end

local a = lumen.audit{model = model, by = by, bins = opt.bins, threshold = threshold,
	bootstrap = bootstrap, seed = seed, reference = opt.reference, tolerance = tolerance}

-- ---- presentation helpers (no statistics here: every figure below comes from lumen.audit) ----

-- A group's label as the CLI shows it: the value alone when one column groups ("f" for
-- "sex=f"); bin labels ("age<50") and intersections whole.
local single = not by:find(",", 1, true)
local function show(label)
	if single and label:sub(1, #by + 1) == by .. "=" then return label:sub(#by + 2) end
	return label
end
local function f3(x) return x == nil and "NA" or string.format("%.3f", x) end
local function interval(e, lo, hi, digits)
	lo, hi = e[lo or "lower"], e[hi or "upper"]
	if lo == nil or hi == nil then return "" end
	return string.format("[%." .. (digits or 3) .. "f, %." .. (digits or 3) .. "f]", lo, hi)
end
local function with_ci(e)
	local ci = interval(e)
	if ci == "" then return f3(e.value) end
	return f3(e.value) .. " " .. ci
end
local is_ref = {}
for _, g in ipairs(a.groups) do is_ref[g] = g.group == a.reference end
-- The mark after a value whose disparity is judged: ▲ or ▼ when flagged, * when significant,
-- ? for a group too small to judge (never flagged), as `lumen audit` prints them.
local function mark(g, key)
	local d = g.disparities[key]
	if g.too_small and not is_ref[g] then return " ?" end
	if d.flag > 0 then return " ▲" .. (d.significant and "*" or "") end
	if d.flag < 0 then return " ▼" .. (d.significant and "*" or "") end
	return ""
end
local function glabel(g)
	return show(g.group) .. (is_ref[g] and " (reference)" or "") .. (g.too_small and " ?" or "")
end

-- ---- the report ----

local thr_text = threshold == "youden"
	and string.format("%.4g (Youden's J over all patients)", a.threshold)
	or string.format("%.4g", a.threshold)
local total = 0
for _, g in ipairs(a.groups) do total = total + g.n end
report.title("Bias audit: " .. model .. " by " .. by)
-- the command that prints the same figures, its words quoted for a shell where needed
local function q(w)
	if w:match("^[%w_.,=:/+-]+$") then return w end
	return "'" .. w:gsub("'", "'\\''") .. "'"
end
local cmd = {"lumen audit FILE --model", q(model), "--by", q(by)}
for _, b in ipairs(opt.bins) do cmd[#cmd + 1] = "--bins " .. q(b) end
cmd[#cmd + 1] = "--threshold " .. tostring(threshold)
if opt.reference then cmd[#cmd + 1] = "--reference " .. q(opt.reference) end
if opt.tolerance then cmd[#cmd + 1] = "--tolerance " .. q(opt.tolerance) end
cmd[#cmd + 1] = string.format("--bootstrap %d --seed %d", bootstrap, seed)
report.paragraph(string.format("Out-of-fold predictions of model %s for %d patients in %d groups "
	.. "by %s; a prediction is positive when risk >= %s. The figures are those of `%s`.", model,
	total, #a.groups, by, thr_text, table.concat(cmd, " ")))
local lo = a.left_out
if lo.no_prediction + lo.no_outcome + lo.group_missing > 0 then
	report.paragraph(string.format("Left out: %d without a prediction, %d without an outcome, "
		.. "%d with a missing group value.", lo.no_prediction, lo.no_outcome, lo.group_missing))
end
if lo.empty_combinations > 0 then
	report.paragraph(string.format("%d combinations of the grouping have no patient and are not "
		.. "shown.", lo.empty_combinations))
end
local stored = lumen.model(model):metrics()
stored = stored and (stored.pooled or stored)
if stored and stored.auc then
	report.paragraph(string.format("Whole cohort, as stored by lumen train: AUC %s, Brier %s.",
		f3(stored.auc), f3(stored.brier)))
end
report.paragraph(string.format("Reference group: %s%s. Flags (the four-fifths rule): ▲ ratio to "
	.. "the reference above %.2f, ▼ below %.2f; * significant, the bootstrap 95%% interval of the "
	.. "ratio excludes 1; ? a group under 30 patients, too small to judge, never flagged.%s",
	show(a.reference), opt.reference and "" or " (the largest)", 1 / a.tolerance, a.tolerance,
	a.bootstrap > 0 and string.format(" Intervals: %d bootstrap replicates resampling patients "
		.. "within groups, seed %d.", a.bootstrap, seed)
	or " No bootstrap: no intervals and no significance."))

local small = {}
for _, g in ipairs(a.groups) do
	if g.too_small then small[#small + 1] = show(g.group) .. " (" .. g.n .. ")" end
end
if #small > 0 then
	report.paragraph("Too small to judge (under 30 patients): " .. table.concat(small, ", ")
		.. ". Their figures are shown but not flagged.")
end

report.heading("Classification at the threshold")
local cls = {{"prevalence", "prevalence"}, {"selection_rate", "selection rate"}, {"tpr", "TPR"},
	{"fpr", "FPR"}, {"fnr", "FNR"}, {"tnr", "TNR"}, {"ppv", "PPV"}, {"npv", "NPV"},
	{"accuracy", "accuracy"}}
local cols = {"group", "n"}
for _, c in ipairs(cls) do cols[#cols + 1] = c[2] end
local t = {}
for _, g in ipairs(a.groups) do
	local r = {group = glabel(g), n = g.n}
	for _, c in ipairs(cls) do
		local key = c[1]
		r[c[2]] = f3(g.metrics[key].value) .. (key ~= "prevalence" and mark(g, key) or "")
	end
	t[#t + 1] = r
end
report.table(t, {columns = cols, caption = "Metrics by " .. by})

report.heading("Discrimination, calibration and net benefit")
local cal = {{"auc", "AUC"}, {"brier", "Brier"}, {"mean_predicted", "mean risk"},
	{"prevalence", "observed"}, {"calibration_in_the_large", "risk - observed"},
	{"calibration_slope", "slope"}, {"calibration_intercept", "intercept"},
	{"net_benefit", "net benefit"}, {"net_benefit_treat_all", "treat all"}}
cols = {"group"}
for _, c in ipairs(cal) do cols[#cols + 1] = c[2] end
t = {}
for _, g in ipairs(a.groups) do
	local r = {group = glabel(g)}
	for _, c in ipairs(cal) do r[c[2]] = f3(g.metrics[c[1]].value) end
	t[#t + 1] = r
end
report.table(t, {columns = cols, caption = "risk - observed: calibration-in-the-large; slope and "
	.. "intercept: logistic recalibration; net benefit: TP/n - FP/n t/(1-t) at the threshold"})

if a.bootstrap > 0 then
	report.heading("95% bootstrap intervals")
	local ci = {{"selection_rate", "selection rate"}, {"tpr", "TPR"}, {"fpr", "FPR"},
		{"ppv", "PPV"}, {"auc", "AUC"}, {"calibration_in_the_large", "risk - observed"}}
	cols = {"group"}
	for _, c in ipairs(ci) do cols[#cols + 1] = c[2] end
	t = {}
	for _, g in ipairs(a.groups) do
		local r = {group = glabel(g)}
		for _, c in ipairs(ci) do r[c[2]] = with_ci(g.metrics[c[1]]) end
		t[#t + 1] = r
	end
	report.table(t, {columns = cols})
end

report.heading("Disparities against " .. show(a.reference))
-- the judged metrics in the order of audit.c's table
local judged = {{"selection_rate", "selection rate"}, {"tpr", "TPR"}, {"fpr", "FPR"},
	{"fnr", "FNR"}, {"tnr", "TNR"}, {"ppv", "PPV"}, {"npv", "NPV"}, {"accuracy", "accuracy"}}
t = {}
for _, g in ipairs(a.groups) do
	for _, c in ipairs(judged) do
		local d = g.disparities[c[1]]
		if d.flag ~= 0 then
			t[#t + 1] = {group = show(g.group), metric = c[2],
				flag = d.flag > 0 and string.format("▲ above %.2f", 1 / a.tolerance)
					or string.format("▼ below %.2f", a.tolerance),
				ratio = string.format("%.2f", d.ratio),
				["95% CI"] = interval(d, "ratio_lower", "ratio_upper", 2),
				significance = a.bootstrap == 0 and "no bootstrap"
					or (d.significant and "significant" or "not significant"),
				difference = string.format("%+.3f", d.difference)}
		end
	end
end
local judgeable = false
for _, g in ipairs(a.groups) do judgeable = judgeable or (not g.too_small and not is_ref[g]) end
if #t == 0 and not judgeable then
	report.paragraph("No disparity can be judged: every group other than the reference has fewer "
		.. "than 30 patients.")
elseif #t == 0 then
	report.paragraph(string.format("No disparity flagged: every ratio to %s of the groups large "
		.. "enough to judge lies within %.2f to %.2f.", show(a.reference), a.tolerance,
		1 / a.tolerance))
else
	report.table(t, {columns = {"group", "metric", "flag", "ratio", "95% CI", "significance",
		"difference"}, caption = string.format("%d flagged", #t)})
end

report.heading("Summary (Fairlearn's definitions)")
local sums = {{"demographic_parity_difference", "demographic parity difference"},
	{"demographic_parity_ratio", "demographic parity ratio"},
	{"equalized_odds_difference", "equalized odds difference"},
	{"equalized_odds_ratio", "equalized odds ratio"},
	{"equal_opportunity_difference", "equal opportunity difference"}}
t = {}
for _, s in ipairs(sums) do
	local e = a.summary[s[1]]
	t[#t + 1] = {measure = s[2], value = f3(e.value), ["95% CI"] = interval(e)}
end
report.table(t, {columns = {"measure", "value", "95% CI"},
	caption = "max - min and min / max over the groups"})

report.heading("Per-group thresholds matching " .. show(a.reference))
t = {}
for _, g in ipairs(a.groups) do
	local th = g.thresholds
	local acc = th.accuracy_at_common_threshold
	local function chg(x) return (x and acc) and string.format("%+.3f", x - acc) or "NA" end
	t[#t + 1] = {group = glabel(g), ["accuracy at t"] = f3(acc),
		["equal opportunity t"] = f3(th.equal_opportunity), TPR = f3(th.equal_opportunity_tpr),
		["accuracy change (EO)"] = chg(th.equal_opportunity_accuracy),
		["equal selection t"] = f3(th.equal_selection),
		["selection rate"] = f3(th.equal_selection_rate),
		["accuracy change (selection)"] = chg(th.equal_selection_accuracy)}
end
report.table(t, {columns = {"group", "accuracy at t", "equal opportunity t", "TPR",
	"accuracy change (EO)", "equal selection t", "selection rate", "accuracy change (selection)"},
	caption = "Deterministic thresholds per group (never randomised predictions)"})

-- the ratios to the reference with their bootstrap intervals, every chart on one log axis
-- (so that they compare at a glance) with the four-fifths band shaded
local ratio_keys = {{"selection_rate", "Selection rate"}, {"tpr", "True-positive rate"},
	{"fpr", "False-positive rate"}, {"ppv", "Positive predictive value"}}
local rlo, rhi = a.tolerance, 1 / a.tolerance
local function pos(x) return x ~= nil and x > 0 and x < math.huge end
for _, c in ipairs(ratio_keys) do
	for _, g in ipairs(a.groups) do
		local d = g.disparities[c[1]]
		for _, x in ipairs({d.ratio, d.ratio_lower, d.ratio_upper}) do
			if pos(x) then rlo = math.min(rlo, x); rhi = math.max(rhi, x) end
		end
	end
end
for _, c in ipairs(ratio_keys) do
	local labels, values, lower, upper = {}, {}, {}, {}
	for _, g in ipairs(a.groups) do
		local d = g.disparities[c[1]]
		labels[#labels + 1] = show(g.group) .. (is_ref[g] and " (reference)" or "")
			.. (g.too_small and " (small)" or "")
		values[#values + 1] = pos(d.ratio) and d.ratio or 0 / 0
		lower[#lower + 1] = pos(d.ratio_lower) and d.ratio_lower or 0 / 0
		upper[#upper + 1] = pos(d.ratio_upper) and d.ratio_upper or 0 / 0
	end
	report.interval{title = string.format("%s by %s: ratio to %s%s; shaded: %.2f to %.2f "
		.. "(the four-fifths rule), red: outside it", c[2], by, show(a.reference),
		a.bootstrap > 0 and string.format(" with %d-replicate bootstrap 95%% intervals",
			a.bootstrap) or " (no bootstrap: no intervals)", a.tolerance, 1 / a.tolerance),
		xlabel = "ratio to the reference (log scale)", labels = labels, values = values,
		lower = lower, upper = upper, band = {a.tolerance, 1 / a.tolerance}, log = true,
		reference = 1, range = {rlo, rhi}}
end

-- ---- why the groups differ (lumen.audit's why: audit_why.c, as `lumen audit` prints it) ----
report.heading("Why the groups differ")
local why = a.why
if why.patients == 0 then
	report.paragraph(why.message)
else
	local top = math.min(5, #why.inputs)
	report.paragraph(string.format("Mean |integrated gradient| per input over %d patients with "
		.. "stored attributions (lumen explain): the model's top %d inputs overall and within "
		.. "each group. A group column among them, or an input associated with the grouping "
		.. "(Cramér's V or eta above 0.5), is warned about below.", why.patients, top))
	cols = {"rank", "input", "all"}
	for _, g in ipairs(a.groups) do cols[#cols + 1] = show(g.group) end
	t = {}
	for k = 1, top do
		local i = why.inputs[k]
		local r = {rank = i.rank, input = i.column, all = string.format("%.4f", i.all)}
		for _, g in ipairs(a.groups) do
			local v = i.groups[g.group]
			r[show(g.group)] = v == nil and "NA" or string.format("%.4f", v)
		end
		t[#t + 1] = r
	end
	report.table(t, {columns = cols, caption = "Top inputs by mean |integrated gradient|"})
	-- one x range for every group's chart: the bars share one zero line
	local wlo, whi = 0, 0
	for _, g in ipairs(why.per_group) do
		for k = 1, math.min(5, #g.inputs) do
			wlo = math.min(wlo, g.inputs[k].value); whi = math.max(whi, g.inputs[k].value)
		end
	end
	if whi <= wlo then whi = wlo + 1 end
	for _, g in ipairs(why.per_group) do
		local labels, values = {}, {}
		for k = 1, math.min(5, #g.inputs) do
			labels[k] = g.inputs[k].column
			values[k] = g.inputs[k].value
		end
		if #labels > 0 then
			report.attribution{title = "Top inputs for " .. show(g.group), labels = labels,
				values = values, range = {wlo, whi}}
		end
	end
	if #why.warnings == 0 then
		report.paragraph("No warning: no grouping column and no input associated with the "
			.. "grouping above 0.5 is among the model's top 5 inputs.")
	else
		for _, w in ipairs(why.warnings) do report.paragraph("! warning: " .. w.message) end
	end
end
