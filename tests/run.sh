#!/bin/sh
# Runs every test and ends with "N passed, N failed, N skipped".
#   unit tests: $LUMEN_BUILD/tests/test_* (cmocka, TAP output)
#   command tests: tests/e2e/*.sh, tests/tui/*.sh, tests/lua/*.sh (TAP through tests/lib.sh)
# Each file's output goes to $LUMEN_BUILD/test-logs/NAME.log; failures are repeated here.
# TESTS='pattern' runs only the files whose name matches the shell pattern.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
: "${LUMEN:=$top/build/lumen}"
: "${LUMEN_BUILD:=$top/build}"
export LUMEN LUMEN_BUILD LUMEN_TOP="$top"
logs="$LUMEN_BUILD/test-logs"
rm -rf "$logs"
mkdir -p "$logs"
pass=0 fail=0 skip=0
failed_files=""

run_one() { # name command...
	name=$1
	shift
	log="$logs/$name.log"
	start=$(date +%s)
	CMOCKA_MESSAGE_OUTPUT=TAP "$@" >"$log" 2>&1 </dev/null
	rc=$?
	secs=$(($(date +%s) - start))
	# a skip is "ok N - x # SKIP why" from tests/lib.sh and "not ok N # SKIP x" from cmocka:
	# either way a skip, never a failure
	p=$(grep '^ok ' "$log" | grep -vc '# SKIP' | tr -d ' ')
	s=$(grep -E '^(not )?ok ' "$log" | grep -c '# SKIP' | tr -d ' ')
	f=$(grep '^not ok ' "$log" | grep -vc '# SKIP' | tr -d ' ')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc after its last test" >>"$log"
		f=1
	fi
	if [ $((p + f + s)) -eq 0 ]; then
		echo "not ok - $name ran no test" >>"$log"
		f=1
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	printf '%-34s %4d passed %3d failed %3d skipped  %4ds\n' "$name" "$p" "$f" "$s" "$secs"
	grep '# SKIP' "$log" | sed 's/^/    /'
	if [ "$f" -ne 0 ]; then
		failed_files="$failed_files $name"
		grep -v '# SKIP' "$log" | grep -B2 -A12 '^not ok ' | head -n 60 | sed 's/^/    | /'
	fi
}

want() { [ -z "${TESTS:-}" ] && return 0; case "$1" in $TESTS) return 0;; esac; return 1; }

for t in "$LUMEN_BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	want "$n" && run_one "$n" "$t"
done
for t in "$top"/tests/e2e/*.sh "$top"/tests/lua/*.sh "$top"/tests/tui/*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$(dirname "$t")")/$(basename "$t" .sh)
	want "$(basename "$t" .sh)" && run_one "$(echo "$n" | tr / -)" bash "$t"
done
[ -n "$failed_files" ] && echo "failed:$failed_files (logs in $logs)"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
