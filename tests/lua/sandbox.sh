# Sandbox escapes: each ends with one clear error line, status 65, no output written, and
# (for the in-process host) see tests/unit/test_lua_host.c, which runs them in one host.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/workbench.bash"
make_wb "$T/wb.lumen" 20

escape() { # DESC EXPECTED-MESSAGE LUA [extra lumen args]
	local desc=$1 want=$2 code=$3
	shift 3
	printf '%s\n' "$code" >"$T/esc.lua"
	rm -f "$T/out.md"
	run report "$T/wb.lumen" "$T/esc.lua" -o "$T/out.md" "$@"
	eq "$desc: status 65" "$RC" 65
	contains "$desc: message" "$ERR" "lumen: report: $want"
	eq "$desc: one line" "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1
	check "$desc: nothing written" test ! -e "$T/out.md"
}

escape "io.open" "esc.lua:1: attempt to index a nil value (global 'io')" \
	'local f = io.open("/etc/passwd")'
escape "os.execute" "esc.lua:1: attempt to call a nil value (field 'execute')" \
	'os.execute("touch /tmp/lumen-pwned")'
escape "os.exit" "esc.lua:1: attempt to call a nil value (field 'exit')" 'os.exit(0)'
escape "os.getenv" "esc.lua:1: attempt to call a nil value (field 'getenv')" 'os.getenv("HOME")'
escape "os.remove" "esc.lua:1: attempt to call a nil value (field 'remove')" 'os.remove("x")'
escape "require of a C module" "esc.lua:1: require: no lumen library 'io'" 'require("io")'
escape "require with a path" "esc.lua:1: require: '../../etc/x' is not a lumen library name" \
	'require("../../etc/x")'
escape "package" "esc.lua:1: attempt to index a nil value (global 'package')" \
	'package.loadlib("libc.so.6", "system")'
escape "dofile" "esc.lua:1: attempt to call a nil value (global 'dofile')" 'dofile("/etc/passwd")'
escape "loadfile" "esc.lua:1: attempt to call a nil value (global 'loadfile')" 'loadfile("/etc/passwd")'
escape "string.dump" "esc.lua:1: attempt to call a nil value (field 'dump')" \
	'local b = string.dump(function() end)'
escape "load of a binary chunk" "esc.lua:2: attempt to load a binary chunk (mode is 't')" \
	'local f, e = load("\27Lua\84\0", "x", "b")
error(e)'
escape "load with mode b" "esc.lua:2: attempt to load a binary chunk (mode is 't')" \
	'local f, e = load("\27LuaT", nil, "bt", {})
error(e)'
escape "debug" "esc.lua:1: attempt to index a nil value (global 'debug')" 'debug.sethook()'
escape "string metatable" "esc.lua:1: attempt to index a nil value (field '__index')" \
	'getmetatable("").__index.rep = nil'
escape "collectgarbage stop" "esc.lua:1: collectgarbage('stop') is not allowed in lumen scripts" \
	'collectgarbage("stop")'
escape "collectgarbage generational" \
	"esc.lua:1: collectgarbage('generational') is not allowed in lumen scripts" \
	'collectgarbage("generational")'
escape "endless loop" "esc.lua:1: time limit of 1 s exceeded" 'while true do end' --timeout 1
escape "endless loop in pcall" "esc.lua:1: time limit of 1 s exceeded" \
	'while true do pcall(function() while true do end end) end' --timeout 1
escape "pcall cannot swallow the limit" "esc.lua:2: time limit of 1 s exceeded" \
	'local ok = pcall(function() while true do end end)
report.paragraph("escaped")' --timeout 1
escape "error handler cannot swallow the limit" "esc.lua:2: time limit of 1 s exceeded" \
	'xpcall(function() while true do end end, function() while true do end end)
report.paragraph("escaped")' --timeout 1
escape "memory bomb" "esc.lua:1: not enough memory (the limit is 64 MB)" \
	'local t = {} for i = 1, 1e9 do t[i] = ("x"):rep(100) .. i end' --memory 64
escape "memory bomb in pcall" "esc.lua:2: not enough memory (the limit is 64 MB)" \
	'local t = {} pcall(function() for i = 1, 1e9 do t[i] = ("x"):rep(100) .. i end end)
