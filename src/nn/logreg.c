/* logreg.c: penalised logistic regression solved to its optimum by Newton's method (IRLS)
 * with a backtracking line search, instead of being trained by gradient steps.
 *
 * Objective, over theta = (W [n_in x K], b [K]):
 *   f = (1/n) sum_i c_i loss_i(x_i W + b) + 0.5 l2 |W|^2
 * loss_i the binary cross-entropy with logits (K = 1) or the softmax cross-entropy (K >= 2),
 * c_i the weight of row i's class (1 without class weights). The intercept is not penalised.
 * For K >= 2 the softmax is unchanged by adding one constant to every intercept; the
 * solver adds 0.5 (sum_c b_c)^2, zero at the optimum, so that the minimiser is the one
 * with sum_c b_c = 0 (the one L-BFGS reaches from zero, as scikit-learn does).
 *
 * Precision: X stays float (the caller's), everything else is double: the logits, the
 * objective, the gradient, the Newton system and its Cholesky solve. Only the Hessian's
 * products X^T D X run in float BLAS (chunks of rows, each chunk's sum added to a double
 * matrix): the Hessian sets the step, not the fixed point, so the optimum is that of the
 * double gradient. One pass over X per iteration computes objective, gradient and Hessian
 * at once (the Hessian is kept, not recomputed, once steps are below 1e-3); iterations stop when the Newton step is below 1e-10 (relative) in every
 * coordinate, 5 to 10 of them on typical data. */
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "chol.h"
#include "nn.h"

#define LR_CHUNK 2048
#define LR_MAX_ITER 200
#define LR_STEP_TOL 1e-10

typedef struct lr_pass {
	const float *X, *y, *cw; /* this pass's rows */
	int n, p, K;
	int ntot;  /* rows of the whole fit (the mean's denominator) */
	float *A;  /* LR_CHUNK x (p + 1): a chunk of rows with a 1 appended */
	float *B;  /* LR_CHUNK x (p + 1): the same rows scaled by Hessian weights */
	float *Hc; /* (p + 1) x (p + 1) */
	double *z; /* LR_CHUNK x K: logits, then (K >= 2) probabilities */
	double *r, *pr; /* K each: a row's gradient and Hessian weights */
} lr_pass;

/* log(1 + exp(z)) without overflow */
static double softplus(double z)
{
	return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

/* Objective at theta (layout: class c's block theta[c * (p + 1) ..], intercept last); with
 * g != NULL also the gradient, with H != NULL the Hessian (P x P, P = K (p + 1), both
 * triangles). The penalty terms are added by the caller. Returns the data term. */
static double lr_eval(lr_pass *s, const double *theta, double *g, double *H)
{
	const int p = s->p, K = s->K, q = p + 1, P = K * q;
	double f = 0.0;
	if (g)
		memset(g, 0, (size_t)P * sizeof *g);
	if (H)
		memset(H, 0, (size_t)P * P * sizeof *H);
	double inv_n = 1.0 / s->ntot, *r = s->r, *pr = s->pr;
	for (int at = 0; at < s->n; at += LR_CHUNK) {
		int R = s->n - at < LR_CHUNK ? s->n - at : LR_CHUNK;
		for (int i = 0; i < R; i++) {
			const float *x = s->X + (size_t)(at + i) * p;
			int yi = (int)s->y[at + i];
			double ci = (s->cw ? (double)s->cw[yi] : 1.0) * inv_n;
			double *zi = s->z + (size_t)i * K;
			for (int c = 0; c < K; c++) {
				const double *t = theta + (size_t)c * q;
				double acc = t[p];
				for (int j = 0; j < p; j++)
					acc += t[j] * (double)x[j];
				zi[c] = acc;
			}
			if (K == 1) {
				double z = zi[0], mu = 1.0 / (1.0 + exp(-z));
				f += ci * (softplus(z) - (yi ? z : 0.0));
				r[0] = ci * (mu - yi);
				pr[0] = ci * mu * (1.0 - mu); /* Hessian weight */
			} else {
				double mx = zi[0];
				for (int c = 1; c < K; c++)
					mx = zi[c] > mx ? zi[c] : mx;
				double se = 0.0;
				for (int c = 0; c < K; c++)
					se += (pr[c] = exp(zi[c] - mx));
				f += ci * (mx + log(se) - zi[yi]);
				for (int c = 0; c < K; c++) {
					pr[c] /= se;
					r[c] = ci * (pr[c] - (c == yi));
				}
				for (int c = 0; c < K; c++)
					zi[c] = pr[c]; /* keep the probabilities for the Hessian */
			}
			if (g)
				for (int c = 0; c < K; c++) {
					double *gc = g + (size_t)c * q, rc = r[c];
					for (int j = 0; j < p; j++)
						gc[j] += rc * (double)x[j];
					gc[p] += rc;
				}
			if (H) {
				float *a = s->A + (size_t)i * q;
				for (int j = 0; j < p; j++)
					a[j] = x[j];
				a[p] = 1.0f;
				if (K == 1) {
					float sw = (float)sqrt(pr[0]), *b = s->B + (size_t)i * q;
					for (int j = 0; j < q; j++)
						b[j] = sw * a[j];
				}
			}
		}
		if (!H)
			continue;
		if (K == 1) {
			/* the chunk's X^T D X as (sqrt(D) X)^T (sqrt(D) X), upper triangle */
			cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, q, R, 1.0f, s->B, q, 0.0f,
				    s->Hc, q);
			for (int j = 0; j < q; j++)
				for (int k = j; k < q; k++)
					H[(size_t)j * P + k] += (double)s->Hc[(size_t)j * q + k];
			continue;
		}
		/* block (a, b): X^T diag(c_i p_ia (delta_ab - p_ib)) X */
		for (int ca = 0; ca < K; ca++)
			for (int cb = ca; cb < K; cb++) {
				for (int i = 0; i < R; i++) {
					int yi = (int)s->y[at + i];
					double ci = (s->cw ? (double)s->cw[yi] : 1.0) * inv_n;
					const double *pi = s->z + (size_t)i * K;
					float w = (float)(ci * pi[ca] * ((ca == cb) - pi[cb]));
					const float *a = s->A + (size_t)i * q;
					float *b = s->B + (size_t)i * q;
					for (int j = 0; j < q; j++)
						b[j] = w * a[j];
				}
				cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, q, q, R, 1.0f, s->A, q,
					    s->B, q, 0.0f, s->Hc, q);
				for (int j = 0; j < q; j++)
					for (int k = 0; k < q; k++)
						if ((size_t)(ca * q + j) <= (size_t)(cb * q + k))
							H[(size_t)(ca * q + j) * P + cb * q + k] +=
								(double)s->Hc[(size_t)j * q + k];
			}
	}
	if (H) /* mirror the upper triangle */
		for (int j = 0; j < P; j++)
			for (int k = j + 1; k < P; k++)
				H[(size_t)k * P + j] = H[(size_t)j * P + k];
	return f;
}

