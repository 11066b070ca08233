/* Unit tests for training (src/nn/train.c): logreg reaches the penalised maximum-likelihood
 * coefficients (Newton's method in double here, and scikit-learn when Debian's python3 has
 * it), an MLP and a transformer learn an interaction that logreg cannot, the same seed gives
 * bit-identical weights, divergence is caught with the epoch named, early stopping restores
 * the best epoch. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cblas.h>
#include <cmocka.h>

#include "../../src/nn/nn.h"

#pragma GCC diagnostic ignored "-Wdouble-promotion"

/* AUC by counting pairs (n^2, fine for a test): ties count one half. */
static double auc(const float *score, const float *y, int n)
{
	double num = 0, den = 0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			if (y[i] > 0.5f && y[j] < 0.5f) {
				den += 1;
				num += score[i] > score[j] ? 1.0 : score[i] == score[j] ? 0.5 : 0.0;
			}
	return num / den;
}

/* Logistic data: 3 inputs, y ~ Bernoulli(sigmoid(1.5 x0 - x1 + 0.5 x2 - 0.25)). */
#define LN 400
#define LK 3
static void logistic_data(float *X, float *y)
{
	lm_rng r;
	rng_seed(&r, 2024);
	for (int i = 0; i < LN; i++) {
		for (int j = 0; j < LK; j++)
			X[i * LK + j] = (float)rng_normal(&r);
		double z = 1.5 * X[i * LK] - X[i * LK + 1] + 0.5 * X[i * LK + 2] - 0.25;
		y[i] = rng_uniform(&r) < 1 / (1 + exp(-z)) ? 1.0f : 0.0f;
	}
}

/* Newton's method in double for min mean BCE + 0.5 l2 |w|^2 (b unpenalised): the exact optimum
 * to 1e-12, independent of the engine. */
static void newton_logreg(const float *X, const float *y, double l2, double *wb)
{
	memset(wb, 0, (LK + 1) * sizeof *wb);
	for (int it = 0; it < 50; it++) {
		double g[LK + 1] = {0}, H[LK + 1][LK + 1] = {{0}};
		for (int i = 0; i < LN; i++) {
			double xi[LK + 1], z = 0;
			for (int j = 0; j < LK; j++)
				xi[j] = X[i * LK + j];
			xi[LK] = 1;
			for (int j = 0; j <= LK; j++)
				z += wb[j] * xi[j];
			double p = 1 / (1 + exp(-z));
			for (int a = 0; a <= LK; a++) {
				g[a] += (p - y[i]) * xi[a] / LN;
				for (int b = 0; b <= LK; b++)
					H[a][b] += p * (1 - p) * xi[a] * xi[b] / LN;
			}
		}
		for (int j = 0; j < LK; j++) {
			g[j] += l2 * wb[j];
			H[j][j] += l2;
		}
		/* solve H d = g by Gaussian elimination (4 x 4, positive definite) */
		for (int c = 0; c <= LK; c++)
			for (int rr = c + 1; rr <= LK; rr++) {
				double f = H[rr][c] / H[c][c];
				for (int k = c; k <= LK; k++)
					H[rr][k] -= f * H[c][k];
				g[rr] -= f * g[c];
			}
		double d[LK + 1];
		for (int c = LK; c >= 0; c--) {
			double s = g[c];
			for (int k = c + 1; k <= LK; k++)
				s -= H[c][k] * d[k];
			d[c] = s / H[c][c];
		}
		for (int j = 0; j <= LK; j++)
			wb[j] -= d[j];
	}
}

/* scikit-learn's LogisticRegression on the same rows, with C = 1 / (n l2) (its objective is
 * C sum BCE + 0.5 |w|^2, ours is mean BCE + 0.5 l2 |w|^2). Returns 0 and fills wb, or -1 when
 * /usr/bin/python3 or scikit-learn is absent. */
