#!/bin/bash
# The on-ramp: a bare machine (make demo installs, then builds with the right flags), a clone
# with nothing beside it, real public CSVs without an id column or with ids that repeat, and
# no silent leaks into models (ids, labels of boolean targets, warnings, progress).
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1

# ---- the test suite reads nothing outside the repository ----
# Paths that climb out of the repository from tests, benches, scripts, the Makefile or CI.
outside=$(cd "$TOP" && git grep -nIE '(\.\./)+shared|\$(TOP|top)/\.\./|LUMEN_SHARED' -- tests bench scripts Makefile .ci 2>/dev/null |
	grep -v '^tests/e2e/onramp.sh:')
eq "no test, bench or script names a path outside the repository" "$outside" ""

# ---- a skipped cmocka test counts as skipped, not failed ----
if command -v cc >/dev/null && [ -e /usr/include/cmocka.h ]; then
	mkdir -p skipb/tests
	cat >skip.c <<'C'
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
static void passes(void **s) { (void)s; assert_int_equal(1, 1); }
static void skips(void **s) { (void)s; skip(); }
int main(void)
{
	const struct CMUnitTest t[] = {cmocka_unit_test(passes), cmocka_unit_test(skips)};
	return cmocka_run_group_tests(t, NULL, NULL);
}
C
	cc -o skipb/tests/test_skipdemo skip.c -lcmocka
	out=$(LUMEN_BUILD="$T/skipb" TESTS='test_skipdemo' sh "$TOP/tests/run.sh" 2>&1)
	eq "tests/run.sh: a cmocka skip is a skip" "$(printf '%s\n' "$out" | tail -n 1)" "1 passed, 0 failed, 1 skipped"
else
	skip "tests/run.sh counts cmocka skips" "no C compiler or cmocka here"
fi

# ---- make demo on a bare machine: the packages arrive during the run ----
# A stand-in pkg-config knows no package until the stand-in deps step has "installed" them:
# the flags must be read after deps, in the same `make demo`.
if [ -n "${LUMEN_SKIP_BARE:-}" ]; then
	skip "make demo on a bare machine" "LUMEN_SKIP_BARE is set"
elif command -v pkg-config >/dev/null && command -v git >/dev/null && [ -d "$TOP/.git" ]; then
	mkdir -p fakebin repo
	cat >fakebin/pkg-config <<SH
#!/bin/sh
[ -e "$T/installed" ] || exit 1
exec $(command -v pkg-config) "\$@"
SH
	chmod +x fakebin/pkg-config
	(cd "$TOP" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar cf - 2>/dev/null) | (cd repo && tar xf -)
	# a plain make, as a user runs it: not the variables of the make running the tests
	# (make sanitize passes BUILD=build-san SANITIZE=1 down through MAKEFLAGS)
	bmake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u BUILD -u SANITIZE -u OPT -u CFLAGS -u LDFLAGS PATH="$T/fakebin:$PATH" make "$@"; }
	bmake -C repo -j2 all DEPS=true >bare1.out 2>&1
	rc=$?
	eq "bare machine, nothing installed: make fails" "$([ $rc -ne 0 ] && echo failed)" failed
	contains "bare machine: a missing .pc names the Debian package" "$(cat bare1.out)" \
		"lumen: build: sqlite3.pc not found: install the Debian package libsqlite3-dev"
	rm -rf repo/build
	bmake -C repo -j2 demo DEPS="touch $T/installed" \
		DEMO_ARGS="--epochs 1 --no-tui -o $T/bare.lumen" >bare2.out 2>&1
	rc=$?
	eq "bare machine: make demo installs, builds and runs the demo the first time" "$rc" 0
	[ $rc -ne 0 ] && tail -n 5 bare2.out | sed 's/^/#   /'
	check "bare machine: the demo workbench exists" test -s "$T/bare.lumen"
	rm -rf repo fakebin installed
else
	skip "make demo on a bare machine" "pkg-config or git missing"
fi