/* Row-parallel evaluation: thread t owns the rows [t n / T, (t + 1) n / T) and its own
 * buffers; the partial objectives, gradients and Hessians are summed in thread order, so a
 * fit is the same for a thread count (and agrees across counts to double rounding). */
#define LR_MAX_THREADS 16

typedef struct lr_job {
	lr_pass *ps;
	const double *theta;
	double *g, *H, f;
} lr_job;

static void *lr_job_run(void *arg)
{
	lr_job *j = arg;
	j->f = lr_eval(j->ps, j->theta, j->g, j->H);
	return NULL;
}

typedef struct lr_team {
	int T, P;
	lr_pass ps[LR_MAX_THREADS];
	double *g[LR_MAX_THREADS], *H[LR_MAX_THREADS]; /* [0] unused: the caller's */
} lr_team;

static double lr_eval_team(lr_team *tm, const double *theta, double *g, double *H)
{
	lr_job job[LR_MAX_THREADS];
	pthread_t tid[LR_MAX_THREADS];
	int started[LR_MAX_THREADS] = {0};
	for (int t = 0; t < tm->T; t++)
		job[t] = (lr_job){&tm->ps[t], theta, t ? (g ? tm->g[t] : NULL) : g,
				  t ? (H ? tm->H[t] : NULL) : H, 0.0};
	for (int t = 1; t < tm->T; t++)
		started[t] = pthread_create(&tid[t], NULL, lr_job_run, &job[t]) == 0;
	lr_job_run(&job[0]);
	double f = job[0].f;
	size_t P = (size_t)tm->P;
	for (int t = 1; t < tm->T; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			lr_job_run(&job[t]);
		f += job[t].f;
		if (g)
			for (size_t j = 0; j < P; j++)
				g[j] += job[t].g[j];
		if (H)
			for (size_t j = 0; j < P * P; j++)
				H[j] += job[t].H[j];
	}
	return f;
}

/* The penalty's share of objective, gradient and Hessian: 0.5 l2 |W|^2 and, for K >= 2,
 * 0.5 (sum_c b_c)^2 (see the top of the file). */
