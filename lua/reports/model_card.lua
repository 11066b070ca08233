-- model_card: a model card (Mitchell et al., "Model Cards for Model Reporting", FAT* 2019):
-- model details, intended use, factors, metrics overall and per group, evaluation and training
-- data, ethical considerations, caveats and recommendations.
--   lumen report FILE model_card [MODEL [GROUP-COLUMN]] -o card.html
--@about A model card: details, intended use, metrics overall and per group, caveats
--@arg MODEL         the model (default: the newest)
--@arg GROUP-COLUMN  the column for the per-group figures (default: the first group column)
local fmt = require("fmt")
local name = arg[1] or fmt.default_model()
if not name then error("model_card needs a model: lumen train first") end
local m = lumen.model(name)
local metrics = m:metrics() or {}
local pooled = metrics.pooled or metrics
local by = arg[2] or fmt.default_group()
-- per-group figures from the audit module (the numbers of `lumen audit`), for a binary model
local audit, audit_err
if by and m.task ~= "multiclass" then
	local ok, res = pcall(lumen.audit, {model = name, by = by, threshold = 0.5})
	if ok then audit = res else audit_err = tostring(res):gsub("^.-lumen%.audit: ", "") end
end
-- a group's value alone when one column groups ("f" for "sex=f")
local function show(label)
	if by and not by:find(",", 1, true) and label:sub(1, #by + 1) == by .. "=" then
		return label:sub(#by + 2)
	end
	return label
end

report.title("Model card: " .. name)
report.heading("Model details")
local hyper = m:hyper() or {}
local hp = {}
for k, v in pairs(hyper) do if type(v) ~= "table" then hp[#hp + 1] = k .. "=" .. tostring(v) end end
table.sort(hp)
report.table({
	{field = "name", value = m.name}, {field = "architecture", value = m.arch},
	{field = "target", value = m.target .. (m.positive and (" = " .. m.positive) or "")},
	{field = "task", value = m.task}, {field = "created", value = m.created_at},
	{field = "seed", value = m.seed}, {field = "cross-validation folds", value = m.folds},
	{field = "hyper-parameters", value = table.concat(hp, ", ")},
	{field = "software", value = "lumen " .. lumen.version},
}, {columns = {"field", "value"}})

report.heading("Intended use")
report.paragraph("Decision support for clinicians and researchers who study the cohort in this "
	.. "workbench file: ranking patients by the predicted risk of " .. m.target .. " and reading "
	.. "why. Not intended for use on patients from other populations without re-validation, nor "
	.. "as the sole basis of a treatment decision.")

report.heading("Factors")
if by then
	report.paragraph("Performance is reported across the groups of `" .. by .. "` (a column with "
		.. "the group role). Other relevant factors (age bands, sites) can be audited with "
		.. "`lumen report FILE bias_audit " .. name .. " COLUMN`.")
else
	report.paragraph("The cohort has no column with the group role; no per-group metrics.")
end

report.heading("Metrics")
local keys = {"n", "prevalence", "auc", "average_precision", "brier", "log_loss", "accuracy",
	"precision", "recall", "specificity", "calibration_slope", "calibration_intercept"}
local mrows = {}
for _, k in ipairs(keys) do
	if pooled[k] ~= nil then mrows[#mrows + 1] = {metric = k, value = fmt.num(pooled[k], 3)} end
end
report.table(mrows, {columns = {"metric", "value"},
	caption = "Out-of-fold metrics, as stored by lumen train"})
if audit then
	local t = {}
	for _, g in ipairs(audit.groups) do
		local mt = g.metrics
		t[#t + 1] = {group = show(g.group), n = g.n, prevalence = fmt.num(mt.prevalence.value, 3),
			AUC = fmt.num(mt.auc.value, 3), TPR = fmt.num(mt.tpr.value, 3),
			FPR = fmt.num(mt.fpr.value, 3), PPV = fmt.num(mt.ppv.value, 3)}
	end
	report.table(t, {columns = {"group", "n", "prevalence", "AUC", "TPR", "FPR", "PPV"},
		caption = "Metrics by " .. by .. " (threshold 0.5, as lumen audit)"})
elseif audit_err then
	report.paragraph("No per-group metrics by " .. by .. ": " .. audit_err .. ".")
end

-- ---- charts: ROC, calibration, the inputs and what they do ----
local curves = m:curves(10)
if curves and curves.roc and #curves.roc.fpr > 1 then
	report.line{title = string.format("ROC curve of the out-of-fold predictions (AUC %s; the "
		.. "diagonal is chance)", fmt.num(curves.roc.auc, 3)),
		xlabel = "false-positive rate (1 - specificity)", ylabel = "true-positive rate",
		ideal = true, series = {{name = "out of fold", x = curves.roc.fpr, y = curves.roc.tpr}}}
	report.line{title = "Calibration: observed share of " .. m.target .. " per tenth of "
		.. "predicted risk (the diagonal is perfect calibration)",
		xlabel = "predicted risk", ylabel = "observed share", ideal = true,
		series = {{name = "out of fold", x = curves.calibration.predicted,
			y = curves.calibration.observed}}}
end

report.heading("Inputs")
local labels_of = {}
local inputs = m:inputs()
local imp = m:importance()
local imp_of = {}
for _, r in ipairs(imp or {}) do imp_of[r.column] = r.mean_abs end
local irows = {}
for _, i in ipairs(inputs) do
	labels_of[i.column] = i.label
	irows[#irows + 1] = {input = i.column, label = i.label or "", type = i.type,
		["mean |attribution|"] = imp_of[i.column] and fmt.num(imp_of[i.column], 3) or ""}
end
report.table(irows, {columns = {"input", "label", "type", "mean |attribution|"},
	caption = string.format("The model's %d inputs, with their clinical labels", #inputs)})
local function shown(col)
	local l = labels_of[col]
	return l and (l .. " (" .. col .. ")") or col
end
if imp and #imp > 0 then
	local il, iv = {}, {}
	for k = 1, math.min(15, #imp) do
		il[k] = shown(imp[k].column)
		iv[k] = imp[k].mean_abs
	end
	report.bar{title = "Global importance: mean |integrated gradient| over the explained "
		.. "patients (logit units)", labels = il, values = iv}
	local at = m:attributions()
	if at then
		-- the beeswarm: per input, every patient's attribution, coloured by its value
		local series = {}
		for k = 1, math.min(12, #imp) do
			local c = at[imp[k].column]
			if c then
				series[#series + 1] = {name = shown(imp[k].column), x = c.attribution, y = c.value}
			end
		end
		report.beeswarm{title = string.format("Attributions of the %d patients, per input "
			.. "(one dot per patient; red: high value of the input, blue: low, categories in "
			.. "their sorted order; grey: missing)", at.patients), xlabel = "integrated gradient (logit units)",
			series = series}
		local top = imp[1].column
		local c = at[top]
		report.scatter{title = "Dependence: the attribution of " .. shown(top)
			.. " against its value", xlabel = shown(top) .. (c.categories and " (category "
			.. "number: " .. table.concat(c.categories, ", ") .. ")" or ""),
			ylabel = "attribution (logit units)",
			series = {{name = top, x = c.value, y = c.attribution}}}
	end
else
	report.paragraph("No stored explanations: `lumen explain FILE --model " .. name
		.. "` adds the importance, the attribution summary and the dependence chart.")
end

local vals = m:validations()
if #vals > 0 then
	report.heading("External validation")
	local vrows = {}
	for _, v in ipairs(vals) do
		local surv = v.kind == "survival"
		vrows[#vrows + 1] = {cohort = v.input, date = v.created_at, n = v.n, events = v.events,
			discrimination = (surv and "C-index " or "AUC ") .. fmt.num(surv and v.c_index or v.auc, 3),
			["calibration slope"] = fmt.num(v.calibration_slope, 3),
			Brier = fmt.num(v.brier, 4) .. (surv and string.format(" at %g", v.horizon) or "")}
	end
	report.table(vrows, {columns = {"cohort", "date", "n", "events", "discrimination",
		"calibration slope", "Brier"}, caption = "lumen validate on other cohorts (final model)"})
	local last = vals[#vals]
	if last.calibration_curve and #last.calibration_curve > 1 then
		local px, py = {}, {}
		for k, b in ipairs(last.calibration_curve) do px[k] = b.predicted; py[k] = b.observed end
		report.line{title = "Calibration on " .. last.input .. (last.kind == "survival"
			and string.format(" (risk by %g; observed: Kaplan-Meier per group of predicted "
				.. "risk)", last.horizon) or " (observed share per bin of predicted risk)"),
			xlabel = "predicted risk", ylabel = "observed", ideal = true,
			series = {{name = "external", x = px, y = py}}}
	end
end

report.heading("Evaluation data")
report.paragraph(string.format("Out-of-fold predictions for the %s patients of this workbench "
	.. "with a value of %s (%s left out), from %s-fold cross-validation.",
	tostring(m.n_used), m.target, tostring(m.n_excluded or 0), tostring(m.folds)))
report.heading("Training data")
report.paragraph(string.format("The same %d patients; the final model is refitted on all of "
	.. "them. Columns: %d.", lumen.count(), #lumen.columns()))
report.heading("Ethical considerations")
report.paragraph("The predictions concern patients' health. Group gaps in the metrics above can "
	.. "reflect bias in the data (who was referred, measured, or followed up) as much as in the "
	.. "model. Access to this file is logged.")
report.heading("Caveats and recommendations")
local small = {}
if audit then
	for _, g in ipairs(audit.groups) do
		if g.too_small then small[#small + 1] = show(g.group) .. " (" .. g.n .. ")" end
	end
end
if #small > 0 then
	report.paragraph("Small groups, whose metrics are uncertain: " .. table.concat(small, ", ") .. ".")
end
report.paragraph("Re-validate before use on another population; check calibration before reading "
	.. "the risks as probabilities.")
