local mt = {__index = function(t, k) collectgarbage() return ("x"):rep(50) .. k end,
  __len = function() return -1 end}
report.line(setmetatable({series = {setmetatable({x = {1}, y = {2}}, mt)}}, mt))
pcall(string.find, ("a"):rep(100), ("a?"):rep(30) .. "b")
pcall(string.gsub, ("(x)"):rep(50), "%b()", "%1")
local ok, e = pcall(load, "error('z')", "@/etc/passwd") if ok and e then pcall(e) end
setmetatable({}, {__gc = print})
error(setmetatable({}, {__tostring = function() return "obj" end}))
