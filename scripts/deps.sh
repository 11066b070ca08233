#!/bin/sh
# Installs the Debian packages lumen needs to build and test, and nothing when all are present.
# Uses sudo only when not root. Optional oracles are installed when asked and skipped with a
# message if the archive does not have them: LUMEN_ORACLES=test (make test: xmllint and script(1)
# for the HTML and terminal checks, scikit-learn, R's survival, MASS, mlbench, riskRegression and
# pec for the tests that compare with them or read their cohorts), LUMEN_ORACLES=bench (make
# bench: PyTorch too).
set -eu
need="libcsv-dev libsqlite3-dev libopenblas-dev liblua5.4-dev libncurses-dev libcmocka-dev
libcjson-dev pkg-config sqlite3 tmux make gcc"
case "${LUMEN_ORACLES:-}" in
  test) opt="libxml2-utils bsdextrautils python3-sklearn r-cran-survival r-cran-mass r-cran-mlbench r-cran-riskregression r-cran-pec r-cran-timereg" ;;
  bench) opt="libxml2-utils bsdextrautils python3-sklearn r-cran-survival r-cran-mass r-cran-mlbench python3-torch python3-numpy" ;;
  *) opt="" ;;
esac
missing=""
for p in $need $opt; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
req=""
for p in $missing; do case " $need " in *" $p "*) req="$req $p";; esac; done
[ -n "$req" ] && $sudo apt-get install -y -qq --no-install-recommends $req >/dev/null
for p in $missing; do
  case " $need " in *" $p "*) ;; *)
    $sudo apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
      echo "deps: optional $p not installed; tests that need it will skip" >&2;;
  esac
done
exit 0
