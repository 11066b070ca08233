#!/bin/bash
# Treatment effects: lumen synth --biomarker (a known per-patient effect), lumen train --effect
# (T- and DR-learners), their evaluation, predict, explain; checked against the synthetic truth.
. "$(dirname "$0")/../lib.sh"

# ---- lumen synth --biomarker -----------------------------------------------------------
run synth --patients 3000 --seed 5 -o "$T/plain"
check "no truth_effect.csv without --biomarker" test ! -e "$T/plain/truth_effect.csv"
run synth --patients 3000 --seed 5 --biomarker -0.45 -o "$T/b45"
eq "--biomarker exits 0" "$RC" 0
eq "--biomarker at the default strength writes the same patients" \
	"$(sha256sum <"$T/b45/patients.csv")" "$(sha256sum <"$T/plain/patients.csv")"
eq "truth_effect.csv header" "$(head -1 "$T/b45/truth_effect.csv")" "id,treatment,p_0,p_1,effect"
eq "one row per patient" "$(wc -l <"$T/b45/truth_effect.csv")" 3001
# the arm a patient received has the risk truth_contrib.csv gives (the same logistic model)
eq "p under the received arm is the truth's p" "$(awk -F, 'NR == FNR {if (FNR > 1) p[$1] = $(NF-1); next}
	FNR > 1 {q = $2 == 1 ? $4 : $3; d = q - p[$1]; if (d < 0) d = -d; if (d > 2e-6) bad++} END {print bad+0}' \
	"$T/b45/truth_contrib.csv" "$T/b45/truth_effect.csv")" 0
eq "effect = p_1 - p_0" "$(awk -F, 'FNR > 1 {d = $5 - ($4 - $3); if (d < 0) d = -d; if (d > 2e-6) bad++} END {print bad+0}' \
	"$T/b45/truth_effect.csv")" 0
# the closed form for patient 1: logit0 = truth logit - treatment terms, logit1 = logit0 - 0.30 + A zl(crp)
run synth --patients 3000 --seed 5 --biomarker -1.5 -o "$T/b15"
eq "a stronger biomarker changes the outcome, not the covariates" \
	"$(cut -d, -f1-7,9-38 "$T/b15/patients.csv" | sha256sum)" "$(cut -d, -f1-7,9-38 "$T/plain/patients.csv" | sha256sum)"
crpcol=$(head -1 "$T/b15/patients.csv" | tr , '\n' | grep -nx crp | cut -d: -f1)
eq "effect is sigmoid(l0 - 0.30 - 1.5 ln(crp / 2.5)) - sigmoid(l0) for every patient with a crp" \
	"$(awk -F, -v c="$crpcol" 'NR == FNR {if (FNR > 1) crp[$1] = $c; next}
	FNR > 1 && crp[$1] != "" {n++; l0 = log($3 / (1 - $3)); e = 1 / (1 + exp(-(l0 - 0.30 - 1.5 * log(crp[$1] / 2.5)))) - $3;
	d = e - $5; if (d < 0) d = -d; if (d > 2e-5) bad++} END {print bad+0, (n > 2500)}' \
	"$T/b15/patients.csv" "$T/b15/truth_effect.csv")" "0 1"
contains "truth.json names the effect file" "$(cat "$T/b15/truth.json")" '"effect":	"truth_effect.csv"'
contains "truth.json gives the coefficient" "$(grep coef_std "$T/b15/truth.json")" "-1.5"
run synth --patients 10 --biomarker 9 -o "$T/e"
eq "--biomarker 9: status 64" "$RC" 64
contains "--biomarker 9: message" "$ERR" "lumen: synth: --biomarker: '9' is not a coefficient in -5..5"
run synth --patients 10 --seed 5 --force -o "$T/b15"
check "without --biomarker a stale truth_effect.csv is removed" test ! -e "$T/b15/truth_effect.csv"
