local s = lumen.survival{time = "time", event = "status", by = "sex", where = "age < 70"}
report.paragraph(tostring(s.logrank and s.logrank.p))
local a = lumen.audit{model = "m", by = "sex", bins = {"age=40,60"}, threshold = "youden", bootstrap = 20}
report.paragraph(tostring(a))
