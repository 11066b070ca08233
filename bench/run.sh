#!/bin/sh
# make bench: every bench/bench_*.sh in turn. Each prints its figures beside a baseline
# measured in the same run. BENCH='pattern' runs only matching scripts; BENCH_SCALE=small
# uses smaller inputs for a quick look.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export LUMEN="${LUMEN:-$top/build/lumen}" LUMEN_TOP="$top"
export BENCH_OUT="${BENCH_OUT:-$top/bench/out}"
mkdir -p "$BENCH_OUT"
echo "lumen bench on $(uname -m), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
for b in "$top"/bench/bench_*.sh; do
	[ -f "$b" ] || continue
	n=$(basename "$b" .sh)
	if [ -n "${BENCH:-}" ]; then case "$n" in *$BENCH*) ;; *) continue;; esac; fi
	echo
	echo "== ${n#bench_} =="
	sh "$b" || echo "(${n} failed with status $?)"
done
