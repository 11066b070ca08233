/* ig.c: integrated gradients, batched over patients and path steps. */
#include "ig.h"
#include "ig_par.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *ig_rule_name(ig_rule r)
{
	return r == IG_TRAPEZOID ? "trapezoid" : r == IG_EXACT ? "exact" : "gauss";
}

int ig_rule_parse(const char *s)
{
	if (!strcmp(s, "gauss") || !strcmp(s, "gauss-legendre"))
		return IG_GAUSS;
	if (!strcmp(s, "trapezoid") || !strcmp(s, "riemann_trapezoid"))
		return IG_TRAPEZOID;
	if (!strcmp(s, "exact"))
		return IG_EXACT;
	return -1;
}

/* Legendre P_n(x) and its derivative by the three-term recurrence
 * (k+1) P_{k+1} = (2k+1) x P_k - k P_{k-1}; P_n' = n (x P_n - P_{n-1}) / (x^2 - 1). */
static void legendre(int n, double x, double *p, double *dp)
{
	double p0 = 1.0, p1 = x;
	if (n == 0) {
		*p = 1.0;
		*dp = 0.0;
		return;
	}
	for (int k = 1; k < n; k++) {
		double p2 = ((2.0 * k + 1.0) * x * p1 - k * p0) / (k + 1.0);
		p0 = p1;
		p1 = p2;
	}
	*p = p1;
	*dp = n * (x * p1 - p0) / (x * x - 1.0);
}

void ig_gauss_legendre(int n, double *x, double *w)
{
	/* The roots are symmetric: find the m = ceil(n/2) non-negative ones by Newton from
	 * Tricomi's estimate cos(pi (i - 1/4) / (n + 1/2)), which is close enough that Newton
	 * converges to the intended root for every n. */
	int m = (n + 1) / 2;
	for (int i = 1; i <= m; i++) {
		double z = cos(M_PI * (i - 0.25) / (n + 0.5)), p, dp;
		for (int it = 0; it < 100; it++) {
			legendre(n, z, &p, &dp);
			double dz = p / dp;
			z -= dz;
			if (fabs(dz) < 1e-15)
				break;
		}
		legendre(n, z, &p, &dp);
		double wi = 2.0 / ((1.0 - z * z) * dp * dp);
		x[i - 1] = -z;
		x[n - i] = z;
		w[i - 1] = w[n - i] = wi;
	}
	if (n % 2 == 1)
		x[m - 1] = 0.0;
}

int ig_path(ig_rule rule, int steps, double *alpha, double *w)
{
	if (rule == IG_GAUSS) {
		ig_gauss_legendre(steps, alpha, w);
		for (int k = 0; k < steps; k++) {
			alpha[k] = 0.5 * (alpha[k] + 1.0);
			w[k] *= 0.5;
		}
		return steps;
	}
	double h = 1.0 / (steps - 1);
	for (int k = 0; k < steps; k++) {
		alpha[k] = k * h;
		w[k] = (k == 0 || k == steps - 1) ? 0.5 * h : h;
	}
	return steps;
}

void ig_opts_defaults(ig_opts *o)
{
	memset(o, 0, sizeof *o);
	o->steps = IG_DEFAULT_STEPS;
	o->max_steps = IG_MAX_STEPS;
	o->tol = 0.01;
	o->abs_tol = 1e-4;
	o->rule = IG_GAUSS;
	o->cls = 1;
	o->chunk_rows = 0; /* automatic */
	o->threads = 1;
}

/* Work buffers for one chunk of path rows (the rows themselves are nn_path_grad's). */
typedef struct ig_work {
	long cap_rows;
	int nslot, nout;
	float *logits, *G;
} ig_work;

static void work_init(ig_work *w, long rows, int nslot, int nout, int min_steps)
{
	w->cap_rows = rows;
	w->nslot = nslot;
	w->nout = nout;
	w->logits = xmallocarray((size_t)rows * (size_t)nout, sizeof(float));
	long per = rows / min_steps; /* patients per chunk at the fewest steps */
	w->G = xmallocarray((size_t)(per < 1 ? 1 : per) * (size_t)nslot, sizeof(float));
}

static void work_free(ig_work *w)
{
	free(w->logits);
	free(w->G);
}

/* The explained output of a logits row: the class logit, or for a binary head and class 0
 * the negated logit (the log-odds of the negative class). */
