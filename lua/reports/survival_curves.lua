-- survival_curves: Kaplan-Meier curves by group, each with its 95% confidence band, a tick at
-- every censoring time and the numbers at risk under the time axis, then the log-rank test.
--   lumen report FILE survival_curves [TIME EVENT[=VALUE] [BY]] -o km.html
-- TIME and EVENT default to the columns with the time and event roles; BY to the first group
-- column (none: one curve). EVENT=VALUE names the event code (pbc: status=2).
local time, event, by = arg[1], arg[2], arg[3]
local cols = lumen.columns()
for _, c in ipairs(cols) do
	if not time and c.role == "time" then time = c.name end
	if not event and c.role == "event" then event = c.name end
	if not by and arg[1] == nil and c.role == "group" then by = c.name end
end
if not time or not event then
	error("survival_curves needs TIME and EVENT (no column has the time and event roles)")
end
local ev, value = event:match("^(.-)=(.*)$")
if ev then event = ev end
local ok, s = pcall(lumen.survival, {time = time, event = event, event_value = value, by = by})
if not ok then
	local msg = tostring(s):gsub("^.-lumen%.survival: ", "")
	if msg:find("more than two values", 1, true) then
		error(string.format("%s has more than two values: name the event code, e.g. "
			.. "lumen report FILE survival_curves %s %s=2", event, time, event), 0)
	end
	error(msg, 0)
end

report.title("Survival: " .. time .. (by and (" by " .. by) or ""))
report.paragraph(string.format("Kaplan-Meier estimates of %d patients with %d events (%s%s)%s. "
	.. "The shaded bands are 95%% confidence intervals (Greenwood, log scale), the ticks mark "
	.. "censored patients, and the numbers under the axis are the patients still at risk.",
	s.n, s.events, event, value and (" = " .. value) or "",
	s.left_out and s.left_out > 0 and string.format("; %d left out", s.left_out) or ""))

-- round times for the at-risk table: about five steps of 1, 2 or 5 times a power of ten
local tmax = 0
for _, c in ipairs(s.curves) do
	for _, t in ipairs(c.time) do if t > tmax then tmax = t end end
end
local step = 1
if tmax > 0 then
	local raw = tmax / 5
	local p = 10 ^ math.floor(math.log(raw, 10))
	step = raw / p > 5 and 10 * p or raw / p > 2 and 5 * p or raw / p > 1 and 2 * p or p
end
local at = {}
for t = 0, tmax, step do at[#at + 1] = t end

local series, rows = {}, {}
for _, c in ipairs(s.curves) do
	-- at risk at t: the patients whose time is >= t (km.h), the count at the first curve time >= t
	local counts = {}
	for k, t in ipairs(at) do
		counts[k] = 0
		for i, ct in ipairs(c.time) do
			if ct >= t then counts[k] = c.n_risk[i]; break end
		end
	end
	local cens = {}
	for i, nc in ipairs(c.n_censor) do
		if nc > 0 then cens[#cens + 1] = c.time[i] end
	end
	-- the curve starts at 1 at time 0
	local x, y, lo, hi = {0}, {1}, {1}, {1}
	for i, t in ipairs(c.time) do
		x[#x + 1] = t; y[#y + 1] = c.surv[i]; lo[#lo + 1] = c.lower[i]; hi[#hi + 1] = c.upper[i]
	end
	series[#series + 1] = {name = c.group, x = x, y = y, lower = lo, upper = hi, censor = cens,
		at_risk = counts}
	rows[#rows + 1] = {group = c.group, n = c.n, events = c.events,
		median = c.median and string.format("%g", c.median) or "not reached",
		["95% CI"] = c.median_lower and (string.format("%g", c.median_lower) .. " to "
			.. (c.median_upper and string.format("%g", c.median_upper) or "not reached")) or ""}
end
report.km{title = "Kaplan-Meier: survival by " .. (by or "nothing (all patients)"),
	xlabel = time, ylabel = "survival", series = series, at_risk_times = at}
report.table(rows, {columns = {"group", "n", "events", "median", "95% CI"},
	caption = "Median survival time (" .. time .. ")"})
if s.logrank then
	report.paragraph(string.format("Log-rank test: chi-square %.2f on %d degree%s of freedom, "
		.. "p = %s.", s.logrank.chisq, s.logrank.df, s.logrank.df == 1 and "" or "s",
		s.logrank.p < 1e-4 and string.format("%.1e", s.logrank.p) or string.format("%.4f", s.logrank.p)))
end
