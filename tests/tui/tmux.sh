# tests/tui/tmux.sh: the real TUI in a real (tmux) terminal of 80x24: keys sent with
# send-keys, the screen read with capture-pane, asserting what a person would check.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fixture.bash"
if ! command -v tmux >/dev/null 2>&1; then
	skip "tmux tests" "tmux is not installed"
	exit 0
fi
F=$T/pbc.lumen
if ! tui_fixture "$F"; then not_ok "fixture"; exit 1; fi
SOCK=lumen-test-$$
tm() { tmux -L "$SOCK" "$@"; }
cleanup() { tm kill-server >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT

# Each start gets a new session (s1, s2, ...) and the old ones stay until kill-server at
# exit: killing the last session would stop the server while the next one connects.
SN=0
start() { # ARGS...: starts lumen in a fresh 80x24 session
	SN=$((SN + 1))
	tm new-session -d -s "s$SN" -x 80 -y 24 -e LANG=C.UTF-8 -e TERM=xterm-256color \
		"$* ; sleep 60"
	wait_for "patients"
}
screen() { tm capture-pane -p -t "s$SN"; }
wait_for() { # TEXT: polls the pane for up to 10 s
	local i
	for i in $(seq 100); do
		screen | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
keys() { tm send-keys -t "s$SN" "$@"; }
q() { sqlite3 "$F" "$1"; }
LR=$(q "SELECT id FROM models WHERE name = 'lr'")

start env NO_COLOR=1 "$LUMEN" tui "$F"
S=$(screen)
contains "cohort screen in a terminal" "$S" "418/418 patients"

keys P
wait_for "sort p desc"
want_id=$(q "SELECT p.id FROM predictions r JOIN patients p ON p.rowid = r.patient WHERE model_id = $LR ORDER BY r.p DESC, r.patient LIMIT 1")
want_p=$(q "SELECT printf('%.3f', max(p)) FROM predictions WHERE model_id = $LR")
S=$(screen)
eq "P: riskiest patient on top" "$(printf '%s\n' "$S" | sed -n 4p | sed 's/^>/ /' | awk '{print $1, $2}')" "$want_id $want_p"
col=$(printf '%s\n' "$S" | sed -n '4,23p' | sed 's/^>/ /' | awk '{print $2}')
eq "P: rows in descending p" "$col" "$(printf '%s\n' "$col" | sort -rn -s)"

keys Enter
wait_for "Patient $want_id "
S=$(screen)
contains "Enter: the patient's id" "$S" "Patient $want_id "
contains "the same probability as stored" "$S" "predicted p = $want_p"
contains "attribution chart header" "$S" "lowers risk | raises risk"
if tm capture-pane -p -e -t "s$SN" | grep -q $'\e\\[3[0-7]m\|\e\\[38;'; then not_ok "NO_COLOR: no colour codes"; else ok "NO_COLOR: no colour codes"; fi

oof=$("$LUMEN" predict "$F" --model lr | awk -F, -v id="$want_id" '$1 == id { printf "%.3f", $4 }')
contains "p on screen equals lumen predict's out-of-fold p" "$S" "predicted p = $oof"
top=$("$LUMEN" explain "$F" --model lr --patient "$want_id" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = max(d["columns"], key=lambda c: abs(c["ig"]))
print(c["column"], "%+.3f" % c["ig"])')
eq "top factor equals lumen explain's" "$(printf '%s\n' "$S" | sed -n 9p | awk '{print $1, $NF}')" "$top"

# what-if: a normal bilirubin lowers this patient's risk
keys e
wait_for "what-if, COLUMN = VALUE"
keys 'bili = 0.5' Enter
wait_for "(out-of-fold): p ="
S=$(screen)
b=$(printf '%s\n' "$S" | sed -n 's/.*(out-of-fold): p = \([0-9.]*\) -> \([0-9.]*\) .*/\1/p')
a=$(printf '%s\n' "$S" | sed -n 's/.*(out-of-fold): p = \([0-9.]*\) -> \([0-9.]*\) .*/\2/p')
if [ -n "$a" ] && awk -v b="$b" -v a="$a" 'BEGIN { exit !(a < b) }'; then ok "what-if in a terminal: lower bili, lower p ($b -> $a)"; else not_ok "what-if in a terminal: lower bili, lower p ($b -> $a)"; fi
keys r
wait_for "why: ig"

keys '?'
wait_for "Keys: Patient screen"
contains "? shows the patient keys" "$(screen)" "next patient in the cohort's current order"
keys x
keys Escape
wait_for "sort p desc"
contains "Esc back to the cohort" "$(screen)" "418/418 patients"

# resize: smaller than the minimum, then back to 80x24
tm resize-window -t "s$SN" -x 50 -y 10
wait_for "terminal too small"
contains "resize: too small is said" "$(screen)" "terminal too small"
tm resize-window -t "s$SN" -x 80 -y 24
wait_for "418/418"
contains "resize back: the cohort again" "$(screen)" "418/418 patients"
eq "resize back: 24 lines" "$(screen | wc -l | tr -d ' ')" "24"

keys q
sleep 0.3
if screen | grep -q "418/418"; then not_ok "q quits"; else ok "q quits"; fi

# colours when allowed, and --ascii
start env -u NO_COLOR "$LUMEN" tui "$F"
if tm capture-pane -p -e -t "s$SN" | grep -q $'\e\\['; then ok "colours without NO_COLOR"; else not_ok "colours without NO_COLOR"; fi
keys P Enter
wait_for "predicted p"
contains "colour mode still shows signs" "$(screen)" "+"
keys q
start env NO_COLOR=1 "$LUMEN" tui "$F" --ascii
keys P Enter
wait_for "predicted p"
S=$(screen)
if printf '%s' "$S" | LC_ALL=C grep -q '[^ -~]'; then not_ok "--ascii in a terminal"; else ok "--ascii in a terminal"; fi
contains "--ascii bars" "$S" "|+"
keys q

# `lumen FILE.lumen` opens the TUI too; SIGTERM restores the terminal (no alternate screen
# left behind)
start env NO_COLOR=1 "$LUMEN" "$F"
contains "lumen FILE.lumen opens the cohort" "$(screen)" "418/418 patients"
pane=$(tm display -p -t "s$SN" '#{pane_pid}')
pid=$(pgrep -P "$pane" -x lumen || true)
if [ -n "$pid" ]; then
	kill -TERM "$pid"
	sleep 0.3
	mode=$(tm display -p -t "s$SN" '#{alternate_on}')
	eq "SIGTERM: terminal left the alternate screen" "$mode" "0"
else
	skip "SIGTERM restores the terminal" "could not find the process"
fi
