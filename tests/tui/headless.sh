# tests/tui/headless.sh: the TUI rendered headless (no terminal; also runs under the
# sanitizers): cohort, sorting, patient, attributions, access log, filter, search, help,
# resize, --ascii, model switch, visits, and bad input.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fixture.bash"
F=$T/pbc.lumen
if ! tui_fixture "$F"; then not_ok "fixture"; exit 1; fi

tui() { # KEYS [OPTIONS...]: the last frame as text
	local k=$1
	shift
	"$LUMEN" tui "$F" --headless --keys "$k" --dump "$@"
}
line() { printf '%s\n' "$1" | sed -n "$2p"; }
# the status message: the last line, and the one above where a long message wraps onto it
status() { printf '%s\n' "$1" | sed -n '23,24p' | tr '\n' ' '; }
q() { sqlite3 "$F" "$1"; }
LR=$(q "SELECT id FROM models WHERE name = 'lr'")

S=$(tui '')
contains "cohort header counts the patients" "$S" "418/418 patients"
contains "newest model shown first" "$S" "model lr | p: risk of status = 2 |"
eq "first row is the first patient" "$(line "$S" 4 | awk '{print $2}')" "1"
eq "24 lines at 80x24" "$(printf '%s\n' "$S" | wc -l | tr -d ' ')" "24"

# sort by probability, highest first: the top row is the highest stored p
S=$(tui 'P')
want_id=$(q "SELECT p.id FROM predictions r JOIN patients p ON p.rowid = r.patient WHERE model_id = $LR ORDER BY r.p DESC, r.patient LIMIT 1")
want_p=$(q "SELECT printf('%.3f', max(p)) FROM predictions WHERE model_id = $LR")
eq "P: top row is the riskiest patient" "$(line "$S" 4 | awk '{print $2}')" "$want_id"
eq "P: top row shows its stored p" "$(line "$S" 4 | awk '{print $3}')" "$want_p"
sorted=$(printf '%s\n' "$S" | sed -n '4,23p' | awk '{print ($1 == ">") ? $3 : $2}' | sort -rn | head -1)
col=$(printf '%s\n' "$S" | sed -n '4,23p' | sed 's/^>/ /' | awk '{print $2}')
eq "P: rows in descending p" "$col" "$(printf '%s\n' "$col" | sort -rn -k1,1 -s)"
S=$(tui 'PP')
want_low=$(q "SELECT printf('%.3f', min(p)) FROM predictions WHERE model_id = $LR")
eq "P twice: ascending" "$(line "$S" 4 | awk '{print $3}')" "$want_low"

