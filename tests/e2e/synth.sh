#!/bin/bash
# lumen synth: determinism, shape, missing rate, prevalence, the truth's relation to the data
# (closed form, deciles, and scikit-learn as an oracle when Debian's python3 has it), the bias
# option, visits, and the error paths.
. "$(dirname "$0")/../lib.sh"

PY=/usr/bin/python3
# Reads truth.json with the sqlite3 shell (a build dependency; jq is not): jget FILE JSONPATH
# prints json_extract's value; jsql FILE SQL runs SQL that reads the file's text as d.j.
jget() { sqlite3 :memory: "SELECT json_extract(readfile('$1'), '$2')"; }
jsql() { sqlite3 :memory: "WITH d(j) AS (SELECT readfile('$1')) $2"; }
lab_first=9 lab_last=38   # lab columns in patients.csv (1-based)

run synth --help
eq "--help exits 0" "$RC" 0
contains "--help shows usage" "$OUT" "usage: lumen synth --patients N"

# ---- determinism ------------------------------------------------------------------------
run synth --patients 3000 --visits 4 --seed 7 -o "$T/a"
eq "synth exits 0" "$RC" 0
eq "synth is quiet on success" "$ERR" ""
run synth --patients 3000 --visits 4 --seed 7 -o "$T/b"
for f in patients.csv visits.csv truth.json truth_contrib.csv; do
	eq "same seed, same $f" "$(sha256sum <"$T/a/$f")" "$(sha256sum <"$T/b/$f")"
done
run synth --patients 3000 --visits 4 --seed 8 -o "$T/c"
check "different seed, different patients.csv" \
	test "$(sha256sum <"$T/a/patients.csv")" != "$(sha256sum <"$T/c/patients.csv")"
eq "no temporary files left" "$(ls -A "$T/a" | tr '\n' ' ')" \
	"patients.csv truth.json truth_contrib.csv visits.csv "

# ---- shape ------------------------------------------------------------------------------
eq "patients.csv rows" "$(wc -l <"$T/a/patients.csv")" 3001
eq "every patients.csv row has 41 fields" \
	"$(awk -F, '{print NF}' "$T/a/patients.csv" | sort -u)" 41
eq "ids are 1..N in order" "$(awk -F, 'NR>1 && $1 != NR-1 {bad++} END {print bad+0}' "$T/a/patients.csv")" 0
eq "header" "$(head -1 "$T/a/patients.csv" | cut -d, -f1-10)" \
	"id,age,sex,ethnicity,site,smoking,diabetes,treatment,creatinine,egfr"
eq "truth_contrib.csv rows" "$(wc -l <"$T/a/truth_contrib.csv")" 3001
eq "truth_contrib.csv header" "$(head -1 "$T/a/truth_contrib.csv")" \
	"id,age,egfr,hba1c,sbp,albumin,smoking,sodium,crp,treatment,creatinine_slope,logit,p,outcome_true"
eq "ethnicity has 5 groups" "$(awk -F, 'NR>1 {print $4}' "$T/a/patients.csv" | sort -u | tr '\n' ' ')" \
	"asian black hispanic other white "
# Expected shares 0.58/0.16/0.14/0.08/0.04 (truth.json): the largest and smallest groups.
near "white share" "$(awk -F, 'NR>1 {n++; w += ($4 == "white")} END {print w/n}' "$T/a/patients.csv")" 0.58 0.04
near "other share" "$(awk -F, 'NR>1 {n++; w += ($4 == "other")} END {print w/n}' "$T/a/patients.csv")" 0.04 0.015
eq "non-lab columns are never empty" "$(awk -F, -v a=$lab_first -v b=$lab_last \
	'NR>1 {for (i = 1; i <= NF; i++) if ((i < a || i > b) && $i == "") bad++} END {print bad+0}' \
	"$T/a/patients.csv")" 0
eq "truth.json parses and names the seed" "$(jget "$T/a/truth.json" '$.seed')" 7
eq "signal columns" "$(jget "$T/a/truth.json" '$.signal_columns')" \
	'["age","egfr","hba1c","sbp","albumin","smoking","sodium","crp","treatment"]'
eq "noise columns: 28 of them, disjoint from signal" \
	"$(jsql "$T/a/truth.json" "SELECT count(*) FROM d, json_each(d.j, '\$.noise_columns') n
	WHERE n.value NOT IN (SELECT s.value FROM d, json_each(d.j, '\$.signal_columns') s)")" 28