static int sklearn_logreg(const float *X, const float *y, double l2, double *wb)
{
	if (access("/usr/bin/python3", X_OK))
		return -1;
	char path[] = "/tmp/lumen-nn-sk-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	FILE *f = fdopen(fd, "w");
	for (int i = 0; i < LN; i++)
		fprintf(f, "%.9g,%.9g,%.9g,%g\n", X[i * LK], X[i * LK + 1], X[i * LK + 2], y[i]);
	fclose(f);
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "/usr/bin/python3 -c \"\n"
		 "import sys\n"
		 "try:\n"
		 "  import numpy as np; from sklearn.linear_model import LogisticRegression\n"
		 "except ImportError:\n"
		 "  sys.exit(3)\n"
		 "d = np.loadtxt('%s', delimiter=',')\n"
		 "m = LogisticRegression(C=1/(%d*%.17g), tol=1e-12, max_iter=10000).fit(d[:, :3], d[:, 3])\n"
		 "print(' '.join('%%.10f' %% v for v in list(m.coef_[0]) + [m.intercept_[0]]))\n"
		 "\" 2>/dev/null",
		 path, LN, l2);
	FILE *p = popen(cmd, "r");
	int got = p ? fscanf(p, "%lf %lf %lf %lf", &wb[0], &wb[1], &wb[2], &wb[3]) : 0;
	int rc = p ? pclose(p) : -1;
	unlink(path);
	return got == 4 && rc == 0 ? 0 : -1;
}

/* nn_train on a logreg model solves it (nn_logreg_fit, Newton in double): every coefficient
 * equals this test's own double Newton solution and scikit-learn's within 1e-6 (float
 * storage), whatever the epochs and batch say. The kept values were printed by scikit-learn 1.2.1 (lbfgs, tol 1e-12) on these rows and
 * agree with the Newton solution to 5e-7. */
static void test_logreg_matches_optimum(void **state)
{
	(void)state;
	static float X[LN * LK], y[LN];
	logistic_data(X, y);
	const double l2 = 1e-2;
	double newton[LK + 1], sk[LK + 1];
	newton_logreg(X, y, l2, newton);
	const double kept[LK + 1] = {1.1364234101, -0.8922537368, 0.4018152115, -0.2917759270};
	print_message("# newton: %.10f %.10f %.10f %.10f\n", newton[0], newton[1], newton[2],
		      newton[3]);
	for (int j = 0; j <= LK; j++)
		assert_float_equal(newton[j], kept[j], 1e-6);
	if (sklearn_logreg(X, y, l2, sk) == 0) {
		print_message("# sklearn: %.10f %.10f %.10f %.10f\n", sk[0], sk[1], sk[2], sk[3]);
		for (int j = 0; j <= LK; j++)
			assert_float_equal(sk[j], newton[j], 1e-5);
	} else {
		print_message("# scikit-learn (Debian's /usr/bin/python3) absent: compared with the "
			      "kept numbers only\n");
	}
	nn_spec s;
	nn_spec_defaults(&s, NN_LOGREG, LK, 1);
	s.l2 = (float)l2;
	lm_err err = {0};
	nn_model *m = nn_create(&s, 1, &err);
	nn_train_opts o;
	nn_train_defaults(&o, NN_LOGREG);
	o.epochs = 3000;
	o.batch = LN;
	o.val_frac = 0.0f;
	o.patience = 3000;
	nn_train_result res;
	assert_int_equal(nn_train(m, X, y, LN, &o, &res, &err), 0);
	const float *w = nn_tensor_data(m, 0), *b = nn_tensor_data(m, 1);
	for (int j = 0; j < LK; j++)
		assert_float_equal(w[j], newton[j], 1e-6);
	assert_float_equal(b[0], newton[LK], 1e-6);
	assert_true(res.epochs_run >= 3 && res.epochs_run <= 12); /* Newton iterations */

	nn_free(m);
}

/* logreg with its rows split over threads (nn_logreg_fit, o.threads): 6000 rows, so 2 and 3
 * threads all work; the coefficients of 1, 2 and 3 threads agree to 1e-6 and each is the
 * optimum: the penalised gradient, recomputed here in double, is below 1e-6. */
static void test_logreg_threads(void **state)
{
	(void)state;
	enum { N = 6000, D = 5 };
	static float X[N * D], y[N];
	lm_rng r;
	rng_seed(&r, 11);
	for (int i = 0; i < N; i++) {
		double z = 0.3;
		for (int j = 0; j < D; j++) {
			X[i * D + j] = (float)rng_normal(&r);
			z += (j - 2) * 0.4 * X[i * D + j];
		}
		y[i] = rng_uniform(&r) < 1 / (1 + exp(-z)) ? 1.0f : 0.0f;
	}
	float wt[3][D + 1];
	for (int T = 1; T <= 3; T++) {
		nn_spec s;
		nn_spec_defaults(&s, NN_LOGREG, D, 1);
		s.l2 = 1e-2f;
		lm_err err = {0};
		nn_model *m = nn_create(&s, 1, &err);
		nn_train_opts o;
		nn_train_defaults(&o, NN_LOGREG);
		o.threads = T;
		assert_int_equal(nn_train(m, X, y, N, &o, NULL, &err), 0);
		const float *w = nn_tensor_data(m, 0), *b = nn_tensor_data(m, 1);
		double g[D + 1] = {0};
		for (int i = 0; i < N; i++) {
			double z = b[0];
			for (int j = 0; j < D; j++)
				z += (double)w[j] * X[i * D + j];
			double e = 1 / (1 + exp(-z)) - y[i];
			for (int j = 0; j < D; j++)
				g[j] += e * X[i * D + j] / N;
			g[D] += e / N;
		}
		for (int j = 0; j <= D; j++) {
			double gj = g[j] + (j < D ? (double)s.l2 * w[j] : 0.0);
			assert_true(fabs(gj) < 1e-6);
			wt[T - 1][j] = j < D ? w[j] : b[0];
		}
		nn_free(m);
	}
	for (int T = 1; T < 3; T++)
		for (int j = 0; j <= D; j++)
			assert_float_equal(wt[T][j], wt[0][j], 1e-6);
}

