# tests/tui/fixture.bash: builds the TUI tests' workbench with the real commands (sourced by
# tests/tui/*.sh and bench/bench_tui.sh; not a test itself).
#
# tui_fixture FILE: $DATA/pbc.csv with its pbcseq.csv visits, imported; a small
# transformer "tf" on death (status == 2) explained for patients 1-3 only (attention, rollout
# and IG; kept tiny so the suite stays fast); then a logistic regression "lr" (the newest model,
# so the TUI opens on it) with integrated gradients for every patient.
tui_fixture() {
	local f=$1
	"$LUMEN" import "$DATA/pbc.csv" --visits "$DATA/pbcseq.csv" -o "$f" --force \
		--target status --group sex --time time --event status --treatment trt >/dev/null &&
	"$LUMEN" train "$f" --model transformer --target status --positive 2 --name tf --epochs 2 \
		--folds 2 --d-model 8 --blocks 1 --heads 2 --ffn 16 --quiet >/dev/null &&
	"$LUMEN" explain "$f" --model tf --patients 1,2,3 --quiet >/dev/null &&
	"$LUMEN" train "$f" --model logreg --target status --positive 2 --name lr --quiet >/dev/null &&
	"$LUMEN" explain "$f" --model lr --quiet >/dev/null
}