contains "tsh is noise" "$(jget "$T/a/truth.json" '$.noise_columns')" '"tsh"'
# Values sit in their documented ranges with their documented decimals.
eq "labs in range with their decimals" "$(jsql "$T/a/truth.json" "SELECT json_extract(c.value, '\$.name'),
	json_extract(c.value, '\$.min'), json_extract(c.value, '\$.max'), json_extract(c.value, '\$.decimals')
	FROM d, json_each(d.j, '\$.columns') c WHERE json_extract(c.value, '\$.decimals') IS NOT NULL" |
	tr '|' ' ' | awk '
	NR == FNR {lo[NR] = $2; hi[NR] = $3; dec[NR] = $4; next}
	FNR > 1 {for (j = 1; j <= 30; j++) { v = $(j + 8); if (v == "") continue;
		d = index(v, ".") ? length(v) - index(v, ".") : 0;
		if (v + 0 < lo[j] || v + 0 > hi[j] || d != dec[j]) bad++ }}
	END {print bad + 0}' - FS=, "$T/a/patients.csv")" 0
near "age mean about 60" "$(awk -F, 'NR>1 {s += $2; n++} END {print s/n}' "$T/a/patients.csv")" 60 1
# Latent factors: creatinine and egfr (renal) correlate negatively, glucose and hba1c positively.
corr() { awk -F, -v a="$2" -v b="$3" 'NR>1 && $a != "" && $b != "" {n++; x=$a; y=$b;
	sx+=x; sy+=y; sxx+=x*x; syy+=y*y; sxy+=x*y}
	END {print (n*sxy-sx*sy)/sqrt((n*sxx-sx*sx)*(n*syy-sy*sy))}' "$1"; }
check "creatinine and egfr correlate negatively" \
	awk -v r="$(corr "$T/a/patients.csv" 9 10)" 'BEGIN {exit !(r < -0.15)}'
check "glucose and hba1c correlate positively" \
	awk -v r="$(corr "$T/a/patients.csv" 16 17)" 'BEGIN {exit !(r > 0.25)}'

# ---- missing cells ----------------------------------------------------------------------
miss_rate() { awk -F, -v a=$lab_first -v b=$lab_last \
	'NR>1 {for (i = a; i <= b; i++) {n++; m += ($i == "")}} END {print m/n}' "$1"; }
near "default missing rate 0.05" "$(miss_rate "$T/a/patients.csv")" 0.05 0.005
run synth --patients 3000 --seed 7 --missing 0.15 -o "$T/m15"
near "--missing 0.15" "$(miss_rate "$T/m15/patients.csv")" 0.15 0.008
run synth --patients 3000 --seed 7 --missing 0 -o "$T/m0"
eq "--missing 0 leaves no empty cell" "$(grep -c ',,' "$T/m0/patients.csv")" 0
eq "some columns miss more than others: vitamin_d vs sodium" "$(awk -F, \
	'NR>1 {v += ($35 == ""); s += ($13 == "")} END {print (v > 3 * s)}' "$T/m15/patients.csv")" 1
# Masking only hides cells: every cell shown at 0.15 is the cell of the complete cohort.
eq "missing cells hide values, never change them" "$(paste -d'|' "$T/m0/patients.csv" \
	"$T/m15/patients.csv" | awk -F'|' '{n = split($1, x, ","); split($2, y, ",");
	for (i = 1; i <= n; i++) if (y[i] != "" && y[i] != x[i] && i != 39) bad++} END {print bad+0}')" 0

# ---- outcome: prevalence and relation to the truth -------------------------------------
prev=$(awk -F, 'NR>1 {n++; y += $39} END {print y/n}' "$T/a/patients.csv")
near "prevalence near the documented 0.25" "$prev" 0.25 0.03
near "prevalence near truth.json's expected_prevalence" "$prev" \
	"$(jget "$T/a/truth.json" '$.outcome_model.expected_prevalence')" 0.03
near "truth.json observed_prevalence is the file's" \
	"$(jget "$T/a/truth.json" '$.outcome_model.observed_prevalence')" "$prev" 0.000001
# Deciles of the true risk (truth_contrib's p): observed rates follow the risk. At N = 10^5 the
# bottom decile's mean risk is 0.017 and the top decile's 0.756.
paste -d, "$T/a/patients.csv" "$T/a/truth_contrib.csv" | awk -F, 'NR>1 {print $(41+13), $39}' |
	sort -g >"$T/risk"
