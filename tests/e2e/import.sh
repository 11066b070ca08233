#!/bin/bash
# lumen import / info / role end to end: bad inputs, accepted CSV dialects, a round trip
# checked with the sqlite3 shell against awk, pbc and pbcseq, mode 0600, --force.
. "$(dirname "$0")/../lib.sh"
cd "$T" || exit 1
PBC=$DATA/pbc.csv
PBCSEQ=$DATA/pbcseq.csv
have_sqlite=1
command -v sqlite3 >/dev/null || have_sqlite=0
q() { sqlite3 -batch -noheader "$@"; }

# bad FILE CONTENT(printf format) MESSAGE [extra import args...]: exit 65, the exact message,
# no file written, and with --force an existing file left byte for byte as it was.
bad() {
	local name=$1 content=$2 msg=$3
	shift 3
	printf "$content" >"$name"
	rm -f out.lumen
	run import "$name" -o out.lumen "$@"
	eq "$name: exit 65" "$RC" 65
	eq "$name: message" "$ERR" "lumen: import: $msg"
	check "$name: no file written" test ! -e out.lumen
	printf 'previous contents\n' >out.lumen
	cp out.lumen keep.copy
	run import "$name" -o out.lumen --force "$@"
	eq "$name: exit 65 with --force" "$RC" 65
	check "$name: old file unchanged" cmp -s out.lumen keep.copy
	check "$name: no temporary file left" test -z "$(ls -A | grep '\.tmp-')"
	rm -f out.lumen keep.copy
}

bad unterminated.csv 'id,x\n1,2\n2,"abc\n3,4\n' 'unterminated.csv:3:3: unterminated quoted field'
bad quote_inside.csv 'id,x\n1,ab"c\n' 'quote_inside.csv:2:5: quote inside an unquoted field'
bad after_quote.csv 'id,x\n1,"ab"c\n' 'after_quote.csv:2:7: unexpected character after a closing quote'
bad too_many.csv 'id,x\n1,2\n2,3,4\n' 'too_many.csv:3:5: expected 2 fields, found 3'
bad too_few.csv 'id,x,y\n1,2,3\n2,3\n' 'too_few.csv:3:4: expected 3 fields, found 2'
bad dup_id.csv 'id,x\n1,a\n2,b\n1,c\n' 'dup_id.csv:4:1: column '"'id'"' looks like the patient id but repeats: 3 rows, 2 distinct values ('"'1'"' also on line 2); name the id with --id COL, number the rows with --row-ids, or import a long table with --visits'
bad dup_id_named.csv 'x,pid,key\na,1,7\nb,2,8\nc,3,7\n' 'dup_id_named.csv:4:5: duplicate patient id '"'7'"' (also on line 2)' --id key
bad missing_id.csv 'id,x\n1,a\n,b\n' 'missing_id.csv:3:1: column '"'id'"' looks like the patient id but has 1 missing value; name the id with --id COL, number the rows with --row-ids, or import a long table with --visits'
bad forced_int.csv 'id,x\n1,2\n2,2.5\n' 'forced_int.csv:3:3: '"'2.5'"' is not an integer (column '"'x'"' has --type integer)' --type x=integer
bad forced_real.csv 'id,x\n1,2\n2,high\n' 'forced_real.csv:3:3: '"'high'"' is not a number (column '"'x'"' has --type real)' --type x=real
bad forced_bool.csv 'id,x\n1,yes\n2,no\n3,maybe\n' 'forced_bool.csv:4:3: '"'maybe'"' is not a boolean of the same kind as the column'"'"'s other values (column '"'x'"' has --type boolean)' --type x=boolean
bad empty.csv '' 'empty.csv:1:1: empty file'
bad blank_lines.csv '\n\n\r\n' 'blank_lines.csv:1:1: empty file'
bad header_only.csv 'id,x\n' 'header_only.csv:2:1: no rows after the header'
bad dup_header.csv 'id,a,A\n1,2,3\n' 'dup_header.csv:1:6: duplicate column name '"'A'"' (also column 2)'
bad empty_header.csv 'id,,b\n1,2,3\n' 'empty_header.csv:1:4: empty column name (column 2)'
bad bad_utf8.csv 'id,name\n1,caf\xc3\xa9\n2,na\xefve\n' 'bad_utf8.csv:3:5: invalid UTF-8 sequence (byte 0x76)'
bad lone_byte.csv 'id,name\n1,\xff\n' 'lone_byte.csv:2:3: invalid UTF-8 byte 0xff'
bad nul.csv 'id,x\n1,a\0b\n' 'nul.csv:2:4: NUL byte'
bad unknown_col.csv 'id,x\n1,2\n' 'unknown_col.csv: no column '"'y'"' (given with --target)' --target y