static double lr_penalty(const double *theta, int p, int K, double l2, double *g, double *H)
{
	const int q = p + 1, P = K * q;
	double f = 0.0, sb = 0.0;
	for (int c = 0; c < K; c++) {
		for (int j = 0; j < p; j++) {
			size_t k = (size_t)c * q + j;
			f += 0.5 * l2 * theta[k] * theta[k];
			if (g)
				g[k] += l2 * theta[k];
			if (H)
				H[k * P + k] += l2;
		}
		sb += theta[(size_t)c * q + p];
	}
	if (K >= 2) {
		f += 0.5 * sb * sb;
		for (int a = 0; a < K; a++) {
			size_t ia = (size_t)a * q + p;
			if (g)
				g[ia] += sb;
			if (H)
				for (int b = 0; b < K; b++)
					H[ia * P + (size_t)b * q + p] += 1.0;
		}
	}
	return f;
}

/* The Newton direction d = -H^{-1} g; a singular H (no penalty and collinear inputs) gets
 * the smallest ridge, growing by 100x from 1e-12 of its mean diagonal, that factorises. */
static void newton_dir(double *H, double *Hw, const double *g, double *d, int P)
{
	double tr = 0.0;
	for (int j = 0; j < P; j++)
		tr += H[(size_t)j * P + j];
	double ridge = 0.0, base = tr / P > 0 ? tr / P : 1.0;
	for (int tries = 0;; tries++) {
		memcpy(Hw, H, (size_t)P * P * sizeof *Hw);
		for (int j = 0; j < P; j++)
			Hw[(size_t)j * P + j] += ridge;
		if (nn_cholesky(Hw, P) == 0 || tries > 12)
			break;
		ridge = ridge > 0 ? ridge * 100.0 : 1e-12 * base;
	}
	for (int j = 0; j < P; j++)
		d[j] = -g[j];
	nn_chol_solve(Hw, P, d);
}

