#!/bin/bash
# Peak memory of every command at 1,000,000 patients (goal, issue 12: under 1 GB each):
# import, train (logreg), explain (every patient), audit, survival, query, the shipped
# cohort_summary report and the TUI's first screen. The reference in the same run is
# sqlite3 reading the same patients table whole (SELECT of every column), the least a
# program that looks at every value needs. BENCH_SCALE=small: 100,000 patients.
set -u
top=${LUMEN_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
LUMEN=${LUMEN:-$top/build/lumen}
N=1000000
[ "${BENCH_SCALE:-}" = small ] && N=100000
T=$(mktemp -d "${TMPDIR:-/tmp}/lumen-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
W=$T/m.lumen
if [ ! -x /usr/bin/time ]; then
	echo "bench_memory: /usr/bin/time is not installed (Debian time): skipped"
	exit 0
fi
"$LUMEN" synth --patients "$N" --seed 7 -o "$T/syn" >/dev/null || exit 1
printf 'load average before the runs: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %10s %8s\n' "command ($N patients)" "peak RSS" "wall"
# m LABEL ARGS...: one lumen run, its peak RSS (MB) and wall time
worst=0
m() {
	local label=$1
	shift
	if ! /usr/bin/time -f '%M %e' -o "$T/t" "$@" >"$T/out" 2>"$T/err"; then
		printf '%-34s failed: %s\n' "$label" "$(head -n 1 "$T/err")"
		return
	fi
	read -r kb s <"$T/t"
	printf '%-34s %7.0f MB %7.1f s\n' "$label" "$(echo "$kb / 1024" | bc -l)" "$s"
	[ "$kb" -gt "$worst" ] && worst=$kb
}
m "import" "$LUMEN" import "$T/syn/patients.csv" -o "$W" --group sex --group ethnicity \
	--time time --event event --target outcome
m "train --model logreg" "$LUMEN" train "$W" --model logreg --target outcome --name lr --quiet --exclude time
m "explain (IG, every patient)" "$LUMEN" explain "$W" --model lr --quiet
m "explain --patient" "$LUMEN" explain "$W" --model lr --patient 1
m "audit --by sex,ethnicity" "$LUMEN" audit "$W" --model lr --by sex,ethnicity
m "survival --by risk:lr:3" "$LUMEN" survival "$W" --time time --event event --by risk:lr:3
m "query --where --count" "$LUMEN" query "$W" --where 'age > 65 and sex == "f"' --count
m "report cohort_summary" "$LUMEN" report "$W" cohort_summary -o "$T/summary.md"
m "tui --headless, first screen" "$LUMEN" tui "$W" --headless --frames 1 --size 80x24
/usr/bin/time -f '%M %e' -o "$T/t" sqlite3 "$W" 'SELECT * FROM patients' >/dev/null
read -r kb s <"$T/t"
printf '%-34s %7.0f MB %7.1f s\n' "sqlite3 SELECT * FROM patients" "$(echo "$kb / 1024" | bc -l)" "$s"
printf 'largest lumen peak: %.0f MB (goal < 1024 MB)\n' "$(echo "$worst / 1024" | bc -l)"
