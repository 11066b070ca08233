/* ui_survival.c: the Survival screen: Kaplan-Meier curves of the file's time and event
 * columns, overall, by a group column, by the treatment or by tertile of the model's
 * predicted risk (g cycles), with 95% bands, censoring ticks, the numbers at risk under the
 * time axis, medians and the log-rank test, all from the km module. The event is the event column's highest value (status 2 = death in
 * pbc; 1 for a 0/1 column). */
#define _XOPEN_SOURCE_EXTENDED 1
#include <math.h>
#include <ncurses.h>
#include <stdlib.h>
#include <string.h>

#include "../src/ops/ops.h"
#include "../src/data/labels.h"
#include "ui_impl.h"

#define KM_MAXG 6

/* The curves come from ops_survival_run, the function behind `lumen survival` and
 * lumen.survival; the risk tertiles are its risk:MODEL:3 strata (one cut rule). */
static struct kstate {
	int loaded_for; /* grouping index + 1 the curves were made for, 0 = none */
	long model_id;
	char title[400], err[160];
	char unit[32]; /* the time column's unit (labels.h), "" when none */
	int G;
	ops_survival res;
	int have;
	double tmax;
} ks;

void ui_survival_release(void)
{
	if (ks.have)
		ops_survival_free(&ks.res);
	memset(&ks, 0, sizeof ks);
}

/* The groupings on offer: 0 everyone, then the group and treatment columns, then tertiles of
 * the model's risk. Returns how many; fills name (column name or NULL for none/tertiles). */
static int groupings(const store_columns *cols, int k, const char **name, int *tertiles)
{
	int n = 1;
	*name = NULL;
	*tertiles = 0;
	for (int i = 0; i < cols->n; i++)
		if (cols->c[i].role == COL_ROLE_GROUP || cols->c[i].role == COL_ROLE_TREATMENT) {
			if (n == k)
				*name = cols->c[i].name;
			n++;
		}
	if (n == k)
		*tertiles = 1;
	return n + 1;
}

static void build(ui_app *a)
{
	if (ks.loaded_for == a->km_group + 1 && ks.model_id == a->co.model_id)
		return;
	ui_survival_release();
	ks.loaded_for = a->km_group + 1;
	ks.model_id = a->co.model_id;
	store_columns cols;
	if (store_columns_load(a->db, "patients", &cols, NULL))
		return;
	int ti = store_columns_role(&cols, COL_ROLE_TIME), ei = store_columns_role(&cols, COL_ROLE_EVENT);
	if (ti < 0 || ei < 0) {
		snprintf(ks.err, sizeof ks.err, "no time and event columns: lumen import --time COL --event COL");
		store_columns_free(&cols);
		return;
	}
	const char *gcol;
	int tert;
	int ng = groupings(&cols, a->km_group, &gcol, &tert);
	if (a->km_group >= ng) {
		a->km_group = 0;
		gcol = NULL, tert = 0;
	}
	if (tert && a->co.model_id < 0) {
		a->km_group = 0;
		tert = 0;
	}
	/* the event is the event column's highest value (status 2 = death in pbc) */
	char event[200], by[200];
	if (cols.c[ei].type == COL_TYPE_TEXT || isnan(cols.c[ei].max))
		snprintf(event, sizeof event, "%s", cols.c[ei].name);
	else
		snprintf(event, sizeof event, "%s=%.17g", cols.c[ei].name, cols.c[ei].max);
	if (tert)
		snprintf(by, sizeof by, "risk:%s:3", a->co.model_name);
	else if (gcol)
		snprintf(by, sizeof by, "%s", gcol);
	ops_survival_opts so = {.time = cols.c[ti].name, .event = event,
				.by = tert || gcol ? by : NULL};
	lm_err err = {0};
	if (ops_survival_run(a->db, &so, &ks.res, &err)) {
		ops_survival_free(&ks.res);
		snprintf(ks.err, sizeof ks.err, "%.150s", err.msg);
		store_columns_free(&cols);
		return;
	}
	ks.have = 1;
	for (int g = 0; g < ks.res.G; g++) { /* the curves named in words (labels.h) */
		char w[300];
		lbl_group_text(&cols, ks.res.label[g], w, sizeof w);
		free(ks.res.label[g]);
		ks.res.label[g] = xstrdup(w);
	}
	ks.G = ks.res.G < KM_MAXG ? ks.res.G : KM_MAXG;
	ks.tmax = 0;
	for (int g = 0; g < ks.res.G; g++)
		for (long i = 0; i < ks.res.curve[g].m; i++)
			if (ks.res.curve[g].time[i] > ks.tmax)
				ks.tmax = ks.res.curve[g].time[i];
	/* in words (labels.h): "Follow-up (days), event status = 2 (death), by Sex" */
	char evname[64], tname[160], gname[160] = "nothing (all)";
	lbl_num(cols.c[ei].max, 15, evname, sizeof evname);
	const char *evl = lbl_value(&cols.c[ei], cols.c[ei].max, NULL);
	int gi = gcol ? store_columns_find(&cols, gcol) : -1;
	if (tert)
		snprintf(gname, sizeof gname, "risk tertile");
	else if (gi >= 0)
		snprintf(gname, sizeof gname, "%s", lbl_name(&cols.c[gi]));
	snprintf(ks.title, sizeof ks.title, "Kaplan-Meier: %s, event %s = %s%s%s%s, by %s",
		 lbl_name_unit(&cols.c[ti], tname, sizeof tname), cols.c[ei].name, evname,
		 evl ? " (" : "", evl ? evl : "", evl ? ")" : "", gname);
	snprintf(ks.unit, sizeof ks.unit, "%s", cols.c[ti].unit ? cols.c[ti].unit : "");
	store_columns_free(&cols);
}