# with thousands of records (many batches through the threads) the first error in the file
# is the one reported, whichever check finds it
awk 'BEGIN { print "id,x"; for (i = 1; i <= 3000; i++) print i "," i; print "7,1"; for (i = 3002; i <= 5000; i++) print i "," i; print "5001,a\"b" }' >order1.csv
run import order1.csv -o out.lumen --id id
eq "first error wins (duplicate before a quote error)" "$ERR" "lumen: import: order1.csv:3002:1: duplicate patient id '7' (also on line 8)"
awk 'BEGIN { print "id,x"; for (i = 1; i <= 3000; i++) print i "," i; print "3001,a\"b"; print "7,1" }' >order2.csv
run import order2.csv -o out.lumen --id id
eq "first error wins (quote error before a duplicate)" "$ERR" "lumen: import: order2.csv:3002:7: quote inside an unquoted field"
check "no file after either" test ! -e out.lumen

# visits: an unknown patient, a visit without id
printf 'id,age\n1,50\n2,60\n' >pat.csv
printf 'id,day,bili\n1,0,1.5\n3,0,2.0\n' >v.csv
run import pat.csv --visits v.csv -o out.lumen
eq "visit for unknown patient: exit 65" "$RC" 65
eq "visit for unknown patient: message" "$ERR" "lumen: import: v.csv:3:1: visit for unknown patient id '3'"
check "visit for unknown patient: no file" test ! -e out.lumen
printf 'id,day,bili\n1,0,1.5\n1,x,2.0\n' >v2.csv
run import pat.csv --visits v2.csv -o out.lumen
eq "non-numeric visit time: message" "$ERR" "lumen: import: v2.csv:3:3: visit time 'x' is not a number (column 'day')"

printf 'id,day,bili\n1,0,1.5\n2,3,high\n' >v4.csv
run import pat.csv --visits v4.csv -o out.lumen --type bili=real
eq "--type applies to visits columns" "$ERR" "lumen: import: v4.csv:3:5: 'high' is not a number (column 'bili' has --type real)"
run import pat.csv -o out.lumen --type nothere=real
eq "--type of an unknown column" "$ERR" "lumen: import: pat.csv: no column 'nothere' (given with --type)"
check "--type of an unknown column: no file" test ! -e out.lumen

# usage errors and refusing to overwrite
run import pat.csv -o out.lumen --delimiter ab
eq "--delimiter of two characters: exit 64" "$RC" 64
run import pat.csv
eq "no -o: exit 64" "$RC" 64
run import pat.csv -o out.lumen --type x=float
eq "bad --type: exit 64" "$RC" 64
run import pat.csv -o out.lumen --time age
eq "--time without --event: exit 64" "$RC" 64
run import missing.csv -o out.lumen
eq "missing input: exit 66" "$RC" 66
check "missing input: no file" test ! -e out.lumen
printf 'keep me\n' >exists.lumen
run import pat.csv -o exists.lumen
eq "existing target: exit 73" "$RC" 73
eq "existing target: message" "$ERR" "lumen: import: exists.lumen: file exists (use --force to replace it)"
eq "existing target: unchanged" "$(cat exists.lumen)" "keep me"
run import pat.csv -o exists.lumen --force
eq "--force replaces: exit 0" "$RC" 0
run info exists.lumen --json
contains "--force replaced the file with a workbench" "$OUT" '"rows":	2'

run import pat.csv -o no/such/dir/x.lumen
eq "unwritable target: exit 73" "$RC" 73
eq "unwritable target: message" "$ERR" "lumen: import: no/such/dir/x.lumen: cannot create: No such file or directory"

