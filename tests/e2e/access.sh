# A busy file says so; what is shown is logged first (or nothing is shown); stale temporary
# files of killed runs are removed on the next run; outputs with patient data are 0600.
source "$(dirname "$0")/../lib.sh"
source "$TOP/tests/lua/workbench.bash"
make_wb "$T/wb.lumen" 30
"$LUMEN" train "$T/wb.lumen" --model logreg --target status --positive 2 --name lr --folds 2 \
	--epochs 5 --seed 1 --features age,bili,sex >/dev/null 2>&1
eq "trained" "$?" 0
nlog() { sqlite3 "$T/wb.lumen" 'SELECT count(*) FROM access_log'; }

# hold a lock from another connection for a few seconds: LOCK is EXCLUSIVE (nobody reads)
# or IMMEDIATE (readers read, writers wait)
hold() {
	python3 - "$T/wb.lumen" "$1" "$T/held" <<'PY' &
import sqlite3, sys, time, os
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN " + sys.argv[2])
if sys.argv[2] == "EXCLUSIVE":
    c.execute("INSERT INTO meta(key, value) VALUES('lock', 'held')")
open(sys.argv[3], "w").close()
time.sleep(13)
c.execute("ROLLBACK")
PY
	HOLDER=$!
	for _ in $(seq 100); do [ -e "$T/held" ] && break; sleep 0.1; done
}
release() { wait "$HOLDER"; rm -f "$T/held"; }

if command -v python3 >/dev/null; then
	hold EXCLUSIVE
	run info "$T/wb.lumen"
	eq "busy at open: status 75" "$RC" 75
	eq "busy at open: the message" "$ERR" "lumen: info: $T/wb.lumen is busy: another lumen command is writing it"
	release
	before=$(nlog)
	hold IMMEDIATE
	run explain "$T/wb.lumen" --model lr --patient 1
	eq "explain --patient on a busy file: status 75" "$RC" 75
	contains "explain --patient on a busy file: says busy" "$ERR" "is busy: another lumen command is writing it"
	eq "explain --patient on a busy file: nothing shown" "$OUT" ""
	run predict "$T/wb.lumen" --model lr
	eq "predict on a busy file: status 75" "$RC" 75
	eq "predict on a busy file: nothing shown" "$OUT" ""
	release
	eq "busy: nothing logged, nothing shown" "$(nlog)" "$before"
else
	skip "busy files" "python3 is not installed"
fi
run explain "$T/wb.lumen" --model lr --patient 1
eq "explain --patient: status" "$RC" 0
eq "explain --patient: logged" "$(sqlite3 "$T/wb.lumen" "SELECT action, patient FROM access_log ORDER BY id DESC LIMIT 1")" "explain|1"

# a read-only file (not for root, who writes anyway)
if [ "$(id -u)" != 0 ]; then
	cp "$T/wb.lumen" "$T/ro.lumen"
	chmod 444 "$T/ro.lumen"
	run explain "$T/ro.lumen" --model lr --patient 1
	eq "explain --patient read-only: status 74" "$RC" 74
	eq "explain --patient read-only: nothing shown" "$OUT" ""
	run predict "$T/ro.lumen" --model lr
	eq "predict read-only: status 74" "$RC" 74
	eq "predict read-only: nothing shown" "$OUT" ""
else
	skip "read-only files" "running as root, for whom a 0444 file is writable"
fi

# stale temporary files: a dead process's are removed (one line each), a live one's stay
sh -c 'exit 0' &
dead=$!
wait "$dead"
printf 'rows' >"$T/.wb.lumen.tmp-$dead"
printf 'rows' >"$T/.wb.lumen.tmp-$$"
printf 'report' >"$T/wb.lumen.tmp.$dead"
run info "$T/wb.lumen"
eq "stale: info works" "$RC" 0
check "stale: the dead import's file is gone" test ! -e "$T/.wb.lumen.tmp-$dead"
check "stale: the dead report's file is gone" test ! -e "$T/wb.lumen.tmp.$dead"
check "stale: a running process's file stays" test -e "$T/.wb.lumen.tmp-$$"
contains "stale: said so" "$ERR" "lumen: info: removed $T/.wb.lumen.tmp-$dead, left by process $dead that is no longer running"
eq "stale: one line per file" "$(printf '%s\n' "$ERR" | grep -c removed)" 2
head -n 11 "$DATA/pbc.csv" >"$T/p.csv"
printf 'rows' >"$T/.new.lumen.tmp-$dead"
run import "$T/p.csv" -o "$T/new.lumen"
eq "stale before import: status" "$RC" 0
check "stale before import: removed" test ! -e "$T/.new.lumen.tmp-$dead"

# outputs holding patient data are 0600
umask 022
"$LUMEN" report "$T/wb.lumen" cohort_summary -o "$T/out.md" >/dev/null 2>&1
eq "report output: mode 600" "$(stat -c %a "$T/out.md")" 600
"$LUMEN" predict "$T/wb.lumen" --model lr --csv "$T/pred.csv" >/dev/null 2>&1
eq "predict --csv: mode 600" "$(stat -c %a "$T/pred.csv")" 600
eq "predict --csv: rows" "$(wc -l <"$T/pred.csv" | tr -d ' ')" 31