read -r lo_p lo_y hi_p hi_y < <(awk '{p[NR]=$1; y[NR]=$2} END {n = int(NR/10);
	for (i = 1; i <= n; i++) {a += p[i]; b += y[i]; c += p[NR-i+1]; d += y[NR-i+1]}
	print a/n, b/n, c/n, d/n}' "$T/risk")
near "bottom decile: mean true risk about 0.02" "$lo_p" 0.02 0.01
near "top decile: mean true risk about 0.75" "$hi_p" 0.75 0.04
near "bottom decile: outcome rate near its true risk" "$lo_y" "$lo_p" 0.03
near "top decile: outcome rate near its true risk" "$hi_y" "$hi_p" 0.08

# ---- truth_contrib.csv against the documented formula (closed form) --------------------
# Recomputed here from patients.csv with the coefficients written in the man page and kept in
# this test: logit = b0 + 0.55 z(age) - 0.60 z(egfr) + 0.45 z(hba1c) + 0.35 z(sbp) - 0.40 z(alb)
#   + smoking{0, .25, .60} + 0.35 (z(na)^2 - 1) + 0.50 zl(crp) + t (-0.30 - 0.45 zl(crp)).
eq "truth.json intercept without visits" "$(jget "$T/m0/truth.json" '$.outcome_model.intercept')" -1.59
eq "truth.json standardised coefficients" "$(jsql "$T/m0/truth.json" "SELECT group_concat(coalesce(
	json_extract(t.value, '\$.coef_std'), json_extract(t.value, '\$.levels')), ' ')
	FROM d, json_each(d.j, '\$.outcome_model.terms') t")" \
	'0.55 -0.6 0.45 0.35 -0.4 {"never":0,"former":0.25,"current":0.6} 0.35 0.5 -0.3'
paste -d, "$T/m0/patients.csv" "$T/m0/truth_contrib.csv" | awk -F, '
NR == 1 {next}
{
	n++; id[n] = $1
	t = $8; z = log($25 / 2.5); zn = ($13 - 140) / 3.2
	g[n, 1] = 0.55 * ($2 - 60) / 12; g[n, 2] = -0.60 * ($10 - 85) / 20
	g[n, 3] = 0.45 * ($17 - 5.8) / 0.9; g[n, 4] = 0.35 * ($22 - 128) / 17
	g[n, 5] = -0.40 * ($27 - 4.1) / 0.4
	g[n, 6] = $6 == "former" ? 0.25 : $6 == "current" ? 0.60 : 0
	g[n, 7] = 0.35 * (zn * zn - 1); g[n, 8] = 0.50 * z; g[n, 9] = -0.30 * t
	T[n] = t; Z[n] = z
	logit = -1.59 + g[n,1] + g[n,2] + g[n,3] + g[n,4] + g[n,5] + g[n,6] + g[n,7] + g[n,8] + g[n,9] - 0.45 * t * z
	L[n] = logit; sl += logit; st += t; sz += z; stz += t * z
	for (k = 1; k <= 9; k++) { sg[k] += g[n, k]; c[n, k] = $(41 + 1 + k) }
	fl[n] = $(41 + 11); fp[n] = $(41 + 12)
	if ($(41 + 13) != $39) flip++
}
END {
	tm = st / n; zm = sz / n; half = 0.5 * -0.45 * (stz / n - tm * zm)
	for (i = 1; i <= n; i++) {
		for (k = 1; k <= 9; k++) e[k] = g[i, k] - sg[k] / n
		e[9] += 0.5 * -0.45 * (T[i] - tm) * (Z[i] + zm) - half
		e[8] += 0.5 * -0.45 * (Z[i] - zm) * (T[i] + tm) - half
		s = 0
		for (k = 1; k <= 9; k++) { d = e[k] - c[i, k]; if (d < 0) d = -d; if (d > maxc) maxc = d; s += c[i, k] }
		d = L[i] - fl[i]; if (d < 0) d = -d; if (d > maxl) maxl = d
		d = 1 / (1 + exp(-L[i])) - fp[i]; if (d < 0) d = -d; if (d > maxp) maxp = d
		d = s - (fl[i] - sl / n); if (d < 0) d = -d; if (d > maxs) maxs = d
	}
	printf "%d %.9f %.9f %.9f %.9f\n", flip + 0, maxc, maxl, maxp, maxs
}' >"$T/closed"
read -r flips maxc maxl maxp maxs <"$T/closed"
eq "without --bias, outcome equals outcome_true" "$flips" 0
near "each contribution equals the closed form" "$maxc" 0 0.000002
near "logit equals the closed form" "$maxl" 0 0.000002
near "p equals sigmoid(logit)" "$maxp" 0 0.000002
near "contributions sum to logit - mean logit" "$maxs" 0 0.00002
# With visits, the slope column joins and the sums still close.
eq "with visits, contributions sum to logit - mean logit" "$(awk -F, -v ml="$(jget "$T/a/truth.json" \
	'$.outcome_model.mean_logit')" 'NR>1 {s = 0; for (k = 2; k <= 11; k++) s += $k; d = s - ($12 - ml);
	if (d < 0) d = -d; if (d > 0.00002) bad++} END {print bad+0}' "$T/a/truth_contrib.csv")" 0
