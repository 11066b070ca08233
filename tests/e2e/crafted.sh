# Crafted workbench files: a good file edited with sqlite3 (out-of-range rowids, NULL metadata,
# model inputs naming missing columns, tensors of the wrong size, non-finite predictions,
# triggers and views lumen did not create), each opened by every command that reads it.
# Each must be refused with one line and status 65 (no crash, no hang, nothing written).
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/lua/workbench.bash"
make_wb "$T/good.lumen" 40
"$LUMEN" train "$T/good.lumen" --model logreg --target status --positive 2 --name lr --folds 2 \
	--epochs 5 --seed 1 --features age,bili,sex >/dev/null 2>&1
eq "good file: trained" "$?" 0
"$LUMEN" explain "$T/good.lumen" --model lr --steps 8 --quiet >/dev/null 2>&1
eq "good file: explained" "$?" 0

# NAME|SQL|the reason the one-line message must contain|the commands that read what was
# crafted (all: every command, since the file is checked when opened); the others must work
cases=$(cat <<'CASES'
neg_rowid|UPDATE patients SET rowid = -5 WHERE rowid = 1|patients.rowid|all
huge_rowid|UPDATE patients SET rowid = 9000000000000000 WHERE rowid = 2|patients.rowid|all
zero_rowid|UPDATE patients SET rowid = 0 WHERE rowid = 3|patients.rowid|all
null_name|CREATE TABLE c2 AS SELECT * FROM columns; DROP TABLE columns; ALTER TABLE c2 RENAME TO columns; UPDATE columns SET name = NULL WHERE name = 'age'|columns|all
null_type|CREATE TABLE c2 AS SELECT * FROM columns; DROP TABLE columns; ALTER TABLE c2 RENAME TO columns; UPDATE columns SET type = NULL WHERE name = 'bili'|columns|all
null_role|CREATE TABLE c2 AS SELECT * FROM columns; DROP TABLE columns; ALTER TABLE c2 RENAME TO columns; UPDATE columns SET role = NULL WHERE name = 'sex'|columns|all
bad_type|UPDATE columns SET type = 'blob' WHERE name = 'bili'|columns|all
bad_role|UPDATE columns SET role = 'boss' WHERE name = 'bili'|columns|all
ghost_column|INSERT INTO columns(dataset, position, name, type, role) VALUES('patients', 99, 'ghost', 'real', 'feature')|ghost|all
dup_column|CREATE TABLE c2 AS SELECT * FROM columns; DROP TABLE columns; ALTER TABLE c2 RENAME TO columns; INSERT INTO columns SELECT * FROM columns WHERE name = 'age'|columns|all
input_missing|UPDATE model_inputs SET source_column = 'nope' WHERE slot = 0|nope|all
inputs_json_missing|UPDATE models SET inputs = replace(inputs, '"age"', '"nope"')|nope|all
tensor_short|UPDATE model_tensors SET data = zeroblob(3) WHERE name NOT LIKE 'input.%' AND member = -1|tensor|predict explain
tensor_inf|UPDATE model_tensors SET data = X'0000807F' WHERE name = 'b' AND member = -1|model|predict explain
p_inf|UPDATE predictions SET p = 1e999 WHERE patient = 1|prediction|all
p_neg|UPDATE predictions SET p = -0.5 WHERE patient = 2|prediction|all
p_text|UPDATE predictions SET p = 'high' WHERE patient = 3|prediction|all
pred_rowid|UPDATE predictions SET patient = -7 WHERE patient = 4|prediction|all
value_inf|UPDATE patients SET bili = 1e999 WHERE rowid = 5|finite|predict explain query report
value_inf_time|UPDATE patients SET time = -1e999 WHERE rowid = 5|finite|predict survival query report
center_inf|UPDATE model_inputs SET center = 1e999 WHERE slot = 1|model|all
value_text|UPDATE patients SET age = 'old' WHERE rowid = 6|number|predict explain query report
attr_short|UPDATE attributions SET columns = zeroblob(1), slots = zeroblob(1) WHERE patient = 1|attribution|-
trigger|CREATE TRIGGER t AFTER INSERT ON access_log BEGIN DELETE FROM access_log; END|trigger|all
view|CREATE VIEW v AS SELECT * FROM patients|view|all
no_meta|DROP TABLE meta|not a lumen workbench file|all
CASES
)

cmds=$(cat <<'CMDS'
info FILE
models FILE
predict FILE --model lr
explain FILE --model lr --patient 1
audit FILE --model lr --by sex
survival FILE --time time --event status=2
query FILE --where age>50 --count
report FILE cohort_summary
tui FILE --headless --dump
CMDS
)

# the good file works with every command
while read -r -a argv; do
	argv=("${argv[@]/FILE/$T/good.lumen}")
	[ "${argv[0]}" = query ] && argv[3]='age > 50'
	timeout 60 "$LUMEN" "${argv[@]}" >/dev/null 2>"$T/err" </dev/null
	eq "good file × ${argv[0]}: status 0" "$?" 0
done <<<"$cmds"

while IFS='|' read -r name sql want refuse; do
	f=$T/$name.lumen
	cp "$T/good.lumen" "$f"
	sqlite3 "$f" "$sql" || { not_ok "$name: crafting"; continue; }
	sum=$(sqlite3 "$f" 'SELECT count(*) FROM access_log')
	while read -r -a argv; do
		argv=("${argv[@]/FILE/$f}")
		[ "${argv[0]}" = query ] && argv[3]='age > 50'
		timeout 60 "$LUMEN" "${argv[@]}" >"$T/out" 2>"$T/err" </dev/null
		rc=$?
		err=$(cat "$T/err")
		what="$name × ${argv[0]}"
		case " $refuse " in *" all "* | *" ${argv[0]} "*) ;; *)
			eq "$what: works (status 0)" "$rc" 0
			continue ;;
		esac
		eq "$what: status 65" "$rc" 65
		eq "$what: one line" "$(wc -l <"$T/err" | tr -d ' ')" 1
		contains "$what: names the cause" "$err" "$want"
		eq "$what: nothing on stdout" "$(wc -c <"$T/out" | tr -d ' ')" 0
	done <<<"$cmds"
done <<<"$cases"
