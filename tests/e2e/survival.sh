#!/bin/bash
# lumen survival on pbc against R's survival package. The expected numbers below were computed
# with R 4 / survival 3.5.3:
#   f <- survfit(Surv(time, status == 2) ~ sex, data = pbc); print(f)
#   summary(f, times = c(365, 1825, 3650)); survdiff(Surv(time, status == 2) ~ sex, data = pbc)
# and the test also reruns R when Rscript and survival are installed.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/stats_fixture.sh"
W=$T/pbc.lumen
check "fixture workbench from pbc.csv" wb_pbc "$W"
J=$T/sex.json
run survival "$W" --time time --event status=2 --by sex --times 365,1825,3650 --json
eq "survival --json exits 0" "$RC" 0
printf '%s' "$OUT" >"$J"
jx() { sqlite3 :memory: "SELECT json_extract(readfile('$J'), '$1')"; }

eq "women n" "$(jx '$.groups[0].n')" 374
eq "women events" "$(jx '$.groups[0].events')" 137
eq "men events" "$(jx '$.groups[1].events')" 24
eq "women median (R 3445)" "$(jx '$.groups[0].median')" 3445
eq "women median lower (R 3170)" "$(jx '$.groups[0].median_lower')" 3170
eq "women median upper (R NA)" "$(jx '$.groups[0].median_upper')" ""
eq "men median (R 2386)" "$(jx '$.groups[1].median')" 2386
eq "men median lower (R 1536)" "$(jx '$.groups[1].median_lower')" 1536
# group, index, time, n.risk, surv, lower, upper from summary(f, times = ...)
while read -r g k t nr s lo hi; do
	eq "$g at $t: at risk" "$(jx "\$.groups[$g].at[$k].n_risk")" "$nr"
	near "$g at $t: survival" "$(jx "\$.groups[$g].at[$k].surv")" "$s" 1e-4
	near "$g at $t: lower" "$(jx "\$.groups[$g].at[$k].lower")" "$lo" 1e-4
	near "$g at $t: upper" "$(jx "\$.groups[$g].at[$k].upper")" "$hi" 1e-4
done <<'R'
0 0 365 346 0.925133689840 0.898842374470 0.952194031330
0 1 1825 181 0.721998224898 0.675763203641 0.771396598611
0 2 3650 29 0.449874677257 0.372226887974 0.543720058318
1 0 365 42 0.954545454545 0.894940452071 1.000000000000
1 1 1825 16 0.541059837986 0.402401637306 0.727496414383
1 2 3650 6 0.364174890952 0.222016340934 0.597358512630
R
near "log-rank chi-square (R 2.97660042118766)" "$(jx '$.logrank.chisq')" 2.97660042118766 1e-4
eq "log-rank df" "$(jx '$.logrank.df')" 1
near "log-rank p (R 0.0844765367421082)" "$(jx '$.logrank.p')" 0.0844765367421082 1e-4
eq "conventions in the JSON" "$(jx '$.conf_type')/$(jx '$.at_risk')" "log/start"

# the whole curve against R, point by point, when R is here
if command -v Rscript >/dev/null 2>&1 && Rscript -e 'library(survival)' >/dev/null 2>&1; then
	cat >"$T/km.R" <<RS
suppressMessages(library(survival))
d <- read.csv("$DATA/pbc.csv")
f <- survfit(Surv(time, status == 2) ~ sex, data = d)
s <- summary(f, censored = TRUE)
g <- as.integer(s\$strata) - 1L
write.table(data.frame(g, s\$time, s\$n.risk, s\$surv, s\$lower, s\$upper), "$T/r.txt",
  row.names = FALSE, col.names = FALSE)