# Mean-point offsets, recomputed: sodium's is g(mean sodium) - mean(g) with g the U-shape.
eq "mean-point offsets: 0 for linear and categorical terms" "$(jsql "$T/m0/truth.json" "SELECT
	group_concat(o.value, ' ') FROM d, json_each(d.j, '\$.contributions.mean_point_offsets') o
	WHERE o.key NOT IN ('sodium', 'crp')")" "0 0 0 0 0 0 0"
near "mean-point offset of sodium" "$(jget "$T/m0/truth.json" '$.contributions.mean_point_offsets.sodium')" \
	"$(awk -F, 'NR>1 {z = ($13 - 140) / 3.2; g += 0.35 * (z * z - 1); s += $13; n++}
	END {z = (s / n - 140) / 3.2; printf "%.9f", 0.35 * (z * z - 1) - g / n}' "$T/m0/patients.csv")" 0.000001
near "mean-point offset of crp" "$(jget "$T/m0/truth.json" '$.contributions.mean_point_offsets.crp')" \
	"$(awk -F, 'NR>1 {g += 0.50 * log($25 / 2.5); s += $25; n++}
	END {printf "%.9f", 0.50 * log(s / n / 2.5) - g / n}' "$T/m0/patients.csv")" 0.000001
eq "contribution columns have mean zero" "$(awk -F, 'NR>1 {for (k = 2; k <= 11; k++) s[k] += $k; n++}
	END {for (k = 2; k <= 11; k++) if (s[k]/n > 0.000001 || s[k]/n < -0.000001) bad++; print bad+0}' \
	"$T/a/truth_contrib.csv")" 0

# ---- scikit-learn as an oracle: the fitted logistic model recovers the truth ----------
if [ -x "$PY" ] && "$PY" -c 'import sklearn, numpy' 2>/dev/null; then
	run synth --patients 20000 --seed 3 --missing 0 -o "$T/big"
	fit=$("$PY" - "$T/big/patients.csv" <<'EOF'
import csv, math, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
X, y = [], []
for r in csv.DictReader(open(sys.argv[1])):
    f = lambda k: float(r[k])
    zn = (f('sodium') - 140) / 3.2
    zc = math.log(f('crp') / 2.5)
    t = f('treatment')
    X.append([(f('age') - 60) / 12, (f('egfr') - 85) / 20, (f('hba1c') - 5.8) / 0.9,
              (f('sbp') - 128) / 17, (f('albumin') - 4.1) / 0.4, r['smoking'] == 'former',
              r['smoking'] == 'current', zn * zn - 1, zc, t, t * zc])
    y.append(int(r['outcome']))
m = LogisticRegression(C=1e6, max_iter=5000).fit(np.array(X, float), np.array(y))
print(' '.join('%.4f' % v for v in [m.intercept_[0]] + list(m.coef_[0])))
EOF
)
	want="-1.59 0.55 -0.60 0.45 0.35 -0.40 0.25 0.60 0.35 0.50 -0.30 -0.45"
	names="intercept age egfr hba1c sbp albumin former current sodium_u crp treatment treatment_x_crp"
	read -r -a got <<<"$fit"
	read -r -a exp <<<"$want"
	read -r -a nm <<<"$names"
	# Tolerance 0.15: about three standard errors at N = 20000 (sklearn's fit on seed 3 gives
	# them all within 0.05 of the truth: -1.574 0.566 -0.586 0.431 0.346 -0.395 0.207 0.608 0.337
	# 0.538 -0.343 -0.464).
	for i in "${!exp[@]}"; do
		near "sklearn recovers ${nm[$i]}" "${got[$i]:-}" "${exp[$i]}" 0.15
	done
else
	skip "sklearn recovers the outcome model" "Debian's /usr/bin/python3 with scikit-learn is absent"
