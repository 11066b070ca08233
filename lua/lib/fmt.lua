-- fmt: small formatting and statistics helpers for lumen report scripts.
--   local fmt = require("fmt")
local fmt = {}

-- A number with `digits` decimals (default 2), "" for nil; other values through tostring.
function fmt.num(x, digits)
	if x == nil then return "" end
	if type(x) ~= "number" then return tostring(x) end
	if math.type(x) == "integer" then return tostring(x) end
	return string.format("%." .. (digits or 2) .. "f", x)
end

-- A proportion as a percentage with one decimal: 0.1234 -> "12.3%".
function fmt.pct(x)
	if x == nil then return "" end
	return string.format("%.1f%%", 100 * x)
end

-- Mean, sample standard deviation and count of the non-nil values of a list. The values are
-- scaled by the largest magnitude first, so that a column of +-1e308 has a finite mean.
function fmt.mean_sd(values)
	local n, big = 0, 0
	for _, v in ipairs(values) do
		n = n + 1
		if math.abs(v) > big then big = math.abs(v) end
	end
	if n == 0 then return nil, nil, 0 end
	if big == 0 or big == math.huge or big ~= big then big = 1 end
	local s = 0
	for _, v in ipairs(values) do s = s + v / big end
	local m = s / n
	local ss = 0
	for _, v in ipairs(values) do ss = ss + (v / big - m) ^ 2 end
	return m * big, n > 1 and math.sqrt(ss / (n - 1)) * big or nil, n
end

-- Median of a list of numbers (the list is sorted in place).
function fmt.median(values)
	local n = #values
	if n == 0 then return nil end
	table.sort(values)
	if n % 2 == 1 then return values[(n + 1) // 2] end
	return values[n // 2] / 2 + values[n // 2 + 1] / 2
end

-- The first model's name, or nil when the file has none.
function fmt.default_model()
	local ms = lumen.models()
	return ms[#ms] and ms[#ms].name
end

-- The first column with the group role (lumen import --group), or nil.
function fmt.default_group()
	for _, c in ipairs(lumen.columns()) do
		if c.role == "group" then return c.name end
	end
end

return fmt