/* XOR-like: y = [x0 x1 > 0] on x uniform in [-1, 1]^2 plus two noise inputs. logreg cannot
 * (AUC near 0.5: below 0.65), mlp and transformer can (AUC above 0.95 on fresh data). */
static void xor_data(lm_rng *r, float *X, float *y, int n)
{
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < 4; j++)
			X[i * 4 + j] = (float)(2 * rng_uniform(r) - 1);
		y[i] = X[i * 4] * X[i * 4 + 1] > 0 ? 1.0f : 0.0f;
	}
}

static int xor_threads = 1; /* nn_train_opts.threads of train_xor */

static double train_xor(nn_arch arch, int n_epochs)
{
	enum { N = 1200, NT = 400 };
	static float X[N * 4], y[N], Xt[NT * 4], yt[NT], pt[NT];
	lm_rng r;
	rng_seed(&r, 77);
	xor_data(&r, X, y, N);
	xor_data(&r, Xt, yt, NT);
	nn_spec s;
	nn_spec_defaults(&s, arch, 4, 1);
	s.dropout = 0.0f;
	if (arch == NN_TRANSFORMER) {
		s.d_model = 16;
		s.d_ffn = 32;
	}
	lm_err err = {0};
	nn_model *m = nn_create(&s, 3, &err);
	nn_train_opts o;
	nn_train_defaults(&o, arch);
	o.epochs = n_epochs;
	o.batch = 64;
	o.lr = arch == NN_LOGREG ? 1e-2f : 3e-3f;
	o.patience = 20;
	o.threads = xor_threads;
	nn_train_result res;
	assert_int_equal(nn_train(m, X, y, N, &o, &res, &err), 0);
	nn_predict(m, Xt, NT, pt);
	double a = auc(pt, yt, NT);
	print_message("# %s: test AUC %.3f after %d epochs (best %d)\n", nn_arch_name(arch), a,
		      res.epochs_run, res.best_epoch);
	nn_free(m);
	return a;
}

static void test_xor(void **state)
{
	(void)state;
	assert_true(train_xor(NN_LOGREG, 60) < 0.65);
	assert_true(train_xor(NN_MLP, 150) > 0.95);
	assert_true(train_xor(NN_TRANSFORMER, 60) > 0.95);
}

/* Same seed and OpenBLAS thread count: bit-identical weights (dropout on, mini-batches). */
static void test_deterministic(void **state)
{
	(void)state;
	openblas_set_num_threads(2);
	enum { N = 300 };
	static float X[N * 4], y[N];
	lm_rng r;
	rng_seed(&r, 5);
	xor_data(&r, X, y, N);
	for (int a = 0; a < 2; a++) {
		nn_arch arch = a ? NN_TRANSFORMER : NN_MLP;
		float *w[2];
		size_t np = 0;
		for (int k = 0; k < 2; k++) {
			nn_spec s;
			nn_spec_defaults(&s, arch, 4, 1);
			s.d_model = 8;
			s.d_ffn = 16;
			lm_err err = {0};
			nn_model *m = nn_create(&s, 42, &err);
			nn_train_opts o;
			nn_train_defaults(&o, arch);
			o.epochs = 5;
			o.batch = 32;
			o.seed = 42;
			assert_int_equal(nn_train(m, X, y, N, &o, NULL, &err), 0);
			np = nn_nparams(m);
			w[k] = malloc(np * sizeof(float));
			memcpy(w[k], nn_params(m), np * sizeof(float));
			nn_free(m);
		}
		assert_memory_equal(w[0], w[1], np * sizeof(float));
		free(w[0]);
		free(w[1]);
	}
}

