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
