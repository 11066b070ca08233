-- older_patients: patients aged 65 or more (the column `age`).
--   lumen query FILE --filter older_patients
local has_age = false
for _, c in ipairs(lumen.columns()) do
	if c.name == "age" then has_age = true end
end
if not has_age then error("older_patients needs a column named 'age'") end
return function(p)
	return p.age ~= nil and p.age >= 65
end
