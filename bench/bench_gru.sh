#!/bin/sh
# GRU speed (bench/gru_bench.c) beside a PyTorch GRU of the same size (bench/torch_gru_twin.py
# --bench) in the same run: N patients, 30 static inputs, the last 16 visits of 11 features
# (each patient 1..16 visits), GRU of 32 units, head 64, batch 256, AdamW; training
# samples/s of one epoch, and integrated gradients (64 Gauss-Legendre steps, batched) in
# patients/s. lumen: OpenBLAS at one thread, the faster of 1 and 2 patient-parallel IG
# threads; PyTorch in the fair set-up of bench/torch_setup.py (OpenBLAS at 1 thread, the faster
# of 1 and 2 torch threads), printed with its figures. The two sides take turns, three
# rounds (BENCH_ROUNDS), and each keeps its best figure: the machine's speed drifts by a
# third from minute to minute on a shared host, and the turns give both the same drift.
# Goals (issue 16): training >= 2x PyTorch, IG >= 5x.
set -u
top=${LUMEN_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
out=${BENCH_OUT:-$top/bench/out}
mkdir -p "$out"
n=20000 nig=2000
[ "${BENCH_SCALE:-}" = small ] && n=4000 nig=500
cd "$top" || exit 70
make -s build/bench/gru_bench >/dev/null || { echo "bench_gru: cannot build gru_bench"; exit 70; }
: >"$out/gru_lumen.txt"
: >"$out/gru_torch.txt"
torch=yes
[ -x /usr/bin/python3 ] || { torch=; echo "PyTorch reference skipped: /usr/bin/python3 is absent"; }
r=0
while [ "$r" -lt "${BENCH_ROUNDS:-3}" ]; do
	r=$((r + 1))
	for th in 1 2; do
		OPENBLAS_NUM_THREADS=1 build/bench/gru_bench "$n" 16 11 30 32 "$nig" "$th" | sed "s/\$/ round $r/" |
			tee -a "$out/gru_lumen.txt"
	done
	[ -n "$torch" ] || continue
	(cd bench && /usr/bin/python3 torch_gru_twin.py --bench --n "$n" --K 16 --F 11 --S 30 --hidden 32 \
		--head 64 --ig-patients "$nig") | sed "s/\$/ round $r/" | tee -a "$out/gru_torch.txt"
done
[ -n "$torch" ] || exit 0
lt=$(awk '$1 == "lumen_gru_train_smp_s" && $2 > m { m = $2 } END { print m }' "$out/gru_lumen.txt")
li=$(awk '$1 == "lumen_gru_ig_pat_s" && $2 > m { m = $2 } END { print m }' "$out/gru_lumen.txt")
tt=$(awk '$1 == "torch_gru_train_smp_s" && $2 > m { m = $2 } END { print m }' "$out/gru_torch.txt")
ti=$(awk '$1 == "torch_gru_ig_pat_s" && $2 > m { m = $2 } END { print m }' "$out/gru_torch.txt")
echo "best of $r rounds each:"
awk -v l="$lt" -v t="$tt" 'BEGIN { printf "gru training %10.0f samples/s vs PyTorch %10.0f: x%.2f (goal 2x)\n", l, t, l / t }'
awk -v l="$li" -v t="$ti" 'BEGIN { printf "gru IG       %10.1f patients/s vs PyTorch %10.1f: x%.2f (goal 5x)\n", l, t, l / t }'
