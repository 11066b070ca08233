/* ops_train_cox.c: training a Cox proportional-hazards model (or a network on the Cox partial
 * likelihood) as a job, with the same input encoding and stratified K-fold scheme as the
 * other models: each fold's model (its own standardisation, coefficients and baseline hazard)
 * gives its held-out patients their linear predictor and survival curve; the final model is
 * fitted on every patient. Stored as coxmodel.h describes, in one transaction. Warnings reach
 * the caller as ops_train events; lumen train --model cox (src/cli/train_cox.c) prints them. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../explain/ig.h"
#include "../data/encoder.h"
#include "../data/visits_enc.h"
#include "../nn/coxmodel.h"
#include "../nn/coxnet.h"
#include "../nn/model.h"
#include "../stats/cox.h"
#include "../stats/km.h"
#include "../stats/metrics.h"
#include "../stats/surveval.h"
#include "ops.h"

/* ---- the data ---- */

typedef struct cox_run {
	ops_train_opts a;
	char *ev_col, *ev_val; /* --event split at '=' */
	char **feat;
	int nfeat;
	frame f;
	int tcol, ecol;     /* frame columns */
	double *time;       /* nrow */
	int *event;         /* nrow */
	long events;
	char ev_desc[256];
	int *fold;
	double *times;      /* evaluation times */
	int ntimes;
	double horizon;
	model *m;
	double *oof_lp, *oof_risk, *risk_sd;
	double **oof_surv;  /* ntimes x nrow */
	cJSON *folds_json;
	int final_epochs;   /* neural: the final network's epochs */
	long *fold_nbase;   /* each fold's baseline hazard */
	double **fold_btime, **fold_bhaz;
} cox_run;

/* A warning for the caller (ops_train_event OPS_TRAIN_WARNING); none with --quiet. */
static void note(const cox_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const cox_run *r, const char *fmt, ...)
{
	if (r->a.quiet || !r->a.progress)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	ops_train_event ev = {OPS_TRAIN_WARNING, -2, r->a.folds, 0, NAN, NAN, NAN, line};
	r->a.progress(r->a.ctx, &ev);
}

static int is_time_or_event(const cox_run *r, const char *name)
{
	return !strcmp(name, r->a.time) || !strcmp(name, r->ev_col);
}

static char **features(const store_columns *cols, cox_run *r, lm_err *err)
{
	int ne = 0;
	char **ex = lm_split(r->a.exclude ? r->a.exclude : "", &ne), **out = NULL;
	for (int i = 0; i < ne; i++)
		if (store_columns_find(cols, ex[i]) < 0) {
			lm_seterr(err, EX_DATAERR, "--exclude: no column '%s'", ex[i]);
			goto done;
		}
	if (r->a.features) {
		out = lm_split(r->a.features, &r->nfeat);
		for (int i = 0; i < r->nfeat; i++) {
			int j = store_columns_find(cols, out[i]);
			if (j < 0)
				lm_seterr(err, EX_DATAERR, "--features: no column '%s'", out[i]);
			else if (!strcmp(out[i], r->a.time))
				lm_seterr(err, EX_DATAERR,
					  "--features: '%s' is the time column and cannot be a feature",
					  out[i]);
			else if (!strcmp(out[i], r->ev_col))
				lm_seterr(err, EX_DATAERR,
					  "--features: '%s' is the event column and cannot be a feature",
					  out[i]);
			else if (cols->c[j].role == COL_ROLE_ID)
				lm_seterr(err, EX_DATAERR, "--features: '%s' is the id column", out[i]);
			else
				continue;
			lm_split_free(out, r->nfeat);
			out = NULL;
			r->nfeat = 0;
			goto done;
		}
	} else {
		out = xcalloc((size_t)cols->n + 1, sizeof *out);
		for (int j = 0; j < cols->n; j++) {
			const store_column *c = &cols->c[j];
			if (c->role != COL_ROLE_FEATURE && c->role != COL_ROLE_GROUP && c->role != COL_ROLE_TREATMENT)
				continue;
			int skip = 0;
			for (int i = 0; i < ne; i++)
				skip |= !strcmp(ex[i], c->name);
			if (skip || is_time_or_event(r, c->name))
				continue;
			if (c->type == COL_TYPE_TEXT &&
			    (c->ncat == 0 || c->ncat > FRAME_MAX_CATS || c->ncat < c->distinct))
				continue;
			out[r->nfeat++] = xstrdup(c->name);
		}
	}
	if (r->nfeat == 0) {
		lm_split_free(out, 0);
		out = NULL;
		lm_seterr(err, EX_DATAERR, "no feature columns left to train on");
	}
done:
	lm_split_free(ex, ne);
	return out;
}

/* Time and event of every patient: every value must be usable, or the run stops
 * (ops_outcome_read). */
