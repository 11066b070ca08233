#!/bin/sh
# A Lua filter over 1,000,000 patients (BENCH_SCALE=small: 100,000), in rows/s, beside the same
# predicate as an SQL WHERE run by sqlite3 on the same file in the same run. Goal: >= 1,000,000
# rows/s for the filter itself.
set -eu
n=1000000
[ "${BENCH_SCALE:-}" = small ] && n=100000
d=$(mktemp -d "${TMPDIR:-/tmp}/lumen-bench.XXXXXX")
trap 'rm -rf "$d"' EXIT
awk -v n="$n" 'BEGIN {
	srand(7); print "id,age,sex,bili,albumin"
	for (i = 1; i <= n; i++)
		printf "%d,%.1f,%s,%.2f,%s\n", i, 20 + 70 * rand(), (rand() < 0.5 ? "f" : "m"),
		       0.3 + 10 * rand() * rand(), (rand() < 0.05 ? "" : sprintf("%.2f", 2 + 2.5 * rand()))
}' >"$d/p.csv"
"$LUMEN" import "$d/p.csv" -o "$d/p.lumen" >/dev/null
expr='age > 65 and sex == "f" and bili > 2'
sql="SELECT count(*) FROM patients WHERE age > 65 AND sex = 'f' AND bili > 2"
now() { date +%s.%N; }

# the filter alone, timed inside the host (frame already loaded)
cat >"$d/t.lua" <<LUA
lumen.count{where = "false"} -- loads the frame
local t0 = os.clock()
local k = lumen.count{where = '$expr'}
local t = os.clock() - t0
report.paragraph(string.format("%d %.4f", k, t))
LUA
set -- $("$LUMEN" report "$d/p.lumen" "$d/t.lua")
lua_count=$1 lua_s=$2
# the whole command: open, load the frame, compile, filter, print
t0=$(now)
cmd_count=$("$LUMEN" query "$d/p.lumen" --where "$expr" --count)
t1=$(now)
sql_count=$(sqlite3 "$d/p.lumen" "$sql")
t2=$(now)
awk -v n="$n" -v ls="$lua_s" -v c0="$t0" -v c1="$t1" -v s2="$t2" -v lc="$lua_count" \
    -v cc="$cmd_count" -v sc="$sql_count" 'BEGIN {
	cs = c1 - c0; ss = s2 - c1
	printf "patients                   %d (matching: lua %d, query %d, sqlite3 %d)\n", n, lc, cc, sc
	printf "lua filter (in the host)   %.3f s  %12.0f rows/s   goal >= 1000000\n", ls, n / ls
	printf "lumen query --count        %.3f s  %12.0f rows/s   (open + load + filter)\n", cs, n / cs
	printf "sqlite3 WHERE (baseline)   %.3f s  %12.0f rows/s\n", ss, n / ss
	printf "ratio filter / sqlite3     %.2f\n", (n / ls) / (n / ss)
	if (lc != sc || cc != sc) { print "MISMATCH between lumen and sqlite3"; exit 1 }
}'
