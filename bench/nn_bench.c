/* nn_bench: speed of the engine on random data, for bench/bench_train.sh.
 *   nn_bench [ROWS [INPUTS]]     (defaults 100000 x 40)
 * Prints the OpenBLAS sgemm peak of this machine (a large square product), then for each
 * architecture (mlp batch 256 with 2 x 64; transformer d 32, 2 blocks, 4 heads, FFN 64;
 * logreg) one training epoch's samples/s and the GFLOP/s it reaches (nn_flops over the
 * time of the training steps) as a share of that peak, batched inference in microseconds a
 * patient, single-patient latency, and an IG-shaped pass (64 rows forward + input gradient
 * without weight gradients); for mlp and transformer also the training samples/s with 2
 * data-parallel threads (ARCH_dp2; OpenBLAS at one thread meanwhile); finally the peak RSS. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/nn/nn.h"

static double sgemm_peak(void)
{
	const int N = 1536;
	float *A = xmallocarray((size_t)N * N, sizeof *A), *B = xmallocarray((size_t)N * N, sizeof *B);
	float *C = xmallocarray((size_t)N * N, sizeof *C);
	for (size_t i = 0; i < (size_t)N * N; i++) {
		A[i] = (float)(i % 17) * 0.01f;
		B[i] = (float)(i % 13) * 0.01f;
	}
	double best = 0.0;
	for (int rep = 0; rep < 5; rep++) {
		double t = lm_seconds();
		nn_sgemm(0, 0, N, N, N, 1.0f, A, N, B, N, 0.0f, C, N);
		double g = 2.0 * N * N * (double)N / (lm_seconds() - t) / 1e9;
		best = g > best ? g : best;
	}
	free(A);
	free(B);
	free(C);
	return best;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100000, nin = argc > 2 ? atoi(argv[2]) : 40;
	if (n < 1000 || nin < 1) {
		fprintf(stderr, "usage: nn_bench [ROWS >= 1000 [INPUTS]]\n");
		return 64;
	}
	double peak = sgemm_peak();
	printf("sgemm_peak_gflops %.1f\n", peak);
	lm_rng r;
	rng_seed(&r, 1);
	float *X = xmallocarray((size_t)n * nin, sizeof *X), *y = xmallocarray((size_t)n, sizeof *y);
	for (int i = 0; i < n; i++) {
		double z = 0.0;
		for (int j = 0; j < nin; j++) {
			X[(size_t)i * nin + j] = (float)rng_normal(&r);
			z += (j % 3 == 0 ? 0.5 : 0.0) * (double)X[(size_t)i * nin + j];
		}
		y[i] = (float)(z + 0.5 * rng_normal(&r) > 0.0);
	}
	float *out = xmallocarray((size_t)n, sizeof *out);
	const nn_arch archs[] = {NN_MLP, NN_TRANSFORMER, NN_LOGREG};
	printf("%-12s %12s %9s %7s %14s %12s %12s\n", "arch", "train_smp/s", "GFLOP/s", "peak%",
	       "infer_us/pt", "single_us", "ig64_us/pt");
	for (size_t a = 0; a < sizeof archs / sizeof *archs; a++) {
		nn_spec s;
		nn_spec_defaults(&s, archs[a], nin, 1);
		lm_err err = {0};
		nn_model *m = nn_create(&s, 1, &err);
		nn_train_opts o;
		nn_train_defaults(&o, archs[a]);
		o.epochs = 1;
		o.val_frac = 0.0f;
		nn_train_result res;
		double f0 = nn_flops();
		if (nn_train(m, X, y, n, &o, &res, &err)) {
			fprintf(stderr, "nn_bench: %s\n", err.msg);
			return 70;
		}
		double gflops = (nn_flops() - f0) / ((double)n / res.samples_per_sec) / 1e9;
		/* batched inference over all rows */
		double t = lm_seconds();
		nn_predict(m, X, n, out);
		double infer = (lm_seconds() - t) / n * 1e6;
		/* single patient, as the TUI's what-if does */
		int reps = 2000;
		t = lm_seconds();
		for (int i = 0; i < reps; i++)
			nn_predict(m, X + (size_t)(i % n) * nin, 1, out);
		double single = (lm_seconds() - t) / reps * 1e6;
		/* IG shape: 64 interpolated rows of one patient, forward then input gradient. */
		float *lg = xmallocarray(64, sizeof *lg), *one = xmallocarray(64, sizeof *one);
		float *dX = xmallocarray((size_t)64 * nin, sizeof *dX);
		for (int i = 0; i < 64; i++)
			one[i] = 1.0f;
		int pts = 500;
		t = lm_seconds();
		for (int i = 0; i < pts; i++) {
			nn_forward(m, X + (size_t)(i * 64 % (n - 64)) * nin, 64, lg, 0, NULL);
			nn_backward(m, one, dX, 0);
		}
		double ig = (lm_seconds() - t) / pts * 1e6;
		printf("%-12s %12.0f %9.2f %6.1f%% %14.2f %12.1f %12.1f\n", nn_arch_name(archs[a]),
		       res.samples_per_sec, gflops, 100.0 * gflops / peak, infer, single, ig);
		free(lg);
		free(one);
		free(dX);
		nn_free(m);
		if (archs[a] != NN_LOGREG) {
			/* data-parallel: each of 2 threads half of every batch (nn_train_opts.threads) */
			m = nn_create(&s, 1, &err);
			o.threads = 2;
			f0 = nn_flops();
			if (nn_train(m, X, y, n, &o, &res, &err)) {
				fprintf(stderr, "nn_bench: %s\n", err.msg);
				return 70;
			}
			printf("%-12s %12.0f %9s %7s %14s %12s %12s\n",
			       archs[a] == NN_MLP ? "mlp_dp2" : "transformer_dp2", res.samples_per_sec, "-",
			       "-", "-", "-", "-");
			nn_free(m);
		}
	}
	printf("peak_rss_kb %ld\n", lm_peak_rss_kb());
	free(X);
	free(y);
	free(out);
	return 0;
}
