# tests/tui/words.sh: pbc with its clinical words (sample_data/pbc_labels.csv) reads in
# clinical words on every screen at 80x24 and 120x40, headless: labels and units shown,
# categories by their names and without a percentile, "missing" for a missing value, no
# e-notation, no line wider than the terminal (long text wraps or scrolls), the what-if
# checks, and prompt editing (selected text, Ctrl-U, Ctrl-W).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fixture.bash"
F=$T/pbc.lumen
if ! tui_fixture "$F" || ! "$LUMEN" label "$F" --file "$DATA/pbc_labels.csv" >/dev/null; then
	not_ok "fixture"
	exit 1
fi
tui() { "$LUMEN" tui "$F" --headless --keys "$1" --dump --size "$2" --model lr; }
line() { printf '%s\n' "$1" | sed -n "$2p"; }
# fits W H TEXT DESC: H lines, none wider than W columns (display width)
fits() {
	local got
	got=$(printf '%s\n' "$3" | python3 -c '
import sys, unicodedata
w, h = int(sys.argv[1]), int(sys.argv[2])
lines = sys.stdin.read().split("\n")[:-1]
wide = [l for l in lines if sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in l) > w]
print(len(lines) == h and not wide and "fits" or "%d lines, %d too wide: %s" % (len(lines), len(wide), wide[:1]))' "$1" "$2")
	eq "$4: fits ${1}x$2" "$got" "fits"
}
no_enotation() { # TEXT DESC
	if printf '%s\n' "$1" | grep -Eq '[0-9]e[-+]?[0-9]'; then
		not_ok "$2: no e-notation"
		printf '%s\n' "$1" | grep -E '[0-9]e[-+]?[0-9]' | sed 's/^/#   /'
	else
		ok "$2: no e-notation"
	fi
}

for size in 80x24 120x40; do
	W=${size%x*} H=${size#*x}
	# every screen: the cohort, a patient, a patient with missing values, models, audit,
	# survival (grouped), reports, a report read in the pager, help
	for keys in '' '\n' '/313\n\n' '\nv' '3' '4' '5' '5g' '6' '6\n\n' '6jjj\n\n' '\n?'; do
		S=$(tui "$keys" "$size")
		fits "$W" "$H" "$S" "screen '$keys'"
		no_enotation "$S" "screen '$keys' at $size"
	done

	S=$(tui '\n' "$size")
	contains "$size patient: the outcome named" "$S" "risk of status = 2 (death)"
	contains "$size patient: the demographics in words" "$(line "$S" 3)" "Follow-up 400 days | Status death | Treatment D-penicillamine | Sex female"
	contains "$size patient: a lab by its label with its unit" "$S" "Serum bilirubin"
	contains "$size patient: the value and its unit" "$S" "14.5 mg/dl"
	contains "$size patient: a value's name" "$S" "despite diuretics"
	asc=$(printf '%s\n' "$S" | grep '^  Ascites ')
	contains "$size patient: a boolean reads yes" "$asc" " yes "
	case "$asc" in *%*) not_ok "$size patient: a boolean has no percentile" ;; *) ok "$size patient: a boolean has no percentile" ;; esac
	trt=$(printf '%s\n' "$S" | grep '^  Treatment ')
	case "$trt" in *%*) not_ok "$size patient: a coded category has no percentile" ;; *) ok "$size patient: a coded category has no percentile" ;; esac
	contains "$size patient: a quantity keeps its percentile" "$(printf '%s\n' "$S" | grep '^  Serum bilirubin ')" "96%"

	S=$(tui '/313\n\n' "$size")
	contains "$size patient 313: a missing value reads missing" "$(printf '%s\n' "$S" | grep '^  Spider angiomata')" "missing"
	contains "$size patient 313: missing treatment in the demographics" "$(line "$S" 3)" "Treatment missing"

	S=$(tui '' "$size")
	contains "$size cohort: text categories by name" "$(line "$S" 4)" "female"
	contains "$size cohort: coded categories by name" "$(line "$S" 4)" "D-penicillamine"
	contains "$size cohort: labels as headings" "$(line "$S" 3)" "Treatment"
	contains "$size cohort: what p is the risk of" "$(line "$S" 2)" "p: risk of status = 2 (death)"
	S=$(tui '/313\n' "$size")
	contains "$size cohort: missing reads missing" "$(printf '%s\n' "$S" | grep '^> 313')" "missing"

	S=$(tui '5g' "$size")
	contains "$size survival: the time axis has its unit" "$S" " days"
	contains "$size survival: the title in words" "$(line "$S" 2)" "Kaplan-Meier: Follow-up (days), event status = 2 (death), by"

	S=$(tui '3' "$size")
	contains "$size models: inputs by their labels" "$S" "Age"

	S=$(tui '\nv' "$size")
	contains "$size visits: a lab borrows the patients' label and unit" "$S" "Serum bilirubin (mg/dl) over day"