fi

# ---- bias ------------------------------------------------------------------------------
run synth --patients 3000 --visits 4 --seed 7 --bias ethnicity=black --bias-rate 0.6 -o "$T/bias"
eq "--bias exits 0" "$RC" 0
eq "--bias: only outcome cells of black patients change, only 1 -> 0" "$(paste -d'|' "$T/a/patients.csv" \
	"$T/bias/patients.csv" | awk -F'|' '$1 != $2 {split($1, x, ","); split($2, y, ",");
	for (i = 1; i <= 41; i++) if (x[i] != y[i] && !(i == 39 && x[4] == "black" && x[i] == 1 && y[i] == 0)) bad++}
	END {print bad+0}')" 0
flipped=$(paste -d'|' "$T/a/patients.csv" "$T/bias/patients.csv" | awk -F'|' '$1 != $2 {n++} END {print n+0}')
eq "truth.json counts the flipped labels" "$(jget "$T/bias/truth.json" '$.bias.labels_flipped')" "$flipped"
eq "truth.json names the group" "$(jsql "$T/bias/truth.json" "SELECT json_extract(d.j, '\$.bias.column'),
	json_extract(d.j, '\$.bias.group'), json_extract(d.j, '\$.bias.flip_probability') FROM d")" 'ethnicity|black|0.6'
pos_black=$(awk -F, 'NR>1 && $4 == "black" {y += $39} END {print y}' "$T/a/patients.csv")
near "about 60% of the group's positives flipped" "$(awk -v f="$flipped" -v p="$pos_black" \
	'BEGIN {print f/p}')" 0.6 0.1
eq "other groups' label rates unchanged" "$(awk -F, 'NR>1 && $4 != "black" {y += $39} END {print y}' \
	"$T/bias/patients.csv")" "$(awk -F, 'NR>1 && $4 != "black" {y += $39} END {print y}' "$T/a/patients.csv")"
eq "truth_contrib.csv is the same with and without bias" \
	"$(sha256sum <"$T/bias/truth_contrib.csv")" "$(sha256sum <"$T/a/truth_contrib.csv")"
run synth --patients 2000 --seed 7 --bias sex=f -o "$T/biasf"
eq "--bias sex=f flips only women" "$(paste -d, "$T/biasf/patients.csv" "$T/biasf/truth_contrib.csv" |
	awk -F, 'NR>1 && $39 != $(41+13) {if ($3 != "f") bad++; else n++} END {print (bad+0) " " (n > 0)}')" "0 1"

# ---- visits ----------------------------------------------------------------------------
V="$T/a/visits.csv"
eq "visits header" "$(head -1 "$V")" "id,day,creatinine,egfr,hba1c,sbp"
eq "visits rows match truth.json" "$(($(wc -l <"$V") - 1))" "$(jget "$T/a/truth.json" '$.visits.rows')"
eq "visits sorted by id then day, gaps 90..365, first day 0" "$(awk -F, 'NR>1 {
	if ($1 < pid || ($1 == pid && ($2 - pday < 90 || $2 - pday > 365)) || ($1 != pid && $2 != 0)) bad++
	pid = $1; pday = $2} END {print bad+0}' "$V")" 0
eq "every patient has 1..4 visits" "$(awk -F, 'NR>1 {c[$1]++} END {for (i in c) {n++; if (c[i] < 1 || c[i] > 4) bad++}
	print n, bad+0}' "$V")" "3000 0"
near "mean visits per patient about 2.5" "$(awk 'END {print (NR-1)/3000}' "$V")" 2.5 0.1
eq "day 0 repeats the patient's baseline labs" "$(awk -F, 'NR == FNR {if (FNR > 1) b[$1] = $9 "," $10 "," $17 "," $22; next}
	FNR > 1 && $2 == 0 && b[$1] != $3 "," $4 "," $5 "," $6 {bad++} END {print bad+0}' "$T/a/patients.csv" "$V")" 0
# The observed creatinine trend tracks the latent slope whose term is in truth_contrib.csv.
awk -F, 'NR == FNR {if (FNR > 1) s[$1] = $11; next}
	FNR > 1 && $3 != "" {if (!($1 in c0)) {c0[$1] = $3; d0[$1] = $2} else {c1[$1] = $3; d1[$1] = $2}}
	END {for (i in c1) if (d1[i] - d0[i] >= 300) print log(c1[i] / c0[i]) / ((d1[i] - d0[i]) / 365.25) "," s[i]}' \
	"$T/a/truth_contrib.csv" "$V" >"$T/slopes"