int nn_logreg_fit(nn_model *m, const float *X, const float *y, int n, const nn_train_opts *o,
		  nn_train_result *res, lm_err *err)
{
	const float *class_weight = o ? o->class_weight : NULL;
	const nn_spec *s = nn_get_spec(m);
	double t0 = lm_seconds();
	if (s->arch != NN_LOGREG)
		return lm_seterr(err, EX_SOFTWARE, "nn_logreg_fit on a %s model", nn_arch_name(s->arch));
	if (n < 2)
		return lm_seterr(err, EX_DATAERR, "training needs at least 2 rows (got %d)", n);
	const int p = s->n_in, K = s->n_out, q = p + 1, P = K * q, nclass = K == 1 ? 2 : K;
	for (int i = 0; i < n; i++) {
		float v = y[i];
		if (!(v >= 0.0f && v < (float)nclass && v == floorf(v)))
			return lm_seterr(err, EX_DATAERR, "label %g of row %d is not a class index 0..%d",
					 (double)v, i + 1, nclass - 1);
	}
	const double l2 = s->l2;
	lr_team tm;
	memset(&tm, 0, sizeof tm);
	tm.T = o && o->threads > 1 ? (o->threads > LR_MAX_THREADS ? LR_MAX_THREADS : o->threads) : 1;
	if (tm.T > n / 1024 + 1) /* a thread is worth a few chunks of rows */
		tm.T = n / 1024 + 1;
	tm.P = P;
	for (int t = 0; t < tm.T; t++) {
		int a = (int)((long)t * n / tm.T), b = (int)((long)(t + 1) * n / tm.T);
		lr_pass *ps = &tm.ps[t];
		*ps = (lr_pass){X + (size_t)a * p, y + a, class_weight, b - a, p, K, n, NULL, NULL,
				NULL, NULL, NULL, NULL};
		ps->r = xmallocarray((size_t)K, sizeof *ps->r);
		ps->pr = xmallocarray((size_t)K, sizeof *ps->pr);
		ps->A = xmallocarray((size_t)LR_CHUNK * q, sizeof *ps->A);
		ps->B = xmallocarray((size_t)LR_CHUNK * q, sizeof *ps->B);
		ps->Hc = xmallocarray((size_t)q * q, sizeof *ps->Hc);
		ps->z = xmallocarray((size_t)LR_CHUNK * K, sizeof *ps->z);
		if (t) {
			tm.g[t] = xmallocarray((size_t)P, sizeof *tm.g[t]);
			tm.H[t] = xmallocarray((size_t)P * P, sizeof *tm.H[t]);
		}
	}
	/* the chunks' products are small: OpenBLAS at one thread (its idle threads would spin
	 * between them), our threads split the rows instead */
	int blas_threads = openblas_get_num_threads();
	openblas_set_num_threads(1);
	double *theta = xcalloc((size_t)P, sizeof *theta), *trial = xmallocarray((size_t)P, sizeof *trial);
	double *g = xmallocarray((size_t)P, sizeof *g), *gt = xmallocarray((size_t)P, sizeof *gt);
	double *H = xmallocarray((size_t)P * P, sizeof *H), *Ht = xmallocarray((size_t)P * P, sizeof *Ht);
	double *Hw = xmallocarray((size_t)P * P, sizeof *Hw), *d = xmallocarray((size_t)P, sizeof *d);

	/* start from the model's current weights (nn_create's are zeros) */
	float *w = nn_tensor_data(m, 0), *bias = nn_tensor_data(m, 1);
	for (int c = 0; c < K; c++) {
		for (int j = 0; j < p; j++)
			theta[(size_t)c * q + j] = w[(size_t)j * K + c];
		theta[(size_t)c * q + p] = bias[c];
	}
	int status = 0, iter = 0;
	double last_dmax = (double)INFINITY;
	double f = lr_eval_team(&tm, theta, g, H) + lr_penalty(theta, p, K, l2, g, H);
	while (isfinite(f) && iter < LR_MAX_ITER) {
		newton_dir(H, Hw, g, d, P);
		double slope = 0.0, dmax = 0.0, tmax = 1.0;
		for (int j = 0; j < P; j++) {
			slope += g[j] * d[j];
			dmax = fabs(d[j]) > dmax ? fabs(d[j]) : dmax;
			tmax = fabs(theta[j]) > tmax ? fabs(theta[j]) : tmax;
		}
		iter++;
		if (o && o->progress)
			o->progress(o->ctx, iter, f, (double)NAN, (double)NAN);
		if (dmax <= LR_STEP_TOL * tmax || !(slope < 0.0)) {
			/* the last step is below what the objective can resolve: take it, stop */
			for (int j = 0; j < P; j++)
				theta[j] += d[j];
			break;
		}
		/* backtracking (Armijo) line search; the accepted point's gradient and Hessian come
		 * from the same pass. Once the predicted decrease -slope is below what f resolves
		 * in double, the full step is taken unchecked (the quadratic phase). */
		int final_phase = -slope <= 1e-10 * (1.0 + fabs(f));
		if (final_phase && (dmax >= 0.5 * last_dmax || dmax <= 1e-7 * tmax)) {
			/* the step leaves an error far below 1e-10 (the convergence is quadratic, or
			 * linear at the float Hessian's 1e-4 in the worst direction), or no progress is
			 * left at double precision: take it, stop */
			for (int j = 0; j < P; j++)
				theta[j] += d[j];
			break;
		}
		last_dmax = final_phase ? dmax : (double)INFINITY;
		/* a step below 1e-3 leaves the Hessian as it is to about that: keep it (the
		 * iteration still contracts by ~1e-3, and the objective and gradient stay exact) */
		int keep_h = dmax < 1e-3 * tmax;
		double t = 1.0, ft = (double)NAN;
		for (int ls = 0; ls < 40; ls++, t *= 0.5) {
			for (int j = 0; j < P; j++)
				trial[j] = theta[j] + t * d[j];
			ft = lr_eval_team(&tm, trial, gt, keep_h ? NULL : Ht) +
			     lr_penalty(trial, p, K, l2, gt, keep_h ? NULL : Ht);
			if (final_phase || (isfinite(ft) && ft <= f + 1e-4 * t * slope))
				break;
		}
		if (!isfinite(ft)) {
			f = ft;
			break;
		}
		if (!final_phase && !(ft <= f + 1e-4 * t * slope)) /* no decrease left */
			break;
		double *sw;
		memcpy(theta, trial, (size_t)P * sizeof *theta);
		sw = g, g = gt, gt = sw;
		if (!keep_h)
			sw = H, H = Ht, Ht = sw;
		f = ft;
	}
	if (!isfinite(f)) {
		status = lm_seterr(err, EX_DATAERR, "the logistic regression diverged (loss is %s)",
				   isnan(f) ? "NaN" : "infinite");
	} else {
		for (int c = 0; c < K; c++) {
			for (int j = 0; j < p; j++)
				w[(size_t)j * K + c] = (float)theta[(size_t)c * q + j];
			bias[c] = (float)theta[(size_t)c * q + p];
		}
	}
	if (res) {
		memset(res, 0, sizeof *res);
		res->epochs_run = res->best_epoch = iter;
		res->best_val_loss = (double)NAN;
		res->final_train_loss = f;
		res->seconds = lm_seconds() - t0;
		res->samples_per_sec = res->seconds > 0 ? n / res->seconds : 0.0;
	}
	openblas_set_num_threads(blas_threads);
	for (int t = 0; t < tm.T; t++) {
		free(tm.ps[t].A);
		free(tm.ps[t].B);
		free(tm.ps[t].Hc);
		free(tm.ps[t].z);
		free(tm.ps[t].r);
		free(tm.ps[t].pr);
		free(tm.g[t]);
		free(tm.H[t]);
	}
	free(theta);
	free(trial);
	free(g);
	free(gt);
	free(H);
	free(Ht);
	free(Hw);
	free(d);
	return status;
}