done

# what-if: value names in and out, a category the column never had refused, a value outside
# the cohort's range taken with a warning, a long list of edits wrapped within 80 columns
S=$(tui '\netrt = placebo\n' 80x24)
contains "what-if: a value by its name" "$S" "what-if: Treatment D-penicillamine -> placebo"
S=$(tui '\netrt = 3\n' 80x24)
contains "what-if: a category the column never had is refused (the message wraps)" \
	"$(printf '%s\n' "$S" | sed -n '23,24p' | tr '\n' ' ')" "Treatment never has the value '3' (it has: D-penicillamine (1), placebo (2))"
fits 80 24 "$S" "a message longer than the status line"
contains "what-if: the refused value changed nothing" "$(line "$S" 5)" "predicted p = "
S=$(tui '\nesex = x\n' 80x24)
contains "what-if: a text category the column never had" "$(line "$S" 24)" "Sex never has the value 'x' (it has: female, male)"
S=$(tui '\nesex = male\n' 80x24)
contains "what-if: a text category by its name" "$S" "what-if: Sex female -> male"
S=$(tui '\nebili = 40\n' 80x24)
contains "what-if: out of range is warned of" "$S" "Serum bilirubin 40 mg/dl is outside the cohort's values (0.3 to 28 mg/dl)"
contains "what-if: ... and taken" "$S" "what-if: Serum bilirubin 14.5 -> 40 mg/dl"
S=$(tui '\nebili = 1\neage = 40\nealbumin = 4\nealk.phos = 1000\nestage = 1\nespiders = no\n' 80x24)
fits 80 24 "$S" "what-if list of six edits"
J=$(printf '%s\n' "$S" | sed -n '5,8p' | sed 's/^ *//' | tr '\n' ' ')
for e in "Age 58.77 -> 40 years" "Serum bilirubin 14.5 -> 1 mg/dl" "Serum albumin 2.6 -> 4 g/dl" \
	"Alkaline phosphatase 1718 -> 1000 U/l" "Histologic stage 4 -> 1" "Spider angiomata yes -> no"; do
	contains "what-if list: '$e' shown (wrapped, not cut)" "$J" "$e"
done
S=$(tui '\neSerum albumin = 4\n' 80x24)
contains "what-if: a column by its label" "$S" "what-if: Serum albumin 2.6 -> 4 g/dl"

# prompts: open empty or with the old text selected; Ctrl-U and Ctrl-W edit
S=$(tui 'fage > 70\nfbili > 10\n' 80x24)
n=$(sqlite3 "$F" "SELECT count(*) FROM patients WHERE bili > 10")
contains "prompt: typing replaces the selected old filter" "$(line "$S" 2)" "$n/418 patients"
S=$(tui 'fage > 70\nf\n' 80x24)
n=$(sqlite3 "$F" "SELECT count(*) FROM patients WHERE age > 70")
contains "prompt: Enter keeps the selected old filter" "$(line "$S" 2)" "$n/418 patients"
S=$(tui 'fbili > 1<C-u>age > 70\n' 80x24)
contains "prompt: Ctrl-U clears the line" "$(line "$S" 2)" "$n/418 patients"
S=$(tui 'fage > 70 nonsense<C-w>\n' 80x24)
contains "prompt: Ctrl-W deletes the last word" "$(line "$S" 2)" "$n/418 patients"
S=$(tui 'fage > 70' 80x24)
contains "prompt: a filter prompt opens empty" "$(line "$S" 24)" "filter (column op value): age > 70"
S=$(tui '4gsex,age; age=40,45,50,55,60,65,70,75,80,85,90,95,100,105' 80x24)
fits 80 24 "$S" "a grouping prompt longer than the line"
contains "grouping prompt: scrolls to show the end" "$(line "$S" 24)" "95,100,105"
# group labels longer than the column wrap
S=$(tui '4gsex,age; age=45.5,65.25\n' 80x24)
fits 80 24 "$S" "audit by two columns with long labels"
contains "audit: a long group label is not cut" "$S" "65.25"
contains "audit: groups in words" "$(line "$S" 6)" "Sex female, Age        221"
eq "audit: ... the rest of the label wrapped below" "$(line "$S" 7)" "45.5-65.25 ref"
S=$(tui '5g' 80x24)
contains "survival: curves named in words" "$S" "Treatment placebo"
