#!/bin/bash
# Clinical words beyond pbc: two public cohorts from Debian's R packages, survival::lung and
# MASS::Pima.tr, exported at test time with write.csv and imported with a labels file written
# from their documentation (?lung, ?Pima.tr): the words reach lumen info, the trained model's
# explanation and the TUI at 80x24, and a value label the data do not have is refused.
# Skips with a message when Rscript or a package is absent.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
if ! command -v Rscript >/dev/null 2>&1; then
	skip "labelled cohorts from R" "Rscript is not installed (Debian r-base-core, r-cran-survival, r-cran-mass)"
	exit 0
fi
Rscript - >r.log 2>&1 <<'R'
if (requireNamespace("survival", quietly = TRUE)) write.csv(survival::lung, "lung.csv", row.names = FALSE, na = "")
if (requireNamespace("MASS", quietly = TRUE)) write.csv(MASS::Pima.tr, "pima.csv", row.names = FALSE, na = "")
R
fits80() { # TEXT DESC
	local w
	w=$(printf '%s\n' "$1" | python3 -c 'import sys; print(max(len(l) for l in sys.stdin.read().split("\n")))')
	check "$2: no line wider than 80" test "$w" -le 80
	if printf '%s\n' "$1" | grep -Eq '[0-9]e[-+]?[0-9]'; then not_ok "$2: no e-notation"; else ok "$2: no e-notation"; fi
}

if [ -f lung.csv ]; then
	cat >lung_labels.csv <<'CSV'
column,label,unit,values
inst,Institution,,
time,Survival time,days,
status,Status,,"1=censored,2=dead"
age,Age,years,
sex,Sex,,"1=male,2=female"
ph.ecog,ECOG performance score,,"0=asymptomatic,1=ambulatory,2=in bed <50% of the day,3=in bed >50% of the day"
ph.karno,Karnofsky score (physician),,
pat.karno,Karnofsky score (patient),,
meal.cal,Calories at meals,kcal,
wt.loss,Weight loss in the last six months,lb,
CSV
	run import lung.csv -o lung.lumen --row-ids --time time --event status --group sex --labels lung_labels.csv
	eq "lung: imported with its words" "$RC" "0"
	contains "lung: ten columns labelled" "$OUT" "labels: 10 columns from lung_labels.csv"
	run info lung.lumen
	contains "lung: info lists a coded category" "$OUT" "ph.ecog          ECOG performance score: 0 = asymptomatic, 1 = ambulatory"
	contains "lung: info lists a unit" "$OUT" "wt.loss          Weight loss in the last six months (lb)"
	"$LUMEN" train lung.lumen --model logreg --target status --positive 2 --name lr --quiet >/dev/null
	"$LUMEN" explain lung.lumen --model lr --quiet >/dev/null
	run explain lung.lumen --model lr --patient 1
	contains "lung: explain names the outcome's value" "$OUT" "risk of status = 2 (dead)"
	contains "lung: explain by label" "$OUT" "Weight loss in the last six months"
	S=$("$LUMEN" tui lung.lumen --headless --keys '\n' --dump)
	contains "lung: patient screen in words" "$S" "Survival time 306 days | Status dead | Sex male"
	contains "lung: a coded category by its name" "$(printf '%s\n' "$S" | grep 'ECOG')" "ambulatory"
	case "$(printf '%s\n' "$S" | grep 'ECOG')" in *%*) not_ok "lung: no percentile for a category" ;; *) ok "lung: no percentile for a category" ;; esac
	contains "lung: missing reads missing" "$(printf '%s\n' "$S" | grep 'Weight loss')" "missing"
	fits80 "$S" "lung patient screen"
	S=$("$LUMEN" tui lung.lumen --headless --keys '5' --dump)
	contains "lung: survival in days" "$S" "Kaplan-Meier: Survival time (days), event status = 2 (dead)"
	fits80 "$S" "lung survival screen"
	# ECOG 4 (bedbound) is in the documentation but not in these data: refused, nothing written
	n0=$(sqlite3 lung.lumen "SELECT count(*) FROM access_log")
	printf 'column,label,unit,values\nph.ecog,ECOG,,"0=a,4=bedbound"\n' >lung_bad.csv
	run label lung.lumen --file lung_bad.csv
	eq "lung: a value the data do not have" "$RC/$ERR" "65/lumen: label: lung_bad.csv:2:15: values: column 'ph.ecog' never has the value '4' (label 'bedbound')"
	eq "lung: nothing written" "$(sqlite3 lung.lumen "SELECT count(*) FROM access_log")" "$n0"
else
	skip "survival::lung" "R package survival is not installed (Debian r-cran-survival)"
fi

if [ -f pima.csv ]; then
	cat >pima_labels.csv <<'CSV'
column,label,unit,values
npreg,Pregnancies,,
glu,Plasma glucose (2 h OGTT),mg/dl,
bp,Diastolic blood pressure,mm Hg,
skin,Triceps skin fold,mm,
bmi,Body mass index,kg/m²,
ped,Diabetes pedigree function,,
age,Age,years,
type,Diabetes (WHO criteria),,"No=not diabetic,Yes=diabetic"
CSV
	run import pima.csv -o pima.lumen --row-ids --target type --labels pima_labels.csv
	eq "pima: imported with its words" "$RC" "0"
	"$LUMEN" train pima.lumen --model logreg --target type --positive Yes --name lr --quiet >/dev/null
	"$LUMEN" explain pima.lumen --model lr --quiet >/dev/null
	S=$("$LUMEN" tui pima.lumen --headless --keys '\n' --dump)
	contains "pima: the outcome by its name" "$S" "risk of type = Yes (diabetic)"
	contains "pima: a lab with its unit" "$(printf '%s\n' "$S" | grep 'Plasma glucose')" "86 mg/dl"
	contains "pima: a unit outside ASCII" "$(printf '%s\n' "$S" | grep 'Body mass')" "30.2 kg/m²"
	fits80 "$S" "pima patient screen"
	run explain pima.lumen --model lr --patient 1 --json
	eq "pima: explain --json keeps the code and gives the words" "$(printf '%s' "$OUT" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = {c["column"]: c for c in d["columns"]}
print(d["outcome"], c["glu"]["label"], c["glu"]["unit"], c["glu"]["value"])')" "type = Yes (diabetic) Plasma glucose (2 h OGTT) mg/dl 86"
	printf 'column,label,unit,values\ntype,Diabetes,,"maybe=borderline"\n' >pima_bad.csv
	run label pima.lumen --file pima_bad.csv
	eq "pima: a code that is no boolean" "$RC/$ERR" "65/lumen: label: pima_bad.csv:2:16: values: code 'maybe' is not a yes/no value (type is a boolean column)"
else
	skip "MASS::Pima.tr" "R package MASS is not installed (Debian r-cran-mass)"
fi
