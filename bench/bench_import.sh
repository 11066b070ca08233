#!/bin/sh
# bench_import: lumen import of a 1,000,000-patient CSV (40 mixed columns: integers, reals with
# missing cells, booleans, categoricals) against sqlite3's `.import --csv` of the same file into
# a fresh database, in the same run. lumen infers and checks every value's type (two passes),
# computes the column statistics and writes typed values; .import stores text as it comes.
# Figures: seconds, rows/s, the ratio, lumen's peak RSS (its --stats) and sqlite3's (when
# /usr/bin/time exists). BENCH_SCALE=small uses 100,000 rows.
set -u
rows=1000000
[ "${BENCH_SCALE:-}" = small ] && rows=100000
dir=$(mktemp -d "${TMPDIR:-/tmp}/lumen-bench-import.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
csv=$dir/patients.csv

now() { date +%s.%N; }

# A seeded synthetic cohort (awk's srand: the same file on every run of the same awk).
awk -v n="$rows" 'BEGIN {
	srand(20261123)
	split("white black asian hispanic other", eth, " ")
	printf "patient_id,age,sex,ethnicity,site,smoker,diabetic,on_statin,consent"
	for (j = 1; j <= 28; j++) printf ",lab%02d", j
	print ",stage,outcome,notes"
	for (i = 1; i <= n; i++) {
		r = rand()
		e = r < 0.6 ? 1 : r < 0.75 ? 2 : r < 0.87 ? 3 : r < 0.97 ? 4 : 5
		printf "%d,%.1f,%s,%s,site%02d,%d,%d,%d,%s", i, 18 + 70 * rand(), rand() < 0.5 ? "F" : "M",
			eth[e], int(12 * rand()), rand() < 0.2, rand() < 0.15, rand() < 0.3,
			rand() < 0.9 ? "yes" : "no"
		for (j = 1; j <= 28; j++) {
			if (rand() < 0.05) printf ","
			else if (j % 4 == 0) printf ",%d", int(50 + 400 * rand())
			else printf ",%.3f", (j * 1.7) * (0.5 + rand())
		}
		printf ",%d,%d,%s\n", 1 + int(4 * rand()), rand() < 0.25, rand() < 0.1 ? "\"follow up, urgent\"" : ""
	}
}' >"$csv"
size=$(wc -c <"$csv")
echo "input: $rows rows x 40 columns, $((size / 1048576)) MiB"

t0=$(now)
"$LUMEN" import "$csv" -o "$dir/out.lumen" --stats >"$dir/lumen.out" 2>"$dir/lumen.err"
rc=$?
t1=$(now)
if [ $rc -ne 0 ]; then
	echo "lumen import failed ($rc):"
	cat "$dir/lumen.err"
	exit 1
fi
rss=$(sed -n 's/.*peak RSS \([0-9]*\) kB.*/\1/p' "$dir/lumen.err")

if command -v sqlite3 >/dev/null; then
	s_rss=""
	t2=$(now)
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$dir/sqlite.rss" sqlite3 "$dir/fresh.db" ".import --csv $csv t"
		s_rss=$(cat "$dir/sqlite.rss")
	else
		sqlite3 "$dir/fresh.db" ".import --csv $csv t"
	fi
	t3=$(now)
	s_rows=$(sqlite3 "$dir/fresh.db" 'SELECT count(*) FROM t')
else
	t2=0 t3=0 s_rows=0
fi
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v n="$rows" -v rss="$rss" -v srss="${s_rss:-}" -v sn="$s_rows" 'BEGIN {
	l = b - a; s = d - c
	printf "lumen import      %7.2f s  %9.0f rows/s  peak RSS %6.1f MB\n", l, n / l, rss / 1024
	if (s > 0) {
		printf "sqlite3 .import   %7.2f s  %9.0f rows/s  peak RSS %s (%d rows)\n", s, n / s,
			srss == "" ? "n/a" : sprintf("%6.1f MB", srss / 1024), sn
		printf "ratio (sqlite3 time / lumen time): %.2fx (goal >= 1.00)\n", s / l
	} else
		print "sqlite3 shell not found: no baseline"
	printf "goal peak RSS < 100 MB: %s\n", rss / 1024 < 100 ? "met" : "NOT met"
}'
