#!/bin/sh
# Engine speed (bench/nn_bench.c) beside PyTorch (bench/torch_ref.py) in the same run:
# training samples/s for mlp (batch 256, 2 x 64), transformer (d 32, 2 blocks, 4 heads,
# FFN 64) and logreg on ROWS x 40 random inputs, inference us a patient, the sgemm peak
# and the share of it a training step reaches, peak RSS. Both sides use two threads.
# Goals: mlp >= 2x PyTorch's training throughput, transformer >= 1x.
set -u
top=${LUMEN_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
out=${BENCH_OUT:-$top/bench/out}
mkdir -p "$out"
rows=100000
[ "${BENCH_SCALE:-}" = small ] && rows=10000
cd "$top" || exit 70
make -s build/bench/nn_bench >/dev/null || { echo "bench_train: cannot build nn_bench"; exit 70; }
OPENBLAS_NUM_THREADS=2 build/bench/nn_bench "$rows" 40 | tee "$out/train_lumen.txt"
echo
if [ -x /usr/bin/python3 ]; then
	OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_ref.py "$rows" 40 | tee "$out/train_torch.txt"
else
	echo "PyTorch reference skipped: /usr/bin/python3 is absent" | tee "$out/train_torch.txt"
fi
echo
for arch in mlp transformer logreg; do
	l=$(awk -v a="$arch" '$1 == a { print $2 }' "$out/train_lumen.txt")
	t=$(awk -v a="$arch" '$1 == "torch" && $2 == a { print $3 }' "$out/train_torch.txt")
	li=$(awk -v a="$arch" '$1 == a { print $5 }' "$out/train_lumen.txt")
	ti=$(awk -v a="$arch" '$1 == "torch" && $2 == a { print $4 }' "$out/train_torch.txt")
	if [ -n "$t" ] && [ -n "$l" ]; then
		awk -v a="$arch" -v l="$l" -v t="$t" -v li="$li" -v ti="$ti" 'BEGIN {
			printf "%-12s training %10.0f samples/s vs PyTorch %10.0f: x%.2f   inference %.2f vs %.2f us/patient: x%.2f\n",
			       a, l, t, l / t, li, ti, ti / li }'
	else
		echo "$arch: lumen $l samples/s (no PyTorch figure)"
	fi
done