static float class_logit(const float *row, int nout, int cls)
{
	if (nout == 1)
		return cls == 0 ? -row[0] : row[0];
	return row[cls];
}

/* Logits f(x) for n rows, chunked through the work buffers. */
static void forward_logits(nn_model *net, ig_work *w, const float *X, long n, int cls,
			   float *out)
{
	for (long i0 = 0; i0 < n; i0 += w->cap_rows) {
		long nb = n - i0 < w->cap_rows ? n - i0 : w->cap_rows;
		nn_forward(net, X + (size_t)i0 * (size_t)w->nslot, (int)nb, w->logits, 0, NULL);
		for (long i = 0; i < nb; i++)
			out[i0 + i] = class_logit(w->logits + (size_t)i * (size_t)w->nout, w->nout, cls);
	}
}

/* IG for the patients idx[0..cnt) at a fixed number of steps: the path sums of a chunk of
 * whole patients at a time (nn_path_grad: one batch of all their path points), then the
 * attr rows (x - b) G. */
static void ig_fixed(nn_model *net, ig_work *w, const float *X, const float *baseline,
		     const long *idx, long cnt, int steps, ig_rule rule, int cls, float *attr,
		     void (*progress)(void *, long, long), void *ctx, long done0, long total)
{
	int ns = w->nslot, no = w->nout;
	double *alpha = xmallocarray((size_t)steps, sizeof(double));
	double *wt = xmallocarray((size_t)steps, sizeof(double));
	ig_path(rule, steps, alpha, wt);
	long per = w->cap_rows / steps;
	if (per < 1)
		per = 1;
	float sign = (no == 1 && cls == 0) ? -1.0f : 1.0f;
	for (long c0 = 0; c0 < cnt; c0 += per) {
		long np = cnt - c0 < per ? cnt - c0 : per;
		nn_path_grad(net, X, idx + c0, np, baseline, steps, alpha, wt, no == 1 ? 0 : cls, sign,
			     w->G);
		for (long p = 0; p < np; p++) {
			const float *x = X + (size_t)idx[c0 + p] * (size_t)ns;
			const float *g = w->G + (size_t)p * (size_t)ns;
			float *out = attr + (size_t)idx[c0 + p] * (size_t)ns;
			for (int j = 0; j < ns; j++)
				out[j] = (float)(((double)x[j] - (double)baseline[j]) * (double)g[j]);
		}
		if (progress)
			progress(ctx, done0 + c0 + np, total);
	}
	free(alpha);
	free(wt);
}

/* ---- the exact rule for ReLU mlps ----
 * Along the path p(a) = b + a (x - b) a ReLU network is piecewise linear: every hidden
 * pre-activation is linear in a between the kinks of the layers below it, so its zero
 * crossings there are found exactly by linear interpolation, layer after layer. Between two
 * consecutive kinks the input gradient is constant; IG is then exactly the sum over those
 * segments of (length) x (gradient at the segment's midpoint), the gradients coming from the
 * engine in one batched backward pass like the quadrature rules'. */

typedef struct mlp_view {
	int nl;            /* hidden layers */
	int dim[NN_MAX_HIDDEN + 1];
	const float *w[NN_MAX_HIDDEN], *b[NN_MAX_HIDDEN];
} mlp_view;

static int mlp_view_init(nn_model *net, mlp_view *v)
{
	const nn_spec *sp = nn_get_spec(net);
	v->nl = sp->n_hidden;
	v->dim[0] = sp->n_in;
	for (int l = 0; l < v->nl; l++) {
		char wn[32], bn[32];
		snprintf(wn, sizeof wn, "layers.%d.w", l);
		snprintf(bn, sizeof bn, "layers.%d.b", l);
		v->w[l] = v->b[l] = NULL;
		for (int t = 0; t < nn_ntensors(net); t++) {
			if (!strcmp(nn_tensor_name(net, t), wn))
				v->w[l] = nn_tensor_data(net, t);
			if (!strcmp(nn_tensor_name(net, t), bn))
				v->b[l] = nn_tensor_data(net, t);
		}
		v->dim[l + 1] = sp->hidden[l];
		if (!v->w[l] || !v->b[l])
			return -1;
	}
	return 0;
}

/* Pre-activations of layer l at the m path points t[], into Z[m * dim[l+1]], with nn_sgemm
 * through layers 0..l (H, H2: scratch of m * max dim floats). */