check "observed creatinine slope correlates with the truth's slope term (r > 0.8)" \
	awk -v r="$(corr "$T/slopes" 1 2)" 'BEGIN {exit !(r > 0.8)}'
run synth --patients 100 --seed 7 -o "$T/nov"
check "no visits.csv without --visits" test ! -e "$T/nov/visits.csv"
eq "no slope column without visits" "$(head -1 "$T/nov/truth_contrib.csv" | grep -c creatinine_slope)" 0

# ---- errors ----------------------------------------------------------------------------
run synth --patients 0 -o "$T/e"
eq "--patients 0: status 64" "$RC" 64
contains "--patients 0: message" "$ERR" "lumen: synth: --patients: '0' is not a number of patients"
run synth --patients 12x -o "$T/e"
eq "--patients 12x: status 64" "$RC" 64
run synth -o "$T/e"
eq "no --patients: status 64" "$RC" 64
contains "no --patients: message" "$ERR" "lumen: synth: --patients N is required"
run synth --patients 10
eq "no -o: status 64" "$RC" 64
run synth --patients 10 --missing 2 -o "$T/e"
eq "--missing 2: status 64" "$RC" 64
run synth --patients 10 --bias ethnicity=martian -o "$T/e"
eq "--bias unknown group: status 64" "$RC" 64
contains "--bias unknown group: message" "$ERR" \
	"lumen: synth: --bias: unknown ethnicity 'martian' (one of white, black, hispanic, asian, other)"
run synth --patients 10 --bias age=3 -o "$T/e"
contains "--bias unknown column" "$ERR" "--bias: unknown column 'age'"
run synth --patients 10 --seed 9007199254740992 -o "$T/e"
eq "--seed above 2^53 - 1: status 64" "$RC" 64
check "usage errors write nothing" test ! -e "$T/e"
run synth --patients 10 --seed 9007199254740991 -o "$T/seed"
eq "the largest seed is written exactly" "$(grep '"seed"' "$T/seed/truth.json" | tr -d ' \t')" '"seed":9007199254740991,'

before=$(sha256sum <"$T/a/patients.csv")
run synth --patients 50 --seed 9 -o "$T/a"
eq "existing files: status 73" "$RC" 73
contains "existing files: message" "$ERR" "lumen: synth: $T/a/patients.csv exists (use --force to overwrite)"
eq "existing files are untouched" "$(sha256sum <"$T/a/patients.csv")" "$before"
run synth --patients 50 --seed 9 --force -o "$T/a"
eq "--force overwrites" "$RC/$(wc -l <"$T/a/patients.csv")" "0/51"
check "--force without visits removes the stale visits.csv" test ! -e "$T/a/visits.csv"
touch "$T/plainfile"
run synth --patients 10 -o "$T/plainfile/sub"
eq "a file in the way: status 73" "$RC" 73
contains "a file in the way: message" "$ERR" "lumen: synth: $T/plainfile: not a directory"
run synth --patients 10 -o /proc/lumen-synth-test
eq "uncreatable directory: status 73" "$RC" 73
contains "uncreatable directory: message" "$ERR" "lumen: synth: /proc/lumen-synth-test: cannot create directory"
run synth --patients 10 -o "$T/new/deep/dir"
eq "missing parent directories are created" "$RC/$(wc -l <"$T/new/deep/dir/patients.csv")" "0/11"

# ---- sample_data/synth is what its README says -----------------------------------------
run synth --patients 2000 --visits 5 --seed 1 -o "$T/sample"
for f in patients.csv visits.csv truth.json truth_contrib.csv; do
	eq "sample_data/synth/$f is reproduced by the README's command" \
		"$(sha256sum <"$TOP/sample_data/synth/$f")" "$(sha256sum <"$T/sample/$f")"
done
# The SHA-256 of the files as the project received them (shared data README), kept here to show sample_data/ is unchanged.
eq "sample_data/pbc.csv is the shared file, unchanged" "$(sha256sum <"$TOP/sample_data/pbc.csv" | cut -d' ' -f1)" \
	1dbab06d2db283e0e6b6b0fef1d0d5eab8cac227286eef9f2e9419e8f9994c8f
eq "sample_data/pbcseq.csv is the shared file, unchanged" "$(sha256sum <"$TOP/sample_data/pbcseq.csv" | cut -d' ' -f1)" \
	09b0165a7c85a13076269327f629fc639594707c8e447b108fd8caa2edccac03