/* Data-parallel training (o.threads): (1) without dropout, two full-batch steps with 2 and 3
 * threads land on the weights and loss of 1 thread up to float summation order, because the
 * shares' gradients, scaled by their share of the batch, sum to the batch gradient; (2) with
 * dropout and mini-batches, the same seed and thread count give bit-identical weights;
 * (3) 2 threads learn XOR as well as one does (test AUC above 0.95). */
static void test_data_parallel(void **state)
{
	(void)state;
	enum { N = 300 };
	static float X[N * 4], y[N];
	lm_rng r;
	rng_seed(&r, 5);
	xor_data(&r, X, y, N);
	for (int a = 0; a < 2; a++) {
		nn_arch arch = a ? NN_TRANSFORMER : NN_MLP;
		float *w[4];
		double loss[4];
		size_t np = 0;
		for (int k = 0; k < 4; k++) { /* threads 1, 2, 3 without dropout; then 2 again */
			nn_spec s;
			nn_spec_defaults(&s, arch, 4, 1);
			s.d_model = 8;
			s.d_ffn = 16;
			s.dropout = 0.0f;
			lm_err err = {0};
			nn_model *m = nn_create(&s, 42, &err);
			nn_train_opts o;
			nn_train_defaults(&o, arch);
			o.epochs = 1;
			o.batch = N;
			o.val_frac = 0.0f;
			o.threads = k == 3 ? 2 : k + 1;
			o.epochs = 2;
			nn_train_result res;
			assert_int_equal(nn_train(m, X, y, N, &o, &res, &err), 0);
			loss[k] = res.final_train_loss; /* epoch 2's: after the first step */
			np = nn_nparams(m);
			w[k] = malloc(np * sizeof(float));
			memcpy(w[k], nn_params(m), np * sizeof(float));
			nn_free(m);
		}
		for (int k = 1; k < 3; k++) {
			/* Adam's first step moves every weight by lr sign(g) unless |g| is near its
			 * eps (1e-8), where float summation order can tip it: the transformer's
			 * attention key biases have a zero gradient in exact arithmetic (the softmax
			 * ignores a shift), so theirs is rounding noise. Measured: mlp 4545 of 4545
			 * within 1e-6, transformer 1283 of 1297. */
			size_t close = 0;
			for (size_t j = 0; j < np; j++)
				close += fabsf(w[k][j] - w[0][j]) <= 1e-6f;
			assert_true(close >= np * 98 / 100);
			assert_float_equal(loss[k], loss[0], 1e-6 * fabs(loss[0]));
		}
		assert_memory_equal(w[1], w[3], np * sizeof(float));
		for (int k = 0; k < 4; k++)
			free(w[k]);
		/* dropout, mini-batches: reproducible for a seed and a thread count */
		for (int k = 0; k < 2; k++) {
			nn_spec s;
			nn_spec_defaults(&s, arch, 4, 1);
			s.d_model = 8;
			s.d_ffn = 16;
			lm_err err = {0};
			nn_model *m = nn_create(&s, 42, &err);
			nn_train_opts o;
			nn_train_defaults(&o, arch);
			o.epochs = 3;
			o.batch = 32;
			o.threads = 2;
			assert_int_equal(nn_train(m, X, y, N, &o, NULL, &err), 0);
			w[k] = malloc(np * sizeof(float));
			memcpy(w[k], nn_params(m), np * sizeof(float));
			nn_free(m);
		}
		assert_memory_equal(w[0], w[1], np * sizeof(float));
		free(w[0]);
		free(w[1]);
	}
	xor_threads = 2;
	assert_true(train_xor(NN_MLP, 150) > 0.95);
	xor_threads = 1;
}

/* lr = 1e30 blows the MLP's weights up at the first step; the loss becomes NaN or infinite
 * and training stops with EX_DATAERR naming epoch 1, the weights left as they were. */
