#!/bin/bash
# lumen import's single pass: the rows go into the file while the CSV is read, under the types
# inferred from its first MiB (import.c, prescan). When a value after that prefix contradicts
# them, the final types still win (pass 2 inserts the rows again). Each file below is 2 MiB and
# changes its story after the first MiB; the tests check the stored types and values against
# what awk computes, and that errors after the prefix leave nothing behind.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
if ! command -v sqlite3 >/dev/null; then
	skip "single-pass import" "no sqlite3 shell"
	exit 0
fi
q() { sqlite3 -batch -noheader "$@"; }

ROWS=40000 LATE=39000
# gen MODE FILE: id,x,pad with x following MODE; row LATE (line LATE+1) is the surprise
gen() {
	awk -v mode="$1" -v n=$ROWS -v late=$LATE 'BEGIN {
		print "id,x,pad"
		for (i = 1; i <= n; i++) {
			if (mode == "int2real") x = i == late ? "2.5" : i % 100
			else if (mode == "bool2int") x = i == late ? "2" : i % 2
			else if (mode == "yesno2text") x = i == late ? "maybe" : i % 2 ? "yes" : "no"
			else if (mode == "na2int") x = i < late ? "NA" : i % 7
			else if (mode == "int2text") x = i == late ? "x1" : i % 2 ? i % 10 : "007"
			else if (mode == "stays") x = i % 2 ? i % 10 : "007"
			printf "%d,%s,padding-padding-padding-padding-%d\n", i, x, i
		}
	}' >"$2"
}

# the surprise is past the prefix the types are inferred from
gen int2real int2real.csv
size=$(wc -c <int2real.csv)
check "the test file is larger than the 1 MiB prefix" test "$size" -gt 1572864
eq "the late value is not in the first MiB" "$(head -c 1048576 int2real.csv | grep -c '^39000,')" 0

# import MODE: generates MODE.csv and imports it into MODE.lumen (exit status 0)
import() {
	local m=$1
	shift
	gen "$m" "$m.csv"
	run import "$m.csv" -o "$m.lumen" "$@"
	eq "$m: exit 0" "$RC" 0
}
xtype() { q "$1" "SELECT type FROM columns WHERE dataset = 'patients' AND name = 'x'"; }

import int2real
eq "int2real: type real" "$(xtype int2real.lumen)" real
eq "int2real: every value stored as real" "$(q int2real.lumen "SELECT typeof(x), count(*) FROM patients GROUP BY 1")" "real|40000"
want=$(awk -v n=$ROWS -v late=$LATE 'BEGIN { for (i = 1; i <= n; i++) s += i == late ? 2.5 : i % 100; printf "%.1f", s }')
eq "int2real: sum" "$(q int2real.lumen "SELECT printf('%.1f', sum(x)) FROM patients")" "$want"
eq "int2real: the late value" "$(q int2real.lumen "SELECT x FROM patients WHERE id = $LATE")" 2.5
eq "int2real: all rows, in order" "$(q int2real.lumen "SELECT count(*), min(rowid), max(rowid), sum(rowid = id) FROM patients")" "40000|1|40000|40000"

import bool2int
eq "bool2int: type integer" "$(xtype bool2int.lumen)" integer
eq "bool2int: every value an integer" "$(q bool2int.lumen "SELECT typeof(x), count(*) FROM patients GROUP BY 1")" "integer|40000"
eq "bool2int: sum (20000 odd rows, and the 2)" "$(q bool2int.lumen "SELECT sum(x) FROM patients")" 20002

import yesno2text
eq "yesno2text: type text" "$(xtype yesno2text.lumen)" text
eq "yesno2text: the words kept as written" "$(q yesno2text.lumen "SELECT x, count(*) FROM patients GROUP BY 1 ORDER BY 1")" "maybe|1
no|19999
yes|20000"

import na2int
eq "na2int: type integer" "$(xtype na2int.lumen)" integer
want=$(awk -v n=$ROWS -v late=$LATE 'BEGIN { for (i = late; i <= n; i++) s += i % 7; print s }')
eq "na2int: missing and present" "$(q na2int.lumen "SELECT sum(x IS NULL), sum(x) FROM patients")" "38999|$want"
eq "na2int: stored as integers" "$(q na2int.lumen "SELECT typeof(x), count(*) FROM patients GROUP BY 1 ORDER BY 1")" "integer|1001
null|38999"
eq "na2int: columns statistics" "$(q na2int.lumen "SELECT missing, distinct_count, min, max FROM columns WHERE name = 'x'")" "38999|7|0.0|6.0"

import int2text
eq "int2text: type text" "$(xtype int2text.lumen)" text
eq "int2text: every value text" "$(q int2text.lumen "SELECT typeof(x), count(*) FROM patients GROUP BY 1")" "text|40000"
eq "int2text: leading zeros kept" "$(q int2text.lumen "SELECT count(*) FROM patients WHERE x = '007'")" 19999
eq "int2text: early numbers as written" "$(q int2text.lumen "SELECT x FROM patients WHERE id IN (3, 21, $LATE) ORDER BY id")" "3
1
x1"

