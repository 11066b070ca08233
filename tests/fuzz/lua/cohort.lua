local n = lumen.count{where = "age > 50 and sex == 'f'"}
for p in lumen.patients{where = function(p) return p.bili ~= nil end, model = "m"} do
  local r = lumen.record(p) r.age = r.age + 1
  report.paragraph(tostring(p) .. " " .. tostring(p.risk) .. " " .. tostring(p.label))
end
for _, c in ipairs(lumen.columns()) do report.paragraph(c.name .. c.type .. c.role) end
for _, m in ipairs(lumen.models()) do report.paragraph(m.name) end
local mm = lumen.model("m") report.paragraph(tostring(mm.task))