static int outcome(cox_run *r, lm_err *err)
{
	return ops_outcome_read(&r->f, r->a.file, r->tcol, r->ecol, r->ev_val, &r->time, &r->event,
				&r->events, r->ev_desc, sizeof r->ev_desc, err);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Evaluation times: --times, or the quartiles of the event times (the value below which a
 * quarter, half, three quarters of the events fall). */
static int eval_times(cox_run *r, lm_err *err)
{
	if (r->a.times) {
		int n = 0;
		char **s = lm_split(r->a.times, &n);
		r->times = xmallocarray((size_t)(n ? n : 1), sizeof *r->times);
		for (int i = 0; i < n; i++)
			if (parse_double(s[i], &r->times[i]) != 0 || !(r->times[i] > 0)) {
				lm_seterr(err, EX_USAGE, "--times: '%s' is not a positive time", s[i]);
				lm_split_free(s, n);
				return EX_USAGE;
			}
		lm_split_free(s, n);
		r->ntimes = n;
		if (!n)
			return lm_seterr(err, EX_USAGE, "--times: no times given");
	} else {
		double *et = xmallocarray((size_t)r->events, sizeof *et);
		long k = 0;
		for (long i = 0; i < r->f.nrow; i++)
			if (r->event[i])
				et[k++] = r->time[i];
		qsort(et, (size_t)k, sizeof *et, cmp_double);
		r->times = xmallocarray(3, sizeof *r->times);
		for (int q = 1; q <= 3; q++) {
			long at = (long)ceil((double)k * q / 4.0) - 1;
			r->times[r->ntimes++] = et[at < 0 ? 0 : at];
		}
		free(et);
	}
	r->horizon = isnan(r->a.horizon) ? r->times[r->ntimes / 2] : r->a.horizon;
	return 0;
}

/* ---- fitting ---- */

/* Encodes rows with spec into doubles (n x nslot). */
static int encode(const cox_run *r, const enc_spec *spec, const long *rows, long n,
		  double *X, lm_err *err)
{
	int ns = spec->nslot;
	float *Xf = xmallocarray((size_t)(n ? n : 1) * (size_t)ns, sizeof *Xf);
	int st = enc_encode(spec, &r->f, rows, n, Xf, err);
	for (size_t k = 0; k < (size_t)n * (size_t)ns; k++)
		X[k] = Xf[k];
	free(Xf);
	return st;
}

/* Reference levels: the first one-hot slot of every categorical column. */
static int *reference_slots(const enc_spec *spec)
{
	int *fx = xcalloc((size_t)spec->nslot, sizeof *fx);
	for (int s = 0; s < spec->nslot; s++)
		if (spec->slot[s].kind == SLOT_ONEHOT &&
		    (s == 0 || spec->slot[s - 1].token != spec->slot[s].token))
			fx[s] = 1;
	return fx;
}

/* Fits rows with spec: fit filled; X (n x nslot) is the encoding, for the caller to free. */
static int fit_rows(const cox_run *r, const enc_spec *spec, const long *rows, long n,
		    cox_fit *fit, lm_err *err)
{
	int ns = spec->nslot;
	double *X = xmallocarray((size_t)(n ? n : 1) * (size_t)ns, sizeof *X);
	double *t = xmallocarray((size_t)(n ? n : 1), sizeof *t);
	int *e = xmallocarray((size_t)(n ? n : 1), sizeof *e);
	int st = encode(r, spec, rows, n, X, err);
	for (long i = 0; i < n; i++) {
		t[i] = r->time[rows[i]];
		e[i] = r->event[rows[i]];
	}
	int *fx = reference_slots(spec);
	cox_opts o;
	cox_opts_defaults(&o);
	o.ties = r->a.ties;
	o.l2 = r->a.l2;
	o.fixed = fx;
	if (!st)
		st = cox_fit_run(X, t, e, n, ns, &o, fit, err);
	free(fx);
	free(X);
	free(t);
	free(e);
	return st;
}

static double dot(const double *x, const double *b, int p)
{
	double s = 0;
	for (int a = 0; a < p; a++)
		s += x[a] * b[a];
	return s;
}

static cJSON *eval_json(const cox_run *r, const long *rows, long n, const double *lp,
			double *const *surv, const double *risk_h)
{
	double *t = xmallocarray((size_t)(n ? n : 1), sizeof *t);
	int *e = xmallocarray((size_t)(n ? n : 1), sizeof *e);
	long ev = 0;
	for (long i = 0; i < n; i++) {
		t[i] = r->time[rows[i]];
		e[i] = r->event[rows[i]];
		ev += e[i];
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "n", (double)n);
	cJSON_AddNumberToObject(o, "events", (double)ev);
	surveval_conc h, u;
	surveval_concordance(t, e, lp, n, 0, INFINITY, &h);
	double tau = r->times[r->ntimes - 1];
	surveval_concordance(t, e, lp, n, 1, tau, &u);
	metrics_json_number(o, "c_index", h.c);
	metrics_json_number(o, "uno_c", u.c);
	cJSON_AddNumberToObject(o, "uno_tau", tau);
	cJSON *at = cJSON_AddArrayToObject(o, "at");
	double *s = xmallocarray((size_t)(n ? n : 1), sizeof *s);
	double *rk = xmallocarray((size_t)(n ? n : 1), sizeof *rk);
	for (int k = 0; k < r->ntimes; k++) {
		/* ranked by the risk at t: fold models have baselines of their own, so the
		 * pooled linear predictors alone would not order patients of two folds */
		for (long i = 0; i < n; i++) {
			s[i] = surv[k][i];
			rk[i] = 1 - s[i];
		}
		cJSON *a = cJSON_CreateObject();
		cJSON_AddNumberToObject(a, "time", r->times[k]);
		metrics_json_number(a, "auc", surveval_auc_t(t, e, rk, n, r->times[k]));
		metrics_json_number(a, "brier", surveval_brier_t(t, e, s, n, r->times[k]));
		cJSON_AddItemToArray(at, a);
	}
	/* at the horizon: the AUC and Brier `lumen models` shows, and calibration by decile */
	for (long i = 0; i < n; i++)
		s[i] = 1 - risk_h[i];
	cJSON_AddNumberToObject(o, "horizon", r->horizon);
	metrics_json_number(o, "auc", surveval_auc_t(t, e, risk_h, n, r->horizon));
	metrics_json_number(o, "brier", surveval_brier_t(t, e, s, n, r->horizon));
	surveval_calib c;
	surveval_calibration(t, e, s, n, r->horizon, 10, &c);
	cJSON *cal = cJSON_AddObjectToObject(o, "calibration");
	cJSON_AddNumberToObject(cal, "time", r->horizon);
	cJSON *g = cJSON_AddArrayToObject(cal, "groups");
	for (int k = 0; k < c.groups; k++) {
		cJSON *gi = cJSON_CreateObject();
		cJSON_AddNumberToObject(gi, "n", (double)c.n[k]);
		metrics_json_number(gi, "predicted", c.predicted[k]);
		metrics_json_number(gi, "observed", c.observed[k]);
		cJSON_AddItemToArray(g, gi);
	}
	surveval_calib_free(&c);
	free(s);
	free(rk);
	free(t);
	free(e);
	return o;
}

/* The coefficient table of the final fit, on each input's own units. */
static cJSON *table_json(const cox_run *r, const cox_fit *fit, double c_final)
{
	const enc_spec *sp = &r->m->spec;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "n", (double)fit->n);
	cJSON_AddNumberToObject(o, "events", (double)fit->events);
	cJSON_AddStringToObject(o, "ties", r->a.ties == COX_EFRON ? "efron" : "breslow");
	cJSON_AddNumberToObject(o, "l2", r->a.l2);
	cJSON_AddNumberToObject(o, "loglik0", fit->loglik0);
	cJSON_AddNumberToObject(o, "loglik", fit->loglik);
	cJSON *lr = cJSON_AddObjectToObject(o, "lr");
	cJSON_AddNumberToObject(lr, "chisq", fit->lr_chisq);
	cJSON_AddNumberToObject(lr, "df", fit->df);
	metrics_json_number(lr, "p", fit->lr_p);
	cJSON_AddNumberToObject(o, "iterations", fit->iter);
	cJSON_AddBoolToObject(o, "converged", fit->converged);
	metrics_json_number(o, "c_final", c_final);
	cJSON *a = cJSON_AddArrayToObject(o, "coefficients");
	for (int s = 0; s < sp->nslot; s++) {
		const enc_slot *sl = &sp->slot[s];
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "input", sl->name);
		cJSON_AddStringToObject(c, "column", sl->column);
		cJSON_AddStringToObject(c, "kind", sl->kind == SLOT_NUMERIC ? "numeric"
						   : sl->kind == SLOT_ONEHOT ? "onehot" : "missing");
		cJSON_AddBoolToObject(c, "aliased", fit->aliased[s]);
		/* the reference level of a categorical column; other aliased inputs are
		 * combinations of earlier ones (a missing indicator equal to another's) */
		cJSON_AddBoolToObject(c, "reference",
				      sl->kind == SLOT_ONEHOT && (s == 0 || sp->slot[s - 1].token != sl->token));
		if (!fit->aliased[s]) {
			/* numeric inputs were standardised: per unit of the column, b / scale */
			double sc = sl->kind == SLOT_NUMERIC && sl->scale > 0 ? sl->scale : 1;
			double b = fit->beta[s] / sc, se = fit->se[s] / sc, z = b / se;
			cJSON_AddNumberToObject(c, "coef", b);
			cJSON_AddNumberToObject(c, "se", se);
			cJSON_AddNumberToObject(c, "hr", exp(b));
			cJSON_AddNumberToObject(c, "hr_lower", exp(b - 1.959963984540054 * se));
			cJSON_AddNumberToObject(c, "hr_upper", exp(b + 1.959963984540054 * se));
			cJSON_AddNumberToObject(c, "z", z);
			metrics_json_number(c, "p", erfc(fabs(z) / sqrt(2.0)));
			cJSON_AddNumberToObject(c, "coef_per_sd", fit->beta[s]);
		}
		cJSON_AddItemToArray(a, c);
	}
	return o;
}

