-- high_risk: patients whose predicted risk is at least 0.5 under the model given with --model.
--   lumen query FILE --filter high_risk --model NAME
return function(p)
	local r = p.risk
	return r ~= nil and r >= 0.5
end
