#!/bin/sh
# Out-of-fold quality of the visit-sequence models beside the static ones and a PyTorch GRU
# twin (bench/torch_gru_twin.py: the same encoding, size and training rules, its own folds),
# on two cohorts whose visits carry signal the static row lacks:
#   pbc + pbcseq  the Mayo PBC cohort (sample_data/pbc.csv, baseline row) with its 1,945 lab
#                 visits (sample_data/pbcseq.csv; 312 of the 418 patients have visits, the
#                 others an empty sequence); target death (status 2); the visit columns that
#                 are not labs (futime, status, trt, age, sex) set to role ignore. Note that
#                 the visits run to the end of follow-up, so late labs see the decline.
#   synth         lumen synth --patients 3000 --visits 8 --seed 5: the outcome depends on the
#                 creatinine slope over the visits (the static row holds the first visit).
# Every lumen model with 5 folds, seed 1, the defaults; --max-visits 16 (pbc) and 8 (synth);
# gru-attn is the gru with --attention (additive attention over its states, width 16).
set -u
top=${LUMEN_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
out=${BENCH_OUT:-$top/bench/out}
LUMEN=${LUMEN:-$top/build/lumen}
mkdir -p "$out"
cd "$top" || exit 70
arch_args() { # NAME: the architecture's options of a row
	case $1 in gru-attn) echo "--model gru --attention" ;; *) echo "--model $1" ;; esac
}
table() { # FILE
	sqlite3 "$1" "SELECT printf('%-12s AUC %.3f  Brier %.3f  calibration slope %.2f', name,
		json_extract(metrics, '$.pooled.auc'), json_extract(metrics, '$.pooled.brier'),
		json_extract(metrics, '$.pooled.calibration_slope')) FROM models ORDER BY id"
}
w=$out/seq_pbc.lumen
rm -f "$w"
"$LUMEN" import sample_data/pbc.csv --visits sample_data/pbcseq.csv -o "$w" >/dev/null 2>&1 || exit 70
for c in futime status trt age sex; do "$LUMEN" role "$w" "$c" ignore --visits >/dev/null || exit 70; done
echo "pbc + pbcseq (418 patients, death):"
for a in mlp gru gru-attn cnn cnn-gru transformer; do
	"$LUMEN" train "$w" $(arch_args $a) --target status --positive 2 --exclude time --quiet --name $a \
		>/dev/null 2>&1 || echo "  $a failed"
done
table "$w"
if [ -x /usr/bin/python3 ]; then
	(cd bench && /usr/bin/python3 torch_gru_twin.py --patients ../sample_data/pbc.csv \
		--visits ../sample_data/pbcseq.csv --target status --positive 2 --exclude time \
		--visit-exclude futime,status,trt,age,sex --K 16)
fi
s=$out/seq_synth
rm -rf "$s"
"$LUMEN" synth --patients 3000 --visits 8 --seed 5 -o "$s" >/dev/null || exit 70
w=$out/seq_synth.lumen
rm -f "$w"
"$LUMEN" import "$s/patients.csv" --visits "$s/visits.csv" -o "$w" --target outcome >/dev/null 2>&1 || exit 70
echo
echo "synth (3000 patients, up to 8 visits, outcome):"
for a in mlp gru gru-attn cnn cnn-gru transformer; do
	"$LUMEN" train "$w" $(arch_args $a) --target outcome --exclude time,event --max-visits 8 --quiet \
		--name $a >/dev/null 2>&1 || echo "  $a failed"
done
table "$w"
if [ -x /usr/bin/python3 ]; then
	(cd bench && /usr/bin/python3 torch_gru_twin.py --patients "$s/patients.csv" \
		--visits "$s/visits.csv" --target outcome --exclude time,event --K 8)
fi