/* The proportional-hazards check of the final fit per source column and globally (R's
 * cox.zph, transform "km"), with a warning for each column whose p is below 0.05. */
static void add_zph(const cox_run *r, const cox_fit *fit, const double *X, cJSON *cx)
{
	const enc_spec *sp = &r->m->spec;
	cox_zph z;
	cox_zph_compute(X, r->time, r->event, r->f.nrow, sp->nslot, fit->beta, r->a.ties, &z);
	int *sel = xcalloc((size_t)sp->nslot, sizeof *sel);
	cJSON *a = cJSON_AddArrayToObject(cx, "zph");
	for (int c = 0; c <= sp->ncolumn; c++) {
		for (int s = 0; s < sp->nslot; s++)
			sel[s] = c == sp->ncolumn || sp->slot[s].token == c;
		int df;
		double chi = cox_zph_test(&z, fit->aliased, sel, &df);
		if (df == 0)
			continue;
		double pv = isnan(chi) ? (double)NAN : km_chisq_upper(chi < 0 ? 0 : chi, df);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "column", c == sp->ncolumn ? "GLOBAL" : sp->columns[c]);
		metrics_json_number(o, "chisq", chi);
		cJSON_AddNumberToObject(o, "df", df);
		metrics_json_number(o, "p", pv);
		if (c == sp->ncolumn)
			cJSON_AddItemToObject(cx, "zph_global", o);
		else
			cJSON_AddItemToArray(a, o);
		if (c < sp->ncolumn && pv < 0.05 && !r->a.quiet)
			note(r, "'%s' may break the proportional-hazards assumption (scaled Schoenfeld"
				" residuals: chi-square %.2f on %d df, p = %.3g)",
			     sp->columns[c], chi, df, pv);
	}
	free(sel);
	cox_zph_free(&z);
}

