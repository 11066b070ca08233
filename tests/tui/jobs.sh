# tests/tui/jobs.sh: the Models screen's jobs (headless): t trains a model and x explains every
# patient through the operations lumen train and lumen explain run (ops_train_run,
# ops_explain_run), so a file the TUI trained and explained holds exactly what the CLI writes
# with the same options; bad input is one status line and nothing stored.
. "$(dirname "$0")/../lib.sh"
A=$T/tui.lumen
B=$T/cli.lumen
"$LUMEN" import "$DATA/pbc.csv" -o "$A" --time time --event status --group sex >/dev/null 2>&1 &&
	cp "$A" "$B" || { not_ok "fixture: pbc imported"; echo "1..$T_N"; exit 0; }
tui() { "$LUMEN" tui "$A" --headless --keys "$1" --dump --size 100x30; }
# the status line (a long one wraps onto the line above it): the last two lines, joined
last() { printf '%s\n' "$1" | tail -n 2 | sed 's/ *$//' | tr '\n' ' ' | sed 's/^ *//; s/ *$//'; }

S=$(tui '3tlogreg status=2\n')
contains "t: the status line gives the trained model and its AUC" "$(last "$S")" \
	"model logreg-status trained: out-of-fold AUC"
"$LUMEN" train "$B" --model logreg --target status --positive 2 --quiet >/dev/null 2>&1
pred() { sqlite3 "$1" "SELECT count(*), printf('%.12f', sum(p)), printf('%.12f', sum(logit)), sum(fold) FROM predictions"; }
eq "t: the TUI's model stores the CLI's out-of-fold predictions" "$(pred "$A")" "$(pred "$B")"
eq "t: the same AUC in lumen models" "$("$LUMEN" models "$A" | sed -n 2p | cut -c1-70)" \
	"$("$LUMEN" models "$B" | sed -n 2p | cut -c1-70)"
auc=$("$LUMEN" models "$B" --json | /usr/bin/python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)[0]["metrics"]["pooled"]["auc"])')
contains "t: the AUC on the status line is the stored one" "$(last "$S")" "AUC $auc"

S=$(tui '3x')
contains "x: every patient explained, by their fold model" "$(last "$S")" \
	"explained 418 patients with logreg-status (418 by their fold model)"
"$LUMEN" explain "$B" --model logreg-status --quiet
att() { sqlite3 "$1" "SELECT method, count(*), printf('%.10f', sum(logit)), printf('%.10f', sum(baseline_logit)), printf('%.3e', sum(delta)) FROM attributions GROUP BY method"; }
eq "x: the TUI stores the CLI's attributions" "$(att "$A")" "$(att "$B")"
eq "x: the same global importance" "$(sqlite3 "$A" "SELECT importance FROM models")" \
	"$(sqlite3 "$B" "SELECT importance FROM models")"
S=$(tui '3')
contains "the Models screen shows the importance the job stored" "$S" "importance (mean |IG|)"

# time-to-event: cox TIME EVENT[=V]
S=$(tui '3tcox time status=2\n')
contains "t cox: trained, with its C-index" "$(last "$S")" "model cox-status trained: out-of-fold C-index 0.783"
"$LUMEN" train "$B" --model cox --time time --event status=2 --quiet >/dev/null 2>&1
eq "t cox: the TUI's Cox model stores the CLI's risks" \
	"$(sqlite3 "$A" "SELECT printf('%.10f', sum(p)) FROM predictions p JOIN models m ON m.id = p.model_id WHERE m.name = 'cox-status'")" \
	"$(sqlite3 "$B" "SELECT printf('%.10f', sum(p)) FROM predictions p JOIN models m ON m.id = p.model_id WHERE m.name = 'cox-status'")"

# a GRU with attention over the visits: ARCH gru+att, as lumen models names it
V=$T/visits.lumen
"$LUMEN" import "$DATA/pbc.csv" --visits "$DATA/pbcseq.csv" -o "$V" --time time --event status >/dev/null 2>&1
cp "$V" "$T/visits_cli.lumen"
S=$("$LUMEN" tui "$V" --headless --keys '3tgru+att status=2 gatt\n' --dump --size 100x30)
contains "t gru+att: trained" "$(last "$S")" "model gatt trained: out-of-fold AUC"
"$LUMEN" train "$T/visits_cli.lumen" --model gru --attention --target status --positive 2 --name gatt --quiet >/dev/null 2>&1
eq "t gru+att: the CLI's --model gru --attention, the same risks and width" \
	"$(sqlite3 "$V" "SELECT printf('%.10f', sum(p)), json_extract(m.hyper, '$.attention') FROM predictions p JOIN models m ON m.id = p.model_id WHERE m.name = 'gatt'")" \
	"$(sqlite3 "$T/visits_cli.lumen" "SELECT printf('%.10f', sum(p)), json_extract(m.hyper, '$.attention') FROM predictions p JOIN models m ON m.id = p.model_id WHERE m.name = 'gatt'")"
S=$("$LUMEN" tui "$V" --headless --keys '3tmlp+att status=2\n' --dump --size 100x30)
contains "t mlp+att: refused" "$(last "$S")" "train: --attention needs --model gru or cnn-gru"

# bad input: one line, nothing stored
n0=$(sqlite3 "$A" "SELECT count(*) FROM models")
S=$(tui '3tfoo status\n')
eq "t: an unknown architecture" "$(last "$S" | sed 's/.*train: /train: /')" "train: unknown architecture 'foo' (logreg, mlp, transformer, gru, cnn, cnn-gru)"
S=$(tui '3tlogreg nosuch=1\n')
eq "t: an unknown target" "$(last "$S" | sed 's/.*train: /train: /')" "train: no column 'nosuch' in patients"
S=$(tui '3tlogreg status=2\n')
eq "t: a model of the same name" "$(last "$S" | sed 's/.*train: /train: /')" \
	"train: a model named 'logreg-status' exists; use --force to replace it"
S=$(tui '3tlogreg\n')
contains "t: too few words" "$(last "$S")" "train: ARCH TARGET[=VALUE] [NAME]"
eq "bad input stored nothing" "$(sqlite3 "$A" "SELECT count(*) FROM models")" "$n0"
# a read-only file: the jobs refuse
cp "$A" "$T/ro.lumen"
chmod 444 "$T/ro.lumen"
if [ "$(id -u)" = 0 ]; then
	skip "x on a read-only file" "root can write any file"
else
	S=$("$LUMEN" tui "$T/ro.lumen" --headless --keys '3x' --dump --size 100x30)
	contains "x on a read-only file" "$(last "$S")" "explain: the file is open read-only"
fi
echo "1..$T_N"
