-- treatment_benefit: who benefits from which arm, by a treatment-effect model
-- (lumen train --effect): the average effect, the Qini curve, the calibration of the effect,
-- balance and overlap, the benefit by group, the effect modifiers, the patients with the
-- largest predicted benefit and why the first of them is predicted to benefit. Every number
-- comes from lumen.effect (the numbers of lumen models, lumen audit and lumen explain).
--   lumen report FILE treatment_benefit [MODEL [ARM [GROUP-COLUMN]]] -o benefit.html
--@about Who benefits from which arm: average effect, Qini curve, calibration of the effect, benefit by group, why
--@arg MODEL         the treatment-effect model (default: the newest)
--@arg ARM           the arm compared with the reference (default: the first other arm)
--@arg GROUP-COLUMN  the column for the benefit by group (default: the first group column)
local fmt = require("fmt")
local name = arg[1]
if not name then -- the newest effect model
	for _, m in ipairs(lumen.models()) do if m.task == "effect" then name = m.name end end
end
if not name then error("treatment_benefit needs an effect model: lumen train FILE --model ARCH "
	.. "--target COL --effect ARM-COLUMN") end
local m = lumen.model(name)
if m.task ~= "effect" then error("model '" .. name .. "' is not a treatment-effect model") end
local by = arg[3] or fmt.default_group()
local e = lumen.effect{model = name, arm = arg[2], by = by, explain = true, top = 10}
local ev = e.evaluation

report.title("Treatment benefit: " .. e.arm .. " against " .. e.reference)
report.paragraph(string.format("Model %s (%s, %s-learner): the risk of %s under each arm of %s "
	.. "for every patient, out of fold; the effect of an arm is its risk minus the reference "
	.. "arm's (a negative effect lowers the risk), the benefit is minus the effect.",
	name, m.arch, e.learner == "dr" and "DR" or "T", m.target, e.column))

report.heading("Average effect")
local ate = ev.ate
local rows = {
	{estimate = "observed (difference in means)", effect = fmt.num(ate.observed, 3),
		interval = "(" .. fmt.num(ate.lo, 3) .. ", " .. fmt.num(ate.hi, 3) .. ")"},
	{estimate = "predicted (mean of the patients' effects)", effect = fmt.num(ate.predicted, 3),
		interval = ""},
}
if ate.aipw then
	rows[#rows + 1] = {estimate = "doubly robust (AIPW)", effect = fmt.num(ate.aipw.estimate, 3),
		interval = "(" .. fmt.num(ate.aipw.lo, 3) .. ", " .. fmt.num(ate.aipw.hi, 3) .. ")"}
end
report.table(rows, {columns = {"estimate", "effect", "interval"},
	caption = string.format("%d patients of arms %s and %s; 95%% intervals", ev.n, e.arm, e.reference)})

report.heading("Qini curve")
local c = ev.curves
report.line{title = "Qini curve: events avoided per patient if the top share were treated",
	xlabel = "share of patients, by predicted benefit", ylabel = "events avoided / N",
	series = {{name = "model", x = c.x, y = c.qini}, {name = "random", x = c.x, y = c.random_qini}}}
report.paragraph(string.format("Area between the Qini curve and the random line: %s (uplift curve: "
	.. "%s); above 0 the model finds the patients who benefit better than chance.",
	fmt.num(c.qini_area, 4), fmt.num(c.uplift_area, 4)))

report.heading("Calibration of the effect")
local cal = ev.calibration
local px, oy, lo, hi, t = {}, {}, {}, {}, {}
for i, g in ipairs(cal.groups) do
	px[i], oy[i] = g.predicted, g.observed
	t[i] = {group = i, n = g.n, predicted = fmt.num(g.predicted, 3), observed = fmt.num(g.observed, 3),
		interval = "(" .. fmt.num(g.lo, 3) .. ", " .. fmt.num(g.hi, 3) .. ")"}