static char *hyper(const cox_run *r)
{
	cJSON *h = cJSON_CreateObject();
	cJSON_AddStringToObject(h, "time", r->a.time);
	cJSON_AddStringToObject(h, "event", r->ev_col);
	if (r->ev_val)
		cJSON_AddStringToObject(h, "event_value", r->ev_val);
	else
		cJSON_AddNullToObject(h, "event_value");
	cJSON_AddStringToObject(h, "ties", r->a.ties == COX_EFRON ? "efron" : "breslow");
	cJSON *t = cJSON_AddArrayToObject(h, "times");
	for (int k = 0; k < r->ntimes; k++)
		cJSON_AddItemToArray(t, cJSON_CreateNumber(r->times[k]));
	cJSON_AddNumberToObject(h, "horizon", r->horizon);
	cJSON_AddNumberToObject(h, "folds", r->a.folds);
	if (r->a.neural) {
		coxnet_opts o;
		coxnet_defaults(&o);
		cJSON_AddStringToObject(h, "loss", "cox partial likelihood (breslow)");
		cJSON_AddNumberToObject(h, "epochs", r->a.epochs ? r->a.epochs : o.epochs);
		cJSON_AddNumberToObject(h, "batch", r->a.batch ? r->a.batch : o.batch);
		cJSON_AddNumberToObject(h, "lr", r->a.lr > 0 ? r->a.lr : 1e-3);
		cJSON_AddNumberToObject(h, "val_frac", 0.15);
		cJSON_AddNumberToObject(h, "patience", o.patience);
		cJSON_AddNumberToObject(h, "final_epochs", r->final_epochs);
	}
	cJSON_AddStringToObject(h, "final", "refit");
	return json_take(h);
}

/* A neural Cox member: an mlp or transformer with one output trained on the partial
 * likelihood (coxnet.h); fit gets its baseline hazard from the training rows' scores, the
 * best epoch in *best. epochs > 0: that many epochs on every row (the final model). */
static int fit_neural(const cox_run *r, const enc_spec *spec, const long *rows, long n,
		      uint64_t seed, int epochs, nn_model **net, cox_fit *fit, int *best,
		      lm_err *err)
{
	memset(fit, 0, sizeof *fit);
	*net = NULL;
	int ns = spec->nslot;
	int *tokens = xmallocarray((size_t)ns, sizeof *tokens);
	nn_spec sp;
	nn_spec_defaults(&sp, (nn_arch)nn_arch_parse(r->a.arch), ns, 1);
	if (r->a.dropout >= 0)
		sp.dropout = (float)r->a.dropout;
	if (r->a.hidden) {
		int nh = 0;
		char **h = lm_split(r->a.hidden, &nh);
		sp.n_hidden = 0;
		for (int i = 0; i < nh && i < NN_MAX_HIDDEN; i++) {
			long v;
			if (parse_long(h[i], &v) == 0 && v > 0 && v < 100000)
				sp.hidden[sp.n_hidden++] = (int)v;
		}
		lm_split_free(h, nh);
	}
	for (int i = 0; i < ns; i++)
		tokens[i] = spec->slot[i].token;
	sp.n_tokens = spec->ncolumn;
	sp.slot_token = tokens;
	int S;
	venc_geometry(spec, &S, &sp.seq_steps, &sp.seq_feat); /* a sequence model's visit steps */
	sp.attention = r->a.attention;
	nn_model *m = nn_create(&sp, seed, err);
	free(tokens);
	if (!m)
		return err->status ? err->status : EX_SOFTWARE;
	float *X = xmallocarray((size_t)(n ? n : 1) * (size_t)ns, sizeof *X);
	double *t = xmallocarray((size_t)(n ? n : 1), sizeof *t), *lp = xmallocarray((size_t)(n ? n : 1), sizeof *lp);
	int *e = xmallocarray((size_t)(n ? n : 1), sizeof *e);
	float *z = xmallocarray((size_t)(n ? n : 1), sizeof *z);
	int st = enc_encode(spec, &r->f, rows, n, X, err);
	for (long i = 0; i < n; i++) {
		t[i] = r->time[rows[i]];
		e[i] = r->event[rows[i]];
	}
	coxnet_opts o;
	coxnet_defaults(&o);
	o.seed = seed ^ 0x5eed;
	if (r->a.epochs)
		o.epochs = r->a.epochs;
	if (r->a.batch)
		o.batch = r->a.batch;
	if (r->a.lr > 0)
		o.lr = (float)r->a.lr;
	if (epochs > 0) {
		o.epochs = epochs;
		o.val_frac = 0;
		o.patience = epochs;
	}
	coxnet_result res;
	if (!st)
		st = coxnet_train(m, X, t, e, n, &o, &res, err);
	if (!st) {
		nn_logits(m, X, n, z);
		for (long i = 0; i < n; i++)
			lp[i] = z[i];
		cox_baseline(lp, t, e, n, COX_BRESLOW, &fit->nbase, &fit->btime, &fit->bhaz);
		fit->n = n;
		fit->converged = 1;
		fit->iter = res.epochs_run;
		*best = res.best_epoch;
		*net = m;
	} else {
		nn_free(m);
	}
	free(X);
	free(t);
	free(lp);
	free(e);
	free(z);
	return st;
}

