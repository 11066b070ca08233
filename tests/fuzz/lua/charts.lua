report.interval{title = "r", labels = {"a", "b"}, values = {1, 0.5}, lower = {1, 0}, upper = {1, 2},
  band = {0.8, 1.25}, log = true, reference = 1, range = {0.1, 10}}
report.attribution{labels = {"x", "y"}, values = {0.2, -0.4}, range = {-1, 1}}
report.line{ideal = true, series = {{name = "c", x = {0.1, 0.5}, y = {0.2, false}}}}
report.km{series = {{name = "k", x = {0, 1, 2}, y = {1, 0.5, 0.2}, lower = {1, 0.3, false},
  upper = {1, 0.7, 0.4}, censor = {1.5}, at_risk = {3, 1}}}, at_risk_times = {0, 2}}
report.beeswarm{series = {{name = "b", x = {0.1, -0.2, 0.1}, y = {1, nil, 3}}}}
report.scatter{series = {{name = "s", x = {1, 2}, y = {-1, 1}}}}
for _, m in ipairs(lumen.models()) do
  local mm = lumen.model(m.name)
  local c = mm:curves(5) local i = mm:importance() local a = mm:attributions()
  local v = mm:validations() local n = mm:inputs()
end