for i = 1, 1e9 do t[#t + 1] = {} end' --memory 64
escape "string.rep of 10 GB" "esc.lua:1: resulting string too large" \
	'local s = string.rep("x", 10 * 1024 * 1024 * 1024)'
escape "string.rep of 1 GB" "esc.lua:1: not enough memory (the limit is 512 MB)" \
	'local s = string.rep("x", 1024 * 1024 * 1024)'
escape "deep recursion" "esc.lua:1: stack overflow" \
	'local function f(n) return 1 + f(n + 1) end return f(1)'
escape "error with a table" "esc.lua:1: (error object is a table value)" 'error({})'
escape "mutating a patient" \
	"esc.lua:1: patients are read-only (cannot set 'age'); copy the values into a table for a what-if" \
	'for p in lumen.patients() do p.age = 1 end'
escape "rawset on a patient" "esc.lua:1: bad argument #1 to 'rawset' (table expected, got lumen.patient)" \
	'for p in lumen.patients() do rawset(p, "age", 1) end'
escape "setmetatable on a patient" \
	"esc.lua:1: bad argument #1 to 'setmetatable' (table expected, got lumen.patient)" \
	'for p in lumen.patients() do setmetatable(p, {}) end'
escape "patient metatable is hidden" "esc.lua:1: attempt to index a string value" \
	'for p in lumen.patients() do getmetatable(p).__index = nil end'
escape "globals of one script do not leak" "esc.lua:1: attempt to call a nil value (global 'leak')" \
	'leak()'

# print goes to stderr, never into the report
printf 'print("hello", 1)\nreport.paragraph("body")\n' >"$T/p.lua"
run report "$T/wb.lumen" "$T/p.lua"
eq "print: status" "$RC" 0
eq "print: stdout is the report only" "$OUT" "body"
eq "print: on stderr" "$ERR" "hello	1"

# --verbose adds the traceback
printf 'local function f()\n  error("boom")\nend\nf()\n' >"$T/tb.lua"
run report "$T/wb.lumen" "$T/tb.lua" --verbose
eq "verbose: status" "$RC" 65
contains "verbose: message" "$ERR" "lumen: report: tb.lua:2: boom"
contains "verbose: traceback" "$ERR" "stack traceback:"
contains "verbose: frame" "$ERR" "tb.lua:4: in main chunk"
run report "$T/wb.lumen" "$T/tb.lua"
eq "no traceback without verbose" "$ERR" "lumen: report: tb.lua:2: boom"

run report "$T/wb.lumen" "$T/missing.lua"
eq "missing script: status" "$RC" 66
eq "missing script: message" "$ERR" "lumen: report: $T/missing.lua: no such file"
run report "$T/wb.lumen" no_such_report
eq "unknown shipped name: status" "$RC" 66
contains "unknown shipped name: message" "$ERR" "lumen: report: no script 'no_such_report'"
printf 'x = = 1\n' >"$T/syn.lua"
run report "$T/wb.lumen" "$T/syn.lua"
eq "syntax error: status" "$RC" 65
eq "syntax error: message" "$ERR" "lumen: report: syn.lua:1: unexpected symbol near '='"
escape "__gc finalizer loop" "esc.lua:1: __gc metamethods are not allowed in lumen scripts" \
	'setmetatable({}, {__gc = function() while true do end end}) collectgarbage()' --timeout 1
# pattern matching runs in C, out of the hook's reach: a pattern that could backtrack past the
# time limit is refused up front (this one would run for hours), an ordinary one still works
escape "catastrophic pattern" \
	"esc.lua:1: string.find: a pattern with 3 repetitions over 5000 bytes could run past the time limit" \
	'local s = ("a"):rep(5000) return s:find("a-a-a-b")' --timeout 2
escape "catastrophic pattern through gsub" \
	"esc.lua:1: string.gsub: a pattern with 4 repetitions over 5000 bytes could run past the time limit" \
	'return string.gsub(("a"):rep(5000), "(a*)(a*)[a]+%w-b", "")' --timeout 2
printf '%s\n' 'local s = ("x y  z"):rep(1000):gsub("%s+", " ") assert(#s == 5000)' \
	'assert(("a-b"):find("-", 1, true) == 2)' \
	'assert(("k=v"):match("^(%w+)=(%w+)$") == "k")' 'report.paragraph("patterns ok")' >"$T/pat.lua"
run report "$T/wb.lumen" "$T/pat.lua"
eq "ordinary patterns still work" "$OUT" "patterns ok"