/* Linear predictors of every frame row under a fold's member. */
static int member_lp(const cox_run *r, const enc_spec *spec, const cox_fit *fk, nn_model *net,
		     double *lp, lm_err *err)
{
	long n = r->f.nrow;
	int ns = spec->nslot;
	long *all = xmallocarray((size_t)n, sizeof *all);
	for (long i = 0; i < n; i++)
		all[i] = i;
	int st;
	if (r->a.neural) {
		float *X = xmallocarray((size_t)n * (size_t)ns, sizeof *X);
		float *z = xmallocarray((size_t)n, sizeof *z);
		if (!(st = enc_encode(spec, &r->f, all, n, X, err))) {
			nn_logits(net, X, n, z);
			for (long i = 0; i < n; i++)
				lp[i] = z[i];
		}
		free(X);
		free(z);
	} else {
		double *X = xmallocarray((size_t)n * (size_t)ns, sizeof *X);
		if (!(st = encode(r, spec, all, n, X, err)))
			for (long i = 0; i < n; i++)
				lp[i] = dot(X + (size_t)i * (size_t)ns, fk->beta, ns);
		free(X);
	}
	free(all);
	return st;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Cross-validation and the final fit; fills r->m, the out-of-fold arrays, and metrics. */
static int run_fits(cox_run *r, cox_fit *final, lm_err *err)
{
	long n = r->f.nrow;
	int K = r->a.folds, ns = r->m->spec.nslot;
	r->m->nfold = K;
	r->m->fold = xcalloc((size_t)K, sizeof *r->m->fold);
	r->m->fold_spec = xcalloc((size_t)K, sizeof *r->m->fold_spec);
	r->oof_lp = xcalloc((size_t)n, sizeof *r->oof_lp);
	r->oof_risk = xcalloc((size_t)n, sizeof *r->oof_risk);
	r->risk_sd = xcalloc((size_t)n, sizeof *r->risk_sd);
	r->oof_surv = xcalloc((size_t)r->ntimes, sizeof *r->oof_surv);
	for (int k = 0; k < r->ntimes; k++)
		r->oof_surv[k] = xcalloc((size_t)n, sizeof **r->oof_surv);
	r->folds_json = cJSON_CreateArray();
	r->fold_nbase = xcalloc((size_t)K, sizeof *r->fold_nbase);
	r->fold_btime = xcalloc((size_t)K, sizeof *r->fold_btime);
	r->fold_bhaz = xcalloc((size_t)K, sizeof *r->fold_bhaz);
	long *all = xmallocarray((size_t)n, sizeof *all), *tr = xmallocarray((size_t)n, sizeof *tr);
	for (long i = 0; i < n; i++)
		all[i] = i;
	double *X = xmallocarray((size_t)n, sizeof *X); /* each patient's lp under fold k */
	double *mean = xcalloc((size_t)n, sizeof *mean), *m2 = xcalloc((size_t)n, sizeof *m2);
	int *best_epoch = xcalloc((size_t)K, sizeof *best_epoch);
	int st = 0;
	for (int k = 0; k < K && !st; k++) {
		long ntr = 0;
		for (long i = 0; i < n; i++)
			if (r->fold[i] != k)
				tr[ntr++] = i;
		enc_refit(&r->m->spec, &r->f, tr, ntr, &r->m->fold_spec[k]);
		cox_fit fk;
		nn_model *net = NULL;
		if (r->a.neural)
			st = fit_neural(r, &r->m->fold_spec[k], tr, ntr,
					(uint64_t)r->a.seed * 7919u + 1u + (uint64_t)k, 0, &net, &fk,
					&best_epoch[k], err);
		else
			st = fit_rows(r, &r->m->fold_spec[k], tr, ntr, &fk, err);
		if (st) {
			char *s = xasprintf("fold %d: %s", k + 1, err->msg);
			snprintf(err->msg, sizeof err->msg, "%s", s);
			free(s);
			break;
		}
		if (!fk.converged && !r->a.quiet)
			note(r, "fold %d: the Cox fit did not converge in %d iterations (an input"
				" separates the events?)",
			     k + 1, fk.iter);
		if (fk.ridged && !r->a.quiet)
			note(r, "fold %d: the information matrix became singular (a coefficient running"
				" off to infinity); inverted with a tiny ridge",
			     k + 1);
		r->m->fold[k] = r->a.neural ? net : coxm_net(ns, fk.beta, r->a.l2, err);
		if (!r->m->fold[k] || (st = member_lp(r, &r->m->fold_spec[k], &fk, net, X, err))) {
			st = st ? st : EX_SOFTWARE;
			cox_fit_free(&fk);
			break;
		}
		/* every patient through this fold's model: held-out ones keep theirs, and the
		 * spread of the risk at the horizon over the fold models */
		long nte = 0;
		for (long i = 0; i < n; i++) {
			double lp = X[i];
			double risk = 1 - cox_surv_at(fk.btime, fk.bhaz, fk.nbase, r->horizon, lp);
			double d = risk - mean[i];
			mean[i] += d / (k + 1);
			m2[i] += d * (risk - mean[i]);
			if (r->fold[i] != k)
				continue;
			nte++;
			r->oof_lp[i] = lp;
			r->oof_risk[i] = risk;
			for (int q = 0; q < r->ntimes; q++)
				r->oof_surv[q][i] = cox_surv_at(fk.btime, fk.bhaz, fk.nbase, r->times[q], lp);
		}
		/* this fold's held-out patients on their own */
		long *te = xmallocarray((size_t)(nte ? nte : 1), sizeof *te);
		double *lp = xmallocarray((size_t)(nte ? nte : 1), sizeof *lp);
		double *rk = xmallocarray((size_t)(nte ? nte : 1), sizeof *rk);
		double **sv = xcalloc((size_t)r->ntimes, sizeof *sv);
		for (int q = 0; q < r->ntimes; q++)
			sv[q] = xmallocarray((size_t)(nte ? nte : 1), sizeof **sv);
		long j = 0;
		for (long i = 0; i < n; i++)
			if (r->fold[i] == k) {
				te[j] = i;
				lp[j] = r->oof_lp[i];
				rk[j] = r->oof_risk[i];
				for (int q = 0; q < r->ntimes; q++)
					sv[q][j] = r->oof_surv[q][i];
				j++;
			}
		cJSON *fj = eval_json(r, te, nte, lp, sv, rk);
		cJSON_AddNumberToObject(fj, "fold", k);
		cJSON_AddNumberToObject(fj, "iterations", fk.iter);
		cJSON_AddItemToArray(r->folds_json, fj);
		for (int q = 0; q < r->ntimes; q++)
			free(sv[q]);
		free(sv);
		free(te);
		free(lp);
		free(rk);
		/* the fold's baseline hazard is stored with the model */
		r->fold_nbase[k] = fk.nbase;
		r->fold_btime[k] = fk.btime;
		r->fold_bhaz[k] = fk.bhaz;
		fk.btime = fk.bhaz = NULL;
		cox_fit_free(&fk);
	}
	for (long i = 0; i < n; i++)
		r->risk_sd[i] = sqrt(m2[i] / K);
	free(mean);
	free(m2);
	if (!st && r->a.neural) {
		/* the final network: every patient, for the median of the folds' best epochs */
		qsort(best_epoch, (size_t)K, sizeof *best_epoch, cmp_int);
		r->final_epochs = best_epoch[K / 2] > 0 ? best_epoch[K / 2] : 1;
		st = fit_neural(r, &r->m->spec, all, n, (uint64_t)r->a.seed * 7919u, r->final_epochs,
				&r->m->final, final, &best_epoch[0], err);
		if (st) {
			char *s = xasprintf("final model: %s", err->msg);
			snprintf(err->msg, sizeof err->msg, "%s", s);
			free(s);
		}
	} else if (!st && (st = fit_rows(r, &r->m->spec, all, n, final, err))) {
		char *s = xasprintf("final model: %s", err->msg);
		snprintf(err->msg, sizeof err->msg, "%s", s);
		free(s);
	}
	if (!st && !r->a.neural && !(r->m->final = coxm_net(ns, final->beta, r->a.l2, err)))
		st = EX_SOFTWARE;
	free(best_epoch);
	free(all);
	free(tr);
	free(X);
	return st;
}

/* Everything stored, in one transaction. */
static int store_all(sqlite3 *db, cox_run *r, const cox_fit *final, lm_err *err)
{
	long n = r->f.nrow;
	int ns = r->m->spec.nslot;
	float *T = xmallocarray((size_t)n * (size_t)ns, sizeof *T);
	long *all = xmallocarray((size_t)n, sizeof *all);
	for (long i = 0; i < n; i++)
		all[i] = i;
	int st = enc_encode(&r->m->spec, &r->f, all, n, T, err);
	if (!st)
		st = store_exec(db, "BEGIN IMMEDIATE", err);
	if (st) {
		free(T);
		free(all);
		return st;
	}
	st = model_save(db, r->m, r->a.force, err);
	if (!st)
		st = ig_baseline_store(db, r->m, T, n, err);
	free(T);
	if (!st)
		st = coxm_baseline_save(db, r->m->id, -1, final->btime, final->bhaz, final->nbase, err);
	for (int k = 0; k < r->a.folds && !st; k++)
		st = coxm_baseline_save(db, r->m->id, k, r->fold_btime[k], r->fold_bhaz[k],
					r->fold_nbase[k], err);
	free(all);
	if (st)
		goto fail;
	sqlite3_stmt *u = store_prepare(db,
					"UPDATE models SET seed = ?, data_sha256 = (SELECT sha256 FROM"
					" datasets WHERE name = 'patients'), n_used = ?, n_excluded = 0,"
					" final = 'refit' WHERE id = ?",
					err);
	if (!u) {
		st = err->status;
		goto fail;
	}
	sqlite3_bind_int64(u, 1, r->a.seed);
	sqlite3_bind_int64(u, 2, n);
	sqlite3_bind_int64(u, 3, r->m->id);
	int rc = sqlite3_step(u);
	sqlite3_finalize(u);
	if (rc != SQLITE_DONE) {
		st = lm_seterr(err, store_status(rc), "%s", sqlite3_errmsg(db));
		goto fail;
	}
	sqlite3_stmt *ins = store_prepare(db,
					  "INSERT INTO predictions(model_id, patient, fold, y, p, p_sd, logit)"
					  " VALUES(?, ?, ?, ?, ?, ?, ?)",
					  err);
	if (!ins) {
		st = err->status;
		goto fail;
	}
	for (long i = 0; i < n && !st; i++) {
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, r->m->id);
		sqlite3_bind_int64(ins, 2, r->f.rowid[i]);
		sqlite3_bind_int(ins, 3, r->fold[i]);
		sqlite3_bind_int(ins, 4, r->event[i]);
		sqlite3_bind_double(ins, 5, r->oof_risk[i]);
		sqlite3_bind_double(ins, 6, r->risk_sd[i]);
		sqlite3_bind_double(ins, 7, r->oof_lp[i]);
		if ((rc = sqlite3_step(ins)) != SQLITE_DONE)
			st = lm_seterr(err, store_status(rc), "saving predictions: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(ins);
	if (!st)
		st = store_exec(db, "COMMIT", err);
	if (!st)
		return 0;
fail:
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return st;
}

static void run_free(cox_run *r)
{
	free(r->ev_col);
	lm_split_free(r->feat, r->nfeat);
	frame_free(&r->f);
	free(r->time);
	free(r->event);
	free(r->fold);
	free(r->times);
	model_free(r->m);
	free(r->oof_lp);
	free(r->oof_risk);
	free(r->risk_sd);
	for (int k = 0; r->oof_surv && k < r->ntimes; k++)
		free(r->oof_surv[k]);
	free(r->oof_surv);
	cJSON_Delete(r->folds_json);
	for (int k = 0; r->fold_btime && k < r->a.folds; k++) {
		free(r->fold_btime[k]);
		free(r->fold_bhaz[k]);
	}
	free(r->fold_btime);
	free(r->fold_bhaz);
	free(r->fold_nbase);
}

int ops_train_cox_run(sqlite3 *db, const ops_train_opts *opts, ops_train *out, lm_err *err)
{
	memset(out, 0, sizeof *out);
	cox_run r;
	memset(&r, 0, sizeof r);
	r.a = *opts;
	if (!r.a.arch)
		r.a.arch = "cox";
	r.a.neural = strcmp(r.a.arch, "cox") != 0;
	if (r.a.neural && strcmp(r.a.arch, "mlp") && strcmp(r.a.arch, "transformer") &&
	    nn_arch_parse(r.a.arch) < NN_GRU)
		return lm_seterr(err, EX_USAGE, "--model %s does not take --time/--event (cox, mlp,"
				 " transformer, gru, cnn or cnn-gru do; logreg takes --horizon)", r.a.arch);
	if (r.a.attention && strcmp(r.a.arch, "gru") && strcmp(r.a.arch, "cnn-gru"))
		return lm_seterr(err, EX_USAGE, "--attention needs --model gru or cnn-gru (%s has no "
				 "GRU states over the visits to attend to)", r.a.arch);
	if (!r.a.time || !r.a.event)
		return lm_seterr(err, EX_USAGE, "--model cox needs --time COL and --event COL[=V]");
	if (r.a.folds < 2)
		return lm_seterr(err, EX_USAGE, "--folds: at least 2");
	if (!r.a.file)
		r.a.file = "patients";
	if (r.a.l2 < 0) /* a Cox model is unpenalised unless asked */
		r.a.l2 = 0;
	if (!(r.a.horizon > 0))
		r.a.horizon = NAN;
	r.ev_col = xstrdup(r.a.event);
	if ((r.ev_val = strchr(r.ev_col, '=')))
		*r.ev_val++ = '\0';
	int st = 0;
	char *name = r.a.name ? xstrdup(r.a.name)
		   : r.a.neural ? xasprintf("%s-cox-%s", r.a.arch, r.ev_col)
				: xasprintf("cox-%s", r.ev_col);
	cox_fit final;
	memset(&final, 0, sizeof final);
	enc_target tg;
	memset(&tg, 0, sizeof tg);
	store_columns cols;
	if ((st = store_columns_load(db, "patients", &cols, err)))
		goto out;
	for (int w = 0; w < 2 && !st; w++) {
		const char *c = w ? r.ev_col : r.a.time;
		if (store_columns_find(&cols, c) < 0)
			st = lm_seterr(err, EX_DATAERR, "%s: no column '%s' in patients (--%s)", r.a.file,
				       c, w ? "event" : "time");
	}
	if (!st && !strcmp(r.ev_col, r.a.time))
		st = lm_seterr(err, EX_USAGE, "--time and --event name the same column");
	if (!st && !(r.feat = features(&cols, &r, err)))
		st = err->status;
	store_columns_free(&cols);
	if (st)
		goto out;
	if (!r.a.force && model_id(db, name) >= 0) {
		st = lm_seterr(err, EX_DATAERR, "a model named '%s' exists; use --force to replace it",
			       name);
		goto out;
	}
	{
		const char **load = xcalloc((size_t)r.nfeat + 2, sizeof *load);
		for (int i = 0; i < r.nfeat; i++)
			load[i] = r.feat[i];
		load[r.nfeat] = r.a.time;
		load[r.nfeat + 1] = r.ev_col;
		st = frame_load(db, "patients", load, r.nfeat + 2, &r.f, err);
		free(load);
		if (!st && nn_arch_parse(r.a.arch) >= NN_GRU)
			st = venc_attach(db, &r.f, err);
		if (st)
			goto out;
		r.tcol = frame_find(&r.f, r.a.time);
		r.ecol = frame_find(&r.f, r.ev_col);
	}
	if ((st = outcome(&r, err)) || (st = eval_times(&r, err)))
		goto out;
	/* folds stratified by event, as the classifiers' are by class */
	static char cens_name[] = "censored", event_name[] = "event";
	char *classes[2] = {cens_name, event_name};
	tg.nclass = 2;
	tg.classes = classes;
	tg.y = xmallocarray((size_t)r.f.nrow, sizeof *tg.y);
	for (long i = 0; i < r.f.nrow; i++)
		tg.y[i] = (float)r.event[i];
	r.fold = xmallocarray((size_t)r.f.nrow, sizeof *r.fold);
	st = enc_folds(&tg, r.f.nrow, r.a.folds, (uint64_t)r.a.seed, r.fold, err);
	free(tg.y);
	if (st)
		goto out;

	r.m = xcalloc(1, sizeof *r.m);
	r.m->name = xstrdup(name);
	r.m->arch = xstrdup(r.a.arch);
	r.m->target = xstrdup(r.ev_col);
	r.m->positive = r.ev_val ? xstrdup(r.ev_val) : NULL;
	r.m->task = xstrdup("survival");
	r.m->nclass = 2;
	r.m->classes = xcalloc(2, sizeof *r.m->classes);
	r.m->classes[0] = xstrdup("censored");
	r.m->classes[1] = xstrdup("event");
	{
		long *all = xmallocarray((size_t)r.f.nrow, sizeof *all);
		for (long i = 0; i < r.f.nrow; i++)
			all[i] = i;
		st = enc_fit(&r.f, (const char *const *)r.feat, r.nfeat, all, r.f.nrow,
				     &r.m->spec, err);
		if (!st && nn_arch_parse(r.a.arch) >= NN_GRU) {
			char *warn = NULL;
			st = venc_fit(&r.m->spec, &r.f, all, r.f.nrow,
				      r.a.max_visits ? r.a.max_visits : 16, &warn, err);
			if (warn)
				note(&r, "%s", warn);
			free(warn);
		}
		free(all);
		if (st)
			goto out;
	}
	if ((st = run_fits(&r, &final, err)))
		goto out;
	if (!final.converged)
		note(&r, "the final Cox fit did not converge in %d iterations (an input separates the"
			 " events?)",
		     final.iter);
	if (final.ridged)
		note(&r, "the final model's information matrix became singular (a coefficient running"
			 " off to infinity); inverted with a tiny ridge, its standard errors are"
			 " unreliable");
	r.m->hyper_json = hyper(&r);
	{
		long n = r.f.nrow;
		int ns = r.m->spec.nslot;
		long *all = xmallocarray((size_t)n, sizeof *all);
		double *X = xmallocarray((size_t)n * (size_t)ns, sizeof *X);
		double *lp = xmallocarray((size_t)n, sizeof *lp);
		for (long i = 0; i < n; i++)
			all[i] = i;
		if (r.a.neural) {
			member_lp(&r, &r.m->spec, &final, r.m->final, lp, err);
		} else {
			encode(&r, &r.m->spec, all, n, X, err);
			for (long i = 0; i < n; i++)
				lp[i] = dot(X + (size_t)i * (size_t)ns, final.beta, ns);
		}
		surveval_conc cf;
		surveval_concordance(r.time, r.event, lp, n, 0, INFINITY, &cf);
		cJSON *mj = cJSON_CreateObject();
		cJSON *pooled = eval_json(&r, all, n, r.oof_lp, r.oof_surv, r.oof_risk);
		cJSON_AddItemToObject(mj, "pooled", pooled);
		cJSON_AddItemToObject(mj, "folds", r.folds_json);
		r.folds_json = NULL;
		if (r.a.neural) {
			cJSON *nc = cJSON_AddObjectToObject(mj, "neural_cox");
			cJSON_AddNumberToObject(nc, "n", (double)n);
			cJSON_AddNumberToObject(nc, "events", (double)r.events);
			metrics_json_number(nc, "c_final", cf.c);
			cJSON_AddNumberToObject(nc, "final_epochs", r.final_epochs);
		} else {
			cJSON *cx = table_json(&r, &final, cf.c);
			add_zph(&r, &final, X, cx);
			cJSON_AddItemToObject(mj, "cox", cx);
		}
		double c_oof = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(pooled, "c_index"));
		r.m->metrics_json = json_take(mj);
		free(all);
		free(X);
		free(lp);
		if ((st = store_all(db, &r, &final, err)))
			goto out;
		out->name = xstrdup(name);
		out->arch = xstrdup(r.a.arch);
		out->target = xstrdup(r.ev_col);
		out->positive = r.ev_val ? xstrdup(r.ev_val) : NULL;
		out->id = r.m->id;
		out->n_used = n;
		out->folds = r.a.folds;
		out->final_epochs = r.final_epochs;
		out->auc = (double)NAN;
		out->survival = 1;
		out->neural = r.a.neural;
		out->events = r.events;
		out->c_index = c_oof;
		out->c_final = cf.c;
		out->lr_chisq = r.a.neural ? (double)NAN : final.lr_chisq;
		out->lr_p = r.a.neural ? (double)NAN : final.lr_p;
		out->df = r.a.neural ? 0 : final.df;
		snprintf(out->event_desc, sizeof out->event_desc, "%s", r.ev_desc);
		if (r.a.neural)
			snprintf(out->final_desc, sizeof out->final_desc, "network trained for %d epochs",
				 r.final_epochs);
		else
			snprintf(out->final_desc, sizeof out->final_desc, "fitted on every patient");
	}
out:
	cox_fit_free(&final);
	run_free(&r);
	free(name);
	return st;
}