# ---- any real cohort CSV imports ----
# no id column (R's write.csv with row.names = FALSE): rows are the ids
printf 'time,status,age,sex\n306,2,74,1\n455,2,68,1\n1010,1,56,1\n210,2,57,1\n883,2,60,1\n1022,1,74,1\n' >lung.csv
run import lung.csv -o lung.lumen
eq "no id column: imported" "$RC" 0
eq "no id column: the import says rows are the ids" "$OUT" "lung.lumen: 6 patients, 4 columns
patient ids: the row numbers 1..6, in column 'row' (the CSV has no id column)"
run info lung.lumen
contains "lumen info says so too" "$OUT" "patient ids: the row numbers 1..6, in column 'row'"
contains "the row column is an id" "$OUT" "row              integer id              0        6"
run info lung.lumen --json
eq "info --json: patient_ids" "$(printf '%s' "$OUT" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin)["patient_ids"]; print(d["column"], d["row_numbers"])' 2>/dev/null || echo "no python")" "row True"
eq "rows 1..n stored" "$(sqlite3 lung.lumen 'SELECT group_concat(row) FROM patients')" "1,2,3,4,5,6"
eq "the datasets row counts the CSV's columns" "$(sqlite3 lung.lumen "SELECT columns FROM datasets WHERE name = 'patients'")" 4
# R's write.csv with row names: the header's first name is empty
printf '"","time","status"\n"1",306,2\n"2",455,2\n"3",1010,1\n' >rn.csv
run import rn.csv -o rn.lumen
eq "R's row names column: imported as the id" "$RC/$(printf '%s' "$OUT" | tail -n 1)" "0/patient ids: column 'rownames'"
# a column named like a row number already: the added one takes another name
printf 'row,x\n5,1\n5,2\n' >rowcol.csv
run import rowcol.csv -o rowcol.lumen
eq "a CSV with its own 'row' column: the ids go into 'row_id'" "$(printf '%s' "$OUT" | tail -n 1)" \
	"patient ids: the row numbers 1..2, in column 'row_id' (the CSV has no id column)"
# an id that repeats on purpose (one row per visit): stop, say how often, and the ways out
run import "$DATA/pbcseq.csv" -o seq.lumen
eq "repeating id: exit 65" "$RC" 65
eq "repeating id: how often and the ways out" "$ERR" "lumen: import: $DATA/pbcseq.csv:3:1: column 'id' looks like the patient id but repeats: 1945 rows, 312 distinct values ('1' also on line 2); name the id with --id COL, number the rows with --row-ids, or import a long table with --visits"
check "repeating id: nothing written" test ! -e seq.lumen
run import "$DATA/pbcseq.csv" -o seq.lumen --row-ids
eq "--row-ids: imported" "$RC" 0
contains "--row-ids: said" "$OUT" "patient ids: the row numbers 1..1945, in column 'row' (--row-ids)"
contains "--row-ids: the id-named column is ignored" "$OUT" "column 'id' is named like an id: its role is 'ignore' (never a model input)"
eq "--row-ids: id has role ignore" "$(sqlite3 seq.lumen "SELECT role FROM columns WHERE name = 'id'")" ignore
run import "$DATA/pbcseq.csv" -o seq2.lumen --row-ids --id id
eq "--id with --row-ids: usage error" "$RC" 64

# ---- an id named with --id is never a model input ----
sed '1s/^"id"/"patno"/' "$DATA/pbc.csv" >renamed.csv
run import renamed.csv -o ren.lumen --id patno --time time --event status
eq "--id COL: imported" "$RC" 0
eq "--id COL: its role is id" "$(sqlite3 ren.lumen "SELECT role FROM columns WHERE name = 'patno'")" id
run train ren.lumen --model logreg --target status --positive 2 --name lr --quiet
eq "train with a renamed id: exit 0" "$RC" 0
eq "the id is no model input" "$(sqlite3 ren.lumen "SELECT count(*) FROM model_inputs WHERE source_column = 'patno'")" 0
contains "pbc logreg without the id: AUC 0.833, as with the id named id" "$OUT" "out-of-fold AUC 0.833"
run train ren.lumen --model logreg --target status --positive 2 --features patno,age --name lr2
eq "--features cannot name the id" "$RC/$ERR" "65/lumen: train: --features: 'patno' has role id and cannot be a feature"
run import renamed.csv -o ren2.lumen --id patno --target patno
eq "--id and --target on one column: usage error" "$RC" 64
# --visits with --id (it crashed: the id set was never made)
run import "$DATA/pbc.csv" --visits "$DATA/pbcseq.csv" -o v.lumen --id id
eq "--visits with --id: imported" "$RC/$(sqlite3 v.lumen 'SELECT count(*) FROM visits')" "0/1945"

# ---- ids compared as they are stored ----
printf 'id,x\n1,a\n1.0,b\n' >idnum.csv
run import idnum.csv -o idnum.lumen
eq "1 and 1.0 are one id once stored as numbers" "$RC/$ERR" "65/lumen: import: idnum.csv:3:1: duplicate patient id '1.0': the same real as '1' on line 2 (column 'id')"
printf 'id,x\n01,a\n1,b\n' >idint.csv
run import idint.csv -o idint.lumen
eq "01 and 1 are one integer id" "$RC/$ERR" "65/lumen: import: idint.csv:3:1: duplicate patient id '1': the same integer as '01' on line 2 (column 'id')"
printf 'id,x\n9223372036854775806,a\n9223372036854775807,b\n' >idbig.csv
run import idbig.csv -o idbig.lumen
eq "two 64-bit ids one apart stay two" "$RC/$(sqlite3 idbig.lumen 'SELECT group_concat(id) FROM patients')" "0/9223372036854775806,9223372036854775807"
printf 'id,x\n18446744073709551616,a\n18446744073709551617,b\n' >idhuge.csv
run import idhuge.csv -o idhuge.lumen
eq "ids beyond 64 bits that are one double: refused" "$RC" 65