sd <- survdiff(Surv(time, status == 2) ~ sex, data = d)
cat(sprintf("%.12f", sd\$chisq), file = "$T/chisq.txt")
RS
	Rscript "$T/km.R"
	bad=0 npts=0
	while read -r g t nr s lo hi; do
		npts=$((npts + 1))
		got=$(sqlite3 :memory: "WITH c AS (SELECT json_extract(readfile('$J'), '\$.groups[$g].curve') AS v)
		  SELECT json_extract(v, '\$.surv[' || k.key || ']') || ' ' ||
		         ifnull(json_extract(v, '\$.lower[' || k.key || ']'), 'NA') || ' ' ||
		         ifnull(json_extract(v, '\$.upper[' || k.key || ']'), 'NA') || ' ' ||
		         json_extract(v, '\$.n_risk[' || k.key || ']')
		  FROM c, json_each(json_extract(v, '\$.time')) k WHERE k.value = $t")
		awk -v got="$got" -v s="$s" -v lo="$lo" -v hi="$hi" -v nr="$nr" 'BEGIN {
			split(got, a, " "); d = 0
			if (a[1] - s > 1e-4 || s - a[1] > 1e-4) d = 1
			if (lo != "NA" && (a[2] - lo > 1e-4 || lo - a[2] > 1e-4)) d = 1
			if (hi != "NA" && (a[3] - hi > 1e-4 || hi - a[3] > 1e-4)) d = 1
			if (a[4] != nr) d = 1
			exit d }' || { bad=$((bad + 1)); echo "# differs at group $g time $t: got $got, R $s $lo $hi $nr"; }
	done <"$T/r.txt"
	eq "every curve point ($npts) matches R to 1e-4" "$bad" 0
	near "log-rank chi-square equals R's live" "$(jx '$.logrank.chisq')" "$(cat "$T/chisq.txt")" 1e-4
else
	skip "curve point by point against R" "Rscript with the survival package is not installed"
	skip "log-rank against R live" "Rscript with the survival package is not installed"
fi

# text output states its conventions, and the chart is 72 columns wide
run survival "$W" --time time --event status=2 --by sex --ascii
eq "text exits 0" "$RC" 0
contains "text names the interval transform" "$OUT" 'log transform'
contains "text names the at-risk convention" "$OUT" 'start of each time'
contains "text has the log-rank line" "$OUT" 'Log-rank test: chi-square 2.977 on 1 df, p = 0.0845'
contains "text has median with CI" "$OUT" 'median 3445 (95% CI 3170 to NA)'
eq "no line wider than 72" "$(printf '%s\n' "$OUT" | awk 'length($0) > 72' | wc -l)" 0
contains "ASCII legend" "$OUT" '2 = sex=m'
run survival "$W" --time time --event status=2 --by sex
nb=$(printf '%s\n' "$OUT" | grep -c $'\xe2\xa0\|\xe2\xa1\|\xe2\xa2\|\xe2\xa3')
awk -v n="$nb" 'BEGIN { exit !(n >= 10) }' && ok "unicode chart draws braille on $nb rows" || not_ok "unicode chart draws braille ($nb rows)"
contains "unicode chart axis" "$OUT" '└'

# stage: 4 groups, 6 missing stages counted; R: survdiff(...~ stage) chisq 70.0762380382374, 3 df
run survival "$W" --time time --event status=2 --by stage --json
eq "stage exits 0" "$RC" 0
printf '%s' "$OUT" >"$J"
near "stage log-rank chi-square (R 70.0762)" "$(jx '$.logrank.chisq')" 70.0762380382374 1e-4
eq "stage df" "$(jx '$.logrank.df')" 3
eq "missing stage counted" "$(jx '$.left_out.group_missing')" 6
contains "missing stage reported on stderr" "$ERR" '6 patients left out'
run survival "$W" --time time --event status=2 --by stage
contains "missing stage reported in the output" "$OUT" 'left out 6:'
# characters, not bytes: UTF-8 continuation bytes (0x80-0xBF) removed before counting
eq "unicode output within 72 columns" "$(printf '%s\n' "$OUT" | LC_ALL=C tr -d '\200-\277' | awk '{ if (length($0) > 72) n++ } END { print n + 0 }')" 0

# risk strata from stored predictions: p = bilirubin rank (a model stand-in written with sqlite3)
id=$(wb_model "$W" bili_rank)
sqlite3 "$W" "INSERT INTO predictions(model_id, patient, fold, p)
  SELECT $id, rowid, rowid % 5, (SELECT count(*) FROM patients q WHERE q.bili < p.bili) / 418.0 FROM patients p"
run survival "$W" --time time --event status=2 --by risk:bili_rank:3 --json
eq "risk strata exit 0" "$RC" 0
printf '%s' "$OUT" >"$J"
eq "three risk strata" "$(jx '$.logrank.df')" 2
eq "strata cover everyone" "$(( $(jx '$.groups[0].n') + $(jx '$.groups[1].n') + $(jx '$.groups[2].n') ))" 418
# bilirubin separates survival strongly: highest tertile has the lowest survival
awk -v a="$(jx '$.groups[0].at[1].surv')" -v c="$(jx '$.groups[2].at[1].surv')" 'BEGIN { exit !(a > c) }' &&
	ok "high-risk stratum survives less" || not_ok "high-risk stratum survives less"