# the single pass itself: types that hold from the first row to the last
import stays
eq "stays: type integer (007 is the integer 7)" "$(xtype stays.lumen)" integer
eq "stays: values" "$(q stays.lumen "SELECT typeof(x), count(*), sum(x) FROM patients GROUP BY 1")" "integer|40000|$(awk -v n=$ROWS 'BEGIN { for (i = 1; i <= n; i++) s += i % 2 ? i % 10 : 7; print s }')"
eq "stays: text column" "$(q stays.lumen "SELECT pad FROM patients WHERE id = 40000")" "padding-padding-padding-padding-40000"
eq "stays: schema" "$(q stays.lumen ".schema patients")" 'CREATE TABLE IF NOT EXISTS "patients"("id" INTEGER, "x" INTEGER, "pad" TEXT);'
eq "stays: no free pages left behind" "$(q stays.lumen "PRAGMA freelist_count")" 0

# a forced type holds whatever the prefix suggests
gen stays forced.csv
run import forced.csv -o forced.lumen --type x=real
eq "forced: exit 0" "$RC" 0
eq "forced: real" "$(q forced.lumen "SELECT typeof(x), count(*) FROM patients GROUP BY 1")" "real|40000"
gen int2real forced_bad.csv
run import forced_bad.csv -o forced_bad.lumen --type x=integer
eq "forced, contradicted after the prefix: exit 65" "$RC" 65
eq "forced, contradicted after the prefix: message" "$ERR" "lumen: import: forced_bad.csv:39001:7: '2.5' is not an integer (column 'x' has --type integer)"
check "forced, contradicted: no file" test ! -e forced_bad.lumen

# errors after the prefix, while rows are already going in: nothing is left
gen stays late.csv
sed -i '39001s/$/,extra/' late.csv
printf 'previous contents\n' >late.lumen
cp late.lumen keep.copy
run import late.csv -o late.lumen --force
eq "late record error: exit 65" "$RC" 65
eq "late record error: message" "$ERR" "lumen: import: late.csv:39001:49: expected 3 fields, found 4"
check "late record error: old file unchanged" cmp -s late.lumen keep.copy
check "late record error: no temporary file left" test -z "$(ls -A | grep '\.tmp-')"

gen stays dup.csv
sed -i '39001s/^39000,/5,/' dup.csv
run import dup.csv -o dup.lumen
eq "late duplicate id: exit 65" "$RC" 65
eq "late duplicate id: message" "$ERR" "lumen: import: dup.csv:39001:1: column 'id' looks like the patient id but repeats: 40000 rows, about 39344 distinct values ('5' also on line 6); name the id with --id COL, number the rows with --row-ids, or import a long table with --visits"
check "late duplicate id: no file" test ! -e dup.lumen
check "late duplicate id: no temporary file left" test -z "$(ls -A | grep '\.tmp-')"

# the output directory cannot be written: the CSV's own error still comes first
gen stays ok.csv
sed -i '3s/^2,/1,/' ok.csv
run import ok.csv -o nodir/out.lumen --id id
eq "bad CSV and bad target: the CSV error" "$ERR" "lumen: import: ok.csv:3:1: duplicate patient id '1' (also on line 2)"
gen stays ok2.csv
run import ok2.csv -o nodir/out.lumen
eq "bad target alone: exit 73" "$RC" 73
contains "bad target alone: says so" "$ERR" "nodir/out.lumen: cannot create"

# a small cohort keeps SQLite's 4 KiB pages (64 KiB are for inputs of 32 MiB and more)
eq "small input: 4 KiB pages" "$(q stays.lumen "PRAGMA page_size")" 4096

# records larger than a pass-1 batch's text (512 KiB): each gets a batch of its own
awk 'BEGIN { print "id,note,x"; big = "a"; while (length(big) < 700000) big = big big; big = substr(big, 1, 700000)
	for (i = 1; i <= 5; i++) print i "," (i % 2 ? big : "short") "," i / 2 }' >big.csv
run import big.csv -o big.lumen
eq "records of 700 KB: exit 0" "$RC" 0
eq "records of 700 KB: stored whole" "$(q big.lumen "SELECT group_concat(length(note) || ':' || x, ' ') FROM patients")" "700000:0.5 5:1.0 700000:1.5 5:2.0 700000:2.5"

# the file's SHA-256 is taken from the bytes pass 1 reads (2 MiB: many reads, many blocks)
eq "sha256 of the patients file" "$(q stays.lumen "SELECT sha256 FROM datasets WHERE name = 'patients'")" "$(sha256sum stays.csv | cut -d' ' -f1)"