static void mlp_preact(const mlp_view *v, const float *x, const float *bl, const double *t, int m,
		       int l, float *Z, float *H, float *H2)
{
	int d0 = v->dim[0];
	for (int i = 0; i < m; i++)
		for (int j = 0; j < d0; j++)
			H[(size_t)i * (size_t)d0 + (size_t)j] =
				(float)((double)bl[j] + t[i] * ((double)x[j] - (double)bl[j]));
	for (int k = 0; k <= l; k++) {
		int din = v->dim[k], dout = v->dim[k + 1];
		float *o = k == l ? Z : H2;
		for (int i = 0; i < m; i++)
			memcpy(o + (size_t)i * (size_t)dout, v->b[k], (size_t)dout * sizeof(float));
		nn_sgemm(0, 0, m, dout, din, 1.0f, H, din, v->w[k], dout, 1.0f, o, dout);
		if (k < l)
			for (size_t e = 0; e < (size_t)m * (size_t)dout; e++)
				H[e] = H2[e] > 0.0f ? H2[e] : 0.0f;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorted breakpoints 0 = t_0 < ... < t_m = 1 of one patient's path into *pts (malloc'd):
 * layer by layer, the pre-activations at the current breakpoints (linear in between) and
 * their zero crossings by linear interpolation. */
static int mlp_breakpoints(const mlp_view *v, const float *x, const float *bl, double **pts)
{
	int maxd = v->dim[0];
	for (int l = 1; l <= v->nl; l++)
		maxd = v->dim[l] > maxd ? v->dim[l] : maxd;
	int n = 2, cap = 256;
	double *t = xmallocarray((size_t)cap, sizeof *t);
	t[0] = 0.0;
	t[1] = 1.0;
	float *Z = NULL, *H = NULL, *H2 = NULL;
	for (int l = 0; l < v->nl; l++) {
		int du = v->dim[l + 1], nn = n;
		Z = xreallocarray(Z, (size_t)n * (size_t)du, sizeof *Z);
		H = xreallocarray(H, (size_t)n * (size_t)maxd, sizeof *H);
		H2 = xreallocarray(H2, (size_t)n * (size_t)maxd, sizeof *H2);
		mlp_preact(v, x, bl, t, n, l, Z, H, H2);
		for (int i = 0; i + 1 < n; i++) {
			const float *za = Z + (size_t)i * (size_t)du, *zb = za + du;
			for (int u = 0; u < du; u++)
				if ((za[u] < 0.0f && zb[u] > 0.0f) || (za[u] > 0.0f && zb[u] < 0.0f)) {
					if (nn == cap)
						t = xreallocarray(t, (size_t)(cap *= 2), sizeof *t);
					double a = (double)za[u], b = (double)zb[u];
					t[nn++] = t[i] + (t[i + 1] - t[i]) * a / (a - b);
				}
		}
		qsort(t, (size_t)nn, sizeof *t, cmp_double);
		n = 0; /* drop duplicates */
		for (int i = 0; i < nn; i++)
			if (n == 0 || t[i] > t[n - 1])
				t[n++] = t[i];
	}
	free(Z);
	free(H);
	free(H2);
	*pts = t;
	return n;
}

/* The exact rule for the patients idx[0..cnt): returns the segments used in steps[]. */
static void ig_exact(nn_model *net, const mlp_view *v, const float *X, const float *baseline,
		     const long *idx, long cnt, int cls, long cap, float *attr, int *steps,
		     void (*progress)(void *, long, long), void *ctx, long total)
{
	const nn_spec *sp = nn_get_spec(net);
	int ns = sp->n_in, no = sp->n_out;
	float sign = (no == 1 && cls == 0) ? -1.0f : 1.0f;
	double **pts = xcalloc((size_t)cnt, sizeof *pts);
	int *np = xcalloc((size_t)cnt, sizeof *np);
	long rows_cap = 0;
	float *P = NULL, *dX = NULL, *lg = NULL, *dl = NULL;
	double *acc = xmallocarray((size_t)ns, sizeof *acc);
	for (long c0 = 0; c0 < cnt;) {
		long rows = 0, c1 = c0;
		while (c1 < cnt) {
			np[c1] = mlp_breakpoints(v, X + (size_t)idx[c1] * (size_t)ns, baseline, &pts[c1]);
			rows += np[c1] - 1;
			c1++;
			if (rows >= cap)
				break;
		}
		if (rows > rows_cap) {
			rows_cap = rows;
			P = xreallocarray(P, (size_t)rows * (size_t)ns, sizeof *P);
			dX = xreallocarray(dX, (size_t)rows * (size_t)ns, sizeof *dX);
			lg = xreallocarray(lg, (size_t)rows * (size_t)no, sizeof *lg);
			dl = xreallocarray(dl, (size_t)rows * (size_t)no, sizeof *dl);
		}
		long r = 0;
		for (long q = c0; q < c1; q++) {
			const float *x = X + (size_t)idx[q] * (size_t)ns;
			for (int k = 0; k + 1 < np[q]; k++, r++) {
				double a = 0.5 * (pts[q][k] + pts[q][k + 1]);
				for (int j = 0; j < ns; j++)
					P[(size_t)r * (size_t)ns + (size_t)j] =
						(float)((double)baseline[j] + a * ((double)x[j] - (double)baseline[j]));
			}
		}
		nn_forward(net, P, (int)rows, lg, 0, NULL);
		memset(dl, 0, (size_t)rows * (size_t)no * sizeof *dl);
		for (long k = 0; k < rows; k++)
			dl[(size_t)k * (size_t)no + (no == 1 ? 0 : (size_t)cls)] = sign;
		nn_backward(net, dl, dX, 0);
		r = 0;
		for (long q = c0; q < c1; q++) {
			const float *x = X + (size_t)idx[q] * (size_t)ns;
			for (int j = 0; j < ns; j++)
				acc[j] = 0.0;
			for (int k = 0; k + 1 < np[q]; k++, r++) {
				double len = pts[q][k + 1] - pts[q][k];
				const float *g = dX + (size_t)r * (size_t)ns;
				for (int j = 0; j < ns; j++)
					acc[j] += len * (double)g[j];
			}
			float *out = attr + (size_t)idx[q] * (size_t)ns;
			for (int j = 0; j < ns; j++)
				out[j] = (float)(((double)x[j] - (double)baseline[j]) * acc[j]);
			if (steps)
				steps[idx[q]] = np[q] - 1;
			free(pts[q]);
		}
		if (progress)
			progress(ctx, c1, total);
		c0 = c1;
	}
	free(P);
	free(dX);
	free(lg);
	free(dl);
	free(acc);
	free(pts);
	free(np);
}

static double completeness(const float *a, int ns, float fx, float fb)
{
	double s = 0.0;
	for (int j = 0; j < ns; j++)
		s += (double)a[j];
	return fabs(s - ((double)fx - (double)fb));
}

/* Rows per forward/backward by default: as many as keep the engine's workspace near
 * 32 MB (its per-row cost is documented in nn.h), so sgemm sees big matrices while a
 * transformer's activations stay in memory bounds. The sequence models run step by step
 * over small products, where a workspace that stays in the caches matters more: about
 * 3 MB for a GRU's path route (nn_seq_path_grad: a few patients of 64 steps at the
 * defaults) and 8 MB for the convolutions' rows (on bench/gru_bench, the GRU's rows ran
 * 25% faster at a quarter of the 32 MB budget). */
static long default_chunk_rows(const nn_spec *sp)
{
	double per_row, budget = 8.0e6; /* floats */
	double K = sp->seq_steps, F = sp->seq_feat, H = sp->gru_hidden, C = sp->conv_channels;
	if (sp->arch == NN_TRANSFORMER) {
		double T = sp->n_tokens + 1;
		per_row = T * (sp->n_blocks * (12.0 * sp->d_model + 3.0 * sp->d_ffn + sp->n_heads * T) +
			       8.0 * sp->d_model);
	} else if (sp->arch == NN_GRU) {
		/* the path route's gates and states of every step, and its head; with attention
		 * its tanh and gradient, the states' gradients and the weights */
		double A = sp->attention;
		per_row = K * (5.0 * H + 1.0) + 11.0 * H + 2.0 * sp->n_in + 2.0 * sp->hidden[0] +
			  (A > 0 ? K * (2.0 * A + H + 4.0) + 2.0 * H : 0.0);
		budget = 8.0e5;
	} else if (sp->arch >= NN_GRU) { /* cnn, cnn-gru (with attention or not): rows */
		/* the sequence workspace of nn_seq.c: gates and states of every step, and the
		 * attention's (its tanh and gradient, the states' gradients, weights) */
		double A = sp->attention;
		per_row = K * (10.0 * H + (3.0 + 2.0 * sp->conv_width) * F + 3.0 * C + 2.0 * (F > C ? F : C)) +
			  sp->n_in + 4.0 * sp->hidden[0] +
			  (A > 0 ? K * (2.0 * A + H + 5.0) + 6.0 * H : 0.0);
		budget = 2.0e6;
	} else {
		per_row = sp->n_in;
		for (int i = 0; i < sp->n_hidden && sp->arch == NN_MLP; i++)
			per_row += 2.0 * sp->hidden[i];
	}
	per_row += 2.0 * sp->n_in + 2.0 * sp->n_out; /* the path rows and input gradients */
	long rows = (long)(budget / per_row);
	return rows < 64 ? 64 : rows > 16384 ? 16384 : rows;
}

int ig_batch(nn_model *net, const float *X, long n, const float *baseline, const ig_opts *o,
	     float *attr, float *logit, float *base_logit, float *delta, int *steps,
	     void (*progress)(void *ctx, long done, long total), void *ctx, lm_err *err)
{
	ig_opts def;
	if (!o) {
		ig_opts_defaults(&def);
		o = &def;
	}
	const nn_spec *sp = nn_get_spec(net);
	int no = sp->n_out;
	int min_steps = o->rule == IG_TRAPEZOID ? 2 : 1;
	if (o->steps < min_steps || o->steps > 4096)
		return lm_seterr(err, EX_USAGE, "steps must be between %d and 4096 (got %d)",
				 min_steps, o->steps);
	if ((no == 1 && (o->cls < 0 || o->cls > 1)) || (no > 1 && (o->cls < 0 || o->cls >= no)))
		return lm_seterr(err, EX_USAGE, "class %d is out of range (the model has %d)", o->cls,
				 no == 1 ? 2 : no);
	if (o->rule == IG_EXACT) {
		mlp_view v;
		if (sp->arch != NN_MLP || mlp_view_init(net, &v))
			return lm_seterr(err, EX_USAGE, "the exact rule needs a ReLU mlp (this model is %s)",
					 nn_arch_name(sp->arch));
	}
	if (n <= 0)
		return 0;
	if (n > ig_par_block(n)) /* the blocks of ig_par.c, with one thread or more */
		return ig_batch_par(net, X, n, baseline, o, attr, logit, base_logit, delta, steps,
				    progress, ctx, err);
	ig_batch_block(net, X, n, baseline, o, attr, logit, base_logit, delta, steps, progress, ctx);
	return 0;
}

void ig_batch_block(nn_model *net, const float *X, long n, const float *baseline,
		    const ig_opts *o, float *attr, float *logit, float *base_logit, float *delta,
		    int *steps, void (*progress)(void *ctx, long done, long total), void *ctx)
{
	const nn_spec *sp = nn_get_spec(net);
	int ns = sp->n_in, no = sp->n_out;
	int max_steps = o->auto_steps ? (o->max_steps > 0 ? o->max_steps : IG_MAX_STEPS) : o->steps;
	long cap = o->chunk_rows > 0 ? o->chunk_rows : default_chunk_rows(sp);
	if (cap > n * (long)max_steps) /* a few patients (the TUI's one): no larger buffers */
		cap = n * (long)max_steps;
	if (cap < max_steps)
		cap = max_steps;
	ig_work w;
	work_init(&w, cap, ns, no, o->steps);

	float fb;
	forward_logits(net, &w, baseline, 1, o->cls, &fb);
	if (base_logit)
		*base_logit = fb;
	forward_logits(net, &w, X, n, o->cls, logit);

	long *idx = xmallocarray((size_t)n, sizeof(long));
	for (long i = 0; i < n; i++)
		idx[i] = i;
	long cnt = n;
	int s = o->steps;
	if (o->rule == IG_EXACT) {
		mlp_view v;
		mlp_view_init(net, &v);
		ig_exact(net, &v, X, baseline, idx, n, o->cls, cap, attr, steps, progress, ctx, n);
		for (long i = 0; i < n; i++)
			delta[i] = (float)completeness(attr + (size_t)i * (size_t)ns, ns, logit[i], fb);
		cnt = 0;
	}
	for (; cnt > 0;) {
		ig_fixed(net, &w, X, baseline, idx, cnt, s, o->rule, o->cls, attr,
			 s == o->steps ? progress : NULL, ctx, 0, n);
		long keep = 0;
		for (long q = 0; q < cnt; q++) {
			long i = idx[q];
			double d = completeness(attr + (size_t)i * (size_t)ns, ns, logit[i], fb);
			delta[i] = (float)d;
			if (steps)
				steps[i] = s;
			double lim = o->tol * fabs((double)logit[i] - (double)fb);
			if (o->auto_steps && d > lim && d > o->abs_tol)
				idx[keep++] = i;
		}
		cnt = keep;
		if (!o->auto_steps || cnt == 0 || s * 2 > max_steps)
			break;
		s *= 2;
	}
	free(idx);
	work_free(&w);
}

/* ---- baselines ---- */

int ig_baseline_parse(const char *s, ig_baseline *b, lm_err *err)
{
	memset(b, 0, sizeof *b);
	if (!strcmp(s, "mean"))
		b->kind = IG_BASE_MEAN;
	else if (!strcmp(s, "zero"))
		b->kind = IG_BASE_ZERO;
	else if (!strcmp(s, "median"))
		b->kind = IG_BASE_MEDIAN;
	else if (!strncmp(s, "patient:", 8) && s[8] && strlen(s + 8) < sizeof b->patient) {
		b->kind = IG_BASE_PATIENT;
		strcpy(b->patient, s + 8);
	} else
		return lm_seterr(err, EX_USAGE,
				 "unknown baseline '%s' (mean, zero, median or patient:ID)", s);
	return 0;
}

const char *ig_baseline_text(const ig_baseline *b, char *buf, size_t len)
{
	static const char *names[] = {"mean", "zero", "median", "patient"};
	if (b->kind == IG_BASE_PATIENT)
		snprintf(buf, len, "patient:%s", b->patient);
	else
		snprintf(buf, len, "%s", names[b->kind]);
	return buf;
}

/* The k-th smallest of a[0, n) (0-based), rearranging a so that a[0, k) <= a[k] <= a(k, n):
 * quickselect with a three-way partition (a one-hot slot holds only 0 and 1, so equal keys
 * are the common case), expected O(n) where sorting each slot was O(n log n): the median
 * baseline of a million patients in a fraction of a second. Same value as sorting. */
static float select_kth(float *a, long n, long k)
{
	long lo = 0, hi = n - 1;
	while (lo < hi) {
		float x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi], p;
		if (x < y)
			p = y < z ? y : (x < z ? z : x);
		else
			p = x < z ? x : (y < z ? z : y);
		long lt = lo, i = lo, gt = hi;
		while (i <= gt) {
			float v = a[i];
			if (v < p) {
				a[i++] = a[lt];
				a[lt++] = v;
			} else if (v > p) {
				a[i] = a[gt];
				a[gt--] = v;
			} else {
				i++;
			}
		}
		/* a[lo, lt) < p, a[lt, gt] == p, a(gt, hi] > p */
		if (k < lt)
			hi = lt - 1;
		else if (k > gt)
			lo = gt + 1;
		else
			return p;
	}
	return a[k];
}

