#!/bin/bash
# IG against a known truth: a 10,000-patient `lumen synth` cohort (9 signal columns among 37
# features; outcome = an additive logistic model), mlp and logreg trained by lumen train.
#   top-k: the 9 columns with the largest mean |IG| hold at least 0.8 of the signal columns
#          (mlp; logreg cannot represent sodium's U shape, so it is reported, not required)
#   per patient: Spearman of IG with the truth's additive contributions over the signal
#          columns, median >= 0.7 (mlp and logreg)
# Measured when written (seed 7): mlp overlap 0.89, Spearman median 0.88; logreg 0.78, 0.88.
# The transformer's recovery is tested in tests/unit/test_ig_faithful.c (training one on
# 37 tokens here would take minutes).
. "$(dirname "$0")/../lib.sh"
PY=python3
run synth --patients 10000 --seed 7 -o "$T/syn"
eq "synth 10000 patients" "$RC" 0
F=$T/s.lumen
run import "$T/syn/patients.csv" -o "$F" --target outcome
eq "import" "$RC" 0
for a in mlp logreg; do
	run train "$F" --model $a --target outcome --exclude time,event --name $a --folds 2 --quiet
	eq "train $a" "$RC" 0
	run explain "$F" --model $a -q
	eq "explain $a" "$RC" 0
	read -r overlap rho rho_all n < <($PY "$(dirname "$0")/explain_truth.py" "$F" $a "$T/syn")
	eq "$a: every patient compared" "$n" 10000
	echo "# $a: top-9 overlap $overlap, Spearman with truth median $rho (over all columns $rho_all)"
	if [ $a = mlp ]; then
		check "mlp: top-9 overlap $overlap >= 0.8" $PY -c "import sys; sys.exit(not $overlap >= 0.8)"
	fi
	check "$a: per-patient Spearman median $rho >= 0.7" $PY -c "import sys; sys.exit(not $rho >= 0.7)"
done
echo "1..$T_N"
