/* ops_survival.c: Kaplan-Meier survival by nothing, a group, the treatment or strata of a
 * model's stored risk, for `lumen survival`, the TUI's Survival screen and lumen.survival:
 * the patients used, the event rule, the groups, the curves and the log-rank test. The one
 * cut rule for risk strata is ops_risk_strata. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../stats/groups.h"
#include "../stats/metrics.h"
#include "ops.h"

/* Decides which cell values are events: returns 0 and fills is_event(v) via *ev_value
 * (events are cells equal to it), or a status. */
static int event_coding(const frame *f, int ci, const char *value, double *ev_value,
			char *desc, size_t dlen, lm_err *err)
{
	const store_column *m = f->col[ci].meta;
	const double *v = f->col[ci].v;
	if (value) {
		if (m->type == COL_TYPE_TEXT) {
			for (int k = 0; k < m->ncat; k++)
				if (!strcmp(m->cats[k], value)) {
					*ev_value = k;
					snprintf(desc, dlen, "%s = %s", m->name, value);
					return 0;
				}
			return lm_seterr(err, EX_DATAERR, "--event: %s has no value '%s'", m->name,
					 value);
		}
		if (parse_double(value, ev_value) != 0)
			return lm_seterr(err, EX_USAGE, "--event: '%s' is not a number", value);
		snprintf(desc, dlen, "%s = %s (other values censored)", m->name, value);
		return 0;
	}
	double lv[3];
	int nl = 0;
	for (long r = 0; r < f->nrow && nl < 3; r++) {
		if (isnan(v[r]))
			continue;
		int seen = 0;
		for (int k = 0; k < nl; k++)
			seen |= lv[k] == v[r];
		if (!seen)
			lv[nl++] = v[r];
	}
	if (nl > 2) {
		lm_buf b = {0};
		long shown = 0;
		double prev = -INFINITY;
		/* list the values in order (at most 6) for the message */
		for (;;) {
			double next = INFINITY;
			for (long r = 0; r < f->nrow; r++)
				if (!isnan(v[r]) && v[r] > prev && v[r] < next)
					next = v[r];
			if (isinf(next) || shown == 6)
				break;
			if (m->type == COL_TYPE_TEXT && (int)next < m->ncat)
				buf_printf(&b, "%s%s", shown ? ", " : "", m->cats[(int)next]);
			else
				buf_printf(&b, "%s%.15g", shown ? ", " : "", next);
			shown++;
			prev = next;
		}
		lm_seterr(err, EX_DATAERR,
			  "--event: %s has more than two values (%s); name the event: --event %s=VALUE",
			  m->name, b.data, m->name);
		buf_free(&b);
		return EX_DATAERR;
	}
	if (nl < 2)
		return lm_seterr(err, EX_DATAERR, "--event: %s has %s; there is nothing to compare",
				 m->name, nl ? "a single value" : "no values");
	if (m->type == COL_TYPE_TEXT)
		return lm_seterr(err, EX_DATAERR,
				 "--event: %s is text (%s, %s); name the event: --event %s=VALUE",
				 m->name, m->cats[(int)lv[0]], m->cats[(int)lv[1]], m->name);
	double hi = lv[0] > lv[1] ? lv[0] : lv[1], lo = lv[0] + lv[1] - hi;
	*ev_value = hi;
	if (lo == 0 && hi == 1)
		snprintf(desc, dlen, "%s = 1", m->name);
	else
		snprintf(desc, dlen, "%s = %.15g (the larger of two codes; %.15g censored)", m->name, hi,
			 lo);
	return 0;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* R's quantile type 7 of sorted x. */
static double quantile7(const double *x, long n, double q)
{
	double h = (double)(n - 1) * q;
	long lo = (long)floor(h);
	if (lo + 1 >= n)
		return x[n - 1];
	return x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
}

int ops_risk_strata(const double *p, long n, int K, int *group, double *cut, char **labels,
		    lm_err *err)
{
	double *s = xmallocarray(n > 0 ? (size_t)n : 1, sizeof *s);
	long m = 0;
	for (long r = 0; r < n; r++)
		if (!isnan(p[r]))
			s[m++] = p[r];
	if (m < K) {
		free(s);
		return lm_seterr(err, EX_DATAERR, "predictions for %ld patients; %d strata need more",
				 m, K);
	}
	qsort(s, (size_t)m, sizeof *s, cmp_dbl);
	for (int k = 1; k < K; k++)
		cut[k] = quantile7(s, m, (double)k / K);
	cut[0] = -INFINITY;
	cut[K] = INFINITY;
	free(s);
	long cnt[11] = {0};
	for (long r = 0; r < n; r++) {
		if (isnan(p[r])) {
			group[r] = -1;
			continue;
		}
		int k = 0;
		while (k < K - 1 && p[r] > cut[k + 1])
			k++;
		group[r] = k;
		cnt[k]++;
	}
	for (int k = 0; k < K; k++) {
		if (k == 0)
			labels[k] = xasprintf("risk %d/%d (p<=%.3g)", k + 1, K, cut[1]);
		else if (k == K - 1)
			labels[k] = xasprintf("risk %d/%d (p>%.3g)", k + 1, K, cut[K - 1]);
		else
			labels[k] = xasprintf("risk %d/%d (%.3g-%.3g)", k + 1, K, cut[k], cut[k + 1]);
	}
	for (int k = 0; k < K; k++)
		if (cnt[k] == 0)
			return lm_seterr(err, EX_DATAERR,
					 "risk stratum %d of %d is empty (too many tied predictions)", k + 1, K);
	return 0;
}

/* Groups from K strata of a model's stored out-of-fold predictions ("risk:MODEL[:K]"). */
static int risk_groups(sqlite3 *db, const frame *f, const char *spec, ops_survival *d, int *grp,
		       lm_err *err)
{
	char *name = xstrdup(spec + 5);
	int K = 3;
	char *colon = strrchr(name, ':');
	if (colon) {
		long k;
		if (parse_long(colon + 1, &k) != 0 || k < 2 || k > 10) {
			free(name);
			return lm_seterr(err, EX_USAGE, "--by %s: K must be 2 to 10", spec);
		}
		K = (int)k;
		*colon = 0;
	}
	ops_predictions pr;
	int st = ops_predictions_load(db, name, &pr, err);
	free(name);
	if (st) {
		ops_predictions_free(&pr);
		return st;
	}
	if (pr.n != f->nrow) {
		ops_predictions_free(&pr);
		return lm_seterr(err, EX_SOFTWARE, "predictions for %ld of %ld patients", pr.n, f->nrow);
	}
	d->label = xcalloc((size_t)K, sizeof *d->label);
	d->G = K;
	d->K = K;
	st = ops_risk_strata(pr.p, pr.n, K, grp, d->cut, d->label, err);
	for (long r = 0; r < f->nrow; r++)
		d->miss_group += grp[r] < 0;
	ops_predictions_free(&pr);
	return st;
}

/* Round times for the table: 1/5 .. 4/5 of the longest follow-up, to 2 significant digits. */
static int default_times(const ops_survival *d, double *t)
{
	double mx = 0;
	for (long i = 0; i < d->n; i++)
		if (d->t[i] > mx)
			mx = d->t[i];
	if (!(mx > 0))
		return 0;
	int k = 0;
	for (int i = 1; i <= 4; i++) {
		double v = mx * i / 5, mag = pow(10, floor(log10(v)) - 1);
		double r = round(v / mag) * mag;
		if (k == 0 || r > t[k - 1])
			t[k++] = r;
	}
	return k;
}

int ops_survival_run(sqlite3 *db, const ops_survival_opts *o, ops_survival *d, lm_err *err)
{
	memset(d, 0, sizeof *d);
	if (!o->time || !o->event)
		return lm_seterr(err, EX_USAGE, "a time and an event column are needed");
	d->time = xstrdup(o->time);
	d->by = o->by ? xstrdup(o->by) : NULL;
	char *ev_col = xstrdup(o->event), *ev_val = strchr(ev_col, '=');
	if (ev_val)
		*ev_val++ = 0;
	int risk = o->by && !strncmp(o->by, "risk:", 5);
	const char *names[12];
	int nn = 0;
	names[nn++] = o->time;
	names[nn++] = ev_col;
	char *bycopy = o->by && !risk ? xstrdup(o->by) : NULL, *save = NULL;
	if (bycopy)
		for (char *t = strtok_r(bycopy, ",", &save); t && nn < 12; t = strtok_r(NULL, ",", &save))
			names[nn++] = t;
	frame f;
	int st = frame_load(db, "patients", names, nn, &f, err);
	if (st) {
		free(ev_col);
		free(bycopy);
		return st;
	}
	if (o->where && o->where->nrow != f.nrow)
		st = lm_seterr(err, EX_SOFTWARE, "a selection of %ld patients for %ld", o->where->nrow,
			       f.nrow);
	double evv = 0;
	char desc[256] = "";
	int *grp = xmallocarray(f.nrow > 0 ? (size_t)f.nrow : 1, sizeof *grp);
	const store_column *tm = f.col[0].meta;
	if (!st && tm->type == COL_TYPE_TEXT)
		st = lm_seterr(err, EX_DATAERR, "--time: %s is text, not a number of days", tm->name);
	if (!st)
		st = event_coding(&f, 1, ev_val, &evv, desc, sizeof desc, err);
	d->event_desc = xstrdup(desc);
	if (!st) {
		if (risk) {
			st = risk_groups(db, &f, o->by, d, grp, err);
		} else if (o->by) {
			groups g;
			st = groups_build(&f, o->by, o->bins, o->nbins, &g, err);
			if (!st) {
				memcpy(grp, g.of, (size_t)f.nrow * sizeof *grp);
				d->G = g.n;
				d->label = g.label;
				d->miss_group = g.missing;
				d->empty = g.empty;
				g.label = NULL;
				g.n = 0;
				groups_free(&g);
			}
		} else {
			d->G = 1;
			d->label = xcalloc(1, sizeof *d->label);
			d->label[0] = xstrdup("all");
			for (long r = 0; r < f.nrow; r++)
				grp[r] = 0;
		}
	}
	if (!st) {
		size_t cap = f.nrow > 0 ? (size_t)f.nrow : 1;
		d->t = xmallocarray(cap, sizeof *d->t);
		d->e = xmallocarray(cap, sizeof *d->e);
		d->g = xmallocarray(cap, sizeof *d->g);
		for (long r = 0; r < f.nrow; r++) {
			if (o->where && !o->where->mask[r]) {
				d->filtered_out++;
				continue;
			}
			double t = f.col[0].v[r], e = f.col[1].v[r];
			if (isnan(t) || isinf(t)) {
				d->miss_time++;
				continue;
			}
			if (t < 0) {
				d->neg_time++;
				continue;
			}
			if (isnan(e)) {
				d->miss_event++;
				continue;
			}
			if (grp[r] < 0)
				continue;
			d->t[d->n] = t;
			d->e[d->n] = e == evv;
			d->events += d->e[d->n];
			d->g[d->n++] = grp[r];
		}
		/* a group may have lost all its patients to missing times */
		for (int g = 0; g < d->G && !st; g++) {
			long k = 0;
			for (long i = 0; i < d->n; i++)
				k += d->g[i] == g;
			if (k == 0)
				st = lm_seterr(err, EX_DATAERR,
					       "group %s has no patient with a usable time and event",
					       d->label[g]);
		}
		if (!st && d->n == 0)
			st = lm_seterr(err, EX_DATAERR, "no patient has a usable time and event");
	}
	free(grp);
	frame_free(&f);
	free(ev_col);
	free(bycopy);
	if (st)
		return st;
	d->curve = xcalloc((size_t)d->G, sizeof *d->curve);
	double *tg = xmallocarray(d->n > 0 ? (size_t)d->n : 1, sizeof *tg);
	int *eg = xmallocarray(d->n > 0 ? (size_t)d->n : 1, sizeof *eg);
	for (int g = 0; g < d->G; g++) {
		long k = 0;
		for (long i = 0; i < d->n; i++)
			if (d->g[i] == g) {
				tg[k] = d->t[i];
				eg[k++] = d->e[i];
			}
		km_fit(tg, eg, k, &d->curve[g]);
	}
	free(tg);
	free(eg);
	d->have_lr = d->G >= 2;
	if (d->have_lr)
		km_logrank_test(d->t, d->e, d->g, d->n, d->G, &d->lr);
	if (o->ntimes > 0) {
		d->ntimes = o->ntimes < 32 ? o->ntimes : 32;
		memcpy(d->times, o->times, (size_t)d->ntimes * sizeof *d->times);
	} else {
		d->ntimes = default_times(d, d->times);
	}
	return 0;
}

void ops_survival_free(ops_survival *d)
{
	if (!d)
		return;
	free(d->time);
	free(d->event_desc);
	free(d->by);
	for (int g = 0; g < d->G; g++) {
		if (d->label)
			free(d->label[g]);
		if (d->curve)
			km_free(&d->curve[g]);
	}
	free(d->label);
	free(d->curve);
	if (d->have_lr)
		km_logrank_free(&d->lr);
	free(d->t);
	free(d->e);
	free(d->g);
	memset(d, 0, sizeof *d);
}

cJSON *ops_survival_json(const ops_survival *d)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "time", d->time);
	cJSON_AddStringToObject(root, "event", d->event_desc);
	if (d->by)
		cJSON_AddStringToObject(root, "by", d->by);
	cJSON_AddStringToObject(root, "conf_type", "log");
	cJSON_AddNumberToObject(root, "conf_level", 0.95);
	cJSON_AddStringToObject(root, "at_risk", "start");
	cJSON_AddNumberToObject(root, "n", (double)d->n);
	cJSON_AddNumberToObject(root, "events", (double)d->events);
	cJSON *ex = cJSON_AddObjectToObject(root, "left_out");
	cJSON_AddNumberToObject(ex, "time_missing", (double)d->miss_time);
	cJSON_AddNumberToObject(ex, "time_negative", (double)d->neg_time);
	cJSON_AddNumberToObject(ex, "event_missing", (double)d->miss_event);
	cJSON_AddNumberToObject(ex, "group_missing", (double)d->miss_group);
	cJSON_AddNumberToObject(ex, "empty_combinations", (double)d->empty);
	cJSON_AddNumberToObject(ex, "filtered_out", (double)d->filtered_out);
	if (d->K) {
		cJSON *s = cJSON_AddObjectToObject(root, "strata");
		cJSON_AddNumberToObject(s, "K", d->K);
		cJSON_AddStringToObject(s, "rule", "type-7 quantiles; stratum k: cut[k] < p <= cut[k+1]");
		cJSON_AddItemToObject(s, "cuts", cJSON_CreateDoubleArray(d->cut + 1, d->K - 1));
	}
	cJSON *ga = cJSON_AddArrayToObject(root, "groups");
	const km_curve *c = d->curve;
	for (int g = 0; g < d->G; g++) {
		cJSON *go = cJSON_CreateObject();
		cJSON_AddItemToArray(ga, go);
		cJSON_AddStringToObject(go, "group", d->label[g]);
		cJSON_AddNumberToObject(go, "n", (double)c[g].n);
		cJSON_AddNumberToObject(go, "events", (double)c[g].events);
		metrics_json_number(go, "median", c[g].median);
		metrics_json_number(go, "median_lower", c[g].median_lower);
		metrics_json_number(go, "median_upper", c[g].median_upper);
		cJSON *at = cJSON_AddArrayToObject(go, "at");
		for (int k = 0; k < d->ntimes; k++) {
			cJSON *a = cJSON_CreateObject();
			double l, h, s = km_surv_at(&c[g], d->times[k], &l, &h);
			cJSON_AddNumberToObject(a, "time", d->times[k]);
			cJSON_AddNumberToObject(a, "n_risk", (double)km_at_risk(&c[g], d->times[k]));
			metrics_json_number(a, "surv", s);
			metrics_json_number(a, "lower", l);
			metrics_json_number(a, "upper", h);
			cJSON_AddItemToArray(at, a);
		}
		cJSON *cv = cJSON_AddObjectToObject(go, "curve");
		cJSON *arr[6] = {cJSON_AddArrayToObject(cv, "time"), cJSON_AddArrayToObject(cv, "n_risk"),
				 cJSON_AddArrayToObject(cv, "n_event"), cJSON_AddArrayToObject(cv, "surv"),
				 cJSON_AddArrayToObject(cv, "lower"), cJSON_AddArrayToObject(cv, "upper")};
		for (long k = 0; k < c[g].m; k++) {
			double v[6] = {c[g].time[k], (double)c[g].n_risk[k], (double)c[g].n_event[k],
				       c[g].surv[k], c[g].lower[k], c[g].upper[k]};
			for (int j = 0; j < 6; j++)
				cJSON_AddItemToArray(arr[j], isfinite(v[j]) ? cJSON_CreateNumber(v[j])
									    : cJSON_CreateNull());
		}
	}
	if (d->have_lr) {
		cJSON *l = cJSON_AddObjectToObject(root, "logrank");
		metrics_json_number(l, "chisq", d->lr.chisq);
		cJSON_AddNumberToObject(l, "df", d->lr.df);
		metrics_json_number(l, "p", d->lr.p);
		cJSON_AddItemToObject(l, "observed", cJSON_CreateDoubleArray(d->lr.obs, d->lr.groups));
		cJSON_AddItemToObject(l, "expected", cJSON_CreateDoubleArray(d->lr.expected, d->lr.groups));
	}
	return root;
}