awk -v x="$(jx '$.logrank.chisq')" 'BEGIN { exit !(x > 50) }' && ok "risk strata separate (chi-square > 50)" ||
	not_ok "risk strata separate"
run survival "$W" --time time --event status=2 --by risk:nosuch:3
eq "unknown model: status 65" "$RC" 65
eq "unknown model message" "$ERR" "lumen: survival: no model 'nosuch'; lumen models FILE lists them"

# intersections: sex x stage has 8 cells, all present in pbc; sex x edema x stage leaves
# some empty, which is reported
run survival "$W" --time time --event status=2 --by sex,stage --json
printf '%s' "$OUT" >"$J"
eq "sex x stage: 8 groups, 7 df" "$(jx '$.logrank.df')" 7
eq "first intersection label" "$(jx '$.groups[0].group')" "sex=f,stage=1"
run survival "$W" --time time --event status=2 --by sex,edema,stage --json
printf '%s' "$OUT" >"$J"
contains "empty combinations reported" "$ERR" "combinations of --by sex,edema,stage have no patient"
awk -v e="$(jx '$.left_out.empty_combinations')" 'BEGIN { exit !(e > 0) }' && ok "empty combinations counted" ||
	not_ok "empty combinations counted"

# with the real importer and a trained model, when they are built
if "$LUMEN" import "$DATA/pbc.csv" -o "$T/imp.lumen" --time time --event status >/dev/null 2>&1; then
	run survival "$T/imp.lumen" --time time --event status=2 --by sex --json
	printf '%s' "$OUT" >"$J"
	near "imported pbc: log-rank chi-square (R 2.97660042118766)" "$(jx '$.logrank.chisq')" 2.97660042118766 1e-4
	eq "imported pbc: women's median (R 3445)" "$(jx '$.groups[0].median')" 3445
	if "$LUMEN" train "$T/imp.lumen" --model logreg --target status --positive 2 --exclude time \
		--quiet >/dev/null 2>&1; then
		run survival "$T/imp.lumen" --time time --event status=2 --by risk:logreg-status:3 --json
		printf '%s' "$OUT" >"$J"
		eq "trained model's tertiles: 2 df" "$(jx '$.logrank.df')" 2
		awk -v x="$(jx '$.logrank.chisq')" 'BEGIN { exit !(x > 50) }' &&
			ok "trained model's tertiles separate survival (chi-square $(jx '$.logrank.chisq'))" ||
			not_ok "trained model's tertiles separate survival"
	else
		skip "risk tertiles of a trained model" "lumen train is not built"
	fi
else
	skip "survival on a workbench from lumen import" "lumen import is not built"
fi

# bad input
run survival "$W" --time time --event status --by sex
eq "three-valued event: 65" "$RC" 65
eq "three-valued event message" "$ERR" "lumen: survival: --event: status has more than two values (0, 1, 2); name the event: --event status=VALUE"
sqlite3 "$W" "UPDATE patients SET time = -5 WHERE rowid IN (1, 2); UPDATE patients SET time = NULL WHERE rowid = 3"
run survival "$W" --time time --event status=2 --json
eq "negative and missing times: still runs" "$RC" 0
contains "negative and missing times reported" "$ERR" "3 patients left out (time missing 1, negative 2"
printf '%s' "$OUT" >"$J"
eq "negative times counted" "$(jx '$.left_out.time_negative')" 2
eq "n after leaving out" "$(jx '$.groups[0].n')" 415
sqlite3 "$W" "UPDATE patients SET sex = 'f'; UPDATE columns SET categories = '[{\"value\":\"f\",\"n\":418}]', distinct_count = 1 WHERE name = 'sex'"
run survival "$W" --time time --event status=2 --by sex
eq "one-level group: 65" "$RC" 65
eq "one-level group message" "$ERR" "lumen: survival: sex has one level (f); nothing to compare"
run survival "$W" --time time --event sex=f
eq "event with one value present" "$RC" 0
run survival "$W" --time nosuch --event status=2
eq "unknown column: 65" "$RC" 65
contains "unknown column named" "$ERR" "nosuch"
run survival "$W" --event status=2
eq "missing --time: usage 64" "$RC" 64
run survival "$T/absent.lumen" --time time --event status=2
eq "absent file: 66" "$RC" 66
run survival --help
eq "--help exits 0" "$RC" 0
contains "--help shows usage" "$OUT" "Usage: lumen survival"
echo "1..$T_N"
