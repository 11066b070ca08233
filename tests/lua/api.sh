# The lumen.* API, checked by assertions in tests/lua/api_test.lua against counts computed
# with sqlite3 on the same workbench.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/workbench.bash"
make_wb "$T/wb.lumen" 30
q() { sqlite3 "$T/wb.lumen" "$1"; }
n_age=$(q "SELECT count(*) FROM patients WHERE age > 50")
n_fbili=$(q "SELECT count(*) FROM patients WHERE sex = 'f' AND bili > 2")
n_nochol=$(q "SELECT count(*) FROM patients WHERE chol IS NULL")
eq "oracle counts" "$n_age $n_fbili $n_nochol" "21 14 1"
run report "$T/wb.lumen" "$TOP/tests/lua/api_test.lua" "$n_age" "$n_fbili" "$n_nochol" 30
eq "api_test.lua: status" "$RC" 0
eq "api_test.lua: no error" "$ERR" ""
eq "api_test.lua: reached its end" "$OUT" "api ok"