end
local lo_x, hi_x = math.huge, -math.huge
for _, v in ipairs(px) do lo_x = math.min(lo_x, v); hi_x = math.max(hi_x, v) end
report.line{title = "Observed against predicted effect, by group of predicted benefit",
	xlabel = "predicted effect", ylabel = "observed effect",
	series = {{name = "groups", x = px, y = oy}, {name = "ideal", x = {lo_x, hi_x}, y = {lo_x, hi_x}}}}
report.table(t, {columns = {"group", "n", "predicted", "observed", "interval"},
	caption = string.format("Groups by predicted benefit, highest first; slope %s, intercept %s "
		.. "(1 and 0: calibrated)", fmt.num(cal.slope, 2), fmt.num(cal.intercept, 3))})

report.heading("Balance and overlap")
local bal = {}
for _, b in ipairs(ev.balance.columns) do
	if b.smd and math.abs(b.smd) > 0.1 then bal[#bal + 1] = {column = b.column, smd = fmt.num(b.smd, 2)} end
end
report.paragraph(string.format("Largest standardised mean difference between the arms: %s%s. "
	.. "Patients with a propensity outside [0.05, 0.95]: %s.", fmt.num(ev.balance.max_abs_smd, 2),
	#bal > 0 and " (above 0.1: not balanced as randomised arms would be)" or "",
	fmt.pct(e.overlap and e.overlap.share_outside or nil)))
if #bal > 0 then report.table(bal, {columns = {"column", "smd"}}) end

if e.groups then
	report.heading("Who would be helped: benefit by " .. by)
	local g = {}
	for _, x in ipairs(e.groups) do
		g[#g + 1] = {group = x.group, n = x.n, benefit = fmt.num(x.predicted_benefit, 3),
			observed = fmt.num(x.observed_effect, 3),
			interval = "(" .. fmt.num(x.lo, 3) .. ", " .. fmt.num(x.hi, 3) .. ")"}
	end
	report.table(g, {columns = {"group", "n", "benefit", "observed", "interval"},
		caption = "Mean predicted benefit and the observed effect (arm - reference) per group"})
end

report.heading("Effect modifiers")
local labels, values = {}, {}
for i, x in ipairs(e.importance) do
	if i > 10 then break end
	labels[i], values[i] = x.column, x.mean_abs
end
report.bar{title = "Mean |attribution| to the " .. e.explained .. " of " .. e.arm, labels = labels,
	values = values}

report.heading("Patients with the largest predicted benefit")
local tp = {}
for i, p in ipairs(e.top) do
	tp[i] = {rowid = p.rowid, benefit = fmt.num(p.benefit, 3),
		["risk " .. e.reference] = fmt.num(p.p[e.reference], 3), ["risk " .. e.arm] = fmt.num(p.p[e.arm], 3)}
end
report.table(tp, {columns = {"rowid", "benefit", "risk " .. e.reference, "risk " .. e.arm}})

if e.top[1] then
	-- the id the patient is known by (the id column, else the row number)
	local idcol
	for _, c in ipairs(lumen.columns()) do if c.role == "id" then idcol = c.name end end
	local who = tostring(e.top[1].rowid)
	if idcol then
		for p in lumen.patients() do
			if p.rowid == e.top[1].rowid then who = tostring(p[idcol]) break end
		end
	end
	local pv = lumen.effect{model = name, arm = e.arm, patient = who}.patient
	report.heading("Why patient " .. who .. " is predicted to benefit from " .. e.arm)
	local fl, fv = {}, {}
	table.sort(pv.factors, function(x, y) return math.abs(x.attribution) > math.abs(y.attribution) end)
	for i, f in ipairs(pv.factors) do
		if i > 8 then break end
		fl[i], fv[i] = f.column .. " = " .. (f.value ~= "" and f.value or "missing"), f.attribution
	end
	report.attribution{title = string.format("Attributions to the %s (%s %.3f = baseline %.3f + "
		.. "the bars; negative: more benefit)", pv.explained, pv.explained, pv.value, pv.baseline_value),
		labels = fl, values = fv}
	report.paragraph(string.format("Explained with the %s networks; completeness error %s.",
		pv.model_used == "fold" and "fold" or "final",
		pv.delta < 1e-6 and "below 1e-6" or string.format("%.1g", pv.delta)))
end
