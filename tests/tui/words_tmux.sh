# tests/tui/words_tmux.sh: the real TUI in tmux terminals of 80x24 and 120x40 on pbc with its
# clinical words: the patient screen read as a person reads it (labels, units, value names,
# missing, the outcome named), nothing wider than the terminal, no e-notation. The captured
# screens are printed into the log ("# " lines).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fixture.bash"
if ! command -v tmux >/dev/null 2>&1; then
	skip "tmux words tests" "tmux is not installed"
	exit 0
fi
F=$T/pbc.lumen
if ! tui_fixture "$F" || ! "$LUMEN" label "$F" --file "$DATA/pbc_labels.csv" >/dev/null; then
	not_ok "fixture"
	exit 1
fi
SOCK=lumen-words-$$
tm() { tmux -L "$SOCK" "$@"; }
cleanup() { tm kill-server >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
SN=0
start() { # W H ARGS...
	local w=$1 h=$2
	shift 2
	SN=$((SN + 1))
	tm new-session -d -s "s$SN" -x "$w" -y "$h" -e LANG=C.UTF-8 -e TERM=xterm-256color \
		"$* ; sleep 60"
	wait_for "patients"
}
screen() { tm capture-pane -p -t "s$SN"; }
wait_for() {
	local i
	for i in $(seq 100); do
		screen | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	return 1
}
keys() { tm send-keys -t "s$SN" "$@"; }
widest() { printf '%s\n' "$1" | python3 -c 'import sys; print(max(len(l) for l in sys.stdin.read().split("\n")))'; }

for size in 80x24 120x40; do
	W=${size%x*} H=${size#*x}
	start "$W" "$H" env NO_COLOR=1 "$LUMEN" tui "$F" --model lr
	keys Enter
	wait_for "Serum bilirubin"
	S=$(screen)
	printf '%s\n' "$S" | sed 's/^/# /'
	eq "$size: the terminal has $H lines" "$(printf '%s\n' "$S" | wc -l | tr -d ' ')" "$H"
	check "$size: no line wider than $W" test "$(widest "$S")" -le "$W"
	contains "$size: the outcome named" "$S" "risk of status = 2 (death)"
	contains "$size: demographics in words" "$S" "Follow-up 400 days | Status death | Treatment D-penicillamine | Sex female"
	contains "$size: a lab with its unit" "$S" "14.5 mg/dl"
	contains "$size: a boolean in words" "$(printf '%s\n' "$S" | grep 'Ascites')" "yes"
	if printf '%s\n' "$S" | grep -Eq '[0-9]e[-+]?[0-9]'; then not_ok "$size: no e-notation"; else ok "$size: no e-notation"; fi
	# the patient with missing values (no trial arm, no labs)
	keys Escape
	wait_for "418/418"
	keys / 3 1 3 Enter Enter
	wait_for "Patient 313"
	S=$(screen)
	printf '%s\n' "$S" | sed 's/^/# /'
	contains "$size: patient 313's missing values read missing" "$S" "Treatment missing"
	check "$size: patient 313 fits" test "$(widest "$S")" -le "$W"
	keys q
done
