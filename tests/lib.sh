# tests/lib.sh: TAP helpers for command tests; source it from a bash test script.
#   ok DESC / not_ok DESC / skip DESC REASON
#   check DESC CMD...          ok when CMD succeeds
#   eq DESC GOT WANT           ok when the strings are equal (shows both otherwise)
#   near DESC GOT WANT TOL     ok when |GOT - WANT| <= TOL (numbers)
#   contains DESC HAYSTACK NEEDLE
#   run ARGS...                runs "$LUMEN ARGS" and sets OUT, ERR, RC
#   wellformed DESC FILE       ok when xmllint finds FILE well-formed (skip without xmllint)
#   T                          a fresh scratch directory, removed at exit
set -u
T_N=0
LUMEN=${LUMEN:-$LUMEN_TOP/build/lumen}
TOP=${LUMEN_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# Test data lives in the repository (sample_data/): nothing a test runs reads outside it.
DATA=$TOP/sample_data
T=$(mktemp -d "${TMPDIR:-/tmp}/lumen-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
export LUMEN_FIXED_TIME=1795000000 LUMEN_USER=tester NO_COLOR=1

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); echo "not ok $T_N - $*"; }
skip() { T_N=$((T_N + 1)); echo "ok $T_N - $1 # SKIP $2"; }
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; echo "#   command failed: $*"; fi
}
eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		not_ok "$1"
		echo "#   got:  $(printf '%s' "$2" | head -c 2000)"
		echo "#   want: $(printf '%s' "$3" | head -c 2000)"
	fi
}
near() {
	if awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(g != "" && d <= t) }'; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   got $2, want $3 within $4"
	fi
}
contains() {
	case "$2" in *"$3"*) ok "$1" ;; *)
		not_ok "$1"
		echo "#   text:    $(printf '%s' "$2" | head -c 2000)"
		echo "#   missing: $3" ;;
	esac
}
wellformed() {
	if command -v xmllint >/dev/null 2>&1; then
		check "$1" xmllint --noout "$2"
	else
		skip "$1" "xmllint is not installed (Debian libxml2-utils)"
	fi
}
run() {
	OUT=$("$LUMEN" "$@" 2>"$T/.stderr")
	RC=$?
	ERR=$(cat "$T/.stderr")
}
