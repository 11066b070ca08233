/* gru_bench: speed of the GRU model on random visit sequences, for bench/bench_gru.sh.
 *   gru_bench [N [K [F [S [H [IG_PATIENTS [THREADS [ATTENTION]]]]]]]]
 *   (defaults 20000 16 11 30 32 2000 1 0; ATTENTION > 0: additive attention of that width)
 * N patients of S static inputs and K steps of F features (the last the present flag; each
 * patient 1..K visits, right-aligned), GRU of H units, head 64: one training epoch's
 * samples/s (batch 256, AdamW, no validation), and integrated gradients (64 Gauss steps,
 * batched, THREADS patient-parallel threads) in patients/s. The same sizes as
 * bench/torch_gru_twin.py --bench. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "../explain/ig.h"
#include "../src/nn/nn.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000, K = argc > 2 ? atoi(argv[2]) : 16;
	int F = argc > 3 ? atoi(argv[3]) : 11, S = argc > 4 ? atoi(argv[4]) : 30;
	int H = argc > 5 ? atoi(argv[5]) : 32, nig = argc > 6 ? atoi(argv[6]) : 2000;
	int threads = argc > 7 ? atoi(argv[7]) : 1, att = argc > 8 ? atoi(argv[8]) : 0;
	if (n < 256 || K < 1 || F < 2 || S < 0 || H < 1 || nig < 1 || threads < 1 || att < 0) {
		fprintf(stderr, "usage: gru_bench [N >= 256 [K [F >= 2 [S [H [IG_PATIENTS [THREADS "
				"[ATTENTION]]]]]]]]\n");
		return 64;
	}
	if (nig > n) /* the patients explained are among the N */
		nig = n;
	printf("setup: lumen, %s at %d thread(s), %d patient-parallel IG thread(s), "
	       "%d patients explained\n", openblas_get_config(), openblas_get_num_threads(), threads,
	       nig);
	int w = S + K * F;
	lm_rng r;
	rng_seed(&r, 1);
	float *X = xcalloc((size_t)n * w, sizeof *X), *y = xmallocarray((size_t)n, sizeof *y);
	for (int i = 0; i < n; i++) {
		float *x = X + (size_t)i * w;
		for (int s = 0; s < S; s++)
			x[s] = (float)rng_normal(&r);
		int nv = 1 + (int)rng_below(&r, (uint64_t)K);
		for (int t = K - nv; t < K; t++) {
			for (int f = 0; f < F - 1; f++)
				x[S + t * F + f] = (float)rng_normal(&r);
			x[S + t * F + F - 1] = 1.0f;
		}
		y[i] = rng_uniform(&r) < 0.3;
	}
	nn_spec s;
	nn_spec_defaults(&s, NN_GRU, w, 1);
	s.seq_steps = K;
	s.seq_feat = F;
	s.gru_hidden = H;
	s.attention = att;
	lm_err err = {0};
	nn_model *m = nn_create(&s, 1, &err);
	if (!m) {
		fprintf(stderr, "gru_bench: %s\n", err.msg);
		return 70;
	}
	nn_train_opts o;
	nn_train_defaults(&o, NN_GRU);
	o.epochs = 2;
	o.val_frac = 0;
	o.patience = 100;
	o.seed = 1;
	o.threads = threads;
	nn_train_result res;
	if (nn_train(m, X, y, n, &o, &res, &err)) {
		fprintf(stderr, "gru_bench: %s\n", err.msg);
		return 70;
	}
	printf("lumen_gru_train_smp_s %.0f (%d threads)\n", res.samples_per_sec, threads);
	float *base = xcalloc((size_t)w, sizeof *base);
	for (int i = 0; i < nig; i++)
		for (int j = 0; j < w; j++)
			base[j] += X[(size_t)i * w + j] / (float)nig;
	ig_opts io;
	ig_opts_defaults(&io);
	io.threads = threads;
	if (getenv("IG_CHUNK"))
		io.chunk_rows = atoi(getenv("IG_CHUNK"));
	float *attr = xmallocarray((size_t)nig * w, sizeof *attr), *lg = xmallocarray((size_t)nig, sizeof *lg);
	float *dl = xmallocarray((size_t)nig, sizeof *dl);
	double t = lm_seconds();
	if (ig_batch(m, X, nig, base, &io, attr, lg, NULL, dl, NULL, NULL, NULL, &err)) {
		fprintf(stderr, "gru_bench: %s\n", err.msg);
		return 70;
	}
	double sec = lm_seconds() - t;
	double dmax = 0;
	for (int i = 0; i < nig; i++)
		dmax = (double)dl[i] > dmax ? (double)dl[i] : dmax;
	printf("lumen_gru_ig_pat_s %.1f (%d threads; 64 Gauss steps; max completeness error %.2g)\n",
	       nig / sec, threads, dmax);
	free(X);
	free(y);
	free(base);
	free(attr);
	free(lg);
	free(dl);
	nn_free(m);
	return 0;
}
