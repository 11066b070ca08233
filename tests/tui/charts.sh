# tests/tui/charts.sh: the TUI's charts (headless): the Survival screen's 95% bands,
# censoring ticks and numbers at risk under the time axis (R's summary(survfit) numbers), and
# the Models screen's dependence view (d, [ ]) of the stored attributions.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fixture.bash"
F=$T/pbc.lumen
if ! tui_fixture "$F"; then not_ok "fixture"; exit 1; fi
tui() { local k=$1; shift; "$LUMEN" tui "$F" --headless --keys "$k" --dump "$@"; }
q() { sqlite3 "$F" "$1"; }

# R: summary(survfit(Surv(time, status == 2) ~ trt, data = pbc), times = 0:4 * 1000)$n.risk
# = 158 129 74 31 10 | 154 120 70 32 11
S=$(tui '5g')
contains "survival: the at-risk table under the axis" "$S" "at risk (patients whose time is at or after each time above)"
eq "survival: the time axis at round times" "$(printf '%s\n' "$S" | grep -E '^ +0 +1000 +2000 +3000 +4000 *$' | wc -l | tr -d ' ')" 1
eq "survival: at risk by trt (R: 158 129 74 31 10 / 154 120 70 32 11)" \
	"$(printf '%s\n' "$S" | grep -A2 '^at risk' | tail -2 | tr -s ' ' | tr '\n' '|')" \
	"1 158 129 74 31 10|2 154 120 70 32 11|"
contains "survival: bands drawn as dots" "$S" "·"
contains "survival: censoring ticks" "$S" "+"
contains "survival: the median's interval" "$S" "1 trt=1                    158      65    3282  (2583 to .)"
S=$(tui '5gb')
if printf '%s' "$S" | grep -q '·'; then not_ok "survival: b hides the bands"; else ok "survival: b hides the bands"; fi
S=$(tui '5g' --ascii)
if printf '%s' "$S" | LC_ALL=C grep -q '[^ -~]'; then not_ok "survival --ascii: ASCII only"; else ok "survival --ascii: ASCII only"; fi
S=$(tui '5g' --size 120x40)
contains "survival 120x40: at risk" "$S" "at risk (patients"

# dependence: lr's most important input first, every explained patient
top=$(q "SELECT json_extract(importance, '\$.ig.columns[0].column') FROM models WHERE name = 'lr'")
second=$(q "SELECT json_extract(importance, '\$.ig.columns[1].column') FROM models WHERE name = 'lr'")
n=$(q "SELECT count(*) FROM attributions WHERE method = 'ig' AND model_id = (SELECT id FROM models WHERE name = 'lr')")
S=$(tui '3d')
contains "dependence: the top input and the patients" "$S" "lr: $top, attribution (up) by value (across), $n patients"
contains "dependence: the zero line" "$S" "0       │┄"
S=$(tui '3d]')
contains "dependence: ] the next input" "$S" "lr: $second, attribution (up)"
S=$(tui '3dd')
contains "dependence: d again goes back to the curves" "$S" "lr: ROC"
S=$(tui '3d?')
contains "help lists d" "$S" "dependence: an input's attributions against its values"

# the Models screen shows the latest external validation
head -101 "$DATA/pbc.csv" >"$T/other.csv"
"$LUMEN" validate "$F" --model lr --input "$T/other.csv" >/dev/null
auc=$("$LUMEN" validate "$F" --model lr --input "$T/other.csv" --no-store --json | grep -o '"auc":[0-9.]*' | head -1 | cut -d: -f2)
S=$(tui '3' --size 160x40)
contains "models: the latest validation" "$S" "validated on $T/other.csv: AUC $(printf '%.3f' "$auc"), slope"