# ---- --force replaces only a regular file that is not the input ----
cp lung.csv in.csv
run import in.csv -o in.csv --force
eq "--force on the input itself: refused" "$RC/$ERR" "73/lumen: import: in.csv: is the input in.csv; refusing to replace it"
cmp -s in.csv lung.csv && ok "the input is unchanged" || not_ok "the input is unchanged"
ln -s in.csv alias.csv
run import in.csv -o alias.csv --force
eq "--force on a link to the input: refused" "$RC" 73
mkfifo fifo
run import lung.csv -o fifo --force
eq "--force on something not a regular file: refused" "$RC/$ERR" "73/lumen: import: fifo: not a regular file; refusing to replace it"

# ---- headers and values in errors ----
awk 'BEGIN { for (i = 1; i <= 100000; i++) printf "%sc%d", (i > 1 ? "," : ""), i; print ""; for (i = 1; i <= 100000; i++) printf "%s1", (i > 1 ? "," : ""); print "" }' >wide.csv
start=$(date +%s)
run import wide.csv -o wide.lumen
eq "100,000 columns: refused at once with a clear line" "$RC/$ERR" "65/lumen: import: wide.csv:1:1: 100000 columns: lumen takes at most 1998"
[ $(($(date +%s) - start)) -lt 20 ] && ok "100,000 columns: refused without the quadratic check" || not_ok "100,000 columns took $(($(date +%s) - start)) s"
awk 'BEGIN { printf "id"; for (i = 1; i <= 1500; i++) printf ",c%d", i; print ""; printf "1"; for (i = 1; i <= 1500; i++) printf ",%d", i; print "" }' >w1500.csv
run import w1500.csv -o w1500.lumen
eq "1,500 columns import" "$RC" 0
printf 'id,x,X\n1,2,3\n' >dupcase.csv
run import dupcase.csv -o dupcase.lumen
eq "column names differing in case only" "$ERR" "lumen: import: dupcase.csv:1:6: duplicate column name 'X' (also column 2)"
printf 'id,x\n"1\nz",3\n"1\nz",4\n' >nl.csv
run import nl.csv -o nl.lumen
eq "a quoted newline in a value stays one line in the error" "$ERR" "lumen: import: nl.csv:4:1: column 'id' looks like the patient id but repeats: 2 rows, 1 distinct values ('1\\nz' also on line 2); name the id with --id COL, number the rows with --row-ids, or import a long table with --visits"
eq "... and the message is one line" "$(printf '%s\n' "$ERR" | wc -l | tr -d ' ')" 1

# a column of ±1e308: its mean and sd are finite (the sums no longer overflow)
printf 'id,x\n1,1e308\n2,-1e308\n3,1e308\n' >big.csv
run import big.csv -o big.lumen
eq "±1e308: mean 1e308/3 and sd sqrt(4/3)·1e308, worked by hand (R's sd() overflows to Inf here)" \
	"$(sqlite3 big.lumen "SELECT printf('%.6e %.6e', mean, sd) FROM columns WHERE name = 'x'")" "3.333333e+307 1.154701e+308"

# ---- --positive takes the labels lumen info shows ----
awk -F, 'BEGIN { OFS = "," } NR == 1 { $3 = "died" } NR > 1 { $3 = ($3 == 2) ? "Yes" : "No" } { print }' "$DATA/pbc.csv" >yn.csv
run import yn.csv -o yn.lumen
eq "a Yes/No column is boolean" "$(sqlite3 yn.lumen "SELECT type FROM columns WHERE name = 'died'")" boolean
run train yn.lumen --model logreg --target died --positive Yes --quiet --exclude time
eq "--positive Yes on a boolean target" "$RC" 0
contains "... the same model as status = 2" "$OUT" "target died = Yes, 418 patients (0 left out), 5 folds, out-of-fold AUC 0.833"
run train yn.lumen --model logreg --target died --positive yes --quiet --exclude time --name lower
eq "--positive is case-blind for booleans" "$RC" 0
run train yn.lumen --model logreg --target died --positive Maybe --quiet --name m
eq "--positive not a level: the levels listed" "$RC/$ERR" "65/lumen: train: no patient has died = 'Maybe' (the positive class); its values are 'No', 'Yes'"

