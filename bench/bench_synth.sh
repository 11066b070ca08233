#!/bin/sh
# lumen synth: 1,000,000 patients (and with --visits 5), rows/s and MB/s written, peak RSS;
# baseline in the same run: awk writing a CSV of the same shape (41 fields, the same decimals,
# random values) and the same number of rows, which is what a quick script would do.
# BENCH_SCALE=small uses 100,000 patients.
set -u
n=1000000
[ "${BENCH_SCALE:-}" = small ] && n=100000
dir=$(mktemp -d "${TMPDIR:-/tmp}/lumen-bench-synth.XXXXXX")
trap 'rm -rf "$dir"' EXIT

now() { date +%s.%N; }
bytes() { cat "$@" | wc -c; }
report() { # label secs rows bytes [rss_kb]
	awk -v l="$1" -v s="$2" -v r="$3" -v b="$4" -v m="${5:-}" 'BEGIN {
		printf "%-34s %7.2f s %10.0f rows/s %7.1f MB/s", l, s, r / s, b / s / 1e6
		if (m != "") printf "  peak RSS %.1f MB", m / 1024
		printf "\n" }'
}
rss_of() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

for k in 0 5; do
	t0=$(now)
	/usr/bin/time -v "$LUMEN" synth --patients "$n" --visits "$k" --seed 1 -o "$dir/s$k" 2>"$dir/time$k" ||
		{ cat "$dir/time$k"; exit 1; }
	t1=$(now)
	files="$dir/s$k/patients.csv $dir/s$k/truth_contrib.csv $dir/s$k/truth.json"
	[ "$k" -gt 0 ] && files="$files $dir/s$k/visits.csv"
	# shellcheck disable=SC2086
	b=$(bytes $files)
	rows=$n
	[ "$k" -gt 0 ] && rows=$((n + $(wc -l <"$dir/s$k/visits.csv") - 1))
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
	[ "$k" -eq 0 ] && { lumen_secs=$secs; lumen_bytes=$b; }
	report "lumen synth --visits $k" "$secs" "$rows" "$b" "$(rss_of "$dir/time$k")"
	echo "  (rows = patients + visit rows; bytes = every file written, $((b / 1000000)) MB)"
	rm -rf "$dir/s$k"
done

# Baseline: awk, 41 fields per row in the same formats, one process writing one file.
t0=$(now)
awk -v n="$n" 'BEGIN {
	srand(1)
	print "id,age,sex,ethnicity,site,smoking,diabetes,treatment,l1,l2,l3,l4,l5,l6,l7,l8,l9,l10,l11,l12,l13,l14,l15,l16,l17,l18,l19,l20,l21,l22,l23,l24,l25,l26,l27,l28,l29,l30,outcome,time,event"
	for (i = 1; i <= n; i++) {
		printf "%d,%.1f,%s,white,A,never,no,%d", i, 40 + 40 * rand(), rand() < 0.5 ? "f" : "m", rand() < 0.5
		for (j = 0; j < 10; j++) printf ",%.0f,%.1f,%.2f", 200 * rand(), 10 * rand(), 2 * rand()
		printf ",%d,%d,%d\n", rand() < 0.25, 3650 * rand(), rand() < 0.4
	}
}' >"$dir/awk.csv"
t1=$(now)
b=$(bytes "$dir/awk.csv")
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
report "baseline: awk (patients.csv only)" "$secs" "$n" "$b"
awk -v ls="$lumen_secs" -v lb="$lumen_bytes" -v as="$secs" -v ab="$b" 'BEGIN {
	printf "lumen vs awk: %.1fx the patients/s, %.1fx the MB/s (lumen also draws the model and\n", as / ls, (lb / ls) / (ab / as)
	printf "  writes truth_contrib.csv and truth.json)\n" }'