# interrupted: the temporary file goes with the process
# (signalled as soon as its temporary file exists, so the import is surely mid-way)
awk 'BEGIN { print "id,a,b,c"; for (i = 1; i <= 2000000; i++) printf "%d,%d,%.3f,t%d\n", i, i % 7, i / 3, i % 50 }' >int.csv
"$LUMEN" import int.csv -o int.lumen >/dev/null 2>&1 &
pid=$!
for _ in $(seq 500); do
	ls -A | grep -q '\.tmp-' && break
	sleep 0.01
done
kill -TERM $pid 2>/dev/null
wait $pid
killed=$?
check "interrupted import leaves no temporary file" test -z "$(ls -A | grep '\.tmp-')"
if [ $killed -ne 0 ]; then
	check "interrupted import leaves no target" test ! -e int.lumen
else
	skip "interrupted import leaves no target" "the import finished before the signal"
fi

# mode 0600 whatever the umask
(umask 000 && "$LUMEN" import pat.csv -o mode.lumen >/dev/null)
eq "mode 0600 under umask 000" "$(stat -c %a mode.lumen)" 600
(umask 077 && "$LUMEN" import pat.csv -o mode2.lumen >/dev/null)
eq "mode 0600 under umask 077" "$(stat -c %a mode2.lumen)" 600

if [ $have_sqlite = 0 ]; then
	skip "sqlite3 checks" "no sqlite3 shell"
else
	# accepted dialects: each file holds the same table
	printf 'id,name,score\n1,"Smith, J",2.5\n2,"two\nlines",3\n3,"say ""hi""",\n' >std.csv
	printf '\xef\xbb\xbfid,name,score\r\n1,"Smith, J",2.5\r\n2,"two\nlines",3\r\n3,"say ""hi""",\r\n\r\n' >crlf_bom.csv
	printf 'id;name;score\n1;"Smith, J";2.5\n2;"two\nlines";3\n3;"say ""hi""";\n\n' >semi.csv
	printf 'id\tname\tscore\n1\t"Smith, J"\t2.5\n2\t"two\nlines"\t3\n3\t"say ""hi"""\t\n' >tab.csv
	printf 'id|name|score\n1|"Smith, J"|2.5\n2|"two\nlines"|3\n3|"say ""hi"""|' >pipe.csv
	want=$(printf '1|Smith, J|2.5\n2|two\nlines|3.0\n3|say "hi"|')
	for f in std crlf_bom semi tab pipe; do
		extra=""
		[ $f = pipe ] && extra="--delimiter |"
		run import $f.csv -o $f.lumen $extra
		eq "dialect $f: exit 0" "$RC" 0
		eq "dialect $f: rows" "$(q $f.lumen 'SELECT id, name, score FROM patients ORDER BY rowid')" "$want"
		eq "dialect $f: types" "$(q $f.lumen "SELECT group_concat(type) FROM columns WHERE dataset='patients'")" "integer,text,real"
	done
	eq "delimiter recorded (semicolon)" "$(q semi.lumen "SELECT delimiter FROM datasets")" ";"
	eq "delimiter recorded (tab)" "$(q tab.lumen "SELECT hex(delimiter) FROM datasets")" "09"

	# type inference and missing markers
	printf 'id,b01,byes,bTF,sex,int,real,txt,na,allna\n1,0,Yes,T,f,7,1,a,NA,\n2,1,no,f,m,-3,2.5,b,N/A,NA\n3,,YES,t,f,12,1e3,c,null,.\n4,1,,F,f,0,-0.5,a,NaN,\n' >types.csv
	run import types.csv -o types.lumen
	eq "types: exit 0" "$RC" 0
	eq "types inferred" "$(q types.lumen "SELECT group_concat(name || '=' || type, ' ') FROM (SELECT * FROM columns WHERE dataset='patients' ORDER BY position)")" \
		"id=integer b01=boolean byes=boolean bTF=boolean sex=text int=integer real=real txt=text na=text allna=text"
	eq "booleans stored 0/1" "$(q types.lumen "SELECT group_concat(quote(b01) || quote(byes) || quote(bTF), ' ') FROM patients")" "011 100 NULL11 1NULL0"
	eq "boolean categories keep labels" "$(q types.lumen "SELECT categories FROM columns WHERE name='byes'")" \
		'[{"value":"YES","n":1},{"value":"Yes","n":1},{"value":"no","n":1}]'
	eq "missing markers are NULL" "$(q types.lumen "SELECT count(*) FROM patients WHERE na IS NULL AND allna IS NULL")" 4
	eq "missing counted" "$(q types.lumen "SELECT missing FROM columns WHERE name='na'")" 4
	eq "text categories with counts" "$(q types.lumen "SELECT categories, distinct_count FROM columns WHERE name='txt'")" \
		'[{"value":"a","n":2},{"value":"b","n":1},{"value":"c","n":1}]|3'
	eq "integer stats" "$(q types.lumen "SELECT mean, min, max, distinct_count FROM columns WHERE name='int'")" "4.0|-3.0|12.0|4"
	near "integer sd (n-1)" "$(q types.lumen "SELECT sd FROM columns WHERE name='int'")" \
		"$(awk 'BEGIN { m = 4; s = (3*3 + 7*7 + 8*8 + 4*4) / 3; printf "%.15g", sqrt(s) }')" 1e-9
	eq "real values" "$(q types.lumen "SELECT group_concat(real, ' ') FROM patients")" "1.0 2.5 1000.0 -0.5"
	run import types.csv -o types2.lumen --na 'NA,zz' --type int=real --type b01=integer
	eq "--na replaces the set: '.' is text now" "$(q types2.lumen "SELECT type, missing FROM columns WHERE name='allna'")" "text|3"
	eq "--type forces real" "$(q types2.lumen "SELECT type, typeof(int) FROM columns, patients WHERE name='int' LIMIT 1")" "real|real"
	eq "--type forces integer over boolean" "$(q types2.lumen "SELECT type FROM columns WHERE name='b01'")" "integer"

	# a quoted header name cannot inject SQL
	printf 'id,"x"");DROP TABLE meta;--"\n1,2\n' >inject.csv
	run import inject.csv -o inject.lumen
	eq "hostile header: exit 0" "$RC" 0
	eq "hostile header kept as a name" "$(q inject.lumen "SELECT name FROM columns WHERE position=2")" 'x");DROP TABLE meta;--'
	eq "meta intact" "$(q inject.lumen "SELECT value FROM meta WHERE key='schema_version'")" 1

	# pbc and pbcseq: counts, types, and a round trip against awk over the CSV
	run import "$PBC" --visits "$PBCSEQ" -o pbc.lumen --target status --group sex --time time --event status --treatment trt
	eq "pbc: exit 0" "$RC" 0
	eq "pbc: summary line" "$OUT" "pbc.lumen: 418 patients, 20 columns; 1945 visits, 19 columns