# ---- warnings at train, stored with the model ----
awk -F, 'BEGIN { OFS = "," } NR == 1 { print $0, "serial", "cause", "admitted" }
	NR > 1 { print $0, 1000 + NR, ($3 == 2 ? "liver" : "none"), sprintf("20%02d-01-%02d", NR % 20, NR % 28 + 1) }' "$DATA/pbc.csv" |
	sed '1s/^"id"/"key"/' >leaky.csv
run import leaky.csv -o leaky.lumen --id key
eq "leaky cohort imported" "$RC" 0
run train leaky.lumen --model logreg --target status --positive 2 --quiet --name leak
eq "train with leaks: a warning, not a refusal" "$RC" 0
contains "warning: id-like input" "$ERR" "lumen: train: warning: input 'serial' looks like an id: a different value for each of the 418 patients"
contains "warning: one input almost determines the target" "$ERR" "lumen: train: warning: input 'cause' alone almost determines the target (its own AUC 1.000)"
contains "warning: a date used as a feature" "$ERR" "lumen: train: warning: input 'admitted' looks like a date and is used as a feature"
contains "warning: text with many categories" "$ERR" "lumen: train: warning: input 'admitted' is text with"
contains "warning: follow-up time used as a feature" "$ERR" "lumen: train: warning: input 'time' looks like a date or a follow-up time"
contains "--quiet does not hide the warnings" "$ERR" "warning"
run models leaky.lumen
contains "lumen models shows the warnings" "$OUT" "  warning: input 'cause' alone almost determines the target"
eq "stored with the model" "$(sqlite3 leaky.lumen "SELECT json_array_length(metrics, '\$.warnings') FROM models WHERE name = 'leak'")" 5
run train leaky.lumen --model logreg --target status --positive 2 --quiet --name clean --exclude serial,cause,admitted,time
eq "no warnings without them" "$ERR" ""
eq "protime (prothrombin time) is a lab, not a follow-up time" "$(printf '%s' "$ERR" | grep -c protime)" 0

# ---- progress: a line at most every few seconds when stderr is not a terminal ----
run train lung.lumen --model mlp --epochs 100 --target status --positive 2 --name p --folds 2 --exclude time
lines=$(printf '%s\n' "$ERR" | grep -c 'epoch')
[ "$lines" -le 12 ] && ok "progress: $lines lines for up to 300 epochs, not one per epoch" || not_ok "progress: $lines lines"
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
	script -qec "$LUMEN train lung.lumen --model mlp --epochs 20 --target status --positive 2 --name tty --folds 2 --exclude time" /dev/null >tty.out 2>&1
	eq "progress on a terminal: rewritten in place (carriage returns, no line per epoch)" \
		"$(grep -c 'epoch' tty.out | tr -d ' ')/$([ "$(tr -cd '\r' <tty.out | wc -c)" -gt 20 ] && echo cr)" "1/cr"
else
	skip "progress on a terminal" "script(1) is not installed (Debian bsdextrautils) or no pseudo-terminal"
fi

# ---- predict --input: the same id rules, and only the options it has ----
run import "$DATA/pbc.csv" -o pbc.lumen --time time --event status
run train pbc.lumen --model logreg --target status --positive 2 --name lr --quiet
cut -d, -f2- "$DATA/pbc.csv" | head -n 4 >noid.csv
run predict pbc.lumen --model lr --input noid.csv
eq "predict --input without ids: rows 1..n" "$RC/$(printf '%s\n' "$OUT" | cut -d, -f1 | tr '\n' ' ')" "0/id 1 2 3 "
{ head -n 3 "$DATA/pbc.csv"; sed -n 2p "$DATA/pbc.csv"; } >rep.csv
run predict pbc.lumen --model lr --input rep.csv
eq "predict --input with a repeating id: the ways out it accepts" "$RC/$ERR" "65/lumen: predict: rep.csv:4:1: column 'id' looks like the patient id but repeats: 3 rows, 2 distinct values ('1' also on line 2); name the id with --id COL, or number the rows with --row-ids"
run predict pbc.lumen --model lr --input rep.csv --row-ids
eq "predict --input --row-ids" "$RC/$(printf '%s\n' "$OUT" | sed -n 4p | cut -d, -f1)" "0/3"
sed '1s/^"id"/"patno"/' "$DATA/pbc.csv" | head -n 3 >newid.csv
run predict pbc.lumen --model lr --input newid.csv --id patno
eq "predict --input --id COL" "$RC/$(printf '%s\n' "$OUT" | sed -n 2p | cut -d, -f1)" "0/1"
run predict pbc.lumen --model lr --row-ids
eq "--row-ids without --input: usage" "$RC" 64

echo "1..$T_N"
