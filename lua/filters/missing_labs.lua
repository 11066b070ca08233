-- missing_labs: patients missing any key laboratory value present in the cohort
-- (bilirubin, albumin, prothrombin time, platelets, creatinine, haemoglobin, sodium, ...).
--   lumen query FILE --filter missing_labs --csv
local key = {
	bili = true, albumin = true, protime = true, platelet = true, chol = true,
	creatinine = true, hemoglobin = true, haemoglobin = true, sodium = true, potassium = true,
	glucose = true, alt = true, ast = true, inr = true, wbc = true,
}
local labs = {}
for _, c in ipairs(lumen.columns()) do
	if key[c.name] then labs[#labs + 1] = c.name end
end
return function(p)
	for i = 1, #labs do
		if p[labs[i]] == nil then return true end
	end
	return false
end
