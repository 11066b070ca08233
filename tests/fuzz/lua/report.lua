report.title("t") report.heading("h", 3) report.paragraph("p")
report.table({{"a", "b"}, {1, 2.5}, {nil, "x"}}, {caption = "c"})
report.table({{a = 1, b = "y"}}, {columns = {"b", "a"}})
report.bar{title = "b", labels = {"f", "m"}, values = {1, -2}}
report.attribution{labels = {"age"}, values = {0.3}}
report.line{title = "l", xlabel = "x", ylabel = "y", series = {{name = "s", x = {1, 2}, y = {3, nil}}}}
report.km{series = {{x = {0, 1}, y = {1, 0.5}}}}
