# tests/tui/demo.sh: lumen demo end to end (import, two models, explanations), stopping
# before the TUI because standard output is not a terminal here.
. "$(dirname "$0")/../lib.sh"
case "${LUMEN_BUILD:-}" in *-san)
	skip "lumen demo" "the transformer's explanations take minutes under the sanitizers; the headless tests cover the UI there"
	exit 0 ;;
esac
cd "$T" || exit 1
run demo --data "$DATA/pbc.csv" --epochs 2 -o demo.lumen
eq "demo: status 0" "$RC" "0"
contains "demo: says why the TUI is not opened" "$ERR" "standard output is not a terminal"
eq "demo: two models" "$(sqlite3 demo.lumen "SELECT group_concat(name || ':' || arch, ' ') FROM (SELECT name, arch FROM models ORDER BY id)")" "transformer:transformer logreg:logreg"
eq "demo: every patient explained by the logistic regression" "$(sqlite3 demo.lumen "SELECT count(*) FROM attributions a JOIN models m ON m.id = a.model_id WHERE m.name = 'logreg' AND method = 'ig'")" "418"
eq "demo: attention for the transformer" "$(sqlite3 demo.lumen "SELECT count(*) FROM attributions a JOIN models m ON m.id = a.model_id WHERE m.name = 'transformer' AND method = 'attention'")" "418"
eq "demo: visits imported" "$(sqlite3 demo.lumen "SELECT count(*) FROM visits")" "1945"
S=$("$LUMEN" tui demo.lumen --headless --dump --keys '')
contains "demo: the TUI opens on the cohort with the newest model" "$S" "model logreg |"
run demo --data "$T/none.csv"
eq "demo: missing data file: status 66" "$RC" "66"
run demo --epochs zero
eq "demo: bad --epochs: status 64" "$RC" "64"
