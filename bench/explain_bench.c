/* explain_bench: speed of integrated gradients and attention extraction on random-weight
 * models of lumen's default sizes, for bench/bench_explain.sh.
 *   explain_bench [INPUTS [PATIENTS]]   (defaults 20 inputs = 20 tokens, 2000 patients;
 *                                        the transformer runs a tenth of them)
 * For logreg, mlp (2 x 64) and transformer (d 32, 2 blocks, 4 heads, FFN 64): IG patients/s
 * at 64 Gauss-Legendre steps (all steps of many patients batched), single-patient latency
 * with one thread and with as many as there are cores (patient-parallel, ig_par.h), the
 * CPU milliseconds a patient of the latter (process CPU time: both threads), and (median of 200 calls of ig_batch on one patient, as the TUI does: at 64 steps, and with
 * the on-the-fly default of ig_explain_x, Gauss from 16 steps doubled while the completeness
 * error is above 1%), and for the
 * transformer the attention + rollout extraction in microseconds a patient; for the mlp also
 * the exact rule (lumen explain's default there): patients/s, evaluations a patient, latency. Random weights:
 * speed does not depend on training. Output: one "key value" line per figure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../explain/attention.h"
#include "../explain/ig.h"
#include "../explain/ig_par.h"

/* CPU seconds of the whole process (every thread) */
static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int d = argc > 1 ? atoi(argv[1]) : 20, n = argc > 2 ? atoi(argv[2]) : 2000;
	if (d < 1 || n < 10) {
		fprintf(stderr, "usage: explain_bench [INPUTS [PATIENTS >= 10]]\n");
		return 64;
	}
	lm_rng r;
	rng_seed(&r, 1);
	float *X = xmallocarray((size_t)n * (size_t)d, sizeof *X), *base = xcalloc((size_t)d, sizeof *base);
	for (size_t i = 0; i < (size_t)n * (size_t)d; i++)
		X[i] = (float)rng_normal(&r);
	float *attr = xmallocarray((size_t)n * (size_t)d, sizeof *attr);
	float *logit = xmallocarray((size_t)n, sizeof *logit), *delta = xmallocarray((size_t)n, sizeof *delta);
	int *tok = xmallocarray((size_t)d, sizeof *tok);
	for (int j = 0; j < d; j++)
		tok[j] = j;
	const nn_arch archs[] = {NN_LOGREG, NN_MLP, NN_TRANSFORMER};
	for (int a = 0; a < 3; a++) {
		nn_spec sp;
		nn_spec_defaults(&sp, archs[a], d, 1);
		if (archs[a] == NN_TRANSFORMER) {
			sp.n_tokens = d;
			sp.slot_token = tok;
		}
		lm_err err = {0};
		nn_model *m = nn_create(&sp, 7, &err);
		if (!m) {
			fprintf(stderr, "explain_bench: %s\n", err.msg);
			return 70;
		}
		float *p = nn_params(m);
		for (size_t i = 0; i < nn_nparams(m); i++)
			p[i] += (float)(0.05 * rng_normal(&r));
		const char *name = nn_arch_name(archs[a]);
		ig_opts o;
		ig_opts_defaults(&o);
		float fb;
		/* warm-up (workspaces), then the batched run */
		ig_batch(m, X, n < 64 ? n : 64, base, &o, attr, logit, &fb, delta, NULL, NULL, NULL, NULL);
		/* the transformer is ~100x costlier a patient: a tenth of the patients */
		int na = archs[a] == NN_TRANSFORMER ? n / 10 : n;
		double t = lm_seconds();
		ig_batch(m, X, na, base, &o, attr, logit, &fb, delta, NULL, NULL, NULL, NULL);
		double secs = lm_seconds() - t;
		printf("%s_ig_patients_per_s_1thread %.0f\n", name, na / secs);
		/* patient-parallel, as lumen explain runs by default (threads = cores) */
		ig_opts par = o;
		par.threads = ig_default_threads();
		t = lm_seconds();
		double c0 = cpu_seconds();
		ig_batch(m, X, na, base, &par, attr, logit, &fb, delta, NULL, NULL, NULL, NULL);
		secs = lm_seconds() - t;
		printf("%s_ig_patients_per_s %.0f\n", name, na / secs);
		printf("%s_ig_cpu_ms_per_patient %.3f\n", name, (cpu_seconds() - c0) / na * 1e3);
		double lat[200];
		for (int k = 0; k < 200; k++) {
			t = lm_seconds();
			ig_batch(m, X + (size_t)(k % n) * (size_t)d, 1, base, &o, attr, logit, &fb, delta,
				 NULL, NULL, NULL, NULL);
			lat[k] = lm_seconds() - t;
		}
		qsort(lat, 200, sizeof *lat, cmp_d);
		printf("%s_single_patient_ms %.3f\n", name, lat[100] * 1e3);
		/* the TUI's on-the-fly default: Gauss from 16 steps, doubled where needed */
		ig_opts fly = o;
		fly.steps = 16;
		fly.auto_steps = 1;
		for (int k = 0; k < 200; k++) {
			t = lm_seconds();
			ig_batch(m, X + (size_t)(k % n) * (size_t)d, 1, base, &fly, attr, logit, &fb, delta,
				 NULL, NULL, NULL, NULL);
			lat[k] = lm_seconds() - t;
		}
		qsort(lat, 200, sizeof *lat, cmp_d);
		printf("%s_single_patient_auto16_ms %.3f\n", name, lat[100] * 1e3);
		if (archs[a] == NN_MLP) { /* lumen explain's default for an mlp: the exact rule */
			ig_opts ex = o;
			ex.rule = IG_EXACT;
			int *st = xmallocarray((size_t)n, sizeof *st);
			t = lm_seconds();
			ig_batch(m, X, n, base, &ex, attr, logit, &fb, delta, st, NULL, NULL, NULL);
			secs = lm_seconds() - t;
			double ev = 0;
			for (int i = 0; i < n; i++)
				ev += st[i];
			printf("%s_exact_ig_patients_per_s %.0f\n", name, n / secs);
			printf("%s_exact_gradient_evals_per_patient %.1f\n", name, ev / n);
			for (int k = 0; k < 200; k++) {
				t = lm_seconds();
				ig_batch(m, X + (size_t)(k % n) * (size_t)d, 1, base, &ex, attr, logit, &fb, delta,
					 NULL, NULL, NULL, NULL);
				lat[k] = lm_seconds() - t;
			}
			qsort(lat, 200, sizeof *lat, cmp_d);
			printf("%s_exact_single_patient_ms %.3f\n", name, lat[100] * 1e3);
			free(st);
		}
		if (archs[a] == NN_TRANSFORMER) {
			float *last = xmallocarray((size_t)n * (size_t)d, sizeof *last);
			float *roll = xmallocarray((size_t)n * (size_t)d, sizeof *roll);
			t = lm_seconds();
			attn_explain(m, X, na, 0, NULL, last, roll, NULL);
			printf("%s_attention_us_per_patient %.1f\n", name, (lm_seconds() - t) / na * 1e6);
			free(last);
			free(roll);
		}
		nn_free(m);
	}
	printf("peak_rss_kb %ld\n", lm_peak_rss_kb());
	free(X);
	free(base);
	free(attr);
	free(logit);
	free(delta);
	free(tok);
	return 0;
}