patient ids: column 'id'"
	eq "pbc: rows" "$(q pbc.lumen 'SELECT count(*) FROM patients')" 418
	eq "pbcseq: rows" "$(q pbc.lumen 'SELECT count(*) FROM visits')" 1945
	eq "pbcseq: patients with visits" "$(q pbc.lumen 'SELECT count(DISTINCT __patient) FROM visits')" 312
	eq "pbc: types" "$(q pbc.lumen "SELECT group_concat(name || ':' || type, ' ') FROM (SELECT * FROM columns WHERE dataset='patients' ORDER BY position)")" \
		"id:integer time:integer status:integer trt:integer age:real sex:text ascites:boolean hepato:boolean spiders:boolean edema:real bili:real chol:integer albumin:real copper:integer alk.phos:real ast:real trig:integer platelet:integer protime:real stage:integer"
	eq "pbcseq: trt is 0/1 boolean there" "$(q pbc.lumen "SELECT type FROM columns WHERE dataset='visits' AND name='trt'")" boolean
	eq "pbc: roles" "$(q pbc.lumen "SELECT group_concat(name || ':' || role, ' ') FROM (SELECT * FROM columns WHERE dataset='patients' AND role <> 'feature' ORDER BY position)")" \
		"id:id time:time status:event trt:treatment sex:group"
	eq "pbc: sex categories" "$(q pbc.lumen "SELECT categories FROM columns WHERE name='sex' AND dataset='patients'")" \
		'[{"value":"f","n":374},{"value":"m","n":44}]'
	# expected values straight from the CSV: the header names the columns
	for col in trt ascites chol copper trig platelet protime stage bili age alk.phos; do
		want_missing=$(awk -F, -v c="$col" 'NR == 1 { for (i = 1; i <= NF; i++) { h = $i; gsub(/"/, "", h); if (h == c) k = i } next }
			$k == "" { n++ } END { print n + 0 }' "$PBC")
		got=$(q pbc.lumen "SELECT missing FROM columns WHERE dataset='patients' AND name='$col'")
		eq "pbc $col: missing = empty cells in the CSV ($want_missing)" "$got" "$want_missing"
		got=$(q pbc.lumen "SELECT count(*) FROM patients WHERE \"$col\" IS NULL")
		eq "pbc $col: NULL cells" "$got" "$want_missing"
		want_sum=$(awk -F, -v c="$col" 'NR == 1 { for (i = 1; i <= NF; i++) { h = $i; gsub(/"/, "", h); if (h == c) k = i } next }
			$k != "" { s += $k } END { printf "%.10f", s }' "$PBC")
		near "pbc $col: sum" "$(q pbc.lumen "SELECT printf('%.10f', total(\"$col\")) FROM patients")" "$want_sum" 1e-6
		want_mean=$(awk -F, -v c="$col" 'NR == 1 { for (i = 1; i <= NF; i++) { h = $i; gsub(/"/, "", h); if (h == c) k = i } next }
			$k != "" { s += $k; n++ } END { printf "%.10f", s / n }' "$PBC")
		near "pbc $col: stored mean" "$(q pbc.lumen "SELECT printf('%.10f', mean) FROM columns WHERE dataset='patients' AND name='$col'")" "$want_mean" 1e-6
	done
	want_days=$(awk -F, 'NR > 1 { s += $7 } END { print s }' "$PBCSEQ")
	eq "pbcseq: sum of day" "$(q pbc.lumen 'SELECT sum(day) FROM visits')" "$want_days"
	eq "pbcseq: chol missing" "$(q pbc.lumen "SELECT missing FROM columns WHERE dataset='visits' AND name='chol'")" 821
	eq "visits sorted by patient then day" \
		"$(q pbc.lumen 'SELECT count(*) FROM visits a JOIN visits b ON b.rowid = a.rowid + 1 WHERE b.__patient < a.__patient OR (b.__patient = a.__patient AND b.day < a.day)')" 0
	eq "visits point at the right patient" \
		"$(q pbc.lumen 'SELECT count(*) FROM visits v JOIN patients p ON p.rowid = v.__patient WHERE p.id <> v.id')" 0
	eq "pbc: sha256 recorded" "$(q pbc.lumen "SELECT sha256 FROM datasets WHERE name='patients'")" "$(sha256sum "$PBC" | cut -d' ' -f1)"
	eq "pbc: mode 0600" "$(stat -c %a pbc.lumen)" 600

	# visits out of order are stored sorted
	printf 'id,x\n1,a\n2,b\n3,c\n' >p3.csv
	printf 'visit,id,v\n5,2,x\n0,3,y\n2,2,z\n0,1,w\n1,2,u\n' >v3.csv
	run import p3.csv --visits v3.csv -o sorted.lumen
	eq "unsorted visits: exit 0" "$RC" 0
	eq "unsorted visits stored sorted" "$(q sorted.lumen "SELECT group_concat(__patient || ':' || visit || v, ' ') FROM visits")" "1:0w 2:1u 2:2z 2:5x 3:0y"
	eq "visits time role" "$(q sorted.lumen "SELECT role FROM columns WHERE dataset='visits' AND name='visit'")" time

	# a larger generated file: many batches, free text, distinct counts past the exact bound
	awk 'BEGIN { srand(42); print "id,x,word,code,flag"
		for (i = 1; i <= 6000; i++) {
			x = rand() < 0.1 ? "" : sprintf("%.4f", 100 * rand() - 50)
			printf "%d,%s,w%d,%d,%s\n", i, x, i, int(800 * rand()), rand() < 0.3 ? "yes" : "no"
		} }' >big.csv
	run import big.csv -o big.lumen
	eq "big: exit 0" "$RC" 0
	eq "big: rows" "$(q big.lumen 'SELECT count(*) FROM patients')" 6000
	eq "big: rows in CSV order" "$(q big.lumen 'SELECT count(*) FROM patients WHERE id <> rowid')" 0
	want=$(awk -F, 'NR > 1 && $2 != "" { s += $2; n++ } END { printf "%d %.4f", n, s }' big.csv)
	eq "big: x count and sum" "$(q big.lumen "SELECT count(x) || ' ' || printf('%.4f', sum(x)) FROM patients")" "$want"
	eq "big: x missing" "$(q big.lumen "SELECT missing FROM columns WHERE name='x'")" \
		"$(awk -F, 'NR > 1 && $2 == "" { n++ } END { print n }' big.csv)"
	eq "big: yes count" "$(q big.lumen 'SELECT sum(flag) FROM patients')" "$(grep -c ',yes$' big.csv)"
	eq "big: free text has no category list" "$(q big.lumen "SELECT type, quote(categories) FROM columns WHERE name='word'")" "text|NULL"
	eq "big: exact distinct under the bound" "$(q big.lumen "SELECT distinct_count FROM columns WHERE name='code'")" \
		"$(q big.lumen 'SELECT count(DISTINCT code) FROM patients')"
	# past 1000 distinct values the count is a HyperLogLog estimate (standard error 1.6%)
	near "big: estimated distinct words within 5%" "$(q big.lumen "SELECT distinct_count FROM columns WHERE name='word'")" 6000 300
	near "big: estimated distinct x within 5%" "$(q big.lumen "SELECT distinct_count FROM columns WHERE name='x'")" \
		"$(q big.lumen 'SELECT count(DISTINCT x) FROM patients')" 300
	run role big.lumen word id
	eq "role: an estimated distinct count is recounted before making an id" "$RC" 0

	# lumen role
	cp pbc.lumen role.lumen
	run role role.lumen bili target
	eq "role: exit 0" "$RC" 0
	eq "role: says what changed" "$OUT" "patients.bili: feature -> target"
	eq "role: stored" "$(q role.lumen "SELECT role FROM columns WHERE dataset='patients' AND name='bili'")" target
	run role role.lumen sex id
	eq "role: a non-unique id is refused (65)" "$RC" 65
	eq "role: refusal message" "$ERR" "lumen: role: column 'sex' cannot be the id: its values are not unique and complete"
	run role role.lumen nope target
	eq "role: unknown column (65)" "$RC" 65
	run role role.lumen bili boss
	eq "role: unknown role (64)" "$RC" 64
	run role role.lumen day feature --visits
	eq "role --visits" "$(q role.lumen "SELECT role FROM columns WHERE dataset='visits' AND name='day'")" feature
	eq "role: logged" "$(q role.lumen "SELECT count(*) FROM access_log WHERE action='role'")" 2
fi

# lumen info
"$LUMEN" import "$PBC" -o info.lumen --group sex >/dev/null
run info info.lumen
eq "info: exit 0" "$RC" 0
contains "info: dataset line" "$OUT" "patients  pbc.csv              1dbab06d2db2      418   20  2026-"
contains "info: sex summary" "$OUT" "sex              text    group           0        2  f 374, m 44"
contains "info: chol summary" "$OUT" "chol             integer feature       134      201  369.5 ± 231.9 [120, 1775]"
eq "info: fits in 80 columns" "$(printf '%s\n' "$OUT" | LC_ALL=C.UTF-8 wc -L)" 79
run info info.lumen --json
eq "info --json: exit 0" "$RC" 0
if /usr/bin/python3 -c 'import json' 2>/dev/null; then
	got=$(printf '%s' "$OUT" | /usr/bin/python3 -c 'import json,sys; d = json.load(sys.stdin)["datasets"][0]; c = {x["name"]: x for x in d["column_info"]}; print(d["rows"], c["chol"]["missing"], c["sex"]["categories"][1]["n"], c["sex"]["role"], round(c["bili"]["mean"], 6))')
	eq "info --json parses and holds the stats" "$got" "418 134 44 group 3.220813"
else
	skip "info --json parses" "no python3"
fi
contains "info --json: sex categories" "$OUT" '"value":	"m"'
run info pbc.lumen
contains "info: visits section" "$OUT" "day              integer time            0      991  1145 ± 1130 [0, 5152]"
run info nothere.lumen
eq "info: missing file exit 66" "$RC" 66
printf 'not a database at all, just text\n' >junk.lumen
run info junk.lumen
eq "info: not a workbench exit 65" "$RC" 65
run info --help
eq "info --help: exit 0" "$RC" 0
contains "info --help: usage" "$OUT" "Usage: lumen info"
run import --help
contains "import --help mentions --visits-time" "$OUT" "--visits-time"
echo "1..$T_N"