/* The step value of a curve (or its lower or upper bound) at t: 1 before the first time. */
static double step_at(const km_curve *c, const double *v, double t)
{
	double r = 1;
	for (long i = 0; i < c->m && c->time[i] <= t; i++)
		r = v[i];
	return r;
}

/* About five round times from 0 to tmax (1, 2 or 5 times a power of 10): the x axis's
 * labels and the at-risk table's columns. Returns how many (at most 8). */
static int round_times(double tmax, double *t)
{
	if (!(tmax > 0)) {
		t[0] = 0;
		return 1;
	}
	double raw = tmax / 5, p = pow(10, floor(log10(raw))), st = p;
	st = raw / p > 5 ? 10 * p : raw / p > 2 ? 5 * p : raw / p > 1 ? 2 * p : p;
	int n = 0;
	for (double v = 0; v <= tmax * (1 + 1e-9) && n < 8; v += st)
		t[n++] = v;
	return n;
}

static void survival_draw(ui_app *a)
{
	build(a);
	if (ks.err[0]) {
		ui_put(2, 2, COLS - 4, ks.err);
		return;
	}
	ui_put(1, 0, COLS, ks.title);
	/* under the plot: the axis labels, the at-risk table (a title line and a row per curve),
	 * then the legend table (a header, a row per curve, the log-rank line) */
	int below = 1 + (1 + ks.G) + (ks.G + 2);
	int ph = LINES - 1 - 2 - below - 1;
	if (ph < 4)
		ph = 4;
	int px = 6, pw = COLS - px - 2;
	double tmax = ks.tmax > 0 ? ks.tmax : 1;
#define CX(t) (px + (int)((t) / tmax * (pw - 1) + 0.5))
#define CY(v) (2 + (int)((1 - (v)) * (ph - 1) + 0.5))
	/* the 95% bands, drawn first and dim: every cell between a curve's lower and upper bound */
	if (a->km_bands) {
		attron((attr_t)ui_attr_of(a, UI_A_DIM));
		for (int g = 0; g < ks.G; g++) {
			const km_curve *c = &ks.res.curve[g];
			double tend = c->m ? c->time[c->m - 1] : 0;
			for (int cx = 0; cx < pw; cx++) {
				double t = (double)cx / (pw - 1) * tmax;
				if (t > tend)
					break;
				double lo = step_at(c, c->lower, t), hi = step_at(c, c->upper, t);
				if (isnan(lo) || isnan(hi))
					continue;
				for (int cy = CY(hi); cy <= CY(lo); cy++)
					ui_put(cy, px + cx, 1, a->ascii ? "." : "·");
			}
		}
		attroff((attr_t)ui_attr_of(a, UI_A_DIM));
	}
	/* step curves: (t_i, S_{i-1}) then (t_i, S_i) */
	double *xs[KM_MAXG], *ys[KM_MAXG];
	int ns[KM_MAXG];
	for (int g = 0; g < ks.G; g++) {
		const km_curve *c = &ks.res.curve[g];
		xs[g] = xmallocarray((size_t)(2 * c->m + 1), sizeof(double));
		ys[g] = xmallocarray((size_t)(2 * c->m + 1), sizeof(double));
		int k = 0;
		double prev = 1;
		xs[g][k] = 0, ys[g][k++] = 1;
		for (long i = 0; i < c->m; i++) {
			xs[g][k] = c->time[i], ys[g][k++] = prev;
			xs[g][k] = c->time[i], ys[g][k++] = c->surv[i];
			prev = c->surv[i];
		}
		ns[g] = k;
	}
	ui_put(2, 0, px, "1.0");
	ui_put(2 + ph / 2, 0, px, "0.5");
	ui_put(2 + ph - 1, 0, px, "0.0");
	ui_vline(a, 2, px - 1, ph);
	ui_plot_multi(a, 2, px, pw, ph, ks.G, (const double *const *)xs, (const double *const *)ys, ns,
		      0, tmax, 0, 1);
	/* censoring ticks: a '+' on the curve at every time someone was censored */
	if (a->km_bands)
		for (int g = 0; g < ks.G; g++) {
			const km_curve *c = &ks.res.curve[g];
			for (long i = 0; i < c->m; i++)
				if (c->n_censor[i] > 0)
					mvaddch(CY(c->surv[i]), CX(c->time[i]), '+');
		}
	/* each curve's number at its end, so curves are told apart without colour */
	for (int g = 0; g < ks.G; g++) {
		if (ns[g] > 0) {
			double yl = ys[g][ns[g] - 1], xl = xs[g][ns[g] - 1];
			int cx = CX(xl);
			if (cx + 1 < COLS)
				mvaddch(CY(yl), cx + 1, (chtype)('1' + g));
		}
		free(xs[g]);
		free(ys[g]);
	}
	/* the time axis and, under it, the numbers at risk at the same round times */
	char t[200];
	double rt[8];
	int nrt = round_times(ks.tmax, rt);
	int y = 2 + ph;
	for (int k = 0; k < nrt; k++) {
		snprintf(t, sizeof t, "%g", rt[k]);
		int w = (int)strlen(t), x = CX(rt[k]) - w / 2;
		x = x < px ? px : x + w > COLS ? COLS - w : x;
		ui_put(y, x, w, t);
	}
	y++;
	snprintf(t, sizeof t, "at risk (patients whose time is at or after each time above%s%s)",
		 ks.unit[0] ? "; time in " : "", ks.unit);
	ui_put(y++, 0, COLS, t);
	for (int g = 0; g < ks.G && y < LINES - 1; g++, y++) {
		snprintf(t, sizeof t, "%d", g + 1);
		ui_put(y, 0, px, t);
		for (int k = 0; k < nrt; k++) {
			snprintf(t, sizeof t, "%ld", km_at_risk(&ks.res.curve[g], rt[k]));
			int w = (int)strlen(t), x = CX(rt[k]) - w / 2;
			x = x < px ? px : x + w > COLS ? COLS - w : x;
			ui_put(y, x, w, t);
		}
	}
#undef CX
#undef CY
	attron((attr_t)ui_attr_of(a, UI_A_HEADER));
	ui_fill(y, 0, COLS, ' ');
	/* the curves' names: 22 columns, more for longer names when the terminal has room */
	int lw = 22;
	for (int g = 0; g < ks.G; g++) {
		int w = ui_text_width(ks.res.label[g]);
		if (w > lw)
			lw = w;
	}
	if (lw > COLS - 40)
		lw = COLS - 40 > 22 ? COLS - 40 : 22;
	snprintf(t, sizeof t, "  %-*s %5s %7s  median  (95%% CI)", lw, "curve", "n", "events");
	ui_put(y++, 0, COLS, t);
	attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
	for (int g = 0; g < ks.G && y < LINES - 2; g++) {
		const km_curve *c = &ks.res.curve[g];
		char med[32], ci[64];
		if (isnan(c->median))
			snprintf(med, sizeof med, "     .");
		else
			snprintf(med, sizeof med, "%6.0f", c->median);
		if (isnan(c->median_lower))
			ci[0] = 0;
		else if (isnan(c->median_upper))
			snprintf(ci, sizeof ci, "(%.0f to .)", c->median_lower);
		else
			snprintf(ci, sizeof ci, "(%.0f to %.0f)", c->median_lower, c->median_upper);
		snprintf(t, sizeof t, "%d %-*.*s %5ld %7ld  %s  %s", g + 1, lw, lw, ks.res.label[g],
			 c->n, c->events, med, ci);
		ui_put(y++, 0, COLS, t);
	}
	if (ks.have && ks.res.have_lr)
	{
		char pv[32] = "< 0.001";
		if (!(ks.res.lr.p < 0.001))
			lbl_num(ks.res.lr.p, 2, pv + 2, sizeof pv - 2), memmove(pv, pv + 2, strlen(pv + 2) + 1);
		snprintf(t, sizeof t, "log-rank: chi-square %.2f, df %d, p %s%s   (g: grouping, b: bands and ticks)",
			 ks.res.lr.chisq, ks.res.lr.df, ks.res.lr.p < 0.001 ? "" : "= ", pv);
	}
	else
		snprintf(t, sizeof t, "(g: group by a group column, the treatment or risk tertile; b: "
			 "bands and ticks)");
	ui_put(y, 0, COLS, t);
}

static void k_group(ui_app *a) { a->km_group++; }
static void k_bands(ui_app *a) { a->km_bands = !a->km_bands; }

static const ui_key survival_keys[] = {
	{{'g'}, "g", "group by: nothing, each group and treatment column, risk tertile", k_group},
	{{'b'}, "b", "95% bands (dots) and censoring ticks (+) on or off", k_bands},
	{{0}, NULL, NULL, NULL},
};

const ui_screen ui_survival_screen = {"Survival", survival_draw, survival_keys, NULL};
