# tests/tui/curve.sh: a survival model's patient screen (headless): c draws the patient's
# S(t) over the cohort's Kaplan-Meier, its risk by the model's horizon is the p shown above
# it, h gives the risk by another time, and the cohort's figure is lumen survival's.
. "$(dirname "$0")/../lib.sh"
F=$T/pbc.lumen
"$LUMEN" import "$DATA/pbc.csv" -o "$F" --time time --event status >/dev/null 2>&1 &&
	"$LUMEN" train "$F" --model cox --time time --event status=2 --name cox --quiet >/dev/null 2>&1 &&
	"$LUMEN" train "$F" --model logreg --target status --positive 2 --name lr --quiet >/dev/null 2>&1 ||
	{ not_ok "fixture: pbc with a Cox model"; echo "1..$T_N"; exit 0; }
tui() { "$LUMEN" tui "$F" --headless --keys "$1" --dump --size "${2:-100x40}" --model "${3:-cox}"; }
H=$(sqlite3 "$F" "SELECT json_extract(hyper, '\$.horizon') FROM models WHERE name = 'cox'")

S=$(tui '\nc')
shown=$(printf '%s\n' "$S" | sed -n 's/.*predicted p = \([0-9.]*\).*/\1/p')
eq "c: the risk by the model's horizon is the p shown above the curve" \
	"$(printf '%s\n' "$S" | sed -n "s/.*risk by t = $H: \([0-9.]*\) (patient).*/\1/p")" "$shown"
contains "c: the curves are named" "$S" "patient"
contains "c: the cohort's Kaplan-Meier" "$S" "cohort: Kaplan-Meier of 418 patients, 161 events"
# the cohort's risk by 500 days: 1 - S(500) of lumen survival
km=$("$LUMEN" survival "$F" --time time --event status=2 --times 500 --json |
	/usr/bin/python3 -c 'import json,sys; print("%.3f" % (1 - json.load(sys.stdin)["groups"][0]["at"][0]["surv"]))')
S=$(tui '\nh500\n')
eq "h 500: the cohort's risk by 500 is lumen survival's" \
	"$(printf '%s\n' "$S" | sed -n 's/.*risk by t = 500: [0-9.]* (patient), \([0-9.]*\) (cohort).*/\1/p')" "$km"
p500=$(printf '%s\n' "$S" | sed -n 's/.*risk by t = 500: \([0-9.]*\) (patient).*/\1/p')
pH=$(printf '%s\n' "$(tui '\nc')" | sed -n "s/.*risk by t = $H: \([0-9.]*\) (patient).*/\1/p")
check "h 500: an earlier time, a risk no larger ($p500 <= $pH)" awk -v a="$p500" -v b="$pH" 'BEGIN { exit !(a != "" && a <= b) }'
S=$(tui '\nhsoon\n')
contains "h: a time that is no number is said so" "$S" "horizon: 'soon' is not a time >= 0"
S=$(tui '\nc' 80x24)
contains "c at 80x24: the curve fits" "$S" "cohort: Kaplan-Meier of 418 patients"
S=$(tui '\nc' 100x40 lr)
contains "c on a classifier: says curves are for survival models" "$S" "c: survival curves are for survival models"
S=$(tui '\n?')
contains "help lists c" "$S" "survival model: its curve over the cohort's KM"
contains "help lists h" "$S" "survival model: the risk by the time you give"
echo "1..$T_N"
