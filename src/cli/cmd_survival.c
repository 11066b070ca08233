/* cmd_survival.c: `lumen survival`: Kaplan–Meier curves per group, the log-rank test and a
 * terminal chart (the statistics live in src/stats/km.c). */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../data/store.h"
#include "../stats/groups.h"
#include "../stats/km.h"
#include "../stats/metrics.h"
#include "cli.h"

#define CMD "survival"
#define CHART_W 72
#define CHART_H 17

static const char usage[] =
	"Usage: lumen survival FILE --time COL --event COL[=VALUE] [--by COL[,COL] |\n"
	"                      --by risk:MODEL[:K]] [--bins COL=C1,C2] [--times T,T,...]\n"
	"                      [--json] [--ascii]\n"
	"Kaplan-Meier survival per group with 95% intervals (Greenwood variance, log transform\n"
	"as R's survfit), median survival, numbers at risk at the start of each time, the\n"
	"log-rank test across groups and a chart of the curves.\n"
	"  --time COL         follow-up time (>= 0); missing or negative times are left out\n"
	"  --event COL[=V]    event indicator: 0/1, two numeric codes (the larger is the event),\n"
	"                     or COL=V making the value V the event and all others censored\n"
	"  --by COL[,COL]     groups (intersections with several columns)\n"
	"  --by risk:MODEL:K  K strata (default 3, tertiles) of MODEL's out-of-fold predictions\n"
	"  --bins COL=C1,C2   cut a numeric grouping column at these points\n"
	"  --times T,T,...    times for survival and numbers at risk (default: 4 round times)\n"
	"  --json             machine-readable output\n"
	"  --ascii            draw the chart with ASCII characters instead of Unicode braille\n";

typedef struct surv_opts {
	const char *file, *time, *event, *by;
	char *bins[16];
	int nbins;
	double times[32];
	int ntimes;
	int json, ascii;
} surv_opts;

/* The patients kept for the analysis and why the others were left out. */
typedef struct surv_data {
	long n;
	double *time;
	int *event, *group;
	int G;
	char **label; /* G labels (owned) */
	long miss_time, neg_time, miss_event, miss_group, empty;
	char event_desc[256];
} surv_data;

static void surv_data_free(surv_data *d)
{
	free(d->time);
	free(d->event);
	free(d->group);
	for (int g = 0; g < d->G; g++)
		free(d->label[g]);
	free(d->label);
}

/* Decides which cell values are events: returns 0 and fills is_event(v) via *ev_value
 * (events are cells equal to it), or a status. */