static void test_divergence(void **state)
{
	(void)state;
	enum { N = 200 };
	static float X[N * 4], y[N];
	lm_rng r;
	rng_seed(&r, 6);
	xor_data(&r, X, y, N);
	nn_spec s;
	nn_spec_defaults(&s, NN_MLP, 4, 1);
	lm_err err = {0};
	nn_model *m = nn_create(&s, 1, &err);
	float *before = malloc(nn_nparams(m) * sizeof(float));
	memcpy(before, nn_params(m), nn_nparams(m) * sizeof(float));
	nn_train_opts o;
	nn_train_defaults(&o, NN_MLP);
	o.lr = 1e30f;
	o.batch = 16;
	assert_int_equal(nn_train(m, X, y, N, &o, NULL, &err), EX_DATAERR);
	print_message("# %s\n", err.msg);
	assert_non_null(strstr(err.msg, "training diverged at epoch 1 (loss is "));
	assert_memory_equal(before, nn_params(m), nn_nparams(m) * sizeof(float));
	/* bad options and labels */
	o.lr = 1e-3f;
	o.batch = 0;
	assert_int_equal(nn_train(m, X, y, N, &o, NULL, &err), EX_USAGE);
	o.batch = 16;
	y[3] = 2.0f;
	assert_int_equal(nn_train(m, X, y, N, &o, NULL, &err), EX_DATAERR);
	assert_non_null(strstr(err.msg, "row 4"));
	free(before);
	nn_free(m);
}

/* Pure-noise labels: the validation loss stops improving early, training ends exactly
 * `patience` epochs after the best one, and the progress callback saw every epoch with a
 * validation AUC in [0, 1]. */
static int calls;
static double last_auc;
static void progress(void *ctx, int epoch, double tl, double vl, double va)
{
	(void)ctx;
	(void)tl;
	(void)vl;
	calls++;
	assert_int_equal(epoch, calls);
	last_auc = va;
}

static void test_early_stopping(void **state)
{
	(void)state;
	enum { N = 400 };
	static float X[N * 4], y[N];
	lm_rng r;
	rng_seed(&r, 8);
	for (int i = 0; i < N * 4; i++)
		X[i] = (float)rng_normal(&r);
	for (int i = 0; i < N; i++)
		y[i] = (float)(rng_uniform(&r) < 0.5);
	nn_spec s;
	nn_spec_defaults(&s, NN_MLP, 4, 1);
	s.hidden[0] = s.hidden[1] = 128;
	lm_err err = {0};
	nn_model *m = nn_create(&s, 1, &err);
	nn_train_opts o;
	nn_train_defaults(&o, NN_MLP);
	o.epochs = 300;
	o.batch = 32;
	o.lr = 1e-2f;
	o.patience = 5;
	o.progress = progress;
	nn_train_result res;
	assert_int_equal(nn_train(m, X, y, N, &o, &res, &err), 0);
	assert_true(res.epochs_run < 300);
	assert_int_equal(res.epochs_run, res.best_epoch + 5);
	assert_int_equal(calls, res.epochs_run);
	assert_true(last_auc >= 0.0 && last_auc <= 1.0);
	assert_true(isfinite(res.best_val_loss) && res.samples_per_sec > 0);
	nn_free(m);
}

/* Multi-class softmax: three classes by the sign pattern of two inputs; logreg-free MLP
 * reaches 90% accuracy on fresh data. */
static void test_multiclass(void **state)
{
	(void)state;
	enum { N = 900 };
	static float X[N * 2], y[N], p[N * 3];
	lm_rng r;
	rng_seed(&r, 10);
	for (int i = 0; i < N; i++) {
		X[i * 2] = (float)rng_normal(&r);
		X[i * 2 + 1] = (float)rng_normal(&r);
		y[i] = X[i * 2] < 0 ? 0.0f : X[i * 2 + 1] < 0 ? 1.0f : 2.0f;
	}
	nn_spec s;
	nn_spec_defaults(&s, NN_MLP, 2, 3);
	lm_err err = {0};
	nn_model *m = nn_create(&s, 1, &err);
	nn_train_opts o;
	nn_train_defaults(&o, NN_MLP);
	o.epochs = 60;
	o.batch = 32;
	o.lr = 3e-3f;
	assert_int_equal(nn_train(m, X, y, 600, &o, NULL, &err), 0);
	nn_predict(m, X + 600 * 2, 300, p);
	int right = 0;
	for (int i = 0; i < 300; i++) {
		int best = 0;
		double sum = p[i * 3] + p[i * 3 + 1] + p[i * 3 + 2];
		assert_float_equal(sum, 1.0, 1e-5);
		for (int c = 1; c < 3; c++)
			best = p[i * 3 + c] > p[i * 3 + best] ? c : best;
		right += best == (int)y[600 + i];
	}
	print_message("# multiclass accuracy %.3f\n", right / 300.0);
	assert_true(right > 270);
	nn_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logreg_matches_optimum),
		cmocka_unit_test(test_logreg_threads),
		cmocka_unit_test(test_xor),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_data_parallel),
		cmocka_unit_test(test_divergence),
		cmocka_unit_test(test_early_stopping),
		cmocka_unit_test(test_multiclass),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
