#!/bin/sh
# bench_import: lumen import of a 1,000,000-patient CSV (from `lumen synth`, or a seeded awk
# generator when synth is absent: ~40 mixed columns, integers, reals with missing cells,
# booleans, categoricals) against sqlite3's `.import --csv` of the same file into
# a fresh database, in the same run. lumen infers and checks every value's type (one pass over
# the patients when the types of the first MiB hold for the whole file),
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

if "$LUMEN" synth --help >/dev/null 2>&1; then
	# the synthetic cohort of `lumen synth` (41 columns: labs with missing cells, booleans as
	# yes/no, categoricals, integers)
	"$LUMEN" synth --patients "$rows" --seed 7 -o "$dir/synth" >/dev/null || exit 1
	mv "$dir/synth/patients.csv" "$csv"
	rm -rf "$dir/synth"
	source="lumen synth --seed 7"
else
	source="awk, seeded"
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
fi
size=$(wc -c <"$csv")
cols=$(head -n 1 "$csv" | awk -F, '{ print NF }')
echo "input: $rows rows x $cols columns, $((size / 1048576)) MiB ($source)"

# Each run: wall seconds, CPU seconds (user + system) and peak RSS. /usr/bin/time gives all
# three for both programs; without it, wall time from date and lumen's own --stats RSS.
measure() { # OUTFILE CMD... -> "wall cpu rss_kB" in OUTFILE
	out=$1
	shift
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%e %U %S %M' -o "$out.t" "$@" >"$out.log" 2>&1
		rc=$?
		tail -n 1 "$out.t" | awk '{ print $1, $2 + $3, $4 }' >"$out"
	else
		a=$(now)
		"$@" >"$out.log" 2>&1
		rc=$?
		b=$(now)
		echo "$a $b" | awk '{ print $2 - $1, "n/a", "n/a" }' >"$out"
	fi
	return $rc
}

if ! measure "$dir/lumen.m" "$LUMEN" import "$csv" -o "$dir/out.lumen" --stats; then
	echo "lumen import failed:"
	cat "$dir/lumen.m.log"
	exit 1
fi
rss=$(sed -n 's/.*peak RSS \([0-9]*\) kB.*/\1/p' "$dir/lumen.m.log")
read -r l_wall l_cpu l_rss <"$dir/lumen.m"
[ "$l_rss" = n/a ] && l_rss=$rss

if command -v sqlite3 >/dev/null; then
	measure "$dir/sqlite.m" sqlite3 "$dir/fresh.db" ".import --csv $csv t"
	read -r s_wall s_cpu s_rss <"$dir/sqlite.m"
	s_rows=$(sqlite3 "$dir/fresh.db" 'SELECT count(*) FROM t')
else
	s_wall=0 s_cpu=0 s_rss=0 s_rows=0
fi
awk -v lw="$l_wall" -v lc="$l_cpu" -v lr="$l_rss" -v sw="$s_wall" -v sc="$s_cpu" -v sr="$s_rss" \
	-v n="$rows" -v sn="$s_rows" -v load="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo n/a)" 'BEGIN {
	printf "lumen import      %7.2f s wall  %9.0f rows/s  CPU %6.2f s  peak RSS %6.1f MB\n",
		lw, n / lw, lc, lr / 1024
	if (sw > 0) {
		printf "sqlite3 .import   %7.2f s wall  %9.0f rows/s  CPU %6.2f s  peak RSS %s (%d rows)\n",
			sw, n / sw, sc, sr == "n/a" ? "n/a" : sprintf("%6.1f MB", sr / 1024), sn
		printf "ratio (sqlite3 wall / lumen wall): %.2fx (goal >= 1.00)", sw / lw
		if (lc != "n/a" && lc > 0) printf "; CPU ratio %.2fx", sc / lc
		printf "\n"
	} else
		print "sqlite3 shell not found: no baseline"
	printf "goal peak RSS < 100 MB: %s\n", lr / 1024 < 100 ? "met" : "NOT met"
	printf "machine load (1 min): %s\n", load
}'