# the patient screen: id, probability, top factor, access log
S=$(tui 'P\n')
contains "Enter opens the top patient" "$(line "$S" 2)" "Patient $want_id "
contains "patient screen shows the stored p" "$S" "predicted p = $want_p"
top=$("$LUMEN" explain "$F" --model lr --patient "$want_id" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = max(d["columns"], key=lambda c: abs(c["ig"]))
print(c["column"], "%+.3f" % c["ig"])')
oof=$("$LUMEN" predict "$F" --model lr | awk -F, -v id="$want_id" '$1 == id { printf "%.3f", $4 }')
eq "patient p equals lumen predict's out-of-fold p" "$want_p" "$oof"
eq "top factor equals lumen explain's" "$(line "$S" 9 | awk '{print $1, $NF}')" "$top"
rid=$(q "SELECT rowid FROM patients WHERE id = $want_id")
eq "opening a patient writes access_log" "$(q "SELECT count(*) FROM access_log WHERE action = 'view' AND patient = $rid AND user = 'tester'")" "1"
S=$(tui '\n' --model tf)
contains "transformer: methods listed" "$S" "a switches: [ig]  attention weights"
S=$(tui '\na' --model tf)
contains "a switches to attention" "$S" "[attention weights]"
contains "attention weights are drawn unsigned" "$S" "attention weight (unsigned"
S=$(tui 'P\n]')
second=$(q "SELECT p.id FROM predictions r JOIN patients p ON p.rowid = r.patient WHERE model_id = $LR ORDER BY r.p DESC, r.patient LIMIT 1 OFFSET 1")
contains "] opens the next patient in the order" "$(line "$S" 2)" "Patient $second "
S=$(tui 'P\n]\e')
eq "Esc returns to the cohort, cursor on the last patient" "$(printf '%s\n' "$S" | grep '^>' | awk '{print $2}')" "$second"
S=$(tui 'jjj\nv')
contains "v shows the visits" "$S" "7 visits by day"

# filter and search
S=$(tui 'fbili > 10\n')
n=$(q "SELECT count(*) FROM patients WHERE bili > 10")
contains "filter bili > 10 keeps the matching patients" "$(line "$S" 2)" "$n/418 patients"
S=$(tui 'fsex == m\n')
contains "filter on a text column" "$(line "$S" 2)" "44/418 patients"
S=$(tui 'fnosuch > 1\n')
contains "filter: unknown name is reported" "$(status "$S")" "unknown name 'nosuch'"
S=$(tui "fage > 65 and sex == 'f'\n")
n=$(q "SELECT count(*) FROM patients WHERE age > 65 AND sex = 'f'")
contains "Lua filter expression" "$(line "$S" 2)" "$n/418 patients"
S=$(tui 'fbili >\n')
contains "Lua filter: syntax error said with its place" "$(status "$S")" "where:1:"
S=$(tui '/100\n')
eq "search puts the cursor on id 100" "$(printf '%s\n' "$S" | grep '^>' | awk '{print $2}')" "100"
S=$(tui '/100\nn')
eq "n: no other match, stays on 100" "$(printf '%s\n' "$S" | grep '^>' | awk '{print $2}')" "100"

# switching models, help, resize, ascii
S=$(tui 'm')
contains "m switches the model" "$(line "$S" 2)" "model tf | p: risk of"
S=$(tui '?')
contains "help lists the screen's keys" "$S" "Keys: Cohort screen"
contains "help explains sorting" "$S" "sort by the selected column"
S=$(tui '<resize:50x10>')
contains "too small terminal is said" "$S" "terminal too small: 50x10"
S=$(tui '<resize:50x10><resize:80x24>')
contains "resize back redraws the cohort" "$S" "418/418 patients"
S=$(tui '<resize:120x40>')
eq "larger terminal uses all lines" "$(printf '%s\n' "$S" | wc -l | tr -d ' ')" "40"
S=$(tui 'P\n' --ascii)
if printf '%s' "$S" | LC_ALL=C grep -q '[^ -~]'; then not_ok "--ascii draws only ASCII"; else ok "--ascii draws only ASCII"; fi
S=$(tui 'P\n')
if printf '%s' "$S" | grep -q '█'; then ok "Unicode blocks by default"; else not_ok "Unicode blocks by default"; fi
S=$(tui 'jjjjj' --frames 3)
eq "--frames stops early" "$(printf '%s\n' "$S" | grep '^>' | awk '{print $2}')" "3"

# bad input
run tui "$T/none.lumen" --headless
eq "missing file: status 66" "$RC" "66"
contains "missing file: message" "$ERR" "lumen: tui: "
run tui "$F" --headless --keys '<nosuch>'
eq "unknown key name: status 64" "$RC" "64"
run tui "$F" --headless --size 80by24
eq "bad --size: status 64" "$RC" "64"
run tui "$F"
eq "no terminal: status 64" "$RC" "64"
contains "no terminal: says so" "$ERR" "not a terminal"
run tui "$F" --headless --model nosuch
eq "unknown model: status 65" "$RC" "65"
run tui --help
eq "--help: status 0" "$RC" "0"
contains "--help: usage" "$OUT" "usage: lumen tui FILE.lumen"

# what-if: lowering bilirubin (a risk factor in the logistic model) lowers the prediction,
# and the stored data stay as they were
S=$(tui '\nebili = 0.5\n')
contains "what-if: the edit is described" "$S" "what-if: bili 14.5 -> 0.5"
before=$(printf '%s\n' "$S" | sed -n 's/.*(out-of-fold): p = \([0-9.]*\) -> \([0-9.]*\) .*/\1/p')
after=$(printf '%s\n' "$S" | sed -n 's/.*(out-of-fold): p = \([0-9.]*\) -> \([0-9.]*\) .*/\2/p')
oof1=$(q "SELECT printf('%.3f', p) FROM predictions WHERE model_id = $LR AND patient = 1")
eq "what-if starts from the shown (out-of-fold) p, with the fold model" "$before" "$oof1"
if awk -v b="$before" -v a="$after" 'BEGIN { exit !(a < b) }'; then ok "what-if: lower bili, lower p ($before -> $after)"; else not_ok "what-if: lower bili, lower p ($before -> $after)"; fi
contains "what-if: direction in words" "$S" "lower risk"
contains "what-if: edited factor marked" "$S" "bili *"
eq "what-if writes nothing" "$(q "SELECT bili FROM patients WHERE rowid = 1")" "14.5"
S=$(tui '\nebili = 40\n')
contains "what-if: higher bili, higher risk" "$S" "higher risk"
S=$(tui '\nebili = 0.5\nr')
contains "r resets the what-if" "$S" "why: ig"
S=$(tui '\nenosuch = 1\n')
contains "what-if: unknown column is said" "$(status "$S")" "'nosuch' is not an input of model lr"
S=$(tui '\nt')
contains "t switches the treatment arm" "$S" "what-if: trt 1 -> 2"
# any patient: explained with the network that produced its shown risk, and the sum rule on screen
S=$(tui 'jjjjj\n' --model tf)
contains "explanation of the shown number" "$S" "why: ig (mean, "
sumline=$(printf '%s\n' "$S" | sed -n 's/.*baseline \(-*[0-9.]*\) \([-+]\) reasons \([0-9.]*\) = logit \(-*[0-9.]*\).*/\1 \2\3 \4/p')
check "the reasons add up to the shown logit ($sumline)" awk -v s="$sumline" 'BEGIN { split(s, v, " "); d = v[1] + v[2] - v[3]; exit !(s != "" && d < 0.0015 && d > -0.0015) }'

# Models: stored metrics side by side, the confusion matrix from the metrics module
S=$(tui '3')
contains "models screen" "$S" "out-of-fold metrics"
auc=$(q "SELECT printf('%.3f', json_extract(metrics, '\$.pooled.auc')) FROM models WHERE name = 'lr'")
contains "models: lr's stored AUC" "$(printf '%s\n' "$S" | grep 'AUC (ROC)')" "$auc"
tp=$(q "SELECT json_extract(metrics, '\$.pooled.tp') || ' ' || json_extract(metrics, '\$.pooled.fn') FROM models WHERE name = 'lr'")
eq "models: confusion at 0.50 equals train's" "$(printf '%s\n' "$S" | sed -n 's/.*true yes *\([0-9]*\) *\([0-9]*\).*/\1 \2/p')" "$tp"
S=$(tui '3++')
contains "models: + raises the threshold" "$S" "at threshold 0.60"
tp=$(q "SELECT count(*) FROM predictions WHERE model_id = $LR AND y = 1 AND p >= 0.6")
eq "models: true positives at 0.60 counted from the stored p" "$(printf '%s\n' "$S" | sed -n 's/.*true yes *\([0-9]*\) .*/\1/p')" "$tp"
top_imp=$(q "SELECT json_extract(importance, '\$.ig.columns[0].column') FROM models WHERE name = 'lr'")
contains "models: global importance from lumen explain" "$(printf '%s\n' "$S" | grep -A1 'importance (mean')" "$top_imp"
S=$(tui '3h\n1')
contains "models: Enter shows the model on the cohort" "$(line "$S" 2)" "model tf | p: risk of"

# Survival: KM by treatment; R's survival gives for pbc, Surv(time, status == 2) ~ trt:
# n 158/154, events 65/60, medians 3282/3428, log-rank chi-square 0.1 on 1 df, p = 0.75
S=$(tui '5g')
contains "survival: title" "$S" "Kaplan-Meier: time, event status = 2, by trt"
contains "survival: trt 1 (R: n 158, 65 events, median 3282)" "$S" "1 trt=1                    158      65    3282"
contains "survival: trt 2 (R: n 154, 60 events, median 3428)" "$S" "2 trt=2                    154      60    3428"
contains "survival: log-rank (R: chisq 0.10, p 0.75)" "$S" "chi-square 0.10, df 1, p = 0.75 "
S=$(tui '5')
contains "survival: everyone (R: 418, 161 deaths, median 3395)" "$S" "1 all                      418     161    3395"
S=$(tui '5ggg')
contains "survival: by risk tertile" "$S" "by risk tertile"
S=$(tui '5g' --ascii)
if printf '%s' "$S" | LC_ALL=C grep -q '[^ -~]'; then not_ok "survival --ascii"; else ok "survival --ascii"; fi
contains "survival --ascii: second curve has its own glyph" "$S" "o"

# Audit: the audit module over the stored predictions, the same figures as lumen audit
S=$(tui '4')
contains "audit: by the group column" "$S" "Audit of lr by sex at threshold 0.50"
J=$("$LUMEN" audit "$F" --model lr --by sex --json)
want=$(printf '%s' "$J" | python3 -c '
import json, sys
d = json.load(sys.stdin)
g = [x for x in d["groups"] if x["group"] == "sex=m"][0]["metrics"]
print("%d %.3f %.3f" % (g["n"]["value"], g["tpr"]["value"], g["auc"]["value"]))')
got=$(printf '%s\n' "$S" | grep '^sex=m' | sed 's/[^0-9. ]//g' | awk '{print $1, $4, $7}')
eq "audit: sex=m n, TPR, AUC as lumen audit" "$got" "$want"
contains "audit: reference group marked" "$S" "sex=f ref"
contains "audit: flagged disparity has an arrow" "$(printf '%s\n' "$S" | grep '^sex=m')" "▲"
S=$(tui '4b')
contains "audit: b adds bootstrap intervals" "$S" "95% bootstrap intervals"
contains "audit: significant disparity marked" "$(printf '%s\n' "$S" | grep '^sex=m')" "▲!"
S=$(tui '4gsex,age; age=50,65\n')
contains "audit: intersections with bins" "$S" "sex=m,age>=65 (s)"
S=$(tui '4gnosuch\n')
contains "audit: unknown column is said" "$S" "no column 'nosuch'"
S=$(tui '4' --ascii)
contains "audit --ascii arrow" "$(printf '%s\n' "$S" | grep '^sex=m')" "0.523^"
# w: why the groups differ, from the audit module (audit_why.h): the same top input and the same
# warnings as lumen audit; the one line when the model has no IG attributions
S=$(tui '4w')
contains "audit w: the why panel" "$S" \
	"Why the groups differ: mean |integrated gradient| per input (418 patients)"
want=$(printf '%s' "$J" | python3 -c '
import json, sys
d = json.load(sys.stdin)["importance"]
print(max(d["inputs"], key=lambda c: c["all"])["column"])')
cli_top=$("$LUMEN" audit "$F" --model lr --by sex 2>/dev/null |
	sed -n '/^Why the groups differ/{n;n;p;}' | awk '{print $1}')
eq "audit w: lumen audit's table and JSON agree on the top input" "$cli_top" "$want"
eq "audit w: top input as lumen audit" "$(printf '%s\n' "$S" | grep '^1 ' | awk '{print $2}')" "$cli_top"
eq "audit w: its mean |IG| as lumen audit" "$(printf '%s\n' "$S" | grep '^1 ' | awk '{print $3}')" \
	"$("$LUMEN" audit "$F" --model lr --by sex 2>/dev/null | sed -n '/^Why the groups differ/{n;n;p;}' | awk '{print $2}')"
contains "audit w: listed in the help" "$(tui '4?')" "why the groups differ"
contains "audit w: listed in the hints" "$(tui '4')" "w:why"
S=$(tui '4gage; age=50,65\nw')
warn=$("$LUMEN" audit "$F" --model lr --by age --bins age=50,65 2>/dev/null | grep '^! warning: ')
contains "audit w: lumen audit warns about age" "$warn" "! warning: age, a grouping column, is input #"
contains "audit w: the same warning" "$S" "$warn"
S=$(tui '4ww')
contains "audit w twice: the metrics again" "$S" "sex=f ref"
cp "$F" "$T/noig.lumen"
sqlite3 "$T/noig.lumen" "DELETE FROM attributions WHERE model_id = $LR"
S=$("$LUMEN" tui "$T/noig.lumen" --headless --keys '4w' --dump)
# the CLI's line, wrapped to 80 columns
eq "audit w: no attributions, the CLI's line" "$(printf '%s\n' "$S" | sed -n '4,5p' | sed 's/^ *//' | tr '\n' ' ' | sed 's/ $//')" \
	"No integrated-gradient attributions stored for this model (lumen explain adds them)."
run "$F"
eq "lumen FILE.lumen without a terminal: status 64" "$RC" "64"
contains "lumen FILE.lumen without a terminal: says so" "$ERR" "not a terminal"
printf 'not a workbench\n' >"$T/bad.lumen"
run tui "$T/bad.lumen" --headless
eq "not a lumen file: status 65" "$RC" "65"
contains "not a lumen file: one line" "$ERR" "lumen: tui: "

# Reports: the shipped Lua reports run through the Lua host, read in a pager
S=$(tui '6')
contains "reports: the shipped reports are listed" "$S" "cohort_summary"
S=$(tui '6\n\n')
contains "reports: bias_audit runs" "$(line "$S" 2)" "report bias_audit"
contains "reports: the report's text" "$S" "Bias audit: lr by sex"
want=$("$LUMEN" report "$F" bias_audit 2>/dev/null | sed -n 1p)
eq "reports: same first line as lumen report, its heading rendered" "$(line "$S" 3 | sed 's/^ //')" "${want#\# }"
contains "reports: the heading is underlined, not marked with #" "$(line "$S" 4)" " ═══════"
if printf '%s\n' "$S" | grep -q '^ *| '; then not_ok "reports: tables are laid out, not raw Markdown"; else ok "reports: tables are laid out, not raw Markdown"; fi
if printf '%s\n' "$S" | grep -q '\*\*'; then not_ok "reports: no ** emphasis marks"; else ok "reports: no ** emphasis marks"; fi
S=$(tui '6\n\n\e')
contains "reports: Esc back to the list" "$S" "Enter runs one"
S=$(tui '6j\nno-such-column-filter ((\n')
contains "reports: an error is shown, not fatal" "$S" "The report stopped with an error"

# mouse wheel and chosen columns
S=$(tui '<wheeldown>')
eq "wheel scrolls three rows" "$(printf '%s\n' "$S" | grep '^>' | awk '{print $2}')" "4"
S=$(tui '' --columns bili,albumin)
contains "--columns: the chosen columns" "$(line "$S" 3)" "bili   albumin"
run tui "$F" --headless --columns nosuch
eq "--columns: unknown column is a usage error" "$RC" "64"
S=$(tui '\nebili = 0.5\n')
want=$(q "SELECT printf('%.0f%%', 100.0 * (sum(bili < 0.5) + 0.5 * sum(bili = 0.5)) / count(bili)) FROM patients")
eq "what-if: the edited value's cohort percentile" "$(printf '%s\n' "$S" | grep 'bili \*' | grep -o '[0-9]*%' | head -1)" "$want"
S=$(tui '\n')
want=$(q "SELECT printf('%.0f%%', 100.0 * (sum(bili < 14.5) + 0.5 * sum(bili = 14.5)) / count(bili)) FROM patients")
eq "patient: bili's cohort percentile" "$(printf '%s\n' "$S" | grep '^  bili ' | grep -o '[0-9]*%' | head -1)" "$want"