void ig_baseline_from_matrix(ig_base_kind kind, const float *X, long n, int nslot, float *out)
{
	if (n <= 0) {
		memset(out, 0, (size_t)nslot * sizeof *out);
		return;
	}
	if (kind == IG_BASE_MEDIAN) {
		float *col = xmallocarray((size_t)n, sizeof *col);
		for (int j = 0; j < nslot; j++) {
			for (long i = 0; i < n; i++)
				col[i] = X[(size_t)i * (size_t)nslot + (size_t)j];
			float hi = select_kth(col, n, n / 2);
			if (n % 2) {
				out[j] = hi;
				continue;
			}
			/* select_kth left the n/2 smallest in col[0, n/2): the lower middle is their max */
			float lo = col[0];
			for (long i = 1; i < n / 2; i++)
				if (col[i] > lo)
					lo = col[i];
			out[j] = 0.5f * (lo + hi);
		}
		free(col);
		return;
	}
	double *s = xcalloc((size_t)nslot, sizeof *s);
	for (long i = 0; i < n; i++)
		for (int j = 0; j < nslot; j++)
			s[j] += (double)X[(size_t)i * (size_t)nslot + (size_t)j];
	for (int j = 0; j < nslot; j++)
		out[j] = (float)(s[j] / (double)n);
	free(s);
}

void ig_baseline_zero(const enc_spec *spec, float *out)
{
	for (int j = 0; j < spec->nslot; j++) {
		const enc_slot *sl = &spec->slot[j];
		out[j] = sl->kind == SLOT_NUMERIC ? (float)((0.0 - sl->center) / sl->scale) : 0.0f;
	}
}