static int event_coding(const frame *f, int ci, const char *value, double *ev_value,
			char *desc, size_t dlen, lm_err *err)
{
	const store_column *m = f->col[ci].meta;
	const double *v = f->col[ci].v;
	if (value) {
		if (m->type == TYPE_TEXT) {
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
			if (m->type == TYPE_TEXT && (int)next < m->ncat)
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
	if (m->type == TYPE_TEXT)
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

/* Groups from K quantile strata of a model's stored out-of-fold predictions. */
static int risk_groups(sqlite3 *db, const frame *f, const char *spec, int *grp, int *G,
		       char ***labels, long *missing, lm_err *err)
{
	char *model = xstrdup(spec + 5);
	int K = 3;
	char *colon = strrchr(model, ':');
	if (colon) {
		long k;
		if (parse_long(colon + 1, &k) != 0 || k < 2 || k > 10) {
			free(model);
			return lm_seterr(err, EX_USAGE, "--by %s: K must be 2 to 10", spec);
		}
		K = (int)k;
		*colon = 0;
	}
	sqlite3_stmt *st = store_prepare(db, "SELECT id FROM models WHERE name = ?", err);
	if (!st) {
		free(model);
		return err->status;
	}
	sqlite3_bind_text(st, 1, model, -1, SQLITE_TRANSIENT);
	long id = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		id = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (id < 0) {
		lm_seterr(err, EX_DATAERR, "--by: no model named '%s'", model);
		free(model);
		return EX_DATAERR;
	}
	/* rowid -> frame row */
	long maxid = 0;
	for (long r = 0; r < f->nrow; r++)
		if (f->rowid[r] > maxid)
			maxid = f->rowid[r];
	long *row_of = xmallocarray((size_t)maxid + 1, sizeof *row_of);
	for (long i = 0; i <= maxid; i++)
		row_of[i] = -1;
	for (long r = 0; r < f->nrow; r++)
		row_of[f->rowid[r]] = r;
	double *p = xmallocarray(f->nrow > 0 ? (size_t)f->nrow : 1, sizeof *p);
	for (long r = 0; r < f->nrow; r++)
		p[r] = (double)NAN;
	st = store_prepare(db, "SELECT patient, p FROM predictions WHERE model_id = ?", err);
	if (!st) {
		free(model);
		free(row_of);
		free(p);
		return err->status;
	}
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long pid = (long)sqlite3_column_int64(st, 0);
		if (pid >= 0 && pid <= maxid && row_of[pid] >= 0 &&
		    sqlite3_column_type(st, 1) != SQLITE_NULL)
			p[row_of[pid]] = sqlite3_column_double(st, 1);
	}
	sqlite3_finalize(st);
	free(row_of);
	double *s = xmallocarray(f->nrow > 0 ? (size_t)f->nrow : 1, sizeof *s);
	long n = 0;
	for (long r = 0; r < f->nrow; r++)
		if (!isnan(p[r]))
			s[n++] = p[r];
	if (n < K) {
		lm_seterr(err, EX_DATAERR, "model '%s' has predictions for %ld patients; %d strata need more",
			  model, n, K);
		free(model);
		free(p);
		free(s);
		return EX_DATAERR;
	}
	qsort(s, (size_t)n, sizeof *s, cmp_dbl);
	double cut[11];
	for (int k = 1; k < K; k++)
		cut[k] = quantile7(s, n, (double)k / K);
	cut[0] = -INFINITY;
	cut[K] = INFINITY;
	*missing = 0;
	long *cnt = xcalloc((size_t)K, sizeof *cnt);
	for (long r = 0; r < f->nrow; r++) {
		if (isnan(p[r])) {
			grp[r] = -1;
			(*missing)++;
			continue;
		}
		int k = 0;
		while (k < K - 1 && p[r] > cut[k + 1])
			k++;
		grp[r] = k;
		cnt[k]++;
	}
	*labels = xcalloc((size_t)K, sizeof **labels);
	for (int k = 0; k < K; k++) {
		if (k == 0)
			(*labels)[k] = xasprintf("risk %d/%d (p<=%.3g)", k + 1, K, cut[1]);
		else if (k == K - 1)
			(*labels)[k] = xasprintf("risk %d/%d (p>%.3g)", k + 1, K, cut[K - 1]);
		else
			(*labels)[k] = xasprintf("risk %d/%d (%.3g-%.3g)", k + 1, K, cut[k], cut[k + 1]);
	}
	int empty = -1;
	for (int k = 0; k < K; k++)
		if (cnt[k] == 0)
			empty = k;
	*G = K;
	free(model);
	free(p);
	free(s);
	free(cnt);
	if (empty >= 0)
		return lm_seterr(err, EX_DATAERR,
				 "--by %s: stratum %d is empty (too many tied predictions)", spec,
				 empty + 1);
	return 0;
}

static int load_data(sqlite3 *db, const surv_opts *o, surv_data *d, lm_err *err)
{
	memset(d, 0, sizeof *d);
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
	double evv = 0;
	int *grp = xmallocarray(f.nrow > 0 ? (size_t)f.nrow : 1, sizeof *grp);
	const store_column *tm = f.col[0].meta;
	if (tm->type == TYPE_TEXT)
		st = lm_seterr(err, EX_DATAERR, "--time: %s is text, not a number of days", tm->name);
	if (!st)
		st = event_coding(&f, 1, ev_val, &evv, d->event_desc, sizeof d->event_desc, err);
	if (!st) {
		if (risk) {
			st = risk_groups(db, &f, o->by, grp, &d->G, &d->label, &d->miss_group, err);
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
		d->time = xmallocarray(f.nrow > 0 ? (size_t)f.nrow : 1, sizeof *d->time);
		d->event = xmallocarray(f.nrow > 0 ? (size_t)f.nrow : 1, sizeof *d->event);
		d->group = xmallocarray(f.nrow > 0 ? (size_t)f.nrow : 1, sizeof *d->group);
		for (long r = 0; r < f.nrow; r++) {
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
			d->time[d->n] = t;
			d->event[d->n] = e == evv;
			d->group[d->n++] = grp[r];
		}
		/* a group may have lost all its patients to missing times */
		for (int g = 0; g < d->G && !st; g++) {
			long k = 0;
			for (long i = 0; i < d->n; i++)
				k += d->group[i] == g;
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
	return st;
}

/* Round times for the table: 1/5 .. 4/5 of the longest follow-up, to 2 significant digits. */
static int default_times(const surv_data *d, double *t)
{
	double mx = 0;
	for (long i = 0; i < d->n; i++)
		if (d->time[i] > mx)
			mx = d->time[i];
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

/* ---- the chart ---- */

static void put_utf8_braille(lm_buf *b, unsigned bits)
{
	unsigned cp = 0x2800 + bits;
	char s[3] = {(char)(0xE0 | (cp >> 12)), (char)(0x80 | ((cp >> 6) & 0x3F)),
		     (char)(0x80 | (cp & 0x3F))};
	buf_add(b, s, 3);
}

static void draw_chart(lm_buf *out, km_curve *c, int G, char **label, int ascii)
{
	/* 5 columns of labels, the axis, then W columns of plot: CHART_W in all */
	const int W = CHART_W - 6, H = CHART_H;
	double tmax = 0;
	for (int g = 0; g < G; g++)
		if (c[g].m && c[g].time[c[g].m - 1] > tmax)
			tmax = c[g].time[c[g].m - 1];
	if (!(tmax > 0))
		tmax = 1;
	/* sub-cell resolution: braille has 2 x 4 dots per cell, ASCII one mark per cell */
	int sx = ascii ? 1 : 2, sy = ascii ? 1 : 4, DW = W * sx, DH = H * sy;
	unsigned char *dots = xcalloc((size_t)DW * (size_t)DH, 1); /* group + 1, 0 = empty */
	/* each curve is numbered at its last point, since braille dots carry no identity */
	int *mark = xmallocarray((size_t)W * (size_t)H, sizeof *mark);
	for (int i = 0; i < W * H; i++)
		mark[i] = 0;
	for (int g = 0; g < G; g++) {
		int prev = -1, lastx = -1;
		double tend = c[g].m ? c[g].time[c[g].m - 1] : 0;
		for (int x = 0; x < DW; x++) {
			double t = tmax * x / (DW - 1);
			if (t > tend)
				break;
			double s = km_surv_at(&c[g], t, NULL, NULL);
			int y = (int)lround((1 - s) * (DH - 1));
			int y0 = prev < 0 ? y : prev;
			for (int yy = y0 < y ? y0 : y; yy <= (y0 < y ? y : y0); yy++)
				dots[(size_t)yy * DW + x] = (unsigned char)(g + 1);
			prev = y;
			lastx = x;
		}
		if (lastx >= 0 && !ascii)
			mark[(prev / sy) * W + lastx / sx] = g + 1;
	}
	for (int row = 0; row < H; row++) {
		double yv = 1 - (double)row / (H - 1);
		if (row == 0 || row == H - 1 || row == (H - 1) / 2)
			buf_printf(out, "%4.2f ", yv);
		else
			buf_puts(out, "     ");
		buf_puts(out, ascii ? "|" : "\xe2\x94\x82");
		for (int col = 0; col < W; col++) {
			if (ascii) {
				int g = dots[(size_t)row * DW + col];
				char ch = g ? (char)(g <= 9 ? '0' + g : 'a' + g - 10) : ' ';
				buf_add(out, &ch, 1);
				continue;
			}
			int mk = mark[row * W + col];
			if (mk) {
				char ch = (char)(mk <= 9 ? '0' + mk : 'a' + mk - 10);
				buf_add(out, &ch, 1);
				continue;
			}
			static const unsigned bit[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20},
							   {0x40, 0x80}};
			unsigned bits = 0;
			for (int dy = 0; dy < 4; dy++)
				for (int dx = 0; dx < 2; dx++)
					if (dots[(size_t)(row * 4 + dy) * DW + col * 2 + dx])
						bits |= bit[dy][dx];
			if (bits)
				put_utf8_braille(out, bits);
			else
				buf_puts(out, " ");
		}
		buf_puts(out, "\n");
	}
	buf_puts(out, "     ");
	if (ascii) {
		buf_puts(out, "+");
		for (int i = 0; i < W; i++)
			buf_puts(out, "-");
	} else {
		buf_puts(out, "\xe2\x94\x94");
		for (int i = 0; i < W; i++)
			buf_puts(out, "\xe2\x94\x80");
	}
	char tl[32];
	snprintf(tl, sizeof tl, "%.6g", tmax);
	buf_printf(out, "\n     0%*s\n", W, tl);
	for (int g = 0; g < G; g++) {
		double te = c[g].m ? c[g].time[c[g].m - 1] : 0;
		buf_printf(out, "     %c = %s (last follow-up t=%.6g, S=%.3f)\n",
			   g < 9 ? '1' + g : 'a' + g - 9, label[g], te,
			   c[g].m ? c[g].surv[c[g].m - 1] : 1.0);
	}
	free(dots);
	free(mark);
}

/* ---- output ---- */

static void fmt_num(char *b, size_t n, double v, const char *f)
{
	if (isnan(v))
		snprintf(b, n, "NA");
	else
		snprintf(b, n, f, v);
}

static void print_text(const surv_opts *o, const surv_data *d, km_curve *c, const double *times,
		       int nt, const km_logrank *lr)
{
	lm_buf b = {0};
	long ev = 0;
	for (long i = 0; i < d->n; i++)
		ev += d->event[i];
	buf_printf(&b, "Kaplan-Meier survival: time %s\nevent: %s\n", o->time, d->event_desc);
	buf_printf(&b, "%ld patients, %ld events", d->n, ev);
	long out = d->miss_time + d->neg_time + d->miss_event + d->miss_group;
	if (out)
		buf_printf(&b, "; left out %ld (time missing %ld, negative %ld; event missing %ld; "
			       "group missing %ld)",
			   out, d->miss_time, d->neg_time, d->miss_event, d->miss_group);
	buf_puts(&b, "\n95% intervals: Greenwood variance, log transform (R conf.type=\"log\").\n"
		     "At risk: patients still followed at the start of each time (time >= t,\n"
		     "as R; lifelines reports the end of the period).\n");
	for (int g = 0; g < d->G; g++) {
		char m[32], lo[32], hi[32];
		fmt_num(m, sizeof m, c[g].median, "%.6g");
		fmt_num(lo, sizeof lo, c[g].median_lower, "%.6g");
		fmt_num(hi, sizeof hi, c[g].median_upper, "%.6g");
		buf_printf(&b, "\n%s: n %ld, events %ld, median %s (95%% CI %s to %s)\n", d->label[g],
			   c[g].n, c[g].events, m, lo, hi);
		buf_printf(&b, "  %10s %8s %9s %17s\n", "time", "at risk", "survival", "95% CI");
		for (int k = 0; k < nt; k++) {
			double l, h, s = km_surv_at(&c[g], times[k], &l, &h);
			char ls[16], hs[16];
			fmt_num(ls, sizeof ls, l, "%.3f");
			fmt_num(hs, sizeof hs, h, "%.3f");
			buf_printf(&b, "  %10.6g %8ld %9.3f %8s-%-8s\n", times[k], km_at_risk(&c[g], times[k]),
				   s, ls, hs);
		}
	}
	if (lr) {
		buf_printf(&b, "\nLog-rank test: chi-square %.3f on %d df, p = %.3g\n", lr->chisq, lr->df,
			   lr->p);
		buf_printf(&b, "  %-28s %9s %9s\n", "group", "observed", "expected");
		for (int g = 0; g < d->G; g++)
			buf_printf(&b, "  %-28s %9.0f %9.2f\n", d->label[g], lr->obs[g], lr->expected[g]);
	}
	buf_puts(&b, "\n");
	draw_chart(&b, c, d->G, d->label, o->ascii);
	fputs(b.data, stdout);
	buf_free(&b);
}

static void print_json(const surv_opts *o, const surv_data *d, km_curve *c, const double *times,
		       int nt, const km_logrank *lr)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "time", o->time);
	cJSON_AddStringToObject(root, "event", d->event_desc);
	cJSON_AddStringToObject(root, "conf_type", "log");
	cJSON_AddNumberToObject(root, "conf_level", 0.95);
	cJSON_AddStringToObject(root, "at_risk", "start");
	cJSON *ex = cJSON_AddObjectToObject(root, "left_out");
	cJSON_AddNumberToObject(ex, "time_missing", (double)d->miss_time);
	cJSON_AddNumberToObject(ex, "time_negative", (double)d->neg_time);
	cJSON_AddNumberToObject(ex, "event_missing", (double)d->miss_event);
	cJSON_AddNumberToObject(ex, "group_missing", (double)d->miss_group);
	cJSON_AddNumberToObject(ex, "empty_combinations", (double)d->empty);
	cJSON *ga = cJSON_AddArrayToObject(root, "groups");
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
		for (int k = 0; k < nt; k++) {
			cJSON *a = cJSON_CreateObject();
			double l, h, s = km_surv_at(&c[g], times[k], &l, &h);
			cJSON_AddNumberToObject(a, "time", times[k]);
			cJSON_AddNumberToObject(a, "n_risk", (double)km_at_risk(&c[g], times[k]));
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
	if (lr) {
		cJSON *l = cJSON_AddObjectToObject(root, "logrank");
		metrics_json_number(l, "chisq", lr->chisq);
		cJSON_AddNumberToObject(l, "df", lr->df);
		metrics_json_number(l, "p", lr->p);
		cJSON_AddItemToObject(l, "observed", cJSON_CreateDoubleArray(lr->obs, lr->groups));
		cJSON_AddItemToObject(l, "expected", cJSON_CreateDoubleArray(lr->expected, lr->groups));
	}
	char *s = cJSON_Print(root);
	puts(s);
	free(s);
	cJSON_Delete(root);
}

static int parse_times(const char *s, surv_opts *o)
{
	char *copy = xstrdup(s), *save = NULL;
	o->ntimes = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		double v;
		if (o->ntimes == 32 || parse_double(t, &v) != 0 || !(v >= 0) || isinf(v)) {
			free(copy);
			return -1;
		}
		o->times[o->ntimes++] = v;
	}
	free(copy);
	return o->ntimes ? 0 : -1;
}

int cmd_survival(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"time", required_argument, NULL, 't'}, {"event", required_argument, NULL, 'e'},
		{"by", required_argument, NULL, 'b'},   {"bins", required_argument, NULL, 'B'},
		{"times", required_argument, NULL, 'T'}, {"json", no_argument, NULL, 'j'},
		{"ascii", no_argument, NULL, 'a'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	surv_opts o;
	memset(&o, 0, sizeof o);
	optind = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 't': o.time = optarg; break;
		case 'e': o.event = optarg; break;
		case 'b': o.by = optarg; break;
		case 'B':
			if (o.nbins == 16)
				return cli_usage_error(CMD, "--bins: at most 16");
			o.bins[o.nbins++] = optarg;
			break;
		case 'T':
			if (parse_times(optarg, &o) != 0)
				return cli_usage_error(CMD, "--times: '%s' is not a list of times >= 0", optarg);
			break;
		case 'j': o.json = 1; break;
		case 'a': o.ascii = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default: return cli_usage_error(CMD, "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(CMD, "expected one workbench FILE");
	o.file = argv[optind];
	if (!o.time || !o.event)
		return cli_usage_error(CMD, "--time and --event are required");
	if (o.by && !strcmp(o.by, "risk:"))
		return cli_usage_error(CMD, "--by risk:MODEL[:K] needs a model name");

	lm_err err = {0};
	sqlite3 *db = store_open(o.file, 1, &err);
	if (!db) {
		lm_report(CMD, &err);
		return err.status;
	}
	surv_data d;
	int st = load_data(db, &o, &d, &err);
	store_close(db);
	if (st) {
		surv_data_free(&d);
		lm_report(CMD, &err);
		return st;
	}
	long out = d.miss_time + d.neg_time + d.miss_event + d.miss_group;
	if (out)
		fprintf(stderr,
			"lumen: survival: warning: %ld patients left out (time missing %ld, negative %ld; "
			"event missing %ld; group missing %ld)\n",
			out, d.miss_time, d.neg_time, d.miss_event, d.miss_group);
	if (d.empty)
		fprintf(stderr, "lumen: survival: warning: %ld combinations of --by %s have no patient\n",
			d.empty, o.by);
	km_curve *c = xcalloc((size_t)d.G, sizeof *c);
	double *tg = xmallocarray(d.n > 0 ? (size_t)d.n : 1, sizeof *tg);
	int *eg = xmallocarray(d.n > 0 ? (size_t)d.n : 1, sizeof *eg);
	for (int g = 0; g < d.G; g++) {
		long k = 0;
		for (long i = 0; i < d.n; i++)
			if (d.group[i] == g) {
				tg[k] = d.time[i];
				eg[k++] = d.event[i];
			}
		km_fit(tg, eg, k, &c[g]);
	}
	free(tg);
	free(eg);
	km_logrank lr;
	int have_lr = d.G >= 2;
	if (have_lr)
		km_logrank_test(d.time, d.event, d.group, d.n, d.G, &lr);
	double times[32];
	int nt = o.ntimes;
	if (nt)
		memcpy(times, o.times, sizeof times);
	else
		nt = default_times(&d, times);
	if (o.json)
		print_json(&o, &d, c, times, nt, have_lr ? &lr : NULL);
	else
		print_text(&o, &d, c, times, nt, have_lr ? &lr : NULL);
	if (have_lr)
		km_logrank_free(&lr);
	for (int g = 0; g < d.G; g++)
		km_free(&c[g]);
	free(c);
	surv_data_free(&d);
	return 0;
}
