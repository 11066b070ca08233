/* ui_survival.c: the Survival screen: Kaplan-Meier curves of the file's time and event
 * columns, overall, by a group column, by the treatment or by tertile of the model's
 * predicted risk (g cycles), with the number at risk, medians and the log-rank test, all
 * from the km module. The event is the event column's highest value (status 2 = death in
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

static void survival_draw(ui_app *a)
{
	build(a);
	if (ks.err[0]) {
		ui_put(2, 2, COLS - 4, ks.err);
		return;
	}
	ui_put(1, 0, COLS, ks.title);
	int legend = ks.G + 3;
	int ph = LINES - 1 - 2 - legend - 1;
	if (ph < 4)
		ph = 4;
	int px = 6, pw = COLS - px - 2;
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
		      0, ks.tmax > 0 ? ks.tmax : 1, 0, 1);
	/* each curve's number at its end, so curves are told apart without colour */
	for (int g = 0; g < ks.G; g++) {
		if (ns[g] > 0) {
			double yl = ys[g][ns[g] - 1], xl = xs[g][ns[g] - 1];
			int cy = 2 + (int)((1 - yl) * (ph - 1) + 0.5);
			int cx = px + (int)(xl / (ks.tmax > 0 ? ks.tmax : 1) * (pw - 1) + 0.5);
			if (cx + 1 < COLS)
				mvaddch(cy, cx + 1, (chtype)('1' + g));
		}
		free(xs[g]);
		free(ys[g]);
	}
	char t[200];
	int y = 2 + ph;
	ui_put(y, px, 1, "0");
	/* the unit of time at the end of the axis */
	snprintf(t, sizeof t, "%.0f%s%s", ks.tmax, ks.unit[0] ? " " : "", ks.unit);
	ui_put(y++, px + pw - ui_text_width(t), ui_text_width(t), t);
	attron((attr_t)ui_attr_of(a, UI_A_HEADER));
	ui_fill(y, 0, COLS, ' ');
	double q[4] = {0, ks.tmax / 4, ks.tmax / 2, 3 * ks.tmax / 4};
	snprintf(t, sizeof t, "  curve                     n  events  median  at risk t=%.0f %.0f %.0f %.0f",
		 q[0], q[1], q[2], q[3]);
	ui_put(y++, 0, COLS, t);
	attroff((attr_t)ui_attr_of(a, UI_A_HEADER));
	for (int g = 0; g < ks.G && y < LINES - 2; g++) {
		const km_curve *c = &ks.res.curve[g];
		char med[32];
		if (isnan(c->median))
			snprintf(med, sizeof med, "     .");
		else
			snprintf(med, sizeof med, "%6.0f", c->median);
		snprintf(t, sizeof t, "%d %-22.22s %5ld %7ld  %s  %6ld %5ld %5ld %5ld", g + 1, ks.res.label[g],
			 c->n, c->events, med, km_at_risk(c, q[0]), km_at_risk(c, q[1]),
			 km_at_risk(c, q[2]), km_at_risk(c, q[3]));
		ui_put(y++, 0, COLS, t);
	}
	if (ks.have && ks.res.have_lr)
	{
		char pv[32] = "< 0.001";
		if (!(ks.res.lr.p < 0.001))
			lbl_num(ks.res.lr.p, 2, pv + 2, sizeof pv - 2), memmove(pv, pv + 2, strlen(pv + 2) + 1);
		snprintf(t, sizeof t, "log-rank: chi-square %.2f, df %d, p %s%s   (g: grouping)",
			 ks.res.lr.chisq, ks.res.lr.df, ks.res.lr.p < 0.001 ? "" : "= ", pv);
	}
	else
		snprintf(t, sizeof t, "(g: group by a group column, the treatment or risk tertile)");
	ui_put(y, 0, COLS, t);
}

static void k_group(ui_app *a) { a->km_group++; }

static const ui_key survival_keys[] = {
	{{'g'}, "g", "group by: nothing, each group and treatment column, risk tertile", k_group},
	{{0}, NULL, NULL, NULL},
};

const ui_screen ui_survival_screen = {"Survival", survival_draw, survival_keys, NULL};
